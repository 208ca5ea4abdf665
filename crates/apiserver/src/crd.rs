//! CustomResourceDefinitions at run time: each definition becomes served
//! kinds in the registry (and thus in discovery, OpenAPI, the cache), its
//! status reports the names accepted and the definition established, and
//! deleting it deletes its objects first (its cleanup finalizer).
//!
//! Kinds are added and removed from the watch cache's event hook, at the
//! exact point of history where the definition changed, so no object event
//! of a new kind can arrive before the kind is known — on this server or on
//! another server sharing the store.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use rkube_api::kinds::apiextensions::{CLEANUP_FINALIZER, CustomResourceDefinitions};
use rkube_api::kinds::custom::CustomKind;
use rkube_api::meta::now;
use rkube_api::registry::Strategy;
use rkube_store::EventKind;
use serde_json::{Value, json};

use crate::cache::WatchFrom;
use crate::handlers::write::{self, DeleteOptions, Ownership, Target};
use crate::object::Filter;
use crate::server::ApiServer;

/// Which definitions are registered, at which generation.
#[derive(Default)]
struct Registered(parking_lot::Mutex<HashMap<String, i64>>);

/// Serve every stored definition, follow changes, and run the status and
/// cleanup loop.
pub async fn install(server: &Arc<ApiServer>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let info = CustomResourceDefinitions::INFO;
    let registered = Arc::new(Registered::default());
    let weak: Weak<ApiServer> = Arc::downgrade(server);
    let hook_registered = registered.clone();
    server.cache.set_hook(
        info.key_prefix(),
        Box::new(move |event| {
            let weak = weak.clone();
            let registered = hook_registered.clone();
            Box::pin(async move {
                if let Some(server) = weak.upgrade() {
                    on_event(&server, &registered, event).await;
                }
            })
        }),
    );
    let cache = server
        .cache
        .resource(&info)
        .ok_or_else(|| anyhow::anyhow!("definitions are not cached"))?;
    let (existing, _, _) = cache.list(&Filter::default(), None, 0);
    for obj in existing {
        register(server, &registered, &obj.json).await;
    }
    let server = server.clone();
    Ok(tokio::spawn(async move { lifecycle(server).await }))
}

async fn on_event(server: &Arc<ApiServer>, registered: &Registered, event: rkube_store::Event) {
    match event.kind {
        EventKind::Deleted => unregister(server, registered, &event.kv.value),
        EventKind::Created | EventKind::Updated => {
            register(server, registered, &event.kv.value).await
        }
    }
}

async fn register(server: &Arc<ApiServer>, registered: &Registered, json: &[u8]) {
    let Ok(crd) = serde_json::from_slice::<CustomResourceDefinition>(json) else {
        return;
    };
    let name = crd.metadata.name.clone().unwrap_or_default();
    let generation = crd.metadata.generation.unwrap_or(0);
    if registered.0.lock().get(&name) == Some(&generation) {
        return; // only status or metadata changed
    }
    let mut resource = None;
    server
        .registry
        .update(|r| match CustomKind::register(r, &crd) {
            Ok(res) => resource = Some(res),
            Err(e) => {
                tracing::warn!(crd = %name, error = %e, "cannot serve custom resource definition")
            }
        });
    if let Some(resource) = resource {
        if let Err(e) = server.cache.add_resource_loaded(resource).await {
            tracing::error!(crd = %name, error = %e, "loading custom resources");
        }
        registered.0.lock().insert(name, generation);
    }
}

fn unregister(server: &Arc<ApiServer>, registered: &Registered, json: &[u8]) {
    let Ok(crd) = serde_json::from_slice::<CustomResourceDefinition>(json) else {
        return;
    };
    let group = crd.spec.group.clone();
    let plural = crd.spec.names.plural.clone();
    let registry = server.registry.get();
    if let Some(resource) = registry.resource(&group, &plural) {
        server.cache.remove_resource(resource.info());
    }
    server.registry.update(|r| r.remove(&group, &plural));
    registered
        .0
        .lock()
        .remove(crd.metadata.name.as_deref().unwrap_or(""));
}

/// Keep definitions' status current and clean up deleted ones.
async fn lifecycle(server: Arc<ApiServer>) {
    let info = CustomResourceDefinitions::INFO;
    let Some(cache) = server.cache.resource(&info) else {
        return;
    };
    let Ok(mut sub) = cache.subscribe(Filter::default(), WatchFrom::Now, false) else {
        return;
    };
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            msg = sub.rx.recv() => {
                if msg.is_none() {
                    match cache.subscribe(Filter::default(), WatchFrom::Now, false) {
                        Ok(s) => sub = s,
                        Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                    }
                }
            }
            _ = ticker.tick() => {}
        }
        let (crds, _, _) = cache.list(&Filter::default(), None, 0);
        for obj in crds {
            let Ok(value) = obj.value() else { continue };
            let result = if value["metadata"]["deletionTimestamp"].is_null() {
                establish(&server, &obj.name, &value).await
            } else {
                cleanup(&server, &obj.name, &value).await
            };
            if let Err(e) = result {
                tracing::debug!(crd = %obj.name, error = %e, "custom resource definition not settled yet");
            }
        }
    }
}

fn condition(kind: &str, reason: &str, message: &str, time: &Value) -> Value {
    json!({"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": time})
}

/// Report the names accepted and the definition established.
async fn establish(server: &Arc<ApiServer>, name: &str, crd: &Value) -> anyhow::Result<()> {
    let names = &crd["spec"]["names"];
    let storage: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"] == true)
        .map(|v| v["name"].clone())
        .collect();
    let status = &crd["status"];
    let established = status["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    });
    let stored_ok = storage.iter().all(|v| {
        status["storedVersions"]
            .as_array()
            .is_some_and(|s| s.contains(v))
    });
    if established && status["acceptedNames"] == *names && stored_ok {
        return Ok(());
    }
    let ctx = server.ctx(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        None,
        Some(name),
    )?;
    write::write_with_retries(
        &ctx,
        name,
        false,
        |current| {
            let current = current.ok_or_else(|| ctx.not_found(name))?;
            let mut v = current.clone();
            let time =
                serde_json::to_value(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()))
                    .unwrap_or(Value::Null);
            v["status"]["acceptedNames"] = v["spec"]["names"].clone();
            v["status"]["conditions"] = json!([
                condition("NamesAccepted", "NoConflicts", "no conflicts found", &time),
                condition(
                    "Established",
                    "InitialNamesAccepted",
                    "the initial names have been accepted",
                    &time
                ),
            ]);
            let mut stored: Vec<Value> = v["status"]["storedVersions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for s in &storage {
                if !stored.contains(s) {
                    stored.push(s.clone());
                }
            }
            v["status"]["storedVersions"] = Value::Array(stored);
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((v, String::new()))
        },
        Target::Status,
        Ownership::Update,
    )
    .await
    .map_err(|s| anyhow::anyhow!("{s}"))?;
    Ok(())
}

/// Delete a deleted definition's objects, then let the definition go.
async fn cleanup(server: &Arc<ApiServer>, name: &str, crd: &Value) -> anyhow::Result<()> {
    let has_finalizer = crd["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f == CLEANUP_FINALIZER));
    if !has_finalizer {
        return Ok(());
    }
    let group = crd["spec"]["group"].as_str().unwrap_or("").to_owned();
    let plural = crd["spec"]["names"]["plural"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let registry = server.registry.get();
    let mut remaining = 0;
    if let Some(resource) = registry.resource(&group, &plural) {
        let info = *resource.info();
        if let Some(cache) = server.cache.resource(&info) {
            let (objects, _, _) = cache.list(&Filter::default(), None, 0);
            let opts = DeleteOptions {
                propagation: Some("Background".into()),
                ..Default::default()
            };
            for obj in objects {
                remaining += 1;
                let ns = (!obj.namespace.is_empty()).then_some(obj.namespace.as_str());
                let ctx = server.ctx(info.group, info.version, info.plural, ns, Some(&obj.name))?;
                if let Err(s) = write::delete_object(&ctx, &obj.name, &opts).await
                    && s.code != 404
                {
                    tracing::warn!(name = %obj.name, error = %s, "deleting a custom resource");
                }
            }
        }
    }
    if remaining > 0 {
        anyhow::bail!("{remaining} custom resources left");
    }
    let ctx = server.ctx(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        None,
        Some(name),
    )?;
    write::write_with_retries(
        &ctx,
        name,
        false,
        |current| {
            let current = current.ok_or_else(|| ctx.not_found(name))?;
            let mut v = current.clone();
            let finalizers: Vec<Value> = v["metadata"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != CLEANUP_FINALIZER)
                .collect();
            v["metadata"]["finalizers"] = Value::Array(finalizers);
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((v, String::new()))
        },
        Target::Main,
        Ownership::Update,
    )
    .await
    .map_err(|s| anyhow::anyhow!("{s}"))?;
    Ok(())
}
