//! The ECR images task definitions pull, read once every region (and, in a fleet run, every
//! account) is collected, so an image in another region or another account of the run is
//! read from the account that holds it.
//!
//! Each repository some container image names is listed once, however many workloads pull
//! from it: every image in any status (DescribeImages, 1000 a page), which answers whether
//! a tag or digest exists, whether it is archived, and what the lifecycle policy will do to
//! it. Then the manifests of the image indexes a task definition names (BatchGetImage, 100
//! a call) give the platforms a multi-platform image serves. A single-platform image's
//! platform is only in its config blob, a layer download away: it is not read.
//!
//! Repositories outside the run (an account or region not audited) are not asked for; the
//! checks say they could not judge them.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::types as t;
use checks::model::{
    ecr_image, find_image, is_index_media_type, EcrImageDetail, ImagePlatform, Inventory, Scope,
};
use futures::stream::{self, StreamExt};
use serde::Deserialize;

use super::{ops, rfc3339, Collector};

/// Repositories listed at once, run-wide: the listings are the run's last calls, and
/// --concurrency still bounds the HTTP requests.
const REPOSITORIES_IN_FLIGHT: usize = 32;

/// Every manifest format an ECR image can have: without the index types in the request,
/// ECR would answer for a multi-platform image with one of its platform manifests.
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// A repository to list: where it is, and the references task definitions make to it.
struct Wanted {
    at: usize,
    scope: Scope,
    arn: String,
    name: String,
    registry_id: String,
    references: BTreeSet<Reference>,
}

/// (tag, digest) as an image URI writes them.
type Reference = (Option<String>, Option<String>);

/// What [`collect`] found: each listed repository's images, by its index in the inventory.
pub type Listed = Vec<(usize, Option<Vec<EcrImageDetail>>)>;

/// Lists the images of every collected repository a task definition pulls from. In a fleet
/// run `inv` is one account's (`own`), with the repositories it pulls from in other
/// accounts: those are listed once for all the accounts that pull from them.
pub async fn collect(c: &Collector, inv: &Inventory, own: Option<&str>) -> Listed {
    let mut references: BTreeMap<String, BTreeSet<Reference>> = BTreeMap::new();
    for td in &inv.task_definitions {
        for container in &td.containers {
            if let Some(image) = ecr_image(&container.image) {
                references
                    .entry(image.repository_arn())
                    .or_default()
                    .insert((
                        image.tag.map(str::to_string),
                        image.digest.map(str::to_string),
                    ));
            }
        }
    }
    let wanted: Vec<Wanted> = inv
        .ecr_repositories
        .iter()
        .enumerate()
        .filter_map(|(at, r)| {
            Some(Wanted {
                at,
                scope: r.scope.clone(),
                arn: r.arn.clone(),
                name: r.name.clone(),
                registry_id: r.registry_id.clone(),
                references: references.remove(&r.arn)?,
            })
        })
        .collect();
    stream::iter(wanted)
        .map(|w| async move {
            let foreign = own.is_some_and(|a| a != w.scope.account);
            (w.at, repository_images(c, &w, foreign).await)
        })
        .buffered(REPOSITORIES_IN_FLIGHT)
        .collect()
        .await
}

/// Puts what [`collect`] found into the inventory it read.
pub fn apply(inv: &mut Inventory, listed: Listed) {
    for (at, images) in listed {
        inv.ecr_repositories[at].images = images;
    }
}

/// A repository's images, with the platforms of the indexes it is pulled by: `None` when
/// the listing failed (a gap scoped to the repository). A `foreign` repository (another
/// account's) is listed once for every account of the run that pulls from it.
async fn repository_images(
    c: &Collector,
    w: &Wanted,
    foreign: bool,
) -> Option<Vec<EcrImageDetail>> {
    let mut images = if foreign {
        c.listed_once(&w.arn, list_images(c, w)).await?
    } else {
        list_images(c, w).await?
    };
    add_platforms(c, w, &mut images).await;
    Some(images)
}

/// Every image of the repository, in any status.
async fn list_images(c: &Collector, w: &Wanted) -> Option<Vec<EcrImageDetail>> {
    let client = c.session(&w.scope.account).ecr(&w.scope.region);
    let any_status = t::DescribeImagesFilter::builder()
        .image_status(t::ImageStatusFilter::Any)
        .build();
    let pages = c
        .pages(&w.scope, &ops::ecr::DESCRIBE_IMAGES, Some(&w.arn), |page| {
            client
                .describe_images()
                .repository_name(&w.name)
                .registry_id(&w.registry_id)
                .filter(any_status)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await?;
    Some(
        pages
            .iter()
            .flat_map(|p| p.image_details())
            .filter_map(detail)
            .collect(),
    )
}

/// The platforms of the image indexes `w`'s references name, read from their manifests.
async fn add_platforms(c: &Collector, w: &Wanted, images: &mut [EcrImageDetail]) {
    let client = c.session(&w.scope.account).ecr(&w.scope.region);
    // The indexes the references name, each once, in listing order.
    let named: BTreeSet<&str> = w
        .references
        .iter()
        .filter_map(|(tag, digest)| find_image(images, tag.as_deref(), digest.as_deref()))
        .map(|i| i.digest.as_str())
        .collect();
    let indexes: Vec<String> = images
        .iter()
        .filter(|i| i.is_index() && named.contains(i.digest.as_str()))
        .map(|i| i.digest.clone())
        .collect();
    let mut platforms: BTreeMap<String, Vec<ImagePlatform>> = BTreeMap::new();
    let batches = c.batches(
        &w.scope,
        &ops::ecr::BATCH_GET_IMAGE,
        Some(&w.arn),
        &indexes,
        |digests: Vec<String>| {
            client
                .batch_get_image()
                .repository_name(&w.name)
                .registry_id(&w.registry_id)
                .set_image_ids(Some(
                    digests
                        .iter()
                        .map(|d| t::ImageIdentifier::builder().image_digest(d).build())
                        .collect(),
                ))
                .set_accepted_media_types(Some(
                    MANIFEST_TYPES.iter().map(|m| m.to_string()).collect(),
                ))
                .send()
        },
    );
    for (_, out) in futures::future::join_all(batches).await {
        for image in out.iter().flat_map(|o| o.images()) {
            let (Some(digest), Some(manifest)) = (
                image.image_id().and_then(|i| i.image_digest()),
                image.image_manifest(),
            ) else {
                continue;
            };
            if let Some(list) = index_platforms(manifest) {
                platforms.insert(digest.to_string(), list);
            }
        }
    }
    for image in images {
        image.platforms = platforms.remove(&image.digest);
    }
}

fn detail(d: &t::ImageDetail) -> Option<EcrImageDetail> {
    Some(EcrImageDetail {
        digest: d.image_digest()?.to_string(),
        tags: d.image_tags().to_vec(),
        pushed_at: rfc3339(d.image_pushed_at()),
        last_pulled_at: rfc3339(d.last_recorded_pull_time()),
        status: d.image_status().map(|s| s.as_str().to_string()),
        archived_at: rfc3339(d.last_archived_at()),
        manifest_media_type: d.image_manifest_media_type().map(str::to_string),
        platforms: None,
    })
}

/// The platforms an image index lists; `None` when the manifest is not an index.
fn index_platforms(manifest: &str) -> Option<Vec<ImagePlatform>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Index {
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<Vec<Entry>>,
    }
    #[derive(Deserialize)]
    struct Entry {
        platform: Option<Platform>,
    }
    #[derive(Deserialize)]
    struct Platform {
        os: String,
        architecture: String,
        variant: Option<String>,
    }
    let index: Index = serde_json::from_str(manifest).ok()?;
    if index
        .media_type
        .as_deref()
        .is_some_and(|m| !is_index_media_type(m))
    {
        return None;
    }
    let mut list: Vec<ImagePlatform> = index
        .manifests?
        .into_iter()
        .filter_map(|e| e.platform)
        // Attestation manifests (BuildKit's provenance) are listed as unknown/unknown.
        .filter(|p| p.os != "unknown" && p.architecture != "unknown")
        .map(|p| ImagePlatform {
            os: p.os,
            architecture: p.architecture,
            variant: p.variant,
        })
        .collect();
    list.sort();
    list.dedup();
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_lists_its_platforms_without_attestations() {
        let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"architecture":"amd64","os":"linux"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:c","size":1,"platform":{"architecture":"unknown","os":"unknown"}}]}"#;
        let got = index_platforms(manifest).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| format!("{}/{}", p.os, p.architecture))
            .collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64"]);
        assert_eq!(got[1].variant.as_deref(), Some("v8"));
        let single = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{},"layers":[]}"#;
        assert_eq!(index_platforms(single), None);
        assert_eq!(index_platforms("not json"), None);
    }
}
