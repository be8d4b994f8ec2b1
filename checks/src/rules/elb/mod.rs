//! Checks on ELBv2 target groups and how workloads use them.

pub mod awsvpc_service_on_instance_target_group;
pub mod health_check_port_mismatch;
pub mod no_healthy_targets;
pub mod slow_deregistration;
