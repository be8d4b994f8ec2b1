//! One run, start to end, each stage one call: check every input → session → collect →
//! graph and checks → suppressions → `--min-severity` → report → baseline → render and
//! outputs → webhook → exit code. `main.rs` parses the command line and maps the outcome to
//! the process's exit code; everything else a run does is here, in that order.

use std::sync::Arc;
use std::time::Instant;

use checks::registry::Check;

use crate::cli::AuditArgs;
use crate::collect::{Collector, FleetPlan};
use crate::error::{AppError, Exit};
use crate::http::recording::{Recorder, Replayer};
use crate::http::stats::Stats;
use crate::http::transport::Mode;
use crate::progress::Progress;
use crate::report::{CallStats, Report, RunMeta};
use crate::session::{Session, SessionOptions};
use crate::stop::{Stop, StopReason};

/// Sets up the session, collects, checks, applies the suppressions and `--min-severity`, and
/// builds the report (and the recording, with `--record`).
pub async fn collect_and_check(
    args: &AuditArgs,
    progress: Progress,
    suppressions: Option<&crate::report::suppress::Suppressions>,
    stop: crate::stop::Stop,
) -> Result<Report, AppError> {
    // A selection that matches nothing is a usage error, found before any AWS call.
    let selected = checks::registry::select(checks::rules::ALL, &args.checks, &args.skip)
        .map_err(AppError::Config)?;
    validate_fleet_flags(args)?;
    let started = Instant::now();
    let started_at = crate::clock::now_rfc3339();
    let simulator = args
        .simulate
        .as_deref()
        .map(crate::http::simulate::Simulator::load)
        .transpose()?;
    let (mode, recorder) = match (&args.record, &args.replay) {
        (_, Some(dir)) => {
            let mut replayer = Replayer::load(dir)?;
            replayer.simulator = simulator;
            (Mode::Replay(Arc::new(replayer)), None)
        }
        (Some(dir), None) => {
            let rec = Arc::new(Recorder::create(dir)?);
            (Mode::Record(rec.clone()), Some(rec))
        }
        (None, None) => (Mode::Live, None),
    };
    // Collection panics are coverage gaps (crate::collect::Collector::call); one anywhere else
    // (session set-up, checks, the report) leaves nothing trustworthy to report: a clean
    // error, and the recording is not kept.
    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(audit_with(
        args,
        &selected,
        mode,
        &recorder,
        progress,
        started,
        started_at,
        suppressions,
        stop,
    )))
    .await
    .unwrap_or_else(|panic| Err(AppError::Internal(crate::collect::panic_message(&*panic))));
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
    suppressions: Option<&crate::report::suppress::Suppressions>,
    stop: crate::stop::Stop,
) -> Result<Report, AppError> {
    let mode_name = match mode {
        Mode::Live => "live",
        Mode::Record(_) => "record",
        Mode::Replay(_) => "replay",
    };
    if let Mode::Replay(r) = &mode {
        if let Some(why) = &r.manifest.incomplete {
            eprintln!("warning: replaying an incomplete recording ({why}): what it lacks is reported as coverage gaps");
        }
    }
    // Date-relative checks judge a replay as of its recording, so it answers the same
    // whenever it is replayed.
    let collected_at = match &mode {
        Mode::Replay(r) => r.manifest.recorded_at.clone(),
        _ => started_at.clone(),
    };
    let stats = Arc::new(Stats::default());
    let setup = async {
        let session = Session::connect(
            SessionOptions {
                profile: args.profile.clone(),
                regions: args.regions.clone(),
                all_regions: args.all_regions,
                endpoint_url: args.endpoint_url.clone(),
                max_attempts: args.max_attempts,
                concurrency: usize::from(args.concurrency),
                call_timeout: args.call_timeout,
                mode: mode.clone(),
                fleet: is_fleet(args, &mode),
            },
            stats.clone(),
        )
        .await?;
        let plan = fleet_plan(args, &mode, &session).await?;
        Ok::<_, AppError>((session, plan))
    };
    // --timeout and signals bound the set-up too (identity, regions, Organizations): a stop
    // there is reported as such, not waited out against an endpoint that never answers.
    let setup = tokio::select! {
        biased;
        why = stop.wait() => Err(why),
        r = setup => Ok(r?),
    };
    let (mut inventory, outcomes, is_fleet, all_regions, home_regions) = match setup {
        Ok((session, plan)) => {
            match &plan {
                Some(p) => tracing::info!(
                    caller = %session.account,
                    accounts = p.targets.len(),
                    regions = %if p.all_regions { "all enabled".to_string() } else { p.requested.join(",") },
                    "auditing a fleet"
                ),
                None => tracing::info!(
                    account = %session.account,
                    regions = %session.regions.join(","),
                    "auditing"
                ),
            }
            let all_regions = plan.as_ref().is_some_and(|p| p.all_regions);
            let is_fleet = plan.is_some();
            let home_regions = session.regions.clone();
            let collector = Collector::new(Arc::new(session), stop.clone(), progress.clone());
            let inventory = match plan {
                Some(plan) => collector.run_fleet(plan).await,
                None => collector.run().await,
            };
            let outcomes = collector.account_outcomes();
            (inventory, outcomes, is_fleet, all_regions, home_regions)
        }
        Err(why) => (
            stopped_in_setup(&args.regions, &why),
            Vec::new(),
            false,
            false,
            args.regions.clone(),
        ),
    };
    // Whether the collection was cut short, judged as it ends: a --timeout that expires
    // while the report is being written does not make a complete collection incomplete.
    let stopped = stop.reason().map(|r| r.describe());
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
    let accounts: Vec<String> = outcomes.iter().map(|o| o.account.clone()).collect();
    if let Some(rec) = recorder {
        let fleet = is_fleet.then(|| crate::fleet::FleetManifest {
            all_regions,
            targets: outcomes
                .iter()
                .filter_map(|o| {
                    Some(crate::fleet::RecordedTarget {
                        target: crate::fleet::Target {
                            account: o.account.clone(),
                            name: o.name.clone(),
                            role_arn: o.role_arn.clone()?,
                        },
                        assumed: o.assumed.clone()?,
                    })
                })
                .collect(),
        });
        let incomplete = recording_incomplete(stopped.as_deref(), &inventory.coverage);
        match rec.finish(&accounts, &home_regions, fleet, incomplete.clone())? {
            crate::http::recording::Placed::Beside { partial, kept } => eprintln!(
                "warning: the recording is incomplete ({}): the complete one in {} is kept, and this one is in {}",
                incomplete.unwrap_or_default(),
                kept.display(),
                partial.display()
            ),
            crate::http::recording::Placed::Target(path) => {
                if let Some(why) = incomplete {
                    eprintln!(
                        "warning: the recording in {} is incomplete ({why}); replaying it says so",
                        path.display()
                    );
                }
            }
        }
    }
    let regions: Vec<String> = if is_fleet {
        outcomes
            .iter()
            .flat_map(|o| o.regions.iter().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        home_regions
    };
    let wall_ms = started.elapsed().as_millis() as u64;
    let mut report = Report::new(
        RunMeta {
            started_at,
            wall_ms,
            mode: mode_name,
            checks: selected.iter().map(|c| c.code.to_string()).collect(),
            min_severity,
            accounts,
            regions,
            shard: args.shard,
            outcomes,
            stopped,
        },
        &inventory,
        outcome,
        CallStats::from_ops(stats.snapshot(), wall_ms),
    );
    report.suppressions = suppressed;
    report.refresh_summary();
    Ok(report)
}

/// The inventory of a run stopped before its session was set up: nothing, and a gap that
/// says so.
fn stopped_in_setup(regions: &[String], why: &crate::stop::StopReason) -> checks::model::Inventory {
    let mut inventory = checks::model::Inventory::default();
    inventory
        .coverage
        .entries
        .push(checks::model::CoverageEntry {
            account: "unknown".into(),
            region: regions
                .first()
                .cloned()
                .unwrap_or_else(|| checks::model::GLOBAL_REGION.into()),
            service: "sts".into(),
            operation: "GetCallerIdentity".into(),
            scope: None,
            status: checks::model::CallStatus::Failed,
            error_code: Some(why.code().into()),
            message: Some(format!(
            "{} while setting up the session (identity, regions, accounts): nothing was audited",
            why.describe()
        )),
        });
    inventory
}

/// Why a recording of this run would not replay as the run went: it was stopped, or calls
/// ended without an answer from AWS (an answer, even an error, is recorded and replays).
fn recording_incomplete(
    stopped: Option<&str>,
    coverage: &checks::model::Coverage,
) -> Option<String> {
    if let Some(why) = stopped {
        return Some(format!("the run was stopped: {why}"));
    }
    let unanswered = coverage
        .failures()
        .filter(|g| !crate::gap::answered(g.error_code.as_deref()))
        .count();
    (unanswered > 0).then(|| format!("{unanswered} call(s) got no answer"))
}

/// Whether this run audits a fleet: through roles, or replaying a fleet recording.
fn is_fleet(args: &AuditArgs, mode: &Mode) -> bool {
    match mode {
        Mode::Replay(r) => r.manifest.fleet.is_some(),
        _ => args.role_arn.is_some() || args.role_name.is_some(),
    }
}

/// Flag combinations and values checked before any AWS call.
fn validate_fleet_flags(args: &AuditArgs) -> Result<(), AppError> {
    let fleet = args.role_arn.is_some() || args.role_name.is_some();
    if let Some(arn) = &args.role_arn {
        crate::fleet::parse_role_arn(arn)?;
        if !args.accounts.is_empty() {
            return Err(AppError::Config(
                "--accounts goes with --role-name (the role to assume in each); --role-arn names one account's role".into(),
            ));
        }
    }
    if let Some(name) = &args.role_name {
        crate::fleet::validate_role_name(name)?;
        if args.accounts.is_empty() && !args.org {
            return Err(AppError::Config(
                "--role-name needs the accounts to audit: --accounts ID,… or --org".into(),
            ));
        }
    }
    for id in &args.accounts {
        crate::fleet::validate_account_id(id, "--accounts")?;
    }
    for id in &args.exclude_accounts {
        crate::fleet::validate_account_id(id, "--exclude-accounts")?;
    }
    if args.replay.is_none() && !fleet {
        let needs = [
            (!args.accounts.is_empty(), "--accounts"),
            (!args.exclude_accounts.is_empty(), "--exclude-accounts"),
            (args.shard.is_some(), "--shard"),
            (args.session_name.is_some(), "--session-name"),
        ];
        if let Some((_, flag)) = needs.iter().find(|(given, _)| *given) {
            return Err(AppError::Config(format!(
                "{flag} is for fleet runs: add --role-arn ARN, or --role-name NAME with --accounts or --org"
            )));
        }
    }
    if let Some(name) = &args.session_name {
        crate::fleet::validate_session_name(name)?;
    }
    // An external id exported for fleet runs is harmless in a single-account run; only a
    // bad one given to a fleet run is an error.
    if let (true, Some(id)) = (fleet, &args.external_id) {
        crate::fleet::validate_external_id(id)?;
    }
    Ok(())
}

/// The fleet to audit, or `None` for a single-account run.
async fn fleet_plan(
    args: &AuditArgs,
    mode: &Mode,
    home: &Session,
) -> Result<Option<FleetPlan>, AppError> {
    let partition = checks::model::partition_of(&home.home_region).to_string();
    let (targets, recorded, all_regions) = match mode {
        Mode::Replay(r) => {
            let Some(manifest) = &r.manifest.fleet else {
                if !args.accounts.is_empty()
                    || !args.exclude_accounts.is_empty()
                    || args.shard.is_some()
                {
                    return Err(AppError::Config(
                        "--accounts, --exclude-accounts and --shard need a fleet recording (made with --role-arn or --role-name); this one audited a single account".into(),
                    ));
                }
                return Ok(None);
            };
            let mut targets: Vec<crate::fleet::Target> =
                manifest.targets.iter().map(|t| t.target.clone()).collect();
            if !args.accounts.is_empty() {
                if let Some(missing) = args
                    .accounts
                    .iter()
                    .find(|a| !targets.iter().any(|t| &t.account == *a))
                {
                    return Err(AppError::Config(format!(
                        "--accounts: account {missing} is not in the recording (it has: {})",
                        targets
                            .iter()
                            .map(|t| t.account.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                targets.retain(|t| args.accounts.contains(&t.account));
            }
            let recorded = manifest
                .targets
                .iter()
                .map(|t| (t.target.account.clone(), t.assumed.clone()))
                .collect();
            (targets, recorded, manifest.all_regions)
        }
        _ => {
            let targets = if let Some(arn) = &args.role_arn {
                let (account, _) = crate::fleet::parse_role_arn(arn)?;
                vec![crate::fleet::Target {
                    account,
                    name: None,
                    role_arn: arn.clone(),
                }]
            } else if let Some(name) = &args.role_name {
                if args.org {
                    home.organization_accounts(&partition, name).await?
                } else {
                    args.accounts
                        .iter()
                        .map(|a| crate::fleet::Target {
                            account: a.clone(),
                            name: None,
                            role_arn: crate::fleet::role_arn(&partition, a, name),
                        })
                        .collect()
                }
            } else {
                return Ok(None);
            };
            (targets, Default::default(), args.all_regions)
        }
    };
    let before = targets.len();
    let targets = crate::fleet::narrow(targets, &args.exclude_accounts, args.shard);
    if targets.is_empty() && args.shard.is_none() {
        return Err(AppError::Config(format!(
            "no accounts to audit: {before} listed, all excluded by --exclude-accounts"
        )));
    }
    Ok(Some(FleetPlan {
        targets,
        external_id: args.external_id.clone(),
        session_name: args
            .session_name
            .clone()
            .unwrap_or_else(crate::fleet::default_session_name),
        all_regions,
        requested: home.regions.clone(),
        account_limit: usize::from(args.account_concurrency),
        recorded,
    }))
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

/// `audit [OPTIONS]`: the whole run. Every input (outputs, baseline, webhook, suppressions)
/// is checked before any AWS call; the time limit and the signals cover the rest.
pub fn audit(
    args: &AuditArgs,
    stdout: &mut dyn FnMut(&str) -> Result<(), AppError>,
) -> Result<Exit, AppError> {
    // Every bad output path or baseline is an error before any AWS call.
    let outputs = crate::output::resolve_outputs(&args.output, args.shard)?;
    let baseline = args
        .baseline
        .as_deref()
        .map(crate::report::baseline::Baseline::load)
        .transpose()?;
    let webhook = args
        .webhook
        .as_deref()
        .map(|url| {
            crate::output::webhook::Webhook::new(
                url,
                args.webhook_spool.as_deref(),
                args.webhook_attempts,
                std::time::Duration::from_secs(args.webhook_timeout),
            )
        })
        .transpose()?;
    let suppressions = args
        .suppressions
        .as_deref()
        .map(|p| crate::report::suppress::Suppressions::load(p, checks::rules::ALL))
        .transpose()?;
    let runtime = runtime()?;
    // The time limit and the signals cover the whole run, from the first call.
    let stop = Stop::new();
    watch_for_stop(&runtime, &stop, args.timeout);
    let s3 = runtime.block_on(async {
        tokio::select! {
            biased;
            why = stop.wait() => Err(AppError::Config(format!(
                "{} while checking the S3 output buckets; nothing was audited",
                why.describe()
            ))),
            r = crate::output::connect_s3(
                &outputs,
                args.profile.as_deref(),
                args.endpoint_url.as_deref(),
            ) => r,
        }
    })?;
    let mut report = runtime.block_on(collect_and_check(
        args,
        Progress::new(true),
        suppressions.as_ref(),
        stop,
    ))?;
    if let Some(b) = &baseline {
        b.apply(&mut report, args.only_new);
    }
    runtime.block_on(crate::output::deliver(
        &report,
        &outputs,
        s3.as_ref(),
        stdout,
    ))?;
    let mut exit = exit_for(&report, args.fail_on.threshold());
    if let Some(hook) = &webhook {
        let d = runtime.block_on(hook.deliver(&report));
        for problem in d.problems() {
            eprintln!("error: {problem}");
        }
        if d.failed() {
            exit = Exit::Delivery;
        }
        tracing::info!(
            batches = d.batches,
            events = d.events,
            from_earlier_runs = d.from_earlier_runs,
            set_aside = d.set_aside.len(),
            "webhook delivered"
        );
    }
    warn_gaps(&report);
    Ok(exit)
}

/// `audit merge`: shard reports into one, delivered like a run's.
pub fn merge(
    reports: &[std::path::PathBuf],
    output: &crate::cli::OutputArgs,
    fail_on: Option<checks::Severity>,
    stdout: &mut dyn FnMut(&str) -> Result<(), AppError>,
) -> Result<Exit, AppError> {
    let outputs = crate::output::resolve_outputs(output, None)?;
    let runtime = runtime()?;
    let s3 = runtime.block_on(crate::output::connect_s3(&outputs, None, None))?;
    let report = crate::report::merge::merge(reports)?;
    runtime.block_on(crate::output::deliver(
        &report,
        &outputs,
        s3.as_ref(),
        stdout,
    ))?;
    warn_gaps(&report);
    Ok(exit_for(&report, fail_on))
}

/// Ends the collection on `--timeout`, Ctrl-C or SIGTERM, keeping what it has; a second
/// signal exits at once.
fn watch_for_stop(
    runtime: &tokio::runtime::Runtime,
    stop: &Stop,
    timeout: Option<std::time::Duration>,
) {
    if let Some(d) = timeout {
        let stop = stop.clone();
        runtime.spawn(async move {
            tokio::time::sleep(d).await;
            if stop.stop(StopReason::Timeout(d)) {
                eprintln!(
                    "warning: {}: ending the collection and reporting what it has",
                    StopReason::Timeout(d).describe()
                );
            }
        });
    }
    let stop = stop.clone();
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut signals = 0;
        loop {
            #[cfg(unix)]
            let name = tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } "SIGINT" }
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => "SIGTERM",
            };
            #[cfg(not(unix))]
            let name = match tokio::signal::ctrl_c().await {
                Ok(()) => "SIGINT",
                Err(_) => return,
            };
            signals += 1;
            if signals > 1 {
                eprintln!("error: {name} again: exiting without a report");
                std::process::exit(130);
            }
            stop.stop(StopReason::Signal(name));
            eprintln!("warning: {name}: ending the collection and reporting what it has (again to exit at once)");
        }
    });
}

/// One line on stderr when the report has coverage gaps.
fn warn_gaps(report: &crate::report::Report) {
    if !report.coverage.gaps.is_empty() {
        eprintln!("warning: {}", crate::render::gap_summary(report));
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Config(format!("cannot start the async runtime: {e}")))
}
