//! Recognising secrets in plain configuration: one detector for the check that reports them
//! (ECS003) and the recorder that keeps them out of recordings.
//!
//! An environment entry is a secret when its value carries a known credential format (AWS
//! access key ids, private keys, common token prefixes), when the value is a long
//! high-entropy token, or when its name announces a secret (`DB_PASSWORD`, `API_TOKEN`) and
//! the value is not a reference or a setting (`SECRET_ARN=arn:…`, `TOKEN_TTL=3600`,
//! `PASSWORD_ENABLED=true`).
//!
//! Free-form values are never kept: the collector keeps only the verdict (which kind of
//! secret, or none), and the recorder stores a marker in place of *every* such value, secret
//! or not: `***REDACTED:aws-access-key-id***` for a secret, [`CLEAR`] for a value judged
//! clear. [`classify_env`] and [`classify_args`] read the markers back, so an audit of a
//! recording reports exactly what the live audit reported, without any value.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Replaces a redacted value when the reason is not known (request fields, text bodies).
/// No markup characters: it lands inside XML text as well as JSON strings.
pub const REDACTED: &str = "***REDACTED***";

/// Stored in place of a free-form value the detector judged not to be a secret: the value
/// is gone either way, the verdict stays.
pub const CLEAR: &str = "***REDACTED:clear***";

/// Why a value was judged a secret. Never carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// The variable's name announces a secret.
    Name,
    AwsAccessKeyId,
    PrivateKey,
    /// A token with a vendor prefix (GitHub, GitLab, Slack, Stripe, npm…).
    Token,
    /// A signed or encrypted bearer token in a dotted format: a JSON Web Token (JWS or JWE),
    /// a PASETO token.
    BearerToken,
    /// A long random-looking token.
    HighEntropy,
}

impl SecretKind {
    pub const ALL: [SecretKind; 6] = [
        SecretKind::Name,
        SecretKind::AwsAccessKeyId,
        SecretKind::PrivateKey,
        SecretKind::Token,
        SecretKind::BearerToken,
        SecretKind::HighEntropy,
    ];

    /// The marker's tag.
    pub fn tag(self) -> &'static str {
        match self {
            SecretKind::Name => "name",
            SecretKind::AwsAccessKeyId => "aws-access-key-id",
            SecretKind::PrivateKey => "private-key",
            SecretKind::Token => "token",
            SecretKind::BearerToken => "bearer-token",
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
            SecretKind::BearerToken => "its value is a bearer token (JWT or PASETO)",
            SecretKind::HighEntropy => "its value is a long random token",
        }
    }

    /// The value a recording stores in place of the secret.
    pub fn marker(self) -> String {
        format!("***REDACTED:{}***", self.tag())
    }

    fn from_marker(value: &str) -> Option<SecretKind> {
        marker_verdict(value).flatten()
    }
}

/// The verdict a recorded marker stands for: `Some(Some(kind))` for a secret's marker,
/// `Some(None)` for [`CLEAR`], `None` when `value` is not a marker.
pub fn marker_verdict(value: &str) -> Option<Option<SecretKind>> {
    if value == CLEAR {
        return Some(None);
    }
    let tag = value.strip_prefix("***REDACTED:")?.strip_suffix("***")?;
    SecretKind::ALL
        .into_iter()
        .find(|k| k.tag() == tag)
        .map(Some)
}

/// The marker a recording stores in place of a free-form value with this verdict.
pub fn verdict_marker(verdict: Option<SecretKind>) -> String {
    verdict.map_or_else(|| CLEAR.to_string(), SecretKind::marker)
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
/// Dotted bearer tokens. A JWS is three base64url segments, a JWE five, and both start with
/// a JOSE header, which is a JSON object: base64url of `{"` is `eyJ`. The segments after
/// the header are required to be long enough that no hostname (`eyJ.example.com`) or
/// version string matches; an unsecured JWT (`alg: none`) has an empty last segment.
/// PASETO tokens announce themselves (`v4.public.…`).
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        r"(?:\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)?",
        r"|\bv[1-4]\.(?:local|public)\.[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)?"
    ))
    .expect("valid")
});

/// The credential formats that are secrets wherever they appear, for redacting free text.
pub fn value_patterns() -> [&'static Regex; 4] {
    [&AWS_KEY_ID, &PRIVATE_KEY, &TOKEN, &BEARER]
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
    } else if BEARER.is_match(value) {
        Some(SecretKind::BearerToken)
    } else if high_entropy(value) {
        Some(SecretKind::HighEntropy)
    } else {
        None
    }
}

/// Whether the environment entry `name=value` holds a secret, and why.
pub fn classify_env(name: &str, value: &str) -> Option<SecretKind> {
    if let Some(verdict) = marker_verdict(value) {
        return verdict;
    }
    if let Some(kind) = value_kind(value) {
        return Some(kind);
    }
    (secret_name(name) && !is_reference_or_setting(value)).then_some(SecretKind::Name)
}

/// A secret passed on a container's command line (`command` or `entryPoint`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgSecret {
    /// Position of the argument holding the value, from 1.
    pub position: usize,
    /// The option that names it (`--db-password`, `DB_PASSWORD`): the `NAME` of a
    /// `NAME=VALUE` token, or the option name just before the value.
    pub option: Option<String>,
    pub kind: SecretKind,
}

static OPTION_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^-{1,2}[A-Za-z][A-Za-z0-9_.\-]*$").expect("valid"));
static ASSIGNMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(-{0,2}[A-Za-z_][A-Za-z0-9_.\-]*)=(.*)$").expect("valid"));

/// An option name on its own (`--password`, `-p`): a name, kept in recordings like the name
/// of an environment variable.
fn is_option_name(arg: &str) -> bool {
    // `-AKIA…` has an option's shape but a secret's value.
    OPTION_NAME.is_match(arg) && value_kind(arg).is_none()
}

/// The recorded form of one whitespace-free token, given the token before it: an option
/// name or a marker as it is, `NAME=VALUE` as `NAME=<marker>`, anything else as its marker.
fn token_for_recording(token: &str, before: Option<&str>) -> String {
    if is_option_name(token) || marker_verdict(token).is_some() {
        return token.to_string();
    }
    if let Some(caps) = ASSIGNMENT.captures(token) {
        return format!("{}={}", &caps[1], env_for_recording(&caps[1], &caps[2]));
    }
    let verdict = match before.filter(|b| is_option_name(b)) {
        Some(option) => classify_env(option.trim_start_matches('-'), token),
        None => value_kind(token),
    };
    verdict_marker(verdict)
}

/// What a recording stores in place of a container's `command` or `entryPoint` arguments:
/// option names (`--password`) as they are, the value of `NAME=VALUE` replaced by its
/// verdict's marker, and every other value replaced by its verdict's marker, token by token
/// inside a shell command string (`sh -c "…"`). A value in a known format that spans
/// tokens (a private key) is replaced whole. No argument value survives; applying it twice
/// changes nothing, so [`classify_args`] judges a recording as it judged the live account.
pub fn args_for_recording(args: &[String]) -> Vec<String> {
    args.iter()
        .enumerate()
        .map(|(i, arg)| {
            let before = i.checked_sub(1).map(|j| args[j].as_str());
            if !arg.contains(char::is_whitespace) {
                return token_for_recording(arg, before);
            }
            if let Some(kind) = value_kind(arg) {
                return kind.marker();
            }
            let tokens: Vec<&str> = arg
                .split_whitespace()
                .map(|t| t.trim_matches(['"', '\'']))
                .filter(|t| !t.is_empty())
                .collect();
            if tokens.is_empty() {
                return CLEAR.to_string();
            }
            tokens
                .iter()
                .enumerate()
                .map(|(j, t)| token_for_recording(t, j.checked_sub(1).map(|k| tokens[k])))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The secrets in a container's `command` or `entryPoint` arguments: `--db-password=…`,
/// `--token …`, `DB_PASSWORD=…`, or a credential-shaped value anywhere, also inside a shell
/// command string. Judged on the recorded form ([`args_for_recording`]), so a live audit and
/// the audit of its recording report the same positions and option names.
pub fn classify_args(args: &[String]) -> Vec<ArgSecret> {
    let recorded = args_for_recording(args);
    let mut found = Vec::new();
    for (i, arg) in recorded.iter().enumerate() {
        let tokens: Vec<&str> = arg.split(' ').collect();
        for (j, token) in tokens.iter().enumerate() {
            let before = if j > 0 {
                Some(tokens[j - 1])
            } else if tokens.len() == 1 && i > 0 {
                Some(recorded[i - 1].as_str())
            } else {
                None
            };
            let (option, value) = match ASSIGNMENT.captures(token) {
                Some(c) => (
                    Some(c.get(1).map_or("", |m| m.as_str())),
                    c.get(2).map_or("", |m| m.as_str()),
                ),
                None => (before.filter(|b| is_option_name(b)), *token),
            };
            if let Some(Some(kind)) = marker_verdict(value) {
                found.push(ArgSecret {
                    position: i + 1,
                    option: option.map(str::to_string),
                    kind,
                });
            }
        }
    }
    found
}

/// What a recording stores in place of the value of `name=value` (an environment variable,
/// a docker label): the verdict's marker.
pub fn env_for_recording(name: &str, value: &str) -> String {
    verdict_marker(classify_env(name, value))
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

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn dotted_bearer_tokens_are_secrets_and_dotted_names_are_not() {
        use SecretKind::*;
        for (name, value, want) in [
            ("SESSION", JWT, Some(BearerToken)),
            ("AUTH_HEADER", &format!("Bearer {JWT}")[..], Some(BearerToken)),
            // Unsecured JWT (alg none): empty signature.
            ("X", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", Some(BearerToken)),
            // JWE: five segments.
            (
                "X",
                "eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZ.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ",
                Some(BearerToken),
            ),
            ("X", "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIn0", Some(BearerToken)),
            ("DB_HOST", "orders-db.cluster-c9akciq32.eu-west-1.rds.amazonaws.com", None),
            ("API_HOST", "eyJ.example.com", None),
            ("VERSION", "1.27.3-eks.20240102", None),
            ("APP_VERSION", "v2.14.0", None),
            ("CONFIG_URL", "https://config.internal.example/v1/app.json", None),
        ] {
            assert_eq!(classify_env(name, value), want, "{name}={value}");
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn command_line_secrets_are_found_with_their_option() {
        use SecretKind::*;
        let found = classify_args(&args(&[
            "java",
            "-jar",
            "app.jar",
            "--db-password=hunter2-prod",
            "--token",
            JWT,
            "--port",
            "8080",
            "AKIAIOSFODNN7EXAMPLE",
        ]));
        let got: Vec<(usize, Option<&str>, SecretKind)> = found
            .iter()
            .map(|a| (a.position, a.option.as_deref(), a.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                (4, Some("--db-password"), Name),
                (6, Some("--token"), BearerToken),
                (9, None, AwsAccessKeyId),
            ]
        );
        let shell = classify_args(&args(&[
            "sh",
            "-c",
            "exec java -jar app.jar --db-password='hunter2-prod' --log-level info",
        ]));
        assert_eq!(shell.len(), 1, "{shell:?}");
        assert_eq!(
            (shell[0].position, shell[0].option.as_deref(), shell[0].kind),
            (3, Some("--db-password"), Name)
        );
        assert!(classify_args(&args(&["nginx", "-g", "daemon off;", "--port", "80"])).is_empty());
    }

    #[test]
    fn recorded_arguments_keep_no_value_and_judge_the_same() {
        let live = args(&[
            "sh",
            "-c",
            "exec app --db-password='hunter2-prod' --name orders",
            "--api-key",
            "s3cr3t-value-here",
            "SECRET_KEY=abc123def456",
            "-AKIAIOSFODNN7EXAMPLE",
            JWT,
            "plain",
        ]);
        let recorded = args_for_recording(&live);
        let text = recorded.join(" ");
        for value in [
            "hunter2", "orders", "s3cr3t", "abc123", "AKIA", "eyJ", "plain", "exec",
        ] {
            assert!(!text.contains(value), "{value} kept in {text}");
        }
        assert_eq!(args_for_recording(&recorded), recorded, "idempotent");
        assert_eq!(classify_args(&recorded), classify_args(&live));
        assert_eq!(recorded[3], "--api-key");
        assert_eq!(recorded[5], "SECRET_KEY=***REDACTED:name***");
        assert_eq!(recorded[8], CLEAR);
    }

    #[test]
    fn clear_marker_reads_back_as_no_secret() {
        assert_eq!(classify_env("DB_PASSWORD", CLEAR), None);
        assert_eq!(marker_verdict(CLEAR), Some(None));
        assert_eq!(env_for_recording("LOG_LEVEL", "debug"), CLEAR);
        assert_eq!(
            env_for_recording("DB_PASSWORD", "x1"),
            "***REDACTED:name***"
        );
    }
}
