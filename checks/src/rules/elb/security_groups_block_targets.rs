//! ELB005: security groups that stop a load balancer's traffic or health checks from
//! reaching the ECS tasks of a target group.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{Blocked, Reach, ReachOutcome, Side};
use crate::model::Scope;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services and task sets whose tasks a load balancer cannot reach through the
    /// security groups in between, on the port the tasks are registered on or on the
    /// target group's health check port:
    ///
    /// - the load balancer's security groups have no egress rule to the tasks (their
    ///   security groups or their subnets' CIDRs) on that port;
    /// - the tasks' security groups have no ingress rule from the load balancer (its
    ///   security groups, or CIDRs that hold all of its subnets) on that port.
    ///
    /// The tasks' security groups are those of the awsvpc network configuration; tasks in
    /// bridge or host mode are reached through their container instances, whose security
    /// groups apply, and bridge mode without a fixed host port needs the dynamic range
    /// 32768-65535 open. Rules count by security group reference or by CIDR; a rule naming
    /// a managed prefix list is not resolved, and the path is reported as not evaluated
    /// rather than guessed.
    ///
    /// A Network Load Balancer without security groups filters nothing itself. Its health
    /// checks come from its private addresses in its subnets, which the targets must admit;
    /// so must they admit its traffic when client IP preservation is off. With client IP
    /// preservation on, traffic arrives from the clients' own addresses, which the auditor
    /// cannot know: then it reports only a traffic port that no ingress rule opens to
    /// anyone, and leaves the rest unjudged.
    ///
    /// ## Why it matters
    ///
    /// Health checks that cannot reach a target time out (`Target.Timeout`), so every task
    /// stays unhealthy: the load balancer has nothing to send requests to, and ECS stops
    /// the "unhealthy" tasks and starts new ones that fail the same way, so a deployment
    /// never completes. When only the traffic port is closed, targets look healthy while
    /// every request times out.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws elbv2 describe-load-balancers --load-balancer-arns LOAD_BALANCER_ARN \
    ///   --query 'LoadBalancers[].{groups:SecurityGroups,subnets:AvailabilityZones[].SubnetId}'
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{groups:networkConfiguration.awsvpcConfiguration.securityGroups,lb:loadBalancers}'
    /// aws ec2 describe-security-groups --group-ids LB_GROUP TASK_GROUP \
    ///   --query 'SecurityGroups[].{id:GroupId,in:IpPermissions,out:IpPermissionsEgress}'
    /// aws elbv2 describe-target-health --target-group-arn TARGET_GROUP_ARN \
    ///   --query 'TargetHealthDescriptions[].[Target.Id,TargetHealth.State,TargetHealth.Reason]'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Admit the load balancer's security group in the tasks' security group on the
    /// container port (and the health check port if it differs), and let the load
    /// balancer's security group out to the tasks' group on the same ports:
    ///
    /// ```sh
    /// aws ec2 authorize-security-group-ingress --group-id TASK_GROUP \
    ///   --ip-permissions 'IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=LB_GROUP}]'
    /// aws ec2 authorize-security-group-egress --group-id LB_GROUP \
    ///   --ip-permissions 'IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=TASK_GROUP}]'
    /// ```
    ///
    /// For a Network Load Balancer without security groups, admit its subnets' CIDRs.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html
    /// - https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-types.html
    /// - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
    pub static ELB005 = {
        code: "ELB005",
        name: "security-groups-block-targets",
        severity: Severity::High,
        summary: "security groups stop a load balancer's traffic or health checks reaching an ECS service's tasks",
        needs: [
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeInstances",
            "elbv2:DescribeLoadBalancers",
            "elbv2:DescribeListeners",
            "elbv2:DescribeTargetGroups",
            "elbv2:DescribeTargetHealth",
            "elbv2:DescribeTargetGroupAttributes",
        ],
        ecs_workloads: true,
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for tg in &ctx.inventory.target_groups {
        for r in ctx.graph.reach(tg) {
            match &r.outcome {
                ReachOutcome::Open { .. } => {}
                ReachOutcome::NotEvaluated(why) => out.unknown(
                    &tg.scope,
                    Some(&tg.arn),
                    format!(
                        "cannot tell whether load balancer `{}` reaches {} in target group `{}`: {why}",
                        r.load_balancer.name,
                        r.workload.describe(),
                        tg.name
                    ),
                ),
                ReachOutcome::Blocked(blocked) => {
                    out.report(&tg.scope, report(ctx, &r, blocked));
                }
            }
        }
    }
}

/// `sg-1` or `sg-1, sg-2`.
fn ids(groups: &[String]) -> String {
    groups.join(", ")
}

/// One missing permission in words: ``security group sg-app admits nothing from
/// security group sg-lb or 10.0.0.0/24 on tcp 8080 (traffic and health checks)``.
fn phrase(b: &Blocked) -> String {
    let noun = if b.groups.len() == 1 {
        "security group"
    } else {
        "security groups"
    };
    let on = match &b.host {
        Some(i) => format!(" of instance {i}"),
        None => String::new(),
    };
    let groups = if b.groups.is_empty() {
        format!("the target{on} has no security group and")
    } else {
        format!("{noun} {}{on}", ids(&b.groups))
    };
    match b.side {
        Side::LoadBalancerEgress => format!(
            "{groups} lets nothing out to {} on {} {} ({})",
            b.peer, b.protocol, b.ports, b.purpose
        ),
        Side::TargetIngress => format!(
            "{groups} admits nothing from {} on {} {} ({})",
            b.peer, b.protocol, b.ports, b.purpose
        ),
    }
}

/// The CLI call that adds the missing rule.
fn fix(b: &Blocked) -> String {
    let group = b.groups.first().map_or("GROUP_ID", String::as_str);
    let peers = if !b.peer_groups.is_empty() {
        let pairs: Vec<String> = b
            .peer_groups
            .iter()
            .take(1)
            .map(|g| format!("{{GroupId={g}}}"))
            .collect();
        format!("UserIdGroupPairs=[{}]", pairs.join(","))
    } else if !b.peer_cidrs.is_empty() {
        let ranges: Vec<String> = b
            .peer_cidrs
            .iter()
            .map(|c| format!("{{CidrIp={c}}}"))
            .collect();
        format!("IpRanges=[{}]", ranges.join(","))
    } else {
        String::from("IpRanges=[{CidrIp=CLIENT_CIDR}]")
    };
    let verb = match b.side {
        Side::LoadBalancerEgress => "egress",
        Side::TargetIngress => "ingress",
    };
    format!(
        "`aws ec2 authorize-security-group-{verb} --group-id {group} --ip-permissions 'IpProtocol={},FromPort={},ToPort={},{peers}'`",
        b.protocol, b.ports.from, b.ports.to
    )
}

fn group_arn(ctx: &Ctx<'_>, scope: &Scope, id: &str) -> String {
    ctx.graph
        .security_group(scope, id)
        .map_or_else(|| scope.ec2_arn("security-group", id), |g| g.arn.clone())
}

fn report(ctx: &Ctx<'_>, r: &Reach<'_>, blocked: &[Blocked]) -> Report {
    let tg = r.target_group;
    let lb = r.load_balancer;
    let w = r.workload;
    let health_blocked = blocked.iter().any(|b| b.purpose.contains("health"));
    let consequence = if health_blocked {
        "its health checks time out, so every target stays unhealthy and ECS keeps replacing the tasks"
    } else {
        "its targets pass their health checks but the requests sent to them time out"
    };
    let what: Vec<String> = blocked.iter().map(phrase).collect();
    let mut evidence = vec![Evidence::new(
        &lb.arn,
        if lb.security_groups.is_empty() {
            format!(
                "{} load balancer `{}` has no security groups; subnets {}",
                lb.lb_type.as_deref().unwrap_or("load"),
                lb.name,
                lb.subnets.join(", ")
            )
        } else {
            format!(
                "load balancer `{}` has security groups {}; subnets {}",
                lb.name,
                ids(&lb.security_groups),
                lb.subnets.join(", ")
            )
        },
    )];
    let ports: Vec<String> = r
        .ports
        .iter()
        .map(|(purpose, protocol, range)| format!("{protocol} {range} for {purpose}"))
        .collect();
    evidence.push(Evidence::new(
        w.arn(),
        format!(
            "{} registers its tasks in target group `{}`: needs {}",
            w.describe(),
            tg.name,
            ports.join(", ")
        ),
    ));
    for b in blocked {
        for g in &b.groups {
            let rules = match b.side {
                Side::LoadBalancerEgress => "egress",
                Side::TargetIngress => "ingress",
            };
            evidence.push(Evidence::new(
                group_arn(ctx, &tg.scope, g),
                format!(
                    "{rules} rules of {g} admit no {} {} {} {}",
                    b.protocol,
                    b.ports,
                    if b.side == Side::LoadBalancerEgress {
                        "to"
                    } else {
                        "from"
                    },
                    b.peer
                ),
            ));
        }
    }
    if let Some(h) = ctx
        .graph
        .target_health(&tg.arn)
        .filter(|h| !h.targets.is_empty())
    {
        evidence.push(Evidence::new(
            &tg.arn,
            format!(
                "{} of {} targets healthy: {}",
                h.serving,
                h.targets.len(),
                h.states
            ),
        ));
    }
    let mut fixes: Vec<String> = blocked.iter().map(fix).collect();
    fixes.dedup();
    Report {
        severity: Severity::High,
        resource: tg.arn.clone(),
        discriminator: w.resource().to_string(),
        message: format!(
            "load balancer `{}` cannot reach the tasks of {} in target group `{}`: {}; {consequence}",
            lb.name,
            w.describe(),
            tg.name,
            what.join("; ")
        ),
        remediation: format!(
            "Add the missing rule{}: {}.",
            if fixes.len() == 1 { "" } else { "s" },
            fixes.join(", then ")
        ),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PortMapping, SgRule};
    use crate::testkit::{target, Builder};

    fn tcp(port: i32) -> SgRule {
        SgRule {
            protocol: "tcp".into(),
            from_port: Some(port),
            to_port: Some(port),
            ..SgRule::default()
        }
    }

    fn from_group(port: i32, group: &str) -> SgRule {
        SgRule {
            groups: vec![group.into()],
            ..tcp(port)
        }
    }

    fn from_cidr(port: i32, cidr: &str) -> SgRule {
        SgRule {
            cidrs: vec![cidr.into()],
            ..tcp(port)
        }
    }

    /// Service `web` (awsvpc, container `c0` on 8080, group sg-app in subnet-1) behind ALB
    /// `web-alb` (group sg-lb in public-a) through `ip` group `web-tg`; sg-lb lets all out,
    /// sg-app admits `ingress`.
    fn web(ingress: Vec<SgRule>) -> Builder {
        let mut b = Builder::standard_vpc();
        let td = b.task_def("web", Some("awsvpc"), &["web:1"]);
        td.containers[0].port_mappings = vec![PortMapping {
            container_port: Some(8080),
            host_port: Some(8080),
            protocol: Some("tcp".into()),
        }];
        b.service("web", "web", &["subnet-1"]).network.as_mut().unwrap().security_groups =
            vec!["sg-app".into()];
        b.target_group("web-tg", "ip").port = Some(8080);
        b.attach("web", "web-tg");
        b.inv.ecs_services[0].load_balancers[0].container_port = Some(8080);
        let lb = b.load_balancer("web-alb");
        lb.subnets = vec!["public-a".into()];
        lb.security_groups = vec!["sg-lb".into()];
        b.listener("web-alb", "HTTP", 80, &["web-tg"]);
        b.security_group("sg-lb", vec![from_cidr(80, "0.0.0.0/0")])
            .egress = vec![SgRule {
            protocol: "-1".into(),
            cidrs: vec!["0.0.0.0/0".into()],
            ..SgRule::default()
        }];
        b.security_group("sg-app", ingress);
        b
    }

    #[test]
    fn task_group_without_the_load_balancer_fires() {
        let b = web(vec![from_group(443, "sg-lb")]);
        let out = b.run(&[&ELB005]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.resource, b.tg_arn("web-tg"));
        assert_eq!(
            f.message,
            "load balancer `web-alb` cannot reach the tasks of service `web` in target group `web-tg`: security group sg-app admits nothing from security group sg-lb or 10.0.0.0/24 on tcp 8080 (traffic and health checks); its health checks time out, so every target stays unhealthy and ECS keeps replacing the tasks"
        );
        assert!(f.remediation.contains(
            "aws ec2 authorize-security-group-ingress --group-id sg-app --ip-permissions 'IpProtocol=tcp,FromPort=8080,ToPort=8080,UserIdGroupPairs=[{GroupId=sg-lb}]'"
        ));
    }

    #[test]
    fn clean_twins_by_group_cidr_or_split_ranges_are_silent() {
        for ingress in [
            vec![from_group(8080, "sg-lb")],
            vec![from_cidr(8080, "10.0.0.0/16")],
            vec![from_cidr(8080, "0.0.0.0/0")],
            vec![SgRule {
                protocol: "-1".into(),
                groups: vec!["sg-lb".into()],
                ..SgRule::default()
            }],
        ] {
            let out = web(ingress.clone()).run(&[&ELB005]);
            assert!(out.findings.is_empty(), "{ingress:?}: {out:?}");
            assert!(out.unknowns.is_empty(), "{ingress:?}: {:?}", out.unknowns);
        }
    }

    #[test]
    fn a_separate_health_check_port_must_be_open_too() {
        let mut b = web(vec![from_group(8080, "sg-lb")]);
        b.inv.target_groups[0].health_check_port = Some("9000".into());
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("on tcp 9000 (health checks)"));
    }

    #[test]
    fn load_balancer_egress_must_let_the_traffic_out() {
        let mut b = web(vec![from_group(8080, "sg-lb")]);
        b.inv.security_groups[0].egress = vec![from_cidr(443, "0.0.0.0/0")];
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1);
        assert!(
            out.findings[0]
                .message
                .contains("security group sg-lb lets nothing out to security group sg-app or 10.0.1.0/24 on tcp 8080"),
            "{}",
            out.findings[0].message
        );
        assert!(out.findings[0]
            .remediation
            .contains("authorize-security-group-egress --group-id sg-lb"));
    }

    #[test]
    fn a_prefix_list_is_not_guessed() {
        let b = web(vec![SgRule {
            prefix_lists: vec!["pl-123".into()],
            ..tcp(8080)
        }]);
        let out = b.run(&[&ELB005]);
        assert!(out.findings.is_empty());
        assert!(
            out.unknowns
                .iter()
                .any(|u| u.reason.contains("prefix list pl-123")),
            "{:?}",
            out.unknowns
        );
    }

    #[test]
    fn a_group_not_collected_is_unknown() {
        let mut b = web(vec![]);
        b.inv.security_groups.retain(|g| g.id != "sg-app");
        let out = b.run(&[&ELB005]);
        assert!(out.findings.is_empty());
        assert!(out
            .unknowns
            .iter()
            .any(|u| u.reason.contains("security group sg-app was not collected")));
    }

    #[test]
    fn nlb_without_groups_judges_health_checks_and_what_it_can_of_traffic() {
        // No groups on the NLB: health checks from its subnet 10.0.0.0/24 must be admitted.
        let mut b = web(vec![from_cidr(8080, "203.0.113.0/24")]);
        b.inv.load_balancers[0].lb_type = Some("network".into());
        b.inv.load_balancers[0].security_groups.clear();
        b.inv.target_groups[0].protocol = Some("TCP".into());
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(
            out.findings[0]
                .message
                .contains("admits nothing from 10.0.0.0/24 on tcp 8080 (traffic and health checks)"),
            "{}",
            out.findings[0].message
        );

        // Client IPs preserved: traffic from clients is not judged, health checks are.
        b.inv.target_groups[0].preserve_client_ip = Some(true);
        b.inv.target_groups[0].health_check_port = Some("9000".into());
        b.inv.security_groups[1].ingress.push(from_cidr(9000, "10.0.0.0/16"));
        let out = b.run(&[&ELB005]);
        assert!(out.findings.is_empty(), "{out:?}");

        // …but a traffic port no rule opens to anyone is closed to every client.
        b.inv.security_groups[1].ingress.remove(0);
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("admits nothing from any client on tcp 8080 (traffic)"));
    }

    #[test]
    fn bridge_mode_instances_need_the_dynamic_range() {
        let mut b = web(vec![]);
        let td = &mut b.inv.task_definitions[0];
        td.network_mode = Some("bridge".into());
        td.containers[0].port_mappings[0].host_port = Some(0);
        b.inv.target_groups[0].target_type = Some("instance".into());
        b.inv.target_groups[0].targets = Some(vec![target("i-1", 33001, "unhealthy", Some("Target.Timeout"))]);
        b.instance("i-1", "subnet-1").security_groups = vec!["sg-app".into()];
        b.inv.security_groups[1].ingress = vec![SgRule {
            groups: vec!["sg-lb".into()],
            protocol: "tcp".into(),
            from_port: Some(32768),
            to_port: Some(60999),
            ..SgRule::default()
        }];
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0]
            .message
            .contains("security group sg-app of instance i-1 admits nothing from security group sg-lb or 10.0.0.0/24 on tcp 32768-65535"));

        b.inv.security_groups[1].ingress[0].to_port = Some(65535);
        assert!(b.run(&[&ELB005]).findings.is_empty());

        // An instance that was not collected: unknown, not pass.
        b.inv.instances.clear();
        let out = b.run(&[&ELB005]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.reason.contains("instance i-1")));
    }

    #[test]
    fn task_sets_are_judged_on_the_service() {
        let mut b = web(vec![]);
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &["subnet-1"]);
        let lbs = b.inv.ecs_services[0].load_balancers.clone();
        let ts = &mut b.inv.ecs_services[0].task_sets[0];
        ts.network.as_mut().unwrap().security_groups = vec!["sg-app".into()];
        ts.load_balancers = lbs;
        let out = b.run(&[&ELB005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0].message.contains("task set `ecs-svc/1`"));
    }
}
