//! ECS007: services that one task failure or one Availability Zone takes down.

use std::collections::BTreeSet;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Live replica ECS services (not daemons) that run a single task (`desiredCount` 1),
    /// or whose awsvpc subnets all lie in one Availability Zone. Services scaled to zero
    /// are left alone.
    ///
    /// ## Why it matters
    ///
    /// A single task is an outage whenever it is replaced: a crash, a failed health
    /// check, host maintenance, a Fargate retirement, or a deployment whose new task
    /// does not start. Tasks spread over one Availability Zone all go down with it.
    /// ECS spreads a service's tasks across the AZs of its subnets; with one AZ there
    /// is nothing to spread to.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{desired:desiredCount,subnets:networkConfiguration.awsvpcConfiguration.subnets}'
    /// aws ec2 describe-subnets --subnet-ids SUBNET... --query 'Subnets[].[SubnetId,AvailabilityZone]'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Run at least two tasks, in subnets of at least two (preferably three) AZs:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --desired-count 2 \
    ///   --network-configuration 'awsvpcConfiguration={subnets=[subnet-a,subnet-b],securityGroups=[sg-…]}'
    /// ```
    ///
    /// If Application Auto Scaling manages the count, raise its minimum capacity instead.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html
    /// - https://docs.aws.amazon.com/whitepapers/latest/availability-and-beyond-improving-resilience/reducing-mttr.html
    pub static ECS007 = {
        code: "ECS007",
        name: "no-redundancy",
        severity: Severity::Medium,
        summary: "ECS service runs one task, or all its tasks in one Availability Zone",
        needs: ["ecs:DescribeServices"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for svc in ctx.inventory.ecs_services.iter().filter(|s| s.is_live()) {
        if svc.is_daemon() || svc.desired_count <= 0 {
            continue;
        }
        let cluster = svc.cluster_name();
        if svc.desired_count == 1 {
            out.report(
                &svc.scope,
                Report {
                    severity: Severity::Medium,
                    resource: svc.arn.clone(),
                    discriminator: "single-task".into(),
                    message: format!(
                        "service `{}` runs a single task: every crash, replacement or failed deployment is an outage",
                        svc.name
                    ),
                    remediation: format!(
                        "Run at least two tasks across Availability Zones: `aws ecs update-service --cluster {cluster} --service {} --desired-count 2` (or raise the auto scaling minimum).",
                        svc.name
                    ),
                    evidence: vec![Evidence::new(&svc.arn, "desiredCount 1")],
                },
            );
        }
        let ids = svc.subnet_ids();
        if ids.is_empty() {
            continue;
        }
        let subnets: Vec<_> = ids
            .iter()
            .map(|id| ctx.graph.subnet(&svc.scope, id))
            .collect();
        if subnets.iter().any(Option::is_none) {
            if ctx.complete(&svc.scope, &["ec2:DescribeSubnets"], None) {
                continue; // Subnets of another account (shared VPC): their zones are not ours to see.
            }
            out.unknown(
                &svc.scope,
                Some(&svc.arn),
                "the service's subnets could not be read (ec2:DescribeSubnets)",
            );
            continue;
        }
        let zones: BTreeSet<&str> = subnets
            .iter()
            .flatten()
            .filter_map(|s| s.availability_zone.as_deref())
            .collect();
        if zones.len() != 1 {
            continue;
        }
        let zone = zones.first().copied().unwrap_or_default();
        out.report(
            &svc.scope,
            Report {
                severity: Severity::Medium,
                resource: svc.arn.clone(),
                discriminator: "single-az".into(),
                message: format!(
                    "service `{}` places all its tasks in {zone}: an outage of that Availability Zone stops the service",
                    svc.name
                ),
                remediation: format!(
                    "Add subnets in other Availability Zones to the service: `aws ecs update-service --cluster {cluster} --service {} --network-configuration 'awsvpcConfiguration={{subnets=[…]}}'`.",
                    svc.name
                ),
                evidence: subnets
                    .iter()
                    .flatten()
                    .map(|s| Evidence::new(&s.arn, format!("subnet {} in {zone}", s.id)))
                    .collect(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn two_zones() -> Builder {
        let mut b = Builder::new();
        b.vpc("vpc-1");
        b.subnet("subnet-a", "vpc-1", "10.0.1.0/24", 200)
            .availability_zone = Some("us-east-1a".into());
        b.subnet("subnet-b", "vpc-1", "10.0.2.0/24", 200)
            .availability_zone = Some("us-east-1b".into());
        b.subnet("subnet-c", "vpc-1", "10.0.3.0/24", 200)
            .availability_zone = Some("us-east-1a".into());
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b
    }

    #[test]
    fn one_task_or_one_zone_fires() {
        let mut b = two_zones();
        b.service("web", "web", &["subnet-a", "subnet-c"])
            .desired_count = 1;
        let out = b.run(&[&ECS007]);
        let msgs: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("single task")));
        assert!(msgs
            .iter()
            .any(|m| m.contains("all its tasks in us-east-1a")));
    }

    #[test]
    fn two_tasks_in_two_zones_daemons_and_idle_services_are_silent() {
        let mut b = two_zones();
        b.service("web", "web", &["subnet-a", "subnet-b"]);
        b.service("daemon", "web", &[]).scheduling_strategy = Some("DAEMON".into());
        b.inv.ecs_services[1].desired_count = 1;
        b.service("idle", "web", &["subnet-a"]).desired_count = 0;
        assert!(b.run(&[&ECS007]).findings.is_empty());
    }

    #[test]
    fn unreadable_subnets_are_unknown() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-a"]);
        b.gap("ec2:DescribeSubnets", None);
        let out = b.run(&[&ECS007]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }
}
