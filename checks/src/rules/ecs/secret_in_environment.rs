//! ECS003: secrets passed to containers as plain environment variables.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::running_task_definitions;
use crate::secrets::classify_env;

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services with plain `environment` entries that hold a
    /// secret: a value in a known credential format (an AWS access key id, a private key,
    /// a GitHub/GitLab/Slack/Stripe/npm token), a long random token, or a name that says
    /// it is one (`DB_PASSWORD`, `API_TOKEN`) with a value that is not a reference or a
    /// setting (`SECRET_ARN=arn:…` and `TOKEN_TTL=3600` are not reported). The finding
    /// names the variables and why; it never contains a value, and recordings made with
    /// `--record` store a marker in its place.
    ///
    /// ## Why it matters
    ///
    /// Task definition environment values are stored and returned in clear text: anyone
    /// with `ecs:DescribeTaskDefinition` (read-only roles, CI systems, third-party
    /// auditors) reads them, every revision keeps them forever (revisions cannot be
    /// edited, only deregistered), and they show up in the console. Rotating such a secret
    /// means a new revision and a redeploy.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,env:environment[].name}'
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
        summary: "ECS container receives a secret as a plain environment variable",
        needs: ["ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (svc, td) in running_task_definitions(ctx) {
        for c in &td.containers {
            let found: Vec<(&str, &str)> = c
                .environment
                .iter()
                .filter_map(|kv| {
                    Some((
                        kv.name.as_str(),
                        classify_env(&kv.name, &kv.value)?.reason(),
                    ))
                })
                .collect();
            if found.is_empty() {
                continue;
            }
            let names: Vec<&str> = found.iter().map(|(name, _)| *name).collect();
            let reasons: Vec<String> = found
                .iter()
                .map(|(name, why)| format!("`{name}` ({why})"))
                .collect();
            out.report(
                &svc.scope,
                Report {
                    severity: Severity::High,
                    resource: svc.arn.clone(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "service `{}` passes {} to container `{}` as plain environment: {}",
                        svc.name,
                        if found.len() == 1 { "a secret" } else { "secrets" },
                        c.name,
                        reasons.join(", ")
                    ),
                    remediation: format!(
                        "Move {} of container `{}` into Secrets Manager or SSM Parameter Store, reference them from `secrets` in a new revision of `{}`, deploy it, rotate the exposed values and deregister the old revisions.",
                        names.join(", "),
                        c.name,
                        td.family
                    ),
                    evidence: vec![
                        Evidence::new(&svc.arn, format!("runs task definition `{}`", td.label())),
                        Evidence::new(
                            &td.arn,
                            format!(
                                "container `{}` environment holds {} (values not shown)",
                                c.name,
                                names.join(", ")
                            ),
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
    use crate::model::KeyValue;
    use crate::testkit::Builder;

    const VALUES: [&str; 3] = [
        "hunter2-prod",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ];

    fn env(pairs: &[(&str, &str)]) -> Builder {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["nginx"]);
        td.containers[0].environment = pairs
            .iter()
            .map(|(n, v)| KeyValue {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect();
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
}
