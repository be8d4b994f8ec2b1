//! ELBv2 records: load balancers, listeners and their rules, target groups and the health
//! of their targets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Scope;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadBalancer {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `application`, `network`, `gateway`.
    pub lb_type: Option<String>,
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub state: Option<String>,
    pub subnets: Vec<String>,
    /// Its security groups (ids). Application Load Balancers always have some; a Network
    /// Load Balancer has none unless it was created with them.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

impl LoadBalancer {
    pub fn is_application(&self) -> bool {
        self.lb_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("application"))
    }

    pub fn is_network(&self) -> bool {
        self.lb_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("network"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Listener {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: Option<i32>,
    pub protocol: Option<String>,
    /// Target groups the default actions forward to, with their weights.
    pub default_forwards: Vec<Forward>,
}

/// A target group a forward action sends traffic to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Forward {
    pub target_group_arn: String,
    /// Its weight in a weighted forward (`ForwardConfig`); `None` for a plain forward to one
    /// group, which takes all the traffic.
    pub weight: Option<i32>,
}

impl Forward {
    /// Whether the group gets any of the traffic: weight 0 parks a group (the idle colour of
    /// a blue/green pair) without sending it anything.
    pub fn carries_traffic(&self) -> bool {
        self.weight.is_none_or(|w| w > 0)
    }
}

/// A listener rule other than the default (`DescribeRules`; the default rule is the
/// listener's default action).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ListenerRule {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub listener_arn: String,
    /// `1`…`50000`, evaluated lowest first.
    pub priority: String,
    /// Its conditions, in words (`path-pattern /api/*`, `host-header api.example.com`).
    pub conditions: Vec<String>,
    /// Target groups its forward action sends to.
    pub forwards: Vec<Forward>,
}

impl ListenerRule {
    /// `rule 10 (path-pattern /api/*)`: how a rule is named in messages.
    pub fn label(&self) -> String {
        if self.conditions.is_empty() {
            format!("rule {}", self.priority)
        } else {
            format!("rule {} ({})", self.priority, self.conditions.join("; "))
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetGroup {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub health_check_port: Option<String>,
    pub health_check_path: Option<String>,
    /// `HTTP`, `HTTPS`, `TCP`.
    #[serde(default)]
    pub health_check_protocol: Option<String>,
    /// Seconds between health checks of one target (AWS's default: 30).
    #[serde(default)]
    pub health_check_interval_seconds: Option<i32>,
    /// Consecutive failed checks that make a target unhealthy (AWS's default: 2).
    #[serde(default)]
    pub unhealthy_threshold_count: Option<i32>,
    /// Consecutive passed checks that make a target healthy (AWS's default: 5).
    #[serde(default)]
    pub healthy_threshold_count: Option<i32>,
    /// `preserve_client_ip.enabled` from the attributes (Network Load Balancer groups);
    /// `None` when absent or not read.
    #[serde(default)]
    pub preserve_client_ip: Option<bool>,
    /// `None` when the tags could not be read (see coverage), empty when there are none.
    pub tags: Option<BTreeMap<String, String>>,
    /// `None` when target health could not be read (see coverage).
    pub targets: Option<Vec<TargetHealth>>,
    /// `deregistration_delay.timeout_seconds` from the target group's attributes; `None` when
    /// the attributes could not be read (see coverage: elbv2:DescribeTargetGroupAttributes,
    /// scoped to the target group ARN).
    pub deregistration_delay_seconds: Option<i64>,
}

impl TargetGroup {
    /// The fixed health check port; `None` for `traffic-port` (also AWS's default when the
    /// field is absent) and for anything unparsable.
    pub fn fixed_health_check_port(&self) -> Option<i32> {
        let port = self.health_check_port.as_deref()?.trim();
        if port.eq_ignore_ascii_case("traffic-port") {
            return None;
        }
        port.parse().ok()
    }

    pub fn is_ip_type(&self) -> bool {
        self.target_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("ip"))
    }

    pub fn healthy_targets(&self) -> Option<usize> {
        self.targets
            .as_ref()
            .map(|t| t.iter().filter(|t| t.state == "healthy").count())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetHealth {
    pub id: String,
    pub port: Option<i32>,
    pub state: String,
    pub reason: Option<String>,
}

impl TargetGroup {
    /// Target type `instance` (AWS's default when a target group is created without one).
    pub fn is_instance_type(&self) -> bool {
        self.target_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("instance"))
    }

    /// A tag value; `None` also when the tags were not collected.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.as_ref()?.get(key).map(String::as_str)
    }
}
