//! The built-in kinds, one module per API group, and the registry that
//! serves them.
//!
//! To add a kind: write its [`Strategy`](crate::registry::Strategy) in
//! its group's module and add one `add_typed` line to [`builtin`].

pub mod apiextensions;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod custom;
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
    "apiextensions.k8s.io",
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
    // apiextensions.k8s.io/v1
    r.add_typed::<apiextensions::CustomResourceDefinitions>();

    r.sort_groups(GROUP_ORDER);
    r
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::builtin;
    use crate::registry::Operation;

    fn admit(plural: &str, group: &str, obj: Value) -> Result<Value, String> {
        let r = builtin();
        let res = r.resource(group, plural).expect("kind");
        let mut obj = obj;
        obj["metadata"]["uid"] = json!("0000-1111");
        res.kind
            .admit(obj, Operation::Create)
            .map_err(|s| s.message)
    }

    fn update(plural: &str, group: &str, new: Value, old: &Value) -> Result<Value, String> {
        let r = builtin();
        let res = r.resource(group, plural).expect("kind");
        res.kind
            .admit(new, Operation::Update(old))
            .map_err(|s| s.message)
    }

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn pod_messages() {
        let err = admit("pods", "", pod(json!({"containers": []}))).unwrap_err();
        assert_eq!(
            err,
            r#"Pod "bad" is invalid: spec.containers: Required value"#
        );
        let err = admit("pods", "", pod(json!({"containers": [{"name": "c"}]}))).unwrap_err();
        assert_eq!(
            err,
            r#"Pod "bad" is invalid: spec.containers[0].image: Required value"#
        );
        let err = admit(
            "pods",
            "",
            pod(json!({"containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "abc"}}}]})),
        )
        .unwrap_err();
        assert!(
            err.contains("quantities must match the regular expression"),
            "{err}"
        );
        let mut p = pod(json!({"containers": [{"name": "c", "image": "busybox"}]}));
        p["metadata"]["labels"] = json!({"-x": "y"});
        let err = admit("pods", "", p).unwrap_err();
        assert!(
            err.starts_with(r#"Pod "bad" is invalid: metadata.labels: Invalid value: "-x""#),
            "{err}"
        );
    }

    #[test]
    fn pod_defaults_and_status() {
        let out = admit(
            "pods",
            "",
            pod(json!({"containers": [{"name": "c", "image": "nginx:1.25", "resources": {"limits": {"cpu": "1", "memory": "1.5Gi"}}}]})),
        )
        .unwrap();
        assert_eq!(out["status"]["phase"], "Pending");
        assert_eq!(out["status"]["qosClass"], "Guaranteed");
        let c = &out["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["resources"]["limits"]["memory"], "1536Mi");
        assert_eq!(c["resources"]["requests"]["memory"], "1536Mi");
        assert_eq!(out["spec"]["securityContext"], json!({}));
        assert_eq!(out["spec"]["enableServiceLinks"], true);
    }

    #[test]
    fn namespace_and_job_preparation() {
        let ns = admit("namespaces", "", json!({"metadata": {"name": "dev"}})).unwrap();
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "dev"
        );

        let job = json!({"metadata": {"name": "pi", "namespace": "default"}, "spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}});
        let out = admit("jobs", "batch", job.clone()).unwrap();
        assert_eq!(
            out["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "0000-1111"}})
        );
        assert_eq!(
            out["spec"]["template"]["metadata"]["labels"]["job-name"],
            "pi"
        );
        assert_eq!(
            out["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "pi"
        );
        let mut always = job;
        always["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        let err = admit("jobs", "batch", always).unwrap_err();
        assert!(
            err.ends_with(r#""pi" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#),
            "{err}"
        );
    }

    #[test]
    fn workload_updates() {
        let d = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        let stored = admit("deployments", "apps", d.clone()).unwrap();
        assert_eq!(
            stored["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            "25%"
        );
        assert_eq!(stored["status"], json!({}));
        let mut changed = d;
        changed["spec"]["selector"]["matchLabels"]["app"] = json!("other");
        changed["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
        let err = update("deployments", "apps", changed, &stored).unwrap_err();
        assert!(
            err.contains("spec.selector: Invalid value: v1.LabelSelector{"),
            "{err}"
        );
        assert!(err.ends_with("field is immutable"), "{err}");

        let cm = json!({"metadata": {"name": "c", "namespace": "default"}, "immutable": true, "data": {"a": "1"}});
        let stored = admit("configmaps", "", cm.clone()).unwrap();
        let mut changed = cm;
        changed["data"]["a"] = json!("2");
        let err = update("configmaps", "", changed, &stored).unwrap_err();
        assert_eq!(
            err,
            r#"ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set"#
        );
    }

    #[test]
    fn service_messages() {
        let svc = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"app": "web"}}});
        let err = admit("services", "", svc).unwrap_err();
        assert_eq!(
            err,
            r#"Service "web" is invalid: spec.ports: Required value"#
        );
        let svc = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}});
        let out = admit("services", "", svc).unwrap();
        assert_eq!(out["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(out["spec"]["sessionAffinity"], "None");
        assert_eq!(out["status"], json!({"loadBalancer": {}}));
    }
}
