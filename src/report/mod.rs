//! The report: what renderers and sinks read. Its JSON form is versioned
//! ([`SCHEMA_VERSION`]) and documented in the README.

pub mod baseline;
pub mod findings;
pub mod merge;
pub mod owners;
pub mod read;
pub mod suppress;

use std::collections::{BTreeMap, HashMap};

use checks::model::{Answered, CoverageEntry, Inventory};
use checks::{CostKind, Finding, Note, Outcome, Severity, Unknown};
use serde::{Deserialize, Serialize};

use crate::http::stats::OpStats;
use crate::{clock, collect, fleet};
pub use findings::Findings;
use suppress::SuppressionReport;

/// Bumped on any incompatible change to the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub run: RunInfo,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub summary: Summary,
    /// One summary per account: whether it was audited, where, and what was found there.
    #[serde(default)]
    pub per_account: Vec<AccountSummary>,
    pub findings: Findings,
    pub unknowns: Vec<Unknown>,
    /// Remarks about the run as a whole (a check whose reference data is out of date).
    #[serde(default)]
    pub notes: Vec<Note>,
    pub coverage: CoverageReport,
    pub stats: CallStats,
    /// What `--suppressions` did; absent without a suppressions file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressions: Option<SuppressionReport>,
    /// The comparison with `--baseline`; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

/// How this run compares with a previous report (`--baseline`), finding by fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The baseline file, as given.
    pub file: String,
    /// When the baseline run started.
    pub started_at: String,
    /// Findings of this run not in the baseline (before `--only-new`).
    pub new: usize,
    /// Findings of this run also in the baseline.
    pub unchanged: usize,
    /// Baseline findings this run looked for again and did not find: fixed.
    pub resolved: Vec<Finding>,
    /// Baseline findings this run could not look for again (check not run, scope not
    /// audited or not evaluated, below `--min-severity`): neither open nor fixed.
    pub unverified: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub started_at: String,
    pub finished_at: String,
    pub wall_ms: u64,
    /// `live`, `record` or `replay`.
    pub mode: String,
    /// Codes of the checks that ran.
    pub checks: Vec<String>,
    /// Findings below this severity were left out (`--min-severity`); null when none were.
    pub min_severity: Option<Severity>,
    /// True when every collection call succeeded.
    pub complete: bool,
    /// Why the run was ended before its collection finished (`--timeout 10m reached`,
    /// `interrupted by SIGTERM`); absent when it ran to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The slice of the fleet this run audited (`--shard K/N`); absent when unsharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<fleet::Shard>,
    /// The reports `audit merge` combined into this one; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeInfo>,
}

/// What `audit merge` combined.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeInfo {
    /// N of the shards' K/N.
    pub shard_count: u32,
    /// The shard indexes present.
    pub shards: Vec<u32>,
    /// The shard indexes no report was given for.
    pub missing: Vec<u32>,
}

/// Whether an account was audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Every call succeeded.
    Audited,
    /// Audited, but some calls failed: see the coverage gaps of the account.
    Incomplete,
    /// Its role could not be assumed: nothing was collected, nothing is known.
    NotAudited,
}

/// One account of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountSummary {
    pub account: String,
    /// Its name in the organization (`--org` runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: AccountStatus,
    /// The role the run assumed to reach it (fleet runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Why it was not audited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The regions audited in it.
    pub regions: Vec<String>,
    pub findings: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub unknowns: usize,
    pub coverage_gaps: usize,
    /// US dollars a month of waste its findings carry (see [`Summary::waste_monthly_usd`]).
    #[serde(default)]
    pub waste_monthly_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub findings: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub unknowns: usize,
    pub coverage_gaps: usize,
    /// Findings an entry of `--suppressions` moved out of `findings`.
    #[serde(default)]
    pub suppressed: usize,
    /// US dollars a month, at list prices, of the waste the findings carry: the sum of
    /// their costs of kind waste, rounded to the cent. Fix costs are not added up: fixes
    /// are alternatives (an endpoint or a NAT gateway) and often shared by findings.
    #[serde(default)]
    pub waste_monthly_usd: f64,
}

impl Summary {
    fn of<'a>(
        findings: impl IntoIterator<Item = &'a Finding>,
        unknowns: usize,
        coverage_gaps: usize,
    ) -> Self {
        let mut s = Summary {
            findings: 0,
            by_severity: BTreeMap::new(),
            unknowns,
            coverage_gaps,
            suppressed: 0,
            waste_monthly_usd: 0.0,
        };
        for f in findings {
            s.add(f);
        }
        s.waste_monthly_usd = checks::prices::cents(s.waste_monthly_usd);
        s
    }

    /// Counts one more finding (its waste unrounded: round the total once).
    fn add(&mut self, f: &Finding) {
        *self.by_severity.entry(f.severity).or_insert(0) += 1;
        self.findings += 1;
        if let Some(c) = f.cost.as_ref().filter(|c| c.kind == CostKind::Waste) {
            self.waste_monthly_usd += c.monthly_usd;
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Every (account, region, service, operation) that succeeded, in that order.
    pub collected: Answered,
    /// Every call that did not: access denied, not available, failed.
    pub gaps: Vec<CoverageEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallStats {
    pub calls: u64,
    pub retries: u64,
    pub throttles: u64,
    pub wall_ms: u64,
    /// The process's peak resident memory when the report was built (Linux `VmHWM`; null
    /// where the platform does not say).
    pub peak_rss_kb: Option<u64>,
    pub operations: Vec<OperationStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationStats {
    pub service: String,
    pub operation: String,
    pub calls: u64,
    pub retries: u64,
    pub throttles: u64,
}

impl CallStats {
    pub fn from_ops(ops: BTreeMap<(String, String), OpStats>, wall_ms: u64) -> Self {
        let mut s = CallStats {
            wall_ms,
            peak_rss_kb: peak_rss_kb(),
            ..Default::default()
        };
        for ((service, operation), o) in ops {
            s.calls += o.calls;
            s.retries += o.retries;
            s.throttles += o.throttles;
            s.operations.push(OperationStats {
                service,
                operation,
                calls: o.calls,
                retries: o.retries,
                throttles: o.throttles,
            });
        }
        s
    }
}

/// The checks' outcome once judged, in the pipeline's order: the findings `--suppressions`
/// matched moved out, those below `--min-severity` dropped, and the rest compared with
/// `--baseline`.
pub struct Judged {
    /// In report order.
    pub findings: Findings,
    /// The checks' unknowns and notes.
    pub outcome: Outcome,
    pub suppressions: Option<SuppressionReport>,
    pub baseline: Option<BaselineSummary>,
}

/// Everything needed to assemble a report besides the outcome.
pub struct RunMeta {
    pub started_at: String,
    pub wall_ms: u64,
    pub mode: &'static str,
    pub checks: Vec<String>,
    pub min_severity: Option<Severity>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub shard: Option<fleet::Shard>,
    pub outcomes: Vec<collect::AccountOutcome>,
    pub stopped: Option<String>,
}

impl Report {
    /// The report of a run, counted once: everything that changes which findings it holds
    /// happened before, in [`Judged`].
    /// It takes the run's coverage (the rest of `inventory` is not read).
    pub fn new(meta: RunMeta, inventory: Inventory, judged: Judged, stats: CallStats) -> Self {
        let Judged {
            findings,
            outcome,
            suppressions,
            baseline,
        } = judged;
        let (collected, gaps) = inventory.coverage.into_parts();
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "awsaudit".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            run: RunInfo {
                started_at: meta.started_at,
                finished_at: clock::now_rfc3339(),
                wall_ms: meta.wall_ms,
                mode: meta.mode.into(),
                checks: meta.checks,
                min_severity: meta.min_severity,
                complete: gaps.is_empty() && meta.stopped.is_none(),
                stopped: meta.stopped,
                shard: meta.shard,
                merged: None,
            },
            accounts: meta.accounts,
            regions: meta.regions,
            // Counted, with per_account, by count() below.
            summary: Summary::of([], 0, 0),
            per_account: meta
                .outcomes
                .into_iter()
                .map(|o| AccountSummary {
                    account: o.account,
                    name: o.name,
                    status: AccountStatus::Audited,
                    role_arn: o.role_arn,
                    reason: match o.assumed {
                        Some(fleet::Assumed::Failed {
                            error_code,
                            message,
                        }) => Some(format!(
                            "role not assumed ({}): {message}",
                            error_code.as_deref().unwrap_or("error")
                        )),
                        _ => None,
                    },
                    regions: o.regions,
                    findings: 0,
                    by_severity: BTreeMap::new(),
                    unknowns: 0,
                    coverage_gaps: 0,
                    waste_monthly_usd: 0.0,
                })
                .collect(),
            findings,
            unknowns: outcome.unknowns,
            notes: outcome.notes,
            coverage: CoverageReport { collected, gaps },
            stats,
            suppressions,
            baseline,
        };
        report.count();
        report
    }

    /// Counts the summaries, once, as a report is built (here or by a merge).
    fn count(&mut self) {
        // The whole and each account's share, in one pass (a fleet's findings are read back
        // from its scratch file; it has thousands of accounts).
        let mut summary = Summary::of([], self.unknowns.len(), self.coverage.gaps.len());
        let mut findings: HashMap<String, Summary> = HashMap::new();
        for f in self.findings.iter() {
            summary.add(&f);
            match findings.get_mut(f.account.as_str()) {
                Some(s) => s.add(&f),
                None => {
                    let mut s = Summary::of([], 0, 0);
                    s.add(&f);
                    findings.insert(f.account.clone(), s);
                }
            }
        }
        summary.waste_monthly_usd = checks::prices::cents(summary.waste_monthly_usd);
        summary.suppressed = self.suppressions.as_ref().map_or(0, |s| s.suppressed.len());
        self.summary = summary;
        let mut unknowns: HashMap<&str, usize> = HashMap::new();
        for u in &self.unknowns {
            *unknowns.entry(u.account.as_str()).or_default() += 1;
        }
        let mut gaps: HashMap<&str, usize> = HashMap::new();
        for g in &self.coverage.gaps {
            *gaps.entry(g.account.as_str()).or_default() += 1;
        }
        for a in &mut self.per_account {
            let account = a.account.as_str();
            let counts = findings
                .remove(account)
                .unwrap_or_else(|| Summary::of([], 0, 0));
            a.findings = counts.findings;
            a.by_severity = counts.by_severity;
            a.unknowns = unknowns.get(account).copied().unwrap_or(0);
            a.coverage_gaps = gaps.get(account).copied().unwrap_or(0);
            a.waste_monthly_usd = checks::prices::cents(counts.waste_monthly_usd);
            a.status = if a.reason.is_some() {
                AccountStatus::NotAudited
            } else if a.coverage_gaps > 0 {
                AccountStatus::Incomplete
            } else {
                AccountStatus::Audited
            };
        }
    }

    /// The worst severity among the findings (as counted).
    pub fn max_severity(&self) -> Option<Severity> {
        self.summary
            .by_severity
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(s, _)| *s)
            .max()
    }
}

/// Peak resident set size of this process, in KiB (Linux only).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
