//! The collector: inventories every requested region (and IAM once per account) under one
//! bounded concurrency limit, and records how every (account, region, operation) ended.
//!
//! A failed call is never an empty list: the caller gets `None`, the failure lands in the
//! coverage with its error code and message, and the checks that need the data report
//! *unknown* for that scope.

mod autoscaling;
mod ec2;
mod ecr;
mod ecs;
mod eks;
mod elbv2;
mod fleet;
mod iam;
mod images;
pub mod ops;
mod scheduled;
mod secrets;

pub use fleet::{AccountSink, FleetPlan, Registries};

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use checks::model::{CallStatus, Coverage, CoverageEntry, Inventory, Scope, GLOBAL_REGION};
use futures::FutureExt;
use tokio::task::JoinError;

use crate::fleet::Assumed;
use crate::gap::{classify, GapCode};
use crate::progress::Progress;
use crate::session::Session;
use crate::stop::{Stop, StopReason};
use crate::sync;
use ops::Op;

/// Shared state of one collection run.
pub struct Collector {
    /// The caller's session: the audited account in a single-account run, the runner
    /// that assumes each member account's role in a fleet run.
    pub home: Arc<Session>,
    /// The session of each member account of a fleet run.
    members: RwLock<HashMap<String, Arc<Session>>>,
    /// What happened to each account: its role assumption and the regions audited.
    accounts: Mutex<Vec<AccountOutcome>>,
    stop: Stop,
    /// Every call's outcome so far.
    coverage: Mutex<Coverage>,
    progress: Progress,
    /// Itself, for the work a call deep in one account's collection starts for another
    /// (a fleet account collected because one being checked references it).
    me: Weak<Collector>,
    /// A fleet run's schedule and what accounts share (set by `run_fleet`).
    fleet: OnceLock<Arc<fleet::FleetState>>,
}

/// How one account of the run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountOutcome {
    pub account: String,
    pub name: Option<String>,
    /// The role reached through (fleet runs).
    pub role_arn: Option<String>,
    /// How assuming the role ended (fleet runs).
    pub assumed: Option<Assumed>,
    /// The regions audited in the account.
    pub regions: Vec<String>,
}

impl AccountOutcome {
    /// Whether its role could not be assumed: nothing in it was audited.
    pub fn role_failed(&self) -> bool {
        matches!(self.assumed, Some(Assumed::Failed { .. }))
    }
}

impl Collector {
    pub fn new(home: Arc<Session>, stop: Stop, progress: Progress) -> Arc<Self> {
        Arc::new_cyclic(|me| Collector {
            home,
            members: RwLock::new(HashMap::new()),
            accounts: Mutex::new(Vec::new()),
            stop,
            coverage: Mutex::new(Coverage::default()),
            progress,
            me: me.clone(),
            fleet: OnceLock::new(),
        })
    }

    /// Runs one logical operation (a call, or a whole paginated listing) and records its
    /// outcome. `resource` narrows a failure's scope.
    pub async fn call<T, E, F>(
        &self,
        scope: &Scope,
        op: &Op,
        resource: Option<&str>,
        fut: F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // Pacing and the concurrency limits apply to each HTTP attempt (see
        // http::transport::Gate); a stopped run ends every call still waiting or in flight.
        if let Some(why) = self.stop.reason() {
            self.stopped(scope, op, resource, &why, false);
            return None;
        }
        let result = tokio::select! {
            biased;
            why = self.stop.wait() => {
                self.stopped(scope, op, resource, &why, true);
                return None;
            }
            // A panic in the SDK, the transport or a simulator ends this call only: it is
            // the call's coverage gap, never a region silently missing from the report.
            r = AssertUnwindSafe(fut).catch_unwind() => r,
        };
        self.progress.tick();
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let message = format!("the call panicked: {}", panic_message(&*panic));
                tracing::error!(account = %scope.account, region = %scope.region, "{}: {message}", op.id());
                self.fail(
                    scope,
                    op,
                    resource,
                    CallStatus::Failed,
                    Some(GapCode::Panicked.into()),
                    message,
                );
                return None;
            }
        };
        match result {
            Ok(v) => {
                sync::lock(&self.coverage).answer(
                    &scope.account,
                    &scope.region,
                    op.service,
                    op.name,
                );
                Some(v)
            }
            Err(e) => {
                let (status, error_code, message) = classify(&e);
                self.fail(scope, op, resource, status, error_code, message);
                None
            }
        }
    }

    /// Every page of a listing, as one call: `list` asks with the page size `op` gives
    /// (`None`: AWS's default page).
    pub async fn pages<T, E, F, Fut>(
        &self,
        scope: &Scope,
        op: &Op,
        resource: Option<&str>,
        list: F,
    ) -> Option<Vec<T>>
    where
        F: FnOnce(Option<i32>) -> Fut,
        Fut: Future<Output = Result<Vec<T>, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.call(scope, op, resource, list(op.page())).await
    }

    /// A describe of many items, `op`'s batch size a call, every batch at once: each batch
    /// with its answer (`None` where the call failed: a coverage gap, recorded). The calls
    /// start as the returned futures are polled, so a caller can go on with each batch's
    /// answer as soon as it is back.
    pub fn batches<'a, I, T, E, F, Fut>(
        &'a self,
        scope: &'a Scope,
        op: &'a Op,
        resource: Option<&'a str>,
        items: &'a [I],
        describe: F,
    ) -> impl Iterator<Item = impl Future<Output = (Vec<I>, Option<T>)> + 'a> + 'a
    where
        I: Clone + 'a,
        F: Fn(Vec<I>) -> Fut + 'a,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>> + 'a,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        items.chunks(op.batch_size()).map(move |batch| {
            let fut = describe(batch.to_vec());
            let batch = batch.to_vec();
            async move { (batch, self.call(scope, op, resource, fut).await) }
        })
    }

    /// Records a call the stopped run ended (`in_flight`) or never started.
    fn stopped(
        &self,
        scope: &Scope,
        op: &Op,
        resource: Option<&str>,
        why: &StopReason,
        in_flight: bool,
    ) {
        let what = if in_flight {
            "before the call finished"
        } else {
            "before the call started"
        };
        self.fail(
            scope,
            op,
            resource,
            CallStatus::Failed,
            Some(why.code().into()),
            format!("{} {what}", why.describe()),
        );
    }

    /// Records a failure that is not an SDK call's (a region not enabled, a role not
    /// assumed) as a coverage gap.
    fn fail(
        &self,
        scope: &Scope,
        op: &Op,
        resource: Option<&str>,
        status: CallStatus,
        error_code: Option<String>,
        message: String,
    ) {
        tracing::info!(
            account = %scope.account,
            region = %scope.region,
            "{}{} {status:?}: {message}",
            op.id(),
            resource.map(|r| format!(" ({r})")).unwrap_or_default()
        );
        sync::lock(&self.coverage).push(CoverageEntry {
            account: scope.account.clone(),
            region: scope.region.clone(),
            service: op.service.to_string(),
            operation: op.name.to_string(),
            scope: resource.map(str::to_string),
            status,
            error_code,
            message: Some(message),
        });
    }

    /// The session that reaches `account`: a member's in a fleet run, else the caller's.
    pub fn session(&self, account: &str) -> Arc<Session> {
        sync::read(&self.members)
            .get(account)
            .cloned()
            .unwrap_or_else(|| self.home.clone())
    }

    /// What happened to each account, sorted by account id.
    pub fn account_outcomes(&self) -> Vec<AccountOutcome> {
        let mut v = sync::lock(&self.accounts).clone();
        v.sort_by(|a, b| a.account.cmp(&b.account));
        v
    }

    /// Inventories every region of the caller's account, and IAM once.
    pub async fn run(self: &Arc<Self>) -> Inventory {
        let session = self.home.clone();
        sync::lock(&self.accounts).push(AccountOutcome {
            account: session.account.clone(),
            name: None,
            role_arn: None,
            assumed: None,
            regions: session.regions.clone(),
        });
        let regions = session.regions.clone();
        let mut inv = self.clone().account(session, regions).await;
        self.after_accounts(&mut inv, None).await;
        inv.coverage = self.coverage();
        inv.sort();
        inv
    }

    /// What is read once every region of an account, and every account it references, is
    /// collected, where it is: the images and the secrets task definitions name, the two at
    /// once. `own`: the account `inv` is, in a fleet run.
    pub(crate) async fn after_accounts(&self, inv: &mut Inventory, own: Option<&str>) {
        let (listed, found) =
            tokio::join!(images::collect(self, inv, own), secrets::collect(self, inv));
        images::apply(inv, listed);
        secrets::apply(inv, found);
    }

    /// The (account, region) pairs audited so far: where references can be looked up.
    pub(crate) fn audited_scopes(&self) -> BTreeSet<Scope> {
        sync::lock(&self.accounts)
            .iter()
            .filter(|a| !a.role_failed())
            .flat_map(|a| a.regions.iter().map(|r| Scope::new(&a.account, r)))
            .collect()
    }

    /// Every region of `session`'s account, and IAM once.
    async fn account(self: Arc<Self>, session: Arc<Session>, regions: Vec<String>) -> Inventory {
        let account = session.account.clone();
        // IAM is global; its endpoint is asked in the partition of the first region.
        let iam_region = regions
            .first()
            .cloned()
            .unwrap_or_else(|| session.home_region.clone());
        let mut tasks = Vec::new();
        for region in regions {
            let c = self.clone();
            let scope = Scope::new(&account, &region);
            tasks.push((
                scope.clone(),
                tokio::spawn(async move { c.region(scope).await }),
            ));
        }
        let global = {
            let c = self.clone();
            let scope = Scope::new(&account, GLOBAL_REGION);
            tokio::spawn(async move { iam::collect(&c, &scope, &iam_region).await })
        };
        let mut inv = Inventory::default();
        for (scope, t) in tasks {
            match t.await {
                Ok(part) => inv.merge(part),
                Err(e) => self.ended_abnormally(&scope, "region", &ended(e)),
            }
        }
        match global.await {
            Ok(part) => inv.merge(part),
            Err(e) => {
                let scope = Scope::new(&account, GLOBAL_REGION);
                self.ended_abnormally(&scope, "IAM", &ended(e));
            }
        }
        inv
    }

    async fn region(self: Arc<Self>, scope: Scope) -> Inventory {
        let (ecs, scheduled, scaling, eks, registry, elb, net) = tokio::join!(
            ecs::collect(&self, &scope),
            scheduled::collect(&self, &scope),
            autoscaling::collect(&self, &scope),
            eks::collect(&self, &scope),
            ecr::collect(&self, &scope),
            elbv2::collect(&self, &scope),
            ec2::collect(&self, &scope),
        );
        let mut inv = Inventory::default();
        inv.merge(ecs);
        inv.merge(scheduled);
        inv.merge(scaling);
        inv.merge(eks);
        inv.merge(registry);
        inv.merge(elb);
        inv.merge(net);
        self.resolve_task_definitions(&scope, &mut inv).await;
        inv
    }

    /// Scheduled and standalone tasks name task definitions no service may use: those are
    /// described now (once each), and every reference is rewritten to the revision it
    /// resolved to, so the graph finds it by ARN.
    async fn resolve_task_definitions(&self, scope: &Scope, inv: &mut Inventory) {
        let known: BTreeSet<&str> = inv
            .task_definitions
            .iter()
            .map(|t| t.arn.as_str())
            .collect();
        let wanted: BTreeSet<String> = inv
            .scheduled_tasks
            .iter()
            .map(|t| t.task_definition.as_str())
            .chain(
                inv.standalone_tasks
                    .iter()
                    .map(|t| t.task_definition.as_str()),
            )
            .filter(|r| !r.is_empty() && !known.contains(r))
            .map(str::to_string)
            .collect();
        if wanted.is_empty() {
            return;
        }
        let described = ecs::describe_references(self, scope, &wanted).await;
        for (reference, td) in described {
            for t in inv
                .scheduled_tasks
                .iter_mut()
                .filter(|t| t.task_definition == reference)
            {
                t.task_definition = td.arn.clone();
            }
            for t in inv
                .standalone_tasks
                .iter_mut()
                .filter(|t| t.task_definition == reference)
            {
                t.task_definition = td.arn.clone();
            }
            if !inv.task_definitions.iter().any(|k| k.arn == td.arn) {
                inv.task_definitions.push(td);
            }
        }
    }

    /// A collection task that panicked or was cancelled took everything it had collected
    /// with it: every operation of its scope is a gap, so each check that needs one says
    /// *not evaluated* there, and the run is incomplete (exit 3).
    fn ended_abnormally(&self, scope: &Scope, what: &str, ended: &(GapCode, String)) {
        tracing::error!(account = %scope.account, region = %scope.region, "the {what} collection {}", ended.1);
        let mut coverage = sync::lock(&self.coverage);
        for gap in abnormal_end_gaps(scope, what, ended) {
            coverage.push(gap);
        }
    }

    /// The coverage of the whole run, once it is over: taken, not copied.
    fn coverage(&self) -> Coverage {
        let mut coverage = std::mem::take(&mut *sync::lock(&self.coverage));
        coverage.sort();
        coverage
    }

    /// The coverage of `accounts` so far.
    fn coverage_of(&self, accounts: &BTreeSet<String>) -> Coverage {
        let accounts = accounts.iter().map(String::as_str).collect();
        sync::lock(&self.coverage).of_accounts(&accounts)
    }
}

/// The gap code and a description of how a collection task ended.
fn ended(e: JoinError) -> (GapCode, String) {
    if e.is_panic() {
        let panic = e.into_panic();
        (
            GapCode::Panicked,
            format!("panicked: {}", panic_message(&*panic)),
        )
    } else {
        (GapCode::Cancelled, "was cancelled".into())
    }
}

/// What a panic said.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The gaps of a collection task of `scope` that ended abnormally: one per operation it
/// owned.
fn abnormal_end_gaps(
    scope: &Scope,
    what: &str,
    (code, why): &(GapCode, String),
) -> Vec<CoverageEntry> {
    owned_operations(&scope.region)
        .into_iter()
        .map(|op| {
            let (service, operation) = op.split_once(':').unwrap_or(("", op));
            CoverageEntry {
                account: scope.account.clone(),
                region: scope.region.clone(),
                service: service.into(),
                operation: operation.into(),
                scope: None,
                status: CallStatus::Failed,
                error_code: Some((*code).into()),
                message: Some(format!(
                    "the {what} collection {why}; nothing it collected is reported"
                )),
            }
        })
        .collect()
}

/// Every operation whose data a collection task of `region` owns: what any check needs
/// from IAM for the account-wide scope, everything else for a region.
fn owned_operations(region: &str) -> Vec<&'static str> {
    let global = region == GLOBAL_REGION;
    let mut ops: Vec<&'static str> = checks::rules::ALL
        .iter()
        .flat_map(|c| c.needs())
        .filter(|op| op.starts_with("iam:") == global)
        .collect();
    ops.sort_unstable();
    ops.dedup();
    ops
}

/// A tag list as a map (entries without a key are dropped; a missing value is empty).
pub fn tag_map<'a>(
    tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> std::collections::BTreeMap<String, String> {
    tags.into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

/// Formats an SDK timestamp as RFC 3339.
pub fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_region_task_that_panics_leaves_every_check_of_the_region_not_evaluated() {
        let e = tokio::spawn(async { panic!("boom in a collector") })
            .await
            .unwrap_err();
        let ended = ended(e);
        assert_eq!(ended.0, GapCode::Panicked);
        assert!(ended.1.contains("boom in a collector"), "{}", ended.1);
        let scope = Scope::new("123456789012", "us-east-1");
        let mut inv = Inventory::default();
        let mut gaps = abnormal_end_gaps(&scope, "region", &ended);
        gaps.extend(abnormal_end_gaps(
            &Scope::new("123456789012", GLOBAL_REGION),
            "IAM",
            &ended,
        ));
        inv.coverage = Coverage::from_parts(Default::default(), gaps);
        let outcome = checks::registry::run(&inv, checks::rules::ALL);
        // Every check that needs anything says it could not decide, in the scope lost.
        for check in checks::rules::ALL.iter().filter(|c| !c.needs().is_empty()) {
            assert!(
                outcome.unknowns.iter().any(|u| u.check == check.code),
                "{} is silent about the panicked region",
                check.code
            );
        }
        let regional = owned_operations("us-east-1");
        assert!(regional.contains(&"ecs:DescribeServices"));
        assert!(!regional.iter().any(|op| op.starts_with("iam:")));
        assert!(owned_operations(GLOBAL_REGION)
            .iter()
            .all(|op| op.starts_with("iam:")));
    }

    #[tokio::test]
    async fn a_cancelled_task_is_named_as_cancelled() {
        let t = tokio::spawn(std::future::pending::<()>());
        t.abort();
        let ended = ended(t.await.unwrap_err());
        assert_eq!(ended.0, GapCode::Cancelled);
    }
}
