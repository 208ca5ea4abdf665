//! Tables of apps/v1 kinds, as upstream prints them.

use k8s_openapi::api::apps::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{
    api_version_group, format_label_selector, format_resource_name, selector_string,
    template_container_cells,
};
use crate::table::{AGE, Column, NAME, age_cell, col, format_labels, name_cell, wide};

const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);
const SELECTOR: Column = wide(
    "Selector",
    "string",
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
);

/// Columns of Deployment.
pub const DEPLOYMENT: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// Cells of one Deployment.
pub fn deployment(obj: &api::Deployment, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let desired = spec.map_or(0, |s| s.replicas.unwrap_or(1));
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let (names, images) = template_container_cells(spec.map(|s| &s.template));
    // Upstream prints the raw selector string here: `""` when empty,
    // `<invalid>` when it does not convert.
    let selector =
        selector_string(spec.map(|s| &s.selector)).unwrap_or_else(|()| "<invalid>".into());
    vec![
        name_cell(&obj.metadata),
        Value::from(format!("{ready}/{desired}")),
        Value::from(i64::from(
            status.and_then(|s| s.updated_replicas).unwrap_or(0),
        )),
        Value::from(i64::from(
            status.and_then(|s| s.available_replicas).unwrap_or(0),
        )),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
        Value::from(selector),
    ]
}

/// Columns of ReplicaSet.
pub const REPLICA_SET: &[Column] = &[
    NAME,
    col("Desired", "integer", "Number of desired pods."),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the replica count.",
    ),
];

/// Cells of one ReplicaSet.
pub fn replica_set(obj: &api::ReplicaSet, now: Timestamp) -> Vec<Value> {
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
        Value::from(format_label_selector(spec.map(|s| &s.selector))),
    ]
}

/// Columns of StatefulSet.
pub const STATEFUL_SET: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

/// Cells of one StatefulSet.
pub fn stateful_set(obj: &api::StatefulSet, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let desired = spec.map_or(0, |s| s.replicas.unwrap_or(1));
    let ready = obj
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let (names, images) = template_container_cells(spec.map(|s| &s.template));
    vec![
        name_cell(&obj.metadata),
        Value::from(format!("{ready}/{desired}")),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
    ]
}

/// Columns of DaemonSet.
pub const DAEMON_SET: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    col(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    col(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set.",
    ),
];

/// Cells of one DaemonSet.
pub fn daemon_set(obj: &api::DaemonSet, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let template = spec.map(|s| &s.template);
    let (names, images) = template_container_cells(template);
    let node_selector = template
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.node_selector.as_ref());
    vec![
        name_cell(&obj.metadata),
        Value::from(i64::from(status.map_or(0, |s| s.desired_number_scheduled))),
        Value::from(i64::from(status.map_or(0, |s| s.current_number_scheduled))),
        Value::from(i64::from(status.map_or(0, |s| s.number_ready))),
        Value::from(i64::from(
            status.and_then(|s| s.updated_number_scheduled).unwrap_or(0),
        )),
        Value::from(i64::from(
            status.and_then(|s| s.number_available).unwrap_or(0),
        )),
        Value::from(format_labels(node_selector)),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(spec.map(|s| &s.selector))),
    ]
}

/// Columns of ControllerRevision.
pub const CONTROLLER_REVISION: &[Column] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

/// Cells of one ControllerRevision.
///
/// Upstream fails the whole request when the controller reference's
/// `apiVersion` has more than one `/`; cells cannot fail, so that
/// controller shows as `<error>` (validation rejects such references).
pub fn controller_revision(obj: &api::ControllerRevision, now: Timestamp) -> Vec<Value> {
    let controller = obj
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true));
    let controller = match controller {
        None => "<none>".to_string(),
        Some(r) => match api_version_group(&r.api_version) {
            Some(group) => format_resource_name(group, &r.kind, &r.name),
            None => "<error>".to_string(),
        },
    };
    vec![
        name_cell(&obj.metadata),
        Value::from(controller),
        Value::from(obj.revision),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference,
    };
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2024-05-01T11:00:00Z".parse().unwrap(),
            )),
            ..Default::default()
        }
    }

    fn template() -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![
                    Container {
                        name: "web".into(),
                        image: Some("nginx:1.25".into()),
                        ..Default::default()
                    },
                    Container {
                        name: "sidecar".into(),
                        image: Some("busybox".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn deployment_cells() {
        let d = api::Deployment {
            metadata: meta("web"),
            spec: Some(api::DeploymentSpec {
                replicas: Some(3),
                selector: LabelSelector {
                    match_labels: Some([("app".to_string(), "web".to_string())].into()),
                    match_expressions: Some(vec![LabelSelectorRequirement {
                        key: "env".into(),
                        operator: "In".into(),
                        values: Some(vec!["prod".into(), "dev".into()]),
                    }]),
                },
                template: template(),
                ..Default::default()
            }),
            status: Some(api::DeploymentStatus {
                ready_replicas: Some(2),
                updated_replicas: Some(3),
                available_replicas: Some(1),
                ..Default::default()
            }),
        };
        assert_eq!(
            deployment(&d, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(1),
                json!("60m"),
                json!("web,sidecar"),
                json!("nginx:1.25,busybox"),
                json!("app=web,env in (dev,prod)"),
            ]
        );
        assert_eq!(DEPLOYMENT.len(), 8);
        assert_eq!(DEPLOYMENT[5].priority, 1);

        // No status, empty selector: `0/N` and an empty selector string.
        let d = api::Deployment {
            metadata: meta("empty"),
            spec: Some(api::DeploymentSpec {
                replicas: Some(1),
                ..Default::default()
            }),
            status: None,
        };
        let cells = deployment(&d, now());
        assert_eq!(cells[1], json!("0/1"));
        assert_eq!(cells[2], json!(0));
        assert_eq!(cells[5], json!(""));
        assert_eq!(cells[7], json!(""));

        let mut bad = d.clone();
        bad.spec.as_mut().unwrap().selector.match_expressions =
            Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Bogus".into(),
                values: None,
            }]);
        assert_eq!(deployment(&bad, now())[7], json!("<invalid>"));
    }

    #[test]
    fn replica_set_and_daemon_set_cells() {
        let rs = api::ReplicaSet {
            metadata: meta("web-1"),
            spec: Some(api::ReplicaSetSpec {
                replicas: Some(2),
                selector: LabelSelector::default(),
                template: Some(template()),
                ..Default::default()
            }),
            status: Some(api::ReplicaSetStatus {
                replicas: 2,
                ready_replicas: Some(1),
                ..Default::default()
            }),
        };
        assert_eq!(
            replica_set(&rs, now()),
            vec![
                json!("web-1"),
                json!(2),
                json!(2),
                json!(1),
                json!("60m"),
                json!("web,sidecar"),
                json!("nginx:1.25,busybox"),
                json!("<none>"),
            ]
        );

        let mut t = template();
        t.spec.as_mut().unwrap().node_selector =
            Some([("kubernetes.io/os".to_string(), "linux".to_string())].into());
        let ds = api::DaemonSet {
            metadata: meta("agent"),
            spec: Some(api::DaemonSetSpec {
                selector: LabelSelector {
                    match_labels: Some([("app".to_string(), "agent".to_string())].into()),
                    ..Default::default()
                },
                template: t,
                ..Default::default()
            }),
            status: Some(api::DaemonSetStatus {
                desired_number_scheduled: 3,
                current_number_scheduled: 3,
                number_ready: 2,
                updated_number_scheduled: Some(3),
                number_available: None,
                ..Default::default()
            }),
        };
        assert_eq!(
            daemon_set(&ds, now()),
            vec![
                json!("agent"),
                json!(3),
                json!(3),
                json!(2),
                json!(3),
                json!(0),
                json!("kubernetes.io/os=linux"),
                json!("60m"),
                json!("web,sidecar"),
                json!("nginx:1.25,busybox"),
                json!("app=agent"),
            ]
        );
    }

    #[test]
    fn stateful_set_cells() {
        let ss = api::StatefulSet {
            metadata: meta("db"),
            spec: Some(api::StatefulSetSpec {
                replicas: Some(3),
                template: template(),
                ..Default::default()
            }),
            status: Some(api::StatefulSetStatus {
                replicas: 3,
                ready_replicas: Some(3),
                ..Default::default()
            }),
        };
        assert_eq!(
            stateful_set(&ss, now()),
            vec![
                json!("db"),
                json!("3/3"),
                json!("60m"),
                json!("web,sidecar"),
                json!("nginx:1.25,busybox"),
            ]
        );
    }

    #[test]
    fn controller_revision_cells() {
        let owner = |api_version: &str, controller: Option<bool>| OwnerReference {
            api_version: api_version.into(),
            kind: "DaemonSet".into(),
            name: "fluentd".into(),
            uid: "u".into(),
            controller,
            ..Default::default()
        };
        let mut cr = api::ControllerRevision {
            metadata: meta("fluentd-1"),
            revision: 4,
            data: None,
        };
        assert_eq!(
            controller_revision(&cr, now()),
            vec![json!("fluentd-1"), json!("<none>"), json!(4), json!("60m")]
        );
        cr.metadata.owner_references =
            Some(vec![owner("apps/v1", None), owner("apps/v1", Some(true))]);
        assert_eq!(
            controller_revision(&cr, now())[1],
            json!("daemonset.apps/fluentd")
        );
        cr.metadata.owner_references = Some(vec![owner("v1", Some(true))]);
        assert_eq!(
            controller_revision(&cr, now())[1],
            json!("daemonset/fluentd")
        );
    }
}
