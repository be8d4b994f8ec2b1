"""Benchmark of the release `audit` binary (run through tests/bench).

Cases:
  replay-demo  audit mocks/demo offline (no network, no credentials)
  moto-demo    audit the demo account seeded into moto on 127.0.0.1 (real HTTP, SigV4)
  fleet        an Organization of N member accounts in moto (each seeded with the vpc002
               scenario), audited with --org across M regions: live against moto, and the
               same run replayed from its recording (our own cost, without moto's service
               time, which is one request at a time). Shows how wall time and peak RSS grow
               with N x M.
  scale        synthetic recordings at 1x, 10x, 100x the demo, audited through the simulated
               AWS (latency and AWS's published rate limits), against the lower bound of
               their call graph (tests/scale.py).
  fleet-scale  synthetic organizations of 10, 100, 1,000 accounts x 2 regions through
               --simulate: wall against the lower bound, calls, peak RSS per account count.
  html         report.html of the synthetic recordings at the same sizes: file size, render
               time, and the time headless Chromium takes to load it and to filter it
               (tests/html_bench.py).

For each: wall time of the whole process (min / median / max over the runs), the run's own
wall_ms, peak RSS of the process (from wait4's rusage), and calls per operation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import audit_env  # noqa: E402
from moto_server import EndpointSession, MotoServer  # noqa: E402
import seed  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
import html_bench  # noqa: E402
import scale  # noqa: E402

AIMS = {"replay-demo": (0.100, 30), "moto-demo": (1.0, 60)}  # seconds, MiB


# Peak RSS comes from GNU time when it is installed: rusage of a child forked from this
# Python process would count the parent's pages (boto3, moto) shared before exec.
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(audit: str, args: list[str], home: Path, credentials: bool) -> tuple[float, int, dict]:
    out = home / "report.json"
    rss_file = home / "rss.txt"
    argv = [audit, *args, "--format", "json", "--output", str(out)]
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv]
    start = time.perf_counter()
    proc = subprocess.run(argv, env=audit_env(home, credentials=credentials), cwd=REPO,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit exited {proc.returncode}: {' '.join(argv)}\n{proc.stderr.decode()}")
    report = json.loads(out.read_text())
    if GNU_TIME:
        rss_kb = int(rss_file.read_text().split()[-1])
    else:
        # The binary's own VmHWM, read just before it renders the report.
        rss_kb = report["stats"]["peak_rss_kb"] or 0
    return wall, rss_kb * 1024, report


def bench(name: str, audit: str, args: list[str], runs: int, credentials: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        results = [run_once(audit, args, home, credentials) for _ in range(runs)]
    walls = [w for w, _, _ in results]
    rss = max(r for _, r, _ in results)
    report = results[-1][2]
    stats = report["stats"]
    aim_s, aim_mib = AIMS[name]
    print(f"\n== {name}: {' '.join(args)}")
    print(f"   runs {runs}; findings {report['summary']['findings']}; "
          f"regions {', '.join(report['regions'])}")
    print(f"   wall (process): min {min(walls)*1000:.1f} ms, median {statistics.median(walls)*1000:.1f} ms, "
          f"max {max(walls)*1000:.1f} ms   [aim < {aim_s*1000:.0f} ms]")
    print(f"   wall (run's own, last): {stats['wall_ms']} ms")
    how = "GNU time" if GNU_TIME else "self-reported VmHWM"
    print(f"   peak RSS: {rss / 2**20:.1f} MiB ({how})   [aim < {aim_mib} MiB]")
    print(f"   calls: {stats['calls']} ({stats['retries']} retries, {stats['throttles']} throttled)")
    for op in stats["operations"]:
        print(f"     {op['service']:>6}:{op['operation']:<32} {op['calls']:>4}")


FLEET_REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"]


def seed_org(moto: MotoServer, members: int) -> None:
    moto.reset()
    moto.seed_ids(seed.ID_SEED)
    root = EndpointSession(moto.endpoint, "us-east-1")
    org = root.client("organizations")
    org.create_organization(FeatureSet="ALL")
    for i in range(members):
        account = org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")
        seed.seed_vpc002(root.in_account(account["CreateAccountStatus"]["AccountId"]))


def fleet(audit: str, moto: MotoServer, sizes: list[int], region_counts: list[int], runs: int) -> None:
    print("\n== fleet: --org --role-name awsaudit-member, N member accounts (+ the management "
          "account) x M regions")
    print(f"   {'N':>3} {'M':>2} {'acct-regions':>12} {'calls':>6} {'findings':>8} "
          f"{'moto wall':>10} {'replay wall':>12} {'per acct-region':>16} {'peak RSS (replay)':>18} "
          f"{'peak RSS (moto)':>16}")
    for n in sizes:
        seed_org(moto, n)
        for m in region_counts:
            regions = [a for r in FLEET_REGIONS[:m] for a in ("--region", r)]
            live = ["--endpoint-url", moto.endpoint, *regions, "--org", "--role-name", "awsaudit-member"]
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp)
                run_once(audit, live, home, credentials=True)  # moto warms its backends
                rec = home / "rec"
                live_runs = [run_once(audit, [*live, "--record", str(rec)], home, credentials=True)
                             for _ in range(max(1, runs))]
                replay = [run_once(audit, ["--replay", str(rec)], home, credentials=False)
                          for _ in range(max(3, runs))]
            report = replay[-1][2]
            accounts = len(report["accounts"])
            scopes = accounts * m
            live_wall = statistics.median(w for w, _, _ in live_runs)
            replay_wall = statistics.median(w for w, _, _ in replay)
            print(f"   {n:>3} {m:>2} {scopes:>12} {report['stats']['calls']:>6} "
                  f"{report['summary']['findings']:>8} {live_wall*1000:>8.0f} ms {replay_wall*1000:>9.1f} ms "
                  f"{replay_wall*1000/scopes:>13.2f} ms {max(r for _, r, _ in replay)/2**20:>15.1f} MiB "
                  f"{max(r for _, r, _ in live_runs)/2**20:>13.1f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--fleet-sizes", default="1,4,16",
                    help="member account counts for the fleet case (comma-separated; empty skips it)")
    ap.add_argument("--fleet-regions", default="1,4", help="region counts for the fleet case")
    ap.add_argument("--scales", default="1,10,100",
                    help="sizes of the scale case, in multiples of the demo (empty skips it)")
    ap.add_argument("--latency-ms", type=int, default=50, help="simulated latency per call (scale case)")
    ap.add_argument("--fleet-accounts", default="10,100,1000",
                    help="account counts of the fleet-scale case (comma-separated; empty skips it)")
    ap.add_argument("--concurrency", type=int, default=64, help="--concurrency of the fleet-scale case")
    ap.add_argument("--only", choices=["replay-demo", "moto-demo", "fleet", "scale", "fleet-scale", "html"],
                    help="run one case")
    args = ap.parse_args()
    audit = os.environ.get("AUDIT_BIN") or str(REPO / "target" / "release" / "audit")

    if args.only in (None, "scale") and args.scales:
        scale.scale_bench(audit, [int(k) for k in args.scales.split(",")], args.latency_ms, GNU_TIME,
                          lambda home: audit_env(home, credentials=False))
    if args.only == "scale":
        return 0
    if args.only in (None, "fleet-scale") and args.fleet_accounts:
        scale.fleet_scale_bench(audit, [int(n) for n in args.fleet_accounts.split(",")], args.latency_ms,
                                args.concurrency, GNU_TIME, lambda home: audit_env(home, credentials=False))
    if args.only == "fleet-scale":
        return 0
    if args.only in (None, "html") and args.scales:
        html_bench.html_bench(audit, [int(k) for k in args.scales.split(",")], max(1, min(3, args.runs)),
                              lambda home: audit_env(home, credentials=False))
    if args.only == "html":
        return 0
    if args.only in (None, "replay-demo"):
        bench("replay-demo", audit, ["--replay", "mocks/demo"], args.runs, credentials=False)
    if args.only == "replay-demo":
        return 0

    with MotoServer() as moto:
        moto.reset()
        seed.seed("demo", EndpointSession(moto.endpoint, "us-east-1"))
        live = ["--endpoint-url", moto.endpoint, "--region", "us-east-1", "--region", "eu-west-1"]
        with tempfile.TemporaryDirectory() as tmp:
            # moto builds each service backend on first use (~1 s); that is moto, not us.
            run_once(audit, live, Path(tmp), credentials=True)
        if args.only in (None, "moto-demo"):
            bench("moto-demo", audit, live, max(3, args.runs // 2), credentials=True)
        if args.fleet_sizes and args.only in (None, "fleet"):
            fleet(audit, moto, [int(n) for n in args.fleet_sizes.split(",")],
                  [int(m) for m in args.fleet_regions.split(",")], max(1, args.runs // 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
