//! Strategic merge patch, table-driven: `kubectl patch --type strategic`
//! with every directive, each case a starting object, a patch, and the
//! exact section of the object upstream's `StrategicMergeMapPatch`
//! (k8s.io/apimachinery/pkg/util/strategicpatch) produces, after the API
//! defaults.
//!
//! Merge keys and strategies are upstream's struct tags: containers, env and
//! volumes merge on `name` (volumes also `retainKeys`), ports on
//! `containerPort`, pod conditions on `type`, finalizers are a merged list
//! of primitives, tolerations have no strategy (replaced whole).
//!
//! Every case runs; the test fails at the end listing every case that did
//! not give upstream's result.

use serde_json::{Value, json};

use crate::imperative::defaulted_container;
use crate::{Backend, OutputExt, RkubeServer, api_only_server, both_backends, create, get_json};

/// What a case expects.
enum Expect {
    /// The section (a JSON pointer into the object) afterwards; `Null`
    /// means absent.
    Section(&'static str, Value),
    /// Like `Section`, comparing only these keys of each list item.
    Projected(&'static str, &'static [&'static str], Value),
    /// The patch is refused with a message containing this; the object is
    /// unchanged. Upstream answers the SMP library's plain errors (bad
    /// directives) with a reason-less 500, which kubectl prints as
    /// `Error from server: ...`; its sentinel format errors with a 400.
    Error(&'static str),
}

struct Case {
    name: &'static str,
    kind: Start,
    subresource: Option<&'static str>,
    patch: &'static str,
    expect: Expect,
}

#[derive(Clone, Copy)]
enum Start {
    ConfigMap,
    Deployment,
    Pod,
}

fn configmap(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {"a": "1", "b": "2"},
            "finalizers": ["example.com/a", "example.com/b"],
        },
        "data": {"a": "1", "b": "2"},
    })
}

fn web() -> Value {
    json!({
        "name": "web",
        "image": "nginx:1.26",
        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    })
}

fn side() -> Value {
    json!({"name": "side", "image": "busybox:1.36"})
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [web(), side()],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                },
            },
        },
    })
}

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    })
}

/// `web()` as stored, with `f` applied to it first.
fn web_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut c = web();
    f(&mut c);
    defaulted_container(c)
}

fn d(c: Value) -> Value {
    defaulted_container(c)
}

fn cases() -> Vec<Case> {
    use Expect::*;
    use Start::*;
    let containers = "/spec/template/spec/containers";
    let web_env = "/spec/template/spec/containers/0/env";
    let web_ports = "/spec/template/spec/containers/0/ports";
    let volumes = "/spec/template/spec/volumes";
    vec![
        // Maps.
        Case {
            name: "map: keys merge",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"data":{"c":"3"}}"#,
            expect: Section("/data", json!({"a": "1", "b": "2", "c": "3"})),
        },
        Case {
            name: "map: null deletes a key",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"data":{"a":null}}"#,
            expect: Section("/data", json!({"b": "2"})),
        },
        Case {
            name: "map: $patch replace",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"data":{"$patch":"replace","z":"26"}}"#,
            expect: Section("/data", json!({"z": "26"})),
        },
        Case {
            name: "map: $patch replace on labels",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"metadata":{"labels":{"$patch":"replace","x":"y"}}}"#,
            expect: Section("/metadata/labels", json!({"x": "y"})),
        },
        Case {
            name: "map: $patch delete empties the map",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"data":{"$patch":"delete"}}"#,
            expect: Section("/data", Value::Null),
        },
        Case {
            name: "map: $patch merge is no map directive",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"data":{"$patch":"merge","c":"3"}}"#,
            expect: Error("Error from server: unknown patch type: merge in map"),
        },
        Case {
            name: "struct: $patch replace",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}}"#,
            expect: Section("/spec/strategy", json!({"type": "Recreate"})),
        },
        Case {
            name: "struct: $retainKeys drops the other keys",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
            expect: Section("/spec/strategy", json!({"type": "Recreate"})),
        },
        Case {
            name: "struct: a plain merge keeps rollingUpdate (and fails validation)",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"strategy":{"type":"Recreate"}}}"#,
            expect: Error("may not be specified when strategy `type` is 'Recreate'"),
        },
        // Lists of objects with a merge key.
        Case {
            name: "containers: merge by name in place",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.37"}]}}}}"#,
            expect: Section(
                containers,
                json!([
                    d(web()),
                    d(json!({"name": "side", "image": "busybox:1.37"}))
                ]),
            ),
        },
        Case {
            name: "containers: a new name is appended",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"redis:7"}]}}}}"#,
            expect: Section(
                containers,
                json!([
                    d(web()),
                    d(side()),
                    d(json!({"name": "extra", "image": "redis:7"}))
                ]),
            ),
        },
        Case {
            name: "containers: $patch replace",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"redis:7"}]}}}}"#,
            expect: Section(
                containers,
                json!([d(json!({"name": "only", "image": "redis:7"}))]),
            ),
        },
        Case {
            name: "containers: $patch delete by merge key",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"side"}]}}}}"#,
            expect: Section(containers, json!([d(web())])),
        },
        Case {
            name: "containers: $patch merge is refused in lists",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"$patch":"merge"},{"name":"side","image":"busybox:1.37"}]}}}}"#,
            expect: Error("Error from server: merging lists cannot yet be specified in the patch"),
        },
        Case {
            name: "containers: $setElementOrder reorders",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"web"}],"containers":[{"name":"web","image":"nginx:1.27"}]}}}}"#,
            expect: Section(
                containers,
                json!([d(side()), web_with(|c| c["image"] = json!("nginx:1.27"))]),
            ),
        },
        Case {
            name: "containers: null deletes a field of an item",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":null}]}}}}"#,
            expect: Section(
                containers,
                json!([
                    web_with(|c| {
                        c.as_object_mut().unwrap().remove("ports");
                    }),
                    d(side())
                ]),
            ),
        },
        Case {
            name: "ports: merge by containerPort",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"web"},{"containerPort":8080,"name":"alt"}]}]}}}}"#,
            expect: Section(
                web_ports,
                json!([
                    {"containerPort": 80, "name": "web", "protocol": "TCP"},
                    {"containerPort": 443, "name": "https", "protocol": "TCP"},
                    {"containerPort": 8080, "name": "alt", "protocol": "TCP"},
                ]),
            ),
        },
        Case {
            name: "env: merge by name",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}}}"#,
            expect: Section(
                web_env,
                json!([
                    {"name": "A", "value": "1"},
                    {"name": "B", "value": "3"},
                    {"name": "C", "value": "4"},
                ]),
            ),
        },
        Case {
            name: "env: $patch delete by name",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"$patch":"delete","name":"A"}]}]}}}}"#,
            expect: Section(web_env, json!([{"name": "B", "value": "2"}])),
        },
        Case {
            name: "env: $setElementOrder with a deletion",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","$setElementOrder/env":[{"name":"C"},{"name":"A"}],"env":[{"name":"C","value":"5"},{"$patch":"delete","name":"B"}]}]}}}}"#,
            expect: Section(
                web_env,
                json!([{"name": "C", "value": "5"}, {"name": "A", "value": "1"}]),
            ),
        },
        Case {
            name: "volumes: merge by name",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"volumes":[{"name":"logs","emptyDir":{"medium":"Memory"}}]}}}}"#,
            expect: Section(
                volumes,
                json!([
                    {"name": "data", "emptyDir": {}},
                    {"name": "cache", "emptyDir": {}},
                    {"name": "logs", "emptyDir": {"medium": "Memory"}},
                ]),
            ),
        },
        Case {
            name: "volumes: $retainKeys switches a volume's source",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"volumes":[{"$retainKeys":["hostPath","name"],"name":"cache","hostPath":{"path":"/tmp"}}]}}}}"#,
            expect: Section(
                volumes,
                json!([
                    {"name": "data", "emptyDir": {}},
                    {"name": "cache", "hostPath": {"path": "/tmp", "type": ""}},
                ]),
            ),
        },
        Case {
            name: "volumes: $retainKeys must list the patch's keys",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"volumes":[{"$retainKeys":["name"],"name":"cache","hostPath":{"path":"/tmp"}}]}}}}"#,
            expect: Error("Error from server (BadRequest): invalid patch format of retainKeys"),
        },
        // A list without a merge key is replaced whole.
        Case {
            name: "tolerations: replaced",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"b","operator":"Equal","value":"v","effect":"NoSchedule"}]}}}}"#,
            expect: Section(
                "/spec/template/spec/tolerations",
                json!([{"key": "b", "operator": "Equal", "value": "v", "effect": "NoSchedule"}]),
            ),
        },
        Case {
            name: "tolerations: null removes the list",
            kind: Deployment,
            subresource: None,
            patch: r#"{"spec":{"template":{"spec":{"tolerations":null}}}}"#,
            expect: Section("/spec/template/spec/tolerations", Value::Null),
        },
        // A merged list of primitives.
        Case {
            name: "finalizers: merged, without duplicates",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"metadata":{"finalizers":["example.com/c","example.com/a"]}}"#,
            expect: Section(
                "/metadata/finalizers",
                json!(["example.com/a", "example.com/b", "example.com/c"]),
            ),
        },
        Case {
            name: "finalizers: $deleteFromPrimitiveList",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a"]}}"#,
            expect: Section("/metadata/finalizers", json!(["example.com/b"])),
        },
        Case {
            name: "finalizers: $setElementOrder",
            kind: ConfigMap,
            subresource: None,
            patch: r#"{"metadata":{"$setElementOrder/finalizers":["example.com/b","example.com/a","example.com/c"],"finalizers":["example.com/c"]}}"#,
            expect: Section(
                "/metadata/finalizers",
                json!(["example.com/b", "example.com/a", "example.com/c"]),
            ),
        },
        // Status conditions merge on type, through the status subresource.
        Case {
            name: "pod conditions: merge by type",
            kind: Pod,
            subresource: Some("status"),
            patch: r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
            expect: Projected(
                "/status/conditions",
                &["type", "status"],
                json!([
                    {"type": "Ready", "status": "True"},
                    {"type": "PodScheduled", "status": "True"},
                ]),
            ),
        },
        Case {
            name: "pod conditions: zero times read back as null",
            kind: Pod,
            subresource: Some("status"),
            patch: r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
            expect: Section(
                "/status/conditions/1",
                json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": null}),
            ),
        },
    ]
}

fn start(s: &RkubeServer, kind: Start, name: &str) -> &'static str {
    match kind {
        Start::ConfigMap => {
            create(s, &configmap(name).to_string());
            "cm"
        }
        Start::Deployment => {
            create(s, &deployment(name).to_string());
            "deploy"
        }
        Start::Pod => {
            create(s, &pod(name).to_string());
            // Two conditions, as a kubelet would have reported them.
            s.kubectl(&[
                "patch",
                "pod",
                name,
                "--subresource",
                "status",
                "--type",
                "merge",
                "-p",
                r#"{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}}"#,
            ])
            .ok();
            "pod"
        }
    }
}

fn section(obj: &Value, pointer: &str) -> Value {
    obj.pointer(pointer).cloned().unwrap_or(Value::Null)
}

fn strategic_merge_patch_directives(backend: Backend) {
    let s = api_only_server(backend);
    let mut failures = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let name = format!("smp-{i}");
        let resource = start(&s, case.kind, &name);
        let before = get_json(&s, &[resource, &name]);
        let mut args = vec![
            "patch",
            resource,
            &name,
            "--type",
            "strategic",
            "-p",
            case.patch,
        ];
        if let Some(sub) = case.subresource {
            args.extend_from_slice(&["--subresource", sub]);
        }
        let out = s.kubectl(&args);
        let after = get_json(&s, &[resource, &name]);
        match &case.expect {
            Expect::Section(pointer, expected) => {
                if !out.status.success() {
                    failures.push(format!(
                        "{}: the patch failed: {}",
                        case.name,
                        out.stderr_str().trim()
                    ));
                    continue;
                }
                let got = section(&after, pointer);
                if &got != expected {
                    failures.push(format!(
                        "{}: {pointer}\n    expected {expected}\n    got      {got}",
                        case.name
                    ));
                }
            }
            Expect::Projected(pointer, keys, expected) => {
                if !out.status.success() {
                    failures.push(format!(
                        "{}: the patch failed: {}",
                        case.name,
                        out.stderr_str().trim()
                    ));
                    continue;
                }
                let got = section(&after, pointer);
                let projected: Value = got
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|item| {
                                keys.iter()
                                    .filter_map(|k| {
                                        item.get(*k).map(|v| ((*k).to_owned(), v.clone()))
                                    })
                                    .collect::<serde_json::Map<_, _>>()
                                    .into()
                            })
                            .collect::<Vec<Value>>()
                            .into()
                    })
                    .unwrap_or(Value::Null);
                if &projected != expected {
                    failures.push(format!(
                        "{}: {pointer} ({keys:?})\n    expected {expected}\n    got      {projected}",
                        case.name
                    ));
                }
            }
            Expect::Error(message) => {
                if out.status.success() {
                    failures.push(format!(
                        "{}: expected an error containing {message:?}, the patch succeeded: {}",
                        case.name,
                        out.stdout_str().trim()
                    ));
                } else if !out.stderr_str().contains(message) {
                    failures.push(format!(
                        "{}: expected an error containing {message:?}, got: {}",
                        case.name,
                        out.stderr_str().trim()
                    ));
                }
                if after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"] {
                    failures.push(format!("{}: a refused patch changed the object", case.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} strategic merge patch case(s) differ from upstream:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

both_backends!(strategic_merge_patch_directives);
