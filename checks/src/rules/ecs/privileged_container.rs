//! ECS008: containers that run privileged or with dangerous added capabilities.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::running_task_definitions;

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
    /// Containers of running ECS services with `privileged: true`, or with Linux
    /// capabilities added that amount to host control (`SYS_ADMIN`, `SYS_MODULE`,
    /// `SYS_PTRACE`, `SYS_RAWIO`, `DAC_READ_SEARCH`, `NET_ADMIN`, `ALL`).
    ///
    /// ## Why it matters
    ///
    /// A privileged container runs with all capabilities and the host's devices: a
    /// compromise of the application becomes a compromise of the EC2 container instance
    /// and of every other task on it, and of the instance role's credentials. The listed
    /// capabilities give most of the same power (mounting file systems, loading kernel
    /// modules, reading other processes' memory, reconfiguring the host network).
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
        summary: "ECS container runs privileged or with host-level capabilities added",
        needs: ["ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (svc, td) in running_task_definitions(ctx) {
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
            out.report(
                &svc.scope,
                Report {
                    severity: Severity::High,
                    resource: svc.arn.clone(),
                    discriminator: c.name.clone(),
                    message: format!(
                        "service `{}` runs container `{}` {what}: a compromise of it reaches the host and every task on it",
                        svc.name, c.name
                    ),
                    remediation: format!(
                        "Remove privileged mode and the added capabilities from container `{}` of task definition `{}`, and deploy the new revision.",
                        c.name,
                        td.label()
                    ),
                    evidence: vec![
                        Evidence::new(&svc.arn, format!("runs task definition `{}`", td.label())),
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
                "service `agent` runs container `c0` privileged: a compromise of it reaches the host and every task on it",
                "service `agent` runs container `c1` with capabilities SYS_ADMIN added: a compromise of it reaches the host and every task on it",
            ]
        );
    }
}
