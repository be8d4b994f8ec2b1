//! EKS009: nodes reach their cluster's API server only through the public endpoint.

use std::collections::BTreeSet;

use crate::crosswalk::prowler;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::Egress;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters with `endpointPrivateAccess` off that have compute in their VPC:
    /// managed nodegroups with nodes, running node instances, active Fargate profiles or
    /// Auto Mode. High when a subnet those nodes or pods use has no route to the internet
    /// at all, medium otherwise. One finding per cluster.
    ///
    /// ## Why it matters
    ///
    /// With the private endpoint off, the API server's name resolves to public addresses
    /// only, for nodes too: every kubelet, every Fargate pod and every in-VPC client talks
    /// to the control plane over the internet, through a NAT or internet gateway.
    /// - A node or Fargate pod in a subnet with no route to the internet cannot reach the
    ///   API server at all: nodes launched there never join the cluster and Fargate pods
    ///   scheduled there never start. The next scale-out or node replacement fails. (Nodes
    ///   whose kubelet is set to use an HTTP proxy in the VPC are the exception: the proxy's
    ///   own path is what counts, and it is not visible from the AWS APIs.)
    /// - Elsewhere the control traffic leaves the VPC and pays NAT data processing, and if
    ///   `publicAccessCidrs` is restricted it must list the NAT gateways' public addresses,
    ///   or nodes lose the API as soon as they need it. (This check does not compare those
    ///   addresses: the NAT gateways' public IPs are not collected.)
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER \
    ///   --query 'cluster.resourcesVpcConfig.{private:endpointPrivateAccess,public:endpointPublicAccess,cidrs:publicAccessCidrs}'
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP --query 'nodegroup.subnets'
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET \
    ///   --query 'RouteTables[].Routes[?DestinationCidrBlock==`0.0.0.0/0`]'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Turn the private endpoint on (the public one can stay, restricted to known networks);
    /// the change takes a few minutes and keeps the cluster available:
    ///
    /// ```sh
    /// aws eks update-cluster-config --name CLUSTER \
    ///   --resources-vpc-config endpointPrivateAccess=true
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html
    pub static EKS009 = {
        code: "EKS009",
        name: "private-endpoint-off",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "EKS cluster's nodes reach its API server only through the public endpoint",
        needs: [],
        eks_compute: true,
        controls: [
        prowler("eks_cluster_private_nodes_enabled").partial(
            "Prowler fails every cluster with the private endpoint off; EKS009 only \
             clusters whose nodes run in the VPC",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || cluster.endpoint_private_access {
            continue;
        }
        let compute = ctx.graph.cluster_compute(cluster);
        if compute.is_empty() {
            continue;
        }
        // The subnets its nodes and pods use, and what put them there.
        let mut subnets: BTreeSet<&str> = BTreeSet::new();
        let mut evidence = vec![Evidence::new(
            &cluster.arn,
            format!(
                "endpointPrivateAccess false; endpointPublicAccess {}; publicAccessCidrs: {}",
                cluster.endpoint_public_access,
                if cluster.public_access_cidrs.is_empty() {
                    "none set (0.0.0.0/0)".to_string()
                } else {
                    cluster.public_access_cidrs.join(", ")
                }
            ),
        )];
        for ng in &compute.nodegroups_with_nodes {
            subnets.extend(ng.subnets.iter().map(String::as_str));
            evidence.push(Evidence::new(
                &ng.arn,
                format!(
                    "nodegroup `{}` ({} nodes desired) in {}",
                    ng.name,
                    ng.desired_size,
                    ng.subnets.join(", ")
                ),
            ));
        }
        for fp in &compute.active_fargate_profiles {
            subnets.extend(fp.subnets.iter().map(String::as_str));
            evidence.push(Evidence::new(
                &fp.arn,
                format!("Fargate profile `{}` in {}", fp.name, fp.subnets.join(", ")),
            ));
        }
        subnets.extend(compute.nodes_up.iter().filter_map(|i| i.subnet_id.as_deref()));
        if compute.auto_mode {
            // Auto Mode launches nodes in the cluster's own subnets unless a node class says
            // otherwise.
            subnets.extend(cluster.subnet_ids.iter().map(String::as_str));
        }
        let cut_off: Vec<&str> = subnets
            .iter()
            .copied()
            .filter(|id| {
                ctx.graph
                    .subnet_facts_by_id(&cluster.scope, id)
                    .is_some_and(|f| f.egress == Egress::None)
            })
            .collect();
        for id in &cut_off {
            if let Some(f) = ctx.graph.subnet_facts_by_id(&cluster.scope, id) {
                evidence.push(Evidence::new(&f.subnet.arn, f.egress_fact()));
            }
        }
        let (severity, consequence) = if cut_off.is_empty() {
            (
                Severity::Medium,
                "every kubelet and pod reaches the control plane over the internet, through NAT or an internet gateway".to_string(),
            )
        } else {
            (
                Severity::High,
                format!(
                    "subnet{} {} {} no route to the internet, so nodes and Fargate pods placed there cannot reach the API server and never join or start",
                    if cut_off.len() == 1 { "" } else { "s" },
                    cut_off.join(", "),
                    if cut_off.len() == 1 { "has" } else { "have" }
                ),
            )
        };
        out.report(
            &cluster.scope,
            Report {
                severity,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` has its private API endpoint off: {consequence}",
                    cluster.name
                ),
                remediation: format!(
                    "Turn the private endpoint on: `aws eks update-cluster-config --name {} --resources-vpc-config endpointPrivateAccess=true`.",
                    cluster.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    /// The standard VPC, plus `subnet-2` whose table sends 0.0.0.0/0 to nat-1.
    fn vpc() -> Builder {
        let mut b = Builder::standard_vpc();
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.route_table("rtb-nat", "vpc-1", &["subnet-2"])
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        b
    }

    #[test]
    fn nodes_in_a_subnet_without_internet_make_it_high() {
        let mut b = vpc();
        b.eks_cluster("jobs").endpoint_private_access = false;
        // subnet-1 sits on the VPC's local-only main table.
        b.nodegroup("jobs", "batch", &["subnet-1", "subnet-2"]);
        let out = b.run(&[&EKS009]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            "EKS cluster `jobs` has its private API endpoint off: subnet subnet-1 has no route to the internet, so nodes and Fargate pods placed there cannot reach the API server and never join or start"
        );
        assert!(f.evidence.iter().any(|e| e.resource.ends_with("subnet/subnet-1")));
    }

    #[test]
    fn nodes_behind_nat_make_it_medium_and_private_on_or_no_compute_is_quiet() {
        let mut b = vpc();
        b.eks_cluster("web").endpoint_private_access = false;
        b.nodegroup("web", "general", &["subnet-2"]);
        b.eks_cluster("api").endpoint_private_access = true;
        b.nodegroup("api", "general", &["subnet-1"]);
        b.eks_cluster("empty").endpoint_private_access = false;
        let out = b.run(&[&EKS009]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(out.findings[0].severity, Severity::Medium);
        assert!(out.findings[0].resource.ends_with("cluster/web"));
        assert!(out.findings[0].message.ends_with("through NAT or an internet gateway"));
    }
}
