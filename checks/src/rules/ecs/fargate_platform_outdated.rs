//! ECS020: Fargate workloads pinned to a platform version older than the newest.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::fargate_platform::{self, LATEST};
use crate::finding::{Evidence, Severity};
use crate::graph::EcsWorkload;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads on Fargate (services, task sets, scheduled and standalone
    /// tasks) pinned to a platform version older than the newest one for their operating
    /// system: Linux `1.4.0` and Windows `1.0.0`, kept as dated data in
    /// `checks/data/fargate-platform-versions.json`. `LATEST`, or no version at all (AWS
    /// applies `LATEST`), passes. For running standalone tasks the version is the one
    /// they run on, which is what `LATEST` resolved to when they started.
    ///
    /// ## Why it matters
    ///
    /// A platform version is the kernel and container runtime Fargate starts the task on.
    /// A pinned old version gets patched revisions only until AWS retires it; after its
    /// retirement date no new task starts on it, and AWS's forced update moves only the
    /// workloads that ask for `LATEST`: one that pins the version explicitly fails its next
    /// scale-out, replacement or deployment. Old Linux
    /// versions also lack what newer ones give: before `1.4.0` there is no EFS volume
    /// support, no ECS Exec, and image pulls and secrets travel through the Fargate
    /// platform's own network interface rather than the task's.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{platformVersion:platformVersion,taskSets:taskSets[].platformVersion}'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN --query 'tasks[].platformVersion'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Ask for `LATEST` (test the move to Linux `1.4.0` first: tasks get one network
    /// interface, and the VPC endpoints it needs are ECR's, S3's and CloudWatch Logs'):
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --platform-version LATEST --force-new-deployment
    /// ```
    ///
    /// For a task set, create a new one with `--platform-version LATEST` and shift traffic
    /// to it; for a schedule or a rule, set `PlatformVersion` in its target's ECS
    /// parameters; for standalone tasks, start them with `--platform-version LATEST`.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-versions-retired.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-10
    pub static ECS020 = {
        code: "ECS020",
        name: "fargate-platform-outdated",
        severity: Severity::Medium,
        summary: "ECS workload on Fargate pinned to a platform version older than the newest",
        needs: [],
        ecs_workloads: true,
        controls: [
            fsbp("ECS.10"),
            config("ecs-fargate-latest-platform-version"),
            prowler("ecs_service_fargate_latest_platform_version"),
        ],
        run: run,
    };
}

/// How to move this workload to `LATEST`.
fn remediation(w: &EcsWorkload<'_>) -> String {
    match *w {
        EcsWorkload::Service(s) => format!(
            "Deploy it on `LATEST`: `aws ecs update-service --cluster {} --service {} --platform-version LATEST --force-new-deployment`.",
            s.cluster_arn, s.name
        ),
        EcsWorkload::TaskSet(s, _) => format!(
            "Create a task set of service `{}` with `--platform-version LATEST` (`aws ecs create-task-set`) and shift traffic to it.",
            s.name
        ),
        EcsWorkload::Scheduled(t) => format!(
            "Set `PlatformVersion` to `LATEST` in the ECS parameters of `{}`'s target.",
            t.name
        ),
        EcsWorkload::Standalone(t) => format!(
            "Start the tasks of group `{}` with `aws ecs run-task --platform-version LATEST`, then stop these.",
            t.group
        ),
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let latest = &*LATEST;
    for (w, td) in ctx.graph.running_task_definitions() {
        if !ctx.graph.runs_on_fargate(&w) {
            continue;
        }
        let Some(asked) = w.platform_version() else {
            continue;
        };
        // `LATEST`, or a version this data does not know how to read, is not judged.
        let Some(version) = fargate_platform::parse(asked) else {
            continue;
        };
        let (os, newest) = if td.is_windows() {
            ("Windows", latest.windows)
        } else {
            ("Linux", latest.linux)
        };
        if version >= newest {
            continue;
        }
        let newest = fargate_platform::label(newest);
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} runs on Fargate platform version {asked}; the newest {os} version is {newest}",
                    w.describe()
                ),
                remediation: remediation(&w),
                evidence: vec![
                    Evidence::new(w.arn(), w.runs_fact(&td.label())),
                    Evidence::new(
                        w.arn(),
                        format!(
                            "platformVersion {asked}; newest {os} version {newest} (as of {}, {})",
                            crate::date::format_date(latest.as_of),
                            fargate_platform::PATH
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

    fn pinned(version: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-1"]).platform_version = version.map(str::to_string);
        b
    }

    #[test]
    fn an_older_pinned_linux_version_fires() {
        let out = pinned(Some("1.3.0")).run(&[&ECS020]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.message.contains("1.3.0"), "{}", f.message);
        assert!(f.message.contains("newest Linux version is 1.4.0"));
        assert!(f.remediation.contains("--platform-version LATEST"));
    }

    #[test]
    fn latest_unset_or_newest_pass() {
        for v in [None, Some("LATEST"), Some("latest"), Some("1.4.0")] {
            assert!(pinned(v).run(&[&ECS020]).findings.is_empty(), "{v:?}");
        }
    }

    #[test]
    fn windows_tasks_are_judged_by_the_windows_version() {
        let mut b = pinned(Some("1.0.0"));
        b.inv.task_definitions[0].os_family = Some("WINDOWS_SERVER_2022_CORE".into());
        assert!(b.run(&[&ECS020]).findings.is_empty());
    }

    #[test]
    fn ec2_workloads_are_not_judged() {
        let mut b = pinned(Some("1.3.0"));
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(b.run(&[&ECS020]).findings.is_empty());
    }

    #[test]
    fn standalone_tasks_are_judged_by_the_version_they_run_on() {
        let mut b = Builder::new();
        b.task_def("job", Some("awsvpc"), &["batch"]);
        b.standalone("job", 1, &["subnet-1"]).platform_version = Some("1.2.0".into());
        let out = b.run(&[&ECS020]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].remediation.contains("run-task"));
    }
}
