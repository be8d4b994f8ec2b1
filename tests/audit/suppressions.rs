//! `--suppressions`: accepted risks move aside with their reason; stale entries are reported
//! and an entry that would hide everything is refused.

use serde_json::Value;

use crate::support::{assert_config_error, audit, replay_report, root, stderr};

#[test]
fn suppressions_move_findings_aside_with_their_reason_and_report_stale_entries() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accepted.toml");
    std::fs::write(
        &file,
        r#"
# Platform team: clusters keep the AWS-owned key until the KMS rollout (SEC-42).
[[suppress]]
check = "secrets-without-customer-kms-key"
tags = { team = "platform" }
reason = "KMS rollout SEC-42"

[[suppress]]
check = "IAM001"
reason = "vendor role, expired exception"
expires = 2026-01-31

[[suppress]]
check = "ELB*"
region = "ap-*"
reason = "no load balancers there yet"
"#,
    )
    .unwrap();
    let demo = root().join("mocks/demo");
    let (plain, _) = replay_report(&demo, &[], 0);
    let (r, _) = replay_report(
        &demo,
        &[
            "--suppressions",
            file.to_str().unwrap(),
            "--fail-on",
            "critical",
        ],
        1,
    );
    let count = |r: &Value, check: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == check)
            .count()
    };
    assert!(count(&plain, "EKS003") > 0);
    assert_eq!(count(&r, "EKS003"), 0, "tagged clusters suppressed");
    let s = &r["suppressions"];
    let suppressed = s["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), count(&plain, "EKS003"));
    assert!(suppressed
        .iter()
        .all(|x| x["line"] == 3 && x["reason"] == "KMS rollout SEC-42"));
    assert_eq!(r["summary"]["suppressed"], suppressed.len());
    // The expired exception suppresses nothing: IAM001 still fails the run (exit 1 above).
    assert_eq!(count(&r, "IAM001"), count(&plain, "IAM001"));
    assert_eq!(s["expired"][0]["line"], 8);
    assert_eq!(s["unmatched"][0]["line"], 13);
    assert_eq!(
        r["findings"].as_array().unwrap().len() + suppressed.len(),
        plain["findings"].as_array().unwrap().len(),
        "nothing is silently dropped"
    );

    // Malformed files: the line and column, exit 2, before any work.
    let home = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "[[suppress]]\ncheck = \"ECS004\"\nexpires = 2025-01-01\n",
            ":1:1: every suppression needs a `reason`",
        ),
        (
            "[[suppress]]\ncheck = \"ECS004\"\nreason = \"x\"\nowner = \"me\"\n",
            ":4:1: unknown field `owner`",
        ),
        ("[[suppress]\n", ":1:"),
    ] {
        std::fs::write(&file, text).unwrap();
        let o = audit(
            &[
                "--replay",
                "mocks/demo",
                "--suppressions",
                file.to_str().unwrap(),
            ],
            home.path(),
        );
        assert_config_error(&o, needle);
    }
}

#[test]
fn a_suppression_of_every_finding_is_an_error_not_an_all_clear() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accepted.toml");
    let suppressed_by = |text: &str| {
        std::fs::write(&file, text).unwrap();
        audit(
            &[
                "--replay",
                "mocks/demo",
                "--format",
                "json",
                "--suppressions",
                file.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    // Alone, `check = "*"` would empty the report and exit 0.
    let o = suppressed_by("# accepted\n\n[[suppress]]\ncheck = \"*\"\nreason = \"noise\"\n");
    assert_config_error(
        &o,
        &format!(
            "--suppressions {}:3:1: this entry would suppress every finding (check = \"*\" matches them all)",
            file.display()
        ),
    );
    // Narrowed by region, every check there is a legitimate acceptance.
    let o = suppressed_by(
        "[[suppress]]\ncheck = \"*\"\nregion = \"eu-west-1\"\nreason = \"sandbox region\"\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = r["findings"].as_array().unwrap();
    let suppressed = r["suppressions"]["suppressed"].as_array().unwrap();
    assert!(!findings.is_empty() && !suppressed.is_empty());
    assert!(findings.iter().all(|f| f["region"] != "eu-west-1"));
    assert!(suppressed
        .iter()
        .all(|s| s["finding"]["region"] == "eu-west-1"));
}
