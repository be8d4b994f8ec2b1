//! VPC002: private subnets with the ECR interface endpoints but no S3 gateway endpoint.

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{SubnetFacts, Workload};
use crate::model::{image_source, ImageSource};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::dead_end_pulls;

declare_check! {
    /// ## What it finds
    ///
    /// Container workloads (Fargate ECS services, EKS nodegroups, Fargate profiles and
    /// tagged EKS nodes) in a private subnet (its route table, the explicit association or
    /// else its VPC's main table, has no usable 0.0.0.0/0 route at all) whose VPC has the
    /// `ecr.api` and `ecr.dkr` interface endpoints, but whose route table has no S3 gateway
    /// endpoint. One finding per workload and subnet.
    ///
    /// Subnets whose default route leads to a transit gateway, peering connection, appliance
    /// or similar are not reported: egress may exist beyond them. ECS services on the EC2
    /// launch type are skipped (their container instance pulls the images), as are services
    /// whose images are all outside this region's ECR, and VPCs with an S3 interface
    /// endpoint with private DNS.
    ///
    /// ## Why it matters
    ///
    /// ECR serves image manifests through `ecr.api` / `ecr.dkr`, but stores the layers in
    /// Amazon S3. Without a route to S3 the registry login and manifest fetch succeed and the
    /// layer download hangs: tasks sit in PROVISIONING and fail with
    /// `CannotPullContainerError`, nodes cannot start the VPC CNI, and the error does not
    /// mention S3.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,service:ServiceName,type:VpcEndpointType,state:State,routeTables:RouteTableIds}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Create an S3 gateway endpoint (free of charge) and associate it with the subnet's
    /// route table, or add the table to an existing one:
    ///
    /// ```sh
    /// aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Gateway \
    ///   --service-name com.amazonaws.REGION.s3 --route-table-ids ROUTE_TABLE_ID
    /// aws ec2 modify-vpc-endpoint --vpc-endpoint-id VPCE_ID --add-route-table-ids ROUTE_TABLE_ID
    /// ```
    ///
    /// If the endpoint has a policy, it must allow `s3:GetObject` on
    /// `arn:aws:s3:::prod-REGION-starport-layer-bucket/*`.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
    /// - https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
    pub static VPC002 = {
        code: "VPC002",
        name: "ecr-endpoints-without-s3-gateway",
        severity: Severity::High,
        summary: "private subnet with ECR interface endpoints but no S3 gateway endpoint: image layers cannot download",
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
        config("vpc-endpoint-enabled").partial(
            "with serviceNames s3 the rule asks for an S3 endpoint in each VPC; VPC002 asks \
             for the gateway endpoint on the route tables of subnets that reach ECR through \
             interface endpoints",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for pull in dead_end_pulls(ctx) {
        let (facts, w) = (pull.facts(), pull.workload);
        let (Some(api), Some(dkr)) = (
            facts.interface_endpoint("ecr.api"),
            facts.interface_endpoint("ecr.dkr"),
        ) else {
            continue; // no ECR endpoints: VPC003's case
        };
        // An S3 interface endpoint with private DNS answers the layer bucket's name too.
        let s3_interface = facts
            .interface_endpoint("s3")
            .is_some_and(|e| e.private_dns_enabled);
        let Some(rt) = facts.route_table else {
            continue;
        };
        if facts.gateway_endpoint("s3").is_some() || s3_interface {
            continue;
        }
        if let Workload::Ecs(ecs) = w {
            let Some(td) = ctx.graph.task_definition(ecs.task_definition()) else {
                out.unknown(
                    ecs.scope(),
                    Some(ecs.resource()),
                    format!(
                        "task definition {} of {} was not collected; cannot tell whether it pulls from ECR",
                        ecs.task_definition(),
                        ecs.describe()
                    ),
                );
                continue;
            };
            let region = ecs.scope().region.as_str();
            let uses_ecr = td
                .containers
                .iter()
                .any(|c| image_source(&c.image) == ImageSource::Ecr { region });
            if !uses_ecr {
                continue;
            }
        }

        let vpc_id = &facts.subnet.vpc_id;
        let (subnets, its) = pull.subnets_phrase();
        let other_s3 = other_s3_gateways(ctx, facts);
        let mut vpc_fact = format!(
            "no S3 gateway endpoint on {}; present: ecr.api ({}), ecr.dkr ({})",
            rt.id, api.id, dkr.id
        );
        if !other_s3.is_empty() {
            vpc_fact.push_str(&format!("; {}", other_s3.join("; ")));
        }
        let mut evidence = pull.evidence();
        evidence.push(
            Evidence::new(ctx.graph.vpc_arn(&facts.subnet.scope, vpc_id), vpc_fact)
                .lacking(format!("S3 gateway endpoint on {}", rt.id)),
        );

        let remediation = match existing_s3_gateway(ctx, facts) {
            Some(vpce) => format!(
                "Associate route table {} with the existing S3 gateway endpoint: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --add-route-table-ids {}`.",
                rt.id, rt.id
            ),
            None => format!(
                "Create an S3 gateway endpoint for route table {}: `aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type Gateway --service-name com.amazonaws.{}.s3 --route-table-ids {}`.",
                rt.id, facts.subnet.scope.region, rt.id
            ),
        };
        out.report(
            w.scope(),
            Report {
                severity: Severity::High,
                resource: w.arn().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: rt.id.clone(),
                message: format!(
                    "{} pulls images through the ECR endpoints in {subnets}, but {its} route table {} has no S3 gateway endpoint: image layers (stored in S3) cannot download",
                    w.describe(),
                    rt.id
                ),
                remediation,
                evidence,
            },
        );
    }
}

/// S3 gateway endpoints of the VPC that do not serve this subnet, described: attached to
/// other route tables, or not available.
fn other_s3_gateways(ctx: &Ctx<'_>, facts: &SubnetFacts<'_>) -> Vec<String> {
    ctx.graph
        .vpc_endpoints(&facts.subnet.scope, &facts.subnet.vpc_id)
        .iter()
        .filter(|e| e.is_gateway() && e.short_service() == "s3")
        .map(|e| {
            if e.is_available() {
                format!(
                    "S3 gateway endpoint {} is attached to {} only",
                    e.id,
                    list_or_none(&e.route_table_ids)
                )
            } else {
                format!("S3 gateway endpoint {} is {}", e.id, e.state)
            }
        })
        .collect()
}

/// An available S3 gateway endpoint of the VPC that only lacks this route table.
fn existing_s3_gateway<'a>(ctx: &Ctx<'a>, facts: &SubnetFacts<'_>) -> Option<&'a str> {
    ctx.graph
        .vpc_endpoints(&facts.subnet.scope, &facts.subnet.vpc_id)
        .iter()
        .find(|e| e.is_gateway() && e.is_available() && e.short_service() == "s3")
        .map(|e| e.id.as_str())
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "no route table".to_string()
    } else {
        ids.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    /// `web` on Fargate in private subnet-1 (main table rtb-main), with both ECR endpoints.
    fn ecr_no_s3() -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.with_web_service();
        b
    }

    #[test]
    fn fires_with_the_chain_of_evidence() {
        let b = ecr_no_s3();
        let out = b.run(&[&VPC002]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` pulls images through the ECR endpoints in private subnet subnet-1, but its route table rtb-main has no S3 gateway endpoint: image layers (stored in S3) cannot download"
        );
        let facts: Vec<&str> = f.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert_eq!(
            facts,
            [
                "runs tasks in subnet-1 (awsvpc)",
                "no explicit route-table association; uses main table rtb-main of vpc-1",
                "no active 0.0.0.0/0 route to an internet or NAT gateway (only local routes)",
                "no S3 gateway endpoint on rtb-main; present: ecr.api (vpce-api), ecr.dkr (vpce-dkr)",
            ]
        );
        assert!(f.remediation.contains("--route-table-ids rtb-main"));
    }

    #[test]
    fn s3_gateway_on_the_table_is_clean() {
        let mut b = ecr_no_s3();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"]);
        assert!(b.run(&[&VPC002]).findings.is_empty());
    }

    #[test]
    fn s3_gateway_on_another_table_still_fires_and_says_so() {
        let mut b = ecr_no_s3();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-public"]);
        let out = b.run(&[&VPC002]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(f.evidence[3]
            .fact
            .contains("vpce-s3 is attached to rtb-public only"));
        assert!(f.remediation.contains(
            "modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-main"
        ));
    }

    #[test]
    fn nat_or_indirect_egress_is_silent() {
        let mut b = ecr_no_s3();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC002]).findings.is_empty(), "NAT");

        let mut b = ecr_no_s3();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::TransitGateway("tgw-1".into())));
        assert!(b.run(&[&VPC002]).findings.is_empty(), "transit gateway");
    }

    #[test]
    fn ec2_launch_type_and_non_ecr_images_are_skipped() {
        let mut b = ecr_no_s3();
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(b.run(&[&VPC002]).findings.is_empty());

        let mut b = ecr_no_s3();
        b.inv.task_definitions[0].containers[0].image = "registry.internal:5000/web:1".into();
        assert!(b.run(&[&VPC002]).findings.is_empty());
    }

    /// `(workload, subnets named in the message)` per finding, sorted.
    fn findings_by_workload(out: &crate::registry::Outcome) -> Vec<(String, String)> {
        let mut got: Vec<(String, String)> = out
            .findings
            .iter()
            .map(|f| {
                let who = f.message.split(" pulls").next().unwrap_or_default();
                let subnets = f
                    .message
                    .split(" in private ")
                    .nth(1)
                    .and_then(|m| m.split(", but").next())
                    .unwrap_or_default();
                (who.to_string(), subnets.to_string())
            })
            .collect();
        got.sort();
        got
    }

    #[test]
    fn one_finding_per_workload_and_route_table() {
        // The nodegroup's two subnets share the VPC's main table: one fix, one finding.
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.nodegroup("prod", "ng", &["subnet-1", "subnet-2"]);
        b.fargate_profile("prod", "fp", "default", &["subnet-1"]);
        let out = b.run(&[&VPC002]);
        assert_eq!(
            findings_by_workload(&out),
            [
                (
                    "Fargate profile `fp`".to_string(),
                    "subnet subnet-1".to_string()
                ),
                (
                    "nodegroup `ng`".to_string(),
                    "subnets subnet-1, subnet-2".to_string()
                ),
            ]
        );
        let ng = out
            .findings
            .iter()
            .find(|f| f.message.starts_with("nodegroup"))
            .unwrap();
        assert!(
            ng.message.contains("but their route table rtb-main"),
            "{}",
            ng.message
        );
        let fps: std::collections::BTreeSet<_> =
            out.findings.iter().map(|f| &f.fingerprint).collect();
        assert_eq!(fps.len(), 2);

        // Give subnet-2 a table of its own (also without S3): two tables, two fixes.
        b.route_table("rtb-2", "vpc-1", &["subnet-2"]);
        let out = b.run(&[&VPC002]);
        assert_eq!(
            findings_by_workload(&out),
            [
                (
                    "Fargate profile `fp`".to_string(),
                    "subnet subnet-1".to_string()
                ),
                ("nodegroup `ng`".to_string(), "subnet subnet-1".to_string()),
                ("nodegroup `ng`".to_string(), "subnet subnet-2".to_string()),
            ]
        );
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        for op in [
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSubnets",
        ] {
            let mut b = ecr_no_s3();
            b.gap(op, None);
            let out = b.run(&[&VPC002]);
            assert!(out.findings.is_empty(), "{op}");
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = ecr_no_s3();
        b.inv.task_definitions.clear();
        let out = b.run(&[&VPC002]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn a_scheduled_task_behind_the_same_table_fails_every_run() {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.task_def(
            "export",
            Some("awsvpc"),
            &["111122223333.dkr.ecr.us-east-1.amazonaws.com/export:1"],
        );
        b.scheduled("nightly-export", "export", &["subnet-1"]);
        let out = b.run(&[&VPC002]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert!(f.resource.ends_with(":schedule/default/nightly-export"));
        assert!(f.message.starts_with(
            "scheduled task `nightly-export` (EventBridge Scheduler) pulls images through the ECR endpoints"
        ));
        // A disabled schedule is never collected as a workload: nothing to report.
        b.inv.scheduled_tasks.clear();
        assert!(b.run(&[&VPC002]).findings.is_empty());
    }
}
