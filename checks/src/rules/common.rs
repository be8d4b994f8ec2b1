//! Pieces several rules share: which workloads pull images through a dead-end subnet, the
//! evidence chain of a placement, where an image comes from, and number formatting.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::finding::Evidence;
use crate::graph::{EcsWorkload, Egress, Graph, SubnetFacts, Workload};
use crate::model::{
    EcsCluster, EcsService, EksCluster, IamRole, Scope, Subnet, TargetHealth, TaskDefinition,
};
use crate::policy::Policy;
use crate::registry::{Ctx, Emitter};

/// Operations whose failure makes "this subnet has no path out" unprovable: a missing route
/// table, NAT gateway or endpoint would read as absence.
pub(crate) const NETWORK_OPS: [&str; 5] = [
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeNatGateways",
    "ec2:DescribeInternetGateways",
];

/// Whether the calls that would show `cluster`'s compute all succeeded: none of `eks_ops`
/// failed region-wide, for the cluster, or for one of its nodegroups or Fargate profiles (a
/// describe failure may be scoped to the child's ARN rather than the cluster's), and EC2
/// instances were listed. Checks that conclude "no compute" from absence need this.
pub(crate) fn cluster_compute_complete(
    ctx: &Ctx<'_>,
    cluster: &EksCluster,
    eks_ops: &[&str],
) -> bool {
    let name = cluster.name.as_str();
    let children = [
        format!("nodegroup/{name}/"),
        format!("fargateprofile/{name}/"),
    ];
    let scope = &cluster.scope;
    let blocked = ctx
        .inventory
        .coverage
        .gaps(&scope.account, &scope.region, eks_ops, None)
        .any(|gap| match gap.scope.as_deref() {
            None => true,
            Some(s) => {
                s == cluster.arn || s == name || children.iter().any(|c| s.contains(c.as_str()))
            }
        });
    !blocked && ctx.complete(scope, &["ec2:DescribeInstances"], None)
}

/// Whether the workload's image pulls leave through this subnet. ECS tasks on the EC2 launch
/// type are pulled by their container instance, over the instance's own network, so their
/// awsvpc subnet says nothing about the pull path.
fn pulls_images_in_subnet(graph: &Graph<'_>, w: &Workload<'_>) -> bool {
    match w {
        Workload::Ecs(w) => graph.runs_on_fargate(w),
        Workload::Nodegroup(_) | Workload::FargateProfile(_) | Workload::Node(_) => true,
    }
}

/// A workload that pulls images through subnets behind one dead-end route table. The fix
/// (a route, an endpoint on that table, endpoints in its VPC) serves every subnet of the
/// group, so a group is one finding, not one per subnet.
pub(crate) struct DeadEndPull<'a> {
    pub workload: Workload<'a>,
    /// The workload's subnets behind this route table, in subnet-id order (never empty).
    pub subnets: Vec<&'a SubnetFacts<'a>>,
}

impl<'a> DeadEndPull<'a> {
    /// The group's first subnet. Every subnet of a group shares its route table and VPC, so
    /// it answers for all of them on anything the table or the VPC decides.
    pub fn facts(&self) -> &'a SubnetFacts<'a> {
        self.subnets[0]
    }

    /// `private subnet subnet-1` or `private subnets subnet-1, subnet-2`, and the matching
    /// possessive for "route table".
    pub fn subnets_phrase(&self) -> (String, &'static str) {
        let ids: Vec<&str> = self.subnets.iter().map(|f| f.id()).collect();
        if ids.len() == 1 {
            (format!("private subnet {}", ids[0]), "its")
        } else {
            (format!("private subnets {}", ids.join(", ")), "their")
        }
    }

    /// The chain from the workload through each subnet to the shared dead-end route.
    pub fn evidence(&self) -> Vec<Evidence> {
        let w = &self.workload;
        let mut ev = Vec::new();
        for facts in &self.subnets {
            ev.push(Evidence::new(w.arn(), w.placement(facts.id())));
            ev.push(Evidence::new(&facts.subnet.arn, facts.association_fact()));
        }
        if let Some(rt) = self.facts().route_table {
            ev.push(Evidence::new(&rt.arn, self.facts().egress_fact()));
        }
        ev
    }
}

/// Workloads that pull images through subnets whose route table has no usable default route
/// at all ([`Egress::None`]; `Indirect` egress is never treated as "no path"), in scopes
/// where the network data was collected completely, grouped per (workload, route table).
pub(crate) fn dead_end_pulls<'a>(ctx: &Ctx<'a>) -> Vec<DeadEndPull<'a>> {
    let graph: &'a Graph<'a> = ctx.graph;
    let mut groups: BTreeMap<(String, String), DeadEndPull<'a>> = BTreeMap::new();
    for facts in graph.all_subnet_facts() {
        if facts.egress != Egress::None || !ctx.complete(&facts.subnet.scope, &NETWORK_OPS, None) {
            continue;
        }
        // Egress::None is only decided from a route table, so there always is one here.
        let table = facts.route_table.map_or(facts.id(), |rt| rt.id.as_str());
        for w in &facts.workloads {
            if pulls_images_in_subnet(graph, w) {
                groups
                    .entry((w.arn().to_string(), table.to_string()))
                    .or_insert_with(|| DeadEndPull {
                        workload: *w,
                        subnets: Vec::new(),
                    })
                    .subnets
                    .push(facts);
            }
        }
    }
    groups
        .into_values()
        .map(|mut g| {
            g.subnets.sort_by(|a, b| a.id().cmp(b.id()));
            g
        })
        .collect()
}

/// Fargate ECS workloads whose tasks sit behind a dead-end route table
/// ([`dead_end_pulls`]), with the task definition they run. A workload whose task definition
/// was not collected is reported unknown: whether it `does` (logs with awslogs, injects
/// secrets…) is unknown.
pub(crate) fn dead_end_services<'a>(
    ctx: &Ctx<'a>,
    out: &mut Emitter<'_>,
    does: &str,
) -> Vec<(DeadEndPull<'a>, EcsWorkload<'a>, &'a TaskDefinition)> {
    let mut found = Vec::new();
    for pull in dead_end_pulls(ctx) {
        let Workload::Ecs(w) = pull.workload else {
            continue;
        };
        match ctx.graph.task_definition(w.task_definition()) {
            Some(td) => found.push((pull, w, td)),
            None => out.unknown(
                w.scope(),
                Some(w.resource()),
                format!(
                    "task definition {} of {} was not collected; cannot tell whether it {does}",
                    w.task_definition(),
                    w.describe()
                ),
            ),
        }
    }
    found
}

/// The ECS cluster a service runs in. When it was not collected because DescribeClusters
/// failed for it, the service is reported unknown: `what` (of the cluster) could not be read.
pub(crate) fn service_cluster<'a>(
    ctx: &Ctx<'a>,
    out: &mut Emitter<'_>,
    svc: &EcsService,
    what: &str,
) -> Option<&'a EcsCluster> {
    let cluster = ctx.graph.ecs_cluster(&svc.cluster_arn);
    if cluster.is_none()
        && !ctx.complete(
            &svc.scope,
            &["ecs:DescribeClusters"],
            Some(&svc.cluster_arn),
        )
    {
        out.unknown(
            &svc.scope,
            Some(&svc.arn),
            format!("the cluster's {what} could not be read"),
        );
    }
    cluster
}

/// Every role with its parsed trust policy. A trust policy that does not parse is reported
/// unknown for the role (never a panic, never a pass); roles without one are skipped.
pub(crate) fn trust_policies<'a>(
    roles: &'a [IamRole],
    out: &mut Emitter<'_>,
) -> Vec<(&'a IamRole, Policy)> {
    let mut parsed = Vec::new();
    for role in roles {
        let Some(text) = role.trust_policy.as_deref() else {
            continue;
        };
        match Policy::parse(text) {
            Ok(p) => parsed.push((role, p)),
            Err(e) => out.unknown(
                &role.scope,
                Some(&role.arn),
                format!(
                    "trust policy of role `{}` could not be parsed: {e}",
                    role.name
                ),
            ),
        }
    }
    parsed
}

/// `subnet-a: 1, subnet-b: 2` (negative emulator counts shown as 0).
pub(crate) fn free_ips_by_subnet(subnets: &[&Subnet]) -> String {
    subnets
        .iter()
        .map(|s| format!("{}: {}", s.id, s.free_ips_clamped()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an image is pulled from, as far as the pull path is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageSource<'s> {
    /// A private ECR registry in `region` (reachable through that region's ECR endpoints).
    Ecr { region: &'s str },
    /// A public registry only reachable over the internet (Docker Hub, ECR Public, ghcr.io…).
    Public,
    /// Any other registry: it may live inside the VPC or behind a private route.
    Other,
}

static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    // Classic (`.amazonaws.com`, `.amazonaws.com.cn`) and dual-stack (`dkr-ecr….on.aws`) hosts.
    Regex::new(
        r"^\d{12}\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$",
    )
    .expect("the ECR host pattern is valid")
});

/// Registries that serve only from the public internet. ECR interface endpoints do not serve
/// ECR Public; no VPC endpoint serves the others.
const PUBLIC_REGISTRIES: [&str; 14] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
    "public.ecr.aws",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.k8s.io",
    "mcr.microsoft.com",
    "registry.gitlab.com",
    "nvcr.io",
    "docker.elastic.co",
    "cgr.dev",
];
const PUBLIC_REGISTRY_SUFFIXES: [&str; 3] = [".gcr.io", ".pkg.dev", ".azurecr.io"];

/// Classifies an image reference (`nginx:latest`, `ghcr.io/o/app@sha256:…`,
/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1`).
pub(crate) fn image_source(image: &str) -> ImageSource<'_> {
    // Docker's rule: the first path component is a registry host only when it contains a
    // dot or a port, or is `localhost`; otherwise the image is on Docker Hub.
    let host = match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.split(':').next().unwrap_or(first)
        }
        _ => return ImageSource::Public,
    };
    if let Some(caps) = ECR_HOST.captures(host) {
        if let Some(region) = caps.get(1).or_else(|| caps.get(2)) {
            return ImageSource::Ecr {
                region: region.as_str(),
            };
        }
    }
    let host_lower = host.to_ascii_lowercase();
    if PUBLIC_REGISTRIES.contains(&host_lower.as_str())
        || PUBLIC_REGISTRY_SUFFIXES
            .iter()
            .any(|s| host_lower.ends_with(s))
    {
        ImageSource::Public
    } else {
        ImageSource::Other
    }
}

/// Every ECS workload (live services, their PRIMARY and ACTIVE task sets) with the task
/// definition it runs now (those whose task definition was not collected are left out;
/// their checks name the gap through `needs`).
pub(crate) fn running_task_definitions<'a>(
    ctx: &Ctx<'a>,
) -> impl Iterator<Item = (EcsWorkload<'a>, &'a TaskDefinition)> + 'a {
    let graph: &'a Graph<'a> = ctx.graph;
    graph
        .ecs_workloads()
        .iter()
        .filter_map(move |w| Some((*w, graph.task_definition(w.task_definition())?)))
}

// ---------------------------------------------------------------- ELB data, explained

/// Why a value collected per resource is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The call failed for this resource itself: the engine already reports an unknown for
    /// it through the check's `needs`, so the check adds none.
    ReportedByEngine,
    /// The call failed region-wide: the engine reports the region, the check names the
    /// resource it leaves undecided.
    RegionWide,
    /// No failure is recorded: the collector did not ask.
    NotCollected,
}

/// Why `op`'s data for `resource` is missing, from the coverage of `scope`.
pub(crate) fn missing(ctx: &Ctx<'_>, scope: &Scope, op: &str, resource: &str) -> Missing {
    let ops = [op];
    let gaps: Vec<_> = ctx
        .inventory
        .coverage
        .gaps(&scope.account, &scope.region, &ops, Some(resource))
        .collect();
    if gaps.iter().any(|g| g.scope.as_deref() == Some(resource)) {
        Missing::ReportedByEngine
    } else if gaps.is_empty() {
        Missing::NotCollected
    } else {
        Missing::RegionWide
    }
}

/// `3 unhealthy, 1 draining`: targets per state, in the order an operator reads them (the
/// failing states first, states AWS may add later last, by name).
pub(crate) fn state_counts(targets: &[TargetHealth]) -> String {
    const ORDER: [&str; 7] = [
        "unhealthy",
        "unhealthy.draining",
        "initial",
        "draining",
        "unused",
        "unavailable",
        "healthy",
    ];
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for t in targets {
        let state = t.state.to_ascii_lowercase();
        let rank = ORDER
            .iter()
            .position(|s| *s == state)
            .unwrap_or(ORDER.len());
        *counts.entry((rank, state)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((_, state), n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_image_registries() {
        let ecr = |r| ImageSource::Ecr { region: r };
        for (image, want) in [
            ("nginx:latest", ImageSource::Public),
            ("nginx", ImageSource::Public),
            ("library/nginx@sha256:abc", ImageSource::Public),
            ("docker.io/library/nginx:1", ImageSource::Public),
            ("public.ecr.aws/nginx/nginx:1", ImageSource::Public),
            ("ghcr.io/org/app:2", ImageSource::Public),
            ("europe-docker.pkg.dev/p/r/app:1", ImageSource::Public),
            (
                "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1",
                ecr("us-east-1"),
            ),
            (
                "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web",
                ecr("cn-north-1"),
            ),
            (
                "111122223333.dkr.ecr-fips.us-east-2.amazonaws.com/web:1",
                ecr("us-east-2"),
            ),
            (
                "111122223333.dkr-ecr.eu-west-1.on.aws/web:1",
                ecr("eu-west-1"),
            ),
            ("registry.internal.example:5000/app:1", ImageSource::Other),
            ("localhost/app", ImageSource::Other),
            // Not an account id: not ECR.
            (
                "abc.dkr.ecr.us-east-1.amazonaws.com/web",
                ImageSource::Other,
            ),
        ] {
            assert_eq!(image_source(image), want, "{image}");
        }
    }
}
