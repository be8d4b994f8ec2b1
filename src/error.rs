//! Exit codes and the errors that end a run before it reports.

use std::process::ExitCode;

/// The process exit codes (documented in the README and `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run completed; no finding at or above `--fail-on`.
    Ok = 0,
    /// The run completed and found something at or above `--fail-on`.
    Findings = 1,
    /// Usage, configuration or I/O error: nothing was audited or nothing was written.
    Usage = 2,
    /// The report was written, but some data could not be collected (see its coverage).
    Incomplete = 3,
    /// The report was written, but `--webhook` delivery failed after its retries (the
    /// undelivered batches are kept for the next run), or this run set a refused batch or
    /// an unreadable spool file aside. Takes precedence over 1 and 3.
    Delivery = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// An error that stops the run, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad flags, profile, credentials, region, endpoint, recording or output path.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Recording(#[from] crate::http::recording::RecordingError),
    /// A bug: a panic outside the collection, where it cannot be a coverage gap.
    #[error("internal error (a bug in awsaudit; please report it): {0}; nothing was reported")]
    Internal(String),
}

impl AppError {
    pub fn exit(&self) -> Exit {
        Exit::Usage
    }
}
