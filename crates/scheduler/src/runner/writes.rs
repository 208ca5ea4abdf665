//! What the scheduler writes to the API: bindings, the `PodScheduled`
//! condition and `nominatedNodeName`, preemption's evictions, and Events.
//!
//! Every write runs in its own task (at most [`MAX_WRITES_IN_FLIGHT`] at
//! once), so a scheduling cycle never waits for the network; the outcome
//! of a binding comes back to the scheduling loop as an [`Outcome`].
//!
//! Events are core/v1 Events written as upstream's events/v1 recorder
//! writes them (`eventTime`, `reportingController` = the profile's
//! scheduler name, `reportingInstance`, `action`), plus
//! `source.component`, with upstream's reasons and messages:
//!
//! | reason | type | message |
//! | --- | --- | --- |
//! | `Scheduled` | Normal | upstream's `Successfully assigned <ns>/<pod> to <node>`, followed by why: the winner's score per plugin and the runner-up's ([`crate::ScheduleDecision::explain`]) |
//! | [`EXPLAINED`] | Normal | only with the pod annotation `scheduler.rkube.io/explain: all`: every feasible node's breakdown |
//! | `FailedScheduling` | Warning | the [`crate::FitError`] (`0/3 nodes are available: ...`); a repeat of the same message updates the event's `series` instead of creating another |
//! | `Preempted` | Normal | on a victim: `Preempted by pod <uid> on node <node>` |
//!
//! The explanation rides in the `Scheduled` event rather than an event of
//! its own: an event is a write, a stored object and a watch event, and a
//! second one per pod made events half of what scheduling costs the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use k8s_openapi::api::core::v1::{Event, EventSeries, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tracing::{debug, warn};

use crate::framework::ScheduleDecision;
use crate::pod_info::PodInfo;
use crate::preemption::PreemptionResult;

/// Requests the scheduler has in flight, at most.
pub const MAX_WRITES_IN_FLIGHT: usize = 64;

/// The field manager of the scheduler's writes (upstream's).
pub const FIELD_MANAGER: &str = "kube-scheduler";

/// The reason of the events listing every feasible node's scores (on
/// request, see [`scheduled_messages`]).
pub const EXPLAINED: &str = "SchedulingExplained";

/// The longest event message (events/v1's `note` limit, which upstream's
/// recorder truncates to).
pub const MAX_MESSAGE: usize = 1024;

/// At most this many events list every feasible node's scores.
pub const MAX_EXPLAIN_ALL_EVENTS: usize = 10;

/// A binding's outcome, reported to the scheduling loop when it failed
/// (a success is seen through the watch of pods).
#[derive(Debug)]
pub enum Outcome {
    /// The binding failed.
    BindFailed {
        /// `namespace/name`.
        key: String,
        /// The pod's uid.
        uid: String,
        /// The pod is gone (404).
        gone: bool,
        /// The pod was bound or deleted meanwhile (409).
        conflict: bool,
        /// The error.
        message: String,
    },
}

/// Cut a message to [`MAX_MESSAGE`] bytes as upstream's `truncateMessage`
/// (`... ` suffix), on a character boundary.
pub fn truncate_message(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_string();
    }
    const SUFFIX: &str = " ...";
    let mut end = MAX_MESSAGE - SUFFIX.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{SUFFIX}", &message[..end])
}

/// The messages of the events a binding writes: first the `Scheduled`
/// event's (upstream's message, then the one-line explanation), then, when
/// the decision kept every feasible node's breakdown, the [`EXPLAINED`]
/// events' breakdowns, highest total first, packed into messages of at
/// most [`MAX_MESSAGE`] bytes, at most [`MAX_EXPLAIN_ALL_EVENTS`] of them;
/// the last one says how many nodes were left out.
pub fn scheduled_messages(pod: &str, decision: &ScheduleDecision) -> Vec<String> {
    let mut out = vec![truncate_message(&format!(
        "Successfully assigned {pod} to {}; {}",
        decision.node,
        decision.explain()
    ))];
    let total = decision.all.len();
    if total == 0 {
        return out;
    }
    // Room for the header: "scores of feasible nodes 1000-1050 of 5000 (4950 more not shown): ".
    const HEADER_ROOM: usize = 80;
    let budget = MAX_MESSAGE - HEADER_ROOM;
    let mut chunks: Vec<(usize, usize, String)> = Vec::new(); // (first, last, body), 1-based
    for (i, n) in decision.all.iter().enumerate() {
        let line = n.to_string();
        let line = if line.len() > budget {
            let mut t = truncate_message(&line);
            while t.len() > budget {
                t.pop();
            }
            t
        } else {
            line
        };
        match chunks.last_mut() {
            Some((_, last, body)) if body.len() + 2 + line.len() <= budget => {
                body.push_str("; ");
                body.push_str(&line);
                *last = i + 1;
            }
            _ => {
                if chunks.len() == MAX_EXPLAIN_ALL_EVENTS {
                    break;
                }
                chunks.push((i + 1, i + 1, line));
            }
        }
    }
    let shown = chunks.last().map_or(0, |c| c.1);
    let n = chunks.len();
    for (k, (first, last, body)) in chunks.into_iter().enumerate() {
        let range = if first == last {
            format!("{first}")
        } else {
            format!("{first}-{last}")
        };
        let more = if k + 1 == n && shown < total {
            format!(" ({} more not shown)", total - shown)
        } else {
            String::new()
        };
        out.push(format!(
            "scores of feasible nodes {range} of {total}{more}: {body}"
        ));
    }
    out
}

/// Event names: `<object>.<hex nanoseconds>` as upstream, strictly
/// increasing within the process so two events never collide.
fn event_name(object: &str) -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = Timestamp::now().as_nanosecond().max(0) as u64;
    let mut prev = LAST.load(Ordering::Relaxed);
    let t = loop {
        let t = now.max(prev + 1);
        match LAST.compare_exchange_weak(prev, t, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break t,
            Err(p) => prev = p,
        }
    };
    format!("{object}.{t:x}")
}

/// An event to write about a pod.
#[derive(Clone, Debug)]
pub struct PodEvent {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The reason.
    pub reason: &'static str,
    /// The action (`Binding`, `Scheduling`, `Preempting`).
    pub action: &'static str,
    /// The message.
    pub message: String,
}

/// The reference of a pod in its events.
fn pod_ref(pod: &PodInfo) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        namespace: Some(pod.namespace.clone()),
        name: Some(pod.name.clone()),
        uid: Some(pod.uid.clone()).filter(|u| !u.is_empty()),
        resource_version: pod.pod.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// The FailedScheduling event last written for a pod, to count repeats.
#[derive(Debug)]
struct Series {
    uid: String,
    message: String,
    event: String,
    count: i32,
}

/// Writes to the API on behalf of the scheduling loop. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    client: Client,
    limit: Arc<Semaphore>,
    instance: Arc<str>,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

impl Writer {
    /// A writer reporting binding outcomes on `outcomes`.
    pub fn new(client: Client, outcomes: mpsc::UnboundedSender<Outcome>) -> Writer {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "rkube".into());
        Writer {
            client,
            limit: Arc::new(Semaphore::new(MAX_WRITES_IN_FLIGHT)),
            instance: host.into(),
            outcomes,
        }
    }

    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Run a write in its own task, within the in-flight limit.
    fn spawn(&self, write: impl Future<Output = ()> + Send + 'static) {
        let limit = self.limit.clone();
        tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            write.await;
        });
    }

    /// Create an event about a pod (awaited; see [`Writer::event`]).
    async fn create_event(&self, controller: &str, pod: &PodInfo, ev: PodEvent) {
        self.create_named_event(controller, pod, ev, event_name(&pod.name))
            .await;
    }

    /// Create an event about a pod with this name (awaited).
    async fn create_named_event(
        &self,
        controller: &str,
        pod: &PodInfo,
        ev: PodEvent,
        name: String,
    ) {
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(pod.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: pod_ref(pod),
            reason: Some(ev.reason.into()),
            message: Some(truncate_message(&ev.message)),
            type_: Some(ev.type_.into()),
            action: Some(ev.action.into()),
            source: Some(EventSource {
                component: Some(controller.into()),
                host: None,
            }),
            reporting_component: Some(controller.into()),
            reporting_instance: Some(format!("{controller}-{}", self.instance)),
            event_time: Some(MicroTime(Timestamp::now())),
            ..Event::default()
        };
        if let Err(e) = self.create_unread(&pod.namespace, &event).await {
            warn!(pod = %pod.key, reason = ev.reason, "creating an event: {}", api_message(&e));
        }
    }

    /// Create an object without decoding the server's copy of it, which
    /// no caller reads (every scheduled pod costs an event; decoding each
    /// response in full, field ownership included, was wasted work).
    async fn create_unread<K>(&self, namespace: &str, obj: &K) -> Result<(), kube::Error>
    where
        K: kube::Resource<DynamicType = ()> + serde::Serialize,
    {
        let body = serde_json::to_vec(obj).map_err(kube::Error::SerdeError)?;
        let request = kube::core::Request::new(K::url_path(&(), Some(namespace)))
            .create(&PostParams::default(), body)
            .map_err(kube::Error::BuildRequest)?;
        self.client.request::<IgnoredAny>(request).await.map(drop)
    }

    /// Write an event about a pod in the background.
    pub fn event(&self, controller: &str, pod: &Arc<PodInfo>, ev: PodEvent) {
        let (w, controller, pod) = (self.clone(), controller.to_string(), pod.clone());
        self.spawn(async move {
            w.create_event(&controller, &pod, ev).await;
        });
    }

    /// Bind a pod to the decision's node; on success write the `Scheduled`
    /// event (and, on request, the [`EXPLAINED`] ones), on failure report
    /// an [`Outcome`].
    pub fn bind(&self, controller: &str, pod: Arc<PodInfo>, decision: ScheduleDecision) {
        let (w, controller) = (self.clone(), controller.to_string());
        self.spawn(async move {
            let node = decision.node.clone();
            let binding = json!({
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            });
            let params = PostParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..PostParams::default()
            };
            let result = w
                .pods(&pod.namespace)
                .create_subresource::<_, IgnoredAny>("binding", &pod.name, &params, &binding)
                .await;
            let (key, uid) = (pod.key.clone(), pod.uid.clone());
            match result {
                Ok(_) => {
                    debug!(pod = %key, node = %node, "bound: {}", decision.explain());
                    for (i, message) in scheduled_messages(&pod.key, &decision)
                        .into_iter()
                        .enumerate()
                    {
                        let ev = PodEvent {
                            type_: "Normal",
                            reason: if i == 0 { "Scheduled" } else { EXPLAINED },
                            action: "Binding",
                            message,
                        };
                        w.create_event(&controller, &pod, ev).await;
                    }
                }
                Err(e) => {
                    let code = api_code(&e);
                    let message = api_message(&e);
                    if code != Some(404) && code != Some(409) {
                        warn!(pod = %key, node = %node, "binding failed: {message}");
                    } else {
                        debug!(pod = %key, node = %node, "binding failed: {message}");
                    }
                    let _ = w.outcomes.send(Outcome::BindFailed {
                        key,
                        uid,
                        gone: code == Some(404),
                        conflict: code == Some(409),
                        message,
                    });
                }
            }
        });
    }

    /// Patch a pod's status in the background (strategic merge), ignoring
    /// a pod that is gone.
    fn patch_status(&self, pod: &PodInfo, status: Value) {
        let api = self.pods(&pod.namespace);
        let (name, key) = (pod.name.clone(), pod.key.clone());
        self.spawn(async move {
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..PatchParams::default()
            };
            let patch = Patch::Strategic(json!({ "status": status }));
            if let Err(e) = api.patch_status(&name, &params, &patch).await
                && api_code(&e) != Some(404)
            {
                warn!(pod = %key, "updating the pod's status: {}", api_message(&e));
            }
        });
    }

    /// Record a scheduling failure: the `PodScheduled=False` condition
    /// (reason `Unschedulable`, or `SchedulerError` for other errors) and
    /// `nominatedNodeName` when preemption nominated a node, written only
    /// if they change (as upstream's `updatePod`).
    pub fn set_unschedulable(
        &self,
        pod: &PodInfo,
        reason: &str,
        message: &str,
        nominated: Option<&str>,
    ) {
        let status = pod.pod.status.as_ref();
        let current = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
        let same_condition = current.is_some_and(|c| {
            c.status == "False"
                && c.reason.as_deref() == Some(reason)
                && c.message.as_deref() == Some(message)
        });
        let same_nomination = nominated.is_none_or(|n| pod.nominated_node_name() == Some(n));
        if same_condition && same_nomination {
            return;
        }
        let transition = match current {
            Some(c) if c.status == "False" => c.last_transition_time.clone(),
            _ => None,
        }
        .unwrap_or_else(|| Time(Timestamp::now()));
        let mut patch = json!({
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": reason,
                "message": message,
                "lastProbeTime": null,
                "lastTransitionTime": transition,
            }],
        });
        if let Some(n) = nominated {
            patch["nominatedNodeName"] = Value::from(n);
        }
        self.patch_status(pod, patch);
    }

    /// Clear a pod's `status.nominatedNodeName` (a higher-priority pod took
    /// its place).
    pub fn clear_nomination(&self, pod: &PodInfo) {
        if pod.nominated_node_name().is_some() {
            self.patch_status(pod, json!({ "nominatedNodeName": null }));
        }
    }

    /// Evict preemption's victims as upstream's `prepareCandidate`: mark
    /// each with the `DisruptionTarget` condition, delete it (its own grace
    /// period, its uid as precondition) and write a `Preempted` event on
    /// it.
    pub fn preempt(&self, controller: &str, preemptor: &PodInfo, result: &PreemptionResult) {
        for victim in &result.victims {
            let (w, controller, victim) = (self.clone(), controller.to_string(), victim.clone());
            let node = result.nominated_node.clone();
            let preemptor_uid = preemptor.uid.clone();
            let preemptor_key = preemptor.key.clone();
            self.spawn(async move {
                let api = w.pods(&victim.namespace);
                let condition = json!({"status": {"conditions": [{
                    "type": "DisruptionTarget",
                    "status": "True",
                    "reason": "PreemptionByScheduler",
                    "message": format!("{controller}: preempting to accommodate a higher priority pod"),
                    "lastTransitionTime": Time(Timestamp::now()),
                }]}});
                let params = PatchParams {
                    field_manager: Some(FIELD_MANAGER.into()),
                    ..PatchParams::default()
                };
                if let Err(e) = api
                    .patch_status(&victim.name, &params, &Patch::Strategic(condition))
                    .await
                {
                    if api_code(&e) == Some(404) {
                        return;
                    }
                    warn!(victim = %victim.key, "marking a preemption victim: {}", api_message(&e));
                }
                let delete = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(victim.uid.clone()).filter(|u| !u.is_empty()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                match api.delete(&victim.name, &delete).await {
                    Ok(_) => {}
                    Err(e) if matches!(api_code(&e), Some(404 | 409)) => return,
                    Err(e) => {
                        warn!(victim = %victim.key, "deleting a preemption victim: {}", api_message(&e));
                        return;
                    }
                }
                debug!(victim = %victim.key, preemptor = %preemptor_key, node = %node, "preempted");
                let ev = PodEvent {
                    type_: "Normal",
                    reason: "Preempted",
                    action: "Preempting",
                    message: format!("Preempted by pod {preemptor_uid} on node {node}"),
                };
                w.create_event(&controller, &victim, ev).await;
            });
        }
    }
}

/// Writes the `FailedScheduling` events, counting repeats of the same
/// message for the same pod in the first event's `series` rather than
/// writing a new event each time.
#[derive(Debug, Default)]
pub struct FailureEvents {
    series: std::collections::HashMap<String, Series>,
}

impl FailureEvents {
    /// Record a failed attempt.
    pub fn record(&mut self, w: &Writer, controller: &str, pod: &Arc<PodInfo>, message: &str) {
        let message = truncate_message(message);
        if let Some(s) = self.series.get_mut(&pod.key)
            && s.uid == pod.uid
            && s.message == message
        {
            s.count += 1;
            let (api, name, count) = (
                Api::<Event>::namespaced(w.client.clone(), &pod.namespace),
                s.event.clone(),
                s.count,
            );
            w.spawn(async move {
                let series = EventSeries {
                    count: Some(count),
                    last_observed_time: Some(MicroTime(Timestamp::now())),
                };
                let patch = Patch::Merge(json!({ "series": series }));
                if let Err(e) = api.patch(&name, &PatchParams::default(), &patch).await {
                    debug!(event = %name, "updating an event series: {}", api_message(&e));
                }
            });
            return;
        }
        let name = event_name(&pod.name);
        self.series.insert(
            pod.key.clone(),
            Series {
                uid: pod.uid.clone(),
                message: message.clone(),
                event: name.clone(),
                count: 1,
            },
        );
        let (w2, controller, pod) = (w.clone(), controller.to_string(), pod.clone());
        w.spawn(async move {
            let ev = PodEvent {
                type_: "Warning",
                reason: "FailedScheduling",
                action: "Scheduling",
                message,
            };
            w2.create_named_event(&controller, &pod, ev, name).await;
        });
    }

    /// Forget a pod (bound or deleted).
    pub fn forget(&mut self, key: &str) {
        self.series.remove(key);
    }
}

/// The HTTP code of an API error.
fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// The message of an API error (the Status message), or the error.
fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{NodeScore, PluginScore};

    fn score(node: &str, total: i64) -> NodeScore {
        NodeScore {
            node: node.into(),
            total,
            plugins: vec![
                PluginScore {
                    plugin: "NodeResourcesFit",
                    raw: 90,
                    score: 90,
                    weight: 1,
                },
                PluginScore {
                    plugin: "TaintToleration",
                    raw: 0,
                    score: 100,
                    weight: 3,
                },
            ],
        }
    }

    fn decision(all: usize) -> ScheduleDecision {
        ScheduleDecision {
            node: "n0".into(),
            winner: score("n0", 390),
            runner_up: Some(score("n1", 380)),
            all: (0..all)
                .map(|i| score(&format!("n{i}"), 390 - i as i64))
                .collect(),
            evaluated_nodes: all.max(2),
            feasible_nodes: all.max(2),
        }
    }

    #[test]
    fn truncation_is_upstreams() {
        assert_eq!(truncate_message("short"), "short");
        let long = "é".repeat(600); // 1200 bytes
        let t = truncate_message(&long);
        assert!(t.len() <= MAX_MESSAGE && t.ends_with(" ..."), "{}", t.len());
    }

    #[test]
    fn one_event_without_explain_all() {
        let m = scheduled_messages("default/p", &decision(0));
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0],
            "Successfully assigned default/p to n0; best of 2 feasible nodes (2 evaluated): \
             n0 scored 390 (NodeResourcesFit 90×1, TaintToleration 100×3); \
             runner-up n1 scored 380 (NodeResourcesFit 90×1, TaintToleration 100×3)"
        );
    }

    #[test]
    fn explain_all_is_packed_and_capped() {
        let m = scheduled_messages("default/p", &decision(3));
        assert_eq!(m.len(), 2);
        assert!(
            m[1].starts_with("scores of feasible nodes 1-3 of 3: n0 scored 390 ("),
            "{}",
            m[1]
        );
        let m = scheduled_messages("default/p", &decision(5000));
        assert_eq!(m.len(), 1 + MAX_EXPLAIN_ALL_EVENTS);
        assert!(m.iter().all(|s| s.len() <= MAX_MESSAGE));
        let last = m.last().unwrap();
        assert!(last.contains(" of 5000 ("), "{last}");
        assert!(last.contains(" more not shown): "), "{last}");
    }
}
