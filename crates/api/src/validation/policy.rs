//! Validation of policy/v1 kinds, as upstream's.

use k8s_openapi::api::policy::v1 as api;

use super::checks;
use super::{Errors, Path};

/// Validate a PodDisruptionBudget.
pub fn pod_disruption_budget(obj: &api::PodDisruptionBudget, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        errs.invalid_raw(
            &sp,
            "policy.PodDisruptionBudgetSpec{...}",
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
    for (field, v) in [
        ("minAvailable", &spec.min_available),
        ("maxUnavailable", &spec.max_unavailable),
    ] {
        if let Some(v) = v {
            checks::positive_int_or_percent(errs, &sp.child(field), v);
            checks::not_more_than_100_percent(errs, &sp.child(field), v);
        }
    }
    checks::label_selector(errs, &sp.child("selector"), spec.selector.as_ref());
    if let Some(p) = &spec.unhealthy_pod_eviction_policy
        && p != "IfHealthyBudget"
        && p != "AlwaysAllow"
    {
        errs.not_supported(
            &sp.child("unhealthyPodEvictionPolicy"),
            p.as_str(),
            &["AlwaysAllow", "IfHealthyBudget"],
        );
    }
}

/// Validate an update of a PodDisruptionBudget.
pub fn pod_disruption_budget_update(
    _new: &api::PodDisruptionBudget,
    _old: &api::PodDisruptionBudget,
    _errs: &mut Errors,
) {
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    #[test]
    fn min_and_max_are_exclusive() {
        let pdb = api::PodDisruptionBudget {
            spec: Some(api::PodDisruptionBudgetSpec {
                min_available: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::String("150%".into())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut errs = Errors::default();
        pod_disruption_budget(&pdb, &mut errs);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "spec: Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both set",
                r#"spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%"#,
            ]
        );
    }
}
