//! The report as JSON: the versioned schema the README documents.

use std::io::{self, Write};

use crate::report::Report;

/// The report as pretty JSON (the versioned schema), with a trailing newline.
pub fn json(report: &Report) -> String {
    super::to_string(|w| write_json(report, w))
}

/// [`json`], serialised straight into `out`: a fleet's report is never held twice.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
