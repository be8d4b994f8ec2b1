//! ELB001: awsvpc tasks (or EKS Fargate pods) behind a target group of target type `instance`.
//!
//! AWS rejects the pairing when a service is created today, so the steady state often shows
//! only the scar: the check looks at the configuration, at the service's own error events,
//! and at deployments stuck with no healthy targets. All paths use the target group ARN as
//! discriminator, so two paths that see the same mistake collapse into one finding.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EcsWorkload, LB_CONTROLLER_CLUSTER_TAG};
use crate::model::{EcsService, EksCluster, EksFargateProfile, TargetGroup, TaskDefinition};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::cluster_compute_complete;

declare_check! {
    /// ## What it finds
    ///
    /// Load-balanced workloads whose tasks or pods own their network interface (awsvpc)
    /// behind a target group of target type `instance`:
    ///
    /// 1. an ECS service whose `loadBalancers[].targetGroupArn` is an `instance` target
    ///    group while its task definition uses `networkMode: awsvpc` (every Fargate task, and
    ///    EC2 tasks in awsvpc mode);
    /// 2. an ECS service whose recent events carry the error that the target group's target
    ///    type `instance` is incompatible with awsvpc, or whose in-progress or failed
    ///    deployment of an awsvpc task definition has zero healthy targets in its `instance`
    ///    target group;
    /// 3. on EKS, a target group the AWS Load Balancer Controller manages for a cluster
    ///    (tag `elbv2.k8s.aws/cluster`) with target type `instance`, where the pods it serves
    ///    run on Fargate: its namespace is selected by an ACTIVE Fargate profile, or the
    ///    cluster has Fargate profiles and no other compute.
    ///
    /// Task definitions in `bridge` or `host` mode on `instance` target groups are correct and
    /// never reported.
    ///
    /// ## Why it matters
    ///
    /// An awsvpc task is reachable at its own IP address, not at a port of the host; Fargate
    /// has no host the load balancer could target at all. An `instance` target group never
    /// gets a healthy target for such tasks, so the listener answers 503 and deployments
    /// wait for health checks that cannot pass.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[0].{taskDefinition:taskDefinition,loadBalancers:loadBalancers,events:events[:5].message}'
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION --query 'taskDefinition.networkMode'
    /// aws elbv2 describe-target-groups --target-group-arns TARGET_GROUP_ARN --query 'TargetGroups[0].TargetType'
    /// aws elbv2 describe-target-health --target-group-arn TARGET_GROUP_ARN
    /// ```
    ///
    /// For EKS:
    ///
    /// ```sh
    /// aws elbv2 describe-tags --resource-arns TARGET_GROUP_ARN
    /// aws eks list-fargate-profiles --cluster-name CLUSTER
    /// aws eks describe-fargate-profile --cluster-name CLUSTER --fargate-profile-name PROFILE \
    ///   --query 'fargateProfile.selectors'
    /// ```
    ///
    /// ## How to fix
    ///
    /// The target type of a target group cannot be changed. For ECS, create a target group
    /// of type `ip` with the same protocol, port and health check, point the listener rules
    /// at it, and update the service to use it (`aws ecs update-service … --load-balancers
    /// targetGroupArn=NEW_ARN,containerName=NAME,containerPort=PORT`). For EKS, set the
    /// target type to `ip` (`alb.ingress.kubernetes.io/target-type: ip` on the Ingress, or
    /// `service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip` on the Service);
    /// the controller then creates an `ip` target group.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-considerations.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-type
    /// - https://docs.aws.amazon.com/eks/latest/userguide/alb-ingress.html
    /// - https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#target-type
    pub static ELB001 = {
        code: "ELB001",
        name: "awsvpc-service-on-instance-target-group",
        severity: Severity::High,
        summary: "awsvpc ECS service or EKS Fargate pods behind a target group of target type `instance`",
        needs: [
            "ecs:ListClusters",
            "ecs:ListServices",
            "ecs:DescribeServices",
            "ecs:DescribeTaskDefinition",
            "elbv2:DescribeTargetGroups",
            "elbv2:DescribeTags",
            "elbv2:DescribeTargetHealth",
        ],
        eks_compute: true,
        run: run,
    };
}

/// Target group ARNs inside event text.
static TG_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]+/[0-9A-Za-z]+")
        .expect("the target group ARN pattern is valid")
});

/// The service event ECS writes when it cannot register awsvpc tasks with an `instance`
/// target group ("… has target type instance, which is incompatible with the awsvpc network
/// mode …"). Matched loosely (case, spacing, wording around the two key phrases), so a
/// rewording by AWS does not silence it.
fn is_incompatibility_event(message: &str) -> bool {
    let words: Vec<String> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let text = words.join(" ");
    text.contains("target type instance") && text.contains("awsvpc")
}

fn ecs_remediation(svc: &EcsService, tg_name: &str) -> String {
    format!(
        "Create a target group of target type `ip` with the same protocol, port and health check as `{tg_name}`, point the listener rules at it and update service `{}` to use it; the target type of an existing target group cannot be changed.",
        svc.name
    )
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for svc in ctx.inventory.ecs_services.iter().filter(|s| s.is_live()) {
        check_service(ctx, out, svc);
    }
    // Task sets carry their own load balancers and task definition: a canary on an
    // `instance` group is as broken as a service would be. Filed on the service, so the same
    // mistake in the service's primary task set stays one finding.
    for w in ctx.graph.ecs_workloads() {
        if let EcsWorkload::TaskSet(svc, _) = w {
            check_task_set(ctx, out, w, svc);
        }
    }
    for tg in &ctx.inventory.target_groups {
        check_eks_target_group(ctx, out, tg);
    }
}

fn tg_evidence(ctx: &Ctx<'_>, tg: &TargetGroup) -> Evidence {
    let lbs = ctx.graph.load_balancers_of(&tg.arn);
    let lbs = if lbs.is_empty() {
        String::from("not attached to a load balancer")
    } else {
        format!("behind {}", lbs.join(", "))
    };
    Evidence::new(
        &tg.arn,
        format!("target group `{}` has target type instance; {lbs}", tg.name),
    )
}

/// Path 1, the configuration itself: each `instance` target group the workload registers
/// in while its task definition uses awsvpc, with the finding's message and evidence.
fn config_mismatches<'g>(
    ctx: &Ctx<'g>,
    w: &EcsWorkload<'_>,
) -> Vec<(&'g TargetGroup, String, Vec<Evidence>)> {
    let Some(td) = ctx
        .graph
        .task_definition(w.task_definition())
        .filter(|td| td.is_awsvpc())
    else {
        return Vec::new();
    };
    let runs = match w {
        EcsWorkload::Service(_) => format!("task definition `{}`", td.label()),
        _ => w.runs_fact(&td.label()),
    };
    ctx.graph
        .workload_target_groups(w)
        .into_iter()
        .filter(|tg| tg.is_instance_type())
        .map(|tg| {
            let message = format!(
                "{} uses target group `{}` of target type `instance`, but its task definition `{}` uses awsvpc networking: its tasks never become healthy targets and clients get 503s",
                w.describe(),
                tg.name,
                td.label()
            );
            let evidence = vec![
                Evidence::new(
                    w.arn(),
                    format!("loadBalancers use target group `{}`; {runs}", tg.name),
                ),
                tg_evidence(ctx, tg),
                Evidence::new(&td.arn, "networkMode awsvpc"),
            ];
            (tg, message, evidence)
        })
        .collect()
}

fn check_task_set(ctx: &Ctx<'_>, out: &mut Emitter<'_>, w: &EcsWorkload<'_>, svc: &EcsService) {
    for (tg, message, evidence) in config_mismatches(ctx, w) {
        out.report(
            w.scope(),
            Report {
                severity: Severity::High,
                resource: w.resource().to_string(),
                discriminator: tg.arn.clone(),
                message,
                remediation: ecs_remediation(svc, &tg.name),
                evidence,
            },
        );
    }
}

fn check_service(ctx: &Ctx<'_>, out: &mut Emitter<'_>, svc: &EcsService) {
    let graph = ctx.graph;
    let instance_tgs: Vec<&TargetGroup> = graph
        .service_target_groups(svc)
        .into_iter()
        .filter(|tg| tg.is_instance_type())
        .collect();
    let current = graph.task_definition(&svc.task_definition);
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut report = |out: &mut Emitter<'_>,
                      (tg_arn, tg_name): (&str, &str),
                      message: String,
                      evidence: Vec<Evidence>| {
        if reported.insert(tg_arn.to_string()) {
            out.report(
                &svc.scope,
                Report {
                    severity: Severity::High,
                    resource: svc.arn.clone(),
                    discriminator: tg_arn.to_string(),
                    message,
                    remediation: ecs_remediation(svc, tg_name),
                    evidence,
                },
            );
        }
    };

    // 1. The configuration itself.
    for (tg, message, evidence) in config_mismatches(ctx, &EcsWorkload::Service(svc)) {
        report(out, (&tg.arn, &tg.name), message, evidence);
    }

    // 2a. ECS's own error event. Ignored once the current revision is known not to be awsvpc
    // or the target group is no longer attached: the event then records a fixed mistake.
    if current.is_none_or(TaskDefinition::is_awsvpc) {
        for event in svc
            .events
            .iter()
            .filter(|e| is_incompatibility_event(&e.message))
        {
            let named: Vec<String> = match TG_ARN.find(&event.message) {
                Some(m) => vec![m.as_str().to_string()],
                None => instance_tgs.iter().map(|tg| tg.arn.clone()).collect(),
            };
            for tg_arn in named {
                if !svc.target_group_arns().any(|a| a == tg_arn) {
                    continue;
                }
                let tg = graph.target_group(&tg_arn);
                if tg.is_some_and(|tg| !tg.is_instance_type()) {
                    continue;
                }
                let tg_name = tg.map_or(tg_arn.as_str(), |tg| tg.name.as_str());
                let when = event.created_at.as_deref().unwrap_or("recently");
                let mut evidence = vec![Evidence::new(
                    &svc.arn,
                    format!("event ({when}): {}", event.message),
                )];
                evidence.extend(tg.map(|tg| tg_evidence(ctx, tg)));
                report(
                    out,
                    (&tg_arn, tg_name),
                    format!(
                        "service `{}` reports that target group `{tg_name}` of target type `instance` is incompatible with the awsvpc network mode of its task definition",
                        svc.name
                    ),
                    evidence,
                );
            }
        }
    }

    // 2b. A deployment of an awsvpc revision stuck with nothing healthy behind the group.
    let mut missing_td = current.is_none();
    for d in &svc.deployments {
        let live = matches!(d.status.to_ascii_uppercase().as_str(), "PRIMARY" | "ACTIVE");
        let stuck = d.rollout_state.as_deref().is_some_and(|r| {
            r.eq_ignore_ascii_case("IN_PROGRESS") || r.eq_ignore_ascii_case("FAILED")
        });
        if !live || !stuck {
            continue;
        }
        let Some(td) = graph.task_definition(&d.task_definition) else {
            missing_td = true;
            continue;
        };
        if !td.is_awsvpc() {
            continue;
        }
        for tg in instance_tgs
            .iter()
            .filter(|tg| tg.healthy_targets() == Some(0))
        {
            report(
                out,
                (&tg.arn, &tg.name),
                format!(
                    "deployment {} of service `{}` (task definition `{}`, awsvpc) has 0 healthy targets in target group `{}` of target type `instance`",
                    d.id,
                    svc.name,
                    td.label(),
                    tg.name
                ),
                vec![
                    Evidence::new(
                        &svc.arn,
                        format!(
                            "deployment {} is {} with rollout {}: {} running, {} failed tasks",
                            d.id,
                            d.status,
                            d.rollout_state.as_deref().unwrap_or("unknown"),
                            d.running_count,
                            d.failed_tasks
                        ),
                    ),
                    tg_evidence(ctx, tg),
                    Evidence::new(&tg.arn, "0 healthy targets"),
                    Evidence::new(&td.arn, "networkMode awsvpc"),
                ],
            );
        }
    }

    // Without the task definition the pairing cannot be judged: say so rather than pass.
    if reported.is_empty() && missing_td && !instance_tgs.is_empty() {
        out.unknown(
            &svc.scope,
            Some(&svc.arn),
            format!(
                "task definition {} of service `{}` was not collected; cannot tell whether it uses awsvpc behind an `instance` target group",
                svc.task_definition, svc.name
            ),
        );
    }
}

/// The Kubernetes namespace of a controller-managed target group: the stack tag's value is
/// `namespace/name` (an IngressGroup's stack is just the group name: no namespace).
fn k8s_namespace(tg: &TargetGroup) -> Option<&str> {
    let stack = tg
        .tag("service.k8s.aws/stack")
        .or_else(|| tg.tag("ingress.k8s.aws/stack"))?;
    stack
        .split_once('/')
        .map(|(ns, _)| ns)
        .filter(|ns| !ns.is_empty())
}

fn check_eks_target_group(ctx: &Ctx<'_>, out: &mut Emitter<'_>, tg: &TargetGroup) {
    if !tg.is_instance_type() || tg.tag(LB_CONTROLLER_CLUSTER_TAG).is_none() {
        return;
    }
    let Some(cluster) = ctx.graph.target_group_cluster(tg) else {
        return;
    };
    let compute = ctx.graph.cluster_compute(cluster);
    if compute.active_fargate_profiles.is_empty() {
        return;
    }
    let namespace = k8s_namespace(tg);
    // A profile selecting the whole namespace (no label selector) takes every pod of it.
    let by_namespace = namespace.and_then(|ns| {
        compute
            .active_fargate_profiles
            .iter()
            .find(|p| p.selects_namespace(ns, true))
            .map(|p| (ns, *p))
    });
    let (why, profiles): (String, Vec<&EksFargateProfile>) = match by_namespace {
        Some((ns, profile)) => (
            format!(
                "whose pods in namespace `{ns}` run on Fargate profile `{}`",
                profile.name
            ),
            vec![profile],
        ),
        None => {
            // Fargate-only is a conclusion from absence: require the calls that would have
            // shown other compute to have succeeded.
            let complete = cluster_compute_complete(
                ctx,
                cluster,
                &["eks:ListNodegroups", "eks:DescribeNodegroup"],
            );
            if !complete || compute.has_node_compute() {
                return;
            }
            (
                String::from("whose only compute is Fargate (no nodes, Auto Mode off)"),
                compute.active_fargate_profiles.clone(),
            )
        }
    };
    out.report(&tg.scope, eks_report(ctx, tg, cluster, &why, &profiles));
}

fn eks_report(
    ctx: &Ctx<'_>,
    tg: &TargetGroup,
    cluster: &EksCluster,
    why: &str,
    profiles: &[&EksFargateProfile],
) -> Report {
    let mut evidence = vec![
        tg_evidence(ctx, tg),
        Evidence::new(
            &tg.arn,
            format!("tag {LB_CONTROLLER_CLUSTER_TAG}={}", cluster.name),
        ),
    ];
    for p in profiles {
        let namespaces: Vec<&str> = p
            .selectors
            .iter()
            .filter_map(|s| s.namespace.as_deref())
            .collect();
        evidence.push(Evidence::new(
            &p.arn,
            format!(
                "Fargate profile `{}` (ACTIVE) selects namespaces {}",
                p.name,
                namespaces.join(", ")
            ),
        ));
    }
    Report {
        severity: Severity::High,
        resource: tg.arn.clone(),
        discriminator: tg.arn.clone(),
        message: format!(
            "target group `{}` of target type `instance` serves EKS cluster `{}`, {why}; instance targets cannot reach Fargate pods",
            tg.name, cluster.name
        ),
        remediation: "Switch the Ingress or Service to target type `ip` (annotation `alb.ingress.kubernetes.io/target-type: ip`, or `service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip`); the controller then creates an `ip` target group.".to_string(),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EcsDeployment, ServiceEvent, TargetHealth};
    use crate::testkit::Builder;

    /// Service `web` (awsvpc unless `mode` says otherwise) attached to target group `web-tg`.
    fn service_on(tg_type: &str, mode: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.task_def("web", mode, &["nginx"]);
        b.service("web", "web", &["subnet-1"]);
        b.target_group("web-tg", tg_type).load_balancer_arns =
            vec![b.arn("elasticloadbalancing", "loadbalancer/app/web/1")];
        b.attach("web", "web-tg");
        b
    }

    #[test]
    fn awsvpc_on_instance_group_fires() {
        let b = service_on("instance", Some("awsvpc"));
        let out = b.run(&[&ELB001]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` uses target group `web-tg` of target type `instance`, but its task definition `web:1` uses awsvpc networking: its tasks never become healthy targets and clients get 503s"
        );
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn clean_twins_are_silent() {
        for (tg_type, mode) in [
            ("ip", Some("awsvpc")),
            ("instance", Some("bridge")),
            ("instance", None),
            ("instance", Some("host")),
        ] {
            let out = service_on(tg_type, mode).run(&[&ELB001]);
            assert!(out.findings.is_empty(), "{tg_type}/{mode:?}: {out:?}");
            assert!(out.unknowns.is_empty());
        }
    }

    #[test]
    fn event_path_fires_and_collapses_with_config_path() {
        let mut b = service_on("instance", Some("awsvpc"));
        let tg = b.tg_arn("web-tg");
        b.inv.ecs_services[0].events.push(ServiceEvent {
            created_at: Some("2025-01-01T00:00:00Z".into()),
            message: format!("(service web) failed to register targets: The provided target group {tg} has target type instance, which is incompatible with the awsvpc network mode specified in the task definition."),
        });
        let both = b.run(&[&ELB001]);
        assert_eq!(
            both.findings.len(),
            1,
            "two paths, one target group, one finding"
        );

        // Task definition not collected: the event alone proves it.
        b.inv.task_definitions.clear();
        let event_only = b.run(&[&ELB001]);
        assert_eq!(event_only.findings.len(), 1);
        assert!(event_only.findings[0]
            .message
            .contains("reports that target group `web-tg`"));
        assert_eq!(
            event_only.findings[0].fingerprint,
            both.findings[0].fingerprint
        );
        assert!(event_only.unknowns.is_empty());
    }

    #[test]
    fn stale_event_after_fix_is_ignored() {
        let mut b = service_on("instance", Some("bridge"));
        let tg = b.tg_arn("web-tg");
        b.inv.ecs_services[0].events.push(ServiceEvent {
            created_at: None,
            message: format!("The provided target group {tg} has TARGET TYPE INSTANCE, which is incompatible with the AWSVPC network mode."),
        });
        assert!(
            b.run(&[&ELB001]).findings.is_empty(),
            "current revision is bridge"
        );
    }

    #[test]
    fn stuck_deployment_with_no_healthy_targets_fires() {
        let mut b = service_on("instance", Some("bridge"));
        b.task_def("web-v2", Some("awsvpc"), &["nginx"]);
        let v2 = b.task_def_arn("web-v2");
        b.inv.ecs_services[0].deployments.push(EcsDeployment {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: v2,
            rollout_state: Some("IN_PROGRESS".into()),
            desired_count: 2,
            running_count: 0,
            pending_count: 2,
            failed_tasks: 4,
        });
        let out = b.run(&[&ELB001]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0]
            .message
            .starts_with("deployment ecs-svc/1 of service `web`"));

        // A healthy target means traffic flows: not this problem.
        b.inv.target_groups[0].targets = Some(vec![TargetHealth {
            id: "i-1".into(),
            port: Some(32768),
            state: "healthy".into(),
            reason: None,
        }]);
        assert!(b.run(&[&ELB001]).findings.is_empty());
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = service_on("instance", Some("awsvpc"));
        b.inv.task_definitions.clear();
        b.gap("ecs:DescribeTaskDefinition", Some(&b.task_def_arn("web")));
        let out = b.run(&[&ELB001]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.resource.as_deref()
            == Some(b.service_arn("web").as_str())
            && u.reason.contains("was not collected")));
    }

    /// EKS cluster `prod` with an `instance` target group for `shop/web`.
    fn eks_tg() -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod");
        let tags = b
            .target_group("k8s-shop-web", "instance")
            .tags
            .get_or_insert_default();
        tags.insert(LB_CONTROLLER_CLUSTER_TAG.into(), "prod".into());
        tags.insert("service.k8s.aws/stack".into(), "shop/web".into());
        b
    }

    #[test]
    fn eks_instance_group_for_fargate_namespace_fires() {
        let mut b = eks_tg();
        b.nodegroup("prod", "ng", &["subnet-1"]);
        b.fargate_profile("prod", "fp-shop", "sh*", &["subnet-1"]);
        let out = b.run(&[&ELB001]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(
            out.findings[0].message,
            "target group `k8s-shop-web` of target type `instance` serves EKS cluster `prod`, whose pods in namespace `shop` run on Fargate profile `fp-shop`; instance targets cannot reach Fargate pods"
        );
    }

    #[test]
    fn eks_fargate_only_cluster_fires_and_nodes_silence_it() {
        let mut b = eks_tg();
        b.fargate_profile("prod", "fp-kube", "kube-system", &["subnet-1"]);
        let out = b.run(&[&ELB001]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("whose only compute is Fargate"));

        // Same cluster with a nodegroup: the shop namespace runs on nodes, instance mode works.
        b.nodegroup("prod", "ng", &["subnet-1"]);
        assert!(b.run(&[&ELB001]).findings.is_empty());
    }

    #[test]
    fn eks_fargate_only_needs_complete_nodegroup_data() {
        let mut b = eks_tg();
        b.fargate_profile("prod", "fp-kube", "kube-system", &["subnet-1"]);
        b.gap("eks:ListNodegroups", None);
        let out = b.run(&[&ELB001]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn eks_label_selected_namespace_is_not_proof() {
        let mut b = eks_tg();
        b.nodegroup("prod", "ng", &["subnet-1"]);
        b.fargate_profile("prod", "fp-shop", "shop", &["subnet-1"])
            .selectors[0]
            .labels
            .insert("compute".into(), "fargate".into());
        assert!(b.run(&[&ELB001]).findings.is_empty());
    }

    #[test]
    fn a_canary_task_set_on_an_instance_group_fires() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-1"]);
        b.target_group("web-ip", "ip");
        b.target_group("web-instance", "instance");
        let ip = b.tg_arn("web-ip");
        let instance = b.tg_arn("web-instance");
        let lb = |tg: String| crate::model::ServiceLoadBalancer {
            target_group_arn: Some(tg),
            load_balancer_name: None,
            container_name: Some("c0".into()),
            container_port: Some(8080),
        };
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &["subnet-1"])
            .load_balancers = vec![lb(ip)];
        b.task_set("web", "ecs-svc/2", "ACTIVE", "web", &["subnet-1"])
            .load_balancers = vec![lb(instance)];
        let out = b.run(&[&ELB001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0].message.starts_with(
            "task set `ecs-svc/2` (ACTIVE, 100%) of service `web` uses target group `web-instance` of target type `instance`"
        ));
    }
}
