//! Integration tests of the real `audit` binary, offline: every recorded scenario in mocks/
//! replayed and snapshotted, and every kind of bad input. One test binary (as ripgrep does)
//! so the SDK-heavy crate links once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The scenarios in mocks/. A scenario directory not listed here fails `every_mock_is_tested`.
const SCENARIOS: [&str; 19] = [
    "demo",
    "ecs-catalog",
    "ecs-scheduled",
    "ecs-standalone",
    "ecs-task-sets",
    "ecs-tasks",
    "ecs001",
    "eks-catalog",
    "eks001",
    "eks002",
    "eks003",
    "eks004",
    "eks008",
    "elb-catalog",
    "elb001",
    "iam001",
    "vpc-paths",
    "vpc001",
    "vpc002",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in a sealed environment: no AWS settings or credentials from the developer's
/// machine, no instance metadata lookups, an empty HOME.
fn audit(args: &[&str], home: &Path) -> Output {
    audit_env(args, home, &[])
}

/// [`audit`] with extra environment variables.
fn audit_env(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_audit"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .current_dir(root())
        .args(args)
        .output()
        .expect("the audit binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean one-line error with exit code 2 and nothing on stdout.
fn assert_config_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout must stay empty on error");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn replay_json(scenario: &str) -> Value {
    replay_report(&root().join("mocks").join(scenario), &[], 0).0
}

/// Replays the recording in `dir` (with `extra` flags) as JSON, asserts the exit code, and
/// returns the report and stderr.
fn replay_report(dir: &Path, extra: &[&str], exit: i32) -> (Value, String) {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["--replay", dir.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = audit(&args, home.path());
    assert_eq!(
        o.status.code(),
        Some(exit),
        "replay of {} exited {:?}: {}",
        dir.display(),
        o.status.code(),
        stderr(&o)
    );
    let report = serde_json::from_slice(&o.stdout).expect("the JSON report parses");
    (report, stderr(&o))
}

/// A scratch copy of a recorded scenario, to edit.
fn scenario_copy(scenario: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks").join(scenario), copy.path());
    copy
}

/// The first recorded exchange file of `service:operation` in a recording.
fn recorded(dir: &Path, service: &str, operation: &str) -> PathBuf {
    let mut files = Vec::new();
    walk(&dir.join("exchanges").join(service), &mut files);
    files.sort();
    files
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{operation}-"))
        })
        .unwrap_or_else(|| panic!("{} has no recorded {service}:{operation}", dir.display()))
}

/// The parts of a report that must not change unless behaviour does: findings, unknowns,
/// coverage, and how many calls each operation took (a regression there means something is
/// described twice). Times are left out.
fn stable_view(report: &Value) -> Value {
    let ops: Vec<Value> = report["stats"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            serde_json::json!(format!(
                "{}:{} calls={} retries={}",
                o["service"].as_str().unwrap(),
                o["operation"].as_str().unwrap(),
                o["calls"],
                o["retries"]
            ))
        })
        .collect();
    serde_json::json!({
        "accounts": report["accounts"],
        "regions": report["regions"],
        "summary": report["summary"],
        "findings": report["findings"],
        "unknowns": report["unknowns"],
        "coverage_gaps": report["coverage"]["gaps"],
        "calls": ops,
    })
}

#[test]
fn every_mock_is_tested() {
    let mut dirs: Vec<String> = std::fs::read_dir(root().join("mocks"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            e.path()
                .join("manifest.json")
                .is_file()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    dirs.sort();
    assert_eq!(dirs, SCENARIOS.to_vec());
}

#[test]
fn scenarios_replay_to_their_snapshots() {
    for scenario in SCENARIOS {
        let report = replay_json(scenario);
        assert_eq!(report["schema_version"], 1);
        assert_eq!(report["run"]["mode"], "replay");
        assert_eq!(report["run"]["complete"], true, "{scenario}: coverage gaps");
        insta::assert_json_snapshot!(format!("scenario_{scenario}"), stable_view(&report));
    }
}

#[test]
fn replay_is_deterministic_and_fingerprints_are_stable() {
    let a = replay_json("demo");
    let b = replay_json("demo");
    assert_eq!(stable_view(&a), stable_view(&b));
    let fps: Vec<&str> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let mut unique = fps.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        fps.len(),
        unique.len(),
        "fingerprints are unique per finding"
    );
}

#[test]
fn demo_has_every_core_check_and_clean_counterparts() {
    let report = replay_json("demo");
    let mut codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    // Every one of the core five (VPC002 with VPC003); later checks may fire too.
    for core in ["ECS001", "EKS001", "ELB001", "VPC001", "VPC002", "VPC003"] {
        assert!(codes.contains(&core), "the demo shows no {core}: {codes:?}");
    }
    let regions: Vec<&str> = report["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(regions.len() >= 2, "the demo spans two regions");
}

#[test]
fn table_output_groups_by_severity_and_summarises() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--replay", "mocks/demo"], home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    let high = text.find("HIGH (").expect("a HIGH group");
    let medium = text.find("MEDIUM (").expect("a MEDIUM group");
    assert!(high < medium, "groups in severity order");
    let last = text.trim_end().lines().last().unwrap();
    assert!(last.contains("coverage complete"), "{last}");
    assert!(last.contains("account 123456789012"), "{last}");
    assert!(
        stderr(&o).is_empty(),
        "nothing on stderr without a terminal: {}",
        stderr(&o)
    );
}

#[test]
fn output_file_is_written_and_fail_on_sets_the_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("report.json");
    let out_s = out.to_str().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "-o",
            out_s,
            "--fail-on",
            "high",
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
    // The report gets the mode any new file gets here, not a temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = home.path().join("plain");
        std::fs::write(&plain, b"").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), mode(&plain));
        std::fs::remove_file(plain).unwrap();
    }
    // Only the report file is left behind: no temporary files.
    let entries: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);

    // A threshold above every finding passes: ecs001 has high and medium findings only.
    let o = audit(
        &["--replay", "mocks/ecs001", "--fail-on", "critical"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "no critical findings in ecs001");
    let o = audit(
        &["--replay", "mocks/demo", "--fail-on", "critical"],
        home.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the demo's trust-anyone role is critical"
    );
}

#[test]
fn checks_can_be_selected_skipped_and_filtered_by_severity() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--replay", "mocks/demo", "--format", "json"];
        all.extend_from_slice(args);
        let o = audit(&all, home.path());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let checks_of = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let r = run(&[
        "--checks",
        "VPC00?,elb001",
        "--skip",
        "vpc003,VPC005,no-logs-path",
    ]);
    assert_eq!(
        r["run"]["checks"],
        serde_json::json!(["ELB001", "VPC001", "VPC002", "VPC006"])
    );
    // The demo has no VPC006 problem: what ran is not what fired.
    assert_eq!(checks_of(&r), ["ELB001", "VPC001", "VPC002"]);
    let r = run(&["--min-severity", "high"]);
    let severities: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(severities.contains(&"high"), "{severities:?}");
    assert!(
        severities.iter().all(|s| ["high", "critical"].contains(s)),
        "only findings at or above high: {severities:?}"
    );
    assert_eq!(r["run"]["min_severity"], "high");
    // A typo is an error before any work, not a run of nothing.
    let o = audit(
        &["--replay", "mocks/demo", "--checks", "ELB01"],
        home.path(),
    );
    assert_config_error(&o, "--checks: `ELB01` matches no check");
}

/// The README's table of checks is `audit checks --format markdown`, so it cannot drift
/// from the registry (run that command and paste between the markers to update it).
#[test]
fn readme_table_of_checks_is_the_registry() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["checks", "--format", "markdown"], home.path());
    assert_eq!(o.status.code(), Some(0));
    let generated = String::from_utf8(o.stdout).unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let begin = "<!-- checks:begin -->\n";
    let end = "<!-- checks:end -->";
    let start = readme
        .find(begin)
        .expect("README has the checks:begin marker")
        + begin.len();
    let stop = readme[start..]
        .find(end)
        .expect("README has the checks:end marker")
        + start;
    assert_eq!(
        &readme[start..stop],
        generated,
        "README's table of checks differs from `audit checks --format markdown`"
    );
    for c in checks::rules::ALL {
        assert!(generated.contains(&format!("| {} | {} |", c.code, c.name)));
    }
}

#[test]
fn checks_and_explain_cover_every_check() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["checks", "--format", "json"], home.path());
    assert_eq!(o.status.code(), Some(0));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 6);
    for c in list {
        let code = c["code"].as_str().unwrap();
        for key in [code, c["name"].as_str().unwrap()] {
            let o = audit(&["explain", key], home.path());
            assert_eq!(o.status.code(), Some(0), "explain {key}");
            let doc = String::from_utf8(o.stdout).unwrap();
            for section in [
                "What it finds",
                "Why it matters",
                "How to confirm",
                "How to fix",
                "References",
            ] {
                assert!(
                    doc.contains(&format!("## {section}")),
                    "{key} lacks {section}"
                );
            }
            assert!(
                doc.contains("aws "),
                "{key}: How to confirm names an AWS CLI command"
            );
        }
    }
    let o = audit(&["explain", "NOPE999"], home.path());
    assert_config_error(&o, "unknown check `NOPE999`");
}

#[test]
fn help_documents_the_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--help"], home.path());
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8(o.stdout).unwrap();
    for line in [
        "0  the run completed",
        "1  the run completed with findings",
        "2  usage",
        "3  the report was written but collection was incomplete",
    ] {
        assert!(help.contains(line), "--help lacks `{line}`");
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_flags_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--no-such-flag"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-flag"));
    let o = audit(&["--replay", "mocks/demo", "--format", "yaml"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("yaml"));
    let o = audit(&["--replay", "mocks/demo", "--record", "x"], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"));
    let o = audit(
        &["--replay", "mocks/demo", "--concurrency", "0"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_or_corrupt_recordings_are_named() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--replay", "/nonexistent/recording"], home.path());
    assert_config_error(&o, "/nonexistent/recording: no such recording directory");

    let o = audit(&["--replay", "src"], home.path());
    assert_config_error(&o, "not a recording (no manifest.json");

    let o = audit(&["--replay", "mocks/demo/manifest.json"], home.path());
    assert_config_error(&o, "is a file; give the recording's directory");

    // A corrupt exchange file is named with what is wrong in it.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks/ecs001"), copy.path());
    let victim = first_file(&copy.path().join("exchanges"));
    std::fs::write(&victim, "{ not json").unwrap();
    let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
    assert_config_error(&o, &victim.file_name().unwrap().to_string_lossy());
    assert!(stderr(&o).contains("invalid recording file"));

    // A wrong format version.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root().join("mocks/ecs001"), copy.path());
    let manifest = copy.path().join("manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 99");
    std::fs::write(&manifest, text).unwrap();
    let o = audit(&["--replay", copy.path().to_str().unwrap()], home.path());
    assert_config_error(&o, "version 99");
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
fn replay_ignores_the_environment_s_aws_settings() {
    // A developer's shell usually exports these; a replay needs none of them.
    let home = tempfile::tempdir().unwrap();
    let o = audit_env(
        &["--replay", "mocks/ecs001"],
        home.path(),
        &[
            ("AWS_PROFILE", "prod"),
            ("AWS_REGION", "ap-south-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An explicit --profile with --replay is a contradiction, and says so.
    let o = audit(
        &["--replay", "mocks/ecs001", "--profile", "prod"],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"));
}

#[test]
fn replay_rejects_regions_it_did_not_record() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(
        &["--replay", "mocks/demo", "--region", "ap-south-1"],
        home.path(),
    );
    assert_config_error(&o, "region `ap-south-1` is not in the recording");
    let o = audit(&["--replay", "mocks/demo", "--region", "mars"], home.path());
    assert_config_error(&o, "invalid region `mars`");
}

#[test]
fn unwritable_output_fails_before_any_work_and_leaves_no_file() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            "/nonexistent-dir/report.json",
        ],
        home.path(),
    );
    assert_config_error(&o, "directory /nonexistent-dir does not exist");
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            home.path().to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "is a directory");
    // A file where the directory should be.
    let file = home.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "-o",
            file.join("r.json").to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "a-file is not a directory");
    // A failed run with --output creates no file at all.
    let out = home.path().join("never.json");
    let o = audit(
        &["--replay", "/nonexistent", "-o", out.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn credentials_problems_say_how_to_fix_them() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--region", "us-east-1"], home.path());
    assert_config_error(&o, "no AWS credentials found");
    assert!(
        stderr(&o).contains("--replay mocks/demo"),
        "points at the demo"
    );

    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nregion = eu-west-1\n",
    )
    .unwrap();
    let o = audit(&["--profile", "prod", "--region", "us-east-1"], home.path());
    assert_config_error(&o, "profile `prod` does not exist");
    assert!(stderr(&o).contains("defined profiles: dev"));
    // The same through AWS_PROFILE.
    let o = audit_env(
        &["--region", "us-east-1"],
        home.path(),
        &[("AWS_PROFILE", "prod")],
    );
    assert_config_error(&o, "profile `prod` does not exist");
}

/// An instance metadata service on 127.0.0.1 that refuses every request with 403, as on a
/// host where IMDS is turned off; it counts what it was asked. It serves a few requests
/// and stops, so it never outlives the test's need.
fn forbidding_imds() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            // The request head; IMDS requests carry no body.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = s.write_all(
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, asked)
}

#[test]
fn no_credentials_hint_survives_a_forbidding_instance_metadata_service() {
    let home = tempfile::tempdir().unwrap();
    let empty = home.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let (imds, asked) = forbidding_imds();
    // IMDS on (the sealed environment turns it off) and pointed at the local 403 server;
    // no other credentials anywhere.
    let o = audit_env(
        &["--region", "us-east-1"],
        home.path(),
        &[
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
            ("AWS_CONFIG_FILE", empty),
            ("AWS_SHARED_CREDENTIALS_FILE", empty),
        ],
    );
    assert!(
        asked.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the chain asked the local IMDS: {}",
        stderr(&o)
    );
    assert_config_error(
        &o,
        "no AWS credentials found for the default credential chain",
    );
    let err = stderr(&o);
    assert!(
        err.contains("--replay mocks/demo"),
        "points at the demo: {err}"
    );
    assert!(
        err.contains("instance metadata: "),
        "keeps the cause: {err}"
    );
    assert!(err.contains("forbidden"), "keeps the cause: {err}");
}

/// A port on 127.0.0.1 nothing listens on: bound, then dropped.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A live run in us-east-1 with test credentials and one attempt a call, every call sent to
/// `endpoint`: given as `--endpoint-url`, or with `from_env` as AWS_ENDPOINT_URL.
fn audit_at_endpoint(endpoint: &str, from_env: bool, extra: &[&str], home: &Path) -> Output {
    let mut args = vec!["--region", "us-east-1", "--max-attempts", "1"];
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    if from_env {
        env.push(("AWS_ENDPOINT_URL", endpoint));
    } else {
        args.extend(["--endpoint-url", endpoint]);
    }
    args.extend_from_slice(extra);
    audit_env(&args, home, &env)
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = home.path().join("r.json");
    let o = audit_at_endpoint(&url, false, &["-o", out.to_str().unwrap()], home.path());
    assert_config_error(&o, &format!("cannot reach AWS at {url}"));
    assert!(!out.exists(), "no partial output file");
}

#[test]
fn an_endpoint_url_password_is_never_printed() {
    let home = tempfile::tempdir().unwrap();
    let port = closed_port();
    let unreachable = format!("http://moto:pa55w0rd@127.0.0.1:{port}");
    for (url, from_env, needle) in [
        (
            unreachable.as_str(),
            false,
            format!("cannot reach AWS at http://***@127.0.0.1:{port}"),
        ),
        (
            unreachable.as_str(),
            true,
            format!("cannot reach AWS at http://***@127.0.0.1:{port}"),
        ),
        (
            "ftp://moto:pa55w0rd@127.0.0.1",
            false,
            "invalid --endpoint-url `ftp://***@127.0.0.1`".to_string(),
        ),
    ] {
        let o = audit_at_endpoint(url, from_env, &[], home.path());
        assert_config_error(&o, &needle);
        assert!(!stderr(&o).contains("pa55w0rd"), "{}", stderr(&o));
    }
}

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

// ---------------------------------------------------------------- helpers

/// Every `.json` file under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    walk_ext(dir, "json", out)
}

/// Every file under `dir` whose extension is `ext`.
fn walk_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk_ext(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn first_file(dir: &Path) -> PathBuf {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files.into_iter().next().expect("a file")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Rewrites the first recorded `operation` response of `service` in a copy of a scenario.
fn scenario_with_error(
    scenario: &str,
    service: &str,
    operation: &str,
    status: u16,
    body: Value,
) -> tempfile::TempDir {
    let copy = scenario_copy(scenario);
    let victim = recorded(copy.path(), service, operation);
    let mut ex: Value = serde_json::from_str(&std::fs::read_to_string(&victim).unwrap()).unwrap();
    ex["status"] = status.into();
    ex["body"] = body;
    std::fs::write(&victim, serde_json::to_string_pretty(&ex).unwrap()).unwrap();
    copy
}

#[test]
fn throttling_is_retried_counted_and_becomes_a_gap_when_it_persists() {
    let rec = scenario_with_error(
        "ecs001",
        "ecs",
        "ListClusters",
        400,
        serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
    );
    let (report, _) = replay_report(rec.path(), &["--max-attempts", "2"], 3);
    let op = report["stats"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "ListClusters" && o["service"] == "ecs")
        .unwrap()
        .clone();
    assert_eq!(op["calls"], 1);
    // Two attempts: the first is throttled, the retry backs off, is throttled, and the call
    // gives up.
    assert_eq!(op["retries"], 1, "2 attempts in all");
    assert_eq!(op["throttles"], 2);
    let gap = &report["coverage"]["gaps"][0];
    assert_eq!(gap["operation"], "ListClusters");
    assert_eq!(gap["status"], "failed");
    assert_eq!(gap["error_code"], "ThrottlingException");
    // No ECS data at all: ECS001 is not evaluated for the region, and reports nothing.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["check"] != "ECS001"));
    assert!(report["unknowns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["check"] == "ECS001" && u["resource"].is_null()));
}

#[test]
fn access_denied_is_a_typed_gap_and_never_retried() {
    let rec = scenario_with_error(
        "eks001",
        "ec2",
        "DescribeInstances",
        403,
        Value::String(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors></Response>".into(),
        ),
    );
    let (report, _) = replay_report(rec.path(), &[], 3);
    let gap = &report["coverage"]["gaps"][0];
    assert_eq!(gap["operation"], "DescribeInstances");
    assert_eq!(gap["status"], "access_denied");
    assert_eq!(gap["error_code"], "UnauthorizedOperation");
    assert_eq!(report["stats"]["retries"], 0);
    // Without the instance list, "this cluster has no nodes" cannot be proven: EKS001 must
    // not report the idle cluster, and must say it could not decide.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["check"] != "EKS001"));
    assert!(report["unknowns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["check"] == "EKS001"));
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

/// Every registered check is proven both ways by the recorded scenarios: some scenario
/// expects it to fire on a bad resource, and some clean twin expects it to stay silent.
/// (The expectations themselves are asserted against the replayed mocks by the end-to-end
/// suite; this test makes sure no check goes without them.) The set of codes and names is
/// snapshotted so that a rename or a removed check shows in review.
#[test]
fn every_check_is_proven_by_a_bad_case_and_a_clean_twin() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["checks", "--format", "json"], home.path());
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["code"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_json_snapshot!("registered_checks", codes);

    let mut fires = std::collections::BTreeSet::new();
    let mut silent = std::collections::BTreeSet::new();
    for scenario in SCENARIOS {
        let path = root().join("mocks").join(scenario).join("expected.json");
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for e in expected["must"].as_array().unwrap() {
            fires.insert(e["check"].as_str().unwrap().to_string());
        }
        for e in expected["must_not"].as_array().unwrap() {
            silent.insert(e["check"].as_str().unwrap().to_string());
        }
    }
    for entry in &codes {
        let code = entry.split(' ').next().unwrap();
        assert!(
            fires.contains(code),
            "{code}: no scenario expects it to fire"
        );
        assert!(
            silent.contains(code),
            "{code}: no clean twin expects it to stay silent"
        );
    }
}

#[test]
fn every_format_renders_the_same_findings_into_output_dir() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/ecs-catalog",
            "--format",
            "json,jsonl,csv,markdown",
            "--format",
            "table",
            "--format",
            "sarif,asff,ocsf",
            "--output-dir",
            d,
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "everything went to files");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let report: Value = serde_json::from_str(&read("report.json")).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 10);
    let fingerprints: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    // JSON lines: one complete finding per line, in report order.
    let lines: Vec<Value> = read("findings.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, *findings);
    // CSV: a header and one row per finding, fingerprints in their column.
    let csv = read("findings.csv");
    assert!(csv.starts_with("severity,check,name,account,region,resource,message,"));
    for fp in &fingerprints {
        assert_eq!(csv.matches(fp).count(), 1, "{fp} once in the CSV");
    }
    let md = read("report.md");
    assert!(md.starts_with("# awsaudit report\n"));
    assert!(md.contains(&format!("| **total** | **{}** |", findings.len())));
    for fp in &fingerprints {
        assert!(md.contains(fp), "{fp} in the Markdown");
    }
    assert!(read("report.txt").contains("coverage complete"));
    // SARIF: one rule per check that ran, one result per finding, tracked by fingerprint.
    let sarif: Value = serde_json::from_str(&read("report.sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        report["run"]["checks"].as_array().unwrap().len()
    );
    let sarif_fps: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["awsaudit/v1"].as_str().unwrap())
        .collect();
    assert_eq!(sarif_fps, fingerprints);
    // ASFF: Security Hub finding ids derive from the fingerprint, so re-imports update.
    let asff: Value = serde_json::from_str(&read("findings.asff.json")).unwrap();
    let ids: Vec<&str> = asff
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), fingerprints.len());
    for (id, fp) in ids.iter().zip(&fingerprints) {
        assert!(id.ends_with(fp), "{id}");
    }
    // The secret ECS003 names is named in every format, its value in none (the recording
    // holds only markers, and no format prints a marker as a value).
    for name in [
        "report.json",
        "findings.jsonl",
        "findings.csv",
        "report.md",
        "report.txt",
        "report.sarif",
        "findings.asff.json",
        "findings.ocsf.json",
    ] {
        let text = read(name);
        assert!(text.contains("SMTP_PASSWORD"), "{name}");
        assert!(
            !text.contains("REDACTED"),
            "{name} prints a redaction marker"
        );
    }
}

#[test]
fn formats_and_outputs_must_pair_up_before_any_work() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let a_again = dir.path().join("x").join("..").join("a.json");
    std::fs::create_dir(dir.path().join("x")).unwrap();
    let (a, a_again) = (a.to_str().unwrap(), a_again.to_str().unwrap());
    let cases: [(&[&str], &str); 5] = [
        (
            &["--format", "json,csv"],
            "2 formats need somewhere to go: one --output FILE per --format, or --output-dir DIR",
        ),
        (
            &["--format", "json,csv", "-o", a],
            "1 --output for 2 --format",
        ),
        (
            &[
                "--format", "json", "--format", "csv", "-o", a, "-o", a_again,
            ],
            "given for both --format json and --format csv",
        ),
        (&["--format", "json,json"], "--format json is given twice"),
        (
            &["--format", "json", "--output-dir", "/nonexistent/awsaudit"],
            "--output-dir /nonexistent/awsaudit: does not exist",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["--replay", "mocks/demo"];
        args.extend_from_slice(extra);
        assert_config_error(&audit(&args, home.path()), needle);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no file was written"
    );
    // An unknown format or --only-new without a baseline are usage errors from the parser.
    for args in [
        &["--replay", "mocks/demo", "--format", "yaml"][..],
        &["--replay", "mocks/demo", "--only-new"][..],
    ] {
        let o = audit(args, home.path());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
}

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

#[test]
fn skipping_every_check_is_an_error_not_an_all_clear() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["--replay", "mocks/demo", "--skip", "*"], home.path());
    assert_config_error(
        &o,
        "--skip * skips every check: nothing would be audited, and an empty report would read as all clear",
    );
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--checks",
            "ELB001",
            "--skip",
            "elb*",
        ],
        home.path(),
    );
    assert_config_error(&o, "--skip elb* skips every check --checks ELB001 selects");
}

/// A webhook receiver on 127.0.0.1 that misbehaves on a script: one action per request
/// (`503`, `429`, `400`, `drop`, `slow`, `200`), then `200` for ever (or `500` with
/// `always_fail`).
/// It keeps every event key it received, like a receiver that dedupes by key.
struct Receiver {
    url: String,
    keys: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    fn start(script: &[&'static str], always_fail: bool) -> Receiver {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hooks/awsaudit?token=s3cr3t",
            listener.local_addr().unwrap()
        );
        let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (k, n, script) = (keys.clone(), requests.clone(), script.to_vec());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let action =
                    script
                        .get(i)
                        .copied()
                        .unwrap_or(if always_fail { "500" } else { "200" });
                // Read the request: headers, then Content-Length bytes of body.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let Ok(read) = s.read(&mut chunk) else {
                        break None;
                    };
                    if read == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..read]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break Some(buf[end + 4..end + 4 + len].to_vec());
                        }
                    }
                };
                let Some(body) = body else { continue };
                let reply = |s: &mut std::net::TcpStream, status: &str, extra: &str| {
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n"
                    );
                };
                // A refusal that explains itself on two lines, the second one in red.
                let refuse = |s: &mut std::net::TcpStream| {
                    let text = "unknown field `events`\n\x1b[31merror: forged";
                    let _ = write!(
                        s,
                        "HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                };
                let take = |k: &std::sync::Mutex<Vec<String>>| {
                    let batch: Value = serde_json::from_slice(&body).unwrap();
                    for e in batch["events"].as_array().unwrap() {
                        k.lock()
                            .unwrap()
                            .push(e["idempotency_key"].as_str().unwrap().to_string());
                    }
                };
                match action {
                    "503" => reply(&mut s, "503 Service Unavailable", ""),
                    "429" => reply(&mut s, "429 Too Many Requests", "retry-after: 0\r\n"),
                    "500" => reply(&mut s, "500 Internal Server Error", ""),
                    "400" => refuse(&mut s),
                    "drop" => drop(s),
                    "slow" => {
                        // Processed, but the answer comes after the sender gave up.
                        take(&k);
                        std::thread::sleep(std::time::Duration::from_millis(2500));
                        reply(&mut s, "200 OK", "");
                    }
                    _ => {
                        take(&k);
                        reply(&mut s, "200 OK", "");
                    }
                }
            }
        });
        Receiver {
            url,
            keys,
            requests,
        }
    }

    fn distinct_keys(&self) -> std::collections::BTreeSet<String> {
        self.keys.lock().unwrap().iter().cloned().collect()
    }
}

fn expected_keys() -> std::collections::BTreeSet<String> {
    replay_json("demo")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("opened:{}", f["fingerprint"].as_str().unwrap()))
        .collect()
}

#[test]
fn webhook_retries_faults_and_delivers_every_finding_once_by_key() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let r = Receiver::start(&["503", "drop", "429", "slow"], false);
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "--webhook",
            &r.url,
            "--webhook-spool",
            spool.path().to_str().unwrap(),
            "--webhook-timeout",
            "1",
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(r.distinct_keys(), expected_keys(), "every finding arrived");
    assert!(
        r.requests.load(std::sync::atomic::Ordering::SeqCst) >= 5,
        "it retried"
    );
    assert_eq!(
        spooled(spool.path()),
        0,
        "the spool is empty once delivered"
    );
}

#[test]
fn webhook_outage_keeps_the_batches_and_the_next_run_delivers_them() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let down = Receiver::start(&[], true);
    let args = |url: &str| {
        vec![
            "--replay".to_string(),
            "mocks/demo".into(),
            "--format".into(),
            "json".into(),
            "-o".into(),
            out.to_str().unwrap().into(),
            "--webhook".into(),
            url.into(),
            "--webhook-spool".into(),
            spool.path().to_str().unwrap().into(),
            "--webhook-attempts".into(),
            "2".into(),
        ]
    };
    let a = args(&down.url);
    let o = audit(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        home.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("answered 500 Internal Server Error (after 2 attempts)"),
        "{err}"
    );
    assert!(err.contains("undelivered batch(es) kept in"), "{err}");
    assert!(
        !err.contains("s3cr3t"),
        "the URL's token is never printed: {err}"
    );
    assert!(out.is_file(), "the report is written whatever the delivery");
    let kept = spooled(spool.path());
    assert!(kept >= 1);

    // The receiver is back: the spooled batches go first, then this run's.
    let up = Receiver::start(&[], false);
    let a = args(&up.url);
    let o = audit(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(up.distinct_keys(), expected_keys());
    assert_eq!(
        up.requests.load(std::sync::atomic::Ordering::SeqCst),
        2 * kept,
        "the earlier run's batches, then this run's"
    );
    assert_eq!(spooled(spool.path()), 0);

    for (url, needle) in [
        (
            "ftp://example.com/x",
            "--webhook: only http:// and https:// URLs are supported",
        ),
        ("not a url", "--webhook: not a URL"),
    ] {
        let o = audit(&["--replay", "mocks/demo", "--webhook", url], home.path());
        assert_config_error(&o, needle);
    }
    let file = spool.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--webhook",
            &up.url,
            "--webhook-spool",
            file.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(
        &o,
        &format!("--webhook-spool {}: is not a directory", file.display()),
    );
}

/// The `*.json` files in a spool directory: the batches waiting there.
fn spooled(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count()
}

#[test]
fn webhook_dead_letters_a_refused_batch_once_and_still_delivers_the_rest() {
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    // Left by earlier runs, so sent before this run's batches: a batch the receiver will
    // refuse, and a file that is no batch at all.
    let refused = "20000101T000000Z.000000000-1-00000-0123456789abcdef.json";
    std::fs::write(
        spool.path().join(refused),
        r#"{"batch_id":"0123456789abcdef","tool":"awsaudit 0.0.0","run_started_at":"2000-01-01T00:00:00Z","accounts":[],"events":[]}"#,
    )
    .unwrap();
    std::fs::write(spool.path().join("1999-garbage.json"), b"\0not json").unwrap();
    let r = Receiver::start(&["400"], false);
    let url = r.url.replacen("http://", "http://ops:pa55w0rd@", 1);
    let args = [
        "--replay",
        "mocks/demo",
        "--format",
        "json",
        "--webhook",
        &url,
        "--webhook-spool",
        spool.path().to_str().unwrap(),
    ];
    let o = audit(&args, home.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        !o.stdout.is_empty(),
        "the report is written whatever the delivery"
    );
    let dead = spool.path().join("dead-letter").join(refused);
    let quarantined = spool.path().join("quarantine/1999-garbage.json");
    let shown = r
        .url
        .split("/hooks")
        .next()
        .unwrap()
        .replacen("http://", "http://***@", 1);
    for line in [
        format!("error: webhook {shown}/…: the receiver refused batch {refused} for good: answered 400 Bad Request: \"unknown field `events`\\n\\u{{1b}}[31merror: forged\"; moved to {}", dead.display()),
        format!("error: webhook {shown}/…: spool file 1999-garbage.json is not a batch (expected value at line 1 column 1); moved to {}", quarantined.display()),
    ] {
        assert!(err.lines().any(|l| l == line), "expected {line} in:\n{err}");
    }
    for secret in ["pa55w0rd", "s3cr3t", "\x1b"] {
        assert!(!err.contains(secret), "{secret:?} in {err}");
    }
    assert!(dead.is_file() && quarantined.is_file());
    assert_eq!(
        r.distinct_keys(),
        expected_keys(),
        "this run's batches arrived"
    );
    assert_eq!(spooled(spool.path()), 0);

    // Reported once: the next run delivers its batches and exits 0.
    let o = audit(&args, home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
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

#[test]
fn the_iam_policy_allows_exactly_what_the_collector_calls_and_nothing_writes() {
    use std::collections::BTreeSet;
    let mut sources = Vec::new();
    walk_ext(&root().join("src"), "rs", &mut sources);
    // src/output/s3.rs writes the reports to S3 (checked at the end); everything else reads.
    let sink = root().join("src/output/s3.rs");
    let code: String = sources
        .iter()
        .filter(|p| **p != sink)
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    // Every collector call names its operation from the collector's table
    // (src/collect/ops.rs), and nothing else calls an SDK operation (the scan below).
    let mut from_code: BTreeSet<String> = awsaudit::collect::ops::ALL
        .iter()
        // A member's role is assumed with the runner's credentials: the runner's policy
        // grants it (deploy/cloudformation/security-account.yaml), not the member's.
        .filter(|op| op.id() != "sts:AssumeRole")
        .map(|op| match op.service {
            "elbv2" => format!("elasticloadbalancing:{}", op.name),
            s => format!("{s}:{}", op.name),
        })
        .collect();
    // The session's own call: who the credentials are.
    from_code.insert("sts:GetCallerIdentity".into());
    // Every method invoked directly on an SDK client (a collector's `client`, or the
    // session's `.sts(…)`-style accessors) is an API operation.
    let sdk = regex::Regex::new(
        r"(?:\bclient|\.(?:sts|ec2|iam|ecs|eks|elbv2|autoscaling)\([^)]*\))\s*\.\s*([a-z_]+)\(\)",
    )
    .unwrap();
    let invoked: BTreeSet<String> = sdk
        .captures_iter(&code)
        .map(|c| c[1].to_string())
        // The client type's own methods, not API operations.
        .filter(|m| m != "clone" && m != "config")
        .collect();
    assert!(invoked.len() >= 20, "the scan finds the calls: {invoked:?}");
    for op in &invoked {
        assert!(
            ["describe_", "list_", "get_", "batch_get_"]
                .iter()
                .any(|v| op.starts_with(v)),
            "{op} is not read-only"
        );
    }
    let squash = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let named_ops: BTreeSet<String> = from_code
        .iter()
        .map(|a| squash(a.split(':').nth(1).unwrap()))
        .collect();
    let mut invoked_ops: BTreeSet<String> = invoked.iter().map(|m| squash(m)).collect();
    // The fleet runner's own read: the organization's accounts (--org), asked once with
    // the caller's credentials, never in a member account; the runner's policy holds it
    // (deploy/cloudformation/security-account.yaml), the member role's does not.
    assert!(invoked_ops.remove("listaccounts"), "{invoked_ops:?}");
    assert_eq!(
        invoked_ops, named_ops,
        "every SDK operation the code invokes is a named collector or session call"
    );
    // The report sink's S3 operations: a HeadBucket preflight and one PutObject per report.
    let sink_code = std::fs::read_to_string(&sink).unwrap();
    let s3_ops: BTreeSet<String> = regex::Regex::new(r"\.\s*([a-z_]+)\(\)\s*\.\s*bucket\(")
        .unwrap()
        .captures_iter(&sink_code)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(
        s3_ops,
        BTreeSet::from(["head_bucket".to_string(), "put_object".to_string()]),
        "the S3 sink only checks the bucket and writes report objects"
    );

    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("deploy/iam/auditor-policy.json")).unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    let in_policy: BTreeSet<String> = statements[0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(
        in_policy.iter().all(|a| !a.contains('*')),
        "no wildcards: {in_policy:?}"
    );
    assert_eq!(
        in_policy, from_code,
        "deploy/iam/auditor-policy.json and the code disagree"
    );

    // And every operation any recording holds is in the policy.
    for scenario in SCENARIOS {
        let mut files = Vec::new();
        walk(
            &root().join("mocks").join(scenario).join("exchanges"),
            &mut files,
        );
        for f in files {
            let ex: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let service = match ex["key"]["service"].as_str().unwrap() {
                "elbv2" => "elasticloadbalancing",
                s => s,
            };
            let action = format!("{service}:{}", ex["key"]["operation"].as_str().unwrap());
            assert!(
                in_policy.contains(&action),
                "{scenario}: {action} not in the policy"
            );
        }
    }
}

#[test]
fn fleet_flags_are_checked_before_any_call() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for (args, needle) in [
        (
            vec!["--role-name", "awsaudit-member"],
            "--role-name needs the accounts to audit",
        ),
        (
            vec!["--accounts", "1234", "--role-name", "r"],
            "--accounts: `1234` is not an AWS account id",
        ),
        (
            vec!["--role-arn", "arn:aws:iam::123456789012:user/x"],
            "--role-arn `arn:aws:iam::123456789012:user/x`: not a role",
        ),
        (vec!["--shard", "0/2"], "--shard is for fleet runs"),
        (
            vec![
                "--role-arn",
                "arn:aws:iam::123456789012:role/x",
                "--session-name",
                "a b",
            ],
            "--session-name `a b`",
        ),
    ] {
        assert_config_error(&audit(&args, h), needle);
    }
    // clap's own checks: K counts from 0; --org needs --role-name.
    for args in [
        vec!["--role-name", "r", "--org", "--shard", "4/4"],
        vec!["--org"],
    ] {
        let o = audit(&args, h);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    // A single-account recording has no fleet to narrow.
    let demo = root().join("mocks/demo");
    let o = audit(
        &[
            "--replay",
            demo.to_str().unwrap(),
            "--accounts",
            "123456789012",
        ],
        h,
    );
    assert_config_error(&o, "need a fleet recording");
}

/// The JSON report of the demo replay, dressed as shard `k` of `n` holding `account`.
fn shard_report(dir: &Path, k: u32, n: u32, account: &str) -> PathBuf {
    let mut r = replay_json("demo");
    r["run"]["shard"] = serde_json::json!({"index": k, "count": n});
    r["accounts"] = serde_json::json!([account]);
    for f in r["findings"].as_array_mut().unwrap() {
        f["account"] = Value::String(account.to_string());
    }
    r["per_account"][0]["account"] = Value::String(account.to_string());
    let path = dir.join(format!("shard-{k}-of-{n}.json"));
    std::fs::write(&path, serde_json::to_string(&r).unwrap()).unwrap();
    path
}

#[test]
fn merge_combines_shards_and_refuses_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = shard_report(d, 0, 3, "111111111111");
    let b = shard_report(d, 2, 3, "222222222222");
    let merged = d.join("merged.json");
    let o = audit(
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            merged.to_str().unwrap(),
        ],
        d,
    );
    // Shard 1 of 3 is missing: a coverage gap, exit 3, never a silent hole.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(m["run"]["merged"]["missing"], serde_json::json!([1]));
    assert_eq!(
        m["accounts"],
        serde_json::json!(["111111111111", "222222222222"])
    );
    let one = replay_json("demo");
    let n = one["findings"].as_array().unwrap().len();
    assert_eq!(m["findings"].as_array().unwrap().len(), 2 * n);
    assert_eq!(m["summary"]["findings"], 2 * n);
    assert_eq!(m["per_account"][1]["findings"], n);
    let gaps = m["coverage"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["error_code"], "ShardMissing");
    assert_eq!(gaps[0]["scope"], "1/3");

    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let other_n = shard_report(d, 1, 4, "333333333333");
    let overlap = shard_report(d, 1, 3, "111111111111");
    let plain = d.join("plain.json");
    std::fs::write(&plain, serde_json::to_string(&one).unwrap()).unwrap();
    for (args, needle) in [
        (vec![s(&a), s(&a)], "are both shard 0/3".to_string()),
        (vec![s(&a), s(&other_n)], "is of 3 shards".to_string()),
        (
            vec![s(&a), s(&overlap)],
            "account 111111111111 is in both".to_string(),
        ),
        (
            vec![s(&plain)],
            format!("{}: not a shard report", plain.display()),
        ),
        (vec![s(&d.join("nope.json"))], "nope.json".to_string()),
    ] {
        let mut argv = vec!["merge".to_string()];
        argv.extend(args);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_config_error(&audit(&argv, d), &needle);
    }
}

/// A copy of the report at `src`, changed by `edit`, as `name` beside it.
fn edited_report(src: &Path, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut r: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    edit(&mut r);
    let path = src.with_file_name(name);
    std::fs::write(&path, serde_json::to_string(&r).unwrap()).unwrap();
    path
}

#[test]
fn merge_refuses_shard_numbers_and_counters_no_run_could_write() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let a = shard_report(d, 0, 2, "111111111111");
    let b = shard_report(d, 1, 2, "222222222222");
    let merge = |files: &[&Path]| {
        let mut argv = vec!["merge"];
        argv.extend(files.iter().map(|f| f.to_str().unwrap()));
        audit(&argv, d)
    };
    assert_eq!(merge(&[&a, &b]).status.code(), Some(0), "the pair merges");

    for (name, shard, needle) in [
        (
            "k-past-n",
            serde_json::json!({"index": 2, "count": 2}),
            "run.shard.index is 2",
        ),
        (
            "no-shards",
            serde_json::json!({"index": 0, "count": 0}),
            "run.shard.count is 0",
        ),
        (
            "negative-k",
            serde_json::json!({"index": -1, "count": 2}),
            "run.shard.index is not a whole number",
        ),
        // Past u32: named as the field it is, and nothing is sized by it.
        (
            "2^60",
            serde_json::json!({"index": 0, "count": 1u64 << 60}),
            "run.shard.count is 1152921504606846976",
        ),
        // Within u32 but past what --shard takes: never a list of four billion missing shards.
        (
            "u32-max",
            serde_json::json!({"index": 0, "count": u32::MAX}),
            "run.shard.count is 4294967295",
        ),
    ] {
        let bad = edited_report(&b, &format!("{name}.json"), |r| {
            r["run"]["shard"] = shard.clone()
        });
        assert_config_error(&merge(&[&bad]), &format!("{}: {needle}", bad.display()));
    }

    // Counters that would wrap when added: the second report's sum is refused, by field.
    for (field, pointer) in [
        ("stats.calls", "/stats/calls"),
        ("stats.throttles", "/stats/throttles"),
        ("stats.operations[0].retries", "/stats/operations/0/retries"),
        ("baseline.new", "/baseline/new"),
        ("baseline.unchanged", "/baseline/unchanged"),
    ] {
        let edit = |r: &mut Value| {
            r["baseline"] = serde_json::json!({
                "file": "last.json", "started_at": "2026-01-01T00:00:00Z",
                "new": 0, "unchanged": 0, "resolved": [], "unverified": []
            });
            *r.pointer_mut(pointer).unwrap() = serde_json::json!(u64::MAX);
        };
        let first = edited_report(&a, &format!("a-{field}.json"), edit);
        let second = edited_report(&b, &format!("b-{field}.json"), edit);
        assert_config_error(
            &merge(&[&first, &second]),
            &format!("{}: {field} does not fit", second.display()),
        );
    }
}

// ------------------------------------------------------------ faults (--simulate)

/// A simulation file in a temporary directory.
/// Whether `check` says it could not decide something in `region`.
fn has_unknown(report: &Value, check: &str, region: &str) -> bool {
    report["unknowns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["check"] == check && u["region"] == region)
}

fn sim_file(dir: &Path, text: &str) -> String {
    let path = dir.join("sim.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn op_stats(report: &Value, service: &str, operation: &str) -> Value {
    report["stats"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["service"] == service && o["operation"] == operation)
        .unwrap_or_else(|| panic!("no stats for {service}:{operation}"))
        .clone()
}

/// "Never a false PASS": every finding of the fault-free run is either reported again or
/// its check says, for that account and region, that it could not decide.
fn assert_nothing_silently_dropped(clean: &Value, faulted: &Value) {
    let reported: std::collections::BTreeSet<&str> = faulted["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    for f in clean["findings"].as_array().unwrap() {
        if reported.contains(f["fingerprint"].as_str().unwrap()) {
            continue;
        }
        // A finding on a global resource (an IAM role) may rest on any region's data.
        let flagged = faulted["unknowns"].as_array().unwrap().iter().any(|u| {
            u["check"] == f["check"]
                && u["account"] == f["account"]
                && (u["region"] == f["region"]
                    || u["region"] == "global"
                    || f["region"] == "global")
        });
        assert!(
            flagged,
            "{} on {} vanished without an unknown: a silent pass",
            f["check"], f["resource"]
        );
    }
    // And nothing is invented.
    let clean_prints: std::collections::BTreeSet<&str> = clean["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert!(reported.is_subset(&clean_prints));
}

#[test]
fn transient_faults_of_every_kind_are_retried_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Each kind of transient fault on its own operation, for the first two attempts of
    // every request (the first only for the slow one, which --call-timeout cuts), in every
    // protocol.
    let sim = sim_file(
        dir.path(),
        r#"
latency_ms = 2
[[fault]]
service = "ecs"
operation = "DescribeServices"
kind = "throttle"
attempts = 2
[[fault]]
service = "ec2"
operation = "DescribeNatGateways"
kind = "throttle"
attempts = 2
[[fault]]
service = "elbv2"
operation = "DescribeTargetGroups"
kind = "server-error"
attempts = 2
[[fault]]
service = "eks"
operation = "ListClusters"
kind = "unavailable"
attempts = 2
[[fault]]
service = "ec2"
operation = "DescribeSubnets"
kind = "reset"
attempts = 2
[[fault]]
service = "ec2"
operation = "DescribeVpcs"
kind = "slow"
delay_ms = 5000
attempts = 1
[[fault]]
service = "iam"
operation = "GetAccountAuthorizationDetails"
kind = "truncated"
attempts = 2
[[fault]]
service = "ecs"
operation = "DescribeTaskDefinition"
kind = "malformed"
attempts = 2
[[fault]]
service = "elbv2"
operation = "DescribeListeners"
kind = "malformed"
attempts = 2
"#,
    );
    let clean = replay_json("demo");
    let (faulted, err) = replay_report(
        &root().join("mocks/demo"),
        &["--simulate", &sim, "--call-timeout", "1s"],
        0,
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.trim().is_empty(), "a recovered run says nothing: {err}");
    for key in ["findings", "unknowns", "summary"] {
        assert_eq!(clean[key], faulted[key], "{key} differ");
    }
    assert_eq!(faulted["coverage"]["gaps"], serde_json::json!([]));
    assert_eq!(faulted["run"]["complete"], true);
    for (service, operation, attempts) in [
        ("ecs", "DescribeServices", 2),
        ("ec2", "DescribeNatGateways", 2),
        ("elbv2", "DescribeTargetGroups", 2),
        ("eks", "ListClusters", 2),
        ("ec2", "DescribeSubnets", 2),
        ("ec2", "DescribeVpcs", 1),
        ("iam", "GetAccountAuthorizationDetails", 2),
        ("ecs", "DescribeTaskDefinition", 2),
        ("elbv2", "DescribeListeners", 2),
    ] {
        let op = op_stats(&faulted, service, operation);
        let calls = op["calls"].as_u64().unwrap();
        assert!(calls > 0);
        assert_eq!(
            op["retries"].as_u64().unwrap(),
            calls * attempts,
            "{service}:{operation}: {op}"
        );
    }
    // Each service's own throttling error is recognised as one.
    assert_eq!(
        op_stats(&faulted, "ecs", "DescribeServices")["throttles"],
        op_stats(&faulted, "ecs", "DescribeServices")["retries"]
    );
    assert_eq!(
        op_stats(&faulted, "ec2", "DescribeNatGateways")["throttles"],
        op_stats(&faulted, "ec2", "DescribeNatGateways")["retries"]
    );
}

#[test]
fn exhausted_faults_and_denials_are_gaps_with_their_codes_and_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_file(
        dir.path(),
        r#"
[[fault]]
service = "ec2"
operation = "DescribeSubnets"
region = "us-east-1"
kind = "access-denied"
[[fault]]
service = "iam"
operation = "GetAccountAuthorizationDetails"
kind = "access-denied"
[[fault]]
service = "ecs"
operation = "DescribeServices"
region = "eu-west-1"
kind = "throttle"
[[fault]]
service = "eks"
operation = "DescribeCluster"
region = "eu-west-1"
kind = "opt-in"
[[fault]]
service = "elbv2"
operation = "DescribeTargetHealth"
kind = "server-error"
[[fault]]
service = "ec2"
operation = "DescribeRouteTables"
region = "eu-west-1"
kind = "reset"
[[fault]]
service = "elbv2"
operation = "DescribeListeners"
kind = "malformed"
[[fault]]
service = "application-autoscaling"
kind = "slow"
delay_ms = 10000
"#,
    );
    let clean = replay_json("demo");
    let (faulted, err) = replay_report(
        &root().join("mocks/demo"),
        &[
            "--simulate",
            &sim,
            "--call-timeout",
            "1s",
            "--max-attempts",
            "2",
        ],
        3,
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("collection incomplete"), "{err}");
    assert_eq!(faulted["run"]["complete"], false);
    let gaps: Vec<String> = faulted["coverage"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} {}:{} {} {}",
                g["region"].as_str().unwrap(),
                g["service"].as_str().unwrap(),
                g["operation"].as_str().unwrap(),
                g["status"].as_str().unwrap(),
                g["error_code"].as_str().unwrap()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    insta::assert_json_snapshot!("fault_gaps", gaps);
    // Denials are final: never retried.
    assert_eq!(op_stats(&faulted, "ec2", "DescribeSubnets")["retries"], 0);
    assert_eq!(
        op_stats(&faulted, "iam", "GetAccountAuthorizationDetails")["retries"],
        0
    );
    // The rest were retried until the attempts ran out.
    let tg = op_stats(&faulted, "elbv2", "DescribeTargetHealth");
    assert_eq!(tg["retries"], tg["calls"]);
    assert_nothing_silently_dropped(&clean, &faulted);
    // Checks that needed the missing data say so, for the scope they lost.
    let unknown = |check: &str, region: &str| has_unknown(&faulted, check, region);
    assert!(unknown("VPC001", "us-east-1"), "subnets denied");
    assert!(unknown("ECS001", "eu-west-1"), "services throttled");
    assert!(unknown("IAM001", "global"), "IAM denied");
}

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
fn bad_simulation_files_and_timeouts_are_named() {
    let home = tempfile::tempdir().unwrap();
    let sim = sim_file(
        home.path(),
        "latency_ms = 5\n[[fault]]\nkind = \"explode\"\n",
    );
    let o = audit(&["--replay", "mocks/demo", "--simulate", &sim], home.path());
    assert_config_error(
        &o,
        &format!("--simulate {sim}:3:8: unknown variant `explode`"),
    );
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--simulate",
            "/nonexistent/sim.toml",
        ],
        home.path(),
    );
    assert_config_error(&o, "--simulate /nonexistent/sim.toml: No such file");
    // The simulator stands in front of a recording, never in front of AWS.
    let o = audit(&["--simulate", &sim], home.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--replay"), "{}", stderr(&o));
    for bad in ["0", "10x", "1.5h"] {
        let o = audit(&["--replay", "mocks/demo", "--timeout", bad], home.path());
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&o).contains("duration") || stderr(&o).contains("at least"),
            "{}",
            stderr(&o)
        );
    }
}

// ------------------------------------------------------------ scale (tests/synth.py)

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

// ------------------------------------------------------------ no silent loss (issue 13)

#[test]
fn a_panic_is_a_coverage_gap_and_exit_3_never_a_clean_report() {
    // The simulator panics holding its own lock, as a rate overflow once did: the call is
    // a gap named `Panicked`, and no other call is lost to the poisoned lock.
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_file(
        dir.path(),
        r#"
latency_ms = 1
[[fault]]
service = "ecs"
operation = "DescribeServices"
region = "us-east-1"
kind = "panic"
[[fault]]
service = "iam"
operation = "GetAccountAuthorizationDetails"
kind = "panic"
"#,
    );
    let clean = replay_json("demo");
    let (faulted, err) = replay_report(&root().join("mocks/demo"), &["--simulate", &sim], 3);
    assert!(err.contains("collection incomplete"), "{err}");
    assert_eq!(faulted["run"]["complete"], false);
    let gaps: Vec<&Value> = faulted["coverage"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    for (region, service, operation) in [
        ("us-east-1", "ecs", "DescribeServices"),
        ("global", "iam", "GetAccountAuthorizationDetails"),
    ] {
        let gap = gaps
            .iter()
            .find(|g| {
                g["region"] == region && g["service"] == service && g["operation"] == operation
            })
            .unwrap_or_else(|| panic!("no gap for {region} {service}:{operation}: {gaps:?}"));
        assert_eq!(gap["error_code"], "Panicked", "{gap}");
        assert!(
            gap["message"].as_str().unwrap().contains("simulated panic"),
            "{gap}"
        );
    }
    // Only the panicking calls are gaps: every other call of the run still answered.
    assert!(
        gaps.iter().all(|g| g["error_code"] == "Panicked"),
        "one panic became more gaps: {gaps:?}"
    );
    assert_nothing_silently_dropped(&clean, &faulted);
    let unknown = |check: &str, region: &str| has_unknown(&faulted, check, region);
    assert!(unknown("ECS001", "us-east-1"), "services lost to the panic");
    assert!(unknown("IAM001", "global"), "IAM lost to the panic");
    // eu-west-1 kept its findings.
    let kept = |region: &str| {
        faulted["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["region"] == region)
            .count()
    };
    let clean_eu = clean["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["region"] == "eu-west-1")
        .count();
    assert!(clean_eu > 0);
    assert_eq!(kept("eu-west-1"), clean_eu);
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
fn impossible_simulator_figures_are_refused_with_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let bucket = |burst: &str, per_second: &str| {
        format!(
            "latency_ms = 1\n\n[[bucket]]\nservice = \"ecs\"\nname = \"read\"\noperations = [\"*\"]\nshared = true\nburst = {burst}\nper_second = {per_second}\n"
        )
    };
    for (text, at, what) in [
        (bucket("10", "1e-300"), "3:1", "per_second must be between"),
        (bucket("10", "1e300"), "3:1", "per_second must be between"),
        (bucket("1e300", "10"), "3:1", "burst is above"),
        (
            "\nlatency_ms = 600001\n".to_string(),
            "2:14",
            "latency_ms is above",
        ),
    ] {
        let sim = sim_file(home.path(), &text);
        let o = audit(&["--replay", "mocks/demo", "--simulate", &sim], home.path());
        assert_config_error(&o, &format!("--simulate {sim}:{at}: "));
        assert!(stderr(&o).contains(what), "{}", stderr(&o));
    }
}

/// An endpoint that takes connections and never answers: bound, never accepted.
fn silent_endpoint() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    (l, url)
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

#[test]
fn outputs_write_through_pipes_and_links_and_never_replace_them() {
    use std::os::unix::fs::FileTypeExt;
    let home = tempfile::tempdir().unwrap();
    let json_to = |path: &Path| {
        audit(
            &[
                "--replay",
                "mocks/demo",
                "--format",
                "json",
                "-o",
                path.to_str().unwrap(),
            ],
            home.path(),
        )
    };
    // A FIFO is written to, not replaced by a regular file.
    let fifo = home.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = json_to(&fifo);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = reader.join().unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // A link to a report: the report it points to is replaced, the link stays.
    let real = home.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = home.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = json_to(&link);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with('{'));
    // A link to nothing is refused before the audit.
    let dangling = home.path().join("dangling.json");
    std::os::unix::fs::symlink(home.path().join("nowhere"), &dangling).unwrap();
    let o = audit(
        &["--replay", "mocks/demo", "-o", dangling.to_str().unwrap()],
        home.path(),
    );
    assert_config_error(&o, "which does not exist");
}

#[test]
fn exit_2_leaves_no_output_written() {
    let home = tempfile::tempdir().unwrap();
    let good = home.path().join("good.json");
    // A name too long for the filesystem is found before the audit, not after it.
    let long = home.path().join(format!("{}.csv", "x".repeat(300)));
    let o = audit(
        &[
            "--replay",
            "mocks/demo",
            "--format",
            "json",
            "--format",
            "csv",
            "-o",
            good.to_str().unwrap(),
            "-o",
            long.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_config_error(&o, "File name too long");
    assert!(!good.exists(), "no output of a run that exits 2");
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

/// src/'s modules import in one direction, the way data flows: none imports a module that
/// imports it back, through any chain. The one exception is said where it is: the replayer
/// owns its simulator, which reads the replayer's request keys.
#[test]
fn src_has_no_import_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut files = Vec::new();
    walk_ext(&root().join("src"), "rs", &mut files);
    let id = |p: &Path| {
        let rel = p
            .strip_prefix(root().join("src"))
            .unwrap()
            .with_extension("");
        let s = rel.to_string_lossy().into_owned();
        s.strip_suffix("/mod").map(str::to_string).unwrap_or(s)
    };
    let modules: BTreeSet<String> = files.iter().map(|p| id(p)).collect();
    let path = regex::Regex::new(r"\bcrate::((?:[a-z_]+::)*[a-z_]+)").unwrap();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let from = id(f);
        if ["main", "lib", "hostile_input"].contains(&from.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests may reach anywhere.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for c in path.captures_iter(code) {
            let parts: Vec<&str> = c[1].split("::").collect();
            let to = (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("/"))
                .find(|m| modules.contains(m));
            if let Some(to) = to.filter(|t| *t != from) {
                deps.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let allowed: BTreeSet<(&str, &str)> = [("http/simulate", "http/recording")].into();
    // A cycle exists when a module reaches itself; report each one found.
    let mut cycles = Vec::new();
    for start in deps.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in deps.get(&at).into_iter().flatten() {
                if allowed.contains(&(at.as_str(), next.as_str())) {
                    continue;
                }
                if next == start {
                    cycles.push(format!("{} -> {start}", trail.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles in src/: {cycles:#?}");
    assert!(deps.len() > 20, "the scan finds the modules: {deps:?}");
}
