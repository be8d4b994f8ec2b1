//! IAM001: a role that anyone, in any AWS account, may assume.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::GLOBAL_REGION;
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::trust_policies;

declare_check! {
    /// ## What it finds
    ///
    /// IAM roles whose trust policy allows `sts:AssumeRole` (or another assume action) to
    /// `"Principal": "*"` or `{"AWS": "*"}` with no `Condition`. A trust policy that cannot
    /// be parsed is reported as not evaluated, with the parser's reason.
    ///
    /// ## Why it matters
    ///
    /// A wildcard principal in a trust policy means every AWS identity in every account,
    /// including an attacker's, can call `sts:AssumeRole` on the role and act with its
    /// permissions. The role's name is often guessable (or visible in ARNs that leak through
    /// logs and error messages), so this is an open door to the account.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws iam get-role --role-name ROLE --query 'Role.AssumeRolePolicyDocument'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Name the principals that should assume the role (account roots or specific role
    /// ARNs, or the AWS service), and for third parties require an `sts:ExternalId`:
    ///
    /// ```sh
    /// aws iam update-assume-role-policy --role-name ROLE --policy-document file://trust.json
    /// ```
    ///
    /// If the role is unused, delete it.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html
    pub static IAM001 = {
        code: "IAM001",
        name: "trust-anyone",
        severity: Severity::Critical,
        summary: "IAM role that any AWS identity may assume (Principal * without conditions)",
        needs: ["iam:GetAccountAuthorizationDetails"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (role, policy) in trust_policies(ctx, out) {
        let open = policy.anyone_may_assume();
        if open.is_empty() {
            continue;
        }
        let evidence = open
            .iter()
            .map(|s| {
                let sid = s
                    .sid
                    .as_deref()
                    .map(|s| format!(" `{s}`"))
                    .unwrap_or_default();
                Evidence::new(
                    &role.arn,
                    format!("trust statement{sid}: Allow assume to Principal * with no Condition"),
                )
            })
            .collect();
        debug_assert_eq!(role.scope.region, GLOBAL_REGION);
        out.report(
            &role.scope,
            Report {
                severity: Severity::Critical,
                resource: role.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "role `{}` may be assumed by anyone: its trust policy allows Principal * without conditions",
                    role.name
                ),
                remediation: format!(
                    "Replace the wildcard principal in role `{}`'s trust policy with the accounts, roles or services that need it (with an sts:ExternalId condition for third parties), or delete the role.",
                    role.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IamRole, Scope};
    use crate::testkit::Builder;

    fn with_trust(docs: &[(&str, &str)]) -> Builder {
        let mut b = Builder::new();
        for (name, doc) in docs {
            b.inv.iam_roles.push(IamRole {
                scope: Scope::new("111122223333", GLOBAL_REGION),
                arn: format!("arn:aws:iam::111122223333:role/{name}"),
                name: name.to_string(),
                path: "/".into(),
                trust_policy: Some(doc.to_string()),
                inline_policies: vec![],
                attached_policy_arns: vec![],
            });
        }
        b
    }

    const ANYONE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#;
    const AWS_STAR: &str = r#"{"Statement":[{"Sid":"open","Effect":"Allow","Principal":{"AWS":["*"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
    const EXTERNAL_ID: &str = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"4f2a"}}}]}"#;
    const SERVICE: &str = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    const TAG_ONLY: &str =
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}"#;

    #[test]
    fn wildcard_principals_without_conditions_fire() {
        let out = with_trust(&[("open", ANYONE), ("aws-star", AWS_STAR)]).run(&[&IAM001]);
        assert_eq!(out.findings.len(), 2, "{out:?}");
        assert!(out
            .findings
            .iter()
            .all(|f| f.severity == Severity::Critical));
        let f = out
            .findings
            .iter()
            .find(|f| f.resource.ends_with("/aws-star"))
            .unwrap();
        assert_eq!(
            f.message,
            "role `aws-star` may be assumed by anyone: its trust policy allows Principal * without conditions"
        );
        assert!(f.evidence[0].fact.contains("`open`"), "names the statement");
    }

    #[test]
    fn conditions_named_principals_and_non_assume_actions_are_silent() {
        let out = with_trust(&[("ext", EXTERNAL_ID), ("svc", SERVICE), ("tag", TAG_ONLY)])
            .run(&[&IAM001]);
        assert!(out.findings.is_empty(), "{out:?}");
    }

    #[test]
    fn an_unparsable_trust_policy_is_not_evaluated_not_passed() {
        let out =
            with_trust(&[("broken", r#"{"Statement":[{"Effect":"Permit"}]}"#)]).run(&[&IAM001]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
        assert!(
            out.unknowns[0].reason.contains("could not be parsed"),
            "{:?}",
            out.unknowns
        );
    }
}
