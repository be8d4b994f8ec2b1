//! JSON lines for log pipelines: one finding per line.

use crate::report::Report;

/// One finding per line, each a complete JSON object (the report's finding, with its
/// baseline change when a baseline was given). No findings: empty output.
pub fn jsonl(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&serde_json::to_string(f).expect("a finding always serialises"));
        out.push('\n');
    }
    out
}
