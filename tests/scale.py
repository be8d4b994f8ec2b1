"""Scale bench: audits synthetic recordings at 1x, 10x, 100x the demo through the simulated
AWS (`--simulate`: a latency per call and AWS's published token buckets), and compares the
wall time with the lower bound for that call graph.

The lower bound is what no auditor making these calls could beat, with any concurrency and
no CPU cost at all:

- latency: a call can be sent only when the data it names is known. A request's values
  (ARNs, names, instance types) must come from the response of an earlier call of the
  operation that lists them (the collector's own table, `audit operations`: ListServices
  before DescribeServices, and so on), and a page's token from the page before it. Every call of an account waits for the
  account's identity (GetCallerIdentity: the audit must know whose resources it reports).
  The earliest a call can finish is one latency after the latest of those it depends on,
  taking, for each value, the earliest call that returned it. The longest such chain is
  a bound.
- rate: every call draws a token from each of its buckets (per account and region, as AWS
  publishes them in src/data/aws-throttling.json). A bucket of burst B and refill r starts
  full; n calls through it cannot all be sent before (n - B) / r seconds after the first one
  could be, plus a latency for the last answer. Every bucket gives a bound.

The bound is the largest of these. Run through tests/bench (`--scales 1,10,100`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

def depends_on(audit: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Which operations' responses a call's request values can come from: the collector's
    own table (`audit operations --format json`, its `after` column). Tokens of a listing's
    next page come from the page before (same operation); see lower_bound."""
    out = subprocess.run([audit, "operations", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return {(op["service"], op["operation"]): [tuple(a.split(":", 1)) for a in op["after"]]
            for op in json.loads(out)}


TOKEN_KEYS = {"NextToken", "nextToken", "Marker"}
IDENTITY = ("sts", "GetCallerIdentity")


def _leaves(value, key=None):
    """(key, string) for every scalar string in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key)
    elif isinstance(value, str):
        yield key, value


XML_TEXT = re.compile(r">([^<>]+)<")


def _response_values(body) -> set[str]:
    if isinstance(body, str):
        return {html.unescape(t.strip()) for t in XML_TEXT.findall(body) if t.strip()}
    return {v for _, v in _leaves(body)}


def _request_values(params: dict) -> list[tuple[str, str]]:
    values = [(k, v) for k, v in _leaves(params.get("body") or {})]
    values += [(k, v) for k, v in _leaves(params.get("query") or {})]
    # REST paths carry names: /clusters/NAME/node-groups/NG
    values += [("path", seg) for seg in params.get("path", "").split("/") if seg]
    return values


class Call:
    __slots__ = ("service", "operation", "region", "account", "requests", "responses", "ef")

    def __init__(self, ex: dict, default_account: str):
        key = ex["key"]
        self.service = key["service"]
        self.operation = key["operation"]
        self.region = key["region"]
        self.account = key.get("account") or default_account
        self.requests = _request_values(key["params"])
        self.responses = _response_values(ex["body"])
        self.ef = None


def _bucket_defs() -> list[dict]:
    table = json.loads((REPO / "src" / "data" / "aws-throttling.json").read_text())
    return table["buckets"]


def _buckets_for(defs: list[dict], service: str, operation: str) -> list[tuple[str, dict]]:
    out = []
    for d in defs:
        if d["service"] == service and ("*" in d["operations"] or operation in d["operations"]):
            ident = f"{service}/{d['name']}" if d["shared"] else f"{service}/{d['name']}/{operation}"
            out.append((ident, d))
    return out


def lower_bound(recording: Path, latency: float, depends: dict) -> dict:
    """The lower bound (seconds) of auditing `recording`, and what sets it."""
    manifest = json.loads((recording / "manifest.json").read_text())
    default_account = manifest["accounts"][0]
    calls = [Call(json.loads(p.read_text()), default_account)
             for p in sorted((recording / "exchanges").rglob("*.json"))]
    if not manifest.get("fleet"):
        # A replay takes the regions from the manifest: the recorded DescribeRegions (the
        # live run's) is never asked, so it is no call of this audit.
        calls = [c for c in calls if (c.service, c.operation) != ("ec2", "DescribeRegions")]
    by_scope_op = defaultdict(list)
    for c in calls:
        by_scope_op[(c.account, c.region, c.service, c.operation)].append(c)
    identity = {c.account: c for c in calls if (c.service, c.operation) == IDENTITY}

    sys.setrecursionlimit(max(10000, 4 * len(calls)))

    def ef(c: Call) -> float:
        if c.ef is not None:
            return c.ef
        c.ef = float("inf")  # a cycle would make this call unreachable; there is none
        start = 0.0
        if (c.service, c.operation) != IDENTITY and c.account in identity:
            start = ef(identity[c.account])
        producers = depends.get((c.service, c.operation), [])
        for key, value in c.requests:
            if key in TOKEN_KEYS:
                ops = [(c.service, c.operation)]
            else:
                ops = producers
            best = None
            for svc, op in ops:
                for p in by_scope_op.get((c.account, c.region, svc, op), []):
                    if p is not c and value in p.responses:
                        t = ef(p)
                        best = t if best is None else min(best, t)
            if best is not None:
                start = max(start, best)
        c.ef = start + latency
        return c.ef

    path = max(ef(c) for c in calls)
    critical = max(calls, key=lambda c: c.ef)

    defs = _bucket_defs()
    members = defaultdict(list)
    for c in calls:
        for ident, d in _buckets_for(defs, c.service, c.operation):
            members[(c.account, c.region, ident)].append((c, d))
    rate_bound, rate_bucket = 0.0, None
    for (account, region, ident), cs in members.items():
        d = cs[0][1]
        n = len(cs)
        if n <= d["burst"]:
            continue
        first_send = min(c.ef - latency for c, _ in cs)
        t = first_send + (n - d["burst"]) / d["per_second"] + latency
        if t > rate_bound:
            rate_bound, rate_bucket = t, f"{ident} in {region}: {n} calls, burst {d['burst']:g}, {d['per_second']:g}/s"
    if rate_bound > path:
        what = f"rate: {rate_bucket}"
    else:
        what = f"latency: a chain of {round(path / latency)} calls ending in {critical.service}:{critical.operation}"
    return {"bound": max(path, rate_bound), "path": path, "rate": rate_bound, "what": what, "calls": len(calls)}


def synthesize(audit: str, out: Path, args: list[str]) -> None:
    """A synthetic recording in `out` (tests/synth.py with `args`)."""
    subprocess.run([sys.executable, str(REPO / "tests" / "synth.py"), "--out", str(out), *args,
                    "--audit", audit], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def simulator_file(tmp: Path, latency_ms: int) -> Path:
    """A --simulate file: this latency per call, and AWS's published rate limits."""
    sim = tmp / "sim.toml"
    sim.write_text(f"latency_ms = {latency_ms}\npublished_limits = true\n")
    return sim


def timed_run(argv: list[str], tmp: Path, gnu_time: str | None, env, label: str,
              ok: tuple[int, ...] = (0, 1)) -> tuple[float, int | None]:
    """Runs an audit command: its wall time, and its peak RSS in KiB from GNU time (None
    without it). An exit code outside `ok` ends the bench with the command's stderr."""
    rss_file = tmp / "rss.txt"
    if gnu_time:
        argv = [gnu_time, "-f", "%M", "-o", str(rss_file), *argv]
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env(tmp), cwd=REPO, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"audit exited {proc.returncode} at {label}:\n{proc.stderr.decode()}")
    return wall, int(rss_file.read_text().split()[-1]) if gnu_time else None


def simulated_run(audit: str, rec: Path, sim: Path, tmp: Path, gnu_time: str | None, env, label: str,
                  extra: list[str] = ()) -> tuple[float, dict, int]:
    """Replays `rec` through the simulator: the wall time, the JSON report and the peak RSS
    (KiB; from GNU time, else the report's own)."""
    out = tmp / f"report-{rec.name}.json"
    wall, rss_kb = timed_run([audit, "--replay", str(rec), "--simulate", str(sim), "--format", "json",
                              "--output", str(out), *extra], tmp, gnu_time, env, label)
    report = json.loads(out.read_text())
    return wall, report, rss_kb if rss_kb is not None else (report["stats"]["peak_rss_kb"] or 0)


def scale_bench(audit: str, scales: list[int], latency_ms: int, gnu_time: str | None, env) -> None:
    latency = latency_ms / 1000
    print(f"\n== scale: synthetic recordings (tests/synth.py --scale K) through --simulate "
          f"(latency {latency_ms} ms, AWS's published buckets)")
    print(f"   {'scale':>5} {'calls':>6} {'findings':>8} {'throttles':>9} {'retries':>7} "
          f"{'wall':>9} {'bound':>9} {'wall/bound':>10} {'peak RSS':>10}  bound set by")
    depends = depends_on(audit)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sim = simulator_file(tmp, latency_ms)
        for k in scales:
            rec = tmp / f"scale-{k}"
            t0 = time.perf_counter()
            synthesize(audit, rec, ["--scale", str(k)])
            generated = time.perf_counter() - t0
            bound = lower_bound(rec, latency, depends)
            wall, report, rss_kb = simulated_run(audit, rec, sim, tmp, gnu_time, env, f"scale {k}")
            stats = report["stats"]
            if stats["calls"] != bound["calls"]:
                print(f"   note: the audit made {stats['calls']} calls; the recording holds {bound['calls']}")
            print(f"   {k:>4}x {stats['calls']:>6} {report['summary']['findings']:>8} "
                  f"{stats['throttles']:>9} {stats['retries']:>7} {wall:>8.2f}s {bound['bound']:>8.2f}s "
                  f"{wall / bound['bound']:>10.2f} {rss_kb / 1024:>7.1f} MiB  {bound['what']} "
                  f"(generated in {generated:.1f} s)")
    print("   aims: wall/bound <= 1.3 at every size; peak RSS < 300 MiB at 100x; both growing no faster than linearly")


def sharded_runs(audit: str, rec: Path, tmp: Path, gnu_time: str | None, env, n: int) -> tuple[int, int]:
    """Replays `rec` as `n` shards (no simulator: memory is the question) and merges them:
    the largest shard run's peak RSS and the merge's, in KiB."""
    def peak(argv: list[str], label: str) -> int:
        # An incomplete run (exit 3) still says what memory it took.
        return timed_run(argv, tmp, gnu_time, env, label, ok=(0, 1, 3))[1] or 0

    reports = [tmp / f"shard-{k}.json" for k in range(n)]
    shard = max(peak([audit, "--replay", str(rec), "--shard", f"{k}/{n}", "--format", "json",
                      "--output", str(out)], f"shard {k}/{n}")
                for k, out in enumerate(reports))
    merged = peak([audit, "merge", *map(str, reports), "--format", "json", "--output",
                   str(tmp / "merged.json")], "merge")
    for p in [*reports, tmp / "merged.json"]:
        p.unlink(missing_ok=True)
    return shard, merged


def fleet_scale_bench(audit: str, sizes: list[int], latency_ms: int, concurrency: int,
                      gnu_time: str | None, env) -> None:
    """Synthetic organizations of N accounts x 2 regions (each account ~1x the demo),
    replayed through --simulate: wall against the lower bound, calls and peak RSS, to show
    how they grow with the number of accounts."""
    latency = latency_ms / 1000
    print(f"\n== fleet-scale: synthetic organizations (tests/synth.py --accounts N, 2 regions) through "
          f"--simulate (latency {latency_ms} ms, AWS's buckets per account and region, --concurrency {concurrency})")
    print(f"   {'accounts':>8} {'calls':>7} {'findings':>8} {'wall':>9} {'bound':>9} {'wall/bound':>10} "
          f"{'peak RSS':>10} {'RSS/acct':>9} {'shard 1/4':>10} {'merge 4':>10}  bound set by")
    depends = depends_on(audit)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sim = simulator_file(tmp, latency_ms)
        for n in sizes:
            rec = tmp / f"fleet-{n}"
            synthesize(audit, rec, ["--accounts", str(n), "--regions", "us-east-1,eu-west-1"])
            bound = lower_bound(rec, latency, depends)
            # No more than --concurrency calls are in flight: the calls, latency each, spread
            # over that many slots.
            slots = bound["calls"] * latency / concurrency
            if slots > bound["bound"]:
                bound["bound"], bound["what"] = slots, f"concurrency: {bound['calls']} calls over {concurrency} slots"
            wall, report, rss_kb = simulated_run(audit, rec, sim, tmp, gnu_time, env, f"{n} accounts",
                                                 ["--concurrency", str(concurrency)])
            stats = report["stats"]
            shard_kb, merge_kb = sharded_runs(audit, rec, tmp, gnu_time, env, 4)
            print(f"   {n:>8} {stats['calls']:>7} {report['summary']['findings']:>8} {wall:>8.2f}s "
                  f"{bound['bound']:>8.2f}s {wall / bound['bound']:>10.2f} {rss_kb / 1024:>7.1f} MiB "
                  f"{rss_kb / 1024 / n:>6.2f} MiB {shard_kb / 1024:>6.1f} MiB {merge_kb / 1024:>6.1f} MiB"
                  f"  {bound['what']}")
            shutil.rmtree(rec, ignore_errors=True)
    print("   aims: peak RSS at 1,000 accounts within 1.5x of 10 and under 300 MiB; wall/bound <= 1.3; "
          "both growing no faster than linearly; a shard and the merge of the shards within the "
          "whole run's memory")


if __name__ == "__main__":
    # Prints the bound of one recording: python3 tests/scale.py AUDIT_BIN DIR [latency_ms]
    audit, rec = sys.argv[1], Path(sys.argv[2])
    ms = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    print(json.dumps(lower_bound(rec, ms / 1000, depends_on(audit)), indent=2))
