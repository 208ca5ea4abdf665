//! Admission of new objects beyond their kind's own rules: the built-in
//! plugins that read other objects of the namespace, as upstream's
//! `LimitRanger` and `ResourceQuota`. The create path of
//! `handlers/write.rs` runs them in upstream's order:
//!
//! 1. [`mutate_create`], before the kind's admission (defaults,
//!    validation): LimitRange defaults for pods ([`limitrange`]), the
//!    in-use protection finalizers of claims and volumes
//!    ([`storage_protection`]);
//! 2. [`validate_create`], after it, before the object is stored:
//!    LimitRange bounds for pods and claims, then quotas ([`quota`]), which
//!    are charged — `status.used` raised by compare-and-swap — before the
//!    object is written, so concurrent creates cannot overshoot;
//!    [`validate_update`] keeps updated claims within their LimitRanges.
//!
//! What they read (LimitRanges, ResourceQuotas) comes from the watch
//! cache, as the namespace lifecycle check reads namespaces; the pure
//! computations live in `rkube_api::limitrange` and `rkube_api::quota`.

pub mod limitrange;
pub mod quota;
pub mod storage_protection;

use std::sync::Arc;

use rkube_api::status::Status;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::handlers::Ctx;
use crate::object::{CachedObject, Filter};
use crate::server::ApiServer;

/// What the admission plugins keep between requests.
#[derive(Default)]
pub struct Admission {
    /// One lock per namespace whose quotas are being charged.
    pub quota_locks: quota::Locks,
}

/// Mutating admission of a new object (in its storage version, before the
/// kind's defaults and validation; `namespace` is empty for cluster-scoped
/// kinds): LimitRange defaults for pods, protection finalizers for claims
/// and volumes.
pub fn mutate_create(ctx: &Ctx, namespace: &str, obj: &mut Value) -> Result<(), Status> {
    let info = ctx.info();
    if !info.group.is_empty() {
        return Ok(());
    }
    if info.plural == "pods" {
        limitrange::default_pod(&ctx.server, namespace, obj);
    }
    if let Some(finalizer) = storage_protection::finalizer_for(info.plural) {
        storage_protection::add_finalizer(obj, finalizer);
    }
    Ok(())
}

/// Validating admission of a new object (admitted by its kind, named):
/// LimitRange bounds, then quotas, which are charged unless `dry_run`.
pub async fn validate_create(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    obj: &Value,
    dry_run: bool,
) -> Result<(), Status> {
    limitrange::validate(ctx, namespace, name, obj)?;
    quota::admit(ctx, namespace, name, obj, None, dry_run).await
}

/// Validating admission of an update through the object itself (not a
/// subresource), unless the object is being deleted: a claim stays within
/// the namespace's LimitRanges; what a Service or claim adds (a node port,
/// storage) is charged to the quotas unless `dry_run`. Pods' resources
/// cannot change.
pub async fn validate_update(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    new: &Value,
    old: &Value,
    dry_run: bool,
) -> Result<(), Status> {
    let info = ctx.info();
    if !old["metadata"]["deletionTimestamp"].is_null() {
        return Ok(());
    }
    if info.group.is_empty() && info.plural == "persistentvolumeclaims" {
        limitrange::validate(ctx, namespace, name, new)?;
    }
    quota::admit(ctx, namespace, name, new, Some(old), dry_run).await
}

/// The objects of a core kind in a namespace, from the watch cache,
/// decoded (objects that do not decode are skipped).
fn cached<T: DeserializeOwned>(
    server: &Arc<ApiServer>,
    plural: &str,
    namespace: &str,
) -> Vec<(Arc<CachedObject>, T)> {
    let Some(info) = server
        .registry
        .get()
        .resource("", plural)
        .map(|r| *r.info())
    else {
        return Vec::new();
    };
    let Some(cache) = server.cache.resource(&info) else {
        return Vec::new();
    };
    let filter = Filter {
        namespace: Some(namespace.to_owned()),
        ..Default::default()
    };
    let (objects, _, _) = cache.list(&filter, None, 0);
    objects
        .into_iter()
        .filter_map(|o| {
            let typed = serde_json::from_slice(&o.json).ok()?;
            Some((o, typed))
        })
        .collect()
}

/// 403 for the object being created: `pods "x" is forbidden: <why>`.
fn forbidden(ctx: &Ctx, name: &str, why: &str) -> Status {
    let info = ctx.info();
    Status::forbidden(info.group, info.plural, name, why)
}
