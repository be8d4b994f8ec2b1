//! The AWS Security Finding Format, for Security Hub (whose integrations open Jira and
//! ServiceNow tickets).

use checks::model::partition_of;
use checks::registry::Check;
use checks::{Finding, Severity};
use serde_json::{json, Value};

use super::{help_uri, home_region};
use crate::report::Report;

/// ASFF's severity label.
fn asff_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFORMATIONAL",
    }
}

/// The Security Hub resource type of an ARN (`Other` where ASFF has none).
pub(super) fn asff_resource_type(arn: &str) -> &'static str {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or("");
    let resource = parts.nth(2).unwrap_or("");
    match (service, resource.split('/').next().unwrap_or("")) {
        ("ecs", "service") => "AwsEcsService",
        ("ecs", "cluster") => "AwsEcsCluster",
        ("ecs", "task-definition") => "AwsEcsTaskDefinition",
        ("eks", "cluster") => "AwsEksCluster",
        ("ecr", "repository") => "AwsEcrRepository",
        ("iam", "role") => "AwsIamRole",
        ("ec2", "subnet") => "AwsEc2Subnet",
        ("ec2", "vpc") => "AwsEc2Vpc",
        ("ec2", "route-table") => "AwsEc2RouteTable",
        ("elasticloadbalancing", "loadbalancer") => "AwsElbv2LoadBalancer",
        _ => "Other",
    }
}

/// At most `max` characters (ASFF limits titles to 256 and descriptions to 1024).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// The controls a check answers, as ASFF's `Compliance.RelatedRequirements` (at most 32
/// entries): `AWS Foundational Security Best Practices v1.0.0 ECS.5`. A partial match is
/// said so, since a team deduplicating on it must know the two differ.
fn related_requirements(check: &Check) -> Vec<String> {
    check
        .controls
        .iter()
        .take(32)
        .map(|c| match c.partial {
            Some(_) => format!("{} (partial)", c.requirement()),
            None => c.requirement(),
        })
        .collect()
}

/// One ASFF finding. `Id` is derived from the fingerprint, so re-importing a later run
/// updates the same Security Hub finding instead of opening another.
fn asff_finding(report: &Report, f: &Finding) -> Value {
    let region = home_region(report, f);
    let partition = partition_of(region);
    let check = checks::rules::find(&f.check);
    let now = &report.run.finished_at;
    let mut finding = json!({
        "SchemaVersion": "2018-10-08",
        "Id": format!("awsaudit/{}/{}/{}", f.account, f.region, f.fingerprint),
        "ProductArn": format!("arn:{partition}:securityhub:{region}:{}:product/{}/default", f.account, f.account),
        "GeneratorId": format!("awsaudit/{}", f.check),
        "AwsAccountId": f.account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": asff_label(f.severity)},
        "Title": clip(&format!("{} {}: {}", f.check, f.name, check.map_or("", |c| c.summary)), 256),
        "Description": clip(&f.message, 1024),
        "Remediation": {"Recommendation": {"Text": clip(&f.remediation, 512)}},
        "ProductFields": {
            "awsaudit/Check": f.check,
            "awsaudit/Name": f.name,
            "awsaudit/Fingerprint": f.fingerprint,
        },
        "Resources": [{
            "Type": asff_resource_type(&f.resource),
            "Id": f.resource,
            "Partition": partition,
            "Region": region,
        }],
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
        "ProductName": "awsaudit",
        "CompanyName": "awsaudit",
    });
    if let Some(uri) = check.and_then(help_uri) {
        finding["Remediation"]["Recommendation"]["Url"] = json!(uri);
    }
    // ProductFields values are strings of at most 2048 characters.
    if let Some(c) = &f.cost {
        let fields = &mut finding["ProductFields"];
        fields["awsaudit/CostMonthlyUsd"] = json!(format!("{:.2}", c.monthly_usd));
        fields["awsaudit/CostKind"] = json!(c.kind.as_str());
        fields["awsaudit/CostBasis"] = json!(clip(&c.basis, 2048));
    }
    if let Some(owner) = &f.owner {
        finding["ProductFields"]["awsaudit/Owner"] = json!(clip(owner, 2048));
    }
    if let Some(requirements) = check.map(related_requirements).filter(|r| !r.is_empty()) {
        finding["Compliance"] = json!({"Status": "FAILED", "RelatedRequirements": requirements});
    }
    finding
}

/// The findings as a JSON array of ASFF findings, ready for Security Hub's
/// `BatchImportFindings` (100 per call).
pub fn asff(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .all()
        .iter()
        .map(|f| asff_finding(report, f))
        .collect();
    let mut s = serde_json::to_string_pretty(&findings).expect("ASFF serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_follow_the_arn() {
        for (arn, want) in [
            ("arn:aws:ecs:us-east-1:1:service/shop/web", "AwsEcsService"),
            ("arn:aws:ecs:us-east-1:1:cluster/shop", "AwsEcsCluster"),
            ("arn:aws:eks:us-east-1:1:cluster/prod", "AwsEksCluster"),
            ("arn:aws:iam::1:role/x", "AwsIamRole"),
            ("arn:aws:ec2:us-east-1:1:subnet/subnet-1", "AwsEc2Subnet"),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1",
                "Other",
            ),
        ] {
            assert_eq!(asff_resource_type(arn), want, "{arn}");
        }
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
