//! Would a KMS key policy let one IAM role use the key?
//!
//! A KMS key policy is the key's resource policy, but unlike most it is the *only* source of
//! access: IAM policies count only where the key policy hands the decision to IAM, which it
//! does by naming the account itself as principal (`arn:aws:iam::ACCOUNT:root`, or the bare
//! account id). So a key policy grant comes in two kinds: it names the role (or everyone),
//! and the key policy alone allows the call for a principal of the key's account; or it names
//! the role's account, and the role's IAM policies decide ([`KeyPolicyAccess::DelegatedToIam`]).
//! A role of another account needs both: the key policy naming it or its account, and its
//! own IAM policies — that combination is the caller's to make.
//!
//! Conditions are evaluated against the request context the caller vouches for (see
//! [`KeyRequest::decrypt_via`]); a statement conditioned on anything else leaves the answer
//! open. KMS grants are not read: a role a grant lets decrypt is reported as not allowed by
//! the key policy, which callers must say.

use std::collections::BTreeMap;

use super::evaluate::{constraint_holds, ContextValue, Request, Requester, Tri};
use super::wildcard::matches_everything;
use super::{sid_label, Effect, Policy, PrincipalClause, PrincipalKind, Principals, Statement};

/// One call a role makes with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    /// `kms:Decrypt`.
    pub action: String,
    pub key_arn: String,
    pub role_arn: String,
    pub role_account: String,
    /// Condition keys the caller vouches for, in lower case.
    pub context: BTreeMap<String, ContextValue>,
}

impl KeyRequest {
    /// The `kms:Decrypt` a service (`secretsmanager`, `ssm`) makes in `region` on behalf of
    /// the role, to decrypt the resource named by the encryption context entry
    /// (`SecretARN`, `PARAMETER_ARN`).
    pub fn decrypt_via(
        service: &str,
        region: &str,
        key_arn: &str,
        role_arn: &str,
        encryption_context: (&str, &str),
    ) -> KeyRequest {
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
        KeyRequest {
            action: "kms:Decrypt".into(),
            key_arn: key_arn.to_string(),
            role_arn: role_arn.to_string(),
            role_account,
            context,
        }
    }
}

/// What a key policy does to a [`KeyRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPolicyAccess {
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

fn principal_covers(s: &Statement, r: &KeyRequest) -> Covers {
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
    /// What this key policy does to `request` (see [`KeyPolicyAccess`]).
    pub fn key_policy_access(&self, request: &KeyRequest) -> KeyPolicyAccess {
        // constraint_holds reads only the request's context.
        let eval_request = Request {
            requester: Requester::OtherAccount,
            action: request.action.clone(),
            resources: vec![request.key_arn.clone()],
            context: request.context.clone(),
        };
        let (mut granted, mut delegated) = (false, false);
        let (mut denied, mut maybe_allow, mut maybe_deny) = (Vec::new(), Vec::new(), Vec::new());
        for (i, s) in self.statements.iter().enumerate() {
            if !s.covers_action(&request.action) || !s.covers_resource(&request.key_arn) {
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
            return KeyPolicyAccess::Denied(denied);
        }
        if !maybe_deny.is_empty() && (granted || delegated || !maybe_allow.is_empty()) {
            maybe_allow.extend(maybe_deny);
            return KeyPolicyAccess::Undecided(maybe_allow);
        }
        if granted {
            KeyPolicyAccess::Granted
        } else if delegated {
            KeyPolicyAccess::DelegatedToIam
        } else if !maybe_allow.is_empty() {
            KeyPolicyAccess::Undecided(maybe_allow)
        } else {
            KeyPolicyAccess::NotGranted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd";
    const ROLE: &str = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole";

    fn access(statements: &str) -> KeyPolicyAccess {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
        let policy = Policy::parse(&doc).unwrap();
        let request = KeyRequest::decrypt_via(
            "secretsmanager",
            "us-east-1",
            KEY,
            ROLE,
            (
                "SecretARN",
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
            ),
        );
        policy.key_policy_access(&request)
    }

    const ROOT: &str = r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#;

    #[test]
    fn the_default_key_policy_delegates_to_iam() {
        assert_eq!(access(ROOT), KeyPolicyAccess::DelegatedToIam);
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*"}"#
            ),
            KeyPolicyAccess::DelegatedToIam
        );
    }

    #[test]
    fn naming_the_role_grants_and_another_account_does_not() {
        let named = format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":["{ROLE}"]}},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}}"#
        );
        assert_eq!(access(&named), KeyPolicyAccess::Granted);
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}"#
            ),
            KeyPolicyAccess::NotGranted
        );
        assert_eq!(
            access(
                r#"{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}"#
            ),
            KeyPolicyAccess::NotGranted
        );
        // Encrypt only.
        assert_eq!(
            access(&named.replace(r#"["kms:Decrypt","kms:DescribeKey"]"#, r#""kms:Encrypt""#)),
            KeyPolicyAccess::NotGranted
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
            KeyPolicyAccess::Granted
        );
        assert_eq!(
            with(r#"{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}"#),
            KeyPolicyAccess::NotGranted
        );
        assert_eq!(
            with(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ecs*"}}"#),
            KeyPolicyAccess::Granted
        );
        assert_eq!(
            with(
                r#"{"ArnEquals":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:other-*"}}"#
            ),
            KeyPolicyAccess::NotGranted
        );
        match with(r#"{"StringEquals":{"aws:PrincipalTag/team":"data"}}"#) {
            KeyPolicyAccess::Undecided(why) => {
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
            KeyPolicyAccess::Denied(vec!["statement `NoExec` (#2)".into()])
        );
        let maybe = r#"{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}"#;
        assert!(matches!(
            access(&format!("{ROOT},{maybe}")),
            KeyPolicyAccess::Undecided(_)
        ));
        // A deny that cannot apply changes nothing.
        let other = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/other"},"Action":"kms:*","Resource":"*"}"#;
        assert_eq!(
            access(&format!("{ROOT},{other}")),
            KeyPolicyAccess::DelegatedToIam
        );
    }
}
