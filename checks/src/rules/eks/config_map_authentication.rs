//! EKS012: clusters whose only source of access is the aws-auth ConfigMap.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters whose `accessConfig.authenticationMode` is `CONFIG_MAP`: who may
    /// use the cluster is decided only by the `aws-auth` ConfigMap in `kube-system`, with no
    /// EKS access entries. `CONFIG_MAP` is what the EKS API, the SDKs and CloudFormation
    /// still create when no mode is given. A response without the field is not judged.
    ///
    /// ## Why it matters
    ///
    /// The ConfigMap is edited by hand inside the cluster: one malformed edit (a bad
    /// indentation, a deleted node role mapping) locks every node and every person out at
    /// once, and only the cluster creator's hidden admin binding can get back in. Access
    /// granted there is invisible to IAM and to AWS's APIs, so it cannot be reviewed,
    /// audited in CloudTrail or managed as code outside the cluster, and anyone who can
    /// edit `kube-system` ConfigMaps can grant themselves cluster admin. Access entries
    /// move that mapping into the EKS API, where IAM governs it and CloudTrail records it.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.accessConfig.authenticationMode'
    /// kubectl -n kube-system get configmap aws-auth -o yaml
    /// ```
    ///
    /// ## How to fix
    ///
    /// Switch to `API_AND_CONFIG_MAP` (a one-way change: the mode can move towards `API`,
    /// never back), create an access entry for each role and user the ConfigMap maps, then
    /// move to `API` and delete the ConfigMap:
    ///
    /// ```sh
    /// aws eks update-cluster-config --name CLUSTER --access-config authenticationMode=API_AND_CONFIG_MAP
    /// aws eks create-access-entry --cluster-name CLUSTER --principal-arn ROLE_ARN
    /// aws eks associate-access-policy --cluster-name CLUSTER --principal-arn ROLE_ARN \
    ///   --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster
    /// ```
    ///
    /// Managed nodegroups and Fargate profiles get their node access entries automatically.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html
    pub static EKS012 = {
        code: "EKS012",
        name: "config-map-authentication",
        severity: Severity::Medium,
        summary: "EKS cluster grants access only through the aws-auth ConfigMap, not access entries",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        let config_map_only = cluster
            .authentication_mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("CONFIG_MAP"));
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || !config_map_only {
            continue;
        }
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Medium,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` grants access only through the aws-auth ConfigMap: access is invisible to IAM, and one bad edit locks everyone out",
                    cluster.name
                ),
                remediation: format!(
                    "`aws eks update-cluster-config --name {} --access-config authenticationMode=API_AND_CONFIG_MAP`, create access entries for what aws-auth maps, then move to API.",
                    cluster.name
                ),
                evidence: vec![Evidence::new(
                    &cluster.arn,
                    "accessConfig.authenticationMode CONFIG_MAP",
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn cluster(mode: Option<&str>) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").authentication_mode = mode.map(str::to_string);
        b
    }

    #[test]
    fn config_map_only_fires() {
        let out = cluster(Some("CONFIG_MAP")).run(&[&EKS012]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Medium);
    }

    #[test]
    fn access_entries_or_an_unsaid_mode_are_silent() {
        for mode in [Some("API"), Some("API_AND_CONFIG_MAP"), None] {
            assert!(cluster(mode).run(&[&EKS012]).findings.is_empty(), "{mode:?}");
        }
    }
}
