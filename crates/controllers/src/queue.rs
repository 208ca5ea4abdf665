//! A work queue of keys, as client-go's: a key is queued at most once,
//! is never processed by two workers at a time (a key added while it is
//! processed is queued again when it is done), can be added after a delay,
//! and retried with per-key exponential backoff.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

/// First retry delay after a failure (client-go's default).
const BASE_DELAY: Duration = Duration::from_millis(5);
/// Longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(1000);

/// A rate-limited, deduplicating queue of keys. Cheap to clone.
#[derive(Clone, Default)]
pub struct WorkQueue {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    notify: Notify,
}

#[derive(Default)]
struct State {
    order: VecDeque<String>,
    queued: HashSet<String>,
    processing: HashSet<String>,
    /// Added while being processed: queued again when done.
    dirty: HashSet<String>,
    delayed: BinaryHeap<Reverse<(Instant, String)>>,
    failures: HashMap<String, u32>,
    shut_down: bool,
}

impl WorkQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue `key` (once, however often it is added before a worker takes
    /// it).
    pub fn add(&self, key: impl Into<String>) {
        let key = key.into();
        let mut s = self.inner.state.lock();
        if s.shut_down {
            return;
        }
        if s.processing.contains(&key) {
            s.dirty.insert(key);
            return;
        }
        if s.queued.insert(key.clone()) {
            s.order.push_back(key);
            drop(s);
            self.inner.notify.notify_one();
        }
    }

    /// Queue `key` after `delay`.
    pub fn add_after(&self, key: impl Into<String>, delay: Duration) {
        let key = key.into();
        if delay.is_zero() {
            return self.add(key);
        }
        let mut s = self.inner.state.lock();
        s.delayed.push(Reverse((Instant::now() + delay, key)));
        drop(s);
        // Wake a worker to re-arm its timer for the earlier deadline.
        self.inner.notify.notify_one();
    }

    /// Queue `key` again after its next backoff delay.
    pub fn add_rate_limited(&self, key: &str) {
        let n = {
            let mut s = self.inner.state.lock();
            let n = s.failures.entry(key.to_owned()).or_default();
            *n += 1;
            *n
        };
        self.add_after(key.to_owned(), backoff(n));
    }

    /// Forget the failures of `key` (it succeeded).
    pub fn forget(&self, key: &str) {
        self.inner.state.lock().failures.remove(key);
    }

    /// How often `key` failed in a row.
    pub fn failures(&self, key: &str) -> u32 {
        self.inner
            .state
            .lock()
            .failures
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// The next key to work on; None once shut down.
    pub async fn next(&self) -> Option<String> {
        loop {
            let notified = self.inner.notify.notified();
            let wake_at = {
                let mut s = self.inner.state.lock();
                if s.shut_down {
                    return None;
                }
                let now = Instant::now();
                while let Some(Reverse((at, _))) = s.delayed.peek() {
                    if *at > now {
                        break;
                    }
                    let Some(Reverse((_, key))) = s.delayed.pop() else {
                        break;
                    };
                    if s.processing.contains(&key) {
                        s.dirty.insert(key);
                    } else if s.queued.insert(key.clone()) {
                        s.order.push_back(key);
                    }
                }
                if let Some(key) = s.order.pop_front() {
                    s.queued.remove(&key);
                    s.processing.insert(key.clone());
                    if !s.order.is_empty() {
                        // More work: let another worker in.
                        self.inner.notify.notify_one();
                    }
                    return Some(key);
                }
                s.delayed.peek().map(|Reverse((at, _))| *at)
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The worker is done with `key`.
    pub fn done(&self, key: &str) {
        let mut s = self.inner.state.lock();
        s.processing.remove(key);
        if s.dirty.remove(key) && s.queued.insert(key.to_owned()) {
            s.order.push_back(key.to_owned());
            drop(s);
            self.inner.notify.notify_one();
        }
    }

    /// Stop handing out keys.
    pub fn shut_down(&self) {
        self.inner.state.lock().shut_down = true;
        self.inner.notify.notify_waiters();
    }

    /// Keys waiting (not counting delayed ones).
    pub fn len(&self) -> usize {
        self.inner.state.lock().order.len()
    }

    /// Whether no key is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The delay before the `n`th retry: 5 ms doubling up to 1000 s.
pub fn backoff(n: u32) -> Duration {
    BASE_DELAY
        .checked_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(5));
        assert_eq!(backoff(2), Duration::from_millis(10));
        assert_eq!(backoff(5), Duration::from_millis(80));
        assert_eq!(backoff(40), MAX_DELAY);
    }

    #[tokio::test]
    async fn a_key_is_queued_once_and_requeued_if_added_while_processing() {
        let q = WorkQueue::new();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.next().await.unwrap();
        assert_eq!(a, "a");
        q.add("a"); // while processing
        assert_eq!(q.next().await.unwrap(), "b");
        assert!(q.is_empty());
        q.done("a");
        assert_eq!(q.next().await.unwrap(), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_keys_come_after_their_delay() {
        let q = WorkQueue::new();
        q.add_after("late", Duration::from_secs(5));
        q.add("now");
        assert_eq!(q.next().await.unwrap(), "now");
        let start = Instant::now();
        assert_eq!(q.next().await.unwrap(), "late");
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
