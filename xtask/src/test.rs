//! `cargo xtask test`: everything the test suites need, then the suites.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

fn have(binary: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {binary}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Install Debian packages that are missing (the suites run as root on
/// Debian machines; elsewhere, install them yourself).
fn ensure_packages(packages: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(bin, _)| !have(bin))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let install = |update: bool| -> Result<bool> {
        if update {
            Command::new("apt-get")
                .args(["update", "-q"])
                .status()
                .context("running apt-get update")?;
        }
        Ok(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get install")?
            .success())
    };
    if !install(false)? && !install(true)? {
        bail!("could not install {}", missing.join(" "));
    }
    Ok(())
}

/// Install the Python client the compatibility tests drive, if missing.
fn ensure_python_client() -> Result<()> {
    let have = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have {
        return Ok(());
    }
    eprintln!("xtask: installing the kubernetes Python client");
    let ok = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "kubernetes"])
        .status()
        .context("running pip")?
        .success();
    if !ok {
        bail!("could not install the kubernetes Python client (pip install kubernetes)");
    }
    Ok(())
}

/// Install what is missing, then `cargo test` the whole workspace.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    ensure_packages(&[("etcd", "etcd-server"), ("kubectl", "kubernetes-client")])?;
    ensure_python_client()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["test", "--workspace"])
        .args(extra)
        .status()
        .context("running cargo test")?;
    if !status.success() {
        bail!("tests failed");
    }
    Ok(())
}
