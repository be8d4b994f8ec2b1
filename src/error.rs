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
    /// A bug: a panic outside the collection, where it cannot be a coverage gap.
    #[error("internal error (a bug in awsaudit; please report it): {0}; nothing was reported")]
    Internal(String),
}

impl AppError {
    pub fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// An error and its causes on one line (`dispatch failure: io error: connection refused`),
/// without the Debug dump `DisplayErrorContext` appends.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        // Wrappers often repeat their source's text; keep each piece once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    one_line(&parts.join(": "))
}

/// Collapses an error chain to one line and bounds its length.
pub fn one_line(s: &str) -> String {
    let mut out: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > 400 {
        let mut cut = 400;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}
