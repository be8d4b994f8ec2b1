//! VPC006: S3 gateway endpoints whose policy keeps ECR image layers from downloading.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::Workload;
use crate::model::{image_source, partition_of, ImageSource, VpcEndpoint};
use crate::policy::{
    ContextValue, Decision, Patterns, Policy, PrincipalClause, Reason, Request, Requester,
    Statement, StatementEval,
};
use crate::registry::{Ctx, Emitter, Report};

/// What an ECR layer download is, to S3.
const GET_OBJECT: &str = "s3:GetObject";

/// Operations whose failure hides which subnets use an endpoint's route table.
const OPS: [&str; 3] = [
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
];

declare_check! {
    /// ## What it finds
    ///
    /// Available S3 gateway endpoints attached to the route table of subnets where container
    /// workloads pull images from this region's ECR, whose endpoint policy does not let
    /// `s3:GetObject` on `arn:aws:s3:::prod-REGION-starport-layer-bucket/*` through: the
    /// AWS-owned bucket ECR keeps image layers in. Pullers are Fargate ECS services with an
    /// image in this region's ECR, and EKS managed nodegroups and tagged EKS nodes (their VPC
    /// CNI, kube-proxy and CoreDNS add-on images come from this region's ECR). One finding per
    /// endpoint, naming the affected workloads.
    ///
    /// The subnet's default route does not matter: the endpoint's prefix-list route is more
    /// specific than 0.0.0.0/0, so S3 traffic of the region takes the endpoint even when a
    /// NAT gateway is there. An endpoint without a policy has AWS's full-access default.
    ///
    /// The policy is read the way ECR's layer download reaches it: ECR answers with a
    /// pre-signed S3 URL signed by an AWS-owned principal, for an object in an AWS-owned
    /// bucket, fetched over HTTPS through this endpoint. So a `Principal` limited
    /// to your accounts or roles, and conditions that pin `aws:PrincipalAccount`,
    /// `aws:PrincipalOrgID`, `aws:PrincipalArn`, `aws:ResourceAccount`, `aws:ResourceOrgID`
    /// or `s3:ResourceAccount` to your values, do not match it; `aws:SourceVpce`,
    /// `aws:SourceVpc`, `aws:SecureTransport` and `aws:RequestedRegion` are compared with the
    /// values the request carries. A statement whose conditions use any other key cannot be
    /// decided and the endpoint is reported as not evaluated, as is a policy that cannot be
    /// parsed, and a VPC that also has an S3 interface endpoint with private DNS (which
    /// endpoint carries the layers then depends on a setting this tool does not read).
    /// ECS services on the EC2 launch type and EKS Fargate profiles are not counted as
    /// pullers (their images are pulled elsewhere or are not known).
    ///
    /// ## Why it matters
    ///
    /// ECR serves the image manifest itself but redirects every layer download to S3. When
    /// the endpoint policy refuses that request, authentication and the manifest succeed and
    /// the layer download gets `403 Access Denied`: ECS tasks stop with
    /// `CannotPullContainerError`, new EKS nodes never become Ready and pods stay in
    /// `ImagePullBackOff`. Tightening an S3 endpoint policy to "our buckets only" or "our
    /// organization only" is a common data-perimeter change that breaks every deployment in
    /// the VPC this way, and the error does not point at the endpoint.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ec2 describe-vpc-endpoints --vpc-endpoint-ids VPCE_ID \
    ///   --query 'VpcEndpoints[].{service:ServiceName,routeTables:RouteTableIds,policy:PolicyDocument}'
    /// aws ec2 describe-route-tables --route-table-ids ROUTE_TABLE_ID \
    ///   --query 'RouteTables[].Associations[].SubnetId'
    /// aws ecs describe-tasks --cluster CLUSTER --tasks TASK_ARN --query 'tasks[].stoppedReason'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add a statement to the endpoint policy that allows the layer bucket to everyone, with
    /// no conditions on principal or resource account, and keep the bucket out of any `Deny`
    /// (for example with `NotResource`):
    ///
    /// ```json
    /// {"Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*",
    ///  "Action": "s3:GetObject",
    ///  "Resource": "arn:aws:s3:::prod-REGION-starport-layer-bucket/*"}
    /// ```
    ///
    /// ```sh
    /// aws ec2 modify-vpc-endpoint --vpc-endpoint-id VPCE_ID --policy-document file://policy.json
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    /// - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
    /// - https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html
    pub static VPC006 = {
        code: "VPC006",
        name: "s3-endpoint-policy-blocks-ecr",
        severity: Severity::High,
        summary: "S3 gateway endpoint policy blocks the ECR layer bucket for workloads that pull images through it",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeInstances",
            "eks:DescribeNodegroup",
        ],
        ecs_workloads: true,
        run: run,
    };
}

/// `arn:aws:s3:::prod-us-east-1-starport-layer-bucket`: the bucket ECR stores layers in.
fn layer_bucket_arn(region: &str) -> String {
    format!(
        "arn:{}:s3:::prod-{region}-starport-layer-bucket",
        partition_of(region)
    )
}

// ---------------------------------------------------------------- the policy's verdict

/// ECR's layer download as the endpoint policy sees it: `s3:GetObject` on any key of the
/// layer bucket, made by the AWS-owned principal that signs ECR's layer URLs, over HTTPS
/// through this endpoint.
fn layer_request(ep: &VpcEndpoint) -> Request {
    let bucket = layer_bucket_arn(&ep.scope.region);
    let known = |v: &str| ContextValue::Known(v.to_string());
    let aws_owned = |present| ContextValue::Foreign { present };
    Request {
        requester: Requester::AwsOwned,
        action: GET_OBJECT.to_string(),
        // `bucket/*` taken literally stands for "any key" (a pattern matching it matches the
        // `*` key too, as `.../*` and `*` do); a realistic key guards against `.../?`.
        resources: vec![
            format!("{bucket}/*"),
            format!("{bucket}/sha256/0f3c9a7e-5b21-4c8d-9e6a-2d7b1c4e8f90"),
        ],
        context: [
            ("aws:sourcevpce", known(&ep.id)),
            ("aws:sourcevpc", known(&ep.vpc_id)),
            // Image layers are fetched over HTTPS.
            ("aws:securetransport", known("true")),
            ("aws:requestedregion", known(&ep.scope.region)),
            // ECR's signing principal and the layer bucket are AWS's, in no organization
            // this tool can know of.
            ("aws:principalaccount", aws_owned(true)),
            ("aws:principalarn", aws_owned(true)),
            ("aws:resourceaccount", aws_owned(true)),
            ("s3:resourceaccount", aws_owned(true)),
            ("aws:principalorgid", aws_owned(false)),
            ("aws:principalorgpaths", aws_owned(false)),
            ("aws:resourceorgid", aws_owned(false)),
            ("aws:resourceorgpaths", aws_owned(false)),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect(),
    }
}

/// What the endpoint policy does to ECR's layer downloads.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    /// Blocked, with one evidence fact per statement that explains it.
    Blocked(Vec<String>),
    /// Cannot tell, with the reason.
    Undecided(String),
}

fn statement_label(s: &Statement, index: usize) -> String {
    match &s.sid {
        Some(sid) => format!("statement `{sid}`"),
        None => format!("statement #{}", index + 1),
    }
}

/// Why a statement does not apply to ECR's layer requests.
fn why_not(e: &StatementEval<'_>) -> String {
    let s = e.statement;
    match e.reasons.first() {
        Some(Reason::Action) => format!("it does not cover {GET_OBJECT}"),
        Some(Reason::Resource) => {
            let what = match &s.resource {
                Patterns::Include(p) => format!("its Resource is {}", p.join(", ")),
                Patterns::Exclude(p) => format!("its NotResource excludes {}", p.join(", ")),
                Patterns::Absent => "it has no Resource".to_string(),
            };
            format!("{what}, not the ECR layer bucket")
        }
        Some(Reason::Principal) => match s.principal {
            PrincipalClause::Exclude(_) => "its NotPrincipal excludes every principal",
            _ => "its Principal lists only your AWS principals, and ECR's layer URLs are signed by an AWS-owned one",
        }
        .to_string(),
        Some(Reason::Condition(c)) => {
            format!("its condition {c} does not hold for ECR's layer requests")
        }
        None => String::new(),
    }
}

/// What a statement that may apply depends on.
fn depends_on(e: &StatementEval<'_>) -> String {
    e.reasons
        .iter()
        .map(|r| match r {
            Reason::Action => format!("whether it covers {GET_OBJECT}"),
            Reason::Resource => {
                "its resources cover only some keys of the ECR layer bucket".to_string()
            }
            Reason::Principal => "its principal may or may not include ECR's".to_string(),
            Reason::Condition(c) => format!("its condition {c}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn judge(policy: &Policy, req: &Request) -> Verdict {
    let label = |e: &StatementEval<'_>| statement_label(e.statement, e.index);
    match policy.evaluate(req) {
        Decision::Allowed => Verdict::Allowed,
        Decision::Denied(evals) => Verdict::Blocked(
            evals
                .iter()
                .map(|e| {
                    format!(
                        "{} denies {GET_OBJECT} on the ECR layer bucket to ECR's layer requests",
                        label(e)
                    )
                })
                .collect(),
        ),
        Decision::Undecided(evals) => Verdict::Undecided(
            evals
                .iter()
                .map(|e| format!("{} depends on {}", label(e), depends_on(e)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Decision::NotAllowed(evals) if evals.is_empty() => {
            Verdict::Blocked(vec!["the policy has no Allow statement".to_string()])
        }
        Decision::NotAllowed(evals) => Verdict::Blocked(
            evals
                .iter()
                .map(|e| format!("{} does not apply: {}", label(e), why_not(e)))
                .collect(),
        ),
    }
}

/// The verdict on an endpoint's policy document; `Err` when it cannot be parsed.
fn endpoint_verdict(ep: &VpcEndpoint) -> Result<Verdict, String> {
    let text = match ep.policy_document.as_deref().map(str::trim) {
        // No policy: AWS's default allows everything.
        None | Some("") => return Ok(Verdict::Allowed),
        Some(text) => text,
    };
    let policy = Policy::parse(text).map_err(|e| e.to_string())?;
    Ok(judge(&policy, &layer_request(ep)))
}

// ---------------------------------------------------------------- the check

/// A workload that pulls this region's ECR images through the endpoint.
struct Puller<'a> {
    workload: Workload<'a>,
    /// Subnet ids (and their route table) it pulls from, in subnet-id order.
    subnets: Vec<(&'a str, &'a str)>,
    /// For ECS services, the ECR images of this region; empty for EKS nodes.
    images: Vec<&'a str>,
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let graph = ctx.graph;
    for ep in &ctx.inventory.vpc_endpoints {
        if !(ep.is_gateway() && ep.is_available() && ep.short_service() == "s3") {
            continue;
        }
        if !ctx.complete(&ep.scope, &OPS, None) {
            continue; // the registry reports the gap through `needs`
        }
        let region = ep.scope.region.as_str();
        let mut pullers: BTreeMap<&str, Puller<'_>> = BTreeMap::new();
        let mut undescribed: Vec<String> = Vec::new();
        for facts in graph.all_subnet_facts() {
            let on_this = facts.subnet.scope == ep.scope
                && facts.gateway_endpoint("s3").is_some_and(|g| g.id == ep.id);
            if !on_this {
                continue;
            }
            let table = facts.route_table.map_or("", |rt| rt.id.as_str());
            for w in &facts.workloads {
                let images = match w {
                    // On the EC2 launch type the container instance pulls, over its own subnet.
                    Workload::Ecs(ecs) if !graph.runs_on_fargate(ecs) => continue,
                    Workload::Ecs(ecs) => {
                        let Some(td) = graph.task_definition(ecs.task_definition()) else {
                            undescribed.push(format!(
                                "{} (task definition {} was not collected)",
                                ecs.describe(),
                                ecs.task_definition()
                            ));
                            continue;
                        };
                        let images: Vec<&str> = td
                            .containers
                            .iter()
                            .filter(|c| image_source(&c.image) == ImageSource::Ecr { region })
                            .map(|c| c.image.as_str())
                            .collect();
                        if images.is_empty() {
                            continue;
                        }
                        images
                    }
                    // Their add-on images (VPC CNI, kube-proxy, CoreDNS) come from this
                    // region's ECR.
                    Workload::Nodegroup(_) | Workload::Node(_) => Vec::new(),
                    // Pod images are not known.
                    Workload::FargateProfile(_) => continue,
                };
                let p = pullers.entry(w.arn()).or_insert_with(|| Puller {
                    workload: *w,
                    subnets: Vec::new(),
                    images,
                });
                p.subnets.push((facts.id(), table));
            }
        }
        if pullers.is_empty() && undescribed.is_empty() {
            continue;
        }
        let reasons = match endpoint_verdict(ep) {
            Ok(Verdict::Allowed) => continue,
            Ok(Verdict::Blocked(reasons)) => reasons,
            Ok(Verdict::Undecided(why)) => {
                out.unknown(
                    &ep.scope,
                    Some(&ep.arn),
                    format!(
                        "policy of S3 gateway endpoint {} may or may not let ECR's layer downloads through: {why}",
                        ep.id
                    ),
                );
                continue;
            }
            Err(e) => {
                out.unknown(
                    &ep.scope,
                    Some(&ep.arn),
                    format!(
                        "policy of S3 gateway endpoint {} could not be parsed: {e}",
                        ep.id
                    ),
                );
                continue;
            }
        };
        if let Some(s3_interface) =
            graph
                .vpc_endpoints(&ep.scope, &ep.vpc_id)
                .into_iter()
                .find(|e| {
                    e.is_interface()
                        && e.is_available()
                        && e.short_service() == "s3"
                        && e.private_dns_enabled
                })
        {
            out.unknown(
                &ep.scope,
                Some(&ep.arn),
                format!(
                    "policy of S3 gateway endpoint {} blocks ECR's layer bucket, but {} also has S3 interface endpoint {} with private DNS; which one carries the layers is not known",
                    ep.id, ep.vpc_id, s3_interface.id
                ),
            );
            continue;
        }
        if pullers.is_empty() {
            out.unknown(
                &ep.scope,
                Some(&ep.arn),
                format!(
                    "policy of S3 gateway endpoint {} blocks ECR's layer bucket; whether {} pull{} from ECR is not known",
                    ep.id,
                    undescribed.join(", "),
                    if undescribed.len() == 1 { "s" } else { "" }
                ),
            );
            continue;
        }
        report(out, ep, &pullers, reasons);
    }
}

fn report(
    out: &mut Emitter<'_>,
    ep: &VpcEndpoint,
    pullers: &BTreeMap<&str, Puller<'_>>,
    reasons: Vec<String>,
) {
    let bucket = layer_bucket_arn(&ep.scope.region);
    let mut tables: Vec<&str> = pullers
        .values()
        .flat_map(|p| p.subnets.iter().map(|(_, t)| *t))
        .filter(|t| !t.is_empty())
        .collect();
    tables.sort_unstable();
    tables.dedup();
    let who: Vec<String> = pullers.values().map(|p| p.workload.describe()).collect();
    let message = format!(
        "S3 gateway endpoint {} (on route table{} {}) does not let ECR image layers through: its policy does not allow {GET_OBJECT} on {bucket}/*, so {} cannot pull images from ECR",
        ep.id,
        if tables.len() == 1 { "" } else { "s" },
        tables.join(", "),
        who.join(", "),
    );
    let mut evidence = vec![Evidence::new(
        &ep.arn,
        format!(
            "gateway endpoint for {} in {}, attached to {}",
            ep.service_name,
            ep.vpc_id,
            if ep.route_table_ids.is_empty() {
                tables.join(", ")
            } else {
                ep.route_table_ids.join(", ")
            }
        ),
    )];
    evidence.extend(
        reasons
            .into_iter()
            .map(|r| Evidence::new(&ep.arn, format!("endpoint policy: {r}"))),
    );
    for p in pullers.values() {
        let w = &p.workload;
        for (subnet, table) in &p.subnets {
            let via = if table.is_empty() {
                String::new()
            } else {
                format!(", behind route table {table}")
            };
            evidence.push(Evidence::new(
                w.arn(),
                format!("{}{via}", w.placement(subnet)),
            ));
        }
        let pulls = if p.images.is_empty() {
            format!(
                "pulls the EKS add-on images (VPC CNI, kube-proxy) from ECR in {}",
                ep.scope.region
            )
        } else {
            format!(
                "pulls {} from ECR in {}",
                p.images
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ep.scope.region
            )
        };
        evidence.push(Evidence::new(w.arn(), pulls));
    }
    out.report(
        &ep.scope,
        Report {
            severity: Severity::High,
            resource: ep.arn.clone(),
            discriminator: String::new(),
            message,
            remediation: format!(
                "Add a statement to the policy of {} that allows {GET_OBJECT} on {bucket}/* to Principal \"*\" without account or organization conditions, keep that bucket out of any Deny, and apply it with `aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --policy-document file://policy.json`.",
                ep.id, ep.id
            ),
            evidence,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RouteTarget;
    use crate::testkit::{default_route, Builder};

    const OWN_BUCKET: &str = r#"{"Statement":[{"Sid":"OwnBucket","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-artifacts/*"}]}"#;
    const LAYER_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"OwnBucket","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-artifacts/*"},
        {"Sid":"EcrLayers","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"]}]}"#;
    const OWN_ACCOUNT: &str = r#"{"Statement":[{"Sid":"OnlyUs","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}"#;

    /// `web` on Fargate in private subnet-1 (main table rtb-main), pulling from this region's
    /// ECR through the ECR endpoints and S3 gateway endpoint vpce-s3 on rtb-main, whose
    /// policy is `policy`.
    fn with_policy(policy: Option<&str>) -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"])
            .policy_document = policy.map(str::to_string);
        b.with_web_service();
        b
    }

    fn run_it(b: &Builder) -> crate::registry::Outcome {
        b.run(&[&VPC006])
    }

    fn facts(f: &crate::finding::Finding) -> Vec<&str> {
        f.evidence.iter().map(|e| e.fact.as_str()).collect()
    }

    #[test]
    fn policy_limited_to_a_customer_bucket_fires() {
        let b = with_policy(Some(OWN_BUCKET));
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.scope().ec2_arn("vpc-endpoint", "vpce-s3"));
        assert_eq!(
            f.message,
            "S3 gateway endpoint vpce-s3 (on route table rtb-main) does not let ECR image layers through: its policy does not allow s3:GetObject on arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*, so service `web` cannot pull images from ECR"
        );
        assert_eq!(
            facts(f),
            [
                "gateway endpoint for com.amazonaws.us-east-1.s3 in vpc-1, attached to rtb-main",
                "endpoint policy: statement `OwnBucket` does not apply: its Resource is arn:aws:s3:::corp-artifacts/*, not the ECR layer bucket",
                "runs tasks in subnet-1 (awsvpc), behind route table rtb-main",
                "pulls `111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2` from ECR in us-east-1",
            ]
        );
        assert!(f.remediation.contains(
            "allows s3:GetObject on arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"
        ));
    }

    #[test]
    fn policy_allowing_the_layer_bucket_is_silent() {
        let out = run_it(&with_policy(Some(LAYER_BUCKET)));
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
    }

    #[test]
    fn missing_or_default_policy_is_silent() {
        for policy in [
            None,
            Some(""),
            Some(
                r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ),
        ] {
            let out = run_it(&with_policy(policy));
            assert!(
                out.findings.is_empty() && out.unknowns.is_empty(),
                "{policy:?}: {out:?}"
            );
        }
    }

    #[test]
    fn unparsable_policy_is_unknown() {
        let out = run_it(&with_policy(Some(r#"{"Statement":[{"Effect":"Permit"}]}"#)));
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
        assert!(
            out.unknowns[0].reason.contains("could not be parsed"),
            "{:?}",
            out.unknowns
        );
    }

    #[test]
    fn own_account_conditions_block_the_aws_owned_layer_request() {
        let out = run_it(&with_policy(Some(OWN_ACCOUNT)));
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(facts(&out.findings[0]).contains(
            &"endpoint policy: statement `OnlyUs` does not apply: its condition aws:PrincipalAccount StringEquals [111122223333] does not hold for ECR's layer requests"
        ));

        // With an unconditional exception for the layer bucket it is clean.
        let both = r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}},
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:Get*","Resource":"arn:aws:s3:::prod-*-starport-layer-bucket/*"}]}"#;
        let out = run_it(&with_policy(Some(both)));
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
    }

    #[test]
    fn deny_outside_own_accounts_blocks_and_not_resource_exception_clears_it() {
        let deny = r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
            {"Sid":"OnlyOurBuckets","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":["111122223333"]}}}]}"#;
        let out = run_it(&with_policy(Some(deny)));
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(facts(&out.findings[0]).contains(
            &"endpoint policy: statement `OnlyOurBuckets` denies s3:GetObject on the ECR layer bucket to ECR's layer requests"
        ));

        let excepted = deny.replace(
            r#""Resource":"*","Condition""#,
            r#""NotResource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*","Condition""#,
        );
        let out = run_it(&with_policy(Some(&excepted)));
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
    }

    #[test]
    fn source_vpce_is_compared_with_this_endpoint() {
        let pinned = |vpce: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpce":"{vpce}"}},"Bool":{{"aws:SecureTransport":"true"}}}}}}]}}"#
            )
        };
        let out = run_it(&with_policy(Some(&pinned("vpce-s3"))));
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
        let out = run_it(&with_policy(Some(&pinned("vpce-other"))));
        assert_eq!(out.findings.len(), 1, "{out:?}");
    }

    #[test]
    fn principal_limited_to_own_account_fires() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}]}"#;
        let out = run_it(&with_policy(Some(p)));
        assert_eq!(out.findings.len(), 1, "{out:?}");
    }

    #[test]
    fn conditions_it_cannot_evaluate_give_unknown() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}]}"#;
        let out = run_it(&with_policy(Some(p)));
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
        assert!(out.unknowns[0]
            .reason
            .contains("depends on its condition aws:PrincipalTag/team StringEquals [data]"));

        // Organization keys with a partial wildcard might match AWS's own organization.
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:ResourceOrgID":"o-*"}}}]}"#;
        let out = run_it(&with_policy(Some(p)));
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
    }

    #[test]
    fn nat_egress_does_not_matter() {
        let mut b = with_policy(Some(OWN_BUCKET));
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert_eq!(run_it(&b).findings.len(), 1);
    }

    #[test]
    fn only_workloads_pulling_this_regions_ecr_count() {
        let mut b = with_policy(Some(OWN_BUCKET));
        b.inv.task_definitions[0].containers[0].image = "nginx:latest".into();
        assert!(run_it(&b).findings.is_empty(), "public image");

        let mut b = with_policy(Some(OWN_BUCKET));
        b.inv.task_definitions[0].containers[0].image =
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1".into();
        assert!(run_it(&b).findings.is_empty(), "other region's ECR");

        let mut b = with_policy(Some(OWN_BUCKET));
        b.inv.ecs_services[0].launch_type = Some("EC2".into());
        assert!(run_it(&b).findings.is_empty(), "EC2 launch type");

        let mut b = with_policy(Some(OWN_BUCKET));
        b.gateway_endpoint("vpce-s3b", "vpc-1", "s3", &["rtb-public"])
            .policy_document = Some(OWN_BUCKET.into());
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "only vpce-s3 serves a puller");
        assert!(out.findings[0]
            .message
            .starts_with("S3 gateway endpoint vpce-s3 "));
    }

    #[test]
    fn eks_nodes_pull_add_on_images() {
        let mut b = Builder::standard_vpc();
        b.gateway_endpoint("vpce-s3", "vpc-1", "s3", &["rtb-main"])
            .policy_document = Some(OWN_ACCOUNT.into());
        b.subnet("subnet-2", "vpc-1", "10.0.2.0/24", 200);
        b.nodegroup("prod", "ng", &["subnet-1", "subnet-2"]);
        b.fargate_profile("prod", "fp", "default", &["subnet-1"]);
        let out = run_it(&b);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert!(
            f.message
                .ends_with("so nodegroup `ng` cannot pull images from ECR"),
            "{}",
            f.message
        );
        let ev = facts(f);
        assert!(ev.contains(
            &"launches nodes of cluster `prod` in subnet-1, behind route table rtb-main"
        ));
        assert!(ev.contains(
            &"launches nodes of cluster `prod` in subnet-2, behind route table rtb-main"
        ));
        assert!(
            ev.contains(&"pulls the EKS add-on images (VPC CNI, kube-proxy) from ECR in us-east-1")
        );
    }

    #[test]
    fn missing_task_definition_is_unknown() {
        let mut b = with_policy(Some(OWN_BUCKET));
        b.inv.task_definitions.clear();
        let out = run_it(&b);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
        assert!(out.unknowns[0].reason.contains("whether service `web`"));
    }

    #[test]
    fn s3_interface_endpoint_with_private_dns_is_unknown() {
        let mut b = with_policy(Some(OWN_BUCKET));
        b.interface_endpoint("vpce-s3i", "vpc-1", "s3");
        let out = run_it(&b);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{out:?}");
    }

    #[test]
    fn coverage_gap_gives_unknown_and_no_finding() {
        for op in ["ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables"] {
            let mut b = with_policy(Some(OWN_BUCKET));
            b.gap(op, None);
            let out = run_it(&b);
            assert!(out.findings.is_empty(), "{op}");
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }

    #[test]
    fn layer_bucket_follows_the_partition() {
        assert_eq!(
            layer_bucket_arn("cn-north-1"),
            "arn:aws-cn:s3:::prod-cn-north-1-starport-layer-bucket"
        );
        assert_eq!(
            layer_bucket_arn("eu-west-1"),
            "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket"
        );
    }

    /// The decisions themselves are tested with [`Policy::evaluate`]; this is their wording.
    #[test]
    fn verdict_wording() {
        let ep = {
            let b = with_policy(None);
            b.inv.vpc_endpoints[2].clone()
        };
        assert_eq!(ep.id, "vpce-s3");
        let verdict = |doc: &str| judge(&Policy::parse(doc).unwrap(), &layer_request(&ep));
        let blocked = |doc: &str| match verdict(doc) {
            Verdict::Blocked(reasons) => reasons,
            other => panic!("{doc}: {other:?}"),
        };
        assert_eq!(
            blocked(r#"{"Statement":[]}"#),
            ["the policy has no Allow statement"]
        );
        assert_eq!(
            blocked(
                r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}]}"#
            ),
            ["statement #1 denies s3:GetObject on the ECR layer bucket to ECR's layer requests"]
        );
        assert_eq!(
            blocked(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"*"},{"Effect":"Allow","NotPrincipal":"*","Action":"*","NotResource":"arn:aws:s3:::x/*"}]}"#
            ),
            [
                "statement #1 does not apply: it does not cover s3:GetObject",
                "statement #2 does not apply: its NotPrincipal excludes every principal",
            ]
        );
        assert_eq!(
            verdict(
                r#"{"Statement":[{"Sid":"Some","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data"}}}]}"#
            ),
            Verdict::Undecided(
                "statement `Some` depends on its resources cover only some keys of the ECR layer bucket; its principal may or may not include ECR's; its condition aws:PrincipalTag/team StringEquals [data]".into()
            )
        );
        assert_eq!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:SourceVpce":"vpce-s3"}}}]}"#
            ),
            Verdict::Allowed
        );
    }
}
