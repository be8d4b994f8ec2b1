//! ECS016: clusters running services without CloudWatch Container Insights.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ACTIVE ECS clusters that run services and whose `containerInsights` cluster
    /// setting is not `enabled` or `enhanced` (absent or `disabled`).
    ///
    /// ## Why it matters
    ///
    /// Without Container Insights there are no per-service and per-task CPU, memory,
    /// network and storage metrics, no task counts by state, and no restart or
    /// deployment metrics: right-sizing, alarms on memory pressure before an OOM kill,
    /// and the deployment alarms that stop a bad release have nothing to read. Enabling
    /// it later does not bring back the history of an incident.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-clusters --clusters CLUSTER --include SETTINGS --query 'clusters[].settings'
    /// ```
    ///
    /// ## How to fix
    ///
    /// ```sh
    /// aws ecs update-cluster-settings --cluster CLUSTER --settings name=containerInsights,value=enhanced
    /// # and for clusters created from now on:
    /// aws ecs put-account-setting-default --name containerInsights --value enhanced
    /// ```
    ///
    /// Container Insights bills the metrics and log data it stores; `enabled` is the
    /// cheaper, less detailed level.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html
    pub static ECS016 = {
        code: "ECS016",
        name: "container-insights-off",
        severity: Severity::Low,
        summary: "ECS cluster runs services without CloudWatch Container Insights",
        needs: ["ecs:DescribeClusters"],
        controls: [
        fsbp("ECS.12").partial(
            "ECS.12 fails every cluster without Container Insights; ECS016 only clusters \
             that run services",
        ),
        config("ecs-container-insights-enabled").partial(
            "the rule fails every cluster; ECS016 only clusters that run services",
        ),
        prowler("ecs_cluster_container_insights_enabled").partial(
            "Prowler fails every cluster; ECS016 only clusters that run services",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for c in &ctx.inventory.ecs_clusters {
        if !c.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        let services = ctx
            .inventory
            .ecs_services
            .iter()
            .filter(|s| s.cluster_arn == c.arn && s.is_live())
            .count();
        if services == 0 && c.active_services_count == 0 {
            continue;
        }
        let value = c.settings.get("containerInsights").map(String::as_str);
        if value.is_some_and(|v| {
            v.eq_ignore_ascii_case("enabled") || v.eq_ignore_ascii_case("enhanced")
        }) {
            continue;
        }
        let fact = match value {
            Some(v) => format!("containerInsights = {v}"),
            None => "no containerInsights setting (off)".to_string(),
        };
        out.report(
            &c.scope,
            Report {
                severity: Severity::Low,
                resource: c.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "cluster `{}` runs {} without Container Insights: no per-service CPU, memory or task metrics to alarm on or investigate with",
                    c.name,
                    match services.max(c.active_services_count.max(0) as usize) {
                        1 => "1 service".to_string(),
                        n => format!("{n} services"),
                    }
                ),
                remediation: format!(
                    "`aws ecs update-cluster-settings --cluster {} --settings name=containerInsights,value=enhanced` (or `enabled`), and set the account default with `aws ecs put-account-setting-default --name containerInsights --value enhanced`.",
                    c.name
                ),
                evidence: vec![Evidence::new(&c.arn, fact)],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn cluster(setting: Option<&str>) -> Builder {
        let mut b = Builder::new();
        let c = b.ecs_cluster();
        if let Some(v) = setting {
            c.settings.insert("containerInsights".into(), v.into());
        }
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &[]);
        b
    }

    #[test]
    fn off_or_absent_fires_and_on_is_silent() {
        for (setting, fires) in [
            (None, true),
            (Some("disabled"), true),
            (Some("enabled"), false),
            (Some("enhanced"), false),
        ] {
            let out = cluster(setting).run(&[&ECS016]);
            assert_eq!(out.findings.len(), usize::from(fires), "{setting:?}");
        }
        let out = cluster(Some("disabled")).run(&[&ECS016]);
        assert!(out.findings[0]
            .message
            .starts_with("cluster `main` runs 1 service without"));
    }

    #[test]
    fn empty_clusters_are_silent() {
        let mut b = Builder::new();
        b.ecs_cluster().active_services_count = 0;
        assert!(b.run(&[&ECS016]).findings.is_empty());
    }
}
