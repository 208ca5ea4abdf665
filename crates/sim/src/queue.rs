//! A work queue in the style of client-go's: a key is queued at most once,
//! is handed to one worker at a time, and a key added while a worker holds
//! it is queued again when the worker is done. Plus one timer task that
//! queues keys at given instants, so 100,000 waiting pods are heap entries,
//! not tasks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

struct Inner<K> {
    queue: VecDeque<K>,
    dirty: HashSet<K>,
    processing: HashSet<K>,
}

/// The queue of keys to process.
pub struct WorkQueue<K> {
    inner: Mutex<Inner<K>>,
    ready: Notify,
}

impl<K: Clone + Eq + Hash> WorkQueue<K> {
    /// An empty queue.
    pub fn new() -> WorkQueue<K> {
        WorkQueue {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
            }),
            ready: Notify::new(),
        }
    }

    /// Queue `key` unless it is queued already.
    pub fn add(&self, key: K) {
        let mut inner = self.inner.lock();
        if !inner.dirty.insert(key.clone()) {
            return;
        }
        if !inner.processing.contains(&key) {
            inner.queue.push_back(key);
            drop(inner);
            self.ready.notify_one();
        }
    }

    /// The next key; the caller must call [`done`](Self::done) with it.
    pub async fn get(&self) -> K {
        loop {
            {
                let mut inner = self.inner.lock();
                if let Some(key) = inner.queue.pop_front() {
                    inner.dirty.remove(&key);
                    inner.processing.insert(key.clone());
                    let more = !inner.queue.is_empty();
                    drop(inner);
                    if more {
                        // Pass the wake-up on: `notify_one` stores one permit.
                        self.ready.notify_one();
                    }
                    return key;
                }
            }
            self.ready.notified().await;
        }
    }

    /// A worker finished with `key`.
    pub fn done(&self, key: &K) {
        let mut inner = self.inner.lock();
        inner.processing.remove(key);
        if inner.dirty.contains(key) {
            inner.queue.push_back(key.clone());
            drop(inner);
            self.ready.notify_one();
        }
    }

    /// Keys waiting (not counting those being processed).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().queue.len()
    }
}

/// Keys to queue at given instants.
pub struct Timers<K> {
    heap: Mutex<BinaryHeap<Reverse<(Instant, K)>>>,
    changed: Notify,
}

impl<K: Clone + Eq + Hash + Ord> Timers<K> {
    /// No timers.
    pub fn new() -> Timers<K> {
        Timers {
            heap: Mutex::new(BinaryHeap::new()),
            changed: Notify::new(),
        }
    }

    /// Queue `key` at `at`.
    pub fn schedule(&self, at: Instant, key: K) {
        let mut heap = self.heap.lock();
        let earliest = heap.peek().is_none_or(|Reverse((t, _))| at < *t);
        heap.push(Reverse((at, key)));
        drop(heap);
        if earliest {
            self.changed.notify_one();
        }
    }

    /// Move due keys to `queue`, forever.
    pub async fn run(self: Arc<Self>, queue: Arc<WorkQueue<K>>) {
        loop {
            let next = {
                let mut heap = self.heap.lock();
                let now = Instant::now();
                while let Some(Reverse((t, _))) = heap.peek() {
                    if *t > now {
                        break;
                    }
                    let Reverse((_, key)) = heap.pop().expect("peeked");
                    queue.add(key);
                }
                heap.peek().map(|Reverse((t, _))| *t)
            };
            match next {
                Some(t) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(t) => {}
                        _ = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_key_is_queued_once_and_requeued_after_done() {
        let q = WorkQueue::new();
        q.add(1);
        q.add(1);
        q.add(2);
        assert_eq!(q.len(), 2);
        let k = q.get().await;
        assert_eq!(k, 1);
        q.add(1); // while processing: not handed out twice
        assert_eq!(q.get().await, 2);
        assert_eq!(q.len(), 0);
        q.done(&1);
        assert_eq!(q.get().await, 1);
    }

    #[tokio::test]
    async fn timers_fire_in_order() {
        let q = Arc::new(WorkQueue::new());
        let t = Arc::new(Timers::new());
        tokio::spawn(t.clone().run(q.clone()));
        let now = Instant::now();
        let ms = Duration::from_millis;
        t.schedule(now + ms(100), "b");
        t.schedule(now + ms(50), "a");
        assert_eq!(q.get().await, "a");
        assert!(Instant::now() >= now + ms(50));
        assert_eq!(q.get().await, "b");
        assert!(Instant::now() >= now + ms(100));
    }
}
