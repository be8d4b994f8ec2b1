//! ECS records: clusters, services and their task sets and deployments, task definitions,
//! standalone tasks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Scope;
use crate::secrets::{ArgSecret, SecretKind};

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
    /// Seconds the scheduler ignores failing load balancer and container health checks of
    /// a new task; absent means 0.
    #[serde(default)]
    pub health_check_grace_period_seconds: Option<i32>,
    /// The Fargate platform version asked for (`LATEST`, `1.4.0`); absent off Fargate.
    #[serde(default)]
    pub platform_version: Option<String>,
    /// The awsvpc network configuration, when the service has one.
    pub network: Option<AwsVpcConfiguration>,
    pub deployments: Vec<EcsDeployment>,
    /// The most recent service events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Task sets of an EXTERNAL or CODE_DEPLOY service (`taskSets[]`): each runs its own
    /// task definition, network configuration and load balancers.
    #[serde(default)]
    pub task_sets: Vec<EcsTaskSet>,
    /// `enableExecuteCommand`: its tasks (and its task sets' tasks) accept ECS Exec sessions.
    #[serde(default)]
    pub enable_execute_command: bool,
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
    /// The Fargate platform version the tasks run on (the one `LATEST` resolved to).
    #[serde(default)]
    pub platform_version: Option<String>,
    /// The subnets of the tasks' network interfaces (awsvpc).
    pub subnets: Vec<String>,
    /// The running (or pending) tasks' ARNs.
    pub task_arns: Vec<String>,
    /// Whether any of the tasks was started with `enableExecuteCommand` (ECS Exec).
    #[serde(default)]
    pub enable_execute_command: bool,
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskDefinition {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub family: String,
    pub revision: i32,
    /// `awsvpc`, `bridge`, `host`, `none`; absent means `bridge` on EC2 (Fargate requires awsvpc).
    pub network_mode: Option<String>,
    /// `host` shares the host's process namespace; `task` shares one among the task's
    /// containers; absent, each container has its own.
    #[serde(default)]
    pub pid_mode: Option<String>,
    /// `host` shares the host's IPC resources; `task` or `none`; absent, Docker's default.
    #[serde(default)]
    pub ipc_mode: Option<String>,
    /// `runtimePlatform.operatingSystemFamily`: `LINUX` (also when absent) or a
    /// `WINDOWS_SERVER_…` family.
    #[serde(default)]
    pub os_family: Option<String>,
    /// `runtimePlatform.cpuArchitecture`: `X86_64` (also when absent) or `ARM64`.
    #[serde(default)]
    pub cpu_architecture: Option<String>,
    pub requires_compatibilities: Vec<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub containers: Vec<ContainerDefinition>,
    /// The task's EFS volumes (`volumes[].efsVolumeConfiguration`).
    #[serde(default)]
    pub efs_volumes: Vec<EfsVolume>,
}

/// An EFS volume of a task definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EfsVolume {
    /// The volume's name, as containers' mount points name it.
    pub name: String,
    pub file_system_id: String,
    /// `ENABLED` or `DISABLED`; absent means `DISABLED`.
    pub transit_encryption: Option<String>,
    /// `iam` authorization: `ENABLED` needs transit encryption.
    pub iam: Option<String>,
}

impl EfsVolume {
    /// Whether traffic to the file system is encrypted (TLS through the EFS mount helper).
    pub fn encrypted_in_transit(&self) -> bool {
        self.transit_encryption
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("ENABLED"))
    }
}

/// An ECS capacity provider backed by an Auto Scaling group (`FARGATE` and `FARGATE_SPOT`
/// are not described: AWS manages them).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsCapacityProvider {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub status: String,
    /// The Auto Scaling group's ARN, for an ASG provider.
    pub auto_scaling_group_arn: Option<String>,
    /// `managedScaling.status`: `ENABLED` or `DISABLED`.
    pub managed_scaling: Option<String>,
    /// `managedTerminationProtection`: `ENABLED` or `DISABLED`.
    pub managed_termination_protection: Option<String>,
}

/// An instance registered to an ECS cluster (ListContainerInstances, then
/// DescribeContainerInstances): an EC2 instance, or an ECS Anywhere managed instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsContainerInstance {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub cluster_arn: String,
    /// `i-…` for EC2, `mi-…` for an ECS Anywhere instance; absent when not reported.
    pub ec2_instance_id: Option<String>,
    /// `REGISTERING`, `ACTIVE`, `DRAINING`, `DEREGISTERING`, `INACTIVE`,
    /// `REGISTRATION_FAILED`.
    pub status: String,
    /// `agentConnected`: the container agent holds its connection to ECS right now.
    pub agent_connected: bool,
    pub running_tasks_count: i32,
    /// The `ecs.*` attributes ECS records for the instance (`ecs.cpu-architecture`,
    /// `ecs.subnet-id`, `ecs.availability-zone`, …), by name; an attribute without a value
    /// maps to an empty string. The `com.amazonaws.ecs.capability.*` attributes are not kept.
    pub attributes: BTreeMap<String, String>,
}

impl EcsContainerInstance {
    /// The attribute ECS records the instance's processor architecture in.
    pub const CPU_ARCHITECTURE: &'static str = "ecs.cpu-architecture";
    /// The attribute ECS records the instance's subnet in.
    pub const SUBNET_ID: &'static str = "ecs.subnet-id";

    /// `x86_64` or `arm64`, as the `ecs.cpu-architecture` attribute says.
    pub fn cpu_architecture(&self) -> Option<&str> {
        self.attribute(Self::CPU_ARCHITECTURE)
    }

    /// The subnet the `ecs.subnet-id` attribute names.
    pub fn subnet_attribute(&self) -> Option<&str> {
        self.attribute(Self::SUBNET_ID)
    }

    /// A non-empty attribute value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `REGISTERING` or `ACTIVE`: it takes (or is about to take) new tasks.
    pub fn is_live(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
            || self.status.eq_ignore_ascii_case("REGISTERING")
    }

    /// Its id: the part of the ARN after the last `/`.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// What to call it in a message: its EC2 instance id, else its own id.
    pub fn label(&self) -> &str {
        self.ec2_instance_id.as_deref().unwrap_or_else(|| self.id())
    }
}

/// An ECS account setting's effective value for the auditing principal
/// (`ListAccountSettings --effective-settings`), per region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcsAccountSetting {
    #[serde(flatten)]
    pub scope: Scope,
    /// `defaultLogDriverMode`, `containerInsights`, …
    pub name: String,
    pub value: String,
}

impl TaskDefinition {
    pub fn is_awsvpc(&self) -> bool {
        self.network_mode.as_deref() == Some("awsvpc")
    }

    /// Whether its containers are Windows containers.
    pub fn is_windows(&self) -> bool {
        self.os_family
            .as_deref()
            .is_some_and(|f| f.starts_with("WINDOWS"))
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
    /// The container health check's timing, when it has one.
    #[serde(default)]
    pub health_check: Option<ContainerHealthCheck>,
    pub log_driver: Option<String>,
    /// `logConfiguration.options` (`awslogs-group`, `awslogs-region`, …).
    pub log_options: BTreeMap<String, String>,
    /// `logConfiguration.secretOptions[]`: option name → `valueFrom`.
    #[serde(default)]
    pub log_secret_options: Vec<KeyValue>,
    /// `repositoryCredentials.credentialsParameter`: the Secrets Manager secret holding a
    /// private registry's credentials.
    #[serde(default)]
    pub repository_credentials: Option<String>,
    pub privileged: Option<bool>,
    pub capabilities_add: Vec<String>,
    pub readonly_root_filesystem: Option<bool>,
    pub user: Option<String>,
}

/// The timing of a container's `healthCheck` (its command is not kept).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ContainerHealthCheck {
    /// Seconds between checks (AWS's default: 30).
    pub interval: Option<i32>,
    pub timeout: Option<i32>,
    pub retries: Option<i32>,
    /// Seconds the container is given to start before failed checks count (default 0).
    pub start_period: Option<i32>,
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
