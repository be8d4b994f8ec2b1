//! Recordings: what they never hold, how a replay finds and bounds what it reads, and how
//! `--record` never leaves a half-written one in place of a complete one.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    assert_config_error, audit, audit_at_endpoint, copy_dir, recorded, replay_json, replay_report,
    root, scenario_copy, silent_endpoint, stderr, walk,
};

#[test]
fn the_recorded_mocks_hold_no_credentials_or_request_ids() {
    let mut files = Vec::new();
    walk(&root().join("mocks"), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [
            "\"authorization\"",
            "X-Amz-Credential",
            "X-Amz-Signature",
            "x-amz-security-token",
            "AWS4-HMAC-SHA256",
            "<RequestId>",
            "x-amzn-requestid",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(
                !text
                    .to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase()),
                "{} contains {needle}",
                f.display()
            );
        }
    }
}

#[test]
fn a_missing_exchange_is_a_named_coverage_gap_not_an_empty_result() {
    let copy = scenario_copy("ecs001");
    std::fs::remove_file(recorded(copy.path(), "ecs", "DescribeServices")).unwrap();
    let (report, err) = replay_report(copy.path(), &[], 3);
    assert_eq!(report["run"]["complete"], false);
    let gaps = report["coverage"]["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    let gap = &gaps[0];
    assert_eq!(gap["operation"], "DescribeServices");
    assert_eq!(gap["status"], "failed");
    assert_eq!(gap["error_code"], "NotInRecording");
    assert!(
        gap["message"]
            .as_str()
            .unwrap()
            .contains("no recorded response for ecs us-east-1 DescribeServices"),
        "{gap}"
    );
    // ECS001 needs that data: it reports unknown for the cluster, never a silent pass.
    let unknowns = report["unknowns"].as_array().unwrap();
    assert!(
        unknowns.iter().any(|u| u["check"] == "ECS001"),
        "ECS001 must be not-evaluated: {unknowns:?}"
    );
    assert!(err.contains("collection incomplete"), "{err}");
}

#[test]
fn every_page_of_a_listing_is_followed() {
    // Split the recorded ListServices answer into two pages: the second is only reached by
    // following nextToken, and the services on it must still be described and checked.
    let copy = scenario_copy("ecs001");
    let page1_path = recorded(copy.path(), "ecs", "ListServices");
    let mut page1: Value =
        serde_json::from_str(&std::fs::read_to_string(&page1_path).unwrap()).unwrap();
    let arns = page1["body"]["serviceArns"].as_array().unwrap().clone();
    assert!(arns.len() >= 2);
    let (first, rest) = arns.split_at(arns.len() / 2);
    let mut page2 = page1.clone();
    page1["body"] = serde_json::json!({"serviceArns": first, "nextToken": "page-2"});
    page2["key"]["params"]["body"]["nextToken"] = "page-2".into();
    page2["body"] = serde_json::json!({"serviceArns": rest});
    std::fs::write(&page1_path, page1.to_string()).unwrap();
    // The file name is for people; the replayer finds the exchange by the key inside.
    std::fs::write(
        page1_path.with_file_name("ListServices-page2.json"),
        page2.to_string(),
    )
    .unwrap();

    let (paged, _) = replay_report(copy.path(), &[], 0);
    let whole = replay_json("ecs001");
    assert_eq!(
        paged["findings"], whole["findings"],
        "the same services were checked"
    );
    let list_calls = paged["stats"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["operation"] == "ListServices")
        .unwrap()["calls"]
        .clone();
    assert_eq!(list_calls, 2, "two pages, two calls");
}

#[test]
fn a_recorded_header_no_http_message_can_carry_is_named_when_loading() {
    let copy = scenario_copy("demo");
    let file = recorded(copy.path(), "ecs", "ListClusters");
    let mut ex: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for (name, value) in [("x-amzn-requestid", "a\nb"), ("bad header", "v")] {
        ex["headers"] = serde_json::json!([[name, value]]);
        std::fs::write(&file, serde_json::to_string(&ex).unwrap()).unwrap();
        let home = tempfile::tempdir().unwrap();
        let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
        assert_config_error(&o, &format!("{}: header", file.display()));
    }
    ex["headers"] = serde_json::json!([]);
    ex["status"] = serde_json::json!(42);
    std::fs::write(&file, serde_json::to_string(&ex).unwrap()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
    assert_config_error(&o, "status 42 is not an HTTP status code");
}

#[test]
fn a_stopped_recording_never_replaces_a_complete_one() {
    let (_listener, url) = silent_endpoint();
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("rec");
    copy_dir(&root().join("mocks/demo"), &target);
    let manifest = std::fs::read(target.join("manifest.json")).unwrap();
    let run = |target: &Path| {
        let record = ["--timeout", "1s", "--record", target.to_str().unwrap()];
        audit_at_endpoint(&url, false, &record, home.path())
    };
    let o = run(&target);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("is kept"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(target.join("manifest.json")).unwrap(),
        manifest,
        "the complete recording is untouched"
    );
    let partial = home.path().join("rec.incomplete");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(partial.join("manifest.json")).unwrap())
            .unwrap();
    assert!(m["incomplete"].as_str().unwrap().contains("stopped"), "{m}");
    // No staging directory is left beside them.
    let left: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Replaying the partial one says so.
    let o = audit(&["--replay", partial.to_str().unwrap()], home.path());
    assert!(
        stderr(&o).contains("replaying an incomplete recording"),
        "{}",
        stderr(&o)
    );
    // A partial recording where there was none is kept, marked, at the target.
    let fresh = home.path().join("fresh");
    let o = run(&fresh);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(fresh.join("manifest.json")).unwrap())
            .unwrap();
    assert!(m["incomplete"].is_string(), "{m}");
}

#[test]
fn record_refuses_the_working_directory_and_clears_what_killed_runs_left() {
    let home = tempfile::tempdir().unwrap();
    let rec = home.path().join("rec");
    copy_dir(&root().join("mocks/demo"), &rec);
    for (cwd, target) in [(&rec, "."), (&rec.join("exchanges"), "../")] {
        let o = Command::new(env!("CARGO_BIN_EXE_audit"))
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(cwd)
            .args(["--record", target, "--region", "us-east-1"])
            .output()
            .unwrap();
        assert_config_error(&o, "is the current directory or holds it");
        assert!(
            rec.join("manifest.json").is_file(),
            "the recording is intact"
        );
    }
    // A staging directory of a run killed long ago is removed, and said so; one of a run
    // still recording (its lock held) would be left alone.
    let stale = home.path().join(".rec.recording-killed");
    std::fs::create_dir_all(stale.join("exchanges")).unwrap();
    std::fs::File::open(&stale)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    let (_listener, url) = silent_endpoint();
    let record = ["--timeout", "1s", "--record", rec.to_str().unwrap()];
    let o = audit_at_endpoint(&url, false, &record, home.path());
    assert!(!stale.exists(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("left by an interrupted recording"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_recording_is_untrusted_input_read_only_within_bounds() {
    let home = tempfile::tempdir().unwrap();
    let replay = |dir: &Path| audit(&["--replay", dir.to_str().unwrap()], home.path());
    // A link out of the recording is refused by name, and what it points at is never shown.
    let outside = home.path().join("outside.json");
    std::fs::write(&outside, "{\"SECRET-OUTSIDE\": 1}").unwrap();
    let copy = scenario_copy("demo");
    let victim = recorded(copy.path(), "ecs", "ListClusters");
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink(&outside, &victim).unwrap();
    let o = replay(copy.path());
    assert_config_error(&o, &format!("{}: is a symbolic link", victim.display()));
    assert!(!stderr(&o).contains("SECRET-OUTSIDE"));
    // A FIFO would block the replay forever.
    std::fs::remove_file(&victim).unwrap();
    let made = Command::new("mkfifo").arg(&victim).status().unwrap();
    assert!(made.success());
    assert_config_error(&replay(copy.path()), "is a FIFO");
    // A link to a directory is not descended into (it could loop, or lead outside).
    std::fs::remove_file(&victim).unwrap();
    let copy = scenario_copy("demo");
    let ecs = recorded(copy.path(), "ecs", "ListClusters");
    std::os::unix::fs::symlink("..", ecs.parent().unwrap().join("loop")).unwrap();
    let o = replay(copy.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A duplicate of a recorded request names both files.
    let twin = ecs.with_file_name("ListClusters-twin.json");
    std::fs::copy(&ecs, &twin).unwrap();
    let o = replay(copy.path());
    assert_config_error(&o, "records the same request as");
    assert!(
        stderr(&o).contains("ListClusters-twin.json")
            && stderr(&o).contains(&ecs.display().to_string()),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(&twin).unwrap();
    // An exchange above the cap is refused before it is read.
    let big = std::fs::File::options().append(true).open(&ecs).unwrap();
    big.set_len(33 << 20).unwrap();
    assert_config_error(&replay(copy.path()), "above the 32 MiB");
}
