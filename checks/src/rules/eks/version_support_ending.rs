//! EKS005: an EKS cluster on a Kubernetes version past, or about to leave, standard support.
//!
//! The support dates are data, not code: the EKS calendar ([`crate::eks_calendar`], read
//! from `checks/data/eks-kubernetes-versions.json`), dated, with its source. Dates are judged against the day the inventory describes
//! ([`Ctx::as_of`]), never the wall clock, so a replayed recording always gives the same
//! answer.

use crate::date::{days_from_civil, format_date, Date};
use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::eks_calendar::{self, label, parse_minor, Calendar, Lookup, VersionDates};
use crate::finding::{Cost, Evidence, Severity};
use crate::model::EksCluster;
use crate::prices::PriceTable;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::idle_cluster;

/// How close to the end of standard support a cluster is reported (medium).
const WARN_DAYS: i64 = 90;
/// A calendar older than this (relative to the inventory) gets a note in the report.
const STALE_AFTER_DAYS: i64 = 183;
/// The control-plane price in extended support, all in (standard support is $0.10), USD/hour.
const EXTENDED_USD_PER_HOUR: f64 = 0.60;
const STANDARD_USD_PER_HOUR: f64 = 0.10;
/// AWS's billing month.
const HOURS_PER_MONTH: f64 = 730.0;

declare_check! {
    /// ## What it finds
    ///
    /// EKS clusters whose Kubernetes version is:
    ///
    /// - past the end of extended support (critical): EKS will upgrade the control plane on
    ///   its own schedule;
    /// - past the end of standard support (high): the control plane is billed at the
    ///   extended-support rate;
    /// - within 90 days of the end of standard support (medium).
    ///
    /// Dates come from the EKS release calendar bundled with awsaudit
    /// (`checks/data/eks-kubernetes-versions.json`, dated) and are compared with the day the
    /// inventory was collected. A version the calendar does not list is reported as not
    /// evaluated, never as fine; when the calendar is more than six months older than the
    /// inventory, the report carries a note asking for it to be updated.
    ///
    /// ## Why it matters
    ///
    /// Each Kubernetes minor version gets 14 months of standard support on EKS, then 12 months
    /// of extended support. In extended support the control plane costs $0.60 per hour
    /// instead of $0.10 (about $438 instead of $73 per month, per cluster), unless the
    /// cluster's upgrade policy is `STANDARD`, in which case EKS upgrades it as soon as
    /// standard support ends. Once extended support ends, EKS upgrades the control plane
    /// itself, at a time it does not announce: APIs removed in the next version stop working
    /// for whatever still uses them, and nodes, add-ons and Fargate pods stay behind on the
    /// old version. Upgrades happen one minor version at a time, so the further behind a
    /// cluster falls, the longer the way back.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER \
    ///   --query 'cluster.{version:version,upgradePolicy:upgradePolicy.supportType}'
    /// aws eks describe-cluster-versions --cluster-versions VERSION \
    ///   --query 'clusterVersions[].{status:versionStatus,endOfStandard:endOfStandardSupportDate,endOfExtended:endOfExtendedSupportDate}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Upgrade the control plane one minor version at a time until it is on a version in
    /// standard support, then upgrade nodegroups, self-managed nodes and add-ons to match:
    ///
    /// ```sh
    /// aws eks update-cluster-version --name CLUSTER --kubernetes-version NEXT_VERSION
    /// aws eks update-nodegroup-version --cluster-name CLUSTER --nodegroup-name NODEGROUP
    /// ```
    ///
    /// Check the cluster insights (`aws eks list-insights --cluster-name CLUSTER`) for
    /// deprecated APIs before each step. Past the end of standard support the finding's cost
    /// is what the upgrade saves: the $0.50 an hour extended support adds to the $0.10
    /// standard rate (about $365 a month per cluster, at list prices). An idle cluster
    /// carries no cost here when EKS001 runs too: deleting it saves the whole control
    /// plane, and its EKS001 finding counts that. To keep the calendar current, update
    /// `checks/data/eks-kubernetes-versions.json` from the AWS release calendar.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html
    /// - https://aws.amazon.com/eks/pricing/
    pub static EKS005 = {
        code: "EKS005",
        name: "version-support-ending",
        severity: Severity::Critical,
        lower: [Severity::High, Severity::Medium],
        summary: "EKS cluster on a Kubernetes version past or near the end of standard support",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        controls: [
        fsbp("EKS.2").partial(
            "EKS.2 compares the version with a fixed oldest supported version Security Hub \
             sets; EKS005 follows EKS's release calendar, standard and extended support",
        ),
        config("eks-cluster-supported-version").partial(
            "the rule compares with its oldestVersionSupported parameter",
        ),
        config("eks-cluster-oldest-supported-version").partial(
            "the rule fails clusters on the version of its oldestVersionSupported \
             parameter; EKS005 dates the end of support from EKS's calendar",
        ),
        prowler("eks_cluster_uses_a_supported_version").partial(
            "Prowler compares with its eks_cluster_oldest_version_supported setting",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let clusters: Vec<&EksCluster> = ctx
        .inventory
        .eks_clusters
        .iter()
        .filter(|c| !c.status.eq_ignore_ascii_case("DELETING"))
        .collect();
    if clusters.is_empty() {
        return;
    }
    let calendar = Calendar::bundled();
    let Some(today) = ctx.as_of() else {
        for c in clusters {
            out.unknown(
                &c.scope,
                Some(&c.arn),
                format!(
                    "the inventory does not say when it was collected, so the support dates of cluster `{}` cannot be judged",
                    c.name
                ),
            );
        }
        return;
    };
    let today_n = days_from_civil(today);
    if today_n - days_from_civil(calendar.as_of) > STALE_AFTER_DAYS {
        out.note(format!(
            "the Kubernetes version calendar bundled with this build is dated {}, more than six months before this inventory was collected ({}): EKS005 may not know versions released since, or dates AWS changed; update {} from {} (or use a newer awsaudit)",
            format_date(calendar.as_of),
            format_date(today),
            eks_calendar::PATH,
            calendar.source
        ));
    }
    for cluster in clusters {
        // One problem, one figure: an idle cluster's premium is counted by EKS001, whose
        // fix (deleting it) saves it along with the rest of the control plane.
        let idle = ctx.runs("EKS001") && idle_cluster(ctx, cluster);
        evaluate(calendar, cluster, today, idle, out);
    }
}

/// The extended-support premium a cluster past standard support pays, unless it is idle.
fn premium(cluster: &EksCluster, version: &str, idle: bool) -> Option<Cost> {
    (!idle).then(|| {
        PriceTable::bundled()
            .region(&cluster.scope.region)
            .extended_support_premium(version)
    })
}

fn evaluate(
    calendar: &Calendar,
    cluster: &EksCluster,
    today: Date,
    idle: bool,
    out: &mut Emitter<'_>,
) {
    let today_n = days_from_civil(today);
    let Some(text) = cluster.version.as_deref() else {
        out.unknown(
            &cluster.scope,
            Some(&cluster.arn),
            format!("cluster `{}` reported no Kubernetes version", cluster.name),
        );
        return;
    };
    let Some(minor) = parse_minor(text) else {
        out.unknown(
            &cluster.scope,
            Some(&cluster.arn),
            format!(
                "cluster `{}` reports Kubernetes version `{text}`, which is not a MAJOR.MINOR version",
                cluster.name
            ),
        );
        return;
    };
    let version = label(minor);
    let dates = match calendar.lookup(minor) {
        Lookup::Listed(v) => v,
        Lookup::Older(oldest) if today_n >= days_from_civil(oldest.end_extended) => {
            report_older(calendar, cluster, minor, oldest, today, idle, out);
            return;
        }
        Lookup::Older(_) | Lookup::Unlisted => {
            out.unknown(
                &cluster.scope,
                Some(&cluster.arn),
                format!(
                    "cluster `{}` runs Kubernetes {version}, which is not in the bundled EKS version calendar dated {} (it lists {} to {}); update {}",
                    cluster.name,
                    format_date(calendar.as_of),
                    label(calendar.oldest().minor),
                    label(calendar.newest().minor),
                    eks_calendar::PATH,
                ),
            );
            return;
        }
    };
    let end_std = days_from_civil(dates.end_standard);
    let end_ext = days_from_civil(dates.end_extended);
    let calendar_fact = format!(
        "EKS calendar (bundled, dated {}): Kubernetes {version} released on EKS {}, standard support ends {}, extended support ends {}",
        format_date(calendar.as_of),
        format_date(dates.release),
        format_date(dates.end_standard),
        format_date(dates.end_extended)
    );
    let monthly_ext = (EXTENDED_USD_PER_HOUR * HOURS_PER_MONTH).round();
    let monthly_extra = ((EXTENDED_USD_PER_HOUR - STANDARD_USD_PER_HOUR) * HOURS_PER_MONTH).round();
    let (severity, message) = if today_n >= end_ext {
        (
            Severity::Critical,
            format!(
                "EKS cluster `{}` runs Kubernetes {version}, whose extended support ended on {}: EKS will upgrade its control plane to a supported version at a time it does not announce",
                cluster.name,
                format_date(dates.end_extended)
            ),
        )
    } else if today_n >= end_std {
        (
            Severity::High,
            format!(
                "EKS cluster `{}` runs Kubernetes {version}, past the end of standard support on {}: its control plane is billed at the extended-support rate of ${EXTENDED_USD_PER_HOUR:.2}/hour (about ${monthly_ext:.0}/month, ${monthly_extra:.0} more than standard support) until it is upgraded, and extended support ends on {}",
                cluster.name,
                format_date(dates.end_standard),
                format_date(dates.end_extended)
            ),
        )
    } else if end_std - today_n <= WARN_DAYS {
        let left = end_std - today_n;
        let days = if left == 1 { "day" } else { "days" };
        (
            Severity::Medium,
            format!(
                "EKS cluster `{}` runs Kubernetes {version}, whose standard support ends on {} ({left} {days} after this inventory was collected on {}): from then on its control plane is billed at the extended-support rate of ${EXTENDED_USD_PER_HOUR:.2}/hour (about ${monthly_ext:.0}/month), or upgraded by EKS if its upgrade policy is STANDARD",
                cluster.name,
                format_date(dates.end_standard),
                format_date(today)
            ),
        )
    } else {
        return;
    };
    // Past standard support the control plane pays the extended-support rate; before, the
    // cost is still to come and nothing is wasted yet.
    let cost = if today_n >= end_std {
        premium(cluster, &version, idle)
    } else {
        None
    };
    out.report(
        &cluster.scope,
        Report {
            severity,
            resource: cluster.arn.clone(),
            discriminator: version.clone(),
            message,
            remediation: remediation(calendar, cluster, minor, today_n),
            evidence: vec![
                Evidence::new(
                    &cluster.arn,
                    format!(
                        "Kubernetes version {version} (status {}) on {}",
                        cluster.status,
                        format_date(today)
                    ),
                ),
                Evidence::new(&cluster.arn, calendar_fact),
            ],
        },
    )
    .cost = cost;
}

/// A version older than the whole calendar: every EKS version ends support in release order,
/// so it ended no later than the oldest listed one.
fn report_older(
    calendar: &Calendar,
    cluster: &EksCluster,
    minor: (u32, u32),
    oldest: &VersionDates,
    today: Date,
    idle: bool,
    out: &mut Emitter<'_>,
) {
    let today_n = days_from_civil(today);
    let version = label(minor);
    out.report(
        &cluster.scope,
        Report {
            severity: Severity::Critical,
            resource: cluster.arn.clone(),
            discriminator: version.clone(),
            message: format!(
                "EKS cluster `{}` runs Kubernetes {version}, older than every version in the EKS calendar: even the oldest listed, {}, reached the end of extended support on {}, so EKS will upgrade this control plane at a time it does not announce",
                cluster.name,
                label(oldest.minor),
                format_date(oldest.end_extended)
            ),
            remediation: remediation(calendar, cluster, minor, today_n),
            evidence: vec![
                Evidence::new(
                    &cluster.arn,
                    format!(
                        "Kubernetes version {version} (status {}) on {}",
                        cluster.status,
                        format_date(today)
                    ),
                ),
                Evidence::new(
                    &cluster.arn,
                    format!(
                        "EKS calendar (bundled, dated {}): oldest listed version {} ended extended support {}",
                        format_date(calendar.as_of),
                        label(oldest.minor),
                        format_date(oldest.end_extended)
                    ),
                ),
            ],
        },
    )
    .cost = premium(cluster, &version, idle);
}

fn remediation(calendar: &Calendar, cluster: &EksCluster, minor: (u32, u32), today: i64) -> String {
    let next = label((minor.0, minor.1 + 1));
    let target = calendar
        .upgrade_target(today, WARN_DAYS)
        .map(|v| format!(" ({} or later)", label(v.minor)))
        .unwrap_or_default();
    format!(
        "Upgrade the control plane one minor version at a time until it reaches a version with more than {WARN_DAYS} days of standard support left{target}, starting with `aws eks update-cluster-version --name {} --kubernetes-version {next}`, and upgrade nodegroups, nodes and add-ons after each step.",
        cluster.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    /// A cluster with nodes (an idle one is EKS001's to cost) on `version`.
    fn cluster_on(version: &str, as_of: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").version = Some(version.into());
        b.nodegroup("prod", "ng-0", &["subnet-1"]);
        b.inv.collected_at = as_of.map(str::to_string);
        b
    }

    #[test]
    fn past_end_of_standard_support_is_high_with_the_monthly_cost() {
        let out = cluster_on("1.31", Some("2026-01-15T08:00:00Z")).run(&[&EKS005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            "EKS cluster `prod` runs Kubernetes 1.31, past the end of standard support on 2025-11-26: its control plane is billed at the extended-support rate of $0.60/hour (about $438/month, $365 more than standard support) until it is upgraded, and extended support ends on 2026-11-26"
        );
        assert!(f.remediation.contains("--kubernetes-version 1.32"));
        assert!(
            f.remediation.contains("(1.33 or later)"),
            "{}",
            f.remediation
        );
        assert!(out.notes.is_empty());
        let cost = f.cost.as_ref().expect("extended support is waste");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Waste, 365.0));
        assert!(cost.basis.starts_with("1 EKS control plane in extended support (Kubernetes 1.31) × $0.50/h ($0.60/h extended-support rate − $0.10/h standard) × 730 h = $365.00 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn only_a_version_past_standard_support_costs_and_an_idle_cluster_leaves_it_to_eks001() {
        // Within ninety days of the end: a finding, nothing wasted yet.
        let soon = cluster_on("1.31", Some("2025-11-25T23:59:59Z")).run(&[&EKS005]);
        assert!(soon.findings[0].cost.is_none());
        // Past extended support: still billed at the extended rate until EKS upgrades it.
        let ended = cluster_on("1.29", Some("2026-11-22")).run(&[&EKS005]);
        assert_eq!(ended.findings[0].cost.as_ref().unwrap().monthly_usd, 365.0);
        let ancient = cluster_on("1.19", Some("2026-11-22")).run(&[&EKS005]);
        assert_eq!(ancient.findings[0].cost.as_ref().unwrap().monthly_usd, 365.0);
        // The same cluster with no compute at all: EKS001 counts its whole control plane.
        let mut idle = cluster_on("1.31", Some("2026-01-15T08:00:00Z"));
        idle.inv.eks_nodegroups[0].desired_size = 0;
        let eks001 = crate::rules::find("EKS001").unwrap();
        let out = idle.run(&[&EKS005, eks001]);
        let eks005 = out.findings.iter().find(|f| f.check == "EKS005").unwrap();
        assert_eq!(eks005.severity, Severity::High);
        assert!(eks005.cost.is_none(), "{out:?}");
        // Without EKS001 in the run, nothing else counts it: the premium is this finding's.
        let alone = idle.run(&[&EKS005]);
        assert_eq!(alone.findings[0].cost.as_ref().unwrap().monthly_usd, 365.0);
        // With a node it is not idle, and the premium is this finding's.
        let busy = cluster_on("1.31", Some("2026-01-15T08:00:00Z"));
        assert_eq!(busy.run(&[&EKS005]).findings[0].cost.as_ref().unwrap().monthly_usd, 365.0);
    }

    #[test]
    fn billing_starts_on_the_end_of_standard_support_day() {
        let day_before = cluster_on("1.31", Some("2025-11-25T23:59:59Z")).run(&[&EKS005]);
        assert_eq!(day_before.findings[0].severity, Severity::Medium);
        assert!(day_before.findings[0].message.contains("(1 day after"));
        let on_the_day = cluster_on("1.31", Some("2025-11-26T00:00:00Z")).run(&[&EKS005]);
        assert_eq!(on_the_day.findings[0].severity, Severity::High);
        // Same version, same ticket, whatever the band.
        assert_eq!(
            day_before.findings[0].fingerprint,
            on_the_day.findings[0].fingerprint
        );
    }

    #[test]
    fn within_ninety_days_is_medium_and_earlier_is_silent() {
        let out = cluster_on("1.34", Some("2026-11-22T06:35:46Z")).run(&[&EKS005]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Medium);
        assert_eq!(
            out.findings[0].message,
            "EKS cluster `prod` runs Kubernetes 1.34, whose standard support ends on 2026-12-02 (10 days after this inventory was collected on 2026-11-22): from then on its control plane is billed at the extended-support rate of $0.60/hour (about $438/month), or upgraded by EKS if its upgrade policy is STANDARD"
        );
        // The target is past the warning window too, not the version about to end.
        assert!(
            out.findings[0].remediation.contains("(1.35 or later)"),
            "{}",
            out.findings[0].remediation
        );
        // 91 days before the end: nothing yet.
        let early = cluster_on("1.34", Some("2026-09-02")).run(&[&EKS005]);
        assert!(early.findings.is_empty(), "{early:?}");
        let ninety = cluster_on("1.34", Some("2026-09-03")).run(&[&EKS005]);
        assert_eq!(ninety.findings.len(), 1);
        // A current version is silent, and so is the clean twin of the bad cluster.
        let clean = cluster_on("1.35", Some("2026-11-22")).run(&[&EKS005]);
        assert!(clean.findings.is_empty() && clean.unknowns.is_empty());
    }

    #[test]
    fn past_end_of_extended_support_is_critical() {
        let out = cluster_on("1.29", Some("2026-11-22")).run(&[&EKS005]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Critical);
        assert!(out.findings[0]
            .message
            .contains("whose extended support ended on 2026-03-23"));
        // Versions older than the calendar ended before its oldest row did.
        let ancient = cluster_on("1.19", Some("2026-11-22")).run(&[&EKS005]);
        assert_eq!(ancient.findings.len(), 1, "{ancient:?}");
        assert_eq!(ancient.findings[0].severity, Severity::Critical);
        assert!(ancient.findings[0]
            .message
            .contains("older than every version"));
        // ... but only once that row's extended support has ended.
        let old_replay = cluster_on("1.19", Some("2024-06-01")).run(&[&EKS005]);
        assert!(old_replay.findings.is_empty());
        assert_eq!(old_replay.unknowns.len(), 1);
    }

    #[test]
    fn a_version_newer_than_the_calendar_is_unknown_not_passed() {
        let out = cluster_on("1.40", Some("2026-11-22")).run(&[&EKS005]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
        let reason = &out.unknowns[0].reason;
        assert!(
            reason.contains("Kubernetes 1.40, which is not in the bundled EKS version calendar dated 2026-08-22"),
            "{reason}"
        );
        assert_eq!(
            out.unknowns[0].resource.as_deref(),
            Some("arn:aws:eks:us-east-1:111122223333:cluster/prod")
        );
        let garbage = cluster_on("latest", Some("2026-11-22")).run(&[&EKS005]);
        assert!(garbage.findings.is_empty() && garbage.unknowns.len() == 1);
    }

    #[test]
    fn without_a_collection_date_every_cluster_is_unknown() {
        let mut b = cluster_on("1.29", None);
        b.eks_cluster("other");
        let out = b.run(&[&EKS005]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 2);
        assert!(out.unknowns[0]
            .reason
            .contains("does not say when it was collected"));
    }

    #[test]
    fn a_stale_calendar_adds_a_note_and_still_evaluates() {
        // 2027-02-21 is 183 days after the calendar's date: not yet stale.
        let fresh = cluster_on("1.35", Some("2027-02-21")).run(&[&EKS005]);
        assert!(fresh.notes.is_empty());
        let stale = cluster_on("1.35", Some("2027-02-22")).run(&[&EKS005]);
        assert_eq!(stale.notes.len(), 1);
        assert!(stale.notes[0]
            .message
            .starts_with("the Kubernetes version calendar bundled with this build is dated 2026-08-22, more than six months before this inventory was collected (2027-02-22)"));
        assert!(stale.notes[0]
            .message
            .contains("update checks/data/eks-kubernetes-versions.json"));
        assert_eq!(stale.findings.len(), 1, "still evaluated");
        assert_eq!(stale.findings[0].severity, Severity::Medium);
        // Nothing to judge, nothing to note.
        let mut empty = Builder::new();
        empty.inv.collected_at = Some("2030-01-01".into());
        assert!(empty.run(&[&EKS005]).notes.is_empty());
    }

    #[test]
    fn deleting_clusters_are_skipped_and_describe_gaps_are_unknown() {
        let mut b = cluster_on("1.29", Some("2026-11-22"));
        b.inv.eks_clusters[0].status = "DELETING".into();
        assert!(b.run(&[&EKS005]).findings.is_empty());
        let mut gap = Builder::new();
        gap.inv.collected_at = Some("2026-11-22".into());
        gap.gap(
            "eks:DescribeCluster",
            Some("arn:aws:eks:us-east-1:111122223333:cluster/x"),
        );
        let out = gap.run(&[&EKS005]);
        assert!(out.findings.is_empty());
        assert_eq!(
            out.unknowns.len(),
            1,
            "the engine reports the cluster it could not read"
        );
    }
}
