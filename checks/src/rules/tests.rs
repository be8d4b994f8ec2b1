//! Conventions every registered check must follow, and a snapshot of all checks over one
//! mixed inventory.

use std::collections::BTreeSet;

use super::{find, ALL};
use crate::model::RouteTarget;
use crate::registry::DOC_SECTIONS;
use crate::testkit::{default_route, Builder};

#[test]
fn codes_and_names_are_unique_sorted_and_well_formed() {
    let codes: BTreeSet<_> = ALL.iter().map(|c| c.code).collect();
    let names: BTreeSet<_> = ALL.iter().map(|c| c.name).collect();
    assert_eq!(codes.len(), ALL.len(), "duplicate code");
    assert_eq!(names.len(), ALL.len(), "duplicate name");
    let in_order: Vec<_> = ALL.iter().map(|c| c.code).collect();
    assert_eq!(
        in_order,
        codes.into_iter().collect::<Vec<_>>(),
        "ALL is sorted by code"
    );
    for c in ALL {
        let (prefix, digits) = c.code.split_at(c.code.len() - 3);
        assert!(
            prefix.len() == 3
                && prefix.chars().all(|ch| ch.is_ascii_uppercase())
                && digits.chars().all(|ch| ch.is_ascii_digit()),
            "{}: code is three capitals and three digits",
            c.code
        );
        let kebab = c.name.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
        });
        assert!(kebab, "{}: name `{}` is kebab-case", c.code, c.name);
        assert!(!c.summary.is_empty() && !c.needs().is_empty(), "{}", c.code);
        for need in c.needs() {
            let (service, op) = need.split_once(':').unwrap_or_default();
            assert!(
                [
                    "ecs",
                    "ecr",
                    "eks",
                    "elbv2",
                    "ec2",
                    "iam",
                    "application-autoscaling",
                    "scheduler",
                    "secretsmanager",
                    "ssm",
                    "kms",
                    "events"
                ]
                .contains(&service)
                    && op.starts_with(|ch: char| ch.is_ascii_uppercase()),
                "{}: need `{need}` is service:Operation",
                c.code
            );
        }
    }
}

/// The check's own code, without its test module.
fn check_source(file: &str) -> String {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = [manifest.join(file), manifest.join("..").join(file)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("cannot find {file}"));
    let text = std::fs::read_to_string(path).expect("readable");
    let code = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => &text,
    };
    // Without the declaration (from `pub static` to its `run:`): what is left is what the
    // code reports.
    let Some(start) = code.find("pub static ") else {
        return code.to_string();
    };
    let end = code[start..]
        .find("run:")
        .map_or(code.len(), |at| start + at);
    format!("{}{}", &code[..start], &code[end..])
}

#[test]
fn declared_severities_are_exactly_those_the_code_reports() {
    for c in ALL {
        let code = check_source(c.file);
        let mut used: BTreeSet<&str> = crate::finding::Severity::ALL
            .iter()
            .map(|s| s.as_str())
            .filter(|name| {
                let variant = format!("Severity::{}{}", name[..1].to_uppercase(), &name[1..]);
                code.contains(&variant)
            })
            .collect();
        // `ECS002.severity`: the declared (highest) severity, by reference.
        if code.contains(&format!("{}.severity", c.code)) {
            used.insert(c.severity.as_str());
        }
        let declared: BTreeSet<&str> = c.severities.iter().map(|s| s.as_str()).collect();
        assert_eq!(used, declared, "{}: severities in {}", c.code, c.file);
        assert_eq!(c.severities[0], c.severity, "{}", c.code);
        assert!(
            c.severities.windows(2).all(|w| w[0] > w[1]),
            "{}: severities highest first",
            c.code
        );
    }
}

#[test]
fn docs_have_every_section_in_order() {
    for c in ALL {
        let doc = c.documentation();
        let mut last = 0;
        for title in DOC_SECTIONS {
            let header = format!("## {title}\n");
            let at = doc
                .find(&header)
                .unwrap_or_else(|| panic!("{}: no `## {title}` section", c.code));
            assert!(at >= last, "{}: `{title}` out of order", c.code);
            last = at;
            let body = c.section(title).unwrap_or_default();
            assert!(!body.is_empty(), "{}: `{title}` is empty", c.code);
        }
        let headers = doc.lines().filter(|l| l.starts_with("## ")).count();
        assert_eq!(
            headers,
            DOC_SECTIONS.len(),
            "{}: exactly the five sections",
            c.code
        );
        assert!(
            c.section("How to confirm")
                .unwrap_or_default()
                .contains("aws "),
            "{}: CLI to confirm",
            c.code
        );
        assert!(
            c.section("References")
                .unwrap_or_default()
                .lines()
                .all(|l| l.is_empty() || l.starts_with("- https://")),
            "{}: references are URLs",
            c.code
        );
    }
}

/// Every `.rs` file under `src/rules/<service>/`, as (service, module name, path relative
/// to the crate).
fn rule_files() -> Vec<(String, String, String)> {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&rules).expect("src/rules is readable") {
        let dir = dir.expect("readable entry").path();
        if !dir.is_dir() || dir.ends_with("snapshots") {
            continue;
        }
        let service = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in std::fs::read_dir(&dir).expect("readable service folder") {
            let path = file.expect("readable entry").path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
                files.push((
                    service.clone(),
                    name,
                    format!(
                        "src/rules/{service}/{}",
                        path.file_name().unwrap().to_string_lossy()
                    ),
                ));
            }
        }
    }
    files.sort();
    files
}

/// The identifiers that follow each `prefix` in `text` (`{a, b::c}` gives `a` and `b`).
fn idents_after<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    let ident = |s: &'t str| {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..end]
    };
    let mut out = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(group.split(',').map(|p| ident(p.trim())));
            }
            None => out.push(ident(rest)),
        }
    }
    out
}

/// A check never imports another check's module: what two checks need is a graph fact or
/// lives in policy/ (or, for judgment over coverage, in rules/common.rs, which is no check).
#[test]
fn no_check_imports_another_check() {
    let files = rule_files();
    let modules: BTreeSet<&str> = files
        .iter()
        .flat_map(|(service, name, _)| [service.as_str(), name.as_str()])
        .collect();
    for (_, name, file) in &files {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect("readable check file");
        for used in idents_after(&text, "crate::rules::") {
            assert!(
                ["common", "find", "ALL"].contains(&used),
                "{file} uses crate::rules::{used}: move what it shares into the graph or policy/"
            );
        }
        assert!(
            !text.contains("super::super"),
            "{file} reaches into another module with super::super"
        );
        for used in idents_after(&text, "super::") {
            assert!(
                used.is_empty() || used == *name || !modules.contains(used),
                "{file} uses super::{used}, another check's module"
            );
        }
    }
    // The scanner finds what it is meant to.
    assert_eq!(
        idents_after("use crate::rules::{common::x, eks::y};", "crate::rules::"),
        ["common", "eks"]
    );
}

/// A check file that is not in the `checks!` list is not even compiled; this is what
/// notices it.
#[test]
fn every_check_file_is_registered_once() {
    let files: Vec<String> = rule_files().into_iter().map(|(_, _, f)| f).collect();
    let registered: Vec<String> = ALL
        .iter()
        .map(|c| c.file.trim_start_matches("checks/").to_string())
        .collect();
    for file in &files {
        let n = registered.iter().filter(|r| *r == file).count();
        assert_eq!(
            n, 1,
            "{file} declares no registered check (add it to checks! in rules/mod.rs), or several"
        );
    }
    for r in &registered {
        assert!(
            files.contains(r),
            "{r} is registered but not under src/rules/<service>/"
        );
    }
}

/// README.md's table of checks (between `<!-- checks:begin -->` and `<!-- checks:end -->`)
/// lists exactly the registry, in its order: code, name, severities, summary.
#[test]
fn readme_table_is_the_registry() {
    let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(readme).expect("README.md beside checks/");
    let start = text.find("<!-- checks:begin -->").expect("begin marker");
    let stop = text.find("<!-- checks:end -->").expect("end marker");
    let rows: Vec<Vec<String>> = text[start..stop]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| code |"))
        .map(|l| {
            // Cells split on `|` not escaped as `\|`.
            let l = l.trim().trim_start_matches('|').trim_end_matches('|');
            let mut cells = vec![String::new()];
            let mut chars = l.chars().peekable();
            while let Some(ch) = chars.next() {
                match ch {
                    '\\' if chars.peek() == Some(&'|') => {
                        cells.last_mut().unwrap().push('|');
                        chars.next();
                    }
                    '|' => cells.push(String::new()),
                    _ => cells.last_mut().unwrap().push(ch),
                }
            }
            cells.iter().map(|c| c.trim().to_string()).collect()
        })
        .collect();
    let expected: Vec<Vec<String>> = ALL
        .iter()
        .map(|c| {
            vec![
                c.code.to_string(),
                c.name.to_string(),
                c.severity_range(),
                c.summary.to_string(),
            ]
        })
        .collect();
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(
            row, want,
            "README.md's table of checks differs from the registry (code, name, severities, summary)"
        );
    }
    assert_eq!(
        rows.len(),
        expected.len(),
        "README.md's table of checks lists {} checks, the registry {}",
        rows.len(),
        expected.len()
    );
}

#[test]
fn find_by_code_or_name() {
    assert_eq!(find("elb001").map(|c| c.code), Some("ELB001"));
    assert_eq!(find("VPC002").map(|c| c.code), Some("VPC002"));
    assert_eq!(find("idle-eks-cluster").map(|c| c.code), Some("EKS001"));
    assert!(find("IDLE-EKS-CLUSTER").is_none(), "names match exactly");
    assert!(find("XYZ999").is_none());
}

/// One account with a bit of everything: each check fires once or twice next to clean twins.
fn mixed() -> Builder {
    let mut b = Builder::standard_vpc();
    let ecr = |name: &str| format!("111122223333.dkr.ecr.us-east-1.amazonaws.com/{name}:1");

    // The images both services pull exist, built for the tasks' platform.
    let amd64 = ["linux/amd64"];
    b.ecr_index("api", "sha256:a1", &["1"], "2024-05-01T00:00:00Z", &amd64);
    b.ecr_index(
        "web",
        "sha256:b1",
        &["1.4.2"],
        "2024-05-01T00:00:00Z",
        &amd64,
    );

    // Healthy: `api` in the public subnet behind an ip target group, breaker on.
    b.task_def("api", Some("awsvpc"), &[&ecr("api")]);
    b.service("api", "api", &["public-a"]);
    b.target_group("api-tg", "ip");
    b.attach("api", "api-tg");

    // ELB001 + ECS001: `web` on an instance target group, breaker off, private subnet with
    // the ECR endpoints but no S3 gateway (VPC002).
    b.with_ecr_endpoints();
    b.with_web_service().deployment_configuration = None;
    b.target_group("web-tg", "instance");
    b.attach("web", "web-tg");

    // VPC003 + VPC001: `proxy` pulls from Docker Hub in a small, nearly full private subnet.
    b.subnet("subnet-small", "vpc-1", "10.0.9.0/28", 3);
    b.task_def("proxy", Some("awsvpc"), &["nginx:latest"]);
    b.service("proxy", "proxy", &["subnet-small"]).desired_count = 4;

    // A subnet behind a transit gateway: nothing provable, nothing reported.
    b.subnet("subnet-tgw", "vpc-1", "10.0.3.0/24", 200);
    b.route_table("rtb-tgw", "vpc-1", &["subnet-tgw"])
        .routes
        .push(default_route(RouteTarget::TransitGateway("tgw-1".into())));
    b.task_def("batch", Some("awsvpc"), &["nginx:latest"]);
    b.service("batch", "batch", &["subnet-tgw"]);

    // EKS001: an idle cluster; `prod` has nodes and stays quiet.
    b.eks_cluster("idle");
    b.eks_cluster("prod");
    b.instance_type("m5.large", 3, 10);
    b.nodegroup("prod", "ng", &["public-a"]);
    b
}

#[test]
fn mixed_inventory_findings_snapshot() {
    let out = mixed().run(ALL);
    assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
    insta::assert_json_snapshot!("mixed_inventory", out.findings);
}

#[test]
fn mixed_inventory_with_gaps_snapshot() {
    let mut b = mixed();
    b.gap("ec2:DescribeVpcEndpoints", None);
    let idle = b.arn("eks", "cluster/idle");
    b.gap("eks:ListNodegroups", Some(&idle));
    let out = b.run(ALL);
    // Absence-based checks fall silent where data is missing and say so.
    let codes: BTreeSet<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
    assert!(
        !codes.contains("VPC002") && !codes.contains("VPC003") && !codes.contains("EKS001"),
        "{codes:?}"
    );
    insta::assert_json_snapshot!("mixed_inventory_unknowns", out.unknowns);
}

/// The crosswalk holds together: ids are well formed and not repeated, a partial match
/// says why, every FSBP control of the container platform is answered by a check or says
/// why none does (never both), and every ECS, EKS, ECR or EC2 endpoint control a check
/// names is one the scope lists (a typo'd id would otherwise slip through).
#[test]
fn the_crosswalk_is_consistent() {
    use crate::crosswalk::{Catalog, FSBP_SCOPE};
    let fsbp = regex::Regex::new(r"^[A-Za-z0-9]+\.[0-9]+$").unwrap();
    let config = regex::Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)+$").unwrap();
    let prowler = regex::Regex::new(r"^[a-z0-9]+(_[a-z0-9]+)+$").unwrap();
    for c in ALL {
        for (i, k) in c.controls.iter().enumerate() {
            let shape = match k.catalog {
                Catalog::SecurityHub => &fsbp,
                Catalog::AwsConfig => &config,
                Catalog::Prowler => &prowler,
            };
            assert!(
                shape.is_match(k.id),
                "{}: malformed {:?} id {}",
                c.code,
                k.catalog,
                k.id
            );
            assert!(
                !c.controls[..i]
                    .iter()
                    .any(|o| o.catalog == k.catalog && o.id == k.id),
                "{}: {} twice",
                c.code,
                k.id
            );
            if let Some(why) = k.partial {
                assert!(
                    why.len() > 20,
                    "{}: partial {} needs a reason",
                    c.code,
                    k.id
                );
            }
            let in_scope = ["ECS.", "EKS.", "ECR.", "EC2.55", "EC2.56"]
                .iter()
                .any(|p| k.id.starts_with(p));
            if k.catalog == Catalog::SecurityHub && in_scope {
                assert!(
                    FSBP_SCOPE.iter().any(|s| s.id == k.id),
                    "{}: {} is not in FSBP_SCOPE",
                    c.code,
                    k.id
                );
            }
        }
    }
    for (i, s) in FSBP_SCOPE.iter().enumerate() {
        assert!(fsbp.is_match(s.id), "{}", s.id);
        assert!(
            !FSBP_SCOPE[..i].iter().any(|o| o.id == s.id),
            "{} twice",
            s.id
        );
        let answered = ALL
            .iter()
            .any(|c| c.controls_in(Catalog::SecurityHub).any(|k| k.id == s.id));
        assert!(
            answered != s.no_check.is_some(),
            "{}: answered by a check: {answered}; reason for none: {:?}",
            s.id,
            s.no_check
        );
    }
}
