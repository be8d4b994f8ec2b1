#!/usr/bin/env python3
"""Synthetic awsaudit recordings of any size, for benchmarks and scale tests.

Writes a complete recording that `audit --replay DIR` audits offline with no coverage
gaps: every request the collector sends for the generated estate has its exchange, page by
page and batch by batch, with responses shaped like the moto recording in mocks/demo (JSON
bodies for ECS, EKS and Application Auto Scaling; XML for EC2, ELBv2, IAM and STS).

This file knows AWS's side only: each request as the SDK puts it on the wire and each
response as AWS answers. The binary's own code does the rest: `BIN operations --format
json` gives the page and batch sizes the collector asks for, and `BIN write-recording DIR`
(src/http/synthetic.rs) turns the requests into request keys and writes the recording as
the recorder does (redaction, file names, manifest, written beside DIR and swapped in).

    python3 tests/synth.py --out DIR --scale K [--accounts A] [--regions R1,R2] [--seed S]
                           [--audit BIN]

BIN, the audit binary, defaults to $AUDIT_BIN.

`--scale 1` is about the size of mocks/demo in each region; `--scale K` multiplies every
per-region count (and the roles per account) by K, so the number of calls grows linearly.
Explicit dimensions override the preset:

    --clusters N       ECS clusters per region            (preset 2 per scale unit)
    --services N       services per ECS cluster           (3, not scaled)
    --eks-clusters N   EKS clusters per region            (2 per scale unit)
    --nodegroups N     managed nodegroups per EKS cluster that has any (1, not scaled)
    --subnets N        workload subnets per region, in VPCs of 8 (8 per scale unit;
                       each region also has a default VPC with 3 default subnets)
    --target-groups N  target groups per region           (7 per scale unit)
    --roles N          IAM roles per account, at least    (24 per scale unit; every role a
                       workload references exists even when that is more than N)

Like a live recording, IAM is recorded once per account, in the first region: a replay with
`--region` must keep that region, or IAM shows as a coverage gap (mocks/demo behaves alike).

`--accounts A` > 1 writes a fleet recording, as `audit --role-name awsaudit-member
--accounts …  --record DIR` would: the caller 123456789012 and A member accounts, each with
the whole estate under exchanges/<account>/…. The same arguments always give byte-identical
output (everything random comes from random.Random seeded with --seed).

The estate repeats, per VPC, the patterns of mocks/demo: VPCs with public, private (NAT),
data (main route table only) and nearly full /28 subnets; VPCs with ECR interface endpoints
but S3 reachable only from some route tables, and VPCs with NAT but no endpoints and isolated
subnets; ECS services clean and misconfigured (circuit breaker off, awsvpc on instance
target groups, plaintext secrets, :latest images, Fargate Spot only, privileged containers…);
EKS clusters busy, idle, Fargate-only and self-managed, nodegroups with IP-hungry instance
types; IAM task, execution and IRSA roles, some over-privileged or trusting anyone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

HOME_ACCOUNT = "123456789012"
RECORDED_AT = "2026-11-22T08:21:45Z"
AGENT_RELEASE = "1.8.0"
T0 = 1795335600  # 2026-11-22T08:20:00Z: resources are "created" just before the recording
ISO = "2026-11-22T08:20:00.000Z"

JSON11 = "application/x-amz-json-1.1"
# What the collector accepts from BatchGetImage: index types first.
MANIFEST_TYPES = ("application/vnd.oci.image.index.v1+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
REST_JSON = "application/json"
XML = "text/xml"

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15"
ELB_NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"

# How the collector pages and batches is read from the collector's own table
# (`audit operations --format json`, src/collect/ops.rs), never restated here: a recording
# this writes pages and batches exactly as the binary that replays it asks.
OPERATIONS: dict[tuple[str, str], dict] = {}
# Where the collector asks for no page size, the "server" uses AWS's documented default.
AWS_DEFAULT_PAGE = {
    ("ecs", "ListClusters"): 100,
    ("eks", "ListClusters"): 100,
    ("eks", "ListNodegroups"): 100,
    ("eks", "ListFargateProfiles"): 100,
    ("eks", "ListAddons"): 100,
    ("eks", "ListPodIdentityAssociations"): 100,
}


def load_operations(audit_bin: str) -> None:
    out = subprocess.run([audit_bin, "operations", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    for op in json.loads(out):
        OPERATIONS[(op["service"], op["operation"])] = op


def page_size(service: str, operation: str) -> int:
    """Items per page of a listing: what the collector asks for, else AWS's default."""
    asked = OPERATIONS[(service, operation)]["page"]
    return asked if asked is not None else AWS_DEFAULT_PAGE[(service, operation)]


def batch_size(service: str, operation: str) -> int:
    """Items per call of a batch describe, as the collector sends them."""
    return OPERATIONS[(service, operation)]["batch"]


UNIT = {
    "clusters": 2,
    "services": 3,
    "eks_clusters": 2,
    "nodegroups": 1,
    "subnets": 8,
    "target_groups": 7,
    "roles": 24,
}
SCALED = ("clusters", "eks_clusters", "subnets", "target_groups", "roles")

# (vCPUs, MiB, max ENIs, IPv4 per ENI, network performance): AWS's published limits.
INSTANCE_TYPES = {
    "c5.xlarge": (4, 8192, 4, 15, "Up to 10 Gigabit"),
    "m5.2xlarge": (8, 32768, 4, 15, "Up to 10 Gigabit"),
    "m5.large": (2, 8192, 3, 10, "Up to 10 Gigabit"),
    "m5.xlarge": (4, 16384, 4, 15, "Up to 10 Gigabit"),
    "m6i.large": (2, 8192, 3, 10, "Up to 12.5 Gigabit"),
    "r5.large": (2, 16384, 3, 10, "Up to 10 Gigabit"),
    "t3.large": (2, 8192, 3, 12, "Up to 5 Gigabit"),
    "t3.medium": (2, 4096, 3, 6, "Up to 5 Gigabit"),
}

COMMERCIAL_REGIONS = [
    ("af-south-1", "opt-in-not-required"), ("ap-east-1", "not-opted-in"),
    ("ap-northeast-1", "opt-in-not-required"), ("ap-northeast-2", "opt-in-not-required"),
    ("ap-northeast-3", "opt-in-not-required"), ("ap-south-1", "opt-in-not-required"),
    ("ap-south-2", "not-opted-in"), ("ap-southeast-1", "opt-in-not-required"),
    ("ap-southeast-2", "opt-in-not-required"), ("ap-southeast-3", "opt-in-not-required"),
    ("ap-southeast-4", "not-opted-in"), ("ca-central-1", "opt-in-not-required"),
    ("ca-west-1", "not-opted-in"), ("eu-central-1", "opt-in-not-required"),
    ("eu-central-2", "not-opted-in"), ("eu-north-1", "opt-in-not-required"),
    ("eu-south-1", "opt-in-not-required"), ("eu-south-2", "not-opted-in"),
    ("eu-west-1", "opt-in-not-required"), ("eu-west-2", "opt-in-not-required"),
    ("eu-west-3", "opt-in-not-required"), ("il-central-1", "not-opted-in"),
    ("me-central-1", "not-opted-in"), ("me-south-1", "not-opted-in"),
    ("sa-east-1", "opt-in-not-required"), ("us-east-1", "opt-in-not-required"),
    ("us-east-2", "opt-in-not-required"), ("us-west-1", "opt-in-not-required"),
    ("us-west-2", "opt-in-not-required"),
]

ALLOW_ALL_ENDPOINT_POLICY = (
    '{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
    '"Action": "*", "Resource": "*"}]}'
)


# ------------------------------------------------------------------------------ output


# The API versions the query protocol sends with each request (AWS's, per service).
QUERY_VERSIONS = {"ec2": "2016-11-15", "elbv2": "2015-12-01", "iam": "2010-05-08", "sts": "2011-06-15"}


class Recording:
    """Hands each request and its response, as the SDK and AWS would put them on the wire,
    to `audit write-recording`, which writes the recording with the recorder's own code
    (request keys, redaction, file names, the manifest): this file never restates that format."""

    def __init__(self, audit: str, out: str, header: dict) -> None:
        self.proc = subprocess.Popen([audit, "write-recording", out], stdin=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.count = 0
        self.send(header)

    def send(self, line: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        except BrokenPipeError:
            self.finish()  # it stopped reading: say why

    def add(self, service: str, region: str, operation: str, request: dict, body,
            content_type: str, account: str | None = None, status: int = 200) -> None:
        line = {"service": service, "region": region, "operation": operation}
        if account is not None:
            line["account"] = account
        if "form" in request:
            fields = {"Action": operation, "Version": QUERY_VERSIONS[service], **request["form"]}
            line.update(method="POST", uri="/", content_type="application/x-www-form-urlencoded; charset=utf-8",
                        body=urlencode(fields))
        elif "json" in request:
            line.update(method="POST", uri="/", content_type=JSON11, body=json.dumps(request["json"]))
        else:
            line.update(method=request["method"], uri=request["uri"])
        line.update(status=status, response_content_type=content_type, response=body)
        self.send(line)
        self.count += 1

    def finish(self) -> None:
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        err = self.proc.stderr.read()
        if self.proc.wait() != 0:
            raise SystemExit(f"audit write-recording failed: {err.strip()}")


def form(**fields) -> dict:
    """A query-protocol request (EC2, ELBv2, IAM, STS): its form fields."""
    return {"form": {k: str(v) for k, v in fields.items()}}


def json_post(body: dict) -> dict:
    """An awsJson1.1 request (ECS, Application Auto Scaling, EventBridge): its body."""
    return {"json": body}


def rest_get(path: str, query: dict | None = None) -> dict:
    """A REST GET (EKS, EventBridge Scheduler): path and query string."""
    return {"method": "GET", "uri": path + ("?" + urlencode(query) if query else "")}


def chunks(items: list, size: int) -> list[list]:
    """Pages of a listing: always at least one, possibly empty."""
    if not items:
        return [[]]
    return [items[i:i + size] for i in range(0, len(items), size)]


def token(*parts) -> str:
    # Opaque like AWS's tokens, but URL-safe so the query and form encodings are trivial.
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:48]


def x(text) -> str:
    return escape(str(text))


def xml_tags(tags: list[tuple[str, str]], item: str = "item", k: str = "key", v: str = "value") -> str:
    return "".join(f"<{item}><{k}>{x(a)}</{k}><{v}>{x(b)}</{v}></{item}>" for a, b in tags)


def ec2_set(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


# ------------------------------------------------------------------------------ model


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def ec2(self, prefix: str) -> str:
        return f"{prefix}-{self.hex(17)}"

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def upper(self, n: int) -> str:
        return "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))

    def b64(self, n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(self.rng.choice(alphabet) for _ in range(n))


class Names:
    """Account-wide unique names: IAM role names derive from service and cluster names."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        n = self.seen.get(base, 0) + 1
        self.seen[base] = n
        return base if n == 1 else f"{base}-{n}"


class Obj:
    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


def az_id(region: str, letter: str) -> str:
    parts = region.split("-")
    short = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]
    return f"{short}-az{'abcdef'.index(letter) + 1}"


# Subnet layouts of the two VPC flavours, 8 subnets each: (tier, zone letter).
# Flavour "endpoints": ECR/logs/secrets interface endpoints, S3 gateway on the private route
# table only, data subnets left on the local-only main table (VPC002).
# Flavour "nat": NAT, no endpoints, isolated subnets on a local-only table (VPC003/4/5).
LAYOUT = {
    "endpoints": [("public", "a"), ("public", "b"), ("private", "a"), ("private", "b"),
                  ("data", "a"), ("data", "b"), ("tight", "a"), ("private", "c")],
    "nat": [("public", "a"), ("public", "b"), ("private", "a"), ("private", "b"),
            ("isolated", "a"), ("private", "c"), ("isolated", "b"), ("tight", "b")],
}
FALLBACK = ["private", "data", "isolated", "tight", "public"]

# Service profiles per VPC flavour, in the order they fill a VPC's clusters (the first
# cluster of a VPC gets the first three, the second the next three, …).
PROFILES = {
    "endpoints": ["checkout-api", "cart-api", "catalog-web", "fraud-scorer", "ledger-worker", "payments-api"],
    "nat": ["invoice-api", "invoice-renderer", "notifications", "public-web", "reports-worker", "metrics-agent"],
}
CLUSTER_NAMES = {
    "endpoints": ["storefront", "payments", "catalog", "orders", "search", "identity"],
    "nat": ["billing", "notify", "reporting", "media", "ledger", "support"],
}
# EKS cluster profiles, cycled with a per-region offset so two regions differ at scale 1.
EKS_PROFILES = ["shop-prod", "ml-sandbox", "analytics", "edge", "legacy"]
NODEGROUP_FLAVOURS = {
    "shop-prod": [("general", "m5.large", 2, 6, 3), ("system", "m5.2xlarge", 2, 4, 2),
                  ("batch", "c5.xlarge", 0, 10, 2), ("memory", "r5.large", 1, 4, 1)],
    "analytics": [("spark-workers", "m5.xlarge", 2, 20, 4), ("core", "t3.medium", 2, 4, 2),
                  ("etl", "m6i.large", 1, 6, 2), ("notebooks", "t3.large", 1, 3, 1)],
}


class Region:
    """One account's estate in one region."""

    def __init__(self, gen: "Generator", account: str, region: str, index: int, dims: dict) -> None:
        self.gen = gen
        self.account = account
        self.region = region
        self.index = index
        self.dims = dims
        self.rng = random.Random(f"{gen.seed}:{account}:{region}")
        self.ids = Ids(self.rng)
        self.vpcs: list[Obj] = []
        self.subnets: list[Obj] = []
        self.route_tables: list[Obj] = []
        self.nats: list[Obj] = []
        self.igws: list[Obj] = []
        self.endpoints: list[Obj] = []
        self.clusters: list[Obj] = []
        self.services: list[Obj] = []
        self.task_defs: dict[str, Obj] = {}
        self.target_groups: list[Obj] = []
        self.tg_budget = dims["target_groups"]
        self.load_balancers: list[Obj] = []
        self.eks: list[Obj] = []
        self.instances: list[Obj] = []
        self.scalable: list[Obj] = []
        self.repositories: list[Obj] = []
        self.registry: Obj | None = None

    # -------------------------------------------------------------- network

    def build_network(self) -> None:
        ids = self.ids
        default = Obj(id=ids.ec2("vpc"), cidr="172.31.0.0/16", default=True, name=None,
                      flavour=None, subnets=[], assoc=ids.ec2("vpc-cidr-assoc"))
        self.vpcs.append(default)
        igw = Obj(id=ids.ec2("igw"), vpc=default.id, name=None)
        self.igws.append(igw)
        for i, letter in enumerate("abc"):
            s = Obj(id=ids.ec2("subnet"), vpc=default.id, cidr=f"172.31.{16 * i}.0/20",
                    az=f"{self.region}{letter}", free=4091, public=True, default=True,
                    tier="default", name=None, tags=[])
            default.subnets.append(s)
            self.subnets.append(s)
        self.route_tables.append(Obj(
            id=ids.ec2("rtb"), vpc=default.id, main=True, subnets=[], name=None,
            routes=[("172.31.0.0/16", "local", None), ("0.0.0.0/0", "igw", igw.id)]))

        total = self.dims["subnets"]
        v = 0
        while total > 0:
            n = min(8, total)
            total -= n
            self.build_vpc(v, n)
            v += 1

    def build_vpc(self, v: int, n: int) -> None:
        ids, rng = self.ids, self.rng
        flavour = "endpoints" if (v + self.index) % 2 == 0 else "nat"
        octet = (10 + 100 * self.index + v) % 256
        base = f"10.{octet}"
        name = f"{'prod' if flavour == 'endpoints' else 'apps'}-{v + 1:02d}"
        vpc = Obj(id=ids.ec2("vpc"), cidr=f"{base}.0.0/16", default=False, name=name,
                  flavour=flavour, subnets=[], assoc=ids.ec2("vpc-cidr-assoc"), index=v)
        self.vpcs.append(vpc)
        for pos, (tier, letter) in enumerate(LAYOUT[flavour][:n]):
            if tier == "tight":
                cidr, free = f"{base}.{200 + pos}.0/28", 4
            else:
                cidr = f"{base}.{pos}.0/24"
                free = {"public": rng.randint(238, 251), "private": rng.randint(170, 240),
                        "data": rng.randint(236, 251), "isolated": rng.randint(240, 251)}[tier]
            tags = [("Name", f"{name}-{tier}-{letter}")]
            if tier == "public":
                tags.append(("kubernetes.io/role/elb", "1"))
            elif tier == "private":
                tags.append(("kubernetes.io/role/internal-elb", "1"))
            s = Obj(id=ids.ec2("subnet"), vpc=vpc.id, cidr=cidr, az=f"{self.region}{letter}",
                    free=free, public=False, default=False, tier=tier, name=tags[0][1],
                    tags=tags)
            vpc.subnets.append(s)
            self.subnets.append(s)

        def of(*tiers):
            return [s for s in vpc.subnets if s.tier in tiers]

        public = of("public")
        igw = nat = None
        if public:
            igw = Obj(id=ids.ec2("igw"), vpc=vpc.id, name=f"{name}-igw")
            self.igws.append(igw)
            nat = Obj(id=ids.ec2("nat"), vpc=vpc.id, subnet=public[0].id, name=f"{name}-nat-a",
                      eni=ids.ec2("eni"), alloc=ids.ec2("eipalloc"), assoc=ids.ec2("eipassoc"),
                      private_ip=f"{base}.0.{rng.randint(4, 250)}",
                      public_ip=f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
            self.nats.append(nat)
        local = (vpc.cidr, "local", None)
        self.route_tables.append(Obj(id=ids.ec2("rtb"), vpc=vpc.id, main=True, subnets=[],
                                     name=None, routes=[local]))
        if public:
            self.route_tables.append(Obj(
                id=ids.ec2("rtb"), vpc=vpc.id, main=False, subnets=[s.id for s in public],
                name=f"{name}-public", routes=[local, ("0.0.0.0/0", "igw", igw.id)]))
        private_rt = None
        if of("private", "tight"):
            routes = [local] + ([("0.0.0.0/0", "nat", nat.id)] if nat else [])
            private_rt = Obj(id=ids.ec2("rtb"), vpc=vpc.id, main=False,
                             subnets=[s.id for s in of("private", "tight")],
                             name=f"{name}-private", routes=routes)
            self.route_tables.append(private_rt)
        if of("isolated"):
            self.route_tables.append(Obj(id=ids.ec2("rtb"), vpc=vpc.id, main=False,
                                         subnets=[s.id for s in of("isolated")],
                                         name=f"{name}-isolated", routes=[local]))
        if flavour == "endpoints":
            where = of("private") or vpc.subnets
            sg = ids.ec2("sg")
            for svc in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
                self.endpoints.append(Obj(
                    id=ids.ec2("vpce"), vpc=vpc.id, kind="Interface",
                    service=f"com.amazonaws.{self.region}.{svc}", name=f"{name}-{svc}",
                    subnets=[s.id for s in where[:2]], tables=[], sg=sg,
                    enis=[ids.ec2("eni") for _ in where[:2]], policy=ALLOW_ALL_ENDPOINT_POLICY))
            if private_rt is not None:
                # Every third such VPC pins its S3 endpoint to the company's buckets, which
                # also shuts out ECR's layer bucket (VPC006).
                policy = ALLOW_ALL_ENDPOINT_POLICY if v % 3 != 2 else json.dumps({
                    "Version": "2012-10-17", "Statement": [{
                        "Sid": "CompanyBucketsOnly", "Effect": "Allow", "Principal": "*",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::acme-{self.account}-*",
                                     f"arn:aws:s3:::acme-{self.account}-*/*"]}]})
                ep = Obj(id=ids.ec2("vpce"), vpc=vpc.id, kind="Gateway",
                         service=f"com.amazonaws.{self.region}.s3", name=f"{name}-s3",
                         subnets=[], tables=[private_rt.id], sg=None, enis=[], policy=policy)
                self.endpoints.append(ep)
                private_rt.routes.append((self.gen.s3_prefix_list(self.region), "vpce", ep.id))

    def pick(self, vpc: Obj, tier: str, count: int) -> list[Obj]:
        for t in [tier] + [f for f in FALLBACK if f != tier]:
            found = [s for s in vpc.subnets if s.tier == t]
            if found:
                return found[:count]
        return self.vpcs[0].subnets[:count]

    def workload_vpc(self, i: int) -> Obj:
        vpcs = self.vpcs[1:] or self.vpcs
        return vpcs[i % len(vpcs)]

    def ip_in(self, subnet: Obj, n: int) -> str:
        a, b, c, _ = subnet.cidr.split("/")[0].split(".")
        return f"{a}.{b}.{c}.{4 + n % 250}" if not subnet.cidr.endswith("/28") else f"{a}.{b}.{c}.{4 + n % 10}"

    # -------------------------------------------------------------- ELB

    def new_target_group(self, name: str, vpc: Obj, target_type: str, **kw) -> Obj | None:
        if self.tg_budget <= 0:
            return None
        self.tg_budget -= 1
        tg = Obj(name=name[:32], vpc=vpc.id, type=target_type, port=kw.get("port", 8080),
                 arn=f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:targetgroup/{name[:32]}/{self.ids.hex(16)}",
                 lbs=[], hc_port=kw.get("hc_port", "traffic-port"), hc_path=kw.get("hc_path", "/healthz"),
                 tags=kw.get("tags", [("Name", name[:32])]), targets=[], delay=kw.get("delay", 300))
        self.target_groups.append(tg)
        return tg

    def load_balancer(self, name: str, vpc: Obj, internal: bool) -> Obj:
        subnets = [s for s in vpc.subnets if s.tier == ("private" if internal else "public")][:2] or vpc.subnets[:2]
        lb_id = self.ids.hex(16)
        lb = Obj(name=name[:32], vpc=vpc.id, internal=internal, subnets=subnets,
                 arn=f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:loadbalancer/app/{name[:32]}/{lb_id}",
                 lb_id=lb_id, sg=self.ids.ec2("sg"))
        self.load_balancers.append(lb)
        return lb

    # -------------------------------------------------------------- ECS

    def build_ecs(self) -> None:
        dims = self.dims
        names = self.gen.names[self.account]
        vpc_count = max(1, len(self.vpcs) - 1)
        for c in range(dims["clusters"]):
            vpc = self.workload_vpc(c)
            slot = c // vpc_count
            flavour = vpc.flavour or "endpoints"
            team = CLUSTER_NAMES[flavour][slot % len(CLUSTER_NAMES[flavour])]
            name = names(f"ecs:{team}").split(":", 1)[1]
            insights = "disabled" if (c + self.index) % 4 == 2 else "enabled"
            cluster = Obj(name=name, vpc=vpc, services=[], team=team, insights=insights,
                          arn=f"arn:aws:ecs:{self.region}:{self.account}:cluster/{name}",
                          instances=0, lb=None, default_tg=None)
            self.clusters.append(cluster)
            for s in range(dims["services"]):
                profile = PROFILES[flavour][(slot * dims["services"] + s) % 6]
                self.build_service(cluster, profile, names(profile))
            cluster.instances = sum(svc.desired for svc in cluster.services if svc.launch == "EC2")
            if any(svc.profile == "catalog-web" for svc in cluster.services):
                cluster.instances += 1  # a spare instance: bridge tasks can always be placed

    def build_service(self, cluster: Obj, profile: str, name: str) -> None:
        ids, acct, region = self.ids, self.account, self.region
        vpc = cluster.vpc
        v = getattr(vpc, "index", 0)
        svc = Obj(profile=profile, name=name, cluster=cluster, launch="FARGATE", spot=False,
                  desired=2, subnets=[], public_ip=False, controller="ECS",
                  breaker=(True, True), alarms=False, max_pct=200, min_pct=100,
                  tgs=[], scaling=None, deployments=1, sg=ids.ec2("sg"),
                  arn=f"arn:aws:ecs:{region}:{acct}:service/{cluster.name}/{name}")
        td = Obj(family=name, revision=self.rng.randint(1, 40), network="awsvpc", cpu="512",
                 memory="1024", containers=[], exec_role=f"arn:aws:iam::{acct}:role/ecsTaskExecutionRole",
                 task_role=f"arn:aws:iam::{acct}:role/ecs/{name}-task")
        ecr = f"{acct}.dkr.ecr.{region}.amazonaws.com/{name}"
        version = f"{self.rng.randint(1, 9)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}"
        container = dict(name=name, image=f"{ecr}:{version}", port=8080, host_port=8080, env=[("LOG_LEVEL", "info")],
                         secrets=[], health=True, logs=True, privileged=False, caps=[])
        role = Obj(name=f"{name}-task", path="/ecs/", kind="task", service=name, policies=[], managed=[])
        self.gen.roles[acct].append(role)
        tg_kw = {}
        want_tgs: list[tuple[str, str]] = []
        default_tg = False
        healthy = True

        if profile == "checkout-api":
            svc.desired, svc.alarms = 4, True
            svc.subnets = self.pick(vpc, "private", 2)
            svc.scaling = (2, 20)
            want_tgs, default_tg = [(name, "ip")], True
            healthy = v % 2 == 1  # every other storefront ships a release that fails its checks (ELB004)
            tg_kw["delay"] = 300 if v % 2 == 0 else 30
            container["env"].append(("PAYMENTS_URL", "http://payments-api.internal:8080"))
            svc.deployments = 2 if v % 2 == 1 else 1  # a rolling deployment in progress
        elif profile == "cart-api":
            svc.desired, svc.breaker = 3, (True, False)
            svc.subnets = self.pick(vpc, "private", 2)
            want_tgs = [(name, "instance")]  # awsvpc tasks cannot register here (ELB001)
            healthy = None
        elif profile == "catalog-web":
            svc.launch, svc.desired, svc.breaker = "EC2", 2, (False, False)
            td.network, td.cpu, td.memory = "bridge", None, None
            container.update(image=f"{ecr}:latest", host_port=0,
                             env=[("DB_HOST", f"catalog.cluster-{ids.hex(12)}.{region}.rds.amazonaws.com"),
                                  ("DB_PASSWORD", "***REDACTED:name***")])
            role.managed.append("arn:aws:iam::aws:policy/AdministratorAccess")
            want_tgs = [(name, "instance")]
        elif profile == "fraud-scorer":
            svc.desired = 6
            svc.subnets = self.pick(vpc, "tight", 1)
            svc.scaling = (6, 30)
            role.policies.append(("dynamodb-scores", {"Effect": "Allow", "Action": ["dynamodb:*"],
                                                      "Resource": f"arn:aws:dynamodb:{region}:{acct}:table/fraud-*"}))
        elif profile == "ledger-worker":
            svc.subnets = self.pick(vpc, "data", 2)
            container["health"] = False
            container["port"] = None
            if v % 2 == 0:  # a debugging shortcut that never got removed (ECS010); odd VPCs are its clean twin
                role.policies.append(("debug-temp", {"Effect": "Allow", "Action": "*", "Resource": "*"}))
        elif profile == "payments-api":
            svc.controller, svc.desired, svc.breaker = "CODE_DEPLOY", 4, None
            svc.subnets = self.pick(vpc, "private", 2)
            want_tgs = [(f"{name}-blue", "ip"), (f"{name}-green", "ip")]
            tg_kw["delay"] = 30
        elif profile == "invoice-api":
            svc.desired, svc.alarms = 3, True
            svc.subnets = self.pick(vpc, "private", 2)
            svc.scaling = (3, 12)
            want_tgs, default_tg = [(name, "ip")], True
            tg_kw["delay"] = 30
            svc.deployments = 2
        elif profile == "invoice-renderer":
            svc.subnets = self.pick(vpc, "isolated", 1)
        elif profile == "notifications":
            svc.desired, svc.breaker = 1, (False, False)
            svc.subnets = self.pick(vpc, "private", 2)
            want_tgs = [(name, "ip")]
            tg_kw.update(hc_port="9901", delay=30)  # nothing listens there (ELB003)
            healthy = False
        elif profile == "public-web":
            svc.spot, svc.public_ip = True, True
            svc.subnets = self.pick(vpc, "public", 2)
            container["image"] = f"public.ecr.aws/nginx/nginx:1.27.{self.rng.randint(0, 4)}"
            want_tgs = [(name, "ip")]
            tg_kw["delay"] = 30
        elif profile == "reports-worker":
            svc.subnets = self.pick(vpc, "isolated", 2)
            container["secrets"] = [("DB_PASSWORD", f"arn:aws:secretsmanager:{region}:{acct}:secret:{name}/db-{ids.upper(6)}")]
            container["port"] = None
            role.managed.append(f"arn:aws:iam::{acct}:policy/legacy-admin")
        elif profile == "metrics-agent":
            svc.launch = "EC2"
            td.network, td.cpu, td.memory = "host", "128", "256"
            other = self.gen.agent_region(region)
            # One release of the agent, replicated to every region it is pulled from.
            container.update(image=f"{acct}.dkr.ecr.{other}.amazonaws.com/{name}:{AGENT_RELEASE}",
                             port=9100, host_port=9100, logs=False, privileged=True, caps=["SYS_ADMIN"])
            td.task_role = td.exec_role = f"arn:aws:iam::{acct}:role/ecs/{name}-role"
            role.name, role.kind = f"{name}-role", "task+exec"
        td.containers.append(container)
        td.arn = f"arn:aws:ecs:{region}:{acct}:task-definition/{td.family}:{td.revision}"
        svc.td = td
        self.task_defs[td.arn] = td
        svc.old_td = None
        if svc.deployments == 2 and td.revision > 1:
            old = Obj(**{**td.__dict__, "revision": td.revision - 1})
            old.arn = f"arn:aws:ecs:{region}:{acct}:task-definition/{td.family}:{old.revision}"
            old.containers = [dict(container, image=container["image"].rsplit(":", 1)[0] + ":" + "0.9.0")]
            self.task_defs[old.arn] = old
            svc.old_td = old

        if want_tgs and self.tg_budget >= len(want_tgs):
            if cluster.lb is None:
                internal = cluster.team not in ("storefront", "billing")
                cluster.lb = self.load_balancer(f"{cluster.name}-alb", vpc, internal)
            for i, (tg_name, kind) in enumerate(want_tgs):
                tg = self.new_target_group(tg_name, vpc, kind, port=container["port"] or 8080,
                                           tags=[("Name", tg_name), ("app", name)], **tg_kw)
                svc.tgs.append(tg)
                if not tg_name.endswith("-green"):  # the idle colour stays detached
                    tg.lbs.append(cluster.lb)
                if default_tg and i == 0 and cluster.default_tg is None:
                    cluster.default_tg = tg
                tg.targets = self.targets_for(svc, tg, healthy)
            if cluster.default_tg is None:
                cluster.default_tg = svc.tgs[0]
        cluster.services.append(svc)
        self.services.append(svc)
        if svc.scaling:
            self.scalable.append(Obj(resource=f"service/{cluster.name}/{name}", min=svc.scaling[0],
                                     max=svc.scaling[1], id=ids.uuid()))

    def targets_for(self, svc: Obj, tg: Obj, healthy) -> list[tuple]:
        if healthy is None or tg.name.endswith("-green"):
            return []
        state = "healthy" if healthy else "unhealthy"
        out = []
        for n in range(svc.desired):
            if tg.type == "ip":
                subnet = svc.subnets[n % len(svc.subnets)] if svc.subnets else self.subnets[0]
                out.append((self.ip_in(subnet, 10 + n), tg.port, state, subnet.az))
            else:
                instance = self.ids.ec2("i")
                out.append((instance, 32768 + self.rng.randint(0, 28000), state, None))
                # The EC2 instance the task runs on, in the service's security group: its
                # own values derive from its id, so the random sequence is untouched.
                subnets = svc.subnets or self.pick(svc.cluster.vpc, "private", 2)
                subnet = subnets[n % len(subnets)]
                self.instances.append(Obj(
                    id=instance, type="m6i.large", subnet=subnet, vpc=subnet.vpc,
                    ip=self.ip_in(subnet, 200 + n), az=subnet.az, sgs=[svc.sg],
                    tags=[("Name", f"{svc.cluster.name}-ecs"), ("AmazonECSManaged", "true")]))
        return out

    # -------------------------------------------------------------- EKS

    def build_eks(self) -> None:
        dims = self.dims
        names = self.gen.names[self.account]
        for e in range(dims["eks_clusters"]):
            profile = EKS_PROFILES[(e + 2 * self.index) % len(EKS_PROFILES)]
            vpc = self.workload_vpc(e)
            name = names(f"eks:{profile}").split(":", 1)[1]
            self.build_eks_cluster(profile, name, vpc)

    def build_eks_cluster(self, profile: str, name: str, vpc: Obj) -> None:
        ids, acct, region = self.ids, self.account, self.region
        issuer_id = ids.hex(32).upper()
        cl = Obj(name=name, profile=profile, vpc=vpc, version="1.35", logging=["api", "audit", "authenticator"],
                 public=True, cidrs=["203.0.113.0/24"], kms=None, nodegroups=[], profiles=[],
                 subnets=self.pick(vpc, "private", 2), issuer=f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}",
                 arn=f"arn:aws:eks:{region}:{acct}:cluster/{name}", sg=ids.ec2("sg"),
                 endpoint=f"https://{issuer_id}.gr7.{region}.eks.amazonaws.com", created=T0 - self.rng.randint(86400, 86400 * 400),
                 ca=ids.b64(88), token=ids.uuid())
        provider = True
        irsa: list[tuple[str, str, bool]] = []  # (role suffix, service account, pinned)
        g = self.dims["nodegroups"]
        if profile == "shop-prod":
            cl.kms = f"arn:aws:kms:{region}:{acct}:key/{ids.uuid()}"
            for i in range(g):
                self.add_nodegroup(cl, i, NODEGROUP_FLAVOURS["shop-prod"], cl.subnets, cl.version)
            cl.profiles.append(Obj(name="checkout", namespaces=["checkout"], subnets=cl.subnets, id=ids.uuid()))
            irsa = [("orders-irsa", "system:serviceaccount:checkout:orders", True),
                    ("any-sa-irsa", "system:serviceaccount:*:*", False)]
            # Left detached, as in mocks/demo: ELB001 reads the controller's tags, not a listener.
            # The frontend is an instance group, but namespace checkout runs on Fargate (ELB001).
            self.new_target_group(f"k8s-checkout-frontend-{ids.hex(10)}", vpc, "instance", tags=[
                ("elbv2.k8s.aws/cluster", name), ("service.k8s.aws/stack", "checkout/frontend"),
                ("service.k8s.aws/resource", "checkout/frontend:8080")])
            self.new_target_group(f"k8s-checkout-orders-{ids.hex(10)}", vpc, "ip", tags=[
                ("elbv2.k8s.aws/cluster", name), ("service.k8s.aws/stack", "checkout/orders"),
                ("service.k8s.aws/resource", "checkout/orders:8080")])
        elif profile == "ml-sandbox":
            cl.version, cl.logging, cl.cidrs = "1.27", [], ["0.0.0.0/0"]
        elif profile == "analytics":
            cl.kms = f"arn:aws:kms:{region}:{acct}:key/{ids.uuid()}"
            cl.public, cl.cidrs = False, []
            for i in range(g):
                # The first nodegroup scales onto a single /24 and lags two minor versions.
                subnets = cl.subnets[:1] if i == 0 else cl.subnets
                self.add_nodegroup(cl, i, NODEGROUP_FLAVOURS["analytics"], subnets, "1.33" if i == 0 else cl.version)
            irsa = [("spark-irsa", "system:serviceaccount:spark:driver", True)]
        elif profile == "edge":
            cl.version = "1.36"
            cl.profiles.append(Obj(name="edge", namespaces=["edge", "kube-system"], subnets=cl.subnets, id=ids.uuid()))
            irsa = [("edge-irsa", "system:serviceaccount:edge:gateway", True)]
            provider = False  # the provider was deleted with an earlier incarnation (EKS007)
        elif profile == "legacy":
            cl.version, cl.logging = "1.33", ["api"]
            for n in range(2):
                subnet = cl.subnets[n % len(cl.subnets)]
                self.instances.append(Obj(
                    id=ids.ec2("i"), type="m5.large", subnet=subnet, vpc=vpc.id,
                    ip=self.ip_in(subnet, 100 + n), az=subnet.az,
                    tags=[("Name", f"{name}-node"), (f"kubernetes.io/cluster/{name}", "owned"),
                          ("aws:autoscaling:groupName", f"{name}-nodes")]))
        self.eks.append(cl)
        if provider:
            self.gen.oidc[acct].append(cl.issuer.removeprefix("https://"))
        for suffix, sa, pinned in irsa:
            self.gen.roles[acct].append(Obj(name=f"{name}-{suffix}", path="/eks/", kind="irsa",
                                            issuer=cl.issuer.removeprefix("https://"), sa=sa, pinned=pinned,
                                            policies=[("s3-read", {"Effect": "Allow", "Action": "s3:GetObject",
                                                                   "Resource": f"arn:aws:s3:::{name}-assets/*"})],
                                            managed=[]))

    def add_nodegroup(self, cl: Obj, i: int, flavours: list, subnets: list[Obj], version: str) -> None:
        base, itype, lo, hi, desired = flavours[i % len(flavours)]
        ng_name = base if i < len(flavours) else f"{base}-{i // len(flavours) + 1}"
        ng_id = self.ids.uuid()
        ng = Obj(name=ng_name, type=itype, min=lo, max=hi, desired=desired, subnets=subnets, version=version,
                 arn=f"arn:aws:eks:{self.region}:{self.account}:nodegroup/{cl.name}/{ng_name}/{ng_id}", id=ng_id,
                 sg=f"sg-{self.ids.hex(17)}")
        cl.nodegroups.append(ng)
        for n in range(desired):
            subnet = subnets[n % len(subnets)]
            self.instances.append(Obj(
                id=self.ids.ec2("i"), type=itype, subnet=subnet, vpc=subnet.vpc, ip=self.ip_in(subnet, 60 + 7 * i + n),
                az=subnet.az,
                tags=[("Name", f"{cl.name}-{ng_name}-node"), ("eks:cluster-name", cl.name),
                      ("eks:nodegroup-name", ng_name), (f"kubernetes.io/cluster/{cl.name}", "owned"),
                      ("aws:autoscaling:groupName", f"eks-{ng_name}-{ng_id}")]))

    def spare_target_groups(self) -> None:
        # Groups left behind by retired services: no load balancer, so no health calls.
        n = 0
        while self.tg_budget > 0:
            n += 1
            vpc = self.workload_vpc(n)
            self.new_target_group(f"retired-{n:03d}-{self.ids.hex(6)}", vpc, "ip" if n % 2 else "instance")

    # -------------------------------------------------------------- ECR

    def build_ecr(self) -> None:
        """Private repositories: those of the images this region's task definitions pull
        from its registry, the node agent's (replicated to the regions it is pulled from),
        and one per cluster nothing pulls (tools); their settings vary the way a real
        registry's do. Its own random stream, so the rest of the estate is the same with or
        without it."""
        rng = random.Random(f"{self.gen.seed}:{self.account}:{self.region}:ecr")
        host = f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/"
        names: list[str] = []
        for td in self.task_defs.values():
            for container in td.containers:
                image = container["image"]
                if image.startswith(host):
                    names.append(image[len(host):].split("@")[0].split(":")[0])
        if any(self.gen.agent_region(r) == self.region for r in self.gen.regions):
            names.append("metrics-agent")
        names += [f"{c.name}-tools" for c in self.clusters]
        for i, name in enumerate(dict.fromkeys(names)):
            policy = None
            if i == 1 and self.index % 2 == 0:
                policy = policy_doc({"Sid": "PublicPull", "Effect": "Allow", "Principal": "*",
                                     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
            elif i % 5 == 0:
                policy = policy_doc({"Sid": "OrgPull", "Effect": "Allow", "Principal": "*",
                                     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                                     "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-synth0example"}}})
            lifecycle = [{"rulePriority": 1, "selection": {
                "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                "countNumber": rng.choice((7, 14, 30))}, "action": {"type": "expire"}}]
            # Every sixth repository also keeps only its last few builds: the running
            # release has fallen out of that window (ECR006).
            keep = 5 if i % 6 == 3 else None
            if keep:
                lifecycle.append({"rulePriority": 2, "description": "keep the last builds", "selection": {
                    "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                    "action": {"type": "expire"}})
            self.repositories.append(Obj(
                keep=keep, images=[],
                name=name, created=T0 - rng.randint(86400, 400 * 86400) + rng.random(),
                arn=f"arn:aws:ecr:{self.region}:{self.account}:repository/{name}",
                uri=host + name, scan_on_push=i % 3 != 0,
                mutability="IMMUTABLE" if i % 2 == 0 else "MUTABLE",
                lifecycle=json.dumps({"rules": lifecycle}) if i % 4 != 1 else None,
                policy=policy))
        rules = [[], [("CONTINUOUS_SCAN", ["*"])], [("SCAN_ON_PUSH", ["*-api*"])]][self.index % 3]
        self.registry = Obj(scan_type="ENHANCED" if self.index % 3 == 1 else "BASIC", rules=rules)

    def build_images(self, pulled: dict[str, list[str]]) -> None:
        """Each pulled repository's images: the tags task definitions anywhere in the
        account pull (one image each), older releases and untagged builds before them, and
        newer builds after them where the repository keeps only its last few. Releases and
        builds are image indexes for linux/amd64 and linux/arm64, as `docker buildx` pushes
        them."""
        rng = random.Random(f"{self.gen.seed}:{self.account}:{self.region}:images")
        for repo in self.repositories:
            tags = pulled.get(repo.arn)
            if not tags:
                continue
            t = T0 - rng.randint(60, 200) * 86400
            images = []

            def push(tags: list[str], when: float, index: bool) -> None:
                digest = "sha256:" + hashlib.sha256(f"{repo.arn}:{len(images)}:{tags}".encode()).hexdigest()
                images.append(Obj(digest=digest, tags=tags, pushed=when, index=index))

            for n in range(3):
                push([f"0.{n + 1}.0"], t, True)
                t += rng.randint(1, 10) * 86400
                push([], t, False)
                t += rng.randint(3600, 86400)
            for tag in tags:
                push([tag], t, True)
                t += rng.randint(1, 5) * 86400
            for n in range(repo.keep + 2 if repo.keep else 0):
                push([f"build-{n + 1}"], min(t, T0 - 3600), True)
                t += rng.randint(3600, 86400)
            repo.images, repo.pulled = images, tags

    def build(self) -> None:
        self.build_network()
        self.build_ecs()
        self.build_ecr()
        self.build_eks()
        self.spare_target_groups()


# ------------------------------------------------------------------------------ emitters


class Emitter:
    def __init__(self, rec: Recording, region: Region, account: str | None) -> None:
        self.rec = rec
        self.r = region
        self.key_account = account  # the member account in a fleet recording, else None

    def add(self, service, operation, params, body, ctype) -> None:
        self.rec.add(service, self.r.region, operation, params, body, ctype, account=self.key_account)

    def emit(self) -> None:
        self.ecs()
        self.scheduled()
        self.autoscaling()
        self.eks()
        self.ecr()
        self.images()
        self.secrets()
        self.elb()
        self.ec2()

    # ---------------------------------------------------------------- schedules

    def scheduled(self) -> None:
        """No schedules, the default event bus without rules: what most accounts have."""
        r = self.r
        self.add("scheduler", "ListSchedules", rest_get("/schedules", {"MaxResults": str(page_size("scheduler", "ListSchedules"))}),
                 {"Schedules": []}, REST_JSON)
        self.add("events", "ListEventBuses", json_post({}), {"EventBuses": [
            {"Name": "default", "Arn": f"arn:aws:events:{r.region}:{r.account}:event-bus/default"}]}, JSON11)
        self.add("events", "ListRules", json_post({"EventBusName": "default"}), {"Rules": []}, JSON11)

    # ---------------------------------------------------------------- ECS

    def ecs(self) -> None:
        r = self.r
        arns = [c.arn for c in r.clusters]
        pages = chunks(arns, page_size("ecs", "ListClusters"))
        for i, page in enumerate(pages):
            body = {"clusterArns": page}
            if i + 1 < len(pages):
                body["nextToken"] = token("ecs-clusters", r.account, r.region, i + 1)
            self.add("ecs", "ListClusters",
                     json_post({"nextToken": token("ecs-clusters", r.account, r.region, i)} if i else {}),
                     body, JSON11)
        by_arn = {c.arn: c for c in r.clusters}
        for batch in chunks(arns, batch_size("ecs", "DescribeClusters")):
            if not batch:
                continue
            self.add("ecs", "DescribeClusters",
                     json_post({"clusters": batch, "include": ["SETTINGS", "TAGS"]}),
                     {"clusters": [self.cluster_json(by_arn[a]) for a in batch], "failures": []}, JSON11)
        for c in r.clusters:
            # No standalone tasks: one empty listing per cluster.
            self.add("ecs", "ListTasks", json_post({"cluster": c.arn, "desiredStatus": "RUNNING", "maxResults": page_size("ecs", "ListTasks")}),
                     {"taskArns": []}, JSON11)
            self.container_instances(c)
            svc_arns = [s.arn for s in c.services]
            pages = chunks(svc_arns, page_size("ecs", "ListServices"))
            for i, page in enumerate(pages):
                req = {"cluster": c.arn, "maxResults": page_size("ecs", "ListServices")}
                if i:
                    req["nextToken"] = token("ecs-services", c.arn, i)
                body = {"serviceArns": page}
                if i + 1 < len(pages):
                    body["nextToken"] = token("ecs-services", c.arn, i + 1)
                self.add("ecs", "ListServices", json_post(req), body, JSON11)
            for batch in chunks(c.services, batch_size("ecs", "DescribeServices")):
                if not batch:
                    continue
                self.add("ecs", "DescribeServices",
                         json_post({"cluster": c.arn, "include": ["TAGS"], "services": [s.arn for s in batch]}),
                         {"failures": [], "services": [self.service_json(s) for s in batch]}, JSON11)
        for arn in sorted(r.task_defs):
            self.add("ecs", "DescribeTaskDefinition", json_post({"taskDefinition": arn}),
                     {"taskDefinition": self.task_def_json(r.task_defs[arn])}, JSON11)
        if r.clusters:
            self.account_settings()

    def container_instances(self, c: Obj) -> None:
        """The cluster's EC2 container instances (as many as it reports registered), each
        connected, in a private subnet of the cluster's VPC; ids derive from the cluster's ARN
        so the generator's random sequence is untouched."""
        r = self.r
        subnets = r.pick(c.vpc, "private", 2)
        instances = []
        for i in range(c.instances):
            h = token("container-instance", c.arn, i)
            subnet = subnets[i % len(subnets)]
            instances.append({
                "agentConnected": True,
                "attributes": [
                    {"name": "ecs.availability-zone", "value": subnet.az},
                    {"name": "ecs.cpu-architecture", "value": "x86_64"},
                    {"name": "ecs.instance-type", "value": "m6i.large"},
                    {"name": "ecs.os-type", "value": "linux"},
                    {"name": "ecs.subnet-id", "value": subnet.id},
                    {"name": "ecs.vpc-id", "value": subnet.vpc},
                ],
                "containerInstanceArn": f"arn:aws:ecs:{r.region}:{r.account}:container-instance/{c.name}/{h[:32]}",
                "ec2InstanceId": f"i-{h[32:49]}",
                "pendingTasksCount": 0,
                "runningTasksCount": 0,
                "status": "ACTIVE",
                "versionInfo": {"agentVersion": "1.89.0"},
            })
        size = page_size("ecs", "ListContainerInstances")
        arns = [ci["containerInstanceArn"] for ci in instances]
        pages = chunks(arns, size)
        for i, page in enumerate(pages):
            req = {"cluster": c.arn, "maxResults": size}
            if i:
                req["nextToken"] = token("ecs-container-instances", c.arn, i)
            body = {"containerInstanceArns": page}
            if i + 1 < len(pages):
                body["nextToken"] = token("ecs-container-instances", c.arn, i + 1)
            self.add("ecs", "ListContainerInstances", json_post(req), body, JSON11)
        for batch in chunks(instances, batch_size("ecs", "DescribeContainerInstances")):
            if not batch:
                continue
            self.add("ecs", "DescribeContainerInstances",
                     json_post({"cluster": c.arn, "containerInstances": [ci["containerInstanceArn"] for ci in batch]}),
                     {"containerInstances": batch, "failures": []}, JSON11)

    # The effective account settings AWS reports for a principal that set none: every
    # setting's default, 10 a page.
    ACCOUNT_SETTINGS = (
        ("awsvpcTrunking", "disabled"), ("containerInsights", "disabled"),
        ("containerInstanceLongArnFormat", "enabled"), ("defaultLogDriverMode", "non-blocking"),
        ("dualStackIPv6", "disabled"), ("fargateFIPSMode", "disabled"),
        ("fargateTaskRetirementWaitPeriod", "7"), ("guardDutyActivate", "off"),
        ("serviceLongArnFormat", "enabled"), ("tagResourceAuthorization", "on"),
        ("taskLongArnFormat", "enabled"),
    )

    def account_settings(self) -> None:
        r = self.r
        principal = f"arn:aws:iam::{r.account}:root"
        size = page_size("ecs", "ListAccountSettings")
        pages = chunks(list(self.ACCOUNT_SETTINGS), size)
        for i, page in enumerate(pages):
            req = {"effectiveSettings": True, "maxResults": size}
            if i:
                req["nextToken"] = token("ecs-settings", r.account, r.region, i)
            body = {"settings": [{"name": n, "value": v, "principalArn": principal, "type": "aws_managed"}
                                 for n, v in page]}
            if i + 1 < len(pages):
                body["nextToken"] = token("ecs-settings", r.account, r.region, i + 1)
            self.add("ecs", "ListAccountSettings", json_post(req), body, JSON11)

    def cluster_json(self, c: Obj) -> dict:
        running = sum(s.desired for s in c.services)
        return {
            "activeServicesCount": len(c.services),
            "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
            "clusterArn": c.arn,
            "clusterName": c.name,
            "defaultCapacityProviderStrategy": [],
            "pendingTasksCount": 0,
            "registeredContainerInstancesCount": c.instances,
            "runningTasksCount": running,
            "settings": [{"name": "containerInsights", "value": c.insights}],
            "statistics": [],
            "status": "ACTIVE",
            "tags": [{"key": "team", "value": c.team}],
        }

    def network_json(self, s: Obj) -> dict:
        if s.td.network != "awsvpc":
            return {}
        return {"awsvpcConfiguration": {
            "assignPublicIp": "ENABLED" if s.public_ip else "DISABLED",
            "securityGroups": [s.sg],
            "subnets": [x.id for x in s.subnets]}}

    def service_json(self, s: Obj) -> dict:
        r = self.r
        created = T0 - r.rng.randint(3600, 86400 * 90)
        network = self.network_json(s)
        deployments = []
        if s.controller == "ECS":
            dep_id = f"ecs-svc/{r.rng.randint(10**17, 10**18 - 1)}"
            primary = {
                "createdAt": float(T0 - 600), "desiredCount": s.desired, "failedTasks": 0,
                "id": dep_id, "pendingCount": 0, "rolloutState": "COMPLETED",
                "rolloutStateReason": "ECS deployment " + dep_id + " completed.",
                "runningCount": s.desired, "status": "PRIMARY", "taskDefinition": s.td.arn,
                "updatedAt": float(T0 - 300),
            }
            if s.old_td is not None:
                new_running = max(1, s.desired // 2)
                primary.update(rolloutState="IN_PROGRESS", runningCount=new_running,
                               pendingCount=s.desired - new_running,
                               rolloutStateReason=f"ECS deployment {dep_id} in progress.")
            self.launch_fields(s, primary)
            if network:
                primary["networkConfiguration"] = network
            deployments.append(primary)
            if s.old_td is not None:
                old_id = f"ecs-svc/{r.rng.randint(10**17, 10**18 - 1)}"
                old = {
                    "createdAt": float(created), "desiredCount": s.desired - primary["runningCount"],
                    "failedTasks": 0, "id": old_id, "pendingCount": 0, "rolloutState": "COMPLETED",
                    "rolloutStateReason": f"ECS deployment {old_id} completed.",
                    "runningCount": s.desired - primary["runningCount"], "status": "ACTIVE",
                    "taskDefinition": s.old_td.arn, "updatedAt": float(T0 - 600),
                }
                self.launch_fields(s, old)
                if network:
                    old["networkConfiguration"] = network
                deployments.append(old)
        # Mid-deployment, the old and new revisions' running tasks add up to the desired
        # count and the new revision's tasks still starting are pending on top (VPC001 adds
        # them to the IPs a deployment needs).
        pending = deployments[0]["pendingCount"] if s.old_td is not None else 0
        running = s.desired
        config: dict = {"maximumPercent": s.max_pct, "minimumHealthyPercent": s.min_pct}
        if s.breaker is not None:
            config["deploymentCircuitBreaker"] = {"enable": s.breaker[0], "rollback": s.breaker[1]}
        if s.alarms:
            config["alarms"] = {"alarmNames": [f"{s.name}-5xx-rate", f"{s.name}-p99-latency"],
                                "enable": True, "rollback": True}
        events = [{"createdAt": float(T0 - 120), "id": r.ids.uuid(),
                   "message": f"(service {s.name}) has reached a steady state."}]
        if s.profile == "cart-api" and s.tgs:
            events.insert(0, {"createdAt": float(T0 - 60), "id": r.ids.uuid(),
                              "message": f"(service {s.name}) failed to register targets in (target-group {s.tgs[0].arn}) "
                                         f"with (error The IP address type of the target is not supported by target group {s.tgs[0].name})"})
        d = {
            "clusterArn": s.cluster.arn,
            "createdAt": float(created),
            "createdBy": f"arn:aws:iam::{r.account}:role/platform-deployer",
            "deploymentConfiguration": config,
            "deploymentController": {"type": s.controller},
            "deployments": deployments,
            "desiredCount": s.desired,
            "enableECSManagedTags": True,
            "enableExecuteCommand": False,
            "events": events,
            "loadBalancers": [{"containerName": s.td.containers[0]["name"],
                               "containerPort": s.td.containers[0]["port"] or 8080,
                               "targetGroupArn": tg.arn} for tg in s.tgs[:1]],
            "networkConfiguration": network,
            "pendingCount": pending,
            "placementConstraints": [],
            "placementStrategy": [],
            "propagateTags": "SERVICE",
            "runningCount": running,
            "schedulingStrategy": "REPLICA",
            "serviceArn": s.arn,
            "serviceName": s.name,
            "serviceRegistries": [],
            "status": "ACTIVE",
            "tags": [{"key": "app", "value": s.name}, {"key": "team", "value": s.cluster.team}],
            "taskDefinition": s.td.arn,
            "taskSets": [],
        }
        if s.tgs:
            d["healthCheckGracePeriodSeconds"] = 60
        self.launch_fields(s, d)
        if s.controller == "CODE_DEPLOY":
            d["taskSets"] = [{
                "clusterArn": s.cluster.arn, "computedDesiredCount": s.desired, "createdAt": float(created),
                "externalId": f"ecs-svc/{r.rng.randint(10**17, 10**18 - 1)}", "id": f"ecs-svc/{r.rng.randint(10**17, 10**18 - 1)}",
                "launchType": "FARGATE", "loadBalancers": d["loadBalancers"], "networkConfiguration": network,
                "pendingCount": 0, "platformFamily": "Linux", "platformVersion": "1.4.0", "runningCount": s.desired,
                "scale": {"unit": "PERCENT", "value": 100.0}, "serviceArn": s.arn, "stabilityStatus": "STEADY_STATE",
                "status": "PRIMARY", "taskDefinition": s.td.arn,
                "taskSetArn": f"arn:aws:ecs:{r.region}:{r.account}:task-set/{s.cluster.name}/{s.name}/ecs-svc/{r.rng.randint(10**17, 10**18 - 1)}",
                "updatedAt": float(T0 - 900)}]
        return d

    @staticmethod
    def launch_fields(s: Obj, d: dict) -> None:
        if s.spot:
            d["capacityProviderStrategy"] = [{"base": 0, "capacityProvider": "FARGATE_SPOT", "weight": 1}]
        else:
            d["launchType"] = s.launch
        if s.launch == "FARGATE":
            d["platformFamily"] = "Linux"
            d["platformVersion"] = "1.4.0"

    def task_def_json(self, td: Obj) -> dict:
        r = self.r
        containers = []
        for c in td.containers:
            cd: dict = {
                "cpu": 0 if td.cpu is None else int(td.cpu) // len(td.containers),
                "environment": [{"name": k, "value": v} for k, v in c["env"]],
                "essential": True,
                "image": c["image"],
                "memory": 512 if td.memory is None else int(td.memory) // len(td.containers),
                "mountPoints": [],
                "name": c["name"],
                "portMappings": [],
                "volumesFrom": [],
            }
            if c["port"]:
                pm = {"containerPort": c["port"], "protocol": "tcp"}
                if td.network != "bridge" or c["host_port"] is not None:
                    pm["hostPort"] = c["host_port"] if td.network == "bridge" else c["port"]
                cd["portMappings"] = [pm]
            if c["health"] and c["port"]:
                cd["healthCheck"] = {"command": ["CMD-SHELL", f"curl -fs http://localhost:{c['port']}/healthz || exit 1"],
                                     "interval": 30, "retries": 3, "timeout": 5}
            elif c["health"]:
                cd["healthCheck"] = {"command": ["CMD-SHELL", "test -f /tmp/alive || exit 1"],
                                     "interval": 30, "retries": 3, "timeout": 5}
            if c["logs"]:
                cd["logConfiguration"] = {"logDriver": "awslogs", "options": {
                    "awslogs-group": f"/ecs/{td.family}", "awslogs-region": r.region,
                    "awslogs-stream-prefix": c["name"]}}
            if c["secrets"]:
                cd["secrets"] = [{"name": k, "valueFrom": v} for k, v in c["secrets"]]
            if c["privileged"]:
                cd["privileged"] = True
            if c["caps"]:
                cd["linuxParameters"] = {"capabilities": {"add": c["caps"], "drop": []}}
            containers.append(cd)
        compat = ["EC2"] if td.network in ("bridge", "host") else ["EC2", "FARGATE"]
        d = {
            "compatibilities": compat,
            "containerDefinitions": containers,
            "executionRoleArn": td.exec_role,
            "family": td.family,
            "networkMode": td.network,
            "placementConstraints": [],
            "registeredAt": float(T0 - 86400 - td.revision * 3600),
            "registeredBy": f"arn:aws:sts::{r.account}:assumed-role/platform-deployer/ci",
            "requiresCompatibilities": ["EC2"] if td.network in ("bridge", "host") else ["FARGATE"],
            "revision": td.revision,
            "status": "ACTIVE",
            "taskDefinitionArn": td.arn,
            "taskRoleArn": td.task_role,
            "volumes": [],
        }
        if td.cpu is not None:
            d["cpu"] = td.cpu
        if td.memory is not None:
            d["memory"] = td.memory
        return d

    # ---------------------------------------------------------------- Application Auto Scaling

    def autoscaling(self) -> None:
        r = self.r
        items = sorted(r.scalable, key=lambda t: t.resource)
        pages = chunks(items, page_size("application-autoscaling", "DescribeScalableTargets"))
        role = (f"arn:aws:iam::{r.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_ECSService")
        for i, page in enumerate(pages):
            req = {"MaxResults": page_size("application-autoscaling", "DescribeScalableTargets"), "ServiceNamespace": "ecs"}
            if i:
                req["NextToken"] = token("scaling", r.account, r.region, i)
            body = {"ScalableTargets": [{
                "CreationTime": float(T0 - 86400),
                "MaxCapacity": t.max,
                "MinCapacity": t.min,
                "ResourceId": t.resource,
                "RoleARN": role,
                "ScalableDimension": "ecs:service:DesiredCount",
                "ScalableTargetARN": f"arn:aws:application-autoscaling:{r.region}:{r.account}:scalable-target/{t.id.replace('-', '')[:28]}",
                "ServiceNamespace": "ecs",
                "SuspendedState": {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                   "ScheduledScalingSuspended": False},
            } for t in page]}
            if i + 1 < len(pages):
                body["NextToken"] = token("scaling", r.account, r.region, i + 1)
            self.add("application-autoscaling", "DescribeScalableTargets", json_post(req), body, JSON11)

    # ---------------------------------------------------------------- EKS

    def eks_list(self, path: str, field: str, names: list[str], salt: str) -> None:
        operation = {"clusters": "ListClusters", "nodegroups": "ListNodegroups",
                     "fargateProfileNames": "ListFargateProfiles", "addons": "ListAddons",
                     "associations": "ListPodIdentityAssociations"}[field]
        pages = chunks(names, page_size("eks", operation))
        for i, page in enumerate(pages):
            query = {"nextToken": token("eks", salt, i)} if i else None
            body = {field: page}
            if i + 1 < len(pages):
                body["nextToken"] = token("eks", salt, i + 1)
            self.add("eks", operation, rest_get(path, query), body, REST_JSON)

    def eks(self) -> None:
        r = self.r
        self.eks_list("/clusters", "clusters", [c.name for c in r.eks], f"{r.account}:{r.region}")
        for c in r.eks:
            self.add("eks", "DescribeCluster", rest_get(f"/clusters/{c.name}"), {"cluster": self.eks_json(c)}, REST_JSON)
            self.eks_list(f"/clusters/{c.name}/node-groups", "nodegroups", [n.name for n in c.nodegroups], c.arn + ":ng")
            self.eks_list(f"/clusters/{c.name}/fargate-profiles", "fargateProfileNames",
                          [p.name for p in c.profiles], c.arn + ":fp")
            # No add-ons: one empty listing per cluster.
            self.eks_list(f"/clusters/{c.name}/addons", "addons", [], c.arn + ":addons")
            self.eks_list(f"/clusters/{c.name}/pod-identity-associations", "associations", [], c.arn + ":pia")
            for ng in c.nodegroups:
                self.add("eks", "DescribeNodegroup", rest_get(f"/clusters/{c.name}/node-groups/{ng.name}"),
                         {"nodegroup": self.nodegroup_json(c, ng)}, REST_JSON)
            for p in c.profiles:
                self.add("eks", "DescribeFargateProfile", rest_get(f"/clusters/{c.name}/fargate-profiles/{p.name}"),
                         {"fargateProfile": {
                             "clusterName": c.name, "createdAt": float(c.created + 3600),
                             "fargateProfileArn": f"arn:aws:eks:{r.region}:{r.account}:fargateprofile/{c.name}/{p.name}/{p.id}",
                             "fargateProfileName": p.name,
                             "podExecutionRoleArn": f"arn:aws:iam::{r.account}:role/eks-fargate-pod-execution-role",
                             "selectors": [{"namespace": ns} for ns in p.namespaces],
                             "status": "ACTIVE", "subnets": [s.id for s in p.subnets], "tags": {}}}, REST_JSON)

    def eks_json(self, c: Obj) -> dict:
        r = self.r
        all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        on = [t for t in all_types if t in c.logging]
        off = [t for t in all_types if t not in c.logging]
        logging = [{"enabled": True, "types": on}] if on else []
        if off:
            logging.append({"enabled": False, "types": off})
        d = {
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
            "arn": c.arn,
            "certificateAuthority": {"data": c.ca},
            "clientRequestToken": c.token,
            "createdAt": float(c.created),
            "deletionProtection": False,
            "encryptionConfig": [{"provider": {"keyArn": c.kms}, "resources": ["secrets"]}] if c.kms else [],
            "endpoint": c.endpoint,
            "health": {"issues": []},
            "identity": {"oidc": {"issuer": c.issuer}},
            "kubernetesNetworkConfig": {"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"},
            "logging": {"clusterLogging": logging},
            "name": c.name,
            "platformVersion": {"1.27": "eks.30", "1.33": "eks.9", "1.35": "eks.4", "1.36": "eks.2"}.get(c.version, "eks.1"),
            "resourcesVpcConfig": {
                "clusterSecurityGroupId": c.sg,
                "endpointPrivateAccess": True,
                "endpointPublicAccess": c.public,
                "publicAccessCidrs": c.cidrs,
                "securityGroupIds": [c.sg],
                "subnetIds": [s.id for s in c.subnets],
                "vpcId": c.vpc.id,
            },
            "roleArn": f"arn:aws:iam::{r.account}:role/eks-cluster-role",
            "status": "ACTIVE",
            "tags": {"team": "platform", "cluster": c.name},
            "version": c.version,
        }
        return d

    def nodegroup_json(self, c: Obj, ng: Obj) -> dict:
        r = self.r
        return {
            "amiType": "AL2023_x86_64_STANDARD", "capacityType": "ON_DEMAND", "clusterName": c.name,
            "createdAt": float(c.created + 7200), "diskSize": 20, "health": {"issues": []},
            "instanceTypes": [ng.type], "labels": {"workload": ng.name},
            "modifiedAt": float(T0 - 86400), "nodeRole": f"arn:aws:iam::{r.account}:role/eks-node-role",
            "nodegroupArn": ng.arn, "nodegroupName": ng.name,
            "releaseVersion": f"{ng.version}.0-20261101",
            "resources": {"autoScalingGroups": [{"name": f"eks-{ng.name}-{ng.id}"}], "remoteAccessSecurityGroup": ng.sg},
            "scalingConfig": {"desiredSize": ng.desired, "maxSize": ng.max, "minSize": ng.min},
            "status": "ACTIVE", "subnets": [s.id for s in ng.subnets], "tags": {"team": "platform"},
            "taints": [], "updateConfig": {"maxUnavailable": 1}, "version": ng.version,
        }

    # ---------------------------------------------------------------- ECR

    def ecr(self) -> None:
        """DescribeRepositories page by page; where there are repositories, the registry's
        scanning configuration and each repository's lifecycle and repository policy (or
        ECR's not-found answer)."""
        r = self.r
        self.add("ecr", "DescribePullThroughCacheRules",
                 json_post({"maxResults": page_size("ecr", "DescribePullThroughCacheRules")}),
                 {"pullThroughCacheRules": []}, JSON11)
        size = page_size("ecr", "DescribeRepositories")
        pages = chunks(r.repositories, size)
        for i, page in enumerate(pages):
            req = {"maxResults": size}
            if i:
                req["nextToken"] = token("ecr-repositories", r.account, r.region, i)
            body = {"repositories": [self.repository_json(repo) for repo in page]}
            if i + 1 < len(pages):
                body["nextToken"] = token("ecr-repositories", r.account, r.region, i + 1)
            self.add("ecr", "DescribeRepositories", json_post(req), body, JSON11)
        if not r.repositories:
            return
        self.add("ecr", "GetRegistryScanningConfiguration", json_post({}), {
            "registryId": r.account,
            "scanningConfiguration": {"scanType": r.registry.scan_type, "rules": [
                {"scanFrequency": f, "repositoryFilters": [{"filter": x, "filterType": "WILDCARD"} for x in filters]}
                for f, filters in r.registry.rules]}}, JSON11)
        for repo in r.repositories:
            for op, text, field, missing, what in (
                    ("GetLifecyclePolicy", repo.lifecycle, "lifecyclePolicyText",
                     "LifecyclePolicyNotFoundException", "Lifecycle policy"),
                    ("GetRepositoryPolicy", repo.policy, "policyText",
                     "RepositoryPolicyNotFoundException", "Repository policy")):
                if text is None:
                    message = (f"{what} does not exist for the repository with name '{repo.name}' "
                               f"in the registry with id '{r.account}'")
                    self.rec.add("ecr", r.region, op, json_post({"repositoryName": repo.name}),
                                 {"__type": missing, "message": message}, JSON11,
                                 account=self.key_account, status=400)
                else:
                    self.add("ecr", op, json_post({"repositoryName": repo.name}),
                             {"registryId": r.account, "repositoryName": repo.name, field: text}, JSON11)

    def images(self) -> None:
        """DescribeImages (any status) for each pulled repository, then BatchGetImage for
        the image indexes task definitions pull, as the collector asks for them."""
        r = self.r
        size = page_size("ecr", "DescribeImages")
        for repo in r.repositories:
            if not repo.images:
                continue
            base = {"repositoryName": repo.name, "registryId": r.account, "filter": {"imageStatus": "ANY"},
                    "maxResults": size}
            pages = chunks(repo.images, size)
            for i, page in enumerate(pages):
                req = dict(base)
                if i:
                    req["nextToken"] = token("ecr-images", repo.arn, i)
                body = {"imageDetails": [self.image_json(repo, im) for im in page]}
                if i + 1 < len(pages):
                    body["nextToken"] = token("ecr-images", repo.arn, i + 1)
                self.add("ecr", "DescribeImages", json_post(req), body, JSON11)
            pulled = set(repo.pulled)
            indexes = [im for im in repo.images if im.index and pulled & set(im.tags)]
            for batch in chunks(indexes, batch_size("ecr", "BatchGetImage")):
                if not batch:
                    continue
                req = {"repositoryName": repo.name, "registryId": r.account,
                       "imageIds": [{"imageDigest": im.digest} for im in batch],
                       "acceptedMediaTypes": list(MANIFEST_TYPES)}
                self.add("ecr", "BatchGetImage", json_post(req), {"images": [
                    {"registryId": r.account, "repositoryName": repo.name, "imageId": {"imageDigest": im.digest},
                     "imageManifest": self.index_manifest(im), "imageManifestMediaType": MANIFEST_TYPES[0]}
                    for im in batch], "failures": []}, JSON11)

    def image_json(self, repo: Obj, im: Obj) -> dict:
        d = {"registryId": self.r.account, "repositoryName": repo.name, "imageDigest": im.digest,
             "imageSizeInBytes": 48_000_000 + int(im.pushed) % 9_000_000, "imagePushedAt": float(im.pushed),
             "imageManifestMediaType": MANIFEST_TYPES[0] if im.index else
             "application/vnd.docker.distribution.manifest.v2+json",
             "imageStatus": "ACTIVE"}
        if im.tags:
            d["imageTags"] = im.tags
        return d

    @staticmethod
    def index_manifest(im: Obj) -> str:
        return json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPES[0], "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": "sha256:" + hashlib.sha256(f"{im.digest}:{arch}".encode()).hexdigest(),
             "size": 1000 + i, "platform": {"architecture": arch, "os": "linux", **({"variant": "v8"} if arch == "arm64" else {})}}
            for i, arch in enumerate(("amd64", "arm64"))]})

    def secrets(self) -> None:
        """DescribeSecret once for each Secrets Manager secret a task definition injects
        (metadata only: an AWSCURRENT version, the AWS managed key). The estate injects no
        SSM parameters and no customer-key secrets, so DescribeParameters, DescribeKey and
        GetKeyPolicy are never asked."""
        r = self.r
        arns = sorted({v for td in r.task_defs.values() for c in td.containers
                       for _, v in c["secrets"] if v.startswith("arn:")})
        for arn in arns:
            name = arn.split(":secret:", 1)[1].rsplit("-", 1)[0]
            version = hashlib.sha256(arn.encode()).hexdigest()[:32]
            version = f"{version[:8]}-{version[8:12]}-{version[12:16]}-{version[16:20]}-{version[20:]}"
            self.add("secretsmanager", "DescribeSecret", json_post({"SecretId": arn}), {
                "ARN": arn, "Name": name, "CreatedDate": T0, "LastChangedDate": T0,
                "VersionIdsToStages": {version: ["AWSCURRENT"]},
            }, JSON11)

    def repository_json(self, repo: Obj) -> dict:
        return {
            "repositoryArn": repo.arn, "registryId": self.r.account, "repositoryName": repo.name,
            "repositoryUri": repo.uri, "createdAt": round(repo.created, 3),
            "imageTagMutability": repo.mutability,
            "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
            "encryptionConfiguration": {"encryptionType": "AES256"},
        }

    # ---------------------------------------------------------------- ELBv2

    def elb(self) -> None:
        r = self.r
        wrap = lambda op, inner: (f'<{op}Response xmlns="{ELB_NS}"><{op}Result>{inner}</{op}Result>'
                                  f"<ResponseMetadata></ResponseMetadata></{op}Response>")

        def paged(op: str, items: list, render, field: str, salt: str) -> None:
            pages = chunks(items, page_size("elbv2", op))
            for i, chunk in enumerate(pages):
                req = {"PageSize": page_size("elbv2", op)}
                if i:
                    req["Marker"] = token("elb", salt, i)
                inner = ec2_set(field, "".join(render(o) for o in chunk))
                if i + 1 < len(pages):
                    inner += f"<NextMarker>{token('elb', salt, i + 1)}</NextMarker>"
                self.add("elbv2", op, form(**req), wrap(op, inner), XML)

        paged("DescribeLoadBalancers", r.load_balancers, self.lb_xml, "LoadBalancers", f"{r.account}:{r.region}:lb")
        paged("DescribeTargetGroups", r.target_groups, self.tg_xml, "TargetGroups", f"{r.account}:{r.region}:tg")
        for lb in r.load_balancers:
            listeners = []
            cluster = next(c for c in r.clusters if c.lb is lb)
            if cluster.default_tg is not None:
                listeners.append((80, cluster.default_tg))
            inner = "".join(
                f"<member><ListenerArn>arn:aws:elasticloadbalancing:{r.region}:{r.account}:listener/app/{lb.name}/{lb.lb_id}/{token('listener', lb.arn, port)[:16]}</ListenerArn>"
                f"<LoadBalancerArn>{lb.arn}</LoadBalancerArn><Port>{port}</Port><Protocol>HTTP</Protocol>"
                f"<DefaultActions><member><Type>forward</Type><TargetGroupArn>{tg.arn}</TargetGroupArn></member></DefaultActions>"
                f"<AlpnPolicy/></member>" for port, tg in listeners)
            self.add("elbv2", "DescribeListeners", form(LoadBalancerArn=lb.arn, PageSize=page_size("elbv2", "DescribeListeners")),
                     wrap("DescribeListeners", ec2_set("Listeners", inner)), XML)
            # Every HTTP listener's rules: only the default rule (DescribeRules lists it too).
            for port, tg in listeners:
                listener_arn = (f"arn:aws:elasticloadbalancing:{r.region}:{r.account}:listener/app/{lb.name}/"
                                f"{lb.lb_id}/{token('listener', lb.arn, port)[:16]}")
                rule = (f"<member><RuleArn>{listener_arn.replace(':listener/', ':listener-rule/')}/"
                        f"{token('rule', listener_arn)[:16]}</RuleArn><Priority>default</Priority>"
                        f"<Conditions/><Actions><member><Type>forward</Type><TargetGroupArn>{tg.arn}</TargetGroupArn>"
                        f"</member></Actions><IsDefault>true</IsDefault></member>")
                self.add("elbv2", "DescribeRules", form(ListenerArn=listener_arn, PageSize=page_size("elbv2", "DescribeRules")),
                         wrap("DescribeRules", ec2_set("Rules", rule)), XML)
        for batch in chunks(r.target_groups, batch_size("elbv2", "DescribeTags")):
            if not batch:
                continue
            req = {f"ResourceArns.member.{i + 1}": tg.arn for i, tg in enumerate(batch)}
            inner = "".join(f"<member><ResourceArn>{tg.arn}</ResourceArn><Tags>"
                            f"{xml_tags(tg.tags, 'member', 'Key', 'Value')}</Tags></member>" for tg in batch)
            self.add("elbv2", "DescribeTags", form(**req), wrap("DescribeTags", f"<TagDescriptions>{inner}</TagDescriptions>"), XML)
        for tg in r.target_groups:
            if not tg.lbs:
                continue
            members = []
            for target_id, port, state, az in tg.targets:
                health = f"<State>{state}</State>"
                if state == "unhealthy":
                    reason = "Target.Timeout" if tg.hc_port != "traffic-port" else "Target.ResponseCodeMismatch"
                    health += f"<Reason>{reason}</Reason><Description>Health checks failed</Description>"
                zone = f"<AvailabilityZone>{az}</AvailabilityZone>" if az else ""
                members.append(f"<member><Target><Id>{target_id}</Id><Port>{port}</Port>{zone}</Target>"
                               f"<HealthCheckPort>{tg.hc_port if tg.hc_port != 'traffic-port' else port}</HealthCheckPort>"
                               f"<TargetHealth>{health}</TargetHealth></member>")
            self.add("elbv2", "DescribeTargetHealth", form(TargetGroupArn=tg.arn),
                     wrap("DescribeTargetHealth", ec2_set("TargetHealthDescriptions", "".join(members))), XML)
            attrs = [("deregistration_delay.timeout_seconds", tg.delay), ("stickiness.enabled", "false"),
                     ("load_balancing.algorithm.type", "round_robin"),
                     ("load_balancing.cross_zone.enabled", "use_load_balancer_configuration"),
                     ("slow_start.duration_seconds", 0), ("waf.fail_open.enabled", "false"),
                     ("stickiness.type", "lb_cookie")]
            self.add("elbv2", "DescribeTargetGroupAttributes", form(TargetGroupArn=tg.arn),
                     wrap("DescribeTargetGroupAttributes",
                          f"<Attributes>{xml_tags(attrs, 'member', 'Key', 'Value')}</Attributes>"), XML)

    def lb_xml(self, lb: Obj) -> str:
        r = self.r
        zones = "".join(f"<member><ZoneName>{s.az}</ZoneName><SubnetId>{s.id}</SubnetId></member>" for s in lb.subnets)
        scheme = "internal" if lb.internal else "internet-facing"
        dns = f"{'internal-' if lb.internal else ''}{lb.name}-{int(lb.lb_id[:8], 16) % 10**9}.{r.region}.elb.amazonaws.com"
        return (f"<member><LoadBalancerArn>{lb.arn}</LoadBalancerArn><DNSName>{dns}</DNSName>"
                f"<CanonicalHostedZoneId>Z35SXDOTRQ7X7K</CanonicalHostedZoneId><CreatedTime>2026-09-14T10:02:11.120000Z</CreatedTime>"
                f"<LoadBalancerName>{lb.name}</LoadBalancerName><Scheme>{scheme}</Scheme><VpcId>{lb.vpc}</VpcId>"
                f"<State><Code>active</Code></State><Type>application</Type><AvailabilityZones>{zones}</AvailabilityZones>"
                f"<SecurityGroups><member>{lb.sg}</member></SecurityGroups><IpAddressType>ipv4</IpAddressType></member>")

    def tg_xml(self, tg: Obj) -> str:
        lbs = ec2_set("LoadBalancerArns", "".join(f"<member>{lb.arn}</member>" for lb in tg.lbs))
        return (f"<member><TargetGroupArn>{tg.arn}</TargetGroupArn><TargetGroupName>{tg.name}</TargetGroupName>"
                f"<Protocol>HTTP</Protocol><Port>{tg.port}</Port><VpcId>{tg.vpc}</VpcId><HealthCheckProtocol>HTTP</HealthCheckProtocol>"
                f"<HealthCheckPort>{tg.hc_port}</HealthCheckPort><HealthCheckEnabled>true</HealthCheckEnabled>"
                f"<HealthCheckIntervalSeconds>30</HealthCheckIntervalSeconds><HealthCheckTimeoutSeconds>5</HealthCheckTimeoutSeconds>"
                f"<HealthyThresholdCount>5</HealthyThresholdCount><UnhealthyThresholdCount>2</UnhealthyThresholdCount>"
                f"<HealthCheckPath>{tg.hc_path}</HealthCheckPath><Matcher><HttpCode>200</HttpCode></Matcher>{lbs}"
                f"<TargetType>{tg.type}</TargetType><ProtocolVersion>HTTP1</ProtocolVersion><IpAddressType>ipv4</IpAddressType></member>")

    # ---------------------------------------------------------------- EC2

    def ec2_paged(self, op: str, items: list, render, set_name: str, extra: dict | None = None) -> None:
        r = self.r
        pages = chunks(items, page_size("ec2", op))
        for i, chunk in enumerate(pages):
            req = dict(extra or {})
            req["MaxResults"] = page_size("ec2", op)
            if i:
                req["NextToken"] = token("ec2", op, r.account, r.region, i)
            inner = ec2_set(set_name, "".join(render(o) for o in chunk))
            if i + 1 < len(pages):
                inner += f"<nextToken>{token('ec2', op, r.account, r.region, i + 1)}</nextToken>"
            body = f'<?xml version="1.0" encoding="utf-8"?>\n<{op}Response xmlns="{EC2_NS}">{inner}</{op}Response>'
            self.add("ec2", op, form(**req), body, XML)

    def ec2(self) -> None:
        r = self.r
        self.ec2_paged("DescribeVpcs", r.vpcs, self.vpc_xml, "vpcSet")
        self.ec2_paged("DescribeSubnets", r.subnets, self.subnet_xml, "subnetSet")
        self.ec2_paged("DescribeRouteTables", r.route_tables, self.rt_xml, "routeTableSet")
        self.ec2_paged("DescribeNatGateways", r.nats, self.nat_xml, "natGatewaySet")
        self.ec2_paged("DescribeInternetGateways", r.igws, self.igw_xml, "internetGatewaySet")
        self.ec2_paged("DescribeVpcEndpoints", r.endpoints, self.endpoint_xml, "vpcEndpointSet")
        self.ec2_paged("DescribeSecurityGroups", self.security_groups(), self.sg_xml, "securityGroupInfo")
        filters = {"Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "pending", "Filter.1.Value.2": "running"}
        self.ec2_paged("DescribeInstances", r.instances, self.reservation_xml, "reservationSet", filters)
        types = sorted({ng.type for c in r.eks for ng in c.nodegroups})
        for batch in chunks(types, batch_size("ec2", "DescribeInstanceTypes")):
            if not batch:
                continue
            req = {f"InstanceType.{i + 1}": t for i, t in enumerate(batch)}
            inner = ec2_set("instanceTypeSet", "".join(self.instance_type_xml(t) for t in batch))
            self.add("ec2", "DescribeInstanceTypes", form(**req),
                     f'<?xml version="1.0" encoding="utf-8"?>\n<DescribeInstanceTypesResponse xmlns="{EC2_NS}">{inner}</DescribeInstanceTypesResponse>',
                     XML)

    def security_groups(self) -> list[Obj]:
        """Every security group the estate names, with the rules of a working setup: load
        balancers take 80/443 from anywhere, tasks take every TCP port from their cluster's
        load balancer (or their VPC), endpoints take 443 from their VPC, EKS groups take
        everything from their VPC; all let everything out."""
        r = self.r
        vpc_cidr = {v.id: v.cidr for v in r.vpcs}
        groups: dict[str, Obj] = {}

        def add(sg, vpc: str, name: str, ingress: list) -> None:
            if sg and sg not in groups:
                groups[sg] = Obj(id=sg, vpc=vpc, name=name, ingress=ingress)

        for lb in r.load_balancers:
            add(lb.sg, lb.vpc, f"{lb.name}-lb", [("tcp", 80, 80, "cidr", "0.0.0.0/0"),
                                                 ("tcp", 443, 443, "cidr", "0.0.0.0/0")])
        for c in r.clusters:
            for s in c.services:
                if c.lb is not None:
                    ingress = [("tcp", 0, 65535, "group", c.lb.sg)]
                else:
                    ingress = [("tcp", 0, 65535, "cidr", vpc_cidr.get(c.vpc.id, "10.0.0.0/8"))]
                add(s.sg, c.vpc.id, f"{s.name}-tasks", ingress)
        for e in r.endpoints:
            add(e.sg, e.vpc, f"{e.name}-endpoints", [("tcp", 443, 443, "cidr", vpc_cidr.get(e.vpc, "10.0.0.0/8"))])
        for cl in r.eks:
            cidr = vpc_cidr.get(cl.vpc.id, "10.0.0.0/8")
            add(cl.sg, cl.vpc.id, f"eks-cluster-sg-{cl.name}", [("-1", None, None, "cidr", cidr)])
            for ng in cl.nodegroups:
                add(ng.sg, cl.vpc.id, f"eks-remoteAccess-{ng.name}", [("tcp", 22, 22, "cidr", cidr)])
        return [groups[k] for k in sorted(groups)]

    def sg_xml(self, g: Obj) -> str:
        r = self.r

        def perm(proto, lo, hi, kind, peer) -> str:
            ports = f"<fromPort>{lo}</fromPort><toPort>{hi}</toPort>" if lo is not None else ""
            if kind == "group":
                groups = f"<groups><item><userId>{r.account}</userId><groupId>{peer}</groupId></item></groups>"
                ranges = "<ipRanges/>"
            else:
                groups = "<groups/>"
                ranges = f"<ipRanges><item><cidrIp>{peer}</cidrIp></item></ipRanges>"
            return (f"<item><ipProtocol>{proto}</ipProtocol>{ports}{groups}{ranges}"
                    f"<ipv6Ranges/><prefixListIds/></item>")

        ingress = "".join(perm(*p) for p in g.ingress)
        egress = perm("-1", None, None, "cidr", "0.0.0.0/0")
        return (f"<item><ownerId>{r.account}</ownerId><groupId>{g.id}</groupId><groupName>{g.name}</groupName>"
                f"<groupDescription>{g.name}</groupDescription><vpcId>{g.vpc}</vpcId>"
                f"{ec2_set('ipPermissions', ingress)}{ec2_set('ipPermissionsEgress', egress)}"
                f"<securityGroupArn>arn:aws:ec2:{r.region}:{r.account}:security-group/{g.id}</securityGroupArn>"
                f"<tagSet/></item>")

    def vpc_xml(self, v: Obj) -> str:
        tags = ec2_set("tagSet", xml_tags([("Name", v.name)] if v.name else []))
        return (f"<item><ownerId>{self.r.account}</ownerId><instanceTenancy>default</instanceTenancy><ipv6CidrBlockAssociationSet/>"
                f"<cidrBlockAssociationSet><item><associationId>{v.assoc}</associationId><cidrBlock>{v.cidr}</cidrBlock>"
                f"<cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet>"
                f"<isDefault>{'true' if v.default else 'false'}</isDefault>{tags}<vpcId>{v.id}</vpcId><state>available</state>"
                f"<cidrBlock>{v.cidr}</cidrBlock><dhcpOptionsId>dopt-0a1b2c3d</dhcpOptionsId></item>")

    def subnet_xml(self, s: Obj) -> str:
        r = self.r
        letter = s.az[-1]
        return (f"<item><availabilityZoneId>{az_id(r.region, letter)}</availabilityZoneId><ownerId>{r.account}</ownerId>"
                f"<assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation><ipv6CidrBlockAssociationSet/>"
                f"{ec2_set('tagSet', xml_tags(s.tags))}<subnetArn>arn:aws:ec2:{r.region}:{r.account}:subnet/{s.id}</subnetArn>"
                f"<ipv6Native>false</ipv6Native><privateDnsNameOptionsOnLaunch><hostnameType>ip-name</hostnameType>"
                f"<enableResourceNameDnsARecord>false</enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord>"
                f"</privateDnsNameOptionsOnLaunch><subnetId>{s.id}</subnetId><state>available</state><vpcId>{s.vpc}</vpcId>"
                f"<cidrBlock>{s.cidr}</cidrBlock><availableIpAddressCount>{s.free}</availableIpAddressCount>"
                f"<availabilityZone>{s.az}</availabilityZone><defaultForAz>{'true' if s.default else 'false'}</defaultForAz>"
                f"<mapPublicIpOnLaunch>{'true' if s.public else 'false'}</mapPublicIpOnLaunch></item>")

    def rt_xml(self, t: Obj) -> str:
        rng = self.r.rng
        assoc = []
        if t.main:
            assoc.append(f"<item><main>true</main><routeTableAssociationId>rtbassoc-{rng.getrandbits(68):017x}</routeTableAssociationId>"
                         f"<routeTableId>{t.id}</routeTableId><associationState><state>associated</state></associationState></item>")
        for sid in t.subnets:
            assoc.append(f"<item><main>false</main><routeTableAssociationId>rtbassoc-{rng.getrandbits(68):017x}</routeTableAssociationId>"
                         f"<routeTableId>{t.id}</routeTableId><subnetId>{sid}</subnetId>"
                         f"<associationState><state>associated</state></associationState></item>")
        routes = []
        for dest, kind, target in t.routes:
            if kind == "local":
                routes.append(f"<item><destinationCidrBlock>{dest}</destinationCidrBlock><gatewayId>local</gatewayId>"
                              f"<origin>CreateRouteTable</origin><state>active</state></item>")
            elif kind == "igw":
                routes.append(f"<item><destinationCidrBlock>{dest}</destinationCidrBlock><gatewayId>{target}</gatewayId>"
                              f"<origin>CreateRoute</origin><state>active</state></item>")
            elif kind == "nat":
                routes.append(f"<item><destinationCidrBlock>{dest}</destinationCidrBlock><natGatewayId>{target}</natGatewayId>"
                              f"<origin>CreateRoute</origin><state>active</state></item>")
            else:
                routes.append(f"<item><destinationPrefixListId>{dest}</destinationPrefixListId><gatewayId>{target}</gatewayId>"
                              f"<origin>CreateRoute</origin><state>active</state></item>")
        tags = ec2_set("tagSet", xml_tags([("Name", t.name)] if t.name else []))
        return (f"<item>{ec2_set('associationSet', ''.join(assoc))}<routeTableId>{t.id}</routeTableId>"
                f"{ec2_set('routeSet', ''.join(routes))}{tags}<vpcId>{t.vpc}</vpcId><ownerId>{self.r.account}</ownerId></item>")

    def nat_xml(self, n: Obj) -> str:
        return (f"<item><createTime>{ISO}</createTime><natGatewayAddressSet><item><allocationId>{n.alloc}</allocationId>"
                f"<networkInterfaceId>{n.eni}</networkInterfaceId><privateIp>{n.private_ip}</privateIp><publicIp>{n.public_ip}</publicIp>"
                f"<associationId>{n.assoc}</associationId><isPrimary>true</isPrimary><status>succeeded</status></item></natGatewayAddressSet>"
                f"<natGatewayId>{n.id}</natGatewayId><state>available</state><subnetId>{n.subnet}</subnetId><vpcId>{n.vpc}</vpcId>"
                f"<connectivityType>public</connectivityType>{ec2_set('tagSet', xml_tags([('Name', n.name)]))}</item>")

    def igw_xml(self, g: Obj) -> str:
        tags = ec2_set("tagSet", xml_tags([("Name", g.name)] if g.name else []))
        return (f"<item><attachmentSet><item><state>available</state><vpcId>{g.vpc}</vpcId></item></attachmentSet>"
                f"<internetGatewayId>{g.id}</internetGatewayId><ownerId>{self.r.account}</ownerId>{tags}</item>")

    def endpoint_xml(self, e: Obj) -> str:
        r = self.r
        subnets = ec2_set("subnetIdSet", "".join(f"<item>{s}</item>" for s in e.subnets))
        tables = ec2_set("routeTableIdSet", "".join(f"<item>{t}</item>" for t in e.tables))
        groups = ec2_set("groupSet", f"<item><groupId>{e.sg}</groupId><groupName>{e.name}-endpoints</groupName></item>" if e.sg else "")
        enis = ec2_set("networkInterfaceIdSet", "".join(f"<item>{n}</item>" for n in e.enis))
        dns = ""
        if e.kind == "Interface":
            dns = (f"<item><dnsName>{e.id}-{token(e.id)[:8]}.{e.service.split('.', 3)[-1]}.{r.region}.vpce.amazonaws.com</dnsName>"
                   f"<hostedZoneId>Z7HUB22UULQXV</hostedZoneId></item>")
        return (f"<item><vpcEndpointId>{e.id}</vpcEndpointId><vpcEndpointType>{e.kind}</vpcEndpointType><vpcId>{e.vpc}</vpcId>"
                f"<serviceName>{e.service}</serviceName><state>available</state><policyDocument>{x(e.policy)}</policyDocument>"
                f"{tables}{subnets}{groups}<privateDnsEnabled>{'true' if e.kind == 'Interface' else 'false'}</privateDnsEnabled>"
                f"{enis}{ec2_set('dnsEntrySet', dns)}<creationTimestamp>{ISO}</creationTimestamp>"
                f"{ec2_set('tagSet', xml_tags([('Name', e.name)]))}<ownerId>{r.account}</ownerId></item>")

    def reservation_xml(self, i: Obj) -> str:
        r = self.r
        rng = r.rng
        eni = f"eni-{rng.getrandbits(68):017x}"
        host = "ip-" + i.ip.replace(".", "-")
        return (f"<item><reservationId>r-{rng.getrandbits(68):017x}</reservationId><ownerId>{r.account}</ownerId><groupSet/>"
                f"<instancesSet><item><architecture>x86_64</architecture><clientToken>{r.ids.uuid()}</clientToken>"
                f"<ebsOptimized>true</ebsOptimized><hypervisor>nitro</hypervisor><networkInterfaceSet><item>"
                f"<attachment><attachTime>{ISO}</attachTime><attachmentId>eni-attach-{rng.getrandbits(68):017x}</attachmentId>"
                f"<deleteOnTermination>true</deleteOnTermination><deviceIndex>0</deviceIndex><status>attached</status>"
                f"<networkCardIndex>0</networkCardIndex></attachment><description/><macAddress>02:00:00:{rng.randint(0, 255):02x}:{rng.randint(0, 255):02x}:{rng.randint(0, 255):02x}</macAddress>"
                f"<networkInterfaceId>{eni}</networkInterfaceId><ownerId>{r.account}</ownerId>"
                f"<privateDnsName>{host}.{r.region}.compute.internal</privateDnsName><privateIpAddress>{i.ip}</privateIpAddress>"
                f"<sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>{i.subnet.id}</subnetId>"
                f"<vpcId>{i.vpc}</vpcId><interfaceType>interface</interfaceType></item></networkInterfaceSet>"
                f"{ec2_set('groupSet', ''.join(f'<item><groupId>{g}</groupId><groupName>{g}</groupName></item>' for g in getattr(i, 'sgs', [])))}"
                f"<rootDeviceName>/dev/xvda</rootDeviceName><rootDeviceType>ebs</rootDeviceType>"
                f"{ec2_set('tagSet', xml_tags(i.tags))}<virtualizationType>hvm</virtualizationType>"
                f"<metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit>"
                f"<httpEndpoint>enabled</httpEndpoint></metadataOptions><instanceId>{i.id}</instanceId>"
                f"<imageId>ami-{rng.getrandbits(68):017x}</imageId><instanceState><code>16</code><name>running</name></instanceState>"
                f"<privateDnsName>{host}.{r.region}.compute.internal</privateDnsName><amiLaunchIndex>0</amiLaunchIndex>"
                f"<instanceType>{i.type}</instanceType><launchTime>{ISO}</launchTime><placement><tenancy>default</tenancy>"
                f"<availabilityZone>{i.az}</availabilityZone></placement><monitoring><state>disabled</state></monitoring>"
                f"<subnetId>{i.subnet.id}</subnetId><vpcId>{i.vpc}</vpcId><privateIpAddress>{i.ip}</privateIpAddress></item>"
                f"</instancesSet></item>")

    @staticmethod
    def instance_type_xml(name: str) -> str:
        vcpu, mib, enis, ips, perf = INSTANCE_TYPES[name]
        return (f"<item><instanceType>{name}</instanceType><currentGeneration>true</currentGeneration>"
                f"<freeTierEligible>false</freeTierEligible><supportedUsageClasses><item>on-demand</item><item>spot</item></supportedUsageClasses>"
                f"<supportedRootDeviceTypes><item>ebs</item></supportedRootDeviceTypes><bareMetal>false</bareMetal><hypervisor>nitro</hypervisor>"
                f"<processorInfo><supportedArchitectures><item>x86_64</item></supportedArchitectures></processorInfo>"
                f"<vCpuInfo><defaultVCpus>{vcpu}</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>{mib}</sizeInMiB></memoryInfo>"
                f"<instanceStorageSupported>false</instanceStorageSupported><networkInfo><networkPerformance>{perf}</networkPerformance>"
                f"<maximumNetworkInterfaces>{enis}</maximumNetworkInterfaces><maximumNetworkCards>1</maximumNetworkCards>"
                f"<defaultNetworkCardIndex>0</defaultNetworkCardIndex><ipv4AddressesPerInterface>{ips}</ipv4AddressesPerInterface>"
                f"<ipv6AddressesPerInterface>{ips}</ipv6AddressesPerInterface><ipv6Supported>true</ipv6Supported>"
                f"<enaSupport>required</enaSupport><efaSupported>false</efaSupported></networkInfo>"
                f"<hibernationSupported>true</hibernationSupported><burstablePerformanceSupported>{'true' if name.startswith('t3') else 'false'}</burstablePerformanceSupported>"
                f"<supportedInRegion>true</supportedInRegion></item>")


# ------------------------------------------------------------------------------ IAM


def trust(principal: dict, action: str = "sts:AssumeRole", condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def policy_doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Generator:
    def __init__(self, args) -> None:
        self.args = args
        self.seed = args.seed
        self.regions = args.regions
        self.dims = args.dims
        self.names: dict[str, Names] = {}
        self.roles: dict[str, list[Obj]] = {}
        self.oidc: dict[str, list[str]] = {}
        self.prefix_lists: dict[str, str] = {}

    def agent_region(self, region: str) -> str:
        """Where a region's node agent image comes from: another region of the run (one
        registry serves them), else its neighbour."""
        others = [r for r in self.regions if r != region]
        if others:
            return others[0]
        return "us-west-2" if region == "us-east-1" else "us-east-1"

    def s3_prefix_list(self, region: str) -> str:
        if region not in self.prefix_lists:
            self.prefix_lists[region] = "pl-" + hashlib.sha256(region.encode()).hexdigest()[:8]
        return self.prefix_lists[region]

    def accounts(self) -> list[str]:
        if self.args.accounts == 1:
            return [HOME_ACCOUNT]
        return [f"{210000000000 + 7919 * (i + 1):012d}" for i in range(self.args.accounts)]

    def run(self, out: str) -> int:
        fleet = self.args.accounts > 1
        accounts = self.accounts()
        home = self.regions[0]
        header = {"recorded_at": RECORDED_AT, "accounts": accounts, "regions": self.regions, "fleet": None}
        if fleet:
            header["fleet"] = {"all_regions": False, "targets": [
                {"account": a, "name": f"workloads-{i + 1:02d}",
                 "role_arn": f"arn:aws:iam::{a}:role/awsaudit-member", "assumed": {"status": "ok"}}
                for i, a in enumerate(accounts)]}
        rec = Recording(self.args.audit, out, header)
        try:
            self.emit(rec, fleet, accounts, home)
        except BaseException:
            rec.proc.kill()  # never a recording of half an estate
            raise
        rec.finish()
        return rec.count

    def emit(self, rec: Recording, fleet: bool, accounts: list[str], home: str) -> None:
        caller = (f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/awsaudit-runner/awsaudit" if fleet
                  else f"arn:aws:sts::{HOME_ACCOUNT}:user/platform-audit")
        rec.add("sts", home, "GetCallerIdentity", form(),
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                f"<UserId>***REDACTED***</UserId><Account>{HOME_ACCOUNT}</Account><Arn>{caller}</Arn>"
                "</GetCallerIdentityResult><ResponseMetadata></ResponseMetadata></GetCallerIdentityResponse>", XML)
        if not fleet:
            # Recorded by a live run's region check; a replay does not ask again.
            rec.add("ec2", home, "DescribeRegions", form(AllRegions="true"), self.regions_xml(), XML)
        for account in accounts:
            key_account = account if fleet else None
            if fleet:
                rec.add("ec2", home, "DescribeRegions", form(AllRegions="true"), self.regions_xml(), XML,
                        account=account)
            self.names[account] = Names()
            self.roles[account] = []
            self.oidc[account] = []
            built = []
            for index, region in enumerate(self.regions):
                r = Region(self, account, region, index, self.dims)
                r.build()
                built.append(r)
            # What every task definition of the account pulls from ECR, by repository.
            pulled: dict[str, list[str]] = {}
            for r in built:
                for td in r.task_defs.values():
                    for container in td.containers:
                        m = re.match(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)(?::([^@]+))?$",
                                     container["image"])
                        if m:
                            arn = f"arn:aws:ecr:{m[2]}:{m[1]}:repository/{m[3]}"
                            tags = pulled.setdefault(arn, [])
                            if (m[4] or "latest") not in tags:
                                tags.append(m[4] or "latest")
            for r in built:
                r.build_images(pulled)
                Emitter(rec, r, key_account).emit()
            del built
            self.iam(rec, account, key_account, home)

    def regions_xml(self) -> str:
        known = dict(COMMERCIAL_REGIONS)
        for r in self.regions:
            known.setdefault(r, "opt-in-not-required")
        items = "".join(f"<item><optInStatus>{s}</optInStatus><regionName>{n}</regionName>"
                        f"<regionEndpoint>ec2.{n}.amazonaws.com</regionEndpoint></item>" for n, s in sorted(known.items()))
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<DescribeRegionsResponse xmlns="{EC2_NS}">'
                f"<regionInfo>{items}</regionInfo></DescribeRegionsResponse>")

    # ---------------------------------------------------------------- IAM

    def iam(self, rec: Recording, account: str, key_account: str | None, region: str) -> None:
        rng = random.Random(f"{self.seed}:{account}:iam")
        ids = Ids(rng)
        ecs_tasks = {"Service": "ecs-tasks.amazonaws.com"}
        roles: list[tuple] = []  # (path, name, trust, inline [(name, doc)], managed [arn], tags)

        def add(path, name, trust_doc, inline=(), managed=(), tags=()):
            roles.append((path, name, trust_doc, list(inline), list(managed), list(tags)))

        add("/", "ecsTaskExecutionRole", trust(ecs_tasks),
            managed=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"])
        add("/", "eks-cluster-role", trust({"Service": "eks.amazonaws.com"}),
            managed=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])
        add("/", "eks-node-role", trust({"Service": "ec2.amazonaws.com"}),
            managed=["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                     "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"])
        add("/", "eks-fargate-pod-execution-role", trust({"Service": "eks-fargate-pods.amazonaws.com"}),
            managed=["arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"])
        add("/", "vendor-integration", trust({"AWS": "*"}))  # anyone may assume it (IAM001)
        for role in self.roles[account]:
            if role.kind == "irsa":
                provider = f"arn:aws:iam::{account}:oidc-provider/{role.issuer}"
                op = "StringEquals" if role.pinned else "StringLike"
                doc = trust({"Federated": provider}, "sts:AssumeRoleWithWebIdentity",
                            {op: {f"{role.issuer}:sub": role.sa, f"{role.issuer}:aud": "sts.amazonaws.com"}})
                add(role.path, role.name, doc, [(n, policy_doc(st)) for n, st in role.policies], role.managed)
                continue
            inline = [(f"{role.service}-app", policy_doc({"Effect": "Allow", "Action": ["s3:GetObject"],
                                                         "Resource": f"arn:aws:s3:::{role.service}-assets/*"}))]
            inline += [(n, policy_doc(st)) for n, st in role.policies]
            managed = list(role.managed)
            if role.kind == "task+exec":
                managed.append("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            add(role.path, role.name, trust(ecs_tasks), inline, managed, [("app", role.service)])
        # Roles nobody's workload names: CI, functions, people, partners, and now and then a
        # leftover that trusts anyone.
        n = 0
        while len(roles) < self.dims["roles"]:
            n += 1
            kind = n % 6
            if n % 24 == 0:
                add("/", f"legacy-trust-{n:04d}", trust({"AWS": "*"}))
            elif kind == 0:
                add("/ci/", f"ci-deploy-{n:04d}",
                    trust({"Federated": f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"},
                          "sts:AssumeRoleWithWebIdentity",
                          {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                            "token.actions.githubusercontent.com:sub": f"repo:acme/service-{n}:ref:refs/heads/main"}}),
                    [("deploy", policy_doc({"Effect": "Allow", "Action": ["ecs:UpdateService", "ecs:RegisterTaskDefinition",
                                                                          "ecr:PutImage"], "Resource": "*"}))])
            elif kind == 1:
                add("/service-role/", f"lambda-{n:04d}-exec", trust({"Service": "lambda.amazonaws.com"}),
                    managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
            elif kind == 2:
                add("/", f"ops-readonly-{n:04d}", trust({"AWS": f"arn:aws:iam::{account}:root"}, condition={
                    "Bool": {"aws:MultiFactorAuthPresent": "true"}}),
                    managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"])
            elif kind == 3:
                add("/", f"partner-{n:04d}", trust({"AWS": "arn:aws:iam::999988887777:root"}, condition={
                    "StringEquals": {"sts:ExternalId": f"acme-{ids.hex(12)}"}}),
                    managed=[f"arn:aws:iam::{account}:policy/team-boundary"])
            elif kind == 4:
                add("/", f"data-pipeline-{n:04d}", trust({"Service": "glue.amazonaws.com"}),
                    [("everything", policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))])
            else:
                add("/", f"batch-job-{n:04d}", trust(ecs_tasks),
                    [("queue", policy_doc({"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                                           "Resource": f"arn:aws:sqs:{region}:{account}:jobs-{n}"}))])
        policies = [
            ("team-boundary", policy_doc({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "cloudwatch:*"], "Resource": "*"})),
            ("legacy-admin", policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
            ("ecs-task-common", policy_doc({"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                                                                          "xray:PutTraceSegments"], "Resource": "*"})),
        ]
        attached: dict[str, int] = {}
        for r in roles:
            for arn in r[4]:
                attached[arn] = attached.get(arn, 0) + 1

        def role_xml(r) -> str:
            path, name, doc, inline, managed, tags = r
            inline_xml = "".join(f"<member><PolicyName>{x(pn)}</PolicyName><PolicyDocument>{quote(pd, safe='/')}</PolicyDocument></member>"
                                 for pn, pd in inline)
            managed_xml = "".join(f"<member><PolicyName>{arn.rsplit('/', 1)[1]}</PolicyName><PolicyArn>{arn}</PolicyArn></member>"
                                  for arn in managed)
            return (f"<member><Path>{path}</Path><RoleName>{name}</RoleName><RoleId>AROA{ids.upper(17)}</RoleId>"
                    f"<Arn>arn:aws:iam::{account}:role{path}{name}</Arn><CreateDate>2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:1{rng.randint(0, 9)}:42Z</CreateDate>"
                    f"<AssumeRolePolicyDocument>{x(doc)}</AssumeRolePolicyDocument><InstanceProfileList/>"
                    f"{ec2_set('RolePolicyList', inline_xml)}{ec2_set('AttachedManagedPolicies', managed_xml)}"
                    f"{ec2_set('Tags', xml_tags(tags, 'member', 'Key', 'Value'))}<RoleLastUsed/></member>")

        def policy_xml(p) -> str:
            name, doc = p
            arn = f"arn:aws:iam::{account}:policy/{name}"
            return (f"<member><PolicyName>{name}</PolicyName><PolicyId>ANPA{ids.upper(17)}</PolicyId><Arn>{arn}</Arn><Path>/</Path>"
                    f"<DefaultVersionId>v1</DefaultVersionId><AttachmentCount>{attached.get(arn, 0)}</AttachmentCount>"
                    f"<IsAttachable>true</IsAttachable><Description/><CreateDate>2026-03-02T11:20:47Z</CreateDate>"
                    f"<UpdateDate>2026-03-02T11:20:47Z</UpdateDate><PolicyVersionList><member><Document>{quote(doc, safe='/')}</Document>"
                    f"<VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>2026-03-02T11:20:47Z</CreateDate>"
                    f"</member></PolicyVersionList></member>")

        items = [("role", r) for r in roles] + [("policy", p) for p in policies]
        pages = chunks(items, page_size("iam", "GetAccountAuthorizationDetails"))
        for i, page in enumerate(pages):
            req = {"Filter.member.1": "Role", "Filter.member.2": "LocalManagedPolicy", "MaxItems": page_size("iam", "GetAccountAuthorizationDetails")}
            if i:
                req["Marker"] = token("iam", account, i)
            role_list = "".join(role_xml(r) for k, r in page if k == "role")
            policy_list = "".join(policy_xml(p) for k, p in page if k == "policy")
            more = i + 1 < len(pages)
            tail = f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>"
            if more:
                tail += f"<Marker>{token('iam', account, i + 1)}</Marker>"
            body = (f'<GetAccountAuthorizationDetailsResponse xmlns="{IAM_NS}"><GetAccountAuthorizationDetailsResult>'
                    f"<UserDetailList/><GroupDetailList/>{ec2_set('RoleDetailList', role_list)}{ec2_set('Policies', policy_list)}"
                    f"{tail}</GetAccountAuthorizationDetailsResult><ResponseMetadata></ResponseMetadata>"
                    f"</GetAccountAuthorizationDetailsResponse>")
            rec.add("iam", region, "GetAccountAuthorizationDetails", form(**req), body, XML, account=key_account)
        providers = ["token.actions.githubusercontent.com"] + self.oidc[account]
        inner = "".join(f"<member><Arn>arn:aws:iam::{account}:oidc-provider/{p}</Arn></member>" for p in sorted(providers))
        rec.add("iam", region, "ListOpenIDConnectProviders", form(),
                f'<ListOpenIDConnectProvidersResponse xmlns="{IAM_NS}"><ListOpenIDConnectProvidersResult>'
                f"<OpenIDConnectProviderList>{inner}</OpenIDConnectProviderList></ListOpenIDConnectProvidersResult>"
                f"<ResponseMetadata></ResponseMetadata></ListOpenIDConnectProvidersResponse>", XML, account=key_account)


# ------------------------------------------------------------------------------ CLI


def parse_args(argv: list[str]):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="recording directory to (re)create")
    p.add_argument("--scale", type=int, default=1, help="multiplier of the per-region preset (default 1)")
    p.add_argument("--accounts", type=int, default=1, help="accounts; more than 1 writes a fleet recording")
    p.add_argument("--regions", default="us-east-1,eu-west-1", help="comma-separated regions")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--audit", default=os.environ.get("AUDIT_BIN"),
                   help="the audit binary whose collector the recording is for (default: $AUDIT_BIN)")
    for name, what in (("clusters", "ECS clusters per region"), ("services", "services per ECS cluster"),
                       ("eks-clusters", "EKS clusters per region"), ("nodegroups", "nodegroups per EKS cluster"),
                       ("subnets", "workload subnets per region"), ("target-groups", "target groups per region"),
                       ("roles", "IAM roles per account (at least)")):
        p.add_argument(f"--{name}", type=int, help=what)
    args = p.parse_args(argv)
    if args.scale < 1 or args.accounts < 1:
        p.error("--scale and --accounts must be at least 1")
    if not args.audit:
        p.error("--audit BIN (or AUDIT_BIN): the binary whose operations table says how to page and batch")
    args.regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    if not args.regions or len(set(args.regions)) != len(args.regions):
        p.error("--regions: give distinct regions")
    # ARNs, endpoints and ECR hosts are written for the aws partition only.
    odd = [r for r in args.regions if r.startswith(("cn-", "us-gov-", "us-iso"))]
    if odd:
        p.error(f"--regions: {', '.join(odd)} is outside the aws partition, which is all this generator writes")
    dims = {k: v * args.scale if k in SCALED else v for k, v in UNIT.items()}
    for k in dims:
        given = getattr(args, k)
        if given is not None:
            if given < 0:
                p.error(f"--{k.replace('_', '-')} must not be negative")
            dims[k] = given
    if dims["subnets"] < 1:
        p.error("--subnets must be at least 1: services and clusters need somewhere to run")
    args.dims = dims
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load_operations(args.audit)
    started = time.monotonic()
    out = os.path.abspath(args.out)
    # The recorder refuses a target that is not a recording, and writes beside it until the
    # end, so an interrupted run never leaves half a recording.
    count = Generator(args).run(out)
    took = time.monotonic() - started
    dims = " ".join(f"{k}={v}" for k, v in args.dims.items())
    size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    print(f"{out}: {count} exchanges, {size / 1e6:.1f} MB, {took:.2f}s "
          f"({len(args.regions)} regions, {args.accounts} accounts, {dims})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
