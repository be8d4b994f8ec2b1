//! Builders for test inventories: one call per record, defaults that describe a healthy
//! account, and `&mut` access to the record for the one field a test is about. Keeping the
//! struct literals here means a new model field is added in one place, not in every test.

use std::collections::BTreeMap;

use crate::model::*;
use crate::registry::{run, Check, Outcome};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";
/// When every built inventory says it was collected.
pub const COLLECTED_AT: &str = "2026-11-22T06:00:00Z";

/// Builds an [`Inventory`] record by record, in one account and region at a time.
pub struct Builder {
    pub inv: Inventory,
    scope: Scope,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            inv: Inventory {
                collected_at: Some(COLLECTED_AT.into()),
                ..Inventory::default()
            },
            scope: Scope::new(ACCOUNT, REGION),
        }
    }
}

fn push<T>(v: &mut Vec<T>, item: T) -> &mut T {
    v.push(item);
    let last = v.len() - 1;
    &mut v[last]
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scope(&self) -> Scope {
        self.scope.clone()
    }

    /// Records added after this call belong to `account` / `region`.
    pub fn in_scope(&mut self, account: &str, region: &str) -> &mut Self {
        self.scope = Scope::new(account, region);
        self
    }

    pub fn finish(&self) -> Inventory {
        self.inv.clone()
    }

    /// Runs `checks` over what was built.
    pub fn run(&self, checks: &[&Check]) -> Outcome {
        run(&self.inv, checks)
    }

    /// `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE` in the current scope.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.scope.region, self.scope.account
        )
    }

    pub fn task_def_arn(&self, family: &str) -> String {
        self.arn("ecs", &format!("task-definition/{family}:1"))
    }

    pub fn service_arn(&self, name: &str) -> String {
        self.arn("ecs", &format!("service/main/{name}"))
    }

    pub fn tg_arn(&self, name: &str) -> String {
        self.arn(
            "elasticloadbalancing",
            &format!("targetgroup/{name}/0123456789abcdef"),
        )
    }

    pub fn subnet_arn(&self, id: &str) -> String {
        self.scope.ec2_arn("subnet", id)
    }

    // ------------------------------------------------------------ EC2 networking

    pub fn vpc(&mut self, id: &str) -> &mut Vpc {
        let arn = self.scope.ec2_arn("vpc", id);
        push(
            &mut self.inv.vpcs,
            Vpc {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                cidr_block: Some("10.0.0.0/16".into()),
                is_default: false,
            },
        )
    }

    pub fn subnet(&mut self, id: &str, vpc: &str, cidr: &str, free: i64) -> &mut Subnet {
        let arn = self.scope.ec2_arn("subnet", id);
        push(
            &mut self.inv.subnets,
            Subnet {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                vpc_id: vpc.into(),
                cidr_block: Some(cidr.into()),
                availability_zone: Some(format!("{}a", self.scope.region)),
                available_ip_address_count: free,
                map_public_ip_on_launch: false,
            },
        )
    }

    /// A non-main route table with only the local route, explicitly associated with `subnets`.
    pub fn route_table(&mut self, id: &str, vpc: &str, subnets: &[&str]) -> &mut RouteTable {
        let arn = self.scope.ec2_arn("route-table", id);
        push(
            &mut self.inv.route_tables,
            RouteTable {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                vpc_id: vpc.into(),
                main: false,
                subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
                routes: vec![route("10.0.0.0/16", RouteTarget::Local)],
            },
        )
    }

    /// The main route table of `vpc`, with only the local route.
    pub fn main_table(&mut self, id: &str, vpc: &str) -> &mut RouteTable {
        let rt = self.route_table(id, vpc, &[]);
        rt.main = true;
        rt
    }

    pub fn igw(&mut self, id: &str, vpc: &str) -> &mut InternetGateway {
        let arn = self.scope.ec2_arn("internet-gateway", id);
        push(
            &mut self.inv.internet_gateways,
            InternetGateway {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                attached_vpcs: vec![vpc.into()],
            },
        )
    }

    /// An available public NAT gateway.
    pub fn nat(&mut self, id: &str, vpc: &str, subnet: &str) -> &mut NatGateway {
        let arn = self.scope.ec2_arn("natgateway", id);
        push(
            &mut self.inv.nat_gateways,
            NatGateway {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                vpc_id: vpc.into(),
                subnet_id: subnet.into(),
                state: "available".into(),
                connectivity_type: Some("public".into()),
            },
        )
    }

    fn endpoint(&mut self, id: &str, vpc: &str, short: &str, kind: &str) -> &mut VpcEndpoint {
        let arn = self.scope.ec2_arn("vpc-endpoint", id);
        let service_name = format!("com.amazonaws.{}.{short}", self.scope.region);
        push(
            &mut self.inv.vpc_endpoints,
            VpcEndpoint {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                vpc_id: vpc.into(),
                service_name,
                endpoint_type: kind.into(),
                state: "available".into(),
                route_table_ids: vec![],
                subnet_ids: vec![],
                private_dns_enabled: kind == "Interface",
                policy_document: None,
            },
        )
    }

    /// An available interface endpoint with private DNS, for `short` (`ecr.dkr`).
    pub fn interface_endpoint(&mut self, id: &str, vpc: &str, short: &str) -> &mut VpcEndpoint {
        self.endpoint(id, vpc, short, "Interface")
    }

    /// An available gateway endpoint for `short` (`s3`) attached to `route_tables`.
    pub fn gateway_endpoint(
        &mut self,
        id: &str,
        vpc: &str,
        short: &str,
        route_tables: &[&str],
    ) -> &mut VpcEndpoint {
        let ep = self.endpoint(id, vpc, short, "Gateway");
        ep.route_table_ids = route_tables.iter().map(|s| s.to_string()).collect();
        ep
    }

    /// A running instance in `subnet`, without tags.
    pub fn instance(&mut self, id: &str, subnet: &str) -> &mut Instance {
        let arn = self.arn("ec2", &format!("instance/{id}"));
        push(
            &mut self.inv.instances,
            Instance {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                instance_type: Some("m5.large".into()),
                state: "running".into(),
                vpc_id: None,
                subnet_id: Some(subnet.into()),
                security_groups: vec![],
                tags: BTreeMap::new(),
            },
        )
    }

    /// Security group `id` in vpc-1 admitting `ingress` and, as AWS creates it, letting
    /// everything out.
    pub fn security_group(&mut self, id: &str, ingress: Vec<SgRule>) -> &mut SecurityGroup {
        let arn = self.scope.ec2_arn("security-group", id);
        push(
            &mut self.inv.security_groups,
            SecurityGroup {
                scope: self.scope.clone(),
                id: id.into(),
                arn,
                name: id.into(),
                vpc_id: Some("vpc-1".into()),
                ingress,
                egress: vec![SgRule {
                    protocol: "-1".into(),
                    cidrs: vec!["0.0.0.0/0".into()],
                    ..SgRule::default()
                }],
            },
        )
    }

    pub fn instance_type(&mut self, name: &str, enis: i32, ips_per_eni: i32) -> &mut InstanceType {
        push(
            &mut self.inv.instance_types,
            InstanceType {
                scope: self.scope.clone(),
                name: name.into(),
                maximum_network_interfaces: enis,
                ipv4_addresses_per_interface: ips_per_eni,
            },
        )
    }

    // ------------------------------------------------------------ ECS

    /// Revision 1 of `family`, one essential container per image, each with a health check
    /// and the awslogs driver.
    pub fn task_def(
        &mut self,
        family: &str,
        network_mode: Option<&str>,
        images: &[&str],
    ) -> &mut TaskDefinition {
        let arn = self.task_def_arn(family);
        let containers = images
            .iter()
            .enumerate()
            .map(|(i, image)| ContainerDefinition {
                name: format!("c{i}"),
                image: image.to_string(),
                essential: true,
                port_mappings: vec![],
                environment: vec![],
                command_secrets: vec![],
                entry_point_secrets: vec![],
                secrets: vec![],
                has_health_check: true,
                health_check: Some(ContainerHealthCheck {
                    interval: Some(30),
                    timeout: Some(5),
                    retries: Some(3),
                    start_period: None,
                }),
                log_driver: Some("awslogs".into()),
                log_options: BTreeMap::new(),
                log_secret_options: vec![],
                repository_credentials: None,
                privileged: None,
                capabilities_add: vec![],
                readonly_root_filesystem: None,
                user: None,
            })
            .collect();
        push(
            &mut self.inv.task_definitions,
            TaskDefinition {
                scope: self.scope.clone(),
                arn,
                family: family.into(),
                revision: 1,
                network_mode: network_mode.map(str::to_string),
                pid_mode: None,
                ipc_mode: None,
                os_family: None,
                cpu_architecture: None,
                requires_compatibilities: vec![],
                task_role_arn: None,
                execution_role_arn: None,
                cpu: None,
                memory: None,
                containers,
                efs_volumes: vec![],
            },
        )
    }

    /// An ACTIVE Fargate service of 2 tasks on revision 1 of `family`, rolling deploys with
    /// the circuit breaker, rollback and a deployment alarm on. With `subnets` empty it has
    /// no awsvpc config.
    pub fn service(&mut self, name: &str, family: &str, subnets: &[&str]) -> &mut EcsService {
        let arn = self.service_arn(name);
        let cluster_arn = self.arn("ecs", "cluster/main");
        let task_definition = self.task_def_arn(family);
        let network = (!subnets.is_empty()).then(|| AwsVpcConfiguration {
            subnets: subnets.iter().map(|s| s.to_string()).collect(),
            security_groups: vec!["sg-1".into()],
            assign_public_ip: Some("DISABLED".into()),
        });
        push(
            &mut self.inv.ecs_services,
            EcsService {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                cluster_arn,
                status: "ACTIVE".into(),
                launch_type: Some("FARGATE".into()),
                capacity_provider_strategy: vec![],
                platform_version: None,
                scheduling_strategy: None,
                task_definition,
                desired_count: 2,
                running_count: 2,
                pending_count: 0,
                deployment_controller: None,
                deployment_configuration: Some(DeploymentConfiguration {
                    maximum_percent: Some(200),
                    minimum_healthy_percent: Some(100),
                    circuit_breaker: Some(CircuitBreaker {
                        enable: true,
                        rollback: true,
                    }),
                    alarms: Some(DeploymentAlarms {
                        alarm_names: vec![format!("{name}-5xx")],
                        enable: true,
                        rollback: true,
                    }),
                }),
                load_balancers: vec![],
                health_check_grace_period_seconds: None,
                network,
                deployments: vec![],
                events: vec![],
                task_sets: vec![],
                enable_execute_command: false,
            },
        )
    }

    /// A task set (`status` PRIMARY, ACTIVE or DRAINING) of service `service`, running task
    /// definition `family` on Fargate in `subnets`; the service is switched to the CODE_DEPLOY
    /// controller, the one that, with EXTERNAL, runs task sets.
    pub fn task_set(
        &mut self,
        service: &str,
        id: &str,
        status: &str,
        family: &str,
        subnets: &[&str],
    ) -> &mut EcsTaskSet {
        let service_arn = self.service_arn(service);
        let arn = self.arn("ecs", &format!("task-set/main/{service}/{id}"));
        let task_definition = self.task_def_arn(family);
        let svc = self
            .inv
            .ecs_services
            .iter_mut()
            .find(|s| s.arn == service_arn)
            .expect("add the service first");
        svc.deployment_controller = Some("CODE_DEPLOY".into());
        svc.task_sets.push(EcsTaskSet {
            arn,
            id: id.into(),
            status: status.into(),
            task_definition,
            launch_type: Some("FARGATE".into()),
            capacity_provider_strategy: vec![],
            platform_version: None,
            network: Some(AwsVpcConfiguration {
                subnets: subnets.iter().map(|s| s.to_string()).collect(),
                security_groups: vec!["sg-1".into()],
                assign_public_ip: Some("DISABLED".into()),
            }),
            load_balancers: vec![],
            scale_percent: Some(100.0),
            computed_desired_count: 2,
            running_count: 2,
            pending_count: 0,
        });
        svc.task_sets.last_mut().expect("just pushed")
    }

    /// An enabled EventBridge Scheduler schedule `name` that runs one Fargate task of
    /// `family` in `subnets` of cluster `main` every day.
    pub fn scheduled(&mut self, name: &str, family: &str, subnets: &[&str]) -> &mut ScheduledTask {
        let arn = format!(
            "arn:aws:scheduler:{}:{}:schedule/default/{name}",
            self.scope.region, self.scope.account
        );
        let cluster_arn = self.arn("ecs", "cluster/main");
        let task_definition = self.task_def_arn(family);
        push(
            &mut self.inv.scheduled_tasks,
            ScheduledTask {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                source: ScheduleSource::Scheduler,
                group: Some("default".into()),
                target_id: None,
                schedule_expression: Some("rate(1 day)".into()),
                cluster_arn,
                task_definition,
                launch_type: Some("FARGATE".into()),
                capacity_provider_strategy: vec![],
                platform_version: None,
                network: Some(AwsVpcConfiguration {
                    subnets: subnets.iter().map(|s| s.to_string()).collect(),
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some("DISABLED".into()),
                }),
                task_count: 1,
                overrides: vec![],
                enable_execute_command: false,
            },
        )
    }

    /// `count` running standalone Fargate tasks of `family` (task group `family:FAMILY`) in
    /// `subnets` of cluster `main`.
    pub fn standalone(
        &mut self,
        family: &str,
        count: usize,
        subnets: &[&str],
    ) -> &mut StandaloneTasks {
        let cluster_arn = self.arn("ecs", "cluster/main");
        let task_definition = self.task_def_arn(family);
        let task_arns = (0..count)
            .map(|i| self.arn("ecs", &format!("task/main/{family}{i}")))
            .collect();
        push(
            &mut self.inv.standalone_tasks,
            StandaloneTasks {
                scope: self.scope.clone(),
                arn: format!("{cluster_arn}/standalone/family:{family}"),
                cluster_arn,
                group: format!("family:{family}"),
                task_definition,
                started_by: None,
                launch_type: Some("FARGATE".into()),
                capacity_provider: None,
                platform_version: None,
                subnets: subnets.iter().map(|s| s.to_string()).collect(),
                task_arns,
                enable_execute_command: false,
            },
        )
    }

    /// An ACTIVE ECS cluster `main` (the cluster [`Builder::service`] places services in)
    /// with no settings and no capacity providers.
    pub fn ecs_cluster(&mut self) -> &mut EcsCluster {
        let arn = self.arn("ecs", "cluster/main");
        push(
            &mut self.inv.ecs_clusters,
            EcsCluster {
                scope: self.scope.clone(),
                arn,
                name: "main".into(),
                status: "ACTIVE".into(),
                settings: Default::default(),
                capacity_providers: vec![],
                default_capacity_provider_strategy: vec![],
                active_services_count: 1,
                running_tasks_count: 2,
                registered_container_instances_count: 0,
            },
        )
    }

    /// A target group with no tags, no registered targets and a 30 s deregistration delay.
    pub fn target_group(&mut self, name: &str, target_type: &str) -> &mut TargetGroup {
        let arn = self.tg_arn(name);
        push(
            &mut self.inv.target_groups,
            TargetGroup {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                target_type: Some(target_type.into()),
                protocol: Some("HTTP".into()),
                port: Some(80),
                vpc_id: Some("vpc-1".into()),
                load_balancer_arns: vec![],
                health_check_port: None,
                health_check_path: None,
                health_check_protocol: Some("HTTP".into()),
                health_check_interval_seconds: Some(30),
                unhealthy_threshold_count: Some(2),
                healthy_threshold_count: Some(5),
                preserve_client_ip: None,
                tags: Some(BTreeMap::new()),
                targets: Some(vec![]),
                deregistration_delay_seconds: Some(30),
            },
        )
    }

    /// Attaches target group `tg` (by name) to service `service` (by name).
    pub fn attach(&mut self, service: &str, tg: &str) {
        let tg_arn = self.tg_arn(tg);
        if let Some(s) = self.inv.ecs_services.iter_mut().find(|s| s.name == service) {
            s.load_balancers.push(ServiceLoadBalancer {
                target_group_arn: Some(tg_arn),
                load_balancer_name: None,
                container_name: Some("c0".into()),
                container_port: Some(80),
            });
        }
    }

    // ------------------------------------------------------------ EKS

    pub fn eks_cluster(&mut self, name: &str) -> &mut EksCluster {
        let arn = self.arn("eks", &format!("cluster/{name}"));
        push(
            &mut self.inv.eks_clusters,
            EksCluster {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                status: "ACTIVE".into(),
                version: Some("1.35".into()),
                platform_version: None,
                role_arn: None,
                vpc_id: Some("vpc-1".into()),
                subnet_ids: vec![],
                endpoint_public_access: false,
                endpoint_private_access: true,
                public_access_cidrs: vec![],
                enabled_log_types: vec![],
                secrets_encrypted: true,
                oidc_issuer: None,
                auto_mode_compute: false,
                created_at: None,
                deletion_protection: Some(true),
                authentication_mode: Some("API".into()),
            },
        )
    }

    /// An ACTIVE, healthy add-on `name` at `version` on EKS cluster `cluster`.
    pub fn eks_addon(&mut self, cluster: &str, name: &str, version: &str) -> &mut EksAddon {
        let arn = self.arn("eks", &format!("addon/{cluster}/{name}/uuid"));
        push(
            &mut self.inv.eks_addons,
            EksAddon {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                cluster_name: cluster.into(),
                status: "ACTIVE".into(),
                version: Some(version.into()),
                health_issues: vec![],
            },
        )
    }

    /// An ACTIVE m5.large nodegroup: desired 2, max 4.
    pub fn nodegroup(&mut self, cluster: &str, name: &str, subnets: &[&str]) -> &mut EksNodegroup {
        let arn = self.arn("eks", &format!("nodegroup/{cluster}/{name}/uuid"));
        push(
            &mut self.inv.eks_nodegroups,
            EksNodegroup {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                cluster_name: cluster.into(),
                status: "ACTIVE".into(),
                version: None,
                capacity_type: None,
                instance_types: vec!["m5.large".into()],
                subnets: subnets.iter().map(|s| s.to_string()).collect(),
                min_size: 1,
                max_size: 4,
                desired_size: 2,
            },
        )
    }

    /// An ACTIVE Fargate profile selecting every pod of `namespace`.
    pub fn fargate_profile(
        &mut self,
        cluster: &str,
        name: &str,
        namespace: &str,
        subnets: &[&str],
    ) -> &mut EksFargateProfile {
        let arn = self.arn("eks", &format!("fargateprofile/{cluster}/{name}/uuid"));
        push(
            &mut self.inv.eks_fargate_profiles,
            EksFargateProfile {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                cluster_name: cluster.into(),
                status: "ACTIVE".into(),
                subnets: subnets.iter().map(|s| s.to_string()).collect(),
                selectors: vec![FargateSelector {
                    namespace: Some(namespace.into()),
                    labels: BTreeMap::new(),
                }],
            },
        )
    }

    // ------------------------------------------------------------ ECR

    pub fn ecr_repository_arn(&self, name: &str) -> String {
        self.arn("ecr", &format!("repository/{name}"))
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG` in the current scope.
    pub fn ecr_image_uri(&self, name: &str, tag: &str) -> String {
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{name}:{tag}",
            self.scope.account, self.scope.region
        )
    }

    /// A well-kept repository: immutable tags, scanned on push, a lifecycle policy, no
    /// repository policy. Adds the region's registry (basic scanning, no rules) if absent.
    pub fn ecr_repository(&mut self, name: &str) -> &mut EcrRepository {
        if !self
            .inv
            .ecr_registries
            .iter()
            .any(|r| r.scope == self.scope)
        {
            self.ecr_registry("BASIC");
        }
        let arn = self.ecr_repository_arn(name);
        let uri = format!(
            "{}.dkr.ecr.{}.amazonaws.com/{name}",
            self.scope.account, self.scope.region
        );
        push(
            &mut self.inv.ecr_repositories,
            EcrRepository {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                uri,
                registry_id: self.scope.account.clone(),
                image_tag_mutability: Some("IMMUTABLE".into()),
                tag_mutability_exclusions: vec![],
                scan_on_push: true,
                encryption_type: Some("AES256".into()),
                kms_key: None,
                lifecycle_policy: Some(
                    r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#.into(),
                ),
                policy: None,
                created_at: None,
                images: None,
            },
        )
    }

    /// Repository `name` of the current scope, to change.
    pub fn ecr_repository_mut(&mut self, name: &str) -> &mut EcrRepository {
        let arn = self.ecr_repository_arn(name);
        self.inv
            .ecr_repositories
            .iter_mut()
            .find(|r| r.arn == arn)
            .unwrap_or_else(|| panic!("test inventory has no repository {name}"))
    }

    /// Image `digest` of repository `name` (created if absent), single-platform, active,
    /// pushed at `pushed_at` (RFC 3339) with `tags`. Marks the repository's images listed.
    pub fn ecr_image(
        &mut self,
        name: &str,
        digest: &str,
        tags: &[&str],
        pushed_at: &str,
    ) -> &mut EcrImageDetail {
        let arn = self.ecr_repository_arn(name);
        if !self.inv.ecr_repositories.iter().any(|r| r.arn == arn) {
            self.ecr_repository(name);
        }
        let repo = self.ecr_repository_mut(name);
        push(
            repo.images.get_or_insert_with(Vec::new),
            EcrImageDetail {
                digest: digest.into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                pushed_at: Some(pushed_at.into()),
                last_pulled_at: None,
                status: None,
                archived_at: None,
                manifest_media_type: Some(
                    "application/vnd.docker.distribution.manifest.v2+json".into(),
                ),
                platforms: None,
            },
        )
    }

    /// Like [`Self::ecr_image`], an image index serving `platforms` (`linux/arm64/v8`).
    pub fn ecr_index(
        &mut self,
        name: &str,
        digest: &str,
        tags: &[&str],
        pushed_at: &str,
        platforms: &[&str],
    ) -> &mut EcrImageDetail {
        let image = self.ecr_image(name, digest, tags, pushed_at);
        image.manifest_media_type = Some("application/vnd.oci.image.index.v1+json".into());
        image.platforms = Some(
            platforms
                .iter()
                .map(|p| {
                    let mut parts = p.split('/');
                    ImagePlatform {
                        os: parts.next().unwrap_or_default().into(),
                        architecture: parts.next().unwrap_or_default().into(),
                        variant: parts.next().map(str::to_string),
                    }
                })
                .collect(),
        );
        image
    }

    /// A pull-through cache rule of the current region for repositories under `prefix`.
    pub fn pull_through_rule(&mut self, prefix: &str, upstream: &str) -> &mut EcrPullThroughRule {
        push(
            &mut self.inv.ecr_pull_through_rules,
            EcrPullThroughRule {
                scope: self.scope.clone(),
                prefix: prefix.into(),
                upstream_registry_url: upstream.into(),
            },
        )
    }

    /// The current region's registry, replacing any: `scan_type` and no rules.
    pub fn ecr_registry(&mut self, scan_type: &str) -> &mut EcrRegistry {
        self.inv.ecr_registries.retain(|r| r.scope != self.scope);
        // The region's repositories were listed.
        self.inv.coverage.push(CoverageEntry {
            account: self.scope.account.clone(),
            region: self.scope.region.clone(),
            service: "ecr".into(),
            operation: "DescribeRepositories".into(),
            scope: None,
            status: CallStatus::Ok,
            error_code: None,
            message: None,
        });
        let arn = ecr_registry_arn(&self.scope);
        push(
            &mut self.inv.ecr_registries,
            EcrRegistry {
                scope: self.scope.clone(),
                arn,
                registry_id: self.scope.account.clone(),
                scan_type: scan_type.into(),
                scanning_rules: vec![],
            },
        )
    }

    /// An ACTIVE container instance of cluster `main` with a connected agent, on EC2
    /// instance `instance_id` (x86_64), with `ecs.subnet-id` = `subnet` (no attribute when
    /// `subnet` is empty).
    pub fn container_instance(
        &mut self,
        instance_id: &str,
        subnet: &str,
    ) -> &mut EcsContainerInstance {
        let arn = self.arn(
            "ecs",
            &format!(
                "container-instance/main/{}",
                instance_id.trim_start_matches("i-")
            ),
        );
        let cluster_arn = self.arn("ecs", "cluster/main");
        let mut attributes = BTreeMap::from([(
            EcsContainerInstance::CPU_ARCHITECTURE.to_string(),
            "x86_64".to_string(),
        )]);
        if !subnet.is_empty() {
            attributes.insert(EcsContainerInstance::SUBNET_ID.into(), subnet.into());
        }
        push(
            &mut self.inv.ecs_container_instances,
            EcsContainerInstance {
                scope: self.scope.clone(),
                arn,
                cluster_arn,
                ec2_instance_id: Some(instance_id.into()),
                status: "ACTIVE".into(),
                agent_connected: true,
                running_tasks_count: 1,
                attributes,
            },
        )
    }

    // ------------------------------------------------------------ coverage

    /// Records that `op` (`ec2:DescribeRouteTables`) was denied in the current scope, for
    /// `resource` or region-wide.
    pub fn gap(&mut self, op: &str, resource: Option<&str>) -> &mut Self {
        let (service, operation) = op.split_once(':').unwrap_or(("unknown", op));
        self.inv.coverage.push(CoverageEntry {
            account: self.scope.account.clone(),
            region: self.scope.region.clone(),
            service: service.into(),
            operation: operation.into(),
            scope: resource.map(str::to_string),
            status: CallStatus::AccessDenied,
            error_code: Some("AccessDeniedException".into()),
            message: None,
        });
        self
    }

    // ------------------------------------------------------------ scenarios

    /// vpc-1 with a public subnet `public-a` (its own table routing to igw-1, holding NAT
    /// nat-1) and a private subnet `subnet-1` (10.0.1.0/24, 200 free) on the VPC's
    /// local-only main table `rtb-main`.
    pub fn standard_vpc() -> Self {
        let mut b = Builder::new();
        b.vpc("vpc-1");
        b.igw("igw-1", "vpc-1");
        b.subnet("public-a", "vpc-1", "10.0.0.0/24", 250);
        b.route_table("rtb-public", "vpc-1", &["public-a"])
            .routes
            .push(default_route(RouteTarget::InternetGateway("igw-1".into())));
        b.nat("nat-1", "vpc-1", "public-a");
        b.subnet("subnet-1", "vpc-1", "10.0.1.0/24", 200);
        b.main_table("rtb-main", "vpc-1");
        b
    }

    /// Adds the two ECR interface endpoints to vpc-1 (vpce-api, vpce-dkr).
    pub fn with_ecr_endpoints(&mut self) -> &mut Self {
        self.interface_endpoint("vpce-api", "vpc-1", "ecr.api");
        self.interface_endpoint("vpce-dkr", "vpc-1", "ecr.dkr");
        self
    }

    /// Service `web` on Fargate in `subnet-1`, its task definition pulling from this
    /// region's ECR.
    pub fn with_web_service(&mut self) -> &mut EcsService {
        let image = format!(
            "{}.dkr.ecr.{}.amazonaws.com/web:1.4.2",
            self.scope.account, self.scope.region
        );
        self.task_def("web", Some("awsvpc"), &[&image]);
        self.service("web", "web", &["subnet-1"])
    }

    /// Route table `id` by id, in any scope.
    pub fn table(&mut self, id: &str) -> &mut RouteTable {
        self.inv
            .route_tables
            .iter_mut()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("test inventory has no route table {id}"))
    }
}

/// An active route.
pub fn route(dest: &str, target: RouteTarget) -> Route {
    Route {
        destination_cidr: Some(dest.into()),
        destination_ipv6_cidr: None,
        destination_prefix_list: None,
        target,
        state: Some("active".into()),
    }
}

/// An active 0.0.0.0/0 route.
pub fn default_route(target: RouteTarget) -> Route {
    route("0.0.0.0/0", target)
}

// ------------------------------------------------------------ ELBv2 load balancers and listeners

impl Builder {
    pub fn lb_arn(&self, name: &str) -> String {
        self.arn(
            "elasticloadbalancing",
            &format!("loadbalancer/app/{name}/0123456789abcdef"),
        )
    }

    /// An active, internal Application Load Balancer in vpc-1.
    pub fn load_balancer(&mut self, name: &str) -> &mut LoadBalancer {
        let arn = self.lb_arn(name);
        push(
            &mut self.inv.load_balancers,
            LoadBalancer {
                scope: self.scope.clone(),
                arn,
                name: name.into(),
                lb_type: Some("application".into()),
                scheme: Some("internal".into()),
                vpc_id: Some("vpc-1".into()),
                state: Some("active".into()),
                subnets: vec![],
                security_groups: vec![],
            },
        )
    }

    /// A listener of load balancer `lb` (by name) whose default action forwards to the target
    /// groups `tgs` (by name); the load balancer is added to each group's
    /// `load_balancer_arns`, as AWS reports it.
    pub fn listener(&mut self, lb: &str, protocol: &str, port: i32, tgs: &[&str]) -> &mut Listener {
        let lb_arn = self.lb_arn(lb);
        let arn = self.arn(
            "elasticloadbalancing",
            &format!("listener/app/{lb}/0123456789abcdef/{port:016x}"),
        );
        let tg_arns: Vec<String> = tgs.iter().map(|t| self.tg_arn(t)).collect();
        for tg in self
            .inv
            .target_groups
            .iter_mut()
            .filter(|t| tg_arns.contains(&t.arn))
        {
            if !tg.load_balancer_arns.contains(&lb_arn) {
                tg.load_balancer_arns.push(lb_arn.clone());
            }
        }
        push(
            &mut self.inv.listeners,
            Listener {
                scope: self.scope.clone(),
                arn,
                load_balancer_arn: lb_arn,
                port: Some(port),
                protocol: Some(protocol.into()),
                default_forwards: tg_arns
                    .into_iter()
                    .map(|arn| Forward {
                        target_group_arn: arn,
                        weight: None,
                    })
                    .collect(),
            },
        )
    }

    /// A rule (`priority`, one `path-pattern` condition) of the listener on `port` of load
    /// balancer `lb`, forwarding to the target groups `tgs` (by name) with these weights
    /// (`None`: a plain forward). Unlike [`Builder::listener`], the groups'
    /// `load_balancer_arns` are left alone: the rule alone must relate them.
    pub fn rule(
        &mut self,
        lb: &str,
        port: i32,
        priority: u32,
        path: &str,
        tgs: &[(&str, Option<i32>)],
    ) -> &mut ListenerRule {
        let listener_arn = self.arn(
            "elasticloadbalancing",
            &format!("listener/app/{lb}/0123456789abcdef/{port:016x}"),
        );
        let arn = self.arn(
            "elasticloadbalancing",
            &format!("listener-rule/app/{lb}/0123456789abcdef/{port:016x}/{priority:016x}"),
        );
        let forwards = tgs
            .iter()
            .map(|(name, weight)| Forward {
                target_group_arn: self.tg_arn(name),
                weight: *weight,
            })
            .collect();
        push(
            &mut self.inv.listener_rules,
            ListenerRule {
                scope: self.scope.clone(),
                arn,
                listener_arn,
                priority: priority.to_string(),
                conditions: vec![format!("path-pattern {path}")],
                forwards,
            },
        )
    }
}

/// A registered target in `state` (`healthy`, `unhealthy`, `initial` …) with its reason code.
pub fn target(id: &str, port: i32, state: &str, reason: Option<&str>) -> TargetHealth {
    TargetHealth {
        id: id.into(),
        port: Some(port),
        state: state.into(),
        reason: reason.map(str::to_string),
    }
}

// ------------------------------------------------------------ secrets and keys

/// The AWS-style six-character suffix the builder gives every secret's ARN.
pub const SECRET_SUFFIX: &str = "AbCdEf";

impl Builder {
    /// Records that `op` answered in the current scope: the run reached it.
    pub fn answered(&mut self, op: &str) -> &mut Self {
        let (service, operation) = op.split_once(':').unwrap_or(("unknown", op));
        self.inv.coverage.push(CoverageEntry {
            account: self.scope.account.clone(),
            region: self.scope.region.clone(),
            service: service.into(),
            operation: operation.into(),
            scope: None,
            status: CallStatus::Ok,
            error_code: None,
            message: None,
        });
        self
    }

    /// `arn:aws:secretsmanager:…:secret:NAME-AbCdEf` in the current scope.
    pub fn secret_arn(&self, name: &str) -> String {
        self.arn("secretsmanager", &format!("secret:{name}-{SECRET_SUFFIX}"))
    }

    /// `arn:aws:kms:…:key/ID` in the current scope.
    pub fn kms_key_arn(&self, id: &str) -> String {
        self.arn("kms", &format!("key/{id}"))
    }

    /// A secret `DescribeSecret` found by its full ARN, with an `AWSCURRENT` version and the
    /// AWS managed key.
    pub fn secret(&mut self, name: &str) -> &mut SecretDetail {
        let arn = self.secret_arn(name);
        self.answered("secretsmanager:DescribeSecret");
        let lookup = push(
            &mut self.inv.secret_lookups,
            SecretLookup {
                scope: self.scope.clone(),
                secret_id: arn.clone(),
                secret: Some(SecretDetail {
                    arn,
                    name: name.into(),
                    kms_key_id: None,
                    deleted_date: None,
                    version_stages: [("v1".to_string(), vec!["AWSCURRENT".to_string()])].into(),
                }),
            },
        );
        lookup.secret.as_mut().expect("just set")
    }

    /// A `DescribeSecret` of `secret_id` that answered "no such secret".
    pub fn missing_secret(&mut self, secret_id: &str) -> &mut Self {
        self.answered("secretsmanager:DescribeSecret");
        self.inv.secret_lookups.push(SecretLookup {
            scope: self.scope.clone(),
            secret_id: secret_id.into(),
            secret: None,
        });
        self
    }

    /// An SSM parameter of `kind` (`String`, `SecureString`) found by name; a SecureString
    /// uses `alias/aws/ssm`.
    pub fn parameter(&mut self, name: &str, kind: &str) -> &mut ParameterDetail {
        self.answered("ssm:DescribeParameters");
        let lookup = push(
            &mut self.inv.parameter_lookups,
            ParameterLookup {
                scope: self.scope.clone(),
                name: name.into(),
                parameter: Some(ParameterDetail {
                    arn: None,
                    name: name.into(),
                    parameter_type: kind.into(),
                    key_id: (kind == "SecureString").then(|| "alias/aws/ssm".to_string()),
                }),
            },
        );
        lookup.parameter.as_mut().expect("just set")
    }

    /// A parameter name `DescribeParameters` was asked for and did not list.
    pub fn missing_parameter(&mut self, name: &str) -> &mut Self {
        self.answered("ssm:DescribeParameters");
        self.inv.parameter_lookups.push(ParameterLookup {
            scope: self.scope.clone(),
            name: name.into(),
            parameter: None,
        });
        self
    }

    /// An enabled customer managed key, asked for by its ARN, whose policy delegates to
    /// the account's IAM policies (the default key policy).
    pub fn kms_key(&mut self, id: &str) -> &mut KmsKeyDetail {
        let arn = self.kms_key_arn(id);
        let account = self.scope.account.clone();
        self.answered("kms:DescribeKey");
        let lookup = push(
            &mut self.inv.kms_key_lookups,
            KmsKeyLookup {
                scope: self.scope.clone(),
                key_id: arn.clone(),
                key: Some(KmsKeyDetail {
                    arn,
                    key_manager: Some("CUSTOMER".into()),
                    key_state: Some("Enabled".into()),
                    enabled: true,
                    deletion_date: None,
                    policy: Some(format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
                    )),
                }),
            },
        );
        lookup.key.as_mut().expect("just set")
    }

    /// An IAM role (in the current account) with these inline policy documents.
    pub fn role(&mut self, name: &str, inline: &[&str]) -> &mut IamRole {
        let arn = format!("arn:aws:iam::{}:role/{name}", self.scope.account);
        push(
            &mut self.inv.iam_roles,
            IamRole {
                scope: Scope::new(self.scope.account.clone(), GLOBAL_REGION),
                arn,
                name: name.into(),
                path: "/".into(),
                trust_policy: None,
                inline_policies: inline
                    .iter()
                    .enumerate()
                    .map(|(i, d)| NamedPolicy {
                        name: format!("p{i}"),
                        document: d.to_string(),
                    })
                    .collect(),
                attached_policy_arns: vec![],
            },
        )
    }
}
