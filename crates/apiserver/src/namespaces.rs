//! Namespaces: the ones that exist from the start, and the lifecycle that
//! empties a namespace being deleted and then removes it (upstream's
//! namespace controller).
//!
//! Deleting a namespace marks it Terminating (its `kubernetes` finalizer
//! keeps it). After a grace of five seconds, as upstream, the lifecycle
//! task deletes every namespaced object in it through the ordinary delete
//! path (finalizers and graceful pod
//! deletion apply), and once nothing is left, removes the finalizer via
//! `/finalize`, which lets the namespace go.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use rkube_api::registry::Scope;
use serde_json::json;

use crate::handlers::write::{self, DeleteOptions, Target};
use crate::object::Filter;
use crate::server::ApiServer;

/// How long a deleted namespace waits before its content is deleted, as
/// upstream's namespace controller waits: it lets clients that delete a
/// namespace and its objects together (`kubectl delete -f`) finish first.
const DELETION_GRACE: Duration = Duration::from_secs(5);

/// Namespaces every cluster has.
pub const BUILTIN: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Create the built-in namespaces that do not exist yet.
pub async fn bootstrap(server: &Arc<ApiServer>) -> anyhow::Result<()> {
    let ctx = server.ctx("", "v1", "namespaces", None, None)?;
    server
        .cache
        .sync()
        .await
        .map_err(|s| anyhow::anyhow!("{s}"))?;
    let cache = ctx.cache().map_err(|s| anyhow::anyhow!("{s}"))?;
    for name in BUILTIN {
        if cache.get(name).is_some() {
            continue;
        }
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        match write::create_object(&ctx, obj, false, write::Ownership::Update).await {
            Ok(_) => {}
            Err(s) if s.code == 409 => {}
            Err(s) => anyhow::bail!("creating namespace {name}: {s}"),
        }
    }
    Ok(())
}

/// Run the namespace lifecycle until the server stops.
pub fn spawn_lifecycle(server: Arc<ApiServer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(ctx) = server.ctx("", "v1", "namespaces", None, None) else {
            return;
        };
        let Ok(cache) = ctx.cache() else { return };
        // Wake on any namespace change; also retry periodically while a
        // namespace waits for its content to go.
        let Ok(mut sub) = cache.subscribe(Filter::default(), crate::cache::WatchFrom::Now, false)
        else {
            return;
        };
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                msg = sub.rx.recv() => {
                    if msg.is_none() {
                        match cache.subscribe(Filter::default(), crate::cache::WatchFrom::Now, false) {
                            Ok(s) => sub = s,
                            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                        }
                    }
                }
                _ = ticker.tick() => {}
            }
            let (namespaces, _, _) = cache.list(&Filter::default(), None, 0);
            for ns in namespaces {
                let Ok(value) = ns.value() else { continue };
                let Some(since) = value["metadata"]["deletionTimestamp"]
                    .as_str()
                    .and_then(|t| t.parse::<Timestamp>().ok())
                else {
                    continue;
                };
                let waited = Timestamp::now().duration_since(since);
                if waited.as_secs() < DELETION_GRACE.as_secs() as i64 {
                    continue;
                }
                if let Err(e) = finish(&server, &ns.name).await {
                    tracing::debug!(namespace = %ns.name, error = %e, "namespace not finished yet");
                }
            }
        }
    })
}

/// Delete what is left in a terminating namespace; finalize it when empty.
async fn finish(server: &Arc<ApiServer>, namespace: &str) -> anyhow::Result<()> {
    let mut remaining = 0usize;
    let opts = DeleteOptions {
        propagation: Some("Background".into()),
        ..Default::default()
    };
    for resource in server.registry.get().resources() {
        let info = *resource.info();
        if info.scope != Scope::Namespaced {
            continue;
        }
        let ctx = server.ctx(info.group, info.version, info.plural, Some(namespace), None)?;
        let cache = ctx.cache().map_err(|s| anyhow::anyhow!("{s}"))?;
        let filter = Filter {
            namespace: Some(namespace.to_owned()),
            ..Default::default()
        };
        let (objects, _, _) = cache.list(&filter, None, 0);
        for obj in objects {
            remaining += 1;
            let value = obj.value().map_err(|s| anyhow::anyhow!("{s}"))?;
            if !value["metadata"]["deletionTimestamp"].is_null() {
                continue; // already going; its finalizers or kubelet decide when
            }
            let ctx = server.ctx(
                info.group,
                info.version,
                info.plural,
                Some(namespace),
                Some(&obj.name),
            )?;
            if let Err(s) = write::delete_object(&ctx, &obj.name, &opts).await
                && s.code != 404
            {
                tracing::warn!(namespace, name = %obj.name, error = %s, "deleting namespace content");
            }
        }
    }
    if remaining > 0 {
        anyhow::bail!("{remaining} objects left");
    }
    let ctx = server.ctx("", "v1", "namespaces", None, Some(namespace))?;
    write::write_with_retries(
        &ctx,
        namespace,
        false,
        |current| {
            let current = current.ok_or_else(|| ctx.not_found(namespace))?;
            let mut v = current.clone();
            let finalizers: Vec<serde_json::Value> = v["spec"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != "kubernetes")
                .collect();
            v["spec"]["finalizers"] = serde_json::Value::Array(finalizers);
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((v, String::new()))
        },
        Target::Finalize,
        write::Ownership::Update,
    )
    .await
    .map_err(|s| anyhow::anyhow!("{s}"))?;
    Ok(())
}
