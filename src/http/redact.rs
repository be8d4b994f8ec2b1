//! What a recording keeps of a response body: everything the checks read, minus request ids
//! and every value that may be a secret. Named secret fields and elements are removed; free-
//! form values (container environment, command lines, labels, event inputs) are replaced by
//! the secret detector's verdict, so a replay judges exactly what the live run judged.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use checks::secrets::{args_for_recording, classify_env, env_for_recording, value_patterns};

use checks::secrets::REDACTED;

/// Element and field names whose values are secrets or per-request noise.
const SECRET_FIELDS: [&str; 6] = [
    "SecretAccessKey",
    "SessionToken",
    "secretAccessKey",
    "sessionToken",
    "Password",
    "password",
];

/// XML tag pairs (`<Key>…</Key><Value>…</Value>` in ELBv2, IAM and STS; lowercase in EC2).
static XML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<(Key|key)>([^<]*)</(?:Key|key)>(\s*)<(Value|value)>([^<]*)</(?:Value|value)>")
        .expect("valid")
});

static REQUEST_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<(RequestId|requestId|RequestID)>.*?</(RequestId|requestId|RequestID)>")
        .expect("valid")
});

/// Each secret XML element with its pattern, compiled once (every recorded body is scanned).
static SECRET_ELEMENTS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    SECRET_FIELDS
        .iter()
        .map(|f| {
            (
                *f,
                Regex::new(&format!(r"(?s)<{f}>.*?</{f}>")).expect("valid"),
            )
        })
        .collect()
});

pub(super) fn redact_text(text: &str) -> String {
    let mut out = REQUEST_ID.replace_all(text, "").into_owned();
    for (field, re) in SECRET_ELEMENTS.iter() {
        out = re
            .replace_all(&out, format!("<{field}>{REDACTED}</{field}>").as_str())
            .into_owned();
    }
    // Tags are kept (suppressions and checks read them), each value judged like an
    // environment variable of the same name.
    out = XML_TAG
        .replace_all(&out, |c: &regex::Captures<'_>| {
            let value = match classify_env(&c[2], &c[5]) {
                Some(kind) => kind.marker(),
                None => c[5].to_string(),
            };
            format!(
                "<{k}>{}</{k}>{}<{v}>{value}</{v}>",
                &c[2],
                &c[3],
                k = &c[1],
                v = &c[4]
            )
        })
        .into_owned();
    for p in value_patterns() {
        out = p.replace_all(&out, REDACTED).into_owned();
    }
    out
}

/// A tag or option value the checks or suppressions read: kept unless it is a secret.
fn judged_value(name: &str, value: &mut Value) {
    if let Value::String(text) = value {
        if let Some(kind) = classify_env(name, text) {
            *text = kind.marker();
        }
    }
}

/// Fields that carry free-form user values into a response. The rule is by construction,
/// not by pattern: a value no check reads is never stored, only the secret detector's
/// verdict in its place (`***REDACTED:<kind>***` or `***REDACTED:clear***`), and a value a
/// check or suppression reads (tags, log options) is stored only when judged clear.
pub(super) fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                redact_field(k, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) if value_patterns().iter().any(|p| p.is_match(s)) => {
            *s = redact_text(s);
        }
        _ => {}
    }
}

fn redact_field(key: &str, child: &mut Value) {
    match (key, &mut *child) {
        (k, Value::String(_)) if SECRET_FIELDS.contains(&k) => {
            *child = Value::String(REDACTED.into());
        }
        // ECS container definitions and container overrides: every value goes.
        ("environment", Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(entry) = item {
                    let name = entry
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    if let Some(Value::String(value)) = entry.get_mut("value") {
                        *value = env_for_recording(&name, value);
                    }
                }
                redact_json(item);
            }
        }
        // Container `command` / `entryPoint` and health-check commands.
        ("command" | "entryPoint", Value::Array(items)) => {
            let args: Vec<String> = items
                .iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                .collect();
            *items = args_for_recording(&args)
                .into_iter()
                .map(Value::String)
                .collect();
        }
        ("dockerLabels", Value::Object(labels)) => {
            for (name, value) in labels.iter_mut() {
                *value = Value::String(env_for_recording(name, value.as_str().unwrap_or_default()));
            }
        }
        // EventBridge targets and Scheduler targets: the payload handed to the target.
        ("Input" | "InputTemplate", Value::String(text)) => {
            *text = free_form_for_recording(text);
        }
        // ECS tags `[{key, value}]`; EKS tags and log/FireLens options `{name: value}`.
        ("tags" | "Tags", Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(tag) = item {
                    let name = tag
                        .get("key")
                        .or_else(|| tag.get("Key"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    for field in ["value", "Value"] {
                        if let Some(value) = tag.get_mut(field) {
                            judged_value(&name, value);
                        }
                    }
                }
            }
        }
        ("tags" | "Tags" | "options" | "labels", Value::Object(entries)) => {
            for (name, value) in entries.iter_mut() {
                judged_value(name, value);
            }
        }
        _ => redact_json(child),
    }
}

/// A payload of unknown shape (an EventBridge `Input`, an input template): when it is JSON,
/// its keys and structure are kept and every leaf is replaced by its verdict (container
/// overrides keep their environment names and option names, as in a task definition);
/// otherwise the whole text is replaced by its verdict.
fn free_form_for_recording(text: &str) -> String {
    fn leaves(name: &str, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    match (k.as_str(), &mut *child) {
                        ("environment" | "command" | "entryPoint", Value::Array(_)) => {
                            redact_field(k, child)
                        }
                        // Container names in overrides: identifiers, not values.
                        ("name", Value::String(_)) if name == "containerOverrides" => {}
                        _ => leaves(k, child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| leaves(name, i)),
            Value::String(s) => *s = env_for_recording(name, s),
            Value::Number(n) => *v = Value::String(env_for_recording(name, &n.to_string())),
            Value::Bool(_) | Value::Null => {}
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) if v.is_object() || v.is_array() => {
            leaves("", &mut v);
            v.to_string()
        }
        _ => env_for_recording("Input", text),
    }
}
