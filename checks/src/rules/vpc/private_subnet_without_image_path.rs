//! VPC003: private subnets from which a workload's images cannot be pulled at all.

use crate::crosswalk::{config, fsbp};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{SubnetFacts, Workload};
use crate::model::{image_source, ImageSource, TaskDefinition};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::dead_end_pulls;

/// The interface endpoints an ECR pull needs (plus S3, which VPC002 covers).
const ECR_ENDPOINTS: [&str; 2] = ["ecr.api", "ecr.dkr"];

declare_check! {
    /// ## What it finds
    ///
    /// Container workloads in a private subnet (its route table has no usable 0.0.0.0/0
    /// route at all: no internet gateway, no working NAT gateway) that have no other way to
    /// their images:
    ///
    /// - the VPC lacks the `ecr.api` or `ecr.dkr` interface endpoint (or has it with private
    ///   DNS off, so the registry name still resolves to public addresses): Fargate ECS
    ///   services, EKS nodegroups, Fargate profiles and tagged EKS nodes cannot pull from ECR;
    /// - a Fargate ECS service uses images from a public registry (Docker Hub such as
    ///   `nginx:latest`, `public.ecr.aws`, `ghcr.io`, `quay.io` …) or from another region's
    ///   ECR: no VPC endpoint serves those, so they cannot be pulled even with the ECR
    ///   endpoints. The image is named.
    ///
    /// Default routes to a transit gateway, peering connection, appliance or similar are not
    /// reported (egress may exist beyond them), nor are images from other registries, which
    /// may be reachable privately. ECS services on the EC2 launch type are skipped: their
    /// container instance pulls the images.
    ///
    /// ## Why it matters
    ///
    /// Every task launch and every new node starts with an image pull. With no path to the
    /// registry, tasks stay in PROVISIONING and stop with `CannotPullContainerError`, pods
    /// stay in `ImagePullBackOff`, and new nodes never become Ready, so the first scale-out
    /// or deployment after the network change fails.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID \
    ///   --query 'VpcEndpoints[].{service:ServiceName,type:VpcEndpointType,state:State,privateDns:PrivateDnsEnabled}'
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.containerDefinitions[].image'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Either give the subnet internet egress (route 0.0.0.0/0 to a NAT gateway in a public
    /// subnet), or keep it private and add the interface endpoints `com.amazonaws.REGION.ecr.api`
    /// and `com.amazonaws.REGION.ecr.dkr` with private DNS, plus an S3 gateway endpoint on its
    /// route table. Images from public registries must then be copied into this region's ECR,
    /// or served through an ECR pull-through cache rule.
    ///
    /// Interface endpoints are billed per endpoint and per Availability Zone they serve:
    /// where the fix adds them, the finding's cost is that monthly price for the endpoints
    /// that are missing in the zones of the affected subnets ($0.01 an hour each at us-east-1
    /// list prices, about $7.30 a month, plus $0.01 per GB processed). The S3 gateway
    /// endpoint is free. A NAT gateway instead costs $0.045 an hour plus $0.045 per GB.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
    /// - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html
    pub static VPC003 = {
        code: "VPC003",
        name: "private-subnet-without-image-path",
        severity: Severity::High,
        summary: "private subnet with no NAT and no usable ECR endpoints, or public images that cannot be pulled from it",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
            "eks:DescribeNodegroup",
            "eks:DescribeFargateProfile",
        ],
        ecs_workloads: true,
        controls: [
        fsbp("EC2.55").partial(
            "EC2.55 asks for an ECR API interface endpoint in every VPC; VPC003 asks for a \
             working path to ECR (NAT or endpoints) from the subnets workloads run in",
        ),
        fsbp("EC2.56").partial(
            "EC2.56 asks for an ECR Docker endpoint in every VPC; VPC003 asks for a \
             working path to ECR (NAT or endpoints) from the subnets workloads run in",
        ),
        config("vpc-endpoint-enabled").partial(
            "the rule asks for endpoints of its serviceNames in every VPC; VPC003 asks for \
             a working path from the subnets workloads run in",
        ),
        ],
        run: run,
    };
}

/// The ECR endpoints the subnet cannot use, as message fragments (`ecr.api`,
/// `ecr.dkr (vpce-1 has private DNS off)`).
fn ecr_gaps(facts: &SubnetFacts<'_>) -> Vec<String> {
    ECR_ENDPOINTS
        .iter()
        .filter_map(|short| match facts.interface_endpoint(short) {
            None => Some(short.to_string()),
            // Without private DNS the registry's name resolves to public addresses, which
            // this subnet cannot reach: the endpoint exists but pulls do not use it.
            Some(ep) if !ep.private_dns_enabled => {
                Some(format!("{short} ({} has private DNS off)", ep.id))
            }
            Some(_) => None,
        })
        .collect()
}

/// Images of a task definition that cannot be pulled from the subnet: (images needing the
/// missing ECR endpoints, images no VPC endpoint serves, with the reason).
fn blocked_images(
    td: &TaskDefinition,
    region: &str,
    ecr_usable: bool,
) -> (Vec<String>, Vec<String>) {
    let mut via_ecr = Vec::new();
    let mut unreachable = Vec::new();
    for c in &td.containers {
        match image_source(&c.image) {
            ImageSource::Ecr { region: r } if r == region => {
                if !ecr_usable {
                    via_ecr.push(format!("`{}`", c.image));
                }
            }
            ImageSource::Ecr { region: r } => unreachable.push(format!(
                "`{}` (ECR in {r}; endpoints here serve {region} only)",
                c.image
            )),
            ImageSource::Public => unreachable.push(format!("`{}` (public registry)", c.image)),
            // Possibly a registry inside the VPC or behind a private route: not provable.
            ImageSource::Other => {}
        }
    }
    (via_ecr, unreachable)
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for pull in dead_end_pulls(ctx) {
        let (facts, w) = (pull.facts(), pull.workload);
        let gaps = ecr_gaps(facts);
        let missing = format!("no usable {} endpoint", gaps.join(" or "));
        let (subnets, _) = pull.subnets_phrase();
        let base = format!(
            "{} runs in {subnets} with no NAT or internet gateway route",
            w.describe(),
        );
        let mut evidence = pull.evidence();
        let (message, remediation) = match w {
            Workload::Ecs(ecs) => {
                let Some(td) = ctx.graph.task_definition(ecs.task_definition()) else {
                    out.unknown(
                        ecs.scope(),
                        Some(ecs.resource()),
                        format!(
                            "task definition {} of {} was not collected; cannot tell where its images come from",
                            ecs.task_definition(),
                            ecs.describe()
                        ),
                    );
                    continue;
                };
                let (via_ecr, unreachable) = blocked_images(td, &ecs.scope().region, gaps.is_empty());
                if via_ecr.is_empty() && unreachable.is_empty() {
                    continue;
                }
                let mut parts = Vec::new();
                if !via_ecr.is_empty() {
                    parts.push(format!("with {missing} its tasks cannot pull {}", via_ecr.join(", ")));
                }
                if !unreachable.is_empty() {
                    parts.push(format!(
                        "{} cannot be pulled without internet access, even through ECR endpoints",
                        unreachable.join(", ")
                    ));
                }
                let images: Vec<&str> = td.containers.iter().map(|c| c.image.as_str()).collect();
                evidence.push(Evidence::new(&td.arn, format!("images: {}", images.join(", "))));
                let fix = if unreachable.is_empty() {
                    ecr_fix(facts)
                } else {
                    format!(
                        "Copy the images into this region's ECR (or add an ECR pull-through cache rule) and reference them from there, or route 0.0.0.0/0 from {} to a NAT gateway.",
                        facts.route_table_label()
                    )
                };
                (format!("{base}: {}", parts.join("; ")), fix)
            }
            _ if gaps.is_empty() => continue,
            Workload::FargateProfile(_) => (format!("{base}: with {missing} its pods cannot pull images from ECR"), ecr_fix(facts)),
            Workload::Nodegroup(_) | Workload::Node(_) => (
                format!("{base}: with {missing} its nodes cannot pull images from ECR, including the VPC CNI and kube-proxy add-ons"),
                ecr_fix(facts),
            ),
        };
        if !gaps.is_empty() {
            evidence.push(
                Evidence::new(
                    ctx.graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
                    format!("ECR interface endpoints: {}; {missing}", present_ecr(facts)),
                )
                .lacking(format!("{} interface endpoint", gaps.join(" + "))),
            );
        }
        out.report(
            w.scope(),
            Report {
                severity: Severity::High,
                resource: w.arn().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: facts
                    .route_table
                    .map_or(facts.id(), |rt| rt.id.as_str())
                    .to_string(),
                message,
                remediation,
                evidence,
            },
        )
        .cost = pull.missing_endpoints_cost(&ECR_ENDPOINTS);
    }
}

fn present_ecr(facts: &SubnetFacts<'_>) -> String {
    let present: Vec<String> = ECR_ENDPOINTS
        .iter()
        .filter_map(|short| {
            facts
                .interface_endpoint(short)
                .map(|ep| format!("{short} ({})", ep.id))
        })
        .collect();
    if present.is_empty() {
        "none".to_string()
    } else {
        present.join(", ")
    }
}

fn ecr_fix(facts: &SubnetFacts<'_>) -> String {
    format!(
        "Add the ecr.api and ecr.dkr interface endpoints with private DNS to {} and an S3 gateway endpoint on {}, or route 0.0.0.0/0 from {} to a NAT gateway.",
        facts.subnet.vpc_id,
        facts.route_table_label(),
        facts.route_table_label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    fn run_it(b: &Builder) -> crate::registry::Outcome {
        b.run(&[&VPC003])
    }

    #[test]
    fn no_nat_and_no_ecr_endpoints_fires() {
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.interface_endpoint("vpce-api", "vpc-1", "ecr.api");
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            "service `web` runs in private subnet subnet-1 with no NAT or internet gateway route: with no usable ecr.dkr endpoint its tasks cannot pull `111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2`"
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.fact
                == "ECR interface endpoints: ecr.api (vpce-api); no usable ecr.dkr endpoint"));
    }

    #[test]
    fn the_fix_costs_the_missing_endpoints_in_each_zone() {
        // Only ecr.dkr is missing, in one zone.
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.interface_endpoint("vpce-api", "vpc-1", "ecr.api");
        let cost = run_it(&b).findings[0].cost.clone().expect("endpoints to add");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 7.3));
        assert!(cost.basis.starts_with("1 interface endpoint (ecr.dkr) × 1 AZ × $0.01/h × 730 h = $7.30 (us-east-1 list price, prices as of "), "{}", cost.basis);

        // Both missing; the service spans two subnets in two zones.
        let mut b = Builder::standard_vpc();
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200).availability_zone =
            Some("us-east-1b".into());
        b.with_web_service()
            .network
            .as_mut()
            .unwrap()
            .subnets
            .push("subnet-2".into());
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let cost = out.findings[0].cost.clone().unwrap();
        assert_eq!(cost.monthly_usd, 29.2);
        assert!(cost.basis.starts_with("2 interface endpoints (ecr.api, ecr.dkr) × 2 AZs × $0.01/h × 730 h = $29.20"), "{}", cost.basis);
    }

    #[test]
    fn ecr_endpoints_are_a_path() {
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.with_ecr_endpoints();
        assert!(run_it(&b).findings.is_empty());
    }

    #[test]
    fn nat_is_a_path() {
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(run_it(&b).findings.is_empty());
    }

    #[test]
    fn endpoint_without_private_dns_is_not_a_path() {
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.with_ecr_endpoints();
        b.inv.vpc_endpoints[1].private_dns_enabled = false;
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("no usable ecr.dkr (vpce-dkr has private DNS off) endpoint"));
        assert!(out.findings[0].cost.is_none(), "turning private DNS on is free");
    }

    #[test]
    fn public_image_cannot_be_pulled_even_with_ecr_endpoints() {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.task_def(
            "proxy",
            Some("awsvpc"),
            &["nginx:latest", "registry.corp.internal/app:1"],
        );
        b.service("proxy", "proxy", &["subnet-1"]);
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(
            out.findings[0].message,
            "service `proxy` runs in private subnet subnet-1 with no NAT or internet gateway route: `nginx:latest` (public registry) cannot be pulled without internet access, even through ECR endpoints"
        );
        assert!(out.findings[0]
            .remediation
            .starts_with("Copy the images into this region's ECR"));
    }

    #[test]
    fn other_region_ecr_is_named() {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.task_def(
            "api",
            Some("awsvpc"),
            &["111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:2"],
        );
        b.service("api", "api", &["subnet-1"]);
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("(ECR in eu-west-1; endpoints here serve us-east-1 only)"));
    }

    #[test]
    fn unrecognised_registries_and_indirect_egress_are_silent() {
        let mut b = Builder::standard_vpc();
        b.task_def("app", Some("awsvpc"), &["registry.corp.internal/app:1"]);
        b.service("app", "app", &["subnet-1"]);
        assert!(
            run_it(&b).findings.is_empty(),
            "private registry may be reachable"
        );

        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::VpcPeering("pcx-1".into())));
        assert!(run_it(&b).findings.is_empty(), "peering default route");
    }

    #[test]
    fn nodegroup_without_ecr_endpoints_fires() {
        let mut b = Builder::standard_vpc();
        b.nodegroup("prod", "ng", &["subnet-1"]);
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].message,
            "nodegroup `ng` runs in private subnet subnet-1 with no NAT or internet gateway route: with no usable ecr.api or ecr.dkr endpoint its nodes cannot pull images from ECR, including the VPC CNI and kube-proxy add-ons"
        );
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        let mut b = Builder::standard_vpc();
        b.with_web_service();
        b.gap("ec2:DescribeNatGateways", None);
        let out = run_it(&b);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }
}
