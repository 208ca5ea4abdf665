//! The watch cache: every object of every kind in memory, fed by one watch
//! on the store, serving all lists, gets and watches (as kube-apiserver's
//! cacher does).
//!
//! # How it stays current
//! At start (and after any failure of the store watch) the cache lists the
//! whole `/registry/` prefix at one revision, then watches it from the next
//! revision on. Each store event is decoded once into a [`CachedObject`]
//! (JSON with its resourceVersion, labels, selectable fields), applied to
//! its kind's [`ResourceCache`] and fanned out to that kind's watchers. The
//! cache's revision is the revision of the last event applied; a read that
//! must be consistent waits until it reaches the store's current revision.
//!
//! # Watchers
//! A watcher owns a bounded queue. The dispatcher never waits for one: if a
//! watcher's queue is full, the watcher is dropped and its stream ends, as
//! upstream's cacher ends an unresponsive watcher's. The client re-watches
//! from the last resourceVersion it saw (replayed from the ring below, or
//! 410 Expired and a fresh list), so one slow client can neither stall the
//! others nor grow memory without bound. The queue is deep enough for a
//! client busy for a few seconds under a burst (a rolling update of
//! thousands of pods) to catch up without losing its watch.
//! The JSON line of an event is built once and shared by every watcher that
//! takes the event as it is.
//!
//! # Resuming
//! Each kind keeps a ring of its recent events, so a watch from a recent
//! resourceVersion replays exactly what it missed; older ones get 410
//! Expired, as upstream.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use parking_lot::RwLock;
use rkube_api::registry::{Registry, Resource, ResourceInfo};
use rkube_api::status::Status;
use rkube_store::{EventKind, ListOptions, Store, WatchItem};
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;
use crate::object::{CachedObject, Filter};

/// Events each kind remembers for resuming watches.
pub const RING_CAPACITY: usize = 1024;
/// Messages a watcher may have queued before it is dropped. A queued
/// message is a pointer to an event the cache holds anyway, and the queue
/// allocates as it fills, so an idle watcher costs nothing for the depth.
pub const WATCHER_QUEUE: usize = 8192;
/// How long a read waits for the cache to reach a revision.
const WAIT_LIMIT: Duration = Duration::from_secs(3);
/// Keys read per page when (re)loading the whole store.
const RELIST_PAGE: usize = 5000;
/// How often watchers that asked for bookmarks get one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// The type of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// The object appeared (or started matching).
    Added,
    /// The object changed.
    Modified,
    /// The object went away (or stopped matching).
    Deleted,
}

impl EventType {
    /// As the watch protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change of one object, as the cache applied it.
#[derive(Debug)]
pub struct CachedEvent {
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for a deletion: its last state, at the
    /// deletion's revision).
    pub object: Arc<CachedObject>,
    /// The object before the change, for updates and deletions.
    pub prev: Option<Arc<CachedObject>>,
    line: OnceLock<Bytes>,
}

/// A JSON watch line: `{"type":"...","object":...}` and a newline.
pub fn watch_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(object.len() + 32);
    out.put_slice(b"{\"type\":\"");
    out.put_slice(kind.as_bytes());
    out.put_slice(b"\",\"object\":");
    out.put_slice(object);
    out.put_slice(b"}\n");
    out.freeze()
}

impl CachedEvent {
    /// The event's JSON watch line in the storage version, built on first
    /// use and shared afterwards.
    pub fn line(&self) -> Bytes {
        self.line
            .get_or_init(|| watch_line(self.kind.as_str(), &self.object.json))
            .clone()
    }
}

/// What a watcher receives.
#[derive(Clone, Debug)]
pub enum WatchMsg {
    /// An event as the cache saw it (its shared line is usable as is).
    Shared(Arc<CachedEvent>),
    /// An event whose type or object differs for this watcher.
    Event(EventType, Arc<CachedObject>),
    /// Everything up to this revision has been sent.
    Bookmark(i64),
}

struct Watcher {
    id: u64,
    filter: Filter,
    tx: mpsc::Sender<WatchMsg>,
    bookmarks: bool,
    dropped: Arc<AtomicBool>,
}

struct Inner {
    objects: BTreeMap<String, Arc<CachedObject>>,
    events: VecDeque<Arc<CachedEvent>>,
    /// Every event with a revision above this one is in `events`.
    floor: i64,
    watchers: Vec<Watcher>,
}

/// The cache of one kind.
pub struct ResourceCache {
    /// The kind.
    pub resource: Arc<Resource>,
    prefix: String,
    inner: RwLock<Inner>,
    next_id: AtomicU64,
    metrics: Arc<Metrics>,
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug)]
pub enum WatchFrom {
    /// Send the current state as ADDED events first (resourceVersion unset
    /// or "0").
    Now,
    /// Only changes after this revision.
    After(i64),
}

/// A registered watch: the initial events, then a queue of live ones.
pub struct Subscription {
    /// Events to send first.
    pub initial: Vec<WatchMsg>,
    /// Live events.
    pub rx: mpsc::Receiver<WatchMsg>,
    /// Set when the watcher was dropped for falling behind.
    pub dropped: Arc<AtomicBool>,
    cache: Weak<ResourceCache>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(cache) = self.cache.upgrade() {
            let mut inner = cache.inner.write();
            inner.watchers.retain(|w| w.id != self.id);
            cache
                .metrics
                .watchers(cache.info().plural, inner.watchers.len() as i64);
        }
    }
}

/// A consistent view of a kind's objects.
pub struct Snapshot {
    /// The matching objects, in key order.
    pub objects: Vec<Arc<CachedObject>>,
    /// The revision it reflects.
    pub revision: i64,
}

impl ResourceCache {
    /// The kind's static description.
    pub fn info(&self) -> &ResourceInfo {
        self.resource.info()
    }

    /// The object with this key suffix (`ns/name` or `name`).
    pub fn get(&self, rest: &str) -> Option<Arc<CachedObject>> {
        self.inner.read().objects.get(rest).cloned()
    }

    /// The objects matching `filter`, from key suffix `start` on, at most
    /// `limit` (0: all), with the total of matches when it is cheap to know.
    pub fn list(
        &self,
        filter: &Filter,
        start: Option<&str>,
        limit: usize,
    ) -> (Vec<Arc<CachedObject>>, bool, Option<usize>) {
        let inner = self.inner.read();
        let info = self.info();
        let ns_prefix = filter
            .namespace
            .as_ref()
            .filter(|_| info.namespaced())
            .map(|ns| format!("{ns}/"));
        let lower = match (start, &ns_prefix) {
            (Some(s), Some(p)) => s.max(p.as_str()).to_owned(),
            (Some(s), None) => s.to_owned(),
            (None, Some(p)) => p.clone(),
            (None, None) => String::new(),
        };
        let mut out = Vec::new();
        let mut more = false;
        let mut seen = 0usize;
        for (key, obj) in inner.objects.range(lower..) {
            if let Some(p) = &ns_prefix
                && !key.starts_with(p.as_str())
            {
                break;
            }
            if !filter.matches(info, obj) {
                continue;
            }
            if limit > 0 && out.len() == limit {
                more = true;
                if !filter.is_trivial() {
                    break;
                }
            }
            seen += 1;
            if limit == 0 || out.len() < limit {
                out.push(obj.clone());
            }
        }
        let remaining = (more && filter.is_trivial()).then(|| seen - out.len());
        (out, more, remaining)
    }

    /// Register a watcher.
    pub fn subscribe(
        self: &Arc<Self>,
        filter: Filter,
        from: WatchFrom,
        bookmarks: bool,
    ) -> Result<Subscription, Status> {
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        let dropped = Arc::new(AtomicBool::new(false));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.inner.write();
        let info = self.info();
        let initial = match from {
            WatchFrom::Now => inner
                .objects
                .values()
                .filter(|o| filter.matches(info, o))
                .map(|o| WatchMsg::Event(EventType::Added, o.clone()))
                .collect(),
            WatchFrom::After(rev) => {
                if rev < inner.floor {
                    return Err(Status::too_old(rev, inner.floor + 1));
                }
                inner
                    .events
                    .iter()
                    .filter(|e| e.object.revision > rev)
                    .filter_map(|e| event_for(info, &filter, e))
                    .collect()
            }
        };
        inner.watchers.push(Watcher {
            id,
            filter,
            tx,
            bookmarks,
            dropped: dropped.clone(),
        });
        self.metrics
            .watchers(info.plural, inner.watchers.len() as i64);
        Ok(Subscription {
            initial,
            rx,
            dropped,
            cache: Arc::downgrade(self),
            id,
        })
    }

    /// Apply one store event and fan it out.
    fn apply(
        &self,
        kind: EventKind,
        rest: &str,
        value: &[u8],
        revision: i64,
        prepared: Option<Arc<CachedObject>>,
    ) {
        let info = self.info();
        let object = match prepared {
            Some(o) => o,
            None => match CachedObject::from_stored(info, rest, value, revision) {
                Ok(o) => Arc::new(o),
                Err(e) => {
                    tracing::error!(key = %format!("{}{rest}", self.prefix), error = %e, "skipping undecodable stored object");
                    return;
                }
            },
        };
        let mut inner = self.inner.write();
        let (kind, prev) = match kind {
            EventKind::Deleted => (EventType::Deleted, inner.objects.remove(rest)),
            EventKind::Created | EventKind::Updated => {
                let prev = inner.objects.insert(rest.to_owned(), object.clone());
                (
                    if prev.is_some() {
                        EventType::Modified
                    } else {
                        EventType::Added
                    },
                    prev,
                )
            }
        };
        let event = Arc::new(CachedEvent {
            kind,
            object,
            prev,
            line: OnceLock::new(),
        });
        if inner.events.len() == RING_CAPACITY
            && let Some(old) = inner.events.pop_front()
        {
            inner.floor = old.object.revision;
        }
        inner.events.push_back(event.clone());
        let before = inner.watchers.len();
        inner
            .watchers
            .retain(|w| match event_for(info, &w.filter, &event) {
                None => true,
                Some(msg) => deliver(w, msg),
            });
        if inner.watchers.len() != before {
            self.metrics
                .watchers(info.plural, inner.watchers.len() as i64);
        }
    }

    /// Replace the whole state (after a re-list); every watcher is dropped,
    /// since what it missed cannot be told apart from what it saw.
    fn reset(&self, objects: BTreeMap<String, Arc<CachedObject>>, revision: i64) {
        let mut inner = self.inner.write();
        inner.objects = objects;
        inner.events.clear();
        inner.floor = revision;
        for w in inner.watchers.drain(..) {
            w.dropped.store(true, Ordering::Release);
        }
        self.metrics.watchers(self.info().plural, 0);
    }

    fn bookmark(&self, revision: i64) {
        let mut inner = self.inner.write();
        inner
            .watchers
            .retain(|w| !w.bookmarks || deliver(w, WatchMsg::Bookmark(revision)));
    }

    /// The number of objects held.
    pub fn len(&self) -> usize {
        self.inner.read().objects.len()
    }

    /// Whether no object is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Queue a message for a watcher; false (drop it) when its queue is full.
fn deliver(w: &Watcher, msg: WatchMsg) -> bool {
    match w.tx.try_send(msg) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            w.dropped.store(true, Ordering::Release);
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// What a watcher with `filter` sees of `event`, if anything: an object
/// that starts matching is ADDED, one that stops matching is DELETED (in
/// its previous state, at the event's revision).
fn event_for(info: &ResourceInfo, filter: &Filter, event: &Arc<CachedEvent>) -> Option<WatchMsg> {
    let now = filter.matches(info, &event.object);
    match event.kind {
        EventType::Added | EventType::Deleted => now.then(|| WatchMsg::Shared(event.clone())),
        EventType::Modified => {
            let before = event.prev.as_ref().is_some_and(|p| filter.matches(info, p));
            match (before, now) {
                (true, true) => Some(WatchMsg::Shared(event.clone())),
                (false, true) => Some(WatchMsg::Event(EventType::Added, event.object.clone())),
                (true, false) => {
                    let prev = event.prev.as_ref()?;
                    Some(WatchMsg::Event(
                        EventType::Deleted,
                        Arc::new(prev.at_revision(event.object.revision)),
                    ))
                }
                (false, false) => None,
            }
        }
    }
}

/// The cache of every kind.
pub struct WatchCache {
    store: Arc<dyn Store>,
    caches: RwLock<HashMap<String, Arc<ResourceCache>>>,
    revision: watch::Sender<i64>,
    /// Held while an event is applied, and while a kind is added: a new
    /// kind's starting revision is exact.
    applying: parking_lot::Mutex<()>,
    /// Called for events under a prefix (custom resource definitions).
    hook: std::sync::OnceLock<(String, Hook)>,
    /// The highest revision the store reported progress to (a hint; see
    /// `follow`).
    progress: std::sync::atomic::AtomicI64,
    /// Objects this server just wrote, by store key and revision, built by
    /// the writer from the value it had parsed: their store events use them
    /// instead of decoding the stored bytes a second time.
    written: parking_lot::Mutex<HashMap<(String, i64), Arc<CachedObject>>>,
    metrics: Arc<Metrics>,
}

/// At most this many written objects wait for their events (a bound in
/// case events are never seen, e.g. across a re-list).
const WRITTEN_CAPACITY: usize = 4096;

/// Split a store key into its kind prefix and the rest.
fn split_key(key: &str) -> Option<(&str, &str)> {
    // "/registry/<group>/<plural>/<rest>"
    let mut slashes = key.match_indices('/').map(|(i, _)| i);
    let fourth = slashes.nth(3)?;
    Some((&key[..=fourth], &key[fourth + 1..]))
}

impl WatchCache {
    /// Load every object and start following the store.
    pub async fn start(
        store: Arc<dyn Store>,
        registry: &Registry,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<WatchCache>> {
        let cache = Arc::new(WatchCache {
            store,
            caches: RwLock::new(HashMap::new()),
            revision: watch::Sender::new(0),
            applying: parking_lot::Mutex::new(()),
            hook: std::sync::OnceLock::new(),
            progress: std::sync::atomic::AtomicI64::new(0),
            written: Default::default(),
            metrics,
        });
        for resource in registry.resources() {
            cache.add_resource(resource.clone());
        }
        let revision = cache.relist().await?;
        let weak = Arc::downgrade(&cache);
        tokio::spawn(follow(weak.clone(), revision));
        tokio::spawn(bookmarks(weak));
        Ok(cache)
    }

    /// Start caching one more kind (custom resources, later).
    pub fn add_resource(&self, resource: Arc<Resource>) -> Arc<ResourceCache> {
        self.insert_resource(resource).0
    }

    /// Register a kind's cache; returns it, whether it is new, and the
    /// revision it starts from (everything before is the store's to tell).
    fn insert_resource(&self, resource: Arc<Resource>) -> (Arc<ResourceCache>, bool, i64) {
        let _applying = self.applying.lock();
        let prefix = resource.info().key_prefix();
        let revision = *self.revision.borrow();
        let mut caches = self.caches.write();
        if let Some(existing) = caches.get(&prefix) {
            // Same storage, maybe a new definition (a changed CRD).
            if !Arc::ptr_eq(&existing.resource, &resource) {
                let replacement = Arc::new(ResourceCache {
                    resource,
                    prefix: prefix.clone(),
                    inner: RwLock::new(std::mem::replace(
                        &mut *existing.inner.write(),
                        Inner {
                            objects: BTreeMap::new(),
                            events: VecDeque::new(),
                            floor: revision,
                            watchers: Vec::new(),
                        },
                    )),
                    next_id: AtomicU64::new(existing.next_id.load(Ordering::Relaxed)),
                    metrics: self.metrics.clone(),
                });
                caches.insert(prefix, replacement.clone());
                return (replacement, false, revision);
            }
            return (existing.clone(), false, revision);
        }
        let cache = Arc::new(ResourceCache {
            resource,
            prefix: prefix.clone(),
            inner: RwLock::new(Inner {
                objects: BTreeMap::new(),
                events: VecDeque::new(),
                floor: revision,
                watchers: Vec::new(),
            }),
            next_id: AtomicU64::new(0),
            metrics: self.metrics.clone(),
        });
        caches.insert(prefix, cache.clone());
        (cache, true, revision)
    }

    /// Start caching a kind whose objects may already be stored (custom
    /// resources after a restart, or defined through another server): the
    /// cache starts following events at once, and the objects stored
    /// before are read from the store at the revision it started from.
    pub async fn add_resource_loaded(
        &self,
        resource: Arc<Resource>,
    ) -> anyhow::Result<Arc<ResourceCache>> {
        let (cache, new, revision) = self.insert_resource(resource);
        if !new || revision == 0 {
            return Ok(cache);
        }
        let prefix = cache.prefix.clone();
        let mut start = None;
        loop {
            let page = self
                .store
                .list(
                    &prefix,
                    ListOptions {
                        revision: Some(revision),
                        start: start.take(),
                        limit: Some(RELIST_PAGE),
                    },
                )
                .await?;
            let info = *cache.info();
            let mut inner = cache.inner.write();
            for kv in &page.kvs {
                let rest = &kv.key[prefix.len()..];
                // Events applied since `revision` are newer than the list.
                let touched = inner.objects.contains_key(rest)
                    || inner
                        .events
                        .iter()
                        .any(|e| e.object.namespace_name_matches(rest, &info));
                if touched {
                    continue;
                }
                if let Ok(obj) = CachedObject::from_stored(&info, rest, &kv.value, kv.mod_revision)
                {
                    inner.objects.insert(rest.to_owned(), Arc::new(obj));
                }
            }
            drop(inner);
            start = page.kvs.last().map(|kv| format!("{}\0", kv.key));
            if !page.more {
                break;
            }
        }
        Ok(cache)
    }

    /// The cache of a kind.
    pub fn resource(&self, info: &ResourceInfo) -> Option<Arc<ResourceCache>> {
        self.caches.read().get(&info.key_prefix()).cloned()
    }

    /// The revision the cache reflects.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Wait until the cache reflects `revision` (504 after a few seconds,
    /// as upstream answers a resourceVersion it has not reached).
    pub async fn wait_for(&self, revision: i64) -> Result<(), Status> {
        let mut rx = self.revision.subscribe();
        let reached = tokio::time::timeout(WAIT_LIMIT, rx.wait_for(|r| *r >= revision)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            // Revisions without events under /registry/ (another writer in a
            // shared etcd) are known only from progress reports.
            _ if self.progress.load(std::sync::atomic::Ordering::Acquire) >= revision => Ok(()),
            _ => {
                let mut s = Status::timeout(format!(
                    "Too large resource version: {revision}, current: {}",
                    self.revision()
                ));
                s.details.retry_after_seconds = Some(1);
                s.details.causes.push(rkube_api::status::Cause {
                    reason: "ResourceVersionTooLarge".into(),
                    message: "Too large resource version".into(),
                    field: String::new(),
                });
                Err(s)
            }
        }
    }

    /// Wait until the cache reflects every write acknowledged so far: what
    /// makes a read from the cache consistent.
    pub async fn sync(&self) -> Result<i64, Status> {
        let current = self
            .store
            .current_revision()
            .await
            .map_err(Status::internal)?;
        self.wait_for(current).await?;
        Ok(current.max(self.revision()))
    }

    /// List everything at one revision and rebuild every kind's state.
    async fn relist(&self) -> anyhow::Result<i64> {
        // Page through the store at one revision: one huge answer would
        // exceed message limits (etcd) and hold memory twice.
        let mut kvs = Vec::new();
        let mut revision = None;
        let mut start = None;
        loop {
            let page = self
                .store
                .list(
                    "/registry/",
                    ListOptions {
                        revision,
                        start: start.take(),
                        limit: Some(RELIST_PAGE),
                    },
                )
                .await?;
            revision = Some(page.revision);
            let more = page.more;
            start = page.kvs.last().map(|kv| format!("{}\0", kv.key));
            kvs.extend(page.kvs);
            if !more {
                break;
            }
        }
        let list = rkube_store::ListResult {
            kvs,
            revision: revision.unwrap_or(0),
            more: false,
        };
        let mut per_kind: HashMap<String, BTreeMap<String, Arc<CachedObject>>> = HashMap::new();
        let caches: Vec<(String, Arc<ResourceCache>)> = self
            .caches
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for kv in &list.kvs {
            let Some((prefix, rest)) = split_key(&kv.key) else {
                continue;
            };
            let Some((_, cache)) = caches.iter().find(|(p, _)| p == prefix) else {
                continue;
            };
            match CachedObject::from_stored(cache.info(), rest, &kv.value, kv.mod_revision) {
                Ok(obj) => {
                    per_kind
                        .entry(prefix.to_owned())
                        .or_default()
                        .insert(rest.to_owned(), Arc::new(obj));
                }
                Err(e) => {
                    tracing::error!(key = %kv.key, error = %e, "skipping undecodable stored object")
                }
            }
        }
        for (prefix, cache) in caches {
            cache.reset(per_kind.remove(&prefix).unwrap_or_default(), list.revision);
        }
        self.revision.send_replace(list.revision);
        Ok(list.revision)
    }

    /// Apply one store event: to its kind's cache, then the cache's
    /// revision, atomically with respect to [`add_resource`](Self::add_resource).
    fn apply_event(&self, e: &rkube_store::Event) {
        let _applying = self.applying.lock();
        let prepared = {
            let mut written = self.written.lock();
            if written.is_empty() {
                None
            } else {
                let found = written.remove(&(e.kv.key.clone(), e.kv.mod_revision));
                // Events come in revision order: older entries are stale.
                written.retain(|(_, rev), _| *rev > e.kv.mod_revision);
                found
            }
        };
        if let Some((prefix, rest)) = split_key(&e.kv.key) {
            let cache = self.caches.read().get(prefix).cloned();
            if let Some(cache) = cache {
                let prepared = prepared.filter(|_| e.kind != EventKind::Deleted);
                cache.apply(e.kind, rest, &e.kv.value, e.kv.mod_revision, prepared);
            }
        }
        self.revision.send_if_modified(|r| {
            let advanced = e.kv.mod_revision > *r;
            *r = (*r).max(e.kv.mod_revision);
            advanced
        });
    }

    /// Hand over an object this server wrote at `revision` under the store
    /// key `key`, so its event need not decode it again.
    pub fn remember_written(&self, key: &str, object: Arc<CachedObject>) {
        let mut written = self.written.lock();
        if written.len() >= WRITTEN_CAPACITY {
            written.clear();
        }
        written.insert((key.to_owned(), object.revision), object);
    }

    /// Call `hook` (once per event, in order, before later events are
    /// applied) for events under `prefix`: how custom resource definitions
    /// add and remove kinds exactly where their events fall in history.
    pub fn set_hook(&self, prefix: String, hook: Hook) {
        let _ = self.hook.set((prefix, hook));
    }

    /// Stop caching a kind (its watchers are dropped).
    pub fn remove_resource(&self, info: &ResourceInfo) {
        let _applying = self.applying.lock();
        if let Some(cache) = self.caches.write().remove(&info.key_prefix()) {
            cache.reset(BTreeMap::new(), self.revision());
        }
    }
}

/// A callback for events under a prefix; see [`WatchCache::set_hook`].
pub type Hook =
    Box<dyn Fn(rkube_store::Event) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// Follow the store's changes forever, re-listing after any failure.
async fn follow(cache: Weak<WatchCache>, mut revision: i64) {
    loop {
        let Some(c) = cache.upgrade() else { return };
        let stream = c.store.watch("/registry/", revision + 1).await;
        drop(c);
        match stream {
            Ok(mut stream) => {
                while let Some(item) = stream.next().await {
                    let Some(c) = cache.upgrade() else { return };
                    match item {
                        Ok(WatchItem::Events(events)) => {
                            for e in events.iter() {
                                c.apply_event(e);
                                if let Some((prefix, hook)) = c.hook.get()
                                    && e.kv.key.starts_with(prefix.as_str())
                                {
                                    hook(e.clone()).await;
                                }
                            }
                        }
                        Ok(WatchItem::Progress(rev)) => {
                            // Only a hint: etcd before 3.4.26 may report
                            // progress past events it has not sent yet, so
                            // the cache's revision moves with events alone.
                            c.progress
                                .fetch_max(rev, std::sync::atomic::Ordering::AcqRel);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "store watch failed; re-listing");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "store watch could not start; re-listing"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some(c) = cache.upgrade() else { return };
        match c.relist().await {
            Ok(rev) => revision = rev,
            Err(e) => {
                tracing::error!(error = %e, "re-listing the store failed");
                revision = c.revision();
            }
        }
    }
}

/// Send bookmarks to the watchers that asked for them.
async fn bookmarks(cache: Weak<WatchCache>) {
    let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(c) = cache.upgrade() else { return };
        let revision = c.revision();
        let caches: Vec<_> = c.caches.read().values().cloned().collect();
        for rc in caches {
            rc.bookmark(revision);
        }
    }
}
