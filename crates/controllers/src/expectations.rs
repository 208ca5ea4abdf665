//! Controller expectations (upstream's `ControllerExpectations`): after a
//! controller creates or deletes pods, it waits until its informer has
//! seen them all before it counts pods again, so that it never acts twice
//! on a stale cache. Expectations expire after five minutes, in case an
//! event was missed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long unmet expectations hold back a controller.
const TTL: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Expected {
    adds: i64,
    /// Pods whose deletion is awaited, by name (upstream's UID-tracking
    /// expectations): each counts once, however many events it shows up
    /// in (graceful deletion starting, then the pod going).
    deleting: HashSet<String>,
    set_at: Instant,
}

/// Outstanding creations and deletions per controller key.
#[derive(Default)]
pub struct Expectations {
    map: Mutex<HashMap<String, Expected>>,
}

impl Expectations {
    /// Expect `adds` creations and the deletion of the pods named in
    /// `deleting` for `key` (replacing earlier expectations).
    pub fn expect(&self, key: &str, adds: i64, deleting: impl IntoIterator<Item = String>) {
        self.map.lock().insert(
            key.to_owned(),
            Expected {
                adds,
                deleting: deleting.into_iter().collect(),
                set_at: Instant::now(),
            },
        );
    }

    /// The pod `name` of `key` was seen going (or will never go).
    pub fn pod_deletion_observed(&self, key: &str, name: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.deleting.remove(name);
        }
    }

    /// One creation for `key` was seen (or will never happen).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// Whether `key` may act on what its informers show.
    pub fn satisfied(&self, key: &str) -> bool {
        match self.map.lock().get(key) {
            None => true,
            Some(e) => (e.adds <= 0 && e.deleting.is_empty()) || e.set_at.elapsed() > TTL,
        }
    }

    /// What is still expected for `key`: (creations, deletions).
    pub fn pending(&self, key: &str) -> Option<(i64, i64)> {
        self.map
            .lock()
            .get(key)
            .map(|e| (e.adds, e.deleting.len() as i64))
    }

    /// Forget `key` (its object is gone).
    pub fn forget(&self, key: &str) {
        self.map.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_once_everything_was_seen() {
        let e = Expectations::default();
        assert!(e.satisfied("a"));
        e.expect("a", 2, ["p".to_owned()]);
        assert!(!e.satisfied("a"));
        e.creation_observed("a");
        e.creation_observed("a");
        assert!(!e.satisfied("a"));
        e.pod_deletion_observed("a", "p");
        assert!(e.satisfied("a"));
        e.forget("a");
        assert!(e.satisfied("a"));
    }

    #[test]
    fn tracked_deletions_count_once_each() {
        let e = Expectations::default();
        e.expect("rs", 0, ["p1".to_owned(), "p2".to_owned()]);
        e.pod_deletion_observed("rs", "p1");
        // Seen again (terminating, then gone): still one.
        e.pod_deletion_observed("rs", "p1");
        // Some other pod going does not count.
        e.pod_deletion_observed("rs", "p3");
        assert!(!e.satisfied("rs"));
        e.pod_deletion_observed("rs", "p2");
        assert!(e.satisfied("rs"));
    }
}
