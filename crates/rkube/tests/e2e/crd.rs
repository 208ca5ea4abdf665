//! CustomResourceDefinitions: a definition serves its kind within a
//! second (discovery, verbs, watch, status and scale, printer columns,
//! pruning, defaulting, validation, several versions); deleting it deletes
//! its objects; a non-structural schema is refused.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Backend, OutputExt, both_backends, create, get_json, server};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              image: {type: string}
              replicas: {type: integer}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec: {type: string, pattern: '^(\S+ ){4}\S+$'}
              image: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
              labelSelector: {type: string}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"#;

const CT: &str = r#"
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: "0 3 * * *"
  image: backup:1
  notInSchema: dropped
"#;

fn a_definition_serves_its_kind(backend: Backend) {
    let s = server(backend);
    create(&s, CRD);
    // Served within a second: discovery and the verbs.
    let started = Instant::now();
    loop {
        let out = s.kubectl(&["api-resources", "--api-group=stable.example.com"]);
        if out.status.success() && out.stdout_str().contains("crontabs") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not in discovery after 1s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let crd = get_json(&s, &["crd", "crontabs.stable.example.com"]);
    let conditions = crd["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True"),
        "{crd}"
    );
    assert_eq!(crd["status"]["acceptedNames"]["kind"], "CronTab");

    // Pruned and defaulted.
    create(&s, CT);
    let ct = get_json(&s, &["ct", "nightly"]);
    assert_eq!(
        ct["spec"],
        json!({"cronSpec": "0 3 * * *", "image": "backup:1", "replicas": 1})
    );
    assert_eq!(ct["metadata"]["generation"], 1);

    // Printer columns.
    let out = s.kubectl(&["get", "crontabs"]).ok();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "SPEC", "REPLICAS", "AGE"]);
    assert_eq!(rows[1][..6], ["nightly", "0", "3", "*", "*", "*"]);
    assert_eq!(rows[1][6], "1");
    // The `all` category includes it.
    assert!(
        s.kubectl(&["get", "all"])
            .ok()
            .contains("crontab.stable.example.com/nightly")
    );

    // Validation with upstream's messages; nothing stored.
    let err = s
        .kubectl(&[
            "patch",
            "ct",
            "nightly",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":11}}"#,
        ])
        .err();
    assert!(err.contains(r#"The CronTab "nightly" is invalid: spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"#), "{err}");
    let err = s
        .kubectl(&[
            "patch",
            "ct",
            "nightly",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"cronSpec":null}}"#,
        ])
        .err();
    assert!(err.contains("spec.cronSpec: Required value"), "{err}");
    assert_eq!(get_json(&s, &["ct", "nightly"])["spec"]["replicas"], 1);

    // Status: ignored through the object, written through /status.
    s.kubectl(&[
        "patch",
        "ct",
        "nightly",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":5}}"#,
    ])
    .ok();
    assert!(get_json(&s, &["ct", "nightly"])["status"]["replicas"].is_null());
    s.kubectl(&[
        "patch",
        "ct",
        "nightly",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":2,"labelSelector":"app=backup"}}"#,
    ])
    .ok();
    assert_eq!(get_json(&s, &["ct", "nightly"])["status"]["replicas"], 2);

    // Scale.
    s.kubectl(&["scale", "ct", "nightly", "--replicas=4"]).ok();
    let ct = get_json(&s, &["ct", "nightly"]);
    assert_eq!(ct["spec"]["replicas"], 4);
    assert_eq!(ct["metadata"]["generation"], 2);
    let scale: serde_json::Value = serde_json::from_str(
        &s.kubectl(&[
            "get",
            "--raw",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/nightly/scale",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(scale["spec"]["replicas"], 4);
    assert_eq!(
        scale["status"],
        json!({"replicas": 2, "selector": "app=backup"})
    );

    // Versions: served as v1beta1 too, stored as v1.
    let raw = s
        .kubectl(&[
            "get",
            "--raw",
            "/apis/stable.example.com/v1beta1/namespaces/default/crontabs/nightly",
        ])
        .ok();
    let beta: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(beta["apiVersion"], "stable.example.com/v1beta1");
    assert_eq!(beta["spec"]["cronSpec"], "0 3 * * *");
}

fn custom_resources_are_watched(backend: Backend) {
    let s = server(backend);
    create(&s, CRD);
    std::thread::sleep(Duration::from_millis(300));
    create(&s, CT);
    let mut watch = s.kubectl_spawn(&[
        "get",
        "ct",
        "nightly",
        "-w",
        "-o",
        "jsonpath={.spec.image}{\"\\n\"}",
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
        rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        "backup:1"
    );
    s.kubectl(&[
        "patch",
        "ct",
        "nightly",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"image":"backup:2"}}"#,
    ])
    .ok();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        "backup:2"
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

fn deleting_the_definition_deletes_its_objects(backend: Backend) {
    let mut s = server(backend);
    create(&s, CRD);
    std::thread::sleep(Duration::from_millis(300));
    create(&s, CT);
    // The kind and its objects survive a restart.
    s.restart();
    assert_eq!(
        get_json(&s, &["ct", "nightly"])["spec"]["image"],
        "backup:1"
    );
    s.kubectl(&[
        "delete",
        "crd",
        "crontabs.stable.example.com",
        "--timeout=60s",
    ])
    .ok();
    assert!(
        s.kubectl(&["get", "crd", "crontabs.stable.example.com"])
            .err()
            .contains("not found")
    );
    let err = s
        .kubectl(&[
            "get",
            "--raw",
            "/apis/stable.example.com/v1/namespaces/default/crontabs",
        ])
        .err();
    assert!(
        err.contains("NotFound") || err.contains("could not find"),
        "{err}"
    );
    // Defined again: empty.
    create(&s, CRD);
    std::thread::sleep(Duration::from_millis(300));
    let out = s
        .kubectl(&[
            "get",
            "--raw",
            "/apis/stable.example.com/v1/namespaces/default/crontabs",
        ])
        .ok();
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["items"], json!([]));
}

fn a_schema_that_is_not_structural_is_refused(backend: Backend) {
    let s = server(backend);
    let bad = CRD.replace(
        "              image: {type: string}\n              replicas: {type: integer}",
        "              image: {}\n              replicas: {type: integer}",
    );
    let err = s
        .kubectl_with(&["create", "--validate=false", "-f", "-"], Some(&bad), &[])
        .err();
    assert!(
        err.contains("The CustomResourceDefinition \"crontabs.stable.example.com\" is invalid"),
        "{err}"
    );
    assert!(err.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields"), "{err}");
    assert!(
        s.kubectl(&["get", "crd", "crontabs.stable.example.com"])
            .err()
            .contains("not found")
    );
}

/// A definition's schema is published in `/openapi/v3`: `kubectl explain`
/// reads it, and kubectl validates custom resources against it by default
/// (an unknown field is refused before anything reaches the server).
fn the_schema_is_published_for_explain_and_validation(backend: Backend) {
    let s = server(backend);
    create(&s, CRD);
    let started = Instant::now();
    let explained = loop {
        let out = s.kubectl(&["explain", "crontab.spec.replicas"]);
        if out.status.success() {
            break out.stdout_str();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "explain failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        explained.contains("GROUP:      stable.example.com"),
        "{explained}"
    );
    assert!(explained.contains("KIND:       CronTab"), "{explained}");
    assert!(
        explained.contains("FIELD: replicas <integer>"),
        "{explained}"
    );
    let explained = s.kubectl(&["explain", "crontab.metadata.labels"]).ok();
    assert!(
        explained.contains("labels\t<map[string]string>")
            || explained.contains("FIELD: labels <map[string]string>"),
        "{explained}"
    );
    // Validation by kubectl itself (no --validate=false).
    let err = s.kubectl_with(&["create", "-f", "-"], Some(CT), &[]).err();
    assert!(err.contains(r#"unknown field "spec.notInSchema""#), "{err}");
    let ok = CT.replace("  notInSchema: dropped\n", "");
    let out = s.kubectl_with(&["create", "-f", "-"], Some(&ok), &[]).ok();
    assert!(
        out.contains("crontab.stable.example.com/nightly created"),
        "{out}"
    );
}

both_backends!(
    the_schema_is_published_for_explain_and_validation,
    a_definition_serves_its_kind,
    custom_resources_are_watched,
    deleting_the_definition_deletes_its_objects,
    a_schema_that_is_not_structural_is_refused,
);
