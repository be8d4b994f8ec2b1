//! Checks on IAM roles.

pub(crate) mod role_permissions;
pub mod trust_anyone;
