//! Persistent volumes through the real kubectl: the binder (claims bound
//! to the smallest volume that fits, Retain volumes Released when their
//! claim goes, `FailedBinding` for claims nothing can serve) and the
//! built-in `local-path` StorageClass and provisioner (the default class;
//! `WaitForFirstConsumer`: a hostPath volume pinned to the node of the
//! claim's first pod, deleted with the claim).

use serde_json::Value;

use crate::support::{Sim, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server, table};

fn pv(name: &str, size: &str, class: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity: {{storage: {size}}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: {class}
  hostPath: {{path: /tmp/{name}}}
"
    )
}

fn pvc(name: &str, size: &str, class: Option<&str>) -> String {
    let class = class.map_or(String::new(), |c| format!("  storageClassName: \"{c}\"\n"));
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: {{storage: {size}}}
{class}"
    )
}

/// A pod mounting claim `claim`.
fn pod_using(name: &str, claim: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: app:1
    volumeMounts:
    - {{name: data, mountPath: /data}}
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: {claim}}}
"
    )
}

/// The (reason, message) of the events about object `name`.
fn events_about(s: &RkubeServer, name: &str) -> Vec<(String, String)> {
    let list = get_json(s, &["events", "-A"]);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == name)
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Wait for an event about `name` with this reason; its message.
fn wait_event(s: &RkubeServer, name: &str, reason: &str) -> String {
    eventually(s, &format!("a {reason} event about {name}"), 30, || {
        events_about(s, name)
            .into_iter()
            .find(|(r, _)| r == reason)
            .map(|(_, m)| m)
    })
}

fn phase(obj: &Value) -> &str {
    obj["status"]["phase"].as_str().unwrap_or("")
}

/// Wait until `kind/name` is in `want` phase; the object.
fn wait_phase(s: &RkubeServer, kind: &str, name: &str, want: &str) -> Value {
    eventually(s, &format!("{kind} {name} to be {want}"), 30, || {
        let obj = get_json(s, &[kind, name]);
        (phase(&obj) == want).then_some(obj)
    })
}

/// The row of a kubectl table whose first cell is `name`.
fn row(output: &str, name: &str) -> Vec<String> {
    table(output)
        .into_iter()
        .find(|r| r.first().is_some_and(|c| c == name))
        .unwrap_or_else(|| panic!("no row {name} in\n{output}"))
}

#[test]
fn a_claim_binds_the_smallest_volume_that_fits_and_releases_it() {
    let s = server(Backend::Sqlite);
    create(&s, &pv("small", "1Gi", "manual"));
    create(&s, &pv("large", "5Gi", "manual"));
    wait_phase(&s, "pv", "small", "Available");
    wait_phase(&s, "pv", "large", "Available");
    create(&s, &pvc("claim", "2Gi", Some("manual")));

    let claim = wait_phase(&s, "pvc", "claim", "Bound");
    assert_eq!(claim["spec"]["volumeName"], "large", "{claim:#}");
    let ann = &claim["metadata"]["annotations"];
    assert_eq!(ann["pv.kubernetes.io/bind-completed"], "yes", "{claim:#}");
    assert_eq!(
        ann["pv.kubernetes.io/bound-by-controller"], "yes",
        "{claim:#}"
    );
    assert_eq!(claim["status"]["capacity"]["storage"], "5Gi", "{claim:#}");
    assert_eq!(
        claim["status"]["accessModes"],
        serde_json::json!(["ReadWriteOnce"])
    );

    let large = wait_phase(&s, "pv", "large", "Bound");
    let claim_ref = &large["spec"]["claimRef"];
    assert_eq!(claim_ref["name"], "claim", "{large:#}");
    assert_eq!(claim_ref["namespace"], "default");
    assert_eq!(claim_ref["kind"], "PersistentVolumeClaim");
    assert_eq!(claim_ref["uid"], claim["metadata"]["uid"]);
    assert_eq!(
        large["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"],
        "yes"
    );
    let small = get_json(&s, &["pv", "small"]);
    assert_eq!(phase(&small), "Available");
    assert!(small["spec"]["claimRef"].is_null(), "{small:#}");

    // As kubectl shows them.
    let out = s.kubectl(&["get", "pv,pvc"]).ok();
    let r = row(&out, "persistentvolume/large");
    for cell in ["5Gi", "RWO", "Retain", "Bound", "default/claim", "manual"] {
        assert!(r.iter().any(|c| c == cell), "{cell} in {r:?}\n{out}");
    }
    let r = row(&out, "persistentvolume/small");
    assert!(r.iter().any(|c| c == "Available"), "{r:?}\n{out}");
    let r = row(&out, "persistentvolumeclaim/claim");
    assert_eq!(
        &r[1..6],
        ["Bound", "large", "5Gi", "RWO", "manual"],
        "{out}"
    );

    // The claim goes: the Retain volume is Released, still naming it.
    s.kubectl(&["delete", "pvc", "claim"]).ok();
    let large = wait_phase(&s, "pv", "large", "Released");
    assert_eq!(large["spec"]["claimRef"]["name"], "claim");
    let out = s.kubectl(&["get", "pv", "large"]).ok();
    assert!(row(&out, "large").iter().any(|c| c == "Released"), "{out}");
    assert_eq!(phase(&get_json(&s, &["pv", "small"])), "Available");

    // A claim of no class that no volume of no class serves.
    create(&s, &pvc("nothing", "1Gi", Some("")));
    let message = wait_event(&s, "nothing", "FailedBinding");
    assert_eq!(
        message,
        "no persistent volumes available for this claim and no storage class is set"
    );
    let nothing = get_json(&s, &["pvc", "nothing"]);
    assert_eq!(phase(&nothing), "Pending");
    assert!(nothing["spec"]["volumeName"].is_null(), "{nothing:#}");
}

#[test]
fn local_path_provisions_on_the_node_of_the_first_consumer() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, &pvc("data", "1Gi", Some("local-path")));

    // No consumer yet: the claim waits.
    let message = wait_event(&s, "data", "WaitForFirstConsumer");
    assert_eq!(
        message,
        "waiting for first consumer to be created before binding"
    );
    let claim = get_json(&s, &["pvc", "data"]);
    assert_eq!(phase(&claim), "Pending", "{claim:#}");
    assert!(claim["spec"]["volumeName"].is_null(), "{claim:#}");
    let pvs = get_json(&s, &["pv"]);
    assert_eq!(pvs["items"], serde_json::json!([]), "{pvs:#}");

    create(&s, &pod_using("app", "data"));
    let node = eventually(&s, "the pod to be scheduled", 30, || {
        let pod = get_json(&s, &["pod", "app"]);
        pod["spec"]["nodeName"].as_str().map(str::to_owned)
    });

    let claim = wait_phase(&s, "pvc", "data", "Bound");
    let uid = claim["metadata"]["uid"].as_str().unwrap().to_owned();
    let volume = format!("pvc-{uid}");
    assert_eq!(claim["spec"]["volumeName"], volume.as_str(), "{claim:#}");
    assert_eq!(claim["spec"]["storageClassName"], "local-path");
    let ann = &claim["metadata"]["annotations"];
    assert_eq!(ann["volume.kubernetes.io/selected-node"], node.as_str());
    assert_eq!(
        ann["volume.kubernetes.io/storage-provisioner"],
        "rancher.io/local-path"
    );
    assert_eq!(claim["status"]["capacity"]["storage"], "1Gi");

    let pv = wait_phase(&s, "pv", &volume, "Bound");
    assert_eq!(
        pv["spec"]["hostPath"],
        serde_json::json!({
            "path": format!("/var/lib/rkube/storage/{volume}_default_data"),
            "type": "DirectoryOrCreate",
        })
    );
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"],
        serde_json::json!([{"matchExpressions": [{
            "key": "kubernetes.io/hostname",
            "operator": "In",
            "values": [node],
        }]}]),
        "{pv:#}"
    );
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
    assert_eq!(pv["spec"]["storageClassName"], "local-path");
    assert_eq!(pv["spec"]["capacity"]["storage"], "1Gi");
    assert_eq!(
        pv["spec"]["accessModes"],
        serde_json::json!(["ReadWriteOnce"])
    );
    assert_eq!(pv["spec"]["claimRef"]["uid"], uid.as_str());
    assert_eq!(
        pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
        "rancher.io/local-path"
    );

    // The events of the binder and the provisioner.
    assert!(
        wait_event(&s, "data", "ExternalProvisioning").contains("'rancher.io/local-path'"),
        "{:?}",
        events_about(&s, "data")
    );
    assert_eq!(
        wait_event(&s, "data", "Provisioning"),
        "External provisioner is provisioning volume for claim \"default/data\""
    );
    assert_eq!(
        wait_event(&s, "data", "ProvisioningSucceeded"),
        format!("Successfully provisioned volume {volume}")
    );

    // Pod and claim go: the volume (reclaim policy Delete) goes too.
    s.kubectl(&["delete", "pod", "app"]).ok();
    s.kubectl(&["delete", "pvc", "data"]).ok();
    eventually(&s, "the volume to be deleted", 30, || {
        let out = s.kubectl(&["get", "pv", &volume]);
        (!out.status.success() && out.stderr_str().contains("NotFound")).then_some(())
    });
}

#[test]
fn local_path_is_the_default_storage_class() {
    let s = server(Backend::Sqlite);
    let out = eventually(&s, "the local-path StorageClass", 30, || {
        let out = s.kubectl(&["get", "storageclass"]);
        (out.status.success() && out.stdout_str().contains("local-path")).then(|| out.stdout_str())
    });
    assert_eq!(
        &row(&out, "local-path")[..5],
        [
            "local-path",
            "(default)",
            "rancher.io/local-path",
            "Delete",
            "WaitForFirstConsumer"
        ],
        "{out}"
    );
    let sc = get_json(&s, &["storageclass", "local-path"]);
    assert_eq!(
        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
        "true"
    );

    // A claim that names no class gets the default one, and waits for
    // its first consumer.
    create(&s, &pvc("plain", "1Gi", None));
    eventually(&s, "the default class on the claim", 30, || {
        let claim = get_json(&s, &["pvc", "plain"]);
        (claim["spec"]["storageClassName"] == "local-path").then_some(())
    });
    wait_event(&s, "plain", "WaitForFirstConsumer");
    assert_eq!(phase(&get_json(&s, &["pvc", "plain"])), "Pending");
}

/// In-use protection: claims and volumes carry their protection
/// finalizers; a claim a scheduled pod names, and a volume still bound,
/// stay Terminating until the pod is gone.
#[test]
fn a_claim_in_use_and_its_bound_volume_wait_for_their_pod() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(&s, &pv("kept", "1Gi", "manual"));
    create(&s, &pvc("held", "1Gi", Some("manual")));
    wait_phase(&s, "pvc", "held", "Bound");
    let claim = get_json(&s, &["pvc", "held"]);
    assert_eq!(
        claim["metadata"]["finalizers"],
        serde_json::json!(["kubernetes.io/pvc-protection"]),
        "{claim:#}"
    );
    let volume = get_json(&s, &["pv", "kept"]);
    assert_eq!(
        volume["metadata"]["finalizers"],
        serde_json::json!(["kubernetes.io/pv-protection"]),
        "{volume:#}"
    );
    create(&s, &pod_using("user", "held"));
    wait_phase(&s, "pod", "user", "Running");

    // Both deletions are accepted, neither completes while the pod runs.
    s.kubectl(&["delete", "pvc", "held", "--wait=false"]).ok();
    s.kubectl(&["delete", "pv", "kept", "--wait=false"]).ok();
    let out = s.kubectl(&["get", "pvc", "held"]).ok();
    assert_eq!(row(&out, "held")[1], "Terminating", "{out}");
    let out = s.kubectl(&["get", "pv", "kept"]).ok();
    assert!(
        row(&out, "kept").iter().any(|c| c == "Terminating"),
        "{out}"
    );
    // Give the controller every chance to get it wrong.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let claim = get_json(&s, &["pvc", "held"]);
    assert!(
        !claim["metadata"]["deletionTimestamp"].is_null(),
        "{claim:#}"
    );
    assert_eq!(
        claim["metadata"]["finalizers"],
        serde_json::json!(["kubernetes.io/pvc-protection"])
    );
    let volume = get_json(&s, &["pv", "kept"]);
    assert_eq!(phase(&volume), "Bound", "{volume:#}");

    // The pod goes: the claim goes, the volume is released, then goes.
    s.kubectl(&["delete", "pod", "user"]).ok();
    for what in [["pvc", "held"], ["pv", "kept"]] {
        eventually(
            &s,
            &format!("{} {} to be deleted", what[0], what[1]),
            30,
            || {
                let out = s.kubectl(&["get", what[0], what[1]]);
                (!out.status.success() && out.stderr_str().contains("NotFound")).then_some(())
            },
        );
    }

    // A claim nothing uses is deleted at once, finalizer and all.
    create(&s, &pvc("idle", "1Gi", Some("manual")));
    s.kubectl(&["delete", "pvc", "idle", "--timeout=30s"]).ok();
    let out = s.kubectl(&["get", "pvc", "idle"]);
    assert!(
        out.stderr_str().contains("NotFound"),
        "{}",
        out.stderr_str()
    );
}

/// The scheduler's VolumeBinding: a pod whose claim is bound to a
/// `local-path` volume goes back to that volume's node; with that node
/// cordoned it waits, saying why, and runs there once it is uncordoned.
#[test]
fn a_pod_follows_its_local_volume() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, &pvc("home", "1Gi", Some("local-path")));
    create(&s, &pod_using("first", "home"));
    let node = eventually(&s, "the first pod to be scheduled", 30, || {
        get_json(&s, &["pod", "first"])["spec"]["nodeName"]
            .as_str()
            .map(str::to_owned)
    });
    wait_phase(&s, "pvc", "home", "Bound");
    s.kubectl(&["delete", "pod", "first"]).ok();
    s.kubectl(&["cordon", &node]).ok();

    create(&s, &pod_using("second", "home"));
    let message = wait_event(&s, "second", "FailedScheduling");
    assert!(
        message.starts_with("0/2 nodes are available: ")
            && message.contains("1 node(s) had volume node affinity conflict")
            && message.contains("1 node(s) were unschedulable"),
        "{message}"
    );
    assert!(get_json(&s, &["pod", "second"])["spec"]["nodeName"].is_null());

    s.kubectl(&["uncordon", &node]).ok();
    let placed = eventually(&s, "the second pod to be scheduled", 60, || {
        get_json(&s, &["pod", "second"])["spec"]["nodeName"]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(placed, node);
}
