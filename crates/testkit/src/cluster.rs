//! A real `rkube server` process, and the real `kubectl` pointed at it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::etcd::EtcdServer;
use crate::{die_with_parent, free_port};

/// Which store the server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A real etcd started for the test.
    Etcd,
}

/// An `rkube server` on a loopback port with a temporary data directory,
/// killed (and its etcd, if any) on drop.
pub struct RkubeServer {
    child: Option<Child>,
    binary: PathBuf,
    /// The data directory.
    pub dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The datastore URL.
    pub datastore: String,
    /// The etcd behind it, if any.
    pub etcd: Option<EtcdServer>,
    /// A fresh kubectl cache directory.
    cache_dir: tempfile::TempDir,
    /// Extra flags for `rkube server`.
    flags: Vec<String>,
}

impl RkubeServer {
    /// Start `binary` (the `rkube` executable) on `backend` and wait until
    /// `/readyz` answers.
    pub fn start(binary: impl AsRef<Path>, backend: Backend) -> RkubeServer {
        Self::start_with_flags(binary, backend, &[])
    }

    /// [`RkubeServer::start`] with extra `rkube server` flags
    /// (`--disable-controllers`, ...).
    pub fn start_with_flags(
        binary: impl AsRef<Path>,
        backend: Backend,
        flags: &[&str],
    ) -> RkubeServer {
        let dir = tempfile::Builder::new()
            .prefix("rkube-test-")
            .tempdir()
            .expect("temp dir");
        let etcd = (backend == Backend::Etcd).then(EtcdServer::start);
        let datastore = match &etcd {
            Some(e) => e.url(),
            None => format!("sqlite://{}", dir.path().join("state.db").display()),
        };
        let mut server = RkubeServer {
            child: None,
            binary: binary.as_ref().to_owned(),
            dir,
            addr: String::new(),
            datastore,
            etcd,
            cache_dir: tempfile::Builder::new()
                .prefix("rkube-kubectl-")
                .tempdir()
                .expect("temp dir"),
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        };
        server.launch(free_port());
        server
    }

    fn launch(&mut self, port: u16) {
        self.addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log file");
        let mut command = Command::new(&self.binary);
        command
            .arg("server")
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("--listen")
            .arg(&self.addr)
            .arg("--datastore")
            .arg(&self.datastore)
            .args(&self.flags)
            .env(
                "RKUBE_LOG",
                std::env::var("RKUBE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(log);
        let child = die_with_parent(&mut command)
            .spawn()
            .expect("starting rkube");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("rkube exited early ({status}):\n{}", self.log());
            }
            if self.kubeconfig().exists() && crate::accepts(&self.addr) {
                let out = self.kubectl(&["get", "--raw", "/readyz"]);
                if out.status.success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("rkube did not become ready:\n{}", self.log());
    }

    /// The server process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The admin kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("admin.kubeconfig")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Kill the server with SIGKILL (no chance to flush anything).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start the server again on the same data and port.
    pub fn restart(&mut self) {
        self.kill9();
        let port = self
            .addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(free_port);
        self.launch(port);
    }

    /// Run the real kubectl against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(args, None, &[])
    }

    /// Run kubectl with standard input and extra environment variables.
    pub fn kubectl_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(kubectl_binary());
        command
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("KUBECACHEDIR", self.cache_dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = die_with_parent(&mut command)
            .spawn()
            .expect("running kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes())
                .expect("writing kubectl's stdin");
        }
        child.wait_with_output().expect("waiting for kubectl")
    }

    /// Start kubectl without waiting for it (e.g. `get -w`).
    pub fn kubectl_spawn(&self, args: &[&str]) -> Child {
        let mut command = Command::new(kubectl_binary());
        command
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("KUBECACHEDIR", self.cache_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command)
            .spawn()
            .expect("running kubectl")
    }
}

impl Drop for RkubeServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The kubectl binary: `$KUBECTL`, else `/usr/bin/kubectl`.
pub fn kubectl_binary() -> PathBuf {
    std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/kubectl"))
}

/// Helpers on kubectl's output.
pub trait OutputExt {
    /// stdout as text.
    fn stdout_str(&self) -> String;
    /// stderr as text.
    fn stderr_str(&self) -> String;
    /// stdout, panicking with both streams if the command failed.
    fn ok(&self) -> String;
    /// stderr, panicking if the command succeeded.
    fn err(&self) -> String;
}

impl OutputExt for Output {
    fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    fn ok(&self) -> String {
        assert!(
            self.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout_str(),
            self.stderr_str()
        );
        self.stdout_str()
    }
    fn err(&self) -> String {
        assert!(
            !self.status.success(),
            "command unexpectedly succeeded:\nstdout: {}\nstderr: {}",
            self.stdout_str(),
            self.stderr_str()
        );
        self.stderr_str()
    }
}
