//! Checks on ELBv2 target groups and how workloads use them.

pub mod awsvpc_service_on_instance_target_group;
