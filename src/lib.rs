//! awsaudit: the binary's library — session, collector, record/replay transport, report
//! and renderers. The model, graph and checks live in the SDK-free `checks` crate.

pub mod cli;
pub mod collect;
pub mod error;
pub mod gap;
pub mod http;
pub mod output;
pub mod progress;
pub mod render;
pub mod report;
pub mod session;
pub mod stop;
pub mod sync;
pub mod toml_file;
pub mod url_redact;

#[cfg(test)]
mod hostile_input;

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

/// Runs an audit: resolve the session, collect, check, and build the report.
pub async fn audit(
    args: &AuditArgs,
    progress: Progress,
    suppressions: Option<&report::suppress::Suppressions>,
    stop: stop::Stop,
) -> Result<Report, AppError> {
    // A selection that matches nothing is a usage error, found before any AWS call.
    let selected = checks::registry::select(checks::rules::ALL, &args.checks, &args.skip)
        .map_err(AppError::Config)?;
    validate_fleet_flags(args)?;
    let started = Instant::now();
    let started_at = report::now_rfc3339();
    let simulator = args
        .simulate
        .as_deref()
        .map(http::simulate::Simulator::load)
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
    // Collection panics are coverage gaps (collect::Collector::call); one anywhere else
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
    .unwrap_or_else(|panic| Err(AppError::Internal(collect::panic_message(&*panic))));
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
    suppressions: Option<&report::suppress::Suppressions>,
    stop: stop::Stop,
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
        let fleet = is_fleet.then(|| session::fleet::FleetManifest {
            all_regions,
            targets: outcomes
                .iter()
                .filter_map(|o| {
                    Some(session::fleet::RecordedTarget {
                        target: session::fleet::Target {
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
            http::recording::Placed::Beside { partial, kept } => eprintln!(
                "warning: the recording is incomplete ({}): the complete one in {} is kept, and this one is in {}",
                incomplete.unwrap_or_default(),
                kept.display(),
                partial.display()
            ),
            http::recording::Placed::Target(path) => {
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
fn stopped_in_setup(regions: &[String], why: &stop::StopReason) -> checks::model::Inventory {
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
        .filter(|g| !gap::answered(g.error_code.as_deref()))
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
        session::fleet::parse_role_arn(arn)?;
        if !args.accounts.is_empty() {
            return Err(AppError::Config(
                "--accounts goes with --role-name (the role to assume in each); --role-arn names one account's role".into(),
            ));
        }
    }
    if let Some(name) = &args.role_name {
        session::fleet::validate_role_name(name)?;
        if args.accounts.is_empty() && !args.org {
            return Err(AppError::Config(
                "--role-name needs the accounts to audit: --accounts ID,… or --org".into(),
            ));
        }
    }
    for id in &args.accounts {
        session::fleet::validate_account_id(id, "--accounts")?;
    }
    for id in &args.exclude_accounts {
        session::fleet::validate_account_id(id, "--exclude-accounts")?;
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
        session::fleet::validate_session_name(name)?;
    }
    // An external id exported for fleet runs is harmless in a single-account run; only a
    // bad one given to a fleet run is an error.
    if let (true, Some(id)) = (fleet, &args.external_id) {
        session::fleet::validate_external_id(id)?;
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
            let mut targets: Vec<session::fleet::Target> =
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
                let (account, _) = session::fleet::parse_role_arn(arn)?;
                vec![session::fleet::Target {
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
                        .map(|a| session::fleet::Target {
                            account: a.clone(),
                            name: None,
                            role_arn: session::fleet::role_arn(&partition, a, name),
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
    let targets = session::fleet::narrow(targets, &args.exclude_accounts, args.shard);
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
            .unwrap_or_else(session::fleet::default_session_name),
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
