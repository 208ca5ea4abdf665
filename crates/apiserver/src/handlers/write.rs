//! Create, update (PUT), patch, delete and deletecollection: the one write
//! path every kind goes through.
//!
//! Every write is a compare-and-swap on the store: read the current object
//! (from the cache, consistent), compute the new one, write it if nobody
//! changed the object meanwhile; a conflict the client did not cause (no
//! resourceVersion of its own) is retried with the newer object the store
//! handed back. The cache learns of the write through the store's watch,
//! like any other change; handlers never touch it.

use std::sync::Arc;

use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use rkube_api::managed::{self, Manager, Part};
use rkube_api::meta::{generate_name, new_uid, now};
use rkube_api::patch::PatchType;
use rkube_api::registry::{Operation, ResourceInfo};
use rkube_api::status::{Cause, Details, Status, success_status};
use rkube_api::validation::{ErrorType, FieldError};
use rkube_store::Error as StoreError;
use serde_json::{Value, json};

use super::Ctx;
use crate::object::{CachedObject, Filter};
use crate::response::Response;

/// The most attempts at a write that keeps conflicting with others.
const MAX_ATTEMPTS: usize = 16;

/// Which part of an object a PUT or PATCH targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The object itself: status changes are ignored.
    Main,
    /// `/status`: only status changes.
    Status,
    /// `/finalize` (namespaces): only spec.finalizers changes.
    Finalize,
}

/// How a write's field ownership is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// A non-apply write: the manager takes the fields it changed.
    Update,
    /// Server-side apply: managedFields were already computed.
    Applied,
}

/// Check the object for fields its type does not know, as
/// `?fieldValidation=` asks: `Strict` fails (400), `Warn` (the default)
/// adds warnings, `Ignore` does nothing. Unknown fields never reach the
/// store either way.
pub fn check_fields(ctx: &Ctx, obj: &mut Value) -> Result<(), Status> {
    let mode = ctx.query.get("fieldValidation").unwrap_or("Warn");
    match mode {
        "Ignore" => return Ok(()),
        "Warn" | "Strict" => {}
        other => {
            return Err(Status::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
            )));
        }
    }
    // managedFields entries are checked by hand: decoding them typed
    // would copy every fieldsV1 tree.
    let managed = managed::take_managed_fields(obj);
    let mut unknown = ctx.served.resource.kind.unknown_fields(obj);
    if let Some(list) = &managed {
        unknown.extend(managed::unknown_entry_fields(list));
    }
    managed::restore_managed_fields(obj, managed);
    if unknown.is_empty() {
        return Ok(());
    }
    let messages: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    if mode == "Strict" {
        return Err(Status::bad_request(format!(
            "strict decoding error: {}",
            messages.join(", ")
        )));
    }
    if let Ok(mut w) = ctx.warnings.lock() {
        w.extend(messages);
    }
    Ok(())
}

/// The field manager of a request: `?fieldManager=`, else the client's
/// User-Agent up to its first `/` (as upstream).
pub fn manager(ctx: &Ctx, operation: &'static str, target: Target) -> Result<Manager, Status> {
    let name = match ctx.query.get("fieldManager") {
        Some(m) => m.to_owned(),
        None => ctx.user_agent.split('/').next().unwrap_or("").to_owned(),
    };
    if name.len() > 128 {
        return Err(Status::bad_request(
            "fieldManager: Too long: may not be more than 128 bytes",
        ));
    }
    Ok(Manager {
        name,
        operation,
        api_version: ctx.served.api_version(),
        time: rkube_api::table::format_time(now()),
        subresource: match ctx.path.sub.as_deref() {
            Some(sub @ ("status" | "scale")) => Some(sub.to_owned()),
            _ => (target == Target::Status).then(|| "status".to_owned()),
        },
    })
}

/// Which part of the object a target's writes own.
fn part(info: &ResourceInfo, target: Target) -> Part {
    match target {
        Target::Status => Part::Status,
        _ if info.status => Part::Main,
        _ => Part::Whole,
    }
}

/// The storage version's type, for merges and ownership.
fn storage_schema(info: &ResourceInfo) -> Option<&'static rkube_api::patch::schema::TypeDef> {
    rkube_api::patch::schema::for_kind(info.group, info.version, info.kind)
}

/// Parse a request body as a JSON object (400 otherwise).
pub fn decode_object(
    body: &[u8],
    content_type: Option<&str>,
    expected_kind: &str,
) -> Result<Value, Status> {
    let media = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    if media == "application/vnd.kubernetes.protobuf" {
        return rkube_api::protobuf::decode(body);
    }
    if !matches!(media, "application/json" | "" | "*/*") {
        return Err(Status::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ]));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let summary = if body.is_empty() {
            "<empty>".to_owned()
        } else if body.first() == Some(&b'{') {
            let head = String::from_utf8_lossy(&body[..body.len().min(30)]).into_owned();
            if body.len() > 30 { format!("{head} ...") } else { head }
        } else {
            let hex: String = body.iter().take(30).map(|b| format!("{b:02x}")).collect();
            if body.len() > 30 { format!("{hex} ...") } else { hex }
        };
        Status::bad_request(format!(
            "the object provided is unrecognized (must be of type {expected_kind}): couldn't get version/kind; json parse error: {e} ({summary})"
        ))
    })?;
    if !value.is_object() {
        return Err(Status::bad_request(format!(
            "the object provided is unrecognized (must be of type {expected_kind}): body is not a JSON object"
        )));
    }
    Ok(value)
}

/// Check the body's apiVersion and kind (when given) against the URL's.
fn check_type(ctx: &Ctx, obj: &mut Value) -> Result<(), Status> {
    let want_version = ctx.served.api_version();
    let version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if (!version.is_empty() && version != want_version)
        || (!kind.is_empty() && kind != ctx.served.kind)
    {
        let shown_version = if version.is_empty() {
            want_version.clone()
        } else {
            version.to_owned()
        };
        let shown_kind = if kind.is_empty() {
            ctx.served.kind
        } else {
            kind
        };
        return Err(Status::bad_request(format!(
            "{shown_kind} in version \"{}\" cannot be handled as a {}: the API version in the data ({shown_version}) does not match the expected API version ({want_version})",
            shown_version.rsplit('/').next().unwrap_or(""),
            ctx.served.kind,
        )));
    }
    obj["apiVersion"] = Value::from(want_version);
    obj["kind"] = Value::from(ctx.served.kind);
    Ok(())
}

/// Take `metadata` out of an object as typed ObjectMeta (400 if malformed).
pub fn take_meta(obj: &mut Value, kind: &str) -> Result<ObjectMeta, Status> {
    let raw = obj
        .as_object_mut()
        .and_then(|m| m.remove("metadata"))
        .unwrap_or(Value::Null);
    if raw.is_null() {
        return Ok(ObjectMeta::default());
    }
    serde_json::from_value(raw).map_err(|e| {
        Status::bad_request(format!(
            "{kind} in version \"v1\" cannot be handled as a {kind}: metadata: {e}"
        ))
    })
}

/// Put typed metadata back into an object.
pub fn put_meta(obj: &mut Value, meta: &ObjectMeta) {
    obj["metadata"] = serde_json::to_value(meta).unwrap_or_else(|_| json!({}));
}

/// The stored bytes of an object: its JSON without resourceVersion.
fn stored_bytes(obj: &mut Value) -> Result<Bytes, Status> {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    Ok(Bytes::from(
        serde_json::to_vec(&obj).map_err(Status::internal)?,
    ))
}

/// The cached form of an object just written at `revision`.
fn written(
    info: &ResourceInfo,
    ns: &str,
    name: &str,
    obj: &Value,
    bytes: &[u8],
    revision: i64,
) -> Result<CachedObject, Status> {
    let rest = if info.namespaced() {
        format!("{ns}/{name}")
    } else {
        name.to_owned()
    };
    Ok(CachedObject::from_value(info, &rest, obj, bytes, revision))
}

fn store_err(ctx: &Ctx, name: &str, e: StoreError) -> Status {
    let info = ctx.info();
    match e {
        StoreError::AlreadyExists(_) => Status::already_exists(info.group, info.plural, name),
        StoreError::NotFound(_) => Status::not_found(info.group, info.plural, name),
        StoreError::Conflict { .. } => Status::stale(info.group, info.plural, name),
        other => Status::internal(other),
    }
}

/// The namespace a request targets, checked for existence and lifecycle
/// (as upstream's NamespaceLifecycle admission).
async fn check_namespace(ctx: &Ctx, ns: &str, name: &str) -> Result<(), Status> {
    let namespaces = ctx
        .server
        .registry
        .get()
        .resource("", "namespaces")
        .map(|r| *r.info())
        .ok_or_else(|| Status::internal("namespaces are not registered"))?;
    let cache = ctx
        .server
        .cache
        .resource(&namespaces)
        .ok_or_else(|| Status::internal("namespaces are not cached"))?;
    // Not cached: it may have been created a moment ago. Look again once
    // the cache has caught up with the store (upstream's live lookup).
    let nsobj = match cache.get(ns) {
        Some(o) => o,
        None => {
            ctx.server.cache.sync().await?;
            cache
                .get(ns)
                .ok_or_else(|| Status::not_found("", "namespaces", ns))?
        }
    };
    let terminating = serde_json::from_slice::<Value>(&nsobj.json)
        .map(|v| {
            v["status"]["phase"] == "Terminating" || !v["metadata"]["deletionTimestamp"].is_null()
        })
        .unwrap_or(false);
    if terminating {
        let info = ctx.info();
        let mut s = Status::forbidden(
            info.group,
            info.plural,
            name,
            &format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
        );
        s.details.causes.push(Cause {
            reason: "NamespaceTerminating".into(),
            message: format!("namespace {ns} is being terminated"),
            field: "metadata.namespace".into(),
        });
        return Err(s);
    }
    Ok(())
}

/// POST to a collection.
pub async fn create(ctx: Ctx, body: Bytes, content_type: Option<&str>) -> Result<Response, Status> {
    let obj = decode_object(&body, content_type, ctx.served.kind)?;
    let dry_run = ctx.query.dry_run()?;
    let stored = create_object(&ctx, obj, dry_run, Ownership::Update).await?;
    ctx.object_response(201, &stored)
}

/// Create an object from a request-version value; returns it as stored.
pub async fn create_object(
    ctx: &Ctx,
    mut obj: Value,
    dry_run: bool,
    ownership: Ownership,
) -> Result<Arc<CachedObject>, Status> {
    let info = *ctx.info();
    check_type(ctx, &mut obj)?;
    let mut obj = ctx.served.to_storage(obj)?;
    check_fields(ctx, &mut obj)?;
    let owner = manager(ctx, "Update", Target::Main)?;
    let managed_fields = obj["metadata"]["managedFields"].take();
    let mut meta = take_meta(&mut obj, info.kind)?;

    // Namespace: from the URL; a different one in the body is an error.
    let namespace = if info.namespaced() {
        let url_ns = ctx.path.namespace.clone().unwrap_or_default();
        match meta.namespace.as_deref() {
            Some(ns) if !ns.is_empty() && ns != url_ns => {
                return Err(Status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
        meta.namespace = Some(url_ns.clone());
        url_ns
    } else {
        meta.namespace = None;
        String::new()
    };

    if meta
        .resource_version
        .as_deref()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(Status::new(
            500,
            "",
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let generated = meta.name.as_deref().unwrap_or("").is_empty()
        && meta.generate_name.as_deref().is_some_and(|g| !g.is_empty());
    if generated {
        meta.name = Some(generate_name(meta.generate_name.as_deref().unwrap_or("")));
    }
    let name = meta.name.clone().unwrap_or_default();
    if info.namespaced() {
        check_namespace(ctx, &namespace, &name).await?;
    }
    meta.uid = Some(new_uid());
    meta.creation_timestamp = Some(Time(now()));
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.self_link = None;
    if info.generation {
        meta.generation = Some(1);
    }
    put_meta(&mut obj, &meta);
    if info.status
        && !info.status_on_create
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    crate::admission::mutate_create(ctx, &namespace, &mut obj)?;
    let mut obj = ctx.served.resource.kind.admit(obj, Operation::Create)?;
    if info.namespaced() {
        let admitted_name = obj["metadata"]["name"].as_str().unwrap_or(&name);
        crate::admission::validate_create(ctx, &namespace, admitted_name, &obj, dry_run).await?;
    }
    if is_service(&info) {
        // Addresses in use are read from the cache: let it catch up with
        // every write acknowledged so far (a deletion frees an address).
        ctx.server.cache.sync().await?;
        ctx.server
            .service_addresses
            .allocate(&ctx.server, &mut obj, None, !dry_run)?;
    }
    match ownership {
        Ownership::Update => managed::record_update(
            None,
            &mut obj,
            &owner,
            storage_schema(&info),
            part(&info, Target::Main),
        ),
        Ownership::Applied => obj["metadata"]["managedFields"] = managed_fields,
    }
    // A kind may name an object itself (LimitRanges without a name).
    let name = obj["metadata"]["name"].as_str().unwrap_or(&name).to_owned();
    let bytes = stored_bytes(&mut obj)?;
    let key = ctx.key(Some(&namespace), &name);
    let revision = if dry_run {
        ctx.server.cache.revision()
    } else {
        match ctx.server.store.create(&key, bytes.clone()).await {
            Ok(rev) => rev,
            Err(StoreError::AlreadyExists(_)) if generated => {
                let mut s = Status::already_exists(info.group, info.plural, &name);
                s.message
                    .push_str(", the server was not able to generate a unique name for the object");
                s.details.retry_after_seconds = Some(1);
                return Err(s);
            }
            Err(e) => return Err(store_err(ctx, &name, e)),
        }
    };
    let object = Arc::new(written(&info, &namespace, &name, &obj, &bytes, revision)?);
    if !dry_run {
        ctx.server.cache.remember_written(&key, object.clone());
    }
    Ok(object)
}

/// The current object, from a cache that has caught up with every write
/// acknowledged so far.
async fn current(
    ctx: &Ctx,
    ns: Option<&str>,
    name: &str,
) -> Result<Option<Arc<CachedObject>>, Status> {
    ctx.server.cache.sync().await?;
    Ok(ctx.cache()?.get(&ctx.rest(ns, name)))
}

/// PUT of an object or its status / finalize subresource.
pub async fn update(
    ctx: Ctx,
    body: Bytes,
    content_type: Option<&str>,
    target: Target,
) -> Result<Response, Status> {
    let mut obj = decode_object(&body, content_type, ctx.served.kind)?;
    check_type(&ctx, &mut obj)?;
    let name = ctx.name().to_owned();
    let body_name = obj["metadata"]["name"].as_str().unwrap_or("").to_owned();
    if body_name != name {
        return Err(Status::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let url_ns = ctx.path.namespace.clone();
    if let (Some(body_ns), Some(url_ns)) =
        (obj["metadata"]["namespace"].as_str(), url_ns.as_deref())
        && !body_ns.is_empty()
        && body_ns != url_ns
    {
        return Err(Status::bad_request(format!(
            "the namespace of the object ({body_ns}) does not match the namespace on the request ({url_ns})"
        )));
    }
    let dry_run = ctx.query.dry_run()?;
    let requested_rv = obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let mut obj = ctx.served.to_storage(obj)?;
    check_fields(&ctx, &mut obj)?;
    let (code, stored) = write_with_retries(
        &ctx,
        &name,
        dry_run,
        |_current| Ok((obj.clone(), requested_rv.clone())),
        target,
        Ownership::Update,
    )
    .await?;
    ctx.object_response(code, &stored)
}

/// PATCH of an object or its status.
pub async fn patch(
    ctx: Ctx,
    body: Bytes,
    content_type: Option<&str>,
    target: Target,
) -> Result<Response, Status> {
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    if media == "application/apply-patch+yaml" {
        return apply(ctx, body, target).await;
    }
    if ctx.query.get("force").is_some() {
        return Err(patch_options_invalid(
            "force",
            ErrorType::Forbidden,
            "may not be specified for non-apply patch",
        ));
    }
    let kind = PatchType::from_content_type(content_type)?;
    let schema =
        rkube_api::patch::schema::for_kind(ctx.served.group, ctx.served.version, ctx.served.kind);
    if kind == PatchType::Strategic && schema.is_none() {
        // As upstream: no strategic merge for kinds without Go types
        // (custom resources).
        return Err(Status::unsupported_media_type(&[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ]));
    }
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
    let name = ctx.name().to_owned();
    let dry_run = ctx.query.dry_run()?;
    let (code, stored) = write_with_retries(
        &ctx,
        &name,
        dry_run,
        |current| {
            let Some(current) = current else {
                return Err(ctx.not_found(&name));
            };
            let original = ctx.served.to_served(current.clone());
            let mut patched = rkube_api::patch::apply(kind, original, &patch, schema)?;
            let rv = patched["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            // A patch may not rename or move the object.
            if patched["metadata"]["name"].as_str().unwrap_or("") != name {
                return Err(Status::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    patched["metadata"]["name"].as_str().unwrap_or("")
                )));
            }
            check_type(&ctx, &mut patched)?;
            let mut patched = ctx.served.to_storage(patched)?;
            check_fields(&ctx, &mut patched)?;
            Ok((patched, rv))
        },
        target,
        Ownership::Update,
    )
    .await?;
    ctx.object_response(code, &stored)
}

/// 422 for bad patch options, as upstream words it.
fn patch_options_invalid(field: &str, kind: ErrorType, detail: &str) -> Status {
    Status::invalid(
        "meta.k8s.io",
        "PatchOptions",
        "",
        &[FieldError {
            kind,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }],
    )
}

/// The last-applied annotation kubectl's client-side apply keeps.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// PATCH with `application/apply-patch+yaml`: server-side apply. Creates
/// the object if it does not exist.
pub async fn apply(ctx: Ctx, body: Bytes, target: Target) -> Result<Response, Status> {
    let info = *ctx.info();
    if ctx.query.get("fieldManager").is_none() {
        return Err(patch_options_invalid(
            "fieldManager",
            ErrorType::Required,
            "is required for apply patch",
        ));
    }
    let force = ctx.query.flag("force");
    // Clients mostly send JSON (a subset of YAML): read it as such first.
    let mut applied: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => serde_yaml::from_slice(&body)
            .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?,
    };
    if !applied.is_object() {
        return Err(Status::bad_request(
            "error decoding YAML: the apply configuration must be an object",
        ));
    }
    check_type(&ctx, &mut applied)?;
    let name = ctx.name().to_owned();
    let applied_name = applied["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if applied_name != name {
        return Err(Status::bad_request(format!(
            "the name of the object ({applied_name}) does not match the name on the URL ({name})"
        )));
    }
    if let (Some(ns), Some(url_ns)) = (
        applied["metadata"]["namespace"].as_str(),
        ctx.path.namespace.as_deref(),
    ) && !ns.is_empty()
        && ns != url_ns
    {
        return Err(Status::bad_request(format!(
            "the namespace of the object ({ns}) does not match the namespace on the request ({url_ns})"
        )));
    }
    if ctx.served.conversion.is_none() {
        check_fields(&ctx, &mut applied)?;
    } else {
        check_fields(&ctx, &mut ctx.served.to_storage(applied.clone())?)?;
    }
    let owner = manager(&ctx, "Apply", target)?;
    // Apply works in the request's version: managedFields record it.
    let schema =
        rkube_api::patch::schema::for_kind(ctx.served.group, ctx.served.version, ctx.served.kind);
    let p = part(&info, target);
    let dry_run = ctx.query.dry_run()?;
    let asserted_rv = applied["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_owned();

    let exists = current(&ctx, ctx.path.namespace.as_deref(), &name)
        .await?
        .is_some();
    if !exists {
        if target != Target::Main {
            return Err(ctx.not_found(&name));
        }
        let obj = managed::apply(None, &applied, &owner, force, schema, p)
            .map_err(|c| apply_conflict(&c))?;
        let stored = create_object(&ctx, obj, dry_run, Ownership::Applied).await?;
        return ctx.object_response(201, &stored);
    }
    let (code, stored) = write_with_retries(
        &ctx,
        &name,
        dry_run,
        |current| {
            let current = current.ok_or_else(|| ctx.not_found(&name))?;
            let live = ctx.served.to_served_ref(current);
            let mut merged = match managed::apply(Some(&live), &applied, &owner, force, schema, p) {
                Ok(m) => m,
                Err(conflicts) => {
                    // kubectl moving from client-side to server-side apply:
                    // fields its last-applied configuration set, and that
                    // still hold the values it set, are its own.
                    let allowed = match owner.name.as_str() {
                        "kubectl" => last_applied_fields(&live, schema, p),
                        _ => None,
                    };
                    let remaining: Vec<_> = conflicts
                        .iter()
                        .filter(|c| !allowed.as_ref().is_some_and(|a| a.contains(&c.path)))
                        .cloned()
                        .collect();
                    if !remaining.is_empty() {
                        return Err(apply_conflict(&remaining));
                    }
                    managed::apply(Some(&live), &applied, &owner, true, schema, p)
                        .map_err(|c| apply_conflict(&c))?
                }
            };
            // Keep kubectl's last-applied annotation in step with server-side applies.
            if owner.name == "kubectl"
                && live["metadata"]["annotations"].get(LAST_APPLIED).is_some()
            {
                merged["metadata"]["annotations"][LAST_APPLIED] =
                    Value::from(last_applied_of(&applied));
            }
            if let Some(m) = merged["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((ctx.served.to_storage(merged)?, asserted_rv.clone()))
        },
        target,
        Ownership::Applied,
    )
    .await?;
    ctx.object_response(code, &stored)
}

/// Whether two objects are the same but for `metadata.resourceVersion`.
fn equal_but_resource_version(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let meta_equal = |x: Option<&Value>, y: Option<&Value>| match (
        x.and_then(Value::as_object),
        y.and_then(Value::as_object),
    ) {
        (Some(x), Some(y)) => {
            let rv = |(k, _): &(&String, &Value)| k.as_str() != "resourceVersion";
            x.iter().filter(rv).eq(y.iter().filter(rv))
        }
        _ => x == y,
    };
    a.len() == b.len()
        && a.iter().all(|(k, v)| {
            if k == "metadata" {
                meta_equal(Some(v), b.get(k))
            } else {
                b.get(k) == Some(v)
            }
        })
}

fn is_service(info: &ResourceInfo) -> bool {
    info.group.is_empty() && info.plural == "services"
}

/// The last-applied annotation the server writes for an apply
/// configuration: the configuration without that annotation (and without
/// `annotations` if nothing else is left), as a JSON line.
fn last_applied_of(applied: &Value) -> String {
    let mut config = applied.clone();
    if let Some(meta) = config["metadata"].as_object_mut()
        && let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    let mut line = config.to_string();
    line.push('\n');
    line
}

/// The fields of an object's last-applied annotation whose values the live
/// object still has (upstream's allowance for kubectl's move from
/// client-side to server-side apply).
fn last_applied_fields(
    live: &Value,
    schema: Option<&'static rkube_api::patch::schema::TypeDef>,
    p: Part,
) -> Option<managed::fieldset::FieldSet> {
    let last: Value =
        serde_json::from_str(live["metadata"]["annotations"][LAST_APPLIED].as_str()?).ok()?;
    if last["apiVersion"] != live["apiVersion"] {
        return None;
    }
    let (changed, removed) = managed::changed_fields(&last, live, schema, p);
    Some(
        managed::applied_fields(&last, schema, p)
            .difference(&changed)
            .difference(&removed),
    )
}

/// 409 for apply conflicts, as upstream words it.
fn apply_conflict(conflicts: &[managed::Conflict]) -> Status {
    let mut s = Status::new(409, "Conflict", managed::conflict_message(conflicts));
    s.details.causes = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {}", c.who()),
            field: c.field.clone(),
        })
        .collect();
    s
}

/// Merge what a client sent into the stored object for an update: server
/// fields come from the stored object, and status or spec from whichever
/// side the target says.
fn merge_for_update(
    info: &ResourceInfo,
    new: Value,
    old: &Value,
    target: Target,
) -> Result<Value, Status> {
    let mut new = new;
    // The stored object is read in place: only what is kept is copied.
    let old_meta = match old.get("metadata") {
        Some(m) if !m.is_null() => {
            <ObjectMeta as serde::Deserialize>::deserialize(m).map_err(Status::internal)?
        }
        _ => ObjectMeta::default(),
    };
    let mut meta = take_meta(&mut new, info.kind)?;

    let mut merged = match target {
        Target::Main => {
            if info.status {
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            new
        }
        Target::Status => {
            let mut merged = old.clone();
            match new.get("status") {
                Some(s) => merged["status"] = s.clone(),
                None => {
                    if let Some(m) = merged.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            merged
        }
        Target::Finalize => {
            let mut merged = old.clone();
            merged["spec"]["finalizers"] = new["spec"]["finalizers"].clone();
            merged
        }
    };

    // Server-owned metadata always comes from the stored object.
    meta.name = old_meta.name.clone();
    meta.namespace = old_meta.namespace.clone();
    meta.uid = old_meta.uid.clone();
    meta.creation_timestamp = old_meta.creation_timestamp.clone();
    meta.deletion_timestamp = old_meta.deletion_timestamp.clone();
    if meta.deletion_grace_period_seconds.is_none() || old_meta.deletion_timestamp.is_some() {
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
    }
    meta.generation = old_meta.generation;
    meta.resource_version = None;
    meta.self_link = None;
    if matches!(target, Target::Status | Target::Finalize) && info.plural != "pods" {
        // Status writers may not relabel the object.
        meta.labels = old_meta.labels.clone();
    }
    if old_meta.deletion_timestamp.is_some() {
        let old_f: Vec<&String> = old_meta.finalizers.iter().flatten().collect();
        let added: Vec<&String> = meta
            .finalizers
            .iter()
            .flatten()
            .filter(|f| !old_f.contains(f))
            .collect();
        if !added.is_empty() {
            return Err(Status::invalid(
                info.group,
                info.kind,
                old_meta.name.as_deref().unwrap_or(""),
                &[rkube_api::validation::FieldError {
                    kind: rkube_api::validation::ErrorType::Forbidden,
                    field: "metadata.finalizers".into(),
                    value: None,
                    detail: format!(
                        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                        added
                            .iter()
                            .map(|f| format!("{f:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }],
            ));
        }
    }
    put_meta(&mut merged, &meta);
    Ok(merged)
}

/// Whether anything outside metadata and status differs.
fn spec_changed(new: &Value, old: &Value) -> bool {
    fn rest(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
        v.as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind"))
    }
    !rest(new).eq(rest(old))
}

/// A client's own managedFields must at least decode as upstream's type
/// (400 otherwise, worded as a decoding error of the object).
fn check_managed_fields(info: &ResourceInfo, list: &Value) -> Result<(), Status> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
    <Vec<ManagedFieldsEntry> as serde::Deserialize>::deserialize(list)
        .map(drop)
        .map_err(|e| {
            Status::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: metadata.managedFields: {e}",
                kind = info.kind,
                version = info.version,
            ))
        })
}

/// The update loop shared by PUT, PATCH and subresources: `compute` gets the
/// current object, parsed (None if missing), and returns the desired object in the
/// storage version plus the resourceVersion the client asserted ("" for
/// none). Returns the HTTP code and the stored object.
pub async fn write_with_retries(
    ctx: &Ctx,
    name: &str,
    dry_run: bool,
    compute: impl Fn(Option<&Value>) -> Result<(Value, String), Status>,
    target: Target,
    ownership: Ownership,
) -> Result<(u16, Arc<CachedObject>), Status> {
    let info = *ctx.info();
    let owner = manager(ctx, "Update", target)?;
    let ns = ctx.path.namespace.clone();
    let key = ctx.key(ns.as_deref(), name);
    let mut cur = current(ctx, ns.as_deref(), name).await?;
    for _ in 0..MAX_ATTEMPTS {
        let old = cur.as_deref().map(CachedObject::value).transpose()?;
        let (desired, asserted_rv) = compute(old.as_ref())?;
        let (Some(existing), Some(mut old)) = (cur.clone(), old) else {
            return Err(ctx.not_found(name));
        };
        if !asserted_rv.is_empty() && asserted_rv != existing.revision.to_string() {
            return Err(Status::stale(info.group, info.plural, name));
        }
        // managedFields stay aside until ownership is recorded: merging,
        // defaulting and validation never read them.
        let old_managed = managed::take_managed_fields(&mut old);
        let mut desired = desired;
        let sent_managed = managed::take_managed_fields(&mut desired);
        if ownership == Ownership::Update
            && let Some(sent) = &sent_managed
            && Some(sent) != old_managed.as_ref()
        {
            check_managed_fields(&info, sent)?;
        }
        let mut merged = merge_for_update(&info, desired, &old, target)?;
        if is_service(&info) {
            crate::services::keep_allocated(&mut merged, &old);
        }
        let op = match target {
            Target::Main => Operation::Update(&old),
            Target::Status | Target::Finalize => Operation::UpdateSubresource(&old),
        };
        let mut new = ctx.served.resource.kind.admit(merged, op)?;
        if target == Target::Main && info.namespaced() {
            let ns = ns.as_deref().unwrap_or("");
            // Boxed: quota admission writes quota status through this path.
            Box::pin(crate::admission::validate_update(
                ctx, ns, name, &new, &old, dry_run,
            ))
            .await?;
        }
        if is_service(&info) && target == Target::Main {
            ctx.server
                .service_addresses
                .allocate(&ctx.server, &mut new, Some(&old), !dry_run)?;
        }
        if info.generation && target == Target::Main && spec_changed(&new, &old) {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            new["metadata"]["generation"] = Value::from(generation);
        }
        managed::restore_managed_fields(&mut old, old_managed);
        managed::restore_managed_fields(&mut new, sent_managed);
        if ownership == Ownership::Update {
            managed::record_update(
                Some(&old),
                &mut new,
                &owner,
                storage_schema(&info),
                part(&info, target),
            );
        }
        if equal_but_resource_version(&new, &old) {
            // Nothing changed: no write, same resourceVersion (as upstream).
            return Ok((200, existing));
        }
        // An object being deleted whose last finalizer just went goes away.
        let finalizers_done = !new["metadata"]["deletionTimestamp"].is_null()
            && new["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty())
            && new["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(0)
                == 0
            && new["spec"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty());
        let bytes = stored_bytes(&mut new)?;
        if dry_run {
            let obj = written(
                &info,
                ns.as_deref().unwrap_or(""),
                name,
                &new,
                &bytes,
                existing.revision,
            )?;
            return Ok((200, Arc::new(obj)));
        }
        let result = if finalizers_done {
            ctx.server
                .store
                .delete(&key, Some(existing.revision))
                .await
                .map(|(rev, _)| rev)
        } else {
            ctx.server
                .store
                .update(&key, bytes.clone(), existing.revision)
                .await
        };
        match result {
            Ok(rev) => {
                let obj = Arc::new(written(
                    &info,
                    ns.as_deref().unwrap_or(""),
                    name,
                    &new,
                    &bytes,
                    rev,
                )?);
                if !finalizers_done {
                    ctx.server.cache.remember_written(&key, obj.clone());
                }
                return Ok((200, obj));
            }
            Err(e) => {
                cur = Some(after_failed_update(
                    ctx,
                    ns.as_deref(),
                    name,
                    &asserted_rv,
                    e,
                )?)
            }
        }
    }
    Err(too_many_attempts(&info, name))
}

/// Update an object in storage directly, as upstream's `GuaranteedUpdate`
/// under a subresource that bypasses the kind's strategy (pod bindings):
/// `mutate` changes the parsed current object in place, or refuses; the
/// write is retried on a conflict. No merge, no defaulting or validation
/// beyond what `mutate` does, no managedFields entry. `asserted_rv` is
/// the resourceVersion the client required ("" for none).
pub async fn guaranteed_update(
    ctx: &Ctx,
    name: &str,
    asserted_rv: &str,
    dry_run: bool,
    mutate: impl Fn(&mut Value) -> Result<(), Status>,
) -> Result<Arc<CachedObject>, Status> {
    let info = *ctx.info();
    let ns = ctx.path.namespace.clone();
    let ns_str = ns.as_deref().unwrap_or("");
    let key = ctx.key(ns.as_deref(), name);
    let mut cur = current(ctx, ns.as_deref(), name).await?;
    for _ in 0..MAX_ATTEMPTS {
        let Some(existing) = cur.take() else {
            return Err(ctx.not_found(name));
        };
        if !asserted_rv.is_empty() && asserted_rv != existing.revision.to_string() {
            return Err(Status::stale(info.group, info.plural, name));
        }
        let mut obj = existing.value()?;
        mutate(&mut obj)?;
        let bytes = stored_bytes(&mut obj)?;
        if dry_run {
            let written = written(&info, ns_str, name, &obj, &bytes, existing.revision)?;
            return Ok(Arc::new(written));
        }
        match ctx
            .server
            .store
            .update(&key, bytes.clone(), existing.revision)
            .await
        {
            Ok(rev) => {
                let obj = Arc::new(written(&info, ns_str, name, &obj, &bytes, rev)?);
                ctx.server.cache.remember_written(&key, obj.clone());
                return Ok(obj);
            }
            Err(e) => {
                cur = Some(after_failed_update(
                    ctx,
                    ns.as_deref(),
                    name,
                    asserted_rv,
                    e,
                )?)
            }
        }
    }
    Err(too_many_attempts(&info, name))
}

/// What an update loop does when the store refused its write: on a
/// conflict the client did not cause (no resourceVersion asserted), go
/// on with the object the store has now; otherwise the error.
fn after_failed_update(
    ctx: &Ctx,
    ns: Option<&str>,
    name: &str,
    asserted_rv: &str,
    e: StoreError,
) -> Result<Arc<CachedObject>, Status> {
    let info = ctx.info();
    match e {
        StoreError::Conflict { .. } if !asserted_rv.is_empty() => {
            Err(Status::stale(info.group, info.plural, name))
        }
        StoreError::Conflict { current, .. } => Ok(Arc::new(
            CachedObject::from_stored(
                info,
                &ctx.rest(ns, name),
                &current.value,
                current.mod_revision,
            )
            .map_err(Status::internal)?,
        )),
        StoreError::NotFound(_) => Err(ctx.not_found(name)),
        e => Err(store_err(ctx, name, e)),
    }
}

/// An update loop that kept losing races.
fn too_many_attempts(info: &ResourceInfo, name: &str) -> Status {
    Status::conflict(
        info.group,
        info.plural,
        name,
        "too many concurrent updates; please retry",
    )
}

/// `DeleteOptions` of a request, from its body and query.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Seconds of grace (pods).
    pub grace_period: Option<i64>,
    /// Background, Foreground or Orphan.
    pub propagation: Option<String>,
    /// Required UID.
    pub uid: Option<String>,
    /// Required resourceVersion.
    pub resource_version: Option<String>,
    /// Validate only.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Parse from the body (a DeleteOptions object, or empty) and query.
    pub fn parse(ctx: &Ctx, body: &[u8]) -> Result<DeleteOptions, Status> {
        let mut opts = DeleteOptions {
            grace_period: ctx.query.int("gracePeriodSeconds")?,
            propagation: ctx.query.get("propagationPolicy").map(str::to_owned),
            dry_run: ctx.query.dry_run()?,
            ..Default::default()
        };
        if ctx.query.get("orphanDependents") == Some("true") && opts.propagation.is_none() {
            opts.propagation = Some("Orphan".into());
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| Status::bad_request(format!("error decoding DeleteOptions: {e}")))?;
            if let Some(g) = v["gracePeriodSeconds"].as_i64() {
                opts.grace_period = Some(g);
            }
            if let Some(p) = v["propagationPolicy"].as_str() {
                opts.propagation = Some(p.to_owned());
            }
            if v["orphanDependents"].as_bool() == Some(true) && opts.propagation.is_none() {
                opts.propagation = Some("Orphan".into());
            }
            if let Some(u) = v["preconditions"]["uid"].as_str() {
                opts.uid = Some(u.to_owned());
            }
            if let Some(r) = v["preconditions"]["resourceVersion"].as_str() {
                opts.resource_version = Some(r.to_owned());
            }
            if v["dryRun"]
                .as_array()
                .is_some_and(|a| a.iter().any(|d| d == "All"))
            {
                opts.dry_run = true;
            }
        }
        if let Some(p) = &opts.propagation
            && !matches!(p.as_str(), "Background" | "Foreground" | "Orphan")
        {
            return Err(Status::invalid(
                "",
                "DeleteOptions",
                "",
                &[rkube_api::validation::FieldError {
                    kind: rkube_api::validation::ErrorType::NotSupported,
                    field: "propagationPolicy".into(),
                    value: Some(Value::from(p.clone())),
                    detail: "supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                        .into(),
                }],
            ));
        }
        Ok(opts)
    }
}

/// DELETE of one object.
pub async fn delete(ctx: Ctx, body: Bytes) -> Result<Response, Status> {
    let opts = DeleteOptions::parse(&ctx, &body)?;
    let name = ctx.name().to_owned();
    let info = *ctx.info();
    if info.plural == "namespaces"
        && matches!(name.as_str(), "default" | "kube-system" | "kube-public")
    {
        return Err(Status::forbidden(
            "",
            "namespaces",
            &name,
            "this namespace may not be deleted",
        ));
    }
    let (deleted, obj) = delete_object(&ctx, &name, &opts).await?;
    // Pods, Services and Namespaces answer with the object; other kinds
    // with a Status once the object is gone, as upstream.
    let returns_object = matches!(info.plural, "pods" | "services" | "namespaces");
    if deleted && !returns_object {
        let value = obj.value()?;
        let details = Details {
            name: name.clone(),
            group: info.group.to_owned(),
            kind: info.plural.to_owned(),
            uid: value["metadata"]["uid"].as_str().unwrap_or("").to_owned(),
            ..Default::default()
        };
        return Ok(crate::response::json_value(200, &success_status(details)));
    }
    ctx.object_response(200, &obj)
}

/// Delete (or start deleting) one object. Returns whether it is gone now,
/// and its last state.
pub async fn delete_object(
    ctx: &Ctx,
    name: &str,
    opts: &DeleteOptions,
) -> Result<(bool, Arc<CachedObject>), Status> {
    let info = *ctx.info();
    let ns = ctx.path.namespace.clone();
    let key = ctx.key(ns.as_deref(), name);
    let mut cur = current(ctx, ns.as_deref(), name).await?;
    for _ in 0..MAX_ATTEMPTS {
        let Some(existing) = cur.clone() else {
            return Err(ctx.not_found(name));
        };
        let mut obj = existing.value()?;
        if let Some(uid) = &opts.uid {
            let actual = obj["metadata"]["uid"].as_str().unwrap_or("");
            if uid != actual {
                return Err(Status::conflict(
                    info.group,
                    info.kind,
                    name,
                    &format!(
                        "the UID in the precondition ({uid}) does not match the UID in record ({actual}). The object might have been deleted and then recreated"
                    ),
                ));
            }
        }
        if let Some(rv) = &opts.resource_version {
            let actual = existing.revision.to_string();
            if *rv != actual {
                return Err(Status::conflict(
                    info.group,
                    info.kind,
                    name,
                    &format!(
                        "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({actual}). The object might have been modified"
                    ),
                ));
            }
        }

        // Finalizers the propagation policy asks for.
        let mut finalizers: Vec<String> = obj["metadata"]["finalizers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let policy = opts
            .propagation
            .clone()
            .or_else(|| default_propagation(&info).map(str::to_owned));
        match policy.as_deref() {
            Some("Orphan") => {
                finalizers.retain(|f| f != "foregroundDeletion");
                if !finalizers.iter().any(|f| f == "orphan") {
                    finalizers.push("orphan".into());
                }
            }
            Some("Foreground") => {
                finalizers.retain(|f| f != "orphan");
                if !finalizers.iter().any(|f| f == "foregroundDeletion") {
                    finalizers.push("foregroundDeletion".into());
                }
            }
            _ => {}
        }
        let grace = graceful_period(&info, &obj, opts.grace_period);
        let namespace_pending = info.plural == "namespaces"
            && obj["spec"]["finalizers"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
        let being_deleted = !obj["metadata"]["deletionTimestamp"].is_null();

        if finalizers.is_empty() && grace.is_none() && !namespace_pending {
            if opts.dry_run {
                return Ok((true, existing));
            }
            match ctx.server.store.delete(&key, Some(existing.revision)).await {
                Ok(_) => return Ok((true, existing)),
                Err(StoreError::Conflict { current, .. }) => {
                    cur = Some(Arc::new(
                        CachedObject::from_stored(
                            &info,
                            &ctx.rest(ns.as_deref(), name),
                            &current.value,
                            current.mod_revision,
                        )
                        .map_err(Status::internal)?,
                    ));
                    continue;
                }
                Err(StoreError::NotFound(_)) => return Err(ctx.not_found(name)),
                Err(e) => return Err(store_err(ctx, name, e)),
            }
        }

        // Mark the object as being deleted and let its finalizers (or the
        // kubelet, for a graceful pod deletion) finish the job.
        let now = now();
        let mut changed = false;
        if !being_deleted {
            let at = now + k8s_openapi::jiff::SignedDuration::from_secs(grace.unwrap_or(0));
            obj["metadata"]["deletionTimestamp"] =
                serde_json::to_value(Time(at)).map_err(Status::internal)?;
            obj["metadata"]["deletionGracePeriodSeconds"] = Value::from(grace.unwrap_or(0));
            if let Some(g) = obj["metadata"]["generation"].as_i64() {
                obj["metadata"]["generation"] = Value::from(g + 1);
            }
            if info.plural == "namespaces" {
                obj["status"]["phase"] = Value::from("Terminating");
            }
            changed = true;
        } else if let Some(old) = obj["metadata"]["deletionGracePeriodSeconds"].as_i64() {
            // A shorter grace period brings the deletion forward; an
            // immediate deletion (no grace: a finished pod, or 0) of an
            // object its finalizers hold makes it go when they are done.
            let g = grace.unwrap_or(0);
            if g < old {
                let at = now + k8s_openapi::jiff::SignedDuration::from_secs(g);
                obj["metadata"]["deletionTimestamp"] =
                    serde_json::to_value(Time(at)).map_err(Status::internal)?;
                obj["metadata"]["deletionGracePeriodSeconds"] = Value::from(g);
                changed = true;
            }
        }
        let old_finalizers = obj["metadata"]["finalizers"].clone();
        let new_finalizers = if finalizers.is_empty() {
            Value::Null
        } else {
            json!(finalizers)
        };
        if old_finalizers != new_finalizers && !(old_finalizers.is_null() && finalizers.is_empty())
        {
            obj["metadata"]["finalizers"] = new_finalizers;
            changed = true;
        }
        if !changed {
            return Ok((false, existing));
        }
        let bytes = stored_bytes(&mut obj)?;
        if opts.dry_run {
            let o = written(
                &info,
                ns.as_deref().unwrap_or(""),
                name,
                &obj,
                &bytes,
                existing.revision,
            )?;
            return Ok((false, Arc::new(o)));
        }
        match ctx
            .server
            .store
            .update(&key, bytes.clone(), existing.revision)
            .await
        {
            Ok(rev) => {
                let o = written(&info, ns.as_deref().unwrap_or(""), name, &obj, &bytes, rev)?;
                return Ok((false, Arc::new(o)));
            }
            Err(e) => cur = Some(after_failed_update(ctx, ns.as_deref(), name, "", e)?),
        }
    }
    Err(too_many_attempts(&info, name))
}

/// The propagation policy of a kind when the client names none.
fn default_propagation(info: &ResourceInfo) -> Option<&'static str> {
    match (info.group, info.plural) {
        ("", "replicationcontrollers") | ("batch", "jobs") => Some("Orphan"),
        _ => None,
    }
}

/// Pods bound to a node that is running them end gracefully: the kubelet
/// stops the containers and then deletes the pod with grace 0. Unbound or
/// finished pods, and a grace of 0, delete at once.
fn graceful_period(info: &ResourceInfo, obj: &Value, requested: Option<i64>) -> Option<i64> {
    if !info.group.is_empty() || info.plural != "pods" {
        return None;
    }
    let bound = obj["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        obj["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    if !bound || finished {
        return None;
    }
    let grace = requested
        .or_else(|| obj["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    if grace <= 0 { None } else { Some(grace) }
}

/// DELETE of a collection: every object matching the selectors.
pub async fn delete_collection(ctx: Ctx, body: Bytes) -> Result<Response, Status> {
    let opts = DeleteOptions::parse(&ctx, &body)?;
    let info = *ctx.info();
    let filter = Filter::new(
        &info,
        ctx.path.namespace.clone(),
        ctx.query.get("labelSelector"),
        ctx.query.get("fieldSelector"),
    )?;
    ctx.server.cache.sync().await?;
    let (objects, _, _) = ctx.cache()?.list(&filter, None, 0);
    let mut items = Vec::new();
    for obj in objects {
        let sub = Ctx {
            server: ctx.server.clone(),
            served: ctx.served.clone(),
            path: crate::request::ResourcePath {
                namespace: if info.namespaced() {
                    Some(obj.namespace.clone())
                } else {
                    None
                },
                name: Some(obj.name.clone()),
                ..ctx.path.clone()
            },
            query: ctx.query.clone(),
            want: ctx.want,
            user: ctx.user.clone(),
            user_agent: ctx.user_agent.clone(),
            warnings: ctx.warnings.clone(),
        };
        match delete_object(&sub, &obj.name, &opts).await {
            Ok((_, last)) => items.push(last),
            Err(s) if s.code == 404 => {}
            Err(s) => return Err(s),
        }
    }
    let revision = ctx.server.cache.revision();
    ctx.list_response(&items, revision, None, None)
}
