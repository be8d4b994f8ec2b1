//! ECR006: the repository's lifecycle policy will remove or archive an image a running
//! workload pulls.

use std::collections::HashMap;

use crate::date::{civil_from_days, format_date, parse_instant};
use crate::declare_check;
use crate::ecr_lifecycle::{image_view, Action, Count, Fate, Image, LifecyclePolicy, When};
use crate::finding::{Evidence, Severity};
use crate::graph::PulledImage;
use crate::model::{EcrImageDetail, EcrRepository};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::image_pulls;

/// Within this many days, an expiry is as urgent as one due now: a week is about the
/// longest a team can count on before its next deploy or scale-out.
const URGENT_DAYS: i64 = 7;

/// Expiries further off than this are not reported: most workloads deploy a newer image
/// within a month, and an age rule eventually reaches every image it selects, so a finding
/// for each image a year out would bury the ones about to happen.
const HORIZON_DAYS: i64 = 30;

declare_check! {
    /// ## What it finds
    ///
    /// Images that running ECS workloads (services, their task sets, scheduled and
    /// standalone tasks) pull from a private ECR repository, which the repository's own
    /// lifecycle policy will expire (delete) or transition to the archive storage class.
    /// The policy is evaluated as ECR evaluates it, over every image of the repository:
    /// rules in priority order, the first rule whose selection (tag status, every
    /// `tagPrefixList` prefix or `tagPatternList` pattern, storage class) matches an image
    /// decides its fate, `imageCountMoreThan` keeps the most recently pushed images it
    /// selects, and `sinceImagePushed`, `sinceImagePulled` and `sinceImageTransitioned`
    /// act a number of days after the push, last recorded pull or archival.
    ///
    /// The finding names the rule and when it acts: at ECR's next evaluation (within a
    /// day) when the image is already past the rule's limit, or the date it will be,
    /// assuming nothing new is pushed (a count rule reaches more images with every push).
    /// High within a week, medium within 30 days; an expiry further off is not reported
    /// (a deploy will most likely replace the image first). One finding per image and
    /// account.
    ///
    /// ## Why it matters
    ///
    /// Lifecycle rules do not know which images run. Once the image is deleted or
    /// archived, the tasks running keep running, but every task that starts from the
    /// image afterwards (a deployment, scale-out, scheduled run, or the replacement of a
    /// failed task) stops with `CannotPullContainerError`. A common cause is a count rule
    /// over all tags, with a service running a release that is more than N pushes old.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecr get-lifecycle-policy --repository-name REPOSITORY --query lifecyclePolicyText --output text
    /// aws ecr start-lifecycle-policy-preview --repository-name REPOSITORY
    /// aws ecr get-lifecycle-policy-preview --repository-name REPOSITORY \
    ///   --query 'previewResults[].{digest:imageDigest,tags:imageTags,rule:appliedRulePriority,action:action.type}'
    /// ```
    ///
    /// (The preview starts a job but changes nothing in the repository.)
    ///
    /// ## How to fix
    ///
    /// Give the tags that workloads run a rule of their own with a higher priority that
    /// keeps them (a generous `imageCountMoreThan` over a release `tagPatternList`), or
    /// narrow the removing rule to build tags; or deploy a newer image before the date:
    ///
    /// ```sh
    /// aws ecr put-lifecycle-policy --repository-name REPOSITORY --lifecycle-policy-text file://policy.json
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
    /// - https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
    pub static ECR006 = {
        code: "ECR006",
        name: "image-expires",
        severity: Severity::High,
        lower: [Severity::Medium],
        summary: "ECR lifecycle policy will remove or archive an image a workload runs",
        needs: ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:DescribeImages"],
        ecs_workloads: true,
        run: run,
    };
}

/// A repository's policy and images, parsed once for all the workloads pulling from it.
struct Parsed<'a> {
    policy: LifecyclePolicy,
    views: Vec<Image<'a>>,
    /// Index in `views` of each image, by digest.
    at: HashMap<&'a str, usize>,
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let Some(now) = ctx.inventory.collected_at.as_deref().and_then(parse_instant) else {
        return;
    };
    let mut parsed: HashMap<&str, Result<Parsed<'_>, String>> = HashMap::new();
    for group in image_pulls(ctx) {
        let Some(first) = group.pulls.first() else {
            continue;
        };
        let PulledImage::Found(repo, image) = ctx.graph.pulled_image(first) else {
            continue;
        };
        if !image.pullable() {
            continue;
        }
        let Some(text) = repo.lifecycle_policy.as_deref() else {
            continue;
        };
        // An expired image of a pull-through cache is fetched again on the next pull.
        if ctx
            .graph
            .pull_through_rule(&repo.scope.account, &repo.scope.region, &repo.name)
            .is_some()
        {
            continue;
        }
        let p = parsed.entry(repo.arn.as_str()).or_insert_with(|| parse(repo, text));
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                out.unknown(group.scope, Some(&repo.arn), e.clone());
                continue;
            }
        };
        let Some(&at) = p.at.get(image.digest.as_str()) else {
            continue;
        };
        let Some(fate) = p.policy.fate(&p.views, at, now) else {
            continue;
        };
        let (when, severity) = match fate.when {
            When::Now => (
                "at ECR's next lifecycle evaluation (within a day),".to_string(),
                Severity::High,
            ),
            When::After(due) => {
                let days = (due - now).div_euclid(86_400);
                if days > HORIZON_DAYS {
                    continue;
                }
                let date = format_date(civil_from_days(due.div_euclid(86_400)));
                let severity = if days < URGENT_DAYS {
                    Severity::High
                } else {
                    Severity::Medium
                };
                (format!("on {date}, in {days} days,"), severity)
            }
        };
        let verb = match fate.rule.action {
            Action::Expire => "expire (delete)",
            Action::Transition => "archive",
        };
        let mut evidence = vec![rule_evidence(repo, &fate), image_evidence(repo, image, &fate, p, at)];
        evidence.extend(group.evidence());
        out.report(
            group.scope,
            Report {
                severity,
                resource: repo.arn.clone(),
                discriminator: image.digest.clone(),
                message: format!(
                    "lifecycle {} of ECR repository `{}` will {verb} image `{}`, which {} runs, {when} then every task that starts from it fails with CannotPullContainerError",
                    fate.rule.label(),
                    repo.name,
                    group.image,
                    group.pullers()
                ),
                remediation: format!(
                    "Keep the images workloads run out of {}: add a higher-priority rule that keeps the release tags they use, or narrow this rule's tag selection to build tags; or deploy a newer image before then. Change it with `aws ecr put-lifecycle-policy --repository-name {}`.",
                    fate.rule.label(),
                    repo.name
                ),
                evidence,
            },
        );
    }
}

fn parse<'a>(repo: &'a EcrRepository, text: &str) -> Result<Parsed<'a>, String> {
    let policy = LifecyclePolicy::parse(text).map_err(|e| {
        format!(
            "the lifecycle policy of repository `{}` could not be parsed ({e}), so what it removes is not known",
            repo.name
        )
    })?;
    let images = repo.images.as_deref().unwrap_or_default();
    let mut views = Vec::with_capacity(images.len());
    let mut at = HashMap::with_capacity(images.len());
    for i in images {
        let Some(view) = view_of(i) else {
            // Without a push time, the count and age rules cannot place the image, nor
            // any other image they rank against it.
            return Err(format!(
                "image {} of repository `{}` has no push time, so what its lifecycle policy removes is not known",
                i.digest, repo.name
            ));
        };
        at.insert(i.digest.as_str(), views.len());
        views.push(view);
    }
    Ok(Parsed { policy, views, at })
}

fn view_of(i: &EcrImageDetail) -> Option<Image<'_>> {
    image_view(
        &i.digest,
        &i.tags,
        i.pushed_at.as_deref(),
        i.last_pulled_at.as_deref(),
        i.status.as_deref(),
        i.archived_at.as_deref(),
    )
}

fn rule_evidence(repo: &EcrRepository, fate: &Fate<'_>) -> Evidence {
    Evidence::new(
        &repo.arn,
        format!(
            "lifecycle {}: {} (the first rule whose selection matches the image)",
            fate.rule.label(),
            fate.rule.describe()
        ),
    )
}

fn image_evidence(
    repo: &EcrRepository,
    image: &EcrImageDetail,
    fate: &Fate<'_>,
    p: &Parsed<'_>,
    at: usize,
) -> Evidence {
    let tags = image.tags_phrase();
    let detail = match fate.rule.count {
        Count::MoreThan(keep) => {
            let me = &p.views[at];
            let newer = p
                .views
                .iter()
                .filter(|v| fate.rule.identifies(v) && v.pushed_at > me.pushed_at)
                .count();
            format!("{newer} more recently pushed images match the rule, which keeps {keep}")
        }
        Count::SincePulled(_) => format!(
            "last pull recorded {}",
            image.last_pulled_at.as_deref().unwrap_or("never")
        ),
        Count::SincePushed(_) | Count::SinceTransitioned(_) => String::new(),
    };
    Evidence::new(
        &repo.arn,
        format!(
            "image {} ({tags}) pushed {}{}",
            image.digest,
            image.pushed_at.as_deref().unwrap_or("at an unknown time"),
            if detail.is_empty() {
                String::new()
            } else {
                format!("; {detail}")
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    /// Keeps the 2 most recently pushed images, whatever their tags.
    const KEEP_TWO: &str = r#"{"rules":[{"rulePriority":1,"description":"keep 2","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;

    /// Releases are kept 100 deep by a higher-priority rule; anything else is kept 2 deep.
    const RELEASES_FIRST: &str = r#"{"rules":[
        {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["v*"],"countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}},
        {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;

    /// Tagged images expire 30 days after their push.
    const THIRTY_DAYS: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}"#;

    /// Repository `web` with v1 (oldest) to v4, service `web` running `tag`.
    fn repository(policy: &str, tag: &str) -> Builder {
        let mut b = Builder::new();
        for (n, day) in [(1, "01"), (2, "02"), (3, "03"), (4, "04")] {
            let pushed = format!("2026-11-{day}T00:00:00Z");
            b.ecr_image("web", &format!("sha256:0{n}"), &[&format!("v{n}")], &pushed);
        }
        b.ecr_repository_mut("web").lifecycle_policy = Some(policy.into());
        let image = b.ecr_image_uri("web", tag);
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        b
    }

    #[test]
    fn a_count_rule_past_its_limit_expires_a_running_image_now() {
        let out = repository(KEEP_TWO, "v2").run(&[&ECR006]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.evidence[1].fact.starts_with("image sha256:02 (tags v2)"));
        assert!(
            f.message.starts_with("lifecycle rule 1 (\"keep 2\") of ECR repository `web` will expire (delete) image `web:v2`, which service `web` runs, at ECR's next lifecycle evaluation (within a day), then"),
            "{}",
            f.message
        );
        assert!(
            f.evidence[1].fact.ends_with("2 more recently pushed images match the rule, which keeps 2"),
            "{}",
            f.evidence[1].fact
        );
        // The two newest are kept.
        assert!(repository(KEEP_TWO, "v3").run(&[&ECR006]).findings.is_empty());
    }

    #[test]
    fn the_first_rule_that_selects_an_image_decides_its_fate() {
        let out = repository(RELEASES_FIRST, "v1").run(&[&ECR006]);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn an_age_rule_says_the_date_and_how_urgent_it_is() {
        // Collected 2026-11-22: v1 (pushed 11-01) expires 12-01, in 8 days, v4 12-04.
        let out = repository(THIRTY_DAYS, "v1").run(&[&ECR006]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.message.contains("on 2026-12-01, in 8 days,"), "{}", f.message);

        let mut b = repository(THIRTY_DAYS, "v1");
        b.ecr_repository_mut("web").images.as_mut().unwrap()[0].pushed_at =
            Some("2026-10-26T00:00:00Z".into());
        let out = b.run(&[&ECR006]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        assert_eq!(out.findings[0].severity, Severity::High);
        assert!(out.findings[0].message.contains("on 2026-11-25, in 2 days,"));
    }

    #[test]
    fn an_expiry_beyond_a_month_is_not_reported() {
        // v4, pushed 11-04, expires 12-04 (in 11 days) under a 30-day rule; in 41 days under 60.
        let sixty = THIRTY_DAYS.replace("\"countNumber\":30", "\"countNumber\":60");
        assert_eq!(repository(THIRTY_DAYS, "v4").run(&[&ECR006]).findings.len(), 1);
        assert!(repository(&sixty, "v4").run(&[&ECR006]).findings.is_empty());
    }

    #[test]
    fn no_policy_or_an_untouched_image_is_quiet() {
        let mut b = repository(KEEP_TWO, "v4");
        b.ecr_repository_mut("web").lifecycle_policy = None;
        assert!(b.run(&[&ECR006]).findings.is_empty());
        // The default test repository's policy expires untagged images only.
        let mut b = Builder::new();
        b.ecr_image("web", "sha256:01", &["v1"], "2020-01-01T00:00:00Z");
        let image = b.ecr_image_uri("web", "v1");
        b.task_def("web", Some("awsvpc"), &[&image]);
        b.service("web", "web", &["subnet-1"]);
        assert!(b.run(&[&ECR006]).findings.is_empty());
    }

    #[test]
    fn an_unparsable_policy_or_a_missing_push_time_is_unknown() {
        let out = repository(r#"{"rules":[{"rulePriority":"x"}]}"#, "v1").run(&[&ECR006]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1, "{:?}", out.unknowns);
        assert!(out.unknowns[0].reason.contains("could not be parsed"));

        let mut b = repository(KEEP_TWO, "v1");
        b.ecr_repository_mut("web").images.as_mut().unwrap()[3].pushed_at = None;
        let out = b.run(&[&ECR006]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns[0].reason.contains("has no push time"));
    }
}
