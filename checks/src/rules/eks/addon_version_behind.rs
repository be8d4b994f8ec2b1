//! EKS015: EKS add-ons on a version EKS does not offer for the cluster's Kubernetes
//! version, or behind the version it installs by default there.

use std::cmp::Ordering;

use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::model::{EksAddon, EksAddonVersions};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// EKS add-ons of active clusters, judged against the versions EKS offers for the
    /// cluster's Kubernetes version (`DescribeAddonVersions`):
    ///
    /// - high: the installed version is not among them — it was not built or tested for
    ///   this control plane (typically the add-on was left behind by a cluster upgrade);
    /// - low: it is among them but older than the version EKS installs by default there.
    ///
    /// One finding per add-on. Where the versions could not be read, the add-on is reported
    /// unknown, never current.
    ///
    /// ## Why it matters
    ///
    /// Add-ons such as `kube-proxy`, `coredns` and `vpc-cni` must track the control plane:
    /// `kube-proxy` may be at most a few minor versions behind the API server, and an add-on
    /// outside its supported range can break service routing, DNS or pod networking in ways
    /// that appear only under load or after the next node replacement. EKS also refuses to
    /// upgrade the control plane further while an add-on is incompatible with the target
    /// version, so a forgotten add-on blocks every later upgrade.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-addon --cluster-name CLUSTER --addon-name ADDON --query 'addon.addonVersion'
    /// aws eks describe-addon-versions --addon-name ADDON --kubernetes-version K8S_VERSION \
    ///   --query 'addons[].addonVersions[].{version:addonVersion,default:compatibilities[0].defaultVersion}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Update the add-on to a version offered for the cluster's Kubernetes version (the
    /// default one unless you need otherwise), one minor version at a time for `vpc-cni`:
    ///
    /// ```sh
    /// aws eks update-addon --cluster-name CLUSTER --addon-name ADDON --addon-version VERSION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html
    /// - https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html
    /// - https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
    pub static EKS015 = {
        code: "EKS015",
        name: "addon-version-behind",
        severity: Severity::High,
        lower: [Severity::Low],
        summary: "EKS add-on on a version EKS does not offer for the cluster's Kubernetes version, or behind its default",
        needs: ["eks:ListClusters", "eks:DescribeCluster", "eks:ListAddons", "eks:DescribeAddon"],
        run: run,
    };
}

/// `v1.19.2-eksbuild.1` → ([1, 19, 2], 1): the numbers of the version, then the build.
fn version_key(v: &str) -> (Vec<u64>, u64) {
    let v = v.trim().trim_start_matches('v');
    let (main, build) = v.split_once("-eksbuild.").unwrap_or((v, "0"));
    let main = main
        .split('-')
        .next()
        .unwrap_or(main)
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (main, build.parse().unwrap_or(0))
}

fn compare(a: &str, b: &str) -> Ordering {
    version_key(a).cmp(&version_key(b))
}

fn offered<'a>(ctx: &'a Ctx<'_>, addon: &EksAddon, key: &str) -> Option<&'a EksAddonVersions> {
    ctx.inventory
        .eks_addon_versions
        .iter()
        .find(|v| v.scope == addon.scope && v.key == key)
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for addon in &ctx.inventory.eks_addons {
        let Some(cluster) = ctx
            .graph
            .eks_cluster_named(&addon.scope, &addon.cluster_name)
        else {
            continue;
        };
        let (Some(k8s), Some(installed)) = (cluster.version.as_deref(), addon.version.as_deref())
        else {
            continue;
        };
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") {
            continue;
        }
        let key = EksAddonVersions::key_of(&addon.name, k8s);
        let Some(offer) = offered(ctx, addon, &key).filter(|_| {
            ctx.complete(&addon.scope, &["eks:DescribeAddonVersions"], Some(&key))
        }) else {
            out.unknown(
                &addon.scope,
                Some(&addon.arn),
                format!(
                    "the versions of add-on `{}` EKS offers for Kubernetes {k8s} were not read",
                    addon.name
                ),
            );
            continue;
        };
        let default = offer.versions.iter().find(|v| v.default).map(|v| v.version.as_str());
        let newest = offer
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .max_by(|a, b| compare(a, b));
        let listed = offer.versions.iter().any(|v| v.version == installed);
        let target = default.or(newest);
        let (severity, message) = if !listed {
            if offer.versions.is_empty() {
                continue; // EKS offers nothing for this add-on here: nothing to judge against.
            }
            (
                Severity::High,
                format!(
                    "add-on `{}` {installed} of EKS cluster `{}` is not a version EKS offers for Kubernetes {k8s}",
                    addon.name, cluster.name
                ),
            )
        } else if let Some(d) = default.filter(|d| compare(installed, d) == Ordering::Less) {
            (
                Severity::Low,
                format!(
                    "add-on `{}` {installed} of EKS cluster `{}` is behind {d}, the default for Kubernetes {k8s}",
                    addon.name, cluster.name
                ),
            )
        } else {
            continue;
        };
        let to = target.unwrap_or("a version offered for this Kubernetes version");
        out.report(
            &addon.scope,
            Report {
                severity,
                resource: addon.arn.clone(),
                discriminator: String::new(),
                message,
                remediation: format!(
                    "`aws eks update-addon --cluster-name {} --addon-name {} --addon-version {to}`.",
                    cluster.name, addon.name
                ),
                evidence: vec![
                    Evidence::new(&addon.arn, format!("addonVersion {installed}")),
                    Evidence::new(
                        &cluster.arn,
                        format!(
                            "Kubernetes {k8s}; EKS offers {} of `{}` ({})",
                            offer.versions.len(),
                            addon.name,
                            match default {
                                Some(d) => format!("default {d}"),
                                None => "no default".to_string(),
                            }
                        ),
                    ),
                ],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AddonVersion;
    use crate::testkit::Builder;

    fn cluster_with(installed: &str, offered: &[(&str, bool)]) -> Builder {
        let mut b = Builder::new();
        b.eks_cluster("prod").version = Some("1.33".into());
        b.eks_addon("prod", "kube-proxy", installed);
        let scope = b.scope();
        b.inv.eks_addon_versions.push(EksAddonVersions {
            scope,
            key: EksAddonVersions::key_of("kube-proxy", "1.33"),
            addon_name: "kube-proxy".into(),
            kubernetes_version: "1.33".into(),
            versions: offered
                .iter()
                .map(|(v, d)| AddonVersion {
                    version: v.to_string(),
                    default: *d,
                })
                .collect(),
        });
        b
    }

    #[test]
    fn versions_compare_by_number_then_build() {
        assert_eq!(compare("v1.19.2-eksbuild.1", "v1.19.10-eksbuild.1"), Ordering::Less);
        assert_eq!(compare("v1.19.2-eksbuild.3", "v1.19.2-eksbuild.12"), Ordering::Less);
        assert_eq!(compare("v1.20.0-eksbuild.1", "v1.19.9-eksbuild.9"), Ordering::Greater);
    }

    #[test]
    fn a_version_not_offered_for_the_control_plane_is_high() {
        let out = cluster_with(
            "v1.29.0-eksbuild.1",
            &[("v1.33.3-eksbuild.2", true), ("v1.33.0-eksbuild.1", false)],
        )
        .run(&[&EKS015]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.contains("not a version EKS offers for Kubernetes 1.33"), "{}", f.message);
        assert!(f.remediation.contains("--addon-version v1.33.3-eksbuild.2"));
    }

    #[test]
    fn an_offered_version_behind_the_default_is_low_and_the_default_is_silent() {
        let offered = [("v1.33.3-eksbuild.2", true), ("v1.33.0-eksbuild.1", false)];
        let out = cluster_with("v1.33.0-eksbuild.1", &offered).run(&[&EKS015]);
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert!(cluster_with("v1.33.3-eksbuild.2", &offered)
            .run(&[&EKS015])
            .findings
            .is_empty());
    }

    #[test]
    fn unread_versions_are_unknown_never_current() {
        let mut b = Builder::new();
        b.eks_cluster("prod").version = Some("1.33".into());
        b.eks_addon("prod", "kube-proxy", "v1.29.0-eksbuild.1");
        let key = EksAddonVersions::key_of("kube-proxy", "1.33");
        b.gap("eks:DescribeAddonVersions", Some(&key));
        let out = b.run(&[&EKS015]);
        assert!(out.findings.is_empty());
        assert_eq!(out.unknowns.len(), 1);
    }
}
