//! Validation of apps/v1 kinds, as upstream's.

use k8s_openapi::api::apps::v1 as api;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::checks::{self, IMMUTABLE};
use super::pod as podv;
use super::{Errors, Path, go};
use crate::labels::Selector;

/// A selector the API decoded as absent: k8s-openapi fills a missing
/// required selector with an empty one, which upstream would see as nil.
fn as_optional(sel: &LabelSelector) -> Option<&LabelSelector> {
    (sel.match_labels.is_some() || sel.match_expressions.is_some()).then_some(sel)
}

/// The selector checks every apps/v1 workload makes: required, valid,
/// non-empty. Returns what it selects (`Err(())` when it does not
/// convert, so template matching is skipped).
fn workload_selector(
    errs: &mut Errors,
    path: &Path,
    sel: Option<&LabelSelector>,
    kind: &str,
) -> Result<Option<Selector>, ()> {
    match sel {
        None => errs.required(path, ""),
        Some(s) => {
            checks::label_selector(errs, path, Some(s));
            let n = s.match_labels.as_ref().map_or(0, |m| m.len())
                + s.match_expressions.as_ref().map_or(0, Vec::len);
            if n == 0 {
                errs.invalid_raw(
                    path,
                    go::label_selector(s),
                    format!("empty selector is invalid for {kind}"),
                );
            }
        }
    }
    checks::selector_of(sel).map_err(|_| ())
}

/// `spec.selector` may not change (apps/v1).
fn immutable_selector(errs: &mut Errors, new: &LabelSelector, old: &LabelSelector) {
    if new != old {
        errs.invalid_raw(
            &Path::new("spec").child("selector"),
            go::label_selector(new),
            IMMUTABLE,
        );
    }
}

fn opt_non_negative(errs: &mut Errors, path: &Path, v: Option<i32>) {
    checks::non_negative_opt(errs, path, v);
}

// ------------------------------------------------------------- deployment

/// Validate a Deployment.
pub fn deployment(obj: &api::Deployment, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    checks::non_negative(
        errs,
        &sp.child("replicas"),
        i64::from(spec.replicas.unwrap_or(0)),
    );
    let sel = workload_selector(
        errs,
        &sp.child("selector"),
        as_optional(&spec.selector),
        "deployment",
    );
    match sel {
        Ok(sel) => podv::replicated_template(
            errs,
            &sp.child("template"),
            Some(&spec.template),
            &sel,
            "ReplicaSet",
        ),
        Err(()) => errs.invalid_raw(
            &sp.child("selector"),
            go::label_selector(&spec.selector),
            "invalid label selector",
        ),
    }
    deployment_strategy(errs, &sp.child("strategy"), spec.strategy.as_ref());
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    checks::non_negative(errs, &sp.child("minReadySeconds"), i64::from(min_ready));
    opt_non_negative(
        errs,
        &sp.child("revisionHistoryLimit"),
        spec.revision_history_limit,
    );
    if let Some(pds) = spec.progress_deadline_seconds {
        let p = sp.child("progressDeadlineSeconds");
        checks::non_negative(errs, &p, i64::from(pds));
        if pds <= min_ready {
            errs.invalid(&p, pds, "must be greater than minReadySeconds");
        }
    }
}

fn deployment_strategy(errs: &mut Errors, path: &Path, st: Option<&api::DeploymentStrategy>) {
    let st = st.cloned().unwrap_or_default();
    match st.type_.as_deref().unwrap_or("") {
        "Recreate" => {
            if st.rolling_update.is_some() {
                errs.forbidden(
                    &path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        "RollingUpdate" => match &st.rolling_update {
            None => errs.required(
                &path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            ),
            Some(ru) => {
                let p = path.child("rollingUpdate");
                let zero = IntOrString::Int(0);
                let mu = ru.max_unavailable.clone().unwrap_or(zero.clone());
                let ms = ru.max_surge.clone().unwrap_or(zero);
                checks::positive_int_or_percent(errs, &p.child("maxUnavailable"), &mu);
                checks::positive_int_or_percent(errs, &p.child("maxSurge"), &ms);
                if checks::int_or_percent_value(&mu) == 0 && checks::int_or_percent_value(&ms) == 0 {
                    errs.invalid_raw(
                        &p.child("maxUnavailable"),
                        go::int_or_string(&mu),
                        "may not be 0 when `maxSurge` is 0",
                    );
                }
                checks::not_more_than_100_percent(errs, &p.child("maxUnavailable"), &mu);
            }
        },
        other => errs.not_supported_raw(
            path,
            format!(
                "apps.DeploymentStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}}",
                go::quote(other)
            ),
            &["Recreate", "RollingUpdate"],
        ),
    }
}

/// Validate an update of a Deployment: the selector is immutable.
pub fn deployment_update(new: &api::Deployment, old: &api::Deployment, errs: &mut Errors) {
    let (n, o) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    immutable_selector(errs, &n.selector, &o.selector);
}

// ------------------------------------------------------------- replicaset

/// Validate a ReplicaSet.
pub fn replica_set(obj: &api::ReplicaSet, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    checks::non_negative(
        errs,
        &sp.child("replicas"),
        i64::from(spec.replicas.unwrap_or(0)),
    );
    checks::non_negative(
        errs,
        &sp.child("minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    let sel = workload_selector(
        errs,
        &sp.child("selector"),
        as_optional(&spec.selector),
        "deployment",
    );
    match sel {
        Ok(sel) => podv::replicated_template(
            errs,
            &sp.child("template"),
            spec.template.as_ref(),
            &sel,
            "ReplicaSet",
        ),
        Err(()) => errs.invalid_raw(
            &sp.child("selector"),
            go::label_selector(&spec.selector),
            "invalid label selector",
        ),
    }
}

/// Validate an update of a ReplicaSet: the selector is immutable.
pub fn replica_set_update(new: &api::ReplicaSet, old: &api::ReplicaSet, errs: &mut Errors) {
    let (n, o) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    immutable_selector(errs, &n.selector, &o.selector);
}

// ------------------------------------------------------------ statefulset

/// Validate a StatefulSet. As upstream, the pod template's spec itself is
/// not validated, only its labels and annotations.
pub fn stateful_set(obj: &api::StatefulSet, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    match spec.pod_management_policy.as_deref().unwrap_or("") {
        "" => errs.required(&sp.child("podManagementPolicy"), ""),
        "OrderedReady" | "Parallel" => {}
        other => errs.invalid(
            &sp.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        ),
    }
    sts_update_strategy(
        errs,
        &sp.child("updateStrategy"),
        spec.update_strategy.as_ref(),
    );
    if let Some(p) = &spec.persistent_volume_claim_retention_policy {
        let pp = sp.child("persistentVolumeClaimRetentionPolicy");
        for (field, v) in [
            ("whenDeleted", &p.when_deleted),
            ("whenScaled", &p.when_scaled),
        ] {
            let v = v.as_deref().unwrap_or("");
            if v != "Retain" && v != "Delete" {
                errs.not_supported(&pp.child(field), v, &["Retain", "Delete"]);
            }
        }
    }
    checks::non_negative(
        errs,
        &sp.child("replicas"),
        i64::from(spec.replicas.unwrap_or(0)),
    );
    checks::non_negative(
        errs,
        &sp.child("minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    if let Some(o) = &spec.ordinals {
        checks::non_negative(
            errs,
            &sp.child("ordinals.start"),
            i64::from(o.start.unwrap_or(0)),
        );
    }
    let sel = workload_selector(
        errs,
        &sp.child("selector"),
        as_optional(&spec.selector),
        "statefulset",
    );
    let tp = sp.child("template");
    match sel {
        Ok(sel) => {
            let t = &spec.template;
            let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
            if !checks::selector_is_everything(&sel) && !checks::selector_matches(&sel, labels) {
                errs.invalid_raw(
                    &tp.child("metadata").child("labels"),
                    go::string_map(labels),
                    "`selector` does not match template `labels`",
                );
            }
            let meta = t.metadata.clone().unwrap_or_default();
            super::validate_labels(meta.labels.as_ref(), &tp.child("labels"), errs);
            super::validate_annotations(meta.annotations.as_ref(), &tp.child("annotations"), errs);
            podv::pod_specific_annotations(
                errs,
                &tp.child("annotations"),
                meta.annotations.as_ref(),
                &t.spec.clone().unwrap_or_default(),
            );
        }
        Err(()) => errs.invalid_raw(
            &sp.child("selector"),
            go::label_selector(&spec.selector),
            "",
        ),
    }
    podv::always_restart(errs, &tp, &spec.template, "StatefulSet");
}

fn sts_update_strategy(
    errs: &mut Errors,
    path: &Path,
    st: Option<&api::StatefulSetUpdateStrategy>,
) {
    let st = st.cloned().unwrap_or_default();
    match st.type_.as_deref().unwrap_or("") {
        "" => errs.required(path, ""),
        "OnDelete" => {
            if st.rolling_update.is_some() {
                errs.invalid_raw(
                    &path.child("rollingUpdate"),
                    "apps.RollingUpdateStatefulSetStrategy{...}",
                    "only allowed for updateStrategy 'RollingUpdate'",
                );
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = &st.rolling_update {
                let p = path.child("rollingUpdate");
                checks::non_negative(errs, &p.child("partition"), i64::from(ru.partition.unwrap_or(0)));
                if let Some(mu) = &ru.max_unavailable {
                    let mp = p.child("maxUnavailable");
                    checks::positive_int_or_percent(errs, &mp, mu);
                    if checks::int_or_percent_value(mu) == 0 {
                        errs.invalid_raw(&mp, go::int_or_string(mu), "cannot be 0");
                    }
                    checks::not_more_than_100_percent(errs, &mp, mu);
                }
            }
        }
        other => errs.invalid_raw(
            path,
            format!(
                "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}}",
                go::quote(other)
            ),
            "must be 'RollingUpdate' or 'OnDelete'",
        ),
    }
}

/// Validate an update of a StatefulSet: only replicas, ordinals, template,
/// updateStrategy, persistentVolumeClaimRetentionPolicy and
/// minReadySeconds may change.
pub fn stateful_set_update(new: &api::StatefulSet, old: &api::StatefulSet, errs: &mut Errors) {
    let mut n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    n.replicas = o.replicas;
    n.template = o.template.clone();
    n.update_strategy = o.update_strategy.clone();
    n.min_ready_seconds = o.min_ready_seconds;
    n.ordinals = o.ordinals.clone();
    n.persistent_volume_claim_retention_policy = o.persistent_volume_claim_retention_policy.clone();
    // Defaulting fills the claim templates' status on every write; compare
    // the templates without it.
    let strip = |v: &Option<Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim>>| {
        v.as_ref().map(|l| {
            l.iter()
                .map(|c| k8s_openapi::api::core::v1::PersistentVolumeClaim {
                    status: None,
                    ..c.clone()
                })
                .collect::<Vec<_>>()
        })
    };
    let same_templates = strip(&n.volume_claim_templates) == strip(&o.volume_claim_templates);
    n.volume_claim_templates = o.volume_claim_templates.clone();
    if n != o || !same_templates {
        errs.forbidden(
            &Path::new("spec"),
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        );
    }
}

// -------------------------------------------------------------- daemonset

/// Validate a DaemonSet.
pub fn daemon_set(obj: &api::DaemonSet, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let sel_opt = as_optional(&spec.selector);
    checks::label_selector(errs, &sp.child("selector"), sel_opt);
    let tp = sp.child("template");
    if let Ok(sel) = checks::selector_of(sel_opt) {
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref());
        if !checks::selector_matches(&sel, labels) {
            errs.invalid_raw(
                &tp.child("metadata").child("labels"),
                go::string_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
    if let Some(s) = sel_opt
        && s.match_labels.as_ref().map_or(0, |m| m.len())
            + s.match_expressions.as_ref().map_or(0, Vec::len)
            == 0
    {
        errs.invalid_raw(
            &sp.child("selector"),
            go::label_selector(s),
            "empty selector is invalid for daemonset",
        );
    }
    podv::pod_template_spec(errs, &tp, &spec.template);
    podv::always_restart(errs, &tp, &spec.template, "DaemonSet");
    checks::non_negative(
        errs,
        &sp.child("minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    ds_update_strategy(
        errs,
        &sp.child("updateStrategy"),
        spec.update_strategy.as_ref(),
    );
    opt_non_negative(
        errs,
        &sp.child("revisionHistoryLimit"),
        spec.revision_history_limit,
    );
}

fn ds_update_strategy(errs: &mut Errors, path: &Path, st: Option<&api::DaemonSetUpdateStrategy>) {
    let st = st.cloned().unwrap_or_default();
    match st.type_.as_deref().unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let Some(ru) = &st.rolling_update else {
                errs.required(&path.child("rollingUpdate"), "");
                return;
            };
            let p = path.child("rollingUpdate");
            let zero = IntOrString::Int(0);
            let mu = ru.max_unavailable.clone().unwrap_or(zero.clone());
            let ms = ru.max_surge.clone().unwrap_or(zero);
            checks::positive_int_or_percent(errs, &p.child("maxUnavailable"), &mu);
            checks::positive_int_or_percent(errs, &p.child("maxSurge"), &ms);
            checks::not_more_than_100_percent(errs, &p.child("maxUnavailable"), &mu);
            checks::not_more_than_100_percent(errs, &p.child("maxSurge"), &ms);
            let has_unavailable = checks::int_or_percent_value(&mu) != 0;
            let has_surge = checks::int_or_percent_value(&ms) != 0;
            if has_unavailable && has_surge {
                errs.invalid_raw(
                    &p.child("maxSurge"),
                    go::int_or_string(&ms),
                    "may not be set when maxUnavailable is non-zero",
                );
            } else if !has_unavailable && !has_surge {
                errs.required(&p.child("maxUnavailable"), "cannot be 0 when maxSurge is 0");
            }
        }
        other => errs.not_supported_raw(
            path,
            format!(
                "apps.DaemonSetUpdateStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}}",
                go::quote(other)
            ),
            &["RollingUpdate", "OnDelete"],
        ),
    }
}

/// Validate an update of a DaemonSet: the selector is immutable.
pub fn daemon_set_update(new: &api::DaemonSet, old: &api::DaemonSet, errs: &mut Errors) {
    let (n, o) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    immutable_selector(errs, &n.selector, &o.selector);
}

// ---------------------------------------------------- controller revision

/// Validate a ControllerRevision.
pub fn controller_revision(obj: &api::ControllerRevision, errs: &mut Errors) {
    if obj.data.is_none() {
        errs.required(&Path::new("data"), "data is mandatory");
    }
    checks::non_negative(errs, &Path::new("revision"), obj.revision);
}

/// Validate an update of a ControllerRevision: `data` is immutable.
pub fn controller_revision_update(
    new: &api::ControllerRevision,
    old: &api::ControllerRevision,
    errs: &mut Errors,
) {
    if new.data != old.data {
        let shown = serde_json::to_value(&new.data).unwrap_or_default();
        errs.invalid(&Path::new("data"), shown, IMMUTABLE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn labels(k: &str, v: &str) -> Option<BTreeMap<String, String>> {
        Some([(k.to_string(), v.to_string())].into())
    }

    fn deployment_with(selector: &str, template: &str) -> api::Deployment {
        let mut d = api::Deployment {
            spec: Some(api::DeploymentSpec {
                selector: LabelSelector {
                    match_labels: labels("app", selector),
                    match_expressions: None,
                },
                template: core::PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: labels("app", template),
                        ..Default::default()
                    }),
                    spec: Some(core::PodSpec {
                        containers: vec![core::Container {
                            name: "c".into(),
                            image: Some("nginx".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        crate::defaults::apps::deployment(&mut d);
        d
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let mut errs = Errors::default();
        deployment(&deployment_with("a", "a"), &mut errs);
        assert!(errs.is_empty(), "{:?}", errs.0);
        deployment(&deployment_with("a", "b"), &mut errs);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`"#
            ]
        );
    }

    #[test]
    fn deployment_without_selector() {
        let mut d = deployment_with("a", "a");
        d.spec.as_mut().unwrap().selector = LabelSelector::default();
        let mut errs = Errors::default();
        deployment(&d, &mut errs);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "spec.selector: Required value".to_string(),
                r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`"#.to_string(),
            ]
        );
    }

    #[test]
    fn selector_is_immutable() {
        let old = deployment_with("a", "a");
        let new = deployment_with("b", "b");
        let mut errs = Errors::default();
        deployment_update(&new, &old, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            r#"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#
        );
    }

    #[test]
    fn negative_replicas() {
        let mut d = deployment_with("a", "a");
        d.spec.as_mut().unwrap().replicas = Some(-1);
        let mut errs = Errors::default();
        deployment(&d, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }
}
