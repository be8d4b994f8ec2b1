//! EKS014: EKS add-ons that EKS reports failed, degraded or with health issues.

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

/// Statuses in which the add-on is not doing its job.
const BROKEN: [&str; 4] = ["DEGRADED", "CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"];

declare_check! {
    /// ## What it finds
    ///
    /// EKS add-ons of active clusters whose status is `DEGRADED`, `CREATE_FAILED`,
    /// `UPDATE_FAILED` or `DELETE_FAILED`, or that EKS reports health issues for
    /// (`health.issues`). One finding per add-on, with each issue's code and message.
    ///
    /// ## Why it matters
    ///
    /// The core add-ons are the cluster's plumbing: `vpc-cni` gives pods their IP
    /// addresses, `coredns` resolves every service name, `kube-proxy` routes service
    /// traffic, the EBS CSI driver attaches volumes. A degraded one fails quietly at first —
    /// new pods stay `ContainerCreating`, lookups time out under load — and an add-on whose
    /// update failed is stuck on its old version, which blocks the next control-plane
    /// upgrade. EKS names the cause (`InsufficientNumberOfReplicas`, `ConfigurationConflict`,
    /// `AccessDenied` on the add-on's IAM role, …).
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-addon --cluster-name CLUSTER --addon-name ADDON \
    ///   --query 'addon.{status:status,version:addonVersion,issues:health.issues}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Fix what the issue code says (the add-on's IAM role or Pod Identity association,
    /// its node capacity, a field someone changed with kubectl), then re-apply the add-on:
    ///
    /// ```sh
    /// aws eks update-addon --cluster-name CLUSTER --addon-name ADDON \
    ///   --addon-version VERSION --resolve-conflicts OVERWRITE
    /// ```
    ///
    /// `OVERWRITE` replaces fields changed outside EKS; use `PRESERVE` to keep them.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/eks-add-ons.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html
    /// - https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html
    pub static EKS014 = {
        code: "EKS014",
        name: "addon-unhealthy",
        severity: Severity::High,
        summary: "EKS add-on is degraded, failed or reports health issues",
        needs: ["eks:ListClusters", "eks:ListAddons", "eks:DescribeAddon"],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for addon in &ctx.inventory.eks_addons {
        let Some(cluster) = ctx
            .graph
            .eks_cluster_named(&addon.scope, &addon.cluster_name)
        else {
            continue;
        };
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        let broken = BROKEN.iter().any(|s| addon.status.eq_ignore_ascii_case(s));
        if !broken && addon.health_issues.is_empty() {
            continue;
        }
        let issues: Vec<String> = addon
            .health_issues
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i.code.as_deref().unwrap_or("issue"),
                    i.message.as_deref().unwrap_or("no message")
                )
            })
            .collect();
        let mut evidence = vec![Evidence::new(
            &addon.arn,
            format!(
                "status {}; version {}",
                addon.status,
                addon.version.as_deref().unwrap_or("unknown")
            ),
        )];
        evidence.extend(issues.iter().map(|i| Evidence::new(&addon.arn, i.clone())));
        let why = match issues.first() {
            Some(first) if issues.len() > 1 => format!("{first} (and {} more)", issues.len() - 1),
            Some(first) => first.clone(),
            None => format!("status {}", addon.status),
        };
        out.report(
            &addon.scope,
            Report {
                severity: Severity::High,
                resource: addon.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "add-on `{}` of EKS cluster `{}` is {}: {why}",
                    addon.name,
                    cluster.name,
                    addon.status.to_ascii_lowercase().replace('_', " ")
                ),
                remediation: format!(
                    "Fix what EKS reports, then `aws eks update-addon --cluster-name {} --addon-name {} --resolve-conflicts OVERWRITE`.",
                    cluster.name, addon.name
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AddonIssue;
    use crate::testkit::Builder;

    fn addon(status: &str, issues: &[(&str, &str)]) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod");
        let a = b.eks_addon("prod", "vpc-cni", "v1.19.2-eksbuild.1");
        a.status = status.into();
        a.health_issues = issues
            .iter()
            .map(|(c, m)| AddonIssue {
                code: Some(c.to_string()),
                message: Some(m.to_string()),
            })
            .collect();
        b
    }

    #[test]
    fn degraded_or_failed_or_issues_fire() {
        let out = addon("DEGRADED", &[("InsufficientNumberOfReplicas", "1 of 2 ready")])
            .run(&[&EKS014]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(f.message.contains("is degraded: InsufficientNumberOfReplicas"), "{}", f.message);
        assert_eq!(f.evidence.len(), 2);
        assert_eq!(addon("UPDATE_FAILED", &[]).run(&[&EKS014]).findings.len(), 1);
        assert_eq!(
            addon("ACTIVE", &[("AccessDenied", "role")]).run(&[&EKS014]).findings.len(),
            1
        );
    }

    #[test]
    fn healthy_or_updating_addons_are_silent() {
        for status in ["ACTIVE", "UPDATING", "CREATING"] {
            assert!(addon(status, &[]).run(&[&EKS014]).findings.is_empty(), "{status}");
        }
    }
}
