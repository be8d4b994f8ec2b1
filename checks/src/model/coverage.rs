//! What the collector could and could not read: one entry per (account, region, operation).

use serde::{Deserialize, Serialize};

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

/// Every collection outcome. Successful calls are kept once per (account, region,
/// operation); each failure is kept with its scope.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    pub entries: Vec<CoverageEntry>,
}

impl Coverage {
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
        self.entries.iter().filter(move |e| {
            e.status != CallStatus::Ok
                && e.account == account
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

    /// True when `op` answered at least once in this account and region: the run reached
    /// it there (a region or account outside the run has no entry at all).
    pub fn answered(&self, account: &str, region: &str, op: &str) -> bool {
        self.entries.iter().any(|e| {
            e.status == CallStatus::Ok && e.account == account && e.region == region && e.op() == op
        })
    }

    /// True when the run called anything in this account and region.
    pub fn reached(&self, account: &str, region: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.account == account && e.region == region)
    }

    /// Every failure.
    pub fn failures(&self) -> impl Iterator<Item = &CoverageEntry> {
        self.entries.iter().filter(|e| e.status != CallStatus::Ok)
    }
}
