//! `--owner-tag` and costs through the real binary: who owns each finding, read from the
//! demo recording's tags (its ECS clusters and EKS clusters carry `team`, its services
//! `app`), and the owner and cost in every format and in the webhook's events.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{audit, stderr};

/// The demo replayed with `--owner-tag team` and `extra`.
fn demo_owned_by_team(extra: &[&str], home: &Path) -> Output {
    let mut args = vec!["--replay", "mocks/demo", "--owner-tag", "team"];
    args.extend_from_slice(extra);
    audit(&args, home)
}

/// The demo replayed with `extra` flags, as its JSON report.
fn demo(extra: &[&str]) -> Value {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["--replay", "mocks/demo", "--format", "json"];
    args.extend_from_slice(extra);
    let o = audit(&args, home.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The owner of the first finding of `check` on a resource whose ARN contains `resource`.
fn owner_of<'r>(report: &'r Value, check: &str, resource: &str) -> Option<&'r str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["resource"].as_str().unwrap().contains(resource))
        .unwrap_or_else(|| panic!("no {check} finding on {resource}"))
        .get("owner")
        .map(|o| o.as_str().unwrap())
}

#[test]
fn owners_come_from_the_resource_then_its_parent_first_key_first() {
    // Without --owner-tag no finding has an owner.
    let plain = demo(&[]);
    assert!(plain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("owner").is_none()));

    // `team` is on the clusters only: services take their cluster's, nodegroups their EKS
    // cluster's; IAM roles have neither and stay without an owner.
    let team = demo(&["--owner-tag", "team"]);
    assert_eq!(
        owner_of(&team, "ECS001", "service/storefront/"),
        Some("storefront")
    );
    assert_eq!(
        owner_of(&team, "EKS001", "cluster/ml-sandbox"),
        Some("platform")
    );
    assert_eq!(
        owner_of(&team, "VPC001", "nodegroup/analytics-eu/"),
        Some("platform")
    );
    assert_eq!(owner_of(&team, "IAM001", ":role/"), None);

    // A service's own `app` beats its cluster's `team`, even with `team` listed first;
    // a missing first key falls through to the next.
    let both = demo(&["--owner-tag", "team", "--owner-tag", "app"]);
    let own = owner_of(&both, "ECS001", "service/storefront/").unwrap();
    assert_ne!(
        own, "storefront",
        "the service's own tag, not the cluster's"
    );
    let fallback = demo(&["--owner-tag", "no-such-key", "--owner-tag", "app"]);
    assert_eq!(
        owner_of(&fallback, "ECS001", "service/storefront/"),
        Some(own)
    );
    // Owners are not part of the identity of a finding.
    assert_eq!(
        plain["findings"].as_array().unwrap().len(),
        both["findings"].as_array().unwrap().len()
    );
}

#[test]
fn suppressed_findings_carry_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[[suppress]]\ncheck = \"EKS001\"\nreason = \"sandbox, reviewed monthly\"\n",
    )
    .unwrap();
    let r = demo(&[
        "--owner-tag",
        "team",
        "--suppressions",
        file.to_str().unwrap(),
    ]);
    let suppressed = &r["suppressions"]["suppressed"][0]["finding"];
    assert_eq!(suppressed["check"], "EKS001");
    assert_eq!(suppressed["owner"], "platform");
    // Suppressed waste is not counted.
    assert_eq!(r["summary"]["waste_monthly_usd"], 0.0);
}

#[test]
fn every_format_shows_the_owner_and_the_cost() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = demo_owned_by_team(
        &[
            "--format",
            "table,json,jsonl,csv,markdown,sarif,asff,ocsf",
            "--output-dir",
            dir.path().to_str().unwrap(),
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let json = |name: &str| -> Value { serde_json::from_str(&read(name)).unwrap() };

    // The idle ml-sandbox cluster (Kubernetes 1.27, past standard support): $438 of waste.
    let report = json("report.json");
    assert_eq!(report["summary"]["waste_monthly_usd"], 438.0);
    let idle = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "EKS001")
        .unwrap()
        .clone();
    assert_eq!(idle["owner"], "platform");
    assert_eq!(idle["cost"]["kind"], "waste");
    assert_eq!(idle["cost"]["monthly_usd"], 438.0);
    let fp = idle["fingerprint"].as_str().unwrap();

    let jsonl: Vec<Value> = read("findings.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(jsonl.contains(&idle));

    let table = read("report.txt");
    assert!(table.contains("    owner: platform\n"), "{table}");
    assert!(table.contains("    cost: $438.00/month wasted (1 EKS control plane × $0.60/h"));
    assert!(table.contains(", $438.00/month wasted — account 123456789012"));

    let md = read("report.md");
    assert!(md.contains("- **Owner:** platform\n"));
    assert!(md.contains("- **Cost:** $438.00/month wasted ("));
    assert!(md.contains("**$438.00/month**"));

    let csv = read("findings.csv");
    assert!(csv.starts_with(
        "severity,check,name,account,region,resource,message,remediation,evidence,fingerprint,change,cost_monthly_usd,cost_kind,owner\r\n"
    ));
    let row = csv.lines().find(|l| l.contains(fp)).unwrap();
    assert!(row.ends_with(",438.00,waste,platform"), "{row}");

    let pick = |doc: &Value, pointer: &str| -> Value {
        let list = doc.pointer(pointer).unwrap().as_array().unwrap().clone();
        list.into_iter()
            .find(|x| x.to_string().contains(fp))
            .unwrap_or_else(|| panic!("{fp} under {pointer}"))
    };
    let sarif = pick(&json("report.sarif"), "/runs/0/results");
    assert_eq!(sarif["properties"]["owner"], "platform");
    assert_eq!(sarif["properties"]["cost"]["monthly_usd"], 438.0);
    let asff = pick(&json("findings.asff.json"), "");
    assert_eq!(asff["ProductFields"]["awsaudit/Owner"], "platform");
    assert_eq!(asff["ProductFields"]["awsaudit/CostMonthlyUsd"], "438.00");
    assert_eq!(asff["ProductFields"]["awsaudit/CostKind"], "waste");
    let ocsf = pick(&json("findings.ocsf.json"), "");
    assert_eq!(ocsf["unmapped"]["owner"], "platform");
    assert_eq!(ocsf["unmapped"]["cost"]["kind"], "waste");
}

#[test]
fn webhook_events_carry_the_owner_and_the_cost() {
    // Nothing listens on the port: the batches stay in the spool, as sent.
    let home = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let o = demo_owned_by_team(
        &[
            "--format",
            "json",
            "-o",
            home.path().join("r.json").to_str().unwrap(),
            "--webhook",
            &url,
            "--webhook-spool",
            spool.path().to_str().unwrap(),
            "--webhook-attempts",
            "1",
            "--webhook-timeout",
            "1",
        ],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let mut events: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(spool.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let batch: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            events.extend(batch["events"].as_array().unwrap().iter().cloned());
        }
    }
    let idle = events
        .iter()
        .find(|e| e["finding"]["check"] == "EKS001")
        .expect("the idle cluster's event is spooled");
    assert_eq!(idle["event"], "opened");
    assert_eq!(idle["finding"]["owner"], "platform");
    assert_eq!(idle["finding"]["cost"]["monthly_usd"], 438.0);
}
