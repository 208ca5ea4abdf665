//! The seed's manifests, applied and read back in every way kubectl reads.

use serde_json::json;

use crate::{Backend, OutputExt, api_only_server, both_backends, fixture, get_json, table};

const SEED: &[&str] = &[
    "seed/tomcat.yaml",
    "seed/service-nodeport.yaml",
    "seed/ingress-def.yaml",
    "seed/allow-all-ingress.yaml",
    "seed/allow-netpol.yaml",
];

fn apply_every_seed_manifest(backend: Backend) {
    let s = api_only_server(backend);
    for file in SEED {
        let out = s
            .kubectl(&["apply", "--validate=false", "-f", &fixture(file)])
            .ok();
        assert!(out.contains("created"), "{file}: {out}");
    }

    // Each object reads back as the manifest said, with the server's fields.
    let svc = get_json(&s, &["svc", "tomcat"]);
    assert_eq!(
        svc["spec"]["selector"],
        json!({"app": "tomcat", "release": "canary"})
    );
    assert_eq!(svc["spec"]["ports"][0]["name"], "http");
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["ports"][1]["port"], 8009);
    assert!(
        svc["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(
        svc["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|rv| rv.parse::<i64>().unwrap() > 0)
    );
    assert!(
        svc["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let np = get_json(&s, &["svc", "ingress-nginx", "-n", "ingress-nginx"]);
    assert_eq!(np["spec"]["type"], "NodePort");
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);
    assert_eq!(np["spec"]["ports"][1]["nodePort"], 30443);

    let deploy = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(deploy["spec"]["replicas"], 3);
    assert_eq!(deploy["metadata"]["generation"], 1);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "tomcat:8.5.32-jre8-alpine"
    );
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["ports"][1]["name"],
        "ajp"
    );

    let netpol = get_json(&s, &["netpol", "allow-myapp-ingress"]);
    assert_eq!(
        netpol["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"],
        "10.244.0.0/16"
    );
    assert_eq!(
        netpol["spec"]["ingress"][0]["from"][0]["ipBlock"]["except"],
        json!(["10.244.1.2/32"])
    );
    let deny = get_json(&s, &["netpol", "deny-all-ingress"]);
    assert_eq!(deny["spec"]["policyTypes"], json!(["Ingress"]));

    // Applying the same manifests again changes nothing.
    for file in SEED {
        let out = s
            .kubectl(&["apply", "--validate=false", "-f", &fixture(file)])
            .ok();
        assert!(out.contains("unchanged"), "{file}: {out}");
    }
    let again = get_json(&s, &["deploy", "tomcat-deploy"]);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        deploy["metadata"]["resourceVersion"]
    );
}

fn get_in_every_format(backend: Backend) {
    let s = api_only_server(backend);
    for file in SEED {
        s.kubectl(&["apply", "--validate=false", "-f", &fixture(file)])
            .ok();
    }

    // Plain: upstream's columns.
    let out = s.kubectl(&["get", "svc"]).ok();
    let rows = table(&out);
    assert_eq!(
        rows[0],
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "tomcat" && r.contains(&"8080/TCP,8009/TCP".to_owned())),
        "{out}"
    );

    let out = s.kubectl(&["get", "deploy"]).ok();
    let rows = table(&out);
    assert_eq!(rows[0], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(rows[1][..4], ["tomcat-deploy", "0/3", "0", "0"]);

    // Wide adds the priority-1 columns.
    let out = s.kubectl(&["get", "deploy", "-o", "wide"]).ok();
    let rows = table(&out);
    assert_eq!(
        rows[0],
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(
        rows[1][5..],
        [
            "tomcat",
            "tomcat:8.5.32-jre8-alpine",
            "app=tomcat,release=canary"
        ]
    );

    // YAML.
    let out = s.kubectl(&["get", "svc", "tomcat", "-o", "yaml"]).ok();
    assert!(
        out.contains("kind: Service")
            && out.contains("name: tomcat")
            && out.contains("resourceVersion:"),
        "{out}"
    );

    // Across namespaces.
    let out = s.kubectl(&["get", "svc", "-A"]).ok();
    let rows = table(&out);
    assert_eq!(rows[0][..2], ["NAMESPACE", "NAME"]);
    assert!(
        rows.iter()
            .any(|r| r[..2] == ["ingress-nginx", "ingress-nginx"]),
        "{out}"
    );
    assert!(
        rows.iter().any(|r| r[..2] == ["default", "tomcat"]),
        "{out}"
    );

    // Labels, label selectors, field selectors.
    for (name, app) in [("a", "web"), ("b", "db"), ("c", "web")] {
        let cm = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:\n    app: {app}\n"
        );
        s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(&cm), &[])
            .ok();
    }
    let out = s.kubectl(&["get", "cm", "--show-labels"]).ok();
    assert!(
        table(&out)
            .iter()
            .any(|r| r[0] == "a" && r.last().map(String::as_str) == Some("app=web")),
        "{out}"
    );
    let out = s
        .kubectl(&["get", "cm", "-l", "app=web", "-o", "name"])
        .ok();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["configmap/a", "configmap/c"]
    );
    let out = s
        .kubectl(&[
            "get",
            "cm",
            "-l",
            "app in (db),app notin (web)",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(out.trim(), "configmap/b");
    let out = s
        .kubectl(&[
            "get",
            "cm",
            "--field-selector",
            "metadata.name=c",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(out.trim(), "configmap/c");
    let out = s
        .kubectl(&[
            "get",
            "cm",
            "--field-selector",
            "metadata.name!=c",
            "-l",
            "app",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["configmap/a", "configmap/b"]
    );
    let err = s
        .kubectl(&["get", "cm", "--field-selector", "spec.foo=x"])
        .err();
    assert!(
        err.contains("field label not supported: spec.foo")
            || err.contains("is not a known field selector"),
        "{err}"
    );

    // Pagination: kubectl pages with --chunk-size and must see everything.
    for i in 0..7 {
        let cm = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: page-{i}\n");
        s.kubectl_with(&["create", "--validate=false", "-f", "-"], Some(&cm), &[])
            .ok();
    }
    let out = s
        .kubectl(&["get", "cm", "--chunk-size=2", "-o", "name"])
        .ok();
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("configmap/page-"))
            .count(),
        7,
        "{out}"
    );

    // api-resources and get all.
    let out = s.kubectl(&["api-resources"]).ok();
    for expected in [
        "deployments",
        "deploy",
        "poddisruptionbudgets",
        "pdb",
        "networkpolicies",
        "netpol",
    ] {
        assert!(
            out.split_whitespace().any(|w| w == expected),
            "{expected} missing:\n{out}"
        );
    }
    let out = s.kubectl(&["get", "all"]).ok();
    assert!(
        out.contains("service/tomcat") && out.contains("deployment.apps/tomcat-deploy"),
        "{out}"
    );
}

fn describe_reads_objects_and_events(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&[
        "apply",
        "--validate=false",
        "-f",
        &fixture("seed/tomcat.yaml"),
    ])
    .ok();
    let out = s.kubectl(&["describe", "deploy", "tomcat-deploy"]).ok();
    assert!(
        out.contains("Name:") && out.contains("tomcat-deploy"),
        "{out}"
    );
    assert!(out.contains("3 desired"), "{out}");
    assert!(out.contains("app=tomcat,release=canary"), "{out}");

    // An event about the service shows up in its description.
    let uid = get_json(&s, &["svc", "tomcat"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = format!(
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: tomcat.1\ninvolvedObject:\n  kind: Service\n  name: tomcat\n  namespace: default\n  uid: {uid}\nreason: Testing\nmessage: hello from the test\ntype: Normal\nsource:\n  component: e2e\n"
    );
    s.kubectl_with(
        &["create", "--validate=false", "-f", "-"],
        Some(&event),
        &[],
    )
    .ok();
    let out = s.kubectl(&["describe", "svc", "tomcat"]).ok();
    assert!(
        out.contains("Testing") && out.contains("hello from the test"),
        "{out}"
    );
    let out = s
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=tomcat",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(out.trim(), "event/tomcat.1");
}

both_backends!(
    apply_every_seed_manifest,
    get_in_every_format,
    describe_reads_objects_and_events
);
