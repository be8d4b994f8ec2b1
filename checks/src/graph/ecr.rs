//! The ECR side of the graph: which running ECS workloads pull images from which private
//! repository. EKS pods are not inventoried, so only ECS workloads are known to pull.

use std::collections::HashMap;

use super::{EcsWorkload, Graph, Node};
use crate::model::{
    ecr_image, EcrImage, EcrImageDetail, EcrPullThroughRule, EcrPuller, EcrRegistry, EcrRepository,
    Scope, TaskDefinition,
};

/// What is known of the image an [`EcrPull`] names.
#[derive(Debug, Clone, Copy)]
pub enum PulledImage<'a> {
    /// The repository's account and region were not listed: outside the run, or
    /// `DescribeRepositories` failed there.
    NotListed,
    /// The region was listed and has no repository by that name.
    NoRepository,
    /// The repository exists; its images could not be listed.
    ImagesUnknown(&'a EcrRepository),
    /// The repository has no image by that tag or digest.
    Missing(&'a EcrRepository),
    /// The repository or the image is missing, but a pull-through cache rule covers the
    /// repository: ECR creates it and fetches the image from upstream on the pull.
    PullThrough(&'a EcrPullThroughRule),
    /// The repository or the image is missing, and the region's pull-through cache rules
    /// could not be read, so whether upstream would serve it is not known.
    RulesUnknown,
    Found(&'a EcrRepository, &'a EcrImageDetail),
}

/// A container of a running ECS workload whose image is in a private ECR repository.
#[derive(Debug, Clone, Copy)]
pub struct EcrPull<'a> {
    pub workload: EcsWorkload<'a>,
    pub task_definition: &'a TaskDefinition,
    pub container: &'a str,
    /// The image reference, as the task definition writes it.
    pub image: &'a str,
}

/// Every running ECS workload's ECR pulls, by repository ARN (the ARN the image URI
/// implies, whether or not the repository was collected), in workload order.
pub(super) fn ecr_pulls<'a>(
    workloads: &[EcsWorkload<'a>],
    task_definition: impl Fn(&str) -> Option<&'a TaskDefinition>,
) -> HashMap<String, Vec<EcrPull<'a>>> {
    let mut pulls: HashMap<String, Vec<EcrPull<'a>>> = HashMap::new();
    for w in workloads {
        let Some(td) = task_definition(w.task_definition()) else {
            continue;
        };
        for c in &td.containers {
            if let Some(image) = ecr_image(&c.image) {
                pulls
                    .entry(image.repository_arn())
                    .or_default()
                    .push(EcrPull {
                        workload: *w,
                        task_definition: td,
                        container: &c.name,
                        image: &c.image,
                    });
            }
        }
    }
    pulls
}

/// Who pulls from each repository, by repository ARN: `pulls` (the workloads of this
/// inventory) and `left` (pullers other accounts of a fleet run left), ordered as one
/// inventory of every account lists its workloads: by kind, then account, then as listed.
pub(super) fn repository_pullers(
    pulls: &HashMap<String, Vec<EcrPull<'_>>>,
    left: &[EcrPuller],
) -> HashMap<String, Vec<EcrPuller>> {
    let mut by_repository: HashMap<String, Vec<EcrPuller>> = HashMap::new();
    for (arn, pulls) in pulls {
        by_repository
            .entry(arn.clone())
            .or_default()
            .extend(pulls.iter().map(|p| p.puller(arn)));
    }
    for p in left {
        by_repository
            .entry(p.repository_arn.clone())
            .or_default()
            .push(p.clone());
    }
    for pullers in by_repository.values_mut() {
        // Stable: within a kind, the order they came in (this inventory's, then accounts').
        pullers.sort_by_key(|p| p.rank);
    }
    by_repository
}

impl<'a> EcrPull<'a> {
    /// What a repository's findings say of this pull, kept without the workload's records.
    pub fn puller(&self, repository_arn: &str) -> EcrPuller {
        EcrPuller {
            repository_arn: repository_arn.to_string(),
            workload_arn: self.workload.arn().to_string(),
            workload: self.workload.describe(),
            image: self.image.to_string(),
            container: self.container.to_string(),
            rank: self.workload.rank(),
        }
    }

    /// The image reference, parsed.
    pub fn ecr_image(&self) -> Option<EcrImage<'a>> {
        ecr_image(self.image)
    }

    /// `repo:tag`, `repo@sha256:…` or `repo` (pulled as `latest`): how messages name it.
    pub fn short_image(&self) -> String {
        match self.ecr_image() {
            Some(i) => match (i.tag, i.digest) {
                (_, Some(d)) => format!("{}@{d}", i.repository),
                (Some(t), None) => format!("{}:{t}", i.repository),
                (None, None) => format!("{}:latest", i.repository),
            },
            None => self.image.to_string(),
        }
    }
}

impl<'a> Graph<'a> {
    /// The containers of running ECS workloads that pull from the repository.
    pub fn ecr_pulls(&self, repository_arn: &str) -> &[EcrPull<'a>] {
        self.ecr_pulls
            .get(repository_arn)
            .map_or(&[], |v| v.as_slice())
    }

    /// Who pulls from the repository, from this inventory's workloads and those other
    /// accounts of the run left (`Inventory::ecr_pullers`), in workload order.
    pub fn repository_pullers(&self, repository_arn: &str) -> &[EcrPuller] {
        self.repository_pullers
            .get(repository_arn)
            .map_or(&[], |v| v.as_slice())
    }

    /// Every pull of this inventory's running workloads, as it is kept once their records
    /// are gone, by repository ARN then workload order.
    pub fn own_pullers(&self) -> Vec<EcrPuller> {
        self.all_ecr_pulls()
            .into_iter()
            .flat_map(|(arn, pulls)| pulls.iter().map(move |p| p.puller(arn)))
            .collect()
    }

    /// What the image a pull names is: found, missing, or not known and why.
    pub fn pulled_image(&self, pull: &EcrPull<'a>) -> PulledImage<'a> {
        let Some(image) = pull.ecr_image() else {
            return PulledImage::NotListed;
        };
        let coverage = &self.inventory.coverage;
        // What is not there may still be fetched through a pull-through cache rule.
        let absent = |found: PulledImage<'a>| {
            if let Some(rule) =
                self.pull_through_rule(image.account, image.region, image.repository)
            {
                PulledImage::PullThrough(rule)
            } else if !coverage.complete(
                image.account,
                image.region,
                &["ecr:DescribePullThroughCacheRules"],
                None,
            ) {
                PulledImage::RulesUnknown
            } else {
                found
            }
        };
        let Some(repo) = self.ecr_repository(&image.repository_arn()) else {
            let listed = coverage.answered(image.account, image.region, "ecr:DescribeRepositories")
                && coverage.complete(
                    image.account,
                    image.region,
                    &["ecr:DescribeRepositories"],
                    None,
                );
            return if listed {
                absent(PulledImage::NoRepository)
            } else {
                PulledImage::NotListed
            };
        };
        match repo.image(image.tag, image.digest) {
            None => PulledImage::ImagesUnknown(repo),
            Some(None) => absent(PulledImage::Missing(repo)),
            Some(Some(detail)) => PulledImage::Found(repo, detail),
        }
    }

    /// Every running ECS workload's ECR pulls, repository by repository (in ARN order).
    pub fn all_ecr_pulls(&self) -> Vec<(&str, &[EcrPull<'a>])> {
        let mut all: Vec<(&str, &[EcrPull<'a>])> = self
            .ecr_pulls
            .iter()
            .map(|(arn, pulls)| (arn.as_str(), pulls.as_slice()))
            .collect();
        all.sort_by_key(|(arn, _)| *arn);
        all
    }

    /// The collected repository with this ARN.
    pub fn ecr_repository(&self, arn: &str) -> Option<&'a EcrRepository> {
        match self.node(arn)? {
            Node::EcrRepository(r) => Some(r),
            _ => None,
        }
    }

    /// The repositories of one region's registry, those running workloads pull from
    /// first (in inventory order within each group).
    pub fn ecr_repositories_in(&self, scope: &Scope) -> Vec<&'a EcrRepository> {
        let mut repos: Vec<&'a EcrRepository> = self
            .inventory
            .ecr_repositories
            .iter()
            .filter(|r| r.scope == *scope)
            .collect();
        repos.sort_by_key(|r| self.repository_pullers(&r.arn).is_empty());
        repos
    }

    /// The pull-through cache rule whose prefix covers repository `name` of `account` in
    /// `region`, if any.
    pub fn pull_through_rule(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Option<&'a EcrPullThroughRule> {
        self.inventory
            .ecr_pull_through_rules
            .iter()
            .filter(|r| r.scope.account == account && r.scope.region == region)
            // The longest prefix is the one ECR applies.
            .filter(|r| r.covers(name))
            .max_by_key(|r| {
                if r.prefix == "ROOT" {
                    0
                } else {
                    r.prefix.len()
                }
            })
    }

    /// The registry (its scanning configuration) of a region, where it was read.
    pub fn ecr_registry(&self, scope: &Scope) -> Option<&'a EcrRegistry> {
        self.inventory
            .ecr_registries
            .iter()
            .find(|r| r.scope == *scope)
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::{EdgeKind, Graph};
    use crate::testkit::Builder;

    #[test]
    fn running_workloads_pull_from_the_repositories_their_images_name() {
        let mut b = Builder::new();
        b.ecr_repository("web");
        b.ecr_repository("idle");
        let image = b.ecr_image_uri("web", "1.4.2");
        b.task_def("web", Some("awsvpc"), &[&image, "nginx:1.27"]);
        b.service("web", "web", &["subnet-1"]);
        let other = b.ecr_image_uri("batch", "2");
        b.task_def("old", Some("awsvpc"), &[&other]);
        let inv = b.finish();
        let g = Graph::build(&inv);
        let web = b.ecr_repository_arn("web");
        let pulls = g.ecr_pulls(&web);
        assert_eq!(pulls.len(), 1);
        assert_eq!(pulls[0].workload.describe(), "service `web`");
        assert_eq!(pulls[0].container, "c0");
        // A task definition nothing runs pulls nothing, but still names its repository.
        let batch = b.ecr_repository_arn("batch");
        assert!(g.ecr_pulls(&batch).is_empty());
        assert_eq!(
            g.incoming(&batch, EdgeKind::TaskDefinitionEcrRepository)
                .collect::<Vec<_>>(),
            [b.task_def_arn("old").as_str()]
        );
        let names: Vec<&str> = g
            .ecr_repositories_in(&b.scope())
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["web", "idle"], "pulled-from first");
        assert_eq!(g.ecr_repository(&web).map(|r| r.name.as_str()), Some("web"));
    }
}
