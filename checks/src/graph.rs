//! The resource graph: every inventory record as a node keyed by its ARN, typed edges between
//! them, and the facts the checks share (how a subnet reaches the internet, which endpoints
//! it can use, what runs in it).
//!
//! Derived facts are computed once, in [`Graph::build`]; checks only read them, so two checks
//! can never disagree about whether a subnet is private.
//!
//! Ids such as `subnet-0abc` are unique only within an account and region, so every id
//! lookup takes the [`Scope`] it is resolved in, and EC2 resources are keyed by their
//! (synthetic) ARN. An edge whose far end was referenced but not collected (a service's task
//! definition that failed to describe, a transit gateway) still exists and points at the ARN
//! the reference implies: checks can then tell "referenced but missing" from "not referenced".

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::{
    EcsCluster, EcsService, EksCluster, EksFargateProfile, EksNodegroup, IamRole, Instance,
    InstanceType, InternetGateway, Inventory, Listener, ListenerRule, LoadBalancer, NatGateway,
    OidcProvider, RouteTable, RouteTarget, ScalableTarget, Scope, Subnet, TargetGroup,
    TaskDefinition, Vpc, VpcEndpoint,
};

/// Tag the AWS Load Balancer Controller puts on the target groups it manages; the value is
/// the EKS cluster name.
pub const LB_CONTROLLER_CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";

/// The kinds of edge. Closed on purpose: a new relationship is a new variant, so every
/// consumer matching on kinds is reviewed when it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// ECS service → its ECS cluster.
    ServiceCluster,
    /// ECS service → its current task definition.
    ServiceTaskDefinition,
    /// ECS service → the task definition of one of its deployments.
    DeploymentTaskDefinition,
    /// ECS service → a target group of its `loadBalancers`.
    ServiceTargetGroup,
    /// ECS service → an awsvpc subnet of its tasks.
    ServiceSubnet,
    /// Task set → its ECS service.
    TaskSetService,
    /// Task set → the task definition it runs.
    TaskSetTaskDefinition,
    /// Task set → a target group its tasks register in.
    TaskSetTargetGroup,
    /// Task set → an awsvpc subnet of its tasks.
    TaskSetSubnet,
    /// Target group → a load balancer that forwards to it.
    TargetGroupLoadBalancer,
    /// Target group → the EKS cluster whose load balancer controller manages it.
    TargetGroupEksCluster,
    /// Listener → its load balancer.
    ListenerLoadBalancer,
    /// Listener → a target group its default actions forward to (with a weight above 0).
    ListenerTargetGroup,
    /// Listener rule → its listener.
    RuleListener,
    /// Listener rule → a target group its forward action sends to (with a weight above 0).
    RuleTargetGroup,
    /// Managed nodegroup → its EKS cluster.
    NodegroupCluster,
    /// Managed nodegroup → a subnet it launches nodes in.
    NodegroupSubnet,
    /// Fargate profile → its EKS cluster.
    FargateProfileCluster,
    /// Fargate profile → a subnet its pods run in.
    FargateProfileSubnet,
    /// EC2 instance → its subnet.
    InstanceSubnet,
    /// EC2 instance → an EKS cluster its tags make it a node of.
    InstanceEksCluster,
    /// Subnet → its VPC.
    SubnetVpc,
    /// Subnet → its effective route table (explicit association, else its VPC's main table).
    SubnetRouteTable,
    /// Route table → an internet gateway a route targets.
    RouteToInternetGateway,
    /// Route table → a NAT gateway a route targets.
    RouteToNatGateway,
    /// Route table → a gateway VPC endpoint (S3, DynamoDB) attached to it.
    RouteToGatewayEndpoint,
    /// Route table → any other route target (transit gateway, peering, ENI, VGW, …).
    RouteToOther,
    /// VPC endpoint → its VPC.
    EndpointVpc,
    /// Interface VPC endpoint → a subnet it has a network interface in.
    EndpointSubnet,
    /// NAT gateway → the subnet it sits in.
    NatGatewaySubnet,
    /// Internet gateway → a VPC it is attached to.
    InternetGatewayVpc,
    /// Task definition → the IAM role its `taskRoleArn` names.
    TaskDefinitionTaskRole,
    /// Task definition → the IAM role its `executionRoleArn` names.
    TaskDefinitionExecutionRole,
    /// IAM role → an OIDC provider its trust policy lets assume it (a `Federated` principal).
    RoleOidcProvider,
    /// EKS cluster → the IAM OIDC provider of its issuer, in its account.
    EksClusterOidcProvider,
}

/// A directed, typed edge between two ARNs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edge {
    pub from: String,
    pub kind: EdgeKind,
    pub to: String,
}

/// A collected record, by reference.
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    EcsCluster(&'a EcsCluster),
    EcsService(&'a EcsService),
    TaskDefinition(&'a TaskDefinition),
    EksCluster(&'a EksCluster),
    EksNodegroup(&'a EksNodegroup),
    EksFargateProfile(&'a EksFargateProfile),
    LoadBalancer(&'a LoadBalancer),
    Listener(&'a Listener),
    ListenerRule(&'a ListenerRule),
    TargetGroup(&'a TargetGroup),
    Vpc(&'a Vpc),
    Subnet(&'a Subnet),
    RouteTable(&'a RouteTable),
    NatGateway(&'a NatGateway),
    InternetGateway(&'a InternetGateway),
    VpcEndpoint(&'a VpcEndpoint),
    Instance(&'a Instance),
    IamRole(&'a IamRole),
    OidcProvider(&'a OidcProvider),
}

/// Applies one expression to the record inside any [`Node`] variant.
macro_rules! on_record {
    ($node:expr, $r:ident => $e:expr) => {
        match $node {
            Node::EcsCluster($r) => $e,
            Node::EcsService($r) => $e,
            Node::TaskDefinition($r) => $e,
            Node::EksCluster($r) => $e,
            Node::EksNodegroup($r) => $e,
            Node::EksFargateProfile($r) => $e,
            Node::LoadBalancer($r) => $e,
            Node::Listener($r) => $e,
            Node::ListenerRule($r) => $e,
            Node::TargetGroup($r) => $e,
            Node::Vpc($r) => $e,
            Node::Subnet($r) => $e,
            Node::RouteTable($r) => $e,
            Node::NatGateway($r) => $e,
            Node::InternetGateway($r) => $e,
            Node::VpcEndpoint($r) => $e,
            Node::Instance($r) => $e,
            Node::IamRole($r) => $e,
            Node::OidcProvider($r) => $e,
        }
    };
}

impl<'a> Node<'a> {
    pub fn arn(&self) -> &'a str {
        on_record!(*self, r => r.arn.as_str())
    }

    pub fn scope(&self) -> &'a Scope {
        on_record!(*self, r => &r.scope)
    }
}

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

/// A container workload placed in a subnet.
#[derive(Debug, Clone, Copy)]
pub enum Workload<'a> {
    /// An ECS workload (a service, a task set) with awsvpc networking.
    Ecs(EcsWorkload<'a>),
    Nodegroup(&'a EksNodegroup),
    FargateProfile(&'a EksFargateProfile),
    /// A running or pending EC2 instance tagged as a node of an EKS cluster and not launched
    /// by a collected managed nodegroup (those are represented by their nodegroup).
    Node(&'a Instance),
}

impl<'a> Workload<'a> {
    pub fn arn(&self) -> &'a str {
        match *self {
            Workload::Ecs(w) => w.arn(),
            Workload::Nodegroup(n) => &n.arn,
            Workload::FargateProfile(p) => &p.arn,
            Workload::Node(i) => &i.arn,
        }
    }

    pub fn name(&self) -> &'a str {
        match *self {
            Workload::Ecs(w) => w.name(),
            Workload::Nodegroup(n) => &n.name,
            Workload::FargateProfile(p) => &p.name,
            Workload::Node(i) => &i.id,
        }
    }

    pub fn scope(&self) -> &'a Scope {
        match *self {
            Workload::Ecs(w) => w.scope(),
            Workload::Nodegroup(n) => &n.scope,
            Workload::FargateProfile(p) => &p.scope,
            Workload::Node(i) => &i.scope,
        }
    }

    /// The ARN its IP demand is known under (an ECS service's demand covers its task sets).
    pub fn demand_arn(&self) -> &'a str {
        match *self {
            Workload::Ecs(w) => w.resource(),
            _ => self.arn(),
        }
    }

    /// What to call it in a message: ``service `web` ``.
    pub fn describe(&self) -> String {
        let kind = match self {
            Workload::Ecs(w) => return w.describe(),
            Workload::Nodegroup(_) => "nodegroup",
            Workload::FargateProfile(_) => "Fargate profile",
            Workload::Node(_) => "EKS node",
        };
        format!("{kind} `{}`", self.name())
    }

    /// The evidence fact tying it to `subnet_id`.
    pub fn placement(&self, subnet_id: &str) -> String {
        match self {
            Workload::Ecs(EcsWorkload::Service(_)) => format!("runs tasks in {subnet_id} (awsvpc)"),
            Workload::Ecs(EcsWorkload::TaskSet(s, t)) => format!(
                "{} task set of service `{}` runs tasks in {subnet_id} (awsvpc)",
                t.status, s.name
            ),
            Workload::Ecs(w) => format!("{} runs tasks in {subnet_id} (awsvpc)", w.describe()),
            Workload::Nodegroup(n) => {
                format!(
                    "launches nodes of cluster `{}` in {subnet_id}",
                    n.cluster_name
                )
            }
            Workload::FargateProfile(p) => {
                format!("runs pods of cluster `{}` in {subnet_id}", p.cluster_name)
            }
            Workload::Node(i) => format!(
                "node of EKS cluster `{}` in {subnet_id}",
                i.eks_cluster_names().join("`, `")
            ),
        }
    }
}

/// How a listener reaches a target group: its default action, or a rule.
#[derive(Debug, Clone, Copy)]
pub struct ListenerRoute<'a> {
    pub listener: &'a Listener,
    /// `None` for the default action.
    pub rule: Option<&'a ListenerRule>,
}

impl ListenerRoute<'_> {
    /// `default action` or `rule 10 (path-pattern /api/*)`.
    pub fn via(&self) -> String {
        self.rule
            .map_or_else(|| "default action".to_string(), ListenerRule::label)
    }

    /// The ARN that proves the route: the rule's, else the listener's.
    pub fn arn(&self) -> &str {
        self.rule.map_or(&self.listener.arn, |r| &r.arn)
    }
}

/// Rule priorities are numbers in strings; sort them as numbers.
fn rule_order(priority: &str) -> (u64, &str) {
    (priority.parse().unwrap_or(u64::MAX), priority)
}

/// What an EKS cluster can run pods on.
#[derive(Debug, Clone)]
pub struct ClusterCompute<'a> {
    /// Managed nodegroups with a desired size above zero.
    pub nodegroups_with_nodes: Vec<&'a EksNodegroup>,
    pub active_fargate_profiles: Vec<&'a EksFargateProfile>,
    /// Running or pending EC2 instances tagged as its nodes (managed, self-managed, Karpenter).
    pub nodes_up: Vec<&'a Instance>,
    pub auto_mode: bool,
}

impl ClusterCompute<'_> {
    /// Compute other than Fargate: nodegroup nodes, tagged instances or Auto Mode.
    pub fn has_node_compute(&self) -> bool {
        !self.nodegroups_with_nodes.is_empty() || !self.nodes_up.is_empty() || self.auto_mode
    }

    pub fn is_empty(&self) -> bool {
        !self.has_node_compute() && self.active_fargate_profiles.is_empty()
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

/// ECS's default `maximumPercent` for rolling deployments.
const DEFAULT_MAXIMUM_PERCENT: i64 = 200;

/// The IPv4 addresses a workload will claim from its subnets beyond what it holds now, and
/// how that was derived. Computed once per ECS service and managed nodegroup in
/// [`Graph::build`]; read it with [`Graph::ip_demand`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IpDemand {
    /// An awsvpc ECS service's next deployment: every task it starts owns an ENI.
    Deploy(DeployDemand),
    /// An EKS managed nodegroup scaled to `maxSize`, each node holding as many addresses as
    /// the VPC CNI can give its largest instance type.
    NodegroupCeiling(NodegroupCeiling),
    /// An awsvpc ECS service scaled out to its Application Auto Scaling maximum.
    ServiceCeiling(ServiceCeiling),
    /// An awsvpc scheduled task: every firing starts `tasks` tasks, each with an address.
    Run { tasks: i64 },
    /// Running awsvpc standalone tasks: they hold their addresses already and ask for none.
    Held { tasks: i64 },
    /// Nothing to derive and nothing missing: the workload is not live, takes no addresses
    /// from a subnet (no awsvpc subnets, `maxSize` 0), or an EXTERNAL deployment controller
    /// sizes its deployments. The reason, in words.
    NotApplicable { reason: String },
    /// Derivable, but an input was not collected: the reason, in words (`instance types
    /// m5.large were not described`).
    Unknown { reason: String },
}

impl IpDemand {
    /// The addresses demanded; `None` when nothing was derived ([`IpDemand::NotApplicable`],
    /// [`IpDemand::Unknown`]).
    pub fn ips(&self) -> Option<i64> {
        match self {
            IpDemand::Deploy(d) => Some(d.ips()),
            IpDemand::NodegroupCeiling(c) => Some(c.ips()),
            IpDemand::ServiceCeiling(c) => Some(c.ips()),
            IpDemand::Run { tasks } => Some(*tasks),
            IpDemand::Held { .. } => Some(0),
            IpDemand::NotApplicable { .. } | IpDemand::Unknown { .. } => None,
        }
    }
}

/// How an ECS service deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeployStrategy {
    /// The ECS controller's rolling update, at this `maximumPercent` (200 when unset).
    Rolling { maximum_percent: i64 },
    /// CodeDeploy blue/green: a complete replacement task set starts before traffic shifts.
    BlueGreen,
}

/// What an awsvpc ECS service's next deployment asks its subnets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeployDemand {
    pub strategy: DeployStrategy,
    /// `desiredCount`, negative values read as 0.
    pub desired: i64,
    /// Extra tasks the deployment starts: ceil(desired × (maximumPercent − 100) / 100) for a
    /// rolling deploy (0 at `maximumPercent` ≤ 100), `desired` for blue/green.
    pub surge: i64,
    /// Tasks already pending (`pendingCount`, negative values read as 0): they need
    /// addresses too.
    pub pending: i64,
}

impl DeployDemand {
    /// Free IPs the deployment needs: the surge plus the pending tasks.
    pub fn ips(&self) -> i64 {
        self.surge + self.pending
    }
}

/// What an EKS managed nodegroup could claim at `maxSize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodegroupCeiling {
    pub max_size: i64,
    /// The instance type holding the most addresses per node (the last listed on a tie).
    pub instance_type: String,
    /// Its network interfaces × IPv4 addresses per interface.
    pub per_node: i64,
}

impl NodegroupCeiling {
    /// `max_size × per_node`.
    pub fn ips(&self) -> i64 {
        self.max_size * self.per_node
    }
}

/// What an autoscaled awsvpc ECS service could claim at its scale-out maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCeiling {
    /// `MaxCapacity` of the service's scalable target.
    pub max_capacity: i64,
    /// Tasks running now (their addresses are already taken, so not in the free count).
    pub running: i64,
}

impl ServiceCeiling {
    /// More addresses needed at the maximum: one per task beyond those running.
    pub fn ips(&self) -> i64 {
        (self.max_capacity - self.running).max(0)
    }
}

/// The autoscaling ceiling of a live awsvpc service that has a scalable target; `None`
/// when it has none (its desired count is all it will ask for).
fn service_ceiling(svc: &EcsService, idx: &Indexes<'_>) -> Option<IpDemand> {
    if !svc.is_live() || svc.subnet_ids().is_empty() {
        return None;
    }
    let id = ScalableTarget::ecs_resource_id(&svc.cluster_arn, &svc.name);
    let target = idx.scalable_targets.get(&key(&svc.scope, &id))?;
    Some(IpDemand::ServiceCeiling(ServiceCeiling {
        max_capacity: i64::from(target.max_capacity.max(0)),
        running: i64::from(svc.running_count.max(0)),
    }))
}

fn service_demand(svc: &EcsService) -> IpDemand {
    let not_applicable = |reason: String| IpDemand::NotApplicable { reason };
    if !svc.is_live() {
        return not_applicable(format!("service is {}", svc.status));
    }
    if svc.subnet_ids().is_empty() {
        return not_applicable("no awsvpc subnets".to_string());
    }
    let desired = i64::from(svc.desired_count.max(0));
    let pending = i64::from(svc.pending_count.max(0));
    let (strategy, surge) = match svc.controller().to_ascii_uppercase().as_str() {
        "ECS" => {
            let maximum_percent = svc
                .deployment_configuration
                .as_ref()
                .and_then(|d| d.maximum_percent)
                .map_or(DEFAULT_MAXIMUM_PERCENT, i64::from);
            // Ceiling division: ECS rounds the surge up to whole tasks.
            let surge = if maximum_percent > 100 {
                (desired * (maximum_percent - 100) + 99) / 100
            } else {
                0
            };
            (DeployStrategy::Rolling { maximum_percent }, surge)
        }
        // Blue/green starts a complete replacement task set before shifting traffic.
        "CODE_DEPLOY" => (DeployStrategy::BlueGreen, desired),
        // An external controller decides its own surge; nothing to compute.
        _ => {
            return not_applicable(format!(
                "deployment controller {} sizes its own deployments",
                svc.controller()
            ))
        }
    };
    IpDemand::Deploy(DeployDemand {
        strategy,
        desired,
        surge,
        pending,
    })
}

fn nodegroup_demand(ng: &EksNodegroup, idx: &Indexes<'_>) -> IpDemand {
    let not_applicable = |reason: String| IpDemand::NotApplicable { reason };
    if !ng.is_live() {
        return not_applicable(format!("nodegroup is {}", ng.status));
    }
    if ng.max_size <= 0 {
        return not_applicable(format!("maxSize {}", ng.max_size));
    }
    if ng.subnets.is_empty() {
        return not_applicable("no subnets".to_string());
    }
    // Per-node demand is the largest of the nodegroup's instance types; any unknown type
    // could be the largest, so no guess is made.
    let types: Vec<_> = ng
        .instance_types
        .iter()
        .map(|t| (t, idx.instance_types.get(&key(&ng.scope, t)).copied()))
        .collect();
    let unknown: Vec<&str> = types
        .iter()
        .filter(|(_, it)| it.is_none())
        .map(|(t, _)| t.as_str())
        .collect();
    if types.is_empty() {
        return IpDemand::Unknown {
            reason: "its instance types (set in a launch template) are not known".to_string(),
        };
    }
    if !unknown.is_empty() {
        return IpDemand::Unknown {
            reason: format!("instance types {} were not described", unknown.join(", ")),
        };
    }
    let largest = types
        .iter()
        .filter_map(|(name, it)| {
            let it = (*it)?;
            let ips = i64::from(it.maximum_network_interfaces.max(0))
                * i64::from(it.ipv4_addresses_per_interface.max(0));
            Some((name.as_str(), ips))
        })
        .max_by_key(|(_, ips)| *ips);
    match largest {
        Some((instance_type, per_node)) => IpDemand::NodegroupCeiling(NodegroupCeiling {
            max_size: i64::from(ng.max_size),
            instance_type: instance_type.to_string(),
            per_node,
        }),
        // Unreachable: the types are non-empty and all described.
        None => IpDemand::Unknown {
            reason: "its instance types are not known".to_string(),
        },
    }
}

/// The demands of every ECS service (its next deploy, then its autoscaling ceiling when it
/// has one), then of every managed nodegroup, in inventory order.
fn ip_demands<'a>(inv: &'a Inventory, idx: &Indexes<'a>) -> Vec<(Workload<'a>, IpDemand)> {
    let services = inv.ecs_services.iter().flat_map(|s| {
        let w = Workload::Ecs(EcsWorkload::Service(s));
        std::iter::once((w, service_demand(s))).chain(service_ceiling(s, idx).map(move |c| (w, c)))
    });
    let nodegroups = inv
        .eks_nodegroups
        .iter()
        .map(|n| (Workload::Nodegroup(n), nodegroup_demand(n, idx)));
    let scheduled = inv
        .scheduled_tasks
        .iter()
        .filter(|t| t.network.as_ref().is_some_and(|n| !n.subnets.is_empty()))
        .map(|t| {
            (
                Workload::Ecs(EcsWorkload::Scheduled(t)),
                IpDemand::Run {
                    tasks: i64::from(t.task_count.max(1)),
                },
            )
        });
    let standalone = inv
        .standalone_tasks
        .iter()
        .filter(|t| !t.subnets.is_empty())
        .map(|t| {
            (
                Workload::Ecs(EcsWorkload::Standalone(t)),
                IpDemand::Held {
                    tasks: t.task_arns.len() as i64,
                },
            )
        });
    services
        .chain(nodegroups)
        .chain(scheduled)
        .chain(standalone)
        .collect()
}

/// (account, region, id or name): EC2 ids and EKS names are unique only within one.
type Key<'a> = (&'a str, &'a str, &'a str);

fn key<'a>(scope: &'a Scope, id: &'a str) -> Key<'a> {
    (scope.account.as_str(), scope.region.as_str(), id)
}

/// Indexes `items` by (account, region, id); the first record of a key wins.
fn index<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    id: impl Fn(&'a T) -> (&'a Scope, &'a str),
) -> HashMap<Key<'a>, &'a T> {
    let mut map = HashMap::new();
    for item in items {
        let (scope, id) = id(item);
        map.entry(key(scope, id)).or_insert(item);
    }
    map
}

/// Lookups by id, built before the edges and facts that need them.
struct Indexes<'a> {
    vpcs: HashMap<Key<'a>, &'a Vpc>,
    subnets: HashMap<Key<'a>, &'a Subnet>,
    route_tables: HashMap<Key<'a>, &'a RouteTable>,
    nat_gateways: HashMap<Key<'a>, &'a NatGateway>,
    internet_gateways: HashMap<Key<'a>, &'a InternetGateway>,
    vpc_endpoints: HashMap<Key<'a>, &'a VpcEndpoint>,
    instances: HashMap<Key<'a>, &'a Instance>,
    instance_types: HashMap<Key<'a>, &'a InstanceType>,
    /// Application Auto Scaling targets of ECS services, by resource id
    /// (`service/<cluster>/<service>`).
    scalable_targets: HashMap<Key<'a>, &'a ScalableTarget>,
    eks_clusters: HashMap<Key<'a>, &'a EksCluster>,
    /// Explicit associations, by subnet id.
    explicit_tables: HashMap<Key<'a>, &'a RouteTable>,
    /// Main route tables, by VPC id.
    main_tables: HashMap<Key<'a>, &'a RouteTable>,
    /// Endpoints of every type and state, by VPC id.
    endpoints_by_vpc: HashMap<Key<'a>, Vec<&'a VpcEndpoint>>,
}

impl<'a> Indexes<'a> {
    fn new(inv: &'a Inventory) -> Self {
        let mut explicit_tables = HashMap::new();
        let mut main_tables = HashMap::new();
        for rt in &inv.route_tables {
            for subnet in &rt.subnet_ids {
                explicit_tables.entry(key(&rt.scope, subnet)).or_insert(rt);
            }
            if rt.main {
                main_tables.entry(key(&rt.scope, &rt.vpc_id)).or_insert(rt);
            }
        }
        let mut endpoints_by_vpc: HashMap<Key<'a>, Vec<&'a VpcEndpoint>> = HashMap::new();
        for ep in &inv.vpc_endpoints {
            endpoints_by_vpc
                .entry(key(&ep.scope, &ep.vpc_id))
                .or_default()
                .push(ep);
        }
        Indexes {
            vpcs: index(&inv.vpcs, |r| (&r.scope, &r.id)),
            subnets: index(&inv.subnets, |r| (&r.scope, &r.id)),
            route_tables: index(&inv.route_tables, |r| (&r.scope, &r.id)),
            nat_gateways: index(&inv.nat_gateways, |r| (&r.scope, &r.id)),
            internet_gateways: index(&inv.internet_gateways, |r| (&r.scope, &r.id)),
            vpc_endpoints: index(&inv.vpc_endpoints, |r| (&r.scope, &r.id)),
            instances: index(&inv.instances, |r| (&r.scope, &r.id)),
            instance_types: index(&inv.instance_types, |r| (&r.scope, &r.name)),
            scalable_targets: index(
                inv.ecs_scalable_targets
                    .iter()
                    .filter(|t| t.scalable_dimension == "ecs:service:DesiredCount"),
                |r| (&r.scope, &r.resource_id),
            ),
            eks_clusters: index(&inv.eks_clusters, |r| (&r.scope, &r.name)),
            explicit_tables,
            main_tables,
            endpoints_by_vpc,
        }
    }

    /// The subnet's effective route table: its explicit association, else the main table of
    /// its *own* VPC (never another VPC's main table).
    fn effective_table(&self, subnet: &'a Subnet) -> (Option<&'a RouteTable>, Association) {
        if let Some(rt) = self.explicit_tables.get(&key(&subnet.scope, &subnet.id)) {
            return (Some(rt), Association::Explicit);
        }
        match self.main_tables.get(&key(&subnet.scope, &subnet.vpc_id)) {
            Some(rt) => (Some(rt), Association::Main),
            None => (None, Association::Missing),
        }
    }

    /// The ARN of a subnet, VPC, gateway … referenced by id: the collected record's own ARN
    /// when there is one, else the synthetic ARN the id implies.
    fn ec2_arn(&self, scope: &Scope, target: &RouteTarget) -> Option<String> {
        let id = target.id()?;
        let k = key(scope, id);
        let (kind, known) = match target {
            RouteTarget::Local => return None,
            RouteTarget::InternetGateway(_) => (
                "internet-gateway",
                self.internet_gateways.get(&k).map(|r| r.arn.as_str()),
            ),
            RouteTarget::NatGateway(_) => (
                "natgateway",
                self.nat_gateways.get(&k).map(|r| r.arn.as_str()),
            ),
            RouteTarget::GatewayEndpoint(_) => (
                "vpc-endpoint",
                self.vpc_endpoints.get(&k).map(|r| r.arn.as_str()),
            ),
            RouteTarget::Instance(_) => {
                ("instance", self.instances.get(&k).map(|r| r.arn.as_str()))
            }
            RouteTarget::EgressOnlyInternetGateway(_) => ("egress-only-internet-gateway", None),
            RouteTarget::TransitGateway(_) => ("transit-gateway", None),
            RouteTarget::VpcPeering(_) => ("vpc-peering-connection", None),
            RouteTarget::NetworkInterface(_) => ("network-interface", None),
            RouteTarget::VirtualPrivateGateway(_) => ("vpn-gateway", None),
            RouteTarget::CarrierGateway(_) => ("carrier-gateway", None),
            RouteTarget::LocalGateway(_) => ("local-gateway", None),
            RouteTarget::CoreNetwork(_) => ("core-network", None),
            RouteTarget::Other(_) => ("route-target", None),
        };
        Some(known.map_or_else(|| scope.ec2_arn(kind, id), str::to_string))
    }

    fn subnet_arn(&self, scope: &Scope, id: &str) -> String {
        self.subnets
            .get(&key(scope, id))
            .map_or_else(|| scope.ec2_arn("subnet", id), |s| s.arn.clone())
    }

    fn route_table_arn(&self, scope: &Scope, id: &str) -> String {
        self.route_tables
            .get(&key(scope, id))
            .map_or_else(|| scope.ec2_arn("route-table", id), |r| r.arn.clone())
    }

    fn vpc_arn(&self, scope: &Scope, id: &str) -> String {
        self.vpcs
            .get(&key(scope, id))
            .map_or_else(|| scope.ec2_arn("vpc", id), |v| v.arn.clone())
    }

    fn eks_cluster_arn(&self, scope: &Scope, name: &str) -> String {
        self.eks_clusters.get(&key(scope, name)).map_or_else(
            || {
                format!(
                    "arn:{}:eks:{}:{}:cluster/{}",
                    scope.partition(),
                    scope.region,
                    scope.account,
                    name
                )
            },
            |c| c.arn.clone(),
        )
    }

    /// Classifies the IPv4 default route of `rt` for a subnet of `vpc_id`. With
    /// `follow_nat == false`, a NAT gateway target is not followed (it comes back as
    /// `Indirect`): that is how a NAT gateway's own subnet is classified, which must reach an
    /// internet gateway directly, and it keeps the classification free of recursion.
    fn classify(
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

    fn classify_target(
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

    fn classify_nat(&self, scope: &Scope, id: &str) -> (Egress, String) {
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

/// Generates `fn NAME(&self, arn) -> Option<&'a TYPE>`: the collected record of one kind.
macro_rules! typed_lookups {
    ($($name:ident -> $variant:ident($ty:ty)),* $(,)?) => {
        $(
            #[doc = concat!("The collected `", stringify!($ty), "` with this ARN.")]
            pub fn $name(&self, arn: &str) -> Option<&'a $ty> {
                match self.node(arn)? {
                    Node::$variant(r) => Some(r),
                    _ => None,
                }
            }
        )*
    };
}

/// The resource graph over one inventory.
pub struct Graph<'a> {
    inventory: &'a Inventory,
    nodes: BTreeMap<&'a str, Node<'a>>,
    /// Sorted, without duplicates.
    edges: Vec<Edge>,
    outgoing: HashMap<String, Vec<usize>>,
    incoming: HashMap<String, Vec<usize>>,
    idx: Indexes<'a>,
    /// By subnet ARN.
    subnet_facts: BTreeMap<&'a str, SubnetFacts<'a>>,
    /// Every ECS service and managed nodegroup with its demand, in inventory order.
    ip_demands: Vec<(Workload<'a>, IpDemand)>,
    /// Index into `ip_demands` by workload ARN; the first record of an ARN wins.
    ip_demand_by_arn: HashMap<&'a str, Vec<usize>>,
    /// Every ECS workload of the live services.
    ecs_workloads: Vec<EcsWorkload<'a>>,
    /// Index into `ecs_workloads` by the target groups a workload registers in.
    workloads_by_target_group: HashMap<&'a str, Vec<usize>>,
    iam: iam::IamFacts<'a>,
    /// By target group ARN, for those whose health was collected.
    target_health: HashMap<&'a str, TargetGroupHealth<'a>>,
}

impl<'a> Graph<'a> {
    pub fn build(inventory: &'a Inventory) -> Graph<'a> {
        let idx = Indexes::new(inventory);
        let nodes = collect_nodes(inventory);
        let iam = iam::IamFacts::new(inventory);
        let mut edges = collect_edges(inventory, &idx);
        edges.extend(iam.edges(inventory));
        edges.sort();
        edges.dedup();
        let mut outgoing: HashMap<String, Vec<usize>> = HashMap::new();
        let mut incoming: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in edges.iter().enumerate() {
            outgoing.entry(e.from.clone()).or_default().push(i);
            incoming.entry(e.to.clone()).or_default().push(i);
        }
        let ecs_workloads = ecs_workload::ecs_workloads(inventory);
        let mut workloads_by_target_group: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in ecs_workloads.iter().enumerate() {
            let mut seen: Vec<&str> = Vec::new();
            for tg in w.target_group_arns() {
                if !seen.contains(&tg) {
                    seen.push(tg);
                    workloads_by_target_group.entry(tg).or_default().push(i);
                }
            }
        }
        let subnet_facts = subnet_facts(inventory, &idx, &ecs_workloads);
        let ip_demands = ip_demands(inventory, &idx);
        let mut ip_demand_by_arn: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (w, _)) in ip_demands.iter().enumerate() {
            ip_demand_by_arn.entry(w.arn()).or_default().push(i);
        }
        Graph {
            ecs_workloads,
            workloads_by_target_group,
            inventory,
            nodes,
            edges,
            outgoing,
            incoming,
            idx,
            subnet_facts,
            ip_demands,
            ip_demand_by_arn,
            iam,
            target_health: elb::target_health(inventory),
        }
    }

    pub fn inventory(&self) -> &'a Inventory {
        self.inventory
    }

    /// The collected record with this ARN.
    pub fn node(&self, arn: &str) -> Option<Node<'a>> {
        self.nodes.get(arn).copied()
    }

    /// Every edge, sorted.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// ARNs that `from` points at through edges of `kind`.
    pub fn outgoing(&self, from: &str, kind: EdgeKind) -> impl Iterator<Item = &str> + '_ {
        self.outgoing
            .get(from)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
            .filter(move |e| e.kind == kind)
            .map(|e| e.to.as_str())
    }

    /// ARNs that point at `to` through edges of `kind`.
    pub fn incoming(&self, to: &str, kind: EdgeKind) -> impl Iterator<Item = &str> + '_ {
        self.incoming
            .get(to)
            .into_iter()
            .flatten()
            .map(|&i| &self.edges[i])
            .filter(move |e| e.kind == kind)
            .map(|e| e.from.as_str())
    }

    typed_lookups! {
        ecs_service -> EcsService(EcsService),
        ecs_cluster -> EcsCluster(EcsCluster),
        task_definition -> TaskDefinition(TaskDefinition),
        target_group -> TargetGroup(TargetGroup),
        eks_cluster -> EksCluster(EksCluster),
        eks_nodegroup -> EksNodegroup(EksNodegroup),
        fargate_profile -> EksFargateProfile(EksFargateProfile),
        instance -> Instance(Instance),
    }

    pub fn eks_cluster_named(&self, scope: &Scope, name: &str) -> Option<&'a EksCluster> {
        self.idx.eks_clusters.get(&key(scope, name)).copied()
    }

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

    /// The IPs the ECS service or managed nodegroup with this ARN demands: a service's next
    /// deploy, then its autoscaling ceiling if it has one; a nodegroup's ceiling. Empty for
    /// any other ARN.
    pub fn ip_demands_of(&self, workload_arn: &str) -> impl Iterator<Item = &IpDemand> {
        self.ip_demand_by_arn
            .get(workload_arn)
            .into_iter()
            .flatten()
            .map(|&i| &self.ip_demands[i].1)
    }

    /// Every ECS service, then every managed nodegroup, in inventory order (not only live
    /// ones), each with its demand.
    pub fn ip_demands(&self) -> impl Iterator<Item = (Workload<'a>, &IpDemand)> {
        self.ip_demands.iter().map(|(w, d)| (*w, d))
    }

    /// Live ECS services whose awsvpc tasks run in the subnet.
    pub fn services_using_subnet(&self, subnet_arn: &str) -> Vec<&'a EcsService> {
        self.incoming(subnet_arn, EdgeKind::ServiceSubnet)
            .filter_map(|arn| self.ecs_service(arn))
            .filter(|s| s.is_live())
            .collect()
    }

    /// The load balancers a target group sits behind: those its `LoadBalancerArns` lists and
    /// those whose listeners or rules forward to it, sorted.
    pub fn load_balancers_of(&self, tg_arn: &str) -> Vec<&str> {
        self.outgoing(tg_arn, EdgeKind::TargetGroupLoadBalancer)
            .collect()
    }

    /// Every route by which a listener sends traffic to the target group: its default action,
    /// or one of its rules (weight 0 forwards carry nothing and are not routes), in listener
    /// ARN then rule priority order.
    pub fn routes_to(&self, tg_arn: &str) -> Vec<ListenerRoute<'a>> {
        let mut routes: Vec<ListenerRoute<'a>> = self
            .incoming(tg_arn, EdgeKind::ListenerTargetGroup)
            .filter_map(|arn| match self.node(arn)? {
                Node::Listener(l) => Some(ListenerRoute {
                    listener: l,
                    rule: None,
                }),
                _ => None,
            })
            .collect();
        for arn in self.incoming(tg_arn, EdgeKind::RuleTargetGroup) {
            let Some(Node::ListenerRule(rule)) = self.node(arn) else {
                continue;
            };
            if let Some(Node::Listener(listener)) = self.node(&rule.listener_arn) {
                routes.push(ListenerRoute {
                    listener,
                    rule: Some(rule),
                });
            }
        }
        routes.sort_by(|a, b| {
            (
                a.listener.arn.as_str(),
                a.rule.map(|r| rule_order(&r.priority)),
            )
                .cmp(&(
                    b.listener.arn.as_str(),
                    b.rule.map(|r| rule_order(&r.priority)),
                ))
        });
        routes
    }

    /// Every ECS workload of the live services: each service, or for a service that
    /// reports task sets, each PRIMARY and ACTIVE task set (primary first).
    pub fn ecs_workloads(&self) -> &[EcsWorkload<'a>] {
        &self.ecs_workloads
    }

    /// ECS workloads whose tasks register in the target group.
    pub fn workloads_on_target_group(&self, tg_arn: &str) -> Vec<EcsWorkload<'a>> {
        self.workloads_by_target_group
            .get(tg_arn)
            .into_iter()
            .flatten()
            .map(|&i| self.ecs_workloads[i])
            .collect()
    }

    /// ECS workloads whose awsvpc tasks are meant to register in `tg` although it is of
    /// target type `instance`: its targets can never be those tasks, so whatever else is
    /// wrong with the group (no healthy targets) follows from that one mistake.
    pub fn awsvpc_workloads_on_instance_group(&self, tg: &TargetGroup) -> Vec<EcsWorkload<'a>> {
        if !tg.is_instance_type() {
            return Vec::new();
        }
        self.workloads_on_target_group(&tg.arn)
            .into_iter()
            .filter(|w| {
                self.task_definition(w.task_definition())
                    .is_some_and(TaskDefinition::is_awsvpc)
            })
            .collect()
    }

    /// Whether an `ip` target group health-checks a fixed port that no container of a
    /// workload registering in it maps (and that is not the port it registers): its targets
    /// fail every health check, so its having no healthy target follows from that mistake.
    pub fn health_check_misses_containers(&self, tg: &TargetGroup) -> bool {
        let Some(hc_port) = tg.fixed_health_check_port().filter(|_| tg.is_ip_type()) else {
            return false;
        };
        self.workloads_on_target_group(&tg.arn).iter().any(|w| {
            let Some(td) = self.task_definition(w.task_definition()) else {
                return false;
            };
            w.load_balancers()
                .iter()
                .filter(|lb| lb.target_group_arn.as_deref() == Some(tg.arn.as_str()))
                .any(|lb| {
                    lb.registered_port(Some(td)) != Some(hc_port)
                        && !td.mapped_ports().contains(&hc_port)
                })
        })
    }

    /// Target groups of the workload's `loadBalancers` that were collected.
    pub fn workload_target_groups(&self, w: &EcsWorkload<'_>) -> Vec<&'a TargetGroup> {
        let mut seen: Vec<&str> = Vec::new();
        w.target_group_arns()
            .filter(|arn| {
                let fresh = !seen.contains(arn);
                seen.push(arn);
                fresh
            })
            .filter_map(|arn| self.target_group(arn))
            .collect()
    }

    /// Target groups of the service's `loadBalancers` that were collected.
    pub fn service_target_groups(&self, service: &EcsService) -> Vec<&'a TargetGroup> {
        self.outgoing(&service.arn, EdgeKind::ServiceTargetGroup)
            .filter_map(|arn| self.target_group(arn))
            .collect()
    }

    /// Collected managed nodegroups of the cluster.
    pub fn nodegroups_of(&self, cluster_arn: &str) -> Vec<&'a EksNodegroup> {
        self.incoming(cluster_arn, EdgeKind::NodegroupCluster)
            .filter_map(|arn| self.eks_nodegroup(arn))
            .collect()
    }

    /// Collected Fargate profiles of the cluster.
    pub fn fargate_profiles_of(&self, cluster_arn: &str) -> Vec<&'a EksFargateProfile> {
        self.incoming(cluster_arn, EdgeKind::FargateProfileCluster)
            .filter_map(|arn| self.fargate_profile(arn))
            .collect()
    }

    /// EC2 instances tagged as nodes of the cluster, in any state.
    pub fn nodes_of(&self, cluster_arn: &str) -> Vec<&'a Instance> {
        self.incoming(cluster_arn, EdgeKind::InstanceEksCluster)
            .filter_map(|arn| self.instance(arn))
            .collect()
    }

    /// What the cluster can run pods on, as far as the inventory shows. Absence here proves
    /// nothing unless the nodegroup, Fargate profile and instance calls all succeeded.
    pub fn cluster_compute(&self, cluster: &'a EksCluster) -> ClusterCompute<'a> {
        ClusterCompute {
            nodegroups_with_nodes: self
                .nodegroups_of(&cluster.arn)
                .into_iter()
                .filter(|n| n.desired_size > 0)
                .collect(),
            active_fargate_profiles: self
                .fargate_profiles_of(&cluster.arn)
                .into_iter()
                .filter(|p| p.is_active())
                .collect(),
            nodes_up: self
                .nodes_of(&cluster.arn)
                .into_iter()
                .filter(|i| i.is_up())
                .collect(),
            auto_mode: cluster.auto_mode_compute,
        }
    }

    /// The EKS cluster a target group's load balancer controller tag names, if collected.
    pub fn target_group_cluster(&self, tg: &TargetGroup) -> Option<&'a EksCluster> {
        self.outgoing(&tg.arn, EdgeKind::TargetGroupEksCluster)
            .find_map(|arn| self.eks_cluster(arn))
    }

    /// Whether the service's tasks run on Fargate: launch type `FARGATE`, or a capacity
    /// provider strategy (the service's, else its cluster's default) made only of
    /// `FARGATE` / `FARGATE_SPOT`. Matters because on the EC2 launch type the container
    /// instance, not the task's subnet, pulls the images.
    pub fn runs_on_fargate(&self, w: &EcsWorkload<'_>) -> bool {
        if let Some(launch) = w.launch_type() {
            return launch.eq_ignore_ascii_case("FARGATE");
        }
        if let Some(provider) = w.placed_by() {
            return provider.to_ascii_uppercase().starts_with("FARGATE");
        }
        let strategy = if w.capacity_provider_strategy().is_empty() {
            match self.ecs_cluster(w.cluster_arn()) {
                Some(c) => c.default_capacity_provider_strategy.as_slice(),
                None => &[],
            }
        } else {
            w.capacity_provider_strategy()
        };
        !strategy.is_empty()
            && strategy.iter().all(|p| {
                p.capacity_provider
                    .to_ascii_uppercase()
                    .starts_with("FARGATE")
            })
    }
}

fn collect_nodes(inv: &Inventory) -> BTreeMap<&str, Node<'_>> {
    let mut nodes = BTreeMap::new();
    macro_rules! add {
        ($($field:ident => $variant:ident),* $(,)?) => {
            $(for r in &inv.$field {
                nodes.entry(r.arn.as_str()).or_insert(Node::$variant(r));
            })*
        };
    }
    add!(
        ecs_clusters => EcsCluster,
        ecs_services => EcsService,
        task_definitions => TaskDefinition,
        eks_clusters => EksCluster,
        eks_nodegroups => EksNodegroup,
        eks_fargate_profiles => EksFargateProfile,
        load_balancers => LoadBalancer,
        listeners => Listener,
        listener_rules => ListenerRule,
        target_groups => TargetGroup,
        vpcs => Vpc,
        subnets => Subnet,
        route_tables => RouteTable,
        nat_gateways => NatGateway,
        internet_gateways => InternetGateway,
        vpc_endpoints => VpcEndpoint,
        instances => Instance,
        iam_roles => IamRole,
        oidc_providers => OidcProvider,
    );
    nodes
}

fn collect_edges(inv: &Inventory, idx: &Indexes<'_>) -> Vec<Edge> {
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

fn subnet_facts<'a>(
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

mod ecs_workload;
mod elb;
mod iam;
pub use ecs_workload::EcsWorkload;
pub use elb::{serving, TargetGroupHealth};

#[cfg(test)]
mod tests;
