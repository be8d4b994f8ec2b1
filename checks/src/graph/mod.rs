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
//!
//! This file holds the nodes, the edge kinds and the build; each service's facts and
//! lookups live beside it, as the model's do: `ecs.rs` (ECS workloads), `eks.rs`, `elb.rs`,
//! `vpc.rs` (subnet facts), `ip_demand.rs`, `iam.rs`, `secrets.rs` (what tasks inject), and `edges.rs` (every edge but IAM's).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::{
    EcrPuller, EcrRepository, EcsCluster, EcsContainerInstance, EcsService, EksCluster,
    EksFargateProfile, EksNodegroup, IamRole, Instance, InstanceType, InternetGateway, Inventory,
    Listener, ListenerRule, LoadBalancer, NatGateway, OidcProvider, RouteTable, RouteTarget,
    ScalableTarget, Scope, SecurityGroup, Subnet, TargetGroup, TaskDefinition, Vpc, VpcEndpoint,
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
    /// Task definition → a private ECR repository a container's image is in.
    TaskDefinitionEcrRepository,
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
    EcrRepository(&'a EcrRepository),
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
            Node::EcrRepository($r) => $e,
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
    /// Security groups by (account, region, id).
    security_groups: HashMap<Key<'a>, &'a SecurityGroup>,
    /// By target group ARN, for those whose health was collected.
    target_health: HashMap<&'a str, TargetGroupHealth<'a>>,
    /// What running ECS workloads pull from each ECR repository, by repository ARN.
    ecr_pulls: HashMap<String, Vec<EcrPull<'a>>>,
    /// Who pulls from each ECR repository, by repository ARN: the workloads above and the
    /// inventory's `ecr_pullers`, in workload order.
    repository_pullers: HashMap<String, Vec<EcrPuller>>,
    /// Container instances, by cluster ARN, in inventory order.
    container_instances: HashMap<&'a str, Vec<&'a EcsContainerInstance>>,
    /// What running ECS workloads inject, and the lookups that resolve it.
    secrets: secrets::SecretFacts<'a>,
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
        let ecs_workloads = ecs::ecs_workloads(inventory);
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
        let ecr_pulls = ecr::ecr_pulls(&ecs_workloads, |arn| match nodes.get(arn) {
            Some(Node::TaskDefinition(td)) => Some(*td),
            _ => None,
        });
        let repository_pullers = ecr::repository_pullers(&ecr_pulls, &inventory.ecr_pullers);
        let secrets =
            secrets::SecretFacts::new(inventory, &ecs_workloads, |arn| match nodes.get(arn) {
                Some(Node::TaskDefinition(td)) => Some(*td),
                _ => None,
            });
        let subnet_facts = subnet_facts(inventory, &idx, &ecs_workloads);
        let ip_demands = ip_demands(inventory, &idx);
        let mut ip_demand_by_arn: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (w, _)) in ip_demands.iter().enumerate() {
            ip_demand_by_arn.entry(w.arn()).or_default().push(i);
        }
        let mut container_instances: HashMap<&str, Vec<&EcsContainerInstance>> = HashMap::new();
        for ci in &inventory.ecs_container_instances {
            container_instances
                .entry(ci.cluster_arn.as_str())
                .or_default()
                .push(ci);
        }
        Graph {
            container_instances,
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
            security_groups: reach::security_group_index(&inventory.security_groups),
            target_health: elb::target_health(inventory),
            ecr_pulls,
            repository_pullers,
            secrets,
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
        ecr_repositories => EcrRepository,
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
mod ecr;
mod ecs;
mod edges;
mod eks;
mod elb;
mod iam;
mod ip_demand;
mod reach;
mod secrets;
mod vpc;

use edges::collect_edges;
use ip_demand::ip_demands;
use vpc::subnet_facts;

pub use ecr::{EcrPull, PulledImage};
pub use ecs::EcsWorkload;
pub use eks::ClusterCompute;
pub use elb::{
    serving, ListenerRoute, SlowStart, TargetGroupHealth, DEFAULT_HEALTH_CHECK_INTERVAL,
    DEFAULT_UNHEALTHY_THRESHOLD,
};
pub use ip_demand::{DeployDemand, DeployStrategy, IpDemand, NodegroupCeiling, ServiceCeiling};
pub use reach::{Blocked, PortRange, Reach, ReachOutcome, Side, DYNAMIC_PORTS};
pub use secrets::{Resolved, ResolvedKey, SecretUse};
pub use vpc::{Association, Egress, SubnetFacts};

#[cfg(test)]
mod tests;
