//! ECS025: a running workload injects a secret or parameter its execution role cannot
//! decrypt.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::{Resolved, ResolvedKey, SecretUse};
use crate::model::{Scope, GLOBAL_REGION};
use crate::policy::{Access, PolicyAccess, RoleRequest, Policy, RolePermissions};
use crate::registry::{Ctx, Emitter, Missing, Report};
use crate::rules::common::{secret_injectors, workloads_phrase};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services (their task sets, scheduled and standalone tasks) that inject a Secrets
    /// Manager secret or an SSM `SecureString` parameter encrypted with a customer managed
    /// KMS key that cannot decrypt it for the task:
    ///
    /// - the key does not exist, is disabled, or is pending deletion;
    /// - the key policy denies `kms:Decrypt` to the task's execution role, or grants it
    ///   neither to the role nor to the role's account;
    /// - the key policy hands the decision to IAM (it names the account,
    ///   `arn:aws:iam::ACCOUNT:root`) and the execution role's IAM policies do not allow
    ///   `kms:Decrypt` on the key (a role of another account needs both).
    ///
    /// The AWS managed keys `aws/secretsmanager` and `aws/ssm` let every principal of the
    /// account decrypt through their service, so secrets using them are not judged.
    /// Conditions are evaluated for a decrypt that Secrets Manager or SSM makes for the role
    /// (`kms:ViaService`, `kms:CallerAccount`, `aws:PrincipalArn`, the encryption context);
    /// a statement conditioned on anything else leaves the workload *not evaluated*. KMS
    /// grants are not read. The role's `secretsmanager:GetSecretValue` and
    /// `ssm:GetParameters` permissions are ECS009's to judge, a missing secret ECS024's.
    ///
    /// ## Why it matters
    ///
    /// Secrets Manager and SSM decrypt the value with the key, as the execution role, while
    /// the task starts. When they cannot, the task stops with
    /// `ResourceInitializationError: unable to pull secrets or registry auth` (the KMS
    /// error is in the stopped reason). Running tasks are unaffected, so a key disabled, a
    /// key policy tightened or a role's policy edited breaks the next deployment,
    /// scale-out or scheduled run, not the moment it is made.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws secretsmanager describe-secret --secret-id SECRET_ARN --query KmsKeyId
    /// aws kms describe-key --key-id KEY_ID --query 'KeyMetadata.{state:KeyState,manager:KeyManager,deletion:DeletionDate}'
    /// aws kms get-key-policy --key-id KEY_ID --policy-name default --output text
    /// aws iam simulate-principal-policy --policy-source-arn EXECUTION_ROLE_ARN \
    ///   --action-names kms:Decrypt --resource-arns KEY_ARN
    /// ```
    ///
    /// ## How to fix
    ///
    /// Enable the key (`aws kms enable-key`) or cancel its deletion
    /// (`aws kms cancel-key-deletion`). Otherwise allow the execution role to decrypt: add a
    /// key policy statement naming the role, for instance limited with
    /// `kms:ViaService = secretsmanager.REGION.amazonaws.com`, or, where the key policy
    /// delegates to IAM, grant `kms:Decrypt` on the key ARN in the role's policy.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html#conditions-kms-via-service
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
    pub static ECS025 = {
        code: "ECS025",
        name: "injected-secret-undecryptable",
        severity: Severity::High,
        summary: "Workload injects a secret its execution role cannot decrypt with the secret's KMS key",
        needs: [
            "secretsmanager:DescribeSecret",
            "ssm:DescribeParameters",
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "iam:GetAccountAuthorizationDetails",
        ],
        ecs_workloads: true,
        run: run,
    };
}

/// One problem, the secrets it makes unreadable and the references that inject them.
struct Problem<'u, 'a> {
    scope: Scope,
    resource: String,
    discriminator: String,
    /// "KMS key `K` is disabled", "execution role `R` may not decrypt with KMS key `K`".
    what: String,
    facts: Vec<Evidence>,
    fix: String,
    secrets: Vec<String>,
    uses: Vec<&'u SecretUse<'a>>,
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let mut problems: Vec<Problem<'_, '_>> = Vec::new();
    for u in ctx.graph.secret_uses() {
        let resolved = ctx.graph.resolve_secret(&u.source);
        let Some(p) = problem(ctx, out, u, &resolved) else {
            continue;
        };
        let secret = match resolved {
            Resolved::Secret(_, d) => format!("secret `{}`", d.name),
            Resolved::Parameter(_, p) => format!("parameter `{}`", p.name),
            _ => continue,
        };
        let q = match problems.iter().position(|q| {
            q.scope == p.scope && q.resource == p.resource && q.discriminator == p.discriminator
        }) {
            Some(i) => &mut problems[i],
            None => {
                problems.push(p);
                problems.last_mut().expect("just pushed")
            }
        };
        if !q.secrets.contains(&secret) {
            q.secrets.push(secret);
        }
        q.uses.push(u);
    }
    for p in problems {
        let mut evidence = p.facts;
        let who = secret_injectors(&p.uses, &mut evidence);
        out.report(
            &p.scope,
            Report {
                severity: Severity::High,
                resource: p.resource,
                discriminator: p.discriminator,
                message: format!(
                    "{}, so {} cannot be read: every task {} starts fails with ResourceInitializationError",
                    p.what,
                    p.secrets.join(" and "),
                    workloads_phrase(&who)
                ),
                remediation: p.fix,
                evidence,
            },
        );
    }
}

fn problem<'u, 'a>(
    ctx: &Ctx<'_>,
    out: &mut Emitter<'_>,
    u: &'u SecretUse<'a>,
    resolved: &Resolved<'_>,
) -> Option<Problem<'u, 'a>> {
    let new = |scope: &Scope, resource: &str, discriminator: &str, what: String, facts, fix: String| {
        Some(Problem {
            scope: scope.clone(),
            resource: resource.to_string(),
            discriminator: discriminator.to_string(),
            what,
            facts,
            fix,
            secrets: Vec::new(),
            uses: Vec::new(),
        })
    };
    let key = match ctx.graph.secret_key(resolved)? {
        ResolvedKey::AwsManaged => return None,
        ResolvedKey::OutsideRun(scope, id) => {
            out.unknown(
                u.workload.scope(),
                Some(u.workload.resource()),
                format!(
                    "KMS key `{id}` of `{}` was not evaluated: account {} region {} was not audited in this run",
                    u.value_from, scope.account, scope.region
                ),
            );
            return None;
        }
        ResolvedKey::NotCollected(scope, id) => {
            if ctx.why_missing(&scope, "kms:DescribeKey", &id) != Missing::ReportedByEngine {
                out.unknown(
                    u.workload.scope(),
                    Some(u.workload.resource()),
                    format!("KMS key `{id}` of `{}` was not described, so whether it can decrypt is not known", u.value_from),
                );
            }
            return None;
        }
        ResolvedKey::Missing(scope, id) => {
            return new(
                &scope,
                &id,
                "",
                format!("KMS key `{id}` does not exist"),
                vec![Evidence::new(&id, format!("kms:DescribeKey found no key `{id}` in account {} region {}", scope.account, scope.region))],
                "Re-encrypt the secret or parameter with an existing key the execution role may use (`aws secretsmanager update-secret --kms-key-id`, `aws ssm put-parameter --overwrite --key-id`).".into(),
            );
        }
        ResolvedKey::Key(scope, k) => (scope, k),
    };
    let (key_scope, k) = key;
    if !k.usable() {
        let state = k.key_state.as_deref().unwrap_or("Disabled");
        let (what, fix) = match state {
            "PendingDeletion" => (
                format!(
                    "KMS key `{}` is pending deletion{}",
                    k.arn,
                    k.deletion_date.as_deref().map_or(String::new(), |d| format!(" (deleted on {d})"))
                ),
                "Cancel the deletion (`aws kms cancel-key-deletion`) and enable the key (`aws kms enable-key`).",
            ),
            _ => (
                format!("KMS key `{}` is {}", k.arn, state.to_ascii_lowercase()),
                "Enable the key (`aws kms enable-key`), or re-encrypt the secret with a usable key.",
            ),
        };
        return new(
            key_scope,
            &k.arn,
            "",
            what,
            vec![Evidence::new(&k.arn, format!("KeyState {state}, Enabled {}", k.enabled))],
            fix.into(),
        );
    }
    // Without an execution role (or with one that does not exist) ECS009 reports; IAM gaps
    // are reported by the engine through `needs`.
    let td = u.task_definition;
    let role = ctx.graph.execution_role(td)?;
    if !ctx
        .inventory
        .coverage
        .complete(&role.scope.account, GLOBAL_REGION, &["iam:GetAccountAuthorizationDetails"], None)
    {
        return None;
    }
    let Some(text) = k.policy.as_deref() else {
        if ctx.why_missing(key_scope, "kms:GetKeyPolicy", &k.arn) != Missing::ReportedByEngine {
            out.unknown(
                u.workload.scope(),
                Some(u.workload.resource()),
                format!("the key policy of KMS key `{}` was not read, so whether role `{}` may decrypt is not known", k.arn, role.name),
            );
        }
        return None;
    };
    let policy = match Policy::parse(text) {
        Ok(p) => p,
        Err(e) => {
            out.unknown(
                u.workload.scope(),
                Some(u.workload.resource()),
                format!("the key policy of KMS key `{}` could not be parsed: {e}", k.arn),
            );
            return None;
        }
    };
    let (service, context) = match resolved {
        Resolved::Secret(_, d) => ("secretsmanager", ("SecretARN", d.arn.clone())),
        Resolved::Parameter(scope, p) => ("ssm", ("PARAMETER_ARN", p.arn_in(scope))),
        _ => return None,
    };
    let owner_region = match resolved {
        Resolved::Secret(s, _) | Resolved::Parameter(s, _) => s.region.as_str(),
        _ => return None,
    };
    let request = RoleRequest::decrypt_via(service, owner_region, &k.arn, &role.arn, (context.0, &context.1));
    let same_account = role.scope.account == key_scope.account;
    let iam = || RolePermissions::of(ctx.inventory, role);
    let denied_by = |why: String| {
        new(
            key_scope,
            &k.arn,
            &role.arn,
            format!("execution role `{}` may not decrypt with KMS key `{}` ({why})", role.name, k.arn),
            vec![Evidence::new(&k.arn, format!("key policy: {why}"))],
            format!(
                "Add a key policy statement allowing `kms:Decrypt` to `{}` (optionally with `kms:ViaService` = `{service}.{owner_region}.amazonaws.com`), or, where the key policy delegates to IAM, grant it in the role's policy on `{}`.",
                role.arn, k.arn
            ),
        )
    };
    let undecided = |out: &mut Emitter<'_>, why: String| {
        out.unknown(
            u.workload.scope(),
            Some(u.workload.resource()),
            format!("whether execution role `{}` may decrypt with KMS key `{}` is not known: {why}", role.name, k.arn),
        );
    };
    let needs_iam = match policy.role_access(&request) {
        PolicyAccess::Denied(by) => {
            return denied_by(format!("the key policy denies it in {}", by.join(", ")))
        }
        PolicyAccess::NotGranted => {
            return denied_by("the key policy allows it neither to the role nor to its account".into())
        }
        PolicyAccess::Undecided(why) => {
            undecided(out, format!("the key policy's {}", why.join("; ")));
            return None;
        }
        PolicyAccess::Granted => !same_account,
        PolicyAccess::DelegatedToIam => true,
    };
    if !needs_iam {
        return None;
    }
    let perms = iam();
    match perms.access("kms:Decrypt", &k.arn) {
        Access::Allowed => None,
        Access::Unknown => {
            undecided(
                out,
                format!(
                    "the key policy leaves it to IAM, and the role has policies whose grants are not known here: {}",
                    perms.unknown.join(", ")
                ),
            );
            None
        }
        Access::Denied => {
            let sources: Vec<&str> = perms.policies.iter().map(|(l, _)| l.as_str()).collect();
            let why = if same_account {
                "the key policy leaves it to IAM, and the role's IAM policies do not allow kms:Decrypt on the key"
            } else {
                "the role is in another account, and its IAM policies do not allow kms:Decrypt on the key"
            };
            let mut p = denied_by(why.into())?;
            p.facts.push(Evidence::new(
                &role.arn,
                format!(
                    "policies: {}; none allows kms:Decrypt on {}",
                    if sources.is_empty() { "none".to_string() } else { sources.join(", ") },
                    k.arn
                ),
            ));
            p.fix = format!(
                "Grant role `{}` `kms:Decrypt` on `{}` (optionally with `kms:ViaService` = `{service}.{owner_region}.amazonaws.com`).",
                role.name, k.arn
            );
            Some(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;
    use crate::testkit::{Builder, ACCOUNT};

    const EXEC: &str = "arn:aws:iam::111122223333:role/exec";

    /// Service `web` injecting secret `db`, encrypted with customer key `k1` (default key
    /// policy), run by execution role `exec` with these inline policies.
    fn setup(role_policies: &[&str]) -> Builder {
        let mut b = Builder::new();
        let secret = b.secret_arn("db");
        let key = b.kms_key_arn("k1");
        b.secret("db").kms_key_id = Some(key);
        b.kms_key("k1");
        b.answered("iam:GetAccountAuthorizationDetails");
        b.role("exec", role_policies);
        let td = b.task_def("web", Some("awsvpc"), &["nginx:1.27"]);
        td.execution_role_arn = Some(EXEC.into());
        td.containers[0].secrets = vec![KeyValue {
            name: "DB".into(),
            value: secret,
        }];
        b.service("web", "web", &["subnet-1"]);
        b
    }

    fn decrypt_grant(key: &str) -> String {
        format!(r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"{key}"}}]}}"#)
    }

    #[test]
    fn a_delegating_key_policy_needs_an_iam_grant() {
        let out = setup(&[]).run(&[&ECS025]);
        assert!(out.unknowns.is_empty(), "{:?}", out.unknowns);
        assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
        let f = &out.findings[0];
        let key = Builder::new().kms_key_arn("k1");
        assert_eq!(f.resource, key);
        assert_eq!(
            f.message,
            format!("execution role `exec` may not decrypt with KMS key `{key}` (the key policy leaves it to IAM, and the role's IAM policies do not allow kms:Decrypt on the key), so secret `db` cannot be read: every task service `web` starts fails with ResourceInitializationError")
        );
        // The clean twin.
        let out = setup(&[&decrypt_grant(&key)]).run(&[&ECS025]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty(), "{out:?}");
    }

    #[test]
    fn a_key_policy_naming_the_role_needs_nothing_else_and_one_naming_no_one_fails() {
        let key = Builder::new().kms_key_arn("k1");
        let mut b = setup(&[]);
        b.inv.kms_key_lookups[0].key.as_mut().unwrap().policy = Some(format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{EXEC}"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}}}}]}}"#
        ));
        assert!(b.run(&[&ECS025]).findings.is_empty());

        let mut b = setup(&[&decrypt_grant(&key)]);
        b.inv.kms_key_lookups[0].key.as_mut().unwrap().policy = Some(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:*","Resource":"*"}]}"#.into(),
        );
        let out = b.run(&[&ECS025]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0]
            .message
            .contains("the key policy allows it neither to the role nor to its account"));
    }

    #[test]
    fn disabled_pending_deletion_and_missing_keys() {
        let key = Builder::new().kms_key_arn("k1");
        let mut b = setup(&[&decrypt_grant(&key)]);
        {
            let k = b.inv.kms_key_lookups[0].key.as_mut().unwrap();
            k.enabled = false;
            k.key_state = Some("PendingDeletion".into());
            k.deletion_date = Some("2026-12-01T00:00:00Z".into());
        }
        let out = b.run(&[&ECS025]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.starts_with(&format!(
            "KMS key `{key}` is pending deletion (deleted on 2026-12-01T00:00:00Z), so secret `db` cannot be read"
        )));

        let mut b = setup(&[]);
        b.inv.kms_key_lookups[0].key = None;
        let out = b.run(&[&ECS025]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("does not exist"));
    }

    #[test]
    fn aws_managed_keys_and_plain_parameters_are_not_judged() {
        let mut b = setup(&[]);
        b.inv.secret_lookups[0].secret.as_mut().unwrap().kms_key_id =
            Some("alias/aws/secretsmanager".into());
        assert!(b.run(&[&ECS025]).findings.is_empty());

        let mut b = setup(&[]);
        b.parameter("plain", "String");
        b.inv.task_definitions[0].containers[0].secrets[0].value = "plain".into();
        let out = b.run(&[&ECS025]);
        assert!(out.findings.is_empty() && out.unknowns.is_empty(), "{out:?}");
    }

    #[test]
    fn unread_policies_and_unknown_grants_are_unknown() {
        let key = Builder::new().kms_key_arn("k1");
        let mut b = setup(&[]);
        b.inv.kms_key_lookups[0].key.as_mut().unwrap().policy = None;
        b.gap("kms:GetKeyPolicy", Some(&key));
        let out = b.run(&[&ECS025]);
        assert!(out.findings.is_empty());
        assert!(out.unknowns[0].reason.starts_with("kms:GetKeyPolicy access denied"), "{:?}", out.unknowns);

        let mut b = setup(&[]);
        b.inv.iam_roles[0]
            .attached_policy_arns
            .push("arn:aws:iam::aws:policy/SomethingElse".into());
        let out = b.run(&[&ECS025]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(out.unknowns[0].reason.contains("SomethingElse"));
        assert_eq!(out.unknowns[0].account, ACCOUNT);
    }
}
