//! ECR008: a workload's execution role may not pull from the other account's ECR
//! repository its image is in.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EcrPull, PulledImage};
use crate::model::{IamRole, Scope, GLOBAL_REGION};
use crate::policy::{cross_account_access, CrossAccount, Policy, RolePermissions, RoleRequest};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{pullers_phrase, unlisted_registry_reason};

/// What pulling an image takes: its manifest, then its layers.
const PULL_ACTIONS: [&str; 2] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, their task sets, scheduled and standalone tasks)
    /// whose image is in a private ECR repository of another AWS account, where the
    /// task's execution role may not pull it. Across accounts both sides must allow the
    /// pull (`ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer`): the repository policy
    /// must name the role, its account, or everyone (with conditions the request meets),
    /// and the role's own IAM policies must allow the actions on the repository.
    ///
    /// The repository's account must be audited in the same run (a fleet run), since its
    /// policy is only readable there; otherwise the pull is *not evaluated*, with the
    /// reason. A policy statement whose conditions depend on what is not known here (an
    /// organization id, tags) leaves it undecided, not passed. One finding per repository,
    /// execution role and account.
    ///
    /// ## Why it matters
    ///
    /// Nothing checks the grant when the task definition is registered or the service
    /// created: the first task to start fails with `CannotPullContainerError ... is not
    /// authorized to perform: ecr:BatchGetImage`, and the service retries forever. The
    /// usual causes are a repository policy written for one account before a second one
    /// started pulling, or an execution role whose policy lists only its own account's
    /// repositories.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr get-repository-policy --registry-id REPOSITORY_ACCOUNT --repository-name REPOSITORY
    /// aws iam simulate-principal-policy --policy-source-arn EXECUTION_ROLE_ARN \
    ///   --action-names ecr:BatchGetImage ecr:GetDownloadUrlForLayer --resource-arns REPOSITORY_ARN
    /// ```
    ///
    /// ## How to fix
    ///
    /// In the repository's account, allow the pulling account (or the role) to pull:
    ///
    /// ```sh
    /// aws ecr set-repository-policy --repository-name REPOSITORY --policy-text file://policy.json
    /// ```
    ///
    /// with a statement allowing `ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer` and
    /// `ecr:BatchCheckLayerAvailability` to `arn:aws:iam::PULLING_ACCOUNT:root`; and give
    /// the execution role the same actions on the repository's ARN.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
    /// - https://repost.aws/knowledge-center/secondary-account-access-ecr
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    pub static ECR008 = {
        code: "ECR008",
        name: "cross-account-pull-denied",
        severity: Severity::High,
        summary: "Execution role may not pull its image from another account's ECR repository",
        needs: ["iam:GetAccountAuthorizationDetails"],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // Cross-account pulls by (workloads' scope, repository, execution role).
    type Key<'a> = (&'a Scope, &'a str, &'a str);
    let mut groups: BTreeMap<Key<'_>, Vec<&EcrPull<'_>>> = BTreeMap::new();
    for (repository_arn, pulls) in ctx.graph.all_ecr_pulls() {
        for p in pulls {
            let Some(image) = p.ecr_image() else {
                continue;
            };
            if image.account == p.workload.scope().account {
                continue;
            }
            let role = p.task_definition.execution_role_arn.as_deref().unwrap_or("");
            groups
                .entry((p.workload.scope(), repository_arn, role))
                .or_default()
                .push(p);
        }
    }
    for ((scope, repository_arn, role_arn), pulls) in groups {
        let pullers = pullers_phrase(&pulls);
        let unknown = |out: &mut Emitter<'_>, why: String| {
            out.unknown(
                scope,
                Some(repository_arn),
                format!("whether {pullers} may pull from ECR repository {repository_arn} was not evaluated: {why}"),
            );
        };
        let repo = match ctx.graph.pulled_image(pulls[0]) {
            PulledImage::NotListed => {
                unknown(out, unlisted_registry_reason(ctx, repository_arn));
                continue;
            }
            // ECR005 reports a repository that does not exist, or says what it cannot tell.
            PulledImage::NoRepository | PulledImage::PullThrough(_) | PulledImage::RulesUnknown => {
                continue
            }
            PulledImage::ImagesUnknown(r) | PulledImage::Missing(r) | PulledImage::Found(r, _) => r,
        };
        if role_arn.is_empty() {
            unknown(
                out,
                "the task definition names no execution role, so the container instance's role pulls, which awsaudit does not map".into(),
            );
            continue;
        }
        let Some(role) = ctx.graph.execution_role(pulls[0].task_definition) else {
            // ECS009 reports an execution role that does not exist; IAM gaps the engine.
            continue;
        };
        if !ctx.inventory.coverage.complete(
            &repo.scope.account,
            &repo.scope.region,
            &["ecr:GetRepositoryPolicy"],
            Some(&repo.arn),
        ) {
            unknown(out, format!("the policy of repository `{}` could not be read", repo.name));
            continue;
        }
        if !ctx.inventory.coverage.complete(
            &role.scope.account,
            GLOBAL_REGION,
            &["iam:GetAccountAuthorizationDetails"],
            None,
        ) {
            continue;
        }
        let policy = match repo.policy.as_deref().map(Policy::parse).transpose() {
            Ok(p) => p,
            Err(e) => {
                unknown(out, format!("the policy of repository `{}` could not be parsed: {e}", repo.name));
                continue;
            }
        };
        let perms = RolePermissions::of(ctx.inventory, role);
        let verdicts = PULL_ACTIONS.map(|action| {
            let request = RoleRequest::direct(action, &repo.scope.region, &repo.arn, &role.arn);
            (action, cross_account_access(policy.as_ref(), &request, &perms))
        });
        let refused = verdicts
            .iter()
            .find(|(_, v)| matches!(v, CrossAccount::ResourcePolicyRefuses(_) | CrossAccount::IamRefuses(_)));
        let Some((action, verdict)) = refused else {
            if let Some((_, CrossAccount::Unknown(why))) =
                verdicts.iter().find(|(_, v)| matches!(v, CrossAccount::Unknown(_)))
            {
                unknown(out, why.clone());
            }
            continue;
        };
        let (why, fact, fix) = match verdict {
            CrossAccount::ResourcePolicyRefuses(why) => (
                why.clone(),
                Evidence::new(
                    &repo.arn,
                    match &repo.policy {
                        None => format!("repository `{}` of account {} has no repository policy", repo.name, repo.scope.account),
                        Some(_) => format!("repository `{}`: {why}", repo.name),
                    },
                ),
                format!(
                    "In account {}, add a repository policy statement allowing ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability to `arn:aws:iam::{}:root` (or to `{}`): `aws ecr set-repository-policy --registry-id {} --repository-name {} --policy-text file://policy.json`.",
                    repo.scope.account, role.scope.account, role.arn, repo.scope.account, repo.name
                ),
            ),
            CrossAccount::IamRefuses(sources) => (
                format!("its own IAM policies do not allow {action} on the repository"),
                iam_fact(role, sources, action, &repo.arn),
                format!(
                    "Allow role `{}` ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability on `{}` (and ecr:GetAuthorizationToken on `*`).",
                    role.name, repo.arn
                ),
            ),
            _ => continue,
        };
        let mut evidence = vec![fact];
        evidence.extend(pulls.iter().map(|p| {
            Evidence::new(
                p.workload.arn(),
                format!(
                    "{} pulls `{}` in container `{}` with execution role {} (task definition {})",
                    p.workload.describe(),
                    p.image,
                    p.container,
                    role.arn,
                    p.task_definition.arn
                ),
            )
        }));
        out.report(
            scope,
            Report {
                severity: Severity::High,
                resource: repo.arn.clone(),
                discriminator: role.arn.clone(),
                message: format!(
                    "execution role `{}` of account {} may not pull from ECR repository `{}` of account {} ({why}): every task {pullers} starts fails with CannotPullContainerError",
                    role.name, role.scope.account, repo.name, repo.scope.account
                ),
                remediation: fix,
                evidence,
            },
        );
    }
}

fn iam_fact(role: &IamRole, sources: &[String], action: &str, repo_arn: &str) -> Evidence {
    Evidence::new(
        &role.arn,
        format!(
            "policies of role `{}`: {}; none allows {action} on {repo_arn}",
            role.name,
            if sources.is_empty() {
                "none".to_string()
            } else {
                sources.join(", ")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    const PULLER: &str = "444455556666";
    const PULL_ACTIONS_JSON: &str =
        r#"["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]"#;

    /// What AmazonECSTaskExecutionRolePolicy grants.
    const EXECUTION_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#;

    /// A repository `shared` in the builder's account, pulled by service `web` of account
    /// PULLER whose execution role has the AWS managed execution policy.
    fn fleet(policy: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.ecr_image("shared", "sha256:01", &["1"], "2026-11-01T00:00:00Z");
        b.ecr_repository_mut("shared").policy = policy.map(str::to_string);
        let image = b.ecr_image_uri("shared", "1");
        b.in_scope(PULLER, "us-east-1");
        b.role("web-exec", &[EXECUTION_POLICY]);
        b.task_def("web", Some("awsvpc"), &[&image]).execution_role_arn =
            Some(format!("arn:aws:iam::{PULLER}:role/web-exec"));
        b.service("web", "web", &["subnet-1"]);
        b
    }

    fn grant(principal: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Pull","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":{PULL_ACTIONS_JSON}}}]}}"#
        )
    }

    #[test]
    fn a_repository_without_a_grant_for_the_pulling_account_is_a_finding() {
        for policy in [None, Some(grant("arn:aws:iam::777788889999:root"))] {
            let out = fleet(policy.as_deref()).run(&[&ECR008]);
            assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
            assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
            let f = &out.findings[0];
            assert_eq!(f.account, PULLER);
            assert!(
                f.message.starts_with(&format!(
                    "execution role `web-exec` of account {PULLER} may not pull from ECR repository `shared` of account 111122223333"
                )),
                "{}",
                f.message
            );
            assert!(f.remediation.contains(&format!("arn:aws:iam::{PULLER}:root")));
        }
    }

    #[test]
    fn a_grant_to_the_account_or_the_role_with_iam_allowing_is_quiet() {
        for principal in [
            format!("arn:aws:iam::{PULLER}:root"),
            PULLER.to_string(),
            format!("arn:aws:iam::{PULLER}:role/web-exec"),
        ] {
            let out = fleet(Some(&grant(&principal))).run(&[&ECR008]);
            assert!(out.findings.is_empty(), "{principal}: {:?}", out.findings);
            assert!(out.unknowns.is_empty(), "{principal}: {:?}", out.unknowns);
        }
    }

    #[test]
    fn the_role_s_own_policies_must_allow_it_too() {
        let mut b = fleet(Some(&grant(&format!("arn:aws:iam::{PULLER}:root"))));
        b.inv
            .iam_roles
            .iter_mut()
            .find(|r| r.name == "web-exec")
            .unwrap()
            .inline_policies
            .clear();
        let out = b.run(&[&ECR008]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0]
            .message
            .contains("its own IAM policies do not allow ecr:BatchGetImage"));
    }

    #[test]
    fn an_organization_condition_or_an_unaudited_account_is_unknown() {
        let org = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}"#;
        let out = fleet(Some(org)).run(&[&ECR008]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);

        let mut b = Builder::new();
        b.task_def(
            "web",
            Some("awsvpc"),
            &["999988887777.dkr.ecr.us-east-1.amazonaws.com/shared:1"],
        );
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR008]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns[0].reason.contains("which this run did not audit"));
    }

    #[test]
    fn same_account_pulls_are_not_judged() {
        let mut b = Builder::new();
        b.ecr_image("web", "sha256:01", &["1"], "2026-11-01T00:00:00Z");
        let image = b.ecr_image_uri("web", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR008]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty());
    }
}
