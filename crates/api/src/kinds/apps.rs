//! apps/v1 kinds.

use k8s_openapi::api::apps::v1 as api;

use crate::registry::{ResourceInfo, ScaleSpec, Strategy};

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
        fields: &[crate::registry::SelectableField {
            label: "status.replicas",
            pointer: "/status/replicas",
            default: "0",
        }],
        ..apps("ReplicaSet", "replicasets", "replicaset")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::replica_set(obj)
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
        ..apps("StatefulSet", "statefulsets", "statefulset")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::apps::stateful_set(obj)
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
