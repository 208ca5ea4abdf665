//! `kubectl apply`, client-side (three-way strategic merge patch, the
//! last-applied annotation) and server-side (managedFields, conflicts,
//! migration from client-side apply), `kubectl diff`, and server dry runs.
//!
//! Expected objects follow upstream: kubectl's `CreateThreeWayMergePatch`
//! (the patch is current→modified without deletions plus
//! last-applied→modified deletions), the SSA field manager stack
//! (structured-merge-diff's field sets, `lastAppliedManager`,
//! `lastAppliedUpdater`) and kubectl 1.32's `migrateToSSAIfNecessary`.
//! Manifests are written as JSON, which kubectl reads like YAML.

use serde_json::{Value, json};

use crate::imperative::{defaulted_container, get_with_managed_fields, managed_by};
use crate::{
    Backend, OutputExt, Problems, RkubeServer, api_only_server, both_backends, get_json, manifest,
};

/// Write `obj` to a file and `kubectl apply` it with `extra` flags.
/// `--validate=false` until rkube serves the OpenAPI kubectl validates with.
fn apply(s: &RkubeServer, obj: &Value, extra: &[&str]) -> std::process::Output {
    let name = format!(
        "{}-{}.json",
        obj["metadata"]["name"].as_str().unwrap(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let file = manifest(s, &name, &serde_json::to_string_pretty(obj).unwrap());
    let mut args = vec!["apply", "--validate=false", "-f", &file];
    args.extend_from_slice(extra);
    s.kubectl(&args)
}

/// The last-applied annotation's text.
fn last_applied_text(obj: &Value) -> String {
    obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap_or_else(|| panic!("no last-applied annotation: {}", obj["metadata"]))
        .to_owned()
}

/// The last-applied annotation, parsed.
fn last_applied(obj: &Value) -> Value {
    serde_json::from_str(&last_applied_text(obj)).expect("the annotation is JSON")
}

/// What client-side apply stores as last-applied: the manifest with the
/// namespace kubectl filled in and an emptied `annotations` map
/// (`GetModifiedConfiguration` strips the annotation itself).
fn csa_annotation(manifest: &Value) -> Value {
    let mut v = manifest.clone();
    v["metadata"]["namespace"] = json!("default");
    v["metadata"]["annotations"] = json!({});
    v
}

/// What server-side apply keeps as last-applied (`buildLastApplied`): the
/// applied object as kubectl sent it, namespace filled in.
fn ssa_annotation(manifest: &Value) -> Value {
    let mut v = manifest.clone();
    v["metadata"]["namespace"] = json!("default");
    v
}

fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

fn deployment(labels: Value, replicas: Option<u32>, containers: Vec<Value>) -> Value {
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": containers},
        },
    });
    if let Some(r) = replicas {
        spec["replicas"] = json!(r);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels},
        "spec": spec,
    })
}

fn client_side_apply_of_changed_manifests(backend: Backend) {
    let s = api_only_server(backend);
    let mut web = container("web", "nginx:1.26");
    web["ports"] = json!([{"name": "http", "containerPort": 80}]);
    web["env"] = json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    let sidecar = container("sidecar", "busybox:1.36");
    let v1 = deployment(
        json!({"app": "web", "tier": "front"}),
        Some(2),
        vec![web.clone()],
    );
    let out = apply(&s, &v1, &[]).ok();
    assert_eq!(out.trim(), "deployment.apps/web created");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(last_applied(&d), csa_annotation(&v1));
    assert!(last_applied_text(&d).ends_with('\n'));
    let entries = d["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["manager"], "kubectl-client-side-apply");
    assert_eq!(entries[0]["operation"], "Update");

    // Others change the object: a scale (in the manifest) and a label (not).
    s.kubectl(&["scale", "deploy", "web", "--replicas=5"]).ok();
    s.kubectl(&["label", "deploy", "web", "extra=1"]).ok();

    // A container added. The manifest's replicas win again (they differ
    // from the live value); the label nobody applied stays.
    let v2 = deployment(
        json!({"app": "web", "tier": "front"}),
        Some(2),
        vec![web.clone(), sidecar.clone()],
    );
    let out = apply(&s, &v2, &[]).ok();
    assert_eq!(out.trim(), "deployment.apps/web configured");
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([
            defaulted_container(web.clone()),
            defaulted_container(sidecar.clone())
        ])
    );
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "web", "tier": "front", "extra": "1"})
    );
    assert_eq!(last_applied(&d), csa_annotation(&v2));

    // An environment variable removed.
    web["env"] = json!([{"name": "A", "value": "1"}]);
    let v3 = deployment(
        json!({"app": "web", "tier": "front"}),
        Some(2),
        vec![web.clone(), sidecar.clone()],
    );
    apply(&s, &v3, &[]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}])
    );

    // A port renamed (ports merge on containerPort).
    web["ports"] = json!([{"name": "web", "containerPort": 80}]);
    let v4 = deployment(
        json!({"app": "web", "tier": "front"}),
        Some(2),
        vec![web.clone(), sidecar.clone()],
    );
    apply(&s, &v4, &[]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"name": "web", "containerPort": 80, "protocol": "TCP"}])
    );

    // A label deleted from the manifest: only that label goes.
    let v5 = deployment(
        json!({"app": "web"}),
        Some(2),
        vec![web.clone(), sidecar.clone()],
    );
    apply(&s, &v5, &[]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(d["metadata"]["labels"], json!({"app": "web", "extra": "1"}));

    // A list reordered ($setElementOrder).
    let v6 = deployment(
        json!({"app": "web"}),
        Some(2),
        vec![sidecar.clone(), web.clone()],
    );
    apply(&s, &v6, &[]).ok();
    let d = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([
            defaulted_container(sidecar.clone()),
            defaulted_container(web.clone())
        ])
    );
    assert_eq!(last_applied(&d), csa_annotation(&v6));
    // create 1, scale 2, then v2..v6 one each: every apply changes the
    // last-applied annotation, and a Deployment's annotations bump its
    // generation (the label alone would not).
    assert_eq!(d["metadata"]["generation"], 7);

    // The same manifest again: an empty patch, nothing written.
    let out = apply(&s, &v6, &[]).ok();
    assert_eq!(out.trim(), "deployment.apps/web unchanged");
    let again = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        d["metadata"]["resourceVersion"]
    );
    let managers: Vec<_> = again["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap(),
                e["operation"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("kubectl-client-side-apply", "Update"),
        ("kubectl-label", "Update"),
    ] {
        assert!(managers.contains(&expected), "{managers:?}");
    }
}

fn configmap(labels: Option<Value>) -> Value {
    let mut cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "v"},
    });
    if let Some(l) = labels {
        cm["metadata"]["labels"] = l;
    }
    cm
}

fn client_side_apply_of_removed_labels(backend: Backend) {
    let s = api_only_server(backend);
    apply(&s, &configmap(Some(json!({"a": "1", "b": "2"}))), &[]).ok();
    s.kubectl(&["label", "cm", "c", "x=y"]).ok();

    // A label dropped from the section: the patch deletes exactly the keys
    // the last-applied annotation lists and the manifest no longer does.
    apply(&s, &configmap(Some(json!({"a": "1"}))), &[]).ok();
    assert_eq!(
        get_json(&s, &["cm", "c"])["metadata"]["labels"],
        json!({"a": "1", "x": "y"})
    );

    // The whole `labels:` section removed. kubectl 1.32 computes
    // `{"metadata":{"labels":null}}` here (diffMaps' updatePatchIfMissing
    // nulls a key the annotation has and the manifest lacks), so every label
    // goes, the one `kubectl label` added included.
    let out = apply(&s, &configmap(None), &[]).ok();
    assert_eq!(out.trim(), "configmap/c configured");
    let cm = get_json(&s, &["cm", "c"]);
    assert!(cm["metadata"]["labels"].is_null(), "{}", cm["metadata"]);
    assert_eq!(cm["data"], json!({"k": "v"}));
    assert_eq!(last_applied(&cm), csa_annotation(&configmap(None)));
}

/// The field set server-side apply records for `ssa_web(true)`:
/// structured-merge-diff lists leaves, list items (with `.`) and atomic
/// structs (the LabelSelector); the container port's key includes the
/// defaulted `protocol`.
fn ssa_web_fields(full: bool) -> Value {
    let mut container = json!({".": {}, "f:image": {}, "f:name": {}});
    if full {
        container["f:ports"] = json!({
            "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}
        });
    }
    let mut fields = json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": container}},
            },
        },
    });
    if full {
        fields["f:metadata"]["f:labels"]["f:tier"] = json!({});
        fields["f:spec"]["f:replicas"] = json!({});
    }
    fields
}

fn ssa_web(full: bool) -> Value {
    let mut web = container("web", "nginx:1.26");
    if full {
        web["ports"] = json!([{"containerPort": 8080}]);
        deployment(json!({"app": "web", "tier": "front"}), Some(2), vec![web])
    } else {
        deployment(json!({"app": "web"}), None, vec![web])
    }
}

fn server_side_apply(backend: Backend) {
    let s = api_only_server(backend);
    let mut p = Problems::default();

    // The documented example: a ConfigMap applied by kubectl.
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "labels": {"test-label": "test"}},
        "data": {"key": "some value"},
    });
    let out = apply(&s, &cm, &["--server-side"]).ok();
    assert_eq!(out.trim(), "configmap/test-cm serverside-applied");
    let got = get_with_managed_fields(&s, &["cm", "test-cm"]);
    let entries = got["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    p.check(
        entries[0]["time"].is_string(),
        format!("the entry has a time: {}", entries[0]),
    );
    let mut entry = entries[0].clone();
    entry.as_object_mut().unwrap().remove("time");
    p.eq(
        "the documented ConfigMap's managedFields entry",
        &entry,
        &json!({
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}},
        }),
    );
    p.eq(
        "server-side apply writes no annotations",
        &got["metadata"]["annotations"],
        &Value::Null,
    );

    // Create by apply.
    let out = apply(&s, &ssa_web(true), &["--server-side"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10, "defaults apply");
    p.eq(
        "a Deployment created by server-side apply has no annotations",
        &d["metadata"]["annotations"],
        &Value::Null,
    );
    let entries = d["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["manager"], "kubectl");
    assert_eq!(entries[0]["operation"], "Apply");
    assert_eq!(entries[0]["apiVersion"], "apps/v1");
    assert_eq!(entries[0]["fieldsType"], "FieldsV1");
    assert!(entries[0]["subresource"].is_null(), "{}", entries[0]);
    p.eq(
        "the Deployment's Apply fieldsV1",
        &entries[0]["fieldsV1"],
        &ssa_web_fields(true),
    );

    // --show-managed-fields decides whether kubectl prints them.
    let plain = get_json(&s, &["deploy", "web"]);
    assert!(
        plain["metadata"]["managedFields"].is_null(),
        "{}",
        plain["metadata"]
    );
    let yaml = s
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .ok();
    for needle in [
        "managedFields:",
        "manager: kubectl",
        "operation: Apply",
        "f:spec:",
        "k:{\"name\":\"web\"}:",
    ] {
        assert!(yaml.contains(needle), "{needle} missing:\n{yaml}");
    }

    // Re-applying the same manifest is a no-op: nothing written, the
    // entry's time unchanged.
    let out = apply(&s, &ssa_web(true), &["--server-side"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let again = get_with_managed_fields(&s, &["deploy", "web"]);
    p.eq(
        "resourceVersion after an unchanged apply",
        &again["metadata"]["resourceVersion"],
        &d["metadata"]["resourceVersion"],
    );
    p.eq(
        "managedFields after an unchanged apply",
        &again["metadata"]["managedFields"],
        &d["metadata"]["managedFields"],
    );

    // kubectl scale (PATCH .../scale, no fieldManager: the manager is the
    // user agent's "kubectl", operation Update, subresource scale) takes
    // spec.replicas; applying 2 again is then a conflict.
    s.kubectl(&["scale", "deploy", "web", "--replicas=3"]).ok();
    let scaled = get_with_managed_fields(&s, &["deploy", "web"]);
    match scaled["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["operation"] == "Update")
    {
        None => p.check(
            false,
            format!(
                "no Update entry after kubectl scale: {}",
                scaled["metadata"]["managedFields"]
            ),
        ),
        Some(e) => {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("time");
            p.eq(
                "kubectl scale's managedFields entry",
                &e,
                &json!({
                    "manager": "kubectl",
                    "operation": "Update",
                    "subresource": "scale",
                    "apiVersion": "apps/v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}},
                }),
            );
        }
    }
    let applied = managed_by(&scaled, "kubectl")
        .into_iter()
        .find(|e| e["operation"] == "Apply")
        .unwrap();
    p.check(
        applied["fieldsV1"]["f:spec"]["f:replicas"].is_null(),
        format!("the update took replicas from the applier: {applied}"),
    );

    let err = apply(&s, &ssa_web(true), &["--server-side"]).err();
    p.check(
        err.starts_with(
            "error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas\n",
        ),
        format!("the conflict after kubectl scale:\n    expected error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas\n    got      {}", err.lines().next().unwrap_or_default()),
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    assert_eq!(get_json(&s, &["deploy", "web"])["spec"]["replicas"], 3);

    // Forced: the value and the field move back to the applier; the scale
    // entry, left with nothing, disappears.
    let out = apply(&s, &ssa_web(true), &["--server-side", "--force-conflicts"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    assert_eq!(d["spec"]["replicas"], 2);
    let entries = d["metadata"]["managedFields"].as_array().unwrap();
    p.check(
        entries.len() == 1,
        format!("after --force-conflicts only the applier's entry is left: {entries:?}"),
    );
    p.eq(
        "the Apply fieldsV1 after --force-conflicts",
        &managed_by(&d, "kubectl")
            .into_iter()
            .find(|e| e["operation"] == "Apply")
            .unwrap()["fieldsV1"],
        &ssa_web_fields(true),
    );

    // Fields dropped from the manifest are removed (replicas back to its
    // default), since nobody else manages them.
    let out = apply(&s, &ssa_web(false), &["--server-side"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    p.eq(
        "labels after dropping one",
        &d["metadata"]["labels"],
        &json!({"app": "web"}),
    );
    p.eq(
        "replicas after dropping them (the default)",
        &d["spec"]["replicas"],
        &json!(1),
    );
    p.eq(
        "containers after dropping the ports",
        &d["spec"]["template"]["spec"]["containers"],
        &json!([defaulted_container(container("web", "nginx:1.26"))]),
    );
    p.eq(
        "the Apply fieldsV1 after dropping fields",
        &managed_by(&d, "kubectl")
            .into_iter()
            .find(|e| e["operation"] == "Apply")
            .unwrap()["fieldsV1"],
        &ssa_web_fields(false),
    );

    // A field another applier also set to the same value is shared: the
    // first applier dropping it leaves it in place.
    let label_only = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"owner": "team-a"}},
    });
    apply(
        &s,
        &label_only,
        &["--server-side", "--field-manager=team-a"],
    )
    .ok();
    let mut with_owner = ssa_web(false);
    with_owner["metadata"]["labels"]["owner"] = json!("team-a");
    apply(&s, &with_owner, &["--server-side"]).ok();
    apply(&s, &ssa_web(false), &["--server-side"]).ok();
    p.eq(
        "a shared label after one owner dropped it",
        &get_json(&s, &["deploy", "web"])["metadata"]["labels"],
        &json!({"app": "web", "owner": "team-a"}),
    );
    // ... and changing it is a conflict with that manager.
    with_owner["metadata"]["labels"]["owner"] = json!("team-b");
    let out = apply(&s, &with_owner, &["--server-side"]);
    p.check(
        !out.status.success()
            && out.stderr_str().starts_with(
                "error: Apply failed with 1 conflict: conflict with \"team-a\": .metadata.labels.owner\n",
            ),
        format!(
            "changing a label another applier owns:\n    expected error: Apply failed with 1 conflict: conflict with \"team-a\": .metadata.labels.owner\n    got      {} {}",
            out.status,
            out.stderr_str().lines().next().unwrap_or_default()
        ),
    );
    p.finish();
}

fn client_side_to_server_side_migration(backend: Backend) {
    let s = api_only_server(backend);
    let mut p = Problems::default();
    let m1 = deployment(
        json!({"app": "web", "tier": "front"}),
        Some(2),
        vec![container("web", "nginx:1.26")],
    );
    apply(&s, &m1, &[]).ok();

    // The same manifest server-side: no conflicts with the client-side
    // manager, whose fields kubectl then migrates to its own Apply entry.
    let out = apply(&s, &m1, &["--server-side"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = get_with_managed_fields(&s, &["deploy", "web"]);
    let managers: Vec<_> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap(),
                e["operation"].as_str().unwrap(),
            )
        })
        .collect();
    p.check(
        !managers
            .iter()
            .any(|(m, _)| *m == "kubectl-client-side-apply"),
        format!("the client-side manager was not migrated: {managers:?}"),
    );
    p.check(
        managers.contains(&("kubectl", "Apply")),
        format!("no kubectl Apply entry: {managers:?}"),
    );
    // kubectl keeps the annotation owned by an applier of its own.
    let keeper = managed_by(&d, "kubectl-last-applied");
    if keeper.len() == 1 {
        p.eq(
            "kubectl-last-applied's entry",
            &json!({"operation": keeper[0]["operation"], "fieldsV1": keeper[0]["fieldsV1"]}),
            &json!({"operation": "Apply", "fieldsV1": {"f:metadata": {"f:annotations": {
                "f:kubectl.kubernetes.io/last-applied-configuration": {}
            }}}}),
        );
    } else {
        p.check(
            false,
            format!("no kubectl-last-applied entry: {managers:?}"),
        );
    }
    // The server keeps the annotation in step for the "kubectl" applier
    // (buildLastApplied: the applied object, JSON-encoded as kubectl does,
    // newline included).
    p.eq(
        "the last-applied annotation after the first server-side apply",
        &last_applied(&d),
        &ssa_annotation(&m1),
    );
    p.check(
        last_applied_text(&d).ends_with('\n'),
        format!(
            "the server-built last-applied annotation ends with a newline (json.Encoder): {:?}",
            last_applied_text(&d)
        ),
    );

    // Ownership moved: dropping a field from the manifest now removes it.
    let m2 = deployment(
        json!({"app": "web"}),
        Some(2),
        vec![container("web", "nginx:1.27")],
    );
    let out = apply(&s, &m2, &["--server-side"]).ok();
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let d = get_json(&s, &["deploy", "web"]);
    p.eq(
        "labels after a label was dropped from the migrated manifest",
        &d["metadata"]["labels"],
        &json!({"app": "web"}),
    );
    p.eq(
        "the image",
        &d["spec"]["template"]["spec"]["containers"][0]["image"],
        &json!("nginx:1.27"),
    );
    p.eq(
        "the last-applied annotation after the second server-side apply",
        &last_applied(&d),
        &ssa_annotation(&m2),
    );

    // As documented: a field changed by `kubectl scale` after client-side
    // apply is not the client-side manager's, and conflicts.
    let mut api = m1.clone();
    api["metadata"]["name"] = json!("api");
    apply(&s, &api, &[]).ok();
    s.kubectl(&["scale", "deploy", "api", "--replicas=3"]).ok();
    let out = apply(&s, &api, &["--server-side"]);
    p.check(
        !out.status.success()
            && out.stderr_str().starts_with(
                "error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas\n",
            ),
        format!(
            "server-side apply after client-side apply and kubectl scale:\n    expected error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas\n    got      {} {}",
            out.status,
            out.stderr_str().lines().next().unwrap_or_default()
        ),
    );
    p.eq(
        "replicas after the refused apply",
        &get_json(&s, &["deploy", "api"])["spec"]["replicas"],
        &json!(3),
    );
    p.finish();
}

fn diff_is_a_server_dry_run(backend: Backend) {
    let s = api_only_server(backend);
    let d1 = deployment(
        json!({"app": "web"}),
        Some(2),
        vec![container("web", "nginx:1.26")],
    );
    apply(&s, &d1, &[]).ok();
    let before = get_json(&s, &["deploy", "web"]);

    let d2 = deployment(
        json!({"app": "web"}),
        Some(5),
        vec![container("web", "nginx:1.27")],
    );
    let file = manifest(&s, "d2.json", &d2.to_string());
    let out = s.kubectl(&["diff", "-f", &file]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "diff exits 1 on differences: {}",
        out.stderr_str()
    );
    let text = out.stdout_str();
    let lines: Vec<_> = text.lines().collect();
    for expected in [
        "-  generation: 1",
        "+  generation: 2",
        "-  replicas: 2",
        "+  replicas: 5",
    ] {
        assert!(lines.contains(&expected), "{expected:?} missing:\n{text}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('-') && l.ends_with("image: nginx:1.26")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.ends_with("image: nginx:1.27")),
        "{text}"
    );
    // Nothing stored.
    let after = get_json(&s, &["deploy", "web"]);
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(after["spec"]["replicas"], 2);

    // No differences: exit 0, no output.
    let file = manifest(&s, "d1.json", &d1.to_string());
    let out = s.kubectl(&["diff", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr_str());
    assert_eq!(out.stdout_str(), "");

    // A new object shows whole, and is not created.
    let mut other = d1.clone();
    other["metadata"]["name"] = json!("other");
    let file = manifest(&s, "other.json", &other.to_string());
    let out = s.kubectl(&["diff", "-f", &file]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr_str());
    assert!(
        out.stdout_str().contains("+  name: other"),
        "{}",
        out.stdout_str()
    );
    assert!(
        s.kubectl(&["get", "deploy", "other"])
            .err()
            .contains("not found")
    );
}

fn server_dry_run_stores_nothing(backend: Backend) {
    let s = api_only_server(backend);
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dry"},
        "data": {"k": "v"},
    });
    let file = manifest(&s, "dry.json", &cm.to_string());
    let not_found = |s: &RkubeServer| {
        let err = s.kubectl(&["get", "cm", "dry"]).err();
        assert_eq!(
            err.trim(),
            r#"Error from server (NotFound): configmaps "dry" not found"#
        );
    };

    let out = s
        .kubectl(&[
            "create",
            "--validate=false",
            "--dry-run=server",
            "-f",
            &file,
        ])
        .ok();
    assert_eq!(out.trim(), "configmap/dry created (server dry run)");
    not_found(&s);
    let out = apply(&s, &cm, &["--dry-run=server"]).ok();
    assert_eq!(out.trim(), "configmap/dry created (server dry run)");
    not_found(&s);
    let out = apply(&s, &cm, &["--server-side", "--dry-run=server"]).ok();
    assert_eq!(
        out.trim(),
        "configmap/dry serverside-applied (server dry run)"
    );
    not_found(&s);
    // The dry-run create answers with the object as it would be stored.
    let out = s
        .kubectl(&[
            "create",
            "--validate=false",
            "--dry-run=server",
            "-f",
            &file,
            "-o",
            "json",
        ])
        .ok();
    let would_be: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(would_be["data"], json!({"k": "v"}));
    assert!(
        would_be["metadata"]["creationTimestamp"].is_string(),
        "{would_be}"
    );

    apply(&s, &cm, &[]).ok();
    let stored = get_json(&s, &["cm", "dry"]);
    let mut changed = cm.clone();
    changed["data"]["k"] = json!("w");
    let out = apply(&s, &changed, &["--dry-run=server"]).ok();
    assert_eq!(out.trim(), "configmap/dry configured (server dry run)");
    let out = apply(
        &s,
        &changed,
        &["--server-side", "--force-conflicts", "--dry-run=server"],
    )
    .ok();
    assert_eq!(
        out.trim(),
        "configmap/dry serverside-applied (server dry run)"
    );
    let out = s.kubectl(&["delete", "cm", "dry", "--dry-run=server"]).ok();
    assert_eq!(out.trim(), r#"configmap "dry" deleted (server dry run)"#);
    let now = get_json(&s, &["cm", "dry"]);
    assert_eq!(now["data"], json!({"k": "v"}));
    assert_eq!(
        now["metadata"]["resourceVersion"],
        stored["metadata"]["resourceVersion"]
    );
    assert!(now["metadata"]["deletionTimestamp"].is_null(), "{now}");
}

both_backends!(
    client_side_apply_of_changed_manifests,
    client_side_apply_of_removed_labels,
    server_side_apply,
    client_side_to_server_side_migration,
    diff_is_a_server_dry_run,
    server_dry_run_stores_nothing,
);
