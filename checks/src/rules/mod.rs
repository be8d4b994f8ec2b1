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
    &ecs::deployment_alarms_missing::ECS002,
    &ecs::secret_in_environment::ECS003,
    &ecs::mutable_image_tag::ECS004,
    &ecs::missing_container_health_check::ECS005,
    &ecs::public_ip_assigned::ECS006,
    &ecs::no_redundancy::ECS007,
    &ecs::privileged_container::ECS008,
    &ecs::execution_role_missing_or_weak::ECS009,
    &ecs::task_role_overprivileged::ECS010,
    &ecs::execution_role_reused_as_task_role::ECS011,
    &ecs::spot_only_capacity::ECS012,
    &ecs::cross_region_image::ECS013,
    &ecs::deploy_cannot_progress::ECS014,
    &ecs::no_log_configuration::ECS015,
    &ecs::container_insights_off::ECS016,
    &eks::idle_eks_cluster::EKS001,
    &eks::control_plane_logging_incomplete::EKS002,
    &eks::secrets_without_customer_kms_key::EKS003,
    &eks::public_endpoint_open::EKS004,
    &eks::version_support_ending::EKS005,
    &eks::irsa_trust_too_broad::EKS006,
    &eks::irsa_provider_missing::EKS007,
    &eks::nodegroup_version_skew::EKS008,
    &elb::awsvpc_service_on_instance_target_group::ELB001,
    &elb::slow_deregistration::ELB002,
    &elb::health_check_port_mismatch::ELB003,
    &elb::no_healthy_targets::ELB004,
    &iam::trust_anyone::IAM001,
    &vpc::subnet_ip_exhaustion::VPC001,
    &vpc::ecr_endpoints_without_s3_gateway::VPC002,
    &vpc::private_subnet_without_image_path::VPC003,
    &vpc::no_logs_path::VPC004,
    &vpc::no_secrets_path::VPC005,
    &vpc::s3_endpoint_policy_blocks_ecr::VPC006,
];

/// The check with this code (any case, `elb001`) or this exact name.
pub fn find(code_or_name: &str) -> Option<&'static Check> {
    ALL.iter()
        .copied()
        .find(|c| c.code.eq_ignore_ascii_case(code_or_name) || c.name == code_or_name)
}
