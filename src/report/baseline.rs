//! `--baseline`: compare a run with a previous JSON report, finding by fingerprint, so a
//! ticketing integration opens a ticket for each `new` finding and closes one for each
//! `resolved` finding — and never closes one because this run could not look.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use checks::{Change, Finding, Unknown};

use crate::error::AppError;
use crate::report::read::{self, Refused};
use crate::report::suppress::SuppressionReport;
use crate::report::{BaselineSummary, Report, RunMeta, SCHEMA_VERSION};

/// A previous report, read and checked before any AWS call.
pub struct Baseline {
    file: String,
    report: Report,
}

impl Baseline {
    /// Reads a JSON report written by `--format json`. Errors name the file and what is
    /// wrong with it: unreadable, not JSON, not an awsaudit report, another schema version.
    /// The report is streamed from the file (a fleet's findings spilled as they are read),
    /// never held as text or a JSON tree.
    pub fn load(path: &Path) -> Result<Self, AppError> {
        let file = path.display().to_string();
        let open = || {
            std::fs::File::open(path)
                .map(std::io::BufReader::new)
                .map_err(|e| AppError::Config(format!("--baseline {file}: {e}")))
        };
        Self::read(open, &file)
    }

    /// Reads the text of a baseline report named `file` (for its messages).
    pub fn parse(text: &str, file: &str) -> Result<Self, AppError> {
        Self::read(|| Ok(text.as_bytes()), file)
    }

    /// Reads the report `open` gives (twice: its header first, then the whole of it).
    fn read<R: BufRead>(
        open: impl Fn() -> Result<R, AppError>,
        file: &str,
    ) -> Result<Self, AppError> {
        let err = |what: String| AppError::Config(format!("--baseline {file}: {what}"));
        read::header(open()?).map_err(|r| match r {
            Refused::NotJson(e) => err(format!(
                "not JSON ({e}); give a report written with --format json"
            )),
            Refused::Version(v) => err(format!(
                "report schema version {v}; this build reads version {SCHEMA_VERSION}"
            )),
            Refused::NoSchema => err(
                "not an awsaudit JSON report (no schema_version); give a report written with --format json".into(),
            ),
        })?;
        let report: Report =
            serde_json::from_reader(open()?).map_err(|e| err(format!("malformed report: {e}")))?;
        Ok(Baseline {
            file: file.to_string(),
            report,
        })
    }

    /// The start of a comparison of this run's findings, which come in parts (all at once,
    /// or a fleet's block by block).
    pub fn start(&self) -> Comparing {
        Comparing {
            previous: self
                .report
                .findings
                .iter()
                .map(|f| f.fingerprint.clone())
                .collect(),
            current: HashSet::new(),
            new: 0,
            unchanged: 0,
        }
    }

    /// Marks every finding of a part `new` or `unchanged`; with `only_new` keeps only the
    /// new ones.
    pub fn mark(&self, findings: &mut Vec<Finding>, only_new: bool, progress: &mut Comparing) {
        for f in findings.iter_mut() {
            let change = if progress.previous.contains(&f.fingerprint) {
                progress.unchanged += 1;
                Change::Unchanged
            } else {
                progress.new += 1;
                Change::New
            };
            f.change = Some(change);
            progress.current.insert(f.fingerprint.clone());
        }
        if only_new {
            findings.retain(|f| f.change == Some(Change::New));
        }
    }

    /// Once every part is marked: sorts the baseline's other findings into resolved and
    /// unverified. `suppressed` are the findings `--suppressions` moved out: still there,
    /// so never resolved.
    pub fn finish(
        &self,
        mut progress: Comparing,
        suppressed: Option<&SuppressionReport>,
        run: &RunMeta,
        unknowns: &[Unknown],
    ) -> BaselineSummary {
        let current = &mut progress.current;
        current.extend(
            suppressed
                .iter()
                .flat_map(|s| &s.suppressed)
                .map(|s| s.finding.fingerprint.clone()),
        );
        let (mut resolved, mut unverified) = (Vec::new(), Vec::new());
        for f in self.report.findings.iter() {
            if current.contains(&f.fingerprint) {
                continue;
            }
            let mut f = f.into_owned();
            f.change = None;
            if looked_again(run, unknowns, &f) {
                resolved.push(f);
            } else {
                unverified.push(f);
            }
        }
        BaselineSummary {
            file: self.file.clone(),
            started_at: self.report.run.started_at.clone(),
            new: progress.new,
            unchanged: progress.unchanged,
            resolved,
            unverified,
        }
    }
}

/// A comparison with the baseline so far (see [`Baseline::start`]).
pub struct Comparing {
    /// The baseline's fingerprints.
    previous: HashSet<String>,
    /// This run's, suppressed ones aside.
    current: HashSet<String>,
    new: usize,
    unchanged: usize,
}

/// Whether this run looked for `f` again: its check ran, its account and region were
/// audited, nothing kept the check from being evaluated there, and `--min-severity` did
/// not hide it. Only then is its absence a fix.
fn looked_again(run: &RunMeta, unknowns: &[Unknown], f: &Finding) -> bool {
    let check_ran = run.checks.contains(&f.check);
    // In a fleet run an account may be listed but not audited (its role was not assumed),
    // and each account has its own regions: only its own outcome says what was looked at.
    let outcome = run.outcomes.iter().find(|a| a.account == f.account);
    let account_audited = match outcome {
        Some(a) => !a.role_failed(),
        None => run.accounts.contains(&f.account),
    };
    let region_audited = f.region == checks::model::GLOBAL_REGION
        || match outcome {
            Some(a) => a.regions.contains(&f.region),
            None => run.regions.contains(&f.region),
        };
    let evaluated = !unknowns
        .iter()
        .any(|u| u.check == f.check && u.account == f.account && u.region == f.region);
    let shown = run.min_severity.is_none_or(|min| f.severity >= min);
    check_ran && account_audited && region_audited && evaluated && shown
}
