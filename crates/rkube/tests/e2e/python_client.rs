//! The official Python client (`pip install kubernetes`) against the
//! server: tests/fixtures/python/client_crud.py checks every result itself
//! and exits non-zero on a difference; here we run it and show its output.

use std::process::{Command, Stdio};

use crate::{Backend, both_backends, fixture, server};

fn python_client_create_list_watch_patch_delete(backend: Backend) {
    let probe = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the Python `kubernetes` client is not installed (`cargo xtask test` installs it, \
             or run `pip install kubernetes`):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "python3 is not available ({e}); `cargo xtask test` installs the Python `kubernetes` client"
        ),
    }

    let s = server(backend);
    let mut command = Command::new("python3");
    command
        .arg(fixture("python/client_crud.py"))
        .arg(s.kubeconfig())
        .arg("default")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null());
    let out = rkube_testkit::die_with_parent(&mut command)
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "client_crud.py failed ({}):\n--- stdout\n{}\n--- stderr\n{}\n--- server log\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
}

both_backends!(python_client_create_list_watch_patch_delete);
