//! kube-rs writes: the operations of the Python client test, through
//! kube-rs — create, list, watch, `Patch::Strategic`, `Patch::Merge`,
//! `Patch::Apply` (server-side apply with `PatchParams::apply("kube-rs")`,
//! a conflict, `force()`), delete.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::{Backend, Problems, api_only_server, both_backends};

async fn client(s: &crate::RkubeServer) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(s.kubeconfig()).expect("reading the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

fn name_of<K: kube::Resource>(event: &WatchEvent<K>) -> (&'static str, String) {
    match event {
        WatchEvent::Added(o) => ("ADDED", o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("MODIFIED", o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("DELETED", o.meta().name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(_) => ("BOOKMARK", String::new()),
        WatchEvent::Error(e) => panic!("watch error: {e:?}"),
    }
}

/// Events from `rv` until the first DELETED (or the watch's end).
async fn events<K>(api: &Api<K>, labels: &str, rv: &str) -> Vec<(&'static str, String)>
where
    K: kube::Resource
        + Clone
        + k8s_openapi::serde::de::DeserializeOwned
        + std::fmt::Debug
        + 'static,
{
    let mut stream = api
        .watch(&WatchParams::default().labels(labels).timeout(10), rv)
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while let Ok(Ok(Some(event))) =
        tokio::time::timeout(Duration::from_secs(15), stream.try_next()).await
    {
        let e = name_of(&event);
        if e.0 == "BOOKMARK" {
            continue;
        }
        let done = e.0 == "DELETED";
        seen.push(e);
        if done {
            break;
        }
    }
    seen
}

fn kube_rs_patch_strategic_merge_and_apply(backend: Backend) {
    let s = api_only_server(backend);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut p = Problems::default();
    rt.block_on(async {
        let client = client(&s).await;

        // ConfigMaps.
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let rv = cms
            .list(&ListParams::default())
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "rs-cm", "labels": {"app": "rs"}},
            "data": {"k": "v"},
        }))
        .unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
        let found = cms
            .list(&ListParams::default().labels("app=rs"))
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);

        let patched = cms
            .patch(
                "rs-cm",
                &PatchParams::default(),
                &Patch::Strategic(json!({"data": {"k2": "v2"}})),
            )
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&patched.data).unwrap(),
            json!({"k": "v", "k2": "v2"})
        );
        let patched = cms
            .patch(
                "rs-cm",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"k": null}})),
            )
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&patched.data).unwrap(),
            json!({"k2": "v2"})
        );
        let applied = cms
            .patch(
                "rs-cm",
                &PatchParams::apply("kube-rs"),
                &Patch::Apply(json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "rs-cm"},
                    "data": {"k3": "v3"},
                })),
            )
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&applied.data).unwrap(),
            json!({"k2": "v2", "k3": "v3"})
        );
        let entry = applied
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.manager.as_deref() == Some("kube-rs"))
            .expect("the applier's managedFields entry");
        assert_eq!(entry.operation.as_deref(), Some("Apply"));
        p.eq(
            "the kube-rs applier's fieldsV1",
            &entry.fields_v1.map(|f| f.0).unwrap_or_default(),
            &json!({"f:data": {"f:k3": {}}}),
        );

        cms.delete("rs-cm", &DeleteParams::default()).await.unwrap();
        match cms.get("rs-cm").await.unwrap_err() {
            kube::Error::Api(status) => assert_eq!(status.code, 404),
            other => panic!("expected a 404, got {other}"),
        }
        let seen = events(&cms, "app=rs", &rv).await;
        let kinds: Vec<_> = seen.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            kinds,
            ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
            "{seen:?}"
        );

        // Deployments.
        let deploys: Api<Deployment> = Api::namespaced(client, "default");
        let rv = deploys
            .list(&ListParams::default())
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "rs-web", "labels": {"app": "rs-web"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "rs-web"}},
                "template": {
                    "metadata": {"labels": {"app": "rs-web"}},
                    "spec": {"containers": [
                        {"name": "web", "image": "nginx:1.26"},
                        {"name": "side", "image": "busybox:1.36"},
                    ]},
                },
            },
        }))
        .unwrap();
        deploys.create(&PostParams::default(), &d).await.unwrap();

        let patched = deploys
            .patch(
                "rs-web",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27"}
                ]}}}})),
            )
            .await
            .unwrap();
        let images: Vec<_> = patched
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            images,
            [
                ("web".to_owned(), "nginx:1.27".to_owned()),
                ("side".to_owned(), "busybox:1.36".to_owned())
            ]
        );
        assert_eq!(patched.metadata.generation, Some(2));

        let scaler = PatchParams {
            field_manager: Some("rs-scaler".into()),
            ..PatchParams::default()
        };
        let patched = deploys
            .patch(
                "rs-web",
                &scaler,
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .unwrap();
        assert_eq!(patched.spec.unwrap().replicas, Some(3));

        let replicas = Patch::Apply(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "rs-web"},
            "spec": {"replicas": 2},
        }));
        match deploys
            .patch("rs-web", &PatchParams::apply("kube-rs"), &replicas)
            .await
            .unwrap_err()
        {
            kube::Error::Api(status) => {
                assert_eq!(status.code, 409, "{status:?}");
                assert_eq!(status.reason, "Conflict", "{status:?}");
                p.eq(
                    "the conflict message",
                    &json!(status.message),
                    &json!(
                        "Apply failed with 1 conflict: conflict with \"rs-scaler\" using apps/v1: .spec.replicas"
                    ),
                );
            }
            other => panic!("expected a conflict, got {other}"),
        }
        let applied = deploys
            .patch("rs-web", &PatchParams::apply("kube-rs").force(), &replicas)
            .await
            .unwrap();
        assert_eq!(applied.spec.as_ref().unwrap().replicas, Some(2));
        let managers: Vec<_> = applied
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.manager.unwrap_or_default(), e.operation.unwrap_or_default()))
            .collect();
        assert!(
            managers.contains(&("kube-rs".to_owned(), "Apply".to_owned())),
            "{managers:?}"
        );
        assert!(
            !managers.iter().any(|(m, _)| m == "rs-scaler"),
            "the forced apply took the scaler's only field: {managers:?}"
        );

        deploys
            .delete("rs-web", &DeleteParams::default())
            .await
            .unwrap();
        match deploys.get("rs-web").await.unwrap_err() {
            kube::Error::Api(status) => assert_eq!(status.code, 404),
            other => panic!("expected a 404, got {other}"),
        }
        let seen = events(&deploys, "app=rs-web", &rv).await;
        let kinds: Vec<_> = seen.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            kinds,
            ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
            "{seen:?}"
        );
    });
    p.finish();
}

both_backends!(kube_rs_patch_strategic_merge_and_apply);
