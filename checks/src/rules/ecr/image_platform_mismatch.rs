//! ECR007: a workload runs on a CPU architecture its ECR image is not built for.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EcrPull, PulledImage};
use crate::registry::{Ctx, Emitter, Missing, Report};
use crate::rules::common::{image_pulls, pullers_phrase};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) whose tasks run on
    /// a CPU architecture that the multi-platform ECR image they pull does not serve. The
    /// task's architecture is its task definition's `runtimePlatform.cpuArchitecture`
    /// (`X86_64` when absent, as ECS assumes), and its OS family (Linux unless a Windows
    /// family is named). The image's platforms are those its image index (OCI index or
    /// Docker manifest list) lists.
    ///
    /// A single-platform image records its architecture only in its config blob, which
    /// would take a layer download to read: such images are *not evaluated*, and say so.
    /// On the EC2 launch type a task without a declared architecture lands on any of
    /// its cluster's active container instances, so each architecture they report
    /// (`ecs.cpu-architecture`) must be served. One finding per image, architecture and
    /// account, naming every workload affected.
    ///
    /// ## Why it matters
    ///
    /// The container runtime picks the index entry for the host's platform. With no entry
    /// for it, the pull fails (`CannotPullContainerError: ... no matching manifest for
    /// linux/amd64`); if a wrongly labelled image is pulled anyway, the container exits at
    /// once with `exec format error`. Either way no task of the workload starts, typically
    /// right after a switch to Graviton (`ARM64`) or a new base image built on a laptop of
    /// the other architecture.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.runtimePlatform'
    /// aws ecr batch-get-image --repository-name REPOSITORY --image-ids imageTag=TAG \
    ///   --accepted-media-types application/vnd.oci.image.index.v1+json \
    ///     application/vnd.docker.distribution.manifest.list.v2+json \
    ///   --query 'images[].imageManifest' --output text
    /// ```
    ///
    /// ## How to fix
    ///
    /// Build and push the image for the task's platform as well (one index for both):
    ///
    /// ```sh
    /// docker buildx build --platform linux/amd64,linux/arm64 -t REPOSITORY_URI:TAG --push .
    /// ```
    ///
    /// or register a task definition revision whose `runtimePlatform.cpuArchitecture`
    /// matches a platform the image serves, and deploy it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-multi-architecture-image.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html
    pub static ECR007 = {
        code: "ECR007",
        name: "image-platform-mismatch",
        severity: Severity::High,
        summary: "Workload's CPU architecture is not among its image's platforms",
        needs: ["ecr:DescribeImages", "ecr:BatchGetImage"],
        ecs_workloads: true,
        run: run,
    };
}

/// An OCI platform (`linux`/`amd64`) a pull's tasks run on, and why.
struct TaskPlatform {
    os: &'static str,
    arch: &'static str,
    basis: String,
}

/// The platforms a pull's tasks may run on: the declared architecture; on Fargate
/// `X86_64` when none is declared; on EC2 every architecture among the cluster's active
/// container instances (none known: nothing to judge).
fn task_platforms(ctx: &Ctx<'_>, pull: &EcrPull<'_>) -> Vec<TaskPlatform> {
    let td = pull.task_definition;
    let os = if td.is_windows() { "windows" } else { "linux" };
    let oci = |arch: &str| {
        if arch.eq_ignore_ascii_case("ARM64") {
            "arm64"
        } else {
            "amd64"
        }
    };
    if let Some(declared) = td.cpu_architecture.as_deref() {
        let basis = format!("cpuArchitecture {declared}");
        return vec![TaskPlatform {
            os,
            arch: oci(declared),
            basis,
        }];
    }
    if ctx.graph.runs_on_fargate(&pull.workload) {
        return vec![TaskPlatform {
            os,
            arch: "amd64",
            basis: "cpuArchitecture not set: X86_64 on Fargate".into(),
        }];
    }
    let cluster = pull.workload.cluster_arn();
    let mut by_arch: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for ci in ctx.graph.container_instances_of(cluster) {
        if ci.status != "ACTIVE" {
            continue;
        }
        if let Some(arch) = ci.cpu_architecture() {
            by_arch
                .entry(oci(arch))
                .or_default()
                .push(ci.ec2_instance_id.as_deref().unwrap_or(&ci.arn));
        }
    }
    by_arch
        .into_iter()
        .map(|(arch, instances)| TaskPlatform {
            os,
            arch,
            basis: format!(
                "cpuArchitecture not set: placed on any container instance of cluster `{}`, {} of them {arch} ({})",
                cluster.rsplit('/').next().unwrap_or(cluster),
                instances.len(),
                instances.join(", ")
            ),
        })
        .collect()
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for group in image_pulls(ctx) {
        let Some(first) = group.pulls.first() else {
            continue;
        };
        let PulledImage::Found(repo, image) = ctx.graph.pulled_image(first) else {
            continue;
        };
        // The pulls by the platform they need.
        let mut by_platform: BTreeMap<(&str, &str), Vec<(&EcrPull<'_>, String)>> =
            BTreeMap::new();
        for p in &group.pulls {
            for t in task_platforms(ctx, p) {
                by_platform
                    .entry((t.os, t.arch))
                    .or_default()
                    .push((p, t.basis));
            }
        }
        if by_platform.is_empty() {
            continue;
        }
        let Some(platforms) = image.platforms.as_ref() else {
            if image.is_index() {
                if ctx.why_missing(&repo.scope, "ecr:BatchGetImage", &repo.arn)
                    != Missing::ReportedByEngine
                {
                    out.unknown(
                        group.scope,
                        Some(&repo.arn),
                        format!(
                            "the image index of `{}` could not be read, so the platforms it serves are not known",
                            group.image
                        ),
                    );
                }
            } else {
                out.unknown(
                    group.scope,
                    Some(&repo.arn),
                    format!(
                        "`{}` is a single-platform image: its architecture is only in its config blob, which awsaudit does not download, so whether it matches the tasks' is not evaluated",
                        group.image
                    ),
                );
            }
            continue;
        };
        let served: Vec<String> = platforms
            .iter()
            .map(|p| match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            })
            .collect();
        for ((os, arch), pulls) in by_platform {
            if platforms
                .iter()
                .any(|p| p.os == os && p.architecture == arch)
            {
                continue;
            }
            let names = pullers_phrase(&pulls.iter().map(|(p, _)| *p).collect::<Vec<_>>());
            let mut evidence = vec![Evidence::new(
                &repo.arn,
                format!(
                    "image {} is an index of {}",
                    image.digest,
                    if served.is_empty() {
                        "no platform".to_string()
                    } else {
                        served.join(", ")
                    }
                ),
            )];
            evidence.extend(pulls.iter().map(|(p, basis)| {
                Evidence::new(
                    p.workload.arn(),
                    format!(
                        "{} runs container `{}` on {os}/{arch} (task definition {}, {basis})",
                        p.workload.describe(),
                        p.container,
                        p.task_definition.arn,
                    ),
                )
            }));
            out.report(
                group.scope,
                Report {
                    severity: Severity::High,
                    resource: repo.arn.clone(),
                    discriminator: format!("{} {os}/{arch}", group.image),
                    message: format!(
                        "image `{}` has no {os}/{arch} build (it serves {}), but {names} runs on {os}/{arch}: its tasks cannot pull or start it",
                        group.image,
                        if served.is_empty() {
                            "no platform".to_string()
                        } else {
                            served.join(", ")
                        }
                    ),
                    remediation: format!(
                        "Push `{}` as a multi-platform image that includes {os}/{arch} (`docker buildx build --platform {os}/{arch},… --push`), or register a task definition revision whose runtimePlatform.cpuArchitecture matches a platform the image serves and deploy it.",
                        group.image
                    ),
                    evidence,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EcsContainerInstance;
    use crate::testkit::Builder;

    const PUSHED: &str = "2026-11-01T00:00:00Z";

    /// Service `web` on Fargate with `arch` (None: not declared) pulling `web:1`.
    fn fargate(arch: Option<&str>, platforms: &[&str]) -> Builder {
        let mut b = Builder::new();
        b.ecr_index("web", "sha256:01", &["1"], PUSHED, platforms);
        let image = b.ecr_image_uri("web", "1");
        b.task_def("web", Some("awsvpc"), &[&image]).cpu_architecture = arch.map(str::to_string);
        b.service("web", "web", &["subnet-1"]);
        b
    }

    #[test]
    fn an_index_without_the_tasks_architecture_is_a_finding() {
        let out = fargate(Some("ARM64"), &["linux/amd64"]).run(&[&ECR007]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(
            f.message,
            "image `web:1` has no linux/arm64 build (it serves linux/amd64), but service `web` runs on linux/arm64: its tasks cannot pull or start it"
        );
        assert!(f.evidence[1].fact.contains("cpuArchitecture ARM64"));
        // Undeclared on Fargate is X86_64.
        let out = fargate(None, &["linux/arm64/v8"]).run(&[&ECR007]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0].evidence[1].fact.contains("not set: X86_64"));
    }

    #[test]
    fn on_ec2_an_undeclared_architecture_is_each_of_the_clusters_instances() {
        let mut b = Builder::new();
        b.ecr_index("web", "sha256:01", &["1"], PUSHED, &["linux/amd64"]);
        let image = b.ecr_image_uri("web", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]).launch_type = Some("EC2".into());
        b.container_instance("i-x86", "subnet-1").attributes.insert(
            EcsContainerInstance::CPU_ARCHITECTURE.into(),
            "x86_64".into(),
        );
        // No instances of another architecture yet: nothing to report.
        assert!(b.run(&[&ECR007]).findings.is_empty());
        b.container_instance("i-graviton", "subnet-1").attributes.insert(
            EcsContainerInstance::CPU_ARCHITECTURE.into(),
            "arm64".into(),
        );
        let out = b.run(&[&ECR007]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(
            out.findings[0].evidence[1].fact.contains("1 of them arm64 (i-graviton)"),
            "{}",
            out.findings[0].evidence[1].fact
        );
        // A drained instance takes no tasks.
        b.inv.ecs_container_instances[1].status = "DRAINING".into();
        assert!(b.run(&[&ECR007]).findings.is_empty());
    }

    #[test]
    fn an_index_serving_the_tasks_architecture_is_quiet() {
        for (arch, platforms) in [
            (Some("ARM64"), &["linux/amd64", "linux/arm64/v8"][..]),
            (None, &["linux/amd64"][..]),
            (Some("X86_64"), &["linux/amd64", "unknown/unknown"][..]),
        ] {
            let out = fargate(arch, platforms).run(&[&ECR007]);
            assert!(out.findings.is_empty(), "{arch:?} {platforms:?}: {:?}", out.findings);
            assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        }
    }

    #[test]
    fn a_single_platform_image_is_not_evaluated() {
        let mut b = Builder::new();
        b.ecr_image("web", "sha256:01", &["1"], PUSHED);
        let image = b.ecr_image_uri("web", "1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECR007]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0].reason.contains("single-platform image"));
    }

    #[test]
    fn an_unread_index_is_unknown() {
        let mut b = fargate(Some("ARM64"), &["linux/amd64"]);
        b.ecr_repository_mut("web").images.as_mut().unwrap()[0].platforms = None;
        let out = b.run(&[&ECR007]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0].reason.contains("could not be read"));
    }
}
