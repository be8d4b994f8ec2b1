//! Client-side retry quotas, one per (service, region) of an account.
//!
//! The SDK stops retrying when a partition's token bucket is spent, so the partition decides
//! whose failures spend whose retries: AWS throttles per account, region and API, so each
//! (service, account, region) gets its own, and one account's throttling never spends
//! another's retries. A partition named with `RetryPartition::new` would have its bucket
//! kept in the SDK's process-wide map until the process ends: one per (service, region) of
//! every account a fleet run ever reached, a few megabytes at a thousand accounts. These are
//! custom partitions that carry their own bucket, held by the account's session and let go
//! once the account is checked; a call into the account after that starts on a full quota,
//! as it would once the account had been quiet for a while.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_ecs::config::retry::RetryPartition;

use crate::sync;

#[derive(Debug, Default)]
pub(super) struct RetryQuotas {
    partitions: Mutex<HashMap<(&'static str, String), RetryPartition>>,
}

impl RetryQuotas {
    /// The partition of `service` in `region` of `account`: the same one (the same bucket)
    /// for every client of it until `release`.
    pub(super) fn partition(
        &self,
        service: &'static str,
        account: &str,
        region: &str,
    ) -> RetryPartition {
        sync::lock(&self.partitions)
            .entry((service, region.to_string()))
            // The bucket is the SDK's default (500 tokens, 5 a retry), the one a named
            // partition gets under the standard retry mode this session uses.
            .or_insert_with(|| {
                RetryPartition::custom(format!("{service}/{account}/{region}")).build()
            })
            .clone()
    }

    /// Lets go of every partition; clients still alive keep theirs.
    pub(super) fn release(&self) {
        sync::lock(&self.partitions).clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        sync::lock(&self.partitions).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_partition_per_service_and_region_until_released() {
        let q = RetryQuotas::default();
        let ecs = q.partition("ecs", "111111111111", "us-east-1");
        assert_eq!(q.partition("ecs", "111111111111", "us-east-1"), ecs);
        assert_ne!(q.partition("ecs", "111111111111", "eu-west-1"), ecs);
        assert_ne!(q.partition("ec2", "111111111111", "us-east-1"), ecs);
        assert_eq!(q.len(), 3);
        assert_eq!(ecs.to_string(), "ecs/111111111111/us-east-1");
        q.release();
        assert_eq!(q.len(), 0);
    }
}
