//! The SQLite backend: the shared conformance suite, plus what only a file
//! can show (reopening, a bounded file under churn).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rkube_store::compactor::{Compactor, CompactorConfig};
use rkube_store::conformance::Fixture;
use rkube_store::sqlite::SqliteStore;
use rkube_store::{ListOptions, Store};

struct SqliteFixture {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl Fixture for SqliteFixture {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

fn fixture() -> SqliteFixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("state.db")).unwrap();
    SqliteFixture {
        store: Arc::new(store),
        _dir: dir,
    }
}

rkube_store::conformance_tests!(fixture());

#[tokio::test]
async fn state_and_revisions_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let (rev, compacted) = {
        let store = SqliteStore::open(&path).unwrap();
        let r = store
            .create("/t/a", Bytes::from_static(b"1"))
            .await
            .unwrap();
        let r = store
            .update("/t/a", Bytes::from_static(b"2"), r)
            .await
            .unwrap();
        store
            .create("/t/b", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let (rev, _) = store.delete("/t/b", None).await.unwrap();
        store.compact(r).await.unwrap();
        (rev, r)
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.current_revision().await.unwrap(), rev);
    assert_eq!(store.compacted_revision().await.unwrap(), compacted);
    let list = store.list("/t/", ListOptions::default()).await.unwrap();
    assert_eq!(list.kvs.len(), 1);
    assert_eq!(list.kvs[0].value, Bytes::from_static(b"2"));
    // The revision counter goes on from where it was, never back.
    let next = store
        .create("/t/c", Bytes::from_static(b"y"))
        .await
        .unwrap();
    assert_eq!(next, rev + 1);
}

/// Concurrent writers share commits (each is an fsync): 64 writers each
/// waiting for their last write make commits of many writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("state.db")).unwrap());
    let (writers, each) = (64, 20);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    let value = Bytes::from(vec![b'x'; 3000]);
                    store.create(&format!("/t/{w}/{i}"), value).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let commits = store.commits();
    assert!(
        commits * 8 <= writers * each,
        "{commits} commits for {} writes",
        writers * each
    );
    let list = store.list("/t/", ListOptions::default()).await.unwrap();
    assert_eq!(list.kvs.len() as u64, writers * each);
}

/// 100,000 updates of 100 keys with the compactor running leave a file of a
/// few MB, not hundreds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_bounds_the_file_under_churn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let compactor = Compactor::spawn(
        store.clone(),
        CompactorConfig {
            interval: Duration::from_secs(300),
            keep_revisions: 10_000,
            poll: Duration::from_millis(50),
        },
    );
    let value = Bytes::from(vec![b'x'; 1024]);
    let keys = 100;
    let rounds = 1000;
    // 100 writers, one per key, each doing 1000 compare-and-swap updates.
    let tasks: Vec<_> = (0..keys)
        .map(|k| {
            let store = store.clone();
            let value = value.clone();
            tokio::spawn(async move {
                let key = format!("/t/{k}");
                let mut rev = store.create(&key, value.clone()).await.unwrap();
                for _ in 0..rounds {
                    rev = store.update(&key, value.clone(), rev).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // Let the compactor catch up with the tail of the burst.
    tokio::time::sleep(Duration::from_millis(500)).await;
    compactor.abort();
    assert!(store.compacted_revision().await.unwrap() > 80_000);
    let size = std::fs::metadata(&path).unwrap().len()
        + std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    // Uncompacted, the history alone would be 100 MB of values.
    assert!(size < 40 * 1024 * 1024, "database is {size} bytes");
    let list = store.list("/t/", ListOptions::default()).await.unwrap();
    assert_eq!(list.kvs.len(), keys);
}
