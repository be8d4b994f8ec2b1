//! `--owner-tag`: who owns each finding's resource, from the tags the collection read.
//!
//! The resolution (first key wins, the resource's own tags before its parent's, the parent
//! chain) is the inventory's ([`Inventory::owner`]), so checks could ask the same question;
//! this stage only writes the answer on the findings, once, before they are judged.

use checks::model::Inventory;
use checks::Finding;

/// Sets each finding's `owner` from `keys` (nothing without keys). A finding whose
/// resource and parents carry none of the keys gets no owner.
pub fn assign(findings: &mut [Finding], inventory: &Inventory, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let parents = inventory.parents();
    for f in findings {
        f.owner = inventory
            .owner(&parents, &f.resource, keys)
            .map(str::to_string);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::model::{EcsService, Scope};
    use checks::{Finding, Severity};

    fn finding(resource: &str) -> Finding {
        Finding {
            check: "ECS001".into(),
            name: "deployment-circuit-breaker-off".into(),
            severity: Severity::High,
            account: "111122223333".into(),
            region: "us-east-1".into(),
            resource: resource.into(),
            message: String::new(),
            remediation: String::new(),
            evidence: Vec::new(),
            fingerprint: String::new(),
            change: None,
            cost: None,
            owner: None,
        }
    }

    #[test]
    fn findings_get_the_owner_of_their_resource_or_its_cluster() {
        let cluster = "arn:aws:ecs:us-east-1:111122223333:cluster/main";
        let web = "arn:aws:ecs:us-east-1:111122223333:service/main/web";
        let api = "arn:aws:ecs:us-east-1:111122223333:service/main/api";
        let mut inv = Inventory::default();
        for arn in [web, api] {
            let svc: EcsService = serde_json::from_value(serde_json::json!({
                "account": "111122223333", "region": "us-east-1", "arn": arn, "name": "x",
                "cluster_arn": cluster, "status": "ACTIVE", "launch_type": "FARGATE",
                "capacity_provider_strategy": [], "scheduling_strategy": null,
                "task_definition": "", "desired_count": 1, "running_count": 1,
                "pending_count": 0, "deployment_controller": null,
                "deployment_configuration": null, "load_balancers": [], "network": null,
                "deployments": [], "events": []
            }))
            .unwrap();
            assert_eq!(svc.scope, Scope::new("111122223333", "us-east-1"));
            inv.ecs_services.push(svc);
        }
        inv.resource_tags
            .insert(cluster.into(), [("team".into(), "platform".into())].into());
        inv.resource_tags
            .insert(web.into(), [("owner".into(), "web-team".into())].into());
        let mut findings = vec![finding(web), finding(api), finding("arn:aws:iam::1:role/r")];
        assign(&mut findings, &inv, &[]);
        assert!(
            findings.iter().all(|f| f.owner.is_none()),
            "no keys, no owners"
        );
        assign(&mut findings, &inv, &["owner".into(), "team".into()]);
        let owners: Vec<Option<&str>> = findings.iter().map(|f| f.owner.as_deref()).collect();
        assert_eq!(owners, [Some("web-team"), Some("platform"), None]);
    }
}
