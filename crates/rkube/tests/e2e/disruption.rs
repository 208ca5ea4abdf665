//! PodDisruptionBudgets with the disruption controller running, through the
//! real kubectl on simulated nodes: the budget's status follows its pods,
//! and `kubectl drain` is slowed by it — one eviction at a time, each
//! waiting for the ReplicaSet's replacement to be Ready elsewhere.

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server, table};

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
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: nginx}
";

fn running_pods(s: &RkubeServer) -> Vec<Value> {
    get_json(s, &["pods", "-l", "app=web"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["status"]["phase"] == "Running"
                && condition(p, "Ready")["status"] == "True"
        })
        .collect()
}

/// (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed).
fn budget(s: &RkubeServer, name: &str) -> (i64, i64, i64, i64) {
    let st = get_json(s, &["pdb", name])["status"].clone();
    let n = |k: &str| st[k].as_i64().unwrap_or(-1);
    (
        n("expectedPods"),
        n("desiredHealthy"),
        n("currentHealthy"),
        n("disruptionsAllowed"),
    )
}

#[test]
fn budget_status_follows_its_pods() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, DEPLOYMENT);
    create(
        &s,
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: by-count}
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: by-percent}
spec:
  maxUnavailable: 50%
  selector:
    matchLabels: {app: web}
",
    );
    eventually(&s, "3 running pods", 30, || {
        (running_pods(&s).len() == 3).then_some(())
    });
    // minAvailable 2 of 3 healthy: one may go.
    eventually(&s, "by-count's status", 20, || {
        (budget(&s, "by-count") == (3, 2, 3, 1)).then_some(())
    });
    // maxUnavailable 50% of the Deployment's 3, rounded up: 2 may go.
    eventually(&s, "by-percent's status", 20, || {
        (budget(&s, "by-percent") == (3, 1, 3, 2)).then_some(())
    });
    let pdb = get_json(&s, &["pdb", "by-count"]);
    let allowed = condition(&pdb, "DisruptionAllowed");
    assert_eq!(allowed["status"], "True", "{pdb}");
    assert_eq!(allowed["reason"], "SufficientPods", "{pdb}");
    assert_eq!(
        pdb["status"]["observedGeneration"],
        pdb["metadata"]["generation"]
    );
    // `kubectl get pdb` reads the status.
    let out = s.kubectl(&["get", "pdb", "by-count"]).ok();
    assert_eq!(table(&out)[1][..4], ["by-count", "2", "N/A", "1"], "{out}");

    // Scaled down to 2: nothing may go under minAvailable 2; the percent
    // budget follows the Deployment's new scale.
    s.kubectl(&["scale", "deployment", "web", "--replicas=2"])
        .ok();
    eventually(&s, "by-count to allow nothing", 30, || {
        (budget(&s, "by-count") == (2, 2, 2, 0)).then_some(())
    });
    eventually(&s, "by-percent to follow the scale", 20, || {
        (budget(&s, "by-percent") == (2, 1, 2, 1)).then_some(())
    });
    let pdb = get_json(&s, &["pdb", "by-count"]);
    let allowed = condition(&pdb, "DisruptionAllowed");
    assert_eq!(allowed["status"], "False", "{pdb}");
    assert_eq!(allowed["reason"], "InsufficientPods", "{pdb}");
}

#[test]
fn drain_waits_for_the_budget_and_pods_move_elsewhere() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    // Everything on sim-0 first.
    s.kubectl(&["cordon", "sim-1", "sim-2"]).ok();
    create(&s, DEPLOYMENT);
    eventually(&s, "3 running pods on sim-0", 30, || {
        let pods = running_pods(&s);
        (pods.len() == 3 && pods.iter().all(|p| p["spec"]["nodeName"] == "sim-0")).then_some(())
    });
    s.kubectl(&["uncordon", "sim-1", "sim-2"]).ok();
    create(
        &s,
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 3
  selector:
    matchLabels: {app: web}
",
    );
    eventually(&s, "the budget's status", 20, || {
        (budget(&s, "web") == (3, 3, 3, 0)).then_some(())
    });

    // No disruption allowed: drain cannot make progress.
    let out = s.kubectl(&["drain", "sim-0", "--timeout=6s"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{err}"
    );
    assert_eq!(running_pods(&s).len(), 3);

    // minAvailable 2: one at a time, each replaced on another node before
    // the next may go.
    s.kubectl(&[
        "patch",
        "pdb",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minAvailable":2}}"#,
    ])
    .ok();
    let out = s.kubectl(&["drain", "sim-0", "--timeout=90s"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("node/sim-0 drained"), "{stdout}");
    // The budget held at least one eviction back.
    assert!(
        stderr.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{stderr}"
    );
    let pods = eventually(&s, "3 running pods elsewhere", 30, || {
        let pods = running_pods(&s);
        (pods.len() == 3).then_some(pods)
    });
    assert!(
        pods.iter().all(|p| p["spec"]["nodeName"] != "sim-0"),
        "{pods:?}"
    );
    assert_eq!(
        get_json(&s, &["node", "sim-0"])["spec"]["unschedulable"],
        true
    );
    // Healthy again, with one disruption to spare.
    eventually(&s, "the budget to recover", 20, || {
        (budget(&s, "web") == (3, 2, 3, 1)).then_some(())
    });
}

#[test]
fn repeated_events_are_counted_not_duplicated() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    // A percentage budget over a pod without a controller: each sync warns
    // the same way.
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\n  labels: {app: lone}\nspec:\n  containers:\n  - {name: c, image: nginx}\n",
    );
    create(
        &s,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: lone}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {app: lone}\n",
    );
    // More syncs: the pod changes a few times.
    for i in 0..3 {
        s.kubectl(&["label", "pod", "lone", &format!("round={i}"), "--overwrite"])
            .ok();
    }
    let events = eventually(&s, "a counted UnmanagedPods event", 30, || {
        let list = get_json(&s, &["events", "--field-selector", "reason=UnmanagedPods"]);
        let items = list["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .any(|e| e["count"].as_i64().unwrap_or(0) >= 3)
            .then_some(items)
    });
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["type"], "Warning");
    assert_eq!(e["involvedObject"]["kind"], "PodDisruptionBudget");
    assert!(e["firstTimestamp"].as_str() <= e["lastTimestamp"].as_str());
    // `kubectl describe` shows the count.
    let out = s.kubectl(&["describe", "pdb", "lone"]).ok();
    assert!(
        out.lines()
            .any(|l| l.contains("UnmanagedPods") && l.contains(" (x")),
        "{out}"
    );
}
