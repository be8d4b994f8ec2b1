//! EKS011: clusters that one API call deletes.

use crate::crosswalk::prowler;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters with `deletionProtection` off. A response that does not carry the
    /// field (a partition without the feature) is not judged.
    ///
    /// ## Why it matters
    ///
    /// Deleting an EKS cluster is immediate and cannot be undone: the control plane, its
    /// etcd state (every Kubernetes object, secret and RBAC binding) and its managed
    /// add-ons are gone, and rebuilding means recreating and redeploying everything. A
    /// mistyped command, a pipeline pointed at the wrong account or an infrastructure-as-
    /// code change that replaces the cluster is enough. With deletion protection on,
    /// `DeleteCluster` is refused until someone turns it off on purpose.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.deletionProtection'
    /// ```
    ///
    /// ## How to fix
    ///
    /// ```sh
    /// aws eks update-cluster-config --name CLUSTER --deletion-protection
    /// ```
    ///
    /// Turn it off (`--no-deletion-protection`) in the same change that retires the
    /// cluster.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html
    /// - https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html
    pub static EKS011 = {
        code: "EKS011",
        name: "deletion-protection-off",
        severity: Severity::Low,
        summary: "EKS cluster can be deleted by one API call: deletion protection is off",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        controls: [prowler("eks_cluster_deletion_protection_enabled")],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || cluster.deletion_protection != Some(false)
        {
            continue;
        }
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Low,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` has deletion protection off: one DeleteCluster call removes it and every Kubernetes object in it",
                    cluster.name
                ),
                remediation: format!(
                    "`aws eks update-cluster-config --name {} --deletion-protection`.",
                    cluster.name
                ),
                evidence: vec![Evidence::new(&cluster.arn, "deletionProtection false")],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn cluster(protection: Option<bool>, status: &str) -> Builder {
        let mut b = Builder::new();
        let c = b.eks_cluster("prod");
        c.deletion_protection = protection;
        c.status = status.into();
        b
    }

    #[test]
    fn an_active_unprotected_cluster_fires() {
        let out = cluster(Some(false), "ACTIVE").run(&[&EKS011]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].remediation.contains("--deletion-protection"));
    }

    #[test]
    fn protected_unsaid_or_inactive_clusters_are_silent() {
        for (p, s) in [(Some(true), "ACTIVE"), (None, "ACTIVE"), (Some(false), "DELETING")] {
            assert!(cluster(p, s).run(&[&EKS011]).findings.is_empty(), "{p:?} {s}");
        }
    }
}
