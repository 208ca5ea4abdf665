//! The embedded backend: the whole history in one SQLite file.
//!
//! # Layout
//! One table, `kv`, is a log of every change: its rowid is the change's
//! revision, and it records the key, the key's create revision, whether the
//! change was a deletion (a *tombstone*, which keeps the last value so that
//! watches replaying history can report what was deleted), the revision of
//! the change it supersedes, and the value. The state at revision `R` is,
//! per key, the newest row with `rev <= R` unless that row is a tombstone.
//! An index on `(key, rev)` makes that a range scan.
//!
//! # Writes: one thread, group commit
//! All writes go through one thread that owns the only writing connection.
//! It takes every request queued while the previous transaction was being
//! committed, checks each one's precondition, gives each a revision, and
//! commits them all in one transaction: a burst of `n` concurrent writes
//! costs one `fsync`, not `n`. Only then are the callers answered and the
//! changes published to watchers, so an acknowledged write is durable
//! (`synchronous=FULL`: the WAL is synced on every commit).
//!
//! # Reads and watches
//! Reads use a small pool of read-only connections (WAL lets them run
//! beside the writer). A watch subscribes to the writer's broadcast of
//! committed batches *before* reading the history it must replay, then
//! drops live events it already replayed; a watcher that falls behind the
//! broadcast re-reads what it missed from the file.
//!
//! # Compaction
//! Compacting to `C` removes tombstones older than `C` and every row
//! superseded by a row at or below `C`. The point is recorded first
//! (`compact_rev`, which reads check), the rows are then deleted in chunks
//! between write batches, and `compact_done` records progress so that a
//! crash mid-way is finished on the next start. Freed pages are reused, so
//! the file stays bounded under steady churn.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;

use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::{broadcast, oneshot};

use crate::{
    Error, Event, EventKind, KeyValue, ListOptions, ListResult, Result, Revision, Store, WatchItem,
    WatchStream, prefix_end,
};

/// The most write requests one transaction takes.
const MAX_BATCH: usize = 4096;
/// How many committed batches the watch broadcast holds for slow watchers
/// before they have to catch up from the file.
const BROADCAST_CAPACITY: usize = 1024;
/// Rows read per query when a watch replays history.
const REPLAY_CHUNK: i64 = 1000;
/// Revisions handled per compaction transaction, so that compaction never
/// holds up writes for long.
const COMPACT_CHUNK: i64 = 5000;

/// The SQLite backend. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    writer: mpsc::Sender<Request>,
    readers: Mutex<Vec<Connection>>,
    /// The revision of the latest committed write.
    current: AtomicI64,
    /// The compaction point: history before it is gone.
    compacted: AtomicI64,
    /// Transactions committed since the store was opened.
    commits: AtomicU64,
    events: broadcast::Sender<Arc<Vec<Event>>>,
}

enum Request {
    Create {
        key: String,
        value: Bytes,
        reply: oneshot::Sender<Result<Revision>>,
    },
    Update {
        key: String,
        value: Bytes,
        expected: Revision,
        reply: oneshot::Sender<Result<Revision>>,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
        reply: oneshot::Sender<Result<(Revision, KeyValue)>>,
    },
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Result<()>>,
    },
}

fn backend_err(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    rev      INTEGER PRIMARY KEY,
    key      TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    deleted  INTEGER NOT NULL,
    prev_rev INTEGER NOT NULL,
    value    BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_rev ON kv (key, rev);
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
";

fn open_connection(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Sync the WAL on every commit: acknowledged writes are durable.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Keep the WAL file from staying large after a burst.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    }
    conn.pragma_update(None, "cache_size", -8192)?; // 8 MiB per connection
    Ok(conn)
}

fn meta_get(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0))
}

fn meta_set(conn: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// The newest row of a key, tombstone or not.
struct Latest {
    rev: Revision,
    created: Revision,
    deleted: bool,
    value: Bytes,
}

fn latest(conn: &Connection, key: &str) -> rusqlite::Result<Option<Latest>> {
    conn.prepare_cached(
        "SELECT rev, created, deleted, value FROM kv WHERE key = ?1 ORDER BY rev DESC LIMIT 1",
    )?
    .query_row([key], |r| {
        Ok(Latest {
            rev: r.get(0)?,
            created: r.get(1)?,
            deleted: r.get::<_, i64>(2)? != 0,
            value: Bytes::from(r.get::<_, Vec<u8>>(3)?),
        })
    })
    .optional()
}

/// The newest row of a key without its value: what a write checks its
/// precondition against (most writes never need the old value, so the
/// writer does not read it).
struct Head {
    rev: Revision,
    created: Revision,
    deleted: bool,
}

fn head(conn: &Connection, key: &str) -> rusqlite::Result<Option<Head>> {
    conn.prepare_cached(
        "SELECT rev, created, deleted FROM kv WHERE key = ?1 ORDER BY rev DESC LIMIT 1",
    )?
    .query_row([key], |r| {
        Ok(Head {
            rev: r.get(0)?,
            created: r.get(1)?,
            deleted: r.get::<_, i64>(2)? != 0,
        })
    })
    .optional()
}

/// The value written at a revision.
fn value_at(conn: &Connection, rev: Revision) -> rusqlite::Result<Bytes> {
    conn.prepare_cached("SELECT value FROM kv WHERE rev = ?1")?
        .query_row([rev], |r| Ok(Bytes::from(r.get::<_, Vec<u8>>(0)?)))
}

impl SqliteStore {
    /// Write transactions committed since the store was opened: with
    /// group commit, concurrent writes share them.
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Open (creating if needed) the store in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Backend(format!("creating {}: {e}", dir.display())))?;
        }
        let conn = open_connection(&path, false).map_err(backend_err)?;
        conn.execute_batch(SCHEMA).map_err(backend_err)?;
        let max_rev: i64 = conn
            .query_row("SELECT COALESCE(MAX(rev), 0) FROM kv", [], |r| r.get(0))
            .map_err(backend_err)?;
        let compacted = meta_get(&conn, "compact_rev").map_err(backend_err)?;
        let current = max_rev.max(compacted);

        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (writer, requests) = mpsc::channel();
        let shared = Arc::new(Shared {
            path: path.clone(),
            writer,
            readers: Mutex::new(Vec::new()),
            current: AtomicI64::new(current),
            compacted: AtomicI64::new(compacted),
            commits: AtomicU64::new(0),
            events,
        });
        let writer_shared = Arc::downgrade(&shared);
        let mut writer = Writer {
            conn,
            next_rev: current + 1,
            shared: writer_shared,
        };
        // Finish a compaction a crash interrupted.
        writer.finish_compaction().map_err(backend_err)?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer.run(requests))
            .map_err(backend_err)?;
        Ok(SqliteStore { shared })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    async fn write<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.shared
            .writer
            .send(make(reply))
            .map_err(|_| Error::Backend("sqlite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Backend("sqlite writer has stopped".into()))?
    }

    /// Run `f` on a pooled read-only connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match shared.readers.lock().pop() {
                Some(conn) => conn,
                None => open_connection(&shared.path, true).map_err(backend_err)?,
            };
            let result = f(&conn);
            let mut pool = shared.readers.lock();
            if pool.len() < 8 {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(backend_err)?
    }

    fn check_revision(&self, revision: Revision) -> Result<()> {
        let compacted = self.shared.compacted.load(Ordering::Acquire);
        if revision < compacted {
            return Err(Error::Compacted {
                requested: revision,
                compacted,
            });
        }
        let current = self.shared.current.load(Ordering::Acquire);
        if revision > current {
            return Err(Error::FutureRevision {
                requested: revision,
                current,
            });
        }
        Ok(())
    }
}

/// [`prefix_end`] as text: SQLite orders every TEXT before every BLOB, so
/// the bound must be bound as TEXT to compare with the TEXT keys.
fn text_end(prefix: &str) -> String {
    String::from_utf8(prefix_end(prefix)).unwrap_or_else(|_| format!("{prefix}\u{10FFFF}"))
}

/// Read committed changes under a prefix with revisions in `[from, to]`.
fn read_history(
    conn: &Connection,
    prefix: &str,
    from: Revision,
    to: Revision,
    limit: i64,
) -> rusqlite::Result<Vec<Event>> {
    let end = text_end(prefix);
    let mut stmt = conn.prepare_cached(
        "SELECT rev, key, created, deleted, value FROM kv
         WHERE rev >= ?1 AND rev <= ?2 AND key >= ?3 AND key < ?4
         ORDER BY rev LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![from, to, prefix, end, limit], |r| {
        let rev: i64 = r.get(0)?;
        let created: i64 = r.get(2)?;
        let deleted = r.get::<_, i64>(3)? != 0;
        Ok(Event {
            kind: if deleted {
                EventKind::Deleted
            } else if created == rev {
                EventKind::Created
            } else {
                EventKind::Updated
            },
            kv: KeyValue {
                key: r.get(1)?,
                value: Bytes::from(r.get::<_, Vec<u8>>(4)?),
                create_revision: created,
                mod_revision: rev,
            },
        })
    })?;
    rows.collect()
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(latest(conn, &key)
                .map_err(backend_err)?
                .filter(|l| !l.deleted)
                .map(|l| KeyValue {
                    key,
                    value: l.value,
                    create_revision: l.created,
                    mod_revision: l.rev,
                }))
        })
        .await
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResult> {
        if let Some(rev) = options.revision {
            self.check_revision(rev)?;
        }
        let prefix = prefix.to_owned();
        let shared = self.shared.clone();
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().map_err(backend_err)?;
            // The snapshot's own latest revision: everything it can see.
            let snapshot: i64 = tx
                .query_row("SELECT COALESCE(MAX(rev), 0) FROM kv", [], |r| r.get(0))
                .map_err(backend_err)?;
            let snapshot = snapshot.max(shared.compacted.load(Ordering::Acquire));
            let revision = options.revision.unwrap_or(snapshot);
            let start = options.start.as_deref().unwrap_or(&prefix).max(&prefix);
            let end = text_end(&prefix);
            let limit = match options.limit {
                Some(n) if n > 0 => n as i64 + 1,
                _ => -1,
            };
            let mut stmt = tx
                .prepare_cached(
                    // Walk the (key, rev) index in key order and keep each
                    // key's last version at the revision: a page stops
                    // after `limit` keys instead of grouping the whole
                    // range first (which made every page of a big list
                    // cost as much as the whole list).
                    "SELECT k.key, k.value, k.created, k.rev FROM kv AS k INDEXED BY kv_key_rev
                     WHERE k.key >= ?1 AND k.key < ?2 AND k.rev <= ?3
                       AND k.rev = (SELECT MAX(rev) FROM kv WHERE key = k.key AND rev <= ?3)
                       AND k.deleted = 0
                     ORDER BY k.key LIMIT ?4",
                )
                .map_err(backend_err)?;
            let mut kvs: Vec<KeyValue> = stmt
                .query_map(params![start, end, revision, limit], |r| {
                    Ok(KeyValue {
                        key: r.get(0)?,
                        value: Bytes::from(r.get::<_, Vec<u8>>(1)?),
                        create_revision: r.get(2)?,
                        mod_revision: r.get(3)?,
                    })
                })
                .map_err(backend_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(backend_err)?;
            let more = matches!(options.limit, Some(n) if n > 0 && kvs.len() > n);
            if more {
                kvs.truncate(options.limit.unwrap_or_default());
            }
            Ok(ListResult {
                kvs,
                revision,
                more,
            })
        })
        .await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        let key = key.to_owned();
        self.write(|reply| Request::Create { key, value, reply })
            .await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        let key = key.to_owned();
        self.write(|reply| Request::Update {
            key,
            value,
            expected,
            reply,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let key = key.to_owned();
        self.write(|reply| Request::Delete {
            key,
            expected,
            reply,
        })
        .await
    }

    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream> {
        // Subscribe first: nothing committed from here on can be missed.
        let mut live = self.shared.events.subscribe();
        let current = self.shared.current.load(Ordering::Acquire);
        let start = if start <= 0 { current + 1 } else { start };
        let compacted = self.shared.compacted.load(Ordering::Acquire);
        if start < compacted {
            return Err(Error::Compacted {
                requested: start,
                compacted,
            });
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<WatchItem>>(64);
        let store = self.clone();
        let prefix = prefix.to_owned();
        tokio::spawn(async move {
            // `next`: the first revision not yet delivered.
            let mut next = start;
            let mut replay = true;
            loop {
                if replay {
                    // Replay what the file holds from `next` on, chunk by chunk.
                    loop {
                        let (p, from) = (prefix.clone(), next);
                        let chunk = store
                            .read(move |conn| {
                                read_history(conn, &p, from, i64::MAX, REPLAY_CHUNK)
                                    .map_err(backend_err)
                            })
                            .await;
                        let chunk = match chunk {
                            Ok(chunk) => chunk,
                            Err(e) => {
                                let _ = tx.send(Err(e)).await;
                                return;
                            }
                        };
                        let full = chunk.len() as i64 == REPLAY_CHUNK;
                        if let Some(last) = chunk.last() {
                            next = last.kv.mod_revision + 1;
                            if tx
                                .send(Ok(WatchItem::Events(Arc::new(chunk))))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        if !full {
                            break;
                        }
                    }
                    replay = false;
                }
                match live.recv().await {
                    Ok(batch) => {
                        let events: Vec<Event> = batch
                            .iter()
                            .filter(|e| e.kv.mod_revision >= next && e.kv.key.starts_with(&prefix))
                            .cloned()
                            .collect();
                        if let Some(last) = batch.last() {
                            next = next.max(last.kv.mod_revision + 1);
                        }
                        if !events.is_empty()
                            && tx
                                .send(Ok(WatchItem::Events(Arc::new(events))))
                                .await
                                .is_err()
                        {
                            return;
                        }
                    }
                    // Fell behind the broadcast: catch up from the file.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let compacted = store.shared.compacted.load(Ordering::Acquire);
                        if next < compacted {
                            let _ = tx
                                .send(Err(Error::Compacted {
                                    requested: next,
                                    compacted,
                                }))
                                .await;
                            return;
                        }
                        replay = true;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Ok(tokio_stream::wrappers::ReceiverStream::new(rx).boxed())
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.shared.current.load(Ordering::Acquire))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.write(|reply| Request::Compact { revision, reply })
            .await
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.shared.compacted.load(Ordering::Acquire))
    }
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    next_rev: Revision,
    shared: std::sync::Weak<Shared>,
}

/// A write whose precondition held, waiting for its transaction to commit.
enum Pending {
    Rev(oneshot::Sender<Result<Revision>>, Revision),
    Deleted(
        oneshot::Sender<Result<(Revision, KeyValue)>>,
        Revision,
        KeyValue,
    ),
}

impl Writer {
    fn run(mut self, requests: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(64);
        while let Ok(first) = requests.recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            let mut compactions = Vec::new();
            let writes: Vec<Request> = batch
                .drain(..)
                .filter_map(|r| match r {
                    Request::Compact { revision, reply } => {
                        compactions.push((revision, reply));
                        None
                    }
                    other => Some(other),
                })
                .collect();
            if !writes.is_empty() {
                self.commit_batch(writes);
            }
            for (revision, reply) in compactions {
                let _ = reply.send(self.compact(revision).map_err(backend_err));
            }
            if self.shared.strong_count() == 0 {
                break;
            }
        }
    }

    /// Check, apply and commit a batch of writes in one transaction.
    fn commit_batch(&mut self, writes: Vec<Request>) {
        let first_rev = self.next_rev;
        let mut pending = Vec::with_capacity(writes.len());
        let mut events = Vec::with_capacity(writes.len());
        let result = (|| -> rusqlite::Result<()> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO kv (rev, key, created, deleted, prev_rev, value)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for write in writes {
                    match write {
                        Request::Create { key, value, reply } => {
                            let prev = head(&tx, &key)?;
                            if prev.as_ref().is_some_and(|p| !p.deleted) {
                                let _ = reply.send(Err(Error::AlreadyExists(key)));
                                continue;
                            }
                            let rev = self.next_rev;
                            self.next_rev += 1;
                            let prev_rev = prev.map_or(0, |p| p.rev);
                            insert.execute(params![rev, key, rev, 0, prev_rev, &value[..]])?;
                            events.push(Event {
                                kind: EventKind::Created,
                                kv: KeyValue {
                                    key,
                                    value,
                                    create_revision: rev,
                                    mod_revision: rev,
                                },
                            });
                            pending.push(Pending::Rev(reply, rev));
                        }
                        Request::Update {
                            key,
                            value,
                            expected,
                            reply,
                        } => {
                            let prev = match head(&tx, &key)? {
                                Some(p) if !p.deleted => p,
                                _ => {
                                    let _ = reply.send(Err(Error::NotFound(key)));
                                    continue;
                                }
                            };
                            if prev.rev != expected {
                                let current = Box::new(KeyValue {
                                    key: key.clone(),
                                    value: value_at(&tx, prev.rev)?,
                                    create_revision: prev.created,
                                    mod_revision: prev.rev,
                                });
                                let _ = reply.send(Err(Error::Conflict { key, current }));
                                continue;
                            }
                            let rev = self.next_rev;
                            self.next_rev += 1;
                            insert.execute(params![
                                rev,
                                key,
                                prev.created,
                                0,
                                prev.rev,
                                &value[..]
                            ])?;
                            events.push(Event {
                                kind: EventKind::Updated,
                                kv: KeyValue {
                                    key,
                                    value,
                                    create_revision: prev.created,
                                    mod_revision: rev,
                                },
                            });
                            pending.push(Pending::Rev(reply, rev));
                        }
                        Request::Delete {
                            key,
                            expected,
                            reply,
                        } => {
                            let prev = match latest(&tx, &key)? {
                                Some(p) if !p.deleted => p,
                                _ => {
                                    let _ = reply.send(Err(Error::NotFound(key)));
                                    continue;
                                }
                            };
                            let old = KeyValue {
                                key: key.clone(),
                                value: prev.value.clone(),
                                create_revision: prev.created,
                                mod_revision: prev.rev,
                            };
                            if expected.is_some_and(|e| e != prev.rev) {
                                let _ = reply.send(Err(Error::Conflict {
                                    key,
                                    current: Box::new(old),
                                }));
                                continue;
                            }
                            let rev = self.next_rev;
                            self.next_rev += 1;
                            insert.execute(params![
                                rev,
                                key,
                                prev.created,
                                1,
                                prev.rev,
                                &prev.value[..]
                            ])?;
                            events.push(Event {
                                kind: EventKind::Deleted,
                                kv: KeyValue {
                                    key,
                                    value: prev.value,
                                    create_revision: prev.created,
                                    mod_revision: rev,
                                },
                            });
                            pending.push(Pending::Deleted(reply, rev, old));
                        }
                        Request::Compact { .. } => unreachable!("compactions are split off"),
                    }
                }
            }
            tx.commit()
        })();

        match result {
            Ok(()) => {
                let Some(shared) = self.shared.upgrade() else {
                    return;
                };
                shared.current.store(self.next_rev - 1, Ordering::Release);
                shared.commits.fetch_add(1, Ordering::Relaxed);
                for p in pending {
                    match p {
                        Pending::Rev(reply, rev) => {
                            let _ = reply.send(Ok(rev));
                        }
                        Pending::Deleted(reply, rev, old) => {
                            let _ = reply.send(Ok((rev, old)));
                        }
                    }
                }
                if !events.is_empty() {
                    let _ = shared.events.send(Arc::new(events));
                }
            }
            Err(e) => {
                // Nothing of the batch was written: give the revisions back.
                tracing::error!(error = %e, "sqlite write batch failed");
                self.next_rev = first_rev;
                let err = || Error::Backend(format!("sqlite: {e}"));
                for p in pending {
                    match p {
                        Pending::Rev(reply, _) => {
                            let _ = reply.send(Err(err()));
                        }
                        Pending::Deleted(reply, _, _) => {
                            let _ = reply.send(Err(err()));
                        }
                    }
                }
            }
        }
    }

    fn compact(&mut self, revision: Revision) -> rusqlite::Result<()> {
        let Some(shared) = self.shared.upgrade() else {
            return Ok(());
        };
        let current = self.next_rev - 1;
        let revision = revision.min(current);
        if revision <= shared.compacted.load(Ordering::Acquire) {
            return Ok(());
        }
        // Publish the point first: from now on nobody reads below it.
        meta_set(&self.conn, "compact_rev", revision)?;
        shared.compacted.store(revision, Ordering::Release);
        drop(shared);
        self.finish_compaction()
    }

    /// Delete the rows the recorded compaction point made unreachable, in
    /// chunks, recording progress after each.
    fn finish_compaction(&mut self) -> rusqlite::Result<()> {
        let target = meta_get(&self.conn, "compact_rev")?;
        let mut done = meta_get(&self.conn, "compact_done")?;
        while done < target {
            let hi = (done + COMPACT_CHUNK).min(target);
            let tx = self.conn.transaction()?;
            // Rows superseded by a change in (done, hi]: that change is at or
            // below the target, so the older row can never be read again.
            tx.execute(
                "DELETE FROM kv WHERE rev IN
                   (SELECT prev_rev FROM kv WHERE rev > ?1 AND rev <= ?2 AND prev_rev > 0)",
                params![done, hi],
            )?;
            // Tombstones below the target: their deletion is history now. (A
            // tombstone at the target itself stays until the next compaction,
            // so that a watch from the target still sees it.)
            tx.execute(
                "DELETE FROM kv WHERE deleted = 1 AND rev >= ?1 AND rev < ?2",
                params![done, hi],
            )?;
            meta_set(&tx, "compact_done", hi)?;
            tx.commit()?;
            done = hi;
        }
        Ok(())
    }
}
