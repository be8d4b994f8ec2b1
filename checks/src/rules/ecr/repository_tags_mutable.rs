//! ECR002: private repositories that let a pushed tag be moved to another image.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{ecr_registry_arn, EcrRepository};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{
    ecr_count, ecr_pullers, ecr_registries, ecr_repository_evidence, ecr_repository_list,
};

declare_check! {
    /// ## What it finds
    ///
    /// Private ECR repositories whose image tags are mutable (Security Hub FSBP ECR.2):
    /// `imageTagMutability` `MUTABLE` (AWS's default), `MUTABLE_WITH_EXCLUSION` (only the
    /// tags its filters name are fixed), or `IMMUTABLE_WITH_EXCLUSION` whose exclusion
    /// filters match every tag (`*`). `IMMUTABLE`, and `IMMUTABLE_WITH_EXCLUSION` that
    /// exempts named tags (a `latest` or `dev-*` kept moving on purpose), pass: that is
    /// AWS's way to exempt the tags that must move, without exempting the repository.
    ///
    /// One finding per registry (account and region), naming the mutable repositories, those
    /// running ECS workloads pull from first with the workloads named; every one is in the
    /// evidence. The change is the same for each (one `put-image-tag-mutability`, in a loop,
    /// plus a repository creation template for repositories ECR creates), and a finding per
    /// repository would be hundreds of tickets for it. Medium when a running workload pulls
    /// from one of them, low otherwise. Every repository of the region is judged.
    ///
    /// ## Why it matters
    ///
    /// A mutable tag can be pushed again: `web:1.4.2` then names another image than the one
    /// that was tested, scanned and deployed. The next task started from that task definition
    /// (a scale-out, a replaced task) runs the new image without a deployment, tasks of one
    /// service disagree, and rolling back to the previous task definition no longer brings
    /// the previous image back. Whoever can push, a compromised CI job included, changes
    /// production without touching it.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr describe-repositories --region REGION \
    ///   --query 'repositories[].{name:repositoryName,tags:imageTagMutability,exclusions:imageTagMutabilityExclusionFilters}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Make each repository's tags immutable (images already pushed keep their tags; a push
    /// that reuses a tag is refused from then on, so release with new tags):
    ///
    /// ```sh
    /// aws ecr put-image-tag-mutability --region REGION --repository-name REPO \
    ///   --image-tag-mutability IMMUTABLE
    /// ```
    ///
    /// Where a tag must keep moving, exempt only that tag:
    /// `--image-tag-mutability IMMUTABLE_WITH_EXCLUSION --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter=latest`.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImageTagMutability.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-2
    pub static ECR002 = {
        code: "ECR002",
        name: "repository-tags-mutable",
        severity: Severity::Medium,
        lower: [Severity::Low],
        summary: "ECR repositories whose image tags can be pushed again to another image",
        needs: ["ecr:DescribeRepositories"],
        fleet_wide: true,
        controls: [
            fsbp("ECR.2").partial(
                "ECR.2 passes IMMUTABLE only; ECR002 also passes IMMUTABLE_WITH_EXCLUSION \
                 unless an exclusion filter is `*`",
            ),
            config("ecr-private-tag-immutability-enabled"),
            prowler("ecr_repositories_tag_immutability"),
        ],
        run: run,
    };
}

/// The setting, as evidence.
fn setting(r: &EcrRepository) -> String {
    match r.tag_mutability_exclusions.as_slice() {
        [] => format!("imageTagMutability {}", r.tag_mutability()),
        filters => format!(
            "imageTagMutability {} with exclusion filters {}",
            r.tag_mutability(),
            filters
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (scope, repos) in ecr_registries(ctx) {
        let mutable: Vec<_> = repos
            .iter()
            .copied()
            .filter(|r| r.tags_are_mutable())
            .collect();
        if mutable.is_empty() {
            continue;
        }
        let pulled = mutable.iter().any(|r| !ecr_pullers(ctx, r).is_empty());
        let severity = if pulled {
            Severity::Medium
        } else {
            Severity::Low
        };
        let registry = ecr_registry_arn(scope);
        let mut evidence = vec![Evidence::new(
            &registry,
            format!(
                "{} of the registry's {} repositories have mutable tags",
                mutable.len(),
                repos.len()
            ),
        )];
        evidence.extend(
            mutable
                .iter()
                .map(|r| ecr_repository_evidence(ctx, r, &setting(r))),
        );
        out.report(
            scope,
            Report {
                severity,
                resource: registry,
                discriminator: String::new(),
                message: format!(
                    "{} a pushed tag be pushed again to another image: {}; a task started later can run an image nobody deployed under a tag that was tested",
                    ecr_count(mutable.len(), repos.len(), &scope.region, ("lets", "let")),
                    ecr_repository_list(ctx, &mutable)
                ),
                remediation: format!(
                    "Make the tags of these repositories immutable (`aws ecr put-image-tag-mutability --region {} --repository-name REPO --image-tag-mutability IMMUTABLE`, or IMMUTABLE_WITH_EXCLUSION for a tag that must move) and release under new tags.",
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
    fn mutable_repositories_are_one_finding_per_registry() {
        let mut b = Builder::new();
        b.ecr_repository("tools").image_tag_mutability = Some("MUTABLE".into());
        let web = b.ecr_repository("web");
        web.image_tag_mutability = Some("MUTABLE_WITH_EXCLUSION".into());
        web.tag_mutability_exclusions = vec!["release-*".into()];
        b.ecr_repository("api");
        b.with_web_service();
        let out = b.run(&[&ECR002]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(
            f.message,
            "2 of 3 ECR repositories in us-east-1 let a pushed tag be pushed again to another image: `web` (pulled by service `web`) and `tools`; a task started later can run an image nobody deployed under a tag that was tested"
        );
        assert!(f.evidence[1]
            .fact
            .contains("MUTABLE_WITH_EXCLUSION with exclusion filters `release-*`"));
    }

    #[test]
    fn immutable_and_narrow_exclusions_are_quiet_a_catch_all_exclusion_is_not() {
        let mut b = Builder::new();
        b.ecr_repository("api");
        let web = b.ecr_repository("web");
        web.image_tag_mutability = Some("IMMUTABLE_WITH_EXCLUSION".into());
        web.tag_mutability_exclusions = vec!["latest".into()];
        assert!(b.run(&[&ECR002]).findings.is_empty());
        b.inv.ecr_repositories[1].tag_mutability_exclusions = vec!["*".into()];
        let out = b.run(&[&ECR002]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Low);
    }

    #[test]
    fn a_failed_listing_is_unknown() {
        let mut b = Builder::new();
        b.gap("ecr:DescribeRepositories", None);
        let out = b.run(&[&ECR002]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.check == "ECR002"));
    }
}
