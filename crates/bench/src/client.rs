//! A lean HTTPS client for the API server: client-certificate auth from an
//! admin kubeconfig, HTTP/1.1 or HTTP/2, pre-serialized bodies. Lean so
//! that on a 2-core machine the load generator leaves the CPU to the
//! server it measures.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where the server is and how to authenticate.
#[derive(Clone)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    tls: Arc<rustls::ClientConfig>,
}

impl Target {
    /// Read an admin kubeconfig written by `rkube server`.
    pub fn from_kubeconfig(path: &str) -> Result<Target> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| -> Result<String> {
            text.lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix(&format!("{name}: "))
                        .map(str::to_owned)
                })
                .with_context(|| format!("{name} missing from {path}"))
        };
        let b64 = |name: &str| -> Result<Vec<u8>> {
            Ok(base64::engine::general_purpose::STANDARD.decode(field(name)?)?)
        };
        let server = field("server")?;
        let addr = server.trim_start_matches("https://").to_owned();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut b64("certificate-authority-data")?.as_slice()) {
            roots.add(cert?)?;
        }
        let certs = rustls_pemfile::certs(&mut b64("client-certificate-data")?.as_slice())
            .collect::<Result<Vec<_>, _>>()?;
        let key = rustls_pemfile::private_key(&mut b64("client-key-data")?.as_slice())?
            .context("no client key")?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(certs, key)?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Target {
            addr,
            tls: Arc::new(tls),
        })
    }

    async fn tls_stream(&self, alpn: &[u8]) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(&self.addr).await?;
        tcp.set_nodelay(true)?;
        let mut config = (*self.tls).clone();
        config.alpn_protocols = vec![alpn.to_vec()];
        let host = self
            .addr
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(&self.addr);
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())?;
        Ok(TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?)
    }

    /// One HTTP/1.1 connection.
    pub async fn http1(&self) -> Result<Conn> {
        let io = TokioIo::new(self.tls_stream(b"http/1.1").await?);
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn::H1(sender))
    }

    /// One HTTP/2 connection (clone the result to multiplex).
    pub async fn http2(&self) -> Result<Conn> {
        let io = TokioIo::new(self.tls_stream(b"h2").await?);
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn::H2(sender))
    }
}

/// A connection to the server.
pub enum Conn {
    /// HTTP/1.1 (one request at a time).
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    /// HTTP/2 (cloneable, multiplexed).
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Conn {
    /// Another handle on the same connection (HTTP/2 only).
    pub fn try_clone(&self) -> Option<Conn> {
        match self {
            Conn::H1(_) => None,
            Conn::H2(s) => Some(Conn::H2(s.clone())),
        }
    }

    /// Send a request; returns the status and the whole body.
    pub async fn request(
        &mut self,
        method: http::Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(u16, Bytes)> {
        let resp = self.send(method, path, content_type, body).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Send a request; returns the response with its streaming body.
    pub async fn send(
        &mut self,
        method: http::Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<http::Response<hyper::body::Incoming>> {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "rkube")
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(body))?;
        Ok(match self {
            Conn::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Conn::H2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        })
    }

    /// GET a path and return the body, failing on a non-2xx status.
    pub async fn get(&mut self, path: &str) -> Result<Bytes> {
        let (status, body) = self
            .request(http::Method::GET, path, "application/json", Bytes::new())
            .await?;
        if !(200..300).contains(&status) {
            bail!("GET {path}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok(body)
    }
}
