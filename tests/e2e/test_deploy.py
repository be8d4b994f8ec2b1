"""Static tests of the deployment files under deploy/: nothing is deployed or built.

1. The validators, pinned in setup_venv.sh: cfn-lint on both CloudFormation templates (no
   error, no warning), hadolint on deploy/Dockerfile (no error, no warning, OCI labels
   present), kubernetes-validate --strict on every manifest of deploy/kubernetes.
2. What no validator can know:
   - the member role grants exactly the actions of deploy/iam/auditor-policy.json, all of
     them Describe/List/Get, and trusts exactly one principal, the runner role, only with
     the external ID;
   - the report bucket is encrypted, versioned, closed to the public and TLS-only;
   - the runner role holds exactly the runner's permissions;
   - the image's final stage runs as non-root with the audit entrypoint, and the build
     context (deploy/Dockerfile.dockerignore) holds every file the build reads and no
     target/ or .git;
   - every --flag the ECS task and the CronJob pass exists in `audit --help` (skipped when
     no binary is built), and the CronJob's shard count equals its completions.

Run with the venv's python (the validators live in its bin/):
    VENV=$(tests/e2e/setup_venv.sh)
    AUDIT_BIN=$CARGO_TARGET_DIR/debug/audit "$VENV/bin/python" tests/e2e/test_deploy.py [-v]
Ends with `deploy: N passed, N failed, N skipped`. Stdlib unittest, plus cfn-lint's own YAML
decoder so that !Sub, !Ref and !GetAtt load.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

REPO = harness.REPO
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
AUDITOR_POLICY = DEPLOY / "iam" / "auditor-policy.json"
MEMBER_TEMPLATE = DEPLOY / "cloudformation" / "member-role.yaml"
SECURITY_TEMPLATE = DEPLOY / "cloudformation" / "security-account.yaml"
TEMPLATES = (MEMBER_TEMPLATE, SECURITY_TEMPLATE)
K8S = DEPLOY / "kubernetes"
README = DEPLOY / "README.md"

# The oldest Kubernetes the manifests claim (backoffLimitPerIndex and the FailIndex action
# are on by default from 1.29 and GA in 1.33) and the newest kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")

# What the runner needs for a fleet run, and nothing else (see deploy/README.md).
RUNNER_PERMISSIONS = [
    ("sts:AssumeRole", {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}),
    ("organizations:ListAccounts", "*"),
    ("ec2:DescribeRegions", "*"),
    ("s3:PutObject", {"Fn::Sub": "${ReportBucket.Arn}/reports/*"}),
    ("s3:ListBucket", {"Fn::GetAtt": ["ReportBucket", "Arn"]}),
]
# BatchGetImage reads image manifests (ECR007); no other Batch* operation is granted.
READ_ONLY_VERBS = ("Describe", "List", "Get", "BatchGetImage")
# Operations that hand out a secret's value (or a plaintext): the auditor reads secrets'
# metadata only (DescribeSecret, DescribeParameters, DescribeKey, GetKeyPolicy).
SECRET_VALUE_READS = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "kms:Decrypt",
}
OPS_RS = REPO / "src" / "collect" / "ops.rs"
TOOL_TIMEOUT = 300


# --------------------------------------------------------------------------- helpers


def tool(name: str) -> Path | None:
    """A validator from the venv this interpreter belongs to, else from PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def need_tool(test: unittest.TestCase, name: str) -> Path:
    path = tool(name)
    if path is None:
        test.fail(f"{name} not found: run with the venv's python ($(tests/e2e/setup_venv.sh)/bin/python)")
    return path


def run_tool(argv: list, **kwargs) -> subprocess.CompletedProcess:
    # The validators must not pick up a developer's own configuration (~/.config/hadolint.yaml,
    # ~/.cfnlintrc): give them an empty HOME.
    home = Path(tempfile.mkdtemp(prefix="awsaudit-deploy-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CFN_LINT"))}
    env["HOME"] = str(home)
    try:
        return subprocess.run([str(a) for a in argv], check=False, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT, **kwargs)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def plain(node):
    """cfn-lint's decoded nodes (dict/str subclasses carrying line marks) as plain JSON."""
    return json.loads(json.dumps(node))


def canonical(node) -> str:
    return json.dumps(plain(node), sort_keys=True)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


_TEMPLATES: dict = {}


def template(path: Path) -> dict:
    """A CloudFormation template through cfn-lint's decoder (the short intrinsic tags load as
    {"Fn::Sub": ...} and friends), as plain JSON."""
    if path not in _TEMPLATES:
        from cfnlint.decode import decode

        decoded, matches = decode(str(path))
        if matches or decoded is None:
            raise AssertionError(f"{path.name} does not parse: {[str(m) for m in matches or []]}")
        _TEMPLATES[path] = plain(decoded)
    return _TEMPLATES[path]


def resources(tpl: dict, type_: str) -> dict:
    return {name: r for name, r in tpl["Resources"].items() if r.get("Type") == type_}


def statements(document) -> list[dict]:
    return as_list(document["Statement"])


def inline_statements(role: dict) -> list[dict]:
    return [s for p in role["Properties"].get("Policies", []) for s in statements(p["PolicyDocument"])]


def policies_attached_elsewhere(tpl: dict, role_name: str) -> list[str]:
    """Standalone policies of the template attached to role `role_name`."""
    out = []
    for name, r in tpl["Resources"].items():
        if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            props = r.get("Properties", {})
            roles = as_list(props.get("Roles", [])) + as_list(props.get("RoleName", []))
            if {"Ref": role_name} in roles:
                out.append(name)
    return out


def render(node, params: dict, conditions: dict):
    """Evaluate the intrinsic functions a command line uses: Ref, Fn::Sub, Fn::If, Fn::Split,
    Fn::Join (GetAtt and unknown references render as <Name>)."""
    if isinstance(node, list):
        items = [render(n, params, conditions) for n in node]
        return [i for i in items if i is not _NO_VALUE]
    if isinstance(node, dict) and len(node) == 1:
        (fn, arg), = node.items()
        if fn == "Ref":
            return _NO_VALUE if arg == "AWS::NoValue" else params.get(arg, f"<{arg}>")
        if fn == "Fn::GetAtt":
            return "<" + ".".join(as_list(arg)) + ">"
        if fn == "Fn::If":
            cond, yes, no = arg
            return render(yes if conditions[cond] else no, params, conditions)
        if fn == "Fn::Split":
            delimiter, source = arg
            return render(source, params, conditions).split(delimiter)
        if fn == "Fn::Join":
            delimiter, items = arg
            return delimiter.join(render(items, params, conditions))
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            values = {k: render(v, params, conditions) for k, v in variables.items()}
            return re.sub(r"\$\{([^}!]+)\}",
                          lambda m: values.get(m[1], params.get(m[1], f"<{m[1]}>")), text)
    if isinstance(node, dict):
        return {k: render(v, params, conditions) for k, v in node.items()}
    return node


_NO_VALUE = object()


def long_flags(args: list[str]) -> set[str]:
    return {a.split("=", 1)[0] for a in args if re.fullmatch(r"--[a-z][a-z0-9-]*(=.*)?", a)}


def flag_value(args: list[str], flag: str) -> str | None:
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def ecs_command_variants() -> dict[str, list[str]]:
    """The audit task's arguments for every combination of the template's conditions."""
    tpl = template(SECURITY_TEMPLATE)
    params = {name: p.get("Default", f"<{name}>") for name, p in tpl["Parameters"].items()}
    params.update(AccountIds="111111111111,222222222222", ExcludeAccountIds="333333333333",
                  ReportBucket="BUCKET")
    (container,) = tpl["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    names = sorted(set(re.findall(r'"Fn::If": \["(\w+)"', json.dumps(container["Command"]))))
    variants = {}
    for values in itertools.product((True, False), repeat=len(names)):
        conditions = dict(zip(names, values, strict=True))
        label = ",".join(f"{n}={v}" for n, v in conditions.items())
        variants[label] = render(container["Command"], params, conditions)
    return variants


def k8s_documents() -> list[tuple[Path, dict]]:
    import yaml  # PyYAML: a dependency of kubernetes-validate and moto

    docs = []
    for path in sorted(K8S.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path, doc))
    return docs


def cronjob() -> dict:
    jobs = [d for _, d in k8s_documents() if d.get("kind") == "CronJob"]
    if len(jobs) != 1:
        raise AssertionError(f"expected one CronJob in deploy/kubernetes, found {len(jobs)}")
    return jobs[0]


def cronjob_container(job: dict) -> dict:
    containers = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (audit,) = [c for c in containers if c["name"] == "audit"]
    return audit


# ------------------------------------------------------------------ Dockerfile parsing


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    out, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    result = []
    for ins in instructions:
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


# --------------------------------------------------------------- .dockerignore matching


def _ignore_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as BuildKit reads it: Go filepath.Match per path element, plus
    `**` for any number of directories."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(?:.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.index("]", i)
            out += "[" + pattern[i + 1:j].replace("!", "^", 1) + "]"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules(path: Path) -> list[tuple[bool, re.Pattern, str]]:
    """(re-include?, regex, pattern) for each line of a .dockerignore, in order."""
    rules = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = os.path.normpath(line[1:] if include else line).lstrip("/")
        rules.append((include, _ignore_regex(pattern), pattern))
    return rules


def in_context(relpath: str, rules) -> bool:
    """Whether the file `relpath` is sent to the builder: the last rule matching the path or
    one of its parent directories decides."""
    parts = relpath.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    keep = True
    for include, rx, _ in rules:
        if any(rx.match(p) for p in prefixes):
            keep = include
    return keep


def build_context(rules) -> set[str]:
    """The files of the repository that `docker build -f deploy/Dockerfile .` sends."""

    def worth_entering(rel_dir: str) -> bool:
        # A dropped directory is still walked when a re-include rule may reach inside it.
        return in_context(rel_dir, rules) or any(
            include and (pattern.startswith(rel_dir + "/") or "**" in pattern) for include, _, pattern in rules)

    files = set()
    for root, dirs, names in os.walk(REPO):
        rel_root = os.path.relpath(root, REPO)
        dirs[:] = [d for d in dirs if worth_entering(os.path.normpath(os.path.join(rel_root, d)))]
        for n in names:
            rel = os.path.normpath(os.path.join(rel_root, n))
            if in_context(rel, rules):
                files.add(rel)
    return files


# --------------------------------------------------------------------------- tests


class Validators(unittest.TestCase):
    """The pinned linters and schema validators find nothing."""

    def test_cloudformation_templates_lint_clean(self):
        cfn_lint = need_tool(self, "cfn-lint")
        proc = run_tool([cfn_lint, "--format", "json", "--", *TEMPLATES], cwd=REPO)
        try:
            matches = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            self.fail(f"cfn-lint printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        problems = [m for m in matches if m.get("Level") in ("Error", "Warning")]
        self.assertEqual(
            [f"{Path(m['Filename']).name}:{m['Location']['Start']['LineNumber']} {m['Level']} "
             f"{m['Rule']['Id']} {m['Message']}" for m in problems], [])
        # Exit codes are a bit mask: 2 errors, 4 warnings, 8 informational; 1 is a crash.
        self.assertEqual(proc.returncode & 0b111, 0, proc.stderr)

    def test_dockerfile_lints_clean(self):
        hadolint = need_tool(self, "hadolint")
        labels = ["org.opencontainers.image.title:text", "org.opencontainers.image.version:text",
                  "org.opencontainers.image.revision:text", "org.opencontainers.image.licenses:spdx"]
        argv = [hadolint, "--no-color", "--format", "json", "--failure-threshold", "warning"]
        for label in labels:
            argv += ["--require-label", label]
        # hadolint reports label problems as info or style: here they count as warnings
        # (DL3048 invalid key, DL3049 required label missing, DL3054 not an SPDX licence).
        for rule in ("DL3048", "DL3049", "DL3054"):
            argv += ["--warning", rule]
        proc = run_tool(argv + [DOCKERFILE], cwd=REPO)
        try:
            issues = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            self.fail(f"hadolint printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        problems = [i for i in issues if i.get("level") in ("error", "warning")]
        self.assertEqual([f"Dockerfile:{i['line']} {i['level']} {i['code']} {i['message']}" for i in problems], [])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_kubernetes_manifests_validate_strictly(self):
        validate = need_tool(self, "kubernetes-validate")
        manifests = sorted(K8S.glob("*.y*ml"))
        self.assertTrue(manifests, "no manifests in deploy/kubernetes")
        kinds = {d.get("kind") for _, d in k8s_documents()}
        self.assertTrue({"CronJob", "ServiceAccount"} <= kinds, kinds)
        for version in KUBERNETES_VERSIONS:
            with self.subTest(kubernetes=version):
                proc = run_tool([validate, "--strict", "--quiet", "-k", version, *manifests], cwd=REPO)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertNotIn("ERROR", proc.stdout + proc.stderr)


class MemberRole(unittest.TestCase):
    """deploy/cloudformation/member-role.yaml: read-only, assumable by the runner alone."""

    def role(self) -> tuple[dict, dict]:
        tpl = template(MEMBER_TEMPLATE)
        roles = resources(tpl, "AWS::IAM::Role")
        self.assertEqual(list(roles), ["MemberRole"], "one role, and only one")
        return tpl, roles["MemberRole"]

    def test_actions_are_exactly_the_auditor_policy(self):
        tpl, role = self.role()
        props = role["Properties"]
        self.assertNotIn("ManagedPolicyArns", props, "managed policies would add permissions")
        self.assertEqual(policies_attached_elsewhere(tpl, "MemberRole"), [])
        granted = []
        for s in inline_statements(role):
            self.assertEqual(s.get("Effect"), "Allow", s)
            self.assertNotIn("NotAction", s, s)
            self.assertNotIn("NotResource", s, s)
            granted += as_list(s["Action"])
        self.assertEqual(len(granted), len(set(granted)), "an action is granted twice")
        policy = json.loads(AUDITOR_POLICY.read_text())
        expected = {a for s in statements(policy) for a in as_list(s["Action"])}
        self.assertEqual(set(granted), expected, "the member role and deploy/iam/auditor-policy.json differ")
        for action in granted:
            service, _, name = action.partition(":")
            self.assertTrue(service and name.startswith(READ_ONLY_VERBS) and "*" not in action,
                            f"{action} is not a Describe/List/Get action")

    def test_no_secret_value_is_ever_read(self):
        """The member role, the auditor policy and the collector's table of operations
        never name an operation that returns a secret's or a parameter's value."""
        _, role = self.role()
        granted = {a for s in inline_statements(role) for a in as_list(s["Action"])}
        policy = json.loads(AUDITOR_POLICY.read_text())
        in_policy = {a for s in statements(policy) for a in as_list(s["Action"])}
        for where, actions in (("member role", granted), ("auditor policy", in_policy)):
            self.assertEqual(actions & SECRET_VALUE_READS, set(), where)
            for action in actions:
                self.assertNotRegex(action, r"(?i)^(secretsmanager:.*Value|ssm:GetParameter)", where)
        ops = OPS_RS.read_text()
        named = set(re.findall(r'Op::\w+\(\s*"([\w-]+)",\s*"(\w+)"', ops))
        self.assertIn(("secretsmanager", "DescribeSecret"), named, "the scan finds the table")
        self.assertEqual({f"{s}:{o}" for s, o in named} & SECRET_VALUE_READS, set())

    def test_trust_is_the_runner_role_with_the_external_id(self):
        tpl, role = self.role()
        props = role["Properties"]
        trust = statements(props["AssumeRolePolicyDocument"])
        self.assertEqual(len(trust), 1, trust)
        (s,) = trust
        self.assertEqual(s["Effect"], "Allow")
        self.assertEqual(as_list(s["Action"]), ["sts:AssumeRole"])
        self.assertNotIn("NotPrincipal", s)
        runner = {"Fn::Sub": "arn:${AWS::Partition}:iam::${SecurityAccountId}:role/${RunnerRoleName}"}
        self.assertEqual(s["Principal"], {"AWS": runner},
                         "exactly one principal: the runner role of the security account")
        self.assertEqual(s.get("Condition"), {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}})
        external_id = tpl["Parameters"]["ExternalId"]
        self.assertIs(external_id.get("NoEcho"), True)
        self.assertEqual(external_id.get("MinLength"), 2)
        self.assertEqual(external_id.get("AllowedPattern"), r"[\w+=,.@:\/-]*")
        self.assertEqual(props.get("MaxSessionDuration"), 3600)
        self.assertEqual(props.get("RoleName"), {"Ref": "MemberRoleName"})

    def test_role_names_agree_between_the_templates(self):
        member = template(MEMBER_TEMPLATE)["Parameters"]
        security = template(SECURITY_TEMPLATE)["Parameters"]
        for name in ("MemberRoleName", "RunnerRoleName"):
            self.assertEqual(member[name]["Default"], security[name]["Default"], name)


class SecurityAccount(unittest.TestCase):
    """deploy/cloudformation/security-account.yaml: the bucket and the runner's permissions."""

    def test_report_bucket_is_encrypted_versioned_private_and_tls_only(self):
        tpl = template(SECURITY_TEMPLATE)
        buckets = resources(tpl, "AWS::S3::Bucket")
        self.assertEqual(list(buckets), ["ReportBucket"])
        props = buckets["ReportBucket"]["Properties"]
        (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        self.assertIn(sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"], ("aws:kms", "aws:kms:dsse"))
        self.assertIs(sse.get("BucketKeyEnabled"), True)
        self.assertEqual(props["VersioningConfiguration"], {"Status": "Enabled"})
        block = props["PublicAccessBlockConfiguration"]
        for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            self.assertIs(block.get(key), True, key)
        self.assertEqual(props["OwnershipControls"], {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        rules = props["LifecycleConfiguration"]["Rules"]
        expiring = [r for r in rules if r.get("Status") == "Enabled"
                    and "Ref" in r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", {})]
        self.assertTrue(expiring, "replaced versions expire after a parameterised number of days")

        policies = [p["Properties"] for p in resources(tpl, "AWS::S3::BucketPolicy").values()
                    if p["Properties"]["Bucket"] == {"Ref": "ReportBucket"}]
        self.assertEqual(len(policies), 1, "one bucket policy on the report bucket")
        bucket = canonical({"Fn::GetAtt": ["ReportBucket", "Arn"]})
        objects = canonical({"Fn::Sub": "${ReportBucket.Arn}/*"})
        tls_only = [s for s in statements(policies[0]["PolicyDocument"])
                    if s.get("Effect") == "Deny" and s.get("Principal") in ("*", {"AWS": "*"})
                    and set(as_list(s.get("Action"))) & {"s3:*", "*"}
                    and {bucket, objects} <= {canonical(r) for r in as_list(s.get("Resource"))}
                    and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"]
        self.assertEqual(len(tls_only), 1, "a Deny of every request without TLS, on the bucket and its objects")

    def test_runner_role_holds_exactly_the_runner_permissions(self):
        tpl = template(SECURITY_TEMPLATE)
        role = tpl["Resources"]["RunnerRole"]
        self.assertEqual(role["Type"], "AWS::IAM::Role")
        self.assertNotIn("ManagedPolicyArns", role["Properties"], "managed policies would add permissions")
        self.assertNotIn("PermissionsBoundary", role["Properties"])
        self.assertEqual(policies_attached_elsewhere(tpl, "RunnerRole"), [])
        self.assertEqual(role["Properties"].get("RoleName"), {"Ref": "RunnerRoleName"},
                         "the member roles trust the runner by this name")
        granted = []
        for s in inline_statements(role):
            self.assertEqual(s.get("Effect"), "Allow", s)
            self.assertNotIn("NotAction", s, s)
            self.assertNotIn("NotResource", s, s)
            self.assertNotIn("Condition", s, "a condition would change what is granted: review it here")
            granted += [(a, canonical(r)) for a in as_list(s["Action"]) for r in as_list(s["Resource"])]
        self.assertEqual(len(granted), len(set(granted)), "a permission is granted twice")
        self.assertEqual(sorted(set(granted)), sorted((a, canonical(r)) for a, r in RUNNER_PERMISSIONS))

    def test_task_reads_the_external_id_from_the_secret_only(self):
        tpl = template(SECURITY_TEMPLATE)
        task = tpl["Resources"]["TaskDefinition"]["Properties"]
        (container,) = task["ContainerDefinitions"]
        self.assertIs(container.get("ReadonlyRootFilesystem"), True)
        self.assertIn({"Name": "AWSAUDIT_EXTERNAL_ID", "ValueFrom": {"Ref": "ExternalIdSecret"}}, container["Secrets"])
        self.assertNotIn("AWSAUDIT_EXTERNAL_ID", [e["Name"] for e in container.get("Environment", [])])
        for label, args in ecs_command_variants().items():
            self.assertNotIn("--external-id", args, label)
        # The execution role may read that secret and no other.
        execution = tpl["Resources"]["ExecutionRole"]
        reads = [s for s in inline_statements(execution) if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        self.assertEqual([as_list(s["Resource"]) for s in reads], [[{"Ref": "ExternalIdSecret"}]])

    def test_scheduler_may_run_this_task_and_pass_its_two_roles_only(self):
        tpl = template(SECURITY_TEMPLATE)
        (schedule,) = resources(tpl, "AWS::Scheduler::Schedule").values()
        props = schedule["Properties"]
        self.assertEqual(props["FlexibleTimeWindow"], {"Mode": "OFF"})
        self.assertIn("RetryPolicy", props["Target"])
        self.assertEqual(props["Target"]["EcsParameters"]["TaskDefinitionArn"], {"Ref": "TaskDefinition"})
        role_name = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
        granted = {}
        for s in inline_statements(tpl["Resources"][role_name]):
            for a in as_list(s["Action"]):
                granted.setdefault(a, []).extend(canonical(r) for r in as_list(s["Resource"]))
        self.assertEqual(sorted(granted), ["ecs:RunTask", "iam:PassRole"])
        family = tpl["Resources"]["TaskDefinition"]["Properties"]["Family"]["Fn::Sub"]
        task_definitions = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/"
        self.assertEqual(granted["ecs:RunTask"], [canonical({"Fn::Sub": task_definitions + family + ":*"})])
        self.assertEqual(sorted(granted["iam:PassRole"]),
                         sorted(canonical({"Fn::GetAtt": [r, "Arn"]}) for r in ("ExecutionRole", "RunnerRole")))

    def test_task_writes_where_the_runner_may_write(self):
        for label, args in ecs_command_variants().items():
            with self.subTest(label):
                scope = {"--org", "--accounts"} & set(args)
                self.assertEqual(len(scope), 1, f"exactly one of --org / --accounts: {args}")
                self.assertEqual(flag_value(args, "--output"), "s3://BUCKET/reports/")
                self.assertEqual(flag_value(args, "--role-name"), "awsaudit-member")
                self.assertIn("--all-regions", args)
                self.assertEqual(set(flag_value(args, "--format").split(",")), {"json", "sarif", "asff", "csv"})


class Image(unittest.TestCase):
    """deploy/Dockerfile and its build context."""

    def test_final_stage_runs_audit_as_non_root(self):
        all_stages = stages(dockerfile_instructions(DOCKERFILE))
        self.assertGreaterEqual(len(all_stages), 2, "a multi-stage build")
        final = all_stages[-1]
        users = [args for ins, args in final if ins == "USER"]
        self.assertTrue(users, "the final stage sets USER")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, ("root", "0"), "the image runs as root")
        self.assertRegex(user, r"^\d+$", "a numeric user, which Kubernetes' runAsNonRoot can verify")
        entrypoints = [args for ins, args in final if ins == "ENTRYPOINT"]
        self.assertTrue(entrypoints, "the final stage has an ENTRYPOINT")
        self.assertEqual(json.loads(entrypoints[-1]), ["/usr/local/bin/audit"])
        copies = [args.split() for ins, args in final if ins == "COPY"]
        self.assertTrue(any(c[-1] == "/usr/local/bin/audit" for c in copies), "the binary is copied in")
        self.assertTrue(any(c[-1] == "/usr/share/awsaudit/demo" for c in copies), "the demo recording is copied in")

    def test_builder_toolchain_and_command(self):
        instructions = dockerfile_instructions(DOCKERFILE)
        args = dict(re.fullmatch(r"(\w+)=?(.*)", a).groups() for ins, a in instructions if ins == "ARG" and "=" in a)
        builder = stages(instructions)[0]
        self.assertRegex(builder[0][1], r"^rust:\$\{RUST_VERSION\}-bookworm AS builder$")
        floor = re.search(r'^rust-version\s*=\s*"([\d.]+)"', (REPO / "Cargo.toml").read_text(), re.MULTILINE)
        version = tuple(int(x) for x in args["RUST_VERSION"].split("."))
        self.assertEqual(len(version), 3, "a specific Rust release, not a moving tag")
        if floor:
            self.assertGreaterEqual(version, tuple(int(x) for x in floor[1].split(".")))
        runs = " ".join(a for ins, a in builder if ins == "RUN")
        self.assertIn("cargo build --release --locked --bin audit", runs)

    def test_build_context_holds_what_the_build_reads(self):
        rules = dockerignore_rules(DOCKERIGNORE)
        context = build_context(rules)
        for leaked in ("target", ".git", ".ruff_cache", "tests", "checks/fuzz", "mocks/eks001"):
            self.assertFalse(any(f == leaked or f.startswith(leaked + "/") for f in context),
                             f"{leaked} is sent to the builder")
        # Every COPY source from the context.
        for ins, args in dockerfile_instructions(DOCKERFILE):
            if ins != "COPY" or "--from=" in args:
                continue
            sources = [w for w in shlex.split(args) if not w.startswith("--")][:-1]
            for src in sources:
                src = src.rstrip("/")
                self.assertTrue(src in context or any(f.startswith(src + "/") for f in context),
                                f"COPY {src}: not in the build context")
        # Every Rust source, manifest and file a source embeds.
        sources = [p for d in ("src", "checks/src") for p in (REPO / d).rglob("*.rs")]
        for p in sources:
            rel = p.relative_to(REPO).as_posix()
            self.assertIn(rel, context)
            for embedded in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', p.read_text()):
                target = os.path.normpath(os.path.join(os.path.dirname(rel), embedded))
                self.assertIn(target, context, f"{rel} embeds {embedded}")
        for f in ("Cargo.toml", "Cargo.lock", "checks/Cargo.toml", "mocks/demo/manifest.json"):
            self.assertIn(f, context)
        # Cargo can load the workspace from exactly these files (no compilation).
        cargo = shutil.which("cargo")
        if cargo is None:
            return
        with tempfile.TemporaryDirectory(prefix="awsaudit-context-") as tmp:
            for f in context:
                dest = Path(tmp) / f
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(REPO / f, dest)
            proc = subprocess.run([cargo, "metadata", "--no-deps", "--offline", "--format-version", "1"],
                                  check=False, cwd=tmp, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            targets = {t["name"] for pkg in json.loads(proc.stdout)["packages"] for t in pkg["targets"]}
            self.assertIn("audit", targets)


class Kubernetes(unittest.TestCase):
    """deploy/kubernetes: an Indexed Job per run, one shard per index."""

    def test_cronjob_is_indexed_with_one_shard_per_completion(self):
        job = cronjob()
        self.assertEqual(job["spec"]["concurrencyPolicy"], "Forbid")
        self.assertIn("startingDeadlineSeconds", job["spec"])
        spec = job["spec"]["jobTemplate"]["spec"]
        self.assertEqual(spec.get("completionMode"), "Indexed")
        completions = spec["completions"]
        self.assertEqual(spec.get("parallelism"), completions)
        for key in ("activeDeadlineSeconds", "ttlSecondsAfterFinished", "backoffLimitPerIndex"):
            self.assertIn(key, spec)
        args = cronjob_container(job)["args"]
        self.assertEqual(flag_value(args, "--shard"), f"$(JOB_COMPLETION_INDEX)/{completions}",
                         "shard K of N, K from the Job's index, N = completions")

    def test_exit_codes_drive_the_pod_failure_policy(self):
        job = cronjob()
        spec = job["spec"]["jobTemplate"]["spec"]
        self.assertEqual(spec["template"]["spec"]["restartPolicy"], "Never")
        actions = {}
        for rule in spec["podFailurePolicy"]["rules"]:
            codes = rule.get("onExitCodes")
            if codes:
                self.assertEqual(codes.get("containerName"), "audit")
                self.assertEqual(codes["operator"], "In")
                for code in codes["values"]:
                    actions.setdefault(code, rule["action"])
        self.assertEqual(actions.get(2), "FailJob", "a configuration error fails the whole Job")
        self.assertEqual(actions.get(3), "FailIndex", "an incomplete but written report is not retried")

    def test_pod_is_locked_down(self):
        job = cronjob()
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        container = cronjob_container(job)
        pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
        self.assertIs(pod_sc.get("runAsNonRoot"), True)
        self.assertEqual(pod_sc.get("seccompProfile"), {"type": "RuntimeDefault"})
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertEqual(sc.get("capabilities", {}).get("drop"), ["ALL"])
        for kind in ("requests", "limits"):
            self.assertIn("memory", container.get("resources", {}).get(kind, {}), kind)
        external = [e for e in container["env"] if e["name"] == "AWSAUDIT_EXTERNAL_ID"]
        self.assertEqual(len(external), 1)
        self.assertIn("secretKeyRef", external[0].get("valueFrom", {}), "the external ID comes from a Secret")
        self.assertNotIn("--external-id", container["args"])
        accounts = {d["metadata"]["name"] for _, d in k8s_documents() if d.get("kind") == "ServiceAccount"}
        self.assertIn(pod["serviceAccountName"], accounts)


class Flags(unittest.TestCase):
    """The deployments pass only flags the binary has."""

    def test_every_flag_used_exists_in_audit_help(self):
        audit = harness.find_audit_bin()
        if audit is None:
            self.skipTest("no audit binary: set AUDIT_BIN or build with cargo build")
        with tempfile.TemporaryDirectory(prefix="awsaudit-deploy-") as tmp:
            run = harness.run_audit(audit, ["--help"], Path(tmp), credentials=False, timeout=60)
        self.assertEqual(run.returncode, 0, run.describe())
        known = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", run.stdout))
        used = {}
        for label, args in ecs_command_variants().items():
            for flag in long_flags(args):
                used.setdefault(flag, f"ECS task ({label})")
        for flag in long_flags(cronjob_container(cronjob())["args"]):
            used.setdefault(flag, "CronJob")
        self.assertTrue(used)
        missing = sorted(f"{flag} (used by the {where})" for flag, where in used.items() if flag not in known)
        self.assertEqual(missing, [], f"flags not in `{audit} --help`")


def main() -> int:
    return harness.unittest_main(__name__, "deploy")


if __name__ == "__main__":
    sys.exit(main())
