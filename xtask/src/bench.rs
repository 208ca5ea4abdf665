//! `cargo xtask bench`: build release binaries, start real servers (SQLite,
//! and a real etcd), drive them with `rkube-bench`, and print every figure
//! beside its target. The table is also written to
//! `target/bench-results.md`, for the README.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rkube_testkit::etcd::EtcdServer;
use rkube_testkit::{die_with_parent, free_port};
use serde_json::Value;

struct Server {
    child: Child,
    dir: tempfile::TempDir,
    started: Instant,
}

impl Server {
    /// The API server alone (`--disable-scheduler --disable-controllers`):
    /// the API figures measure it, not the scheduler and the controllers
    /// reacting to the benchmark's pods and Deployments.
    fn start(rkube: &Path, datastore: Option<&str>) -> Result<Server> {
        Server::start_with(
            rkube,
            datastore,
            &["--disable-scheduler", "--disable-controllers"],
        )
    }

    /// `rkube server` as users run it (API server, scheduler, controllers).
    fn start_all(rkube: &Path) -> Result<Server> {
        Server::start_with(rkube, None, &[])
    }

    /// The API server and the scheduler, as upstream's scheduler_perf
    /// runs kube-apiserver and kube-scheduler (no controller manager:
    /// nothing in the workloads is owned by a controller).
    fn start_scheduler(rkube: &Path) -> Result<Server> {
        Server::start_with(rkube, None, &["--disable-controllers"])
    }

    fn start_with(rkube: &Path, datastore: Option<&str>, extra: &[&str]) -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("rkube-bench-").tempdir()?;
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(rkube);
        cmd.arg("server")
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--listen")
            .arg(&addr);
        if let Some(ds) = datastore {
            cmd.arg("--datastore").arg(ds);
        }
        cmd.args(extra);
        cmd.env("RKUBE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let child = die_with_parent(&mut cmd)
            .spawn()
            .context("starting rkube")?;
        Ok(Server {
            child,
            dir,
            started,
        })
    }

    fn kubeconfig(&self) -> String {
        self.dir
            .path()
            .join("admin.kubeconfig")
            .display()
            .to_string()
    }

    /// Milliseconds from spawn until `/readyz` answered 200.
    fn wait_ready(&mut self, bench: &Path) -> Result<f64> {
        // rkube-bench polls and reports when (UNIX ms) /readyz answered.
        let out = Command::new(bench)
            .args(["readyz", &self.kubeconfig()])
            .output()?;
        if let Some(status) = self.child.try_wait()? {
            bail!("rkube exited: {status}");
        }
        if !out.status.success() {
            bail!(
                "rkube never became ready: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let ready_at: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0);
        let spawned_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs_f64()
            * 1000.0
            - self.started.elapsed().as_secs_f64() * 1000.0;
        Ok(ready_at - spawned_at)
    }

    fn rss_mb(&self) -> Result<f64> {
        rss_mb(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_bench(bench: &Path, args: &[&str]) -> Result<Value> {
    let out = Command::new(bench)
        .args(args)
        .output()
        .context("running rkube-bench")?;
    if !out.status.success() {
        bail!(
            "rkube-bench {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).with_context(|| format!("rkube-bench printed {line:?}"))
}

struct Row {
    what: String,
    value: String,
    target: String,
    ok: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The scheduler end to end (upstream's scheduler_perf workloads on
/// simulated nodes, see `rkube-bench schedule`): one fresh server each.
/// As upstream's, the nodes have no kubelets: pods are not run, nodes send
/// no heartbeats during the run, and no controller manager runs. Beside
/// the rate, the server's CPU time per measured pod: on a machine whose
/// cores are all busy the rate follows it, and it is steadier.
fn scheduler_rows(rkube: &Path, bench: &Path, rows: &mut Vec<Row>) -> Result<()> {
    // (workload, row label, target pods/s, upstream's threshold)
    let workloads: [(&str, &str, Option<f64>, Option<f64>); 5] = [
        (
            "SchedulingBasic",
            "5000 nodes / 1000 / 10000",
            Some(3000.0),
            Some(680.0),
        ),
        (
            "NodeAffinity",
            "5000 nodes / 5000 / 10000",
            Some(1500.0),
            Some(220.0),
        ),
        (
            "PodAntiAffinity",
            "5000 nodes / 1000 / 2000",
            Some(500.0),
            Some(60.0),
        ),
        (
            "TopologySpreading",
            "5000 nodes / 5000 / 5000",
            Some(1500.0),
            Some(460.0),
        ),
        ("PreemptionBasic", "1000 nodes / 4000 / 1000", None, None),
    ];
    for (workload, sizes, target, upstream) in workloads {
        let mut s = Server::start_scheduler(rkube)?;
        s.wait_ready(bench)?;
        let what = format!("scheduler: {workload} {sizes}");
        let pid = format!("--server-pid={}", s.child.id());
        let (value, ok) = match run_bench(
            bench,
            &[
                "schedule",
                &s.kubeconfig(),
                workload,
                "--no-heartbeats",
                &pid,
            ],
        ) {
            Ok(r) => {
                let rate = r["per_sec"].as_f64().unwrap_or(0.0);
                let complete = r["complete"].as_bool().unwrap_or(false);
                let mut value = format!("{rate:.0} pods/s");
                if let Some(cpu) = r["server_cpu_us_per_pod"].as_f64() {
                    write!(value, " ({cpu:.0} µs server CPU/pod)")?;
                }
                if let Ok(rss) = s.rss_mb() {
                    write!(value, " (server RSS {rss:.0} MB)")?;
                }
                if !complete {
                    write!(
                        value,
                        " (only {} of {} bound)",
                        r["bound"], r["measure_pods"]
                    )?;
                }
                (value, complete && target.is_none_or(|t| rate >= t))
            }
            Err(e) => {
                let e = format!("{e:#}").replace('\n', " ");
                (
                    format!("failed: {}", e.chars().take(200).collect::<String>()),
                    false,
                )
            }
        };
        let target = match (target, upstream) {
            (Some(t), Some(u)) => format!("≥ {t:.0}/s (upstream {u:.0})"),
            _ => "(report)".to_owned(),
        };
        rows.push(Row {
            what,
            value,
            target,
            ok,
        });
    }
    Ok(())
}

/// The scheduling algorithm alone (`rkube-bench schedule-only`): the same
/// workloads in process, without the API, and the RSS of a process holding
/// a scheduler snapshot of 5,000 nodes and 50,000 pods.
fn scheduler_only_rows(bench: &Path, rows: &mut Vec<Row>) -> Result<()> {
    for workload in [
        "SchedulingBasic",
        "NodeAffinity",
        "PodAntiAffinity",
        "TopologySpreading",
    ] {
        let value = match run_bench(bench, &["schedule-only", workload]) {
            Ok(r) => format!("{:.0} pods/s", r["per_sec"].as_f64().unwrap_or(0.0)),
            Err(e) => format!("failed: {}", format!("{e:#}").replace('\n', " ")),
        };
        rows.push(Row {
            what: format!("  scheduler alone, no API: {workload}"),
            value,
            target: "(report)".into(),
            ok: true,
        });
    }
    let value = match run_bench(bench, &["schedule-only", "SchedulerMemory"]) {
        Ok(r) => format!(
            "{:.0} MB ({:.0} MB before the snapshot; {:.0} pods/s)",
            r["rss_after_mb"].as_f64().unwrap_or(0.0),
            r["rss_before_mb"].as_f64().unwrap_or(0.0),
            r["per_sec"].as_f64().unwrap_or(0.0),
        ),
        Err(e) => format!("failed: {}", format!("{e:#}").replace('\n', " ")),
    };
    rows.push(Row {
        what: "  scheduler alone: RSS with 5,000 nodes and 50,000 pods".into(),
        value,
        target: "(report)".into(),
        ok: true,
    });
    Ok(())
}

/// RSS of a process, in MB.
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kb / 1024.0)
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    Ok(ticks / 100.0)
}

/// `rkube-bench rollout` against a server: a Deployment of 10,000
/// replicas on 1,000 simulated nodes, then its rolling update. Returns the
/// figures and the still-running benchmark (its simulated nodes keep
/// heartbeating until it is killed).
fn rollout(bench: &Path, kubeconfig: &str) -> Result<(Value, Child)> {
    use std::io::BufRead;
    let mut child = Command::new(bench)
        .args(["rollout", kubeconfig, "1000", "10000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting rkube-bench rollout")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let r: Value = serde_json::from_str(line.trim())
        .with_context(|| format!("rkube-bench rollout printed {line:?}"))?;
    Ok((r, child))
}

/// Idle figures of a process once things settled: (RSS MB, CPU % of one
/// core over 10 s).
fn idle(pid: u32) -> Result<(f64, f64)> {
    std::thread::sleep(Duration::from_secs(5));
    let (c0, t0) = (cpu_seconds(pid)?, Instant::now());
    std::thread::sleep(Duration::from_secs(10));
    let used = (cpu_seconds(pid)? - c0) / t0.elapsed().as_secs_f64() * 100.0;
    Ok((rss_mb(pid)?, used))
}

/// The controller manager: a Deployment of 10,000 replicas on 1,000
/// simulated nodes, from creation to all available, then a rolling
/// update, on the server as users run it (API server, scheduler and
/// controllers in one process); then the same with the controllers as a
/// process of their own (`rkube controller-manager`), whose idle RSS and
/// CPU are the figures.
fn controller_rows(rkube: &Path, bench: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let mut s = Server::start_all(rkube)?;
    s.wait_ready(bench)?;
    let (r, mut child) = rollout(bench, &s.kubeconfig())?;
    let secs = |k: &str| r[k].as_f64();
    let figure = |k: &str, err: &str| match secs(k) {
        Some(v) => format!("{v:.1} s"),
        None => format!("failed: {}", r[err].as_str().unwrap_or("?")),
    };
    rows.push(Row {
        what: "Deployment of 10,000 replicas on 1,000 sim nodes: apply to all available".into(),
        value: figure("available_s", "available_error"),
        target: "≤ 10 s".into(),
        ok: secs("available_s").is_some_and(|v| v <= 10.0),
    });
    rows.push(Row {
        what: "  rolling update of it (maxSurge 25%, maxUnavailable 25%)".into(),
        value: figure("rolled_s", "rolled_error"),
        target: "≤ 30 s".into(),
        ok: secs("rolled_s").is_some_and(|v| v <= 30.0),
    });
    // Idle: nothing changing but the simulated kubelets' heartbeats.
    let (rss, cpu) = idle(s.child.id())?;
    let _ = child.kill();
    let _ = child.wait();
    drop(s);
    rows.push(Row {
        what: "  whole server idle with those pods and nodes: RSS (API server, scheduler, controllers)".into(),
        value: format!("{rss:.0} MB"),
        target: "(context)".into(),
        ok: true,
    });
    rows.push(Row {
        what: "  whole server idle: CPU (1,000 sim kubelets heartbeating every 10 s)".into(),
        value: format!("{cpu:.1}% of one core"),
        target: "(context)".into(),
        ok: true,
    });

    // The controllers on their own.
    let mut s = Server::start_with(rkube, None, &["--disable-controllers"])?;
    s.wait_ready(bench)?;
    let mut cm = Command::new(rkube);
    cm.args(["controller-manager", "--kubeconfig", &s.kubeconfig()])
        .env("RKUBE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut cm = die_with_parent(&mut cm)
        .spawn()
        .context("starting rkube controller-manager")?;
    let result = rollout(bench, &s.kubeconfig()).and_then(|(r, mut child)| {
        let figures = idle(cm.id());
        let _ = child.kill();
        let _ = child.wait();
        figures.map(|f| (r, f))
    });
    let _ = cm.kill();
    let _ = cm.wait();
    let (r, (rss, cpu)) = result?;
    let available = r["available_s"]
        .as_f64()
        .map_or_else(|| "failed".to_owned(), |v| format!("{v:.1} s"));
    rows.push(Row {
        what: format!(
            "  controller manager as its own process (rollout: available in {available}), idle: RSS"
        ),
        value: format!("{rss:.0} MB"),
        target: "≤ 150 MB".into(),
        ok: rss <= 150.0,
    });
    rows.push(Row {
        what: "  controller manager idle: CPU".into(),
        value: format!("{cpu:.1}% of one core"),
        target: "near zero".into(),
        ok: cpu < 2.0,
    });
    Ok(())
}

/// Build, run the benchmarks (all, or one group: `api`, `scheduler` or
/// `controllers`), print the results.
pub fn run(root: &Path, only: Option<&str>) -> Result<()> {
    if let Some(g) = only
        && g != "api"
        && g != "scheduler"
        && g != "controllers"
    {
        bail!("unknown benchmark group {g:?}: api, scheduler or controllers");
    }
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--release", "-p", "rkube", "-p", "rkube-bench"])
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let rkube = root.join("target/release/rkube");
    let bench = root.join("target/release/rkube-bench");
    let mut rows = Vec::new();

    if only.is_none_or(|g| g == "api") {
        api_rows(&rkube, &bench, &mut rows)?;
    }
    if only.is_none_or(|g| g == "scheduler") {
        scheduler_rows(&rkube, &bench, &mut rows)?;
        scheduler_only_rows(&bench, &mut rows)?;
    }
    if only.is_none_or(|g| g == "controllers") {
        controller_rows(&rkube, &bench, &mut rows)?;
    }

    let mut table = String::from("| benchmark | result | target | |\n|---|---|---|---|\n");
    for r in &rows {
        writeln!(
            table,
            "| {} | {} | {} | {} |",
            r.what,
            r.value,
            r.target,
            if r.target.starts_with('(') {
                ""
            } else if r.ok {
                "✓"
            } else {
                "✗"
            }
        )?;
    }
    println!("{table}");
    let out: PathBuf = root.join("target/bench-results.md");
    std::fs::write(&out, &table)?;
    println!("written to {}", out.display());
    Ok(())
}

/// The API server's own figures.
fn api_rows(rkube: &Path, bench: &Path, rows: &mut Vec<Row>) -> Result<()> {
    // Start-up and idle footprint (median of 5 fresh starts).
    let (mut ready, mut idle) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let mut s = Server::start(rkube, None)?;
        ready.push(s.wait_ready(bench)?);
        std::thread::sleep(Duration::from_secs(2));
        idle.push(s.rss_mb()?);
    }
    let (ready, idle) = (median(ready), median(idle));
    let mut all = Vec::new();
    for _ in 0..3 {
        let mut s = Server::start_all(rkube)?;
        s.wait_ready(bench)?;
        std::thread::sleep(Duration::from_secs(2));
        all.push(s.rss_mb()?);
    }
    let all = median(all);
    rows.push(Row {
        what: "start to /readyz 200 (SQLite, empty)".into(),
        value: format!("{ready:.0} ms"),
        target: "≤ 500 ms".into(),
        ok: ready <= 500.0,
    });
    rows.push(Row {
        what: "RSS idle, empty store (API server)".into(),
        value: format!("{idle:.1} MB"),
        target: "≤ 40 MB".into(),
        ok: idle <= 40.0,
    });
    rows.push(Row {
        what: "RSS idle, empty store (whole server: with the scheduler and controllers)".into(),
        value: format!("{all:.1} MB"),
        target: "≤ 40 MB".into(),
        ok: all <= 40.0,
    });

    // ConfigMap creates, 64 clients, SQLite (every write fsynced).
    {
        let mut s = Server::start(rkube, None)?;
        s.wait_ready(bench)?;
        let r = run_bench(bench, &["creates", &s.kubeconfig(), "64", "10"])?;
        let rate = r["per_sec"].as_f64().unwrap_or(0.0);
        let p99 = r["p99_ms"].as_f64().unwrap_or(f64::MAX);
        rows.push(Row {
            what: "ConfigMap creates, 64 clients, SQLite".into(),
            value: format!("{rate:.0}/s"),
            target: "≥ 8,000/s".into(),
            ok: rate >= 8000.0,
        });
        rows.push(Row {
            what: "  p99 create latency, SQLite".into(),
            value: format!("{p99:.1} ms"),
            target: "≤ 25 ms".into(),
            ok: p99 <= 25.0,
        });
    }

    // The same on etcd, against what the same client load gets from etcd
    // directly: plain puts, and the compare-and-swap creates rkube must
    // issue (a create may not overwrite).
    {
        let etcd = EtcdServer::start();
        let raw = run_bench(bench, &["etcd-puts", &etcd.endpoint, "64", "10"])?;
        drop(etcd);
        let etcd = EtcdServer::start();
        let cas = run_bench(bench, &["etcd-creates", &etcd.endpoint, "64", "10"])?;
        drop(etcd);
        let etcd = EtcdServer::start();
        let mut s = Server::start(rkube, Some(&etcd.url()))?;
        s.wait_ready(bench)?;
        let r = run_bench(bench, &["creates", &s.kubeconfig(), "64", "10"])?;
        let raw_rate = raw["per_sec"].as_f64().unwrap_or(0.0);
        let cas_rate = cas["per_sec"].as_f64().unwrap_or(0.0);
        let rate = r["per_sec"].as_f64().unwrap_or(0.0);
        let ratio = if raw_rate > 0.0 { rate / raw_rate } else { 0.0 };
        let cas_ratio = if cas_rate > 0.0 { rate / cas_rate } else { 0.0 };
        rows.push(Row {
            what: "ConfigMap creates, 64 clients, etcd".into(),
            value: format!(
                "{rate:.0}/s = {:.0}% of raw etcd puts ({raw_rate:.0}/s)",
                ratio * 100.0
            ),
            target: "≥ 60% of raw etcd puts".into(),
            ok: ratio >= 0.6,
        });
        rows.push(Row {
            what: "  the same against etcd compare-and-swap creates".into(),
            value: format!("{:.0}% of {cas_rate:.0}/s", cas_ratio * 100.0),
            target: "(context)".into(),
            ok: cas_ratio >= 0.6,
        });
    }

    // LIST of 10,000 pods from the watch cache, and RSS holding them.
    {
        let mut s = Server::start(rkube, None)?;
        s.wait_ready(bench)?;
        let r = run_bench(bench, &["list", &s.kubeconfig(), "10000", "10"])?;
        let ms = r["median_ms"].as_f64().unwrap_or(f64::MAX);
        std::thread::sleep(Duration::from_secs(2));
        let rss = s.rss_mb()?;
        rows.push(Row {
            what: "LIST 10,000 pods (median of 10)".into(),
            value: format!(
                "{ms:.0} ms ({:.1} MB)",
                r["bytes"].as_f64().unwrap_or(0.0) / 1e6
            ),
            target: "≤ 150 ms".into(),
            ok: ms <= 150.0,
        });
        rows.push(Row {
            what: "RSS holding 10,000 pods".into(),
            value: format!("{rss:.0} MB"),
            target: "≤ 200 MB".into(),
            ok: rss <= 200.0,
        });
    }

    // Writes of a 3-container Deployment (each client its own), by
    // strategic merge patch, server-side apply and plain update.
    {
        for (mode, target) in [
            ("strategic", Some(5000.0)),
            ("apply", Some(5000.0)),
            ("update", None),
        ] {
            let mut s = Server::start(rkube, None)?;
            s.wait_ready(bench)?;
            let r = run_bench(bench, &["patches", &s.kubeconfig(), "64", "10", mode])?;
            let rate = r["per_sec"].as_f64().unwrap_or(0.0);
            let p99 = r["p99_ms"].as_f64().unwrap_or(0.0);
            rows.push(Row {
                what: format!("3-container Deployment, {mode}, 64 clients, SQLite"),
                value: format!("{rate:.0}/s (p99 {p99:.1} ms)"),
                target: target.map_or("(baseline)".to_owned(), |t: f64| format!("≥ {t:.0}/s")),
                ok: target.is_none_or(|t| rate >= t),
            });
        }
    }

    // One change to 1,000 watchers.
    {
        let mut s = Server::start(rkube, None)?;
        s.wait_ready(bench)?;
        let r = run_bench(bench, &["watchers", &s.kubeconfig(), "1000", "20"])?;
        let p99 = r["p99_ms"].as_f64().unwrap_or(f64::MAX);
        rows.push(Row {
            what: "one change to 1,000 watchers, p99 delivery".into(),
            value: format!("{p99:.1} ms"),
            target: "≤ 50 ms".into(),
            ok: p99 <= 50.0,
        });
    }

    Ok(())
}
