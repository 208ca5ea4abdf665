//! The ServiceAccounts controller (upstream's `serviceaccount-controller`):
//! every active namespace has a `default` ServiceAccount, created when the
//! namespace appears and again whenever it is deleted.

use std::sync::Arc;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, ResourceExt};

use crate::informer::{Change, key_of};
use crate::{Cluster, Controller, Options, Requeue, WorkQueue};

/// The ServiceAccounts every namespace has.
pub const ENSURED: &[&str] = &["default"];

/// The controller; its keys are namespace names.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    {
        let queue = queue.clone();
        cluster.namespaces.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                queue.add(key_of(new));
            }
        });
    }
    {
        let queue = queue.clone();
        cluster.service_accounts.on_change(move |c| {
            if let Change::Deleted(sa) = c
                && ENSURED.contains(&sa.name_any().as_str())
            {
                queue.add(sa.namespace().unwrap_or_default());
            }
        });
    }
    let resync = {
        let informer = cluster.namespaces.clone();
        move || informer.keys()
    };
    let cluster = cluster.clone();
    Controller::new(
        "serviceaccount",
        queue,
        options.workers,
        resync,
        move |key| {
            let cluster = cluster.clone();
            async move { sync(&cluster, &key).await }
        },
    )
}

/// Whether a namespace takes new objects (not Terminating).
fn is_active(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_none()
        && ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating")
}

async fn sync(cluster: &Cluster, namespace: &str) -> Result<Requeue> {
    let Some(ns) = cluster.namespaces.get("", namespace) else {
        return Ok(None);
    };
    if !is_active(&ns) {
        return Ok(None);
    }
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    for name in ENSURED {
        if cluster.service_accounts.get(namespace, name).is_some() {
            continue;
        }
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some((*name).to_owned()),
                namespace: Some(namespace.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        match api.create(&PostParams::default(), &sa).await {
            Ok(_) => {}
            // Already there (our cache lags), or the namespace is being
            // deleted (forbidden): nothing to do.
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 403 => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("creating ServiceAccount {namespace}/{name}"));
            }
        }
    }
    Ok(None)
}
