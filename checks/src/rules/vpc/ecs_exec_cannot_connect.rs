//! VPC009: ECS workloads with ECS Exec turned on whose sessions cannot connect.

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{EcsWorkload, Workload};
use crate::model::GLOBAL_REGION;
use crate::policy::{Access, RolePermissions};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::dead_end_groups;

/// The Session Manager channel actions the SSM agent inside the task calls with the task
/// role's credentials.
const EXEC_ACTIONS: [&str; 4] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

declare_check! {
    /// ## What it finds
    ///
    /// ECS workloads (services, their task sets, scheduled and standalone tasks) that turn
    /// ECS Exec on (`enableExecuteCommand`) but whose tasks cannot open a session, for either
    /// of two reasons, each its own finding:
    ///
    /// - the network: the tasks run in awsvpc mode in a private subnet that has no usable
    ///   0.0.0.0/0 route at all (its route table, the explicit association else the VPC's
    ///   main table, routes to no internet or NAT gateway) and the VPC has no available
    ///   `ssmmessages` interface endpoint with private DNS. One finding per workload and
    ///   route table;
    /// - the task role: the task definition has no task role, names one that does not exist,
    ///   or one whose policies do not allow all of `ssmmessages:CreateControlChannel`,
    ///   `CreateDataChannel`, `OpenControlChannel` and `OpenDataChannel`. Policies whose
    ///   grants are not known here leave the workload unknown, never passed.
    ///
    /// Tasks in `bridge` or `host` mode use their container instance's network, which this
    /// check does not judge; default routes to a transit gateway, peering connection or
    /// appliance are not reported either (egress may exist beyond them). The task role's
    /// conditions are taken as met, and permission boundaries and SCPs are not read.
    ///
    /// ## Why it matters
    ///
    /// ECS Exec runs an SSM agent inside each task, which opens its Session Manager channels
    /// with the task role's credentials over the task's own network. With no path to
    /// `ssmmessages`, or a role that may not open the channels, `aws ecs execute-command`
    /// fails with "TargetNotConnectedException" (the execute command agent is not running)
    /// for every task: the break-glass shell the team enabled for an incident is not there
    /// when one happens.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[].{exec:enableExecuteCommand,taskDefinition:taskDefinition,subnets:networkConfiguration.awsvpcConfiguration.subnets}'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN \
    ///   --query 'tasks[].containers[].managedAgents'
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION --query 'taskDefinition.taskRoleArn'
    /// aws iam simulate-principal-policy --policy-source-arn TASK_ROLE_ARN \
    ///   --action-names ssmmessages:CreateControlChannel ssmmessages:CreateDataChannel ssmmessages:OpenControlChannel ssmmessages:OpenDataChannel
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID Name=service-name,Values=com.amazonaws.REGION.ssmmessages \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,state:State,privateDns:PrivateDnsEnabled}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Give the task role the four channel actions:
    ///
    /// ```sh
    /// aws iam put-role-policy --role-name TASK_ROLE --policy-name ecs-exec --policy-document '{
    ///   "Version": "2012-10-17",
    ///   "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    ///     "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
    ///     "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]}]}'
    /// ```
    ///
    /// and give private subnets an `ssmmessages` interface endpoint with private DNS whose
    /// security group accepts HTTPS (443) from the tasks (or a NAT gateway route):
    ///
    /// ```sh
    /// aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Interface \
    ///   --service-name com.amazonaws.REGION.ssmmessages --private-dns-enabled \
    ///   --subnet-ids SUBNET_ID --security-group-ids ENDPOINT_SG_ID
    /// ```
    ///
    /// Tasks pick the change up when they are replaced (`aws ecs update-service
    /// --force-new-deployment`). If nobody uses ECS Exec, turning it off is the other fix.
    ///
    /// A new `ssmmessages` endpoint is billed per Availability Zone it serves: the network
    /// finding's cost is its monthly price in the zones of the tasks' subnets ($0.01 an hour
    /// per zone at us-east-1 list prices, about $7.30 a month, plus $0.01 per GB). Turning
    /// private DNS on, or fixing the task role, costs nothing.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmessagegatewayservice.html
    pub static VPC009 = {
        code: "VPC009",
        name: "ecs-exec-cannot-connect",
        severity: Severity::Medium,
        summary: "ECS Exec is on but its sessions cannot connect: no ssmmessages path from the tasks' subnets, or a task role without the ssmmessages actions",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
            "iam:GetAccountAuthorizationDetails",
        ],
        ecs_workloads: true,
        controls: [
        config("vpc-endpoint-enabled").partial(
            "with serviceNames ssmmessages the rule asks for the endpoint in every VPC; \
             VPC009 asks for a working path from the subnets of workloads with ECS Exec on",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    network(ctx, out);
    for w in ctx.graph.ecs_workloads() {
        if w.execute_command_enabled() {
            task_role(ctx, out, w);
        }
    }
}

/// Workloads with ECS Exec on whose awsvpc subnets have no path to `ssmmessages`.
fn network(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let exec = |_: &crate::graph::Graph<'_>, w: &Workload<'_>| {
        matches!(w, Workload::Ecs(e) if e.execute_command_enabled())
    };
    for group in dead_end_groups(ctx, exec) {
        let Workload::Ecs(w) = group.workload else {
            continue;
        };
        let facts = group.facts();
        let (gap, fix) = match facts.interface_endpoint("ssmmessages") {
            Some(ep) if ep.private_dns_enabled => continue,
            Some(ep) => (
                format!("its ssmmessages endpoint {} has private DNS off", ep.id),
                format!(
                    "Enable private DNS on the ssmmessages endpoint (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled`)",
                    ep.id
                ),
            ),
            None => (
                "the VPC has no ssmmessages endpoint".to_string(),
                format!(
                    "Add the interface endpoint com.amazonaws.{}.ssmmessages with private DNS to {} (its security group must accept HTTPS from the tasks)",
                    facts.subnet.scope.region, facts.subnet.vpc_id
                ),
            ),
        };
        let (subnets, its) = group.subnets_phrase();
        let has = if its == "its" { "has" } else { "have" };
        let rt = facts.route_table_label();
        let cost = group.missing_endpoints_cost(&["ssmmessages"]);
        let mut evidence = group.evidence();
        evidence.push(Evidence::new(w.arn(), "enableExecuteCommand is true"));
        let endpoint = facts.interface_endpoint("ssmmessages");
        evidence.push(
            Evidence::new(
                ctx.graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
                match endpoint {
                    Some(ep) => format!(
                        "ssmmessages interface endpoint {} is available but has private DNS off",
                        ep.id
                    ),
                    None => format!(
                        "no available ssmmessages interface endpoint in {}",
                        facts.subnet.vpc_id
                    ),
                },
            )
            .lacking(match endpoint {
                Some(ep) => format!("private DNS on ssmmessages endpoint {}", ep.id),
                None => "ssmmessages interface endpoint".to_string(),
            }),
        );
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: rt.to_string(),
                message: format!(
                    "{} has ECS Exec on but runs in {subnets}, which {has} no NAT or internet gateway route, and {gap}: execute-command sessions cannot connect to its tasks",
                    w.describe()
                ),
                remediation: format!("{fix}, or route 0.0.0.0/0 from {rt} to a NAT gateway."),
                evidence,
            },
        )
        .cost = cost;
    }
}

/// A workload with ECS Exec on whose task role cannot open the Session Manager channels.
fn task_role(ctx: &Ctx<'_>, out: &mut Emitter<'_>, w: &EcsWorkload<'_>) {
    let graph = ctx.graph;
    let Some(td) = graph.task_definition(w.task_definition()) else {
        out.unknown(
            w.scope(),
            Some(w.resource()),
            format!(
                "task definition {} of {} was not collected; cannot tell whether its task role allows ECS Exec",
                w.task_definition(),
                w.describe()
            ),
        );
        return;
    };
    let mut evidence = vec![
        Evidence::new(w.arn(), "enableExecuteCommand is true"),
        Evidence::new(w.arn(), w.runs_fact(&td.label())),
    ];
    let report = |out: &mut Emitter<'_>, message: String, remediation: String, evidence| {
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: "task-role".into(),
                message,
                remediation,
                evidence,
            },
        );
    };
    let Some(reference) = td.task_role_arn.as_deref() else {
        evidence.push(Evidence::new(&td.arn, format!("{} has no taskRoleArn", td.label())));
        report(
            out,
            format!(
                "{} has ECS Exec on but its task definition `{}` has no task role: execute-command sessions cannot connect to its tasks",
                w.describe(),
                td.label()
            ),
            format!(
                "Set `taskRoleArn` in a new revision of `{}` to a role allowing {}, and deploy it.",
                td.family,
                EXEC_ACTIONS.join(", ")
            ),
            evidence,
        );
        return;
    };
    let account = &w.scope().account;
    if !ctx
        .inventory
        .coverage
        .complete(account, GLOBAL_REGION, &["iam:GetAccountAuthorizationDetails"], None)
    {
        return; // The engine reports the IAM gap as not evaluated.
    }
    let Some(role) = graph.role_named(account, reference) else {
        if reference.split(':').nth(4).is_some_and(|a| a != account) {
            return; // Another account's role: not ours to see.
        }
        evidence.push(Evidence::new(
            &td.arn,
            format!("taskRoleArn `{reference}` names no IAM role of the account"),
        ));
        report(
            out,
            format!(
                "{} has ECS Exec on but its task role `{reference}` does not exist: execute-command sessions cannot connect to its tasks",
                w.describe()
            ),
            format!(
                "Recreate the role with {} or point `taskRoleArn` in a new revision of `{}` at one that has them, and deploy it.",
                EXEC_ACTIONS.join(", "),
                td.family
            ),
            evidence,
        );
        return;
    };
    let perms = RolePermissions::of(ctx.inventory, role);
    let mut missing: Vec<&str> = Vec::new();
    let mut undecided = false;
    for action in EXEC_ACTIONS {
        match perms.access(action, "*") {
            Access::Allowed => {}
            Access::Denied => missing.push(action),
            Access::Unknown => undecided = true,
        }
    }
    if missing.is_empty() {
        if undecided {
            out.unknown(
                w.scope(),
                Some(w.resource()),
                format!(
                    "task role `{}` has policies whose grants are not known here: {}",
                    role.name,
                    perms.unknown.join(", ")
                ),
            );
        }
        return;
    }
    let sources: Vec<&str> = perms.policies.iter().map(|(l, _)| l.as_str()).collect();
    evidence.push(Evidence::new(
        &role.arn,
        format!(
            "policies: {}; none allows {}",
            if sources.is_empty() {
                "none".to_string()
            } else {
                sources.join(", ")
            },
            missing.join(", ")
        ),
    ));
    report(
        out,
        format!(
            "{} has ECS Exec on but its task role `{}` does not allow {}: execute-command sessions cannot connect to its tasks",
            w.describe(),
            role.name,
            missing.join(", ")
        ),
        format!(
            "Grant role `{}` {} (an inline policy on Resource \"*\"), then replace the tasks.",
            role.name,
            missing.join(", ")
        ),
        evidence,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IamRole, NamedPolicy, RouteTarget, Scope};
    use crate::testkit::{default_route, Builder, ACCOUNT};

    const ROLE: &str = "arn:aws:iam::111122223333:role/web-task";

    fn role(b: &mut Builder, actions: &[&str], managed: &[&str]) {
        let list: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: ROLE.into(),
            name: "web-task".into(),
            path: "/".into(),
            trust_policy: None,
            inline_policies: vec![NamedPolicy {
                name: "app".into(),
                document: format!(
                    r#"{{"Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
                    list.join(",")
                ),
            }],
            attached_policy_arns: managed.iter().map(|m| m.to_string()).collect(),
        });
    }

    /// `web` on Fargate in private subnet-1 (local routes only) with ECS Exec on, its task
    /// role allowing the four channel actions.
    fn exec_service() -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_web_service().enable_execute_command = true;
        b.inv.task_definitions[0].task_role_arn = Some(ROLE.into());
        role(&mut b, &EXEC_ACTIONS, &[]);
        b
    }

    #[test]
    fn no_ssmmessages_path_fires() {
        let b = exec_service();
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` has ECS Exec on but runs in private subnet subnet-1, which has no NAT or internet gateway route, and the VPC has no ssmmessages endpoint: execute-command sessions cannot connect to its tasks"
        );
        assert!(f
            .remediation
            .starts_with("Add the interface endpoint com.amazonaws.us-east-1.ssmmessages"));
        let cost = f.cost.as_ref().expect("the fix adds an endpoint");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 7.3));
        assert!(cost.basis.starts_with("1 interface endpoint (ssmmessages) × 1 AZ × $0.01/h × 730 h = $7.30 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn ssmmessages_endpoint_or_nat_is_a_path() {
        let mut b = exec_service();
        b.interface_endpoint("vpce-ssmm", "vpc-1", "ssmmessages");
        assert!(b.run(&[&VPC009]).findings.is_empty());
        b.inv.vpc_endpoints.last_mut().unwrap().private_dns_enabled = false;
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 1, "private DNS off");
        assert!(out.findings[0].cost.is_none(), "turning private DNS on is free");

        let mut b = exec_service();
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC009]).findings.is_empty());
    }

    #[test]
    fn exec_off_is_silent() {
        let mut b = exec_service();
        b.inv.ecs_services[0].enable_execute_command = false;
        b.inv.iam_roles.clear();
        assert!(b.run(&[&VPC009]).findings.is_empty());
    }

    #[test]
    fn task_role_without_channel_actions_fires() {
        let mut b = exec_service();
        b.interface_endpoint("vpce-ssmm", "vpc-1", "ssmmessages");
        b.inv.iam_roles.clear();
        role(&mut b, &["s3:GetObject", "ssmmessages:CreateControlChannel"], &[]);
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(
            out.findings[0].message,
            "service `web` has ECS Exec on but its task role `web-task` does not allow ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel: execute-command sessions cannot connect to its tasks"
        );
    }

    #[test]
    fn managed_instance_core_grants_the_channels_and_unknown_policies_are_unknown() {
        let mut b = exec_service();
        b.interface_endpoint("vpce-ssmm", "vpc-1", "ssmmessages");
        b.inv.iam_roles.clear();
        role(&mut b, &[], &["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        assert!(b.run(&[&VPC009]).findings.is_empty());

        b.inv.iam_roles.clear();
        role(&mut b, &[], &["arn:aws:iam::aws:policy/SomethingElse"]);
        let out = b.run(&[&VPC009]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.reason.contains("SomethingElse")));
    }

    #[test]
    fn no_or_missing_task_role_fires() {
        let mut b = exec_service();
        b.interface_endpoint("vpce-ssmm", "vpc-1", "ssmmessages");
        b.inv.task_definitions[0].task_role_arn = None;
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("has no task role"));

        b.inv.task_definitions[0].task_role_arn =
            Some("arn:aws:iam::111122223333:role/gone".into());
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("does not exist"));
    }

    #[test]
    fn network_and_role_are_two_findings() {
        let mut b = exec_service();
        b.inv.task_definitions[0].task_role_arn = None;
        let out = b.run(&[&VPC009]);
        assert_eq!(out.findings.len(), 2);
    }

    #[test]
    fn every_workload_kind_is_judged() {
        let mut b = Builder::standard_vpc();
        b.task_def("job", Some("awsvpc"), &["nginx"]);
        b.scheduled("nightly", "job", &["subnet-1"]).enable_execute_command = true;
        b.standalone("job", 2, &["subnet-1"]).enable_execute_command = true;
        let out = b.run(&[&VPC009]);
        // Each: no ssmmessages path, and no task role.
        assert_eq!(out.findings.len(), 4, "{out:?}");

        // EC2 awsvpc tasks use their own ENI too.
        let mut b = exec_service();
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert_eq!(b.run(&[&VPC009]).findings.len(), 1);
    }

    #[test]
    fn iam_gap_leaves_the_role_unjudged() {
        let mut b = exec_service();
        b.interface_endpoint("vpce-ssmm", "vpc-1", "ssmmessages");
        b.inv.iam_roles.clear();
        b.in_scope(ACCOUNT, GLOBAL_REGION)
            .gap("iam:GetAccountAuthorizationDetails", None);
        let out = b.run(&[&VPC009]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }
}
