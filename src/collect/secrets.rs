//! What task definitions inject, read once every region (and, in a fleet run, every
//! account) is collected, so a secret in another region or account of the run is read where
//! it lives.
//!
//! Only metadata, never a value: each Secrets Manager secret a reference names is described
//! once (`DescribeSecret`: existence, deletion schedule, version stages, KMS key), SSM
//! parameters are described 50 names a call (`DescribeParameters` with a `Name` filter), and
//! the customer KMS keys those name are described (`DescribeKey`), with the key policy of
//! each customer managed key (`GetKeyPolicy`). "Not found" is an answer (the secret,
//! parameter or key does not exist), not a gap.
//!
//! References to an account or region outside the run are not asked for; the checks say
//! they could not judge them.

use std::collections::{BTreeMap, BTreeSet};

use checks::model::{
    is_aws_managed_alias, kms_key_reference, parameter_candidates, Inventory, KmsKeyDetail,
    KmsKeyLookup, ParameterDetail, ParameterLookup, Scope, SecretDetail, SecretLookup,
    SecretSource,
};
use futures::stream::{self, StreamExt};

use super::ecr::none_if_not_found;
use super::{ops, rfc3339, Collector};

/// Lookups under way at once, run-wide (--concurrency still bounds the HTTP requests).
const IN_FLIGHT: usize = 32;
/// DescribeParameters' largest page.
const PARAMETER_PAGE: i32 = 50;

/// What [`collect`] found.
#[derive(Default)]
pub struct Found {
    secret_lookups: Vec<SecretLookup>,
    parameter_lookups: Vec<ParameterLookup>,
    kms_key_lookups: Vec<KmsKeyLookup>,
}

/// Puts what [`collect`] found into the inventory it read.
pub fn apply(inv: &mut Inventory, found: Found) {
    inv.secret_lookups.extend(found.secret_lookups);
    inv.parameter_lookups.extend(found.parameter_lookups);
    inv.kms_key_lookups.extend(found.kms_key_lookups);
}

/// Every secret and parameter reference of the collected task definitions, as ECS reads it.
pub(super) fn injected(inv: &Inventory) -> impl Iterator<Item = SecretSource> + '_ {
    inv.task_definitions.iter().flat_map(|td| {
        td.containers.iter().flat_map(move |c| {
            c.secret_references()
                .map(move |(_, value_from)| SecretSource::parse(value_from, &td.scope))
        })
    })
}

/// Describes every secret, parameter and KMS key the collected task definitions inject.
pub async fn collect(c: &Collector, inv: &Inventory) -> Found {
    let audited = c.audited_scopes();
    let mut secrets: BTreeSet<(Scope, String)> = BTreeSet::new();
    let mut parameters: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
    for source in injected(inv) {
        match source {
            SecretSource::SecretsManager {
                scope, secret_id, ..
            } if audited.contains(&scope) => {
                secrets.insert((scope, secret_id));
            }
            SecretSource::Parameter { scope, name } if audited.contains(&scope) => {
                parameters
                    .entry(scope)
                    .or_default()
                    .extend(parameter_candidates(&name));
            }
            _ => {}
        }
    }
    if secrets.is_empty() && parameters.is_empty() {
        return Found::default();
    }
    let (secret_lookups, parameter_lookups) = tokio::join!(
        stream::iter(secrets)
            .map(|(scope, id)| describe_secret(c, scope, id))
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<_>>(),
        stream::iter(parameters)
            .map(|(scope, names)| describe_parameters(c, scope, names))
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<_>>(),
    );
    let mut found = Found {
        secret_lookups: secret_lookups.into_iter().flatten().collect(),
        parameter_lookups: parameter_lookups.into_iter().flatten().collect(),
        kms_key_lookups: Vec::new(),
    };

    // The keys, where they are: once each.
    let mut keys: BTreeSet<(Scope, String)> = BTreeSet::new();
    let named: Vec<(Scope, String)> = found
        .secret_lookups
        .iter()
        .filter_map(|l| Some((&l.scope, l.secret.as_ref()?.kms_key_id.as_deref()?)))
        .chain(found.parameter_lookups.iter().filter_map(|l| {
            let p = l.parameter.as_ref()?;
            Some((&l.scope, p.key_id.as_deref()?))
        }))
        .filter(|(_, key)| !is_aws_managed_alias(key))
        .map(|(owner, key)| kms_key_reference(owner, key))
        .collect();
    // A key in another account of a fleet run is read once that account is collected.
    for account in named
        .iter()
        .map(|(s, _)| &s.account)
        .collect::<BTreeSet<_>>()
    {
        c.ensure_collected(account).await;
    }
    let audited = c.audited_scopes();
    for (scope, id) in named {
        if audited.contains(&scope) {
            keys.insert((scope, id));
        }
    }
    let key_lookups: Vec<Option<KmsKeyLookup>> = stream::iter(keys)
        .map(|(scope, id)| describe_key(c, scope, id))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    found.kms_key_lookups = key_lookups.into_iter().flatten().collect();
    found
}

/// One secret's metadata; `None` when the call failed (a gap scoped to the id asked).
async fn describe_secret(c: &Collector, scope: Scope, secret_id: String) -> Option<SecretLookup> {
    let client = c.session(&scope.account).secretsmanager(&scope.region);
    let out = c
        .call(
            &scope,
            &ops::secrets::DESCRIBE_SECRET,
            Some(&secret_id),
            none_if_not_found(
                client.describe_secret().secret_id(&secret_id).send(),
                Some,
                |e| e.is_resource_not_found_exception(),
            ),
        )
        .await?;
    let secret = out.map(|o| SecretDetail {
        arn: o.arn().unwrap_or(&secret_id).to_string(),
        name: o.name().unwrap_or_default().to_string(),
        kms_key_id: o.kms_key_id().map(str::to_string),
        deleted_date: rfc3339(o.deleted_date()),
        version_stages: o
            .version_ids_to_stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    });
    Some(SecretLookup {
        scope,
        secret_id,
        secret,
    })
}

/// The parameters of one region by name, 50 names a call; a failed batch leaves its names
/// without a lookup (a region-wide gap).
async fn describe_parameters(
    c: &Collector,
    scope: Scope,
    names: BTreeSet<String>,
) -> Vec<ParameterLookup> {
    let client = c.session(&scope.account).ssm(&scope.region);
    let names: Vec<String> = names.into_iter().collect();
    let batches = c.batches(
        &scope,
        &ops::secrets::DESCRIBE_PARAMETERS,
        None,
        &names,
        |batch: Vec<String>| {
            let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .set_values(Some(batch))
                .build()
                .expect("Key is set");
            client
                .describe_parameters()
                .parameter_filters(filter)
                .max_results(PARAMETER_PAGE)
                .into_paginator()
                .send()
                .try_collect()
        },
    );
    let mut out = Vec::new();
    for (batch, pages) in futures::future::join_all(batches).await {
        let Some(pages) = pages else {
            continue;
        };
        let mut found: BTreeMap<&str, ParameterDetail> = BTreeMap::new();
        for p in pages.iter().flat_map(|p| p.parameters()) {
            let Some(name) = p.name() else {
                continue;
            };
            found.insert(
                name,
                ParameterDetail {
                    arn: p.arn().map(str::to_string),
                    name: name.to_string(),
                    parameter_type: p.r#type().map_or("String", |t| t.as_str()).to_string(),
                    key_id: p.key_id().map(str::to_string),
                },
            );
        }
        for name in batch {
            let parameter = found.get(name.as_str()).cloned();
            out.push(ParameterLookup {
                scope: scope.clone(),
                name,
                parameter,
            });
        }
    }
    out
}

/// One key's metadata and, for a customer managed key, its policy; `None` when DescribeKey
/// failed (a gap scoped to the id asked).
async fn describe_key(c: &Collector, scope: Scope, key_id: String) -> Option<KmsKeyLookup> {
    let client = c.session(&scope.account).kms(&scope.region);
    let out = c
        .call(
            &scope,
            &ops::secrets::DESCRIBE_KEY,
            Some(&key_id),
            none_if_not_found(
                client.describe_key().key_id(&key_id).send(),
                |o| o.key_metadata,
                |e| e.is_not_found_exception(),
            ),
        )
        .await?;
    let key = match out {
        None => None,
        Some(m) => {
            let arn = m.arn().unwrap_or(&key_id).to_string();
            let key_manager = m.key_manager().map(|k| k.as_str().to_string());
            let policy = if key_manager.as_deref() == Some("CUSTOMER") {
                c.call(
                    &scope,
                    &ops::secrets::GET_KEY_POLICY,
                    Some(&arn),
                    client
                        .get_key_policy()
                        .key_id(m.key_id())
                        .policy_name("default")
                        .send(),
                )
                .await
                .and_then(|o| o.policy)
            } else {
                None
            };
            Some(KmsKeyDetail {
                arn,
                key_manager,
                key_state: m.key_state().map(|s| s.as_str().to_string()),
                enabled: m.enabled(),
                deletion_date: rfc3339(m.deletion_date()),
                policy,
            })
        }
    };
    Some(KmsKeyLookup { scope, key_id, key })
}
