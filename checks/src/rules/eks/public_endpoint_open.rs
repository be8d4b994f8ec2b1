//! EKS004: the Kubernetes API endpoint is reachable from the internet.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters whose public API server endpoint is enabled. Open to `0.0.0.0/0`
    /// (listed in `publicAccessCidrs`, or no list at all, which is what AWS applies by
    /// default) is high. Restricted to listed networks is low: the exposure is bounded, and
    /// many teams keep it on purpose for operators outside the VPC, but the API server is
    /// still on the internet, which Security Hub's EKS.1 fails. One finding per cluster.
    ///
    /// ## Why it matters
    ///
    /// Open to the world, anyone on the internet can reach the Kubernetes API server. Requests still need valid
    /// credentials, but the endpoint is exposed to credential stuffing, to leaked kubeconfigs
    /// and tokens being usable from anywhere, and to any vulnerability in the API server or
    /// its authentication before it is patched. Restricting the source addresses narrows it
    /// to those networks (and to anyone who shares their egress addresses, such as a
    /// corporate proxy or a cloud NAT range); using the private endpoint only removes it.
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
        lower: [Severity::Low],
        summary: "EKS API server endpoint is public: open to 0.0.0.0/0, or to listed networks",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        controls: [
        fsbp("EKS.1"),
        config("eks-endpoint-no-public-access"),
        prowler("eks_cluster_not_publicly_accessible"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || !cluster.endpoint_public_access {
            continue;
        }
        // No list means AWS's default, which is everyone.
        let cidrs = &cluster.public_access_cidrs;
        let open = cidrs.is_empty() || cidrs.iter().any(|c| c == "0.0.0.0/0");
        let listed = if cidrs.is_empty() {
            "none set (the default, 0.0.0.0/0)".to_string()
        } else {
            cidrs.join(", ")
        };
        let private = if cluster.endpoint_private_access {
            "private endpoint on"
        } else {
            "private endpoint off: nodes and in-VPC clients also use the public one"
        };
        let (severity, message, remediation) = if open {
            (
                Severity::High,
                format!(
                    "EKS cluster `{}` serves its Kubernetes API on a public endpoint open to 0.0.0.0/0",
                    cluster.name
                ),
                format!(
                    "Restrict it to known networks (`aws eks update-cluster-config --name {} --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=CIDR,endpointPrivateAccess=true`) or turn the public endpoint off.",
                    cluster.name
                ),
            )
        } else {
            (
                Severity::Low,
                format!(
                    "EKS cluster `{}` serves its Kubernetes API on a public endpoint, restricted to {} network{}",
                    cluster.name,
                    cidrs.len(),
                    if cidrs.len() == 1 { "" } else { "s" }
                ),
                format!(
                    "Reach the API through the private endpoint (from the VPC, a VPN or a peered network) and turn the public one off: `aws eks update-cluster-config --name {} --resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true`.",
                    cluster.name
                ),
            )
        };
        out.report(
            &cluster.scope,
            Report {
                severity,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message,
                remediation,
                evidence: vec![Evidence::new(
                    &cluster.arn,
                    format!("endpointPublicAccess true; publicAccessCidrs: {listed}; {private}"),
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
    fn a_restricted_public_endpoint_is_low() {
        let out = public(&["203.0.113.0/24", "198.51.100.7/32"]).run(&[&EKS004]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert!(out.findings[0].message.contains("restricted to 2 networks"));
        assert!(out.findings[0].remediation.contains("endpointPublicAccess=false"));
    }

    #[test]
    fn a_private_only_endpoint_is_silent() {
        let mut b = public(&["0.0.0.0/0"]);
        b.inv.eks_clusters[0].endpoint_public_access = false;
        assert!(b.run(&[&EKS004]).findings.is_empty());
    }
}
