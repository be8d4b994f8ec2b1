//! ECR: the region's pull-through cache rules and private repositories (one listing each,
//! 1000 a page) and, only
//! where there is at least one, the registry's scanning configuration (once) and each
//! repository's lifecycle policy and repository policy (one call each: ECR has no batch
//! form of either).
//!
//! "This repository has no lifecycle policy" and "… no repository policy" are answers,
//! not failures: ECR says them with `LifecyclePolicyNotFoundException` and
//! `RepositoryPolicyNotFoundException`, which count as successful calls with nothing in
//! them. Any other error is the repository's coverage gap, scoped to its ARN.

use std::future::Future;

use aws_sdk_ecr::types as t;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use checks::model::{
    ecr_registry_arn, EcrPullThroughRule, EcrRegistry, EcrRepository, EcrScanningRule, Inventory,
    Scope,
};
use futures::stream::{self, StreamExt};

use super::{ops, rfc3339, Collector};

/// Repositories whose two policy reads are under way at once, per region (two calls
/// each): enough to keep the default --concurrency busy.
const REPOSITORIES_IN_FLIGHT: usize = 32;

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).ecr(&scope.region);
    let mut inv = Inventory::default();
    let (repositories, rules) = tokio::join!(
        c.pages(scope, &ops::ecr::DESCRIBE_REPOSITORIES, None, |page| {
            client
                .describe_repositories()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(
            scope,
            &ops::ecr::DESCRIBE_PULL_THROUGH_CACHE_RULES,
            None,
            |page| {
                client
                    .describe_pull_through_cache_rules()
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            }
        ),
    );
    inv.ecr_pull_through_rules = rules
        .iter()
        .flatten()
        .flat_map(|p| p.pull_through_cache_rules())
        .filter_map(|r| {
            Some(EcrPullThroughRule {
                scope: scope.clone(),
                prefix: r.ecr_repository_prefix()?.to_string(),
                upstream_registry_url: r.upstream_registry_url().unwrap_or_default().to_string(),
            })
        })
        .collect();
    let Some(pages) = repositories else {
        return inv;
    };
    let repositories: Vec<EcrRepository> = pages
        .iter()
        .flat_map(|p| p.repositories())
        .map(|r| repository(scope, r))
        .collect();
    if repositories.is_empty() {
        return inv;
    }
    // The per-repository calls are started a window at a time, in order: all at once, a
    // region of a thousand repositories would hold two thousand SDK calls in memory while
    // --concurrency lets 64 of them out.
    let (registry, policies) = tokio::join!(
        registry(c, &client, scope),
        stream::iter(
            repositories
                .iter()
                .map(|r| (r.arn.clone(), r.name.clone()))
                .collect::<Vec<_>>()
        )
        .map(|(arn, name)| repository_policies(c, &client, scope, arn, name))
        .buffered(REPOSITORIES_IN_FLIGHT)
        .collect::<Vec<_>>(),
    );
    inv.ecr_registries.extend(registry);
    for (mut r, (lifecycle, policy)) in repositories.into_iter().zip(policies) {
        r.lifecycle_policy = lifecycle;
        r.policy = policy;
        inv.ecr_repositories.push(r);
    }
    inv
}

/// The registry's scanning configuration.
async fn registry(
    c: &Collector,
    client: &aws_sdk_ecr::Client,
    scope: &Scope,
) -> Option<EcrRegistry> {
    let out = c
        .call(
            scope,
            &ops::ecr::GET_REGISTRY_SCANNING_CONFIGURATION,
            None,
            async { client.get_registry_scanning_configuration().send().await },
        )
        .await?;
    let registry_id = out.registry_id().unwrap_or(&scope.account).to_string();
    let config = out.scanning_configuration();
    Some(EcrRegistry {
        scope: scope.clone(),
        arn: ecr_registry_arn(scope),
        registry_id,
        // AWS: without a configuration, basic scanning applies.
        scan_type: config
            .and_then(|c| c.scan_type())
            .map_or("BASIC", |s| s.as_str())
            .to_string(),
        scanning_rules: config
            .map(|c| c.rules())
            .unwrap_or_default()
            .iter()
            .map(|r| EcrScanningRule {
                scan_frequency: r.scan_frequency().as_str().to_string(),
                repository_filters: r
                    .repository_filters()
                    .iter()
                    .map(|f| f.filter().to_string())
                    .collect(),
            })
            .collect(),
    })
}

/// A repository's lifecycle policy and repository policy, concurrently: `None` where it has
/// none, or where the call failed (a gap scoped to the repository).
async fn repository_policies(
    c: &Collector,
    client: &aws_sdk_ecr::Client,
    scope: &Scope,
    arn: String,
    name: String,
) -> (Option<String>, Option<String>) {
    let (lifecycle, policy) = tokio::join!(
        c.call(
            scope,
            &ops::ecr::GET_LIFECYCLE_POLICY,
            Some(&arn),
            none_if_not_found(
                client.get_lifecycle_policy().repository_name(&name).send(),
                |o| o.lifecycle_policy_text,
                |e| e.is_lifecycle_policy_not_found_exception(),
            ),
        ),
        c.call(
            scope,
            &ops::ecr::GET_REPOSITORY_POLICY,
            Some(&arn),
            none_if_not_found(
                client.get_repository_policy().repository_name(&name).send(),
                |o| o.policy_text,
                |e| e.is_repository_policy_not_found_exception(),
            ),
        ),
    );
    (lifecycle.flatten(), policy.flatten())
}

/// A Get whose "not found" error means "there is none": that error is an answer, `None`.
pub(super) async fn none_if_not_found<O, E, T>(
    sent: impl Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    answer: impl FnOnce(O) -> Option<T>,
    not_found: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, SdkError<E, HttpResponse>> {
    match sent.await {
        Ok(o) => Ok(answer(o)),
        Err(e) if e.as_service_error().is_some_and(not_found) => Ok(None),
        Err(e) => Err(e),
    }
}

fn repository(scope: &Scope, r: &t::Repository) -> EcrRepository {
    let name = r.repository_name().unwrap_or_default().to_string();
    let registry_id = r.registry_id().unwrap_or(&scope.account).to_string();
    let arn = r.repository_arn().map_or_else(
        || {
            format!(
                "arn:{}:ecr:{}:{registry_id}:repository/{name}",
                scope.partition(),
                scope.region
            )
        },
        str::to_string,
    );
    let encryption = r.encryption_configuration();
    EcrRepository {
        scope: scope.clone(),
        arn,
        uri: r.repository_uri().unwrap_or_default().to_string(),
        name,
        registry_id,
        image_tag_mutability: r.image_tag_mutability().map(|m| m.as_str().to_string()),
        tag_mutability_exclusions: r
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| f.filter().to_string())
            .collect(),
        scan_on_push: r
            .image_scanning_configuration()
            .is_some_and(|s| s.scan_on_push()),
        encryption_type: encryption.map(|e| e.encryption_type().as_str().to_string()),
        kms_key: encryption.and_then(|e| e.kms_key()).map(str::to_string),
        lifecycle_policy: None,
        policy: None,
        created_at: rfc3339(r.created_at()),
        images: None,
    }
}
