//! The etcd v3 backend: every operation is one gRPC call to etcd.
//!
//! Compare-and-swap writes are etcd transactions comparing the key's create
//! or mod revision; lists are ranges at a revision; watches are etcd watch
//! streams with `prev_kv` (so deletions carry the last value). Revisions are
//! etcd's own, so several rkube servers can share one etcd.

mod rpc;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::uri::PathAndQuery;
use tonic::client::Grpc;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::ProstCodec;

use crate::{
    Error, Event, EventKind, KeyValue, ListOptions, ListResult, Result, Revision, Store, WatchItem,
    WatchStream, prefix_end,
};
use rpc::{
    Compare, CompareResult, CompareTarget, RequestOp, compare::TargetUnion, request_op, response_op,
};

const RANGE: &str = "/etcdserverpb.KV/Range";
const TXN: &str = "/etcdserverpb.KV/Txn";
const PUT: &str = "/etcdserverpb.KV/Put";
/// The largest answer accepted from etcd (a page of a list, a batch of
/// watch events); gRPC's default of 4 MiB is too small for big lists.
const MAX_MESSAGE: usize = 512 * 1024 * 1024;
const COMPACT: &str = "/etcdserverpb.KV/Compact";
const WATCH: &str = "/etcdserverpb.Watch/Watch";

/// A store kept in an etcd v3 cluster.
#[derive(Clone)]
pub struct EtcdStore {
    channel: Channel,
    /// The highest compaction point this process has set or seen; etcd has
    /// no call that reports it.
    compacted: Arc<AtomicI64>,
}

/// Map a gRPC failure to a store error, recognising etcd's revision errors.
fn status_err(status: tonic::Status) -> Error {
    let msg = status.message();
    if msg.contains("required revision has been compacted") {
        Error::Compacted {
            requested: 0,
            compacted: 0,
        }
    } else if msg.contains("required revision is a future revision") {
        Error::FutureRevision {
            requested: 0,
            current: 0,
        }
    } else {
        Error::Backend(format!("etcd: {msg} ({:?})", status.code()))
    }
}

fn to_kv(kv: rpc::KeyValue) -> KeyValue {
    KeyValue {
        key: String::from_utf8_lossy(&kv.key).into_owned(),
        value: kv.value,
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
    }
}

fn header_revision(header: Option<rpc::ResponseHeader>) -> Revision {
    header.map_or(0, |h| h.revision)
}

fn compare(key: &str, target: CompareTarget, value: TargetUnion) -> Compare {
    Compare {
        result: CompareResult::Equal as i32,
        target: target as i32,
        key: key.as_bytes().to_vec(),
        target_union: Some(value),
    }
}

fn op(request: request_op::Request) -> RequestOp {
    RequestOp {
        request: Some(request),
    }
}

fn range_op(key: &str) -> RequestOp {
    op(request_op::Request::Range(rpc::RangeRequest {
        key: key.as_bytes().to_vec(),
        ..Default::default()
    }))
}

/// The kv of the first range response of a failed transaction, if any.
fn failure_kv(resp: rpc::TxnResponse) -> Option<KeyValue> {
    resp.responses.into_iter().find_map(|r| match r.response {
        Some(response_op::Response::Range(range)) => range.kvs.into_iter().next().map(to_kv),
        _ => None,
    })
}

impl EtcdStore {
    /// Connect to the etcd cluster at `endpoints` (`HOST:PORT` each).
    pub async fn connect(endpoints: &[String]) -> Result<Self> {
        if endpoints.is_empty() {
            return Err(Error::Backend("no etcd endpoints given".into()));
        }
        let make = |e: &String| {
            Endpoint::from_shared(format!("http://{e}"))
                .map(|ep| {
                    ep.connect_timeout(Duration::from_secs(5))
                        .tcp_nodelay(true)
                        .http2_keep_alive_interval(Duration::from_secs(30))
                        .keep_alive_while_idle(true)
                })
                .map_err(|err| Error::Backend(format!("bad etcd endpoint {e:?}: {err}")))
        };
        let channel = if endpoints.len() == 1 {
            make(&endpoints[0])?.connect().await.map_err(|e| {
                Error::Backend(format!("connecting to etcd at {}: {e}", endpoints[0]))
            })?
        } else {
            let eps = endpoints.iter().map(make).collect::<Result<Vec<_>>>()?;
            Channel::balance_list(eps.into_iter())
        };
        let store = EtcdStore {
            channel,
            compacted: Arc::new(AtomicI64::new(0)),
        };
        // Fail now, with a clear message, if etcd does not answer.
        store.current_revision().await?;
        Ok(store)
    }

    async fn unary<Req, Resp>(&self, path: &'static str, request: Req) -> Result<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let mut grpc = Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        grpc.ready()
            .await
            .map_err(|e| Error::Backend(format!("etcd unavailable: {e}")))?;
        grpc.unary(
            tonic::Request::new(request),
            PathAndQuery::from_static(path),
            ProstCodec::<Req, Resp>::default(),
        )
        .await
        .map(tonic::Response::into_inner)
        .map_err(status_err)
    }

    async fn txn(&self, request: rpc::TxnRequest) -> Result<rpc::TxnResponse> {
        self.unary(TXN, request).await
    }

    /// Fill in the revisions of a revision error etcd reported without them.
    async fn revision_error(&self, err: Error, requested: Revision) -> Error {
        match err {
            Error::Compacted { .. } => Error::Compacted {
                requested,
                compacted: self.compacted.load(Ordering::Acquire).max(requested + 1),
            },
            Error::FutureRevision { .. } => Error::FutureRevision {
                requested,
                current: self.current_revision().await.unwrap_or(0),
            },
            other => other,
        }
    }
}

impl EtcdStore {
    /// An unconditional put, outside the [`Store`] model (no
    /// compare-and-swap): the raw etcd write benchmarks compare against.
    pub async fn put(&self, key: &str, value: Bytes) -> Result<Revision> {
        let resp: rpc::PutResponse = self
            .unary(
                PUT,
                rpc::PutRequest {
                    key: key.as_bytes().to_vec(),
                    value,
                    ..Default::default()
                },
            )
            .await?;
        Ok(header_revision(resp.header))
    }
}

#[async_trait::async_trait]
impl Store for EtcdStore {
    fn backend(&self) -> &'static str {
        "etcd"
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let resp: rpc::RangeResponse = self
            .unary(
                RANGE,
                rpc::RangeRequest {
                    key: key.as_bytes().to_vec(),
                    ..Default::default()
                },
            )
            .await?;
        Ok(resp.kvs.into_iter().next().map(to_kv))
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResult> {
        let start = options.start.as_deref().unwrap_or(prefix).max(prefix);
        let requested = options.revision.unwrap_or(0);
        let resp: rpc::RangeResponse = match self
            .unary(
                RANGE,
                rpc::RangeRequest {
                    key: start.as_bytes().to_vec(),
                    range_end: prefix_end(prefix),
                    limit: options.limit.unwrap_or(0) as i64,
                    revision: requested,
                    ..Default::default()
                },
            )
            .await
        {
            Ok(resp) => resp,
            Err(e) => return Err(self.revision_error(e, requested).await),
        };
        let revision = if requested > 0 {
            requested
        } else {
            header_revision(resp.header)
        };
        Ok(ListResult {
            kvs: resp.kvs.into_iter().map(to_kv).collect(),
            revision,
            more: resp.more,
        })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        let resp = self
            .txn(rpc::TxnRequest {
                compare: vec![compare(
                    key,
                    CompareTarget::Create,
                    TargetUnion::CreateRevision(0),
                )],
                success: vec![op(request_op::Request::Put(rpc::PutRequest {
                    key: key.as_bytes().to_vec(),
                    value,
                    ..Default::default()
                }))],
                failure: vec![],
            })
            .await?;
        if !resp.succeeded {
            return Err(Error::AlreadyExists(key.to_owned()));
        }
        Ok(header_revision(resp.header))
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        let resp = self
            .txn(rpc::TxnRequest {
                compare: vec![compare(
                    key,
                    CompareTarget::Mod,
                    TargetUnion::ModRevision(expected),
                )],
                success: vec![op(request_op::Request::Put(rpc::PutRequest {
                    key: key.as_bytes().to_vec(),
                    value,
                    ..Default::default()
                }))],
                failure: vec![range_op(key)],
            })
            .await?;
        if resp.succeeded {
            return Ok(header_revision(resp.header));
        }
        match failure_kv(resp) {
            Some(current) => Err(Error::Conflict {
                key: key.to_owned(),
                current: Box::new(current),
            }),
            None => Err(Error::NotFound(key.to_owned())),
        }
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(Revision, KeyValue)> {
        let condition = match expected {
            Some(rev) => compare(key, CompareTarget::Mod, TargetUnion::ModRevision(rev)),
            // "Exists": a create revision greater than zero.
            None => Compare {
                result: CompareResult::Greater as i32,
                ..compare(key, CompareTarget::Create, TargetUnion::CreateRevision(0))
            },
        };
        let resp = self
            .txn(rpc::TxnRequest {
                compare: vec![condition],
                success: vec![op(request_op::Request::DeleteRange(
                    rpc::DeleteRangeRequest {
                        key: key.as_bytes().to_vec(),
                        prev_kv: true,
                        ..Default::default()
                    },
                ))],
                failure: vec![range_op(key)],
            })
            .await?;
        if !resp.succeeded {
            return match failure_kv(resp) {
                Some(current) => Err(Error::Conflict {
                    key: key.to_owned(),
                    current: Box::new(current),
                }),
                None => Err(Error::NotFound(key.to_owned())),
            };
        }
        let revision = header_revision(resp.header.clone());
        let prev = resp.responses.into_iter().find_map(|r| match r.response {
            Some(response_op::Response::DeleteRange(d)) => d.prev_kvs.into_iter().next(),
            _ => None,
        });
        match prev {
            Some(prev) => Ok((revision, to_kv(prev))),
            // Deleted between the compare and the delete: cannot happen in
            // one transaction, but never panic on a server's answer.
            None => Err(Error::NotFound(key.to_owned())),
        }
    }

    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream> {
        let current = self.current_revision().await?;
        let start = if start <= 0 { current + 1 } else { start };
        // etcd accepts a watch from a compacted revision and cancels it only
        // afterwards; ask first, so the caller gets the error from `watch`.
        if start <= current {
            let probe = self
                .unary::<_, rpc::RangeResponse>(
                    RANGE,
                    rpc::RangeRequest {
                        key: vec![0],
                        count_only: true,
                        revision: start,
                        ..Default::default()
                    },
                )
                .await;
            if let Err(e) = probe {
                return Err(self.revision_error(e, start).await);
            }
        }
        let (requests, request_rx) = tokio::sync::mpsc::channel::<rpc::WatchRequest>(4);
        requests
            .send(rpc::WatchRequest {
                request_union: Some(rpc::watch_request::RequestUnion::CreateRequest(
                    rpc::WatchCreateRequest {
                        key: prefix.as_bytes().to_vec(),
                        range_end: prefix_end(prefix),
                        start_revision: start,
                        progress_notify: true,
                        prev_kv: true,
                    },
                )),
            })
            .await
            .map_err(|_| Error::Backend("etcd watch request channel closed".into()))?;
        let mut grpc = Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        grpc.ready()
            .await
            .map_err(|e| Error::Backend(format!("etcd unavailable: {e}")))?;
        let mut responses = grpc
            .streaming(
                tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(request_rx)),
                PathAndQuery::from_static(WATCH),
                ProstCodec::<rpc::WatchRequest, rpc::WatchResponse>::default(),
            )
            .await
            .map_err(status_err)?
            .into_inner();

        // The first answer says whether the watch was created or refused.
        let first = responses
            .message()
            .await
            .map_err(status_err)?
            .ok_or_else(|| Error::Backend("etcd closed the watch stream".into()))?;
        if first.compact_revision > 0 || first.canceled {
            if first.compact_revision > 0 {
                self.compacted
                    .fetch_max(first.compact_revision, Ordering::AcqRel);
                return Err(Error::Compacted {
                    requested: start,
                    compacted: first.compact_revision,
                });
            }
            return Err(Error::Backend(format!(
                "etcd refused the watch: {}",
                first.cancel_reason
            )));
        }

        let compacted = self.compacted.clone();
        let stream = futures::stream::unfold(
            (responses, requests, Vec::<Event>::new()),
            move |(mut responses, requests, mut fragments)| {
                let compacted = compacted.clone();
                async move {
                    loop {
                        let resp = match responses.message().await {
                            Ok(Some(resp)) => resp,
                            Ok(None) => {
                                let err = Error::Backend("etcd closed the watch stream".into());
                                return Some((Err(err), (responses, requests, fragments)));
                            }
                            Err(status) => {
                                return Some((
                                    Err(status_err(status)),
                                    (responses, requests, fragments),
                                ));
                            }
                        };
                        if resp.compact_revision > 0 {
                            compacted.fetch_max(resp.compact_revision, Ordering::AcqRel);
                            let err = Error::Compacted {
                                requested: 0,
                                compacted: resp.compact_revision,
                            };
                            return Some((Err(err), (responses, requests, fragments)));
                        }
                        if resp.canceled {
                            let err = Error::Backend(format!(
                                "etcd cancelled the watch: {}",
                                resp.cancel_reason
                            ));
                            return Some((Err(err), (responses, requests, fragments)));
                        }
                        let revision = header_revision(resp.header);
                        fragments.extend(resp.events.into_iter().filter_map(convert_event));
                        if resp.fragment {
                            continue;
                        }
                        let item = if fragments.is_empty() {
                            WatchItem::Progress(revision)
                        } else {
                            WatchItem::Events(Arc::new(std::mem::take(&mut fragments)))
                        };
                        return Some((Ok(item), (responses, requests, fragments)));
                    }
                }
            },
        );
        Ok(stream.boxed())
    }

    async fn current_revision(&self) -> Result<Revision> {
        let resp: rpc::RangeResponse = self
            .unary(
                RANGE,
                rpc::RangeRequest {
                    key: vec![0],
                    count_only: true,
                    ..Default::default()
                },
            )
            .await?;
        Ok(header_revision(resp.header))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let revision = revision.min(self.current_revision().await?);
        if revision <= self.compacted.load(Ordering::Acquire) {
            return Ok(());
        }
        match self
            .unary::<_, rpc::CompactionResponse>(
                COMPACT,
                rpc::CompactionRequest {
                    revision,
                    physical: false,
                },
            )
            .await
        {
            // Already compacted further (by another server): nothing to do.
            Ok(_) | Err(Error::Compacted { .. }) => {
                self.compacted.fetch_max(revision, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.compacted.load(Ordering::Acquire))
    }
}

fn convert_event(event: rpc::Event) -> Option<Event> {
    let kv = event.kv?;
    if event.r#type == rpc::EventType::Delete as i32 {
        let prev = event.prev_kv.unwrap_or_default();
        Some(Event {
            kind: EventKind::Deleted,
            kv: KeyValue {
                key: String::from_utf8_lossy(&kv.key).into_owned(),
                value: prev.value,
                create_revision: prev.create_revision,
                mod_revision: kv.mod_revision,
            },
        })
    } else {
        let kind = if kv.create_revision == kv.mod_revision {
            EventKind::Created
        } else {
            EventKind::Updated
        };
        Some(Event {
            kind,
            kv: to_kv(kv),
        })
    }
}
