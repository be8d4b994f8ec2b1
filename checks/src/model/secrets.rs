//! What task definitions inject from Secrets Manager and SSM Parameter Store, and the KMS
//! keys those are encrypted with — as their Describe calls answer. No secret or parameter
//! *value* is ever read: existence, deletion schedule, version stages and the key are all the
//! metadata APIs say.
//!
//! A reference is looked up where it points (the account and region of its ARN, else the
//! task definition's own), once however many task definitions name it. Each lookup is kept
//! with what was asked, so "asked and not found" (`None`) differs from "never asked" (no
//! record: outside the run, or the call failed — the coverage says which).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ContainerDefinition, Scope};

/// The SSM path under which Parameter Store hands out Secrets Manager secrets.
pub const SSM_SECRETS_MANAGER_REFERENCE: &str = "/aws/reference/secretsmanager/";

/// What a `valueFrom` (or `credentialsParameter`) names, parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretSource {
    /// A Secrets Manager secret: `secret_id` is the ARN up to the secret's name (full, with
    /// AWS's six-character suffix, or partial) or, through an SSM reference, its name.
    SecretsManager {
        scope: Scope,
        secret_id: String,
        /// `:json-key:version-stage:version-id` after the ARN (empty parts left out).
        json_key: Option<String>,
        version_stage: Option<String>,
        version_id: Option<String>,
    },
    /// An SSM parameter, by name. An ARN whose name has no `/` may stand for `name` or
    /// `/name`: [`parameter_candidates`] gives both.
    Parameter { scope: Scope, name: String },
    /// An AWS public parameter (`/aws/service/…`): it exists in every region.
    PublicParameter,
    /// Neither form: ECS refuses to start the task.
    Unrecognised,
}

impl SecretSource {
    /// Parses a reference as ECS reads it for a task in `task_scope`: a Secrets Manager ARN,
    /// an SSM parameter ARN, or an SSM parameter name (same account and region).
    pub fn parse(value_from: &str, task_scope: &Scope) -> SecretSource {
        let value = value_from.trim();
        if let Some(rest) = value.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_partition, service, region, account, resource] = parts[..] else {
                return SecretSource::Unrecognised;
            };
            if region.is_empty() || account.is_empty() {
                return SecretSource::Unrecognised;
            }
            let scope = Scope::new(account, region);
            return match service {
                "secretsmanager" => {
                    // secret:NAME[:json-key[:version-stage[:version-id]]]
                    let mut fields = resource.split(':');
                    let (Some("secret"), Some(name)) = (fields.next(), fields.next()) else {
                        return SecretSource::Unrecognised;
                    };
                    if name.is_empty() {
                        return SecretSource::Unrecognised;
                    }
                    let mut part = || fields.next().filter(|p| !p.is_empty()).map(str::to_string);
                    let (json_key, version_stage, version_id) = (part(), part(), part());
                    let base_len = value.len() - resource.len() + "secret:".len() + name.len();
                    SecretSource::SecretsManager {
                        scope,
                        secret_id: value[..base_len].to_string(),
                        json_key,
                        version_stage,
                        version_id,
                    }
                }
                "ssm" => match resource.strip_prefix("parameter") {
                    Some(name) if name.len() > 1 && name.starts_with('/') => {
                        Self::parameter(scope, name.to_string())
                    }
                    _ => SecretSource::Unrecognised,
                },
                _ => SecretSource::Unrecognised,
            };
        }
        if value.is_empty() {
            return SecretSource::Unrecognised;
        }
        let name = if value.contains('/') && !value.starts_with('/') {
            format!("/{value}")
        } else {
            value.to_string()
        };
        Self::parameter(task_scope.clone(), name)
    }

    fn parameter(scope: Scope, name: String) -> SecretSource {
        if let Some(secret) = name.strip_prefix(SSM_SECRETS_MANAGER_REFERENCE) {
            return SecretSource::SecretsManager {
                scope,
                secret_id: secret.to_string(),
                json_key: None,
                version_stage: None,
                version_id: None,
            };
        }
        if name.starts_with("/aws/service/") {
            return SecretSource::PublicParameter;
        }
        SecretSource::Parameter { scope, name }
    }

    /// Where the secret or parameter lives.
    pub fn scope(&self) -> Option<&Scope> {
        match self {
            SecretSource::SecretsManager { scope, .. } | SecretSource::Parameter { scope, .. } => {
                Some(scope)
            }
            _ => None,
        }
    }
}

/// The names an SSM `DescribeParameters` must ask for one parameter reference: its name and,
/// for a top-level `/name` (which is how an ARN's `parameter/name` is parsed, and which may
/// have been created as `name`), the form without the `/`.
pub fn parameter_candidates(name: &str) -> Vec<String> {
    match name.strip_prefix('/') {
        Some(bare) if !bare.is_empty() && !bare.contains('/') => {
            vec![bare.to_string(), name.to_string()]
        }
        _ => vec![name.to_string()],
    }
}

/// Where a container's secret reference sits in its task definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretField<'a> {
    /// `secrets[].valueFrom`, by variable name.
    Secret(&'a str),
    /// `logConfiguration.secretOptions[].valueFrom`, by option name.
    LogOption(&'a str),
    /// `repositoryCredentials.credentialsParameter`.
    RepositoryCredentials,
}

impl SecretField<'_> {
    /// How messages name it: `` secret `DB_PASSWORD` ``.
    pub fn describe(&self) -> String {
        match self {
            SecretField::Secret(n) => format!("secret `{n}`"),
            SecretField::LogOption(n) => format!("log option `{n}`"),
            SecretField::RepositoryCredentials => "registry credentials".to_string(),
        }
    }
}

impl ContainerDefinition {
    /// Every secret reference the container makes, with where it sits and what it names.
    pub fn secret_references(&self) -> impl Iterator<Item = (SecretField<'_>, &str)> {
        self.secrets
            .iter()
            .map(|s| (SecretField::Secret(&s.name), s.value.as_str()))
            .chain(
                self.log_secret_options
                    .iter()
                    .map(|s| (SecretField::LogOption(&s.name), s.value.as_str())),
            )
            .chain(
                self.repository_credentials
                    .as_deref()
                    .map(|v| (SecretField::RepositoryCredentials, v)),
            )
    }
}

/// One Secrets Manager `DescribeSecret`, by the id asked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecretLookup {
    #[serde(flatten)]
    pub scope: Scope,
    /// The `SecretId` asked: an ARN (full or partial) or a name.
    pub secret_id: String,
    /// `None`: Secrets Manager answered that no such secret exists.
    pub secret: Option<SecretDetail>,
}

/// What `DescribeSecret` says of a secret (never its value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecretDetail {
    pub arn: String,
    pub name: String,
    /// The KMS key as the secret names it (key id, key ARN, alias or alias ARN); absent
    /// means the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    /// When the secret is scheduled for deletion (RFC 3339): it can no longer be read.
    pub deleted_date: Option<String>,
    /// `VersionIdsToStages`: each version id with its staging labels.
    pub version_stages: BTreeMap<String, Vec<String>>,
}

impl SecretDetail {
    /// Whether a version with this id (and, when given, this stage) exists; no stage and no
    /// id means `AWSCURRENT`.
    pub fn has_version(&self, stage: Option<&str>, id: Option<&str>) -> bool {
        let stage = match (stage, id) {
            (None, None) => Some("AWSCURRENT"),
            (s, _) => s,
        };
        self.version_stages.iter().any(|(vid, stages)| {
            id.is_none_or(|id| id == vid) && stage.is_none_or(|s| stages.iter().any(|x| x == s))
        })
    }
}

/// One SSM parameter name `DescribeParameters` was asked for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParameterLookup {
    #[serde(flatten)]
    pub scope: Scope,
    pub name: String,
    /// `None`: no parameter has this name.
    pub parameter: Option<ParameterDetail>,
}

/// What `DescribeParameters` says of a parameter (never its value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParameterDetail {
    pub arn: Option<String>,
    pub name: String,
    /// `String`, `StringList` or `SecureString`.
    pub parameter_type: String,
    /// A `SecureString`'s KMS key, as SSM names it (`alias/aws/ssm` for the AWS managed key).
    pub key_id: Option<String>,
}

impl ParameterDetail {
    /// Its ARN, as SSM gives it or as it is built from the name.
    pub fn arn_in(&self, scope: &Scope) -> String {
        self.arn.clone().unwrap_or_else(|| {
            format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                scope.partition(),
                scope.region,
                scope.account,
                self.name.trim_start_matches('/')
            )
        })
    }
}

/// One KMS `DescribeKey` (and, for a customer managed key, `GetKeyPolicy`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KmsKeyLookup {
    #[serde(flatten)]
    pub scope: Scope,
    /// The `KeyId` asked: as the secret or parameter names the key.
    pub key_id: String,
    /// `None`: KMS answered that no such key (or alias) exists.
    pub key: Option<KmsKeyDetail>,
}

/// What KMS says of a key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KmsKeyDetail {
    pub arn: String,
    /// `AWS` or `CUSTOMER`.
    pub key_manager: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, …
    pub key_state: Option<String>,
    pub enabled: bool,
    /// When a key pending deletion is deleted (RFC 3339).
    pub deletion_date: Option<String>,
    /// The `default` key policy, read for customer managed keys; `None` when not read.
    pub policy: Option<String>,
}

impl KmsKeyDetail {
    pub fn is_aws_managed(&self) -> bool {
        self.key_manager.as_deref() == Some("AWS")
    }

    /// Whether KMS uses the key to decrypt now.
    pub fn usable(&self) -> bool {
        self.enabled && self.key_state.as_deref().is_none_or(|s| s == "Enabled")
    }
}

/// Where the KMS key a secret or parameter in `scope` names lives, and the id to ask KMS
/// there: an ARN carries its own account and region, anything else is the owner's.
pub fn kms_key_reference(owner: &Scope, key: &str) -> (Scope, String) {
    let parts: Vec<&str> = key.splitn(6, ':').collect();
    match parts[..] {
        ["arn", _, "kms", region, account, _] if !region.is_empty() && !account.is_empty() => {
            (Scope::new(account, region), key.to_string())
        }
        _ => (owner.clone(), key.to_string()),
    }
}

/// Whether a key reference names one of AWS's managed keys for secrets (`aws/secretsmanager`,
/// `aws/ssm`) by alias: their key policies let every principal of the account decrypt
/// through the service, so there is nothing to judge.
pub fn is_aws_managed_alias(key: &str) -> bool {
    let alias = key.rsplit_once(":alias/").map_or(key, |(_, a)| a);
    let alias = alias.strip_prefix("alias/").unwrap_or(alias);
    alias.starts_with("aws/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Scope {
        Scope::new("111122223333", "us-east-1")
    }

    #[test]
    fn secrets_manager_arns_keep_the_secret_and_split_off_key_stage_and_version() {
        let full = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:db-AbCdEf";
        assert_eq!(
            SecretSource::parse(&format!("{full}:password:AWSPREVIOUS:"), &task()),
            SecretSource::SecretsManager {
                scope: Scope::new("444455556666", "eu-west-1"),
                secret_id: full.into(),
                json_key: Some("password".into()),
                version_stage: Some("AWSPREVIOUS".into()),
                version_id: None,
            }
        );
        let partial = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db";
        match SecretSource::parse(&format!("{partial}:::v-1"), &task()) {
            SecretSource::SecretsManager {
                secret_id,
                json_key,
                version_id,
                ..
            } => {
                assert_eq!(secret_id, partial);
                assert_eq!(json_key, None);
                assert_eq!(version_id.as_deref(), Some("v-1"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            SecretSource::parse("arn:aws:secretsmanager:us-east-1:1:secret:", &task()),
            SecretSource::Unrecognised
        );
        assert_eq!(
            SecretSource::parse("arn:aws:s3:::bucket/key", &task()),
            SecretSource::Unrecognised
        );
    }

    #[test]
    fn parameters_by_arn_or_name_and_the_secrets_manager_reference() {
        assert_eq!(
            SecretSource::parse(
                "arn:aws:ssm:us-west-2:111122223333:parameter/prod/db/password",
                &task()
            ),
            SecretSource::Parameter {
                scope: Scope::new("111122223333", "us-west-2"),
                name: "/prod/db/password".into()
            }
        );
        assert_eq!(
            SecretSource::parse("api-token", &task()),
            SecretSource::Parameter {
                scope: task(),
                name: "api-token".into()
            }
        );
        assert_eq!(
            SecretSource::parse("prod/token", &task()),
            SecretSource::Parameter {
                scope: task(),
                name: "/prod/token".into()
            }
        );
        assert!(matches!(
            SecretSource::parse("/aws/reference/secretsmanager/db", &task()),
            SecretSource::SecretsManager { secret_id, .. } if secret_id == "db"
        ));
        assert_eq!(
            SecretSource::parse("/aws/service/ami-amazon-linux-latest/x", &task()),
            SecretSource::PublicParameter
        );
        assert_eq!(parameter_candidates("/db"), ["db", "/db"]);
        assert_eq!(parameter_candidates("/prod/db"), ["/prod/db"]);
        assert_eq!(parameter_candidates("db"), ["db"]);
    }

    #[test]
    fn keys_and_versions() {
        let (scope, id) = kms_key_reference(
            &task(),
            "arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        );
        assert_eq!(scope, Scope::new("444455556666", "eu-west-1"));
        assert!(id.ends_with("1234567890ab"));
        assert_eq!(kms_key_reference(&task(), "alias/app").0, task());
        assert!(is_aws_managed_alias("alias/aws/secretsmanager"));
        assert!(is_aws_managed_alias(
            "arn:aws:kms:us-east-1:111122223333:alias/aws/ssm"
        ));
        assert!(!is_aws_managed_alias("alias/app"));
        let detail = SecretDetail {
            arn: "a".into(),
            name: "n".into(),
            kms_key_id: None,
            deleted_date: None,
            version_stages: [("v1".to_string(), vec!["AWSCURRENT".to_string()])].into(),
        };
        assert!(detail.has_version(None, None));
        assert!(detail.has_version(None, Some("v1")));
        assert!(!detail.has_version(Some("AWSPREVIOUS"), None));
        assert!(!detail.has_version(None, Some("v2")));
    }
}
