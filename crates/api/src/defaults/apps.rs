//! Defaults of apps/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::apps::v1 as api;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::{self, set, set_str};

/// Defaults of a Deployment.
pub fn deployment(obj: &mut api::Deployment) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set(&mut spec.replicas, 1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    set_str(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        set(&mut ru.max_unavailable, IntOrString::String("25%".into()));
        set(&mut ru.max_surge, IntOrString::String("25%".into()));
    }
    set(&mut spec.revision_history_limit, 10);
    set(&mut spec.progress_deadline_seconds, 600);
    pod::pod_template_spec(&mut spec.template);
}

/// Defaults of a ReplicaSet.
pub fn replica_set(obj: &mut api::ReplicaSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set(&mut spec.replicas, 1);
    if let Some(t) = &mut spec.template {
        pod::pod_template_spec(t);
    }
}

/// Defaults of a StatefulSet.
pub fn stateful_set(obj: &mut api::StatefulSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set_str(&mut spec.pod_management_policy, "OrderedReady");
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    if us.type_.as_deref().is_none_or(str::is_empty) {
        us.type_ = Some("RollingUpdate".into());
        set(&mut us.rolling_update, Default::default());
    }
    if us.type_.as_deref() == Some("RollingUpdate")
        && let Some(ru) = &mut us.rolling_update
    {
        set(&mut ru.partition, 0);
    }
    let policy = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(Default::default);
    set_str(&mut policy.when_deleted, "Retain");
    set_str(&mut policy.when_scaled, "Retain");
    set(&mut spec.replicas, 1);
    set(&mut spec.revision_history_limit, 10);
    pod::pod_template_spec(&mut spec.template);
    for claim in spec.volume_claim_templates.iter_mut().flatten() {
        super::core::persistent_volume_claim(claim);
    }
}

/// Defaults of a DaemonSet.
pub fn daemon_set(obj: &mut api::DaemonSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    set_str(&mut us.type_, "RollingUpdate");
    if us.type_.as_deref() == Some("RollingUpdate") {
        let ru = us.rolling_update.get_or_insert_with(Default::default);
        set(&mut ru.max_unavailable, IntOrString::Int(1));
        set(&mut ru.max_surge, IntOrString::Int(0));
    }
    set(&mut spec.revision_history_limit, 10);
    pod::pod_template_spec(&mut spec.template);
}

/// Defaults of a ControllerRevision (none).
pub fn controller_revision(_obj: &mut api::ControllerRevision) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_defaults() {
        let mut d = api::Deployment::default();
        deployment(&mut d);
        let spec = d.spec.unwrap();
        assert_eq!(spec.replicas, Some(1));
        assert_eq!(spec.revision_history_limit, Some(10));
        assert_eq!(spec.progress_deadline_seconds, Some(600));
        let ru = spec.strategy.unwrap().rolling_update.unwrap();
        assert_eq!(ru.max_surge, Some(IntOrString::String("25%".into())));
        assert_eq!(
            spec.template.spec.unwrap().restart_policy.as_deref(),
            Some("Always")
        );

        let mut s = api::StatefulSet::default();
        stateful_set(&mut s);
        let spec = s.spec.unwrap();
        assert_eq!(spec.pod_management_policy.as_deref(), Some("OrderedReady"));
        let us = spec.update_strategy.unwrap();
        assert_eq!(us.rolling_update.unwrap().partition, Some(0));

        let mut ds = api::DaemonSet::default();
        daemon_set(&mut ds);
        let ru = ds
            .spec
            .unwrap()
            .update_strategy
            .unwrap()
            .rolling_update
            .unwrap();
        assert_eq!(ru.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(ru.max_surge, Some(IntOrString::Int(0)));
    }
}
