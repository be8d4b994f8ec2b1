//! What an IAM role may do, from every policy attached to it: inline policies, customer
//! managed policies (collected with their default version) and the AWS managed policies
//! container platforms attach, whose grants are known here. Any other AWS managed policy
//! leaves the answer open rather than guessed.

use super::{Effect, Policy, Statement};
use crate::model::{IamRole, Inventory};

/// AWS managed policies (by the part of the ARN after `:iam::aws:policy/`) with the grants
/// that matter for the questions the checks ask, written as policy documents.
const KNOWN_AWS_MANAGED: [(&str, &str); 10] = [
    (
        "AdministratorAccess",
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "PowerUserAccess",
        r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}"#,
    ),
    (
        "IAMFullAccess",
        r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    ),
    (
        "service-role/AmazonECSTaskExecutionRolePolicy",
        r#"{"Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonEC2ContainerRegistryReadOnly",
        r#"{"Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonEC2ContainerRegistryPullOnly",
        r#"{"Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}"#,
    ),
    (
        "SecretsManagerReadWrite",
        r#"{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#,
    ),
    (
        "AmazonSSMReadOnlyAccess",
        r#"{"Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonSSMManagedInstanceCore",
        r#"{"Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:GetParameter","ssm:GetParameters","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation","ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel","ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}]}"#,
    ),
    (
        "CloudWatchLogsFullAccess",
        r#"{"Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#,
    ),
];

/// AWS managed policies that hand over the account (or its IAM, which is the same).
pub const ADMIN_LIKE: [&str; 3] = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// The part of an AWS managed policy ARN after `:iam::aws:policy/`, in any partition.
fn aws_managed_name(arn: &str) -> Option<&str> {
    arn.split_once(":iam::aws:policy/").map(|(_, name)| name)
}

/// A role's policies, parsed, and what could not be read.
pub struct RolePermissions<'a> {
    pub role: &'a IamRole,
    /// (where the policy comes from, the policy).
    pub policies: Vec<(String, Policy)>,
    /// Policies whose grants are not known: other AWS managed policies, customer managed
    /// policies that were not collected, documents that do not parse.
    pub unknown: Vec<String>,
}

/// Whether the role's policies together allow something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Denied,
    /// Not allowed by the policies that are known, but some are not.
    Unknown,
}

impl<'a> RolePermissions<'a> {
    /// The role's policies, the customer managed ones looked up in `inventory`.
    pub fn of(inventory: &Inventory, role: &'a IamRole) -> Self {
        let mut policies = Vec::new();
        let mut unknown = Vec::new();
        let mut add =
            |label: String, text: &str, unknown: &mut Vec<String>| match Policy::parse(text) {
                Ok(p) => policies.push((label, p)),
                Err(_) => unknown.push(format!("{label} (could not be parsed)")),
            };
        for p in &role.inline_policies {
            add(
                format!("inline policy `{}`", p.name),
                &p.document,
                &mut unknown,
            );
        }
        for arn in &role.attached_policy_arns {
            if let Some(name) = aws_managed_name(arn) {
                match KNOWN_AWS_MANAGED.iter().find(|(n, _)| *n == name) {
                    Some((_, doc)) => {
                        add(format!("AWS managed policy `{name}`"), doc, &mut unknown)
                    }
                    None => unknown.push(format!("AWS managed policy `{name}`")),
                }
                continue;
            }
            let managed = inventory.iam_policies.iter().find(|p| p.arn == *arn);
            match managed.and_then(|p| Some((p, p.document.as_deref()?))) {
                Some((p, doc)) => add(format!("managed policy `{}`", p.name), doc, &mut unknown),
                None => unknown.push(format!("managed policy {arn} (not collected)")),
            }
        }
        RolePermissions {
            role,
            policies,
            unknown,
        }
    }

    fn statements(&self) -> impl Iterator<Item = (&str, &Statement)> {
        self.policies
            .iter()
            .flat_map(|(label, p)| p.statements.iter().map(move |s| (label.as_str(), s)))
    }

    /// Whether `action` on `resource` is allowed: an `Allow` in any policy covers it and no
    /// unconditional `Deny` in any policy does. Conditions on `Allow`s are taken as met.
    pub fn access(&self, action: &str, resource: &str) -> Access {
        let covers = |s: &Statement| s.covers_action(action) && s.covers_resource(resource);
        let denied = self
            .statements()
            .any(|(_, s)| s.effect == Effect::Deny && s.condition.is_empty() && covers(s));
        if denied {
            return Access::Denied;
        }
        if self
            .statements()
            .any(|(_, s)| s.effect == Effect::Allow && covers(s))
        {
            Access::Allowed
        } else if self.unknown.is_empty() {
            Access::Denied
        } else {
            Access::Unknown
        }
    }

    /// Where the role gets administrator-like power: policies granting every action on
    /// every resource, and the admin-like AWS managed policies by name.
    pub fn admin_sources(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .policies
            .iter()
            .filter(|(_, p)| p.allows_all_actions())
            .map(|(label, _)| label.clone())
            .collect();
        for arn in &self.role.attached_policy_arns {
            if let Some(name) = aws_managed_name(arn) {
                let label = format!("AWS managed policy `{name}`");
                if ADMIN_LIKE.contains(&name) && !out.contains(&label) {
                    out.push(label);
                }
            }
        }
        out
    }
}
