//! The landing view's grid: one row per audited (account, region), one column per
//! service family, each cell saying whether the checks found something there, could not
//! evaluate it, or looked and found it clean.

use std::collections::{BTreeMap, BTreeSet};

use checks::model::GLOBAL_REGION;
use checks::{Finding, Severity};

use crate::report::{AccountStatus, Report};

/// The grid's columns: the families check codes begin with.
pub const SERVICES: [&str; 6] = ["ECS", "EKS", "ECR", "ELB", "VPC", "IAM"];

/// The column a check belongs to: its code's letters (`VPC002` → `VPC`).
pub fn service_of_check(code: &str) -> &str {
    let end = code
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(code.len());
    &code[..end]
}

/// The column an AWS API's coverage gap belongs to, when it is one of the grid's.
fn service_of_api(api: &str) -> Option<&'static str> {
    Some(match api {
        "ecs" => "ECS",
        "eks" => "EKS",
        "ecr" => "ECR",
        "elasticloadbalancing" | "elbv2" => "ELB",
        "ec2" => "VPC",
        "iam" => "IAM",
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The account's role could not be assumed: nothing is known.
    NotAudited,
    /// No check of this family ran (`--checks`, `--skip`).
    NotChecked,
    /// A regional family in the global row, or IAM in a regional one, with nothing to say.
    NotApplicable,
    /// Checked, nothing found, nothing left undecided.
    Clean,
    /// Nothing found, but some checks could not decide (coverage gaps, unknowns).
    NotEvaluated { undecided: usize },
    /// Findings, the worst severity, and how many checks could not decide beside them.
    Findings {
        count: usize,
        worst: Severity,
        undecided: usize,
    },
}

pub struct Row {
    pub account: String,
    pub account_name: Option<String>,
    pub region: String,
    pub cells: Vec<Cell>,
    /// Monthly waste of the row's findings, in US dollars.
    pub waste_usd: f64,
}

/// What one (account, region, service) holds: findings, the worst severity, and how many
/// checks or calls could not decide there.
type Tally = (usize, Option<Severity>, usize);

/// The grid of a report whose findings are `findings`.
pub fn grid(report: &Report, findings: &[Finding]) -> Vec<Row> {
    let ran: BTreeSet<&str> = report
        .run
        .checks
        .iter()
        .map(|c| service_of_check(c))
        .collect();
    let mut tally: BTreeMap<(&str, &str, &str), Tally> = BTreeMap::new();
    let mut waste: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for f in findings {
        let t = tally
            .entry((&f.account, &f.region, service_of_check(&f.check)))
            .or_default();
        t.0 += 1;
        t.1 = t.1.max(Some(f.severity));
        if let Some(c) = f
            .cost
            .as_ref()
            .filter(|c| c.kind == checks::CostKind::Waste)
        {
            *waste.entry((&f.account, &f.region)).or_default() += c.monthly_usd;
        }
    }
    for u in &report.unknowns {
        tally
            .entry((&u.account, &u.region, service_of_check(&u.check)))
            .or_default()
            .2 += 1;
    }
    for g in &report.coverage.gaps {
        if let Some(s) = service_of_api(&g.service) {
            tally.entry((&g.account, &g.region, s)).or_default().2 += 1;
        }
    }

    // Every audited account and region, the global row for IAM, and any place a finding or
    // gap names that the account list does not (a merged report's extra region).
    let mut places: BTreeSet<(String, String)> = BTreeSet::new();
    let mut names: BTreeMap<&str, (Option<&str>, AccountStatus)> = BTreeMap::new();
    for a in &report.per_account {
        names.insert(&a.account, (a.name.as_deref(), a.status));
        for r in &a.regions {
            places.insert((a.account.clone(), r.clone()));
        }
        places.insert((a.account.clone(), GLOBAL_REGION.to_string()));
    }
    if report.per_account.is_empty() {
        for a in &report.accounts {
            for r in &report.regions {
                places.insert((a.clone(), r.clone()));
            }
            places.insert((a.clone(), GLOBAL_REGION.to_string()));
        }
    }
    for (a, r, _) in tally.keys() {
        places.insert((a.to_string(), r.to_string()));
    }

    places
        .into_iter()
        .map(|(account, region)| {
            let (name, status) = names
                .get(account.as_str())
                .copied()
                .unwrap_or((None, AccountStatus::Audited));
            let global = region == GLOBAL_REGION;
            let cells = SERVICES
                .iter()
                .map(|&s| {
                    let t = tally.get(&(account.as_str(), region.as_str(), s));
                    if status == AccountStatus::NotAudited {
                        return Cell::NotAudited;
                    }
                    match t {
                        Some(&(count, Some(worst), undecided)) if count > 0 => Cell::Findings {
                            count,
                            worst,
                            undecided,
                        },
                        Some(&(_, _, undecided)) if undecided > 0 => {
                            Cell::NotEvaluated { undecided }
                        }
                        _ if global != (s == "IAM") => Cell::NotApplicable,
                        _ if !ran.contains(s) => Cell::NotChecked,
                        _ => Cell::Clean,
                    }
                })
                .collect();
            let waste_usd = waste
                .get(&(account.as_str(), region.as_str()))
                .copied()
                .unwrap_or(0.0);
            Row {
                account_name: name.map(str::to_string),
                account,
                region,
                cells,
                waste_usd,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_codes_name_their_column() {
        assert_eq!(service_of_check("VPC002"), "VPC");
        assert_eq!(service_of_check("ECS010"), "ECS");
        assert_eq!(service_of_api("elasticloadbalancing"), Some("ELB"));
        assert_eq!(service_of_api("sts"), None);
    }
}
