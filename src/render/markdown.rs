//! Markdown for tickets and pull request comments.

use std::fmt::Write;

use checks::prices::usd;
use checks::{Finding, Severity};

use super::cost_amount;
use crate::report::Report;

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
    if let Some(c) = &f.cost {
        let _ = writeln!(out, "- **Cost:** {} ({})", cost_amount(c), md(&c.basis));
    }
    if let Some(o) = &f.owner {
        let _ = writeln!(out, "- **Owner:** {}", md(o));
    }
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
    if report.summary.waste_monthly_usd > 0.0 {
        let _ = writeln!(
            out,
            "Waste the findings carry, at list prices: **{}/month** (each finding's cost says how it is reached).\n",
            usd(report.summary.waste_monthly_usd)
        );
    }
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
    let findings = report.findings.all();
    for sev in Severity::ALL {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == sev).collect();
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
                let owner = f
                    .owner
                    .as_deref()
                    .map(|o| format!(" (owner {})", md(o)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- {} `{}`{owner}: {}",
                    f.check,
                    f.resource,
                    md(&f.message)
                );
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
    fn markdown_text_cannot_break_tables_or_inject_html() {
        assert_eq!(md("a|b<script>\nc"), "a\\|b&lt;script&gt; c");
    }
}
