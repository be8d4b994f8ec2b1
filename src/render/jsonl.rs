//! JSON lines for log pipelines: one finding per line.

use std::io::{self, Write};

use crate::report::Report;

/// One finding per line, each a complete JSON object (the report's finding, with its
/// baseline change when a baseline was given). No findings: empty output.
pub fn jsonl(report: &Report) -> String {
    super::to_string(|w| write_jsonl(report, w))
}

/// [`jsonl`], a line at a time.
pub fn write_jsonl(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings.iter() {
        serde_json::to_writer(&mut *out, &*f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
