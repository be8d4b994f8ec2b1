//! Exports for tools beyond a terminal: JSON lines for log pipelines, CSV for spreadsheets
//! and imports, Markdown for tickets and pull request comments.

use std::fmt::Write;

use checks::{Finding, Severity};

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

const CSV_COLUMNS: [&str; 11] = [
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
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for f in &report.findings {
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{}: {}", e.resource, e.fact))
            .collect();
        let change = f.change.map(|c| c.as_str()).unwrap_or("");
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
        ];
        let fields: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Text safe inside a Markdown table cell or paragraph: no pipe, no HTML, no line break.
fn md(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' => s.push_str("\\|"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '\n' | '\r' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

fn finding_block(out: &mut String, f: &Finding) {
    let change = match f.change {
        Some(c) => format!(" · {}", c.as_str()),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "#### {} {} · {} · {} {}{change}\n",
        f.check,
        f.name,
        f.severity,
        md(&f.account),
        md(&f.region)
    );
    let _ = writeln!(out, "{}\n", md(&f.message));
    let _ = writeln!(out, "- **Resource:** `{}`", f.resource.replace('`', "'"));
    let _ = writeln!(out, "- **Fix:** {}", md(&f.remediation));
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "- **Evidence:**");
        for e in &f.evidence {
            let _ = writeln!(
                out,
                "  - `{}`: {}",
                e.resource.replace('`', "'"),
                md(&e.fact)
            );
        }
    }
    let _ = writeln!(out, "- **Fingerprint:** `{}`\n", f.fingerprint);
}

/// A self-contained Markdown report: summary, findings by severity, what could not be
/// evaluated, coverage gaps, and the baseline comparison when there is one.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# awsaudit report\n");
    let _ = writeln!(
        out,
        "Account {} · {} · {} · {} mode · coverage {}\n",
        report.accounts.join(", "),
        report.regions.join(", "),
        report.run.started_at,
        report.run.mode,
        if report.run.complete {
            "complete".to_string()
        } else if let Some(why) = &report.run.stopped {
            format!("**incomplete** (stopped early: {})", md(why))
        } else {
            "**incomplete**".to_string()
        }
    );
    let _ = writeln!(out, "| severity | findings |\n|---|---|");
    for sev in Severity::ALL {
        let n = report.summary.by_severity.get(&sev).copied().unwrap_or(0);
        if n > 0 {
            let _ = writeln!(out, "| {sev} | {n} |");
        }
    }
    let _ = writeln!(out, "| **total** | **{}** |\n", report.summary.findings);
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            out,
            "Compared with `{}`: {} new, {} unchanged, {} resolved, {} not re-checked.\n",
            md(&b.file),
            b.new,
            b.unchanged,
            b.resolved.len(),
            b.unverified.len()
        );
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    }
    for sev in Severity::ALL {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "## {} ({})\n",
            sev.as_str().to_uppercase(),
            group.len()
        );
        for f in group {
            finding_block(&mut out, f);
        }
    }
    if let Some(b) = &report.baseline {
        for (title, list) in [
            ("Resolved since the baseline", &b.resolved),
            (
                "Not re-checked: in the baseline, and this run could not look again",
                &b.unverified,
            ),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "## {title} ({})\n", list.len());
            for f in list {
                let _ = writeln!(out, "- {} `{}`: {}", f.check, f.resource, md(&f.message));
            }
            out.push('\n');
        }
    }
    if let Some(s) = &report.suppressions {
        let _ = writeln!(
            out,
            "## Suppressed ({}) by `{}`\n",
            s.suppressed.len(),
            md(&s.file)
        );
        for x in &s.suppressed {
            let _ = writeln!(
                out,
                "- {} {} `{}`: {} (line {})",
                x.finding.check,
                x.finding.severity,
                x.finding.resource,
                md(&x.reason),
                x.line
            );
        }
        for e in s.expired.iter().chain(&s.unmatched) {
            let why = if s.expired.contains(e) {
                "expired"
            } else {
                "matched nothing"
            };
            let _ = writeln!(out, "- entry at line {} {why}: {}", e.line, md(&e.reason));
        }
        out.push('\n');
    }
    if !report.unknowns.is_empty() {
        let _ = writeln!(out, "## Not evaluated ({})\n", report.unknowns.len());
        let _ = writeln!(
            out,
            "| check | account | region | resource | reason |\n|---|---|---|---|---|"
        );
        for u in &report.unknowns {
            let _ = writeln!(
                out,
                "| {} {} | {} | {} | {} | {} |",
                u.check,
                u.name,
                md(&u.account),
                md(&u.region),
                md(u.resource.as_deref().unwrap_or("whole region")),
                md(&u.reason)
            );
        }
        out.push('\n');
    }
    if !report.coverage.gaps.is_empty() {
        let _ = writeln!(out, "## Coverage gaps ({})\n", report.coverage.gaps.len());
        let _ = writeln!(
            out,
            "| account | region | operation | scope | error |\n|---|---|---|---|---|"
        );
        for g in &report.coverage.gaps {
            let _ = writeln!(
                out,
                "| {} | {} | {}:{} | {} | {} |",
                md(&g.account),
                md(&g.region),
                g.service,
                g.operation,
                md(g.scope.as_deref().unwrap_or("")),
                md(g.error_code.as_deref().unwrap_or("failed"))
            );
        }
        out.push('\n');
    }
    for n in &report.notes {
        let _ = writeln!(
            out,
            "> **Note ({} {}):** {}\n",
            n.check,
            n.name,
            md(&n.message)
        );
    }
    out
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

    #[test]
    fn markdown_text_cannot_break_tables_or_inject_html() {
        assert_eq!(md("a|b<script>\nc"), "a\\|b&lt;script&gt; c");
    }
}
