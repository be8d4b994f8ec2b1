//! EC2 networking: VPCs, subnets, route tables, NAT and internet gateways, VPC endpoints,
//! instances that are cluster nodes, and the network limits of nodegroup instance types.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types as t;
use checks::model::{
    Instance, InstanceType, InternetGateway, Inventory, NatGateway, Route, RouteTable, RouteTarget,
    Scope, SecurityGroup, SgRule, Subnet, Vpc, VpcEndpoint,
};
use futures::future::join_all;

use super::{ops, tag_map, Collector};

/// Tag keys (or prefixes ending in `/`) that mark an instance as a Kubernetes node.
const NODE_TAGS: [&str; 5] = [
    "kubernetes.io/cluster/",
    "eks:cluster-name",
    "aws:eks:cluster-name",
    "eks:eks-cluster-name",
    "karpenter.sh/",
];

fn ec2_filter(name: &str, values: &[&str]) -> t::Filter {
    t::Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).ec2(&scope.region);
    let mut inv = Inventory::default();
    let (vpcs, subnets, tables, nats, igws, endpoints, groups, instances) = tokio::join!(
        c.pages(scope, &ops::ec2::DESCRIBE_VPCS, None, |page| {
            client
                .describe_vpcs()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_SUBNETS, None, |page| {
            client
                .describe_subnets()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_ROUTE_TABLES, None, |page| {
            client
                .describe_route_tables()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_NAT_GATEWAYS, None, |page| {
            client
                .describe_nat_gateways()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_INTERNET_GATEWAYS, None, |page| {
            client
                .describe_internet_gateways()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_VPC_ENDPOINTS, None, |page| {
            client
                .describe_vpc_endpoints()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_SECURITY_GROUPS, None, |page| {
            client
                .describe_security_groups()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::ec2::DESCRIBE_INSTANCES, None, |page| {
            // Every live instance: EKS nodes (by their cluster tags), ECS container
            // instances and the instance targets of load balancers, whose security groups
            // decide what reaches them.
            client
                .describe_instances()
                .filters(ec2_filter("instance-state-name", &["pending", "running"]))
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
    );
    if let Some(pages) = vpcs {
        for v in pages.iter().flat_map(|p| p.vpcs()) {
            let record = vpc(scope, v);
            let tags = v.tags().iter().map(|t| (t.key(), t.value()));
            inv.resource_tags.insert(record.arn.clone(), tag_map(tags));
            inv.vpcs.push(record);
        }
    }
    if let Some(pages) = subnets {
        for s in pages.iter().flat_map(|p| p.subnets()) {
            let sub = subnet(scope, s);
            let tags = s.tags().iter().map(|t| (t.key(), t.value()));
            inv.resource_tags.insert(sub.arn.clone(), tag_map(tags));
            inv.subnets.push(sub);
        }
    }
    if let Some(pages) = tables {
        inv.route_tables = pages
            .iter()
            .flat_map(|p| p.route_tables().iter().map(|r| route_table(scope, r)))
            .collect();
    }
    if let Some(pages) = nats {
        inv.nat_gateways = pages
            .iter()
            .flat_map(|p| p.nat_gateways().iter().map(|n| nat_gateway(scope, n)))
            .collect();
    }
    if let Some(pages) = igws {
        inv.internet_gateways = pages
            .iter()
            .flat_map(|p| {
                p.internet_gateways()
                    .iter()
                    .map(|g| internet_gateway(scope, g))
            })
            .collect();
    }
    if let Some(pages) = endpoints {
        for e in pages.iter().flat_map(|p| p.vpc_endpoints()) {
            let ep = vpc_endpoint(scope, e);
            let tags = e.tags().iter().map(|t| (t.key(), t.value()));
            inv.resource_tags.insert(ep.arn.clone(), tag_map(tags));
            inv.vpc_endpoints.push(ep);
        }
    }
    if let Some(pages) = groups {
        inv.security_groups = pages
            .iter()
            .flat_map(|p| p.security_groups().iter().map(|g| security_group(scope, g)))
            .collect();
    }
    if let Some(pages) = instances {
        inv.instances = pages
            .iter()
            .flat_map(|p| p.reservations().iter().flat_map(|r| r.instances().iter()))
            .map(|i| instance(scope, i))
            .collect();
    }
    inv
}

/// Network limits of the given instance types, 100 per call.
pub async fn instance_types(
    c: &Collector,
    scope: &Scope,
    names: BTreeSet<String>,
) -> Vec<InstanceType> {
    if names.is_empty() {
        return Vec::new();
    }
    let client = c.session(&scope.account).ec2(&scope.region);
    let types: Vec<t::InstanceType> = names
        .iter()
        .map(|n| t::InstanceType::from(n.as_str()))
        .collect();
    let outs = join_all(c.batches(
        scope,
        &ops::ec2::DESCRIBE_INSTANCE_TYPES,
        None,
        &types,
        |batch| {
            client
                .describe_instance_types()
                .set_instance_types(Some(batch))
                .into_paginator()
                .send()
                .try_collect()
        },
    ))
    .await;
    outs.into_iter()
        .filter_map(|(_, pages)| pages)
        .flat_map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.instance_types().iter())
                .filter_map(|it| {
                    let net = it.network_info()?;
                    Some(InstanceType {
                        scope: scope.clone(),
                        name: it.instance_type()?.as_str().to_string(),
                        maximum_network_interfaces: net.maximum_network_interfaces()?,
                        ipv4_addresses_per_interface: net.ipv4_addresses_per_interface()?,
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn vpc(scope: &Scope, v: &t::Vpc) -> Vpc {
    let id = v.vpc_id().unwrap_or_default().to_string();
    Vpc {
        scope: scope.clone(),
        arn: scope.ec2_arn("vpc", &id),
        id,
        cidr_block: v.cidr_block().map(str::to_string),
        is_default: v.is_default().unwrap_or(false),
    }
}

fn subnet(scope: &Scope, s: &t::Subnet) -> Subnet {
    let id = s.subnet_id().unwrap_or_default().to_string();
    Subnet {
        scope: scope.clone(),
        arn: s
            .subnet_arn()
            .map(str::to_string)
            .unwrap_or_else(|| scope.ec2_arn("subnet", &id)),
        id,
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        cidr_block: s.cidr_block().map(str::to_string),
        availability_zone: s.availability_zone().map(str::to_string),
        available_ip_address_count: i64::from(s.available_ip_address_count().unwrap_or(0)),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
    }
}

fn route_target(r: &t::Route) -> RouteTarget {
    let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(id) = some(r.nat_gateway_id()) {
        return RouteTarget::NatGateway(id);
    }
    if let Some(id) = some(r.transit_gateway_id()) {
        return RouteTarget::TransitGateway(id);
    }
    if let Some(id) = some(r.vpc_peering_connection_id()) {
        return RouteTarget::VpcPeering(id);
    }
    if let Some(id) = some(r.egress_only_internet_gateway_id()) {
        return RouteTarget::EgressOnlyInternetGateway(id);
    }
    if let Some(id) = some(r.carrier_gateway_id()) {
        return RouteTarget::CarrierGateway(id);
    }
    if let Some(id) = some(r.local_gateway_id()) {
        return RouteTarget::LocalGateway(id);
    }
    if let Some(id) = some(r.core_network_arn()) {
        return RouteTarget::CoreNetwork(id);
    }
    if let Some(id) = some(r.gateway_id()) {
        // `GatewayId` carries internet gateways, virtual private gateways, gateway
        // endpoints and the VPC's own `local` target.
        return match id.as_str() {
            "local" => RouteTarget::Local,
            g if g.starts_with("igw-") => RouteTarget::InternetGateway(id),
            g if g.starts_with("vgw-") => RouteTarget::VirtualPrivateGateway(id),
            g if g.starts_with("vpce-") => RouteTarget::GatewayEndpoint(id),
            _ => RouteTarget::Other(id),
        };
    }
    if let Some(id) = some(r.instance_id()) {
        return RouteTarget::Instance(id);
    }
    if let Some(id) = some(r.network_interface_id()) {
        return RouteTarget::NetworkInterface(id);
    }
    RouteTarget::Other("unknown".into())
}

fn route_table(scope: &Scope, r: &t::RouteTable) -> RouteTable {
    let id = r.route_table_id().unwrap_or_default().to_string();
    RouteTable {
        scope: scope.clone(),
        arn: scope.ec2_arn("route-table", &id),
        id,
        vpc_id: r.vpc_id().unwrap_or_default().to_string(),
        main: r.associations().iter().any(|a| a.main() == Some(true)),
        subnet_ids: r
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes: r
            .routes()
            .iter()
            .map(|rt| Route {
                destination_cidr: rt.destination_cidr_block().map(str::to_string),
                destination_ipv6_cidr: rt.destination_ipv6_cidr_block().map(str::to_string),
                destination_prefix_list: rt.destination_prefix_list_id().map(str::to_string),
                target: route_target(rt),
                state: rt.state().map(|s| s.as_str().to_string()),
            })
            .collect(),
    }
}

fn nat_gateway(scope: &Scope, n: &t::NatGateway) -> NatGateway {
    let id = n.nat_gateway_id().unwrap_or_default().to_string();
    NatGateway {
        scope: scope.clone(),
        arn: scope.ec2_arn("natgateway", &id),
        id,
        vpc_id: n.vpc_id().unwrap_or_default().to_string(),
        subnet_id: n.subnet_id().unwrap_or_default().to_string(),
        state: n
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        connectivity_type: n.connectivity_type().map(|c| c.as_str().to_string()),
    }
}

fn internet_gateway(scope: &Scope, g: &t::InternetGateway) -> InternetGateway {
    let id = g.internet_gateway_id().unwrap_or_default().to_string();
    InternetGateway {
        scope: scope.clone(),
        arn: scope.ec2_arn("internet-gateway", &id),
        id,
        attached_vpcs: g
            .attachments()
            .iter()
            .filter(|a| {
                a.state()
                    .is_none_or(|s| matches!(s.as_str(), "available" | "attached"))
            })
            .filter_map(|a| a.vpc_id().map(str::to_string))
            .collect(),
    }
}

fn vpc_endpoint(scope: &Scope, e: &t::VpcEndpoint) -> VpcEndpoint {
    let id = e.vpc_endpoint_id().unwrap_or_default().to_string();
    let endpoint_type = e
        .vpc_endpoint_type()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    VpcEndpoint {
        scope: scope.clone(),
        arn: scope.ec2_arn("vpc-endpoint", &id),
        id,
        vpc_id: e.vpc_id().unwrap_or_default().to_string(),
        service_name: e.service_name().unwrap_or_default().to_string(),
        // Private DNS only exists for interface endpoints (emulators report it for all).
        private_dns_enabled: endpoint_type == "Interface"
            && e.private_dns_enabled().unwrap_or(false),
        endpoint_type,
        state: e
            .state()
            .map(|s| s.as_str().to_ascii_lowercase())
            .unwrap_or_default(),
        route_table_ids: e.route_table_ids().to_vec(),
        subnet_ids: e.subnet_ids().to_vec(),
        policy_document: e.policy_document().map(str::to_string),
    }
}

fn security_group(scope: &Scope, g: &t::SecurityGroup) -> SecurityGroup {
    let id = g.group_id().unwrap_or_default().to_string();
    SecurityGroup {
        scope: scope.clone(),
        arn: g
            .security_group_arn()
            .map(str::to_string)
            .unwrap_or_else(|| scope.ec2_arn("security-group", &id)),
        id,
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().map(str::to_string),
        ingress: g.ip_permissions().iter().map(sg_rule).collect(),
        egress: g.ip_permissions_egress().iter().map(sg_rule).collect(),
    }
}

fn sg_rule(p: &t::IpPermission) -> SgRule {
    SgRule {
        protocol: p.ip_protocol().unwrap_or("-1").to_ascii_lowercase(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        cidrs: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_cidrs: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        prefix_lists: p
            .prefix_list_ids()
            .iter()
            .filter_map(|l| l.prefix_list_id().map(str::to_string))
            .collect(),
    }
}

fn instance(scope: &Scope, i: &t::Instance) -> Instance {
    let id = i.instance_id().unwrap_or_default().to_string();
    let tags: BTreeMap<String, String> = i
        .tags()
        .iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_string(),
                tag.value().unwrap_or_default().to_string(),
            ))
        })
        .filter(|(k, _)| {
            NODE_TAGS.iter().any(|p| {
                if p.ends_with('/') {
                    k.starts_with(p)
                } else {
                    k == p
                }
            })
        })
        .collect();
    Instance {
        scope: scope.clone(),
        arn: scope.ec2_arn("instance", &id),
        id,
        instance_type: i.instance_type().map(|t| t.as_str().to_string()),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        vpc_id: i.vpc_id().map(str::to_string),
        subnet_id: i.subnet_id().map(str::to_string),
        security_groups: i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        tags,
    }
}
