//! Defaults of autoscaling/v2 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::autoscaling::v2 as api;

use super::pod::{quantity, set};

fn scale_up_default() -> api::HPAScalingRules {
    api::HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some("Max".into()),
        policies: Some(vec![
            api::HPAScalingPolicy {
                type_: "Pods".into(),
                value: 4,
                period_seconds: 15,
            },
            api::HPAScalingPolicy {
                type_: "Percent".into(),
                value: 100,
                period_seconds: 15,
            },
        ]),
        tolerance: None,
    }
}

fn scale_down_default() -> api::HPAScalingRules {
    api::HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some("Max".into()),
        policies: Some(vec![api::HPAScalingPolicy {
            type_: "Percent".into(),
            value: 100,
            period_seconds: 15,
        }]),
        tolerance: None,
    }
}

fn merge_rules(rules: &mut Option<api::HPAScalingRules>, default: api::HPAScalingRules) {
    let r = rules.get_or_insert_with(Default::default);
    if r.select_policy.is_none() {
        r.select_policy = default.select_policy;
    }
    if r.stabilization_window_seconds.is_none() {
        r.stabilization_window_seconds = default.stabilization_window_seconds;
    }
    if r.policies.is_none() {
        r.policies = default.policies;
    }
}

fn target(t: &mut api::MetricTarget) {
    for q in [&mut t.value, &mut t.average_value].into_iter().flatten() {
        quantity(q);
    }
}

/// Defaults of a HorizontalPodAutoscaler: one minimum replica, a CPU
/// utilization metric of 80%, scaling behavior filled in when given.
pub fn horizontal_pod_autoscaler(obj: &mut api::HorizontalPodAutoscaler) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set(&mut spec.min_replicas, 1);
    if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
        spec.metrics = Some(vec![api::MetricSpec {
            type_: "Resource".into(),
            resource: Some(api::ResourceMetricSource {
                name: "cpu".into(),
                target: api::MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(80),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    if let Some(b) = &mut spec.behavior {
        merge_rules(&mut b.scale_up, scale_up_default());
        merge_rules(&mut b.scale_down, scale_down_default());
    }
    for m in spec.metrics.iter_mut().flatten() {
        if let Some(r) = &mut m.resource {
            target(&mut r.target);
        }
        if let Some(r) = &mut m.container_resource {
            target(&mut r.target);
        }
        if let Some(r) = &mut m.object {
            target(&mut r.target);
        }
        if let Some(r) = &mut m.pods {
            target(&mut r.target);
        }
        if let Some(r) = &mut m.external {
            target(&mut r.target);
        }
    }
}
