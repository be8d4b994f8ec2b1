//! Target group health in the graph: what DescribeTargetHealth says of each target group,
//! summarised once so the checks that read it (ELB003, ELB004) agree on it.

use std::collections::{BTreeMap, HashMap};

use crate::model::{Inventory, TargetHealth};

use super::Graph;

/// The health of one target group's registered targets.
#[derive(Debug, Clone)]
pub struct TargetGroupHealth<'a> {
    /// As collected, in collection order (may be empty: nothing registered).
    pub targets: &'a [TargetHealth],
    /// How many targets the load balancer sends new requests to (see [`serving`]).
    pub serving: usize,
    /// `3 unhealthy, 1 draining`: targets per state, in the order an operator reads them
    /// (the failing states first, states AWS may add later last, by name).
    pub states: String,
}

impl TargetGroupHealth<'_> {
    /// Whether some target is in `state` (any case).
    pub fn has(&self, state: &str) -> bool {
        self.targets
            .iter()
            .any(|t| t.state.eq_ignore_ascii_case(state))
    }
}

/// Whether the load balancer sends new requests to the target: `healthy`, or `unavailable`
/// (health checks disabled, as on Lambda target groups by default, or health not known to
/// the load balancer): neither proves the target is out of service.
pub fn serving(t: &TargetHealth) -> bool {
    t.state.eq_ignore_ascii_case("healthy") || t.state.eq_ignore_ascii_case("unavailable")
}

/// `3 unhealthy, 1 draining` (see [`TargetGroupHealth::states`]).
fn state_counts(targets: &[TargetHealth]) -> String {
    const ORDER: [&str; 7] = [
        "unhealthy",
        "unhealthy.draining",
        "initial",
        "draining",
        "unused",
        "unavailable",
        "healthy",
    ];
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for t in targets {
        let state = t.state.to_ascii_lowercase();
        let rank = ORDER
            .iter()
            .position(|s| *s == state)
            .unwrap_or(ORDER.len());
        *counts.entry((rank, state)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((_, state), n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The health of every target group whose targets were collected, by ARN (the first record
/// of an ARN wins).
pub(super) fn target_health(inv: &Inventory) -> HashMap<&str, TargetGroupHealth<'_>> {
    let mut map = HashMap::new();
    for tg in &inv.target_groups {
        let Some(targets) = tg.targets.as_deref() else {
            continue;
        };
        map.entry(tg.arn.as_str())
            .or_insert_with(|| TargetGroupHealth {
                targets,
                serving: targets.iter().filter(|t| serving(t)).count(),
                states: state_counts(targets),
            });
    }
    map
}

impl<'a> Graph<'a> {
    /// The health of the target group's targets; `None` when it was not collected.
    pub fn target_health(&self, tg_arn: &str) -> Option<&TargetGroupHealth<'a>> {
        self.target_health.get(tg_arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::target;

    #[test]
    fn states_are_counted_failing_first() {
        let targets = vec![
            target("a", 80, "healthy", None),
            target("b", 80, "Unhealthy", None),
            target("c", 80, "weird", None),
            target("d", 80, "unavailable", None),
            target("e", 80, "unhealthy", None),
        ];
        assert_eq!(
            state_counts(&targets),
            "2 unhealthy, 1 unavailable, 1 healthy, 1 weird"
        );
        assert_eq!(targets.iter().filter(|t| serving(t)).count(), 2);
    }

    #[test]
    fn state_counts_order_failing_states_first() {
        let ts = vec![
            target("a", 1, "healthy", None),
            target("b", 1, "draining", None),
            target("c", 1, "unhealthy", None),
            target("d", 1, "initial", None),
            target("e", 1, "unhealthy", None),
            target("f", 1, "someday", None),
        ];
        assert_eq!(
            state_counts(&ts),
            "2 unhealthy, 1 initial, 1 draining, 1 healthy, 1 someday"
        );
    }
}
