//! The watch cache on a real (SQLite) store: events reach watchers once,
//! in order; a watcher that stops reading is dropped without holding up the
//! others; resuming from a resourceVersion replays exactly what was missed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use rkube_apiserver::cache::{RING_CAPACITY, WATCHER_QUEUE, WatchCache, WatchFrom, WatchMsg};
use rkube_apiserver::metrics::Metrics;
use rkube_apiserver::object::Filter;
use rkube_store::Store;
use rkube_store::sqlite::SqliteStore;

fn configmap(name: &str, n: usize) -> Bytes {
    Bytes::from(format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","namespace":"default"}},"data":{{"n":"{n}"}}}}"#
    ))
}

async fn setup() -> (
    tempfile::TempDir,
    Arc<dyn Store>,
    Arc<WatchCache>,
    rkube_api::registry::ResourceInfo,
) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).unwrap());
    let registry = rkube_api::kinds::builtin();
    let cache = WatchCache::start(store.clone(), &registry, Arc::new(Metrics::new()))
        .await
        .unwrap();
    let info = *registry.resource("", "configmaps").unwrap().info();
    (dir, store, cache, info)
}

async fn next(rx: &mut tokio::sync::mpsc::Receiver<WatchMsg>) -> WatchMsg {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event in time")
        .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_watcher_is_dropped_and_the_others_get_everything() {
    let (_dir, store, cache, info) = setup().await;
    let rc = cache.resource(&info).unwrap();
    let mut reader = rc
        .subscribe(Filter::default(), WatchFrom::Now, false)
        .unwrap();
    let stalled = rc
        .subscribe(Filter::default(), WatchFrom::Now, false)
        .unwrap();

    // More events than a watcher's queue holds, from concurrent writers
    // so that group commit keeps the test short.
    let writers = 32;
    let per_writer = WATCHER_QUEUE / writers + 50;
    let total = writers * per_writer;
    let writer = tokio::spawn({
        let store = store.clone();
        async move {
            let tasks: Vec<_> = (0..writers)
                .map(|w| {
                    let store = store.clone();
                    let name = format!("cm-{w}");
                    let key = info.key(Some("default"), &name);
                    tokio::spawn(async move {
                        let mut rev = store.create(&key, configmap(&name, 0)).await.unwrap();
                        for n in 1..per_writer {
                            rev = store.update(&key, configmap(&name, n), rev).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
    let mut seen = 0;
    let mut last = 0;
    while seen < total {
        match next(&mut reader.rx).await {
            WatchMsg::Shared(e) => {
                assert!(e.object.revision > last, "events in revision order");
                last = e.object.revision;
                seen += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    writer.await.unwrap();
    assert!(
        stalled.dropped.load(Ordering::Acquire),
        "the stalled watcher must be dropped"
    );
    assert!(!reader.dropped.load(Ordering::Acquire));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_replays_what_was_missed_and_old_versions_expire() {
    let (_dir, store, cache, info) = setup().await;
    let key = info.key(Some("default"), "cm");
    let first = store.create(&key, configmap("cm", 0)).await.unwrap();
    let mut rev = first;
    for n in 1..5 {
        rev = store.update(&key, configmap("cm", n), rev).await.unwrap();
    }
    cache.wait_for(rev).await.unwrap();
    let rc = cache.resource(&info).unwrap();
    let sub = rc
        .subscribe(Filter::default(), WatchFrom::After(first + 2), false)
        .unwrap();
    let replayed: Vec<i64> = sub
        .initial
        .iter()
        .map(|m| match m {
            WatchMsg::Shared(e) => e.object.revision,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(replayed, vec![first + 3, first + 4]);

    // The same JSON line is shared by every watcher of an event.
    let a = rc
        .subscribe(Filter::default(), WatchFrom::After(first), false)
        .unwrap();
    let b = rc
        .subscribe(Filter::default(), WatchFrom::After(first), false)
        .unwrap();
    match (&a.initial[0], &b.initial[0]) {
        (WatchMsg::Shared(x), WatchMsg::Shared(y)) => {
            let (lx, ly) = (x.line(), y.line());
            assert_eq!(lx.as_ptr(), ly.as_ptr(), "one serialization per event");
        }
        other => panic!("unexpected {other:?}"),
    }

    // Push the first revisions out of the kind's ring: 410.
    for n in 5..RING_CAPACITY + 100 {
        rev = store.update(&key, configmap("cm", n), rev).await.unwrap();
    }
    cache.wait_for(rev).await.unwrap();
    let err = rc
        .subscribe(Filter::default(), WatchFrom::After(first), false)
        .err()
        .expect("expired");
    assert_eq!(err.code, 410);
    assert!(
        err.message.starts_with("too old resource version"),
        "{}",
        err.message
    );
}

/// A store larger than one etcd message (4 MiB) loads at start: the cache
/// pages through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_a_large_store_from_etcd() {
    let etcd = tokio::task::spawn_blocking(rkube_testkit::etcd::EtcdServer::start)
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(
        rkube_store::etcd::EtcdStore::connect(std::slice::from_ref(&etcd.endpoint))
            .await
            .unwrap(),
    );
    let registry = rkube_api::kinds::builtin();
    let info = *registry.resource("", "configmaps").unwrap().info();
    let filler = "x".repeat(1000);
    let total = 6000; // ~6 MB
    let writers: Vec<_> = (0..32)
        .map(|w| {
            let store = store.clone();
            let filler = filler.clone();
            tokio::spawn(async move {
                for i in (w..total).step_by(32) {
                    let name = format!("cm-{i:05}");
                    let value = format!(
                        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","namespace":"default"}},"data":{{"f":"{filler}"}}}}"#
                    );
                    store.create(&info.key(Some("default"), &name), Bytes::from(value)).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let cache = WatchCache::start(store.clone(), &registry, Arc::new(Metrics::new()))
        .await
        .unwrap();
    assert_eq!(cache.resource(&info).unwrap().len(), total);
}
