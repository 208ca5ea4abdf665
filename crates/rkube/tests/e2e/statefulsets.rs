//! The StatefulSet controller inside `rkube server`, through the real
//! kubectl, with simulated nodes: stable pod names and claims, ordered
//! creation and reverse-ordered scale-down, rolling updates from the
//! highest ordinal down to the partition, and the claim retention policy.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server};

const STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: app:1
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
";

/// Pods of the set by name: (terminating, running and ready, revision).
fn pods(s: &RkubeServer) -> BTreeMap<String, (bool, bool, String)> {
    let list = get_json(s, &["pods", "-l", "app=web"]);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                (
                    !p["metadata"]["deletionTimestamp"].is_null(),
                    p["status"]["phase"] == "Running" && condition(p, "Ready")["status"] == "True",
                    p["metadata"]["labels"]["controller-revision-hash"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                ),
            )
        })
        .collect()
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("web-{i}")).collect()
}

/// Wait until exactly `web-0..web-{n-1}` run and are ready, checking on
/// every look that pods appear in ordinal order, each after its
/// predecessors are ready.
fn wait_ordered(s: &RkubeServer, n: usize) -> BTreeMap<String, (bool, bool, String)> {
    eventually(s, &format!("{n} ready pods in order"), 60, || {
        let now = pods(s);
        let live: Vec<&String> = now.keys().collect();
        // Names sort as ordinals below 10: the pods are a prefix.
        let expected = names(live.len());
        assert_eq!(
            live.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            expected,
            "pods appear in ordinal order"
        );
        for (i, name) in expected.iter().enumerate() {
            if i + 1 < expected.len() && !now[name].0 {
                assert!(
                    now[name].1,
                    "{name} is ready before a successor exists: {now:?}"
                );
            }
        }
        (now.len() == n && now.values().all(|p| p.1 && !p.0)).then_some(now)
    })
}

fn status(s: &RkubeServer) -> Value {
    get_json(s, &["sts", "web"])
}

#[test]
fn a_stateful_set_orders_its_pods_and_claims() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, STS);
    let first = wait_ordered(&s, 3);

    // Each pod was created only once its predecessor was ready.
    for i in 1..3 {
        let prev = get_json(&s, &["pod", &format!("web-{}", i - 1)]);
        let pod = get_json(&s, &["pod", &format!("web-{i}")]);
        let ready_at = condition(&prev, "Ready")["lastTransitionTime"]
            .as_str()
            .unwrap()
            .to_owned();
        let created = pod["metadata"]["creationTimestamp"].as_str().unwrap();
        assert!(
            ready_at.as_str() <= created,
            "web-{i} created {created}, before {ready_at}"
        );
    }

    // Identity and claims.
    let pod = get_json(&s, &["pod", "web-1"]);
    assert_eq!(pod["spec"]["hostname"], "web-1");
    assert_eq!(pod["spec"]["subdomain"], "web");
    assert_eq!(
        pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "web-1"
    );
    assert_eq!(
        pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
        "1"
    );
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "data")
        .cloned()
        .unwrap();
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "data-web-1");
    for i in 0..3 {
        let pvc = get_json(&s, &["pvc", &format!("data-web-{i}")]);
        assert_eq!(pvc["metadata"]["labels"]["app"], "web");
        assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
    }

    // Status and revisions.
    let st = eventually(&s, "status of 3 ready replicas", 30, || {
        let st = status(&s);
        (st["status"]["readyReplicas"] == 3
            && st["status"]["availableReplicas"] == 3
            && st["status"]["currentReplicas"] == 3
            && st["status"]["updatedReplicas"] == 3
            && st["status"]["observedGeneration"] == st["metadata"]["generation"])
            .then_some(st)
    });
    let rev1 = st["status"]["currentRevision"].as_str().unwrap().to_owned();
    assert_eq!(st["status"]["updateRevision"], rev1.as_str());
    assert!(first.values().all(|p| p.2 == rev1));
    let cr = get_json(&s, &["controllerrevision", &rev1]);
    assert_eq!(cr["revision"], 1);
    let out = s
        .kubectl(&["rollout", "status", "sts/web", "--timeout=30s"])
        .ok();
    assert!(
        out.contains("roll out complete") || out.contains("rolling update complete"),
        "{out}"
    );

    // Scale down: the highest ordinal goes first, one at a time; claims
    // are kept (Retain).
    s.kubectl(&["scale", "sts", "web", "--replicas=1"]).ok();
    eventually(&s, "scaled down to web-0", 60, || {
        let now = pods(&s);
        let gone = |n: &str| now.get(n).is_none_or(|p| p.0);
        if gone("web-1") {
            assert!(
                !now.contains_key("web-2"),
                "web-1 went before web-2: {now:?}"
            );
        }
        (now.len() == 1 && now.contains_key("web-0")).then_some(())
    });
    get_json(&s, &["pvc", "data-web-2"]);
    let events = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=web",
        ])
        .ok();
    assert!(
        events.contains("create Pod web-2 in StatefulSet web successful"),
        "{events}"
    );
    assert!(
        events.contains("delete Pod web-2 in StatefulSet web successful"),
        "{events}"
    );
    assert!(
        events.contains("create Claim data-web-0 Pod web-0 in StatefulSet web success"),
        "{events}"
    );

    s.kubectl(&["scale", "sts", "web", "--replicas=3"]).ok();
    wait_ordered(&s, 3);

    // A rolling update with a partition: from the highest ordinal down,
    // ordinals below the partition keep the old revision.
    s.kubectl(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},"template":{"spec":{"containers":[{"name":"c","image":"app:2"}]}}}}"#,
    ])
    .ok();
    let rev2 = eventually(&s, "web-1 and web-2 updated", 60, || {
        let st = status(&s);
        let rev2 = st["status"]["updateRevision"].as_str()?.to_owned();
        if rev2 == rev1 {
            return None;
        }
        let now = pods(&s);
        if now.get("web-1").is_some_and(|p| p.2 == rev2) {
            assert!(
                now.get("web-2").is_some_and(|p| p.2 == rev2),
                "web-1 updated before web-2: {now:?}"
            );
        }
        (now.len() == 3
            && now.values().all(|p| p.1 && !p.0)
            && now["web-2"].2 == rev2
            && now["web-1"].2 == rev2
            && st["status"]["updatedReplicas"] == 2)
            .then_some(rev2)
    });
    // The partition holds web-0 on the old revision.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let now = pods(&s);
    assert_eq!(now["web-0"].2, rev1, "{now:?}");
    let st = status(&s);
    assert_eq!(st["status"]["currentRevision"], rev1.as_str());
    assert_eq!(st["status"]["currentReplicas"], 1);
    assert_eq!(
        get_json(&s, &["pod", "web-0"])["spec"]["containers"][0]["image"],
        "app:1"
    );
    assert_eq!(
        get_json(&s, &["pod", "web-2"])["spec"]["containers"][0]["image"],
        "app:2"
    );

    // Lifting the partition completes the update.
    s.kubectl(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ])
    .ok();
    eventually(&s, "every pod updated", 60, || {
        let st = status(&s);
        let now = pods(&s);
        (now.len() == 3
            && now.values().all(|p| p.1 && !p.0 && p.2 == rev2)
            && st["status"]["currentRevision"] == rev2.as_str()
            && st["status"]["currentReplicas"] == 3
            && st["status"]["updatedReplicas"] == 3)
            .then_some(())
    });

    // Undo: back to the first template, as the newest revision.
    s.kubectl(&["rollout", "undo", "sts/web"]).ok();
    eventually(&s, "every pod back on app:1", 60, || {
        let st = status(&s);
        let now = pods(&s);
        (now.len() == 3
            && now.values().all(|p| p.1 && !p.0 && p.2 == rev1)
            && st["status"]["currentRevision"] == rev1.as_str()
            && st["status"]["updateRevision"] == rev1.as_str())
        .then_some(())
    });
    assert_eq!(get_json(&s, &["controllerrevision", &rev1])["revision"], 3);
    assert_eq!(
        get_json(&s, &["pod", "web-0"])["spec"]["containers"][0]["image"],
        "app:1"
    );

    // whenScaled: Delete — claims of scaled-down pods go with them.
    s.kubectl(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}}"#,
    ])
    .ok();
    s.kubectl(&["scale", "sts", "web", "--replicas=2"]).ok();
    eventually(&s, "data-web-2 deleted with web-2", 60, || {
        let out = s.kubectl(&["get", "pvc", "-o", "name"]).ok();
        (!out.contains("data-web-2") && out.contains("data-web-1")).then_some(())
    });
    assert_eq!(pods(&s).len(), 2);

    // OnDelete: a new template waits until a pod is deleted by hand.
    s.kubectl(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"template":{"spec":{"containers":[{"name":"c","image":"app:3"}]}}}}"#,
    ])
    .ok();
    let rev3 = eventually(&s, "a third revision", 30, || {
        let st = status(&s);
        let rev = st["status"]["updateRevision"].as_str()?.to_owned();
        (rev != rev1 && rev != rev2).then_some(rev)
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(pods(&s).values().all(|p| p.2 == rev1), "{:?}", pods(&s));
    s.kubectl(&["delete", "pod", "web-1", "--wait=false"]).ok();
    eventually(&s, "web-1 recreated on the new revision", 30, || {
        let now = pods(&s);
        (now.get("web-1").is_some_and(|p| p.1 && !p.0 && p.2 == rev3)).then_some(())
    });
    assert_eq!(pods(&s)["web-0"].2, rev1);

    // whenDeleted: Delete — the set owns its claims, which go with it.
    s.kubectl(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"}}}"#,
    ])
    .ok();
    eventually(&s, "the claims owned by the set", 30, || {
        ["data-web-0", "data-web-1"]
            .iter()
            .all(|c| {
                get_json(&s, &["pvc", c])["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| r["kind"] == "StatefulSet"))
            })
            .then_some(())
    });
    s.kubectl(&["delete", "sts", "web", "--wait=false"]).ok();
    eventually(&s, "the claims deleted with the set", 60, || {
        let out = s.kubectl(&["get", "pvc", "-o", "name"]).ok();
        (!out.contains("data-web-0") && !out.contains("data-web-1")).then_some(())
    });
}

/// Pods of a set that can never be scheduled (a node selector no node
/// matches): OrderedReady creates only the first, Parallel all of them.
#[test]
fn pod_management_policies() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    let stuck = |name: &str, policy: &str| {
        STS.replace("name: web\n", &format!("name: {name}\n"))
            .replace("app: web", &format!("app: {name}"))
            .replace(
                "  replicas: 3\n",
                &format!("  replicas: 3\n  podManagementPolicy: {policy}\n"),
            )
            .replace(
                "      terminationGracePeriodSeconds: 1\n",
                "      terminationGracePeriodSeconds: 1\n      nodeSelector: {nowhere: \"true\"}\n",
            )
    };
    create(&s, &stuck("ordered", "OrderedReady"));
    create(&s, &stuck("par", "Parallel"));
    let all = |label: &str| {
        let list = get_json(&s, &["pods", "-l", label]);
        let mut names: Vec<String> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    eventually(&s, "every Parallel pod created", 30, || {
        (all("app=par") == ["par-0", "par-1", "par-2"]).then_some(())
    });
    eventually(&s, "the first OrderedReady pod created", 30, || {
        (all("app=ordered") == ["ordered-0"]).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(all("app=ordered"), ["ordered-0"]);
    let st = get_json(&s, &["sts", "ordered"]);
    assert_eq!(st["status"]["replicas"], 1);
    assert_eq!(st["status"]["readyReplicas"], 0);
    // Claims exist for every created pod.
    let pvcs = s.kubectl(&["get", "pvc", "-o", "name"]).ok();
    for claim in ["data-par-0", "data-par-1", "data-par-2", "data-ordered-0"] {
        assert!(pvcs.contains(claim), "{pvcs}");
    }
    assert!(!pvcs.contains("data-ordered-1"), "{pvcs}");
}
