//! End-to-end tests: the real `rkube` binary, driven by the real `kubectl`
//! (and by kube-rs), on both store backends (SQLite, and a real etcd the
//! test starts).
//!
//! Every test function takes a [`Backend`]; [`both_backends!`] turns it
//! into one `#[test]` per backend.

mod api;
mod apply;
mod batch;
mod crd;
mod daemonsets;
mod disruption;
mod durability;
mod endpoints;
mod errors;
mod footprint;
mod gc;
mod generators;
mod imperative;
mod kube_client;
mod kube_client_crd;
mod kube_client_writes;
mod lifecycle;
mod nodes;
mod openapi;
mod podgc;
mod python_client;
mod quota;
mod scheduler;
mod seed;
mod serviceaccounts;
mod sim;
mod smp;
mod statefulsets;
mod support;
mod volumes;
mod workloads;

use std::path::PathBuf;

pub use rkube_testkit::{Backend, OutputExt, RkubeServer};
use serde_json::Value;

/// Instantiate test functions `fn name(backend: Backend)` for both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::Backend::Sqlite)
                }
                #[test]
                fn etcd() {
                    super::$name($crate::Backend::Etcd)
                }
            }
        )*
    };
}

/// Start a server on `backend`.
pub fn server(backend: Backend) -> RkubeServer {
    RkubeServer::start(env!("CARGO_BIN_EXE_rkube"), backend)
}

/// A server whose objects only clients change: no controllers (for tests
/// of what the API stores, which controllers would race with).
pub fn api_only_server(backend: Backend) -> RkubeServer {
    RkubeServer::start_with_flags(
        env!("CARGO_BIN_EXE_rkube"),
        backend,
        &["--disable-controllers"],
    )
}

/// A fixture file's path.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Write a manifest to a file in the server's temp dir; returns its path.
pub fn manifest(server: &RkubeServer, name: &str, yaml: &str) -> String {
    let path = server.dir.path().join(name);
    std::fs::write(&path, yaml).expect("writing a manifest");
    path.display().to_string()
}

/// `kubectl create -f -` of a manifest (JSON on the wire, unlike
/// `kubectl create <generator>`, which sends protobuf).
pub fn create(server: &RkubeServer, yaml: &str) -> String {
    server
        .kubectl_with(&["create", "--validate=false", "-f", "-"], Some(yaml), &[])
        .ok()
}

/// A ConfigMap manifest.
pub fn configmap(name: &str, namespace: &str, data: &[(&str, &str)]) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
    );
    if !data.is_empty() {
        y.push_str("data:\n");
        for (k, v) in data {
            y.push_str(&format!("  {k}: \"{v}\"\n"));
        }
    }
    y
}

/// `kubectl get ... -o json`, parsed.
pub fn get_json(server: &RkubeServer, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&server.kubectl(&all).ok()).expect("kubectl printed JSON")
}

/// Lines of a table printed by kubectl, split on whitespace.
pub fn table(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// Differences from upstream collected across a test, so that one
/// difference does not hide the next; `finish` fails listing them all.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Record a difference unless `got == want`.
    pub fn eq(&mut self, what: &str, got: &Value, want: &Value) {
        if got != want {
            self.0
                .push(format!("{what}:\n    expected {want}\n    got      {got}"));
        }
    }

    /// Record `what` unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        if !ok {
            self.0.push(what.to_string());
        }
    }

    /// Fail with every recorded difference.
    pub fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} difference(s) from upstream:\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}
