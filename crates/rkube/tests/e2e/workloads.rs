//! The ReplicaSet and Deployment controllers inside `rkube server`,
//! through the real kubectl, with simulated nodes (`rkube sim`) running
//! the pods: replicas are kept, orphans adopted and strays released,
//! Deployments roll out, roll back, pause, scale and report progress as
//! `kubectl rollout` expects.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, fixture, get_json, server};

/// Names of the pods with `label`, and how many are Running and Ready.
fn pods_with(s: &RkubeServer, label: &str) -> (BTreeSet<String>, usize) {
    let list = get_json(s, &["pods", "-l", label]);
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let live: Vec<&Value> = items
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    let running = live
        .iter()
        .filter(|p| p["status"]["phase"] == "Running" && condition(p, "Ready")["status"] == "True")
        .count();
    let names = live
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    (names, running)
}

/// Wait until exactly `n` live pods with `label` exist, all running.
fn wait_pods(s: &RkubeServer, label: &str, n: usize) -> BTreeSet<String> {
    eventually(s, &format!("{n} running pods with {label}"), 60, || {
        let (names, running) = pods_with(s, label);
        (names.len() == n && running == n).then_some(names)
    })
}

const RS: &str = "apiVersion: apps/v1
kind: ReplicaSet
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
";

#[test]
fn a_replica_set_keeps_its_replicas() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, RS);
    let first = wait_pods(&s, "app=web", 3);
    eventually(&s, "status.readyReplicas 3", 20, || {
        let rs = get_json(&s, &["rs", "web"]);
        (rs["status"]["readyReplicas"] == 3
            && rs["status"]["availableReplicas"] == 3
            && rs["status"]["fullyLabeledReplicas"] == 3
            && rs["status"]["observedGeneration"] == rs["metadata"]["generation"])
            .then_some(())
    });
    // Pods are named after the ReplicaSet and controlled by it.
    let pod = get_json(&s, &["pod", first.iter().next().unwrap()]);
    let owner = &pod["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "ReplicaSet");
    assert_eq!(owner["name"], "web");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    assert!(first.iter().all(|n| n.starts_with("web-")));

    // A deleted pod is replaced.
    let victim = first.iter().next().unwrap().clone();
    s.kubectl(&["delete", "pod", &victim, "--wait=false"]).ok();
    let replaced = eventually(&s, "a replacement pod", 60, || {
        let (names, running) = pods_with(&s, "app=web");
        (names.len() == 3 && running == 3 && !names.contains(&victim)).then_some(names)
    });
    assert_eq!(replaced.intersection(&first).count(), 2);

    // Scaling up and down.
    s.kubectl(&["scale", "rs", "web", "--replicas=5"]).ok();
    wait_pods(&s, "app=web", 5);
    s.kubectl(&["scale", "rs", "web", "--replicas=1"]).ok();
    let one = wait_pods(&s, "app=web", 1);

    // An orphan that matches is adopted, and the surplus goes.
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stray\n  labels: {app: web}\nspec:\n  containers:\n  - {name: c, image: nginx}\n",
    );
    eventually(&s, "the orphan adopted and one pod left", 60, || {
        let (names, _) = pods_with(&s, "app=web");
        (names.len() == 1).then_some(())
    });
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=web",
        ])
        .ok();
    assert!(events.contains("SuccessfulCreate"), "{events}");
    assert!(events.contains("SuccessfulDelete"), "{events}");

    // A pod relabelled out of the selector is released and replaced.
    let kept = pods_with(&s, "app=web").0.into_iter().next().unwrap();
    let _ = one;
    s.kubectl(&["label", "pod", &kept, "app=other", "--overwrite"])
        .ok();
    eventually(&s, "the relabelled pod released", 60, || {
        let pod = get_json(&s, &["pod", &kept]);
        pod["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|o| o.is_empty())
            .then_some(())
    });
    let (names, _) = wait_pods_named(&s, 1);
    assert!(!names.contains(&kept));
}

#[test]
fn a_replication_controller_keeps_its_replicas() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    // The selector is left out: the API defaults it to the template's
    // labels.
    create(
        &s,
        "apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: legacy}
    spec:
      containers:
      - {name: c, image: nginx}
",
    );
    let first = wait_pods(&s, "app=legacy", 3);
    eventually(&s, "the RC's status", 20, || {
        let rc = get_json(&s, &["rc", "legacy"]);
        (rc["status"]["replicas"] == 3
            && rc["status"]["readyReplicas"] == 3
            && rc["status"]["availableReplicas"] == 3
            && rc["status"]["fullyLabeledReplicas"] == 3
            && rc["status"]["observedGeneration"] == rc["metadata"]["generation"])
            .then_some(())
    });
    let pod = get_json(&s, &["pod", first.iter().next().unwrap()]);
    let owner = &pod["metadata"]["ownerReferences"][0];
    assert_eq!(owner["apiVersion"], "v1");
    assert_eq!(owner["kind"], "ReplicationController");
    assert_eq!(owner["name"], "legacy");
    assert_eq!(owner["controller"], true);
    // `kubectl get rc` reads the status.
    let out = s.kubectl(&["get", "rc", "legacy"]).ok();
    assert_eq!(
        crate::table(&out)[1][..4],
        ["legacy", "3", "3", "3"],
        "{out}"
    );

    // A deleted pod is replaced; scaling works through the scale
    // subresource.
    let victim = first.iter().next().unwrap().clone();
    s.kubectl(&["delete", "pod", &victim, "--wait=false"]).ok();
    eventually(&s, "a replacement pod", 60, || {
        let (names, running) = pods_with(&s, "app=legacy");
        (names.len() == 3 && running == 3 && !names.contains(&victim)).then_some(())
    });
    s.kubectl(&["scale", "rc", "legacy", "--replicas=1"]).ok();
    wait_pods(&s, "app=legacy", 1);
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=ReplicationController,involvedObject.name=legacy",
        ])
        .ok();
    assert!(events.contains("SuccessfulCreate"), "{events}");
    assert!(events.contains("SuccessfulDelete"), "{events}");

    // Deleting it deletes its pods (garbage collection by owner).
    s.kubectl(&["delete", "rc", "legacy"]).ok();
    eventually(&s, "the pods to go", 60, || {
        pods_with(&s, "app=legacy").0.is_empty().then_some(())
    });
}

fn wait_pods_named(s: &RkubeServer, n: usize) -> (BTreeSet<String>, usize) {
    eventually(s, "a replacement for the released pod", 60, || {
        let r = pods_with(s, "app=web");
        (r.0.len() == n && r.1 == n).then_some(r)
    })
}

fn rollout_status(s: &RkubeServer, deploy: &str) -> String {
    s.kubectl(&["rollout", "status", deploy, "--timeout=60s"])
        .ok()
}

fn image_of(s: &RkubeServer, deploy: &str) -> String {
    get_json(s, &[deploy])["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Revisions listed by `kubectl rollout history`.
fn history(s: &RkubeServer, deploy: &str) -> Vec<String> {
    s.kubectl(&["rollout", "history", deploy])
        .ok()
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_seed_deployment_rolls_out_rolls_back_and_scales() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 3, &[]);
    s.kubectl(&["apply", "-f", &fixture("seed/tomcat.yaml")])
        .ok();
    let out = rollout_status(&s, "deployment/tomcat-deploy");
    assert!(out.contains("successfully rolled out"), "{out}");
    let first = wait_pods(&s, "app=tomcat", 3);
    // Pods carry the template hash of their ReplicaSet.
    let rs_list = get_json(&s, &["rs", "-l", "app=tomcat"]);
    let rs = &rs_list["items"][0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(rs["metadata"]["name"], format!("tomcat-deploy-{hash}"));
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash
    );
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert!(
        first
            .iter()
            .all(|p| p.starts_with(&format!("tomcat-deploy-{hash}-")))
    );
    let d = get_json(&s, &["deployment", "tomcat-deploy"]);
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(
        condition(&d, "Available")["reason"],
        "MinimumReplicasAvailable"
    );
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );

    // A new image rolls out as a new ReplicaSet; the old one is emptied.
    s.kubectl(&[
        "set",
        "image",
        "deployment/tomcat-deploy",
        "tomcat=tomcat:9",
    ])
    .ok();
    let out = rollout_status(&s, "deployment/tomcat-deploy");
    assert!(out.contains("successfully rolled out"), "{out}");
    let second = wait_pods(&s, "app=tomcat", 3);
    assert!(second.is_disjoint(&first));
    assert_eq!(history(&s, "deployment/tomcat-deploy"), ["1", "2"]);
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=tomcat-deploy",
        ])
        .ok();
    assert!(
        events.contains("Scaled down replica set tomcat-deploy-"),
        "{events}"
    );

    // Undo goes back to the first template, now revision 3.
    s.kubectl(&["rollout", "undo", "deployment/tomcat-deploy"])
        .ok();
    rollout_status(&s, "deployment/tomcat-deploy");
    assert_eq!(
        image_of(&s, "deployment/tomcat-deploy"),
        "tomcat:8.5.32-jre8-alpine"
    );
    assert_eq!(history(&s, "deployment/tomcat-deploy"), ["2", "3"]);
    let back = get_json(&s, &["rs", &format!("tomcat-deploy-{hash}")]);
    assert_eq!(back["spec"]["replicas"], 3);
    assert_eq!(
        back["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );

    // Scaling.
    s.kubectl(&["scale", "deployment/tomcat-deploy", "--replicas=5"])
        .ok();
    wait_pods(&s, "app=tomcat", 5);
    s.kubectl(&["scale", "deployment/tomcat-deploy", "--replicas=2"])
        .ok();
    wait_pods(&s, "app=tomcat", 2);

    // Paused: template changes wait; resumed: they roll out.
    s.kubectl(&["rollout", "pause", "deployment/tomcat-deploy"])
        .ok();
    s.kubectl(&[
        "set",
        "image",
        "deployment/tomcat-deploy",
        "tomcat=tomcat:10",
    ])
    .ok();
    eventually(&s, "the paused condition", 20, || {
        let d = get_json(&s, &["deployment", "tomcat-deploy"]);
        (condition(&d, "Progressing")["reason"] == "DeploymentPaused").then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let rs_count = get_json(&s, &["rs", "-l", "app=tomcat"])["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(rs_count, 2, "no new ReplicaSet while paused");
    s.kubectl(&["rollout", "resume", "deployment/tomcat-deploy"])
        .ok();
    rollout_status(&s, "deployment/tomcat-deploy");
    assert_eq!(history(&s, "deployment/tomcat-deploy"), ["2", "3", "4"]);

    // Restart: a new ReplicaSet with the restartedAt annotation.
    s.kubectl(&["rollout", "restart", "deployment/tomcat-deploy"])
        .ok();
    rollout_status(&s, "deployment/tomcat-deploy");
    assert_eq!(
        history(&s, "deployment/tomcat-deploy"),
        ["2", "3", "4", "5"]
    );
}

#[test]
fn recreate_stops_the_old_pods_first_and_history_is_limited() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: rec
spec:
  replicas: 2
  revisionHistoryLimit: 1
  strategy: {type: Recreate}
  selector:
    matchLabels: {app: rec}
  template:
    metadata:
      labels: {app: rec}
    spec:
      containers:
      - {name: c, image: nginx:1}
",
    );
    rollout_status(&s, "deployment/rec");
    for tag in ["2", "3"] {
        s.kubectl(&["set", "image", "deployment/rec", &format!("c=nginx:{tag}")])
            .ok();
        rollout_status(&s, "deployment/rec");
    }
    wait_pods(&s, "app=rec", 2);
    // Recreate: each new ReplicaSet went from 0 to full size in one step,
    // after the old one went to 0.
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=rec",
            "-o",
            "json",
        ])
        .ok();
    let events: Value = serde_json::from_str(&events).unwrap();
    let messages: Vec<String> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("to 0 from 2")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .filter(|m| m.starts_with("Scaled up"))
            .all(|m| m.ends_with("to 2 from 0")),
        "{messages:?}"
    );
    // One old ReplicaSet kept beside the current one.
    eventually(&s, "old ReplicaSets cleaned up", 20, || {
        let n = get_json(&s, &["rs", "-l", "app=rec"])["items"]
            .as_array()
            .map_or(0, Vec::len);
        (n == 2).then_some(())
    });
}

#[test]
fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      nodeSelector: {nowhere: \"true\"}
      containers:
      - {name: c, image: nginx}
",
    );
    eventually(&s, "ProgressDeadlineExceeded", 30, || {
        let d = get_json(&s, &["deployment", "stuck"]);
        let c = condition(&d, "Progressing");
        (c["status"] == "False" && c["reason"] == "ProgressDeadlineExceeded").then(|| {
            let message = c["message"].as_str().unwrap_or("");
            assert!(message.ends_with("has timed out progressing."), "{message}");
        })
    });
    let err = s
        .kubectl(&["rollout", "status", "deployment/stuck", "--timeout=20s"])
        .err();
    assert!(err.contains("exceeded its progress deadline"), "{err}");
}

/// The controllers and the scheduler also run as processes of their own
/// (`rkube controller-manager`, `rkube scheduler`) against a server
/// started without them: the seed's Deployment rolls out as with the
/// all-in-one server, and the pods' events name the standalone scheduler.
#[test]
fn standalone_controller_manager_and_scheduler_run_a_deployment() {
    let s = crate::RkubeServer::start_with_flags(
        env!("CARGO_BIN_EXE_rkube"),
        Backend::Sqlite,
        &["--disable-controllers", "--disable-scheduler"],
    );
    let _sim = Sim::start(&s, 2, &[]);
    s.kubectl(&["apply", "-f", &fixture("seed/tomcat.yaml")])
        .ok();
    // Nothing happens without them.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let rs = get_json(&s, &["rs"]);
    assert_eq!(rs["items"], serde_json::json!([]), "{rs:#}");

    let _controllers = crate::support::Component::start(&s, "controller-manager");
    let _scheduler = crate::support::Component::start(&s, "scheduler");
    let out = rollout_status(&s, "deployment/tomcat-deploy");
    assert!(out.contains("successfully rolled out"), "{out}");
    let pods = wait_pods(&s, "app=tomcat", 3);
    let events = get_json(&s, &["events", "--field-selector", "reason=Scheduled"]);
    for pod in &pods {
        let scheduled = events["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["involvedObject"]["name"] == pod.as_str())
            .unwrap_or_else(|| panic!("no Scheduled event for {pod}: {events:#}"));
        assert_eq!(scheduled["reportingComponent"], "default-scheduler");
    }
}

/// Events alike but for their message are combined, as upstream's event
/// aggregator does: after nine `Created pod` events about a ReplicaSet,
/// the rest count on one "(combined from similar events)" event.
#[test]
fn similar_events_are_combined() {
    let s = server(Backend::Sqlite);
    create(&s, &RS.replace("replicas: 3", "replicas: 12"));
    let plain = eventually(&s, "the combined event to count 3", 30, || {
        let list = get_json(
            &s,
            &[
                "events",
                "--field-selector",
                "involvedObject.name=web,reason=SuccessfulCreate",
            ],
        );
        let items = list["items"].as_array()?.clone();
        let (combined, plain): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("(combined from similar events): Created pod: web-"))
        });
        (combined.len() == 1 && combined[0]["count"] == 3).then_some(plain)
    });
    assert_eq!(plain.len(), 9, "{plain:#?}");
    assert!(plain.iter().all(|e| {
        e["count"] == 1
            && e["message"]
                .as_str()
                .unwrap()
                .starts_with("Created pod: web-")
    }));
    let out = s.kubectl(&["describe", "rs", "web"]).ok();
    assert!(
        out.contains("(combined from similar events): Created pod: web-"),
        "{out}"
    );
}
