//! An acknowledged write survives `kill -9` of the server.

use crate::{Backend, OutputExt, both_backends, configmap, create, get_json, server};

fn acknowledged_writes_survive_kill_9(backend: Backend) {
    let mut s = server(backend);
    let mut created = Vec::new();
    for i in 0..20 {
        let name = format!("durable-{i}");
        create(&s, &configmap(&name, "default", &[("i", &i.to_string())]));
        created.push(name);
    }
    s.kubectl(&["label", "cm", "durable-3", "kept=yes"]).ok();
    s.kubectl(&["delete", "cm", "durable-4"]).ok();
    let rv_before: i64 = get_json(&s, &["cm", "durable-3"])["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    s.kill9();
    s.restart();
    let out = s.kubectl(&["get", "cm", "-o", "name"]).ok();
    for name in &created {
        let present = out.lines().any(|l| l == format!("configmap/{name}"));
        assert_eq!(present, name != "durable-4", "{name} after restart:\n{out}");
    }
    let cm = get_json(&s, &["cm", "durable-3"]);
    assert_eq!(cm["metadata"]["labels"]["kept"], "yes");
    assert_eq!(cm["data"]["i"], "3");
    // Revisions go on increasing after the restart.
    s.kubectl(&["label", "cm", "durable-3", "again=yes"]).ok();
    let rv_after: i64 = get_json(&s, &["cm", "durable-3"])["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv_after > rv_before);
    // The certificates were reused: the old kubeconfig still works.
    s.kubectl(&["get", "ns", "default"]).ok();
}

both_backends!(acknowledged_writes_survive_kill_9);
