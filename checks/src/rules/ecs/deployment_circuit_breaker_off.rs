//! ECS001: rolling deployments without the deployment circuit breaker, or without rollback.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services using the ECS (rolling update) deployment controller whose deployment
    /// circuit breaker is off (high), or on without automatic rollback (medium). Services
    /// using CodeDeploy or an external controller, and services being deleted, are skipped.
    ///
    /// ## Why it matters
    ///
    /// Without the circuit breaker, a deployment whose tasks keep failing (bad image tag,
    /// crashing container, failing health check) is retried indefinitely: the service churns
    /// tasks, may drain its healthy capacity and never reports the deployment as failed.
    /// With the breaker on but `rollback` off, ECS stops the deployment and marks it FAILED,
    /// but leaves the service on the broken revision until someone intervenes.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{controller:deploymentController.type,breaker:deploymentConfiguration.deploymentCircuitBreaker}'
    /// ```
    ///
    /// A missing `breaker`, or `enable: false`, means the breaker is off; `rollback: false`
    /// means failed deployments are not rolled back.
    ///
    /// ## How to fix
    ///
    /// Turn on the breaker with rollback:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}'
    /// ```
    ///
    /// In CloudFormation or CDK, set `DeploymentConfiguration.DeploymentCircuitBreaker` with
    /// `Enable: true` and `Rollback: true`. The breaker counts consecutive task failures
    /// only; add deployment alarms to catch deployments that start but misbehave.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
    pub static ECS001 = {
        code: "ECS001",
        name: "deployment-circuit-breaker-off",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECS service deploys without the deployment circuit breaker (or without rollback)",
        needs: ["ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for svc in &ctx.inventory.ecs_services {
        // The breaker only exists for the ECS controller; deleted services deploy nothing.
        if !svc.is_live() || !svc.controller().eq_ignore_ascii_case("ECS") {
            continue;
        }
        let breaker = svc
            .deployment_configuration
            .as_ref()
            .and_then(|d| d.circuit_breaker.as_ref());
        let cluster = svc.cluster_name();
        let (severity, discriminator, message, fact, remediation) = match breaker {
            Some(b) if b.enable && b.rollback => continue,
            Some(b) if b.enable => (
                Severity::Medium,
                "no-rollback",
                format!(
                    "service `{}` has the deployment circuit breaker on but rollback off: a failed deployment stops and stays on the broken revision",
                    svc.name
                ),
                "deploymentCircuitBreaker: enable=true, rollback=false",
                format!(
                    "Turn on rollback: `aws ecs update-service --cluster {cluster} --service {} --deployment-configuration 'deploymentCircuitBreaker={{enable=true,rollback=true}}'`.",
                    svc.name
                ),
            ),
            _ => (
                Severity::High,
                "breaker-off",
                format!(
                    "service `{}` deploys without the deployment circuit breaker: a deployment whose tasks keep failing is retried indefinitely",
                    svc.name
                ),
                if breaker.is_some() {
                    "deploymentCircuitBreaker: enable=false"
                } else {
                    "no deploymentCircuitBreaker in the deployment configuration"
                },
                format!(
                    "Turn on the circuit breaker with rollback: `aws ecs update-service --cluster {cluster} --service {} --deployment-configuration 'deploymentCircuitBreaker={{enable=true,rollback=true}}'`.",
                    svc.name
                ),
            ),
        };
        out.report(
            &svc.scope,
            Report {
                severity,
                resource: svc.arn.clone(),
                discriminator: discriminator.to_string(),
                message,
                remediation,
                evidence: vec![Evidence::new(
                    &svc.arn,
                    format!("deployment controller {}; {fact}", svc.controller()),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::model::CircuitBreaker;
    use crate::testkit::Builder;

    fn with_breaker(breaker: Option<CircuitBreaker>) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        if let Some(cfg) = b
            .service("web", "web", &[])
            .deployment_configuration
            .as_mut()
        {
            cfg.circuit_breaker = breaker;
        }
        b
    }

    #[test]
    fn breaker_absent_is_high() {
        let out = with_breaker(None).run(&[&ECS001]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            "service `web` deploys without the deployment circuit breaker: a deployment whose tasks keep failing is retried indefinitely"
        );
        assert!(f.remediation.contains("--cluster main --service web"));
    }

    #[test]
    fn breaker_disabled_is_high_and_no_rollback_is_medium() {
        let off = with_breaker(Some(CircuitBreaker {
            enable: false,
            rollback: true,
        }))
        .run(&[&ECS001]);
        assert_eq!(off.findings[0].severity, Severity::High);
        let no_rollback = with_breaker(Some(CircuitBreaker {
            enable: true,
            rollback: false,
        }))
        .run(&[&ECS001]);
        assert_eq!(no_rollback.findings.len(), 1);
        assert_eq!(no_rollback.findings[0].severity, Severity::Medium);
        assert!(no_rollback.findings[0].message.contains("rollback off"));
        // Different misconfigurations, different tickets.
        assert_ne!(
            off.findings[0].fingerprint,
            no_rollback.findings[0].fingerprint
        );
    }

    #[test]
    fn clean_twin_is_silent() {
        let out = with_breaker(Some(CircuitBreaker {
            enable: true,
            rollback: true,
        }))
        .run(&[&ECS001]);
        assert!(out.findings.is_empty());
    }

    #[test]
    fn other_controllers_and_deleted_services_are_skipped() {
        let mut b = with_breaker(None);
        b.inv.ecs_services[0].deployment_controller = Some("CODE_DEPLOY".into());
        assert!(b.run(&[&ECS001]).findings.is_empty());
        let mut b = with_breaker(None);
        b.inv.ecs_services[0].status = "DRAINING".into();
        assert!(b.run(&[&ECS001]).findings.is_empty());
    }
}
