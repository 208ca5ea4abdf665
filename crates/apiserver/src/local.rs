//! In-process clients: the components that run inside `rkube server` (the
//! scheduler, the controllers) reach the API through a [`LocalService`]
//! instead of a loopback HTTPS connection.
//!
//! A request still takes the whole public path: [`ApiServer::handle`]
//! routes it, checks the caller, decodes, admits, validates and stores it
//! exactly as one off the socket, and answers with the same bytes. Only
//! the transport is skipped: no TCP, no TLS, no HTTP framing, on either
//! side. The service fits `kube::Client::new`, so the components stay
//! ordinary kube-rs clients and run unchanged against a remote server.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request};
use hyper::body::Body as HttpBody;

use crate::response::Response;
use crate::server::{ApiServer, User};

/// A `tower` service answering requests in process, as `user`.
#[derive(Clone)]
pub struct LocalService {
    server: Arc<ApiServer>,
    user: User,
    user_agent: HeaderValue,
}

impl LocalService {
    /// Requests as `user`, introducing themselves with `user_agent` when
    /// they carry none (it names the field manager of their writes).
    pub fn new(server: Arc<ApiServer>, user: User, user_agent: HeaderValue) -> LocalService {
        LocalService {
            server,
            user,
            user_agent,
        }
    }
}

impl<B> tower_service::Service<Request<B>> for LocalService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        req.headers_mut()
            .entry(http::header::USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        let server = self.server.clone();
        let user = self.user.clone();
        Box::pin(async move { Ok(server.handle(req, Some(user)).await) })
    }
}
