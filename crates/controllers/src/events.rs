//! Events as controllers record them (`kubectl describe` reads them): a
//! bounded queue drained by one task, so a burst of changes never blocks a
//! controller; under pressure events are dropped, as upstream's
//! broadcaster drops them.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::PostParams;
use kube::{Api, Client, Resource, ResourceExt};
use tokio::sync::mpsc;
use tracing::debug;

/// Events waiting to be written, at most.
const QUEUE: usize = 4096;
/// Events written at once.
const PARALLEL: usize = 8;

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
    tx: mpsc::Sender<Event>,
}

impl Recorder {
    /// A recorder writing through `client`; the writer task runs until every
    /// recorder is dropped.
    pub fn new(client: Client, component: &'static str) -> Recorder {
        let (tx, rx) = mpsc::channel::<Event>(QUEUE);
        tokio::spawn(async move {
            tokio_stream_from(rx)
                .for_each_concurrent(PARALLEL, |event| {
                    let client = client.clone();
                    async move {
                        let ns = event.metadata.namespace.clone().unwrap_or_default();
                        let api: Api<Event> = Api::namespaced(client, &ns);
                        if let Err(e) = api.create(&PostParams::default(), &event).await {
                            debug!("recording event {:?}: {e}", event.reason);
                        }
                    }
                })
                .await;
        });
        Recorder { component, tx }
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
        let event = Event {
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
        if self.tx.try_send(event).is_err() {
            debug!("event queue full: dropping {reason}");
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

fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
