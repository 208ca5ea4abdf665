//! Test support shared by rkube's test suites: start real processes (etcd,
//! rkube) on loopback ports in temporary directories, and clean them up.
//!
//! Every process started here is killed when its handle drops, and also
//! when the test process itself dies (`PR_SET_PDEATHSIG`), so no test run
//! leaves servers behind.

#![warn(missing_docs)]

pub mod cluster;
pub mod etcd;

pub use cluster::{Backend, OutputExt, RkubeServer};

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// A free TCP port on 127.0.0.1 (free when this returns; good enough for
/// tests, which retry on the rare collision).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// Make `command`'s process die with the test process that started it.
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// Whether a TCP server accepts connections at `addr` yet.
pub fn accepts(addr: &str) -> bool {
    std::net::TcpStream::connect(addr).is_ok()
}
