//! The report as JSON: the versioned schema the README documents.

use crate::report::Report;

/// The report as pretty JSON (the versioned schema), with a trailing newline.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}
