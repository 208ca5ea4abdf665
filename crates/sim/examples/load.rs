//! Load the simulator: register NODES simulated nodes (embedded), create
//! PODS pods bound to them round-robin, and report how fast they run, how
//! fast Leases are renewed, and the simulator's memory.
//!
//! ```text
//! cargo run --release -p rkube-sim --example load -- KUBECONFIG NODES PODS
//! ```

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn wait_for(sim: &rkube_sim::Sim, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    let mut report = Instant::now();
    while !done() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if report.elapsed() > Duration::from_secs(10) {
            report = Instant::now();
            eprintln!(
                "waiting for {what}: {:?}; RSS {:.0} MiB",
                sim.stats(),
                rss_mib()
            );
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!("timed out waiting for {what}");
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RKUBE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let (kubeconfig, nodes, pods, collection) = match &args[..] {
        [_, k, n, p] => (k, n, p, false),
        [_, k, n, p, c] if c == "collection" => (k, n, p, true),
        _ => anyhow::bail!("usage: load KUBECONFIG NODES PODS [collection]"),
    };
    let nodes: usize = nodes.parse()?;
    let pods: u64 = pods.parse()?;
    let client = rkube_sim::client(kubeconfig.as_ref()).await?;

    let started = Instant::now();
    let sim =
        rkube_sim::start_with_client(client.clone(), rkube_sim::SimConfig::new(kubeconfig, nodes))
            .await?;
    println!(
        "registered {nodes} nodes in {:.1} s; RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        rss_mib()
    );

    let ns = "sim-load";
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let _ = namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}}))?,
        )
        .await;
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let started = Instant::now();
    let before = sim.stats().pods_started.load(Ordering::Relaxed);
    futures::stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            async move {
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("p-{i}")},
                    "spec": {
                        "nodeName": format!("sim-{}", i as usize % nodes),
                        "containers": [{"name": "c", "image": "busybox",
                                        "resources": {"requests": {"cpu": "10m"}}}],
                    },
                }))?;
                api.create(&PostParams::default(), &pod)
                    .await
                    .context("creating a pod")?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(64)
        .try_collect::<()>()
        .await?;
    let created = started.elapsed();
    wait_for(&sim, "pods to run", || {
        sim.stats().pods_started.load(Ordering::Relaxed) - before >= pods
    })
    .await;
    let running = started.elapsed();
    println!(
        "{pods} pods created in {:.1} s ({:.0}/s), all Running after {:.1} s ({:.0}/s); RSS {:.0} MiB",
        created.as_secs_f64(),
        pods as f64 / created.as_secs_f64(),
        running.as_secs_f64(),
        pods as f64 / running.as_secs_f64(),
        rss_mib()
    );
    let check = api.list(&ListParams::default().limit(1)).await?;
    if let Some(p) = check.items.first() {
        let st = p.status.as_ref().unwrap();
        println!(
            "sample: {} {:?} podIP {:?}",
            p.metadata.name.as_deref().unwrap_or(""),
            st.phase,
            st.pod_ip
        );
    }

    let renewals = sim.stats().lease_renewals.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let renewed = sim.stats().lease_renewals.load(Ordering::Relaxed) - renewals;
    println!(
        "lease renewals: {:.0}/s (expected {:.0}/s); errors so far {}",
        renewed as f64 / 10.0,
        nodes as f64 / 10.0,
        sim.stats().errors.load(Ordering::Relaxed)
    );

    let started = Instant::now();
    let before = sim.stats().pods_deleted.load(Ordering::Relaxed);
    // One by one, as controllers do, or all at once.
    if collection {
        api.delete_collection(&DeleteParams::default(), &ListParams::default())
            .await?;
    } else {
        futures::stream::iter(0..pods)
            .map(|i| {
                let api = api.clone();
                async move {
                    api.delete(&format!("p-{i}"), &DeleteParams::default())
                        .await
                        .context("deleting a pod")?;
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(64)
            .try_collect::<()>()
            .await?;
    }
    println!(
        "{pods} deletions requested in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    wait_for(&sim, "pods to be deleted", || {
        sim.stats().pods_deleted.load(Ordering::Relaxed) - before >= pods
    })
    .await;
    println!(
        "{pods} pods deleted (graceful, 1 s termination) in {:.1} s; RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        rss_mib()
    );
    sim.shutdown().await;
    Ok(())
}
