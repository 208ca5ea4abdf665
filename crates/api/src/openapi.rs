//! OpenAPI v3 documents (`/openapi/v3`), generated from the registry and
//! the API types themselves.
//!
//! `/openapi/v3` is an index of documents, one per group-version (`api/v1`,
//! `apis/apps/v1`), plus `api`, `apis` and one per group as upstream. Each
//! index entry's URL carries the document's hash, so clients (kubectl)
//! cache a document until it changes.
//!
//! A group-version's document has a path for every operation the server
//! serves on its resources ([`paths`]) and the schemas of their kinds and
//! everything those refer to ([`schemas`]): each kind's schema comes from
//! the kind itself ([`Kind::openapi_schema`]: the k8s-openapi type a
//! built-in kind stores), with upstream's descriptions; merge extensions
//! come from the table the server patches with.
//!
//! Generating `api/v1` takes a few milliseconds, and kubectl reads the
//! index before every `apply`, `create -f` and `explain`: documents are
//! kept, each with the served entries it was built from, and rebuilt only
//! when those change (a custom resource definition added, changed or
//! removed replaces its entries).
//!
//! [`Kind::openapi_schema`]: crate::registry::Kind::openapi_schema

mod paths;
mod schemas;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroup, APIGroupList, APIVersions};
use serde_json::{Map, Value, json};

use crate::registry::{Registry, Served};

pub use schemas::REF_PREFIX;

/// One document, serialized, with the hash its URL carries.
#[derive(Debug)]
pub struct Document {
    /// Upper-case hex, as upstream's (which is a SHA-512; this is not).
    pub hash: String,
    /// The JSON.
    pub json: Vec<u8>,
}

impl Document {
    fn new(value: &Value) -> Document {
        let json = serde_json::to_vec(value).unwrap_or_default();
        Document {
            hash: hash(&json),
            json,
        }
    }
}

/// A 128-bit hash of a document: two SipHashes, keyed differently.
fn hash(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(32);
    for salt in [0u8, 1] {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        bytes.hash(&mut h);
        out.push_str(&format!("{:016X}", h.finish()));
    }
    out
}

/// The document paths of the index: `api`, `api/v1`, `apis`,
/// `apis/<group>`, `apis/<group>/<version>`.
fn document_paths(registry: &Registry) -> Vec<String> {
    let mut paths = Vec::new();
    for (group, versions) in registry.groups() {
        if group.is_empty() {
            paths.push("api".to_owned());
            paths.extend(versions.iter().map(|v| format!("api/{v}")));
        } else {
            paths.push(format!("apis/{group}"));
            paths.extend(versions.iter().map(|v| format!("apis/{group}/{v}")));
        }
    }
    paths.push("apis".to_owned());
    paths
}

/// The `/openapi/v3` index: every document's path and URL.
pub fn index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let names = document_paths(registry);
    for path in &names {
        if let Some(doc) = document(registry, path) {
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", doc.hash)}),
            );
        }
    }
    // Forget documents of group-versions no longer served.
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|path, _| names.contains(path));
    json!({ "paths": paths })
}

/// The document at `path` (`api/v1`, `apis/apps/v1`, `api`, `apis`,
/// `apis/apps`), if there is one.
pub fn document(registry: &Registry, path: &str) -> Option<Arc<Document>> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["api"] => Some(root(path, || {
            root_document(
                "/api/",
                "getCoreAPIVersions",
                "core",
                schema_of::<APIVersions>(),
            )
        })),
        ["apis"] => Some(root(path, || {
            root_document(
                "/apis/",
                "getAPIVersions",
                "apis",
                schema_of::<APIGroupList>(),
            )
        })),
        ["apis", group] => {
            registry
                .groups()
                .iter()
                .any(|(g, _)| g == group && !g.is_empty())
                .then_some(())?;
            Some(root(path, || {
                root_document(
                    &format!("/apis/{group}/"),
                    &format!("get{}APIGroup", paths::group_id(group)),
                    group,
                    schema_of::<APIGroup>(),
                )
            }))
        }
        ["api", version] => group_version(registry, "", version),
        ["apis", group, version] => group_version(registry, group, version),
        _ => None,
    }
}

/// A document that depends on its path only, kept once built.
fn root(path: &str, build: impl FnOnce() -> Value) -> Arc<Document> {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(path.to_owned())
        .or_insert_with(|| Cached {
            served: Vec::new(),
            doc: Arc::new(Document::new(&build())),
        })
        .doc
        .clone()
}

/// A type's schema and the definitions it needs.
fn schema_of<T: k8s_openapi::schemars::JsonSchema>() -> (String, Map<String, Value>) {
    let mut s = schemas::Schemas::new();
    let name = s.meta::<T>();
    (name, s.finish())
}

/// The document of `/api/`, `/apis/` or `/apis/<group>/`: one `GET`.
fn root_document(
    path: &str,
    id: &str,
    tag: &str,
    (schema, defs): (String, Map<String, Value>),
) -> Value {
    let op = json!({
        "description": "get available API versions",
        "operationId": id,
        "responses": {
            "200": {
                "content": {
                    "application/json": {"schema": schemas::reference(&schema)},
                    "application/vnd.kubernetes.protobuf": {"schema": schemas::reference(&schema)},
                    "application/yaml": {"schema": schemas::reference(&schema)},
                },
                "description": "OK",
            },
            "401": {"description": "Unauthorized"},
        },
        "tags": [tag],
    });
    wrap(json!({ path: {"get": op} }), defs)
}

fn wrap(paths: Value, schemas: Map<String, Value>) -> Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                },
            },
        },
    })
}

/// A kept document and the served entries it was built from.
struct Cached {
    served: Vec<Served>,
    doc: Arc<Document>,
}

type Cache = Mutex<HashMap<String, Cached>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether two served entries are the same: same names, and the same
/// kind and conversion objects (the cache holds them, so their addresses
/// cannot be reused by others meanwhile).
fn same(a: &Served, b: &Served) -> bool {
    a.group == b.group
        && a.version == b.version
        && a.kind == b.kind
        && Arc::ptr_eq(&a.resource, &b.resource)
        && match (&a.conversion, &b.conversion) {
            (None, None) => true,
            (Some(x), Some(y)) => std::ptr::addr_eq(Arc::as_ptr(x), Arc::as_ptr(y)),
            _ => false,
        }
}

fn group_version(registry: &Registry, group: &str, version: &str) -> Option<Arc<Document>> {
    group_version_in(cache(), registry, group, version)
}

fn group_version_in(
    cache: &Cache,
    registry: &Registry,
    group: &str,
    version: &str,
) -> Option<Arc<Document>> {
    let mut served: Vec<Served> = registry
        .served()
        .iter()
        .filter(|s| s.group == group && s.version == version)
        .cloned()
        .collect();
    if served.is_empty() {
        return None;
    }
    served.sort_by_key(|s| s.plural());
    let key = if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    };
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = cache.get(&key)
        && c.served.len() == served.len()
        && c.served.iter().zip(&served).all(|(a, b)| same(a, b))
    {
        return Some(c.doc.clone());
    }
    let doc = Arc::new(Document::new(&build(group, version, &served)));
    cache.insert(
        key,
        Cached {
            served,
            doc: doc.clone(),
        },
    );
    Some(doc)
}

/// Build the document of one group-version.
fn build(group: &str, version: &str, served: &[Served]) -> Value {
    let mut schemas = schemas::Schemas::new();
    let common = schemas.common(group, version);
    let mut builder = paths::Builder::new(group, version, &common);
    builder.root();
    for s in served {
        builder.resource(s, &mut schemas);
    }
    let paths = builder.finish();
    wrap(Value::Object(paths), schemas.finish())
}

#[cfg(test)]
mod tests;
