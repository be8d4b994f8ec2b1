//! ECS: clusters (100 per DescribeClusters), their running standalone tasks (ListTasks,
//! DescribeTasks 100 a call), their container instances (ListContainerInstances,
//! DescribeContainerInstances 100 a call), services (10 per DescribeServices, with their task sets) and
//! every task definition those services, their deployments and their live task sets use,
//! each described once, as soon as the batch of services that uses it is back; the Auto
//! Scaling group capacity providers the clusters name (100 per DescribeCapacityProviders)
//! and, in regions with clusters, the effective account settings (two pages of
//! ListAccountSettings).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use aws_sdk_ecs::types::{self as t, ClusterField, ServiceField};
use checks::model::{
    AwsVpcConfiguration, CapacityProviderItem, CircuitBreaker, ContainerDefinition,
    ContainerHealthCheck, DeploymentAlarms, DeploymentConfiguration, EcsAccountSetting,
    EcsCapacityProvider, EcsCluster, EcsContainerInstance, EcsDeployment, EcsService, EcsTaskSet,
    EfsVolume, EnvVar, Inventory, KeyValue, PortMapping, Scope, ServiceEvent, ServiceLoadBalancer,
    StandaloneTasks, TaskDefinition,
};
use checks::secrets::classify_args;
use futures::future::join_all;

use super::{ops, rfc3339, tag_map, Collector};

use crate::sync;

/// Events kept per service: enough to see a recent deployment's errors.
const EVENTS_KEPT: usize = 25;

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).ecs(&scope.region);
    let mut inv = Inventory::default();

    let Some(pages) = c
        .pages(scope, &ops::ecs::LIST_CLUSTERS, None, |page| {
            client
                .list_clusters()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return inv;
    };
    let cluster_arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.cluster_arns().iter().cloned())
        .collect();

    // No cluster: no services, tasks, capacity providers, nor settings they would use.
    if cluster_arns.is_empty() {
        return inv;
    }
    // Clusters are described while their services are listed, and each batch of services
    // has its task definitions described as soon as it is back: no step waits for a whole
    // region's worth of the step before it. Each task definition is described once.
    let claimed: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let ((described, providers), per_cluster, settings) = tokio::join!(
        async {
            let described = join_all(c.batches(
                scope,
                &ops::ecs::DESCRIBE_CLUSTERS,
                None,
                &cluster_arns,
                |batch| {
                    client
                        .describe_clusters()
                        .set_clusters(Some(batch))
                        .include(ClusterField::Settings)
                        .include(ClusterField::Tags)
                        .send()
                },
            ))
            .await;
            let providers = capacity_providers(c, &client, scope, &described).await;
            (described, providers)
        },
        join_all(cluster_arns.iter().map(|arn| async {
            let (svcs, standalone, instances) = tokio::join!(
                services(c, &client, scope, arn, &claimed),
                standalone_tasks(c, &client, scope, arn),
                container_instances(c, &client, scope, arn),
            );
            ((svcs, standalone), instances)
        })),
        account_settings(c, &client, scope),
    );
    inv.ecs_capacity_providers = providers;
    inv.ecs_account_settings = settings;
    for (_, out) in described {
        for cl in out.iter().flat_map(|o| o.clusters()) {
            let ecs = cluster(scope, cl);
            inv.resource_tags.insert(
                ecs.arn.clone(),
                tag_map(cl.tags().iter().map(|t| (t.key(), t.value()))),
            );
            inv.ecs_clusters.push(ecs);
        }
    }
    for (((svcs, task_defs), standalone), instances) in per_cluster {
        inv.ecs_container_instances.extend(instances);
        for (svc, tags) in svcs {
            inv.resource_tags.extend(tags);
            inv.ecs_services.push(svc);
        }
        inv.task_definitions.extend(task_defs);
        inv.standalone_tasks.extend(standalone);
    }
    inv
}

/// The Auto Scaling group capacity providers the clusters name (`FARGATE` and
/// `FARGATE_SPOT` are AWS's own), 100 per DescribeCapacityProviders.
async fn capacity_providers(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
    described: &[(
        Vec<String>,
        Option<aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput>,
    )],
) -> Vec<EcsCapacityProvider> {
    let names: Vec<String> = described
        .iter()
        .filter_map(|(_, o)| o.as_ref())
        .flat_map(|o| o.clusters())
        .flat_map(|cl| cl.capacity_providers())
        .filter(|n| !n.eq_ignore_ascii_case("FARGATE") && !n.eq_ignore_ascii_case("FARGATE_SPOT"))
        .cloned()
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    join_all(c.batches(
        scope,
        &ops::ecs::DESCRIBE_CAPACITY_PROVIDERS,
        None,
        &names,
        |batch| {
            client
                .describe_capacity_providers()
                .set_capacity_providers(Some(batch))
                .send()
        },
    ))
    .await
    .iter()
    .filter_map(|(_, o)| o.as_ref())
    .flat_map(|o| o.capacity_providers())
    .map(|p| {
        let asg = p.auto_scaling_group_provider();
        EcsCapacityProvider {
            scope: scope.clone(),
            arn: p.capacity_provider_arn().unwrap_or_default().to_string(),
            name: p.name().unwrap_or_default().to_string(),
            status: p.status().map_or(String::new(), |s| s.as_str().to_string()),
            auto_scaling_group_arn: asg.map(|a| a.auto_scaling_group_arn().to_string()),
            managed_scaling: asg
                .and_then(|a| a.managed_scaling())
                .and_then(|m| m.status())
                .map(|s| s.as_str().to_string()),
            managed_termination_protection: asg
                .and_then(|a| a.managed_termination_protection())
                .map(|m| m.as_str().to_string()),
        }
    })
    .collect()
}

/// The region's effective ECS account settings (ListAccountSettings, effective settings,
/// every name, 10 a page): ECS022 reads `defaultLogDriverMode`. Asked without a name
/// filter, so a region costs the same two pages whatever settings exist.
async fn account_settings(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
) -> Vec<EcsAccountSetting> {
    let Some(pages) = c
        .pages(scope, &ops::ecs::LIST_ACCOUNT_SETTINGS, None, |page| {
            client
                .list_account_settings()
                .effective_settings(true)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return Vec::new();
    };
    pages
        .iter()
        .flat_map(|p| p.settings())
        .filter_map(|s| {
            Some(EcsAccountSetting {
                scope: scope.clone(),
                name: s.name()?.as_str().to_string(),
                value: s.value()?.to_string(),
            })
        })
        .collect()
}

/// The instances registered to a cluster (ListContainerInstances, 100 a page, every
/// status; DescribeContainerInstances, 100 a call), with their `ecs.*` attributes.
async fn container_instances(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
    cluster_arn: &str,
) -> Vec<EcsContainerInstance> {
    let Some(pages) = c
        .pages(
            scope,
            &ops::ecs::LIST_CONTAINER_INSTANCES,
            Some(cluster_arn),
            |page| {
                client
                    .list_container_instances()
                    .cluster(cluster_arn)
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            },
        )
        .await
    else {
        return Vec::new();
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.container_instance_arns().iter().cloned())
        .collect();
    join_all(c.batches(
        scope,
        &ops::ecs::DESCRIBE_CONTAINER_INSTANCES,
        Some(cluster_arn),
        &arns,
        |batch| {
            client
                .describe_container_instances()
                .cluster(cluster_arn)
                .set_container_instances(Some(batch))
                .send()
        },
    ))
    .await
    .iter()
    .filter_map(|(_, o)| o.as_ref())
    .flat_map(|o| o.container_instances())
    .map(|ci| EcsContainerInstance {
        scope: scope.clone(),
        arn: ci.container_instance_arn().unwrap_or_default().to_string(),
        cluster_arn: cluster_arn.to_string(),
        ec2_instance_id: ci.ec2_instance_id().map(str::to_string),
        status: ci.status().unwrap_or_default().to_string(),
        agent_connected: ci.agent_connected(),
        running_tasks_count: ci.running_tasks_count(),
        attributes: ci
            .attributes()
            .iter()
            .filter(|a| a.name().starts_with("ecs."))
            .map(|a| {
                (
                    a.name().to_string(),
                    a.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
    })
    .collect()
}

/// Who started a task that belongs to another workload: a service or task set deployment
/// (`ecs-svc/…`), an EventBridge rule (`events-rule/…`), EventBridge Scheduler
/// (`chronos-schedule/…`, cut to 36 characters). Those tasks are judged as that workload.
const OTHER_WORKLOADS: [&str; 3] = ["ecs-svc/", "events-rule/", "chronos-schedule/"];

/// The running tasks of a cluster that no service, task set or schedule started
/// (ListTasks, 100 a page, desired status RUNNING; DescribeTasks, 100 a call), grouped by
/// (task group, task definition): a job that runs many copies is one workload.
async fn standalone_tasks(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
    cluster_arn: &str,
) -> Vec<StandaloneTasks> {
    let Some(pages) = c
        .pages(scope, &ops::ecs::LIST_TASKS, Some(cluster_arn), |page| {
            client
                .list_tasks()
                .cluster(cluster_arn)
                .desired_status(t::DesiredStatus::Running)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return Vec::new();
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.task_arns().iter().cloned())
        .collect();
    let described = join_all(c.batches(
        scope,
        &ops::ecs::DESCRIBE_TASKS,
        Some(cluster_arn),
        &arns,
        |batch| {
            client
                .describe_tasks()
                .cluster(cluster_arn)
                .set_tasks(Some(batch))
                .send()
        },
    ))
    .await;
    let mut groups: BTreeMap<(String, String), StandaloneTasks> = BTreeMap::new();
    for task in described
        .iter()
        .filter_map(|(_, o)| o.as_ref())
        .flat_map(|o| o.tasks())
    {
        let group = task.group().unwrap_or_default();
        let started_by = task.started_by().filter(|b| !b.is_empty());
        let other = group.starts_with("service:")
            || started_by.is_some_and(|b| OTHER_WORKLOADS.iter().any(|p| b.starts_with(p)));
        let Some(task_definition) = task.task_definition_arn().filter(|_| !other) else {
            continue;
        };
        let entry = groups
            .entry((group.to_string(), task_definition.to_string()))
            .or_insert_with(|| StandaloneTasks {
                scope: scope.clone(),
                arn: format!("{cluster_arn}/standalone/{group}"),
                cluster_arn: cluster_arn.to_string(),
                group: group.to_string(),
                task_definition: task_definition.to_string(),
                started_by: started_by.map(str::to_string),
                launch_type: launch_type(task.launch_type()),
                capacity_provider: task.capacity_provider_name().map(str::to_string),
                platform_version: task.platform_version().map(str::to_string),
                subnets: Vec::new(),
                task_arns: Vec::new(),
                enable_execute_command: false,
            });
        entry.enable_execute_command |= task.enable_execute_command();
        entry
            .task_arns
            .push(task.task_arn().unwrap_or_default().to_string());
        let subnets = task
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .filter(|d| d.name() == Some("subnetId"))
            .filter_map(|d| d.value());
        for subnet in subnets {
            if !entry.subnets.iter().any(|s| s == subnet) {
                entry.subnets.push(subnet.to_string());
            }
        }
    }
    groups.into_values().collect()
}

/// Tags by ARN: a service's, and its task sets' where the response carries them.
type TagsByArn = Vec<(String, BTreeMap<String, String>)>;

/// The services of a cluster (each with its [`TagsByArn`]), and the task definitions they
/// (and their deployments) use that no other batch has claimed.
async fn services(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
    cluster_arn: &str,
    claimed: &Mutex<BTreeSet<String>>,
) -> (Vec<(EcsService, TagsByArn)>, Vec<TaskDefinition>) {
    let Some(pages) = c
        .pages(scope, &ops::ecs::LIST_SERVICES, Some(cluster_arn), |page| {
            client
                .list_services()
                .cluster(cluster_arn)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return (Vec::new(), Vec::new());
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.service_arns().iter().cloned())
        .collect();
    let described = c.batches(
        scope,
        &ops::ecs::DESCRIBE_SERVICES,
        Some(cluster_arn),
        &arns,
        |batch| {
            client
                .describe_services()
                .cluster(cluster_arn)
                .set_services(Some(batch))
                .include(ServiceField::Tags)
                .send()
        },
    );
    // Each batch's task definitions are described as soon as the batch is back.
    let batches = join_all(described.map(|call| async move {
        let (_, Some(out)) = call.await else {
            return (Vec::new(), Vec::new());
        };
        let services: Vec<(EcsService, TagsByArn)> = out
            .services()
            .iter()
            .map(|s| {
                let svc = service(scope, cluster_arn, s);
                let mut tags = vec![(
                    svc.arn.clone(),
                    tag_map(s.tags().iter().map(|t| (t.key(), t.value()))),
                )];
                // Task sets carry tags where the response includes them (no extra call);
                // absent ones stay unknown rather than "none".
                tags.extend(
                    s.task_sets()
                        .iter()
                        .filter(|ts| !ts.tags().is_empty())
                        .filter_map(|ts| {
                            let arn = ts.task_set_arn()?.to_string();
                            Some((arn, tag_map(ts.tags().iter().map(|t| (t.key(), t.value())))))
                        }),
                );
                (svc, tags)
            })
            .collect();
        let mine: Vec<String> = {
            let mut claimed = sync::lock(claimed);
            services
                .iter()
                .flat_map(|(s, _)| {
                    std::iter::once(s.task_definition.clone())
                        .chain(s.deployments.iter().map(|d| d.task_definition.clone()))
                        .chain(
                            s.task_sets
                                .iter()
                                .filter(|t| t.is_live())
                                .map(|t| t.task_definition.clone()),
                        )
                })
                .filter(|a| !a.is_empty())
                .collect::<BTreeSet<String>>()
                .into_iter()
                .filter(|a| claimed.insert(a.clone()))
                .collect()
        };
        let task_defs = join_all(
            mine.iter()
                .map(|arn| describe_task_definition(c, client, scope, arn)),
        )
        .await
        .into_iter()
        .flatten()
        .collect();
        (services, task_defs)
    }))
    .await;
    let mut services = Vec::new();
    let mut task_defs = Vec::new();
    for (s, t) in batches {
        services.extend(s);
        task_defs.extend(t);
    }
    (services, task_defs)
}

fn capacity_items(v: &[t::CapacityProviderStrategyItem]) -> Vec<CapacityProviderItem> {
    v.iter()
        .map(|i| CapacityProviderItem {
            capacity_provider: i.capacity_provider().to_string(),
            weight: i.weight(),
            base: i.base(),
        })
        .collect()
}

fn cluster(scope: &Scope, c: &t::Cluster) -> EcsCluster {
    EcsCluster {
        scope: scope.clone(),
        arn: c.cluster_arn().unwrap_or_default().to_string(),
        name: c.cluster_name().unwrap_or_default().to_string(),
        status: c.status().unwrap_or_default().to_string(),
        settings: c
            .settings()
            .iter()
            .filter_map(|s| {
                Some((
                    s.name()?.as_str().to_string(),
                    s.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        capacity_providers: c.capacity_providers().to_vec(),
        default_capacity_provider_strategy: capacity_items(c.default_capacity_provider_strategy()),
        active_services_count: c.active_services_count(),
        running_tasks_count: c.running_tasks_count(),
        registered_container_instances_count: c.registered_container_instances_count(),
    }
}

fn awsvpc(n: Option<&t::NetworkConfiguration>) -> Option<AwsVpcConfiguration> {
    n.and_then(|n| n.awsvpc_configuration())
        .map(|v| AwsVpcConfiguration {
            subnets: v.subnets().to_vec(),
            security_groups: v.security_groups().to_vec(),
            assign_public_ip: v.assign_public_ip().map(|a| a.as_str().to_string()),
        })
}

fn load_balancers(v: &[t::LoadBalancer]) -> Vec<ServiceLoadBalancer> {
    v.iter()
        .map(|lb| ServiceLoadBalancer {
            target_group_arn: lb.target_group_arn().map(str::to_string),
            load_balancer_name: lb.load_balancer_name().map(str::to_string),
            container_name: lb.container_name().map(str::to_string),
            container_port: lb.container_port(),
        })
        .collect()
}

/// A launch type as reported; an empty one (emulators send it for capacity provider runs)
/// is none.
fn launch_type(l: Option<&t::LaunchType>) -> Option<String> {
    l.map(|l| l.as_str().to_string()).filter(|l| !l.is_empty())
}

fn task_set(ts: &t::TaskSet) -> EcsTaskSet {
    EcsTaskSet {
        arn: ts.task_set_arn().unwrap_or_default().to_string(),
        id: ts.id().unwrap_or_default().to_string(),
        status: ts.status().unwrap_or_default().to_string(),
        task_definition: ts.task_definition().unwrap_or_default().to_string(),
        launch_type: launch_type(ts.launch_type()),
        capacity_provider_strategy: capacity_items(ts.capacity_provider_strategy()),
        platform_version: ts.platform_version().map(str::to_string),
        network: awsvpc(ts.network_configuration()),
        load_balancers: load_balancers(ts.load_balancers()),
        scale_percent: ts.scale().map(|s| s.value()),
        computed_desired_count: ts.computed_desired_count(),
        running_count: ts.running_count(),
        pending_count: ts.pending_count(),
    }
}

fn service(scope: &Scope, cluster_arn: &str, s: &t::Service) -> EcsService {
    let deployment_configuration = s
        .deployment_configuration()
        .map(|d| DeploymentConfiguration {
            maximum_percent: d.maximum_percent(),
            minimum_healthy_percent: d.minimum_healthy_percent(),
            circuit_breaker: d.deployment_circuit_breaker().map(|b| CircuitBreaker {
                enable: b.enable(),
                rollback: b.rollback(),
            }),
            alarms: d.alarms().map(|a| DeploymentAlarms {
                alarm_names: a.alarm_names().to_vec(),
                enable: a.enable(),
                rollback: a.rollback(),
            }),
        });
    let network = awsvpc(s.network_configuration());
    EcsService {
        scope: scope.clone(),
        arn: s.service_arn().unwrap_or_default().to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        cluster_arn: s.cluster_arn().unwrap_or(cluster_arn).to_string(),
        status: s.status().unwrap_or_default().to_string(),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        capacity_provider_strategy: capacity_items(s.capacity_provider_strategy()),
        platform_version: s.platform_version().map(str::to_string),
        scheduling_strategy: s.scheduling_strategy().map(|x| x.as_str().to_string()),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        deployment_controller: s
            .deployment_controller()
            .map(|d| d.r#type().as_str().to_string()),
        deployment_configuration,
        load_balancers: load_balancers(s.load_balancers()),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds(),
        network,
        deployments: s
            .deployments()
            .iter()
            .map(|d| EcsDeployment {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().unwrap_or_default().to_string(),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                desired_count: d.desired_count(),
                running_count: d.running_count(),
                pending_count: d.pending_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect(),
        events: s
            .events()
            .iter()
            .take(EVENTS_KEPT)
            .map(|e| ServiceEvent {
                created_at: rfc3339(e.created_at()),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
        task_sets: s.task_sets().iter().map(task_set).collect(),
        enable_execute_command: s.enable_execute_command(),
    }
}

fn task_definition(scope: &Scope, td: &t::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        scope: scope.clone(),
        arn: td.task_definition_arn().unwrap_or_default().to_string(),
        family: td.family().unwrap_or_default().to_string(),
        revision: td.revision(),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        pid_mode: td.pid_mode().map(|m| m.as_str().to_string()),
        ipc_mode: td.ipc_mode().map(|m| m.as_str().to_string()),
        os_family: td
            .runtime_platform()
            .and_then(|p| p.operating_system_family())
            .map(|f| f.as_str().to_string()),
        cpu_architecture: td
            .runtime_platform()
            .and_then(|p| p.cpu_architecture())
            .map(|a| a.as_str().to_string()),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        task_role_arn: td.task_role_arn().map(str::to_string),
        execution_role_arn: td.execution_role_arn().map(str::to_string),
        cpu: td.cpu().map(str::to_string),
        memory: td.memory().map(str::to_string),
        containers: td.container_definitions().iter().map(container).collect(),
        efs_volumes: td
            .volumes()
            .iter()
            .filter_map(|v| {
                let efs = v.efs_volume_configuration()?;
                Some(EfsVolume {
                    name: v.name().unwrap_or_default().to_string(),
                    file_system_id: efs.file_system_id().to_string(),
                    transit_encryption: efs.transit_encryption().map(|t| t.as_str().to_string()),
                    iam: efs
                        .authorization_config()
                        .and_then(|a| a.iam())
                        .map(|i| i.as_str().to_string()),
                })
            })
            .collect(),
    }
}

fn container(c: &t::ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_string(),
        image: c.image().unwrap_or_default().to_string(),
        essential: c.essential().unwrap_or(true),
        port_mappings: c
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: p.container_port(),
                host_port: p.host_port(),
                protocol: p.protocol().map(|p| p.as_str().to_string()),
            })
            .collect(),
        // Only the detector's verdicts are kept, never a value.
        environment: c
            .environment()
            .iter()
            .map(|kv| {
                EnvVar::judge(
                    kv.name().unwrap_or_default(),
                    kv.value().unwrap_or_default(),
                )
            })
            .collect(),
        command_secrets: classify_args(c.command()),
        entry_point_secrets: classify_args(c.entry_point()),
        secrets: c
            .secrets()
            .iter()
            .map(|s| KeyValue {
                name: s.name().to_string(),
                value: s.value_from().to_string(),
            })
            .collect(),
        has_health_check: c.health_check().is_some(),
        health_check: c.health_check().map(|h| ContainerHealthCheck {
            interval: h.interval(),
            timeout: h.timeout(),
            retries: h.retries(),
            start_period: h.start_period(),
        }),
        log_driver: c
            .log_configuration()
            .map(|l| l.log_driver().as_str().to_string()),
        log_options: c
            .log_configuration()
            .and_then(|l| l.options())
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        log_secret_options: c
            .log_configuration()
            .map(|l| l.secret_options())
            .unwrap_or_default()
            .iter()
            .map(|s| KeyValue {
                name: s.name().to_string(),
                value: s.value_from().to_string(),
            })
            .collect(),
        repository_credentials: c
            .repository_credentials()
            .map(|r| r.credentials_parameter().to_string()),
        privileged: c.privileged(),
        capabilities_add: c
            .linux_parameters()
            .and_then(|l| l.capabilities())
            .map(|cap| cap.add().to_vec())
            .unwrap_or_default(),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        user: c.user().map(str::to_string),
    }
}

/// One task definition, by ARN, `family:revision` or family (its latest ACTIVE revision).
async fn describe_task_definition(
    c: &Collector,
    client: &aws_sdk_ecs::Client,
    scope: &Scope,
    reference: &str,
) -> Option<TaskDefinition> {
    let out = c
        .call(
            scope,
            &ops::ecs::DESCRIBE_TASK_DEFINITION,
            Some(reference),
            async {
                client
                    .describe_task_definition()
                    .task_definition(reference)
                    .send()
                    .await
            },
        )
        .await?;
    Some(task_definition(scope, out.task_definition()?))
}

/// Describes the task definitions that scheduled and standalone tasks name and no service
/// batch described, once each, and returns each reference with the revision it resolved to
/// (a family alone means its latest ACTIVE revision).
pub async fn describe_references(
    c: &Collector,
    scope: &Scope,
    references: &BTreeSet<String>,
) -> Vec<(String, TaskDefinition)> {
    let client = c.session(&scope.account).ecs(&scope.region);
    join_all(references.iter().map(|reference| {
        let client = &client;
        async move {
            let td = describe_task_definition(c, client, scope, reference).await?;
            Some((reference.clone(), td))
        }
    }))
    .await
    .into_iter()
    .flatten()
    .collect()
}
