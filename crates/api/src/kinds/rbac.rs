//! rbac.authorization.k8s.io/v1 kinds.

use k8s_openapi::api::rbac::v1 as api;

use crate::registry::{NameRule, ResourceInfo, Scope, Strategy};

const fn rbac(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    scope: Scope,
) -> ResourceInfo {
    ResourceInfo {
        scope,
        name_rule: NameRule::PathSegment,
        ..ResourceInfo::new("rbac.authorization.k8s.io", "v1", kind, plural, singular)
    }
}

/// Roles.
pub struct Roles;
impl Strategy for Roles {
    type Object = api::Role;
    const INFO: ResourceInfo = rbac("Role", "roles", "role", Scope::Namespaced);

    fn default(obj: &mut Self::Object) {
        crate::defaults::rbac::role(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::rbac::role(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::rbac::role_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::rbac::ROLE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::rbac::role(obj, now)
    }
}

/// ClusterRoles.
pub struct ClusterRoles;
impl Strategy for ClusterRoles {
    type Object = api::ClusterRole;
    const INFO: ResourceInfo = rbac("ClusterRole", "clusterroles", "clusterrole", Scope::Cluster);

    fn default(obj: &mut Self::Object) {
        crate::defaults::rbac::cluster_role(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::rbac::cluster_role(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::rbac::cluster_role_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::rbac::CLUSTER_ROLE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::rbac::cluster_role(obj, now)
    }
}

/// RoleBindings.
pub struct RoleBindings;
impl Strategy for RoleBindings {
    type Object = api::RoleBinding;
    const INFO: ResourceInfo = rbac(
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        Scope::Namespaced,
    );

    fn default(obj: &mut Self::Object) {
        crate::defaults::rbac::role_binding(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::rbac::role_binding(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::rbac::role_binding_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::rbac::ROLE_BINDING
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::rbac::role_binding(obj, now)
    }
}

/// ClusterRoleBindings.
pub struct ClusterRoleBindings;
impl Strategy for ClusterRoleBindings {
    type Object = api::ClusterRoleBinding;
    const INFO: ResourceInfo = rbac(
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        Scope::Cluster,
    );

    fn default(obj: &mut Self::Object) {
        crate::defaults::rbac::cluster_role_binding(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::rbac::cluster_role_binding(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::rbac::cluster_role_binding_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::rbac::CLUSTER_ROLE_BINDING
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::rbac::cluster_role_binding(obj, now)
    }
}
