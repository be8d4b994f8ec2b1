//! Run to run: `--baseline` marks findings new, unchanged, resolved or unverified, and a
//! finding's fingerprint outlives its wording.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    assert_config_error, audit, replay_json, replay_report, root, scenario_copy, stderr, walk,
};

/// The demo's JSON report, edited by `edit`, written to a file in `dir`.
fn baseline_file(dir: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let mut report = replay_json("demo");
    edit(&mut report);
    let path = dir.join("baseline.json");
    std::fs::write(&path, serde_json::to_vec(&report).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn baseline_marks_new_unchanged_resolved_and_never_closes_what_it_could_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("mocks/demo");
    // Same recording as the baseline: everything unchanged, nothing resolved.
    let base = baseline_file(dir.path(), |_| {});
    let (r, _) = replay_report(&demo, &["--baseline", &base], 0);
    let n = r["findings"].as_array().unwrap().len();
    assert_eq!(r["baseline"]["unchanged"], n);
    assert_eq!(r["baseline"]["new"], 0);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["change"] == "unchanged"));
    assert_eq!(r["baseline"]["resolved"], serde_json::json!([]));

    // The baseline lacks one finding (new now) and has one this run does not (fixed), and
    // one of a check this run skips (not re-checked, so its ticket stays open).
    let mut dropped = String::new();
    let base = baseline_file(dir.path(), |b| {
        let findings = b["findings"].as_array_mut().unwrap();
        let gone = findings.remove(0);
        dropped = gone["fingerprint"].as_str().unwrap().to_string();
        let mut fixed = findings[0].clone();
        fixed["fingerprint"] = "00000000000000000000000000000001".into();
        fixed["resource"] = "arn:aws:ecs:us-east-1:123456789012:service/shop/retired".into();
        findings.push(fixed);
    });
    let (r, _) = replay_report(
        &demo,
        &["--baseline", &base, "--only-new", "--fail-on", "low"],
        1,
    );
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "--only-new keeps the one new finding");
    assert_eq!(findings[0]["fingerprint"], dropped.as_str());
    assert_eq!(findings[0]["change"], "new");
    assert_eq!(r["summary"]["findings"], 1);
    let resolved = r["baseline"]["resolved"].as_array().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        resolved[0]["resource"],
        "arn:aws:ecs:us-east-1:123456789012:service/shop/retired"
    );

    let (r, _) = replay_report(&demo, &["--baseline", &base, "--checks", "ELB001"], 0);
    let unverified = r["baseline"]["unverified"].as_array().unwrap();
    assert!(unverified
        .iter()
        .any(|f| f["resource"] == "arn:aws:ecs:us-east-1:123456789012:service/shop/retired"));
    assert!(unverified.iter().all(|f| f["check"] != "ELB001"));
    assert!(r["baseline"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["check"] == "ELB001"));
}

#[test]
fn bad_baselines_are_named_and_stop_the_run() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let not_json = write("notes.txt", "findings: none");
    let other = write("other.json", r#"{"findings": []}"#);
    let v2 = write("v2.json", r#"{"schema_version": 2, "findings": []}"#);
    let broken = write("broken.json", r#"{"schema_version": 1, "findings": 3}"#);
    let out = dir.path().join("report.json");
    let out = out.to_str().unwrap();
    for (file, needle) in [
        (
            "/nonexistent/base.json".to_string(),
            "--baseline /nonexistent/base.json: ",
        ),
        (not_json.clone(), "not JSON"),
        (other, "not an awsaudit JSON report (no schema_version)"),
        (v2, "report schema version 2; this build reads version 1"),
        (broken, "malformed report"),
    ] {
        let o = audit(
            &[
                "--replay",
                "mocks/demo",
                "--baseline",
                &file,
                "--format",
                "json",
                "-o",
                out,
            ],
            home.path(),
        );
        assert_config_error(&o, needle);
        assert!(
            stderr(&o).contains(&format!("--baseline {file}")),
            "{}",
            stderr(&o)
        );
        assert!(!Path::new(out).exists(), "no report on a bad baseline");
    }
}

#[test]
fn a_finding_keeps_its_fingerprint_when_its_wording_changes() {
    // web-tg's deregistration delay goes from the 300 s default to 900 s: ELB002's message
    // changes (the number, "the default" gone); the misconfiguration, and its ticket, stay.
    let (before, _) = replay_report(
        &root().join("mocks/elb-catalog"),
        &["--checks", "ELB002"],
        0,
    );
    let copy = scenario_copy("elb-catalog");
    let mut edited = 0;
    let mut files = Vec::new();
    walk(&copy.path().join("exchanges/elbv2"), &mut files);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("DescribeTargetGroupAttributes-")
            && text.contains("targetgroup/web-tg/")
        {
            let changed = text.replace(
                "<Key>deregistration_delay.timeout_seconds</Key><Value>300</Value>",
                "<Key>deregistration_delay.timeout_seconds</Key><Value>900</Value>",
            );
            assert_ne!(changed, text);
            std::fs::write(&path, changed).unwrap();
            edited += 1;
        }
    }
    assert_eq!(edited, 1);
    let (after, _) = replay_report(copy.path(), &["--checks", "ELB002"], 0);
    let (b, a) = (&before["findings"][0], &after["findings"][0]);
    assert_ne!(b["message"], a["message"], "the wording changed");
    assert!(a["message"].as_str().unwrap().contains("900 s"));
    assert_eq!(b["fingerprint"], a["fingerprint"], "the ticket did not");
}
