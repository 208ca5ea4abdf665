//! Persistent volumes: upstream's PersistentVolume controller (the
//! "binder", `pkg/controller/volume/persistentvolume`) and a built-in
//! `local-path` provisioner in the manner of k3s' (rancher's
//! local-path-provisioner).
//!
//! - [`matching`]: which volume a claim binds to (storage class, access
//!   modes, capacity — the smallest that fits —, volume mode, selector,
//!   node affinity). Pure.
//! - [`binder`]: binds claims to volumes both ways (`pv.spec.claimRef`,
//!   `pvc.spec.volumeName`, phases, the `pv.kubernetes.io/*`
//!   annotations), assigns the default StorageClass to claims without one,
//!   asks external provisioners for volumes, releases volumes whose claim
//!   is gone and applies their reclaim policy. rkube's scheduler keeps
//!   pods off nodes their bound volumes cannot be used on (its
//!   VolumeBinding filter) but binds nothing itself: for
//!   `WaitForFirstConsumer` claims the binder plays that part of
//!   upstream's VolumeBinding — once a pod using the claim is on a node,
//!   it binds a static volume usable there or selects that node for
//!   provisioning (`volume.kubernetes.io/selected-node`).
//! - [`protection`]: the in-use protection finalizers of claims and
//!   volumes (upstream's `pvc-protection` and `pv-protection`).
//! - [`localpath`]: the `local-path` StorageClass (default, created at
//!   start when absent) and its provisioner `rancher.io/local-path`:
//!   hostPath volumes under [`localpath::STORAGE_ROOT`] pinned to the
//!   selected node, deleted with their claim.

pub mod binder;
pub mod localpath;
pub mod matching;
pub mod protection;

use std::collections::HashMap;

use kube::{Resource, ResourceExt};
use parking_lot::Mutex;

use crate::Recorder;
use crate::events::EventType;

/// Work-queue key of a claim (`pvc:namespace/name`).
pub fn claim_key(namespace: &str, name: &str) -> String {
    format!("pvc:{namespace}/{name}")
}

/// Work-queue key of a volume (`pv:name`).
pub fn volume_key(name: &str) -> String {
    format!("pv:{name}")
}

/// Events that upstream repeats on every sync of an object in the same
/// state (`FailedBinding`, `WaitForFirstConsumer`, ...), recorded once per
/// state: claims here are synced on every change of a related volume,
/// class or pod, not on a slow timer, so repeating them would write an
/// event (or bump its count) on each of those changes.
pub struct Announcer {
    recorder: Recorder,
    /// Object uid → the last (reason, message) recorded.
    last: Mutex<HashMap<String, (String, String)>>,
}

impl Announcer {
    /// Recording through `recorder`.
    pub fn new(recorder: Recorder) -> Announcer {
        Announcer {
            recorder,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Record an event about `obj` unless the last one recorded through
    /// [`Announcer::announce`] for it was the same.
    pub fn announce<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        let uid = obj.uid().unwrap_or_else(|| obj.name_any());
        {
            let mut last = self.last.lock();
            let now = (reason.to_owned(), message.clone());
            if last.get(&uid) == Some(&now) {
                return;
            }
            last.insert(uid, now);
        }
        self.recorder.event(obj, kind, reason, message);
    }

    /// Record an event about `obj` (always), remembering it as the last.
    pub fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        let uid = obj.uid().unwrap_or_else(|| obj.name_any());
        self.last
            .lock()
            .insert(uid, (reason.to_owned(), message.clone()));
        self.recorder.event(obj, kind, reason, message);
    }

    /// Forget an object (deleted).
    pub fn forget(&self, uid: &str) {
        self.last.lock().remove(uid);
    }
}
