//! EKS010: an EKS cluster whose every node is a Spot instance.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{cluster_compute_complete, CLUSTER_COMPUTE_OPS};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters whose only compute is managed nodegroups with `capacityType:
    /// SPOT`: no on-demand nodegroup with nodes, no active Fargate profile, no Auto Mode and
    /// no other running node (self-managed or Karpenter nodes, whose purchase option the
    /// inventory does not show, count as possibly on-demand). Judged only when every call
    /// that would show other compute succeeded.
    ///
    /// ## Why it matters
    ///
    /// EC2 reclaims Spot capacity with a two-minute notice, and reclaims tend to come
    /// together: the same instance types in the same Availability Zones go at once. When
    /// every node is Spot, one reclaim wave can drain the whole cluster, and the pods,
    /// CoreDNS and the cluster's controllers included, stay Pending until Spot capacity comes
    /// back. An on-demand base, however small, keeps the system pods and the critical
    /// workloads running through it.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks list-nodegroups --cluster-name CLUSTER
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP \
    ///   --query 'nodegroup.{capacity:capacityType,desired:scalingConfig.desiredSize}'
    /// aws eks list-fargate-profiles --cluster-name CLUSTER
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add an on-demand nodegroup for the system pods and the workloads that must not stop,
    /// and steer them there with node labels or taints:
    ///
    /// ```sh
    /// aws eks create-nodegroup --cluster-name CLUSTER --nodegroup-name on-demand-base \
    ///   --capacity-type ON_DEMAND --scaling-config minSize=2,maxSize=4,desiredSize=2 \
    ///   --subnets SUBNET_A SUBNET_B --node-role NODE_ROLE_ARN --instance-types m5.large
    /// ```
    ///
    /// Spread the Spot nodegroups over several instance types too, so one reclaim does not
    /// take them all.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html#managed-node-group-capacity-types
    /// - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-interruptions.html
    pub static EKS010 = {
        code: "EKS010",
        name: "spot-only-nodes",
        severity: Severity::Medium,
        lower: [],
        summary: "EKS cluster runs every node on Spot, with no on-demand capacity",
        needs: [],
        eks_compute: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        // "Nothing on-demand" is a conclusion from absence: only where every call that
        // could show other compute succeeded.
        if !cluster_compute_complete(ctx, cluster, &CLUSTER_COMPUTE_OPS) {
            continue;
        }
        let compute = ctx.graph.cluster_compute(cluster);
        let spot = |cap: &Option<String>| cap.as_deref() == Some("SPOT");
        let nodegroups = &compute.nodegroups_with_nodes;
        // Instances of managed nodegroups carry their nodegroup's name; any other running
        // node may be on-demand.
        let other_nodes = compute
            .nodes_up
            .iter()
            .any(|i| !i.tags.contains_key("eks:nodegroup-name"));
        if nodegroups.is_empty()
            || !nodegroups.iter().all(|n| spot(&n.capacity_type))
            || other_nodes
            || compute.auto_mode
            || !compute.active_fargate_profiles.is_empty()
        {
            continue;
        }
        let names = nodegroups
            .iter()
            .map(|n| format!("`{}`", n.name))
            .collect::<Vec<_>>()
            .join(", ");
        let mut evidence = vec![Evidence::new(
            &cluster.arn,
            "no on-demand nodegroup with nodes, no active Fargate profile, Auto Mode off, no other running node",
        )];
        for n in nodegroups {
            evidence.push(Evidence::new(
                &n.arn,
                format!(
                    "nodegroup `{}`: capacityType SPOT, {} nodes desired, instance types {}",
                    n.name,
                    n.desired_size,
                    n.instance_types.join(", ")
                ),
            ));
        }
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Medium,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` runs every node on Spot (nodegroup{} {names}): one reclaim wave can take them all at two minutes' notice, system pods included, with no on-demand node left to run them",
                    cluster.name,
                    if nodegroups.len() == 1 { "" } else { "s" }
                ),
                remediation: format!(
                    "Add an on-demand nodegroup to cluster `{}` for the system pods and critical workloads (`aws eks create-nodegroup --cluster-name {} --capacity-type ON_DEMAND …`).",
                    cluster.name, cluster.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn spot_only_fires_and_any_on_demand_base_is_quiet() {
        let mut b = Builder::new();
        b.eks_cluster("jobs");
        b.nodegroup("jobs", "spot-a", &["subnet-1"]).capacity_type = Some("SPOT".into());
        b.nodegroup("jobs", "spot-b", &["subnet-1"]).capacity_type = Some("SPOT".into());
        b.eks_cluster("web");
        b.nodegroup("web", "spot", &["subnet-1"]).capacity_type = Some("SPOT".into());
        b.nodegroup("web", "base", &["subnet-1"]).capacity_type = Some("ON_DEMAND".into());
        b.eks_cluster("api");
        b.nodegroup("api", "default", &["subnet-1"]);
        let out = b.run(&[&EKS010]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(
            out.findings[0].message,
            "EKS cluster `jobs` runs every node on Spot (nodegroups `spot-a`, `spot-b`): one reclaim wave can take them all at two minutes' notice, system pods included, with no on-demand node left to run them"
        );
    }

    #[test]
    fn fargate_or_self_managed_nodes_count_as_a_base() {
        let mut b = Builder::new();
        b.eks_cluster("mixed");
        b.nodegroup("mixed", "spot", &["subnet-1"]).capacity_type = Some("SPOT".into());
        b.fargate_profile("mixed", "system", "kube-system", &["subnet-1"]);
        let out = b.run(&[&EKS010]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn a_failed_nodegroup_listing_is_not_a_finding() {
        let mut b = Builder::new();
        b.eks_cluster("jobs");
        b.nodegroup("jobs", "spot", &["subnet-1"]).capacity_type = Some("SPOT".into());
        b.gap("eks:ListFargateProfiles", None);
        let out = b.run(&[&EKS010]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.check == "EKS010"));
    }
}
