//! Judgment several rules share, where it reads the coverage or reports unknowns (so it is
//! neither a graph fact nor policy): which workloads pull images through a dead-end subnet
//! and the evidence chain of that placement, whether a cluster's compute was read
//! completely, a service's cluster, the roles whose trust policy parses, and how the ECR
//! checks name a registry's repositories, and which workloads inject a secret. Not a
//! check; no check imports another check's module.

use std::collections::BTreeMap;

use crate::finding::{Cost, Evidence};
use crate::graph::{EcrPull, EcsWorkload, Egress, Graph, SubnetFacts, Workload};
use crate::model::{
    EcrRepository, EcsCluster, EcsService, EksCluster, IamRole, Scope, TaskDefinition,
};
use crate::policy::Policy;
use crate::prices::PriceTable;
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

/// The EKS calls that show a cluster's compute besides its own description: its
/// nodegroups and Fargate profiles.
pub(crate) const CLUSTER_COMPUTE_OPS: [&str; 4] = [
    "eks:ListNodegroups",
    "eks:DescribeNodegroup",
    "eks:ListFargateProfiles",
    "eks:DescribeFargateProfile",
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

/// The distinct Availability Zones of `subnets` (a subnet whose zone is not known counts as
/// one of its own): the zones an interface endpoint serving them is billed in.
pub(crate) fn availability_zones<'a>(
    subnets: impl IntoIterator<Item = &'a SubnetFacts<'a>>,
) -> usize {
    let zones: std::collections::BTreeSet<&str> = subnets
        .into_iter()
        .map(|f| {
            f.subnet
                .availability_zone
                .as_deref()
                .unwrap_or(f.subnet.id.as_str())
        })
        .collect();
    zones.len()
}

/// What adding the interface endpoints among `shorts` (`logs`, `ecr.dkr`) that `facts`'s
/// VPC has none of costs a month in `azs` zones, at the region's list price; `None` when
/// none is missing (one with private DNS off is fixed in place, for nothing).
pub(crate) fn missing_endpoints_cost(
    facts: &SubnetFacts<'_>,
    shorts: &[&str],
    azs: usize,
) -> Option<Cost> {
    let missing: Vec<&str> = shorts
        .iter()
        .copied()
        .filter(|short| facts.interface_endpoint(short).is_none())
        .collect();
    PriceTable::bundled()
        .region(&facts.subnet.scope.region)
        .interface_endpoints(&missing, azs)
}

/// Whether `cluster` is ACTIVE with no compute at all, as far as complete data shows: no
/// nodegroup with nodes, no active Fargate profile, no node instance, Auto Mode off. False
/// when a call that could have shown compute failed.
pub(crate) fn idle_cluster(ctx: &Ctx<'_>, cluster: &EksCluster) -> bool {
    cluster.status.eq_ignore_ascii_case("ACTIVE")
        && cluster_compute_complete(ctx, cluster, &CLUSTER_COMPUTE_OPS)
        && ctx.graph.cluster_compute(cluster).is_empty()
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

    /// How many Availability Zones the group's subnets span (a subnet whose zone is not
    /// known counts as one of its own): the zones an interface endpoint serving them is
    /// billed in.
    pub fn availability_zones(&self) -> usize {
        availability_zones(self.subnets.iter().copied())
    }

    /// What the fix costs a month if it adds the interface endpoints among `shorts` that
    /// the VPC lacks, in the group's zones ([`missing_endpoints_cost`]).
    pub fn missing_endpoints_cost(&self, shorts: &[&str]) -> Option<Cost> {
        missing_endpoints_cost(self.facts(), shorts, self.availability_zones())
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
    dead_end_groups(ctx, pulls_images_in_subnet)
}

/// Workloads `keep` selects, placed in subnets whose route table has no usable default
/// route at all ([`Egress::None`]), in scopes where the network data was collected
/// completely, grouped per (workload, route table) as [`dead_end_pulls`] groups them: what
/// traffic of theirs leaves through those subnets is the caller's to say.
pub(crate) fn dead_end_groups<'a>(
    ctx: &Ctx<'a>,
    keep: impl Fn(&Graph<'_>, &Workload<'_>) -> bool,
) -> Vec<DeadEndPull<'a>> {
    let graph: &'a Graph<'a> = ctx.graph;
    let mut groups: BTreeMap<(String, String), DeadEndPull<'a>> = BTreeMap::new();
    for facts in graph.all_subnet_facts() {
        if facts.egress != Egress::None || !ctx.complete(&facts.subnet.scope, &NETWORK_OPS, None) {
            continue;
        }
        // Egress::None is only decided from a route table, so there always is one here.
        let table = facts.route_table.map_or(facts.id(), |rt| rt.id.as_str());
        for w in &facts.workloads {
            if keep(graph, w) {
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

/// Every role with its parsed trust policy ([`Graph::trust_policies`]). A trust policy that
/// does not parse is reported unknown for the role (never a panic, never a pass); roles
/// without one are skipped.
pub(crate) fn trust_policies<'a>(
    ctx: &Ctx<'a>,
    out: &mut Emitter<'_>,
) -> Vec<(&'a IamRole, &'a Policy)> {
    let graph: &'a Graph<'a> = ctx.graph;
    let mut parsed = Vec::new();
    for (role, policy) in graph.trust_policies() {
        match policy {
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

/// Every region's ECR repositories, by registry (account and region, in inventory order),
/// those running workloads pull from first.
pub(crate) fn ecr_registries<'a>(ctx: &Ctx<'a>) -> Vec<(&'a Scope, Vec<&'a EcrRepository>)> {
    let mut scopes: Vec<&'a Scope> = Vec::new();
    for r in &ctx.inventory.ecr_repositories {
        if !scopes.contains(&&r.scope) {
            scopes.push(&r.scope);
        }
    }
    scopes
        .into_iter()
        .map(|scope| (scope, ctx.graph.ecr_repositories_in(scope)))
        .collect()
}

/// Who pulls from the repository (``service `web`, scheduled task `nightly` …``), empty
/// when no running workload does.
pub(crate) fn ecr_pullers(ctx: &Ctx<'_>, repo: &EcrRepository) -> String {
    let mut names: Vec<String> = Vec::new();
    for p in ctx.graph.repository_pullers(&repo.arn) {
        if !names.contains(&p.workload) {
            names.push(p.workload.clone());
        }
    }
    names.join(", ")
}

/// How many repositories a message names before "and N more" (the evidence has them all).
const NAMED_IN_MESSAGE: usize = 5;

/// A message's list of repositories, pulled-from ones first with who pulls them:
/// ``\`web\` (pulled by service \`web\`), \`tools\` and 3 more``.
pub(crate) fn ecr_repository_list(ctx: &Ctx<'_>, repos: &[&EcrRepository]) -> String {
    let mut parts: Vec<String> = repos
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|r| match ecr_pullers(ctx, r) {
            p if p.is_empty() => format!("`{}`", r.name),
            p => format!("`{}` (pulled by {p})", r.name),
        })
        .collect();
    if repos.len() > NAMED_IN_MESSAGE {
        parts.push(format!("{} more", repos.len() - NAMED_IN_MESSAGE));
    }
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.concat(),
    }
}

/// The evidence of one repository of a registry-wide finding: `fact`, and who pulls from it.
pub(crate) fn ecr_repository_evidence(ctx: &Ctx<'_>, repo: &EcrRepository, fact: &str) -> Evidence {
    let pullers = ecr_pullers(ctx, repo);
    let pulled = if pullers.is_empty() {
        String::from("; no running ECS workload pulls from it")
    } else {
        format!("; pulled by {pullers}")
    };
    Evidence::new(
        &repo.arn,
        format!("repository `{}`: {fact}{pulled}", repo.name),
    )
}

/// "1 of 4 ECR repositories in us-east-1 has", "2 of 4 … have" for a message: `verb` is
/// (singular, plural), agreeing with `failing`.
pub(crate) fn ecr_count(
    failing: usize,
    total: usize,
    region: &str,
    (one, many): (&str, &str),
) -> String {
    format!(
        "{failing} of {total} ECR repositor{} in {region} {}",
        if total == 1 { "y" } else { "ies" },
        if failing == 1 { one } else { many }
    )
}

/// The running workloads in one account that pull one image reference (`web:1.4`,
/// `web@sha256:…`) from one ECR repository: what the image checks judge, so one missing or
/// expiring image is one finding per account however many workloads pull it.
pub(crate) struct ImagePulls<'a> {
    /// The pulling workloads' account and region.
    pub scope: &'a Scope,
    pub repository_arn: &'a str,
    /// `web:1.4`, `web@sha256:…`.
    pub image: String,
    pub pulls: Vec<&'a EcrPull<'a>>,
}

impl ImagePulls<'_> {
    /// Who pulls it: see [`pullers_phrase`].
    pub fn pullers(&self) -> String {
        pullers_phrase(&self.pulls)
    }

    /// One evidence line per pulling container.
    pub fn evidence(&self) -> Vec<Evidence> {
        self.pulls
            .iter()
            .map(|p| {
                Evidence::new(
                    p.workload.arn(),
                    format!(
                        "{} runs `{}` in container `{}` (task definition {})",
                        p.workload.describe(),
                        p.image,
                        p.container,
                        p.task_definition.arn
                    ),
                )
            })
            .collect()
    }
}

/// `service \`web\``, `service \`web\` and scheduled task \`nightly\` (…)`, or
/// `service \`web\` and 3 more workloads`: the workloads of `pulls`, each once.
pub(crate) fn pullers_phrase(pulls: &[&EcrPull<'_>]) -> String {
    let mut names: Vec<String> = Vec::new();
    for p in pulls {
        let name = p.workload.describe();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    workloads_phrase(&names)
}

/// `service \`web\``, `service \`web\` and service \`api\``, or `service \`web\` and 3 more
/// workloads`: distinct workload descriptions, in a message.
pub(crate) fn workloads_phrase(names: &[String]) -> String {
    match names.len() {
        0 | 1 => names.concat(),
        2 => format!("{} and {}", names[0], names[1]),
        n => format!("{} and {} more workloads", names[0], n - 1),
    }
}

/// Every image reference running workloads pull from ECR, grouped by the workloads'
/// account and region, in repository and reference order.
pub(crate) fn image_pulls<'a>(ctx: &Ctx<'a>) -> Vec<ImagePulls<'a>> {
    let mut groups: BTreeMap<(&'a Scope, &'a str, String), Vec<&'a EcrPull<'a>>> = BTreeMap::new();
    for (arn, pulls) in ctx.graph.all_ecr_pulls() {
        for p in pulls {
            groups
                .entry((p.workload.scope(), arn, p.short_image()))
                .or_default()
                .push(p);
        }
    }
    groups
        .into_iter()
        .map(|((scope, repository_arn, image), pulls)| ImagePulls {
            scope,
            repository_arn,
            image,
            pulls,
        })
        .collect()
}

/// Why an image in `repository_arn` could not be judged when its registry was not listed.
pub(crate) fn unlisted_registry_reason(ctx: &Ctx<'_>, repository_arn: &str) -> String {
    let mut parts = repository_arn.split(':');
    let (region, account) = (parts.nth(3).unwrap_or(""), parts.next().unwrap_or(""));
    let failed =
        !ctx.inventory
            .coverage
            .complete(account, region, &["ecr:DescribeRepositories"], None);
    if failed {
        format!("the ECR repositories of account {account} in {region} could not be listed")
    } else if ctx.inventory.coverage.reached(account, region) {
        format!("the ECR repositories of account {account} in {region} were not listed in this run")
    } else {
        format!(
            "its repository is in account {account}, {region}, which this run did not audit (audit that account and region too, for example in a fleet run)"
        )
    }
}

/// The workloads that inject a set of secret references (as messages name them, each once)
/// and the evidence of each reference (the workload's revision, the container's reference),
/// appended to `evidence` without repeats.
pub fn secret_injectors(
    uses: &[&crate::graph::SecretUse<'_>],
    evidence: &mut Vec<Evidence>,
) -> Vec<String> {
    let mut who: Vec<String> = Vec::new();
    for u in uses {
        let w = u.workload.describe();
        if !who.contains(&w) {
            who.push(w);
        }
        for e in [
            Evidence::new(
                u.workload.arn(),
                u.workload.runs_fact(&u.task_definition.label()),
            ),
            Evidence::new(
                &u.task_definition.arn,
                format!(
                    "container `{}` {} is `{}`",
                    u.container,
                    u.field.describe(),
                    u.value_from
                ),
            ),
        ] {
            if !evidence.contains(&e) {
                evidence.push(e);
            }
        }
    }
    who
}
