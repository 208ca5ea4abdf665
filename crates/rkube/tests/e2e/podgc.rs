//! Pod garbage collection through kubectl, with a simulated node:
//! terminated pods over `--terminated-pod-gc-threshold` go oldest first,
//! and pods bound to a node that does not exist go after the quarantine.
//! Running pods on live nodes stay.

use std::time::Duration;

use crate::support::{Sim, eventually};
use crate::{Backend, RkubeServer, create, get_json};

fn names(s: &RkubeServer, label: &str) -> Vec<String> {
    let mut v: Vec<String> = get_json(s, &["pods", "-l", label])["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    v.sort();
    v
}

#[test]
fn terminated_and_orphaned_pods_are_collected() {
    let s = RkubeServer::start_with_flags(
        env!("CARGO_BIN_EXE_rkube"),
        Backend::Sqlite,
        &[
            "--terminated-pod-gc-threshold",
            "2",
            "--pod-gc-period",
            "1s",
        ],
    );
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stays\n  labels: {app: stays}\nspec:\n  containers:\n  - {name: c, image: nginx}\n",
    );
    // Four short-lived pods, created a second apart (creation times are
    // whole seconds; oldest goes first).
    for i in 1..=4 {
        create(
            &s,
            &format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: done-{i}\n  labels: {{app: done}}\n  annotations: {{sim.rkube.io/run-for: 100ms}}\nspec:\n  restartPolicy: Never\n  containers:\n  - {{name: c, image: busybox}}\n"
            ),
        );
        std::thread::sleep(Duration::from_millis(1100));
    }
    // Two terminated pods are kept: the newest.
    eventually(&s, "the two oldest finished pods collected", 60, || {
        (names(&s, "app=done") == ["done-3", "done-4"]).then_some(())
    });
    for p in ["done-3", "done-4"] {
        assert_eq!(get_json(&s, &["pod", p])["status"]["phase"], "Succeeded");
    }

    // A pod bound to a node that does not exist.
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: orphan\n  labels: {app: orphan}\nspec:\n  nodeName: no-such-node\n  containers:\n  - {name: c, image: nginx}\n",
    );
    eventually(&s, "the orphaned pod collected", 60, || {
        names(&s, "app=orphan").is_empty().then_some(())
    });

    // Through all of it, the running pod stayed.
    let stays = get_json(&s, &["pod", "stays"]);
    assert_eq!(stays["status"]["phase"], "Running", "{stays}");
    assert!(stays["metadata"]["deletionTimestamp"].is_null());
    assert_eq!(names(&s, "app=done"), ["done-3", "done-4"]);
}
