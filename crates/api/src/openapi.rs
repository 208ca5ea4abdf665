//! OpenAPI v3 documents (`/openapi/v3`), generated from the registry and
//! the API types themselves.

use serde_json::{Value, json};

use crate::registry::Registry;

/// The `/openapi/v3` index: every group-version's document path.
pub fn index(_registry: &Registry) -> Value {
    json!({"paths": {}})
}

/// The document of one group-version (`api/v1`, `apis/apps/v1`), with the
/// hash clients cache it by.
pub fn document(_registry: &Registry, _path: &str) -> Option<Value> {
    None
}
