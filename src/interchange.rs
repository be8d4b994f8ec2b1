//! The formats security tooling ingests: SARIF 2.1.0 (code scanning dashboards, every SAST
//! aggregator), the AWS Security Finding Format (Security Hub, whose integrations open
//! Jira and ServiceNow tickets) and OCSF Detection Findings (Security Lake, SIEMs).

use checks::model::{partition_of, GLOBAL_REGION};
use checks::registry::Check;
use checks::{Finding, Severity};
use serde_json::{json, Value};

use crate::report::Report;

const INFORMATION_URI: &str = "https://github.com/awsaudit/awsaudit";

/// SARIF's `level` for a severity.
fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The `security-severity` score code scanning tools sort by (CVSS-like, 0-10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The first reference URL of a check's documentation.
fn help_uri(check: &Check) -> Option<String> {
    check
        .section("References")?
        .lines()
        .find_map(|l| l.trim().strip_prefix("- ").map(str::to_string))
}

/// The checks that ran, in report order, with their registry entries.
fn rules_run(report: &Report) -> Vec<&'static Check> {
    report
        .run
        .checks
        .iter()
        .filter_map(|code| checks::rules::find(code))
        .collect()
}

/// SARIF 2.1.0: one run; one rule per check that ran (its help is the check's
/// documentation); one result per finding, located by the resource ARN as a logical
/// location (cloud resources have no file), with the fingerprint as a partial fingerprint
/// so code scanning tracks it across runs. Coverage gaps become tool notifications.
pub fn sarif(report: &Report) -> String {
    let rules = rules_run(report);
    let rule_json: Vec<Value> = rules
        .iter()
        .map(|c| {
            let mut rule = json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": {"text": c.summary},
                "fullDescription": {"text": c.section("What it finds").unwrap_or_else(|| c.summary.to_string())},
                "help": {"text": c.documentation(), "markdown": c.documentation()},
                "defaultConfiguration": {"level": sarif_level(c.severity)},
                "properties": {
                    "security-severity": security_severity(c.severity),
                    "tags": ["security", "aws", c.code[..3].to_ascii_lowercase()],
                },
            });
            if let Some(uri) = help_uri(c) {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.check,
                "level": sarif_level(f.severity),
                "message": {"text": f.message},
                "locations": [{"logicalLocations": [{
                    "fullyQualifiedName": f.resource,
                    "kind": "resource",
                }]}],
                "partialFingerprints": {"awsaudit/v1": f.fingerprint},
                "properties": {
                    "severity": f.severity.as_str(),
                    "security-severity": security_severity(f.severity),
                    "account": f.account,
                    "region": f.region,
                    "remediation": f.remediation,
                    "evidence": f.evidence,
                },
            });
            if let Some(i) = rules.iter().position(|c| c.code == f.check) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(change) = f.change {
                result["baselineState"] = json!(match change {
                    checks::Change::New => "new",
                    checks::Change::Unchanged => "unchanged",
                });
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .coverage
        .gaps
        .iter()
        .map(|g| {
            json!({
                "level": "warning",
                "message": {"text": format!(
                    "{}:{} in {} {}{} could not be collected ({}): dependent checks report not evaluated",
                    g.service, g.operation, g.account, g.region,
                    g.scope.as_deref().map(|s| format!(" for {s}")).unwrap_or_default(),
                    g.error_code.as_deref().unwrap_or("failed"),
                )},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "awsaudit",
                "version": report.tool.version,
                "informationUri": INFORMATION_URI,
                "rules": rule_json,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "startTimeUtc": report.run.started_at,
                "endTimeUtc": report.run.finished_at,
                "toolExecutionNotifications": notifications,
            }],
            "automationDetails": {"id": format!("awsaudit/{}/", report.accounts.join("+"))},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
    s.push('\n');
    s
}

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
fn asff_resource_type(arn: &str) -> &'static str {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or("");
    let resource = parts.nth(2).unwrap_or("");
    match (service, resource.split('/').next().unwrap_or("")) {
        ("ecs", "service") => "AwsEcsService",
        ("ecs", "cluster") => "AwsEcsCluster",
        ("ecs", "task-definition") => "AwsEcsTaskDefinition",
        ("eks", "cluster") => "AwsEksCluster",
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

/// The region a finding is filed in. IAM is global, but Security Hub and OCSF consumers
/// file findings by region: the first audited one.
fn home_region<'r>(report: &'r Report, f: &'r Finding) -> &'r str {
    if f.region == GLOBAL_REGION {
        report.regions.first().map_or("us-east-1", String::as_str)
    } else {
        f.region.as_str()
    }
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
    finding
}

/// The findings as a JSON array of ASFF findings, ready for Security Hub's
/// `BatchImportFindings` (100 per call).
pub fn asff(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| asff_finding(report, f))
        .collect();
    let mut s = serde_json::to_string_pretty(&findings).expect("ASFF serialises");
    s.push('\n');
    s
}

/// Milliseconds since the epoch of an RFC 3339 UTC timestamp (`2026-11-22T06:35:46Z`).
fn epoch_ms(rfc3339: &str) -> Option<i64> {
    let date = checks::registry::parse_date(rfc3339)?;
    let clock = rfc3339.get(11..19)?;
    let mut hms = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    Some((checks::registry::days_from_civil(date) * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// OCSF's severity id and caption.
fn ocsf_severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// OCSF version the findings follow.
const OCSF_VERSION: &str = "1.1.0";
const DETECTION_FINDING: u32 = 2004;

/// One OCSF Detection Finding (class 2004, category Findings). The activity is `Create`,
/// or `Update` for a finding a `--baseline` already had; `finding_info.uid` is the
/// fingerprint, so a SIEM correlates runs.
fn ocsf_finding(report: &Report, f: &Finding) -> Value {
    let region = home_region(report, f);
    let (activity_id, activity) = match f.change {
        Some(checks::Change::Unchanged) => (2, "Update"),
        _ => (1, "Create"),
    };
    let (severity_id, severity) = ocsf_severity(f.severity);
    let time = epoch_ms(&report.run.finished_at).unwrap_or(0);
    let check = checks::rules::find(&f.check);
    let mut remediation = json!({"desc": f.remediation});
    if let Some(uri) = check.and_then(help_uri) {
        remediation["references"] = json!([uri]);
    }
    json!({
        "activity_id": activity_id,
        "activity_name": activity,
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "type_uid": DETECTION_FINDING * 100 + activity_id,
        "type_name": format!("Detection Finding: {activity}"),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "time": time,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "event_code": f.check,
            "product": {
                "name": "awsaudit",
                "vendor_name": "awsaudit",
                "version": report.tool.version,
                "url_string": INFORMATION_URI,
            },
        },
        "finding_info": {
            "uid": f.fingerprint,
            "title": format!("{} {}", f.check, f.name),
            "desc": check.map_or(f.name.as_str(), |c| c.summary),
            "types": [f.name],
            "created_time": time,
        },
        "cloud": {
            "provider": "AWS",
            "region": region,
            "account": {"uid": f.account, "name": f.account, "type_id": 10, "type": "AWS Account"},
        },
        "resources": [{
            "uid": f.resource,
            "type": asff_resource_type(&f.resource),
            "region": region,
            "cloud_partition": partition_of(region),
        }],
        "remediation": remediation,
        "unmapped": {"evidence": f.evidence, "account": f.account, "region": f.region},
    })
}

/// The findings as a JSON array of OCSF Detection Findings.
pub fn ocsf(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| ocsf_finding(report, f))
        .collect();
    let mut s = serde_json::to_string_pretty(&findings).expect("OCSF serialises");
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
        assert_eq!(epoch_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(epoch_ms("2026-11-22T06:35:46Z"), Some(1_795_329_346_000));
        assert_eq!(epoch_ms("garbage"), None);
    }
}
