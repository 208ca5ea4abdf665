//! The controllers' view of a Pod: the fields some controller reads, and
//! nothing else.
//!
//! The pods informer is most of the controller manager's memory: a
//! k8s-openapi `Pod` with one container is ~15 KB once decoded, nearly all
//! of it the fixed size of structs whose fields a controller never reads
//! (`Container` alone is 2 KB, `Volume` 3 KB, both mostly `None`s). These
//! types keep the same field names and types as k8s-openapi's for what
//! they keep, so code reads `pod.spec.as_ref().and_then(|s| ...)` either
//! way; unknown fields are skipped while decoding.
//!
//! Invariant: a field read by any controller, or by the quota evaluator
//! through [`Pod::to_api`], is kept here. Adding a read of a pod field in
//! a controller means adding the field here first (the compiler says so).

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer, Serialize};

/// A Pod as the controllers cache it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Pod {
    /// Standard object metadata, without field ownership (skipped while
    /// decoding: it is most of a pod's JSON and no controller reads it).
    #[serde(default, deserialize_with = "meta_without_managed_fields")]
    pub metadata: ObjectMeta,
    /// What the controllers read of the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    /// What the controllers read of the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PodStatus>,
}

/// The part of `PodSpec` controllers read.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// The node the pod is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Containers (ports for endpoints, requests for quota).
    #[serde(default, deserialize_with = "shrunk_vec")]
    pub containers: Vec<Container>,
    /// Init containers (quota; restartable sidecars).
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub init_containers: Option<Vec<Container>>,
    /// Volumes (claims in use).
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub volumes: Option<Vec<Volume>>,
    /// Tolerations (NoExecute eviction).
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerations: Option<Vec<api::Toleration>>,
    /// `Always`, `OnFailure` or `Never`.
    #[serde(
        default,
        deserialize_with = "opt_word",
        skip_serializing_if = "Option::is_none"
    )]
    pub restart_policy: Option<Word>,
    /// Hostname (endpoints of headless Services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Subdomain (endpoints of headless Services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// Priority value resolved at admission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Priority class (quota scopes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Deadline (quota's Terminating scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Pod overhead (quota).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<BTreeMap<String, Quantity>>,
    /// Affinity (quota's CrossNamespacePodAffinity scope); boxed, as
    /// most pods have none and the cached pod's size sets its allocator
    /// bin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Box<api::Affinity>>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Grace period for deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<i64>,
}

/// The part of `Container` controllers read.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Ports (named target ports of Services).
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub ports: Option<Vec<api::ContainerPort>>,
    /// Requests and limits (quota).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// `Always` on an init container makes it a sidecar.
    #[serde(
        default,
        deserialize_with = "opt_word",
        skip_serializing_if = "Option::is_none"
    )]
    pub restart_policy: Option<Word>,
}

/// The part of `Volume` controllers read: which claim it uses.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Volume name.
    pub name: String,
    /// A claim by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<api::PersistentVolumeClaimVolumeSource>,
    /// A generic ephemeral volume (its claim is `<pod>-<volume>`); kept
    /// undecoded, only its presence matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral: Option<serde_json::Value>,
}

/// The part of `PodStatus` controllers read.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    #[serde(
        default,
        deserialize_with = "opt_word",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<Word>,
    /// Conditions (Ready, DisruptionTarget, ...).
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub conditions: Option<Vec<PodCondition>>,
    /// Containers' states.
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_statuses: Option<Vec<ContainerStatus>>,
    /// Init containers' states.
    #[serde(
        default,
        deserialize_with = "shrunk",
        skip_serializing_if = "Option::is_none"
    )]
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
    /// Primary IP.
    #[serde(rename = "podIP", default, skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    /// Every IP.
    #[serde(rename = "podIPs", default, skip_serializing_if = "Option::is_none")]
    pub pod_ips: Option<Vec<api::PodIP>>,
    /// When the node agent accepted the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// Why the pod is in this state (`Evicted`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The part of `ContainerStatus` controllers read.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// Readiness.
    #[serde(default)]
    pub ready: bool,
    /// Restarts so far.
    #[serde(default)]
    pub restart_count: i32,
    /// Current state (exit codes for pod failure policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
}

/// A container's state: `api::ContainerState` is 200 bytes, nearly all of
/// it the terminated variant, which only finished containers have.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ContainerState {
    /// Waiting to start (with why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<api::ContainerStateWaiting>,
    /// Running since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<api::ContainerStateRunning>,
    /// Finished (exit code, times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Box<api::ContainerStateTerminated>>,
}

/// A container's requests and limits, as short lists: a `BTreeMap` node
/// is 544 bytes however few entries it holds, and most containers name
/// one or two resources.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Resources {
    /// Requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceList>,
    /// Limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceList>,
}

/// Resource name → quantity, sorted by name, decoded from and encoded as
/// a JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceList(Box<[(Word, Quantity)]>);

impl ResourceList {
    /// The quantity of a resource.
    pub fn get(&self, name: &str) -> Option<&Quantity> {
        self.0
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    fn to_api(&self) -> BTreeMap<String, Quantity> {
        self.0
            .iter()
            .map(|(n, q)| (n.to_string(), q.clone()))
            .collect()
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = ResourceList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of resource names to quantities")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ResourceList, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(2));
                while let Some(Known(name)) = map.next_key()? {
                    entries.push((name, map.next_value()?));
                }
                entries.sort_by(|a: &(Word, Quantity), b| a.0.cmp(&b.0));
                entries.dedup_by(|a, b| a.0 == b.0);
                Ok(ResourceList(entries.into_boxed_slice()))
            }
        }
        d.deserialize_map(Entries)
    }
}

impl Serialize for ResourceList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(n, q)| (n, q)))
    }
}

/// A string that is nearly always one of a few words the API defines
/// (`True`, `Ready`, `Running`, `cpu`, ...): those decode to a static
/// string, without an allocation; anything else is kept as it came.
pub type Word = Cow<'static, str>;

/// The words [`Word`] knows, sorted.
const WORDS: &[&str] = &[
    "Always",
    "ContainersReady",
    "DisruptionTarget",
    "Failed",
    "False",
    "Initialized",
    "Never",
    "OnFailure",
    "Pending",
    "PodCompleted",
    "PodReadyToStartContainers",
    "PodScheduled",
    "Ready",
    "Running",
    "Succeeded",
    "True",
    "Unknown",
    "cpu",
    "ephemeral-storage",
    "memory",
    "pods",
];

/// A [`Word`] as serde decodes it.
struct Known(Word);

impl<'de> Deserialize<'de> for Known {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Known;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Known, E> {
                Ok(Known(match WORDS.binary_search(&v) {
                    Ok(i) => Cow::Borrowed(WORDS[i]),
                    Err(_) => Cow::Owned(v.to_owned()),
                }))
            }
        }
        d.deserialize_str(Visitor)
    }
}

fn word<'de, D: Deserializer<'de>>(d: D) -> Result<Word, D::Error> {
    Ok(Known::deserialize(d)?.0)
}

fn opt_word<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Word>, D::Error> {
    Ok(Option::<Known>::deserialize(d)?.map(|k| k.0))
}

/// `ObjectMeta` with `managedFields` skipped rather than decoded and
/// dropped: serde ignores fields a struct does not name without
/// allocating for them.
fn meta_without_managed_fields<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
        #[serde(default)]
        creation_timestamp: Option<Time>,
        #[serde(default)]
        deletion_grace_period_seconds: Option<i64>,
        #[serde(default)]
        deletion_timestamp: Option<Time>,
        #[serde(default)]
        finalizers: Option<Vec<String>>,
        #[serde(default)]
        generate_name: Option<String>,
        #[serde(default)]
        generation: Option<i64>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default, deserialize_with = "shrunk")]
        owner_references: Option<Vec<OwnerReference>>,
        #[serde(default)]
        resource_version: Option<String>,
        #[serde(default)]
        uid: Option<String>,
    }
    let m = Option::<Meta>::deserialize(d)?;
    Ok(m.map(|m| ObjectMeta {
        annotations: m.annotations,
        creation_timestamp: m.creation_timestamp,
        deletion_grace_period_seconds: m.deletion_grace_period_seconds,
        deletion_timestamp: m.deletion_timestamp,
        finalizers: m.finalizers,
        generate_name: m.generate_name,
        generation: m.generation,
        labels: m.labels,
        name: m.name,
        namespace: m.namespace,
        owner_references: m.owner_references,
        resource_version: m.resource_version,
        uid: m.uid,
        managed_fields: None,
        self_link: None,
    })
    .unwrap_or_default())
}

/// The part of `PodCondition` controllers read (Ready's transition time,
/// pod failure policies' type and status), half the size of the full one;
/// a pod has five.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    /// `Ready`, `PodScheduled`, `DisruptionTarget`, ...
    #[serde(rename = "type", deserialize_with = "word")]
    pub type_: Word,
    /// `True`, `False` or `Unknown`.
    #[serde(deserialize_with = "word")]
    pub status: Word,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// Why, in one word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A list decoded without spare capacity: serde grows a `Vec` by
/// doubling from 4, and most of these lists hold one or two large items,
/// ten thousand times over.
fn shrunk<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.map(|mut v| {
        v.shrink_to_fit();
        v
    }))
}

/// [`shrunk`] for a required list.
fn shrunk_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(shrunk(d)?.unwrap_or_default())
}

impl Pod {
    /// A full API `Pod` with the fields kept here (for code shared with
    /// the API server, such as the quota evaluator).
    pub fn to_api(&self) -> api::Pod {
        api::Pod {
            metadata: self.metadata.clone(),
            spec: self.spec.as_ref().map(PodSpec::to_api),
            status: self.status.as_ref().map(PodStatus::to_api),
        }
    }
}

impl PodSpec {
    fn to_api(&self) -> api::PodSpec {
        api::PodSpec {
            node_name: self.node_name.clone(),
            containers: self.containers.iter().map(Container::to_api).collect(),
            init_containers: self
                .init_containers
                .as_ref()
                .map(|c| c.iter().map(Container::to_api).collect()),
            volumes: self
                .volumes
                .as_ref()
                .map(|v| v.iter().map(Volume::to_api).collect()),
            tolerations: self.tolerations.clone(),
            restart_policy: self.restart_policy.as_ref().map(|w| w.to_string()),
            hostname: self.hostname.clone(),
            subdomain: self.subdomain.clone(),
            priority: self.priority,
            priority_class_name: self.priority_class_name.clone(),
            active_deadline_seconds: self.active_deadline_seconds,
            overhead: self.overhead.clone(),
            affinity: self.affinity.as_deref().cloned(),
            node_selector: self.node_selector.clone(),
            termination_grace_period_seconds: self.termination_grace_period_seconds,
            ..Default::default()
        }
    }
}

impl Container {
    fn to_api(&self) -> api::Container {
        api::Container {
            name: self.name.clone(),
            ports: self.ports.clone(),
            resources: self.resources.as_ref().map(|r| api::ResourceRequirements {
                requests: r.requests.as_ref().map(ResourceList::to_api),
                limits: r.limits.as_ref().map(ResourceList::to_api),
                claims: None,
            }),
            restart_policy: self.restart_policy.as_ref().map(|w| w.to_string()),
            ..Default::default()
        }
    }
}

impl Volume {
    fn to_api(&self) -> api::Volume {
        api::Volume {
            name: self.name.clone(),
            persistent_volume_claim: self.persistent_volume_claim.clone(),
            ephemeral: self
                .ephemeral
                .as_ref()
                .map(|e| serde_json::from_value(e.clone()).unwrap_or_default()),
            ..Default::default()
        }
    }
}

impl PodStatus {
    fn to_api(&self) -> api::PodStatus {
        let statuses = |s: &Option<Vec<ContainerStatus>>| {
            s.as_ref()
                .map(|s| s.iter().map(ContainerStatus::to_api).collect())
        };
        api::PodStatus {
            phase: self.phase.as_ref().map(|w| w.to_string()),
            conditions: self.conditions.as_ref().map(|c| {
                c.iter()
                    .map(|c| api::PodCondition {
                        type_: c.type_.to_string(),
                        status: c.status.to_string(),
                        last_transition_time: c.last_transition_time.clone(),
                        reason: c.reason.clone(),
                        ..Default::default()
                    })
                    .collect()
            }),
            container_statuses: statuses(&self.container_statuses),
            init_container_statuses: statuses(&self.init_container_statuses),
            pod_ip: self.pod_ip.clone(),
            pod_ips: self.pod_ips.clone(),
            start_time: self.start_time.clone(),
            reason: self.reason.clone(),
            ..Default::default()
        }
    }
}

impl ContainerStatus {
    fn to_api(&self) -> api::ContainerStatus {
        api::ContainerStatus {
            name: self.name.clone(),
            ready: self.ready,
            restart_count: self.restart_count,
            state: self.state.as_ref().map(|s| api::ContainerState {
                waiting: s.waiting.clone(),
                running: s.running.clone(),
                terminated: s.terminated.as_deref().cloned(),
            }),
            ..Default::default()
        }
    }
}

impl kube::Resource for Pod {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Pod".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "pods".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_what_controllers_read_and_round_trips_to_the_api_type() {
        let full: api::Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "a"}},
            "spec": {
                "nodeName": "n1", "restartPolicy": "Never", "priorityClassName": "high",
                "containers": [{"name": "c", "image": "busybox",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "resources": {"requests": {"cpu": "100m"}}}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "claim"}},
                            {"name": "tmp", "emptyDir": {}}],
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute"}]
            },
            "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 2, "image": "busybox",
                    "imageID": "", "state": {"running": {}}}]}
        }))
        .unwrap();
        let slim: Pod = serde_json::from_value(serde_json::to_value(&full).unwrap()).unwrap();
        let spec = slim.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert_eq!(
            spec.containers[0].ports.as_ref().unwrap()[0].container_port,
            8080
        );
        let volumes = spec.volumes.as_ref().unwrap();
        assert_eq!(
            volumes[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "claim"
        );
        assert!(volumes[1].persistent_volume_claim.is_none());
        let status = slim.status.as_ref().unwrap();
        assert_eq!(status.pod_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(
            status.container_statuses.as_ref().unwrap()[0].restart_count,
            2
        );

        let back = slim.to_api();
        // What the slim view keeps is what the full pod had.
        let reslimmed: Pod = serde_json::from_value(serde_json::to_value(&back).unwrap()).unwrap();
        assert_eq!(reslimmed, slim);
        let spec = back.spec.unwrap();
        assert_eq!(spec.priority_class_name.as_deref(), Some("high"));
        assert_eq!(spec.containers[0].name, "c");
        assert!(
            spec.containers[0]
                .resources
                .as_ref()
                .unwrap()
                .requests
                .is_some()
        );
        assert_eq!(back.status.unwrap().phase.as_deref(), Some("Running"));
    }

    #[test]
    fn skips_field_ownership_and_stores_common_words_and_resources_compactly() {
        let slim: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "uid": "u",
                "managedFields": [{"manager": "m", "operation": "Update",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c",
                "resources": {"requests": {"memory": "16Mi", "cpu": "10m", "example.com/gpu": "1"},
                              "limits": {"cpu": "1"}}}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"},
                               {"type": "example.com/Gate", "status": "False"}],
                "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 3}},
                    "lastState": {"terminated": {"exitCode": 1}}}]}
        }))
        .unwrap();
        assert_eq!(slim.metadata.name.as_deref(), Some("p"));
        assert!(slim.metadata.managed_fields.is_none());

        let status = slim.status.as_ref().unwrap();
        let conditions = status.conditions.as_ref().unwrap();
        assert!(matches!(conditions[0].type_, Cow::Borrowed("Ready")));
        assert!(matches!(conditions[0].status, Cow::Borrowed("True")));
        assert!(matches!(status.phase, Some(Cow::Borrowed("Running"))));
        assert!(matches!(conditions[1].type_, Cow::Owned(ref t) if t == "example.com/Gate"));
        let state = status.container_statuses.as_ref().unwrap()[0]
            .state
            .as_ref()
            .unwrap();
        assert_eq!(state.terminated.as_ref().unwrap().exit_code, 3);

        let resources = slim.spec.as_ref().unwrap().containers[0]
            .resources
            .as_ref()
            .unwrap();
        let requests = resources.requests.as_ref().unwrap();
        assert_eq!(requests.get("cpu"), Some(&Quantity("10m".into())));
        assert_eq!(requests.get("memory"), Some(&Quantity("16Mi".into())));
        assert_eq!(requests.get("example.com/gpu"), Some(&Quantity("1".into())));
        assert_eq!(requests.get("pods"), None);

        let full = slim.to_api();
        let api_resources = full.spec.as_ref().unwrap().containers[0]
            .resources
            .clone()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&api_resources).unwrap(),
            json!({"requests": {"cpu": "10m", "memory": "16Mi", "example.com/gpu": "1"},
                   "limits": {"cpu": "1"}})
        );
        let api_state = full.status.unwrap().container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap();
        assert_eq!(api_state.terminated.unwrap().exit_code, 3);
    }
}
