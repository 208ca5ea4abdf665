//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`):
//! the `k8s\0` envelope around an `Unknown` message whose `raw` bytes are
//! the object in the API's protobuf schema.

use serde_json::Value;

use crate::status::Status;

/// Decode a protobuf request body into the object's JSON form.
pub fn decode(_body: &[u8]) -> Result<Value, Status> {
    Err(Status::unsupported_media_type(&["application/json", "application/yaml"]))
}
