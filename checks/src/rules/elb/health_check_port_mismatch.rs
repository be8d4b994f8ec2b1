//! ELB003: `ip` target groups of ECS services health-checking a port no container declares.

use std::collections::HashSet;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EcsWorkload, TargetGroupHealth};
use crate::model::{ServiceLoadBalancer, TargetGroup, TaskDefinition};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Target groups of target type `ip` that a live ECS service registers its tasks in,
    /// whose health check port is a fixed number that is neither the container port the
    /// service registers (`loadBalancers[].containerPort`) nor any port mapping of any
    /// container in the service's task definition.
    ///
    /// Not reported: a health check port of `traffic-port` (the default: the port each target
    /// was registered on), a port that another container of the same task maps (a sidecar
    /// serving the health endpoint, an admin port), and target groups in which a target is
    /// healthy, which proves something answers on that port.
    ///
    /// ## Why it matters
    ///
    /// The load balancer sends its health checks to the task's IP on the configured port. If
    /// nothing in the task listens there, every task fails its health checks: ECS stops and
    /// replaces them after the grace period, deployments never reach a steady state (or the
    /// circuit breaker rolls them back), and the load balancer has no healthy target. It
    /// usually follows a change of the container port in the task definition that the target
    /// group did not follow.
    ///
    /// A process may listen on a port that the task definition does not map (awsvpc tasks
    /// share one network interface), so a health endpoint on an unmapped port can work;
    /// declare it as a port mapping so the configuration says what it does.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws elbv2 describe-target-groups --target-group-arns TARGET_GROUP_ARN \
    ///   --query 'TargetGroups[0].{type:TargetType,port:Port,healthCheckPort:HealthCheckPort,path:HealthCheckPath}'
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[0].{taskDefinition:taskDefinition,loadBalancers:loadBalancers}'
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,ports:portMappings}'
    /// aws elbv2 describe-target-health --target-group-arn TARGET_GROUP_ARN
    /// ```
    ///
    /// ## How to fix
    ///
    /// Health-check the port the tasks are registered on:
    ///
    /// ```sh
    /// aws elbv2 modify-target-group --target-group-arn TARGET_GROUP_ARN --health-check-port traffic-port
    /// ```
    ///
    /// If the health endpoint really is on another port, add that port to the container's
    /// `portMappings`, register a new task definition revision and deploy it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-considerations.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_portmappings
    pub static ELB003 = {
        code: "ELB003",
        name: "health-check-port-mismatch",
        severity: Severity::High,
        summary: "ip target group of an ECS service health-checks a port no container of the task maps",
        needs: [
            "ecs:ListClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
            "elbv2:DescribeTargetGroups",
            "elbv2:DescribeTargetHealth",
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for w in ctx.graph.ecs_workloads() {
        let td = ctx.graph.task_definition(w.task_definition());
        let mut seen: HashSet<&str> = HashSet::new();
        for lb in w.load_balancers() {
            let Some(tg) = lb
                .target_group_arn
                .as_deref()
                .and_then(|arn| ctx.graph.target_group(arn))
            else {
                continue;
            };
            if !tg.is_ip_type() || !seen.insert(&tg.arn) {
                continue;
            }
            let Some(hc_port) = tg.fixed_health_check_port() else {
                continue;
            };
            // A healthy target proves something answers the health checks.
            if tg.healthy_targets().is_some_and(|n| n > 0) {
                continue;
            }
            let registered = lb.registered_port(td);
            if registered == Some(hc_port) {
                continue;
            }
            let Some(td) = td else {
                out.unknown(
                    w.scope(),
                    Some(w.resource()),
                    format!(
                        "task definition {} of {} was not collected; cannot tell whether a container maps port {hc_port}, which target group `{}` health-checks",
                        w.task_definition(),
                        w.describe(),
                        tg.name
                    ),
                );
                continue;
            };
            let ports = td.mapped_ports();
            if ports.contains(&hc_port) {
                continue;
            }
            let health = ctx.graph.target_health(&tg.arn);
            out.report(
                &tg.scope,
                report(w, lb, tg, td, hc_port, registered, health),
            );
        }
    }
}

fn report(
    w: &EcsWorkload<'_>,
    lb: &ServiceLoadBalancer,
    tg: &TargetGroup,
    td: &TaskDefinition,
    hc_port: i32,
    registered: Option<i32>,
    health: Option<&TargetGroupHealth<'_>>,
) -> Report {
    let ports = td.mapped_ports();
    let what = match lb.container_name.as_deref() {
        Some(c) => format!("container `{c}`"),
        None => String::from("its tasks"),
    };
    let registers = match registered {
        Some(p) => format!("{what} on port {p}"),
        None => what,
    };
    let declared = if ports.is_empty() {
        String::from("no port mappings")
    } else {
        let list: Vec<String> = ports.iter().map(i32::to_string).collect();
        format!("port mappings {}", list.join(", "))
    };
    let mut evidence = vec![
        Evidence::new(
            &tg.arn,
            match tg.health_check_path.as_deref() {
                Some(path) => format!("target type ip; health check port {hc_port}, path {path}"),
                None => format!("target type ip; health check port {hc_port}"),
            },
        ),
        Evidence::new(
            w.arn(),
            format!(
                "registers {registers} of task definition `{}` in target group `{}`",
                td.label(),
                tg.name
            ),
        ),
        Evidence::new(
            &td.arn,
            format!("containers declare {declared}; none is {hc_port}"),
        ),
    ];
    if let Some(health) = health.filter(|h| !h.targets.is_empty()) {
        evidence.push(Evidence::new(
            &tg.arn,
            format!(
                "0 of {} targets healthy: {}",
                health.targets.len(),
                health.states
            ),
        ));
    }
    let fix_port = match registered {
        Some(p) => format!(" (the port ECS registers, {p})"),
        None => String::new(),
    };
    Report {
        severity: Severity::High,
        resource: tg.arn.clone(),
        discriminator: w.resource().to_string(),
        message: format!(
            "target group `{}` health-checks port {hc_port}, but {} registers {registers} and no container of task definition `{}` maps port {hc_port}: its tasks fail their health checks and ECS keeps replacing them",
            tg.name,
            w.describe(),
            td.label()
        ),
        remediation: format!(
            "Set the health check port of `{}` to `traffic-port`{fix_port}: `aws elbv2 modify-target-group --target-group-arn {} --health-check-port traffic-port`; or, if the health endpoint does listen on port {hc_port}, add it to the container's port mappings in a new revision of `{}`.",
            tg.name, tg.arn, td.family
        ),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PortMapping;
    use crate::testkit::{target, Builder};

    fn mapping(port: i32) -> PortMapping {
        PortMapping {
            container_port: Some(port),
            host_port: Some(port),
            protocol: Some("tcp".into()),
        }
    }

    /// Service `web` whose container `c0` maps port 80 (and `c1`, a sidecar, maps 9901),
    /// registered on port 80 in `ip` target group `web-tg` health-checking `hc_port`.
    fn web(hc_port: Option<&str>) -> Builder {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["app:1", "envoy:1"]);
        td.containers[0].port_mappings = vec![mapping(80)];
        td.containers[1].port_mappings = vec![mapping(9901)];
        b.service("web", "web", &["subnet-1"]);
        b.target_group("web-tg", "ip").health_check_port = hc_port.map(str::to_string);
        b.attach("web", "web-tg");
        b
    }

    #[test]
    fn unmapped_health_check_port_fires() {
        let b = web(Some("8080"));
        let out = b.run(&[&ELB003]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.tg_arn("web-tg"));
        assert_eq!(
            f.message,
            "target group `web-tg` health-checks port 8080, but service `web` registers container `c0` on port 80 and no container of task definition `web:1` maps port 8080: its tasks fail their health checks and ECS keeps replacing them"
        );
        assert!(f.remediation.contains("(the port ECS registers, 80)"));
        assert_eq!(
            f.evidence[2].fact,
            "containers declare port mappings 80, 9901; none is 8080"
        );
    }

    #[test]
    fn clean_twins_are_silent() {
        // traffic-port (explicit, any case, or absent), the registered port, a sidecar's port.
        for hc in [
            None,
            Some("traffic-port"),
            Some("TRAFFIC-PORT"),
            Some("80"),
            Some("9901"),
        ] {
            let out = web(hc).run(&[&ELB003]);
            assert!(out.findings.is_empty(), "{hc:?}: {out:?}");
            assert!(out.unknowns.is_empty(), "{hc:?}");
        }
    }

    #[test]
    fn only_ip_target_groups_are_judged() {
        let mut b = web(Some("8080"));
        b.inv.target_groups[0].target_type = Some("instance".into());
        assert!(b.run(&[&ELB003]).findings.is_empty());
    }

    #[test]
    fn a_healthy_target_proves_the_port_answers() {
        let mut b = web(Some("8080"));
        b.inv.target_groups[0].targets = Some(vec![
            target("10.0.1.5", 80, "healthy", None),
            target("10.0.1.6", 80, "unhealthy", Some("Target.Timeout")),
        ]);
        assert!(b.run(&[&ELB003]).findings.is_empty());

        // All failing: reported, with the states as evidence.
        b.inv.target_groups[0].targets = Some(vec![
            target("10.0.1.5", 80, "unhealthy", Some("Target.Timeout")),
            target("10.0.1.6", 80, "unhealthy", Some("Target.Timeout")),
        ]);
        let out = b.run(&[&ELB003]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .evidence
            .iter()
            .any(|e| e.fact == "0 of 2 targets healthy: 2 unhealthy"));
    }

    #[test]
    fn container_port_from_the_task_definition_when_the_service_omits_it() {
        let mut b = web(Some("80"));
        b.inv.ecs_services[0].load_balancers[0].container_port = None;
        assert!(b.run(&[&ELB003]).findings.is_empty());

        b.inv.target_groups[0].health_check_port = Some("8080".into());
        let out = b.run(&[&ELB003]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("registers container `c0` on port 80 and"));
    }

    #[test]
    fn task_definition_without_mappings_still_fires() {
        let mut b = web(Some("8080"));
        for c in &mut b.inv.task_definitions[0].containers {
            c.port_mappings.clear();
        }
        let out = b.run(&[&ELB003]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].evidence[2].fact,
            "containers declare no port mappings; none is 8080"
        );
    }

    #[test]
    fn missing_task_definition_is_unknown_unless_the_registered_port_matches() {
        let mut b = web(Some("8080"));
        b.inv.task_definitions.clear();
        b.gap("ecs:DescribeTaskDefinition", Some(&b.task_def_arn("web")));
        let out = b.run(&[&ELB003]);
        assert!(out.findings.is_empty());
        assert!(
            out.unknowns.iter().any(|u| u.resource.as_deref()
                == Some(b.service_arn("web").as_str())
                && u.reason
                    .contains("cannot tell whether a container maps port 8080")),
            "{:?}",
            out.unknowns
        );

        // The service itself registers port 80 and the group checks 80: decided without it.
        let mut b = web(Some("80"));
        b.inv.task_definitions.clear();
        let out = b.run(&[&ELB003]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty());
    }

    #[test]
    fn dead_services_are_ignored() {
        let mut b = web(Some("8080"));
        b.inv.ecs_services[0].status = "INACTIVE".into();
        assert!(b.run(&[&ELB003]).findings.is_empty());
    }
}
