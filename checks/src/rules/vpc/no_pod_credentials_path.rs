//! VPC007: EKS pods whose IAM credentials (IRSA, Pod Identity) cannot be fetched from their
//! subnets.

use std::collections::BTreeMap;

use crate::crosswalk::config;
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{SubnetFacts, Workload};
use crate::model::{EksCluster, Scope};
use crate::policy::normalise_host;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{dead_end_groups, trust_policies};

/// The calls that show which clusters hand out Pod Identity roles.
const POD_IDENTITY_OPS: [&str; 2] = [
    "eks:ListPodIdentityAssociations",
    "eks:DescribePodIdentityAssociation",
];

declare_check! {
    /// ## What it finds
    ///
    /// EKS compute (managed nodegroups, self-managed or Karpenter nodes tagged with the
    /// cluster, and for IRSA also Fargate profiles) placed in a private subnet that has no
    /// usable 0.0.0.0/0 route at all (its route table, the explicit association else the
    /// VPC's main table, routes to no internet or NAT gateway), while pods on it are handed
    /// IAM roles the subnet gives them no way to redeem:
    ///
    /// - IAM roles for service accounts (IRSA): the cluster's OIDC issuer has an IAM OIDC
    ///   provider and at least one IAM role trusts it. Pods trade their service-account
    ///   token for credentials with `sts:AssumeRoleWithWebIdentity`, which needs an `sts`
    ///   interface endpoint with private DNS in the VPC;
    /// - EKS Pod Identity: the cluster has Pod Identity associations. The Pod Identity Agent
    ///   on each node calls the EKS Auth API (`eks-auth:AssumeRoleForPodIdentity`), which
    ///   needs an `eks-auth` interface endpoint with private DNS. Fargate does not run the
    ///   agent, so Fargate profiles are judged for IRSA only.
    ///
    /// One finding per workload and route table, naming every credential path it lacks.
    /// Default routes to a transit gateway, peering connection or appliance are not reported
    /// (egress may exist beyond them), nor is an endpoint's security group or policy judged.
    /// Which pods run which service account is Kubernetes state the AWS APIs do not show:
    /// the check reports the cluster's compute once the cluster hands roles out at all.
    ///
    /// ## Why it matters
    ///
    /// Without a path to STS or the EKS Auth API the AWS SDKs in the pods cannot obtain
    /// credentials: every AWS call the application makes fails (typically a connect timeout
    /// to `sts.REGION.amazonaws.com` or to the agent at `169.254.170.23`), and so do the
    /// controllers that use the same mechanism: the VPC CNI when it runs with an IRSA role,
    /// the EBS CSI driver, the AWS Load Balancer Controller, external-dns. Pods start but
    /// crash-loop or serve errors, and a new node group behaves the same from its first pod.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.identity.oidc.issuer'
    /// aws iam list-open-id-connect-providers
    /// aws eks list-pod-identity-associations --cluster-name CLUSTER
    /// aws eks describe-nodegroup --cluster-name CLUSTER --nodegroup-name NODEGROUP --query 'nodegroup.subnets'
    /// aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=SUBNET_ID
    /// # no explicit association: the VPC's main table applies
    /// aws ec2 describe-route-tables --filters Name=vpc-id,Values=VPC_ID Name=association.main,Values=true
    /// aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=VPC_ID \
    ///   Name=service-name,Values=com.amazonaws.REGION.sts,com.amazonaws.REGION.eks-auth \
    ///   --query 'VpcEndpoints[].{id:VpcEndpointId,service:ServiceName,state:State,privateDns:PrivateDnsEnabled}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Add the interface endpoints the finding names, with private DNS, in subnets of the
    /// nodes' Availability Zones and with a security group that accepts HTTPS (443) from the
    /// nodes and pods:
    ///
    /// ```sh
    /// aws ec2 create-vpc-endpoint --vpc-id VPC_ID --vpc-endpoint-type Interface \
    ///   --service-name com.amazonaws.REGION.sts --private-dns-enabled \
    ///   --subnet-ids SUBNET_ID --security-group-ids ENDPOINT_SG_ID
    /// # EKS Pod Identity: --service-name com.amazonaws.REGION.eks-auth
    /// ```
    ///
    /// IRSA pods must call the regional STS endpoint (the EKS pod identity webhook sets
    /// `AWS_STS_REGIONAL_ENDPOINTS=regional`; older SDKs otherwise default to the global
    /// `sts.amazonaws.com`, which no VPC endpoint serves). Alternatively, route 0.0.0.0/0
    /// from the subnet's route table to a NAT gateway in a public subnet.
    ///
    /// Each new endpoint is billed per Availability Zone it serves: the finding's cost is the
    /// monthly price of the `sts` and `eks-auth` endpoints it adds, in the zones of the
    /// nodes' or pods' subnets ($0.01 an hour per endpoint and zone at us-east-1 list prices,
    /// about $7.30 a month, plus $0.01 per GB). Turning private DNS on costs nothing.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/vpc-interface-endpoints.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_sts_vpce.html
    pub static VPC007 = {
        code: "VPC007",
        name: "no-pod-credentials-path",
        severity: Severity::High,
        summary: "EKS nodes hand pods IAM roles (IRSA, Pod Identity) in a private subnet with no NAT and no usable STS / EKS Auth endpoint",
        needs: [
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeNatGateways",
            "ec2:DescribeInternetGateways",
            "eks:ListPodIdentityAssociations",
            "eks:DescribePodIdentityAssociation",
            "iam:GetAccountAuthorizationDetails",
            "iam:ListOpenIDConnectProviders",
        ],
        eks_compute: true,
        controls: [
        config("vpc-endpoint-enabled").partial(
            "with serviceNames sts or eks-auth the rule asks for the endpoint in every VPC; \
             VPC007 asks for a working path from the subnets of clusters that hand pods roles",
        ),
        ],
        run: run,
    };
}

/// A way pods get credentials, and the interface endpoint it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mechanism {
    Irsa,
    PodIdentity,
}

impl Mechanism {
    fn endpoint(self) -> &'static str {
        match self {
            Mechanism::Irsa => "sts",
            Mechanism::PodIdentity => "eks-auth",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mechanism::Irsa => "IRSA",
            Mechanism::PodIdentity => "EKS Pod Identity",
        }
    }
}

/// What one cluster hands out, with the evidence for it.
#[derive(Default)]
struct Uses {
    /// Why the cluster uses IRSA (`issuer … trusted by roles a, b`), when it does.
    irsa: Option<(String, String)>,
    /// Why the cluster uses Pod Identity, when it does.
    pod_identity: Option<(String, String)>,
    /// The Pod Identity associations could not be listed: whether it does is unknown.
    pod_identity_unknown: bool,
}

/// Names in a message, at most five, then "and N more".
fn names(list: &[String]) -> String {
    let mut shown: Vec<String> = list.iter().take(5).cloned().collect();
    if list.len() > 5 {
        shown.push(format!("{} more", list.len() - 5));
    }
    shown.join(", ")
}

/// Which clusters hand out roles, by (account, region, cluster name).
fn cluster_uses<'a>(
    ctx: &Ctx<'a>,
    out: &mut Emitter<'_>,
) -> BTreeMap<(&'a Scope, &'a str), Uses> {
    let graph = ctx.graph;
    // Roles trusting each issuer host, by host.
    let mut trusting: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (role, policy) in trust_policies(ctx, out) {
        for host in graph.trusted_eks_issuers(policy).into_keys() {
            trusting.entry(host).or_default().push(role.name.clone());
        }
    }
    let mut uses: BTreeMap<(&Scope, &str), Uses> = BTreeMap::new();
    for c in &ctx.inventory.eks_clusters {
        let entry = uses.entry((&c.scope, c.name.as_str())).or_default();
        if let Some(issuer) = c.oidc_issuer.as_deref() {
            let roles = trusting.get(&normalise_host(issuer));
            let provider = graph.oidc_provider(&c.scope.account, issuer);
            if let (Some(roles), Some(provider)) = (roles, provider) {
                entry.irsa = Some((
                    provider.arn.clone(),
                    format!(
                        "IAM OIDC provider for the cluster's issuer exists and role{} {} trust{} it (IRSA)",
                        if roles.len() == 1 { "" } else { "s" },
                        names(roles),
                        if roles.len() == 1 { "s" } else { "" },
                    ),
                ));
            }
        }
        let listed = ctx.complete(&c.scope, &POD_IDENTITY_OPS, Some(&c.arn))
            && ctx.complete(&c.scope, &POD_IDENTITY_OPS, Some(&c.name));
        let associations: Vec<String> = ctx
            .inventory
            .eks_pod_identity_associations
            .iter()
            .filter(|a| a.scope == c.scope && a.cluster_name == c.name)
            .map(|a| format!("{}/{}", a.namespace, a.service_account))
            .collect();
        if !associations.is_empty() {
            entry.pod_identity = Some((
                c.arn.clone(),
                format!(
                    "{} Pod Identity association{} (service account{} {})",
                    associations.len(),
                    if associations.len() == 1 { "" } else { "s" },
                    if associations.len() == 1 { "" } else { "s" },
                    names(&associations)
                ),
            ));
        } else if !listed {
            entry.pod_identity_unknown = true;
        }
    }
    uses
}

/// The clusters a workload's pods belong to.
fn clusters_of<'a>(w: &Workload<'a>) -> Vec<&'a str> {
    match *w {
        Workload::Nodegroup(n) => vec![n.cluster_name.as_str()],
        Workload::FargateProfile(p) => vec![p.cluster_name.as_str()],
        Workload::Node(i) => i.eks_cluster_names(),
        Workload::Ecs(_) => Vec::new(),
    }
}

/// The endpoint for `mechanism` unless a usable one exists: (what the VPC has, the fix).
fn gap(facts: &SubnetFacts<'_>, mechanism: Mechanism) -> Option<(String, String)> {
    let short = mechanism.endpoint();
    match facts.interface_endpoint(short) {
        Some(ep) if ep.private_dns_enabled => None,
        Some(ep) => Some((
            format!("an {short} endpoint {} with private DNS off", ep.id),
            format!(
                "enable private DNS on {} (`aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled`)",
                ep.id, ep.id
            ),
        )),
        None => Some((
            format!("no {short} endpoint"),
            format!(
                "add the interface endpoint com.amazonaws.{}.{short} with private DNS to {}",
                facts.subnet.scope.region, facts.subnet.vpc_id
            ),
        )),
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let uses = cluster_uses(ctx, out);
    let eks = |_: &crate::graph::Graph<'_>, w: &Workload<'_>| !matches!(w, Workload::Ecs(_));
    for group in dead_end_groups(ctx, eks) {
        let w = group.workload;
        let facts = group.facts();
        let fargate = matches!(w, Workload::FargateProfile(_));
        let mut clusters: Vec<&EksCluster> = Vec::new();
        let mut mechanisms: BTreeMap<Mechanism, Vec<(String, String)>> = BTreeMap::new();
        for name in clusters_of(&w) {
            let Some(cluster) = ctx.graph.eks_cluster_named(w.scope(), name) else {
                continue;
            };
            let Some(u) = uses.get(&(&cluster.scope, cluster.name.as_str())) else {
                continue;
            };
            clusters.push(cluster);
            if let Some(e) = &u.irsa {
                mechanisms.entry(Mechanism::Irsa).or_default().push(e.clone());
            }
            if fargate {
                continue;
            }
            if let Some(e) = &u.pod_identity {
                mechanisms
                    .entry(Mechanism::PodIdentity)
                    .or_default()
                    .push(e.clone());
            } else if u.pod_identity_unknown && gap(facts, Mechanism::PodIdentity).is_some() {
                out.unknown(
                    w.scope(),
                    Some(w.arn()),
                    format!(
                        "the Pod Identity associations of EKS cluster `{}` could not be listed; cannot tell whether {} needs an eks-auth endpoint",
                        cluster.name,
                        w.describe()
                    ),
                );
            }
        }
        let gaps: Vec<(Mechanism, String, String)> = mechanisms
            .keys()
            .filter_map(|m| gap(facts, *m).map(|(msg, fix)| (*m, msg, fix)))
            .collect();
        if gaps.is_empty() {
            continue;
        }
        let (subnets, _) = group.subnets_phrase();
        let who = match w {
            Workload::FargateProfile(_) => "its pods",
            _ => "pods on its nodes",
        };
        let has: Vec<&str> = gaps.iter().map(|(_, msg, _)| msg.as_str()).collect();
        let kinds: Vec<&str> = gaps.iter().map(|(m, _, _)| m.name()).collect();
        let cluster_names: Vec<String> = clusters.iter().map(|c| format!("`{}`", c.name)).collect();
        let message = format!(
            "{} of EKS cluster {} runs in {subnets} with no NAT or internet gateway route, and its VPC has {}: {who} cannot obtain their {} credentials",
            w.describe(),
            cluster_names.join(", "),
            has.join(" and "),
            kinds.join(" or "),
        );
        let mut evidence = group.evidence();
        for (m, _, _) in &gaps {
            for (arn, fact) in &mechanisms[m] {
                evidence.push(Evidence::new(arn, fact.clone()));
            }
        }
        let shorts: Vec<&str> = gaps.iter().map(|(m, _, _)| m.endpoint()).collect();
        let cost = group.missing_endpoints_cost(&shorts);
        evidence.push(
            Evidence::new(
                ctx.graph.vpc_arn(&facts.subnet.scope, &facts.subnet.vpc_id),
                facts.interface_endpoints_fact(&shorts),
            )
            .lacking(format!("{} interface endpoint", shorts.join(" + "))),
        );
        let mut fixes: Vec<String> = gaps.into_iter().map(|(_, _, fix)| fix).collect();
        fixes.push(format!(
            "or route 0.0.0.0/0 from {} to a NAT gateway",
            facts.route_table_label()
        ));
        let mut remediation = fixes.join("; ");
        if let Some(first) = remediation.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        remediation.push('.');
        out.report(
            w.scope(),
            Report {
                severity: Severity::High,
                resource: w.arn().to_string(),
                // One route table, one fix: its id, not a subnet's, identifies the problem.
                discriminator: facts.route_table_label().to_string(),
                message,
                remediation,
                evidence,
            },
        )
        .cost = cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        EksPodIdentityAssociation, IamRole, OidcProvider, RouteTarget, GLOBAL_REGION,
    };
    use crate::testkit::{default_route, Builder, ACCOUNT};

    const ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC123";

    /// Cluster `prod` whose nodegroup `ng` runs in private subnet-1 (main table rtb-main,
    /// local routes only), with the ECR endpoints: nothing hands pods a role yet.
    fn private_nodes() -> Builder {
        let mut b = Builder::standard_vpc();
        b.with_ecr_endpoints();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{ISSUER}"));
        b.nodegroup("prod", "ng", &["subnet-1"]);
        b
    }

    /// Adds the IAM OIDC provider of prod's issuer and role `app` trusting it.
    fn with_irsa(b: &mut Builder) {
        b.inv.oidc_providers.push(OidcProvider {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"),
            url: Some(ISSUER.into()),
        });
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/app"),
            name: "app".into(),
            path: "/".into(),
            trust_policy: Some(format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:shop:app"}}}}}}]}}"#
            )),
            inline_policies: vec![],
            attached_policy_arns: vec![],
        });
    }

    fn with_pod_identity(b: &mut Builder) {
        let scope = b.scope();
        b.inv
            .eks_pod_identity_associations
            .push(EksPodIdentityAssociation {
                arn: format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/prod/a-1"),
                scope,
                id: "a-1".into(),
                cluster_name: "prod".into(),
                namespace: "shop".into(),
                service_account: "cart".into(),
                role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/cart")),
            });
    }

    #[test]
    fn irsa_without_sts_endpoint_fires() {
        let mut b = private_nodes();
        with_irsa(&mut b);
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.resource, b.inv.eks_nodegroups[0].arn);
        assert_eq!(
            f.message,
            "nodegroup `ng` of EKS cluster `prod` runs in private subnet subnet-1 with no NAT or internet gateway route, and its VPC has no sts endpoint: pods on its nodes cannot obtain their IRSA credentials"
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.fact == "IAM OIDC provider for the cluster's issuer exists and role app trusts it (IRSA)"));
        assert!(f
            .remediation
            .starts_with("Add the interface endpoint com.amazonaws.us-east-1.sts with private DNS to vpc-1; or route 0.0.0.0/0 from rtb-main"));
        let cost = f.cost.as_ref().expect("the fix adds an endpoint");
        assert_eq!((cost.kind, cost.monthly_usd), (crate::CostKind::Fix, 7.3));
        assert!(cost.basis.starts_with("1 interface endpoint (sts) × 1 AZ × $0.01/h × 730 h = $7.30 (us-east-1 list price, prices as of "), "{}", cost.basis);
    }

    #[test]
    fn sts_endpoint_is_a_path_and_needs_private_dns() {
        let mut b = private_nodes();
        with_irsa(&mut b);
        b.interface_endpoint("vpce-sts", "vpc-1", "sts");
        assert!(b.run(&[&VPC007]).findings.is_empty());

        b.inv.vpc_endpoints.last_mut().unwrap().private_dns_enabled = false;
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("its VPC has an sts endpoint vpce-sts with private DNS off:"));
        assert!(out.findings[0].cost.is_none(), "turning private DNS on is free");
    }

    #[test]
    fn pod_identity_needs_eks_auth_not_sts() {
        let mut b = private_nodes();
        with_pod_identity(&mut b);
        b.interface_endpoint("vpce-sts", "vpc-1", "sts");
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert!(
            f.message.ends_with(
                "its VPC has no eks-auth endpoint: pods on its nodes cannot obtain their EKS Pod Identity credentials"
            ),
            "{}",
            f.message
        );
        assert!(f
            .evidence
            .iter()
            .any(|e| e.fact == "1 Pod Identity association (service account shop/cart)"));

        b.interface_endpoint("vpce-auth", "vpc-1", "eks-auth");
        assert!(b.run(&[&VPC007]).findings.is_empty());
    }

    #[test]
    fn both_mechanisms_missing_is_one_finding_naming_both() {
        let mut b = private_nodes();
        with_irsa(&mut b);
        with_pod_identity(&mut b);
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1);
        let m = &out.findings[0].message;
        assert!(
            m.contains("its VPC has no sts endpoint and no eks-auth endpoint: pods on its nodes cannot obtain their IRSA or EKS Pod Identity credentials"),
            "{m}"
        );
    }

    #[test]
    fn clusters_handing_out_no_roles_are_silent() {
        // An issuer, but no IAM OIDC provider or no role trusting it: IRSA is not in use.
        let b = private_nodes();
        assert!(b.run(&[&VPC007]).findings.is_empty());
        let mut b = private_nodes();
        with_irsa(&mut b);
        b.inv.oidc_providers.clear();
        assert!(b.run(&[&VPC007]).findings.is_empty());
    }

    #[test]
    fn nat_or_indirect_egress_is_silent() {
        let mut b = private_nodes();
        with_irsa(&mut b);
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::NatGateway("nat-1".into())));
        assert!(b.run(&[&VPC007]).findings.is_empty(), "NAT");

        let mut b = private_nodes();
        with_irsa(&mut b);
        b.table("rtb-main")
            .routes
            .push(default_route(RouteTarget::TransitGateway("tgw-1".into())));
        assert!(b.run(&[&VPC007]).findings.is_empty(), "transit gateway");
    }

    #[test]
    fn fargate_profiles_are_judged_for_irsa_only() {
        let mut b = Builder::standard_vpc();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{ISSUER}"));
        b.fargate_profile("prod", "fp", "shop", &["subnet-1"]);
        with_pod_identity(&mut b);
        assert!(b.run(&[&VPC007]).findings.is_empty(), "no agent on Fargate");
        with_irsa(&mut b);
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .ends_with("its pods cannot obtain their IRSA credentials"));
    }

    #[test]
    fn self_managed_nodes_are_judged() {
        let mut b = Builder::standard_vpc();
        b.eks_cluster("prod");
        b.instance("i-1", "subnet-1")
            .tags
            .insert("kubernetes.io/cluster/prod".into(), "owned".into());
        with_pod_identity(&mut b);
        let out = b.run(&[&VPC007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0].message.starts_with("EKS node `i-1` of EKS cluster `prod`"));
    }

    #[test]
    fn unlisted_pod_identity_is_unknown_not_silent() {
        let mut b = private_nodes();
        b.gap("eks:ListPodIdentityAssociations", None);
        let out = b.run(&[&VPC007]);
        assert!(out.findings.is_empty());
        assert!(
            out.unknowns
                .iter()
                .any(|u| u.reason.contains("could not be listed")),
            "{out:?}"
        );
    }

    #[test]
    fn network_gap_gives_unknown_and_no_finding() {
        for op in ["ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables"] {
            let mut b = private_nodes();
            with_irsa(&mut b);
            b.gap(op, None);
            let out = b.run(&[&VPC007]);
            assert!(out.findings.is_empty(), "{op}");
            assert_eq!(out.unknowns.len(), 1, "{op}");
        }
    }
}
