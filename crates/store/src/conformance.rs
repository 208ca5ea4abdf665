//! The behaviour every [`Store`] backend must show, as runnable checks.
//!
//! Each check takes a fresh, empty store. A backend's tests instantiate all
//! of them with [`conformance_tests!`](crate::conformance_tests), passing an
//! expression that opens a fresh store and returns a value that keeps it (and
//! whatever it needs, such as a temporary directory or an etcd process)
//! alive; that value must implement [`Fixture`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{Error, EventKind, ListOptions, Store, WatchItem, WatchStream};

/// What a backend's test set-up returns: the store under test, kept alive
/// together with its resources.
pub trait Fixture {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;
}

/// Instantiate every conformance check as a `#[tokio::test]` in the calling
/// module. `$fixture` is an async expression yielding a [`Fixture`].
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:expr) => {
        $crate::conformance_tests!(@each $fixture;
            create_and_get, revisions_increase, update_is_compare_and_swap,
            delete_is_compare_and_swap, list_prefix_in_order, list_pages,
            list_at_old_revision, watch_replays_history, watch_live_changes,
            watch_only_its_prefix, compaction_forgets_history,
            concurrent_creates_get_distinct_revisions, concurrent_cas_is_linearizable,
            recreate_after_delete);
    };
    (@each $fixture:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $fixture;
                let store = $crate::conformance::Fixture::store(&fixture);
                $crate::conformance::$case(&*store).await;
            }
        )*
    };
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Wait for the next batch of events on a watch, skipping progress notes.
async fn next_events(watch: &mut WatchStream) -> Vec<crate::Event> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), watch.next())
            .await
            .expect("no watch event within 10s")
            .expect("watch ended")
            .expect("watch failed");
        match item {
            WatchItem::Events(events) => return events.as_ref().clone(),
            WatchItem::Progress(_) => continue,
        }
    }
}

/// Collect at least `n` events from a watch.
async fn collect_events(watch: &mut WatchStream, n: usize) -> Vec<crate::Event> {
    let mut events = Vec::new();
    while events.len() < n {
        events.extend(next_events(watch).await);
    }
    events
}

/// `create` stores a value at a new revision; a second `create` fails.
pub async fn create_and_get(store: &dyn Store) {
    let rev = store.create("/t/a", b("one")).await.unwrap();
    assert!(rev > 0);
    let kv = store
        .get("/t/a")
        .await
        .unwrap()
        .expect("created key is readable");
    assert_eq!(kv.value, b("one"));
    assert_eq!(kv.create_revision, rev);
    assert_eq!(kv.mod_revision, rev);
    assert!(matches!(
        store.create("/t/a", b("two")).await,
        Err(Error::AlreadyExists(_))
    ));
    assert_eq!(store.get("/t/a").await.unwrap().unwrap().value, b("one"));
    assert_eq!(store.get("/t/missing").await.unwrap(), None);
}

/// Every write gets a strictly greater revision; the current revision is
/// the last write's.
pub async fn revisions_increase(store: &dyn Store) {
    let mut last = store.current_revision().await.unwrap();
    for i in 0..20 {
        let rev = store.create(&format!("/t/k{i}"), b("v")).await.unwrap();
        assert!(rev > last, "revision {rev} after {last}");
        last = rev;
    }
    let rev = store
        .update(
            "/t/k0",
            b("w"),
            store.get("/t/k0").await.unwrap().unwrap().mod_revision,
        )
        .await
        .unwrap();
    assert!(rev > last);
    assert_eq!(store.current_revision().await.unwrap(), rev);
}

/// `update` succeeds only on the expected revision and reports the current
/// value on a conflict.
pub async fn update_is_compare_and_swap(store: &dyn Store) {
    let created = store.create("/t/a", b("one")).await.unwrap();
    let updated = store.update("/t/a", b("two"), created).await.unwrap();
    assert!(updated > created);
    let kv = store.get("/t/a").await.unwrap().unwrap();
    assert_eq!(
        (kv.value.clone(), kv.create_revision, kv.mod_revision),
        (b("two"), created, updated)
    );

    match store.update("/t/a", b("stale"), created).await {
        Err(Error::Conflict { current, .. }) => {
            assert_eq!(current.value, b("two"));
            assert_eq!(current.mod_revision, updated);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.get("/t/a").await.unwrap().unwrap().value, b("two"));
    assert!(matches!(
        store.update("/t/none", b("x"), 1).await,
        Err(Error::NotFound(_))
    ));
}

/// `delete` honours its precondition and returns what it removed.
pub async fn delete_is_compare_and_swap(store: &dyn Store) {
    let created = store.create("/t/a", b("one")).await.unwrap();
    assert!(matches!(
        store.delete("/t/a", Some(created - 1)).await,
        Err(Error::Conflict { .. })
    ));
    let (rev, old) = store.delete("/t/a", Some(created)).await.unwrap();
    assert!(rev > created);
    assert_eq!(old.value, b("one"));
    assert_eq!(store.get("/t/a").await.unwrap(), None);
    assert!(matches!(
        store.delete("/t/a", None).await,
        Err(Error::NotFound(_))
    ));

    store.create("/t/b", b("x")).await.unwrap();
    let (_, old) = store.delete("/t/b", None).await.unwrap();
    assert_eq!(old.value, b("x"));
}

/// `list` returns exactly the keys under the prefix, in key order.
pub async fn list_prefix_in_order(store: &dyn Store) {
    for key in ["/t/p/c", "/t/p/a", "/t/p/b", "/t/q/a", "/t/pa", "/t/o"] {
        store.create(key, b(key)).await.unwrap();
    }
    let list = store.list("/t/p/", ListOptions::default()).await.unwrap();
    let keys: Vec<_> = list.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/t/p/a", "/t/p/b", "/t/p/c"]);
    assert_eq!(list.kvs[0].value, b("/t/p/a"));
    assert!(!list.more);
    assert_eq!(list.revision, store.current_revision().await.unwrap());
}

/// `limit` and `start` page through a prefix.
pub async fn list_pages(store: &dyn Store) {
    for i in 0..7 {
        store.create(&format!("/t/p/{i}"), b("v")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut start = None;
    let revision = store.current_revision().await.unwrap();
    loop {
        let page = store
            .list(
                "/t/p/",
                ListOptions {
                    revision: Some(revision),
                    start: start.clone(),
                    limit: Some(3),
                },
            )
            .await
            .unwrap();
        assert!(page.kvs.len() <= 3);
        assert_eq!(page.revision, revision);
        seen.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        start = Some(format!("{}\0", page.kvs.last().unwrap().key));
    }
    let expected: Vec<String> = (0..7).map(|i| format!("/t/p/{i}")).collect();
    assert_eq!(seen, expected);
}

/// A list at an old revision shows the state of then.
pub async fn list_at_old_revision(store: &dyn Store) {
    let r1 = store.create("/t/a", b("1")).await.unwrap();
    store.create("/t/b", b("1")).await.unwrap();
    let snapshot = store.current_revision().await.unwrap();
    store.update("/t/a", b("2"), r1).await.unwrap();
    store.delete("/t/b", None).await.unwrap();
    store.create("/t/c", b("1")).await.unwrap();

    let old = store
        .list(
            "/t/",
            ListOptions {
                revision: Some(snapshot),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let state: BTreeMap<_, _> = old
        .kvs
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.clone()))
        .collect();
    assert_eq!(state, BTreeMap::from([("/t/a", b("1")), ("/t/b", b("1"))]));

    let now = store.list("/t/", ListOptions::default()).await.unwrap();
    let state: BTreeMap<_, _> = now
        .kvs
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.clone()))
        .collect();
    assert_eq!(state, BTreeMap::from([("/t/a", b("2")), ("/t/c", b("1"))]));

    let future = store.current_revision().await.unwrap() + 100;
    assert!(matches!(
        store
            .list(
                "/t/",
                ListOptions {
                    revision: Some(future),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::FutureRevision { .. })
    ));
}

/// A watch from a past revision replays every change since, in order, with
/// the right kinds; a deletion carries the last value.
pub async fn watch_replays_history(store: &dyn Store) {
    let r1 = store.create("/t/a", b("1")).await.unwrap();
    let r2 = store.update("/t/a", b("2"), r1).await.unwrap();
    let (r3, _) = store.delete("/t/a", None).await.unwrap();
    let mut watch = store.watch("/t/", r1).await.unwrap();
    let events = collect_events(&mut watch, 3).await;
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.kind,
                e.kv.key.as_str(),
                e.kv.value.clone(),
                e.kv.mod_revision,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (EventKind::Created, "/t/a", b("1"), r1),
            (EventKind::Updated, "/t/a", b("2"), r2),
            (EventKind::Deleted, "/t/a", b("2"), r3),
        ]
    );
    assert_eq!(events[1].kv.create_revision, r1);

    // From the middle of history on.
    let mut watch = store.watch("/t/", r2).await.unwrap();
    let events = collect_events(&mut watch, 2).await;
    assert_eq!(events[0].kv.mod_revision, r2);
    assert_eq!(events[1].kind, EventKind::Deleted);
}

/// A watch from "now" sees later changes as they happen.
pub async fn watch_live_changes(store: &dyn Store) {
    store.create("/t/before", b("x")).await.unwrap();
    let mut watch = store.watch("/t/", 0).await.unwrap();
    let rev = store.create("/t/a", b("1")).await.unwrap();
    let events = next_events(&mut watch).await;
    assert_eq!(
        events.len(),
        1,
        "only the change after the watch started: {events:?}"
    );
    assert_eq!(
        (events[0].kind, events[0].kv.mod_revision),
        (EventKind::Created, rev)
    );

    // Many changes arrive complete and in order.
    let mut revs = Vec::new();
    let mut last = rev;
    for i in 0..200 {
        last = store
            .update("/t/a", Bytes::from(i.to_string()), last)
            .await
            .unwrap();
        revs.push(last);
    }
    let events = collect_events(&mut watch, 200).await;
    assert_eq!(
        events.iter().map(|e| e.kv.mod_revision).collect::<Vec<_>>(),
        revs
    );
}

/// A watch sees only keys under its prefix.
pub async fn watch_only_its_prefix(store: &dyn Store) {
    let mut watch = store.watch("/t/p/", 0).await.unwrap();
    store.create("/t/q/a", b("no")).await.unwrap();
    store.create("/t/pa", b("no")).await.unwrap();
    store.create("/t/p/a", b("yes")).await.unwrap();
    let events = next_events(&mut watch).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kv.key, "/t/p/a");
}

/// After compaction, older revisions cannot be read or watched; the current
/// state is intact.
pub async fn compaction_forgets_history(store: &dyn Store) {
    let mut rev = store.create("/t/a", b("0")).await.unwrap();
    let old = rev;
    for i in 1..50 {
        rev = store
            .update("/t/a", Bytes::from(i.to_string()), rev)
            .await
            .unwrap();
    }
    store.create("/t/gone", b("x")).await.unwrap();
    store.delete("/t/gone", None).await.unwrap();
    let point = store.current_revision().await.unwrap();
    store.compact(point).await.unwrap();
    assert!(store.compacted_revision().await.unwrap() >= point);

    assert!(matches!(
        store
            .list(
                "/t/",
                ListOptions {
                    revision: Some(old),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Compacted { .. })
    ));
    assert!(matches!(
        store.watch("/t/", old).await,
        Err(Error::Compacted { .. })
    ));

    let list = store
        .list(
            "/t/",
            ListOptions {
                revision: Some(point),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(list.kvs.len(), 1);
    assert_eq!(list.kvs[0].value, b("49"));
    assert_eq!(store.get("/t/a").await.unwrap().unwrap().mod_revision, rev);

    // Writes and watches go on after compaction.
    let mut watch = store.watch("/t/", 0).await.unwrap();
    let next = store.update("/t/a", b("50"), rev).await.unwrap();
    assert!(next > point);
    assert_eq!(next_events(&mut watch).await[0].kv.mod_revision, next);
    // Compacting again to an older point is a no-op.
    store.compact(old).await.unwrap();
}

/// Concurrent creates all succeed, each at its own revision.
pub async fn concurrent_creates_get_distinct_revisions(store: &dyn Store) {
    let revs = futures::future::join_all(
        (0..200)
            .map(|i| async move { store.create(&format!("/t/c/{i:03}"), b("v")).await.unwrap() }),
    )
    .await;
    let mut sorted = revs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 200, "every write has a distinct revision");
    let list = store.list("/t/c/", ListOptions::default()).await.unwrap();
    assert_eq!(list.kvs.len(), 200);
}

/// Concurrent read-modify-write loops with compare-and-swap lose no update.
pub async fn concurrent_cas_is_linearizable(store: &dyn Store) {
    store.create("/t/counter", b("0")).await.unwrap();
    let workers = 8;
    let increments = 25;
    futures::future::join_all((0..workers).map(|_| async move {
        for _ in 0..increments {
            let mut kv = store.get("/t/counter").await.unwrap().unwrap();
            loop {
                let n: u64 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                match store
                    .update(
                        "/t/counter",
                        Bytes::from((n + 1).to_string()),
                        kv.mod_revision,
                    )
                    .await
                {
                    Ok(_) => break,
                    Err(Error::Conflict { current, .. }) => kv = *current,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }))
    .await;
    let kv = store.get("/t/counter").await.unwrap().unwrap();
    assert_eq!(kv.value, Bytes::from((workers * increments).to_string()));
}

/// A key deleted and created again starts a new life (new create revision).
pub async fn recreate_after_delete(store: &dyn Store) {
    let first = store.create("/t/a", b("1")).await.unwrap();
    store.delete("/t/a", None).await.unwrap();
    let second = store.create("/t/a", b("2")).await.unwrap();
    let kv = store.get("/t/a").await.unwrap().unwrap();
    assert!(second > first);
    assert_eq!((kv.create_revision, kv.value), (second, b("2")));
}
