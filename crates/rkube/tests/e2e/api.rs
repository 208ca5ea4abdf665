//! The everyday verbs, through kubectl: watch, label, annotate, scale,
//! replace, patch, delete, finalizers, wait.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::{
    Backend, OutputExt, api_only_server, both_backends, configmap, create, fixture, get_json,
    manifest,
};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    app: web\ndata:\n  color: blue\n";

fn get_watch_sees_a_change(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(CM), &[])
        .ok();
    let mut watch = s.kubectl_spawn(&[
        "get",
        "cm",
        "settings",
        "-w",
        "-o",
        "jsonpath={.data.color}{\"\\n\"}",
    ]);
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20))
            .expect("initial state"),
        "blue"
    );
    s.kubectl(&[
        "patch",
        "cm",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"color":"green"}}"#,
    ])
    .ok();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the change"),
        "green"
    );
    let _ = watch.kill();
    let _ = watch.wait();

    // A table watch: kubectl's default output.
    let mut watch = s.kubectl_spawn(&["get", "cm", "-w"]);
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let header = rx.recv_timeout(Duration::from_secs(20)).expect("header");
    assert!(
        header.starts_with("NAME") && header.contains("DATA"),
        "{header}"
    );
    create(&s, &configmap("later", "default", &[("a", "b")]));
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        if line.starts_with("later") {
            seen.push(line);
            break;
        }
        seen.push(line);
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("later ") && l.split_whitespace().nth(1) == Some("1")),
        "{seen:?}"
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

fn label_and_annotate(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(CM), &[])
        .ok();
    s.kubectl(&["label", "cm", "settings", "tier=front"]).ok();
    let err = s.kubectl(&["label", "cm", "settings", "app=db"]).err();
    assert!(
        err.contains("'app' already has a value (web), and --overwrite is false"),
        "{err}"
    );
    s.kubectl(&["label", "--overwrite", "cm", "settings", "app=db"])
        .ok();
    s.kubectl(&["annotate", "cm", "settings", "owner=alice"])
        .ok();
    s.kubectl(&["annotate", "--overwrite", "cm", "settings", "owner=bob"])
        .ok();
    s.kubectl(&["label", "cm", "settings", "tier-"]).ok();
    let cm = get_json(&s, &["cm", "settings"]);
    assert_eq!(cm["metadata"]["labels"], json!({"app": "db"}));
    assert_eq!(cm["metadata"]["annotations"]["owner"], "bob");
    assert_eq!(cm["data"], json!({"color": "blue"}));
}

fn scale_through_the_subresource(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&[
        "apply",
        "--validate=false",
        "-f",
        &fixture("seed/tomcat.yaml"),
    ])
    .ok();
    let before = get_json(&s, &["deploy", "tomcat-deploy"]);
    let out = s
        .kubectl(&["scale", "deploy", "tomcat-deploy", "--replicas=5"])
        .ok();
    assert!(
        out.contains("deployment.apps/tomcat-deploy scaled"),
        "{out}"
    );
    let after = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(after["spec"]["replicas"], 5);
    assert_eq!(
        after["metadata"]["generation"],
        before["metadata"]["generation"].as_i64().unwrap() + 1
    );
    // The Scale object itself.
    let scale: serde_json::Value = serde_json::from_str(
        &s.kubectl(&[
            "get",
            "--raw",
            "/apis/apps/v1/namespaces/default/deployments/tomcat-deploy/scale",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(scale["status"]["selector"], "app=tomcat,release=canary");
    // --current-replicas is a precondition kubectl checks.
    let err = s
        .kubectl(&[
            "scale",
            "deploy",
            "tomcat-deploy",
            "--current-replicas=2",
            "--replicas=1",
        ])
        .err();
    assert!(err.contains("Expected replicas to be 2, was 5"), "{err}");
}

fn replace_and_its_conflicts(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(CM), &[])
        .ok();
    // replace with the file as it is now read back (resourceVersion kept).
    let current = s.kubectl(&["get", "cm", "settings", "-o", "yaml"]).ok();
    let edited = current.replace("color: blue", "color: red");
    let file = manifest(&s, "replace.yaml", &edited);
    let out = s
        .kubectl(&["replace", "--validate=false", "-f", &file])
        .ok();
    assert!(out.contains("configmap/settings replaced"), "{out}");
    assert_eq!(get_json(&s, &["cm", "settings"])["data"]["color"], "red");
    // The same file again carries a stale resourceVersion: 409.
    let err = s
        .kubectl(&["replace", "--validate=false", "-f", &file])
        .err();
    assert!(
        err.contains(r#"Error from server (Conflict): error when replacing ""#)
            && err.contains(r#"Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again"#),
        "{err}"
    );
    // Without a resourceVersion, replace overwrites.
    let file = manifest(&s, "blind.yaml", &CM.replace("blue", "black"));
    s.kubectl(&["replace", "--validate=false", "-f", &file])
        .ok();
    assert_eq!(get_json(&s, &["cm", "settings"])["data"]["color"], "black");
}

fn patch_merge_and_json(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&[
        "apply",
        "--validate=false",
        "-f",
        &fixture("seed/tomcat.yaml"),
    ])
    .ok();
    s.kubectl(&[
        "patch",
        "deploy",
        "tomcat-deploy",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":2,"template":{"metadata":{"labels":{"extra":"yes"}}}}}"#,
    ])
    .ok();
    let d = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "tomcat", "release": "canary", "extra": "yes"})
    );
    assert_eq!(d["metadata"]["generation"], 2);

    s.kubectl(&[
        "patch",
        "deploy",
        "tomcat-deploy",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"tomcat:9"},{"op":"remove","path":"/spec/template/metadata/labels/extra"}]"#,
    ])
    .ok();
    let d = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "tomcat:9"
    );
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "tomcat", "release": "canary"})
    );
    // A JSON patch whose test fails changes nothing.
    let err = s
        .kubectl(&[
            "patch",
            "deploy",
            "tomcat-deploy",
            "--type",
            "json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":7}]"#,
        ])
        .err();
    assert!(
        err.contains(
            "The request is invalid: the server rejected our request due to an error in our request"
        ),
        "{err}"
    );
    // Patching status through the main resource is ignored; through /status it is not.
    s.kubectl(&[
        "patch",
        "deploy",
        "tomcat-deploy",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":9}}"#,
    ])
    .ok();
    assert!(get_json(&s, &["deploy", "tomcat-deploy"])["status"]["replicas"].is_null());
    s.kubectl(&[
        "patch",
        "deploy",
        "tomcat-deploy",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":9}}"#,
    ])
    .ok();
    let d = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(d["status"]["replicas"], 9);
    assert_eq!(d["spec"]["replicas"], 2, "a status write leaves spec alone");
}

fn delete_by_file_and_with_finalizers(backend: Backend) {
    let s = api_only_server(backend);
    let file = fixture("seed/service-nodeport.yaml");
    s.kubectl(&["apply", "--validate=false", "-f", &file]).ok();
    // Deleting the file deletes the Service and the Namespace (which waits
    // for its content to go first).
    let out = s.kubectl(&["delete", "-f", &file, "--timeout=60s"]).ok();
    assert!(out.contains("namespace \"ingress-nginx\" deleted"), "{out}");
    let err = s.kubectl(&["get", "ns", "ingress-nginx"]).err();
    assert!(
        err.contains(r#"namespaces "ingress-nginx" not found"#),
        "{err}"
    );

    // A finalizer keeps the object, marked, until it is removed.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  finalizers:\n  - example.com/hold\n";
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(cm), &[])
        .ok();
    s.kubectl(&["delete", "cm", "kept", "--wait=false"]).ok();
    let obj = get_json(&s, &["cm", "kept"]);
    assert!(obj["metadata"]["deletionTimestamp"].is_string(), "{obj}");
    assert_eq!(obj["metadata"]["finalizers"], json!(["example.com/hold"]));
    let mut waiter = s.kubectl_spawn(&["wait", "--for=delete", "cm/kept", "--timeout=60s"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "wait --for=delete returned while the finalizer is there"
    );
    s.kubectl(&[
        "patch",
        "cm",
        "kept",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .ok();
    let status = waiter.wait().unwrap();
    assert!(status.success(), "wait --for=delete failed");
    assert!(
        s.kubectl(&["get", "cm", "kept"])
            .err()
            .contains("not found")
    );
}

fn wait_for_a_condition(backend: Backend) {
    let s = api_only_server(backend);
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(pod), &[])
        .ok();
    let mut waiter = s.kubectl_spawn(&["wait", "--for=condition=Ready", "pod/p", "--timeout=60s"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "wait returned before the condition"
    );
    s.kubectl(&[
        "patch",
        "pod",
        "p",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .ok();
    let out = waiter.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pod/p condition met"));
}

both_backends!(
    get_watch_sees_a_change,
    label_and_annotate,
    scale_through_the_subresource,
    replace_and_its_conflicts,
    patch_merge_and_json,
    delete_by_file_and_with_finalizers,
    wait_for_a_condition,
);
