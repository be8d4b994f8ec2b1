//! Application Auto Scaling: the scalable targets of ECS services, one paginated listing per
//! region (not one call per service), for their scale-out ceilings.

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use checks::model::{Inventory, ScalableTarget, Scope};

use super::{ops, Collector};

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).autoscaling(&scope.region);
    let mut inv = Inventory::default();
    let Some(pages) = c
        .pages(
            scope,
            &ops::autoscaling::DESCRIBE_SCALABLE_TARGETS,
            None,
            |page| {
                client
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .set_max_results(page)
                    .into_paginator()
                    .send()
                    .try_collect()
            },
        )
        .await
    else {
        return inv;
    };
    inv.ecs_scalable_targets = pages
        .iter()
        .flat_map(|p| p.scalable_targets().iter())
        .map(|t| ScalableTarget {
            scope: scope.clone(),
            resource_id: t.resource_id().to_string(),
            scalable_dimension: t.scalable_dimension().as_str().to_string(),
            min_capacity: t.min_capacity(),
            max_capacity: t.max_capacity(),
        })
        .collect();
    inv
}
