"""Shared by test_e2e.py and record_mocks.py: find and run the audit binary in a sealed
environment, read its JSON report, match findings against a scenario's expectations, and
patch recordings. Stdlib only.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from seed import (
    AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_ECS,
    AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_OTHER,
    AWS_DEFAULT_EKS_CLUSTER_FIELDS,
    Expect,
    Patch,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RUN_TIMEOUT = float(os.environ.get("AUDIT_E2E_TIMEOUT", "300"))


def unittest_main(module: str, label: str) -> int:
    """Runs a test module's tests and prints the plain closing line CI reads."""
    import unittest

    argv = sys.argv[:]
    runner = unittest.TextTestRunner(verbosity=2 if "-v" in argv else 1)
    program = unittest.main(module=module, argv=argv, exit=False, testRunner=runner)
    r = program.result
    failed = len(r.failures) + len(r.errors) + len(getattr(r, "unexpectedSuccesses", []))
    skipped = len(r.skipped)
    passed = r.testsRun - failed - skipped
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if r.wasSuccessful() else 1


def find_audit_bin() -> Path | None:
    """AUDIT_BIN, else debug/audit under $CARGO_TARGET_DIR, <repo>/target or
    ~/.cache/awsaudit/target (the project's usual target dir), first that exists."""
    candidates = []
    if os.environ.get("AUDIT_BIN"):
        candidates.append(Path(os.environ["AUDIT_BIN"]))
    else:
        targets = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
        targets += [REPO / "target", Path.home() / ".cache/awsaudit/target"]
        candidates += [t / "debug" / "audit" for t in targets]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c.resolve()
    return None


def audit_env(home: Path, *, credentials: bool) -> dict:
    """The binary's environment: nothing from the developer's AWS setup can leak in.

    HOME points at a temp dir (its AWS config files are empty), no AWS_* variable survives except the
    dummy credentials (live runs only), IMDS is disabled so the SDK never probes
    169.254.169.254, and proxies are dropped so 127.0.0.1 is reached directly.
    """
    drop = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in drop and not k.startswith("RUST_LOG")}
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    # Empty files, not missing ones: the SDK warns on stderr about a missing override path.
    for var, name in (("AWS_CONFIG_FILE", "aws-config"), ("AWS_SHARED_CREDENTIALS_FILE", "aws-credentials")):
        path = home / ".aws" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        env[var] = str(path)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    if credentials:
        env["AWS_ACCESS_KEY_ID"] = "testing"
        env["AWS_SECRET_ACCESS_KEY"] = "testing"
        env["AWS_REGION"] = "us-east-1"
    return env


@dataclass
class Run:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    report: dict | None

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def describe(self) -> str:
        return (f"$ {self.command}\nexit {self.returncode}\n--- stderr (tail)\n"
                + "\n".join(self.stderr.splitlines()[-25:]))


def run_audit(audit: Path, args: list[str], home: Path, *, credentials: bool,
              output: Path | None = None, timeout: float = RUN_TIMEOUT) -> Run:
    argv = [str(audit)] + args
    proc = subprocess.run(argv, env=audit_env(home, credentials=credentials), cwd=home,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    report = None
    if output is not None and output.is_file():
        try:
            report = json.loads(output.read_text())
        except json.JSONDecodeError:
            report = None
    return Run(argv, proc.returncode, proc.stdout, proc.stderr, report)


def scan_args(endpoint: str | None, regions: list[str], output: Path, *, record: Path | None = None,
              replay: Path | None = None, accounts: list[str] = ()) -> list[str]:
    """The audit's arguments; `accounts`: a fleet run through the member role (live only,
    a replay audits the accounts it recorded)."""
    args = []
    if endpoint:
        args += ["--endpoint-url", endpoint]
    if accounts and not replay:
        args += ["--accounts", ",".join(accounts), "--role-name", "awsaudit-member"]
    for r in regions:
        args += ["--region", r]
    args += ["--format", "json", "--output", str(output), "--concurrency", "8"]
    if record:
        args += ["--record", str(record)]
    if replay:
        args += ["--replay", str(replay)]
    return args


# --------------------------------------------------------------------------- matching


REPORT_SCHEMA = REPO / "src" / "report.schema.json"


def schema_problems(report: dict) -> list[str]:
    """Where `report` breaks the published JSON Schema (src/report.schema.json)."""
    import jsonschema

    schema = json.loads(REPORT_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(report)]


SARIF_SCHEMA = REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json"


def sarif_problems(doc: dict) -> list[str]:
    """Where `doc` breaks the vendored OASIS SARIF 2.1.0 schema."""
    import jsonschema

    validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(doc)]


def asff_problems(findings: list) -> list[str]:
    """Where `findings` break Security Hub's BatchImportFindings input, as botocore's
    service model and parameter validator see it, plus the enums botocore does not check."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    result = ParamValidator().validate({"Findings": findings}, shape)
    problems = [result.generate_report()] if result.has_errors() else []
    finding_shape = shape.members["Findings"].member
    labels = set(finding_shape.members["Severity"].members["Label"].enum)
    for i, f in enumerate(findings if isinstance(findings, list) else []):
        label = (f.get("Severity") or {}).get("Label")
        if label not in labels:
            problems.append(f"Findings[{i}].Severity.Label {label!r} not in {sorted(labels)}")
    ids = [f.get("Id") for f in findings] if isinstance(findings, list) else []
    if len(ids) != len(set(ids)):
        problems.append("finding Ids are not unique")
    return problems


def ocsf_problems(findings: list) -> list[str]:
    """Where `findings` break OCSF Detection Finding (class 2004), as the OCSF models on
    PyPI (py-ocsf-models, pydantic) see them, plus the class/type arithmetic OCSF defines."""
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    problems = []
    for i, f in enumerate(findings):
        try:
            DetectionFinding.model_validate(f)
        except Exception as e:  # pydantic.ValidationError
            problems.append(f"[{i}]: {e}")
            continue
        if f.get("class_uid") != 2004 or f.get("category_uid") != 2:
            problems.append(f"[{i}]: class_uid/category_uid {f.get('class_uid')}/{f.get('category_uid')}")
        if f.get("type_uid") != 2004 * 100 + f.get("activity_id", -1):
            problems.append(f"[{i}]: type_uid {f.get('type_uid')} is not class_uid * 100 + activity_id")
    return problems


def _segments(arn: str) -> set[str]:
    return set(s for s in re.split(r"[:/]", arn or "") if s)


def matching(findings: list[dict], exp: Expect, *, evidence: bool) -> list[dict]:
    out = []
    for f in findings:
        if f.get("check") != exp.check:
            continue
        resources = [f.get("resource", "")]
        if evidence:
            resources += [e.get("resource", "") for e in f.get("evidence") or [] if isinstance(e, dict)]
        if any(t in _segments(r) for r in resources for t in exp.targets):
            out.append(f)
    return out


def _brief(f: dict) -> str:
    return f"{f.get('check')} {f.get('severity')} {f.get('resource')}: {f.get('message', '')[:160]}"


def check_expectations(report: dict, must: list[Expect], must_not: list[Expect], *,
                       include_patched: bool) -> list[str]:
    """Problems with `report` against the expectations (empty list = all good)."""
    findings = report.get("findings") or []
    problems = []
    for exp in must:
        if exp.needs_patch and not include_patched:
            continue
        hits = matching(findings, exp, evidence=True)
        if not hits:
            same_check = [_brief(f) for f in findings if f.get("check") == exp.check]
            problems.append(f"MISSING {exp.check} on {'|'.join(exp.targets)} ({exp.why}); "
                            f"{exp.check} findings present: {same_check or 'none'}")
        elif exp.severity and not any(f.get("severity") == exp.severity for f in hits):
            problems.append(f"SEVERITY {exp.check} on {'|'.join(exp.targets)}: want {exp.severity}, got "
                            + "; ".join(_brief(f) for f in hits))
    for exp in must_not:
        if exp.needs_patch and not include_patched:
            continue
        for f in matching(findings, exp, evidence=False):
            problems.append(f"UNEXPECTED {_brief(f)} (clean twin: {exp.why})")
    return problems


def comparable_unknowns(report: dict) -> list:
    return report.get("unknowns") or []


# --------------------------------------------------------------------------- patching


def _json_files(rec: Path, service: str, operation: str, region: str | None = None):
    base = rec / "exchanges" / service
    regions = [base / region] if region else sorted(p for p in base.glob("*") if p.is_dir())
    for d in regions:
        yield from sorted(d.glob(f"{operation}-*.json"))


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def apply_patches(rec: Path, patches: list[Patch]) -> list[dict]:
    """Applies the scenario's patches and the AWS-default deploymentConfiguration to a
    recording. Returns one record per edit (file, field, value, reason) for the README.
    Raises if a patch finds nothing to edit: a silent no-op would make the mock lie."""
    edits: list[dict] = []
    wanted = {(p.region, p.cluster, p.service): p for p in patches if p.kind == "ecs_deployment_configuration"}
    fields = {(p.region, p.cluster, p.service): p for p in patches if p.kind == "ecs_service_fields"}
    eks_fields = {(p.region, p.cluster): p for p in patches if p.kind == "eks_cluster_fields"}
    addon_fields = {(p.region, p.cluster, p.service): p for p in patches if p.kind == "eks_addon_fields"}
    image_fields = {(p.region, p.cluster, p.service): p for p in patches if p.kind == "ecr_image_fields"}
    # By (region, EC2 instance id): moto's short container-instance ARNs do not name the cluster.
    ci_fields = {(p.region, p.service): p for p in patches if p.kind == "ecs_container_instance_fields"}
    unknown = [p for p in patches
               if p.kind not in ("ecs_deployment_configuration", "ecs_service_fields", "eks_cluster_fields",
                                 "eks_addon_fields", "ecr_image_fields", "ecs_container_instance_fields")]
    if unknown:
        raise ValueError(f"unknown patch kinds: {[p.kind for p in unknown]}")
    applied: set = set()
    for path in _json_files(rec, "ecs", "DescribeServices"):
        doc = json.loads(path.read_text())
        region = doc.get("key", {}).get("region") or path.parent.name
        body = doc.get("body")
        if not isinstance(body, dict):
            continue
        changed = False
        for svc in body.get("services") or []:
            cluster = (svc.get("clusterArn") or "").rsplit("/", 1)[-1]
            key = (region, cluster, svc.get("serviceName"))
            rel = str(path.relative_to(rec))
            where = f"services[serviceName={svc.get('serviceName')}].deploymentConfiguration"
            if key in fields:
                p = fields[key]
                for name, value in p.value.items():
                    # None removes the field (a launchType that a capacity provider strategy replaces).
                    if value is None:
                        svc.pop(name, None)
                    else:
                        svc[name] = json.loads(json.dumps(value))
                    edits.append({"file": rel, "field": f"services[serviceName={svc.get('serviceName')}].{name}",
                                  "value": value, "reason": p.reason})
                applied.add(("fields",) + key)
                changed = True
            if key in wanted:
                p = wanted[key]
                svc["deploymentConfiguration"] = json.loads(json.dumps(p.value))
                applied.add(key)
                changed = True
                edits.append({"file": rel, "field": where, "value": p.value, "reason": p.reason})
            elif not svc.get("deploymentConfiguration"):
                controller = (svc.get("deploymentController") or {}).get("type", "ECS")
                value = (AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_ECS if controller == "ECS"
                         else AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_OTHER)
                svc["deploymentConfiguration"] = json.loads(json.dumps(value))
                changed = True
                edits.append({"file": rel, "field": where, "value": value,
                              "reason": "moto 5.2.5 never returns deploymentConfiguration; AWS returns "
                                        f"these defaults for a {controller}-controller service created without one"})
        if changed:
            _write_json(path, doc)
    missing = sorted(set(wanted) - applied) + sorted(k for k in fields if ("fields",) + k not in applied)
    if missing:
        raise RuntimeError(f"{rec}: patches matched no recorded DescribeServices entry: {missing}")
    edits += _patch_eks_clusters(rec, eks_fields)
    edits += _patch_eks_addons(rec, addon_fields)
    edits += _patch_ecr_images(rec, image_fields)
    edits += _patch_container_instances(rec, ci_fields)
    return edits


def _patch_listed(rec: Path, patches: dict, service: str, operation: str, field: str, keys, label, setter=None) -> list[dict]:
    """Sets a scenario's values on the items of `field` in every `operation` response:
    `keys(region, item)` gives the patch keys an item answers to, `label(key)` names it in
    the README, `setter(item, name, value)` (default: replace) writes one field."""
    edits: list[dict] = []
    applied: set = set()
    if not patches:
        return edits
    for path in _json_files(rec, service, operation):
        doc = json.loads(path.read_text())
        region = doc.get("key", {}).get("region") or path.parent.name
        body = doc.get("body")
        if not isinstance(body, dict):
            continue
        changed = False
        for item in body.get(field) or []:
            for k in keys(region, item):
                p = patches.get(k)
                if not p:
                    continue
                for name, value in p.value.items():
                    if setter:
                        setter(item, name, value)
                    else:
                        item[name] = json.loads(json.dumps(value))
                    edits.append({"file": str(path.relative_to(rec)), "field": f"{field}[{label(k)}].{name}",
                                  "value": value, "reason": p.reason})
                applied.add(k)
                changed = True
        if changed:
            _write_json(path, doc)
    missing = sorted(set(patches) - applied)
    if missing:
        raise RuntimeError(f"{rec}: patches matched no recorded {operation} entry: {missing}")
    return edits


def _patch_container_instances(rec: Path, patches: dict) -> list[dict]:
    """A scenario's values for its container instances, in their DescribeContainerInstances
    responses; `attributes` entries replace the recorded attribute of their name, or join."""
    def setter(ci: dict, name: str, value) -> None:
        if name == "attributes":
            attrs = [a for a in ci.get("attributes") or [] if a.get("name") not in {v["name"] for v in value}]
            ci["attributes"] = attrs + json.loads(json.dumps(value))
        else:
            ci[name] = json.loads(json.dumps(value))

    return _patch_listed(rec, patches, "ecs", "DescribeContainerInstances", "containerInstances",
                         lambda region, ci: [(region, ci.get("ec2InstanceId"))],
                         lambda k: f"ec2InstanceId={k[1]}", setter)


def _patch_ecr_images(rec: Path, patches: dict) -> list[dict]:
    """A scenario's values for its images (by repository and tag), in every DescribeImages
    response that lists them."""
    return _patch_listed(rec, patches, "ecr", "DescribeImages", "imageDetails",
                         lambda region, i: [(region, i.get("repositoryName"), t) for t in i.get("imageTags") or []],
                         lambda k: f"{k[1]}:{k[2]}")


def _patch_eks_addons(rec: Path, patches: dict) -> list[dict]:
    """A scenario's values for its add-ons, in their DescribeAddon responses."""
    edits: list[dict] = []
    applied: set = set()
    for path in _json_files(rec, "eks", "DescribeAddon"):
        doc = json.loads(path.read_text())
        region = doc.get("key", {}).get("region") or path.parent.name
        addon = (doc.get("body") or {}).get("addon") if isinstance(doc.get("body"), dict) else None
        if not isinstance(addon, dict):
            continue
        k = (region, addon.get("clusterName"), addon.get("addonName"))
        p = patches.get(k)
        if not p:
            continue
        for field, value in p.value.items():
            addon[field] = json.loads(json.dumps(value))
            edits.append({"file": str(path.relative_to(rec)),
                          "field": f"addon[{k[1]}/{k[2]}].{field}", "value": value, "reason": p.reason})
        applied.add(k)
        _write_json(path, doc)
    missing = sorted(set(patches) - applied)
    if missing:
        raise RuntimeError(f"{rec}: patches matched no recorded DescribeAddon entry: {missing}")
    return edits


def _patch_eks_clusters(rec: Path, patches: dict) -> list[dict]:
    """Every recorded EKS cluster gets the fields AWS returns and moto does not (AWS's
    defaults), then a scenario's own values for its clusters."""
    edits: list[dict] = []
    applied: set = set()
    for path in _json_files(rec, "eks", "DescribeCluster"):
        doc = json.loads(path.read_text())
        region = doc.get("key", {}).get("region") or path.parent.name
        cluster = (doc.get("body") or {}).get("cluster") if isinstance(doc.get("body"), dict) else None
        if not isinstance(cluster, dict):
            continue
        rel = str(path.relative_to(rec))
        name = cluster.get("name")
        for field, value in AWS_DEFAULT_EKS_CLUSTER_FIELDS.items():
            if field not in cluster:
                cluster[field] = json.loads(json.dumps(value))
                edits.append({"file": rel, "field": f"cluster[name={name}].{field}", "value": value,
                              "reason": "moto 5.2.5 never returns it; AWS returns this for a cluster "
                                        "created through the EKS API without the setting"})
        p = patches.get((region, name))
        if p:
            for field, value in p.value.items():
                cluster[field] = json.loads(json.dumps(value))
                edits.append({"file": rel, "field": f"cluster[name={name}].{field}", "value": value,
                              "reason": p.reason})
            applied.add((region, name))
        _write_json(path, doc)
    missing = sorted(set(patches) - applied)
    if missing:
        raise RuntimeError(f"{rec}: patches matched no recorded DescribeCluster entry: {missing}")
    return edits
