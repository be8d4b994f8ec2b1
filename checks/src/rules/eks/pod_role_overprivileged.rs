//! EKS013: IAM roles Kubernetes pods can assume that have administrator power.

use std::collections::BTreeSet;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::policy::{
    PrincipalKind, RolePermissions,
};
use crate::registry::{Ctx, Emitter, Report};
use crate::rules::common::trust_policies;

/// The service principal EKS Pod Identity assumes roles as.
const POD_IDENTITY: &str = "pods.eks.amazonaws.com";

declare_check! {
    /// ## What it finds
    ///
    /// IAM roles that Kubernetes pods can assume and that have administrator power (a
    /// policy allowing every action, or an AWS administrator policy), judged as ECS010
    /// judges task roles:
    ///
    /// - IRSA roles: the trust policy lets an EKS cluster's OIDC issuer
    ///   (`oidc.eks.<region>.amazonaws.com/id/…`) assume it with a web identity token;
    /// - EKS Pod Identity roles: the trust policy lets `pods.eks.amazonaws.com` assume it;
    ///   the associations that give it to a service account are named (any cluster of the
    ///   account may associate it later, so one without an association is reported too).
    ///
    /// One finding per role, naming the clusters whose issuer it trusts. A role that running
    /// ECS tasks also use as their task role is left to ECS010, which reports it once.
    ///
    /// ## Why it matters
    ///
    /// Pods hand their role's credentials to every process in them: a remote code execution
    /// in one container, a malicious image or a compromised dependency becomes control of
    /// the whole AWS account — creating users, reading every secret, deleting data. Anyone
    /// who can create pods with that service account in that namespace (or, for a loosely
    /// pinned trust, any service account) holds the same power.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws iam get-role --role-name ROLE --query 'Role.AssumeRolePolicyDocument'
    /// aws iam list-attached-role-policies --role-name ROLE
    /// aws iam list-role-policies --role-name ROLE
    /// aws eks list-pod-identity-associations --cluster-name CLUSTER
    /// ```
    ///
    /// ## How to fix
    ///
    /// Detach the administrator policies and grant the actions and resources the
    /// application calls (IAM Access Analyzer can generate a policy from CloudTrail):
    ///
    /// ```sh
    /// aws iam detach-role-policy --role-name ROLE --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
    /// aws iam put-role-policy --role-name ROLE --policy-name app --policy-document file://least-privilege.json
    /// ```
    ///
    /// Controllers that need broad power (a cluster autoscaler, an infrastructure
    /// operator) still need only their own service's actions.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html
    pub static EKS013 = {
        code: "EKS013",
        name: "pod-role-overprivileged",
        severity: Severity::High,
        summary: "IAM role that Kubernetes pods can assume (IRSA or Pod Identity) has administrator power",
        needs: ["iam:GetAccountAuthorizationDetails"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let graph = ctx.graph;
    // Roles that running ECS tasks use: ECS010 reports those.
    let task_roles: BTreeSet<&str> = graph
        .running_task_definitions()
        .filter_map(|(_, td)| graph.task_role(td))
        .map(|r| r.arn.as_str())
        .collect();
    for (role, policy) in trust_policies(ctx, out) {
        if task_roles.contains(role.arn.as_str()) {
            continue;
        }
        let issuers = graph.trusted_eks_issuers(policy);
        let pod_identity = policy
            .trust_principals()
            .iter()
            .any(|p| *p.kind == PrincipalKind::Service && p.value.eq_ignore_ascii_case(POD_IDENTITY));
        if issuers.is_empty() && !pod_identity {
            continue;
        }
        let sources = RolePermissions::of(ctx.inventory, role).admin_sources();
        if sources.is_empty() {
            continue;
        }
        let mut who: Vec<String> = Vec::new();
        let mut evidence = vec![Evidence::new(
            &role.arn,
            format!("administrator power from {}", sources.join(", ")),
        )];
        for (host, shown) in &issuers {
            let clusters = graph.clusters_with_issuer(host);
            if clusters.is_empty() {
                who.push(format!("the EKS cluster with issuer `{shown}` (IRSA)"));
            }
            for c in clusters {
                who.push(format!("EKS cluster `{}` (IRSA)", c.name));
                evidence.push(Evidence::new(
                    &c.arn,
                    format!("issuer `{shown}` is trusted by role `{}`", role.name),
                ));
            }
            if clusters.is_empty() {
                evidence.push(Evidence::new(
                    &role.arn,
                    format!("trusts web identities from `{shown}`"),
                ));
            }
        }
        if pod_identity {
            evidence.push(Evidence::new(
                &role.arn,
                format!("trust policy allows {POD_IDENTITY}"),
            ));
            let associated: Vec<_> = ctx
                .inventory
                .eks_pod_identity_associations
                .iter()
                .filter(|a| a.role_arn.as_deref() == Some(role.arn.as_str()))
                .collect();
            if associated.is_empty() {
                who.push("any EKS Pod Identity association of the account (none yet)".to_string());
            }
            for a in associated {
                who.push(format!(
                    "service account `{}/{}` of EKS cluster `{}` (Pod Identity)",
                    a.namespace, a.service_account, a.cluster_name
                ));
                evidence.push(Evidence::new(
                    &a.arn,
                    format!(
                        "Pod Identity association gives role `{}` to `{}/{}`",
                        role.name, a.namespace, a.service_account
                    ),
                ));
            }
        }
        out.report(
            &role.scope,
            Report {
                severity: Severity::High,
                resource: role.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "role `{}`, which pods can assume through {}, has administrator power ({}): code execution in a pod is control of the account",
                    role.name,
                    who.join(" and "),
                    sources.join(", ")
                ),
                remediation: format!(
                    "Detach the broad policies from role `{}` and grant only the actions and resources the pods call (IAM Access Analyzer policy generation helps).",
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
    use crate::model::{EksPodIdentityAssociation, IamRole, NamedPolicy, Scope, GLOBAL_REGION};
    use crate::testkit::{Builder, ACCOUNT};

    const ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC123";

    fn trust_irsa() -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:ops:deployer","{ISSUER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        )
    }

    fn trust_pod_identity() -> String {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#.to_string()
    }

    fn with_role(trust: String, managed: &[&str]) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").oidc_issuer = Some(format!("https://{ISSUER}"));
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
            name: "deployer".into(),
            path: "/".into(),
            trust_policy: Some(trust),
            inline_policies: Vec::<NamedPolicy>::new(),
            attached_policy_arns: managed.iter().map(|m| m.to_string()).collect(),
        });
        b
    }

    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const READ: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

    #[test]
    fn an_irsa_admin_role_names_its_cluster() {
        let out = with_role(trust_irsa(), &[ADMIN]).run(&[&EKS013]);
        assert_eq!(out.findings.len(), 1, "{:?}", out.unknowns);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.contains("EKS cluster `prod` (IRSA)"), "{}", f.message);
        assert!(f.message.contains("AdministratorAccess"));
    }

    #[test]
    fn a_pod_identity_admin_role_names_its_associations() {
        let out = with_role(trust_pod_identity(), &[ADMIN]).run(&[&EKS013]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.contains("none yet"));

        let mut b = with_role(trust_pod_identity(), &[ADMIN]);
        let scope = b.scope();
        b.inv.eks_pod_identity_associations.push(EksPodIdentityAssociation {
            arn: format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/prod/a-1"),
            scope,
            id: "a-1".into(),
            cluster_name: "prod".into(),
            namespace: "ops".into(),
            service_account: "deployer".into(),
            role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/deployer")),
        });
        let out = b.run(&[&EKS013]);
        let f = &out.findings[0];
        assert!(
            f.message.contains("service account `ops/deployer` of EKS cluster `prod` (Pod Identity)"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("none yet"));
    }

    #[test]
    fn scoped_roles_and_other_trusts_are_silent() {
        assert!(with_role(trust_irsa(), &[READ]).run(&[&EKS013]).findings.is_empty());
        let ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(with_role(ec2.to_string(), &[ADMIN]).run(&[&EKS013]).findings.is_empty());
    }

    #[test]
    fn a_role_running_ecs_tasks_use_is_left_to_ecs010() {
        let mut b = with_role(trust_pod_identity(), &[ADMIN]);
        b.task_def("web", Some("awsvpc"), &["nginx"]).task_role_arn =
            Some(format!("arn:aws:iam::{ACCOUNT}:role/deployer"));
        b.service("web", "web", &["subnet-1"]);
        assert!(b.run(&[&EKS013]).findings.is_empty());
    }
}
