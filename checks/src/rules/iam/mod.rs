//! Checks on IAM roles.

pub mod trust_anyone;
