//! ECS015: containers whose output goes nowhere a person can read it.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services (their task sets, scheduled and standalone tasks) without a `logConfiguration`.
    ///
    /// ## Why it matters
    ///
    /// Without a log driver, a Fargate task's standard output and error are discarded,
    /// and on EC2 they stay in the Docker daemon's `json-file` on the instance until the
    /// task is cleaned up or the instance is replaced. The stack trace of a task that
    /// crashes on start, the reason a deployment rolled back, and any audit trail of what
    /// the application did are lost exactly when they are needed.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,log:logConfiguration.logDriver}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Give each container a log driver (`awslogs` to CloudWatch Logs, or `awsfirelens`),
    /// register a new revision and deploy it:
    ///
    /// ```json
    /// "logConfiguration": {"logDriver": "awslogs", "options": {
    ///   "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web",
    ///   "awslogs-create-group": "true"}}
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
    pub static ECS015 = {
        code: "ECS015",
        name: "no-log-configuration",
        severity: Severity::Medium,
        summary: "ECS container has no log configuration: its output is lost",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.9"),
        config("ecs-task-definition-log-configuration"),
        prowler("ecs_task_definitions_logging_enabled"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        for c in td.containers.iter().filter(|c| c.log_driver.is_none()) {
            out.report(
                w.scope(),
                Report {
                    severity: Severity::Medium,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} runs container `{}` without a log configuration: its output, including the reason it crashes, is not kept",
                        w.describe(), c.name
                    ),
                    remediation: format!(
                        "Add a `logConfiguration` (awslogs or awsfirelens) to container `{}` in a new revision of `{}` and deploy it.",
                        c.name, td.family
                    ),
                    evidence: vec![
                        Evidence::new(w.arn(), w.runs_fact(&td.label())),
                        Evidence::new(&td.arn, format!("container `{}`: no logConfiguration", c.name)),
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
    fn containers_without_a_log_driver_fire_and_others_do_not() {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["app", "sidecar"]);
        td.containers[1].log_driver = None;
        b.service("web", "web", &[]);
        let out = b.run(&[&ECS015]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("container `c1`"));
        b.inv.task_definitions[0].containers[1].log_driver = Some("awsfirelens".into());
        assert!(b.run(&[&ECS015]).findings.is_empty());
    }
}
