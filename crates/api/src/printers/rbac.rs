//! Tables of rbac.authorization.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::rbac::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{
    AGE, Column, DEFAULT_COLUMNS, NAME, age_cell, col, default_cells, name_cell, wide,
};

/// Columns of Role: upstream has no printer, so the default table.
pub const ROLE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Role.
pub fn role(obj: &api::Role, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ClusterRole: upstream has no printer, so the default table.
pub const CLUSTER_ROLE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ClusterRole.
pub fn cluster_role(obj: &api::ClusterRole, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of RoleBinding.
pub const ROLE_BINDING: &[Column] = &[
    NAME,
    col("Role", "string", "Role of the roleBinding"),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

/// The cells after the name of a binding: role, age, users, groups and
/// service accounts (as upstream's `rbac.SubjectsStrings`).
fn binding_cells(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    role_ref: &api::RoleRef,
    subjects: Option<&Vec<api::Subject>>,
    now: Timestamp,
) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for s in subjects.into_iter().flatten() {
        match s.kind.as_str() {
            "ServiceAccount" => sas.push(format!(
                "{}/{}",
                s.namespace.as_deref().unwrap_or(""),
                s.name
            )),
            "User" => users.push(s.name.clone()),
            "Group" => groups.push(s.name.clone()),
            _ => {}
        }
    }
    vec![
        name_cell(meta),
        Value::from(format!("{}/{}", role_ref.kind, role_ref.name)),
        age_cell(meta, now),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(sas.join(", ")),
    ]
}

/// Cells of one RoleBinding.
pub fn role_binding(obj: &api::RoleBinding, now: Timestamp) -> Vec<Value> {
    binding_cells(&obj.metadata, &obj.role_ref, obj.subjects.as_ref(), now)
}

/// Columns of ClusterRoleBinding.
pub const CLUSTER_ROLE_BINDING: &[Column] = &[
    NAME,
    col("Role", "string", "Role of the clusterRoleBinding"),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

/// Cells of one ClusterRoleBinding.
pub fn cluster_role_binding(obj: &api::ClusterRoleBinding, now: Timestamp) -> Vec<Value> {
    binding_cells(&obj.metadata, &obj.role_ref, obj.subjects.as_ref(), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use serde_json::json;

    fn subject(kind: &str, name: &str, namespace: Option<&str>) -> api::Subject {
        api::Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn binding_cells_split_subjects() {
        let rb = api::RoleBinding {
            metadata: ObjectMeta {
                name: Some("admins".into()),
                creation_timestamp: Some(Time("2024-05-01T11:59:30Z".parse().unwrap())),
                ..Default::default()
            },
            role_ref: api::RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: "admin".into(),
            },
            subjects: Some(vec![
                subject("User", "alice", None),
                subject("Group", "ops", None),
                subject("ServiceAccount", "ci", Some("build")),
                subject("User", "bob", None),
                subject("Other", "x", None),
            ]),
        };
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            role_binding(&rb, now),
            vec![
                json!("admins"),
                json!("ClusterRole/admin"),
                json!("30s"),
                json!("alice, bob"),
                json!("ops"),
                json!("build/ci"),
            ]
        );
        let crb = api::ClusterRoleBinding {
            metadata: rb.metadata.clone(),
            role_ref: rb.role_ref.clone(),
            subjects: None,
        };
        let cells = cluster_role_binding(&crb, now);
        assert_eq!(cells[3], json!(""));
        assert_eq!(cells[5], json!(""));
    }
}
