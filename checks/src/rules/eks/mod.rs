//! Checks on EKS clusters.

pub mod control_plane_logging_incomplete;
pub mod idle_eks_cluster;
pub mod irsa_provider_missing;
pub mod irsa_trust_too_broad;
pub mod nodegroup_version_skew;
pub mod public_endpoint_open;
pub mod secrets_without_customer_kms_key;
pub mod version_support_ending;
