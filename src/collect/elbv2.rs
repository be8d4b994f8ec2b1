//! ELBv2: load balancers, their listeners and the rules of Application Load Balancer
//! listeners (paginated, 400 a page: most listeners need one call), target groups with tags
//! (20 per DescribeTags) and the health and attributes of groups that sit behind a load
//! balancer.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types as t;
use checks::model::{
    Forward, Inventory, Listener, ListenerRule, LoadBalancer, Scope, TargetGroup, TargetHealth,
};
use futures::future::join_all;

use super::{ops, Collector};

pub async fn collect(c: &Collector, scope: &Scope) -> Inventory {
    let client = c.session(&scope.account).elbv2(&scope.region);
    let mut inv = Inventory::default();

    let (lbs, tgs) = tokio::join!(
        c.pages(scope, &ops::elbv2::DESCRIBE_LOAD_BALANCERS, None, |page| {
            client
                .describe_load_balancers()
                .set_page_size(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
        c.pages(scope, &ops::elbv2::DESCRIBE_TARGET_GROUPS, None, |page| {
            client
                .describe_target_groups()
                .set_page_size(page)
                .into_paginator()
                .send()
                .try_collect()
        }),
    );
    if let Some(pages) = lbs {
        inv.load_balancers = pages
            .iter()
            .flat_map(|p| p.load_balancers().iter().map(|lb| load_balancer(scope, lb)))
            .collect();
    }
    if let Some(pages) = tgs {
        inv.target_groups = pages
            .iter()
            .flat_map(|p| p.target_groups().iter().map(|tg| target_group(scope, tg)))
            .collect();
    }

    // Each load balancer's listeners, then at once the rules of its HTTP(S) listeners (only
    // Application Load Balancer listeners have rules beyond the default).
    let listeners = join_all(inv.load_balancers.iter().map(|lb| {
        let client = client.clone();
        async move {
            let pages = c
                .pages(
                    scope,
                    &ops::elbv2::DESCRIBE_LISTENERS,
                    Some(&lb.arn),
                    |page| {
                        client
                            .describe_listeners()
                            .load_balancer_arn(&lb.arn)
                            .set_page_size(page)
                            .into_paginator()
                            .send()
                            .try_collect()
                    },
                )
                .await?;
            let listeners: Vec<Listener> = pages
                .iter()
                .flat_map(|p| p.listeners().iter().map(|l| listener(scope, l)))
                .collect();
            let rules = join_all(listeners.iter().filter(|l| has_rules(l)).map(|l| {
                let client = client.clone();
                async move {
                    c.pages(scope, &ops::elbv2::DESCRIBE_RULES, Some(&l.arn), |page| {
                        client
                            .describe_rules()
                            .listener_arn(&l.arn)
                            .set_page_size(page)
                            .into_paginator()
                            .send()
                            .try_collect()
                    })
                    .await
                    .map(|pages| {
                        pages
                            .iter()
                            .flat_map(|p| p.rules().iter())
                            .filter(|r| r.is_default() != Some(true))
                            .map(|r| rule(scope, &l.arn, r))
                            .collect::<Vec<_>>()
                    })
                }
            }))
            .await;
            Some((
                listeners,
                rules.into_iter().flatten().flatten().collect::<Vec<_>>(),
            ))
        }
    }));
    let tg_arns: Vec<String> = inv.target_groups.iter().map(|t| t.arn.clone()).collect();
    let tags = join_all(
        c.batches(scope, &ops::elbv2::DESCRIBE_TAGS, None, &tg_arns, |batch| {
            client.describe_tags().set_resource_arns(Some(batch)).send()
        }),
    );
    // Target health and attributes (the deregistration delay) only matter for groups in
    // use; neither API takes more than one group per call.
    let in_use = join_all(
        inv.target_groups
            .iter()
            .filter(|tg| !tg.load_balancer_arns.is_empty())
            .map(|tg| {
                let client = client.clone();
                let arn = tg.arn.as_str();
                async move {
                    let (health, attrs) = tokio::join!(
                        c.call(
                            scope,
                            &ops::elbv2::DESCRIBE_TARGET_HEALTH,
                            Some(arn),
                            async {
                                client
                                    .describe_target_health()
                                    .target_group_arn(arn)
                                    .send()
                                    .await
                            }
                        ),
                        c.call(
                            scope,
                            &ops::elbv2::DESCRIBE_TARGET_GROUP_ATTRIBUTES,
                            Some(arn),
                            async {
                                client
                                    .describe_target_group_attributes()
                                    .target_group_arn(arn)
                                    .send()
                                    .await
                            },
                        ),
                    );
                    (arn.to_string(), health, attrs)
                }
            }),
    );
    let (listeners, tags, in_use) = tokio::join!(listeners, tags, in_use);

    for (ls, rules) in listeners.into_iter().flatten() {
        inv.listeners.extend(ls);
        inv.listener_rules.extend(rules);
    }

    let mut tag_map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (batch, out) in tags {
        let Some(out) = out else { continue };
        for arn in batch {
            tag_map.entry(arn).or_default();
        }
        for d in out.tag_descriptions() {
            if let Some(arn) = d.resource_arn() {
                let entry = tag_map.entry(arn.to_string()).or_default();
                for tag in d.tags() {
                    if let Some(key) = tag.key() {
                        entry.insert(key.to_string(), tag.value().unwrap_or_default().to_string());
                    }
                }
            }
        }
    }
    let mut health: BTreeMap<String, Vec<TargetHealth>> = BTreeMap::new();
    let mut delay: BTreeMap<String, i64> = BTreeMap::new();
    let mut preserve: BTreeMap<String, bool> = BTreeMap::new();
    for (arn, h, attrs) in in_use {
        if let Some(h) = h {
            let targets = h.target_health_descriptions().iter().map(target_health);
            health.insert(arn.clone(), targets.collect());
        }
        if let Some(keep) = attrs
            .as_ref()
            .and_then(|a| bool_attribute(a, PRESERVE_CLIENT_IP))
        {
            preserve.insert(arn.clone(), keep);
        }
        if let Some(seconds) = attrs.as_ref().and_then(deregistration_delay) {
            delay.insert(arn, seconds);
        }
    }
    for tg in &mut inv.target_groups {
        tg.tags = tag_map.remove(&tg.arn);
        if let Some(tags) = &tg.tags {
            inv.resource_tags.insert(tg.arn.clone(), tags.clone());
        }
        tg.targets = health.remove(&tg.arn);
        tg.deregistration_delay_seconds = delay.remove(&tg.arn);
        tg.preserve_client_ip = preserve.remove(&tg.arn);
    }
    inv
}

fn load_balancer(scope: &Scope, lb: &t::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        scope: scope.clone(),
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        lb_type: lb.r#type().map(|t| t.as_str().to_string()),
        scheme: lb.scheme().map(|s| s.as_str().to_string()),
        vpc_id: lb.vpc_id().map(str::to_string),
        state: lb
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string()),
        subnets: lb
            .availability_zones()
            .iter()
            .filter_map(|az| az.subnet_id().map(str::to_string))
            .collect(),
        security_groups: lb.security_groups().to_vec(),
    }
}

fn target_group(scope: &Scope, tg: &t::TargetGroup) -> TargetGroup {
    TargetGroup {
        scope: scope.clone(),
        arn: tg.target_group_arn().unwrap_or_default().to_string(),
        name: tg.target_group_name().unwrap_or_default().to_string(),
        target_type: tg.target_type().map(|t| t.as_str().to_string()),
        protocol: tg.protocol().map(|p| p.as_str().to_string()),
        port: tg.port(),
        vpc_id: tg.vpc_id().map(str::to_string),
        load_balancer_arns: tg.load_balancer_arns().to_vec(),
        health_check_port: tg.health_check_port().map(str::to_string),
        health_check_path: tg.health_check_path().map(str::to_string),
        health_check_protocol: tg.health_check_protocol().map(|p| p.as_str().to_string()),
        health_check_interval_seconds: tg.health_check_interval_seconds(),
        unhealthy_threshold_count: tg.unhealthy_threshold_count(),
        healthy_threshold_count: tg.healthy_threshold_count(),
        preserve_client_ip: None,
        tags: None,
        targets: None,
        deregistration_delay_seconds: None,
    }
}

/// HTTP and HTTPS listeners (Application Load Balancers) route by rules; the listeners of
/// other load balancer types have only their default action.
fn has_rules(l: &Listener) -> bool {
    l.protocol
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("HTTP") || p.eq_ignore_ascii_case("HTTPS"))
}

/// The target groups forward actions send traffic to. A forward names its group in
/// `TargetGroupArn`, in `ForwardConfig.TargetGroups` (with weights), or both (the same
/// group); a weight in the config wins.
fn forwards(actions: &[t::Action]) -> Vec<Forward> {
    let mut found: BTreeMap<String, Option<i32>> = BTreeMap::new();
    for action in actions {
        if action.r#type() != Some(&t::ActionTypeEnum::Forward) {
            continue;
        }
        if let Some(arn) = action.target_group_arn() {
            found.entry(arn.to_string()).or_insert(None);
        }
        let groups = action
            .forward_config()
            .map_or(&[][..], |fc| fc.target_groups());
        for g in groups {
            if let Some(arn) = g.target_group_arn() {
                let weight = found.entry(arn.to_string()).or_insert(None);
                // A lone group in a ForwardConfig takes all traffic, whatever its weight.
                if groups.len() > 1 {
                    *weight = g.weight().or(*weight);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(target_group_arn, weight)| Forward {
            target_group_arn,
            weight,
        })
        .collect()
}

fn listener(scope: &Scope, l: &t::Listener) -> Listener {
    Listener {
        scope: scope.clone(),
        arn: l.listener_arn().unwrap_or_default().to_string(),
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_string(),
        port: l.port(),
        protocol: l.protocol().map(|p| p.as_str().to_string()),
        default_forwards: forwards(l.default_actions()),
    }
}

/// `path-pattern /api/*, /v2/*`: a rule condition in words.
fn condition(c: &t::RuleCondition) -> String {
    let field = c.field().unwrap_or("condition");
    let values: Vec<String> = if let Some(h) = c.host_header_config() {
        h.values().to_vec()
    } else if let Some(p) = c.path_pattern_config() {
        p.values().to_vec()
    } else if let Some(h) = c.http_header_config() {
        let name = h.http_header_name().unwrap_or_default();
        h.values().iter().map(|v| format!("{name}: {v}")).collect()
    } else if let Some(q) = c.query_string_config() {
        q.values()
            .iter()
            .map(|kv| match kv.key() {
                Some(k) => format!("{k}={}", kv.value().unwrap_or_default()),
                None => kv.value().unwrap_or_default().to_string(),
            })
            .collect()
    } else if let Some(m) = c.http_request_method_config() {
        m.values().to_vec()
    } else if let Some(ip) = c.source_ip_config() {
        ip.values().to_vec()
    } else {
        c.values().to_vec()
    };
    format!("{field} {}", values.join(", "))
}

fn rule(scope: &Scope, listener_arn: &str, r: &t::Rule) -> ListenerRule {
    ListenerRule {
        scope: scope.clone(),
        arn: r.rule_arn().unwrap_or_default().to_string(),
        listener_arn: listener_arn.to_string(),
        priority: r.priority().unwrap_or_default().to_string(),
        conditions: r.conditions().iter().map(condition).collect(),
        forwards: forwards(r.actions()),
    }
}

/// `deregistration_delay.timeout_seconds`; AWS always returns it, but a group type without
/// it (Lambda) or an unparsable value reads as not known.
fn deregistration_delay(
    out: &aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput,
) -> Option<i64> {
    out.attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value()?.parse().ok())
}

/// Whether a Network Load Balancer group hands its targets the clients' addresses.
const PRESERVE_CLIENT_IP: &str = "preserve_client_ip.enabled";

/// A `true`/`false` attribute; absent (other group types) or unparsable reads as not known.
fn bool_attribute(
    out: &aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput,
    key: &str,
) -> Option<bool> {
    out.attributes()
        .iter()
        .find(|a| a.key() == Some(key))
        .and_then(|a| a.value()?.trim().parse().ok())
}

fn target_health(d: &t::TargetHealthDescription) -> TargetHealth {
    TargetHealth {
        id: d
            .target()
            .and_then(|t| t.id())
            .unwrap_or_default()
            .to_string(),
        port: d.target().and_then(|t| t.port()),
        state: d
            .target_health()
            .and_then(|h| h.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".to_string()),
        reason: d
            .target_health()
            .and_then(|h| h.reason())
            .map(|r| r.as_str().to_string()),
    }
}
