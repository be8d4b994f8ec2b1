//! ECR003: private repositories without a lifecycle policy.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::ecr_registry_arn;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{
    ecr_count, ecr_registries, ecr_repository_evidence, ecr_repository_list,
};

declare_check! {
    /// ## What it finds
    ///
    /// Private ECR repositories with no lifecycle policy (Security Hub FSBP ECR.3). A
    /// repository whose lifecycle policy could not be read is not judged: it is reported as
    /// not evaluated, never as "no policy".
    ///
    /// One finding per registry (account and region), naming the repositories without a
    /// policy, those running ECS workloads pull from first with the workloads named; every
    /// one is in the evidence. The same policy serves most of them (expire untagged images
    /// after some days, keep the last N tagged ones), applied in one loop, so one ticket
    /// rather than one per repository. Every repository of the region is judged.
    ///
    /// ## Why it matters
    ///
    /// Without a lifecycle policy every image ever pushed stays: storage is billed per
    /// GB-month and CI pipelines push on every commit, so cost grows without bound; old
    /// images with known vulnerabilities stay pullable and get deployed by mistake or by
    /// an attacker who knows their tags; and a repository reaching its image quota refuses
    /// the next push, a release included.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr get-lifecycle-policy --region REGION --repository-name REPO
    /// ```
    ///
    /// `LifecyclePolicyNotFoundException` is this finding.
    ///
    /// ## How to fix
    ///
    /// Put a policy that expires what nothing needs, for example untagged images after 14
    /// days (preview it first with `aws ecr start-lifecycle-policy-preview`):
    ///
    /// ```sh
    /// aws ecr put-lifecycle-policy --region REGION --repository-name REPO \
    ///   --lifecycle-policy-text '{"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}'
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-3
    pub static ECR003 = {
        code: "ECR003",
        name: "no-lifecycle-policy",
        severity: Severity::Low,
        summary: "ECR repositories without a lifecycle policy: images pile up",
        needs: ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy"],
        fleet_wide: true,
        controls: [
            fsbp("ECR.3"),
            config("ecr-private-lifecycle-policy-configured"),
            prowler("ecr_repositories_lifecycle_policy_enabled"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (scope, repos) in ecr_registries(ctx) {
        // "No policy" is a conclusion from absence: only where the repository's own call
        // succeeded (the engine reports the others as not evaluated).
        let without: Vec<_> = repos
            .iter()
            .copied()
            .filter(|r| {
                r.lifecycle_policy.is_none()
                    && ctx.complete(scope, &["ecr:GetLifecyclePolicy"], Some(&r.arn))
            })
            .collect();
        if without.is_empty() {
            continue;
        }
        let registry = ecr_registry_arn(scope);
        let mut evidence = vec![Evidence::new(
            &registry,
            format!(
                "{} of the registry's {} repositories have no lifecycle policy",
                without.len(),
                repos.len()
            ),
        )];
        evidence.extend(
            without
                .iter()
                .map(|r| ecr_repository_evidence(ctx, r, "no lifecycle policy")),
        );
        out.report(
            scope,
            Report {
                severity: Severity::Low,
                resource: registry,
                discriminator: String::new(),
                message: format!(
                    "{} no lifecycle policy: {}; every image pushed stays, billed and pullable, until the repository's image quota refuses the next push",
                    ecr_count(without.len(), repos.len(), &scope.region, ("has", "have")),
                    ecr_repository_list(ctx, &without)
                ),
                remediation: format!(
                    "Give each of these repositories a lifecycle policy that expires untagged and superseded images (`aws ecr put-lifecycle-policy --region {} --repository-name REPO --lifecycle-policy-text file://policy.json`).",
                    scope.region
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

    #[test]
    fn repositories_without_a_policy_are_one_finding_per_registry() {
        let mut b = Builder::new();
        b.ecr_repository("tools").lifecycle_policy = None;
        b.ecr_repository("web").lifecycle_policy = None;
        b.ecr_repository("api");
        let image = b.ecr_image_uri("web", "1.4.2");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.scheduled("nightly", "web", &["subnet-1"]);
        let out = b.run(&[&ECR003]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(
            out.findings[0].message,
            "2 of 3 ECR repositories in us-east-1 have no lifecycle policy: `web` (pulled by scheduled task `nightly` (EventBridge Scheduler)) and `tools`; every image pushed stays, billed and pullable, until the repository's image quota refuses the next push"
        );
    }

    #[test]
    fn repositories_with_a_policy_are_quiet() {
        let mut b = Builder::new();
        b.ecr_repository("web");
        assert!(b.run(&[&ECR003]).findings.is_empty());
    }

    #[test]
    fn a_policy_that_could_not_be_read_is_unknown_not_absent() {
        let mut b = Builder::new();
        b.ecr_repository("web").lifecycle_policy = None;
        let arn = b.ecr_repository_arn("web");
        b.gap("ecr:GetLifecyclePolicy", Some(&arn));
        let out = b.run(&[&ECR003]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert!(out
            .unknowns
            .iter()
            .any(|u| u.check == "ECR003" && u.resource.as_deref() == Some(arn.as_str())));
    }
}
