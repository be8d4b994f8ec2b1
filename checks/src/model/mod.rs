//! The inventory: plain owned records of everything the collector read.
//!
//! AWS SDK types stop at the collector; everything past it works on these structs. Every
//! record carries the account and region it came from (IAM records use the region
//! [`GLOBAL_REGION`]), so inventories of several accounts can be merged. Field names follow
//! the AWS APIs; `Option` means the API may leave the value out, and the checks treat an
//! absent value the way AWS documents its default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod autoscaling;
mod coverage;
mod ec2;
mod ecr;
mod ecs;
mod eks;
mod elbv2;
mod iam;
mod image;
mod owners;
mod scheduled;
mod secrets;

pub use autoscaling::*;
pub use coverage::*;
pub use ec2::*;
pub use ecr::*;
pub use ecs::*;
pub use eks::*;
pub use elbv2::*;
pub use iam::*;
pub use image::*;
pub use owners::*;
pub use scheduled::*;
pub use secrets::*;

/// Region used for records of global services (IAM).
pub const GLOBAL_REGION: &str = "global";

/// Everything collected in one run, plus what could not be collected.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inventory {
    pub ecs_clusters: Vec<EcsCluster>,
    pub ecs_services: Vec<EcsService>,
    pub task_definitions: Vec<TaskDefinition>,
    /// ECS tasks started by EventBridge Scheduler schedules and EventBridge rules.
    #[serde(default)]
    pub scheduled_tasks: Vec<ScheduledTask>,
    /// Running ECS tasks no service, task set or schedule started.
    #[serde(default)]
    pub standalone_tasks: Vec<StandaloneTasks>,
    /// Application Auto Scaling targets of ECS services (their scale-out ceilings).
    pub ecs_scalable_targets: Vec<ScalableTarget>,
    /// The Auto Scaling group capacity providers the clusters use.
    #[serde(default)]
    pub ecs_capacity_providers: Vec<EcsCapacityProvider>,
    /// Instances registered to the ECS clusters.
    #[serde(default)]
    pub ecs_container_instances: Vec<EcsContainerInstance>,
    /// ECS account settings, where the collector read them.
    #[serde(default)]
    pub ecs_account_settings: Vec<EcsAccountSetting>,
    pub eks_clusters: Vec<EksCluster>,
    pub eks_nodegroups: Vec<EksNodegroup>,
    pub eks_fargate_profiles: Vec<EksFargateProfile>,
    /// EKS add-ons installed on the clusters.
    #[serde(default)]
    pub eks_addons: Vec<EksAddon>,
    /// The add-on versions EKS offers for the clusters' Kubernetes versions.
    #[serde(default)]
    pub eks_addon_versions: Vec<EksAddonVersions>,
    /// EKS Pod Identity associations of the clusters.
    #[serde(default)]
    pub eks_pod_identity_associations: Vec<EksPodIdentityAssociation>,
    /// Private ECR repositories, with their lifecycle and repository policies.
    #[serde(default)]
    pub ecr_repositories: Vec<EcrRepository>,
    /// Each region's private registry (its scanning configuration), where it has
    /// repositories.
    #[serde(default)]
    pub ecr_registries: Vec<EcrRegistry>,
    /// Each region's pull-through cache rules.
    #[serde(default)]
    pub ecr_pull_through_rules: Vec<EcrPullThroughRule>,
    pub load_balancers: Vec<LoadBalancer>,
    pub listeners: Vec<Listener>,
    /// Non-default rules of Application Load Balancer listeners.
    #[serde(default)]
    pub listener_rules: Vec<ListenerRule>,
    pub target_groups: Vec<TargetGroup>,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub nat_gateways: Vec<NatGateway>,
    pub internet_gateways: Vec<InternetGateway>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    /// VPC security groups with their rules.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    pub instances: Vec<Instance>,
    pub instance_types: Vec<InstanceType>,
    pub iam_roles: Vec<IamRole>,
    /// Customer managed policies (AWS managed ones are known by ARN, see `policy::aws_managed`).
    pub iam_policies: Vec<ManagedPolicy>,
    pub oidc_providers: Vec<OidcProvider>,
    /// The Secrets Manager secrets task definitions inject, as `DescribeSecret` answered.
    #[serde(default)]
    pub secret_lookups: Vec<SecretLookup>,
    /// The SSM parameters task definitions inject, as `DescribeParameters` answered.
    #[serde(default)]
    pub parameter_lookups: Vec<ParameterLookup>,
    /// The KMS keys those secrets and parameters are encrypted with.
    #[serde(default)]
    pub kms_key_lookups: Vec<KmsKeyLookup>,
    /// Pulls by workloads of other accounts (or of accounts already checked) from the
    /// repositories of this inventory: in a fleet run, what the repository checks learn
    /// of who pulls once the pulling workloads' records are gone. Empty otherwise: the
    /// graph finds pulls from the workloads themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ecr_pullers: Vec<EcrPuller>,
    /// The status of every (account, region, operation) the collector ran.
    pub coverage: Coverage,
    /// Tags of the resources findings are reported on (ECS services, task sets and
    /// clusters, EKS clusters and nodegroups, IAM roles, VPCs, subnets, VPC endpoints,
    /// target groups), by ARN. Suppressions match on them, `--owner-tag` reads them.
    /// A resource is absent when its tags were not read, empty when it has none.
    pub resource_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// When the data was collected (RFC 3339, UTC): the moment of a live run, the recording
    /// time of a replay. Date-relative checks judge against it, so a replay gives the same
    /// answer whenever it runs.
    pub collected_at: Option<String>,
}

macro_rules! inventory_lists {
    ($($field:ident),* $(,)?) => {
        impl Inventory {
            /// Appends another inventory's records and coverage to this one.
            pub fn merge(&mut self, other: Inventory) {
                $(self.$field.extend(other.$field);)*
                // Kept in the order they were left in (see `EcrPuller::rank`), not sorted.
                self.ecr_pullers.extend(other.ecr_pullers);
                self.coverage.extend(other.coverage);
                self.resource_tags.extend(other.resource_tags);
            }

            /// Orders every list by (account, region, identity) so that the inventory, and
            /// everything derived from it, is the same whatever order calls completed in.
            pub fn sort(&mut self) {
                $(self.$field.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));)*
            }
        }
    };
}

inventory_lists!(
    ecs_clusters,
    ecs_services,
    scheduled_tasks,
    standalone_tasks,
    task_definitions,
    ecs_scalable_targets,
    ecs_capacity_providers,
    ecs_container_instances,
    ecs_account_settings,
    eks_clusters,
    eks_nodegroups,
    eks_fargate_profiles,
    eks_addons,
    eks_addon_versions,
    eks_pod_identity_associations,
    ecr_repositories,
    ecr_registries,
    ecr_pull_through_rules,
    load_balancers,
    listeners,
    listener_rules,
    target_groups,
    vpcs,
    subnets,
    route_tables,
    nat_gateways,
    internet_gateways,
    vpc_endpoints,
    security_groups,
    instances,
    instance_types,
    iam_roles,
    iam_policies,
    oidc_providers,
    secret_lookups,
    parameter_lookups,
    kms_key_lookups,
);

/// Records sort by where they came from, then by identity.
pub trait SortKey {
    fn sort_key(&self) -> (&str, &str, &str);
}

macro_rules! sort_key {
    ($($ty:ty => $id:ident),* $(,)?) => {
        $(impl SortKey for $ty {
            fn sort_key(&self) -> (&str, &str, &str) {
                (&self.scope.account, &self.scope.region, &self.$id)
            }
        })*
    };
}

sort_key!(
    EcsCluster => arn, EcsService => arn, ScheduledTask => arn, StandaloneTasks => arn,
    TaskDefinition => arn, ScalableTarget => resource_id, EcsCapacityProvider => arn,
    EcsContainerInstance => arn,
    EcsAccountSetting => name,
    EksCluster => arn,
    EksNodegroup => arn, EksFargateProfile => arn, EksAddon => arn, EksAddonVersions => key, EksPodIdentityAssociation => arn, EcrRepository => arn, EcrRegistry => arn, EcrPullThroughRule => prefix, LoadBalancer => arn, Listener => arn,
    ListenerRule => arn,
    TargetGroup => arn, Vpc => id, Subnet => id, RouteTable => id, NatGateway => id,
    InternetGateway => id, VpcEndpoint => id, SecurityGroup => id, Instance => id, InstanceType => name,
    IamRole => arn, ManagedPolicy => arn, OidcProvider => arn,
    SecretLookup => secret_id, ParameterLookup => name, KmsKeyLookup => key_id,
);

/// Where a record came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The ARN partition of this scope's region.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// A synthetic ARN for an EC2 resource the API identifies by id only
    /// (`arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0abc`).
    pub fn ec2_arn(&self, kind: &str, id: &str) -> String {
        format!(
            "arn:{}:ec2:{}:{}:{}/{}",
            self.partition(),
            self.region,
            self.account,
            kind,
            id
        )
    }
}

/// The ARN partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}
