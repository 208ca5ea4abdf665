//! Tables of autoscaling/v2 kinds, as upstream prints them.

use k8s_openapi::api::autoscaling::v2 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{quantity_opt, quantity_string};
use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of HorizontalPodAutoscaler.
pub const HORIZONTAL_POD_AUTOSCALER: &[Column] = &[
    NAME,
    col(
        "Reference",
        "string",
        "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
    ),
    col(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica count.",
    ),
    col(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    col(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    col(
        "Replicas",
        "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

/// The entry of a Resource or ContainerResource metric.
fn resource_entry(
    name: &str,
    target: &api::MetricTarget,
    current: Option<&api::MetricValueStatus>,
) -> String {
    if let Some(avg) = &target.average_value {
        let cur = current.map_or_else(
            || "<unknown>".into(),
            |c| quantity_opt(c.average_value.as_ref()),
        );
        format!("{name}: {cur}/{}", quantity_string(avg))
    } else {
        let cur = current
            .and_then(|c| c.average_utilization)
            .map_or_else(|| "<unknown>".into(), |u| format!("{u}%"));
        let tgt = target
            .average_utilization
            .map_or_else(|| "<auto>".into(), |u| format!("{u}%"));
        format!("{name}: {cur}/{tgt}")
    }
}

/// The entry of an External or Object metric: `(avg)` targets use the
/// current average value, others the current value.
fn value_entry(
    target: Option<&api::MetricTarget>,
    current: Option<&api::MetricValueStatus>,
) -> String {
    match target.and_then(|t| t.average_value.as_ref()) {
        Some(avg) => {
            let cur = current
                .and_then(|c| c.average_value.as_ref())
                .map_or_else(|| "<unknown>".into(), quantity_string);
            format!("{cur}/{} (avg)", quantity_string(avg))
        }
        None => {
            let cur =
                current.map_or_else(|| "<unknown>".into(), |c| quantity_opt(c.value.as_ref()));
            format!(
                "{cur}/{}",
                quantity_opt(target.and_then(|t| t.value.as_ref()))
            )
        }
    }
}

/// Upstream's `formatHPAMetrics`: one entry per metric spec, its current
/// value taken from the status at the same index; at most two entries, then
/// ` + N more...`.
fn format_metrics(specs: &[api::MetricSpec], statuses: &[api::MetricStatus]) -> String {
    const MAX: usize = 2;
    if specs.is_empty() {
        return "<none>".into();
    }
    let mut list = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let entry = match spec.type_.as_str() {
            "External" => value_entry(
                spec.external.as_ref().map(|e| &e.target),
                status.and_then(|s| s.external.as_ref()).map(|e| &e.current),
            ),
            "Object" => value_entry(
                spec.object.as_ref().map(|o| &o.target),
                status.and_then(|s| s.object.as_ref()).map(|o| &o.current),
            ),
            "Pods" => {
                let cur = status.and_then(|s| s.pods.as_ref()).map_or_else(
                    || "<unknown>".into(),
                    |p| quantity_opt(p.current.average_value.as_ref()),
                );
                let tgt = quantity_opt(
                    spec.pods
                        .as_ref()
                        .and_then(|p| p.target.average_value.as_ref()),
                );
                format!("{cur}/{tgt}")
            }
            "Resource" => match &spec.resource {
                Some(r) => resource_entry(
                    &r.name,
                    &r.target,
                    status.and_then(|s| s.resource.as_ref()).map(|r| &r.current),
                ),
                None => "<unknown type>".into(),
            },
            "ContainerResource" => match &spec.container_resource {
                Some(r) => resource_entry(
                    &r.name,
                    &r.target,
                    status
                        .and_then(|s| s.container_resource.as_ref())
                        .map(|r| &r.current),
                ),
                None => "<unknown type>".into(),
            },
            _ => "<unknown type>".into(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), count - MAX)
    } else {
        list.join(", ")
    }
}

/// Cells of one HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler(obj: &api::HorizontalPodAutoscaler, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let reference = spec
        .map(|s| format!("{}/{}", s.scale_target_ref.kind, s.scale_target_ref.name))
        .unwrap_or_else(|| "/".into());
    let targets = format_metrics(
        spec.and_then(|s| s.metrics.as_deref()).unwrap_or_default(),
        status
            .and_then(|s| s.current_metrics.as_deref())
            .unwrap_or_default(),
    );
    let min_pods = spec
        .and_then(|s| s.min_replicas)
        .map_or_else(|| "<unset>".into(), |m| m.to_string());
    vec![
        name_cell(&obj.metadata),
        Value::from(reference),
        Value::from(targets),
        Value::from(min_pods),
        Value::from(i64::from(spec.map_or(0, |s| s.max_replicas))),
        Value::from(i64::from(
            status.and_then(|s| s.current_replicas).unwrap_or(0),
        )),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn utilization_spec(name: &str, target: Option<i32>) -> api::MetricSpec {
        api::MetricSpec {
            type_: "Resource".into(),
            resource: Some(api::ResourceMetricSource {
                name: name.into(),
                target: api::MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: target,
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    fn utilization_status(name: &str, current: Option<i32>) -> api::MetricStatus {
        api::MetricStatus {
            type_: "Resource".into(),
            resource: Some(api::ResourceMetricStatus {
                name: name.into(),
                current: api::MetricValueStatus {
                    average_utilization: current,
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    fn hpa(
        metrics: Vec<api::MetricSpec>,
        current: Vec<api::MetricStatus>,
    ) -> api::HorizontalPodAutoscaler {
        api::HorizontalPodAutoscaler {
            metadata: ObjectMeta {
                name: Some("web".into()),
                creation_timestamp: Some(Time("2024-05-01T10:00:00Z".parse().unwrap())),
                ..Default::default()
            },
            spec: Some(api::HorizontalPodAutoscalerSpec {
                scale_target_ref: api::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
                min_replicas: Some(1),
                max_replicas: 10,
                metrics: Some(metrics),
                behavior: None,
            }),
            status: Some(api::HorizontalPodAutoscalerStatus {
                current_replicas: Some(3),
                current_metrics: Some(current),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn hpa_cells_and_targets() {
        let h = hpa(
            vec![utilization_spec("cpu", Some(80))],
            vec![utilization_status("cpu", Some(45))],
        );
        assert_eq!(
            horizontal_pod_autoscaler(&h, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 45%/80%"),
                json!("1"),
                json!(10),
                json!(3),
                json!("120m"),
            ]
        );

        let h = hpa(vec![utilization_spec("cpu", Some(80))], vec![]);
        assert_eq!(
            horizontal_pod_autoscaler(&h, now())[2],
            json!("cpu: <unknown>/80%")
        );

        let h = hpa(vec![utilization_spec("cpu", None)], vec![]);
        assert_eq!(
            horizontal_pod_autoscaler(&h, now())[2],
            json!("cpu: <unknown>/<auto>")
        );

        let mut avg = utilization_spec("memory", None);
        avg.resource.as_mut().unwrap().target.average_value = Some(Quantity("200Mi".into()));
        let mut avg_status = utilization_status("memory", None);
        avg_status.resource.as_mut().unwrap().current.average_value =
            Some(Quantity("102400Ki".into()));
        let h = hpa(vec![avg], vec![avg_status]);
        assert_eq!(
            horizontal_pod_autoscaler(&h, now())[2],
            json!("memory: 100Mi/200Mi")
        );

        let h = hpa(
            vec![
                utilization_spec("cpu", Some(50)),
                utilization_spec("memory", Some(60)),
                utilization_spec("ephemeral-storage", Some(70)),
            ],
            vec![
                utilization_status("cpu", Some(10)),
                utilization_status("memory", Some(20)),
            ],
        );
        assert_eq!(
            horizontal_pod_autoscaler(&h, now())[2],
            json!("cpu: 10%/50%, memory: 20%/60% + 1 more...")
        );

        let mut h = hpa(vec![], vec![]);
        h.spec.as_mut().unwrap().min_replicas = None;
        let cells = horizontal_pod_autoscaler(&h, now());
        assert_eq!(cells[2], json!("<none>"));
        assert_eq!(cells[3], json!("<unset>"));
    }

    #[test]
    fn hpa_other_metric_types() {
        let pods = api::MetricSpec {
            type_: "Pods".into(),
            pods: Some(api::PodsMetricSource {
                metric: Default::default(),
                target: api::MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity("1k".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let external_value = api::MetricSpec {
            type_: "External".into(),
            external: Some(api::ExternalMetricSource {
                metric: Default::default(),
                target: api::MetricTarget {
                    type_: "Value".into(),
                    value: Some(Quantity("30".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let object_avg = api::MetricSpec {
            type_: "Object".into(),
            object: Some(api::ObjectMetricSource {
                described_object: Default::default(),
                metric: Default::default(),
                target: api::MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity("500m".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let pods_status = api::MetricStatus {
            type_: "Pods".into(),
            pods: Some(api::PodsMetricStatus {
                metric: Default::default(),
                current: api::MetricValueStatus {
                    average_value: Some(Quantity("250".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        // The External status has no value: upstream prints the nil
        // quantity as `<nil>`.
        let external_status = api::MetricStatus {
            type_: "External".into(),
            external: Some(api::ExternalMetricStatus {
                metric: Default::default(),
                current: api::MetricValueStatus::default(),
            }),
            ..Default::default()
        };
        assert_eq!(
            format_metrics(
                &[pods.clone(), external_value.clone()],
                &[pods_status, external_status]
            ),
            "250/1k, <nil>/30"
        );
        assert_eq!(format_metrics(&[object_avg], &[]), "<unknown>/500m (avg)");
        let unknown = api::MetricSpec {
            type_: "Bogus".into(),
            ..Default::default()
        };
        assert_eq!(format_metrics(&[unknown], &[]), "<unknown type>");
    }
}
