//! `cargo xtask <chore>`: rkube's project chores, in Rust so they need
//! nothing but cargo.
//!
//! - `test`: install what the suites need if absent (Debian's etcd-server),
//!   then run every test of the workspace;
//! - `bench`: build release binaries and run every benchmark against real
//!   servers, printing each figure beside its target;
//! - `codegen`: regenerate the API type merge table from k8s-openapi.

mod bench;
mod codegen;
mod test;

use std::path::PathBuf;

use anyhow::{Result, bail};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test::run(&root(), &args[1..]),
        Some("codegen") => codegen::run(&root(), "v1_33"),
        Some("bench") => bench::run(&root()),
        _ => bail!("usage: cargo xtask <test [cargo test args...] | bench | codegen>"),
    }
}
