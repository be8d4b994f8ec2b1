//! How many IPv4 addresses each workload will claim from its subnets: an ECS service's next
//! deployment and autoscaling ceiling, a managed nodegroup at `maxSize`. Computed once in
//! [`Graph::build`].

use serde::Serialize;

use super::{key, EcsWorkload, Graph, Indexes, Workload};
use crate::model::{EcsService, EksNodegroup, Inventory, ScalableTarget};
/// ECS's default `maximumPercent` for rolling deployments.
const DEFAULT_MAXIMUM_PERCENT: i64 = 200;
/// The IPv4 addresses a workload will claim from its subnets beyond what it holds now, and
/// how that was derived. Computed once per ECS service and managed nodegroup in
/// [`Graph::build`]; read it with [`Graph::ip_demands_of`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IpDemand {
    /// An awsvpc ECS service's next deployment: every task it starts owns an ENI.
    Deploy(DeployDemand),
    /// An EKS managed nodegroup scaled to `maxSize`, each node holding as many addresses as
    /// the VPC CNI can give its largest instance type.
    NodegroupCeiling(NodegroupCeiling),
    /// An awsvpc ECS service scaled out to its Application Auto Scaling maximum.
    ServiceCeiling(ServiceCeiling),
    /// An awsvpc scheduled task: every firing starts `tasks` tasks, each with an address.
    Run { tasks: i64 },
    /// Running awsvpc standalone tasks: they hold their addresses already and ask for none.
    Held { tasks: i64 },
    /// Nothing to derive and nothing missing: the workload is not live, takes no addresses
    /// from a subnet (no awsvpc subnets, `maxSize` 0), or an EXTERNAL deployment controller
    /// sizes its deployments. The reason, in words.
    NotApplicable { reason: String },
    /// Derivable, but an input was not collected: the reason, in words (`instance types
    /// m5.large were not described`).
    Unknown { reason: String },
}
impl IpDemand {
    /// The addresses demanded; `None` when nothing was derived ([`IpDemand::NotApplicable`],
    /// [`IpDemand::Unknown`]).
    pub fn ips(&self) -> Option<i64> {
        match self {
            IpDemand::Deploy(d) => Some(d.ips()),
            IpDemand::NodegroupCeiling(c) => Some(c.ips()),
            IpDemand::ServiceCeiling(c) => Some(c.ips()),
            IpDemand::Run { tasks } => Some(*tasks),
            IpDemand::Held { .. } => Some(0),
            IpDemand::NotApplicable { .. } | IpDemand::Unknown { .. } => None,
        }
    }
}
/// How an ECS service deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeployStrategy {
    /// The ECS controller's rolling update, at this `maximumPercent` (200 when unset).
    Rolling { maximum_percent: i64 },
    /// CodeDeploy blue/green: a complete replacement task set starts before traffic shifts.
    BlueGreen,
}
/// What an awsvpc ECS service's next deployment asks its subnets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeployDemand {
    pub strategy: DeployStrategy,
    /// `desiredCount`, negative values read as 0.
    pub desired: i64,
    /// Extra tasks the deployment starts: ceil(desired × (maximumPercent − 100) / 100) for a
    /// rolling deploy (0 at `maximumPercent` ≤ 100), `desired` for blue/green.
    pub surge: i64,
    /// Tasks already pending (`pendingCount`, negative values read as 0): they need
    /// addresses too.
    pub pending: i64,
}
impl DeployDemand {
    /// Free IPs the deployment needs: the surge plus the pending tasks.
    pub fn ips(&self) -> i64 {
        self.surge + self.pending
    }
}
/// What an EKS managed nodegroup could claim at `maxSize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodegroupCeiling {
    pub max_size: i64,
    /// The instance type holding the most addresses per node (the last listed on a tie).
    pub instance_type: String,
    /// Its network interfaces × IPv4 addresses per interface.
    pub per_node: i64,
}
impl NodegroupCeiling {
    /// `max_size × per_node`.
    pub fn ips(&self) -> i64 {
        self.max_size * self.per_node
    }
}
/// What an autoscaled awsvpc ECS service could claim at its scale-out maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCeiling {
    /// `MaxCapacity` of the service's scalable target.
    pub max_capacity: i64,
    /// Tasks running now (their addresses are already taken, so not in the free count).
    pub running: i64,
}
impl ServiceCeiling {
    /// More addresses needed at the maximum: one per task beyond those running.
    pub fn ips(&self) -> i64 {
        (self.max_capacity - self.running).max(0)
    }
}
/// The autoscaling ceiling of a live awsvpc service that has a scalable target; `None`
/// when it has none (its desired count is all it will ask for).
fn service_ceiling(svc: &EcsService, idx: &Indexes<'_>) -> Option<IpDemand> {
    if !svc.is_live() || svc.subnet_ids().is_empty() {
        return None;
    }
    let id = ScalableTarget::ecs_resource_id(&svc.cluster_arn, &svc.name);
    let target = idx.scalable_targets.get(&key(&svc.scope, &id))?;
    Some(IpDemand::ServiceCeiling(ServiceCeiling {
        max_capacity: i64::from(target.max_capacity.max(0)),
        running: i64::from(svc.running_count.max(0)),
    }))
}
fn service_demand(svc: &EcsService) -> IpDemand {
    let not_applicable = |reason: String| IpDemand::NotApplicable { reason };
    if !svc.is_live() {
        return not_applicable(format!("service is {}", svc.status));
    }
    if svc.subnet_ids().is_empty() {
        return not_applicable("no awsvpc subnets".to_string());
    }
    let desired = i64::from(svc.desired_count.max(0));
    let pending = i64::from(svc.pending_count.max(0));
    let (strategy, surge) = match svc.controller().to_ascii_uppercase().as_str() {
        "ECS" => {
            let maximum_percent = svc
                .deployment_configuration
                .as_ref()
                .and_then(|d| d.maximum_percent)
                .map_or(DEFAULT_MAXIMUM_PERCENT, i64::from);
            // Ceiling division: ECS rounds the surge up to whole tasks.
            let surge = if maximum_percent > 100 {
                (desired * (maximum_percent - 100) + 99) / 100
            } else {
                0
            };
            (DeployStrategy::Rolling { maximum_percent }, surge)
        }
        // Blue/green starts a complete replacement task set before shifting traffic.
        "CODE_DEPLOY" => (DeployStrategy::BlueGreen, desired),
        // An external controller decides its own surge; nothing to compute.
        _ => {
            return not_applicable(format!(
                "deployment controller {} sizes its own deployments",
                svc.controller()
            ))
        }
    };
    IpDemand::Deploy(DeployDemand {
        strategy,
        desired,
        surge,
        pending,
    })
}
fn nodegroup_demand(ng: &EksNodegroup, idx: &Indexes<'_>) -> IpDemand {
    let not_applicable = |reason: String| IpDemand::NotApplicable { reason };
    if !ng.is_live() {
        return not_applicable(format!("nodegroup is {}", ng.status));
    }
    if ng.max_size <= 0 {
        return not_applicable(format!("maxSize {}", ng.max_size));
    }
    if ng.subnets.is_empty() {
        return not_applicable("no subnets".to_string());
    }
    // Per-node demand is the largest of the nodegroup's instance types; any unknown type
    // could be the largest, so no guess is made.
    let types: Vec<_> = ng
        .instance_types
        .iter()
        .map(|t| (t, idx.instance_types.get(&key(&ng.scope, t)).copied()))
        .collect();
    let unknown: Vec<&str> = types
        .iter()
        .filter(|(_, it)| it.is_none())
        .map(|(t, _)| t.as_str())
        .collect();
    if types.is_empty() {
        return IpDemand::Unknown {
            reason: "its instance types (set in a launch template) are not known".to_string(),
        };
    }
    if !unknown.is_empty() {
        return IpDemand::Unknown {
            reason: format!("instance types {} were not described", unknown.join(", ")),
        };
    }
    let largest = types
        .iter()
        .filter_map(|(name, it)| {
            let it = (*it)?;
            let ips = i64::from(it.maximum_network_interfaces.max(0))
                * i64::from(it.ipv4_addresses_per_interface.max(0));
            Some((name.as_str(), ips))
        })
        .max_by_key(|(_, ips)| *ips);
    match largest {
        Some((instance_type, per_node)) => IpDemand::NodegroupCeiling(NodegroupCeiling {
            max_size: i64::from(ng.max_size),
            instance_type: instance_type.to_string(),
            per_node,
        }),
        // Unreachable: the types are non-empty and all described.
        None => IpDemand::Unknown {
            reason: "its instance types are not known".to_string(),
        },
    }
}
/// The demands of every ECS service (its next deploy, then its autoscaling ceiling when it
/// has one), then of every managed nodegroup, in inventory order.
pub(super) fn ip_demands<'a>(
    inv: &'a Inventory,
    idx: &Indexes<'a>,
) -> Vec<(Workload<'a>, IpDemand)> {
    let services = inv.ecs_services.iter().flat_map(|s| {
        let w = Workload::Ecs(EcsWorkload::Service(s));
        std::iter::once((w, service_demand(s))).chain(service_ceiling(s, idx).map(move |c| (w, c)))
    });
    let nodegroups = inv
        .eks_nodegroups
        .iter()
        .map(|n| (Workload::Nodegroup(n), nodegroup_demand(n, idx)));
    let scheduled = inv
        .scheduled_tasks
        .iter()
        .filter(|t| t.network.as_ref().is_some_and(|n| !n.subnets.is_empty()))
        .map(|t| {
            (
                Workload::Ecs(EcsWorkload::Scheduled(t)),
                IpDemand::Run {
                    tasks: i64::from(t.task_count.max(1)),
                },
            )
        });
    let standalone = inv
        .standalone_tasks
        .iter()
        .filter(|t| !t.subnets.is_empty())
        .map(|t| {
            (
                Workload::Ecs(EcsWorkload::Standalone(t)),
                IpDemand::Held {
                    tasks: t.task_arns.len() as i64,
                },
            )
        });
    services
        .chain(nodegroups)
        .chain(scheduled)
        .chain(standalone)
        .collect()
}
impl<'a> Graph<'a> {
    /// The IPs the ECS service or managed nodegroup with this ARN demands: a service's next
    /// deploy, then its autoscaling ceiling if it has one; a nodegroup's ceiling. Empty for
    /// any other ARN.
    pub fn ip_demands_of(&self, workload_arn: &str) -> impl Iterator<Item = &IpDemand> {
        self.ip_demand_by_arn
            .get(workload_arn)
            .into_iter()
            .flatten()
            .map(|&i| &self.ip_demands[i].1)
    }

    /// Every ECS service, then every managed nodegroup, in inventory order (not only live
    /// ones), each with its demand.
    pub fn ip_demands(&self) -> impl Iterator<Item = (Workload<'a>, &IpDemand)> {
        self.ip_demands.iter().map(|(w, d)| (*w, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::facts;
    use crate::graph::Graph;
    use crate::testkit::{Builder, ACCOUNT, REGION};

    /// The demand the graph derived for the workload with this ARN.
    fn demand(g: &Graph<'_>, arn: &str) -> IpDemand {
        g.ip_demands_of(arn)
            .next()
            .unwrap_or_else(|| panic!("no demand for {arn}"))
            .clone()
    }

    fn rolling(maximum_percent: i64, desired: i64, surge: i64, pending: i64) -> IpDemand {
        IpDemand::Deploy(DeployDemand {
            strategy: DeployStrategy::Rolling { maximum_percent },
            desired,
            surge,
            pending,
        })
    }

    fn not_applicable(reason: &str) -> IpDemand {
        IpDemand::NotApplicable {
            reason: reason.into(),
        }
    }

    #[test]
    fn service_deploy_demand() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let set_max_percent = |s: &mut EcsService, p: Option<i32>| {
            s.deployment_configuration
                .as_mut()
                .expect("builder sets a deployment configuration")
                .maximum_percent = p;
        };
        // 3 × 50% = 1.5 → 2: the surge rounds up to whole tasks.
        let s = b.service("round-up", "web", &["subnet-1"]);
        s.desired_count = 3;
        set_max_percent(s, Some(150));
        // Exact: 10 × 150% → 5.
        let s = b.service("exact", "web", &["subnet-1"]);
        s.desired_count = 10;
        set_max_percent(s, Some(150));
        // maximumPercent unset → ECS's default 200; pending tasks are added to the surge.
        let s = b.service("default", "web", &["subnet-1"]);
        s.desired_count = 4;
        s.pending_count = 3;
        set_max_percent(s, None);
        let s = b.service("no-config", "web", &["subnet-1"]);
        s.deployment_configuration = None;
        // maximumPercent ≤ 100 starts no extra task.
        set_max_percent(b.service("hundred", "web", &["subnet-1"]), Some(100));
        set_max_percent(b.service("fifty", "web", &["subnet-1"]), Some(50));
        // Negative counts (emulators) read as 0.
        let s = b.service("negative", "web", &["subnet-1"]);
        s.desired_count = -4;
        s.pending_count = -1;
        // CodeDeploy blue/green starts a full second set, whatever maximumPercent says.
        let s = b.service("blue-green", "web", &["subnet-1"]);
        s.desired_count = 6;
        s.pending_count = 1;
        s.deployment_controller = Some("code_deploy".into());
        // An external controller sizes its own deployments.
        b.service("external", "web", &["subnet-1"])
            .deployment_controller = Some("EXTERNAL".into());
        // Without awsvpc subnets tasks take no subnet address; a deleted service none at all.
        b.service("bridge", "web", &[]);
        b.service("gone", "web", &["subnet-1"]).status = "INACTIVE".into();
        let inv = b.finish();
        let g = Graph::build(&inv);
        let d = |name: &str| demand(&g, &b.service_arn(name));

        assert_eq!(d("round-up"), rolling(150, 3, 2, 0));
        assert_eq!(d("exact"), rolling(150, 10, 5, 0));
        assert_eq!(d("default"), rolling(200, 4, 4, 3));
        assert_eq!(d("default").ips(), Some(7));
        assert_eq!(d("no-config"), rolling(200, 2, 2, 0));
        assert_eq!(d("hundred"), rolling(100, 2, 0, 0));
        assert_eq!(d("fifty"), rolling(50, 2, 0, 0));
        assert_eq!(d("fifty").ips(), Some(0));
        assert_eq!(d("negative"), rolling(200, 0, 0, 0));
        assert_eq!(
            d("blue-green"),
            IpDemand::Deploy(DeployDemand {
                strategy: DeployStrategy::BlueGreen,
                desired: 6,
                surge: 6,
                pending: 1,
            })
        );
        assert_eq!(d("blue-green").ips(), Some(7));
        assert_eq!(
            d("external"),
            not_applicable("deployment controller EXTERNAL sizes its own deployments")
        );
        assert_eq!(d("external").ips(), None);
        assert_eq!(d("bridge"), not_applicable("no awsvpc subnets"));
        assert_eq!(d("gone"), not_applicable("service is INACTIVE"));
    }

    #[test]
    fn nodegroup_ceiling_demand() {
        let mut b = Builder::new();
        b.instance_type("m5.large", 3, 10);
        b.instance_type("m5.xlarge", 4, 15);
        b.instance_type("t3.small", 3, 4);
        // Another region's limits never size this region's nodegroups.
        b.in_scope(ACCOUNT, "eu-west-1")
            .instance_type("c5.large", 3, 10);
        b.in_scope(ACCOUNT, REGION);
        // The largest of its types sizes every node: 4 × 15 = 60 per node, 10 nodes.
        let ng = b.nodegroup("prod", "mixed", &["subnet-1"]);
        ng.instance_types = vec!["t3.small".into(), "m5.xlarge".into(), "m5.large".into()];
        ng.max_size = 10;
        // Any undescribed type could be the largest: unknown, naming the missing ones.
        b.nodegroup("prod", "undescribed", &["subnet-1"])
            .instance_types = vec!["m5.large".into(), "c5.large".into(), "x1.big".into()];
        // Instance types set only in a launch template.
        b.nodegroup("prod", "template", &["subnet-1"])
            .instance_types = vec![];
        // Nothing to claim: maxSize 0, no subnets, being deleted (the types do not matter).
        let zero = b.nodegroup("prod", "zero", &["subnet-1"]);
        zero.max_size = 0;
        zero.instance_types = vec!["x1.big".into()];
        b.nodegroup("prod", "nowhere", &[]);
        b.nodegroup("prod", "deleting", &["subnet-1"]).status = "DELETING".into();
        let inv = b.finish();
        let g = Graph::build(&inv);
        let d = |name: &str| demand(&g, &b.arn("eks", &format!("nodegroup/prod/{name}/uuid")));

        let mixed = d("mixed");
        assert_eq!(
            mixed,
            IpDemand::NodegroupCeiling(NodegroupCeiling {
                max_size: 10,
                instance_type: "m5.xlarge".into(),
                per_node: 60,
            })
        );
        assert_eq!(mixed.ips(), Some(600));
        assert_eq!(
            d("undescribed"),
            IpDemand::Unknown {
                reason: "instance types c5.large, x1.big were not described".into()
            }
        );
        assert_eq!(d("undescribed").ips(), None);
        assert_eq!(
            d("template"),
            IpDemand::Unknown {
                reason: "its instance types (set in a launch template) are not known".into()
            }
        );
        assert_eq!(d("zero"), not_applicable("maxSize 0"));
        assert_eq!(d("nowhere"), not_applicable("no subnets"));
        assert_eq!(d("deleting"), not_applicable("nodegroup is DELETING"));
    }

    #[test]
    fn subnet_facts_expose_the_demand_of_their_workloads() {
        let mut b = Builder::standard_vpc();
        b.instance_type("m5.large", 3, 10);
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        b.service("web", "web", &["subnet-1"]).desired_count = 5;
        b.service("elsewhere", "web", &["public-a"]);
        b.eks_cluster("prod");
        b.nodegroup("prod", "ng", &["subnet-1", "public-a"]);
        b.fargate_profile("prod", "fp", "default", &["subnet-1"]);
        let inv = b.finish();
        let g = Graph::build(&inv);
        let demands: Vec<(String, Option<i64>)> = facts(&g, "subnet-1")
            .demands(&g)
            .map(|(w, d)| (w.describe(), d.ips()))
            .collect();
        // A Fargate profile's demand is its pods', which the inventory does not hold: absent.
        assert_eq!(
            demands,
            [
                ("service `web`".to_string(), Some(5)),
                ("nodegroup `ng`".to_string(), Some(4 * 30)),
            ]
        );
        let fp = inv.eks_fargate_profiles[0].arn.as_str();
        assert!(g.ip_demands_of(fp).next().is_none());
        // Every ECS service and nodegroup, services first, in inventory order.
        let all: Vec<&str> = g.ip_demands().map(|(w, _)| w.name()).collect();
        assert_eq!(all, ["web", "elsewhere", "ng"]);
    }

    #[test]
    fn autoscaled_service_has_a_ceiling_beside_its_deploy() {
        let mut b = Builder::standard_vpc();
        b.task_def("web", Some("awsvpc"), &["nginx"]);
        let svc = b.service("web", "web", &["subnet-1"]);
        svc.desired_count = 4;
        svc.running_count = 3;
        b.service("fixed", "web", &["subnet-1"]);
        let scope = b.scope();
        let cluster = b.inv.ecs_services[0].cluster_arn.clone();
        b.inv
            .ecs_scalable_targets
            .push(crate::model::ScalableTarget {
                scope: scope.clone(),
                resource_id: crate::model::ScalableTarget::ecs_resource_id(&cluster, "web"),
                scalable_dimension: "ecs:service:DesiredCount".into(),
                min_capacity: 2,
                max_capacity: 40,
            });
        let inv = b.finish();
        let g = Graph::build(&inv);
        let web: Vec<&IpDemand> = g.ip_demands_of(&b.service_arn("web")).collect();
        assert_eq!(web.len(), 2, "{web:?}");
        assert!(matches!(web[0], IpDemand::Deploy(_)));
        assert_eq!(
            web[1],
            &IpDemand::ServiceCeiling(crate::graph::ServiceCeiling {
                max_capacity: 40,
                running: 3
            })
        );
        assert_eq!(web[1].ips(), Some(37), "beyond the 3 running tasks");
        // No scalable target: the deploy is all the service asks for.
        assert_eq!(g.ip_demands_of(&b.service_arn("fixed")).count(), 1);
    }
}
