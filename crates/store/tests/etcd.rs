//! The etcd backend against a real etcd: the shared conformance suite.

use std::sync::Arc;

use rkube_store::Store;
use rkube_store::conformance::Fixture;
use rkube_store::etcd::EtcdStore;
use rkube_testkit::etcd::EtcdServer;

struct EtcdFixture {
    store: Arc<dyn Store>,
    _etcd: EtcdServer,
}

impl Fixture for EtcdFixture {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

async fn fixture() -> EtcdFixture {
    let etcd = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .unwrap();
    let store = EtcdStore::connect(std::slice::from_ref(&etcd.endpoint))
        .await
        .unwrap();
    EtcdFixture {
        store: Arc::new(store),
        _etcd: etcd,
    }
}

rkube_store::conformance_tests!(fixture().await);
