//! ECS012: services whose every task runs on Fargate Spot.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::EcsWorkload;
use crate::model::CapacityProviderItem;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::service_cluster;

const SPOT: &str = "FARGATE_SPOT";

declare_check! {
    /// ## What it finds
    ///
    /// Live ECS services (and their task sets) whose capacity provider strategy — the service's own, or the
    /// cluster's default when the service names neither a launch type nor a strategy —
    /// places every task on `FARGATE_SPOT`: no on-demand provider with a `base` or a
    /// `weight`. Strategies over EC2 Auto Scaling group capacity providers are not judged
    /// (whether those instances are Spot is a property of the group, not collected).
    ///
    /// ## Why it matters
    ///
    /// AWS reclaims Spot capacity with a two-minute warning and may reclaim many tasks
    /// at once when capacity in a zone is short; replacements wait until Spot capacity
    /// comes back. With no on-demand base the whole service can be down together, and a
    /// deployment may be unable to place new tasks at all.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{launchType:launchType,strategy:capacityProviderStrategy}'
    /// aws ecs describe-clusters --clusters CLUSTER --query 'clusters[].defaultCapacityProviderStrategy'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Keep an on-demand base and let Spot carry the rest:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --force-new-deployment \
    ///   --capacity-provider-strategy capacityProvider=FARGATE,base=2,weight=1 capacityProvider=FARGATE_SPOT,weight=3
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html
    pub static ECS012 = {
        code: "ECS012",
        name: "spot-only-capacity",
        severity: Severity::Medium,
        summary: "ECS service runs every task on Fargate Spot, with no on-demand base",
        needs: ["ecs:DescribeServices", "ecs:DescribeClusters"],
        run: run,
    };
}

/// Providers of a strategy that actually receive tasks (a base or a weight).
fn active(strategy: &[CapacityProviderItem]) -> impl Iterator<Item = &CapacityProviderItem> {
    strategy.iter().filter(|i| i.base > 0 || i.weight > 0)
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // Services and their task sets: a batch job on Spot alone is a sound choice, a service
    // that must stay up is not.
    for w in ctx.graph.ecs_workloads().iter().filter(|w| w.is_service()) {
        let Some(svc) = w.service() else { continue };
        if svc.desired_count <= 0 {
            continue;
        }
        let own = w.capacity_provider_strategy();
        let (strategy, source, source_arn): (&[CapacityProviderItem], &str, &str) =
            if !own.is_empty() {
                let source = match w {
                    EcsWorkload::TaskSet(..) => "the task set's",
                    _ => "the service's",
                };
                (own, source, w.arn())
            } else if w.launch_type().is_none() {
                match service_cluster(ctx, out, svc, "default capacity provider strategy") {
                    Some(c) => (
                        c.default_capacity_provider_strategy.as_slice(),
                        "the cluster's default",
                        c.arn.as_str(),
                    ),
                    None => continue,
                }
            } else {
                continue;
            };
        // Spot only: some provider receives tasks, and every one that does is Spot.
        let mut receiving = active(strategy).peekable();
        if receiving.peek().is_none() || !receiving.all(|i| i.capacity_provider == SPOT) {
            continue;
        }
        let described: Vec<String> = strategy
            .iter()
            .map(|i| {
                format!(
                    "{} base={} weight={}",
                    i.capacity_provider, i.base, i.weight
                )
            })
            .collect();
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} runs all {} of its tasks on Fargate Spot ({source} capacity provider strategy): one capacity reclaim can stop them together",
                    w.describe(),
                    svc.desired_count
                ),
                remediation: format!(
                    "Give the service an on-demand base: `aws ecs update-service --cluster {} --service {} --force-new-deployment --capacity-provider-strategy capacityProvider=FARGATE,base=1,weight=1 capacityProvider=FARGATE_SPOT,weight=3`.",
                    svc.cluster_name(),
                    svc.name
                ),
                evidence: vec![Evidence::new(
                    source_arn,
                    format!("capacity provider strategy: {}", described.join("; ")),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn item(p: &str, base: i32, weight: i32) -> CapacityProviderItem {
        CapacityProviderItem {
            capacity_provider: p.into(),
            weight,
            base,
        }
    }

    fn service(strategy: Vec<CapacityProviderItem>) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let s = b.service("web", "web", &[]);
        s.launch_type = None;
        s.capacity_provider_strategy = strategy;
        b
    }

    #[test]
    fn spot_only_strategies_fire() {
        let out = service(vec![item(SPOT, 0, 1)]).run(&[&ECS012]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("all 2 of its tasks"));
        // An on-demand provider with neither base nor weight receives nothing.
        let inert = service(vec![item(SPOT, 1, 1), item("FARGATE", 0, 0)]).run(&[&ECS012]);
        assert_eq!(inert.findings.len(), 1);
    }

    #[test]
    fn on_demand_share_or_launch_type_is_silent() {
        assert!(service(vec![item(SPOT, 0, 3), item("FARGATE", 1, 0)])
            .run(&[&ECS012])
            .findings
            .is_empty());
        assert!(service(vec![item(SPOT, 0, 3), item("FARGATE", 0, 1)])
            .run(&[&ECS012])
            .findings
            .is_empty());
        let mut b = service(vec![]);
        b.inv.ecs_services[0].launch_type = Some("FARGATE".into());
        assert!(b.run(&[&ECS012]).findings.is_empty());
    }

    #[test]
    fn cluster_default_applies_when_the_service_names_nothing() {
        let mut b = service(vec![]);
        b.ecs_cluster().default_capacity_provider_strategy = vec![item(SPOT, 0, 1)];
        let out = b.run(&[&ECS012]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("the cluster's default"));

        let mut b = service(vec![]);
        b.gap("ecs:DescribeClusters", None);
        let out = b.run(&[&ECS012]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.resource.is_some()));
    }

    #[test]
    fn a_task_set_on_spot_alone_fires_and_scheduled_jobs_never_do() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-1"]);
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &["subnet-1"]);
        let ts = b.task_set("web", "ecs-svc/2", "ACTIVE", "web", &["subnet-1"]);
        ts.launch_type = None;
        ts.capacity_provider_strategy = vec![CapacityProviderItem {
            capacity_provider: "FARGATE_SPOT".into(),
            weight: 1,
            base: 0,
        }];
        let mut job = b.scheduled("nightly", "web", &["subnet-1"]).clone();
        job.launch_type = None;
        job.capacity_provider_strategy = b.inv.ecs_services[0].task_sets[1]
            .capacity_provider_strategy
            .clone();
        b.inv.scheduled_tasks[0] = job;
        let out = b.run(&[&ECS012]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0].message.starts_with(
            "task set `ecs-svc/2` (ACTIVE, 100%) of service `web` runs all 2 of its tasks on Fargate Spot (the task set's"
        ));
    }
}
