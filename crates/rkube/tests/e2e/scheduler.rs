//! The scheduler inside `rkube server`, through the real kubectl, with
//! simulated nodes (`rkube sim` as its own process): pods are placed by the
//! filters and scores users know, unschedulable pods wait with upstream's
//! condition and event and are retried when the cluster changes, a
//! high-priority pod preempts, and `kubectl describe pod` says why a node
//! was chosen.
//!
//! Each test starts its own server and simulator. Only the two core tests
//! run on both backends: the scheduler is a client of the API like any
//! other, the store behind the server makes no difference to it, and each
//! test on etcd adds seconds to the suite.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Sim, condition, eventually, server_with_flags};
use crate::{Backend, OutputExt, RkubeServer, both_backends, create, get_json, server};

/// A pod manifest: `labels` and `spec` are YAML lines indented for their
/// place (`spec` lines go before `containers`), requesting `cpu`.
fn pod(name: &str, labels: &[(&str, &str)], cpu: &str, spec: &str) -> String {
    let mut y = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        y.push_str("  labels:\n");
        for (k, v) in labels {
            y.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    y.push_str("spec:\n");
    y.push_str(spec);
    y.push_str(&format!(
        "  containers:\n  - name: c\n    image: busybox\n    resources:\n      requests:\n        cpu: {cpu}\n"
    ));
    y
}

/// Wait until the pods are bound; their nodes, in order.
fn wait_bound(s: &RkubeServer, pods: &[&str]) -> Vec<String> {
    eventually(s, &format!("{pods:?} to be scheduled"), 30, || {
        let list = get_json(s, &["pods"]);
        pods.iter()
            .map(|name| {
                list["items"]
                    .as_array()?
                    .iter()
                    .find(|p| p["metadata"]["name"] == *name)?["spec"]["nodeName"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    })
}

/// The events about a pod: (type, reason, message), oldest first.
fn events_of(s: &RkubeServer, pod: &str) -> Vec<(String, String, String)> {
    let selector = format!("involvedObject.name={pod}");
    let list = get_json(s, &["events", "--field-selector", &selector]);
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    items.sort_by(|a, b| {
        a["eventTime"]
            .as_str()
            .unwrap_or("")
            .cmp(b["eventTime"].as_str().unwrap_or(""))
    });
    items
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (f("type"), f("reason"), f("message"))
        })
        .collect()
}

/// Wait for a pod to be reported unschedulable: its `PodScheduled`
/// condition and its FailedScheduling event's message.
fn wait_unschedulable(s: &RkubeServer, pod: &str) -> (Value, String) {
    eventually(s, &format!("{pod} to be unschedulable"), 30, || {
        let p = get_json(s, &["pod", pod]);
        let c = condition(&p, "PodScheduled").clone();
        let event = events_of(s, pod)
            .into_iter()
            .find(|(_, reason, _)| reason == "FailedScheduling")?;
        (c["status"] == "False").then_some((c, event.2))
    })
}

/// Upstream's message, double period included (the preemption message is
/// a sentence of its own, and the scheduler ends every part with a period).
const UNMATCHED_SELECTOR: &str = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..";

fn pods_are_scheduled_and_run(backend: Backend) {
    let s = server(backend);
    // Small nodes, so that least-allocated scoring tells them apart.
    let _sim = Sim::start(&s, 3, &["--cpu", "1"]);
    let names = ["a", "b", "c", "d", "e", "f"];
    let manifests: Vec<String> = names.iter().map(|n| pod(n, &[], "100m", "")).collect();
    create(&s, &manifests.join("---\n"));
    let nodes = wait_bound(&s, &names);
    for n in &nodes {
        assert!(n.starts_with("sim-"), "{nodes:?}");
    }
    // Least-allocated spreads identical pods evenly.
    for n in ["sim-0", "sim-1", "sim-2"] {
        let count = nodes.iter().filter(|x| *x == n).count();
        assert_eq!(count, 2, "{n}: {nodes:?}");
    }
    for n in names {
        s.kubectl(&[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{n}"),
            "--timeout=30s",
        ])
        .ok();
    }
    let a = get_json(&s, &["pod", "a"]);
    assert_eq!(a["status"]["phase"], "Running");
    assert_eq!(condition(&a, "PodScheduled")["status"], "True", "{a}");
    let events = events_of(&s, "a");
    let scheduled = events
        .iter()
        .find(|e| e.1 == "Scheduled")
        .unwrap_or_else(|| panic!("no Scheduled event: {events:?}"));
    assert_eq!(scheduled.0, "Normal");
    // Upstream's message, then why (see describe_shows_why_a_node_was_chosen).
    assert!(
        scheduled.2.starts_with(&format!(
            "Successfully assigned default/a to {}; ",
            nodes[0]
        )),
        "{scheduled:?}"
    );
    // As upstream's: reported by the default-scheduler.
    let list = get_json(&s, &["events", "--field-selector", "reason=Scheduled"]);
    let e = &list["items"][0];
    assert_eq!(e["reportingComponent"], "default-scheduler", "{e}");
    assert_eq!(e["source"]["component"], "default-scheduler", "{e}");
    assert_eq!(e["involvedObject"]["kind"], "Pod", "{e}");
}

fn unmatched_node_selector_waits_until_a_node_matches(backend: Backend) {
    let s = server(backend);
    let _sim = Sim::start(&s, 3, &[]);
    create(
        &s,
        &pod("ssd", &[], "100m", "  nodeSelector:\n    disk: ssd\n"),
    );
    let (c, message) = wait_unschedulable(&s, "ssd");
    assert_eq!(c["reason"], "Unschedulable", "{c}");
    assert_eq!(c["message"], UNMATCHED_SELECTOR, "{c}");
    assert_eq!(message, UNMATCHED_SELECTOR);
    let rows = s.kubectl(&["get", "pod", "ssd", "--no-headers"]).ok();
    assert!(rows.contains("Pending"), "{rows}");
    let describe = s.kubectl(&["describe", "pod", "ssd"]).ok();
    assert!(
        describe.contains("FailedScheduling") && describe.contains("default-scheduler"),
        "{describe}"
    );

    // A node gets the label: the pod is retried at once (not after
    // minutes) and goes there.
    s.kubectl(&["label", "node", "sim-1", "disk=ssd"]).ok();
    let started = Instant::now();
    assert_eq!(wait_bound(&s, &["ssd"]), ["sim-1"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let p = get_json(&s, &["pod", "ssd"]);
    assert_eq!(condition(&p, "PodScheduled")["status"], "True", "{p}");
}

both_backends!(
    pods_are_scheduled_and_run,
    unmatched_node_selector_waits_until_a_node_matches
);

#[test]
fn cordoned_nodes_are_avoided() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    s.kubectl(&["cordon", "sim-0"]).ok();
    eventually(&s, "the cordon", 10, || {
        (get_json(&s, &["node", "sim-0"])["spec"]["unschedulable"] == true).then_some(())
    });
    let names = ["a", "b", "c", "d", "e", "f"];
    let manifests: Vec<String> = names.iter().map(|n| pod(n, &[], "100m", "")).collect();
    create(&s, &manifests.join("---\n"));
    let nodes = wait_bound(&s, &names);
    assert!(!nodes.iter().any(|n| n == "sim-0"), "{nodes:?}");

    // Cordoned everywhere: upstream's reasons.
    s.kubectl(&["cordon", "sim-1", "sim-2"]).ok();
    create(&s, &pod("late", &[], "100m", ""));
    let (_, message) = wait_unschedulable(&s, "late");
    assert_eq!(
        message,
        "0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
    s.kubectl(&["uncordon", "sim-2"]).ok();
    assert_eq!(wait_bound(&s, &["late"]), ["sim-2"]);
}

#[test]
fn tainted_nodes_are_avoided_unless_tolerated() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    s.kubectl(&["taint", "node", "sim-0", "dedicated=gpu:NoSchedule"])
        .ok();
    let names = ["a", "b", "c", "d", "e", "f"];
    let manifests: Vec<String> = names.iter().map(|n| pod(n, &[], "100m", "")).collect();
    create(&s, &manifests.join("---\n"));
    let nodes = wait_bound(&s, &names);
    assert!(!nodes.iter().any(|n| n == "sim-0"), "{nodes:?}");

    // Asking for sim-0 without the toleration: upstream's message.
    let on_gpu = "  nodeSelector:\n    kubernetes.io/hostname: sim-0\n";
    create(&s, &pod("untolerated", &[], "100m", on_gpu));
    let (_, message) = wait_unschedulable(&s, "untolerated");
    assert_eq!(
        message,
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
    // With the toleration it goes there.
    let tolerated = format!(
        "{on_gpu}  tolerations:\n  - key: dedicated\n    operator: Equal\n    value: gpu\n    effect: NoSchedule\n"
    );
    create(&s, &pod("tolerated", &[], "100m", &tolerated));
    assert_eq!(wait_bound(&s, &["tolerated"]), ["sim-0"]);
}

#[test]
fn required_anti_affinity_spreads_replicas_over_nodes() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    let anti = "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector:\n          matchLabels:\n            app: db\n        topologyKey: kubernetes.io/hostname\n";
    let names = ["db-0", "db-1", "db-2"];
    let manifests: Vec<String> = names
        .iter()
        .map(|n| pod(n, &[("app", "db")], "100m", anti))
        .collect();
    create(&s, &manifests.join("---\n"));
    let mut nodes = wait_bound(&s, &names);
    nodes.sort();
    assert_eq!(nodes, ["sim-0", "sim-1", "sim-2"]);
    // A fourth replica has nowhere to go.
    create(&s, &pod("db-3", &[("app", "db")], "100m", anti));
    let (_, message) = wait_unschedulable(&s, "db-3");
    assert!(
        message.starts_with(
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
        ),
        "{message}"
    );
}

#[test]
fn preferred_node_affinity_picks_the_preferred_node() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    s.kubectl(&["label", "node", "sim-2", "tier=gold"]).ok();
    let preferred = "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 100\n        preference:\n          matchExpressions:\n          - key: tier\n            operator: In\n            values: [gold]\n";
    let names = ["p0", "p1", "p2"];
    let manifests: Vec<String> = names
        .iter()
        .map(|n| pod(n, &[], "100m", preferred))
        .collect();
    create(&s, &manifests.join("---\n"));
    assert_eq!(wait_bound(&s, &names), ["sim-2", "sim-2", "sim-2"]);
}

#[test]
fn topology_spread_constraints_balance_zones() {
    let s = server(Backend::Sqlite);
    // Six nodes: two per zone (zone-a, zone-b, zone-c, round-robin).
    let _sim = Sim::start(&s, 6, &[]);
    let spread = "  topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: topology.kubernetes.io/zone\n    whenUnsatisfiable: DoNotSchedule\n    labelSelector:\n      matchLabels:\n        app: web\n";
    // Nodes of zone-a are preferred by affinity: spreading still wins.
    let prefer_a = "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 100\n        preference:\n          matchExpressions:\n          - key: topology.kubernetes.io/zone\n            operator: In\n            values: [zone-a]\n";
    let names = ["w0", "w1", "w2", "w3", "w4", "w5"];
    for n in names {
        // One at a time, so each sees the previous ones.
        create(
            &s,
            &pod(n, &[("app", "web")], "100m", &format!("{spread}{prefer_a}")),
        );
        wait_bound(&s, &[n]);
    }
    let nodes = get_json(&s, &["nodes"]);
    let zone_of = |node: &str| -> String {
        nodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["metadata"]["name"] == node)
            .unwrap()["metadata"]["labels"]["topology.kubernetes.io/zone"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut zones: Vec<String> = wait_bound(&s, &names).iter().map(|n| zone_of(n)).collect();
    zones.sort();
    assert_eq!(
        zones,
        ["zone-a", "zone-a", "zone-b", "zone-b", "zone-c", "zone-c"]
    );
}

#[test]
fn exhausted_resources_leave_pods_pending() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &["--cpu", "2"]);
    let names = ["big-0", "big-1", "big-2"];
    let manifests: Vec<String> = names.iter().map(|n| pod(n, &[], "1500m", "")).collect();
    create(&s, &manifests.join("---\n"));
    let nodes = wait_bound(&s, &names);
    let mut sorted = nodes.clone();
    sorted.sort();
    assert_eq!(sorted, ["sim-0", "sim-1", "sim-2"]);
    create(&s, &pod("big-3", &[], "1500m", ""));
    let (c, message) = wait_unschedulable(&s, "big-3");
    assert_eq!(
        message,
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
    );
    assert_eq!(c["message"], message.as_str());
    // Room is made: the pending pod takes it.
    s.kubectl(&["delete", "pod", "big-1", "--timeout=30s"]).ok();
    assert_eq!(wait_bound(&s, &["big-3"]), [nodes[1].clone()]);
}

#[test]
fn a_high_priority_pod_preempts_a_low_priority_one() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &["--cpu", "2"]);
    create(
        &s,
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: low\nvalue: 10\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\n",
    );
    create(&s, &pod("low", &[], "1500m", "  priorityClassName: low\n"));
    assert_eq!(wait_bound(&s, &["low"]), ["sim-0"]);
    let low_uid = get_json(&s, &["pod", "low"])["metadata"]["uid"].clone();
    create(
        &s,
        &pod("high", &[], "1500m", "  priorityClassName: high\n"),
    );
    // The low-priority pod is evicted, the high one takes its place.
    assert_eq!(wait_bound(&s, &["high"]), ["sim-0"]);
    let err = s.kubectl(&["get", "pod", "low"]).err();
    assert!(err.contains("NotFound"), "{err}");
    let high = get_json(&s, &["pod", "high"]);
    let high_uid = high["metadata"]["uid"].as_str().unwrap().to_owned();
    assert_eq!(high["status"]["nominatedNodeName"], "sim-0", "{high}");
    // Upstream's events: the preemptor's failure (no victims needed yet)
    // and the victim's eviction.
    let events = events_of(&s, "high");
    assert!(
        events
            .iter()
            .any(|e| e.1 == "FailedScheduling"
                && e.2 == "0/1 nodes are available: 1 Insufficient cpu."),
        "{events:?}"
    );
    let victim = events_of(&s, "low")
        .into_iter()
        .find(|e| e.1 == "Preempted")
        .unwrap_or_else(|| panic!("no Preempted event: {:?}", events_of(&s, "low")));
    assert_eq!(victim.0, "Normal");
    assert_eq!(
        victim.2,
        format!("Preempted by pod {high_uid} on node sim-0")
    );
    let list = get_json(&s, &["events", "--field-selector", "reason=Preempted"]);
    assert_eq!(list["items"][0]["involvedObject"]["uid"], low_uid);
}

#[test]
fn pods_for_another_scheduler_are_left_alone() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    create(
        &s,
        &pod("other", &[], "100m", "  schedulerName: my-scheduler\n"),
    );
    // A pod created after it is scheduled: the scheduler has seen both.
    create(&s, &pod("mine", &[], "100m", ""));
    wait_bound(&s, &["mine"]);
    // The scheduler saw "other" first (one watch of pods, in order) and
    // left it: no node, no condition, no event.
    let other = get_json(&s, &["pod", "other"]);
    assert!(other["spec"]["nodeName"].is_null(), "{other}");
    assert_eq!(condition(&other, "PodScheduled"), &Value::Null, "{other}");
    assert_eq!(events_of(&s, "other"), []);
}

#[test]
fn describe_shows_why_a_node_was_chosen() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    create(&s, &pod("why", &[], "100m", ""));
    let node = wait_bound(&s, &["why"]).remove(0);
    let describe = eventually(&s, "the explanation", 10, || {
        let d = s.kubectl(&["describe", "pod", "why"]).ok();
        d.contains("Successfully assigned").then_some(d)
    });
    // One event says where and why: upstream's message, then the scores.
    let explained = describe
        .lines()
        .find(|l| l.contains("Successfully assigned"))
        .unwrap();
    assert!(
        explained.contains("Normal") && explained.contains("Scheduled"),
        "{explained}"
    );
    assert!(
        explained.contains(&format!(
            "Successfully assigned default/why to {node}; \
             best of 3 feasible nodes (3 evaluated): {node} scored "
        )),
        "{explained}"
    );
    assert!(!describe.contains("SchedulingExplained"), "{describe}");
    assert!(explained.contains("TaintToleration 100×3"), "{explained}");
    assert!(explained.contains("; runner-up sim-"), "{explained}");

    // On request, every feasible node's breakdown.
    let annotated = pod("all", &[], "100m", "").replace(
        "  name: all\n",
        "  name: all\n  annotations:\n    scheduler.rkube.io/explain: all\n",
    );
    create(&s, &annotated);
    wait_bound(&s, &["all"]);
    let all = eventually(&s, "the full explanation", 10, || {
        let events = events_of(&s, "all");
        events
            .into_iter()
            .find(|e| e.2.starts_with("scores of feasible nodes 1-3 of 3: "))
    });
    for n in ["sim-0", "sim-1", "sim-2"] {
        assert!(all.2.contains(&format!("{n} scored ")), "{all:?}");
    }
}

#[test]
fn a_scheduler_configuration_adds_profiles() {
    let config = tempfile::NamedTempFile::new().expect("temp file");
    // A bin-packing profile beside the default one.
    std::fs::write(
        config.path(),
        "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
",
    )
    .expect("writing the configuration");
    let path = config.path().display().to_string();
    let (s, _wrapper) = server_with_flags(&["--scheduler-config", &path]);
    let _sim = Sim::start(&s, 3, &["--cpu", "4"]);
    let packed = "  schedulerName: bin-packer\n";
    for n in ["packed-0", "packed-1", "packed-2"] {
        create(&s, &pod(n, &[], "500m", packed));
        wait_bound(&s, &[n]);
    }
    let nodes = wait_bound(&s, &["packed-0", "packed-1", "packed-2"]);
    assert!(nodes.iter().all(|n| *n == nodes[0]), "{nodes:?}");
    let events = events_of(&s, "packed-1");
    let explained = events.iter().find(|e| e.1 == "Scheduled");
    assert!(
        explained.is_some_and(|e| !e.2.contains("NodeResourcesBalancedAllocation")),
        "{events:?}"
    );
    // Reported by the profile that scheduled it.
    let list = get_json(
        &s,
        &["events", "--field-selector", "involvedObject.name=packed-1"],
    );
    assert_eq!(list["items"][0]["reportingComponent"], "bin-packer");
}

#[test]
fn disable_scheduler_leaves_pods_pending() {
    let (s, _wrapper) = server_with_flags(&["--disable-scheduler"]);
    let _sim = Sim::start(&s, 1, &[]);
    create(&s, &pod("waits", &[], "100m", ""));
    // Nothing to wait for when nothing happens: give a scheduler, if one
    // ran, ample time (it binds within milliseconds), then look.
    std::thread::sleep(Duration::from_secs(1));
    let p = get_json(&s, &["pod", "waits"]);
    assert!(p["spec"]["nodeName"].is_null(), "{p}");
    assert_eq!(condition(&p, "PodScheduled"), &Value::Null, "{p}");
    assert_eq!(events_of(&s, "waits"), []);
}
