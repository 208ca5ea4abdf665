//! The garbage collector, through `kubectl delete --cascade=...`:
//! background, foreground and orphan deletion of a ReplicaSet (whose pods
//! the ReplicaSet controller created), of a ConfigMap owning ConfigMaps
//! (owner references set by hand), and of a custom resource owning a
//! ConfigMap.

use serde_json::Value;

use crate::support::eventually;
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server};

/// The uid of an object.
fn uid(s: &RkubeServer, what: &[&str]) -> String {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-o", "jsonpath={.metadata.uid}"]);
    s.kubectl(&args).ok()
}

/// A ConfigMap owned by `owners` (apiVersion, kind, name, uid, block).
fn owned_configmap(name: &str, owners: &[(&str, &str, &str, &str, bool)]) -> String {
    let mut y =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  ownerReferences:\n");
    for (api_version, kind, owner, uid, block) in owners {
        y.push_str(&format!(
            "  - apiVersion: {api_version}\n    kind: {kind}\n    name: {owner}\n    uid: {uid}\n    blockOwnerDeletion: {block}\n"
        ));
    }
    y
}

fn exists(s: &RkubeServer, what: &[&str]) -> bool {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    s.kubectl(&args).status.success()
}

fn gone(s: &RkubeServer, what: &[&str]) {
    eventually(s, &format!("{what:?} to be deleted"), 30, || {
        (!exists(s, what)).then_some(())
    });
}

/// The owner references of an object.
fn owner_uids(s: &RkubeServer, what: &[&str]) -> Vec<String> {
    let obj = get_json(s, what);
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["uid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn replicaset(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      rs: {name}\n  template:\n    metadata:\n      labels:\n        rs: {name}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n"
    )
}

/// The pods of a ReplicaSet (by label), once it has two.
fn pods_of(s: &RkubeServer, rs: &str) -> Vec<Value> {
    let selector = format!("rs={rs}");
    eventually(s, &format!("the pods of {rs}"), 30, || {
        let items = get_json(s, &["pods", "-l", &selector])["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (items.len() == 2).then_some(items)
    })
}

fn pod_count(s: &RkubeServer, rs: &str) -> usize {
    let selector = format!("rs={rs}");
    get_json(s, &["pods", "-l", &selector])["items"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn deleting_a_replicaset_cascades_as_asked() {
    let s = server(Backend::Sqlite);
    for rs in ["bg", "fg", "or"] {
        create(&s, &replicaset(rs));
        pods_of(&s, rs);
    }

    // Background: the ReplicaSet goes at once, its pods after.
    s.kubectl(&["delete", "rs", "bg", "--cascade=background"])
        .ok();
    eventually(&s, "the pods of bg to be deleted", 30, || {
        (pod_count(&s, "bg") == 0).then_some(())
    });

    // Foreground: kubectl waits for the ReplicaSet, which waits for its
    // pods.
    s.kubectl(&[
        "delete",
        "rs",
        "fg",
        "--cascade=foreground",
        "--timeout=30s",
    ])
    .ok();
    assert_eq!(pod_count(&s, "fg"), 0);

    // Orphan: the pods stay, without their owner.
    s.kubectl(&["delete", "rs", "or", "--cascade=orphan", "--timeout=30s"])
        .ok();
    assert!(!exists(&s, &["rs", "or"]));
    let pods = pods_of(&s, "or");
    for p in pods {
        assert!(p["metadata"]["ownerReferences"].is_null(), "{p}");
    }
}

#[test]
fn configmaps_owning_configmaps() {
    let s = server(Backend::Sqlite);
    create(&s, &crate::configmap("other", "default", &[]));
    let other = uid(&s, &["configmap", "other"]);
    for policy in ["background", "foreground", "orphan"] {
        let parent = format!("parent-{policy}");
        create(&s, &crate::configmap(&parent, "default", &[]));
        let p = uid(&s, &["configmap", &parent]);
        let a = format!("{policy}-a");
        let b = format!("{policy}-b");
        let both = format!("{policy}-both");
        create(
            &s,
            &owned_configmap(&a, &[("v1", "ConfigMap", &parent, &p, false)]),
        );
        create(
            &s,
            &owned_configmap(&b, &[("v1", "ConfigMap", &parent, &p, true)]),
        );
        create(
            &s,
            &owned_configmap(
                &both,
                &[
                    ("v1", "ConfigMap", &parent, &p, false),
                    ("v1", "ConfigMap", "other", &other, false),
                ],
            ),
        );
        let cascade = format!("--cascade={policy}");
        s.kubectl(&["delete", "configmap", &parent, &cascade, "--timeout=30s"])
            .ok();
        assert!(!exists(&s, &["configmap", &parent]));
        match policy {
            "orphan" => {
                // Released, not deleted.
                for d in [&a, &b] {
                    assert!(owner_uids(&s, &["configmap", d]).is_empty(), "{d}");
                }
                assert_eq!(
                    owner_uids(&s, &["configmap", &both]),
                    std::slice::from_ref(&other)
                );
            }
            "foreground" => {
                // The blocking dependent went before its owner.
                assert!(!exists(&s, &["configmap", &b]));
                gone(&s, &["configmap", &a]);
            }
            _ => {
                gone(&s, &["configmap", &a]);
                gone(&s, &["configmap", &b]);
            }
        }
        if policy != "orphan" {
            // An object with another owner stays, without the reference.
            eventually(&s, "the dangling reference to go", 30, || {
                (owner_uids(&s, &["configmap", &both]) == [other.clone()]).then_some(())
            });
        }
    }

    // A dependent whose owner never existed goes.
    create(
        &s,
        &owned_configmap(
            "stray",
            &[(
                "v1",
                "ConfigMap",
                "nobody",
                "00000000-0000-0000-0000-000000000000",
                false,
            )],
        ),
    );
    gone(&s, &["configmap", "stray"]);
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

#[test]
fn custom_resources_own_configmaps() {
    let s = server(Backend::Sqlite);
    create(&s, CRD);
    eventually(&s, "widgets to be served", 30, || {
        let out = s.kubectl(&["api-resources", "--api-group=example.com"]);
        out.stdout_str().contains("widgets").then_some(())
    });
    for policy in ["background", "foreground", "orphan"] {
        let w = format!("w-{policy}");
        create(
            &s,
            &format!("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {w}\n"),
        );
        let u = uid(&s, &["widget", &w]);
        let cm = format!("cm-{policy}");
        create(
            &s,
            &owned_configmap(&cm, &[("example.com/v1", "Widget", &w, &u, true)]),
        );
        let cascade = format!("--cascade={policy}");
        s.kubectl(&["delete", "widget", &w, &cascade, "--timeout=30s"])
            .ok();
        assert!(!exists(&s, &["widget", &w]));
        match policy {
            "orphan" => assert!(owner_uids(&s, &["configmap", &cm]).is_empty()),
            "foreground" => assert!(!exists(&s, &["configmap", &cm])),
            _ => gone(&s, &["configmap", &cm]),
        }
    }
}
