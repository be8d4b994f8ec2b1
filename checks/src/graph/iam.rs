//! IAM in the graph: the roles a task definition runs as, the OIDC providers a role trusts
//! and the one an EKS cluster's issuer needs, and every role's trust policy, parsed once.
//!
//! Edges point at the record they resolve to when it was collected, else at the ARN the
//! reference implies, so "referenced but missing" stays visible: a task definition naming a
//! role that does not exist, a role trusting a provider nobody created.

use std::collections::{BTreeMap, HashMap};

use crate::model::{EksCluster, IamRole, Inventory, OidcProvider, TaskDefinition};
use crate::policy::{
    display_host, is_eks_issuer_host, normalise_host, oidc_provider_parts, Policy, PolicyError,
    PrincipalKind,
};

use super::{Edge, EdgeKind, Graph};

/// What the graph knows of IAM, built once.
pub(super) struct IamFacts<'a> {
    /// Roles by (account, name); the first record wins.
    roles: HashMap<(&'a str, &'a str), &'a IamRole>,
    /// Every role that has a trust policy, with it parsed, in inventory order.
    trust: Vec<(&'a IamRole, Result<Policy, PolicyError>)>,
    /// EKS clusters by normalised issuer host, in inventory order. Real issuers are unique
    /// per cluster; the emulator gives every cluster the same one, hence the list.
    clusters_by_issuer: BTreeMap<String, Vec<&'a EksCluster>>,
    /// OIDC providers by (account, normalised host); the first record wins.
    providers: BTreeMap<(&'a str, String), &'a OidcProvider>,
}

impl<'a> IamFacts<'a> {
    pub(super) fn new(inv: &'a Inventory) -> Self {
        let mut roles = HashMap::new();
        for r in &inv.iam_roles {
            roles
                .entry((r.scope.account.as_str(), r.name.as_str()))
                .or_insert(r);
        }
        let trust = inv
            .iam_roles
            .iter()
            .filter_map(|r| Some((r, Policy::parse(r.trust_policy.as_deref()?))))
            .collect();
        let mut clusters_by_issuer: BTreeMap<String, Vec<&EksCluster>> = BTreeMap::new();
        for c in &inv.eks_clusters {
            if let Some(issuer) = c.oidc_issuer.as_deref() {
                clusters_by_issuer
                    .entry(normalise_host(issuer))
                    .or_default()
                    .push(c);
            }
        }
        let mut providers = BTreeMap::new();
        for p in &inv.oidc_providers {
            let host = p
                .url
                .as_deref()
                .or_else(|| oidc_provider_parts(&p.arn).map(|(_, h)| h));
            if let Some(host) = host {
                providers
                    .entry((p.scope.account.as_str(), normalise_host(host)))
                    .or_insert(p);
            }
        }
        IamFacts {
            roles,
            trust,
            clusters_by_issuer,
            providers,
        }
    }

    /// The role `reference` (an ARN, or a bare role name) names, in `account` unless the ARN
    /// says another. A role's path is not compared: the name is unique in its account.
    fn role(&self, account: &str, reference: &str) -> Option<&'a IamRole> {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let account = if reference.starts_with("arn:") {
            reference.split(':').nth(4).unwrap_or(account)
        } else {
            account
        };
        self.roles.get(&(account, name)).copied()
    }

    fn provider(&self, account: &str, host: &str) -> Option<&'a OidcProvider> {
        self.providers
            .get(&(account, normalise_host(host)))
            .copied()
    }

    /// Task definition → task and execution role, role → trusted OIDC provider, EKS
    /// cluster → the OIDC provider of its issuer.
    pub(super) fn edges(&self, inv: &Inventory) -> Vec<Edge> {
        let mut edges = Vec::new();
        let mut edge = |from: &str, kind, to: String| {
            edges.push(Edge {
                from: from.to_string(),
                kind,
                to,
            })
        };
        for td in &inv.task_definitions {
            for (kind, reference) in [
                (EdgeKind::TaskDefinitionTaskRole, &td.task_role_arn),
                (
                    EdgeKind::TaskDefinitionExecutionRole,
                    &td.execution_role_arn,
                ),
            ] {
                let Some(reference) = reference.as_deref() else {
                    continue;
                };
                let to = match self.role(&td.scope.account, reference) {
                    Some(role) => role.arn.clone(),
                    None if reference.starts_with("arn:") => reference.to_string(),
                    None => format!(
                        "arn:{}:iam::{}:role/{reference}",
                        td.scope.partition(),
                        td.scope.account
                    ),
                };
                edge(&td.arn, kind, to);
            }
        }
        for (role, policy) in &self.trust {
            let Ok(policy) = policy else {
                continue;
            };
            for principal in policy.trust_principals() {
                if *principal.kind != PrincipalKind::Federated {
                    continue;
                }
                if let Some((account, host)) = oidc_provider_parts(principal.value) {
                    let to = self
                        .provider(account, host)
                        .map_or_else(|| principal.value.to_string(), |p| p.arn.clone());
                    edge(&role.arn, EdgeKind::RoleOidcProvider, to);
                }
            }
        }
        for c in &inv.eks_clusters {
            let Some(issuer) = c.oidc_issuer.as_deref() else {
                continue;
            };
            let to = match self.provider(&c.scope.account, issuer) {
                Some(p) => p.arn.clone(),
                None => format!(
                    "arn:{}:iam::{}:oidc-provider/{}",
                    c.scope.partition(),
                    c.scope.account,
                    display_host(issuer)
                ),
            };
            edge(&c.arn, EdgeKind::EksClusterOidcProvider, to);
        }
        edges
    }
}

impl<'a> Graph<'a> {
    /// The IAM role `reference` (an ARN, or a bare role name as task definitions allow)
    /// names, in `account` unless the ARN names another; `None` when it was not collected.
    pub fn role_named(&self, account: &str, reference: &str) -> Option<&'a IamRole> {
        self.iam.role(account, reference)
    }

    /// The role the task definition's `taskRoleArn` names, if collected.
    pub fn task_role(&self, td: &TaskDefinition) -> Option<&'a IamRole> {
        self.role_named(&td.scope.account, td.task_role_arn.as_deref()?)
    }

    /// The role the task definition's `executionRoleArn` names, if collected.
    pub fn execution_role(&self, td: &TaskDefinition) -> Option<&'a IamRole> {
        self.role_named(&td.scope.account, td.execution_role_arn.as_deref()?)
    }

    /// Every role that has a trust policy, in inventory order, with the policy parsed (or
    /// why it could not be).
    pub fn trust_policies(
        &self,
    ) -> impl Iterator<Item = (&'a IamRole, Result<&Policy, &PolicyError>)> + '_ {
        self.iam.trust.iter().map(|(r, p)| (*r, p.as_ref()))
    }

    /// The EKS clusters whose OIDC issuer is `host` (normalised, as [`normalise_host`]
    /// gives it), in inventory order.
    pub fn clusters_with_issuer(&self, host: &str) -> &[&'a EksCluster] {
        self.iam
            .clusters_by_issuer
            .get(host)
            .map_or(&[], Vec::as_slice)
    }

    /// The EKS OIDC issuers a trust policy names as `Federated` principals: normalised host
    /// → how to show it (the cluster's own issuer casing when a collected cluster has it).
    pub fn trusted_eks_issuers(&self, policy: &Policy) -> BTreeMap<String, String> {
        let mut hosts = BTreeMap::new();
        for shown in policy.federated_oidc_hosts() {
            let host = normalise_host(shown);
            if is_eks_issuer_host(&host) {
                let shown = self
                    .clusters_with_issuer(&host)
                    .first()
                    .and_then(|c| c.oidc_issuer.as_deref())
                    .unwrap_or(shown);
                hosts.entry(host).or_insert_with(|| display_host(shown));
            }
        }
        hosts
    }

    /// The IAM OIDC provider of `account` for `host` (an issuer URL or host, any case).
    pub fn oidc_provider(&self, account: &str, host: &str) -> Option<&'a OidcProvider> {
        self.iam.provider(account, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scope, GLOBAL_REGION};
    use crate::testkit::{Builder, ACCOUNT};

    const HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE5C0FFEE";
    const GONE: &str = "oidc.eks.us-east-1.amazonaws.com/id/DEAD";

    fn role(name: &str, trust: Option<&str>) -> IamRole {
        IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/team/{name}"),
            name: name.into(),
            path: "/team/".into(),
            trust_policy: trust.map(str::to_string),
            inline_policies: vec![],
            attached_policy_arns: vec![],
        }
    }

    /// Cluster `prod` (issuer HOST, whose provider exists in lower case), a task definition
    /// naming role `app` by name and a missing execution role by ARN, role `app` trusting
    /// HOST and GONE, and role `broken` whose trust policy does not parse.
    fn scenario() -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{HOST}/"));
        b.inv.oidc_providers.push(OidcProvider {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: format!(
                "arn:aws:iam::{ACCOUNT}:oidc-provider/{}",
                HOST.to_lowercase()
            ),
            url: Some(HOST.to_lowercase()),
        });
        let both = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":["arn:aws:iam::{ACCOUNT}:oidc-provider/{GONE}","arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"]}},"Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
        );
        b.inv.iam_roles.push(role("app", Some(&both)));
        b.inv.iam_roles.push(role("broken", Some("{")));
        b.inv.iam_roles.push(role("plain", None));
        let td = b.task_def("web", Some("awsvpc"), &["nginx"]);
        td.task_role_arn = Some("app".into());
        td.execution_role_arn = Some(format!("arn:aws:iam::{ACCOUNT}:role/missing"));
        b
    }

    #[test]
    fn iam_edges_resolve_or_point_where_the_reference_does() {
        let b = scenario();
        let inv = b.finish();
        let g = Graph::build(&inv);
        let td = &inv.task_definitions[0];
        let to = |from: &str, kind| g.outgoing(from, kind).collect::<Vec<_>>();
        assert_eq!(
            to(&td.arn, EdgeKind::TaskDefinitionTaskRole),
            [format!("arn:aws:iam::{ACCOUNT}:role/team/app")]
        );
        assert_eq!(
            to(&td.arn, EdgeKind::TaskDefinitionExecutionRole),
            [format!("arn:aws:iam::{ACCOUNT}:role/missing")]
        );
        assert_eq!(g.task_role(td).map(|r| r.name.as_str()), Some("app"));
        assert!(g.execution_role(td).is_none());

        let provider = format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/{}",
            HOST.to_lowercase()
        );
        let app = &inv.iam_roles[0].arn;
        let mut trusted = to(app, EdgeKind::RoleOidcProvider);
        trusted.sort();
        assert_eq!(
            trusted,
            [
                provider.clone(),
                format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GONE}")
            ]
        );
        let cluster = &inv.eks_clusters[0].arn;
        assert_eq!(to(cluster, EdgeKind::EksClusterOidcProvider), [provider]);
        assert!(g.node(trusted[1]).is_none(), "referenced but missing");
    }

    #[test]
    fn issuers_providers_and_trust_policies() {
        let b = scenario();
        let inv = b.finish();
        let g = Graph::build(&inv);
        let clusters = g.clusters_with_issuer(&normalise_host(HOST));
        assert_eq!(clusters.len(), 1);
        assert!(g.clusters_with_issuer(&normalise_host(GONE)).is_empty());
        assert!(g
            .oidc_provider(ACCOUNT, &format!("https://{HOST}"))
            .is_some());
        assert!(g.oidc_provider("999999999999", HOST).is_none());
        let trust: Vec<(&str, bool)> = g
            .trust_policies()
            .map(|(r, p)| (r.name.as_str(), p.is_ok()))
            .collect();
        assert_eq!(trust, [("app", true), ("broken", false)]);
        assert_eq!(
            g.role_named(ACCOUNT, &format!("arn:aws:iam::{ACCOUNT}:role/x/app"))
                .map(|r| r.name.as_str()),
            Some("app")
        );
        assert!(g.role_named("999999999999", "app").is_none());
    }
}
