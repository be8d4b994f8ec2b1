//! ECS017: containers whose root filesystem is writable.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, their task sets, scheduled and standalone tasks)
    /// whose task definition leaves `readonlyRootFilesystem` unset or `false` on a Linux
    /// container: the container can write anywhere in its own filesystem. One finding per
    /// workload, naming every such container. Windows containers cannot set the parameter
    /// and are not judged.
    ///
    /// ## Why it matters
    ///
    /// A process that can rewrite its container's filesystem lets an attacker who gets code
    /// execution replace the application's binaries, libraries or configuration, drop tools
    /// and keep them for as long as the task runs, unseen by the image scan. With a read-only
    /// root, the only writable places are the volumes the task definition mounts on purpose
    /// (scratch space, caches), which a reviewer can see and bound.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,readonlyRootFilesystem:readonlyRootFilesystem}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Set `"readonlyRootFilesystem": true` on each container, mount a volume (a bind mount
    /// or an EFS volume) at each path the application must write (`/tmp`, a cache
    /// directory), register a new revision and deploy it:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_storage
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-5
    pub static ECS017 = {
        code: "ECS017",
        name: "writable-root-filesystem",
        severity: Severity::Medium,
        lower: [],
        summary: "ECS container can write to its root filesystem",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.5"),
        config("ecs-containers-readonly-access"),
        prowler("ecs_task_definitions_containers_readonly_access"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        if td.is_windows() {
            continue;
        }
        let writable: Vec<&str> = td
            .containers
            .iter()
            .filter(|c| c.readonly_root_filesystem != Some(true))
            .map(|c| c.name.as_str())
            .collect();
        if writable.is_empty() {
            continue;
        }
        let names = writable
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (noun, verb) = if writable.len() == 1 {
            ("container", "has")
        } else {
            ("containers", "have")
        };
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} runs {noun} {names} that {verb} a writable root filesystem: code that gets in can rewrite the application and keep its tools until the task stops",
                    w.describe()
                ),
                remediation: format!(
                    "Set readonlyRootFilesystem to true on {noun} {names} of task definition `{}`, mount a volume where the application must write, and deploy the new revision.",
                    td.label()
                ),
                evidence: vec![
                    Evidence::new(w.arn(), w.runs_fact(&td.label())),
                    Evidence::new(
                        &td.arn,
                        format!("readonlyRootFilesystem is not true on {noun} {names}"),
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
    fn unset_and_false_fire_once_per_workload_and_true_does_not() {
        let mut b = Builder::new();
        let td = b.task_def("web", Some("awsvpc"), &["app:1", "proxy:1", "log:1"]);
        td.containers[0].readonly_root_filesystem = Some(false);
        td.containers[2].readonly_root_filesystem = Some(true);
        b.service("web", "web", &["subnet-1"]);
        let out = b.run(&[&ECS017]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(
            out.findings[0].message,
            "service `web` runs containers `c0`, `c1` that have a writable root filesystem: code that gets in can rewrite the application and keep its tools until the task stops"
        );
        assert_eq!(out.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn read_only_everywhere_and_windows_containers_are_quiet() {
        let mut b = Builder::new();
        let td = b.task_def("api", Some("awsvpc"), &["api:1"]);
        td.containers[0].readonly_root_filesystem = Some(true);
        b.service("api", "api", &["subnet-1"]);
        let win = b.task_def("iis", Some("awsvpc"), &["iis:1"]);
        win.os_family = Some("WINDOWS_SERVER_2022_CORE".into());
        b.service("iis", "iis", &["subnet-1"]);
        assert!(b.run(&[&ECS017]).findings.is_empty());
    }

    #[test]
    fn a_task_definition_no_workload_runs_is_not_judged() {
        let mut b = Builder::new();
        b.task_def("old", Some("awsvpc"), &["old:1"]);
        assert!(b.run(&[&ECS017]).findings.is_empty());
    }
}
