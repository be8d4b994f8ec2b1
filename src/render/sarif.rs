//! SARIF 2.1.0, for code scanning dashboards and SAST aggregators.

use checks::registry::Check;
use checks::Severity;
use serde_json::{json, Value};

use super::{help_uri, INFORMATION_URI};
use crate::report::Report;

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

/// A rule's tags: what it is about, then each control it answers (`fsbp ECS.5`), so a
/// code-scanning dashboard filters by the catalog a team already reports against.
fn rule_tags(c: &Check) -> Vec<String> {
    let mut tags = vec![
        "security".to_string(),
        "aws".to_string(),
        c.code[..3].to_ascii_lowercase(),
    ];
    tags.extend(c.controls.iter().map(|k| k.label()));
    tags
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
                    "tags": rule_tags(c),
                },
            });
            if !c.controls.is_empty() {
                rule["properties"]["controls"] = json!(c.controls);
            }
            if let Some(uri) = help_uri(c) {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .all()
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
            if let Some(cost) = &f.cost {
                result["properties"]["cost"] = json!(cost);
            }
            if let Some(owner) = &f.owner {
                result["properties"]["owner"] = json!(owner);
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
