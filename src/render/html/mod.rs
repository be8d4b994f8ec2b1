//! The HTML report: one self-contained file (inline CSS, script and SVG; a content security
//! policy that forbids every request) that reads without JavaScript — every finding is in
//! the markup — and filters, sorts, searches and copies with it.
//!
//! The landing view totals findings by severity, draws the accounts × regions × services
//! grid (clean, not evaluated and not audited look different), lists coverage gaps and
//! what could not be evaluated, and says how the run went. Each finding card carries its
//! message, remediation, the commands to confirm and fix it, its fingerprint and crosswalk
//! ids, and a diagram of its evidence ([`diagram`]).
//!
//! Large reports stay usable: cards are laid out only when scrolled to
//! (`content-visibility`), and the script shows the first few hundred that match the
//! filters with a button for more.

mod commands;
pub mod diagram;
mod grid;

use std::collections::BTreeSet;

use checks::crosswalk::Catalog;
use checks::rules;
use checks::{CostKind, Finding, Severity};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::report::Report;
use commands::Commands;
use grid::{Cell, SERVICES};

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");
/// Nothing may be fetched: no script, style, font, image or frame from anywhere, not even
/// the file's own directory. Inline style and script only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Where a card sits: an open finding of this run, a suppressed one, or a baseline finding
/// that is gone (`resolved`) or could not be looked for again (`unverified`).
#[derive(Clone, Copy)]
enum Kind {
    Open,
    Suppressed,
    Resolved,
    Unverified,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Open => "open",
            Kind::Suppressed => "suppressed",
            Kind::Resolved => "resolved",
            Kind::Unverified => "unverified",
        }
    }
}

/// The report as one HTML page.
pub fn html(report: &Report) -> String {
    super::to_string(|w| write_html(report, w))
}

/// Stands for the cards in the rendered page, which are written one at a time in its place.
const CARDS: &str = "<!--awsaudit:cards-->";

/// [`html`], the cards written one at a time: a page of thousands of findings is never
/// held whole.
pub fn write_html(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let findings = report.findings.all();
    let mut cards: Vec<(Kind, &Finding, Option<&str>)> =
        findings.iter().map(|f| (Kind::Open, f, None)).collect();
    if let Some(s) = &report.suppressions {
        cards.extend(
            s.suppressed
                .iter()
                .map(|x| (Kind::Suppressed, &x.finding, Some(x.reason.as_str()))),
        );
    }
    if let Some(b) = &report.baseline {
        cards.extend(b.resolved.iter().map(|f| (Kind::Resolved, f, None)));
        cards.extend(b.unverified.iter().map(|f| (Kind::Unverified, f, None)));
    }
    let title = format!(
        "awsaudit report — {} · {}",
        if report.accounts.len() == 1 {
            report.accounts[0].clone()
        } else {
            format!("{} accounts", report.accounts.len())
        },
        report.run.started_at
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("awsaudit {}", report.tool.version));
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (diagram::sprite())
                header.top {
                    h1 { "awsaudit report" }
                    (run_meta(report))
                }
                main {
                    (overview(report))
                    (grid_view(report, &findings))
                    (gaps_view(report))
                    (findings_view(report, &cards))
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    let page = page.into_string();
    let (head, tail) = page
        .split_once(CARDS)
        .expect("the page holds the cards' place");
    out.write_all(head.as_bytes())?;
    for (kind, f, reason) in &cards {
        out.write_all(card(*kind, f, *reason).into_string().as_bytes())?;
    }
    out.write_all(tail.as_bytes())?;
    out.write_all(b"\n")
}

fn run_meta(report: &Report) -> Markup {
    let r = &report.run;
    let state = if let Some(why) = &r.stopped {
        format!("stopped early: {why}")
    } else if r.complete {
        "complete".to_string()
    } else {
        "incomplete: some calls failed (see coverage gaps)".to_string()
    };
    html! {
        dl.meta {
            dt { "accounts" } dd { (report.accounts.join(", ")) }
            dt { "regions" } dd { (report.regions.join(", ")) }
            dt { "mode" } dd { (r.mode) }
            dt { "started" } dd { time datetime=(r.started_at) { (r.started_at) } }
            dt { "wall" } dd { (format!("{:.1} s", r.wall_ms as f64 / 1000.0)) }
            dt { "AWS calls" } dd { (report.stats.calls) " (" (report.stats.retries) " retries, " (report.stats.throttles) " throttled)" }
            dt { "collection" } dd class=(if r.complete { "ok" } else { "warn" }) { (state) }
            dt { "checks" } dd { (r.checks.len()) }
            @if let Some(s) = &r.shard { dt { "shard" } dd { (s.index) "/" (s.count) } }
            @if let Some(m) = &r.merged { dt { "merged shards" } dd { (m.shards.len()) " of " (m.shard_count) @if !m.missing.is_empty() { " (missing: " (join(&m.missing)) ")" } } }
            @if let Some(sev) = r.min_severity { dt { "min severity" } dd { (sev) } }
            dt { "tool" } dd { (report.tool.name) " " (report.tool.version) }
        }
    }
}

fn join<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}

fn overview(report: &Report) -> Markup {
    let waste = report.summary.waste_monthly_usd;
    html! {
        section #overview aria-label="Summary" {
            div.totals {
                @for sev in Severity::ALL {
                    @let n = report.summary.by_severity.get(&sev).copied().unwrap_or(0);
                    button type="button" class=(format!("total sev-{sev}")) data-filter="sev" data-value=(sev.as_str()) disabled[n == 0] {
                        span.n data-count=(sev.as_str()) { (n) } span.l { (sev) }
                    }
                }
                div.total.all { span.n #total-findings { (report.summary.findings) } span.l { "findings" } }
                div.total.undecided { span.n { (report.summary.unknowns) } span.l { "not evaluated" } }
                div.total.gaps { span.n { (report.summary.coverage_gaps) } span.l { "coverage gaps" } }
                @if waste > 0.0 {
                    div.total.waste title="Monthly list-price cost of what the findings say is paid for nothing" {
                        span.n { (usd(waste)) } span.l { "waste a month" }
                    }
                }
                @if report.summary.suppressed > 0 {
                    div.total { span.n { (report.summary.suppressed) } span.l { "suppressed" } }
                }
            }
            @if let Some(b) = &report.baseline {
                p.baseline {
                    "Compared with " code { (b.file) } " (run of " (b.started_at) "): "
                    b { (b.new) } " new, " (b.unchanged) " unchanged, "
                    b { (b.resolved.len()) } " resolved, " (b.unverified.len()) " could not be checked again."
                }
            }
            @for n in &report.notes {
                p.note { b { (n.check) } " " (n.message) }
            }
        }
    }
}

fn grid_view(report: &Report, findings: &[Finding]) -> Markup {
    let rows = grid::grid(report, findings);
    let any_waste = rows.iter().any(|r| r.waste_usd > 0.0);
    html! {
        section #coverage aria-labelledby="coverage-h" {
            h2 #coverage-h { "Where the checks looked" }
            p.legend {
                span.cell.clean { "clean" } " checked, nothing found · "
                span.cell.undecided { "not evaluated" } " a call failed or data was missing, so some checks could not decide · "
                span.cell.notaudited { "not audited" } " the account could not be reached · "
                span.cell.notchecked { "not checked" } " no check of the service ran"
            }
            div.scroll {
                table.grid {
                    thead { tr { th { "account" } th { "region" } @for s in SERVICES { th { (s) } } @if any_waste { th { "waste a month" } } } }
                    tbody {
                        @for row in &rows {
                            tr {
                                th scope="row" { (row.account) @if let Some(n) = &row.account_name { br; small { (n) } } }
                                td.region { (row.region) }
                                @for (s, cell) in SERVICES.iter().zip(&row.cells) {
                                    (grid_cell(row, s, cell))
                                }
                                @if any_waste { td.num { @if row.waste_usd > 0.0 { (usd(row.waste_usd)) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn grid_cell(row: &grid::Row, service: &str, cell: &Cell) -> Markup {
    let filter = |class: &str, text: String, title: String| {
        html! {
            td class=(format!("cell {class}")) title=(title) data-account=(row.account) data-region=(row.region) data-service=(service) { (text) }
        }
    };
    match cell {
        Cell::NotAudited => html! { td.cell.notaudited { "not audited" } },
        Cell::NotChecked => html! { td.cell.notchecked { "not checked" } },
        Cell::NotApplicable => html! { td.cell.na { } },
        Cell::Clean => html! { td.cell.clean title="checked: nothing found" { "clean" } },
        Cell::NotEvaluated { undecided } => filter(
            "undecided",
            "not evaluated".into(),
            format!("{undecided} checks or calls could not decide here"),
        ),
        Cell::Findings {
            count,
            worst,
            undecided,
        } => filter(
            &format!(
                "found sev-{worst}{}",
                if *undecided > 0 { " partial" } else { "" }
            ),
            count.to_string(),
            format!(
                "{count} findings, worst {worst}{}",
                if *undecided > 0 {
                    format!("; {undecided} checks or calls could not decide")
                } else {
                    String::new()
                }
            ),
        ),
    }
}

fn gaps_view(report: &Report) -> Markup {
    let gaps = &report.coverage.gaps;
    let unknowns = &report.unknowns;
    html! {
        section #gaps aria-labelledby="gaps-h" {
            h2 #gaps-h { "What could not be seen" }
            @if gaps.is_empty() && unknowns.is_empty() {
                p.ok { "Every call succeeded and every check could decide." }
            }
            @if !gaps.is_empty() {
                details open[gaps.len() <= 20] {
                    summary { (gaps.len()) " coverage gaps: calls that failed" }
                    div.scroll { table.list {
                        thead { tr { th { "account" } th { "region" } th { "call" } th { "error code" } th { "about" } th { "message" } } }
                        tbody { @for g in gaps {
                            tr {
                                td { (g.account) } td { (g.region) }
                                td { code { (g.op()) } }
                                td { code { (g.error_code.as_deref().unwrap_or(match g.status {
                                    checks::model::CallStatus::AccessDenied => "access denied",
                                    checks::model::CallStatus::NotAvailable => "not available",
                                    _ => "failed",
                                })) } }
                                td.arn { (g.scope.as_deref().unwrap_or("the region")) }
                                td { (g.message.as_deref().unwrap_or("")) }
                            }
                        } }
                    } }
                }
            }
            @if !unknowns.is_empty() {
                details open[unknowns.len() <= 20] {
                    summary { (unknowns.len()) " not evaluated: checks that could not decide" }
                    div.scroll { table.list {
                        thead { tr { th { "check" } th { "account" } th { "region" } th { "resource" } th { "why" } } }
                        tbody { @for u in unknowns {
                            tr {
                                td { b { (u.check) } " " (u.name) } td { (u.account) } td { (u.region) }
                                td.arn { (u.resource.as_deref().unwrap_or("the region")) }
                                td { (u.reason) }
                            }
                        } }
                    } }
                }
            }
        }
    }
}

/// The distinct values of one attribute of the cards, for a filter's options.
fn distinct<'a>(
    cards: &[(Kind, &'a Finding, Option<&str>)],
    get: impl Fn(&'a Finding) -> Option<&'a str>,
) -> Vec<&'a str> {
    let set: BTreeSet<&str> = cards.iter().filter_map(|(_, f, _)| get(f)).collect();
    set.into_iter().collect()
}

fn select(name: &str, label: &str, any: &str, options: &[&str]) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { (any) }
                @for o in options { option value=(o) { (o) } }
            }
        }
    }
}

fn findings_view(report: &Report, cards: &[(Kind, &Finding, Option<&str>)]) -> Markup {
    let checks = distinct(cards, |f| Some(f.check.as_str()));
    let accounts = distinct(cards, |f| Some(f.account.as_str()));
    let regions = distinct(cards, |f| Some(f.region.as_str()));
    let mut owners = distinct(cards, |f| f.owner.as_deref());
    if !owners.is_empty() && cards.iter().any(|(_, f, _)| f.owner.is_none()) {
        owners.insert(0, "(none)");
    }
    let kinds: Vec<&str> = {
        let mut k = vec!["open"];
        if report
            .suppressions
            .as_ref()
            .is_some_and(|s| !s.suppressed.is_empty())
        {
            k.push("suppressed");
        }
        if let Some(b) = &report.baseline {
            if !b.resolved.is_empty() {
                k.push("resolved");
            }
            if !b.unverified.is_empty() {
                k.push("unverified");
            }
        }
        k
    };
    html! {
        section #findings aria-labelledby="findings-h" {
            h2 #findings-h { "Findings" }
            form #filters hidden role="search" {
                label { "show "
                    select name="kind" {
                        option value="open" { "findings of this run" }
                        @for k in &kinds[1..] { option value=(k) { (k) } }
                        @if kinds.len() > 1 { option value="" { "all of these" } }
                    }
                }
                label { "severity "
                    select name="sev" {
                        option value="" { "any" }
                        @for s in Severity::ALL { option value=(s.as_str()) { (s) } }
                    }
                }
                (select("service", "service", "any", &SERVICES))
                (select("check", "check", "any", &checks))
                (select("account", "account", "any", &accounts))
                (select("region", "region", "any", &regions))
                @if !owners.is_empty() { (select("owner", "owner", "any", &owners)) }
                @if report.baseline.is_some() {
                    label { "change "
                        select name="change" { option value="" { "any" } option value="new" { "new" } option value="unchanged" { "unchanged" } }
                    }
                }
                label { "resource " input type="search" name="q" placeholder="ARN, id or name" autocomplete="off"; }
                label { "sort "
                    select name="sort" {
                        option value="sev" { "severity" }
                        option value="check" { "check" }
                        option value="account" { "account, region" }
                        option value="region" { "region, account" }
                        @if !owners.is_empty() { option value="owner" { "owner" } }
                        option value="resource" { "resource" }
                        option value="cost" { "cost" }
                    }
                }
                button type="reset" { "clear" }
                output #shown aria-live="polite" {}
            }
            @if report.findings.is_empty() {
                p.ok { "No findings." }
            }
            div #list { (PreEscaped(CARDS)) }
            button #more type="button" hidden { "show more" }
        }
    }
}

fn card(kind: Kind, f: &Finding, reason: Option<&str>) -> Markup {
    let check = rules::find(&f.check);
    let commands = Commands::of(check, f);
    let service = grid::service_of_check(&f.check);
    let rank = f.severity as u8;
    let cost = f.cost.as_ref();
    html! {
        article class=(format!("finding sev-{} kind-{}", f.severity, kind.as_str())) id=(format!("f-{}", f.fingerprint))
            data-kind=(kind.as_str()) data-sev=(f.severity.as_str()) data-rank=(rank) data-check=(f.check)
            data-service=(service) data-account=(f.account) data-region=(f.region)
            data-owner=(f.owner.as_deref().unwrap_or("(none)")) data-change=(f.change.map_or("", |c| c.as_str()))
            data-cost=(cost.map_or(0.0, |c| c.monthly_usd)) {
            header {
                span.sev { (f.severity) }
                b.code { (f.check) } " "
                span.name { (f.name) }
                span.where { (f.account) " · " (f.region) }
                @if let Some(o) = &f.owner { span.owner title="owner" { (o) } }
                @if let Some(c) = f.change { span class=(format!("change {}", c.as_str())) { (c.as_str()) } }
                @match kind {
                    Kind::Open => {},
                    _ => span class=(format!("change {}", kind.as_str())) { (kind.as_str()) },
                }
                @if let Some(c) = cost {
                    span class=(format!("cost {}", c.kind.as_str())) title=(c.basis) {
                        @match c.kind {
                            CostKind::Waste => { (usd(c.monthly_usd)) "/month wasted" }
                            CostKind::Fix => { "fix adds " (usd(c.monthly_usd)) "/month" }
                        }
                    }
                }
            }
            p.msg { (f.message) }
            @if let Some(r) = reason { p.reason { "Suppressed: " (r) } }
            p.res { code { (f.resource) } }
            div.body {
                @if let Some(svg) = diagram::evidence_svg(f) {
                    figure.evidence {
                        (svg)
                        figcaption {
                            ol {
                                @for e in &f.evidence {
                                    li {
                                        code { (e.resource) } " " (e.fact)
                                        @if let Some(m) = &e.missing { " " span.missing { "missing: " (m) } }
                                    }
                                }
                            }
                        }
                    }
                }
                div.act {
                    h3 { "Fix" }
                    p { (f.remediation) }
                    @if let Some(c) = cost { p.basis { "Cost: " (c.basis) } }
                    (command_list("Confirm", &commands.confirm))
                    (command_list("Fix commands", &commands.fix))
                    p.ids {
                        "fingerprint " code.fp { (f.fingerprint) }
                        @if let Some(check) = check {
                            @for catalog in Catalog::ALL {
                                @let ids: Vec<&str> = check.controls_in(catalog).map(|c| c.id).collect();
                                @if !ids.is_empty() {
                                    " · " (catalog_label(catalog)) " " code { (ids.join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn catalog_label(c: Catalog) -> &'static str {
    match c {
        Catalog::SecurityHub => "Security Hub",
        Catalog::AwsConfig => "AWS Config",
        Catalog::Prowler => "Prowler",
    }
}

fn command_list(title: &str, commands: &[String]) -> Markup {
    html! {
        @if !commands.is_empty() {
            h3 { (title) }
            @for c in commands {
                div.cmd { pre { code { (c) } } button.copy type="button" { "copy" } }
            }
        }
    }
}
