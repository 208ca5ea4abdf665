//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
//! Kubernetes' strategic merge patch, over JSON values.

#[cfg(test)]
mod proptests;
pub mod schema;
mod schema_table;
pub mod strategic;

use serde_json::Value;

use crate::status::Status;

/// The patch formats, by content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
}

/// Every patch content type the server accepts, for 415 answers.
pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

impl PatchType {
    /// The patch type of a Content-Type header (parameters ignored).
    pub fn from_content_type(content_type: Option<&str>) -> Result<PatchType, Status> {
        match content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
        {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            _ => Err(Status::unsupported_media_type(PATCH_TYPES)),
        }
    }
}

/// Apply a patch to an object of type `schema`.
pub fn apply(
    kind: PatchType,
    mut original: Value,
    patch: &Value,
    schema: Option<&schema::TypeDef>,
) -> Result<Value, Status> {
    match kind {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(Status::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            json_patch::merge(&mut original, patch);
            Ok(original)
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
                Status::bad_request(format!("json: cannot unmarshal the patch: {e}"))
            })?;
            json_patch::patch(&mut original, &ops).map_err(|e| {
                Status::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            Ok(original)
        }
        PatchType::Strategic => {
            strategic::apply(original, patch, schema).map_err(|e| match e.code {
                400 => Status::bad_request(e.message),
                code => Status::new(code, "", e.message),
            })
        }
    }
}
