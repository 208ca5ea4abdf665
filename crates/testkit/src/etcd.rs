//! A real etcd server for one test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{accepts, die_with_parent, free_port};

/// Where the etcd binary is: `$RKUBE_ETCD`, else `etcd` on the `PATH`.
pub fn etcd_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("RKUBE_ETCD") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("etcd"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "etcd is not installed: `cargo xtask test` installs Debian's etcd-server, \
                 or set RKUBE_ETCD to an etcd binary"
            )
        })
}

/// An etcd process serving on a loopback port, with its data in a temporary
/// directory. Killed and removed on drop.
pub struct EtcdServer {
    child: Child,
    /// `127.0.0.1:PORT` of the client endpoint.
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl EtcdServer {
    /// Start etcd and wait until it accepts clients.
    pub fn start() -> EtcdServer {
        for _attempt in 0..5 {
            if let Some(server) = Self::try_start() {
                return server;
            }
        }
        panic!("etcd did not start (see its output above)");
    }

    fn try_start() -> Option<EtcdServer> {
        let dir = tempfile::Builder::new()
            .prefix("rkube-etcd-")
            .tempdir()
            .expect("creating a temporary directory");
        let (client, peer) = (free_port(), free_port());
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut command = Command::new(etcd_binary());
        command
            .arg("--name=test")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=test={peer_url}"))
            .arg("--log-level=error")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.path().join("etcd.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            );
        let mut child = die_with_parent(&mut command)
            .spawn()
            .expect("starting etcd");
        let endpoint = format!("127.0.0.1:{client}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return None; // exited early: most likely a port collision
            }
            if accepts(&endpoint) {
                return Some(EtcdServer {
                    child,
                    endpoint,
                    _dir: dir,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// The datastore URL rkube takes: `etcd://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("etcd://{}", self.endpoint)
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
