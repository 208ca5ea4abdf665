//! Tables of core/v1 kinds, as upstream prints them.

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{
    access_modes_string, age_micro, age_of, container_cells, format_endpoints,
    load_balancer_string, or_none, pod_summary, quantity_string, service_ports_string, set_time,
    str_or_empty, template_container_cells,
};
use crate::table::{
    AGE, Column, DEFAULT_COLUMNS, NAME, age_cell, col, default_cells, format_labels, name_cell,
    wide,
};

/// The annotation that overrides a volume's or claim's storage class.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// Columns of Namespace.
pub const NAMESPACE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

/// Cells of one Namespace.
pub fn namespace(obj: &api::Namespace, now: Timestamp) -> Vec<Value> {
    let phase = obj.status.as_ref().and_then(|s| s.phase.clone());
    vec![
        name_cell(&obj.metadata),
        Value::from(phase.unwrap_or_default()),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of Pod.
pub const POD: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

/// Cells of one Pod. Upstream also sets the row's `conditions`
/// (`Completed` for Succeeded and Failed pods); cells cannot carry them.
pub fn pod(obj: &api::Pod, now: Timestamp) -> Vec<Value> {
    let summary = pod_summary(obj, now);
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.as_str())
        .or_else(|| status.and_then(|s| s.pod_ip.as_deref()));
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    let gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_gates = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c.type_ == g.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{true_gates}/{}", gates.len())
    };
    vec![
        name_cell(&obj.metadata),
        Value::from(summary.ready),
        Value::from(summary.reason),
        Value::from(summary.restarts),
        age_cell(&obj.metadata, now),
        Value::from(or_none(ip)),
        Value::from(or_none(spec.and_then(|s| s.node_name.as_deref()))),
        Value::from(or_none(
            status.and_then(|s| s.nominated_node_name.as_deref()),
        )),
        Value::from(gates),
    ]
}

/// Columns of Service.
pub const SERVICE: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service, usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

/// Upstream's `getServiceExternalIP` (untruncated).
fn service_external_ip(obj: &api::Service) -> String {
    let spec = obj.spec.as_ref();
    let external_ips = spec
        .and_then(|s| s.external_ips.as_deref())
        .unwrap_or_default();
    match spec.and_then(|s| s.type_.as_deref()).unwrap_or("") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".into()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_string(
                obj.status
                    .as_ref()
                    .and_then(|s| s.load_balancer.as_ref())
                    .and_then(|lb| lb.ingress.as_deref())
                    .unwrap_or_default()
                    .iter()
                    .map(|i| (i.ip.as_ref(), i.hostname.as_ref())),
            );
            if !external_ips.is_empty() {
                let mut results: Vec<&str> = Vec::new();
                if !lb.is_empty() {
                    results.extend(lb.split(','));
                }
                results.extend(external_ips.iter().map(String::as_str));
                results.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".into()
            }
        }
        "ExternalName" => str_or_empty(spec.and_then(|s| s.external_name.as_ref())),
        _ => "<unknown>".into(),
    }
}

/// Cells of one Service.
pub fn service(obj: &api::Service, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let cluster_ip = spec
        .and_then(|s| s.cluster_ips.as_ref())
        .and_then(|ips| ips.first())
        .or_else(|| spec.and_then(|s| s.cluster_ip.as_ref()))
        .filter(|ip| !ip.is_empty())
        .cloned()
        .unwrap_or_else(|| "<none>".into());
    let ports = service_ports_string(spec.and_then(|s| s.ports.as_deref()).unwrap_or_default());
    vec![
        name_cell(&obj.metadata),
        Value::from(str_or_empty(spec.and_then(|s| s.type_.as_ref()))),
        Value::from(cluster_ip),
        Value::from(service_external_ip(obj)),
        Value::from(if ports.is_empty() {
            "<none>".into()
        } else {
            ports
        }),
        age_cell(&obj.metadata, now),
        Value::from(format_labels(spec.and_then(|s| s.selector.as_ref()))),
    ]
}

/// Columns of Endpoints.
pub const ENDPOINTS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "Endpoints of the service: up to three address:port pairs.",
    ),
    AGE,
];

/// Cells of one Endpoints.
pub fn endpoints(obj: &api::Endpoints, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(&obj.metadata),
        Value::from(format_endpoints(obj.subsets.as_deref().unwrap_or_default())),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of ConfigMap.
pub const CONFIG_MAP: &[Column] = &[
    NAME,
    col(
        "Data",
        "string",
        "Number of data entries (data and binaryData) in the config map.",
    ),
    AGE,
];

/// Cells of one ConfigMap.
pub fn config_map(obj: &api::ConfigMap, now: Timestamp) -> Vec<Value> {
    let n =
        obj.data.as_ref().map_or(0, |d| d.len()) + obj.binary_data.as_ref().map_or(0, |d| d.len());
    vec![
        name_cell(&obj.metadata),
        Value::from(n as i64),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of Secret.
pub const SECRET: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", "Number of data entries in the secret."),
    AGE,
];

/// Cells of one Secret.
pub fn secret(obj: &api::Secret, now: Timestamp) -> Vec<Value> {
    // stringData is merged into data on write; count the union in case it
    // was not.
    let mut keys: std::collections::BTreeSet<&str> =
        obj.data.iter().flatten().map(|(k, _)| k.as_str()).collect();
    keys.extend(obj.string_data.iter().flatten().map(|(k, _)| k.as_str()));
    vec![
        name_cell(&obj.metadata),
        Value::from(str_or_empty(obj.type_.as_ref())),
        Value::from(keys.len() as i64),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of ServiceAccount.
pub const SERVICE_ACCOUNT: &[Column] = &[
    NAME,
    col(
        "Secrets",
        "string",
        "Number of secrets listed in the service account.",
    ),
    AGE,
];

/// Cells of one ServiceAccount.
pub fn service_account(obj: &api::ServiceAccount, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(&obj.metadata),
        Value::from(obj.secrets.as_ref().map_or(0, |s| s.len()) as i64),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of Node.
pub const NODE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

/// Upstream's node status: `Ready`/`NotReady`/`Unknown` from the (last)
/// Ready condition, plus `SchedulingDisabled`.
fn node_status(obj: &api::Node) -> String {
    let ready = obj
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .rfind(|c| c.type_ == "Ready");
    let mut parts = vec![match ready {
        Some(c) if c.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if obj
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        parts.push("SchedulingDisabled");
    }
    parts.join(",")
}

/// Upstream's `findNodeRoles`: from `node-role.kubernetes.io/<role>` keys
/// and `kubernetes.io/role` values, sorted, `<none>` without any.
fn node_roles(obj: &api::Node) -> String {
    let mut roles = std::collections::BTreeSet::new();
    for (k, v) in obj.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v.as_str());
        }
    }
    if roles.is_empty() {
        return "<none>".into();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

/// Cells of one Node.
pub fn node(obj: &api::Node, now: Timestamp) -> Vec<Value> {
    let status = obj.status.as_ref();
    let info = status.and_then(|s| s.node_info.as_ref());
    let address = |type_: &str| {
        or_none(
            status
                .and_then(|s| s.addresses.as_deref())
                .unwrap_or_default()
                .iter()
                .find(|a| a.type_ == type_)
                .map(|a| a.address.as_str()),
        )
    };
    let unknown = |s: Option<&String>| match s {
        Some(s) if !s.is_empty() => s.clone(),
        _ => "<unknown>".into(),
    };
    vec![
        name_cell(&obj.metadata),
        Value::from(node_status(obj)),
        Value::from(node_roles(obj)),
        age_cell(&obj.metadata, now),
        Value::from(str_or_empty(info.map(|i| &i.kubelet_version))),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(unknown(info.map(|i| &i.os_image))),
        Value::from(unknown(info.map(|i| &i.kernel_version))),
        Value::from(unknown(info.map(|i| &i.container_runtime_version))),
    ]
}

/// Columns of Event.
pub const EVENT: &[Column] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future.",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "The field of the involved object this event is about.",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Column {
        priority: 1,
        ..NAME
    },
];

/// Cells of one Event.
pub fn event(obj: &api::Event, now: Timestamp) -> Vec<Value> {
    let first_seen = match set_time(obj.first_timestamp.as_ref()) {
        Some(t) => age_of(Some(t), now),
        None => age_micro(obj.event_time.as_ref(), now),
    };
    let mut last_seen = match set_time(obj.last_timestamp.as_ref()) {
        Some(t) => age_of(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = i64::from(obj.count.unwrap_or(0));
    if let Some(series) = &obj.series {
        last_seen = age_micro(series.last_observed_time.as_ref(), now);
        count = i64::from(series.count.unwrap_or(0));
    } else if count == 0 {
        count = 1;
    }
    let involved = &obj.involved_object;
    let kind = involved.kind.as_deref().unwrap_or("").to_lowercase();
    let target = match involved.name.as_deref() {
        Some(name) if !name.is_empty() => format!("{kind}/{name}"),
        _ => kind,
    };
    let first_non_empty = |a: Option<&String>, b: Option<&String>| -> String {
        match (a, b) {
            (Some(a), _) if !a.is_empty() => a.clone(),
            (_, b) => str_or_empty(b),
        }
    };
    let source = obj.source.as_ref();
    let component = first_non_empty(
        source.and_then(|s| s.component.as_ref()),
        obj.reporting_component.as_ref(),
    );
    let instance = first_non_empty(
        source.and_then(|s| s.host.as_ref()),
        obj.reporting_instance.as_ref(),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        Value::from(last_seen),
        Value::from(str_or_empty(obj.type_.as_ref())),
        Value::from(str_or_empty(obj.reason.as_ref())),
        Value::from(target),
        Value::from(str_or_empty(involved.field_path.as_ref())),
        Value::from(source),
        Value::from(obj.message.as_deref().unwrap_or("").trim()),
        Value::from(first_seen),
        Value::from(count),
        name_cell(&obj.metadata),
    ]
}

/// Columns of PersistentVolume.
pub const PERSISTENT_VOLUME: &[Column] = &[
    NAME,
    col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];

/// The `storage` entry of a resource map as a quantity string, `0` when
/// missing.
fn storage_of(
    resources: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
) -> String {
    resources
        .and_then(|r| r.get("storage"))
        .map_or_else(|| "0".into(), quantity_string)
}

/// Cells of one PersistentVolume.
pub fn persistent_volume(obj: &api::PersistentVolume, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let phase = if obj.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        str_or_empty(obj.status.as_ref().and_then(|s| s.phase.as_ref()))
    };
    let claim = spec
        .and_then(|s| s.claim_ref.as_ref())
        .map(|r| {
            format!(
                "{}/{}",
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    let class = match obj
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION))
    {
        Some(class) => class.clone(),
        None => str_or_empty(spec.and_then(|s| s.storage_class_name.as_ref())),
    };
    let unset = |s: Option<&String>| s.cloned().unwrap_or_else(|| "<unset>".into());
    vec![
        name_cell(&obj.metadata),
        Value::from(storage_of(spec.and_then(|s| s.capacity.as_ref()))),
        Value::from(access_modes_string(
            spec.and_then(|s| s.access_modes.as_ref()),
        )),
        Value::from(str_or_empty(
            spec.and_then(|s| s.persistent_volume_reclaim_policy.as_ref()),
        )),
        Value::from(phase),
        Value::from(claim),
        Value::from(class),
        Value::from(unset(
            spec.and_then(|s| s.volume_attributes_class_name.as_ref()),
        )),
        Value::from(str_or_empty(
            obj.status.as_ref().and_then(|s| s.reason.as_ref()),
        )),
        age_cell(&obj.metadata, now),
        Value::from(unset(spec.and_then(|s| s.volume_mode.as_ref()))),
    ]
}

/// Columns of PersistentVolumeClaim.
pub const PERSISTENT_VOLUME_CLAIM: &[Column] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

/// Cells of one PersistentVolumeClaim.
pub fn persistent_volume_claim(obj: &api::PersistentVolumeClaim, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let phase = if obj.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        str_or_empty(status.and_then(|s| s.phase.as_ref()))
    };
    let volume = str_or_empty(spec.and_then(|s| s.volume_name.as_ref()));
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_of(status.and_then(|s| s.capacity.as_ref())),
            access_modes_string(status.and_then(|s| s.access_modes.as_ref())),
        )
    };
    let class = match obj
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION))
    {
        Some(class) => class.clone(),
        None => str_or_empty(spec.and_then(|s| s.storage_class_name.as_ref())),
    };
    let unset = |s: Option<&String>| s.cloned().unwrap_or_else(|| "<unset>".into());
    vec![
        name_cell(&obj.metadata),
        Value::from(phase),
        Value::from(volume),
        Value::from(capacity),
        Value::from(modes),
        Value::from(class),
        Value::from(unset(
            spec.and_then(|s| s.volume_attributes_class_name.as_ref()),
        )),
        age_cell(&obj.metadata, now),
        Value::from(unset(spec.and_then(|s| s.volume_mode.as_ref()))),
    ]
}

/// Columns of ReplicationController.
pub const REPLICATION_CONTROLLER: &[Column] = &[
    NAME,
    col("Desired", "integer", "Number of desired pods."),
    col(
        "Current",
        "integer",
        "The most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replication controller.",
    ),
    AGE,
    wide(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    wide(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the Replicas count.",
    ),
];

/// Cells of one ReplicationController.
pub fn replication_controller(obj: &api::ReplicationController, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let (names, images) = template_container_cells(spec.and_then(|s| s.template.as_ref()));
    vec![
        name_cell(&obj.metadata),
        Value::from(i64::from(spec.map_or(0, |s| s.replicas.unwrap_or(1)))),
        Value::from(i64::from(status.map_or(0, |s| s.replicas))),
        Value::from(i64::from(
            status.and_then(|s| s.ready_replicas).unwrap_or(0),
        )),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_labels(spec.and_then(|s| s.selector.as_ref()))),
    ]
}

/// Columns of LimitRange: upstream has no printer, so the default table.
pub const LIMIT_RANGE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one LimitRange.
pub fn limit_range(obj: &api::LimitRange, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ResourceQuota.
pub const RESOURCE_QUOTA: &[Column] = &[
    NAME,
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// Cells of one ResourceQuota.
pub fn resource_quota(obj: &api::ResourceQuota, now: Timestamp) -> Vec<Value> {
    let status = obj.status.as_ref();
    let used = status.and_then(|s| s.used.as_ref());
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    // BTreeMap iterates in ascending key order, as upstream sorts.
    for (resource, hard) in status.and_then(|s| s.hard.as_ref()).into_iter().flatten() {
        let used = used
            .and_then(|u| u.get(resource))
            .map_or_else(|| "0".into(), quantity_string);
        let entry = format!("{resource}: {used}/{}", quantity_string(hard));
        match resource.split_once('.') {
            Some(("limits", _)) => limits.push(entry),
            _ => requests.push(entry),
        }
    }
    vec![
        name_cell(&obj.metadata),
        Value::from(requests.join(", ")),
        Value::from(limits.join(", ")),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of PodTemplate (no Age column upstream).
pub const POD_TEMPLATE: &[Column] = &[
    NAME,
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

/// Cells of one PodTemplate.
pub fn pod_template(obj: &api::PodTemplate, _now: Timestamp) -> Vec<Value> {
    let template = obj.template.as_ref();
    let (names, images) = container_cells(
        template
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default(),
    );
    vec![
        name_cell(&obj.metadata),
        Value::from(names),
        Value::from(images),
        Value::from(format_labels(
            template
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.as_ref()),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::{
        Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
        ContainerStateWaiting, ContainerStatus, PodCondition, PodSpec, PodStatus,
    };
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn now() -> Timestamp {
        ts("2024-05-01T12:00:00Z")
    }

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(Time(ts("2024-05-01T11:00:00Z"))),
            ..Default::default()
        }
    }

    fn container(name: &str) -> Container {
        Container {
            name: name.into(),
            image: Some("img".into()),
            ..Default::default()
        }
    }

    fn sidecar(name: &str) -> Container {
        Container {
            restart_policy: Some("Always".into()),
            ..container(name)
        }
    }

    fn running() -> ContainerState {
        ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        }
    }

    fn waiting(reason: &str) -> ContainerState {
        ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn terminated(exit_code: i32, reason: Option<&str>, signal: Option<i32>) -> ContainerState {
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code,
                reason: reason.map(Into::into),
                signal,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn status(name: &str, state: ContainerState, ready: bool, restarts: i32) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            state: Some(state),
            ready,
            restart_count: restarts,
            ..Default::default()
        }
    }

    fn condition(type_: &str, status: &str) -> PodCondition {
        PodCondition {
            type_: type_.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    fn pod_with(spec: PodSpec, status: PodStatus) -> api::Pod {
        api::Pod {
            metadata: meta("p"),
            spec: Some(spec),
            status: Some(status),
        }
    }

    /// READY, STATUS and RESTARTS of a pod.
    fn summary(p: &api::Pod) -> (String, String, String) {
        let cells = pod(p, now());
        let s = |i: usize| cells[i].as_str().unwrap().to_string();
        (s(1), s(2), s(3))
    }

    fn strings(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn pod_running_with_restart_age() {
        let mut restarted = status("b", running(), true, 3);
        restarted.last_state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 1,
                finished_at: Some(Time(ts("2024-05-01T11:57:55Z"))),
                ..Default::default()
            }),
            ..Default::default()
        });
        let p = pod_with(
            PodSpec {
                containers: vec![container("a"), container("b")],
                node_name: Some("node-1".into()),
                ..Default::default()
            },
            PodStatus {
                phase: Some("Running".into()),
                pod_ips: Some(vec![api::PodIP {
                    ip: "10.244.0.5".into(),
                }]),
                conditions: Some(vec![condition("Ready", "True")]),
                container_statuses: Some(vec![status("a", running(), true, 0), restarted]),
                ..Default::default()
            },
        );
        assert_eq!(
            pod(&p, now()),
            vec![
                json!("p"),
                json!("2/2"),
                json!("Running"),
                json!("3 (2m5s ago)"),
                json!("60m"),
                json!("10.244.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn pod_without_status() {
        let p = api::Pod {
            metadata: meta("p"),
            spec: Some(PodSpec {
                containers: vec![container("a")],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            }),
        };
        let cells = pod(&p, now());
        assert_eq!(cells[1..4], [json!("0/1"), json!("Pending"), json!("0")]);
        assert_eq!(
            cells[5..],
            [
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let empty = api::Pod::default();
        assert_eq!(summary(&empty), strings("0/0", "", "0"));
    }

    #[test]
    fn pod_waiting_and_terminated_reasons() {
        let spec = PodSpec {
            containers: vec![container("a"), container("b")],
            ..Default::default()
        };
        // The first container's reason wins (statuses are walked last to first).
        let p = pod_with(
            spec.clone(),
            PodStatus {
                phase: Some("Running".into()),
                container_statuses: Some(vec![
                    status("a", waiting("CrashLoopBackOff"), false, 5),
                    status("b", waiting("ImagePullBackOff"), false, 0),
                ]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p), strings("0/2", "CrashLoopBackOff", "5"));

        let p = pod_with(
            spec.clone(),
            PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![
                    status("a", terminated(137, None, Some(9)), false, 0),
                    status("b", terminated(2, None, None), false, 0),
                ]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p).1, "Signal:9");

        let p = pod_with(
            spec.clone(),
            PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![
                    status("a", terminated(0, Some("Completed"), None), false, 0),
                    status("b", terminated(2, None, None), false, 0),
                ]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p).1, "Completed");

        // Completed with a container still running: Running or NotReady.
        let mut st = PodStatus {
            phase: Some("Running".into()),
            container_statuses: Some(vec![
                status("a", terminated(0, Some("Completed"), None), false, 0),
                status("b", running(), true, 0),
            ]),
            ..Default::default()
        };
        let p = pod_with(spec.clone(), st.clone());
        assert_eq!(summary(&p), strings("1/2", "NotReady", "0"));
        st.conditions = Some(vec![condition("Ready", "True")]);
        let p = pod_with(spec.clone(), st);
        assert_eq!(summary(&p), strings("1/2", "Running", "0"));

        // Succeeded pods show Completed.
        let p = pod_with(
            PodSpec {
                containers: vec![container("a")],
                ..Default::default()
            },
            PodStatus {
                phase: Some("Succeeded".into()),
                container_statuses: Some(vec![status(
                    "a",
                    terminated(0, Some("Completed"), None),
                    false,
                    0,
                )]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p), strings("0/1", "Completed", "0"));
    }

    #[test]
    fn pod_init_containers() {
        let spec = PodSpec {
            init_containers: Some(vec![container("init-a"), container("init-b")]),
            containers: vec![container("main")],
            ..Default::default()
        };
        let with_init = |statuses: Vec<ContainerStatus>| {
            pod_with(
                spec.clone(),
                PodStatus {
                    phase: Some("Pending".into()),
                    init_container_statuses: Some(statuses),
                    container_statuses: Some(vec![status(
                        "main",
                        waiting("PodInitializing"),
                        false,
                        0,
                    )]),
                    ..Default::default()
                },
            )
        };
        let p = with_init(vec![
            status("init-a", terminated(0, Some("Completed"), None), false, 0),
            status("init-b", running(), false, 0),
        ]);
        assert_eq!(summary(&p), strings("0/1", "Init:1/2", "0"));

        let p = with_init(vec![
            status("init-a", waiting("PodInitializing"), false, 0),
            status("init-b", waiting("PodInitializing"), false, 0),
        ]);
        assert_eq!(summary(&p).1, "Init:0/2");

        let p = with_init(vec![
            status("init-a", waiting("CrashLoopBackOff"), false, 4),
            status("init-b", waiting("PodInitializing"), false, 0),
        ]);
        assert_eq!(summary(&p), strings("0/1", "Init:CrashLoopBackOff", "4"));

        let p = with_init(vec![status("init-a", terminated(3, None, None), false, 1)]);
        assert_eq!(summary(&p).1, "Init:ExitCode:3");
        let p = with_init(vec![status(
            "init-a",
            terminated(137, None, Some(9)),
            false,
            1,
        )]);
        assert_eq!(summary(&p).1, "Init:Signal:9");
        let p = with_init(vec![status(
            "init-a",
            terminated(1, Some("Error"), None),
            false,
            1,
        )]);
        assert_eq!(summary(&p).1, "Init:Error");

        // All init containers done: the main containers decide, and plain
        // init-container restarts are dropped.
        let p = pod_with(
            spec.clone(),
            PodStatus {
                phase: Some("Running".into()),
                init_container_statuses: Some(vec![
                    status("init-a", terminated(0, Some("Completed"), None), false, 2),
                    status("init-b", terminated(0, Some("Completed"), None), false, 0),
                ]),
                container_statuses: Some(vec![status("main", running(), true, 1)]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p), strings("1/1", "Running", "1"));
    }

    #[test]
    fn pod_sidecars_count_and_restart() {
        let spec = PodSpec {
            init_containers: Some(vec![container("setup"), sidecar("proxy")]),
            containers: vec![container("main")],
            ..Default::default()
        };
        let mut proxy = status("proxy", running(), true, 2);
        proxy.started = Some(true);
        let p = pod_with(
            spec,
            PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![condition("Initialized", "True")]),
                init_container_statuses: Some(vec![
                    status("setup", terminated(0, Some("Completed"), None), false, 1),
                    proxy,
                ]),
                container_statuses: Some(vec![status("main", running(), true, 0)]),
                ..Default::default()
            },
        );
        assert_eq!(summary(&p), strings("2/2", "Running", "2"));
    }

    #[test]
    fn pod_terminating_and_gates() {
        let mut p = pod_with(
            PodSpec {
                containers: vec![container("a")],
                readiness_gates: Some(vec![
                    api::PodReadinessGate {
                        condition_type: "example.com/lb".into(),
                    },
                    api::PodReadinessGate {
                        condition_type: "example.com/other".into(),
                    },
                ]),
                ..Default::default()
            },
            PodStatus {
                phase: Some("Running".into()),
                pod_ip: Some("10.0.0.7".into()),
                nominated_node_name: Some("node-2".into()),
                conditions: Some(vec![
                    condition("example.com/lb", "True"),
                    condition("example.com/lb", "False"),
                    condition("example.com/other", "False"),
                ]),
                container_statuses: Some(vec![status("a", running(), true, 0)]),
                ..Default::default()
            },
        );
        p.metadata.deletion_timestamp = Some(Time(now()));
        let cells = pod(&p, now());
        assert_eq!(cells[2], json!("Terminating"));
        assert_eq!(cells[5], json!("10.0.0.7"));
        assert_eq!(cells[7], json!("node-2"));
        assert_eq!(cells[8], json!("1/2"));

        p.status.as_mut().unwrap().reason = Some("NodeLost".into());
        assert_eq!(pod(&p, now())[2], json!("Unknown"));

        p.status.as_mut().unwrap().reason = None;
        p.status.as_mut().unwrap().phase = Some("Succeeded".into());
        p.status.as_mut().unwrap().container_statuses = None;
        assert_eq!(pod(&p, now())[2], json!("Succeeded"));

        let gated = pod_with(
            PodSpec::default(),
            PodStatus {
                phase: Some("Pending".into()),
                conditions: Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "False".into(),
                    reason: Some("SchedulingGated".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            },
        );
        assert_eq!(pod(&gated, now())[2], json!("SchedulingGated"));
    }

    fn svc(type_: &str) -> api::Service {
        api::Service {
            metadata: meta("web"),
            spec: Some(api::ServiceSpec {
                type_: Some(type_.into()),
                cluster_ip: Some("10.96.0.10".into()),
                cluster_ips: Some(vec!["10.96.0.10".into()]),
                ports: Some(vec![
                    api::ServicePort {
                        port: 80,
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    },
                    api::ServicePort {
                        port: 53,
                        protocol: Some("UDP".into()),
                        ..Default::default()
                    },
                ]),
                selector: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn service_cluster_ip() {
        assert_eq!(
            service(&svc("ClusterIP"), now()),
            vec![
                json!("web"),
                json!("ClusterIP"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("80/TCP,53/UDP"),
                json!("60m"),
                json!("app=web"),
            ]
        );
        let mut headless = svc("ClusterIP");
        let spec = headless.spec.as_mut().unwrap();
        spec.cluster_ip = Some("None".into());
        spec.cluster_ips = Some(vec!["None".into()]);
        spec.ports = None;
        spec.selector = None;
        spec.external_ips = Some(vec!["1.1.1.1".into(), "2.2.2.2".into()]);
        let cells = service(&headless, now());
        assert_eq!(cells[2], json!("None"));
        assert_eq!(cells[3], json!("1.1.1.1,2.2.2.2"));
        assert_eq!(cells[4], json!("<none>"));
        assert_eq!(cells[6], json!("<none>"));
    }

    #[test]
    fn service_node_port_and_load_balancer() {
        let mut np = svc("NodePort");
        np.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].node_port = Some(31234);
        let cells = service(&np, now());
        assert_eq!(cells[1], json!("NodePort"));
        assert_eq!(cells[3], json!("<none>"));
        assert_eq!(cells[4], json!("80:31234/TCP,53/UDP"));

        let mut lb = svc("LoadBalancer");
        lb.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].node_port = Some(30080);
        assert_eq!(service(&lb, now())[3], json!("<pending>"));
        lb.status = Some(api::ServiceStatus {
            load_balancer: Some(api::LoadBalancerStatus {
                ingress: Some(vec![
                    api::LoadBalancerIngress {
                        hostname: Some("b.elb.example.com".into()),
                        ..Default::default()
                    },
                    api::LoadBalancerIngress {
                        ip: Some("203.0.113.9".into()),
                        hostname: Some("ignored".into()),
                        ..Default::default()
                    },
                    api::LoadBalancerIngress {
                        ip: Some("203.0.113.9".into()),
                        ..Default::default()
                    },
                ]),
            }),
            ..Default::default()
        });
        let cells = service(&lb, now());
        assert_eq!(cells[3], json!("203.0.113.9,b.elb.example.com"));
        assert_eq!(cells[4], json!("80:30080/TCP,53/UDP"));
        lb.spec.as_mut().unwrap().external_ips = Some(vec!["198.51.100.1".into()]);
        assert_eq!(
            service(&lb, now())[3],
            json!("203.0.113.9,b.elb.example.com,198.51.100.1")
        );

        let mut en = svc("ExternalName");
        en.spec.as_mut().unwrap().external_name = Some("db.example.com".into());
        en.spec.as_mut().unwrap().cluster_ips = None;
        en.spec.as_mut().unwrap().cluster_ip = None;
        let cells = service(&en, now());
        assert_eq!(cells[2], json!("<none>"));
        assert_eq!(cells[3], json!("db.example.com"));
        assert_eq!(service(&svc("Bogus"), now())[3], json!("<unknown>"));
    }

    #[test]
    fn endpoints_cells() {
        let ep = api::Endpoints {
            metadata: meta("web"),
            subsets: Some(vec![api::EndpointSubset {
                addresses: Some(vec![api::EndpointAddress {
                    ip: "10.0.0.1".into(),
                    ..Default::default()
                }]),
                ports: Some(vec![api::EndpointPort {
                    port: 8080,
                    ..Default::default()
                }]),
                ..Default::default()
            }]),
        };
        assert_eq!(
            endpoints(&ep, now()),
            vec![json!("web"), json!("10.0.0.1:8080"), json!("60m")]
        );
        let none = api::Endpoints {
            metadata: meta("none"),
            subsets: None,
        };
        assert_eq!(endpoints(&none, now())[1], json!("<none>"));
    }

    #[test]
    fn counts_are_integers() {
        let mut s = api::Secret {
            metadata: meta("tls"),
            type_: Some("kubernetes.io/tls".into()),
            data: Some(
                [
                    ("tls.crt".to_string(), ByteString(vec![1])),
                    ("tls.key".to_string(), ByteString(vec![2])),
                ]
                .into(),
            ),
            ..Default::default()
        };
        assert_eq!(
            secret(&s, now()),
            vec![
                json!("tls"),
                json!("kubernetes.io/tls"),
                json!(2),
                json!("60m")
            ]
        );
        s.string_data = Some(
            [
                ("tls.crt".to_string(), "x".to_string()),
                ("ca.crt".to_string(), "y".to_string()),
            ]
            .into(),
        );
        assert_eq!(secret(&s, now())[2], json!(3));
        let empty = api::Secret {
            metadata: meta("e"),
            ..Default::default()
        };
        assert_eq!(secret(&empty, now())[1..3], [json!(""), json!(0)]);

        let cm = api::ConfigMap {
            metadata: meta("cfg"),
            data: Some([("a".to_string(), "1".to_string())].into()),
            binary_data: Some([("b".to_string(), ByteString(vec![0]))].into()),
            ..Default::default()
        };
        assert_eq!(
            config_map(&cm, now()),
            vec![json!("cfg"), json!(2), json!("60m")]
        );

        let sa = api::ServiceAccount {
            metadata: meta("default"),
            secrets: Some(vec![api::ObjectReference::default()]),
            ..Default::default()
        };
        assert_eq!(service_account(&sa, now())[1], json!(1));
    }

    #[test]
    fn node_cells() {
        let mut n = api::Node {
            metadata: ObjectMeta {
                labels: Some(
                    [
                        ("node-role.kubernetes.io/control-plane", ""),
                        ("node-role.kubernetes.io/", "ignored"),
                        ("kubernetes.io/role", "master"),
                        ("node-role.kubernetes.io/master", ""),
                        ("kubernetes.io/hostname", "n1"),
                    ]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
                ),
                ..meta("n1")
            },
            spec: Some(api::NodeSpec {
                unschedulable: Some(true),
                ..Default::default()
            }),
            status: Some(api::NodeStatus {
                conditions: Some(vec![
                    api::NodeCondition {
                        type_: "Ready".into(),
                        status: "False".into(),
                        ..Default::default()
                    },
                    api::NodeCondition {
                        type_: "MemoryPressure".into(),
                        status: "False".into(),
                        ..Default::default()
                    },
                    api::NodeCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        ..Default::default()
                    },
                ]),
                addresses: Some(vec![
                    api::NodeAddress {
                        type_: "Hostname".into(),
                        address: "n1".into(),
                    },
                    api::NodeAddress {
                        type_: "InternalIP".into(),
                        address: "192.168.1.10".into(),
                    },
                    api::NodeAddress {
                        type_: "InternalIP".into(),
                        address: "192.168.1.11".into(),
                    },
                ]),
                node_info: Some(api::NodeSystemInfo {
                    kubelet_version: "v1.32.0".into(),
                    os_image: "Debian GNU/Linux 12 (bookworm)".into(),
                    kernel_version: "6.1.0".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        assert_eq!(
            node(&n, now()),
            vec![
                json!("n1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,master"),
                json!("60m"),
                json!("v1.32.0"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("6.1.0"),
                json!("<unknown>"),
            ]
        );
        n.spec = None;
        n.metadata.labels = None;
        n.status.as_mut().unwrap().conditions = None;
        let cells = node(&n, now());
        assert_eq!(cells[1], json!("Unknown"));
        assert_eq!(cells[2], json!("<none>"));
        n.status.as_mut().unwrap().conditions = Some(vec![api::NodeCondition {
            type_: "Ready".into(),
            status: "Unknown".into(),
            ..Default::default()
        }]);
        assert_eq!(node(&n, now())[1], json!("NotReady"));
        n.status = None;
        assert_eq!(node(&n, now())[4], json!(""));
    }

    #[test]
    fn event_cells() {
        let ev = api::Event {
            metadata: meta("web.17a"),
            involved_object: api::ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web-1".into()),
                field_path: Some("spec.containers{web}".into()),
                ..Default::default()
            },
            reason: Some("Pulled".into()),
            message: Some("  Successfully pulled image \n".into()),
            type_: Some("Normal".into()),
            source: Some(api::EventSource {
                component: Some("kubelet".into()),
                host: Some("node-1".into()),
            }),
            first_timestamp: Some(Time(ts("2024-05-01T11:50:00Z"))),
            last_timestamp: Some(Time(ts("2024-05-01T11:59:00Z"))),
            count: Some(4),
            ..Default::default()
        };
        assert_eq!(
            event(&ev, now()),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-1"),
                json!("spec.containers{web}"),
                json!("kubelet, node-1"),
                json!("Successfully pulled image"),
                json!("10m"),
                json!(4),
                json!("web.17a"),
            ]
        );
        assert_eq!(EVENT[9].format, "name");
        assert_eq!(EVENT[9].priority, 1);

        // New-style event: eventTime, series, reporting controller; no name.
        let ev = api::Event {
            metadata: meta("x"),
            involved_object: api::ObjectReference {
                kind: Some("Node".into()),
                ..Default::default()
            },
            event_time: Some(MicroTime(ts("2024-05-01T11:30:00.5Z"))),
            series: Some(api::EventSeries {
                count: Some(7),
                last_observed_time: Some(MicroTime(ts("2024-05-01T11:59:30.25Z"))),
            }),
            reporting_component: Some("scheduler".into()),
            ..Default::default()
        };
        let cells = event(&ev, now());
        assert_eq!(cells[0], json!("29s"));
        assert_eq!(cells[3], json!("node"));
        assert_eq!(cells[5], json!("scheduler"));
        assert_eq!(cells[7], json!("29m"));
        assert_eq!(cells[8], json!(7));

        // Nothing set: unknown ages, count 1.
        let ev = api::Event {
            metadata: meta("y"),
            ..Default::default()
        };
        let cells = event(&ev, now());
        assert_eq!(cells[0], json!("<unknown>"));
        assert_eq!(cells[7], json!("<unknown>"));
        assert_eq!(cells[8], json!(1));
        assert_eq!(cells[3], json!(""));
    }

    #[test]
    fn persistent_volume_cells() {
        let mut pv = api::PersistentVolume {
            metadata: meta("pv-1"),
            spec: Some(api::PersistentVolumeSpec {
                capacity: Some([("storage".to_string(), Quantity("10240Mi".into()))].into()),
                access_modes: Some(vec!["ReadWriteMany".into(), "ReadWriteOnce".into()]),
                persistent_volume_reclaim_policy: Some("Retain".into()),
                claim_ref: Some(api::ObjectReference {
                    namespace: Some("default".into()),
                    name: Some("data".into()),
                    ..Default::default()
                }),
                storage_class_name: Some("standard".into()),
                volume_mode: Some("Filesystem".into()),
                ..Default::default()
            }),
            status: Some(api::PersistentVolumeStatus {
                phase: Some("Bound".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            persistent_volume(&pv, now()),
            vec![
                json!("pv-1"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("standard"),
                json!("<unset>"),
                json!(""),
                json!("60m"),
                json!("Filesystem"),
            ]
        );
        pv.metadata.deletion_timestamp = Some(Time(now()));
        pv.metadata.annotations =
            Some([(BETA_STORAGE_CLASS_ANNOTATION.to_string(), String::new())].into());
        let spec = pv.spec.as_mut().unwrap();
        spec.capacity = None;
        spec.claim_ref = None;
        spec.volume_mode = None;
        spec.volume_attributes_class_name = Some("gold".into());
        let cells = persistent_volume(&pv, now());
        assert_eq!(cells[1], json!("0"));
        assert_eq!(cells[4], json!("Terminating"));
        assert_eq!(cells[5], json!(""));
        assert_eq!(cells[6], json!(""));
        assert_eq!(cells[7], json!("gold"));
        assert_eq!(cells[10], json!("<unset>"));
    }

    #[test]
    fn persistent_volume_claim_cells() {
        let mut pvc = api::PersistentVolumeClaim {
            metadata: meta("data"),
            spec: Some(api::PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: Some("standard".into()),
                ..Default::default()
            }),
            status: Some(api::PersistentVolumeClaimStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            persistent_volume_claim(&pvc, now()),
            vec![
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("standard"),
                json!("<unset>"),
                json!("60m"),
                json!("<unset>"),
            ]
        );
        pvc.spec.as_mut().unwrap().volume_name = Some("pv-1".into());
        pvc.spec.as_mut().unwrap().volume_mode = Some("Block".into());
        pvc.status = Some(api::PersistentVolumeClaimStatus {
            phase: Some("Bound".into()),
            access_modes: Some(vec!["ReadWriteOncePod".into(), "ReadOnlyMany".into()]),
            capacity: Some([("storage".to_string(), Quantity("1.5Gi".into()))].into()),
            ..Default::default()
        });
        let cells = persistent_volume_claim(&pvc, now());
        assert_eq!(
            cells[1..5],
            [
                json!("Bound"),
                json!("pv-1"),
                json!("1536Mi"),
                json!("ROX,RWOP")
            ]
        );
        assert_eq!(cells[8], json!("Block"));
        pvc.status.as_mut().unwrap().capacity = None;
        assert_eq!(persistent_volume_claim(&pvc, now())[3], json!("0"));
    }

    #[test]
    fn resource_quota_cells() {
        let q = |s: &str| Quantity(s.into());
        let rq = api::ResourceQuota {
            metadata: meta("quota"),
            spec: None,
            status: Some(api::ResourceQuotaStatus {
                hard: Some(
                    [
                        ("pods".to_string(), q("10")),
                        ("requests.cpu".to_string(), q("2")),
                        ("limits.cpu".to_string(), q("4")),
                        ("limits.memory".to_string(), q("1Gi")),
                        ("count/deployments.apps".to_string(), q("5")),
                    ]
                    .into(),
                ),
                used: Some(
                    [
                        ("pods".to_string(), q("1")),
                        ("requests.cpu".to_string(), q("0.5")),
                        ("limits.cpu".to_string(), q("1")),
                    ]
                    .into(),
                ),
            }),
        };
        assert_eq!(
            resource_quota(&rq, now()),
            vec![
                json!("quota"),
                json!("count/deployments.apps: 0/5, pods: 1/10, requests.cpu: 500m/2"),
                json!("limits.cpu: 1/4, limits.memory: 0/1Gi"),
                json!("60m"),
            ]
        );
        let empty = api::ResourceQuota {
            metadata: meta("e"),
            ..Default::default()
        };
        assert_eq!(resource_quota(&empty, now())[1..3], [json!(""), json!("")]);
    }

    #[test]
    fn replication_controller_namespace_and_template_cells() {
        let template = api::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![container("web")],
                ..Default::default()
            }),
        };
        let rc = api::ReplicationController {
            metadata: meta("web"),
            spec: Some(api::ReplicationControllerSpec {
                replicas: Some(3),
                selector: Some([("app".to_string(), "web".to_string())].into()),
                template: Some(template.clone()),
                ..Default::default()
            }),
            status: Some(api::ReplicationControllerStatus {
                replicas: 3,
                ready_replicas: Some(2),
                ..Default::default()
            }),
        };
        assert_eq!(
            replication_controller(&rc, now()),
            vec![
                json!("web"),
                json!(3),
                json!(3),
                json!(2),
                json!("60m"),
                json!("web"),
                json!("img"),
                json!("app=web"),
            ]
        );

        let pt = api::PodTemplate {
            metadata: meta("tpl"),
            template: Some(template),
        };
        assert_eq!(
            pod_template(&pt, now()),
            vec![json!("tpl"), json!("web"), json!("img"), json!("app=web")]
        );

        let ns = api::Namespace {
            metadata: meta("default"),
            status: Some(api::NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            namespace(&ns, now()),
            vec![json!("default"), json!("Active"), json!("60m")]
        );

        let lr = api::LimitRange {
            metadata: meta("limits"),
            spec: None,
        };
        assert_eq!(
            limit_range(&lr, now()),
            vec![json!("limits"), json!("2024-05-01T11:00:00Z")]
        );
    }

    #[test]
    fn cells_match_columns() {
        assert_eq!(pod(&api::Pod::default(), now()).len(), POD.len());
        assert_eq!(
            service(&api::Service::default(), now()).len(),
            SERVICE.len()
        );
        assert_eq!(node(&api::Node::default(), now()).len(), NODE.len());
        assert_eq!(event(&api::Event::default(), now()).len(), EVENT.len());
        assert_eq!(
            persistent_volume(&api::PersistentVolume::default(), now()).len(),
            PERSISTENT_VOLUME.len()
        );
        assert_eq!(
            persistent_volume_claim(&api::PersistentVolumeClaim::default(), now()).len(),
            PERSISTENT_VOLUME_CLAIM.len()
        );
        assert_eq!(
            replication_controller(&api::ReplicationController::default(), now()).len(),
            REPLICATION_CONTROLLER.len()
        );
        assert_eq!(
            resource_quota(&api::ResourceQuota::default(), now()).len(),
            RESOURCE_QUOTA.len()
        );
        assert_eq!(
            pod_template(&api::PodTemplate::default(), now()).len(),
            POD_TEMPLATE.len()
        );
        assert_eq!(secret(&api::Secret::default(), now()).len(), SECRET.len());
        assert_eq!(
            config_map(&api::ConfigMap::default(), now()).len(),
            CONFIG_MAP.len()
        );
        assert_eq!(
            service_account(&api::ServiceAccount::default(), now()).len(),
            SERVICE_ACCOUNT.len()
        );
        assert_eq!(
            endpoints(&api::Endpoints::default(), now()).len(),
            ENDPOINTS.len()
        );
        assert_eq!(
            namespace(&api::Namespace::default(), now()).len(),
            NAMESPACE.len()
        );
    }
}
