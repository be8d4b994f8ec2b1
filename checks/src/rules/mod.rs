//! The checks, one file each, grouped by the service whose resource they report on.
//!
//! Registering a check is one line in the [`checks!`] list below: it declares the check's
//! module (`rules/<service>/<module>.rs`) and puts its static in [`ALL`]. The registry tests
//! hold every check to the project's conventions (unique codes and names, kebab-case names,
//! complete docs), fail on a check file that is not registered, and keep README.md's table of
//! checks equal to the registry.

use crate::registry::Check;

mod common;

#[cfg(test)]
mod tests;

/// Declares each service's module with one `pub mod` per check, and [`ALL`] from the same
/// list, so a check cannot be compiled without being registered or registered without a
/// file. List services, and checks within them, in code order: `ALL` is sorted by code.
macro_rules! checks {
    ($(
        $(#[$service_doc:meta])*
        $service:ident {
            $($module:ident::$code:ident),* $(,)?
        }
    )*) => {
        $(
            $(#[$service_doc])*
            pub mod $service {
                $(pub mod $module;)*
            }
        )*

        /// Every check, sorted by code.
        pub static ALL: &[&Check] = &[$($(&$service::$module::$code,)*)*];
    };
}

checks! {
    /// Checks on ECR private repositories and registries.
    ecr {
        image_scanning_off::ECR001,
        repository_tags_mutable::ECR002,
        no_lifecycle_policy::ECR003,
        anyone_can_pull::ECR004,
        image_not_pullable::ECR005,
        image_expires::ECR006,
        image_platform_mismatch::ECR007,
        cross_account_pull_denied::ECR008,
    }
    /// Checks on ECS services, their task definitions and clusters.
    ecs {
        deployment_circuit_breaker_off::ECS001,
        deployment_alarms_missing::ECS002,
        secret_in_environment::ECS003,
        mutable_image_tag::ECS004,
        missing_container_health_check::ECS005,
        public_ip_assigned::ECS006,
        no_redundancy::ECS007,
        privileged_container::ECS008,
        execution_role_missing_or_weak::ECS009,
        task_role_overprivileged::ECS010,
        execution_role_reused_as_task_role::ECS011,
        spot_only_capacity::ECS012,
        cross_region_image::ECS013,
        deploy_cannot_progress::ECS014,
        no_log_configuration::ECS015,
        container_insights_off::ECS016,
        writable_root_filesystem::ECS017,
        container_runs_as_root::ECS018,
        host_namespace_shared::ECS019,
        fargate_platform_outdated::ECS020,
        efs_without_transit_encryption::ECS021,
        log_delivery_blocking::ECS022,
        capacity_provider_unprotected::ECS023,
        injected_secret_missing::ECS024,
        injected_secret_undecryptable::ECS025,
    }
    /// Checks on EKS clusters.
    eks {
        idle_eks_cluster::EKS001,
        control_plane_logging_incomplete::EKS002,
        secrets_without_customer_kms_key::EKS003,
        public_endpoint_open::EKS004,
        version_support_ending::EKS005,
        irsa_trust_too_broad::EKS006,
        irsa_provider_missing::EKS007,
        nodegroup_version_skew::EKS008,
        private_endpoint_off::EKS009,
        spot_only_nodes::EKS010,
        deletion_protection_off::EKS011,
        config_map_authentication::EKS012,
        pod_role_overprivileged::EKS013,
        addon_unhealthy::EKS014,
        addon_version_behind::EKS015,
    }
    /// Checks on ELBv2 target groups and how workloads use them.
    elb {
        awsvpc_service_on_instance_target_group::ELB001,
        slow_deregistration::ELB002,
        health_check_port_mismatch::ELB003,
        no_healthy_targets::ELB004,
        security_groups_block_targets::ELB005,
        health_check_kills_slow_start::ELB006,
    }
    /// Checks on IAM roles.
    iam {
        trust_anyone::IAM001,
    }
    /// Checks on the VPC networking container workloads run in.
    vpc {
        subnet_ip_exhaustion::VPC001,
        ecr_endpoints_without_s3_gateway::VPC002,
        private_subnet_without_image_path::VPC003,
        no_logs_path::VPC004,
        no_secrets_path::VPC005,
        s3_endpoint_policy_blocks_ecr::VPC006,
        no_pod_credentials_path::VPC007,
        no_ecs_agent_path::VPC008,
        ecs_exec_cannot_connect::VPC009,
    }
}

/// The check with this code (any case, `elb001`) or this exact name.
pub fn find(code_or_name: &str) -> Option<&'static Check> {
    ALL.iter()
        .copied()
        .find(|c| c.code.eq_ignore_ascii_case(code_or_name) || c.name == code_or_name)
}
