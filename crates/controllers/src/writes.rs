//! Helpers for the controllers' writes: upstream's slow-start batches,
//! creating and deleting owned pods with their events and expectations,
//! and reading API errors.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::{Api, Resource, ResourceExt};

use crate::events::EventType;
use crate::slim;
use crate::{Expectations, Recorder};

/// Results of [`slow_start`].
pub struct SlowStart<T> {
    /// One result per attempted call.
    pub results: Vec<kube::Result<T>>,
    /// Calls not attempted because a batch failed.
    pub skipped: usize,
}

/// Call `f` `n` times in batches of 1, 2, 4, ... (upstream's
/// `slowStartBatch`), stopping after a batch with a failure.
pub async fn slow_start<T, F, Fut>(n: usize, f: F) -> SlowStart<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = kube::Result<T>>,
{
    let mut results = Vec::with_capacity(n);
    let mut batch = 1;
    let mut done = 0;
    while done < n {
        let size = batch.min(n - done);
        let out: Vec<_> = futures::future::join_all((done..done + size).map(&f)).await;
        done += size;
        let failed = out.iter().any(|r| r.is_err());
        results.extend(out);
        if failed {
            break;
        }
        batch *= 2;
    }
    SlowStart {
        results,
        skipped: n - done,
    }
}

/// Where [`create_pods`] records what it did.
pub struct Owner<'a, K> {
    /// The controller object the events are about.
    pub object: &'a K,
    /// Its work-queue key, under which creations were expected.
    pub key: &'a str,
    /// The controller's expectations.
    pub expectations: &'a Expectations,
    /// The controller's event recorder.
    pub recorder: &'a Recorder,
}

/// Deletion only of the object with `uid` (not of a namesake created
/// since the cache saw it).
pub fn uid_guarded(uid: Option<String>) -> DeleteParams {
    DeleteParams {
        preconditions: Some(Preconditions {
            uid,
            resource_version: None,
        }),
        ..Default::default()
    }
}

/// Create `n` pods in slow-start batches, `make(i)` building the i-th, as
/// upstream's pod control does: a `SuccessfulCreate` event per pod, one
/// `FailedCreate` for the first error, and one creation expectation
/// lowered for every creation that failed or was never attempted (neither
/// will be observed). Returns how many were created and the first error.
pub async fn create_pods<K>(
    api: &Api<Pod>,
    n: usize,
    make: impl Fn(usize) -> Pod,
    owner: Owner<'_, K>,
) -> (usize, Option<anyhow::Error>)
where
    K: Resource<DynamicType = ()>,
{
    let created = slow_start(n, |i| {
        let (api, pod) = (api.clone(), make(i));
        async move { api.create(&PostParams::default(), &pod).await }
    })
    .await;
    let mut made = 0;
    let mut first_error = None;
    for r in &created.results {
        match r {
            Ok(p) => {
                made += 1;
                owner.recorder.event(
                    owner.object,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created pod: {}", p.name_any()),
                );
            }
            Err(e) => {
                owner.expectations.creation_observed(owner.key);
                if first_error.is_none() {
                    owner.recorder.event(
                        owner.object,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {}", api_error(e)),
                    );
                    first_error = Some(anyhow::anyhow!("creating pods: {}", api_error(e)));
                }
            }
        }
    }
    for _ in 0..created.skipped {
        owner.expectations.creation_observed(owner.key);
    }
    (made, first_error)
}

/// Delete `victims` (name, UID precondition), 64 at once, as upstream's
/// pod control does: a `SuccessfulDelete` event per pod, one
/// `FailedDelete` for the first error other than 404, and the deletion
/// expectation of every pod that failed lowered (it will not be seen
/// going). Returns the first error.
pub async fn delete_pods<K>(
    api: &Api<slim::Pod>,
    victims: Vec<(String, Option<String>)>,
    owner: Owner<'_, K>,
) -> Option<anyhow::Error>
where
    K: Resource<DynamicType = ()>,
{
    let results = futures::stream::iter(victims.into_iter().map(|(name, uid)| {
        let api = api.clone();
        async move {
            let dp = uid_guarded(uid);
            let r = api.delete(&name, &dp).await;
            (name, r)
        }
    }))
    .buffer_unordered(64)
    .collect::<Vec<_>>()
    .await;
    let mut first_error = None;
    for (name, r) in results {
        match r {
            Ok(_) => owner.recorder.event(
                owner.object,
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted pod: {name}"),
            ),
            Err(e) => {
                owner.expectations.pod_deletion_observed(owner.key, &name);
                if !is_not_found(&e) && first_error.is_none() {
                    owner.recorder.event(
                        owner.object,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {}", api_error(&e)),
                    );
                    first_error = Some(anyhow::anyhow!("deleting {name}: {}", api_error(&e)));
                }
            }
        }
    }
    first_error
}

/// The message of an API error, as upstream prints it.
pub fn api_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// 409.
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// A merge patch adding (`present`) or removing `finalizer`, guarded by
/// the object's uid and resourceVersion (a stale view gets 409 and is
/// synced again); `None` when the finalizers are already as wanted.
pub fn finalizer_patch(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    finalizer: &str,
    present: bool,
) -> Option<serde_json::Value> {
    let finalizers = meta.finalizers.as_deref().unwrap_or_default();
    if finalizers.iter().any(|f| f == finalizer) == present {
        return None;
    }
    let mut next: Vec<&str> = finalizers
        .iter()
        .map(String::as_str)
        .filter(|f| *f != finalizer)
        .collect();
    if present {
        next.push(finalizer);
    }
    Some(serde_json::json!({"metadata": {
        "uid": meta.uid,
        "resourceVersion": meta.resource_version,
        "finalizers": if next.is_empty() { serde_json::Value::Null } else { serde_json::json!(next) },
    }}))
}
