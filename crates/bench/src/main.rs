//! `rkube-bench`: the load generators behind `cargo xtask bench`. Each
//! subcommand drives a running server (or etcd) and prints one JSON line of
//! results; `cargo xtask bench` starts the servers, runs these, and prints
//! the figures beside their targets.
//!
//! - `creates KUBECONFIG CLIENTS SECONDS`: ConfigMap creates from CLIENTS
//!   concurrent connections;
//! - `etcd-puts ENDPOINT CLIENTS SECONDS`: plain etcd puts from CLIENTS
//!   concurrent tasks (the raw-etcd baseline);
//! - `list KUBECONFIG PODS RUNS`: create PODS pods, then time full LISTs;
//! - `watchers KUBECONFIG WATCHERS CHANGES`: open WATCHERS watches, make
//!   CHANGES changes, time each delivery;
//! - `readyz KUBECONFIG`: wait for `/readyz`, print when it answered;
//! - `patches KUBECONFIG CLIENTS SECONDS MODE`: each client changes its own
//!   3-container Deployment, by `strategic` merge patch, server-side
//!   `apply`, or plain `update` (PUT of the whole object);
//! - `schedule KUBECONFIG WORKLOAD [CLIENTS] [--run-pods]
//!   [--no-heartbeats]`: one of upstream's scheduler_perf workloads on
//!   simulated nodes, pods bound per second (see [`schedule`]).
//! - `schedule-only WORKLOAD`: the same workload's scheduling alone, in
//!   process, without the API; `SchedulerMemory`: RSS with 50,000 pods
//!   on 5,000 nodes.

mod client;
mod rollout;
mod schedule;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use client::Target;
use http_body_util::BodyExt;
use serde_json::json;

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str) -> Result<T> {
    args.get(i)
        .with_context(|| format!("missing argument {name}"))?
        .parse()
        .map_err(|_| anyhow::anyhow!("bad {name}"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = match args.first().map(String::as_str) {
        Some("creates") => runtime.block_on(creates(
            &args[1],
            arg(&args, 2, "CLIENTS")?,
            arg(&args, 3, "SECONDS")?,
        )),
        Some("etcd-creates") => runtime.block_on(etcd_creates(
            &args[1],
            arg(&args, 2, "CLIENTS")?,
            arg(&args, 3, "SECONDS")?,
        )),
        Some("etcd-puts") => runtime.block_on(etcd_puts(
            &args[1],
            arg(&args, 2, "CLIENTS")?,
            arg(&args, 3, "SECONDS")?,
        )),
        Some("list") => runtime.block_on(list(
            &args[1],
            arg(&args, 2, "PODS")?,
            arg(&args, 3, "RUNS")?,
        )),
        Some("readyz") => runtime.block_on(readyz(&args[1])),
        Some("patches") => runtime.block_on(patches(
            &args[1],
            arg(&args, 2, "CLIENTS")?,
            arg(&args, 3, "SECONDS")?,
            args.get(4).map(String::as_str).unwrap_or("strategic"),
        )),
        Some("watchers") => runtime.block_on(watchers(
            &args[1],
            arg(&args, 2, "WATCHERS")?,
            arg(&args, 3, "CHANGES")?,
        )),
        Some("rollout") => runtime.block_on(rollout::run(
            &args[1],
            arg(&args, 2, "NODES")?,
            arg(&args, 3, "REPLICAS")?,
        )),
        Some("schedule-only") => {
            schedule::run_in_process(args.get(1).context("missing argument WORKLOAD")?)
        }
        Some("schedule") => {
            let flag = |f: &str| args.iter().any(|a| a == f);
            let (run_pods, heartbeats) = (flag("--run-pods"), !flag("--no-heartbeats"));
            let rest: Vec<String> = args
                .iter()
                .filter(|a| !a.starts_with("--"))
                .cloned()
                .collect();
            runtime.block_on(schedule::run(
                rest.get(1).context("missing argument KUBECONFIG")?,
                rest.get(2).context("missing argument WORKLOAD")?,
                schedule::Options {
                    clients: if rest.len() > 3 {
                        arg(&rest, 3, "CLIENTS")?
                    } else {
                        schedule::DEFAULT_CLIENTS
                    },
                    run_pods,
                    heartbeats,
                    server_pid: args
                        .iter()
                        .find_map(|a| a.strip_prefix("--server-pid="))
                        .map(|p| p.parse().context("--server-pid"))
                        .transpose()?,
                },
            ))
        }
        _ => bail!(
            "usage: rkube-bench <creates|etcd-creates|etcd-puts|list|readyz|patches|watchers|schedule|schedule-only|rollout> ..."
        ),
    }?;
    println!("{result}");
    Ok(())
}

/// Run `clients` loops of `op` for `seconds` (after one second of
/// warm-up); returns operations per second and latencies.
async fn closed_loop<F, Fut>(
    clients: usize,
    seconds: f64,
    op: F,
) -> Result<(f64, Vec<Duration>, u64)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<bool>> + Send,
{
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let op = op.clone();
        let stop = stop.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = op(c, i).await.unwrap_or(false);
                let done = Instant::now();
                i += 1;
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                if t >= start + warmup && done <= start + warmup + measure {
                    samples.push(done - t);
                }
            }
            samples
        }));
    }
    tokio::time::sleep(warmup + measure).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    all.sort();
    let rate = all.len() as f64 / measure.as_secs_f64();
    Ok((rate, all, errors.load(Ordering::Relaxed)))
}

async fn creates(kubeconfig: &str, clients: usize, seconds: f64) -> Result<serde_json::Value> {
    let target = Target::from_kubeconfig(kubeconfig)?;
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(Arc::new(tokio::sync::Mutex::new(target.http1().await?)));
    }
    let conns = Arc::new(conns);
    let run = std::process::id();
    let (rate, lat, errors) = closed_loop(clients, seconds, move |c, i| {
        let conns = conns.clone();
        async move {
            let body = format!(
                r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"bench-{run}-{c}-{i}"}},"data":{{"key":"value"}}}}"#
            );
            let mut conn = conns[c].lock().await;
            let (status, _) = conn
                .request(http::Method::POST, "/api/v1/namespaces/default/configmaps", "application/json", Bytes::from(body))
                .await?;
            Ok(status == 201)
        }
    })
    .await?;
    Ok(
        json!({"bench": "creates", "clients": clients, "per_sec": rate, "p50_ms": percentile(&lat, 0.50), "p99_ms": percentile(&lat, 0.99), "errors": errors}),
    )
}

async fn etcd_puts(endpoint: &str, clients: usize, seconds: f64) -> Result<serde_json::Value> {
    let store = Arc::new(rkube_store::etcd::EtcdStore::connect(&[endpoint.to_owned()]).await?);
    let value = Bytes::from(
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"default","uid":"00000000-0000-0000-0000-000000000000","creationTimestamp":"2026-01-01T00:00:00Z"},"data":{"key":"value"}}"#,
    );
    let run = std::process::id();
    let (rate, lat, errors) = closed_loop(clients, seconds, move |c, i| {
        let store = store.clone();
        let value = value.clone();
        async move {
            store.put(&format!("/bench/{run}/{c}/{i}"), value).await?;
            Ok(true)
        }
    })
    .await?;
    Ok(
        json!({"bench": "etcd-puts", "clients": clients, "per_sec": rate, "p50_ms": percentile(&lat, 0.50), "p99_ms": percentile(&lat, 0.99), "errors": errors}),
    )
}

/// Poll `/readyz` until it answers 200 (the kubeconfig appears when the
/// server is about to listen); print the UNIX time in ms when it did.
async fn readyz(kubeconfig: &str) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(target) = Target::from_kubeconfig(kubeconfig)
            && let Ok(mut conn) = target.http1().await
            && conn.get("/readyz").await.is_ok()
        {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
            return Ok(json!(now.as_secs_f64() * 1000.0));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bail!("/readyz never answered 200")
}

/// Compare-and-swap creates straight to etcd (what rkube does per create).
async fn etcd_creates(endpoint: &str, clients: usize, seconds: f64) -> Result<serde_json::Value> {
    use rkube_store::Store;
    let store = Arc::new(rkube_store::etcd::EtcdStore::connect(&[endpoint.to_owned()]).await?);
    let value = Bytes::from_static(
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"key":"value"}}"#,
    );
    let run = std::process::id();
    let (rate, lat, errors) = closed_loop(clients, seconds, move |c, i| {
        let store = store.clone();
        let value = value.clone();
        async move {
            store
                .create(&format!("/bench/{run}/{c}/{i}"), value)
                .await?;
            Ok(true)
        }
    })
    .await?;
    Ok(
        json!({"bench": "etcd-creates", "clients": clients, "per_sec": rate, "p50_ms": percentile(&lat, 0.50), "p99_ms": percentile(&lat, 0.99), "errors": errors}),
    )
}

/// A 3-container Deployment; `n` is the value of one env var in the
/// second container (what each write changes).
fn deployment(name: &str, n: u64) -> serde_json::Value {
    let container = |c: &str, env: serde_json::Value| {
        json!({"name": c, "image": format!("registry.example/{c}:1.0"),
               "ports": [{"containerPort": 8080, "name": "http"}],
               "env": env,
               "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}})
    };
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    container("web", json!([{"name": "MODE", "value": "web"}])),
                    container("sidecar", json!([{"name": "MODE", "value": "side"}, {"name": "N", "value": n.to_string()}])),
                    container("metrics", json!([{"name": "MODE", "value": "metrics"}])),
                ]}
            }
        }
    })
}

async fn patches(
    kubeconfig: &str,
    clients: usize,
    seconds: f64,
    mode: &str,
) -> Result<serde_json::Value> {
    let target = Target::from_kubeconfig(kubeconfig)?;
    let run = std::process::id();
    let mut conns = Vec::new();
    for c in 0..clients {
        let mut conn = target.http1().await?;
        let name = format!("bench-{run}-{c}");
        let (status, body) = conn
            .request(
                http::Method::POST,
                "/apis/apps/v1/namespaces/default/deployments",
                "application/json",
                Bytes::from(deployment(&name, 0).to_string()),
            )
            .await?;
        if status != 201 {
            bail!(
                "creating {name}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        conns.push(Arc::new(tokio::sync::Mutex::new(conn)));
    }
    let conns = Arc::new(conns);
    let mode = mode.to_owned();
    let label = mode.clone();
    let (rate, lat, errors) = closed_loop(clients, seconds, move |c, i| {
        let conns = conns.clone();
        let mode = mode.clone();
        async move {
            let name = format!("bench-{run}-{c}");
            let path = format!("/apis/apps/v1/namespaces/default/deployments/{name}");
            let n = i + 1;
            let (method, content_type, body, query) = match mode.as_str() {
                "apply" => (
                    http::Method::PATCH,
                    "application/apply-patch+yaml",
                    deployment(&name, n).to_string(),
                    "?fieldManager=bench&force=true",
                ),
                "update" => (
                    http::Method::PUT,
                    "application/json",
                    deployment(&name, n).to_string(),
                    "",
                ),
                _ => (
                    http::Method::PATCH,
                    "application/strategic-merge-patch+json",
                    json!({"spec": {"template": {"spec": {"containers": [
                        {"name": "sidecar", "env": [{"name": "N", "value": n.to_string()}]}
                    ]}}}})
                    .to_string(),
                    "",
                ),
            };
            let mut conn = conns[c].lock().await;
            let (status, _) = conn
                .request(
                    method,
                    &format!("{path}{query}"),
                    content_type,
                    Bytes::from(body),
                )
                .await?;
            Ok(status == 200)
        }
    })
    .await?;
    Ok(
        json!({"bench": "patches", "mode": label, "clients": clients, "per_sec": rate, "p50_ms": percentile(&lat, 0.50), "p99_ms": percentile(&lat, 0.99), "errors": errors}),
    )
}

fn pod_body(name: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{
            "name": "web", "image": "registry.example/web:1.2.3",
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "MODE", "value": "bench"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
        }]}
    })
    .to_string()
}

async fn list(kubeconfig: &str, pods: usize, runs: usize) -> Result<serde_json::Value> {
    let target = Target::from_kubeconfig(kubeconfig)?;
    // Fill the store: 32 connections creating pods.
    let next = Arc::new(AtomicU64::new(0));
    let mut fillers = Vec::new();
    for _ in 0..32 {
        let target = target.clone();
        let next = next.clone();
        fillers.push(tokio::spawn(async move {
            let mut conn = target.http1().await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= pods {
                    return Ok::<_, anyhow::Error>(());
                }
                let (status, body) = conn
                    .request(
                        http::Method::POST,
                        "/api/v1/namespaces/default/pods",
                        "application/json",
                        Bytes::from(pod_body(&format!("pod-{i}"))),
                    )
                    .await?;
                if status != 201 {
                    bail!(
                        "creating a pod: {status} {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
        }));
    }
    for f in fillers {
        f.await??;
    }
    let mut conn = target.http2().await?;
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let body = conn.get("/api/v1/namespaces/default/pods").await?;
        times.push(t.elapsed());
        size = body.len();
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let n = v["items"].as_array().map_or(0, Vec::len);
        if n != pods {
            bail!("listed {n} pods, expected {pods}");
        }
    }
    times.sort();
    Ok(
        json!({"bench": "list", "pods": pods, "median_ms": percentile(&times, 0.5), "min_ms": percentile(&times, 0.0), "bytes": size}),
    )
}

async fn watchers(kubeconfig: &str, count: usize, changes: usize) -> Result<serde_json::Value> {
    let target = Target::from_kubeconfig(kubeconfig)?;
    let mut conn = target.http1().await?;
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"},"data":{"n":"start"}}"#;
    let (status, body) = conn
        .request(
            http::Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            Bytes::from(cm),
        )
        .await?;
    if status != 201 {
        bail!(
            "creating the watched object: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let rv = serde_json::from_slice::<serde_json::Value>(&body)?["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_owned();

    // Watchers multiplexed 100 per HTTP/2 connection, as clients do.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..changes).map(|_| AtomicU64::new(0)).collect());
    let epoch = Instant::now();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(count);
    let mut tasks = Vec::new();
    let mut h2 = None;
    for w in 0..count {
        if w % 100 == 0 {
            h2 = Some(target.http2().await?);
        }
        let mut conn = h2
            .as_ref()
            .and_then(client::Conn::try_clone)
            .context("an HTTP/2 connection")?;
        let sent = sent.clone();
        let ready = ready_tx.clone();
        let path = format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dwatched"
        );
        tasks.push(tokio::spawn(async move {
            let resp = conn
                .send(http::Method::GET, &path, "application/json", Bytes::new())
                .await?;
            let _ = ready.send(()).await;
            let mut body = resp.into_body();
            let mut latencies = Vec::with_capacity(changes);
            let mut buf = Vec::new();
            while latencies.len() < changes {
                let Some(frame) = body.frame().await else {
                    break;
                };
                let Ok(data) = frame?.into_data() else {
                    continue;
                };
                let now = epoch.elapsed();
                buf.extend_from_slice(&data);
                while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let text = String::from_utf8_lossy(&line);
                    if let Some(start) = text.find("\"n\":\"c") {
                        let digits: String = text[start + 6..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if let Ok(i) = digits.parse::<usize>() {
                            let t0 = Duration::from_nanos(sent[i].load(Ordering::Acquire));
                            latencies.push(now.saturating_sub(t0));
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    drop(ready_tx);
    for _ in 0..count {
        ready_rx.recv().await.context("a watcher failed to start")?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..changes {
        let patch = format!(r#"{{"data":{{"n":"c{i}"}}}}"#);
        sent[i].store(epoch.elapsed().as_nanos() as u64, Ordering::Release);
        let (status, body) = conn
            .request(
                http::Method::PATCH,
                "/api/v1/namespaces/default/configmaps/watched",
                "application/merge-patch+json",
                Bytes::from(patch),
            )
            .await?;
        if status != 200 {
            bail!("patching: {status} {}", String::from_utf8_lossy(&body));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut all = Vec::new();
    for t in tasks {
        let lat = tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .context("a watcher missed events")???;
        all.extend(lat);
    }
    all.sort();
    if all.len() != count * changes {
        bail!("got {} deliveries, expected {}", all.len(), count * changes);
    }
    Ok(
        json!({"bench": "watchers", "watchers": count, "changes": changes, "p50_ms": percentile(&all, 0.5), "p99_ms": percentile(&all, 0.99), "max_ms": percentile(&all, 1.0)}),
    )
}
