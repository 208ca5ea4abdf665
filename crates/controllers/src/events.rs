//! Events as controllers record them (`kubectl describe` reads them): a
//! bounded queue drained by one task, so a burst of changes never blocks a
//! controller; under pressure events are dropped, as upstream's
//! broadcaster drops them.
//!
//! An event that repeats one recorded in the last [`DEDUP_WINDOW`] (same
//! component, object, type, reason and message) is not a new object: the
//! first one's `count` goes up and its `lastTimestamp` moves, as upstream's
//! event correlator does (`kubectl describe` then shows `x3 over 2m`).
//!
//! Each component may write [`SPAM_BURST`] events about one object, then
//! one per [`SPAM_REFILL`] (upstream's spam filter): a ReplicaSet creating
//! 10,000 pods records its first creations, not 10,000 events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::debug;

/// Events waiting to be written, at most.
const QUEUE: usize = 4096;
/// Events written at once.
const PARALLEL: usize = 8;
/// How long a recorded event absorbs its repeats.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(600);
/// Distinct events remembered for de-duplication, at most.
const REMEMBERED: usize = 4096;
/// Events one component may write about one object at once.
pub const SPAM_BURST: f64 = 25.0;
/// Then one event per this long.
pub const SPAM_REFILL: Duration = Duration::from_secs(300);

/// `Normal` or `Warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Expected behaviour.
    Normal,
    /// Something went wrong.
    Warning,
}

/// Records events for one component (`replicaset-controller`, ...).
#[derive(Clone)]
pub struct Recorder {
    component: &'static str,
    /// The writers' queues (see [`Recorder::new`]).
    lanes: Arc<Vec<mpsc::Sender<Event>>>,
    seen: Arc<Mutex<HashMap<String, Seen>>>,
    similar: Arc<Mutex<HashMap<String, Similar>>>,
    budgets: Arc<Mutex<HashMap<String, Budget>>>,
}

/// One object's event budget (a token bucket).
struct Budget {
    tokens: f64,
    at: Instant,
}

/// Whether an event about `key`'s object may be written now, taking a
/// token if so.
fn allowed(budgets: &mut HashMap<String, Budget>, key: String, now: Instant) -> bool {
    if budgets.len() >= REMEMBERED {
        // Buckets full again are no different from new ones.
        let full = SPAM_REFILL.mul_f64(SPAM_BURST);
        budgets.retain(|_, b| now.duration_since(b.at) < full);
        if budgets.len() >= REMEMBERED {
            budgets.clear();
        }
    }
    let b = budgets.entry(key).or_insert(Budget {
        tokens: SPAM_BURST,
        at: now,
    });
    let refilled = now.duration_since(b.at).as_secs_f64() / SPAM_REFILL.as_secs_f64();
    b.tokens = (b.tokens + refilled).min(SPAM_BURST);
    b.at = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}

/// Which budget an event draws on: its component and object (upstream's
/// `getSpamKey`).
fn spam_key(e: &Event) -> String {
    let o = &e.involved_object;
    [
        e.source.as_ref().and_then(|s| s.component.as_deref()),
        o.kind.as_deref(),
        o.namespace.as_deref(),
        o.name.as_deref(),
        o.uid.as_deref(),
        o.api_version.as_deref(),
    ]
    .map(|p| p.unwrap_or(""))
    .join("\u{0}")
}

/// Distinct messages an object's similar events may have before they are
/// combined (upstream's `maxSimilarEvents`).
pub const MAX_SIMILAR: usize = 10;
/// The prefix of a combined event's message.
pub const COMBINED: &str = "(combined from similar events): ";

/// The messages seen lately for events that differ only by message.
struct Similar {
    messages: std::collections::HashSet<String>,
    at: Instant,
}

/// Upstream's `EventAggregate`: events alike but for their message (same
/// component, object, type and reason) are written apart until
/// [`MAX_SIMILAR`] distinct messages were seen within the window; from
/// then on they become one event, its message the latest prefixed with
/// [`COMBINED`], counted as repeats of each other. Returns the key the
/// event is correlated under.
fn aggregate(similar: &mut HashMap<String, Similar>, event: &mut Event, now: Instant) -> String {
    let key = [
        spam_key(event).as_str(),
        event.type_.as_deref().unwrap_or(""),
        event.reason.as_deref().unwrap_or(""),
    ]
    .join("\u{0}");
    if similar.len() >= REMEMBERED {
        similar.retain(|_, s| now.duration_since(s.at) < DEDUP_WINDOW);
        if similar.len() >= REMEMBERED {
            similar.clear();
        }
    }
    let record = similar.entry(key.clone()).or_insert_with(|| Similar {
        messages: Default::default(),
        at: now,
    });
    if now.duration_since(record.at) >= DEDUP_WINDOW {
        record.messages.clear();
    }
    record.at = now;
    let message = event.message.clone().unwrap_or_default();
    record.messages.insert(message.clone());
    if record.messages.len() < MAX_SIMILAR {
        return event_key(event);
    }
    // Keep the set from growing past the threshold.
    if let Some(any) = record.messages.iter().next().cloned() {
        record.messages.remove(&any);
    }
    event.message = Some(format!("{COMBINED}{message}"));
    format!("combined\u{0}{key}")
}

/// A recorded event, for its repeats.
struct Seen {
    name: String,
    count: i32,
    first: Time,
    at: Instant,
}

/// What makes two events the same (upstream's `getEventKey`): their
/// component and object, type, reason and message.
fn event_key(e: &Event) -> String {
    [
        spam_key(e).as_str(),
        e.type_.as_deref().unwrap_or(""),
        e.reason.as_deref().unwrap_or(""),
        e.message.as_deref().unwrap_or(""),
    ]
    .join("\u{0}")
}

/// Write `event`: a repeat (count > 1) updates the stored one, falling
/// back to a create if it is gone; a create that finds it there updates.
async fn write(client: Client, event: Event) -> kube::Result<()> {
    let ns = event.metadata.namespace.clone().unwrap_or_default();
    let name = event.metadata.name.clone().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client, &ns);
    // The message too: a combined event shows the latest.
    let update = Patch::Merge(json!({
        "count": event.count,
        "lastTimestamp": event.last_timestamp,
        "message": event.message,
    }));
    let pp = PatchParams::default();
    let patch = || api.patch(&name, &pp, &update);
    if event.count.unwrap_or(1) > 1 {
        match patch().await {
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            other => return other.map(drop),
        }
    }
    match api.create(&PostParams::default(), &event).await {
        // A repeat overtook it: count what this one says, unless it is the
        // first (the repeat's count is higher).
        Err(kube::Error::Api(s)) if s.code == 409 && event.count.unwrap_or(1) > 1 => {
            patch().await.map(drop)
        }
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        other => other.map(drop),
    }
}

impl Recorder {
    /// A recorder writing through `client`; the writer task runs until every
    /// recorder is dropped.
    pub fn new(client: Client, component: &'static str) -> Recorder {
        // One lane per writer; an event's repeats take its lane, so they
        // reach the server in order (a count never goes back).
        let lanes = (0..PARALLEL)
            .map(|_| {
                let (tx, mut rx) = mpsc::channel::<Event>(QUEUE / PARALLEL);
                let client = client.clone();
                tokio::spawn(async move {
                    while let Some(event) = rx.recv().await {
                        let reason = event.reason.clone();
                        if let Err(e) = write(client.clone(), event).await {
                            debug!("recording event {reason:?}: {e}");
                        }
                    }
                });
                tx
            })
            .collect();
        Recorder {
            component,
            lanes: Arc::new(lanes),
            seen: Default::default(),
            similar: Default::default(),
            budgets: Default::default(),
        }
    }

    /// Record an event about `obj`.
    pub fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        self.event_for(reference(obj), kind, reason, message);
    }

    /// Record an event about the object `involved` refers to.
    pub fn event_for(
        &self,
        involved: ObjectReference,
        kind: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        let now = jiff::Timestamp::now();
        let ns = involved
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into());
        let name = format!(
            "{}.{:x}",
            involved.name.as_deref().unwrap_or(""),
            now.as_nanosecond()
        );
        let mut event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(ns),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(reason.to_owned()),
            message: Some(message.into()),
            type_: Some(
                match kind {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            source: Some(EventSource {
                component: Some(self.component.to_owned()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: None::<MicroTime>,
            count: Some(1),
            reporting_component: Some(self.component.to_owned()),
            reporting_instance: Some(self.component.to_owned()),
            ..Default::default()
        };
        let now = Instant::now();
        let key = aggregate(&mut self.similar.lock(), &mut event, now);
        correlate(&mut self.seen.lock(), key, &mut event, now);
        if !allowed(&mut self.budgets.lock(), spam_key(&event), now) {
            debug!("event budget spent: dropping {reason}");
            return;
        }
        let lane = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            event.metadata.name.hash(&mut h);
            h.finish() as usize % self.lanes.len()
        };
        if self.lanes[lane].try_send(event).is_err() {
            debug!("event queue full: dropping {reason}");
        }
    }
}

/// Make `event` a repeat of the one recorded under `key` within the window
/// (its name, first timestamp and a count one higher), or remember it.
fn correlate(seen: &mut HashMap<String, Seen>, key: String, event: &mut Event, now: Instant) {
    if seen.len() >= REMEMBERED {
        seen.retain(|_, s| now.duration_since(s.at) < DEDUP_WINDOW);
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
    }
    match seen.get_mut(&key) {
        Some(s) if now.duration_since(s.at) < DEDUP_WINDOW => {
            s.count += 1;
            s.at = now;
            event.metadata.name = Some(s.name.clone());
            event.first_timestamp = Some(s.first.clone());
            event.count = Some(s.count);
        }
        _ => {
            seen.insert(
                key,
                Seen {
                    name: event.metadata.name.clone().unwrap_or_default(),
                    count: 1,
                    first: event
                        .first_timestamp
                        .clone()
                        .unwrap_or(Time(jiff::Timestamp::now())),
                    at: now,
                },
            );
        }
    }
}

/// An ObjectReference to `obj`.
pub fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: Some(obj.name_any()),
        namespace: obj.namespace(),
        uid: obj.uid(),
        resource_version: obj.resource_version(),
        field_path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, reason: &str, message: &str) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some("p".into()),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            count: Some(1),
            first_timestamp: Some(Time(jiff::Timestamp::UNIX_EPOCH)),
            ..Default::default()
        }
    }

    #[test]
    fn each_object_has_a_budget() {
        let mut budgets = HashMap::new();
        let t0 = Instant::now();
        let n = (0..40)
            .filter(|_| allowed(&mut budgets, "rs-a".into(), t0))
            .count();
        assert_eq!(n, 25);
        // Another object has its own.
        assert!(allowed(&mut budgets, "rs-b".into(), t0));
        // One more after the refill period.
        assert!(!allowed(&mut budgets, "rs-a".into(), t0 + SPAM_REFILL / 2));
        assert!(allowed(
            &mut budgets,
            "rs-a".into(),
            t0 + SPAM_REFILL + SPAM_REFILL / 2
        ));
        assert!(!allowed(
            &mut budgets,
            "rs-a".into(),
            t0 + SPAM_REFILL + SPAM_REFILL / 2
        ));
    }

    #[test]
    fn repeats_count_on_the_first_event() {
        let mut seen = HashMap::new();
        let t0 = Instant::now();
        let mut a = event("p.1", "Failed", "boom");
        correlate(&mut seen, event_key(&a), &mut a, t0);
        assert_eq!(
            (a.metadata.name.as_deref(), a.count),
            (Some("p.1"), Some(1))
        );
        let mut b = event("p.2", "Failed", "boom");
        b.first_timestamp = Some(Time(jiff::Timestamp::now()));
        correlate(
            &mut seen,
            event_key(&b),
            &mut b,
            t0 + Duration::from_secs(5),
        );
        assert_eq!(
            (b.metadata.name.as_deref(), b.count),
            (Some("p.1"), Some(2))
        );
        assert_eq!(b.first_timestamp, a.first_timestamp);
        // Another message is another event.
        let mut c = event("p.3", "Failed", "other");
        correlate(
            &mut seen,
            event_key(&c),
            &mut c,
            t0 + Duration::from_secs(6),
        );
        assert_eq!(
            (c.metadata.name.as_deref(), c.count),
            (Some("p.3"), Some(1))
        );
        // After the window, a repeat starts afresh.
        let mut d = event("p.4", "Failed", "boom");
        correlate(
            &mut seen,
            event_key(&d),
            &mut d,
            t0 + Duration::from_secs(5) + DEDUP_WINDOW,
        );
        assert_eq!(
            (d.metadata.name.as_deref(), d.count),
            (Some("p.4"), Some(1))
        );
    }

    #[test]
    fn similar_events_are_combined_after_ten_messages() {
        let (mut similar, mut seen) = (HashMap::new(), HashMap::new());
        let t0 = Instant::now();
        let mut record = |i: usize, at: Instant| {
            let mut e = event(
                &format!("rs.{i}"),
                "SuccessfulCreate",
                &format!("Created pod: p{i}"),
            );
            let key = aggregate(&mut similar, &mut e, at);
            correlate(&mut seen, key, &mut e, at);
            e
        };
        for i in 1..MAX_SIMILAR {
            let e = record(i, t0);
            assert_eq!(
                e.message.as_deref(),
                Some(format!("Created pod: p{i}").as_str())
            );
            assert_eq!(e.count, Some(1));
        }
        // The tenth distinct message starts the combined event; more count on it.
        let first = record(10, t0);
        assert_eq!(
            first.message.as_deref(),
            Some("(combined from similar events): Created pod: p10")
        );
        assert_eq!(first.count, Some(1));
        let next = record(11, t0 + Duration::from_secs(1));
        assert_eq!(
            next.message.as_deref(),
            Some("(combined from similar events): Created pod: p11")
        );
        assert_eq!(
            (next.metadata.name, next.count),
            (first.metadata.name, Some(2))
        );
        // Another reason is not similar.
        let mut other = event("rs.x", "SuccessfulDelete", "Deleted pod: p1");
        let key = aggregate(&mut similar, &mut other, t0);
        assert_eq!(key, event_key(&other));
        assert_eq!(other.message.as_deref(), Some("Deleted pod: p1"));
    }
}
