//! ECS021: EFS volumes mounted without encryption in transit.

use crate::crosswalk::{config, fsbp};
use crate::declare_check;
use crate::finding::{Evidence, Severity};
use crate::registry::{Ctx, Emitter, Report};

declare_check! {
    /// ## What it finds
    ///
    /// Running ECS workloads (services, task sets, scheduled and standalone tasks) whose
    /// task definition mounts an Amazon EFS volume with `transitEncryption` unset or
    /// `DISABLED`. One finding per workload, naming every such volume and its file system.
    ///
    /// ## Why it matters
    ///
    /// Without transit encryption the NFS traffic between the task and the file system's
    /// mount targets crosses the VPC in the clear: anything with a view of that network
    /// path (a compromised host, traffic mirroring, a misrouted flow) reads and can alter
    /// the files. With it, the EFS mount helper wraps the connection in TLS; it is also a
    /// prerequisite of IAM authorization (`authorizationConfig.iam`), the only way to tie
    /// access to the file system to the task's role.
    ///
    /// ## How to confirm
    ///
    /// ```sh
    /// aws ecs describe-task-definition --task-definition FAMILY:REVISION \
    ///   --query 'taskDefinition.volumes[?efsVolumeConfiguration].{name:name,fs:efsVolumeConfiguration.fileSystemId,transit:efsVolumeConfiguration.transitEncryption}'
    /// ```
    ///
    /// ## How to fix
    ///
    /// Set `"transitEncryption": "ENABLED"` in each volume's `efsVolumeConfiguration`
    /// (and, to control access by task role, `"authorizationConfig": {"iam": "ENABLED"}`),
    /// register a new revision and deploy it:
    ///
    /// ```sh
    /// aws ecs update-service --cluster CLUSTER --service SERVICE --task-definition FAMILY:NEW_REVISION
    /// ```
    ///
    /// ## References
    ///
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html
    /// - https://docs.aws.amazon.com/efs/latest/ug/encryption-in-transit.html
    /// - https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-18
    pub static ECS021 = {
        code: "ECS021",
        name: "efs-without-transit-encryption",
        severity: Severity::Medium,
        summary: "ECS task mounts an EFS volume without encryption in transit",
        needs: [],
        ecs_workloads: true,
        controls: [
            fsbp("ECS.18"),
            config("ecs-task-definition-efs-encryption-enabled"),
        ],
        run: run,
    };
}

fn run(ctx: &Ctx<'_>, out: &mut Emitter<'_>) {
    for (w, td) in ctx.graph.running_task_definitions() {
        let clear: Vec<_> = td
            .efs_volumes
            .iter()
            .filter(|v| !v.encrypted_in_transit())
            .collect();
        if clear.is_empty() {
            continue;
        }
        let names: Vec<String> = clear
            .iter()
            .map(|v| format!("`{}` ({})", v.name, v.file_system_id))
            .collect();
        let mut evidence = vec![Evidence::new(w.arn(), w.runs_fact(&td.label()))];
        evidence.extend(clear.iter().map(|v| {
            Evidence::new(
                &td.arn,
                format!(
                    "volume `{}`: EFS {} with transitEncryption {}",
                    v.name,
                    v.file_system_id,
                    v.transit_encryption.as_deref().unwrap_or("unset (DISABLED)")
                ),
            )
        }));
        out.report(
            w.scope(),
            Report {
                severity: Severity::Medium,
                resource: w.resource().to_string(),
                discriminator: String::new(),
                message: format!(
                    "{} mounts EFS without encryption in transit: volume{} {}",
                    w.describe(),
                    if clear.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
                remediation: format!(
                    "Set `transitEncryption` to `ENABLED` on {} in a new revision of `{}` and deploy it.",
                    names.join(", "),
                    td.family
                ),
                evidence,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EfsVolume;
    use crate::testkit::Builder;

    fn with_volumes(transit: &[Option<&str>]) -> Builder {
        let mut b = Builder::new();
        b.task_def("files", Some("awsvpc"), &["app"]).efs_volumes = transit
            .iter()
            .enumerate()
            .map(|(i, t)| EfsVolume {
                name: format!("data{i}"),
                file_system_id: format!("fs-{i}"),
                transit_encryption: t.map(str::to_string),
                iam: None,
            })
            .collect();
        b.service("files", "files", &["subnet-1"]);
        b
    }

    #[test]
    fn unset_or_disabled_volumes_fire_once_per_workload() {
        let out = with_volumes(&[None, Some("DISABLED"), Some("ENABLED")]).run(&[&ECS021]);
        assert_eq!(out.findings.len(), 1);
        let f = &out.findings[0];
        assert!(f.message.contains("`data0` (fs-0), `data1` (fs-1)"), "{}", f.message);
        assert!(!f.message.contains("data2"));
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn encrypted_or_no_efs_volumes_pass() {
        assert!(with_volumes(&[Some("ENABLED")])
            .run(&[&ECS021])
            .findings
            .is_empty());
        assert!(with_volumes(&[]).run(&[&ECS021]).findings.is_empty());
    }
}
