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

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;

use crate::recording::{Exchange, RequestKey};
use crate::stats::Stats;

/// Where responses come from.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Real HTTP.
    Live,
    /// Real HTTP, every exchange also written to a recording.
    Record(Arc<crate::recording::Recorder>),
    /// No network: answers come from a recording.
    Replay(Arc<crate::recording::Replayer>),
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

/// The HTTP client of one (service, region) client.
#[derive(Clone)]
pub struct Transport {
    /// The member account a fleet run reaches through a role; `None` for the caller's own.
    account: Option<String>,
    service: &'static str,
    region: String,
    mode: Mode,
    live: Option<SharedHttpClient>,
    stats: Arc<Stats>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("service", &self.service)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(
        account: Option<String>,
        service: &'static str,
        region: &str,
        mode: Mode,
        live: Option<SharedHttpClient>,
        stats: Arc<Stats>,
    ) -> Self {
        Transport {
            account,
            service,
            region: region.to_string(),
            mode,
            live,
            stats,
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
    t.stats.attempt(t.service, &info.operation, info.attempt);
    let key = RequestKey::from_request(
        t.account.as_deref(),
        t.service,
        &t.region,
        &info.operation,
        &request,
    );

    let (status, headers, body) = match (&t.mode, live) {
        (Mode::Replay(replayer), _) => {
            let ex = replayer
                .get(&key)
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            (ex.status, ex.headers.clone(), ex.body_bytes())
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
    };
    if is_throttle(status, &body) {
        t.stats.throttle(t.service, &info.operation);
    }
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?,
        SdkBody::from(body),
    );
    for (k, v) in headers {
        response.headers_mut().append(k, v);
    }
    Ok(response)
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
