//! VPC004: Fargate services whose awslogs driver cannot reach CloudWatch Logs.

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::SubnetFacts;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::dead_end_services;

/// The log driver that ships container output straight to CloudWatch Logs.
const AWSLOGS: &str = "awslogs";

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) on Fargate whose task definition sends container output to CloudWatch
    /// Logs with the `awslogs` log driver, while their tasks run in a private subnet that has
    /// no way to reach CloudWatch Logs: its route table (the explicit association, else the
    /// VPC's main table) has no usable 0.0.0.0/0 route at all, and the VPC has no available
    /// `logs` interface endpoint with private DNS. One finding per service and route table,
    /// because one route or one endpoint fixes every subnet behind that table.
    ///
    /// Services on the EC2 launch type are not reported: there the container instance ships
    /// the logs over its own network. Default routes to a transit gateway, peering
    /// connection, appliance or similar are not reported either, since egress may exist
    /// beyond them. The check assumes the log group is in the service's own region (the
    /// `awslogs-region` option is not read); a `logs` endpoint without private DNS is counted
    /// as unusable, since the driver then resolves the public CloudWatch Logs name.
    ///
    /// ## Why it matters
    ///
    /// On Fargate the `awslogs` driver runs inside the task's network and, before the
    /// container starts, creates the task's log stream through the CloudWatch Logs API. With
    /// no route to that API the call times out, the container never starts, and the task
    /// stops with `ResourceInitializationError` (the logging driver could not be initialized
    /// or its options validated) or a start timeout. The service then keeps launching and
    /// stopping tasks; a deployment that introduces this never becomes healthy, and the
    /// failing tasks leave no logs to explain why.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,driver:logConfiguration.logDriver,options:logConfiguration.options}'
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID Name=service-name,Values=com.amazonaws.REGION.logs \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,state:State,privateDns:PrivateDnsEnabled}'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN --query 'tasks[].stoppedReason'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Keep the subnet private and add an interface endpoint for CloudWatch Logs with private
    /// DNS, in subnets of the task's Availability Zones and with a security group that accepts
    /// HTTPS (443) from the tasks:
    ///
    /// ```sh
    /// aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Interface \
    ///   --service-name com.amazonaws.REGION.logs --private-dns-enabled \
    ///   --subnet-ids SUBNET_ID --security-group-ids ENDPOINT_SG_ID
    /// ```
    ///
    /// Or give the subnet internet egress by routing 0.0.0.0/0 to a NAT gateway in a public
    /// subnet. An existing `logs` endpoint with private DNS off can be fixed in place with
    /// `aws ec2 modify-vpc-endpoint --vpc-endpoint-id VPCE_ID --private-dns-enabled`.
    ///
    /// A new endpoint is billed per Availability Zone it serves: the finding's cost is its
    /// monthly price in the zones of the tasks' subnets ($0.01 an hour per zone at us-east-1
    /// list prices, about $7.30 a month, plus $0.01 per GB of logs). Turning private DNS on
    /// costs nothing.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch-logs-and-interface-VPC.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
    pub static VPC004 = {
        code: "VPC004",
        name: "no-logs-path",
        severity: Severity::High,
        summary: "Fargate service uses the awslogs driver in a private subnet with no NAT and no usable CloudWatch Logs endpoint",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
        ],
        ecs_workloads: true,
        controls: [
        config("vpc-endpoint-enabled").partial(
            "with serviceNames logs the rule asks for the endpoint in every VPC; VPC004 \
             asks for a working path from the subnets workloads run in",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // `dead_end_pulls` keeps Fargate services only: their task ENI carries the log traffic.
    for (pull, ecs, td) in dead_end_services(ctx, out, "logs with awslogs") {
        let facts = pull.facts();
        let awslogs: Vec<_> = td
            .containers
            .iter()
            .filter(|c| {
                c.log_driver
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(AWSLOGS))
            })
            .collect();
        if awslogs.is_empty() {
            continue;
        }
        let gap = match facts.interface_endpoint("logs") {
            Some(ep) if ep.private_dns_enabled => continue,
            Some(ep) => format!("its logs endpoint {} has private DNS off", ep.id),
            None => "the VPC has no logs interface endpoint".to_string(),
        };
        let names: Vec<String> = awslogs.iter().map(|c| format!("`{}`", c.name)).collect();
        let essential = awslogs.iter().any(|c| c.essential);
        let consequence = if essential {
            "its tasks cannot create their log streams and fail to start"
        } else {
            "those (non-essential) containers cannot create their log streams and fail to start"
        };
        let (subnets, its) = pull.subnets_phrase();
        let has = if its == "its" { "has" } else { "have" };
        let rt = facts.route_table_label();
        let message = format!(
            "{} logs to CloudWatch with the awslogs driver (container{} {}) from {subnets}, which {has} no NAT or internet gateway route, and {gap}: {consequence}",
            pull.workload.describe(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
        );
        let mut evidence = pull.evidence();
        evidence.push(Evidence::new(
            &td.arn,
            format!(
                "{}: container{} {} use{} the awslogs log driver",
                td.label(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 { "s" } else { "" },
            ),
        ));
        evidence.push(
            Evidence::new(
                ctx.graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
                logs_endpoint_fact(facts),
            )
            .lacking(match facts.interface_endpoint("logs") {
                Some(ep) => format!("private DNS on logs endpoint {}", ep.id),
                None => "logs interface endpoint".to_string(),
            }),
        );
        let remediation = match facts.interface_endpoint("logs") {
            Some(ep) => format!(
                "Enable private DNS on the CloudWatch Logs endpoint (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled`), or route 0.0.0.0/0 from {rt} to a NAT gateway.",
                ep.id
            ),
            None => format!(
                "Add the interface endpoint com.amazonaws.{}.logs with private DNS to {} (its security group must accept HTTPS from the tasks), or route 0.0.0.0/0 from {rt} to a NAT gateway.",
                facts.subnet.scope.region, facts.subnet.vpc_id
            ),
        };
        let cost = pull.missing_endpoints_cost(&["logs"]);
        out.report(
            ecs.scope(),
            Report {
                severity: Severity::High,
                resource: ecs.resource().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: rt.to_string(),
                message,
                remediation,
                evidence,
            },
        )
        .cost = cost;
    }
}

fn logs_endpoint_fact(facts: &SubnetFacts<'_>) -> String {
    match facts.interface_endpoint("logs") {
        Some(ep) => format!(
            "logs interface endpoint {} is available but has private DNS off, so com.amazonaws.{}.logs still resolves to public addresses",
            ep.id, facts.subnet.scope.region
        ),
        None => format!(
            "no available logs interface endpoint in {}",
            facts.subnet.vpc_id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    /// `web` on Fargate in private subnet-1 (main table rtb-main, local routes only), with
    /// the ECR endpoints and an S3 gateway (so its images pull), its container on awslogs.
    fn private_awslogs() -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"]);
        b.with_web_service();
        b.inv.task_definitions[0].containers[0].log_driver = Some("awslogs".into());
        b
    }

    #[test]
    fn awslogs_without_logs_endpoint_fires() {
        let b = private_awslogs();
        let out = b.run(&[&VPC004]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` logs to CloudWatch with the awslogs driver (container `c0`) from private subnet subnet-1, which has no NAT or internet gateway route, and the VPC has no logs interface endpoint: its tasks cannot create their log streams and fail to start"
        );
        let facts: Vec<&str> = f.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert_eq!(
            facts,
            [
                "runs tasks in subnet-1 (awsvpc)",
                "no explicit route-table association; uses main table rtb-main of vpc-1",
                "no active 0.0.0.0/0 route to an internet or NAT gateway (only local routes)",
                "web:1: container `c0` uses the awslogs log driver",
                "no available logs interface endpoint in vpc-1",
            ]
        );
        assert!(f
            .remediation
            .starts_with("Add the interface endpoint com.amazonaws.us-east-1.logs"));
        assert!(f.remediation.contains("from rtb-main to a NAT gateway"));
        let cost = f.cost.as_ref().expect("the fix adds an endpoint");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 7.3));
        assert!(cost.basis.starts_with("1 interface endpoint (logs) × 1 AZ × $0.01/h × 730 h = $7.30 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn logs_endpoint_is_a_path() {
        let mut b = private_awslogs();
        b.interface_endpoint("vpce-logs", "vpc-1", "logs");
        assert!(b.run(&[&VPC004]).findings.is_empty());
    }

    #[test]
    fn logs_endpoint_without_private_dns_is_not_a_path() {
        let mut b = private_awslogs();
        b.interface_endpoint("vpce-logs", "vpc-1", "logs")
            .private_dns_enabled = false;
        let out = b.run(&[&VPC004]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(
            f.message
                .contains("and its logs endpoint vpce-logs has private DNS off:"),
            "{}",
            f.message
        );
        assert!(f
            .remediation
            .contains("modify-vpc-endpoint --vpc-endpoint-id vpce-logs --private-dns-enabled"));
        assert!(f.cost.is_none(), "turning private DNS on is free");
    }

    #[test]
    fn unavailable_logs_endpoint_is_not_a_path() {
        let mut b = private_awslogs();
        b.interface_endpoint("vpce-logs", "vpc-1", "logs").state = "pending".into();
        assert_eq!(b.run(&[&VPC004]).findings.len(), 1);
    }

    #[test]
    fn nat_or_indirect_egress_is_silent() {
        let mut b = private_awslogs();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC004]).findings.is_empty(), "NAT");

        let mut b = private_awslogs();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::TransitGateway("tgw-1".into())));
        assert!(b.run(&[&VPC004]).findings.is_empty(), "transit gateway");
    }

    #[test]
    fn other_drivers_and_ec2_launch_type_are_silent() {
        let mut b = private_awslogs();
        b.inv.task_definitions[0].containers[0].log_driver = Some("awsfirelens".into());
        assert!(b.run(&[&VPC004]).findings.is_empty(), "firelens");

        let mut b = private_awslogs();
        b.inv.task_definitions[0].containers[0].log_driver = None;
        assert!(
            b.run(&[&VPC004]).findings.is_empty(),
            "no log configuration"
        );

        let mut b = private_awslogs();
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(b.run(&[&VPC004]).findings.is_empty(), "EC2 launch type");
    }

    #[test]
    fn non_essential_containers_are_named_as_such() {
        let mut b = private_awslogs();
        let td = &mut b.inv.task_definitions[0];
        let mut sidecar = td.containers[0].clone();
        sidecar.name = "sidecar".into();
        sidecar.essential = false;
        td.containers[0].log_driver = None;
        td.containers.push(sidecar.clone());
        sidecar.name = "agent".into();
        td.containers.push(sidecar);
        let out = b.run(&[&VPC004]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(
            f.message
                .contains("(containers `sidecar`, `agent`)")
                && f.message.ends_with(
                    "those (non-essential) containers cannot create their log streams and fail to start"
                ),
            "{}",
            f.message
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.fact == "web:1: containers `sidecar`, `agent` use the awslogs log driver"));
    }

    #[test]
    fn one_finding_per_service_and_route_table() {
        let mut b = private_awslogs();
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.subnet("subnet-3", "vpc-1", "10.0.3.0/24", 200);
        b.route_table("rtb-3", "vpc-1", &["subnet-3"]);
        b.inv.ecs_services[0].network.as_mut().unwrap().subnets =
            vec!["subnet-2".into(), "subnet-1".into(), "subnet-3".into()];
        let out = b.run(&[&VPC004]);
        let mut got: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        got.sort();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].contains("from private subnet subnet-3, which"),
            "{got:?}"
        );
        assert!(
            got[1].contains("from private subnets subnet-1, subnet-2, which have no NAT"),
            "{got:?}"
        );
        let fps: std::collections::BTreeSet<_> =
            out.findings.iter().map(|f| &f.fingerprint).collect();
        assert_eq!(fps.len(), 2);
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        for op in [
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeRouteTables",
        ] {
            let mut b = private_awslogs();
            b.gap(op, None);
            let out = b.run(&[&VPC004]);
            assert!(out.findings.is_empty(), "{op}");
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = private_awslogs();
        b.inv.task_definitions.clear();
        let out = b.run(&[&VPC004]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
        assert!(out.unknowns[0].reason.contains("was not collected"));
    }
}
