//! What running ECS workloads inject at task start: each container's secret references
//! (`secrets`, log `secretOptions`, `repositoryCredentials`), what each resolves to (a
//! Secrets Manager secret, an SSM parameter, nothing, or not known and why) and the KMS key
//! that must decrypt it. Resolved once here, so the checks that judge existence and
//! decryptability agree on what a `valueFrom` names.

use std::collections::HashMap;

use super::{EcsWorkload, Graph};
use crate::model::{
    is_aws_managed_alias, kms_key_reference, parameter_candidates, Inventory, KmsKeyDetail,
    KmsKeyLookup, ParameterDetail, ParameterLookup, Scope, SecretDetail, SecretField, SecretLookup,
    SecretSource, TaskDefinition,
};

/// One secret reference of a running ECS workload's container.
#[derive(Debug, Clone)]
pub struct SecretUse<'a> {
    pub workload: EcsWorkload<'a>,
    pub task_definition: &'a TaskDefinition,
    pub container: &'a str,
    pub field: SecretField<'a>,
    /// As the task definition writes it.
    pub value_from: &'a str,
    pub source: SecretSource,
}

/// What a reference resolves to.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// Its account and region were not audited in this run.
    OutsideRun(&'a Scope),
    /// Audited, but the lookup has no answer (its call failed: the coverage says why).
    NotCollected(&'a Scope),
    /// Asked, and it does not exist.
    Missing(&'a Scope),
    Secret(&'a Scope, &'a SecretDetail),
    Parameter(&'a Scope, &'a ParameterDetail),
    /// An AWS public parameter: exists everywhere, encrypted with nothing.
    PublicParameter,
    /// Not a form ECS accepts.
    Unrecognised,
}

/// The KMS key a secret or parameter is encrypted with.
#[derive(Debug, Clone)]
pub enum ResolvedKey<'a> {
    /// `aws/secretsmanager` or `aws/ssm` (or a key KMS says AWS manages).
    AwsManaged,
    OutsideRun(Scope, String),
    NotCollected(Scope, String),
    Missing(Scope, String),
    Key(&'a Scope, &'a KmsKeyDetail),
}

type Key<'a> = (&'a str, &'a str, &'a str);

/// The lookups, indexed by (account, region, id asked).
#[derive(Default)]
pub(super) struct SecretFacts<'a> {
    uses: Vec<SecretUse<'a>>,
    secrets: HashMap<Key<'a>, &'a SecretLookup>,
    parameters: HashMap<Key<'a>, &'a ParameterLookup>,
    keys: HashMap<Key<'a>, &'a KmsKeyLookup>,
}

impl<'a> SecretFacts<'a> {
    pub(super) fn new(
        inventory: &'a Inventory,
        workloads: &[EcsWorkload<'a>],
        task_definition: impl Fn(&str) -> Option<&'a TaskDefinition>,
    ) -> Self {
        let mut uses = Vec::new();
        for w in workloads {
            let Some(td) = task_definition(w.task_definition()) else {
                continue;
            };
            for c in &td.containers {
                for (field, value_from) in c.secret_references() {
                    uses.push(SecretUse {
                        workload: *w,
                        task_definition: td,
                        container: &c.name,
                        field,
                        value_from,
                        source: SecretSource::parse(value_from, &td.scope),
                    });
                }
            }
        }
        let key = |s: &'a Scope, id: &'a str| (s.account.as_str(), s.region.as_str(), id);
        SecretFacts {
            uses,
            secrets: inventory
                .secret_lookups
                .iter()
                .map(|l| (key(&l.scope, &l.secret_id), l))
                .collect(),
            parameters: inventory
                .parameter_lookups
                .iter()
                .map(|l| (key(&l.scope, &l.name), l))
                .collect(),
            keys: inventory
                .kms_key_lookups
                .iter()
                .map(|l| (key(&l.scope, &l.key_id), l))
                .collect(),
        }
    }
}

impl<'a> Graph<'a> {
    /// Every secret reference of every running ECS workload, in workload order.
    pub fn secret_uses(&self) -> &[SecretUse<'a>] {
        &self.secrets.uses
    }

    /// Whether the run audited this account and region.
    fn audited(&self, scope: &Scope) -> bool {
        self.inventory
            .coverage
            .reached(&scope.account, &scope.region)
    }

    /// What a reference names, as far as the run knows.
    pub fn resolve_secret<'s>(&self, source: &'s SecretSource) -> Resolved<'s>
    where
        'a: 's,
    {
        match source {
            SecretSource::SecretsManager {
                scope, secret_id, ..
            } => {
                let lookup = self.secrets.secrets.get(&(
                    scope.account.as_str(),
                    scope.region.as_str(),
                    secret_id.as_str(),
                ));
                match lookup {
                    Some(l) => match &l.secret {
                        Some(d) => Resolved::Secret(&l.scope, d),
                        None => Resolved::Missing(&l.scope),
                    },
                    None if self.audited(scope) => Resolved::NotCollected(scope),
                    None => Resolved::OutsideRun(scope),
                }
            }
            SecretSource::Parameter { scope, name } => {
                let candidates = parameter_candidates(name);
                let lookups: Vec<Option<&&ParameterLookup>> = candidates
                    .iter()
                    .map(|n| {
                        self.secrets.parameters.get(&(
                            scope.account.as_str(),
                            scope.region.as_str(),
                            n.as_str(),
                        ))
                    })
                    .collect();
                if let Some(l) = lookups.iter().flatten().find(|l| l.parameter.is_some()) {
                    if let Some(p) = &l.parameter {
                        return Resolved::Parameter(&l.scope, p);
                    }
                }
                if lookups.iter().all(Option::is_some) {
                    Resolved::Missing(scope)
                } else if self.audited(scope) {
                    Resolved::NotCollected(scope)
                } else {
                    Resolved::OutsideRun(scope)
                }
            }
            SecretSource::PublicParameter => Resolved::PublicParameter,
            SecretSource::Unrecognised => Resolved::Unrecognised,
        }
    }

    /// The KMS key that must decrypt a resolved secret or parameter; `None` when nothing is
    /// encrypted with KMS (a `String` parameter) or the reference did not resolve.
    pub fn secret_key(&self, resolved: &Resolved<'_>) -> Option<ResolvedKey<'a>> {
        let (owner, written) = match resolved {
            Resolved::Secret(scope, d) => (*scope, d.kms_key_id.as_deref()),
            Resolved::Parameter(scope, p) if p.parameter_type == "SecureString" => {
                (*scope, p.key_id.as_deref())
            }
            _ => return None,
        };
        let Some(written) = written.filter(|k| !is_aws_managed_alias(k)) else {
            return Some(ResolvedKey::AwsManaged);
        };
        let (scope, id) = kms_key_reference(owner, written);
        let lookup =
            self.secrets
                .keys
                .get(&(scope.account.as_str(), scope.region.as_str(), id.as_str()));
        Some(match lookup {
            Some(l) => match &l.key {
                Some(k) if k.is_aws_managed() => ResolvedKey::AwsManaged,
                Some(k) => ResolvedKey::Key(&l.scope, k),
                None => ResolvedKey::Missing(scope, id),
            },
            None if self.audited(&scope) => ResolvedKey::NotCollected(scope, id),
            None => ResolvedKey::OutsideRun(scope, id),
        })
    }
}
