//! ELB004: target groups a listener forwards to that have no healthy target.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EdgeKind, ListenerRoute, Node, TargetGroupHealth};
use crate::model::{Listener, LoadBalancer, TargetGroup};
use crate::registry::{Ctx, Emitter, Missing, Report};

const HEALTH_OP: &str = "elbv2:DescribeTargetHealth";

/// At most this many targets are listed one by one in the evidence.
const LISTED_TARGETS: usize = 5;

declare_check! {
    /// ## What it finds
    ///
    /// Target groups that a listener forwards traffic to, through its default action or one
    /// of its rules (path- and host-based routing), where no registered target is healthy:
    /// the group is empty, or every target is `unhealthy`, `initial`, `draining` or
    /// `unused`. The message names the listeners (protocol and port) and rules, the load
    /// balancer and the count of targets in each state (`3 unhealthy, 1 draining`).
    ///
    /// Not reported:
    ///
    /// - targets in state `unavailable`: that is how a Lambda target group with health checks
    ///   off (their default) reports a function the load balancer still invokes;
    /// - a group that a weighted forward gives weight 0: it receives nothing (blue/green
    ///   setups park the idle colour that way on purpose);
    /// - an `instance` group that awsvpc ECS services register in: ELB001 reports that cause
    ///   (one problem, one finding);
    /// - an `ip` group whose health checks aim at a port no container maps: ELB003 reports
    ///   that cause;
    /// - a group whose load balancer cannot reach the ECS tasks registering in it through
    ///   their security groups: ELB005 reports that cause;
    /// - a group whose ECS service's tasks are failed before their declared start period
    ///   ends (no or too short a health check grace period): ELB006 reports that cause.
    ///
    /// ## Why it matters
    ///
    /// Whatever the listener sends to this group fails right now. With no registered target
    /// an Application Load Balancer answers 503 and a Network Load Balancer cannot open
    /// connections. When every target fails its health checks the load balancer fails open
    /// and sends traffic to those failing targets anyway. Targets still in `initial`
    /// (registering, or in their first health checks) serve nothing either: if the check
    /// keeps finding them there, they never pass.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws elbv2 describe-listeners --load-balancer-arn LOAD_BALANCER_ARN \
    ///   --query 'Listeners[].{port:Port,protocol:Protocol,actions:DefaultActions}'
    /// aws elbv2 describe-rules --listener-arn LISTENER_ARN \
    ///   --query 'Rules[].{priority:Priority,conditions:Conditions,actions:Actions}'
    /// aws elbv2 describe-target-health --target-group-arn TARGET_GROUP_ARN \
    ///   --query 'TargetHealthDescriptions[].[Target.Id,Target.Port,TargetHealth.State,TargetHealth.Reason]' \
    ///   --output table
    /// ```
    ///
    /// ## How to fix
    ///
    /// For an empty group, register targets, or point the listener at the group that has
    /// them; when an ECS service should register them, find why it runs no tasks
    /// (`aws ecs describe-services … --query 'services[0].events[:10]'`). For unhealthy
    /// targets, read the reason codes: `Target.Timeout` usually means a security group or
    /// the health check port does not let the load balancer reach the target,
    /// `Target.ResponseCodeMismatch` a health check path that does not answer with the
    /// expected code. Then fix the health check (`aws elbv2 modify-target-group`) or the
    /// application.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
    pub static ELB004 = {
        code: "ELB004",
        name: "no-healthy-targets",
        severity: Severity::High,
        summary: "listener forwards to a target group with no healthy targets",
        needs: [
            "elbv2:DescribeLoadBalancers",
            "elbv2:DescribeListeners",
            "elbv2:DescribeRules",
            "elbv2:DescribeTargetGroups",
            "elbv2:DescribeTargetHealth",
            // Whether awsvpc services register in an `instance` group (ELB001's case).
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let graph = ctx.graph;
    for tg in &ctx.inventory.target_groups {
        let routes = graph.routes_to(&tg.arn);
        // An `instance` group that awsvpc services register in can never hold their tasks:
        // ELB001 reports that one cause, with its fix; a second ticket here would be noise.
        if routes.is_empty() || !graph.awsvpc_workloads_on_instance_group(tg).is_empty() {
            continue;
        }
        // Health checks aimed at a port no container maps fail on every target: ELB003
        // reports that cause and its fix.
        if graph.health_check_misses_containers(tg) {
            continue;
        }
        // Security groups that stop the load balancer reaching the tasks (ELB005), or a
        // service whose tasks are replaced before they have started (ELB006): either
        // leaves the group without healthy targets, and its own check names the fix.
        if graph.traffic_blocked(tg) || graph.slow_start_replaced(tg) {
            continue;
        }
        // Whether that is the cause is unknown while a registering service's task
        // definition (its network mode) is.
        if tg.is_instance_type() {
            let undecided: Vec<String> = graph
                .workloads_on_target_group(&tg.arn)
                .iter()
                .filter(|w| graph.task_definition(w.task_definition()).is_none())
                .map(|w| w.describe())
                .collect();
            let services_complete = ctx.complete(
                &tg.scope,
                &[
                    "ecs:ListClusters",
                    "ecs:ListServices",
                    "ecs:DescribeServices",
                ],
                None,
            );
            if !services_complete {
                out.unknown(
                    &tg.scope,
                    Some(&tg.arn),
                    format!(
                        "ECS services were not all collected: cannot tell whether awsvpc tasks are registering in `instance` target group `{}`",
                        tg.name
                    ),
                );
                continue;
            }
            if !undecided.is_empty() {
                out.unknown(
                    &tg.scope,
                    Some(&tg.arn),
                    format!(
                        "the task definitions of {} were not collected: cannot tell whether awsvpc tasks are registering in `instance` target group `{}`",
                        undecided.join(", "),
                        tg.name
                    ),
                );
                continue;
            }
        }
        let Some(health) = graph.target_health(&tg.arn) else {
            let reason = match ctx.why_missing(&tg.scope, HEALTH_OP, &tg.arn) {
                Missing::ReportedByEngine => continue,
                Missing::RegionWide => {
                    format!("could not be read: {HEALTH_OP} failed in this region")
                }
                Missing::NotCollected => String::from("was not collected"),
            };
            out.unknown(
                &tg.scope,
                Some(&tg.arn),
                format!(
                    "target group `{}` receives traffic from a listener, but its target health {reason}",
                    tg.name
                ),
            );
            continue;
        };
        // Every route here carries part of the traffic (weight above 0): whatever share it
        // sends to this group fails, whatever its siblings do.
        if health.serving > 0 {
            continue;
        }
        out.report(&tg.scope, report(ctx, tg, health, &routes));
    }
}

/// `HTTPS:443`; a Gateway Load Balancer listener has neither protocol nor port.
fn listener_label(l: &Listener) -> String {
    match (l.protocol.as_deref(), l.port) {
        (Some(p), Some(n)) => format!("{p}:{n}"),
        (None, Some(n)) => format!("port {n}"),
        (Some(p), None) => p.to_string(),
        (None, None) => l.arn.rsplit('/').next().unwrap_or(&l.arn).to_string(),
    }
}

/// The load balancer's name: from its record, else from its ARN
/// (`…:loadbalancer/app/NAME/ID`).
fn lb_name<'a>(lb: Option<&'a LoadBalancer>, arn: &'a str) -> &'a str {
    match lb {
        Some(lb) => &lb.name,
        None => arn
            .split_once(":loadbalancer/")
            .and_then(|(_, rest)| rest.split('/').nth(1))
            .unwrap_or(arn),
    }
}

fn load_balancer<'a>(ctx: &Ctx<'a>, arn: &str) -> Option<&'a LoadBalancer> {
    match ctx.graph.node(arn) {
        Some(Node::LoadBalancer(lb)) => Some(lb),
        _ => None,
    }
}

fn report(
    ctx: &Ctx<'_>,
    tg: &TargetGroup,
    health: &TargetGroupHealth<'_>,
    routes: &[ListenerRoute<'_>],
) -> Report {
    let targets = health.targets;
    // Routes grouped by load balancer, in ARN order.
    let mut by_lb: BTreeMap<&str, Vec<&ListenerRoute<'_>>> = BTreeMap::new();
    for r in routes {
        by_lb
            .entry(&r.listener.load_balancer_arn)
            .or_default()
            .push(r);
    }
    let mut behind = Vec::new();
    let mut evidence = Vec::new();
    let mut application = false;
    for (lb_arn, ls) in &by_lb {
        let lb = load_balancer(ctx, lb_arn);
        application |= lb.is_some_and(|lb| {
            lb.lb_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("application"))
        });
        let name = lb_name(lb, lb_arn);
        // `HTTPS:443` for a default action, `HTTPS:443 rule 10 (path-pattern /api/*)`.
        let labels: Vec<String> = ls
            .iter()
            .map(|r| match r.rule {
                None => listener_label(r.listener),
                Some(rule) => format!("{} {}", listener_label(r.listener), rule.label()),
            })
            .collect();
        let mut listeners: Vec<&str> = ls.iter().map(|r| r.listener.arn.as_str()).collect();
        listeners.dedup();
        let noun = if labels.len() == 1 {
            "listener"
        } else {
            "listeners"
        };
        behind.push(format!(
            "{noun} {} of load balancer `{name}`",
            labels.join(", ")
        ));
        for r in ls {
            evidence.push(Evidence::new(
                r.arn(),
                format!(
                    "{} listener of load balancer `{name}` forwards to target group `{}` ({})",
                    listener_label(r.listener),
                    tg.name,
                    r.via()
                ),
            ));
        }
    }
    let behind = behind.join(" and ");
    let target_type = tg.target_type.as_deref().unwrap_or("instance");
    let services: Vec<_> = ctx
        .graph
        .incoming(&tg.arn, EdgeKind::ServiceTargetGroup)
        .filter_map(|arn| ctx.graph.ecs_service(arn))
        .filter(|s| s.is_live())
        .collect();

    let counts = &health.states;
    let has = |state: &str| health.has(state);
    let (state_text, consequence, remediation) = if targets.is_empty() {
        (
            String::from("has no registered targets"),
            if application {
                "every request forwarded to it gets a 503"
            } else {
                "every request or connection forwarded to it fails"
            }
            .to_string(),
            if services.is_empty() {
                format!(
                    "Register targets in `{}`, or point the listener at a target group that has healthy ones.",
                    tg.name
                )
            } else {
                let names: Vec<String> = services.iter().map(|s| format!("`{}`", s.name)).collect();
                format!(
                    "ECS service {} should register its tasks in `{}`: find why it runs none (`aws ecs describe-services` events, stopped tasks' reasons).",
                    names.join(", "),
                    tg.name
                )
            },
        )
    } else if has("unhealthy") || has("unhealthy.draining") {
        (
            format!("has no healthy targets ({counts})"),
            String::from(
                "no target passes its health checks, so clients get errors or reach targets the load balancer knows are failing",
            ),
            format!(
                "Read the reason codes (`aws elbv2 describe-target-health --target-group-arn {}`) and fix the cause: health check port or path of `{}` not matching the application, security groups not admitting the load balancer, or the application itself failing.",
                tg.arn, tg.name
            ),
        )
    } else if has("initial") {
        (
            format!("has no healthy targets ({counts})"),
            String::from(
                "its targets are still registering or in their first health checks, so nothing serves this traffic right now, an outage until they pass",
            ),
            format!(
                "Check again in a few minutes (`aws elbv2 describe-target-health --target-group-arn {}`); if the targets stay `initial` or turn `unhealthy`, fix their health checks.",
                tg.arn
            ),
        )
    } else {
        (
            format!("has no healthy targets ({counts})"),
            String::from("nothing serves the traffic forwarded to it"),
            format!(
                "Register healthy targets in `{}` in an Availability Zone the load balancer has enabled, or point the listener at a target group that has them.",
                tg.name
            ),
        )
    };

    evidence.push(Evidence::new(
        &tg.arn,
        if targets.is_empty() {
            format!("target type {target_type}; no registered targets")
        } else {
            format!(
                "target type {target_type}; {} registered targets, 0 healthy: {counts}",
                targets.len()
            )
        },
    ));
    for t in targets.iter().take(LISTED_TARGETS) {
        let at = t.port.map_or(t.id.clone(), |p| format!("{}:{p}", t.id));
        let why = t
            .reason
            .as_deref()
            .map_or(String::new(), |r| format!(" ({r})"));
        evidence.push(Evidence::new(
            &tg.arn,
            format!("target {at} {}{why}", t.state),
        ));
    }
    if targets.len() > LISTED_TARGETS {
        evidence.push(Evidence::new(
            &tg.arn,
            format!("… and {} more targets", targets.len() - LISTED_TARGETS),
        ));
    }
    for s in &services {
        evidence.push(Evidence::new(
            &s.arn,
            format!(
                "service `{}` registers its tasks in `{}` (desired {}, running {}, pending {})",
                s.name, tg.name, s.desired_count, s.running_count, s.pending_count
            ),
        ));
    }

    Report {
        severity: Severity::High,
        resource: tg.arn.clone(),
        discriminator: String::new(),
        message: format!(
            "target group `{}` behind {behind} {state_text}: {consequence}",
            tg.name
        ),
        remediation,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TargetHealth;
    use crate::testkit::{target, Builder};

    /// ALB `web-alb` with an HTTPS:443 listener forwarding to `ip` target group `web-tg`,
    /// which holds `targets`.
    fn alb(targets: Vec<TargetHealth>) -> Builder {
        let mut b = Builder::new();
        b.load_balancer("web-alb");
        b.target_group("web-tg", "ip").targets = Some(targets);
        b.listener("web-alb", "HTTPS", 443, &["web-tg"]);
        b
    }

    fn healthy(ip: &str) -> TargetHealth {
        target(ip, 8080, "healthy", None)
    }

    fn unhealthy(ip: &str) -> TargetHealth {
        target(ip, 8080, "unhealthy", Some("Target.Timeout"))
    }

    #[test]
    fn all_unhealthy_fires_with_counts() {
        let b = alb(vec![
            unhealthy("10.0.1.5"),
            unhealthy("10.0.1.6"),
            unhealthy("10.0.1.7"),
            target(
                "10.0.1.8",
                8080,
                "draining",
                Some("Target.DeregistrationInProgress"),
            ),
        ]);
        let out = b.run(&[&ELB004]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.tg_arn("web-tg"));
        assert_eq!(
            f.message,
            "target group `web-tg` behind listener HTTPS:443 of load balancer `web-alb` has no healthy targets (3 unhealthy, 1 draining): no target passes its health checks, so clients get errors or reach targets the load balancer knows are failing"
        );
        let facts: Vec<&str> = f.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert!(facts
            .contains(&"target type ip; 4 registered targets, 0 healthy: 3 unhealthy, 1 draining"));
        assert!(facts.contains(&"target 10.0.1.5:8080 unhealthy (Target.Timeout)"));
        assert!(f.remediation.contains("describe-target-health"));
    }

    #[test]
    fn one_healthy_target_is_enough() {
        let out = alb(vec![unhealthy("10.0.1.5"), healthy("10.0.1.6")]).run(&[&ELB004]);
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
    }

    #[test]
    fn empty_group_fires_and_names_the_ecs_service() {
        let mut b = alb(vec![]);
        b.task_def("web", Some("awsvpc"), &["nginx:1"]);
        b.service("web", "web", &["subnet-1"]).running_count = 0;
        b.attach("web", "web-tg");
        let out = b.run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(
            f.message,
            "target group `web-tg` behind listener HTTPS:443 of load balancer `web-alb` has no registered targets: every request forwarded to it gets a 503"
        );
        assert!(f
            .remediation
            .starts_with("ECS service `web` should register"));
        assert!(f.evidence.iter().any(|e| e.fact
            == "service `web` registers its tasks in `web-tg` (desired 2, running 0, pending 0)"));
    }

    #[test]
    fn initial_targets_are_an_outage_now() {
        let out = alb(vec![
            target(
                "10.0.1.5",
                8080,
                "initial",
                Some("Elb.InitialHealthChecking"),
            ),
            target(
                "10.0.1.6",
                8080,
                "initial",
                Some("Elb.RegistrationInProgress"),
            ),
        ])
        .run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.ends_with(
            "has no healthy targets (2 initial): its targets are still registering or in their first health checks, so nothing serves this traffic right now, an outage until they pass"
        ));
    }

    #[test]
    fn unused_targets_fire() {
        let out = alb(vec![target(
            "10.0.9.9",
            8080,
            "unused",
            Some("Target.NotInUse"),
        )])
        .run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("(1 unused): nothing serves"));
    }

    #[test]
    fn lambda_with_health_checks_off_is_silent_but_empty_lambda_fires() {
        let fn_arn = "arn:aws:lambda:us-east-1:111122223333:function:api";
        let mut b = alb(vec![TargetHealth {
            id: fn_arn.into(),
            port: None,
            state: "unavailable".into(),
            reason: Some("Target.HealthCheckDisabled".into()),
        }]);
        b.inv.target_groups[0].target_type = Some("lambda".into());
        assert!(b.run(&[&ELB004]).findings.is_empty());

        b.inv.target_groups[0].targets = Some(vec![]);
        assert_eq!(b.run(&[&ELB004]).findings.len(), 1);
    }

    #[test]
    fn alb_target_of_a_network_load_balancer_follows_its_health() {
        let alb_arn =
            "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/inner/1";
        let mut b = Builder::new();
        b.load_balancer("edge").lb_type = Some("network".into());
        let tg = b.target_group("to-alb", "alb");
        tg.protocol = Some("TCP".into());
        tg.targets = Some(vec![target(alb_arn, 80, "healthy", None)]);
        b.listener("edge", "TCP", 80, &["to-alb"]);
        assert!(b.run(&[&ELB004]).findings.is_empty());

        b.inv.target_groups[0].targets = Some(vec![target(
            alb_arn,
            80,
            "unhealthy",
            Some("Target.FailedHealthChecks"),
        )]);
        let out = b.run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .starts_with("target group `to-alb` behind listener TCP:80 of load balancer `edge` has no healthy targets (1 unhealthy)"));
    }

    #[test]
    fn group_without_listener_is_ignored() {
        let mut b = Builder::new();
        b.target_group("spare", "ip").targets = Some(vec![]);
        let out = b.run(&[&ELB004]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty());
    }

    #[test]
    fn several_listeners_are_named_once_each() {
        let mut b = alb(vec![]);
        b.listener("web-alb", "HTTP", 80, &["web-tg"]);
        let out = b.run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        assert!(
            out.findings[0]
                .message
                .contains("behind listeners HTTP:80, HTTPS:443 of load balancer `web-alb` has"),
            "{}",
            out.findings[0].message
        );
        assert_eq!(
            out.findings[0].evidence.len(),
            3,
            "two listeners, the group"
        );
        // The load balancer was not collected: its name comes from the ARN.
        b.inv.load_balancers.clear();
        let out = b.run(&[&ELB004]);
        assert!(out.findings[0]
            .message
            .contains("of load balancer `web-alb`"));
        assert!(out.findings[0]
            .message
            .ends_with("every request or connection forwarded to it fails"));
    }

    fn weigh(b: &mut Builder, weights: &[Option<i32>]) {
        for (f, w) in b.inv.listeners[0].default_forwards.iter_mut().zip(weights) {
            f.weight = *w;
        }
    }

    #[test]
    fn weighted_forward_judges_each_group_by_its_own_weight() {
        // Blue/green: blue serves at weight 100, green is parked at weight 0.
        let mut b = Builder::new();
        b.load_balancer("web-alb");
        b.target_group("blue", "ip").targets = Some(vec![healthy("10.0.1.5")]);
        b.target_group("green", "ip").targets = Some(vec![]);
        b.listener("web-alb", "HTTPS", 443, &["blue", "green"]);
        weigh(&mut b, &[Some(100), Some(0)]);
        assert!(b.run(&[&ELB004]).findings.is_empty());

        // A canary share to an empty green fails, whatever blue does.
        weigh(&mut b, &[Some(90), Some(10)]);
        let out = b.run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.starts_with("target group `green`"));

        // Both dead: both reported.
        b.inv.target_groups[0].targets = Some(vec![unhealthy("10.0.1.5")]);
        assert_eq!(b.run(&[&ELB004]).findings.len(), 2);
    }

    #[test]
    fn an_instance_group_of_awsvpc_services_is_left_to_elb001() {
        let mut b = Builder::new();
        b.load_balancer("web-alb");
        b.target_group("web-tg", "instance").targets = Some(vec![]);
        b.listener("web-alb", "HTTP", 80, &["web-tg"]);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let tg = b.tg_arn("web-tg");
        b.service("web", "web", &["subnet-1"]).load_balancers =
            vec![crate::model::ServiceLoadBalancer {
                target_group_arn: Some(tg),
                load_balancer_name: None,
                container_name: Some("c0".into()),
                container_port: Some(8080),
            }];
        let elb001 = crate::rules::find("ELB001").expect("registered");
        let out = b.run(&[&ELB004, elb001]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB001"], "one problem, one finding");
    }

    #[test]
    fn groups_reached_only_through_listener_rules_are_judged() {
        let mut b = alb(vec![healthy("10.0.1.5")]);
        b.target_group("api-tg", "ip").targets = Some(vec![unhealthy("10.0.2.7")]);
        b.target_group("parked", "ip").targets = Some(vec![]);
        b.rule("web-alb", 443, 10, "/api/*", &[("api-tg", None)]);
        b.rule(
            "web-alb",
            443,
            20,
            "/v2/*",
            &[("api-tg", Some(5)), ("parked", Some(0))],
        );
        let out = b.run(&[&ELB004]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(
            f.message,
            "target group `api-tg` behind listeners HTTPS:443 rule 10 (path-pattern /api/*), HTTPS:443 rule 20 (path-pattern /v2/*) of load balancer `web-alb` has no healthy targets (1 unhealthy): no target passes its health checks, so clients get errors or reach targets the load balancer knows are failing"
        );
        assert!(f.evidence[0].resource.contains(":listener-rule/"));
        assert_eq!(
            f.evidence[0].fact,
            "HTTPS:443 listener of load balancer `web-alb` forwards to target group `api-tg` (rule 10 (path-pattern /api/*))"
        );
        // The rule relates the group to its load balancer for every other check.
        let graph = crate::graph::Graph::build(&b.inv);
        assert_eq!(
            graph
                .outgoing(&b.tg_arn("api-tg"), EdgeKind::TargetGroupLoadBalancer)
                .collect::<Vec<_>>(),
            vec![b.lb_arn("web-alb")]
        );
        assert_eq!(
            graph
                .outgoing(&b.tg_arn("parked"), EdgeKind::TargetGroupLoadBalancer)
                .count(),
            0,
            "weight 0 relates nothing"
        );
    }

    #[test]
    fn missing_health_is_unknown_never_a_pass() {
        let mut b = alb(vec![]);
        b.inv.target_groups[0].targets = None;
        let tg = b.tg_arn("web-tg");
        let out = b.run(&[&ELB004]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert_eq!(out.unknowns[0].resource.as_deref(), Some(tg.as_str()));
        assert!(out.unknowns[0]
            .reason
            .ends_with("its target health was not collected"));

        // The call failed for this group: one unknown, the engine's.
        b.gap(HEALTH_OP, Some(&tg));
        let out = b.run(&[&ELB004]);
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0]
            .reason
            .starts_with("elbv2:DescribeTargetHealth access denied"));

        // Region-wide failure: the engine names the region, the check the group.
        let mut b = alb(vec![]);
        b.inv.target_groups[0].targets = None;
        b.gap(HEALTH_OP, None);
        let out = b.run(&[&ELB004]);
        assert_eq!(out.unknowns.len(), 2, "{:?}", out.unknowns);
        assert!(out
            .unknowns
            .iter()
            .any(|u| u.resource.as_deref() == Some(tg.as_str())
                && u.reason.ends_with("failed in this region")));
    }

    #[test]
    fn long_target_lists_are_cut() {
        let ts: Vec<TargetHealth> = (0..8).map(|i| unhealthy(&format!("10.0.1.{i}"))).collect();
        let out = alb(ts).run(&[&ELB004]);
        let f = &out.findings[0];
        let listed = f
            .evidence
            .iter()
            .filter(|e| e.fact.starts_with("target 10."))
            .count();
        assert_eq!(listed, LISTED_TARGETS);
        assert!(f.evidence.iter().any(|e| e.fact == "… and 3 more targets"));
    }

    #[test]
    fn a_health_check_on_an_unmapped_port_is_left_to_elb003() {
        let mut b = alb(vec![unhealthy("10.0.1.5")]);
        b.inv.target_groups[0].health_check_port = Some("8081".into());
        b.task_def("web", Some("awsvpc"), &["nginx"]).containers[0].port_mappings =
            vec![crate::model::PortMapping {
                container_port: Some(8080),
                host_port: Some(8080),
                protocol: None,
            }];
        b.service("web", "web", &["subnet-1"]);
        b.attach("web", "web-tg");
        let elb003 = crate::rules::find("ELB003").expect("registered");
        let out = b.run(&[&ELB004, elb003]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB003"], "one problem, one finding");
    }

    /// `alb` with service `web` (container `c0` on 8080, group sg-app) registering in
    /// `web-tg`, all targets unhealthy.
    fn blocked_or_slow() -> Builder {
        let mut b = alb(vec![unhealthy("10.0.1.5")]);
        b.inv.load_balancers[0].security_groups = vec!["sg-lb".into()];
        b.inv.target_groups[0].health_check_interval_seconds = Some(10);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-1"])
            .network
            .as_mut()
            .unwrap()
            .security_groups = vec!["sg-app".into()];
        b.attach("web", "web-tg");
        b.inv.ecs_services[0].load_balancers[0].container_port = Some(8080);
        b.security_group("sg-lb", vec![]);
        b
    }

    #[test]
    fn blocked_security_groups_are_left_to_elb005() {
        let mut b = blocked_or_slow();
        b.security_group("sg-app", vec![]);
        let elb005 = crate::rules::find("ELB005").expect("registered");
        let out = b.run(&[&ELB004, elb005]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB005"], "one problem, one finding");

        // The clean twin: the tasks admit the load balancer, so the cause is elsewhere.
        b.inv.security_groups[1].ingress = vec![crate::model::SgRule {
            protocol: "tcp".into(),
            from_port: Some(8080),
            to_port: Some(8080),
            groups: vec!["sg-lb".into()],
            ..Default::default()
        }];
        let out = b.run(&[&ELB004, elb005]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB004"]);
    }

    #[test]
    fn tasks_replaced_before_they_start_are_left_to_elb006() {
        let mut b = blocked_or_slow();
        b.security_group("sg-app", vec![crate::model::SgRule {
            protocol: "-1".into(),
            groups: vec!["sg-lb".into()],
            ..Default::default()
        }]);
        b.inv.task_definitions[0].containers[0]
            .health_check
            .as_mut()
            .unwrap()
            .start_period = Some(120);
        let elb006 = crate::rules::find("ELB006").expect("registered");
        let out = b.run(&[&ELB004, elb006]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB006"], "one problem, one finding");

        b.inv.ecs_services[0].health_check_grace_period_seconds = Some(180);
        let out = b.run(&[&ELB004, elb006]);
        let checks: Vec<&str> = out.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["ELB004"]);
    }
}
