//! The `Condition` block of a statement: `{ operator: { key: value | [values] } }`.
//!
//! IAM ANDs every operator and every key inside it, and ORs the values of one key. Condition
//! keys are case-insensitive to IAM (`aws:SourceVpce` = `aws:sourcevpce`); values are compared
//! as the operator says. The checks do not evaluate conditions against a request; they ask
//! how tightly a key is held ([`Condition::key_constraint`]).

use std::fmt;

use super::wildcard::has_wildcard;

/// A statement's whole `Condition` block. Empty when the statement has none, so
/// "unconditional" is [`Condition::is_empty`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// One entry per (operator, key) pair, in document order.
    pub constraints: Vec<Constraint>,
}

/// One key under one operator, e.g. `StringLike` / `…:sub` / `["system:serviceaccount:*:*"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub operator: Operator,
    /// As written; compare with [`Constraint::is_key`], which ignores case as IAM does.
    pub key: String,
    /// Scalars are normalised to strings: `true` → `"true"`, `5` → `"5"`.
    pub values: Vec<String>,
}

/// A parsed condition operator such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `ForAnyValue:` / `ForAllValues:` — how a multi-valued request key is compared.
    pub set: Option<SetQualifier>,
    pub base: BaseOperator,
    /// The `IfExists` suffix: the condition also passes when the key is absent.
    pub if_exists: bool,
}

/// Set-operator prefix for multi-valued keys. `ForAllValues` is satisfied when the key is
/// absent or empty, which is why it never pins a key (see [`Constraint::pinning`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The base condition operators IAM documents. Anything else is kept verbatim in
/// [`BaseOperator::Other`] rather than rejected, so a new operator never makes a whole
/// policy unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
    /// An operator this module does not know, as written (including any prefix/suffix).
    Other(String),
}

const KNOWN: [(&str, BaseOperator); 27] = [
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl fmt::Display for Operator {
    /// As IAM spells it: `ForAnyValue:StringLikeIfExists`; an unknown operator as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let BaseOperator::Other(text) = &self.base {
            return f.write_str(text);
        }
        match self.set {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        write!(f, "{:?}", self.base)?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

impl fmt::Display for Constraint {
    /// `aws:PrincipalAccount StringEquals [111122223333]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}]",
            self.key,
            self.operator,
            self.values.join(", ")
        )
    }
}

impl BaseOperator {
    /// The operator for a bare name (no prefix or suffix), matched case-insensitively.
    fn known(name: &str) -> Option<BaseOperator> {
        KNOWN
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, op)| op.clone())
    }
}

impl Operator {
    /// Splits `ForAnyValue:` / `ForAllValues:` and `IfExists` off a known base operator.
    /// When the base is not recognised the whole text becomes [`BaseOperator::Other`] with no
    /// qualifiers: an operator we do not understand has no semantics we could vouch for.
    pub fn parse(text: &str) -> Operator {
        let (set, rest) = if let Some(rest) = strip_prefix_ci(text, "ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = strip_prefix_ci(text, "ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, text)
        };
        let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
            Some(stripped) => (stripped, true),
            None => (rest, false),
        };
        match BaseOperator::known(base) {
            Some(base) => Operator {
                set,
                base,
                if_exists,
            },
            None => Operator {
                set: None,
                base: BaseOperator::Other(text.to_string()),
                if_exists: false,
            },
        }
    }
}

/// How tightly a condition key is held, as a check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyConstraint {
    /// No condition mentions the key.
    Unconstrained,
    /// Held to these concrete values: `StringEquals`/`StringEqualsIgnoreCase` (where `*` is
    /// literal), or a `*Like`/`ArnEquals` whose values contain no wildcard.
    Pinned(Vec<String>),
    /// Held to patterns of which at least one contains `*` or `?`
    /// (`StringLike`, `ArnLike`, `ArnEquals`).
    Wildcard(Vec<String>),
    /// Mentioned, but not held to an allow-list: a negated operator (`StringNotEquals`),
    /// `IfExists` or `ForAllValues:` (both pass when the key is absent), `Null`, numeric,
    /// date, IP, or unknown operators.
    Weak,
}

impl KeyConstraint {
    fn rank(&self) -> u8 {
        match self {
            KeyConstraint::Unconstrained => 0,
            KeyConstraint::Weak => 1,
            KeyConstraint::Wildcard(_) => 2,
            KeyConstraint::Pinned(_) => 3,
        }
    }
}

impl Constraint {
    /// Whether this constraint is on `key`, ignoring case as IAM does for condition keys.
    pub fn is_key(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// How this constraint alone holds its key. `ForAnyValue:` is kept as pinning: for the
    /// single-valued keys the checks ask about it behaves like the bare operator.
    pub fn pinning(&self) -> KeyConstraint {
        let op = &self.operator;
        if op.if_exists || op.set == Some(SetQualifier::ForAllValues) || self.values.is_empty() {
            return KeyConstraint::Weak;
        }
        match op.base {
            // `*` and `?` are literal under StringEquals.
            BaseOperator::StringEquals | BaseOperator::StringEqualsIgnoreCase => {
                KeyConstraint::Pinned(self.values.clone())
            }
            // ArnEquals honours wildcards just like ArnLike.
            BaseOperator::StringLike | BaseOperator::ArnLike | BaseOperator::ArnEquals => {
                if self.values.iter().any(|v| has_wildcard(v)) {
                    KeyConstraint::Wildcard(self.values.clone())
                } else {
                    KeyConstraint::Pinned(self.values.clone())
                }
            }
            _ => KeyConstraint::Weak,
        }
    }
}

impl Condition {
    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// Every constraint on `key` (case-insensitive), in document order. A key may appear
    /// under several operators; IAM requires all of them.
    pub fn constraints_on<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Constraint> {
        self.constraints.iter().filter(move |c| c.is_key(key))
    }

    /// The first constraint on `key` (case-insensitive), if any.
    pub fn constrains(&self, key: &str) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.is_key(key))
    }

    /// How tightly `key` is held. Since IAM ANDs every constraint on a key, the strongest one
    /// decides (Pinned > Wildcard > Weak); among equally strong ones the first wins.
    pub fn key_constraint(&self, key: &str) -> KeyConstraint {
        self.strongest(key, false)
    }

    /// [`Condition::key_constraint`] for a key the request always carries (the `sub` and
    /// `aud` claims of an EKS service-account token): `IfExists` reads as the plain operator.
    pub fn key_constraint_when_present(&self, key: &str) -> KeyConstraint {
        self.strongest(key, true)
    }

    fn strongest(&self, key: &str, present: bool) -> KeyConstraint {
        let mut best = KeyConstraint::Unconstrained;
        for constraint in self.constraints_on(key) {
            let this = if present && constraint.operator.if_exists {
                let mut plain = constraint.clone();
                plain.operator.if_exists = false;
                plain.pinning()
            } else {
                constraint.pinning()
            };
            if this.rank() > best.rank() {
                best = this;
            }
        }
        best
    }

    /// Whether `key` is held to concrete values (see [`KeyConstraint::Pinned`]).
    pub fn is_pinned(&self, key: &str) -> bool {
        matches!(self.key_constraint(key), KeyConstraint::Pinned(_))
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let tail = text.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix)
        .then(|| text.get(..cut))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constraint(op: &str, key: &str, values: &[&str]) -> Constraint {
        Constraint {
            operator: Operator::parse(op),
            key: key.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn operator_qualifiers_are_split_off() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists");
        assert_eq!(op.set, Some(SetQualifier::ForAnyValue));
        assert_eq!(op.base, BaseOperator::StringLike);
        assert!(op.if_exists);

        let op = Operator::parse("ForAllValues:StringEquals");
        assert_eq!(op.set, Some(SetQualifier::ForAllValues));
        assert_eq!(op.base, BaseOperator::StringEquals);
        assert!(!op.if_exists);

        let op = Operator::parse("ArnNotLikeIfExists");
        assert_eq!(op.set, None);
        assert_eq!(op.base, BaseOperator::ArnNotLike);
        assert!(op.if_exists);

        for (name, base) in KNOWN {
            assert_eq!(Operator::parse(name).base, base, "{name}");
        }
        assert_eq!(
            Operator::parse("numericlessthanequals").base,
            BaseOperator::NumericLessThanEquals
        );
    }

    #[test]
    fn unknown_operators_are_kept_verbatim() {
        for text in [
            "StringSortOf",
            "ForAnyValue:Fancy",
            "IfExists",
            "",
            "ForAllValues:",
            "é",
        ] {
            assert_eq!(
                Operator::parse(text),
                Operator {
                    set: None,
                    base: BaseOperator::Other(text.to_string()),
                    if_exists: false
                }
            );
        }
    }

    #[test]
    fn pinning_per_operator() {
        let pinned = |v: &[&str]| KeyConstraint::Pinned(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            constraint("StringEquals", "k", &["a"]).pinning(),
            pinned(&["a"])
        );
        assert_eq!(
            constraint("StringEquals", "k", &["*"]).pinning(),
            pinned(&["*"])
        );
        assert_eq!(
            constraint("StringLike", "k", &["a", "b"]).pinning(),
            pinned(&["a", "b"])
        );
        assert_eq!(
            constraint("StringLike", "k", &["a", "b*"]).pinning(),
            KeyConstraint::Wildcard(vec!["a".into(), "b*".into()])
        );
        assert_eq!(
            constraint("ArnEquals", "k", &["arn:aws:iam::1:role/?"]).pinning(),
            KeyConstraint::Wildcard(vec!["arn:aws:iam::1:role/?".into()])
        );
        assert_eq!(
            constraint("ForAnyValue:StringEquals", "k", &["a"]).pinning(),
            pinned(&["a"])
        );
        for op in [
            "StringEqualsIfExists",
            "ForAllValues:StringEquals",
            "StringNotEquals",
            "StringNotLike",
            "Null",
            "Bool",
            "IpAddress",
            "Whatever",
        ] {
            assert_eq!(
                constraint(op, "k", &["a"]).pinning(),
                KeyConstraint::Weak,
                "{op}"
            );
        }
        assert_eq!(
            constraint("StringEquals", "k", &[]).pinning(),
            KeyConstraint::Weak
        );
    }

    #[test]
    fn keys_compare_case_insensitively_and_strongest_wins() {
        let condition = Condition {
            constraints: vec![
                constraint("StringNotEquals", "aws:SourceVpce", &["vpce-1"]),
                constraint("StringLike", "AWS:sourcevpce", &["vpce-*"]),
                constraint("StringEquals", "other", &["x"]),
            ],
        };
        assert_eq!(condition.constraints_on("aws:sourceVPCE").count(), 2);
        assert_eq!(
            condition
                .constrains("AWS:SOURCEVPCE")
                .map(|c| &c.operator.base),
            Some(&BaseOperator::StringNotEquals)
        );
        assert_eq!(
            condition.key_constraint("aws:SourceVpce"),
            KeyConstraint::Wildcard(vec!["vpce-*".into()])
        );
        assert!(condition.is_pinned("OTHER"));
        assert_eq!(
            condition.key_constraint("absent"),
            KeyConstraint::Unconstrained
        );
        assert!(Condition::default().is_empty());
    }
}
