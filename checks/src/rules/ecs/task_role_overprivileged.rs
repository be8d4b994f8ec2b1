//! ECS010: task roles that hand the application administrator power.

use std::collections::BTreeMap;

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::graph::EcsWorkload;
use crate::policy::RolePermissions;
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// IAM roles used as the task role of running ECS services (their task sets, scheduled and standalone tasks) whose policies allow every
    /// action on every resource (`"Action": "*"`, or a `NotAction` allow, with `"Resource":
    /// "*"`), or that carry `AdministratorAccess`, `PowerUserAccess` or `IAMFullAccess`.
    /// One finding per role, naming every service that uses it.
    ///
    /// ## Why it matters
    ///
    /// The task role's credentials are served to every process in the task through the
    /// container credentials endpoint. A remote code execution, a server-side request
    /// forgery, or a compromised dependency in the application becomes control of the
    /// AWS account: create users, read every secret, delete backups. Application code
    /// needs a few actions on a few resources.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws iam list-attached-role-policies --role-name ROLE
    /// aws iam list-role-policies --role-name ROLE
    /// ```
    ///
    /// ## How to fix
    ///
    /// Replace the broad grants with a policy listing the actions and resources the
    /// application calls (IAM Access Analyzer can generate one from CloudTrail):
    ///
    /// ```sh
    /// aws iam detach-role-policy --role-name ROLE --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
    /// aws accessanalyzer start-policy-generation --policy-generation-details principalArn=ROLE_ARN ...
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
    pub static ECS010 = {
        code: "ECS010",
        name: "task-role-overprivileged",
        severity: Severity::High,
        summary: "ECS task role allows every action (or carries an administrator policy)",
        needs: [
            "iam:GetAccountAuthorizationDetails",
        ],
        ecs_workloads: true,
        controls: [
        fsbp("IAM.1").partial(
            "IAM.1 judges customer-managed policies allowing \"*\" on \"*\", whoever uses \
             them; ECS010 judges the roles running tasks, every policy kind included",
        ),
        config("iam-policy-no-statements-with-admin-access").partial(
            "the rule judges customer-managed policies only, whoever uses them",
        ),
        prowler("iam_role_administratoraccess_policy").partial(
            "Prowler reports any role with the AdministratorAccess managed policy; ECS010 \
             judges the roles running tasks, by what their policies allow",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    let mut by_role: BTreeMap<&str, (&crate::model::IamRole, Vec<EcsWorkload<'_>>)> =
        BTreeMap::new();
    for (w, td) in ctx.graph.running_task_definitions() {
        let Some(reference) = td.task_role_arn.as_deref() else {
            continue;
        };
        if let Some(role) = ctx.graph.role_named(&w.scope().account, reference) {
            by_role
                .entry(role.arn.as_str())
                .or_insert((role, Vec::new()))
                .1
                .push(w);
        }
    }
    for (role, services) in by_role.into_values() {
        let sources = RolePermissions::of(ctx.inventory, role).admin_sources();
        if sources.is_empty() {
            continue;
        }
        // Two task sets of one service are one service.
        let mut service_names: Vec<String> = Vec::new();
        let mut others: Vec<String> = Vec::new();
        for w in &services {
            let (list, name) = match w.service() {
                Some(s) => (&mut service_names, format!("`{}`", s.name)),
                None => (&mut others, w.describe()),
            };
            if !list.contains(&name) {
                list.push(name);
            }
        }
        let mut names: Vec<String> = Vec::new();
        match service_names.len() {
            0 => {}
            1 => names.push(format!("service {}", service_names[0])),
            _ => names.push(format!("services {}", service_names.join(", "))),
        }
        names.extend(others);
        let mut evidence = vec![Evidence::new(
            &role.arn,
            format!("administrator power from {}", sources.join(", ")),
        )];
        evidence.extend(services.iter().map(|w| {
            Evidence::new(
                w.arn(),
                format!("runs tasks with task role `{}`", role.name),
            )
        }));
        out.report(
            &role.scope,
            Report {
                severity: Severity::High,
                resource: role.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "task role `{}` of {} has administrator power ({}): code execution in the container is control of the account",
                    role.name,
                    names.join(", "),
                    sources.join(", ")
                ),
                remediation: format!(
                    "Detach the broad policies from role `{}` and grant only the actions and resources the application calls (IAM Access Analyzer policy generation helps).",
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
    use crate::model::{IamRole, NamedPolicy, Scope, GLOBAL_REGION};
    use crate::testkit::{Builder, ACCOUNT};

    fn with_role(managed: &[&str], inline: Option<&str>) -> Builder {
        let mut b = Builder::new();
        let arn = "arn:aws:iam::111122223333:role/ecs/web-task";
        b.task_def("web", Some("awsvpc"), &["nginx:1"])
            .task_role_arn = Some(arn.into());
        b.service("web", "web", &[]);
        b.service("web-canary", "web", &[]);
        b.inv.iam_roles.push(IamRole {
            scope: Scope::new(ACCOUNT, GLOBAL_REGION),
            arn: arn.into(),
            name: "web-task".into(),
            path: "/ecs/".into(),
            trust_policy: None,
            inline_policies: inline
                .map(|d| {
                    vec![NamedPolicy {
                        name: "app".into(),
                        document: d.into(),
                    }]
                })
                .unwrap_or_default(),
            attached_policy_arns: managed.iter().map(|s| s.to_string()).collect(),
        });
        b
    }

    #[test]
    fn admin_policies_fire_once_per_role() {
        let out = with_role(&["arn:aws:iam::aws:policy/AdministratorAccess"], None).run(&[&ECS010]);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(
            out.findings[0].message,
            "task role `web-task` of services `web`, `web-canary` has administrator power (AWS managed policy `AdministratorAccess`): code execution in the container is control of the account"
        );
        let star = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert_eq!(with_role(&[], Some(star)).run(&[&ECS010]).findings.len(), 1);
    }

    #[test]
    fn scoped_policies_are_silent() {
        let scoped = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*"}]}"#;
        assert!(with_role(
            &["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            Some(scoped)
        )
        .run(&[&ECS010])
        .findings
        .is_empty());
    }
}
