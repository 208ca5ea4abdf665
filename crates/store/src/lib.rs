//! The revisioned key-value store every rkube object lives in.
//!
//! The model is etcd's: one global, strictly increasing *revision* counts
//! every write; each key remembers the revision that created it and the one
//! that last modified it; writes are compare-and-swap on that last-modified
//! revision; lists are consistent snapshots at a revision; watches replay
//! every change from a revision on; compaction forgets history older than a
//! revision.
//!
//! [`Store`] is that interface. Two backends implement it and pass the same
//! [`conformance`] suite:
//! - [`sqlite::SqliteStore`], the embedded default: one file in WAL mode,
//!   one writer thread that group-commits concurrent writes (one fsync per
//!   burst, not per write);
//! - [`etcd::EtcdStore`], a thin client of etcd v3's gRPC API.
//!
//! [`compactor::Compactor`] keeps history bounded on either backend.
//!
//! Newcomers: start with the [`Store`] trait, then `sqlite.rs`.

#![warn(missing_docs)]

pub mod compactor;
pub mod conformance;
pub mod etcd;
pub mod sqlite;

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;

/// A position in the store's history. Every successful write gets the next
/// one; `0` means "none" (a key that does not exist, a watch from now).
pub type Revision = i64;

/// One key and its current value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The full key, e.g. `/registry/core/pods/default/web-0`.
    pub key: String,
    /// The stored bytes.
    pub value: Bytes,
    /// The revision of the write that created this key.
    pub create_revision: Revision,
    /// The revision of the write that last changed it.
    pub mod_revision: Revision,
}

/// What a change did to its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The key did not exist before this change.
    Created,
    /// The key existed and got a new value.
    Updated,
    /// The key was removed.
    Deleted,
}

/// One change, as a watch reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Created, updated or deleted.
    pub kind: EventKind,
    /// The key after the change. For a deletion, `value` holds the last value
    /// the key had and `mod_revision` is the revision of the deletion.
    pub kv: KeyValue,
}

/// Options of a [`Store::list`].
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// Read the state at this revision; `None` reads the latest.
    pub revision: Option<Revision>,
    /// Start at this key (inclusive) instead of at the prefix's first key.
    pub start: Option<String>,
    /// Return at most this many entries (`None` or `Some(0)`: all).
    pub limit: Option<usize>,
}

/// The answer to a [`Store::list`].
#[derive(Clone, Debug, Default)]
pub struct ListResult {
    /// The entries, in key order.
    pub kvs: Vec<KeyValue>,
    /// The revision the snapshot was taken at.
    pub revision: Revision,
    /// Whether entries beyond `limit` remain.
    pub more: bool,
}

/// What a watch yields: changes in revision order, or word that the store
/// has reached a revision without further changes under the prefix.
#[derive(Clone, Debug)]
pub enum WatchItem {
    /// Changes, oldest first. A batch never splits one revision.
    Events(Arc<Vec<Event>>),
    /// Every change up to this revision has been delivered.
    Progress(Revision),
}

/// A stream of changes under a prefix. It ends with an `Err` when the store
/// cannot go on (e.g. the watcher fell too far behind); the consumer then
/// re-lists or re-watches from the last revision it saw.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchItem>> + Send>>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `create` of a key that exists.
    #[error("key {0} already exists")]
    AlreadyExists(String),
    /// `update` or `delete` of a key that does not exist.
    #[error("key {0} not found")]
    NotFound(String),
    /// The key's last-modified revision was not the expected one. Carries
    /// the current value so the caller can retry without another read.
    #[error("key {key} was modified concurrently")]
    Conflict {
        /// The key.
        key: String,
        /// Its current state.
        current: Box<KeyValue>,
    },
    /// The requested revision is older than the compacted one.
    #[error("revision {requested} has been compacted (oldest kept: {compacted})")]
    Compacted {
        /// What was asked for.
        requested: Revision,
        /// The compaction point.
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current one.
    #[error("revision {requested} is in the future (current: {current})")]
    FutureRevision {
        /// What was asked for.
        requested: Revision,
        /// The current revision.
        current: Revision,
    },
    /// The backend failed (I/O, network, corruption).
    #[error("storage backend: {0}")]
    Backend(String),
}

/// The result type of every store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A revisioned key-value store. See the crate docs for the model.
///
/// Every method is safe to call concurrently. A write that returned `Ok` is
/// durable: it survives a crash of the process (and, for SQLite, of the
/// machine, as far as `fsync` can promise).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's short name, for metrics and logs (`sqlite`, `etcd`).
    fn backend(&self) -> &'static str;

    /// The latest value of `key`, if it exists.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// The keys under `prefix` at a revision, in key order.
    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResult>;

    /// Store `value` under a new `key`; fails with [`Error::AlreadyExists`].
    /// Returns the revision of the write.
    async fn create(&self, key: &str, value: Bytes) -> Result<Revision>;

    /// Replace the value of `key` if its last-modified revision is still
    /// `expected`; fails with [`Error::Conflict`] or [`Error::NotFound`].
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision>;

    /// Remove `key`, if its last-modified revision is `expected` (when
    /// given). Returns the revision of the deletion and the removed entry.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)>;

    /// Every change under `prefix` with a revision `>= start`, then live
    /// changes as they happen. `start == 0` means "from now on". Fails with
    /// [`Error::Compacted`] if that history is gone.
    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream>;

    /// The revision of the latest write (a linearizable read).
    async fn current_revision(&self) -> Result<Revision>;

    /// Forget history older than `revision`: afterwards lists and watches
    /// at older revisions fail with [`Error::Compacted`]. Compacting to a
    /// revision at or below the current compaction point is a no-op.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The revision history starts at (the last compaction point), `0` if
    /// the store has never been compacted.
    async fn compacted_revision(&self) -> Result<Revision>;
}

/// The first key after every key that starts with `prefix`: the exclusive
/// end of the prefix's range (`"/a/"` → `"/a0"`).
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff (or the prefix was empty): the range is unbounded;
    // etcd spells that as a single zero byte.
    vec![0]
}

/// Open a store from a datastore URL: `sqlite://PATH` or
/// `etcd://HOST:PORT[,HOST:PORT...]`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(sqlite::SqliteStore::open(path)?))
    } else if let Some(endpoints) = url.strip_prefix("etcd://") {
        let endpoints: Vec<String> = endpoints
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Arc::new(etcd::EtcdStore::connect(&endpoints).await?))
    } else {
        Err(Error::Backend(format!(
            "unsupported datastore URL {url:?}: expected sqlite://PATH or etcd://HOST:PORT[,HOST:PORT...]"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
        assert_eq!(prefix_end(""), vec![0]);
    }
}
