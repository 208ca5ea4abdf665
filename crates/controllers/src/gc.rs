//! The garbage collector (upstream's `garbagecollector` controller):
//! objects whose owners are all gone are deleted, across every kind the
//! API serves, custom resources included.
//!
//! # How it works
//!
//! Discovery lists the resources that can be listed, watched and deleted.
//! For each, the shared informer of the controllers when one caches it
//! ([`Cluster::share_metadata`]: pods, ReplicaSets, Leases, ... are then
//! decoded once, not twice), else a metadata-only watch
//! (`Api<PartialObjectMeta<_>>`), feeds a [`Graph`] of every object's
//! identity, owner references,
//! deletion state and finalizers, indexed by owner uid. Discovery runs
//! again every [`RESYNC`], when a CustomResourceDefinition changes, and
//! when an owner's kind is unknown; new resources get watches, vanished
//! ones lose them.
//!
//! The work queue holds object uids. Working on one:
//! - **being deleted with the `orphan` finalizer**: remove the owner
//!   reference to it from each dependent, then the finalizer;
//! - **being deleted with the `foregroundDeletion` finalizer**: delete its
//!   dependents (they are queued); once none with `blockOwnerDeletion`
//!   is left, remove the finalizer;
//! - **with owners**: classify each owner as solid (exists), dangling
//!   (absent, or another object under the name: checked against the API
//!   when the graph does not know it) or waiting for its dependents
//!   (foreground deletion). With a solid owner, references to the others
//!   are removed; otherwise the object is deleted (in the foreground if
//!   an owner waits for it and it has dependents itself).
//!
//! Deletions of background-deleted owners and of dependents come back
//! through the watches and queue the objects they concern.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use kube::core::PartialObjectMeta;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope, verbs};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::writes::{is_conflict, is_not_found, uid_guarded};
use crate::{Change, Cluster, Controller, MetadataSink, Options, Requeue, WorkQueue};

/// The finalizer of orphaning deletions.
pub const ORPHAN: &str = "orphan";
/// The finalizer of foreground deletions.
pub const FOREGROUND: &str = "foregroundDeletion";
/// Discovery runs again this often (upstream's 30 s monitor resync).
pub const RESYNC: Duration = Duration::from_secs(30);
/// A foreground deletion waiting for dependents looks again this often.
const WAIT_FOR_DEPENDENTS: Duration = Duration::from_secs(1);

/// Resources the collector does not watch (upstream ignores events).
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// An object's kind, shared by every node of the kind.
#[derive(Debug, PartialEq, Eq)]
struct Kind {
    api_version: String,
    kind: String,
}

impl Kind {
    fn of(ar: &ApiResource) -> Arc<Kind> {
        Arc::new(Kind {
            api_version: ar.api_version.clone(),
            kind: ar.kind.clone(),
        })
    }
}

/// What the collector knows of an object. The graph holds one per object
/// in the cluster, so it is kept small: the kind is shared per resource,
/// the namespace per namespace, and the uid between the node, its key in
/// the graph and its entries in its owners' dependent sets.
#[derive(Clone, Debug)]
struct Node {
    kind: Arc<Kind>,
    namespace: Option<Arc<str>>,
    name: Box<str>,
    uid: Arc<str>,
    owners: Box<[OwnerReference]>,
    deleting: bool,
    finalizers: Box<[String]>,
}

impl Node {
    fn from_meta(kind: &Arc<Kind>, meta: &ObjectMeta, graph: &Graph) -> Option<Node> {
        Some(Node {
            kind: kind.clone(),
            namespace: meta
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| graph.namespace(n)),
            name: meta.name.as_deref()?.into(),
            uid: meta.uid.as_deref()?.into(),
            owners: meta.owner_references.as_deref().unwrap_or_default().into(),
            deleting: meta.deletion_timestamp.is_some(),
            finalizers: meta.finalizers.as_deref().unwrap_or_default().into(),
        })
    }

    fn has_finalizer(&self, f: &str) -> bool {
        self.finalizers.iter().any(|x| x == f)
    }

    /// Being deleted in the foreground: waiting for its dependents.
    fn deleting_dependents(&self) -> bool {
        self.deleting && self.has_finalizer(FOREGROUND)
    }

    fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind.kind, self.name),
            None => format!("{} {}", self.kind.kind, self.name),
        }
    }
}

/// A served resource: how to reach objects of a kind.
#[derive(Clone)]
struct Resource {
    ar: ApiResource,
    namespaced: bool,
}

/// Every object, and who owns whom.
#[derive(Default)]
struct Graph {
    nodes: RwLock<HashMap<Arc<str>, Node>>,
    /// Owner uid → dependent uids.
    dependents: RwLock<HashMap<Arc<str>, HashSet<Arc<str>>>>,
    /// Namespace names, shared by the nodes in them.
    namespaces: Mutex<HashSet<Arc<str>>>,
    /// `apiVersion` + kind → resource (every served version).
    kinds: RwLock<HashMap<(String, String), Resource>>,
    /// Whether the first discovery's watches have all listed.
    synced: watch::Sender<bool>,
    /// Run discovery now.
    rediscover: Notify,
}

impl Graph {
    fn node(&self, uid: &str) -> Option<Node> {
        self.nodes.read().get(uid).cloned()
    }

    /// The shared copy of a namespace's name.
    fn namespace(&self, name: &str) -> Arc<str> {
        let mut names = self.namespaces.lock();
        if let Some(n) = names.get(name) {
            return n.clone();
        }
        let n: Arc<str> = name.into();
        names.insert(n.clone());
        n
    }

    fn dependents_of(&self, uid: &str) -> Vec<Node> {
        let deps: Vec<Arc<str>> = self
            .dependents
            .read()
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let nodes = self.nodes.read();
        deps.iter().filter_map(|d| nodes.get(d).cloned()).collect()
    }

    /// The uids of the nodes with a change to look at.
    fn uids_where(&self, f: impl Fn(&Node) -> bool) -> Vec<String> {
        self.nodes
            .read()
            .values()
            .filter(|n| f(n))
            .map(|n| n.uid.to_string())
            .collect()
    }

    fn resource(&self, api_version: &str, kind: &str) -> Option<Resource> {
        self.kinds
            .read()
            .get(&(api_version.to_owned(), kind.to_owned()))
            .cloned()
    }

    /// Record an object; queue what its change concerns.
    fn apply(&self, mut node: Node, queue: &WorkQueue) {
        let old = {
            let mut nodes = self.nodes.write();
            // One allocation of the uid for as long as the object lives.
            if let Some((uid, _)) = nodes.get_key_value(&*node.uid) {
                node.uid = uid.clone();
            }
            nodes.insert(node.uid.clone(), node.clone())
        };
        let uid = &node.uid;
        let old_owners: HashSet<&str> = old
            .as_ref()
            .map(|o| o.owners.iter().map(|r| r.uid.as_str()).collect())
            .unwrap_or_default();
        let new_owners: HashSet<&str> = node.owners.iter().map(|r| r.uid.as_str()).collect();
        {
            let mut deps = self.dependents.write();
            for &gone in old_owners.difference(&new_owners) {
                if let Some(s) = deps.get_mut(gone) {
                    s.remove(uid);
                    if s.is_empty() {
                        deps.remove(gone);
                    }
                }
            }
            for &owner in &new_owners {
                match deps.get_mut(owner) {
                    Some(s) => {
                        s.insert(uid.clone());
                    }
                    None => {
                        deps.insert(owner.into(), HashSet::from([uid.clone()]));
                    }
                }
            }
        }
        // Owners waiting for their dependents: this one changed (or left).
        for &owner in old_owners.union(&new_owners) {
            if self.node(owner).is_some_and(|o| o.deleting_dependents()) {
                queue.add(owner.to_owned());
            }
        }
        let nodes = self.nodes.read();
        // An owner the graph does not know: check it.
        if node
            .owners
            .iter()
            .any(|r| !nodes.contains_key(r.uid.as_str()))
        {
            queue.add(uid.to_string());
        }
        drop(nodes);
        let changed_owners = old.as_ref().is_none_or(|o| o.owners != node.owners);
        if changed_owners && !node.owners.is_empty() {
            queue.add(uid.to_string());
        }
        if node.deleting && (node.has_finalizer(ORPHAN) || node.has_finalizer(FOREGROUND)) {
            queue.add(uid.to_string());
            if node.deleting_dependents() && !old.as_ref().is_some_and(Node::deleting_dependents) {
                for d in self.dependents_of(uid) {
                    queue.add(d.uid.to_string());
                }
            }
        }
    }

    /// Forget an object; its dependents may have lost their last owner.
    fn delete(&self, uid: &str, queue: &WorkQueue) {
        let Some(old) = self.nodes.write().remove(uid) else {
            return;
        };
        {
            let mut deps = self.dependents.write();
            for r in &old.owners {
                if let Some(s) = deps.get_mut(r.uid.as_str()) {
                    s.remove(uid);
                    if s.is_empty() {
                        deps.remove(r.uid.as_str());
                    }
                }
            }
        }
        for r in &old.owners {
            if self.node(&r.uid).is_some_and(|o| o.deleting_dependents()) {
                queue.add(r.uid.clone());
            }
        }
        if let Some(deps) = self.dependents.read().get(uid) {
            for d in deps {
                queue.add(d.to_string());
            }
        }
    }
}

/// The garbage collector: its graph, and the watches feeding it.
struct Gc {
    client: Client,
    /// The shared informers, which feed the graph the resources they
    /// cache instead of a watch of the collector's own.
    cluster: Arc<Cluster>,
    graph: Arc<Graph>,
    queue: WorkQueue,
    monitors: Mutex<HashMap<(String, String), JoinHandle<()>>>,
    /// Resources fed by a shared informer (for good: built-in kinds).
    shared: Mutex<HashSet<(String, String)>>,
    discovery: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Gc {
    fn drop(&mut self) {
        for (_, t) in self.monitors.lock().drain() {
            t.abort();
        }
        if let Some(t) = self.discovery.lock().take() {
            t.abort();
        }
    }
}

/// The controller; its keys are object uids.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let graph = Arc::new(Graph::default());
    let gc = Arc::new(Gc {
        client: cluster.client.clone(),
        cluster: cluster.clone(),
        graph: graph.clone(),
        queue: queue.clone(),
        monitors: Mutex::new(HashMap::new()),
        shared: Mutex::new(HashSet::new()),
        discovery: Mutex::new(None),
    });
    let task = tokio::spawn(discovery_loop(Arc::downgrade(&gc)));
    *gc.discovery.lock() = Some(task);
    let resync = {
        let graph = graph.clone();
        move || graph.uids_where(|n| !n.owners.is_empty() || n.deleting)
    };
    Controller::new(
        "garbagecollector",
        queue,
        options.workers,
        resync,
        move |uid| {
            let gc = gc.clone();
            async move { gc.process(&uid).await }
        },
    )
}

/// Discover resources now, every [`RESYNC`], and when asked to.
async fn discovery_loop(gc: std::sync::Weak<Gc>) {
    let mut first = true;
    loop {
        let Some(strong) = gc.upgrade() else { return };
        let graph = strong.graph.clone();
        match strong.discover().await {
            Ok(waits) if first => {
                first = false;
                drop(strong);
                // Synced once every first watch has listed.
                for w in waits {
                    let mut rx = w;
                    let _ = rx.wait_for(|s| *s).await;
                }
                graph.synced.send_replace(true);
            }
            Ok(_) => drop(strong),
            Err(e) => {
                drop(strong);
                warn!("garbage collector discovery: {e:#}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RESYNC) => {}
            _ = graph.rediscover.notified() => {
                // Let a new definition's versions be served first.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Whether the collector watches a resource.
fn monitored(ar: &ApiResource, caps: &ApiCapabilities) -> bool {
    caps.supports_operation(verbs::LIST)
        && caps.supports_operation(verbs::WATCH)
        && caps.supports_operation(verbs::DELETE)
        && !IGNORED.contains(&(ar.group.as_str(), ar.plural.as_str()))
}

impl Gc {
    /// Run discovery: learn every kind, start watches of new resources and
    /// stop those of vanished ones. Returns the new watches' "listed"
    /// signals.
    async fn discover(&self) -> Result<Vec<watch::Receiver<bool>>> {
        let discovery = Discovery::new(self.client.clone())
            .run()
            .await
            .context("discovery")?;
        let mut kinds = HashMap::new();
        let mut wanted: BTreeMap<(String, String), ApiResource> = BTreeMap::new();
        for group in discovery.groups() {
            for version in group.versions() {
                for (ar, caps) in group.versioned_resources(version) {
                    kinds.insert(
                        (ar.api_version.clone(), ar.kind.clone()),
                        Resource {
                            ar: ar.clone(),
                            namespaced: caps.scope == Scope::Namespaced,
                        },
                    );
                }
            }
            for (ar, caps) in group.recommended_resources() {
                if monitored(&ar, &caps) {
                    wanted.insert((ar.group.clone(), ar.plural.clone()), ar);
                }
            }
        }
        *self.graph.kinds.write() = kinds;
        let mut waits = Vec::new();
        let mut monitors = self.monitors.lock();
        monitors.retain(|key, task| {
            let keep = wanted.contains_key(key);
            if !keep {
                task.abort();
            }
            keep
        });
        let mut shared = self.shared.lock();
        for (key, ar) in wanted {
            if monitors.contains_key(&key) || shared.contains(&key) {
                continue;
            }
            let sink = metadata_sink(&ar, &self.graph, &self.queue);
            if let Some(rx) = self
                .cluster
                .share_metadata(&ar.api_version, &ar.plural, &sink)
            {
                waits.push(rx);
                shared.insert(key);
                continue;
            }
            let (tx, rx) = watch::channel(false);
            waits.push(rx);
            let task = tokio::spawn(monitor(
                self.client.clone(),
                ar,
                self.graph.clone(),
                self.queue.clone(),
                tx,
            ));
            monitors.insert(key, task);
        }
        Ok(waits)
    }

    async fn process(&self, uid: &str) -> Result<Requeue> {
        let mut synced = self.graph.synced.subscribe();
        let _ = synced.wait_for(|s| *s).await;
        let Some(node) = self.graph.node(uid) else {
            return Ok(None);
        };
        if node.deleting && node.has_finalizer(ORPHAN) {
            self.orphan_dependents(&node).await?;
            return Ok(None);
        }
        if node.deleting_dependents() {
            return self.delete_dependents(&node).await;
        }
        if node.owners.is_empty() || node.deleting {
            return Ok(None);
        }
        self.attempt_to_delete(&node).await
    }

    /// The API of objects of `api_version`/`kind` in `namespace` (ignored
    /// for cluster-scoped kinds).
    async fn api_for(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<(Api<DynamicObject>, bool)> {
        let resource = match self.graph.resource(api_version, kind) {
            Some(r) => r,
            None => {
                // A kind discovered since: look again.
                self.discover().await?;
                self.graph
                    .resource(api_version, kind)
                    .ok_or_else(|| anyhow!("unable to get REST mapping for {api_version}/{kind}"))?
            }
        };
        let api = match (resource.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resource.ar),
            (true, None) => return Err(anyhow!("{kind} is namespaced but its dependent is not")),
            (false, _) => Api::all_with(self.client.clone(), &resource.ar),
        };
        Ok((api, resource.namespaced))
    }

    async fn node_api(&self, node: &Node) -> Result<Api<DynamicObject>> {
        Ok(self
            .api_for(
                &node.kind.api_version,
                &node.kind.kind,
                node.namespace.as_deref(),
            )
            .await?
            .0)
    }

    /// Solid, dangling and waiting owners of `node`.
    async fn classify(&self, node: &Node) -> Result<Owners> {
        let mut owners = Owners::default();
        for r in &node.owners {
            if let Some(owner) = self.graph.node(&r.uid) {
                if owner.deleting_dependents() {
                    owners.waiting.push(r.clone());
                } else {
                    owners.solid.push(r.clone());
                }
                continue;
            }
            // Not seen: ask the API (the graph may lag a new owner).
            let (api, _) = self
                .api_for(&r.api_version, &r.kind, node.namespace.as_deref())
                .await?;
            match api.get_metadata_opt(&r.name).await {
                Ok(Some(o)) if o.metadata.uid.as_deref() == Some(r.uid.as_str()) => {
                    let deleting = o.metadata.deletion_timestamp.is_some()
                        && o.metadata
                            .finalizers
                            .iter()
                            .flatten()
                            .any(|f| f == FOREGROUND);
                    if deleting {
                        owners.waiting.push(r.clone());
                    } else {
                        owners.solid.push(r.clone());
                    }
                }
                Ok(_) => owners.dangling.push(r.clone()),
                Err(e) => {
                    return Err(e).with_context(|| format!("getting owner {} {}", r.kind, r.name));
                }
            }
        }
        Ok(owners)
    }

    /// An object with owners: delete it if none is left, or drop the
    /// references to owners that are gone.
    async fn attempt_to_delete(&self, node: &Node) -> Result<Requeue> {
        let owners = self.classify(node).await?;
        if !owners.solid.is_empty() {
            if owners.dangling.is_empty() && owners.waiting.is_empty() {
                return Ok(None);
            }
            let gone: HashSet<&str> = owners
                .dangling
                .iter()
                .chain(&owners.waiting)
                .map(|r| r.uid.as_str())
                .collect();
            debug!(
                "{}: removing references to owners that are gone",
                node.describe()
            );
            self.remove_owner_refs(node, &gone).await?;
            return Ok(None);
        }
        let has_dependents = !self.graph.dependents_of(&node.uid).is_empty();
        let policy = if !owners.waiting.is_empty() && has_dependents {
            PropagationPolicy::Foreground
        } else if node.has_finalizer(ORPHAN) {
            PropagationPolicy::Orphan
        } else if node.has_finalizer(FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        debug!(
            "{}: deleting ({policy:?}), its owners are gone",
            node.describe()
        );
        self.delete_node(node, policy).await?;
        Ok(None)
    }

    async fn delete_node(&self, node: &Node, policy: PropagationPolicy) -> Result<()> {
        let api = self.node_api(node).await?;
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            ..uid_guarded(Some(node.uid.to_string()))
        };
        match api.delete(&node.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {}", node.describe())),
        }
    }

    /// Patch `node`'s owner references without those to `gone` (guarded
    /// by its uid).
    async fn remove_owner_refs(&self, node: &Node, gone: &HashSet<&str>) -> Result<()> {
        let api = self.node_api(node).await?;
        let mut current = match api.get_metadata_opt(&node.name).await? {
            Some(m) if m.metadata.uid.as_deref() == Some(&*node.uid) => m,
            _ => return Ok(()),
        };
        let refs = current.metadata.owner_references.take().unwrap_or_default();
        let kept: Vec<&OwnerReference> = refs
            .iter()
            .filter(|r| !gone.contains(r.uid.as_str()))
            .collect();
        if kept.len() == refs.len() {
            return Ok(());
        }
        let kept = if kept.is_empty() {
            json!(null)
        } else {
            json!(kept)
        };
        let patch = json!({"metadata": {
            "uid": &*node.uid,
            "resourceVersion": current.metadata.resource_version,
            "ownerReferences": kept,
        }});
        match api
            .patch(&node.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => {
                Err(e).with_context(|| format!("removing owner references of {}", node.describe()))
            }
        }
    }

    /// Remove `finalizer` from `node` (guarded by the list it had).
    async fn remove_finalizer(&self, node: &Node, finalizer: &str) -> Result<()> {
        let api = self.node_api(node).await?;
        let current = match api.get_metadata_opt(&node.name).await? {
            Some(m) if m.metadata.uid.as_deref() == Some(&*node.uid) => m,
            _ => return Ok(()),
        };
        let Some(patch) = crate::writes::finalizer_patch(&current.metadata, finalizer, false)
        else {
            return Ok(());
        };
        match api
            .patch(&node.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| {
                format!("removing the {finalizer} finalizer of {}", node.describe())
            }),
        }
    }

    /// Orphan deletion: the dependents lose their reference to `node`,
    /// then `node` loses its `orphan` finalizer.
    async fn orphan_dependents(&self, node: &Node) -> Result<()> {
        let gone: HashSet<&str> = [&*node.uid].into();
        let results = futures::stream::iter(self.graph.dependents_of(&node.uid))
            .map(|d| {
                let gone = &gone;
                async move { self.remove_owner_refs(&d, gone).await }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        for r in results {
            r?;
        }
        self.remove_finalizer(node, ORPHAN).await
    }

    /// Foreground deletion: dependents are deleted (they are queued when
    /// the owner starts its deletion); once none blocks, the owner goes.
    async fn delete_dependents(&self, node: &Node) -> Result<Requeue> {
        let dependents = self.graph.dependents_of(&node.uid);
        let blocking: Vec<&Node> = dependents
            .iter()
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|r| *r.uid == *node.uid && r.block_owner_deletion == Some(true))
            })
            .collect();
        if blocking.is_empty() {
            self.remove_finalizer(node, FOREGROUND).await?;
            return Ok(None);
        }
        for d in &dependents {
            if !d.deleting || d.deleting_dependents() {
                self.queue.add(d.uid.to_string());
            }
        }
        Ok(Some(WAIT_FOR_DEPENDENTS))
    }
}

/// The owners of an object, by what became of them.
#[derive(Default)]
struct Owners {
    solid: Vec<OwnerReference>,
    dangling: Vec<OwnerReference>,
    waiting: Vec<OwnerReference>,
}

/// Watch one resource's metadata into the graph.
async fn monitor(
    client: Client,
    ar: ApiResource,
    graph: Arc<Graph>,
    queue: WorkQueue,
    listed: watch::Sender<bool>,
) {
    let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client, &ar);
    let stream = watcher::watcher(api, watcher::Config::default().any_semantic()).default_backoff();
    futures::pin_mut!(stream);
    let is_crd = ar.group == "apiextensions.k8s.io" && ar.kind == "CustomResourceDefinition";
    let kind = Kind::of(&ar);
    let mut relist: Option<HashSet<Arc<str>>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => relist = Some(HashSet::new()),
            Ok(Event::InitApply(obj)) => {
                if let Some(node) = Node::from_meta(&kind, &obj.metadata, &graph) {
                    if let Some(r) = relist.as_mut() {
                        r.insert(node.uid.clone());
                    }
                    graph.apply(node, &queue);
                }
            }
            Ok(Event::InitDone) => {
                if let Some(seen) = relist.take() {
                    // Objects of this kind that vanished while not watched.
                    let gone = graph.uids_where(|n| *n.kind == *kind && !seen.contains(&n.uid));
                    for uid in gone {
                        graph.delete(&uid, &queue);
                    }
                }
                listed.send_replace(true);
            }
            Ok(Event::Apply(obj)) => {
                if let Some(node) = Node::from_meta(&kind, &obj.metadata, &graph) {
                    graph.apply(node, &queue);
                }
                if is_crd {
                    graph.rediscover.notify_one();
                }
            }
            Ok(Event::Delete(obj)) => {
                if let Some(uid) = obj.metadata.uid.as_deref() {
                    graph.delete(uid, &queue);
                }
                if is_crd {
                    graph.rediscover.notify_one();
                }
            }
            Err(e) => debug!("garbage collector watching {}: {e}", ar.plural),
        }
    }
}

/// Feeds the graph the changes a shared informer sees of `ar`'s objects
/// (a relisting informer reports what vanished as deleted).
fn metadata_sink(ar: &ApiResource, graph: &Arc<Graph>, queue: &WorkQueue) -> MetadataSink {
    let (kind, graph, queue) = (Kind::of(ar), graph.clone(), queue.clone());
    Arc::new(move |change| match change {
        Change::Applied { new, .. } => {
            if let Some(node) = Node::from_meta(&kind, new, &graph) {
                graph.apply(node, &queue);
            }
        }
        Change::Deleted(old) => {
            if let Some(uid) = old.uid.as_deref() {
                graph.delete(uid, &queue);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: &str, owners: &[(&str, bool)], deleting: bool, finalizers: &[&str]) -> Node {
        Node {
            kind: Arc::new(Kind {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
            }),
            namespace: Some("default".into()),
            name: uid.into(),
            uid: uid.into(),
            owners: owners
                .iter()
                .map(|(o, block)| OwnerReference {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name: (*o).into(),
                    uid: (*o).into(),
                    block_owner_deletion: Some(*block),
                    controller: None,
                })
                .collect(),
            deleting,
            finalizers: finalizers.iter().map(|f| (*f).into()).collect(),
        }
    }

    #[tokio::test]
    async fn the_graph_indexes_dependents_and_queues_what_changes_concern() {
        let g = Graph::default();
        let q = WorkQueue::new();
        g.apply(node("owner", &[], false, &[]), &q);
        g.apply(node("dep", &[("owner", true)], false, &[]), &q);
        // A new dependent with owners is looked at.
        assert_eq!(q.next().await.as_deref(), Some("dep"));
        q.done("dep");
        assert_eq!(g.dependents_of("owner").len(), 1);

        // The owner starts a foreground deletion: it and its dependents
        // are queued.
        g.apply(node("owner", &[], true, &[FOREGROUND]), &q);
        let mut got = vec![q.next().await.unwrap(), q.next().await.unwrap()];
        got.sort();
        assert_eq!(got, ["dep", "owner"]);
        q.done("dep");
        q.done("owner");

        // The dependent goes: the waiting owner is queued.
        g.delete("dep", &q);
        assert_eq!(q.next().await.as_deref(), Some("owner"));
        assert!(g.dependents_of("owner").is_empty());
    }

    #[tokio::test]
    async fn an_owner_deleted_queues_its_dependents() {
        let g = Graph::default();
        let q = WorkQueue::new();
        g.apply(node("owner", &[], false, &[]), &q);
        g.apply(node("dep", &[("owner", false)], false, &[]), &q);
        assert_eq!(q.next().await.as_deref(), Some("dep"));
        q.done("dep");
        g.delete("owner", &q);
        assert_eq!(q.next().await.as_deref(), Some("dep"));
    }
}
