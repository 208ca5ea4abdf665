//! The official Python client (`pip install kubernetes`) against the
//! server: the scripts in tests/fixtures/python check every result
//! themselves and exit non-zero on a difference; here we run them and show
//! their output. client_crud.py covers ConfigMaps and Deployments,
//! client_custom.py a CustomResourceDefinition and its custom resources.

use std::process::{Command, Stdio};

use crate::{Backend, api_only_server, both_backends, fixture};

/// Run `tests/fixtures/python/<script>` against a new server on `backend`.
fn run_script(backend: Backend, script: &str) {
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

    let s = api_only_server(backend);
    let mut command = Command::new("python3");
    command
        .arg(fixture(&format!("python/{script}")))
        .arg(s.kubeconfig())
        .arg("default")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null());
    let out = rkube_testkit::die_with_parent(&mut command)
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n--- stdout\n{}\n--- stderr\n{}\n--- server log\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
}

fn python_client_create_list_watch_patch_delete(backend: Backend) {
    run_script(backend, "client_crud.py");
}

fn python_client_custom_resources(backend: Backend) {
    run_script(backend, "client_custom.py");
}

both_backends!(
    python_client_create_list_watch_patch_delete,
    python_client_custom_resources
);
