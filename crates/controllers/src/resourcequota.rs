//! The ResourceQuota controller (upstream's `resourcequota` controller):
//! every quota's status says its limits (`status.hard`, a copy of
//! `spec.hard`) and what the objects of its namespace use of them
//! (`status.used`), so `kubectl describe quota` reads true.
//!
//! The API server's quota admission raises `used` as objects are created;
//! this controller recounts from the objects present (the arithmetic is
//! `rkube_api::quota`): when a quota appears or its limits change, when
//! something gives quota back — a pod deleted or finished, a service
//! deleted or changing type, a claim deleted or resized — and on every
//! resync. Kinds the shared informers do not cache (ConfigMaps, Secrets,
//! any `count/<resource>.<group>`) are listed through the API; quotas
//! counting them are recounted every [`POLL_PERIOD`], as there is no
//! watch to say when such objects go.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, ResourceQuota, Service};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams};
use kube::{Api, ResourceExt};
use parking_lot::Mutex;
use rkube_api::quota::{self, Evaluator, Object, ResourceList};

use crate::informer::{Change, key_of};
use crate::slim::Pod;
use crate::writes::{api_error, is_not_found};
use crate::{Cluster, Controller, Options, Requeue, WorkQueue};

/// How often a quota counting kinds without an informer is recounted.
pub const POLL_PERIOD: Duration = Duration::from_secs(10);

/// The names of a quota's hard limits (spec, else status).
fn hard_names(q: &ResourceQuota) -> Vec<String> {
    q.spec
        .as_ref()
        .and_then(|s| s.hard.as_ref())
        .or(q.status.as_ref().and_then(|s| s.hard.as_ref()))
        .map(|h| h.keys().cloned().collect())
        .unwrap_or_default()
}

/// Queue the quotas of `namespace` that count objects of `evaluator`.
fn requeue_namespace(cluster: &Cluster, queue: &WorkQueue, namespace: &str, evaluator: &Evaluator) {
    for q in cluster.resource_quotas.list_namespace(namespace) {
        let names = hard_names(&q);
        if !evaluator.matching_resources(&names).is_empty() {
            queue.add(key_of(&*q));
        }
    }
}

/// The type of a service as quota counts it: NodePort, LoadBalancer or
/// neither.
fn quota_service_type(svc: &Service) -> &str {
    let t = svc.spec.as_ref().and_then(|s| s.type_.as_deref());
    t.filter(|t| matches!(*t, "NodePort" | "LoadBalancer"))
        .unwrap_or_default()
}

/// What a claim's storage counts as: requested and allocated.
fn claim_storage(pvc: &PersistentVolumeClaim) -> (Option<String>, Option<String>) {
    let requested = pvc
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone());
    let allocated = pvc
        .status
        .as_ref()
        .and_then(|s| s.allocated_resources.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone());
    (requested, allocated)
}

/// The controller; its keys are quotas (`namespace/name`).
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    {
        let (queue, weak) = (queue.clone(), Arc::downgrade(cluster));
        cluster.resource_quotas.on_change(move |c| {
            let Some(cluster) = weak.upgrade() else {
                return;
            };
            match c {
                Change::Applied { old, new } => {
                    let spec_hard =
                        |q: &ResourceQuota| q.spec.as_ref().and_then(|s| s.hard.clone());
                    if old.is_none_or(|o| spec_hard(o) != spec_hard(new)) {
                        queue.add(key_of(new));
                    }
                    if old.is_none() {
                        // Quotas counting quotas.
                        let ev = Evaluator::for_resource("", "resourcequotas");
                        if let (Some(ns), Some(ev)) = (new.namespace(), ev) {
                            requeue_namespace(&cluster, &queue, &ns, &ev);
                        }
                    }
                }
                Change::Deleted(q) => {
                    if let (Some(ns), Some(ev)) =
                        (q.namespace(), Evaluator::for_resource("", "resourcequotas"))
                    {
                        requeue_namespace(&cluster, &queue, &ns, &ev);
                    }
                }
            }
        });
    }
    {
        let (queue, weak) = (queue.clone(), Arc::downgrade(cluster));
        cluster.pods.on_change(move |c| {
            let released = match c {
                Change::Deleted(p) => Some(p),
                Change::Applied {
                    old: Some(old),
                    new,
                } => {
                    let now = Timestamp::now();
                    let counts = |p: &Pod| {
                        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                        quota::pod_counts_by(&p.metadata, phase, now)
                    };
                    (counts(old) && !counts(new)).then_some(new)
                }
                Change::Applied { old: None, .. } => None,
            };
            if let (Some(p), Some(cluster)) = (released, weak.upgrade()) {
                let ns = p.namespace().unwrap_or_default();
                requeue_namespace(&cluster, &queue, &ns, &Evaluator::Pods);
            }
        });
    }
    {
        let (queue, weak) = (queue.clone(), Arc::downgrade(cluster));
        cluster.services.on_change(move |c| {
            let changed = match c {
                Change::Deleted(s) => Some(s),
                Change::Applied {
                    old: Some(old),
                    new,
                } => (quota_service_type(old) != quota_service_type(new)).then_some(new),
                Change::Applied { old: None, .. } => None,
            };
            if let (Some(s), Some(cluster)) = (changed, weak.upgrade()) {
                let ns = s.namespace().unwrap_or_default();
                requeue_namespace(&cluster, &queue, &ns, &Evaluator::Services);
            }
        });
    }
    {
        let (queue, weak) = (queue.clone(), Arc::downgrade(cluster));
        cluster.persistent_volume_claims.on_change(move |c| {
            let changed = match c {
                Change::Deleted(pvc) => Some(pvc),
                Change::Applied {
                    old: Some(old),
                    new,
                } => (claim_storage(old) != claim_storage(new)).then_some(new),
                Change::Applied { old: None, .. } => None,
            };
            if let (Some(pvc), Some(cluster)) = (changed, weak.upgrade()) {
                let ns = pvc.namespace().unwrap_or_default();
                requeue_namespace(&cluster, &queue, &ns, &Evaluator::Claims);
            }
        });
    }
    let resync = {
        let informer = cluster.resource_quotas.clone();
        move || informer.keys()
    };
    let sync = Arc::new(Sync {
        cluster: cluster.clone(),
        resources: Mutex::new(HashMap::new()),
    });
    Controller::new(
        "resourcequota",
        queue,
        options.workers,
        resync,
        move |key| {
            let sync = sync.clone();
            async move { sync.sync(&key).await }
        },
    )
}

struct Sync {
    cluster: Arc<Cluster>,
    /// Kinds found through discovery, by (group, resource).
    resources: Mutex<HashMap<(String, String), ApiResource>>,
}

impl Sync {
    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(q) = self.cluster.resource_quotas.get_key(key) else {
            return Ok(None);
        };
        let namespace = q.namespace().unwrap_or_default();
        let names = hard_names(&q);
        let now = Timestamp::now();
        let mut measured = ResourceList::new();
        let mut poll = false;
        for evaluator in Evaluator::for_names(&names) {
            let resources = evaluator.matching_resources(&names);
            let usage = match &evaluator {
                Evaluator::Pods => {
                    let pods: Vec<_> = (self.cluster.pods.list_namespace(&namespace).iter())
                        .map(|p| p.to_api())
                        .collect();
                    evaluator.usage_of(&q, &resources, pods.iter().map(Object::Pod), now)
                }
                Evaluator::Services => {
                    let svcs = self.cluster.services.list_namespace(&namespace);
                    evaluator.usage_of(&q, &resources, svcs.iter().map(|s| Object::Service(s)), now)
                }
                Evaluator::Claims => {
                    let claims = self
                        .cluster
                        .persistent_volume_claims
                        .list_namespace(&namespace);
                    evaluator.usage_of(&q, &resources, claims.iter().map(|c| Object::Claim(c)), now)
                }
                Evaluator::Objects { group, resource } => {
                    poll = true;
                    match self.count(group, resource, &namespace).await {
                        Ok(n) => evaluator.usage_of(
                            &q,
                            &resources,
                            std::iter::repeat_n(Object::Other, n),
                            now,
                        ),
                        Err(e) => {
                            // Left as last counted, as upstream leaves a
                            // resource it could not measure.
                            tracing::debug!("resourcequota {key}: counting {resource}: {e:#}");
                            continue;
                        }
                    }
                }
            };
            measured = quota::add(&measured, &usage);
        }
        let requeue = poll.then_some(POLL_PERIOD);
        let Some(status) = quota::recalculated_status(&q, &measured) else {
            return Ok(requeue);
        };
        let mut new = (*q).clone();
        new.status = Some(status);
        let api: Api<ResourceQuota> = Api::namespaced(self.cluster.client.clone(), &namespace);
        match api
            .replace_status(&q.name_any(), &PostParams::default(), &new)
            .await
        {
            Ok(_) => Ok(requeue),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow::anyhow!(api_error(&e)))
                .with_context(|| format!("updating ResourceQuota {key} status")),
        }
    }

    /// How many objects of a kind the namespace holds: from a shared
    /// informer when there is one, else listed through the API.
    async fn count(&self, group: &str, resource: &str, namespace: &str) -> Result<usize> {
        let c = &self.cluster;
        let cached = match (group, resource) {
            ("", "replicationcontrollers") => {
                Some(c.replication_controllers.list_namespace(namespace).len())
            }
            ("", "resourcequotas") => Some(c.resource_quotas.list_namespace(namespace).len()),
            ("", "serviceaccounts") => Some(c.service_accounts.list_namespace(namespace).len()),
            ("", "endpoints") => Some(c.endpoints.list_namespace(namespace).len()),
            ("apps", "deployments") => Some(c.deployments.list_namespace(namespace).len()),
            ("apps", "replicasets") => Some(c.replica_sets.list_namespace(namespace).len()),
            ("apps", "daemonsets") => Some(c.daemon_sets.list_namespace(namespace).len()),
            ("apps", "statefulsets") => Some(c.stateful_sets.list_namespace(namespace).len()),
            ("batch", "jobs") => Some(c.jobs.list_namespace(namespace).len()),
            ("batch", "cronjobs") => Some(c.cron_jobs.list_namespace(namespace).len()),
            _ => None,
        };
        if let Some(n) = cached {
            return Ok(n);
        }
        let ar = self.resource(group, resource).await?;
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), namespace, &ar);
        let list = api
            .list_metadata(&ListParams::default())
            .await
            .with_context(|| format!("listing {resource}"))?;
        Ok(list.items.len())
    }

    /// The served version and kind of a group-resource (discovery, once).
    async fn resource(&self, group: &str, resource: &str) -> Result<ApiResource> {
        let key = (group.to_owned(), resource.to_owned());
        if let Some(ar) = self.resources.lock().get(&key) {
            return Ok(ar.clone());
        }
        let found = kube::discovery::group(&self.cluster.client, group)
            .await
            .with_context(|| format!("discovering group {group:?}"))?
            .recommended_resources()
            .into_iter()
            .map(|(ar, _)| ar)
            .find(|ar| ar.plural == resource)
            .with_context(|| format!("{resource}.{group} is not served"))?;
        self.resources.lock().insert(key, found.clone());
        Ok(found)
    }
}
