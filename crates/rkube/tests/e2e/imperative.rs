//! kubectl's imperative write commands, one test per command, with every
//! resulting object checked field by field against what Kubernetes v1.32
//! stores for the same command.
//!
//! The expected objects come from upstream's sources, not from rkube: the
//! generators in kubectl (`run`'s `BasicPod`, `expose`'s `createService`,
//! `set`, `taint`'s `reorganizeTaints`, `rollout`'s `DeploymentRollbacker`)
//! and the API defaults (`SetDefaults_PodSpec`, `SetDefaults_Container`,
//! `SetDefaults_Deployment`, `SetDefaults_Service`).

use serde_json::{Value, json};

use crate::{
    Backend, OutputExt, Problems, RkubeServer, api_only_server, both_backends, create, get_json,
    manifest,
};

/// The Deployment most tests start from (`kubectl create -f`).
const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    team: a
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 8080
";

/// A container as the API server stores it: upstream's
/// `SetDefaults_Container` (image pull policy from the tag, termination
/// message path and policy), an empty `resources` (a struct the API's Go
/// types always serialize), and `protocol: TCP` on every port.
pub fn defaulted_container(mut c: Value) -> Value {
    let image = c["image"].as_str().unwrap_or_default().to_owned();
    let obj = c.as_object_mut().expect("a container object");
    let last = image.rsplit('/').next().unwrap_or_default();
    let tag = if image.contains('@') {
        Some("")
    } else {
        last.split_once(':').map(|(_, t)| t)
    };
    let policy = match tag {
        None | Some("latest") => "Always",
        Some(_) => "IfNotPresent",
    };
    obj.entry("imagePullPolicy").or_insert(json!(policy));
    obj.entry("resources").or_insert(json!({}));
    obj.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    obj.entry("terminationMessagePolicy")
        .or_insert(json!("File"));
    if let Some(ports) = obj.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            p.as_object_mut()
                .unwrap()
                .entry("protocol")
                .or_insert(json!("TCP"));
        }
    }
    c
}

/// The entries of `metadata.managedFields` written by `manager`.
pub fn managed_by<'a>(obj: &'a Value, manager: &str) -> Vec<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| entries.iter().filter(|e| e["manager"] == manager).collect())
        .unwrap_or_default()
}

/// `kubectl get ... -o json --show-managed-fields`.
pub fn get_with_managed_fields(s: &RkubeServer, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
    serde_json::from_str(&s.kubectl(&all).ok()).expect("kubectl printed JSON")
}

/// Write an executable shell script into the server's temp dir.
fn script(s: &RkubeServer, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = manifest(s, name, &format!("#!/bin/sh\nset -e\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn kubectl_run(backend: Backend) {
    let s = api_only_server(backend);
    let out = s
        .kubectl(&[
            "run",
            "web",
            "--image=nginx:1.27",
            "--labels=app=web,tier=front",
            "--port=80",
            "--env=A=1",
            "--env=B=two",
            "--restart=Never",
        ])
        .ok();
    assert_eq!(out.trim(), "pod/web created");

    let pod = get_with_managed_fields(&s, &["pod", "web"]);
    assert_eq!(
        pod["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    assert!(pod["metadata"]["annotations"].is_null(), "{pod}");
    // BasicPod: one container named after the pod; the API defaults fill in
    // the rest. (A real cluster's ServiceAccount admission would also add a
    // token volume mount; rkube has no admission plugins, so that one key is
    // not compared.)
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{pod}");
    let mut container = containers[0].clone();
    container.as_object_mut().unwrap().remove("volumeMounts");
    assert_eq!(
        container,
        defaulted_container(json!({
            "name": "web",
            "image": "nginx:1.27",
            "ports": [{"containerPort": 80}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "two"}],
        }))
    );
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Never");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["enableServiceLinks"], true);
    assert!(spec["nodeName"].is_null(), "{spec}");
    // podStrategy.PrepareForCreate: Pending, and the QoS class computed.
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(pod["status"]["qosClass"], "BestEffort");
    // `kubectl run` creates with fieldManager=kubectl-run.
    let entries = managed_by(&pod, "kubectl-run");
    assert_eq!(entries.len(), 1, "{}", pod["metadata"]["managedFields"]);
    assert_eq!(entries[0]["operation"], "Update");
    assert_eq!(entries[0]["apiVersion"], "v1");
    assert_eq!(entries[0]["fieldsType"], "FieldsV1");
    let fields = &entries[0]["fieldsV1"];
    assert!(
        fields["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:env"]["k:{\"name\":\"A\"}"]
            .is_object(),
        "{fields}"
    );
    assert!(
        fields["f:metadata"]["f:labels"]["f:tier"].is_object(),
        "{fields}"
    );
}

fn kubectl_expose(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, WEB);
    let out = s
        .kubectl(&[
            "expose",
            "deployment",
            "web",
            "--port=80",
            "--target-port=8080",
        ])
        .ok();
    assert_eq!(out.trim(), "service/web exposed");

    let svc = get_with_managed_fields(&s, &["svc", "web"]);
    let mut p = Problems::default();
    // createService: the labels are the Deployment's own labels, the
    // selector its spec.selector.matchLabels, one unnamed TCP port.
    p.eq(
        "labels",
        &svc["metadata"]["labels"],
        &json!({"app": "web", "team": "a"}),
    );
    // Besides, SetDefaults_Service and the Service REST storage (the IP
    // family defaults, the ClusterIP allocator, single-stack IPv4).
    let mut spec = svc["spec"].clone();
    let ip = spec
        .as_object_mut()
        .unwrap()
        .remove("clusterIP")
        .unwrap_or_default();
    let ips = spec
        .as_object_mut()
        .unwrap()
        .remove("clusterIPs")
        .unwrap_or_default();
    p.eq(
        "spec (but clusterIP, clusterIPs)",
        &spec,
        &json!({
            "selector": {"app": "web"},
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
        }),
    );
    let ip_text = ip.as_str().unwrap_or_default();
    p.check(
        ip_text.parse::<std::net::Ipv4Addr>().is_ok(),
        format!("spec.clusterIP: expected an allocated IPv4 address, got {ip}"),
    );
    p.check(
        ip.is_string() && ips == json!([ip]),
        format!("spec.clusterIPs: expected [clusterIP], got {ips}"),
    );
    p.eq("status", &svc["status"], &json!({"loadBalancer": {}}));
    let entries = managed_by(&svc, "kubectl-expose");
    p.check(
        entries.len() == 1 && entries[0]["operation"] == "Update",
        format!(
            "one kubectl-expose Update entry: {}",
            svc["metadata"]["managedFields"]
        ),
    );
    p.finish();
}

const MULTI: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  mode: fast
---
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 8080
";

fn create_replace_delete_multi_document_file(backend: Backend) {
    let s = api_only_server(backend);
    let file = manifest(&s, "multi.yaml", MULTI);
    // --validate=false until rkube serves the OpenAPI kubectl validates with.
    let out = s.kubectl(&["create", "--validate=false", "-f", &file]).ok();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "configmap/cfg created",
            "service/svc created",
            "deployment.apps/web created"
        ]
    );
    let cm = get_with_managed_fields(&s, &["cm", "cfg"]);
    assert_eq!(cm["data"], json!({"mode": "fast"}));
    assert_eq!(managed_by(&cm, "kubectl-create").len(), 1, "{cm}");
    let svc_before = get_json(&s, &["svc", "svc"]);
    let ip = svc_before["spec"]["clusterIP"].clone();

    // Someone labels the ConfigMap; replace is a PUT of the whole object, so
    // the label goes away again.
    s.kubectl(&["label", "cm", "cfg", "extra=yes"]).ok();
    let changed = MULTI
        .replace("mode: fast", "mode: slow")
        .replace("replicas: 1", "replicas: 3")
        .replace("  - port: 80\n", "  - name: http\n    port: 80\n");
    let file = manifest(&s, "multi-2.yaml", &changed);
    let out = s
        .kubectl(&["replace", "--validate=false", "-f", &file])
        .ok();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "configmap/cfg replaced",
            "service/svc replaced",
            "deployment.apps/web replaced"
        ]
    );
    let cm = get_with_managed_fields(&s, &["cm", "cfg"]);
    assert_eq!(cm["data"], json!({"mode": "slow"}));
    assert!(cm["metadata"]["labels"].is_null(), "{cm}");
    let replace = managed_by(&cm, "kubectl-replace");
    assert_eq!(replace.len(), 1, "{}", cm["metadata"]["managedFields"]);
    assert_eq!(replace[0]["operation"], "Update");
    // An update keeps the Service's allocated cluster IP (upstream's
    // patchAllocatedValues) though the file has none.
    let svc = get_json(&s, &["svc", "svc"]);
    assert_eq!(svc["spec"]["clusterIP"], ip);
    assert_eq!(
        svc["spec"]["ports"],
        json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}])
    );
    assert_eq!(svc["metadata"]["uid"], svc_before["metadata"]["uid"]);
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["generation"], 2);

    let out = s.kubectl(&["delete", "-f", &file]).ok();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"configmap "cfg" deleted"#,
            r#"service "svc" deleted"#,
            r#"deployment.apps "web" deleted"#
        ]
    );
    for (kind, name) in [
        ("configmaps", "cfg"),
        ("services", "svc"),
        ("deployments.apps", "web"),
    ] {
        let err = s.kubectl(&["get", kind, name]).err();
        assert_eq!(
            err.trim(),
            format!(r#"Error from server (NotFound): {kind} "{name}" not found"#)
        );
    }
}

/// The field sets `kubectl create -f` records: structured-merge-diff's
/// shape of the types (an atomic LabelSelector is one leaf; container ports
/// are a map keyed on containerPort and protocol, Service ports on port and
/// protocol).
fn create_records_upstream_field_sets(backend: Backend) {
    let s = api_only_server(backend);
    let file = manifest(&s, "multi.yaml", MULTI);
    s.kubectl(&["create", "--validate=false", "-f", &file]).ok();
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    let created = managed_by(&d, "kubectl-create");
    assert_eq!(created.len(), 1, "{}", d["metadata"]["managedFields"]);
    assert_eq!(created[0]["operation"], "Update");
    assert_eq!(created[0]["apiVersion"], "apps/v1");
    let spec = &created[0]["fieldsV1"]["f:spec"];
    let ports = &spec["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:ports"];
    let svc = get_with_managed_fields(&s, &["svc", "svc"]);
    let svc_ports = &managed_by(&svc, "kubectl-create")[0]["fieldsV1"]["f:spec"]["f:ports"];
    let mut problems = Vec::new();
    if spec["f:selector"] != json!({}) {
        problems.push(format!(
            "deployment f:spec.f:selector: expected {{}} (atomic), got {}",
            spec["f:selector"]
        ));
    }
    if !ports["k:{\"containerPort\":8080,\"protocol\":\"TCP\"}"].is_object() {
        problems.push(format!(
            "container ports: expected key k:{{\"containerPort\":8080,\"protocol\":\"TCP\"}}, got {ports}"
        ));
    }
    if !svc_ports["k:{\"port\":80,\"protocol\":\"TCP\"}"].is_object() {
        problems.push(format!(
            "service ports: expected key k:{{\"port\":80,\"protocol\":\"TCP\"}}, got {svc_ports}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn kubectl_edit(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, WEB);
    let editor = script(
        &s,
        "editor.sh",
        r#"sed -i 's/^  replicas: 1$/  replicas: 4/' "$1""#,
    );
    let out = s
        // --validate=false until rkube serves the OpenAPI kubectl validates
        // the edited object with.
        .kubectl_with(
            &["edit", "--validate=false", "deployment/web"],
            None,
            &[("KUBE_EDITOR", &editor)],
        )
        .ok();
    assert_eq!(out.trim(), "deployment.apps/web edited");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(d["spec"]["replicas"], 4);
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["metadata"]["labels"], json!({"app": "web", "team": "a"}));
    // edit does not add a last-applied annotation unless --save-config.
    assert!(d["metadata"]["annotations"].is_null(), "{d}");
    let edit = managed_by(&d, "kubectl-edit");
    assert_eq!(edit.len(), 1, "{}", d["metadata"]["managedFields"]);
    assert_eq!(edit[0]["operation"], "Update");
    assert_eq!(edit[0]["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    // The create's manager gave up spec.replicas to the editor.
    let created = managed_by(&d, "kubectl-create");
    assert_eq!(created.len(), 1);
    assert!(
        created[0]["fieldsV1"]["f:spec"]["f:replicas"].is_null(),
        "{}",
        created[0]
    );

    // An editor that changes nothing: kubectl cancels and sends nothing.
    let noop = script(&s, "noop.sh", "true");
    let rv = d["metadata"]["resourceVersion"].clone();
    let out = s.kubectl_with(
        &["edit", "--validate=false", "deployment/web"],
        None,
        &[("KUBE_EDITOR", &noop)],
    );
    assert!(out.status.success(), "{}", out.stderr_str());
    assert!(
        out.stderr_str()
            .contains("Edit cancelled, no changes made."),
        "{}",
        out.stderr_str()
    );
    assert_eq!(
        get_json(&s, &["deploy", "web"])["metadata"]["resourceVersion"],
        rv
    );
}

fn kubectl_set_image(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, WEB);
    let before = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        before["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always",
        "an untagged image defaults to Always"
    );
    let out = s
        .kubectl(&["set", "image", "deployment/web", "web=nginx:1.27"])
        .ok();
    assert_eq!(out.trim(), "deployment.apps/web image updated");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    // Only the image changes: the pull policy defaulted at creation stays.
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([defaulted_container(json!({
            "name": "web",
            "image": "nginx:1.27",
            "imagePullPolicy": "Always",
            "ports": [{"containerPort": 8080}],
        }))])
    );
    assert_eq!(d["metadata"]["generation"], 2);
    let set = managed_by(&d, "kubectl-set");
    assert_eq!(set.len(), 1, "{}", d["metadata"]["managedFields"]);
    assert_eq!(
        set[0]["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:image": {}}
        }}}}})
    );
    let err = s
        .kubectl(&["set", "image", "deployment/web", "nope=nginx:1"])
        .err();
    assert!(
        err.contains(r#"unable to find container named "nope""#),
        "{err}"
    );
}

fn kubectl_set_env(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, WEB);
    let out = s
        .kubectl(&["set", "env", "deployment/web", "A=1", "B=2"])
        .ok();
    assert_eq!(out.trim(), "deployment.apps/web env updated");
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    assert_eq!(d["metadata"]["generation"], 2);
    let out = s.kubectl(&["set", "env", "deployment/web", "--list"]).ok();
    // The header names the mapping's resource (`# apps/v1,
    // Resource=deployments web, container web`), then one line per variable.
    let lines: Vec<_> = out.lines().collect();
    assert!(
        lines[0].starts_with("# ") && lines[0].ends_with("web, container web"),
        "{out}"
    );
    assert_eq!(lines[1..], ["A=1", "B=2"]);

    s.kubectl(&["set", "env", "deployment/web", "B-"]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}])
    );
    // Removing the last variable removes the list.
    s.kubectl(&["set", "env", "deployment/web", "A-"]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    assert!(container["env"].is_null(), "{container}");
    assert_eq!(container["image"], "nginx");
    assert_eq!(d["metadata"]["generation"], 4);
}

/// A ReplicaSet as the Deployment controller would have left it.
fn replicaset(uid: &str, hash: &str, revision: u32, image: &str, cause: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-{hash}
  labels:
    app: web
    pod-template-hash: {hash}
  annotations:
    deployment.kubernetes.io/revision: \"{revision}\"
    deployment.kubernetes.io/desired-replicas: \"1\"
    deployment.kubernetes.io/max-replicas: \"2\"
    kubernetes.io/change-cause: {cause}
  ownerReferences:
  - apiVersion: apps/v1
    kind: Deployment
    name: web
    uid: {uid}
    controller: true
    blockOwnerDeletion: true
spec:
  replicas: 0
  selector:
    matchLabels:
      app: web
      pod-template-hash: {hash}
  template:
    metadata:
      labels:
        app: web
        pod-template-hash: {hash}
    spec:
      containers:
      - name: web
        image: {image}
"
    )
}

fn rollout_history_and_undo(backend: Backend) {
    let s = api_only_server(backend);
    // The Deployment at revision 2, as its controller would have annotated it.
    create(
        &s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    deployment.kubernetes.io/revision: \"2\"
    note: dropped-by-undo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
",
    );
    let uid = get_json(&s, &["deploy", "web"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    create(
        &s,
        &replicaset(&uid, "5d4c9b7f8", 1, "nginx:1.26", "deploy-1.26"),
    );
    create(
        &s,
        &replicaset(&uid, "6f7b8c9d4", 2, "nginx:1.27", "upgrade-1.27"),
    );
    // A ReplicaSet with matching labels but not controlled by the Deployment
    // is no part of its history.
    create(
        &s,
        &replicaset(
            "00000000-0000-0000-0000-000000000000",
            "7c8d9e6f5",
            3,
            "nginx:1.28",
            "stranger",
        ),
    );

    let out = s.kubectl(&["rollout", "history", "deployment/web"]).ok();
    let rows = crate::table(&out);
    assert_eq!(rows[0], ["deployment.apps/web"], "{out}");
    assert_eq!(rows[1], ["REVISION", "CHANGE-CAUSE"], "{out}");
    assert_eq!(rows[2], ["1", "deploy-1.26"], "{out}");
    assert_eq!(rows[3], ["2", "upgrade-1.27"], "{out}");
    assert_eq!(rows.iter().filter(|r| !r.is_empty()).count(), 4, "{out}");
    let out = s
        .kubectl(&["rollout", "history", "deployment/web", "--revision=1"])
        .ok();
    assert!(
        out.starts_with("deployment.apps/web with revision #1\nPod Template:\n"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Image:", "nginx:1.26"]),
        "{out}"
    );

    let out = s.kubectl(&["rollout", "undo", "deployment/web"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web rolled back");
    let d = get_json(&s, &["deploy", "web"]);
    // The previous revision's template, without its pod-template-hash label.
    let mut template = get_json(&s, &["rs", "web-5d4c9b7f8"])["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    assert_eq!(d["spec"]["template"], template);
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web"})
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([defaulted_container(
            json!({"name": "web", "image": "nginx:1.26"})
        )])
    );
    // The annotations are replaced: the Deployment keeps only the ones
    // rollback skips (its revision), and takes the ReplicaSet's others.
    assert_eq!(
        d["metadata"]["annotations"],
        json!({
            "deployment.kubernetes.io/revision": "2",
            "kubernetes.io/change-cause": "deploy-1.26",
        })
    );
    assert_eq!(d["metadata"]["generation"], 2);

    let out = s
        .kubectl(&["rollout", "undo", "deployment/web", "--to-revision=1"])
        .ok();
    assert_eq!(
        out.trim(),
        "deployment.apps/web skipped rollback (current template already matches revision 1)"
    );
    let err = s
        .kubectl(&["rollout", "undo", "deployment/web", "--to-revision=7"])
        .err();
    assert!(
        err.contains("unable to find specified revision 7 in history"),
        "{err}"
    );
    let out = s
        .kubectl(&["rollout", "undo", "deployment/web", "--to-revision=2"])
        .ok();
    assert_eq!(out.trim(), "deployment.apps/web rolled back");
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(
        d["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "upgrade-1.27"
    );
    assert_eq!(d["metadata"]["generation"], 3);
}

fn label_and_annotate_overwrite_and_remove(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, WEB);
    let out = s.kubectl(&["label", "deploy", "web", "tier=front"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web labeled");
    let err = s.kubectl(&["label", "deploy", "web", "tier=back"]).err();
    assert!(
        err.contains("'tier' already has a value (front), and --overwrite is false"),
        "{err}"
    );
    s.kubectl(&["label", "--overwrite", "deploy", "web", "tier=back"])
        .ok();
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "web", "team": "a", "tier": "back"})
    );
    // Labels on the object only: the pod template's labels are untouched.
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web"})
    );
    assert_eq!(
        d["metadata"]["generation"], 1,
        "label changes keep the generation"
    );
    let label = managed_by(&d, "kubectl-label");
    assert_eq!(label.len(), 1, "{}", d["metadata"]["managedFields"]);
    assert_eq!(
        label[0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );
    let out = s.kubectl(&["label", "deploy", "web", "tier-"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web unlabeled");
    assert_eq!(
        get_json(&s, &["deploy", "web"])["metadata"]["labels"],
        json!({"app": "web", "team": "a"})
    );

    let out = s
        .kubectl(&["annotate", "deploy", "web", "owner=alice"])
        .ok();
    assert_eq!(out.trim(), "deployment.apps/web annotated");
    let err = s.kubectl(&["annotate", "deploy", "web", "owner=bob"]).err();
    assert!(
        err.contains(
            "--overwrite is false but found the following declared annotation(s): 'owner' already has a value (alice)"
        ),
        "{err}"
    );
    s.kubectl(&[
        "annotate",
        "--overwrite",
        "deploy",
        "web",
        "owner=bob",
        "ticket=42",
    ])
    .ok();
    assert_eq!(
        get_json(&s, &["deploy", "web"])["metadata"]["annotations"],
        json!({"owner": "bob", "ticket": "42"})
    );
    s.kubectl(&["annotate", "deploy", "web", "owner-"]).ok();
    assert_eq!(
        get_json(&s, &["deploy", "web"])["metadata"]["annotations"],
        json!({"ticket": "42"})
    );
    s.kubectl(&["annotate", "deploy", "web", "ticket-"]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    // Unlike labels, a Deployment's annotations bump its generation (they
    // are copied to its ReplicaSets): four annotation changes.
    assert_eq!(d["metadata"]["generation"], 5);
    // An emptied map is not serialized (omitempty).
    assert!(d["metadata"]["annotations"].is_null(), "{}", d["metadata"]);
}

const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n";

fn taint_and_untaint(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, NODE);
    let out = s.kubectl(&["taint", "nodes", "n1", "k=v:NoSchedule"]).ok();
    assert_eq!(out.trim(), "node/n1 tainted");
    // Exactly the taint kubectl sent: no timeAdded for NoSchedule.
    assert_eq!(
        get_json(&s, &["node", "n1"])["spec"]["taints"],
        json!([{"key": "k", "value": "v", "effect": "NoSchedule"}])
    );
    // A second taint goes first (reorganizeTaints puts new taints before old).
    s.kubectl(&["taint", "nodes", "n1", "dedicated=db:PreferNoSchedule"])
        .ok();
    assert_eq!(
        get_json(&s, &["node", "n1"])["spec"]["taints"],
        json!([
            {"key": "dedicated", "value": "db", "effect": "PreferNoSchedule"},
            {"key": "k", "value": "v", "effect": "NoSchedule"},
        ])
    );
    let out = s
        .kubectl(&["taint", "nodes", "n1", "k=w:NoSchedule", "--overwrite"])
        .ok();
    assert_eq!(out.trim(), "node/n1 modified");
    assert_eq!(
        get_json(&s, &["node", "n1"])["spec"]["taints"],
        json!([
            {"key": "k", "value": "w", "effect": "NoSchedule"},
            {"key": "dedicated", "value": "db", "effect": "PreferNoSchedule"},
        ])
    );
    let out = s.kubectl(&["taint", "nodes", "n1", "k:NoSchedule-"]).ok();
    assert_eq!(out.trim(), "node/n1 untainted");
    let node = get_with_managed_fields(&s, &["node", "n1"]);
    assert_eq!(
        node["spec"]["taints"],
        json!([{"key": "dedicated", "value": "db", "effect": "PreferNoSchedule"}])
    );
    let taint = managed_by(&node, "kubectl-taint");
    assert_eq!(taint.len(), 1, "{}", node["metadata"]["managedFields"]);
    assert_eq!(taint[0]["operation"], "Update");
    // The last one, by key alone: the list goes away.
    s.kubectl(&["taint", "nodes", "n1", "dedicated-"]).ok();
    let node = get_json(&s, &["node", "n1"]);
    assert!(node["spec"]["taints"].is_null(), "{}", node["spec"]);
    let err = s.kubectl(&["taint", "nodes", "n1", "dedicated-"]).err();
    assert!(err.contains(r#"taint "dedicated" not found"#), "{err}");
}

fn cordon_and_uncordon(backend: Backend) {
    let s = api_only_server(backend);
    create(&s, NODE);
    let out = s.kubectl(&["cordon", "n1"]).ok();
    assert_eq!(out.trim(), "node/n1 cordoned");
    assert_eq!(
        get_json(&s, &["node", "n1"])["spec"],
        json!({"unschedulable": true})
    );
    let out = s.kubectl(&["cordon", "n1"]).ok();
    assert_eq!(out.trim(), "node/n1 already cordoned");
    let out = s.kubectl(&["uncordon", "n1"]).ok();
    assert_eq!(out.trim(), "node/n1 uncordoned");
    let node = get_json(&s, &["node", "n1"]);
    assert!(node["spec"]["unschedulable"].is_null(), "{}", node["spec"]);
    assert_eq!(node["spec"], json!({}));
    let out = s.kubectl(&["uncordon", "n1"]).ok();
    assert_eq!(out.trim(), "node/n1 already uncordoned");
}

both_backends!(
    kubectl_run,
    kubectl_expose,
    create_replace_delete_multi_document_file,
    create_records_upstream_field_sets,
    kubectl_edit,
    kubectl_set_image,
    kubectl_set_env,
    rollout_history_and_undo,
    label_and_annotate_overwrite_and_remove,
    taint_and_untaint,
    cordon_and_uncordon,
);
