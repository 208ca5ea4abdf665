//! `kubectl create <generator>`: kubectl builds the object itself and sends
//! it as protobuf (`application/vnd.kubernetes.protobuf`). Each generator
//! runs twice: as is (protobuf, in namespace `pb`), and as
//! `--dry-run=client -o json | kubectl create -f -` (the same object as
//! JSON, in namespace `js`). Both must store the same object, with the
//! same field ownership; and the protobuf one is checked field by field
//! against what Kubernetes stores for the command.

use serde_json::{Value, json};

use crate::{Backend, OutputExt, RkubeServer, api_only_server, both_backends, get_json};

/// The arguments with `--dry-run=client -o json` added (before a `--`).
fn dry_run<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let at = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    let mut out = args[..at].to_vec();
    out.extend(["--dry-run=client", "-o", "json"]);
    out.extend(&args[at..]);
    out
}

/// What differs between two stores of the same object: identity, times,
/// the namespace, and what the server allocates.
fn normalized(mut obj: Value) -> Value {
    let uid = obj["metadata"]["uid"].as_str().unwrap_or("-").to_owned();
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    for f in ["uid", "resourceVersion", "creationTimestamp", "namespace"] {
        meta.remove(f);
    }
    if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
        for e in entries {
            e.as_object_mut().expect("entry").remove("time");
        }
    }
    if obj["kind"] == "Service" && obj["spec"]["clusterIP"] != "None" {
        let spec = obj["spec"].as_object_mut().expect("spec");
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
        if let Some(Value::Array(ports)) = spec.get_mut("ports") {
            for p in ports {
                p.as_object_mut().expect("port").remove("nodePort");
            }
        }
    }
    // A Job's selector and labels carry its own uid.
    serde_json::from_str(&obj.to_string().replace(&uid, "<uid>")).expect("JSON")
}

/// Run a namespaced generator both ways; the protobuf-created object.
fn both_ways(s: &RkubeServer, resource: &str, name: &str, args: &[&str]) -> Value {
    let mut pb = vec!["-n", "pb"];
    pb.extend(args);
    let out = s.kubectl(&pb).ok();
    assert!(out.contains("created"), "{args:?}: {out}");

    let mut js = vec!["-n", "js"];
    js.extend(dry_run(args));
    let manifest = s.kubectl(&js).ok();
    s.kubectl_with(&["-n", "js", "create", "-f", "-"], Some(&manifest), &[])
        .ok();

    let by_protobuf = get_json(s, &["-n", "pb", resource, name, "--show-managed-fields"]);
    let by_json = get_json(s, &["-n", "js", resource, name, "--show-managed-fields"]);
    assert_eq!(
        normalized(by_protobuf.clone()),
        normalized(by_json),
        "{args:?}: the protobuf and JSON bodies stored different objects"
    );
    assert_eq!(by_protobuf["metadata"]["namespace"], "pb");
    let managers: Vec<&Value> = by_protobuf["metadata"]["managedFields"]
        .as_array()
        .map(|a| a.iter().map(|e| &e["manager"]).collect())
        .unwrap_or_default();
    // (An object whose only field is its name has no entry, as upstream.)
    assert!(
        managers.iter().all(|m| *m == "kubectl-create") && managers.len() <= 1,
        "{by_protobuf}"
    );
    by_protobuf
}

/// Run a cluster-scoped generator both ways under two names; the
/// protobuf-created object.
fn both_ways_cluster(s: &RkubeServer, resource: &str, name: &str, rest: &[&str]) -> Value {
    let twin = format!("{name}-json");
    let mut pb = vec!["create", resource, name];
    pb.extend(rest);
    s.kubectl(&pb).ok();
    let mut js = vec!["create", resource, &twin];
    js.extend(rest);
    let manifest = s.kubectl(&dry_run(&js)).ok();
    s.kubectl_with(&["create", "-f", "-"], Some(&manifest), &[])
        .ok();
    let by_protobuf = get_json(s, &[resource, name, "--show-managed-fields"]);
    let by_json = get_json(s, &[resource, &twin, "--show-managed-fields"]);
    let renamed = by_json.to_string().replace(&twin, name);
    assert_eq!(
        normalized(by_protobuf.clone()),
        normalized(serde_json::from_str(&renamed).expect("JSON")),
        "{resource} {rest:?}: the protobuf and JSON bodies stored different objects"
    );
    by_protobuf
}

/// The container defaults upstream applies (SetDefaults_Container) for an
/// image without a tag or with `:latest`.
fn defaulted_container(mut c: Value) -> Value {
    let m = c.as_object_mut().expect("container");
    m.insert("imagePullPolicy".into(), json!("Always"));
    m.insert(
        "terminationMessagePath".into(),
        json!("/dev/termination-log"),
    );
    m.insert("terminationMessagePolicy".into(), json!("File"));
    m.entry("resources").or_insert(json!({}));
    c
}

fn configmaps_and_secrets(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&["create", "namespace", "pb"]).ok();
    s.kubectl(&["create", "namespace", "js"]).ok();
    let bin = s.dir.path().join("bin.dat");
    let bytes: Vec<u8> = (0..=255).collect();
    std::fs::write(&bin, &bytes).expect("writing a binary file");
    let from_file = format!("--from-file=bin={}", bin.display());

    let cm = both_ways(
        &s,
        "configmap",
        "cfg",
        &[
            "create",
            "configmap",
            "cfg",
            "--from-literal=a=b",
            "--from-literal=empty=",
            &from_file,
        ],
    );
    assert_eq!(cm["data"], json!({"a": "b", "empty": ""}));
    // Not UTF-8: kubectl puts it in binaryData, base64 in JSON.
    let all: String = {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        bytes
            .chunks(3)
            .flat_map(|c| {
                let n = c
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
                (0..4).map(move |i| {
                    if i <= c.len() {
                        B64[(n >> (18 - 6 * i) & 63) as usize] as char
                    } else {
                        '='
                    }
                })
            })
            .collect()
    };
    assert_eq!(cm["binaryData"], json!({"bin": all}));
    assert!(cm.get("immutable").is_none(), "{cm}");

    let sec = both_ways(
        &s,
        "secret",
        "sec",
        &[
            "create",
            "secret",
            "generic",
            "sec",
            "--from-literal=user=admin",
            "--from-literal=pass=s3cr3t",
        ],
    );
    assert_eq!(sec["type"], "Opaque");
    assert_eq!(sec["data"], json!({"user": "YWRtaW4=", "pass": "czNjcjN0"}));
    // kubectl decodes the data back.
    let pass = s
        .kubectl(&[
            "-n",
            "pb",
            "get",
            "secret",
            "sec",
            "-o",
            "jsonpath={.data.pass}",
        ])
        .ok();
    assert_eq!(pass, "czNjcjN0");

    let reg = both_ways(
        &s,
        "secret",
        "reg",
        &[
            "create",
            "secret",
            "docker-registry",
            "reg",
            "--docker-server=registry.example.com",
            "--docker-username=u",
            "--docker-password=p",
            "--docker-email=u@example.com",
        ],
    );
    assert_eq!(reg["type"], "kubernetes.io/dockerconfigjson");
    assert!(reg["data"][".dockerconfigjson"].is_string(), "{reg}");

    let sa = both_ways(
        &s,
        "serviceaccount",
        "sa",
        &["create", "serviceaccount", "sa"],
    );
    assert_eq!(sa["metadata"]["name"], "sa");
    assert!(sa.get("secrets").is_none(), "{sa}");

    let q = both_ways(
        &s,
        "resourcequota",
        "q",
        &[
            "create",
            "quota",
            "q",
            "--hard=cpu=1,memory=1Gi,pods=10,requests.storage=5Gi",
        ],
    );
    assert_eq!(
        q["spec"]["hard"],
        json!({"cpu": "1", "memory": "1Gi", "pods": "10", "requests.storage": "5Gi"})
    );
    let qs = both_ways(
        &s,
        "resourcequota",
        "qs",
        &[
            "create",
            "quota",
            "qs",
            "--hard=pods=10",
            "--scopes=BestEffort",
        ],
    );
    assert_eq!(qs["spec"]["scopes"], json!(["BestEffort"]));
    assert_eq!(qs["spec"]["hard"], json!({"pods": "10"}));
}

fn workloads(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&["create", "namespace", "pb"]).ok();
    s.kubectl(&["create", "namespace", "js"]).ok();

    let d = both_ways(
        &s,
        "deployment",
        "web",
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
            "--port=80",
        ],
    );
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["metadata"]["generation"], 1);
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["selector"], json!({"matchLabels": {"app": "web"}}));
    // SetDefaults_Deployment.
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert!(spec.get("minReadySeconds").is_none(), "{spec}");
    assert!(spec.get("paused").is_none(), "{spec}");
    assert_eq!(
        spec["template"]["metadata"]["labels"],
        json!({"app": "web"})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(
        pod["containers"],
        json!([defaulted_container(json!({
            "name": "nginx",
            "image": "nginx",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
        }))])
    );
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["securityContext"], json!({}));
    for absent in [
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "nodeName",
        "serviceAccountName",
    ] {
        assert!(pod.get(absent).is_none(), "{absent}: {pod}");
    }

    // --replicas=0 is a pointer set to zero: it must not become 1.
    let zero = both_ways(
        &s,
        "deployment",
        "zero",
        &[
            "create",
            "deployment",
            "zero",
            "--image=nginx:1.27",
            "--image=busybox",
            "--replicas=0",
        ],
    );
    assert_eq!(zero["spec"]["replicas"], 0);
    let containers = &zero["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["name"], "nginx");
    assert_eq!(containers[0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(containers[1]["name"], "busybox");
    assert_eq!(containers[1]["imagePullPolicy"], "Always");
    let out = s.kubectl(&["-n", "pb", "get", "deploy", "zero"]).ok();
    assert!(out.contains("0/0"), "{out}");

    let job = both_ways(
        &s,
        "job",
        "j",
        &["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
    );
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(
        pod["containers"],
        json!([defaulted_container(json!({
            "name": "j",
            "image": "busybox",
            "command": ["echo", "hi"],
        }))])
    );
    // SetDefaults_Job and the job's generated selector.
    assert_eq!(job["spec"]["backoffLimit"], 6);
    assert_eq!(job["spec"]["completions"], 1);
    assert_eq!(job["spec"]["parallelism"], 1);
    let uid = job["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        job["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );

    let cj = both_ways(
        &s,
        "cronjob",
        "cj",
        &[
            "create",
            "cronjob",
            "cj",
            "--image=busybox",
            "--schedule=*/5 * * * *",
            "--restart=OnFailure",
            "--",
            "date",
        ],
    );
    assert_eq!(cj["spec"]["schedule"], "*/5 * * * *");
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(cj["spec"]["suspend"], false);
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
    let tmpl = &cj["spec"]["jobTemplate"];
    assert_eq!(tmpl["metadata"]["name"], "cj");
    assert_eq!(
        tmpl["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    assert_eq!(
        tmpl["spec"]["template"]["spec"]["containers"][0]["command"],
        json!(["date"])
    );

    // A job from the cron job: an owner reference with `controller: true`.
    s.kubectl(&["-n", "pb", "create", "job", "manual", "--from=cronjob/cj"])
        .ok();
    let manual = get_json(&s, &["-n", "pb", "job", "manual"]);
    assert_eq!(
        manual["metadata"]["annotations"],
        json!({"cronjob.kubernetes.io/instantiate": "manual"})
    );
    assert_eq!(
        manual["metadata"]["ownerReferences"],
        json!([{
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "cj",
            "uid": cj["metadata"]["uid"],
            "controller": true
        }])
    );
    assert_eq!(
        manual["spec"]["template"]["spec"]["containers"][0]["command"],
        json!(["date"])
    );

    let pdb = both_ways(
        &s,
        "pdb",
        "pdb",
        &[
            "create",
            "pdb",
            "pdb",
            "--selector=app=web",
            "--min-available=1",
        ],
    );
    assert_eq!(
        pdb["spec"],
        json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}})
    );
    let pdb2 = both_ways(
        &s,
        "pdb",
        "pdb2",
        &[
            "create",
            "pdb",
            "pdb2",
            "--selector=app=web,tier in (a,b)",
            "--max-unavailable=50%",
        ],
    );
    assert_eq!(pdb2["spec"]["maxUnavailable"], "50%");
    assert_eq!(
        pdb2["spec"]["selector"]["matchExpressions"],
        json!([{"key": "tier", "operator": "In", "values": ["a", "b"]}])
    );

    // `kubectl run` sends JSON.
    s.kubectl(&["-n", "pb", "run", "pod1", "--image=nginx", "--labels=a=b"])
        .ok();
    let pod = get_json(&s, &["-n", "pb", "pod", "pod1"]);
    assert_eq!(pod["metadata"]["labels"], json!({"a": "b"}));
    assert_eq!(pod["spec"]["containers"][0]["image"], "nginx");
}

fn services_and_ingresses(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&["create", "namespace", "pb"]).ok();
    s.kubectl(&["create", "namespace", "js"]).ok();

    let svc = both_ways(
        &s,
        "service",
        "s",
        &[
            "create",
            "service",
            "clusterip",
            "s",
            "--tcp=80:8080",
            "--tcp=443:8443",
        ],
    );
    assert_eq!(svc["metadata"]["labels"], json!({"app": "s"}));
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["selector"], json!({"app": "s"}));
    assert_eq!(
        svc["spec"]["ports"],
        json!([
            {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "443-8443", "port": 443, "protocol": "TCP", "targetPort": 8443}
        ])
    );
    assert_eq!(svc["spec"]["sessionAffinity"], "None");

    let headless = both_ways(
        &s,
        "service",
        "headless",
        &[
            "create",
            "service",
            "clusterip",
            "headless",
            "--clusterip=None",
        ],
    );
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert!(headless["spec"].get("ports").is_none(), "{headless}");

    let np = both_ways(
        &s,
        "service",
        "np",
        &["create", "service", "nodeport", "np", "--tcp=80:8080"],
    );
    assert_eq!(np["spec"]["type"], "NodePort");
    assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(np["spec"]["ports"][0]["targetPort"], 8080);

    let ext = both_ways(
        &s,
        "service",
        "ext",
        &[
            "create",
            "service",
            "externalname",
            "ext",
            "--external-name=example.com",
        ],
    );
    assert_eq!(ext["spec"]["type"], "ExternalName");
    assert_eq!(ext["spec"]["externalName"], "example.com");

    let lb = both_ways(
        &s,
        "service",
        "lb",
        &["create", "service", "loadbalancer", "lb", "--tcp=443:8443"],
    );
    assert_eq!(lb["spec"]["type"], "LoadBalancer");
    assert_eq!(lb["spec"]["ports"][0]["port"], 443);

    let ing = both_ways(
        &s,
        "ingress",
        "ing",
        &[
            "create",
            "ingress",
            "ing",
            "--class=nginx",
            "--rule=foo.com/bar*=svc1:8080,tls=my-cert",
            "--annotation=a=b",
        ],
    );
    assert_eq!(ing["metadata"]["annotations"], json!({"a": "b"}));
    assert_eq!(
        ing["spec"],
        json!({
            "ingressClassName": "nginx",
            "rules": [{"host": "foo.com", "http": {"paths": [{
                "path": "/bar",
                "pathType": "Prefix",
                "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}
            }]}}],
            "tls": [{"hosts": ["foo.com"], "secretName": "my-cert"}]
        })
    );
}

fn rbac_namespaces_priority_classes(backend: Backend) {
    let s = api_only_server(backend);
    s.kubectl(&["create", "namespace", "pb"]).ok();
    s.kubectl(&["create", "namespace", "js"]).ok();

    let role = both_ways(
        &s,
        "role",
        "r",
        &[
            "create",
            "role",
            "r",
            "--verb=get,list",
            "--resource=pods,deployments.apps",
            "--resource-name=a",
            "--resource-name=b",
        ],
    );
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a", "b"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["a", "b"], "verbs": ["get", "list"]}
        ])
    );
    let rb = both_ways(
        &s,
        "rolebinding",
        "rb",
        &[
            "create",
            "rolebinding",
            "rb",
            "--role=r",
            "--user=alice",
            "--group=devs",
            "--serviceaccount=default:sa",
        ],
    );
    assert_eq!(
        rb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"})
    );
    assert_eq!(
        rb["subjects"],
        json!([
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "sa", "namespace": "default"}
        ])
    );

    let ns = both_ways_cluster(&s, "namespace", "team-a", &[]);
    assert_eq!(ns["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "team-a"})
    );

    let cr = both_ways_cluster(
        &s,
        "clusterrole",
        "cr",
        &[
            "--verb=get",
            "--resource=nodes",
            "--non-resource-url=/logs/*",
        ],
    );
    assert_eq!(
        cr["rules"],
        json!([
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
            {"nonResourceURLs": ["/logs/*"], "verbs": ["get"]}
        ])
    );
    let agg = both_ways_cluster(
        &s,
        "clusterrole",
        "agg",
        &["--aggregation-rule=rbac.example.com/aggregate-to-agg=true"],
    );
    assert_eq!(
        agg["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-agg": "true"}}]})
    );
    let crb = both_ways_cluster(
        &s,
        "clusterrolebinding",
        "crb",
        &["--clusterrole=cr", "--user=bob", "--group=ops"],
    );
    assert_eq!(
        crb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr"})
    );
    assert_eq!(crb["subjects"][1]["kind"], "Group");

    let high = both_ways_cluster(
        &s,
        "priorityclass",
        "high",
        &[
            "--value=1000",
            "--description=high priority",
            "--preemption-policy=Never",
        ],
    );
    assert_eq!(high["value"], 1000);
    assert_eq!(high["description"], "high priority");
    assert_eq!(high["preemptionPolicy"], "Never");
    assert!(high.get("globalDefault").is_none(), "{high}");
    // `value` is written even when zero.
    let zero = both_ways_cluster(&s, "priorityclass", "zero", &["--value=0"]);
    assert_eq!(zero["value"], 0);
    assert_eq!(zero["preemptionPolicy"], "PreemptLowerPriority");
}

both_backends!(
    configmaps_and_secrets,
    workloads,
    services_and_ingresses,
    rbac_namespaces_priority_classes,
);
