//! Would a resource policy let one IAM role make a call: a KMS key policy, or the policy of
//! a resource in another account (an ECR repository)?
//!
//! A KMS key policy is the key's resource policy, but unlike most it is the *only* source of
//! access: IAM policies count only where the key policy hands the decision to IAM, which it
//! does by naming the account itself as principal (`arn:aws:iam::ACCOUNT:root`, or the bare
//! account id). So a key policy grant comes in two kinds: it names the role (or everyone),
//! and the key policy alone allows the call for a principal of the key's account; or it names
//! the role's account, and the role's IAM policies decide ([`PolicyAccess::DelegatedToIam`]).
//! A role of another account needs both: the key policy naming it or its account, and its
//! own IAM policies, for a key as for any resource shared across accounts
//! ([`cross_account_access`]).
//!
//! Conditions are evaluated against the request context the caller vouches for (see
//! [`RoleRequest::decrypt_via`]); a statement conditioned on anything else leaves the answer
//! open. KMS grants are not read: a role a grant lets decrypt is reported as not allowed by
//! the key policy, which callers must say.

use std::collections::BTreeMap;

use super::evaluate::{constraint_holds, ContextValue, Request, Requester, Tri};
use super::permissions::{Access, RolePermissions};
use super::wildcard::matches_everything;
use super::{sid_label, Effect, Policy, PrincipalClause, PrincipalKind, Principals, Statement};

/// One call a role makes with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRequest {
    /// `kms:Decrypt`.
    pub action: String,
    pub resource_arn: String,
    pub role_arn: String,
    pub role_account: String,
    /// Condition keys the caller vouches for, in lower case.
    pub context: BTreeMap<String, ContextValue>,
}

impl RoleRequest {
    /// The `kms:Decrypt` a service (`secretsmanager`, `ssm`) makes in `region` on behalf of
    /// the role, to decrypt the resource named by the encryption context entry
    /// (`SecretARN`, `PARAMETER_ARN`).
    pub fn decrypt_via(
        service: &str,
        region: &str,
        resource_arn: &str,
        role_arn: &str,
        encryption_context: (&str, &str),
    ) -> RoleRequest {
        let role_account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
        let known = |v: &str| ContextValue::Known(v.to_string());
        let context = [
            (
                "kms:viaservice".to_string(),
                known(&format!("{service}.{region}.amazonaws.com")),
            ),
            ("kms:calleraccount".into(), known(&role_account)),
            ("aws:principalarn".into(), known(role_arn)),
            ("aws:principalaccount".into(), known(&role_account)),
            ("aws:principaltype".into(), known("AssumedRole")),
            ("aws:requestedregion".into(), known(region)),
            ("aws:securetransport".into(), known("true")),
            (
                format!("kms:encryptioncontext:{}", encryption_context.0).to_ascii_lowercase(),
                known(encryption_context.1),
            ),
        ]
        .into_iter()
        .collect();
        RoleRequest {
            action: "kms:Decrypt".into(),
            resource_arn: resource_arn.to_string(),
            role_arn: role_arn.to_string(),
            role_account,
            context,
        }
    }
}

impl RoleRequest {
    /// `action` (`ecr:BatchGetImage`) on `resource_arn` by the role itself, as any
    /// signed request in `region` carries it.
    pub fn direct(action: &str, region: &str, resource_arn: &str, role_arn: &str) -> RoleRequest {
        let role_account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
        let known = |v: &str| ContextValue::Known(v.to_string());
        let context = [
            ("aws:principalarn".to_string(), known(role_arn)),
            ("aws:principalaccount".into(), known(&role_account)),
            ("aws:principaltype".into(), known("AssumedRole")),
            ("aws:requestedregion".into(), known(region)),
            ("aws:securetransport".into(), known("true")),
        ]
        .into_iter()
        .collect();
        RoleRequest {
            action: action.to_string(),
            resource_arn: resource_arn.to_string(),
            role_arn: role_arn.to_string(),
            role_account,
            context,
        }
    }
}

/// Whether a role may make a call on a resource of another account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrossAccount {
    Allowed,
    /// The resource's policy does not let the role (nor its account) do it: why.
    ResourcePolicyRefuses(String),
    /// The resource's policy lets it, the role's own IAM policies do not (their labels).
    IamRefuses(Vec<String>),
    /// It depends on what is not known: why.
    Unknown(String),
}

/// Across accounts both sides must allow: the resource's policy (`None`: it has none, so
/// no other account may) must name the role, everyone, or the role's account, and the
/// role's IAM policies must allow the action on the resource.
pub fn cross_account_access(
    resource_policy: Option<&Policy>,
    request: &RoleRequest,
    role: &RolePermissions<'_>,
) -> CrossAccount {
    let Some(policy) = resource_policy else {
        return CrossAccount::ResourcePolicyRefuses(
            "the resource has no policy, and without one no other account may".into(),
        );
    };
    match policy.role_access(request) {
        PolicyAccess::Denied(by) => {
            return CrossAccount::ResourcePolicyRefuses(format!(
                "the resource policy denies {} in {}",
                request.action,
                by.join(", ")
            ))
        }
        PolicyAccess::NotGranted => {
            return CrossAccount::ResourcePolicyRefuses(format!(
                "the resource policy allows {} neither to the role nor to account {}",
                request.action, request.role_account
            ))
        }
        PolicyAccess::Undecided(why) => {
            return CrossAccount::Unknown(format!("the resource policy's {}", why.join("; ")))
        }
        PolicyAccess::Granted | PolicyAccess::DelegatedToIam => {}
    }
    match role.access(&request.action, &request.resource_arn) {
        Access::Allowed => CrossAccount::Allowed,
        Access::Denied => {
            CrossAccount::IamRefuses(role.policies.iter().map(|(l, _)| l.clone()).collect())
        }
        Access::Unknown => CrossAccount::Unknown(format!(
            "the role has policies whose grants are not known here: {}",
            role.unknown.join(", ")
        )),
    }
}

/// What a key policy does to a [`RoleRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAccess {
    /// An `Allow` naming the role (or everyone) applies: for a role of the key's account,
    /// the key policy alone allows the call.
    Granted,
    /// An `Allow` naming the role's account applies: the role's IAM policies decide.
    DelegatedToIam,
    /// A `Deny` applies; each entry names the statement.
    Denied(Vec<String>),
    /// No statement allows it.
    NotGranted,
    /// It depends on something not known: each entry names a statement and what it
    /// depends on.
    Undecided(Vec<String>),
}

/// How a statement's principal covers the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Covers {
    No,
    Maybe,
    /// The role's account: delegation to IAM (or, in a `Deny`, everyone in it).
    Account,
    /// The role itself, or everyone.
    Role,
}

fn principal_covers(s: &Statement, r: &RoleRequest) -> Covers {
    let id_covers = |kind: &PrincipalKind, value: &str| -> Covers {
        if *kind != PrincipalKind::Aws {
            return Covers::No;
        }
        if matches_everything(value) || value == r.role_arn {
            return Covers::Role;
        }
        let root = value
            .strip_prefix("arn:")
            .and_then(|v| v.split_once(":iam::"))
            .and_then(|(_, rest)| rest.strip_suffix(":root"));
        if root == Some(r.role_account.as_str()) || value == r.role_account {
            return Covers::Account;
        }
        // A session of the role (`…:assumed-role/NAME/SESSION`) depends on the session name.
        let role_name = r.role_arn.rsplit('/').next().unwrap_or_default();
        if value.contains(&format!(
            ":sts::{}:assumed-role/{role_name}/",
            r.role_account
        )) {
            return Covers::Maybe;
        }
        Covers::No
    };
    match &s.principal {
        PrincipalClause::Absent => Covers::No,
        PrincipalClause::Include(Principals::Anyone) => Covers::Role,
        PrincipalClause::Include(Principals::Listed(ids)) => ids
            .iter()
            .map(|id| id_covers(&id.kind, &id.value))
            .max()
            .unwrap_or(Covers::No),
        // NotPrincipal in a key policy is rare enough to leave to a human.
        PrincipalClause::Exclude(_) => Covers::Maybe,
    }
}

impl Policy {
    /// What this key policy does to `request` (see [`PolicyAccess`]).
    pub fn role_access(&self, request: &RoleRequest) -> PolicyAccess {
        // constraint_holds reads only the request's context.
        let eval_request = Request {
            requester: Requester::OtherAccount,
            action: request.action.clone(),
            resources: vec![request.resource_arn.clone()],
            context: request.context.clone(),
        };
        let (mut granted, mut delegated) = (false, false);
        let (mut denied, mut maybe_allow, mut maybe_deny) = (Vec::new(), Vec::new(), Vec::new());
        for (i, s) in self.statements.iter().enumerate() {
            if !s.covers_action(&request.action) || !s.covers_resource(&request.resource_arn) {
                continue;
            }
            let covers = principal_covers(s, request);
            if covers == Covers::No {
                continue;
            }
            let label = format!("statement{} (#{})", sid_label(s.sid.as_deref()), i + 1);
            let mut condition = Tri::Yes;
            let mut open = Vec::new();
            for c in &s.condition.constraints {
                match constraint_holds(c, &eval_request) {
                    Tri::No => {
                        condition = Tri::No;
                        break;
                    }
                    Tri::Maybe => {
                        condition = Tri::Maybe;
                        open.push(format!("`{c}`"));
                    }
                    Tri::Yes => {}
                }
            }
            if condition == Tri::No {
                continue;
            }
            let sure = condition == Tri::Yes && covers != Covers::Maybe;
            let why = || {
                let mut parts = Vec::new();
                if covers == Covers::Maybe {
                    parts.push("its principal".to_string());
                }
                parts.extend(open.iter().cloned());
                format!("{label} depends on {}", parts.join(", "))
            };
            match (s.effect, sure) {
                (Effect::Deny, true) => denied.push(label),
                (Effect::Deny, false) => maybe_deny.push(why()),
                (Effect::Allow, true) if covers == Covers::Role => granted = true,
                (Effect::Allow, true) => delegated = true,
                (Effect::Allow, false) => maybe_allow.push(why()),
            }
        }
        if !denied.is_empty() {
            return PolicyAccess::Denied(denied);
        }
        if !maybe_deny.is_empty() && (granted || delegated || !maybe_allow.is_empty()) {
            maybe_allow.extend(maybe_deny);
            return PolicyAccess::Undecided(maybe_allow);
        }
        if granted {
            PolicyAccess::Granted
        } else if delegated {
            PolicyAccess::DelegatedToIam
        } else if !maybe_allow.is_empty() {
            PolicyAccess::Undecided(maybe_allow)
        } else {
            PolicyAccess::NotGranted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd";
    const ROLE: &str = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole";

    fn access(statements: &str) -> PolicyAccess {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
        let policy = Policy::parse(&doc).unwrap();
        let request = RoleRequest::decrypt_via(
            "secretsmanager",
            "us-east-1",
            KEY,
            ROLE,
            (
                "SecretARN",
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
            ),
        );
        policy.role_access(&request)
    }

    const ROOT: &str = r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#;

    #[test]
    fn the_default_key_policy_delegates_to_iam() {
        assert_eq!(access(ROOT), PolicyAccess::DelegatedToIam);
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*"}"#
            ),
            PolicyAccess::DelegatedToIam
        );
    }

    #[test]
    fn naming_the_role_grants_and_another_account_does_not() {
        let named = format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":["{ROLE}"]}},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}}"#
        );
        assert_eq!(access(&named), PolicyAccess::Granted);
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}"#
            ),
            PolicyAccess::NotGranted
        );
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}"#
            ),
            PolicyAccess::NotGranted
        );
        // Encrypt only.
        assert_eq!(
            access(&named.replace(r#"["kms:Decrypt","kms:DescribeKey"]"#, r#""kms:Encrypt""#)),
            PolicyAccess::NotGranted
        );
    }

    #[test]
    fn conditions_on_the_service_the_caller_and_the_secret() {
        let with = |condition: &str| {
            access(&format!(
                r#"{{"Sid":"ViaSM","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"kms:Decrypt","Resource":"*","Condition":{condition}}}"#
            ))
        };
        // The AWS managed key's own policy.
        assert_eq!(
            with(
                r#"{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}"#
            ),
            PolicyAccess::Granted
        );
        assert_eq!(
            with(r#"{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}"#),
            PolicyAccess::NotGranted
        );
        assert_eq!(
            with(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ecs*"}}"#),
            PolicyAccess::Granted
        );
        assert_eq!(
            with(
                r#"{"ArnEquals":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:other-*"}}"#
            ),
            PolicyAccess::NotGranted
        );
        match with(r#"{"StringEquals":{"aws:PrincipalTag/team":"data"}}"#) {
            PolicyAccess::Undecided(why) => {
                assert_eq!(why.len(), 1);
                assert!(
                    why[0].starts_with("statement `ViaSM` (#1) depends on `aws:PrincipalTag/team"),
                    "{why:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_deny_wins_and_a_conditional_deny_leaves_it_open() {
        let deny = format!(
            r#"{{"Sid":"NoExec","Effect":"Deny","Principal":{{"AWS":"{ROLE}"}},"Action":"kms:Decrypt","Resource":"*"}}"#
        );
        assert_eq!(
            access(&format!("{ROOT},{deny}")),
            PolicyAccess::Denied(vec!["statement `NoExec` (#2)".into()])
        );
        let maybe = r#"{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}"#;
        assert!(matches!(
            access(&format!("{ROOT},{maybe}")),
            PolicyAccess::Undecided(_)
        ));
        // A deny that cannot apply changes nothing.
        let other = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/other"},"Action":"kms:*","Resource":"*"}"#;
        assert_eq!(
            access(&format!("{ROOT},{other}")),
            PolicyAccess::DelegatedToIam
        );
    }
}
