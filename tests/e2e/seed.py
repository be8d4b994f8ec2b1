"""Seed the moto emulator with account states for the end-to-end tests and the mocks.

Each scenario is a function `seed_<name>(session)` that builds, in one account, the BAD case
of a check and its CLEAN twin side by side, and returns a `Seeded` describing what it built
and what the auditor must and must not report:

    must      findings that MUST appear       Expect(check, targets, severity?, needs_patch?)
    must_not  findings that MUST NOT appear   (the clean twins)
    patches   hand edits record_mocks.py applies to the recording, for what moto cannot hold

An expectation matches a finding when the codes are equal and one of `targets` is a whole
segment of the finding's resource ARN (segments split on ':' and '/'; for `must`, also of an
evidence resource). Targets name the resource the way its ARN does: the ECS service name,
target-group name, nodegroup name, EKS cluster name, subnet id... A check may report on the
service or on the subnet it runs in, so a target list carries both where both are fair.

`needs_patch=True` marks an expectation that only holds once `patches` are applied (moto
drops the field it rests on, e.g. ECS deploymentConfiguration): the live run against moto
skips it; the replay of the patched mocks in mocks/<scenario>/ asserts it.

Workarounds for moto 5.2.5 (shared/reference/MOTO.md) used throughout: every awsvpc service
gets securityGroups, every container has container-level memory, VPCs have DNS hostnames on,
and nothing relies on moto starting tasks.

Manual use:  python seed.py --endpoint http://127.0.0.1:PORT SCENARIO   (prints the JSON)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

ACCOUNT = "123456789012"  # moto's default account
# Seed for moto's id generator (MotoServer.seed_ids) before seeding a scenario, so recorded
# mocks keep the same vpc-/subnet-/… ids across re-recordings.
ID_SEED = 20261122


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expect:
    check: str
    targets: tuple[str, ...]
    severity: str | None = None
    needs_patch: bool = False
    why: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["targets"] = list(self.targets)
        return d

    @classmethod
    def from_json(cls, d: dict) -> Expect:
        return cls(d["check"], tuple(d["targets"]), d.get("severity"), d.get("needs_patch", False), d.get("why", ""))


@dataclass
class Patch:
    """One hand edit of a recording. kinds:
    - "ecs_deployment_configuration": in the region's DescribeServices responses, set
      `deploymentConfiguration` of service `service` (cluster `cluster`) to `value`.
    - "ecs_service_fields": set each field of `value` on that service (None removes it).
    - "eks_cluster_fields": in the region's DescribeCluster responses, set each field of
      `value` on EKS cluster `cluster` (`service` unused).
    - "eks_addon_fields": in the region's DescribeAddon responses, set each field of `value`
      on add-on `service` of EKS cluster `cluster`.
    - "ecr_image_fields": in the region's DescribeImages responses, set each field of
      `value` on the image of repository `cluster` tagged `service`.
    - "ecs_container_instance_fields": in the region's DescribeContainerInstances responses,
      set each field of `value` on the container instance of EC2 instance `service` in ECS
      cluster `cluster`; `attributes` entries are merged by name into the recorded ones.
    """

    kind: str
    region: str
    cluster: str
    service: str
    value: dict
    reason: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Seeded:
    name: str
    regions: list[str]
    summary: str
    bad: list[str] = field(default_factory=list)  # prose, for the README
    clean: list[str] = field(default_factory=list)
    must: list[Expect] = field(default_factory=list)
    must_not: list[Expect] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    # Secret values seeded into the account: no recording may contain them.
    secrets: list[str] = field(default_factory=list)
    # Push every image the task definitions pull from this account's registries (creating
    # well-kept repositories as needed), as a real account has them: off only where the
    # scenario is about images that are not there.
    publish_images: bool = True
    # Member accounts of a fleet recording, audited through MEMBER_ROLE from moto's default
    # account (empty: one account, audited directly).
    accounts: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "scenario": self.name,
            "regions": self.regions,
            "summary": self.summary,
            "bad": self.bad,
            "clean": self.clean,
            "must": [e.to_json() for e in self.must],
            "must_not": [e.to_json() for e in self.must_not],
            "patches": [p.to_json() for p in self.patches],
            **({"accounts": self.accounts} if self.accounts else {}),
        }


# AWS returns these for a rolling-update service created without a deploymentConfiguration;
# moto returns no deploymentConfiguration at all. record_mocks.py fills them in for every
# service that has none, so the mocks look like AWS.
AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_ECS = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_OTHER = {"maximumPercent": 200, "minimumHealthyPercent": 100}

# What DescribeCluster returns for a cluster created through the EKS API without these
# settings, and moto 5.2.5 never returns: no deletion protection, and authentication by
# the aws-auth ConfigMap alone (the API's, SDKs' and CloudFormation's default mode).
AWS_DEFAULT_EKS_CLUSTER_FIELDS = {
    "deletionProtection": False,
    "accessConfig": {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "CONFIG_MAP"},
}


def breaker(enable: bool, rollback: bool, max_percent: int = 200, min_percent: int = 100) -> dict:
    return {
        "deploymentCircuitBreaker": {"enable": enable, "rollback": rollback},
        "maximumPercent": max_percent,
        "minimumHealthyPercent": min_percent,
    }


# --------------------------------------------------------------------------- builder


def _token(*parts: str) -> str:
    """A stable idempotency token (botocore would send a random uuid4 that lands in the
    recording and churns it on every re-record)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "awsaudit-e2e/" + "/".join(parts)))


def _tags(name: str | None, extra: dict | None = None) -> list[dict]:
    tags = [{"Key": "Name", "Value": name}] if name else []
    for k, v in (extra or {}).items():
        tags.append({"Key": k, "Value": v})
    return tags


ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _service_trust(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


class Iam:
    """Account-wide IAM (global service: always through us-east-1)."""

    def __init__(self, session) -> None:
        self.iam = session.client("iam", "us-east-1")
        self._roles: dict[str, str] = {}

    def role(self, name: str, trust: dict, managed: list[str] = (), inline: dict | None = None,
             path: str = "/", tags: dict | None = None) -> str:
        if name in self._roles:
            return self._roles[name]
        arn = self.iam.create_role(
            RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust),
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )["Role"]["Arn"]
        for policy in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        for pname, doc in (inline or {}).items():
            self.iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        self._roles[name] = arn
        return arn

    # The roles every container platform has.
    def ecs_execution_role(self) -> str:
        return self.role(
            "ecsTaskExecutionRole", ECS_TASKS_TRUST,
            managed=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
        )

    def ecs_task_role(self, app: str, inline: dict | None = None) -> str:
        return self.role(f"{app}-task", ECS_TASKS_TRUST, path="/ecs/", inline=inline or {
            f"{app}-app": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                               "Resource": f"arn:aws:s3:::{app}-assets/*"}],
            }
        })

    def eks_cluster_role(self) -> str:
        return self.role("eks-cluster-role", _service_trust("eks.amazonaws.com"),
                         managed=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])

    def eks_node_role(self) -> str:
        return self.role("eks-node-role", _service_trust("ec2.amazonaws.com"), managed=[
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        ])

    def eks_fargate_role(self) -> str:
        return self.role("eks-fargate-pod-execution-role", _service_trust("eks-fargate-pods.amazonaws.com"),
                         managed=["arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"])


class Region:
    """Builders for one region, with realistic names and tags on everything."""

    def __init__(self, session, region: str, iam: Iam) -> None:
        self.region = region
        self.iam = iam
        self.ec2 = session.client("ec2", region)
        self.elbv2 = session.client("elbv2", region)
        self.ecs = session.client("ecs", region)
        self.eks = session.client("eks", region)
        self.autoscaling = session.client("application-autoscaling", region)
        self.ecr = session.client("ecr", region)
        self._clusters: set[str] = set()
        self._eks_versions: dict[str, str] = {}
        self._sts = session.client("sts", region)
        self._account: str | None = None

    @property
    def account(self) -> str:
        """The account this region's calls land in (a fleet member's, seeded through it)."""
        if self._account is None:
            self._account = self._sts.get_caller_identity()["Account"]
        return self._account

    def az(self, letter: str) -> str:
        return f"{self.region}{letter}"

    # -- network ------------------------------------------------------------------------

    def vpc(self, name: str, cidr: str) -> str:
        vpc = self.ec2.create_vpc(
            CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": _tags(name)}]
        )["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        return vpc

    def subnet(self, vpc: str, name: str, cidr: str, az: str = "a", tags: dict | None = None) -> str:
        return self.ec2.create_subnet(
            VpcId=vpc, CidrBlock=cidr, AvailabilityZone=self.az(az),
            TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags(name, tags)}],
        )["Subnet"]["SubnetId"]

    def main_route_table(self, vpc: str) -> str:
        for rt in self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]:
            if any(a.get("Main") for a in rt.get("Associations", [])):
                return rt["RouteTableId"]
        raise RuntimeError(f"no main route table for {vpc}")

    def route_table(self, vpc: str, name: str, subnets: list[str] = ()) -> str:
        rt = self.ec2.create_route_table(
            VpcId=vpc, TagSpecifications=[{"ResourceType": "route-table", "Tags": _tags(name)}]
        )["RouteTable"]["RouteTableId"]
        for s in subnets:
            self.ec2.associate_route_table(RouteTableId=rt, SubnetId=s)
        return rt

    def igw(self, vpc: str, name: str) -> str:
        igw = self.ec2.create_internet_gateway(
            TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": _tags(name)}]
        )["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        return igw

    def nat(self, public_subnet: str, name: str) -> str:
        alloc = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        return self.ec2.create_nat_gateway(
            SubnetId=public_subnet, AllocationId=alloc,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags(name)}],
        )["NatGateway"]["NatGatewayId"]

    def default_route(self, rt: str, *, igw: str | None = None, nat: str | None = None) -> None:
        if igw:
            self.ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        else:
            self.ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)

    def sg(self, vpc: str, name: str, description: str) -> str:
        return self.ec2.create_security_group(
            GroupName=name, Description=description, VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags(name)}],
        )["GroupId"]

    def sg_ingress(self, sg: str, from_port: int, to_port: int, *, cidr: str | None = None,
                   group: str | None = None) -> None:
        """A TCP ingress rule from a CIDR or from another security group."""
        perm = {"IpProtocol": "tcp", "FromPort": from_port, "ToPort": to_port}
        if cidr:
            perm["IpRanges"] = [{"CidrIp": cidr}]
        if group:
            perm["UserIdGroupPairs"] = [{"GroupId": group}]
        self.ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[perm])

    def interface_endpoint(self, vpc: str, service: str, subnets: list[str], sg: str, name: str,
                           private_dns: bool = True) -> str:
        return self.ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Interface", ServiceName=f"com.amazonaws.{self.region}.{service}",
            SubnetIds=subnets, SecurityGroupIds=[sg], PrivateDnsEnabled=private_dns,
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": _tags(name)}],
        )["VpcEndpoint"]["VpcEndpointId"]

    def s3_gateway_endpoint(self, vpc: str, route_tables: list[str], name: str, policy: dict | None = None) -> str:
        """An S3 gateway endpoint; without `policy` AWS's full-access default applies."""
        kwargs = {"PolicyDocument": json.dumps(policy)} if policy else {}
        return self.ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{self.region}.s3",
            RouteTableIds=route_tables, **kwargs,
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": _tags(name)}],
        )["VpcEndpoint"]["VpcEndpointId"]

    def task_enis(self, subnet: str, sg: str, count: int) -> None:
        """ENIs like the ones running awsvpc tasks hold (moto never starts service tasks, so
        a subnet 'full of running tasks' is built from plain ENIs)."""
        for i in range(count):
            self.ec2.create_network_interface(
                SubnetId=subnet, Groups=[sg],
                Description=f"arn:aws:ecs:{self.region}:{ACCOUNT}:attachment/00000000-0000-4000-8000-{i:012d}",
            )

    def network(self, name: str, cidr_prefix: str, *, nat: bool = True) -> dict:
        """A conventional VPC: two public /24s behind an IGW, two private /24s whose table
        routes to a NAT gateway (or has no default route when nat=False)."""
        p = cidr_prefix  # e.g. "10.20"
        vpc = self.vpc(name, f"{p}.0.0/16")
        pub = [self.subnet(vpc, f"{name}-public-{z}", f"{p}.{i}.0/24", z, {"kubernetes.io/role/elb": "1"})
               for i, z in ((0, "a"), (1, "b"))]
        priv = [self.subnet(vpc, f"{name}-private-{z}", f"{p}.{i}.0/24", z, {"kubernetes.io/role/internal-elb": "1"})
                for i, z in ((10, "a"), (11, "b"))]
        igw = self.igw(vpc, f"{name}-igw")
        pub_rt = self.route_table(vpc, f"{name}-public", pub)
        self.default_route(pub_rt, igw=igw)
        priv_rt = self.route_table(vpc, f"{name}-private", priv)
        nat_id = None
        if nat:
            nat_id = self.nat(pub[0], f"{name}-nat-a")
            self.default_route(priv_rt, nat=nat_id)
        sg_lb = self.sg(vpc, f"{name}-alb", "internet-facing load balancers")
        sg_app = self.sg(vpc, f"{name}-app", "application tasks")
        # What a working setup has: clients reach the load balancer on 80/443, and the tasks
        # admit the load balancer on every TCP port (moto, like AWS, lets both groups out to
        # anywhere by default). Keeps ELB005 quiet in every scenario built on this network.
        self.sg_ingress(sg_lb, 80, 80, cidr="0.0.0.0/0")
        self.sg_ingress(sg_lb, 443, 443, cidr="0.0.0.0/0")
        self.sg_ingress(sg_app, 0, 65535, group=sg_lb)
        return {"vpc": vpc, "public": pub, "private": priv, "igw": igw, "public_rt": pub_rt,
                "private_rt": priv_rt, "nat": nat_id, "sg_lb": sg_lb, "sg_app": sg_app}

    # -- load balancing ------------------------------------------------------------------

    def alb(self, name: str, subnets: list[str], sg: str, internal: bool = False) -> str:
        return self.elbv2.create_load_balancer(
            Name=name, Subnets=subnets, SecurityGroups=[sg], Type="application",
            Scheme="internal" if internal else "internet-facing",
            Tags=[{"Key": "Name", "Value": name}],
        )["LoadBalancers"][0]["LoadBalancerArn"]

    def tg(self, name: str, vpc: str, target_type: str, port: int = 80, tags: dict | None = None,
           health_path: str = "/healthz", health_port: str = "traffic-port",
           deregistration_delay: int | None = None, protocol: str = "HTTP",
           interval: int | None = None, unhealthy: int | None = None) -> str:
        """A target group; AWS's 300 s deregistration delay unless `deregistration_delay`;
        AWS's health check interval and unhealthy threshold unless `interval`/`unhealthy`."""
        kwargs = {}
        if protocol == "HTTP":
            kwargs["HealthCheckPath"] = health_path
        else:
            kwargs["HealthCheckProtocol"] = "TCP"
        if interval is not None:
            kwargs["HealthCheckIntervalSeconds"] = interval
        if unhealthy is not None:
            kwargs["UnhealthyThresholdCount"] = unhealthy
        arn = self.elbv2.create_target_group(
            Name=name, Protocol=protocol, Port=port, VpcId=vpc, TargetType=target_type,
            HealthCheckPort=health_port, **kwargs,
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()] or [{"Key": "Name", "Value": name}],
        )["TargetGroups"][0]["TargetGroupArn"]
        if deregistration_delay is not None:
            self.elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}])
        return arn

    def register_ip(self, tg: str, ip: str, port: int) -> None:
        """A target registered by hand (moto never registers service tasks; it reports every
        registered target healthy)."""
        self.elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": port}])

    def weighted_listener(self, alb: str, port: int, weights: list[tuple[str, int]]) -> str:
        """HTTP `port` forwarding to several target groups by weight (blue/green)."""
        return self.elbv2.create_listener(
            LoadBalancerArn=alb, Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": tg, "Weight": w} for tg, w in weights]}}],
        )["Listeners"][0]["ListenerArn"]

    def nlb(self, name: str, subnets: list[str], internal: bool = True) -> str:
        """A Network Load Balancer without security groups."""
        return self.elbv2.create_load_balancer(
            Name=name, Subnets=subnets, Type="network",
            Scheme="internal" if internal else "internet-facing",
            Tags=[{"Key": "Name", "Value": name}],
        )["LoadBalancers"][0]["LoadBalancerArn"]

    def listener(self, alb: str, default_tg: str, rules: list[tuple[str, str]] = (), port: int = 80,
                 protocol: str = "HTTP") -> str:
        """`protocol` `port` forwarding to default_tg, plus (path-pattern, tg) rules."""
        arn = self.elbv2.create_listener(
            LoadBalancerArn=alb, Protocol=protocol, Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": default_tg}],
        )["Listeners"][0]["ListenerArn"]
        for prio, (path, tg) in enumerate(rules, start=10):
            self.elbv2.create_rule(
                ListenerArn=arn, Priority=prio,
                Conditions=[{"Field": "path-pattern", "Values": [path]}],
                Actions=[{"Type": "forward", "TargetGroupArn": tg}],
            )
        return arn

    # -- ECR -----------------------------------------------------------------------------

    def ecr_repository(self, name: str, *, scan_on_push: bool, mutability: str = "IMMUTABLE",
                       exclusions: list[str] = (), lifecycle: dict | None = None,
                       policy: dict | None = None) -> str:
        """A private repository; returns its URI (what image references start with)."""
        kwargs = dict(repositoryName=name, imageTagMutability=mutability,
                      imageScanningConfiguration={"scanOnPush": scan_on_push},
                      tags=[{"Key": "team", "Value": name}])
        if exclusions:
            kwargs["imageTagMutabilityExclusionFilters"] = [
                {"filterType": "WILDCARD", "filter": f} for f in exclusions]
        uri = self.ecr.create_repository(**kwargs)["repository"]["repositoryUri"]
        if lifecycle is not None:
            self.ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(lifecycle))
        if policy is not None:
            self.ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(policy))
        return uri

    def ecr_image(self, repository: str, tag: str | None, *, platforms: tuple[str, ...] = (),
                  digest: str | None = None) -> str:
        """Pushes an image (a manifest only: ECR's API does not check layers): an OCI image
        index of `platforms` (`linux/arm64/v8`), else a single-platform Docker image.
        Returns its digest, the manifest's sha256 like ECR's, unless `digest` is given."""
        seed = f"{self.region}/{repository}:{tag}"
        blob = lambda what: "sha256:" + hashlib.sha256(f"{seed}:{what}".encode()).hexdigest()
        if platforms:
            media_type = "application/vnd.oci.image.index.v1+json"
            entries = []
            for p in platforms:
                os_, arch, *variant = p.split("/")
                entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(p),
                                "size": 1024, "platform": {"architecture": arch, "os": os_,
                                                           **({"variant": variant[0]} if variant else {})}})
            manifest = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
        else:
            media_type = "application/vnd.docker.distribution.manifest.v2+json"
            manifest = {"schemaVersion": 2, "mediaType": media_type,
                        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                   "size": 7023, "digest": blob("config")},
                        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                    "size": 32654, "digest": blob("layer")}]}
        text = json.dumps(manifest, separators=(",", ":"))
        digest = digest or "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        kwargs = dict(repositoryName=repository, imageManifest=text, imageManifestMediaType=media_type,
                      imageDigest=digest)
        if tag is not None:
            kwargs["imageTag"] = tag
        self.ecr.put_image(**kwargs)
        return digest

    def ecr_scanning(self, scan_type: str, rules: list[tuple[str, list[str]]]) -> None:
        """The registry scanning configuration: (frequency, wildcard filters) per rule."""
        self.ecr.put_registry_scanning_configuration(scanType=scan_type, rules=[
            {"scanFrequency": f, "repositoryFilters": [{"filter": x, "filterType": "WILDCARD"} for x in filters]}
            for f, filters in rules])

    # -- ECS -----------------------------------------------------------------------------

    def cluster(self, name: str, insights: bool = True) -> str:
        if name in self._clusters:
            return name
        self._clusters.add(name)
        self.ecs.create_cluster(
            clusterName=name,
            settings=[{"name": "containerInsights", "value": "enabled" if insights else "disabled"}],
            tags=[{"key": "team", "value": name}],
        )
        return name

    def task_definition(self, family: str, image: str, *, network_mode: str = "awsvpc",
                        port: int = 8080, memory: int = 512, cpu: int = 256, fargate: bool = True,
                        host_port: int | None = None, environment: dict | None = None,
                        privileged: bool | None = None, add_capabilities: list[str] = (),
                        health_check: bool = True, logs: bool = True, secrets: dict | None = None,
                        execution_role: str | None = None, task_role: str | None = None,
                        readonly_root: bool | None = None, user: str | None = None,
                        pid_mode: str | None = None, ipc_mode: str | None = None,
                        log_mode: str | None = None, cpu_architecture: str | None = None,
                        start_period: int | None = None,
                        efs: tuple[tuple[str, str, str | None], ...] = ()) -> str:
        """A one-container task definition with logs, a health check and its own task role
        unless told otherwise; `secrets` maps variable names to valueFrom references;
        `log_mode` sets the log driver's `mode` option; `efs` lists (volume name, file
        system id, transitEncryption or None) volumes, each mounted at /mnt/<name>."""
        container = {
            "name": family,
            "image": image,
            "essential": True,
            "memory": memory,  # container-level memory: moto needs it (MOTO.md)
            "cpu": cpu,
            "portMappings": [{"containerPort": port, "protocol": "tcp",
                              **({"hostPort": host_port} if host_port is not None else {})}],
            "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{family}", "awslogs-region": self.region,
                "awslogs-stream-prefix": family}},
            "healthCheck": {"command": ["CMD-SHELL", f"curl -fs http://localhost:{port}/healthz || exit 1"],
                            "interval": 30, "timeout": 5, "retries": 3},
        }
        if log_mode is not None:
            container["logConfiguration"]["options"]["mode"] = log_mode
        if start_period is not None:
            container["healthCheck"]["startPeriod"] = start_period
        if efs:
            container["mountPoints"] = [{"sourceVolume": n, "containerPath": f"/mnt/{n}"} for n, _, _ in efs]
        if not logs:
            del container["logConfiguration"]
        if not health_check:
            del container["healthCheck"]
        if secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
        if privileged is not None:
            container["privileged"] = privileged
        if add_capabilities:
            container["linuxParameters"] = {"capabilities": {"add": list(add_capabilities)}}
        if readonly_root is not None:
            container["readonlyRootFilesystem"] = readonly_root
        if user is not None:
            container["user"] = user
        kwargs = dict(
            family=family, networkMode=network_mode, containerDefinitions=[container],
            executionRoleArn=execution_role or self.iam.ecs_execution_role(),
            taskRoleArn=task_role or self.iam.ecs_task_role(family),
        )
        if efs:
            kwargs["volumes"] = [{"name": n, "efsVolumeConfiguration": {
                "fileSystemId": fs, **({"transitEncryption": t} if t else {})}} for n, fs, t in efs]
        if cpu_architecture is not None:
            kwargs["runtimePlatform"] = {"cpuArchitecture": cpu_architecture, "operatingSystemFamily": "LINUX"}
        if pid_mode is not None:
            kwargs["pidMode"] = pid_mode
        if ipc_mode is not None:
            kwargs["ipcMode"] = ipc_mode
        if fargate:
            kwargs.update(requiresCompatibilities=["FARGATE"], cpu=str(cpu), memory=str(memory))
        else:
            kwargs.update(requiresCompatibilities=["EC2"])
        return self.ecs.register_task_definition(**kwargs)["taskDefinition"]["taskDefinitionArn"]

    def service(self, cluster: str, name: str, task_def: str, *, desired: int = 2,
                subnets: list[str] | None = None, sg: str | None = None, tg: str | None = None,
                container_port: int = 8080, launch_type: str = "FARGATE",
                controller: str = "ECS", public_ip: bool = False,
                platform_version: str | None = None) -> str:
        """An ECS service. `deploymentConfiguration` is not sent: moto drops it anyway (the
        mocks get it from a Patch)."""
        self.cluster(cluster)
        kwargs = dict(cluster=cluster, serviceName=name, taskDefinition=task_def, desiredCount=desired,
                      launchType=launch_type, deploymentController={"type": controller},
                      tags=[{"key": "app", "value": name}], propagateTags="SERVICE")
        if platform_version is not None:
            kwargs["platformVersion"] = platform_version
        if subnets is not None:
            kwargs["networkConfiguration"] = {"awsvpcConfiguration": {
                "subnets": subnets, "securityGroups": [sg],
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED"}}
        if tg:
            family = task_def.rsplit("/", 1)[1].split(":")[0]
            kwargs["loadBalancers"] = [{"targetGroupArn": tg, "containerName": family, "containerPort": container_port}]
        return self.ecs.create_service(**kwargs)["service"]["serviceArn"]

    def capacity_provider(self, cluster: str, name: str, *, protection: str, scaling: str) -> str:
        """An Auto Scaling group capacity provider, attached to `cluster` beside Fargate's."""
        self.cluster(cluster)
        asg = (f"arn:aws:autoscaling:{self.region}:{ACCOUNT}:autoScalingGroup:"
               f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}:autoScalingGroupName/{name}-asg")
        self.ecs.create_capacity_provider(name=name, autoScalingGroupProvider={
            "autoScalingGroupArn": asg,
            "managedScaling": {"status": scaling, "targetCapacity": 100},
            "managedTerminationProtection": protection})
        current = self.ecs.describe_clusters(clusters=[cluster])["clusters"][0].get("capacityProviders") or []
        self.ecs.put_cluster_capacity_providers(
            cluster=cluster, capacityProviders=sorted(set(current) | {"FARGATE", name}),
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
        return name

    def autoscale(self, cluster: str, service: str, minimum: int, maximum: int) -> None:
        """Application Auto Scaling on a service's desired count (its scale-out ceiling)."""
        self.autoscaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{service}",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=minimum, MaxCapacity=maximum)

    # -- EKS -----------------------------------------------------------------------------

    def addon(self, cluster: str, name: str, version: str) -> str:
        """An EKS add-on at `version` (tests/e2e/moto_plus.py emulates the add-on API)."""
        return self.eks.create_addon(clusterName=cluster, addonName=name, addonVersion=version)["addon"]["addonArn"]

    def eks_cluster(self, name: str, subnets: list[str], sg: str, version: str = "1.35",
                    public_cidrs: tuple[str, ...] | None = ("203.0.113.0/24",), logging: bool = True,
                    log_types: tuple[str, ...] = ("api", "audit", "authenticator"),
                    public: bool = True, private: bool = True) -> str:
        """An EKS cluster. `public_cidrs=None` sends no list (AWS then applies 0.0.0.0/0);
        `log_types` are the control-plane log types enabled when `logging` is on."""
        self._eks_versions[name] = version
        vpc_config = {"subnetIds": subnets, "securityGroupIds": [sg],
                      "endpointPublicAccess": public, "endpointPrivateAccess": private}
        if public_cidrs is not None:
            vpc_config["publicAccessCidrs"] = list(public_cidrs)
        return self.eks.create_cluster(
            name=name, version=version, roleArn=self.iam.eks_cluster_role(),
            clientRequestToken=_token(self.region, name),
            resourcesVpcConfig=vpc_config,
            logging={"clusterLogging": [{"types": list(log_types), "enabled": logging and bool(log_types)}]},
            tags={"team": "platform"},
        )["cluster"]["arn"]

    def nodegroup(self, cluster: str, name: str, subnets: list[str], instance_type: str,
                  min_size: int, max_size: int, desired: int, version: str | None = None,
                  capacity: str = "ON_DEMAND") -> str:
        """A managed nodegroup. Without `version` it gets its cluster's, as AWS does (moto
        would otherwise report 1.19)."""
        return self.eks.create_nodegroup(
            clusterName=cluster, nodegroupName=name, nodeRole=self.iam.eks_node_role(), subnets=subnets,
            version=version or self._eks_versions.get(cluster, "1.35"),
            clientRequestToken=_token(self.region, cluster, "nodegroup", name),
            instanceTypes=[instance_type], amiType="AL2023_x86_64_STANDARD", capacityType=capacity,
            scalingConfig={"minSize": min_size, "maxSize": max_size, "desiredSize": desired},
            labels={"workload": name},
        )["nodegroup"]["nodegroupArn"]

    def fargate_profile(self, cluster: str, name: str, subnets: list[str], namespaces: list[str]) -> str:
        return self.eks.create_fargate_profile(
            clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=self.iam.eks_fargate_role(),
            clientRequestToken=_token(self.region, cluster, "fargate", name),
            subnets=subnets, selectors=[{"namespace": ns} for ns in namespaces],
        )["fargateProfile"]["fargateProfileArn"]

    def self_managed_node(self, cluster: str, subnet: str, name: str, instance_type: str = "m5.large") -> str:
        return self.ec2.run_instances(
            ImageId="ami-0abcdef1234567890", MinCount=1, MaxCount=1, InstanceType=instance_type, SubnetId=subnet,
            ClientToken=_token(self.region, cluster, "instance", name),
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(name, {
                f"kubernetes.io/cluster/{cluster}": "owned", "aws:autoscaling:groupName": f"{cluster}-{name}"})}],
        )["Instances"][0]["InstanceId"]

    def lbc_target_group(self, cluster: str, namespace: str, svc: str, target_type: str, vpc: str,
                         suffix: str, port: int = 8080) -> str:
        """A target group as the AWS Load Balancer Controller makes it for a Service."""
        name = f"k8s-{namespace[:8]}-{svc[:8]}-{suffix}"
        return self.tg(name, vpc, target_type, port, tags={
            "elbv2.k8s.aws/cluster": cluster,
            "service.k8s.aws/stack": f"{namespace}/{svc}",
            "service.k8s.aws/resource": f"{namespace}/{svc}:{port}",
        })

    def tg_name(self, arn: str) -> str:
        return arn.split(":targetgroup/")[1].split("/")[0]


# --------------------------------------------------------------------------- scenarios


def seed_elb001(session) -> Seeded:
    """ELB001 awsvpc-service-on-instance-target-group, ECS and EKS paths."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("shop", "10.20")
    alb = r.alb("shop-public", net["public"], net["sg_lb"])

    # ECS: Fargate service on an instance TG (bad), Fargate service on an ip TG (clean),
    # bridge-mode EC2 service on an instance TG (clean: instance is right for bridge).
    tg_cart = r.tg("cart-api-instance", net["vpc"], "instance", 8080)
    tg_checkout = r.tg("checkout-api-ip", net["vpc"], "ip", 8080)
    tg_legacy = r.tg("legacy-admin-instance", net["vpc"], "instance", 8080)
    r.listener(alb, tg_checkout, [("/cart*", tg_cart), ("/admin*", tg_legacy)])

    td_cart = r.task_definition("cart-api", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/cart-api:2.14.1")
    td_checkout = r.task_definition("checkout-api", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/checkout-api:5.2.0")
    td_legacy = r.task_definition("legacy-admin", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/legacy-admin:1.0.9",
                                  network_mode="bridge", fargate=False, host_port=0)
    r.service("storefront", "cart-api", td_cart, subnets=net["private"], sg=net["sg_app"], tg=tg_cart)
    r.service("storefront", "checkout-api", td_checkout, subnets=net["private"], sg=net["sg_app"], tg=tg_checkout)
    r.service("backoffice", "legacy-admin", td_legacy, launch_type="EC2", tg=tg_legacy)

    # EKS: the AWS Load Balancer Controller's target groups for a cluster whose Fargate
    # profile selects the namespace: instance (bad) vs ip (clean). Plus a Fargate profile
    # with a wildcard selector (bad), and an instance TG for a namespace that runs on a
    # nodegroup, not Fargate (clean).
    sub = net["private"]
    r.eks_cluster("storefront-eks", sub, net["sg_app"])
    r.fargate_profile("storefront-eks", "shop", sub, ["shop"])
    r.fargate_profile("storefront-eks", "batch", sub, ["batch-*"])
    r.nodegroup("storefront-eks", "general", sub, "m5.large", 2, 4, 2)
    tg_web = r.lbc_target_group("storefront-eks", "shop", "web", "instance", net["vpc"], "5f1e0a9c7b")
    tg_api = r.lbc_target_group("storefront-eks", "shop", "api", "ip", net["vpc"], "7c2d9b1e40")
    tg_batch = r.lbc_target_group("storefront-eks", "batch-jobs", "status", "instance", net["vpc"], "0b3e8d2a11")
    tg_graf = r.lbc_target_group("storefront-eks", "monitoring", "grafana", "instance", net["vpc"], "9a4c6e1f27")
    web, api, batch, graf = (r.tg_name(a) for a in (tg_web, tg_api, tg_batch, tg_graf))

    return Seeded(
        name="elb001", regions=["us-east-1"],
        summary="ECS services and EKS load-balancer-controller target groups, each awsvpc/Fargate "
                "workload paired with an instance target group (bad) or an ip one (clean).",
        bad=[
            "ECS service storefront/cart-api: Fargate (awsvpc) behind target group cart-api-instance of type instance",
            f"EKS cluster storefront-eks: target group {web} (instance) for service shop/web; Fargate profile `shop` selects namespace shop",
            f"EKS cluster storefront-eks: target group {batch} (instance) for service batch-jobs/status; Fargate profile `batch` selects `batch-*` (wildcard)",
        ],
        clean=[
            "ECS service storefront/checkout-api: Fargate behind ip target group checkout-api-ip",
            "ECS service backoffice/legacy-admin: bridge-mode EC2 behind instance target group legacy-admin-instance (right for bridge)",
            f"EKS target group {api} (ip) for shop/api on Fargate",
            f"EKS target group {graf} (instance) for monitoring/grafana: namespace not selected by any Fargate profile (runs on nodegroup general)",
        ],
        must=[
            Expect("ELB001", ("cart-api", "cart-api-instance"), "high", why="awsvpc service on an instance target group"),
            Expect("ELB001", (web,), "high", why="LBC instance target group for a namespace on Fargate"),
            Expect("ELB001", (batch,), "high", why="Fargate selector with a wildcard namespace (batch-*) matches batch-jobs"),
        ],
        must_not=[
            Expect("ELB001", ("checkout-api", "checkout-api-ip"), why="awsvpc service on an ip target group"),
            Expect("ELB001", ("legacy-admin", "legacy-admin-instance"), why="bridge-mode service: instance is correct"),
            Expect("ELB001", (api,), why="ip target group for Fargate pods"),
            Expect("ELB001", (graf,), why="namespace runs on nodes, not Fargate"),
        ],
    )


def seed_vpc001(session) -> Seeded:
    """VPC001 subnet-ip-exhaustion for an ECS rolling deploy and an EKS nodegroup ceiling."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("ingest", "10.30")
    rt = net["private_rt"]
    # A /28 (11 usable in moto; AWS: 16 - 5 reserved = 11) holding 8 running tasks' ENIs:
    # 3 left. A rolling deploy at maximumPercent 200 (AWS default) starts 8 more.
    tiny = r.subnet(net["vpc"], "ingest-batch-a", "10.30.100.0/28", "a")
    r.ec2.associate_route_table(RouteTableId=rt, SubnetId=tiny)
    r.task_enis(tiny, net["sg_app"], 8)
    td = r.task_definition("batch-ingest", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/batch-ingest:3.1.0")
    r.service("ingest", "batch-ingest", td, desired=8, subnets=[tiny], sg=net["sg_app"])
    # Clean twin: same shape on a /24 with room to spare.
    roomy = r.subnet(net["vpc"], "ingest-api-a", "10.30.20.0/24", "a")
    r.ec2.associate_route_table(RouteTableId=rt, SubnetId=roomy)
    r.task_enis(roomy, net["sg_app"], 2)
    td2 = r.task_definition("ingest-api", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/ingest-api:3.1.0")
    r.service("ingest", "ingest-api", td2, desired=2, subnets=[roomy], sg=net["sg_app"])

    # Scale-out ceiling: autoscaling may take events-consumer to 80 tasks (one IP each) on a
    # /26 with 4 task ENIs in it (55 free). Its twin may reach 6 on the roomy /24.
    quarter = r.subnet(net["vpc"], "ingest-events-a", "10.30.101.0/26", "a")
    r.ec2.associate_route_table(RouteTableId=rt, SubnetId=quarter)
    r.task_enis(quarter, net["sg_app"], 4)
    td3 = r.task_definition("events-consumer", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/events-consumer:1.4.0")
    r.service("ingest", "events-consumer", td3, desired=4, subnets=[quarter], sg=net["sg_app"])
    r.autoscale("ingest", "events-consumer", 4, 80)
    r.autoscale("ingest", "ingest-api", 2, 6)

    # EKS: m5.large = 3 ENIs x 10 IPv4 = 30 IPs per node (VPC CNI). maxSize 8 -> 240 IPs on
    # a /25 (123 free): bad. t3.medium = 3 x 6 = 18 per node, maxSize 3 -> 54 IPs on a /20
    # (4091 free): clean.
    half = r.subnet(net["vpc"], "ingest-nodes-a", "10.30.64.0/25", "a")
    big = r.subnet(net["vpc"], "ingest-system-b", "10.30.80.0/20", "b")
    for s in (half, big):
        r.ec2.associate_route_table(RouteTableId=rt, SubnetId=s)
    r.eks_cluster("ingest-eks", net["private"], net["sg_app"])
    r.nodegroup("ingest-eks", "stream-workers", [half], "m5.large", 2, 8, 3)
    r.nodegroup("ingest-eks", "system", [big], "t3.medium", 1, 3, 2)

    return Seeded(
        name="vpc001", regions=["us-east-1"],
        summary="Rolling-deploy and scale-out IP demand against subnet free addresses, for an ECS "
                "service and EKS nodegroups, each next to a twin with room to spare.",
        bad=[
            f"ECS service ingest/batch-ingest: desired 8 on /28 subnet {tiny} (ingest-batch-a) with 3 free IPs "
            "(8 task ENIs already there); a rolling deploy at maximumPercent 200 needs 8 more",
            f"EKS nodegroup ingest-eks/stream-workers: m5.large (3 ENIs x 10 IPv4 = 30 IPs/node) x maxSize 8 = 240 "
            f"IPs on /25 subnet {half} (ingest-nodes-a) with 123 free",
            f"ECS service ingest/events-consumer: autoscaling max 80 tasks on /26 subnet {quarter} "
            "(ingest-events-a) with 55 free IPs",
        ],
        clean=[
            f"ECS service ingest/ingest-api: desired 2, autoscaling max 6, on /24 subnet {roomy} (249 free)",
            f"EKS nodegroup ingest-eks/system: t3.medium (18 IPs/node) x maxSize 3 = 54 IPs on /20 subnet {big} (4091 free)",
        ],
        must=[
            Expect("VPC001", ("batch-ingest", tiny), why="deploy needs 8 IPs, subnet has 3"),
            Expect("VPC001", ("stream-workers", half), why="ceiling 240 IPs, subnet has 123"),
            Expect("VPC001", ("events-consumer",), severity="medium", why="autoscaling max 80 tasks, subnet has 55 free"),
        ],
        must_not=[
            Expect("VPC001", ("ingest-api", roomy), why="needs 2, has 249"),
            Expect("VPC001", ("system", big), why="needs 54, has 4091"),
        ],
    )


def seed_vpc002(session) -> Seeded:
    """VPC002 ecr-endpoints-without-s3-gateway and VPC003 private-subnet-without-image-path."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)

    # VPC A (bad, VPC002): private subnet on the VPC's MAIN route table (no explicit
    # association), no NAT, no IGW; ECR interface endpoints but no S3 gateway endpoint.
    vpc_a = r.vpc("ledger", "10.40.0.0/16")
    sub_a = r.subnet(vpc_a, "ledger-private-a", "10.40.10.0/24", "a")
    sg_a = r.sg(vpc_a, "ledger-app", "ledger tasks")
    for svc in ("ecr.api", "ecr.dkr", "logs"):
        r.interface_endpoint(vpc_a, svc, [sub_a], sg_a, f"ledger-{svc}")
    # The account's own registry: a fleet seeds this scenario into a member account too.
    registry = f"{r.account}.dkr.ecr.us-east-1.amazonaws.com"
    td_a = r.task_definition("ledger-writer", f"{registry}/ledger-writer:4.0.2")
    r.service("ledger", "ledger-writer", td_a, subnets=[sub_a], sg=sg_a)

    # VPC B (clean): the same, plus the S3 gateway endpoint on the subnet's route table
    # (here an explicit association).
    vpc_b = r.vpc("settlement", "10.41.0.0/16")
    sub_b = r.subnet(vpc_b, "settlement-private-a", "10.41.10.0/24", "a")
    rt_b = r.route_table(vpc_b, "settlement-private", [sub_b])
    sg_b = r.sg(vpc_b, "settlement-app", "settlement tasks")
    for svc in ("ecr.api", "ecr.dkr", "logs"):
        r.interface_endpoint(vpc_b, svc, [sub_b], sg_b, f"settlement-{svc}")
    r.s3_gateway_endpoint(vpc_b, [rt_b], "settlement-s3")
    td_b = r.task_definition("settlement-api", f"{registry}/settlement-api:4.0.2")
    r.service("ledger", "settlement-api", td_b, subnets=[sub_b], sg=sg_b)

    # VPC C (clean, and a trap): its MAIN route table routes 0.0.0.0/0 to an IGW. That must
    # not make VPC A's main-table subnets public (main tables are per VPC).
    vpc_c = r.vpc("edge", "10.42.0.0/16")
    sub_c = r.subnet(vpc_c, "edge-public-a", "10.42.0.0/24", "a")
    igw_c = r.igw(vpc_c, "edge-igw")
    r.default_route(r.main_route_table(vpc_c), igw=igw_c)
    sg_c = r.sg(vpc_c, "edge-app", "edge tasks")
    td_c = r.task_definition("edge-proxy", f"{registry}/edge-proxy:1.9.0")
    r.service("ledger", "edge-proxy", td_c, subnets=[sub_c], sg=sg_c)

    # VPC D (VPC003): a private subnet with neither NAT nor ECR endpoints (bad) next to a
    # private subnet whose default route goes to a NAT gateway in a public subnet (clean).
    vpc_d = r.vpc("reports", "10.43.0.0/16")
    pub_d = r.subnet(vpc_d, "reports-public-a", "10.43.0.0/24", "a")
    igw_d = r.igw(vpc_d, "reports-igw")
    r.default_route(r.route_table(vpc_d, "reports-public", [pub_d]), igw=igw_d)
    nat_d = r.nat(pub_d, "reports-nat-a")
    sub_iso = r.subnet(vpc_d, "reports-isolated-a", "10.43.20.0/24", "a")
    r.route_table(vpc_d, "reports-isolated", [sub_iso])  # local route only
    sub_nat = r.subnet(vpc_d, "reports-private-b", "10.43.10.0/24", "b")
    r.default_route(r.route_table(vpc_d, "reports-private", [sub_nat]), nat=nat_d)
    sg_d = r.sg(vpc_d, "reports-app", "reports tasks")
    td_d1 = r.task_definition("report-renderer", f"{registry}/report-renderer:2.3.0")
    td_d2 = r.task_definition("report-api", f"{registry}/report-api:2.3.0")
    r.service("reports", "report-renderer", td_d1, subnets=[sub_iso], sg=sg_d)
    r.service("reports", "report-api", td_d2, subnets=[sub_nat], sg=sg_d)

    return Seeded(
        name="vpc002", regions=["us-east-1"],
        summary="Image-pull paths from private subnets: ECR endpoints with and without the S3 "
                "gateway endpoint, a public VPC whose main table routes to an IGW, and a private "
                "subnet with no path at all next to one behind a NAT gateway.",
        bad=[
            f"VPC ledger {vpc_a}: service ledger/ledger-writer in {sub_a} (main route table, local only) with "
            "ecr.api + ecr.dkr (+logs) interface endpoints and NO S3 gateway endpoint -> VPC002",
            f"VPC reports {vpc_d}: service reports/report-renderer in {sub_iso} (route table reports-isolated, local only), "
            "no NAT, no ECR endpoints -> VPC003",
        ],
        clean=[
            f"VPC settlement {vpc_b}: service ledger/settlement-api in {sub_b}, ECR endpoints + S3 gateway on its route table",
            f"VPC edge {vpc_c}: service ledger/edge-proxy in {sub_c}, public via the MAIN table's 0.0.0.0/0 -> {igw_c}",
            f"VPC reports: service reports/report-api in {sub_nat}, 0.0.0.0/0 -> {nat_d} (in public subnet {pub_d})",
        ],
        must=[
            Expect("VPC002", ("ledger-writer", sub_a), "high", why="ECR endpoints, no S3 gateway, main table private"),
            Expect("VPC003", ("report-renderer", sub_iso), why="no NAT, no ECR endpoints"),
        ],
        must_not=[
            Expect("VPC003", ("ledger-writer", sub_a), why="has the ECR endpoints (VPC002's case, not VPC003's)"),
            Expect("VPC002", ("settlement-api", sub_b), why="S3 gateway endpoint present"),
            Expect("VPC003", ("settlement-api", sub_b), why="ECR endpoints present"),
            Expect("VPC002", ("edge-proxy", sub_c), why="public subnet (main table -> IGW)"),
            Expect("VPC003", ("edge-proxy", sub_c), why="public subnet (main table -> IGW)"),
            Expect("VPC002", ("report-api", sub_nat), why="NAT default route"),
            Expect("VPC003", ("report-api", sub_nat), why="NAT default route"),
            Expect("VPC002", ("report-renderer", sub_iso), why="no ECR endpoints: VPC003's case"),
        ],
    )


def seed_ecs001(session) -> Seeded:
    """ECS001 deployment-circuit-breaker-off. moto drops deploymentConfiguration, so the
    breaker settings live in patches."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("orders", "10.50")
    cases = [
        # (service, controller, deploymentConfiguration for the mock)
        ("order-router", "ECS", breaker(False, False)),
        ("order-events", "ECS", breaker(True, False)),
        ("order-api", "ECS", breaker(True, True)),
        ("order-web", "CODE_DEPLOY", AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_OTHER),
    ]
    patches = []
    for name, controller, cfg in cases:
        td = r.task_definition(name, f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{name}:7.4.0")
        tg = None
        if controller == "CODE_DEPLOY":
            tg = r.tg(f"{name}-blue", net["vpc"], "ip", 8080)
            r.tg(f"{name}-green", net["vpc"], "ip", 8080)
            r.listener(r.alb("orders-web", net["public"], net["sg_lb"]), tg)
        r.service("orders", name, td, subnets=net["private"], sg=net["sg_app"], tg=tg, controller=controller)
        patches.append(Patch("ecs_deployment_configuration", "us-east-1", "orders", name, cfg,
                             "moto 5.2.5 ignores deploymentConfiguration in CreateService and never "
                             "returns it; value as AWS returns it for this service's settings"))
    return Seeded(
        name="ecs001", regions=["us-east-1"],
        summary="Four services in cluster orders: no circuit breaker, breaker without rollback, "
                "breaker with rollback, and a CODE_DEPLOY-controlled service.",
        bad=[
            "orders/order-router: ECS controller, circuit breaker off -> ECS001 high",
            "orders/order-events: breaker enabled, rollback=false -> ECS001 medium (needs patch)",
        ],
        clean=[
            "orders/order-api: breaker enabled, rollback=true (needs patch)",
            "orders/order-web: CODE_DEPLOY controller, check not applicable",
        ],
        must=[
            Expect("ECS001", ("order-router",), "high", why="no breaker (moto's missing field reads as off, too)"),
            Expect("ECS001", ("order-events",), "medium", needs_patch=True, why="breaker without rollback"),
        ],
        must_not=[
            Expect("ECS001", ("order-api",), needs_patch=True, why="breaker with rollback"),
            Expect("ECS001", ("order-web",), why="CODE_DEPLOY controller"),
        ],
        patches=patches,
    )


def seed_ecs_hardening(session) -> Seeded:
    """ECS017 writable-root-filesystem, ECS018 container-runs-as-root, ECS019
    host-namespace-shared: the task-definition hardening controls."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("platform", "10.85")
    priv, sg = net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    # A node agent on the EC2 launch type: host network, host PID and IPC, root, writable.
    agent = r.task_definition("node-agent", f"{ecr}/node-agent:2.3.1", network_mode="host",
                              fargate=False, host_port=8080, pid_mode="host", ipc_mode="host")
    r.service("platform", "node-agent", agent, launch_type="EC2")
    # A Fargate web app that names root and leaves its filesystem writable.
    legacy = r.task_definition("legacy-web", f"{ecr}/legacy-web:5.0.2", readonly_root=False, user="root")
    r.service("platform", "legacy-web", legacy, subnets=priv, sg=sg)
    # The clean twin: read-only root, a numeric non-root user, task-scoped PID namespace.
    hardened = r.task_definition("hardened-api", f"{ecr}/hardened-api:1.9.0", readonly_root=True,
                                 user="10001:10001", pid_mode="task")
    r.service("platform", "hardened-api", hardened, subnets=priv, sg=sg)
    return Seeded(
        name="ecs-hardening", regions=["us-east-1"],
        summary="Three services in cluster platform: a host-mode node agent running as root, a "
                "Fargate app running as root with a writable filesystem, and a hardened twin.",
        bad=[
            "platform/node-agent: networkMode host, pidMode host, ipcMode host, no user, writable root "
            "-> ECS017 medium, ECS018 high, ECS019 high",
            "platform/legacy-web: user root, readonlyRootFilesystem false -> ECS017 medium, ECS018 medium",
        ],
        clean=[
            "platform/hardened-api: readonlyRootFilesystem true, user 10001:10001, pidMode task, awsvpc",
            "platform/legacy-web: awsvpc, no host namespace (ECS019 silent)",
        ],
        must=[
            Expect("ECS017", ("node-agent",), "medium", why="no readonlyRootFilesystem"),
            Expect("ECS017", ("legacy-web",), "medium", why="readonlyRootFilesystem false"),
            Expect("ECS018", ("node-agent",), "high", why="no user, in the host network namespace"),
            Expect("ECS018", ("legacy-web",), "medium", why="user root"),
            Expect("ECS019", ("node-agent",), "high", why="pidMode host (with host network and IPC)"),
        ],
        must_not=[
            Expect("ECS017", ("hardened-api",), why="read-only root filesystem"),
            Expect("ECS018", ("hardened-api",), why="non-root numeric user"),
            Expect("ECS019", ("hardened-api",), why="pidMode task is scoped to the task"),
            Expect("ECS019", ("legacy-web",), why="awsvpc, no host namespace"),
        ],
    )


def seed_ecs_platform(session) -> Seeded:
    """ECS020 fargate-platform-outdated, ECS021 efs-without-transit-encryption, ECS022
    log-delivery-blocking, ECS023 capacity-provider-unprotected."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("runtime", "10.86")
    priv, sg = net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    # The region's default log delivery is back to blocking: containers that set no mode block.
    r.ecs.put_account_setting(name="defaultLogDriverMode", value="blocking")
    pinned = r.task_definition("billing", f"{ecr}/billing:4.2.0", log_mode="non-blocking")
    r.service("runtime", "billing", pinned, subnets=priv, sg=sg, platform_version="1.3.0")
    files = r.task_definition("uploads", f"{ecr}/uploads:2.0.1", log_mode="non-blocking",
                              efs=(("media", "fs-0a1b2c3d", "DISABLED"), ("cache", "fs-0a1b2c3d", None)))
    r.service("runtime", "uploads", files, subnets=priv, sg=sg)
    chatty = r.task_definition("events", f"{ecr}/events:7.1.0", log_mode="blocking")
    r.service("runtime", "events", chatty, subnets=priv, sg=sg)
    quiet = r.task_definition("reports", f"{ecr}/reports:1.0.3")
    r.service("runtime", "reports", quiet, subnets=priv, sg=sg, platform_version="LATEST")
    # The clean twin: newest platform, encrypted EFS, non-blocking logs.
    clean = r.task_definition("catalog", f"{ecr}/catalog:3.3.0", log_mode="non-blocking",
                              efs=(("assets", "fs-0e1f2a3b", "ENABLED"),))
    r.service("runtime", "catalog", clean, subnets=priv, sg=sg, platform_version="1.4.0")
    r.capacity_provider("runtime", "batch-workers", protection="DISABLED", scaling="ENABLED")
    r.capacity_provider("runtime", "web-workers", protection="ENABLED", scaling="ENABLED")
    return Seeded(
        name="ecs-platform", regions=["us-east-1"],
        summary="Cluster runtime, with the region's defaultLogDriverMode set to blocking: a service "
                "pinned to platform 1.3.0, one mounting EFS in the clear, one logging in blocking mode "
                "explicitly and one by the account default, a clean twin, and two EC2 capacity providers "
                "with and without managed termination protection.",
        bad=[
            "runtime/billing: platformVersion 1.3.0 -> ECS020 medium",
            "runtime/uploads: EFS volumes media (transitEncryption DISABLED) and cache (unset) -> ECS021 medium",
            "runtime/events: awslogs mode blocking -> ECS022 medium",
            "runtime/reports: awslogs without a mode, account defaultLogDriverMode blocking -> ECS022 medium",
            "capacity provider batch-workers: managedTerminationProtection DISABLED -> ECS023 medium",
        ],
        clean=[
            "runtime/catalog: platformVersion 1.4.0, EFS with transit encryption, mode non-blocking",
            "runtime/reports: platformVersion LATEST",
            "capacity provider web-workers: managed termination protection on",
        ],
        must=[
            Expect("ECS020", ("billing",), "medium", why="pinned to 1.3.0"),
            Expect("ECS021", ("uploads",), "medium", why="EFS without transit encryption"),
            Expect("ECS022", ("events",), "medium", why="mode blocking"),
            Expect("ECS022", ("reports",), "medium", why="no mode; the account default is blocking"),
            Expect("ECS023", ("batch-workers",), "medium", why="termination protection off"),
        ],
        must_not=[
            Expect("ECS020", ("catalog",), why="1.4.0 is the newest Linux version"),
            Expect("ECS020", ("reports",), why="LATEST"),
            Expect("ECS021", ("catalog",), why="transit encryption on"),
            Expect("ECS022", ("catalog",), why="non-blocking"),
            Expect("ECS022", ("billing",), why="non-blocking"),
            Expect("ECS023", ("web-workers",), why="termination protection on"),
        ],
    )


def seed_eks001(session) -> Seeded:
    """EKS001 idle-eks-cluster."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("k8s", "10.60")
    sub = net["private"]
    for name in ("sandbox-eks", "web-eks", "jobs-eks", "legacy-eks"):
        r.eks_cluster(name, sub, net["sg_app"])
    r.nodegroup("web-eks", "web-general", sub, "m5.large", 2, 6, 3)
    r.fargate_profile("jobs-eks", "jobs-default", sub, ["jobs", "kube-system"])
    node = r.self_managed_node("legacy-eks", sub[0], "legacy-eks-node")
    return Seeded(
        name="eks001", regions=["us-east-1"],
        summary="Four ACTIVE clusters: one with no compute at all, and one each with a managed "
                "nodegroup, only a Fargate profile, and only a self-managed EC2 node.",
        bad=["EKS cluster sandbox-eks: ACTIVE, no nodegroups, no Fargate profiles, no tagged instances -> EKS001 (~$73/month)"],
        clean=[
            "EKS cluster web-eks: managed nodegroup web-general",
            "EKS cluster jobs-eks: Fargate profile jobs-default only",
            f"EKS cluster legacy-eks: only self-managed instance {node} tagged kubernetes.io/cluster/legacy-eks=owned",
        ],
        must=[Expect("EKS001", ("sandbox-eks",), "medium", why="no compute")],
        must_not=[
            Expect("EKS001", ("web-eks",), why="managed nodegroup"),
            Expect("EKS001", ("jobs-eks",), why="Fargate profile"),
            Expect("EKS001", ("legacy-eks",), why="self-managed node tagged for the cluster"),
        ],
    )


def seed_eks002(session) -> Seeded:
    """EKS002 control-plane-logging-incomplete."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("ctl", "10.61")
    sub, sg = net["private"], net["sg_app"]
    r.eks_cluster("payments-eks", sub, sg, log_types=("api",))
    r.eks_cluster("scratch-eks", sub, sg, logging=False)
    r.eks_cluster("orders-eks", sub, sg)
    r.eks_cluster("search-eks", sub, sg,
                  log_types=("api", "audit", "authenticator", "controllerManager", "scheduler"))
    return Seeded(
        name="eks002", regions=["us-east-1"],
        summary="Four ACTIVE clusters: control-plane logging partly on, off, exactly the three "
                "required types, and all five types.",
        bad=[
            "EKS cluster payments-eks: only `api` logs enabled (audit, authenticator missing)",
            "EKS cluster scratch-eks: control-plane logging off",
        ],
        clean=[
            "EKS cluster orders-eks: api, audit, authenticator enabled",
            "EKS cluster search-eks: all five log types enabled",
        ],
        must=[
            Expect("EKS002", ("payments-eks",), "medium", why="audit and authenticator off"),
            Expect("EKS002", ("scratch-eks",), "medium", why="logging off"),
        ],
        must_not=[
            Expect("EKS002", ("orders-eks",), why="the three required types are on"),
            Expect("EKS002", ("search-eks",), why="all types on"),
        ],
    )


def seed_eks004(session) -> Seeded:
    """EKS004 public-endpoint-open."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("api", "10.62")
    sub, sg = net["private"], net["sg_app"]
    r.eks_cluster("storefront-eks", sub, sg, public_cidrs=("0.0.0.0/0",))
    r.eks_cluster("analytics-eks", sub, sg, public_cidrs=None)
    r.eks_cluster("backoffice-eks", sub, sg, public_cidrs=("203.0.113.0/24",))
    r.eks_cluster("ledger-eks", sub, sg, public=False, public_cidrs=None)
    return Seeded(
        name="eks004", regions=["us-east-1"],
        summary="Four ACTIVE clusters: public endpoint open to 0.0.0.0/0 explicitly, by "
                "default (no CIDR list), restricted to one network (low: still public, as "
                "Security Hub's EKS.1 says), and private only.",
        bad=[
            "EKS cluster storefront-eks: public endpoint, publicAccessCidrs 0.0.0.0/0",
            "EKS cluster analytics-eks: public endpoint, no publicAccessCidrs (AWS default 0.0.0.0/0)",
            "EKS cluster backoffice-eks: public endpoint restricted to 203.0.113.0/24 (low)",
        ],
        clean=[
            "EKS cluster ledger-eks: public endpoint off",
        ],
        must=[
            Expect("EKS004", ("storefront-eks",), "high", why="open to 0.0.0.0/0"),
            Expect("EKS004", ("analytics-eks",), "high", why="no CIDR list: AWS's default is everyone"),
            Expect("EKS004", ("backoffice-eks",), "low", why="restricted to one network, still public"),
        ],
        must_not=[
            Expect("EKS004", ("ledger-eks",), why="private endpoint only"),
        ],
    )


def seed_eks_access(session) -> Seeded:
    """EKS011 deletion-protection-off, EKS012 config-map-authentication and EKS013
    pod-role-overprivileged. moto returns neither deletionProtection nor accessConfig: every
    cluster gets AWS's defaults for an API-created cluster (no deletion protection,
    CONFIG_MAP), and the twins their own values, by documented patches."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("access", "10.63")
    sub, sg = net["private"], net["sg_app"]
    for name in ("legacy-eks", "payments-eks", "shared-eks"):
        r.eks_cluster(name, sub, sg)
    # Pod roles (EKS013): IRSA on the clusters' issuer, and EKS Pod Identity.
    issuer = r.eks.describe_cluster(name="payments-eks")["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.split("://", 1)[1]
    provider = iam.iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )["OpenIDConnectProviderArn"]

    def irsa_trust(sa: str) -> dict:
        return {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{sa}",
                                           f"{host}:aud": "sts.amazonaws.com"}}}]}

    pod_identity_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    admin = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    iam.role("ops-deployer", irsa_trust("ops:deployer"), managed=admin, path="/eks/")
    operator = iam.role("platform-operator", pod_identity_trust, managed=admin, path="/eks/")
    r.eks.create_pod_identity_association(clusterName="payments-eks", namespace="platform",
                                          serviceAccount="operator", roleArn=operator)
    iam.role("payments-api", irsa_trust("payments:api"), path="/eks/", inline={"read-assets": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::payments-assets/*"}]}})
    iam.role("metrics-agent", pod_identity_trust, path="/eks/",
             managed=["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"])
    reason = "moto 5.2.5 does not keep deletionProtection or accessConfig; AWS returns what was set"
    return Seeded(
        name="eks-access", regions=["us-east-1"],
        summary="Three ACTIVE clusters: one as the EKS API creates it by default (no deletion "
                "protection, aws-auth ConfigMap only), one protected on access entries alone, one "
                "protected on access entries beside the ConfigMap.",
        bad=[
            "EKS cluster legacy-eks: deletionProtection false -> EKS011 low",
            "EKS cluster legacy-eks: authenticationMode CONFIG_MAP -> EKS012 medium",
            "role ops-deployer: IRSA (ops:deployer) with AdministratorAccess -> EKS013 high",
            "role platform-operator: EKS Pod Identity (payments-eks platform/operator) with AdministratorAccess -> EKS013 high",
        ],
        clean=[
            "EKS cluster payments-eks: deletionProtection true, authenticationMode API",
            "EKS cluster shared-eks: deletionProtection true, authenticationMode API_AND_CONFIG_MAP",
            "role payments-api: IRSA with one s3:GetObject",
            "role metrics-agent: EKS Pod Identity with CloudWatchAgentServerPolicy",
        ],
        must=[
            Expect("EKS011", ("legacy-eks",), "low", needs_patch=True, why="deletion protection off"),
            Expect("EKS012", ("legacy-eks",), "medium", needs_patch=True, why="ConfigMap only"),
            Expect("EKS013", ("ops-deployer",), "high", why="IRSA role with AdministratorAccess"),
            Expect("EKS013", ("platform-operator",), "high", why="Pod Identity role with AdministratorAccess"),
        ],
        must_not=[
            Expect("EKS011", ("payments-eks",), needs_patch=True, why="deletion protection on"),
            Expect("EKS011", ("shared-eks",), needs_patch=True, why="deletion protection on"),
            Expect("EKS012", ("payments-eks",), needs_patch=True, why="access entries only"),
            Expect("EKS012", ("shared-eks",), needs_patch=True, why="access entries beside the ConfigMap"),
            Expect("EKS013", ("payments-api",), why="one read action"),
            Expect("EKS013", ("metrics-agent",), why="a scoped AWS managed policy"),
        ],
        patches=[
            Patch("eks_cluster_fields", "us-east-1", "payments-eks", "", {
                "deletionProtection": True,
                "accessConfig": {"bootstrapClusterCreatorAdminPermissions": False, "authenticationMode": "API"},
            }, reason),
            Patch("eks_cluster_fields", "us-east-1", "shared-eks", "", {
                "deletionProtection": True,
                "accessConfig": {"bootstrapClusterCreatorAdminPermissions": True,
                                 "authenticationMode": "API_AND_CONFIG_MAP"},
            }, reason),
        ],
    )


def seed_eks_addons(session) -> Seeded:
    """EKS014 addon-unhealthy and EKS015 addon-version-behind. moto has no add-on API:
    tests/e2e/moto_plus.py adds one (add-ons created ACTIVE and healthy, versions from its
    catalog); the degraded add-on is a documented patch of its DescribeAddon response."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("addons", "10.64")
    sub, sg = net["private"], net["sg_app"]
    for name in ("legacy-eks", "current-eks"):
        r.eks_cluster(name, sub, sg, version="1.35")
        r.nodegroup(name, f"{name}-ng", sub, "m5.large", 1, 3, 2)
    # Left behind by the upgrade to 1.35: kube-proxy of 1.34, coredns behind the default, and
    # a vpc-cni that EKS reports degraded.
    r.addon("legacy-eks", "kube-proxy", "v1.34.1-eksbuild.2")
    r.addon("legacy-eks", "coredns", "v1.11.4-eksbuild.2")
    r.addon("legacy-eks", "vpc-cni", "v1.20.4-eksbuild.1")
    for name, version in (("kube-proxy", "v1.35.0-eksbuild.2"), ("coredns", "v1.12.4-eksbuild.1"),
                          ("vpc-cni", "v1.20.4-eksbuild.1")):
        r.addon("current-eks", name, version)
    return Seeded(
        name="eks-addons", regions=["us-east-1"],
        summary="Two ACTIVE 1.35 clusters: one whose add-ons were left behind by its upgrade "
                "(kube-proxy of 1.34, coredns behind the default, vpc-cni degraded), and a twin "
                "on the default version of each.",
        bad=[
            "legacy-eks/kube-proxy v1.34.1-eksbuild.2: not offered for Kubernetes 1.35 -> EKS015 high",
            "legacy-eks/coredns v1.11.4-eksbuild.2: behind the 1.35 default v1.12.4-eksbuild.1 -> EKS015 low",
            "legacy-eks/vpc-cni: DEGRADED, InsufficientNumberOfReplicas (patched) -> EKS014 high",
        ],
        clean=[
            "current-eks: kube-proxy v1.35.0-eksbuild.2, coredns v1.12.4-eksbuild.1, vpc-cni v1.20.4-eksbuild.1, all healthy",
        ],
        must=[
            Expect("EKS015", ("kube-proxy",), "high", why="1.34 build on a 1.35 control plane"),
            Expect("EKS015", ("coredns",), "low", why="behind the default"),
            Expect("EKS014", ("vpc-cni",), "high", needs_patch=True, why="degraded"),
        ],
        must_not=[
            Expect("EKS015", ("current-eks",), why="default versions"),
            Expect("EKS014", ("current-eks",), why="healthy"),
        ],
        patches=[
            Patch("eks_addon_fields", "us-east-1", "legacy-eks", "vpc-cni", {
                "status": "DEGRADED",
                "health": {"issues": [{"code": "InsufficientNumberOfReplicas",
                                       "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
                                       "resourceIds": ["aws-node"]}]},
            }, "what AWS reports for a vpc-cni whose aws-node pods are not all ready; moto's add-ons "
               "(tests/e2e/moto_plus.py) are always ACTIVE and healthy"),
        ],
    )


def seed_eks009(session) -> Seeded:
    """EKS009 private-endpoint-off."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    routed = r.network("nodes", "10.64")
    isolated = r.network("sealed", "10.65", nat=False)
    r.eks_cluster("web-eks", routed["private"], routed["sg_app"], private=False)
    r.nodegroup("web-eks", "web-general", routed["private"], "m5.large", 2, 6, 3)
    r.eks_cluster("batch-eks", isolated["private"], isolated["sg_app"], private=False)
    r.nodegroup("batch-eks", "batch-workers", isolated["private"], "m5.large", 1, 4, 2)
    r.eks_cluster("api-eks", isolated["private"], isolated["sg_app"])
    r.nodegroup("api-eks", "api-general", isolated["private"], "m5.large", 2, 4, 2)
    r.eks_cluster("spare-eks", routed["private"], routed["sg_app"], private=False)
    return Seeded(
        name="eks009", regions=["us-east-1"],
        summary="Four ACTIVE clusters: private endpoint off with nodes behind NAT, off with nodes "
                "in subnets without internet, on, and off with no compute.",
        bad=[
            "EKS cluster batch-eks: private endpoint off, nodegroup in subnets with no route to the "
            "internet -> EKS009 high",
            "EKS cluster web-eks: private endpoint off, nodegroup behind NAT -> EKS009 medium",
        ],
        clean=[
            "EKS cluster api-eks: private endpoint on (nodes in the same isolated subnets)",
            "EKS cluster spare-eks: private endpoint off but nothing runs in the VPC",
        ],
        must=[
            Expect("EKS009", ("batch-eks",), "high", why="nodes cannot reach the API server"),
            Expect("EKS009", ("web-eks",), "medium", why="control traffic leaves the VPC through NAT"),
        ],
        must_not=[
            Expect("EKS009", ("api-eks",), why="private endpoint on"),
            Expect("EKS009", ("spare-eks",), why="no compute in the VPC"),
        ],
    )


def seed_eks010(session) -> Seeded:
    """EKS010 spot-only-nodes."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("spot", "10.66")
    sub, sg = net["private"], net["sg_app"]
    r.eks_cluster("render-eks", sub, sg)
    r.nodegroup("render-eks", "render-spot-a", sub, "c5.xlarge", 1, 10, 4, capacity="SPOT")
    r.nodegroup("render-eks", "render-spot-b", sub, "c5a.xlarge", 1, 10, 4, capacity="SPOT")
    r.eks_cluster("shop-eks", sub, sg)
    r.nodegroup("shop-eks", "shop-spot", sub, "m5.large", 1, 10, 4, capacity="SPOT")
    r.nodegroup("shop-eks", "shop-base", sub, "m5.large", 2, 4, 2)
    r.eks_cluster("etl-eks", sub, sg)
    r.nodegroup("etl-eks", "etl-spot", sub, "r5.large", 1, 6, 2, capacity="SPOT")
    r.fargate_profile("etl-eks", "etl-system", sub, ["kube-system"])
    return Seeded(
        name="eks010", regions=["us-east-1"],
        summary="Three ACTIVE clusters: every node on Spot, Spot beside an on-demand base, and "
                "Spot beside a Fargate profile for the system pods.",
        bad=["EKS cluster render-eks: two SPOT nodegroups and nothing else -> EKS010 medium"],
        clean=[
            "EKS cluster shop-eks: a SPOT nodegroup beside an ON_DEMAND one",
            "EKS cluster etl-eks: a SPOT nodegroup beside a Fargate profile for kube-system",
        ],
        must=[Expect("EKS010", ("render-eks",), "medium", why="every node is Spot")],
        must_not=[
            Expect("EKS010", ("shop-eks",), why="on-demand base nodegroup"),
            Expect("EKS010", ("etl-eks",), why="Fargate runs the system pods"),
        ],
    )


# A lifecycle policy that expires untagged images after two weeks.
EXPIRE_UNTAGGED = {"rules": [{"rulePriority": 1, "description": "expire untagged after 14 days",
                              "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                            "countUnit": "days", "countNumber": 14},
                              "action": {"type": "expire"}}]}


def _pull_policy(sid: str, principal, condition: dict | None = None) -> dict:
    statement = {"Sid": sid, "Effect": "Allow", "Principal": principal,
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability"]}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def seed_ecr(session) -> Seeded:
    """ECR001 image-scanning-off, ECR002 repository-tags-mutable, ECR003 no-lifecycle-policy,
    ECR004 anyone-can-pull: a neglected registry beside a well-kept one."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("shop", "10.91")
    priv, sg = net["private"], net["sg_app"]
    # us-east-1: basic scanning without rules, so each repository's own scanOnPush decides.
    storefront = r.ecr_repository("storefront", scan_on_push=False, mutability="MUTABLE",
                                  policy=_pull_policy("PublicPull", "*"))
    checkout = r.ecr_repository("checkout", scan_on_push=True, lifecycle=EXPIRE_UNTAGGED,
                                policy=_pull_policy("OrgPull", "*", {"StringEquals": {"aws:PrincipalOrgID": "o-shop0example"}}))
    r.ecr_repository("tools", scan_on_push=False, mutability="MUTABLE")
    r.ecr_repository("partner-feed", scan_on_push=True, lifecycle=EXPIRE_UNTAGGED,
                     policy=_pull_policy("PartnerPull", {"AWS": "arn:aws:iam::444455556666:root"}))
    r.service("shop", "storefront", r.task_definition("storefront", f"{storefront}:3.2.0", readonly_root=True),
              subnets=priv, sg=sg)
    r.service("shop", "checkout", r.task_definition("checkout", f"{checkout}:1.8.1", readonly_root=True),
              subnets=priv, sg=sg)
    # eu-west-1: the clean twin registry. Continuous scanning of every repository (the
    # repository's own scanOnPush off no longer counts), tags immutable but `latest`.
    eu = Region(session, "eu-west-1", iam)
    # moto makes a region's default VPC on its first EC2 request: make that happen while
    # seeding, so its ids do not depend on the order of the audit's concurrent calls.
    eu.ec2.describe_vpcs()
    eu.ecr_scanning("ENHANCED", [("CONTINUOUS_SCAN", ["*"])])
    eu.ecr_repository("storefront", scan_on_push=False, mutability="IMMUTABLE_WITH_EXCLUSION",
                      exclusions=["latest"], lifecycle=EXPIRE_UNTAGGED)
    eu.ecr_repository("checkout", scan_on_push=False, lifecycle=EXPIRE_UNTAGGED)
    return Seeded(
        name="ecr", regions=["us-east-1", "eu-west-1"],
        summary="A us-east-1 registry with unscanned, mutable repositories without lifecycle policies, "
                "one open to any AWS account and pulled by service shop/storefront, beside a "
                "well-kept eu-west-1 registry.",
        bad=[
            "us-east-1 repository storefront: scanOnPush false under basic scanning without rules, MUTABLE, "
            "no lifecycle policy, policy Allow pull to Principal * without condition; service shop/storefront "
            "pulls from it -> ECR001 high, ECR002 medium, ECR003 low (one finding per registry, storefront "
            "named first), ECR004 high",
            "us-east-1 repository tools: scanOnPush false, MUTABLE, no lifecycle policy, nothing pulls from it "
            "-> named after storefront in the ECR001-ECR003 findings",
        ],
        clean=[
            "us-east-1 repository checkout: scan on push, IMMUTABLE, lifecycle policy, pull open to Principal * "
            "only with aws:PrincipalOrgID (ECR004 silent)",
            "us-east-1 repository partner-feed: pull granted to one named account (ECR004 silent)",
            "eu-west-1 registry: ENHANCED continuous scanning of `*` (repositories' own scanOnPush is off), "
            "IMMUTABLE and IMMUTABLE_WITH_EXCLUSION `latest`, lifecycle policies (ECR001-ECR003 silent)",
        ],
        must=[
            Expect("ECR001", ("storefront",), "high", why="not scanned, pulled by a running service"),
            Expect("ECR001", ("tools",), why="not scanned"),
            Expect("ECR002", ("storefront",), "medium", why="MUTABLE, pulled by a running service"),
            Expect("ECR003", ("tools",), "low", why="no lifecycle policy"),
            Expect("ECR004", ("storefront",), "high", why="Principal * may pull, no condition"),
        ],
        must_not=[
            Expect("ECR004", ("checkout",), why="Principal * only within the organization"),
            Expect("ECR004", ("partner-feed",), why="one named account"),
            Expect("ECR001", ("eu-west-1",), why="continuous scanning of every repository"),
            Expect("ECR002", ("eu-west-1",), why="immutable tags (one named exclusion)"),
            Expect("ECR003", ("eu-west-1",), why="every repository has a lifecycle policy"),
        ],
    )


# 2026-03-02T00:00:00Z and every ten days after it: fixed push times for ECR006's images (moto
# stamps a push with its own clock).
PUSHED_2026_03_02 = 1772409600.0


def seed_ecr_images(session) -> Seeded:
    """ECR005 image-not-pullable, ECR006 image-expires, ECR007 image-platform-mismatch:
    services whose next task cannot pull its image, beside twins that can."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("shop", "10.93")
    priv, sg = net["private"], net["sg_app"]
    keep3 = {"rules": [{"rulePriority": 1, "description": "keep the last 3 builds",
                        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3},
                        "action": {"type": "expire"}}]}
    releases = {"rules": [
        {"rulePriority": 1, "description": "releases live 300 days",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["release-*"], "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": 300}, "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                          "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]}
    repo = {name: r.ecr_repository(name, scan_on_push=True, lifecycle=policy)
            for name, policy in (("checkout", EXPIRE_UNTAGGED), ("ledger", EXPIRE_UNTAGGED), ("orders", keep3),
                                 ("search", releases), ("edge", EXPIRE_UNTAGGED))}
    both = ("linux/amd64", "linux/arm64/v8")
    for tag in ("1.8.0", "1.8.1"):
        r.ecr_image("checkout", tag, platforms=both)
    for tag in ("2.0.0", "2.1.0"):
        r.ecr_image("ledger", tag, platforms=both)
    for n in range(1, 6):
        r.ecr_image("orders", f"v{n}", platforms=both)
    r.ecr_image("search", "release-7", platforms=both)
    r.ecr_image("search", "release-8")  # single-platform: ECR007 cannot judge it
    # Docker Hub through a pull-through cache: the repository appears on the first pull.
    r.ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl="registry-1.docker.io",
                                         upstreamRegistry="docker-hub",
                                         credentialArn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf")
    r.ecr_image("edge", "1.0", platforms=("linux/amd64",))
    r.ecr_image("edge", "2.0", platforms=both)
    account = repo["checkout"].split(".", 1)[0]

    def svc(name: str, image: str, arch: str | None = None) -> None:
        td = r.task_definition(name, image, readonly_root=True, cpu_architecture=arch)
        r.service("shop", name, td, subnets=priv, sg=sg)

    svc("checkout", f"{repo['checkout']}:1.9.0")
    svc("checkout-stable", f"{repo['checkout']}:1.8.1")
    svc("ledger", f"{repo['ledger']}:2.0.0")
    svc("ledger-next", f"{repo['ledger']}:2.1.0")
    svc("reports", f"{account}.dkr.ecr.us-east-1.amazonaws.com/reports:4.2.0")
    svc("orders", f"{repo['orders']}:v1")
    svc("orders-canary", f"{repo['orders']}:v5")
    svc("search", f"{repo['search']}:release-7")
    svc("search-next", f"{repo['search']}:release-8")
    svc("edge", f"{repo['edge']}:1.0", "ARM64")
    svc("edge-next", f"{repo['edge']}:2.0", "ARM64")
    svc("proxy", f"{account}.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27")
    day = 86400.0
    patches = [Patch("ecr_image_fields", "us-east-1", "orders", f"v{n}", {"imagePushedAt": PUSHED_2026_03_02 + n * day},
                     "moto stamps each push with its own clock: fixed push times make the order of the builds "
                     "and the lifecycle policy's verdict stable") for n in range(1, 6)]
    patches += [
        Patch("ecr_image_fields", "us-east-1", "search", "release-7", {"imagePushedAt": PUSHED_2026_03_02},
              "a fixed push time, so the 300-day rule falls due on a fixed date (2026-12-27)"),
        Patch("ecr_image_fields", "us-east-1", "ledger", "2.0.0",
              {"imageStatus": "ARCHIVED", "lastArchivedAt": PUSHED_2026_03_02 + 200 * day},
              "moto has no archive storage class: AWS lists an archived image with imageStatus ARCHIVED and "
              "lastArchivedAt when DescribeImages filters on imageStatus ANY"),
    ]
    return Seeded(
        name="ecr-images", regions=["us-east-1"], publish_images=False,
        summary="Services of cluster shop whose next task cannot pull its image (a tag never pushed, an archived "
                "image, a repository that does not exist, a release the lifecycle policy is about to delete, an "
                "index without the arm64 build an ARM64 task needs), each beside a twin that pulls fine.",
        bad=[
            "service checkout pulls checkout:1.9.0, never pushed -> ECR005 high",
            "service ledger pulls ledger:2.0.0, archived (patched: moto has no archive tier) -> ECR005 high",
            "service reports pulls reports:4.2.0 from a repository that does not exist -> ECR005 high",
            "service orders runs orders:v1; the repository keeps the last 3 builds and v1 is the 5th newest "
            "-> ECR006 high, due at the next lifecycle evaluation",
            "service search runs search:release-7, pushed 2026-03-02 (patched); releases live 300 days -> "
            "ECR006 medium, due 2026-12-27 (within 30 days of the recording)",
            "service edge (ARM64) pulls edge:1.0, an index of linux/amd64 only -> ECR007 high",
        ],
        clean=[
            "services checkout-stable and ledger-next pull images that exist and are active (ECR005 silent)",
            "service orders-canary runs orders:v5, the newest build (ECR006 silent)",
            "service edge-next (ARM64) pulls edge:2.0, an index of linux/amd64 and linux/arm64 (ECR007 silent)",
            "service proxy pulls docker-hub/library/nginx:1.27 through the Docker Hub pull-through cache rule: its "
            "repository does not exist until the first pull, which fetches it upstream (ECR005 silent: not "
            "evaluated)",
            "service search-next pulls search:release-8, a single-platform image pushed at recording time: its "
            "expiry is 300 days off (ECR006 silent beyond 30 days), and ECR007 says it was not evaluated",
        ],
        must=[
            Expect("ECR005", ("checkout",), "high", why="tag never pushed"),
            Expect("ECR005", ("ledger",), "high", needs_patch=True, why="archived"),
            Expect("ECR005", ("reports",), "high", why="no such repository"),
            Expect("ECR006", ("orders",), "high", needs_patch=True, why="outside the last 3 builds"),
            Expect("ECR006", ("search",), "medium", needs_patch=True, why="300 days after its push"),
            Expect("ECR007", ("edge",), "high", why="no linux/arm64 build"),
        ],
        must_not=[
            Expect("ECR005", ("checkout-stable",), why="exists"),
            Expect("ECR005", ("ledger-next",), why="exists, active"),
            Expect("ECR005", ("proxy",), why="fetched through the pull-through cache on the first pull"),
            Expect("ECR006", ("orders-canary",), why="the newest build"),
            Expect("ECR006", ("search-next",), why="due in 300 days, beyond the 30-day horizon"),
            Expect("ECR007", ("edge-next",), why="serves linux/arm64"),
        ],
        patches=patches,
    )


MEMBER_ROLE = "awsaudit-member"
REGISTRY_ACCOUNT = "210000007919"
WORKLOAD_ACCOUNT = "210000015838"


def seed_ecr_cross_account(session) -> Seeded:
    """ECR008 cross-account-pull-denied, in a fleet of two accounts: a shared registry
    account and a workload account whose services pull from it."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    registry_session = session.in_account(REGISTRY_ACCOUNT)
    workload_session = session.in_account(WORKLOAD_ACCOUNT)
    registry_iam, workload_iam = Iam(registry_session), Iam(workload_session)
    for iam in (registry_iam, workload_iam):
        iam.role(MEMBER_ROLE, trust)
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    reg = Region(registry_session, "us-east-1", registry_iam)
    reg.ec2.describe_vpcs()  # moto makes the default VPC on the first EC2 call: now, not mid-audit
    repos = {
        # Grants the workload account: its roles pull with their own IAM policies.
        "shared-api": _pull_policy("WorkloadsPull", {"AWS": f"arn:aws:iam::{WORKLOAD_ACCOUNT}:root"}),
        # No repository policy: no other account may pull.
        "shared-worker": None,
        # Written for a partner account, not the workload account.
        "partner-tools": _pull_policy("PartnerPull", {"AWS": "arn:aws:iam::444455556666:root"}),
    }
    uri = {}
    for name, policy in repos.items():
        uri[name] = reg.ecr_repository(name, scan_on_push=True, lifecycle=EXPIRE_UNTAGGED, policy=policy)
        reg.ecr_image(name, "2.0.0", platforms=("linux/amd64", "linux/arm64/v8"))
    w = Region(workload_session, "us-east-1", workload_iam)
    net = w.network("apps", "10.94")
    priv, sg = net["private"], net["sg_app"]
    # Pulls only from its own account's repositories: written before the registry moved.
    local_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": pull,
         "Resource": f"arn:aws:ecr:us-east-1:{WORKLOAD_ACCOUNT}:repository/*"}]}
    narrow = workload_iam.role("reports-exec", ECS_TASKS_TRUST, inline={"pull-local": local_only})
    for name, image, role in (("api", uri["shared-api"], None), ("worker", uri["shared-worker"], None),
                              ("tools", uri["partner-tools"], None), ("reports", uri["shared-api"], narrow)):
        td = w.task_definition(name, f"{image}:2.0.0", readonly_root=True, execution_role=role)
        w.service("apps", name, td, subnets=priv, sg=sg)
    return Seeded(
        name="ecr-cross-account", regions=["us-east-1"], publish_images=False,
        accounts=[REGISTRY_ACCOUNT, WORKLOAD_ACCOUNT],
        summary=f"A fleet of two accounts: registry account {REGISTRY_ACCOUNT} holds the images that services "
                f"of workload account {WORKLOAD_ACCOUNT} pull, with repository policies that let some of them.",
        bad=[
            "service worker pulls shared-worker, which has no repository policy -> ECR008 high",
            "service tools pulls partner-tools, whose policy grants another account only -> ECR008 high",
            "service reports pulls shared-api (granted to its account) with an execution role whose own policy "
            "allows pulls from its account's repositories only -> ECR008 high",
        ],
        clean=[
            "service api pulls shared-api, granted to its account, with the AWS managed execution role policy "
            "(ECR008 silent)",
        ],
        must=[
            Expect("ECR008", ("worker",), "high", why="no repository policy"),
            Expect("ECR008", ("tools",), "high", why="policy grants another account"),
            Expect("ECR008", ("reports",), "high", why="the role's own policy does not allow it"),
        ],
        must_not=[Expect("ECR008", ("api",), why="both sides allow it")],
    )


def seed_iam001(session) -> Seeded:
    """IAM001 trust-anyone."""
    iam = Iam(session)
    # A region is needed for the regional calls the audit makes; it holds nothing here.
    Region(session, "us-east-1", iam)
    assume = "sts:AssumeRole"
    iam.role("report-export", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": assume}]})
    iam.role("legacy-deployer", {"Version": "2012-10-17", "Statement": [
        {"Sid": "AnyAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": [assume, "sts:TagSession"]}]})
    iam.role("vendor-audit", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": assume,
         "Condition": {"StringEquals": {"sts:ExternalId": "vendor-7f3c2a"}}}]})
    iam.role("ci-deployer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": assume}]})
    iam.ecs_execution_role()
    return Seeded(
        name="iam001", regions=["us-east-1"],
        summary="Roles trusting everyone, with and without a condition, next to roles trusting "
                "one account and one AWS service.",
        bad=[
            "role report-export: Principal \"*\" may sts:AssumeRole, no condition",
            "role legacy-deployer: Principal {\"AWS\": \"*\"} may sts:AssumeRole, no condition",
        ],
        clean=[
            "role vendor-audit: Principal {\"AWS\": \"*\"} but only with sts:ExternalId",
            "role ci-deployer: trusts account 111122223333 only",
            "role ecsTaskExecutionRole: trusts ecs-tasks.amazonaws.com",
        ],
        must=[
            Expect("IAM001", ("report-export",), "critical", why="Principal * without conditions"),
            Expect("IAM001", ("legacy-deployer",), "critical", why="AWS * without conditions"),
        ],
        must_not=[
            Expect("IAM001", ("vendor-audit",), why="ExternalId condition"),
            Expect("IAM001", ("ci-deployer",), why="one named account"),
            Expect("IAM001", ("ecsTaskExecutionRole",), why="AWS service principal"),
        ],
    )


def seed_eks003(session) -> Seeded:
    """EKS003 secrets-without-customer-kms-key."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("sec", "10.63")
    sub, sg = net["private"], net["sg_app"]
    r.eks_cluster("marketing-eks", sub, sg)
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5b1c7d2e-8f3a-4c6b-9d0e-1a2b3c4d5e6f"
    r.eks.create_cluster(
        name="vault-eks", version="1.35", roleArn=iam.eks_cluster_role(),
        clientRequestToken=_token("us-east-1", "vault-eks"),
        resourcesVpcConfig={"subnetIds": sub, "securityGroupIds": [sg], "endpointPublicAccess": False,
                            "endpointPrivateAccess": True},
        logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key}}],
    )
    return Seeded(
        name="eks003", regions=["us-east-1"],
        summary="A cluster relying on EKS's default encryption next to one whose secrets are "
                "envelope-encrypted with a customer-managed KMS key.",
        bad=["EKS cluster marketing-eks: no encryptionConfig (AWS-owned default key only)"],
        clean=["EKS cluster vault-eks: secrets envelope-encrypted with a customer KMS key"],
        must=[Expect("EKS003", ("marketing-eks",), "low", why="no customer KMS key")],
        must_not=[Expect("EKS003", ("vault-eks",), why="customer KMS key for secrets")],
    )


def seed_eks008(session) -> Seeded:
    """EKS008 nodegroup-version-skew."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("skew", "10.64")
    sub, sg = net["private"], net["sg_app"]
    r.eks_cluster("platform-eks", sub, sg, version="1.35")
    r.nodegroup("platform-eks", "batch-legacy", sub, "m5.large", 1, 3, 1, version="1.33")
    r.nodegroup("platform-eks", "web-lagging", sub, "m5.large", 1, 3, 1, version="1.34")
    r.nodegroup("platform-eks", "core-current", sub, "m5.large", 1, 3, 1)
    return Seeded(
        name="eks008", regions=["us-east-1"],
        summary="A 1.35 control plane with nodegroups two minors behind, one behind, and current.",
        bad=["nodegroup platform-eks/batch-legacy: Kubernetes 1.33 under a 1.35 control plane"],
        clean=[
            "nodegroup platform-eks/web-lagging: 1.34, one minor behind (allowed)",
            "nodegroup platform-eks/core-current: 1.35",
        ],
        must=[Expect("EKS008", ("batch-legacy",), "medium", why="two minors behind")],
        must_not=[
            Expect("EKS008", ("web-lagging",), why="one minor behind"),
            Expect("EKS008", ("core-current",), why="same version"),
        ],
    )


def seed_ecs_tasks(session) -> Seeded:
    """ECS004 mutable-image-tag, ECS006 public-ip-assigned, ECS008 privileged-container."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("tasks", "10.65")
    priv, pub, sg = net["private"], net["public"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    td = r.task_definition("promo-banner", "nginx:latest")
    r.service("tasks", "promo-banner", td, subnets=priv, sg=sg)
    td = r.task_definition("promo-api", f"{ecr}/promo-api:2.3.1")
    r.service("tasks", "promo-api", td, subnets=priv, sg=sg)
    td = r.task_definition("edge-gateway", f"{ecr}/edge-gateway:5.0.2")
    r.service("tasks", "edge-gateway", td, subnets=pub, sg=sg, public_ip=True)
    td = r.task_definition("node-monitor", f"{ecr}/node-monitor:0.9.0", network_mode="bridge",
                           fargate=False, privileged=True)
    r.service("tasks", "node-monitor", td, launch_type="EC2")
    td = r.task_definition("packet-capture", f"{ecr}/packet-capture:1.1.0", network_mode="bridge",
                           fargate=False, add_capabilities=["NET_ADMIN", "NET_RAW"])
    r.service("tasks", "packet-capture", td, launch_type="EC2")
    td = r.task_definition("web-frontend", f"{ecr}/web-frontend:7.2.0", add_capabilities=["NET_BIND_SERVICE"])
    r.service("tasks", "web-frontend", td, subnets=priv, sg=sg)
    return Seeded(
        name="ecs-tasks", regions=["us-east-1"],
        summary="ECS services whose task definitions or network configuration are unsafe "
                "(moving image tag, public task IPs, privileged or host-level capabilities), each "
                "beside a service that does it right.",
        bad=[
            "service tasks/promo-banner: image nginx:latest (ECS004)",
            "service tasks/edge-gateway: assignPublicIp ENABLED (ECS006)",
            "service tasks/node-monitor: privileged container (ECS008)",
            "service tasks/packet-capture: NET_ADMIN added (ECS008)",
        ],
        clean=[
            "service tasks/promo-api: pinned release tag, no public IP",
            "service tasks/web-frontend: only NET_BIND_SERVICE added",
        ],
        must=[
            Expect("ECS004", ("promo-banner",), "medium", why="nginx:latest"),
            Expect("ECS006", ("edge-gateway",), "medium", why="assignPublicIp ENABLED"),
            Expect("ECS008", ("node-monitor",), "high", why="privileged"),
            Expect("ECS008", ("packet-capture",), "high", why="NET_ADMIN"),
        ],
        must_not=[
            Expect("ECS004", ("promo-api",), why="release tag"),
            Expect("ECS006", ("promo-api",), why="assignPublicIp DISABLED"),
            Expect("ECS008", ("web-frontend",), why="only a harmless capability"),
        ],
    )


def seed_elb_catalog(session) -> Seeded:
    """ELB002 slow-deregistration, ELB003 health-check-port-mismatch, ELB004 no-healthy-targets."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("edge", "10.71")
    vpc, priv, sg = net["vpc"], net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    alb = r.alb("shop-alb", priv, net["sg_lb"], internal=True)
    # web: default 300 s delay (ELB002); healthy target, traffic-port health check.
    web_tg = r.tg("web-tg", vpc, "ip", 8080)
    r.listener(alb, web_tg, port=80)
    r.register_ip(web_tg, "10.71.10.10", 8080)
    r.service("edge", "web", r.task_definition("web", f"{ecr}/web:3.0.0"), subnets=priv, sg=sg, tg=web_tg)
    # api: 30 s delay, health check on the container port itself: the clean twin of all three.
    api_tg = r.tg("api-tg", vpc, "ip", 8080, health_port="8080", deregistration_delay=30)
    r.listener(alb, api_tg, port=8080)
    r.register_ip(api_tg, "10.71.10.11", 8080)
    r.service("edge", "api", r.task_definition("api", f"{ecr}/api:2.4.0"), subnets=priv, sg=sg, tg=api_tg)
    # orders: health checks port 8081 while the container listens on 3000 (ELB003); nothing
    # registered behind its listener (ELB004).
    orders_tg = r.tg("orders-tg", vpc, "ip", 3000, health_port="8081", deregistration_delay=30)
    r.listener(alb, orders_tg, port=81)
    r.service("edge", "orders", r.task_definition("orders", f"{ecr}/orders:7.1.0", port=3000),
              subnets=priv, sg=sg, tg=orders_tg, container_port=3000)
    # billing: CodeDeploy blue/green drains on its own schedule: no ELB002.
    billing_tg = r.tg("billing-tg", vpc, "ip", 8080)
    r.listener(alb, billing_tg, port=82)
    r.register_ip(billing_tg, "10.71.10.12", 8080)
    r.service("edge", "billing", r.task_definition("billing", f"{ecr}/billing:1.9.0"), subnets=priv, sg=sg,
              tg=billing_tg, controller="CODE_DEPLOY")
    # pay: weighted blue/green listener, green idle at weight 0: not an outage.
    blue = r.tg("pay-blue", vpc, "ip", 8080, deregistration_delay=30)
    green = r.tg("pay-green", vpc, "ip", 8080, deregistration_delay=30)
    r.weighted_listener(alb, 83, [(blue, 100), (green, 0)])
    r.register_ip(blue, "10.71.10.13", 8080)
    # search: reached only through a path rule of the :80 listener, nothing registered
    # (ELB004 through a rule); reports: a weighted rule whose empty group is parked at weight 0.
    search_tg = r.tg("search-tg", vpc, "ip", 8080, deregistration_delay=30)
    reports_tg = r.tg("reports-tg", vpc, "ip", 8080, deregistration_delay=30)
    reports_next = r.tg("reports-next", vpc, "ip", 8080, deregistration_delay=30)
    r.register_ip(reports_tg, "10.71.10.14", 8080)
    web_listener = r.elbv2.describe_listeners(LoadBalancerArn=alb)["Listeners"]
    web_listener = next(l["ListenerArn"] for l in web_listener if l["Port"] == 80)
    r.elbv2.create_rule(ListenerArn=web_listener, Priority=10,
                        Conditions=[{"Field": "path-pattern", "Values": ["/search/*"]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": search_tg}])
    r.elbv2.create_rule(ListenerArn=web_listener, Priority=20,
                        Conditions=[{"Field": "host-header", "Values": ["reports.shop.internal"]}],
                        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                            {"TargetGroupArn": reports_tg, "Weight": 100},
                            {"TargetGroupArn": reports_next, "Weight": 0}]}}])
    # spare: empty and behind no listener.
    r.tg("spare-tg", vpc, "ip", 8080)
    names = {arn: r.tg_name(arn) for arn in (web_tg, api_tg, orders_tg, billing_tg, blue, green,
                                             search_tg, reports_tg, reports_next)}
    return Seeded(
        name="elb-catalog", regions=["us-east-1"],
        summary="An internal ALB in front of ECS services whose target groups drain slowly, health-check "
                "the wrong port, or have nothing healthy behind a listener, beside groups that are right.",
        bad=[
            "web-tg: deregistration delay left at the 300 s default, used by service edge/web (ELB002)",
            "orders-tg: health check port 8081, container port 3000 (ELB003)",
            "orders-tg: listener :81 forwards to a group with no registered target; its health "
            "checks aim at a port no container maps, so that one cause is reported (ELB003), not a "
            "second ticket (ELB004)",
            "search-tg: rule 10 (path /search/*) of listener :80 forwards to an empty group (ELB004)",
        ],
        clean=[
            "api-tg: 30 s delay, health check on the container port, a healthy target",
            "billing-tg: 300 s but CodeDeploy-controlled",
            "pay-blue/pay-green: blue healthy, green empty at weight 0",
            "reports-tg/reports-next: rule 20 (host reports.shop.internal) sends everything to a healthy "
            "reports-tg; the empty reports-next is parked at weight 0",
            "spare-tg: empty but behind no listener",
        ],
        must=[
            Expect("ELB002", (names[web_tg],), "low", why="300 s default"),
            Expect("ELB003", (names[orders_tg],), "high", why="8081 vs 3000"),
            Expect("ELB004", (names[search_tg],), "high", why="no targets behind rule 10 of :80"),
        ],
        must_not=[
            Expect("ELB002", (names[api_tg],), why="30 s"),
            Expect("ELB002", (names[billing_tg],), why="CodeDeploy"),
            Expect("ELB003", (names[api_tg],), why="health check on the container port"),
            Expect("ELB003", (names[web_tg],), why="traffic-port"),
            Expect("ELB004", (names[web_tg],), why="healthy target"),
            Expect("ELB004", (names[green],), why="weight 0 next to a healthy blue"),
            Expect("ELB004", ("spare-tg",), why="no listener"),
            Expect("ELB004", (names[orders_tg],), why="ELB003 owns the cause: one problem, one finding"),
            Expect("ELB004", (names[reports_next],), why="weight 0 in a rule"),
            Expect("ELB004", (names[reports_tg],), why="healthy target"),
        ],
    )


def seed_elb_traffic(session) -> Seeded:
    """ELB005 security-groups-block-targets and ELB006 health-check-kills-slow-start, and
    ELB004 staying quiet where either explains a target group's missing healthy targets."""
    iam = Iam(session)
    region = "us-east-1"
    r = Region(session, region, iam)
    net = r.network("traffic", "10.70")
    vpc, priv, sg_lb, sg_app = net["vpc"], net["private"], net["sg_lb"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"
    alb = r.alb("traffic-public", net["public"], sg_lb)

    # ELB005 via the ALB: the orders tasks' own group admits the load balancer on 443 only,
    # while the container listens on 8080.
    sg_orders = r.sg(vpc, "orders-app", "orders tasks")
    r.sg_ingress(sg_orders, 443, 443, group=sg_lb)
    tg_orders = r.tg("orders-api-ip", vpc, "ip", 8080)
    td = r.task_definition("orders-api", f"{ecr}/orders-api:3.2.0")
    r.service("traffic", "orders-api", td, subnets=priv, sg=sg_orders, tg=tg_orders)
    # Clean twin: billing runs in the network's app group, which admits the load balancer,
    # and has a registered (moto: healthy) target.
    tg_billing = r.tg("billing-api-ip", vpc, "ip", 8080)
    td = r.task_definition("billing-api", f"{ecr}/billing-api:1.8.0")
    r.service("traffic", "billing-api", td, subnets=priv, sg=sg_app, tg=tg_billing)
    r.register_ip(tg_billing, "10.70.10.25", 8080)

    # ELB006: reports needs 180 s to start; its group calls a target unhealthy after 10 s × 3
    # and the service has no grace period. Search declares the same start but its service
    # waits 300 s (a patch: moto drops healthCheckGracePeriodSeconds).
    tg_reports = r.tg("reports-api-ip", vpc, "ip", 8080, interval=10, unhealthy=3)
    td = r.task_definition("reports-api", f"{ecr}/reports-api:2.0.1", start_period=180)
    r.service("traffic", "reports-api", td, subnets=priv, sg=sg_app, tg=tg_reports)
    tg_search = r.tg("search-api-ip", vpc, "ip", 8080, interval=10, unhealthy=3)
    td = r.task_definition("search-api", f"{ecr}/search-api:6.4.0", start_period=180)
    r.service("traffic", "search-api", td, subnets=priv, sg=sg_app, tg=tg_search)
    r.register_ip(tg_search, "10.70.11.40", 8080)
    r.listener(alb, tg_billing, [("/orders*", tg_orders), ("/reports*", tg_reports),
                                 ("/search*", tg_search)])

    # ELB005 via an NLB without security groups: the ledger tasks admit 9000 only from a
    # partner range, not from the NLB's subnets, which send its health checks. The clean
    # twin admits the VPC's range.
    nlb = r.nlb("traffic-internal", priv)
    sg_ledger = r.sg(vpc, "ledger-app", "ledger tasks")
    r.sg_ingress(sg_ledger, 9000, 9000, cidr="203.0.113.0/24")
    sg_audit = r.sg(vpc, "audit-app", "audit tasks")
    r.sg_ingress(sg_audit, 9100, 9100, cidr="10.70.0.0/16")
    tg_ledger = r.tg("ledger-tcp", vpc, "ip", 9000, protocol="TCP")
    tg_audit = r.tg("audit-tcp", vpc, "ip", 9100, protocol="TCP")
    td = r.task_definition("ledger", f"{ecr}/ledger:5.0.0", port=9000)
    r.service("traffic", "ledger", td, subnets=priv, sg=sg_ledger, tg=tg_ledger, container_port=9000)
    td = r.task_definition("audit", f"{ecr}/audit:1.1.0", port=9100)
    r.service("traffic", "audit", td, subnets=priv, sg=sg_audit, tg=tg_audit, container_port=9100)
    r.register_ip(tg_audit, "10.70.10.60", 9100)
    r.listener(nlb, tg_ledger, port=9000, protocol="TCP")
    r.listener(nlb, tg_audit, port=9100, protocol="TCP")

    return Seeded(
        name="elb-traffic", regions=[region],
        summary="ECS services behind an ALB and an NLB whose security groups or health check "
                "timing keep every task from turning healthy, each beside a twin that works.",
        bad=[
            "traffic/orders-api: its group orders-app admits the ALB's group on 443, the tasks listen on 8080 (ELB005)",
            "traffic/ledger: behind an NLB without security groups; ledger-app admits 9000 only from 203.0.113.0/24, not from the NLB's subnets (ELB005)",
            "traffic/reports-api: start period 180 s, target group unhealthy after 10 s x 3, no grace period (ELB006)",
        ],
        clean=[
            "traffic/billing-api: traffic-app admits the ALB's group on every TCP port",
            "traffic/audit: audit-app admits the VPC's range on 9100",
            "traffic/search-api: same start period as reports-api, grace period 300 s (patched)",
            "orders-api-ip and reports-api-ip have no healthy target, but ELB004 leaves them to ELB005 and ELB006",
        ],
        must=[
            Expect("ELB005", ("orders-api-ip",), "high", why="task group admits the ALB on 443 only"),
            Expect("ELB005", ("ledger-tcp",), "high", why="NLB subnets not admitted on 9000"),
            Expect("ELB006", ("reports-api",), "high", why="30 s to unhealthy < 180 s start, no grace"),
        ],
        must_not=[
            Expect("ELB005", ("billing-api-ip", "reports-api-ip", "search-api-ip", "audit-tcp"),
                   why="the tasks admit the load balancer"),
            Expect("ELB006", ("search-api",), needs_patch=True, why="grace period 300 s covers the start"),
            Expect("ELB006", ("billing-api", "orders-api", "ledger", "audit"), why="no start period"),
            Expect("ELB004", ("orders-api-ip", "ledger-tcp"), why="ELB005 names the cause"),
            Expect("ELB004", ("reports-api-ip",), why="ELB006 names the cause"),
        ],
        patches=[
            Patch("ecs_service_fields", region, "traffic", "search-api",
                  {"healthCheckGracePeriodSeconds": 300},
                  "moto 5.2.5 drops healthCheckGracePeriodSeconds"),
        ],
    )


def seed_vpc_paths(session) -> Seeded:
    """VPC004 no-logs-path, VPC005 no-secrets-path, VPC006 s3-endpoint-policy-blocks-ecr."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    region = "us-east-1"
    ecr = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"
    layers = f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*"
    corp_only = {"Version": "2012-10-17", "Statement": [{
        "Sid": "CorpBuckets", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::corp-artifacts/*"]}]}
    corp_and_ecr = {"Version": "2012-10-17", "Statement": [
        corp_only["Statement"][0],
        {"Sid": "EcrLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": [layers]}]}

    # vpc-a: isolated subnets (local route only) with ECR and Secrets Manager endpoints but
    # no logs or ssm endpoint; a NAT'd subnet next to them.
    net = r.network("paths", "10.72", nat=True)
    vpc, sg = net["vpc"], net["sg_app"]
    iso = [r.subnet(vpc, f"paths-isolated-{z}", f"10.72.{i}.0/24", z) for i, z in ((20, "a"), (21, "b"))]
    r.route_table(vpc, "paths-isolated", iso)
    for svc in ("ecr.api", "ecr.dkr", "secretsmanager"):
        r.interface_endpoint(vpc, svc, iso, sg, f"paths-{svc}")
    r.s3_gateway_endpoint(vpc, [r.main_route_table(vpc)], "paths-s3-main")
    allowed = r.s3_gateway_endpoint(vpc, [net["private_rt"]], "paths-s3-nat", policy=corp_and_ecr)
    # The isolated table's S3 endpoint: AWS's default (full access) policy.
    iso_rt = [rt["RouteTableId"] for rt in r.ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [iso[0]]}])["RouteTables"]]
    default_policy = r.s3_gateway_endpoint(vpc, iso_rt, "paths-s3-isolated")
    sm = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:api-db-AbCdEf"
    td_api = r.task_definition("api", f"{ecr}/api:4.0.0",
                               secrets={"DB_PASSWORD": sm, "API_TOKEN": "/prod/api/token"})
    r.service("paths", "api", td_api, subnets=iso, sg=sg)
    td_worker = r.task_definition("worker", f"{ecr}/worker:1.2.0", logs=False, secrets={"DB_PASSWORD": sm})
    r.service("paths", "worker", td_worker, subnets=iso[:1], sg=sg)
    td_reporter = r.task_definition("reporter", f"{ecr}/reporter:1.0.0", logs=False, secrets={
        "DB_PASSWORD": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:reporter-db-XyZ123"})
    r.service("paths", "reporter", td_reporter, subnets=iso[:1], sg=sg)
    r.service("paths", "api-nat", td_api, subnets=net["private"], sg=sg)

    # vpc-b: every interface endpoint, but the S3 gateway endpoint's policy only allows the
    # company's buckets: ECR layer downloads are refused.
    vpc_b = r.vpc("sealed", "10.73.0.0/16")
    sub_b = [r.subnet(vpc_b, f"sealed-{z}", f"10.73.{i}.0/24", z) for i, z in ((1, "a"), (2, "b"))]
    rt_b = r.route_table(vpc_b, "sealed", sub_b)
    sg_b = r.sg(vpc_b, "sealed-app", "application tasks")
    for svc in ("ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager", "sts", "ec2", "eks"):
        r.interface_endpoint(vpc_b, svc, sub_b, sg_b, f"sealed-{svc}")
    blocked = r.s3_gateway_endpoint(vpc_b, [rt_b], "sealed-s3", policy=corp_only)
    r.service("paths", "api-sealed", td_api, subnets=sub_b, sg=sg_b)
    r.eks_cluster("sealed", sub_b, sg_b, version="1.35", public=False, public_cidrs=None)
    r.nodegroup("sealed", "sealed-ng", sub_b, "m5.large", 1, 3, 2)
    return Seeded(
        name="vpc-paths", regions=["us-east-1"],
        summary="Fargate services in isolated subnets whose logs or secrets have no way out, and an S3 "
                "gateway endpoint whose policy refuses ECR's layer bucket, beside subnets that are right.",
        bad=[
            "paths/api: awslogs from isolated subnets without a logs endpoint (VPC004)",
            "paths/api: an SSM parameter as a secret without an ssm endpoint (VPC005)",
            "paths/reporter: a Secrets Manager secret in eu-west-1 from an isolated subnet (VPC005)",
            f"{blocked}: S3 gateway endpoint policy allows only corp-artifacts; api-sealed and "
            "nodegroup sealed-ng pull ECR images through it (VPC006)",
        ],
        clean=[
            "paths/worker: no log driver, its secret served by the secretsmanager endpoint",
            "paths/api-nat: the same task definition behind a NAT",
            "paths/api-sealed: logs, ssm and secretsmanager endpoints present",
            "paths-s3-nat and paths-s3-isolated: policy allows the ECR layer bucket, or the default",
        ],
        must=[
            Expect("VPC004", ("api",), "high", why="awslogs, no logs endpoint, no NAT"),
            Expect("VPC005", ("api",), "high", why="SSM parameter, no ssm endpoint"),
            Expect("VPC005", ("reporter",), "high", why="cross-region secret"),
            Expect("VPC006", (blocked,), "high", why="policy without the starport bucket"),
        ],
        must_not=[
            Expect("VPC004", ("worker",), why="no awslogs"),
            Expect("VPC004", ("api-nat",), why="NAT"),
            Expect("VPC004", ("api-sealed",), why="logs endpoint"),
            Expect("VPC005", ("worker",), why="secretsmanager endpoint"),
            Expect("VPC005", ("api-nat",), why="NAT"),
            Expect("VPC005", ("api-sealed",), why="ssm and secretsmanager endpoints"),
            Expect("VPC006", (allowed,), why="starport bucket allowed"),
            Expect("VPC006", (default_policy,), why="default full-access policy"),
        ],
    )


def seed_vpc_control_plane(session) -> Seeded:
    """VPC007 no-pod-credentials-path, VPC008 no-ecs-agent-path and VPC009
    ecs-exec-cannot-connect: the control-plane APIs workloads in isolated subnets must reach
    (STS, EKS Auth, ECS and its agent channels, Session Manager's ssmmessages), beside a
    sealed VPC that has every endpoint and subnets behind a NAT gateway."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    region = "us-east-1"
    ecr = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"

    # vpc "plane": NAT'd private subnets, and two isolated tables (local routes only) with
    # the ECR endpoints but no control-plane endpoint.
    net = r.network("plane", "10.74", nat=True)
    vpc, sg = net["vpc"], net["sg_app"]
    iso = [r.subnet(vpc, f"plane-isolated-{z}", f"10.74.{i}.0/24", z) for i, z in ((20, "a"), (21, "b"))]
    iso_rt = r.route_table(vpc, "plane-isolated", iso)
    iso2 = r.subnet(vpc, "plane-isolated-proxied", "10.74.30.0/24", "a")
    r.route_table(vpc, "plane-isolated-proxied", [iso2])
    for svc in ("ecr.api", "ecr.dkr", "logs"):
        r.interface_endpoint(vpc, svc, iso, sg, f"plane-{svc}")
    r.s3_gateway_endpoint(vpc, [iso_rt, net["private_rt"]], "plane-s3")

    # vpc "sealed-plane": isolated subnets with every control-plane endpoint.
    vpc_b = r.vpc("sealed-plane", "10.75.0.0/16")
    sub_b = [r.subnet(vpc_b, f"sealed-plane-{z}", f"10.75.{i}.0/24", z) for i, z in ((1, "a"), (2, "b"))]
    rt_b = r.route_table(vpc_b, "sealed-plane", sub_b)
    sg_b = r.sg(vpc_b, "sealed-plane-app", "application tasks")
    for svc in ("ecr.api", "ecr.dkr", "logs", "sts", "eks-auth", "ecs", "ecs-agent", "ecs-telemetry",
                "ssmmessages"):
        r.interface_endpoint(vpc_b, svc, sub_b, sg_b, f"sealed-plane-{svc}")
    r.s3_gateway_endpoint(vpc_b, [rt_b], "sealed-plane-s3")

    # VPC007: clusters whose pods get roles through IRSA (every moto cluster shares one
    # issuer, so the IRSA role counts for both) and EKS Pod Identity.
    r.eks_cluster("creds-eks", iso, sg, public=False, public_cidrs=None)
    r.eks_cluster("sealed-eks", sub_b, sg_b, public=False, public_cidrs=None)
    issuer = r.eks.describe_cluster(name="creds-eks")["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.split("://", 1)[1]
    provider = iam.iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )["OpenIDConnectProviderArn"]
    iam.role("orders-irsa", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": "system:serviceaccount:orders:api",
                                       f"{host}:aud": "sts.amazonaws.com"}}}]}, path="/eks/")
    cart = iam.role("cart-pod-identity", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}, path="/eks/")
    for cluster in ("creds-eks", "sealed-eks"):
        r.eks.create_pod_identity_association(clusterName=cluster, namespace="cart",
                                              serviceAccount="cart", roleArn=cart)
    r.nodegroup("creds-eks", "creds-isolated-ng", iso, "m5.large", 1, 3, 2)
    r.nodegroup("creds-eks", "creds-nat-ng", net["private"], "m5.large", 1, 3, 2)
    r.nodegroup("sealed-eks", "sealed-creds-ng", sub_b, "m5.large", 1, 3, 2)

    # VPC008: EC2 container instances. moto registers every agent as connected and records
    # neither ecs.subnet-id nor ecs.cpu-architecture: patched below.
    def container_instance(cluster: str, subnet: str, name: str) -> str:
        r.cluster(cluster)
        instance = r.ec2.run_instances(
            ImageId="ami-0abcdef1234567890", MinCount=1, MaxCount=1, InstanceType="m5.large",
            SubnetId=subnet, ClientToken=_token(region, cluster, "container-instance", name),
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(name)}],
        )["Instances"][0]["InstanceId"]
        r.ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps({
            "instanceId": instance, "region": region, "accountId": ACCOUNT}))
        return instance

    agents = {
        "agents-isolated": container_instance("agents-isolated", iso[0], "agents-isolated-1"),
        "agents-sealed": container_instance("agents-sealed", sub_b[0], "agents-sealed-1"),
        "agents-proxied": container_instance("agents-proxied", iso2, "agents-proxied-1"),
        "agents-nat": container_instance("agents-nat", net["private"][0], "agents-nat-1"),
    }
    subnet_of = {"agents-isolated": iso[0], "agents-sealed": sub_b[0], "agents-proxied": iso2,
                 "agents-nat": net["private"][0]}
    vpc_of = {"agents-isolated": vpc, "agents-sealed": vpc_b, "agents-proxied": vpc, "agents-nat": vpc}

    # VPC009: ECS Exec. moto drops enableExecuteCommand: patched below.
    exec_role = iam.role("exec-task", ECS_TASKS_TRUST, path="/ecs/", inline={"ecs-exec": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]}]}})
    td_exec = r.task_definition("exec-app", f"{ecr}/exec-app:2.1.0", task_role=exec_role)
    td_plain = r.task_definition("plain-app", f"{ecr}/plain-app:2.1.0")
    r.service("exec", "exec-isolated", td_exec, subnets=iso, sg=sg)
    r.service("exec", "exec-weak-role", td_plain, subnets=net["private"], sg=sg)
    r.service("exec", "exec-sealed", td_exec, subnets=sub_b, sg=sg_b)
    r.service("exec", "exec-off", td_plain, subnets=iso, sg=sg)

    ci_reason = ("moto 5.2.5 registers every container instance with a connected agent and without the "
                 "ecs.subnet-id, ecs.vpc-id and ecs.cpu-architecture attributes AWS records")
    patches = []
    for cluster, instance in agents.items():
        fields = {"attributes": [
            {"name": "ecs.subnet-id", "value": subnet_of[cluster]},
            {"name": "ecs.vpc-id", "value": vpc_of[cluster]},
            {"name": "ecs.cpu-architecture", "value": "x86_64"},
        ]}
        if cluster != "agents-proxied":
            # The proxied twin keeps its connected agent: it reaches ECS through a proxy.
            fields["agentConnected"] = False
        patches.append(Patch("ecs_container_instance_fields", region, cluster, instance, fields, ci_reason))
    exec_reason = "moto 5.2.5 drops enableExecuteCommand; AWS returns what the service was created with"
    for svc in ("exec-isolated", "exec-weak-role", "exec-sealed"):
        patches.append(Patch("ecs_service_fields", region, "exec", svc, {"enableExecuteCommand": True}, exec_reason))

    return Seeded(
        name="vpc-control-plane", regions=["us-east-1"],
        summary="Workloads in isolated subnets that must reach AWS control planes (STS and EKS Auth for "
                "pod credentials, ECS for the container agent, ssmmessages for ECS Exec), beside a sealed "
                "VPC with every endpoint and subnets behind a NAT gateway.",
        bad=[
            "nodegroup creds-isolated-ng (creds-eks): IRSA and Pod Identity, isolated subnets without "
            "sts or eks-auth endpoints (VPC007)",
            f"cluster agents-isolated: container instance {agents['agents-isolated']} disconnected in an "
            "isolated subnet without ecs, ecs-agent, ecs-telemetry endpoints (VPC008)",
            "exec/exec-isolated: ECS Exec on in isolated subnets without an ssmmessages endpoint (VPC009)",
            "exec/exec-weak-role: ECS Exec on, task role without the ssmmessages actions (VPC009)",
        ],
        clean=[
            "nodegroup creds-nat-ng: behind a NAT gateway",
            "nodegroup sealed-creds-ng (sealed-eks): sts and eks-auth endpoints",
            "cluster agents-sealed: ecs, ecs-agent and ecs-telemetry endpoints",
            "cluster agents-proxied: isolated, but its agent is connected (a path exists)",
            "cluster agents-nat: behind a NAT gateway",
            "exec/exec-sealed: ssmmessages endpoint and a task role with the four actions",
            "exec/exec-off: ECS Exec off",
        ],
        must=[
            Expect("VPC007", ("creds-isolated-ng",), "high", why="no sts / eks-auth endpoint, no NAT"),
            Expect("VPC008", ("agents-isolated",), "high", needs_patch=True,
                   why="disconnected agent, no ECS endpoints, no NAT"),
            Expect("VPC009", ("exec-isolated",), "medium", needs_patch=True, why="no ssmmessages endpoint"),
            Expect("VPC009", ("exec-weak-role",), "medium", needs_patch=True,
                   why="task role without ssmmessages actions"),
        ],
        must_not=[
            Expect("VPC007", ("creds-nat-ng",), why="NAT"),
            Expect("VPC007", ("sealed-creds-ng",), why="sts and eks-auth endpoints"),
            Expect("VPC008", ("agents-sealed",), needs_patch=True, why="ECS endpoints"),
            Expect("VPC008", ("agents-proxied",), needs_patch=True, why="connected agent"),
            Expect("VPC008", ("agents-nat",), needs_patch=True, why="NAT"),
            Expect("VPC009", ("exec-sealed",), needs_patch=True, why="endpoint and role"),
            Expect("VPC009", ("exec-off",), why="ECS Exec off"),
        ],
        patches=patches,
    )


def seed_eks_catalog(session) -> Seeded:
    """EKS005 version-support-ending, EKS006 irsa-trust-too-broad, EKS007 irsa-provider-missing."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("k8s", "10.74")
    priv, sg = net["private"], net["sg_app"]
    # Versions judged against the recording's date (2026-11-22 onwards; they hold until 2027-03).
    r.eks_cluster("legacy", priv, sg, version="1.29")   # extended support over: critical
    r.eks_cluster("billing", priv, sg, version="1.32")  # extended support (billed): high
    r.eks_cluster("apps", priv, sg, version="1.36")     # current: silent
    for name in ("legacy", "billing", "apps"):
        r.nodegroup(name, f"{name}-ng", priv, "m5.large", 1, 3, 2)

    # IRSA: moto gives every cluster the same issuer, so one provider serves all three.
    issuer = r.eks.describe_cluster(name="apps")["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.split("://", 1)[1]
    provider = iam.iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )["OpenIDConnectProviderArn"]
    orphan_host = f"oidc.eks.us-east-1.amazonaws.com/id/0RPHANED{'0' * 24}"
    orphan = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{orphan_host}"

    def irsa(name: str, conditions: dict, principal: str = provider, h: str = host) -> str:
        cond: dict = {}
        for op, claims in conditions.items():
            cond[op] = {f"{h}:{claim}": v for claim, v in claims.items()}
        stmt = {"Effect": "Allow", "Principal": {"Federated": principal},
                "Action": "sts:AssumeRoleWithWebIdentity"}
        if cond:
            stmt["Condition"] = cond
        return iam.role(name, {"Version": "2012-10-17", "Statement": [stmt]}, path="/eks/")

    irsa("irsa-pinned", {"StringEquals": {"sub": "system:serviceaccount:payments:api", "aud": "sts.amazonaws.com"}})
    irsa("irsa-any-sa", {"StringLike": {"sub": "system:serviceaccount:*:*"}})
    irsa("irsa-no-sub", {"StringEquals": {"aud": "sts.amazonaws.com"}})
    irsa("irsa-namespace", {"StringLike": {"sub": "system:serviceaccount:payments:*"}})
    irsa("irsa-loose-aud", {"StringEquals": {"sub": "system:serviceaccount:web:frontend"},
                            "StringLike": {"aud": "*"}})
    irsa("irsa-orphan", {"StringEquals": {"sub": "system:serviceaccount:batch:etl", "aud": "sts.amazonaws.com"}},
         principal=orphan, h=orphan_host)
    iam.role("pod-identity", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    return Seeded(
        name="eks-catalog", regions=["us-east-1"],
        summary="EKS clusters past and inside their support windows, and IRSA roles trusting the clusters' "
                "OIDC provider too broadly or trusting a provider that does not exist, beside correct ones.",
        bad=[
            "cluster legacy: Kubernetes 1.29, extended support ended 2026-03-23 (EKS005 critical)",
            "cluster billing: Kubernetes 1.32, in billed extended support (EKS005 high)",
            "roles irsa-any-sa, irsa-no-sub (high), irsa-namespace, irsa-loose-aud (medium) (EKS006)",
            "role irsa-orphan trusts an OIDC provider that does not exist (EKS007)",
        ],
        clean=[
            "cluster apps: Kubernetes 1.36",
            "role irsa-pinned: sub and aud pinned; role pod-identity: EKS Pod Identity",
        ],
        must=[
            Expect("EKS005", ("legacy",), "critical", why="1.29"),
            Expect("EKS005", ("billing",), "high", why="1.32"),
            Expect("EKS006", ("irsa-any-sa",), "high", why="sub wildcard"),
            Expect("EKS006", ("irsa-no-sub",), "high", why="no sub"),
            Expect("EKS006", ("irsa-namespace",), "medium", why="namespace wildcard"),
            Expect("EKS006", ("irsa-loose-aud",), "medium", why="aud *"),
            Expect("EKS007", ("irsa-orphan",), "high", why="no such provider"),
        ],
        must_not=[
            Expect("EKS005", ("apps",), why="1.36"),
            Expect("EKS006", ("irsa-pinned",), why="pinned"),
            Expect("EKS006", ("pod-identity",), why="not IRSA"),
            Expect("EKS007", ("irsa-pinned",), why="provider exists"),
        ],
    )


CATALOG_SECRETS = ("smtp-relay-pass-7731", "AKIAZ7EXAMPLEK3Y4Q2W")


def seed_ecs_catalog(session) -> Seeded:
    """ECS002, ECS003, ECS005, ECS007, ECS009-ECS016."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("catalog", "10.70")
    priv, sg = net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    ecr_eu = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    region = "us-east-1"
    patches: list[Patch] = []

    def deploy(cluster: str, name: str, cfg: dict, why: str) -> None:
        patches.append(Patch("ecs_deployment_configuration", region, cluster, name, cfg,
                             "moto 5.2.5 drops deploymentConfiguration; " + why))

    alarms = {"alarmNames": ["orders-5xx", "orders-p99-latency"], "enable": True, "rollback": True}
    r.cluster("shop")
    # ECS002: breaker on, no alarms; its twin has both.
    td = r.task_definition("checkout", f"{ecr}/checkout:4.1.0")
    r.service("shop", "checkout", td, subnets=priv, sg=sg)
    deploy("shop", "checkout", breaker(True, True), "breaker on, no deployment alarms (ECS002)")
    td = r.task_definition("orders", f"{ecr}/orders:9.0.3")
    r.service("shop", "orders", td, subnets=priv, sg=sg)
    deploy("shop", "orders", {**breaker(True, True), "alarms": alarms}, "breaker and alarms (clean twin)")
    # ECS003: a password by name and an access key by value; the twin keeps them in `secrets`.
    td = r.task_definition("mailer", f"{ecr}/mailer:1.8.0", environment={
        "SMTP_HOST": "smtp.internal.example", "SMTP_PASSWORD": CATALOG_SECRETS[0],
        "UPLOAD_CREDENTIALS": CATALOG_SECRETS[1], "LOG_LEVEL": "info"})
    r.service("shop", "mailer", td, subnets=priv, sg=sg)
    # ECS009: the notifier's execution role may read its secret (a customer managed policy);
    # the importer's role has only the AWS managed execution policy, which does not.
    smtp_secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:smtp-AbCdEf"
    read_smtp = iam.iam.create_policy(PolicyName="notifier-read-smtp-secret", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                                "Resource": smtp_secret}]}))["Policy"]["Arn"]
    notifier_exec = iam.role("notifier-execution", ECS_TASKS_TRUST, managed=[
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", read_smtp])
    td = r.task_definition("importer", f"{ecr}/importer:1.0.0", secrets={"API_KEY": smtp_secret})
    r.service("shop", "importer", td, subnets=priv, sg=sg)
    # ECS010: an administrator task role.
    admin = iam.role("admin-tools-task", ECS_TASKS_TRUST, managed=["arn:aws:iam::aws:policy/AdministratorAccess"])
    td = r.task_definition("admin-tools", f"{ecr}/admin-tools:0.3.0", task_role=admin)
    r.service("shop", "admin-tools", td, subnets=priv, sg=sg)
    td = r.task_definition("notifier", f"{ecr}/notifier:2.0.0", execution_role=notifier_exec, environment={
        "SMTP_HOST": "smtp.internal.example",
        "SMTP_PASSWORD_SECRET_ARN": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:smtp-AbCdEf",
        "TOKEN_TTL": "3600"},
        secrets={"SMTP_PASSWORD": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:smtp-AbCdEf"})
    r.service("shop", "notifier", td, subnets=priv, sg=sg)
    # ECS005 + ECS015: a queue worker without a health check and without logs.
    td = r.task_definition("invoice-worker", f"{ecr}/invoice-worker:3.2.1", health_check=False, logs=False)
    r.service("shop", "invoice-worker", td, subnets=priv, sg=sg)
    # ECS007: a single task; and two tasks squeezed into one zone.
    td = r.task_definition("pricing", f"{ecr}/pricing:1.0.0")
    r.service("shop", "pricing", td, subnets=priv, sg=sg, desired=1)
    td = r.task_definition("search", f"{ecr}/search:6.4.0")
    r.service("shop", "search", td, subnets=priv[:1], sg=sg)
    # ECS011: one role as execution and task role; every other service has its own task role.
    exec_role = iam.ecs_execution_role()
    td = r.task_definition("reports", f"{ecr}/reports:2.2.0", task_role=exec_role)
    r.service("shop", "reports", td, subnets=priv, sg=sg)
    # ECS012: all tasks on Fargate Spot; the twin keeps an on-demand base.
    td = r.task_definition("thumbnails", f"{ecr}/thumbnails:1.4.0")
    r.service("shop", "thumbnails", td, subnets=priv, sg=sg)
    td = r.task_definition("exports", f"{ecr}/exports:1.1.0")
    r.service("shop", "exports", td, subnets=priv, sg=sg)
    for name, strategy in (
        ("thumbnails", [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]),
        ("exports", [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                     {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}]),
    ):
        patches.append(Patch("ecs_service_fields", region, "shop", name,
                             {"capacityProviderStrategy": strategy, "launchType": None},
                             "moto 5.2.5 drops capacityProviderStrategy and always reports a launch type"))
    # ECS013: image from another region's ECR.
    td = r.task_definition("legacy-api", f"{ecr_eu}/legacy-api:0.9.7")
    r.service("shop", "legacy-api", td, subnets=priv, sg=sg)
    # ECS014: 100/100 leaves a rolling deploy no room.
    td = r.task_definition("ledger", f"{ecr}/ledger:5.0.0")
    r.service("shop", "ledger", td, subnets=priv, sg=sg, desired=3)
    deploy("shop", "ledger", {**breaker(True, True, 100, 100), "alarms": alarms}, "maximumPercent 100 (ECS014)")
    # ECS016: a cluster running services without Container Insights.
    r.cluster("legacy", insights=False)
    td = r.task_definition("archive", f"{ecr}/archive:1.0.2")
    r.service("legacy", "archive", td, subnets=priv, sg=sg)
    return Seeded(
        name="ecs-catalog", regions=["us-east-1"], patches=patches, secrets=list(CATALOG_SECRETS),
        summary="ECS services and clusters with the catalog's deployment, configuration and resilience "
                "problems, each next to a service or cluster that does it right.",
        bad=[
            "shop/checkout: circuit breaker without deployment alarms (ECS002)",
            "shop/mailer: SMTP_PASSWORD and an AWS access key in plain environment (ECS003)",
            "shop/invoice-worker: no health check (ECS005), no log configuration (ECS015)",
            "shop/pricing: one task; shop/search: one Availability Zone (ECS007)",
            "shop/importer: execution role without access to the task's secret (ECS009)",
            "role admin-tools-task: AdministratorAccess as a task role (ECS010)",
            "shop/reports: execution role used as task role (ECS011)",
            "shop/thumbnails: FARGATE_SPOT only (ECS012, patched in)",
            "shop/legacy-api: image from eu-west-1 ECR (ECS013)",
            "shop/ledger: maximumPercent 100 with minimumHealthyPercent 100 (ECS014, patched in)",
            "cluster legacy: Container Insights disabled (ECS016)",
        ],
        clean=[
            "shop/orders: breaker and deployment alarms",
            "shop/notifier: the password comes from Secrets Manager through `secrets`",
            "shop/exports: FARGATE base 1 beside FARGATE_SPOT",
            "cluster shop: Container Insights enabled",
        ],
        must=[
            Expect("ECS002", ("checkout",), "low", needs_patch=True, why="breaker without alarms"),
            Expect("ECS003", ("mailer",), "high", why="SMTP_PASSWORD, AKIA key"),
            Expect("ECS005", ("invoice-worker",), "medium", why="no healthCheck, no load balancer"),
            Expect("ECS007", ("pricing",), "medium", why="desiredCount 1"),
            Expect("ECS007", ("search",), "medium", why="one subnet, one zone"),
            Expect("ECS009", ("importer",), "high", why="execution role cannot read the secret"),
            Expect("ECS010", ("admin-tools-task",), "high", why="AdministratorAccess"),
            Expect("ECS011", ("reports",), "medium", why="same role twice"),
            Expect("ECS012", ("thumbnails",), "medium", needs_patch=True, why="FARGATE_SPOT only"),
            Expect("ECS013", ("legacy-api",), "low", why="eu-west-1 image"),
            Expect("ECS014", ("ledger",), "high", needs_patch=True, why="100/100"),
            Expect("ECS015", ("invoice-worker",), "medium", why="no logConfiguration"),
            Expect("ECS016", ("legacy",), "low", why="containerInsights disabled"),
        ],
        must_not=[
            Expect("ECS002", ("orders",), needs_patch=True, why="alarms attached"),
            Expect("ECS003", ("notifier",), why="secret reference and settings only"),
            Expect("ECS005", ("orders",), why="health check"),
            Expect("ECS007", ("orders",), why="two tasks in two zones"),
            Expect("ECS009", ("notifier",), why="customer managed policy grants the secret"),
            Expect("ECS009", ("orders",), why="AWS managed execution policy covers ECR and logs"),
            Expect("ECS010", ("orders-task",), why="scoped task role"),
            Expect("ECS011", ("orders",), why="own task role"),
            Expect("ECS012", ("exports",), needs_patch=True, why="on-demand base"),
            Expect("ECS013", ("orders",), why="same-region image"),
            Expect("ECS014", ("orders",), needs_patch=True, why="200/100"),
            Expect("ECS015", ("orders",), why="awslogs"),
            Expect("ECS016", ("shop",), why="Container Insights enabled"),
        ],
    )

DEMO_SECRET = "hunter2-not-a-real-password"


TASK_SET_SECRET = "canary-db-pass-4410"


def seed_ecs_task_sets(session) -> Seeded:
    """Task sets are workloads: an EXTERNAL service whose ACTIVE canary task set is privileged,
    leaks a password, takes public IPs and sits on an instance target group, beside a service
    whose task sets are all clean."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("deploys", "10.72")
    vpc, priv, sg = net["vpc"], net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    r.cluster("deploys")

    def external_service(name: str) -> str:
        # EXTERNAL: the service names no task definition; its task sets run the tasks.
        return r.ecs.create_service(cluster="deploys", serviceName=name, desiredCount=4,
                                    deploymentController={"type": "EXTERNAL"},
                                    tags=[{"key": "app", "value": name}])["service"]["serviceArn"]

    def task_set(service: str, td: str, tg: str, *, public_ip: bool = False) -> str:
        # No `scale`: moto answers 500 to it without container instances (it still defaults
        # the scale to 100%).
        family = td.rsplit("/", 1)[1].split(":")[0]
        return r.ecs.create_task_set(
            cluster="deploys", service=service, taskDefinition=td, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": priv, "securityGroups": [sg],
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED"}},
            loadBalancers=[{"targetGroupArn": tg, "containerName": family, "containerPort": 8080}],
        )["taskSet"]["taskSetArn"]

    # checkout: the PRIMARY task set is clean; the ACTIVE canary is not.
    external_service("checkout")
    td_stable = r.task_definition("checkout", f"{ecr}/checkout:5.0.0")
    td_canary = r.task_definition("checkout-canary", f"{ecr}/checkout:5.1.0-rc1", privileged=True,
                                  environment={"DB_PASSWORD": TASK_SET_SECRET})
    tg_stable = r.tg("checkout-ip", vpc, "ip", 8080, deregistration_delay=30)
    tg_canary = r.tg("checkout-canary-instance", vpc, "instance", 8080, deregistration_delay=30)
    primary = task_set("checkout", td_stable, tg_stable)
    task_set("checkout", td_canary, tg_canary, public_ip=True)
    # moto needs the full task set ARN here (an id leaves no task set PRIMARY).
    r.ecs.update_service_primary_task_set(cluster="deploys", service="checkout", primaryTaskSet=primary)
    # search: both task sets clean.
    external_service("search")
    td_search = r.task_definition("search", f"{ecr}/search:2.2.0")
    tg_search = r.tg("search-ip", vpc, "ip", 8080, deregistration_delay=30)
    primary = task_set("search", td_search, tg_search)
    task_set("search", r.task_definition("search-next", f"{ecr}/search:2.3.0"), tg_search)
    r.ecs.update_service_primary_task_set(cluster="deploys", service="search", primaryTaskSet=primary)
    return Seeded(
        name="ecs-task-sets", regions=["us-east-1"],
        summary="Two services on the EXTERNAL deployment controller, whose task sets run the tasks: "
                "a canary task set that is privileged, leaks a password, takes public IPs and sits on "
                "an instance target group, beside task sets that are clean.",
        bad=[
            "deploys/checkout ACTIVE task set (checkout-canary): privileged container (ECS008)",
            "deploys/checkout ACTIVE task set: DB_PASSWORD in plain environment (ECS003)",
            "deploys/checkout ACTIVE task set: assignPublicIp ENABLED (ECS006)",
            "deploys/checkout ACTIVE task set: awsvpc tasks on instance target group "
            "checkout-canary-instance (ELB001)",
        ],
        clean=[
            "deploys/checkout PRIMARY task set: pinned image, no secret, private, ip target group",
            "deploys/search: PRIMARY and ACTIVE task sets both clean",
        ],
        must=[
            Expect("ECS008", ("checkout",), "high", why="privileged canary task set"),
            Expect("ECS003", ("checkout",), "high", why="DB_PASSWORD in the canary's environment"),
            Expect("ECS006", ("checkout",), "medium", why="canary task set takes public IPs"),
            Expect("ELB001", ("checkout",), "high", why="canary on an instance target group"),
        ],
        must_not=[
            Expect("ECS008", ("search",), why="clean task sets"),
            Expect("ECS003", ("search",), why="clean task sets"),
            Expect("ECS006", ("search",), why="private task sets"),
            Expect("ELB001", ("search",), why="ip target group"),
        ],
        secrets=[TASK_SET_SECRET],
    )


SCHEDULED_SECRET = "nightly-export-pass-2291"
SCHEDULED_INPUT_SECRET = "compaction-input-token-6604"


def seed_ecs_scheduled(session) -> Seeded:
    """Scheduled tasks are workloads: an EventBridge Scheduler schedule and an EventBridge rule
    that run ECS tasks in a private subnet whose ECR endpoints lack the S3 gateway (every run
    fails to pull), one of them with a password in plain environment, beside a schedule and a
    rule that run clean tasks where images can be pulled."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    r.cluster("batch")
    cluster = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/batch"
    scheduler = session.client("scheduler", "us-east-1")
    events = session.client("events", "us-east-1")
    role = iam.role("batch-scheduler", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ["scheduler.amazonaws.com", "events.amazonaws.com"]},
        "Action": "sts:AssumeRole"}]})
    # VPC A (bad): private subnet, no NAT, ECR interface endpoints but no S3 gateway.
    vpc_a = r.vpc("exports", "10.44.0.0/16")
    sub_a = r.subnet(vpc_a, "exports-private-a", "10.44.10.0/24", "a")
    sg_a = r.sg(vpc_a, "exports-jobs", "export jobs")
    for svc in ("ecr.api", "ecr.dkr", "logs"):
        r.interface_endpoint(vpc_a, svc, [sub_a], sg_a, f"exports-{svc}")
    # VPC B (clean): the same with the S3 gateway endpoint on the subnet's route table.
    vpc_b = r.vpc("reconcile", "10.45.0.0/16")
    sub_b = r.subnet(vpc_b, "reconcile-private-a", "10.45.10.0/24", "a")
    rt_b = r.route_table(vpc_b, "reconcile-private", [sub_b])
    sg_b = r.sg(vpc_b, "reconcile-jobs", "reconcile jobs")
    for svc in ("ecr.api", "ecr.dkr", "logs"):
        r.interface_endpoint(vpc_b, svc, [sub_b], sg_b, f"reconcile-{svc}")
    r.s3_gateway_endpoint(vpc_b, [rt_b], "reconcile-s3")

    def ecs_target(td: str, subnet: str, sg: str, *, events_api: bool) -> dict:
        net = {"awsvpcConfiguration": {"Subnets": [subnet], "SecurityGroups": [sg], "AssignPublicIp": "DISABLED"}}
        return {"TaskDefinitionArn": td, "TaskCount": 1, "LaunchType": "FARGATE", "NetworkConfiguration": net}

    # The bad schedule: nightly export, a password in its environment.
    td_export = r.task_definition("nightly-export", f"{ecr}/nightly-export:3.2.0",
                                  environment={"EXPORT_DB_PASSWORD": SCHEDULED_SECRET})
    scheduler.create_schedule(
        Name="nightly-export", ScheduleExpression="cron(0 2 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": cluster, "RoleArn": role, "EcsParameters": ecs_target(td_export, sub_a, sg_a, events_api=False)})
    # The bad rule: hourly compaction in the same subnet.
    td_compact = r.task_definition("ledger-compaction", f"{ecr}/ledger-compaction:1.4.0")
    events.put_rule(Name="hourly-compaction", ScheduleExpression="rate(1 hour)", State="ENABLED")
    # Its input overrides the container's environment with a token (ECS003 through the input).
    events.put_targets(Rule="hourly-compaction", Targets=[{
        "Id": "compaction", "Arn": cluster, "RoleArn": role,
        "Input": json.dumps({"containerOverrides": [{"name": "ledger-compaction", "environment": [
            {"name": "LEDGER_API_TOKEN", "value": SCHEDULED_INPUT_SECRET}]}]}),
        "EcsParameters": ecs_target(td_compact, sub_a, sg_a, events_api=True)}])
    # Clean twins: a schedule and a rule in the subnet with the S3 gateway endpoint.
    td_reconcile = r.task_definition("reconcile", f"{ecr}/reconcile:2.0.1")
    scheduler.create_schedule(
        Name="daily-reconcile", ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": cluster, "RoleArn": role, "EcsParameters": ecs_target(td_reconcile, sub_b, sg_b, events_api=False)})
    td_sweep = r.task_definition("ledger-sweep", f"{ecr}/ledger-sweep:1.0.3")
    events.put_rule(Name="nightly-sweep", ScheduleExpression="cron(0 3 * * ? *)", State="ENABLED")
    events.put_targets(Rule="nightly-sweep", Targets=[{
        "Id": "sweep", "Arn": cluster, "RoleArn": role,
        "EcsParameters": ecs_target(td_sweep, sub_b, sg_b, events_api=True)}])
    # Disabled: runs nothing, so nothing to report (its subnet is the bad one).
    scheduler.create_schedule(
        Name="retired-export", ScheduleExpression="rate(7 days)", FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED",
        Target={"Arn": cluster, "RoleArn": role, "EcsParameters": ecs_target(td_export, sub_a, sg_a, events_api=False)})
    return Seeded(
        name="ecs-scheduled", regions=["us-east-1"],
        summary="Batch jobs run by EventBridge Scheduler and an EventBridge rule in a private subnet whose "
                "ECR endpoints lack the S3 gateway endpoint (every run fails to pull), one with a password "
                "in plain environment, beside a schedule and a rule whose subnet can pull.",
        bad=[
            "schedule nightly-export: private subnet with ECR endpoints, no S3 gateway (VPC002); "
            "EXPORT_DB_PASSWORD in plain environment (ECS003)",
            "rule hourly-compaction: same subnet (VPC002); its input overrides the container's "
            "environment with LEDGER_API_TOKEN (ECS003)",
        ],
        clean=[
            "schedule daily-reconcile and rule nightly-sweep: subnet with the S3 gateway endpoint",
            "schedule retired-export: DISABLED, starts nothing",
        ],
        must=[
            Expect("VPC002", ("nightly-export",), "high", why="schedule pulls through ECR endpoints, no S3"),
            Expect("VPC002", ("hourly-compaction",), "high", why="rule pulls through ECR endpoints, no S3"),
            Expect("ECS003", ("nightly-export",), "high", why="EXPORT_DB_PASSWORD"),
            Expect("ECS003", ("hourly-compaction",), "high", why="LEDGER_API_TOKEN in the rule's input"),
        ],
        must_not=[
            Expect("VPC002", ("daily-reconcile",), why="S3 gateway endpoint"),
            Expect("VPC002", ("nightly-sweep",), why="S3 gateway endpoint"),
            Expect("VPC002", ("retired-export",), why="disabled"),
            Expect("ECS003", ("daily-reconcile",), why="no secret"),
        ],
        secrets=[SCHEDULED_SECRET, SCHEDULED_INPUT_SECRET],
    )


def seed_ecs_standalone(session) -> Seeded:
    """Standalone tasks are workloads: a privileged task started by hand (RunTask) and a clean
    one in the same cluster, each running two copies; a task an EventBridge rule started is its
    rule's, not a standalone workload."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("adhoc", "10.46")
    priv, sg = net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    r.cluster("adhoc")
    netcfg = {"awsvpcConfiguration": {"subnets": priv[:1], "securityGroups": [sg], "assignPublicIp": "DISABLED"}}

    def run(td: str, count: int, **extra) -> None:
        r.ecs.run_task(cluster="adhoc", taskDefinition=td, launchType="FARGATE", count=count,
                       networkConfiguration=netcfg, **extra)

    run(r.task_definition("debug-shell", f"{ecr}/debug-shell:1.0.0", privileged=True), 2)
    run(r.task_definition("data-fix", f"{ecr}/data-fix:2.1.0"), 2, startedBy="ops-runbook")
    # Started by an EventBridge rule: judged as that rule (not collected here), never twice.
    run(r.task_definition("rule-job", f"{ecr}/rule-job:1.0.0", privileged=True), 1,
        startedBy="events-rule/hourly-rule-job")
    return Seeded(
        name="ecs-standalone", regions=["us-east-1"],
        summary="Tasks started by hand (RunTask) in a cluster with no service: a privileged debug shell "
                "beside a clean data fix, and a task an EventBridge rule started.",
        bad=["standalone tasks of group family:debug-shell: privileged container (ECS008)"],
        clean=[
            "standalone tasks of group family:data-fix: clean",
            "task started by events-rule/hourly-rule-job: its rule's workload, not a standalone one",
        ],
        must=[Expect("ECS008", ("debug-shell",), "high", why="privileged standalone task")],
        must_not=[
            Expect("ECS008", ("data-fix",), why="clean"),
            Expect("ECS008", ("rule-job",), why="started by a rule: not standalone"),
        ],
    )


def seed_ecs_secrets(session) -> Seeded:
    """What task definitions inject, resolved the way ECS resolves it at task start: a secret
    and a parameter that exist, a secret scheduled for deletion, a parameter and a secret that
    do not exist, a secret under a customer key the execution role may not use, and one
    under a disabled key. Secret values are seeded but never read back."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("secrets", "10.47")
    priv, sg = net["private"], net["sg_app"]
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    sm = session.client("secretsmanager", "us-east-1")
    ssm = session.client("ssm", "us-east-1")
    kms = session.client("kms", "us-east-1")
    values = ["probe-orders-db-7731", "probe-billing-db-2290", "probe-payments-api-4418",
              "probe-legacy-db-6605", "probe-flag-value-1187"]
    app_key = kms.create_key(Description="payments secrets")["KeyMetadata"]["Arn"]
    old = kms.create_key(Description="legacy secrets")["KeyMetadata"]
    old_key = old["Arn"]
    kms.disable_key(KeyId=old["KeyId"])
    orders = sm.create_secret(Name="orders/db", SecretString=values[0])["ARN"]
    billing = sm.create_secret(Name="billing/db", SecretString=values[1])["ARN"]
    sm.delete_secret(SecretId=billing, RecoveryWindowInDays=7)
    payments = sm.create_secret(Name="payments/api", SecretString=values[2], KmsKeyId=app_key)["ARN"]
    legacy = sm.create_secret(Name="legacy/db", SecretString=values[3], KmsKeyId=old_key)["ARN"]
    ssm.put_parameter(Name="/orders/flag", Value=values[4], Type="SecureString")
    gone = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:reports/token-Q1w2E3"
    read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "secretsmanager:GetSecretValue", "ssm:GetParameters"], "Resource": "*"}]}
    exec_role = iam.role("secrets-exec", _service_trust("ecs-tasks.amazonaws.com"),
                         managed=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
                         inline={"read-secrets": read})
    r.cluster("secrets")
    for name, secrets in (
            ("orders", {"DB_PASSWORD": f"{orders}:password::", "FLAG": "/orders/flag"}),
            ("billing", {"DB_PASSWORD": billing, "API_TOKEN": "/billing/api-token"}),
            ("reports", {"TOKEN": gone}),
            ("payments", {"API_KEY": payments}),
            ("legacy", {"DB_PASSWORD": legacy})):
        td = r.task_definition(name, f"{ecr}/{name}:1.0.0", secrets=secrets, execution_role=exec_role)
        r.service("secrets", name, td, desired=1, subnets=priv[:1], sg=sg)
    return Seeded(
        name="ecs-secrets", regions=["us-east-1"],
        summary="Services injecting Secrets Manager secrets and SSM parameters: present, scheduled for "
                "deletion, missing, and encrypted with customer KMS keys the execution role cannot use.",
        bad=[
            "service billing: secret scheduled for deletion, SSM parameter missing (ECS024)",
            "service reports: secret does not exist (ECS024)",
            "service payments: customer key whose policy leaves decrypt to IAM, role not granted (ECS025)",
            "service legacy: customer key disabled (ECS025)",
        ],
        clean=["service orders: secret and SecureString parameter exist, AWS managed keys"],
        must=[
            Expect("ECS024", ("billing",), "high", why="secret scheduled for deletion"),
            Expect("ECS024", ("api-token",), "high", why="parameter missing"),
            Expect("ECS024", ("token-Q1w2E3",), "high", why="secret missing"),
            Expect("ECS025", ("payments",), "high", why="no kms:Decrypt for the execution role"),
            Expect("ECS025", ("legacy",), "high", why="disabled key"),
        ],
        must_not=[
            Expect("ECS024", ("orders",), why="exists"),
            Expect("ECS025", ("orders",), why="AWS managed keys"),
        ],
        secrets=values,
    )


# Every secret shape the detector knows, in an environment variable each (ECS003 must name
# every variable and print no value), plus values that must stay clear.
SECRET_SHAPES = {
    "DB_PASSWORD": "probe-password-by-name-5521",
    "UPLOAD_KEY_ID": "AKIAPROBE7EXAMPLEQ2W",
    "SIGNING_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----",
    "GITHUB_DEPLOY": "ghp_Pr0beT0kenAbcdefghijklmnopqrstuvwxyz",
    "SLACK_HOOK": "xoxb-2024-probe-slack-token-value",
    "STRIPE": "sk_live_Pr0beStripeKey4455667788",
    "SESSION_JWT": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwcm9iZS1zZXJ2aWNlIiwiaWF0IjoxNzAwMDAwMDAwfQ.Pr0beSignatureXk9vW2lM4nQ8rT6yZ1aB3cD5eF7gH",
    "RANDOM_BLOB": "Zq8Xw3Rt9Yp2Lk7Mn4Bv6Cx1Hj5Gf0DsPr0be",
}
# Clear values beside them: a dotted hostname and a version string look like tokens to a
# careless detector; neither may be reported, and no recording keeps them either.
CLEAR_SHAPES = {
    "DB_HOST": "orders-db.cluster-probe.us-east-1.rds.amazonaws.com",
    "APP_VERSION": "4.17.2-probe.20261130",
}
# Secrets in other free-form fields: a command-line argument, a docker label, a tag.
ARG_SECRET = "probe-cli-password-8812"
LABEL_SECRET = "eyJhbGciOiJIUzI1NiJ9.eyJsYWJlbCI6InByb2JlIn0.LabelPr0beSigQw3Er5Ty7Ui9"
TAG_SECRET = "probe-tag-password-3390"


def seed_secret_shapes(session) -> Seeded:
    """One service whose task definition carries every secret shape; used by the secrets
    e2e test, not recorded as a mock."""
    iam = Iam(session)
    r = Region(session, "us-east-1", iam)
    net = r.network("probe", "10.90")
    td = r.ecs.register_task_definition(
        family="probe", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        executionRoleArn=iam.ecs_execution_role(), taskRoleArn=iam.ecs_task_role("probe"),
        containerDefinitions=[{
            "name": "probe", "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/probe:1.0.0",
            "essential": True, "memory": 512, "cpu": 256,
            "environment": [{"name": k, "value": v} for k, v in {**SECRET_SHAPES, **CLEAR_SHAPES}.items()],
            "command": ["serve", f"--db-password={ARG_SECRET}", "--port", "8080"],
            "entryPoint": ["sh", "-c", f"exec /app --admin-token {ARG_SECRET}x"],
            "dockerLabels": {"com.example.auth": LABEL_SECRET, "com.example.build": CLEAR_SHAPES["APP_VERSION"]},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/probe", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "probe"}},
        }],
        tags=[{"key": "db_password", "value": TAG_SECRET}],
    )["taskDefinition"]["taskDefinitionArn"]
    svc = r.service("probe", "probe", td, subnets=net["private"], sg=net["sg_app"])
    r.ecs.tag_resource(resourceArn=svc, tags=[{"key": "db_password", "value": TAG_SECRET}])
    return Seeded(
        name="secret-shapes", regions=["us-east-1"], summary="every secret shape in one task definition",
        secrets=[*SECRET_SHAPES.values(), *CLEAR_SHAPES.values(), ARG_SECRET, LABEL_SECRET, TAG_SECRET],
    )


def seed_demo(session) -> Seeded:
    """A realistic two-region account with every core misconfiguration and clean neighbours."""
    iam = Iam(session)
    must: list[Expect] = []
    must_not: list[Expect] = []
    patches: list[Patch] = []
    bad: list[str] = []
    clean: list[str] = []

    def svc_patch(region: str, cluster: str, name: str, cfg: dict, why: str = "") -> None:
        patches.append(Patch("ecs_deployment_configuration", region, cluster, name, cfg,
                             "moto 5.2.5 drops deploymentConfiguration" + (f"; {why}" if why else "")))

    # ------------------------------------------------------------------ us-east-1
    r = Region(session, "us-east-1", iam)
    ecr = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    net = r.network("prod", "10.10")
    vpc = net["vpc"]
    # ECR + logs interface endpoints for the whole VPC; S3 gateway only on the private
    # (NAT) table: the data subnets on the main table were forgotten.
    for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
        r.interface_endpoint(vpc, s, net["private"], net["sg_app"], f"prod-{s}")
    r.s3_gateway_endpoint(vpc, [net["private_rt"]], "prod-s3")
    data = [r.subnet(vpc, f"prod-data-{z}", f"10.10.{i}.0/24", z) for i, z in ((20, "a"), (21, "b"))]
    batch = r.subnet(vpc, "prod-batch-a", "10.10.30.0/28", "a")
    r.ec2.associate_route_table(RouteTableId=net["private_rt"], SubnetId=batch)
    r.task_enis(batch, net["sg_app"], 7)

    alb = r.alb("storefront-prod", net["public"], net["sg_lb"])
    tg_checkout = r.tg("checkout-api", vpc, "ip", 8080)
    tg_cart = r.tg("cart-api", vpc, "instance", 8080)
    tg_catalog = r.tg("catalog-web", vpc, "instance", 8080)
    tg_pay_blue = r.tg("payments-api-blue", vpc, "ip", 8080)
    r.tg("payments-api-green", vpc, "ip", 8080)
    r.listener(alb, tg_checkout, [("/cart*", tg_cart), ("/catalog*", tg_catalog), ("/pay*", tg_pay_blue)])

    def td(name, **kw):
        return r.task_definition(name, f"{ecr}/{name}:{kw.pop('tag', '1.0.0')}", **kw)

    r.service("storefront", "checkout-api", td("checkout-api", tag="5.2.0"), desired=4,
              subnets=net["private"], sg=net["sg_app"], tg=tg_checkout)
    svc_patch("us-east-1", "storefront", "checkout-api", breaker(True, True))
    r.service("storefront", "cart-api", td("cart-api", tag="2.14.1"), desired=3,
              subnets=net["private"], sg=net["sg_app"], tg=tg_cart)
    svc_patch("us-east-1", "storefront", "cart-api", breaker(True, False))
    r.service("storefront", "catalog-web", td("catalog-web", tag="latest", network_mode="bridge",
                                               fargate=False, host_port=0,
                                               environment={"DB_HOST": "catalog.cluster-abc.us-east-1.rds.amazonaws.com",
                                                            "DB_PASSWORD": DEMO_SECRET}),
              desired=2, launch_type="EC2", tg=tg_catalog)
    svc_patch("us-east-1", "storefront", "catalog-web", breaker(False, False))
    r.service("payments", "payments-api", td("payments-api", tag="12.1.0"), desired=4,
              subnets=net["private"], sg=net["sg_app"], tg=tg_pay_blue, controller="CODE_DEPLOY")
    svc_patch("us-east-1", "payments", "payments-api", AWS_DEFAULT_DEPLOYMENT_CONFIGURATION_OTHER)
    r.service("payments", "ledger-worker", td("ledger-worker", tag="3.3.1"), desired=2,
              subnets=data, sg=net["sg_app"])
    svc_patch("us-east-1", "payments", "ledger-worker", breaker(True, True))
    r.service("payments", "fraud-scorer", td("fraud-scorer", tag="0.9.4"), desired=6,
              subnets=[batch], sg=net["sg_app"])
    svc_patch("us-east-1", "payments", "fraud-scorer", breaker(True, True))

    bad += [
        "us-east-1 storefront/cart-api: Fargate behind instance target group cart-api -> ELB001; breaker without rollback -> ECS001 medium (patch)",
        "us-east-1 storefront/catalog-web: no circuit breaker -> ECS001 high (also, for non-core checks: image "
        ":latest, plaintext DB_PASSWORD in environment, task role catalog-web-task has AdministratorAccess)",
        "IAM role vendor-integration trusts Principal AWS:* with no condition; IRSA role shop-prod-any-sa-irsa "
        "trusts system:serviceaccount:*:* (non-core checks)",
        f"us-east-1 payments/ledger-worker: data subnets {data} use the main route table (local only); VPC has ECR endpoints, S3 gateway only on the prod-private table -> VPC002",
        f"us-east-1 payments/fraud-scorer: desired 6 on /28 {batch} with 4 free (7 task ENIs) -> VPC001",
    ]
    clean += [
        "us-east-1 storefront/checkout-api: Fargate on ip target group, breaker+rollback (patch), private subnets with NAT + S3 gateway",
        "us-east-1 storefront/catalog-web: bridge mode on instance target group (ELB001 clean)",
        "us-east-1 payments/payments-api: CODE_DEPLOY controller (ECS001 n/a)",
    ]
    must += [
        Expect("ELB001", ("cart-api",), "high"),
        Expect("ECS001", ("cart-api",), "medium", needs_patch=True),
        Expect("ECS001", ("catalog-web",), "high"),
        Expect("VPC002", ("ledger-worker",) + tuple(data), "high"),
        Expect("VPC001", ("fraud-scorer", batch)),
    ]
    must_not += [
        Expect("ELB001", ("checkout-api",)),
        Expect("ELB001", ("catalog-web",)),
        Expect("ELB001", ("payments-api", "payments-api-blue")),
        Expect("ECS001", ("checkout-api",), needs_patch=True),
        Expect("ECS001", ("payments-api",)),
        Expect("ECS001", ("ledger-worker",), needs_patch=True),
        Expect("VPC002", ("checkout-api", "cart-api") + tuple(net["private"])),
        Expect("VPC003", ("checkout-api", "ledger-worker") + tuple(net["private"]) + tuple(data)),
        Expect("VPC001", ("checkout-api", "cart-api") + tuple(net["private"])),
    ]

    # EKS in us-east-1: shop-prod (nodegroup + Fargate for namespace checkout), ml-sandbox idle.
    r.eks_cluster("shop-prod", net["private"], net["sg_app"])
    r.nodegroup("shop-prod", "general", net["private"], "m5.large", 2, 6, 3)
    r.fargate_profile("shop-prod", "checkout", net["private"], ["checkout"])
    tg_front = r.tg_name(r.lbc_target_group("shop-prod", "checkout", "frontend", "instance", vpc, "3e9f1c2b8d"))
    tg_orders = r.tg_name(r.lbc_target_group("shop-prod", "checkout", "orders", "ip", vpc, "6d0a7b4c2e"))
    r.eks_cluster("ml-sandbox", net["private"], net["sg_app"], version="1.27", public_cidrs=("0.0.0.0/0",),
                  logging=False)
    bad += [
        f"us-east-1 EKS shop-prod: LBC target group {tg_front} (instance) for checkout/frontend; namespace checkout is on Fargate -> ELB001",
        "us-east-1 EKS ml-sandbox: ACTIVE, no compute -> EKS001 (also: version 1.27, public endpoint 0.0.0.0/0, "
        "control-plane logging off)",
    ]
    clean += [f"us-east-1 EKS shop-prod: {tg_orders} (ip) for checkout/orders; nodegroup general m5.large max 6 on /24s"]
    must += [Expect("ELB001", (tg_front,), "high"), Expect("EKS001", ("ml-sandbox",), "medium")]
    must_not += [Expect("ELB001", (tg_orders,)), Expect("EKS001", ("shop-prod",)),
                 Expect("VPC001", ("general",))]

    # IAM: an OIDC provider for shop-prod, an IRSA role scoped to one service account and
    # one trusting every service account (EKS006 material, not a core check).
    issuer = session.client("eks", "us-east-1").describe_cluster(name="shop-prod")["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.split("://", 1)[1]
    provider = iam.iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )["OpenIDConnectProviderArn"]

    def irsa(name, sub_value, op):
        iam.role(name, {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {op: {f"{host}:sub": sub_value, f"{host}:aud": "sts.amazonaws.com"}}}]},
            path="/eks/", inline={"s3-read": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shop-prod-assets/*"}]}})

    irsa("shop-prod-orders-irsa", "system:serviceaccount:checkout:orders", "StringEquals")
    irsa("shop-prod-any-sa-irsa", "system:serviceaccount:*:*", "StringLike")

    # Non-core material for the rest of the catalog: an admin task role, a role anyone can
    # assume, a plaintext secret and a :latest image (catalog-web above).
    iam.iam.attach_role_policy(RoleName="catalog-web-task", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.role("vendor-integration", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})

    # ------------------------------------------------------------------ eu-west-1
    e = Region(session, "eu-west-1", iam)
    ecr_eu = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    eun = e.network("eu-prod", "10.110")
    # A private subnet with no NAT route and no endpoints at all.
    iso = e.subnet(eun["vpc"], "eu-prod-isolated-a", "10.110.40.0/24", "a")
    e.route_table(eun["vpc"], "eu-prod-isolated", [iso])
    e.service("billing-eu", "invoice-renderer",
              e.task_definition("invoice-renderer", f"{ecr_eu}/invoice-renderer:6.0.1"),
              subnets=[iso], sg=eun["sg_app"])
    svc_patch("eu-west-1", "billing-eu", "invoice-renderer", breaker(True, True))
    e.service("billing-eu", "invoice-api", e.task_definition("invoice-api", f"{ecr_eu}/invoice-api:6.0.1"),
              subnets=eun["private"], sg=eun["sg_app"])
    svc_patch("eu-west-1", "billing-eu", "invoice-api", breaker(True, True))
    e.service("billing-eu", "notifications", e.task_definition("notifications", f"{ecr_eu}/notifications:1.4.2"),
              subnets=eun["private"], sg=eun["sg_app"])
    svc_patch("eu-west-1", "billing-eu", "notifications", breaker(False, False))
    bad += [
        f"eu-west-1 billing-eu/invoice-renderer: private subnet {iso}, no NAT, no ECR endpoints -> VPC003",
        "eu-west-1 billing-eu/notifications: no circuit breaker -> ECS001 high",
    ]
    clean += ["eu-west-1 billing-eu/invoice-api: private subnets behind a NAT gateway, breaker+rollback (patch)"]
    must += [Expect("VPC003", ("invoice-renderer", iso)), Expect("ECS001", ("notifications",), "high")]
    must_not += [Expect("VPC003", ("invoice-api",) + tuple(eun["private"])),
                 Expect("VPC002", ("invoice-api", "invoice-renderer", iso) + tuple(eun["private"])),
                 Expect("ECS001", ("invoice-api",), needs_patch=True)]

    # EKS in eu-west-1: analytics-eu's spark nodegroup can outgrow its /24; edge-eu runs on
    # Fargate only; legacy-eu on a self-managed node only.
    spark_sub = e.subnet(eun["vpc"], "eu-prod-spark-a", "10.110.50.0/24", "a")
    e.ec2.associate_route_table(RouteTableId=eun["private_rt"], SubnetId=spark_sub)
    e.eks_cluster("analytics-eu", eun["private"], eun["sg_app"])
    e.nodegroup("analytics-eu", "spark-workers", [spark_sub], "m5.xlarge", 2, 20, 4)
    e.nodegroup("analytics-eu", "core", eun["private"], "t3.medium", 2, 4, 2)
    e.eks_cluster("edge-eu", eun["private"], eun["sg_app"])
    e.fargate_profile("edge-eu", "edge", eun["private"], ["edge", "kube-system"])
    e.eks_cluster("legacy-eu", eun["private"], eun["sg_app"])
    e.self_managed_node("legacy-eu", eun["private"][0], "legacy-eu-node")
    bad += [f"eu-west-1 EKS analytics-eu/spark-workers: m5.xlarge (4 x 15 = 60 IPs/node) x maxSize 20 = 1200 IPs on /24 {spark_sub} -> VPC001"]
    clean += ["eu-west-1 EKS analytics-eu/core (t3.medium x 4 = 72 IPs on two /24s), edge-eu (Fargate only), legacy-eu (self-managed node only)"]
    must += [Expect("VPC001", ("spark-workers", spark_sub))]
    must_not += [Expect("VPC001", ("core",)),
                 Expect("EKS001", ("edge-eu",)), Expect("EKS001", ("legacy-eu",)), Expect("EKS001", ("analytics-eu",))]

    return Seeded(
        name="demo", regions=["us-east-1", "eu-west-1"],
        summary="A realistic two-region account: storefront and payments on ECS, shop-prod and "
                "analytics on EKS, ALBs, public/private/isolated subnets, NAT, VPC endpoints, IAM "
                "task roles and IRSA. Every core check fires at least once, next to clean neighbours.",
        bad=bad, clean=clean, must=must, must_not=must_not, patches=patches, secrets=[DEMO_SECRET],
    )


SCENARIOS = {
    "elb001": seed_elb001,
    "vpc001": seed_vpc001,
    "vpc002": seed_vpc002,
    "ecs001": seed_ecs001,
    "ecs-tasks": seed_ecs_tasks,
    "ecs-task-sets": seed_ecs_task_sets,
    "ecs-scheduled": seed_ecs_scheduled,
    "ecs-standalone": seed_ecs_standalone,
    "ecs-catalog": seed_ecs_catalog,
    "ecs-hardening": seed_ecs_hardening,
    "ecs-platform": seed_ecs_platform,
    "elb-catalog": seed_elb_catalog,
    "elb-traffic": seed_elb_traffic,
    "vpc-paths": seed_vpc_paths,
    "vpc-control-plane": seed_vpc_control_plane,
    "eks-catalog": seed_eks_catalog,
    "eks-access": seed_eks_access,
    "eks-addons": seed_eks_addons,
    "eks001": seed_eks001,
    "eks002": seed_eks002,
    "eks003": seed_eks003,
    "eks004": seed_eks004,
    "eks008": seed_eks008,
    "eks009": seed_eks009,
    "eks010": seed_eks010,
    "iam001": seed_iam001,
    "ecr": seed_ecr,
    "ecr-images": seed_ecr_images,
    "ecr-cross-account": seed_ecr_cross_account,
    "ecs-secrets": seed_ecs_secrets,
    "demo": seed_demo,
}


def seed(name: str, session) -> Seeded:
    seeded = SCENARIOS[name](session)
    if seeded.publish_images:
        publish_pulled_images(session, seeded.regions)
    return seeded


ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)(?::([^@]+))?(?:@(sha256:[0-9a-f]+))?$")


def publish_pulled_images(session, regions: list[str]) -> None:
    """Every image the seeded task definitions pull from the account's registries in the
    scenario's regions, pushed (a two-platform index, as `docker buildx` builds them) to its
    repository, which is created well kept if the seed made none."""
    iam = Iam(session)
    by_region = {name: Region(session, name, iam) for name in regions}
    wanted: dict[tuple[str, str], set] = {}
    for r in by_region.values():
        for page in r.ecs.get_paginator("list_task_definitions").paginate():
            for arn in page["taskDefinitionArns"]:
                td = r.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
                for c in td["containerDefinitions"]:
                    m = ECR_IMAGE.match(c["image"])
                    if m and m[2] in by_region and m[1] == r.account:
                        wanted.setdefault((m[2], m[3]), set()).add((m[4] or (None if m[5] else "latest"), m[5]))
    for (region, name), refs in sorted(wanted.items()):
        r = by_region[region]
        try:
            existing = r.ecr.describe_images(repositoryName=name)["imageDetails"]
        except r.ecr.exceptions.RepositoryNotFoundException:
            r.ecr_repository(name, scan_on_push=True, lifecycle=EXPIRE_UNTAGGED)
            existing = []
        tags = {t for i in existing for t in i.get("imageTags", [])}
        digests = {i["imageDigest"] for i in existing}
        for tag, digest in sorted(refs, key=str):
            if (tag and tag in tags) or (digest and digest in digests):
                continue
            r.ecr_image(name, tag, platforms=("linux/amd64", "linux/arm64/v8"), digest=digest)


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from moto_server import EndpointSession

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", required=True, help="moto endpoint, e.g. http://127.0.0.1:5000")
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    args = ap.parse_args(argv)
    if not args.endpoint.startswith(("http://127.", "http://localhost")):
        ap.error("refusing a non-loopback endpoint")
    print(json.dumps(seed(args.scenario, EndpointSession(args.endpoint, "us-east-1")).to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
