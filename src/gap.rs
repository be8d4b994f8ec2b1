//! The codes of the coverage gaps awsaudit names itself. A gap AWS answered keeps AWS's own
//! error code (`ThrottlingException`, `AccessDenied`…); these are for the rest: calls that
//! got no answer, answers that could not be read, runs that stopped, and bugs.

use std::fmt;

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
