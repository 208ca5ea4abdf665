//! Controller expectations (upstream's `ControllerExpectations`): after a
//! controller creates or deletes pods, it waits until its informer has
//! seen them all before it counts pods again, so that it never acts twice
//! on a stale cache. Expectations expire after five minutes, in case an
//! event was missed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long unmet expectations hold back a controller.
const TTL: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Expected {
    adds: i64,
    dels: i64,
    set_at: Instant,
}

/// Outstanding creations and deletions per controller key.
#[derive(Default)]
pub struct Expectations {
    map: Mutex<HashMap<String, Expected>>,
}

impl Expectations {
    /// Expect `adds` creations and `dels` deletions for `key` (replacing
    /// earlier expectations).
    pub fn expect(&self, key: &str, adds: i64, dels: i64) {
        self.map.lock().insert(
            key.to_owned(),
            Expected {
                adds,
                dels,
                set_at: Instant::now(),
            },
        );
    }

    /// One creation for `key` was seen (or will never happen).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// One deletion for `key` was seen (or will never happen).
    pub fn deletion_observed(&self, key: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.dels -= 1;
        }
    }

    /// Whether `key` may act on what its informers show.
    pub fn satisfied(&self, key: &str) -> bool {
        match self.map.lock().get(key) {
            None => true,
            Some(e) => (e.adds <= 0 && e.dels <= 0) || e.set_at.elapsed() > TTL,
        }
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
        e.expect("a", 2, 1);
        assert!(!e.satisfied("a"));
        e.creation_observed("a");
        e.creation_observed("a");
        assert!(!e.satisfied("a"));
        e.deletion_observed("a");
        assert!(e.satisfied("a"));
        e.forget("a");
        assert!(e.satisfied("a"));
    }
}
