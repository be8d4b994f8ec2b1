"""Benchmark of the release `audit` binary (run through tests/bench).

Cases:
  replay-demo  audit mocks/demo offline (no network, no credentials)
  moto-demo    audit the demo account seeded into moto on 127.0.0.1 (real HTTP, SigV4)

For each: wall time of the whole process (min / median / max over the runs), the run's own
wall_ms, peak RSS of the process (from wait4's rusage), and calls per operation.
"""

from __future__ import annotations

import argparse
import json
import os
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

AIMS = {"replay-demo": (0.100, 30), "moto-demo": (1.0, 60)}  # seconds, MiB


def run_once(audit: str, args: list[str], home: Path, credentials: bool) -> tuple[float, int, dict]:
    out = home / "report.json"
    argv = [audit, *args, "--format", "json", "--output", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=audit_env(home, credentials=credentials), cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code not in (0, 1):
        raise SystemExit(f"audit exited {code}: {' '.join(argv)}\n{err}")
    return wall, usage.ru_maxrss * 1024, json.loads(out.read_text())


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
    print(f"   peak RSS: {rss / 2**20:.1f} MiB   [aim < {aim_mib} MiB]")
    print(f"   calls: {stats['calls']} ({stats['retries']} retries, {stats['throttles']} throttled)")
    for op in stats["operations"]:
        print(f"     {op['service']:>6}:{op['operation']:<32} {op['calls']:>4}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    audit = os.environ.get("AUDIT_BIN") or str(REPO / "target" / "release" / "audit")

    bench("replay-demo", audit, ["--replay", "mocks/demo"], args.runs, credentials=False)

    with MotoServer() as moto:
        moto.reset()
        seed.seed("demo", EndpointSession(moto.endpoint, "us-east-1"))
        live = ["--endpoint-url", moto.endpoint, "--region", "us-east-1", "--region", "eu-west-1"]
        with tempfile.TemporaryDirectory() as tmp:
            # moto builds each service backend on first use (~1 s); that is moto, not us.
            run_once(audit, live, Path(tmp), credentials=True)
        bench("moto-demo", audit, live, max(3, args.runs // 2), credentials=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
