//! ResourceQuota admission: a new object must fit under every quota of
//! its namespace that tracks it (403 with upstream's wording otherwise:
//! `exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3`).
//! When it fits, each quota's `status.used` is raised — a compare-and-swap
//! on the quota that re-checks the limit against the quota as stored —
//! before the object is written, as upstream charges quota in admission.
//! The resourcequota controller later recounts from the objects present
//! (and gives back what deleted or finished objects held).
//!
//! Charges in one namespace take turns (a lock per namespace, as
//! upstream's evaluator works one namespace at a time), so concurrent
//! creates do not keep conflicting on the same quota. Creates only:
//! updates are not charged.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::jiff::Timestamp;
use rkube_api::quota::{self, Evaluator, Object};
use rkube_api::status::Status;
use serde_json::Value;

use super::{cached, forbidden};
use crate::handlers::Ctx;
use crate::handlers::write::{self, Ownership, Target};
use crate::server::ApiServer;

/// One lock per namespace whose quotas are being charged.
#[derive(Default)]
pub struct Locks(parking_lot::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// A namespace's turn; the namespace's entry goes when nobody waits.
struct Turn<'a> {
    locks: &'a Locks,
    namespace: String,
    mutex: Arc<tokio::sync::Mutex<()>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Locks {
    async fn lock(&self, namespace: &str) -> Turn<'_> {
        let mutex = self
            .0
            .lock()
            .entry(namespace.to_owned())
            .or_default()
            .clone();
        let guard = mutex.clone().lock_owned().await;
        Turn {
            locks: self,
            namespace: namespace.to_owned(),
            mutex,
            guard: Some(guard),
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.locks.0.lock();
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(&self.mutex) == 2 {
            map.remove(&self.namespace);
        }
    }
}

/// The namespace's quotas, in name order.
fn quotas(server: &Arc<ApiServer>, namespace: &str) -> Vec<api::ResourceQuota> {
    cached::<api::ResourceQuota>(server, "resourcequotas", namespace)
        .into_iter()
        .map(|(_, q)| q)
        .collect()
}

/// An object decoded as its evaluator reads it.
enum Typed {
    Pod(Box<api::Pod>),
    Service(Box<api::Service>),
    Claim(Box<api::PersistentVolumeClaim>),
    Other,
}

impl Typed {
    fn decode(evaluator: &Evaluator, obj: &Value) -> Typed {
        let decoded = match evaluator {
            Evaluator::Pods => serde_json::from_value(obj.clone()).map(Typed::Pod),
            Evaluator::Services => serde_json::from_value(obj.clone()).map(Typed::Service),
            Evaluator::Claims => serde_json::from_value(obj.clone()).map(Typed::Claim),
            Evaluator::Objects { .. } => Ok(Typed::Other),
        };
        decoded.unwrap_or(Typed::Other)
    }

    fn object(&self) -> Object<'_> {
        match self {
            Typed::Pod(p) => Object::Pod(p),
            Typed::Service(s) => Object::Service(s),
            Typed::Claim(c) => Object::Claim(c),
            Typed::Other => Object::Other,
        }
    }
}

/// Admit a new object (named, admitted by its kind), or an update of
/// `old` (Services and claims only: a pod's resources do not change, as
/// upstream's pod evaluator handles creates alone), against the quotas of
/// its namespace, charging them unless `dry_run`.
pub async fn admit(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    obj: &Value,
    old: Option<&Value>,
    dry_run: bool,
) -> Result<(), Status> {
    let info = ctx.info();
    let Some(evaluator) = Evaluator::for_resource(info.group, info.plural) else {
        return Ok(());
    };
    if old.is_some() && !matches!(evaluator, Evaluator::Services | Evaluator::Claims) {
        return Ok(());
    }
    let tracked = |quotas: &[api::ResourceQuota]| {
        quotas.iter().any(|q| {
            let hard = q.status.as_ref().and_then(|s| s.hard.as_ref());
            !evaluator
                .matching_resources(hard.into_iter().flat_map(|h| h.keys()))
                .is_empty()
        })
    };
    let listed = quotas(&ctx.server, namespace);
    if !tracked(&listed) {
        return Ok(());
    }
    let typed = Typed::decode(&evaluator, obj);
    let object = typed.object();
    let old_typed = old.map(|o| Typed::decode(&evaluator, o));
    let old_object = old_typed.as_ref().map(Typed::object);
    let now = Timestamp::now();
    let refuse = |why: String| forbidden(ctx, name, &why);

    // A new object that exists already will not be stored: check, charge
    // nothing.
    let exists = old.is_none() && ctx.cache()?.get(&ctx.rest(Some(namespace), name)).is_some();
    if dry_run || exists {
        return quota::charge(&listed, &evaluator, &object, old_object.as_ref(), now)
            .map(drop)
            .map_err(refuse);
    }

    let _turn = ctx.server.admission.quota_locks.lock(namespace).await;
    // The charges made before this turn must be seen.
    ctx.server.cache.sync().await?;
    let current = quotas(&ctx.server, namespace);
    let charged =
        quota::charge(&current, &evaluator, &object, old_object.as_ref(), now).map_err(refuse)?;
    for (i, _) in charged {
        let quota_name = current[i].metadata.name.clone().unwrap_or_default();
        charge_one(
            ctx,
            namespace,
            &quota_name,
            &evaluator,
            (&object, old_object.as_ref()),
            now,
            &refuse,
        )
        .await?;
    }
    Ok(())
}

/// Raise one quota's `status.used` by the object's usage: a
/// compare-and-swap, checked again against the quota as it is stored on
/// every attempt. A quota deleted meanwhile no longer counts.
async fn charge_one(
    ctx: &Ctx,
    namespace: &str,
    quota_name: &str,
    evaluator: &Evaluator,
    (object, old): (&Object<'_>, Option<&Object<'_>>),
    now: Timestamp,
    refuse: &(dyn Fn(String) -> Status + Sync),
) -> Result<(), Status> {
    let qctx = ctx
        .server
        .ctx(
            "",
            "v1",
            "resourcequotas",
            Some(namespace),
            Some(quota_name),
        )
        .map_err(Status::internal)?;
    let result = write::write_with_retries(
        &qctx,
        quota_name,
        false,
        |current| {
            let current = current.ok_or_else(|| qctx.not_found(quota_name))?;
            let stored: api::ResourceQuota =
                serde_json::from_value(current.clone()).map_err(Status::internal)?;
            let mut desired = current.clone();
            let charged = quota::charge(std::slice::from_ref(&stored), evaluator, object, old, now)
                .map_err(refuse)?;
            if let Some((_, used)) = charged.first() {
                desired["status"]["used"] =
                    serde_json::to_value(quota::api_list(used)).map_err(Status::internal)?;
            }
            if let Some(m) = desired["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((desired, String::new()))
        },
        Target::Status,
        Ownership::Update,
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(s) if s.code == 404 && s.details.kind == "resourcequotas" => Ok(()),
        Err(s) => Err(s),
    }
}
