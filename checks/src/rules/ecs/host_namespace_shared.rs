//! ECS019: tasks that share the host's network, process or IPC namespace.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, their task sets, scheduled and standalone tasks)
    /// whose task definition shares a namespace of the container instance: `networkMode:
    /// host`, `pidMode: host` or `ipcMode: host`. One finding per workload, naming every
    /// namespace shared. High when the process namespace is shared, medium otherwise.
    /// Fargate accepts none of the three, so only tasks on EC2 (or external) instances
    /// can have them.
    ///
    /// ## Why it matters
    ///
    /// Namespaces are what keep a container's view of the instance to itself.
    /// - `pidMode: host`: the container sees every process on the instance, other tasks' and
    ///   the ECS agent's included, and with `SYS_PTRACE` or root can read their memory and
    ///   environment (credentials).
    /// - `networkMode: host`: the container uses the instance's interfaces and ports.
    ///   Security groups and port mappings no longer isolate it, two copies cannot run on
    ///   one instance, and it reaches whatever listens on the instance's loopback, the
    ///   instance metadata service included.
    /// - `ipcMode: host`: the container shares the instance's shared memory and semaphores,
    ///   so it can read or corrupt other processes' IPC data.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.{networkMode:networkMode,pidMode:pidMode,ipcMode:ipcMode}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Use the `awsvpc` (or `bridge`) network mode, and leave `pidMode` and `ipcMode` unset,
    /// or set them to `task` where the task's own containers need to share. Register a new
    /// revision and deploy it:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#network_mode
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_definition_pidmode
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-3
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-17
    pub static ECS019 = {
        code: "ECS019",
        name: "host-namespace-shared",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECS task shares the host's network, process or IPC namespace",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.3"),
        fsbp("ECS.17"),
        config("ecs-task-definition-pid-mode-check"),
        config("ecs-task-definition-network-mode-not-host"),
        prowler("ecs_task_definitions_host_namespace_not_shared"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let host = |mode: &Option<String>| mode.as_deref() == Some("host");
        let shared: Vec<(&str, &str)> = [
            (
                host(&td.pid_mode),
                "pidMode: host",
                "it sees every process on the instance, and as root can signal and inspect them",
            ),
            (
                host(&td.network_mode),
                "networkMode: host",
                "it uses the instance's interfaces and ports, past security groups",
            ),
            (
                host(&td.ipc_mode),
                "ipcMode: host",
                "it shares the instance's shared memory",
            ),
        ]
        .into_iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, what, why)| (what, why))
        .collect();
        if shared.is_empty() {
            continue;
        }
        let severity = if host(&td.pid_mode) {
            Severity::High
        } else {
            Severity::Medium
        };
        let whats: Vec<&str> = shared.iter().map(|(what, _)| *what).collect();
        let whys: Vec<&str> = shared.iter().map(|(_, why)| *why).collect();
        out.report(
            w.scope(),
            Report {
                severity,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} runs with {}: {}",
                    w.describe(),
                    whats.join(", "),
                    whys.join("; ")
                ),
                remediation: format!(
                    "Use the awsvpc network mode and leave pidMode and ipcMode unset (or task) in task definition `{}`, then deploy the new revision.",
                    td.label()
                ),
                evidence: vec![
                    Evidence::new(w.arn(), w.runs_fact(&td.label())),
                    Evidence::new(&td.arn, whats.join(", ")),
                ],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn every_shared_namespace_is_one_finding_and_pid_makes_it_high() {
        let mut b = Builder::new();
        let td = b.task_def("agent", Some("host"), &["agent:1"]);
        td.pid_mode = Some("host".into());
        td.ipc_mode = Some("host".into());
        b.service("agent", "agent", &["subnet-1"]);
        let out = b.run(&[&ECS019]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            "service `agent` runs with pidMode: host, networkMode: host, ipcMode: host: it sees every process on the instance, and as root can signal and inspect them; it uses the instance's interfaces and ports, past security groups; it shares the instance's shared memory"
        );
    }

    #[test]
    fn host_network_alone_is_medium() {
        let mut b = Builder::new();
        b.task_def("proxy", Some("host"), &["proxy:1"]);
        b.service("proxy", "proxy", &["subnet-1"]);
        let out = b.run(&[&ECS019]);
        assert_eq!(out.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn task_scoped_namespaces_and_awsvpc_are_quiet() {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["web:1"]);
        td.pid_mode = Some("task".into());
        td.ipc_mode = Some("none".into());
        b.service("web", "web", &["subnet-1"]);
        assert!(b.run(&[&ECS019]).findings.is_empty());
    }
}
