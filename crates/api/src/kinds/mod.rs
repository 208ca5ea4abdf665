//! The built-in kinds, one module per API group, and the registry that
//! serves them.
//!
//! To add a kind: write its [`Strategy`](crate::registry::Strategy) in
//! its group's module and add one `add_typed` line to [`builtin`].

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod events;
pub mod networking;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

use std::sync::Arc;

use crate::registry::{Registry, Served};

/// Groups in the order upstream lists them in discovery.
const GROUP_ORDER: &[&str] = &[
    "",
    "apps",
    "events.k8s.io",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
];

/// The registry of every built-in kind.
pub fn builtin() -> Registry {
    let mut r = Registry::new();
    // core/v1
    r.add_typed::<core::Namespaces>();
    r.add_typed::<core::Pods>();
    r.add_typed::<core::Services>();
    r.add_typed::<core::EndpointsKind>();
    r.add_typed::<core::ConfigMaps>();
    r.add_typed::<core::Secrets>();
    r.add_typed::<core::ServiceAccounts>();
    r.add_typed::<core::Nodes>();
    let events = r.add_typed::<core::Events>();
    r.add_typed::<core::PersistentVolumes>();
    r.add_typed::<core::PersistentVolumeClaims>();
    r.add_typed::<core::ReplicationControllers>();
    r.add_typed::<core::LimitRanges>();
    r.add_typed::<core::ResourceQuotas>();
    r.add_typed::<core::PodTemplates>();
    // apps/v1
    r.add_typed::<apps::Deployments>();
    r.add_typed::<apps::ReplicaSets>();
    r.add_typed::<apps::StatefulSets>();
    r.add_typed::<apps::DaemonSets>();
    r.add_typed::<apps::ControllerRevisions>();
    // events.k8s.io/v1: the same Events, converted.
    r.serve(Served {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        resource: events,
        conversion: Some(Arc::new(events::EventsV1)),
    });
    // autoscaling/v2 (storage) and v1
    let hpa = r.add_typed::<autoscaling::HorizontalPodAutoscalers>();
    r.serve(Served {
        group: "autoscaling",
        version: "v1",
        kind: "HorizontalPodAutoscaler",
        resource: hpa,
        conversion: Some(Arc::new(autoscaling::HpaV1)),
    });
    // batch/v1
    r.add_typed::<batch::Jobs>();
    r.add_typed::<batch::CronJobs>();
    // networking.k8s.io/v1
    r.add_typed::<networking::NetworkPolicies>();
    r.add_typed::<networking::Ingresses>();
    r.add_typed::<networking::IngressClasses>();
    // policy/v1
    r.add_typed::<policy::PodDisruptionBudgets>();
    // rbac.authorization.k8s.io/v1
    r.add_typed::<rbac::Roles>();
    r.add_typed::<rbac::ClusterRoles>();
    r.add_typed::<rbac::RoleBindings>();
    r.add_typed::<rbac::ClusterRoleBindings>();
    // storage.k8s.io/v1
    r.add_typed::<storage::StorageClasses>();
    // scheduling.k8s.io/v1
    r.add_typed::<scheduling::PriorityClasses>();
    // coordination.k8s.io/v1
    r.add_typed::<coordination::Leases>();
    // discovery.k8s.io/v1
    r.add_typed::<discovery::EndpointSlices>();

    r.sort_groups(GROUP_ORDER);
    r
}
