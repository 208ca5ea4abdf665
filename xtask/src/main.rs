//! `cargo xtask <chore>`: rkube's project chores, in Rust so they need
//! nothing but cargo.
//!
//! - `test`: install what the suites need if absent (Debian's etcd-server),
//!   then run every test of the workspace;
//! - `bench`: build release binaries and run every benchmark against real
//!   servers, printing each figure beside its target (`bench api` or
//!   `bench scheduler`, `bench controllers`: one group only);
//! - `codegen`: regenerate the generated tables: the API types' merge
//!   shapes (from k8s-openapi) and the protobuf schema (from k8s-pb and
//!   k8s-openapi).

mod bench;
mod codegen;
mod codegen_protobuf;
mod go_types;
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
        Some("codegen") => {
            let version = "v1_33";
            codegen::run(&root(), version)?;
            let openapi = codegen::k8s_openapi_dir()?.join("src").join(version);
            let kubectl = match &args[1..] {
                [] => None,
                [flag, path] if flag == "--kubectl" => Some(PathBuf::from(path)),
                _ => bail!(
                    "usage: cargo xtask codegen [--kubectl <kubectl binary of the served version>]"
                ),
            };
            codegen_protobuf::run(&root(), &openapi, version, kubectl.as_deref())
        }
        Some("bench") => bench::run(&root(), args.get(1).map(String::as_str)),
        _ => bail!(
            "usage: cargo xtask <test [cargo test args...] | bench [api|scheduler|controllers] | codegen [--kubectl <binary>]>"
        ),
    }
}
