//! The Endpoints and EndpointSlice controllers, through kubectl, with pods
//! run by simulated nodes: the seed's `tomcat` Service lists its pods' IPs
//! on both ports, named target ports resolve per pod, a pod that stops
//! being ready moves to `notReadyAddresses` (and `ready: false` in its
//! slice), headless Services and `publishNotReadyAddresses` are served,
//! and Services without a selector keep the user's Endpoints.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{Sim, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, fixture, get_json, server};

/// A tomcat pod (labels of the seed's Deployment), ports named http/ajp.
fn tomcat_pod(name: &str, http: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: tomcat\n    release: canary\nspec:\n  containers:\n  - name: tomcat\n    image: tomcat:8.5.32-jre8-alpine\n    ports:\n    - name: http\n      containerPort: {http}\n    - name: ajp\n      containerPort: 8009\n"
    )
}

/// The seed's Service (its first document; the Deployment is left out).
fn seed_service() -> String {
    let all = std::fs::read_to_string(fixture("seed/tomcat.yaml")).expect("seed");
    let first = all.split("\n---").next().expect("a document").to_owned();
    assert!(first.contains("kind: Service"), "{first}");
    first
}

/// Pod name → IP, once every pod has one.
fn pod_ips(s: &RkubeServer, names: &[&str]) -> Vec<(String, String)> {
    eventually(s, "the pods to run with IPs", 60, || {
        let list = get_json(s, &["pods"]);
        names
            .iter()
            .map(|n| {
                let pod = list["items"]
                    .as_array()?
                    .iter()
                    .find(|p| p["metadata"]["name"] == *n)?;
                let ip = pod["status"]["podIP"].as_str()?;
                Some((n.to_string(), ip.to_owned()))
            })
            .collect()
    })
}

/// (ready IPs, not-ready IPs, ports) of Endpoints, all subsets together.
fn endpoints_of(ep: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<i64>) {
    let (mut ready, mut not_ready, mut ports) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for subset in ep["subsets"].as_array().into_iter().flatten() {
        for a in subset["addresses"].as_array().into_iter().flatten() {
            ready.insert(a["ip"].as_str().unwrap_or("").to_owned());
        }
        for a in subset["notReadyAddresses"].as_array().into_iter().flatten() {
            not_ready.insert(a["ip"].as_str().unwrap_or("").to_owned());
        }
        for p in subset["ports"].as_array().into_iter().flatten() {
            ports.insert(p["port"].as_i64().unwrap_or(0));
        }
    }
    (ready, not_ready, ports)
}

fn wait_endpoints(
    s: &RkubeServer,
    name: &str,
    want: (BTreeSet<String>, BTreeSet<String>, BTreeSet<i64>),
) -> Value {
    let mut last = Value::Null;
    eventually(
        s,
        &format!("endpoints {name} to be {want:?} (last {last})"),
        30,
        || {
            let out = s.kubectl(&["get", "endpoints", name, "-o", "json"]);
            if !out.status.success() {
                return None;
            }
            last = serde_json::from_str(&out.stdout_str()).ok()?;
            (endpoints_of(&last) == want).then(|| last.clone())
        },
    )
}

/// The slices of a Service.
fn slices_of(s: &RkubeServer, service: &str) -> Vec<Value> {
    let selector = format!("kubernetes.io/service-name={service}");
    get_json(s, &["endpointslices", "-l", &selector])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

#[test]
fn services_list_their_pods_in_endpoints_and_slices() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(&s, &seed_service());
    let names = ["tomcat-0", "tomcat-1", "tomcat-2"];
    for n in names {
        create(&s, &tomcat_pod(n, 8080));
    }
    let ips = pod_ips(&s, &names);
    let all: BTreeSet<String> = ips.iter().map(|(_, ip)| ip.clone()).collect();
    wait_endpoints(&s, "tomcat", (all.clone(), set(&[]), set(&[8080, 8009])));
    // kubectl prints three address:port pairs and counts the others.
    let table = s.kubectl(&["get", "endpoints", "tomcat"]).ok();
    assert!(table.contains("+ 3 more..."), "{table}");
    assert!(
        all.iter().any(|ip| table.contains(&format!("{ip}:8009"))),
        "{table}"
    );

    // The slice: labels, owner, endpoints with node, zone and pod.
    let svc = get_json(&s, &["service", "tomcat"]);
    let slice = eventually(&s, "the tomcat EndpointSlice", 30, || {
        let slices = slices_of(&s, "tomcat");
        let slice = slices.first()?.clone();
        (slices.len() == 1 && slice["endpoints"].as_array()?.len() == 3).then_some(slice)
    });
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert!(
        slice["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("tomcat-")),
        "{slice}"
    );
    let owner = &slice["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Service");
    assert_eq!(owner["name"], "tomcat");
    assert_eq!(owner["uid"], svc["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
    let ports: BTreeSet<(String, i64)> = slice["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_owned(),
                p["port"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(ports, set(&[("http".into(), 8080), ("ajp".into(), 8009)]));
    for e in slice["endpoints"].as_array().expect("endpoints") {
        assert_eq!(e["conditions"]["ready"], true, "{e}");
        assert_eq!(e["targetRef"]["kind"], "Pod", "{e}");
        assert!(e["nodeName"].is_string(), "{e}");
        assert!(e["zone"].is_string(), "{e}");
        let pod = e["targetRef"]["name"].as_str().unwrap_or("");
        let ip = &ips.iter().find(|(n, _)| n == pod).expect("a known pod").1;
        assert_eq!(e["addresses"], json!([ip]));
    }
    let printed = s
        .kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=tomcat",
        ])
        .ok();
    assert!(
        printed.contains("IPv4") && printed.contains("8080,8009"),
        "{printed}"
    );

    // A pod that stops being ready.
    s.kubectl(&[
        "patch",
        "pod",
        "tomcat-0",
        "--subresource=status",
        "--type=strategic",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#,
    ])
    .ok();
    let ip0 = ips[0].1.clone();
    let rest: BTreeSet<String> = ips[1..].iter().map(|(_, ip)| ip.clone()).collect();
    wait_endpoints(
        &s,
        "tomcat",
        (rest, set(std::slice::from_ref(&ip0)), set(&[8080, 8009])),
    );
    eventually(&s, "tomcat-0 not ready in its slice", 30, || {
        let slices = slices_of(&s, "tomcat");
        let e = slices[0]["endpoints"]
            .as_array()?
            .iter()
            .find(|e| e["targetRef"]["name"] == "tomcat-0")?
            .clone();
        (e["conditions"]["ready"] == false && e["conditions"]["serving"] == false).then_some(())
    });

    // A deleted pod leaves.
    s.kubectl(&["delete", "pod", "tomcat-2", "--grace-period=0", "--force"])
        .ok();
    let one: BTreeSet<String> = set(&[ips[1].1.clone()]);
    wait_endpoints(&s, "tomcat", (one, set(&[ip0]), set(&[8080, 8009])));

    // Endpoints deleted by hand come back.
    s.kubectl(&["delete", "endpoints", "tomcat"]).ok();
    eventually(&s, "the Endpoints to come back", 30, || {
        s.kubectl(&["get", "endpoints", "tomcat"])
            .status
            .success()
            .then_some(())
    });

    // The Service goes: its Endpoints and (through the garbage collector)
    // slices go with it.
    s.kubectl(&["delete", "service", "tomcat"]).ok();
    eventually(&s, "the Endpoints and slices to go", 30, || {
        let gone = !s.kubectl(&["get", "endpoints", "tomcat"]).status.success();
        (gone && slices_of(&s, "tomcat").is_empty()).then_some(())
    });
}

#[test]
fn named_target_ports_resolve_per_pod() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: named\nspec:\n  selector:\n    app: tomcat\n  ports:\n  - name: web\n    port: 80\n    targetPort: http\n",
    );
    create(&s, &tomcat_pod("a", 8080));
    create(&s, &tomcat_pod("b", 9090));
    // A pod without the named port is no endpoint of it.
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: c\n  labels:\n    app: tomcat\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
    );
    let ips = pod_ips(&s, &["a", "b", "c"]);
    let ep = wait_endpoints(
        &s,
        "named",
        (
            set(&[ips[0].1.clone(), ips[1].1.clone()]),
            set(&[]),
            set(&[8080, 9090]),
        ),
    );
    // Each address with its own port: two subsets.
    let subsets = ep["subsets"].as_array().expect("subsets");
    assert_eq!(subsets.len(), 2, "{ep}");
    for subset in subsets {
        let ip = subset["addresses"][0]["ip"].as_str().unwrap_or("");
        let port = subset["ports"][0]["port"].as_i64().unwrap_or(0);
        let want = if ip == ips[0].1 { 8080 } else { 9090 };
        assert_eq!(port, want, "{ep}");
        assert_eq!(subset["ports"][0]["name"], "web");
    }
    // A slice per resolved port set, as upstream: 8080, 9090, and none
    // (pod c, in a slice without ports).
    eventually(&s, "a slice per resolved port", 30, || {
        let slices = slices_of(&s, "named");
        let ports: BTreeSet<i64> = slices
            .iter()
            .filter(|sl| sl["endpoints"].as_array().is_some_and(|e| e.len() == 1))
            .map(|sl| sl["ports"][0]["port"].as_i64().unwrap_or(0))
            .collect();
        (slices.len() == 3 && ports == set(&[0, 8080, 9090])).then_some(())
    });
}

#[test]
fn headless_publish_not_ready_and_selectorless_services() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    // Headless, no ports, not-ready pods published.
    create(
        &s,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: peers\nspec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n  selector:\n    app: tomcat\n",
    );
    // No selector: the user's Endpoints stay as they are.
    create(
        &s,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: external\nspec:\n  ports:\n  - port: 80\n",
    );
    create(
        &s,
        "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: external\nsubsets:\n- addresses:\n  - ip: 192.0.2.10\n  ports:\n  - port: 80\n",
    );
    create(&s, &tomcat_pod("a", 8080));
    let ips = pod_ips(&s, &["a"]);
    s.kubectl(&[
        "patch",
        "pod",
        "a",
        "--subresource=status",
        "--type=strategic",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#,
    ])
    .ok();
    let ep = wait_endpoints(&s, "peers", (set(&[ips[0].1.clone()]), set(&[]), set(&[])));
    assert_eq!(
        ep["metadata"]["labels"]["service.kubernetes.io/headless"], "",
        "{ep}"
    );
    eventually(&s, "the headless slice", 30, || {
        let slices = slices_of(&s, "peers");
        let e = slices.first()?["endpoints"].as_array()?.first()?.clone();
        (e["conditions"]["ready"] == true && e["conditions"]["serving"] == false).then_some(())
    });

    // Give the controllers a moment, then check the user's Endpoints.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let user = get_json(&s, &["endpoints", "external"]);
    assert_eq!(user["subsets"][0]["addresses"][0]["ip"], "192.0.2.10");
    assert!(slices_of(&s, "external").is_empty());
}

#[test]
fn the_kubernetes_service_points_at_the_api_server() {
    let s = server(Backend::Sqlite);
    let port: i64 = s
        .addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let check = |svc: &Value| {
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.1", "{svc}");
        assert_eq!(svc["spec"]["type"], "ClusterIP");
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}])
        );
        assert_eq!(svc["metadata"]["labels"]["component"], "apiserver");
        assert_eq!(svc["metadata"]["labels"]["provider"], "kubernetes");
        assert!(svc["spec"].get("selector").is_none(), "{svc}");
    };
    let first = get_json(&s, &["svc", "kubernetes"]);
    check(&first);
    // A loopback listener is not an address pods can reach: no endpoints
    // (Endpoints may not hold loopback addresses).
    let out = s.kubectl(&["get", "endpoints", "kubernetes"]);
    assert!(!out.status.success());
    // Deleted, it comes back (a new object).
    s.kubectl(&["delete", "svc", "kubernetes"]).ok();
    let again = eventually(&s, "the kubernetes Service to come back", 30, || {
        let out = s.kubectl(&["get", "svc", "kubernetes", "-o", "json"]);
        out.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&out.stdout).ok())
            .flatten()
    });
    check(&again);
    assert_ne!(again["metadata"]["uid"], first["metadata"]["uid"]);
}

/// With `--advertise-address`, the `kubernetes` Service gets Endpoints and
/// an EndpointSlice naming that address and the server's port.
#[test]
fn the_advertised_address_backs_the_kubernetes_service() {
    let s = crate::RkubeServer::start_with_flags(
        env!("CARGO_BIN_EXE_rkube"),
        Backend::Sqlite,
        &["--advertise-address", "192.0.2.77"],
    );
    let port: i64 = s
        .addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let ep = get_json(&s, &["endpoints", "kubernetes"]);
    assert_eq!(
        ep["subsets"],
        json!([{
            "addresses": [{"ip": "192.0.2.77"}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }]),
        "{ep:#}"
    );
    let slice = get_json(&s, &["endpointslice", "kubernetes"]);
    assert_eq!(slice["addressType"], "IPv4", "{slice:#}");
    assert_eq!(slice["endpoints"][0]["addresses"], json!(["192.0.2.77"]));
    assert_eq!(slice["ports"][0]["port"], port);
}
