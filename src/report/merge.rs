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
use crate::report::{CallStats, MergeInfo, OperationStats, Report, SCHEMA_VERSION};

fn load(path: &Path) -> Result<Report, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Config(format!("{}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        AppError::Config(format!(
            "{}: not a JSON report ({e}); merge reads reports written with --format json",
            path.display()
        ))
    })?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(AppError::Config(format!(
                "{}: report schema version {v}; this build merges version {SCHEMA_VERSION}",
                path.display()
            )))
        }
        None => {
            return Err(AppError::Config(format!(
                "{}: not an awsaudit JSON report (no schema_version)",
                path.display()
            )))
        }
    }
    check_shard(path, &value)?;
    serde_json::from_value(value).map_err(|e| {
        AppError::Config(format!(
            "{}: not a valid awsaudit report: {e}",
            path.display()
        ))
    })
}

/// `run.shard` as `--shard` would accept it. Read from the JSON before the typed read, so
/// a number past u32 is named as the field it is rather than a serde position, and a
/// count past [`MAX_SHARDS`] never sizes the list of missing shards.
fn check_shard(path: &Path, value: &serde_json::Value) -> Result<(), AppError> {
    let shard = match value.get("run").and_then(|run| run.get("shard")) {
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

/// Reads, checks and combines the shard reports.
pub fn merge(paths: &[PathBuf]) -> Result<Report, AppError> {
    let mut shards: Vec<(PathBuf, Report)> = Vec::new();
    for p in paths {
        shards.push((p.clone(), load(p)?));
    }
    let (first_path, first) = shards
        .first()
        .ok_or_else(|| AppError::Config("merge needs at least one report".into()))?;
    let count = match first.run.shard {
        Some(s) => s.count,
        None => return Err(not_a_shard(first_path)),
    };
    let mut by_index: BTreeMap<u32, &Path> = BTreeMap::new();
    let mut by_account: BTreeMap<&str, &Path> = BTreeMap::new();
    for (path, r) in &shards {
        let shard = r.run.shard.ok_or_else(|| not_a_shard(path))?;
        if shard.count != count {
            return Err(AppError::Config(format!(
                "{} is shard {shard} but {} is of {count} shards: merge the reports of one partition",
                path.display(),
                first_path.display()
            )));
        }
        if r.tool.version != first.tool.version {
            return Err(AppError::Config(format!(
                "{} was written by awsaudit {} and {} by {}: merge reports of one version",
                path.display(),
                r.tool.version,
                first_path.display(),
                first.tool.version
            )));
        }
        if r.run.checks != first.run.checks || r.run.min_severity != first.run.min_severity {
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
            if let Some(other) = by_account.insert(a, path) {
                return Err(AppError::Config(format!(
                    "account {a} is in both {} and {}: shards overlap",
                    other.display(),
                    path.display()
                )));
            }
        }
    }
    // At most MAX_SHARDS long: every report's count was checked in `load`.
    let missing: Vec<u32> = (0..count).filter(|k| !by_index.contains_key(k)).collect();
    let present: Vec<u32> = by_index.keys().copied().collect();

    let mut out = first.clone();
    out.run.shard = None;
    out.run.stopped = None;
    out.run.merged = Some(MergeInfo {
        shard_count: count,
        shards: present,
        missing: missing.clone(),
    });
    out.accounts.clear();
    out.per_account.clear();
    out.findings.clear();
    out.unknowns.clear();
    out.notes.clear();
    out.coverage.collected.clear();
    out.coverage.gaps.clear();
    out.suppressions = None;
    out.baseline = None;
    let mut regions = BTreeSet::new();
    let mut ops: BTreeMap<(String, String), OperationStats> = BTreeMap::new();
    let mut stats = CallStats::default();
    for (path, r) in &shards {
        out.run.started_at = out.run.started_at.clone().min(r.run.started_at.clone());
        out.run.finished_at = out.run.finished_at.clone().max(r.run.finished_at.clone());
        out.run.wall_ms = out.run.wall_ms.max(r.run.wall_ms);
        if r.run.mode != out.run.mode {
            out.run.mode = "replay".into();
        }
        if let (Some(why), Some(shard)) = (&r.run.stopped, r.run.shard) {
            let line = format!("shard {shard}: {why}");
            out.run.stopped = Some(match out.run.stopped.take() {
                Some(earlier) => format!("{earlier}; {line}"),
                None => line,
            });
        }
        out.accounts.extend(r.accounts.iter().cloned());
        regions.extend(r.regions.iter().cloned());
        out.per_account.extend(r.per_account.iter().cloned());
        out.findings.extend(r.findings.iter().cloned());
        out.unknowns.extend(r.unknowns.iter().cloned());
        out.notes.extend(r.notes.iter().cloned());
        out.coverage
            .collected
            .extend(r.coverage.collected.iter().cloned());
        out.coverage.gaps.extend(r.coverage.gaps.iter().cloned());
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
        merge_suppressions(&mut out, r);
        merge_baseline(&mut out, r, path)?;
    }
    stats.operations = ops.into_values().collect();
    out.stats = stats;
    out.accounts.sort();
    out.regions = regions.into_iter().collect();
    out.per_account.sort_by(|a, b| a.account.cmp(&b.account));
    // The order a single run gives.
    checks::registry::sort_findings(&mut out.findings);
    out.unknowns.sort();
    out.notes.sort();
    out.notes.dedup();
    out.coverage.collected.sort_by(|a, b| {
        (&a.account, &a.region, &a.service, &a.operation).cmp(&(
            &b.account,
            &b.region,
            &b.service,
            &b.operation,
        ))
    });
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

fn not_a_shard(path: &Path) -> AppError {
    AppError::Config(format!(
        "{}: not a shard report (it was run without --shard K/N)",
        path.display()
    ))
}

/// Suppressed findings add up; an entry is unmatched only if no shard matched it.
fn merge_suppressions(out: &mut Report, r: &Report) {
    let Some(s) = &r.suppressions else { return };
    match &mut out.suppressions {
        None => out.suppressions = Some(s.clone()),
        Some(m) => {
            m.suppressed.extend(s.suppressed.iter().cloned());
            m.unmatched.retain(|e| s.unmatched.contains(e));
        }
    }
}

/// New and unchanged counts add up; resolved and unverified findings are each shard's own.
fn merge_baseline(out: &mut Report, r: &Report, path: &Path) -> Result<(), AppError> {
    let Some(b) = &r.baseline else { return Ok(()) };
    match &mut out.baseline {
        None => out.baseline = Some(b.clone()),
        Some(m) => {
            m.new = sum(m.new, b.new, usize::checked_add, path, "baseline.new")?;
            m.unchanged = sum(
                m.unchanged,
                b.unchanged,
                usize::checked_add,
                path,
                "baseline.unchanged",
            )?;
            m.resolved.extend(b.resolved.iter().cloned());
            m.unverified.extend(b.unverified.iter().cloned());
        }
    }
    Ok(())
}
