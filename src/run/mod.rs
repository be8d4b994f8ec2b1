//! One run, start to end, each stage one call: check every input → session → collect →
//! graph and checks → suppressions → `--min-severity` → baseline → report → render and
//! outputs → webhook → exit code. `main.rs` parses the command line and maps the outcome to
//! the process's exit code; everything else a run does is here, in that order.

mod fleet;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use checks::model::{CallStatus, Coverage, CoverageEntry, EcrPuller, Inventory, GLOBAL_REGION};
use checks::registry::Check;
use checks::{Finding, Outcome, Severity};

use crate::cli::{AuditArgs, Format, OutputArgs};
use crate::collect::{AccountOutcome, Collector, Registries};
use crate::error::{AppError, Exit};
use crate::fleet::{FleetManifest, RecordedTarget, Target};
use crate::http::record::{Placed, Recorder};
use crate::http::replay::Replayer;
use crate::http::simulate::Simulator;
use crate::http::stats::Stats;
use crate::http::transport::Mode;
use crate::output::s3::S3Sink;
use crate::output::webhook::Webhook;
use crate::output::Destination;
use crate::progress::Progress;
use crate::report::baseline::Baseline;
use crate::report::findings::Spiller;
use crate::report::suppress::Suppressions;
use crate::report::{CallStats, Findings, Judged, Report, RunMeta};
use crate::scratch::Shelf;
use crate::session::{Session, SessionOptions};
use crate::stop::{Stop, StopReason};
use crate::{clock, collect, gap, output, render, report, stop, sync};

/// What turns the checks' outcome into the report's findings, read before any AWS call.
#[derive(Default)]
pub struct Judging<'a> {
    pub suppressions: Option<&'a Suppressions>,
    pub baseline: Option<&'a Baseline>,
    /// `--only-new`: keep only the findings the baseline does not have.
    pub only_new: bool,
}

/// Sets up the session, collects, checks, judges the outcome (suppressions,
/// `--min-severity`, baseline) and builds the report (and the recording, with `--record`).
pub async fn collect_and_check(
    args: &AuditArgs,
    progress: Progress,
    judging: &Judging<'_>,
    stop: Stop,
) -> Result<Report, AppError> {
    // A selection that matches nothing is a usage error, found before any AWS call.
    let selected = checks::registry::select(checks::rules::ALL, &args.checks, &args.skip)
        .map_err(AppError::Config)?;
    fleet::validate_fleet_flags(args)?;
    let started = Instant::now();
    let started_at = clock::now_rfc3339();
    let simulator = args.simulate.as_deref().map(Simulator::load).transpose()?;
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
    let run = Run {
        args,
        selected: &selected,
        started,
        started_at,
        judging,
    };
    let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run.pipeline(
        mode,
        recorder.as_deref(),
        progress,
        stop,
    )))
    .await
    .unwrap_or_else(|panic| Err(AppError::Internal(collect::panic_message(&*panic))));
    if let (Err(_), Some(rec)) = (&result, &recorder) {
        rec.abandon();
    }
    result
}

/// One run's settings, fixed before its first call.
struct Run<'a> {
    args: &'a AuditArgs,
    selected: &'a [&'static Check],
    started: Instant,
    started_at: String,
    judging: &'a Judging<'a>,
}

/// What the collection brought back.
struct Collected {
    /// Everything collected; in a fleet run, what outlives the accounts (their ECR
    /// registries) and the run's coverage.
    inventory: Inventory,
    /// A fleet run's accounts, each checked as soon as it was collected.
    checked: Option<Arc<Mutex<Checked>>>,
    /// Every account the run reached for, and how.
    outcomes: Vec<AccountOutcome>,
    is_fleet: bool,
    /// A fleet run over every region each account has enabled.
    all_regions: bool,
    /// The regions of the caller's session.
    home_regions: Vec<String>,
    /// Why the collection was cut short (`--timeout`, a signal), judged as it ended.
    stopped: Option<String>,
}

impl Run<'_> {
    /// The pipeline, each stage one call.
    async fn pipeline(
        &self,
        mode: Mode,
        recorder: Option<&Recorder>,
        progress: Progress,
        stop: Stop,
    ) -> Result<Report, AppError> {
        warn_if_incomplete(&mode);
        let stats = Arc::new(Stats::default());
        let mut collected = self.collect(&mode, stats.clone(), progress, &stop).await?;
        if let Some(rec) = recorder {
            finish_recording(rec, &collected)?;
        }
        let (findings, outcome) = self.conclude(&mut collected)?;
        let wall_ms = self.started.elapsed().as_millis() as u64;
        let meta = self.meta(&mode, &collected, wall_ms);
        let judged = self.judge(findings, outcome, &collected.inventory, &meta)?;
        let stats = CallStats::from_ops(stats.snapshot(), wall_ms);
        let report = Report::new(meta, collected.inventory, judged, stats);
        match report.findings.failure() {
            Some(why) => Err(AppError::Config(why)),
            None => Ok(report),
        }
    }

    /// Session set-up, then every account, region and service it reaches.
    async fn collect(
        &self,
        mode: &Mode,
        stats: Arc<Stats>,
        progress: Progress,
        stop: &Stop,
    ) -> Result<Collected, AppError> {
        let args = self.args;
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
                    fleet: fleet::is_fleet(args, mode),
                },
                stats,
            )
            .await?;
            let plan = fleet::fleet_plan(args, mode, &session).await?;
            Ok::<_, AppError>((session, plan))
        };
        // --timeout and signals bound the set-up too (identity, regions, Organizations): a
        // stop there is reported as such, not waited out against an endpoint that never
        // answers. Any other set-up error ends the run.
        let setup = tokio::select! {
            biased;
            why = stop.wait() => Err(why),
            r = setup => Ok(r),
        };
        let mut collected = match setup {
            Ok(Ok((session, plan))) => {
                log_scope(&session, plan.as_ref());
                let all_regions = plan.as_ref().is_some_and(|p| p.all_regions);
                let is_fleet = plan.is_some();
                let home_regions = session.regions.clone();
                let collector = Collector::new(Arc::new(session), stop.clone(), progress.clone());
                let (inventory, checked) = match plan {
                    Some(plan) => {
                        let checked = Arc::new(Mutex::new(Checked::default()));
                        let sink = self.account_checks(checked.clone(), self.collected_at(mode));
                        let (inventory, registries) = collector.run_fleet(plan, sink).await;
                        sync::lock(&checked).registries = Some(registries);
                        (inventory, Some(checked))
                    }
                    None => (collector.run().await, None),
                };
                Collected {
                    inventory,
                    checked,
                    outcomes: collector.account_outcomes(),
                    is_fleet,
                    all_regions,
                    home_regions,
                    stopped: None,
                }
            }
            Ok(Err(e)) => return Err(e),
            Err(why) => Collected {
                inventory: stopped_in_setup(&args.regions, &why),
                checked: None,
                outcomes: Vec::new(),
                is_fleet: false,
                all_regions: false,
                home_regions: args.regions.clone(),
                stopped: None,
            },
        };
        // Judged as the collection ends: a --timeout that expires while the report is being
        // written does not make a complete collection incomplete.
        collected.stopped = stop.reason().map(|r| r.describe());
        // Date-relative checks judge a replay as of its recording, so it answers the same
        // whenever it is replayed.
        collected.inventory.collected_at = Some(self.collected_at(mode));
        progress.finish();
        Ok(collected)
    }

    /// When the data describes: the moment of a live run, a replay's recording time.
    fn collected_at(&self, mode: &Mode) -> String {
        match mode {
            Mode::Replay(r) => r.manifest.recorded_at.clone(),
            _ => self.started_at.clone(),
        }
    }

    /// What a fleet run does with each account as soon as it is collected: its checks,
    /// its findings' owners (the findings are spilled) and the tags suppressions match on;
    /// everything else of the account is dropped when this returns.
    fn account_checks(
        &self,
        checked: Arc<Mutex<Checked>>,
        collected_at: String,
    ) -> collect::AccountSink {
        let selected: Vec<&'static Check> = self.selected.to_vec();
        let owner_tags = self.args.owner_tags.clone();
        let suppressing = self.judging.suppressions.is_some();
        Arc::new(move |account: &str, mut inventory: Inventory| {
            inventory.collected_at = Some(collected_at.clone());
            let (mut outcome, pulls) = checks::registry::run_account(&inventory, &selected);
            report::owners::assign(&mut outcome.findings, &inventory, &owner_tags);
            let tags = kept_tags(&outcome.findings, &inventory, suppressing);
            let findings = std::mem::take(&mut outcome.findings);
            // Kept until the end of the run: no spare capacity.
            outcome.unknowns.shrink_to_fit();
            // Each registry's checks read the pulls from it: kept by registry account.
            let mut by_registry: BTreeMap<String, Vec<EcrPuller>> = BTreeMap::new();
            for p in pulls {
                by_registry
                    .entry(p.registry_account().to_string())
                    .or_default()
                    .push(p);
            }
            let mut checked = sync::lock(&checked);
            checked
                .findings
                .get_or_insert_with(Spiller::new)
                .add(Some(account), findings);
            let shelf = checked
                .pulls
                .get_or_insert_with(|| Shelf::new("the workloads' ECR pulls"));
            for (registry, pulls) in by_registry {
                shelf.put(&registry, &(account.to_string(), pulls));
            }
            checked.accounts.push(AccountChecked {
                account: account.to_string(),
                outcome,
                tags,
            });
        })
    }

    /// The checks' findings, with their owners, in report order, and their unknowns and
    /// notes: over the whole inventory, or, for a fleet run, the accounts' (their findings
    /// spilled as they were checked) with the fleet-wide checks over the registries every
    /// account kept and the pulls each left.
    fn conclude(&self, collected: &mut Collected) -> Result<(Findings, Outcome), AppError> {
        let owner_tags = &self.args.owner_tags;
        let inventory = &mut collected.inventory;
        let Some(checked) = collected.checked.take() else {
            let mut outcome = checks::registry::run(inventory, self.selected);
            report::owners::assign(&mut outcome.findings, inventory, owner_tags);
            let findings = Findings::from(std::mem::take(&mut outcome.findings));
            return Ok((findings, outcome));
        };
        let suppressing = self.judging.suppressions.is_some();
        let Checked {
            mut accounts,
            findings,
            registries,
            pulls,
        } = std::mem::take(&mut *sync::lock(&checked));
        let mut spiller = findings.unwrap_or_else(Spiller::new);
        // Accounts finish in any order; the report does not depend on it.
        accounts.sort_by(|a, b| a.account.cmp(&b.account));
        let mut outcome = Outcome::default();
        for a in accounts {
            inventory.resource_tags.extend(a.tags);
            outcome.absorb(a.outcome);
        }
        // The fleet-wide checks judge each registry with every pull from it: one registry
        // account at a time, so only one account's registries, pulls and findings are in
        // hand.
        for (shelf, account) in registries
            .iter()
            .flat_map(|r| r.keys().map(move |a| (r, a)))
        {
            let Some(mut registry) = shelf.get(account).into_iter().reduce(|mut a, b| {
                a.merge(b);
                a
            }) else {
                continue;
            };
            registry.ecr_pullers = pulls
                .as_ref()
                .map_or_else(Vec::new, |p| pulls_from(p, account));
            registry.coverage = inventory.coverage.of_accounts(&BTreeSet::from([account]));
            registry.collected_at = inventory.collected_at.clone();
            registry.sort();
            let mut fleet_wide = checks::registry::run_fleet_wide(&registry, self.selected);
            report::owners::assign(&mut fleet_wide.findings, &registry, owner_tags);
            let findings = std::mem::take(&mut fleet_wide.findings);
            inventory
                .resource_tags
                .extend(kept_tags(&findings, &registry, suppressing));
            spiller.add(None, findings);
            outcome.absorb(fleet_wide);
        }
        outcome.unknowns.extend(checks::registry::gap_unknowns(
            &inventory.coverage,
            self.selected,
        ));
        // A registry or pull that did not read back is missing from the judgments above.
        let failed = registries
            .iter()
            .filter_map(Shelf::failure)
            .chain(pulls.iter().filter_map(Shelf::failure))
            .next();
        if let Some(why) = failed {
            return Err(AppError::Config(why));
        }
        outcome.settle();
        Ok((spiller.finish(), outcome))
    }

    /// What the report says about the run itself.
    fn meta(&self, mode: &Mode, collected: &Collected, wall_ms: u64) -> RunMeta {
        let regions = if collected.is_fleet {
            let all: BTreeSet<&String> =
                collected.outcomes.iter().flat_map(|o| &o.regions).collect();
            all.into_iter().cloned().collect()
        } else {
            collected.home_regions.clone()
        };
        RunMeta {
            started_at: self.started_at.clone(),
            wall_ms,
            mode: match mode {
                Mode::Live => "live",
                Mode::Record(_) => "record",
                Mode::Replay(_) => "replay",
            },
            checks: self.selected.iter().map(|c| c.code.to_string()).collect(),
            min_severity: self.min_severity(),
            accounts: collected
                .outcomes
                .iter()
                .map(|o| o.account.clone())
                .collect(),
            regions,
            shard: self.args.shard,
            outcomes: collected.outcomes.clone(),
            stopped: collected.stopped.clone(),
        }
    }

    fn min_severity(&self) -> Option<Severity> {
        self.args.min_severity.map(Severity::from)
    }

    /// Suppressions, then `--min-severity`, then the baseline: what the report holds.
    /// Owners are already assigned, so suppressed findings carry theirs too. A fleet's
    /// findings are judged a block at a time, in report order, as one list would be.
    fn judge(
        &self,
        findings: Findings,
        outcome: Outcome,
        inventory: &Inventory,
        meta: &RunMeta,
    ) -> Result<Judged, AppError> {
        // Expiry is judged on the day the data describes, like every date in the audit.
        let today = inventory
            .collected_at
            .as_deref()
            .and_then(|t| t.get(..10))
            .unwrap_or("9999-12-31");
        let min = self.min_severity();
        let (suppressions, baseline) = (self.judging.suppressions, self.judging.baseline);
        let mut applying = suppressions.map(|s| s.start(today));
        let mut comparing = baseline.map(|b| b.start());
        let findings = if applying.is_none() && min.is_none() && comparing.is_none() {
            findings
        } else {
            findings
                .filter_chunks(|part| {
                    if let (Some(s), Some(progress)) = (suppressions, applying.as_mut()) {
                        s.apply_part(part, |r| inventory.resource_tags.get(r), progress);
                    }
                    if let Some(min) = min {
                        part.retain(|f| f.severity >= min);
                    }
                    if let (Some(b), Some(progress)) = (baseline, comparing.as_mut()) {
                        b.mark(part, self.judging.only_new, progress);
                    }
                })
                .map_err(AppError::Config)?
        };
        let suppressions = suppressions.zip(applying).map(|(s, p)| s.finish(p));
        let baseline = baseline
            .zip(comparing)
            .map(|(b, p)| b.finish(p, suppressions.as_ref(), meta, &outcome.unknowns));
        Ok(Judged {
            findings,
            outcome,
            suppressions,
            baseline,
        })
    }
}

/// What a fleet run keeps of its accounts as each is checked.
#[derive(Default)]
struct Checked {
    accounts: Vec<AccountChecked>,
    /// Every account's findings, spilled (a scratch file made with the first).
    findings: Option<Spiller>,
    /// Every account's ECR registries, by account, for the fleet-wide checks.
    registries: Option<Registries>,
    /// Every workload's pulls from ECR, by the account of the registry pulled from, each
    /// with the account that left it, for the fleet-wide checks.
    pulls: Option<Shelf<(String, Vec<EcrPuller>)>>,
}

/// One fleet account's checks, kept once its inventory is dropped.
struct AccountChecked {
    account: String,
    /// Its unknowns and notes (its findings are spilled, its pulls shelved).
    outcome: Outcome,
    /// The tags of the resources its findings are on, which suppressions match (kept only
    /// with `--suppressions`).
    tags: Tags,
}

/// Every pull from `registry`'s repositories, as `Checked::pulls` keeps them: in the order of
/// the accounts that left them, each account's in its own order, as one list of the accounts
/// in order would give them, whatever order the accounts were checked in.
fn pulls_from(pulls: &Shelf<(String, Vec<EcrPuller>)>, registry: &str) -> Vec<EcrPuller> {
    let mut left = pulls.get(registry);
    left.sort_by(|a, b| a.0.cmp(&b.0));
    left.into_iter().flat_map(|(_, p)| p).collect()
}

/// Tags by resource ARN.
type Tags = BTreeMap<String, BTreeMap<String, String>>;

/// The tags of the resources `findings` are on, which suppressions match: kept past their
/// inventory only when `suppressing`.
fn kept_tags(findings: &[Finding], inventory: &Inventory, suppressing: bool) -> Tags {
    if !suppressing {
        return Tags::new();
    }
    findings
        .iter()
        .filter_map(|f| {
            let tags = inventory.resource_tags.get(&f.resource)?;
            Some((f.resource.clone(), tags.clone()))
        })
        .collect()
}

/// Says so when a replayed recording was cut short.
fn warn_if_incomplete(mode: &Mode) {
    if let Mode::Replay(r) = mode {
        if let Some(why) = &r.manifest.incomplete {
            eprintln!("warning: replaying an incomplete recording ({why}): what it lacks is reported as coverage gaps");
        }
    }
}

fn log_scope(session: &Session, plan: Option<&collect::FleetPlan>) {
    match plan {
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
}

/// Writes the recording's manifest and puts it in place (beside a complete one it would
/// replace, when it is not complete itself).
fn finish_recording(rec: &Recorder, collected: &Collected) -> Result<(), AppError> {
    let fleet = collected.is_fleet.then(|| FleetManifest {
        all_regions: collected.all_regions,
        targets: collected
            .outcomes
            .iter()
            .filter_map(|o| {
                Some(RecordedTarget {
                    target: Target {
                        account: o.account.clone(),
                        name: o.name.clone(),
                        role_arn: o.role_arn.clone()?,
                    },
                    assumed: o.assumed.clone()?,
                })
            })
            .collect(),
    });
    let accounts: Vec<String> = collected
        .outcomes
        .iter()
        .map(|o| o.account.clone())
        .collect();
    let incomplete =
        recording_incomplete(collected.stopped.as_deref(), &collected.inventory.coverage);
    let placed = rec.finish(
        &accounts,
        &collected.home_regions,
        fleet,
        incomplete.clone(),
        clock::now_rfc3339(),
    )?;
    match placed {
        Placed::Beside { partial, kept } => eprintln!(
            "warning: the recording is incomplete ({}): the complete one in {} is kept, and this one is in {}",
            incomplete.unwrap_or_default(),
            kept.display(),
            partial.display()
        ),
        Placed::Target(path) => {
            if let Some(why) = incomplete {
                eprintln!(
                    "warning: the recording in {} is incomplete ({why}); replaying it says so",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// The inventory of a run stopped before its session was set up: nothing, and a gap that
/// says so.
fn stopped_in_setup(regions: &[String], why: &StopReason) -> Inventory {
    let mut inventory = Inventory::default();
    inventory.coverage.push(CoverageEntry {
        account: "unknown".into(),
        region: regions
            .first()
            .cloned()
            .unwrap_or_else(|| GLOBAL_REGION.into()),
        service: "sts".into(),
        operation: "GetCallerIdentity".into(),
        scope: None,
        status: CallStatus::Failed,
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
fn recording_incomplete(stopped: Option<&str>, coverage: &Coverage) -> Option<String> {
    if let Some(why) = stopped {
        return Some(format!("the run was stopped: {why}"));
    }
    let unanswered = coverage
        .failures()
        .filter(|g| !gap::answered(g.error_code.as_deref()))
        .count();
    (unanswered > 0).then(|| format!("{unanswered} call(s) got no answer"))
}

/// The exit code a finished report calls for.
pub fn exit_for(report: &Report, fail_on: Option<Severity>) -> Exit {
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
    // Every bad output path, baseline, webhook or suppressions file is an error before any
    // AWS call.
    let outputs = output::resolve_outputs(&args.output, args.shard)?;
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let webhook = args
        .webhook
        .as_deref()
        .map(|url| {
            Webhook::new(
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
        .map(|p| Suppressions::load(p, checks::rules::ALL))
        .transpose()?;
    let judging = Judging {
        suppressions: suppressions.as_ref(),
        baseline: baseline.as_ref(),
        only_new: args.only_new,
    };

    let runtime = runtime()?;
    // The time limit and the signals cover the whole run, from the first call.
    let stop = Stop::new();
    stop::watch(&runtime, &stop, args.timeout);
    let s3 = runtime.block_on(check_s3_outputs(args, &outputs, &stop))?;
    let report = runtime.block_on(collect_and_check(args, Progress::new(true), &judging, stop))?;
    deliver(&runtime, &report, &outputs, s3.as_ref(), stdout)?;
    let mut exit = exit_for(&report, args.fail_on.threshold());
    if let Some(hook) = &webhook {
        if !notify(&runtime, hook, &report) {
            exit = Exit::Delivery;
        }
    }
    warn_gaps(&report);
    Ok(exit)
}

/// Reaches the S3 buckets of the outputs, within the run's time limit.
async fn check_s3_outputs(
    args: &AuditArgs,
    outputs: &[(Format, Destination)],
    stop: &Stop,
) -> Result<Option<S3Sink>, AppError> {
    tokio::select! {
        biased;
        why = stop.wait() => Err(AppError::Config(format!(
            "{} while checking the S3 output buckets; nothing was audited",
            why.describe()
        ))),
        r = output::connect_s3(
            outputs,
            args.profile.as_deref(),
            args.endpoint_url.as_deref(),
        ) => r,
    }
}

/// Sends the report's events to the webhook; whether every event was delivered.
fn notify(runtime: &tokio::runtime::Runtime, hook: &Webhook, report: &Report) -> bool {
    let d = runtime.block_on(hook.deliver(report));
    for problem in d.problems() {
        eprintln!("error: {problem}");
    }
    tracing::info!(
        batches = d.batches,
        events = d.events,
        from_earlier_runs = d.from_earlier_runs,
        set_aside = d.set_aside.len(),
        "webhook delivered"
    );
    !d.failed()
}

/// `audit merge`: shard reports into one, delivered like a run's.
pub fn merge(
    reports: &[std::path::PathBuf],
    output: &OutputArgs,
    fail_on: Option<Severity>,
    stdout: &mut dyn FnMut(&str) -> Result<(), AppError>,
) -> Result<Exit, AppError> {
    let outputs = output::resolve_outputs(output, None)?;
    let runtime = runtime()?;
    let s3 = runtime.block_on(output::connect_s3(&outputs, None, None))?;
    let report = report::merge::merge(reports)?;
    deliver(&runtime, &report, &outputs, s3.as_ref(), stdout)?;
    warn_gaps(&report);
    Ok(exit_for(&report, fail_on))
}

/// Renders the report to every output: all written, or none.
fn deliver(
    runtime: &tokio::runtime::Runtime,
    report: &Report,
    outputs: &[(Format, Destination)],
    s3: Option<&S3Sink>,
    stdout: &mut dyn FnMut(&str) -> Result<(), AppError>,
) -> Result<(), AppError> {
    runtime.block_on(output::deliver(report, outputs, s3, stdout))
}

/// One line on stderr when the report has coverage gaps.
fn warn_gaps(report: &report::Report) {
    if !report.coverage.gaps.is_empty() {
        eprintln!("warning: {}", render::gap_summary(report));
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tune_malloc();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Config(format!("cannot start the async runtime: {e}")))
}

/// Two malloc arenas rather than glibc's eight per core: every thread of the runtime and
/// its blocking pool otherwise gets an arena of its own, each keeping the memory freed in
/// it, and a fleet run's resident memory grows with them (183 MB instead of 168 MB for 1,000
/// accounts). The run is bound by AWS's answers, not by contention on the allocator.
///
/// And blocks of 1 MiB or more mapped on their own, always. glibc starts at 128 KiB and
/// raises the bar to the size of each mapped block freed (up to 32 MiB), after which the
/// large buffers of a run (recorded answers, the report's blocks) are carved out of the
/// arenas among long-lived small records and hold pages there: the 1,000-account fleet
/// replayed peaked at 85 MB or 69 MB depending only on the length of its directory's name;
/// with the bar fixed, 70 and 68 MB, and no slower (a fixed 128 KiB costs 14% more CPU on a
/// plain replay). `MALLOC_ARENA_MAX` and `MALLOC_MMAP_THRESHOLD_`, when set, still decide.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt takes no pointer; it only sets a limit for arenas made later.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above; it only changes where later allocations are placed.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(registry: &str, workload: &str) -> EcrPuller {
        EcrPuller {
            repository_arn: format!("arn:aws:ecr:us-east-1:{registry}:repository/app"),
            workload_arn: format!("arn:aws:ecs:us-east-1:{workload}"),
            workload: format!("service `{workload}`"),
            image: format!("{registry}.dkr.ecr.us-east-1.amazonaws.com/app:1"),
            container: "app".into(),
            rank: 0,
        }
    }

    #[test]
    fn pulls_from_a_registry_come_back_in_account_order_whatever_order_accounts_finished() {
        let mut pulls = Shelf::new("the test's pulls");
        // Accounts checked in the order 333, 111, 222; 222 also pulls from 999.
        pulls.put("111", &("333".to_string(), vec![pull("111", "c1")]));
        pulls.put(
            "111",
            &(
                "111".to_string(),
                vec![pull("111", "a2"), pull("111", "a1")],
            ),
        );
        pulls.put("999", &("222".to_string(), vec![pull("999", "x")]));
        pulls.put("111", &("222".to_string(), vec![pull("111", "b1")]));
        let workloads = |registry| -> Vec<String> {
            pulls_from(&pulls, registry)
                .into_iter()
                .map(|p| p.workload_arn.rsplit(':').next().unwrap().to_string())
                .collect()
        };
        assert_eq!(workloads("111"), ["a2", "a1", "b1", "c1"]);
        assert_eq!(workloads("999"), ["x"]);
        assert!(workloads("555").is_empty());
        assert_eq!(pulls.failure(), None);
    }
}
