//! Keeps a store's history bounded, the way kube-apiserver compacts etcd.
//!
//! Two rules, whichever fires first:
//! - every `interval`, compact to the revision that was current one interval
//!   ago (so a paginated list or a resumed watch has at least that long);
//! - whenever more than `2 × keep_revisions` revisions have accumulated
//!   since the last compaction, compact to `current − keep_revisions`, so a
//!   burst of writes cannot grow the history without bound in between.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Revision, Store};

/// How a [`Compactor`] decides when and how far to compact.
#[derive(Clone, Debug)]
pub struct CompactorConfig {
    /// Compact to the revision of one interval ago, every interval.
    pub interval: Duration,
    /// Always keep at least this many recent revisions.
    pub keep_revisions: i64,
    /// How often to look at the current revision.
    pub poll: Duration,
}

impl Default for CompactorConfig {
    fn default() -> Self {
        CompactorConfig {
            interval: Duration::from_secs(300),
            keep_revisions: 10_000,
            poll: Duration::from_secs(1),
        }
    }
}

/// A background task compacting one store.
pub struct Compactor;

impl Compactor {
    /// Start compacting `store` until the returned task is aborted.
    pub fn spawn(store: Arc<dyn Store>, config: CompactorConfig) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_compacted: Revision = store.compacted_revision().await.unwrap_or(0);
            // (when, revision) seen at the start of the current interval.
            let mut mark: Option<(Instant, Revision)> = None;
            let mut ticker = tokio::time::interval(config.poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let current = match store.current_revision().await {
                    Ok(rev) => rev,
                    Err(e) => {
                        tracing::warn!(error = %e, "compactor: reading the current revision");
                        continue;
                    }
                };
                let mut target = None;
                match mark {
                    Some((at, rev)) if at.elapsed() >= config.interval => {
                        target = Some(rev);
                        mark = Some((Instant::now(), current));
                    }
                    None => mark = Some((Instant::now(), current)),
                    _ => {}
                }
                if current - last_compacted > 2 * config.keep_revisions {
                    let bound = current - config.keep_revisions;
                    target = Some(target.map_or(bound, |t: Revision| t.max(bound)));
                }
                if let Some(target) = target.filter(|t| *t > last_compacted) {
                    match store.compact(target).await {
                        Ok(()) => {
                            tracing::debug!(revision = target, "compacted");
                            last_compacted = target;
                        }
                        Err(e) => tracing::warn!(error = %e, "compactor: compacting"),
                    }
                }
            }
        })
    }
}
