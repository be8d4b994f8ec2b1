//! IAM, once per account: roles with their trust policies, inline and attached policies,
//! and the customer managed policies with their default version (GetAccountAuthorizationDetails
//! returns all of it in a few pages instead of several calls per role and policy), and the
//! OIDC identity providers.

use checks::model::{IamRole, Inventory, ManagedPolicy, NamedPolicy, OidcProvider, Scope};

use super::{ops, Collector};

pub async fn collect(c: &Collector, scope: &Scope, region: &str) -> Inventory {
    let client = c.session(&scope.account).iam(region);
    let mut inv = Inventory::default();
    let (details, providers) = tokio::join!(
        c.pages(
            scope,
            &ops::iam::GET_ACCOUNT_AUTHORIZATION_DETAILS,
            None,
            |page| {
                client
                    .get_account_authorization_details()
                    .filter(aws_sdk_iam::types::EntityType::Role)
                    .filter(aws_sdk_iam::types::EntityType::LocalManagedPolicy)
                    .set_max_items(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            }
        ),
        c.call(
            scope,
            &ops::iam::LIST_OPEN_ID_CONNECT_PROVIDERS,
            None,
            async { client.list_open_id_connect_providers().send().await }
        ),
    );
    if let Some(pages) = details {
        inv.iam_policies = pages
            .iter()
            .flat_map(|p| p.policies().iter())
            .map(|p| ManagedPolicy {
                scope: scope.clone(),
                arn: p.arn().unwrap_or_default().to_string(),
                name: p.policy_name().unwrap_or_default().to_string(),
                document: p
                    .policy_version_list()
                    .iter()
                    .find(|v| {
                        v.is_default_version()
                            || v.version_id().is_some() && v.version_id() == p.default_version_id()
                    })
                    .and_then(|v| v.document())
                    .map(decode_policy),
            })
            .collect();
        for r in pages.iter().flat_map(|p| p.role_detail_list()) {
            if let Some(arn) = r.arn() {
                let tags = r.tags().iter().map(|t| (Some(t.key()), Some(t.value())));
                inv.resource_tags
                    .insert(arn.to_string(), super::tag_map(tags));
            }
        }
        inv.iam_roles = pages
            .iter()
            .flat_map(|p| p.role_detail_list().iter())
            .map(|r| IamRole {
                scope: scope.clone(),
                arn: r.arn().unwrap_or_default().to_string(),
                name: r.role_name().unwrap_or_default().to_string(),
                path: r.path().unwrap_or("/").to_string(),
                trust_policy: r.assume_role_policy_document().map(decode_policy),
                inline_policies: r
                    .role_policy_list()
                    .iter()
                    .map(|p| NamedPolicy {
                        name: p.policy_name().unwrap_or_default().to_string(),
                        document: p.policy_document().map(decode_policy).unwrap_or_default(),
                    })
                    .collect(),
                attached_policy_arns: r
                    .attached_managed_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string))
                    .collect(),
            })
            .collect();
    }
    if let Some(out) = providers {
        inv.oidc_providers = out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn())
            .map(|arn| OidcProvider {
                scope: scope.clone(),
                arn: arn.to_string(),
                // The provider ARN ends in its URL without the scheme, as IAM reports it.
                url: arn
                    .split_once(":oidc-provider/")
                    .map(|(_, u)| u.to_string()),
            })
            .collect();
    }
    inv
}

/// IAM returns policy documents URL-encoded (emulators sometimes do not).
pub fn decode_policy(doc: &str) -> String {
    let trimmed = doc.trim_start();
    if trimmed.starts_with('{') {
        return doc.to_string();
    }
    percent_encoding::percent_decode_str(doc)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode_policy;

    #[test]
    fn policies_are_url_decoded_once() {
        assert_eq!(
            decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        // Already plain JSON, containing a literal percent sign: left alone.
        assert_eq!(decode_policy(r#"{"a":"50%25"}"#), r#"{"a":"50%25"}"#);
    }
}
