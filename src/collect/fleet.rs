//! A fleet run's collection: each member account's role assumed, its regions resolved,
//! then the account collected like the caller's, every account at once under the run-wide
//! and per-account limits.

use std::collections::HashMap;
use std::sync::Arc;

use checks::model::{CallStatus, Inventory, Scope, GLOBAL_REGION};
use tokio::task::JoinError;

use super::{ended, ops, AccountOutcome, Collector};
use crate::fleet::{Assumed, Target};
use crate::gap::GapCode;
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

impl Collector {
    /// Inventories every account of a fleet, `accounts_in_flight` at a time, under the
    /// run-wide and the per-account limits: each account's role is assumed, its regions
    /// resolved, then every region and IAM collected. An account whose role cannot be assumed, and a
    /// requested region an account has not enabled, are coverage gaps of that account.
    pub async fn run_fleet(self: &Arc<Self>, plan: FleetPlan) -> Inventory {
        let plan = Arc::new(plan);
        let turns = Arc::new(tokio::sync::Semaphore::new(plan.accounts_in_flight.max(1)));
        let mut tasks = Vec::new();
        for target in plan.targets.clone() {
            let c = self.clone();
            let plan2 = plan.clone();
            let owned = target.clone();
            let turns = turns.clone();
            let task = tokio::spawn(async move {
                // Held until the account's collection ends; a stop while waiting lets the
                // account through to say it was not audited.
                let _turn = turns.acquire_owned().await.expect("semaphore never closed");
                c.member(owned, &plan2).await
            });
            tasks.push((target, task));
        }
        let mut inv = Inventory::default();
        for (target, t) in tasks {
            match t.await {
                Ok(part) => inv.merge(part),
                Err(e) => self.member_ended(&target, &plan, e),
            }
        }
        // After every member: an image in another member's repository is read there.
        self.after_accounts(&mut inv).await;
        inv.coverage.entries = self.coverage_entries();
        inv.sort();
        inv
    }

    async fn member(self: Arc<Self>, target: Target, plan: &FleetPlan) -> Inventory {
        let global = Scope::new(&target.account, GLOBAL_REGION);
        let assume = async {
            let _permit = self
                .home
                .gate
                .global
                .acquire()
                .await
                .expect("semaphore never closed");
            self.home
                .assume(
                    &target,
                    plan.external_id.as_deref(),
                    &plan.session_name,
                    plan.recorded.get(&target.account),
                    plan.account_limit,
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
                return Inventory::default();
            }
        };
        // Registered before its first call, so the account's calls use its credentials
        // and its limit.
        let session = Arc::new(session);
        sync::write(&self.members).insert(target.account.clone(), session.clone());
        let regions = self.member_regions(&session, plan).await;
        self.outcome(&target, Assumed::Ok, regions.clone());
        self.account(session, regions).await
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
