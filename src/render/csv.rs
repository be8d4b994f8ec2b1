//! CSV for spreadsheets and imports: one finding per row, fields defused against formula
//! injection.

use std::io::{self, Write};

use crate::report::Report;

const CSV_COLUMNS: [&str; 14] = [
    "severity",
    "check",
    "name",
    "account",
    "region",
    "resource",
    "message",
    "remediation",
    "evidence",
    "fingerprint",
    "change",
    "cost_monthly_usd",
    "cost_kind",
    "owner",
];

/// A CSV field: quoted when it holds a separator, quote or line break, and prefixed with
/// `'` when a spreadsheet would read it as a formula (resource names come from the audited
/// account, so they are not trusted).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One finding per row (RFC 4180, CRLF line ends), evidence joined with ` | `.
pub fn csv(report: &Report) -> String {
    super::to_string(|w| write_csv(report, w))
}

/// [`csv`], a row at a time.
pub fn write_csv(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(CSV_COLUMNS.join(",").as_bytes())?;
    out.write_all(b"\r\n")?;
    for f in report.findings.iter() {
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{}: {}", e.resource, e.fact))
            .collect();
        let change = f.change.map(|c| c.as_str()).unwrap_or("");
        let cost = f
            .cost
            .as_ref()
            .map(|c| format!("{:.2}", c.monthly_usd))
            .unwrap_or_default();
        let cost_kind = f.cost.as_ref().map_or("", |c| c.kind.as_str());
        let row = [
            f.severity.as_str(),
            &f.check,
            &f.name,
            &f.account,
            &f.region,
            &f.resource,
            &f.message,
            &f.remediation,
            &evidence.join(" | "),
            &f.fingerprint,
            change,
            &cost,
            cost_kind,
            f.owner.as_deref().unwrap_or(""),
        ];
        let fields: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
        out.write_all(fields.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
