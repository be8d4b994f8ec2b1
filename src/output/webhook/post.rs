//! One batch's POST: the HTTPS client, retries with backoff, and what the receiver's answer
//! means for the batch.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use percent_encoding::percent_decode_str;

use super::{Webhook, ANSWER_BYTES, ANSWER_CHARS};

use crate::error;

impl Webhook {
    /// POSTs one batch, retrying what is worth retrying.
    pub(super) async fn post(&self, client: &HttpsClient, batch_id: &str, body: Vec<u8>) -> Sent {
        let body = Bytes::from(body);
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let mut request = hyper::Request::post(self.url.clone())
                .header("content-type", "application/json")
                .header(
                    "user-agent",
                    concat!("awsaudit/", env!("CARGO_PKG_VERSION")),
                )
                .header("idempotency-key", batch_id);
            if let Some(auth) = &self.authorization {
                request = request.header(hyper::header::AUTHORIZATION, auth.clone());
            }
            let request = request
                .body(Full::new(body.clone()))
                .expect("a POST with static headers is valid");
            let outcome = tokio::time::timeout(self.timeout, async {
                let response = client.request(request).await?;
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let body = response.into_body();
                let text = if status.is_success() {
                    // Read the answer to the end so the connection can be reused.
                    let _ = body.collect().await;
                    Vec::new()
                } else {
                    head(body).await
                };
                Ok::<_, hyper_util::client::legacy::Error>(Answer {
                    status,
                    retry_after,
                    text,
                })
            })
            .await;
            let wait = match outcome {
                Ok(Ok(answer)) if answer.status.is_success() => return Sent::Taken,
                Ok(Ok(answer))
                    if answer.status.is_server_error()
                        || answer.status == hyper::StatusCode::TOO_MANY_REQUESTS
                        || answer.status == hyper::StatusCode::REQUEST_TIMEOUT =>
                {
                    last = answer.to_string();
                    answer.retry_after.map(|s| Duration::from_secs(s.min(30)))
                }
                // 401 and 407 say the credentials are wrong, not the batch: no batch can be
                // judged until they are fixed, and dead-lettering them all would leave every
                // one to be moved back by hand.
                Ok(Ok(answer))
                    if answer.status.is_client_error()
                        && !matches!(answer.status.as_u16(), 401 | 407) =>
                {
                    return Sent::Refused(answer.to_string())
                }
                // A redirect (not followed), 401 or 407: the URL or its credentials are wrong.
                Ok(Ok(answer)) => {
                    return Sent::NotNow(format!(
                        "{answer}, which retrying will not fix: check the URL and its credentials"
                    ))
                }
                Ok(Err(e)) => {
                    last = error::error_chain(&e);
                    None
                }
                Err(_) => {
                    last = format!("no answer within {} s", self.timeout.as_secs_f32());
                    None
                }
            };
            if attempt < self.attempts {
                let backoff = self.backoff * 2u32.pow(attempt - 1);
                tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(30))).await;
            }
        }
        Sent::NotNow(format!("{last} (after {} attempts)", self.attempts))
    }
}

/// How one batch's POST ended.
pub(super) enum Sent {
    Taken,
    /// Refused for good: this batch will never be taken (the receiver's answer).
    Refused(String),
    /// Not taken, for a reason that is not this batch's: the receiver is down, or refuses
    /// every batch.
    NotNow(String),
}

/// A receiver's answer: its status, `Retry-After` and, when it refused, the start of its text.
struct Answer {
    status: hyper::StatusCode,
    retry_after: Option<u64>,
    text: Vec<u8>,
}

/// `answered 400 Bad Request: "field `x` is required"`: the text cut short, and quoted with
/// its control characters escaped, so that a receiver's answer cannot forge a line of
/// output or drive the terminal.
impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answered {}", self.status)?;
        let text = String::from_utf8_lossy(&self.text);
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        let shown: String = text.chars().take(ANSWER_CHARS).collect();
        write!(f, ": {shown:?}")?;
        if shown.len() < text.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The first [`ANSWER_BYTES`] of a body; the rest is not waited for.
async fn head(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut text = Vec::new();
    while text.len() < ANSWER_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    text.extend_from_slice(&data[..data.len().min(ANSWER_BYTES - text.len())]);
                }
            }
            _ => break,
        }
    }
    text
}

/// `Authorization: Basic …` for a URL's `user:password` (each percent-decoded, as a browser
/// or curl does; the password may be absent).
pub(super) fn basic_auth(userinfo: &str) -> hyper::header::HeaderValue {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let mut credentials: Vec<u8> = percent_decode_str(user).collect();
    credentials.push(b':');
    credentials.extend(percent_decode_str(password));
    let mut value = hyper::header::HeaderValue::try_from(format!(
        "Basic {}",
        aws_smithy_types::base64::encode(&credentials)
    ))
    .expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

pub(super) type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

pub(super) fn https_client() -> Result<HttpsClient, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
