//! EKS007: IAM roles trusting an OIDC provider that does not exist, so pods can never assume
//! them.
//!
//! One root cause, one ticket: when the missing provider is the issuer of a live cluster in
//! the provider's own account, the finding is on the cluster (create its provider) and lists
//! every role waiting for it. Otherwise (the cluster was deleted or recreated with a new
//! issuer, or the provider belongs in another account's IAM) the finding is on each role.

use std::collections::{BTreeMap, BTreeSet};

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{EksCluster, IamRole, GLOBAL_REGION};
use crate::policy::{display_host, normalise_host, oidc_provider_parts, sid_label, PrincipalKind};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::trust_policies;

/// The IAM calls whose data "no such provider" rests on.
const IAM_OPS: [&str; 2] = [
    "iam:GetAccountAuthorizationDetails",
    "iam:ListOpenIDConnectProviders",
];

declare_check! {
    /// ## What it finds
    ///
    /// IAM roles whose trust policy allows `Federated` principal
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST` (usually an EKS cluster's OIDC issuer, for
    /// IAM roles for service accounts) when account `ACCOUNT` has no IAM OIDC provider for
    /// `HOST`:
    ///
    /// - when `HOST` is the issuer of a live EKS cluster in `ACCOUNT`, one finding on the
    ///   cluster, listing the roles that trust it;
    /// - otherwise one finding per role (typically the cluster was deleted or recreated
    ///   with a new issuer, and its roles were left behind).
    ///
    /// Only judged where the account's roles and OIDC providers were both read completely.
    /// A provider in another account is judged only when that account is part of the same
    /// run; otherwise the check stays silent about it, since this account's data cannot
    /// show whether it exists.
    ///
    /// ## Why it matters
    ///
    /// Without the IAM OIDC provider, STS rejects every web-identity token from that issuer
    /// (`InvalidIdentityToken: No OpenIDConnect provider found in your account`). Pods that
    /// use the role's service account get no AWS credentials and every AWS call they make
    /// fails; the failure shows only at run time, after a deploy that looked fine. Roles left
    /// trusting a vanished issuer are dead configuration that still carries permissions and
    /// misleads whoever reads it.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws iam list-open-id-connect-providers
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.identity.oidc.issuer'
    /// aws iam get-role --role-name ROLE --query 'Role.AssumeRolePolicyDocument'
    /// ```
    ///
    /// ## How to fix
    ///
    /// For a live cluster, create its IAM OIDC provider:
    ///
    /// ```sh
    /// eksctl utils associate-iam-oidc-provider --cluster CLUSTER --region REGION --approve
    /// aws iam create-open-id-connect-provider --url ISSUER_URL --client-id-list sts.amazonaws.com
    /// ```
    ///
    /// For a role whose cluster is gone or was recreated, point its trust policy at the
    /// current cluster's provider (`aws iam update-assume-role-policy`), or delete the role.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
    pub static EKS007 = {
        code: "EKS007",
        name: "irsa-provider-missing",
        severity: Severity::High,
        summary: "IAM role trusting an OIDC provider (EKS issuer) that does not exist: it can never be assumed",
        needs: ["iam:GetAccountAuthorizationDetails", "iam:ListOpenIDConnectProviders"],
        run: run,
    };
}

/// One role's trust in a provider that does not exist.
struct Dangling<'a> {
    role: &'a IamRole,
    /// As written in the trust policy.
    provider_arn: String,
    account: String,
    /// Normalised.
    host: String,
    /// As written in the trust policy, without the scheme.
    shown: String,
    sids: Vec<Option<String>>,
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let inv = ctx.inventory;
    let graph = ctx.graph;
    let provider_count = |account: &str| {
        inv.oidc_providers
            .iter()
            .filter(|p| p.scope.account == account)
            .count()
    };
    let mut judged: BTreeMap<String, bool> = BTreeMap::new();
    let mut dangling: BTreeMap<(String, String, String), Dangling<'_>> = BTreeMap::new();
    for (role, policy) in trust_policies(ctx, out) {
        for principal in policy.trust_principals() {
            if *principal.kind != PrincipalKind::Federated {
                continue;
            }
            let Some((account, written)) = oidc_provider_parts(principal.value) else {
                continue;
            };
            let host = normalise_host(written);
            let decidable = *judged
                .entry(account.to_string())
                .or_insert_with(|| iam_fully_read(ctx, account));
            if !decidable || graph.oidc_provider(account, written).is_some() {
                continue;
            }
            let key = (role.arn.clone(), account.to_string(), host.clone());
            dangling
                .entry(key)
                .or_insert_with(|| Dangling {
                    role,
                    provider_arn: principal.value.to_string(),
                    account: account.to_string(),
                    host,
                    shown: display_host(written),
                    sids: Vec::new(),
                })
                .sids
                .push(principal.sid.map(str::to_string));
        }
    }

    // Group by the live cluster (in the provider's account) whose issuer is missing.
    let mut by_cluster: BTreeMap<&str, (&EksCluster, Vec<&Dangling<'_>>)> = BTreeMap::new();
    let mut by_role: Vec<(&Dangling<'_>, Vec<&EksCluster>)> = Vec::new();
    for d in dangling.values() {
        let same_host: Vec<&EksCluster> = graph.clusters_with_issuer(&d.host).to_vec();
        let live_here: Vec<&EksCluster> = same_host
            .iter()
            .copied()
            .filter(|c| c.scope.account == d.account && is_live(c))
            .collect();
        match live_here.as_slice() {
            [cluster] => by_cluster
                .entry(cluster.arn.as_str())
                .or_insert_with(|| (cluster, Vec::new()))
                .1
                .push(d),
            _ => by_role.push((d, same_host)),
        }
    }

    for (cluster, roles) in by_cluster.into_values() {
        let host = cluster
            .oidc_issuer
            .as_deref()
            .map_or_else(|| roles[0].shown.clone(), display_host);
        let names: Vec<String> = roles.iter().map(|d| format!("`{}`", d.role.name)).collect();
        let n = roles.len();
        let (them, s) = if n == 1 { ("it", "") } else { ("them", "s") };
        let mut evidence = vec![
            Evidence::new(
                &cluster.arn,
                format!("cluster `{}` has OIDC issuer https://{host}", cluster.name),
            ),
            Evidence::new(
                format!(
                    "arn:{}:iam::{}:oidc-provider/{host}",
                    cluster.scope.partition(),
                    cluster.scope.account
                ),
                format!(
                    "not among the {} IAM OIDC providers of account {}",
                    provider_count(&cluster.scope.account),
                    cluster.scope.account
                ),
            ),
        ];
        evidence.extend(roles.iter().map(|d| role_evidence(d)));
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::High,
                resource: cluster.arn.clone(),
                discriminator: roles[0].host.clone(),
                message: format!(
                    "EKS cluster `{}` has no IAM OIDC provider for its issuer `{host}`, yet {n} IAM role{s} trust{} it for service accounts ({}): pods using {them} get no AWS credentials (InvalidIdentityToken)",
                    cluster.name,
                    if n == 1 { "s" } else { "" },
                    names.join(", ")
                ),
                remediation: format!(
                    "Create the cluster's IAM OIDC provider: `eksctl utils associate-iam-oidc-provider --cluster {} --region {} --approve` (or `aws iam create-open-id-connect-provider --url https://{host} --client-id-list sts.amazonaws.com`).",
                    cluster.name, cluster.scope.region
                ),
                evidence,
            },
        );
    }

    for (d, same_host) in by_role {
        let mut evidence = vec![
            role_evidence(d),
            Evidence::new(
                &d.provider_arn,
                format!(
                    "not among the {} IAM OIDC providers of account {}",
                    provider_count(&d.account),
                    d.account
                ),
            ),
        ];
        for c in &same_host {
            evidence.push(Evidence::new(
                &c.arn,
                format!(
                    "cluster `{}` (account {}, status {}) has OIDC issuer https://{}",
                    c.name,
                    c.scope.account,
                    c.status,
                    c.oidc_issuer
                        .as_deref()
                        .map_or_else(|| d.shown.clone(), display_host)
                ),
            ));
        }
        let context = if same_host.is_empty() {
            "; no EKS cluster read in this run has that issuer (deleted or recreated?)".to_string()
        } else {
            let names: Vec<String> = same_host.iter().map(|c| format!("`{}`", c.name)).collect();
            format!("; it is the issuer of EKS cluster {}", names.join(", "))
        };
        out.report(
            &d.role.scope,
            Report {
                severity: Severity::High,
                resource: d.role.arn.clone(),
                discriminator: d.host.clone(),
                message: format!(
                    "role `{}` trusts OIDC provider `{}`, which does not exist in account {}, so it can never be assumed{context}",
                    d.role.name, d.shown, d.account
                ),
                remediation: format!(
                    "If the cluster with issuer https://{host} still exists, create its IAM OIDC provider in account {account} (`aws iam create-open-id-connect-provider --url https://{host} --client-id-list sts.amazonaws.com`); if it was deleted or recreated, point role `{name}`'s trust policy at the current cluster's provider (`aws iam update-assume-role-policy --role-name {name} --policy-document file://trust.json`) or delete the role.",
                    host = d.shown,
                    account = d.account,
                    name = d.role.name
                ),
                evidence,
            },
        );
    }
}

fn role_evidence(d: &Dangling<'_>) -> Evidence {
    let sids: BTreeSet<String> = d.sids.iter().map(|s| sid_label(s.as_deref())).collect();
    let sids: Vec<String> = sids.into_iter().collect();
    Evidence::new(
        &d.role.arn,
        format!(
            "trust statement{}: Allow assume to Federated {}",
            sids.join(","),
            d.provider_arn
        ),
    )
}

/// Not being deleted or failed: a cluster whose provider is worth creating.
fn is_live(c: &EksCluster) -> bool {
    !c.status.eq_ignore_ascii_case("DELETING") && !c.status.eq_ignore_ascii_case("FAILED")
}

/// Whether `account`'s IAM roles and OIDC providers are both in this inventory, completely:
/// the account was collected (a successful provider listing is recorded, or it has IAM
/// records) and neither call failed. Other accounts' providers are never guessed at.
fn iam_fully_read(ctx: &Ctx<'_>, account: &str) -> bool {
    let inv = ctx.inventory;
    let listed = inv
        .coverage
        .answered(account, GLOBAL_REGION, "iam:ListOpenIDConnectProviders");
    let has_records = inv.iam_roles.iter().any(|r| r.scope.account == account)
        || inv
            .oidc_providers
            .iter()
            .any(|p| p.scope.account == account);
    (listed || has_records)
        && inv
            .coverage
            .complete(account, GLOBAL_REGION, &IAM_OPS, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallStatus, CoverageEntry, OidcProvider, Scope};
    use crate::testkit::Builder;

    const ACCOUNT: &str = "111122223333";
    const HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE5C0FFEE";

    fn provider_arn(account: &str, host: &str) -> String {
        format!("arn:aws:iam::{account}:oidc-provider/{host}")
    }

    fn irsa_role(b: &mut Builder, account: &str, name: &str, provider: &str) {
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(account, GLOBAL_REGION),
            arn: format!("arn:aws:iam::{account}:role/{name}"),
            name: name.into(),
            path: "/".into(),
            trust_policy: Some(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"irsa","Effect":"Allow","Principal":{{"Federated":"{provider}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"x:sub":"system:serviceaccount:a:b"}}}}}}]}}"#
            )),
            inline_policies: vec![],
            attached_policy_arns: vec![],
        });
    }

    fn provider(b: &mut Builder, account: &str, host: &str) {
        b.inv.oidc_providers.push(OidcProvider {
            scope: Scope::new(account, GLOBAL_REGION),
            arn: provider_arn(account, host),
            url: Some(host.into()),
        });
    }

    /// Cluster `prod` with issuer HOST, and two roles trusting HOST's provider.
    fn scenario() -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{HOST}"));
        irsa_role(&mut b, ACCOUNT, "app", &provider_arn(ACCOUNT, HOST));
        irsa_role(&mut b, ACCOUNT, "logs", &provider_arn(ACCOUNT, HOST));
        b
    }

    #[test]
    fn a_live_cluster_without_its_provider_is_one_finding_listing_its_roles() {
        let out = scenario().run(&[&EKS007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.resource,
            "arn:aws:eks:us-east-1:111122223333:cluster/prod"
        );
        assert_eq!(f.region, "us-east-1");
        let host = HOST;
        assert_eq!(
            f.message,
            format!("EKS cluster `prod` has no IAM OIDC provider for its issuer `{host}`, yet 2 IAM roles trust it for service accounts (`app`, `logs`): pods using them get no AWS credentials (InvalidIdentityToken)")
        );
        assert!(f.remediation.contains("--cluster prod --region us-east-1"));
        // The provider must be created with the issuer's exact URL (IDs are upper case).
        assert!(f.remediation.contains(&format!("--url https://{HOST} ")));
        assert_eq!(f.evidence.len(), 4);
        assert!(f.evidence[1]
            .fact
            .contains("not among the 0 IAM OIDC providers"));
    }

    #[test]
    fn the_provider_existing_is_the_clean_twin() {
        let mut b = scenario();
        // IAM keeps the issuer's case; compare as IAM does.
        provider(&mut b, ACCOUNT, &HOST.to_lowercase());
        let out = b.run(&[&EKS007]);
        assert!(out.findings.is_empty(), "{out:?}");
        assert!(out.unknowns.is_empty());
        // No role refers to a cluster without a provider: nothing either (IRSA unused).
        let mut unused = Builder::new();
        unused.eks_cluster("quiet").oidc_issuer = Some(format!("https://{HOST}"));
        assert!(unused.run(&[&EKS007]).findings.is_empty());
    }

    #[test]
    fn a_role_left_behind_by_a_deleted_cluster_is_reported_on_the_role() {
        let mut b = Builder::new();
        irsa_role(&mut b, ACCOUNT, "orphan", &provider_arn(ACCOUNT, HOST));
        // A GitHub provider that exists, for an unrelated role: silent.
        provider(&mut b, ACCOUNT, "token.actions.githubusercontent.com");
        irsa_role(
            &mut b,
            ACCOUNT,
            "ci",
            &provider_arn(ACCOUNT, "token.actions.githubusercontent.com"),
        );
        let out = b.run(&[&EKS007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        let f = &out.findings[0];
        assert_eq!(f.resource, "arn:aws:iam::111122223333:role/orphan");
        assert_eq!(f.region, GLOBAL_REGION);
        assert!(f.message.starts_with(&format!(
            "role `orphan` trusts OIDC provider `{HOST}`, which does not exist in account 111122223333, so it can never be assumed; no EKS cluster read in this run"
        )), "{}", f.message);
        assert!(f.evidence[1]
            .fact
            .contains("not among the 1 IAM OIDC providers"));
    }

    #[test]
    fn a_deleting_cluster_does_not_take_the_ticket() {
        let mut b = scenario();
        b.inv.eks_clusters[0].status = "DELETING".into();
        let out = b.run(&[&EKS007]);
        assert_eq!(out.findings.len(), 2, "one per role: {out:?}");
        assert!(out
            .findings
            .iter()
            .all(|f| f.resource.contains(":role/")
                && f.message.contains("issuer of EKS cluster `prod`")));
    }

    #[test]
    fn gaps_in_iam_data_mean_no_finding() {
        for op in IAM_OPS {
            let mut b = scenario();
            b.in_scope(ACCOUNT, GLOBAL_REGION).gap(op, None);
            let out = b.run(&[&EKS007]);
            assert!(out.findings.is_empty(), "{op}: {out:?}");
            assert_eq!(out.unknowns.len(), 1, "the engine says why: {out:?}");
            assert!(out.unknowns[0].reason.starts_with(op));
        }
    }

    #[test]
    fn other_accounts_are_judged_only_when_collected() {
        const OTHER: &str = "444455556666";
        // A role here trusting a provider in another account that this run did not read.
        let mut b = Builder::new();
        irsa_role(&mut b, ACCOUNT, "xacct", &provider_arn(OTHER, HOST));
        let out = b.run(&[&EKS007]);
        assert!(
            out.findings.is_empty() && out.unknowns.is_empty(),
            "{out:?}"
        );
        // The other account was collected (its provider listing succeeded, empty).
        b.inv.coverage.push(CoverageEntry {
            account: OTHER.into(),
            region: GLOBAL_REGION.into(),
            service: "iam".into(),
            operation: "ListOpenIDConnectProviders".into(),
            scope: None,
            status: CallStatus::Ok,
            error_code: None,
            message: None,
        });
        let out = b.run(&[&EKS007]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0]
            .message
            .contains("does not exist in account 444455556666"));
        // ... and has the provider: silent again.
        provider(&mut b, OTHER, HOST);
        assert!(b.run(&[&EKS007]).findings.is_empty());
    }

    #[test]
    fn emulator_style_shared_issuers_fall_back_to_roles() {
        let mut b = scenario();
        b.eks_cluster("staging").oidc_issuer = Some(format!("https://{HOST}"));
        let out = b.run(&[&EKS007]);
        assert_eq!(out.findings.len(), 2, "{out:?}");
        assert!(out.findings[0]
            .message
            .contains("issuer of EKS cluster `prod`, `staging`"));
    }

    #[test]
    fn an_unparsable_trust_policy_is_not_evaluated() {
        let mut b = Builder::new();
        irsa_role(&mut b, ACCOUNT, "broken", "x");
        b.inv.iam_roles[0].trust_policy = Some(r#"{"Statement":[{"Effect":"Permit"}]}"#.into());
        let out = b.run(&[&EKS007]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(out.unknowns[0].reason.contains("could not be parsed"));
    }
}
