//! VPC006: S3 gateway endpoints whose policy keeps ECR image layers from downloading.

use std::collections::BTreeMap;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::Workload;
use crate::model::{partition_of, VpcEndpoint};
use crate::policy::{
    has_wildcard, matches_everything, wildcard_match, BaseOperator, Constraint, Effect, Patterns,
    Policy, PrincipalClause, PrincipalKind, Principals, SetQualifier, Statement,
};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{image_source, ImageSource};

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

// ---------------------------------------------------------------- policy evaluation

/// A three-valued answer: the request provably matches, provably does not, or the policy
/// depends on something this check cannot know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// The layer download as the endpoint policy sees it.
struct LayerRequest<'a> {
    /// The bucket ARN (no trailing slash).
    bucket: String,
    endpoint: &'a VpcEndpoint,
}

/// What the request carries for a condition key.
enum Actual {
    /// A value this check knows.
    Known(String),
    /// A value that is AWS's, not the customer's (ECR's signing principal, the AWS-owned
    /// bucket's account): it matches no concrete value a customer writes, but does match a
    /// pattern made only of `*`. `present` says whether the key is surely in the request.
    NotYours { present: bool },
}

impl LayerRequest<'_> {
    fn actual(&self, key: &str) -> Option<Actual> {
        let key = key.to_ascii_lowercase();
        Some(match key.as_str() {
            "aws:sourcevpce" => Actual::Known(self.endpoint.id.clone()),
            "aws:sourcevpc" => Actual::Known(self.endpoint.vpc_id.clone()),
            // Image layers are fetched over HTTPS.
            "aws:securetransport" => Actual::Known("true".into()),
            "aws:requestedregion" => Actual::Known(self.endpoint.scope.region.clone()),
            "aws:principalaccount"
            | "aws:principalarn"
            | "aws:resourceaccount"
            | "s3:resourceaccount" => Actual::NotYours { present: true },
            "aws:principalorgid"
            | "aws:principalorgpaths"
            | "aws:resourceorgid"
            | "aws:resourceorgpaths" => Actual::NotYours { present: false },
            _ => return None,
        })
    }
}

/// `aws:PrincipalAccount StringEquals [111122223333]`.
fn describe_constraint(c: &Constraint) -> String {
    let op = match &c.operator.base {
        BaseOperator::Other(text) => text.clone(),
        base => {
            let mut s = String::new();
            match c.operator.set {
                Some(SetQualifier::ForAnyValue) => s.push_str("ForAnyValue:"),
                Some(SetQualifier::ForAllValues) => s.push_str("ForAllValues:"),
                None => {}
            }
            s.push_str(&format!("{base:?}"));
            if c.operator.if_exists {
                s.push_str("IfExists");
            }
            s
        }
    };
    format!("{} {op} [{}]", c.key, c.values.join(", "))
}

/// Whether one condition constraint holds for the layer request.
fn constraint_holds(c: &Constraint, req: &LayerRequest<'_>) -> Tri {
    let Some(actual) = req.actual(&c.key) else {
        return Tri::Maybe;
    };
    let op = &c.operator;
    use BaseOperator as B;
    match actual {
        Actual::Known(v) => {
            // Every key above is single-valued and present: `IfExists` and the set
            // qualifiers reduce to the bare operator.
            let any = |f: &dyn Fn(&str) -> bool| c.values.iter().any(|x| f(x));
            match op.base {
                B::StringEquals => Tri::from(any(&|x| x == v)),
                B::StringEqualsIgnoreCase | B::Bool => {
                    Tri::from(any(&|x| x.eq_ignore_ascii_case(&v)))
                }
                B::StringLike => Tri::from(any(&|x| wildcard_match(x, &v, false))),
                B::StringNotEquals => Tri::from(!any(&|x| x == v)),
                B::StringNotEqualsIgnoreCase => Tri::from(!any(&|x| x.eq_ignore_ascii_case(&v))),
                B::StringNotLike => Tri::from(!any(&|x| wildcard_match(x, &v, false))),
                B::Null => null_holds(c, true),
                _ => Tri::Maybe,
            }
        }
        Actual::NotYours { present } => {
            if !present && (op.if_exists || op.set.is_some()) {
                // An absent key passes `IfExists` and `ForAllValues`, fails `ForAnyValue`:
                // the answer depends on whether AWS's side belongs to an organization.
                return Tri::Maybe;
            }
            // How the value compares with the listed ones: a value of AWS's never equals a
            // value the customer wrote, but any value matches a pattern of only `*`. Another
            // wildcard pattern (`o-*`) might match it.
            let matched = || -> Tri {
                if c.values.iter().any(|x| matches_everything(x)) {
                    Tri::Yes
                } else if c.values.iter().any(|x| has_wildcard(x)) {
                    Tri::Maybe
                } else {
                    Tri::No
                }
            };
            let negate = |t: Tri| match t {
                Tri::Yes => Tri::No,
                Tri::No => Tri::Yes,
                Tri::Maybe => Tri::Maybe,
            };
            match op.base {
                // `*` is literal under StringEquals; ArnEquals honours wildcards.
                B::StringEquals | B::StringEqualsIgnoreCase => Tri::No,
                B::StringLike | B::ArnLike | B::ArnEquals => matched(),
                B::StringNotEquals | B::StringNotEqualsIgnoreCase => Tri::Yes,
                B::StringNotLike | B::ArnNotLike | B::ArnNotEquals => negate(matched()),
                B::Null if present => null_holds(c, true),
                _ => Tri::Maybe,
            }
        }
    }
}

/// `Null`: `"true"` holds when the key is absent, `"false"` when it is present.
fn null_holds(c: &Constraint, present: bool) -> Tri {
    let wants_absent: Vec<bool> = c
        .values
        .iter()
        .filter_map(|v| match v.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
        .collect();
    if wants_absent.is_empty() {
        return Tri::Maybe;
    }
    Tri::from(wants_absent.iter().any(|absent| *absent != present))
}

/// Whether the statement's principal covers ECR's signing principal (an AWS-owned one, never
/// one of the customer's accounts or roles).
fn principal_applies(s: &Statement) -> (Tri, &'static str) {
    let classify = |p: &Principals| -> Tri {
        match p {
            Principals::Anyone => Tri::Yes,
            Principals::Listed(ids) => {
                if ids
                    .iter()
                    .any(|id| id.kind == PrincipalKind::Aws && matches_everything(&id.value))
                {
                    Tri::Yes
                } else if ids.iter().all(|id| id.kind == PrincipalKind::Aws) {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
        }
    };
    match &s.principal {
        PrincipalClause::Absent => (Tri::Maybe, "it names no principal"),
        PrincipalClause::Include(p) => (
            classify(p),
            "its Principal lists only your AWS principals, and ECR's layer URLs are signed by an AWS-owned one",
        ),
        PrincipalClause::Exclude(p) => {
            let t = match classify(p) {
                Tri::Yes => Tri::No,
                Tri::No => Tri::Yes,
                Tri::Maybe => Tri::Maybe,
            };
            (t, "its NotPrincipal excludes every principal")
        }
    }
}

/// Whether `Resource`/`NotResource` covers every object of the bucket, none, or some.
fn resource_applies(s: &Statement, req: &LayerRequest<'_>) -> Tri {
    // `bucket/*` taken literally stands for "any key" (a pattern matching it matches the
    // `*` key too, as `.../*` and `*` do); a realistic key guards against `.../?`.
    let any_key = format!("{}/*", req.bucket);
    let sample = format!("{}/sha256/0f3c9a7e-5b21-4c8d-9e6a-2d7b1c4e8f90", req.bucket);
    match (s.covers_resource(&any_key), s.covers_resource(&sample)) {
        (true, true) => Tri::Yes,
        (false, false) => Tri::No,
        _ => Tri::Maybe,
    }
}

/// Whether the statement applies to the layer request, and why not (or why it cannot tell).
fn statement_applies(s: &Statement, req: &LayerRequest<'_>) -> (Tri, String) {
    if !s.covers_action(GET_OBJECT) {
        return (Tri::No, format!("it does not cover {GET_OBJECT}"));
    }
    let mut maybe = Vec::new();
    match resource_applies(s, req) {
        Tri::No => {
            let what = match &s.resource {
                Patterns::Include(p) => format!("its Resource is {}", p.join(", ")),
                Patterns::Exclude(p) => format!("its NotResource excludes {}", p.join(", ")),
                Patterns::Absent => "it has no Resource".to_string(),
            };
            return (Tri::No, format!("{what}, not the ECR layer bucket"));
        }
        Tri::Maybe => {
            maybe.push("its resources cover only some keys of the ECR layer bucket".to_string())
        }
        Tri::Yes => {}
    }
    match principal_applies(s) {
        (Tri::No, why) => return (Tri::No, why.to_string()),
        (Tri::Maybe, _) => maybe.push("its principal may or may not include ECR's".to_string()),
        (Tri::Yes, _) => {}
    }
    for c in &s.condition.constraints {
        match constraint_holds(c, req) {
            Tri::No => {
                return (
                    Tri::No,
                    format!(
                        "its condition {} does not hold for ECR's layer requests",
                        describe_constraint(c)
                    ),
                )
            }
            Tri::Maybe => maybe.push(format!("its condition {}", describe_constraint(c))),
            Tri::Yes => {}
        }
    }
    if maybe.is_empty() {
        (Tri::Yes, String::new())
    } else {
        (Tri::Maybe, maybe.join("; "))
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

fn judge(policy: &Policy, req: &LayerRequest<'_>) -> Verdict {
    let mut allows = Vec::new();
    let mut allow_maybe = Vec::new();
    let mut not_allowing = Vec::new();
    let mut denies = Vec::new();
    let mut deny_maybe = Vec::new();
    for (i, s) in policy.statements.iter().enumerate() {
        let label = statement_label(s, i);
        let (t, why) = statement_applies(s, req);
        match (s.effect, t) {
            (Effect::Allow, Tri::Yes) => allows.push(label),
            (Effect::Allow, Tri::Maybe) => allow_maybe.push(format!("{label} depends on {why}")),
            (Effect::Allow, Tri::No) => not_allowing.push(format!("{label} does not apply: {why}")),
            (Effect::Deny, Tri::Yes) => denies.push(format!(
                "{label} denies {GET_OBJECT} on the ECR layer bucket to ECR's layer requests"
            )),
            (Effect::Deny, Tri::Maybe) => deny_maybe.push(format!("{label} depends on {why}")),
            (Effect::Deny, Tri::No) => {}
        }
    }
    if !denies.is_empty() {
        return Verdict::Blocked(denies);
    }
    if !allows.is_empty() {
        return match deny_maybe.is_empty() {
            true => Verdict::Allowed,
            false => Verdict::Undecided(deny_maybe.join("; ")),
        };
    }
    if !allow_maybe.is_empty() || !deny_maybe.is_empty() {
        let mut why = allow_maybe;
        why.extend(deny_maybe);
        return Verdict::Undecided(why.join("; "));
    }
    if not_allowing.is_empty() {
        not_allowing.push("the policy has no Allow statement".to_string());
    }
    Verdict::Blocked(not_allowing)
}

/// The verdict on an endpoint's policy document; `Err` when it cannot be parsed.
fn endpoint_verdict(ep: &VpcEndpoint) -> Result<Verdict, String> {
    let text = match ep.policy_document.as_deref().map(str::trim) {
        // No policy: AWS's default allows everything.
        None | Some("") => return Ok(Verdict::Allowed),
        Some(text) => text,
    };
    let policy = Policy::parse(text).map_err(|e| e.to_string())?;
    let req = LayerRequest {
        bucket: layer_bucket_arn(&ep.scope.region),
        endpoint: ep,
    };
    Ok(judge(&policy, &req))
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

    #[test]
    fn judge_edge_cases() {
        let ep = {
            let b = with_policy(None);
            b.inv.vpc_endpoints[2].clone()
        };
        assert_eq!(ep.id, "vpce-s3");
        let req = LayerRequest {
            bucket: layer_bucket_arn("us-east-1"),
            endpoint: &ep,
        };
        let verdict = |doc: &str| judge(&Policy::parse(doc).unwrap(), &req);
        // Bucket-level ARN only: objects are not covered.
        assert!(matches!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket"}]}"#
            ),
            Verdict::Blocked(_)
        ));
        // NotAction excluding GetObject: not allowed.
        assert!(matches!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}]}"#
            ),
            Verdict::Blocked(_)
        ));
        // An unconditional Deny of everything wins over an Allow.
        assert!(matches!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#
            ),
            Verdict::Blocked(_)
        ));
        // A Deny for one principal only does not touch ECR's.
        assert_eq!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/x"},"Action":"*","Resource":"*"}]}"#
            ),
            Verdict::Allowed
        );
        // A key prefix of the bucket: cannot tell.
        assert!(matches!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256/*"}]}"#
            ),
            Verdict::Undecided(_)
        ));
        // StringNotEquals on the org: holds for AWS's side, so the Allow applies.
        assert_eq!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-evil"}}}]}"#
            ),
            Verdict::Allowed
        );
        // Null on a key the request surely carries.
        assert_eq!(
            verdict(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"false"}}}]}"#
            ),
            Verdict::Allowed
        );
        // Empty statement list allows nothing.
        assert!(matches!(
            verdict(r#"{"Statement":[]}"#),
            Verdict::Blocked(_)
        ));
    }
}
