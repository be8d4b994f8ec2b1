//! awsaudit: the binary's library — session, collector, record/replay transport, report
//! and renderers. The model, graph and checks live in the SDK-free `checks` crate.

pub mod aws;
pub mod baseline;
pub mod cli;
pub mod collect;
pub mod error;
pub mod formats;
pub mod interchange;
pub mod progress;
pub mod recording;
pub mod render;
pub mod report;
pub mod stats;
pub mod suppress;
pub mod transport;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use checks::registry::Check;

use crate::aws::{Session, SessionOptions};
use crate::cli::{AuditArgs, Format};
use crate::collect::Collector;
use crate::error::{AppError, Exit};
use crate::progress::Progress;
use crate::recording::{Recorder, Replayer};
use crate::report::{CallStats, Report, RunMeta};
use crate::stats::Stats;
use crate::transport::Mode;

/// Runs an audit: resolve the session, collect, check, and build the report.
pub async fn audit(
    args: &AuditArgs,
    progress: Progress,
    suppressions: Option<&suppress::Suppressions>,
) -> Result<Report, AppError> {
    // A selection that matches nothing is a usage error, found before any AWS call.
    let selected = checks::registry::select(checks::rules::ALL, &args.checks, &args.skip)
        .map_err(AppError::Config)?;
    let started = Instant::now();
    let started_at = report::now_rfc3339();
    let (mode, recorder) = match (&args.record, &args.replay) {
        (_, Some(dir)) => (Mode::Replay(Arc::new(Replayer::load(dir)?)), None),
        (Some(dir), None) => {
            let rec = Arc::new(Recorder::create(dir)?);
            (Mode::Record(rec.clone()), Some(rec))
        }
        (None, None) => (Mode::Live, None),
    };
    let result = audit_with(
        args,
        &selected,
        mode,
        &recorder,
        progress,
        started,
        started_at,
        suppressions,
    )
    .await;
    if let (Err(_), Some(rec)) = (&result, &recorder) {
        rec.abandon();
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn audit_with(
    args: &AuditArgs,
    selected: &[&'static Check],
    mode: Mode,
    recorder: &Option<Arc<Recorder>>,
    progress: Progress,
    started: Instant,
    started_at: String,
    suppressions: Option<&suppress::Suppressions>,
) -> Result<Report, AppError> {
    let mode_name = match mode {
        Mode::Live => "live",
        Mode::Record(_) => "record",
        Mode::Replay(_) => "replay",
    };
    // Date-relative checks judge a replay as of its recording, so it answers the same
    // whenever it is replayed.
    let collected_at = match &mode {
        Mode::Replay(r) => r.manifest.recorded_at.clone(),
        _ => started_at.clone(),
    };
    let stats = Arc::new(Stats::default());
    let session = Session::connect(
        SessionOptions {
            profile: args.profile.clone(),
            regions: args.regions.clone(),
            all_regions: args.all_regions,
            endpoint_url: args.endpoint_url.clone(),
            max_attempts: args.max_attempts,
            mode,
        },
        stats.clone(),
    )
    .await?;
    tracing::info!(
        account = %session.account,
        regions = %session.regions.join(","),
        "auditing"
    );
    let session = Arc::new(session);
    let collector = Collector::new(
        session.clone(),
        usize::from(args.concurrency),
        progress.clone(),
    );
    let mut inventory = collector.run().await;
    inventory.collected_at = Some(collected_at);
    progress.finish();

    let mut outcome = checks::registry::run(&inventory, selected);
    // Expiry is judged on the day the data describes, like every date in the audit.
    let today = inventory
        .collected_at
        .as_deref()
        .and_then(|t| t.get(..10))
        .unwrap_or("9999-12-31")
        .to_string();
    let suppressed = suppressions.map(|s| s.apply(&mut outcome.findings, &inventory, &today));
    let min_severity = args.min_severity.map(checks::Severity::from);
    if let Some(min) = min_severity {
        outcome.findings.retain(|f| f.severity >= min);
    }
    let accounts = vec![session.account.clone()];
    if let Some(rec) = recorder {
        rec.finish(&accounts, &session.regions)?;
    }
    let wall_ms = started.elapsed().as_millis() as u64;
    let mut report = Report::new(
        RunMeta {
            started_at,
            wall_ms,
            mode: mode_name,
            checks: selected.iter().map(|c| c.code.to_string()).collect(),
            min_severity,
            accounts,
            regions: session.regions.clone(),
        },
        &inventory,
        outcome,
        CallStats::from_ops(stats.snapshot(), wall_ms),
    );
    report.suppressions = suppressed;
    report.refresh_summary();
    Ok(report)
}

/// The exit code a finished report calls for.
pub fn exit_for(report: &Report, fail_on: Option<checks::Severity>) -> Exit {
    let failing = match (fail_on, report.max_severity()) {
        (Some(threshold), Some(max)) => max >= threshold,
        _ => false,
    };
    if failing {
        Exit::Findings
    } else if !report.coverage.gaps.is_empty() {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}

/// Renders the report in the requested format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => render::table(report),
        Format::Json => render::json(report),
        Format::Jsonl => formats::jsonl(report),
        Format::Csv => formats::csv(report),
        Format::Markdown => formats::markdown(report),
        Format::Sarif => interchange::sarif(report),
        Format::Asff => interchange::asff(report),
        Format::Ocsf => interchange::ocsf(report),
    }
}

/// Where one rendering of the report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// Pairs each `--format` with where it goes: the `--output`s in order, files under
/// `--output-dir`, or stdout for a single format. Every file destination is checked to be
/// writable before any AWS call; two formats never share a file.
pub fn resolve_outputs(args: &AuditArgs) -> Result<Vec<(Format, Destination)>, AppError> {
    let formats = if args.formats.is_empty() {
        vec![Format::Table]
    } else {
        args.formats.clone()
    };
    let mut seen = std::collections::BTreeSet::new();
    if let Some(f) = formats.iter().find(|f| !seen.insert(**f)) {
        return Err(AppError::Config(format!(
            "--format {} is given twice",
            f.name()
        )));
    }
    let outputs: Vec<(Format, Destination)> = match (&args.output_dir, args.outputs.len()) {
        (Some(dir), _) => {
            if !dir.is_dir() {
                return Err(AppError::Config(format!(
                    "--output-dir {}: {}",
                    dir.display(),
                    if dir.exists() {
                        "is not a directory"
                    } else {
                        "does not exist"
                    }
                )));
            }
            formats
                .iter()
                .map(|f| (*f, Destination::File(dir.join(f.file_name()))))
                .collect()
        }
        (None, 0) if formats.len() == 1 => vec![(formats[0], Destination::Stdout)],
        (None, 0) => {
            return Err(AppError::Config(format!(
            "{} formats need somewhere to go: one --output FILE per --format, or --output-dir DIR",
            formats.len()
        )))
        }
        (None, n) if n == formats.len() => formats
            .iter()
            .zip(&args.outputs)
            .map(|(f, p)| (*f, Destination::File(p.clone())))
            .collect(),
        (None, n) => {
            return Err(AppError::Config(format!(
                "{n} --output for {} --format: give one --output per --format, in the same order",
                formats.len()
            )))
        }
    };
    let mut paths = std::collections::BTreeMap::new();
    for (format, dest) in &outputs {
        if let Destination::File(path) = dest {
            if let Some(other) = paths.insert(normalise(path), *format) {
                return Err(AppError::Config(format!(
                    "--output {}: given for both --format {} and --format {}",
                    path.display(),
                    other.name(),
                    format.name()
                )));
            }
            preflight_output(path)?;
        }
    }
    Ok(outputs)
}

/// An absolute, lexically normalised path (`a/./b`, `a/x/../b` → `a/b`), to tell that two
/// spellings name one file.
fn normalise(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Fails early, before any AWS call, when the report could not be written to `path`.
pub fn preflight_output(path: &Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Err(AppError::Config(format!(
            "--output {}: is a directory; give a file path",
            path.display()
        )));
    }
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(AppError::Config(format!(
            "--output {}: directory {} {what}",
            path.display(),
            dir.display()
        )));
    }
    tempfile::NamedTempFile::new_in(&dir).map_err(|e| {
        AppError::Config(format!(
            "--output {}: cannot write in {}: {e}",
            path.display(),
            dir.display()
        ))
    })?;
    Ok(())
}

/// Writes the report atomically.
pub fn write_output(path: &Path, text: &str) -> Result<(), AppError> {
    recording::write_atomic(path, text.as_bytes())
        .map_err(|e| AppError::Config(format!("could not write the report: {e}")))
}
