//! The inventory: plain owned records of everything the collector read.
//!
//! AWS SDK types stop at the collector; everything past it works on these structs. Every
//! record carries the account and region it came from (IAM records use the region
//! [`GLOBAL_REGION`]), so inventories of several accounts can be merged. Field names follow
//! the AWS APIs; `Option` means the API may leave the value out, and the checks treat an
//! absent value the way AWS documents its default.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::secrets::{ArgSecret, SecretKind};

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
    pub eks_clusters: Vec<EksCluster>,
    pub eks_nodegroups: Vec<EksNodegroup>,
    pub eks_fargate_profiles: Vec<EksFargateProfile>,
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
    pub instances: Vec<Instance>,
    pub instance_types: Vec<InstanceType>,
    pub iam_roles: Vec<IamRole>,
    /// Customer managed policies (AWS managed ones are known by ARN, see `policy::aws_managed`).
    pub iam_policies: Vec<ManagedPolicy>,
    pub oidc_providers: Vec<OidcProvider>,
    /// The status of every (account, region, operation) the collector ran.
    pub coverage: Coverage,
    /// Tags of the resources findings are reported on (ECS services and clusters, EKS
    /// clusters and nodegroups, IAM roles, subnets, VPC endpoints), by ARN. Suppressions
    /// match on them.
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
                self.coverage.entries.extend(other.coverage.entries);
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
    eks_clusters,
    eks_nodegroups,
    eks_fargate_profiles,
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
    instances,
    instance_types,
    iam_roles,
    iam_policies,
    oidc_providers,
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
    TaskDefinition => arn, ScalableTarget => resource_id,
    EksCluster => arn,
    EksNodegroup => arn, EksFargateProfile => arn, LoadBalancer => arn, Listener => arn,
    ListenerRule => arn,
    TargetGroup => arn, Vpc => id, Subnet => id, RouteTable => id, NatGateway => id,
    InternetGateway => id, VpcEndpoint => id, Instance => id, InstanceType => name,
    IamRole => arn, ManagedPolicy => arn, OidcProvider => arn,
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

// ---------------------------------------------------------------- ECS

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsCluster {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub status: String,
    /// Cluster settings (`containerInsights` → `enabled` / `enhanced` / `disabled`).
    pub settings: BTreeMap<String, String>,
    pub capacity_providers: Vec<String>,
    pub default_capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub active_services_count: i32,
    pub running_tasks_count: i32,
    pub registered_container_instances_count: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CapacityProviderItem {
    pub capacity_provider: String,
    pub weight: i32,
    pub base: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsService {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub status: String,
    /// `FARGATE`, `EC2`, `EXTERNAL`; absent when a capacity provider strategy is used.
    pub launch_type: Option<String>,
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    /// `REPLICA` (the default when absent) or `DAEMON`.
    pub scheduling_strategy: Option<String>,
    pub task_definition: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    /// `ECS` (the default when absent), `CODE_DEPLOY` or `EXTERNAL`.
    pub deployment_controller: Option<String>,
    pub deployment_configuration: Option<DeploymentConfiguration>,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// The awsvpc network configuration, when the service has one.
    pub network: Option<AwsVpcConfiguration>,
    pub deployments: Vec<EcsDeployment>,
    /// The most recent service events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Task sets of an EXTERNAL or CODE_DEPLOY service (`taskSets[]`): each runs its own
    /// task definition, network configuration and load balancers.
    #[serde(default)]
    pub task_sets: Vec<EcsTaskSet>,
}

/// Who starts a scheduled ECS task.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleSource {
    /// An EventBridge Scheduler schedule.
    Scheduler,
    /// A target of an EventBridge rule (on a schedule or an event pattern).
    EventsRule,
}

/// An ECS task started by EventBridge Scheduler or an EventBridge rule (RunTask on every
/// firing): a batch or cron job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduledTask {
    #[serde(flatten)]
    pub scope: Scope,
    /// The schedule's or the rule's ARN.
    pub arn: String,
    pub name: String,
    pub source: ScheduleSource,
    /// The schedule group, or the rule's event bus.
    pub group: Option<String>,
    /// The rule target's id (a rule may run several tasks); `None` for a schedule.
    pub target_id: Option<String>,
    /// `rate(…)`, `cron(…)`, `at(…)`; `None` for a rule that fires on an event pattern.
    pub schedule_expression: Option<String>,
    pub cluster_arn: String,
    /// As the target names it: a full ARN, `family:revision`, or a family (its latest
    /// ACTIVE revision); the collector resolves it to the revision it described.
    pub task_definition: String,
    pub launch_type: Option<String>,
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub platform_version: Option<String>,
    pub network: Option<AwsVpcConfiguration>,
    /// Tasks started per firing (1 when the target does not say).
    pub task_count: i32,
    /// Container overrides the target's input passes to RunTask (`containerOverrides`):
    /// they add to, or replace, what the task definition sets.
    #[serde(default)]
    pub overrides: Vec<ContainerOverride>,
}

/// What a RunTask input overrides in one container, without any value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ContainerOverride {
    /// The container's name.
    pub name: String,
    /// Environment variables set by the override (names and verdicts).
    pub environment: Vec<EnvVar>,
    /// Secrets in the override's `command`, when it replaces the command.
    pub command_secrets: Vec<ArgSecret>,
}

/// Running ECS tasks that no service, task set or schedule started (RunTask or StartTask by
/// hand, a CI job, another scheduler), grouped: one record per (cluster, task group, task
/// definition), since a job that runs many copies is one workload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StandaloneTasks {
    #[serde(flatten)]
    pub scope: Scope,
    /// A stable identity for the group: `<cluster ARN>/standalone/<group>`.
    pub arn: String,
    pub cluster_arn: String,
    /// The task group (`family:NAME` unless RunTask set one).
    pub group: String,
    pub task_definition: String,
    /// `startedBy` of the tasks, when they say.
    pub started_by: Option<String>,
    pub launch_type: Option<String>,
    /// The capacity provider the tasks run on, when one placed them.
    pub capacity_provider: Option<String>,
    /// The subnets of the tasks' network interfaces (awsvpc).
    pub subnets: Vec<String>,
    /// The running (or pending) tasks' ARNs.
    pub task_arns: Vec<String>,
}

/// A task set of a service on the EXTERNAL or CODE_DEPLOY deployment controller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsTaskSet {
    pub arn: String,
    /// `ecs-svc/1234567890123456789`.
    pub id: String,
    /// `PRIMARY` (serving production traffic), `ACTIVE` (not serving production traffic: a
    /// canary or the replacement being tested), `DRAINING`.
    pub status: String,
    pub task_definition: String,
    pub launch_type: Option<String>,
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub platform_version: Option<String>,
    pub network: Option<AwsVpcConfiguration>,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// Share of the service's desired count it runs (`scale.value`, PERCENT).
    pub scale_percent: Option<f64>,
    pub computed_desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
}

impl EcsTaskSet {
    /// PRIMARY and ACTIVE task sets run tasks that matter; DRAINING ones are going away.
    pub fn is_live(&self) -> bool {
        self.status.eq_ignore_ascii_case("PRIMARY") || self.status.eq_ignore_ascii_case("ACTIVE")
    }

    pub fn is_primary(&self) -> bool {
        self.status.eq_ignore_ascii_case("PRIMARY")
    }
}

impl EcsService {
    /// The deployment controller, with AWS's default applied.
    pub fn controller(&self) -> &str {
        self.deployment_controller.as_deref().unwrap_or("ECS")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeploymentConfiguration {
    pub maximum_percent: Option<i32>,
    pub minimum_healthy_percent: Option<i32>,
    pub circuit_breaker: Option<CircuitBreaker>,
    pub alarms: Option<DeploymentAlarms>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CircuitBreaker {
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeploymentAlarms {
    pub alarm_names: Vec<String>,
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: Option<String>,
    /// Classic load balancer name (no target group).
    pub load_balancer_name: Option<String>,
    pub container_name: Option<String>,
    pub container_port: Option<i32>,
}

impl ServiceLoadBalancer {
    /// The port ECS registers targets on: `containerPort`, else the first port mapping of
    /// the named container.
    pub fn registered_port(&self, td: Option<&TaskDefinition>) -> Option<i32> {
        self.container_port.or_else(|| {
            let name = self.container_name.as_deref()?;
            td?.containers
                .iter()
                .find(|c| c.name == name)?
                .port_mappings
                .iter()
                .find_map(|m| m.container_port)
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AwsVpcConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub assign_public_ip: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsDeployment {
    pub id: String,
    /// `PRIMARY`, `ACTIVE`, `INACTIVE`.
    pub status: String,
    pub task_definition: String,
    /// `COMPLETED`, `FAILED`, `IN_PROGRESS`.
    pub rollout_state: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub failed_tasks: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceEvent {
    /// RFC 3339.
    pub created_at: Option<String>,
    pub message: String,
}

/// An Application Auto Scaling target of an ECS service's desired count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScalableTarget {
    #[serde(flatten)]
    pub scope: Scope,
    /// `service/<cluster name>/<service name>`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
}

impl ScalableTarget {
    /// The resource id Application Auto Scaling uses for an ECS service.
    pub fn ecs_resource_id(cluster_arn: &str, service_name: &str) -> String {
        let cluster = cluster_arn.rsplit('/').next().unwrap_or(cluster_arn);
        format!("service/{cluster}/{service_name}")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskDefinition {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub family: String,
    pub revision: i32,
    /// `awsvpc`, `bridge`, `host`, `none`; absent means `bridge` on EC2 (Fargate requires awsvpc).
    pub network_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

impl TaskDefinition {
    pub fn is_awsvpc(&self) -> bool {
        self.network_mode.as_deref() == Some("awsvpc")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    /// AWS's default is `true`.
    pub essential: bool,
    pub port_mappings: Vec<PortMapping>,
    /// `environment[]`: each variable's name and the secret detector's verdict on its value.
    /// The value itself is never kept (see [`crate::secrets`]).
    pub environment: Vec<EnvVar>,
    /// Secrets found in the `command` arguments (positions from 1); no argument is kept.
    #[serde(default)]
    pub command_secrets: Vec<ArgSecret>,
    /// Secrets found in the `entryPoint` arguments.
    #[serde(default)]
    pub entry_point_secrets: Vec<ArgSecret>,
    /// `secrets[]`: name → `valueFrom` (Secrets Manager or SSM ARN/name).
    pub secrets: Vec<KeyValue>,
    pub has_health_check: bool,
    pub log_driver: Option<String>,
    /// `logConfiguration.options` (`awslogs-group`, `awslogs-region`, …).
    pub log_options: BTreeMap<String, String>,
    pub privileged: Option<bool>,
    pub capabilities_add: Vec<String>,
    pub readonly_root_filesystem: Option<bool>,
    pub user: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortMapping {
    pub container_port: Option<i32>,
    pub host_port: Option<i32>,
    pub protocol: Option<String>,
}

/// A container environment variable, without its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnvVar {
    pub name: String,
    /// Which kind of secret the value is, or `None` when it is not one.
    pub secret: Option<SecretKind>,
}

impl EnvVar {
    /// Judges `value` and keeps only the verdict.
    pub fn judge(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.to_string(),
            secret: crate::secrets::classify_env(name, value),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyValue {
    pub name: String,
    pub value: String,
}

/// Where an image is pulled from, as far as the pull path is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource<'s> {
    /// A private ECR registry in `region` (reachable through that region's ECR endpoints).
    Ecr { region: &'s str },
    /// A public registry only reachable over the internet (Docker Hub, ECR Public, ghcr.io…).
    Public,
    /// Any other registry: it may live inside the VPC or behind a private route.
    Other,
}

static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    // Classic (`.amazonaws.com`, `.amazonaws.com.cn`) and dual-stack (`dkr-ecr….on.aws`) hosts.
    Regex::new(
        r"^\d{12}\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$",
    )
    .expect("the ECR host pattern is valid")
});

/// Registries that serve only from the public internet. ECR interface endpoints do not serve
/// ECR Public; no VPC endpoint serves the others.
const PUBLIC_REGISTRIES: [&str; 14] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
    "public.ecr.aws",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.k8s.io",
    "mcr.microsoft.com",
    "registry.gitlab.com",
    "nvcr.io",
    "docker.elastic.co",
    "cgr.dev",
];
const PUBLIC_REGISTRY_SUFFIXES: [&str; 3] = [".gcr.io", ".pkg.dev", ".azurecr.io"];

/// Classifies an image reference (`nginx:latest`, `ghcr.io/o/app@sha256:…`,
/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1`).
pub fn image_source(image: &str) -> ImageSource<'_> {
    // Docker's rule: the first path component is a registry host only when it contains a
    // dot or a port, or is `localhost`; otherwise the image is on Docker Hub.
    let host = match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.split(':').next().unwrap_or(first)
        }
        _ => return ImageSource::Public,
    };
    if let Some(caps) = ECR_HOST.captures(host) {
        if let Some(region) = caps.get(1).or_else(|| caps.get(2)) {
            return ImageSource::Ecr {
                region: region.as_str(),
            };
        }
    }
    let host_lower = host.to_ascii_lowercase();
    if PUBLIC_REGISTRIES.contains(&host_lower.as_str())
        || PUBLIC_REGISTRY_SUFFIXES
            .iter()
            .any(|s| host_lower.ends_with(s))
    {
        ImageSource::Public
    } else {
        ImageSource::Other
    }
}

#[cfg(test)]
mod image_source_tests {
    use super::*;

    #[test]
    fn classifies_image_registries() {
        let ecr = |r| ImageSource::Ecr { region: r };
        for (image, want) in [
            ("nginx:latest", ImageSource::Public),
            ("nginx", ImageSource::Public),
            ("library/nginx@sha256:abc", ImageSource::Public),
            ("docker.io/library/nginx:1", ImageSource::Public),
            ("public.ecr.aws/nginx/nginx:1", ImageSource::Public),
            ("ghcr.io/org/app:2", ImageSource::Public),
            ("europe-docker.pkg.dev/p/r/app:1", ImageSource::Public),
            (
                "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1",
                ecr("us-east-1"),
            ),
            (
                "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web",
                ecr("cn-north-1"),
            ),
            (
                "111122223333.dkr.ecr-fips.us-east-2.amazonaws.com/web:1",
                ecr("us-east-2"),
            ),
            (
                "111122223333.dkr-ecr.eu-west-1.on.aws/web:1",
                ecr("eu-west-1"),
            ),
            ("registry.internal.example:5000/app:1", ImageSource::Other),
            ("localhost/app", ImageSource::Other),
            // Not an account id: not ECR.
            (
                "abc.dkr.ecr.us-east-1.amazonaws.com/web",
                ImageSource::Other,
            ),
        ] {
            assert_eq!(image_source(image), want, "{image}");
        }
    }
}

// ---------------------------------------------------------------- EKS

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksCluster {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `CREATING`, `ACTIVE`, `DELETING`, `FAILED`, `UPDATING`, `PENDING`.
    pub status: String,
    pub version: Option<String>,
    pub platform_version: Option<String>,
    pub role_arn: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub public_access_cidrs: Vec<String>,
    /// Control-plane log types that are enabled (`api`, `audit`, …).
    pub enabled_log_types: Vec<String>,
    pub secrets_encrypted: bool,
    pub oidc_issuer: Option<String>,
    /// EKS Auto Mode compute (`computeConfig.enabled`).
    pub auto_mode_compute: bool,
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksNodegroup {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub cluster_name: String,
    pub status: String,
    pub version: Option<String>,
    pub capacity_type: Option<String>,
    pub instance_types: Vec<String>,
    pub subnets: Vec<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksFargateProfile {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub cluster_name: String,
    pub status: String,
    pub subnets: Vec<String>,
    pub selectors: Vec<FargateSelector>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FargateSelector {
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

// ---------------------------------------------------------------- ELBv2

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadBalancer {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `application`, `network`, `gateway`.
    pub lb_type: Option<String>,
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub state: Option<String>,
    pub subnets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Listener {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: Option<i32>,
    pub protocol: Option<String>,
    /// Target groups the default actions forward to, with their weights.
    pub default_forwards: Vec<Forward>,
}

/// A target group a forward action sends traffic to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Forward {
    pub target_group_arn: String,
    /// Its weight in a weighted forward (`ForwardConfig`); `None` for a plain forward to one
    /// group, which takes all the traffic.
    pub weight: Option<i32>,
}

impl Forward {
    /// Whether the group gets any of the traffic: weight 0 parks a group (the idle colour of
    /// a blue/green pair) without sending it anything.
    pub fn carries_traffic(&self) -> bool {
        self.weight.is_none_or(|w| w > 0)
    }
}

/// A listener rule other than the default (`DescribeRules`; the default rule is the
/// listener's default action).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ListenerRule {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub listener_arn: String,
    /// `1`…`50000`, evaluated lowest first.
    pub priority: String,
    /// Its conditions, in words (`path-pattern /api/*`, `host-header api.example.com`).
    pub conditions: Vec<String>,
    /// Target groups its forward action sends to.
    pub forwards: Vec<Forward>,
}

impl ListenerRule {
    /// `rule 10 (path-pattern /api/*)`: how a rule is named in messages.
    pub fn label(&self) -> String {
        if self.conditions.is_empty() {
            format!("rule {}", self.priority)
        } else {
            format!("rule {} ({})", self.priority, self.conditions.join("; "))
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetGroup {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub health_check_port: Option<String>,
    pub health_check_path: Option<String>,
    /// `None` when the tags could not be read (see coverage), empty when there are none.
    pub tags: Option<BTreeMap<String, String>>,
    /// `None` when target health could not be read (see coverage).
    pub targets: Option<Vec<TargetHealth>>,
    /// `deregistration_delay.timeout_seconds` from the target group's attributes; `None` when
    /// the attributes could not be read (see coverage: elbv2:DescribeTargetGroupAttributes,
    /// scoped to the target group ARN).
    pub deregistration_delay_seconds: Option<i64>,
}

impl TargetGroup {
    /// The fixed health check port; `None` for `traffic-port` (also AWS's default when the
    /// field is absent) and for anything unparsable.
    pub fn fixed_health_check_port(&self) -> Option<i32> {
        let port = self.health_check_port.as_deref()?.trim();
        if port.eq_ignore_ascii_case("traffic-port") {
            return None;
        }
        port.parse().ok()
    }

    pub fn is_ip_type(&self) -> bool {
        self.target_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("ip"))
    }

    pub fn healthy_targets(&self) -> Option<usize> {
        self.targets
            .as_ref()
            .map(|t| t.iter().filter(|t| t.state == "healthy").count())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetHealth {
    pub id: String,
    pub port: Option<i32>,
    pub state: String,
    pub reason: Option<String>,
}

// ---------------------------------------------------------------- EC2 networking

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
    /// Only the tags the checks read (cluster membership: `kubernetes.io/cluster/…`, `eks:…`,
    /// `aws:eks:…`, `karpenter.sh/…`); other tags are not kept.
    pub tags: BTreeMap<String, String>,
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

// ---------------------------------------------------------------- IAM

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamRole {
    /// Region is [`GLOBAL_REGION`].
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub path: String,
    /// URL-decoded trust policy JSON.
    pub trust_policy: Option<String>,
    pub inline_policies: Vec<NamedPolicy>,
    pub attached_policy_arns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    /// URL-decoded policy JSON.
    pub document: String,
}

/// A customer managed policy with the document of its default version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManagedPolicy {
    /// Region is [`GLOBAL_REGION`].
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// URL-decoded JSON of the default version; `None` if IAM returned no default version.
    pub document: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OidcProvider {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    /// Without the scheme, as IAM returns it (`oidc.eks.us-east-1.amazonaws.com/id/ABC`).
    pub url: Option<String>,
}

// ---------------------------------------------------------------- coverage

/// How a collection call ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Ok,
    /// The credentials are not allowed to make the call.
    AccessDenied,
    /// The service or operation does not exist in this region or endpoint.
    NotAvailable,
    /// Anything else: throttled past the retry budget, server errors, timeouts, bad responses.
    Failed,
}

/// The outcome of one (account, region, operation), or of one scoped part of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageEntry {
    pub account: String,
    pub region: String,
    /// `ecs`, `eks`, `elbv2`, `ec2`, `iam`, `sts`.
    pub service: String,
    /// `DescribeServices`.
    pub operation: String,
    /// What the call was about when it is narrower than the region (a cluster ARN, a
    /// target group ARN); `None` for region-wide calls.
    pub scope: Option<String>,
    pub status: CallStatus,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

impl CoverageEntry {
    /// `ecs:DescribeServices`.
    pub fn op(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// Every collection outcome. Successful calls are kept once per (account, region,
/// operation); each failure is kept with its scope.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    pub entries: Vec<CoverageEntry>,
}

impl Coverage {
    /// Failures of any of `ops` (`"ecs:DescribeServices"`) in this account and region that
    /// affect `resource`: region-wide failures, and failures scoped to `resource` itself.
    /// With `resource == None`, every failure in the region counts.
    pub fn gaps<'a>(
        &'a self,
        account: &'a str,
        region: &'a str,
        ops: &'a [&'a str],
        resource: Option<&'a str>,
    ) -> impl Iterator<Item = &'a CoverageEntry> + 'a {
        self.entries.iter().filter(move |e| {
            e.status != CallStatus::Ok
                && e.account == account
                && e.region == region
                && ops.iter().any(|op| e.op() == *op)
                && match (resource, e.scope.as_deref()) {
                    (_, None) => true,
                    (None, Some(_)) => true,
                    (Some(r), Some(s)) => r == s,
                }
        })
    }

    /// True when none of `ops` failed for `resource` (or the whole region).
    pub fn complete(
        &self,
        account: &str,
        region: &str,
        ops: &[&str],
        resource: Option<&str>,
    ) -> bool {
        self.gaps(account, region, ops, resource).next().is_none()
    }

    /// Every failure.
    pub fn failures(&self) -> impl Iterator<Item = &CoverageEntry> {
        self.entries.iter().filter(|e| e.status != CallStatus::Ok)
    }
}

// ---------------------------------------------------------------- helpers for the graph and checks
//
// Kept apart from the record definitions above: they interpret fields (AWS defaults, state
// names, tag conventions) so every check reads them the same way.

impl EcsService {
    /// False for services being deleted (`DRAINING`) or deleted (`INACTIVE`): they launch no
    /// new tasks, so nothing about their next deployment matters.
    pub fn is_live(&self) -> bool {
        !self.status.eq_ignore_ascii_case("INACTIVE")
            && !self.status.eq_ignore_ascii_case("DRAINING")
    }

    /// The cluster's name, from its ARN.
    pub fn cluster_name(&self) -> &str {
        self.cluster_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.cluster_arn)
    }

    /// Runs one task per container instance (`DAEMON`) rather than a count (`REPLICA`,
    /// the default).
    pub fn is_daemon(&self) -> bool {
        self.scheduling_strategy
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("DAEMON"))
    }

    /// The awsvpc subnets the service's tasks are placed in (empty without awsvpc).
    pub fn subnet_ids(&self) -> &[String] {
        self.network.as_ref().map_or(&[], |n| n.subnets.as_slice())
    }

    /// The target groups of its `loadBalancers` (Classic Load Balancers have none).
    pub fn target_group_arns(&self) -> impl Iterator<Item = &str> {
        self.load_balancers
            .iter()
            .filter_map(|lb| lb.target_group_arn.as_deref())
    }
}

impl TaskDefinition {
    /// Every port a container maps (container and host side; in awsvpc mode they are the
    /// same).
    pub fn mapped_ports(&self) -> std::collections::BTreeSet<i32> {
        self.containers
            .iter()
            .flat_map(|c| &c.port_mappings)
            .flat_map(|m| [m.container_port, m.host_port])
            .flatten()
            .collect()
    }

    /// `family:revision`, the way the console and CLI name a revision.
    pub fn label(&self) -> String {
        format!("{}:{}", self.family, self.revision)
    }
}

impl EksNodegroup {
    /// False while the nodegroup is being deleted.
    pub fn is_live(&self) -> bool {
        !self.status.eq_ignore_ascii_case("DELETING")
    }
}

impl EksFargateProfile {
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }

    /// Whether the profile can schedule pods of `namespace`, ignoring label selectors.
    /// Selector namespaces may contain the wildcards `*` and `?`. With `unconditional`,
    /// only selectors without labels count: those take every pod of the namespace.
    pub fn selects_namespace(&self, namespace: &str, unconditional: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.namespace
                .as_deref()
                .is_some_and(|pattern| glob_match(pattern, namespace))
                && (!unconditional || s.labels.is_empty())
        })
    }
}

impl TargetGroup {
    /// Target type `instance` (AWS's default when a target group is created without one).
    pub fn is_instance_type(&self) -> bool {
        self.target_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("instance"))
    }

    /// A tag value; `None` also when the tags were not collected.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.as_ref()?.get(key).map(String::as_str)
    }
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

/// Matches `text` against a pattern where `*` is any run of characters and `?` any one
/// character (the wildcards EKS Fargate profile selectors accept, as IAM's do), case
/// sensitively. One matcher serves both: [`crate::policy::wildcard_match`].
pub fn glob_match(pattern: &str, text: &str) -> bool {
    crate::policy::wildcard_match(pattern, text, false)
}

#[cfg(test)]
mod helper_tests {
    use super::*;

    #[test]
    fn glob_matches_fargate_selector_wildcards() {
        for (pattern, text, want) in [
            ("default", "default", true),
            ("default", "defaults", false),
            ("prod-*", "prod-web", true),
            ("prod-*", "prod-", true),
            ("*", "anything", true),
            ("p?od", "prod", true),
            ("p?od", "pod", false),
            ("*-web-*", "shop-web-1", true),
            ("*-web-*", "shop-api-1", false),
            ("", "", true),
        ] {
            assert_eq!(glob_match(pattern, text), want, "{pattern} vs {text}");
        }
    }

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
