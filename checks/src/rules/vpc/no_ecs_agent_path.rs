//! VPC008: ECS container instances whose agent cannot reach ECS from their subnets.

use std::collections::{BTreeMap, BTreeSet};

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{Egress, SubnetFacts};
use crate::model::EcsContainerInstance;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{availability_zones, missing_endpoints_cost, NETWORK_OPS};

/// The interface endpoints the container agent talks to: the ECS API (registration,
/// state changes), the agent communication service (the websocket tasks arrive on) and the
/// telemetry service (metrics, Container Insights).
const AGENT_ENDPOINTS: [&str; 3] = ["ecs", "ecs-agent", "ecs-telemetry"];

declare_check! {
    /// ## What it finds
    ///
    /// ECS clusters whose EC2 container instances run in a private subnet that has no
    /// usable 0.0.0.0/0 route at all (its route table, the explicit association else the
    /// VPC's main table, routes to no internet or NAT gateway) and whose VPC lacks one of the
    /// interface endpoints the container agent needs, with private DNS: `ecs` (the ECS API,
    /// which registers the instance and reports task state), `ecs-agent` (the channel tasks
    /// are sent to the instance on) and `ecs-telemetry` (metrics and Container Insights).
    ///
    /// One finding per cluster and route table, naming its instances. The instance's subnet
    /// comes from its `ecs.subnet-id` attribute, else from its EC2 instance. A connected
    /// agent (`agentConnected: true`) proves the instance does reach ECS, through something
    /// this check cannot see (an HTTP proxy, a route beyond a transit gateway, a resolver
    /// rule); so behind a route table where any live container instance is connected,
    /// nothing is reported, and only disconnected `ACTIVE` or `REGISTERING` instances are
    /// named. ECS Anywhere instances (`mi-…`), instances whose subnet is unknown and default
    /// routes to a transit gateway, peering connection or appliance are not reported.
    ///
    /// ## Why it matters
    ///
    /// The container agent must call the ECS API to register the instance and must hold its
    /// agent connection to receive tasks. Without `ecs` or `ecs-agent` the instance never
    /// joins the cluster, or drops out of it: its agent shows disconnected, tasks and
    /// services placed on the cluster's EC2 capacity stay PENDING or fail with "no container
    /// instances were found", deployments stall, and the Auto Scaling group keeps paying for
    /// instances that run nothing. Without only `ecs-telemetry` tasks run, but the cluster's
    /// CPU and memory metrics and Container Insights go missing, and with them any scaling
    /// on those metrics (reported at low severity).
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs list-container-instances --cluster CLUSTER
    /// aws ecs describe-container-instances --cluster CLUSTER --container-instances CONTAINER_INSTANCE_ARN \
    ///   --query 'containerInstances[].{instance:ec2InstanceId,status:status,connected:agentConnected,attributes:attributes[?name==`ecs.subnet-id`]}'
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID \
    ///   Name=service-name,Values=com.amazonaws.REGION.ecs,com.amazonaws.REGION.ecs-agent,com.amazonaws.REGION.ecs-telemetry \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,service:ServiceName,state:State,privateDns:PrivateDnsEnabled}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add the missing endpoints with private DNS, in subnets of the instances' Availability
    /// Zones and with a security group that accepts HTTPS (443) from the instances:
    ///
    /// ```sh
    /// for svc in ecs ecs-agent ecs-telemetry; do
    ///   aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Interface \
    ///     --service-name com.amazonaws.REGION.$svc --private-dns-enabled \
    ///     --subnet-ids SUBNET_ID --security-group-ids ENDPOINT_SG_ID
    /// done
    /// ```
    ///
    /// Or route 0.0.0.0/0 from the subnet's route table to a NAT gateway in a public subnet.
    /// The instances also pull images (VPC003) and, with awslogs, ship logs: those paths are
    /// separate checks.
    ///
    /// Each new endpoint is billed per Availability Zone it serves: the finding's cost is the
    /// monthly price of the endpoints it adds, in the zones of the instances' subnets ($0.01
    /// an hour per endpoint and zone at us-east-1 list prices, about $7.30 a month, plus $0.01
    /// per GB). Turning private DNS on costs nothing.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ECS_agent.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshooting.html
    /// - https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
    pub static VPC008 = {
        code: "VPC008",
        name: "no-ecs-agent-path",
        severity: Severity::High,
        lower: [Severity::Low],
        summary: "ECS container instances in a private subnet with no NAT and no usable ecs / ecs-agent / ecs-telemetry endpoints",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeInstances",
            "ecs:ListClusters",
            "ecs:ListContainerInstances",
            "ecs:DescribeContainerInstances",
        ],
        controls: [
        config("vpc-endpoint-enabled").partial(
            "with serviceNames ecs, ecs-agent and ecs-telemetry the rule asks for the \
             endpoints in every VPC; VPC008 asks for a working path from the subnets \
             container instances run in",
        ),
        ],
        run: run,
    };
}

/// One container instance placed in a dead-end subnet.
struct Placed<'a> {
    ci: &'a EcsContainerInstance,
    facts: &'a SubnetFacts<'a>,
    /// Where its subnet came from, for the evidence.
    via: &'static str,
}

/// Endpoints the subnet's VPC lacks (or has with private DNS off), as message fragments.
fn missing(facts: &SubnetFacts<'_>) -> Vec<(&'static str, String)> {
    AGENT_ENDPOINTS
        .iter()
        .filter_map(|short| match facts.interface_endpoint(short) {
            Some(ep) if ep.private_dns_enabled => None,
            Some(ep) => Some((*short, format!("{short} ({} has private DNS off)", ep.id))),
            None => Some((*short, short.to_string())),
        })
        .collect()
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let graph = ctx.graph;
    // (cluster, route table) → instances, and route tables a connected agent proves.
    let mut groups: BTreeMap<(&str, String), Vec<Placed<'_>>> = BTreeMap::new();
    let mut proven: BTreeSet<String> = BTreeSet::new();
    for ci in &ctx.inventory.ecs_container_instances {
        if !ci.is_live() {
            continue;
        }
        let via = if ci.subnet_attribute().is_some() {
            "its ecs.subnet-id attribute"
        } else {
            "its EC2 instance"
        };
        let Some(subnet) = graph.container_instance_subnet(ci) else {
            let ec2 = ci.ec2_instance_id.as_deref().is_some_and(|i| i.starts_with("i-"));
            if ec2 && !ctx.complete(&ci.scope, &["ec2:DescribeInstances"], None) {
                out.unknown(
                    &ci.scope,
                    Some(&ci.cluster_arn),
                    format!(
                        "container instance {} has no ecs.subnet-id attribute and its EC2 instance could not be described; its subnet is unknown",
                        ci.label()
                    ),
                );
            }
            continue;
        };
        let Some(facts) = graph.subnet_facts_by_id(&ci.scope, subnet) else {
            continue;
        };
        if facts.egress != Egress::None || !ctx.complete(&ci.scope, &NETWORK_OPS, None) {
            continue;
        }
        let Some(rt) = facts.route_table else {
            continue;
        };
        if ci.agent_connected {
            proven.insert(rt.arn.clone());
            continue;
        }
        groups
            .entry((ci.cluster_arn.as_str(), rt.arn.clone()))
            .or_default()
            .push(Placed { ci, facts, via });
    }
    for ((cluster_arn, rt_arn), mut placed) in groups {
        if proven.contains(&rt_arn) {
            continue;
        }
        placed.sort_by(|a, b| a.ci.label().cmp(b.ci.label()));
        let facts = placed[0].facts;
        let gaps = missing(facts);
        if gaps.is_empty() {
            continue;
        }
        let blocking = gaps.iter().any(|(short, _)| *short != "ecs-telemetry");
        let scope = &placed[0].ci.scope;
        let cluster = graph
            .ecs_cluster(cluster_arn)
            .map_or_else(|| cluster_arn.rsplit('/').next().unwrap_or(cluster_arn), |c| c.name.as_str());
        let labels: Vec<&str> = placed.iter().map(|p| p.ci.label()).collect();
        let shown = if labels.len() > 5 {
            format!("{} and {} more", labels[..5].join(", "), labels.len() - 5)
        } else {
            labels.join(", ")
        };
        let mut subnets: Vec<&str> = placed.iter().map(|p| p.facts.id()).collect();
        subnets.sort_unstable();
        subnets.dedup();
        let subnet_phrase = if subnets.len() == 1 {
            format!("private subnet {}", subnets[0])
        } else {
            format!("private subnets {}", subnets.join(", "))
        };
        let plural = labels.len() != 1;
        let fragments: Vec<&str> = gaps.iter().map(|(_, f)| f.as_str()).collect();
        let consequence = if blocking {
            format!(
                "{} agent{} cannot register with ECS or receive tasks, so tasks placed on the cluster's EC2 capacity stay pending",
                if plural { "their" } else { "its" },
                if plural { "s" } else { "" },
            )
        } else {
            format!(
                "{} agent{} cannot deliver metrics, so the cluster's CPU and memory metrics and Container Insights are missing",
                if plural { "their" } else { "its" },
                if plural { "s" } else { "" },
            )
        };
        let message = format!(
            "container instance{} {shown} of ECS cluster `{cluster}` run{} in {subnet_phrase} with no NAT or internet gateway route and the VPC has no usable {} endpoint{}: {consequence}",
            if plural { "s" } else { "" },
            if plural { "" } else { "s" },
            fragments.join(", "),
            if fragments.len() == 1 { "" } else { "s" },
        );
        let mut evidence: Vec<Evidence> = Vec::new();
        for p in &placed {
            evidence.push(Evidence::new(
                &p.ci.arn,
                format!(
                    "container instance {} ({}) is in {} per {}; agent disconnected",
                    p.ci.label(),
                    p.ci.status,
                    p.facts.id(),
                    p.via
                ),
            ));
        }
        for s in &subnets {
            if let Some(f) = placed.iter().find(|p| p.facts.id() == *s) {
                evidence.push(Evidence::new(&f.facts.subnet.arn, f.facts.association_fact()));
            }
        }
        evidence.push(Evidence::new(&rt_arn, facts.egress_fact()));
        let names: Vec<&str> = gaps.iter().map(|(s, _)| *s).collect();
        evidence.push(
            Evidence::new(
                graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
                facts.interface_endpoints_fact(&AGENT_ENDPOINTS),
            )
            .lacking(format!("{} interface endpoint", names.join(" + "))),
        );
        let zones = availability_zones(placed.iter().map(|p| p.facts));
        let cost = missing_endpoints_cost(facts, &names, zones);
        let remediation = format!(
            "Add the interface endpoint{} {} with private DNS to {} (or enable private DNS on the existing one), or route 0.0.0.0/0 from {} to a NAT gateway.",
            if names.len() == 1 { "" } else { "s" },
            names
                .iter()
                .map(|n| format!("com.amazonaws.{}.{n}", scope.region))
                .collect::<Vec<_>>()
                .join(", "),
            facts.subnet.vpc_id,
            facts.route_table_label()
        );
        out.report(
            scope,
            Report {
                severity: if blocking { Severity::High } else { Severity::Low },
                resource: cluster_arn.to_string(),
                // One route table, one fix: its id identifies the problem.
                discriminator: facts.route_table_label().to_string(),
                message,
                remediation,
                evidence,
            },
        )
        .cost = cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    /// Cluster `main` with one disconnected container instance i-1 in private subnet-1
    /// (main table rtb-main, local routes only).
    fn disconnected() -> Builder {
        let mut b = Builder::standard_vpc();
        b.ecs_cluster();
        b.container_instance("i-1", "subnet-1").agent_connected = false;
        b
    }

    #[test]
    fn no_agent_endpoints_fires_high() {
        let b = disconnected();
        let out = b.run(&[&VPC008]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.arn("ecs", "cluster/main"));
        assert_eq!(
            f.message,
            "container instance i-1 of ECS cluster `main` runs in private subnet subnet-1 with no NAT or internet gateway route and the VPC has no usable ecs, ecs-agent, ecs-telemetry endpoints: its agent cannot register with ECS or receive tasks, so tasks placed on the cluster's EC2 capacity stay pending"
        );
        let facts: Vec<&str> = f.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert_eq!(
            facts,
            [
                "container instance i-1 (ACTIVE) is in subnet-1 per its ecs.subnet-id attribute; agent disconnected",
                "no explicit route-table association; uses main table rtb-main of vpc-1",
                "no active 0.0.0.0/0 route to an internet or NAT gateway (only local routes)",
                "available interface endpoints in vpc-1: ecs: none, ecs-agent: none, ecs-telemetry: none",
            ]
        );
        assert!(f.remediation.starts_with(
            "Add the interface endpoints com.amazonaws.us-east-1.ecs, com.amazonaws.us-east-1.ecs-agent, com.amazonaws.us-east-1.ecs-telemetry"
        ));
        let cost = f.cost.as_ref().expect("the fix adds endpoints");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 21.9));
        assert!(cost.basis.starts_with("3 interface endpoints (ecs, ecs-agent, ecs-telemetry) × 1 AZ × $0.01/h × 730 h = $21.90 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn all_three_endpoints_are_a_path() {
        let mut b = disconnected();
        for s in AGENT_ENDPOINTS {
            b.interface_endpoint(&format!("vpce-{s}"), "vpc-1", s);
        }
        assert!(b.run(&[&VPC008]).findings.is_empty());
    }

    #[test]
    fn only_telemetry_missing_is_low() {
        let mut b = disconnected();
        b.interface_endpoint("vpce-ecs", "vpc-1", "ecs");
        b.interface_endpoint("vpce-agent", "vpc-1", "ecs-agent");
        let out = b.run(&[&VPC008]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert!(out.findings[0].message.contains("no usable ecs-telemetry endpoint:"));
        assert_eq!(out.findings[0].cost.as_ref().unwrap().monthly_usd, 7.3);
    }

    #[test]
    fn private_dns_off_is_not_a_path() {
        let mut b = disconnected();
        for s in AGENT_ENDPOINTS {
            b.interface_endpoint(&format!("vpce-{s}"), "vpc-1", s);
        }
        b.inv.vpc_endpoints.last_mut().unwrap().private_dns_enabled = false;
        let out = b.run(&[&VPC008]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("ecs-telemetry (vpce-ecs-telemetry has private DNS off)"));
        assert!(out.findings[0].cost.is_none(), "turning private DNS on is free");
    }

    #[test]
    fn a_connected_agent_proves_the_path() {
        let mut b = disconnected();
        b.container_instance("i-2", "subnet-1");
        assert!(b.run(&[&VPC008]).findings.is_empty());
    }

    #[test]
    fn instances_of_one_cluster_and_table_are_one_finding() {
        let mut b = disconnected();
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.container_instance("i-2", "subnet-2").agent_connected = false;
        b.container_instance("i-3", "subnet-2").status = "DRAINING".into();
        let out = b.run(&[&VPC008]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.starts_with(
            "container instances i-1, i-2 of ECS cluster `main` run in private subnets subnet-1, subnet-2 with"
        ));
    }

    #[test]
    fn subnet_falls_back_to_the_ec2_instance() {
        let mut b = disconnected();
        b.inv.ecs_container_instances[0].attributes.clear();
        assert!(b.run(&[&VPC008]).findings.is_empty(), "subnet unknown");
        b.instance("i-1", "subnet-1");
        let out = b.run(&[&VPC008]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].evidence[0].fact.ends_with("per its EC2 instance; agent disconnected"));

        let mut b = disconnected();
        b.inv.ecs_container_instances[0].attributes.clear();
        b.gap("ec2:DescribeInstances", None);
        let out = b.run(&[&VPC008]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.reason.contains("its subnet is unknown")));
    }

    #[test]
    fn nat_or_indirect_egress_is_silent() {
        let mut b = disconnected();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC008]).findings.is_empty(), "NAT");

        let mut b = disconnected();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::TransitGateway("tgw-1".into())));
        assert!(b.run(&[&VPC008]).findings.is_empty(), "transit gateway");
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        for op in [
            "ec2:DescribeVpcEndpoints",
            "ecs:DescribeContainerInstances",
        ] {
            let mut b = disconnected();
            b.gap(op, None);
            let out = b.run(&[&VPC008]);
            if op.starts_with("ec2") {
                assert!(out.findings.is_empty(), "{op}");
            }
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }
}
