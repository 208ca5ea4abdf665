//! Defaults of rbac.authorization.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::rbac::v1 as api;

/// Defaults of a Role.
pub fn role(_obj: &mut api::Role) {}

/// Defaults of a ClusterRole.
pub fn cluster_role(_obj: &mut api::ClusterRole) {}

/// Defaults of a RoleBinding.
pub fn role_binding(_obj: &mut api::RoleBinding) {}

/// Defaults of a ClusterRoleBinding.
pub fn cluster_role_binding(_obj: &mut api::ClusterRoleBinding) {}
