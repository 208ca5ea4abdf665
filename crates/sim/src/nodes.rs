//! Node registration and the kubelet's heartbeats: a Lease renewed every
//! `lease_interval`, and a node status refresh every
//! `node_status_interval`, each spread evenly over its interval.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::stream::{FuturesUnordered, StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior};

use crate::{Ctx, Stats, ipam};

/// The field manager of every write.
pub(crate) const FIELD_MANAGER: &str = "rkube-sim";
/// The annotation marking a node as simulated.
pub const NODE_ANNOTATION: &str = "sim.rkube.io/node";
const LEASE_NAMESPACE: &str = "kube-node-lease";
/// The kubelet version the nodes report.
pub const KUBELET_VERSION: &str = "v1.32.0-sim";

/// A registered node.
pub(crate) struct SimNode {
    pub name: String,
    pub index: usize,
    pub uid: String,
    pub ip: Ipv4Addr,
    pub pod_cidr: String,
    /// When Ready last became True (the condition's lastTransitionTime).
    pub ready_since: Timestamp,
}

pub(crate) fn time(t: Timestamp) -> Value {
    serde_json::to_value(Time(t)).expect("a time serializes")
}

fn micro_time(t: Timestamp) -> Value {
    serde_json::to_value(MicroTime(t)).expect("a time serializes")
}

/// Whether an error is worth retrying (the server was busy or away).
pub(crate) fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500 || s.reason == "Conflict",
        kube::Error::BuildRequest(_) | kube::Error::SerdeError(_) => false,
        _ => true,
    }
}

/// Run `f` until it succeeds or fails for good (a few tries, backing off).
pub(crate) async fn retry<T, F, Fut>(mut f: F) -> kube::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube::Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if attempt < 8 && transient(&e) => {
                tracing::debug!("retrying after {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            r => return r,
        }
    }
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

fn labels(ctx: &Ctx, name: &str, index: usize) -> BTreeMap<String, String> {
    let cfg = &ctx.cfg;
    let mut labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        ("node.kubernetes.io/instance-type", "sim"),
        (
            "topology.kubernetes.io/zone",
            &cfg.zones[index % cfg.zones.len()],
        ),
        ("topology.kubernetes.io/region", &cfg.region),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    labels.extend(cfg.labels.clone());
    labels
}

fn annotations() -> Value {
    json!({
        NODE_ANNOTATION: "true",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    })
}

/// The four conditions the kubelet reports, all healthy.
pub(crate) fn conditions(heartbeat: Timestamp, ready_since: Timestamp) -> Value {
    let c = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": type_,
            "status": status,
            "lastHeartbeatTime": time(heartbeat),
            "lastTransitionTime": time(ready_since),
            "reason": reason,
            "message": message,
        })
    };
    json!([
        c(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available"
        ),
        c(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure"
        ),
        c(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available"
        ),
        c(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status"
        ),
    ])
}

fn status(ctx: &Ctx, name: &str, index: usize, ip: Ipv4Addr, now: Timestamp) -> Value {
    let cfg = &ctx.cfg;
    let resources = json!({
        "cpu": cfg.cpu,
        "memory": cfg.memory,
        "pods": cfg.pods.to_string(),
        "ephemeral-storage": cfg.ephemeral_storage,
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    });
    let id = format!("{:032x}", fnv(name.as_bytes()));
    json!({
        "capacity": resources,
        "allocatable": resources,
        "conditions": conditions(now, now),
        "addresses": [
            {"type": "InternalIP", "address": ip.to_string()},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": id,
            "systemUUID": format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32]),
            "bootID": format!("sim-{index}"),
            "kernelVersion": "6.1.0-sim",
            "osImage": "rkube sim",
            "containerRuntimeVersion": "sim://0.1.0",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    })
}

/// A 128-bit FNV-1a hash: stable fake identifiers.
pub(crate) fn fnv(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
}

/// Register (or adopt) every node and its Lease, a bounded number at a
/// time.
pub(crate) async fn register_all(ctx: &Arc<Ctx>) -> Result<Vec<SimNode>> {
    let started = Instant::now();
    let mut nodes: Vec<SimNode> = futures::stream::iter(0..ctx.cfg.nodes)
        .map(|i| register(ctx, i))
        .buffer_unordered(ctx.cfg.node_concurrency)
        .try_collect()
        .await?;
    nodes.sort_by_key(|n| n.index);
    tracing::info!(
        "registered {} simulated nodes in {} ms",
        nodes.len(),
        started.elapsed().as_millis()
    );
    Ok(nodes)
}

async fn register(ctx: &Ctx, index: usize) -> Result<SimNode> {
    let cfg = &ctx.cfg;
    let name = format!("{}{index}", cfg.prefix);
    let cidr = ipam::node_pod_cidr(index, cfg.pods)?;
    let ip = ipam::node_ip(index);
    let now = Timestamp::now();
    let api: Api<Node> = Api::all(ctx.client.clone());
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels(ctx, &name, index),
            "annotations": annotations(),
        },
        "spec": {
            "podCIDR": cidr,
            "podCIDRs": [cidr],
            "providerID": format!("sim://{name}"),
        },
        "status": status(ctx, &name, index, ip, now),
    }))
    .context("building a Node")?;
    let pp = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let node = match retry(|| api.create(&pp, &node)).await {
        Ok(n) => n,
        Err(e) if is_status(&e, 409) => adopt(ctx, &api, &name, index, ip, &cidr, now).await?,
        Err(e) => return Err(e).with_context(|| format!("registering node {name}")),
    };
    let uid = node.metadata.uid.clone().unwrap_or_default();
    let pod_cidr = node
        .spec
        .as_ref()
        .and_then(|s| s.pod_cidr.clone())
        .filter(|c| ipam::parse_cidr(c).is_some())
        .unwrap_or(cidr);
    let ready_since = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready" && c.status == "True"))
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
        .unwrap_or(now);
    let node = SimNode {
        name,
        index,
        uid,
        ip,
        pod_cidr,
        ready_since,
    };
    renew_lease(ctx, &node).await?;
    Ok(node)
}

/// A node of that name exists (the simulator restarted): bring its labels
/// and status up to date; keep its pod CIDR if it has one.
async fn adopt(
    ctx: &Ctx,
    api: &Api<Node>,
    name: &str,
    index: usize,
    ip: Ipv4Addr,
    cidr: &str,
    now: Timestamp,
) -> Result<Node> {
    let existing = retry(|| api.get(name))
        .await
        .with_context(|| format!("reading node {name}"))?;
    let mut patch = json!({
        "metadata": {"labels": labels(ctx, name, index), "annotations": annotations()},
    });
    if existing
        .spec
        .as_ref()
        .and_then(|s| s.pod_cidr.as_ref())
        .is_none()
    {
        patch["spec"] = json!({"podCIDR": cidr, "podCIDRs": [cidr]});
    }
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let patch = Patch::Strategic(patch);
    retry(|| api.patch(name, &pp, &patch))
        .await
        .with_context(|| format!("adopting node {name}"))?;
    let was_ready = existing
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    let mut st = status(ctx, name, index, ip, now);
    st["conditions"] = conditions(now, was_ready.unwrap_or(now));
    let patch = Patch::Strategic(json!({ "status": st }));
    retry(|| api.patch_status(name, &pp, &patch))
        .await
        .with_context(|| format!("adopting node {name}"))
}

/// Renew `node`'s Lease; create it if missing.
async fn renew_lease(ctx: &Ctx, node: &SimNode) -> Result<()> {
    let api: Api<Lease> = Api::namespaced(ctx.client.clone(), LEASE_NAMESPACE);
    let now = Timestamp::now();
    let spec = json!({
        "holderIdentity": node.name,
        "leaseDurationSeconds": ctx.cfg.lease_duration_seconds,
        "renewTime": micro_time(now),
    });
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    match api
        .patch(&node.name, &pp, &Patch::Merge(json!({"spec": &spec})))
        .await
    {
        Ok(_) => {
            Stats::inc(&ctx.stats.lease_renewals);
            return Ok(());
        }
        Err(e) if is_status(&e, 404) => {}
        Err(e) => return Err(e).with_context(|| format!("renewing the lease of {}", node.name)),
    }
    let lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node.name,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{
                "apiVersion": "v1",
                "kind": "Node",
                "name": node.name,
                "uid": node.uid,
            }],
        },
        "spec": spec,
    }))
    .context("building a Lease")?;
    let post = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    match retry(|| api.create(&post, &lease)).await {
        Ok(_) => {}
        // Created meanwhile: renewed next round.
        Err(e) if is_status(&e, 409) => {}
        Err(e) => return Err(e).with_context(|| format!("creating the lease of {}", node.name)),
    }
    Stats::inc(&ctx.stats.lease_renewals);
    Ok(())
}

async fn refresh_node_status(ctx: &Ctx, node: &SimNode) -> Result<()> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let patch = json!({"status": {"conditions": conditions(Timestamp::now(), node.ready_since)}});
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    api.patch_status(&node.name, &pp, &Patch::Strategic(&patch))
        .await
        .with_context(|| format!("refreshing the status of {}", node.name))?;
    Stats::inc(&ctx.stats.node_heartbeats);
    Ok(())
}

/// Renew every Lease once per `lease_interval`, forever.
pub(crate) async fn renew_leases(ctx: Arc<Ctx>, nodes: Arc<Vec<SimNode>>) -> Result<()> {
    let period = ctx.cfg.lease_interval;
    spread(ctx.clone(), nodes, period, |ctx, nodes, i| async move {
        if let Err(e) = renew_lease(&ctx, &nodes[i]).await {
            Stats::inc(&ctx.stats.errors);
            tracing::warn!("{e:#}");
        }
    })
    .await
}

/// Refresh every node's status once per `node_status_interval`, forever.
pub(crate) async fn refresh_status(ctx: Arc<Ctx>, nodes: Arc<Vec<SimNode>>) -> Result<()> {
    let period = ctx.cfg.node_status_interval;
    spread(ctx.clone(), nodes, period, |ctx, nodes, i| async move {
        if let Err(e) = refresh_node_status(&ctx, &nodes[i]).await {
            Stats::inc(&ctx.stats.errors);
            tracing::warn!("{e:#}");
        }
    })
    .await
}

/// Call `job` for every node once per `period`, evenly spread (one tick
/// every `period / nodes`, at least 10 ms apart), at most
/// `node_concurrency` at a time. When the server falls behind, at most one
/// round is owed; older rounds are skipped rather than sent in a burst.
async fn spread<F, Fut>(
    ctx: Arc<Ctx>,
    nodes: Arc<Vec<SimNode>>,
    period: Duration,
    job: F,
) -> Result<()>
where
    F: Fn(Arc<Ctx>, Arc<Vec<SimNode>>, usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let count = nodes.len() as u128;
    let period_ns = period.as_nanos().max(1);
    let tick = Duration::from_nanos(
        u64::try_from(period_ns / count)
            .unwrap_or(u64::MAX)
            .max(10_000_000),
    );
    let mut interval = tokio::time::interval_at(Instant::now() + tick, tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut in_flight = FuturesUnordered::new();
    let (mut ticks, mut sent): (u128, u128) = (0, 0);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                ticks += 1;
            }
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
        }
        let due = ticks * tick.as_nanos() * count / period_ns;
        if due > sent + count {
            sent = due - count;
        }
        while sent < due && in_flight.len() < ctx.cfg.node_concurrency {
            in_flight.push(job(ctx.clone(), nodes.clone(), (sent % count) as usize));
            sent += 1;
        }
    }
}
