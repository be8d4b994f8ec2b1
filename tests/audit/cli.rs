//! The command line: the table, choosing checks, `audit checks`, `audit explain`, `--help`.

use std::path::Path;

use serde_json::Value;

use crate::support::{assert_config_error, audit, stderr};

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
        serde_json::json!(["ELB001", "VPC001", "VPC002", "VPC006", "VPC007", "VPC008", "VPC009"])
    );
    // The demo has no VPC006-VPC009 problem: what ran is not what fired.
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

/// checks/CROSSWALK.md is `audit crosswalk --format markdown` (regenerate it with that
/// command); `audit explain`, `audit checks --format json` and `audit crosswalk --format
/// json` carry the same controls.
#[test]
fn the_crosswalk_page_and_listings_are_the_registry() {
    let home = tempfile::tempdir().unwrap();
    let o = audit(&["crosswalk", "--format", "markdown"], home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("checks/CROSSWALK.md"))
            .unwrap();
    assert_eq!(
        page,
        String::from_utf8(o.stdout).unwrap(),
        "checks/CROSSWALK.md differs from `audit crosswalk --format markdown`"
    );
    for id in ["ECS.5", "EKS.1", "ECR.1", "EC2.55", "EC2.56"] {
        assert!(
            page.contains(&format!("| {id} |")),
            "{id} missing from the page"
        );
    }

    let o = audit(&["explain", "ECS017"], home.path());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("Controls it answers:"), "{text}");
    assert!(text.contains("ECS.5"), "{text}");
    assert!(text.contains("ecs_task_definitions_containers_readonly_access"));
    let o = audit(&["explain", "ECS001"], home.path());
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("Controls it answers: none"));

    let o = audit(&["checks", "--format", "json"], home.path());
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let eks002 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "EKS002")
        .unwrap();
    let controls = eks002["controls"].as_array().unwrap();
    assert!(controls.iter().any(|k| k["catalog"] == "security-hub"
        && k["id"] == "EKS.8"
        && k.get("partial").is_none()));
    assert!(controls
        .iter()
        .any(|k| k["catalog"] == "prowler"
            && k["partial"].as_str().is_some_and(|w| w.contains("five"))));

    let o = audit(&["crosswalk", "--format", "json"], home.path());
    let walk: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ecs5 = walk["fsbp"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "ECS.5")
        .unwrap();
    assert_eq!(ecs5["checks"][0]["code"], "ECS017");
    let ecs1 = walk["fsbp"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == "ECS.1")
        .unwrap();
    assert!(ecs1["no_check"].as_str().unwrap().contains("retired"));
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
