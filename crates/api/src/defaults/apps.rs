//! Defaults of apps/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::apps::v1 as api;

/// Defaults of a Deployment.
pub fn deployment(_obj: &mut api::Deployment) {}

/// Defaults of a ReplicaSet.
pub fn replica_set(_obj: &mut api::ReplicaSet) {}

/// Defaults of a StatefulSet.
pub fn stateful_set(_obj: &mut api::StatefulSet) {}

/// Defaults of a DaemonSet.
pub fn daemon_set(_obj: &mut api::DaemonSet) {}

/// Defaults of a ControllerRevision.
pub fn controller_revision(_obj: &mut api::ControllerRevision) {}
