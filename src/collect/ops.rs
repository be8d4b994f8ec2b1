//! Every AWS operation the collector calls, written once: its service and name, how it asks
//! for many items (the page size of a listing, the batch size of a describe), and which
//! calls' answers its requests come from. The collectors name an operation by its entry
//! here; `audit operations` prints the table (tests/synth.py and tests/scale.py read its
//! JSON, so a synthetic recording pages and batches exactly as the collector asks, and the
//! bench's lower bound follows the same call dependencies).
//!
//! Cost of a region, at most: one call per listing page, one per batch of a describe, one
//! per resource for the operations marked [`Shape::Each`].

use crate::cli::ListFormat;

/// How an operation asks for many items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A listing, followed page by page: the page size asked for (`MaxResults`,
    /// `PageSize`, `MaxItems`), or none where AWS's default page is used.
    Pages { page: Option<i32> },
    /// A describe of up to `batch` named items per call, the batches concurrently.
    Batch { batch: usize },
    /// One call per resource, or one per account or region.
    Each,
}

/// One AWS operation the collector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// The service's name in the report's coverage and in recordings (`elbv2`, `events`).
    pub service: &'static str,
    pub name: &'static str,
    pub shape: Shape,
    /// The operations (`service:Name`) whose answers name what this one asks for.
    pub after: &'static [&'static str],
}

impl Op {
    const fn pages(service: &'static str, name: &'static str, page: Option<i32>) -> Op {
        Op {
            service,
            name,
            shape: Shape::Pages { page },
            after: &[],
        }
    }

    const fn batch(service: &'static str, name: &'static str, batch: usize) -> Op {
        Op {
            service,
            name,
            shape: Shape::Batch { batch },
            after: &[],
        }
    }

    const fn each(service: &'static str, name: &'static str) -> Op {
        Op {
            service,
            name,
            shape: Shape::Each,
            after: &[],
        }
    }

    const fn after(self, after: &'static [&'static str]) -> Op {
        Op { after, ..self }
    }

    /// The page size to ask for; `None` leaves AWS's default.
    pub fn page(&self) -> Option<i32> {
        match self.shape {
            Shape::Pages { page } => page,
            _ => None,
        }
    }

    /// Items per call of a batch describe (1 for any other operation).
    pub fn batch_size(&self) -> usize {
        match self.shape {
            Shape::Batch { batch } => batch.max(1),
            _ => 1,
        }
    }

    /// `service:Name`, as checks' needs and IAM policies say it.
    pub fn id(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }
}

pub mod ecs {
    use super::Op;

    // ECS's ListClusters default page is its maximum, 100.
    pub const LIST_CLUSTERS: Op = Op::pages("ecs", "ListClusters", None);
    pub const DESCRIBE_CLUSTERS: Op =
        Op::batch("ecs", "DescribeClusters", 100).after(&["ecs:ListClusters"]);
    pub const LIST_SERVICES: Op =
        Op::pages("ecs", "ListServices", Some(100)).after(&["ecs:ListClusters"]);
    pub const DESCRIBE_SERVICES: Op =
        Op::batch("ecs", "DescribeServices", 10).after(&["ecs:ListServices"]);
    pub const LIST_TASKS: Op =
        Op::pages("ecs", "ListTasks", Some(100)).after(&["ecs:ListClusters"]);
    pub const DESCRIBE_TASKS: Op = Op::batch("ecs", "DescribeTasks", 100).after(&["ecs:ListTasks"]);
    pub const DESCRIBE_TASK_DEFINITION: Op = Op::each("ecs", "DescribeTaskDefinition").after(&[
        "ecs:DescribeServices",
        "ecs:DescribeTasks",
        "scheduler:GetSchedule",
        "events:ListTargetsByRule",
    ]);
    /// Every cluster's container instances, 100 a page (AWS's maximum), in any status.
    pub const LIST_CONTAINER_INSTANCES: Op =
        Op::pages("ecs", "ListContainerInstances", Some(100)).after(&["ecs:ListClusters"]);
    /// Up to 100 container instances a call (AWS's maximum).
    pub const DESCRIBE_CONTAINER_INSTANCES: Op =
        Op::batch("ecs", "DescribeContainerInstances", 100).after(&["ecs:ListContainerInstances"]);
    /// The Auto Scaling group providers the clusters name (AWS describes up to 100 a call).
    pub const DESCRIBE_CAPACITY_PROVIDERS: Op =
        Op::batch("ecs", "DescribeCapacityProviders", 100).after(&["ecs:DescribeClusters"]);
    /// The effective account settings (`defaultLogDriverMode`), 10 a page (AWS's maximum),
    /// in regions with clusters.
    pub const LIST_ACCOUNT_SETTINGS: Op =
        Op::pages("ecs", "ListAccountSettings", Some(10)).after(&["ecs:ListClusters"]);
}

pub mod eks {
    use super::Op;

    pub const LIST_CLUSTERS: Op = Op::pages("eks", "ListClusters", None);
    pub const DESCRIBE_CLUSTER: Op =
        Op::each("eks", "DescribeCluster").after(&["eks:ListClusters"]);
    pub const LIST_NODEGROUPS: Op =
        Op::pages("eks", "ListNodegroups", None).after(&["eks:ListClusters"]);
    pub const DESCRIBE_NODEGROUP: Op =
        Op::each("eks", "DescribeNodegroup").after(&["eks:ListNodegroups"]);
    pub const LIST_FARGATE_PROFILES: Op =
        Op::pages("eks", "ListFargateProfiles", None).after(&["eks:ListClusters"]);
    pub const DESCRIBE_FARGATE_PROFILE: Op =
        Op::each("eks", "DescribeFargateProfile").after(&["eks:ListFargateProfiles"]);
    // ListAddons' default page is its maximum, 100, like the other EKS listings.
    pub const LIST_ADDONS: Op = Op::pages("eks", "ListAddons", None).after(&["eks:ListClusters"]);
    pub const DESCRIBE_ADDON: Op = Op::each("eks", "DescribeAddon").after(&["eks:ListAddons"]);
    pub const LIST_POD_IDENTITY_ASSOCIATIONS: Op =
        Op::pages("eks", "ListPodIdentityAssociations", None).after(&["eks:ListClusters"]);
    /// The association's role is only in its description.
    pub const DESCRIBE_POD_IDENTITY_ASSOCIATION: Op =
        Op::each("eks", "DescribePodIdentityAssociation")
            .after(&["eks:ListPodIdentityAssociations"]);
    /// Once per (add-on, Kubernetes version) the region's clusters run, 100 versions a page.
    pub const DESCRIBE_ADDON_VERSIONS: Op = Op::pages("eks", "DescribeAddonVersions", Some(100))
        .after(&["eks:DescribeAddon", "eks:DescribeCluster"]);
}

pub mod ecr {
    use super::Op;

    // 1000 is DescribeRepositories' largest page (its default is 100).
    pub const DESCRIBE_REPOSITORIES: Op = Op::pages("ecr", "DescribeRepositories", Some(1000));
    // Asked in every region, repositories or not: a rule's repositories appear on the
    // first pull.
    pub const DESCRIBE_PULL_THROUGH_CACHE_RULES: Op =
        Op::pages("ecr", "DescribePullThroughCacheRules", Some(1000));
    // The next three are asked only in a region with at least one repository.
    pub const GET_REGISTRY_SCANNING_CONFIGURATION: Op =
        Op::each("ecr", "GetRegistryScanningConfiguration").after(&["ecr:DescribeRepositories"]);
    // No batch form exists: one call per repository.
    pub const GET_LIFECYCLE_POLICY: Op =
        Op::each("ecr", "GetLifecyclePolicy").after(&["ecr:DescribeRepositories"]);
    pub const GET_REPOSITORY_POLICY: Op =
        Op::each("ecr", "GetRepositoryPolicy").after(&["ecr:DescribeRepositories"]);
    // Only repositories a task definition pulls from, once each however many pull: every
    // image (1000 a page, DescribeImages' largest), in any status.
    pub const DESCRIBE_IMAGES: Op = Op::pages("ecr", "DescribeImages", Some(1000))
        .after(&["ecr:DescribeRepositories", "ecs:DescribeTaskDefinition"]);
    // The manifests of the image indexes task definitions name, 100 a call (the largest
    // batch), for the platforms they list.
    pub const BATCH_GET_IMAGE: Op =
        Op::batch("ecr", "BatchGetImage", 100).after(&["ecr:DescribeImages"]);
}

pub mod secrets {
    use super::Op;

    // What task definitions inject, read once every region is collected, once per secret,
    // parameter or key however many task definitions name it. Never a value: no
    // GetSecretValue, no GetParameter(s).
    /// No batch form reads metadata only (BatchGetSecretValue returns values): one call per
    /// secret.
    pub const DESCRIBE_SECRET: Op =
        Op::each("secretsmanager", "DescribeSecret").after(&["ecs:DescribeTaskDefinition"]);
    /// Up to 50 names a call (a `Name` filter's most values), each call followed page by
    /// page (50 a page, AWS's largest).
    pub const DESCRIBE_PARAMETERS: Op =
        Op::batch("ssm", "DescribeParameters", 50).after(&["ecs:DescribeTaskDefinition"]);
    /// The customer keys those secrets and parameters name.
    pub const DESCRIBE_KEY: Op = Op::each("kms", "DescribeKey")
        .after(&["secretsmanager:DescribeSecret", "ssm:DescribeParameters"]);
    /// Customer managed keys only: the `default` policy (a key's only one).
    pub const GET_KEY_POLICY: Op = Op::each("kms", "GetKeyPolicy").after(&["kms:DescribeKey"]);
}

pub mod elbv2 {
    use super::Op;

    pub const DESCRIBE_LOAD_BALANCERS: Op = Op::pages("elbv2", "DescribeLoadBalancers", Some(400));
    pub const DESCRIBE_TARGET_GROUPS: Op = Op::pages("elbv2", "DescribeTargetGroups", Some(400));
    pub const DESCRIBE_LISTENERS: Op =
        Op::pages("elbv2", "DescribeListeners", Some(400)).after(&["elbv2:DescribeLoadBalancers"]);
    pub const DESCRIBE_RULES: Op =
        Op::pages("elbv2", "DescribeRules", Some(400)).after(&["elbv2:DescribeListeners"]);
    pub const DESCRIBE_TAGS: Op =
        Op::batch("elbv2", "DescribeTags", 20).after(&["elbv2:DescribeTargetGroups"]);
    pub const DESCRIBE_TARGET_HEALTH: Op =
        Op::each("elbv2", "DescribeTargetHealth").after(&["elbv2:DescribeTargetGroups"]);
    pub const DESCRIBE_TARGET_GROUP_ATTRIBUTES: Op =
        Op::each("elbv2", "DescribeTargetGroupAttributes").after(&["elbv2:DescribeTargetGroups"]);
}

pub mod ec2 {
    use super::Op;

    pub const DESCRIBE_REGIONS: Op = Op::each("ec2", "DescribeRegions");
    pub const DESCRIBE_VPCS: Op = Op::pages("ec2", "DescribeVpcs", Some(1000));
    pub const DESCRIBE_SUBNETS: Op = Op::pages("ec2", "DescribeSubnets", Some(1000));
    pub const DESCRIBE_ROUTE_TABLES: Op = Op::pages("ec2", "DescribeRouteTables", Some(100));
    pub const DESCRIBE_NAT_GATEWAYS: Op = Op::pages("ec2", "DescribeNatGateways", Some(1000));
    pub const DESCRIBE_INTERNET_GATEWAYS: Op =
        Op::pages("ec2", "DescribeInternetGateways", Some(1000));
    pub const DESCRIBE_VPC_ENDPOINTS: Op = Op::pages("ec2", "DescribeVpcEndpoints", Some(1000));
    /// Every security group of the region with its rules, 1000 a page (the largest): one
    /// listing, not one call per group.
    pub const DESCRIBE_SECURITY_GROUPS: Op = Op::pages("ec2", "DescribeSecurityGroups", Some(1000));
    pub const DESCRIBE_INSTANCES: Op = Op::pages("ec2", "DescribeInstances", Some(1000));
    // Named instance types are not paged: AWS answers all of a batch at once.
    pub const DESCRIBE_INSTANCE_TYPES: Op =
        Op::batch("ec2", "DescribeInstanceTypes", 100).after(&["eks:DescribeNodegroup"]);
}

pub mod iam {
    use super::Op;

    pub const GET_ACCOUNT_AUTHORIZATION_DETAILS: Op =
        Op::pages("iam", "GetAccountAuthorizationDetails", Some(1000));
    pub const LIST_OPEN_ID_CONNECT_PROVIDERS: Op = Op::each("iam", "ListOpenIDConnectProviders");
}

pub mod autoscaling {
    use super::Op;

    pub const DESCRIBE_SCALABLE_TARGETS: Op = Op::pages(
        "application-autoscaling",
        "DescribeScalableTargets",
        Some(50),
    );
}

pub mod scheduled {
    use super::Op;

    pub const LIST_SCHEDULES: Op = Op::pages("scheduler", "ListSchedules", Some(100));
    pub const GET_SCHEDULE: Op =
        Op::each("scheduler", "GetSchedule").after(&["scheduler:ListSchedules"]);
    pub const LIST_EVENT_BUSES: Op = Op::pages("events", "ListEventBuses", None);
    pub const LIST_RULES: Op =
        Op::pages("events", "ListRules", None).after(&["events:ListEventBuses"]);
    // A rule's targets (five by default) fit in AWS's default page.
    pub const LIST_TARGETS_BY_RULE: Op =
        Op::pages("events", "ListTargetsByRule", None).after(&["events:ListRules"]);
}

pub mod sts {
    use super::Op;

    /// A fleet member's role, assumed before anything in the account is collected.
    pub const ASSUME_ROLE: Op = Op::each("sts", "AssumeRole");
}

/// Every operation, in the order a region's collection reaches them.
pub static ALL: &[&Op] = &[
    &sts::ASSUME_ROLE,
    &ec2::DESCRIBE_REGIONS,
    &ecs::LIST_CLUSTERS,
    &ecs::DESCRIBE_CLUSTERS,
    &ecs::LIST_SERVICES,
    &ecs::DESCRIBE_SERVICES,
    &ecs::LIST_TASKS,
    &ecs::DESCRIBE_TASKS,
    &ecs::DESCRIBE_TASK_DEFINITION,
    &ecs::LIST_CONTAINER_INSTANCES,
    &ecs::DESCRIBE_CONTAINER_INSTANCES,
    &ecs::DESCRIBE_CAPACITY_PROVIDERS,
    &ecs::LIST_ACCOUNT_SETTINGS,
    &scheduled::LIST_SCHEDULES,
    &scheduled::GET_SCHEDULE,
    &scheduled::LIST_EVENT_BUSES,
    &scheduled::LIST_RULES,
    &scheduled::LIST_TARGETS_BY_RULE,
    &autoscaling::DESCRIBE_SCALABLE_TARGETS,
    &eks::LIST_CLUSTERS,
    &eks::DESCRIBE_CLUSTER,
    &eks::LIST_NODEGROUPS,
    &eks::DESCRIBE_NODEGROUP,
    &eks::LIST_FARGATE_PROFILES,
    &eks::DESCRIBE_FARGATE_PROFILE,
    &eks::LIST_ADDONS,
    &eks::DESCRIBE_ADDON,
    &eks::DESCRIBE_ADDON_VERSIONS,
    &eks::LIST_POD_IDENTITY_ASSOCIATIONS,
    &eks::DESCRIBE_POD_IDENTITY_ASSOCIATION,
    &ecr::DESCRIBE_REPOSITORIES,
    &ecr::DESCRIBE_PULL_THROUGH_CACHE_RULES,
    &ecr::GET_REGISTRY_SCANNING_CONFIGURATION,
    &ecr::GET_LIFECYCLE_POLICY,
    &ecr::GET_REPOSITORY_POLICY,
    &ecr::DESCRIBE_IMAGES,
    &ecr::BATCH_GET_IMAGE,
    &secrets::DESCRIBE_SECRET,
    &secrets::DESCRIBE_PARAMETERS,
    &secrets::DESCRIBE_KEY,
    &secrets::GET_KEY_POLICY,
    &elbv2::DESCRIBE_LOAD_BALANCERS,
    &elbv2::DESCRIBE_TARGET_GROUPS,
    &elbv2::DESCRIBE_LISTENERS,
    &elbv2::DESCRIBE_RULES,
    &elbv2::DESCRIBE_TAGS,
    &elbv2::DESCRIBE_TARGET_HEALTH,
    &elbv2::DESCRIBE_TARGET_GROUP_ATTRIBUTES,
    &ec2::DESCRIBE_VPCS,
    &ec2::DESCRIBE_SUBNETS,
    &ec2::DESCRIBE_ROUTE_TABLES,
    &ec2::DESCRIBE_NAT_GATEWAYS,
    &ec2::DESCRIBE_INTERNET_GATEWAYS,
    &ec2::DESCRIBE_VPC_ENDPOINTS,
    &ec2::DESCRIBE_SECURITY_GROUPS,
    &ec2::DESCRIBE_INSTANCES,
    &ec2::DESCRIBE_INSTANCE_TYPES,
    &iam::GET_ACCOUNT_AUTHORIZATION_DETAILS,
    &iam::LIST_OPEN_ID_CONNECT_PROVIDERS,
];

/// `audit operations`: the table as text, JSON or Markdown.
pub fn list(format: ListFormat) -> String {
    let row = |op: &Op| {
        let shape = match op.shape {
            Shape::Pages { page: Some(n) } => format!("pages of {n}"),
            Shape::Pages { page: None } => "pages (AWS's default size)".into(),
            Shape::Batch { batch } => format!("{batch} per call"),
            Shape::Each => "one call per resource or scope".into(),
        };
        [op.id(), shape, op.after.join(", ")]
    };
    match format {
        ListFormat::Json => {
            let ops: Vec<serde_json::Value> = ALL
                .iter()
                .map(|op| {
                    let (shape, page, batch) = match op.shape {
                        Shape::Pages { page } => ("pages", page, None),
                        Shape::Batch { batch } => ("batch", None, Some(batch)),
                        Shape::Each => ("each", None, None),
                    };
                    serde_json::json!({
                        "service": op.service,
                        "operation": op.name,
                        "shape": shape,
                        "page": page,
                        "batch": batch,
                        "after": op.after,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&ops).expect("the table serializes") + "\n"
        }
        ListFormat::Markdown => {
            let mut out = String::from("| operation | asks | after |\n|---|---|---|\n");
            for op in ALL {
                let [id, shape, after] = row(op);
                out.push_str(&format!("| `{id}` | {shape} | {after} |\n"));
            }
            out
        }
        ListFormat::Table => {
            let rows: Vec<[String; 3]> = ALL.iter().map(|op| row(op)).collect();
            let w0 = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
            let w1 = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
            let mut out = String::new();
            for [id, shape, after] in rows {
                let line = format!("{id:w0$}  {shape:w1$}  {after}");
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once_and_follows_listed_operations() {
        let ids: Vec<String> = ALL.iter().map(|o| o.id()).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[..i].contains(id), "{id} is listed twice");
        }
        for op in ALL {
            for before in op.after {
                assert!(
                    ids.iter().any(|i| i == before),
                    "{}: after {before}, which is not listed",
                    op.id()
                );
            }
        }
    }

    #[test]
    fn every_operation_a_check_needs_is_one_the_collector_calls() {
        let ids: Vec<String> = ALL.iter().map(|o| o.id()).collect();
        for check in checks::rules::ALL {
            for need in check.needs() {
                assert!(
                    ids.iter().any(|i| i == need),
                    "{}: needs {need}, which no collector calls",
                    check.code
                );
            }
        }
    }
}
