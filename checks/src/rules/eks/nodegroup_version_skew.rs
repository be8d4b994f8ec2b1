//! EKS008: a managed nodegroup more than one minor version behind its control plane.

use crate::declare_check;
use crate::eks_calendar::parse_minor;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// EKS managed nodegroups whose Kubernetes version is more than one minor version
    /// behind their cluster's control plane (a 1.30 cluster with 1.28 nodes).
    ///
    /// ## Why it matters
    ///
    /// Kubernetes supports kubelets a few minors older than the API server, but each
    /// control-plane upgrade widens the gap, and EKS refuses to upgrade the control plane
    /// once nodes would fall outside the supported skew. Old nodes also miss fixes and run
    /// AMIs that stop receiving patches. The longer the skew grows, the more upgrades have
    /// to happen at once, under pressure, when a version leaves support.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.version'
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP --query 'nodegroup.version'
    /// ```
    ///
    /// ## How to fix
    ///
    /// ```sh
    /// aws eks update-nodegroup-version --cluster-name CLUSTER --nodegroup-name NODEGROUP
    /// ```
    ///
    /// Without `--kubernetes-version` the nodegroup is upgraded to the control plane's
    /// version; nodes are replaced with respect to pod disruption budgets.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html
    /// - https://kubernetes.io/releases/version-skew-policy/
    pub static EKS008 = {
        code: "EKS008",
        name: "nodegroup-version-skew",
        severity: Severity::Medium,
        summary: "EKS managed nodegroup more than one minor version behind the control plane",
        needs: ["eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        let Some(cp) = cluster.version.as_deref().and_then(parse_minor) else {
            continue;
        };
        for ng in ctx.graph.nodegroups_of(&cluster.arn) {
            if !ng.is_live() {
                continue;
            }
            let Some(nv) = ng.version.as_deref().and_then(parse_minor) else {
                continue;
            };
            if nv.0 != cp.0 || cp.1 <= nv.1 + 1 {
                continue;
            }
            let behind = cp.1 - nv.1;
            out.report(
                &ng.scope,
                Report {
                    severity: Severity::Medium,
                    resource: ng.arn.clone(),
                    discriminator: String::new(),
                    message: format!(
                        "nodegroup `{}` runs Kubernetes {}.{}, {behind} minor versions behind cluster `{}` ({}.{})",
                        ng.name, nv.0, nv.1, cluster.name, cp.0, cp.1
                    ),
                    remediation: format!(
                        "Upgrade it to the control plane's version: `aws eks update-nodegroup-version --cluster-name {} --nodegroup-name {}`.",
                        cluster.name, ng.name
                    ),
                    evidence: vec![
                        Evidence::new(&cluster.arn, format!("control plane version {}.{}", cp.0, cp.1)),
                        Evidence::new(&ng.arn, format!("nodegroup version {}.{}", nv.0, nv.1)),
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

    fn skew(cluster: &str, nodegroups: &[(&str, &str)]) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").version = Some(cluster.into());
        for (name, v) in nodegroups {
            b.nodegroup("prod", name, &["subnet-1"]).version = Some(v.to_string());
        }
        b
    }

    #[test]
    fn two_or_more_minors_behind_fires() {
        let out = skew("1.31", &[("old", "1.29"), ("older", "1.27.3")]).run(&[&EKS008]);
        let mut msgs: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        msgs.sort();
        assert_eq!(
            msgs,
            [
                "nodegroup `old` runs Kubernetes 1.29, 2 minor versions behind cluster `prod` (1.31)",
                "nodegroup `older` runs Kubernetes 1.27, 4 minor versions behind cluster `prod` (1.31)",
            ]
        );
    }

    #[test]
    fn one_behind_same_or_unparsable_versions_are_silent() {
        let out = skew("1.31", &[("a", "1.30"), ("b", "1.31"), ("c", "latest")]).run(&[&EKS008]);
        assert!(out.findings.is_empty(), "{out:?}");
    }
}
