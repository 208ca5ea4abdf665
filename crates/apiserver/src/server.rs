//! The server: start-up (certificates, store, cache, bootstrap objects),
//! the HTTPS accept loop, and the top-level request routing.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rkube_api::discovery;
use rkube_api::registry::Registry;
use rkube_api::status::Status;
use rkube_store::Store;
use rkube_store::compactor::{Compactor, CompactorConfig};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::cache::WatchCache;
use crate::handlers::{self, Ctx};
use crate::metrics::{MeteredStore, Metrics};
use crate::request::{Query, ResourcePath, Route, Want, negotiate, route};
use crate::response::{self, Response};
use crate::tls::{self, Pki};

/// The largest request body accepted (as upstream: 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The Kubernetes version the server speaks. kubectl's dispatcher picks
/// its matching minor version from this.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "32");

/// How to run the server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where certificates, the kubeconfig and (by default) the database live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `etcd://HOST:PORT[,...]`.
    pub datastore: String,
    /// The address pods reach the server on (the `kubernetes` Service's
    /// endpoints); by default derived from `listen`, see
    /// [`crate::kubernetes_service::advertised`].
    pub advertise_address: Option<std::net::IpAddr>,
}

/// An authenticated client.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// The user name (the certificate's CN).
    pub name: String,
    /// Groups (the certificate's O entries).
    pub groups: Vec<String>,
}

/// The registry of served kinds, replaced as a whole when custom resource
/// definitions change (readers keep the registry they started with).
pub struct Kinds(parking_lot::RwLock<Arc<Registry>>);

impl Kinds {
    /// Serve the kinds of `registry`.
    pub fn new(registry: Registry) -> Kinds {
        Kinds(parking_lot::RwLock::new(Arc::new(registry)))
    }

    /// The current registry.
    pub fn get(&self) -> Arc<Registry> {
        self.0.read().clone()
    }

    /// Change the registry.
    pub fn update(&self, change: impl FnOnce(&mut Registry)) {
        let mut guard = self.0.write();
        let mut next = (**guard).clone();
        change(&mut next);
        *guard = Arc::new(next);
    }
}

/// The API server's shared state.
pub struct ApiServer {
    /// The kinds served (built-in, and custom ones as their definitions
    /// come and go).
    pub registry: Kinds,
    /// Where objects live.
    pub store: Arc<dyn Store>,
    /// Where reads are served from.
    pub cache: Arc<WatchCache>,
    /// Request and store metrics.
    pub metrics: Arc<Metrics>,
    /// Flips to true when the server shuts down (ends watches).
    pub shutdown: watch::Receiver<bool>,
    /// Service cluster IPs and node ports handed out.
    pub service_addresses: crate::services::Allocations,
    /// State of the admission plugins (quota charges take turns per
    /// namespace).
    pub admission: crate::admission::Admission,
    address: String,
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The admin kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// The shared state (for in-process components and tests).
    pub server: Arc<ApiServer>,
    stop: watch::Sender<bool>,
    serving: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stop accepting, end watches, let requests in flight finish (up to a
    /// few seconds), and stop background work.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.serving.await;
        for task in self.background {
            task.abort();
        }
    }
}

/// Start a server: load or make certificates, open the store, fill the
/// cache, create the built-in namespaces, listen.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let pki = Pki::ensure(&config.data_dir.join("pki"), config.listen.ip())?;
    let tls_config = Arc::new(pki.server_config()?);

    let metrics = Arc::new(Metrics::new());
    let raw_store = rkube_store::open(&config.datastore)
        .await
        .with_context(|| format!("opening datastore {}", config.datastore))?;
    let store: Arc<dyn Store> = Arc::new(MeteredStore::new(raw_store, metrics.clone()));
    let registry = Kinds::new(rkube_api::kinds::builtin());
    let cache = WatchCache::start(store.clone(), &registry.get(), metrics.clone()).await?;

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let (stop, shutdown) = watch::channel(false);
    let server = Arc::new(ApiServer {
        registry,
        store: store.clone(),
        cache,
        metrics,
        shutdown,
        service_addresses: Default::default(),
        admission: Default::default(),
        address: format!("{host}:{}", addr.port()),
    });

    let crds = crate::crd::install(&server).await?;
    crate::namespaces::bootstrap(&server).await?;
    let advertise = crate::kubernetes_service::advertised(addr, config.advertise_address);
    if let Err(e) = crate::kubernetes_service::ensure(&server, addr, advertise).await {
        // Not fatal: the periodic check tries again.
        tracing::warn!("{e:#}");
    }
    let kubeconfig = config.data_dir.join("admin.kubeconfig");
    tls::write_admin_kubeconfig(
        &pki,
        &kubeconfig,
        &format!("https://{host}:{}", addr.port()),
    )?;

    let background = vec![
        Compactor::spawn(store, CompactorConfig::default()),
        crate::namespaces::spawn_lifecycle(server.clone()),
        crate::kubernetes_service::spawn(server.clone(), addr, advertise),
        crds,
    ];
    let serving = tokio::spawn(accept_loop(
        server.clone(),
        listener,
        TlsAcceptor::from(tls_config),
    ));
    Ok(Running {
        addr,
        kubeconfig,
        server,
        stop,
        serving,
        background,
    })
}

async fn accept_loop(server: Arc<ApiServer>, listener: TcpListener, acceptor: TlsAcceptor) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = server.shutdown.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().max_concurrent_streams(1000);
    let builder = Arc::new(builder);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, _peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let server = server.clone();
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => tls,
                        _ => return,
                    };
                    let user = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .and_then(tls::client_identity)
                        .map(|(name, groups)| User { name, groups });
                    let service = hyper::service::service_fn(move |req| {
                        let server = server.clone();
                        let user = user.clone();
                        async move { Ok::<_, Infallible>(server.handle(req, user).await) }
                    });
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
                    let _ = watcher.watch(conn.into_owned()).await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

fn unauthorized() -> Status {
    Status::new(401, "Unauthorized", "Unauthorized")
}

fn not_found() -> Status {
    Status::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// Which aggregated-discovery version an Accept header asks for, if any.
fn aggregated_discovery(accept: Option<&str>) -> Option<&'static str> {
    let accept = accept?;
    for entry in accept.split(',') {
        let entry = entry.replace(' ', "");
        if entry.contains("as=APIGroupDiscoveryList") && entry.contains("g=apidiscovery.k8s.io") {
            if entry.contains("v=v2beta1") {
                return Some("v2beta1");
            }
            if entry.contains("v=v2") {
                return Some("v2");
            }
        }
    }
    None
}

impl ApiServer {
    /// A handler context for a resource, as the server itself (bootstrap
    /// and in-process controllers use it).
    pub fn ctx(
        self: &Arc<Self>,
        group: &str,
        version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> anyhow::Result<Ctx> {
        let served = self
            .registry
            .get()
            .lookup(group, version, plural)
            .cloned()
            .with_context(|| format!("{plural}.{group}/{version} is not served"))?;
        Ok(Ctx {
            server: self.clone(),
            served,
            path: ResourcePath {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                namespace: namespace.map(str::to_owned),
                name: name.map(str::to_owned),
                sub: None,
            },
            query: Query::default(),
            want: Want::Json,
            user: User {
                name: "system:apiserver".into(),
                groups: vec!["system:masters".into()],
            },
            user_agent: "rkube-apiserver".into(),
            warnings: Default::default(),
        })
    }

    /// Answer one request.
    ///
    /// The body may be any HTTP body: hyper's, for requests off the
    /// socket, or an in-process client's (see [`crate::local`]).
    pub async fn handle<B>(self: Arc<Self>, req: Request<B>, user: Option<User>) -> Response
    where
        B: HttpBody<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let route = route(parts.uri.path());
        let query = Query::parse(parts.uri.query());
        let user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let accept = parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut verb = parts.method.as_str().to_lowercase();
        let mut resource = String::new();

        let result: Result<Response, Status> = async {
            match route {
                Route::Version => Ok(response::json_value(
                    200,
                    &json!({
                        "major": KUBERNETES_VERSION.0,
                        "minor": KUBERNETES_VERSION.1,
                        "gitVersion": format!("v{}.{}.0+rkube", KUBERNETES_VERSION.0, KUBERNETES_VERSION.1),
                        "gitCommit": env!("CARGO_PKG_VERSION"),
                        "gitTreeState": "clean",
                        "buildDate": "1970-01-01T00:00:00Z",
                        "goVersion": "rust",
                        "compiler": "rustc",
                        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
                    }),
                )),
                Route::Health(path) => {
                    if query.get("verbose").is_some() || parts.uri.query().is_some_and(|q| q.contains("verbose")) {
                        Ok(response::text(200, format!("[+]ping ok\n[+]etcd ok\n[+]informer-sync ok\n{path} check passed\n")))
                    } else {
                        Ok(response::text(200, "ok"))
                    }
                }
                _ if user.is_none() => Err(unauthorized()),
                Route::Metrics => Ok(response::with_type(200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.encode())),
                Route::OpenApiV3(path) if path.is_empty() => {
                    Ok(response::json_value(200, &rkube_api::openapi::index(&self.registry.get())))
                }
                Route::OpenApiV3(path) => rkube_api::openapi::document(&self.registry.get(), &path)
                    .map(|doc| {
                        let mut resp = response::json(200, doc.json.clone());
                        let headers = resp.headers_mut();
                        if let Ok(etag) = http::HeaderValue::from_str(&format!("\"{}\"", doc.hash)) {
                            headers.insert(http::header::ETAG, etag);
                        }
                        // The URL names this content: cacheable for good (as upstream).
                        if query.get("hash") == Some(doc.hash.as_str()) {
                            headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, immutable"));
                        }
                        resp
                    })
                    .ok_or_else(not_found),
                Route::OpenApiV2 | Route::Unknown => Err(not_found()),
                Route::CoreRoot => Ok(match aggregated_discovery(accept.as_deref()) {
                    Some(v) => response::with_type(
                        200,
                        if v == "v2" { AGGREGATED_V2 } else { AGGREGATED_V2BETA1 },
                        serde_json::to_vec(&discovery::aggregated(&self.registry.get(), true, &format!("apidiscovery.k8s.io/{v}"))).unwrap_or_default(),
                    ),
                    None => response::json_value(200, &discovery::api_versions(&self.address)),
                }),
                Route::GroupsRoot => Ok(match aggregated_discovery(accept.as_deref()) {
                    Some(v) => response::with_type(
                        200,
                        if v == "v2" { AGGREGATED_V2 } else { AGGREGATED_V2BETA1 },
                        serde_json::to_vec(&discovery::aggregated(&self.registry.get(), false, &format!("apidiscovery.k8s.io/{v}"))).unwrap_or_default(),
                    ),
                    None => response::json_value(200, &discovery::api_group_list(&self.registry.get())),
                }),
                Route::Group(group) => discovery::api_group(&self.registry.get(), &group)
                    .map(|v| response::json_value(200, &v))
                    .ok_or_else(not_found),
                Route::GroupVersion(group, version) => discovery::api_resource_list(&self.registry.get(), &group, &version)
                    .map(|v| response::json_value(200, &v))
                    .ok_or_else(not_found),
                Route::Resource(path) => {
                    let served = self
                        .registry
                        .get()
                        .lookup(&path.group, &path.version, &path.plural)
                        .cloned()
                        .ok_or_else(not_found)?;
                    resource = path.plural.clone();
                    verb = handlers::verb_name(&parts.method, path.name.is_some());
                    if parts.method == Method::GET && query.flag("watch") {
                        verb = "watch".into();
                    }
                    let body = read_body(body).await?;
                    let ctx = Ctx {
                        server: self.clone(),
                        served,
                        path,
                        query,
                        want: negotiate(accept.as_deref()),
                        user: user.clone().unwrap_or_default(),
                        user_agent: user_agent.clone(),
                        warnings: Default::default(),
                    };
                    handlers::dispatch(ctx, &parts.method, body, content_type).await
                }
            }
        }
        .await;
        let resp = match result {
            Ok(resp) => resp,
            Err(status) => {
                if status.code >= 500 {
                    tracing::warn!(code = status.code, message = %status.message, path = %parts.uri.path(), "request failed");
                }
                response::status(&status)
            }
        };
        self.metrics
            .request(&verb, &resource, resp.status().as_u16(), started);
        resp
    }
}

async fn read_body<B>(body: B) -> Result<Bytes, Status>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(Status::new(
                    413,
                    "RequestEntityTooLarge",
                    "Request entity too large: limit is 3145728",
                ))
            } else {
                Err(Status::bad_request(format!(
                    "reading the request body: {e}"
                )))
            }
        }
    }
}
