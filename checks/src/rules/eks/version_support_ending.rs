//! EKS005: an EKS cluster on a Kubernetes version past, or about to leave, standard support.
//!
//! The support dates are data, not code: `checks/data/eks-kubernetes-versions.json`, dated,
//! with its source. Dates are judged against the day the inventory describes
//! ([`Ctx::as_of`]), never the wall clock, so a replayed recording always gives the same
//! answer.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::EksCluster;
use crate::registry::{days_from_civil, parse_date, Ctx, Emitter, Report};

/// The bundled calendar, checked for consistency by the unit tests.
const CALENDAR_JSON: &str = include_str!("../../../data/eks-kubernetes-versions.json");

/// How close to the end of standard support a cluster is reported (medium).
const WARN_DAYS: i64 = 90;
/// A calendar older than this (relative to the inventory) gets a note in the report.
const STALE_AFTER_DAYS: i64 = 183;
/// The control-plane price in extended support, all in (standard support is $0.10), USD/hour.
const EXTENDED_USD_PER_HOUR: f64 = 0.60;
const STANDARD_USD_PER_HOUR: f64 = 0.10;
/// AWS's billing month.
const HOURS_PER_MONTH: f64 = 730.0;

type Date = (i32, u32, u32);

#[derive(Deserialize)]
struct RawCalendar {
    as_of: String,
    source: String,
    versions: Vec<RawVersion>,
}

#[derive(Deserialize)]
struct RawVersion {
    version: String,
    eks_release: String,
    end_of_standard_support: String,
    end_of_extended_support: String,
}

/// The EKS Kubernetes release calendar.
#[derive(Debug)]
struct Calendar {
    /// When the data was last checked against AWS's documentation.
    as_of: Date,
    source: String,
    /// Ascending by version, no repeats.
    versions: Vec<VersionDates>,
}

#[derive(Debug)]
struct VersionDates {
    minor: (u32, u32),
    release: Date,
    end_standard: Date,
    end_extended: Date,
}

/// Where a cluster's version falls relative to the calendar.
enum Lookup<'c> {
    Listed(&'c VersionDates),
    /// Older than every listed version.
    Older(&'c VersionDates),
    /// Newer than the data, or a gap in it.
    Unlisted,
}

impl Calendar {
    /// Parses and validates the calendar: every date parses, release < end of standard
    /// support < end of extended support, versions strictly ascending.
    fn load(text: &str) -> Result<Calendar, String> {
        let raw: RawCalendar = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let date = |what: &str, s: &str| {
            parse_date(s)
                .filter(|_| s.len() == 10)
                .ok_or_else(|| format!("{what}: `{s}` is not a YYYY-MM-DD date"))
        };
        let as_of = date("as_of", &raw.as_of)?;
        if !raw.source.starts_with("https://") {
            return Err(format!("source `{}` is not an https URL", raw.source));
        }
        let mut versions: Vec<VersionDates> = Vec::with_capacity(raw.versions.len());
        for v in &raw.versions {
            let minor =
                parse_minor(&v.version).ok_or_else(|| format!("bad version `{}`", v.version))?;
            let entry = VersionDates {
                minor,
                release: date(&v.version, &v.eks_release)?,
                end_standard: date(&v.version, &v.end_of_standard_support)?,
                end_extended: date(&v.version, &v.end_of_extended_support)?,
            };
            let day = |d: Date| days_from_civil(d);
            if !(day(entry.release) < day(entry.end_standard)
                && day(entry.end_standard) < day(entry.end_extended))
            {
                return Err(format!(
                    "{}: dates out of order (release < end of standard < end of extended)",
                    v.version
                ));
            }
            if let Some(prev) = versions.last() {
                if prev.minor >= minor {
                    return Err(format!("{} is not after the row before it", v.version));
                }
            }
            versions.push(entry);
        }
        if versions.is_empty() {
            return Err("no versions".into());
        }
        Ok(Calendar {
            as_of,
            source: raw.source,
            versions,
        })
    }

    fn lookup(&self, minor: (u32, u32)) -> Lookup<'_> {
        if let Some(v) = self.versions.iter().find(|v| v.minor == minor) {
            return Lookup::Listed(v);
        }
        let oldest = &self.versions[0];
        if minor < oldest.minor {
            Lookup::Older(oldest)
        } else {
            Lookup::Unlisted
        }
    }

    fn newest(&self) -> &VersionDates {
        self.versions
            .last()
            .expect("load rejects an empty calendar")
    }

    /// The oldest version whose standard support lasts past the warning window from `today`:
    /// the version to upgrade to so that this check stays quiet.
    fn upgrade_target(&self, today: i64) -> Option<&VersionDates> {
        self.versions
            .iter()
            .find(|v| days_from_civil(v.end_standard) - today > WARN_DAYS)
    }
}

static CALENDAR: LazyLock<Calendar> = LazyLock::new(|| {
    Calendar::load(CALENDAR_JSON)
        .unwrap_or_else(|e| panic!("checks/data/eks-kubernetes-versions.json: {e}"))
});

/// `1.31` (or `1.31.4`, `v1.31`) → (1, 31).
fn parse_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn show((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

fn label((major, minor): (u32, u32)) -> String {
    format!("{major}.{minor}")
}

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
    /// deprecated APIs before each step. To keep the calendar current, update
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
    let calendar = &*CALENDAR;
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
            "the Kubernetes version calendar bundled with this build is dated {}, more than six months before this inventory was collected ({}): EKS005 may not know versions released since, or dates AWS changed; update checks/data/eks-kubernetes-versions.json from {} (or use a newer awsaudit)",
            show(calendar.as_of),
            show(today),
            calendar.source
        ));
    }
    for cluster in clusters {
        evaluate(calendar, cluster, today, out);
    }
}

fn evaluate(calendar: &Calendar, cluster: &EksCluster, today: Date, out: &mut Emitter<'_>) {
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
            report_older(calendar, cluster, minor, oldest, today, out);
            return;
        }
        Lookup::Older(_) | Lookup::Unlisted => {
            out.unknown(
                &cluster.scope,
                Some(&cluster.arn),
                format!(
                    "cluster `{}` runs Kubernetes {version}, which is not in the bundled EKS version calendar dated {} (it lists {} to {}); update checks/data/eks-kubernetes-versions.json",
                    cluster.name,
                    show(calendar.as_of),
                    label(calendar.versions[0].minor),
                    label(calendar.newest().minor),
                ),
            );
            return;
        }
    };
    let end_std = days_from_civil(dates.end_standard);
    let end_ext = days_from_civil(dates.end_extended);
    let calendar_fact = format!(
        "EKS calendar (bundled, dated {}): Kubernetes {version} released on EKS {}, standard support ends {}, extended support ends {}",
        show(calendar.as_of),
        show(dates.release),
        show(dates.end_standard),
        show(dates.end_extended)
    );
    let monthly_ext = (EXTENDED_USD_PER_HOUR * HOURS_PER_MONTH).round();
    let monthly_extra = ((EXTENDED_USD_PER_HOUR - STANDARD_USD_PER_HOUR) * HOURS_PER_MONTH).round();
    let (severity, message) = if today_n >= end_ext {
        (
            Severity::Critical,
            format!(
                "EKS cluster `{}` runs Kubernetes {version}, whose extended support ended on {}: EKS will upgrade its control plane to a supported version at a time it does not announce",
                cluster.name,
                show(dates.end_extended)
            ),
        )
    } else if today_n >= end_std {
        (
            Severity::High,
            format!(
                "EKS cluster `{}` runs Kubernetes {version}, past the end of standard support on {}: its control plane is billed at the extended-support rate of ${EXTENDED_USD_PER_HOUR:.2}/hour (about ${monthly_ext:.0}/month, ${monthly_extra:.0} more than standard support) until it is upgraded, and extended support ends on {}",
                cluster.name,
                show(dates.end_standard),
                show(dates.end_extended)
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
                show(dates.end_standard),
                show(today)
            ),
        )
    } else {
        return;
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
                        show(today)
                    ),
                ),
                Evidence::new(&cluster.arn, calendar_fact),
            ],
        },
    );
}

/// A version older than the whole calendar: every EKS version ends support in release order,
/// so it ended no later than the oldest listed one.
fn report_older(
    calendar: &Calendar,
    cluster: &EksCluster,
    minor: (u32, u32),
    oldest: &VersionDates,
    today: Date,
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
                show(oldest.end_extended)
            ),
            remediation: remediation(calendar, cluster, minor, today_n),
            evidence: vec![
                Evidence::new(
                    &cluster.arn,
                    format!(
                        "Kubernetes version {version} (status {}) on {}",
                        cluster.status,
                        show(today)
                    ),
                ),
                Evidence::new(
                    &cluster.arn,
                    format!(
                        "EKS calendar (bundled, dated {}): oldest listed version {} ended extended support {}",
                        show(calendar.as_of),
                        label(oldest.minor),
                        show(oldest.end_extended)
                    ),
                ),
            ],
        },
    );
}

fn remediation(calendar: &Calendar, cluster: &EksCluster, minor: (u32, u32), today: i64) -> String {
    let next = label((minor.0, minor.1 + 1));
    let target = calendar
        .upgrade_target(today)
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

    fn cluster_on(version: &str, as_of: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").version = Some(version.into());
        b.inv.collected_at = as_of.map(str::to_string);
        b
    }

    #[test]
    fn the_bundled_calendar_is_consistent() {
        let cal = Calendar::load(CALENDAR_JSON).expect("calendar loads");
        assert_eq!(cal.versions[0].minor, (1, 23), "covers 1.23 onwards");
        assert!(cal.newest().minor >= (1, 36));
        for pair in cal.versions.windows(2) {
            assert!(pair[0].minor < pair[1].minor, "sorted and unique");
            // Consecutive minors: a gap would make a real version look "unlisted".
            assert_eq!(pair[0].minor.0, pair[1].minor.0);
            assert_eq!(pair[0].minor.1 + 1, pair[1].minor.1, "no gaps");
            // Versions reach each milestone in release order.
            for (a, b) in [
                (pair[0].release, pair[1].release),
                (pair[0].end_standard, pair[1].end_standard),
                (pair[0].end_extended, pair[1].end_extended),
            ] {
                assert!(days_from_civil(a) < days_from_civil(b), "{pair:?}");
            }
        }
        for v in &cal.versions {
            // 14 months of standard support, 12 of extended (AWS's policy; a few older
            // versions got a little more standard support).
            let standard = days_from_civil(v.end_standard) - days_from_civil(v.release);
            let extended = days_from_civil(v.end_extended) - days_from_civil(v.end_standard);
            assert!((420..=450).contains(&standard), "{v:?}: {standard}");
            assert!((365..=366).contains(&extended), "{v:?}: {extended}");
        }
        assert!(days_from_civil(cal.as_of) >= days_from_civil(cal.newest().release));
        // The lazily loaded copy is the same data.
        assert_eq!(CALENDAR.versions.len(), cal.versions.len());
    }

    #[test]
    fn malformed_calendars_are_rejected() {
        let row = |v: &str, r: &str, s: &str, e: &str| {
            format!(
                r#"{{"version":"{v}","eks_release":"{r}","end_of_standard_support":"{s}","end_of_extended_support":"{e}"}}"#
            )
        };
        let cal = |rows: &[String]| {
            format!(
                r#"{{"as_of":"2026-01-01","source":"https://x","versions":[{}]}}"#,
                rows.join(",")
            )
        };
        let good = row("1.30", "2024-05-23", "2025-07-23", "2026-07-23");
        assert!(Calendar::load(&cal(std::slice::from_ref(&good))).is_ok());
        for bad in [
            cal(&[row("1.30", "2024-05-23", "2026-07-23", "2025-07-23")]),
            cal(&[row("1.30", "2024-5-23", "2025-07-23", "2026-07-23")]),
            cal(&[row("one", "2024-05-23", "2025-07-23", "2026-07-23")]),
            cal(&[good.clone(), good.clone()]),
            cal(&[]),
        ] {
            assert!(Calendar::load(&bad).is_err(), "{bad}");
        }
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
