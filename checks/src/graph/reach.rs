//! Whether a load balancer's traffic and health checks get through the security groups
//! between it and the ECS tasks that register in a target group: the load balancer's
//! groups must let the packets out, the targets' groups must let them in, on the port the
//! targets are registered on and on the health check port.
//!
//! Decided once here, so ELB005 (which reports a blocked path) and ELB004 (which defers to
//! it for a group without healthy targets) agree.
//!
//! What is judged, and what is not:
//!
//! - A rule admits a peer by security group (`UserIdGroupPairs`: the peer's interface has
//!   that group) or by IPv4 CIDR (every address the peer may use is inside it: the
//!   subnets' CIDRs of the load balancer, or of the tasks). Port coverage is the union of
//!   the admitting rules, so two rules covering halves of a range cover it.
//! - A rule that names a managed prefix list is not resolved (the auditor does not read
//!   prefix lists): when nothing else admits the peer, the path is *not evaluated*, never
//!   passed or failed.
//! - A load balancer without security groups (a Network Load Balancer created without
//!   them) filters nothing: only the targets' ingress is judged. Its health checks come
//!   from its own private addresses in its subnets. Its traffic comes from those addresses
//!   too when client IP preservation is off, and from the clients' own addresses when it is
//!   on: those are unknown, so the traffic port is then blocked only if no ingress rule
//!   of any source covers it, and otherwise left unjudged.
//! - Targets: awsvpc tasks carry the security groups of their service's (or task set's)
//!   network configuration and take addresses in its subnets; tasks in bridge or host mode
//!   sit behind their container instance, whose security groups and subnet apply (read
//!   from the collected EC2 instances the target group's registered targets name). Bridge
//!   mode without a fixed host port registers a dynamic port: 32768–65535 must be open.

use std::collections::HashMap;

use crate::model::{
    Instance, LoadBalancer, PortMapping, Scope, SecurityGroup, SgRule, TargetGroup, TaskDefinition,
};

use super::{key, EcsWorkload, Graph, Key};

/// The port range ECS maps a container to on its host when the task definition asks for
/// a dynamic host port (bridge mode, `hostPort` 0 or absent).
pub const DYNAMIC_PORTS: PortRange = PortRange {
    from: 32768,
    to: 65535,
};

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRange {
    pub from: i32,
    pub to: i32,
}

impl PortRange {
    pub fn one(port: i32) -> Self {
        PortRange {
            from: port,
            to: port,
        }
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// Which security group rules are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The load balancer's groups do not let the packets out.
    LoadBalancerEgress,
    /// The targets' groups do not let them in.
    TargetIngress,
}

/// One missing permission: nothing in `groups` (direction `side`) admits `peer` on
/// `protocol` `ports`, which `purpose` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub side: Side,
    /// The security group ids that would need the rule.
    pub groups: Vec<String>,
    /// `traffic`, `health checks`, or `traffic and health checks`.
    pub purpose: String,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    pub ports: PortRange,
    /// Who must be admitted: ``security group sg-1 or 10.0.0.0/24, 10.0.1.0/24``.
    pub peer: String,
    /// The peer's security groups and CIDRs, for the rule that would fix it (both empty:
    /// any client).
    pub peer_groups: Vec<String>,
    pub peer_cidrs: Vec<String>,
    /// The instance (for targets behind container instances), else `None`.
    pub host: Option<String>,
}

/// How a load balancer reaches the tasks of one workload in one target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachOutcome {
    /// Every port is open both ways. `unjudged` says what could not be judged and was not
    /// held against the path (a Network Load Balancer's clients).
    Open { unjudged: Vec<String> },
    /// Some port is closed: targets fail their health checks or never get the traffic.
    Blocked(Vec<Blocked>),
    /// Not decided, and why.
    NotEvaluated(String),
}

/// The path from one load balancer to one workload's tasks in one target group.
#[derive(Debug, Clone)]
pub struct Reach<'a> {
    pub target_group: &'a TargetGroup,
    pub load_balancer: &'a LoadBalancer,
    pub workload: EcsWorkload<'a>,
    /// The ports it needs: (purpose, protocol, range).
    pub ports: Vec<(String, &'static str, PortRange)>,
    pub outcome: ReachOutcome,
}

/// Security groups by (account, region, id).
pub(super) fn security_group_index(groups: &[SecurityGroup]) -> HashMap<Key<'_>, &SecurityGroup> {
    let mut map = HashMap::new();
    for g in groups {
        map.entry(key(&g.scope, &g.id)).or_insert(g);
    }
    map
}

/// An IPv4 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: u32,
    prefix: u32,
}

impl Net {
    fn parse(cidr: &str) -> Option<Net> {
        let (ip, prefix) = cidr.trim().split_once('/')?;
        let prefix: u32 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let ip: std::net::Ipv4Addr = ip.parse().ok()?;
        Some(Net {
            addr: u32::from(ip) & mask(prefix),
            prefix,
        })
    }

    /// Whether every address of `inner` is in `self`.
    fn contains(&self, inner: &Net) -> bool {
        inner.prefix >= self.prefix && inner.addr & mask(self.prefix) == self.addr
    }
}

fn mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

/// Who packets come from or go to, as security group rules see them.
#[derive(Debug, Clone)]
struct Peer {
    /// Security groups of its interfaces.
    groups: Vec<String>,
    /// The CIDRs its addresses are in, each of which a rule must cover; `None` when they
    /// are unknown (a subnet not collected).
    cidrs: Option<Vec<(String, Net)>>,
}

impl Peer {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.groups.is_empty() {
            let noun = if self.groups.len() == 1 {
                "security group"
            } else {
                "security groups"
            };
            parts.push(format!("{noun} {}", self.groups.join(", ")));
        }
        if let Some(cidrs) = self.cidrs.as_ref().filter(|c| !c.is_empty()) {
            let list: Vec<&str> = cidrs.iter().map(|(c, _)| c.as_str()).collect();
            parts.push(list.join(", "));
        }
        parts.join(" or ")
    }
}

/// Whether a rule's protocol carries `protocol` (`tcp`/`udp`), and the ports it opens.
fn rule_ports(rule: &SgRule, protocol: &str) -> Option<PortRange> {
    let number = match protocol {
        "tcp" => "6",
        "udp" => "17",
        _ => return None,
    };
    let p = rule.protocol.as_str();
    if p == "-1" || p == "all" {
        return Some(PortRange { from: 0, to: 65535 });
    }
    if !p.eq_ignore_ascii_case(protocol) && p != number {
        return None;
    }
    match (rule.from_port, rule.to_port) {
        (Some(from), Some(to)) if from >= 0 && to >= from => Some(PortRange { from, to }),
        (None, None) | (Some(-1), Some(-1)) => Some(PortRange { from: 0, to: 65535 }),
        _ => None,
    }
}

/// Whether the union of `ranges` covers `want`.
fn covered(mut ranges: Vec<PortRange>, want: PortRange) -> bool {
    ranges.sort();
    let mut next = want.from;
    for r in ranges {
        if r.from > next {
            break;
        }
        if r.to >= next {
            next = r.to.saturating_add(1);
        }
        if next > want.to {
            return true;
        }
    }
    next > want.to
}

/// How a set of security groups treats a peer in one direction.
enum Verdict {
    Allowed,
    Blocked,
    Unresolved(String),
}

/// Whether the rules of `groups` in one direction admit `peer` on `protocol` `want`.
fn admits(
    groups: &[&SecurityGroup],
    egress: bool,
    peer: &Peer,
    protocol: &str,
    want: PortRange,
) -> Verdict {
    let rules: Vec<(&SgRule, PortRange)> = groups
        .iter()
        .flat_map(|g| if egress { &g.egress } else { &g.ingress })
        .filter_map(|r| Some((r, rule_ports(r, protocol)?)))
        .collect();
    // By security group: every interface of the peer has all its groups, so one is enough.
    let by_group: Vec<PortRange> = rules
        .iter()
        .filter(|(r, _)| r.groups.iter().any(|g| peer.groups.contains(g)))
        .map(|(_, p)| *p)
        .collect();
    if covered(by_group, want) {
        return Verdict::Allowed;
    }
    if let Some(cidrs) = &peer.cidrs {
        let nets: Vec<Vec<Net>> = rules
            .iter()
            .map(|(r, _)| r.cidrs.iter().filter_map(|c| Net::parse(c)).collect())
            .collect();
        let every = !cidrs.is_empty()
            && cidrs.iter().all(|(_, peer_net)| {
                let ranges: Vec<PortRange> = rules
                    .iter()
                    .zip(&nets)
                    .filter(|(_, nets)| nets.iter().any(|n| n.contains(peer_net)))
                    .map(|((_, p), _)| *p)
                    .collect();
                covered(ranges, want)
            });
        if every {
            return Verdict::Allowed;
        }
    }
    let lists: Vec<&str> = rules
        .iter()
        .filter(|(_, p)| p.from <= want.to && p.to >= want.from)
        .flat_map(|(r, _)| r.prefix_lists.iter().map(String::as_str))
        .collect();
    if let Some(first) = lists.first() {
        return Verdict::Unresolved(format!(
            "a rule admits prefix list {first}, which the auditor does not resolve"
        ));
    }
    if peer.cidrs.is_none() {
        return Verdict::Unresolved(String::from(
            "the subnets the traffic comes from were not all collected, so CIDR rules cannot be matched",
        ));
    }
    Verdict::Blocked
}

/// Whether any ingress rule of `groups`, from any source, opens `want`.
fn any_source(groups: &[&SecurityGroup], protocol: &str, want: PortRange) -> bool {
    let ranges: Vec<PortRange> = groups
        .iter()
        .flat_map(|g| &g.ingress)
        .filter_map(|r| rule_ports(r, protocol))
        .collect();
    covered(ranges, want)
}

/// Where the tasks of a workload receive a target group's traffic.
struct Host<'a> {
    /// The instance, for tasks behind a container instance.
    instance: Option<&'a Instance>,
    groups: Vec<String>,
    cidrs: Option<Vec<(String, Net)>>,
}

impl<'a> Graph<'a> {
    /// The collected security group `id` of `scope`.
    pub fn security_group(&self, scope: &Scope, id: &str) -> Option<&'a SecurityGroup> {
        self.security_groups.get(&key(scope, id)).copied()
    }

    /// The CIDRs of these subnets; `None` if one was not collected or has no IPv4 CIDR.
    fn subnet_cidrs(&self, scope: &Scope, ids: &[String]) -> Option<Vec<(String, Net)>> {
        ids.iter()
            .map(|id| {
                let cidr = self.subnet(scope, id)?.cidr_block.as_deref()?;
                Some((cidr.to_string(), Net::parse(cidr)?))
            })
            .collect()
    }

    /// Every path from a load balancer in front of `tg` to the ECS workloads registering in
    /// it (see the module docs), in load balancer then workload order. Empty when no
    /// collected load balancer forwards to it or no workload registers in it.
    pub fn reach(&self, tg: &'a TargetGroup) -> Vec<Reach<'a>> {
        let mut out = Vec::new();
        for lb_arn in self.load_balancers_of(&tg.arn) {
            let Some(super::Node::LoadBalancer(lb)) = self.node(lb_arn) else {
                continue;
            };
            // Gateway Load Balancers carry GENEVE to appliances, not this kind of traffic.
            if !lb.is_application() && !lb.is_network() {
                continue;
            }
            for w in self.workloads_on_target_group(&tg.arn) {
                out.push(self.reach_one(tg, lb, w));
            }
        }
        out
    }

    /// Whether some load balancer in front of `tg` cannot reach a workload's tasks through
    /// their security groups: its targets never pass their health checks for that reason.
    pub fn traffic_blocked(&self, tg: &'a TargetGroup) -> bool {
        self.reach(tg)
            .iter()
            .any(|r| matches!(r.outcome, ReachOutcome::Blocked(_)))
    }

    fn reach_one(
        &self,
        tg: &'a TargetGroup,
        lb: &'a LoadBalancer,
        w: EcsWorkload<'a>,
    ) -> Reach<'a> {
        let not = |why: String| Reach {
            target_group: tg,
            load_balancer: lb,
            workload: w,
            ports: Vec::new(),
            outcome: ReachOutcome::NotEvaluated(why),
        };
        let scope = &tg.scope;
        let Some(td) = self.task_definition(w.task_definition()) else {
            return not(format!(
                "task definition {} was not collected, so the ports its tasks listen on are unknown",
                w.task_definition()
            ));
        };
        let Some(traffic) = self.traffic_ports(tg, &w, td) else {
            return not(format!(
                "the port {} registers in target group `{}` is unknown",
                w.describe(),
                tg.name
            ));
        };
        let health = tg.fixed_health_check_port().map_or(traffic, PortRange::one);
        let protocols: &[&'static str] = match tg.protocol.as_deref().map(str::to_ascii_uppercase) {
            Some(p) if p == "UDP" => &["udp"],
            Some(p) if p == "TCP_UDP" => &["tcp", "udp"],
            _ => &["tcp"],
        };
        let mut ports: Vec<(String, &'static str, PortRange)> = Vec::new();
        for p in protocols {
            if *p == "tcp" && traffic == health {
                ports.push(("traffic and health checks".into(), "tcp", traffic));
            } else {
                ports.push(("traffic".into(), p, traffic));
            }
        }
        if traffic != health || !protocols.contains(&"tcp") {
            // Health checks are TCP or HTTP(S), whatever the traffic's protocol.
            ports.push(("health checks".into(), "tcp", health));
        }
        let hosts = match self.hosts(tg, &w, td) {
            Ok(h) => h,
            Err(why) => return not(why),
        };
        let lb_groups = match self.groups(scope, &lb.security_groups) {
            Ok(g) => g,
            Err(why) => return not(why),
        };
        let lb_peer = Peer {
            groups: lb.security_groups.clone(),
            cidrs: self.subnet_cidrs(scope, &lb.subnets),
        };
        let subnet_only = Peer {
            groups: Vec::new(),
            cidrs: lb_peer.cidrs.clone(),
        };
        let preserve = tg
            .preserve_client_ip
            .unwrap_or(!tg.is_ip_type() || protocols.contains(&"udp"));
        let mut blocked = Vec::new();
        let mut unresolved = Vec::new();
        let mut unjudged = Vec::new();
        for host in &hosts {
            let host_groups = match self.groups(scope, &host.groups) {
                Ok(g) => g,
                Err(why) => return not(why),
            };
            let host_peer = Peer {
                groups: host.groups.clone(),
                cidrs: host.cidrs.clone(),
            };
            let host_id = host.instance.map(|i| i.id.clone());
            for (purpose, protocol, range) in &ports {
                let mut judge =
                    |side: Side, groups: &[&SecurityGroup], ids: &[String], peer: &Peer| {
                        match admits(
                            groups,
                            side == Side::LoadBalancerEgress,
                            peer,
                            protocol,
                            *range,
                        ) {
                            Verdict::Allowed => {}
                            Verdict::Unresolved(why) => unresolved.push(why),
                            Verdict::Blocked => blocked.push(Blocked {
                                side,
                                groups: ids.to_vec(),
                                purpose: purpose.clone(),
                                protocol,
                                ports: *range,
                                peer: peer.describe(),
                                peer_groups: peer.groups.clone(),
                                peer_cidrs: peer
                                    .cidrs
                                    .iter()
                                    .flatten()
                                    .map(|(c, _)| c.clone())
                                    .collect(),
                                host: host_id.clone(),
                            }),
                        }
                    };
                if !lb.security_groups.is_empty() {
                    judge(
                        Side::LoadBalancerEgress,
                        &lb_groups,
                        &lb.security_groups,
                        &host_peer,
                    );
                    judge(Side::TargetIngress, &host_groups, &host.groups, &lb_peer);
                    continue;
                }
                // No security group on the load balancer: its own addresses send the health
                // checks, and the traffic when client IPs are not preserved.
                let from_clients = purpose.starts_with("traffic") && preserve;
                if !from_clients {
                    judge(
                        Side::TargetIngress,
                        &host_groups,
                        &host.groups,
                        &subnet_only,
                    );
                    continue;
                }
                if purpose.contains("health") {
                    judge(
                        Side::TargetIngress,
                        &host_groups,
                        &host.groups,
                        &subnet_only,
                    );
                }
                if any_source(&host_groups, protocol, *range) {
                    let note = format!(
                        "client IP preservation is on, so {protocol} {range} traffic comes from the clients' own addresses, which the auditor cannot know: only that some ingress rule opens the port was checked"
                    );
                    if !unjudged.contains(&note) {
                        unjudged.push(note);
                    }
                } else {
                    blocked.push(Blocked {
                        side: Side::TargetIngress,
                        groups: host.groups.clone(),
                        purpose: String::from("traffic"),
                        protocol,
                        ports: *range,
                        peer: String::from("any client"),
                        peer_groups: Vec::new(),
                        peer_cidrs: Vec::new(),
                        host: host_id.clone(),
                    });
                }
            }
        }
        let outcome = if !blocked.is_empty() {
            blocked.dedup();
            ReachOutcome::Blocked(blocked)
        } else if let Some(why) = unresolved.into_iter().next() {
            ReachOutcome::NotEvaluated(why)
        } else {
            ReachOutcome::Open { unjudged }
        };
        Reach {
            target_group: tg,
            load_balancer: lb,
            workload: w,
            ports,
            outcome,
        }
    }

    /// The collected security groups `ids`, or why not.
    fn groups(&self, scope: &Scope, ids: &[String]) -> Result<Vec<&'a SecurityGroup>, String> {
        ids.iter()
            .map(|id| {
                self.security_group(scope, id)
                    .ok_or_else(|| format!("security group {id} was not collected"))
            })
            .collect()
    }

    /// The port range the workload's tasks are registered on in `tg`.
    fn traffic_ports(
        &self,
        tg: &TargetGroup,
        w: &EcsWorkload<'_>,
        td: &TaskDefinition,
    ) -> Option<PortRange> {
        let lb = w
            .load_balancers()
            .iter()
            .find(|lb| lb.target_group_arn.as_deref() == Some(tg.arn.as_str()))?;
        let port = lb.registered_port(Some(td)).or(tg.port)?;
        if td.is_awsvpc() || td.network_mode.as_deref() == Some("host") {
            return Some(PortRange::one(port));
        }
        // Bridge mode: the host port the container port is mapped to, or a dynamic one.
        let mapping: Option<&PortMapping> = td
            .containers
            .iter()
            .filter(|c| lb.container_name.as_deref().is_none_or(|n| n == c.name))
            .flat_map(|c| &c.port_mappings)
            .find(|m| m.container_port == Some(port));
        Some(match mapping.and_then(|m| m.host_port).filter(|p| *p > 0) {
            Some(host) => PortRange::one(host),
            None => DYNAMIC_PORTS,
        })
    }

    /// Where the workload's tasks take the target group's traffic, or why that is unknown.
    fn hosts(
        &self,
        tg: &TargetGroup,
        w: &EcsWorkload<'_>,
        td: &TaskDefinition,
    ) -> Result<Vec<Host<'a>>, String> {
        let scope = &tg.scope;
        if td.is_awsvpc() {
            let Some(net) = w.network() else {
                return Err(format!(
                    "{} has no awsvpc network configuration to read security groups from",
                    w.describe()
                ));
            };
            return Ok(vec![Host {
                instance: None,
                groups: net.security_groups.clone(),
                cidrs: self.subnet_cidrs(scope, &net.subnets),
            }]);
        }
        let Some(health) = self.target_health(&tg.arn) else {
            return Err(format!(
                "the registered targets of `{}` were not collected, so the container instances are unknown",
                tg.name
            ));
        };
        let mut ids: Vec<&str> = health
            .targets
            .iter()
            .map(|t| t.id.as_str())
            .filter(|id| id.starts_with("i-"))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(format!(
                "no container instance is registered in `{}`, so there are no security groups to judge",
                tg.name
            ));
        }
        let mut hosts = Vec::new();
        for id in ids {
            let Some(i) = self.idx.instances.get(&key(scope, id)).copied() else {
                return Err(format!(
                    "instance {id}, a registered target, was not collected (the auditor reads only instances tagged as cluster nodes)"
                ));
            };
            let cidrs = i
                .subnet_id
                .as_ref()
                .and_then(|s| self.subnet_cidrs(scope, std::slice::from_ref(s)));
            hosts.push(Host {
                instance: Some(i),
                groups: i.security_groups.clone(),
                cidrs,
            });
        }
        Ok(hosts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i32, to: i32) -> SgRule {
        SgRule {
            protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            ..SgRule::default()
        }
    }

    #[test]
    fn cidrs_contain_only_whole_networks() {
        let vpc = Net::parse("10.0.0.0/16").unwrap();
        assert!(vpc.contains(&Net::parse("10.0.3.0/24").unwrap()));
        assert!(!vpc.contains(&Net::parse("10.1.3.0/24").unwrap()));
        assert!(!Net::parse("10.0.3.0/25")
            .unwrap()
            .contains(&Net::parse("10.0.3.0/24").unwrap()));
        assert!(Net::parse("0.0.0.0/0")
            .unwrap()
            .contains(&Net::parse("192.168.1.7/32").unwrap()));
        assert_eq!(Net::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn port_ranges_are_covered_by_their_union() {
        let r = |from, to| PortRange { from, to };
        assert!(covered(
            vec![r(32768, 50000), r(50001, 65535)],
            DYNAMIC_PORTS
        ));
        assert!(!covered(
            vec![r(32768, 50000), r(50002, 65535)],
            DYNAMIC_PORTS
        ));
        assert!(covered(vec![r(0, 65535)], PortRange::one(80)));
        assert!(!covered(vec![], PortRange::one(80)));
    }

    #[test]
    fn rule_protocols() {
        assert_eq!(
            rule_ports(&rule("tcp", 80, 80), "tcp"),
            Some(PortRange::one(80))
        );
        assert_eq!(
            rule_ports(&rule("6", 80, 80), "tcp"),
            Some(PortRange::one(80))
        );
        assert_eq!(rule_ports(&rule("udp", 80, 80), "tcp"), None);
        let all = SgRule {
            protocol: "-1".into(),
            ..SgRule::default()
        };
        assert_eq!(
            rule_ports(&all, "udp"),
            Some(PortRange { from: 0, to: 65535 })
        );
        assert_eq!(rule_ports(&rule("icmp", -1, -1), "tcp"), None);
    }
}
