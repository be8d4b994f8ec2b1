//! Scheduled ECS tasks: EventBridge Scheduler schedules and EventBridge rule targets that
//! run an ECS task.
//!
//! Scheduler: one paginated ListSchedules per region (100 a page, every group), then
//! GetSchedule only for the enabled schedules whose target is an ECS cluster (the summary
//! names the target). EventBridge: ListEventBuses (rules of custom buses are listed per
//! bus), ListRules per bus, ListTargetsByRule per enabled rule. The EventBridge SDK has no
//! paginators, so the NextToken loops are written out, and stop on a repeated token.

use aws_sdk_eventbridge::types as ev;
use aws_sdk_scheduler::types as sc;
use checks::model::{
    AwsVpcConfiguration, CapacityProviderItem, ContainerOverride, EnvVar, Inventory,
    ScheduleSource, ScheduledTask, Scope,
};
use checks::secrets::classify_args;
use futures::future::join_all;
use serde_json::Value;

use super::{ops, Collector};

/// Whether an ARN names an ECS cluster: the target of a RunTask schedule or rule.
fn is_ecs_cluster(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("ecs")
        && arn
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("cluster/"))
}

/// The task an `EcsParameters` of either API starts (Scheduler's and EventBridge's types
/// differ, their accessors do not): launch type, capacity provider strategy, platform
/// version, awsvpc network configuration and task count.
macro_rules! ecs_run {
    ($ecs:expr) => {{
        let ecs = $ecs;
        EcsRun {
            task_definition: ecs.task_definition_arn().to_string(),
            launch_type: ecs.launch_type().map(|l| l.as_str().to_string()),
            capacity_provider_strategy: ecs
                .capacity_provider_strategy()
                .iter()
                .map(|i| CapacityProviderItem {
                    capacity_provider: i.capacity_provider().to_string(),
                    weight: i.weight(),
                    base: i.base(),
                })
                .collect(),
            platform_version: ecs.platform_version().map(str::to_string),
            network: ecs
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration())
                .map(|v| AwsVpcConfiguration {
                    subnets: v.subnets().to_vec(),
                    security_groups: v.security_groups().to_vec(),
                    assign_public_ip: v.assign_public_ip().map(|a| a.as_str().to_string()),
                }),
            task_count: ecs.task_count().unwrap_or(1),
            enable_execute_command: flag(ecs.enable_execute_command()),
        }
    }};
}

/// A flag Scheduler sends as optional and EventBridge as a plain `bool`; absent is off.
fn flag(value: impl Into<Option<bool>>) -> bool {
    value.into().unwrap_or(false)
}

struct EcsRun {
    task_definition: String,
    launch_type: Option<String>,
    capacity_provider_strategy: Vec<CapacityProviderItem>,
    platform_version: Option<String>,
    network: Option<AwsVpcConfiguration>,
    task_count: i32,
    enable_execute_command: bool,
}

impl EcsRun {
    /// The scheduled task it describes, in `cluster_arn`; the caller names it.
    fn into_task(self, scope: &Scope, cluster_arn: &str, source: ScheduleSource) -> ScheduledTask {
        ScheduledTask {
            scope: scope.clone(),
            arn: String::new(),
            name: String::new(),
            source,
            group: None,
            target_id: None,
            schedule_expression: None,
            cluster_arn: cluster_arn.to_string(),
            task_definition: self.task_definition,
            launch_type: self.launch_type,
            capacity_provider_strategy: self.capacity_provider_strategy,
            platform_version: self.platform_version,
            network: self.network,
            task_count: self.task_count,
            overrides: Vec::new(),
            enable_execute_command: self.enable_execute_command,
        }
    }
}

/// The container overrides a target's input passes to RunTask (`{"containerOverrides": […]}`),
/// judged: names and verdicts, never a value. Anything else in the input is not a task's.
fn overrides(input: Option<&str>) -> Vec<ContainerOverride> {
    let Some(input) = input.and_then(|i| serde_json::from_str::<Value>(i).ok()) else {
        return Vec::new();
    };
    let list = input.get("containerOverrides").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|o| {
            let environment = o
                .get("environment")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let name = e.get("name")?.as_str()?;
                    Some(EnvVar::judge(
                        name,
                        e.get("value").and_then(Value::as_str).unwrap_or(""),
                    ))
                })
                .collect();
            let command: Vec<String> = o
                .get("command")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            Some(ContainerOverride {
                name: o.get("name")?.as_str()?.to_string(),
                environment,
                command_secrets: classify_args(&command),
            })
        })
        .collect()
}

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let (schedules, rules) = tokio::join!(schedules(c, scope), rules(c, scope));
    Inventory {
        scheduled_tasks: schedules.into_iter().chain(rules).collect(),
        ..Inventory::default()
    }
}

async fn schedules(c: &Collector, scope: &Scope) -> Vec<ScheduledTask> {
    let client = c.session(&scope.account).scheduler(&scope.region);
    let Some(pages) = c
        .pages(scope, &ops::scheduled::LIST_SCHEDULES, None, |page| {
            client
                .list_schedules()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return Vec::new();
    };
    // A disabled schedule starts nothing; only ECS targets are workloads.
    let wanted: Vec<(String, Option<String>, String)> = pages
        .iter()
        .flat_map(|p| p.schedules())
        .filter(|s| s.state() != Some(&sc::ScheduleState::Disabled))
        .filter(|s| s.target().is_some_and(|t| is_ecs_cluster(t.arn())))
        .filter_map(|s| {
            Some((
                s.name()?.to_string(),
                s.group_name().map(str::to_string),
                s.arn().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    join_all(wanted.iter().map(|(name, group, arn)| {
        let client = client.clone();
        async move {
            let out = c
                .call(scope, &ops::scheduled::GET_SCHEDULE, Some(arn), async {
                    client
                        .get_schedule()
                        .name(name)
                        .set_group_name(group.clone())
                        .send()
                        .await
                })
                .await?;
            let target = out.target()?;
            let run = ecs_run!(target.ecs_parameters()?);
            Some(ScheduledTask {
                arn: out.arn().unwrap_or(arn).to_string(),
                name: out.name().unwrap_or(name).to_string(),
                group: out.group_name().map(str::to_string).or(group.clone()),
                schedule_expression: out.schedule_expression().map(str::to_string),
                overrides: overrides(target.input()),
                ..run.into_task(scope, target.arn(), ScheduleSource::Scheduler)
            })
        }
    }))
    .await
    .into_iter()
    .flatten()
    .collect()
}

/// Follows NextToken until it is absent or repeats: `send` asks for the page after a token
/// (through the collector, so each page is counted and a failure lands in the coverage).
/// `None` when a page failed.
async fn all_pages<T, Fut>(
    mut send: impl FnMut(Option<String>) -> Fut,
    next: impl Fn(&T) -> Option<&str>,
) -> Option<Vec<T>>
where
    Fut: std::future::Future<Output = Option<T>>,
{
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = send(token.clone()).await?;
        let after = next(&page).map(str::to_string);
        pages.push(page);
        match after {
            Some(t) if Some(&t) != token.as_ref() => token = Some(t),
            _ => return Some(pages),
        }
    }
}

async fn rules(c: &Collector, scope: &Scope) -> Vec<ScheduledTask> {
    let client = c.session(&scope.account).eventbridge(&scope.region);
    let Some(buses) = all_pages(
        |token| {
            let client = client.clone();
            c.call(scope, &ops::scheduled::LIST_EVENT_BUSES, None, async move {
                client.list_event_buses().set_next_token(token).send().await
            })
        },
        |p| p.next_token(),
    )
    .await
    else {
        return Vec::new();
    };
    let buses: Vec<String> = buses
        .iter()
        .flat_map(|p| p.event_buses())
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    let per_bus = join_all(buses.iter().map(|bus| {
        let client = client.clone();
        async move {
            let rules = all_pages(
                |token| {
                    let client = client.clone();
                    c.call(scope, &ops::scheduled::LIST_RULES, Some(bus), async move {
                        client
                            .list_rules()
                            .event_bus_name(bus)
                            .set_next_token(token)
                            .send()
                            .await
                    })
                },
                |p| p.next_token(),
            )
            .await?;
            let enabled: Vec<ev::Rule> = rules
                .iter()
                .flat_map(|p| p.rules())
                .filter(|r| r.state() != Some(&ev::RuleState::Disabled))
                .cloned()
                .collect();
            let tasks = join_all(enabled.iter().map(|rule| {
                let client = client.clone();
                async move {
                    let name = rule.name()?;
                    let arn = rule.arn().unwrap_or_default();
                    // No page size: a rule's targets (five by default) fit in one page.
                    let pages = all_pages(
                        |token| {
                            let client = client.clone();
                            c.call(
                                scope,
                                &ops::scheduled::LIST_TARGETS_BY_RULE,
                                Some(arn),
                                async move {
                                    client
                                        .list_targets_by_rule()
                                        .rule(name)
                                        .event_bus_name(bus)
                                        .set_next_token(token)
                                        .send()
                                        .await
                                },
                            )
                        },
                        |p| p.next_token(),
                    )
                    .await?;
                    Some(
                        pages
                            .iter()
                            .flat_map(|p| p.targets())
                            .filter_map(|t| rule_task(scope, rule, bus, t))
                            .collect::<Vec<_>>(),
                    )
                }
            }))
            .await;
            Some(tasks.into_iter().flatten().flatten().collect::<Vec<_>>())
        }
    }))
    .await;
    per_bus.into_iter().flatten().flatten().collect()
}

fn rule_task(scope: &Scope, rule: &ev::Rule, bus: &str, t: &ev::Target) -> Option<ScheduledTask> {
    let run = ecs_run!(t.ecs_parameters()?);
    Some(ScheduledTask {
        arn: rule.arn().unwrap_or_default().to_string(),
        name: rule.name().unwrap_or_default().to_string(),
        group: Some(bus.to_string()),
        target_id: Some(t.id().to_string()),
        schedule_expression: rule.schedule_expression().map(str::to_string),
        overrides: overrides(t.input()),
        ..run.into_task(scope, t.arn(), ScheduleSource::EventsRule)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_overrides_are_judged_and_their_recorded_form_judges_the_same() {
        let input = r#"{"containerOverrides":[{"name":"app","environment":[{"name":"DB_PASSWORD","value":"hunter2-prod"},{"name":"MODE","value":"full"}],"command":["export","--token","s3cr3t-value-77"]}],"taskRoleArn":"arn:aws:iam::1:role/x"}"#;
        let live = overrides(Some(input));
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].name, "app");
        let secret: Vec<&str> = live[0]
            .environment
            .iter()
            .filter(|v| v.secret.is_some())
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(secret, ["DB_PASSWORD"]);
        assert_eq!(live[0].command_secrets.len(), 1);
        // What a recording keeps of the input gives the same verdicts.
        let ex = crate::http::recording::Exchange::new(
            crate::http::recording::RequestKey {
                account: None,
                service: "events".into(),
                region: "us-east-1".into(),
                operation: "ListTargetsByRule".into(),
                params: serde_json::json!({}),
            },
            200,
            &[("content-type".into(), "application/x-amz-json-1.1".into())],
            serde_json::json!({"Targets": [{"Id": "t", "Input": input}]})
                .to_string()
                .as_bytes(),
        );
        let recorded = ex.body["Targets"][0]["Input"].as_str().unwrap().to_string();
        assert!(!recorded.contains("hunter2") && !recorded.contains("s3cr3t"));
        assert_eq!(overrides(Some(&recorded)), live);
        assert!(overrides(Some("not json")).is_empty());
        assert!(overrides(None).is_empty());
    }
}
