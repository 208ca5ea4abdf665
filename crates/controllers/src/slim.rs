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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Deserializer, Serialize};

/// A Pod as the controllers cache it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Pod {
    /// Standard object metadata (field ownership dropped by the informer).
    #[serde(default)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
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
    pub resources: Option<api::ResourceRequirements>,
    /// `Always` on an init container makes it a sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
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
    /// Current state (exit codes for pod failure policies); boxed, as
    /// `ContainerState` is 200 bytes of which one variant is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Box<api::ContainerState>>,
    /// Previous state (usually none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<Box<api::ContainerState>>,
}

/// The part of `PodCondition` controllers read (Ready's transition time,
/// pod failure policies' type and status), half the size of the full one;
/// a pod has five.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    /// `Ready`, `PodScheduled`, `DisruptionTarget`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
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
            restart_policy: self.restart_policy.clone(),
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
            resources: self.resources.clone(),
            restart_policy: self.restart_policy.clone(),
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
            phase: self.phase.clone(),
            conditions: self.conditions.as_ref().map(|c| {
                c.iter()
                    .map(|c| api::PodCondition {
                        type_: c.type_.clone(),
                        status: c.status.clone(),
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
            state: self.state.as_deref().cloned(),
            last_state: self.last_state.as_deref().cloned(),
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
}
