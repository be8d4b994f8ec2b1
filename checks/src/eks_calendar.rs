//! The EKS Kubernetes release calendar: for each minor version, the day EKS released it and
//! the days its standard and extended support end.
//!
//! The dates are data, not code: `checks/data/eks-kubernetes-versions.json`, dated by its
//! `as_of` and naming its `source`, loaded once and validated (every date parses, release <
//! end of standard support < end of extended support, versions strictly ascending). EKS005
//! judges clusters by it; anything else that needs "is this version still supported" asks
//! here too.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::date::{days_from_civil, parse_date, Date};

/// Where the bundled calendar lives, as messages asking for an update name it.
pub const PATH: &str = "checks/data/eks-kubernetes-versions.json";

/// The bundled calendar's text, checked for consistency by the unit tests.
const CALENDAR_JSON: &str = include_str!("../data/eks-kubernetes-versions.json");

/// A Kubernetes version as (major, minor).
pub type Minor = (u32, u32);

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
pub struct Calendar {
    /// When the data was last checked against AWS's documentation.
    pub as_of: Date,
    /// Where the dates come from (an https URL).
    pub source: String,
    /// Ascending by version, no repeats, never empty.
    pub versions: Vec<VersionDates>,
}

/// One minor version's dates.
#[derive(Debug)]
pub struct VersionDates {
    pub minor: Minor,
    pub release: Date,
    pub end_standard: Date,
    pub end_extended: Date,
}

/// Where a version falls relative to the calendar.
pub enum Lookup<'c> {
    Listed(&'c VersionDates),
    /// Older than every listed version (the oldest is given).
    Older(&'c VersionDates),
    /// Newer than the data, or a gap in it.
    Unlisted,
}

static BUNDLED: LazyLock<Calendar> =
    LazyLock::new(|| Calendar::load(CALENDAR_JSON).unwrap_or_else(|e| panic!("{PATH}: {e}")));

impl Calendar {
    /// The calendar bundled with this build.
    pub fn bundled() -> &'static Calendar {
        &BUNDLED
    }

    /// Parses and validates a calendar: every date parses, release < end of standard
    /// support < end of extended support, versions strictly ascending, at least one.
    pub fn load(text: &str) -> Result<Calendar, String> {
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

    pub fn lookup(&self, minor: Minor) -> Lookup<'_> {
        if let Some(v) = self.versions.iter().find(|v| v.minor == minor) {
            return Lookup::Listed(v);
        }
        let oldest = self.oldest();
        if minor < oldest.minor {
            Lookup::Older(oldest)
        } else {
            Lookup::Unlisted
        }
    }

    /// Whether `minor` is past the end of its standard support on `today` (days since the
    /// epoch), so its control plane is billed at the extended-support rate (or, past
    /// extended support, is about to be upgraded by EKS). A version newer than the calendar
    /// is not; one older than it is.
    pub fn past_standard_support(&self, minor: Minor, today: i64) -> bool {
        match self.lookup(minor) {
            Lookup::Listed(v) => today >= days_from_civil(v.end_standard),
            Lookup::Older(_) => true,
            Lookup::Unlisted => false,
        }
    }

    pub fn oldest(&self) -> &VersionDates {
        &self.versions[0]
    }

    pub fn newest(&self) -> &VersionDates {
        self.versions
            .last()
            .expect("load rejects an empty calendar")
    }

    /// The oldest version whose standard support lasts more than `margin_days` past `today`
    /// (days since the epoch): the version to upgrade to.
    pub fn upgrade_target(&self, today: i64, margin_days: i64) -> Option<&VersionDates> {
        self.versions
            .iter()
            .find(|v| days_from_civil(v.end_standard) - today > margin_days)
    }
}

/// `1.31` (or `1.31.4`, `v1.31`) → (1, 31); anything else → `None`.
pub fn parse_minor(version: &str) -> Option<Minor> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// (1, 31) → `1.31`.
pub fn label((major, minor): Minor) -> String {
    format!("{major}.{minor}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(Calendar::bundled().versions.len(), cal.versions.len());
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
    fn versions_parse_and_print() {
        assert_eq!(parse_minor("v1.30.2"), Some((1, 30)));
        assert_eq!(parse_minor(" 1.31 "), Some((1, 31)));
        assert!(parse_minor("1").is_none() && parse_minor("").is_none());
        assert!(parse_minor("latest").is_none());
        assert_eq!(label((1, 9)), "1.9");
    }

    #[test]
    fn lookup_and_upgrade_target() {
        let cal = Calendar::bundled();
        assert!(matches!(cal.lookup((1, 23)), Lookup::Listed(v) if v.minor == (1, 23)));
        assert!(matches!(cal.lookup((1, 22)), Lookup::Older(v) if v.minor == (1, 23)));
        assert!(matches!(cal.lookup((1, 99)), Lookup::Unlisted));
        let end_of_1_30 = days_from_civil(match cal.lookup((1, 30)) {
            Lookup::Listed(v) => v.end_standard,
            _ => panic!("1.30 is listed"),
        });
        let target = cal.upgrade_target(end_of_1_30 - 91, 90).map(|v| v.minor);
        assert_eq!(target, Some((1, 30)));
        let target = cal.upgrade_target(end_of_1_30 - 90, 90).map(|v| v.minor);
        assert_eq!(target, Some((1, 31)));
        assert!(!cal.past_standard_support((1, 30), end_of_1_30 - 1));
        assert!(cal.past_standard_support((1, 30), end_of_1_30));
        assert!(
            cal.past_standard_support((1, 19), 0),
            "older than the calendar"
        );
        assert!(
            !cal.past_standard_support((1, 99), end_of_1_30),
            "newer than it"
        );
    }
}
