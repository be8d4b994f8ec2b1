//! Every typed edge of the graph but the IAM ones ([`super::iam`]), from the inventory and
//! the id indexes.

use std::collections::HashMap;

use super::{Edge, EdgeKind, Indexes, LB_CONTROLLER_CLUSTER_TAG};
use crate::model::{ecr_image, Inventory, RouteTarget};
pub(super) fn collect_edges(inv: &Inventory, idx: &Indexes<'_>) -> Vec<Edge> {
    let mut edges = Vec::new();
    let mut add = |from: &str, kind: EdgeKind, to: String| {
        edges.push(Edge {
            from: from.to_string(),
            kind,
            to,
        })
    };

    for s in &inv.ecs_services {
        add(&s.arn, EdgeKind::ServiceCluster, s.cluster_arn.clone());
        add(
            &s.arn,
            EdgeKind::ServiceTaskDefinition,
            s.task_definition.clone(),
        );
        for d in &s.deployments {
            add(
                &s.arn,
                EdgeKind::DeploymentTaskDefinition,
                d.task_definition.clone(),
            );
        }
        for tg in s.target_group_arns() {
            add(&s.arn, EdgeKind::ServiceTargetGroup, tg.to_string());
        }
        for subnet in s.subnet_ids() {
            add(
                &s.arn,
                EdgeKind::ServiceSubnet,
                idx.subnet_arn(&s.scope, subnet),
            );
        }
        for t in s.task_sets.iter().filter(|t| t.is_live()) {
            add(&t.arn, EdgeKind::TaskSetService, s.arn.clone());
            add(
                &t.arn,
                EdgeKind::TaskSetTaskDefinition,
                t.task_definition.clone(),
            );
            for lb in &t.load_balancers {
                if let Some(tg) = &lb.target_group_arn {
                    add(&t.arn, EdgeKind::TaskSetTargetGroup, tg.clone());
                }
            }
            for subnet in t.network.iter().flat_map(|n| &n.subnets) {
                add(
                    &t.arn,
                    EdgeKind::TaskSetSubnet,
                    idx.subnet_arn(&s.scope, subnet),
                );
            }
        }
    }
    for td in &inv.task_definitions {
        for c in &td.containers {
            if let Some(image) = ecr_image(&c.image) {
                add(
                    &td.arn,
                    EdgeKind::TaskDefinitionEcrRepository,
                    image.repository_arn(),
                );
            }
        }
    }
    for tg in &inv.target_groups {
        for lb in &tg.load_balancer_arns {
            add(&tg.arn, EdgeKind::TargetGroupLoadBalancer, lb.clone());
        }
        if let Some(cluster) = tg.tag(LB_CONTROLLER_CLUSTER_TAG) {
            add(
                &tg.arn,
                EdgeKind::TargetGroupEksCluster,
                idx.eks_cluster_arn(&tg.scope, cluster),
            );
        }
    }
    // A group that a listener or rule forwards to sits behind that listener's load
    // balancer, whether or not its `LoadBalancerArns` says so yet.
    let lb_of: HashMap<&str, &str> = inv
        .listeners
        .iter()
        .map(|l| (l.arn.as_str(), l.load_balancer_arn.as_str()))
        .collect();
    for l in &inv.listeners {
        add(
            &l.arn,
            EdgeKind::ListenerLoadBalancer,
            l.load_balancer_arn.clone(),
        );
        for f in l.default_forwards.iter().filter(|f| f.carries_traffic()) {
            add(
                &l.arn,
                EdgeKind::ListenerTargetGroup,
                f.target_group_arn.clone(),
            );
            add(
                &f.target_group_arn,
                EdgeKind::TargetGroupLoadBalancer,
                l.load_balancer_arn.clone(),
            );
        }
    }
    for r in &inv.listener_rules {
        add(&r.arn, EdgeKind::RuleListener, r.listener_arn.clone());
        for f in r.forwards.iter().filter(|f| f.carries_traffic()) {
            add(
                &r.arn,
                EdgeKind::RuleTargetGroup,
                f.target_group_arn.clone(),
            );
            if let Some(lb) = lb_of.get(r.listener_arn.as_str()) {
                add(
                    &f.target_group_arn,
                    EdgeKind::TargetGroupLoadBalancer,
                    lb.to_string(),
                );
            }
        }
    }
    for n in &inv.eks_nodegroups {
        add(
            &n.arn,
            EdgeKind::NodegroupCluster,
            idx.eks_cluster_arn(&n.scope, &n.cluster_name),
        );
        for subnet in &n.subnets {
            add(
                &n.arn,
                EdgeKind::NodegroupSubnet,
                idx.subnet_arn(&n.scope, subnet),
            );
        }
    }
    for p in &inv.eks_fargate_profiles {
        add(
            &p.arn,
            EdgeKind::FargateProfileCluster,
            idx.eks_cluster_arn(&p.scope, &p.cluster_name),
        );
        for subnet in &p.subnets {
            add(
                &p.arn,
                EdgeKind::FargateProfileSubnet,
                idx.subnet_arn(&p.scope, subnet),
            );
        }
    }
    for i in &inv.instances {
        if let Some(subnet) = &i.subnet_id {
            add(
                &i.arn,
                EdgeKind::InstanceSubnet,
                idx.subnet_arn(&i.scope, subnet),
            );
        }
        for cluster in i.eks_cluster_names() {
            add(
                &i.arn,
                EdgeKind::InstanceEksCluster,
                idx.eks_cluster_arn(&i.scope, cluster),
            );
        }
    }
    for s in &inv.subnets {
        add(
            &s.arn,
            EdgeKind::SubnetVpc,
            idx.vpc_arn(&s.scope, &s.vpc_id),
        );
        if let (Some(rt), _) = idx.effective_table(s) {
            add(&s.arn, EdgeKind::SubnetRouteTable, rt.arn.clone());
        }
    }
    for rt in &inv.route_tables {
        for route in &rt.routes {
            let kind = match route.target {
                RouteTarget::Local => continue,
                RouteTarget::InternetGateway(_) => EdgeKind::RouteToInternetGateway,
                RouteTarget::NatGateway(_) => EdgeKind::RouteToNatGateway,
                RouteTarget::GatewayEndpoint(_) => EdgeKind::RouteToGatewayEndpoint,
                _ => EdgeKind::RouteToOther,
            };
            if let Some(to) = idx.ec2_arn(&rt.scope, &route.target) {
                add(&rt.arn, kind, to);
            }
        }
    }
    for ep in &inv.vpc_endpoints {
        add(
            &ep.arn,
            EdgeKind::EndpointVpc,
            idx.vpc_arn(&ep.scope, &ep.vpc_id),
        );
        if ep.is_interface() {
            for subnet in &ep.subnet_ids {
                add(
                    &ep.arn,
                    EdgeKind::EndpointSubnet,
                    idx.subnet_arn(&ep.scope, subnet),
                );
            }
        }
        // The endpoint lists its route tables; AWS also adds a prefix-list route to each, so
        // this usually repeats a route edge (deduplicated), but either alone suffices.
        if ep.is_gateway() {
            for rt in &ep.route_table_ids {
                add(
                    &idx.route_table_arn(&ep.scope, rt),
                    EdgeKind::RouteToGatewayEndpoint,
                    ep.arn.clone(),
                );
            }
        }
    }
    for n in &inv.nat_gateways {
        add(
            &n.arn,
            EdgeKind::NatGatewaySubnet,
            idx.subnet_arn(&n.scope, &n.subnet_id),
        );
    }
    for igw in &inv.internet_gateways {
        for vpc in &igw.attached_vpcs {
            add(
                &igw.arn,
                EdgeKind::InternetGatewayVpc,
                idx.vpc_arn(&igw.scope, vpc),
            );
        }
    }
    edges
}
