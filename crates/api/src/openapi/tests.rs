use serde_json::{Value, json};

use super::{document, index};
use crate::kinds::builtin;

fn doc(path: &str) -> Value {
    let d = document(&builtin(), path).unwrap_or_else(|| panic!("no document {path}"));
    serde_json::from_slice(&d.json).expect("json")
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

#[test]
fn index_lists_every_group_version_with_a_hash() {
    let r = builtin();
    let idx = index(&r);
    let paths = idx["paths"].as_object().unwrap();
    for (group, versions) in r.groups() {
        for v in versions {
            let path = if group.is_empty() {
                format!("api/{v}")
            } else {
                format!("apis/{group}/{v}")
            };
            let url = paths[&path]["serverRelativeURL"].as_str().unwrap();
            let d = document(&r, &path).unwrap();
            assert_eq!(url, format!("/openapi/v3/{path}?hash={}", d.hash));
        }
    }
    for p in ["api", "apis", "apis/apps"] {
        assert!(paths.contains_key(p), "{p}");
    }
    assert!(document(&r, "apis/nope/v1").is_none());
    assert!(document(&r, "apis/apps/v9").is_none());
}

#[test]
fn document_structure() {
    let d = doc("api/v1");
    assert_eq!(d["openapi"], "3.0.0");
    assert_eq!(d["info"]["title"], "Kubernetes");
    let paths = d["paths"].as_object().unwrap();
    let pods = &paths["/api/v1/namespaces/{namespace}/pods"];
    assert_eq!(pods["get"]["x-kubernetes-action"], "list");
    assert_eq!(pods["get"]["operationId"], "listCoreV1NamespacedPod");
    assert_eq!(pods["post"]["x-kubernetes-action"], "post");
    assert_eq!(pods["delete"]["x-kubernetes-action"], "deletecollection");
    assert_eq!(
        pods["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.PodList"
    );
    let pod = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
    for (method, action) in [
        ("get", "get"),
        ("put", "put"),
        ("patch", "patch"),
        ("delete", "delete"),
    ] {
        assert_eq!(pod[method]["x-kubernetes-action"], action);
        assert_eq!(
            pod[method]["x-kubernetes-group-version-kind"],
            json!({"group": "", "kind": "Pod", "version": "v1"})
        );
    }
    assert_eq!(
        paths["/api/v1/pods"]["get"]["operationId"],
        "listCoreV1PodForAllNamespaces"
    );
    assert!(paths["/api/v1/namespaces/{namespace}/pods/{name}/status"]["patch"].is_object());
    assert_eq!(
        paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]["x-kubernetes-group-version-kind"],
        json!({"group": "", "kind": "Binding", "version": "v1"})
    );
    assert_eq!(
        paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]["x-kubernetes-group-version-kind"],
        json!({"group": "policy", "kind": "Eviction", "version": "v1"})
    );
    assert_eq!(
        paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]["get"]["x-kubernetes-action"],
        "connect"
    );
    // Cluster-scoped: no namespace in the path.
    assert!(paths["/api/v1/nodes/{name}"]["get"].is_object());
    assert!(paths["/api/v1/namespaces/{name}/finalize"]["put"].is_object());

    let apps = doc("apis/apps/v1");
    let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["patch"]["x-kubernetes-group-version-kind"],
        json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
    );
    assert_eq!(
        schema(&apps, "io.k8s.api.autoscaling.v1.Scale")["x-kubernetes-group-version-kind"],
        json!([{"group": "autoscaling", "kind": "Scale", "version": "v1"}])
    );
}

/// kubectl sends `fieldValidation=Strict` (and skips client-side
/// validation) only if every `patch` of the kind has the parameter.
#[test]
fn every_patch_takes_field_validation() {
    let r = builtin();
    for path in super::document_paths(&r) {
        let d = doc(&path);
        for (p, item) in d["paths"].as_object().unwrap() {
            if let Some(patch) = item.get("patch") {
                assert!(patch["x-kubernetes-group-version-kind"].is_object(), "{p}");
                let names: Vec<&str> = patch["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                assert!(names.contains(&"fieldValidation"), "{p}: {names:?}");
                let types: Vec<&String> = patch["requestBody"]["content"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect();
                assert_eq!(types.len(), 4, "{p}");
                assert!(
                    types
                        .iter()
                        .any(|t| *t == "application/strategic-merge-patch+json")
                );
            }
        }
    }
}

/// Every served kind has its schema, tagged with its group-version-kind
/// (what `kubectl explain` looks for), and its list.
#[test]
fn every_served_kind_has_a_schema() {
    let r = builtin();
    for s in r.served() {
        let path = if s.group.is_empty() {
            format!("api/{}", s.version)
        } else {
            format!("apis/{}/{}", s.group, s.version)
        };
        let d = doc(&path);
        let tag = json!({"group": s.group, "kind": s.kind, "version": s.version});
        let list_tag =
            json!({"group": s.group, "kind": format!("{}List", s.kind), "version": s.version});
        let schemas = d["components"]["schemas"].as_object().unwrap();
        let tagged = |t: &Value| {
            schemas.values().any(|v| {
                v["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|a| a.contains(t))
            })
        };
        assert!(tagged(&tag), "{path} {}", s.kind);
        assert!(tagged(&list_tag), "{path} {}List", s.kind);
        // Every operation of the resource names the kind.
        let found = d["paths"].as_object().unwrap().iter().any(|(p, item)| {
            p.ends_with(&format!("/{}", s.plural()))
                && item["get"]["x-kubernetes-group-version-kind"] == tag
        });
        assert!(found, "{path} {}", s.plural());
        // Every $ref resolves.
        let text = serde_json::to_string(&d).unwrap();
        for part in text.split("\"$ref\":\"").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            let name = target.strip_prefix(super::REF_PREFIX).unwrap();
            assert!(schemas.contains_key(name), "{path}: dangling {target}");
        }
    }
    // Converted versions are described in their own version.
    let hpa = doc("apis/autoscaling/v1");
    let s = schema(&hpa, "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler");
    assert!(s["properties"]["spec"].is_object());
    let events = doc("apis/events.k8s.io/v1");
    assert_eq!(
        schema(&events, "io.k8s.api.events.v1.Event")["x-kubernetes-group-version-kind"],
        json!([{"group": "events.k8s.io", "kind": "Event", "version": "v1"}])
    );
}

#[test]
fn kind_schemas_as_upstream() {
    let d = doc("api/v1");
    let pod = schema(&d, "io.k8s.api.core.v1.Pod");
    assert_eq!(
        pod["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    assert!(pod.get("required").is_none(), "{}", pod["required"]);
    assert_eq!(
        pod["properties"]["spec"]["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}])
    );
    assert!(
        pod["properties"]["spec"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Specification of the desired behavior of the pod.")
    );
    let list = schema(&d, "io.k8s.api.core.v1.PodList");
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
    assert_eq!(list["required"], json!(["items"]));

    let meta = schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_eq!(
        meta["properties"]["creationTimestamp"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    );
    assert_eq!(
        meta["properties"]["finalizers"]["x-kubernetes-list-type"],
        "set"
    );
    let time = schema(&d, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    assert_eq!(time["type"], "string");
    assert_eq!(time["format"], "date-time");
    let q = schema(&d, "io.k8s.apimachinery.pkg.api.resource.Quantity");
    assert_eq!(q["oneOf"], json!([{"type": "string"}, {"type": "number"}]));
    assert!(q.get("type").is_none());
    let ios = schema(&d, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(ios["format"], "int-or-string");
    assert_eq!(
        ios["oneOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
}

#[test]
fn merge_extensions_on_pod_spec() {
    let d = doc("api/v1");
    let spec = schema(&d, "io.k8s.api.core.v1.PodSpec");
    let containers = &spec["properties"]["containers"];
    assert_eq!(containers["type"], "array");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(
        spec["properties"]["tolerations"]["x-kubernetes-list-type"],
        "atomic"
    );
    let container = schema(&d, "io.k8s.api.core.v1.Container");
    let ports = &container["properties"]["ports"];
    // Upstream lists `protocol` too; k8s-openapi's merge (the server's
    // table) keys on the port alone.
    assert_eq!(ports["x-kubernetes-list-type"], "map");
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
    assert_eq!(
        container["properties"]["args"]["x-kubernetes-list-type"],
        "atomic"
    );
    assert!(
        container["properties"]["image"]
            .get("x-kubernetes-list-type")
            .is_none()
    );
}

#[test]
fn documents_are_kept_until_the_registry_changes() {
    let cache = super::Cache::default();
    let get = |r: &crate::registry::Registry| {
        super::group_version_in(&cache, r, "apps", "v1").expect("apps/v1")
    };
    let r = builtin();
    let a = get(&r);
    let b = get(&r.clone());
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    // A registry built anew has new kinds: rebuilt, with the same content.
    let c = get(&builtin());
    assert!(!std::sync::Arc::ptr_eq(&a, &c));
    assert_eq!(a.hash, c.hash);
    // A change of the served kinds changes the hash.
    let mut changed = builtin();
    changed.remove("apps", "daemonsets");
    let d = get(&changed);
    assert_ne!(a.hash, d.hash);
}

/// Custom resources: operations (no strategic merge, as the server), and
/// `fieldValidation` on their patches.
#[test]
fn custom_resources() {
    let mut r = builtin();
    let crd = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"cronSpec": {"type": "string"}}}}}},
                "subresources": {"status": {}},
            }],
        },
    }))
    .unwrap();
    crate::kinds::custom::CustomKind::register(&mut r, &crd).unwrap();
    let idx = index(&r);
    assert!(
        idx["paths"]["apis/stable.example.com/v1"].is_object(),
        "{idx}"
    );
    let d: Value =
        serde_json::from_slice(&document(&r, "apis/stable.example.com/v1").unwrap().json).unwrap();
    let item = &d["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"];
    let gvk = json!({"group": "stable.example.com", "kind": "CronTab", "version": "v1"});
    assert_eq!(item["get"]["x-kubernetes-group-version-kind"], gvk);
    let patch = &item["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"], gvk);
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    let types = patch["requestBody"]["content"].as_object().unwrap();
    assert!(types.contains_key("application/merge-patch+json"));
    assert!(!types.contains_key("application/strategic-merge-patch+json"));
    assert!(
        d["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"]
            ["patch"]
            .is_object()
    );
    // Built-in group-versions are unchanged by it.
    assert_eq!(
        document(&r, "apis/apps/v1").unwrap().hash,
        document(&builtin(), "apis/apps/v1").unwrap().hash
    );
}
