//! ECS tasks that EventBridge Scheduler schedules and EventBridge rules start.

use serde::{Deserialize, Serialize};

use super::{AwsVpcConfiguration, CapacityProviderItem, EnvVar, Scope};
use crate::secrets::ArgSecret;

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
    /// `enableExecuteCommand` of the RunTask parameters: its tasks accept ECS Exec sessions.
    #[serde(default)]
    pub enable_execute_command: bool,
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
