//! EKS003: Kubernetes secrets are not envelope-encrypted with a customer-managed KMS key.

use crate::crosswalk::{config, fsbp, prowler};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Active EKS clusters without an `encryptionConfig` that names a customer-managed KMS
    /// key for Kubernetes secrets.
    ///
    /// ## Why it matters
    ///
    /// EKS now encrypts all Kubernetes API data at rest by default with a key AWS owns, so
    /// secrets are not stored in clear text. Envelope encryption with your own KMS key adds
    /// what the default cannot: every decryption of a secret is an auditable KMS call in
    /// CloudTrail, access to secrets can be cut off by a key policy or by disabling the key,
    /// and compliance regimes that require customer-controlled keys are met. Hence low
    /// severity: a control gap, not an exposure.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws eks describe-cluster --name CLUSTER --query 'cluster.encryptionConfig'
    /// ```
    ///
    /// ## How to fix
    ///
    /// ```sh
    /// aws eks associate-encryption-config --cluster-name CLUSTER \
    ///   --encryption-config '[{"resources":["secrets"],"provider":{"keyArn":"arn:aws:kms:REGION:ACCOUNT:key/KEY_ID"}}]'
    /// ```
    ///
    /// This cannot be undone or moved to another key later; existing secrets are
    /// re-encrypted by EKS. Give the cluster role `kms:Encrypt`, `kms:Decrypt` and
    /// `kms:DescribeKey` on the key.
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html
    /// - https://docs.aws.amazon.com/eks/latest/best-practices/data-encryption-and-secrets-management.html
    pub static EKS003 = {
        code: "EKS003",
        name: "secrets-without-customer-kms-key",
        severity: Severity::Low,
        summary: "EKS secrets are not envelope-encrypted with a customer-managed KMS key",
        needs: ["eks:ListClusters", "eks:DescribeCluster"],
        controls: [
        fsbp("EKS.3"),
        config("eks-cluster-secrets-encrypted"),
        config("eks-secrets-encrypted"),
        prowler("eks_cluster_kms_cmk_encryption_in_secrets_enabled"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for cluster in &ctx.inventory.eks_clusters {
        if !cluster.status.eq_ignore_ascii_case("ACTIVE") || cluster.secrets_encrypted {
            continue;
        }
        out.report(
            &cluster.scope,
            Report {
                severity: Severity::Low,
                resource: cluster.arn.clone(),
                discriminator: String::new(),
                message: format!(
                    "EKS cluster `{}` encrypts Kubernetes secrets only with the AWS-owned default key, not a customer-managed KMS key",
                    cluster.name
                ),
                remediation: format!(
                    "Associate a customer-managed KMS key: `aws eks associate-encryption-config --cluster-name {} --encryption-config '[{{\"resources\":[\"secrets\"],\"provider\":{{\"keyArn\":\"KEY_ARN\"}}}}]'`.",
                    cluster.name
                ),
                evidence: vec![Evidence::new(
                    &cluster.arn,
                    "no encryptionConfig with a KMS key ARN",
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
    fn without_a_customer_key_fires_low_and_with_one_is_silent() {
        let mut b = Builder::new();
        b.eks_cluster("plain").secrets_encrypted = false;
        b.eks_cluster("kms").secrets_encrypted = true;
        b.eks_cluster("deleting").secrets_encrypted = false;
        b.inv.eks_clusters[2].status = "DELETING".into();
        let out = b.run(&[&EKS003]);
        assert_eq!(out.findings.len(), 1, "{out:?}");
        assert_eq!(out.findings[0].severity, Severity::Low);
        assert!(out.findings[0]
            .message
            .starts_with("EKS cluster `plain` encrypts"));
    }
}
