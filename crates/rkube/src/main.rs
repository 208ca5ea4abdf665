//! `rkube`: Kubernetes in one binary. This file only parses the command
//! line and hands over to the crates that do the work.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// mimalloc: the server allocates and frees many small JSON values per
/// request from every thread; glibc's arenas spent a third of the CPU of
/// the patch benchmark in malloc/free and their locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "rkube", version, about = "Kubernetes in one small binary")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: the Kubernetes API server on an embedded or
    /// etcd store.
    Server(ServerArgs),
    /// Simulate nodes (like kwok): register them, keep them Ready with
    /// Lease heartbeats, and play the node agent for the pods bound to
    /// them. Stopping it leaves the nodes registered.
    Sim(rkube_sim::SimArgs),
    /// Run the controllers alone, against the API server of a kubeconfig
    /// (for a server started with `--disable-controllers`).
    ControllerManager(ControllerManagerArgs),
    /// Run the scheduler alone, against the API server of a kubeconfig
    /// (for a server started with `--disable-scheduler`).
    Scheduler(SchedulerArgs),
}

/// The controllers' settings (`server` and `controller-manager`).
#[derive(clap::Args)]
struct ControllerArgs {
    /// How long a node may stay silent (no Lease renewal) before the
    /// node controller marks it Unknown and taints it unreachable.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    node_monitor_grace_period: std::time::Duration,
    /// Terminated pods kept cluster-wide before the oldest are deleted
    /// (0: keep them all).
    #[arg(long, default_value_t = 12_500)]
    terminated_pod_gc_threshold: usize,
    /// How often pod garbage collection looks for terminated pods over the
    /// threshold and pods whose node is gone (gone for two periods).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pod_gc_period: std::time::Duration,
}

impl ControllerArgs {
    fn options(&self) -> rkube_controllers::Options {
        rkube_controllers::Options {
            node_monitor_grace_period: self.node_monitor_grace_period,
            terminated_pod_gc_threshold: self.terminated_pod_gc_threshold,
            pod_gc_period: self.pod_gc_period,
            ..Default::default()
        }
    }
}

#[derive(clap::Args)]
struct ControllerManagerArgs {
    /// The kubeconfig of the API server to work for.
    #[arg(long)]
    kubeconfig: PathBuf,
    #[command(flatten)]
    controllers: ControllerArgs,
}

#[derive(clap::Args)]
struct SchedulerArgs {
    /// The kubeconfig of the API server to work for.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// A `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1)
    /// YAML file: the scheduler's profiles, plugins and weights, backoff.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ServerArgs {
    /// Where certificates, the admin kubeconfig and the default database live.
    #[arg(long, default_value = "/var/lib/rkube")]
    data_dir: PathBuf,
    /// Address and port to serve HTTPS on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// The address pods reach the API server on (the endpoints of the
    /// `kubernetes` Service). Default: the listen address unless loopback;
    /// with `0.0.0.0`, the host's address toward its default route.
    #[arg(long)]
    advertise_address: Option<std::net::IpAddr>,
    /// `sqlite://PATH` (default: `sqlite://<data-dir>/state.db`) or
    /// `etcd://HOST:PORT[,HOST:PORT...]`.
    #[arg(long)]
    datastore: Option<String>,
    /// Do not run the scheduler in this process (pods then wait for
    /// another scheduler, or for `spec.nodeName`).
    #[arg(long)]
    disable_scheduler: bool,
    /// A `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1)
    /// YAML file: the scheduler's profiles, plugins and weights, backoff.
    #[arg(long, value_name = "FILE")]
    scheduler_config: Option<PathBuf>,
    /// Do not run the controllers in this process (ReplicaSets,
    /// Deployments, ... then wait for another controller manager).
    #[arg(long)]
    disable_controllers: bool,
    #[command(flatten)]
    controllers: ControllerArgs,
}

/// `40s`, `2m`, `500ms`, or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        "h" => Ok(std::time::Duration::from_secs(n * 3600)),
        _ => Err(format!("not a duration: {s:?} (use ms, s, m or h)")),
    }
}

fn main() -> Result<()> {
    let thp = no_transparent_huge_pages();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RKUBE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = thp {
        // Kernels without THP: nothing to opt out of.
        tracing::debug!("PR_SET_THP_DISABLE: {e}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Server(args) => runtime.block_on(server(args)),
        Command::Sim(args) => runtime.block_on(sim(args)),
        Command::ControllerManager(args) => runtime.block_on(controller_manager(args)),
        Command::Scheduler(args) => runtime.block_on(scheduler(args)),
    }
}

/// Opt this process out of transparent huge pages. mimalloc asks for them
/// on its arenas, and with THP a heap that touches a few bytes of a 2 MiB
/// region keeps all of it resident: +12 MB on an idle controller manager,
/// and more after churn, whose partly used regions can no longer be
/// returned 64 KiB at a time. Small processes are the point of rkube.
/// First thing in `main`, before the heap grows.
fn no_transparent_huge_pages() -> std::io::Result<()> {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag
    // on this process's address space; it touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

async fn server(args: ServerArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let scheduler_config = scheduler_config(args.scheduler_config.as_deref())?;
    let datastore = args
        .datastore
        .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("state.db").display()));
    let running = rkube_apiserver::start(rkube_apiserver::Config {
        data_dir: args.data_dir,
        listen: args.listen,
        datastore: datastore.clone(),
        advertise_address: args.advertise_address,
    })
    .await?;
    println!(
        "rkube API server ready on https://{} in {} ms (datastore {datastore})\nkubeconfig: {}\n  export KUBECONFIG={}",
        running.addr,
        started.elapsed().as_millis(),
        running.kubeconfig.display(),
        running.kubeconfig.display(),
    );
    let scheduler = if args.disable_scheduler {
        None
    } else {
        let client = local_client(&running, "kube-scheduler")?;
        Some(rkube_scheduler::start(client, scheduler_config)?)
    };
    let controllers = if args.disable_controllers {
        None
    } else {
        let client = local_client(&running, "kube-controller-manager")?;
        Some(rkube_controllers::start(
            client,
            args.controllers.options(),
        )?)
    };
    wait_for_signal().await;
    eprintln!("shutting down");
    if let Some(controllers) = controllers {
        controllers.shutdown().await;
    }
    if let Some(scheduler) = scheduler
        && let Err(e) = scheduler.shutdown().await
    {
        eprintln!("scheduler: {e:#}");
    }
    running.shutdown().await;
    Ok(())
}

/// The scheduler's configuration file, or the default profile.
fn scheduler_config(path: Option<&std::path::Path>) -> Result<rkube_scheduler::SchedulerConfig> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            rkube_scheduler::parse_config(&text)
                .with_context(|| format!("scheduler configuration {}", path.display()))
        }
        None => Ok(rkube_scheduler::SchedulerConfig::default()),
    }
}

async fn controller_manager(args: ControllerManagerArgs) -> Result<()> {
    let client = rkube_scheduler::client_for(&args.kubeconfig, "kube-controller-manager").await?;
    let controllers = rkube_controllers::start(client, args.controllers.options())?;
    println!("rkube controller-manager: running");
    wait_for_signal().await;
    controllers.shutdown().await;
    Ok(())
}

async fn scheduler(args: SchedulerArgs) -> Result<()> {
    let config = scheduler_config(args.config.as_deref())?;
    let client = rkube_scheduler::client_from_kubeconfig(&args.kubeconfig).await?;
    let scheduler = rkube_scheduler::start(client, config)?;
    println!("rkube scheduler: running");
    wait_for_signal().await;
    scheduler.shutdown().await
}

/// A client for a component running in this process: its requests go
/// straight to the API server's handler (see `rkube_apiserver::local`), as
/// `system:<component>`, introducing itself as upstream's component does
/// (its `User-Agent` names the field manager of its writes).
fn local_client(running: &rkube_apiserver::Running, component: &str) -> Result<kube::Client> {
    let user = rkube_apiserver::server::User {
        name: format!("system:{component}"),
        groups: vec!["system:masters".into()],
    };
    let agent = http::HeaderValue::from_str(&format!("{component}/v1.32.0 (linux/amd64) rkube"))
        .context("user agent")?;
    let service = rkube_apiserver::local::LocalService::new(running.server.clone(), user, agent);
    Ok(kube::Client::new(service, "default"))
}

async fn sim(args: rkube_sim::SimArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let sim = rkube_sim::start(args.into()).await?;
    println!(
        "rkube sim: {} nodes ready in {} ms ({} .. {})",
        sim.nodes().len(),
        started.elapsed().as_millis(),
        sim.nodes().first().map_or("-", String::as_str),
        sim.nodes().last().map_or("-", String::as_str),
    );
    tokio::select! {
        r = sim.wait() => r,
        _ = wait_for_signal() => {
            eprintln!("rkube sim: stopping (the nodes stay registered)");
            Ok(())
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
