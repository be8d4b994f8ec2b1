//! EKS001: an EKS cluster paying for a control plane with nothing to run pods on.

use crate::date::days_from_civil;
use crate::declare_check;
use crate::eks_calendar::{label, parse_minor, Calendar};
use crate::finding::{Cost, Evidence, Severity};
use crate::model::EksCluster;
use crate::prices::PriceTable;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{cluster_compute_complete, CLUSTER_COMPUTE_OPS};

declare_check! {
    /// ## What it finds
    ///
    /// ACTIVE EKS clusters with no compute at all: no managed nodegroup with a desired size
    /// above zero, no ACTIVE Fargate profile, no running or pending EC2 instance tagged as
    /// one of its nodes (self-managed nodes, Karpenter: `kubernetes.io/cluster/NAME`,
    /// `eks:cluster-name`, `aws:eks:cluster-name`, `eks:eks-cluster-name`), and EKS Auto Mode
    /// compute off.
    ///
    /// ## Why it matters
    ///
    /// The control plane is billed per hour whether or not anything runs: $0.10 per hour
    /// (about $73 per month) under standard support, six times that under extended support.
    /// An idle cluster is usually a leftover from a test or a migration, and it still carries
    /// IAM roles, OIDC trust and an API endpoint that someone must keep patched.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.{status:status,autoMode:computeConfig.enabled}'
    /// aws eks list-nodegroups --cluster-name CLUSTER
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP --query 'nodegroup.scalingConfig'
    /// aws eks list-fargate-profiles --cluster-name CLUSTER
    /// aws ec2 describe-instances --filters Name=tag-key,Values=kubernetes.io/cluster/CLUSTER \
    ///   Name=instance-state-name,Values=pending,running --query 'Reservations[].Instances[].InstanceId'
    /// ```
    ///
    /// ## How to fix
    ///
    /// If the cluster is no longer needed, delete it (`aws eks delete-cluster --name
    /// CLUSTER`, after deleting its nodegroups and Fargate profiles). If it is parked on
    /// purpose, record the owner and a review date in its tags. Deleting it saves the whole
    /// control-plane price, which the finding's cost gives at list prices: about $73 a month
    /// in standard support, $438 in extended support (then the extended-support premium is
    /// counted here, not again on the cluster's EKS005 finding).
    ///
    /// ## References
    ///
    /// - https://aws.amazon.com/eks/pricing/
    /// - https://docs.aws.amazon.com/eks/latest/userguide/delete-cluster.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/eks-compute.html
    pub static EKS001 = {
        code: "EKS001",
        name: "idle-eks-cluster",
        severity: Severity::Medium,
        summary: "ACTIVE EKS cluster with no nodes, no Fargate profile and no Auto Mode: billed for nothing",
        needs: [],
        eks_compute: true,
        run: run,
    };
}

/// What the idle control plane costs a month: at the extended-support rate when its
/// version is past standard support on the day the inventory describes.
fn waste(ctx: &Ctx<'_>, cluster: &EksCluster) -> Cost {
    let extended = cluster
        .version
        .as_deref()
        .and_then(parse_minor)
        .filter(|minor| {
            ctx.as_of().is_some_and(|today| {
                Calendar::bundled().past_standard_support(*minor, days_from_civil(today))
            })
        })
        .map(label);
    PriceTable::bundled()
        .region(&cluster.scope.region)
        .idle_control_plane(extended.as_deref())
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        // "No compute" is a conclusion from absence: only draw it when every call that could
        // have shown compute succeeded (the engine reports the gap as unknown otherwise).
        if !cluster_compute_complete(ctx, cluster, &CLUSTER_COMPUTE_OPS) {
            continue;
        }
        let compute = ctx.graph.cluster_compute(cluster);
        if !compute.is_empty() {
            continue;
        }
        let mut evidence = vec![Evidence::new(
            &cluster.arn,
            "status ACTIVE; Auto Mode compute off; no running or pending EC2 instance tagged as its node",
        )];
        for ng in ctx.graph.nodegroups_of(&cluster.arn) {
            evidence.push(Evidence::new(
                &ng.arn,
                format!(
                    "nodegroup `{}` at desired size {}",
                    ng.name, ng.desired_size
                ),
            ));
        }
        for fp in ctx.graph.fargate_profiles_of(&cluster.arn) {
            evidence.push(Evidence::new(
                &fp.arn,
                format!("Fargate profile `{}` is {}", fp.name, fp.status),
            ));
        }
        let cost = waste(ctx, cluster);
        let monthly = cost.monthly_usd;
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Medium,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` has no compute (no nodes, no active Fargate profile, Auto Mode off) and costs about ${monthly:.0}/month for its control plane",
                    cluster.name
                ),
                remediation: format!(
                    "Delete the cluster if it is unused (`aws eks delete-cluster --name {}`); if it is parked on purpose, tag it with an owner and a review date.",
                    cluster.name
                ),
                evidence,
            },
        )
        .cost = Some(cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn idle() -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("idle");
        b.nodegroup("idle", "ng-0", &["subnet-1"]).desired_size = 0;
        b
    }

    #[test]
    fn idle_cluster_fires_with_cost() {
        let out = idle().run(&[&EKS001]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.message.starts_with("EKS cluster `idle` has no compute"));
        assert!(f.message.contains("about $73/month"), "{}", f.message);
        assert!(f.evidence.iter().any(|e| e.fact.contains("desired size 0")));
        let cost = f.cost.as_ref().expect("an idle cluster is waste");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Waste, 73.0));
        assert!(
            cost.basis.starts_with(
                "1 EKS control plane × $0.10/h (standard support) × 730 h = $73.00 (us-east-1 list price, prices as of "
            ),
            "{}",
            cost.basis
        );
    }

    #[test]
    fn idle_cluster_in_extended_support_wastes_the_whole_extended_rate() {
        let mut b = idle();
        b.inv.eks_clusters[0].version = Some("1.31".into());
        b.inv.collected_at = Some("2026-01-15T08:00:00Z".into());
        let out = b.run(&[&EKS001]);
        let f = &out.findings[0];
        assert!(f.message.contains("about $438/month"), "{}", f.message);
        let cost = f.cost.as_ref().unwrap();
        assert_eq!(cost.monthly_usd, 438.0);
        assert!(cost.basis.contains("$0.60/h (extended support, Kubernetes 1.31: $0.10/h standard + $0.50/h extended)"), "{}", cost.basis);
        assert!(cost.basis.ends_with("its EKS005 finding counts none of it"));
        // The same version before its standard support ended: the standard rate.
        b.inv.collected_at = Some("2025-11-25T08:00:00Z".into());
        assert_eq!(b.run(&[&EKS001]).findings[0].cost.as_ref().unwrap().monthly_usd, 73.0);
    }

    #[test]
    fn clusters_outside_us_east_1_say_whose_price_they_use() {
        let mut b = idle();
        b.inv.eks_clusters[0].scope.region = "eu-west-1".into();
        b.inv.eks_nodegroups[0].scope.region = "eu-west-1".into();
        let out = b.run(&[&EKS001]);
        let cost = out.findings[0].cost.as_ref().unwrap();
        assert!(cost.basis.contains("(eu-west-1 priced at the us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn any_compute_keeps_it_silent() {
        let mut b = idle();
        b.inv.eks_nodegroups[0].desired_size = 1;
        assert!(
            b.run(&[&EKS001]).findings.is_empty(),
            "nodegroup with nodes"
        );

        let mut b = idle();
        b.fargate_profile("idle", "fp", "default", &["subnet-1"]);
        assert!(b.run(&[&EKS001]).findings.is_empty(), "Fargate profile");

        let mut b = idle();
        b.instance("i-1", "subnet-1")
            .tags
            .insert("kubernetes.io/cluster/idle".into(), "owned".into());
        assert!(
            b.run(&[&EKS001]).findings.is_empty(),
            "Karpenter/self-managed node"
        );

        let mut b = idle();
        b.inv.eks_clusters[0].auto_mode_compute = true;
        assert!(b.run(&[&EKS001]).findings.is_empty(), "Auto Mode");
    }

    #[test]
    fn stopped_nodes_and_pending_profiles_are_not_compute() {
        let mut b = idle();
        let node = b.instance("i-1", "subnet-1");
        node.state = "stopped".into();
        node.tags.insert("eks:cluster-name".into(), "idle".into());
        b.fargate_profile("idle", "fp", "default", &["subnet-1"])
            .status = "CREATING".into();
        assert_eq!(b.run(&[&EKS001]).findings.len(), 1);
    }

    #[test]
    fn coverage_gap_gives_unknown_not_finding() {
        let mut b = idle();
        let arn = b.inv.eks_clusters[0].arn.clone();
        b.gap("eks:ListFargateProfiles", Some(&arn));
        let out = b.run(&[&EKS001]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert_eq!(out.unknowns[0].resource.as_deref(), Some(arn.as_str()));

        let mut b = idle();
        b.gap("ec2:DescribeInstances", None);
        let out = b.run(&[&EKS001]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn gap_scoped_to_a_nodegroup_of_the_cluster_blocks_the_finding() {
        let mut b = idle();
        let ng = b.arn("eks", "nodegroup/idle/ng-1/uuid");
        b.gap("eks:DescribeNodegroup", Some(&ng));
        let out = b.run(&[&EKS001]);
        assert!(
            out.findings.is_empty(),
            "the undescribed nodegroup may have nodes"
        );
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn gap_for_another_cluster_does_not_hide_this_one() {
        let mut b = idle();
        let other = b.arn("eks", "cluster/other");
        b.gap("eks:ListNodegroups", Some(&other));
        assert_eq!(b.run(&[&EKS001]).findings.len(), 1);
    }
}
