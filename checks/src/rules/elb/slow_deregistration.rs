//! ELB002: target groups of rolling-deploy ECS services left at the 300 s deregistration delay.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{EcsService, TargetGroup};
use crate::registry::{Ctx, Emitter, Missing, Report};

/// The attribute call whose result ELB002 reads.
const ATTRIBUTES_OP: &str = "elbv2:DescribeTargetGroupAttributes";

/// AWS's default `deregistration_delay.timeout_seconds`; the check fires at or above it.
const DEFAULT_DELAY_SECONDS: i64 = 300;

/// The value suggested in the remediation: enough for ordinary HTTP requests to finish.
const SUGGESTED_DELAY_SECONDS: i64 = 30;

declare_check! {
    /// ## What it finds
    ///
    /// Target groups that a live ECS service with rolling deployments (the `ECS` deployment
    /// controller) registers its tasks in, whose deregistration delay
    /// (`deregistration_delay.timeout_seconds`) is still the 300-second default, or longer.
    /// The message gives the delay in seconds and the services affected.
    ///
    /// Services deployed by CodeDeploy or an external controller are left out: they shift
    /// traffic between target groups rather than draining tasks one batch at a time.
    ///
    /// ## Why it matters
    ///
    /// When ECS replaces a task it first deregisters it from the target group and waits for
    /// the load balancer to finish draining it before stopping it. The target stays in the
    /// `draining` state for up to the deregistration delay, so with the default every batch
    /// of a rolling deployment holds its old tasks for up to five minutes: a deployment of a
    /// few batches takes ten minutes or more, a rollback just as long, and the old tasks keep
    /// their IP addresses and capacity all the while. Most HTTP APIs finish their in-flight
    /// requests within seconds.
    ///
    /// A long delay can be deliberate: long-lived connections (WebSockets, streaming, large
    /// uploads, TCP sessions behind a Network Load Balancer) need it to close gracefully.
    /// Hence the low severity: review the finding, and keep the delay where that is the case.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[0].{controller:deploymentController.type,loadBalancers:loadBalancers}'
    /// aws elbv2 describe-target-group-attributes --target-group-arn TARGET_GROUP_ARN \
    ///   --query "Attributes[?Key=='deregistration_delay.timeout_seconds'].Value"
    /// ```
    ///
    /// ## How to fix
    ///
    /// Set the delay to a little more than the longest request the service serves (5 to 30
    /// seconds for typical APIs):
    ///
    /// ```sh
    /// aws elbv2 modify-target-group-attributes --target-group-arn TARGET_GROUP_ARN \
    ///   --attributes Key=deregistration_delay.timeout_seconds,Value=30
    /// ```
    ///
    /// Make the application finish in-flight requests and exit on SIGTERM, so a short delay
    /// loses nothing.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-connection-draining.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay
    pub static ELB002 = {
        code: "ELB002",
        name: "slow-deregistration",
        severity: Severity::Low,
        summary: "target group of a rolling-deploy ECS service keeps the 300 s default deregistration delay",
        needs: [
            "ecs:ListClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "elbv2:DescribeTargetGroups",
            "elbv2:DescribeTargetGroupAttributes",
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // Target group ARN → (group, the rolling-deploy services using it), in ARN order.
    let mut users: BTreeMap<&str, (&TargetGroup, Vec<&EcsService>)> = BTreeMap::new();
    for svc in ctx
        .inventory
        .ecs_services
        .iter()
        .filter(|s| s.is_live() && s.controller().eq_ignore_ascii_case("ECS"))
    {
        for tg in ctx.graph.service_target_groups(svc) {
            let entry = users.entry(tg.arn.as_str()).or_insert((tg, Vec::new()));
            if !entry.1.iter().any(|s| s.arn == svc.arn) {
                entry.1.push(svc);
            }
        }
    }
    for (tg, mut services) in users.into_values() {
        services.sort_by(|a, b| (&a.name, &a.arn).cmp(&(&b.name, &b.arn)));
        match tg.deregistration_delay_seconds {
            Some(delay) if delay >= DEFAULT_DELAY_SECONDS => {
                out.report(&tg.scope, report(tg, &services, delay));
            }
            Some(_) => {}
            None => {
                let reason = match ctx.why_missing(&tg.scope, ATTRIBUTES_OP, &tg.arn) {
                    Missing::ReportedByEngine => continue,
                    Missing::RegionWide => {
                        format!("could not be read: {ATTRIBUTES_OP} failed in this region")
                    }
                    Missing::NotCollected => {
                        String::from("was not collected, so a 300 s default cannot be ruled out")
                    }
                };
                out.unknown(
                    &tg.scope,
                    Some(&tg.arn),
                    format!(
                        "the deregistration delay of target group `{}` {reason}",
                        tg.name
                    ),
                );
            }
        }
    }
}

fn minutes(seconds: i64) -> String {
    if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{:.1} min", seconds as f64 / 60.0)
    }
}

fn report(tg: &TargetGroup, services: &[&EcsService], delay: i64) -> Report {
    let names: Vec<String> = services.iter().map(|s| format!("`{}`", s.name)).collect();
    let (noun, verb, list) = if names.len() == 1 {
        ("service", "serves", names[0].clone())
    } else {
        ("services", "serve", names.join(", "))
    };
    let default = if delay == DEFAULT_DELAY_SECONDS {
        " (the default)"
    } else {
        ""
    };
    let mut evidence: Vec<Evidence> = services
        .iter()
        .map(|s| {
            Evidence::new(
                &s.arn,
                format!(
                    "rolling deployments (ECS controller) register tasks in target group `{}`",
                    tg.name
                ),
            )
        })
        .collect();
    evidence.push(Evidence::new(
        &tg.arn,
        format!("deregistration_delay.timeout_seconds = {delay}"),
    ));
    // Protocols of Network and Gateway Load Balancer target groups: connection-oriented
    // traffic where a long drain is more often intended.
    let connection_oriented = tg.protocol.as_deref().is_some_and(|p| {
        ["TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(p))
    });
    let caveat = if connection_oriented {
        format!(
            " Keep a longer delay only if clients hold long-lived {} connections that must close gracefully.",
            tg.protocol.as_deref().unwrap_or_default()
        )
    } else {
        String::from(" Keep a longer delay only for long-lived requests (WebSockets, streaming, large uploads).")
    };
    Report {
        severity: Severity::Low,
        resource: tg.arn.clone(),
        discriminator: String::new(),
        message: format!(
            "target group `{}` of {noun} {list} has a deregistration delay of {delay} s{default}: each batch of a rolling deployment keeps its old tasks draining for up to {} before ECS stops them",
            tg.name,
            minutes(delay)
        ),
        remediation: format!(
            "Lower the deregistration delay of `{}` to a little more than the longest request the {noun} {verb} (e.g. {SUGGESTED_DELAY_SECONDS} s): `aws elbv2 modify-target-group-attributes --target-group-arn {} --attributes Key=deregistration_delay.timeout_seconds,Value={SUGGESTED_DELAY_SECONDS}`.{caveat}",
            tg.name, tg.arn
        ),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    /// Service `web` (rolling deploys) registering in `ip` target group `web-tg`, whose delay
    /// is `delay`.
    fn web(delay: Option<i64>) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx:1"]);
        b.service("web", "web", &["subnet-1"]);
        b.target_group("web-tg", "ip").deregistration_delay_seconds = delay;
        b.attach("web", "web-tg");
        b
    }

    #[test]
    fn default_delay_fires_with_seconds_in_message() {
        let b = web(Some(300));
        let out = b.run(&[&ELB002]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Low);
        assert_eq!(f.resource, b.tg_arn("web-tg"));
        assert_eq!(
            f.message,
            "target group `web-tg` of service `web` has a deregistration delay of 300 s (the default): each batch of a rolling deployment keeps its old tasks draining for up to 5 min before ECS stops them"
        );
        assert!(f.remediation.contains("Value=30"));
        assert!(f.remediation.contains("WebSockets"));
        assert_eq!(f.evidence.len(), 2);
        assert_eq!(
            f.evidence[1].fact,
            "deregistration_delay.timeout_seconds = 300"
        );
    }

    #[test]
    fn longer_delay_fires_without_calling_it_the_default() {
        let out = web(Some(900)).run(&[&ELB002]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains(
            "delay of 900 s: each batch of a rolling deployment keeps its old tasks draining for up to 15 min"
        ));
    }

    #[test]
    fn short_delays_are_silent() {
        for delay in [0, 5, 30, 299] {
            let out = web(Some(delay)).run(&[&ELB002]);
            assert!(out.findings.is_empty(), "{delay}: {out:?}");
            assert!(out.unknowns.is_empty(), "{delay}");
        }
    }

    #[test]
    fn non_rolling_or_dead_services_are_ignored() {
        for (controller, status) in [
            (Some("CODE_DEPLOY"), "ACTIVE"),
            (Some("EXTERNAL"), "ACTIVE"),
            (None, "DRAINING"),
            (None, "INACTIVE"),
        ] {
            let mut b = web(Some(300));
            let svc = &mut b.inv.ecs_services[0];
            svc.deployment_controller = controller.map(str::to_string);
            svc.status = status.into();
            let out = b.run(&[&ELB002]);
            assert!(out.findings.is_empty(), "{controller:?}/{status}");
        }
        // An explicit `ECS` controller is the same as the default.
        let mut b = web(Some(300));
        b.inv.ecs_services[0].deployment_controller = Some("ECS".into());
        assert_eq!(b.run(&[&ELB002]).findings.len(), 1);
    }

    #[test]
    fn unattached_target_group_is_ignored() {
        let mut b = web(Some(300));
        b.inv.ecs_services[0].load_balancers.clear();
        let out = b.run(&[&ELB002]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty());
    }

    #[test]
    fn shared_target_group_is_one_finding_naming_every_service() {
        let mut b = web(Some(300));
        b.task_def("admin", Some("awsvpc"), &["nginx:1"]);
        b.service("admin", "admin", &["subnet-1"]);
        b.attach("admin", "web-tg");
        let out = b.run(&[&ELB002]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.starts_with(
            "target group `web-tg` of services `admin`, `web` has a deregistration delay"
        ));
        assert!(out.findings[0].remediation.contains("the services serve ("));
        assert_eq!(out.findings[0].evidence.len(), 3);
    }

    #[test]
    fn network_load_balancer_group_gets_the_long_connection_caveat() {
        let mut b = web(Some(300));
        b.inv.target_groups[0].protocol = Some("TCP".into());
        let out = b.run(&[&ELB002]);
        assert!(out.findings[0]
            .remediation
            .contains("long-lived TCP connections"));
    }

    #[test]
    fn not_collected_is_unknown_never_a_pass() {
        let b = web(None);
        let out = b.run(&[&ELB002]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        let u = &out.unknowns[0];
        assert_eq!(u.resource.as_deref(), Some(b.tg_arn("web-tg").as_str()));
        assert_eq!(
            u.reason,
            "the deregistration delay of target group `web-tg` was not collected, so a 300 s default cannot be ruled out"
        );
    }

    #[test]
    fn failed_attribute_call_is_unknown_once() {
        // Scoped to the target group: the engine's unknown (through `needs`) names it.
        let mut b = web(None);
        let tg = b.tg_arn("web-tg");
        b.gap(ATTRIBUTES_OP, Some(&tg));
        let out = b.run(&[&ELB002]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert_eq!(out.unknowns[0].resource.as_deref(), Some(tg.as_str()));
        assert!(out.unknowns[0]
            .reason
            .starts_with("elbv2:DescribeTargetGroupAttributes access denied"));

        // Region-wide: the engine reports the region, the check names the target group.
        let mut b = web(None);
        b.gap(ATTRIBUTES_OP, None);
        let out = b.run(&[&ELB002]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 2, "{:?}", out.unknowns);
        assert!(out.unknowns.iter().any(|u| u.resource.is_none()));
        assert!(out
            .unknowns
            .iter()
            .any(|u| u.resource.as_deref() == Some(tg.as_str())
                && u.reason.ends_with(
                    "could not be read: elbv2:DescribeTargetGroupAttributes failed in this region"
                )));
    }

    #[test]
    fn another_groups_gap_does_not_hide_a_collected_value() {
        let mut b = web(Some(300));
        let other = b.tg_arn("other-tg");
        b.gap(ATTRIBUTES_OP, Some(&other));
        let out = b.run(&[&ELB002]);
        assert_eq!(out.findings.len(), 1);
    }
}
