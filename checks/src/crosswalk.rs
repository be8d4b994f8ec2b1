//! The crosswalk: which controls of the catalogs teams already run — AWS Security Hub's
//! Foundational Security Best Practices (FSBP), AWS Config's managed rules and Prowler's
//! checks — each of our checks answers, so a team can deduplicate what it ingests.
//!
//! A check declares its controls with [`fsbp`], [`config`] and [`prowler`] in its
//! `controls:` list, marking a control [`Control::partial`] with the reason where the two
//! judge differently. [`FSBP_SCOPE`] lists every FSBP control of the container platform
//! (ECS, EKS, ECR and the VPC-endpoint controls for ECR) with the reason where no check of
//! ours answers it; `audit crosswalk` prints both.

use serde::Serialize;

/// A catalog of controls other tools report against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Catalog {
    /// AWS Security Hub, Foundational Security Best Practices standard (`ECS.5`).
    SecurityHub,
    /// AWS Config managed rules (`ecs-containers-readonly-access`).
    AwsConfig,
    /// Prowler's AWS checks (`ecs_task_definitions_containers_readonly_access`).
    Prowler,
}

impl Catalog {
    pub const ALL: [Catalog; 3] = [Catalog::SecurityHub, Catalog::AwsConfig, Catalog::Prowler];

    /// The catalog's name as its owner writes it.
    pub fn title(self) -> &'static str {
        match self {
            Catalog::SecurityHub => "AWS Foundational Security Best Practices v1.0.0",
            Catalog::AwsConfig => "AWS Config managed rules",
            Catalog::Prowler => "Prowler",
        }
    }

    /// The short label used in tags and tables.
    pub fn label(self) -> &'static str {
        match self {
            Catalog::SecurityHub => "fsbp",
            Catalog::AwsConfig => "config",
            Catalog::Prowler => "prowler",
        }
    }
}

/// One control a check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Control {
    pub catalog: Catalog,
    pub id: &'static str,
    /// Why the match is partial (the control and the check judge different things, or the
    /// same thing differently); `None` when they fail the same resources for the same reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<&'static str>,
}

impl Control {
    /// The same control, matched only in part, for the reason given.
    pub const fn partial(self, why: &'static str) -> Control {
        Control {
            partial: Some(why),
            ..self
        }
    }

    /// `fsbp ECS.5`, `prowler eks_… (partial)`: one line for tags and lists.
    pub fn label(&self) -> String {
        let partial = if self.partial.is_some() {
            " (partial)"
        } else {
            ""
        };
        format!("{} {}{partial}", self.catalog.label(), self.id)
    }

    /// The control as a requirement string: the catalog's name and the id.
    pub fn requirement(&self) -> String {
        format!("{} {}", self.catalog.title(), self.id)
    }
}

/// A Security Hub FSBP control (`ECS.5`).
pub const fn fsbp(id: &'static str) -> Control {
    Control {
        catalog: Catalog::SecurityHub,
        id,
        partial: None,
    }
}

/// An AWS Config managed rule (`ecs-containers-readonly-access`).
pub const fn config(id: &'static str) -> Control {
    Control {
        catalog: Catalog::AwsConfig,
        id,
        partial: None,
    }
}

/// A Prowler check (`ecs_task_definitions_containers_readonly_access`).
pub const fn prowler(id: &'static str) -> Control {
    Control {
        catalog: Catalog::Prowler,
        id,
        partial: None,
    }
}

/// A Security Hub FSBP control of the container platform, and why no check of ours answers
/// it where none does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FsbpControl {
    pub id: &'static str,
    /// Security Hub's title of the control.
    pub title: &'static str,
    /// The rule Security Hub evaluates it with, as its control reference names it (an AWS
    /// Config managed rule, or one of Security Hub's own such as
    /// `ecs-service-assign-public-ip-disabled`); `None` where we could not confirm it.
    pub config_rule: Option<&'static str>,
    /// Why no check answers it (retired, outside the container platform, judged
    /// differently); `None` when checks declare it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_check: Option<&'static str>,
}

/// Security Hub's reason for its tagging controls, which judge an organisation's tagging
/// policy rather than how a container platform fails or is exposed.
const TAGGING: &str = "a tagging-policy control, not a failure or exposure of the platform: \
     AWS Config's required-tags rule with the team's own keys answers it";

/// Every Security Hub FSBP control of the container platform: ECS, EKS and ECR, and the
/// VPC-endpoint controls for ECR (EC2.55, EC2.56). Titles and rules as Security Hub's
/// control reference gives them.
pub const FSBP_SCOPE: &[FsbpControl] = &[
    FsbpControl {
        id: "ECS.1",
        title: "Amazon ECS task definitions should have secure networking modes and user definitions",
        config_rule: Some("ecs-task-definition-user-for-host-mode-check"),
        no_check: Some(
            "retired by Security Hub in March 2026 in favour of ECS.4, ECS.17, ECS.20 and \
             ECS.21; ECS008, ECS018 and ECS019 report what it judged",
        ),
    },
    FsbpControl {
        id: "ECS.2",
        title: "ECS services should not have public IP addresses assigned to them automatically",
        config_rule: Some("ecs-service-assign-public-ip-disabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.3",
        title: "ECS task definitions should not share the host's process namespace",
        config_rule: Some("ecs-task-definition-pid-mode-check"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.4",
        title: "ECS containers should run as non-privileged",
        config_rule: Some("ecs-containers-nonprivileged"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.5",
        title: "ECS task definitions should configure containers to be limited to read-only access to root filesystems",
        config_rule: Some("ecs-containers-readonly-access"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.8",
        title: "Secrets should not be passed as container environment variables",
        config_rule: Some("ecs-no-environment-secrets"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.9",
        title: "ECS task definitions should have a logging configuration",
        config_rule: Some("ecs-task-definition-log-configuration"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.10",
        title: "ECS Fargate services should run on the latest Fargate platform version",
        config_rule: Some("ecs-fargate-latest-platform-version"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.12",
        title: "ECS clusters should use Container Insights",
        config_rule: Some("ecs-container-insights-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.13",
        title: "ECS services should be tagged",
        config_rule: Some("tagged-ecs-service"),
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "ECS.14",
        title: "ECS clusters should be tagged",
        config_rule: Some("tagged-ecs-cluster"),
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "ECS.15",
        title: "ECS task definitions should be tagged",
        config_rule: Some("tagged-ecs-taskdefinition"),
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "ECS.16",
        title: "ECS task sets should not automatically assign public IP addresses",
        config_rule: Some("ecs-taskset-assign-public-ip-disabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.17",
        title: "ECS task definitions should not use host network mode",
        config_rule: Some("ecs-task-definition-network-mode-not-host"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.18",
        title: "ECS task definitions should use in-transit encryption for EFS volumes",
        config_rule: Some("ecs-task-definition-efs-encryption-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.19",
        title: "ECS capacity providers should have managed termination protection enabled",
        config_rule: Some("ecs-capacity-provider-termination-check"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.20",
        title: "ECS task definitions should configure non-root users in Linux container definitions",
        config_rule: Some("ecs-task-definition-linux-user-non-root"),
        no_check: None,
    },
    FsbpControl {
        id: "ECS.21",
        title: "ECS task definitions should configure non-administrator users in Windows container definitions",
        config_rule: Some("ecs-task-definition-windows-user-non-admin"),
        no_check: None,
    },
    FsbpControl {
        id: "EKS.1",
        title: "EKS cluster endpoints should not be publicly accessible",
        config_rule: Some("eks-endpoint-no-public-access"),
        no_check: None,
    },
    FsbpControl {
        id: "EKS.2",
        title: "EKS clusters should run on a supported Kubernetes version",
        config_rule: Some("eks-cluster-supported-version"),
        no_check: None,
    },
    FsbpControl {
        id: "EKS.3",
        title: "EKS clusters should use encrypted Kubernetes secrets",
        config_rule: Some("eks-cluster-secrets-encrypted"),
        no_check: None,
    },
    FsbpControl {
        id: "EKS.6",
        title: "EKS clusters should be tagged",
        config_rule: None,
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "EKS.7",
        title: "EKS identity provider configurations should be tagged",
        config_rule: None,
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "EKS.8",
        title: "EKS clusters should have audit logging enabled",
        config_rule: Some("eks-cluster-log-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECR.1",
        title: "ECR private repositories should have image scanning configured",
        config_rule: Some("ecr-private-image-scanning-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECR.2",
        title: "ECR private repositories should have tag immutability configured",
        config_rule: Some("ecr-private-tag-immutability-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "ECR.3",
        title: "ECR repositories should have at least one lifecycle policy configured",
        config_rule: Some("ecr-private-lifecycle-policy-configured"),
        no_check: None,
    },
    FsbpControl {
        id: "ECR.4",
        title: "ECR public repositories should be tagged",
        config_rule: Some("tagged-ecr-publicrepository"),
        no_check: Some(TAGGING),
    },
    FsbpControl {
        id: "ECR.5",
        title: "ECR repositories should be encrypted with customer managed AWS KMS keys",
        config_rule: Some("ecr-repository-cmk-encryption-enabled"),
        no_check: Some(
            "a key-custody policy rather than a weakness: images are always encrypted at rest \
             (AES-256 or AWS KMS), and a customer-managed key only changes who controls the key",
        ),
    },
    FsbpControl {
        id: "EC2.55",
        title: "VPCs should be configured with an interface endpoint for ECR API",
        config_rule: Some("vpc-endpoint-enabled"),
        no_check: None,
    },
    FsbpControl {
        id: "EC2.56",
        title: "VPCs should be configured with an interface endpoint for Docker Registry",
        config_rule: Some("vpc-endpoint-enabled"),
        no_check: None,
    },
];
