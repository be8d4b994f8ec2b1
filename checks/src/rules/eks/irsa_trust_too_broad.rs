//! EKS006: an IAM role that more service accounts may assume through IRSA than intended.

use std::collections::BTreeSet;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::EksCluster;
use crate::policy::{
    has_wildcard, normalise_host, oidc_provider_parts, sid_label,
    wildcard_match, Condition, Effect, KeyConstraint, Policy, PrincipalClause, PrincipalKind,
    Principals,
};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::trust_policies;

/// Audiences STS accepts for IRSA tokens (the China partition's webhook may use the `.cn` one).
const STS_AUDIENCES: [&str; 2] = ["sts.amazonaws.com", "sts.amazonaws.com.cn"];
const ANY_NAMESPACE: &str = "may be assumed by any service account in any namespace of";
const SA_PREFIX: &str = "system:serviceaccount:";
/// A service account no pattern should match unless it admits any namespace.
const PROBE_SUBJECT: &str = "system:serviceaccount:zz-awsaudit-probe-ns:zz-awsaudit-probe-sa";

/// How one trust statement holds the `sub` of tokens from the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SubScope {
    /// Named service accounts only.
    Pinned,
    /// Every service account of one namespace (or a pattern within it).
    Namespace(String),
    /// Any service account in any namespace (or in namespaces matching a pattern).
    AnyNamespace,
}

/// One way a trust statement is broader than IRSA needs.
struct Problem {
    severity: Severity,
    /// Completes "role `x` … CLUSTER".
    lead: String,
    /// Follows the cluster: "its trust has no `sub` condition".
    reason: String,
    /// Evidence text.
    fact: String,
}

declare_check! {
    /// ## What it finds
    ///
    /// IAM roles whose trust policy lets an EKS cluster's OIDC provider
    /// (`arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID`) assume them
    /// with `sts:AssumeRoleWithWebIdentity` (IAM roles for service accounts, IRSA) without
    /// holding the token to named service accounts:
    ///
    /// - no `…:sub` condition, a negated or otherwise non-limiting one (`StringNotEquals`,
    ///   `Null`, `ForAllValues:`), or a pattern whose namespace part is a wildcard
    ///   (`system:serviceaccount:*:*`, `system:serviceaccount:*`, `system:*`): any service
    ///   account in any namespace may assume the role (high);
    /// - a pattern limited to one namespace (`system:serviceaccount:payments:*`): any service
    ///   account in that namespace may (medium);
    /// - an `…:aud` condition that admits audiences other than `sts.amazonaws.com` (medium).
    ///
    /// `IfExists` on `sub` or `aud` is read as the plain operator, since EKS tokens always
    /// carry both claims. A missing `aud` condition is not reported: STS already checks the
    /// audience against the provider's client ID list. EKS Pod Identity
    /// (`pods.eks.amazonaws.com`) is a different mechanism and is not examined. A trust
    /// policy that cannot be parsed, or that narrows the trust with a `Deny` on `sub` or
    /// `aud`, is reported as not evaluated.
    ///
    /// ## Why it matters
    ///
    /// Every pod gets a token for its service account, and anyone allowed to create pods in
    /// a namespace can run one under any service account of that namespace.
    /// Without a `sub` pin, every workload in the cluster, including a compromised one or a
    /// debug pod, can exchange its token for the role's AWS credentials. A namespace-wide
    /// pattern limits that to one namespace, but still to every service account in it. An
    /// audience wider than STS lets tokens issued for some other system, which that system
    /// could replay, be exchanged as well.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws iam get-role --role-name ROLE --query 'Role.AssumeRolePolicyDocument'
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.identity.oidc.issuer'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Pin the trust to the service accounts that use the role, with `StringEquals` on both
    /// claims:
    ///
    /// ```json
    /// "Condition": {"StringEquals": {
    ///   "oidc.eks.REGION.amazonaws.com/id/ID:sub": "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT",
    ///   "oidc.eks.REGION.amazonaws.com/id/ID:aud": "sts.amazonaws.com"
    /// }}
    /// ```
    ///
    /// ```sh
    /// aws iam update-assume-role-policy --role-name ROLE --policy-document file://trust.json
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
    pub static EKS006 = {
        code: "EKS006",
        name: "irsa-trust-too-broad",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "IAM role an EKS cluster's service accounts may assume without a pinned sub (or with a loose aud)",
        needs: ["iam:GetAccountAuthorizationDetails"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let graph = ctx.graph;
    for (role, policy) in trust_policies(ctx, out) {
        let hosts = graph.trusted_eks_issuers(policy);
        for (host, shown) in hosts {
            let problems: Vec<(Option<String>, Problem)> = web_identity_grants(policy, &host)
                .into_iter()
                .flat_map(|(sid, condition)| {
                    judge(condition, &shown)
                        .into_iter()
                        .map(move |p| (sid.map(str::to_string), p))
                })
                .collect();
            let Some(worst) = problems.iter().map(|(_, p)| p.severity).max() else {
                continue;
            };
            if deny_narrows(policy, &host) {
                out.unknown(
                    &role.scope,
                    Some(&role.arn),
                    format!(
                        "trust policy of role `{}` narrows its trust in `{shown}` with a Deny statement on sub or aud, which this check does not evaluate",
                        role.name
                    ),
                );
                continue;
            }
            let known: &[&EksCluster] = graph.clusters_with_issuer(&host);
            let subject = match known {
                [] => format!("the EKS cluster with issuer `{shown}`"),
                [one] => format!("EKS cluster `{}` (issuer `{shown}`)", one.name),
                many => format!(
                    "EKS clusters {} (issuer `{shown}`)",
                    many.iter()
                        .map(|c| format!("`{}`", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let primary = problems
                .iter()
                .map(|(_, p)| p)
                .find(|p| p.severity == worst)
                .expect("worst comes from problems");
            let mut message = format!(
                "role `{}` {} {subject}: {}",
                role.name, primary.lead, primary.reason
            );
            let others = problems.len() - 1;
            if others > 0 {
                let s = if others == 1 { "" } else { "s" };
                message.push_str(&format!(" (and {others} more trust problem{s})"));
            }
            let mut evidence: Vec<Evidence> = problems
                .iter()
                .map(|(sid, p)| {
                    Evidence::new(
                        &role.arn,
                        format!("trust statement{}: {}", sid_label(sid.as_deref()), p.fact),
                    )
                })
                .collect();
            for c in known {
                evidence.push(Evidence::new(
                    &c.arn,
                    format!("cluster `{}` has OIDC issuer https://{shown}", c.name),
                ));
            }
            out.report(
                &role.scope,
                Report {
                    severity: worst,
                    resource: role.arn.clone(),
                    discriminator: host.clone(),
                    message,
                    remediation: format!(
                        "Pin role `{}`'s trust to the service accounts that use it: `\"StringEquals\": {{\"{shown}:sub\": \"system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT\", \"{shown}:aud\": \"sts.amazonaws.com\"}}`, then `aws iam update-assume-role-policy --role-name {} --policy-document file://trust.json`.",
                        role.name, role.name
                    ),
                    evidence,
                },
            );
        }
    }
}

/// The `Allow` statements granting `sts:AssumeRoleWithWebIdentity` to the `Federated`
/// provider whose host is `host` (normalised), with their Sid and conditions. A statement
/// that also names other providers and requires one of *their* claims (`OTHER:sub` under a
/// positive operator) can never match a token from `host`, so it is left out.
fn web_identity_grants<'p>(
    policy: &'p Policy,
    host: &str,
) -> Vec<(Option<&'p str>, &'p Condition)> {
    policy
        .statements
        .iter()
        .filter(|s| s.allows_action("sts:AssumeRoleWithWebIdentity"))
        .filter_map(|s| {
            let PrincipalClause::Include(Principals::Listed(ids)) = &s.principal else {
                return None;
            };
            let hosts: Vec<String> = ids
                .iter()
                .filter(|id| id.kind == PrincipalKind::Federated)
                .filter_map(|id| oidc_provider_parts(&id.value))
                .map(|(_, h)| normalise_host(h))
                .collect();
            if !hosts.iter().any(|h| h == host) {
                return None;
            }
            let requires_other_claim = s.condition.constraints.iter().any(|c| {
                let Some((prefix, _claim)) = c.key.rsplit_once(':') else {
                    return false;
                };
                let prefix = normalise_host(prefix);
                prefix != host
                    && hosts.contains(&prefix)
                    && matches!(
                        c.pinning(),
                        KeyConstraint::Pinned(_) | KeyConstraint::Wildcard(_)
                    )
            });
            (!requires_other_claim).then_some((s.sid.as_deref(), &s.condition))
        })
        .collect()
}

/// Whether a `Deny` of web-identity assumption conditions on the provider's `sub` or `aud`:
/// such a statement may be what keeps a broad `Allow` narrow.
fn deny_narrows(policy: &Policy, host: &str) -> bool {
    let keys = [format!("{host}:sub"), format!("{host}:aud")];
    policy.statements.iter().any(|s| {
        s.effect == Effect::Deny
            && s.covers_action("sts:AssumeRoleWithWebIdentity")
            && keys
                .iter()
                .any(|k| s.condition.constraints_on(k).next().is_some())
    })
}

fn operators_on(condition: &Condition, key: &str) -> String {
    let mut names: Vec<String> = condition
        .constraints_on(key)
        .map(|c| c.operator.to_string())
        .collect();
    names.dedup();
    names.join(", ")
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one `sub` pattern admits.
fn pattern_scope(pattern: &str) -> SubScope {
    if let Some(rest) = pattern.strip_prefix(SA_PREFIX) {
        return match rest.split_once(':') {
            Some((ns, _)) if has_wildcard(ns) => SubScope::AnyNamespace,
            Some((ns, sa)) if has_wildcard(sa) => SubScope::Namespace(ns.to_string()),
            Some(_) => SubScope::Pinned,
            None if has_wildcard(rest) => SubScope::AnyNamespace,
            None => SubScope::Pinned,
        };
    }
    // A pattern that wildcards the prefix itself (`system:*`, `*`) is judged by whether it
    // admits a service account in a namespace nobody would name in a policy.
    if wildcard_match(pattern, PROBE_SUBJECT, false) {
        SubScope::AnyNamespace
    } else {
        SubScope::Pinned
    }
}

/// The problems of one statement's conditions for tokens from `host` (as shown; condition
/// keys compare case-insensitively).
fn judge(condition: &Condition, host: &str) -> Vec<Problem> {
    let sub_key = format!("{host}:sub");
    let aud_key = format!("{host}:aud");
    let mut problems = Vec::new();
    match condition.key_constraint_when_present(&sub_key) {
        KeyConstraint::Unconstrained => problems.push(Problem {
            severity: Severity::High,
            lead: ANY_NAMESPACE.into(),
            reason: "its trust has no `sub` condition".into(),
            fact: format!("Allow sts:AssumeRoleWithWebIdentity with no `{sub_key}` condition"),
        }),
        KeyConstraint::Weak => {
            let ops = operators_on(condition, &sub_key);
            problems.push(Problem {
                severity: Severity::High,
                lead: ANY_NAMESPACE.into(),
                reason: format!("its `sub` condition ({ops}) names no allowed service accounts"),
                fact: format!(
                    "Allow sts:AssumeRoleWithWebIdentity with `{sub_key}` held only by {ops}"
                ),
            });
        }
        KeyConstraint::Wildcard(patterns) => {
            let scopes: Vec<SubScope> = patterns.iter().map(|p| pattern_scope(p)).collect();
            let fact = format!(
                "Allow sts:AssumeRoleWithWebIdentity with `{sub_key}` matching {}",
                quoted(&patterns)
            );
            if scopes.contains(&SubScope::AnyNamespace) {
                problems.push(Problem {
                    severity: Severity::High,
                    lead: ANY_NAMESPACE.into(),
                    reason: format!("its `sub` condition matches {}", quoted(&patterns)),
                    fact,
                });
            } else {
                let namespaces: BTreeSet<&str> = scopes
                    .iter()
                    .filter_map(|s| match s {
                        SubScope::Namespace(ns) => Some(ns.as_str()),
                        _ => None,
                    })
                    .collect();
                if !namespaces.is_empty() {
                    let list = namespaces
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let s = if namespaces.len() == 1 { "" } else { "s" };
                    problems.push(Problem {
                        severity: Severity::Medium,
                        lead: format!(
                            "may be assumed by every service account in namespace{s} {list} of"
                        ),
                        reason: format!("its `sub` condition matches {}", quoted(&patterns)),
                        fact,
                    });
                }
            }
        }
        KeyConstraint::Pinned(_) => {}
    }
    let aud_problem = match condition.key_constraint_when_present(&aud_key) {
        KeyConstraint::Unconstrained => None,
        KeyConstraint::Pinned(values)
            if values.iter().all(|v| STS_AUDIENCES.contains(&v.as_str())) =>
        {
            None
        }
        KeyConstraint::Pinned(values) | KeyConstraint::Wildcard(values) => {
            Some(format!("admits {}", quoted(&values)))
        }
        KeyConstraint::Weak => Some(format!(
            "is held only by {}",
            operators_on(condition, &aud_key)
        )),
    };
    if let Some(what) = aud_problem {
        problems.push(Problem {
            severity: Severity::Medium,
            lead: "may be assumed with tokens for audiences other than sts.amazonaws.com from"
                .into(),
            reason: format!("its `aud` condition {what}"),
            fact: format!(
                "Allow sts:AssumeRoleWithWebIdentity where `{aud_key}` {what}, not only sts.amazonaws.com"
            ),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IamRole, Scope, GLOBAL_REGION};
    use crate::testkit::Builder;

    const HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE5C0FFEE";
    const PROVIDER: &str =
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE5C0FFEE";

    fn role(b: &mut Builder, name: &str, trust: &str) {
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new("111122223333", GLOBAL_REGION),
            arn: format!("arn:aws:iam::111122223333:role/{name}"),
            name: name.into(),
            path: "/".into(),
            trust_policy: Some(trust.into()),
            inline_policies: vec![],
            attached_policy_arns: vec![],
        });
    }

    /// A web-identity trust for the provider with `condition` (a JSON object, or empty).
    fn irsa(condition: &str) -> String {
        let condition = if condition.is_empty() {
            String::new()
        } else {
            format!(r#","Condition":{condition}"#)
        };
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"irsa","Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"{condition}}}]}}"#
        )
    }

    fn with_cluster() -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{HOST}"));
        b
    }

    fn one(b: &Builder) -> crate::finding::Finding {
        let out = b.run(&[&EKS006]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        out.findings[0].clone()
    }

    #[test]
    fn no_sub_condition_is_high_and_names_the_cluster() {
        let mut b = with_cluster();
        role(
            &mut b,
            "app",
            &irsa(&format!(
                r#"{{"StringEquals":{{"{HOST}:aud":"sts.amazonaws.com"}}}}"#
            )),
        );
        let f = one(&b);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.message,
            format!("role `app` may be assumed by any service account in any namespace of EKS cluster `prod` (issuer `{HOST}`): its trust has no `sub` condition")
        );
        assert_eq!(f.resource, "arn:aws:iam::111122223333:role/app");
        assert!(f.evidence[0]
            .fact
            .starts_with("trust statement `irsa`: Allow"));
        assert_eq!(
            f.evidence[1].resource,
            "arn:aws:eks:us-east-1:111122223333:cluster/prod"
        );
        assert_eq!(f.region, GLOBAL_REGION);
        assert!(
            f.remediation.contains(&format!("\"{HOST}:sub\"")),
            "{}",
            f.remediation
        );
        assert_eq!(f.evidence[0].fact, format!("trust statement `irsa`: Allow sts:AssumeRoleWithWebIdentity with no `{HOST}:sub` condition"));
        // No condition at all: the same finding.
        let mut bare = with_cluster();
        role(&mut bare, "app", &irsa(""));
        assert_eq!(one(&bare).fingerprint, f.fingerprint);
    }

    #[test]
    fn wildcard_sub_any_namespace_is_high_one_namespace_is_medium() {
        for (pattern, severity) in [
            ("system:serviceaccount:*:*", Severity::High),
            ("system:serviceaccount:*", Severity::High),
            ("system:*", Severity::High),
            ("*", Severity::High),
            ("system:serviceaccount:team-*:app", Severity::High),
            ("system:serviceaccount:payments:*", Severity::Medium),
            ("system:serviceaccount:payments:api-?", Severity::Medium),
        ] {
            let mut b = Builder::new();
            role(
                &mut b,
                "app",
                &irsa(&format!(r#"{{"StringLike":{{"{HOST}:sub":"{pattern}"}}}}"#)),
            );
            let f = one(&b);
            assert_eq!(f.severity, severity, "{pattern}");
            assert!(f.message.contains(pattern), "{pattern}: {}", f.message);
        }
        let mut b = Builder::new();
        role(
            &mut b,
            "app",
            &irsa(&format!(
                r#"{{"StringLike":{{"{HOST}:sub":"system:serviceaccount:payments:*"}}}}"#
            )),
        );
        assert_eq!(
            one(&b).message,
            format!("role `app` may be assumed by every service account in namespace `payments` of the EKS cluster with issuer `{HOST}`: its `sub` condition matches `system:serviceaccount:payments:*`")
        );
    }

    #[test]
    fn negated_or_null_sub_conditions_are_high() {
        for condition in [
            format!(
                r#"{{"StringNotEquals":{{"{HOST}:sub":"system:serviceaccount:kube-system:x"}}}}"#
            ),
            format!(r#"{{"Null":{{"{HOST}:sub":"false"}}}}"#),
            format!(
                r#"{{"ForAllValues:StringEquals":{{"{HOST}:sub":"system:serviceaccount:a:b"}}}}"#
            ),
        ] {
            let mut b = Builder::new();
            role(&mut b, "app", &irsa(&condition));
            let f = one(&b);
            assert_eq!(f.severity, Severity::High, "{condition}");
            assert!(
                f.message.contains("names no allowed service accounts"),
                "{}",
                f.message
            );
        }
    }

    #[test]
    fn loose_audience_is_medium_and_adds_to_a_sub_problem() {
        let mut b = Builder::new();
        role(
            &mut b,
            "aud",
            &irsa(&format!(
                r#"{{"StringEquals":{{"{HOST}:sub":"system:serviceaccount:a:b"}},"StringLike":{{"{HOST}:aud":"*"}}}}"#
            )),
        );
        let f = one(&b);
        assert_eq!(f.severity, Severity::Medium);
        assert!(f
            .message
            .contains("tokens for audiences other than sts.amazonaws.com"));
        let mut both = Builder::new();
        role(
            &mut both,
            "both",
            &irsa(&format!(
                r#"{{"StringEquals":{{"{HOST}:aud":["sts.amazonaws.com","vault"]}}}}"#
            )),
        );
        let f = one(&both);
        assert_eq!(f.severity, Severity::High);
        assert!(
            f.message.ends_with("(and 1 more trust problem)"),
            "{}",
            f.message
        );
        assert_eq!(f.evidence.len(), 2);
        assert!(f.evidence[1].fact.contains("`vault`"));
    }

    #[test]
    fn pinned_trusts_are_silent() {
        let mut b = with_cluster();
        // The clean twin: both claims pinned, as AWS documents it.
        role(
            &mut b,
            "pinned",
            &irsa(&format!(
                r#"{{"StringEquals":{{"{HOST}:sub":"system:serviceaccount:payments:api","{HOST}:aud":"sts.amazonaws.com"}}}}"#
            )),
        );
        // StringLike without wildcards, several service accounts, IfExists (claims are
        // always present), the China audience, no aud condition at all.
        role(
            &mut b,
            "like",
            &irsa(&format!(
                r#"{{"StringLike":{{"{HOST}:sub":["system:serviceaccount:a:x","system:serviceaccount:b:y"]}}}}"#
            )),
        );
        role(
            &mut b,
            "ifexists",
            &irsa(&format!(
                r#"{{"StringEqualsIfExists":{{"{HOST}:sub":"system:serviceaccount:a:x","{HOST}:aud":"sts.amazonaws.com.cn"}}}}"#
            )),
        );
        // A wildcard ANDed with a pin: the pin decides.
        role(
            &mut b,
            "anded",
            &irsa(&format!(
                r#"{{"StringEquals":{{"{HOST}:sub":"system:serviceaccount:a:x"}},"StringLike":{{"{HOST}:sub":"system:serviceaccount:*"}}}}"#
            )),
        );
        // Not IRSA: EKS Pod Identity, GitHub Actions OIDC, a plain service role.
        role(
            &mut b,
            "pod-identity",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        );
        role(
            &mut b,
            "github",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        );
        let out = b.run(&[&EKS006]);
        assert!(out.findings.is_empty(), "{:#?}", out.findings);
        assert!(out.unknowns.is_empty());
    }

    #[test]
    fn a_statement_shared_by_two_clusters_is_judged_per_cluster() {
        const OTHER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/0THER";
        let trust = |condition: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":["{PROVIDER}","arn:aws:iam::111122223333:oidc-provider/{OTHER}"]}},"Action":"sts:AssumeRoleWithWebIdentity"{condition}}}]}}"#
            )
        };
        // Only HOST's sub is pinned: OTHER's tokens lack that claim and never match.
        let mut b = Builder::new();
        role(
            &mut b,
            "shared",
            &trust(&format!(
                r#","Condition":{{"StringEquals":{{"{HOST}:sub":"system:serviceaccount:a:x"}}}}"#
            )),
        );
        assert!(b.run(&[&EKS006]).findings.is_empty());
        // No conditions at all: open to both clusters, one finding each.
        let mut open = Builder::new();
        role(&mut open, "shared", &trust(""));
        let out = open.run(&[&EKS006]);
        assert_eq!(out.findings.len(), 2, "{out:?}");
        assert_ne!(out.findings[0].fingerprint, out.findings[1].fingerprint);
    }

    #[test]
    fn a_deny_on_sub_or_an_unparsable_policy_is_not_evaluated() {
        let mut b = Builder::new();
        let guarded = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
               {{"Effect":"Deny","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringNotEquals":{{"{HOST}:sub":"system:serviceaccount:a:x"}}}}}}]}}"#
        );
        role(&mut b, "guarded", &guarded);
        role(&mut b, "broken", r#"{"Statement":[{"Effect":"Permit"}]}"#);
        let out = b.run(&[&EKS006]);
        assert!(out.findings.is_empty(), "{out:?}");
        let mut reasons: Vec<&str> = out.unknowns.iter().map(|u| u.reason.as_str()).collect();
        reasons.sort();
        assert!(
            reasons[0].contains("role `broken` could not be parsed"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("narrows its trust"), "{reasons:?}");
    }

    #[test]
    fn roles_are_unknown_when_they_could_not_be_read() {
        let mut b = Builder::new();
        b.in_scope("111122223333", GLOBAL_REGION)
            .gap("iam:GetAccountAuthorizationDetails", None);
        let out = b.run(&[&EKS006]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }

    #[test]
    fn reads_the_statements_the_policy_module_finds() {
        // The statements this check reads are the ones the policy module's own query finds.
        let policy = Policy::parse(&irsa("")).unwrap();
        assert_eq!(
            web_identity_grants(&policy, &normalise_host(HOST)).len(),
            policy.oidc_trust(HOST).len()
        );
        assert_eq!(oidc_provider_parts(PROVIDER), Some(("111122223333", HOST)));
    }
}
