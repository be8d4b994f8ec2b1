//! ECR lifecycle policies, evaluated the way ECR evaluates them, to tell which rule will
//! remove (expire) or archive (transition) an image, and when.
//!
//! ECR's documented evaluation:
//! - rules apply in `rulePriority` order, lowest first;
//! - a rule *identifies* the images its selection matches: `tagStatus` (`tagged` with every
//!   entry of `tagPrefixList` a prefix of some tag, or every entry of `tagPatternList`
//!   matching some whole tag, `*` standing for any run of characters; `untagged`; `any`)
//!   and the storage class (`standard` unless the rule says `archive`);
//! - an image a rule identifies cannot be acted on by any rule of lower priority, whether
//!   or not that rule acts on it. So only the first rule that identifies an image decides
//!   its fate, and an image is acted on by at most one rule;
//! - a rule still *counts* the images a higher rule identified: `imageCountMoreThan N`
//!   sorts everything it identifies youngest first by push time and acts on all past the
//!   N-th; the `since…` counts act on images older than N days since their push, their
//!   last recorded pull (the push when ECR recorded none) or their archival.
//!
//! ECR applies a policy within 24 hours of each evaluation. Time here is the inventory's
//! collection time, never the wall clock, so a replay judges the same.

use std::cmp::Reverse;

use serde::Deserialize;

use crate::date::parse_instant;

/// What a rule does to the images it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Deletes them.
    Expire,
    /// Moves them to the archive storage class, where they cannot be pulled until restored.
    Transition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagStatus {
    Tagged,
    Untagged,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageClass {
    Standard,
    Archive,
}

/// When a rule acts on an image it identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Keeps the N youngest by push time.
    MoreThan(u32),
    /// Acts once N days have passed since the push.
    SincePushed(u32),
    /// … since the last recorded pull, or the push when there is none.
    SincePulled(u32),
    /// … since the image was archived.
    SinceTransitioned(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub priority: i64,
    pub description: Option<String>,
    pub tag_status: TagStatus,
    pub tag_prefixes: Vec<String>,
    pub tag_patterns: Vec<String>,
    pub storage_class: StorageClass,
    pub count: Count,
    pub action: Action,
}

/// A parsed lifecycle policy: its rules in the order ECR applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    pub rules: Vec<Rule>,
}

/// What the evaluator needs of an image. Times are seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image<'a> {
    pub digest: &'a str,
    pub tags: &'a [String],
    pub pushed_at: i64,
    pub last_pulled_at: Option<i64>,
    pub storage_class: StorageClass,
    pub archived_at: Option<i64>,
}

/// The fate of one image: the rule that decides it and when that rule acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate<'p> {
    pub rule: &'p Rule,
    pub when: When,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The rule acts on it at its next evaluation (within 24 hours).
    Now,
    /// The rule acts on it at the first evaluation after this time, nothing else changing.
    After(i64),
}

const DAY: i64 = 86_400;

impl LifecyclePolicy {
    /// Parses the lifecycle policy text `GetLifecyclePolicy` returns.
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Doc {
            rules: Vec<RawRule>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct RawRule {
            rule_priority: i64,
            description: Option<String>,
            selection: Selection,
            action: RawAction,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Selection {
            tag_status: String,
            #[serde(default)]
            tag_prefix_list: Vec<String>,
            #[serde(default)]
            tag_pattern_list: Vec<String>,
            storage_class: Option<String>,
            count_type: String,
            count_number: i64,
        }
        #[derive(Deserialize)]
        struct RawAction {
            #[serde(rename = "type")]
            kind: String,
        }
        let doc: Doc = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut rules = Vec::with_capacity(doc.rules.len());
        for r in doc.rules {
            let s = r.selection;
            let tag_status = match s.tag_status.to_ascii_lowercase().as_str() {
                "tagged" => TagStatus::Tagged,
                "untagged" => TagStatus::Untagged,
                "any" => TagStatus::Any,
                other => return Err(format!("unknown tagStatus `{other}`")),
            };
            let storage_class = match s.storage_class.as_deref().map(str::to_ascii_lowercase) {
                None => StorageClass::Standard,
                Some(c) if c == "standard" => StorageClass::Standard,
                Some(c) if c == "archive" => StorageClass::Archive,
                Some(c) => return Err(format!("unknown storageClass `{c}`")),
            };
            let n = u32::try_from(s.count_number)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    format!("countNumber {} is not a positive integer", s.count_number)
                })?;
            let count = match s.count_type.as_str() {
                "imageCountMoreThan" => Count::MoreThan(n),
                "sinceImagePushed" => Count::SincePushed(n),
                "sinceImagePulled" => Count::SincePulled(n),
                "sinceImageTransitioned" => Count::SinceTransitioned(n),
                other => return Err(format!("unknown countType `{other}`")),
            };
            let action = match r.action.kind.to_ascii_lowercase().as_str() {
                "expire" => Action::Expire,
                "transition" => Action::Transition,
                other => return Err(format!("unknown action type `{other}`")),
            };
            rules.push(Rule {
                priority: r.rule_priority,
                description: r.description.filter(|d| !d.is_empty()),
                tag_status,
                tag_prefixes: s.tag_prefix_list,
                tag_patterns: s.tag_pattern_list,
                storage_class,
                count,
                action,
            });
        }
        rules.sort_by_key(|r| r.priority);
        Ok(LifecyclePolicy { rules })
    }

    /// The fate of `images[at]` among the repository's `images` at time `now`: `None` when
    /// no rule will act on it as things stand (a count rule may still reach it after more
    /// pushes).
    pub fn fate(&self, images: &[Image<'_>], at: usize, now: i64) -> Option<Fate<'_>> {
        let image = &images[at];
        // Only the first rule that identifies the image can act on it.
        let rule = self.rules.iter().find(|r| r.identifies(image))?;
        let when = match rule.count {
            Count::MoreThan(n) => {
                let younger = images
                    .iter()
                    .enumerate()
                    .filter(|(i, other)| *i != at && rule.identifies(other))
                    .filter(|(_, other)| push_order(other) < push_order(image))
                    .count();
                if younger < n as usize {
                    return None;
                }
                When::Now
            }
            Count::SincePushed(days) => after(image.pushed_at, days, now),
            Count::SincePulled(days) => {
                after(image.last_pulled_at.unwrap_or(image.pushed_at), days, now)
            }
            // An archived image without an archival time: ECR would not say when.
            Count::SinceTransitioned(days) => after(image.archived_at?, days, now),
        };
        Some(Fate { rule, when })
    }
}

/// Youngest first by push time; equal push times in digest order (ECR documents none).
fn push_order<'a>(image: &Image<'a>) -> (Reverse<i64>, &'a str) {
    (Reverse(image.pushed_at), image.digest)
}

fn after(since: i64, days: u32, now: i64) -> When {
    let due = since + i64::from(days) * DAY;
    if now > due {
        When::Now
    } else {
        When::After(due)
    }
}

impl Rule {
    /// Whether the rule's selection matches the image (tags and storage class).
    pub fn identifies(&self, image: &Image<'_>) -> bool {
        if image.storage_class != self.storage_class {
            return false;
        }
        match self.tag_status {
            TagStatus::Any => true,
            TagStatus::Untagged => image.tags.is_empty(),
            TagStatus::Tagged => {
                !image.tags.is_empty()
                    && self
                        .tag_prefixes
                        .iter()
                        .all(|p| image.tags.iter().any(|t| t.starts_with(p.as_str())))
                    && self
                        .tag_patterns
                        .iter()
                        .all(|p| image.tags.iter().any(|t| pattern_matches(p, t)))
            }
        }
    }

    /// `rule 2 ("keep 10 release images")`.
    pub fn label(&self) -> String {
        match &self.description {
            Some(d) => format!("rule {} (\"{d}\")", self.priority),
            None => format!("rule {}", self.priority),
        }
    }

    /// What it selects and keeps, in words: `tagged prod*, keep the 10 most recent`.
    pub fn describe(&self) -> String {
        let which = match self.tag_status {
            TagStatus::Any => "any image".to_string(),
            TagStatus::Untagged => "untagged images".to_string(),
            TagStatus::Tagged if !self.tag_patterns.is_empty() => {
                format!("images tagged {}", self.tag_patterns.join(" and "))
            }
            TagStatus::Tagged => format!(
                "images with tags starting {}",
                self.tag_prefixes
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        };
        let verb = match self.action {
            Action::Expire => "expire",
            Action::Transition => "archive",
        };
        let when = match self.count {
            Count::MoreThan(n) => format!("all but the {n} most recently pushed"),
            Count::SincePushed(n) => format!("{n} days after their push"),
            Count::SincePulled(n) => format!("{n} days after their last recorded pull"),
            Count::SinceTransitioned(n) => format!("{n} days after their archival"),
        };
        format!("{verb} {which}, {when}")
    }
}

/// A `tagPatternList` entry against a whole tag: `*` matches any run of characters, the
/// rest literally.
pub fn pattern_matches(pattern: &str, tag: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = tag.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// An image's evaluator view from what DescribeImages says of it: `None` without a push
/// time.
pub fn image_view<'a>(
    digest: &'a str,
    tags: &'a [String],
    pushed_at: Option<&str>,
    last_pulled_at: Option<&str>,
    status: Option<&str>,
    archived_at: Option<&str>,
) -> Option<Image<'a>> {
    Some(Image {
        digest,
        tags,
        pushed_at: parse_instant(pushed_at?)?,
        last_pulled_at: last_pulled_at.and_then(parse_instant),
        storage_class: match status {
            None | Some("ACTIVE") => StorageClass::Standard,
            // ARCHIVED, and ACTIVATING (still being restored)
            Some(_) => StorageClass::Archive,
        },
        archived_at: archived_at.and_then(parse_instant),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn img<'a>(digest: &'a str, tags: &'a [String], days_ago: i64) -> Image<'a> {
        Image {
            digest,
            tags,
            pushed_at: NOW - days_ago * DAY,
            last_pulled_at: None,
            storage_class: StorageClass::Standard,
            archived_at: None,
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn expired(policy: &LifecyclePolicy, images: &[Image<'_>]) -> Vec<String> {
        (0..images.len())
            .filter(|i| {
                policy
                    .fate(images, *i, NOW)
                    .is_some_and(|f| f.when == When::Now)
            })
            .map(|i| images[i].digest.to_string())
            .collect()
    }

    fn prefix_rule(priority: i64, prefix: &str, keep: u32) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"tagged","tagPrefixList":["{prefix}"],"countType":"imageCountMoreThan","countNumber":{keep}}},"action":{{"type":"expire"}}}}"#
        )
    }

    #[test]
    fn the_documented_multiple_rule_examples() {
        let (a, b, c) = (
            tags(&["beta-1", "prod-1"]),
            tags(&["beta-2", "prod-2"]),
            tags(&["beta-3"]),
        );
        let images = [img("A", &a, 10), img("B", &b, 9), img("C", &c, 8)];
        // prod first: A expires; B is beta's second-newest but prod's rule saw it first.
        let p = LifecyclePolicy::parse(&format!(
            r#"{{"rules":[{},{}]}}"#,
            prefix_rule(1, "prod", 1),
            prefix_rule(2, "beta", 1)
        ))
        .unwrap();
        assert_eq!(expired(&p, &images), ["A"]);
        // beta first: A and B expire; prod's rule sees nothing left to it.
        let p = LifecyclePolicy::parse(&format!(
            r#"{{"rules":[{},{}]}}"#,
            prefix_rule(2, "prod", 1),
            prefix_rule(1, "beta", 1)
        ))
        .unwrap();
        assert_eq!(expired(&p, &images), ["A", "B"]);
    }

    #[test]
    fn every_prefix_and_every_pattern_must_match_some_tag() {
        let (a, b, c, d, e, f) = (
            tags(&["alpha-1"]),
            tags(&["beta-1"]),
            tags(&["alpha-2", "beta-2"]),
            tags(&["alpha-3"]),
            tags(&["beta-3"]),
            tags(&["alpha-4", "beta-4"]),
        );
        let images = [
            img("A", &a, 12),
            img("B", &b, 11),
            img("C", &c, 10),
            img("D", &d, 4),
            img("E", &e, 3),
            img("F", &f, 2),
        ];
        let p = LifecyclePolicy::parse(
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["alpha","beta"],"countType":"sinceImagePushed","countUnit":"days","countNumber":5},"action":{"type":"expire"}}]}"#,
        )
        .unwrap();
        assert_eq!(expired(&p, &images), ["C"]);
        let p = LifecyclePolicy::parse(
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["alpha-*","*-2"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#,
        )
        .unwrap();
        assert_eq!(expired(&p, &images), ["C"]);
    }

    #[test]
    fn age_rules_say_when_they_act() {
        let t = tags(&["v1"]);
        let images = [img("A", &t, 10)];
        let p = LifecyclePolicy::parse(
            r#"{"rules":[{"rulePriority":1,"description":"old","selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]}"#,
        )
        .unwrap();
        let fate = p.fate(&images, 0, NOW).unwrap();
        assert_eq!(fate.when, When::After(NOW + 20 * DAY));
        assert_eq!(fate.rule.action, Action::Transition);
        assert_eq!(fate.rule.label(), "rule 1 (\"old\")");
        assert_eq!(
            fate.rule.describe(),
            "archive any image, 30 days after their push"
        );
        // Archived images are another storage class: a standard rule does not see them.
        let mut archived = images.clone();
        archived[0].storage_class = StorageClass::Archive;
        assert_eq!(p.fate(&archived, 0, NOW), None);
    }

    #[test]
    fn pulls_restart_the_pull_clock() {
        let t = tags(&["v1"]);
        let mut images = [img("A", &t, 100)];
        let p = LifecyclePolicy::parse(
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}"#,
        )
        .unwrap();
        assert_eq!(p.fate(&images, 0, NOW).map(|f| f.when), Some(When::Now));
        images[0].last_pulled_at = Some(NOW - DAY);
        assert_eq!(
            p.fate(&images, 0, NOW).map(|f| f.when),
            Some(When::After(NOW + 29 * DAY))
        );
    }

    #[test]
    fn malformed_policies_are_errors() {
        for text in [
            "not json",
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"sometimes","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0},"action":{"type":"expire"}}]}"#,
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"delete"}}]}"#,
        ] {
            assert!(LifecyclePolicy::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn patterns_match_whole_tags() {
        for (pattern, tag, want) in [
            ("prod", "prod", true),
            ("prod", "prod1", false),
            ("prod*", "prod1", true),
            ("prod*", "prod", true),
            ("*prod", "preprod", true),
            ("*prod", "production", false),
            ("*test*1*2*3", "xtestA1B2C3", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*", "", true),
        ] {
            assert_eq!(pattern_matches(pattern, tag), want, "{pattern} vs {tag}");
        }
    }

    // The reference model: ECR's documented procedure, step by step. Every rule, in
    // priority order, identifies the images its selection matches, picks the ones its
    // count reaches (counting also images earlier rules identified), and marks those no
    // earlier rule identified. Kept independent of the evaluator above on purpose.
    fn reference(policy: &LifecyclePolicy, images: &[Image<'_>], now: i64) -> Vec<Option<i64>> {
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut marked: Vec<Option<i64>> = vec![None; images.len()];
        for rule in &policy.rules {
            let mut selected: Vec<usize> = Vec::new();
            for (i, im) in images.iter().enumerate() {
                let tags_ok = match rule.tag_status {
                    TagStatus::Any => true,
                    TagStatus::Untagged => im.tags.is_empty(),
                    TagStatus::Tagged => {
                        !im.tags.is_empty()
                            && rule.tag_prefixes.iter().all(|p| {
                                im.tags
                                    .iter()
                                    .any(|t| t.len() >= p.len() && t[..p.len()] == **p)
                            })
                            && rule
                                .tag_patterns
                                .iter()
                                .all(|p| im.tags.iter().any(|t| regex_match(p, t)))
                    }
                };
                if tags_ok && im.storage_class == rule.storage_class {
                    selected.push(i);
                }
            }
            let reached: Vec<usize> = match rule.count {
                Count::MoreThan(n) => {
                    let mut by_age = selected.clone();
                    by_age.sort_by(|a, b| {
                        images[*b]
                            .pushed_at
                            .cmp(&images[*a].pushed_at)
                            .then(images[*a].digest.cmp(images[*b].digest))
                    });
                    by_age.into_iter().skip(n as usize).collect()
                }
                Count::SincePushed(d) => selected
                    .iter()
                    .copied()
                    .filter(|i| now - images[*i].pushed_at > i64::from(d) * DAY)
                    .collect(),
                Count::SincePulled(d) => selected
                    .iter()
                    .copied()
                    .filter(|i| {
                        let since = images[*i].last_pulled_at.unwrap_or(images[*i].pushed_at);
                        now - since > i64::from(d) * DAY
                    })
                    .collect(),
                Count::SinceTransitioned(d) => selected
                    .iter()
                    .copied()
                    .filter(|i| {
                        images[*i]
                            .archived_at
                            .is_some_and(|at| now - at > i64::from(d) * DAY)
                    })
                    .collect(),
            };
            for i in reached {
                if !seen.contains(&i) && marked[i].is_none() {
                    marked[i] = Some(rule.priority);
                }
            }
            seen.extend(selected);
        }
        marked
    }

    // `*` as `.*`, anchored, through the regex crate: a second, independent matcher.
    fn regex_match(pattern: &str, tag: &str) -> bool {
        let re = format!(
            "^{}$",
            pattern
                .split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(".*")
        );
        regex::Regex::new(&re).unwrap().is_match(tag)
    }

    fn arb_rule() -> impl Strategy<Value = Rule> {
        let words = prop::sample::select(vec!["p", "pr", "prod", "b", "beta", "v1"]);
        let patterns = prop::sample::select(vec!["p*", "*1", "prod", "b*a", "*", "v*1*"]);
        (
            0..3u8,
            prop::collection::vec(words, 0..3),
            prop::collection::vec(patterns, 0..3),
            any::<bool>(),
            0..4u8,
            1..6u32,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(status, prefixes, patterns, use_patterns, count, n, archive, expire)| {
                    let tag_status = match status {
                        0 => TagStatus::Tagged,
                        1 => TagStatus::Untagged,
                        _ => TagStatus::Any,
                    };
                    let tagged = tag_status == TagStatus::Tagged;
                    let (tag_prefixes, tag_patterns) = match (tagged, use_patterns) {
                        (false, _) => (vec![], vec![]),
                        (true, false) => (prefixes.into_iter().map(String::from).collect(), vec![]),
                        (true, true) => (vec![], patterns.into_iter().map(String::from).collect()),
                    };
                    Rule {
                        priority: 0,
                        description: None,
                        tag_status,
                        tag_prefixes,
                        tag_patterns,
                        storage_class: if archive {
                            StorageClass::Archive
                        } else {
                            StorageClass::Standard
                        },
                        count: match count {
                            0 => Count::MoreThan(n),
                            1 => Count::SincePushed(n),
                            2 => Count::SincePulled(n),
                            _ => Count::SinceTransitioned(n),
                        },
                        action: if expire {
                            Action::Expire
                        } else {
                            Action::Transition
                        },
                    }
                },
            )
    }

    type ImageSpec = (Vec<String>, i64, Option<i64>, bool, Option<i64>);

    fn arb_images() -> impl Strategy<Value = Vec<ImageSpec>> {
        let tag = prop::sample::select(vec!["prod", "prod1", "beta", "beta-a", "v1", "p1", "x"])
            .prop_map(String::from);
        prop::collection::vec(
            (
                prop::collection::vec(tag, 0..3),
                0..12i64,
                prop::option::of(0..12i64),
                prop::bool::weighted(0.2),
                prop::option::of(0..12i64),
            ),
            0..9,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        // The evaluator (first identifying rule decides; the due time computed once)
        // agrees with the step-by-step procedure at the collection time and at every
        // day after it, as long as nothing is pushed.
        #[test]
        fn the_evaluator_agrees_with_the_documented_procedure(
            rules in prop::collection::vec(arb_rule(), 0..4),
            specs in arb_images(),
            later in 0..8i64,
        ) {
            let rules: Vec<Rule> = rules
                .into_iter()
                .enumerate()
                .map(|(i, mut r)| { r.priority = i as i64 * 10 + 1; r })
                .collect();
            let policy = LifecyclePolicy { rules };
            let digests: Vec<String> = (0..specs.len()).map(|i| format!("sha256:{i:02}")).collect();
            let images: Vec<Image<'_>> = specs
                .iter()
                .zip(&digests)
                .map(|((tags, pushed, pulled, archived, archived_at), d)| Image {
                    digest: d,
                    tags,
                    // Whole days apart, so many images are exactly at a rule's limit.
                    pushed_at: NOW - pushed * DAY,
                    last_pulled_at: pulled.map(|p| NOW - p * DAY),
                    storage_class: if *archived { StorageClass::Archive } else { StorageClass::Standard },
                    archived_at: if *archived { archived_at.map(|a| NOW - a * DAY) } else { None },
                })
                .collect();
            let at = NOW + later * DAY;
            let want = reference(&policy, &images, at);
            for (i, want) in want.iter().enumerate() {
                // What the evaluator said at collection time, projected to `at`.
                let got = policy.fate(&images, i, NOW).and_then(|f| match f.when {
                    When::Now => Some(f.rule.priority),
                    When::After(due) => (at > due).then_some(f.rule.priority),
                });
                prop_assert_eq!(got, *want, "image {} at +{} days", i, later);
            }
        }
    }
}
