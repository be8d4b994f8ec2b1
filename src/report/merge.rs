//! `audit merge`: the JSON reports of `--shard K/N` runs combined into one report.
//!
//! The shards must be of one partition (the same N), one awsaudit version and one check
//! selection; no shard and no account may appear twice. A shard no report was given for is
//! a coverage gap of the merged report (so it exits 3), never a silent hole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use checks::model::{CallStatus, CoverageEntry};

use crate::error::AppError;
use crate::fleet::{Shard, ShardRange, MAX_SHARDS};
use crate::report::findings::Spiller;
use crate::report::read::{self, Refused};
use crate::report::{
    BaselineSummary, CallStats, CoverageReport, Findings, MergeInfo, OperationStats, Report,
    SuppressionReport, SCHEMA_VERSION,
};

/// A shard report, read from its file without an intermediate JSON tree or its text: the
/// report is what it costs (its findings spilled as they are read).
fn load(path: &Path) -> Result<Report, AppError> {
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| AppError::Config(format!("{}: {e}", path.display())))
    };
    let refused = |why: String| AppError::Config(format!("{}: {why}", path.display()));
    let header = read::header(open()?).map_err(|r| match r {
        Refused::NotJson(e) => refused(format!(
            "not a JSON report ({e}); merge reads reports written with --format json"
        )),
        Refused::Version(v) => refused(format!(
            "report schema version {v}; this build merges version {SCHEMA_VERSION}"
        )),
        Refused::NoSchema => refused("not an awsaudit JSON report (no schema_version)".into()),
    })?;
    check_shard(path, header.run.as_ref().and_then(|r| r.get("shard")))?;
    serde_json::from_reader(open()?)
        .map_err(|e| refused(format!("not a valid awsaudit report: {e}")))
}

/// `run.shard` as `--shard` would accept it. Read before the typed read, so a number past
/// u32 is named as the field it is rather than a serde position, and a count past
/// [`MAX_SHARDS`] never sizes the list of missing shards.
fn check_shard(path: &Path, shard: Option<&serde_json::Value>) -> Result<(), AppError> {
    let shard = match shard {
        None | Some(serde_json::Value::Null) => return Ok(()),
        Some(shard) => shard,
    };
    let bad = |what: String| AppError::Config(format!("{}: {what}", path.display()));
    let number = |field: &str| {
        shard
            .get(field)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| bad(format!("run.shard.{field} is not a whole number")))
    };
    let (index, count) = (number("index")?, number("count")?);
    match Shard::checked(index, count) {
        Ok(_) => Ok(()),
        Err(ShardRange::Count) => Err(bad(format!(
            "run.shard.count is {count}; a fleet has 1 to {MAX_SHARDS} shards"
        ))),
        Err(ShardRange::Index) => Err(bad(format!(
            "run.shard.index is {index}; shard K of {count} counts from 0 to {}",
            count - 1
        ))),
    }
}

/// `total + more`, or an error naming the report and the field whose total would wrap.
fn sum<T>(
    total: T,
    more: T,
    add: fn(T, T) -> Option<T>,
    path: &Path,
    field: &str,
) -> Result<T, AppError> {
    add(total, more).ok_or_else(|| {
        AppError::Config(format!(
            "{}: {field} does not fit in the sum of the shards: not a count awsaudit wrote",
            path.display()
        ))
    })
}

/// Reads, checks and combines the shard reports, one at a time: each shard's findings are
/// moved into the merged report and the rest of it dropped before the next is read, so
/// merging holds about what one run of the whole fleet would.
pub fn merge(paths: &[PathBuf]) -> Result<Report, AppError> {
    let mut merged: Option<(&Path, Report)> = None;
    let mut by_index: BTreeMap<u32, &Path> = BTreeMap::new();
    let mut by_account: BTreeMap<String, &Path> = BTreeMap::new();
    let mut regions = BTreeSet::new();
    let mut ops: BTreeMap<(String, String), OperationStats> = BTreeMap::new();
    let mut stats = CallStats::default();
    // Each shard's findings are spilled as it is read, so only one is in memory at a time.
    let mut findings = Spiller::new();
    for path in paths {
        let mut r = load(path)?;
        if merged.is_none() {
            if r.run.shard.is_none() {
                return Err(not_a_shard(path));
            }
            merged = Some((path.as_path(), base(&r)));
        }
        let (first_path, out) = merged
            .as_mut()
            .map(|(p, out)| (*p, out))
            .expect("set above");
        let count = out.run.merged.as_ref().map_or(0, |m| m.shard_count);
        let shard = r.run.shard.ok_or_else(|| not_a_shard(path))?;
        if shard.count != count {
            return Err(AppError::Config(format!(
                "{} is shard {shard} but {} is of {count} shards: merge the reports of one partition",
                path.display(),
                first_path.display()
            )));
        }
        if r.tool.version != out.tool.version {
            return Err(AppError::Config(format!(
                "{} was written by awsaudit {} and {} by {}: merge reports of one version",
                path.display(),
                r.tool.version,
                first_path.display(),
                out.tool.version
            )));
        }
        if r.run.checks != out.run.checks || r.run.min_severity != out.run.min_severity {
            return Err(AppError::Config(format!(
                "{} and {} ran different checks (or --min-severity): their findings cannot be combined",
                path.display(),
                first_path.display()
            )));
        }
        if let Some(other) = by_index.insert(shard.index, path) {
            return Err(AppError::Config(format!(
                "{} and {} are both shard {shard}",
                other.display(),
                path.display()
            )));
        }
        for a in &r.accounts {
            if let Some(other) = by_account.insert(a.clone(), path) {
                return Err(AppError::Config(format!(
                    "account {a} is in both {} and {}: shards overlap",
                    other.display(),
                    path.display()
                )));
            }
        }
        out.run.started_at = out.run.started_at.clone().min(r.run.started_at.clone());
        out.run.finished_at = out.run.finished_at.clone().max(r.run.finished_at.clone());
        out.run.wall_ms = out.run.wall_ms.max(r.run.wall_ms);
        if r.run.mode != out.run.mode {
            out.run.mode = "replay".into();
        }
        if let Some(why) = &r.run.stopped {
            let line = format!("shard {shard}: {why}");
            out.run.stopped = Some(match out.run.stopped.take() {
                Some(earlier) => format!("{earlier}; {line}"),
                None => line,
            });
        }
        out.accounts.append(&mut r.accounts);
        regions.extend(std::mem::take(&mut r.regions));
        out.per_account.append(&mut r.per_account);
        // A shard's findings are spilled as it is read: each piece goes on as it is.
        let source = format!("{:010}", shard.index);
        let theirs = std::mem::take(&mut r.findings);
        for piece in theirs.chunks() {
            findings.add(Some(&source), piece.into_owned());
        }
        if let Some(why) = theirs.failure() {
            return Err(AppError::Config(format!("{}: {why}", path.display())));
        }
        out.unknowns.append(&mut r.unknowns);
        out.notes.append(&mut r.notes);
        out.coverage.collected.extend(&r.coverage.collected);
        out.coverage.gaps.append(&mut r.coverage.gaps);
        let add = |total, more, field: &str| sum(total, more, u64::checked_add, path, field);
        stats.calls = add(stats.calls, r.stats.calls, "stats.calls")?;
        stats.retries = add(stats.retries, r.stats.retries, "stats.retries")?;
        stats.throttles = add(stats.throttles, r.stats.throttles, "stats.throttles")?;
        stats.wall_ms = stats.wall_ms.max(r.stats.wall_ms);
        stats.peak_rss_kb = stats.peak_rss_kb.max(r.stats.peak_rss_kb);
        for (i, o) in r.stats.operations.iter().enumerate() {
            let e = ops
                .entry((o.service.clone(), o.operation.clone()))
                .or_insert_with(|| OperationStats {
                    service: o.service.clone(),
                    operation: o.operation.clone(),
                    calls: 0,
                    retries: 0,
                    throttles: 0,
                });
            let field = |name: &str| format!("stats.operations[{i}].{name}");
            e.calls = add(e.calls, o.calls, &field("calls"))?;
            e.retries = add(e.retries, o.retries, &field("retries"))?;
            e.throttles = add(e.throttles, o.throttles, &field("throttles"))?;
        }
        merge_suppressions(out, r.suppressions.take());
        merge_baseline(out, r.baseline.take(), path)?;
    }
    let Some((_, mut out)) = merged else {
        return Err(AppError::Config("merge needs at least one report".into()));
    };
    let count = out.run.merged.as_ref().map_or(0, |m| m.shard_count);
    // At most MAX_SHARDS long: every report's count was checked in `load`.
    let missing: Vec<u32> = (0..count).filter(|k| !by_index.contains_key(k)).collect();
    out.run.merged = Some(MergeInfo {
        shard_count: count,
        shards: by_index.keys().copied().collect(),
        missing: missing.clone(),
    });
    stats.operations = ops.into_values().collect();
    out.stats = stats;
    out.accounts.sort();
    out.regions = regions.into_iter().collect();
    out.per_account.sort_by(|a, b| a.account.cmp(&b.account));
    // The order a single run gives.
    out.findings = findings.finish();
    out.unknowns.sort();
    out.notes.sort();
    out.notes.dedup();
    for k in &missing {
        out.coverage.gaps.push(CoverageEntry {
            account: String::new(),
            region: String::new(),
            service: "awsaudit".into(),
            operation: "Shard".into(),
            scope: Some(format!("{k}/{count}")),
            status: CallStatus::Failed,
            error_code: Some("ShardMissing".into()),
            message: Some(format!(
                "no report for shard {k}/{count} was merged: its accounts are not in this report"
            )),
        });
    }
    out.coverage.gaps.sort_by(|a, b| {
        (&a.account, &a.region, &a.service, &a.operation, &a.scope).cmp(&(
            &b.account,
            &b.region,
            &b.service,
            &b.operation,
            &b.scope,
        ))
    });
    out.run.complete = out.coverage.gaps.is_empty() && out.run.stopped.is_none();
    out.count();
    Ok(out)
}

/// The merged report before any shard is added: the first shard's tool, checks and times,
/// nothing of its own, and the partition's shard count.
fn base(first: &Report) -> Report {
    let mut run = first.run.clone();
    run.shard = None;
    run.stopped = None;
    run.merged = Some(MergeInfo {
        shard_count: first.run.shard.map_or(0, |s| s.count),
        shards: Vec::new(),
        missing: Vec::new(),
    });
    Report {
        schema_version: first.schema_version,
        tool: first.tool.clone(),
        run,
        accounts: Vec::new(),
        regions: Vec::new(),
        summary: first.summary.clone(),
        per_account: Vec::new(),
        findings: Findings::default(),
        unknowns: Vec::new(),
        notes: Vec::new(),
        coverage: CoverageReport {
            collected: Default::default(),
            gaps: Vec::new(),
        },
        stats: CallStats::default(),
        suppressions: None,
        baseline: None,
    }
}

fn not_a_shard(path: &Path) -> AppError {
    AppError::Config(format!(
        "{}: not a shard report (it was run without --shard K/N)",
        path.display()
    ))
}

/// Suppressed findings add up; an entry is unmatched only if no shard matched it.
fn merge_suppressions(out: &mut Report, s: Option<SuppressionReport>) {
    let Some(mut s) = s else { return };
    match &mut out.suppressions {
        None => out.suppressions = Some(s),
        Some(m) => {
            m.suppressed.append(&mut s.suppressed);
            m.unmatched.retain(|e| s.unmatched.contains(e));
        }
    }
}

/// New and unchanged counts add up; resolved and unverified findings are each shard's own.
fn merge_baseline(
    out: &mut Report,
    b: Option<BaselineSummary>,
    path: &Path,
) -> Result<(), AppError> {
    let Some(mut b) = b else { return Ok(()) };
    match &mut out.baseline {
        None => out.baseline = Some(b),
        Some(m) => {
            m.new = sum(m.new, b.new, usize::checked_add, path, "baseline.new")?;
            m.unchanged = sum(
                m.unchanged,
                b.unchanged,
                usize::checked_add,
                path,
                "baseline.unchanged",
            )?;
            m.resolved.append(&mut b.resolved);
            m.unverified.append(&mut b.unverified);
        }
    }
    Ok(())
}
