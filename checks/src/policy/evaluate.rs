//! Would a resource policy (a VPC endpoint policy, a bucket policy, a repository policy) let
//! one request through?
//!
//! The request is made by a principal that is not the policy author's — a principal of
//! AWS's own (the one a service signs pre-signed URLs with), or any identity of an unrelated
//! account ([`Requester`]) — never by one of the author's accounts or roles; the caller says
//! which action it is, which resource ARNs stand for what it touches, and what it carries
//! for the condition keys the caller can vouch for. Every answer is three-valued: a policy that
//! depends on something the caller cannot know gives [`Tri::Maybe`], never a guess.
//!
//! Evaluation follows IAM: an applying `Deny` wins, else an applying `Allow` lets the request
//! through, else it is refused. What a statement depends on is reported as [`Reason`]s so the
//! check can word them for its own request.

use std::collections::BTreeMap;

use super::condition::{BaseOperator, Constraint};
use super::wildcard::{has_wildcard, matches_everything, wildcard_match};
use super::{Effect, Policy, PrincipalClause, PrincipalKind, Principals, Statement};

/// A three-valued answer: provably yes, provably no, or it depends on what is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

impl std::ops::Not for Tri {
    type Output = Tri;

    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }
}

/// What the request carries for a condition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A value the caller knows.
    Known(String),
    /// A value that is AWS's, not the policy author's (the signing principal's account, an
    /// AWS-owned bucket's account): it matches no concrete value an author writes, but does
    /// match a pattern made only of `*`. `present` says whether the key is surely in the
    /// request (organization keys are absent when AWS's side belongs to none).
    Foreign { present: bool },
}

/// Who makes the request: never a principal the policy author names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// A principal of AWS's own (a service's signing principal): it may be one of the
    /// service principals a statement names, so those leave the answer open.
    AwsOwned,
    /// An identity (user or role) of an AWS account unrelated to the author: only a
    /// wildcard principal (`"*"`, `{"AWS": "*"}`) covers it.
    OtherAccount,
}

/// One request, as a resource policy sees it (see the module docs for its principal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub requester: Requester,
    /// `service:Action`, e.g. `s3:GetObject`.
    pub action: String,
    /// ARNs that together stand for what the request touches: a statement covers the
    /// request when its `Resource`/`NotResource` covers every one, not when it covers none,
    /// and may otherwise.
    pub resources: Vec<String>,
    /// What the request carries for each condition key the caller can vouch for, keyed in
    /// lower case. A statement conditioned on any other key is undecided.
    pub context: BTreeMap<String, ContextValue>,
}

/// Which part of a statement decides (or leaves open) whether it applies to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'p> {
    /// `Action`/`NotAction` (only ever a "no").
    Action,
    /// `Resource`/`NotResource`: no, or a maybe when it covers only some of the resources.
    Resource,
    /// `Principal`/`NotPrincipal`: no when it lists only principals that are not the
    /// requester (`Principal`) or excludes every principal (`NotPrincipal`); maybe when it
    /// names none, or (for an AWS-owned requester) kinds other than `AWS`.
    Principal,
    /// One condition constraint.
    Condition(&'p Constraint),
}

/// Whether one statement applies to the request, and why not (or what it depends on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEval<'p> {
    /// Position in the document, from 0.
    pub index: usize,
    pub statement: &'p Statement,
    pub applies: Tri,
    /// For `No`, the one part that rules it out; for `Maybe`, every part left open, in the
    /// order action, resource, principal, conditions; empty for `Yes`.
    pub reasons: Vec<Reason<'p>>,
}

/// What a policy does to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'p> {
    /// An `Allow` applies and no `Deny` may.
    Allowed,
    /// These `Deny` statements apply.
    Denied(Vec<StatementEval<'p>>),
    /// No `Allow` applies, none may and no `Deny` may: every `Allow` statement, with why it
    /// does not apply (empty when the policy has none).
    NotAllowed(Vec<StatementEval<'p>>),
    /// It depends: the `Allow` statements that may apply (only when none surely does), then
    /// the `Deny` statements that may.
    Undecided(Vec<StatementEval<'p>>),
}

impl Policy {
    /// What the policy does to `request` (see [`Decision`]).
    pub fn evaluate<'p>(&'p self, request: &Request) -> Decision<'p> {
        let mut allows = false;
        let mut allow_maybe = Vec::new();
        let mut not_allowing = Vec::new();
        let mut denies = Vec::new();
        let mut deny_maybe = Vec::new();
        for (index, statement) in self.statements.iter().enumerate() {
            let eval = statement_applies(index, statement, request);
            match (statement.effect, eval.applies) {
                (Effect::Allow, Tri::Yes) => allows = true,
                (Effect::Allow, Tri::Maybe) => allow_maybe.push(eval),
                (Effect::Allow, Tri::No) => not_allowing.push(eval),
                (Effect::Deny, Tri::Yes) => denies.push(eval),
                (Effect::Deny, Tri::Maybe) => deny_maybe.push(eval),
                (Effect::Deny, Tri::No) => {}
            }
        }
        if !denies.is_empty() {
            return Decision::Denied(denies);
        }
        if allows {
            return match deny_maybe.is_empty() {
                true => Decision::Allowed,
                false => Decision::Undecided(deny_maybe),
            };
        }
        if !allow_maybe.is_empty() || !deny_maybe.is_empty() {
            allow_maybe.extend(deny_maybe);
            return Decision::Undecided(allow_maybe);
        }
        Decision::NotAllowed(not_allowing)
    }
}

fn statement_applies<'p>(
    index: usize,
    statement: &'p Statement,
    request: &Request,
) -> StatementEval<'p> {
    let eval = |applies, reasons| StatementEval {
        index,
        statement,
        applies,
        reasons,
    };
    if !statement.covers_action(&request.action) {
        return eval(Tri::No, vec![Reason::Action]);
    }
    let mut maybe = Vec::new();
    match resource_applies(statement, request) {
        Tri::No => return eval(Tri::No, vec![Reason::Resource]),
        Tri::Maybe => maybe.push(Reason::Resource),
        Tri::Yes => {}
    }
    match principal_applies(statement, request.requester) {
        Tri::No => return eval(Tri::No, vec![Reason::Principal]),
        Tri::Maybe => maybe.push(Reason::Principal),
        Tri::Yes => {}
    }
    for c in &statement.condition.constraints {
        match constraint_holds(c, request) {
            Tri::No => return eval(Tri::No, vec![Reason::Condition(c)]),
            Tri::Maybe => maybe.push(Reason::Condition(c)),
            Tri::Yes => {}
        }
    }
    if maybe.is_empty() {
        eval(Tri::Yes, maybe)
    } else {
        eval(Tri::Maybe, maybe)
    }
}

/// Whether `Resource`/`NotResource` covers every resource of the request, none, or some.
fn resource_applies(s: &Statement, request: &Request) -> Tri {
    let covered = request
        .resources
        .iter()
        .filter(|r| s.covers_resource(r))
        .count();
    match covered {
        0 => Tri::No,
        n if n == request.resources.len() => Tri::Yes,
        _ => Tri::Maybe,
    }
}

/// Whether the statement's principal covers the requester (never one of the author's
/// accounts or roles).
fn principal_applies(s: &Statement, requester: Requester) -> Tri {
    let classify = |p: &Principals| -> Tri {
        match p {
            Principals::Anyone => Tri::Yes,
            Principals::Listed(ids) => {
                if ids
                    .iter()
                    .any(|id| id.kind == PrincipalKind::Aws && matches_everything(&id.value))
                {
                    Tri::Yes
                } else if requester == Requester::OtherAccount
                    || ids.iter().all(|id| id.kind == PrincipalKind::Aws)
                {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
        }
    };
    match &s.principal {
        PrincipalClause::Absent => Tri::Maybe,
        PrincipalClause::Include(p) => classify(p),
        PrincipalClause::Exclude(p) => !classify(p),
    }
}

/// Whether one condition constraint holds for the request.
pub(super) fn constraint_holds(c: &Constraint, request: &Request) -> Tri {
    let Some(actual) = request.context.get(&c.key.to_ascii_lowercase()) else {
        return Tri::Maybe;
    };
    let op = &c.operator;
    use BaseOperator as B;
    match actual {
        ContextValue::Known(v) => {
            // The keys a caller vouches for are single-valued and present: `IfExists` and
            // the set qualifiers reduce to the bare operator.
            let any = |f: &dyn Fn(&str) -> bool| c.values.iter().any(|x| f(x));
            match op.base {
                B::StringEquals => Tri::from_bool(any(&|x| x == v)),
                B::StringEqualsIgnoreCase | B::Bool => {
                    Tri::from_bool(any(&|x| x.eq_ignore_ascii_case(v)))
                }
                B::StringLike => Tri::from_bool(any(&|x| wildcard_match(x, v, false))),
                B::StringNotEquals => Tri::from_bool(!any(&|x| x == v)),
                B::StringNotEqualsIgnoreCase => {
                    Tri::from_bool(!any(&|x| x.eq_ignore_ascii_case(v)))
                }
                B::StringNotLike => Tri::from_bool(!any(&|x| wildcard_match(x, v, false))),
                // ArnEquals honours wildcards just like ArnLike; ARNs compare case-sensitively.
                B::ArnLike | B::ArnEquals => Tri::from_bool(any(&|x| wildcard_match(x, v, false))),
                B::ArnNotLike | B::ArnNotEquals => {
                    Tri::from_bool(!any(&|x| wildcard_match(x, v, false)))
                }
                B::Null => null_holds(c, true),
                _ => Tri::Maybe,
            }
        }
        &ContextValue::Foreign { present } => {
            if !present && (op.if_exists || op.set.is_some()) {
                // An absent key passes `IfExists` and `ForAllValues`, fails `ForAnyValue`:
                // the answer depends on whether AWS's side belongs to an organization.
                return Tri::Maybe;
            }
            // How the value compares with the listed ones: a value of AWS's never equals a
            // value the author wrote, but any value matches a pattern of only `*`. Another
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
            match op.base {
                // `*` is literal under StringEquals; ArnEquals honours wildcards.
                B::StringEquals | B::StringEqualsIgnoreCase => Tri::No,
                B::StringLike | B::ArnLike | B::ArnEquals => matched(),
                B::StringNotEquals | B::StringNotEqualsIgnoreCase => Tri::Yes,
                B::StringNotLike | B::ArnNotLike | B::ArnNotEquals => !matched(),
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
    Tri::from_bool(wants_absent.iter().any(|absent| *absent != present))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket";

    /// An ECR layer download through endpoint `vpce-s3` of `vpc-1`.
    fn layer_request() -> Request {
        let known = |v: &str| ContextValue::Known(v.to_string());
        let foreign = |present| ContextValue::Foreign { present };
        Request {
            requester: Requester::AwsOwned,
            action: "s3:GetObject".into(),
            resources: vec![
                format!("{BUCKET}/*"),
                format!("{BUCKET}/sha256/0f3c9a7e-5b21-4c8d-9e6a-2d7b1c4e8f90"),
            ],
            context: [
                ("aws:sourcevpce", known("vpce-s3")),
                ("aws:sourcevpc", known("vpc-1")),
                ("aws:securetransport", known("true")),
                ("aws:requestedregion", known("us-east-1")),
                ("aws:principalaccount", foreign(true)),
                ("aws:resourceaccount", foreign(true)),
                ("aws:principalorgid", foreign(false)),
                ("aws:resourceorgid", foreign(false)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }

    fn evaluate(doc: &str) -> String {
        let policy = match Policy::parse(doc) {
            Ok(p) => p,
            Err(e) => panic!("{doc}: {e}"),
        };
        // Decision borrows the policy; render it to compare.
        let evals = |v: &[StatementEval<'_>]| {
            v.iter()
                .map(|e| format!("#{}:{:?}:{:?}", e.index, e.applies, e.reasons))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match policy.evaluate(&layer_request()) {
            Decision::Allowed => "allowed".into(),
            Decision::Denied(v) => format!("denied {}", evals(&v)),
            Decision::NotAllowed(v) => format!("not-allowed {}", evals(&v)),
            Decision::Undecided(v) => format!("undecided {}", evals(&v)),
        }
    }

    #[test]
    fn decisions_at_the_edges() {
        // Bucket-level ARN only: objects are not covered.
        assert_eq!(
            evaluate(&format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{BUCKET}"}}]}}"#
            )),
            "not-allowed #0:No:[Resource]"
        );
        // NotAction excluding GetObject: not allowed.
        assert_eq!(
            evaluate(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}]}"#
            ),
            "not-allowed #0:No:[Action]"
        );
        // An unconditional Deny of everything wins over an Allow.
        assert_eq!(
            evaluate(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#
            ),
            "denied #1:Yes:[]"
        );
        // A Deny for one principal only does not touch AWS's.
        assert_eq!(
            evaluate(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/x"},"Action":"*","Resource":"*"}]}"#
            ),
            "allowed"
        );
        // A key prefix of the bucket: cannot tell.
        assert_eq!(
            evaluate(&format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{BUCKET}/sha256/*"}}]}}"#
            )),
            "undecided #0:Maybe:[Resource]"
        );
        // StringNotEquals on the org: holds for AWS's side, so the Allow applies.
        assert_eq!(
            evaluate(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-evil"}}}]}"#
            ),
            "allowed"
        );
        // Null on a key the request surely carries.
        assert_eq!(
            evaluate(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"false"}}}]}"#
            ),
            "allowed"
        );
        // Empty statement list allows nothing.
        assert_eq!(evaluate(r#"{"Statement":[]}"#), "not-allowed ");
    }

    #[test]
    fn principals() {
        let with = |principal: &str| {
            evaluate(&format!(
                r#"{{"Statement":[{{"Effect":"Allow",{principal},"Action":"*","Resource":"*"}}]}}"#
            ))
        };
        assert_eq!(with(r#""Principal":{"AWS":"*"}"#), "allowed");
        assert_eq!(
            with(r#""Principal":{"AWS":["arn:aws:iam::111122223333:root"]}"#),
            "not-allowed #0:No:[Principal]"
        );
        assert_eq!(
            with(r#""Principal":{"Service":"ecs.amazonaws.com"}"#),
            "undecided #0:Maybe:[Principal]"
        );
        assert_eq!(
            with(r#""NotPrincipal":"*""#),
            "not-allowed #0:No:[Principal]"
        );
        assert_eq!(
            with(r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}"#),
            "allowed"
        );
        assert_eq!(
            evaluate(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
            "undecided #0:Maybe:[Principal]"
        );
    }

    #[test]
    fn conditions_on_known_and_foreign_values() {
        let with = |condition: &str| {
            evaluate(&format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{condition}}}]}}"#
            ))
        };
        assert_eq!(
            with(r#"{"StringEquals":{"aws:SourceVpce":"vpce-s3"}}"#),
            "allowed"
        );
        assert_eq!(
            with(r#"{"StringLike":{"AWS:SOURCEVPC":"vpc-*"}}"#),
            "allowed"
        );
        assert_eq!(
            with(r#"{"Bool":{"aws:SecureTransport":"TRUE"}}"#),
            "allowed"
        );
        assert!(
            with(r#"{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}"#)
                .starts_with("not-allowed #0:No:[Condition(")
        );
        assert!(with(r#"{"StringEquals":{"aws:PrincipalAccount":"*"}}"#)
            .starts_with("not-allowed #0:No:[Condition("));
        assert_eq!(
            with(r#"{"StringLike":{"aws:PrincipalAccount":"*"}}"#),
            "allowed"
        );
        assert!(with(r#"{"ArnNotLike":{"aws:ResourceAccount":"*"}}"#)
            .starts_with("not-allowed #0:No:[Condition("));
        // An absent organization key passes IfExists, so it depends.
        assert!(
            with(r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}"#)
                .starts_with("undecided #0:Maybe:[Condition(")
        );
        // Null on an organization key that may be absent.
        assert!(with(r#"{"Null":{"aws:PrincipalOrgID":"true"}}"#)
            .starts_with("undecided #0:Maybe:[Condition("));
        // A key the caller does not vouch for, and a known key under a numeric operator.
        assert!(with(r#"{"StringEquals":{"aws:PrincipalTag/team":"data"}}"#)
            .starts_with("undecided #0:Maybe:[Condition("));
        assert!(with(r#"{"NumericEquals":{"aws:SourceVpce":"1"}}"#)
            .starts_with("undecided #0:Maybe:[Condition("));
    }

    #[test]
    fn another_accounts_identity_is_covered_only_by_a_wildcard_principal() {
        let pull = |principal: &str, condition: &str| {
            let doc = format!(
                r#"{{"Statement":[{{"Effect":"Allow",{principal},"Action":"ecr:BatchGetImage"{condition}}}]}}"#
            );
            let policy = Policy::parse(&doc).unwrap();
            let request = Request {
                requester: Requester::OtherAccount,
                action: "ecr:BatchGetImage".into(),
                resources: vec!["arn:aws:ecr:us-east-1:111122223333:repository/web".into()],
                context: [
                    (
                        "aws:principalaccount",
                        ContextValue::Foreign { present: true },
                    ),
                    (
                        "aws:principalorgid",
                        ContextValue::Foreign { present: false },
                    ),
                    ("aws:securetransport", ContextValue::Known("true".into())),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            };
            match policy.evaluate(&request) {
                Decision::Allowed => "allowed",
                Decision::Denied(_) => "denied",
                Decision::NotAllowed(_) => "not-allowed",
                Decision::Undecided(_) => "undecided",
            }
        };
        assert_eq!(pull(r#""Principal":"*""#, ""), "allowed");
        assert_eq!(pull(r#""Principal":{"AWS":["*"]}"#, ""), "allowed");
        // A service principal is not an identity of another account.
        assert_eq!(
            pull(r#""Principal":{"Service":"codebuild.amazonaws.com"}"#, ""),
            "not-allowed"
        );
        assert_eq!(
            pull(
                r#""Principal":{"AWS":"arn:aws:iam::444455556666:root"}"#,
                ""
            ),
            "not-allowed"
        );
        // Conditions that hold for anyone do not narrow; those that name the author's
        // organization or account do; those on keys nobody vouches for leave it open.
        assert_eq!(
            pull(
                r#""Principal":"*""#,
                r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#
            ),
            "allowed"
        );
        assert_eq!(
            pull(
                r#""Principal":"*""#,
                r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#
            ),
            "not-allowed"
        );
        assert_eq!(
            pull(
                r#""Principal":"*""#,
                r#","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#
            ),
            "undecided"
        );
    }

    #[test]
    fn a_deny_that_may_apply_leaves_an_allow_undecided() {
        assert_eq!(
            evaluate(
                r#"{"Statement":[
                {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
                {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/x":"y"}}}]}"#
            )
            .split(':')
            .next(),
            Some("undecided #1")
        );
    }
}
