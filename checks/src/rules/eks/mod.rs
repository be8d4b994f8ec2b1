//! Checks on EKS clusters.

pub mod idle_eks_cluster;
