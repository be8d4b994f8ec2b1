//! ECS005: essential containers that ECS cannot tell are healthy.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Essential containers of running ECS services (their task sets, scheduled and standalone tasks) without a container `healthCheck`.
    /// Medium when the service has no load balancer (nothing else probes the task), low
    /// when a target group health check covers the traffic-serving container.
    ///
    /// ## Why it matters
    ///
    /// Without a health check ECS knows only whether the process is running. A container
    /// that hangs, deadlocks or loses its database connection stays `RUNNING` and is
    /// never replaced; a worker or queue consumer without a load balancer can sit broken
    /// for days. Behind a load balancer the target group notices the serving port, but not
    /// an essential sidecar (a proxy, a log router), and the deployment circuit breaker
    /// can only count health-check failures it is told about.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,essential:essential,healthCheck:healthCheck}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add a `healthCheck` to each essential container that exercises what the container
    /// needs to do its job, register a new revision and deploy it:
    ///
    /// ```json
    /// "healthCheck": {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"],
    ///                 "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30}
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
    pub static ECS005 = {
        code: "ECS005",
        name: "missing-container-health-check",
        severity: Severity::Medium,
        lower: [Severity::Low],
        summary: "Essential ECS container has no health check: a hung process is never replaced",
        needs: [],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let behind_lb = !w.load_balancers().is_empty();
        for c in td
            .containers
            .iter()
            .filter(|c| c.essential && !c.has_health_check)
        {
            let serves_lb = w
                .load_balancers()
                .iter()
                .any(|lb| lb.container_name.as_deref() == Some(c.name.as_str()));
            let (severity, consequence) = if serves_lb {
                (
                    Severity::Low,
                    "only the load balancer's health check watches it, and ECS cannot tell a hung container from a busy one",
                )
            } else if behind_lb {
                (
                    Severity::Medium,
                    "the load balancer checks another container, so a hang here goes unnoticed",
                )
            } else {
                (
                    Severity::Medium,
                    "nothing probes it, so a hung process stays RUNNING and is never replaced",
                )
            };
            out.report(
                w.scope(),
                Report {
                    severity,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} runs essential container `{}` without a health check: {consequence}",
                        w.describe(), c.name
                    ),
                    remediation: format!(
                        "Add a `healthCheck` to container `{}` in a new revision of `{}` and deploy it.",
                        c.name, td.family
                    ),
                    evidence: vec![
                        Evidence::new(w.arn(), w.runs_fact(&td.label())),
                        Evidence::new(
                            &td.arn,
                            format!("container `{}`: essential, no healthCheck", c.name),
                        ),
                    ],
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn essential_containers_without_checks_fire_by_exposure() {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["app", "proxy", "debug", "ok"]);
        for c in &mut td.containers[..3] {
            c.has_health_check = false;
        }
        td.containers[2].essential = false;
        b.service("web", "web", &[]);
        let out = b.run(&[&ECS005]);
        assert_eq!(out.findings.len(), 2);
        assert!(out.findings.iter().all(|f| f.severity == Severity::Medium));

        // Behind a load balancer, the serving container is covered (low), the other not.
        let tg = b.tg_arn("web");
        b.inv.ecs_services[0].load_balancers = vec![crate::model::ServiceLoadBalancer {
            target_group_arn: Some(tg),
            load_balancer_name: None,
            container_name: Some("c0".into()),
            container_port: Some(80),
        }];
        let out = b.run(&[&ECS005]);
        let sev: Vec<(String, Severity)> = out
            .findings
            .iter()
            .map(|f| (f.message.split('`').nth(3).unwrap().to_string(), f.severity))
            .collect();
        assert!(sev.contains(&("c0".to_string(), Severity::Low)), "{sev:?}");
        assert!(
            sev.contains(&("c1".to_string(), Severity::Medium)),
            "{sev:?}"
        );
    }

    #[test]
    fn containers_with_checks_are_silent() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["app"]);
        b.service("web", "web", &[]);
        assert!(b.run(&[&ECS005]).findings.is_empty());
    }
}
