//! ECS014: rolling deployments that can neither start a new task nor stop an old one.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{EcsService, TaskDefinition};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::service_cluster;

declare_check! {
    /// ## What it finds
    ///
    /// Live replica ECS services on the ECS (rolling) deployment controller whose next
    /// deployment cannot make progress:
    ///
    /// - no headroom either way: the task ceiling `floor(desiredCount × maximumPercent /
    ///   100)` is not above `desiredCount`, and the healthy floor `ceil(desiredCount ×
    ///   minimumHealthyPercent / 100)` is not below it (`100/100`, or one task with
    ///   `maximumPercent` 150) — ECS may neither start a new task nor stop an old one;
    /// - no free host port: on the EC2 launch type, a task definition that binds fixed
    ///   host ports (`host` network mode, or `bridge` with a `hostPort`), a healthy floor
    ///   that forbids stopping a task first, and no container instance without a task of
    ///   the service (registered instances ≤ `desiredCount`) — the new task fits on no
    ///   instance, because each one already holds the port.
    ///
    /// ## Why it matters
    ///
    /// The deployment stays `IN_PROGRESS` with the old revision running until it times
    /// out or someone intervenes; urgent fixes do not ship, and the circuit breaker (if
    /// on) eventually marks the deployment failed without ever trying the new revision.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{desired:desiredCount,launchType:launchType,cfg:deploymentConfiguration}'
    /// aws ecs describe-clusters --clusters CLUSTER --query 'clusters[].registeredContainerInstancesCount'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Give the deployment room: raise `maximumPercent` (200 is the default), or lower
    /// `minimumHealthyPercent` so a task may stop first; for fixed host ports, use dynamic
    /// host ports (`hostPort` 0 in bridge mode) or awsvpc, or keep a spare instance:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --deployment-configuration maximumPercent=200,minimumHealthyPercent=50
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
    pub static ECS014 = {
        code: "ECS014",
        name: "deploy-cannot-progress",
        severity: Severity::High,
        summary: "ECS rolling deployment has no room to start a new task or stop an old one",
        needs: ["ecs:DescribeServices", "ecs:DescribeClusters", "ecs:DescribeTaskDefinition"],
        run: run,
    };
}

/// `(ceiling, floor, maximumPercent, minimumHealthyPercent)`: the task bounds of a rolling
/// deployment as ECS rounds them (the ceiling
/// down, the healthy floor up), and the percentages with AWS's defaults applied.
fn bounds(svc: &EcsService) -> (i64, i64, i32, i32) {
    let cfg = svc.deployment_configuration.clone().unwrap_or_default();
    let max = cfg.maximum_percent.unwrap_or(200);
    let min = cfg.minimum_healthy_percent.unwrap_or(100);
    let desired = i64::from(svc.desired_count);
    let ceiling = desired * i64::from(max) / 100;
    let floor = (desired * i64::from(min) + 99) / 100;
    (ceiling, floor, max, min)
}

/// The fixed host ports a task binds (none in awsvpc, or with dynamic ports).
fn fixed_host_ports(td: &TaskDefinition) -> Vec<i32> {
    let mode = td.network_mode.as_deref().unwrap_or("bridge");
    let mut ports: Vec<i32> = td
        .containers
        .iter()
        .flat_map(|c| &c.port_mappings)
        .filter_map(|p| match mode {
            "host" => p.host_port.or(p.container_port),
            "bridge" => p.host_port.filter(|h| *h > 0),
            _ => None,
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for svc in ctx.inventory.ecs_services.iter().filter(|s| s.is_live()) {
        if svc.is_daemon()
            || svc.desired_count <= 0
            || !svc.controller().eq_ignore_ascii_case("ECS")
        {
            continue;
        }
        let desired = i64::from(svc.desired_count);
        let (ceiling, floor, max, min) = bounds(svc);
        let setting = format!(
            "desiredCount {}, maximumPercent {max} (at most {ceiling} tasks), minimumHealthyPercent {min} (at least {floor} healthy)",
            svc.desired_count
        );
        let cluster = svc.cluster_name();
        if ceiling <= desired && floor >= desired {
            out.report(
                &svc.scope,
                Report {
                    severity: Severity::High,
                    resource: svc.arn.clone(),
                    discriminator: "no-headroom".into(),
                    message: format!(
                        "service `{}` cannot deploy: with {setting} ECS may neither start a new task nor stop an old one",
                        svc.name
                    ),
                    remediation: format!(
                        "Give deployments room: `aws ecs update-service --cluster {cluster} --service {} --deployment-configuration maximumPercent=200,minimumHealthyPercent=100` (or lower the minimum).",
                        svc.name
                    ),
                    evidence: vec![Evidence::new(&svc.arn, setting)],
                },
            );
            continue;
        }
        // Room below means an old task may stop first and free its port.
        if floor < desired
            || !svc
                .launch_type
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case("EC2"))
        {
            continue;
        }
        let Some(td) = ctx.graph.task_definition(&svc.task_definition) else {
            continue;
        };
        let ports = fixed_host_ports(td);
        if ports.is_empty() {
            continue;
        }
        let Some(c) = service_cluster(ctx, out, svc, "container instance count") else {
            continue;
        };
        let instances = i64::from(c.registered_container_instances_count);
        if instances > desired {
            continue;
        }
        let ports: Vec<String> = ports.iter().map(i32::to_string).collect();
        out.report(
            &svc.scope,
            Report {
                severity: Severity::High,
                resource: svc.arn.clone(),
                discriminator: "no-free-host-port".into(),
                message: format!(
                    "service `{}` cannot deploy: its tasks bind host port {} and all {instances} container instances of cluster `{}` already run one, while minimumHealthyPercent {min} forbids stopping a task first",
                    svc.name,
                    ports.join(", "),
                    c.name
                ),
                remediation: format!(
                    "Use dynamic host ports (hostPort 0) or awsvpc in a new revision of `{}`, keep a spare container instance, or let a task stop first: `aws ecs update-service --cluster {cluster} --service {} --deployment-configuration minimumHealthyPercent=50`.",
                    td.family, svc.name
                ),
                evidence: vec![
                    Evidence::new(&svc.arn, setting),
                    Evidence::new(
                        &td.arn,
                        format!(
                            "network mode {}, fixed host port {}",
                            td.network_mode.as_deref().unwrap_or("bridge"),
                            ports.join(", ")
                        ),
                    ),
                    Evidence::new(&c.arn, format!("{instances} registered container instances")),
                ],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentConfiguration, PortMapping};
    use crate::testkit::Builder;

    fn service(desired: i32, max: i32, min: i32) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let s = b.service("web", "web", &[]);
        s.desired_count = desired;
        s.deployment_configuration = Some(DeploymentConfiguration {
            maximum_percent: Some(max),
            minimum_healthy_percent: Some(min),
            circuit_breaker: None,
            alarms: None,
        });
        b
    }

    #[test]
    fn no_headroom_fires_with_ecs_rounding() {
        assert_eq!(service(3, 100, 100).run(&[&ECS014]).findings.len(), 1);
        // One task: 150% rounds down to one task, 100% up to one.
        let one = service(1, 150, 100).run(&[&ECS014]);
        assert_eq!(one.findings.len(), 1);
        assert!(one.findings[0].message.contains("at most 1 tasks"));
        // Two tasks at 150% may run three.
        assert!(service(2, 150, 100).run(&[&ECS014]).findings.is_empty());
        // Room below is enough.
        assert!(service(3, 100, 50).run(&[&ECS014]).findings.is_empty());
        assert!(service(3, 200, 100).run(&[&ECS014]).findings.is_empty());
    }

    fn ec2_host_port(instances: i32, host_port: Option<i32>) -> Builder {
        let mut b = service(2, 200, 100);
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        b.inv.ecs_services[0].network = None;
        let td = &mut b.inv.task_definitions[0];
        td.network_mode = Some("bridge".into());
        td.containers[0].port_mappings = vec![PortMapping {
            container_port: Some(8080),
            host_port,
            protocol: Some("tcp".into()),
        }];
        b.ecs_cluster().registered_container_instances_count = instances;
        b
    }

    #[test]
    fn fixed_host_ports_without_a_spare_instance_fire() {
        let out = ec2_host_port(2, Some(80)).run(&[&ECS014]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0]
            .message
            .contains("host port 80 and all 2 container instances"));
        // A spare instance, dynamic ports, or room below: silent.
        assert!(ec2_host_port(3, Some(80))
            .run(&[&ECS014])
            .findings
            .is_empty());
        assert!(ec2_host_port(2, Some(0))
            .run(&[&ECS014])
            .findings
            .is_empty());
        assert!(ec2_host_port(2, None).run(&[&ECS014]).findings.is_empty());
        let mut b = ec2_host_port(2, Some(80));
        b.inv.ecs_services[0]
            .deployment_configuration
            .as_mut()
            .unwrap()
            .minimum_healthy_percent = Some(50);
        assert!(b.run(&[&ECS014]).findings.is_empty());
    }
}
