//! Server-side Tables: the kind's columns and cells, with each row's object
//! as `includeObject` asks (PartialObjectMetadata by default).

use rkube_api::meta::now;
use rkube_api::status::Status;
use serde_json::{Value, json};

use super::{Ctx, partial_metadata};

/// A Table of `objects` (storage-version JSON values).
pub fn build(
    ctx: &Ctx,
    version: &str,
    objects: &[Value],
    metadata: Value,
    headers: bool,
) -> Result<Value, Status> {
    let include = ctx.query.get("includeObject").unwrap_or("Metadata");
    if !matches!(include, "Metadata" | "Object" | "None") {
        return Err(Status::bad_request(format!(
            "Unable to convert to Table as requested: includeObject: Invalid value: {include:?}: must be 'Metadata', 'Object', 'None', or empty"
        )));
    }
    let kind = &ctx.served.resource.kind;
    let now = now();
    let mut rows = Vec::with_capacity(objects.len());
    for obj in objects {
        let cells = kind.cells(obj, now)?;
        let object = match include {
            "None" => Value::Null,
            "Object" => ctx.served.to_served(obj.clone()),
            _ => partial_metadata(version, obj),
        };
        rows.push(json!({"cells": cells, "object": object}));
    }
    let columns = if headers {
        serde_json::to_value(kind.columns()).map_err(Status::internal)?
    } else {
        Value::Null
    };
    Ok(json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }))
}
