//! How a failed call is recorded: its status (access denied, not available, failed) and its
//! code. A gap AWS answered keeps AWS's own error code (`ThrottlingException`,
//! `AccessDenied`…); [`GapCode`] names the rest: calls that got no answer, answers that could
//! not be read, runs that stopped, and bugs.

use std::fmt;

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use checks::model::CallStatus;

use crate::error::error_chain;
use crate::http;
use crate::http::recording::RecordingError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapCode {
    /// No response within `--call-timeout` (or the SDK's own timeouts).
    Timeout,
    /// The connection failed: refused, reset, closed.
    ConnectionError,
    /// The request could not be sent for another reason.
    DispatchFailure,
    /// The body ended before its document did.
    TruncatedResponse,
    /// An answer the SDK could not read (written `MalformedResponse (HTTP 200)`).
    MalformedResponse,
    /// The request could not be built.
    ConstructionFailure,
    /// Replay: the recording holds no answer for the request.
    NotInRecording,
    /// The call, or the collection task holding it, panicked.
    Panicked,
    /// The collection task holding the call was cancelled.
    Cancelled,
    /// `--timeout` ran out first.
    RunTimeout,
    /// Ctrl-C or SIGTERM came first.
    Interrupted,
    /// A fleet member has not enabled a requested region (from DescribeRegions' answer).
    RegionNotEnabled,
}

impl GapCode {
    pub const ALL: [GapCode; 12] = [
        GapCode::Timeout,
        GapCode::ConnectionError,
        GapCode::DispatchFailure,
        GapCode::TruncatedResponse,
        GapCode::MalformedResponse,
        GapCode::ConstructionFailure,
        GapCode::NotInRecording,
        GapCode::Panicked,
        GapCode::Cancelled,
        GapCode::RunTimeout,
        GapCode::Interrupted,
        GapCode::RegionNotEnabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GapCode::Timeout => "Timeout",
            GapCode::ConnectionError => "ConnectionError",
            GapCode::DispatchFailure => "DispatchFailure",
            GapCode::TruncatedResponse => "TruncatedResponse",
            GapCode::MalformedResponse => "MalformedResponse",
            GapCode::ConstructionFailure => "ConstructionFailure",
            GapCode::NotInRecording => "NotInRecording",
            GapCode::Panicked => "Panicked",
            GapCode::Cancelled => "Cancelled",
            GapCode::RunTimeout => "RunTimeout",
            GapCode::Interrupted => "Interrupted",
            GapCode::RegionNotEnabled => "RegionNotEnabled",
        }
    }

    /// The code a gap's `error_code` holds, if it is one of these (`MalformedResponse`
    /// carries its HTTP status after a space).
    pub fn parse(code: &str) -> Option<GapCode> {
        let head = code.split(' ').next().unwrap_or(code);
        GapCode::ALL.into_iter().find(|c| c.as_str() == head)
    }

    /// Whether the gap stands for an answer from AWS, which a recording keeps and a replay
    /// gives again, rather than a call that got none.
    pub fn answered(self) -> bool {
        matches!(self, GapCode::MalformedResponse | GapCode::RegionNotEnabled)
    }
}

impl fmt::Display for GapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<GapCode> for String {
    fn from(c: GapCode) -> String {
        c.as_str().to_string()
    }
}

/// Whether a gap with this error code is an answer from AWS (its own error codes are).
pub fn answered(code: Option<&str>) -> bool {
    code.and_then(GapCode::parse).is_none_or(GapCode::answered)
}

/// Error codes that mean the credentials may not make the call.
pub const ACCESS_DENIED: [&str; 6] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "Forbidden",
];

/// Error codes that mean the operation or service is not offered here.
const NOT_AVAILABLE: [&str; 7] = [
    "UnknownOperationException",
    "InvalidAction",
    "UnsupportedOperation",
    "OptInRequired",
    "SubscriptionRequiredException",
    "NotImplemented",
    "UnsupportedOperationException",
];

/// How a failed call is recorded.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> (CallStatus, Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = error_chain(err);
    match err {
        SdkError::ServiceError(se) => {
            let http = se.raw().status().as_u16();
            let code = se.err().code().map(str::to_string);
            let status = match code.as_deref() {
                Some(c) if ACCESS_DENIED.contains(&c) => CallStatus::AccessDenied,
                Some(c) if NOT_AVAILABLE.contains(&c) => CallStatus::NotAvailable,
                None if http == 404 || http == 501 => CallStatus::NotAvailable,
                _ if http == 403 && code.is_none() => CallStatus::AccessDenied,
                _ => CallStatus::Failed,
            };
            let code = code.or_else(|| Some(format!("HTTP {http}")));
            (status, code, message)
        }
        SdkError::ResponseError(re) => {
            let http = re.raw().status().as_u16();
            let status = if http == 404 || http == 501 {
                CallStatus::NotAvailable
            } else {
                CallStatus::Failed
            };
            (
                status,
                Some(format!("{} (HTTP {http})", GapCode::MalformedResponse)),
                message,
            )
        }
        SdkError::DispatchFailure(_) if missing_from_recording(err) => (
            CallStatus::Failed,
            Some(GapCode::NotInRecording.into()),
            message,
        ),
        SdkError::DispatchFailure(_) if caused_by::<http::transport::TruncatedBody>(err) => (
            CallStatus::Failed,
            Some(GapCode::TruncatedResponse.into()),
            message,
        ),
        SdkError::DispatchFailure(d) => {
            let code = if d.is_timeout() {
                GapCode::Timeout
            } else if d.is_io() {
                GapCode::ConnectionError
            } else {
                GapCode::DispatchFailure
            };
            (CallStatus::Failed, Some(code.into()), message)
        }
        SdkError::TimeoutError(_) => (CallStatus::Failed, Some(GapCode::Timeout.into()), message),
        _ => (
            CallStatus::Failed,
            Some(GapCode::ConstructionFailure.into()),
            message,
        ),
    }
}

/// Whether a failure is the replayer having no response for the request.
fn missing_from_recording(err: &(dyn std::error::Error + 'static)) -> bool {
    chain(err).any(|e| {
        matches!(
            e.downcast_ref::<RecordingError>(),
            Some(RecordingError::MissingKey { .. })
        )
    })
}

/// Whether an error of type `T` is somewhere in `err`'s chain.
fn caused_by<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    chain(err).any(|e| e.is::<T>())
}

fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_aws_codes_are_answers() {
        for c in GapCode::ALL {
            assert_eq!(GapCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(
            GapCode::parse("MalformedResponse (HTTP 200)"),
            Some(GapCode::MalformedResponse)
        );
        assert!(answered(Some("ThrottlingException")));
        assert!(answered(Some("MalformedResponse (HTTP 200)")));
        assert!(!answered(Some("Timeout")));
        assert!(!answered(Some("RunTimeout")));
        assert!(!answered(Some("Panicked")));
    }
}
