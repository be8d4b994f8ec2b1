//! Checks on ECS services and task definitions.

pub mod deployment_circuit_breaker_off;
