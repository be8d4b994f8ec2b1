//! Property tests for `checks::policy`: the parser never panics, wildcard matching agrees with
//! a regex reference, and IAM's string-or-list shapes parse to the same typed statements.

use std::collections::BTreeMap;

use checks::policy::{
    wildcard_match, Condition, Constraint, Effect, Operator, Patterns, Policy, PrincipalClause,
    PrincipalId, PrincipalKind, Principals, Statement,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use regex::Regex;
use serde_json::{json, Map, Value};

const CASES: u32 = 256;

/// Element names and values the parser branches on, so random documents reach deep code.
const KEYWORDS: [&str; 24] = [
    "Version",
    "Statement",
    "Sid",
    "Effect",
    "Allow",
    "Deny",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "Condition",
    "StringLike",
    "ForAnyValue:StringEqualsIfExists",
    "Null",
    "*",
    "sts:AssumeRoleWithWebIdentity",
    "arn:aws:iam::1:oidc-provider/h",
    "h:sub",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(KEYWORDS.as_slice()).prop_map(str::to_string),
        "[a-zA-Z0-9:*?/%{}\\[\\]\"-]{0,10}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(text(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Exercises every query, so they too are shown not to panic on whatever parsed.
fn query_everything(policy: &Policy) {
    let _ = policy.allows_all_actions();
    let _ = policy.allows_anyone();
    let _ = policy.trust_principals();
    let _ = policy.federated_oidc_hosts();
    let _ = policy.oidc_trust("h");
    let _ = policy.allows("s3:GetObject", "arn:aws:s3:::b/k");
    for s in &policy.statements {
        let _ = s.allows_action("sts:AssumeRole");
        let _ = s.covers_resource("*");
        let _ = s.condition.key_constraint("h:sub");
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The reference matcher: the pattern as an anchored regex, `*` → `.*`, `?` → `.`.
fn reference_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let mut re = String::from(if ignore_case { "(?is)^" } else { "(?s)^" });
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).is_ok_and(|r| r.is_match(value))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_never_panics_on_strings(s in any::<String>()) {
        if let Ok(p) = Policy::parse(&s) {
            query_everything(&p);
        }
        let _ = Policy::parse(&percent_encode(&s));
    }

    #[test]
    fn parse_never_panics_on_json(v in arb_json(), statement in btree_map(select(KEYWORDS.as_slice()), arb_json(), 0..8)) {
        let statement: Map<String, Value> =
            statement.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let documents = [
            v.clone(),
            json!({ "Statement": v }),
            json!({ "Statement": [Value::Object(statement.clone())] }),
            json!({ "Version": "2012-10-17", "Statement": Value::Object(statement) }),
        ];
        for document in documents {
            let text = document.to_string();
            for candidate in [text.clone(), percent_encode(&text)] {
                if let Ok(p) = Policy::parse(&candidate) {
                    query_everything(&p);
                }
            }
        }
    }

    #[test]
    fn wildcard_agrees_with_regex(
        pattern in "[ab:*?]{0,8}",
        value in "[ab:*?]{0,10}",
        upper in any::<bool>(),
        ignore_case in any::<bool>(),
    ) {
        let value = if upper { value.to_uppercase() } else { value };
        prop_assert_eq!(
            wildcard_match(&pattern, &value, ignore_case),
            reference_match(&pattern, &value, ignore_case),
            "pattern {:?} value {:?} ignore_case {}", pattern, value, ignore_case
        );
    }

    #[test]
    fn generated_policies_round_trip(statements in vec(arb_statement(), 0..4), seed in any::<u64>()) {
        let expected = Policy {
            version: Some("2012-10-17".into()),
            id: None,
            statements: statements.clone(),
        };
        // The same policy with one-element lists written as lists, as strings, and mixed.
        for style in [Style::Lists, Style::Strings, Style::Mixed(seed)] {
            let document = json!({
                "Version": "2012-10-17",
                "Statement": statements.iter().enumerate()
                    .map(|(i, s)| to_json(s, style, i)).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string(&document).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Policy::parse(&text), Ok(expected.clone()), "{}", text);
            prop_assert_eq!(Policy::parse(&percent_encode(&text)), Ok(expected.clone()));
        }
        // A lone statement may also be given as an object rather than a list.
        if let [only] = statements.as_slice() {
            let document = json!({ "Version": "2012-10-17", "Statement": to_json(only, Style::Strings, 0) });
            prop_assert_eq!(Policy::parse(&document.to_string()), Ok(expected));
        }
    }
}

// ---- generated valid policies ----

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9:*?/._-]{0,12}"
}

fn arb_patterns() -> impl Strategy<Value = Patterns> {
    prop_oneof![
        Just(Patterns::Absent),
        vec(word(), 0..3).prop_map(Patterns::Include),
        vec(word(), 0..3).prop_map(Patterns::Exclude),
    ]
}

const KINDS: [(&str, PrincipalKind); 4] = [
    ("AWS", PrincipalKind::Aws),
    ("CanonicalUser", PrincipalKind::CanonicalUser),
    ("Federated", PrincipalKind::Federated),
    ("Service", PrincipalKind::Service),
];

/// Principal maps are generated per kind in key order, so the expected flattening does not
/// depend on whether serde_json preserves insertion order.
fn arb_principals() -> impl Strategy<Value = Principals> {
    prop_oneof![
        Just(Principals::Anyone),
        vec(vec(word(), 0..3), 4).prop_map(|per_kind| {
            let mut ids = Vec::new();
            for ((_, kind), values) in KINDS.iter().zip(per_kind) {
                for value in values {
                    ids.push(PrincipalId {
                        kind: kind.clone(),
                        value,
                    });
                }
            }
            Principals::Listed(ids)
        }),
    ]
}

fn arb_principal_clause() -> impl Strategy<Value = PrincipalClause> {
    prop_oneof![
        Just(PrincipalClause::Absent),
        arb_principals().prop_map(PrincipalClause::Include),
        arb_principals().prop_map(PrincipalClause::Exclude),
    ]
}

const OPERATORS: [&str; 8] = [
    "StringEquals",
    "StringLike",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEqualsIfExists",
    "ArnLike",
    "Bool",
    "NumericLessThan",
    "SomethingNew",
];

/// Operator → key → values, as BTreeMaps so JSON key order and constraint order agree.
type RawCondition = BTreeMap<&'static str, BTreeMap<String, Vec<String>>>;

fn arb_raw_condition() -> impl Strategy<Value = RawCondition> {
    btree_map(
        select(OPERATORS.as_slice()),
        btree_map("[a-zA-Z:]{1,8}", vec(word(), 1..3), 1..3),
        0..3,
    )
}

fn condition_of(raw: &RawCondition) -> Condition {
    let mut constraints = Vec::new();
    for (op, keys) in raw {
        for (key, values) in keys {
            constraints.push(Constraint {
                operator: Operator::parse(op),
                key: key.clone(),
                values: values.clone(),
            });
        }
    }
    Condition { constraints }
}

prop_compose! {
    fn arb_statement()(
        sid in proptest::option::of("[A-Za-z0-9]{1,8}"),
        allow in any::<bool>(),
        action in arb_patterns(),
        resource in arb_patterns(),
        principal in arb_principal_clause(),
        raw in arb_raw_condition(),
    ) -> Statement {
        Statement {
            sid,
            effect: if allow { Effect::Allow } else { Effect::Deny },
            action,
            resource,
            principal,
            condition: condition_of(&raw),
        }
    }
}

#[derive(Clone, Copy)]
enum Style {
    Lists,
    Strings,
    Mixed(u64),
}

impl Style {
    /// Whether the `n`th string-or-list field of statement `i` is written as a bare string
    /// (only possible when it has exactly one element).
    fn as_string(self, i: usize, n: u32) -> bool {
        match self {
            Style::Lists => false,
            Style::Strings => true,
            Style::Mixed(seed) => (seed.rotate_left((i as u32 * 7 + n) % 64)) & 1 == 1,
        }
    }
}

fn string_or_list(values: &[String], style: Style, i: usize, n: u32) -> Value {
    match values {
        [one] if style.as_string(i, n) => Value::String(one.clone()),
        _ => Value::from(values.to_vec()),
    }
}

/// Serialises a statement back to IAM JSON. Conditions are rebuilt from the typed form
/// (operator text via the known names) — generated operators are all in `OPERATORS`.
fn to_json(s: &Statement, style: Style, i: usize) -> Value {
    let mut map = Map::new();
    if let Some(sid) = &s.sid {
        map.insert("Sid".into(), sid.clone().into());
    }
    let effect = match s.effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    map.insert("Effect".into(), effect.into());
    let mut n = 0;
    for (patterns, include, exclude) in [
        (&s.action, "Action", "NotAction"),
        (&s.resource, "Resource", "NotResource"),
    ] {
        n += 1;
        match patterns {
            Patterns::Absent => {}
            Patterns::Include(v) => {
                map.insert(include.into(), string_or_list(v, style, i, n));
            }
            Patterns::Exclude(v) => {
                map.insert(exclude.into(), string_or_list(v, style, i, n));
            }
        }
    }
    let principal = |p: &Principals, n: u32| match p {
        Principals::Anyone => Value::String("*".into()),
        Principals::Listed(ids) => {
            let mut by_kind = Map::new();
            for (offset, (name, kind)) in KINDS.iter().enumerate() {
                let values: Vec<String> = ids
                    .iter()
                    .filter(|id| &id.kind == kind)
                    .map(|id| id.value.clone())
                    .collect();
                // An empty list and an absent key both flatten to nothing; keep some of each.
                if !values.is_empty() || offset % 2 == 0 {
                    by_kind.insert(
                        name.to_string(),
                        string_or_list(&values, style, i, n + offset as u32),
                    );
                }
            }
            Value::Object(by_kind)
        }
    };
    match &s.principal {
        PrincipalClause::Absent => {}
        PrincipalClause::Include(p) => {
            map.insert("Principal".into(), principal(p, 10));
        }
        PrincipalClause::Exclude(p) => {
            map.insert("NotPrincipal".into(), principal(p, 20));
        }
    }
    if !s.condition.is_empty() || style.as_string(i, 30) {
        let mut raw: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for (k, c) in s.condition.constraints.iter().enumerate() {
            let op = OPERATORS
                .iter()
                .find(|op| Operator::parse(op) == c.operator)
                .map_or_else(String::new, |op| op.to_string());
            raw.entry(op).or_default().insert(
                c.key.clone(),
                string_or_list(&c.values, style, i, 40 + k as u32),
            );
        }
        let condition: Map<String, Value> = raw
            .into_iter()
            .map(|(op, keys)| (op, Value::Object(keys)))
            .collect();
        map.insert("Condition".into(), Value::Object(condition));
    }
    Value::Object(map)
}
