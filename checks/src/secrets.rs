//! Recognising secrets in plain configuration: one detector for the check that reports them
//! (ECS003) and the recorder that keeps them out of recordings.
//!
//! An environment entry is a secret when its value carries a known credential format (AWS
//! access key ids, private keys, common token prefixes), when the value is a long
//! high-entropy token, or when its name announces a secret (`DB_PASSWORD`, `API_TOKEN`) and
//! the value is not a reference or a setting (`SECRET_ARN=arn:…`, `TOKEN_TTL=3600`,
//! `PASSWORD_ENABLED=true`).
//!
//! The recorder replaces a secret value with a marker naming why it was a secret
//! (`***REDACTED:aws-access-key-id***`) and [`classify_env`] reads the marker back, so an
//! audit of a recording reports exactly what the live audit reported, without the value.

use std::sync::LazyLock;

use regex::Regex;

/// Replaces a redacted value when the reason is not known (request fields, text bodies).
/// No markup characters: it lands inside XML text as well as JSON strings.
pub const REDACTED: &str = "***REDACTED***";

/// Why a value was judged a secret. Never carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretKind {
    /// The variable's name announces a secret.
    Name,
    AwsAccessKeyId,
    PrivateKey,
    /// A token with a vendor prefix (GitHub, GitLab, Slack, Stripe, npm…).
    Token,
    /// A long random-looking token.
    HighEntropy,
}

impl SecretKind {
    const ALL: [SecretKind; 5] = [
        SecretKind::Name,
        SecretKind::AwsAccessKeyId,
        SecretKind::PrivateKey,
        SecretKind::Token,
        SecretKind::HighEntropy,
    ];

    /// The marker's tag.
    pub fn tag(self) -> &'static str {
        match self {
            SecretKind::Name => "name",
            SecretKind::AwsAccessKeyId => "aws-access-key-id",
            SecretKind::PrivateKey => "private-key",
            SecretKind::Token => "token",
            SecretKind::HighEntropy => "high-entropy",
        }
    }

    /// Why the entry is a secret, for a finding's message.
    pub fn reason(self) -> &'static str {
        match self {
            SecretKind::Name => "its name says it holds a secret",
            SecretKind::AwsAccessKeyId => "its value is an AWS access key id",
            SecretKind::PrivateKey => "its value is a private key",
            SecretKind::Token => "its value is an API token",
            SecretKind::HighEntropy => "its value is a long random token",
        }
    }

    /// The value a recording stores in place of the secret.
    pub fn marker(self) -> String {
        format!("***REDACTED:{}***", self.tag())
    }

    fn from_marker(value: &str) -> Option<SecretKind> {
        let tag = value.strip_prefix("***REDACTED:")?.strip_suffix("***")?;
        SecretKind::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

static AWS_KEY_ID: LazyLock<Regex> = LazyLock::new(
    || // No word boundaries: a key id glued to other text (`key=AKIA…`, `…AKIA…%2F`) is still one.
    Regex::new(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}").expect("valid"),
);
static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)")
        .expect("valid")
});
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_\-]{20,}",
        r"|xox[abpors]-[A-Za-z0-9\-]{10,}|sk_live_[A-Za-z0-9]{16,}|rk_live_[A-Za-z0-9]{16,}",
        r"|sk-[A-Za-z0-9_\-]{32,}|npm_[A-Za-z0-9]{36}|AIza[0-9A-Za-z_\-]{35}",
        r"|SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})"
    ))
    .expect("valid")
});

/// The credential formats that are secrets wherever they appear, for redacting free text.
pub fn value_patterns() -> [&'static Regex; 3] {
    [&AWS_KEY_ID, &PRIVATE_KEY, &TOKEN]
}

/// Words that make a variable name announce a secret.
const SECRET_WORDS: [&str; 10] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Name endings of settings *about* a secret rather than the secret itself.
const SETTING_SUFFIXES: [&str; 21] = [
    "_ARN",
    "_ID",
    "_IDS",
    "_NAME",
    "_PATH",
    "_FILE",
    "_DIR",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_TTL",
    "_LENGTH",
    "_EXPIRY",
    "_TIMEOUT",
    "_ENABLED",
    "_REGION",
    "_HEADER",
    "_TYPE",
    "_VERSION",
    "_SOURCE",
];

/// True for names that announce a secret (`DB_PASSWORD`, `githubToken`), and not a
/// setting about one (`SECRET_ARN`, `TOKEN_TTL`).
pub fn secret_name(name: &str) -> bool {
    let n = camel_to_snake(name);
    SECRET_WORDS.iter().any(|w| n.contains(w)) && !SETTING_SUFFIXES.iter().any(|s| n.ends_with(s))
}

/// `githubToken` → `GITHUB_TOKEN`, `DB-PASSWORD` → `DB_PASSWORD`.
fn camel_to_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        out.push(if ch == '-' || ch == '.' {
            '_'
        } else {
            ch.to_ascii_uppercase()
        });
    }
    out
}

/// Values that are references or settings, never the secret: empty, booleans, ARNs,
/// `ssm:`/`secretsmanager:` references, file paths, and the redaction placeholder.
fn is_reference_or_setting(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || ["true", "false", "yes", "no", "on", "off", "none", "null"]
            .iter()
            .any(|b| v.eq_ignore_ascii_case(b))
        || v.starts_with("arn:")
        || v.starts_with('/')
        || v.starts_with("file://")
        || v == REDACTED
}

/// Shannon entropy of the value's characters, in bits per character.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 128];
    let mut n = 0u32;
    for b in value.bytes().filter(u8::is_ascii) {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

static TOKEN_CHARSET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9+/=_\-]{24,}$").expect("valid"));

/// A long token of mixed letters and digits whose characters are spread the way random
/// bytes are (hex digests and UUIDs stay under the bar: 16 symbols give at most 4 bits).
fn high_entropy(value: &str) -> bool {
    if !TOKEN_CHARSET.is_match(value) {
        return false;
    }
    let classes = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() == 3 && entropy(value) >= 4.3
}

/// Why a value is a secret whatever its name: a known format, a redaction marker
/// recorded with its reason, or a long random token.
pub fn value_kind(value: &str) -> Option<SecretKind> {
    if let Some(kind) = SecretKind::from_marker(value) {
        return Some(kind);
    }
    if AWS_KEY_ID.is_match(value) {
        Some(SecretKind::AwsAccessKeyId)
    } else if PRIVATE_KEY.is_match(value) {
        Some(SecretKind::PrivateKey)
    } else if TOKEN.is_match(value) {
        Some(SecretKind::Token)
    } else if high_entropy(value) {
        Some(SecretKind::HighEntropy)
    } else {
        None
    }
}

/// Whether the environment entry `name=value` holds a secret, and why.
pub fn classify_env(name: &str, value: &str) -> Option<SecretKind> {
    if let Some(kind) = SecretKind::from_marker(value) {
        return Some(kind);
    }
    if let Some(kind) = value_kind(value) {
        return Some(kind);
    }
    (secret_name(name) && !is_reference_or_setting(value)).then_some(SecretKind::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_announce_secrets_but_settings_about_them_do_not() {
        for name in [
            "DB_PASSWORD",
            "API_KEY",
            "githubToken",
            "stripe-secret",
            "AWS_SECRET_ACCESS_KEY",
            "passphrase",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "SECRET_ARN",
            "TOKEN_TTL",
            "PASSWORD_MIN_LENGTH",
            "DB_SECRET_NAME",
            "TOKEN_URL",
            "PORT",
            "LOG_LEVEL",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn classifies_entries() {
        use SecretKind::*;
        let cases = [
            ("DB_PASSWORD", "hunter2", Some(Name)),
            ("DB_PASSWORD", "", None),
            ("DB_PASSWORD", "true", None),
            (
                "API_TOKEN",
                "arn:aws:secretsmanager:us-east-1:1:secret:x",
                None,
            ),
            ("CONFIG", "AKIAIOSFODNN7EXAMPLE", Some(AwsAccessKeyId)),
            ("DB_PASSWORD", "AKIAIOSFODNN7EXAMPLE", Some(AwsAccessKeyId)),
            ("NOTIFY", "xoxb-123456789012-abcdefghijkl", Some(Token)),
            ("X", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", Some(Token)),
            (
                "SIGNING",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                Some(HighEntropy),
            ),
            ("GIT_SHA", "3f786850e387550fdab836ed7e6dc881de23001b", None),
            ("REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000", None),
            (
                "MAIN_CLASS",
                "com.example.payments.PaymentServiceApplication",
                None,
            ),
            (
                "JAVA_OPTS",
                "-Xmx512m -XX:+UseG1GC -Dspring.profiles.active=prod",
                None,
            ),
            (
                "IMAGE",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2.3",
                None,
            ),
            (
                "ANYTHING",
                "***REDACTED:aws-access-key-id***",
                Some(AwsAccessKeyId),
            ),
            ("DB_PASSWORD", "***REDACTED:name***", Some(Name)),
            ("DB_PASSWORD", REDACTED, None),
        ];
        for (name, value, want) in cases {
            assert_eq!(classify_env(name, value), want, "{name}={value}");
        }
    }

    #[test]
    fn markers_round_trip_every_kind() {
        for kind in SecretKind::ALL {
            assert_eq!(classify_env("ANY", &kind.marker()), Some(kind));
            assert!(!kind.marker().contains(['<', '>', '&', '"']));
        }
    }
}
