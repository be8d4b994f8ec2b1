//! Every recorded scenario in mocks/ replays to its snapshot, the same every time, and
//! together the scenarios prove every check both ways.

use serde_json::Value;

use crate::support::{audit, replay_json, root, SCENARIOS};

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
