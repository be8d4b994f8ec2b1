//! IAM policy documents, parsed once into types and queried by the checks.
//!
//! IAM is lenient about shape: `Statement` may be one object or a list; `Action`, `Resource`
//! and principal values may be a string or a list; condition values may be strings, booleans
//! or numbers; documents read from IAM arrive percent-encoded. [`Policy::parse`] absorbs all
//! of that so rules only see [`Statement`]s, and reports anything malformed as a
//! [`PolicyError`] whose message can be shown as a "could not parse" note. It never panics.
//!
//! The queries answer the questions the checks ask (is this admin? who may assume this
//! role? how is an OIDC trust pinned? would this resource policy let AWS's own request
//! through? — [`Policy::evaluate`]; may this role decrypt with this KMS key? —
//! [`Policy::role_access`]). They are deliberately not a full IAM evaluator: only
//! the request context a caller vouches for, no policy variables, no SCPs or permission
//! boundaries.

mod condition;
mod evaluate;
mod oidc;
mod parse;
mod permissions;
mod role_access;
mod wildcard;

#[cfg(test)]
mod tests;

use std::fmt;

use oidc::oidc_host;

pub use condition::{BaseOperator, Condition, Constraint, KeyConstraint, Operator, SetQualifier};
pub use evaluate::{ContextValue, Decision, Reason, Request, Requester, StatementEval, Tri};
pub use oidc::{display_host, is_eks_issuer_host, normalise_host, oidc_provider_parts};
pub use permissions::{Access, RolePermissions, ADMIN_LIKE};
pub use role_access::{cross_account_access, CrossAccount, PolicyAccess, RoleRequest};
pub use wildcard::{has_wildcard, matches_everything, wildcard_match};

/// The actions that let a principal take on a role; a trust-policy statement matters for
/// "who may assume" only if it allows one of them.
pub const ASSUME_ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// Why a document could not be read; the message names the offending element
/// (`Statement[1].Effect must be "Allow" or "Deny", got "Permit"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    fn new(message: impl Into<String>) -> Self {
        PolicyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `2012-10-17` in practice; absent means the legacy `2008-10-17` grammar.
    pub version: Option<String>,
    pub id: Option<String>,
    /// May be empty: IAM rejects that on write, but it means "allows nothing", not "broken".
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: a statement has at most one of each pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patterns {
    /// Neither element. Trust policies and resource policies often omit `Resource` (the
    /// resource is the one the policy is attached to).
    Absent,
    /// `Action` / `Resource`: applies to what matches any pattern.
    Include(Vec<String>),
    /// `NotAction` / `NotResource`: applies to everything that matches none of them.
    Exclude(Vec<String>),
}

/// `Principal`/`NotPrincipal`, which identity and trust policies respectively lack and need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalClause {
    Absent,
    Include(Principals),
    Exclude(Principals),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"` — everyone, authenticated or not.
    Anyone,
    /// The map form, flattened to one entry per value, e.g. `{"AWS": ["a", "b"]}` → two.
    Listed(Vec<PrincipalId>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalId {
    pub kind: PrincipalKind,
    /// An ARN, account id, service name (`ecs-tasks.amazonaws.com`), provider ARN, or `*`.
    pub value: String,
}

/// The key of a principal map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
    /// A key IAM does not document, kept as written.
    Other(String),
}

impl PrincipalKind {
    fn from_key(key: &str) -> PrincipalKind {
        match key {
            "AWS" => PrincipalKind::Aws,
            "Service" => PrincipalKind::Service,
            "Federated" => PrincipalKind::Federated,
            "CanonicalUser" => PrincipalKind::CanonicalUser,
            other => PrincipalKind::Other(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub action: Patterns,
    pub resource: Patterns,
    pub principal: PrincipalClause,
    /// Empty when the statement has no `Condition`.
    pub condition: Condition,
}

impl Statement {
    /// Whether the statement's `Action`/`NotAction` covers `action`, whatever its effect.
    /// Actions compare case-insensitively over the whole `service:Action`. A statement with
    /// neither element covers nothing.
    pub fn covers_action(&self, action: &str) -> bool {
        match &self.action {
            Patterns::Absent => false,
            Patterns::Include(patterns) => patterns.iter().any(|p| wildcard_match(p, action, true)),
            Patterns::Exclude(patterns) => {
                !patterns.iter().any(|p| wildcard_match(p, action, true))
            }
        }
    }

    /// An `Allow` statement covering `action` (conditions not considered).
    pub fn allows_action(&self, action: &str) -> bool {
        self.effect == Effect::Allow && self.covers_action(action)
    }

    /// Whether `Resource`/`NotResource` covers `resource` (case-sensitive). An absent
    /// element covers it: the statement then applies to the resource the policy is on.
    pub fn covers_resource(&self, resource: &str) -> bool {
        match &self.resource {
            Patterns::Absent => true,
            Patterns::Include(patterns) => {
                patterns.iter().any(|p| wildcard_match(p, resource, false))
            }
            Patterns::Exclude(patterns) => {
                !patterns.iter().any(|p| wildcard_match(p, resource, false))
            }
        }
    }

    /// `Principal` is `"*"` or includes `{"AWS": "*"}`, which IAM treats the same.
    pub fn principal_is_anyone(&self) -> bool {
        match &self.principal {
            PrincipalClause::Include(Principals::Anyone) => true,
            PrincipalClause::Include(Principals::Listed(ids)) => ids
                .iter()
                .any(|id| id.kind == PrincipalKind::Aws && id.value == "*"),
            _ => false,
        }
    }

    /// The `Principal` entries, with `"*"` expanded to `AWS: *`. Empty for `NotPrincipal`
    /// or no principal.
    fn principal_ids(&self) -> Vec<(&PrincipalKind, &str)> {
        match &self.principal {
            PrincipalClause::Include(Principals::Anyone) => vec![(&PrincipalKind::Aws, "*")],
            PrincipalClause::Include(Principals::Listed(ids)) => {
                ids.iter().map(|id| (&id.kind, id.value.as_str())).collect()
            }
            _ => Vec::new(),
        }
    }

    fn allows_assume(&self) -> bool {
        ASSUME_ACTIONS.iter().any(|a| self.allows_action(a))
    }
}

/// How evidence names a statement by its Sid: `` `Sid` `` after a space, nothing without one
/// (`trust statement `Irsa`: …`, `trust statement: …`).
pub fn sid_label(sid: Option<&str>) -> String {
    sid.map(|s| format!(" `{s}`")).unwrap_or_default()
}

/// One principal a trust policy lets assume the role, with the conditions it must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPrincipal<'a> {
    pub sid: Option<&'a str>,
    pub kind: &'a PrincipalKind,
    pub value: &'a str,
    pub condition: &'a Condition,
}

/// How an `Allow` of `sts:AssumeRoleWithWebIdentity` for one OIDC provider holds the token's
/// `sub` (which service account) and `aud` (which audience; `sts.amazonaws.com` for IRSA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcTrust {
    pub sid: Option<String>,
    /// The Federated principal, `arn:aws:iam::<account>:oidc-provider/<host>`.
    pub provider_arn: String,
    pub sub: KeyConstraint,
    pub aud: KeyConstraint,
}

impl Policy {
    /// Parses a policy document: JSON text, or the percent-encoded form IAM's APIs return
    /// (decoded once when the trimmed text does not start with `{`).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse::parse_policy(text)
    }

    /// Whether some unconditional `Allow` grants every action on every resource — what the
    /// `AdministratorAccess` managed policy does. Counted: `Action` with a pattern made only of
    /// `*`, or any `NotAction` (everything but a few actions is admin for audit purposes),
    /// together with `Resource` made only of `*`. Deny statements are not subtracted.
    pub fn allows_all_actions(&self) -> bool {
        self.statements.iter().any(|s| {
            let all_actions = match &s.action {
                Patterns::Include(p) => p.iter().any(|p| matches_everything(p)),
                Patterns::Exclude(_) => true,
                Patterns::Absent => false,
            };
            let all_resources = match &s.resource {
                Patterns::Include(p) => p.iter().any(|p| matches_everything(p)),
                _ => false,
            };
            s.effect == Effect::Allow && s.condition.is_empty() && all_actions && all_resources
        })
    }

    /// Whether some `Allow` covers `action` on `resource` and no unconditional `Deny` covers
    /// both. Conditions on `Allow`s are assumed satisfiable; conditional `Deny`s are ignored.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let covers = |s: &Statement| s.covers_action(action) && s.covers_resource(resource);
        let allowed = self
            .statements
            .iter()
            .any(|s| s.effect == Effect::Allow && covers(s));
        let denied = self
            .statements
            .iter()
            .any(|s| s.effect == Effect::Deny && s.condition.is_empty() && covers(s));
        allowed && !denied
    }

    /// Who may assume the role, read as a trust policy: every `Principal` entry of each
    /// `Allow` statement that allows an `sts:AssumeRole*` action, with that statement's
    /// conditions. `"Principal": "*"` is reported as `AWS: *`. `NotPrincipal` is skipped
    /// (IAM does not accept it in trust policies) and `Deny` statements are not subtracted.
    pub fn trust_principals(&self) -> Vec<TrustPrincipal<'_>> {
        self.statements
            .iter()
            .filter(|s| s.allows_assume())
            .flat_map(|s| {
                s.principal_ids()
                    .into_iter()
                    .map(move |(kind, value)| TrustPrincipal {
                        sid: s.sid.as_deref(),
                        kind,
                        value,
                        condition: &s.condition,
                    })
            })
            .collect()
    }

    /// Whether an `Allow` statement names everyone (`"*"` or `{"AWS": "*"}`) as principal
    /// with no `Condition` at all — a role anyone on the internet can assume, or a resource
    /// policy open to all. Any condition, however weak, defers to the check's judgement.
    pub fn allows_anyone(&self) -> bool {
        self.statements
            .iter()
            .any(|s| s.effect == Effect::Allow && s.condition.is_empty() && s.principal_is_anyone())
    }

    /// The statements of a trust policy that let anyone at all assume the role: `Allow`, an
    /// assume action, `Principal` `"*"` (or `{"AWS": "*"}`) and no `Condition`.
    pub fn anyone_may_assume(&self) -> Vec<&Statement> {
        self.statements
            .iter()
            .filter(|s| {
                s.effect == Effect::Allow
                    && s.condition.is_empty()
                    && s.principal_is_anyone()
                    && s.allows_assume()
            })
            .collect()
    }

    /// The OIDC providers named as `Federated` principals of `Allow` statements, as the
    /// provider ARN's `<host>` part (`oidc.eks.us-east-1.amazonaws.com/id/ABC`), sorted and
    /// deduplicated. For "the role trusts a provider that does not exist".
    pub fn federated_oidc_hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = self
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .flat_map(|s| s.principal_ids())
            .filter(|(kind, _)| **kind == PrincipalKind::Federated)
            .filter_map(|(_, value)| oidc_host(value))
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }

    /// For each `Allow` of `sts:AssumeRoleWithWebIdentity` whose `Federated` principal is
    /// `…:oidc-provider/<provider_host>`, how `<host>:sub` and `<host>:aud` are held.
    /// `provider_host` may be given as the issuer URL (`https://` is dropped) and compares
    /// case-insensitively. No match → empty: the role does not trust that provider.
    pub fn oidc_trust(&self, provider_host: &str) -> Vec<OidcTrust> {
        let wanted = display_host(provider_host);
        let mut out = Vec::new();
        for s in &self.statements {
            if !s.allows_action("sts:AssumeRoleWithWebIdentity") {
                continue;
            }
            for (kind, value) in s.principal_ids() {
                if *kind != PrincipalKind::Federated {
                    continue;
                }
                let Some(host) = oidc_host(value) else {
                    continue;
                };
                if !host.eq_ignore_ascii_case(&wanted) {
                    continue;
                }
                out.push(OidcTrust {
                    sid: s.sid.clone(),
                    provider_arn: value.to_string(),
                    sub: s.condition.key_constraint(&format!("{host}:sub")),
                    aud: s.condition.key_constraint(&format!("{host}:aud")),
                });
            }
        }
        out
    }
}
