//! Validation of rbac.authorization.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::rbac::v1 as api;

use super::Errors;

/// Validate a Role.
pub fn role(_obj: &api::Role, _errs: &mut Errors) {}

/// Validate an update of a Role.
pub fn role_update(_new: &api::Role, _old: &api::Role, _errs: &mut Errors) {}

/// Validate a ClusterRole.
pub fn cluster_role(_obj: &api::ClusterRole, _errs: &mut Errors) {}

/// Validate an update of a ClusterRole.
pub fn cluster_role_update(_new: &api::ClusterRole, _old: &api::ClusterRole, _errs: &mut Errors) {}

/// Validate a RoleBinding.
pub fn role_binding(_obj: &api::RoleBinding, _errs: &mut Errors) {}

/// Validate an update of a RoleBinding.
pub fn role_binding_update(_new: &api::RoleBinding, _old: &api::RoleBinding, _errs: &mut Errors) {}

/// Validate a ClusterRoleBinding.
pub fn cluster_role_binding(_obj: &api::ClusterRoleBinding, _errs: &mut Errors) {}

/// Validate an update of a ClusterRoleBinding.
pub fn cluster_role_binding_update(
    _new: &api::ClusterRoleBinding,
    _old: &api::ClusterRoleBinding,
    _errs: &mut Errors,
) {
}
