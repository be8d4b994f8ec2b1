//! The VPC side of the graph: how each subnet reaches the internet and AWS services (its
//! route table, egress, endpoints), what runs in it, and lookups of EC2 networking records.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::{key, EcsWorkload, EdgeKind, Graph, Indexes, IpDemand, Key, Workload};
use crate::model::{
    EcsService, InstanceType, Inventory, NatGateway, RouteTable, RouteTarget, Scope, Subnet, Vpc,
    VpcEndpoint,
};
/// How a subnet got its route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Association {
    /// The table lists the subnet among its explicit associations.
    Explicit,
    /// No explicit association: the main table of the subnet's own VPC applies.
    Main,
    /// Neither an explicit association nor a main table of its VPC was collected.
    Missing,
}
/// Where a subnet's IPv4 default route leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "via", rename_all = "snake_case")]
pub enum Egress {
    /// An active 0.0.0.0/0 route to an internet gateway attached to the subnet's VPC.
    Internet(String),
    /// An active 0.0.0.0/0 route to an available, public NAT gateway that itself sits in a
    /// subnet with [`Egress::Internet`].
    Nat(String),
    /// A default route to something whose onward path this inventory cannot follow (transit
    /// gateway, peering, appliance ENI or instance, VGW, core network, a private NAT gateway,
    /// a gateway that was not collected, IPv6-only egress): internet access may exist, but
    /// cannot be proven or disproven from here.
    Indirect(RouteTarget),
    /// No usable default route: none at all, only blackholes, or one to a gateway that
    /// provably cannot carry the traffic (detached IGW, failed NAT, NAT in a private subnet).
    None,
    /// The subnet's route table is not in the inventory.
    Unknown,
}
impl Egress {
    /// Not [`Egress::Internet`] and not [`Egress::Nat`]. Note that this includes
    /// [`Egress::Indirect`] and [`Egress::Unknown`]; checks that conclude "no path" must
    /// match [`Egress::None`] explicitly.
    pub fn is_private(&self) -> bool {
        !matches!(self, Egress::Internet(_) | Egress::Nat(_))
    }
}
/// Everything the checks need to know about one subnet, computed once.
#[derive(Debug, Clone)]
pub struct SubnetFacts<'a> {
    pub subnet: &'a Subnet,
    /// The effective route table, when one was collected.
    pub route_table: Option<&'a RouteTable>,
    pub association: Association,
    pub egress: Egress,
    /// Why the egress is what it is, in words (`0.0.0.0/0 → nat-1, which is failed`).
    pub egress_detail: String,
    /// Available gateway endpoints attached to the effective route table, by short service
    /// name (`s3`, `dynamodb`).
    pub gateway_endpoints: BTreeMap<&'a str, &'a VpcEndpoint>,
    /// Available interface endpoints of the subnet's VPC, by short service name (`ecr.api`,
    /// `ecr.dkr`, `logs`); where a service has several, one with private DNS is kept.
    pub interface_endpoints: BTreeMap<&'a str, &'a VpcEndpoint>,
    /// Container workloads placed in this subnet.
    pub workloads: Vec<Workload<'a>>,
    /// `AvailableIpAddressCount` as reported (negative in some emulators).
    pub free_ips: i64,
    /// Usable addresses of the CIDR (size minus the five AWS reserves).
    pub usable_ips: Option<i64>,
}
impl<'a> SubnetFacts<'a> {
    pub fn id(&self) -> &str {
        &self.subnet.id
    }

    /// The effective route table's id, for a remediation that names it ("route 0.0.0.0/0
    /// from rtb-1"), or "its route table" when there is none to name.
    pub fn route_table_label(&self) -> &str {
        self.route_table
            .map_or("its route table", |rt| rt.id.as_str())
    }

    /// The evidence fact for how the subnet gets its route table.
    pub fn association_fact(&self) -> String {
        match (self.association, self.route_table) {
            (Association::Explicit, Some(rt)) => {
                format!("explicitly associated with route table {}", rt.id)
            }
            (Association::Main, Some(rt)) => format!(
                "no explicit route-table association; uses main table {} of {}",
                rt.id, self.subnet.vpc_id
            ),
            _ => format!(
                "no explicit route-table association and no main route table of {} was collected",
                self.subnet.vpc_id
            ),
        }
    }

    /// The evidence fact for the route table's default route.
    pub fn egress_fact(&self) -> String {
        match &self.egress {
            Egress::Internet(_) | Egress::Nat(_) => self.egress_detail.clone(),
            Egress::None => format!(
                "no active 0.0.0.0/0 route to an internet or NAT gateway ({})",
                self.egress_detail
            ),
            Egress::Indirect(_) | Egress::Unknown => {
                format!("egress cannot be proven: {}", self.egress_detail)
            }
        }
    }

    /// An available interface endpoint for `short` (`ecr.dkr`) in the subnet's VPC.
    pub fn interface_endpoint(&self, short: &str) -> Option<&VpcEndpoint> {
        self.interface_endpoints.get(short).copied()
    }

    /// The evidence fact for which of the interface endpoints `shorts` the subnet's VPC has:
    /// `available interface endpoints in vpc-1: sts: vpce-1 (private DNS on), eks-auth: none`.
    pub fn interface_endpoints_fact(&self, shorts: &[&str]) -> String {
        let parts: Vec<String> = shorts
            .iter()
            .map(|short| match self.interface_endpoint(short) {
                Some(ep) => format!(
                    "{short}: {} (private DNS {})",
                    ep.id,
                    if ep.private_dns_enabled { "on" } else { "off" }
                ),
                None => format!("{short}: none"),
            })
            .collect();
        format!(
            "available interface endpoints in {}: {}",
            self.subnet.vpc_id,
            parts.join(", ")
        )
    }

    /// An available gateway endpoint for `short` (`s3`) on the subnet's route table.
    pub fn gateway_endpoint(&self, short: &str) -> Option<&VpcEndpoint> {
        self.gateway_endpoints.get(short).copied()
    }

    /// The workloads placed in this subnet, in [`SubnetFacts::workloads`] order, each with
    /// the IPs it demands (a service may have two: its deploy and its autoscaling ceiling);
    /// workloads whose demand is not derived (Fargate profiles, individual nodes) do not
    /// appear. `graph` is the graph these facts came from.
    pub fn demands<'g>(
        &'g self,
        graph: &'g Graph<'a>,
    ) -> impl Iterator<Item = (Workload<'a>, &'g IpDemand)> + 'g {
        self.workloads
            .iter()
            .flat_map(move |w| graph.ip_demands_of(w.demand_arn()).map(move |d| (*w, d)))
    }
}
impl<'a> Indexes<'a> {
    /// The subnet's effective route table: its explicit association, else the main table of
    /// its *own* VPC (never another VPC's main table).
    pub(super) fn effective_table(
        &self,
        subnet: &'a Subnet,
    ) -> (Option<&'a RouteTable>, Association) {
        if let Some(rt) = self.explicit_tables.get(&key(&subnet.scope, &subnet.id)) {
            return (Some(rt), Association::Explicit);
        }
        match self.main_tables.get(&key(&subnet.scope, &subnet.vpc_id)) {
            Some(rt) => (Some(rt), Association::Main),
            None => (None, Association::Missing),
        }
    }

    /// Classifies the IPv4 default route of `rt` for a subnet of `vpc_id`. With
    /// `follow_nat == false`, a NAT gateway target is not followed (it comes back as
    /// `Indirect`): that is how a NAT gateway's own subnet is classified, which must reach an
    /// internet gateway directly, and it keeps the classification free of recursion.
    pub(super) fn classify(
        &self,
        scope: &Scope,
        vpc_id: &str,
        rt: &RouteTable,
        follow_nat: bool,
    ) -> (Egress, String) {
        // A table holds one 0.0.0.0/0 route; should it hold several, keep the best path.
        fn rank(e: &Egress) -> u8 {
            match e {
                Egress::Internet(_) => 4,
                Egress::Nat(_) => 3,
                Egress::Indirect(_) => 2,
                Egress::None | Egress::Unknown => 1,
            }
        }
        let mut best: Option<(Egress, String)> = None;
        for route in rt.routes.iter().filter(|r| r.is_ipv4_default()) {
            let candidate = if route.is_active() {
                self.classify_target(scope, vpc_id, &route.target, follow_nat)
            } else {
                (
                    Egress::None,
                    format!("0.0.0.0/0 → {} is a blackhole", target_label(&route.target)),
                )
            };
            if best
                .as_ref()
                .is_none_or(|(b, _)| rank(&candidate.0) > rank(b))
            {
                best = Some(candidate);
            }
        }
        if let Some(found) = best {
            return found;
        }
        // Without an IPv4 default route, IPv6 egress (dual-stack ECR endpoints exist) may
        // still carry pulls: unprovable either way, so not reported as "no path".
        if let Some(v6) = rt.routes.iter().find(|r| {
            r.is_active()
                && r.destination_ipv6_cidr.as_deref() == Some("::/0")
                && r.target != RouteTarget::Local
        }) {
            return (
                Egress::Indirect(v6.target.clone()),
                format!("no IPv4 default route; ::/0 → {}", target_label(&v6.target)),
            );
        }
        let detail = if rt.routes.iter().all(|r| r.target == RouteTarget::Local) {
            "only local routes".to_string()
        } else {
            "no 0.0.0.0/0 route".to_string()
        };
        (Egress::None, detail)
    }

    pub(super) fn classify_target(
        &self,
        scope: &Scope,
        vpc_id: &str,
        target: &RouteTarget,
        follow_nat: bool,
    ) -> (Egress, String) {
        match target {
            RouteTarget::InternetGateway(id) => match self.internet_gateways.get(&key(scope, id)) {
                Some(igw) if igw.attached_vpcs.iter().any(|v| v == vpc_id) => {
                    (Egress::Internet(id.clone()), format!("0.0.0.0/0 → {id}"))
                }
                Some(_) => (
                    Egress::None,
                    format!("0.0.0.0/0 → {id}, which is not attached to {vpc_id}"),
                ),
                None => (
                    Egress::Indirect(target.clone()),
                    format!("0.0.0.0/0 → {id}, an internet gateway that was not collected"),
                ),
            },
            RouteTarget::NatGateway(id) if follow_nat => self.classify_nat(scope, id),
            RouteTarget::NatGateway(id) => (Egress::Indirect(target.clone()), format!("0.0.0.0/0 → {id}")),
            other => (
                Egress::Indirect(other.clone()),
                format!(
                    "0.0.0.0/0 → {}; whether it reaches the internet is decided beyond this route table",
                    target_label(other)
                ),
            ),
        }
    }

    pub(super) fn classify_nat(&self, scope: &Scope, id: &str) -> (Egress, String) {
        let indirect = || Egress::Indirect(RouteTarget::NatGateway(id.to_string()));
        let Some(nat) = self.nat_gateways.get(&key(scope, id)) else {
            return (
                indirect(),
                format!("0.0.0.0/0 → {id}, a NAT gateway that was not collected"),
            );
        };
        if !nat.is_available() {
            return (
                Egress::None,
                format!("0.0.0.0/0 → {id}, which is `{}`", nat.state),
            );
        }
        if !nat.is_public() {
            return (
                indirect(),
                format!("0.0.0.0/0 → {id}, a private NAT gateway (onward routing decides)"),
            );
        }
        let Some(nat_subnet) = self.subnets.get(&key(scope, &nat.subnet_id)) else {
            return (
                indirect(),
                format!(
                    "0.0.0.0/0 → {id}, whose subnet {} was not collected",
                    nat.subnet_id
                ),
            );
        };
        let (rt, _) = self.effective_table(nat_subnet);
        let Some(rt) = rt else {
            return (
                indirect(),
                format!(
                    "0.0.0.0/0 → {id}, whose subnet {} has no collected route table",
                    nat.subnet_id
                ),
            );
        };
        match self.classify(scope, &nat_subnet.vpc_id, rt, false) {
            (Egress::Internet(igw), _) => (
                Egress::Nat(id.to_string()),
                format!(
                    "0.0.0.0/0 → {id} (in {}, which routes to {igw})",
                    nat.subnet_id
                ),
            ),
            // A public NAT gateway only works from a subnet that routes to an internet
            // gateway; one whose own subnet routes to a NAT gateway (often itself, when it
            // was created in the private subnet it serves) reaches nothing.
            (Egress::None | Egress::Indirect(RouteTarget::NatGateway(_)), why) => (
                Egress::None,
                format!(
                    "0.0.0.0/0 → {id}, but its subnet {} has no internet gateway route ({why})",
                    nat.subnet_id
                ),
            ),
            (_, why) => (
                indirect(),
                format!(
                    "0.0.0.0/0 → {id}, whose subnet {} egresses indirectly ({why})",
                    nat.subnet_id
                ),
            ),
        }
    }
}
/// `nat-1`, `tgw-1`, `local`: how a route target is named in messages.
fn target_label(target: &RouteTarget) -> &str {
    target.id().unwrap_or("local")
}
impl<'a> Graph<'a> {
    pub fn subnet(&self, scope: &Scope, id: &str) -> Option<&'a Subnet> {
        self.idx.subnets.get(&key(scope, id)).copied()
    }

    pub fn vpc(&self, scope: &Scope, id: &str) -> Option<&'a Vpc> {
        self.idx.vpcs.get(&key(scope, id)).copied()
    }

    pub fn route_table(&self, scope: &Scope, id: &str) -> Option<&'a RouteTable> {
        self.idx.route_tables.get(&key(scope, id)).copied()
    }

    pub fn nat_gateway(&self, scope: &Scope, id: &str) -> Option<&'a NatGateway> {
        self.idx.nat_gateways.get(&key(scope, id)).copied()
    }

    pub fn instance_type(&self, scope: &Scope, name: &str) -> Option<&'a InstanceType> {
        self.idx.instance_types.get(&key(scope, name)).copied()
    }

    /// The ARN of the VPC `id` in `scope` (synthetic when the VPC was not collected).
    pub fn vpc_arn(&self, scope: &Scope, id: &str) -> String {
        self.idx.vpc_arn(scope, id)
    }

    /// Every VPC endpoint of a VPC, in any state and of any type.
    pub fn vpc_endpoints(&self, scope: &Scope, vpc_id: &str) -> Vec<&'a VpcEndpoint> {
        // Copied out: a borrow of the map could not outlive the lookup key's lifetimes.
        self.idx
            .endpoints_by_vpc
            .get(&key(scope, vpc_id))
            .cloned()
            .unwrap_or_default()
    }

    /// Facts of every collected subnet, by subnet ARN.
    pub fn all_subnet_facts(&self) -> impl Iterator<Item = &SubnetFacts<'a>> {
        self.subnet_facts.values()
    }

    pub fn subnet_facts(&self, subnet_arn: &str) -> Option<&SubnetFacts<'a>> {
        self.subnet_facts.get(subnet_arn)
    }

    pub fn subnet_facts_by_id(&self, scope: &Scope, id: &str) -> Option<&SubnetFacts<'a>> {
        self.subnet_facts.get(self.subnet(scope, id)?.arn.as_str())
    }

    /// Live ECS services whose awsvpc tasks run in the subnet.
    pub fn services_using_subnet(&self, subnet_arn: &str) -> Vec<&'a EcsService> {
        self.incoming(subnet_arn, EdgeKind::ServiceSubnet)
            .filter_map(|arn| self.ecs_service(arn))
            .filter(|s| s.is_live())
            .collect()
    }
}
pub(super) fn subnet_facts<'a>(
    inv: &'a Inventory,
    idx: &Indexes<'a>,
    ecs: &[EcsWorkload<'a>],
) -> BTreeMap<&'a str, SubnetFacts<'a>> {
    let workloads = workloads_by_subnet(inv, ecs);
    let mut facts = BTreeMap::new();
    for subnet in &inv.subnets {
        let (route_table, association) = idx.effective_table(subnet);
        let (egress, egress_detail) = match route_table {
            Some(rt) => idx.classify(&subnet.scope, &subnet.vpc_id, rt, true),
            None => (
                Egress::Unknown,
                "its route table was not collected".to_string(),
            ),
        };
        let mut gateway_endpoints = BTreeMap::new();
        let mut interface_endpoints: BTreeMap<&str, &VpcEndpoint> = BTreeMap::new();
        let vpc_endpoints = idx
            .endpoints_by_vpc
            .get(&key(&subnet.scope, &subnet.vpc_id));
        for ep in vpc_endpoints
            .into_iter()
            .flatten()
            .filter(|e| e.is_available())
        {
            if ep.is_gateway() {
                let attached = route_table.is_some_and(|rt| {
                    ep.route_table_ids.contains(&rt.id)
                        || rt.routes.iter().any(|r| {
                            r.is_active() && r.target == RouteTarget::GatewayEndpoint(ep.id.clone())
                        })
                });
                if attached {
                    gateway_endpoints.entry(ep.short_service()).or_insert(*ep);
                }
            } else if ep.is_interface() {
                let slot = interface_endpoints.entry(ep.short_service()).or_insert(*ep);
                if !slot.private_dns_enabled && ep.private_dns_enabled {
                    *slot = *ep;
                }
            }
        }
        facts.insert(
            subnet.arn.as_str(),
            SubnetFacts {
                subnet,
                route_table,
                association,
                egress,
                egress_detail,
                gateway_endpoints,
                interface_endpoints,
                workloads: workloads
                    .get(&key(&subnet.scope, &subnet.id))
                    .cloned()
                    .unwrap_or_default(),
                free_ips: subnet.available_ip_address_count,
                usable_ips: subnet.usable_ips(),
            },
        );
    }
    facts
}
/// Live container workloads (`ecs`: the graph's ECS workloads), by (account, region, subnet id).
fn workloads_by_subnet<'a>(
    inv: &'a Inventory,
    ecs: &[EcsWorkload<'a>],
) -> HashMap<Key<'a>, Vec<Workload<'a>>> {
    let mut map: HashMap<Key<'a>, Vec<Workload<'a>>> = HashMap::new();
    let mut place = |scope: &'a Scope, subnets: &'a [String], w: Workload<'a>| {
        // A subnet listed twice in one record is still one placement.
        let mut seen: Vec<&str> = Vec::new();
        for s in subnets {
            if !seen.contains(&s.as_str()) {
                seen.push(s);
                map.entry(key(scope, s)).or_default().push(w);
            }
        }
    };
    for w in ecs {
        place(w.scope(), w.subnet_ids(), Workload::Ecs(*w));
    }
    for n in inv.eks_nodegroups.iter().filter(|n| n.is_live()) {
        place(&n.scope, &n.subnets, Workload::Nodegroup(n));
    }
    for p in &inv.eks_fargate_profiles {
        // A profile being deleted or that failed schedules nothing.
        let schedulable = p.is_active() || p.status.eq_ignore_ascii_case("CREATING");
        if schedulable {
            place(&p.scope, &p.subnets, Workload::FargateProfile(p));
        }
    }
    // (account, region, cluster, nodegroup) of every collected managed nodegroup: their
    // instances are represented by the nodegroup itself.
    let nodegroups: HashSet<(&str, &str, &str, &str)> = inv
        .eks_nodegroups
        .iter()
        .map(|n| {
            (
                n.scope.account.as_str(),
                n.scope.region.as_str(),
                n.cluster_name.as_str(),
                n.name.as_str(),
            )
        })
        .collect();
    for i in inv.instances.iter().filter(|i| i.is_up()) {
        let clusters = i.eks_cluster_names();
        let managed = i.eks_nodegroup_name().is_some_and(|ng| {
            clusters.iter().any(|c| {
                nodegroups.contains(&(i.scope.account.as_str(), i.scope.region.as_str(), c, ng))
            })
        });
        if let (false, false, Some(subnet)) = (clusters.is_empty(), managed, &i.subnet_id) {
            map.entry(key(&i.scope, subnet))
                .or_default()
                .push(Workload::Node(i));
        }
    }
    map
}
