//! The terminal table: findings grouped by severity, then the coverage, then a summary.

use std::fmt::Write;

use checks::model::CallStatus;
use checks::Severity;

use super::{cost_amount, owner_text, plural};
use crate::report;
use crate::report::Report;
use checks::prices::usd;
use checks::Finding;

/// The report for a terminal: findings grouped by severity, the unknowns, the coverage
/// gaps, and a summary line.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let findings = report.findings.all();
    for sev in Severity::ALL {
        let group: Vec<_> = findings.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({})", sev.as_str().to_uppercase(), group.len());
        for f in group {
            let change = f
                .change
                .map(|c| format!("  ({})", c.as_str()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}  [{} {}]{change}",
                f.check, f.name, f.account, f.region
            );
            let _ = writeln!(out, "    {}", f.message);
            let _ = writeln!(out, "    resource: {}", f.resource);
            let _ = writeln!(out, "    fix: {}", f.remediation);
            if let Some(c) = &f.cost {
                let _ = writeln!(out, "    cost: {} ({})", cost_amount(c), c.basis);
            }
            if let Some(o) = &f.owner {
                let _ = writeln!(out, "    owner: {}", owner_text(o));
            }
            if !f.evidence.is_empty() {
                let _ = writeln!(out, "    evidence:");
                for e in &f.evidence {
                    let _ = writeln!(out, "      - {}: {}", e.resource, e.fact);
                }
            }
            let _ = writeln!(out, "    fingerprint: {}", f.fingerprint);
        }
        out.push('\n');
    }
    if let Some(s) = &report.suppressions {
        let _ = writeln!(out, "SUPPRESSED ({}) by {}", s.suppressed.len(), s.file);
        for x in &s.suppressed {
            let f = &x.finding;
            let _ = writeln!(
                out,
                "  {} {}  [{} {}] {}{} — line {}: {}",
                f.check,
                f.severity,
                f.account,
                f.region,
                f.resource,
                owned_by(f),
                x.line,
                x.reason
            );
        }
        for (what, list) in [
            ("expired, suppressing nothing", &s.expired),
            ("matched no finding", &s.unmatched),
        ] {
            for e in list {
                let _ = writeln!(
                    out,
                    "  entry at line {} {what}{}: {}",
                    e.line,
                    e.expires
                        .as_deref()
                        .map(|d| format!(" (expires {d})"))
                        .unwrap_or_default(),
                    e.reason
                );
            }
        }
        out.push('\n');
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            out,
            "BASELINE {} (started {}): {} new, {} unchanged, {} resolved, {} not re-checked",
            b.file,
            b.started_at,
            b.new,
            b.unchanged,
            b.resolved.len(),
            b.unverified.len()
        );
        for (label, list) in [("resolved", &b.resolved), ("not re-checked", &b.unverified)] {
            for f in list {
                let _ = writeln!(
                    out,
                    "  {label}: {} {}  [{} {}] {}{}",
                    f.check,
                    f.name,
                    f.account,
                    f.region,
                    f.resource,
                    owned_by(f)
                );
            }
        }
        out.push('\n');
    }
    if !report.unknowns.is_empty() {
        let _ = writeln!(
            out,
            "NOT EVALUATED ({}): data these checks need could not be collected",
            report.unknowns.len()
        );
        for u in &report.unknowns {
            let what = u.resource.as_deref().unwrap_or("whole region");
            let _ = writeln!(
                out,
                "  {} {}  [{} {}] {}: {}",
                u.check, u.name, u.account, u.region, what, u.reason
            );
        }
        out.push('\n');
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "NOTES ({})", report.notes.len());
        for n in &report.notes {
            let _ = writeln!(out, "  {} {}: {}", n.check, n.name, n.message);
        }
        out.push('\n');
    }
    if report.per_account.len() > 1 || report.per_account.iter().any(|a| a.role_arn.is_some()) {
        let _ = writeln!(out, "ACCOUNTS ({})", report.per_account.len());
        for a in &report.per_account {
            let name = a
                .name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            let status = match a.status {
                report::AccountStatus::Audited => "audited",
                report::AccountStatus::Incomplete => "INCOMPLETE",
                report::AccountStatus::NotAudited => "NOT AUDITED",
            };
            let detail = match &a.reason {
                Some(reason) => reason.clone(),
                None => {
                    let by_sev: Vec<String> = Severity::ALL
                        .iter()
                        .filter_map(|s| a.by_severity.get(s).map(|n| format!("{n} {s}")))
                        .collect();
                    format!(
                        "{}{}{}, {}, {}",
                        plural(a.findings, "finding", "findings"),
                        if by_sev.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", by_sev.join(", "))
                        },
                        wasted(a.waste_monthly_usd),
                        plural(a.regions.len(), "region", "regions"),
                        plural(a.coverage_gaps, "gap", "gaps")
                    )
                }
            };
            let _ = writeln!(out, "  {}{name}  {status}: {detail}", a.account);
        }
        out.push('\n');
    }
    if !report.coverage.gaps.is_empty() {
        let _ = writeln!(out, "COVERAGE GAPS ({})", report.coverage.gaps.len());
        for g in &report.coverage.gaps {
            let status = match g.status {
                CallStatus::AccessDenied => "access denied",
                CallStatus::NotAvailable => "not available",
                CallStatus::Failed => "failed",
                CallStatus::Ok => "ok",
            };
            let scope = g
                .scope
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  [{} {}] {}:{}{} {}: {} — {}",
                g.account,
                g.region,
                g.service,
                g.operation,
                scope,
                status,
                g.error_code.as_deref().unwrap_or("no error code"),
                g.message.as_deref().unwrap_or("")
            );
        }
        out.push('\n');
    }
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            report
                .summary
                .by_severity
                .get(s)
                .map(|n| format!("{n} {s}"))
        })
        .collect();
    let mut findings = if by_sev.is_empty() {
        "no findings".to_string()
    } else {
        format!(
            "{} ({})",
            plural(report.summary.findings, "finding", "findings"),
            by_sev.join(", ")
        )
    };
    if let Some(min) = report.run.min_severity {
        findings.push_str(&format!(" at or above {min}"));
    }
    findings.push_str(&wasted(report.summary.waste_monthly_usd));
    let mut coverage = if report.coverage.gaps.is_empty() {
        "coverage complete".to_string()
    } else {
        format!(
            "coverage INCOMPLETE: {}, {} not evaluated",
            plural(report.coverage.gaps.len(), "gap", "gaps"),
            plural(report.unknowns.len(), "check scope", "check scopes")
        )
    };
    if let Some(why) = &report.run.stopped {
        coverage = format!("STOPPED EARLY ({why}); {coverage}");
    }
    let accounts = if report.accounts.len() > 3 {
        format!("{} accounts", report.accounts.len())
    } else {
        format!("account {}", report.accounts.join(", "))
    };
    let _ = writeln!(
        out,
        "{findings} — {accounts}, {} ({}); {}, {} retries, {} throttled, {:.2} s; {coverage}",
        plural(report.regions.len(), "region", "regions"),
        report.regions.join(", "),
        plural(report.stats.calls as usize, "call", "calls"),
        report.stats.retries,
        report.stats.throttles,
        report.stats.wall_ms as f64 / 1000.0,
    );
    out
}

/// `, $438.00/month wasted` when there is waste to count, else nothing.
fn wasted(usd_a_month: f64) -> String {
    if usd_a_month > 0.0 {
        format!(", {}/month wasted", usd(usd_a_month))
    } else {
        String::new()
    }
}

/// ` (owner team-a)` for a finding listed on one line, when it has an owner.
fn owned_by(f: &Finding) -> String {
    f.owner
        .as_deref()
        .map(|o| format!(" (owner {})", owner_text(o)))
        .unwrap_or_default()
}
