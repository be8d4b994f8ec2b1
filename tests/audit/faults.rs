//! Faults: recorded errors and `--simulate`d ones (throttling, denials, resets, malformed and
//! slow answers, panics). Transient ones are retried and change nothing; the rest are coverage
//! gaps with their codes, never a silent pass.

use serde_json::Value;

use crate::support::{
    assert_config_error, assert_nothing_silently_dropped, audit, recorded, replay_json,
    replay_report, root, scenario_copy, sim_file, stderr,
};

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

/// Whether `check` says it could not decide something in `region`.
fn has_unknown(report: &Value, check: &str, region: &str) -> bool {
    report["unknowns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["check"] == check && u["region"] == region)
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

/// ECR's "no lifecycle policy" answer is data, not a gap; any other error of a repository's
/// call is a gap scoped to that repository, which the check that needs it reports as not
/// evaluated there instead of "no policy".
#[test]
fn an_ecr_repository_whose_policy_read_fails_is_its_own_gap() {
    let clean = replay_json("ecr");
    assert_eq!(clean["coverage"]["gaps"], serde_json::json!([]));
    let rec = scenario_with_error(
        "ecr",
        "ecr",
        "GetLifecyclePolicy",
        400,
        serde_json::json!({"__type": "AccessDeniedException", "message": "not authorized"}),
    );
    let victim: Value = serde_json::from_str(
        &std::fs::read_to_string(recorded(rec.path(), "ecr", "GetLifecyclePolicy")).unwrap(),
    )
    .unwrap();
    let name = victim["key"]["params"]["body"]["repositoryName"]
        .as_str()
        .unwrap();
    let region = victim["key"]["region"].as_str().unwrap();
    let arn = format!("arn:aws:ecr:{region}:123456789012:repository/{name}");
    let (report, _) = replay_report(rec.path(), &[], 3);
    let gaps = report["coverage"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["operation"], "GetLifecyclePolicy");
    assert_eq!(gaps[0]["status"], "access_denied");
    assert_eq!(gaps[0]["scope"], arn.as_str());
    assert!(report["unknowns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["check"] == "ECR003" && u["resource"] == arn.as_str()));
    // The repository is named in no ECR003 finding: unknown, not "no policy".
    for f in report["findings"].as_array().unwrap() {
        if f["check"] == "ECR003" {
            assert!(
                f["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["resource"] != arn.as_str()),
                "{f}"
            );
        }
    }
}
