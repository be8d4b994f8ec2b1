//! The EKS side of the graph: a cluster's compute (nodegroups, Fargate profiles, nodes).

use super::{key, EdgeKind, Graph};
use crate::model::{EksCluster, EksFargateProfile, EksNodegroup, Instance, Scope};
/// What an EKS cluster can run pods on.
#[derive(Debug, Clone)]
pub struct ClusterCompute<'a> {
    /// Managed nodegroups with a desired size above zero.
    pub nodegroups_with_nodes: Vec<&'a EksNodegroup>,
    pub active_fargate_profiles: Vec<&'a EksFargateProfile>,
    /// Running or pending EC2 instances tagged as its nodes (managed, self-managed, Karpenter).
    pub nodes_up: Vec<&'a Instance>,
    pub auto_mode: bool,
}
impl ClusterCompute<'_> {
    /// Compute other than Fargate: nodegroup nodes, tagged instances or Auto Mode.
    pub fn has_node_compute(&self) -> bool {
        !self.nodegroups_with_nodes.is_empty() || !self.nodes_up.is_empty() || self.auto_mode
    }

    pub fn is_empty(&self) -> bool {
        !self.has_node_compute() && self.active_fargate_profiles.is_empty()
    }
}
impl<'a> Graph<'a> {
    pub fn eks_cluster_named(&self, scope: &Scope, name: &str) -> Option<&'a EksCluster> {
        self.idx.eks_clusters.get(&key(scope, name)).copied()
    }

    /// Collected managed nodegroups of the cluster.
    pub fn nodegroups_of(&self, cluster_arn: &str) -> Vec<&'a EksNodegroup> {
        self.incoming(cluster_arn, EdgeKind::NodegroupCluster)
            .filter_map(|arn| self.eks_nodegroup(arn))
            .collect()
    }

    /// Collected Fargate profiles of the cluster.
    pub fn fargate_profiles_of(&self, cluster_arn: &str) -> Vec<&'a EksFargateProfile> {
        self.incoming(cluster_arn, EdgeKind::FargateProfileCluster)
            .filter_map(|arn| self.fargate_profile(arn))
            .collect()
    }

    /// EC2 instances tagged as nodes of the cluster, in any state.
    pub fn nodes_of(&self, cluster_arn: &str) -> Vec<&'a Instance> {
        self.incoming(cluster_arn, EdgeKind::InstanceEksCluster)
            .filter_map(|arn| self.instance(arn))
            .collect()
    }

    /// What the cluster can run pods on, as far as the inventory shows. Absence here proves
    /// nothing unless the nodegroup, Fargate profile and instance calls all succeeded.
    pub fn cluster_compute(&self, cluster: &'a EksCluster) -> ClusterCompute<'a> {
        ClusterCompute {
            nodegroups_with_nodes: self
                .nodegroups_of(&cluster.arn)
                .into_iter()
                .filter(|n| n.desired_size > 0)
                .collect(),
            active_fargate_profiles: self
                .fargate_profiles_of(&cluster.arn)
                .into_iter()
                .filter(|p| p.is_active())
                .collect(),
            nodes_up: self
                .nodes_of(&cluster.arn)
                .into_iter()
                .filter(|i| i.is_up())
                .collect(),
            auto_mode: cluster.auto_mode_compute,
        }
    }
}
