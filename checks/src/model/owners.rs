//! Who owns a resource: the value of an owner tag on it, or on the resource it belongs to.
//!
//! [`Inventory::parents`] records, once, what each collected resource belongs to, by ARN:
//!
//! - an ECS service → its cluster; a task set → its service; standalone tasks, scheduled
//!   tasks and container instances → their cluster;
//! - an EKS nodegroup, Fargate profile, add-on or Pod Identity association → its cluster;
//! - a subnet, route table, NAT gateway, VPC endpoint or security group → its VPC;
//! - a target group → its (first) load balancer; a listener → its load balancer; a
//!   listener rule → its listener.
//!
//! [`Inventory::owner`] walks that chain from a resource up, and at each step looks for the
//! tag keys in the order given: the first key found on the nearest resource wins, so a
//! service's own `team` tag beats its cluster's `owner` tag even when `owner` is listed
//! first. A key whose value is empty counts as absent.

use std::collections::{BTreeMap, HashMap};

use super::{Inventory, Scope};

/// How far up a chain [`Inventory::owner`] looks (a task set's cluster is two steps up).
const MAX_DEPTH: usize = 8;

/// What each resource belongs to: child ARN → parent ARN.
#[derive(Debug, Default, Clone)]
pub struct Parents(HashMap<String, String>);

impl Parents {
    /// The parent of `arn`, if the inventory records one.
    pub fn of(&self, arn: &str) -> Option<&str> {
        self.0.get(arn).map(String::as_str)
    }

    /// `arn`, then its parent, its parent's parent… (at most [`MAX_DEPTH`] steps, never
    /// round a cycle).
    pub fn chain<'p>(&'p self, arn: &'p str) -> impl Iterator<Item = &'p str> + 'p {
        let mut seen: Vec<&str> = Vec::new();
        std::iter::successors(Some(arn), move |a| self.of(a))
            .take(MAX_DEPTH + 1)
            .take_while(move |a| {
                let fresh = !seen.contains(a);
                seen.push(a);
                fresh
            })
    }

    fn insert(&mut self, child: &str, parent: String) {
        if !child.is_empty() && !parent.is_empty() && child != parent {
            self.0.insert(child.to_string(), parent);
        }
    }
}

impl Inventory {
    /// What each collected resource belongs to (see the module documentation).
    pub fn parents(&self) -> Parents {
        let mut p = Parents::default();
        for s in &self.ecs_services {
            p.insert(&s.arn, s.cluster_arn.clone());
            for ts in &s.task_sets {
                p.insert(&ts.arn, s.arn.clone());
            }
        }
        for t in &self.standalone_tasks {
            p.insert(&t.arn, t.cluster_arn.clone());
        }
        for t in &self.scheduled_tasks {
            p.insert(&t.arn, t.cluster_arn.clone());
        }
        for ci in &self.ecs_container_instances {
            p.insert(&ci.arn, ci.cluster_arn.clone());
        }
        let eks: HashMap<(&Scope, &str), &str> = self
            .eks_clusters
            .iter()
            .map(|c| ((&c.scope, c.name.as_str()), c.arn.as_str()))
            .collect();
        let eks_cluster = |scope: &Scope, name: &str| match eks.get(&(scope, name)) {
            Some(arn) => arn.to_string(),
            None => format!(
                "arn:{}:eks:{}:{}:cluster/{name}",
                scope.partition(),
                scope.region,
                scope.account
            ),
        };
        let eks_children = (self.eks_nodegroups.iter())
            .map(|n| (&n.arn, &n.scope, &n.cluster_name))
            .chain((self.eks_fargate_profiles.iter()).map(|f| (&f.arn, &f.scope, &f.cluster_name)))
            .chain((self.eks_addons.iter()).map(|a| (&a.arn, &a.scope, &a.cluster_name)))
            .chain(
                (self.eks_pod_identity_associations.iter())
                    .map(|a| (&a.arn, &a.scope, &a.cluster_name)),
            );
        for (arn, scope, name) in eks_children {
            p.insert(arn, eks_cluster(scope, name));
        }
        let vpcs: HashMap<(&Scope, &str), &str> = self
            .vpcs
            .iter()
            .map(|v| ((&v.scope, v.id.as_str()), v.arn.as_str()))
            .collect();
        let vpc = |scope: &Scope, id: &str| match vpcs.get(&(scope, id)) {
            Some(arn) => arn.to_string(),
            None => scope.ec2_arn("vpc", id),
        };
        let vpc_children = (self.subnets.iter())
            .map(|s| (&s.arn, &s.scope, Some(&s.vpc_id)))
            .chain((self.route_tables.iter()).map(|r| (&r.arn, &r.scope, Some(&r.vpc_id))))
            .chain((self.nat_gateways.iter()).map(|n| (&n.arn, &n.scope, Some(&n.vpc_id))))
            .chain((self.vpc_endpoints.iter()).map(|e| (&e.arn, &e.scope, Some(&e.vpc_id))))
            .chain((self.security_groups.iter()).map(|g| (&g.arn, &g.scope, g.vpc_id.as_ref())));
        for (arn, scope, id) in vpc_children {
            if let Some(id) = id {
                p.insert(arn, vpc(scope, id));
            }
        }
        for tg in &self.target_groups {
            if let Some(lb) = tg.load_balancer_arns.first() {
                p.insert(&tg.arn, lb.clone());
            }
        }
        for l in &self.listeners {
            p.insert(&l.arn, l.load_balancer_arn.clone());
        }
        for r in &self.listener_rules {
            p.insert(&r.arn, r.listener_arn.clone());
        }
        p
    }

    /// The owner of `arn`: the value of the first of `keys` found on the nearest resource of
    /// its chain ([`Parents::chain`]) whose tags are known and carry one of them.
    pub fn owner<'i>(&'i self, parents: &Parents, arn: &str, keys: &[String]) -> Option<&'i str> {
        if keys.is_empty() {
            return None;
        }
        parents
            .chain(arn)
            .find_map(|a| first_key(self.resource_tags.get(a)?, keys))
    }
}

fn first_key<'t>(tags: &'t BTreeMap<String, String>, keys: &[String]) -> Option<&'t str> {
    keys.iter()
        .filter_map(|k| tags.get(k))
        .map(|v| v.as_str())
        .find(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use crate::model::Inventory;
    use crate::testkit::Builder;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    fn tag(inv: &mut Inventory, arn: &str, pairs: &[(&str, &str)]) {
        let tags = inv.resource_tags.entry(arn.to_string()).or_default();
        for (k, v) in pairs {
            tags.insert(k.to_string(), v.to_string());
        }
    }

    #[test]
    fn the_first_key_found_on_the_resource_wins() {
        let mut b = Builder::standard_vpc();
        let svc = b.with_web_service().arn.clone();
        tag(&mut b.inv, &svc, &[("team", "web"), ("owner", "alice")]);
        let p = b.inv.parents();
        let owner = |k: &[&str]| b.inv.owner(&p, &svc, &keys(k)).map(str::to_string);
        assert_eq!(owner(&["owner", "team"]).as_deref(), Some("alice"));
        assert_eq!(owner(&["team", "owner"]).as_deref(), Some("web"));
        assert_eq!(owner(&["cost-center", "team"]).as_deref(), Some("web"));
        assert_eq!(owner(&["cost-center"]), None);
        assert_eq!(owner(&[]), None);
    }

    #[test]
    fn own_tags_come_before_the_parents_and_empty_values_do_not_count() {
        let mut b = Builder::standard_vpc();
        let svc = b.with_web_service().arn.clone();
        let cluster = b.inv.ecs_services[0].cluster_arn.clone();
        tag(
            &mut b.inv,
            &cluster,
            &[("owner", "platform"), ("team", "core")],
        );
        tag(&mut b.inv, &svc, &[("team", "web"), ("owner", " ")]);
        let p = b.inv.parents();
        // The service's own `team` beats the cluster's `owner`, whatever the key order;
        // its blank `owner` is no owner.
        assert_eq!(
            b.inv.owner(&p, &svc, &keys(&["owner", "team"])),
            Some("web")
        );
        // A key the service lacks is looked up on the cluster.
        assert_eq!(
            b.inv.owner(&p, &svc, &keys(&["cost-center", "owner"])),
            Some("platform")
        );
        // No tags recorded for the service at all: the cluster answers.
        b.inv.resource_tags.remove(&svc);
        assert_eq!(b.inv.owner(&p, &svc, &keys(&["team"])), Some("core"));
    }

    #[test]
    fn the_chain_follows_task_sets_subnets_and_eks_children() {
        let mut b = Builder::standard_vpc();
        let svc = b.with_web_service();
        svc.task_sets.push(crate::model::EcsTaskSet {
            arn: "arn:aws:ecs:us-east-1:111122223333:task-set/main/web/ecs-svc/1".into(),
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: String::new(),
            launch_type: None,
            capacity_provider_strategy: Vec::new(),
            platform_version: None,
            network: None,
            load_balancers: Vec::new(),
            scale_percent: None,
            computed_desired_count: 1,
            running_count: 1,
            pending_count: 0,
        });
        let (svc_arn, cluster) = (svc.arn.clone(), svc.cluster_arn.clone());
        let task_set = "arn:aws:ecs:us-east-1:111122223333:task-set/main/web/ecs-svc/1";
        b.eks_cluster("prod");
        let ng = b.nodegroup("prod", "ng", &["subnet-1"]).arn.clone();
        let eks = b.inv.eks_clusters[0].arn.clone();
        let subnet = b.inv.subnets[0].arn.clone();
        let vpc = b.inv.subnets[0].scope.ec2_arn("vpc", "vpc-1");
        let p = b.inv.parents();
        let chain: Vec<&str> = p.chain(task_set).collect();
        assert_eq!(chain, [task_set, svc_arn.as_str(), cluster.as_str()]);
        assert_eq!(p.of(&ng), Some(eks.as_str()));
        assert_eq!(p.of(&subnet), Some(vpc.as_str()));

        tag(&mut b.inv, &cluster, &[("team", "payments")]);
        tag(&mut b.inv, &eks, &[("team", "ml")]);
        tag(&mut b.inv, &vpc, &[("team", "network")]);
        let team = keys(&["team"]);
        assert_eq!(b.inv.owner(&p, task_set, &team), Some("payments"));
        assert_eq!(b.inv.owner(&p, &ng, &team), Some("ml"));
        assert_eq!(b.inv.owner(&p, &subnet, &team), Some("network"));
        assert_eq!(
            b.inv.owner(&p, "arn:aws:iam::111122223333:role/x", &team),
            None
        );
    }

    #[test]
    fn a_cycle_ends_the_chain() {
        let mut p = super::Parents::default();
        p.insert("a", "b".into());
        p.insert("b", "a".into());
        assert_eq!(p.chain("a").collect::<Vec<_>>(), ["a", "b"]);
    }
}
