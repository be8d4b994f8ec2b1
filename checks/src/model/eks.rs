//! EKS records: clusters, managed nodegroups, Fargate profiles.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Scope;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksCluster {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// `CREATING`, `ACTIVE`, `DELETING`, `FAILED`, `UPDATING`, `PENDING`.
    pub status: String,
    pub version: Option<String>,
    pub platform_version: Option<String>,
    pub role_arn: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub public_access_cidrs: Vec<String>,
    /// Control-plane log types that are enabled (`api`, `audit`, …).
    pub enabled_log_types: Vec<String>,
    pub secrets_encrypted: bool,
    pub oidc_issuer: Option<String>,
    /// EKS Auto Mode compute (`computeConfig.enabled`).
    pub auto_mode_compute: bool,
    pub created_at: Option<String>,
    /// `deletionProtection`; `None` where the response did not say.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// `accessConfig.authenticationMode`: `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`;
    /// `None` where the response did not say.
    #[serde(default)]
    pub authentication_mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksNodegroup {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub cluster_name: String,
    pub status: String,
    pub version: Option<String>,
    pub capacity_type: Option<String>,
    pub instance_types: Vec<String>,
    pub subnets: Vec<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksFargateProfile {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub cluster_name: String,
    pub status: String,
    pub subnets: Vec<String>,
    pub selectors: Vec<FargateSelector>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FargateSelector {
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl EksNodegroup {
    /// False while the nodegroup is being deleted.
    pub fn is_live(&self) -> bool {
        !self.status.eq_ignore_ascii_case("DELETING")
    }
}

impl EksFargateProfile {
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }

    /// Whether the profile can schedule pods of `namespace`, ignoring label selectors.
    /// Selector namespaces may contain the wildcards `*` and `?`. With `unconditional`,
    /// only selectors without labels count: those take every pod of the namespace.
    pub fn selects_namespace(&self, namespace: &str, unconditional: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.namespace
                .as_deref()
                .is_some_and(|pattern| glob_match(pattern, namespace))
                && (!unconditional || s.labels.is_empty())
        })
    }
}

/// Matches `text` against a pattern where `*` is any run of characters and `?` any one
/// character (the wildcards EKS Fargate profile selectors accept, as IAM's do), case
/// sensitively. One matcher serves both: [`crate::policy::wildcard_match`].
pub fn glob_match(pattern: &str, text: &str) -> bool {
    crate::policy::wildcard_match(pattern, text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_fargate_selector_wildcards() {
        for (pattern, text, want) in [
            ("default", "default", true),
            ("default", "defaults", false),
            ("prod-*", "prod-web", true),
            ("prod-*", "prod-", true),
            ("*", "anything", true),
            ("p?od", "prod", true),
            ("p?od", "pod", false),
            ("*-web-*", "shop-web-1", true),
            ("*-web-*", "shop-api-1", false),
            ("", "", true),
        ] {
            assert_eq!(glob_match(pattern, text), want, "{pattern} vs {text}");
        }
    }
}

/// An EKS add-on installed on a cluster (ListAddons, DescribeAddon).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksAddon {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    /// `vpc-cni`, `coredns`, `kube-proxy`, …
    pub name: String,
    pub cluster_name: String,
    /// `ACTIVE`, `DEGRADED`, `CREATE_FAILED`, `UPDATE_FAILED`, `UPDATING`, …
    pub status: String,
    pub version: Option<String>,
    /// `health.issues`: what EKS reports wrong with it.
    pub health_issues: Vec<AddonIssue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AddonIssue {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// The versions of one add-on EKS offers for one Kubernetes version (DescribeAddonVersions).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksAddonVersions {
    #[serde(flatten)]
    pub scope: Scope,
    /// `<addon>@<kubernetes version>`, the record's identity.
    pub key: String,
    pub addon_name: String,
    pub kubernetes_version: String,
    /// Every version compatible with that Kubernetes version, with whether it is the default.
    pub versions: Vec<AddonVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AddonVersion {
    pub version: String,
    pub default: bool,
}

impl EksAddonVersions {
    pub fn key_of(addon_name: &str, kubernetes_version: &str) -> String {
        format!("{addon_name}@{kubernetes_version}")
    }
}

/// An EKS Pod Identity association: pods of a service account get an IAM role
/// (ListPodIdentityAssociations, DescribePodIdentityAssociation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EksPodIdentityAssociation {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub id: String,
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: Option<String>,
}
