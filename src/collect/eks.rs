//! EKS: clusters, their managed nodegroups, Fargate profiles and add-ons, and the add-on
//! versions EKS offers for the Kubernetes versions the clusters run (one
//! DescribeAddonVersions listing per add-on and version, however many clusters share it).

use std::collections::BTreeMap;

use aws_sdk_eks::types as t;
use checks::model::{
    AddonIssue, AddonVersion, EksAddon, EksAddonVersions, EksCluster, EksFargateProfile,
    EksNodegroup, EksPodIdentityAssociation, FargateSelector, Inventory, Scope,
};
use futures::future::join_all;

use super::{ops, rfc3339, Collector};

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
    let per_cluster = join_all(names.iter().map(|name| cluster(c, &client, scope, name))).await;
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
    let Some(pages) = c
        .pages(
            scope,
            &ops::eks::LIST_POD_IDENTITY_ASSOCIATIONS,
            Some(cluster_arn),
            |page| {
                client
                    .list_pod_identity_associations()
                    .cluster_name(cluster)
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            },
        )
        .await
    else {
        return Vec::new();
    };
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.associations())
        .filter_map(|a| a.association_id().map(str::to_string))
        .collect();
    join_all(ids.iter().map(|id| async move {
        c.call(
            scope,
            &ops::eks::DESCRIBE_POD_IDENTITY_ASSOCIATION,
            Some(cluster_arn),
            async {
                client
                    .describe_pod_identity_association()
                    .cluster_name(cluster)
                    .association_id(id)
                    .send()
                    .await
            },
        )
        .await
    }))
    .await
    .into_iter()
    .flatten()
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
    let Some(pages) = c
        .pages(scope, &ops::eks::LIST_ADDONS, Some(cluster_arn), |page| {
            client
                .list_addons()
                .cluster_name(cluster)
                .set_max_results(page)
                .into_paginator()
                .send()
                .try_collect()
        })
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.addons().iter().cloned())
        .collect();
    join_all(names.iter().map(|name| async move {
        c.call(scope, &ops::eks::DESCRIBE_ADDON, Some(cluster_arn), async {
            client
                .describe_addon()
                .cluster_name(cluster)
                .addon_name(name)
                .send()
                .await
        })
        .await
    }))
    .await
    .into_iter()
    .flatten()
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

/// One cluster: DescribeCluster, and its nodegroups and Fargate profiles concurrently.
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

async fn nodegroups(
    c: &Collector,
    client: &aws_sdk_eks::Client,
    scope: &Scope,
    cluster: &str,
    cluster_arn: &str,
) -> Vec<(EksNodegroup, BTreeMap<String, String>)> {
    let Some(pages) = c
        .pages(
            scope,
            &ops::eks::LIST_NODEGROUPS,
            Some(cluster_arn),
            |page| {
                client
                    .list_nodegroups()
                    .cluster_name(cluster)
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            },
        )
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.nodegroups().iter().cloned())
        .collect();
    join_all(names.iter().map(|ng| async move {
        c.call(
            scope,
            &ops::eks::DESCRIBE_NODEGROUP,
            Some(cluster_arn),
            async {
                client
                    .describe_nodegroup()
                    .cluster_name(cluster)
                    .nodegroup_name(ng)
                    .send()
                    .await
            },
        )
        .await
    }))
    .await
    .into_iter()
    .flatten()
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
    let Some(pages) = c
        .pages(
            scope,
            &ops::eks::LIST_FARGATE_PROFILES,
            Some(cluster_arn),
            |page| {
                client
                    .list_fargate_profiles()
                    .cluster_name(cluster)
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            },
        )
        .await
    else {
        return Vec::new();
    };
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.fargate_profile_names().iter().cloned())
        .collect();
    join_all(names.iter().map(|p| async move {
        c.call(
            scope,
            &ops::eks::DESCRIBE_FARGATE_PROFILE,
            Some(cluster_arn),
            async {
                client
                    .describe_fargate_profile()
                    .cluster_name(cluster)
                    .fargate_profile_name(p)
                    .send()
                    .await
            },
        )
        .await
    }))
    .await
    .into_iter()
    .flatten()
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
