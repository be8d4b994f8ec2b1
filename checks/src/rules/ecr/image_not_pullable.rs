//! ECR005: a running workload names an ECR image that cannot be pulled.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::PulledImage;
use crate::registry::{Ctx, Emitter, Missing, Report};
use crate::rules::common::{image_pulls, unlisted_registry_reason, ImagePulls};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) whose task
    /// definition names a private ECR image that cannot be pulled now:
    ///
    /// - the repository does not exist (its account and region were listed and have no
    ///   repository by that name);
    /// - the repository has no image with that tag or digest (a reference without either
    ///   pulls `latest`);
    /// - the image is archived (or still being restored): ECR answers a pull of an
    ///   archived image with *not found* until it is restored.
    ///
    /// A repository under the prefix of a pull-through cache rule is created, and its
    /// images fetched from the upstream registry, on the first pull: a missing one there is
    /// *not evaluated* (the upstream registry is not read), never reported. Images in an
    /// account or region the run did not audit are *not evaluated* too, with the reason.
    /// One finding per image reference and account, naming every workload that pulls it.
    ///
    /// ## Why it matters
    ///
    /// Every task that pulls the image stops with `CannotPullContainerError` before any
    /// container starts. The tasks running now keep running, so nothing looks wrong until
    /// the next deployment, scale-out, scheduled run or replacement of a failed task, and
    /// then none of them can start. (ECS pins a service deployment to the digest the tag
    /// named when the deployment began, so a deleted *tag* breaks the next deployment; a
    /// deleted or archived *image* breaks every start.)
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr describe-repositories --registry-id ACCOUNT --repository-names REPOSITORY --region REGION
    /// aws ecr describe-images --registry-id ACCOUNT --repository-name REPOSITORY --region REGION \
    ///   --image-ids imageTag=TAG --filter imageStatus=ANY \
    ///   --query 'imageDetails[].{digest:imageDigest,tags:imageTags,status:imageStatus}'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN --query 'tasks[].stoppedReason'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Push the image the task definition names, or register a task definition revision
    /// that names an image that exists and update the service to it. Restore an archived
    /// image:
    ///
    /// ```sh
    /// aws ecr update-image-storage-class --repository-name REPOSITORY \
    ///   --image-id imageDigest=DIGEST --target-storage-class STANDARD
    /// ```
    ///
    /// Then keep lifecycle rules from removing images that workloads run (ECR006 warns
    /// before they do).
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability
    pub static ECR005 = {
        code: "ECR005",
        name: "image-not-pullable",
        severity: Severity::High,
        summary: "Workload names an ECR image that does not exist or is archived",
        needs: ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:DescribePullThroughCacheRules"],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for group in image_pulls(ctx) {
        let Some(first) = group.pulls.first() else {
            continue;
        };
        let why = match ctx.graph.pulled_image(first) {
            PulledImage::NotListed => {
                out.unknown(
                    group.scope,
                    Some(group.repository_arn),
                    format!(
                        "whether image `{}` exists was not evaluated: {}",
                        group.image,
                        unlisted_registry_reason(ctx, group.repository_arn)
                    ),
                );
                continue;
            }
            PulledImage::ImagesUnknown(repo) => {
                // A failure scoped to the repository is reported by the engine (needs).
                if ctx.why_missing(&repo.scope, "ecr:DescribeImages", &repo.arn)
                    != Missing::ReportedByEngine
                {
                    out.unknown(
                        group.scope,
                        Some(&repo.arn),
                        format!(
                            "the images of repository `{}` were not listed, so whether `{}` exists is not known",
                            repo.name, group.image
                        ),
                    );
                }
                continue;
            }
            PulledImage::PullThrough(rule) => {
                out.unknown(
                    group.scope,
                    Some(group.repository_arn),
                    format!(
                        "`{}` is served by the pull-through cache rule for `{}` from {}: ECR fetches it from there on a pull when it is not cached, and whether the upstream registry has it is not read",
                        group.image, rule.prefix, rule.upstream_registry_url
                    ),
                );
                continue;
            }
            PulledImage::RulesUnknown => {
                out.unknown(
                    group.scope,
                    Some(group.repository_arn),
                    format!(
                        "`{}` is not in the registry, and its pull-through cache rules could not be read, so whether ECR would fetch it from an upstream registry is not known",
                        group.image
                    ),
                );
                continue;
            }
            PulledImage::Found(_, image) if image.pullable() => continue,
            PulledImage::Found(repo, image) => (
                format!(
                    "is {} in ECR repository `{}`",
                    image.status.as_deref().unwrap_or("ARCHIVED").to_ascii_lowercase(),
                    repo.name
                ),
                Evidence::new(
                    &repo.arn,
                    format!(
                        "image {} ({}) has status {}{}",
                        image.digest,
                        image.tags_phrase(),
                        image.status.as_deref().unwrap_or("unknown"),
                        image
                            .archived_at
                            .as_deref()
                            .map_or(String::new(), |at| format!(" since {at}"))
                    ),
                ),
                "Restore it to the standard storage class (`aws ecr update-image-storage-class --target-storage-class STANDARD`) or point the task definition at an active image",
            ),
            PulledImage::Missing(repo) => (
                format!("does not exist in ECR repository `{}`", repo.name),
                Evidence::new(
                    &repo.arn,
                    format!(
                        "repository `{}` has {} image(s), none of them `{}`",
                        repo.name,
                        repo.images.as_ref().map_or(0, Vec::len),
                        group.image
                    ),
                )
                .lacking(format!("image {}", group.image)),
                "Push the image, or register a task definition revision that names an image that exists and deploy it",
            ),
            PulledImage::NoRepository => (
                "names an ECR repository that does not exist".to_string(),
                Evidence::new(
                    group.repository_arn,
                    "no repository by this name in its account and region",
                )
                .lacking("the repository"),
                "Create the repository and push the image, or register a task definition revision that names an existing repository and deploy it",
            ),
        };
        report(out, &group, why);
    }
}

fn report(out: &mut Emitter<'_>, group: &ImagePulls<'_>, why: (String, Evidence, &str)) {
    let (what, fact, fix) = why;
    let mut evidence = vec![fact];
    evidence.extend(group.evidence());
    out.report(
        group.scope,
        Report {
            severity: Severity::High,
            resource: group.repository_arn.to_string(),
            discriminator: group.image.clone(),
            message: format!(
                "image `{}` {what}: every task {} starts fails with CannotPullContainerError",
                group.image,
                group.pullers()
            ),
            remediation: format!("{fix}."),
            evidence,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    const PUSHED: &str = "2026-10-01T00:00:00Z";

    #[test]
    fn a_missing_tag_is_one_finding_for_every_workload_pulling_it() {
        let mut b = Builder::new();
        b.ecr_image("web", "sha256:01", &["1.4.1"], PUSHED);
        let image = b.ecr_image_uri("web", "1.4.2");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        b.scheduled("nightly", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.resource.ends_with(":repository/web"));
        assert!(
            f.message.starts_with("image `web:1.4.2` does not exist in ECR repository `web`: every task service `web` and scheduled task `nightly`"),
            "{}",
            f.message
        );
        assert!(f.message.ends_with("fails with CannotPullContainerError"));
        assert_eq!(
            f.evidence[0].fact,
            "repository `web` has 1 image(s), none of them `web:1.4.2`"
        );
        assert!(f.evidence.len() >= 3, "one fact per puller: {:?}", f.evidence);
    }

    #[test]
    fn existing_tags_and_digests_are_quiet() {
        let mut b = Builder::new();
        b.ecr_image("web", "sha256:01", &["1.4.2", "stable"], PUSHED);
        b.ecr_image("api", "sha256:02", &[], PUSHED);
        b.ecr_image("worker", "sha256:03", &["latest"], PUSHED);
        let web = b.ecr_image_uri("web", "stable");
        let api = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api@sha256:02";
        // No tag and no digest: Docker pulls `latest`.
        let worker = "111122223333.dkr.ecr.us-east-1.amazonaws.com/worker";
        b.task_def("web", Some("awsvpc"), &[&web, api, worker]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
    }

    #[test]
    fn a_pull_through_cache_fetches_what_is_not_there_yet() {
        let mut b = Builder::new();
        b.ecr_registry("BASIC");
        b.pull_through_rule("docker-hub", "registry-1.docker.io");
        let hub = b.ecr_image_uri("docker-hub/library/nginx", "1.27");
        // A prefix is a path segment: `docker-hubx` is not under `docker-hub`.
        let near = b.ecr_image_uri("docker-hubx/app", "1");
        b.task_def("web", Some("awsvpc"), &[&hub, &near]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0].resource.ends_with("/docker-hubx/app"));
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0]
            .reason
            .contains("pull-through cache rule for `docker-hub` from registry-1.docker.io"));

        // Rules that could not be read leave a missing image undecided.
        let mut b = Builder::new();
        b.ecr_registry("BASIC");
        b.gap("ecr:DescribePullThroughCacheRules", None);
        let image = b.ecr_image_uri("gone", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn an_archived_image_cannot_be_pulled() {
        let mut b = Builder::new();
        let archived = b.ecr_image("web", "sha256:01", &["1.4.2"], PUSHED);
        archived.status = Some("ARCHIVED".into());
        archived.archived_at = Some("2026-11-01T00:00:00Z".into());
        let image = b.ecr_image_uri("web", "1.4.2");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.standalone("web", 2, &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert!(
            f.message.starts_with("image `web:1.4.2` is archived in ECR repository `web`"),
            "{}",
            f.message
        );
        assert!(f.evidence[0].fact.ends_with("has status ARCHIVED since 2026-11-01T00:00:00Z"));
        assert!(f.remediation.contains("update-image-storage-class"));
    }

    #[test]
    fn a_repository_missing_from_a_listed_region_is_a_finding() {
        let mut b = Builder::new();
        b.ecr_registry("BASIC");
        let image = b.ecr_image_uri("gone", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0]
            .message
            .contains("names an ECR repository that does not exist"));
    }

    #[test]
    fn unlisted_registries_and_images_are_unknown_not_clean() {
        // Another account's registry, outside the run.
        let mut b = Builder::new();
        b.task_def(
            "web",
            Some("awsvpc"),
            &["444455556666.dkr.ecr.us-east-1.amazonaws.com/shared:1"],
        );
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0].reason.contains("which this run did not audit"));

        // The repository's images could not be listed.
        let mut b = Builder::new();
        b.ecr_repository("web");
        let arn = b.ecr_repository_arn("web");
        b.gap("ecr:DescribeImages", Some(&arn));
        let image = b.ecr_image_uri("web", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR005]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert_eq!(out.unknowns[0].resource.as_deref(), Some(arn.as_str()));
    }
}
