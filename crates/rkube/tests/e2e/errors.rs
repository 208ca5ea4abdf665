//! Errors read exactly as kubectl prints them against Kubernetes.

use crate::{Backend, OutputExt, both_backends, manifest, server};

fn not_found_conflict_and_invalid(backend: Backend) {
    let s = server(backend);

    let err = s.kubectl(&["get", "pod", "nope"]).err();
    assert_eq!(
        err.trim(),
        r#"Error from server (NotFound): pods "nope" not found"#
    );
    let err = s.kubectl(&["get", "deploy", "nope"]).err();
    assert_eq!(
        err.trim(),
        r#"Error from server (NotFound): deployments.apps "nope" not found"#
    );
    // A GET in a missing namespace is answered for the object (kubectl then
    // checks the namespace itself and reports that).
    let err = s
        .kubectl(&["get", "--raw", "/api/v1/namespaces/missing/configmaps/x"])
        .err();
    assert!(
        err.contains(r#"configmaps \"x\" not found"#)
            || err.contains(r#"configmaps "x" not found"#),
        "{err}"
    );
    let err = s.kubectl(&["get", "cm", "x", "-n", "missing"]).err();
    assert!(err.contains("not found"), "{err}");
    let err = s
        .kubectl_with(
            &["create", "--validate=false", "-f", "-"],
            Some(&crate::configmap("x", "missing", &[])),
            &[],
        )
        .err();
    assert!(err.contains(r#"namespaces "missing" not found"#), "{err}");

    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n";
    let file = manifest(&s, "dup.yaml", cm);
    s.kubectl(&["create", "--validate=false", "-f", &file]).ok();
    let err = s
        .kubectl(&["create", "--validate=false", "-f", &file])
        .err();
    assert_eq!(
        err.trim(),
        format!(
            r#"Error from server (AlreadyExists): error when creating "{file}": configmaps "dup" already exists"#
        )
    );

    // 422 with causes naming the field.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n";
    let file = manifest(&s, "bad-pod.yaml", pod);
    let err = s
        .kubectl(&["create", "--validate=false", "-f", &file])
        .err();
    assert!(
        err.contains(r#"The Pod "bad" is invalid: spec.containers: Required value"#),
        "{err}"
    );

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  labels:\n    \"-x\": z\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    let file = manifest(&s, "bad-label.yaml", pod);
    let err = s
        .kubectl(&["create", "--validate=false", "-f", &file])
        .err();
    assert!(
        err.contains(r#"The Pod "bad" is invalid: metadata.labels: Invalid value: "-x""#),
        "{err}"
    );

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: busybox\n    resources:\n      requests:\n        cpu: abc\n";
    let file = manifest(&s, "bad-qty.yaml", pod);
    let err = s
        .kubectl(&["create", "--validate=false", "-f", &file])
        .err();
    assert!(
        err.contains("quantities must match the regular expression"),
        "{err}"
    );
    // Nothing was half-written.
    assert!(
        s.kubectl(&["get", "pod", "bad"])
            .err()
            .contains(r#"pods "bad" not found"#)
    );

    let pod =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n";
    let file = manifest(&s, "no-image.yaml", pod);
    let err = s
        .kubectl(&["create", "--validate=false", "-f", &file])
        .err();
    assert!(
        err.contains(r#"The Pod "bad" is invalid: spec.containers[0].image: Required value"#),
        "{err}"
    );
}

fn malformed_requests(backend: Backend) {
    let s = server(backend);
    let path = s.dir.path().join("junk.json");
    std::fs::write(&path, "{not json").unwrap();
    let err = s
        .kubectl(&[
            "create",
            "--raw",
            "/api/v1/namespaces/default/configmaps",
            "-f",
            &path.display().to_string(),
        ])
        .err();
    assert!(
        err.contains("BadRequest") || err.contains("the object provided is unrecognized"),
        "{err}"
    );
    let err = s.kubectl(&["get", "--raw", "/api/v1/nothere"]).err();
    assert!(
        err.contains("NotFound")
            || err.contains("the server could not find the requested resource"),
        "{err}"
    );
    let err = s
        .kubectl(&["get", "--raw", "/api/v1/pods?labelSelector=a%20in%20(b"])
        .err();
    assert!(
        err.contains("unable to parse requirement") || err.contains("BadRequest"),
        "{err}"
    );
}

/// Cluster IPs and node ports are allocated once: a taken or out-of-range
/// request is 422 worded as upstream, and a deleted Service frees its
/// address.
fn service_address_allocation(backend: Backend) {
    let s = server(backend);
    let svc = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n{extra}  selector:\n    app: web\n  ports:\n  - port: 80\n"
        )
    };
    let file = manifest(&s, "a.yaml", &svc("a", "  clusterIP: 10.96.0.50\n"));
    s.kubectl(&["create", "-f", &file]).ok();
    let file = manifest(&s, "b.yaml", &svc("b", "  clusterIP: 10.96.0.50\n"));
    let err = s.kubectl(&["create", "-f", &file]).err();
    assert!(
        err.contains(
            r#"The Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: provided IP is already allocated"#
        ),
        "{err}"
    );
    let file = manifest(&s, "c.yaml", &svc("c", "  clusterIP: 192.168.0.1\n"));
    let err = s.kubectl(&["create", "-f", &file]).err();
    assert!(
        err.contains("failed to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"),
        "{err}"
    );
    // Node ports: allocated in range when not asked for; a taken or
    // out-of-range one is refused.
    let np = |name: &str, port: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  type: NodePort\n  selector:\n    app: web\n  ports:\n  - port: 80\n{port}"
        )
    };
    let file = manifest(&s, "n1.yaml", &np("n1", "    nodePort: 30080\n"));
    s.kubectl(&["create", "-f", &file]).ok();
    let file = manifest(&s, "n2.yaml", &np("n2", "    nodePort: 30080\n"));
    let err = s.kubectl(&["create", "-f", &file]).err();
    assert!(
        err.contains(r#"The Service "n2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"#),
        "{err}"
    );
    let file = manifest(&s, "n3.yaml", &np("n3", ""));
    s.kubectl(&["create", "-f", &file]).ok();
    let port = s
        .kubectl(&[
            "get",
            "svc",
            "n3",
            "-o",
            "jsonpath={.spec.ports[0].nodePort}",
        ])
        .ok();
    let port: u16 = port.trim().parse().expect("a node port");
    assert!((30000..=32767).contains(&port) && port != 30080, "{port}");
    // Freed by deletion: the address can be taken again.
    s.kubectl(&["delete", "svc", "a"]).ok();
    let file = manifest(&s, "b.yaml", &svc("b", "  clusterIP: 10.96.0.50\n"));
    s.kubectl(&["create", "-f", &file]).ok();
}

both_backends!(
    not_found_conflict_and_invalid,
    malformed_requests,
    service_address_allocation
);
