//! VPC005: Fargate services whose `secrets` cannot be fetched from their subnets.

use std::collections::BTreeMap;

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::SubnetFacts;
use crate::model::{TaskDefinition, VpcEndpoint};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::dead_end_services;

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) on Fargate whose task definition injects `secrets` into its containers,
    /// while their tasks run in a private subnet (its route table has no usable 0.0.0.0/0
    /// route at all) from which the store holding them cannot be reached:
    ///
    /// - values from AWS Secrets Manager (`valueFrom` is an `arn:…:secretsmanager:…` ARN)
    ///   need a `secretsmanager` interface endpoint with private DNS in the VPC;
    /// - values from SSM Parameter Store (an `arn:…:ssm:…:parameter/…` ARN, or a bare
    ///   parameter name, which ECS resolves in the task's own region) need an `ssm` interface
    ///   endpoint with private DNS;
    /// - a secret or parameter in another region is fetched from that region's service
    ///   endpoint. An endpoint for this region does not serve it, so it is reported unless the
    ///   VPC has a cross-region interface endpoint for that region's service
    ///   (`com.amazonaws.OTHER-REGION.secretsmanager`) with private DNS.
    ///
    /// The finding names which endpoint is missing. One finding per service and route table.
    /// Services on the EC2 launch type (the container agent fetches the values over the
    /// instance's network) and default routes to a transit gateway, peering connection or
    /// appliance (egress may exist beyond them) are not reported. The Fargate platform version
    /// is not considered: on 1.4.0 and later (the default for years) every fetch leaves
    /// through the task's own network interface in these subnets, and the older 1.3.0 is not
    /// treated differently. Secrets referenced from `logConfiguration.secretOptions` or
    /// `repositoryCredentials` are not read.
    ///
    /// ## Why it matters
    ///
    /// Fargate fetches every secret before any container starts, using the task execution
    /// role. When the Secrets Manager or Systems Manager API cannot be reached the fetch
    /// times out and the task stops with `ResourceInitializationError: unable to pull secrets
    /// or registry auth`. No task of the service can start: every deployment and every
    /// scale-out fails, and a service that is running today goes down as soon as its tasks
    /// are replaced.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition TASK_DEFINITION \
    ///   --query 'taskDefinition.containerDefinitions[].{name:name,secrets:secrets}'
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,service:ServiceName,state:State,privateDns:PrivateDnsEnabled}'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN --query 'tasks[].stoppedReason'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add the interface endpoint the finding names, with private DNS, in subnets of the
    /// tasks' Availability Zones and with a security group that accepts HTTPS (443) from the
    /// tasks:
    ///
    /// ```sh
    /// aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Interface \
    ///   --service-name com.amazonaws.REGION.secretsmanager --private-dns-enabled \
    ///   --subnet-ids SUBNET_ID --security-group-ids ENDPOINT_SG_ID
    /// # SSM Parameter Store: --service-name com.amazonaws.REGION.ssm
    /// ```
    ///
    /// For a secret in another region, replicate it into the service's region and reference
    /// the replica. Alternatively, route 0.0.0.0/0 from the subnet's route table to a NAT
    /// gateway in a public subnet.
    ///
    /// Each new endpoint is billed per Availability Zone it serves: the finding's cost is the
    /// monthly price of the `secretsmanager` and `ssm` endpoints it adds, in the zones of the
    /// tasks' subnets ($0.01 an hour per endpoint and zone at us-east-1 list prices, about
    /// $7.30 a month, plus $0.01 per GB). Turning private DNS on, or replicating a secret,
    /// adds no endpoint.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html
    /// - https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
    pub static VPC005 = {
        code: "VPC005",
        name: "no-secrets-path",
        severity: Severity::High,
        summary: "Fargate service injects secrets in a private subnet with no NAT and no usable Secrets Manager / SSM endpoint",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
        ],
        ecs_workloads: true,
        controls: [
        config("vpc-endpoint-enabled").partial(
            "with serviceNames secretsmanager or ssm the rule asks for the endpoint in \
             every VPC; VPC005 asks for a working path from the subnets workloads run in",
        ),
        ],
        run: run,
    };
}

/// Where a `secrets[].valueFrom` is fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Store {
    SecretsManager,
    Ssm,
}

impl Store {
    /// The endpoint service's short name.
    fn endpoint(self) -> &'static str {
        match self {
            Store::SecretsManager => "secretsmanager",
            Store::Ssm => "ssm",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Store::SecretsManager => "Secrets Manager secret",
            Store::Ssm => "SSM parameter",
        }
    }
}

/// The store and region of a `valueFrom`: an ARN names both (an empty region field means
/// the task's); anything else is an SSM parameter name in the task's region. `None` for an
/// ARN of any other service, which ECS would not accept.
fn source<'v>(value_from: &'v str, task_region: &'v str) -> Option<(Store, &'v str)> {
    let Some(rest) = value_from.strip_prefix("arn:") else {
        return Some((Store::Ssm, task_region));
    };
    let mut parts = rest.splitn(4, ':');
    let (_partition, service, region) = (parts.next()?, parts.next()?, parts.next()?);
    let store = match service {
        "secretsmanager" => Store::SecretsManager,
        "ssm" => Store::Ssm,
        _ => return None,
    };
    Some((
        store,
        if region.is_empty() {
            task_region
        } else {
            region
        },
    ))
}

/// One secret of one container.
struct SecretUse<'a> {
    container: &'a str,
    name: &'a str,
    value_from: &'a str,
}

/// The task definition's secrets, grouped by (store, region), in a stable order.
fn secrets_by_source<'a>(
    td: &'a TaskDefinition,
    region: &'a str,
) -> BTreeMap<(Store, &'a str), Vec<SecretUse<'a>>> {
    let mut map: BTreeMap<(Store, &str), Vec<SecretUse<'_>>> = BTreeMap::new();
    for c in &td.containers {
        for s in &c.secrets {
            if let Some(key) = source(&s.value, region) {
                map.entry(key).or_default().push(SecretUse {
                    container: &c.name,
                    name: &s.name,
                    value_from: &s.value,
                });
            }
        }
    }
    map
}

/// The interface endpoint that serves `store` in `region` from this subnet's VPC: the
/// regular one for the subnet's own region, a cross-region one (`com.amazonaws.REGION.…`)
/// otherwise.
fn endpoint_for<'f>(
    facts: &'f SubnetFacts<'_>,
    store: Store,
    region: &str,
) -> Option<&'f VpcEndpoint> {
    if region == facts.subnet.scope.region {
        facts.interface_endpoint(store.endpoint())
    } else {
        let name = format!("com.amazonaws.{region}.{}", store.endpoint());
        facts
            .interface_endpoint(&name)
            .or_else(|| facts.interface_endpoint(&format!("cn.{name}")))
    }
}

/// One store the tasks cannot reach, for the message, the evidence and the fix.
struct Gap {
    message: String,
    fix: String,
    /// The interface endpoint the fix adds (`secretsmanager`, `ssm`), if it adds one.
    adds: Option<&'static str>,
}

fn gap(facts: &SubnetFacts<'_>, store: Store, region: &str, uses: &[SecretUse<'_>]) -> Option<Gap> {
    let local = facts.subnet.scope.region.as_str();
    let names: Vec<String> = uses.iter().map(|u| format!("`{}`", u.name)).collect();
    let plural = if uses.len() == 1 { "" } else { "s" };
    let what = format!("{}{plural} {}", store.describe(), names.join(", "));
    let short = store.endpoint();
    match endpoint_for(facts, store, region) {
        Some(ep) if ep.private_dns_enabled => None,
        Some(ep) => Some(Gap {
            message: format!(
                "its {} endpoint {} has private DNS off, so {what} cannot be fetched",
                if region == local { short.to_string() } else { ep.service_name.clone() },
                ep.id
            ),
            fix: format!(
                "enable private DNS on {} (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled`)",
                ep.id, ep.id
            ),
            adds: None,
        }),
        None if region == local => Some(Gap {
            message: format!("the VPC has no {short} endpoint for {what}"),
            fix: format!(
                "add the interface endpoint com.amazonaws.{local}.{short} with private DNS to {}",
                facts.subnet.vpc_id
            ),
            adds: Some(short),
        }),
        None => Some(Gap {
            message: format!(
                "{what} {} in {region}, reached only through {region}'s endpoint over the internet (a {short} endpoint in {local} does not serve {})",
                if uses.len() == 1 { "lives" } else { "live" },
                if uses.len() == 1 { "it" } else { "them" },
            ),
            fix: format!("replicate {what} into {local} and reference the copy"),
            adds: None,
        }),
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    // `dead_end_pulls` keeps Fargate services only: their task ENI carries the fetches.
    for (pull, ecs, td) in dead_end_services(ctx, out, "injects secrets") {
        let facts = pull.facts();
        let by_source = secrets_by_source(td, &ecs.scope().region);
        let gaps: Vec<Gap> = by_source
            .iter()
            .filter_map(|((store, region), uses)| gap(facts, *store, region, uses))
            .collect();
        if gaps.is_empty() {
            continue;
        }
        let (subnets, its) = pull.subnets_phrase();
        let has = if its == "its" { "has" } else { "have" };
        let rt = facts.route_table_label();
        let message = format!(
            "{} runs in {subnets}, which {has} no NAT or internet gateway route, and cannot fetch its secrets: {}; its tasks fail to start",
            pull.workload.describe(),
            gaps.iter().map(|g| g.message.as_str()).collect::<Vec<_>>().join("; "),
        );
        let mut evidence = pull.evidence();
        for uses in by_source.values() {
            for u in uses {
                evidence.push(Evidence::new(
                    &td.arn,
                    format!(
                        "{}: container `{}` takes `{}` from {}",
                        td.label(),
                        u.container,
                        u.name,
                        u.value_from
                    ),
                ));
            }
        }
        let mut vpc = Evidence::new(
            ctx.graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
            endpoints_fact(facts, &by_source),
        );
        let mut added: Vec<&str> = gaps.iter().filter_map(|g| g.adds).collect();
        added.dedup();
        if !added.is_empty() {
            vpc = vpc.lacking(format!("{} interface endpoint", added.join(" + ")));
        }
        evidence.push(vpc);
        let cost = pull.missing_endpoints_cost(&added);
        let mut fixes: Vec<String> = gaps.into_iter().map(|g| g.fix).collect();
        fixes.push(format!("or route 0.0.0.0/0 from {rt} to a NAT gateway"));
        let mut remediation = fixes.join("; ");
        if let Some(first) = remediation.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        remediation.push('.');
        out.report(
            ecs.scope(),
            Report {
                severity: Severity::High,
                resource: ecs.resource().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: rt.to_string(),
                message,
                remediation,
                evidence,
            },
        )
        .cost = cost;
    }
}

/// `interface endpoints: secretsmanager vpce-1 (private DNS on), ssm none`.
/// The endpoint a store is reached through from this subnet: `secretsmanager`, or the
/// full service name for another region's.
fn endpoint_label(facts: &SubnetFacts<'_>, store: Store, region: &str) -> String {
    if region == facts.subnet.scope.region {
        store.endpoint().to_string()
    } else {
        format!("com.amazonaws.{region}.{}", store.endpoint())
    }
}

fn endpoints_fact(
    facts: &SubnetFacts<'_>,
    by_source: &BTreeMap<(Store, &str), Vec<SecretUse<'_>>>,
) -> String {
    let parts: Vec<String> = by_source
        .keys()
        .map(|(store, region)| {
            let label = endpoint_label(facts, *store, region);
            match endpoint_for(facts, *store, region) {
                Some(ep) => format!(
                    "{label}: {} (private DNS {})",
                    ep.id,
                    if ep.private_dns_enabled { "on" } else { "off" }
                ),
                None => format!("{label}: none"),
            }
        })
        .collect();
    format!(
        "available interface endpoints in {}: {}",
        facts.subnet.vpc_id,
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyValue, RouteTarget};
    use crate::testkit::{default_route, Builder};

    const SM_ARN: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";

    fn secret(name: &str, value_from: &str) -> KeyValue {
        KeyValue {
            name: name.into(),
            value: value_from.into(),
        }
    }

    /// `web` on Fargate in private subnet-1 (main table rtb-main, local routes only), with
    /// the ECR endpoints and an S3 gateway so its images pull, and `secrets` as given.
    fn private_with_secrets(secrets: &[(&str, &str)]) -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"]);
        b.with_web_service();
        b.inv.task_definitions[0].containers[0].secrets =
            secrets.iter().map(|(n, v)| secret(n, v)).collect();
        b
    }

    #[test]
    fn secrets_manager_without_endpoint_fires() {
        let b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        let out = b.run(&[&VPC005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.service_arn("web"));
        assert_eq!(
            f.message,
            "service `web` runs in private subnet subnet-1, which has no NAT or internet gateway route, and cannot fetch its secrets: the VPC has no secretsmanager endpoint for Secrets Manager secret `DB_PASSWORD`; its tasks fail to start"
        );
        let facts: Vec<&str> = f.evidence.iter().map(|e| e.fact.as_str()).collect();
        assert_eq!(
            facts,
            [
                "runs tasks in subnet-1 (awsvpc)",
                "no explicit route-table association; uses main table rtb-main of vpc-1",
                "no active 0.0.0.0/0 route to an internet or NAT gateway (only local routes)",
                "web:1: container `c0` takes `DB_PASSWORD` from arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
                "available interface endpoints in vpc-1: secretsmanager: none",
            ]
        );
        assert_eq!(
            f.remediation,
            "Add the interface endpoint com.amazonaws.us-east-1.secretsmanager with private DNS to vpc-1; or route 0.0.0.0/0 from rtb-main to a NAT gateway."
        );
        let cost = f.cost.as_ref().expect("the fix adds an endpoint");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 7.3));
        assert!(cost.basis.starts_with("1 interface endpoint (secretsmanager) × 1 AZ × $0.01/h × 730 h = $7.30 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn the_fix_costs_both_stores_endpoints_and_nothing_for_private_dns() {
        let b = private_with_secrets(&[("DB_PASSWORD", SM_ARN), ("API_KEY", "/prod/api-key")]);
        let cost = b.run(&[&VPC005]).findings[0].cost.clone().unwrap();
        assert_eq!(cost.monthly_usd, 14.6);
        assert!(cost.basis.starts_with("2 interface endpoints (secretsmanager, ssm) × 1 AZ × "), "{}", cost.basis);
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.interface_endpoint("vpce-sm", "vpc-1", "secretsmanager")
            .private_dns_enabled = false;
        let out = b.run(&[&VPC005]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].cost.is_none());
    }

    #[test]
    fn ssm_parameters_with_only_a_secretsmanager_endpoint_fire_naming_ssm() {
        let mut b = private_with_secrets(&[
            ("DB_PASSWORD", SM_ARN),
            ("API_KEY", "/prod/api-key"),
            (
                "TOKEN",
                "arn:aws:ssm:us-east-1:111122223333:parameter/prod/token",
            ),
        ]);
        b.interface_endpoint("vpce-sm", "vpc-1", "secretsmanager");
        let out = b.run(&[&VPC005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert!(
            f.message.ends_with(
                "cannot fetch its secrets: the VPC has no ssm endpoint for SSM parameters `API_KEY`, `TOKEN`; its tasks fail to start"
            ),
            "{}",
            f.message
        );
        assert!(f.evidence.iter().any(|e| e.fact
            == "available interface endpoints in vpc-1: secretsmanager: vpce-sm (private DNS on), ssm: none"));
        assert!(f
            .remediation
            .starts_with("Add the interface endpoint com.amazonaws.us-east-1.ssm"));
    }

    #[test]
    fn both_endpoints_are_a_path() {
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN), ("API_KEY", "api-key")]);
        b.interface_endpoint("vpce-sm", "vpc-1", "secretsmanager");
        b.interface_endpoint("vpce-ssm", "vpc-1", "ssm");
        assert!(b.run(&[&VPC005]).findings.is_empty());
    }

    #[test]
    fn nat_or_indirect_egress_is_silent() {
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC005]).findings.is_empty(), "NAT");

        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::VpcPeering("pcx-1".into())));
        assert!(b.run(&[&VPC005]).findings.is_empty(), "peering");
    }

    #[test]
    fn no_secrets_and_ec2_launch_type_are_silent() {
        let b = private_with_secrets(&[]);
        assert!(b.run(&[&VPC005]).findings.is_empty(), "no secrets");

        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(b.run(&[&VPC005]).findings.is_empty(), "EC2 launch type");

        // An ARN of another service is not a valid valueFrom: nothing to say about it.
        let b = private_with_secrets(&[("X", "arn:aws:s3:::bucket/key")]);
        assert!(b.run(&[&VPC005]).findings.is_empty(), "unrecognised ARN");
    }

    #[test]
    fn endpoint_without_private_dns_is_not_a_path() {
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.interface_endpoint("vpce-sm", "vpc-1", "secretsmanager")
            .private_dns_enabled = false;
        let out = b.run(&[&VPC005]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(
            f.message.contains(
                "its secretsmanager endpoint vpce-sm has private DNS off, so Secrets Manager secret `DB_PASSWORD` cannot be fetched"
            ),
            "{}",
            f.message
        );
        assert!(f
            .remediation
            .contains("modify-vpc-endpoint --vpc-endpoint-id vpce-sm --private-dns-enabled"));
    }

    #[test]
    fn cross_region_secret_is_not_served_by_the_local_endpoint() {
        let mut b = private_with_secrets(&[(
            "DB_PASSWORD",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf",
        )]);
        b.interface_endpoint("vpce-sm", "vpc-1", "secretsmanager");
        let out = b.run(&[&VPC005]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert!(
            f.message.contains(
                "Secrets Manager secret `DB_PASSWORD` lives in eu-west-1, reached only through eu-west-1's endpoint over the internet (a secretsmanager endpoint in us-east-1 does not serve it)"
            ),
            "{}",
            f.message
        );
        assert!(f.remediation.starts_with(
            "Replicate Secrets Manager secret `DB_PASSWORD` into us-east-1 and reference the copy"
        ));
        assert!(f.evidence.iter().any(|e| e.fact
            == "available interface endpoints in vpc-1: com.amazonaws.eu-west-1.secretsmanager: none"));

        // A cross-region endpoint for eu-west-1's Secrets Manager is a path.
        b.interface_endpoint("vpce-sm-euw1", "vpc-1", "secretsmanager")
            .service_name = "com.amazonaws.eu-west-1.secretsmanager".into();
        assert!(b.run(&[&VPC005]).findings.is_empty());
    }

    #[test]
    fn one_finding_per_service_and_route_table() {
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.subnet("subnet-3", "vpc-1", "10.0.3.0/24", 200);
        b.route_table("rtb-3", "vpc-1", &["subnet-3"]);
        b.inv.ecs_services[0].network.as_mut().unwrap().subnets =
            vec!["subnet-1".into(), "subnet-2".into(), "subnet-3".into()];
        let out = b.run(&[&VPC005]);
        let mut got: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        got.sort();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].contains("in private subnet subnet-3, which has"),
            "{got:?}"
        );
        assert!(
            got[1].contains("in private subnets subnet-1, subnet-2, which have"),
            "{got:?}"
        );
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        for op in ["ec2:DescribeVpcEndpoints", "ec2:DescribeInternetGateways"] {
            let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
            b.gap(op, None);
            let out = b.run(&[&VPC005]);
            assert!(out.findings.is_empty(), "{op}");
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = private_with_secrets(&[("DB_PASSWORD", SM_ARN)]);
        b.inv.task_definitions.clear();
        let out = b.run(&[&VPC005]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn value_from_sources() {
        assert_eq!(
            source(SM_ARN, "us-east-1"),
            Some((Store::SecretsManager, "us-east-1"))
        );
        assert_eq!(
            source(
                "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password::",
                "us-east-1"
            ),
            Some((Store::SecretsManager, "eu-west-1"))
        );
        assert_eq!(
            source("arn:aws-cn:ssm:cn-north-1:1:parameter/a/b", "cn-north-1"),
            Some((Store::Ssm, "cn-north-1"))
        );
        assert_eq!(source("/a/b", "us-east-2"), Some((Store::Ssm, "us-east-2")));
        assert_eq!(
            source("plain-name", "us-east-2"),
            Some((Store::Ssm, "us-east-2"))
        );
        assert_eq!(source("arn:aws:kms:us-east-1:1:key/x", "us-east-1"), None);
        assert_eq!(source("arn:aws", "us-east-1"), None);
    }
}
