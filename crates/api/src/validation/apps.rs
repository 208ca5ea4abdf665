//! Validation of apps/v1 kinds, as upstream's.

use k8s_openapi::api::apps::v1 as api;

use super::Errors;

/// Validate a Deployment.
pub fn deployment(_obj: &api::Deployment, _errs: &mut Errors) {}

/// Validate an update of a Deployment.
pub fn deployment_update(_new: &api::Deployment, _old: &api::Deployment, _errs: &mut Errors) {}

/// Validate a ReplicaSet.
pub fn replica_set(_obj: &api::ReplicaSet, _errs: &mut Errors) {}

/// Validate an update of a ReplicaSet.
pub fn replica_set_update(_new: &api::ReplicaSet, _old: &api::ReplicaSet, _errs: &mut Errors) {}

/// Validate a StatefulSet.
pub fn stateful_set(_obj: &api::StatefulSet, _errs: &mut Errors) {}

/// Validate an update of a StatefulSet.
pub fn stateful_set_update(_new: &api::StatefulSet, _old: &api::StatefulSet, _errs: &mut Errors) {}

/// Validate a DaemonSet.
pub fn daemon_set(_obj: &api::DaemonSet, _errs: &mut Errors) {}

/// Validate an update of a DaemonSet.
pub fn daemon_set_update(_new: &api::DaemonSet, _old: &api::DaemonSet, _errs: &mut Errors) {}

/// Validate a ControllerRevision.
pub fn controller_revision(_obj: &api::ControllerRevision, _errs: &mut Errors) {}

/// Validate an update of a ControllerRevision.
pub fn controller_revision_update(
    _new: &api::ControllerRevision,
    _old: &api::ControllerRevision,
    _errs: &mut Errors,
) {
}
