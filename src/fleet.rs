//! The fleet run: which accounts to audit and through which role, one slice of them per
//! shard, and how each account's role was assumed.
//!
//! A fleet is resolved from `--role-arn`, or `--role-name` with `--accounts` or `--org`
//! (Organizations ListAccounts, ACTIVE accounts only), less `--exclude-accounts`, then
//! narrowed to `--shard K/N`. A replay takes the fleet from its recording's manifest.

use std::collections::BTreeSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// `--shard K/N`: shard K (from 0) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// The most shards a fleet may be cut into.
pub const MAX_SHARDS: u32 = 10_000;

/// Which half of K/N is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardRange {
    /// N is 0 or above [`MAX_SHARDS`].
    Count,
    /// K is not below N.
    Index,
}

impl Shard {
    /// Shard K of N when 1 ≤ N ≤ [`MAX_SHARDS`] and K < N. Takes u64 so that a number
    /// read from outside is judged whole, never truncated into range first.
    pub fn checked(index: u64, count: u64) -> Result<Shard, ShardRange> {
        let count = u32::try_from(count)
            .ok()
            .filter(|n| (1..=MAX_SHARDS).contains(n))
            .ok_or(ShardRange::Count)?;
        let index = u32::try_from(index)
            .ok()
            .filter(|k| *k < count)
            .ok_or(ShardRange::Index)?;
        Ok(Shard { index, count })
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}`: expected K/N, such as 0/4 (K counts from 0 to N-1)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        Shard::checked(index, count).map_err(|why| match why {
            ShardRange::Count => format!("`{s}`: N must be between 1 and {MAX_SHARDS}"),
            ShardRange::Index => format!(
                "`{s}`: K counts from 0, so shard K of {count} is 0 to {} (as JOB_COMPLETION_INDEX and AWS_BATCH_JOB_ARRAY_INDEX count)",
                count - 1
            ),
        })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The shard an account belongs to: a hash of its id alone, so every worker agrees
    /// whatever list it was given, and an account joining or leaving the organization
    /// moves no other account between shards.
    pub fn of(account: &str, count: u32) -> u32 {
        let digest = Sha256::digest(account.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count)) as u32
    }

    pub fn contains(&self, account: &str) -> bool {
        Shard::of(account, self.count) == self.index
    }

    /// `report.json` → `report.shard-1-of-4.json` (the standard names of shard outputs).
    pub fn file_name(&self, standard: &str) -> String {
        let tag = format!("shard-{}-of-{}", self.index, self.count);
        match standard.split_once('.') {
            Some((stem, ext)) => format!("{stem}.{tag}.{ext}"),
            None => format!("{standard}.{tag}"),
        }
    }
}

/// One account of the fleet and the role that reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub account: String,
    /// The account's name in the organization, when it was listed from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role_arn: String,
}

/// How assuming an account's role ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Assumed {
    Ok,
    Failed {
        error_code: Option<String>,
        message: String,
    },
}

/// A fleet target and how its role assumption ended, as a recording keeps it (no
/// credentials: the replay signs with dummy ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTarget {
    #[serde(flatten)]
    pub target: Target,
    pub assumed: Assumed,
}

/// The fleet part of a recording's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetManifest {
    /// Whether each account's regions were its enabled regions (`--all-regions`).
    pub all_regions: bool,
    pub targets: Vec<RecordedTarget>,
}

/// A 12-digit AWS account id.
pub fn validate_account_id(id: &str, flag: &str) -> Result<(), AppError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::Config(format!(
            "{flag}: `{id}` is not an AWS account id (12 digits)"
        )))
    }
}

/// The account id and partition of an IAM role ARN.
pub fn parse_role_arn(arn: &str) -> Result<(String, String), AppError> {
    let bad = |why: &str| {
        AppError::Config(format!(
            "--role-arn `{arn}`: {why}; expected arn:aws:iam::123456789012:role/NAME"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[3].is_empty() {
        return Err(bad("not an IAM ARN"));
    }
    if !parts[5].starts_with("role/") || parts[5].len() <= "role/".len() {
        return Err(bad("not a role"));
    }
    validate_account_id(parts[4], "--role-arn")?;
    Ok((parts[4].to_string(), parts[1].to_string()))
}

/// A role name as IAM allows it (path segments included).
pub fn validate_role_name(name: &str) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        && !name.starts_with('/')
        && !name.ends_with('/');
    if ok {
        Ok(())
    } else {
        Err(AppError::Config(format!(
            "--role-name `{name}`: not an IAM role name (letters, digits and +=,.@_- ; a path as path/name)"
        )))
    }
}

/// A role session name as STS allows it: 2–64 of `[\w+=,.@-]`.
pub fn validate_session_name(name: &str) -> Result<(), AppError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::Config(format!(
            "--session-name `{name}`: STS allows 2 to 64 letters, digits and _+=,.@-"
        )))
    }
}

/// `awsaudit-<unix seconds>`: recognisable in every member account's CloudTrail.
pub fn default_session_name() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("awsaudit-{secs}")
}

/// An external id as STS allows it: 2–1224 of `[\w+=,.@:/-]`.
pub fn validate_external_id(id: &str) -> Result<(), AppError> {
    let ok = (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
    if ok {
        Ok(())
    } else {
        // The value itself is never printed.
        Err(AppError::Config(
            "--external-id (or AWSAUDIT_EXTERNAL_ID): STS allows 2 to 1224 letters, digits and _+=,.@:/-".into(),
        ))
    }
}

/// Applies `--exclude-accounts` and `--shard` to a fleet, sorted by account id. Duplicates
/// are dropped.
pub fn narrow(mut targets: Vec<Target>, exclude: &[String], shard: Option<Shard>) -> Vec<Target> {
    let excluded: BTreeSet<&str> = exclude.iter().map(String::as_str).collect();
    targets.retain(|t| !excluded.contains(t.account.as_str()));
    if let Some(shard) = shard {
        targets.retain(|t| shard.contains(&t.account));
    }
    targets.sort_by(|a, b| a.account.cmp(&b.account));
    targets.dedup_by(|a, b| a.account == b.account);
    targets
}

/// The role ARN of `name` in `account`.
pub fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_every_account_exactly_once() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in [
            "4/4",
            "1",
            "a/4",
            "0/0",
            "-1/4",
            "1/4/2",
            "0/10001",
            "4294967296/4",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            Shard::checked(9_999, u64::from(MAX_SHARDS)),
            Ok(Shard {
                index: 9_999,
                count: MAX_SHARDS
            })
        );
        // Numbers past u32 are out of range, not wrapped into it.
        assert_eq!(Shard::checked(0, 1 << 60), Err(ShardRange::Count));
        assert_eq!(Shard::checked((1 << 32) + 1, 4), Err(ShardRange::Index));
        assert_eq!(Shard::checked(0, 0), Err(ShardRange::Count));
        assert_eq!(Shard::checked(3, 3), Err(ShardRange::Index));
        let accounts: Vec<String> = (0..200).map(|i| format!("{:012}", 100_000 + i)).collect();
        let mut counts = [0usize; 4];
        for a in &accounts {
            let hits: Vec<u32> = (0..4)
                .filter(|k| {
                    Shard {
                        index: *k,
                        count: 4,
                    }
                    .contains(a)
                })
                .collect();
            assert_eq!(hits.len(), 1, "{a} is in exactly one shard");
            counts[hits[0] as usize] += 1;
        }
        // Roughly balanced (a hash, not a round-robin): no shard under half its share.
        assert!(counts.iter().all(|c| *c >= 25), "{counts:?}");
        // Stable: the partition of an account never depends on the others.
        assert_eq!(Shard::of("123456789012", 4), Shard::of("123456789012", 4));
    }

    #[test]
    fn shard_file_names_keep_the_extension() {
        let s = Shard { index: 2, count: 8 };
        assert_eq!(s.file_name("report.json"), "report.shard-2-of-8.json");
        assert_eq!(
            s.file_name("findings.asff.json"),
            "findings.shard-2-of-8.asff.json"
        );
    }

    #[test]
    fn role_arns_and_names_are_checked() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/audit").unwrap(),
            ("123456789012".to_string(), "aws".to_string())
        );
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/audit").is_err());
        assert!(parse_role_arn("arn:aws:iam::12345:role/audit").is_err());
        assert!(parse_role_arn("arn:aws:s3:::bucket").is_err());
        assert!(validate_role_name("team/audit-member").is_ok());
        assert!(validate_role_name("bad name").is_err());
        assert!(validate_session_name("awsaudit-1764000000").is_ok());
        assert!(validate_session_name("x").is_err());
        assert!(validate_external_id("a-b:c/d").is_ok());
        assert!(validate_external_id("has space").is_err());
    }

    #[test]
    fn narrowing_excludes_dedups_and_sorts() {
        let t = |a: &str| Target {
            account: a.into(),
            name: None,
            role_arn: role_arn("aws", a, "r"),
        };
        let out = narrow(
            vec![
                t("222222222222"),
                t("111111111111"),
                t("333333333333"),
                t("111111111111"),
            ],
            &["333333333333".into()],
            None,
        );
        let ids: Vec<&str> = out.iter().map(|t| t.account.as_str()).collect();
        assert_eq!(ids, ["111111111111", "222222222222"]);
    }
}
