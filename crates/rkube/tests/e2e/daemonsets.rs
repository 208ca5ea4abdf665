//! The DaemonSet controller inside `rkube server`, through the real
//! kubectl, with simulated nodes: one pod per eligible node placed by the
//! scheduler through node affinity, nodes joining, taints and
//! tolerations, node selectors, rolling updates and ControllerRevisions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server};

/// A second `rkube sim` whose nodes are named `{prefix}N`, killed on drop.
struct ExtraSim {
    child: Child,
    log: PathBuf,
}

impl ExtraSim {
    fn start(s: &RkubeServer, prefix: &str, nodes: usize) -> ExtraSim {
        let log = s.dir.path().join(format!("sim-{prefix}log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_rkube"));
        command
            .arg("sim")
            .arg("--kubeconfig")
            .arg(s.kubeconfig())
            .args(["--nodes", &nodes.to_string(), "--prefix", prefix])
            .args(["--termination-delay", "100ms"])
            .env("RKUBE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("sim log"));
        let child = rkube_testkit::die_with_parent(&mut command)
            .spawn()
            .expect("starting rkube sim");
        ExtraSim { child, log }
    }
}

impl Drop for ExtraSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "extra sim log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// Live pods with `label`: node → (name, running and ready, revision hash).
fn pods_by_node(s: &RkubeServer, label: &str) -> BTreeMap<String, Vec<(String, bool, String)>> {
    let list = get_json(s, &["pods", "-l", label]);
    let mut out: BTreeMap<String, Vec<(String, bool, String)>> = BTreeMap::new();
    for p in list["items"].as_array().into_iter().flatten() {
        if !p["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let node = p["spec"]["nodeName"].as_str().unwrap_or("").to_owned();
        let running =
            p["status"]["phase"] == "Running" && condition(p, "Ready")["status"] == "True";
        out.entry(node).or_default().push((
            p["metadata"]["name"].as_str().unwrap_or("").to_owned(),
            running,
            p["metadata"]["labels"]["controller-revision-hash"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        ));
    }
    out
}

/// Wait until exactly one running pod with `label` is on each of `nodes`
/// and none elsewhere; returns them by node.
fn wait_one_per_node(
    s: &RkubeServer,
    label: &str,
    nodes: &[&str],
) -> BTreeMap<String, Vec<(String, bool, String)>> {
    eventually(
        s,
        &format!("one {label} pod on each of {nodes:?}"),
        60,
        || {
            let by_node = pods_by_node(s, label);
            let placed: Vec<&str> = by_node.keys().map(String::as_str).collect();
            (placed == nodes && by_node.values().all(|ps| ps.len() == 1 && ps[0].1))
                .then_some(by_node)
        },
    )
}

fn daemon_set(name: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: agent:1
{extra_spec}"
    )
}

/// Wait until the DaemonSet's status reads `desired` scheduled, ready,
/// available and updated, observed at its generation; returns it.
fn wait_status(s: &RkubeServer, name: &str, desired: i64, misscheduled: i64) -> Value {
    eventually(s, &format!("daemonset {name} status {desired}"), 60, || {
        let ds = get_json(s, &["ds", name]);
        let st = &ds["status"];
        (st["desiredNumberScheduled"] == desired
            && st["currentNumberScheduled"] == desired
            && st["numberReady"] == desired
            && st["numberAvailable"] == desired
            && st["updatedNumberScheduled"] == desired
            && st["numberMisscheduled"] == misscheduled
            && st["observedGeneration"] == ds["metadata"]["generation"])
            .then_some(ds)
    })
}

#[test]
fn a_daemon_set_runs_one_pod_per_eligible_node() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    create(&s, &daemon_set("agent", ""));
    let first = wait_one_per_node(&s, "app=agent", &["sim-0", "sim-1", "sim-2"]);
    wait_status(&s, "agent", 3, 0);
    let out = s
        .kubectl(&["rollout", "status", "ds/agent", "--timeout=30s"])
        .ok();
    assert!(out.contains("successfully rolled out"), "{out}");

    // Placed by the scheduler: pinned through node affinity, with the
    // tolerations every daemon pod gets, labelled with the revision.
    let (name, _, hash) = &first["sim-1"][0];
    let pod = get_json(&s, &["pod", name]);
    assert_eq!(
        pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchFields"][0],
        serde_json::json!({"key": "metadata.name", "operator": "In", "values": ["sim-1"]})
    );
    assert_eq!(condition(&pod, "PodScheduled")["status"], "True");
    let tolerations = pod["spec"]["tolerations"].to_string();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable",
    ] {
        assert!(tolerations.contains(key), "{tolerations}");
    }
    assert!(!tolerations.contains("network-unavailable"));
    assert_eq!(pod["metadata"]["labels"]["pod-template-generation"], "1");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    assert!(name.starts_with("agent-"));
    let rev = get_json(&s, &["controllerrevision", &format!("agent-{hash}")]);
    assert_eq!(rev["revision"], 1);
    assert_eq!(rev["metadata"]["labels"]["controller-revision-hash"], *hash);
    assert_eq!(rev["metadata"]["ownerReferences"][0]["name"], "agent");

    // A deleted pod is replaced on its node.
    s.kubectl(&["delete", "pod", &first["sim-0"][0].0, "--wait=false"])
        .ok();
    let replaced = wait_one_per_node(&s, "app=agent", &["sim-0", "sim-1", "sim-2"]);
    assert_ne!(replaced["sim-0"][0].0, first["sim-0"][0].0);

    // A node joins: a pod lands there.
    let other = ExtraSim::start(&s, "other-", 1);
    wait_one_per_node(&s, "app=agent", &["other-0", "sim-0", "sim-1", "sim-2"]);
    wait_status(&s, "agent", 4, 0);

    // A NoSchedule taint: the pod already there stays (misscheduled), a
    // new DaemonSet without a toleration skips the node.
    s.kubectl(&["taint", "node", "sim-1", "dedicated=infra:NoSchedule"])
        .ok();
    wait_status(&s, "agent", 3, 1);
    create(&s, &daemon_set("fresh", ""));
    wait_one_per_node(&s, "app=fresh", &["other-0", "sim-0", "sim-2"]);
    wait_status(&s, "fresh", 3, 0);
    let by_node = pods_by_node(&s, "app=agent");
    assert_eq!(by_node["sim-1"].len(), 1, "{by_node:?}");
    assert_eq!(by_node["sim-1"][0].0, first["sim-1"][0].0);

    // Adding the toleration rolls the DaemonSet to a new revision, which
    // runs on the tainted node too.
    let old_hash = pods_by_node(&s, "app=fresh")["sim-0"][0].2.clone();
    s.kubectl(&[
        "patch",
        "ds",
        "fresh",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/spec/template/spec/tolerations","value":[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]}]"#,
    ])
    .ok();
    let rolled = eventually(&s, "fresh rolled out on every node", 90, || {
        let by_node = pods_by_node(&s, "app=fresh");
        let placed: Vec<&str> = by_node.keys().map(String::as_str).collect();
        (placed == ["other-0", "sim-0", "sim-1", "sim-2"]
            && by_node
                .values()
                .all(|ps| ps.len() == 1 && ps[0].1 && ps[0].2 != old_hash))
        .then_some(by_node)
    });
    let new_hash = rolled["sim-1"][0].2.clone();
    let status = wait_status(&s, "fresh", 4, 0);
    assert_eq!(
        status["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "2"
    );
    let out = s
        .kubectl(&["rollout", "status", "ds/fresh", "--timeout=30s"])
        .ok();
    assert!(out.contains("successfully rolled out"), "{out}");
    let revs = get_json(&s, &["controllerrevisions", "-l", "app=fresh"]);
    let mut numbered: Vec<(i64, String)> = revs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["metadata"]["labels"]["controller-revision-hash"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    numbered.sort();
    assert_eq!(numbered, [(1, old_hash), (2, new_hash)]);
    let history = s.kubectl(&["rollout", "history", "ds/fresh"]).ok();
    assert!(history.contains('1') && history.contains('2'), "{history}");
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=fresh",
        ])
        .ok();
    assert!(events.contains("SuccessfulCreate"), "{events}");
    assert!(events.contains("SuccessfulDelete"), "{events}");

    // Undo: back to the first template, now the newest revision. As
    // upstream, the rolling update replaces the old-revision pod on the
    // tainted node too, and nothing replaces it there.
    s.kubectl(&["rollout", "undo", "ds/fresh"]).ok();
    eventually(&s, "fresh rolled back", 90, || {
        let by_node = pods_by_node(&s, "app=fresh");
        let placed: Vec<&str> = by_node.keys().map(String::as_str).collect();
        (placed == ["other-0", "sim-0", "sim-2"]
            && by_node
                .values()
                .all(|ps| ps.len() == 1 && ps[0].1 && ps[0].2 == numbered[0].1))
        .then_some(())
    });
    let rev = get_json(
        &s,
        &["controllerrevision", &format!("fresh-{}", numbered[0].1)],
    );
    assert_eq!(rev["revision"], 3);
    wait_status(&s, "fresh", 3, 0);

    // A node selector: pods follow the nodes' labels.
    s.kubectl(&["label", "node", "sim-0", "sim-2", "role=edge"])
        .ok();
    create(
        &s,
        &daemon_set("picky", "      nodeSelector: {role: edge}\n"),
    );
    wait_one_per_node(&s, "app=picky", &["sim-0", "sim-2"]);
    wait_status(&s, "picky", 2, 0);
    s.kubectl(&["label", "node", "sim-2", "role=core", "--overwrite"])
        .ok();
    wait_one_per_node(&s, "app=picky", &["sim-0"]);
    wait_status(&s, "picky", 1, 0);
    s.kubectl(&["label", "node", "other-0", "role=edge"]).ok();
    wait_one_per_node(&s, "app=picky", &["other-0", "sim-0"]);

    // maxSurge: the new pod starts beside the old one, which goes once
    // the new one has been available for minReadySeconds; every node
    // keeps a ready pod throughout.
    create(
        &s,
        &daemon_set("surge", "")
            .replace(
                "spec:\n  selector:",
                "spec:\n  minReadySeconds: 1\n  updateStrategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n  selector:",
            ),
    );
    let nodes = ["other-0", "sim-0", "sim-2"];
    let before = wait_one_per_node(&s, "app=surge", &nodes);
    wait_status(&s, "surge", 3, 0);
    let old_hash = before["sim-0"][0].2.clone();
    s.kubectl(&["set", "image", "ds/surge", "c=agent:2"]).ok();
    let mut doubled = false;
    eventually(&s, "surge rolled out", 90, || {
        let by_node = pods_by_node(&s, "app=surge");
        for node in nodes {
            let ps = by_node.get(node).cloned().unwrap_or_default();
            assert!(
                ps.iter().any(|p| p.1),
                "{node} kept a ready pod: {by_node:?}"
            );
            if ps.len() == 2 {
                assert!(ps.iter().any(|p| p.2 == old_hash), "{by_node:?}");
                doubled = true;
            }
        }
        (by_node.len() == 3
            && by_node
                .values()
                .all(|ps| ps.len() == 1 && ps[0].1 && ps[0].2 != old_hash))
        .then_some(())
    });
    assert!(doubled, "a new pod ran beside an old one");
    wait_status(&s, "surge", 3, 0);

    // A node leaves: it no longer counts (its pods are left to pod
    // garbage collection, as upstream).
    drop(other);
    s.kubectl(&["delete", "node", "other-0"]).ok();
    wait_status(&s, "agent", 2, 1);
    wait_status(&s, "surge", 2, 0);
}
