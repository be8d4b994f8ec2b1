//! ECS004: containers that run an image by a moving tag.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::image_tag;
use crate::registry::{Ctx, Emitter, Report};

/// Why the reference moves, or `None` when it is pinned (a digest or a specific tag).
fn mutable(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    match image_tag(image) {
        None => Some("no tag (pulls `latest`)"),
        Some(t) if t.eq_ignore_ascii_case("latest") => Some("tag `latest`"),
        Some(_) => None,
    }
}

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services (their task sets, scheduled and standalone tasks) whose image is referenced by the `latest` tag or
    /// by no tag at all (which means `latest`), and not pinned by digest.
    ///
    /// ## Why it matters
    ///
    /// `latest` points at whatever was pushed last. Every new task (a scale-out, a replaced
    /// task, a deployment of an unrelated change) may start a different image than its
    /// siblings: untested code reaches production without a deployment, tasks of one
    /// service disagree, and rolling back to the previous task definition does not bring
    /// the previous image back.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].image'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Reference an immutable version: a release tag (`app:1.4.2`) from a repository with
    /// tag immutability, or a digest (`app@sha256:…`). Register a new task definition
    /// revision and update the service to it:
    ///
    /// ```sh
    /// aws ecr put-image-tag-mutability --repository-name REPO --image-tag-mutability IMMUTABLE
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
    pub static ECS004 = {
        code: "ECS004",
        name: "mutable-image-tag",
        severity: Severity::Medium,
        summary: "ECS container image referenced by `latest` or no tag, not pinned",
        needs: [],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        for c in &td.containers {
            let Some(why) = mutable(&c.image) else {
                continue;
            };
            out.report(
                w.scope(),
                Report {
                    severity: Severity::Medium,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} runs container `{}` from `{}`, a moving reference ({why}): new tasks may start a different image",
                        w.describe(), c.name, c.image
                    ),
                    remediation: format!(
                        "Pin container `{}` of task definition `{}` to a release tag from an immutable repository or to a digest, and deploy the new revision.",
                        c.name,
                        td.label()
                    ),
                    evidence: vec![
                        Evidence::new(w.arn(), w.runs_fact(&td.label())),
                        Evidence::new(&td.arn, format!("container `{}` image `{}`", c.name, c.image)),
                    ],
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn references_that_move_are_recognised() {
        assert_eq!(mutable("nginx"), Some("no tag (pulls `latest`)"));
        assert_eq!(mutable("nginx:latest"), Some("tag `latest`"));
        assert_eq!(
            mutable("registry.local:5000/team/app"),
            Some("no tag (pulls `latest`)")
        );
        assert_eq!(
            mutable("1.dkr.ecr.us-east-1.amazonaws.com/app:LATEST"),
            Some("tag `latest`")
        );
        assert_eq!(mutable("registry.local:5000/team/app:1.2"), None);
        assert_eq!(mutable("app@sha256:0123abcd"), None);
        assert_eq!(mutable("app:latest@sha256:0123abcd"), None);
        assert_eq!(mutable("public.ecr.aws/nginx/nginx:1.27"), None);
    }

    #[test]
    fn fires_per_container_of_a_live_service() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx:latest", "envoy:v1.31"]);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECS004]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(
            out.findings[0].message,
            "service `web` runs container `c0` from `nginx:latest`, a moving reference (tag `latest`): new tasks may start a different image"
        );
        b.inv.ecs_services[0].status = "INACTIVE".into();
        assert!(b.run(&[&ECS004]).findings.is_empty());
    }
}
