//! The commands a finding card offers to copy: the check's "How to confirm" and "How to
//! fix" commands with their placeholders (`CLUSTER`, `SUBNET_ID`) filled in from the
//! finding's own resources, and the command its remediation names.

use std::collections::BTreeMap;

use checks::model::GLOBAL_REGION;
use checks::registry::Check;
use checks::Finding;
use regex::Regex;
use std::sync::LazyLock;

/// Commands to confirm a finding and to fix it.
pub struct Commands {
    pub confirm: Vec<String>,
    pub fix: Vec<String>,
}

/// Placeholders as the checks' documentation writes them: capitals, digits, underscores.
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b").expect("valid"));

impl Commands {
    pub fn of(check: Option<&Check>, f: &Finding) -> Commands {
        let values = placeholder_values(f);
        let fill = |block: String| -> String {
            PLACEHOLDER
                .replace_all(&block, |c: &regex::Captures<'_>| {
                    let name = &c[0];
                    values
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| name.to_string())
                })
                .into_owned()
        };
        let blocks = |title: &str| -> Vec<String> {
            check
                .and_then(|c| c.section(title))
                .map(|s| shell_blocks(&s).into_iter().map(fill).collect())
                .unwrap_or_default()
        };
        // The remediation's own command is exact already: it comes first.
        let mut fix: Vec<String> = inline_commands(&f.remediation);
        for b in blocks("How to fix") {
            // The remediation often quotes the documented command, filled in: one copy.
            if !fix.iter().any(|c| same_command(c, &b)) {
                fix.push(b);
            }
        }
        Commands {
            confirm: blocks("How to confirm"),
            fix,
        }
    }
}

/// Whether two commands are the same once line continuations and spacing are ignored.
fn same_command(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.replace("\\\n", " ")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    words(a) == words(b)
}

/// The fenced shell blocks of a documentation section.
fn shell_blocks(section: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in section.lines() {
        let fence = line.trim_start().starts_with("```");
        match (&mut block, fence) {
            (None, true) => {
                let lang = line.trim_start().trim_start_matches('`').trim();
                // Policies and manifests shown in the docs are not commands.
                block = matches!(lang, "" | "sh" | "shell" | "bash" | "console").then(Vec::new);
                if block.is_none() {
                    block = Some(vec!["\u{0}"]);
                }
            }
            (Some(lines), true) => {
                if lines.first() != Some(&"\u{0}") && !lines.is_empty() {
                    out.push(lines.join("\n"));
                }
                block = None;
            }
            (Some(lines), false) => lines.push(line),
            (None, false) => {}
        }
    }
    out
}

/// Commands quoted in a remediation sentence: `` `aws …` ``, `` `kubectl …` ``.
fn inline_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            ["aws ", "kubectl ", "eksctl "]
                .iter()
                .any(|p| s.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

/// What each placeholder stands for in this finding: its region and account, and the names
/// and ids of the resources its evidence names (the first of each kind).
fn placeholder_values(f: &Finding) -> BTreeMap<&'static str, String> {
    let mut v: BTreeMap<&'static str, String> = BTreeMap::new();
    if f.region != GLOBAL_REGION {
        v.insert("REGION", f.region.clone());
    }
    v.insert("ACCOUNT", f.account.clone());
    v.insert("ACCOUNT_ID", f.account.clone());
    let resources =
        std::iter::once(f.resource.as_str()).chain(f.evidence.iter().map(|e| e.resource.as_str()));
    for arn in resources {
        let mut set = |k: &'static str, val: &str| {
            if !val.is_empty() {
                v.entry(k).or_insert_with(|| val.to_string());
            }
        };
        let Some(rest) = arn.strip_prefix("arn:") else {
            // Bare EC2 ids.
            for (prefix, key) in [
                ("subnet-", "SUBNET_ID"),
                ("vpc-", "VPC_ID"),
                ("rtb-", "ROUTE_TABLE_ID"),
                ("vpce-", "VPCE_ID"),
            ] {
                if arn.starts_with(prefix) {
                    set(key, arn);
                }
            }
            continue;
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let (service, res) = (
            parts.get(1).copied().unwrap_or(""),
            parts.get(4).copied().unwrap_or(""),
        );
        let path: Vec<&str> = res.split('/').collect();
        let at = |i: usize| path.get(i).copied().unwrap_or("");
        match (service, at(0)) {
            ("ecs", "service") if path.len() >= 3 => {
                set("CLUSTER", at(1));
                set("SERVICE", at(2));
            }
            ("ecs", "cluster") => set("CLUSTER", at(1)),
            ("ecs", "task-definition") => {
                let td = at(1);
                set("TASK_DEFINITION", td);
                if let Some((family, revision)) = td.rsplit_once(':') {
                    set("FAMILY", family);
                    set("REVISION", revision);
                }
            }
            ("ecs", "task") => set("TASK_ARN", arn),
            ("eks", "cluster") => set("CLUSTER", at(1)),
            ("eks", "nodegroup") => {
                set("CLUSTER", at(1));
                set("NODEGROUP", at(2));
            }
            ("eks", "addon") => {
                set("CLUSTER", at(1));
                set("ADDON", at(2));
            }
            ("elasticloadbalancing", "targetgroup") => set("TARGET_GROUP_ARN", arn),
            ("elasticloadbalancing", "loadbalancer") => set("LOAD_BALANCER_ARN", arn),
            ("elasticloadbalancing", "listener") => set("LISTENER_ARN", arn),
            ("ec2", "subnet") => set("SUBNET_ID", at(1)),
            ("ec2", "vpc") => set("VPC_ID", at(1)),
            ("ec2", "route-table") => set("ROUTE_TABLE_ID", at(1)),
            ("ec2", "vpc-endpoint") => set("VPCE_ID", at(1)),
            ("iam", "role") => {
                set("ROLE", path.last().copied().unwrap_or(""));
                set("ROLE_ARN", arn);
            }
            ("ecr", "repository") => {
                let name = res.strip_prefix("repository/").unwrap_or("");
                set("REPOSITORY", name);
                set("REPO", name);
                set("REPOSITORY_ARN", arn);
            }
            ("secretsmanager", _) => set("SECRET_ARN", arn),
            ("kms", "key") => {
                set("KEY_ID", at(1));
                set("KEY_ARN", arn);
            }
            _ => {}
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{Evidence, Severity};

    fn finding(evidence: Vec<Evidence>, remediation: &str) -> Finding {
        Finding {
            check: "VPC002".into(),
            name: "n".into(),
            severity: Severity::High,
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            resource: "arn:aws:ecs:eu-west-1:123456789012:service/billing/api".into(),
            message: "m".into(),
            remediation: remediation.into(),
            evidence,
            fingerprint: "0".repeat(32),
            change: None,
            cost: None,
            owner: None,
        }
    }

    #[test]
    fn placeholders_are_filled_from_the_findings_resources() {
        let f = finding(
            vec![
                Evidence::new("arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1", "x"),
                Evidence::new("arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-2", "x"),
                Evidence::new(
                    "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7",
                    "x",
                ),
            ],
            "Run `aws ecs update-service --cluster billing --service api` now.",
        );
        let check = checks::rules::find("VPC002").expect("registered");
        let c = Commands::of(Some(check), &f);
        assert_eq!(
            c.fix[0],
            "aws ecs update-service --cluster billing --service api"
        );
        let confirm = c.confirm.join("\n");
        assert!(confirm.contains("Values=subnet-1"), "{confirm}");
        assert!(!confirm.contains("SUBNET_ID"), "{confirm}");
        // What the finding does not name stays a placeholder for the reader.
        assert!(confirm.contains("VPC_ID"), "{confirm}");
        let v = placeholder_values(&f);
        assert_eq!(v["CLUSTER"], "billing");
        assert_eq!(v["SERVICE"], "api");
        assert_eq!(v["FAMILY"], "api");
        assert_eq!(v["REVISION"], "7");
        assert_eq!(v["REGION"], "eu-west-1");
    }

    #[test]
    fn only_shell_blocks_are_commands() {
        let doc =
            "Text\n\n```sh\naws one\naws two\n```\n\n```json\n{\"a\": 1}\n```\n```\naws three\n```";
        assert_eq!(shell_blocks(doc), ["aws one\naws two", "aws three"]);
        assert!(same_command("aws ecs x \\\n  --y 1", "aws ecs x --y 1"));
        assert!(!same_command("aws ecs x --y 1", "aws ecs x --y 2"));
        assert_eq!(
            inline_commands("Use `x` or `aws ec2 a` then `kubectl get pods`."),
            ["aws ec2 a", "kubectl get pods"]
        );
    }
}
