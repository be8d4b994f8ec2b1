//! The HTTP layer under every SDK client: live, recording or replaying.
//!
//! Every service client gets a [`Transport`] bound to its service and region. An interceptor
//! ([`OpTagger`]) stamps each outgoing attempt with the operation name and attempt number,
//! so this layer can count calls, retries and throttles per operation whatever the mode, and
//! key recorded exchanges by (service, region, operation, parameters). Requests are signed
//! before they get here; the key never includes headers, so credentials, signatures and
//! dates never reach a recording.

use std::fmt;
use std::sync::Arc;

use tokio::sync::Semaphore;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;

use crate::http;
use crate::http::recording::{Exchange, RequestKey};
use crate::http::simulate::Answer;
use crate::http::slots::{Rank, Slots};
use crate::http::stats::Stats;
use crate::http::throttling::Pacer;

/// Where responses come from.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Real HTTP.
    Live,
    /// Real HTTP, every exchange also written to a recording.
    Record(Arc<http::record::Recorder>),
    /// No network: answers come from a recording.
    Replay(Arc<http::replay::Replayer>),
}

/// What the interceptor tells the transport about an attempt.
#[derive(Clone, Debug)]
struct AttemptInfo {
    operation: String,
    attempt: u32,
}

/// Stamps each attempt with its operation name and attempt number.
#[derive(Debug)]
pub struct OpTagger;

impl Intercept for OpTagger {
    fn name(&self) -> &'static str {
        "awsaudit-op-tagger"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        context
            .request_mut()
            .add_extension(AttemptInfo { operation, attempt });
        Ok(())
    }
}

/// What every attempt of a run passes before it is sent: the pacer, then its account's
/// limit, then the run-wide limit. Limits are taken per attempt, after pacing, so a call
/// waiting for its bucket to refill, or backing off before a retry, holds no slot another
/// call could use.
#[derive(Debug)]
pub struct Gate {
    /// Most attempts in flight at once, across the run; a freed slot goes to the account
    /// of the lowest rank waiting for one.
    pub global: Slots,
    /// Paces calls under AWS's buckets; `None` for a plain replay, which has no limits.
    pub pacer: Option<Pacer>,
    /// How long one attempt may take once it is sent (`--call-timeout`).
    pub call_timeout: std::time::Duration,
}

/// Retries a 2xx response whose body could not be read (cut short by a proxy, corrupted
/// on the way). The SDK retries an unreadable body for some protocols and not others;
/// this makes every service the collector calls treat it as the transient fault it is.
#[derive(Debug)]
pub struct UnreadableBody;

impl ClassifyRetry for UnreadableBody {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let success = ctx.response().is_some_and(|r| r.status().is_success());
        match ctx.output_or_error() {
            Some(Err(e))
                if success
                    && !e.is_operation_error()
                    && !e.is_interceptor_error()
                    && !e.is_timeout_error()
                    && !e.is_connector_error() =>
            {
                RetryAction::transient_error()
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "awsaudit-unreadable-body"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The HTTP client of one (service, region) client.
#[derive(Clone)]
pub struct Transport {
    /// The member account a fleet run reaches through a role; `None` for the caller's own.
    account: Option<String>,
    /// The account whose buckets the calls draw from.
    pace_account: String,
    service: &'static str,
    region: String,
    mode: Mode,
    live: Option<SharedHttpClient>,
    stats: Arc<Stats>,
    gate: Arc<Gate>,
    account_limit: Option<Arc<AccountLimit>>,
}

/// A member account's own limit in a fleet run: most calls in flight at once in it, and
/// its rank for the run-wide slots.
#[derive(Debug)]
pub struct AccountLimit {
    pub calls: Semaphore,
    pub rank: Rank,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("service", &self.service)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Where a [`Transport`] sends and how it is limited.
pub struct TransportParts {
    pub account: Option<String>,
    pub pace_account: String,
    pub mode: Mode,
    pub live: Option<SharedHttpClient>,
    pub stats: Arc<Stats>,
    pub gate: Arc<Gate>,
    pub account_limit: Option<Arc<AccountLimit>>,
}

impl Transport {
    pub fn new(parts: TransportParts, service: &'static str, region: &str) -> Self {
        Transport {
            account: parts.account,
            pace_account: parts.pace_account,
            service,
            region: region.to_string(),
            mode: parts.mode,
            live: parts.live,
            stats: parts.stats,
            gate: parts.gate,
            account_limit: parts.account_limit,
        }
    }
}

impl HttpClient for Transport {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let live = match (&self.mode, &self.live) {
            (Mode::Replay(_), _) | (_, None) => None,
            (_, Some(client)) => Some(client.http_connector(settings, components)),
        };
        SharedHttpConnector::new(TransportConnector {
            t: self.clone(),
            live,
        })
    }
}

#[derive(Debug)]
struct TransportConnector {
    t: Transport,
    live: Option<SharedHttpConnector>,
}

impl HttpConnector for TransportConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let t = self.t.clone();
        let live = self.live.clone();
        HttpConnectorFuture::new(async move { exchange(t, live, request).await })
    }
}

async fn exchange(
    t: Transport,
    live: Option<SharedHttpConnector>,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let info = request
        .extension::<AttemptInfo>()
        .cloned()
        .unwrap_or(AttemptInfo {
            operation: "Unknown".into(),
            attempt: 1,
        });
    let key = RequestKey::from_request(
        t.account.as_deref(),
        t.service,
        &t.region,
        &info.operation,
        &request,
    );
    let pacer = t.gate.pacer.as_ref();
    if let Some(p) = pacer {
        p.wait(&t.pace_account, &t.region, t.service, &info.operation)
            .await;
    }
    let (_account_permit, _permit) = loop {
        let account_permit = match &t.account_limit {
            Some(limit) => Some(limit.calls.acquire().await.expect("semaphore never closed")),
            None => None,
        };
        let rank = t.account_limit.as_ref().map_or(0, |l| l.rank);
        let permit = t.gate.global.acquire(rank).await;
        // A call that waited for its slot may find its token not there after all (see
        // throttling::Paced); it gives its slot back until the token is.
        match pacer.map(|p| p.take(&t.pace_account, &t.region, t.service, &info.operation)) {
            Some(Err(wait)) => {
                drop((account_permit, permit));
                http::throttling::sleep_until(tokio::time::Instant::now() + wait).await;
            }
            _ => break (account_permit, permit),
        }
    };
    t.stats.attempt(t.service, &info.operation, info.attempt);

    // The attempt's own time starts now: waiting for the pacer or a free slot is not the
    // call being slow.
    let timeout = t.gate.call_timeout;
    let (status, headers, body) =
        match tokio::time::timeout(timeout, fetch(&t, live, request, &key, info.attempt)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ConnectorError::timeout(
                    format!(
                        "no response within {:.1} s (--call-timeout)",
                        timeout.as_secs_f64()
                    )
                    .into(),
                ))
            }
        };
    if (200..300).contains(&status) && xml_cut_short(&body) {
        // The SDK's XML reader takes a document cut short for a whole one and returns
        // what it read: a partial list, silently. A connection failure instead, retried
        // like one, and a coverage gap if it persists.
        return Err(ConnectorError::io(Box::new(TruncatedBody)));
    }
    if is_throttle(status, &body) {
        t.stats.throttle(t.service, &info.operation);
        if let Some(p) = pacer {
            p.throttled(&t.pace_account, &t.region, t.service, &info.operation);
        }
    } else if let Some(p) = pacer {
        p.succeeded(&t.pace_account, &t.region, t.service, &info.operation);
    }
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?,
        SdkBody::from(body),
    );
    for (k, v) in headers {
        // Checked when a recording is loaded; a header no HTTP message could carry is the
        // call's error here too, never the SDK's panic.
        response
            .headers_mut()
            .try_append(k, v)
            .map_err(|e| ConnectorError::other(e.into(), None))?;
    }
    Ok(response)
}

/// One attempt's exchange: from the recording (through the simulator, if any), or over
/// HTTP (and into the recording).
async fn fetch(
    t: &Transport,
    live: Option<SharedHttpConnector>,
    request: HttpRequest,
    key: &RequestKey,
    attempt: u32,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), ConnectorError> {
    Ok(match (&t.mode, live) {
        (Mode::Replay(replayer), _) => {
            // A replayed answer comes over no connection; say so, so that the SDK, which
            // closes the connection a transient error came over, has one to close.
            if let Some(capture) = request.extension::<CaptureSmithyConnection>() {
                capture.set_connection_retriever(|| {
                    Some(
                        ConnectionMetadata::builder()
                            .proxied(false)
                            .poison_fn(|| {})
                            .build(),
                    )
                });
            }
            let answer = match &replayer.simulator {
                Some(sim) => sim.answer(key, attempt).await,
                None => Answer::Recorded,
            };
            match answer {
                Answer::Recorded | Answer::Malformed => {
                    let ex = replayer
                        .get(key)
                        .map_err(|e| ConnectorError::other(e.into(), None))?;
                    let body = match answer {
                        Answer::Malformed => http::simulate::cut_in_half(&ex.body),
                        _ => ex.body.into_vec(),
                    };
                    (ex.status, ex.headers, body)
                }
                Answer::Respond {
                    status,
                    headers,
                    body,
                } => (status, headers, body),
                Answer::ConnectionFailed(kind, what) => {
                    return Err(ConnectorError::io(std::io::Error::new(kind, what).into()));
                }
            }
        }
        (_, Some(live)) => {
            let response = live.call(request).await?;
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let body = ByteStream::new(response.into_body())
                .collect()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?
                .into_bytes()
                .to_vec();
            if let Mode::Record(rec) = &t.mode {
                rec.store(&Exchange::new(key.clone(), status, &headers, &body))
                    .map_err(|e| ConnectorError::other(e.into(), None))?;
            }
            (status, headers, body)
        }
        (_, None) => {
            return Err(ConnectorError::other(
                "no HTTP client configured for live calls".into(),
                None,
            ))
        }
    })
}

/// A response body that ends before its document does.
#[derive(Debug, thiserror::Error)]
#[error("the response body ends before its XML document does (cut short)")]
pub struct TruncatedBody;

/// Whether an XML body stops before its root element is closed.
pub fn xml_cut_short(body: &[u8]) -> bool {
    // Every response passes here; a JSON one is told apart by its first byte, before any
    // decoding.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'<') {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    let mut rest = text.trim_start();
    // Skip the prolog and comments to the root element's name.
    while rest.starts_with("<?") || rest.starts_with("<!--") {
        let end = if rest.starts_with("<?") { "?>" } else { "-->" };
        match rest.find(end) {
            Some(i) => rest = rest[i + end.len()..].trim_start(),
            None => return true,
        }
    }
    let Some(open) = rest.strip_prefix('<') else {
        return true;
    };
    let name: String = open
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if name.is_empty() {
        return true;
    }
    let end = rest.trim_end();
    // `<Root/>` is whole; otherwise the document must end with `</Root>`.
    let self_closed = open[name.len()..]
        .split_once('>')
        .is_some_and(|(attrs, after)| attrs.ends_with('/') && after.trim().is_empty());
    !(self_closed || end.ends_with(&format!("</{name}>")))
}

/// Throttling error codes across the protocols the collector uses.
const THROTTLE_CODES: [&str; 6] = [
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
];

/// Whether a response is a throttling error (by status, or by error code in the body).
pub fn is_throttle(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 || body.len() > 16 * 1024 {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    THROTTLE_CODES.iter().any(|code| {
        text.contains(&format!("<Code>{code}</Code>"))
            || text.contains(&format!("\"{code}\""))
            || text.contains(&format!("#{code}\""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_documents_cut_short_are_caught() {
        let whole = b"<?xml version=\"1.0\"?>\n<DescribeListenersResponse xmlns=\"x\"><R><a>1</a></R></DescribeListenersResponse>\n";
        assert!(!xml_cut_short(whole));
        for cut in 1..whole.len() - 2 {
            assert!(xml_cut_short(&whole[..cut]), "{cut}");
        }
        assert!(!xml_cut_short(b"<Empty/>"));
        assert!(!xml_cut_short(br#"{"json": true}"#));
        assert!(!xml_cut_short(b""));
        assert!(xml_cut_short(b"<!-- x"));
    }

    #[test]
    fn throttles_are_recognised_in_each_protocol() {
        assert!(is_throttle(429, b""));
        assert!(is_throttle(
            400,
            b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"
        ));
        assert!(is_throttle(
            503,
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"
        ));
        assert!(is_throttle(
            400,
            br#"{"__type":"com.amazonaws.ecs#ThrottlingException","message":"Rate exceeded"}"#
        ));
        assert!(!is_throttle(
            400,
            br#"{"__type":"AccessDeniedException","message":"no"}"#
        ));
        assert!(!is_throttle(200, b"ThrottlingException"));
    }
}
