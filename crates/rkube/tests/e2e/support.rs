//! Helpers shared by the tests that need simulated nodes or extra server
//! flags: `rkube sim` as a process, polling with a deadline, conditions.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Backend, RkubeServer, get_json};

/// An `rkube sim` process, killed on drop.
pub struct Sim {
    child: Child,
    log: PathBuf,
}

impl Sim {
    /// Start `rkube sim` with `args` and wait until its `nodes` nodes are
    /// Ready.
    pub fn start(s: &RkubeServer, nodes: usize, args: &[&str]) -> Sim {
        // Several simulators may run side by side, with their own prefixes.
        let prefix = args
            .iter()
            .position(|a| *a == "--prefix")
            .and_then(|i| args.get(i + 1))
            .copied()
            .unwrap_or("sim-")
            .to_owned();
        let log = s.dir.path().join(format!("{prefix}sim.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_rkube"));
        command
            .arg("sim")
            .arg("--kubeconfig")
            .arg(s.kubeconfig())
            .arg("--nodes")
            .arg(nodes.to_string())
            .args(["--termination-delay", "100ms"])
            .args(args)
            .env("RKUBE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("sim log"));
        let child = rkube_testkit::die_with_parent(&mut command)
            .spawn()
            .expect("starting rkube sim");
        let sim = Sim { child, log };
        eventually(s, "the simulated nodes to be Ready", 30, || {
            let list = get_json(s, &["nodes"]);
            let ready = list["items"]
                .as_array()?
                .iter()
                .filter(|n| {
                    n["metadata"]["name"]
                        .as_str()
                        .is_some_and(|name| name.starts_with(&prefix))
                        && condition(n, "Ready")["status"] == "True"
                })
                .count();
            (ready == nodes).then_some(())
        });
        sim
    }
}

/// A control-plane component run on its own (`rkube controller-manager`,
/// `rkube scheduler`) against a server, killed on drop.
pub struct Component {
    child: Child,
    log: PathBuf,
}

impl Component {
    /// Start `rkube <command> --kubeconfig <the server's>`.
    pub fn start(s: &RkubeServer, command: &str) -> Component {
        let log = s.dir.path().join(format!("{command}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rkube"));
        cmd.arg(command)
            .arg("--kubeconfig")
            .arg(s.kubeconfig())
            .env("RKUBE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("component log"));
        let child = rkube_testkit::die_with_parent(&mut cmd)
            .spawn()
            .unwrap_or_else(|e| panic!("starting rkube {command}: {e}"));
        Component { child, log }
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "{} log:\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Sim {
    /// Kill the simulator at once (its nodes stop heartbeating, as after
    /// a power cut).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "sim log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// Poll `f` every 50 ms until it returns `Some`, for at most `secs`
/// seconds; on timeout fail with the server's log.
pub fn eventually<T>(
    s: &RkubeServer,
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nserver log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A condition of an object's status (Null if absent).
pub fn condition<'a>(obj: &'a Value, type_: &str) -> &'a Value {
    obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

/// A server started with extra command-line flags: `rkube` behind a small
/// wrapper script that appends them (the test kit starts servers with its
/// own flags only). The script's directory lives as long as the server.
pub fn server_with_flags(flags: &[&str]) -> (RkubeServer, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("rkube-wrapper-")
        .tempdir()
        .expect("temp dir");
    let script = dir.path().join("rkube");
    let quoted: Vec<String> = flags.iter().map(|f| format!("'{f}'")).collect();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec '{}' \"$@\" {}\n",
            env!("CARGO_BIN_EXE_rkube"),
            quoted.join(" ")
        ),
    )
    .expect("writing the wrapper");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (RkubeServer::start(&script, Backend::Sqlite), dir)
}
