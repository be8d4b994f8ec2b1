//! ECS workloads: whatever starts ECS tasks from a task definition, seen the same way by
//! every check that judges what those tasks run (their containers, network, load
//! balancers): a service's deployment, one of the task sets of a service on the EXTERNAL or
//! CODE_DEPLOY deployment controller, a task EventBridge Scheduler or an EventBridge rule
//! starts, or running tasks that nothing of these started.

use super::Graph;
use crate::model::{
    AwsVpcConfiguration, CapacityProviderItem, ContainerOverride, EcsContainerInstance, EcsService,
    EcsTaskSet, ScheduleSource, ScheduledTask, Scope, ServiceLoadBalancer, StandaloneTasks,
    TaskDefinition,
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

    /// The Fargate platform version it asks for (`LATEST`, `1.4.0`), or, for running
    /// standalone tasks, the one they run on; `None` where it says nothing (AWS applies
    /// `LATEST`) or does not run on Fargate.
    pub fn platform_version(&self) -> Option<&'a str> {
        match *self {
            EcsWorkload::Service(s) => s.platform_version.as_deref(),
            EcsWorkload::TaskSet(_, t) => t.platform_version.as_deref(),
            EcsWorkload::Scheduled(t) => t.platform_version.as_deref(),
            EcsWorkload::Standalone(t) => t.platform_version.as_deref(),
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

    /// Where its kind comes in the order [`ecs_workloads`] lists workloads in: services
    /// and their task sets, then schedules, then standalone tasks.
    pub fn rank(&self) -> u8 {
        match self {
            EcsWorkload::Service(_) | EcsWorkload::TaskSet(..) => 0,
            EcsWorkload::Scheduled(_) => 1,
            EcsWorkload::Standalone(_) => 2,
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

    /// Whether its tasks accept ECS Exec sessions (`enableExecuteCommand`): the service's
    /// setting, also for its task sets; the schedule's or rule's RunTask parameters; for
    /// standalone tasks, whether any of them was started with it.
    pub fn execute_command_enabled(&self) -> bool {
        match *self {
            EcsWorkload::Service(s) | EcsWorkload::TaskSet(s, _) => s.enable_execute_command,
            EcsWorkload::Scheduled(t) => t.enable_execute_command,
            EcsWorkload::Standalone(t) => t.enable_execute_command,
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

impl<'a> Graph<'a> {
    /// The collected container instances of the ECS cluster `cluster_arn`, in any status.
    pub fn container_instances_of(&self, cluster_arn: &str) -> &[&'a EcsContainerInstance] {
        self.container_instances
            .get(cluster_arn)
            .map_or(&[], Vec::as_slice)
    }

    /// The subnet a container instance runs in: its `ecs.subnet-id` attribute, else the
    /// subnet of its EC2 instance when that was collected. `None` for an ECS Anywhere
    /// instance, or when neither says.
    pub fn container_instance_subnet(&self, ci: &'a EcsContainerInstance) -> Option<&'a str> {
        if let Some(subnet) = ci.subnet_attribute() {
            return Some(subnet);
        }
        let id = ci.ec2_instance_id.as_deref()?;
        self.idx
            .instances
            .get(&super::key(&ci.scope, id))?
            .subnet_id
            .as_deref()
    }

    /// Every ECS workload of the live services: each service, or for a service that
    /// reports task sets, each PRIMARY and ACTIVE task set (primary first).
    pub fn ecs_workloads(&self) -> &[EcsWorkload<'a>] {
        &self.ecs_workloads
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::EdgeKind;
    use crate::model::EcsCluster;
    use crate::testkit::Builder;

    #[test]
    fn fargate_detection_follows_launch_type_then_strategies() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("fargate", "web", &["subnet-1"]);
        b.service("ec2", "web", &["subnet-1"]).launch_type = Some("EC2".into());
        let spot = b.service("spot", "web", &["subnet-1"]);
        spot.launch_type = None;
        spot.capacity_provider_strategy = vec![CapacityProviderItem {
            capacity_provider: "FARGATE_SPOT".into(),
            weight: 1,
            base: 0,
        }];
        b.service("default", "web", &["subnet-1"]).launch_type = None;
        b.inv.ecs_clusters.push(EcsCluster {
            scope: b.scope(),
            arn: b.arn("ecs", "cluster/main"),
            name: "main".into(),
            status: "ACTIVE".into(),
            settings: Default::default(),
            capacity_providers: vec!["my-asg".into()],
            default_capacity_provider_strategy: vec![CapacityProviderItem {
                capacity_provider: "my-asg".into(),
                weight: 1,
                base: 0,
            }],
            active_services_count: 4,
            running_tasks_count: 0,
            registered_container_instances_count: 1,
        });
        let inv = b.finish();
        let g = Graph::build(&inv);
        let on_fargate: Vec<(&str, bool)> = inv
            .ecs_services
            .iter()
            .map(|s| (s.name.as_str(), g.runs_on_fargate(&EcsWorkload::Service(s))))
            .collect();
        assert_eq!(
            on_fargate,
            [
                ("fargate", true),
                ("ec2", false),
                ("spot", true),
                ("default", false)
            ]
        );
    }

    #[test]
    fn live_task_sets_are_workloads_with_their_own_edges() {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 100);
        b.subnet("subnet-b", "vpc-1", "10.0.1.0/24", 100);
        b.task_def("web", Some("awsvpc"), &["web:1"]);
        b.task_def("web-next", Some("awsvpc"), &["web:2"]);
        b.service("web", "web", &["subnet-a"]);
        b.task_set("web", "ecs-svc/3", "ACTIVE", "web-next", &["subnet-b"])
            .scale_percent = Some(10.0);
        b.task_set("web", "ecs-svc/2", "PRIMARY", "web", &["subnet-a"]);
        b.task_set("web", "ecs-svc/1", "DRAINING", "web", &["subnet-a"]);
        let inv = b.finish();
        let g = Graph::build(&inv);
        let described: Vec<String> = g.ecs_workloads().iter().map(|w| w.describe()).collect();
        assert_eq!(
            described,
            [
                "task set `ecs-svc/2` (PRIMARY, 100%) of service `web`",
                "task set `ecs-svc/3` (ACTIVE, 10%) of service `web`",
            ],
            "primary first, draining left out, the service itself is its task sets"
        );
        let canary = b.arn("ecs", "task-set/main/web/ecs-svc/3");
        assert_eq!(
            g.outgoing(&canary, EdgeKind::TaskSetTaskDefinition)
                .collect::<Vec<_>>(),
            [b.task_def_arn("web-next").as_str()]
        );
        assert_eq!(
            g.outgoing(&canary, EdgeKind::TaskSetSubnet)
                .collect::<Vec<_>>(),
            [b.subnet_arn("subnet-b").as_str()]
        );
        // The canary is placed in its own subnet, where the service itself never runs.
        let facts = g.subnet_facts(&b.subnet_arn("subnet-b")).unwrap();
        let placed: Vec<String> = facts.workloads.iter().map(|w| w.describe()).collect();
        assert_eq!(
            placed,
            ["task set `ecs-svc/3` (ACTIVE, 10%) of service `web`"]
        );
        let drained = b.arn("ecs", "task-set/main/web/ecs-svc/1");
        assert_eq!(g.outgoing(&drained, EdgeKind::TaskSetService).count(), 0);
    }
}
