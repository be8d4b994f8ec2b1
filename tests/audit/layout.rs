//! The source tree and the deploy files agree with each other: the IAM policy is exactly what
//! the code calls, and src/ has no import cycle.

use std::path::Path;

use serde_json::Value;

use crate::support::{root, scenarios, walk, walk_ext};

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
    for scenario in scenarios() {
        let mut files = Vec::new();
        walk(
            &root().join("mocks").join(&scenario).join("exchanges"),
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

/// src/'s modules import in one direction, the way data flows: none imports a module that
/// imports it back, through any chain.
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
    // A cycle exists when a module reaches itself; report each one found.
    let mut cycles = Vec::new();
    for start in deps.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in deps.get(&at).into_iter().flatten() {
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
