//! ResourceQuotas and LimitRanges through the real kubectl: the quota
//! admission refuses what would exceed a quota with upstream's message,
//! the resourcequota controller keeps `status.used` true (and gives quota
//! back when pods go), a Deployment's ReplicaSet runs into its quota, and
//! LimitRanges default and bound what pods and claims ask for.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::{Sim, eventually};
use crate::{
    Backend, OutputExt, RkubeServer, api_only_server, both_backends, create, get_json, server,
};

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: nginx
"
    )
}

/// `kubectl create -f -` of a manifest, whatever the outcome.
fn try_create(s: &RkubeServer, yaml: &str) -> Output {
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(yaml), &[])
}

/// Assert that kubectl failed (exit code 1) with exactly `message`.
fn refused(out: &Output, message: &str) {
    let stderr = out.err();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(r#"Error from server (Forbidden): error when creating "STDIN": {message}"#)
    );
}

/// Wait until the controller has counted a quota: `status.used` has every
/// hard resource. Returns the quota.
fn counted(s: &RkubeServer, name: &str) -> Value {
    eventually(s, &format!("quota {name} counted"), 30, || {
        let q = get_json(s, &["quota", name]);
        let hard = q["spec"]["hard"].as_object()?;
        let used = q["status"]["used"].as_object()?;
        (q["status"]["hard"] == q["spec"]["hard"] && hard.keys().all(|k| used.contains_key(k)))
            .then_some(q)
    })
}

fn used(s: &RkubeServer, quota: &str, resource: &str) -> Value {
    get_json(s, &["quota", quota])["status"]["used"][resource].clone()
}

#[test]
fn a_pod_quota_refuses_the_fourth_pod_until_one_goes() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        "apiVersion: v1
kind: ResourceQuota
metadata:
  name: pod-count
spec:
  hard:
    pods: \"3\"
",
    );
    let q = counted(&s, "pod-count");
    assert_eq!(
        q["status"],
        json!({"hard": {"pods": "3"}, "used": {"pods": "0"}})
    );

    for i in 1..=3 {
        create(&s, &pod(&format!("p{i}")));
        // Admission charged the quota before the pod was stored.
        assert_eq!(used(&s, "pod-count", "pods"), json!(i.to_string()));
    }
    refused(
        &try_create(&s, &pod("p4")),
        r#"pods "p4" is forbidden: exceeded quota: pod-count, requested: pods=1, used: pods=3, limited: pods=3"#,
    );
    assert!(s.kubectl(&["get", "pod", "p4"]).err().contains("not found"));

    let q = get_json(&s, &["quota", "pod-count"]);
    assert_eq!(q["status"]["used"], json!({"pods": "3"}));
    let table = s.kubectl(&["get", "quota", "pod-count"]).ok();
    assert!(table.contains("pods: 3/3"), "{table}");

    // A pod deleted gives its share back.
    s.kubectl(&["delete", "pod", "p1"]).ok();
    eventually(&s, "the quota to count 2 pods", 30, || {
        (used(&s, "pod-count", "pods") == "2").then_some(())
    });
    create(&s, &pod("p4"));
    assert_eq!(used(&s, "pod-count", "pods"), "3");
    let describe = s.kubectl(&["describe", "quota", "pod-count"]).ok();
    assert!(
        describe
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["pods", "3", "3"]),
        "{describe}"
    );

    // A pod that finished no longer counts.
    create(
        &s,
        "apiVersion: v1
kind: ResourceQuota
metadata:
  name: roomy
spec:
  hard:
    pods: \"10\"
",
    );
    counted(&s, "roomy");
    s.kubectl(&["delete", "pod", "p2"]).ok();
    eventually(&s, "room for a job pod", 30, || {
        (used(&s, "pod-count", "pods") == "2").then_some(())
    });
    create(
        &s,
        "apiVersion: v1
kind: Pod
metadata:
  name: done
  annotations:
    sim.rkube.io/run-for: 100ms
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
",
    );
    eventually(&s, "the finished pod to be given back", 30, || {
        let phase = get_json(&s, &["pod", "done"])["status"]["phase"].clone();
        (phase == "Succeeded" && used(&s, "pod-count", "pods") == "2").then_some(())
    });
    assert_eq!(used(&s, "roomy", "pods"), "2");
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx
        resources:
          requests: {cpu: 400m}
";

#[test]
fn a_deployment_runs_into_its_cpu_quota() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        "apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
spec:
  hard:
    requests.cpu: \"1\"
",
    );
    counted(&s, "compute");

    // Every pod must now say how much cpu it requests.
    refused(
        &try_create(&s, &pod("bare")),
        r#"pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: c"#,
    );

    create(&s, DEPLOYMENT);
    let event = eventually(&s, "the ReplicaSet's FailedCreate event", 60, || {
        let list = get_json(&s, &["events", "--field-selector", "reason=FailedCreate"]);
        list["items"]
            .as_array()?
            .iter()
            .find(|e| e["involvedObject"]["kind"] == "ReplicaSet")
            .cloned()
    });
    let message = event["message"].as_str().unwrap_or("");
    let rs = event["involvedObject"]["name"].as_str().unwrap_or("");
    assert!(rs.starts_with("web-"), "{event}");
    assert!(
        message.starts_with(&format!(r#"Error creating: pods "{rs}-"#))
            && message.ends_with(
                " is forbidden: exceeded quota: compute, requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1"
            ),
        "{message}"
    );

    // Only the pods that fit exist, and the quota says what they use.
    let pods = || {
        get_json(&s, &["pods", "-l", "app=web"])["items"]
            .as_array()
            .map_or(0, Vec::len)
    };
    eventually(&s, "two pods", 30, || (pods() == 2).then_some(()));
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(pods(), 2, "the third pod never fits");
    assert_eq!(used(&s, "compute", "requests.cpu"), "800m");
    eventually(&s, "the ReplicaSet to report 2 replicas", 30, || {
        (get_json(&s, &["rs", rs])["status"]["replicas"] == 2).then_some(())
    });
}

#[test]
fn object_counts_are_limited_and_given_back() {
    let s = server(Backend::Sqlite);
    create(
        &s,
        "apiVersion: v1
kind: ResourceQuota
metadata:
  name: objects
spec:
  hard:
    configmaps: \"1\"
    count/deployments.apps: \"0\"
",
    );
    let q = counted(&s, "objects");
    assert_eq!(
        q["status"]["used"],
        json!({"configmaps": "0", "count/deployments.apps": "0"})
    );
    create(&s, &crate::configmap("a", "default", &[]));
    refused(
        &try_create(&s, &crate::configmap("b", "default", &[])),
        r#"configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1"#,
    );
    refused(
        &try_create(&s, DEPLOYMENT),
        r#"deployments.apps "web" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0"#,
    );
    s.kubectl(&["delete", "configmap", "a"]).ok();
    eventually(&s, "the ConfigMap given back", 30, || {
        (used(&s, "objects", "configmaps") == "0").then_some(())
    });
    create(&s, &crate::configmap("b", "default", &[]));
}

const LIMITS: &str = "apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default: {cpu: 300m, memory: 256Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
    max: {cpu: 500m}
  - type: PersistentVolumeClaim
    max: {storage: 2Gi}
";

fn limit_ranges_default_and_bound(backend: Backend) {
    let s = api_only_server(backend);
    // A claim from before the LimitRange.
    let claim = |name: &str, size: &str| {
        format!(
            "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: {{storage: {size}}}
"
        )
    };
    create(&s, &claim("early", "3Gi"));
    create(&s, LIMITS);

    create(&s, &pod("plain"));
    let p = get_json(&s, &["pod", "plain"]);
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        json!({
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "300m", "memory": "256Mi"},
        })
    );
    assert_eq!(
        p["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
    );
    assert_eq!(p["status"]["qosClass"], "Burstable");

    // A limit without a request makes the request (the pod's own
    // defaults come first); the rest comes from the LimitRange.
    create(
        &s,
        "apiVersion: v1
kind: Pod
metadata:
  name: limited
spec:
  containers:
  - name: c
    image: nginx
    resources:
      limits: {cpu: 200m}
",
    );
    let p = get_json(&s, &["pod", "limited"]);
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        json!({
            "requests": {"cpu": "200m", "memory": "128Mi"},
            "limits": {"cpu": "200m", "memory": "256Mi"},
        })
    );

    refused(
        &try_create(
            &s,
            "apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: c
    image: nginx
    resources:
      limits: {cpu: \"1\"}
",
        ),
        r#"pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1"#,
    );
    refused(
        &try_create(&s, &claim("huge", "5Gi")),
        r#"persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"#,
    );
    create(&s, &claim("fits", "2Gi"));
    // Claims are checked on update too (as upstream's LimitRanger).
    let err = s.kubectl(&["label", "pvc", "early", "x=y"]).err();
    assert_eq!(
        err.trim(),
        r#"Error from server (Forbidden): persistentvolumeclaims "early" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi"#
    );
    s.kubectl(&["label", "pvc", "fits", "x=y"]).ok();
}

both_backends!(limit_ranges_default_and_bound);

/// Updates are charged what they add: a Service turned NodePort past
/// `services.nodeports` is refused with upstream's message, and stays as
/// it was; turning another one back frees the port for it.
#[test]
fn a_service_turned_node_port_is_charged() {
    let s = server(Backend::Sqlite);
    create(
        &s,
        "apiVersion: v1
kind: ResourceQuota
metadata:
  name: ports
spec:
  hard:
    services.nodeports: \"1\"
",
    );
    counted(&s, "ports");
    s.kubectl(&["create", "service", "nodeport", "first", "--tcp=80:80"])
        .ok();
    s.kubectl(&["create", "service", "clusterip", "second", "--tcp=80:80"])
        .ok();
    eventually(&s, "the node port counted", 30, || {
        (used(&s, "ports", "services.nodeports") == "1").then_some(())
    });

    let out = s.kubectl(&[
        "patch",
        "service",
        "second",
        "-p",
        r#"{"spec":{"type":"NodePort"}}"#,
    ]);
    let stderr = out.err();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        r#"Error from server (Forbidden): services "second" is forbidden: exceeded quota: ports, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1"#
    );
    assert_eq!(
        get_json(&s, &["svc", "second"])["spec"]["type"],
        "ClusterIP"
    );

    // The first gives its port back; then the second may take one.
    s.kubectl(&[
        "patch",
        "service",
        "first",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/type","value":"ClusterIP"},{"op":"remove","path":"/spec/ports/0/nodePort"}]"#,
    ])
    .ok();
    eventually(&s, "the node port given back", 30, || {
        (used(&s, "ports", "services.nodeports") == "0").then_some(())
    });
    s.kubectl(&[
        "patch",
        "service",
        "second",
        "-p",
        r#"{"spec":{"type":"NodePort"}}"#,
    ])
    .ok();
    assert_eq!(get_json(&s, &["svc", "second"])["spec"]["type"], "NodePort");
}
