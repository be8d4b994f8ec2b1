//! ECS008: containers that run privileged or with dangerous added capabilities.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

/// Linux capabilities that amount to, or lead straight to, control of the host.
const DANGEROUS: [&str; 7] = [
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
];

declare_check! {
    /// ## What it finds
    ///
    /// Containers of running ECS services (their task sets, scheduled and standalone tasks) with `privileged: true`, or with Linux
    /// capabilities added that amount to host control (`SYS_ADMIN`, `SYS_MODULE`,
    /// `SYS_PTRACE`, `SYS_RAWIO`, `DAC_READ_SEARCH`, `NET_ADMIN`, `ALL`). Judged for the
    /// launch type the tasks run on: high on EC2 (and wherever the launch type is not
    /// known), medium for `SYS_PTRACE` on Fargate, the one of these Fargate allows.
    ///
    /// ## Why it matters
    ///
    /// On the EC2 launch type, a privileged container runs with all capabilities and the
    /// host's devices: a compromise of the application becomes a compromise of the
    /// container instance, of every other task on it, and of the instance role's
    /// credentials. The listed capabilities give most of the same power (mounting file
    /// systems, loading kernel modules, reading other processes' memory, reconfiguring the
    /// host network). Fargate runs each task on its own isolated host and refuses
    /// privileged containers and every added capability but `SYS_PTRACE`; there, a
    /// compromised container with `SYS_PTRACE` can read and alter the memory of the other
    /// processes it can see in its task (all of them with `pidMode: task`), such as a
    /// sidecar holding credentials, but not other tasks.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,privileged:privileged,add:linuxParameters.capabilities.add}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Remove `privileged` and the added capabilities from the container definition,
    /// granting only the narrow capability the workload proves it needs, register a new
    /// revision and deploy it:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_KernelCapabilities.html
    pub static ECS008 = {
        code: "ECS008",
        name: "privileged-container",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECS container runs privileged or with host-level capabilities added",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.4"),
        config("ecs-containers-nonprivileged"),
        prowler("ecs_task_definitions_no_privileged_containers"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        for c in &td.containers {
            let caps: Vec<&str> = c
                .capabilities_add
                .iter()
                .map(|cap| cap.trim_start_matches("CAP_"))
                .filter(|cap| DANGEROUS.iter().any(|d| d.eq_ignore_ascii_case(cap)))
                .collect();
            let privileged = c.privileged == Some(true);
            if !privileged && caps.is_empty() {
                continue;
            }
            let what = match (privileged, caps.is_empty()) {
                (true, true) => "privileged".to_string(),
                (true, false) => format!("privileged with capabilities {} added", caps.join(", ")),
                _ => format!("with capabilities {} added", caps.join(", ")),
            };
            // Fargate gives each task its own host and allows SYS_PTRACE alone; anything
            // else here would not start there, and is judged as the EC2 risk it would be.
            let fargate_ptrace = ctx.graph.runs_on_fargate(&w)
                && !privileged
                && caps
                    .iter()
                    .all(|cap| cap.eq_ignore_ascii_case("SYS_PTRACE"));
            let (severity, reach) = if fargate_ptrace {
                (
                    Severity::Medium,
                    "a compromise of it can read and alter the memory of the other processes in its task (Fargate isolates the task on its own host)",
                )
            } else {
                (
                    Severity::High,
                    "a compromise of it reaches its container instance and every task on it",
                )
            };
            out.report(
                w.scope(),
                Report {
                    severity,
                    resource: w.resource().to_string(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "{} runs container `{}` {what}: {reach}",
                        w.describe(), c.name
                    ),
                    remediation: format!(
                        "Remove privileged mode and the added capabilities from container `{}` of task definition `{}`, and deploy the new revision.",
                        c.name,
                        td.label()
                    ),
                    evidence: vec![
                        Evidence::new(w.arn(), w.runs_fact(&td.label())),
                        Evidence::new(&td.arn, format!("container `{}`: {what}", c.name)),
                    ],
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn privileged_and_dangerous_capabilities_fire_and_harmless_ones_do_not() {
        let mut b = Builder::new();
        let td = b.task_def("agent", Some("awsvpc"), &["a:1", "b:1", "c:1", "d:1"]);
        td.containers[0].privileged = Some(true);
        td.containers[1].capabilities_add = vec!["CAP_SYS_ADMIN".into(), "NET_BIND_SERVICE".into()];
        td.containers[2].capabilities_add = vec!["NET_BIND_SERVICE".into()];
        td.containers[3].privileged = Some(false);
        b.service("agent", "agent", &["subnet-1"]);
        let out = b.run(&[&ECS008]);
        let mut msgs: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        msgs.sort();
        assert_eq!(
            msgs,
            [
                "service `agent` runs container `c0` privileged: a compromise of it reaches its container instance and every task on it",
                "service `agent` runs container `c1` with capabilities SYS_ADMIN added: a compromise of it reaches its container instance and every task on it",
            ]
        );
    }

    #[test]
    fn sys_ptrace_on_fargate_is_medium_and_stays_in_the_task() {
        let mut b = Builder::new();
        let td = b.task_def("debug", Some("awsvpc"), &["a:1"]);
        td.containers[0].capabilities_add = vec!["SYS_PTRACE".into()];
        b.service("debug", "debug", &["subnet-1"]).launch_type = Some("FARGATE".into());
        let out = b.run(&[&ECS008]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Medium);
        assert!(out.findings[0].message.ends_with(
            "a compromise of it can read and alter the memory of the other processes in its task (Fargate isolates the task on its own host)"
        ));
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        let out = b.run(&[&ECS008]);
        assert_eq!(out.findings[0].severity, Severity::High);
        assert!(out.findings[0].message.contains("its container instance"));
    }

    /// A CODE_DEPLOY service whose PRIMARY task set runs `web` and whose ACTIVE canary
    /// runs `web-next`, each with one container.
    fn canary(primary_privileged: bool, canary_privileged: bool) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["web:1"]).containers[0].privileged =
            Some(primary_privileged);
        b.task_def("web-next", Some("awsvpc"), &["web:2"])
            .containers[0]
            .privileged = Some(canary_privileged);
        b.service("web", "web", &["subnet-1"]);
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &["subnet-1"]);
        b.task_set("web", "ecs-svc/2", "ACTIVE", "web-next", &["subnet-1"]);
        b
    }

    #[test]
    fn a_privileged_canary_task_set_is_found_and_named() {
        let out = canary(false, true).run(&[&ECS008]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(
            f.message,
            "task set `ecs-svc/2` (ACTIVE, 100%) of service `web` runs container `c0` privileged: a compromise of it reaches its container instance and every task on it"
        );
        assert!(
            f.resource.ends_with(":service/main/web"),
            "filed on the service"
        );
        assert!(f.evidence[0]
            .resource
            .ends_with("task-set/main/web/ecs-svc/2"));
    }

    #[test]
    fn promotion_keeps_the_ticket_and_two_task_sets_are_one_problem() {
        let before = canary(false, true).run(&[&ECS008]);
        // Promoted: the canary is now PRIMARY, the old primary drains.
        let mut b = canary(false, true);
        let sets = &mut b.inv.ecs_services[0].task_sets;
        sets[0].status = "DRAINING".into();
        sets[1].status = "PRIMARY".into();
        let after = b.run(&[&ECS008]);
        assert_eq!(after.findings.len(), 1);
        assert_eq!(
            before.findings[0].fingerprint,
            after.findings[0].fingerprint
        );

        // Both task sets privileged: one finding, both in its evidence.
        let both = canary(true, true).run(&[&ECS008]);
        assert_eq!(both.findings.len(), 1, "{:?}", both.findings);
        let sets: Vec<&str> = both.findings[0]
            .evidence
            .iter()
            .filter(|e| e.resource.contains(":task-set/"))
            .map(|e| e.resource.as_str())
            .collect();
        assert_eq!(sets.len(), 2, "{sets:?}");
    }

    #[test]
    fn standalone_tasks_are_one_workload_per_group() {
        let mut b = Builder::new();
        b.task_def("debug", Some("awsvpc"), &["shell:1"]).containers[0].privileged = Some(true);
        b.standalone("debug", 3, &["subnet-1"]).launch_type = Some("EC2".into());
        let out = b.run(&[&ECS008]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].message,
            "standalone task group `family:debug` runs container `c0` privileged: a compromise of it reaches its container instance and every task on it"
        );
        assert_eq!(
            out.findings[0].evidence[0].fact,
            "3 running tasks of task definition `debug:1` in cluster `main`"
        );
    }
}
