//! ECS011: one IAM role used as both the task execution role and the task role.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS services (their task sets, scheduled and standalone tasks) whose task definition names the same IAM role as
    /// `executionRoleArn` and `taskRoleArn`.
    ///
    /// ## Why it matters
    ///
    /// The two roles serve different principals. The execution role is used by the ECS
    /// agent (or Fargate) to pull images, write logs and fetch the task's `secrets`; the
    /// task role is handed to the application code. Merging them gives the application
    /// every permission the agent needs: it can read all the secrets the execution role
    /// may fetch (not just its own), pull any image the role can, and write to any log
    /// group — and whatever the application needs is granted to the agent path too.
    /// Anyone who gets code execution in the container inherits the union.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.{execution:executionRoleArn,task:taskRoleArn}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Create a dedicated task role with only what the application calls, keep the
    /// execution role for image pulls, logs and secrets, register a new revision with the
    /// two roles and deploy it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    pub static ECS011 = {
        code: "ECS011",
        name: "execution-role-reused-as-task-role",
        severity: Severity::Medium,
        summary: "ECS task definition uses one IAM role as both execution role and task role",
        needs: [],
        ecs_workloads: true,
        run: run,
    };
}

/// Role ARNs compare by name: the path is optional in a task definition's reference.
fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let (Some(exec), Some(task)) = (&td.execution_role_arn, &td.task_role_arn) else {
            continue;
        };
        if role_name(exec) != role_name(task) {
            continue;
        }
        let role = role_name(task);
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} gives its application the execution role `{role}`: the code can read every secret, image and log group the ECS agent may",
                    w.describe()
                ),
                remediation: format!(
                    "Create a task role with only what the application calls, set it as `taskRoleArn` in a new revision of `{}` (keeping `{role}` as the execution role) and deploy it.",
                    td.family
                ),
                evidence: vec![
                    Evidence::new(w.arn(), w.runs_fact(&td.label())),
                    Evidence::new(
                        &td.arn,
                        format!("executionRoleArn and taskRoleArn are both `{task}`"),
                    ),
                ],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn roles(exec: Option<&str>, task: Option<&str>) -> usize {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["nginx"]);
        td.execution_role_arn = exec.map(str::to_string);
        td.task_role_arn = task.map(str::to_string);
        b.service("web", "web", &[]);
        b.run(&[&ECS011]).findings.len()
    }

    #[test]
    fn same_role_fires_and_distinct_or_missing_roles_do_not() {
        let exec = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole";
        assert_eq!(roles(Some(exec), Some(exec)), 1);
        // A path in one reference and not the other is still the same role.
        assert_eq!(
            roles(
                Some("arn:aws:iam::111122223333:role/svc/ecsTaskExecutionRole"),
                Some(exec)
            ),
            1
        );
        assert_eq!(
            roles(Some(exec), Some("arn:aws:iam::111122223333:role/web-task")),
            0
        );
        assert_eq!(roles(Some(exec), None), 0);
        assert_eq!(roles(None, None), 0);
    }
}
