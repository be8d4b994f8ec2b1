//! ECS023: Auto Scaling group capacity providers that let scale-in terminate instances
//! running tasks.

use crate::crosswalk::{config, fsbp};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ECS capacity providers backed by an Auto Scaling group, used by an active cluster,
    /// with managed termination protection off. One finding per capacity provider, naming
    /// the clusters that use it.
    ///
    /// ## Why it matters
    ///
    /// When the Auto Scaling group scales in (its own policies, a lowered desired
    /// capacity, ECS managed scaling), it picks instances without knowing which run tasks:
    /// the tasks on a terminated instance die at once, without draining from their load
    /// balancer, and a service that had every copy on that instance goes down until ECS
    /// places new ones. With managed termination protection, ECS marks instances that run
    /// non-daemon tasks as protected from scale-in and lets the group remove only empty
    /// ones.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-capacity-providers --capacity-providers NAME \
    ///   --query 'capacityProviders[].autoScalingGroupProvider.{asg:autoScalingGroupArn,scaling:managedScaling.status,protection:managedTerminationProtection}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Managed termination protection needs managed scaling on and the group's new
    /// instances protected from scale-in:
    ///
    /// ```sh
    /// aws autoscaling update-auto-scaling-group --auto-scaling-group-name ASG \
    ///   --new-instances-protected-from-scale-in
    /// aws ecs update-capacity-provider --name NAME \
    ///   --auto-scaling-group-provider 'managedScaling={status=ENABLED},managedTerminationProtection=ENABLED'
    /// ```
    ///
    /// Instances already running keep their current protection: set it on them with
    /// `aws autoscaling set-instance-protection --protected-from-scale-in`.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AutoScalingGroupProvider.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-19
    pub static ECS023 = {
        code: "ECS023",
        name: "capacity-provider-unprotected",
        severity: Severity::Medium,
        summary: "ECS capacity provider lets its Auto Scaling group terminate instances that run tasks",
        needs: [
            "ecs:ListClusters",
            "ecs:DescribeClusters",
            "ecs:DescribeCapacityProviders",
        ],
        controls: [
            fsbp("ECS.19"),
            config("ecs-capacity-provider-termination-check"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for p in &ctx.inventory.ecs_capacity_providers {
        let Some(asg) = p.auto_scaling_group_arn.as_deref() else {
            continue;
        };
        let protected = p
            .managed_termination_protection
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"));
        if protected || !p.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        let clusters: Vec<_> = ctx
            .inventory
            .ecs_clusters
            .iter()
            .filter(|c| c.scope == p.scope && c.status.eq_ignore_ascii_case("ACTIVE"))
            .filter(|c| c.capacity_providers.iter().any(|n| n == &p.name))
            .collect();
        if clusters.is_empty() {
            continue;
        }
        let names: Vec<String> = clusters.iter().map(|c| format!("`{}`", c.name)).collect();
        let scaling = p.managed_scaling.as_deref().unwrap_or("DISABLED");
        let mut evidence = vec![Evidence::new(
            &p.arn,
            format!(
                "managedTerminationProtection {}; managedScaling {scaling}; Auto Scaling group {asg}",
                p.managed_termination_protection
                    .as_deref()
                    .unwrap_or("unset (DISABLED)")
            ),
        )];
        evidence.extend(clusters.iter().map(|c| {
            Evidence::new(
                &c.arn,
                format!(
                    "cluster `{}` uses capacity provider `{}` ({} running tasks)",
                    c.name, p.name, c.running_tasks_count
                ),
            )
        }));
        let scaling_step = if scaling.eq_ignore_ascii_case("ENABLED") {
            ""
        } else {
            "managedScaling={status=ENABLED},"
        };
        out.report(
            &p.scope,
            Report {
                severity: Severity::Medium,
                resource: p.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "capacity provider `{}` of cluster{} {} lets its Auto Scaling group terminate instances that run tasks: managed termination protection is off",
                    p.name,
                    if clusters.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
                remediation: format!(
                    "Protect new instances from scale-in on the group, then `aws ecs update-capacity-provider --name {} --auto-scaling-group-provider '{scaling_step}managedTerminationProtection=ENABLED'`.",
                    p.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EcsCapacityProvider;
    use crate::testkit::Builder;

    fn provider(protection: Option<&str>, scaling: &str, used: bool) -> Builder {
        let mut b = Builder::new();
        let scope = b.scope();
        let arn = format!(
            "arn:aws:ecs:{}:{}:capacity-provider/workers",
            scope.region, scope.account
        );
        b.inv.ecs_capacity_providers.push(EcsCapacityProvider {
            scope,
            arn,
            name: "workers".into(),
            status: "ACTIVE".into(),
            auto_scaling_group_arn: Some("arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x:autoScalingGroupName/workers".into()),
            managed_scaling: Some(scaling.into()),
            managed_termination_protection: protection.map(str::to_string),
        });
        let cluster = b.ecs_cluster();
        if used {
            cluster.capacity_providers = vec!["FARGATE".into(), "workers".into()];
        }
        b
    }

    #[test]
    fn an_unprotected_provider_a_cluster_uses_fires() {
        for protection in [None, Some("DISABLED")] {
            let out = provider(protection, "ENABLED", true).run(&[&ECS023]);
            assert_eq!(out.findings.len(), 1, "{protection:?}");
            let f = &out.findings[0];
            assert!(f.message.contains("cluster `main`"), "{}", f.message);
            assert!(!f.remediation.contains("managedScaling"));
        }
        let out = provider(None, "DISABLED", true).run(&[&ECS023]);
        assert!(out.findings[0]
            .remediation
            .contains("managedScaling={status=ENABLED},managedTerminationProtection=ENABLED"));
    }

    #[test]
    fn protected_or_unused_providers_pass() {
        assert!(provider(Some("ENABLED"), "ENABLED", true)
            .run(&[&ECS023])
            .findings
            .is_empty());
        assert!(provider(None, "ENABLED", false)
            .run(&[&ECS023])
            .findings
            .is_empty());
    }
}
