//! ECS003: secrets passed to containers as plain environment variables.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{ContainerDefinition, ContainerOverride};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services (their task sets, scheduled and standalone tasks) with a secret in plain sight: an `environment`
    /// entry, or a `command` / `entryPoint` argument (`--db-password=…`, `--token …`, also
    /// inside a `sh -c "…"` string), whose value is in a known credential format (an AWS
    /// access key id, a private key, a GitHub/GitLab/Slack/Stripe/npm token, a JSON Web
    /// Token or PASETO token), a long random token, or whose name says it is one
    /// (`DB_PASSWORD`, `API_TOKEN`) with a value that is not a reference or a setting
    /// (`SECRET_ARN=arn:…` and `TOKEN_TTL=3600` are not reported). A scheduled task's
    /// input may override a container's environment and command (`containerOverrides`):
    /// those count too, and the fix names the input. One finding per
    /// container names every variable and argument and why; no value is ever kept: the
    /// collector keeps only the verdict, and `--record` stores a marker in place of every
    /// environment value and argument.
    ///
    /// ## Why it matters
    ///
    /// Task definition environment values and arguments are stored and returned in clear
    /// text: anyone
    /// with `ecs:DescribeTaskDefinition` (read-only roles, CI systems, third-party
    /// auditors) reads them, every revision keeps them forever (revisions cannot be
    /// edited, only deregistered), and they show up in the console. Rotating such a secret
    /// means a new revision and a redeploy.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,env:environment[].name,command:command,entryPoint:entryPoint}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Store the value in Secrets Manager or SSM Parameter Store (SecureString), reference
    /// it from the container's `secrets` (`{"name": "DB_PASSWORD", "valueFrom": "arn:…"}`),
    /// grant the task execution role `secretsmanager:GetSecretValue` or
    /// `ssm:GetParameters` on it, deploy the new revision, then rotate the exposed value
    /// and deregister the old revisions:
    ///
    /// ```sh
    /// aws secretsmanager create-secret --name prod/web/db-password --secret-string file://value.txt
    /// aws ecs deregister-task-definition --task-definition FAMILY:OLD_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html
    pub static ECS003 = {
        code: "ECS003",
        name: "secret-in-environment",
        severity: Severity::High,
        summary: "ECS container receives a secret as a plain environment variable or argument",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.8").partial(
            "ECS.8 fails on three variable names (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
             ECS_ENGINE_AUTH_DATA) whatever their value; ECS003 judges names and values",
        ),
        config("ecs-no-environment-secrets").partial(
            "the rule fails on the variable names listed in its secretKeys parameter, \
             whatever their value; ECS003 judges names and values",
        ),
        prowler("ecs_task_definitions_no_environment_secrets").partial(
            "Prowler scans environment values only; ECS003 also reads command lines and \
             entry points",
        ),
        ],
        run: run,
    };
}

/// `` `DB_PASSWORD` (its name says it holds a secret) `` for each secret variable, and
/// `` `command` argument 4 `--db-password` (…) `` for each secret argument.
fn secret_labels(c: &ContainerDefinition) -> (Vec<String>, Vec<String>) {
    let env = c
        .environment
        .iter()
        .filter_map(|v| Some(format!("`{}` ({})", v.name, v.secret?.reason())))
        .collect();
    let args = [
        ("command", &c.command_secrets),
        ("entryPoint", &c.entry_point_secrets),
    ]
    .into_iter()
    .flat_map(|(list, found)| {
        found.iter().map(move |a| {
            let option = a
                .option
                .as_deref()
                .map(|o| format!(" `{o}`"))
                .unwrap_or_default();
            format!(
                "`{list}` argument {}{option} ({})",
                a.position,
                a.kind.reason()
            )
        })
    })
    .collect();
    (env, args)
}

/// The container as the workload runs it: a scheduled task's input may override its
/// environment (a variable of the same name replaces the task definition's) and replace its
/// command.
fn effective(c: &ContainerDefinition, o: Option<&ContainerOverride>) -> ContainerDefinition {
    let mut c = c.clone();
    if let Some(o) = o {
        for var in &o.environment {
            c.environment.retain(|v| v.name != var.name);
            c.environment.push(var.clone());
        }
        if !o.command_secrets.is_empty() {
            c.command_secrets = o.command_secrets.clone();
        }
    }
    c
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        for own in &td.containers {
            let overridden = w.container_override(&own.name);
            let c = &effective(own, overridden);
            // What the revision itself holds (an input may override a variable of it).
            let set_by_input = |name: &str| {
                overridden.is_some_and(|o| o.environment.iter().any(|v| v.name == name))
            };
            let td_names: Vec<&str> = own
                .environment
                .iter()
                .filter(|v| v.secret.is_some() && !set_by_input(&v.name))
                .map(|v| v.name.as_str())
                .collect();
            let td_args = overridden.is_none_or(|o| o.command_secrets.is_empty());
            let (env, args) = secret_labels(c);
            if env.is_empty() && args.is_empty() {
                continue;
            }
            let env_names: Vec<&str> = c
                .environment
                .iter()
                .filter(|v| v.secret.is_some())
                .map(|v| v.name.as_str())
                .collect();
            let count = env.len() + args.len();
            let mut places = Vec::new();
            if !env.is_empty() {
                places.push(format!("as plain environment: {}", env.join(", ")));
            }
            if !args.is_empty() {
                places.push(format!("on its command line: {}", args.join(", ")));
            }
            let mut moved = Vec::new();
            if !env_names.is_empty() {
                moved.push(format!(
                    "{} of container `{}`",
                    env_names.join(", "),
                    c.name
                ));
            }
            if !args.is_empty() {
                moved.push(format!(
                    "the command-line secrets of container `{}` (read them from the environment the `secrets` inject instead)",
                    c.name
                ));
            }
            let mut facts = Vec::new();
            if !td_names.is_empty() {
                facts.push(format!(
                    "container `{}` environment holds {} (values not shown)",
                    c.name,
                    td_names.join(", ")
                ));
            }
            if !args.is_empty() && td_args {
                facts.push(format!(
                    "container `{}` command line holds {} (values not shown)",
                    c.name,
                    args.join(", ")
                ));
            }
            let mut evidence = vec![Evidence::new(w.arn(), w.runs_fact(&td.label()))];
            evidence.extend(facts.into_iter().map(|f| Evidence::new(&td.arn, f)));
            // Secrets the scheduled task's input passes: fixed there, not in the revision.
            let from_input: Vec<String> = overridden
                .map(|o| {
                    o.environment
                        .iter()
                        .filter(|v| v.secret.is_some())
                        .map(|v| format!("`{}`", v.name))
                        .chain((!o.command_secrets.is_empty()).then(|| "its command".to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let mut remediation = format!(
                "Move {} into Secrets Manager or SSM Parameter Store, reference them from `secrets` in a new revision of `{}`, deploy it, rotate the exposed values and deregister the old revisions.",
                moved.join(" and "),
                td.family
            );
            if !from_input.is_empty() {
                evidence.push(Evidence::new(
                    w.arn(),
                    format!(
                        "its input's containerOverrides for `{}` set {} (values not shown)",
                        c.name,
                        from_input.join(", ")
                    ),
                ));
                remediation.push_str(&format!(
                    " Remove {} from the containerOverrides in the input of {}.",
                    from_input.join(", "),
                    w.describe()
                ));
            }
            out.report(
                w.scope(),
                Report {
                    severity: Severity::High,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} passes {} to container `{}` {}",
                        w.describe(),
                        if count == 1 { "a secret" } else { "secrets" },
                        c.name,
                        places.join(" and ")
                    ),
                    remediation,
                    evidence,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EnvVar;
    use crate::secrets::classify_args;
    use crate::testkit::Builder;

    const VALUES: [&str; 3] = [
        "hunter2-prod",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ];

    fn env(pairs: &[(&str, &str)]) -> Builder {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["nginx"]);
        td.containers[0].environment = pairs.iter().map(|(n, v)| EnvVar::judge(n, v)).collect();
        b.service("web", "web", &[]);
        b
    }

    #[test]
    fn names_the_variables_and_never_the_values() {
        let out = env(&[
            ("DB_PASSWORD", VALUES[0]),
            ("UPLOAD", VALUES[1]),
            ("GH", VALUES[2]),
            ("LOG_LEVEL", "info"),
            (
                "DB_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db",
            ),
        ])
        .run(&[&ECS003]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(
            f.message,
            "service `web` passes secrets to container `c0` as plain environment: `DB_PASSWORD` (its name says it holds a secret), `UPLOAD` (its value is an AWS access key id), `GH` (its value is an API token)"
        );
        let all = serde_json::to_string(&out.findings).unwrap();
        for v in VALUES {
            assert!(!all.contains(v), "{v} leaked");
        }
        assert!(!all.contains("LOG_LEVEL") && !all.contains("DB_SECRET_ARN"));
    }

    #[test]
    fn recorded_markers_report_the_same_finding() {
        let live = env(&[("DB_PASSWORD", VALUES[0]), ("UPLOAD", VALUES[1])]).run(&[&ECS003]);
        let replayed = env(&[
            ("DB_PASSWORD", "***REDACTED:name***"),
            ("UPLOAD", "***REDACTED:aws-access-key-id***"),
        ])
        .run(&[&ECS003]);
        assert_eq!(live.findings, replayed.findings);
    }

    #[test]
    fn clean_environment_is_silent() {
        let out = env(&[
            ("PORT", "8080"),
            ("TOKEN_TTL", "3600"),
            ("DB_PASSWORD", ""),
            ("GIT_SHA", "3f786850e387550fdab836ed7e6dc881de23001b"),
        ])
        .run(&[&ECS003]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn jwt_and_command_line_secrets_are_named() {
        let mut b = env(&[(
            "SESSION",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
        )]);
        let args: Vec<String> = ["app", "--db-password=hunter2-prod", "--port", "80"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        b.inv.task_definitions[0].containers[0].command_secrets = classify_args(&args);
        let out = b.run(&[&ECS003]);
        assert_eq!(out.findings.len(), 1, "one finding per container");
        assert_eq!(
            out.findings[0].message,
            "service `web` passes secrets to container `c0` as plain environment: `SESSION` (its value is a bearer token (JWT or PASETO)) and on its command line: `command` argument 2 `--db-password` (its name says it holds a secret)"
        );
        let all = serde_json::to_string(&out.findings).unwrap();
        assert!(!all.contains("hunter2") && !all.contains("eyJ"));
    }

    #[test]
    fn a_task_set_s_secret_is_found() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.task_def("web-next", Some("awsvpc"), &["nginx"])
            .containers[0]
            .environment = vec![EnvVar::judge("DB_PASSWORD", "hunter2-prod")];
        b.service("web", "web", &[]);
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &[]);
        b.task_set("web", "ecs-svc/2", "ACTIVE", "web-next", &[]);
        let out = b.run(&[&ECS003]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .starts_with("task set `ecs-svc/2` (ACTIVE, 100%) of service `web` passes a secret"));
    }

    #[test]
    fn a_secret_in_a_scheduled_task_s_input_overrides_is_found() {
        let mut b = Builder::new();
        b.task_def("export", Some("awsvpc"), &["export:1"])
            .containers[0]
            .environment = vec![EnvVar::judge("DB_PASSWORD", "")];
        b.scheduled("nightly-export", "export", &["subnet-1"])
            .overrides = vec![crate::model::ContainerOverride {
            name: "c0".into(),
            environment: vec![EnvVar::judge("DB_PASSWORD", "hunter2-from-input")],
            command_secrets: vec![],
        }];
        let out = b.run(&[&ECS003]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert!(f.message.starts_with(
            "scheduled task `nightly-export` (EventBridge Scheduler) passes a secret to container `c0`"
        ));
        assert!(f
            .remediation
            .ends_with("Remove `DB_PASSWORD` from the containerOverrides in the input of scheduled task `nightly-export` (EventBridge Scheduler)."));
        assert!(!serde_json::to_string(&out.findings)
            .unwrap()
            .contains("hunter2"));
    }
}
