//! `rkube sim`: simulated nodes, their Lease heartbeats, and the node agent
//! they play for pods bound to them, through the real kubectl. The
//! simulator runs as its own process (`rkube sim --kubeconfig ...`), as a
//! user runs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Backend, OutputExt, RkubeServer, both_backends, create, get_json, server, table};

/// An `rkube sim` process, killed on drop.
struct Sim {
    child: Child,
    log: PathBuf,
}

impl Sim {
    fn start(s: &RkubeServer, args: &[&str]) -> Sim {
        let log = s.dir.path().join(format!(
            "sim-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut command = Command::new(env!("CARGO_BIN_EXE_rkube"));
        command
            .arg("sim")
            .arg("--kubeconfig")
            .arg(s.kubeconfig())
            .args(args)
            .env("RKUBE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("sim log"));
        let child = rkube_testkit::die_with_parent(&mut command)
            .spawn()
            .expect("starting rkube sim");
        Sim { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `f` until it returns `Some`, for at most `secs` seconds.
fn eventually<T>(sim: &Sim, what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nsim log:\n{}",
            sim.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pod(name: &str, node: Option<&str>, restart: &str, annotations: &[(&str, &str)]) -> String {
    let mut y = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n");
    if !annotations.is_empty() {
        y.push_str("  annotations:\n");
        for (k, v) in annotations {
            y.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    y.push_str(&format!("spec:\n  restartPolicy: {restart}\n"));
    if let Some(n) = node {
        y.push_str(&format!("  nodeName: {n}\n"));
    }
    y.push_str(
        "  containers:\n  - name: c\n    image: busybox\n    resources:\n      requests:\n        cpu: 100m\n",
    );
    y
}

fn ipv4(s: &str) -> u32 {
    u32::from(s.parse::<std::net::Ipv4Addr>().expect("an IPv4 address"))
}

/// Whether `ip` is in `cidr`.
fn in_cidr(ip: &str, cidr: &str) -> bool {
    let (net, len) = cidr.split_once('/').expect("a CIDR");
    let mask = u32::MAX << (32 - len.parse::<u32>().unwrap());
    ipv4(ip) & mask == ipv4(net) & mask
}

fn condition<'a>(obj: &'a Value, type_: &str) -> &'a Value {
    obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

fn wait_phase(s: &RkubeServer, sim: &Sim, name: &str, phase: &str) -> Value {
    let jsonpath = format!("--for=jsonpath={{.status.phase}}={phase}");
    let out = s.kubectl(&["wait", &jsonpath, &format!("pod/{name}"), "--timeout=30s"]);
    assert!(
        out.status.success(),
        "pod {name} did not become {phase}: {}\n{}\nsim log:\n{}",
        out.stderr_str(),
        s.kubectl(&["get", "pod", name, "-o", "yaml"]).stdout_str(),
        sim.log()
    );
    get_json(s, &["pod", name])
}

fn sim_nodes_pods_and_leases(backend: Backend) {
    let s = server(backend);
    let args = [
        "--nodes",
        "4",
        "--cpu",
        "8",
        "--memory",
        "16Gi",
        "--pods",
        "20",
        "--lease-interval",
        "1s",
        "--termination-delay",
        "200ms",
    ];
    let sim = Sim::start(&s, &args);

    // Four Ready nodes with the configured capacity, spread over 3 zones.
    eventually(&sim, "4 Ready nodes", 30, || {
        let out = s.kubectl(&["get", "nodes", "--no-headers"]);
        let rows = table(&out.stdout_str());
        (rows.len() == 4 && rows.iter().all(|r| r[1] == "Ready")).then_some(())
    });
    let zones = table(
        &s.kubectl(&[
            "get",
            "nodes",
            "-L",
            "topology.kubernetes.io/zone",
            "--no-headers",
        ])
        .ok(),
    );
    let zones: Vec<&str> = zones.iter().map(|r| r.last().unwrap().as_str()).collect();
    assert_eq!(zones, ["zone-a", "zone-b", "zone-c", "zone-a"]);
    let nodes = get_json(&s, &["nodes"]);
    let nodes = nodes["items"].as_array().unwrap().clone();
    for (i, n) in nodes.iter().enumerate() {
        let name = format!("sim-{i}");
        assert_eq!(n["metadata"]["name"], name.as_str());
        for key in ["capacity", "allocatable"] {
            assert_eq!(n["status"][key]["cpu"], "8", "{n}");
            assert_eq!(n["status"][key]["memory"], "16Gi", "{n}");
            assert_eq!(n["status"][key]["pods"], "20", "{n}");
        }
        let labels = &n["metadata"]["labels"];
        assert_eq!(labels["kubernetes.io/hostname"], name.as_str());
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["kubernetes.io/arch"], "amd64");
        assert!(labels["topology.kubernetes.io/region"].is_string());
        assert_eq!(n["metadata"]["annotations"]["sim.rkube.io/node"], "true");
        for (type_, status) in [
            ("Ready", "True"),
            ("MemoryPressure", "False"),
            ("DiskPressure", "False"),
            ("PIDPressure", "False"),
        ] {
            assert_eq!(condition(n, type_)["status"], status, "{type_}: {n}");
        }
        assert!(n["status"]["nodeInfo"]["kubeletVersion"].is_string());
        assert_eq!(n["status"]["addresses"][0]["type"], "InternalIP");
        assert!(n["spec"]["podCIDR"].is_string());
    }
    let node = |name: &str| -> &Value {
        nodes
            .iter()
            .find(|n| n["metadata"]["name"] == name)
            .unwrap()
    };

    // A pod created on a node runs there, with an IP from the node's range.
    create(&s, &pod("web", Some("sim-1"), "Always", &[]));
    s.kubectl(&["wait", "--for=condition=Ready", "pod/web", "--timeout=30s"])
        .ok();
    let web = get_json(&s, &["pod", "web"]);
    assert_eq!(web["status"]["phase"], "Running");
    let ip = web["status"]["podIP"].as_str().unwrap().to_owned();
    assert!(
        in_cidr(&ip, node("sim-1")["spec"]["podCIDR"].as_str().unwrap()),
        "{web}"
    );
    assert_eq!(web["status"]["podIPs"][0]["ip"], ip.as_str());
    assert_eq!(
        web["status"]["hostIP"],
        node("sim-1")["status"]["addresses"][0]["address"]
    );
    assert_eq!(web["status"]["qosClass"], "Burstable");
    assert!(web["status"]["startTime"].is_string());
    for type_ in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
        assert_eq!(condition(&web, type_)["status"], "True", "{type_}: {web}");
    }
    let c = &web["status"]["containerStatuses"][0];
    assert_eq!(c["ready"], true);
    assert!(c["state"]["running"]["startedAt"].is_string(), "{c}");
    let rows = table(&s.kubectl(&["get", "pod", "web", "--no-headers"]).ok());
    assert_eq!(rows[0][1..3], ["1/1", "Running"]);

    // A pod bound through pods/binding, as a scheduler binds (its
    // schedulerName keeps the server's own scheduler away).
    let unscheduled =
        pod("bound", None, "Always", &[]).replace("spec:\n", "spec:\n  schedulerName: by-hand\n");
    create(&s, &unscheduled);
    let binding = crate::manifest(
        &s,
        "binding.json",
        r#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"bound"},"target":{"apiVersion":"v1","kind":"Node","name":"sim-2"}}"#,
    );
    s.kubectl(&[
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/bound/binding",
        "-f",
        &binding,
    ])
    .ok();
    s.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/bound",
        "--timeout=30s",
    ])
    .ok();
    let bound = get_json(&s, &["pod", "bound"]);
    assert_eq!(bound["spec"]["nodeName"], "sim-2");

    // A binding's annotations land on the pod; the pod is written as the
    // binding leaves it, but its metadata is still checked.
    let annotated = pod("annotated", None, "Always", &[])
        .replace("spec:\n", "spec:\n  schedulerName: by-hand\n");
    create(&s, &annotated);
    let bind_with = |annotations: &str| {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"Binding","metadata":{{"name":"annotated","annotations":{annotations}}},"target":{{"apiVersion":"v1","kind":"Node","name":"sim-0"}}}}"#
        );
        let file = crate::manifest(&s, "binding-annotated.json", &body);
        s.kubectl(&[
            "create",
            "--raw",
            "/api/v1/namespaces/default/pods/annotated/binding",
            "-f",
            &file,
        ])
    };
    let err = bind_with(r#"{"not a key!": "x"}"#).err();
    assert!(err.contains("metadata.annotations"), "{err}");
    assert!(
        get_json(&s, &["pod", "annotated"])["spec"]["nodeName"].is_null(),
        "a refused binding changes nothing"
    );
    bind_with(r#"{"example.com/placed-by": "hand"}"#).ok();
    let annotated = get_json(&s, &["pod", "annotated"]);
    assert_eq!(annotated["spec"]["nodeName"], "sim-0");
    assert_eq!(
        annotated["metadata"]["annotations"]["example.com/placed-by"],
        "hand"
    );
    assert_eq!(condition(&annotated, "PodScheduled")["status"], "True");
    // As upstream's, a binding is written past the field manager: nobody
    // owns the node name or the binding's annotations.
    let managed =
        get_json(&s, &["pod", "annotated", "--show-managed-fields"])["metadata"]["managedFields"]
            .to_string();
    assert!(managed.contains("f:schedulerName"), "{managed}");
    assert!(!managed.contains("f:nodeName"), "{managed}");
    assert!(!managed.contains("placed-by"), "{managed}");
    let bound_ip = bound["status"]["podIP"].as_str().unwrap().to_owned();
    assert!(in_cidr(
        &bound_ip,
        node("sim-2")["spec"]["podCIDR"].as_str().unwrap()
    ));

    // run-for: a restartPolicy Never pod completes...
    create(
        &s,
        &pod(
            "job",
            Some("sim-0"),
            "Never",
            &[("sim.rkube.io/run-for", "1s")],
        ),
    );
    // ... or fails with the exit code asked for.
    create(
        &s,
        &pod(
            "fail",
            Some("sim-0"),
            "Never",
            &[
                ("sim.rkube.io/run-for", "500ms"),
                ("sim.rkube.io/exit-code", "1"),
            ],
        ),
    );
    // An OnFailure pod that exits 0 completes too.
    create(
        &s,
        &pod(
            "once",
            Some("sim-3"),
            "OnFailure",
            &[("sim.rkube.io/run-for", "300ms")],
        ),
    );
    // A restartPolicy Always pod that exits is restarted.
    create(
        &s,
        &pod(
            "crash",
            Some("sim-3"),
            "Always",
            &[
                ("sim.rkube.io/run-for", "200ms"),
                ("sim.rkube.io/exit-code", "2"),
            ],
        ),
    );

    let job = wait_phase(&s, &sim, "job", "Succeeded");
    let t = &job["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["exitCode"], 0, "{job}");
    assert_eq!(t["reason"], "Completed", "{job}");
    assert_eq!(condition(&job, "Ready")["status"], "False");
    assert_eq!(condition(&job, "Ready")["reason"], "PodCompleted");
    let rows = table(&s.kubectl(&["get", "pod", "job", "--no-headers"]).ok());
    assert_eq!(rows[0][2], "Completed");

    let fail = wait_phase(&s, &sim, "fail", "Failed");
    let t = &fail["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["exitCode"], 1, "{fail}");
    assert_eq!(t["reason"], "Error", "{fail}");
    let rows = table(&s.kubectl(&["get", "pod", "fail", "--no-headers"]).ok());
    assert_eq!(rows[0][2], "Error");

    wait_phase(&s, &sim, "once", "Succeeded");

    eventually(&sim, "crash to restart", 30, || {
        let p = get_json(&s, &["pod", "crash"]);
        let c = &p["status"]["containerStatuses"][0];
        (c["restartCount"].as_i64() >= Some(1) && c["lastState"]["terminated"]["exitCode"] == 2)
            .then_some(())
    });
    eventually(&sim, "crash to back off", 30, || {
        let p = get_json(&s, &["pod", "crash"]);
        (p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff")
            .then_some(())
    });
    assert_eq!(
        get_json(&s, &["pod", "crash"])["status"]["phase"],
        "Running"
    );

    // Deletion: kubectl waits until the simulated kubelet finalizes.
    let started = Instant::now();
    s.kubectl(&["delete", "pod", "web", "--timeout=30s"]).ok();
    assert!(started.elapsed() < Duration::from_secs(20));
    let err = s.kubectl(&["get", "pod", "web"]).err();
    assert!(err.contains("NotFound"), "{err}");
    // A pod whose containers take long to stop stays Terminating meanwhile
    // (never beyond its grace period).
    create(
        &s,
        &pod(
            "slow",
            Some("sim-1"),
            "Always",
            &[("sim.rkube.io/termination-delay", "3s")],
        ),
    );
    s.kubectl(&["wait", "--for=condition=Ready", "pod/slow", "--timeout=30s"])
        .ok();
    let started = Instant::now();
    s.kubectl(&["delete", "pod", "slow", "--wait=false"]).ok();
    let slow = get_json(&s, &["pod", "slow"]);
    assert!(slow["metadata"]["deletionTimestamp"].is_string(), "{slow}");
    let rows = table(&s.kubectl(&["get", "pod", "slow", "--no-headers"]).ok());
    assert_eq!(rows[0][2], "Terminating");
    eventually(&sim, "slow to be deleted", 30, || {
        (!s.kubectl(&["get", "pod", "slow"]).status.success()).then_some(())
    });
    assert!(started.elapsed() >= Duration::from_millis(2500));

    // Leases: one per node, renewed.
    let lease = get_json(&s, &["lease", "sim-0", "-n", "kube-node-lease"]);
    assert_eq!(lease["spec"]["holderIdentity"], "sim-0");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(lease["metadata"]["ownerReferences"][0]["kind"], "Node");
    let renewed = lease["spec"]["renewTime"].clone();
    eventually(&sim, "the lease to be renewed", 10, || {
        let lease = get_json(&s, &["lease", "sim-0", "-n", "kube-node-lease"]);
        (lease["spec"]["renewTime"] != renewed).then_some(())
    });
    let leases = table(
        &s.kubectl(&["get", "leases", "-n", "kube-node-lease", "--no-headers"])
            .ok(),
    );
    assert_eq!(leases.len(), 4);

    // Stopping the simulator leaves the nodes; a new one adopts them and
    // their running pods (no address handed out twice).
    drop(sim);
    let sim = Sim::start(&s, &args);
    eventually(&sim, "the lease to be renewed again", 20, || {
        let lease = get_json(&s, &["lease", "sim-2", "-n", "kube-node-lease"]);
        let t = lease["spec"]["renewTime"].as_str()?.to_owned();
        std::thread::sleep(Duration::from_millis(1500));
        let lease = get_json(&s, &["lease", "sim-2", "-n", "kube-node-lease"]);
        (lease["spec"]["renewTime"].as_str()? != t).then_some(())
    });
    assert_eq!(
        table(&s.kubectl(&["get", "nodes", "--no-headers"]).ok()).len(),
        4
    );
    create(&s, &pod("after", Some("sim-2"), "Always", &[]));
    s.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/after",
        "--timeout=30s",
    ])
    .ok();
    let after = get_json(&s, &["pod", "after"]);
    let after_ip = after["status"]["podIP"].as_str().unwrap();
    assert_ne!(after_ip, bound_ip);
    assert!(in_cidr(
        after_ip,
        node("sim-2")["spec"]["podCIDR"].as_str().unwrap()
    ));
    let bound = get_json(&s, &["pod", "bound"]);
    assert_eq!(bound["status"]["podIP"], bound_ip.as_str());
    assert_eq!(bound["status"]["phase"], "Running");
    drop(sim);
}

both_backends!(sim_nodes_pods_and_leases);
