//! ECS009: tasks whose execution role is missing, or cannot do what starting them needs.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::EcsWorkload;
use crate::model::{image_source, ImageSource, TaskDefinition, GLOBAL_REGION};
use crate::policy::{Access, RolePermissions};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS services (their task sets, scheduled and standalone tasks) whose task definition needs an execution role and has none,
    /// names a role that does not exist, or names one whose policies do not allow what
    /// starting the task takes:
    ///
    /// - pulling a private ECR image on Fargate: `ecr:GetAuthorizationToken`, and
    ///   `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` on the repository;
    /// - the `awslogs` driver on Fargate: `logs:CreateLogStream` and `logs:PutLogEvents`
    ///   on the log group named in the options;
    /// - `secrets` (any launch type): `secretsmanager:GetSecretValue` on each Secrets
    ///   Manager secret, `ssm:GetParameters` on each SSM parameter.
    ///
    /// The role's inline policies, its customer managed policies and the common AWS
    /// managed policies are evaluated; when another AWS managed policy is attached and the
    /// known ones do not already grant the permission, the check says it cannot decide.
    /// KMS permissions for customer-key encrypted secrets are not evaluated.
    ///
    /// ## Why it matters
    ///
    /// The execution role is used before the application starts. Without the permission
    /// the task stops in `PROVISIONING`/`PENDING` with `CannotPullContainerError`,
    /// `ResourceInitializationError: unable to pull secrets or registry auth` or a log
    /// driver error; deployments fail and, without the circuit breaker, retry forever. A
    /// policy edit or a role deletion breaks every service that uses the role at its next
    /// task start, not when the change is made.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.{executionRoleArn:executionRoleArn,images:containerDefinitions[].image,secrets:containerDefinitions[].secrets}'
    /// aws iam simulate-principal-policy --policy-source-arn ROLE_ARN \
    ///   --action-names ecr:BatchGetImage secretsmanager:GetSecretValue --resource-arns RESOURCE_ARN
    /// ```
    ///
    /// ## How to fix
    ///
    /// Give the task definition an execution role with the AWS managed
    /// `AmazonECSTaskExecutionRolePolicy` and an inline policy granting
    /// `secretsmanager:GetSecretValue` / `ssm:GetParameters` on exactly the task's secrets:
    ///
    /// ```sh
    /// aws iam attach-role-policy --role-name ecsTaskExecutionRole \
    ///   --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    pub static ECS009 = {
        code: "ECS009",
        name: "execution-role-missing-or-weak",
        severity: Severity::High,
        summary: "ECS task needs an execution role that is missing or cannot pull its image, write its logs or read its secrets",
        needs: [
            "iam:GetAccountAuthorizationDetails",
        ],
        ecs_workloads: true,
        run: run,
    };
}

/// One permission starting the task takes.
struct Need {
    why: String,
    action: &'static str,
    resource: String,
}

fn needs(ctx: &Ctx<'_>, w: &EcsWorkload<'_>, td: &TaskDefinition) -> Vec<Need> {
    let fargate = ctx.graph.runs_on_fargate(w);
    let partition = w.scope().partition();
    let account = &w.scope().account;
    let mut out = Vec::new();
    for c in &td.containers {
        if fargate {
            if let ImageSource::Ecr { region } = image_source(&c.image) {
                let (host, rest) = c.image.split_once('/').unwrap_or((&c.image, ""));
                let registry = host.split('.').next().unwrap_or(account);
                let repo = rest.split(['@', ':']).next().unwrap_or(rest);
                let arn = format!("arn:{partition}:ecr:{region}:{registry}:repository/{repo}");
                let why = format!("pull `{}`", c.image);
                out.push(Need {
                    why: why.clone(),
                    action: "ecr:GetAuthorizationToken",
                    resource: "*".into(),
                });
                out.push(Need {
                    why: why.clone(),
                    action: "ecr:BatchGetImage",
                    resource: arn.clone(),
                });
                out.push(Need {
                    why,
                    action: "ecr:GetDownloadUrlForLayer",
                    resource: arn,
                });
            }
            if c.log_driver.as_deref() == Some("awslogs") {
                if let Some(group) = c.log_options.get("awslogs-group") {
                    let region = c
                        .log_options
                        .get("awslogs-region")
                        .map_or(w.scope().region.as_str(), String::as_str);
                    let stream = format!("arn:{partition}:logs:{region}:{account}:log-group:{group}:log-stream:{}/{}/0", c.log_options.get("awslogs-stream-prefix").map_or("ecs", String::as_str), c.name);
                    let why = format!("send container `{}` logs to `{group}`", c.name);
                    out.push(Need {
                        why: why.clone(),
                        action: "logs:CreateLogStream",
                        resource: stream.clone(),
                    });
                    out.push(Need {
                        why,
                        action: "logs:PutLogEvents",
                        resource: stream,
                    });
                }
            }
        }
        for s in &c.secrets {
            let value = s.value.as_str();
            let why = format!("read secret `{}` of container `{}`", s.name, c.name);
            if value.starts_with("arn:") && value.split(':').nth(2) == Some("secretsmanager") {
                // arn:aws:secretsmanager:region:account:secret:name[:json-key:stage:version]
                let arn: Vec<&str> = value.split(':').take(7).collect();
                out.push(Need {
                    why,
                    action: "secretsmanager:GetSecretValue",
                    resource: arn.join(":"),
                });
            } else if value.starts_with("arn:") && value.split(':').nth(2) == Some("ssm") {
                out.push(Need {
                    why,
                    action: "ssm:GetParameters",
                    resource: value.to_string(),
                });
            } else if !value.starts_with("arn:") {
                let name = value.trim_start_matches('/');
                let arn = format!(
                    "arn:{partition}:ssm:{}:{account}:parameter/{name}",
                    w.scope().region
                );
                out.push(Need {
                    why,
                    action: "ssm:GetParameters",
                    resource: arn,
                });
            }
        }
    }
    out
}

/// Whether the account's roles and policies were collected completely.
fn iam_complete(ctx: &Ctx<'_>, account: &str) -> bool {
    ctx.inventory.coverage.complete(
        account,
        GLOBAL_REGION,
        &["iam:GetAccountAuthorizationDetails"],
        None,
    )
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let needs = needs(ctx, &w, td);
        if needs.is_empty() {
            continue;
        }
        let mut whys: Vec<&str> = needs.iter().map(|n| n.why.as_str()).collect();
        whys.dedup();
        let base_evidence = vec![
            Evidence::new(w.arn(), w.runs_fact(&td.label())),
            Evidence::new(
                &td.arn,
                format!(
                    "starting a task needs the execution role to {}",
                    whys.join("; ")
                ),
            ),
        ];
        let Some(reference) = td.execution_role_arn.as_deref() else {
            out.report(
                w.scope(),
                Report {
                    severity: Severity::High,
                    resource: w.resource().to_string(),
                    discriminator: "no-role".into(),
                    message: format!(
                        "{} has no task execution role, but its tasks need one to {}: they cannot start",
                        w.describe(),
                        whys.join("; ")
                    ),
                    remediation: format!(
                        "Set `executionRoleArn` in a new revision of `{}` to a role with AmazonECSTaskExecutionRolePolicy and read access to its secrets, and deploy it.",
                        td.family
                    ),
                    evidence: base_evidence,
                },
            );
            continue;
        };
        if !iam_complete(ctx, &w.scope().account) {
            continue; // The engine reports the IAM gap as not evaluated.
        }
        let Some(role) = ctx.graph.role_named(&w.scope().account, reference) else {
            let role_account = reference.split(':').nth(4).unwrap_or(&w.scope().account);
            if role_account != w.scope().account {
                continue; // Another account's role: not ours to see.
            }
            let mut evidence = base_evidence;
            evidence.push(Evidence::new(
                &td.arn,
                format!("executionRoleArn `{reference}` names no IAM role of the account"),
            ));
            out.report(
                w.scope(),
                Report {
                    severity: Severity::High,
                    resource: w.resource().to_string(),
                    discriminator: "no-role".into(),
                    message: format!(
                        "{} names execution role `{reference}`, which does not exist: its tasks cannot start",
                        w.describe()
                    ),
                    remediation: format!(
                        "Recreate the role or point `executionRoleArn` in a new revision of `{}` at an existing execution role, and deploy it.",
                        td.family
                    ),
                    evidence,
                },
            );
            continue;
        };
        let perms = RolePermissions::of(ctx.inventory, role);
        let mut missing: Vec<String> = Vec::new();
        let mut undecided = false;
        for n in &needs {
            match perms.access(n.action, &n.resource) {
                Access::Allowed => {}
                Access::Denied => {
                    let grant = if n.resource == "*" {
                        n.action.to_string()
                    } else {
                        format!("{} on {}", n.action, n.resource)
                    };
                    if !missing.contains(&grant) {
                        missing.push(grant);
                    }
                }
                Access::Unknown => undecided = true,
            }
        }
        if missing.is_empty() {
            if undecided {
                out.unknown(
                    w.scope(),
                    Some(w.resource()),
                    format!(
                        "execution role `{}` has policies whose grants are not known here: {}",
                        role.name,
                        perms.unknown.join(", ")
                    ),
                );
            }
            continue;
        }
        let mut evidence = base_evidence;
        let sources: Vec<&str> = perms.policies.iter().map(|(l, _)| l.as_str()).collect();
        evidence.push(Evidence::new(
            &role.arn,
            format!(
                "policies: {}; none allows {}",
                if sources.is_empty() {
                    "none".to_string()
                } else {
                    sources.join(", ")
                },
                missing.join(", ")
            ),
        ));
        out.report(
            w.scope(),
            Report {
                severity: Severity::High,
                resource: w.resource().to_string(),
                discriminator: "weak-role".into(),
                message: format!(
                    "{}'s execution role `{}` does not allow {}: its tasks cannot start",
                    w.describe(),
                    role.name,
                    missing.join(", ")
                ),
                remediation: format!(
                    "Grant role `{}` {} (AmazonECSTaskExecutionRolePolicy covers ECR and CloudWatch Logs; add an inline policy for the secrets).",
                    role.name,
                    missing.join(", ")
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IamRole, KeyValue, ManagedPolicy, NamedPolicy, Scope, GLOBAL_REGION};
    use crate::testkit::{Builder, ACCOUNT};

    const EXEC: &str = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole";
    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";

    fn role(b: &mut Builder, managed: &[&str], inline: Option<&str>) {
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: EXEC.into(),
            name: "ecsTaskExecutionRole".into(),
            path: "/".into(),
            trust_policy: None,
            inline_policies: inline
                .map(|d| {
                    vec![NamedPolicy {
                        name: "secrets".into(),
                        document: d.into(),
                    }]
                })
                .unwrap_or_default(),
            attached_policy_arns: managed.iter().map(|s| s.to_string()).collect(),
        });
    }

    fn service(exec: Option<&str>, secrets: bool) -> Builder {
        let mut b = Builder::new();
        let td = b.task_def(
            "web",
            Some("awsvpc"),
            &["111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"],
        );
        td.execution_role_arn = exec.map(str::to_string);
        if secrets {
            td.containers[0].secrets = vec![KeyValue {
                name: "DB_PASSWORD".into(),
                value: format!("{SECRET}:password::"),
            }];
        }
        b.service("web", "web", &["subnet-1"]);
        b
    }

    const MANAGED: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

    #[test]
    fn no_role_or_a_deleted_role_fires() {
        let out = service(None, false).run(&[&ECS009]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("has no task execution role"));
        let out = service(Some(EXEC), false).run(&[&ECS009]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0].message.contains("which does not exist"));
    }

    #[test]
    fn managed_policy_pulls_but_secrets_need_a_grant() {
        let mut b = service(Some(EXEC), true);
        role(&mut b, &[MANAGED], None);
        let out = b.run(&[&ECS009]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].message,
            format!("service `web`'s execution role `ecsTaskExecutionRole` does not allow secretsmanager:GetSecretValue on {SECRET}: its tasks cannot start")
        );

        let mut b = service(Some(EXEC), true);
        let grant = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"{SECRET}"}}]}}"#
        );
        role(&mut b, &[MANAGED], Some(&grant));
        assert!(b.run(&[&ECS009]).findings.is_empty());
    }

    #[test]
    fn customer_managed_policies_count_and_unknown_ones_are_not_guessed() {
        let mut b = service(Some(EXEC), false);
        let arn = "arn:aws:iam::111122223333:policy/pull";
        role(&mut b, &[arn], None);
        b.inv.iam_policies.push(ManagedPolicy {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: arn.into(),
            name: "pull".into(),
            document: Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#.into(),
            ),
        });
        assert!(b.run(&[&ECS009]).findings.is_empty());

        let mut b = service(Some(EXEC), false);
        role(&mut b, &["arn:aws:iam::aws:policy/SomethingElse"], None);
        let out = b.run(&[&ECS009]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(out.unknowns[0].reason.contains("SomethingElse"));
    }

    #[test]
    fn iam_gap_decides_nothing_and_ec2_tasks_pull_with_the_instance_role() {
        let mut b = service(Some(EXEC), false);
        b.inv.coverage.push(crate::model::CoverageEntry {
            account: ACCOUNT.into(),
            region: GLOBAL_REGION.into(),
            service: "iam".into(),
            operation: "GetAccountAuthorizationDetails".into(),
            scope: None,
            status: crate::model::CallStatus::AccessDenied,
            error_code: Some("AccessDenied".into()),
            message: None,
        });
        let out = b.run(&[&ECS009]);
        assert!(out.findings.is_empty());
        assert!(!out.unknowns.is_empty());

        let mut b = service(None, false);
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(b.run(&[&ECS009]).findings.is_empty());
    }
}
