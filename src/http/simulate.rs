//! A simulated AWS in front of a replay (`--replay DIR --simulate FILE`): a latency per
//! call, AWS's token-bucket rate limits answering with each service's real throttling
//! error, and scripted faults per operation, region and account. It is the test bed for
//! what the auditor does when AWS misbehaves and the bench for how fast it can go.
//!
//! The file (TOML):
//!
//! ```toml
//! latency_ms = 40            # every call takes this long
//! published_limits = true    # throttle with AWS's published buckets (the default)
//!
//! [[bucket]]                 # more buckets, or replacements (same service and name)
//! service = "eks"
//! name = "read"
//! operations = ["*"]
//! shared = true
//! burst = 20
//! per_second = 10
//!
//! [[fault]]
//! service = "ecs"            # each matcher optional; `*` globs
//! operation = "DescribeServices"
//! region = "us-east-1"
//! account = "123456789012"
//! kind = "throttle"          # see FaultKind
//! attempts = 2               # the first N attempts of each matching request; all if absent
//! delay_ms = 5000            # `slow`: how long the answer takes
//! ```
//!
//! Faults are decided by the attempt number of each request, not by timing or by a shared
//! counter, so a scripted run answers the same way however the concurrent collector
//! orders its calls.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use crate::http::recording::RequestKey;
use crate::http::throttling::{BucketDef, BucketMap, Limits, TokenBucket};
use crate::{error, sync, toml_file};

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The service's own throttling error (ThrottlingException, RequestLimitExceeded,
    /// Throttling, TooManyRequestsException) with its HTTP status.
    Throttle,
    /// HTTP 500 with the service's internal-error code.
    ServerError,
    /// HTTP 503, service unavailable.
    Unavailable,
    /// The connection is reset before any response.
    Reset,
    /// The response arrives after `delay_ms`.
    Slow,
    /// The service's access-denied error (AccessDenied, AccessDeniedException,
    /// UnauthorizedOperation).
    AccessDenied,
    /// The error of a region the account has not enabled.
    OptIn,
    /// The connection closes before the body is complete.
    Truncated,
    /// HTTP 200 with a body cut in half.
    Malformed,
    /// The simulator itself panics, holding its lock: tests that a bug in the auditor's own
    /// HTTP stack is that call's coverage gap, and does not spread to other calls.
    Panic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    service: Option<String>,
    operation: Option<String>,
    region: Option<String>,
    account: Option<String>,
    kind: FaultKind,
    attempts: Option<u32>,
    delay_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    latency_ms: Option<toml::Spanned<u64>>,
    #[serde(default = "yes")]
    published_limits: bool,
    #[serde(default)]
    bucket: Vec<toml::Spanned<BucketDef>>,
    #[serde(default)]
    fault: Vec<toml::Spanned<RawFault>>,
}

fn yes() -> bool {
    true
}

/// One scripted fault.
#[derive(Debug, Clone)]
pub struct Fault {
    service: Option<String>,
    operation: Option<String>,
    region: Option<String>,
    account: Option<String>,
    pub kind: FaultKind,
    attempts: Option<u32>,
    delay: Duration,
}

impl Fault {
    fn matches(&self, key: &RequestKey, attempt: u32) -> bool {
        let m = |pattern: &Option<String>, value: &str| {
            pattern
                .as_deref()
                .is_none_or(|p| checks::model::glob_match(p, value))
        };
        m(&self.service, &key.service)
            && m(&self.operation, &key.operation)
            && m(&self.region, &key.region)
            && m(&self.account, key.account.as_deref().unwrap_or(""))
            && self.attempts.is_none_or(|n| attempt <= n)
    }
}

/// How the simulator answers one attempt.
#[derive(Debug)]
pub enum Answer {
    /// The recorded response.
    Recorded,
    /// A response of its own.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The recorded response with its body cut in half.
    Malformed,
    /// No response: the connection failed.
    ConnectionFailed(std::io::ErrorKind, &'static str),
}

/// The simulated AWS.
#[derive(Debug)]
pub struct Simulator {
    latency: Duration,
    limits: Limits,
    faults: Vec<Fault>,
    /// AWS's buckets, each with its rate a second.
    buckets: Mutex<BucketMap<(TokenBucket, f64)>>,
}

impl Simulator {
    /// Reads a simulation file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Self, error::AppError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| error::AppError::Config(format!("--simulate {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|(line, col, what)| {
            error::AppError::Config(format!(
                "--simulate {}:{line}:{col}: {what}",
                path.display()
            ))
        })
    }

    /// Parses a simulation file's text; an error carries its 1-based line and column.
    pub fn parse(text: &str) -> Result<Self, (usize, usize, String)> {
        let raw: RawConfig = toml_file::parse_toml(text)?;
        let at = |span: std::ops::Range<usize>| toml_file::line_col(text, span.start);
        let latency_ms = match raw.latency_ms {
            Some(ms) if *ms.get_ref() > 600_000 => {
                let (line, col) = at(ms.span());
                return Err((line, col, "latency_ms is above 600000 (ten minutes)".into()));
            }
            Some(ms) => ms.into_inner(),
            None => 0,
        };
        let mut buckets = Vec::new();
        for b in raw.bucket {
            let (line, col) = at(b.span());
            let b = b.into_inner();
            b.validate().map_err(|e| (line, col, e))?;
            buckets.push(b);
        }
        let mut defs: Vec<BucketDef> = if raw.published_limits {
            Limits::published()
                .defs()
                .iter()
                .filter(|d| {
                    !buckets
                        .iter()
                        .any(|b| b.service == d.service && b.name == d.name)
                })
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        defs.extend(buckets);
        let mut faults = Vec::new();
        for spanned in raw.fault {
            let (line, col) = toml_file::line_col(text, spanned.span().start);
            let f = spanned.into_inner();
            if f.attempts == Some(0) {
                return Err((
                    line,
                    col,
                    "attempts must be at least 1 (leave it out for every attempt)".into(),
                ));
            }
            let delay = match (f.kind, f.delay_ms) {
                (FaultKind::Slow, Some(ms)) if ms <= 3_600_000 => Duration::from_millis(ms),
                (FaultKind::Slow, Some(_)) => {
                    return Err((line, col, "delay_ms is above 3600000 (an hour)".into()))
                }
                (FaultKind::Slow, None) => {
                    return Err((line, col, "a `slow` fault needs delay_ms".into()))
                }
                (_, Some(_)) => {
                    return Err((line, col, "delay_ms is only for `slow` faults".into()))
                }
                (_, None) => Duration::ZERO,
            };
            faults.push(Fault {
                service: f.service,
                operation: f.operation,
                region: f.region,
                account: f.account,
                kind: f.kind,
                attempts: f.attempts,
                delay,
            });
        }
        Ok(Simulator {
            latency: Duration::from_millis(latency_ms),
            limits: Limits::new(defs),
            faults,
            buckets: Mutex::new(BucketMap::default()),
        })
    }

    /// Answers one attempt, taking as long as the simulated call takes.
    pub async fn answer(&self, key: &RequestKey, attempt: u32) -> Answer {
        let arrived = Instant::now();
        let fault = self.faults.iter().find(|f| f.matches(key, attempt));
        let answer = match fault {
            Some(f) => {
                if f.kind == FaultKind::Slow {
                    tokio::time::sleep(f.delay).await;
                }
                if f.kind == FaultKind::Panic {
                    let _poisoned = sync::lock(&self.buckets);
                    panic!("simulated panic (`panic` fault) in {}", key.describe());
                }
                fault_answer(&key.service, f.kind)
            }
            None if self.admit(key, arrived) => Answer::Recorded,
            None => fault_answer(&key.service, FaultKind::Throttle),
        };
        tokio::time::sleep_until(arrived + self.latency).await;
        answer
    }

    /// Takes a token from every bucket the call draws from, or none if one is empty.
    fn admit(&self, key: &RequestKey, now: Instant) -> bool {
        let account = key.account.as_deref().unwrap_or("");
        let mut buckets = sync::lock(&self.buckets);
        let ids: Vec<(String, &BucketDef)> = self
            .limits
            .buckets_for(&key.service, &key.operation)
            .map(|(id, d)| (format!("{account}/{}/{id}", key.region), d))
            .collect();
        for (id, d) in &ids {
            let (b, _) = buckets.entry(
                id,
                || (TokenBucket::new(d.burst, now), d.per_second),
                |(b, per_second)| b.is_full(now, *per_second),
            );
            if !b.until_token(now, d.per_second).is_zero() {
                return false;
            }
        }
        for (id, _) in &ids {
            if let Some((b, _)) = buckets.get_mut(id) {
                b.take();
            }
        }
        true
    }
}

/// The wire protocol of each service the collector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    AwsJson,
    RestJson,
    AwsQuery,
    Ec2Query,
}

fn protocol(service: &str) -> Protocol {
    match service {
        "eks" | "scheduler" => Protocol::RestJson,
        "ec2" => Protocol::Ec2Query,
        "elbv2" | "iam" | "sts" => Protocol::AwsQuery,
        _ => Protocol::AwsJson,
    }
}

/// The status and error code a service answers `kind` with.
fn error_code(service: &str, kind: FaultKind) -> (u16, &'static str, &'static str) {
    let p = protocol(service);
    match kind {
        FaultKind::Throttle => match (service, p) {
            ("ec2", _) => (503, "RequestLimitExceeded", "Request limit exceeded."),
            ("eks", _) | ("organizations", _) => {
                (429, "TooManyRequestsException", "Too Many Requests")
            }
            ("scheduler", _) => (429, "ThrottlingException", "Rate exceeded"),
            (_, Protocol::AwsQuery) => (400, "Throttling", "Rate exceeded"),
            _ => (400, "ThrottlingException", "Rate exceeded"),
        },
        FaultKind::ServerError => match p {
            Protocol::Ec2Query => (500, "InternalError", "An internal error has occurred."),
            Protocol::AwsQuery => (500, "InternalFailure", "An internal error occurred."),
            _ => (500, "ServerException", "An internal error occurred."),
        },
        FaultKind::Unavailable => match p {
            Protocol::Ec2Query => (503, "Unavailable", "The server is overloaded."),
            _ => (503, "ServiceUnavailable", "Service is unavailable."),
        },
        FaultKind::AccessDenied => match p {
            Protocol::Ec2Query => (
                403,
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            ),
            Protocol::AwsQuery => (
                403,
                "AccessDenied",
                "User is not authorized to perform this action.",
            ),
            Protocol::RestJson => (
                403,
                "AccessDeniedException",
                "User is not authorized to perform this action.",
            ),
            Protocol::AwsJson => (
                400,
                "AccessDeniedException",
                "User is not authorized to perform this action.",
            ),
        },
        FaultKind::OptIn => match p {
            Protocol::Ec2Query => (
                401,
                "OptInRequired",
                "You are not subscribed to this service.",
            ),
            Protocol::AwsQuery => (
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            _ => (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        },
        FaultKind::Reset
        | FaultKind::Slow
        | FaultKind::Truncated
        | FaultKind::Malformed
        | FaultKind::Panic => {
            unreachable!("not an error response")
        }
    }
}

fn fault_answer(service: &str, kind: FaultKind) -> Answer {
    match kind {
        FaultKind::Slow | FaultKind::Panic => Answer::Recorded,
        FaultKind::Malformed => Answer::Malformed,
        FaultKind::Reset => Answer::ConnectionFailed(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ),
        FaultKind::Truncated => Answer::ConnectionFailed(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the response body was complete",
        ),
        _ => {
            let (status, code, message) = error_code(service, kind);
            let (headers, body) = error_body(service, code, message);
            Answer::Respond {
                status,
                headers,
                body,
            }
        }
    }
}

/// An error response in the service's own protocol.
fn error_body(service: &str, code: &str, message: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let h = |v: &str| vec![("content-type".to_string(), v.to_string())];
    match protocol(service) {
        Protocol::AwsJson => (
            h("application/x-amz-json-1.1"),
            serde_json::json!({"__type": code, "message": message})
                .to_string()
                .into_bytes(),
        ),
        Protocol::RestJson => {
            let mut headers = h("application/json");
            headers.push(("x-amzn-errortype".into(), code.into()));
            (
                headers,
                serde_json::json!({"message": message}).to_string().into_bytes(),
            )
        }
        Protocol::AwsQuery => (
            h("text/xml"),
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>simulated</RequestId></ErrorResponse>"
            )
            .into_bytes(),
        ),
        Protocol::Ec2Query => (
            h("text/xml;charset=UTF-8"),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>simulated</RequestID></Response>"
            )
            .into_bytes(),
        ),
    }
}

/// The first half of a body: what a reader sees of a response cut short.
pub fn cut_in_half(body: &[u8]) -> Vec<u8> {
    let half = body.len() / 2;
    if half == 0 {
        b"{".to_vec()
    } else {
        body[..half].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(service: &str, operation: &str) -> RequestKey {
        RequestKey {
            account: None,
            service: service.into(),
            region: "us-east-1".into(),
            operation: operation.into(),
            params: serde_json::json!({}),
        }
    }

    #[test]
    fn errors_are_in_each_services_shape_and_recognised_as_throttles() {
        for (service, code) in [
            ("ecs", "ThrottlingException"),
            ("application-autoscaling", "ThrottlingException"),
            ("eks", "TooManyRequestsException"),
            ("ec2", "RequestLimitExceeded"),
            ("elbv2", "Throttling"),
            ("iam", "Throttling"),
            ("organizations", "TooManyRequestsException"),
        ] {
            let Answer::Respond {
                status,
                headers,
                body,
            } = fault_answer(service, FaultKind::Throttle)
            else {
                panic!("a response")
            };
            let text = String::from_utf8(body.clone()).unwrap();
            assert!(
                text.contains(code) || headers.iter().any(|(_, v)| v == code),
                "{service}: {text}"
            );
            assert!(
                crate::http::transport::is_throttle(status, &body) || status == 429,
                "{service}"
            );
        }
    }

    #[test]
    fn faults_match_by_attempt_and_glob() {
        let sim = Simulator::parse(
            "[[fault]]\noperation = \"Describe*\"\nservice = \"ecs\"\nkind = \"reset\"\nattempts = 2\n",
        )
        .unwrap();
        let f = &sim.faults[0];
        assert!(f.matches(&key("ecs", "DescribeServices"), 1));
        assert!(f.matches(&key("ecs", "DescribeServices"), 2));
        assert!(!f.matches(&key("ecs", "DescribeServices"), 3));
        assert!(!f.matches(&key("ecs", "ListServices"), 1));
        assert!(!f.matches(&key("eks", "DescribeCluster"), 1));
    }

    #[test]
    fn bad_files_say_where() {
        let e = Simulator::parse("latency_ms = 10\n[[fault]]\nkind = \"explode\"\n").unwrap_err();
        assert_eq!((e.0, e.1), (3, 8), "{e:?}");
        let e = Simulator::parse("\n[[fault]]\nkind = \"slow\"\n").unwrap_err();
        assert_eq!(e.0, 2, "{e:?}");
        assert!(e.2.contains("delay_ms"));
        let e = Simulator::parse("[[fault]]\nkind = \"reset\"\nattempts = 0\n").unwrap_err();
        assert!(e.2.contains("attempts"));
        let e = Simulator::parse("lateny_ms = 3\n").unwrap_err();
        assert!(e.2.contains("lateny_ms"), "{e:?}");
        let e = Simulator::parse(
            "[[bucket]]\nservice = \"eks\"\nname = \"x\"\noperations = [\"*\"]\nshared = true\nburst = 0\nper_second = 1\n",
        )
        .unwrap_err();
        assert!(e.2.contains("burst"));
    }

    #[tokio::test(start_paused = true)]
    async fn published_buckets_throttle_and_refill() {
        let sim = Simulator::parse("latency_ms = 10\n").unwrap();
        let k = key("elbv2", "DescribeTargetHealth");
        let start = Instant::now();
        let mut refused = 0;
        for _ in 0..41 {
            if let Answer::Respond { .. } = sim.answer(&k, 1).await {
                refused += 1;
            }
        }
        // 40 tokens; the calls took 0.41 s in all, enough for 4 more.
        assert_eq!(refused, 0);
        assert!((start.elapsed().as_secs_f64() - 0.41).abs() < 1e-3);
        // The account-wide ELB bucket is shared with every other operation.
        let other = key("elbv2", "DescribeTags");
        let mut refused = 0;
        for _ in 0..10 {
            if let Answer::Respond { .. } = sim.answer(&other, 1).await {
                refused += 1;
            }
        }
        assert!(refused > 0);
    }
}
