//! ECS013: images pulled from a private ECR registry in another region.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{image_source, ImageSource};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services (their task sets, scheduled and standalone tasks) whose image is in a private ECR registry of a
    /// different region than the service (`…dkr.ecr.us-east-1.amazonaws.com/app` run by a
    /// service in `eu-west-1`).
    ///
    /// ## Why it matters
    ///
    /// Every task start pulls the image across regions: slower cold starts and scale-outs
    /// (layers travel the long way), inter-region data transfer charges on every pull,
    /// and a dependency on the other region's ECR — an outage there stops this region from
    /// replacing or adding tasks. It also bypasses this region's ECR VPC endpoints, so a
    /// private subnet needs a NAT path for the pull.
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
    /// Turn on ECR cross-region replication to this region and point the task definition
    /// at the local copy:
    ///
    /// ```sh
    /// aws ecr put-replication-configuration --region SOURCE_REGION \
    ///   --replication-configuration 'rules=[{destinations=[{region=SERVICE_REGION,registryId=ACCOUNT}]}]'
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pull-behavior.html
    pub static ECS013 = {
        code: "ECS013",
        name: "cross-region-image",
        severity: Severity::Low,
        summary: "ECS container pulls its image from ECR in another region",
        needs: [],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        for c in &td.containers {
            let ImageSource::Ecr { region } = image_source(&c.image) else {
                continue;
            };
            if region == w.scope().region {
                continue;
            }
            out.report(
                w.scope(),
                Report {
                    severity: Severity::Low,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} in {} pulls container `{}`'s image from ECR in {region}: slower task starts, cross-region transfer on every pull, and a dependency on {region}",
                        w.describe(), w.scope().region, c.name
                    ),
                    remediation: format!(
                        "Replicate the repository to {} (ECR replication) and use the local image in a new revision of `{}`.",
                        w.scope().region, td.family
                    ),
                    evidence: vec![
                        Evidence::new(w.arn(), w.runs_fact(&td.label())),
                        Evidence::new(
                            &td.arn,
                            format!("container `{}` image `{}`", c.name, c.image),
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
    use crate::testkit::Builder;

    #[test]
    fn only_ecr_images_of_another_region_fire() {
        let mut b = Builder::new();
        b.task_def(
            "web",
            Some("awsvpc"),
            &[
                "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1",
                "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1",
                "nginx:1.27",
                "public.ecr.aws/nginx/nginx:1",
            ],
        );
        b.service("web", "web", &[]);
        let out = b.run(&[&ECS013]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0]
            .message
            .contains("container `c0`'s image from ECR in eu-west-1"));
    }
}
