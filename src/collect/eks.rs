//! EKS: clusters, their managed nodegroups, Fargate profiles, add-ons and Pod Identity
//! associations (each a listing, then a describe per item), and the add-on
//! versions EKS offers for the Kubernetes versions the clusters run (one
//! DescribeAddonVersions listing per add-on and version, however many clusters share it).

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types as t;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use checks::model::{
    AddonIssue, AddonVersion, EksAddon, EksAddonVersions, EksCluster, EksFargateProfile,
    EksNodegroup, EksPodIdentityAssociation, FargateSelector, Inventory, Scope,
};
use futures::future::join_all;
use futures::stream::{self, StreamExt};

use super::ops::Op;
use super::{ops, rfc3339, Collector};

/// Clusters collected at once per region: enough to keep the default --concurrency busy.
const CLUSTERS_IN_FLIGHT: usize = 16;

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).eks(&scope.region);
    let mut inv = Inventory::default();
    let Some(pages) = c
        .pages(scope, &ops::eks::LIST_CLUSTERS, None, |page| {
            client
                .list_clusters()
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return inv;
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.clusters().iter().cloned())
        .collect();
    // A window of clusters at a time (each makes five calls at once): all at once, a region
    // of hundreds of clusters would hold every call's SDK state in memory while
    // --concurrency lets 64 of them out. The inventory is sorted later, so order is free.
    let per_cluster: Vec<Inventory> = stream::iter(names)
        .map(|name| {
            let client = &client;
            async move { cluster(c, client, scope, &name).await }
        })
        .buffer_unordered(CLUSTERS_IN_FLIGHT)
        .collect()
        .await;
    for part in per_cluster {
        inv.merge(part);
    }
    // The networking limits of the instance types the nodegroups use, batched per region,
    // asked as soon as the nodegroups are known.
    let types: std::collections::BTreeSet<String> = inv
        .eks_nodegroups
        .iter()
        .flat_map(|n| n.instance_types.iter().cloned())
        .collect();
    let (instance_types, addon_versions) = tokio::join!(
        super::ec2::instance_types(c, scope, types),
        addon_versions(c, &client, scope, &inv),
    );
    inv.instance_types = instance_types;
    inv.eks_addon_versions = addon_versions;
    inv
}

/// The versions EKS offers of each add-on the clusters run, for each Kubernetes version
/// they run it on: one paginated DescribeAddonVersions per distinct pair.
async fn addon_versions(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    inv: &Inventory,
) -> Vec<EksAddonVersions> {
    let pairs: std::collections::BTreeSet<(String, String)> = inv
        .eks_addons
        .iter()
        .filter_map(|a| {
            let cluster = inv.eks_clusters.iter().find(|c| c.name == a.cluster_name)?;
            Some((a.name.clone(), cluster.version.clone()?))
        })
        .collect();
    join_all(pairs.iter().map(|(addon, k8s)| async move {
        let key = EksAddonVersions::key_of(addon, k8s);
        let pages = c
            .pages(
                scope,
                &ops::eks::DESCRIBE_ADDON_VERSIONS,
                Some(&key),
                |page| {
                    client
                        .describe_addon_versions()
                        .addon_name(addon)
                        .kubernetes_version(k8s)
                        .set_max_results(page)
                        .into_paginator()
                        .send()
                        .try_collect()
                },
            )
            .await?;
        let versions = pages
            .iter()
            .flat_map(|p| p.addons())
            .filter(|a| a.addon_name() == Some(addon.as_str()))
            .flat_map(|a| a.addon_versions())
            .filter_map(|v| {
                let compat = v
                    .compatibilities()
                    .iter()
                    .find(|c| c.cluster_version() == Some(k8s.as_str()))?;
                Some(AddonVersion {
                    version: v.addon_version()?.to_string(),
                    default: compat.default_version(),
                })
            })
            .collect();
        Some(EksAddonVersions {
            scope: scope.clone(),
            key,
            addon_name: addon.clone(),
            kubernetes_version: k8s.clone(),
            versions,
        })
    }))
    .await
    .into_iter()
    .flatten()
    .collect()
}

/// A cluster's Pod Identity associations: ListPodIdentityAssociations, then
/// DescribePodIdentityAssociation for each (the listing does not name the role).
async fn pod_identity_associations(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    cluster: &str,
    cluster_arn: &str,
) -> Vec<EksPodIdentityAssociation> {
    listed_then_described(
        c,
        scope,
        cluster_arn,
        (
            &ops::eks::LIST_POD_IDENTITY_ASSOCIATIONS,
            &ops::eks::DESCRIBE_POD_IDENTITY_ASSOCIATION,
        ),
        |page| {
            client
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        },
        |p| {
            p.associations()
                .iter()
                .filter_map(|a| a.association_id().map(str::to_string))
                .collect()
        },
        |id| {
            client
                .describe_pod_identity_association()
                .cluster_name(cluster)
                .association_id(id)
                .send()
        },
    )
    .await
    .iter()
    .filter_map(|o| {
        let a = o.association()?;
        Some(EksPodIdentityAssociation {
            scope: scope.clone(),
            arn: a.association_arn().unwrap_or_default().to_string(),
            id: a.association_id().unwrap_or_default().to_string(),
            cluster_name: cluster.to_string(),
            namespace: a.namespace().unwrap_or_default().to_string(),
            service_account: a.service_account().unwrap_or_default().to_string(),
            role_arn: a.role_arn().map(str::to_string),
        })
    })
    .collect()
}

/// A cluster's add-ons: ListAddons, then DescribeAddon for each.
async fn addons(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    cluster: &str,
    cluster_arn: &str,
) -> Vec<EksAddon> {
    listed_then_described(
        c,
        scope,
        cluster_arn,
        (&ops::eks::LIST_ADDONS, &ops::eks::DESCRIBE_ADDON),
        |page| {
            client
                .list_addons()
                .cluster_name(cluster)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        },
        |p| p.addons().to_vec(),
        |name| {
            client
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(name)
                .send()
        },
    )
    .await
    .iter()
    .filter_map(|o| {
        let a = o.addon()?;
        Some(EksAddon {
            scope: scope.clone(),
            arn: a.addon_arn().unwrap_or_default().to_string(),
            name: a.addon_name().unwrap_or_default().to_string(),
            cluster_name: cluster.to_string(),
            status: a.status().map_or(String::new(), |s| s.as_str().to_string()),
            version: a.addon_version().map(str::to_string),
            health_issues: a
                .health()
                .map(|h| h.issues())
                .unwrap_or_default()
                .iter()
                .map(|i| AddonIssue {
                    code: i.code().map(|c| c.as_str().to_string()),
                    message: i.message().map(str::to_string),
                })
                .collect(),
        })
    })
    .collect()
}

/// One cluster: DescribeCluster, and its nodegroups, Fargate profiles, add-ons and Pod
/// Identity associations, all concurrently.
async fn cluster(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    name: &str,
) -> Inventory {
    let mut inv = Inventory::default();
    // Failures of a cluster's sub-listings are scoped to the cluster's ARN, which the
    // listing does not return; build it the way EKS does.
    let arn = format!(
        "arn:{}:eks:{}:{}:cluster/{}",
        scope.partition(),
        scope.region,
        scope.account,
        name
    );
    let (described, nodegroups, profiles, addons, associations) = tokio::join!(
        c.call(scope, &ops::eks::DESCRIBE_CLUSTER, Some(&arn), async {
            client.describe_cluster().name(name).send().await
        }),
        nodegroups(c, client, scope, name, &arn),
        fargate_profiles(c, client, scope, name, &arn),
        addons(c, client, scope, name, &arn),
        pod_identity_associations(c, client, scope, name, &arn),
    );
    inv.eks_addons = addons;
    inv.eks_pod_identity_associations = associations;
    if let Some(cl) = described.as_ref().and_then(|o| o.cluster()) {
        let eks = eks_cluster(scope, cl, &arn);
        inv.resource_tags
            .insert(eks.arn.clone(), owned_tags(cl.tags()));
        inv.eks_clusters.push(eks);
    }
    for (ng, tags) in nodegroups {
        inv.resource_tags.insert(ng.arn.clone(), tags);
        inv.eks_nodegroups.push(ng);
    }
    inv.eks_fargate_profiles = profiles;
    inv
}

/// One of a cluster's sub-listings: `list` page by page, then `describe` for each name
/// `names` finds in a page, concurrently. A failed call is a gap scoped to the cluster.
async fn listed_then_described<P, D, E1, E2, L, LF, N, Df, DF>(
    c: &Collector,
    scope: &Scope,
    cluster_arn: &str,
    (list_op, describe_op): (&Op, &Op),
    list: L,
    names: N,
    describe: Df,
) -> Vec<D>
where
    L: FnOnce(Option<i32>) -> LF,
    LF: Future<Output = Result<Vec<P>, SdkError<E1, HttpResponse>>>,
    E1: ProvideErrorMetadata + std::error::Error + 'static,
    N: Fn(&P) -> Vec<String>,
    Df: Fn(String) -> DF,
    DF: Future<Output = Result<D, SdkError<E2, HttpResponse>>>,
    E2: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Some(pages) = c.pages(scope, list_op, Some(cluster_arn), list).await else {
        return Vec::new();
    };
    let names: Vec<String> = pages.iter().flat_map(names).collect();
    join_all(
        names
            .into_iter()
            .map(|n| c.call(scope, describe_op, Some(cluster_arn), describe(n))),
    )
    .await
    .into_iter()
    .flatten()
    .collect()
}

async fn nodegroups(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    cluster: &str,
    cluster_arn: &str,
) -> Vec<(EksNodegroup, BTreeMap<String, String>)> {
    listed_then_described(
        c,
        scope,
        cluster_arn,
        (&ops::eks::LIST_NODEGROUPS, &ops::eks::DESCRIBE_NODEGROUP),
        |page| {
            client
                .list_nodegroups()
                .cluster_name(cluster)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        },
        |p| p.nodegroups().to_vec(),
        |ng| {
            client
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(ng)
                .send()
        },
    )
    .await
    .iter()
    .filter_map(|o| {
        o.nodegroup()
            .map(|n| (nodegroup(scope, cluster, n), owned_tags(n.tags())))
    })
    .collect()
}

async fn fargate_profiles(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    cluster: &str,
    cluster_arn: &str,
) -> Vec<EksFargateProfile> {
    listed_then_described(
        c,
        scope,
        cluster_arn,
        (
            &ops::eks::LIST_FARGATE_PROFILES,
            &ops::eks::DESCRIBE_FARGATE_PROFILE,
        ),
        |page| {
            client
                .list_fargate_profiles()
                .cluster_name(cluster)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        },
        |p| p.fargate_profile_names().to_vec(),
        |name| {
            client
                .describe_fargate_profile()
                .cluster_name(cluster)
                .fargate_profile_name(name)
                .send()
        },
    )
    .await
    .iter()
    .filter_map(|o| {
        o.fargate_profile()
            .map(|p| fargate_profile(scope, cluster, p))
    })
    .collect()
}

/// EKS returns tags as a map.
fn owned_tags(
    tags: Option<&std::collections::HashMap<String, String>>,
) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn eks_cluster(scope: &Scope, c: &t::Cluster, fallback_arn: &str) -> EksCluster {
    let vpc = c.resources_vpc_config();
    EksCluster {
        scope: scope.clone(),
        arn: c.arn().unwrap_or(fallback_arn).to_string(),
        name: c.name().unwrap_or_default().to_string(),
        status: c
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        version: c.version().map(str::to_string),
        platform_version: c.platform_version().map(str::to_string),
        role_arn: c.role_arn().map(str::to_string),
        vpc_id: vpc.and_then(|v| v.vpc_id()).map(str::to_string),
        subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
        endpoint_public_access: vpc.is_some_and(|v| v.endpoint_public_access()),
        endpoint_private_access: vpc.is_some_and(|v| v.endpoint_private_access()),
        public_access_cidrs: vpc
            .map(|v| v.public_access_cidrs().to_vec())
            .unwrap_or_default(),
        enabled_log_types: c
            .logging()
            .map(|l| {
                l.cluster_logging()
                    .iter()
                    .filter(|s| s.enabled() == Some(true))
                    .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        // Envelope encryption with a customer KMS key (EKS now encrypts everything by
        // default, so the config's `resources` list no longer matters).
        secrets_encrypted: c
            .encryption_config()
            .iter()
            .any(|e| e.provider().and_then(|p| p.key_arn()).is_some()),
        oidc_issuer: c
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer())
            .map(str::to_string),
        auto_mode_compute: c
            .compute_config()
            .and_then(|cc| cc.enabled())
            .unwrap_or(false),
        created_at: rfc3339(c.created_at()),
        deletion_protection: c.deletion_protection(),
        authentication_mode: c
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string()),
    }
}

fn nodegroup(scope: &Scope, cluster: &str, n: &t::Nodegroup) -> EksNodegroup {
    let scaling = n.scaling_config();
    EksNodegroup {
        scope: scope.clone(),
        arn: n.nodegroup_arn().unwrap_or_default().to_string(),
        name: n.nodegroup_name().unwrap_or_default().to_string(),
        cluster_name: n.cluster_name().unwrap_or(cluster).to_string(),
        status: n
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        version: n.version().map(str::to_string),
        capacity_type: n.capacity_type().map(|c| c.as_str().to_string()),
        instance_types: n.instance_types().to_vec(),
        subnets: n.subnets().to_vec(),
        min_size: scaling.and_then(|s| s.min_size()).unwrap_or(0),
        max_size: scaling.and_then(|s| s.max_size()).unwrap_or(0),
        desired_size: scaling.and_then(|s| s.desired_size()).unwrap_or(0),
    }
}

fn fargate_profile(scope: &Scope, cluster: &str, p: &t::FargateProfile) -> EksFargateProfile {
    EksFargateProfile {
        scope: scope.clone(),
        arn: p.fargate_profile_arn().unwrap_or_default().to_string(),
        name: p.fargate_profile_name().unwrap_or_default().to_string(),
        cluster_name: p.cluster_name().unwrap_or(cluster).to_string(),
        status: p
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        subnets: p.subnets().to_vec(),
        selectors: p
            .selectors()
            .iter()
            .map(|s| FargateSelector {
                namespace: s.namespace().map(str::to_string),
                labels: s
                    .labels()
                    .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}
