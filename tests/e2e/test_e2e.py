"""End-to-end tests: the real `audit` binary against the moto emulator, then offline.

For every scenario in seed.py:
  1. reset moto, seed the scenario;
  2. run `audit` live against moto and check the scenario's expectations (skipping those that
     need a hand patch moto cannot produce);
  3. run it again live with `--record DIR` (same findings as step 2: runs are deterministic);
  4. run `--replay DIR` with no endpoint and no credentials: findings (fingerprints included)
     and unknowns equal the recorded run's exactly.
Then the committed, hand-patched mocks in mocks/<scenario>/ are replayed and checked against
ALL expectations (mocks/<scenario>/expected.json), and bad input must end with exit code 2.
RecordMocksTests check, without moto, that record_mocks.py writes only what changed.

Run (record_mocks.py and run.sh do the setup for you):
    VENV=$(tests/e2e/setup_venv.sh)
    AUDIT_BIN=$CARGO_TARGET_DIR/debug/audit "$VENV/bin/python" tests/e2e/test_e2e.py [-v] [-k demo]

Env: AUDIT_BIN (default $CARGO_TARGET_DIR/debug/audit), AWSAUDIT_VENV (moto's venv),
AUDIT_E2E_KEEP=1 keeps the temp dir (reports, recordings, moto log) for a look afterwards.
Stdlib unittest only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import record_mocks  # noqa: E402
from harness import check_expectations, run_audit, scan_args  # noqa: E402
from moto_server import MotoServer, closed_port  # noqa: E402
from seed import ID_SEED, SCENARIOS, Expect, seed  # noqa: E402

MOCKS = harness.REPO / "mocks"
LIVE_EXIT_CODES = (0, 1, 3)  # completed / findings at --fail-on / coverage gaps (moto lacks some APIs)

AUDIT: Path | None = None
MOTO: MotoServer | None = None
TMP: Path | None = None


def setUpModule():  # noqa: N802
    global AUDIT, MOTO, TMP
    AUDIT = harness.find_audit_bin()
    TMP = Path(tempfile.mkdtemp(prefix="awsaudit-e2e-"))


def tearDownModule():  # noqa: N802
    if MOTO is not None:
        MOTO.stop()
    if TMP is not None:
        if os.environ.get("AUDIT_E2E_KEEP"):
            print(f"\nkept {TMP}", file=sys.stderr)
        else:
            shutil.rmtree(TMP, ignore_errors=True)


def need_audit(test: unittest.TestCase) -> Path:
    if AUDIT is None:
        test.skipTest("no audit binary: set AUDIT_BIN or build with cargo build")
    return AUDIT


def need_moto(test: unittest.TestCase) -> MotoServer:
    """One moto server for the whole module, started on first use."""
    global MOTO
    try:
        import boto3  # noqa: F401
    except ImportError:
        test.skipTest("boto3 missing: run with the venv's python (tests/e2e/setup_venv.sh)")
    if MOTO is None:
        MOTO = MotoServer(log_path=TMP / "moto.log").start()
    return MOTO


def fingerprints(report: dict) -> list:
    return [f.get("fingerprint") for f in report.get("findings") or []]


class ScenarioTests(unittest.TestCase):
    """Live against moto, record, replay: one test per scenario (generated below)."""

    maxDiff = None

    def run_scenario(self, name: str) -> None:
        audit = need_audit(self)
        moto = need_moto(self)
        work = TMP / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        home = work / "home"

        moto.reset()
        moto.seed_ids(ID_SEED)
        seeded = seed(name, moto.boto3_session())
        regions = seeded.regions

        # 1. live
        out_live = work / "live.json"
        live = run_audit(audit, scan_args(moto.endpoint, regions, out_live, accounts=seeded.accounts), home,
                         credentials=True, output=out_live)
        self.assert_ran(live, LIVE_EXIT_CODES, moto)
        problems = check_expectations(live.report, seeded.must, seeded.must_not, include_patched=False)
        self.assertEqual(problems, [], f"{name}: live run vs expectations\n{live.describe()}")

        # 2. live again, recording
        rec = work / "recording"
        out_rec = work / "recorded.json"
        recorded = run_audit(audit, scan_args(moto.endpoint, regions, out_rec, record=rec, accounts=seeded.accounts),
                             home, credentials=True, output=out_rec)
        self.assert_ran(recorded, LIVE_EXIT_CODES, moto)
        self.assertTrue((rec / "manifest.json").is_file(), f"--record wrote no manifest.json\n{recorded.describe()}")
        self.assertEqual(recorded.report["findings"], live.report["findings"],
                         f"{name}: two live runs over the same account differ")
        self.assert_nothing_secret(rec, seeded.secrets)

        # 3. replay: offline, no credentials, no endpoint
        out_rep = work / "replayed.json"
        replayed = run_audit(audit, scan_args(None, regions, out_rep, replay=rec), home,
                             credentials=False, output=out_rep)
        self.assert_ran(replayed, (recorded.returncode,), None)
        self.assertEqual(fingerprints(replayed.report), fingerprints(recorded.report),
                         f"{name}: replayed fingerprints differ")
        self.assertEqual(replayed.report["findings"], recorded.report["findings"],
                         f"{name}: replayed findings differ")
        self.assertEqual(harness.comparable_unknowns(replayed.report), harness.comparable_unknowns(recorded.report),
                         f"{name}: replayed unknowns differ")

    def assert_nothing_secret(self, rec: Path, secrets: list[str]) -> None:
        """Recordings hold no seeded secret, credential or signature (they get committed)."""
        needles = list(secrets) + ["AWS4-HMAC-SHA256", "Credential=", "X-Amz-Signature", "X-Amz-Security-Token"]
        for path in sorted(rec.rglob("*")):
            if path.is_file():
                text = path.read_text(errors="replace").lower()
                for needle in needles:
                    self.assertFalse(needle.lower() in text, f"{path.relative_to(rec)} contains {needle!r}")

    def assert_ran(self, run: harness.Run, codes, moto: MotoServer | None) -> None:
        ctx = run.describe() + (f"\n--- moto log (tail)\n{moto.log_tail()}" if moto else "")
        self.assertNotIn("panicked at", run.stderr, f"the binary panicked\n{ctx}")
        self.assertIn(run.returncode, codes, f"unexpected exit code\n{ctx}")
        self.assertIsNotNone(run.report, f"no JSON report written\n{ctx}")
        self.assertEqual(run.report.get("schema_version"), 1, "schema_version")
        self.assertEqual(harness.schema_problems(run.report), [], f"report breaks src/report.schema.json\n{ctx}")
        self.assertIsInstance(run.report.get("findings"), list, "findings is a list")
        self.assertIsInstance(run.report.get("unknowns", []), list, "unknowns is a list")
        for f in run.report["findings"]:
            for key in ("check", "severity", "account", "region", "resource", "message", "fingerprint"):
                self.assertIn(key, f, f"finding without {key}: {f}")


class SecretsTests(unittest.TestCase):
    """No credential and no seeded secret reaches any output, at the most verbose logging."""

    def test_no_secret_in_logs_reports_or_recordings(self):
        # demo: a secret-named variable; ecs-catalog: a password by name and an AWS access
        # key id by value (ECS003 must name both variables and print neither value).
        for scenario in ("demo", "ecs-catalog"):
            with self.subTest(scenario=scenario):
                self._probe(scenario)

    def _probe(self, scenario: str):
        audit = need_audit(self)
        moto = need_moto(self)
        work = TMP / "secrets" / scenario
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        home = work / "home"
        moto.reset()
        moto.seed_ids(ID_SEED)
        seeded = seed(scenario, moto.boto3_session())
        self.assertTrue(seeded.secrets, f"{scenario} seeds no secret to look for")
        creds = {
            "AWS_ACCESS_KEY_ID": "AKIAE2ELEAKPROBE0001",
            "AWS_SECRET_ACCESS_KEY": "e2e-secret-key-leak-probe",
            "AWS_SESSION_TOKEN": "e2e-session-token-leak-probe",
        }
        env = harness.audit_env(home, credentials=False) | creds | {"AWS_REGION": "us-east-1"}
        rec = work / "recording"
        out = work / "report.json"
        for fmt, target in (("json", out), ("table", work / "report.txt")):
            args = [str(audit), "-vvv", "--endpoint-url", moto.endpoint, "--region", "us-east-1",
                    "--format", fmt, "--output", str(target)]
            if fmt == "json":
                args += ["--record", str(rec)]
            proc = subprocess.run(args, env=env, cwd=home, capture_output=True, text=True, timeout=120)
            self.assertIn(proc.returncode, LIVE_EXIT_CODES, proc.stderr[-2000:])
            self.assertGreater(len(proc.stderr.splitlines()), 100, "-vvv logs plenty")
            outputs = {"stderr": proc.stderr, "stdout": proc.stdout, fmt: target.read_text()}
            for where, text in outputs.items():
                for needle in [*creds.values(), *seeded.secrets]:
                    self.assertNotIn(needle, text, f"{needle!r} leaked into {where} ({fmt})")
        for path in sorted(rec.rglob("*")):
            if path.is_file():
                text = path.read_text(errors="replace")
                for needle in [*creds.values(), *seeded.secrets]:
                    self.assertNotIn(needle, text, f"{needle!r} leaked into {path.relative_to(rec)}")


ALL_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "sarif", "asff", "ocsf")


def runs_of(value: str, n: int = 16) -> set[str]:
    """Every n-character run of a value (the value itself when shorter)."""
    return {value[i:i + n] for i in range(max(1, len(value) - n + 1))}


class SecretShapeTests(unittest.TestCase):
    """Every secret shape the detector knows, plus a JWT, in environment variables, a command
    line, a docker label and a tag: recorded at -vvv, no seeded value nor any 16-character
    run of one appears anywhere; ECS003 names each secret and nothing clear."""

    def test_no_seeded_value_reaches_disk_or_screen(self):
        from seed import ARG_SECRET, CLEAR_SHAPES, SECRET_SHAPES, seed_secret_shapes
        audit = need_audit(self)
        moto = need_moto(self)
        work = TMP / "secret-shapes"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        home = work / "home"
        moto.reset()
        moto.seed_ids(ID_SEED)
        seeded = seed_secret_shapes(moto.boto3_session())
        rec, outdir, replay_dir = work / "recording", work / "reports", work / "replayed"
        outdir.mkdir()
        replay_dir.mkdir()
        env = harness.audit_env(home, credentials=True) | {"AWS_REGION": "us-east-1"}
        args = [str(audit), "-vvv", "--endpoint-url", moto.endpoint, "--region", "us-east-1",
                "--record", str(rec), "--output-dir", str(outdir)]
        for fmt in ALL_FORMATS:
            args += ["--format", fmt]
        proc = subprocess.run(args, env=env, cwd=home, capture_output=True, text=True, timeout=180)
        self.assertIn(proc.returncode, LIVE_EXIT_CODES, proc.stderr[-3000:])
        self.assertGreater(len(proc.stderr.splitlines()), 100, "-vvv logs plenty")
        # Replay the recording too: what it prints must be as clean.
        replay = subprocess.run([str(audit), "--replay", str(rec), "--output-dir", str(replay_dir),
                                 *[a for f in ALL_FORMATS for a in ("--format", f)]],
                                env=harness.audit_env(home, credentials=False), cwd=home,
                                capture_output=True, text=True, timeout=180)
        self.assertIn(replay.returncode, LIVE_EXIT_CODES, replay.stderr[-3000:])
        texts = {"stdout": proc.stdout, "stderr": proc.stderr, "replay stderr": replay.stderr}
        for root in (rec, outdir, replay_dir):
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    texts[str(path.relative_to(work))] = path.read_text(errors="replace")
        self.assertTrue(any("exchanges" in k for k in texts), "the recording holds exchanges")
        needles = {run: value for value in seeded.secrets for run in runs_of(value)}
        for where, text in texts.items():
            for run, value in needles.items():
                self.assertNotIn(run, text, f"{where} holds {run!r}, a run of the seeded value {value!r}")
        report = json.loads((outdir / "report.json").read_text())
        replayed = json.loads((replay_dir / "report.json").read_text())
        ecs003 = [f for f in report["findings"] if f["check"] == "ECS003"]
        self.assertEqual(len(ecs003), 1, "one finding for the one container")
        message = ecs003[0]["message"]
        for name in SECRET_SHAPES:
            self.assertIn(f"`{name}`", message, f"ECS003 does not name {name}")
        for name in CLEAR_SHAPES:
            self.assertNotIn(name, message, f"ECS003 reports the clear {name}")
        self.assertIn("`--db-password`", message)
        self.assertIn("`entryPoint` argument 3", message)
        self.assertEqual([f for f in replayed["findings"] if f["check"] == "ECS003"], ecs003,
                         "the replay reports exactly what the live run did")
        self.assertNotIn(ARG_SECRET, json.dumps(report))


def _make_scenario_test(name: str):
    def test(self):
        self.run_scenario(name)
    test.__doc__ = f"scenario {name}: live vs expectations, record, replay equals live"
    return test


for _name in SCENARIOS:
    setattr(ScenarioTests, f"test_scenario_{_name}", _make_scenario_test(_name))


class MockReplayTests(unittest.TestCase):
    """The committed mocks (patched by record_mocks.py) replay offline and meet ALL
    expectations, including those that need the patch."""

    def replay_mock(self, name: str) -> None:
        audit = need_audit(self)
        mock = MOCKS / name
        expected = mock / "expected.json"
        if not (mock / "manifest.json").is_file() or not expected.is_file():
            self.skipTest(f"no recorded mock in {mock} (run tests/e2e/record_mocks.py)")
        exp = json.loads(expected.read_text())
        work = TMP / f"mock-{name}"
        work.mkdir(parents=True, exist_ok=True)
        out = work / "report.json"
        run = run_audit(audit, scan_args(None, exp["regions"], out, replay=mock), work / "home",
                        credentials=False, output=out)
        self.assertNotIn("panicked at", run.stderr, run.describe())
        self.assertIn(run.returncode, LIVE_EXIT_CODES, run.describe())
        self.assertIsNotNone(run.report, run.describe())
        problems = check_expectations(run.report, [Expect.from_json(e) for e in exp["must"]],
                                      [Expect.from_json(e) for e in exp["must_not"]], include_patched=True)
        self.assertEqual(problems, [], f"mocks/{name} vs expected.json\n{run.describe()}")
        self.assertEqual(harness.schema_problems(run.report), [], f"mocks/{name}: report breaks the schema")

    def test_sarif_asff_and_ocsf_validate_for_every_mock(self):
        """`--format sarif` against the OASIS SARIF 2.1.0 schema, `--format asff` against
        Security Hub's BatchImportFindings model and `--format ocsf` against the OCSF
        Detection Finding models, for every committed scenario; and the validators do reject
        a broken document."""
        audit = need_audit(self)
        for mock in sorted(p for p in MOCKS.iterdir() if (p / "manifest.json").is_file()):
            with self.subTest(mock=mock.name):
                work = TMP / f"interchange-{mock.name}"
                work.mkdir(parents=True, exist_ok=True)
                proc = subprocess.run(
                    [str(audit), "--replay", str(mock), "--format", "json,sarif,asff,ocsf", "--output-dir", str(work)],
                    env=harness.audit_env(work / "home", credentials=False), cwd=work,
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
                self.assertIn(proc.returncode, LIVE_EXIT_CODES, proc.stderr)
                report = json.loads((work / "report.json").read_text())
                sarif = json.loads((work / "report.sarif").read_text())
                asff = json.loads((work / "findings.asff.json").read_text())
                ocsf = json.loads((work / "findings.ocsf.json").read_text())
                self.assertEqual(harness.ocsf_problems(ocsf), [])
                self.assertEqual(sorted(f["finding_info"]["uid"] for f in ocsf),
                                 sorted(f["fingerprint"] for f in report["findings"]))
                self.assertEqual(harness.sarif_problems(sarif), [])
                self.assertEqual(harness.asff_problems(asff), [])
                fps = sorted(f["fingerprint"] for f in report["findings"])
                self.assertEqual(sorted(r["partialFingerprints"]["awsaudit/v1"] for r in sarif["runs"][0]["results"]), fps)
                self.assertEqual(sorted(f["ProductFields"]["awsaudit/Fingerprint"] for f in asff), fps)
        self.assertTrue(harness.sarif_problems({"version": "2.1.0", "runs": [{"results": []}]}))
        self.assertTrue(harness.asff_problems([{"SchemaVersion": "2018-10-08", "Severity": {"Label": "SEVERE"}}]))
        self.assertTrue(harness.ocsf_problems([{"class_uid": 2004, "severity_id": 7, "activity_id": 1}]))

    def test_baseline_reports_follow_the_schema(self):
        """A report compared with a baseline (new, unchanged, resolved, not re-checked)
        validates against the published schema too."""
        audit = need_audit(self)
        work = TMP / "baseline"
        work.mkdir(parents=True, exist_ok=True)
        base = work / "base.json"
        run = run_audit(audit, scan_args(None, ["us-east-1", "eu-west-1"], base, replay=MOCKS / "demo"),
                        work / "home", credentials=False, output=base)
        self.assertIsNotNone(run.report, run.describe())
        edited = dict(run.report)
        findings = list(edited["findings"])
        gone = dict(findings.pop(0), fingerprint="0" * 31 + "1")
        edited["findings"] = findings + [gone]
        base.write_text(json.dumps(edited))
        out = work / "compared.json"
        accepted = work / "accepted.toml"
        accepted.write_text('[[suppress]]\ncheck = "ECS002"\nreason = "alarms come with the Q1 SLOs"\n'
                            '[[suppress]]\ncheck = "VPC001"\nreason = "expired"\nexpires = 2020-01-01\n')
        args = scan_args(None, ["us-east-1", "eu-west-1"], out, replay=MOCKS / "demo") + [
            "--baseline", str(base), "--checks", "ECS*,VPC*", "--suppressions", str(accepted)]
        run = run_audit(audit, args, work / "home", credentials=False, output=out)
        self.assertIsNotNone(run.report, run.describe())
        b = run.report["baseline"]
        self.assertGreater(b["new"] + b["unchanged"], 0)
        self.assertTrue(b["resolved"] or b["unverified"])
        self.assertTrue(run.report["suppressions"]["suppressed"])
        self.assertEqual(len(run.report["suppressions"]["expired"]), 1)
        self.assertEqual(harness.schema_problems(run.report), [])
        bad = dict(run.report, schema_version=2)
        self.assertTrue(harness.schema_problems(bad), "the schema rejects another version")


def _make_mock_test(name: str):
    def test(self):
        self.replay_mock(name)
    test.__doc__ = f"mocks/{name} replays and meets all expectations"
    return test


for _name in SCENARIOS:
    setattr(MockReplayTests, f"test_mock_{_name}", _make_mock_test(_name))


class FleetTests(unittest.TestCase):
    """An AWS Organization in moto audited from its management account through a role in
    each member account: --org, an unassumable account, shards and merge, S3 output."""

    maxDiff = None
    fleet = None
    proxy = None

    @classmethod
    def setUpClass(cls):  # noqa: N802
        import fleet as fleet_mod

        if AUDIT is None:
            raise unittest.SkipTest("no audit binary")
        global MOTO
        if MOTO is None:
            MOTO = MotoServer(log_path=TMP / "moto.log").start()
        MOTO.reset()
        MOTO.seed_ids(ID_SEED)
        cls.fleet = fleet_mod.seed_fleet(MOTO.boto3_session())
        cls.proxy = fleet_mod.DenyProxy(MOTO.endpoint, {cls.fleet.role_arn(cls.fleet.denied)}).__enter__()
        cls.mod = fleet_mod

    @classmethod
    def tearDownClass(cls):  # noqa: N802
        if cls.proxy is not None:
            cls.proxy.__exit__(None, None, None)

    def run_fleet(self, name: str, args: list[str], *, formats: tuple[str, ...] = ("json",),
                  verbose: bool = False) -> harness.Run:
        work = TMP / "fleet" / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        out = work / "report.json"
        argv = ["--endpoint-url", self.proxy.endpoint, "--region", "us-east-1",
                "--role-name", self.mod.MEMBER_ROLE, "--concurrency", "8", *args]
        if "--output" not in args and "-o" not in args and "--output-dir" not in args:
            argv += ["--format", ",".join(formats), "--output", str(out)]
        if verbose:
            argv.append("-vvv")
        env_home = work / "home"
        env = harness.audit_env(env_home, credentials=True)
        env["AWSAUDIT_EXTERNAL_ID"] = self.mod.EXTERNAL_ID
        proc = subprocess.run([str(AUDIT), *argv], env=env, cwd=work, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=harness.RUN_TIMEOUT)
        report = json.loads(out.read_text()) if out.is_file() else None
        return harness.Run([str(AUDIT), *argv], proc.returncode, proc.stdout, proc.stderr, report)

    def assert_fleet_report(self, run: harness.Run, audited: set[str], not_audited: set[str]) -> dict:
        self.assertIsNotNone(run.report, run.describe())
        self.assertNotIn("panicked at", run.stderr)
        rep = run.report
        self.assertEqual(harness.schema_problems(rep), [], "report breaks its schema")
        per = {a["account"]: a for a in rep["per_account"]}
        self.assertEqual(set(per), audited | not_audited, run.describe())
        self.assertEqual(set(rep["accounts"]), audited | not_audited)
        for a in audited:
            self.assertEqual(per[a]["status"], "audited", per[a])
            self.assertEqual(per[a]["regions"], ["us-east-1"])
        for a in not_audited:
            self.assertEqual(per[a]["status"], "not_audited", per[a])
            self.assertIn("AccessDenied", per[a]["reason"])
        gaps = [(g["account"], g["service"], g["operation"], g["error_code"]) for g in rep["coverage"]["gaps"]]
        self.assertEqual(gaps, [(a, "sts", "AssumeRole", "AccessDenied") for a in sorted(not_audited)])
        self.assertEqual(run.returncode, 3 if not_audited else 0, run.describe())
        # Each member account's findings are its own scenario's, and only there.
        for account, (must, must_not) in self.fleet.expectations.items():
            if account not in audited:
                continue
            own = {"findings": [f for f in rep["findings"] if f["account"] == account]}
            self.assertEqual(check_expectations(own, must, must_not, include_patched=False), [],
                             f"account {account}")
            self.assertEqual(per[account]["findings"], len(own["findings"]))
        self.assertEqual(sum(a["findings"] for a in rep["per_account"]), len(rep["findings"]))
        return rep

    def test_org_audits_every_active_account_and_reports_the_one_it_cannot_assume(self):
        f = self.fleet
        run = self.run_fleet("org", ["--org"], verbose=True)
        active = set(f.accounts.values())
        self.assertNotIn(f.suspended, active)
        rep = self.assert_fleet_report(run, active - {f.denied}, {f.denied})
        self.assertNotIn(f.suspended, rep["accounts"], "a SUSPENDED account is not audited")
        names = {a["account"]: a.get("name") for a in rep["per_account"]}
        self.assertEqual(names[f.accounts["payments-prod"]], "payments-prod")
        self.assertGreaterEqual(self.proxy.refused, 1, "the refusal came from STS, not from the binary")
        # The external id is never printed, even at -vvv; nor written.
        self.assertIn("AssumeRole", run.stderr, "-vvv logs the run")
        self.assertNotIn(self.mod.EXTERNAL_ID, run.stderr + run.stdout + json.dumps(rep))

    def test_exclude_accounts_and_explicit_accounts(self):
        f = self.fleet
        active = set(f.accounts.values())
        run = self.run_fleet("exclude", ["--org", "--exclude-accounts", f.denied])
        self.assert_fleet_report(run, active - {f.denied}, set())
        two = [f.accounts["payments-prod"], f.accounts["storefront-prod"]]
        run = self.run_fleet("explicit", ["--accounts", ",".join(two)])
        rep = self.assert_fleet_report(run, set(two), set())
        self.assertTrue(all("name" not in a for a in rep["per_account"]), "names come only from --org")

    def test_a_baseline_finding_in_an_unassumable_account_is_not_resolved(self):
        f = self.fleet
        first = self.run_fleet("baseline-first", ["--org", "--exclude-accounts", f.denied]).report
        self.assertTrue(first["findings"], "the fleet has findings")
        # Say last week's run saw a finding in the account whose role is now refused.
        moved = dict(first["findings"][0], account=f.denied, fingerprint="0" * 32)
        first["findings"].append(moved)
        path = TMP / "fleet" / "baseline.json"
        path.write_text(json.dumps(first))
        rep = self.run_fleet("baseline-second", ["--org", "--baseline", str(path)]).report
        b = rep["baseline"]
        self.assertEqual([x["fingerprint"] for x in b["unverified"]], ["0" * 32],
                         "this run could not look in that account: not resolved")
        self.assertEqual(b["resolved"], [])
        self.assertEqual(b["new"], 0)

    def test_shards_merged_equal_the_unsharded_run(self):
        whole = self.run_fleet("unsharded", ["--org"]).report
        paths = []
        seen = set()
        for k in range(3):
            run = self.run_fleet(f"shard{k}", ["--org", "--shard", f"{k}/3"])
            self.assertIsNotNone(run.report, run.describe())
            self.assertEqual(run.report["run"]["shard"], {"index": k, "count": 3})
            self.assertFalse(seen & set(run.report["accounts"]), "shards overlap")
            seen |= set(run.report["accounts"])
            paths.append(Path(run.argv[run.argv.index("--output") + 1]))
        self.assertEqual(seen, set(whole["accounts"]), "the shards cover the fleet")
        merged_path = TMP / "fleet" / "merged.json"
        merge = subprocess.run([str(AUDIT), "merge", *map(str, paths), "--format", "json", "-o", str(merged_path)],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(merge.returncode, 3, merge.stderr)  # the unassumable account's gap
        merged = json.loads(merged_path.read_text())
        self.assertEqual(harness.schema_problems(merged), [])
        for key in ("findings", "unknowns", "per_account", "accounts", "regions", "summary"):
            self.assertEqual(merged[key], whole[key], f"merged {key} differ from the unsharded run")
        self.assertEqual(merged["coverage"]["gaps"], whole["coverage"]["gaps"])
        self.assertEqual(merged["run"]["merged"], {"shard_count": 3, "shards": [0, 1, 2], "missing": []})
        # A missing shard is a gap; the same shard twice is refused.
        partial = subprocess.run([str(AUDIT), "merge", str(paths[0]), str(paths[2]), "--format", "json"],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(partial.returncode, 3, partial.stderr)
        doc = json.loads(partial.stdout)
        self.assertIn("ShardMissing", [g["error_code"] for g in doc["coverage"]["gaps"]])
        self.assertEqual(doc["run"]["merged"]["missing"], [1])
        dup = subprocess.run([str(AUDIT), "merge", str(paths[0]), str(paths[0])],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(dup.returncode, 2)
        self.assertIn("both shard 0/3", dup.stderr)

    def test_reports_land_in_s3(self):
        import boto3  # noqa: F401

        s3 = MOTO.boto3_session().client("s3")
        s3.create_bucket(Bucket="fleet-reports")
        run = self.run_fleet("s3", ["--org", "--exclude-accounts", self.fleet.denied, "--format", "json,csv",
                                    "--output", "s3://fleet-reports/awsaudit/"])
        self.assertEqual(run.returncode, 0, run.describe())
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="fleet-reports")["Contents"])
        self.assertEqual(keys, ["awsaudit/findings.csv", "awsaudit/report.json"])
        body = s3.get_object(Bucket="fleet-reports", Key="awsaudit/report.json")
        self.assertEqual(body["ContentType"], "application/json")
        doc = json.loads(body["Body"].read())
        self.assertEqual(harness.schema_problems(doc), [])
        self.assertEqual(len(doc["per_account"]), 3)
        csv_text = s3.get_object(Bucket="fleet-reports", Key="awsaudit/findings.csv")["Body"].read().decode()
        self.assertEqual(len(csv_text.strip().splitlines()), 1 + len(doc["findings"]))
        # Shards write side by side under one prefix.
        run = self.run_fleet("s3-shard", ["--org", "--shard", "1/3", "--format", "json",
                                          "--output", "s3://fleet-reports/awsaudit/"])
        self.assertIn(run.returncode, (0, 3), run.describe())
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="fleet-reports")["Contents"]}
        self.assertIn("awsaudit/report.shard-1-of-3.json", keys)
        # A bucket that does not exist stops the run before any audit call.
        before = self.proxy.refused
        run = self.run_fleet("s3-missing", ["--org", "--format", "json", "--output", "s3://no-such-bucket-e2e/x/"])
        self.assertEqual(run.returncode, 2, run.describe())
        self.assertIn("s3://no-such-bucket-e2e/: the bucket does not exist", run.stderr)
        self.assertEqual(self.proxy.refused, before, "no role was assumed")

    def test_fleet_recording_replays_to_the_same_report(self):
        rec = TMP / "fleet" / "recording"
        shutil.rmtree(rec, ignore_errors=True)
        live = self.run_fleet("record", ["--org", "--record", str(rec)])
        self.assertEqual(live.returncode, 3, live.describe())
        manifest = json.loads((rec / "manifest.json").read_text())
        self.assertEqual(len(manifest["fleet"]["targets"]), 4)
        # The external id the run presented is stored nowhere: not in the manifest, not in a
        # request key. (Member roles' trust policies, which hold it as their condition, are
        # account data GetAccountAuthorizationDetails returns, and stay as recorded.)
        self.assertNotIn(self.mod.EXTERNAL_ID, (rec / "manifest.json").read_text())
        for p in rec.rglob("*.json"):
            if p.name != "manifest.json":
                self.assertNotIn(self.mod.EXTERNAL_ID, json.dumps(json.loads(p.read_text())["key"]), p)
        out = TMP / "fleet" / "replayed.json"
        replayed = run_audit(AUDIT, ["--replay", str(rec), "--format", "json", "--output", str(out)],
                             TMP / "fleet" / "replay-home", credentials=False, output=out)
        self.assertEqual(replayed.returncode, 3, replayed.describe())
        for key in ("findings", "unknowns", "per_account", "accounts"):
            self.assertEqual(replayed.report[key], live.report[key], key)
        self.assertEqual(replayed.report["coverage"]["gaps"], live.report["coverage"]["gaps"])


class BadInputTests(unittest.TestCase):
    """Usage and configuration errors end with exit code 2 and a short message."""

    def home(self) -> Path:
        return TMP / f"bad-{self._testMethodName}"

    def one_line_error(self, run: harness.Run) -> None:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"want a one-line error on stderr\n{run.describe()}")
        self.assertNotIn("panicked at", run.stderr)

    def test_unreachable_endpoint(self):
        audit = need_audit(self)
        port = closed_port()
        out = self.home() / "out.json"
        run = run_audit(audit, scan_args(f"http://127.0.0.1:{port}", ["us-east-1"], out), self.home(),
                        credentials=True, timeout=120)
        self.assertEqual(run.returncode, 2, run.describe())
        self.one_line_error(run)
        self.assertIn(str(port), run.stderr, "the message names the endpoint")

    def test_replay_missing_directory(self):
        audit = need_audit(self)
        out = self.home() / "out.json"
        run = run_audit(audit, scan_args(None, ["us-east-1"], out, replay=Path("/nonexistent")), self.home(),
                        credentials=False)
        self.assertEqual(run.returncode, 2, run.describe())
        self.one_line_error(run)
        self.assertIn("/nonexistent", run.stderr)
        self.assertFalse(out.exists())

    def test_output_into_missing_directory(self):
        audit = need_audit(self)
        moto = need_moto(self)
        moto.reset()
        target = Path("/nonexistent-dir/x.json")
        if target.parent.exists():
            target = self.home() / "no-such-dir" / "x.json"
        run = run_audit(audit, scan_args(moto.endpoint, ["us-east-1"], target), self.home(), credentials=True)
        self.assertEqual(run.returncode, 2, run.describe())
        self.one_line_error(run)
        self.assertFalse(target.exists())
        self.assertFalse(target.parent.exists())

    def committed_mock(self) -> Path:
        mock = MOCKS / "eks001"
        if not (mock / "manifest.json").is_file():
            self.skipTest("no mocks/eks001 (run tests/e2e/record_mocks.py)")
        return mock

    def test_replay_region_not_recorded(self):
        audit = need_audit(self)
        mock = self.committed_mock()
        out = self.home() / "out.json"
        run = run_audit(audit, scan_args(None, ["ap-south-1"], out, replay=mock), self.home(), credentials=False)
        self.assertEqual(run.returncode, 2, run.describe())
        self.one_line_error(run)
        self.assertIn("ap-south-1", run.stderr)
        self.assertFalse(out.exists())

    def test_replay_corrupt_exchange(self):
        audit = need_audit(self)
        broken = self.home() / "broken"
        shutil.copytree(self.committed_mock(), broken)
        victim = sorted((broken / "exchanges").rglob("*.json"))[0]
        victim.write_text(victim.read_text()[: len(victim.read_text()) // 2])
        out = self.home() / "out.json"
        regions = json.loads((broken / "manifest.json").read_text())["regions"]
        run = run_audit(audit, scan_args(None, regions, out, replay=broken), self.home(), credentials=False)
        self.assertEqual(run.returncode, 2, run.describe())
        self.one_line_error(run)
        self.assertIn(victim.name, run.stderr, "the message names the broken file")
        self.assertFalse(out.exists())

    def test_unknown_flag(self):
        audit = need_audit(self)
        run = run_audit(audit, ["--no-such-flag"], self.home(), credentials=False)
        self.assertEqual(run.returncode, 2, run.describe())
        self.assertIn("--no-such-flag", run.stderr)

    def test_record_and_replay_together(self):
        audit = need_audit(self)
        out = self.home() / "out.json"
        run = run_audit(audit, ["--record", str(self.home() / "r"), "--replay", str(self.home() / "p"),
                                "--output", str(out)], self.home(), credentials=False)
        self.assertEqual(run.returncode, 2, run.describe())
        self.assertFalse(out.exists())


class RecordMocksTests(unittest.TestCase):
    """record_mocks.py rewrites a mock only where its content changed: what moto makes up on
    every run (its clock, default listener rule ids) keeps the committed bytes."""

    # The run's clock: 2026-12-02T07:49:20Z to 07:49:50Z.
    WINDOW = (1796197760.0, 1796197790.0)
    OLD = ('{"createdAt": 1790000000.5, "body": "<createTime>2026-10-01T00:00:00.000Z</createTime>'
           '<RuleArn>arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/web/71bf/f57a/140100644398416'
           '</RuleArn>", "expires": "2027-03-31T00:00:00Z"}')
    NEW = ('{"createdAt": 1796197768.027, "body": "<createTime>2026-12-02T07:49:27.000Z</createTime>'
           '<RuleArn>arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/web/71bf/f57a/140673406225232'
           '</RuleArn>", "expires": "2027-03-31T00:00:00Z"}')

    def same(self, old: str, new: str) -> bool:
        return record_mocks.same_but_volatile(old, new, self.WINDOW)

    def test_what_moto_makes_up_on_every_run_is_no_change(self):
        self.assertTrue(self.same(self.OLD, self.NEW))
        self.assertTrue(self.same(self.OLD, self.OLD))

    def test_anything_else_is_a_change(self):
        for what, new in [
            ("a value", self.NEW.replace('"body"', '"Body"')),
            ("a date outside the run's window", self.NEW.replace("2027-03-31", "2027-04-30")),
            ("an epoch outside the run's window", self.NEW.replace("1796197768.027", "1796297768.027")),
            ("a timestamp of another form", self.NEW.replace("1796197768.027", '"2026-12-02T07:49:28Z"')),
            ("a timestamp more", self.NEW.replace("}", ', "at": "2026-12-02T07:49:30Z"}')),
            ("another listener", self.NEW.replace("/f57a/", "/f57b/")),
            ("a rule id of create_rule (hex)", self.NEW.replace("140673406225232", "0a1b2c3d4e5f6a7b")),
        ]:
            with self.subTest(what):
                self.assertFalse(self.same(self.OLD, new))

    def mock(self, root: Path, files: dict[str, str]) -> Path:
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    def test_only_changed_files_are_written_and_recorded_at_moves_only_with_them(self):
        manifest = '{"recorded_at": "%s", "exchanges": 2}'
        committed = {"manifest.json": manifest % "2026-11-01T10:00:00Z", "README.md": "r",
                     "expected.json": "e", "exchanges/ecs/a.json": self.OLD, "exchanges/ecs/b.json": "b"}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old = self.mock(tmp / "old", committed)
            before = {p: p.stat().st_mtime_ns for p in old.rglob("*") if p.is_file()}
            # Re-recorded, nothing changed but the clock: every file keeps its bytes.
            new = self.mock(tmp / "same", dict(committed, **{
                "manifest.json": manifest % "2026-12-02T07:49:45Z", "exchanges/ecs/a.json": self.NEW}))
            self.assertEqual(record_mocks.keep_unchanged(new, old, self.WINDOW), [])
            self.assertEqual(record_mocks.sync_into(new, old), [])
            self.assertEqual({p: p.stat().st_mtime_ns for p in old.rglob("*") if p.is_file()}, before)
            # An exchange changed, one is new, one is gone: those and the manifest are written,
            # the clock-only change keeps its committed bytes.
            changed = self.mock(tmp / "changed", {
                "manifest.json": manifest % "2026-12-02T07:49:45Z", "README.md": "r", "expected.json": "e",
                "exchanges/ecs/a.json": self.NEW, "exchanges/ecs/c.json": "c",
                "exchanges/eks/d.json": "d"})
            (old / "exchanges/ecs/c.json").write_text("c-old")
            self.assertEqual(record_mocks.keep_unchanged(changed, old, self.WINDOW),
                             [Path("exchanges/ecs/b.json"), Path("exchanges/eks/d.json"), Path("exchanges/ecs/c.json")])
            written = record_mocks.sync_into(changed, old)
            self.assertEqual(sorted(written), sorted([Path("exchanges/ecs/b.json"), Path("exchanges/ecs/c.json"),
                                                      Path("exchanges/eks/d.json"), Path("manifest.json")]))
            self.assertFalse((old / "exchanges/ecs/b.json").exists())
            self.assertEqual((old / "exchanges/ecs/a.json").read_text(), self.OLD)
            self.assertIn("2026-12-02T07:49:45Z", (old / "manifest.json").read_text())
            # A file the recording no longer has is removed, and its emptied folder with it.
            (changed / "exchanges/eks/d.json").unlink()
            self.assertEqual(record_mocks.sync_into(changed, old), [Path("exchanges/eks/d.json")])
            self.assertFalse((old / "exchanges/eks").exists())


def main() -> int:
    return harness.unittest_main(__name__, "e2e")


if __name__ == "__main__":
    sys.exit(main())
