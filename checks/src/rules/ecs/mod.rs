//! Checks on ECS services, their task definitions and clusters.

pub mod container_insights_off;
pub mod cross_region_image;
pub mod deploy_cannot_progress;
pub mod deployment_alarms_missing;
pub mod deployment_circuit_breaker_off;
pub mod execution_role_missing_or_weak;
pub mod execution_role_reused_as_task_role;
pub mod missing_container_health_check;
pub mod mutable_image_tag;
pub mod no_log_configuration;
pub mod no_redundancy;
pub mod privileged_container;
pub mod public_ip_assigned;
pub mod secret_in_environment;
pub mod spot_only_capacity;
pub mod task_role_overprivileged;
