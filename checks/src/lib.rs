//! awsaudit's SDK-free core: the inventory model, the resource graph, findings, the check
//! registry and the rules. Nothing here talks to AWS, so it builds and tests in seconds.

pub mod crosswalk;
pub mod date;
pub mod ecr_lifecycle;
pub mod eks_calendar;
pub mod fargate_platform;
pub mod finding;
pub mod graph;
pub mod model;
pub mod names;
pub mod policy;
pub mod prices;
pub mod registry;
pub mod rules;
pub mod secrets;
#[cfg(test)]
mod testkit;

pub use finding::{Change, Cost, CostKind, Evidence, Finding, Note, Severity, Unknown};
pub use model::Inventory;
pub use registry::{Check, Outcome};
