//! The checks, one file each, grouped by the service whose resource they report on.
//!
//! Registering a check is one line in [`ALL`]; the registry tests below hold every check to
//! the project's conventions (unique codes and names, kebab-case names, complete docs).

use crate::registry::Check;

mod common;
pub mod ecs;
pub mod eks;
pub mod elb;
pub mod iam;
pub mod vpc;

#[cfg(test)]
mod tests;

/// Every check, sorted by code.
pub static ALL: &[&Check] = &[
    &ecs::deployment_circuit_breaker_off::ECS001,
    &ecs::mutable_image_tag::ECS004,
    &ecs::public_ip_assigned::ECS006,
    &ecs::privileged_container::ECS008,
    &eks::idle_eks_cluster::EKS001,
    &eks::control_plane_logging_incomplete::EKS002,
    &eks::secrets_without_customer_kms_key::EKS003,
    &eks::public_endpoint_open::EKS004,
    &eks::nodegroup_version_skew::EKS008,
    &elb::awsvpc_service_on_instance_target_group::ELB001,
    &iam::trust_anyone::IAM001,
    &vpc::subnet_ip_exhaustion::VPC001,
    &vpc::ecr_endpoints_without_s3_gateway::VPC002,
    &vpc::private_subnet_without_image_path::VPC003,
];

/// The check with this code (any case, `elb001`) or this exact name.
pub fn find(code_or_name: &str) -> Option<&'static Check> {
    ALL.iter()
        .copied()
        .find(|c| c.code.eq_ignore_ascii_case(code_or_name) || c.name == code_or_name)
}
