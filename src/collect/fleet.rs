//! A fleet run's collection: each member account's role assumed, its regions resolved,
//! the account collected like the caller's, then handed to the run's checks and dropped, so
//! memory holds the accounts in flight, not the organization.
//!
//! `--accounts-in-flight` workers take accounts in turn. Once an account is collected, its
//! ECR registries (repositories without their images, scanning, pull-through rules) are
//! kept, small, for the accounts that pull from them; then what its task definitions name
//! is read (images, secrets, keys: `Collector::after_accounts`), in other accounts of the
//! run too, and the account goes to the sink. An account referencing one not yet collected
//! has it collected first, by the same worker: collecting never waits on another account,
//! so no order of accounts can deadlock the run, and each worker holds at most the account
//! it checks and the ones it references.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use checks::model::{
    ecr_image, CallStatus, EcrImageDetail, Inventory, Scope, SecretSource, GLOBAL_REGION,
};
use tokio::sync::{watch, OnceCell};
use tokio::task::JoinError;

use super::{ended, ops, secrets, AccountOutcome, Collector};
use crate::fleet::{Assumed, Target};
use crate::gap::GapCode;
use crate::scratch::Shelf;
use crate::session::Rank;
use crate::session::Session;
use crate::{session, sync};

/// A fleet run: the member accounts and how to reach them.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    pub targets: Vec<Target>,
    pub external_id: Option<String>,
    pub session_name: String,
    /// Every region enabled in each account, rather than `requested`.
    pub all_regions: bool,
    /// The regions asked for (each must be enabled in an account to be audited there).
    pub requested: Vec<String>,
    /// Calls in flight per account.
    pub account_limit: usize,
    /// Accounts collected at once (`--accounts-in-flight`).
    pub accounts_in_flight: usize,
    /// Replay: the role assumptions the recording kept, by account.
    pub recorded: HashMap<String, Assumed>,
}

/// What a fleet run does with each collected account: its checks. It gets the account's
/// whole inventory (with the records it references in other accounts of the run), which is
/// dropped when it returns.
pub type AccountSink = Arc<dyn Fn(&str, Inventory) + Send + Sync>;

/// A fleet run's schedule, and what its accounts share.
pub(super) struct FleetState {
    plan: Arc<FleetPlan>,
    sink: AccountSink,
    /// Accounts no worker has taken yet, in plan order.
    queue: Mutex<VecDeque<Target>>,
    /// Each account of the plan: `true` once its collection ended (its registries, if any,
    /// are then in `registries`).
    collected: HashMap<String, watch::Sender<bool>>,
    /// Accounts collected and not yet checked, for the first free worker.
    unchecked: Mutex<Vec<(String, Inventory)>>,
    /// Each collected account's ECR registries: repositories (without their images),
    /// scanning configurations, pull-through rules, the repositories' tags; on a scratch
    /// file (see `crate::scratch`), read back when an account pulls from them and by the
    /// fleet-wide checks. `None` once `run_fleet` has handed them on.
    registries: Mutex<Option<Registries>>,
    /// Image listings of repositories other accounts pull from, by repository ARN, each
    /// listed once however many accounts pull from it.
    listings: Mutex<HashMap<String, Arc<Listing>>>,
    /// The rank of the next account a worker takes: accounts started earlier go first for
    /// the run's slots (see `http::slots`).
    next_rank: AtomicU64,
}

/// The rank of an account collected because another waits for it: before any other.
const AWAITED: Rank = 0;

/// Marks an account collected when dropped.
struct Done<'a>(&'a watch::Sender<bool>);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// Each account's ECR registries (one inventory of them under its account id).
pub type Registries = Shelf<Inventory>;

/// A repository's images once listed; `None` inside when the listing failed.
type Listing = OnceCell<Option<Vec<EcrImageDetail>>>;

impl Collector {
    /// Collects every account of a fleet, `accounts_in_flight` at a time, under the run-wide
    /// and the per-account limits, and hands each to `sink` once it and the accounts it
    /// references are collected. An account whose role cannot be assumed, and a requested
    /// region an account has not enabled, are coverage gaps of that account. Returns what
    /// outlives the accounts: the run's coverage (in an inventory of nothing else), and
    /// every account's ECR registries, by account.
    pub async fn run_fleet(
        self: &Arc<Self>,
        plan: FleetPlan,
        sink: AccountSink,
    ) -> (Inventory, Registries) {
        let workers = plan.accounts_in_flight.max(1);
        let state = Arc::new(FleetState {
            collected: plan
                .targets
                .iter()
                .map(|t| (t.account.clone(), watch::channel(false).0))
                .collect(),
            queue: Mutex::new(plan.targets.iter().cloned().collect()),
            plan: Arc::new(plan),
            sink,
            unchecked: Mutex::default(),
            registries: Mutex::new(Some(Registries::new("the accounts' ECR registries"))),
            listings: Mutex::default(),
            next_rank: AtomicU64::new(AWAITED + 1),
        });
        assert!(
            self.fleet.set(state.clone()).is_ok(),
            "one fleet run per collector"
        );
        let tasks: Vec<_> = (0..workers)
            .map(|_| tokio::spawn(self.clone().worker()))
            .collect();
        for t in tasks {
            // A panic outside a call (in the checks, say) leaves nothing to trust: the run
            // ends with it, as it would have in one piece.
            if let Err(e) = t.await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        let inv = Inventory {
            coverage: self.coverage(),
            ..Inventory::default()
        };
        let registries = sync::lock(&state.registries)
            .take()
            .expect("handed on once, when the workers are done");
        (inv, registries)
    }

    fn fleet_state(&self) -> Option<&Arc<FleetState>> {
        self.fleet.get()
    }

    /// Checks the accounts collected and not yet checked, else collects the next one,
    /// until none is left.
    async fn worker(self: Arc<Self>) {
        let state = self.fleet_state().expect("set by run_fleet").clone();
        loop {
            let unchecked = sync::lock(&state.unchecked).pop();
            if let Some((account, inv)) = unchecked {
                self.check_account(account, inv).await;
                continue;
            }
            let next = self.dequeue(&state, VecDeque::pop_front);
            match next {
                Some(target) => {
                    let rank = state.next_rank.fetch_add(1, Ordering::Relaxed);
                    self.collect_member(&state, target, rank).await
                }
                None => break,
            }
        }
    }

    /// The account `pick` takes off the queue. Once the last one is taken, the run's slots
    /// go to the latest started account first (see `http::slots`): with no account left to
    /// start, finishing the oldest first frees nothing, and the run ends with the one that
    /// has the most left to do.
    fn dequeue(
        &self,
        state: &FleetState,
        pick: impl FnOnce(&mut VecDeque<Target>) -> Option<Target>,
    ) -> Option<Target> {
        let (taken, last) = {
            let mut queue = sync::lock(&state.queue);
            let taken = pick(&mut queue);
            (taken, queue.is_empty())
        };
        if last {
            self.home.gate.global.serve_latest_first();
        }
        taken
    }

    /// Collects one account, keeps its registries, and leaves it to be checked.
    async fn collect_member(self: &Arc<Self>, state: &FleetState, target: Target, rank: Rank) {
        // Whatever happens here, those waiting for the account are let go.
        let _done = state.collected.get(&target.account).map(Done);
        let c = self.clone();
        let plan = state.plan.clone();
        let owned = target.clone();
        // Its own task, so a panic in it is this account's gap, not the run's end.
        let collected = tokio::spawn(async move { c.member(owned, &plan, rank).await }).await;
        match collected {
            Ok(Some(inv)) => {
                if let Some(shelf) = sync::lock(&state.registries).as_mut() {
                    shelf.put(&target.account, &registries(&inv));
                }
                sync::lock(&state.unchecked).push((target.account.clone(), inv));
            }
            Ok(None) => {}
            Err(e) => self.member_ended(&target, &state.plan, e),
        }
    }

    /// Returns once `account` is collected, if it is an account of this fleet run: at
    /// once when it is, after collecting it here when no worker has taken it yet, else
    /// when the worker collecting it is done.
    pub(crate) async fn ensure_collected(&self, account: &str) {
        let Some(state) = self.fleet_state() else {
            return;
        };
        let Some(done) = state.collected.get(account) else {
            return;
        };
        let queued = self.dequeue(state, |queue| {
            let at = queue.iter().position(|t| t.account == account);
            at.and_then(|i| queue.remove(i))
        });
        if let Some(target) = queued {
            let me = self.me.upgrade().expect("the collector outlives its calls");
            me.collect_member(state, target, AWAITED).await;
        } else {
            let _ = done.subscribe().wait_for(|collected| *collected).await;
        }
    }

    /// One collected account: what it references in other accounts is collected first and
    /// lent to it, then what its task definitions name is read, and it goes to the sink.
    async fn check_account(self: &Arc<Self>, own: String, mut inv: Inventory) {
        let state = self.fleet_state().expect("set by run_fleet").clone();
        let referenced = referenced_accounts(&inv, &own);
        for account in &referenced {
            self.ensure_collected(account).await;
        }
        lend_registries(&state, &mut inv, &referenced);
        self.after_accounts(&mut inv, Some(&own)).await;
        // The coverage of this account, and of those whose records it holds or looked up.
        let mut accounts = referenced;
        accounts.insert(own.clone());
        accounts.extend(inv.kms_key_lookups.iter().map(|k| k.scope.account.clone()));
        inv.coverage = self.coverage_of(&accounts);
        inv.sort();
        (state.sink)(&own, inv);
        self.session(&own).release_retry_quotas();
        release_freed_memory();
    }

    /// A repository's images listed once for every account that pulls from it: `list`
    /// runs for the first, the others get its answer.
    pub(crate) async fn listed_once<F>(
        &self,
        repository_arn: &str,
        list: F,
    ) -> Option<Vec<EcrImageDetail>>
    where
        F: Future<Output = Option<Vec<EcrImageDetail>>>,
    {
        let Some(state) = self.fleet_state() else {
            return list.await;
        };
        let cell = sync::lock(&state.listings)
            .entry(repository_arn.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| list).await.clone()
    }

    /// One account's collection; `None` when its role could not be assumed (a gap).
    async fn member(
        self: Arc<Self>,
        target: Target,
        plan: &FleetPlan,
        rank: Rank,
    ) -> Option<Inventory> {
        let global = Scope::new(&target.account, GLOBAL_REGION);
        let assume = async {
            let _slot = self.home.gate.global.acquire(rank).await;
            self.home
                .assume(
                    &target,
                    plan.external_id.as_deref(),
                    &plan.session_name,
                    plan.recorded.get(&target.account),
                    plan.account_limit,
                    rank,
                )
                .await
        };
        let assumed = tokio::select! {
            biased;
            why = self.stop.wait() => Err(session::AssumeFailure {
                status: CallStatus::Failed,
                error_code: Some(why.code().into()),
                message: format!("{} before the role was assumed", why.describe()),
            }),
            r = assume => r,
        };
        self.progress.tick();
        let session = match assumed {
            Ok(s) => s,
            Err(f) => {
                self.fail(
                    &global,
                    &ops::sts::ASSUME_ROLE,
                    Some(&target.role_arn),
                    f.status,
                    f.error_code.clone(),
                    format!("account not audited: {}", f.message),
                );
                self.outcome(
                    &target,
                    Assumed::Failed {
                        error_code: f.error_code,
                        message: f.message,
                    },
                    Vec::new(),
                );
                return None;
            }
        };
        // Registered before its first call, so the account's calls use its credentials
        // and its limit.
        let session = Arc::new(session);
        sync::write(&self.members).insert(target.account.clone(), session.clone());
        let regions = self.member_regions(&session, plan).await;
        self.outcome(&target, Assumed::Ok, regions.clone());
        Some(self.account(session, regions).await)
    }

    fn outcome(&self, target: &Target, assumed: Assumed, regions: Vec<String>) {
        sync::lock(&self.accounts).push(AccountOutcome {
            account: target.account.clone(),
            name: target.name.clone(),
            role_arn: Some(target.role_arn.clone()),
            assumed: Some(assumed),
            regions,
        });
    }

    /// The regions to audit in a member account: its enabled regions (`--all-regions`), or
    /// the requested ones it has enabled; a requested region it has not enabled is a gap.
    async fn member_regions(&self, session: &Session, plan: &FleetPlan) -> Vec<String> {
        let scope = Scope::new(&session.account, &session.home_region);
        let client = session.ec2(&session.home_region);
        let described = self
            .call(&scope, &ops::ec2::DESCRIBE_REGIONS, None, async {
                client.describe_regions().all_regions(true).send().await
            })
            .await;
        let Some(out) = described else {
            // The gap is recorded; audit what was asked, or what the runner's account has
            // enabled, and let each region's calls say what they can.
            return if plan.all_regions {
                self.home.regions.clone()
            } else {
                plan.requested.clone()
            };
        };
        let known = session::region_statuses(&out);
        let enabled = session::region_enabled;
        if plan.all_regions {
            let partition = checks::model::partition_of(&session.home_region);
            let mut regions: Vec<String> = known
                .into_iter()
                .filter(|(n, s)| enabled(s) && checks::model::partition_of(n) == partition)
                .map(|(n, _)| n)
                .collect();
            regions.sort();
            return regions;
        }
        let mut regions = Vec::new();
        for r in &plan.requested {
            let why = match known.iter().find(|(n, _)| n == r) {
                Some((_, s)) if enabled(s) => {
                    regions.push(r.clone());
                    continue;
                }
                Some((_, s)) => format!(
                    "region {r} is not enabled in account {} (opt-in status: {s}); not audited there",
                    session.account
                ),
                None => format!(
                    "EC2 lists no region {r} in account {}; not audited there",
                    session.account
                ),
            };
            self.fail(
                &Scope::new(&session.account, r),
                &ops::ec2::DESCRIBE_REGIONS,
                Some(r),
                CallStatus::NotAvailable,
                Some(GapCode::RegionNotEnabled.into()),
                why,
            );
        }
        regions
    }

    /// A fleet member's task ended abnormally: each of its regions and IAM are gaps.
    fn member_ended(&self, target: &Target, plan: &FleetPlan, e: JoinError) {
        let ended = ended(e);
        let known = sync::lock(&self.accounts)
            .iter()
            .find(|o| o.account == target.account)
            .map(|o| o.regions.clone());
        let regions = match known {
            Some(r) => r,
            None => {
                // It ended before its regions were known: the ones it would have audited.
                self.outcome(
                    target,
                    Assumed::Failed {
                        error_code: Some(ended.0.into()),
                        message: format!("the account's collection {}", ended.1),
                    },
                    Vec::new(),
                );
                if plan.all_regions {
                    self.home.regions.clone()
                } else {
                    plan.requested.clone()
                }
            }
        };
        for region in regions {
            self.ended_abnormally(&Scope::new(&target.account, &region), "region", &ended);
        }
        self.ended_abnormally(&Scope::new(&target.account, GLOBAL_REGION), "IAM", &ended);
    }
}

/// Hands the memory a checked account's inventory used back to the system. glibc keeps
/// freed memory in its arenas for reuse, and the findings each account leaves behind sit
/// among it, so without this a fleet run's resident memory grows with every account even
/// though what it holds does not.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The other accounts whose records `inv`'s task definitions name: the registries their
/// images are in, the secrets and parameters they inject.
fn referenced_accounts(inv: &Inventory, own: &str) -> BTreeSet<String> {
    let mut accounts: BTreeSet<String> = inv
        .task_definitions
        .iter()
        .flat_map(|td| &td.containers)
        .filter_map(|c| Some(ecr_image(&c.image)?.account.to_string()))
        .collect();
    for source in secrets::injected(inv) {
        if let SecretSource::SecretsManager { scope, .. } | SecretSource::Parameter { scope, .. } =
            source
        {
            accounts.insert(scope.account);
        }
    }
    accounts.remove(own);
    accounts
}

/// What another account may need of this one's registries: its repositories without their
/// images (listed for those who pull), its scanning configurations and pull-through rules,
/// and the repositories' tags (the owners of findings on them).
fn registries(inv: &Inventory) -> Inventory {
    let mut kept = Inventory {
        ecr_repositories: inv
            .ecr_repositories
            .iter()
            .map(|r| checks::model::EcrRepository {
                images: None,
                ..r.clone()
            })
            .collect(),
        ecr_registries: inv.ecr_registries.clone(),
        ecr_pull_through_rules: inv.ecr_pull_through_rules.clone(),
        ..Inventory::default()
    };
    for r in &kept.ecr_repositories {
        if let Some(tags) = inv.resource_tags.get(&r.arn) {
            kept.resource_tags.insert(r.arn.clone(), tags.clone());
        }
    }
    kept
}

/// Puts into `inv` the repositories its images are in in the `referenced` accounts, with the
/// scanning configuration and pull-through rules of their regions: what the image checks
/// judge a pull from another account by.
fn lend_registries(state: &FleetState, inv: &mut Inventory, referenced: &BTreeSet<String>) {
    let pulled: BTreeSet<(String, Scope)> = inv
        .task_definitions
        .iter()
        .flat_map(|td| &td.containers)
        .filter_map(|c| ecr_image(&c.image))
        .filter(|i| referenced.contains(i.account))
        .map(|i| (i.repository_arn(), Scope::new(i.account, i.region)))
        .collect();
    let scopes: BTreeSet<&Scope> = pulled.iter().map(|(_, s)| s).collect();
    // Each account's registries read back once, however many of its regions are pulled from.
    let mut read: Option<(&str, Vec<Inventory>)> = None;
    for scope in scopes {
        if read.as_ref().is_none_or(|(a, _)| *a != scope.account) {
            let kept = sync::lock(&state.registries)
                .as_ref()
                .map(|shelf| shelf.get(&scope.account))
                .unwrap_or_default();
            read = Some((&scope.account, kept));
        }
        let Some((_, kept)) = &read else { continue };
        for theirs in kept {
            lend_scope(inv, theirs, scope, &pulled);
        }
    }
}

/// What `theirs` (an account's kept registries) holds in `scope` that `inv` pulls from.
fn lend_scope(
    inv: &mut Inventory,
    theirs: &Inventory,
    scope: &Scope,
    pulled: &BTreeSet<(String, Scope)>,
) {
    inv.ecr_repositories.extend(
        theirs
            .ecr_repositories
            .iter()
            .filter(|r| r.scope == *scope && pulled.iter().any(|(arn, _)| *arn == r.arn))
            .cloned(),
    );
    inv.ecr_registries.extend(
        theirs
            .ecr_registries
            .iter()
            .filter(|r| r.scope == *scope)
            .cloned(),
    );
    inv.ecr_pull_through_rules.extend(
        theirs
            .ecr_pull_through_rules
            .iter()
            .filter(|r| r.scope == *scope)
            .cloned(),
    );
}
