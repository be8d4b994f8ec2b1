//! The source tree and the deploy files agree with each other: the IAM policy is exactly what
//! the code calls, src/ has no import cycle, and each file's use lines are its dependencies.

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
        r"(?:\bclient|\.(?:sts|ec2|iam|ecs|ecr|eks|elbv2|autoscaling|secretsmanager|ssm|kms)\([^)]*\))\s*\.\s*([a-z_]+)\(\)",
    )
    .unwrap();
    let invoked: BTreeSet<String> = sdk
        .captures_iter(&code)
        .map(|c| c[1].to_string())
        // The client type's own methods, not API operations.
        .filter(|m| m != "clone" && m != "config")
        .collect();
    assert!(invoked.len() >= 20, "the scan finds the calls: {invoked:?}");
    // The auditor reads secrets' metadata, never their values: no operation that returns a
    // secret, a parameter's value or a plaintext may be called, listed or granted.
    let value_reads = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "kms:Decrypt",
    ];
    let squashed_reads: Vec<String> = value_reads
        .iter()
        .map(|a| a.split(':').nth(1).unwrap().to_ascii_lowercase())
        .collect();
    for op in &invoked {
        assert!(
            !squashed_reads.contains(&op.replace('_', "")),
            "{op} reads a secret's value"
        );
    }
    for read in value_reads {
        assert!(!from_code.contains(read), "src/collect/ops.rs lists {read}");
    }
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
    for read in value_reads {
        assert!(
            !in_policy.contains(read),
            "deploy/iam/auditor-policy.json grants {read}"
        );
    }

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
        let code = expand_groups(code);
        for c in path.captures_iter(&code) {
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

/// A src/ file's `use` lines are its dependencies: outside them (and outside its unit
/// tests and comments) no code reaches another module by a `crate::` path.
#[test]
fn src_dependencies_are_in_use_lines() {
    let mut files = Vec::new();
    walk_ext(&root().join("src"), "rs", &mut files);
    let mut inline = Vec::new();
    // hostile_input.rs is a unit-test module (lib.rs compiles it under cfg(test)).
    for f in files.iter().filter(|f| !f.ends_with("hostile_input.rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let mut in_use = false;
        for (i, line) in code.lines().enumerate() {
            let t = line.trim_start();
            // A `use` statement may run over several lines, up to its `;`.
            if t.starts_with("use ") || t.starts_with("pub use ") {
                in_use = true;
            }
            if !in_use && !t.starts_with("//") && line.contains("crate::") {
                let rel = f.strip_prefix(root()).unwrap();
                inline.push(format!("{}:{}: {t}", rel.display(), i + 1));
            }
            if in_use && t.ends_with(';') {
                in_use = false;
            }
        }
    }
    assert!(
        inline.is_empty(),
        "crate:: paths outside use lines: {inline:#?}"
    );
}

/// `crate::{a, b::{C, D as E}}` written out as `crate::a crate::b::C crate::b::D`, so a
/// grouped import shows each module it reaches.
fn expand_groups(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::{") {
        out.push_str(&rest[..i]);
        let open = i + "crate::".len();
        let close = matching_brace(rest, open);
        for p in group_paths(&rest[open + 1..close]) {
            out.push_str(&format!(" crate::{p} "));
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The index of the `}` that closes the `{` at `open`.
fn matching_brace(s: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return open + i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in a use group")
}

/// The paths of a use group's body (`a, b::{C, D}`), nested groups written out.
fn group_paths(body: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&body[start..]);
    let mut paths = Vec::new();
    for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        match item.find("::{") {
            Some(k) => {
                let inner_open = k + 2;
                let inner_close = matching_brace(item, inner_open);
                for p in group_paths(&item[inner_open + 1..inner_close]) {
                    paths.push(format!("{}::{p}", &item[..k]));
                }
            }
            None => paths.push(item.split(" as ").next().unwrap().trim().to_string()),
        }
    }
    paths
}

#[test]
fn grouped_imports_are_written_out() {
    let code = "use crate::{clock, http::{stats::Stats, transport as t}};\nuse crate::gap;";
    let flat = expand_groups(code);
    for p in [
        "crate::clock",
        "crate::http::stats::Stats",
        "crate::http::transport",
        "crate::gap",
    ] {
        assert!(flat.contains(p), "{p} in {flat}");
    }
}
