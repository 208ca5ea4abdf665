//! The generic handlers: one code path for every kind, driven by the
//! registry. [`dispatch`] picks the verb; `read` serves get, list and watch
//! from the watch cache; `write` creates, updates, patches and deletes
//! through the store; `subresources` adds scale, binding and eviction.

mod read;
mod subresources;
pub(crate) mod table;
pub(crate) mod write;

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use http::Method;
use rkube_api::registry::{ResourceInfo, Served};
use rkube_api::status::Status;
use serde_json::{Value, json};

use crate::cache::ResourceCache;
use crate::object::CachedObject;
use crate::request::{Query, ResourcePath, Want};
use crate::response::{self, Response};
use crate::server::{ApiServer, User};

/// Everything a handler needs to know about its request.
pub struct Ctx {
    /// The server.
    pub server: Arc<ApiServer>,
    /// The served group-version-resource.
    pub served: Served,
    /// The URL's parts.
    pub path: ResourcePath,
    /// Query parameters.
    pub query: Query,
    /// The representation asked for.
    pub want: Want,
    /// Who is asking.
    pub user: User,
    /// The client's User-Agent (names the field manager when the request
    /// does not).
    pub user_agent: String,
    /// `Warning` headers for the response.
    pub warnings: Warnings,
}

/// Warnings collected while handling a request, sent as `Warning` headers.
pub type Warnings = Arc<std::sync::Mutex<Vec<String>>>;

impl Ctx {
    /// The kind's static description.
    pub fn info(&self) -> &ResourceInfo {
        self.served.info()
    }

    /// The kind's cache.
    pub fn cache(&self) -> Result<Arc<ResourceCache>, Status> {
        self.server
            .cache
            .resource(self.info())
            .ok_or_else(|| Status::internal(format!("no cache for {}", self.info().plural)))
    }

    /// The object's key suffix in the cache (`ns/name` or `name`).
    pub fn rest(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace.filter(|_| self.info().namespaced()) {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_owned(),
        }
    }

    /// The object's store key.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        self.info().key(namespace, name)
    }

    /// The URL's name (present for object requests).
    pub fn name(&self) -> &str {
        self.path.name.as_deref().unwrap_or("")
    }

    /// A 404 for the named object.
    pub fn not_found(&self, name: &str) -> Status {
        Status::not_found(self.info().group, self.info().plural, name)
    }

    /// A stored object (storage version, JSON) in the request's version.
    pub fn convert_out(&self, storage_json: &Bytes) -> Result<Bytes, Status> {
        if self.served.conversion.is_none() {
            return Ok(storage_json.clone());
        }
        let value: Value = serde_json::from_slice(storage_json).map_err(Status::internal)?;
        Ok(Bytes::from(
            serde_json::to_vec(&self.served.to_served(value)).map_err(Status::internal)?,
        ))
    }

    /// One object as the response wants it.
    pub fn object_response(&self, code: u16, obj: &CachedObject) -> Result<Response, Status> {
        self.object_bytes_response(code, &obj.json)
    }

    /// One object (storage-version JSON with resourceVersion) as the
    /// response wants it.
    pub fn object_bytes_response(
        &self,
        code: u16,
        storage_json: &Bytes,
    ) -> Result<Response, Status> {
        let json = self.convert_out(storage_json)?;
        match self.want {
            Want::Json => Ok(response::json(code, json)),
            Want::Table(version) => {
                let value: Value =
                    serde_json::from_slice(storage_json).map_err(Status::internal)?;
                let rv = value["metadata"]["resourceVersion"].clone();
                let table = table::build(
                    self,
                    version,
                    &[value],
                    json!({ "resourceVersion": rv }),
                    true,
                )?;
                Ok(response::json_value(code, &table))
            }
            Want::Metadata(version) => {
                let value: Value = serde_json::from_slice(&json).map_err(Status::internal)?;
                Ok(response::json_value(
                    code,
                    &partial_metadata(version, &value),
                ))
            }
        }
    }

    /// A list of objects as the response wants it.
    pub fn list_response(
        &self,
        objects: &[Arc<CachedObject>],
        revision: i64,
        cont: Option<String>,
        remaining: Option<usize>,
    ) -> Result<Response, Status> {
        let mut meta = json!({ "resourceVersion": revision.to_string() });
        if let Some(c) = cont {
            meta["continue"] = Value::from(c);
        }
        if let Some(r) = remaining {
            meta["remainingItemCount"] = Value::from(r);
        }
        match self.want {
            Want::Json => {
                let header = format!(
                    "{{\"apiVersion\":{},\"kind\":\"{}List\",\"metadata\":{},\"items\":[",
                    Value::from(self.served.api_version()),
                    self.served.kind,
                    meta
                );
                let size: usize = objects.iter().map(|o| o.json.len() + 1).sum();
                let mut out = BytesMut::with_capacity(header.len() + size + 2);
                out.put_slice(header.as_bytes());
                for (i, obj) in objects.iter().enumerate() {
                    if i > 0 {
                        out.put_u8(b',');
                    }
                    out.put_slice(&self.convert_out(&obj.json)?);
                }
                out.put_slice(b"]}");
                Ok(response::json(200, out.freeze()))
            }
            Want::Table(version) => {
                let values = objects
                    .iter()
                    .map(|o| o.value())
                    .collect::<Result<Vec<_>, _>>()?;
                let table = table::build(self, version, &values, meta, true)?;
                Ok(response::json_value(200, &table))
            }
            Want::Metadata(version) => {
                let items: Vec<Value> = objects
                    .iter()
                    .map(|o| {
                        let v: Value = serde_json::from_slice(&self.convert_out(&o.json)?)
                            .map_err(Status::internal)?;
                        Ok(partial_metadata(version, &v))
                    })
                    .collect::<Result<_, Status>>()?;
                Ok(response::json_value(
                    200,
                    &json!({
                        "kind": "PartialObjectMetadataList",
                        "apiVersion": format!("meta.k8s.io/{version}"),
                        "metadata": meta,
                        "items": items,
                    }),
                ))
            }
        }
    }
}

/// `PartialObjectMetadata` of an object.
pub fn partial_metadata(version: &str, obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Route a resource request to its handler.
pub async fn dispatch(
    ctx: Ctx,
    method: &Method,
    body: Bytes,
    content_type: Option<String>,
) -> Result<Response, Status> {
    let info = *ctx.info();
    // Namespaced kinds need a namespace for object requests; cluster-scoped
    // kinds never have one.
    if ctx.path.namespace.is_some() && !info.namespaced() {
        return Err(Status::not_found("", "", "")
            .with_message("the server could not find the requested resource"));
    }
    if info.namespaced()
        && ctx.path.name.is_some()
        && ctx.path.namespace.is_none()
        && info.plural != "namespaces"
    {
        return Err(Status::not_found("", "", "")
            .with_message("the server could not find the requested resource"));
    }
    let sub = ctx.path.sub.clone();
    let warnings = ctx.warnings.clone();
    let mut result = route(ctx, method, body, content_type, &info, sub.as_deref()).await;
    if let Ok(resp) = &mut result {
        for w in warnings.lock().map(|w| w.clone()).unwrap_or_default() {
            let text = format!("299 - {}", serde_json::Value::from(w));
            if let Ok(v) = http::HeaderValue::from_str(&text) {
                resp.headers_mut().append("Warning", v);
            }
        }
    }
    result
}

async fn route(
    ctx: Ctx,
    method: &Method,
    body: Bytes,
    content_type: Option<String>,
    info: &ResourceInfo,
    sub: Option<&str>,
) -> Result<Response, Status> {
    let info = *info;
    match (method, ctx.path.name.is_some(), sub) {
        (&Method::GET, false, None) => {
            if ctx.query.flag("watch") {
                read::watch(ctx).await
            } else {
                read::list(ctx).await
            }
        }
        (&Method::GET, true, None | Some("status")) => read::get(ctx).await,
        (&Method::GET, true, Some("scale")) if info.scale.is_some() => {
            subresources::get_scale(ctx).await
        }
        (&Method::POST, false, None) => write::create(ctx, body, content_type.as_deref()).await,
        (&Method::POST, true, Some("binding")) if info.plural == "pods" => {
            subresources::bind(ctx, body).await
        }
        (&Method::POST, true, Some("eviction")) if info.plural == "pods" => {
            subresources::evict(ctx, body).await
        }
        (&Method::PUT, true, None) => {
            write::update(ctx, body, content_type.as_deref(), write::Target::Main).await
        }
        (&Method::PUT, true, Some("status")) if info.status => {
            write::update(ctx, body, content_type.as_deref(), write::Target::Status).await
        }
        (&Method::PUT, true, Some("finalize")) if info.plural == "namespaces" => {
            write::update(ctx, body, content_type.as_deref(), write::Target::Finalize).await
        }
        (&Method::PUT, true, Some("scale")) if info.scale.is_some() => {
            subresources::update_scale(ctx, body, None).await
        }
        (&Method::PATCH, true, None) => {
            write::patch(ctx, body, content_type.as_deref(), write::Target::Main).await
        }
        (&Method::PATCH, true, Some("status")) if info.status => {
            write::patch(ctx, body, content_type.as_deref(), write::Target::Status).await
        }
        (&Method::PATCH, true, Some("scale")) if info.scale.is_some() => {
            subresources::update_scale(ctx, body, Some(content_type.unwrap_or_default())).await
        }
        (&Method::DELETE, true, None) => write::delete(ctx, body).await,
        (&Method::DELETE, false, None) => write::delete_collection(ctx, body).await,
        (_, _, Some(sub)) if !known_subresource(&info, sub) => Err(Status::not_found("", "", "")
            .with_message("the server could not find the requested resource")),
        (method, _, _) => Err(Status::method_not_allowed(
            info.group,
            info.plural,
            &verb_name(method, ctx.path.name.is_some()),
        )),
    }
}

fn known_subresource(info: &ResourceInfo, sub: &str) -> bool {
    (sub == "status" && info.status)
        || (sub == "scale" && info.scale.is_some())
        || info.subresources.iter().any(|s| s.name == sub)
}

/// The verb a method means, as upstream names it in errors and metrics.
pub fn verb_name(method: &Method, named: bool) -> String {
    match (method.as_str(), named) {
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
    .to_owned()
}

/// Small helper: replace a Status's message.
trait WithMessage {
    fn with_message(self, message: &str) -> Status;
}

impl WithMessage for Status {
    fn with_message(mut self, message: &str) -> Status {
        self.message = message.to_owned();
        self.details = Default::default();
        self
    }
}
