//! EKS002: control-plane logs that matter for incident response are not all sent to
//! CloudWatch Logs.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

/// The control-plane log types an investigation needs: who called the API (`api`,
/// `audit`) and how they authenticated (`authenticator`).
const REQUIRED: [&str; 3] = ["api", "audit", "authenticator"];

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters that do not send all of the `api`, `audit` and `authenticator`
    /// control-plane log types to CloudWatch Logs. (`controllerManager` and `scheduler` are
    /// useful for debugging but not required here.)
    ///
    /// ## Why it matters
    ///
    /// EKS runs the control plane for you, so these logs are the only record of what
    /// happened in it. Control-plane logging is off by default. Without `audit` logs nobody
    /// can tell who created, changed or deleted a workload or read a secret; without
    /// `authenticator` logs, which IAM identity a Kubernetes user was; without `api` logs,
    /// what the API server did. An incident, or an auditor's question, then has no answer.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER \
    ///   --query 'cluster.logging.clusterLogging[?enabled==`true`].types[]'
    /// ```
    ///
    /// ## How to fix
    ///
    /// ```sh
    /// aws eks update-cluster-config --name CLUSTER \
    ///   --logging '{"clusterLogging":[{"types":["api","audit","authenticator"],"enabled":true}]}'
    /// ```
    ///
    /// The logs go to the `/aws/eks/CLUSTER/cluster` log group; set its retention so the
    /// cost stays bounded.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/auditing-and-logging.html
    pub static EKS002 = {
        code: "EKS002",
        name: "control-plane-logging-incomplete",
        severity: Severity::Medium,
        summary: "EKS cluster does not send api, audit and authenticator control-plane logs",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        controls: [
        fsbp("EKS.8"),
        config("eks-cluster-log-enabled").partial(
            "the rule requires the log types of its logTypes parameter (any log type when \
             unset); it matches EKS002 with logTypes api,audit,authenticator",
        ),
        config("eks-cluster-logging-enabled").partial(
            "the rule requires all five log types; EKS002 requires api, audit and \
             authenticator",
        ),
        prowler("eks_control_plane_logging_all_types_enabled").partial(
            "Prowler requires all five log types by default (its eks_required_log_types \
             setting); EKS002 requires api, audit and authenticator",
        ),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        let enabled = |t: &str| {
            cluster
                .enabled_log_types
                .iter()
                .any(|e| e.eq_ignore_ascii_case(t))
        };
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|t| !enabled(t)).collect();
        if missing.is_empty() {
            continue;
        }
        let on = if cluster.enabled_log_types.is_empty() {
            "none".to_string()
        } else {
            cluster.enabled_log_types.join(", ")
        };
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Medium,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` does not send its {} control-plane logs to CloudWatch (enabled: {on})",
                    cluster.name,
                    missing.join(", ")
                ),
                remediation: format!(
                    "Enable them: `aws eks update-cluster-config --name {} --logging '{{\"clusterLogging\":[{{\"types\":[\"api\",\"audit\",\"authenticator\"],\"enabled\":true}}]}}'`.",
                    cluster.name
                ),
                evidence: vec![Evidence::new(
                    &cluster.arn,
                    format!("control-plane log types enabled: {on}"),
                )],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Builder;

    fn with_logs(types: &[&str]) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").enabled_log_types = types.iter().map(|t| t.to_string()).collect();
        b
    }

    #[test]
    fn missing_types_fire_and_are_named() {
        let out = with_logs(&["api"]).run(&[&EKS002]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(
            out.findings[0].message,
            "EKS cluster `prod` does not send its audit, authenticator control-plane logs to CloudWatch (enabled: api)"
        );
        let out = with_logs(&[]).run(&[&EKS002]);
        assert!(out.findings[0].message.ends_with("(enabled: none)"));
    }

    #[test]
    fn all_three_enabled_is_silent_and_extra_types_do_not_matter() {
        assert!(with_logs(&["api", "audit", "authenticator"])
            .run(&[&EKS002])
            .findings
            .is_empty());
        assert!(with_logs(&["scheduler", "AUDIT", "api", "authenticator"])
            .run(&[&EKS002])
            .findings
            .is_empty());
    }

    #[test]
    fn clusters_not_active_are_skipped() {
        let mut b = with_logs(&[]);
        b.inv.eks_clusters[0].status = "CREATING".into();
        assert!(b.run(&[&EKS002]).findings.is_empty());
    }
}
