//! ECS workloads: whatever starts ECS tasks from a task definition, seen the same way by
//! every check that judges what those tasks run (their containers, network, load
//! balancers): a service's deployment, one of the task sets of a service on the EXTERNAL or
//! CODE_DEPLOY deployment controller, a task EventBridge Scheduler or an EventBridge rule
//! starts, or running tasks that nothing of these started.

use crate::model::{
    AwsVpcConfiguration, CapacityProviderItem, ContainerOverride, EcsService, EcsTaskSet,
    ScheduleSource, ScheduledTask, Scope, ServiceLoadBalancer, StandaloneTasks, TaskDefinition,
};

/// A unit that runs ECS tasks. Copy, and cheap: it only borrows the inventory.
#[derive(Debug, Clone, Copy)]
pub enum EcsWorkload<'a> {
    /// A service on the ECS deployment controller (rolling or native blue/green), or a
    /// service whose task sets were not reported: its own task definition and settings.
    Service(&'a EcsService),
    /// A PRIMARY or ACTIVE task set of an EXTERNAL or CODE_DEPLOY service.
    TaskSet(&'a EcsService, &'a EcsTaskSet),
    /// A task an enabled schedule or rule starts.
    Scheduled(&'a ScheduledTask),
    /// Running tasks that no service, task set or schedule started.
    Standalone(&'a StandaloneTasks),
}

impl<'a> EcsWorkload<'a> {
    /// The service it belongs to, for a service or a task set.
    pub fn service(&self) -> Option<&'a EcsService> {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => Some(s),
            EcsWorkload::Scheduled(_) | EcsWorkload::Standalone(_) => None,
        }
    }

    /// Its own ARN: the service's, the task set's, the schedule's or rule's, or the
    /// standalone group's. Evidence and graph edges use it.
    pub fn arn(&self) -> &'a str {
        match *self {
            EcsWorkload::Service(s) => &s.arn,
            EcsWorkload::TaskSet(_, t) => &t.arn,
            EcsWorkload::Scheduled(t) => &t.arn,
            EcsWorkload::Standalone(t) => &t.arn,
        }
    }

    /// The resource its findings are filed on: the service, also for a task set. A task
    /// set's problem is its service's ticket, so the ticket survives the task set being
    /// promoted or replaced by the next deployment with the same problem, and the same
    /// problem in two task sets is one finding. Anything else files on itself.
    pub fn resource(&self) -> &'a str {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => &s.arn,
            _ => self.arn(),
        }
    }

    /// A short name: the service's, the schedule's or rule's, the standalone task group.
    pub fn name(&self) -> &'a str {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => &s.name,
            EcsWorkload::Scheduled(t) => &t.name,
            EcsWorkload::Standalone(t) => &t.group,
        }
    }

    pub fn scope(&self) -> &'a Scope {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => &s.scope,
            EcsWorkload::Scheduled(t) => &t.scope,
            EcsWorkload::Standalone(t) => &t.scope,
        }
    }

    pub fn cluster_arn(&self) -> &'a str {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => &s.cluster_arn,
            EcsWorkload::Scheduled(t) => &t.cluster_arn,
            EcsWorkload::Standalone(t) => &t.cluster_arn,
        }
    }

    /// The task definition its tasks run.
    pub fn task_definition(&self) -> &'a str {
        match *self {
            EcsWorkload::Service(s) => &s.task_definition,
            EcsWorkload::TaskSet(_, t) => &t.task_definition,
            EcsWorkload::Scheduled(t) => &t.task_definition,
            EcsWorkload::Standalone(t) => &t.task_definition,
        }
    }

    /// The awsvpc network configuration of its tasks. Standalone tasks show only where
    /// their interfaces landed (their subnets), not how they were asked for.
    pub fn network(&self) -> Option<&'a AwsVpcConfiguration> {
        match *self {
            EcsWorkload::Service(s) => s.network.as_ref(),
            EcsWorkload::TaskSet(_, t) => t.network.as_ref(),
            EcsWorkload::Scheduled(t) => t.network.as_ref(),
            EcsWorkload::Standalone(_) => None,
        }
    }

    /// The awsvpc subnets its tasks are placed in (empty without awsvpc).
    pub fn subnet_ids(&self) -> &'a [String] {
        match *self {
            EcsWorkload::Standalone(t) => &t.subnets,
            _ => self.network().map_or(&[], |n| n.subnets.as_slice()),
        }
    }

    /// The load balancers its tasks register with (only services and task sets have any).
    pub fn load_balancers(&self) -> &'a [ServiceLoadBalancer] {
        match *self {
            EcsWorkload::Service(s) => &s.load_balancers,
            EcsWorkload::TaskSet(_, t) => &t.load_balancers,
            EcsWorkload::Scheduled(_) | EcsWorkload::Standalone(_) => &[],
        }
    }

    /// The target groups its tasks register in.
    pub fn target_group_arns(&self) -> impl Iterator<Item = &'a str> {
        self.load_balancers()
            .iter()
            .filter_map(|lb| lb.target_group_arn.as_deref())
    }

    pub fn launch_type(&self) -> Option<&'a str> {
        match *self {
            EcsWorkload::Service(s) => s.launch_type.as_deref(),
            EcsWorkload::TaskSet(_, t) => t.launch_type.as_deref(),
            EcsWorkload::Scheduled(t) => t.launch_type.as_deref(),
            EcsWorkload::Standalone(t) => t.launch_type.as_deref(),
        }
    }

    /// Its own capacity provider strategy (empty: the cluster's default applies). A
    /// standalone task reports the one provider that placed it.
    pub fn capacity_provider_strategy(&self) -> &'a [CapacityProviderItem] {
        match *self {
            EcsWorkload::Service(s) => &s.capacity_provider_strategy,
            EcsWorkload::TaskSet(_, t) => &t.capacity_provider_strategy,
            EcsWorkload::Scheduled(t) => &t.capacity_provider_strategy,
            EcsWorkload::Standalone(_) => &[],
        }
    }

    /// What a scheduled task's input overrides in container `name`.
    pub fn container_override(&self, name: &str) -> Option<&'a ContainerOverride> {
        match *self {
            EcsWorkload::Scheduled(t) => t.overrides.iter().find(|o| o.name == name),
            _ => None,
        }
    }

    /// For a standalone task, the capacity provider that placed it.
    pub fn placed_by(&self) -> Option<&'a str> {
        match *self {
            EcsWorkload::Standalone(t) => t.capacity_provider.as_deref(),
            _ => None,
        }
    }

    /// What to call it in a message: ``service `web` `` or
    /// ``task set `ecs-svc/123` (ACTIVE, 10%) of service `web` ``.
    pub fn describe(&self) -> String {
        match *self {
            EcsWorkload::Service(s) => format!("service `{}`", s.name),
            EcsWorkload::TaskSet(s, t) => {
                let scale = t
                    .scale_percent
                    .map_or(String::new(), |p| format!(", {}%", trim_float(p)));
                format!(
                    "task set `{}` ({}{scale}) of service `{}`",
                    t.id, t.status, s.name
                )
            }
            EcsWorkload::Scheduled(t) => match t.source {
                ScheduleSource::Scheduler => {
                    format!("scheduled task `{}` (EventBridge Scheduler)", t.name)
                }
                ScheduleSource::EventsRule => {
                    format!("scheduled task `{}` (EventBridge rule)", t.name)
                }
            },
            EcsWorkload::Standalone(t) => format!("standalone task group `{}`", t.group),
        }
    }

    /// The evidence fact for what it runs: ``runs task definition `web:3` ``, for a task set
    /// with its status.
    pub fn runs_fact(&self, task_definition_label: &str) -> String {
        match *self {
            EcsWorkload::Service(_) => format!("runs task definition `{task_definition_label}`"),
            EcsWorkload::TaskSet(s, t) => format!(
                "{} task set of service `{}` runs task definition `{task_definition_label}`",
                t.status, s.name
            ),
            EcsWorkload::Scheduled(t) => format!(
                "starts {} task{} of task definition `{task_definition_label}` in cluster `{}`{}",
                t.task_count,
                if t.task_count == 1 { "" } else { "s" },
                cluster_name(&t.cluster_arn),
                t.schedule_expression
                    .as_deref()
                    .map_or(String::from(" on events"), |e| format!(" on {e}"))
            ),
            EcsWorkload::Standalone(t) => format!(
                "{} running task{} of task definition `{task_definition_label}` in cluster `{}`{}",
                t.task_arns.len(),
                if t.task_arns.len() == 1 { "" } else { "s" },
                cluster_name(&t.cluster_arn),
                t.started_by
                    .as_deref()
                    .map_or(String::new(), |b| format!(", started by `{b}`"))
            ),
        }
    }

    /// Whether it is a service or a task set: checks about deployments (circuit breaker,
    /// deregistration delay) apply only to those.
    pub fn is_service(&self) -> bool {
        matches!(self, EcsWorkload::Service(_) | EcsWorkload::TaskSet(..))
    }
}

/// A cluster's name, from its ARN.
fn cluster_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `10`, `12.5`: a percentage without a needless fraction.
fn trim_float(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// Every ECS workload, in inventory order: the live services (a service that reports live
/// task sets is its task sets, PRIMARY first, then ACTIVE: its own fields only mirror the
/// primary one), then the enabled schedules and rules, then the standalone tasks.
pub(crate) fn ecs_workloads(inv: &crate::model::Inventory) -> Vec<EcsWorkload<'_>> {
    let mut out = Vec::new();
    for s in inv.ecs_services.iter().filter(|s| s.is_live()) {
        let mut sets: Vec<&EcsTaskSet> = s.task_sets.iter().filter(|t| t.is_live()).collect();
        if sets.is_empty() {
            // An EXTERNAL service without task sets runs nothing.
            if !s.task_definition.is_empty() {
                out.push(EcsWorkload::Service(s));
            }
        } else {
            sets.sort_by_key(|t| !t.is_primary());
            out.extend(sets.into_iter().map(|t| EcsWorkload::TaskSet(s, t)));
        }
    }
    out.extend(inv.scheduled_tasks.iter().map(EcsWorkload::Scheduled));
    out.extend(inv.standalone_tasks.iter().map(EcsWorkload::Standalone));
    out
}

impl<'a> super::Graph<'a> {
    /// Every ECS workload (live services, their PRIMARY and ACTIVE task sets) with the task
    /// definition it runs now (those whose task definition was not collected are left out;
    /// their checks name the gap through `needs`).
    pub fn running_task_definitions(
        &self,
    ) -> impl Iterator<Item = (EcsWorkload<'a>, &'a TaskDefinition)> + '_ {
        self.ecs_workloads()
            .iter()
            .filter_map(move |w| Some((*w, self.task_definition(w.task_definition())?)))
    }
}
