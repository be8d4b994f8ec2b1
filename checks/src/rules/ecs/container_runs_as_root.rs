//! ECS018: containers that run as root (Linux) or as the container administrator (Windows).

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::ContainerDefinition;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, their task sets, scheduled and standalone tasks)
    /// with a container that runs as the superuser: on Linux a `user` that is unset (the
    /// image's default, root for most images), `root`, `0`, or a `root`/`0` user with any
    /// group; on Windows an unset `user` or `ContainerAdministrator`. One finding per
    /// workload, naming every such container. High when the task uses the `host` network
    /// mode, medium otherwise.
    ///
    /// ## Why it matters
    ///
    /// Root in a container is the same user as root on the host, held back only by the
    /// capabilities and namespaces Docker drops. A process running as root can use every
    /// default capability (for example `NET_RAW` to forge and sniff packets), can modify
    /// anything in its filesystem, and turns any container-escape flaw into root on the
    /// instance, with every task on it. On Fargate each task has its own host, so an escape
    /// reaches the task's own containers. With the `host` network mode there is no network
    /// namespace in between: a root process can capture and forge traffic on the instance's
    /// interfaces, reach the instance metadata service and bind any host port.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.{networkMode:networkMode,containers:containerDefinitions[].{name:name,user:user}}'
    /// ```
    ///
    /// An unset `user` runs as the image's `USER`; `docker image inspect IMAGE --format '{{.Config.User}}'`
    /// prints it (empty means root).
    ///
    /// ## How to fix
    ///
    /// Give each container a non-root `user` (`"user": "1000:1000"`, or a named user the
    /// image creates; `ContainerUser` on Windows), make the files it needs readable by that
    /// user in the image, register a new revision and deploy it:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-20
    /// - https://docs.aws.amazon.com/config/latest/developerguide/ecs-task-definition-user-for-host-mode-check.html
    pub static ECS018 = {
        code: "ECS018",
        name: "container-runs-as-root",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECS container runs as root (or as the Windows container administrator)",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.20"),
        fsbp("ECS.21"),
        config("ecs-task-definition-linux-user-non-root"),
        config("ecs-task-definition-windows-user-non-admin"),
        config("ecs-task-definition-nonroot-user"),
        config("ecs-task-definition-user-for-host-mode-check"),
        prowler("ecs_task_definitions_host_networking_mode_users"),
        ],
        run: run,
    };
}

/// Whether a container of a Linux (or Windows) task runs as the superuser.
fn runs_as_superuser(c: &ContainerDefinition, windows: bool) -> bool {
    let Some(user) = c.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
        return true;
    };
    if windows {
        return user.eq_ignore_ascii_case("ContainerAdministrator");
    }
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name.parse::<u32>() == Ok(0)
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let windows = td.is_windows();
        let root: Vec<String> = td
            .containers
            .iter()
            .filter(|c| runs_as_superuser(c, windows))
            .map(|c| match c.user.as_deref().filter(|u| !u.trim().is_empty()) {
                Some(u) => format!("`{}` (user `{u}`)", c.name),
                None => format!("`{}` (no user set)", c.name),
            })
            .collect();
        if root.is_empty() {
            continue;
        }
        let host_network = td.network_mode.as_deref() == Some("host");
        let who = if windows {
            "the container administrator"
        } else {
            "root"
        };
        // Fargate gives each task its own host (and refuses the host network mode): there
        // an escape reaches the task's own containers, not other tasks.
        let (severity, reach) = if host_network {
            (
                Severity::High,
                "in the host's network namespace it can capture and forge traffic on the instance's interfaces",
            )
        } else if ctx.graph.runs_on_fargate(&w) {
            (
                Severity::Medium,
                "a container-escape flaw reaches every container of the task (Fargate isolates the task on its own host)",
            )
        } else {
            (
                Severity::Medium,
                "a container-escape flaw becomes control of the container instance and every task on it",
            )
        };
        let (noun, verb) = if root.len() == 1 {
            ("container", "runs")
        } else {
            ("containers", "run")
        };
        let list = root.join(", ");
        out.report(
            w.scope(),
            Report {
                severity,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} runs {noun} {list} as {who}: {reach}",
                    w.describe()
                ),
                remediation: format!(
                    "Give {noun} {list} of task definition `{}` a non-root user (\"user\": \"1000:1000\", or ContainerUser on Windows) and deploy the new revision.",
                    td.label()
                ),
                evidence: vec![
                    Evidence::new(w.arn(), w.runs_fact(&td.label())),
                    Evidence::new(
                        &td.arn,
                        format!(
                            "network mode {}; {noun} {list} {verb} as {who}",
                            td.network_mode.as_deref().unwrap_or("default")
                        ),
                    ),
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
    fn root_users_are_named_and_other_users_are_not() {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["a:1", "b:1", "c:1", "d:1", "e:1"]);
        td.containers[1].user = Some("0:0".into());
        td.containers[2].user = Some("1000:1000".into());
        td.containers[3].user = Some("root".into());
        td.containers[4].user = Some("app".into());
        b.service("web", "web", &["subnet-1"]).launch_type = Some("EC2".into());
        let out = b.run(&[&ECS018]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].message,
            "service `web` runs containers `c0` (no user set), `c1` (user `0:0`), `c3` (user `root`) as root: a container-escape flaw becomes control of the container instance and every task on it"
        );
        assert_eq!(out.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn on_fargate_the_reach_is_the_task() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["web:1"]);
        b.service("web", "web", &["subnet-1"]).launch_type = Some("FARGATE".into());
        let out = b.run(&[&ECS018]);
        assert_eq!(out.findings[0].severity, Severity::Medium);
        assert!(out.findings[0]
            .message
            .ends_with("reaches every container of the task (Fargate isolates the task on its own host)"));
    }

    #[test]
    fn host_network_mode_makes_it_high() {
        let mut b = Builder::new();
        b.task_def("agent", Some("host"), &["agent:1"]);
        b.service("agent", "agent", &["subnet-1"]);
        let out = b.run(&[&ECS018]);
        assert_eq!(out.findings[0].severity, Severity::High);
        assert!(out.findings[0].message.contains("host's network namespace"));
    }

    #[test]
    fn windows_judges_the_container_administrator() {
        let mut b = Builder::new();
        let td = b.task_def("iis", Some("awsvpc"), &["iis:1", "worker:1"]);
        td.os_family = Some("WINDOWS_SERVER_2019_FULL".into());
        td.containers[0].user = Some("ContainerUser".into());
        td.containers[1].user = Some("containeradministrator".into());
        b.service("iis", "iis", &["subnet-1"]);
        let out = b.run(&[&ECS018]);
        assert_eq!(out.findings.len(), 1);
        assert!(
            out.findings[0]
                .message
                .contains("`c1` (user `containeradministrator`) as the container administrator"),
            "{}",
            out.findings[0].message
        );
    }

    #[test]
    fn a_non_root_user_everywhere_is_quiet() {
        let mut b = Builder::new();
        b.task_def("api", Some("awsvpc"), &["api:1"]).containers[0].user = Some("10001".into());
        b.service("api", "api", &["subnet-1"]);
        assert!(b.run(&[&ECS018]).findings.is_empty());
    }
}
