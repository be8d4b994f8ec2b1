//! Checks on EKS clusters.

pub mod control_plane_logging_incomplete;
pub mod idle_eks_cluster;
pub mod public_endpoint_open;
