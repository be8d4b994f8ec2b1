//! OCSF Detection Findings, for Security Lake and SIEMs.

use checks::model::partition_of;
use checks::registry::Check;
use checks::{Finding, Severity};
use serde_json::{json, Value};

use super::asff::asff_resource_type;
use super::{help_uri, home_region, INFORMATION_URI};
use crate::report::Report;

/// Milliseconds since the epoch of an RFC 3339 UTC timestamp (`2026-11-22T06:35:46Z`).
fn epoch_ms(rfc3339: &str) -> Option<i64> {
    let date = checks::date::parse_date(rfc3339)?;
    let clock = rfc3339.get(11..19)?;
    let mut hms = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    Some((checks::date::days_from_civil(date) * 86_400 + h * 3600 + m * 60 + s) * 1000)
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
    let mut unmapped = json!({"evidence": f.evidence, "account": f.account, "region": f.region});
    let time = epoch_ms(&report.run.finished_at).unwrap_or(0);
    let check = checks::rules::find(&f.check);
    let mut remediation = json!({"desc": f.remediation});
    if let Some(uri) = check.and_then(help_uri) {
        remediation["references"] = json!([uri]);
    }
    if let Some(controls) = check.map(compliance).filter(|c| !c.is_empty()) {
        unmapped["compliance"] = json!(controls);
    }
    if let Some(cost) = &f.cost {
        unmapped["cost"] = json!(cost);
    }
    if let Some(owner) = &f.owner {
        unmapped["owner"] = json!(owner);
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
        "unmapped": unmapped,
    })
}

/// The controls a check answers, one OCSF compliance object per control. Detection Finding
/// (class 2004) has no `compliance` attribute (Compliance Finding, 2003, does, but reports a
/// control's pass/fail, not a detection), so they go under `unmapped.compliance`, shaped as
/// OCSF's compliance object for a consumer that maps them.
fn compliance(check: &Check) -> Vec<Value> {
    check
        .controls
        .iter()
        .map(|c| {
            let mut o = json!({"standards": [c.catalog.title()], "control": c.id});
            if let Some(why) = c.partial {
                o["desc"] = json!(format!("partial match: {why}"));
            }
            o
        })
        .collect()
}

/// The findings as a JSON array of OCSF Detection Findings.
pub fn ocsf(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .all()
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
    fn event_times_are_epoch_milliseconds() {
        assert_eq!(epoch_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(epoch_ms("2026-11-22T06:35:46Z"), Some(1_795_329_346_000));
        assert_eq!(epoch_ms("garbage"), None);
    }
}
