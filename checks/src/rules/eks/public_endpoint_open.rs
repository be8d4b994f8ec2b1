//! EKS004: the Kubernetes API endpoint is reachable from the whole internet.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters whose public API server endpoint is enabled and open to
    /// `0.0.0.0/0`: either listed in `publicAccessCidrs`, or no list at all, which is what
    /// AWS applies by default.
    ///
    /// ## Why it matters
    ///
    /// Anyone on the internet can reach the Kubernetes API server. Requests still need valid
    /// credentials, but the endpoint is exposed to credential stuffing, to leaked kubeconfigs
    /// and tokens being usable from anywhere, and to any vulnerability in the API server or
    /// its authentication before it is patched. Restricting the source addresses, or using
    /// the private endpoint only, removes that whole exposure.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER \
    ///   --query 'cluster.resourcesVpcConfig.{public:endpointPublicAccess,private:endpointPrivateAccess,cidrs:publicAccessCidrs}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Limit the public endpoint to known networks, or turn it off and use the private one:
    ///
    /// ```sh
    /// aws eks update-cluster-config --name CLUSTER \
    ///   --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=203.0.113.0/24,endpointPrivateAccess=true
    /// aws eks update-cluster-config --name CLUSTER \
    ///   --resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true
    /// ```
    ///
    /// Enable the private endpoint before restricting the public one, or nodes that reach
    /// the API through the public endpoint lose it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html
    pub static EKS004 = {
        code: "EKS004",
        name: "public-endpoint-open",
        severity: Severity::High,
        summary: "EKS API server endpoint is public and open to 0.0.0.0/0",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || !cluster.endpoint_public_access {
            continue;
        }
        // No list means AWS's default, which is everyone.
        let cidrs = if cluster.public_access_cidrs.is_empty() {
            "none set (the default, 0.0.0.0/0)".to_string()
        } else if cluster.public_access_cidrs.iter().any(|c| c == "0.0.0.0/0") {
            cluster.public_access_cidrs.join(", ")
        } else {
            continue;
        };
        let private = if cluster.endpoint_private_access {
            "private endpoint on"
        } else {
            "private endpoint off: nodes and in-VPC clients also use the public one"
        };
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::High,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` serves its Kubernetes API on a public endpoint open to 0.0.0.0/0",
                    cluster.name
                ),
                remediation: format!(
                    "Restrict it to known networks (`aws eks update-cluster-config --name {} --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=CIDR,endpointPrivateAccess=true`) or turn the public endpoint off.",
                    cluster.name
                ),
                evidence: vec![Evidence::new(
                    &cluster.arn,
                    format!("endpointPublicAccess true; publicAccessCidrs: {cidrs}; {private}"),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn public(cidrs: &[&str]) -> Builder {
        let mut b = Builder::new();
        let c = b.eks_cluster("prod");
        c.endpoint_public_access = true;
        c.public_access_cidrs = cidrs.iter().map(|c| c.to_string()).collect();
        b
    }

    #[test]
    fn open_to_the_world_fires_explicitly_or_by_default() {
        for cidrs in [&["0.0.0.0/0"][..], &["198.51.100.0/24", "0.0.0.0/0"], &[]] {
            let out = public(cidrs).run(&[&EKS004]);
            assert_eq!(out.findings.len(), 1, "{cidrs:?}");
            assert_eq!(out.findings[0].severity, Severity::High);
        }
        let out = public(&[]).run(&[&EKS004]);
        assert!(out.findings[0].evidence[0]
            .fact
            .contains("none set (the default, 0.0.0.0/0)"));
    }

    #[test]
    fn restricted_or_private_endpoints_are_silent() {
        assert!(public(&["203.0.113.0/24"])
            .run(&[&EKS004])
            .findings
            .is_empty());
        let mut b = public(&["0.0.0.0/0"]);
        b.inv.eks_clusters[0].endpoint_public_access = false;
        assert!(b.run(&[&EKS004]).findings.is_empty());
    }
}
