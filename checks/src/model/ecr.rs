//! ECR records: private repositories and each region's registry scanning configuration.

use serde::{Deserialize, Serialize};

use super::{glob_match, Scope};

/// A private ECR repository, with the policies read for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcrRepository {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`, what image references start with.
    pub uri: String,
    pub registry_id: String,
    /// `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`
    /// (absent: AWS's default, `MUTABLE`).
    pub image_tag_mutability: Option<String>,
    /// The wildcard filters of a `*_WITH_EXCLUSION` setting: tags that are the exception
    /// to it (mutable in an immutable repository, immutable in a mutable one).
    #[serde(default)]
    pub tag_mutability_exclusions: Vec<String>,
    /// The repository's own `imageScanningConfiguration.scanOnPush`. Registry scanning rules
    /// override it (see [`EcrRegistry::scanning_of`]).
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
    /// The lifecycle policy text (JSON), `None` when the repository has none.
    pub lifecycle_policy: Option<String>,
    /// The repository policy document (JSON), `None` when the repository has none.
    pub policy: Option<String>,
    pub created_at: Option<String>,
    /// Every image of the repository, in any status (DescribeImages), listed only for a
    /// repository some task definition pulls from. `None`: not listed (nothing pulls from
    /// it, or the listing failed, a gap scoped to the repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<EcrImageDetail>>,
}

impl EcrRepository {
    /// The image a reference names, `tag` or `digest` (a digest wins, as for a pull):
    /// `None` when the repository's images were not listed, `Some(None)` when it has none
    /// by that name.
    pub fn image(
        &self,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Option<Option<&EcrImageDetail>> {
        Some(find_image(self.images.as_ref()?, tag, digest))
    }
}

/// The image of `images` a reference names: by digest when it has one (as a pull), else by
/// tag, `latest` when it has neither.
pub fn find_image<'a>(
    images: &'a [EcrImageDetail],
    tag: Option<&str>,
    digest: Option<&str>,
) -> Option<&'a EcrImageDetail> {
    match digest {
        Some(d) => images.iter().find(|i| i.digest == d),
        None => {
            let tag = tag.unwrap_or("latest");
            images.iter().find(|i| i.tags.iter().any(|x| x == tag))
        }
    }
}

/// One image of a repository (DescribeImages), and for an image index the platforms it
/// lists (BatchGetImage).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcrImageDetail {
    pub digest: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// RFC 3339.
    pub pushed_at: Option<String>,
    /// When ECR last recorded a pull (RFC 3339; ECR updates it at most about once a day).
    #[serde(default)]
    pub last_pulled_at: Option<String>,
    /// `ACTIVE`, `ARCHIVED` or `ACTIVATING` (absent: `ACTIVE`, what AWS lists by default).
    #[serde(default)]
    pub status: Option<String>,
    /// When it was last archived (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
    pub manifest_media_type: Option<String>,
    /// For an image index (multi-platform image): the platforms its manifest lists.
    /// `None` for a single-platform image, whose platform is only in its config blob, or
    /// when the index could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<ImagePlatform>>,
}

/// A platform an image index serves, as OCI writes it (`linux`/`amd64`, `arm64` `v8`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImagePlatform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl EcrImageDetail {
    /// Whether it can be pulled now: an archived (or still restoring) image cannot.
    pub fn pullable(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("ACTIVE"))
    }

    /// `tags v1, latest` or `untagged`.
    pub fn tags_phrase(&self) -> String {
        if self.tags.is_empty() {
            "untagged".to_string()
        } else {
            format!("tags {}", self.tags.join(", "))
        }
    }

    /// Whether its manifest is an image index or a Docker manifest list.
    pub fn is_index(&self) -> bool {
        self.manifest_media_type
            .as_deref()
            .is_some_and(is_index_media_type)
    }
}

/// OCI image index or Docker manifest list: the manifest of a multi-platform image.
pub fn is_index_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.oci.image.index.v1+json"
            | "application/vnd.docker.distribution.manifest.list.v2+json"
    )
}

/// A running ECS workload's pull from a private ECR repository, as what a repository's own
/// findings say of who pulls from it. A fleet run judges repositories once every account is
/// checked and its workloads' records are gone, so each account leaves these behind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EcrPuller {
    pub repository_arn: String,
    /// The workload's ARN.
    pub workload_arn: String,
    /// How messages name the workload: ``service `web` ``.
    pub workload: String,
    /// The image reference, as the task definition writes it.
    pub image: String,
    pub container: String,
    /// Where the workload's kind comes in the order workloads are listed in (services and
    /// their task sets, then schedules, then standalone tasks), so pullers left by several
    /// accounts are named in the order one inventory of them all would give.
    pub rank: u8,
}

impl EcrPuller {
    /// The account of the repository pulled from: whose registry's checks name this pull.
    pub fn registry_account(&self) -> &str {
        self.repository_arn.split(':').nth(4).unwrap_or_default()
    }
}

/// A pull-through cache rule: repositories under its prefix are created, and their images
/// fetched from the upstream registry, on the first pull (DescribePullThroughCacheRules).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcrPullThroughRule {
    #[serde(flatten)]
    pub scope: Scope,
    /// `docker-hub`; `ROOT` stands for every repository (an ECR-to-ECR rule).
    pub prefix: String,
    /// `registry-1.docker.io`, `public.ecr.aws`, `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub upstream_registry_url: String,
}

impl EcrPullThroughRule {
    /// Whether repository `name` is under the rule's prefix.
    pub fn covers(&self, name: &str) -> bool {
        self.prefix == "ROOT"
            || name
                .strip_prefix(self.prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// A region's private registry: its scanning configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcrRegistry {
    #[serde(flatten)]
    pub scope: Scope,
    /// `arn:aws:ecr:REGION:ACCOUNT:registry/ACCOUNT`: synthetic, AWS gives a registry none.
    pub arn: String,
    pub registry_id: String,
    /// `BASIC` (the default) or `ENHANCED` (Amazon Inspector).
    pub scan_type: String,
    /// At most two rules, one per frequency.
    pub scanning_rules: Vec<EcrScanningRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EcrScanningRule {
    /// `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`.
    pub scan_frequency: String,
    /// The rule's repository filters (type `WILDCARD`, the only one).
    pub repository_filters: Vec<String>,
}

/// The synthetic ARN a region's registry is known by (AWS gives a registry none):
/// `arn:aws:ecr:REGION:ACCOUNT:registry/ACCOUNT`.
pub fn ecr_registry_arn(scope: &Scope) -> String {
    format!(
        "arn:{}:ecr:{}:{}:registry/{}",
        scope.partition(),
        scope.region,
        scope.account,
        scope.account
    )
}

/// How a repository's images are scanned, as the registry and the repository settings
/// decide it together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanning<'a> {
    /// A registry rule whose filter matches the repository decides: its frequency
    /// (continuous scanning wins where a scan-on-push rule matches too).
    Rule { frequency: &'a str, filter: &'a str },
    /// Basic scanning without registry rules: the repository's own `scanOnPush` applies.
    RepositorySetting { scan_on_push: bool },
    /// The registry has rules and none matches the repository: with basic scanning it is
    /// scanned only by hand, with enhanced scanning not at all.
    NoRuleMatches { scan_type: &'a str },
}

impl Scanning<'_> {
    /// Whether images are scanned without anyone asking: on push, or continuously.
    pub fn is_automatic(&self) -> bool {
        match *self {
            Scanning::Rule { frequency, .. } => {
                frequency == "SCAN_ON_PUSH" || frequency == "CONTINUOUS_SCAN"
            }
            Scanning::RepositorySetting { scan_on_push } => scan_on_push,
            Scanning::NoRuleMatches { .. } => false,
        }
    }
}

/// Whether an ECR scanning filter matches a repository name. AWS: a filter without a
/// wildcard matches every name that contains it; with `*` (zero or more characters) it must
/// match the whole name.
pub fn scan_filter_matches(filter: &str, repository: &str) -> bool {
    if filter.contains('*') {
        glob_match(filter, repository)
    } else {
        repository.contains(filter)
    }
}

impl EcrRegistry {
    /// How `repository` is scanned. Registry rules, when there are any, decide for every
    /// repository and the repository-level `scanOnPush` no longer counts (AWS deprecated
    /// it for the registry-level configuration); without rules, basic scanning follows the
    /// repository's setting and enhanced scanning scans nothing.
    pub fn scanning_of<'a>(&'a self, repository: &EcrRepository) -> Scanning<'a> {
        if self.scanning_rules.is_empty() {
            return if self.is_enhanced() {
                Scanning::NoRuleMatches {
                    scan_type: &self.scan_type,
                }
            } else {
                Scanning::RepositorySetting {
                    scan_on_push: repository.scan_on_push,
                }
            };
        }
        let rank = |f: &str| match f {
            "CONTINUOUS_SCAN" => 0,
            "SCAN_ON_PUSH" => 1,
            _ => 2,
        };
        self.scanning_rules
            .iter()
            .filter_map(|r| {
                let filter = r
                    .repository_filters
                    .iter()
                    .find(|f| scan_filter_matches(f, &repository.name))?;
                Some((r.scan_frequency.as_str(), filter.as_str()))
            })
            .min_by_key(|(f, _)| rank(f))
            .map_or(
                Scanning::NoRuleMatches {
                    scan_type: &self.scan_type,
                },
                |(frequency, filter)| Scanning::Rule { frequency, filter },
            )
    }

    pub fn is_enhanced(&self) -> bool {
        self.scan_type.eq_ignore_ascii_case("ENHANCED")
    }
}

impl EcrRepository {
    /// The tag mutability setting, AWS's default when absent.
    pub fn tag_mutability(&self) -> &str {
        self.image_tag_mutability.as_deref().unwrap_or("MUTABLE")
    }

    /// Whether a pushed tag can be moved to another image: `MUTABLE` and
    /// `MUTABLE_WITH_EXCLUSION` (only the excluded tags are fixed), or
    /// `IMMUTABLE_WITH_EXCLUSION` whose exclusions match every tag (`*`).
    pub fn tags_are_mutable(&self) -> bool {
        match self.tag_mutability() {
            "IMMUTABLE" => false,
            "IMMUTABLE_WITH_EXCLUSION" => self
                .tag_mutability_exclusions
                .iter()
                .any(|f| crate::policy::matches_everything(f)),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str, scan_on_push: bool) -> EcrRepository {
        EcrRepository {
            scope: Scope::new("111122223333", "us-east-1"),
            arn: format!("arn:aws:ecr:us-east-1:111122223333:repository/{name}"),
            name: name.into(),
            uri: format!("111122223333.dkr.ecr.us-east-1.amazonaws.com/{name}"),
            registry_id: "111122223333".into(),
            image_tag_mutability: None,
            tag_mutability_exclusions: vec![],
            scan_on_push,
            encryption_type: None,
            kms_key: None,
            lifecycle_policy: None,
            policy: None,
            created_at: None,
            images: None,
        }
    }

    fn registry(scan_type: &str, rules: &[(&str, &[&str])]) -> EcrRegistry {
        EcrRegistry {
            scope: Scope::new("111122223333", "us-east-1"),
            arn: "arn:aws:ecr:us-east-1:111122223333:registry/111122223333".into(),
            registry_id: "111122223333".into(),
            scan_type: scan_type.into(),
            scanning_rules: rules
                .iter()
                .map(|(f, filters)| EcrScanningRule {
                    scan_frequency: f.to_string(),
                    repository_filters: filters.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn filters_match_as_the_ecr_user_guide_tabulates() {
        // The guide's table: names across, filters down.
        let names = [
            "prod",
            "repo-prod",
            "prod-repo",
            "repo-prod-repo",
            "prodrepo",
        ];
        for (filter, want) in [
            ("prod", [true, true, true, true, true]),
            ("*prod", [true, true, false, false, false]),
            ("prod*", [true, false, true, false, true]),
            ("*prod*", [true, true, true, true, true]),
            ("prod*repo", [false, false, true, false, true]),
        ] {
            let got: Vec<bool> = names
                .iter()
                .map(|n| scan_filter_matches(filter, n))
                .collect();
            assert_eq!(got, want, "{filter}");
        }
    }

    #[test]
    fn registry_rules_override_the_repository_setting() {
        let on = repo("web", true);
        let off = repo("web", false);
        let basic = registry("BASIC", &[]);
        assert!(basic.scanning_of(&on).is_automatic());
        assert!(!basic.scanning_of(&off).is_automatic());
        // Enhanced without rules scans nothing, whatever the repository says.
        assert!(!registry("ENHANCED", &[]).scanning_of(&on).is_automatic());
        // Rules decide; a repository they do not match is manual even with scanOnPush.
        let rules = registry("BASIC", &[("SCAN_ON_PUSH", &["api*"])]);
        assert_eq!(
            rules.scanning_of(&on),
            Scanning::NoRuleMatches { scan_type: "BASIC" }
        );
        assert!(rules.scanning_of(&repo("api-gw", false)).is_automatic());
        // Continuous wins over scan on push; MANUAL never scans by itself.
        let both = registry(
            "ENHANCED",
            &[("SCAN_ON_PUSH", &["*"]), ("CONTINUOUS_SCAN", &["web"])],
        );
        assert_eq!(
            both.scanning_of(&off),
            Scanning::Rule {
                frequency: "CONTINUOUS_SCAN",
                filter: "web"
            }
        );
        assert!(!registry("BASIC", &[("MANUAL", &["*"])])
            .scanning_of(&on)
            .is_automatic());
    }

    #[test]
    fn tag_mutability_with_exclusions() {
        let mut r = repo("web", false);
        assert!(r.tags_are_mutable(), "AWS's default is MUTABLE");
        for (setting, exclusions, mutable) in [
            ("IMMUTABLE", &[][..], false),
            ("MUTABLE", &[], true),
            ("MUTABLE_WITH_EXCLUSION", &["release-*"], true),
            ("IMMUTABLE_WITH_EXCLUSION", &["latest"], false),
            ("IMMUTABLE_WITH_EXCLUSION", &["*"], true),
        ] {
            r.image_tag_mutability = Some(setting.into());
            r.tag_mutability_exclusions = exclusions.iter().map(|s| s.to_string()).collect();
            assert_eq!(r.tags_are_mutable(), mutable, "{setting} {exclusions:?}");
        }
    }
}
