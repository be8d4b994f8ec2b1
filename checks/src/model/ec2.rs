//! EC2 networking records (VPCs, subnets, route tables, NAT and internet gateways, VPC
//! endpoints) and instances.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Scope;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vpc {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub cidr_block: Option<String>,
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Subnet {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub vpc_id: String,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    /// As reported by EC2; emulators may report negative numbers.
    pub available_ip_address_count: i64,
    pub map_public_ip_on_launch: bool,
}

impl Subnet {
    /// Usable addresses in the subnet's IPv4 CIDR (AWS reserves five per subnet).
    pub fn usable_ips(&self) -> Option<i64> {
        let prefix: u32 = self
            .cidr_block
            .as_deref()?
            .split('/')
            .nth(1)?
            .parse()
            .ok()?;
        if prefix > 32 {
            return None;
        }
        Some((1i64 << (32 - prefix)) - 5)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouteTable {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub vpc_id: String,
    /// This is its VPC's main route table.
    pub main: bool,
    /// Subnets explicitly associated with this table.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub destination_cidr: Option<String>,
    pub destination_ipv6_cidr: Option<String>,
    pub destination_prefix_list: Option<String>,
    pub target: RouteTarget,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

impl Route {
    pub fn is_active(&self) -> bool {
        self.state.as_deref() != Some("blackhole")
    }
    /// An IPv4 default route (0.0.0.0/0).
    pub fn is_ipv4_default(&self) -> bool {
        self.destination_cidr.as_deref() == Some("0.0.0.0/0")
    }
}

/// Where a route sends traffic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RouteTarget {
    Local,
    InternetGateway(String),
    EgressOnlyInternetGateway(String),
    NatGateway(String),
    TransitGateway(String),
    VpcPeering(String),
    NetworkInterface(String),
    Instance(String),
    VirtualPrivateGateway(String),
    /// A gateway VPC endpoint (S3, DynamoDB), reached through its prefix list.
    GatewayEndpoint(String),
    CarrierGateway(String),
    LocalGateway(String),
    CoreNetwork(String),
    Other(String),
}

impl RouteTarget {
    /// The target's resource id (`igw-…`, `nat-…`), if it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            RouteTarget::Local => None,
            RouteTarget::InternetGateway(id)
            | RouteTarget::EgressOnlyInternetGateway(id)
            | RouteTarget::NatGateway(id)
            | RouteTarget::TransitGateway(id)
            | RouteTarget::VpcPeering(id)
            | RouteTarget::NetworkInterface(id)
            | RouteTarget::Instance(id)
            | RouteTarget::VirtualPrivateGateway(id)
            | RouteTarget::GatewayEndpoint(id)
            | RouteTarget::CarrierGateway(id)
            | RouteTarget::LocalGateway(id)
            | RouteTarget::CoreNetwork(id)
            | RouteTarget::Other(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NatGateway {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// `pending`, `available`, `failed`, `deleting`, `deleted`.
    pub state: String,
    /// `public` (default) or `private`.
    pub connectivity_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InternetGateway {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub attached_vpcs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VpcEndpoint {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub vpc_id: String,
    /// `com.amazonaws.us-east-1.ecr.dkr`.
    pub service_name: String,
    /// `Interface`, `Gateway`, `GatewayLoadBalancer`.
    pub endpoint_type: String,
    /// Lowercase as AWS reports it: `available`, `pending`, `deleted`, ….
    pub state: String,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub private_dns_enabled: bool,
    /// The endpoint policy document, as returned (JSON text).
    pub policy_document: Option<String>,
}

impl VpcEndpoint {
    pub fn is_available(&self) -> bool {
        self.state.eq_ignore_ascii_case("available")
    }
    /// The short service name after the region: `ecr.dkr`, `s3`, `logs`. China regions name
    /// some services `cn.com.amazonaws.REGION.…` (ECR among them); both forms are stripped.
    pub fn short_service(&self) -> &str {
        let prefix = format!("com.amazonaws.{}.", self.scope.region);
        let name = self.service_name.as_str();
        name.strip_prefix("cn.")
            .and_then(|rest| rest.strip_prefix(prefix.as_str()))
            .or_else(|| name.strip_prefix(prefix.as_str()))
            .unwrap_or(name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Instance {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub instance_type: Option<String>,
    pub state: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    /// The security groups of its network interfaces (ids), in the order EC2 lists them.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Only the tags the checks read (cluster membership: `kubernetes.io/cluster/…`, `eks:…`,
    /// `aws:eks:…`, `karpenter.sh/…`); other tags are not kept.
    pub tags: BTreeMap<String, String>,
}

/// A VPC security group and its rules (`DescribeSecurityGroups`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecurityGroup {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: String,
    pub arn: String,
    pub name: String,
    pub vpc_id: Option<String>,
    /// `IpPermissions`: what it lets in.
    pub ingress: Vec<SgRule>,
    /// `IpPermissionsEgress`: what it lets out.
    pub egress: Vec<SgRule>,
}

/// One permission of a security group: a protocol and port range, and the peers it admits
/// (any of them).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SgRule {
    /// `-1` (every protocol), `tcp`, `udp`, `icmp`, or a protocol number.
    pub protocol: String,
    /// For TCP and UDP the first port of the range; absent with protocol `-1`.
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// IPv4 CIDR ranges.
    pub cidrs: Vec<String>,
    /// IPv6 CIDR ranges.
    pub ipv6_cidrs: Vec<String>,
    /// Security groups (`UserIdGroupPairs`): any interface with one of them.
    pub groups: Vec<String>,
    /// Managed prefix lists (`pl-…`).
    pub prefix_lists: Vec<String>,
}

/// Networking limits of an EC2 instance type, for per-node IP demand.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceType {
    #[serde(flatten)]
    pub scope: Scope,
    pub name: String,
    pub maximum_network_interfaces: i32,
    pub ipv4_addresses_per_interface: i32,
}

impl NatGateway {
    pub fn is_available(&self) -> bool {
        self.state.eq_ignore_ascii_case("available")
    }

    /// `public` is the default connectivity type.
    pub fn is_public(&self) -> bool {
        self.connectivity_type
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case("public"))
    }
}

impl VpcEndpoint {
    pub fn is_gateway(&self) -> bool {
        self.endpoint_type.eq_ignore_ascii_case("Gateway")
    }

    pub fn is_interface(&self) -> bool {
        self.endpoint_type.eq_ignore_ascii_case("Interface")
    }
}

/// Tag keys whose *value* names the EKS cluster an instance belongs to (EKS managed
/// nodegroups, Karpenter and eksctl set one or more of them).
pub const EKS_CLUSTER_NAME_TAGS: [&str; 3] = [
    "eks:cluster-name",
    "aws:eks:cluster-name",
    "eks:eks-cluster-name",
];

/// Tag key prefix whose *suffix* names the cluster (`kubernetes.io/cluster/prod` = `owned` or
/// `shared`), the convention of the cloud provider, self-managed nodes and Karpenter.
pub const KUBERNETES_CLUSTER_TAG_PREFIX: &str = "kubernetes.io/cluster/";

impl Instance {
    /// `pending` or `running`: the instance holds IPs and can run pods.
    pub fn is_up(&self) -> bool {
        self.state.eq_ignore_ascii_case("running") || self.state.eq_ignore_ascii_case("pending")
    }

    /// Names of the EKS clusters the instance's tags make it a node of, sorted, no repeats.
    pub fn eks_cluster_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .tags
            .iter()
            .filter_map(|(k, v)| {
                if let Some(name) = k.strip_prefix(KUBERNETES_CLUSTER_TAG_PREFIX) {
                    let role = v.to_ascii_lowercase();
                    (role == "owned" || role == "shared").then_some(name)
                } else if EKS_CLUSTER_NAME_TAGS.contains(&k.as_str()) {
                    Some(v.as_str())
                } else {
                    None
                }
            })
            .filter(|name| !name.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The managed nodegroup that launched the instance (`eks:nodegroup-name`).
    pub fn eks_nodegroup_name(&self) -> Option<&str> {
        self.tags.get("eks:nodegroup-name").map(String::as_str)
    }
}

impl Subnet {
    /// Free addresses, with the negative counts emulators report clamped to zero.
    pub fn free_ips_clamped(&self) -> i64 {
        self.available_ip_address_count.max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;

    fn endpoint(region: &str, service_name: &str) -> VpcEndpoint {
        VpcEndpoint {
            scope: Scope::new("111122223333", region),
            id: "vpce-1".into(),
            arn: String::new(),
            vpc_id: "vpc-1".into(),
            service_name: service_name.into(),
            endpoint_type: "Interface".into(),
            state: "available".into(),
            route_table_ids: vec![],
            subnet_ids: vec![],
            private_dns_enabled: true,
            policy_document: None,
        }
    }

    #[test]
    fn short_service_strips_both_prefixes() {
        assert_eq!(
            endpoint("us-east-1", "com.amazonaws.us-east-1.ecr.dkr").short_service(),
            "ecr.dkr"
        );
        assert_eq!(
            endpoint("cn-north-1", "cn.com.amazonaws.cn-north-1.ecr.api").short_service(),
            "ecr.api"
        );
        assert_eq!(
            endpoint("cn-north-1", "com.amazonaws.cn-north-1.s3").short_service(),
            "s3"
        );
        assert_eq!(
            endpoint("us-east-1", "aws.sagemaker.us-east-1.notebook").short_service(),
            "aws.sagemaker.us-east-1.notebook"
        );
    }
}
