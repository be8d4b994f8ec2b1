//! Application Auto Scaling targets of ECS services.

use serde::{Deserialize, Serialize};

use super::Scope;

/// An Application Auto Scaling target of an ECS service's desired count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScalableTarget {
    #[serde(flatten)]
    pub scope: Scope,
    /// `service/<cluster name>/<service name>`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
}

impl ScalableTarget {
    /// The resource id Application Auto Scaling uses for an ECS service.
    pub fn ecs_resource_id(cluster_arn: &str, service_name: &str) -> String {
        let cluster = cluster_arn.rsplit('/').next().unwrap_or(cluster_arn);
        format!("service/{cluster}/{service_name}")
    }
}
