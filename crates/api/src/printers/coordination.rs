//! Tables of coordination.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::coordination::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of Lease.
pub const LEASE: &[Column] = &[
    NAME,
    col(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

/// Cells of one Lease.
pub fn lease(obj: &api::Lease, now: Timestamp) -> Vec<Value> {
    let holder = obj
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default();
    vec![
        name_cell(&obj.metadata),
        Value::from(holder),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    #[test]
    fn lease_cells() {
        let mut l = api::Lease {
            metadata: ObjectMeta {
                name: Some("node-1".into()),
                ..Default::default()
            },
            spec: None,
        };
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(lease(&l, now)[1], json!(""));
        l.spec = Some(api::LeaseSpec {
            holder_identity: Some("node-1".into()),
            ..Default::default()
        });
        assert_eq!(lease(&l, now)[1], json!("node-1"));
    }
}
