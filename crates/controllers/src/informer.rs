//! Shared informers: one watch per kind for every controller, a local
//! cache of its objects by namespace, and change handlers (which only
//! enqueue keys; the work happens in the controllers' workers).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource, ResourceExt};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::warn;

/// One change seen by an informer.
pub enum Change<'a, K> {
    /// Added (`old` is None) or modified.
    Applied {
        /// The object before, if it was known.
        old: Option<&'a K>,
        /// The object now.
        new: &'a K,
    },
    /// Deleted (the last state known).
    Deleted(&'a K),
}

impl<'a, K: Resource> Change<'a, K> {
    /// The same change, of the objects' metadata.
    pub fn metadata(&self) -> Change<'a, ObjectMeta> {
        match *self {
            Change::Applied { old, new } => Change::Applied {
                old: old.map(|o| o.meta()),
                new: new.meta(),
            },
            Change::Deleted(o) => Change::Deleted(o.meta()),
        }
    }
}

type Handler<K> = Box<dyn Fn(Change<'_, K>) + Send + Sync>;

/// A cache of one kind, kept current by a watch.
pub struct Informer<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            inner: self.inner.clone(),
        }
    }
}

/// (namespace, controller UID) → name → object.
type ControllerIndex<K> = HashMap<(String, String), HashMap<String, Arc<K>>>;

struct Inner<K> {
    /// Namespace ("" for cluster-scoped kinds) → name → object.
    objects: RwLock<BTreeMap<String, HashMap<String, Arc<K>>>>,
    /// (namespace, controller UID, "" for none) → name → object: what a
    /// controller owns and what it may adopt, without a scan of the
    /// namespace. Changed under the `objects` lock, after it.
    by_controller: RwLock<ControllerIndex<K>>,
    handlers: RwLock<Vec<Handler<K>>>,
    synced: watch::Sender<bool>,
}

impl<K> Default for Informer<K> {
    fn default() -> Self {
        Informer {
            inner: Arc::new(Inner {
                objects: RwLock::new(BTreeMap::new()),
                by_controller: RwLock::new(HashMap::new()),
                handlers: RwLock::new(Vec::new()),
                synced: watch::channel(false).0,
            }),
        }
    }
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    /// An informer that starts watching with [`Informer::run`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Call `handler` for every change from now on (register before
    /// [`Informer::run`] so that the first listing is seen too).
    pub fn on_change(&self, handler: impl Fn(Change<'_, K>) + Send + Sync + 'static) {
        self.inner.handlers.write().push(Box::new(handler));
    }

    /// Like [`Informer::on_change`], but may come late: `handler` first
    /// sees every cached object as added, then every change. Registered
    /// under the cache's lock, so no change falls between the two.
    pub fn on_change_replaying(&self, handler: impl Fn(Change<'_, K>) + Send + Sync + 'static) {
        let objects = self.inner.objects.read();
        for obj in objects.values().flat_map(HashMap::values) {
            handler(Change::Applied {
                old: None,
                new: obj,
            });
        }
        self.inner.handlers.write().push(Box::new(handler));
    }

    /// Whether the first listing is in, as a signal.
    pub fn synced_signal(&self) -> watch::Receiver<bool> {
        self.inner.synced.subscribe()
    }

    /// Queue `key(object)` on `queue` for every change (the new state, or
    /// the last one known of a deleted object).
    pub fn enqueue(
        &self,
        queue: &crate::WorkQueue,
        key: impl Fn(&K) -> Option<String> + Send + Sync + 'static,
    ) {
        let queue = queue.clone();
        self.on_change(move |c| {
            let obj = match c {
                Change::Applied { new, .. } => new,
                Change::Deleted(old) => old,
            };
            if let Some(k) = key(obj) {
                queue.add(k);
            }
        });
    }

    /// The keys of every cached object (a controller's resync).
    pub fn keys(&self) -> Vec<String> {
        self.inner
            .objects
            .read()
            .values()
            .flat_map(|m| m.values().map(|o| key_of(&**o)))
            .collect()
    }

    /// The object `namespace/name` ("" namespace for cluster-scoped kinds).
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.inner.objects.read().get(namespace)?.get(name).cloned()
    }

    /// The object for a key `namespace/name` or `name`.
    pub fn get_key(&self, key: &str) -> Option<Arc<K>> {
        let (ns, name) = split_key(key);
        self.get(ns, name)
    }

    /// The objects of `namespace` whose controller (owner reference with
    /// `controller: true`) has `uid`; `uid` "" gives those with no
    /// controller.
    pub fn controlled_by(&self, namespace: &str, uid: &str) -> Vec<Arc<K>> {
        self.inner
            .by_controller
            .read()
            .get(&(namespace.to_owned(), uid.to_owned()))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object of a namespace.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.inner
            .objects
            .read()
            .get(namespace)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.inner
            .objects
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.inner.objects.read().values().map(HashMap::len).sum()
    }

    /// Whether no object is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wait until the first listing is in.
    pub async fn synced(&self) {
        let mut rx = self.inner.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Watch `api` until the task is dropped.
    pub async fn run(self, api: Api<K>) {
        let stream =
            watcher::watcher(api, watcher::Config::default().any_semantic()).default_backoff();
        futures::pin_mut!(stream);
        let mut relist: Option<HashMap<(String, String), K>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => relist = Some(HashMap::new()),
                Ok(Event::InitApply(mut obj)) => {
                    // Dropped at once, not when the listing is complete:
                    // a listing held whole with its field ownership would
                    // be several times the size of the cache.
                    obj.meta_mut().managed_fields = None;
                    if let Some(r) = relist.as_mut() {
                        r.insert((obj.namespace().unwrap_or_default(), obj.name_any()), obj);
                    }
                }
                Ok(Event::InitDone) => {
                    if let Some(r) = relist.take() {
                        self.replace_all(r);
                    }
                    self.inner.synced.send_replace(true);
                }
                Ok(Event::Apply(obj)) => self.apply(obj),
                Ok(Event::Delete(obj)) => self.delete(&obj),
                Err(e) => warn!("watching {}: {e}", K::plural(&Default::default())),
            }
        }
    }

    fn apply(&self, mut obj: K) {
        // No controller reads field ownership; it is most of a cached
        // object's size (upstream's informers drop it the same way).
        obj.meta_mut().managed_fields = None;
        let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
        let new = Arc::new(obj);
        let old = {
            let mut objects = self.inner.objects.write();
            let old = objects
                .entry(ns.clone())
                .or_default()
                .insert(name.clone(), new.clone());
            let mut index = self.inner.by_controller.write();
            if let Some(o) = &old {
                unindex(&mut index, &ns, &name, o.meta());
            }
            index
                .entry((ns, controller_uid(new.meta())))
                .or_default()
                .insert(name, new.clone());
            old
        };
        self.notify(Change::Applied {
            old: old.as_deref(),
            new: &new,
        });
    }

    fn delete(&self, obj: &K) {
        let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
        let removed = {
            let mut objects = self.inner.objects.write();
            let removed = objects.get_mut(&ns).and_then(|m| m.remove(&name));
            if objects.get(&ns).is_some_and(HashMap::is_empty) {
                objects.remove(&ns);
            }
            if let Some(o) = &removed {
                unindex(&mut self.inner.by_controller.write(), &ns, &name, o.meta());
            }
            removed
        };
        self.notify(Change::Deleted(removed.as_deref().unwrap_or(obj)));
    }

    /// A fresh listing: what is gone was deleted, the rest applied.
    fn replace_all(&self, listed: HashMap<(String, String), K>) {
        let mut gone = Vec::new();
        {
            let objects = self.inner.objects.read();
            for (ns, m) in objects.iter() {
                for (name, obj) in m {
                    if !listed.contains_key(&(ns.clone(), name.clone())) {
                        gone.push(obj.clone());
                    }
                }
            }
        }
        for obj in gone {
            self.delete(&obj);
        }
        for (_, obj) in listed {
            let unchanged = self
                .get(&obj.namespace().unwrap_or_default(), &obj.name_any())
                .is_some_and(|o| o.resource_version() == obj.resource_version());
            if !unchanged {
                self.apply(obj);
            }
        }
    }

    fn notify(&self, change: Change<'_, K>) {
        for h in self.inner.handlers.read().iter() {
            h(match &change {
                Change::Applied { old, new } => Change::Applied { old: *old, new },
                Change::Deleted(o) => Change::Deleted(o),
            });
        }
    }
}

/// The UID of the controller of an object with `meta` ("" if none).
fn controller_uid(meta: &ObjectMeta) -> String {
    crate::pods::controller_ref(meta)
        .map(|r| r.uid.clone())
        .unwrap_or_default()
}

fn unindex<K>(index: &mut ControllerIndex<K>, ns: &str, name: &str, meta: &ObjectMeta) {
    let key = (ns.to_owned(), controller_uid(meta));
    if let Some(m) = index.get_mut(&key) {
        m.remove(name);
        if m.is_empty() {
            index.remove(&key);
        }
    }
}

/// Start an informer on every object of a kind.
pub fn spawn_all<K>(client: &Client, informer: &Informer<K>) -> tokio::task::JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    tokio::spawn(informer.clone().run(Api::<K>::all(client.clone())))
}

/// `namespace/name` of a key (`name` alone for cluster-scoped objects).
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// The key of an object: `namespace/name`, or `name` when cluster-scoped.
pub fn key_of<K: Resource>(obj: &K) -> String {
    match obj.meta().namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", obj.meta().name.as_deref().unwrap_or("")),
        _ => obj.meta().name.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(split_key("ns/a"), ("ns", "a"));
        assert_eq!(split_key("node-1"), ("", "node-1"));
    }

    fn pod(name: &str, controller: Option<&str>) -> k8s_openapi::api::core::v1::Pod {
        let mut p = k8s_openapi::api::core::v1::Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some("ns".into());
        p.metadata.owner_references = controller.map(|uid| {
            vec![
                k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                    uid: uid.into(),
                    controller: Some(true),
                    ..Default::default()
                },
            ]
        });
        p
    }

    fn names(v: Vec<Arc<k8s_openapi::api::core::v1::Pod>>) -> Vec<String> {
        let mut n: Vec<String> = v.iter().map(|p| p.name_any()).collect();
        n.sort();
        n
    }

    #[test]
    fn objects_are_indexed_by_controller() {
        let inf = Informer::<k8s_openapi::api::core::v1::Pod>::new();
        inf.apply(pod("a", Some("rs1")));
        inf.apply(pod("b", Some("rs1")));
        inf.apply(pod("c", None));
        assert_eq!(names(inf.controlled_by("ns", "rs1")), ["a", "b"]);
        assert_eq!(names(inf.controlled_by("ns", "")), ["c"]);
        assert!(inf.controlled_by("other", "rs1").is_empty());
        // Released, adopted, deleted: the index follows.
        inf.apply(pod("a", None));
        inf.apply(pod("c", Some("rs2")));
        assert_eq!(names(inf.controlled_by("ns", "rs1")), ["b"]);
        assert_eq!(names(inf.controlled_by("ns", "")), ["a"]);
        assert_eq!(names(inf.controlled_by("ns", "rs2")), ["c"]);
        inf.delete(&pod("b", Some("rs1")));
        assert!(inf.controlled_by("ns", "rs1").is_empty());
    }

    #[test]
    fn a_late_handler_sees_the_cache_then_the_changes() {
        let inf = Informer::<k8s_openapi::api::core::v1::Pod>::new();
        inf.apply(pod("a", None));
        inf.apply(pod("b", None));
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let log = seen.clone();
        inf.on_change_replaying(move |c| {
            let entry = match c.metadata() {
                Change::Applied { old, new } => {
                    format!(
                        "{}{}",
                        if old.is_some() { "~" } else { "+" },
                        new.name.as_deref().unwrap()
                    )
                }
                Change::Deleted(m) => format!("-{}", m.name.as_deref().unwrap()),
            };
            log.lock().push(entry);
        });
        let mut replayed = seen.lock().clone();
        replayed.sort();
        assert_eq!(replayed, ["+a", "+b"]);
        inf.apply(pod("a", Some("rs1")));
        inf.delete(&pod("b", None));
        assert_eq!(seen.lock()[2..], ["~a", "-b"]);
    }
}
