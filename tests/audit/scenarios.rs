//! Every recorded scenario in mocks/ replays to its snapshot, the same every time, and
//! together the scenarios prove every check both ways.

use serde_json::Value;

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{audit, replay_json, root, scenarios, walk};

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

/// What mocks/README.md asks of a scenario directory, as the problems `dir` has: a name fit
/// for a snapshot and a command line, a complete recording of the current format whose
/// manifest counts its exchanges, a README, and the expectations (the bad case and its clean
/// twin, of registered checks, in recorded regions) that the end-to-end suite and
/// `every_check_is_proven_by_a_bad_case_and_a_clean_twin` read.
fn scenario_problems(name: &str, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        problems.push("the name is not lowercase letters, digits and `-`".to_string());
    }
    let json = |file: &str| -> Result<Value, String> {
        let text = std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut recorded_regions = Vec::new();
    match json("manifest.json") {
        Err(e) => problems.push(e),
        Ok(m) => {
            if m["format"] != "awsaudit-recording" || m["version"] != 1 {
                problems.push("manifest.json: not a version 1 awsaudit-recording".to_string());
            }
            if let Some(why) = m.get("incomplete") {
                problems.push(format!("manifest.json: an incomplete recording ({why})"));
            }
            recorded_regions = strings(&m["regions"]);
            if recorded_regions.is_empty() {
                problems.push("manifest.json: no regions".to_string());
            }
            let mut files = Vec::new();
            if dir.join("exchanges").is_dir() {
                walk(&dir.join("exchanges"), &mut files);
            }
            if files.is_empty() || m["exchanges"] != files.len() {
                problems.push(format!(
                    "manifest.json counts {} exchanges, exchanges/ holds {}",
                    m["exchanges"],
                    files.len()
                ));
            }
        }
    }
    if !dir.join("README.md").is_file() {
        problems.push("no README.md".to_string());
    }
    match json("expected.json") {
        Err(e) => problems.push(e),
        Ok(e) => {
            if e["scenario"] != name {
                problems.push(format!("expected.json is of scenario {}", e["scenario"]));
            }
            let regions = strings(&e["regions"]);
            if regions.is_empty() || regions.iter().any(|r| !recorded_regions.contains(r)) {
                problems.push(format!(
                    "expected.json: regions {regions:?} are not among the recorded {recorded_regions:?}"
                ));
            }
            let codes: BTreeSet<&str> = checks::rules::ALL.iter().map(|c| c.code).collect();
            for kind in ["must", "must_not"] {
                let list = e[kind].as_array().cloned().unwrap_or_default();
                if list.is_empty() {
                    problems.push(format!("expected.json: no `{kind}` expectation"));
                }
                for x in list {
                    if !x["check"].as_str().is_some_and(|c| codes.contains(c)) {
                        problems.push(format!("expected.json: {kind} {x}: no such check"));
                    }
                }
            }
        }
    }
    problems
}

/// Scenarios are found, not listed (see `scenarios()`): a directory in mocks/ that is not a
/// valid scenario fails here, by name and with what it lacks; and no snapshot outlives the
/// scenario it was taken of.
#[test]
fn every_directory_in_mocks_is_a_valid_scenario() {
    let names = scenarios();
    let mut problems: Vec<String> = names
        .iter()
        .flat_map(|name| {
            scenario_problems(name, &root().join("mocks").join(name))
                .into_iter()
                .map(move |p| format!("mocks/{name}: {p}"))
        })
        .collect();
    // `scenarios_replay_to_their_snapshots` names each snapshot after its scenario.
    let snapshots = root().join(file!()).with_file_name("snapshots");
    let prefix = format!("{}__scenario_", module_path!().replace("::", "__"));
    for e in std::fs::read_dir(&snapshots).unwrap() {
        let file = e.unwrap().file_name().to_string_lossy().into_owned();
        let of = file
            .strip_prefix(&prefix)
            .and_then(|f| f.strip_suffix(".snap"));
        if let Some(scenario) = of.filter(|s| !names.iter().any(|n| n == s)) {
            let dir = snapshots.strip_prefix(root()).unwrap().display();
            problems.push(format!(
                "{dir}/{file}: a snapshot of no scenario (mocks/{scenario} is gone)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn scenarios_replay_to_their_snapshots() {
    for scenario in scenarios() {
        let report = replay_json(&scenario);
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
    for scenario in scenarios() {
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
