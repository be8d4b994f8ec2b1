//! ECR001: private repositories whose images are scanned neither on push nor continuously.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{ecr_registry_arn, EcrRegistry, Scanning};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::{
    ecr_count, ecr_pullers, ecr_registries, ecr_repository_evidence, ecr_repository_list,
};

declare_check! {
    /// ## What it finds
    ///
    /// Private ECR repositories whose pushed images are scanned neither on push nor
    /// continuously (Security Hub FSBP ECR.1). How a repository is scanned is decided as AWS
    /// decides it:
    ///
    /// - when the registry scanning configuration has rules, they decide for every
    ///   repository: a repository is scanned when a `SCAN_ON_PUSH` or `CONTINUOUS_SCAN` rule
    ///   has a filter matching its name (a filter without `*` matches names that contain
    ///   it; with `*` it must match the whole name). A repository no rule matches is scanned
    ///   only by hand under basic scanning, not at all under enhanced scanning, whatever its
    ///   own `scanOnPush` says;
    /// - basic scanning without rules (the default) leaves it to each repository's own
    ///   `imageScanningConfiguration.scanOnPush`;
    /// - enhanced scanning without rules scans nothing.
    ///
    /// The repository-level setting is the older mechanism: AWS deprecated
    /// `PutImageScanningConfiguration` for the registry-level configuration.
    ///
    /// One finding per registry (account and region), naming the repositories that are not
    /// scanned, those running ECS workloads pull from first with the workloads named; every
    /// such repository is in the evidence. The fix is one registry scanning configuration, so
    /// one ticket; it stays open until the last repository is covered. High when a running
    /// workload pulls from one of them, medium otherwise. Every repository of the region is
    /// judged, pulled from or not.
    ///
    /// ## Why it matters
    ///
    /// Without a scan, an image with known vulnerabilities (an old base image, a library
    /// with a published exploit) is pushed and deployed without anyone being told. Scan on
    /// push catches it when it arrives; continuous scanning (enhanced, Amazon Inspector) also
    /// catches the vulnerabilities published after the push, which is where most of them
    /// come from for images that run for months.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr get-registry-scanning-configuration --region REGION
    /// aws ecr describe-repositories --region REGION \
    ///   --query 'repositories[].{name:repositoryName,scanOnPush:imageScanningConfiguration.scanOnPush}'
    /// # what AWS applies to a repository, both settings combined:
    /// aws ecr batch-get-repository-scanning-configuration --region REGION --repository-names REPO
    /// ```
    ///
    /// `scanFrequency` `MANUAL` in the last answer is this finding.
    ///
    /// ## How to fix
    ///
    /// One registry rule that covers every repository (basic scanning on push here; with
    /// `--scan-type ENHANCED` and `CONTINUOUS_SCAN`, Amazon Inspector rescans as new
    /// vulnerabilities are published, billed by Inspector):
    ///
    /// ```sh
    /// aws ecr put-registry-scanning-configuration --region REGION --scan-type BASIC \
    ///   --rules '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"*","filterType":"WILDCARD"}]}]'
    /// ```
    ///
    /// Where the registry already has rules, add a filter matching the repositories listed
    /// (or `*`) to the rule of the frequency you want; `put-registry-scanning-configuration`
    /// replaces the whole configuration, so pass the existing rules too.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-filters.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImageScanningConfiguration.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-1
    pub static ECR001 = {
        code: "ECR001",
        name: "image-scanning-off",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECR repositories whose images are scanned neither on push nor continuously",
        needs: ["ecr:DescribeRepositories", "ecr:GetRegistryScanningConfiguration"],
        fleet_wide: true,
        controls: [
            fsbp("ECR.1"),
            config("ecr-private-image-scanning-enabled"),
            prowler("ecr_registry_scan_images_on_push_enabled").partial(
                "Prowler asks for registry rules that scan every repository on push; ECR001 \
                 also accepts a repository's own scanOnPush where the registry has no rules",
            ),
        ],
        run: run,
    };
}

/// The registry's configuration, as evidence.
fn registry_fact(registry: &EcrRegistry) -> String {
    if registry.scanning_rules.is_empty() {
        return match registry.is_enhanced() {
            true => "scan type ENHANCED with no rules: no repository is scanned".into(),
            false => "scan type BASIC with no rules: each repository's own scanOnPush decides"
                .into(),
        };
    }
    let rules = registry
        .scanning_rules
        .iter()
        .map(|r| format!("{} [{}]", r.scan_frequency, r.repository_filters.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "scan type {} with rules {rules}: the rules decide for every repository",
        registry.scan_type
    )
}

/// Why one repository is not scanned.
fn why_unscanned(scanning: Scanning<'_>) -> String {
    match scanning {
        Scanning::Rule { frequency, filter } => {
            format!("registry rule filter `{filter}` sets scan frequency {frequency}")
        }
        Scanning::RepositorySetting { .. } => "scanOnPush is false".into(),
        Scanning::NoRuleMatches { scan_type } if scan_type.eq_ignore_ascii_case("ENHANCED") => {
            "no registry rule matches it: enhanced scanning leaves it unscanned".into()
        }
        Scanning::NoRuleMatches { .. } => {
            "no registry rule matches it: scanned only by hand (its own scanOnPush no longer counts)"
                .into()
        }
    }
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (scope, repos) in ecr_registries(ctx) {
        // Without the registry's configuration nothing can be decided: the engine reports the
        // failed call as unknown for the region.
        let Some(registry) = ctx.graph.ecr_registry(scope) else {
            continue;
        };
        let unscanned: Vec<_> = repos
            .iter()
            .copied()
            .filter(|r| !registry.scanning_of(r).is_automatic())
            .collect();
        if unscanned.is_empty() {
            continue;
        }
        let pulled = unscanned.iter().any(|r| !ecr_pullers(ctx, r).is_empty());
        let severity = if pulled {
            Severity::High
        } else {
            Severity::Medium
        };
        let how = match (registry.scanning_rules.is_empty(), registry.is_enhanced()) {
            (true, false) => "basic scanning with no registry rule, and their own scan on push off",
            (true, true) => "enhanced scanning with no registry rule",
            (false, _) => "no registry scanning rule covers them",
        };
        let mut evidence = vec![Evidence::new(&registry.arn, registry_fact(registry))];
        evidence.extend(
            unscanned
                .iter()
                .map(|r| ecr_repository_evidence(ctx, r, &why_unscanned(registry.scanning_of(r)))),
        );
        out.report(
            scope,
            Report {
                severity,
                resource: ecr_registry_arn(scope),
                discriminator: String::new(),
                message: format!(
                    "{} no image automatically ({how}): {}; images with known vulnerabilities are pushed and run without anyone being told",
                    ecr_count(unscanned.len(), repos.len(), &scope.region, ("scans", "scan")),
                    ecr_repository_list(ctx, &unscanned)
                ),
                remediation: format!(
                    "Give the {} registry a scanning rule that covers these repositories (`aws ecr put-registry-scanning-configuration --region {} --scan-type BASIC --rules '[{{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}}]}}]'`, or ENHANCED with CONTINUOUS_SCAN), keeping the rules it has.",
                    scope.region, scope.region
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EcrScanningRule;
    use crate::testkit::Builder;

    #[test]
    fn unscanned_repositories_are_one_finding_per_registry_pulled_from_first() {
        let mut b = Builder::new();
        b.ecr_repository("tools").scan_on_push = false;
        b.ecr_repository("web").scan_on_push = false;
        b.ecr_repository("api");
        b.with_web_service();
        let out = b.run(&[&ECR001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.resource,
            "arn:aws:ecr:us-east-1:111122223333:registry/111122223333"
        );
        assert_eq!(
            f.message,
            "2 of 3 ECR repositories in us-east-1 scan no image automatically (basic scanning with no registry rule, and their own scan on push off): `web` (pulled by service `web`) and `tools`; images with known vulnerabilities are pushed and run without anyone being told"
        );
        assert_eq!(f.evidence.len(), 3, "the registry, then each repository");
        assert!(f.evidence[1].fact.contains("pulled by service `web`"));
        assert!(f.evidence[2]
            .fact
            .ends_with("no running ECS workload pulls from it"));
    }

    #[test]
    fn registry_rules_decide_over_the_repository_setting() {
        let mut b = Builder::new();
        b.ecr_repository("web");
        b.ecr_repository("api-gateway").scan_on_push = false;
        b.ecr_registry("ENHANCED")
            .scanning_rules
            .push(EcrScanningRule {
                scan_frequency: "CONTINUOUS_SCAN".into(),
                repository_filters: vec!["api*".into()],
            });
        let out = b.run(&[&ECR001]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium, "nothing running pulls from it");
        assert!(
            f.message.starts_with("1 of 2 ECR repositories in us-east-1 scans no image"),
            "{}",
            f.message
        );
        assert!(f.evidence[1].fact.contains("`web`: no registry rule matches it"));
        // A `*` rule covers everything.
        b.inv.ecr_registries[0].scanning_rules[0].repository_filters = vec!["*".into()];
        assert!(b.run(&[&ECR001]).findings.is_empty());
    }

    #[test]
    fn scanned_repositories_are_quiet() {
        let mut b = Builder::new();
        b.ecr_repository("web");
        b.ecr_repository("api");
        assert!(b.run(&[&ECR001]).findings.is_empty());
    }

    #[test]
    fn an_unread_scanning_configuration_is_unknown_not_a_pass() {
        let mut b = Builder::new();
        b.ecr_repository("web").scan_on_push = false;
        b.inv.ecr_registries.clear();
        b.gap("ecr:GetRegistryScanningConfiguration", None);
        let out = b.run(&[&ECR001]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns.iter().any(|u| u.check == "ECR001"));
    }
}
