//! IAM records: roles with their policies, customer managed policies, OIDC providers.

use serde::{Deserialize, Serialize};

use super::Scope;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamRole {
    /// Region is [`GLOBAL_REGION`](super::GLOBAL_REGION).
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    pub path: String,
    /// URL-decoded trust policy JSON.
    pub trust_policy: Option<String>,
    pub inline_policies: Vec<NamedPolicy>,
    pub attached_policy_arns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    /// URL-decoded policy JSON.
    pub document: String,
}

/// A customer managed policy with the document of its default version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManagedPolicy {
    /// Region is [`GLOBAL_REGION`](super::GLOBAL_REGION).
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    pub name: String,
    /// URL-decoded JSON of the default version; `None` if IAM returned no default version.
    pub document: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OidcProvider {
    #[serde(flatten)]
    pub scope: Scope,
    pub arn: String,
    /// Without the scheme, as IAM returns it (`oidc.eks.us-east-1.amazonaws.com/id/ABC`).
    pub url: Option<String>,
}
