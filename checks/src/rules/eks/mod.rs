//! Checks on EKS clusters.

pub mod control_plane_logging_incomplete;
pub mod idle_eks_cluster;
pub mod nodegroup_version_skew;
pub mod public_endpoint_open;
pub mod secrets_without_customer_kms_key;
