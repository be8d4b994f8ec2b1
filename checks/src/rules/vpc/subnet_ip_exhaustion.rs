//! VPC001: subnets without the free IPs container workloads need to deploy and scale.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{
    DeployDemand, DeployStrategy, EcsWorkload, IpDemand, NodegroupCeiling, ServiceCeiling,
    SubnetFacts, Workload,
};
use std::collections::BTreeSet;

use crate::model::{EcsService, EksNodegroup, Subnet};
use crate::registry::{Ctx, Emitter, Report};

/// A subnet whose known demand fits is still worth a (low) warning below this share of its
/// usable addresses free: the next workload placed in it will not fit.
const LOW_PERCENT: i64 = 10;

/// `subnet-a: 1, subnet-b: 2` (negative emulator counts shown as 0).
fn free_ips_by_subnet(subnets: &[&Subnet]) -> String {
    subnets
        .iter()
        .map(|s| format!("{}: {}", s.id, s.free_ips_clamped()))
        .collect::<Vec<_>>()
        .join(", ")
}

declare_check! {
    /// ## What it finds
    ///
    /// Subnets that cannot supply the IP addresses container workloads will ask for:
    ///
    /// - **deploy** (high): an awsvpc ECS service whose next deployment needs more free IPs
    ///   than its subnets have. A rolling deployment starts up to
    ///   `desiredCount × (maximumPercent − 100) / 100` extra tasks (default `maximumPercent`
    ///   200), a CodeDeploy blue/green deployment a full second set of `desiredCount`, and
    ///   tasks already pending need addresses too.
    /// - **service ceiling** (medium): an awsvpc ECS service whose Application Auto Scaling
    ///   maximum needs more IPs than its subnets have free (one per task beyond those
    ///   running).
    /// - **nodegroup ceiling** (medium): an EKS managed nodegroup whose `maxSize` nodes could
    ///   claim more IPs than its subnets have free. With the VPC CNI a node can hold up to
    ///   (network interfaces × IPv4 addresses per interface) of its instance type.
    /// - **subnet threshold** (low): a subnet whose workloads' demand is known and fits,
    ///   but with under 10% of its usable addresses free, so the next workload or a larger
    ///   deploy will not fit. Never reported for a subnet a finding above already names
    ///   (one problem, one ticket), nor for a small subnet with room for what it runs.
    ///
    /// ## Why it matters
    ///
    /// Every awsvpc task owns an elastic network interface with an address from its subnet,
    /// and the EKS VPC CNI gives every pod a VPC address plus a warm pool per node. When a
    /// subnet runs dry, new tasks sit in PROVISIONING, deployments stall halfway, pods stay
    /// Pending and the cluster cannot scale out, usually during the traffic peak or release
    /// that needed the capacity. A /24 holds only 251 usable addresses.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ec2 describe-subnets --subnet-ids SUBNET_ID \
    ///   --query 'Subnets[].{id:SubnetId,cidr:CidrBlock,free:AvailableIpAddressCount}'
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[0].{desired:desiredCount,pending:pendingCount,config:deploymentConfiguration,subnets:networkConfiguration.awsvpcConfiguration.subnets}'
    /// aws application-autoscaling describe-scalable-targets --service-namespace ecs \
    ///   --resource-ids service/CLUSTER/SERVICE --query 'ScalableTargets[].MaxCapacity'
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP \
    ///   --query 'nodegroup.{scaling:scalingConfig,types:instanceTypes,subnets:subnets}'
    /// aws ec2 describe-instance-types --instance-types INSTANCE_TYPE \
    ///   --query 'InstanceTypes[].NetworkInfo.{enis:MaximumNetworkInterfaces,ipsPerEni:Ipv4AddressesPerInterface}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add subnets with room (a secondary VPC CIDR such as 100.64.0.0/16 if the VPC is full)
    /// and add them to the service's network configuration or the nodegroup. Short of that,
    /// lower `maximumPercent` so deployments replace tasks in smaller batches, cap the
    /// service's autoscaling maximum at what its subnets can hold, and on EKS
    /// use prefix delegation or custom networking, or lower `WARM_IP_TARGET`.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
    /// - https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/ip-opt.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
    pub static VPC001 = {
        code: "VPC001",
        name: "subnet-ip-exhaustion",
        severity: Severity::High,
        lower: [Severity::Medium, Severity::Low],
        summary: "subnets without the free IPs their ECS services and EKS nodes need to deploy and scale",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeInstanceTypes",
            "ecs:ListClusters",
            "application-autoscaling:DescribeScalableTargets",
            "eks:ListClusters",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
        ],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // Subnets a demand-based finding names: the threshold path stays silent on them.
    let mut named: BTreeSet<String> = BTreeSet::new();
    for (workload, demand) in ctx.graph.ip_demands() {
        let short = match (workload, demand) {
            (Workload::Ecs(EcsWorkload::Service(svc)), IpDemand::Deploy(deploy)) => {
                check_deploy(ctx, out, svc, deploy)
            }
            (Workload::Nodegroup(ng), IpDemand::NodegroupCeiling(ceiling)) => {
                check_nodegroup(ctx, out, ng, ceiling)
            }
            (Workload::Ecs(EcsWorkload::Service(svc)), IpDemand::ServiceCeiling(ceiling)) => {
                check_service_ceiling(ctx, out, svc, ceiling)
            }
            (Workload::Ecs(w @ EcsWorkload::Scheduled(_)), IpDemand::Run { tasks }) => {
                check_run(ctx, out, w, *tasks)
            }
            (w, IpDemand::Unknown { reason }) => {
                out.unknown(
                    w.scope(),
                    Some(w.arn()),
                    format!("cannot size the IP demand of {}: {reason}", w.describe()),
                );
                Vec::new()
            }
            _ => Vec::new(),
        };
        named.extend(short);
    }
    for facts in ctx.graph.all_subnet_facts() {
        if !named.contains(&facts.subnet.arn) {
            check_threshold(ctx, out, facts);
        }
    }
}

/// The subnets of a workload that cannot supply `needed` more addresses, with their free
/// total; `None` when they can, or (after reporting the workload as unknown) when any of
/// them was not collected: free IPs cannot be summed without it.
struct Shortfall<'a> {
    subnets: Vec<&'a Subnet>,
    free: i64,
}

fn shortfall<'a>(
    ctx: &Ctx<'a>,
    out: &mut Emitter<'_>,
    w: Workload<'_>,
    ids: &[String],
    needed: i64,
) -> Option<Shortfall<'a>> {
    let scope = w.scope();
    let mut found: Vec<&'a Subnet> = Vec::new();
    let mut missing: Vec<&str> = Vec::new();
    for id in ids {
        match ctx.graph.subnet(scope, id) {
            Some(s) if !found.iter().any(|f| f.id == s.id) => found.push(s),
            Some(_) => {}
            None => missing.push(id),
        }
    }
    if !missing.is_empty() {
        out.unknown(
            scope,
            Some(w.arn()),
            format!(
                "subnets {} of {} were not collected",
                missing.join(", "),
                w.describe()
            ),
        );
        return None;
    }
    let free: i64 = found.iter().map(|s| s.free_ips_clamped()).sum();
    (needed > free).then_some(Shortfall {
        subnets: found,
        free,
    })
}

fn subnet_evidence<'s>(subnets: &'s [&'s Subnet]) -> impl Iterator<Item = Evidence> + 's {
    subnets.iter().map(|s| {
        let usable = s
            .usable_ips()
            .map_or(String::new(), |u| format!(" of {u} usable"));
        Evidence::new(&s.arn, format!("{} free IPs{usable}", s.free_ips_clamped()))
    })
}

/// Each `check_*` reports a shortfall and returns the ARNs of the subnets it names.
fn check_deploy(
    ctx: &Ctx<'_>,
    out: &mut Emitter<'_>,
    svc: &EcsService,
    deploy: &DeployDemand,
) -> Vec<String> {
    let DeployDemand {
        strategy,
        desired,
        surge,
        pending,
    } = *deploy;
    let (kind, how) = match strategy {
        DeployStrategy::Rolling { maximum_percent } => (
            "rolling",
            format!("desired {desired} at maximumPercent {maximum_percent}"),
        ),
        DeployStrategy::BlueGreen => (
            "blue/green",
            format!("a replacement set of {desired} tasks"),
        ),
    };
    let needed = deploy.ips();
    if needed == 0 {
        return Vec::new();
    }
    let Some(Shortfall { subnets, free }) = shortfall(
        ctx,
        out,
        Workload::Ecs(EcsWorkload::Service(svc)),
        svc.subnet_ids(),
        needed,
    ) else {
        return Vec::new();
    };
    let pending_part = if pending > 0 {
        format!(", plus {pending} pending")
    } else {
        String::new()
    };
    let mut evidence = vec![Evidence::new(
        &svc.arn,
        format!(
            "{} extra tasks for a {kind} deploy ({how}){pending_part}",
            surge
        ),
    )];
    evidence.extend(subnet_evidence(&subnets));
    let named = subnets.iter().map(|s| s.arn.clone()).collect();
    out.report(
        &svc.scope,
        Report {
            severity: Severity::High,
            resource: svc.arn.clone(),
            discriminator: "deploy".into(),
            message: format!(
                "service `{}` needs {needed} free IPs for a {kind} deploy ({how}{pending_part}); its subnets have {free} ({})",
                svc.name,
                free_ips_by_subnet(&subnets)
            ),
            remediation: format!(
                "Add subnets with free addresses to service `{}`'s network configuration, or lower its maximumPercent so deploys replace tasks in smaller batches.",
                svc.name
            ),
            evidence,
        },
    );
    named
}

fn check_run(ctx: &Ctx<'_>, out: &mut Emitter<'_>, w: EcsWorkload<'_>, tasks: i64) -> Vec<String> {
    let Some(Shortfall { subnets, free }) =
        shortfall(ctx, out, Workload::Ecs(w), w.subnet_ids(), tasks)
    else {
        return Vec::new();
    };
    let mut evidence = vec![Evidence::new(
        w.arn(),
        format!("starts {tasks} awsvpc tasks per run; one IP each"),
    )];
    evidence.extend(subnet_evidence(&subnets));
    let named = subnets.iter().map(|s| s.arn.clone()).collect();
    out.report(
        w.scope(),
        Report {
            severity: Severity::High,
            resource: w.resource().to_string(),
            discriminator: "run".into(),
            message: format!(
                "{} starts {tasks} tasks per run, needing {tasks} free IPs; its subnets have {free} ({}): runs fail until addresses free up",
                w.describe(),
                free_ips_by_subnet(&subnets)
            ),
            remediation: format!(
                "Add subnets with free addresses to the network configuration of {}, or start fewer tasks per run.",
                w.describe()
            ),
            evidence,
        },
    );
    named
}

fn check_service_ceiling(
    ctx: &Ctx<'_>,
    out: &mut Emitter<'_>,
    svc: &EcsService,
    ceiling: &ServiceCeiling,
) -> Vec<String> {
    let needed = ceiling.ips();
    let Some(Shortfall { subnets, free }) = shortfall(
        ctx,
        out,
        Workload::Ecs(EcsWorkload::Service(svc)),
        svc.subnet_ids(),
        needed,
    ) else {
        return Vec::new();
    };
    let mut evidence = vec![Evidence::new(
        &svc.arn,
        format!(
            "Application Auto Scaling maximum {} tasks ({} running, desired {}); one IP per awsvpc task",
            ceiling.max_capacity, ceiling.running, svc.desired_count
        ),
    )];
    evidence.extend(subnet_evidence(&subnets));
    let named = subnets.iter().map(|s| s.arn.clone()).collect();
    out.report(
        &svc.scope,
        Report {
            severity: Severity::Medium,
            resource: svc.arn.clone(),
            discriminator: "service-ceiling".into(),
            message: format!(
                "service `{}` can scale out to {} tasks (its autoscaling maximum), needing {needed} more IPs; its subnets have {free} free ({})",
                svc.name,
                ceiling.max_capacity,
                free_ips_by_subnet(&subnets)
            ),
            remediation: format!(
                "Add subnets with room to service `{}`'s network configuration, or lower its autoscaling maximum to what the subnets can hold.",
                svc.name
            ),
            evidence,
        },
    );
    named
}

fn check_nodegroup(
    ctx: &Ctx<'_>,
    out: &mut Emitter<'_>,
    ng: &EksNodegroup,
    ceiling: &NodegroupCeiling,
) -> Vec<String> {
    let (largest, per_node) = (ceiling.instance_type.as_str(), ceiling.per_node);
    let ceiling = ceiling.ips();
    let Some(Shortfall { subnets, free }) =
        shortfall(ctx, out, Workload::Nodegroup(ng), &ng.subnets, ceiling)
    else {
        return Vec::new();
    };
    let mut evidence = vec![Evidence::new(
        &ng.arn,
        format!(
            "maxSize {}, desired {}; {largest} holds up to {per_node} IPs per node",
            ng.max_size, ng.desired_size
        ),
    )];
    evidence.extend(subnet_evidence(&subnets));
    let named = subnets.iter().map(|s| s.arn.clone()).collect();
    out.report(
        &ng.scope,
        Report {
            severity: Severity::Medium,
            resource: ng.arn.clone(),
            discriminator: "nodegroup-ceiling".into(),
            message: format!(
                "nodegroup `{}` of cluster `{}` can scale to {} {largest} nodes using up to {ceiling} IPs ({per_node} per node); its subnets have {free} free ({})",
                ng.name,
                ng.cluster_name,
                ng.max_size,
                free_ips_by_subnet(&subnets)
            ),
            remediation: format!(
                "Add subnets with room to nodegroup `{}` (or a secondary VPC CIDR with custom networking), or enable prefix delegation / lower WARM_IP_TARGET on the VPC CNI.",
                ng.name
            ),
            evidence,
        },
    );
    named
}

/// A subnet whose workloads' demand is known and fits (no finding above names it) but whose
/// free addresses are under [`LOW_PERCENT`] of usable. Where any workload's demand is not
/// derived (a Fargate profile, an individual node, an unknown instance type), whether it fits
/// is not known, and the subnet is not judged here.
fn check_threshold(ctx: &Ctx<'_>, out: &mut Emitter<'_>, facts: &SubnetFacts<'_>) {
    if facts.workloads.is_empty() {
        return;
    }
    let known = facts.workloads.iter().all(|w| {
        let mut demands = ctx.graph.ip_demands_of(w.arn()).peekable();
        demands.peek().is_some() && demands.all(|d| d.ips().is_some())
    });
    if !known {
        return;
    }
    let free = facts.subnet.free_ips_clamped();
    let low = facts
        .usable_ips
        .is_some_and(|u| u > 0 && free * 100 < u * LOW_PERCENT);
    if !low {
        return;
    }
    let share = match facts.usable_ips {
        Some(u) if u > 0 => format!(" of {u} usable ({}%)", free * 100 / u),
        _ => String::new(),
    };
    // Name a handful; a busy subnet can host hundreds of services.
    const NAMED: usize = 5;
    let mut users: Vec<String> = facts
        .workloads
        .iter()
        .take(NAMED)
        .map(Workload::describe)
        .collect();
    if facts.workloads.len() > NAMED {
        users.push(format!("{} more", facts.workloads.len() - NAMED));
    }
    let mut evidence = vec![Evidence::new(
        &facts.subnet.arn,
        format!("{free} free IPs{share}; under {LOW_PERCENT}% of usable, though the known demand of what runs here fits"),
    )];
    evidence.extend(
        facts
            .workloads
            .iter()
            .map(|w| Evidence::new(w.arn(), w.placement(facts.id()))),
    );
    out.report(
        &facts.subnet.scope,
        Report {
            severity: Severity::Low,
            resource: facts.subnet.arn.clone(),
            discriminator: "subnet-threshold".into(),
            message: format!(
                "subnet {} has {free} free IPs{share}: enough for what it runs now ({}), not for much more",
                facts.id(),
                users.join(", ")
            ),
            remediation: format!(
                "Move workloads to larger subnets or add subnets alongside {} (from a secondary VPC CIDR if the VPC is full), and release unused ENIs.",
                facts.id()
            ),
            evidence,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    /// Service `web` (desired 10, maximumPercent 200) across subnet-a and subnet-b.
    fn deploy(free_a: i64, free_b: i64) -> Builder {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", free_a);
        b.subnet("subnet-b", "vpc-1", "10.0.1.0/24", free_b);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-a", "subnet-b"])
            .desired_count = 10;
        b
    }

    fn set_max_percent(b: &mut Builder, percent: i32) {
        if let Some(d) = b.inv.ecs_services[0].deployment_configuration.as_mut() {
            d.maximum_percent = Some(percent);
        }
    }

    fn only(out: &crate::registry::Outcome, discriminator_hint: &str) -> Vec<String> {
        out.findings
            .iter()
            .filter(|f| f.message.contains(discriminator_hint))
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn rolling_deploy_short_of_ips_fires() {
        let mut b = deploy(1, 2);
        b.inv.ecs_services[0].pending_count = 2;
        let out = b.run(&[&VPC001]);
        let f = out
            .findings
            .iter()
            .find(|f| f.severity == Severity::High)
            .expect("deploy finding");
        assert_eq!(
            f.message,
            "service `web` needs 12 free IPs for a rolling deploy (desired 10 at maximumPercent 200, plus 2 pending); its subnets have 3 (subnet-a: 1, subnet-b: 2)"
        );
        assert_eq!(f.resource, b.service_arn("web"));
    }

    #[test]
    fn rolling_deploy_with_room_is_silent_and_surge_rounds_up() {
        let out = deploy(100, 100).run(&[&VPC001]);
        assert!(out.findings.is_empty(), "{out:?}");

        // 10 × 150% → 5 extra; 3 × 150% → 1.5 → 2 extra.
        let mut b = deploy(1, 0);
        b.inv.ecs_services[0].desired_count = 3;
        set_max_percent(&mut b, 150);
        assert_eq!(only(&b.run(&[&VPC001]), "needs").len(), 1);
        assert!(only(&b.run(&[&VPC001]), "needs")[0].starts_with("service `web` needs 2 free IPs"));
    }

    #[test]
    fn maximum_percent_100_needs_no_surge() {
        let mut b = deploy(100, 100);
        set_max_percent(&mut b, 100);
        b.inv.subnets[0].available_ip_address_count = 30;
        b.inv.subnets[1].available_ip_address_count = 30;
        assert!(b.run(&[&VPC001]).findings.is_empty());
    }

    #[test]
    fn negative_emulator_counts_clamp_to_zero() {
        let out = deploy(-3, 2).run(&[&VPC001]);
        assert!(only(&out, "needs")[0].ends_with("its subnets have 2 (subnet-a: 0, subnet-b: 2)"));
        // The deploy finding names both subnets: no threshold finding beside it.
        assert!(only(&out, "subnet subnet-a has").is_empty());
        assert_eq!(out.findings.len(), 1);
    }

    #[test]
    fn nodegroup_ceiling_fires_with_up_to() {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 60);
        b.subnet("subnet-b", "vpc-1", "10.0.1.0/24", 60);
        b.instance_type("m5.large", 3, 10);
        b.nodegroup("prod", "ng-1", &["subnet-a", "subnet-b"])
            .max_size = 10;
        let out = b.run(&[&VPC001]);
        let msgs = only(&out, "nodegroup");
        assert_eq!(
            msgs,
            vec!["nodegroup `ng-1` of cluster `prod` can scale to 10 m5.large nodes using up to 300 IPs (30 per node); its subnets have 120 free (subnet-a: 60, subnet-b: 60)".to_string()]
        );
        assert!(out.findings.iter().all(|f| f.severity == Severity::Medium));

        b.inv.eks_nodegroups[0].max_size = 4;
        assert!(only(&b.run(&[&VPC001]), "nodegroup").is_empty());
    }

    #[test]
    fn nodegroup_with_unknown_instance_type_is_unknown() {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 60);
        b.nodegroup("prod", "ng-1", &["subnet-a"]).max_size = 100;
        let out = b.run(&[&VPC001]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(out.unknowns[0].reason.contains("m5.large"));
    }

    #[test]
    fn low_subnet_whose_demand_fits_is_low_and_only_with_workloads() {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 20); // 20 of 251: under 10%
        b.subnet("idle", "vpc-1", "10.0.9.0/24", 1);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-a"]).desired_count = 2; // needs 2 for a deploy
        let out = b.run(&[&VPC001]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert_eq!(
            out.findings[0].message,
            "subnet subnet-a has 20 free IPs of 251 usable (7%): enough for what it runs now (service `web`), not for much more"
        );

        b.inv.subnets[0].available_ip_address_count = 30;
        assert!(b.run(&[&VPC001]).findings.is_empty());
    }

    #[test]
    fn small_subnet_with_room_for_its_demand_is_silent() {
        // A /27 (27 usable) with 12 free for a service that needs 6: 44% free, fits.
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/27", 12);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-a"]).desired_count = 6;
        let out = b.run(&[&VPC001]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn threshold_never_beside_a_demand_finding_on_the_subnet() {
        // 5 free of 251 (2%): the deploy of 10 needs 10, so the demand finding names the
        // subnet and the threshold path stays silent on it: one problem, one finding.
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 5);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-a"]).desired_count = 10;
        let out = b.run(&[&VPC001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert!(out.findings[0]
            .message
            .starts_with("service `web` needs 10 free IPs"));
    }

    #[test]
    fn threshold_needs_every_workload_demand_known() {
        // A nodegroup whose instance type was not described: its demand is unknown, so
        // whether the subnet's demand fits is unknown too.
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 3);
        b.nodegroup("prod", "workers", &["subnet-a"]); // m5.large, not described
        let out = b.run(&[&VPC001]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
    }

    fn autoscale(b: &mut Builder, max_capacity: i32) {
        let scope = b.scope();
        let cluster = b.inv.ecs_services[0].cluster_arn.clone();
        b.inv
            .ecs_scalable_targets
            .push(crate::model::ScalableTarget {
                scope,
                resource_id: crate::model::ScalableTarget::ecs_resource_id(&cluster, "web"),
                scalable_dimension: "ecs:service:DesiredCount".into(),
                min_capacity: 2,
                max_capacity,
            });
    }

    #[test]
    fn autoscaling_ceiling_beyond_free_ips_fires_medium() {
        // 60 + 60 free: the deploy (10 more) fits, an autoscaling maximum of 200 does not.
        let mut b = deploy(60, 60);
        b.inv.ecs_services[0].running_count = 10;
        autoscale(&mut b, 200);
        let out = b.run(&[&VPC001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(
            f.message,
            "service `web` can scale out to 200 tasks (its autoscaling maximum), needing 190 more IPs; its subnets have 120 free (subnet-a: 60, subnet-b: 60)"
        );

        // A maximum the subnets can hold is silent.
        let mut b = deploy(60, 60);
        b.inv.ecs_services[0].running_count = 10;
        autoscale(&mut b, 100);
        assert!(b.run(&[&VPC001]).findings.is_empty());
    }

    #[test]
    fn a_scheduled_task_that_cannot_get_addresses_fails_every_run() {
        let mut b = Builder::new();
        b.subnet("subnet-a", "vpc-1", "10.0.0.0/24", 3);
        b.task_def("batch", Some("awsvpc"), &["batch:1"]);
        b.scheduled("hourly-batch", "batch", &["subnet-a"])
            .task_count = 5;
        let out = b.run(&[&VPC001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(
            out.findings[0].message,
            "scheduled task `hourly-batch` (EventBridge Scheduler) starts 5 tasks per run, needing 5 free IPs; its subnets have 3 (subnet-a: 3): runs fail until addresses free up"
        );
    }
}
