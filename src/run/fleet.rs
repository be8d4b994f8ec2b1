//! Which accounts a run audits: the fleet flags checked before any AWS call, and the plan
//! (targets, shard, regions) a fleet run collects by.

use crate::cli::AuditArgs;
use crate::collect::FleetPlan;
use crate::error::AppError;
use crate::fleet::{self, Target};
use crate::http::transport::Mode;
use crate::session::Session;

/// Whether this run audits a fleet: through roles, or replaying a fleet recording.
pub(super) fn is_fleet(args: &AuditArgs, mode: &Mode) -> bool {
    match mode {
        Mode::Replay(r) => r.manifest.fleet.is_some(),
        _ => args.role_arn.is_some() || args.role_name.is_some(),
    }
}

/// Flag combinations and values checked before any AWS call.
pub(super) fn validate_fleet_flags(args: &AuditArgs) -> Result<(), AppError> {
    let fleet = args.role_arn.is_some() || args.role_name.is_some();
    if let Some(arn) = &args.role_arn {
        fleet::parse_role_arn(arn)?;
        if !args.accounts.is_empty() {
            return Err(AppError::Config(
                "--accounts goes with --role-name (the role to assume in each); --role-arn names one account's role".into(),
            ));
        }
    }
    if let Some(name) = &args.role_name {
        fleet::validate_role_name(name)?;
        if args.accounts.is_empty() && !args.org {
            return Err(AppError::Config(
                "--role-name needs the accounts to audit: --accounts ID,… or --org".into(),
            ));
        }
    }
    for id in &args.accounts {
        fleet::validate_account_id(id, "--accounts")?;
    }
    for id in &args.exclude_accounts {
        fleet::validate_account_id(id, "--exclude-accounts")?;
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
        fleet::validate_session_name(name)?;
    }
    // An external id exported for fleet runs is harmless in a single-account run; only a
    // bad one given to a fleet run is an error.
    if let (true, Some(id)) = (fleet, &args.external_id) {
        fleet::validate_external_id(id)?;
    }
    Ok(())
}

/// The fleet to audit, or `None` for a single-account run.
pub(super) async fn fleet_plan(
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
            let mut targets: Vec<Target> =
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
                let (account, _) = fleet::parse_role_arn(arn)?;
                vec![Target {
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
                        .map(|a| Target {
                            account: a.clone(),
                            name: None,
                            role_arn: fleet::role_arn(&partition, a, name),
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
    let targets = fleet::narrow(targets, &args.exclude_accounts, args.shard);
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
            .unwrap_or_else(fleet::default_session_name),
        all_regions,
        requested: home.regions.clone(),
        account_limit: usize::from(args.account_concurrency),
        accounts_in_flight: args.accounts_in_flight.map_or_else(
            || accounts_to_fill(args.concurrency, args.account_concurrency),
            usize::from,
        ),
        recorded,
    }))
}

/// Accounts collected at once by default: twice as many as it takes to fill `concurrency`
/// slots at `per_account` calls each, so slots an account leaves idle while it waits on a
/// chain of calls are taken by another, and no more (what is in flight is held in memory).
/// Measured on a 100-account synthetic fleet through `--simulate`: 8 accounts in flight
/// (the defaults' value) was the fastest of 4 to 1000, at a third of the memory of all.
fn accounts_to_fill(concurrency: u16, per_account: u16) -> usize {
    2 * usize::from(concurrency).div_ceil(usize::from(per_account.max(1)))
}

#[cfg(test)]
mod tests {
    use super::accounts_to_fill;

    #[test]
    fn accounts_in_flight_fill_the_slots_twice() {
        assert_eq!(accounts_to_fill(64, 16), 8);
        assert_eq!(accounts_to_fill(256, 16), 32);
        assert_eq!(accounts_to_fill(10, 16), 2);
        assert_eq!(accounts_to_fill(1, 1), 2);
    }
}
