//! Scale: synthetic recordings from tests/synth.py, and AWS's rate limits simulated.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{replay_report, root, sim_file};

/// A synthetic recording from tests/synth.py.
fn synthetic(dir: &Path, scale: u32) -> PathBuf {
    let out = dir.join(format!("scale-{scale}"));
    let status = Command::new("python3")
        .arg(root().join("tests/synth.py"))
        .args([
            "--out",
            out.to_str().unwrap(),
            "--scale",
            &scale.to_string(),
            "--audit",
            env!("CARGO_BIN_EXE_audit"),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs tests/synth.py");
    assert!(status.success());
    out
}

#[test]
fn synthetic_recordings_match_what_the_collector_asks() {
    // The generator writes the requests the collector makes, page by page and batch by
    // batch; a request it does not hold would be a NotInRecording gap.
    let dir = tempfile::tempdir().unwrap();
    let rec = synthetic(dir.path(), 3);
    let (report, _) = replay_report(&rec, &[], 0);
    assert_eq!(report["coverage"]["gaps"], serde_json::json!([]));
    assert_eq!(report["unknowns"], serde_json::json!([]));
    let checks: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(checks.len() >= 30, "only {checks:?} fire");
}

#[test]
fn when_aws_allows_less_than_published_the_pace_adapts_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let rec = synthetic(dir.path(), 2);
    let clean = replay_report(&rec, &[], 0).0;
    // Another tool in the account spends most of the buckets: AWS lets through a burst of
    // 4 and 100/s where the published figures promise far more.
    let sim = sim_file(
        dir.path(),
        r#"
latency_ms = 1
[[bucket]]
service = "elbv2"
name = "account"
operations = ["*"]
shared = true
burst = 4
per_second = 100
[[bucket]]
service = "ecs"
name = "service read"
operations = ["ListServices", "DescribeServices"]
shared = true
burst = 2
per_second = 100
"#,
    );
    let (paced, err) = replay_report(&rec, &["--simulate", &sim], 0);
    assert!(err.trim().is_empty(), "{err}");
    assert!(
        paced["stats"]["throttles"].as_u64().unwrap() > 0,
        "AWS did throttle"
    );
    assert_eq!(paced["coverage"]["gaps"], serde_json::json!([]));
    for key in ["findings", "unknowns", "summary"] {
        assert_eq!(clean[key], paced[key], "{key} differ");
    }
}
