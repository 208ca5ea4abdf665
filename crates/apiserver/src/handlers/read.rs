//! Get, list and watch, served from the watch cache.
//!
//! `resourceVersion` semantics as upstream: unset means "the latest" (the
//! cache first catches up with the store's current revision), `"0"` means
//! "whatever the cache has", `N` means "at least N" (or exactly N with
//! `resourceVersionMatch=Exact`, read from the store's history). Paginated
//! lists hand out a continue token holding the snapshot's revision; later
//! pages are read from the store at that revision, so the whole list is one
//! consistent snapshot, or 410 once compaction has removed it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rkube_api::status::Status;
use rkube_store::{Error as StoreError, ListOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Ctx, partial_metadata, table};
use crate::cache::{WatchFrom, WatchMsg, watch_line};
use crate::object::{CachedObject, Filter};
use crate::request::Want;
use crate::response::Response;

/// How long a watch without `timeoutSeconds` lasts (upstream picks between
/// 30 and 60 minutes).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

fn parse_rv(s: &str) -> Result<i64, Status> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| Status::bad_request(format!("invalid resource version: {s:?}")))
}

/// GET of one object (or of its status).
pub async fn get(ctx: Ctx) -> Result<Response, Status> {
    match ctx.query.get("resourceVersion") {
        None => {
            ctx.server.cache.sync().await?;
        }
        Some("0") => {}
        Some(rv) => ctx.server.cache.wait_for(parse_rv(rv)?).await?,
    }
    let name = ctx.name().to_owned();
    let obj = ctx
        .cache()?
        .get(&ctx.rest(ctx.path.namespace.as_deref(), &name))
        .ok_or_else(|| ctx.not_found(&name))?;
    ctx.object_response(200, &obj)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, last_rest: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: format!("{last_rest}\0"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<ContinueToken, Status> {
    let bad = |why: &str| Status::bad_request(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad("not base64"))?;
    let token: ContinueToken = serde_json::from_slice(&raw).map_err(|_| bad("malformed"))?;
    if token.v != "meta.k8s.io/v1" || token.rv <= 0 {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    Ok(token)
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// LIST of a collection.
pub async fn list(ctx: Ctx) -> Result<Response, Status> {
    let info = *ctx.info();
    let filter = Filter::new(
        &info,
        ctx.path.namespace.clone(),
        ctx.query.get("labelSelector"),
        ctx.query.get("fieldSelector"),
    )?;
    let limit = ctx.query.int("limit")?.unwrap_or(0).max(0) as usize;

    if let Some(token) = ctx.query.get("continue") {
        let token = decode_continue(token)?;
        return list_from_store(&ctx, &filter, token.rv, Some(token.start), limit, true).await;
    }
    let exact = ctx.query.get("resourceVersionMatch") == Some("Exact");
    let revision = match ctx.query.get("resourceVersion") {
        None => ctx.server.cache.sync().await?,
        Some("0") => ctx.server.cache.revision(),
        Some(rv) => {
            let rv = parse_rv(rv)?;
            if exact {
                return list_from_store(&ctx, &filter, rv, None, limit, false).await;
            }
            ctx.server.cache.wait_for(rv).await?;
            ctx.server.cache.revision()
        }
    };
    let (objects, more, remaining) = ctx.cache()?.list(&filter, None, limit);
    let cont = more
        .then(|| {
            objects
                .last()
                .map(|o| encode_continue(revision, &ctx.rest(Some(&o.namespace), &o.name)))
        })
        .flatten();
    ctx.list_response(&objects, revision, cont, remaining)
}

/// A page of a list read from the store's history at `revision`.
async fn list_from_store(
    ctx: &Ctx,
    filter: &Filter,
    revision: i64,
    start: Option<String>,
    limit: usize,
    continuing: bool,
) -> Result<Response, Status> {
    let info = *ctx.info();
    let prefix = match filter.namespace.as_deref().filter(|_| info.namespaced()) {
        Some(ns) => format!("{}{ns}/", info.key_prefix()),
        None => info.key_prefix(),
    };
    let mut start_key = start.map(|s| format!("{}{s}", info.key_prefix()));
    let mut objects: Vec<Arc<CachedObject>> = Vec::new();
    let mut more = false;
    loop {
        let page = ctx
            .server
            .store
            .list(
                &prefix,
                ListOptions {
                    revision: Some(revision),
                    start: start_key.clone(),
                    limit: Some(if limit == 0 {
                        0
                    } else {
                        (limit - objects.len()).max(1) * 2
                    }),
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Compacted { .. } if continuing => Status::expired(CONTINUE_EXPIRED),
                StoreError::Compacted { .. } => {
                    Status::expired("The resourceVersion for the provided list is too old.")
                }
                StoreError::FutureRevision { .. } => Status::timeout(format!(
                    "Too large resource version: {revision}, current: {}",
                    ctx.server.cache.revision()
                )),
                other => Status::internal(other),
            })?;
        for kv in &page.kvs {
            let rest = &kv.key[info.key_prefix().len()..];
            let obj = CachedObject::from_stored(&info, rest, &kv.value, kv.mod_revision)
                .map_err(Status::internal)?;
            if !filter.matches(&info, &obj) {
                continue;
            }
            if limit > 0 && objects.len() == limit {
                more = true;
                break;
            }
            objects.push(Arc::new(obj));
        }
        if more || !page.more {
            break;
        }
        start_key = page.kvs.last().map(|kv| format!("{}\0", kv.key));
    }
    let cont = more
        .then(|| {
            objects
                .last()
                .map(|o| encode_continue(revision, &ctx.rest(Some(&o.namespace), &o.name)))
        })
        .flatten();
    ctx.list_response(&objects, revision, cont, None)
}

/// WATCH of a collection: a chunked stream of newline-delimited events.
pub async fn watch(ctx: Ctx) -> Result<Response, Status> {
    let info = *ctx.info();
    let filter = Filter::new(
        &info,
        ctx.path.namespace.clone(),
        ctx.query.get("labelSelector"),
        ctx.query.get("fieldSelector"),
    )?;
    let from = match ctx.query.get("resourceVersion") {
        None | Some("0") => WatchFrom::Now,
        Some(rv) => {
            let rv = parse_rv(rv)?;
            ctx.server.cache.wait_for(rv).await?;
            WatchFrom::After(rv)
        }
    };
    let timeout = match ctx.query.int("timeoutSeconds")? {
        Some(s) if s > 0 => Duration::from_secs(s as u64),
        _ => DEFAULT_WATCH_TIMEOUT,
    };
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let mut encoder = EventEncoder {
        ctx: Arc::new(ctx),
        headers_sent: false,
    };
    let subscription = encoder.ctx.cache()?.subscribe(filter, from, bookmarks);
    let mut shutdown = encoder.ctx.server.shutdown.clone();
    tokio::spawn(async move {
        let mut sub = match subscription {
            Ok(sub) => sub,
            Err(status) => {
                // Upstream answers 200 and reports the error as the first event.
                let _ = tx.send(encoder.error(&status)).await;
                return;
            }
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        for msg in std::mem::take(&mut sub.initial) {
            match encoder.encode(msg) {
                Some(line) => {
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
                None => continue,
            }
        }
        loop {
            tokio::select! {
                msg = sub.rx.recv() => match msg {
                    Some(msg) => {
                        if let Some(line) = encoder.encode(msg)
                            && tx.send(line).await.is_err() {
                                return;
                            }
                    }
                    None => {
                        // Dropped for falling behind (or the cache was
                        // reloaded): end the stream without an error, as
                        // upstream does, so the client resumes from the
                        // last resourceVersion it saw instead of listing.
                        if sub.dropped.load(Ordering::Acquire) {
                            tracing::debug!(
                                resource = encoder.ctx.info().plural,
                                "closing a watch that fell behind"
                            );
                        }
                        return;
                    }
                },
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
            }
        }
    });
    let body = StreamBody::new(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), rx))
    }))
    .boxed_unsync();
    let mut resp = http::Response::new(body);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

/// Turns watch messages into lines in the representation the client
/// asked for.
struct EventEncoder {
    ctx: Arc<Ctx>,
    headers_sent: bool,
}

impl EventEncoder {
    fn encode(&mut self, msg: WatchMsg) -> Option<Bytes> {
        let plain = self.ctx.want == Want::Json && self.ctx.served.conversion.is_none();
        let (kind, object) = match msg {
            WatchMsg::Shared(event) if plain => return Some(event.line()),
            WatchMsg::Shared(event) => (event.kind.as_str(), event.object.clone()),
            WatchMsg::Event(kind, object) if plain => {
                return Some(watch_line(kind.as_str(), &object.json));
            }
            WatchMsg::Event(kind, object) => (kind.as_str(), object),
            WatchMsg::Bookmark(rev) => {
                let object = json!({
                    "kind": self.ctx.served.kind,
                    "apiVersion": self.ctx.served.api_version(),
                    "metadata": {"resourceVersion": rev.to_string(), "creationTimestamp": null},
                });
                let object = match self.ctx.want {
                    Want::Table(version) => self.table(version, &object)?,
                    _ => object,
                };
                let line = json!({"type": "BOOKMARK", "object": object});
                return Some(line_bytes(&line));
            }
        };
        let converted = self.ctx.convert_out(&object.json).ok()?;
        match self.ctx.want {
            Want::Json => Some(watch_line(kind, &converted)),
            Want::Table(version) => {
                let value: Value = serde_json::from_slice(&object.json).ok()?;
                let t = self.table(version, &value)?;
                Some(line_bytes(&json!({"type": kind, "object": t})))
            }
            Want::Metadata(version) => {
                let value: Value = serde_json::from_slice(&converted).ok()?;
                Some(line_bytes(
                    &json!({"type": kind, "object": partial_metadata(version, &value)}),
                ))
            }
        }
    }

    /// A one-row table; column definitions only in the stream's first.
    fn table(&mut self, version: &str, value: &Value) -> Option<Value> {
        let rv = value["metadata"]["resourceVersion"].clone();
        let t = table::build(
            &self.ctx,
            version,
            std::slice::from_ref(value),
            json!({"resourceVersion": rv}),
            !self.headers_sent,
        )
        .ok()?;
        self.headers_sent = true;
        Some(t)
    }

    fn error(&mut self, status: &Status) -> Bytes {
        self.headers_sent = true;
        line_bytes(&json!({"type": "ERROR", "object": status.to_json()}))
    }
}

fn line_bytes(v: &Value) -> Bytes {
    let mut out = serde_json::to_vec(v).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}
