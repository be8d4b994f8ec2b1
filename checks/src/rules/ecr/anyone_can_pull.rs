//! ECR004: a repository policy that lets any AWS account pull the repository's images.

use std::collections::BTreeMap;

use crate::crosswalk::prowler;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::EcrRepository;
use crate::policy::{sid_label, ContextValue, Decision, Effect, Policy, Request, Requester};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::ecr_pullers;

/// The two calls a pull makes against the repository: the manifest, then each layer.
const PULL_ACTIONS: [&str; 2] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

declare_check! {
    /// ## What it finds
    ///
    /// Private ECR repositories whose repository policy lets an identity of any AWS account
    /// pull: an `Allow` with `"Principal": "*"` (or `{"AWS": "*"}`), or a `NotPrincipal`,
    /// of `ecr:BatchGetImage` or `ecr:GetDownloadUrlForLayer` (or a wildcard covering them,
    /// `ecr:*`, `ecr:Get*`), with no condition that narrows who. The policy is evaluated as
    /// IAM would for a caller in an unrelated account: a condition that holds for anyone
    /// (`aws:SecureTransport` true) does not narrow; one that names the owner's organization
    /// or accounts (`aws:PrincipalOrgID`, `aws:PrincipalAccount`) does; a condition on a key
    /// the policy alone cannot settle (a source IP, a tag) counts as narrowing and is not
    /// reported; an unconditional `Deny` for everyone wins. A policy that cannot be parsed is
    /// reported as not evaluated.
    ///
    /// One finding per repository: each policy is its own fix and its own owner. The message
    /// names the running ECS workloads that pull from the repository.
    ///
    /// ## Why it matters
    ///
    /// Any AWS account holder, an attacker included, can then pull every image: the
    /// application's code, the secrets and internal hostnames baked into layers, the
    /// dependencies worth attacking. `ecr:BatchGetImage` alone hands out the manifests (the
    /// layer digests and the image configuration); `ecr:GetDownloadUrlForLayer` the layers.
    /// The caller needs only `ecr:GetAuthorizationToken` in their own account, which they
    /// grant themselves.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr get-repository-policy --region REGION --repository-name REPO \
    ///   --query policyText --output text
    /// ```
    ///
    /// ## How to fix
    ///
    /// Name the accounts that pull (their root or specific roles), or keep `"*"` and narrow
    /// it to the organization:
    ///
    /// ```sh
    /// aws ecr set-repository-policy --region REGION --repository-name REPO \
    ///   --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"OrgPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-EXAMPLE"}}}]}'
    /// ```
    ///
    /// If nothing outside the account pulls, delete the policy
    /// (`aws ecr delete-repository-policy --repository-name REPO`). Images meant for everyone
    /// belong in ECR Public.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
    pub static ECR004 = {
        code: "ECR004",
        name: "anyone-can-pull",
        severity: Severity::High,
        summary: "ECR repository policy lets any AWS account pull its images",
        needs: ["ecr:DescribeRepositories", "ecr:GetRepositoryPolicy"],
        fleet_wide: true,
        controls: [prowler("ecr_repositories_not_publicly_accessible").partial(
            "Prowler fails a statement with Principal `*`; ECR004 evaluates its conditions, \
             so an organization or account condition narrows it",
        )],
        run: run,
    };
}

/// `action` on the repository, made by an identity of an unrelated account over HTTPS.
fn pull_request(repo: &EcrRepository, action: &str) -> Request {
    let context: BTreeMap<String, ContextValue> = [
        ("aws:principalaccount", ContextValue::Foreign { present: true }),
        // The caller's account may belong to an organization of its own, never the owner's.
        ("aws:principalorgid", ContextValue::Foreign { present: false }),
        (
            "aws:resourceaccount",
            ContextValue::Known(repo.registry_id.clone()),
        ),
        (
            "aws:requestedregion",
            ContextValue::Known(repo.scope.region.clone()),
        ),
        ("aws:securetransport", ContextValue::Known("true".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Request {
        requester: Requester::OtherAccount,
        action: action.to_string(),
        resources: vec![repo.arn.clone()],
        context,
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for repo in &ctx.inventory.ecr_repositories {
        let Some(text) = repo.policy.as_deref() else {
            continue;
        };
        let policy = match Policy::parse(text) {
            Ok(p) => p,
            Err(e) => {
                out.unknown(
                    &repo.scope,
                    Some(&repo.arn),
                    format!(
                        "the repository policy of `{}` could not be parsed: {e}",
                        repo.name
                    ),
                );
                continue;
            }
        };
        let open: Vec<&str> = PULL_ACTIONS
            .into_iter()
            .filter(|a| policy.evaluate(&pull_request(repo, a)) == Decision::Allowed)
            .collect();
        if open.is_empty() {
            continue;
        }
        let what = if open.len() == PULL_ACTIONS.len() {
            "pull its images"
        } else if open == ["ecr:BatchGetImage"] {
            "read its image manifests"
        } else {
            "download the layers of its images"
        };
        let mut evidence: Vec<Evidence> = policy
            .statements
            .iter()
            .filter(|s| {
                s.effect == Effect::Allow
                    && s.principal_is_anyone()
                    && open.iter().any(|a| s.covers_action(a))
            })
            .map(|s| {
                Evidence::new(
                    &repo.arn,
                    format!(
                        "repository policy statement{}: Allow {} to Principal *{}",
                        sid_label(s.sid.as_deref()),
                        open.join(", "),
                        if s.condition.is_empty() {
                            " with no Condition"
                        } else {
                            " with a Condition any account meets"
                        }
                    ),
                )
            })
            .collect();
        if evidence.is_empty() {
            evidence.push(Evidence::new(
                &repo.arn,
                format!(
                    "repository policy allows {} to any other account's identities (NotPrincipal)",
                    open.join(", ")
                ),
            ));
        }
        let pullers = ecr_pullers(ctx, repo);
        for p in ctx.graph.repository_pullers(&repo.arn) {
            evidence.push(Evidence::new(
                &p.workload_arn,
                format!(
                    "{} pulls `{}` (container `{}`)",
                    p.workload, p.image, p.container
                ),
            ));
        }
        let used = if pullers.is_empty() {
            String::new()
        } else {
            format!(", the images {pullers} run")
        };
        out.report(
            &repo.scope,
            Report {
                severity: Severity::High,
                resource: repo.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "ECR repository `{}` lets any AWS account {what}{used}: its policy allows {} to Principal * with no condition that narrows who",
                    repo.name,
                    open.join(" and ")
                ),
                remediation: format!(
                    "Replace the wildcard principal in the policy of repository `{}` with the accounts that pull, or add an aws:PrincipalOrgID condition (`aws ecr set-repository-policy --region {} --repository-name {} --policy-text file://policy.json`); delete the policy if nothing outside the account pulls.",
                    repo.name, repo.scope.region, repo.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    const OPEN: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}"#;
    const ORG_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OrgPull","Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#;
    const NAMED: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:*"}]}"#;
    const TLS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;

    #[test]
    fn a_wildcard_principal_that_can_pull_is_one_finding_per_repository() {
        let mut b = Builder::new();
        b.ecr_repository("public-web").policy = Some(OPEN.into());
        b.ecr_repository("manifests").policy = Some(TLS_ONLY.into());
        let image = b.ecr_image_uri("public-web", "2.0.0");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR004]);
        assert_eq!(out.findings.len(), 2, "{:?}", out.findings);
        let web = out
            .findings
            .iter()
            .find(|f| f.resource.ends_with("/public-web"))
            .unwrap();
        assert_eq!(web.severity, Severity::High);
        assert_eq!(
            web.message,
            "ECR repository `public-web` lets any AWS account pull its images, the images service `web` run: its policy allows ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to Principal * with no condition that narrows who"
        );
        assert!(web.evidence[0].fact.contains("`PublicPull`"));
        assert!(web.evidence[1].fact.starts_with("service `web` pulls"));
        let manifests = out
            .findings
            .iter()
            .find(|f| f.resource.ends_with("/manifests"))
            .unwrap();
        assert!(
            manifests.message.contains("read its image manifests"),
            "{}",
            manifests.message
        );
    }

    #[test]
    fn named_accounts_and_organization_conditions_are_quiet() {
        let mut b = Builder::new();
        b.ecr_repository("org").policy = Some(ORG_ONLY.into());
        b.ecr_repository("partner").policy = Some(NAMED.into());
        b.ecr_repository("private");
        assert!(b.run(&[&ECR004]).findings.is_empty());
    }

    #[test]
    fn unreadable_or_unparsable_policies_are_unknown() {
        let mut b = Builder::new();
        b.ecr_repository("broken").policy = Some(r#"{"Statement":[{"Effect":"Permit"}]}"#.into());
        b.ecr_repository("denied");
        let denied = b.ecr_repository_arn("denied");
        b.gap("ecr:GetRepositoryPolicy", Some(&denied));
        let out = b.run(&[&ECR004]);
        assert!(out.findings.is_empty());
        let unknown: Vec<_> = out
            .unknowns
            .iter()
            .filter_map(|u| u.resource.as_deref())
            .collect();
        assert_eq!(unknown.len(), 2, "{:?}", out.unknowns);
        assert!(unknown.contains(&denied.as_str()));
    }
}
