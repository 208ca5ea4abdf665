//! autoscaling: HorizontalPodAutoscalers, stored as v2 and served as v2
//! and v1.

use k8s_openapi::api::autoscaling::v2 as api;
use serde_json::Value;

use crate::registry::{Conversion, ResourceInfo, Strategy};
use crate::status::Status;

/// HorizontalPodAutoscalers (autoscaling/v2).
pub struct HorizontalPodAutoscalers;
impl Strategy for HorizontalPodAutoscalers {
    type Object = api::HorizontalPodAutoscaler;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["hpa"],
        categories: &["all"],
        status: true,
        ..ResourceInfo::new(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            "horizontalpodautoscaler",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::autoscaling::horizontal_pod_autoscaler(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::autoscaling::horizontal_pod_autoscaler(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::autoscaling::horizontal_pod_autoscaler_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::autoscaling::HORIZONTAL_POD_AUTOSCALER
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::autoscaling::horizontal_pod_autoscaler(obj, now)
    }
}

/// autoscaling/v1 ↔ v2: v1's `targetCPUUtilizationPercentage` is v2's
/// CPU utilization Resource metric; v1's status carries
/// `currentCPUUtilizationPercentage`.
pub struct HpaV1;

impl Conversion for HpaV1 {
    fn to_storage(&self, mut obj: Value) -> Result<Value, Status> {
        obj["apiVersion"] = Value::from("autoscaling/v2");
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
            && let Some(target) = spec.remove("targetCPUUtilizationPercentage")
        {
            spec.insert(
                    "metrics".into(),
                    serde_json::json!([{
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}
                    }]),
                );
        }
        if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut)
            && let Some(current) = status.remove("currentCPUUtilizationPercentage")
        {
            status.insert(
                "currentMetrics".into(),
                serde_json::json!([{
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": current}}
                }]),
            );
        }
        Ok(obj)
    }

    fn to_served(&self, mut obj: Value) -> Value {
        obj["apiVersion"] = Value::from("autoscaling/v1");
        let cpu_target = |metrics: &Value| {
            metrics.as_array()?.iter().find_map(|m| {
                (m["type"] == "Resource" && m["resource"]["name"] == "cpu")
                    .then(|| m["resource"]["target"]["averageUtilization"].clone())
                    .filter(|v| !v.is_null())
            })
        };
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            if let Some(metrics) = spec.remove("metrics")
                && let Some(t) = cpu_target(&metrics)
            {
                spec.insert("targetCPUUtilizationPercentage".into(), t);
            }
            spec.remove("behavior");
        }
        if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
            if let Some(metrics) = status.remove("currentMetrics") {
                let current = metrics.as_array().and_then(|ms| {
                    ms.iter().find_map(|m| {
                        (m["type"] == "Resource" && m["resource"]["name"] == "cpu")
                            .then(|| m["resource"]["current"]["averageUtilization"].clone())
                            .filter(|v| !v.is_null())
                    })
                });
                if let Some(c) = current {
                    status.insert("currentCPUUtilizationPercentage".into(), c);
                }
            }
            status.remove("conditions");
        }
        obj
    }
}
