//! Findings, unknowns and their fingerprints.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

use crate::model::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown severity `{s}` (expected one of: critical, high, medium, low, info)"
                )
            })
    }
}

/// One link in the chain of resources and facts that proves a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// ARN or id of the resource the fact is about.
    pub resource: String,
    pub fact: String,
    /// What should be attached to this resource and is not (`S3 gateway endpoint`,
    /// `logs interface endpoint`): the piece the fix adds. Diagrams draw it as missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

impl Evidence {
    pub fn new(resource: impl Into<String>, fact: impl Into<String>) -> Self {
        Evidence {
            resource: resource.into(),
            fact: fact.into(),
            missing: None,
        }
    }

    /// Names the piece this resource lacks (see [`Evidence::missing`]).
    pub fn lacking(mut self, piece: impl Into<String>) -> Self {
        self.missing = Some(piece.into());
        self
    }
}

/// What a finding costs, or what its fix costs, a month at list prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// US dollars a month (730 hours), rounded to the cent.
    pub monthly_usd: f64,
    pub kind: CostKind,
    /// How the figure was reached: the prices, their region and date, the quantities.
    pub basis: String,
}

// Amounts are rounded to the cent and never NaN, so equality is total.
impl Eq for Cost {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostKind {
    /// Paid now for nothing (an idle cluster, extended support): fixing it saves this.
    Waste,
    /// What the fix adds to the bill (interface endpoints, say).
    Fix,
}

impl CostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CostKind::Waste => "waste",
            CostKind::Fix => "fix",
        }
    }
}

/// A misconfiguration found in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Check code, `ELB001`.
    pub check: String,
    /// Check name, `awsvpc-service-on-instance-target-group`.
    pub name: String,
    pub severity: Severity,
    pub account: String,
    pub region: String,
    /// ARN of the resource the finding is about.
    pub resource: String,
    pub message: String,
    pub remediation: String,
    pub evidence: Vec<Evidence>,
    /// Stable identity of this misconfiguration across runs; see [`fingerprint`].
    pub fingerprint: String,
    /// Against a baseline report: whether the previous run reported it too. Absent
    /// without a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// The monthly cost of the problem (waste) or of its fix, where it is computable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Who owns the resource, from the first `--owner-tag` key found on it or its parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A finding compared with a baseline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Not in the baseline: open a ticket.
    New,
    /// In the baseline too (same fingerprint): the ticket exists.
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Unchanged => "unchanged",
        }
    }
}

/// A check that could not be evaluated for a scope because data it needs was not collected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unknown {
    pub check: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// The resource the gap is about, when narrower than the region.
    pub resource: Option<String>,
    pub reason: String,
}

/// Something a check says about the run as a whole rather than about a resource (its
/// reference data is out of date, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Note {
    pub check: String,
    pub name: String,
    pub message: String,
}

/// The fingerprint of a finding: a hash of the check code, account, region, resource ARN and
/// the check's discriminator (what distinguishes two findings of one check on one resource,
/// such as the target group or subnet concerned). Messages, severities and evidence wording
/// are deliberately left out, so rewording a message never reopens a ticket.
pub fn fingerprint(code: &str, scope: &Scope, resource: &str, discriminator: &str) -> String {
    let mut h = Sha256::new();
    for part in [code, &scope.account, &scope.region, resource, discriminator] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_identity_only() {
        let s = Scope::new("111122223333", "us-east-1");
        let a = fingerprint("ELB001", &s, "arn:svc", "arn:tg");
        assert_eq!(a, fingerprint("ELB001", &s, "arn:svc", "arn:tg"));
        assert_ne!(a, fingerprint("ELB001", &s, "arn:svc", "arn:tg2"));
        assert_ne!(a, fingerprint("ECS001", &s, "arn:svc", "arn:tg"));
        // Parts are delimited: moving a character across a boundary changes the hash.
        assert_ne!(
            fingerprint("A", &s, "bc", ""),
            fingerprint("A", &s, "b", "c")
        );
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn severity_parses_and_orders() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
