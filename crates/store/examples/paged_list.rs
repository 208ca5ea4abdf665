//! How long one page of a big list at an older revision takes (the
//! `continue` path of LIST): `cargo run --release -p rkube-store --example
//! paged_list [KEYS]`.

use std::time::Instant;

use bytes::Bytes;
use rkube_store::sqlite::SqliteStore;
use rkube_store::{ListOptions, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path().join("state.db"))?;
    let value = Bytes::from(vec![b'x'; 1000]);
    let mut tasks = Vec::new();
    for chunk in 0..64 {
        let store = store.clone();
        let value = value.clone();
        tasks.push(tokio::spawn(async move {
            for i in (chunk..n).step_by(64) {
                store
                    .create(&format!("/registry/pods/ns/p{i:07}"), value.clone())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let at = store.current_revision().await?;
    // Later writes, so the list is at an older revision.
    for i in 0..1000 {
        store
            .create(&format!("/registry/pods/ns/q{i:07}"), value.clone())
            .await?;
    }
    for (label, start) in [
        ("first page", None),
        (
            "middle page",
            Some(format!("/registry/pods/ns/p{:07}", n / 2)),
        ),
    ] {
        let t = Instant::now();
        let page = store
            .list(
                "/registry/pods/",
                ListOptions {
                    revision: Some(at),
                    start,
                    limit: Some(500),
                },
            )
            .await?;
        println!(
            "{label}: {} items in {:.1} ms ({n} keys)",
            page.kvs.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
