//! `--suppressions FILE`: accepted risks, each with a reason and optionally an expiry date.
//!
//! ```toml
//! [[suppress]]
//! check = "ECS004"                                   # code, name or glob
//! account = "123456789012"                           # glob
//! region = "eu-*"                                    # glob
//! resource = "arn:aws:ecs:*:*:service/legacy/*"      # ARN glob
//! tags = { team = "data" }                           # every tag must match the resource's
//! reason = "legacy cluster, retired in Q1 (JIRA-123)" # required
//! expires = 2027-03-31                               # optional: stops suppressing after it
//! ```
//!
//! A finding matching an entry (every matcher the entry gives) leaves the findings and is
//! listed, with the entry, under `suppressed`: counted, never silently dropped. Entries past
//! their date suppress nothing and are reported as expired; entries that matched nothing
//! are reported as unmatched, so stale ones get cleaned up.

use std::collections::BTreeMap;
use std::path::Path;

use checks::model::{glob_match, Inventory};
use checks::registry::{check_pattern_matches, Check};
use checks::Finding;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::toml_file::{line_col, parse_toml};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppress: Vec<toml::Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: Option<String>,
    account: Option<String>,
    region: Option<String>,
    resource: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    reason: Option<String>,
    expires: Option<toml::value::Datetime>,
}

/// One suppression, as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Line of the entry's `[[suppress]]` in the file.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub tags: BTreeMap<String, String>,
    pub reason: String,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A finding an entry suppressed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppressed {
    pub finding: Finding,
    /// The line of the entry that suppressed it.
    pub line: usize,
    pub reason: String,
}

/// What the suppressions file did in this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuppressionReport {
    pub file: String,
    pub suppressed: Vec<Suppressed>,
    /// Entries past their date: they suppressed nothing.
    pub expired: Vec<Entry>,
    /// Live entries that matched no finding.
    pub unmatched: Vec<Entry>,
}

/// A parsed, checked suppressions file.
#[derive(Debug)]
pub struct Suppressions {
    file: String,
    entries: Vec<Entry>,
}

impl Suppressions {
    /// Reads and checks the file. Errors name the file, line and column: TOML syntax,
    /// unknown keys, an entry without a reason, an entry that would suppress every finding
    /// (no matcher, or only match-anything ones), a `check` that names no check, an
    /// `expires` that is not a date.
    pub fn load(path: &Path, checks: &[&Check]) -> Result<Self, AppError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::Config(format!("--suppressions {}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string(), checks)
    }

    /// Checks the text of a suppressions file named `file` (for its messages).
    pub fn parse(text: &str, file: &str, checks: &[&Check]) -> Result<Self, AppError> {
        let err = |line: usize, col: usize, what: String| {
            AppError::Config(format!("--suppressions {file}:{line}:{col}: {what}"))
        };
        let file_name = file;
        let file: File = parse_toml(text).map_err(|(line, col, what)| err(line, col, what))?;
        let mut entries = Vec::new();
        for spanned in file.suppress {
            let (line, col) = line_col(text, spanned.span().start);
            let raw = spanned.into_inner();
            let reason = raw.reason.as_deref().map(str::trim).unwrap_or_default();
            if reason.is_empty() {
                return Err(err(
                    line,
                    col,
                    "every suppression needs a `reason` (why the risk is accepted, and who said so)"
                        .into(),
                ));
            }
            if let Some(why) = suppresses_everything(&raw, checks) {
                return Err(err(line, col, why));
            }
            if let Some(pattern) = &raw.check {
                if !checks
                    .iter()
                    .any(|c| check_pattern_matches(pattern, c.code, c.name))
                {
                    return Err(err(
                        line,
                        col,
                        format!("check `{pattern}` matches no check (`audit checks` lists them)"),
                    ));
                }
            }
            let expires = match raw.expires {
                None => None,
                Some(dt) => match (dt.date, dt.time) {
                    (Some(d), None) => Some(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
                    _ => {
                        return Err(err(
                            line,
                            col,
                            format!("expires = {dt}: give a date (expires = 2027-03-31)"),
                        ))
                    }
                },
            };
            entries.push(Entry {
                line,
                check: raw.check,
                account: raw.account,
                region: raw.region,
                resource: raw.resource,
                tags: raw.tags,
                reason: reason.to_string(),
                expires,
            });
        }
        Ok(Suppressions {
            file: file_name.to_string(),
            entries,
        })
    }

    /// Moves the findings an unexpired entry matches out of `findings`. `today` is
    /// `YYYY-MM-DD`: an entry expires at the end of its date.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        inventory: &Inventory,
        today: &str,
    ) -> SuppressionReport {
        let mut progress = self.start(today);
        self.apply_part(findings, |r| inventory.resource_tags.get(r), &mut progress);
        self.finish(progress)
    }

    /// The start of [`apply`](Self::apply) over findings that come in parts (a fleet's,
    /// block by block).
    pub fn start(&self, today: &str) -> Applying {
        Applying {
            today: today.to_string(),
            used: vec![false; self.live(today).count()],
            suppressed: Vec::new(),
        }
    }

    /// Moves the findings of one part an unexpired entry matches out of `findings`;
    /// `tags` gives a resource's tags.
    pub fn apply_part<'t>(
        &self,
        findings: &mut Vec<Finding>,
        tags: impl Fn(&str) -> Option<&'t BTreeMap<String, String>>,
        progress: &mut Applying,
    ) {
        let live: Vec<&Entry> = self.live(&progress.today).collect();
        findings.retain(
            |f| match live.iter().position(|e| e.matches(f, tags(&f.resource))) {
                Some(i) => {
                    progress.used[i] = true;
                    progress.suppressed.push(Suppressed {
                        finding: f.clone(),
                        line: live[i].line,
                        reason: live[i].reason.clone(),
                    });
                    false
                }
                None => true,
            },
        );
    }

    /// What the suppressions did, once every part is applied.
    pub fn finish(&self, progress: Applying) -> SuppressionReport {
        let today = progress.today.as_str();
        SuppressionReport {
            file: self.file.clone(),
            suppressed: progress.suppressed,
            expired: self
                .entries
                .iter()
                .filter(|e| !is_live(e, today))
                .cloned()
                .collect(),
            unmatched: self
                .live(today)
                .zip(&progress.used)
                .filter(|(_, used)| !**used)
                .map(|(e, _)| e.clone())
                .collect(),
        }
    }

    /// The entries not expired on `today`, in the file's order.
    fn live<'s>(&'s self, today: &'s str) -> impl Iterator<Item = &'s Entry> {
        self.entries.iter().filter(move |e| is_live(e, today))
    }
}

/// Whether an entry still suppresses on `today`: it expires at the end of its date.
fn is_live(e: &Entry, today: &str) -> bool {
    e.expires.as_deref().is_none_or(|d| d >= today)
}

/// Suppressions applied so far (see [`Suppressions::start`]).
pub struct Applying {
    today: String,
    /// Per live entry: whether it matched a finding.
    used: Vec<bool>,
    suppressed: Vec<Suppressed>,
}

/// Why an entry would suppress every finding, if it would: no matcher at all, or only
/// matchers that match anything (`check = "*"`, `account = "*"`). Such an entry empties the
/// report, which a scheduled job would read as all clear.
fn suppresses_everything(raw: &RawEntry, checks: &[&Check]) -> Option<String> {
    let any_text = |p: &Option<String>| {
        p.as_deref()
            .is_none_or(|p| !p.is_empty() && p.chars().all(|c| c == '*'))
    };
    let any_check = raw.check.as_deref().is_none_or(|p| {
        checks
            .iter()
            .all(|c| check_pattern_matches(p, c.code, c.name))
    });
    if !(any_check
        && any_text(&raw.account)
        && any_text(&raw.region)
        && any_text(&raw.resource)
        && raw.tags.is_empty())
    {
        return None;
    }
    let given: Vec<String> = [
        ("check", &raw.check),
        ("account", &raw.account),
        ("region", &raw.region),
        ("resource", &raw.resource),
    ]
    .into_iter()
    .filter_map(|(key, pattern)| pattern.as_ref().map(|p| format!("{key} = {p:?}")))
    .collect();
    Some(if given.is_empty() {
        "this entry would suppress every finding: give at least one of check, account, region, resource, tags".into()
    } else {
        format!(
            "this entry would suppress every finding ({} matches them all): give a check, account, region, resource or tags that narrows it",
            given.join(", ")
        )
    })
}

impl Entry {
    fn matches(&self, f: &Finding, tags: Option<&BTreeMap<String, String>>) -> bool {
        let glob = |p: &Option<String>, v: &str| p.as_deref().is_none_or(|p| glob_match(p, v));
        let check = self
            .check
            .as_deref()
            .is_none_or(|p| check_pattern_matches(p, &f.check, &f.name));
        let tags_match = self.tags.iter().all(|(k, v)| {
            tags.and_then(|t| t.get(k))
                .is_some_and(|actual| glob_match(v, actual))
        });
        check
            && glob(&self.account, &f.account)
            && glob(&self.region, &f.region)
            && glob(&self.resource, &f.resource)
            && tags_match
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Suppressions, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, text).unwrap();
        Suppressions::load(&p, checks::rules::ALL)
            .map_err(|e| e.to_string().replace(&p.display().to_string(), "s.toml"))
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            load("[[suppress]]\ncheck = \"ECS004\"\n").unwrap_err(),
            "--suppressions s.toml:1:1: every suppression needs a `reason` (why the risk is accepted, and who said so)"
        );
        let e = load("[[suppress]]\ncheck = \"ECS004\"\nreason = \"x\"\nexpire = 2027-01-01\n")
            .unwrap_err();
        assert!(
            e.starts_with("--suppressions s.toml:4:1: unknown field `expire`"),
            "{e}"
        );
        let e = load("[[suppress]]\nreason = \"x\"\ncheck = ECS004\n").unwrap_err();
        assert!(e.starts_with("--suppressions s.toml:3:9: "), "{e}");
        assert_eq!(
            load("[[suppress]]\nreason = \"accepted\"\n").unwrap_err(),
            "--suppressions s.toml:1:1: this entry would suppress every finding: give at least one of check, account, region, resource, tags"
        );
        assert_eq!(
            load("[[suppress]]\nreason = \"all\"\ncheck = \"*\"\n").unwrap_err(),
            "--suppressions s.toml:1:1: this entry would suppress every finding (check = \"*\" matches them all): give a check, account, region, resource or tags that narrows it"
        );
        let e = load("\n\n[[suppress]]\nreason = \"all\"\ncheck = \"*\"\naccount = \"**\"\n")
            .unwrap_err();
        assert!(
            e.starts_with("--suppressions s.toml:3:1: this entry would suppress every finding (check = \"*\", account = \"**\" matches"),
            "{e}"
        );
        // Any other matcher narrows it: every check, but only in one account, is legitimate.
        for narrow in [
            "account = \"1111*\"",
            "region = \"eu-west-1\"",
            "resource = \"arn:aws:ecs:*:*:service/legacy/*\"",
            "tags = { team = \"*\" }",
        ] {
            let text = format!("[[suppress]]\nreason = \"x\"\ncheck = \"*\"\n{narrow}\n");
            assert!(load(&text).is_ok(), "{narrow}");
        }
        assert_eq!(
            load("\n[[suppress]]\nreason = \"x\"\ncheck = \"ECS999\"\n").unwrap_err(),
            "--suppressions s.toml:2:1: check `ECS999` matches no check (`audit checks` lists them)"
        );
        let e = load(
            "[[suppress]]\nreason = \"x\"\ncheck = \"ECS004\"\nexpires = 2027-01-01T10:00:00Z\n",
        )
        .unwrap_err();
        assert!(e.contains("give a date"), "{e}");
        assert!(load("").unwrap().entries.is_empty());
    }

    fn finding(check: &str, resource: &str) -> Finding {
        Finding {
            check: check.into(),
            name: "n".into(),
            severity: checks::Severity::High,
            account: "111122223333".into(),
            region: "us-east-1".into(),
            resource: resource.into(),
            message: "m".into(),
            remediation: "r".into(),
            evidence: vec![],
            fingerprint: format!("{check}{resource}"),
            change: None,
            cost: None,
            owner: None,
        }
    }

    #[test]
    fn entries_suppress_expire_and_report_what_matched_nothing() {
        let s = load(
            r#"
[[suppress]]
check = "ECS004"
resource = "arn:aws:ecs:*:*:service/legacy/*"
reason = "legacy cluster"

[[suppress]]
check = "ECS0*"
tags = { team = "data*" }
reason = "data team accepts"
expires = 2026-11-30

[[suppress]]
check = "ELB001"
reason = "old"
expires = 2026-01-01

[[suppress]]
region = "ap-*"
reason = "nothing there"
"#,
        )
        .unwrap();
        let legacy = "arn:aws:ecs:us-east-1:111122223333:service/legacy/web";
        let data = "arn:aws:ecs:us-east-1:111122223333:service/main/etl";
        let mut inv = Inventory::default();
        inv.resource_tags.insert(
            data.into(),
            [("team".to_string(), "data-eng".to_string())].into(),
        );
        let mut findings = vec![
            finding("ECS004", legacy),
            finding("ECS001", legacy),
            finding("ECS005", data),
            finding("ELB001", data),
        ];
        let r = s.apply(&mut findings, &inv, "2026-11-22");
        let left: Vec<&str> = findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(left, ["ECS001", "ELB001"]);
        let by: Vec<(&str, usize)> = r
            .suppressed
            .iter()
            .map(|s| (s.finding.check.as_str(), s.line))
            .collect();
        assert_eq!(by, [("ECS004", 2), ("ECS005", 7)]);
        assert_eq!(r.expired.iter().map(|e| e.line).collect::<Vec<_>>(), [13]);
        assert_eq!(r.unmatched.iter().map(|e| e.line).collect::<Vec<_>>(), [18]);

        // After its date the data-team entry stops suppressing.
        let mut findings = vec![finding("ECS005", data)];
        let r = s.apply(&mut findings, &inv, "2026-12-01");
        assert_eq!(findings.len(), 1);
        assert_eq!(r.expired.len(), 2);
    }
}
