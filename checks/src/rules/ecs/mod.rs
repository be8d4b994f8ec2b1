//! Checks on ECS services and task definitions.

pub mod deployment_circuit_breaker_off;
pub mod mutable_image_tag;
pub mod privileged_container;
pub mod public_ip_assigned;
