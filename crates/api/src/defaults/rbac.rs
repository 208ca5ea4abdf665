//! Defaults of rbac.authorization.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::rbac::v1 as api;

const GROUP: &str = "rbac.authorization.k8s.io";

fn role_ref(r: &mut api::RoleRef) {
    if r.api_group.is_empty() {
        r.api_group = GROUP.into();
    }
}

fn subjects(list: &mut Option<Vec<api::Subject>>) {
    for s in list.iter_mut().flatten() {
        if s.api_group.as_deref().unwrap_or("").is_empty()
            && matches!(s.kind.as_str(), "User" | "Group")
        {
            s.api_group = Some(GROUP.into());
        }
    }
}

/// Defaults of a Role (none).
pub fn role(_obj: &mut api::Role) {}

/// Defaults of a ClusterRole (none).
pub fn cluster_role(_obj: &mut api::ClusterRole) {}

/// Defaults of a RoleBinding: the RBAC API group on the role reference and
/// user/group subjects.
pub fn role_binding(obj: &mut api::RoleBinding) {
    role_ref(&mut obj.role_ref);
    subjects(&mut obj.subjects);
}

/// Defaults of a ClusterRoleBinding, as [`role_binding`].
pub fn cluster_role_binding(obj: &mut api::ClusterRoleBinding) {
    role_ref(&mut obj.role_ref);
    subjects(&mut obj.subjects);
}
