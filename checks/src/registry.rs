//! The check registry and the engine that runs checks over a graph.
//!
//! A check is declared with [`declare_check!`](crate::declare_check): its doc comment *is*
//! its documentation (`audit explain`, SARIF rule help, ticket body), so the two cannot drift.

use std::collections::BTreeSet;

use crate::crosswalk::{Catalog, Control};
use crate::date::{parse_date, Date};
use crate::finding::{fingerprint, Evidence, Finding, Note, Severity, Unknown};
use crate::graph::Graph;
use crate::model::{CallStatus, Coverage, EcrPuller, Inventory, Scope};

/// Sections every check's documentation must have, in this order.
pub const DOC_SECTIONS: [&str; 5] = [
    "What it finds",
    "Why it matters",
    "How to confirm",
    "How to fix",
    "References",
];

/// A registered check.
#[derive(Debug)]
pub struct Check {
    /// Stable code, never reused: `ELB001`.
    pub code: &'static str,
    /// Kebab-case name of the problem: `awsvpc-service-on-instance-target-group`.
    pub name: &'static str,
    /// The highest severity the check reports.
    pub severity: Severity,
    /// Every severity the check may report, highest first (`severity` is the first).
    pub severities: &'static [Severity],
    /// The source file declaring it, so convention tests can read the check's code.
    pub file: &'static str,
    /// One line for `audit checks`.
    pub summary: &'static str,
    /// Raw doc-comment text; see [`Check::documentation`].
    pub doc: &'static str,
    /// Operations (`ecs:DescribeServices`) whose failure leaves this check unable to decide,
    /// besides [`ECS_WORKLOAD_OPS`] when `ecs_workloads` is set and [`EKS_COMPUTE_OPS`] when
    /// `eks_compute` is; see [`Check::needs`].
    pub needs: &'static [&'static str],
    /// Whether it judges every ECS workload, and so needs every call that finds them.
    pub ecs_workloads: bool,
    /// Whether it judges EKS clusters by their compute, and so needs every call that shows it.
    pub eks_compute: bool,
    /// Whether what it says of a resource depends on other accounts of a fleet run (an ECR
    /// repository's findings name who pulls from it, in any account). A fleet run checks
    /// each account on its own and drops its records; these checks run once at the end,
    /// over every account's registries and the pulls each account left
    /// (`Inventory::ecr_pullers`), and must read nothing else of the inventory.
    pub fleet_wide: bool,
    /// The controls of other catalogs (Security Hub FSBP, AWS Config, Prowler) it answers.
    pub controls: &'static [Control],
    pub run: fn(&Ctx<'_>, &mut Emitter<'_>),
}

/// The calls that find every ECS workload: services and their task sets, scheduled tasks
/// (EventBridge Scheduler, EventBridge rules), standalone tasks, and the task definitions
/// they run.
pub const ECS_WORKLOAD_OPS: [&str; 9] = [
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "scheduler:ListSchedules",
    "scheduler:GetSchedule",
    "events:ListRules",
    "events:ListTargetsByRule",
];

/// The calls that show what an EKS cluster runs on: the cluster, its nodegroups and Fargate
/// profiles, and the EC2 instances tagged as its nodes.
pub const EKS_COMPUTE_OPS: [&str; 7] = [
    "eks:ListClusters",
    "eks:DescribeCluster",
    "eks:ListNodegroups",
    "eks:DescribeNodegroup",
    "eks:ListFargateProfiles",
    "eks:DescribeFargateProfile",
    "ec2:DescribeInstances",
];

impl Check {
    /// Every operation whose failure leaves the check unable to decide, without repeats.
    pub fn needs(&self) -> Vec<&'static str> {
        let workloads: &[&'static str] = if self.ecs_workloads {
            &ECS_WORKLOAD_OPS
        } else {
            &[]
        };
        let compute: &[&'static str] = if self.eks_compute {
            &EKS_COMPUTE_OPS
        } else {
            &[]
        };
        let mut all: Vec<&'static str> = Vec::new();
        for op in self.needs.iter().chain(workloads).chain(compute) {
            if !all.contains(op) {
                all.push(op);
            }
        }
        all
    }

    /// Its controls in `catalog`.
    pub fn controls_in(&self, catalog: Catalog) -> impl Iterator<Item = &'static Control> {
        self.controls.iter().filter(move |c| c.catalog == catalog)
    }

    /// `high / medium`: every severity it reports.
    pub fn severity_range(&self) -> String {
        self.severities
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The documentation as Markdown, with the doc-comment indentation removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// The body of one documentation section (`"How to fix"`), if present.
    pub fn section(&self, title: &str) -> Option<String> {
        let doc = self.documentation();
        let header = format!("## {title}");
        let start = doc.find(&header)? + header.len();
        let rest = &doc[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    }
}

/// Declares a check. Doc comments on the declaration become its documentation.
///
/// ```ignore
/// declare_check! {
///     /// ## What it finds
///     /// …
///     pub static ECS001 = {
///         code: "ECS001",
///         name: "deployment-circuit-breaker-off",
///         severity: Severity::High,
///         lower: [Severity::Medium], // optional: the other severities it reports
///         summary: "ECS service deploys without the deployment circuit breaker",
///         needs: ["ecs:DescribeServices"],
///         // optional: the controls of other catalogs it answers (crate::crosswalk)
///         controls: [fsbp("Svc.1"), prowler("svc_check").partial("why they differ")],
///         run: run,
///     };
/// }
/// ```
#[macro_export]
macro_rules! declare_check {
    (
        $(#[doc = $doc:expr])*
        pub static $ident:ident = {
            code: $code:literal,
            name: $name:literal,
            severity: $sev:expr,
            $(lower: [$($lower:expr),* $(,)?],)?
            summary: $summary:literal,
            needs: [$($need:literal),* $(,)?],
            $(ecs_workloads: $workloads:literal,)?
            $(eks_compute: $compute:literal,)?
            $(fleet_wide: $fleet:literal,)?
            $(controls: [$($control:expr),* $(,)?],)?
            run: $run:path $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $ident: $crate::registry::Check = $crate::registry::Check {
            code: $code,
            name: $name,
            severity: $sev,
            severities: &[$sev $($(, $lower)*)?],
            file: file!(),
            summary: $summary,
            doc: concat!($($doc, "\n"),*),
            needs: &[$($need),*],
            ecs_workloads: false $(|| $workloads)?,
            eks_compute: false $(|| $compute)?,
            fleet_wide: false $(|| $fleet)?,
            controls: &[$($($control),*)?],
            run: $run,
        };
    };
}

/// What a check sees.
pub struct Ctx<'a> {
    pub graph: &'a Graph<'a>,
    pub inventory: &'a Inventory,
    /// The checks of this run.
    running: &'a [&'a Check],
}

impl Ctx<'_> {
    /// Whether the check `code` is part of this run: where two checks could count the same
    /// cost, the one that defers to the other does so only when the other runs.
    pub fn runs(&self, code: &str) -> bool {
        self.running.iter().any(|c| c.code == code)
    }

    /// True when none of `ops` failed for `resource` (or region-wide) in this scope. Checks
    /// whose conclusion rests on the *absence* of something must not report a finding
    /// where this is false; the engine reports those scopes as unknown.
    pub fn complete(&self, scope: &Scope, ops: &[&str], resource: Option<&str>) -> bool {
        self.inventory
            .coverage
            .complete(&scope.account, &scope.region, ops, resource)
    }

    /// Why `op`'s data for `resource` is missing, from the coverage of `scope`.
    pub fn why_missing(&self, scope: &Scope, op: &str, resource: &str) -> Missing {
        let ops = [op];
        let gaps: Vec<_> = self
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

    /// The date the data describes (`collected_at`), as (year, month, day); `None` when the
    /// inventory does not say.
    pub fn as_of(&self) -> Option<Date> {
        parse_date(self.inventory.collected_at.as_deref()?)
    }
}

/// Why a value collected per resource is missing ([`Ctx::why_missing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The call failed for this resource itself: the engine already reports an unknown for
    /// it through the check's `needs`, so the check adds none.
    ReportedByEngine,
    /// The call failed region-wide: the engine reports the region, the check names the
    /// resource it leaves undecided.
    RegionWide,
    /// No failure is recorded: the collector did not ask.
    NotCollected,
}

/// What a check reports, before the engine stamps it with the check's identity.
pub struct Report {
    pub severity: Severity,
    /// ARN of the resource the finding is about.
    pub resource: String,
    /// Distinguishes two findings of this check on the same resource (a target group ARN,
    /// a subnet id); empty when there can be only one. Part of the fingerprint.
    pub discriminator: String,
    pub message: String,
    pub remediation: String,
    pub evidence: Vec<Evidence>,
}

/// Collects what one check reports.
pub struct Emitter<'c> {
    check: &'c Check,
    findings: Vec<Finding>,
    unknowns: Vec<Unknown>,
    notes: Vec<Note>,
}

impl<'c> Emitter<'c> {
    pub fn new(check: &'c Check) -> Self {
        Emitter {
            check,
            findings: Vec::new(),
            unknowns: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Reports a finding. A second report with the same identity (fingerprint) is the same
    /// problem seen through another workload (two task sets of one service running the same
    /// mistake): its evidence joins the first finding's rather than opening a second ticket.
    /// Returns the finding, for what only some checks add (its cost).
    pub fn report(&mut self, scope: &Scope, r: Report) -> &mut Finding {
        let fp = fingerprint(self.check.code, scope, &r.resource, &r.discriminator);
        if let Some(i) = self.findings.iter().position(|f| f.fingerprint == fp) {
            let first = &mut self.findings[i];
            for e in r.evidence {
                if !first.evidence.contains(&e) {
                    first.evidence.push(e);
                }
            }
            return first;
        }
        self.findings.push(Finding {
            check: self.check.code.to_string(),
            name: self.check.name.to_string(),
            severity: r.severity,
            account: scope.account.clone(),
            region: scope.region.clone(),
            resource: r.resource,
            message: r.message,
            remediation: r.remediation,
            evidence: r.evidence,
            fingerprint: fp,
            change: None,
            cost: None,
            owner: None,
        });
        self.findings.last_mut().expect("just pushed")
    }

    /// A remark about the run as a whole (stale reference data, say), shown once.
    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(Note {
            check: self.check.code.to_string(),
            name: self.check.name.to_string(),
            message: message.into(),
        });
    }

    /// The check could not decide for `resource` (or the whole scope) for `reason`.
    pub fn unknown(&mut self, scope: &Scope, resource: Option<&str>, reason: impl Into<String>) {
        self.unknowns.push(Unknown {
            check: self.check.code.to_string(),
            name: self.check.name.to_string(),
            account: scope.account.clone(),
            region: scope.region.clone(),
            resource: resource.map(str::to_string),
            reason: reason.into(),
        });
    }
}

/// Findings, unknowns and notes of a set of checks.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub unknowns: Vec<Unknown>,
    pub notes: Vec<Note>,
}

/// Runs `checks` over `inventory`: builds the graph once, runs each check, and reports as
/// unknown every scope where an operation a check needs did not succeed.
pub fn run(inventory: &Inventory, checks: &[&Check]) -> Outcome {
    let (mut out, _) = execute(inventory, checks, |_| true);
    out.unknowns
        .extend(gap_unknowns(&inventory.coverage, checks));
    out.settle();
    out
}

/// One account of a fleet run: every check of `checks` but the fleet-wide ones, over the
/// account's inventory (with what it references in other accounts). The unknowns of
/// failed calls are left to [`gap_unknowns`] over the run's whole coverage, as calls made
/// for later accounts can still fail in this one. Also returns the account's ECR pulls,
/// for the fleet-wide checks at the end.
pub fn run_account(inventory: &Inventory, checks: &[&Check]) -> (Outcome, Vec<EcrPuller>) {
    let (out, graph) = execute(inventory, checks, |c| !c.fleet_wide);
    (out, graph.own_pullers())
}

/// The end of a fleet run: the fleet-wide checks of `checks`, over every account's
/// registries and the pullers the accounts left. Gap unknowns as in [`run_account`].
pub fn run_fleet_wide(inventory: &Inventory, checks: &[&Check]) -> Outcome {
    execute(inventory, checks, |c| c.fleet_wide).0
}

/// Runs the checks of `checks` that `which` picks, as part of a run of all of `checks`.
fn execute<'i>(
    inventory: &'i Inventory,
    checks: &[&Check],
    which: impl Fn(&Check) -> bool,
) -> (Outcome, Graph<'i>) {
    let graph = Graph::build(inventory);
    let ctx = Ctx {
        graph: &graph,
        inventory,
        running: checks,
    };
    let mut out = Outcome::default();
    for check in checks.iter().filter(|c| which(c)) {
        let mut e = Emitter::new(check);
        (check.run)(&ctx, &mut e);
        out.findings.append(&mut e.findings);
        out.unknowns.append(&mut e.unknowns);
        out.notes.append(&mut e.notes);
    }
    (out, graph)
}

/// Each check's unknowns for the scopes where an operation it needs did not succeed.
pub fn gap_unknowns(coverage: &Coverage, checks: &[&Check]) -> Vec<Unknown> {
    let mut unknowns = Vec::new();
    for check in checks {
        for gap in coverage.failures() {
            let op = gap.op();
            if !check.needs().contains(&op.as_str()) {
                continue;
            }
            let status = match gap.status {
                CallStatus::AccessDenied => "access denied",
                CallStatus::NotAvailable => "not available",
                CallStatus::Failed => "failed",
                CallStatus::Ok => unreachable!("failures() yields no Ok entries"),
            };
            let code = gap.error_code.as_deref().unwrap_or("no error code");
            unknowns.push(Unknown {
                check: check.code.to_string(),
                name: check.name.to_string(),
                account: gap.account.clone(),
                region: gap.region.clone(),
                resource: gap.scope.clone(),
                reason: format!("{op} {status} ({code})"),
            });
        }
    }
    unknowns
}

impl Outcome {
    /// Adds another part of the same run (another account, the fleet-wide checks).
    pub fn absorb(&mut self, other: Outcome) {
        self.findings.extend(other.findings);
        self.unknowns.extend(other.unknowns);
        self.notes.extend(other.notes);
    }

    /// In report order, each finding, unknown and note once: identical findings from two
    /// detection paths of one check (or two accounts' views of one resource) collapse into
    /// the first.
    pub fn settle(&mut self) {
        let mut seen = BTreeSet::new();
        self.findings.retain(|f| seen.insert(f.fingerprint.clone()));
        sort_findings(&mut self.findings);
        self.unknowns.sort();
        self.unknowns.dedup();
        self.notes.sort();
        self.notes.dedup();
    }
}

/// The order reports list findings in: worst first, then by check, account, region and
/// resource.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| {
            (&a.check, &a.account, &a.region, &a.resource, &a.fingerprint).cmp(&(
                &b.check,
                &b.account,
                &b.region,
                &b.resource,
                &b.fingerprint,
            ))
        })
    });
}

/// Whether a check pattern (a code in any case, a name, or a glob over either: `ecs00?`,
/// `*-eks-*`) matches the check with this code and name.
pub fn check_pattern_matches(pattern: &str, code: &str, name: &str) -> bool {
    crate::model::glob_match(&pattern.to_ascii_uppercase(), code)
        || crate::model::glob_match(&pattern.to_ascii_lowercase(), name)
}

/// Picks checks for a run: `include` (empty = all) and `skip` are lists of check codes
/// (case-insensitive), names, or globs over either (`VPC*`, `*-eks-*`). A pattern that
/// matches no check is an error naming it, so a typo never silently runs nothing; so is a
/// `skip` that leaves no check, whose empty report would read as all clear.
pub fn select<'c>(
    all: &[&'c Check],
    include: &[String],
    skip: &[String],
) -> Result<Vec<&'c Check>, String> {
    let matches = |pattern: &str, c: &Check| check_pattern_matches(pattern.trim(), c.code, c.name);
    for (flag, patterns) in [("--checks", include), ("--skip", skip)] {
        if let Some(p) = patterns.iter().find(|p| !all.iter().any(|c| matches(p, c))) {
            return Err(format!(
                "{flag}: `{p}` matches no check (`audit checks` lists them)"
            ));
        }
    }
    let selected: Vec<&'c Check> = all
        .iter()
        .copied()
        .filter(|c| include.is_empty() || include.iter().any(|p| matches(p, c)))
        .filter(|c| !skip.iter().any(|p| matches(p, c)))
        .collect();
    if selected.is_empty() {
        let which = if include.is_empty() {
            "every check".to_string()
        } else {
            format!("every check --checks {} selects", include.join(","))
        };
        return Err(format!(
            "--skip {} skips {which}: nothing would be audited, and an empty report would read as all clear",
            skip.join(",")
        ));
    }
    Ok(selected)
}

#[cfg(test)]
mod select_tests {
    use super::*;
    use crate::rules::ALL;

    fn codes(v: &[&Check]) -> Vec<&'static str> {
        v.iter().map(|c| c.code).collect()
    }

    #[test]
    fn codes_names_and_globs_select() {
        let all = ALL.to_vec();
        assert_eq!(codes(&select(&all, &[], &[]).unwrap()), codes(&all));
        let s = |inc: &[&str], skip: &[&str]| {
            let inc: Vec<String> = inc.iter().map(|s| s.to_string()).collect();
            let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
            select(&all, &inc, &skip).map(|v| codes(&v))
        };
        assert_eq!(s(&["elb001"], &[]).unwrap(), ["ELB001"]);
        assert_eq!(s(&["idle-eks-cluster"], &[]).unwrap(), ["EKS001"]);
        let vpc_but_3: Vec<&str> = codes(&all)
            .into_iter()
            .filter(|c| c.starts_with("VPC") && *c != "VPC003")
            .collect();
        assert_eq!(s(&["VPC*"], &["vpc003"]).unwrap(), vpc_but_3);
        assert_eq!(
            s(&["*-circuit-*", "EKS001"], &[]).unwrap(),
            ["ECS001", "EKS001"]
        );
        // Skipping leaves every other check, whatever the catalog holds.
        let kept = s(&[], &["VPC*", "ELB*"]).unwrap();
        let vpc_or_elb = all
            .iter()
            .filter(|c| c.code.starts_with("VPC") || c.code.starts_with("ELB"))
            .count();
        assert_eq!(kept.len(), all.len() - vpc_or_elb, "{kept:?}");
        assert!(kept
            .iter()
            .all(|c| !c.starts_with("VPC") && !c.starts_with("ELB")));
        assert_eq!(
            s(&["ELB01"], &[]).unwrap_err(),
            "--checks: `ELB01` matches no check (`audit checks` lists them)"
        );
        assert!(s(&[], &["nope-*"])
            .unwrap_err()
            .starts_with("--skip: `nope-*`"));
        // A selection that leaves nothing is refused, however it gets there.
        assert!(s(&[], &["*"])
            .unwrap_err()
            .starts_with("--skip * skips every check: nothing would be audited"));
        assert!(s(&["ELB00?"], &["ELB*"]).unwrap_err().starts_with(
            "--skip ELB* skips every check --checks ELB00? selects: nothing would be audited"
        ));
    }
}

/// A fleet run checks each account alone and the fleet-wide checks at the end: the same
/// conclusions as one run over every account.
#[cfg(test)]
mod fleet_tests {
    use super::*;
    use crate::model::{EcrPuller, Inventory};
    use crate::rules::ALL;
    use crate::testkit::Builder;

    const WORKLOADS: &str = "210000000001";
    const REGISTRY: &str = "210000000002";
    const REGION: &str = "us-east-1";

    /// The registry account's repository, pulled from by both accounts: mutable tags, not
    /// scanned, no lifecycle policy, open to every account.
    fn registry(b: &mut Builder) {
        b.in_scope(REGISTRY, REGION);
        for op in [
            "ecr:DescribeRepositories",
            "ecr:GetRegistryScanningConfiguration",
        ] {
            b.answered(op);
        }
        b.ecr_image("shared", "sha256:aa", &["1.0"], "2026-01-01T00:00:00Z");
        let repo = b.ecr_repository_mut("shared");
        repo.image_tag_mutability = Some("MUTABLE".into());
        repo.scan_on_push = false;
        repo.lifecycle_policy = None;
        repo.policy = Some(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#
                .into(),
        );
        // A gap the fleet-wide checks need, reported once.
        let arn = b.ecr_repository_arn("other");
        b.gap("ecr:GetLifecyclePolicy", Some(&arn));
    }

    /// A workload of `account` pulling `shared:1.0` from the registry account.
    fn workloads(b: &mut Builder, account: &str, kind: &str) {
        b.in_scope(account, REGION);
        let image = format!("{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared:1.0");
        b.task_def(kind, Some("awsvpc"), &[&image]);
        match kind {
            "nightly" => {
                b.scheduled(kind, kind, &["subnet-1"]);
            }
            _ => {
                b.service(kind, kind, &["subnet-1"]);
            }
        }
    }

    /// The repository records kept of an account: without their images.
    fn kept(inv: &Inventory) -> Inventory {
        Inventory {
            ecr_repositories: inv
                .ecr_repositories
                .iter()
                .map(|r| crate::model::EcrRepository {
                    images: None,
                    ..r.clone()
                })
                .collect(),
            ecr_registries: inv.ecr_registries.clone(),
            ..Inventory::default()
        }
    }

    #[test]
    fn accounts_checked_alone_then_fleet_wide_conclude_as_one_run() {
        let mut whole = Builder::new();
        workloads(&mut whole, WORKLOADS, "nightly");
        workloads(&mut whole, WORKLOADS, "web");
        registry(&mut whole);
        workloads(&mut whole, REGISTRY, "batch");
        let mut all = whole.finish();
        all.sort();
        let one_run = run(&all, ALL);

        // The workload account, with the repository it pulls from lent to it.
        let mut a = Builder::new();
        workloads(&mut a, WORKLOADS, "nightly");
        workloads(&mut a, WORKLOADS, "web");
        registry(&mut a);
        let mut a = a.finish();
        a.sort();
        let mut b = Builder::new();
        registry(&mut b);
        workloads(&mut b, REGISTRY, "batch");
        let b = b.finish();
        let (mut split, a_pullers) = run_account(&a, ALL);
        let (b_outcome, b_pullers) = run_account(&b, ALL);
        split.absorb(b_outcome);
        let mut fleet = kept(&b);
        fleet.ecr_pullers = a_pullers.into_iter().chain(b_pullers).collect();
        fleet.coverage = all.coverage.clone();
        fleet.collected_at = all.collected_at.clone();
        split.absorb(run_fleet_wide(&fleet, ALL));
        split.unknowns.extend(gap_unknowns(&all.coverage, ALL));
        split.settle();

        assert_eq!(split.findings, one_run.findings);
        assert_eq!(split.unknowns, one_run.unknowns);
        assert_eq!(split.notes, one_run.notes);
        // The fleet-wide checks named the other account's workloads, services first as
        // one inventory lists them.
        let lifecycle = split.findings.iter().find(|f| f.check == "ECR003").unwrap();
        assert!(
            lifecycle.message.contains(
                "`shared` (pulled by service `web`, service `batch`, scheduled task `nightly` (EventBridge Scheduler))"
            ),
            "{}",
            lifecycle.message
        );
        assert!(split.findings.iter().any(|f| f.check == "ECR004"));
        assert!(split.unknowns.iter().any(|u| u.check == "ECR003"));
    }

    /// The fleet-wide checks judge each registry with the pulls from it: run one registry
    /// account at a time, with only the pulls from its repositories and its coverage (as a
    /// fleet run does, so only one account's registries and findings are in hand), they
    /// conclude as over every registry at once.
    #[test]
    fn fleet_wide_checks_one_registry_account_at_a_time_conclude_as_over_all() {
        let mut b = Builder::new();
        registry(&mut b);
        workloads(&mut b, WORKLOADS, "web");
        // The workload account is a registry too: `tools`, mutable and unscanned, pulled by
        // a service of the registry account.
        b.in_scope(WORKLOADS, REGION);
        b.answered("ecr:DescribeRepositories");
        b.answered("ecr:GetRegistryScanningConfiguration");
        b.ecr_image("tools", "sha256:bb", &["2.0"], "2026-01-01T00:00:00Z");
        b.ecr_repository_mut("tools").image_tag_mutability = Some("MUTABLE".into());
        b.in_scope(REGISTRY, REGION);
        let tools = format!("{WORKLOADS}.dkr.ecr.{REGION}.amazonaws.com/tools:2.0");
        b.task_def("batch", Some("awsvpc"), &[&tools]);
        b.service("batch", "batch", &["subnet-1"]);
        let mut all = b.finish();
        all.sort();
        let (_, pullers) = run_account(&all, ALL);
        let mut fleet = kept(&all);
        fleet.ecr_pullers = pullers.clone();
        fleet.coverage = all.coverage.clone();
        fleet.collected_at = all.collected_at.clone();
        let mut at_once = run_fleet_wide(&fleet, ALL);
        at_once.settle();

        let mut by_account = Outcome::default();
        for account in [WORKLOADS, REGISTRY] {
            let mut one = kept(&all);
            one.ecr_repositories.retain(|r| r.scope.account == account);
            one.ecr_registries.retain(|r| r.scope.account == account);
            one.ecr_pullers = pullers
                .iter()
                .filter(|p| p.registry_account() == account)
                .cloned()
                .collect();
            one.coverage = all.coverage.of_accounts(&BTreeSet::from([account]));
            one.collected_at = all.collected_at.clone();
            by_account.absorb(run_fleet_wide(&one, ALL));
        }
        by_account.settle();

        assert_eq!(by_account.findings, at_once.findings);
        assert_eq!(by_account.unknowns, at_once.unknowns);
        assert_eq!(by_account.notes, at_once.notes);
        // Both registries were judged, each naming the other account's workload.
        let mutable = |account: &str| {
            at_once
                .findings
                .iter()
                .find(|f| f.check == "ECR002" && f.account == account)
                .unwrap_or_else(|| panic!("no ECR002 for {account}: {:#?}", at_once.findings))
                .message
                .clone()
        };
        assert!(
            mutable(WORKLOADS).contains("service `batch`"),
            "{}",
            mutable(WORKLOADS)
        );
        assert!(
            mutable(REGISTRY).contains("service `web`"),
            "{}",
            mutable(REGISTRY)
        );
    }

    #[test]
    fn pullers_left_by_accounts_are_named_in_workload_order() {
        let puller = |workload: &str, rank: u8| EcrPuller {
            repository_arn: "arn:aws:ecr:us-east-1:210000000002:repository/shared".into(),
            workload_arn: format!("arn:{workload}"),
            workload: workload.into(),
            image: "shared:1.0".into(),
            container: "c0".into(),
            rank,
        };
        let inv = Inventory {
            ecr_pullers: vec![
                puller("standalone", 2),
                puller("first", 0),
                puller("schedule", 1),
                puller("second", 0),
            ],
            ..Inventory::default()
        };
        let graph = Graph::build(&inv);
        let named: Vec<&str> = graph
            .repository_pullers("arn:aws:ecr:us-east-1:210000000002:repository/shared")
            .iter()
            .map(|p| p.workload.as_str())
            .collect();
        assert_eq!(named, ["first", "second", "schedule", "standalone"]);
    }
}
