//! kube-rs and custom resources: a CustomResourceDefinition through
//! `Api<CustomResourceDefinition>` (waited on until Established), then its
//! objects as `DynamicObject`s — create (defaulted), get, list with a label
//! selector, watch, `Patch::Merge`, `Patch::Apply` (a conflict, then
//! forced), `Patch::Strategic` refused with 415 as upstream refuses it for
//! custom resources, the status and scale subresources, schema violations
//! (422), delete; then the definition is deleted and its kind stops being
//! served.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::response::StatusSummary;
use kube::runtime::wait::{await_condition, conditions};
use serde_json::{Value, json};

use crate::{Backend, Problems, both_backends, server};

async fn client(s: &crate::RkubeServer) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(s.kubeconfig()).expect("reading the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

/// The API error of a call that must fail.
fn api_error<T: std::fmt::Debug>(what: &str, result: kube::Result<T>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        Err(other) => panic!("{what}: expected an API error, got {other}"),
        Ok(v) => panic!("{what}: succeeded, expected an API error: {v:?}"),
    }
}

fn definition(group: &str) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("crontabs.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "crontabs",
                "singular": "crontab",
                "kind": "CronTab",
                "listKind": "CronTabList",
                "shortNames": ["ct"],
            },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "cronSpec": {"type": "string"},
                            "image": {"type": "string"},
                            "replicas": {"type": "integer", "default": 1},
                        }},
                        "status": {"type": "object", "properties": {
                            "replicas": {"type": "integer"},
                            "labelSelector": {"type": "string"},
                        }},
                    },
                }},
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                        "labelSelectorPath": ".status.labelSelector",
                    },
                },
                "additionalPrinterColumns": [
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    }))
    .expect("a CustomResourceDefinition")
}

fn cron_tab(api_version: &str, name: &str, labels: Value, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": api_version,
        "kind": "CronTab",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }))
    .expect("a CronTab")
}

/// (type, name, spec.image) of a watch event.
fn event_of(event: &WatchEvent<DynamicObject>) -> (&'static str, String, Value) {
    let summary = |t, o: &DynamicObject| {
        (
            t,
            o.metadata.name.clone().unwrap_or_default(),
            o.data["spec"]["image"].clone(),
        )
    };
    match event {
        WatchEvent::Added(o) => summary("ADDED", o),
        WatchEvent::Modified(o) => summary("MODIFIED", o),
        WatchEvent::Deleted(o) => summary("DELETED", o),
        WatchEvent::Bookmark(_) => ("BOOKMARK", String::new(), Value::Null),
        WatchEvent::Error(e) => panic!("watch error: {e:?}"),
    }
}

fn kube_rs_custom_resources(backend: Backend) {
    let s = server(backend);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut p = Problems::default();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let suffix = format!("{:x}{nanos:x}", std::process::id());
    let group = format!("stable{suffix}.example.com");
    let crd_name = format!("crontabs.{group}");
    let api_version = format!("{group}/v1");
    let name = format!("rs-ct-{suffix}");
    let other = format!("rs-other-{suffix}");
    let app = format!("rs-ct-{suffix}");
    let label = format!("app={app}");
    rt.block_on(async {
        let client = client(&s).await;

        // The definition, Established.
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let created = crds
            .create(&PostParams::default(), &definition(&group))
            .await
            .unwrap();
        assert_eq!(created.metadata.name.as_deref(), Some(crd_name.as_str()));
        assert!(created.metadata.uid.is_some());
        let established = tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds.clone(), &crd_name, conditions::is_crd_established()),
        )
        .await
        .expect("the definition is Established within 30s")
        .unwrap()
        .expect("the definition exists");
        let status = established.status.clone().unwrap_or_default();
        let conditions: Vec<_> = status
            .conditions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.type_, c.status))
            .collect();
        p.check(
            conditions.contains(&("NamesAccepted".into(), "True".into())),
            format!("NamesAccepted is True: {conditions:?}"),
        );
        p.eq(
            "the accepted kind and plural",
            &json!(
                status
                    .accepted_names
                    .as_ref()
                    .map(|n| (n.kind.clone(), n.plural.clone()))
            ),
            &json!(["CronTab", "crontabs"]),
        );
        p.eq(
            "storedVersions",
            &json!(status.stored_versions),
            &json!(["v1"]),
        );

        // Its objects.
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&group, "v1", "CronTab"),
            "crontabs",
        );
        let cts: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
        let list = cts.list(&ListParams::default()).await.unwrap();
        assert!(list.items.is_empty(), "{:?}", list.items);
        let rv = list.metadata.resource_version.clone().unwrap();
        let mut watch = cts
            .watch(&WatchParams::default().labels(&label).timeout(30), &rv)
            .await
            .unwrap()
            .boxed();

        let created = cts
            .create(
                &PostParams::default(),
                &cron_tab(
                    &api_version,
                    &name,
                    json!({"app": app}),
                    json!({"cronSpec": "*/5 * * * *", "image": "img:1"}),
                ),
            )
            .await
            .unwrap();
        assert!(created.metadata.uid.is_some());
        p.eq(
            "create returns apiVersion and kind",
            &json!(created.types.as_ref().map(|t| (&t.api_version, &t.kind))),
            &json!([api_version, "CronTab"]),
        );
        p.eq(
            "create applies the schema's default",
            &created.data["spec"],
            &json!({"cronSpec": "*/5 * * * *", "image": "img:1", "replicas": 1}),
        );
        p.eq(
            "a new object's status (create cannot set it)",
            &created.data["status"],
            &Value::Null,
        );
        p.eq(
            "a new object's generation",
            &json!(created.metadata.generation),
            &json!(1),
        );
        cts.create(
            &PostParams::default(),
            &cron_tab(
                &api_version,
                &other,
                json!({}),
                json!({"cronSpec": "0 0 * * *", "image": "img:other", "replicas": 2}),
            ),
        )
        .await
        .unwrap();

        let got = cts.get(&name).await.unwrap();
        p.eq(
            "get returns the defaulted object",
            &got.data["spec"]["replicas"],
            &json!(1),
        );
        let found = cts
            .list(&ListParams::default().labels(&label))
            .await
            .unwrap();
        let names: Vec<_> = found
            .items
            .iter()
            .map(|o| o.metadata.name.clone().unwrap_or_default())
            .collect();
        p.eq(
            "a label-selected list",
            &json!(names),
            &json!([name.clone()]),
        );
        let all = cts.list(&ListParams::default()).await.unwrap();
        p.eq("an unselected list", &json!(all.items.len()), &json!(2));

        // JSON merge patch; status is ignored through the main resource.
        let merger = PatchParams {
            field_manager: Some("kube-rs-merger".into()),
            ..PatchParams::default()
        };
        let patched = cts
            .patch(
                &name,
                &merger,
                &Patch::Merge(json!({
                    "metadata": {"labels": {"team": "rs"}},
                    "spec": {"image": "img:2"},
                    "status": {"replicas": 9},
                })),
            )
            .await
            .unwrap();
        p.eq(
            "merge patch sets the image",
            &patched.data["spec"]["image"],
            &json!("img:2"),
        );
        p.eq(
            "merge patch merges labels",
            &json!(patched.metadata.labels),
            &json!({"app": app, "team": "rs"}),
        );
        p.eq(
            "status written through the main resource",
            &patched.data["status"],
            &Value::Null,
        );
        p.eq(
            "generation after a spec change",
            &json!(patched.metadata.generation),
            &json!(2),
        );

        // Strategic merge patch is not defined for custom resources.
        let status = api_error(
            "a strategic merge patch",
            cts.patch(
                &name,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"image": "img:smp"}})),
            )
            .await,
        );
        p.eq(
            "a strategic merge patch of a custom resource",
            &json!([status.code, status.reason]),
            &json!([415, "UnsupportedMediaType"]),
        );

        // Server-side apply: a conflict over spec.image, then forced.
        let apply = Patch::Apply(json!({
            "apiVersion": api_version,
            "kind": "CronTab",
            "metadata": {"name": name},
            "spec": {"image": "img:3"},
        }));
        let status = api_error(
            "applying a field owned by another manager",
            cts.patch(&name, &PatchParams::apply("kube-rs-test"), &apply)
                .await,
        );
        p.eq(
            "the apply conflict",
            &json!([status.code, status.reason, status.message]),
            &json!([
                409,
                "Conflict",
                format!(
                    "Apply failed with 1 conflict: conflict with \"kube-rs-merger\" using {api_version}: .spec.image"
                )
            ]),
        );
        let applied = cts
            .patch(&name, &PatchParams::apply("kube-rs-test").force(), &apply)
            .await
            .unwrap();
        p.eq(
            "a forced apply takes the field and keeps the rest",
            &applied.data["spec"],
            &json!({"cronSpec": "*/5 * * * *", "image": "img:3", "replicas": 1}),
        );
        let entries: Vec<_> = applied
            .metadata
            .managed_fields
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                (
                    e.manager.unwrap_or_default(),
                    e.operation.unwrap_or_default(),
                    e.api_version.unwrap_or_default(),
                    e.fields_v1.map(|f| f.0).unwrap_or_default(),
                )
            })
            .collect();
        let entry = |manager: &str| {
            entries
                .iter()
                .find(|e| e.0 == manager)
                .map(|e| json!([e.1, e.2, e.3]))
                .unwrap_or_default()
        };
        p.eq(
            "the applier's managedFields entry",
            &entry("kube-rs-test"),
            &json!(["Apply", api_version, {"f:spec": {"f:image": {}}}]),
        );
        p.eq(
            "the merger's managedFields entry after the forced apply",
            &entry("kube-rs-merger"),
            &json!(["Update", api_version, {"f:metadata": {"f:labels": {"f:team": {}}}}]),
        );
        p.eq(
            "generation after the apply",
            &json!(applied.metadata.generation),
            &json!(3),
        );

        // The status subresource: status written, spec ignored.
        let with_status = cts
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({
                    "status": {"replicas": 2, "labelSelector": label},
                    "spec": {"image": "ignored"},
                })),
            )
            .await
            .unwrap();
        p.eq(
            "/status writes the status",
            &with_status.data["status"],
            &json!({"replicas": 2, "labelSelector": label}),
        );
        p.eq(
            "/status ignores the spec",
            &with_status.data["spec"]["image"],
            &json!("img:3"),
        );
        p.eq(
            "generation after a status change",
            &json!(with_status.metadata.generation),
            &json!(3),
        );
        let read = cts.get_status(&name).await.unwrap();
        p.eq(
            "/status reads the object",
            &read.data["status"]["replicas"],
            &json!(2),
        );

        // The scale subresource.
        let scale = cts.get_scale(&name).await.unwrap();
        p.eq(
            "the scale",
            &json!([
                scale.metadata.name,
                scale.spec.as_ref().and_then(|s| s.replicas),
                scale.status.as_ref().map(|s| s.replicas),
                scale.status.as_ref().and_then(|s| s.selector.clone()),
            ]),
            &json!([name, 1, 2, label]),
        );
        let scaled = cts
            .patch_scale(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .unwrap();
        p.eq(
            "a scale patch returns the new scale",
            &json!(scaled.spec.and_then(|s| s.replicas)),
            &json!(3),
        );
        let got = cts.get(&name).await.unwrap();
        p.eq(
            "a scale patch sets spec.replicas",
            &got.data["spec"]["replicas"],
            &json!(3),
        );
        p.eq(
            "generation after a scale change",
            &json!(got.metadata.generation),
            &json!(4),
        );

        // Schema violations: 422, nothing stored.
        let bad = format!("rs-bad-{suffix}");
        let status = api_error(
            "creating an object that violates the schema",
            cts.create(
                &PostParams::default(),
                &cron_tab(
                    &api_version,
                    &bad,
                    json!({}),
                    json!({"cronSpec": "* * * * *", "replicas": "x"}),
                ),
            )
            .await,
        );
        p.eq(
            "a schema violation",
            &json!([
                status.code,
                status.reason,
                status.details.map(|d| d
                    .causes
                    .into_iter()
                    .map(|c| c.field)
                    .collect::<Vec<_>>())
            ]),
            &json!([422, "Invalid", ["spec.replicas"]]),
        );
        p.check(
            status
                .message
                .contains("spec.replicas in body must be of type integer: \"string\""),
            format!("the 422 says what the type should be: {}", status.message),
        );
        let status = api_error("reading a refused object", cts.get(&bad).await);
        p.eq(
            "a refused object is not stored",
            &json!(status.code),
            &json!(404),
        );
        let status = api_error(
            "a merge patch that violates the schema",
            cts.patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": "x"}})),
            )
            .await,
        );
        p.eq(
            "a merge patch that violates the schema",
            &json!([status.code, status.reason]),
            &json!([422, "Invalid"]),
        );

        // Delete.
        let deleted = cts.delete(&name, &DeleteParams::default()).await.unwrap();
        match deleted.right() {
            Some(status) => {
                p.check(
                    status.status == Some(StatusSummary::Success),
                    format!("delete returns a Success Status: {status:?}"),
                );
                p.eq(
                    "the deleted Status's details",
                    &json!(status.details.map(|d| (d.name, d.group, d.kind))),
                    &json!([name, group, "crontabs"]),
                );
            }
            None => p.check(
                false,
                "delete of a custom resource returns a Status, not the object",
            ),
        }
        let status = api_error("reading a deleted object", cts.get(&name).await);
        assert_eq!(status.code, 404, "{status:?}");

        // The watch saw every change of the selected object, and only it.
        let mut seen = Vec::new();
        while let Ok(Ok(Some(event))) =
            tokio::time::timeout(Duration::from_secs(15), watch.try_next()).await
        {
            let e = event_of(&event);
            if e.0 == "BOOKMARK" {
                continue;
            }
            let done = e.0 == "DELETED";
            seen.push(e);
            if done {
                break;
            }
        }
        let seen: Vec<_> = seen.into_iter().map(|(t, n, i)| json!([t, n, i])).collect();
        p.eq(
            "the watch events",
            &json!(seen),
            &json!([
                ["ADDED", name, "img:1"],
                ["MODIFIED", name, "img:2"],
                ["MODIFIED", name, "img:3"],
                ["MODIFIED", name, "img:3"],
                ["MODIFIED", name, "img:3"],
                ["DELETED", name, "img:3"],
            ]),
        );

        // Deleting the definition (its remaining object with it).
        crds.delete(&crd_name, &DeleteParams::default())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while crds.get_opt(&crd_name).await.unwrap().is_some() {
            assert!(
                Instant::now() < deadline,
                "the definition is still there 60s after its delete"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let status = api_error(
            "listing the kind of a deleted definition",
            cts.list(&ListParams::default()).await,
        );
        p.eq(
            "the kind of a deleted definition is no longer served",
            &json!(status.code),
            &json!(404),
        );
    });
    p.finish();
}

both_backends!(kube_rs_custom_resources);
