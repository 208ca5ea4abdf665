//! Eviction and drain as the API does them (no controllers: budget status
//! is written by hand), with and without a PodDisruptionBudget in the way;
//! namespace deletion.

use serde_json::json;

use crate::{
    Backend, OutputExt, api_only_server, both_backends, configmap, create, get_json, server,
};

fn node(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n"
    )
}

fn pod_on(name: &str, node: &str, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {app}\nspec:\n  nodeName: {node}\n  containers:\n  - name: c\n    image: busybox\n"
    )
}

/// Mark a pod Running and Ready, as a kubelet would.
fn run(s: &crate::RkubeServer, pod: &str) {
    s.kubectl(&[
        "patch",
        "pod",
        pod,
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .ok();
}

fn drain_evicts_pods(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl_with(
        &["create", "--validate=false", "-f", "-"],
        Some(&node("n1")),
        &[],
    )
    .ok();
    for p in ["p1", "p2"] {
        s.kubectl_with(
            &["create", "--validate=false", "-f", "-"],
            Some(&pod_on(p, "n1", "web")),
            &[],
        )
        .ok();
        run(&s, p);
    }
    let out = s
        .kubectl(&[
            "drain",
            "n1",
            "--force",
            "--grace-period=0",
            "--timeout=60s",
        ])
        .ok();
    assert!(out.contains("node/n1 cordoned"), "{out}");
    assert!(
        out.contains("evicting pod default/p1") || out.contains("pod/p1 evicted"),
        "{out}"
    );
    assert!(out.contains("node/n1 drained"), "{out}");
    assert_eq!(get_json(&s, &["node", "n1"])["spec"]["unschedulable"], true);
    let left = s.kubectl(&["get", "pods", "-o", "name"]).ok();
    assert_eq!(left.trim(), "", "pods left after drain: {left}");
}

fn a_disruption_budget_blocks_eviction(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl_with(
        &["create", "--validate=false", "-f", "-"],
        Some(&node("n1")),
        &[],
    )
    .ok();
    s.kubectl_with(
        &["create", "--validate=false", "-f", "-"],
        Some(&pod_on("guarded", "n1", "db")),
        &[],
    )
    .ok();
    run(&s, "guarded");
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: db-pdb\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: db\n";
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(pdb), &[])
        .ok();

    // Not yet processed by a disruption controller: eviction must wait.
    let err = s
        .kubectl(&["drain", "n1", "--force", "--grace-period=0", "--timeout=7s"])
        .err();
    assert!(
        err.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{err}"
    );
    assert!(
        s.kubectl(&["get", "pod", "guarded"]).status.success(),
        "the pod must survive"
    );

    // Processed, and no disruption allowed: the API says why.
    s.kubectl(&[
        "patch", "pdb", "db-pdb", "--subresource", "status", "--type", "merge", "-p",
        r#"{"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}"#,
    ])
    .ok();
    let eviction = r#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"guarded","namespace":"default"}}"#;
    let path = s.dir.path().join("eviction.json");
    std::fs::write(&path, eviction).unwrap();
    let out = s.kubectl(&[
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/guarded/eviction",
        "-f",
        &path.display().to_string(),
    ]);
    let err = out.err();
    assert!(
        err.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{err}"
    );
    let raw = s.kubectl(&["get", "--raw", "/api/v1/namespaces/default/pods/guarded"]);
    assert!(raw.status.success());

    // One disruption allowed: the eviction goes through and uses it up.
    s.kubectl(&[
        "patch",
        "pdb",
        "db-pdb",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"disruptionsAllowed":1,"currentHealthy":2,"desiredHealthy":1}}"#,
    ])
    .ok();
    let out = s
        .kubectl(&[
            "drain",
            "n1",
            "--force",
            "--grace-period=0",
            "--timeout=30s",
        ])
        .ok();
    assert!(out.contains("drained"), "{out}");
    let pdb = get_json(&s, &["pdb", "db-pdb"]);
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
    assert!(
        pdb["status"]["disruptedPods"]["guarded"].is_string(),
        "{pdb}"
    );
    assert!(
        s.kubectl(&["get", "pod", "guarded"])
            .err()
            .contains("not found")
    );
}

fn deleting_a_namespace_deletes_its_content(backend: Backend) {
    let s = server(backend);
    create(
        &s,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n",
    );
    create(&s, &configmap("c1", "dev", &[("a", "1")]));
    create(
        &s,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: dev\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx\n",
    );
    let ns = get_json(&s, &["ns", "dev"]);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    s.kubectl(&["delete", "ns", "dev", "--timeout=60s"]).ok();
    assert!(
        s.kubectl(&["get", "ns", "dev"])
            .err()
            .contains(r#"namespaces "dev" not found"#)
    );
    let left = s
        .kubectl(&["get", "cm,deploy", "-n", "dev", "-o", "name"])
        .ok();
    assert_eq!(left.trim(), "");
    let err = s.kubectl(&["delete", "ns", "default"]).err();
    assert!(
        err.contains(r#"namespaces "default" is forbidden: this namespace may not be deleted"#),
        "{err}"
    );
}

both_backends!(
    drain_evicts_pods,
    a_disruption_budget_blocks_eviction,
    deleting_a_namespace_deletes_its_content
);
