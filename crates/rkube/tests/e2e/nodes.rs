//! Node lifecycle through the real kubectl: a node whose simulator stops
//! heartbeating turns Unknown and is tainted unreachable, its pods are
//! evicted after their `tolerationSeconds` and replaced elsewhere; user
//! NoExecute taints evict pods that do not tolerate them; new pods get
//! upstream's default 300 s tolerations.

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json};

fn server_with_grace(secs: u32) -> RkubeServer {
    RkubeServer::start_with_flags(
        env!("CARGO_BIN_EXE_rkube"),
        Backend::Sqlite,
        &["--node-monitor-grace-period", &format!("{secs}s")],
    )
}

fn pods_of(s: &RkubeServer, label: &str) -> Vec<Value> {
    get_json(s, &["pods", "-l", label])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_silent_node_is_tainted_and_its_pods_evicted_and_replaced() {
    let s = server_with_grace(3);
    // Heartbeats well within the 3 s grace period.
    let mut lost = Sim::start(&s, 1, &["--prefix", "lost-", "--lease-interval", "500ms"]);
    create(
        &s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - {name: c, image: nginx}
",
    );
    let first = eventually(&s, "the pod running on lost-0", 30, || {
        let pods = pods_of(&s, "app=web");
        let p = pods.first()?;
        (p["spec"]["nodeName"] == "lost-0" && p["status"]["phase"] == "Running")
            .then(|| p["metadata"]["name"].as_str().unwrap_or("").to_owned())
    });
    // The pod kept its own bounded toleration; the not-ready one was
    // added by DefaultTolerationSeconds.
    let pod = get_json(&s, &["pod", &first]);
    let tolerations = pod["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        tolerations
            .iter()
            .any(|t| t["key"] == "node.kubernetes.io/not-ready"
                && t["tolerationSeconds"] == 300
                && t["effect"] == "NoExecute"),
        "{tolerations:?}"
    );
    assert_eq!(
        tolerations
            .iter()
            .filter(|t| t["key"] == "node.kubernetes.io/unreachable")
            .count(),
        1
    );

    let _others = Sim::start(&s, 2, &["--lease-interval", "500ms"]);
    lost.kill();
    // The node goes Unknown and gets the unreachable taints.
    eventually(&s, "lost-0 Unknown and tainted", 30, || {
        let node = get_json(&s, &["node", "lost-0"]);
        let ready = condition(&node, "Ready");
        let taints = node["spec"]["taints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let has = |effect: &str| {
            taints
                .iter()
                .any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == effect)
        };
        (ready["status"] == "Unknown"
            && ready["reason"] == "NodeStatusUnknown"
            && has("NoExecute")
            && has("NoSchedule"))
        .then_some(())
    });
    // After its 2 s, the pod is evicted and a replacement runs elsewhere.
    eventually(&s, "the pod evicted and replaced", 30, || {
        let pods = pods_of(&s, "app=web");
        let old = pods
            .iter()
            .find(|p| p["metadata"]["name"] == first.as_str())?;
        let replacement = pods
            .iter()
            .find(|p| p["metadata"]["name"] != first.as_str())?;
        (!old["metadata"]["deletionTimestamp"].is_null()
            && replacement["status"]["phase"] == "Running"
            && replacement["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| n.starts_with("sim-")))
        .then_some(())
    });
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={first}"),
        ])
        .ok();
    assert!(events.contains("TaintManagerEviction"), "{events}");
    assert!(
        events.contains(&format!("Marking for deletion Pod default/{first}")),
        "{events}"
    );

    // A user's NoExecute taint evicts pods that do not tolerate it, at once.
    let running = eventually(&s, "one running pod", 30, || {
        let pods = pods_of(&s, "app=web");
        pods.iter()
            .find(|p| {
                p["metadata"]["deletionTimestamp"].is_null() && p["status"]["phase"] == "Running"
            })
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                    p["spec"]["nodeName"].as_str().unwrap_or("").to_owned(),
                )
            })
    });
    s.kubectl(&["taint", "node", &running.1, "dedicated=ops:NoExecute"])
        .ok();
    eventually(&s, "the pod evicted by the user's taint", 30, || {
        let pods = pods_of(&s, "app=web");
        let gone = pods
            .iter()
            .find(|p| p["metadata"]["name"] == running.0.as_str())
            .is_none_or(|p| !p["metadata"]["deletionTimestamp"].is_null());
        let elsewhere = pods.iter().any(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["status"]["phase"] == "Running"
                && p["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|n| n != running.1 && n.starts_with("sim-"))
        });
        (gone && elsewhere).then_some(())
    });
}
