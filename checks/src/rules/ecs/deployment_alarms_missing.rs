//! ECS002: the circuit breaker is on, but no CloudWatch alarm watches the deployment.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Live ECS services on the ECS deployment controller whose deployment circuit
    /// breaker is on, but whose deployments are not watched by any CloudWatch alarm
    /// (`deploymentConfiguration.alarms` absent, disabled, or naming no alarm).
    ///
    /// ## Why it matters
    ///
    /// The circuit breaker only notices tasks that fail to start or fail their health
    /// checks, and it needs a run of consecutive failures to trip. A release whose tasks
    /// start and stay healthy but serve errors, time out, or break a downstream service
    /// rolls out completely. Deployment alarms let ECS stop and roll back on the signal
    /// that matters to users (5xx rate, latency, queue age). This is an advisory: the
    /// breaker already catches the crash-loop case.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].deploymentConfiguration.{breaker:deploymentCircuitBreaker,alarms:alarms}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Create CloudWatch alarms on the service's health signals and attach them with
    /// rollback:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --deployment-configuration 'alarms={alarmNames=[web-5xx,web-latency],enable=true,rollback=true},deploymentCircuitBreaker={enable=true,rollback=true}'
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
    pub static ECS002 = {
        code: "ECS002",
        name: "deployment-alarms-missing",
        severity: Severity::Low,
        summary: "ECS service relies on the circuit breaker alone: no CloudWatch alarm can stop a bad deployment",
        needs: ["ecs:DescribeServices"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for svc in &ctx.inventory.ecs_services {
        if !svc.is_live() || !svc.controller().eq_ignore_ascii_case("ECS") {
            continue;
        }
        let Some(cfg) = svc.deployment_configuration.as_ref() else {
            continue;
        };
        // Without the breaker ECS001 reports the bigger problem.
        if !cfg.circuit_breaker.as_ref().is_some_and(|b| b.enable) {
            continue;
        }
        let fact = match &cfg.alarms {
            Some(a) if a.enable && !a.alarm_names.is_empty() => continue,
            Some(a) if !a.alarm_names.is_empty() => format!(
                "deployment alarms {} configured but not enabled",
                a.alarm_names.join(", ")
            ),
            Some(_) => "deployment alarms configured with no alarm names".to_string(),
            None => "no deployment alarms".to_string(),
        };
        out.report(
            &svc.scope,
            Report {
                severity: Severity::Low,
                resource: svc.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "service `{}` relies on the circuit breaker alone ({fact}): a release whose tasks stay healthy but fail requests rolls out completely",
                    svc.name
                ),
                remediation: format!(
                    "Attach CloudWatch alarms on the service's error rate and latency: `aws ecs update-service --cluster {} --service {} --deployment-configuration 'alarms={{alarmNames=[ALARM],enable=true,rollback=true}},deploymentCircuitBreaker={{enable=true,rollback=true}}'`.",
                    svc.cluster_name(),
                    svc.name
                ),
                evidence: vec![Evidence::new(
                    &svc.arn,
                    format!("deployment circuit breaker on; {fact}"),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CircuitBreaker, DeploymentAlarms};
    use crate::testkit::Builder;

    fn service(alarms: Option<DeploymentAlarms>, breaker: bool) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let cfg = b
            .service("web", "web", &[])
            .deployment_configuration
            .as_mut()
            .unwrap();
        cfg.alarms = alarms;
        cfg.circuit_breaker = Some(CircuitBreaker {
            enable: breaker,
            rollback: true,
        });
        b
    }

    fn alarms(names: &[&str], enable: bool) -> Option<DeploymentAlarms> {
        Some(DeploymentAlarms {
            alarm_names: names.iter().map(|s| s.to_string()).collect(),
            enable,
            rollback: true,
        })
    }

    #[test]
    fn breaker_without_alarms_is_low() {
        let out = service(None, true).run(&[&ECS002]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert!(out.findings[0].message.contains("(no deployment alarms)"));
        let disabled = service(alarms(&["web-5xx"], false), true).run(&[&ECS002]);
        assert!(disabled.findings[0]
            .message
            .contains("web-5xx configured but not enabled"));
        assert_eq!(
            service(alarms(&[], true), true)
                .run(&[&ECS002])
                .findings
                .len(),
            1
        );
    }

    #[test]
    fn alarms_on_or_breaker_off_is_silent() {
        assert!(service(alarms(&["web-5xx"], true), true)
            .run(&[&ECS002])
            .findings
            .is_empty());
        // ECS001 owns the breaker-off case.
        assert!(service(None, false).run(&[&ECS002]).findings.is_empty());
    }
}
