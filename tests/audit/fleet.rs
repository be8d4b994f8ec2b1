//! Fleet runs: the flags of `--org`, `--accounts`, `--role-arn` and `--shard`, and `audit merge`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{assert_config_error, audit, replay_json, root, stderr};

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

/// What a fleet replay concludes, fingerprint by fingerprint: the proof that a change to how
/// a fleet is collected, checked or held in memory (issue 18) changes none of it. A
/// synthetic organization of 4 accounts x 2 regions, replayed.
#[test]
fn a_synthetic_fleet_replays_to_the_same_conclusions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fleet");
    let status = std::process::Command::new("python3")
        .arg(crate::support::root().join("tests/synth.py"))
        .args(["--out", out.to_str().unwrap(), "--accounts", "4"])
        .args(["--regions", "us-east-1,eu-west-1", "--seed", "18"])
        .args(["--audit", env!("CARGO_BIN_EXE_audit")])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs tests/synth.py");
    assert!(status.success());
    let (report, _) = crate::support::replay_report(&out, &[], 0);
    assert_eq!(report["per_account"].as_array().unwrap().len(), 4);
    let digest = conclusions(&report);
    // One account at a time concludes the same as all at once.
    let (one_by_one, _) = crate::support::replay_report(&out, &["--accounts-in-flight", "1"], 0);
    assert_eq!(conclusions(&one_by_one), digest);
    insta::assert_json_snapshot!("synthetic_fleet_conclusions", digest);

    // Suppressions match the tags of resources whose accounts' records are long dropped.
    let (owned, _) = crate::support::replay_report(&out, &["--owner-tag", "app"], 0);
    let on_target_groups = |r: &Value, app: &str| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["resource"].as_str().unwrap().contains(":targetgroup/") && f["owner"] == app
            })
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let app = owned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["resource"].as_str().unwrap().contains(":targetgroup/") && f["owner"].is_string()
        })
        .map(|f| f["owner"].as_str().unwrap().to_string())
        .expect("a finding on a tagged target group");
    let expected = on_target_groups(&owned, &app);
    let file = dir.path().join("accepted.toml");
    std::fs::write(
        &file,
        format!("[[suppress]]\ntags = {{ app = \"{app}\" }}\nreason = \"accepted\"\n"),
    )
    .unwrap();
    let args = [
        "--owner-tag",
        "app",
        "--suppressions",
        file.to_str().unwrap(),
    ];
    let (suppressed, _) = crate::support::replay_report(&out, &args, 0);
    let mut moved: Vec<String> = suppressed["suppressions"]["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["finding"]["fingerprint"].as_str().unwrap().to_string())
        .filter(|fp| expected.contains(fp))
        .collect();
    moved.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(
        moved, expected_sorted,
        "every finding on a target group tagged app={app}"
    );
    assert!(on_target_groups(&suppressed, &app).is_empty());

    // A fleet's findings are read back from its scratch file a block at a time to be
    // judged: against its own report as the baseline, with --min-severity, each shown
    // finding is unchanged, in the same order, and each hidden one unverified.
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_vec(&report).unwrap()).unwrap();
    let args = [
        "--baseline",
        baseline.to_str().unwrap(),
        "--min-severity",
        "high",
    ];
    let (judged, _) = crate::support::replay_report(&out, &args, 0);
    let fingerprints = |r: &Value, pick: &dyn Fn(&Value) -> bool| -> Vec<String> {
        r.as_array()
            .unwrap()
            .iter()
            .filter(|f| pick(f))
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let severe = |f: &Value| matches!(f["severity"].as_str(), Some("high" | "critical"));
    let shown = fingerprints(&report["findings"], &severe);
    let hidden = fingerprints(&report["findings"], &|f| !severe(f));
    assert!(!shown.is_empty() && !hidden.is_empty());
    assert_eq!(fingerprints(&judged["findings"], &|_| true), shown);
    assert!(judged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["change"] == "unchanged"));
    let b = &judged["baseline"];
    assert_eq!(
        (b["new"].as_u64(), b["unchanged"].as_u64()),
        (Some(0), Some(shown.len() as u64))
    );
    assert_eq!(b["resolved"], serde_json::json!([]));
    let mut unverified = fingerprints(&b["unverified"], &|_| true);
    unverified.sort();
    let mut hidden = hidden;
    hidden.sort();
    assert_eq!(unverified, hidden);
    assert_eq!(
        judged["summary"]["findings"].as_u64(),
        Some(shown.len() as u64)
    );
}

/// An account checked before the registry account its services pull from has that account
/// collected first (by the same worker, with one account in flight): the report is the
/// one of the recorded order, cross-account findings included.
#[test]
fn an_account_referencing_one_not_yet_collected_has_it_collected_first() {
    let (in_order, _) =
        crate::support::replay_report(&root().join("mocks/ecr-cross-account"), &[], 0);
    let reversed = crate::support::scenario_copy("ecr-cross-account");
    let manifest = reversed.path().join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let targets = m["fleet"]["targets"].as_array_mut().unwrap();
    targets.reverse();
    // The workload account now comes first.
    assert_eq!(targets[0]["account"], "210000015838");
    std::fs::write(&manifest, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    for in_flight in ["1", "2"] {
        let (report, _) =
            crate::support::replay_report(reversed.path(), &["--accounts-in-flight", in_flight], 0);
        assert_eq!(
            run_free(&report),
            run_free(&in_order),
            "{in_flight} in flight"
        );
    }
    let cross: Vec<&Value> = in_order["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "ECR008")
        .collect();
    assert_eq!(
        cross.len(),
        3,
        "the pulls judged against the other account's policies"
    );
}

/// A report without what differs from one run to the next (times, call statistics).
fn run_free(report: &Value) -> Value {
    let mut r = report.clone();
    for key in ["started_at", "finished_at", "wall_ms"] {
        r["run"].as_object_mut().unwrap().remove(key);
    }
    r.as_object_mut().unwrap().remove("stats");
    r
}

/// A report's conclusions: every finding's identity, unknowns, gaps, the summary.
fn conclusions(report: &Value) -> Value {
    let mut findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["fingerprint"].as_str().unwrap(),
                f["check"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["account"].as_str().unwrap(),
                f["region"].as_str().unwrap()
            )
        })
        .collect();
    findings.sort();
    serde_json::json!({
        "findings": findings,
        "unknowns": report["unknowns"],
        "gaps": report["coverage"]["gaps"],
        "summary": report["summary"],
    })
}
