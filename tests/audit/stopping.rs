//! A run that is stopped (`--timeout`, Ctrl-C, SIGTERM) reports what it collected, marked
//! incomplete.

use std::process::Command;

use serde_json::Value;

use crate::support::{
    assert_nothing_silently_dropped, audit, audit_at_endpoint, replay_json, replay_report, root,
    silent_endpoint, sim_file, stderr,
};

/// Faults that hold every ECS service description and EKS nodegroup listing for a minute.
const STALL: &str = r#"
latency_ms = 5
[[fault]]
service = "ecs"
operation = "DescribeServices"
kind = "slow"
delay_ms = 60000
[[fault]]
service = "eks"
operation = "ListNodegroups"
kind = "slow"
delay_ms = 60000
"#;

#[test]
fn run_timeout_reports_what_was_collected_and_marks_it_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_file(dir.path(), STALL);
    let clean = replay_json("demo");
    let table = dir.path().join("report.txt");
    let (faulted, err) = replay_report(
        &root().join("mocks/demo"),
        &[
            "--simulate",
            &sim,
            "--timeout",
            "2s",
            "--format",
            "table",
            "--output",
            "-",
            "--output",
            table.to_str().unwrap(),
        ],
        3,
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("--timeout 2s reached"), "{err}");
    assert_eq!(faulted["run"]["stopped"], "--timeout 2s reached");
    assert_eq!(faulted["run"]["complete"], false);
    let gaps = faulted["coverage"]["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    for g in gaps {
        assert_eq!(g["error_code"], "RunTimeout", "{g}");
        assert!(
            g["operation"] == "DescribeServices" || g["operation"] == "ListNodegroups",
            "{g}"
        );
    }
    // The complete part is reported: every finding of a check that needs none of the
    // stalled data (nor what is only reached through it) is there.
    let home = tempfile::tempdir().unwrap();
    let listed: Value =
        serde_json::from_slice(&audit(&["checks", "--format", "json"], home.path()).stdout)
            .unwrap();
    let stalled = [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "ec2:DescribeInstanceTypes",
    ];
    let unaffected: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["needs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| !stalled.contains(&n.as_str().unwrap()))
        })
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    let got = faulted["findings"].as_array().unwrap();
    let mut kept = 0;
    for f in clean["findings"].as_array().unwrap() {
        let check = f["check"].as_str().unwrap();
        if unaffected.contains(&check) {
            // The same finding; its evidence may say less (ELB004 names the service that
            // should register targets only when services were described).
            assert!(
                got.iter().any(|g| g["fingerprint"] == f["fingerprint"]
                    && g["severity"] == f["severity"]
                    && g["message"] == f["message"]),
                "{check} on {} lost",
                f["resource"]
            );
            kept += 1;
        }
    }
    assert!(kept >= 5, "only {kept} findings outside the stalled calls");
    assert_nothing_silently_dropped(&clean, &faulted);
    let text = std::fs::read_to_string(&table).unwrap();
    assert!(
        text.contains("STOPPED EARLY (--timeout 2s reached)"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_and_sigterm_end_the_run_with_a_partial_report() {
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let sim = sim_file(dir.path(), STALL);
        let out = dir.path().join("report.json");
        let child = Command::new(env!("CARGO_BIN_EXE_audit"))
            .env("HOME", dir.path())
            .env_remove("RUST_LOG")
            .current_dir(root())
            .args([
                "--replay",
                "mocks/demo",
                "--simulate",
                &sim,
                "--format",
                "json",
                "--output",
                out.to_str().unwrap(),
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The stalled calls are in flight well within this.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "SIG{signal}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(
            report["run"]["stopped"],
            format!("interrupted by SIG{signal}")
        );
        assert_eq!(report["run"]["complete"], false);
        let gaps = report["coverage"]["gaps"].as_array().unwrap();
        assert!(!gaps.is_empty());
        assert!(
            gaps.iter().all(|g| g["error_code"] == "Interrupted"),
            "{gaps:?}"
        );
        assert!(!report["findings"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_time_limit_bounds_the_session_set_up_and_the_stop_is_reported() {
    let (_listener, url) = silent_endpoint();
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("r.json");
    let started = std::time::Instant::now();
    let o = audit_at_endpoint(
        &url,
        false,
        &[
            "--timeout",
            "2s",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // Not a wall-clock assertion on speed: the run must not outlive its limit by the SDK's
    // own connect and read timeouts and retries (152 s before).
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["run"]["complete"], false);
    assert!(report["run"]["stopped"]
        .as_str()
        .unwrap()
        .contains("--timeout 2s"));
    let gap = &report["coverage"]["gaps"][0];
    assert_eq!(gap["operation"], "GetCallerIdentity", "{gap}");
    assert_eq!(gap["error_code"], "RunTimeout", "{gap}");
    assert!(gap["message"]
        .as_str()
        .unwrap()
        .contains("nothing was audited"));
}
