//! JSON text → typed [`Policy`]. Works on `serde_json::Value` so every shape IAM accepts
//! (string-or-list, single-statement object, scalar condition values) is handled in one
//! place with an error that says where the document went wrong. Never panics.

use serde_json::{Map, Value};

use super::condition::{Condition, Constraint, Operator};
use super::{
    Effect, Patterns, Policy, PolicyError, PrincipalClause, PrincipalId, PrincipalKind, Principals,
    Statement,
};

pub(super) fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(PolicyError::new("empty policy document"));
    }
    let decoded;
    let json = if trimmed.starts_with('{') {
        trimmed
    } else {
        // IAM's APIs return documents percent-encoded (RFC 3986); decode once.
        decoded = percent_decode(trimmed)?;
        decoded.trim()
    };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| PolicyError::new(format!("policy is not valid JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(PolicyError::new(format!(
            "policy must be a JSON object, got {}",
            kind(&value)
        )));
    };
    let version = optional_string(&top, "Version", "")?;
    let id = optional_string(&top, "Id", "")?;
    let statements = match top.get("Statement") {
        None => return Err(PolicyError::new("policy has no Statement")),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| statement(item, &format!("Statement[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(single @ Value::Object(_)) => vec![statement(single, "Statement")?],
        Some(other) => {
            return Err(PolicyError::new(format!(
                "Statement must be an object or a list of objects, got {}",
                kind(other)
            )))
        }
    };
    Ok(Policy {
        version,
        id,
        statements,
    })
}

fn statement(value: &Value, path: &str) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return Err(PolicyError::new(format!(
            "{path} must be an object, got {}",
            kind(value)
        )));
    };
    let sid = optional_string(map, "Sid", path)?;
    let effect = match map.get("Effect") {
        None => return Err(PolicyError::new(format!("{path} has no Effect"))),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(PolicyError::new(format!(
                "{path}.Effect must be \"Allow\" or \"Deny\", got {s:?}"
            )))
        }
        Some(other) => {
            return Err(PolicyError::new(format!(
                "{path}.Effect must be a string, got {}",
                kind(other)
            )))
        }
    };
    let action = patterns(map, "Action", "NotAction", path)?;
    let resource = patterns(map, "Resource", "NotResource", path)?;
    let principal = match (map.get("Principal"), map.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::new(format!(
                "{path} has both Principal and NotPrincipal"
            )))
        }
        (Some(v), None) => PrincipalClause::Include(principals(v, &format!("{path}.Principal"))?),
        (None, Some(v)) => {
            PrincipalClause::Exclude(principals(v, &format!("{path}.NotPrincipal"))?)
        }
        (None, None) => PrincipalClause::Absent,
    };
    let condition = match map.get("Condition") {
        None => Condition::default(),
        Some(v) => condition(v, &format!("{path}.Condition"))?,
    };
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        principal,
        condition,
    })
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: at most one of the pair.
fn patterns(
    map: &Map<String, Value>,
    include: &str,
    exclude: &str,
    path: &str,
) -> Result<Patterns, PolicyError> {
    match (map.get(include), map.get(exclude)) {
        (Some(_), Some(_)) => Err(PolicyError::new(format!(
            "{path} has both {include} and {exclude}"
        ))),
        (Some(v), None) => Ok(Patterns::Include(string_or_list(
            v,
            &format!("{path}.{include}"),
        )?)),
        (None, Some(v)) => Ok(Patterns::Exclude(string_or_list(
            v,
            &format!("{path}.{exclude}"),
        )?)),
        (None, None) => Ok(Patterns::Absent),
    }
}

fn principals(value: &Value, path: &str) -> Result<Principals, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Anyone),
        Value::String(s) => Err(PolicyError::new(format!(
            "{path} must be \"*\" or an object such as {{\"AWS\": ...}}, got the string {s:?}"
        ))),
        Value::Object(map) => {
            let mut ids = Vec::new();
            for (key, v) in map {
                let kind = PrincipalKind::from_key(key);
                for value in string_or_list(v, &format!("{path}.{key}"))? {
                    ids.push(PrincipalId {
                        kind: kind.clone(),
                        value,
                    });
                }
            }
            Ok(Principals::Listed(ids))
        }
        other => Err(PolicyError::new(format!(
            "{path} must be \"*\" or an object, got {}",
            kind(other)
        ))),
    }
}

fn condition(value: &Value, path: &str) -> Result<Condition, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(PolicyError::new(format!(
            "{path} must be an object, got {}",
            kind(value)
        )));
    };
    let mut constraints = Vec::new();
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return Err(PolicyError::new(format!(
                "{path}.{operator} must be an object of condition keys, got {}",
                kind(keys)
            )));
        };
        let parsed = Operator::parse(operator);
        for (key, values) in keys {
            constraints.push(Constraint {
                operator: parsed.clone(),
                key: key.clone(),
                values: condition_values(values, &format!("{path}.{operator}.{key}"))?,
            });
        }
    }
    Ok(Condition { constraints })
}

/// A condition value: string, bool or number, or a list of them; scalars become strings.
fn condition_values(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| condition_scalar(item, &format!("{path}[{i}]")))
            .collect(),
        other => Ok(vec![condition_scalar(other, path)?]),
    }
}

fn condition_scalar(value: &Value, path: &str) -> Result<String, PolicyError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(PolicyError::new(format!(
            "{path} must be a string, boolean or number, got {}",
            kind(other)
        ))),
    }
}

fn string_or_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError::new(format!(
                    "{path}[{i}] must be a string, got {}",
                    kind(other)
                ))),
            })
            .collect(),
        other => Err(PolicyError::new(format!(
            "{path} must be a string or a list of strings, got {}",
            kind(other)
        ))),
    }
}

fn optional_string(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, PolicyError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            let at = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            Err(PolicyError::new(format!(
                "{at} must be a string, got {}",
                kind(other)
            )))
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Decodes `%XX` escapes. A `%` not followed by two hex digits is kept as is (the JSON parse
/// that follows reports the real problem). `+` is not a space: IAM encodes per RFC 3986.
fn percent_decode(text: &str) -> Result<String, PolicyError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|h| hex(*h));
            let lo = bytes.get(i + 2).and_then(|l| hex(*l));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| PolicyError::new("URL-decoded policy document is not valid UTF-8"))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("%7B%22a%22%3A1%7D").ok().as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(percent_decode("100%").ok().as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").ok().as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("a+b").ok().as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%C3%A9").ok().as_deref(), Some("é"));
        assert!(percent_decode("%FF").is_err());
    }
}
