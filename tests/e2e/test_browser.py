"""Browser test of the HTML report: the real `audit` binary writes report.html from the demo
recording, and Debian's Chromium (headless, driven by Playwright, offline) opens it.

It checks that the page is valid HTML5 (no parse error), makes no request at all, that there is one card per finding of the
JSON report and the totals agree, that every finding with evidence has its diagram, that
the filters, the search and the grid narrow the list as they say, that copy buttons copy,
that the page reads without JavaScript, and that a report with a baseline and suppressions
shows their cards. Screenshots go to $AWSAUDIT_ARTIFACTS (default
$CARGO_TARGET_DIR/e2e-artifacts, else a temp dir), printed at the end.

Run (run.sh does the setup):
    VENV=$(tests/e2e/setup_venv.sh); CHROMIUM=$(tests/e2e/setup_chromium.sh)
    AUDIT_BIN=$CARGO_TARGET_DIR/debug/audit "$VENV/bin/python" tests/e2e/test_browser.py [-v]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import run_audit  # noqa: E402

# As the Chromium that Debian ships needs it in a container, and nothing that would phone
# home at start (this machine's network is closed; a request would also fail the test).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
]

AUDIT: Path | None = None
TMP: Path | None = None
ARTIFACTS: Path | None = None
PW = None
BROWSER = None


def artifacts_dir() -> Path:
    if os.environ.get("AWSAUDIT_ARTIFACTS"):
        d = Path(os.environ["AWSAUDIT_ARTIFACTS"])
    else:
        target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache/awsaudit/target")
        d = Path(target) / "e2e-artifacts"
    d.mkdir(parents=True, exist_ok=True)
    return d


def setUpModule():  # noqa: N802
    global AUDIT, TMP, ARTIFACTS, PW, BROWSER
    AUDIT = harness.find_audit_bin()
    if AUDIT is None:
        raise RuntimeError("no audit binary: build it (cargo build) or set AUDIT_BIN")
    TMP = Path(tempfile.mkdtemp(prefix="awsaudit-browser-"))
    ARTIFACTS = artifacts_dir()
    from playwright.sync_api import sync_playwright

    PW = sync_playwright().start()
    BROWSER = PW.chromium.launch(
        executable_path=os.environ.get("AWSAUDIT_CHROMIUM", "/usr/bin/chromium"),
        args=CHROMIUM_ARGS, headless=True)


def tearDownModule():  # noqa: N802
    if BROWSER is not None:
        BROWSER.close()
    if PW is not None:
        PW.stop()
    if TMP is not None and not os.environ.get("AUDIT_E2E_KEEP"):
        shutil.rmtree(TMP, ignore_errors=True)
    if ARTIFACTS is not None:
        print(f"screenshots: {ARTIFACTS}")


def write_reports(name: str, extra: list[str]) -> tuple[dict, Path]:
    """Replays the demo into report.json and report.html under TMP/name."""
    out = TMP / name
    out.mkdir()
    home = TMP / f"{name}-home"
    home.mkdir()
    args = ["--replay", str(harness.REPO / "mocks" / "demo"), "--format", "json,html",
            "--output-dir", str(out)] + extra
    run = run_audit(AUDIT, args, home, credentials=False)
    assert run.returncode in (0, 3), f"{run.command} exited {run.returncode}: {run.stderr}"
    return json.loads((out / "report.json").read_text()), out / "report.html"


class Page:
    """A page of report.html in a fresh offline context that records every request."""

    def __init__(self, html: Path, *, javascript: bool = True):
        self.context = BROWSER.new_context(
            java_script_enabled=javascript, viewport={"width": 1400, "height": 1000},
            offline=True)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.url = html.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")

    def visible(self, selector: str) -> int:
        return self.page.locator(f"{selector}:visible").count()

    def shot(self, name: str, *, full: bool = False):
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def close(self):
        self.context.close()

    def assert_sealed(self, test: unittest.TestCase):
        # The page itself is the only request; nothing it holds asked for anything.
        test.assertEqual([u for u in self.requests if u != self.url], [], "requests left the page")
        test.assertEqual(self.errors, [], "script errors")


class DemoReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.report, cls.html = write_reports("demo", [])
        cls.findings = cls.report["findings"]

    def setUp(self):
        self.p = Page(self.html)
        self.page = self.p.page

    def tearDown(self):
        self.p.assert_sealed(self)
        self.p.close()

    def test_the_page_is_valid_html5(self):
        import html5lib

        parser = html5lib.HTMLParser(strict=False)
        parser.parse(self.html.read_bytes())
        self.assertEqual(parser.errors[:5], [], "HTML5 parse errors (line, column), code")

    def test_cards_and_totals_match_the_json_report(self):
        cards = self.page.locator("article.finding[data-kind=open]")
        self.assertEqual(cards.count(), len(self.findings))
        self.assertEqual(self.p.visible("article.finding"), len(self.findings), "the demo fits one page")
        fps = cards.evaluate_all("cs => cs.map(c => c.id.slice(2))")
        self.assertEqual(sorted(fps), sorted(f["fingerprint"] for f in self.findings))
        for sev, n in self.report["summary"]["by_severity"].items():
            self.assertEqual(self.page.locator(f"[data-count={sev}]").inner_text(), str(n), sev)
        self.assertEqual(self.page.locator("#total-findings").inner_text(), str(len(self.findings)))
        self.assertIn(f"showing {len(self.findings)} of {len(self.findings)}",
                      self.page.locator("#shown").inner_text())
        self.p.shot("demo-landing")

    def test_every_finding_with_evidence_has_its_diagram(self):
        for f in self.findings:
            card = self.page.locator(f"#f-{f['fingerprint']}")
            svg = card.locator("svg.diagram")
            if not f["evidence"]:
                self.assertEqual(svg.count(), 0)
                continue
            self.assertEqual(svg.count(), 1, f["check"])
            resources = {e["resource"] for e in f["evidence"]} | {f["resource"]}
            nodes = svg.locator("g.n:not(.missing)").count()
            self.assertGreaterEqual(nodes, min(len(resources), 12), f["check"])
            missing = [e["missing"] for e in f["evidence"] if e.get("missing")]
            self.assertEqual(svg.locator("g.n.missing").count(), len(missing), f["check"])
            # Drawn, not just present: the diagram has a size on the page.
            card.scroll_into_view_if_needed()
            box = svg.bounding_box()
            self.assertTrue(box and box["width"] > 100 and box["height"] > 40, f["check"])
        vpc002 = next(f for f in self.findings if f["check"] == "VPC002")
        card = self.page.locator(f"#f-{vpc002['fingerprint']}")
        card.scroll_into_view_if_needed()
        self.assertIn("S3 gateway endpoint", card.locator("svg.diagram g.n.missing").text_content())
        card.screenshot(path=str(ARTIFACTS / "demo-vpc002-card.png"))

    def test_filters_search_and_sort(self):
        form = self.page.locator("#filters")
        self.assertTrue(form.is_visible())
        high = [f for f in self.findings if f["severity"] == "high"]
        form.locator("select[name=sev]").select_option("high")
        self.assertEqual(self.p.visible("article.finding"), len(high))
        self.assertEqual(self.p.visible("article.finding:not(.sev-high)"), 0)
        form.locator("select[name=check]").select_option("VPC002")
        self.assertEqual(self.p.visible("article.finding"),
                         sum(1 for f in high if f["check"] == "VPC002"))
        self.p.shot("demo-filtered")
        form.locator("button[type=reset]").click()
        self.page.wait_for_function(f"document.querySelectorAll('article.finding:not([hidden])').length === {len(self.findings)}")
        # Search by resource: any resource of the evidence, any case.
        form.locator("input[name=q]").fill("LEDGER-WORKER")
        want = [f for f in self.findings
                if "ledger-worker" in " ".join([f["resource"]] + [e["resource"] for e in f["evidence"]]).lower()]
        self.assertTrue(want)
        self.assertEqual(self.p.visible("article.finding"), len(want))
        form.locator("input[name=q]").fill("")
        # Sort by check: the visible cards come in check order.
        form.locator("select[name=sort]").select_option("check")
        codes = self.page.locator("article.finding").evaluate_all("cs => cs.map(c => c.dataset.check)")
        self.assertEqual(codes, sorted(codes))
        form.locator("select[name=sort]").select_option("sev")
        ranks = self.page.locator("article.finding").evaluate_all("cs => cs.map(c => +c.dataset.rank)")
        self.assertEqual(ranks, sorted(ranks, reverse=True))

    def test_severity_total_and_grid_cell_filter_the_list(self):
        self.page.locator("button.total[data-value=critical]").click()
        crit = sum(1 for f in self.findings if f["severity"] == "critical")
        self.assertEqual(self.p.visible("article.finding"), crit)
        cell = self.page.locator("td.cell.found[data-service=VPC]").first
        account, region = cell.get_attribute("data-account"), cell.get_attribute("data-region")
        n = int(cell.inner_text())
        cell.click()
        want = [f for f in self.findings
                if f["account"] == account and f["region"] == region and f["check"].startswith("VPC")]
        self.assertEqual(len(want), n)
        self.assertEqual(self.p.visible("article.finding"), n)
        # The cell's filter replaced the severity one.
        self.assertEqual(self.page.locator("select[name=sev]").input_value(), "")

    def test_grid_tells_clean_from_not_evaluated(self):
        undecided = self.page.locator("td.cell.undecided")
        clean = self.page.locator("td.cell.clean")
        self.assertGreater(undecided.count() + self.page.locator("td.cell.found.partial").count(), 0)
        self.assertGreater(clean.count(), 0)
        colour = lambda loc: loc.first.evaluate("e => getComputedStyle(e).backgroundImage + getComputedStyle(e).backgroundColor")  # noqa: E731
        if undecided.count():
            self.assertNotEqual(colour(undecided), colour(clean))
        for u in self.report["unknowns"]:
            self.assertIn(u["reason"], self.page.locator("#gaps").inner_text())

    def test_copy_buttons_copy_the_command(self):
        self.p.context.grant_permissions(["clipboard-read", "clipboard-write"])
        f = next(f for f in self.findings if f["check"] == "ECS001")
        card = self.page.locator(f"#f-{f['fingerprint']}")
        cmd = card.locator(".cmd").first
        cmd.scroll_into_view_if_needed()
        text = cmd.locator("pre").inner_text()
        self.assertIn("aws ecs", text)
        cmd.locator("button.copy").click()
        self.page.wait_for_function("b => b.textContent !== 'copy'", arg=cmd.locator("button.copy").element_handle())
        label = cmd.locator("button.copy").inner_text()
        self.assertIn(label, ("copied", "select and copy"))
        if label == "copied":
            self.assertEqual(self.page.evaluate("navigator.clipboard.readText()"), text)


class OwnersAndCosts(unittest.TestCase):
    def test_owner_filter_and_cost_badges(self):
        report, html = write_reports("owners", ["--owner-tag", "team", "--owner-tag", "app"])
        p = Page(html)
        try:
            page, findings = p.page, report["findings"]
            owners = {f.get("owner") for f in findings}
            self.assertIn("platform", owners)
            page.locator("select[name=owner]").select_option("platform")
            self.assertEqual(p.visible("article.finding"), sum(1 for f in findings if f.get("owner") == "platform"))
            self.assertEqual(p.visible("article.finding .owner"), p.visible("article.finding"))
            if None in owners:
                page.locator("select[name=owner]").select_option("(none)")
                self.assertEqual(p.visible("article.finding"), sum(1 for f in findings if "owner" not in f))
            page.locator("select[name=owner]").select_option("")
            # Costs: a badge per priced finding, the waste total as the JSON summary says.
            priced = [f for f in findings if f.get("cost")]
            self.assertTrue(priced, "the demo prices an idle cluster and endpoint fixes")
            for f in priced:
                badge = page.locator(f"#f-{f['fingerprint']} .cost.{f['cost']['kind']}")
                self.assertEqual(badge.count(), 1, f["check"])
                self.assertIn(f"{f['cost']['monthly_usd']:.2f}", badge.text_content())
            waste = report["summary"]["waste_monthly_usd"]
            self.assertIn(f"${waste:.2f}", page.locator(".total.waste").inner_text())
            page.locator("select[name=sort]").select_option("cost")
            first = page.locator("article.finding").first
            self.assertEqual(first.get_attribute("id"), "f-" + max(priced, key=lambda f: f["cost"]["monthly_usd"])["fingerprint"])
            p.shot("demo-owners-costs")
        finally:
            p.assert_sealed(self)
            p.close()


class WithoutJavaScript(unittest.TestCase):
    def test_every_finding_reads_without_a_script(self):
        report, html = write_reports("nojs", [])
        p = Page(html, javascript=False)
        try:
            self.assertEqual(p.visible("article.finding"), len(report["findings"]))
            self.assertEqual(p.visible("#filters"), 0, "filters need the script: hidden without it")
            self.assertEqual(p.visible("button.copy"), 0)
            self.assertEqual(p.page.locator("svg.diagram").count(),
                             sum(1 for f in report["findings"] if f["evidence"]))
            p.shot("demo-no-javascript")
        finally:
            p.assert_sealed(self)
            p.close()


class BaselineAndSuppressions(unittest.TestCase):
    def test_resolved_and_suppressed_cards(self):
        first, _ = write_reports("base", [])
        # A baseline with one extra finding this run will not have: it is resolved.
        gone = dict(first["findings"][0])
        gone["fingerprint"] = "f" * 32
        gone["resource"] = gone["resource"] + "-deleted"
        first["findings"].append(gone)
        baseline = TMP / "baseline.json"
        baseline.write_text(json.dumps(first))
        supp = TMP / "suppressions.toml"
        supp.write_text('[[suppress]]\ncheck = "IAM001"\nreason = "vendor access reviewed"\n')
        report, html = write_reports("compared", ["--baseline", str(baseline), "--suppressions", str(supp)])
        p = Page(html)
        try:
            page = p.page
            self.assertEqual(page.locator("article[data-kind=resolved]").count(), len(report["baseline"]["resolved"]))
            self.assertEqual(page.locator("article[data-kind=suppressed]").count(),
                             len(report["suppressions"]["suppressed"]))
            self.assertEqual(p.visible("article.finding"), len(report["findings"]), "open findings by default")
            page.locator("select[name=kind]").select_option("resolved")
            self.assertEqual(p.visible("article.finding"), len(report["baseline"]["resolved"]))
            page.locator("select[name=kind]").select_option("open")
            page.locator("select[name=change]").select_option("unchanged")
            self.assertEqual(p.visible("article.finding"),
                             sum(1 for f in report["findings"] if f.get("change") == "unchanged"))
            p.shot("baseline-unchanged")
        finally:
            p.assert_sealed(self)
            p.close()


if __name__ == "__main__":
    sys.exit(harness.unittest_main("__main__", "browser tests"))
