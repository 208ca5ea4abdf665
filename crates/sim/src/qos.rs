//! A pod's QoS class, as upstream's `ComputePodQOS`
//! (pkg/apis/core/v1/helper/qos): only cpu and memory count; pod-level
//! resources, when set, decide alone; otherwise every container and init
//! container does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::units::parse_quantity;

const COMPUTE: [&str; 2] = ["cpu", "memory"];

/// `Guaranteed`, `Burstable` or `BestEffort`.
pub fn qos_class<'a>(
    pod_resources: Option<&ResourceRequirements>,
    containers: impl Iterator<Item = Option<&'a ResourceRequirements>>,
) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    let mut add = |res: Option<&ResourceRequirements>,
                   requests: &mut BTreeMap<&str, i128>,
                   limits: &mut BTreeMap<&str, i128>| {
        let mut found_limits = 0;
        for name in COMPUTE {
            let value = |m: Option<
                &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
            >| {
                m.and_then(|m| m.get(name))
                    .and_then(|q| parse_quantity(&q.0).ok())
                    .filter(|v| *v != 0)
            };
            if let Some(v) = value(res.and_then(|r| r.requests.as_ref())) {
                *requests.entry(name).or_default() += v;
            }
            if let Some(v) = value(res.and_then(|r| r.limits.as_ref())) {
                found_limits += 1;
                *limits.entry(name).or_default() += v;
            }
        }
        if found_limits != COMPUTE.len() {
            guaranteed = false;
        }
    };
    let pod_level = pod_resources.is_some_and(|r| {
        COMPUTE.iter().any(|n| {
            r.requests.as_ref().is_some_and(|m| m.contains_key(*n))
                || r.limits.as_ref().is_some_and(|m| m.contains_key(*n))
        })
    });
    if pod_level {
        add(pod_resources, &mut requests, &mut limits);
    } else {
        for res in containers {
            add(res, &mut requests, &mut limits);
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed
        && requests.len() == limits.len()
        && requests.iter().all(|(k, v)| limits.get(k) == Some(v))
    {
        return "Guaranteed";
    }
    "Burstable"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: serde_json::Value) -> ResourceRequirements {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn classes() {
        let none = res(json!({}));
        assert_eq!(
            qos_class(None, [Some(&none), None].into_iter()),
            "BestEffort"
        );
        let g = res(
            json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}}),
        );
        assert_eq!(
            qos_class(None, [Some(&g), Some(&g)].into_iter()),
            "Guaranteed"
        );
        // One container without limits makes the pod Burstable.
        assert_eq!(qos_class(None, [Some(&g), None].into_iter()), "Burstable");
        let only_cpu = res(json!({"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}));
        assert_eq!(qos_class(None, [Some(&only_cpu)].into_iter()), "Burstable");
        let unequal = res(
            json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
        );
        assert_eq!(qos_class(None, [Some(&unequal)].into_iter()), "Burstable");
        // Only cpu and memory count.
        let gpu =
            res(json!({"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}));
        assert_eq!(qos_class(None, [Some(&gpu)].into_iter()), "BestEffort");
        // Pod-level resources decide alone.
        assert_eq!(qos_class(Some(&g), [None].into_iter()), "Guaranteed");
    }
}
