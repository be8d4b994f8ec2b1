"""HTML report bench: synthetic recordings at 1x, 10x, 100x the demo (tests/synth.py), each
replayed into report.json and report.html, and the page opened in headless Chromium
(Debian's, through Playwright, offline).

Prints per size: findings, the HTML file's size (and bytes per finding), the time the audit
took with the HTML beside the JSON and with the JSON alone (what rendering the page costs),
the browser's time to the load event and to the first cards painted, the time a filter
change takes once loaded, and the browser tab's JS heap.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from scale import synthesize
from test_browser import CHROMIUM_ARGS as BROWSER_ARGS

REPO = Path(__file__).resolve().parent.parent
# As the browser test launches it, with performance.memory in exact bytes, not 10 MiB
# buckets.
CHROMIUM_ARGS = [*BROWSER_ARGS, "--enable-precise-memory-info"]
# A filter change: how long the script takes to re-filter every card, and the browser to
# lay out the result (two animation frames after the change).
FILTER_JS = """async () => {
  const sel = document.querySelector('#filters select[name=sev]');
  const t0 = performance.now();
  sel.value = 'high';
  sel.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const t1 = performance.now();
  sel.value = '';
  sel.dispatchEvent(new Event('input', {bubbles: true}));
  return t1 - t0;
}"""


def _timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"audit exited {proc.returncode}:\n{proc.stderr.decode()}")
    return time.perf_counter() - start


def html_bench(audit: str, scales: list[int], runs: int, env) -> None:
    from playwright.sync_api import sync_playwright

    print("\n== html: report.html of synthetic recordings (tests/synth.py --scale K), opened in "
          "headless Chromium")
    print(f"   {'scale':>5} {'findings':>8} {'size':>9} {'B/finding':>9} {'render':>8} "
          f"{'load':>8} {'first paint':>11} {'filter':>8} {'JS heap':>9}")
    chromium = os.environ.get("AWSAUDIT_CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        tmp = Path(tmp)
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for k in scales:
            rec = tmp / f"scale-{k}"
            synthesize(audit, rec, ["--scale", str(k)])
            out = tmp / f"out-{k}"
            out.mkdir()
            base = [audit, "--replay", str(rec), "--output-dir", str(out)]
            with_html = [_timed(base + ["--format", "json,html"], env(tmp)) for _ in range(runs)]
            json_only = [_timed(base + ["--format", "json"], env(tmp)) for _ in range(runs)]
            _timed(base + ["--format", "json,html"], env(tmp))
            findings = json.loads((out / "report.json").read_text())["summary"]["findings"]
            page_file = out / "report.html"
            size = page_file.stat().st_size
            loads, paints, filters, heaps = [], [], [], []
            for _ in range(runs):
                ctx = browser.new_context(offline=True, viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                requests = []
                page.on("request", lambda r: requests.append(r.url))
                page.goto(page_file.as_uri(), wait_until="load")
                nav = page.evaluate("JSON.parse(JSON.stringify(performance.getEntriesByType('navigation')[0]))")
                loads.append(nav["loadEventEnd"] / 1000)
                paint = page.evaluate(
                    "performance.getEntriesByType('paint').filter(p => p.name === 'first-contentful-paint')"
                    ".map(p => p.startTime)[0] || 0")
                paints.append(paint / 1000)
                filters.append(page.evaluate(FILTER_JS) / 1000)
                heaps.append(page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0"))
                if requests != [page_file.as_uri()]:
                    raise SystemExit(f"the page made requests: {requests}")
                ctx.close()
            med = statistics.median
            print(f"   {k:>4}x {findings:>8} {size / 1e6:>7.2f}MB {size / max(findings, 1):>9.0f} "
                  f"{max(0.0, min(with_html) - min(json_only)):>7.2f}s {med(loads):>7.2f}s {med(paints):>10.2f}s "
                  f"{med(filters):>7.3f}s {med(heaps) / 2**20:>6.1f} MiB")
        browser.close()
    print("   render: the audit's fastest wall with --format json,html minus its fastest with json alone; "
          "load: navigation start to the load event; filter: one severity change, laid out")
