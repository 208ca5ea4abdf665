//! `rkube-bench rollout KUBECONFIG [NODES] [REPLICAS]`: the controller
//! manager's benchmark. Registers `NODES` simulated nodes (this process
//! plays their kubelets: pods bound to them run and become Ready), then
//!
//! 1. creates a Deployment of `REPLICAS` replicas and times it until every
//!    replica is available (controllers create the pods, the scheduler
//!    binds them, the simulator runs them);
//! 2. changes its image and times the rolling update (maxSurge 25%,
//!    maxUnavailable 25%) until every replica is updated and available;
//! 3. waits for the cluster to settle and reports the server's CPU use
//!    while nothing changes (the caller samples its RSS).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

/// Run the benchmark; JSON figures.
pub async fn run(kubeconfig: &str, nodes: usize, replicas: i32) -> Result<serde_json::Value> {
    let started = Instant::now();
    let mut cfg = rkube_sim::SimConfig::new(kubeconfig, nodes);
    cfg.cpu = "32".into();
    cfg.memory = "256Gi".into();
    cfg.pods = 110;
    cfg.node_concurrency = 64;
    cfg.run_pods = true;
    cfg.termination_delay = Duration::from_millis(100);
    let sim = rkube_sim::start(cfg)
        .await
        .context("starting the simulator")?;
    if sim.nodes().len() != nodes {
        bail!("{} nodes registered, not {nodes}", sim.nodes().len());
    }
    let nodes_s = started.elapsed().as_secs_f64();
    let client = rkube_sim::client(std::path::Path::new(kubeconfig)).await?;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let name = format!("bench-{}", std::process::id());
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            }
        }
    }))?;

    let t0 = Instant::now();
    api.create(&PostParams::default(), &deployment).await?;
    let available_s = wait(&api, &name, replicas, Duration::from_secs(300), |d| {
        let s = d.status.clone().unwrap_or_default();
        s.available_replicas == Some(replicas) && s.ready_replicas == Some(replicas)
    })
    .await
    .map(|_| t0.elapsed().as_secs_f64());

    let t1 = Instant::now();
    let rolled_s = match available_s {
        Ok(_) => {
            let patch = json!({"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "nginx:2"}]}}}});
            api.patch(&name, &PatchParams::default(), &Patch::Strategic(patch))
                .await?;
            wait(&api, &name, replicas, Duration::from_secs(600), |d| {
                let s = d.status.clone().unwrap_or_default();
                d.metadata.generation <= s.observed_generation
                    && s.updated_replicas == Some(replicas)
                    && s.replicas == Some(replicas)
                    && s.available_replicas == Some(replicas)
            })
            .await
            .map(|_| t1.elapsed().as_secs_f64())
        }
        Err(ref e) => Err(anyhow::anyhow!("not rolled: {e}")),
    };
    // Let the last pods of the old ReplicaSet go and the writes settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let out = json!({
        "bench": "rollout",
        "nodes": nodes,
        "replicas": replicas,
        "nodes_registered_s": nodes_s,
        "available_s": available_s.as_ref().ok(),
        "available_error": available_s.as_ref().err().map(|e| e.to_string()),
        "rolled_s": rolled_s.as_ref().ok(),
        "rolled_error": rolled_s.as_ref().err().map(|e| e.to_string()),
    });
    // The simulator keeps the nodes alive while the caller measures the
    // idle server; it stops when the caller kills this process.
    println!("{out}");
    std::mem::forget(sim);
    std::future::pending::<()>().await;
    Ok(out)
}

async fn wait(
    api: &Api<Deployment>,
    name: &str,
    replicas: i32,
    limit: Duration,
    done: impl Fn(&Deployment) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let d = api.get(name).await?;
        if done(&d) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let s = d.status.unwrap_or_default();
            bail!(
                "timed out: {:?} available, {:?} updated of {replicas}",
                s.available_replicas,
                s.updated_replicas
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
