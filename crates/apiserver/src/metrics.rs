//! `/metrics`: request counts and latencies by verb and resource, watcher
//! counts, and store operation latencies, in the Prometheus text format.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rkube_store::{KeyValue, ListOptions, ListResult, Result, Revision, Store, WatchStream};

type Labels = Vec<(&'static str, String)>;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    watchers: Family<Labels, Gauge>,
    store: Family<Labels, Histogram>,
}

fn histogram() -> Histogram {
    // 0.5 ms .. ~33 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

impl Metrics {
    /// Fresh metrics.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let latency =
            Family::<Labels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        let watchers = Family::<Labels, Gauge>::default();
        let store =
            Family::<Labels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "apiserver_request",
            "Requests by verb, resource and HTTP code",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Request latency by verb and resource (watches: until the response starts)",
            latency.clone(),
        );
        registry.register(
            "apiserver_registered_watchers",
            "Watchers registered in the watch cache, by resource",
            watchers.clone(),
        );
        registry.register(
            "rkube_storage_operation_duration_seconds",
            "Store operation latency by operation and backend",
            store.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            watchers,
            store,
        }
    }

    /// Record one request.
    pub fn request(&self, verb: &str, resource: &str, code: u16, started: Instant) {
        self.requests
            .get_or_create(&vec![
                ("verb", verb.to_owned()),
                ("resource", resource.to_owned()),
                ("code", code.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![
                ("verb", verb.to_owned()),
                ("resource", resource.to_owned()),
            ])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Set the number of watchers of a resource.
    pub fn watchers(&self, resource: &str, count: i64) {
        self.watchers
            .get_or_create(&vec![("resource", resource.to_owned())])
            .set(count);
    }

    fn store_op(&self, operation: &'static str, backend: &'static str, started: Instant) {
        self.store
            .get_or_create(&vec![
                ("operation", operation.to_owned()),
                ("backend", backend.to_owned()),
            ])
            .observe(started.elapsed().as_secs_f64());
    }

    /// The text exposition.
    pub fn encode(&self) -> Bytes {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        Bytes::from(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A [`Store`] that times every operation into [`Metrics`].
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> MeteredStore {
        MeteredStore { inner, metrics }
    }
}

#[async_trait::async_trait]
impl Store for MeteredStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let t = Instant::now();
        let r = self.inner.get(key).await;
        self.metrics.store_op("get", self.backend(), t);
        r
    }
    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResult> {
        let t = Instant::now();
        let r = self.inner.list(prefix, options).await;
        self.metrics.store_op("list", self.backend(), t);
        r
    }
    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        let t = Instant::now();
        let r = self.inner.create(key, value).await;
        self.metrics.store_op("create", self.backend(), t);
        r
    }
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        let t = Instant::now();
        let r = self.inner.update(key, value, expected).await;
        self.metrics.store_op("update", self.backend(), t);
        r
    }
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let t = Instant::now();
        let r = self.inner.delete(key, expected).await;
        self.metrics.store_op("delete", self.backend(), t);
        r
    }
    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream> {
        self.inner.watch(prefix, start).await
    }
    async fn current_revision(&self) -> Result<Revision> {
        let t = Instant::now();
        let r = self.inner.current_revision().await;
        self.metrics.store_op("current_revision", self.backend(), t);
        r
    }
    async fn compact(&self, revision: Revision) -> Result<()> {
        let t = Instant::now();
        let r = self.inner.compact(revision).await;
        self.metrics.store_op("compact", self.backend(), t);
        r
    }
    async fn compacted_revision(&self) -> Result<Revision> {
        self.inner.compacted_revision().await
    }
}
