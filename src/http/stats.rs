//! Call statistics: calls, retries and throttles per operation.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::sync;

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct OpStats {
    /// Logical calls (first attempts), one per page.
    pub calls: u64,
    /// Further attempts of a call after a retryable failure.
    pub retries: u64,
    /// Responses that were throttling errors.
    pub throttles: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    ops: Mutex<BTreeMap<(String, String), OpStats>>,
}

impl Stats {
    /// Counts one HTTP attempt; attempt 1 is a new call, later ones are retries.
    pub fn attempt(&self, service: &str, operation: &str, attempt: u32) {
        let mut ops = sync::lock(&self.ops);
        let s = ops
            .entry((service.to_string(), operation.to_string()))
            .or_default();
        if attempt <= 1 {
            s.calls += 1;
        } else {
            s.retries += 1;
        }
    }

    pub fn throttle(&self, service: &str, operation: &str) {
        let mut ops = sync::lock(&self.ops);
        ops.entry((service.to_string(), operation.to_string()))
            .or_default()
            .throttles += 1;
    }

    /// `(service, operation) → stats`, sorted.
    pub fn snapshot(&self) -> BTreeMap<(String, String), OpStats> {
        sync::lock(&self.ops).clone()
    }
}
