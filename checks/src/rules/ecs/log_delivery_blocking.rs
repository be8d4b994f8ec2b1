//! ECS022: containers whose log delivery blocks the application when the log driver
//! cannot keep up.

use crate::crosswalk::prowler;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

/// The account setting that gives the mode of a container that sets none.
const SETTING: &str = "defaultLogDriverMode";

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, task sets, scheduled and standalone tasks) with a
    /// container whose log configuration delivers in `blocking` mode: `mode` set to
    /// `blocking` in `logConfiguration.options`, or no `mode` where the region's
    /// `defaultLogDriverMode` account setting is `blocking`. Since 25 June 2025 AWS's own
    /// default is `non-blocking`; the account setting can turn it back. One finding per
    /// workload, naming every such container and its log driver.
    ///
    /// ## Why it matters
    ///
    /// In blocking mode a container's writes to stdout and stderr wait until the log
    /// driver has taken them. When the destination slows down or is unreachable
    /// (CloudWatch Logs throttling the log group, a missing VPC endpoint, a stalled
    /// FireLens router or Splunk endpoint), the application's own threads stop on their
    /// next log line: requests hang, health checks fail, and ECS replaces tasks that were
    /// healthy, turning a logging problem into an outage. Non-blocking mode buffers the
    /// lines in memory, up to the `max-buffer-size` option, and drops lines when the
    /// buffer is full: the application keeps serving. AWS Trusted Advisor reports the
    /// same risk for awslogs.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,driver:logConfiguration.logDriver,mode:logConfiguration.options.mode}'
    /// aws ecs list-account-settings --name defaultLogDriverMode --effective-settings
    /// ```
    ///
    /// ## How to fix
    ///
    /// Set `"mode": "non-blocking"` (with a `"max-buffer-size"` such as `"25m"` for bursty
    /// output) in each container's `logConfiguration.options`, register a new revision and
    /// deploy it; where the account default is the cause, put it back for the account:
    ///
    /// ```sh
    /// aws ecs put-account-setting-default --name defaultLogDriverMode --value non-blocking
    /// ```
    ///
    /// Where every log line must be kept (an audit trail), keep blocking for that
    /// container alone and make its destination robust (a VPC endpoint, a raised
    /// CloudWatch Logs quota), knowing that the application stalls with it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html
    pub static ECS022 = {
        code: "ECS022",
        name: "log-delivery-blocking",
        severity: Severity::Medium,
        summary: "ECS container logs in blocking mode: a slow log destination stalls the application",
        needs: ["ecs:ListAccountSettings"],
        ecs_workloads: true,
        controls: [prowler("ecs_task_definitions_logging_block_mode").partial(
            "Prowler reads each container's own mode only; ECS022 also applies the \
             account's defaultLogDriverMode to containers that set none",
        )],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let scope = w.scope();
        let account_default = ctx
            .inventory
            .ecs_account_settings
            .iter()
            .find(|s| &s.scope == scope && s.name == SETTING)
            .map(|s| s.value.as_str());
        // A failed read of the setting leaves containers without a mode undecided; the
        // engine reports that as unknown.
        let default_known = ctx.complete(scope, &["ecs:ListAccountSettings"], None);
        let mut blocking = Vec::new();
        for c in &td.containers {
            let Some(driver) = c.log_driver.as_deref() else {
                continue;
            };
            let fact = match c.log_options.get("mode").map(String::as_str) {
                Some(m) if m.eq_ignore_ascii_case("blocking") => {
                    format!("container `{}`: {driver}, mode blocking", c.name)
                }
                Some(_) => continue,
                None if default_known
                    && account_default.is_some_and(|v| v.eq_ignore_ascii_case("blocking")) =>
                {
                    format!(
                        "container `{}`: {driver}, no mode; the account's {SETTING} is blocking",
                        c.name
                    )
                }
                None => continue,
            };
            blocking.push((c.name.as_str(), driver, fact));
        }
        if blocking.is_empty() {
            continue;
        }
        let names: Vec<String> = blocking
            .iter()
            .map(|(n, d, _)| format!("`{n}` ({d})"))
            .collect();
        let mut evidence = vec![Evidence::new(w.arn(), w.runs_fact(&td.label()))];
        evidence.extend(
            blocking
                .into_iter()
                .map(|(_, _, fact)| Evidence::new(&td.arn, fact)),
        );
        out.report(
            scope,
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} logs in blocking mode from {}: if the log destination stalls, so does the application",
                    w.describe(),
                    names.join(", ")
                ),
                remediation: format!(
                    "Set `\"mode\": \"non-blocking\"` (and a `max-buffer-size`) in the log options of {} in a new revision of `{}` and deploy it.",
                    names.join(", "),
                    td.family
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EcsAccountSetting;
    use crate::testkit::Builder;

    fn logging(modes: &[Option<&str>], account: Option<&str>) -> Builder {
        let mut b = Builder::new();
        let names: Vec<String> = (0..modes.len()).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let td = b.task_def("web", Some("awsvpc"), &refs);
        for (c, mode) in td.containers.iter_mut().zip(modes) {
            c.log_driver = Some("awslogs".into());
            if let Some(m) = mode {
                c.log_options.insert("mode".into(), m.to_string());
            }
        }
        b.service("web", "web", &["subnet-1"]);
        if let Some(v) = account {
            let scope = b.scope();
            b.inv.ecs_account_settings.push(EcsAccountSetting {
                scope,
                name: SETTING.into(),
                value: v.into(),
            });
        }
        b
    }

    #[test]
    fn an_explicit_blocking_mode_fires() {
        let out = logging(&[Some("blocking"), Some("non-blocking")], None).run(&[&ECS022]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("`c0` (awslogs)"));
        assert!(!out.findings[0].message.contains("c1"));
    }

    #[test]
    fn no_mode_follows_the_account_default() {
        let out = logging(&[None], Some("blocking")).run(&[&ECS022]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].evidence[1].fact.contains("defaultLogDriverMode is blocking"));
        // AWS's default since June 2025, set or not.
        assert!(logging(&[None], Some("non-blocking"))
            .run(&[&ECS022])
            .findings
            .is_empty());
        assert!(logging(&[None], None).run(&[&ECS022]).findings.is_empty());
    }

    #[test]
    fn an_unread_account_default_is_unknown_not_clean() {
        let mut b = logging(&[None], None);
        b.gap("ecs:ListAccountSettings", None);
        let out = b.run(&[&ECS022]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        // An explicit mode needs no account setting.
        let mut b = logging(&[Some("blocking")], None);
        b.gap("ecs:ListAccountSettings", None);
        assert_eq!(b.run(&[&ECS022]).findings.len(), 1);
    }

    #[test]
    fn containers_without_logging_are_not_judged() {
        let mut b = logging(&[Some("blocking")], None);
        b.inv.task_definitions[0].containers[0].log_driver = None;
        assert!(b.run(&[&ECS022]).findings.is_empty());
    }
}
