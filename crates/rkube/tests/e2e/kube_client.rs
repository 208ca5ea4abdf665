//! kube-rs, the Rust client, against the server: create, list, watch,
//! patch and delete of ConfigMaps and Deployments.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::{Backend, both_backends, server};

async fn client(s: &crate::RkubeServer) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(s.kubeconfig()).expect("reading the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

fn kube_rs_create_list_watch_patch_delete(backend: Backend) {
    let s = server(backend);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = client(&s).await;
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let list = cms.list(&ListParams::default()).await.unwrap();
        let rv = list.metadata.resource_version.clone().unwrap();
        let mut watch = cms.watch(&WatchParams::default().labels("app=kube-rs"), &rv).await.unwrap().boxed();

        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "from-kube-rs", "labels": {"app": "kube-rs"}},
            "data": {"k": "v"}
        }))
        .unwrap();
        let created = cms.create(&PostParams::default(), &cm).await.unwrap();
        assert!(created.metadata.uid.is_some());

        let event = tokio::time::timeout(Duration::from_secs(10), watch.try_next()).await.unwrap().unwrap().unwrap();
        match event {
            WatchEvent::Added(obj) => assert_eq!(obj.metadata.name.as_deref(), Some("from-kube-rs")),
            other => panic!("expected ADDED, got {other:?}"),
        }

        let found = cms.list(&ListParams::default().labels("app=kube-rs")).await.unwrap();
        assert_eq!(found.items.len(), 1);

        let patched = cms
            .patch("from-kube-rs", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "w"}})))
            .await
            .unwrap();
        assert_eq!(patched.data.unwrap()["k"], "w");
        let event = tokio::time::timeout(Duration::from_secs(10), watch.try_next()).await.unwrap().unwrap().unwrap();
        assert!(matches!(event, WatchEvent::Modified(_)), "{event:?}");

        cms.delete("from-kube-rs", &DeleteParams::default()).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(10), watch.try_next()).await.unwrap().unwrap().unwrap();
        assert!(matches!(event, WatchEvent::Deleted(_)), "{event:?}");
        let err = cms.get("from-kube-rs").await.unwrap_err();
        match err {
            kube::Error::Api(status) => assert_eq!(status.code, 404),
            other => panic!("expected a 404, got {other}"),
        }

        // A Deployment through its typed API, and its scale subresource.
        let deploys: Api<Deployment> = Api::namespaced(client, "default");
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
            }
        }))
        .unwrap();
        deploys.create(&PostParams::default(), &d).await.unwrap();
        let scale = deploys.get_scale("web").await.unwrap();
        assert_eq!(scale.spec.unwrap().replicas, Some(2));
        let all = deploys.list(&ListParams::default()).await.unwrap();
        assert_eq!(all.items.len(), 1);
        assert_eq!(all.items[0].metadata.generation, Some(1));
    });
}

both_backends!(kube_rs_create_list_watch_patch_delete);
