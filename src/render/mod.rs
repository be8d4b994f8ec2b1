//! Renderers: each reads a [`Report`] and produces one format's text, in a file of its own.
//!
//! - `table`: the terminal table (the default)
//! - `json`: the versioned report schema
//! - `jsonl`, `csv`, `markdown`: for log pipelines, spreadsheets, tickets
//! - `sarif`, `asff`, `ocsf`: for code scanning, Security Hub, Security Lake and SIEMs
//! - `html`: one self-contained page for people, with each finding's evidence drawn

mod asff;
mod csv;
pub mod html;
mod json;
mod jsonl;
mod markdown;
mod ocsf;
mod sarif;
mod table;

pub use asff::asff;
pub use csv::csv;
pub use html::html;
pub use json::json;
pub use jsonl::jsonl;
pub use markdown::markdown;
pub use ocsf::ocsf;
pub use sarif::sarif;
pub use table::table;

use std::io::{self, Write};

use checks::model::GLOBAL_REGION;
use checks::prices::usd;
use checks::registry::Check;
use checks::{Cost, CostKind, Finding};

use crate::cli::Format;
use crate::report::Report;

/// Writes the report in the requested format to `out`: streamed where the format allows
/// (JSON, JSON lines, CSV, HTML: a finding or card at a time), whole otherwise.
/// A fleet's findings are read back as they are rendered: when that fails, so does this
/// (the output is not put in place).
pub fn render_to(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => json::write_json(report, out),
        Format::Jsonl => jsonl::write_jsonl(report, out),
        Format::Csv => csv::write_csv(report, out),
        Format::Html => html::write_html(report, out),
        _ => out.write_all(render(report, format).as_bytes()),
    }?;
    match report.findings.failure() {
        Some(why) => Err(io::Error::other(why)),
        None => Ok(()),
    }
}

/// A streaming renderer's output as text (for stdout and S3, which take a report whole).
fn to_string(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
    let mut buf = Vec::new();
    write(&mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("renderers write UTF-8")
}

/// Renders the report in the requested format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => json(report),
        Format::Jsonl => jsonl(report),
        Format::Csv => csv(report),
        Format::Markdown => markdown(report),
        Format::Sarif => sarif(report),
        Format::Asff => asff(report),
        Format::Ocsf => ocsf(report),
        Format::Html => html(report),
    }
}

/// One line: how many gaps, grouped by operation and status.
pub fn gap_summary(report: &Report) -> String {
    let mut groups: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for g in &report.coverage.gaps {
        let key = format!(
            "{}:{} {}",
            g.service,
            g.operation,
            g.error_code.as_deref().unwrap_or("failed")
        );
        *groups.entry(key).or_default() += 1;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(k, n)| if n == 1 { k } else { format!("{k} ×{n}") })
        .collect();
    let stopped = report
        .run
        .stopped
        .as_deref()
        .map(|why| format!("{why}; "))
        .unwrap_or_default();
    format!(
        "{stopped}collection incomplete: {} ({}); {} not evaluated — see the report's coverage",
        plural(report.coverage.gaps.len(), "coverage gap", "coverage gaps"),
        parts.join(", "),
        plural(report.unknowns.len(), "check scope", "check scopes"),
    )
}

pub(super) const INFORMATION_URI: &str = "https://github.com/awsaudit/awsaudit";

/// The first reference URL of a check's documentation.
pub(super) fn help_uri(check: &Check) -> Option<String> {
    check
        .section("References")?
        .lines()
        .find_map(|l| l.trim().strip_prefix("- ").map(str::to_string))
}

/// The region a finding is filed in. IAM is global, but Security Hub and OCSF consumers
/// file findings by region: the first audited one.
pub(super) fn home_region<'r>(report: &'r Report, f: &'r Finding) -> &'r str {
    if f.region == GLOBAL_REGION {
        report.regions.first().map_or("us-east-1", String::as_str)
    } else {
        f.region.as_str()
    }
}

/// `$438.00/month wasted`, `$7.30/month to fix`: a finding's cost in a line of text.
pub(super) fn cost_amount(c: &Cost) -> String {
    match c.kind {
        CostKind::Waste => format!("{}/month wasted", usd(c.monthly_usd)),
        CostKind::Fix => format!("{}/month to fix", usd(c.monthly_usd)),
    }
}

/// An owner (a tag value from the audited account, so not trusted) for a line of text:
/// control characters escaped, so a value cannot rewrite the terminal or break a line.
pub(super) fn owner_text(owner: &str) -> String {
    owner
        .chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
