//! Validation of autoscaling/v2 kinds, as upstream's.

use k8s_openapi::api::autoscaling::v2 as api;

use super::checks;
use super::{Errors, Path, path_segment_name};

fn object_ref(errs: &mut Errors, path: &Path, r: &api::CrossVersionObjectReference) {
    for (field, v) in [("kind", &r.kind), ("name", &r.name)] {
        if v.is_empty() {
            errs.required(&path.child(field), "");
        } else {
            errs.invalid_each(&path.child(field), v, path_segment_name(v));
        }
    }
}

/// Validate a HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler(obj: &api::HorizontalPodAutoscaler, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    if let Some(min) = spec.min_replicas
        && min < 1
    {
        errs.invalid(
            &sp.child("minReplicas"),
            min,
            "must be greater than or equal to 1",
        );
    }
    if spec.max_replicas < 1 {
        errs.invalid(
            &sp.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than 0",
        );
    }
    if spec.min_replicas.is_some_and(|min| spec.max_replicas < min) {
        errs.invalid(
            &sp.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than or equal to `minReplicas`",
        );
    }
    object_ref(errs, &sp.child("scaleTargetRef"), &spec.scale_target_ref);
    for (i, m) in spec.metrics.iter().flatten().enumerate() {
        metric(errs, &sp.child("metrics").index(i), m);
    }
    if let Some(b) = &spec.behavior {
        let bp = sp.child("behavior");
        for (field, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
            if let Some(r) = rules {
                scaling_rules(errs, &bp.child(field), r);
            }
        }
    }
}

const METRIC_TYPES: &[&str] = &[
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

fn metric(errs: &mut Errors, path: &Path, m: &api::MetricSpec) {
    if m.type_.is_empty() {
        errs.required(&path.child("type"), "must specify a metric source type");
    }
    if !METRIC_TYPES.contains(&m.type_.as_str()) {
        errs.not_supported(&path.child("type"), m.type_.as_str(), METRIC_TYPES);
    }
    let present = [
        ("Object", "object", m.object.is_some()),
        ("Pods", "pods", m.pods.is_some()),
        ("Resource", "resource", m.resource.is_some()),
        (
            "ContainerResource",
            "containerresource",
            m.container_resource.is_some(),
        ),
        ("External", "external", m.external.is_some()),
    ];
    if let Some((_, field, set)) = present.iter().find(|(t, _, _)| *t == m.type_)
        && !set
    {
        errs.required(
            &path.child(field),
            "must populate information for the given metric source",
        );
    }
    let n = present.iter().filter(|(_, _, set)| *set).count();
    if n != 1 {
        for (t, field, set) in present {
            if set && t != m.type_ {
                errs.forbidden(
                    &path.child(field),
                    "must populate the given metric source only",
                );
            }
        }
    }
    if let Some(r) = &m.resource {
        let p = path.child("resource");
        if r.name.is_empty() {
            errs.required(&p.child("name"), "must specify a resource name");
        }
        target(errs, &p.child("target"), &r.target);
    }
    if let Some(r) = &m.container_resource {
        let p = path.child("containerResource");
        if r.name.is_empty() {
            errs.required(&p.child("name"), "must specify a resource name");
        }
        if r.container.is_empty() {
            errs.required(&p.child("container"), "must specify a container");
        }
        target(errs, &p.child("target"), &r.target);
    }
    if let Some(o) = &m.object {
        let p = path.child("object");
        object_ref(errs, &p.child("describedObject"), &o.described_object);
        target(errs, &p.child("target"), &o.target);
    }
    if let Some(o) = &m.pods {
        target(errs, &path.child("pods").child("target"), &o.target);
    }
    if let Some(o) = &m.external {
        target(errs, &path.child("external").child("target"), &o.target);
    }
}

fn target(errs: &mut Errors, path: &Path, t: &api::MetricTarget) {
    if t.type_.is_empty() {
        errs.required(&path.child("type"), "must specify a metric target type");
    }
    if !matches!(t.type_.as_str(), "Utilization" | "Value" | "AverageValue") {
        errs.invalid(
            &path.child("type"),
            t.type_.as_str(),
            "must be either Utilization, Value, or AverageValue",
        );
    }
    for (field, q) in [("value", &t.value), ("averageValue", &t.average_value)] {
        if let Some(q) = q {
            let p = path.child(field);
            if let Some(v) = checks::quantity(errs, &p, q)
                && (v.is_negative() || v.is_zero())
            {
                errs.invalid(&p, q.0.as_str(), "must be positive");
            }
        }
    }
    if let Some(u) = t.average_utilization
        && u < 1
    {
        errs.invalid(
            &path.child("averageUtilization"),
            u,
            "must be greater than 0",
        );
    }
}

fn scaling_rules(errs: &mut Errors, path: &Path, r: &api::HPAScalingRules) {
    if let Some(sp) = &r.select_policy
        && !matches!(sp.as_str(), "Max" | "Min" | "Disabled")
    {
        errs.not_supported(
            &path.child("selectPolicy"),
            sp.as_str(),
            &["Disabled", "Max", "Min"],
        );
    }
    if let Some(w) = r.stabilization_window_seconds {
        let p = path.child("stabilizationWindowSeconds");
        if w < 0 {
            errs.invalid(&p, w, "must be greater than or equal to zero");
        }
        if w > 3600 {
            errs.invalid(&p, w, "must be less than or equal to 3600");
        }
    }
    let policies = r.policies.as_deref().unwrap_or_default();
    if policies.is_empty() {
        errs.required(&path.child("policies"), "must specify at least one Policy");
    }
    for (i, p) in policies.iter().enumerate() {
        let pp = path.child("policies").index(i);
        if p.type_ != "Pods" && p.type_ != "Percent" {
            errs.not_supported(&pp.child("type"), p.type_.as_str(), &["Percent", "Pods"]);
        }
        if p.value <= 0 {
            errs.invalid(&pp.child("value"), p.value, "must be greater than zero");
        }
        if p.period_seconds <= 0 {
            errs.invalid(
                &pp.child("periodSeconds"),
                p.period_seconds,
                "must be greater than zero",
            );
        }
        if p.period_seconds > 1800 {
            errs.invalid(
                &pp.child("periodSeconds"),
                p.period_seconds,
                "must be less than or equal to 1800",
            );
        }
    }
}

/// Validate an update of a HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler_update(
    _new: &api::HorizontalPodAutoscaler,
    _old: &api::HorizontalPodAutoscaler,
    _errs: &mut Errors,
) {
}
