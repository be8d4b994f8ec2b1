//! Graph tests: edges compared as sets, and the derived subnet facts case by case.

use std::collections::BTreeSet;

use super::*;
use crate::model::{EcsDeployment, Forward, Route, RouteTarget};
use crate::testkit::{default_route, route, Builder, ACCOUNT, REGION};

/// The edges as (kind, from, to) with ARNs shortened to their resource part
/// (`service/main/web`, `subnet/subnet-1`), so expectations stay readable.
fn edge_set(g: &Graph<'_>) -> BTreeSet<(EdgeKind, String, String)> {
    let short = |arn: &str| arn.splitn(6, ':').nth(5).unwrap_or(arn).to_string();
    g.edges()
        .iter()
        .map(|e| (e.kind, short(&e.from), short(&e.to)))
        .collect()
}

pub(super) fn facts<'g>(g: &'g Graph<'_>, subnet: &str) -> &'g SubnetFacts<'g> {
    let scope = Scope::new(ACCOUNT, REGION);
    g.subnet_facts_by_id(&scope, subnet)
        .unwrap_or_else(|| panic!("no facts for {subnet}"))
}

#[test]
fn edges_cover_every_relationship() {
    use EdgeKind::*;
    let mut b = Builder::standard_vpc();
    b.task_def("web", Some("awsvpc"), &["nginx"]);
    let web = b.service("web", "web", &["subnet-1"]);
    web.deployments.push(EcsDeployment {
        id: "ecs-svc/2".into(),
        status: "PRIMARY".into(),
        task_definition: web.task_definition.replace(":1", ":2"),
        rollout_state: Some("IN_PROGRESS".into()),
        desired_count: 2,
        running_count: 0,
        pending_count: 0,
        failed_tasks: 0,
    });
    let lb = b.arn("elasticloadbalancing", "loadbalancer/app/web/1");
    let tg = b.target_group("web-tg", "ip");
    tg.load_balancer_arns.push(lb.clone());
    tg.tags
        .get_or_insert_default()
        .insert(LB_CONTROLLER_CLUSTER_TAG.into(), "prod".into());
    b.attach("web", "web-tg");
    b.inv.listeners.push(Listener {
        scope: b.scope(),
        arn: b.arn("elasticloadbalancing", "listener/app/web/1/80"),
        load_balancer_arn: lb,
        port: Some(80),
        protocol: Some("HTTP".into()),
        default_forwards: vec![Forward {
            target_group_arn: b.tg_arn("web-tg"),
            weight: None,
        }],
    });
    b.eks_cluster("prod");
    b.nodegroup("prod", "ng", &["subnet-1"]);
    b.fargate_profile("prod", "fp", "default", &["subnet-1"]);
    b.instance("i-1", "subnet-1")
        .tags
        .insert("kubernetes.io/cluster/prod".into(), "owned".into());
    b.interface_endpoint("vpce-dkr", "vpc-1", "ecr.dkr")
        .subnet_ids = vec!["subnet-1".into()];
    b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"]);
    b.table("rtb-main").routes.push(Route {
        destination_cidr: None,
        destination_prefix_list: Some("pl-63a5400a".into()),
        ..route("", RouteTarget::GatewayEndpoint("vpce-s3".into()))
    });
    b.table("rtb-main").routes.push(route(
        "192.168.0.0/16",
        RouteTarget::TransitGateway("tgw-1".into()),
    ));

    let inv = b.finish();
    let g = Graph::build(&inv);
    let e = |k, f: &str, t: &str| (k, f.to_string(), t.to_string());
    let expected: BTreeSet<_> = [
        e(ServiceCluster, "service/main/web", "cluster/main"),
        e(
            ServiceTaskDefinition,
            "service/main/web",
            "task-definition/web:1",
        ),
        e(
            DeploymentTaskDefinition,
            "service/main/web",
            "task-definition/web:2",
        ),
        e(
            ServiceTargetGroup,
            "service/main/web",
            "targetgroup/web-tg/0123456789abcdef",
        ),
        e(ServiceSubnet, "service/main/web", "subnet/subnet-1"),
        e(
            TargetGroupLoadBalancer,
            "targetgroup/web-tg/0123456789abcdef",
            "loadbalancer/app/web/1",
        ),
        e(
            TargetGroupEksCluster,
            "targetgroup/web-tg/0123456789abcdef",
            "cluster/prod",
        ),
        e(
            ListenerLoadBalancer,
            "listener/app/web/1/80",
            "loadbalancer/app/web/1",
        ),
        e(
            ListenerTargetGroup,
            "listener/app/web/1/80",
            "targetgroup/web-tg/0123456789abcdef",
        ),
        e(NodegroupCluster, "nodegroup/prod/ng/uuid", "cluster/prod"),
        e(NodegroupSubnet, "nodegroup/prod/ng/uuid", "subnet/subnet-1"),
        e(
            FargateProfileCluster,
            "fargateprofile/prod/fp/uuid",
            "cluster/prod",
        ),
        e(
            FargateProfileSubnet,
            "fargateprofile/prod/fp/uuid",
            "subnet/subnet-1",
        ),
        e(InstanceSubnet, "instance/i-1", "subnet/subnet-1"),
        e(InstanceEksCluster, "instance/i-1", "cluster/prod"),
        e(SubnetVpc, "subnet/public-a", "vpc/vpc-1"),
        e(SubnetVpc, "subnet/subnet-1", "vpc/vpc-1"),
        e(
            SubnetRouteTable,
            "subnet/public-a",
            "route-table/rtb-public",
        ),
        e(SubnetRouteTable, "subnet/subnet-1", "route-table/rtb-main"),
        e(
            RouteToInternetGateway,
            "route-table/rtb-public",
            "internet-gateway/igw-1",
        ),
        e(
            RouteToGatewayEndpoint,
            "route-table/rtb-main",
            "vpc-endpoint/vpce-s3",
        ),
        e(
            RouteToOther,
            "route-table/rtb-main",
            "transit-gateway/tgw-1",
        ),
        e(EndpointVpc, "vpc-endpoint/vpce-dkr", "vpc/vpc-1"),
        e(EndpointVpc, "vpc-endpoint/vpce-s3", "vpc/vpc-1"),
        e(EndpointSubnet, "vpc-endpoint/vpce-dkr", "subnet/subnet-1"),
        e(NatGatewaySubnet, "natgateway/nat-1", "subnet/public-a"),
        e(InternetGatewayVpc, "internet-gateway/igw-1", "vpc/vpc-1"),
    ]
    .into_iter()
    .collect();
    let got = edge_set(&g);
    assert_eq!(
        got.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(EdgeKind, String, String)>::new(),
        "unexpected edges"
    );
    assert_eq!(
        expected.difference(&got).collect::<Vec<_>>(),
        Vec::<&(EdgeKind, String, String)>::new(),
        "missing edges"
    );

    // Lookups follow the edges.
    let svc = g.ecs_service(&b.service_arn("web")).expect("service node");
    assert_eq!(g.service_target_groups(svc).len(), 1);
    assert!(g.task_definition(&svc.task_definition).is_some());
    assert!(
        g.task_definition(&b.task_def_arn("web").replace(":1", ":2"))
            .is_none(),
        "referenced, not collected"
    );
    let subnet_arn = b.subnet_arn("subnet-1");
    assert_eq!(g.services_using_subnet(&subnet_arn).len(), 1);
    let prod = g.eks_cluster_named(&b.scope(), "prod").expect("cluster");
    assert_eq!(g.nodegroups_of(&prod.arn).len(), 1);
    assert_eq!(g.fargate_profiles_of(&prod.arn).len(), 1);
    assert_eq!(g.nodes_of(&prod.arn).len(), 1);
    assert_eq!(
        g.target_group_cluster(&inv.target_groups[0])
            .map(|c| c.name.as_str()),
        Some("prod")
    );
    assert_eq!(g.outgoing(&subnet_arn, EdgeKind::SubnetVpc).count(), 1);
    assert_eq!(g.incoming(&subnet_arn, EdgeKind::ServiceSubnet).count(), 1);
    assert!(matches!(g.node(&subnet_arn), Some(Node::Subnet(_))));
}

#[test]
fn edges_and_ids_stay_within_their_account_and_region() {
    let mut b = Builder::new();
    b.vpc("vpc-1");
    b.subnet("subnet-1", "vpc-1", "10.0.1.0/24", 100);
    b.main_table("rtb-a", "vpc-1");
    // Same ids in another account: a different subnet with a different main table.
    b.in_scope("444455556666", REGION);
    b.vpc("vpc-1");
    b.subnet("subnet-1", "vpc-1", "10.0.1.0/24", 5);
    b.main_table("rtb-b", "vpc-1")
        .routes
        .push(default_route(RouteTarget::InternetGateway("igw-b".into())));
    b.igw("igw-b", "vpc-1");
    let inv = b.finish();
    let g = Graph::build(&inv);
    assert_eq!(g.all_subnet_facts().count(), 2);
    let a = facts(&g, "subnet-1");
    assert_eq!(a.route_table.map(|r| r.id.as_str()), Some("rtb-a"));
    assert_eq!(a.egress, Egress::None);
    let other = g
        .subnet_facts_by_id(&Scope::new("444455556666", REGION), "subnet-1")
        .expect("second account's subnet");
    assert_eq!(other.route_table.map(|r| r.id.as_str()), Some("rtb-b"));
    assert_eq!(other.egress, Egress::Internet("igw-b".into()));
    assert_eq!(other.free_ips, 5);
}

#[test]
fn main_table_of_another_vpc_never_applies() {
    let mut b = Builder::new();
    // vpc-2's main table routes to the internet...
    b.vpc("vpc-2");
    b.igw("igw-2", "vpc-2");
    b.main_table("rtb-main-2", "vpc-2")
        .routes
        .push(default_route(RouteTarget::InternetGateway("igw-2".into())));
    // ...vpc-1's main table is local only, and subnet-1 has no explicit association.
    b.vpc("vpc-1");
    b.main_table("rtb-main-1", "vpc-1");
    b.subnet("subnet-1", "vpc-1", "10.0.1.0/24", 100);
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    assert_eq!(f.association, Association::Main);
    assert_eq!(f.route_table.map(|r| r.id.as_str()), Some("rtb-main-1"));
    assert_eq!(f.egress, Egress::None);
    assert!(f.egress.is_private());
    assert_eq!(f.egress_detail, "only local routes");
    assert_eq!(
        f.association_fact(),
        "no explicit route-table association; uses main table rtb-main-1 of vpc-1"
    );
}

#[test]
fn explicit_association_wins_over_main_table() {
    let mut b = Builder::standard_vpc();
    b.table("rtb-main")
        .routes
        .push(default_route(RouteTarget::InternetGateway("igw-1".into())));
    b.route_table("rtb-private", "vpc-1", &["subnet-1"]);
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    assert_eq!(f.association, Association::Explicit);
    assert_eq!(f.route_table.map(|r| r.id.as_str()), Some("rtb-private"));
    assert_eq!(f.egress, Egress::None);
}

/// Egress of `subnet-1` (on `rtb-main` of the standard VPC) after `setup`.
fn egress_after(setup: impl FnOnce(&mut Builder)) -> (Egress, String) {
    let mut b = Builder::standard_vpc();
    setup(&mut b);
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    (f.egress.clone(), f.egress_detail.clone())
}

fn default_to(target: RouteTarget) -> impl FnOnce(&mut Builder) {
    move |b| b.table("rtb-main").routes.push(default_route(target))
}

#[test]
fn egress_classification() {
    let igw = || RouteTarget::InternetGateway("igw-1".into());
    let nat = || RouteTarget::NatGateway("nat-1".into());

    assert_eq!(
        egress_after(default_to(igw())).0,
        Egress::Internet("igw-1".into())
    );
    let (e, why) = egress_after(default_to(nat()));
    assert_eq!(e, Egress::Nat("nat-1".into()));
    assert_eq!(
        why,
        "0.0.0.0/0 → nat-1 (in public-a, which routes to igw-1)"
    );

    // Blackhole default routes do not count.
    let (e, why) = egress_after(|b| {
        let mut r = default_route(nat());
        r.state = Some("blackhole".into());
        b.table("rtb-main").routes.push(r);
    });
    assert_eq!(e, Egress::None);
    assert_eq!(why, "0.0.0.0/0 → nat-1 is a blackhole");

    // A NAT gateway in a private subnet gives no internet access.
    let (e, why) = egress_after(|b| {
        b.nat("nat-2", "vpc-1", "subnet-1");
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-2".into())));
    });
    assert_eq!(e, Egress::None);
    assert!(
        why.contains("its subnet subnet-1 has no internet gateway route"),
        "{why}"
    );
    let (e, why) = egress_after(|b| {
        b.subnet("subnet-x", "vpc-1", "10.0.7.0/24", 100);
        b.route_table("rtb-x", "vpc-1", &["subnet-x"]);
        b.nat("nat-3", "vpc-1", "subnet-x");
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-3".into())));
    });
    assert_eq!(e, Egress::None);
    assert_eq!(
        why,
        "0.0.0.0/0 → nat-3, but its subnet subnet-x has no internet gateway route (only local routes)"
    );

    // Not available, or private connectivity.
    let (e, why) = egress_after(|b| {
        b.inv.nat_gateways[0].state = "failed".into();
        b.table("rtb-main").routes.push(default_route(nat()));
    });
    assert_eq!(
        (e, why.as_str()),
        (Egress::None, "0.0.0.0/0 → nat-1, which is `failed`")
    );
    let (e, _) = egress_after(|b| {
        b.inv.nat_gateways[0].connectivity_type = Some("private".into());
        b.table("rtb-main").routes.push(default_route(nat()));
    });
    assert_eq!(e, Egress::Indirect(nat()));

    // Transit gateway, peering, appliance: unprovable.
    let tgw = RouteTarget::TransitGateway("tgw-1".into());
    assert_eq!(
        egress_after(default_to(tgw.clone())).0,
        Egress::Indirect(tgw)
    );
    let eni = RouteTarget::NetworkInterface("eni-1".into());
    assert_eq!(
        egress_after(default_to(eni.clone())).0,
        Egress::Indirect(eni)
    );

    // Internet gateway attached elsewhere, or not collected.
    let (e, why) = egress_after(|b| {
        b.inv.internet_gateways[0].attached_vpcs = vec!["vpc-9".into()];
        b.table("rtb-main").routes.push(default_route(igw()));
    });
    assert_eq!(
        (e, why.as_str()),
        (
            Egress::None,
            "0.0.0.0/0 → igw-1, which is not attached to vpc-1"
        )
    );
    let unknown_igw = RouteTarget::InternetGateway("igw-zz".into());
    assert_eq!(
        egress_after(default_to(unknown_igw.clone())).0,
        Egress::Indirect(unknown_igw)
    );

    // IPv6-only egress is not proof of "no path".
    let eigw = RouteTarget::EgressOnlyInternetGateway("eigw-1".into());
    let (e, _) = egress_after(|b| {
        b.table("rtb-main").routes.push(Route {
            destination_cidr: None,
            destination_ipv6_cidr: Some("::/0".into()),
            ..route("", eigw.clone())
        })
    });
    assert_eq!(e, Egress::Indirect(eigw));

    // Routes that are not default routes change nothing.
    let (e, why) = egress_after(default_to_peer_cidr());
    assert_eq!((e, why.as_str()), (Egress::None, "no 0.0.0.0/0 route"));
}

fn default_to_peer_cidr() -> impl FnOnce(&mut Builder) {
    |b| {
        b.table("rtb-main").routes.push(route(
            "172.16.0.0/12",
            RouteTarget::VpcPeering("pcx-1".into()),
        ))
    }
}

#[test]
fn subnet_without_any_route_table_is_unknown() {
    let mut b = Builder::new();
    b.subnet("subnet-1", "vpc-1", "10.0.1.0/24", 100);
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    assert_eq!(f.egress, Egress::Unknown);
    assert_eq!(f.association, Association::Missing);
    assert!(f.route_table.is_none());
}

#[test]
fn endpoints_seen_from_a_subnet() {
    let mut b = Builder::standard_vpc();
    b.gateway_endpoint("vpce-s3-other", "vpc-1", "s3", &["rtb-public"]);
    b.gateway_endpoint("vpce-ddb", "vpc-1", "dynamodb", &[]);
    // Attached through its prefix-list route only.
    b.table("rtb-main").routes.push(Route {
        destination_cidr: None,
        destination_prefix_list: Some("pl-02cd2c6b".into()),
        ..route("", RouteTarget::GatewayEndpoint("vpce-ddb".into()))
    });
    b.interface_endpoint("vpce-dkr-nodns", "vpc-1", "ecr.dkr")
        .private_dns_enabled = false;
    b.interface_endpoint("vpce-dkr", "vpc-1", "ecr.dkr");
    b.interface_endpoint("vpce-logs", "vpc-1", "logs").state = "pending".into();
    b.interface_endpoint("vpce-elsewhere", "vpc-2", "ecr.api");
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    assert_eq!(
        f.gateway_endpoints.keys().copied().collect::<Vec<_>>(),
        ["dynamodb"]
    );
    assert!(
        f.gateway_endpoint("s3").is_none(),
        "s3 endpoint is on another table"
    );
    assert_eq!(
        f.interface_endpoints.keys().copied().collect::<Vec<_>>(),
        ["ecr.dkr"]
    );
    assert_eq!(
        f.interface_endpoint("ecr.dkr").map(|e| e.id.as_str()),
        Some("vpce-dkr"),
        "private DNS preferred"
    );
    assert_eq!(g.vpc_endpoints(&b.scope(), "vpc-1").len(), 5);
}

#[test]
fn workloads_placed_in_a_subnet() {
    let mut b = Builder::standard_vpc();
    b.task_def("web", Some("awsvpc"), &["nginx"]);
    b.service("web", "web", &["subnet-1", "subnet-1"]);
    b.service("gone", "web", &["subnet-1"]).status = "INACTIVE".into();
    b.eks_cluster("prod");
    b.nodegroup("prod", "ng", &["subnet-1"]);
    b.fargate_profile("prod", "fp", "default", &["subnet-1"]);
    b.fargate_profile("prod", "fp-old", "old", &["subnet-1"])
        .status = "DELETING".into();
    // A managed node (stands for its nodegroup), a Karpenter node, a stopped node, a plain
    // instance, and nodes tagged with each cluster-name convention.
    let managed = b.instance("i-managed", "subnet-1");
    managed
        .tags
        .insert("eks:cluster-name".into(), "prod".into());
    managed
        .tags
        .insert("eks:nodegroup-name".into(), "ng".into());
    b.instance("i-karpenter", "subnet-1")
        .tags
        .insert("kubernetes.io/cluster/prod".into(), "owned".into());
    let stopped = b.instance("i-stopped", "subnet-1");
    stopped.state = "stopped".into();
    stopped
        .tags
        .insert("kubernetes.io/cluster/prod".into(), "owned".into());
    b.instance("i-plain", "subnet-1");
    b.instance("i-aws", "subnet-1")
        .tags
        .insert("aws:eks:cluster-name".into(), "prod".into());
    b.instance("i-eksctl", "subnet-1")
        .tags
        .insert("eks:eks-cluster-name".into(), "prod".into());
    b.instance("i-unrelated", "subnet-1")
        .tags
        .insert("kubernetes.io/cluster/prod".into(), "other".into());
    let inv = b.finish();
    let g = Graph::build(&inv);
    let f = facts(&g, "subnet-1");
    let names: Vec<String> = f.workloads.iter().map(Workload::describe).collect();
    assert_eq!(
        names,
        [
            "service `web`",
            "nodegroup `ng`",
            "Fargate profile `fp`",
            "EKS node `i-karpenter`",
            "EKS node `i-aws`",
            "EKS node `i-eksctl`",
        ]
    );
    let prod = g.eks_cluster_named(&b.scope(), "prod").expect("cluster");
    let mut nodes: Vec<&str> = g
        .nodes_of(&prod.arn)
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        ["i-aws", "i-eksctl", "i-karpenter", "i-managed", "i-stopped"]
    );
    let compute = g.cluster_compute(prod);
    assert_eq!(compute.nodes_up.len(), 4);
    assert!(compute.has_node_compute() && !compute.is_empty());
}

#[test]
fn ip_counts() {
    let mut b = Builder::new();
    b.subnet("subnet-1", "vpc-1", "10.0.1.0/28", -2);
    b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 250);
    let inv = b.finish();
    let g = Graph::build(&inv);
    let small = facts(&g, "subnet-1");
    assert_eq!(
        (
            small.free_ips,
            small.usable_ips,
            small.subnet.free_ips_clamped()
        ),
        (-2, Some(11), 0)
    );
    assert_eq!(facts(&g, "subnet-2").usable_ips, Some(251));
}
