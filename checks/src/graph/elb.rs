//! The ELBv2 side of the graph: which listeners and rules route to a target group, which ECS
//! workloads register in it, and what DescribeTargetHealth says of its targets, summarised
//! once so the checks that read it (ELB003, ELB004) agree on it.

use std::collections::{BTreeMap, HashMap};

use crate::model::{
    EcsService, EksCluster, Inventory, Listener, ListenerRule, TargetGroup, TargetHealth,
    TaskDefinition,
};

use super::{EcsWorkload, EdgeKind, Graph, Node};

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

/// How a listener reaches a target group: its default action, or a rule.
#[derive(Debug, Clone, Copy)]
pub struct ListenerRoute<'a> {
    pub listener: &'a Listener,
    /// `None` for the default action.
    pub rule: Option<&'a ListenerRule>,
}
impl ListenerRoute<'_> {
    /// `default action` or `rule 10 (path-pattern /api/*)`.
    pub fn via(&self) -> String {
        self.rule
            .map_or_else(|| "default action".to_string(), ListenerRule::label)
    }

    /// The ARN that proves the route: the rule's, else the listener's.
    pub fn arn(&self) -> &str {
        self.rule.map_or(&self.listener.arn, |r| &r.arn)
    }
}
/// Rule priorities are numbers in strings; sort them as numbers.
fn rule_order(priority: &str) -> (u64, &str) {
    (priority.parse().unwrap_or(u64::MAX), priority)
}
impl<'a> Graph<'a> {
    /// The load balancers a target group sits behind: those its `LoadBalancerArns` lists and
    /// those whose listeners or rules forward to it, sorted.
    pub fn load_balancers_of(&self, tg_arn: &str) -> Vec<&str> {
        self.outgoing(tg_arn, EdgeKind::TargetGroupLoadBalancer)
            .collect()
    }

    /// Every route by which a listener sends traffic to the target group: its default action,
    /// or one of its rules (weight 0 forwards carry nothing and are not routes), in listener
    /// ARN then rule priority order.
    pub fn routes_to(&self, tg_arn: &str) -> Vec<ListenerRoute<'a>> {
        let mut routes: Vec<ListenerRoute<'a>> = self
            .incoming(tg_arn, EdgeKind::ListenerTargetGroup)
            .filter_map(|arn| match self.node(arn)? {
                Node::Listener(l) => Some(ListenerRoute {
                    listener: l,
                    rule: None,
                }),
                _ => None,
            })
            .collect();
        for arn in self.incoming(tg_arn, EdgeKind::RuleTargetGroup) {
            let Some(Node::ListenerRule(rule)) = self.node(arn) else {
                continue;
            };
            if let Some(Node::Listener(listener)) = self.node(&rule.listener_arn) {
                routes.push(ListenerRoute {
                    listener,
                    rule: Some(rule),
                });
            }
        }
        routes.sort_by(|a, b| {
            (
                a.listener.arn.as_str(),
                a.rule.map(|r| rule_order(&r.priority)),
            )
                .cmp(&(
                    b.listener.arn.as_str(),
                    b.rule.map(|r| rule_order(&r.priority)),
                ))
        });
        routes
    }

    /// ECS workloads whose tasks register in the target group.
    pub fn workloads_on_target_group(&self, tg_arn: &str) -> Vec<EcsWorkload<'a>> {
        self.workloads_by_target_group
            .get(tg_arn)
            .into_iter()
            .flatten()
            .map(|&i| self.ecs_workloads[i])
            .collect()
    }

    /// ECS workloads whose awsvpc tasks are meant to register in `tg` although it is of
    /// target type `instance`: its targets can never be those tasks, so whatever else is
    /// wrong with the group (no healthy targets) follows from that one mistake.
    pub fn awsvpc_workloads_on_instance_group(&self, tg: &TargetGroup) -> Vec<EcsWorkload<'a>> {
        if !tg.is_instance_type() {
            return Vec::new();
        }
        self.workloads_on_target_group(&tg.arn)
            .into_iter()
            .filter(|w| {
                self.task_definition(w.task_definition())
                    .is_some_and(TaskDefinition::is_awsvpc)
            })
            .collect()
    }

    /// Whether an `ip` target group health-checks a fixed port that no container of a
    /// workload registering in it maps (and that is not the port it registers): its targets
    /// fail every health check, so its having no healthy target follows from that mistake.
    pub fn health_check_misses_containers(&self, tg: &TargetGroup) -> bool {
        let Some(hc_port) = tg.fixed_health_check_port().filter(|_| tg.is_ip_type()) else {
            return false;
        };
        self.workloads_on_target_group(&tg.arn).iter().any(|w| {
            let Some(td) = self.task_definition(w.task_definition()) else {
                return false;
            };
            w.load_balancers()
                .iter()
                .filter(|lb| lb.target_group_arn.as_deref() == Some(tg.arn.as_str()))
                .any(|lb| {
                    lb.registered_port(Some(td)) != Some(hc_port)
                        && !td.mapped_ports().contains(&hc_port)
                })
        })
    }

    /// Target groups of the workload's `loadBalancers` that were collected.
    pub fn workload_target_groups(&self, w: &EcsWorkload<'_>) -> Vec<&'a TargetGroup> {
        let mut seen: Vec<&str> = Vec::new();
        w.target_group_arns()
            .filter(|arn| {
                let fresh = !seen.contains(arn);
                seen.push(arn);
                fresh
            })
            .filter_map(|arn| self.target_group(arn))
            .collect()
    }

    /// Target groups of the service's `loadBalancers` that were collected.
    pub fn service_target_groups(&self, service: &EcsService) -> Vec<&'a TargetGroup> {
        self.outgoing(&service.arn, EdgeKind::ServiceTargetGroup)
            .filter_map(|arn| self.target_group(arn))
            .collect()
    }

    /// The EKS cluster a target group's load balancer controller tag names, if collected.
    pub fn target_group_cluster(&self, tg: &TargetGroup) -> Option<&'a EksCluster> {
        self.outgoing(&tg.arn, EdgeKind::TargetGroupEksCluster)
            .find_map(|arn| self.eks_cluster(arn))
    }
}

/// AWS's health check interval when a target group does not say (seconds).
pub const DEFAULT_HEALTH_CHECK_INTERVAL: i32 = 30;
/// AWS's unhealthy threshold when a target group does not say.
pub const DEFAULT_UNHEALTHY_THRESHOLD: i32 = 2;

/// A service whose new tasks the load balancer fails before they have started: the target
/// group marks a target unhealthy sooner than the registered container's declared start
/// period, and the service's health check grace period does not cover the difference, so
/// ECS stops each new task as unhealthy and starts another, in a loop.
#[derive(Debug, Clone)]
pub struct SlowStart<'a> {
    pub workload: EcsWorkload<'a>,
    pub target_group: &'a TargetGroup,
    pub task_definition: &'a TaskDefinition,
    /// The container the load balancer sends traffic to.
    pub container: &'a str,
    /// Its health check's `startPeriod` (seconds).
    pub start_period: i32,
    /// The service's `healthCheckGracePeriodSeconds` (0 when absent).
    pub grace: i32,
    /// The target group's interval and unhealthy threshold (AWS's defaults when absent).
    pub interval: i32,
    pub threshold: i32,
}

impl SlowStart<'_> {
    /// Seconds from registration until the load balancer calls a target that never
    /// answers unhealthy.
    pub fn unhealthy_after(&self) -> i32 {
        self.interval.saturating_mul(self.threshold)
    }

    /// Seconds after which ECS acts on the load balancer's verdict.
    pub fn replaced_after(&self) -> i32 {
        self.grace.max(self.unhealthy_after())
    }
}

impl<'a> Graph<'a> {
    /// Whether ECS replaces the workload's tasks registering in `tg` before their declared
    /// start period ends (see [`SlowStart`]). Only services and task sets: nothing acts on
    /// the load balancer's health verdict for other workloads.
    pub fn slow_start(&self, w: &EcsWorkload<'a>, tg: &'a TargetGroup) -> Option<SlowStart<'a>> {
        let service = w.service()?;
        let td = self.task_definition(w.task_definition())?;
        let lb = w
            .load_balancers()
            .iter()
            .find(|lb| lb.target_group_arn.as_deref() == Some(tg.arn.as_str()))?;
        let name = lb.container_name.as_deref()?;
        let container = td.containers.iter().find(|c| c.name == name)?;
        let start_period = container
            .health_check
            .as_ref()?
            .start_period
            .filter(|s| *s > 0)?;
        let found = SlowStart {
            workload: *w,
            target_group: tg,
            task_definition: td,
            container: &container.name,
            start_period,
            grace: service
                .health_check_grace_period_seconds
                .unwrap_or(0)
                .max(0),
            interval: tg
                .health_check_interval_seconds
                .unwrap_or(DEFAULT_HEALTH_CHECK_INTERVAL),
            threshold: tg
                .unhealthy_threshold_count
                .unwrap_or(DEFAULT_UNHEALTHY_THRESHOLD),
        };
        (found.replaced_after() < start_period).then_some(found)
    }

    /// Whether some service registering in `tg` has its tasks replaced before they start
    /// ([`Graph::slow_start`]): the group's lack of healthy targets follows from that.
    pub fn slow_start_replaced(&self, tg: &'a TargetGroup) -> bool {
        self.workloads_on_target_group(&tg.arn)
            .iter()
            .any(|w| self.slow_start(w, tg).is_some())
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
