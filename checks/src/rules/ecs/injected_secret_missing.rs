//! ECS024: a running workload injects a secret or parameter that does not exist.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{Resolved, SecretUse};
use crate::model::{Scope, SecretSource};
use crate::registry::{Ctx, Emitter, Missing, Report};
use crate::rules::common::{secret_injectors, workloads_phrase};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) whose task definition
    /// injects something that cannot be resolved now:
    ///
    /// - a Secrets Manager secret (`secrets[].valueFrom`, a log driver's
    ///   `secretOptions[].valueFrom`, `repositoryCredentials.credentialsParameter`) that
    ///   does not exist, or is scheduled for deletion;
    /// - a secret reference that pins a version stage or version id
    ///   (`arn:…:secret:NAME:json-key:STAGE:VERSION`) no version of the secret carries;
    /// - an SSM parameter, by name or ARN, that does not exist;
    /// - a reference that is neither a Secrets Manager nor an SSM ARN.
    ///
    /// Only metadata is read (`DescribeSecret`, `DescribeParameters`), never a value, so a
    /// JSON key inside a secret is not verified. A secret or parameter in an account or
    /// region the run did not audit is *not evaluated*, with the reason. One finding per
    /// missing secret or parameter, naming every workload that injects it.
    ///
    /// ## Why it matters
    ///
    /// ECS resolves every secret before any container starts. One that is gone stops the
    /// task with `ResourceInitializationError: unable to pull secrets or registry auth`.
    /// Tasks already running keep their values, so nothing looks wrong until the next
    /// deployment, scale-out, scheduled run or replacement of a failed task — and then
    /// none of them start. A secret scheduled for deletion fails the same way from the
    /// moment it is scheduled, not when it is finally deleted.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{secrets:secrets,log:logConfiguration.secretOptions,registry:repositoryCredentials}'
    /// aws secretsmanager describe-secret --secret-id SECRET_ARN \
    ///   --query '{deleted:DeletedDate,versions:VersionIdsToStages}'
    /// aws ssm describe-parameters --parameter-filters Key=Name,Option=Equals,Values=PARAMETER_NAME
    /// ```
    ///
    /// ## How to fix
    ///
    /// Restore a secret scheduled for deletion
    /// (`aws secretsmanager restore-secret --secret-id SECRET_ARN`), recreate the missing
    /// secret or parameter, or register a task definition revision that names one that
    /// exists and deploy it. Pin version stages only to labels that stay attached.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_delete-restore-secret.html
    pub static ECS024 = {
        code: "ECS024",
        name: "injected-secret-missing",
        severity: Severity::High,
        summary: "Workload injects a Secrets Manager secret or SSM parameter that does not exist",
        needs: ["secretsmanager:DescribeSecret", "ssm:DescribeParameters"],
        ecs_workloads: true,
        run: run,
    };
}

/// One problem, and every reference that has it.
struct Problem<'u, 'a> {
    scope: Scope,
    resource: String,
    discriminator: String,
    /// What is wrong with it, after "secret `X` ".
    what: String,
    fact: Evidence,
    fix: &'static str,
    uses: Vec<&'u SecretUse<'a>>,
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let mut problems: Vec<Problem<'_, '_>> = Vec::new();
    for u in ctx.graph.secret_uses() {
        let Some(p) = problem(ctx, out, u) else {
            continue;
        };
        match problems.iter_mut().find(|q| {
            q.scope == p.scope && q.resource == p.resource && q.discriminator == p.discriminator
        }) {
            Some(q) => q.uses.push(u),
            None => problems.push(Problem { uses: vec![u], ..p }),
        }
    }
    for p in problems {
        let mut evidence = vec![p.fact];
        let who = secret_injectors(&p.uses, &mut evidence);
        let name = p.uses[0].value_from;
        out.report(
            &p.scope,
            Report {
                severity: Severity::High,
                resource: p.resource,
                discriminator: p.discriminator,
                message: format!(
                    "`{name}` {}: every task {} starts fails with ResourceInitializationError",
                    p.what,
                    workloads_phrase(&who)
                ),
                remediation: format!("{}.", p.fix),
                evidence,
            },
        );
    }
}

/// What is wrong with one reference, if anything; unknowns are reported here.
fn problem<'u, 'a>(
    ctx: &Ctx<'_>,
    out: &mut Emitter<'_>,
    u: &'u SecretUse<'a>,
) -> Option<Problem<'u, 'a>> {
    let problem = |scope: &Scope, resource: String, discriminator: &str, what: String, fact: Evidence, fix| {
        Some(Problem {
            scope: scope.clone(),
            resource,
            discriminator: discriminator.to_string(),
            what,
            fact,
            fix,
            uses: Vec::new(),
        })
    };
    let (kind, op, id) = match &u.source {
        SecretSource::SecretsManager { secret_id, .. } => {
            ("secret", "secretsmanager:DescribeSecret", secret_id.clone())
        }
        SecretSource::Parameter { scope, name } => (
            "parameter",
            "ssm:DescribeParameters",
            format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                scope.partition(),
                scope.region,
                scope.account,
                name.trim_start_matches('/')
            ),
        ),
        SecretSource::PublicParameter => return None,
        SecretSource::Unrecognised => {
            return problem(
                u.workload.scope(),
                u.task_definition.arn.clone(),
                u.value_from,
                "is neither a Secrets Manager secret ARN nor an SSM parameter name or ARN".into(),
                Evidence::new(&u.task_definition.arn, "ECS accepts `arn:…:secretsmanager:…:secret:…`, `arn:…:ssm:…:parameter/…` or a parameter name of the task's region"),
                "Register a task definition revision whose reference names an existing secret or parameter, and deploy it",
            );
        }
    };
    match ctx.graph.resolve_secret(&u.source) {
        Resolved::OutsideRun(scope) => {
            out.unknown(
                u.workload.scope(),
                Some(u.workload.resource()),
                format!(
                    "whether {kind} `{}` exists was not evaluated: account {} region {} was not audited in this run",
                    u.value_from, scope.account, scope.region
                ),
            );
            None
        }
        Resolved::NotCollected(scope) => {
            if ctx.why_missing(scope, op, &id) != Missing::ReportedByEngine {
                out.unknown(
                    u.workload.scope(),
                    Some(u.workload.resource()),
                    format!(
                        "{kind} `{}` was not described ({op} has no answer for it), so whether it exists is not known",
                        u.value_from
                    ),
                );
            }
            None
        }
        Resolved::Missing(scope) => problem(
            scope,
            id.clone(),
            "",
            format!("names a {kind} that does not exist"),
            Evidence::new(&id, format!("{op} found no {kind} `{id}` in account {} region {}", scope.account, scope.region)),
            if kind == "secret" {
                "Recreate the secret, or register a task definition revision that names an existing one and deploy it"
            } else {
                "Create the parameter (`aws ssm put-parameter`), or register a task definition revision that names an existing one and deploy it"
            },
        ),
        Resolved::Secret(scope, d) => {
            if let Some(date) = &d.deleted_date {
                return problem(
                    scope,
                    d.arn.clone(),
                    "",
                    format!("names secret `{}`, which is scheduled for deletion", d.name),
                    Evidence::new(&d.arn, format!("DeletedDate {date}: the secret cannot be read while deletion is pending")),
                    "Restore the secret (`aws secretsmanager restore-secret`) or register a task definition revision that names another and deploy it",
                );
            }
            let SecretSource::SecretsManager { version_stage, version_id, .. } = &u.source else {
                return None;
            };
            if d.has_version(version_stage.as_deref(), version_id.as_deref()) {
                return None;
            }
            let pinned = [
                version_stage.as_deref().map(|s| format!("stage `{s}`")),
                version_id.as_deref().map(|v| format!("version id `{v}`")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
            let stages: Vec<String> = d
                .version_stages
                .iter()
                .map(|(v, s)| format!("{v} [{}]", s.join(", ")))
                .collect();
            problem(
                scope,
                d.arn.clone(),
                &pinned,
                format!("pins {pinned}, which no version of secret `{}` has", d.name),
                Evidence::new(&d.arn, format!("versions: {}", if stages.is_empty() { "none".into() } else { stages.join("; ") })),
                "Point the reference at a stage that exists (or drop the pin to use AWSCURRENT) in a new task definition revision, and deploy it",
            )
        }
        Resolved::Parameter(..) | Resolved::PublicParameter | Resolved::Unrecognised => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;
    use crate::testkit::{Builder, ACCOUNT, SECRET_SUFFIX};

    /// Service `web` (and optionally a scheduled task) injecting `value_from` as `DB`.
    fn injecting(value_from: &str, scheduled: bool) -> Builder {
        let mut b = Builder::new();
        b.answered("ecs:DescribeServices");
        let td = b.task_def("web", Some("awsvpc"), &["nginx:1.27"]);
        td.containers[0].secrets = vec![KeyValue {
            name: "DB".into(),
            value: value_from.into(),
        }];
        b.service("web", "web", &["subnet-1"]);
        if scheduled {
            b.scheduled("nightly", "web", &["subnet-1"]);
        }
        b
    }

    #[test]
    fn a_deleted_secret_is_one_finding_for_every_workload_and_an_existing_one_is_clean() {
        let arn = Builder::new().secret_arn("db");
        let mut b = injecting(&format!("{arn}:password::"), true);
        b.missing_secret(&arn);
        let out = b.run(&[&ECS024]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.resource, arn);
        assert_eq!(
            f.message,
            format!("`{arn}:password::` names a secret that does not exist: every task service `web` and scheduled task `nightly` (EventBridge Scheduler) starts fails with ResourceInitializationError")
        );

        // The clean twin: the secret exists with an AWSCURRENT version.
        let mut b = injecting(&format!("{arn}:password::"), true);
        b.secret("db");
        let out = b.run(&[&ECS024]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty(), "{out:?}");
    }

    #[test]
    fn scheduled_for_deletion_and_a_pinned_stage_nobody_has() {
        let arn = Builder::new().secret_arn("db");
        let mut b = injecting(&arn, false);
        b.secret("db").deleted_date = Some("2026-12-01T00:00:00Z".into());
        let out = b.run(&[&ECS024]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("scheduled for deletion"));

        let mut b = injecting(&format!("{arn}::AWSPREVIOUS:"), false);
        b.secret("db");
        let out = b.run(&[&ECS024]);
        assert_eq!(out.findings.len(), 1);
        assert!(
            out.findings[0].message.contains("pins stage `AWSPREVIOUS`, which no version of secret `db` has"),
            "{}",
            out.findings[0].message
        );
        let mut b = injecting(&format!("{arn}::AWSPREVIOUS:"), false);
        b.secret("db")
            .version_stages
            .insert("v0".into(), vec!["AWSPREVIOUS".into()]);
        assert!(b.run(&[&ECS024]).findings.is_empty());
    }

    #[test]
    fn parameters_by_name_and_arn() {
        let mut b = injecting("api-token", false);
        b.missing_parameter("api-token");
        let out = b.run(&[&ECS024]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.unknowns);
        assert_eq!(
            out.findings[0].resource,
            format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/api-token")
        );
        // By ARN, a top-level parameter may have been created with or without its `/`.
        let arn = format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/token");
        let mut b = injecting(&arn, false);
        b.missing_parameter("token");
        b.parameter("/token", "SecureString");
        let out = b.run(&[&ECS024]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty(), "{out:?}");
        // Public parameters exist everywhere.
        let b = injecting("/aws/service/ecs/optimized-ami/amazon-linux-2/recommended", false);
        assert!(b.run(&[&ECS024]).findings.is_empty());
    }

    #[test]
    fn outside_the_run_or_not_described_is_unknown_never_a_pass() {
        let other = format!("arn:aws:secretsmanager:eu-west-1:444455556666:secret:db-{SECRET_SUFFIX}");
        let out = injecting(&other, false).run(&[&ECS024]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(out.unknowns[0].reason.contains("account 444455556666 region eu-west-1 was not audited"));

        // In the run, but DescribeSecret failed for this secret: the engine names the gap.
        let arn = Builder::new().secret_arn("db");
        let mut b = injecting(&arn, false);
        b.gap("secretsmanager:DescribeSecret", Some(&arn));
        let out = b.run(&[&ECS024]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0].reason.starts_with("secretsmanager:DescribeSecret access denied"));
    }

    #[test]
    fn log_options_registry_credentials_and_malformed_references_count() {
        let arn = Builder::new().secret_arn("registry");
        let mut b = injecting("api-token", false);
        b.parameter("api-token", "SecureString");
        let td = &mut b.inv.task_definitions[0];
        td.containers[0].repository_credentials = Some(arn.clone());
        td.containers[0].log_secret_options = vec![KeyValue {
            name: "apikey".into(),
            value: "arn:aws:s3:::bucket/key".into(),
        }];
        b.missing_secret(&arn);
        let out = b.run(&[&ECS024]);
        assert_eq!(out.findings.len(), 2, "{:?}", out.findings);
        assert!(out.findings.iter().any(|f| f.resource == arn));
        assert!(out.findings.iter().any(|f| f
            .message
            .contains("is neither a Secrets Manager secret ARN nor an SSM parameter")));
    }
}
