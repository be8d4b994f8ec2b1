//! ELB006: services whose new tasks the load balancer fails before they have started.

use std::collections::HashSet;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::SlowStart;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (and their task sets) behind a target group where a new task is
    /// replaced before it can have started: the container the load balancer sends traffic
    /// to declares a health check `startPeriod` (the time it needs to start), yet
    ///
    /// - the target group calls a target unhealthy after *interval × unhealthy threshold*
    ///   seconds of failed checks, sooner than that start period, and
    /// - the service's `healthCheckGracePeriodSeconds` (0 when not set) is shorter than
    ///   the start period too.
    ///
    /// ECS acts on the load balancer's verdict after whichever of the two comes later; the
    /// finding is raised when that is still before the start period ends. Target groups
    /// use AWS's defaults (30 s interval, threshold 2) where they do not say.
    ///
    /// ## Why it matters
    ///
    /// The container's own health check forgives failures during its start period; the
    /// load balancer's does not. A task that needs two minutes to warm up is marked
    /// unhealthy after a minute, ECS stops it and starts a replacement, which meets the
    /// same fate: the service never reaches its desired count, deployments stall or roll
    /// back, and the tasks churn while the load balancer has nothing healthy to serve.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{grace:healthCheckGracePeriodSeconds,lb:loadBalancers,td:taskDefinition}'
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,healthCheck:healthCheck}'
    /// aws elbv2 describe-target-groups --target-group-arns TARGET_GROUP_ARN \
    ///   --query 'TargetGroups[].{interval:HealthCheckIntervalSeconds,unhealthy:UnhealthyThresholdCount}'
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].events[:10].message'
    /// ```
    ///
    /// Events such as "is unhealthy in target-group … due to (reason Request timed out)"
    /// followed by "has stopped 1 running tasks" repeating for new tasks confirm it.
    ///
    /// ## How to fix
    ///
    /// Give the service a grace period at least as long as the container's start period:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --health-check-grace-period-seconds 120
    /// ```
    ///
    /// Or make the application start faster; raising the target group's interval or
    /// unhealthy threshold also works but slows the detection of real failures.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-healthCheckGracePeriodSeconds
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html
    pub static ELB006 = {
        code: "ELB006",
        name: "health-check-kills-slow-start",
        severity: Severity::High,
        summary: "load balancer marks an ECS service's new tasks unhealthy before their declared start period ends",
        needs: [
            "ecs:ListClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
            "elbv2:DescribeTargetGroups",
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for w in ctx.graph.ecs_workloads() {
        if !w.is_service() || w.load_balancers().is_empty() {
            continue;
        }
        let tgs = ctx.graph.workload_target_groups(w);
        if tgs.is_empty() {
            continue;
        }
        if ctx.graph.task_definition(w.task_definition()).is_none() {
            out.unknown(
                w.scope(),
                Some(w.resource()),
                format!(
                    "task definition {} of {} was not collected; cannot tell whether its containers need longer to start than its target groups allow",
                    w.task_definition(),
                    w.describe()
                ),
            );
            continue;
        }
        let mut seen = HashSet::new();
        for tg in tgs {
            if !seen.insert(&tg.arn) {
                continue;
            }
            if let Some(s) = ctx.graph.slow_start(w, tg) {
                out.report(w.scope(), report(&s));
            }
        }
    }
}

fn report(s: &SlowStart<'_>) -> Report {
    let w = &s.workload;
    let tg = s.target_group;
    let service = w.service().expect("slow starts are found for services only");
    let grace = if service.health_check_grace_period_seconds.is_some() {
        format!("a health check grace period of {} s", s.grace)
    } else {
        String::from("no health check grace period")
    };
    let evidence = vec![
        Evidence::new(
            &service.arn,
            match service.health_check_grace_period_seconds {
                Some(g) => format!("healthCheckGracePeriodSeconds {g}"),
                None => String::from("healthCheckGracePeriodSeconds not set (0)"),
            },
        ),
        Evidence::new(
            &s.task_definition.arn,
            format!(
                "container `{}` of task definition `{}` declares a health check startPeriod of {} s",
                s.container,
                s.task_definition.label(),
                s.start_period
            ),
        ),
        Evidence::new(
            &tg.arn,
            format!(
                "target group `{}`: health check interval {} s, unhealthy threshold {}: a target that does not answer is unhealthy after {} s",
                tg.name,
                s.interval,
                s.threshold,
                s.unhealthy_after()
            ),
        ),
        Evidence::new(
            w.arn(),
            format!(
                "{} registers container `{}` in target group `{}`",
                w.describe(),
                s.container,
                tg.name
            ),
        ),
    ];
    Report {
        severity: Severity::High,
        resource: w.resource().to_string(),
        discriminator: String::new(),
        message: format!(
            "{} has {grace}, and target group `{}` marks a target unhealthy after {} s ({} s interval × {}), but container `{}` declares a start period of {} s: ECS stops each new task after {} s, before it has started, and replaces it in a loop",
            w.describe(),
            tg.name,
            s.unhealthy_after(),
            s.interval,
            s.threshold,
            s.container,
            s.start_period,
            s.replaced_after()
        ),
        remediation: format!(
            "Set the service's grace period to at least the start period: `aws ecs update-service --cluster {} --service {} --health-check-grace-period-seconds {}`; or make the container start faster.",
            service.cluster_name(),
            service.name,
            s.start_period
        ),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    /// Service `web` (grace `grace`) registering container `c0` (start period `start`) in
    /// `web-tg` (10 s × 3 = 30 s to unhealthy).
    fn web(grace: Option<i32>, start: Option<i32>) -> Builder {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["web:1"]);
        td.containers[0].health_check.as_mut().unwrap().start_period = start;
        b.service("web", "web", &["subnet-1"])
            .health_check_grace_period_seconds = grace;
        let tg = b.target_group("web-tg", "ip");
        tg.health_check_interval_seconds = Some(10);
        tg.unhealthy_threshold_count = Some(3);
        b.attach("web", "web-tg");
        b
    }

    #[test]
    fn no_grace_and_a_long_start_period_fires() {
        let b = web(None, Some(120));
        let out = b.run(&[&ELB006]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` has no health check grace period, and target group `web-tg` marks a target unhealthy after 30 s (10 s interval × 3), but container `c0` declares a start period of 120 s: ECS stops each new task after 30 s, before it has started, and replaces it in a loop"
        );
        assert!(f
            .remediation
            .contains("--service web --health-check-grace-period-seconds 120"));
    }

    #[test]
    fn a_short_grace_period_still_fires() {
        let out = web(Some(60), Some(120)).run(&[&ELB006]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("has a health check grace period of 60 s"));
        assert!(out.findings[0].message.contains("stops each new task after 60 s"));
    }

    #[test]
    fn clean_twins_are_silent() {
        for (grace, start) in [
            (Some(120), Some(120)),
            (Some(300), Some(120)),
            (None, None),
            (None, Some(0)),
            // The load balancer itself waits 30 s: a 30 s start period fits.
            (None, Some(30)),
        ] {
            let out = web(grace, start).run(&[&ELB006]);
            assert!(out.findings.is_empty(), "{grace:?} {start:?}: {out:?}");
        }
    }

    #[test]
    fn slow_health_checks_of_the_target_group_fit_the_start() {
        let mut b = web(None, Some(120));
        b.inv.target_groups[0].health_check_interval_seconds = Some(60);
        assert!(b.run(&[&ELB006]).findings.is_empty(), "60 s × 3 = 180 s ≥ 120 s");
        // AWS's defaults (30 s × 2 = 60 s) when the group does not say.
        b.inv.target_groups[0].health_check_interval_seconds = None;
        b.inv.target_groups[0].unhealthy_threshold_count = None;
        let out = b.run(&[&ELB006]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("after 60 s (30 s interval × 2)"));
    }

    #[test]
    fn only_the_registered_container_counts() {
        let mut b = web(None, None);
        let td = &mut b.inv.task_definitions[0];
        let mut sidecar = td.containers[0].clone();
        sidecar.name = "sidecar".into();
        sidecar.health_check.as_mut().unwrap().start_period = Some(200);
        td.containers.push(sidecar);
        assert!(b.run(&[&ELB006]).findings.is_empty());
    }

    #[test]
    fn task_sets_report_on_their_service_once() {
        let mut b = web(None, Some(120));
        for id in ["ecs-svc/1", "ecs-svc/2"] {
            let status = if id.ends_with('1') { "PRIMARY" } else { "ACTIVE" };
            b.task_set("web", id, status, "web", &["subnet-1"]);
        }
        let lbs = b.inv.ecs_services[0].load_balancers.clone();
        for ts in &mut b.inv.ecs_services[0].task_sets {
            ts.load_balancers = lbs.clone();
        }
        let out = b.run(&[&ELB006]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(out.findings[0].resource, b.service_arn("web"));
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = web(None, Some(120));
        b.inv.task_definitions.clear();
        let out = b.run(&[&ELB006]);
        assert!(out.findings.is_empty());
        assert!(out
            .unknowns
            .iter()
            .any(|u| u.reason.contains("was not collected")));
    }
}
