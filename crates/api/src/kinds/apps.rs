//! apps/v1 kinds.

use k8s_openapi::api::apps::v1 as api;

use crate::registry::{NameRule, ResourceInfo, ScaleSpec, Strategy};

const fn apps(kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceInfo {
    ResourceInfo::new("apps", "v1", kind, plural, singular)
}

const SCALE: Option<ScaleSpec> = Some(ScaleSpec {
    spec_replicas: "/spec/replicas",
    status_replicas: "/status/replicas",
    selector: "/spec/selector",
});

/// Deployments.
pub struct Deployments;
impl Strategy for Deployments {
    type Object = api::Deployment;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["deploy"],
        categories: &["all"],
        status: true,
        generation: true,
        scale: SCALE,
        ..apps("Deployment", "deployments", "deployment")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::deployment(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    /// Annotation changes bump the generation too (they are copied to the
    /// ReplicaSets); spec changes are handled by the server.
    fn prepare_update(new: &mut Self::Object, old: &Self::Object) {
        if new.metadata.annotations != old.metadata.annotations {
            new.metadata.generation = Some(old.metadata.generation.unwrap_or(0) + 1);
        }
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::apps::deployment(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::apps::deployment_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::apps::DEPLOYMENT
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::deployment(obj, now)
    }
}

/// ReplicaSets.
pub struct ReplicaSets;
impl Strategy for ReplicaSets {
    type Object = api::ReplicaSet;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["rs"],
        categories: &["all"],
        status: true,
        generation: true,
        scale: SCALE,
        ..apps("ReplicaSet", "replicasets", "replicaset")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::replica_set(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::apps::replica_set(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::apps::replica_set_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::apps::REPLICA_SET
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::replica_set(obj, now)
    }
}

/// StatefulSets.
pub struct StatefulSets;
impl Strategy for StatefulSets {
    type Object = api::StatefulSet;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["sts"],
        categories: &["all"],
        status: true,
        generation: true,
        scale: SCALE,
        name_rule: NameRule::Label,
        ..apps("StatefulSet", "statefulsets", "statefulset")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::stateful_set(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::apps::stateful_set(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::apps::stateful_set_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::apps::STATEFUL_SET
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::stateful_set(obj, now)
    }
}

/// DaemonSets.
pub struct DaemonSets;
impl Strategy for DaemonSets {
    type Object = api::DaemonSet;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["ds"],
        categories: &["all"],
        status: true,
        generation: true,
        ..apps("DaemonSet", "daemonsets", "daemonset")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::daemon_set(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
        let given = template_generation(obj).unwrap_or(0);
        set_template_generation(obj, given.max(1));
    }

    /// The template generation (exposed as an annotation) comes from the
    /// stored object and grows when the pod template changes.
    fn prepare_update(new: &mut Self::Object, old: &Self::Object) {
        let mut generation = template_generation(old).unwrap_or(1);
        let template = |d: &api::DaemonSet| d.spec.as_ref().map(|s| s.template.clone());
        if template(new) != template(old) {
            generation += 1;
        }
        set_template_generation(new, generation);
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::apps::daemon_set(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::apps::daemon_set_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::apps::DAEMON_SET
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::daemon_set(obj, now)
    }
}

/// The annotation apps/v1 exposes a DaemonSet's template generation in.
pub const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

fn template_generation(ds: &api::DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(TEMPLATE_GENERATION))
        .and_then(|v| v.parse().ok())
}

fn set_template_generation(ds: &mut api::DaemonSet, generation: i64) {
    ds.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(TEMPLATE_GENERATION.into(), generation.to_string());
}

/// ControllerRevisions.
pub struct ControllerRevisions;
impl Strategy for ControllerRevisions {
    type Object = api::ControllerRevision;
    const INFO: ResourceInfo = apps(
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
    );

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::controller_revision(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::apps::controller_revision(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::apps::controller_revision_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::apps::CONTROLLER_REVISION
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::controller_revision(obj, now)
    }
}
