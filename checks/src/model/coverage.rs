//! What the collector could and could not read: the calls that answered, each (account,
//! region, operation) once, and every call that did not, with its scope and error.

use std::collections::BTreeSet;

use serde::de::Deserializer;
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::names::Names;

/// How a collection call ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Ok,
    /// The credentials are not allowed to make the call.
    AccessDenied,
    /// The service or operation does not exist in this region or endpoint.
    NotAvailable,
    /// Anything else: throttled past the retry budget, server errors, timeouts, bad responses.
    Failed,
}

/// The outcome of one (account, region, operation), or of one scoped part of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageEntry {
    pub account: String,
    pub region: String,
    /// `ecs`, `eks`, `elbv2`, `ec2`, `iam`, `sts`.
    pub service: String,
    /// `DescribeServices`.
    pub operation: String,
    /// What the call was about when it is narrower than the region (a cluster ARN, a
    /// target group ARN); `None` for region-wide calls.
    pub scope: Option<String>,
    pub status: CallStatus,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

impl CoverageEntry {
    /// `ecs:DescribeServices`.
    pub fn op(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// The calls that answered: each (account, region, service, operation) once. A fleet run
/// answers ~90 of them an account, so each is four indexes into one table of names.
#[derive(Debug, Default, Clone)]
pub struct Answered {
    names: Names,
    /// (account, region, service, operation), as indexes of `names`: the account first, so
    /// an account's calls are one range.
    calls: BTreeSet<[u32; 4]>,
}

/// One call that answered, as the report lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Call<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
}

/// A call as a report read back holds it.
#[derive(Deserialize)]
struct OwnedCall {
    account: String,
    region: String,
    service: String,
    operation: String,
}

impl Answered {
    /// Records that `service:operation` answered in this account and region.
    pub fn insert(&mut self, account: &str, region: &str, service: &str, operation: &str) {
        let n = &mut self.names;
        let key = [
            n.intern(account),
            n.intern(region),
            n.intern(service),
            n.intern(operation),
        ];
        self.calls.insert(key);
    }

    /// Whether `service:operation` answered in this account and region.
    pub fn contains(&self, account: &str, region: &str, service: &str, operation: &str) -> bool {
        let n = &self.names;
        let key = (|| {
            Some([
                n.find(account)?,
                n.find(region)?,
                n.find(service)?,
                n.find(operation)?,
            ])
        })();
        key.is_some_and(|k| self.calls.contains(&k))
    }

    /// Whether anything answered in this account and region.
    pub fn any_in(&self, account: &str, region: &str) -> bool {
        let (Some(a), Some(r)) = (self.names.find(account), self.names.find(region)) else {
            return false;
        };
        self.calls
            .range([a, r, 0, 0]..=[a, r, u32::MAX, u32::MAX])
            .next()
            .is_some()
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds another run's (or part's) calls.
    pub fn extend(&mut self, other: &Answered) {
        for c in other.unordered() {
            self.insert(c.account, c.region, c.service, c.operation);
        }
    }

    /// The calls of `accounts` only.
    pub fn of_accounts<'a>(&self, accounts: impl IntoIterator<Item = &'a str>) -> Answered {
        let mut out = Answered::default();
        for account in accounts {
            let Some(a) = self.names.find(account) else {
                continue;
            };
            for k in self
                .calls
                .range([a, 0, 0, 0]..=[a, u32::MAX, u32::MAX, u32::MAX])
            {
                let c = self.call(k);
                out.insert(c.account, c.region, c.service, c.operation);
            }
        }
        out
    }

    fn call(&self, k: &[u32; 4]) -> Call<'_> {
        Call {
            account: self.names.get(k[0]),
            region: self.names.get(k[1]),
            service: self.names.get(k[2]),
            operation: self.names.get(k[3]),
        }
    }

    fn unordered(&self) -> impl Iterator<Item = Call<'_>> {
        self.calls.iter().map(|k| self.call(k))
    }

    /// Every call, ordered by (account, region, service, operation). Only the keys are
    /// sorted (8 bytes a call, not the 64 of a call's four names).
    pub fn iter(&self) -> impl Iterator<Item = Call<'_>> {
        let mut keys: Vec<&[u32; 4]> = self.calls.iter().collect();
        keys.sort_unstable_by(|a, b| self.call(a).cmp(&self.call(b)));
        keys.into_iter().map(|k| self.call(k))
    }
}

impl PartialEq for Answered {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Serialize for Answered {
    /// As a list of calls, in order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for c in self.iter() {
            seq.serialize_element(&c)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Answered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Calls;
        impl<'de> serde::de::Visitor<'de> for Calls {
            type Value = Answered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of calls")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Answered, A::Error> {
                let mut out = Answered::default();
                while let Some(c) = seq.next_element::<OwnedCall>()? {
                    out.insert(&c.account, &c.region, &c.service, &c.operation);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Calls)
    }
}

/// Every collection outcome: the calls that answered, and each failure with its scope.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Coverage {
    answered: Answered,
    failures: Vec<CoverageEntry>,
}

impl Coverage {
    /// From the calls that answered and the failures (in any order).
    pub fn from_parts(answered: Answered, failures: Vec<CoverageEntry>) -> Self {
        let mut c = Coverage {
            answered,
            failures: Vec::new(),
        };
        for f in failures {
            c.push(f);
        }
        c.sort();
        c
    }

    /// The calls that answered, and the failures in report order.
    pub fn into_parts(self) -> (Answered, Vec<CoverageEntry>) {
        (self.answered, self.failures)
    }

    /// Records one outcome: an answer is kept once per (account, region, operation).
    pub fn push(&mut self, e: CoverageEntry) {
        if e.status == CallStatus::Ok {
            self.answered
                .insert(&e.account, &e.region, &e.service, &e.operation);
        } else {
            self.failures.push(e);
        }
    }

    /// Records that `service:operation` answered in this account and region.
    pub fn answer(&mut self, account: &str, region: &str, service: &str, operation: &str) {
        self.answered.insert(account, region, service, operation);
    }

    /// The outcomes in `accounts` only, failures in report order.
    pub fn of_accounts(&self, accounts: &BTreeSet<&str>) -> Coverage {
        let mut c = Coverage {
            answered: self.answered.of_accounts(accounts.iter().copied()),
            failures: self
                .failures
                .iter()
                .filter(|f| accounts.contains(f.account.as_str()))
                .cloned()
                .collect(),
        };
        c.sort();
        c
    }

    /// Adds another part's outcomes.
    pub fn extend(&mut self, other: Coverage) {
        self.answered.extend(&other.answered);
        self.failures.extend(other.failures);
    }

    /// Orders the failures by (account, region, operation, scope, status), as the report
    /// lists them.
    pub fn sort(&mut self) {
        self.failures.sort_by(|a, b| {
            (
                &a.account,
                &a.region,
                &a.service,
                &a.operation,
                &a.scope,
                a.status,
            )
                .cmp(&(
                    &b.account,
                    &b.region,
                    &b.service,
                    &b.operation,
                    &b.scope,
                    b.status,
                ))
        });
    }

    /// Failures of any of `ops` (`"ecs:DescribeServices"`) in this account and region that
    /// affect `resource`: region-wide failures, and failures scoped to `resource` itself.
    /// With `resource == None`, every failure in the region counts.
    pub fn gaps<'a>(
        &'a self,
        account: &'a str,
        region: &'a str,
        ops: &'a [&'a str],
        resource: Option<&'a str>,
    ) -> impl Iterator<Item = &'a CoverageEntry> + 'a {
        self.failures.iter().filter(move |e| {
            e.account == account
                && e.region == region
                && ops.iter().any(|op| e.op() == *op)
                && match (resource, e.scope.as_deref()) {
                    (_, None) => true,
                    (None, Some(_)) => true,
                    (Some(r), Some(s)) => r == s,
                }
        })
    }

    /// True when none of `ops` failed for `resource` (or the whole region).
    pub fn complete(
        &self,
        account: &str,
        region: &str,
        ops: &[&str],
        resource: Option<&str>,
    ) -> bool {
        self.gaps(account, region, ops, resource).next().is_none()
    }

    /// True when `op` (`service:Operation`) answered at least once in this account and
    /// region: the run reached it there (a region or account outside the run has no entry
    /// at all).
    pub fn answered(&self, account: &str, region: &str, op: &str) -> bool {
        let (service, operation) = op.split_once(':').unwrap_or(("", op));
        self.answered.contains(account, region, service, operation)
    }

    /// True when the run called anything in this account and region.
    pub fn reached(&self, account: &str, region: &str) -> bool {
        self.answered.any_in(account, region)
            || self
                .failures
                .iter()
                .any(|e| e.account == account && e.region == region)
    }

    /// Every failure.
    pub fn failures(&self) -> impl Iterator<Item = &CoverageEntry> {
        self.failures.iter()
    }
}

/// An inventory's coverage as one list of outcomes: the answers, then the failures.
#[derive(Serialize, Deserialize)]
struct Entries {
    entries: Vec<CoverageEntry>,
}

impl Serialize for Coverage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let answered = self.answered.iter().map(|c| CoverageEntry {
            account: c.account.into(),
            region: c.region.into(),
            service: c.service.into(),
            operation: c.operation.into(),
            scope: None,
            status: CallStatus::Ok,
            error_code: None,
            message: None,
        });
        Entries {
            entries: answered.chain(self.failures.iter().cloned()).collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Coverage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let e = Entries::deserialize(deserializer)?;
        Ok(Coverage::from_parts(Answered::default(), e.entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(account: &str, region: &str, op: &str, status: CallStatus) -> CoverageEntry {
        let (service, operation) = op.split_once(':').unwrap();
        CoverageEntry {
            account: account.into(),
            region: region.into(),
            service: service.into(),
            operation: operation.into(),
            scope: None,
            status,
            error_code: None,
            message: None,
        }
    }

    #[test]
    fn answers_are_kept_once_and_listed_in_report_order() {
        let mut a = Answered::default();
        // Out of order, and repeated as a paginated listing repeats them.
        a.insert("222", "us-east-1", "ecs", "ListClusters");
        a.insert("111", "us-east-1", "iam", "ListRoles");
        a.insert("111", "eu-west-1", "ecs", "ListClusters");
        a.insert("111", "us-east-1", "ecs", "DescribeServices");
        a.insert("222", "us-east-1", "ecs", "ListClusters");
        let listed: Vec<_> = a
            .iter()
            .map(|c| format!("{} {} {}:{}", c.account, c.region, c.service, c.operation))
            .collect();
        assert_eq!(
            listed,
            [
                "111 eu-west-1 ecs:ListClusters",
                "111 us-east-1 ecs:DescribeServices",
                "111 us-east-1 iam:ListRoles",
                "222 us-east-1 ecs:ListClusters",
            ]
        );
        assert!(a.contains("111", "us-east-1", "iam", "ListRoles"));
        assert!(!a.contains("222", "us-east-1", "iam", "ListRoles"));
        assert!(!a.contains("333", "us-east-1", "ecs", "ListClusters"));
        assert!(a.any_in("222", "us-east-1"));
        assert!(!a.any_in("222", "eu-west-1"));

        let only = a.of_accounts(["222", "444"]);
        assert_eq!(only.len(), 1);
        assert!(only.contains("222", "us-east-1", "ecs", "ListClusters"));

        // A report's list, read back, is the same set; added to another, each call once.
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({"account": "111", "region": "eu-west-1", "service": "ecs", "operation": "ListClusters"})
        );
        let back: Answered = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        let mut both = only.clone();
        both.extend(&back);
        assert_eq!(both, a);
    }

    #[test]
    fn answers_and_failures_each_go_where_they_are_asked_for() {
        let mut c = Coverage::default();
        c.push(entry(
            "111",
            "us-east-1",
            "ecs:ListClusters",
            CallStatus::Ok,
        ));
        c.push(entry(
            "111",
            "us-east-1",
            "ecs:ListClusters",
            CallStatus::Ok,
        ));
        c.push(entry(
            "111",
            "us-east-1",
            "ecs:DescribeServices",
            CallStatus::AccessDenied,
        ));
        c.push(entry(
            "222",
            "eu-west-1",
            "iam:ListRoles",
            CallStatus::Failed,
        ));
        assert!(c.answered("111", "us-east-1", "ecs:ListClusters"));
        assert!(!c.answered("111", "us-east-1", "ecs:DescribeServices"));
        assert!(
            c.reached("222", "eu-west-1"),
            "a failed call reached it too"
        );
        assert!(!c.reached("222", "us-east-1"));
        assert!(!c.complete("111", "us-east-1", &["ecs:DescribeServices"], None));
        assert!(c.complete("111", "us-east-1", &["ecs:ListClusters"], None));
        assert_eq!(c.failures().count(), 2);
        assert!(c.failures().all(|f| f.status != CallStatus::Ok));

        // As a list of outcomes: each answer once, then the failures.
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["entries"].as_array().unwrap().len(), 3);
        let back: Coverage = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
        let (answered, failures) = back.into_parts();
        assert_eq!(answered.len(), 1);
        assert_eq!(failures.len(), 2);
    }
}
