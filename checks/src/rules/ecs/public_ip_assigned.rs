//! ECS006: awsvpc tasks that get a public IP address.

use crate::crosswalk::{fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// ECS services, their task sets and scheduled tasks whose awsvpc network configuration sets
    /// `assignPublicIp` to `ENABLED`,
    /// so every task's network interface gets a public IPv4 address.
    ///
    /// ## Why it matters
    ///
    /// A task with a public address is reachable from the internet wherever its security
    /// group allows, bypassing the load balancer, WAF and any network inspection in front
    /// of the service; one permissive rule exposes the container directly. It is usually
    /// set only so tasks in a public subnet can pull images, which a NAT gateway or VPC
    /// endpoints do without exposing anything. Public IPv4 addresses are also billed per
    /// hour.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-services --cluster CLUSTER --services SERVICE \
    ///   --query 'services[0].networkConfiguration.awsvpcConfiguration.{public:assignPublicIp,subnets:subnets}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Run the tasks in private subnets with a NAT gateway or the ECR, S3 and CloudWatch
    /// Logs endpoints, and turn the public address off:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE \
    ///   --network-configuration 'awsvpcConfiguration={subnets=[PRIVATE_SUBNETS],securityGroups=[SG],assignPublicIp=DISABLED}'
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/networking-connecting-vpc.html
    pub static ECS006 = {
        code: "ECS006",
        name: "public-ip-assigned",
        severity: Severity::Medium,
        summary: "ECS service assigns public IP addresses to its tasks",
        needs: [],
        ecs_workloads: true,
        controls: [
        fsbp("ECS.2"),
        fsbp("ECS.16"),
        prowler("ecs_service_no_assign_public_ip"),
        prowler("ecs_task_set_no_assign_public_ip"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for w in ctx.graph.ecs_workloads() {
        let Some(net) = w.network() else { continue };
        if !net
            .assign_public_ip
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("ENABLED"))
        {
            continue;
        }
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} gives each task a public IP address: its containers are reachable from the internet wherever security group {} allows",
                    w.describe(),
                    net.security_groups.join(", ")
                ),
                remediation: format!(
                    "Set assignPublicIp=DISABLED on {} and run it in private subnets with a NAT gateway or VPC endpoints.",
                    w.describe()
                ),
                evidence: vec![Evidence::new(
                    w.arn(),
                    format!(
                        "awsvpcConfiguration assignPublicIp ENABLED; subnets {}",
                        net.subnets.join(", ")
                    ),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    #[test]
    fn enabled_fires_and_disabled_or_absent_is_silent() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx:1"]);
        for (name, public) in [
            ("open", Some("ENABLED")),
            ("closed", Some("DISABLED")),
            ("unset", None),
        ] {
            let svc = b.service(name, "web", &["subnet-1"]);
            if let Some(net) = svc.network.as_mut() {
                net.assign_public_ip = public.map(str::to_string);
            }
        }
        let out = b.run(&[&ECS006]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert!(out.findings[0]
            .message
            .starts_with("service `open` gives each task a public IP"));
    }

    #[test]
    fn a_task_set_with_public_ips_fires() {
        let mut b = Builder::new();
        b.task_def("web", Some("awsvpc"), &["nginx:1"]);
        b.service("web", "web", &["subnet-1"]);
        b.task_set("web", "ecs-svc/1", "PRIMARY", "web", &["subnet-1"]);
        b.task_set("web", "ecs-svc/2", "ACTIVE", "web", &["subnet-1"])
            .network
            .as_mut()
            .unwrap()
            .assign_public_ip = Some("ENABLED".into());
        let out = b.run(&[&ECS006]);
        assert_eq!(out.findings.len(), 1);
        assert!(out.findings[0].message.starts_with(
            "task set `ecs-svc/2` (ACTIVE, 100%) of service `web` gives each task a public IP"
        ));
    }
}
