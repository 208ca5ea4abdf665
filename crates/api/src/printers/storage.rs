//! Tables of storage.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::storage::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{AGE, Column, NAME, age_cell, col};

/// Columns of StorageClass.
pub const STORAGE_CLASS: &[Column] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        "Indicates the type of the provisioner.",
    ),
    col(
        "ReclaimPolicy",
        "string",
        "Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy. Defaults to Delete.",
    ),
    col(
        "VolumeBindingMode",
        "string",
        "VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used.",
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        "AllowVolumeExpansion shows whether the storage class allow volume expand",
    ),
    AGE,
];

/// Cells of one StorageClass.
pub fn storage_class(obj: &api::StorageClass, now: Timestamp) -> Vec<Value> {
    let is_default = obj.metadata.annotations.as_ref().is_some_and(|a| {
        a.get("storageclass.kubernetes.io/is-default-class")
            .is_some_and(|v| v == "true")
            || a.get("storageclass.beta.kubernetes.io/is-default-class")
                .is_some_and(|v| v == "true")
    });
    let mut name = obj.metadata.name.clone().unwrap_or_default();
    if is_default {
        name.push_str(" (default)");
    }
    vec![
        Value::from(name),
        Value::from(obj.provisioner.clone()),
        Value::from(
            obj.reclaim_policy
                .clone()
                .unwrap_or_else(|| "Delete".into()),
        ),
        Value::from(
            obj.volume_binding_mode
                .clone()
                .unwrap_or_else(|| "Immediate".into()),
        ),
        // A boolean cell in a string column, as upstream.
        Value::from(obj.allow_volume_expansion.unwrap_or(false)),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    #[test]
    fn storage_class_cells() {
        let mut sc = api::StorageClass {
            metadata: ObjectMeta {
                name: Some("standard".into()),
                annotations: Some(
                    [(
                        "storageclass.kubernetes.io/is-default-class".to_string(),
                        "true".to_string(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            provisioner: "rancher.io/local-path".into(),
            ..Default::default()
        };
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            storage_class(&sc, now),
            vec![
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("Immediate"),
                json!(false),
                json!("<unknown>"),
            ]
        );
        sc.metadata.annotations = None;
        sc.reclaim_policy = Some("Retain".into());
        sc.volume_binding_mode = Some("WaitForFirstConsumer".into());
        sc.allow_volume_expansion = Some(true);
        let cells = storage_class(&sc, now);
        assert_eq!(cells[0], json!("standard"));
        assert_eq!(cells[2], json!("Retain"));
        assert_eq!(cells[3], json!("WaitForFirstConsumer"));
        assert_eq!(cells[4], json!(true));
    }
}
