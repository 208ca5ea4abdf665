//! The decoder against bodies captured from the real kubectl 1.32
//! (`testdata/*.pb`, each with kubectl's own JSON rendering of the same
//! object, `--dry-run=client -o json`, in `testdata/*.json`), against
//! hand-built messages for the special JSON forms, and against malformed
//! and arbitrary input.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/protobuf/testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decoded(name: &str) -> Value {
    decode(&fixture(&format!("{name}.pb"))).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The 400's message for a body that must not decode.
fn rejected(body: &[u8]) -> String {
    let status = decode(body).expect_err("the body must be rejected");
    let json = status.to_json();
    assert_eq!(json["code"], 400, "{json}");
    assert_eq!(json["reason"], "BadRequest", "{json}");
    json["message"].as_str().unwrap_or_default().to_owned()
}

// A tiny protobuf writer for hand-built messages.

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn key(tag: u32, wire: u8) -> Vec<u8> {
    varint(u64::from(tag) << 3 | u64::from(wire))
}

/// A length-delimited field.
fn ld(tag: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = key(tag, 2);
    out.extend(varint(bytes.len() as u64));
    out.extend_from_slice(bytes);
    out
}

/// A varint field.
fn vi(tag: u32, v: u64) -> Vec<u8> {
    let mut out = key(tag, 0);
    out.extend(varint(v));
    out
}

/// A double field.
fn f64_field(tag: u32, v: f64) -> Vec<u8> {
    let mut out = key(tag, 1);
    out.extend(v.to_bits().to_le_bytes());
    out
}

/// A map entry field.
fn entry(tag: u32, k: &str, value: &[u8]) -> Vec<u8> {
    ld(tag, &[ld(1, k.as_bytes()), ld(2, value)].concat())
}

fn envelope(api_version: impl AsRef<[u8]>, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [ld(1, api_version.as_ref()), ld(2, kind.as_bytes())].concat();
    [MAGIC.to_vec(), ld(1, &type_meta), ld(2, raw)].concat()
}

fn metadata(name: &str) -> Vec<u8> {
    ld(1, &ld(1, name.as_bytes()))
}

/// Drop `null` members: Go writes `"rules": null` for a nil slice without
/// `omitempty`; the decoder leaves the absent field out, which is the same
/// object.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        v => v.clone(),
    }
}

const FIXTURES: &[&str] = &[
    "clusterrole",
    "clusterrole_aggregated",
    "clusterrolebinding",
    "configmap",
    "cronjob",
    "deployment",
    "deployment_zero",
    "ingress",
    "job",
    "job_from_cronjob",
    "namespace",
    "pdb",
    "pdb_max_unavailable",
    "priorityclass",
    "priorityclass_default",
    "quota",
    "quota_scoped",
    "role",
    "rolebinding",
    "secret_docker_registry",
    "secret_generic",
    "service_clusterip",
    "service_externalname",
    "service_headless",
    "service_loadbalancer",
    "service_nodeport",
    "serviceaccount",
];

#[test]
fn every_kubectl_body_decodes_to_kubectls_own_json() {
    for name in FIXTURES {
        let got = decoded(name);
        let want: Value =
            serde_json::from_slice(&fixture(&format!("{name}.json"))).expect("oracle JSON");
        assert_eq!(
            without_nulls(&got),
            without_nulls(&want),
            "{name}: decoded\n{got:#}\nkubectl's JSON\n{want:#}"
        );
    }
}

#[test]
fn configmap() {
    // kubectl create configmap cfg2 --from-literal=a=b --from-literal=empty=
    //   --from-file=bin=<the bytes 0..=255>
    let cm = decoded("configmap");
    assert_eq!(cm["apiVersion"], "v1");
    assert_eq!(cm["kind"], "ConfigMap");
    // Go sends every non-pointer field of ObjectMeta, empty or not; JSON
    // keeps only what upstream's JSON keeps.
    assert_eq!(
        cm["metadata"],
        json!({"name": "cfg2", "creationTimestamp": null})
    );
    assert_eq!(cm["data"], json!({"a": "b", "empty": ""}));
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(cm["binaryData"]["bin"], base64(&bytes));
    assert!(
        cm["binaryData"]["bin"]
            .as_str()
            .unwrap()
            .starts_with("AAECAwQFBgcICQoL")
    );
    assert!(cm.get("immutable").is_none());
}

#[test]
fn secrets() {
    let s = decoded("secret_generic");
    assert_eq!(s["kind"], "Secret");
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"], json!({"user": "YWRtaW4=", "pass": "czNjcjN0"}));
    let reg = decoded("secret_docker_registry");
    assert_eq!(reg["type"], "kubernetes.io/dockerconfigjson");
    let config = reg["data"][".dockerconfigjson"].as_str().unwrap();
    assert_eq!(
        config,
        base64(
            br#"{"auths":{"registry.example.com":{"username":"u","password":"p","email":"u@example.com","auth":"dTpw"}}}"#
        )
    );
}

#[test]
fn deployments() {
    // kubectl create deployment web --image=nginx --replicas=2 --port=80
    let d = decoded("deployment");
    assert_eq!(d["apiVersion"], "apps/v1");
    assert_eq!(d["kind"], "Deployment");
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
    assert_eq!(d["spec"]["strategy"], json!({}));
    assert_eq!(
        d["spec"]["template"]["metadata"],
        json!({"creationTimestamp": null, "labels": {"app": "web"}})
    );
    assert_eq!(
        d["spec"]["template"]["spec"],
        json!({"containers": [{
            "name": "nginx",
            "image": "nginx",
            "ports": [{"containerPort": 80}],
            "resources": {}
        }]})
    );
    assert_eq!(d["status"], json!({}));
    // minReadySeconds, paused, hostPort... are zero on the wire and absent
    // here, as in upstream's JSON.
    assert!(d["spec"].get("minReadySeconds").is_none());
    assert!(d["spec"].get("paused").is_none());

    // --replicas=0: a pointer set to zero stays.
    let z = decoded("deployment_zero");
    assert_eq!(z["spec"]["replicas"], 0);
    let containers = z["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.27");
    assert_eq!(containers[1]["name"], "busybox");
}

#[test]
fn services() {
    let s = decoded("service_clusterip");
    assert_eq!(s["metadata"]["labels"], json!({"app": "s"}));
    assert_eq!(s["spec"]["type"], "ClusterIP");
    assert_eq!(s["spec"]["selector"], json!({"app": "s"}));
    assert_eq!(
        s["spec"]["ports"],
        json!([
            {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "443-8443", "port": 443, "protocol": "TCP", "targetPort": 8443}
        ])
    );
    assert_eq!(s["status"], json!({"loadBalancer": {}}));
    assert_eq!(decoded("service_headless")["spec"]["clusterIP"], "None");
    let np = decoded("service_nodeport");
    assert_eq!(np["spec"]["type"], "NodePort");
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);
    let ext = decoded("service_externalname");
    assert_eq!(ext["spec"]["externalName"], "example.com");
    assert!(ext["spec"].get("ports").is_none());
    assert_eq!(
        decoded("service_loadbalancer")["spec"]["type"],
        "LoadBalancer"
    );
}

#[test]
fn jobs_and_cronjobs() {
    let j = decoded("job");
    assert_eq!(j["apiVersion"], "batch/v1");
    let pod = &j["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["containers"][0]["command"], json!(["echo", "hi"]));
    assert_eq!(pod["containers"][0]["image"], "busybox");

    let cj = decoded("cronjob");
    assert_eq!(cj["kind"], "CronJob");
    assert_eq!(cj["spec"]["schedule"], "*/5 * * * *");
    let tmpl = &cj["spec"]["jobTemplate"];
    assert_eq!(tmpl["metadata"]["name"], "cj2");
    assert_eq!(
        tmpl["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );

    // --from=cronjob/cj2: the cron job's (defaulted) template, an owner
    // reference whose `controller` pointer is set.
    let from = decoded("job_from_cronjob");
    assert_eq!(
        from["metadata"]["annotations"],
        json!({"cronjob.kubernetes.io/instantiate": "manual"})
    );
    let owner = &from["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["name"], "cj2");
    assert_eq!(owner["controller"], true);
    assert!(owner.get("blockOwnerDeletion").is_none());
    let pod = &from["spec"]["template"]["spec"];
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["securityContext"], json!({}));
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
}

#[test]
fn disruption_budgets_int_or_string() {
    let p = decoded("pdb");
    assert_eq!(p["apiVersion"], "policy/v1");
    assert_eq!(p["spec"]["minAvailable"], 1);
    assert_eq!(
        p["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
    // PodDisruptionBudgetStatus's counters have no omitempty upstream.
    assert_eq!(
        p["status"],
        json!({"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0})
    );
    let p2 = decoded("pdb_max_unavailable");
    assert_eq!(p2["spec"]["maxUnavailable"], "50%");
    assert_eq!(
        p2["spec"]["selector"]["matchExpressions"],
        json!([{"key": "tier", "operator": "In", "values": ["a", "b"]}])
    );
}

#[test]
fn priority_classes_and_quotas() {
    let high = decoded("priorityclass");
    assert_eq!(high["value"], 1000);
    assert_eq!(high["description"], "high priority");
    assert_eq!(high["preemptionPolicy"], "Never");
    assert!(high.get("globalDefault").is_none());
    // `value` has no omitempty: zero stays.
    let low = decoded("priorityclass_default");
    assert_eq!(low["value"], 0);
    assert_eq!(low["globalDefault"], true);

    let q = decoded("quota");
    assert_eq!(
        q["spec"]["hard"],
        json!({"cpu": "1", "memory": "1Gi", "pods": "10", "requests.storage": "5Gi"})
    );
    let qs = decoded("quota_scoped");
    assert_eq!(qs["spec"]["scopes"], json!(["BestEffort"]));
}

#[test]
fn rbac() {
    let r = decoded("role");
    assert_eq!(r["apiVersion"], "rbac.authorization.k8s.io/v1");
    assert_eq!(
        r["rules"],
        json!([
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a", "b"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["a", "b"], "verbs": ["get", "list"]}
        ])
    );
    let rb = decoded("rolebinding");
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
    let cr = decoded("clusterrole");
    assert_eq!(
        cr["rules"][1],
        json!({"nonResourceURLs": ["/logs/*"], "verbs": ["get"]})
    );
    let agg = decoded("clusterrole_aggregated");
    assert_eq!(
        agg["aggregationRule"]["clusterRoleSelectors"],
        json!([{"matchLabels": {"rbac.example.com/aggregate-to-agg": "true"}}])
    );
    let crb = decoded("clusterrolebinding");
    assert_eq!(crb["roleRef"]["kind"], "ClusterRole");
    assert_eq!(crb["subjects"][1]["name"], "ops");
}

#[test]
fn namespaces_service_accounts_ingresses_tokens() {
    let ns = decoded("namespace");
    assert_eq!(
        ns,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "team-a", "creationTimestamp": null},
               "spec": {}, "status": {}})
    );
    let sa = decoded("serviceaccount");
    assert_eq!(sa["metadata"]["name"], "sa");
    assert_eq!(sa.as_object().unwrap().len(), 3);

    let ing = decoded("ingress");
    assert_eq!(ing["metadata"]["annotations"], json!({"a": "b"}));
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    assert_eq!(
        ing["spec"]["rules"][0]["http"]["paths"][0],
        json!({"path": "/bar", "pathType": "Prefix",
               "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}})
    );
    assert_eq!(
        ing["spec"]["tls"],
        json!([{"hosts": ["foo.com"], "secretName": "my-cert"}])
    );

    // kubectl create token sa --duration=1h (a subresource's body).
    let token = decoded("token");
    assert_eq!(token["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(token["kind"], "TokenRequest");
    assert_eq!(token["spec"], json!({"expirationSeconds": 3600}));
    // TokenRequestStatus's fields have no omitempty.
    assert_eq!(
        token["status"],
        json!({"token": "", "expirationTimestamp": null})
    );
}

#[test]
fn times() {
    let time = |seconds: u64, nanos: u64| [vi(1, seconds), vi(2, nanos)].concat();
    // ObjectMeta.creationTimestamp (Time) and deletionTimestamp.
    let meta = [
        ld(1, b"x"),
        ld(8, &time(1_700_000_000, 999_999_999)),
        ld(9, &[]),
    ]
    .concat();
    let v = decode(&envelope("v1", "ConfigMap", &ld(1, &meta))).unwrap();
    assert_eq!(v["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(v["metadata"]["deletionTimestamp"], Value::Null);

    // core/v1 Event.eventTime (MicroTime), firstTimestamp at the epoch.
    let event = [
        metadata("e"),
        ld(6, &[]),
        ld(7, &time(0, 0)),
        ld(10, &time(1_700_000_000, 123_456_789)),
        ld(4, "é ✓".as_bytes()),
        ld(14, b""),
    ]
    .concat();
    let v = decode(&envelope("v1", "Event", &event)).unwrap();
    assert_eq!(v["eventTime"], "2023-11-14T22:13:20.123456Z");
    assert_eq!(v["firstTimestamp"], Value::Null);
    // An explicit zero is 1970, not a zero time (Go's Unmarshal).
    assert_eq!(v["lastTimestamp"], "1970-01-01T00:00:00Z");
    assert_eq!(v["message"], "é ✓");
    // Fields without omitempty upstream stay when empty.
    assert_eq!(v["reportingComponent"], "");
    assert!(v.get("reportingInstance").is_none());

    assert_eq!(
        timestamp(-1, 0, false).unwrap(),
        "1969-12-31T23:59:59Z".to_owned()
    );
    assert_eq!(
        timestamp(951_782_400, 1_000, true).unwrap(),
        "2000-02-29T00:00:00.000001Z"
    );
    assert_eq!(
        timestamp(253_402_300_799, 0, false).unwrap(),
        "9999-12-31T23:59:59Z"
    );
    assert!(timestamp(253_402_300_800, 0, false).is_err());
    assert_eq!(
        timestamp(-62_135_596_800, 0, false).unwrap(),
        "0001-01-01T00:00:00Z"
    );
}

#[test]
fn durations() {
    assert_eq!(go_duration(0), "0s");
    assert_eq!(go_duration(1), "1ns");
    assert_eq!(go_duration(1_500), "1.5µs");
    assert_eq!(go_duration(150_000_000), "150ms");
    assert_eq!(go_duration(1_500_000_000), "1.5s");
    assert_eq!(go_duration(90 * 1_000_000_000), "1m30s");
    assert_eq!(go_duration(3_600 * 1_000_000_000), "1h0m0s");
    assert_eq!(
        go_duration(-(3_723 * 1_000_000_000 + 5)),
        "-1h2m3.000000005s"
    );
    assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
}

#[test]
fn explicit_false_and_zero_pointers_stay() {
    // ConfigMap.immutable is a *bool: an explicit false is kept.
    let body = envelope("v1", "ConfigMap", &[metadata("c"), vi(4, 0)].concat());
    let v = decode(&body).unwrap();
    assert_eq!(v["immutable"], false);
    // ObjectMeta.generation is a plain int64 with omitempty: dropped at 0,
    // kept otherwise.
    let body = envelope("v1", "ConfigMap", &ld(1, &[ld(1, b"c"), vi(7, 0)].concat()));
    assert_eq!(decode(&body).unwrap()["metadata"], json!({"name": "c"}));
    let body = envelope("v1", "ConfigMap", &ld(1, &[ld(1, b"c"), vi(7, 3)].concat()));
    assert_eq!(decode(&body).unwrap()["metadata"]["generation"], 3);
    // The last occurrence of a field wins, zero or not.
    let body = envelope(
        "v1",
        "ConfigMap",
        &ld(1, &[ld(1, b"c"), vi(7, 3), vi(7, 0)].concat()),
    );
    assert!(
        decode(&body).unwrap()["metadata"]
            .get("generation")
            .is_none()
    );
}

#[test]
fn negative_and_large_numbers() {
    // PodFailurePolicy onExitCodes values: repeated int32, both unpacked
    // and packed; negative int32s are ten-byte varints on the wire.
    let neg = (-3i64) as u64;
    let mut packed = varint(1);
    packed.extend(varint(neg));
    packed.extend(varint(u64::from(u32::MAX) + 2)); // Go truncates to int32: 1
    let req = [ld(1, b"main"), ld(2, b"In"), vi(3, 42), ld(3, &packed)].concat();
    let rule = [ld(1, b"FailJob"), ld(2, &req)].concat();
    let pod = ld(1, &ld(1, b"c"));
    let spec = [ld(6, &pod), ld(11, &ld(1, &rule))].concat();
    let job = [metadata("j"), ld(2, &spec)].concat();
    let v = decode(&envelope("batch/v1", "Job", &job)).unwrap();
    assert_eq!(
        v["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"],
        json!({"containerName": "main", "operator": "In", "values": [42, 1, -3, 1]})
    );
    // int64: ControllerRevision.revision.
    let cr = [metadata("r"), vi(3, i64::MAX as u64)].concat();
    let v = decode(&envelope("apps/v1", "ControllerRevision", &cr)).unwrap();
    assert_eq!(v["revision"], i64::MAX);
}

#[test]
fn int_or_string_and_quantities() {
    // A Service port's targetPort as a name, and as a number.
    let by_name = [vi(1, 1), ld(3, b"http")].concat();
    let by_number = [vi(1, 0), vi(2, 8080)].concat();
    let ports = [
        ld(1, &[vi(3, 80), ld(4, &by_name)].concat()),
        ld(1, &[vi(3, 81), ld(4, &by_number)].concat()),
        ld(1, &[vi(3, 82), ld(4, &[])].concat()),
    ]
    .concat();
    let v = decode(&envelope(
        "v1",
        "Service",
        &[metadata("s"), ld(2, &ports)].concat(),
    ))
    .unwrap();
    assert_eq!(v["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(v["spec"]["ports"][1]["targetPort"], 8080);
    assert_eq!(v["spec"]["ports"][2]["targetPort"], 0);
    // A ResourceQuota's hard map: Quantity values, an empty one is "0".
    let hard = [entry(1, "cpu", &ld(1, b"500m")), entry(1, "pods", &[])].concat();
    let v = decode(&envelope(
        "v1",
        "ResourceQuota",
        &[metadata("q"), ld(2, &hard)].concat(),
    ))
    .unwrap();
    assert_eq!(v["spec"]["hard"], json!({"cpu": "500m", "pods": "0"}));
}

#[test]
fn embedded_json_documents() {
    // ControllerRevision.data is a RawExtension.
    let raw = br#"{"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}}"#;
    let cr = [metadata("r"), ld(2, &ld(1, raw)), vi(3, 1)].concat();
    let v = decode(&envelope("apps/v1", "ControllerRevision", &cr)).unwrap();
    assert_eq!(
        v["data"],
        json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}})
    );
    // An embedded protobuf object is decoded in turn.
    let inner = envelope("v1", "ConfigMap", &metadata("inner"));
    let cr = [metadata("r"), ld(2, &ld(1, &inner)), vi(3, 2)].concat();
    let v = decode(&envelope("apps/v1", "ControllerRevision", &cr)).unwrap();
    assert_eq!(v["data"]["kind"], "ConfigMap");
    assert_eq!(v["data"]["metadata"]["name"], "inner");
    // Invalid embedded JSON is a 400.
    let cr = [metadata("r"), ld(2, &ld(1, b"{nope")), vi(3, 1)].concat();
    assert!(rejected(&envelope("apps/v1", "ControllerRevision", &cr)).contains("embedded JSON"));

    // managedFields[].fieldsV1 and .time.
    let fields_v1 = br#"{"f:data":{"f:a":{}}}"#;
    let managed = [
        ld(1, b"kubectl"),
        ld(2, b"Update"),
        ld(3, b"v1"),
        ld(4, &vi(1, 1_700_000_000)),
        ld(6, b"FieldsV1"),
        ld(7, &ld(1, fields_v1)),
    ]
    .concat();
    let meta = [ld(1, b"c"), ld(17, &managed)].concat();
    let v = decode(&envelope("v1", "ConfigMap", &ld(1, &meta))).unwrap();
    assert_eq!(
        v["metadata"]["managedFields"],
        json!([{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:a": {}}}}])
    );
}

#[test]
fn crd_schemas() {
    // A CustomResourceDefinition's schema exercises JSON, the schema-or-X
    // forms, maps of messages, doubles and recursion.
    let string_prop = ld(5, b"string");
    let items = ld(1, &string_prop); // JSONSchemaPropsOrArray{schema}
    let list = [ld(5, b"array"), ld(24, &items), vi(16, 0)].concat();
    let tuple = [ld(2, &string_prop), ld(2, &ld(5, b"integer"))].concat();
    let tuple_prop = [ld(5, b"array"), ld(24, &tuple)].concat();
    let schema = [
        ld(5, b"object"),
        entry(29, "list", &list),
        entry(29, "tuple", &tuple_prop),
        entry(
            29,
            "n",
            &[ld(5, b"number"), f64_field(11, 0.5), f64_field(9, 1e21)].concat(),
        ),
        ld(30, &vi(1, 0)),            // additionalProperties: false
        ld(33, &ld(2, &string_prop)), // additionalItems: schema
        entry(32, "list", &[ld(2, b"n"), ld(2, b"tuple")].concat()), // dependencies
        ld(8, &ld(1, br#"{"list":["x"]}"#)), // default
        ld(20, &ld(1, b"1")),         // enum
        ld(20, &ld(1, b"\"two\"")),
        vi(38, 1), // x-kubernetes-preserve-unknown-fields
    ]
    .concat();
    let version = [ld(1, b"v1"), vi(2, 1), vi(3, 0), ld(4, &ld(1, &schema))].concat();
    let spec = [
        ld(1, b"example.com"),
        ld(3, &[ld(1, b"widgets"), ld(4, b"Widget")].concat()),
        ld(4, b"Namespaced"),
        ld(7, &version),
    ]
    .concat();
    let crd = [metadata("widgets.example.com"), ld(2, &spec)].concat();
    let v = decode(&envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &crd,
    ))
    .unwrap();
    let version = &v["spec"]["versions"][0];
    assert_eq!(version["name"], "v1");
    assert_eq!(version["served"], true);
    // `storage` has no omitempty: false stays.
    assert_eq!(version["storage"], false);
    assert_eq!(
        v["spec"]["names"],
        json!({"plural": "widgets", "kind": "Widget"})
    );
    assert_eq!(
        version["schema"]["openAPIV3Schema"],
        json!({
            "type": "object",
            "properties": {
                "list": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
                "tuple": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
                "n": {"type": "number", "minimum": 0.5, "maximum": 1e21}
            },
            "additionalProperties": false,
            "additionalItems": {"type": "string"},
            "dependencies": {"list": ["n", "tuple"]},
            "default": {"list": ["x"]},
            "enum": [1, "two"],
            "x-kubernetes-preserve-unknown-fields": true
        })
    );
}

#[test]
fn inline_structs() {
    // Volume{name, volumeSource(inline){configMap{localObjectReference
    // (inline){name}, optional}}}: the inlined fields are the parent's.
    let config_map = [ld(1, &ld(1, b"cfg")), vi(4, 0)].concat();
    let volume_source = ld(19, &config_map);
    let volume = [ld(1, b"v"), ld(2, &volume_source)].concat();
    let pod_spec = [
        ld(1, &volume),
        ld(2, &[ld(1, b"c"), ld(2, b"img")].concat()),
    ]
    .concat();
    let v = decode(&envelope(
        "v1",
        "Pod",
        &[metadata("p"), ld(2, &pod_spec)].concat(),
    ))
    .unwrap();
    assert_eq!(
        v["spec"]["volumes"],
        json!([{"name": "v", "configMap": {"name": "cfg", "optional": false}}])
    );
    // Probe{handler(inline){httpGet{port, path}}, periodSeconds}.
    let http_get = [
        ld(1, b"/healthz"),
        ld(2, &[vi(1, 1), ld(3, b"http")].concat()),
    ]
    .concat();
    let probe = [ld(1, &ld(2, &http_get)), vi(4, 5)].concat();
    let container = [ld(1, b"c"), ld(2, b"img"), ld(10, &probe)].concat();
    let v = decode(&envelope(
        "v1",
        "Pod",
        &[metadata("p"), ld(2, &ld(2, &container))].concat(),
    ))
    .unwrap();
    assert_eq!(
        v["spec"]["containers"][0]["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5})
    );
}

#[test]
fn unknown_fields_are_skipped() {
    let cm = [
        metadata("c"),
        vi(99, 7),
        ld(100, b"whatever"),
        [key(101, 1), vec![0; 8]].concat(),
        [key(102, 5), vec![0; 4]].concat(),
        entry(2, "a", b"b"),
    ]
    .concat();
    let v = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}})
    );
    // Unknown envelope fields too; contentType may name protobuf.
    let body = [
        envelope("v1", "ConfigMap", &metadata("c")),
        ld(4, MEDIA_TYPE.as_bytes()),
        vi(9, 1),
    ]
    .concat();
    assert_eq!(decode(&body).unwrap()["metadata"]["name"], "c");
}

#[test]
fn malformed_bodies_are_400s() {
    let good = fixture("configmap.pb");
    assert!(rejected(b"").contains("k8s\\x00"));
    assert!(rejected(br#"{"kind":"ConfigMap"}"#).contains("prefix"));
    assert!(rejected(&good[..100]).contains("past the end"));
    assert!(rejected(&good[..good.len() - 3]).contains("truncated varint"));
    assert!(rejected(&[MAGIC, &[0x0a, 0x80]].concat()).contains("truncated varint"));
    assert!(rejected(&[MAGIC, &[0x0a; 1], &[0xff; 10]].concat()).contains("overflows"));
    assert!(rejected(&[MAGIC, &[0x00]].concat()).contains("field number 0"));
    assert!(
        rejected(&envelope("v1", "Nope", &[]))
            .contains(r#"no kind "Nope" is registered for version "v1""#)
    );
    assert!(rejected(&envelope("v9", "ConfigMap", &[])).contains("v9"));
    assert!(rejected(&[MAGIC.to_vec(), ld(2, b"")].concat()).contains("no kind"));
    // Wrong wire types: a string sent as a varint, a message as fixed32.
    let msg = rejected(&envelope(
        "v1",
        "ConfigMap",
        &[metadata("c"), vi(2, 1)].concat(),
    ));
    assert!(
        msg.contains("wire type varint, expected length-delimited"),
        "{msg}"
    );
    assert!(msg.contains("data"), "{msg}");
    let msg = rejected(&envelope(
        "v1",
        "ConfigMap",
        &[key(1, 5), vec![0; 4]].concat(),
    ));
    assert!(msg.contains("wire type fixed32"), "{msg}");
    // A bool sent length-delimited.
    assert!(rejected(&envelope("v1", "ConfigMap", &ld(4, b"x"))).contains("wire type"));
    // Groups.
    assert!(rejected(&envelope("v1", "ConfigMap", &key(50, 3))).contains("start-group"));
    // Invalid UTF-8 in a string, in a map key, in the envelope.
    let msg = rejected(&envelope("v1", "ConfigMap", &ld(1, &ld(1, b"\xff\xfe"))));
    assert!(msg.contains("UTF-8"), "{msg}");
    assert!(msg.contains("ObjectMeta"), "{msg}");
    assert!(
        rejected(&envelope("v1", "ConfigMap", &entry(2, "\u{0}ok", b"\xc3"))).contains("UTF-8")
    );
    assert!(rejected(&envelope(b"v1\xff", "ConfigMap", &[])).contains("UTF-8"));
    // Content encodings are not supported.
    let body = [envelope("v1", "ConfigMap", &[]), ld(3, b"gzip")].concat();
    assert!(rejected(&body).contains("gzip"));
    let body = [envelope("v1", "ConfigMap", &[]), ld(4, b"application/json")].concat();
    assert!(rejected(&body).contains("content type"));
    // NaN is not JSON.
    let schema = f64_field(9, f64::NAN);
    let version = [ld(1, b"v1"), ld(4, &ld(1, &schema))].concat();
    let crd = [metadata("c"), ld(2, &ld(7, &version))].concat();
    assert!(
        rejected(&envelope(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &crd
        ))
        .contains("not a JSON number")
    );
}

#[test]
fn nesting_is_bounded() {
    // JSONSchemaProps.not, 200 deep.
    let mut schema = ld(5, b"string");
    for _ in 0..200 {
        schema = ld(28, &schema);
    }
    let version = [ld(1, b"v1"), ld(4, &ld(1, &schema))].concat();
    let crd = [metadata("c"), ld(2, &ld(7, &version))].concat();
    let msg = rejected(&envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &crd,
    ));
    assert!(msg.contains("nest deeper than 100"), "{msg}");
    // 90 deep is fine.
    let mut schema = ld(5, b"string");
    for _ in 0..90 {
        schema = ld(28, &schema);
    }
    let version = [ld(1, b"v1"), ld(4, &ld(1, &schema))].concat();
    let crd = [metadata("c"), ld(2, &ld(7, &version))].concat();
    decode(&envelope(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &crd,
    ))
    .unwrap();
    // Envelopes embedded in RawExtensions count too.
    let mut body = envelope("v1", "ConfigMap", &metadata("c"));
    for _ in 0..60 {
        body = envelope("apps/v1", "ControllerRevision", &ld(2, &ld(1, &body)));
    }
    assert!(rejected(&body).contains("nest deeper"));
}

#[test]
fn the_table_is_consistent() {
    // Every message reference is in range, fields are sorted and unique,
    // roots are sorted (binary search) and every served kind of the
    // registry can be decoded.
    for m in table::MESSAGES {
        for w in m.fields.windows(2) {
            assert!(w[0].tag < w[1].tag, "{}: tags out of order", m.name);
        }
        for f in m.fields {
            if let Kind::Msg(i) = f.kind {
                assert!(
                    usize::from(i) < table::MESSAGES.len(),
                    "{}.{}",
                    m.name,
                    f.json
                );
            }
        }
    }
    for w in table::ROOTS.windows(2) {
        assert!((w[0].api_version, w[0].kind) < (w[1].api_version, w[1].kind));
    }
    for r in table::ROOTS {
        assert_eq!(root(r.api_version, r.kind).unwrap().message, r.message);
    }
    for (api_version, kind) in [
        ("v1", "ConfigMap"),
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "CronJob"),
        ("policy/v1", "PodDisruptionBudget"),
        ("policy/v1", "Eviction"),
        ("autoscaling/v1", "Scale"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("events.k8s.io/v1", "Event"),
        ("coordination.k8s.io/v1", "Lease"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
    ] {
        assert!(root(api_version, kind).is_some(), "{api_version} {kind}");
    }
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}

/// A byte-level mutation of a valid body.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutate(mut body: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = body.len().max(1);
        match m {
            Mutation::Flip(i, x) => {
                if let Some(b) = body.get_mut(i % len) {
                    *b ^= x;
                }
            }
            Mutation::Truncate(i) => body.truncate(i % len),
            Mutation::Insert(i, bytes) => {
                let at = (i % len).min(body.len());
                body.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove(i, n) => {
                let at = (i % len).min(body.len());
                let end = (at + n % 16).min(body.len());
                body.drain(at..end);
            }
        }
    }
    body
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..12)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

/// The decoder's contract on any input: an object with apiVersion and
/// kind, or a 400.
fn check(body: &[u8]) {
    match decode(body) {
        Ok(v) => {
            assert!(v["apiVersion"].is_string(), "{v}");
            assert!(v["kind"].is_string(), "{v}");
        }
        Err(status) => assert_eq!(status.to_json()["code"], 400),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
        check(&[MAGIC, &bytes].concat());
    }

    #[test]
    fn arbitrary_messages_of_a_kind_never_panic(
        root in 0..table::ROOTS.len(),
        raw in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let r = &table::ROOTS[root];
        check(&envelope(r.api_version, r.kind, &raw));
    }

    #[test]
    fn mutated_kubectl_bodies_never_panic(
        fixture_index in 0..FIXTURES.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let body = fixture(&format!("{}.pb", FIXTURES[fixture_index]));
        check(&mutate(body, &mutations));
    }
}

// Encoding (responses): decode ∘ encode is the identity on decoded objects.

fn round_trip(v: &Value) {
    let bytes = encode(v).unwrap_or_else(|e| panic!("encoding {v}: {e:?}"));
    assert!(bytes.starts_with(MAGIC));
    let back = decode(&bytes).unwrap_or_else(|e| panic!("decoding the encoding of {v}: {e:?}"));
    assert_eq!(&back, v);
}

#[test]
fn encoding_round_trips_every_kubectl_body() {
    for name in FIXTURES.iter().chain(&["token"]) {
        round_trip(&decoded(name));
    }
}

#[test]
fn encoding_round_trips_special_forms() {
    round_trip(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {
            "name": "c", "namespace": "default", "uid": "u-1", "resourceVersion": "7",
            "generation": 2, "creationTimestamp": "2023-11-14T22:13:20Z",
            "deletionGracePeriodSeconds": 0, "finalizers": ["a/b"],
            "labels": {"a": "1", "b": ""},
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u", "controller": false}],
            "managedFields": [{"manager": "m", "operation": "Apply", "apiVersion": "v1",
                "time": "1969-12-31T23:59:59Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:a": {}}}}]
        },
        "data": {"a": "b"},
        "binaryData": {"bin": "AAEC/w=="},
        "immutable": false
    }));
    round_trip(&json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e", "creationTimestamp": null},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "eventTime": "1969-12-31T23:59:59.500000Z",
        "lastTimestamp": "2023-11-14T22:13:20Z",
        "count": 3, "reportingComponent": "", "reportingInstance": "i"
    }));
    round_trip(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "volumes": [{"name": "v", "configMap": {"name": "cfg", "optional": false, "defaultMode": 420}}],
            "containers": [{
                "name": "c", "image": "i",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "1Gi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                "securityContext": {"runAsUser": -1, "privileged": false}
            }],
            "securityContext": {"fsGroup": 2000}
        },
        "status": {"phase": "Pending", "startTime": "2023-11-14T22:13:20Z"}
    }));
    round_trip(&json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "r"}, "data": {"spec": {"x": [1, 2.5, null, true]}}, "revision": 9
    }));
    round_trip(&json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "p"},
        "spec": {"maxUnavailable": "50%", "minAvailable": -1},
        "status": {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    }));
    round_trip(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "list": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
                    "tuple": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
                    "n": {"type": "number", "minimum": 0.5, "maximum": 1e21}
                },
                "additionalProperties": false,
                "additionalItems": {"type": "string"},
                "dependencies": {"list": ["n", "tuple"], "n": {"required": ["list"]}},
                "default": {"list": ["x"]},
                "enum": [1, "two", null],
                "x-kubernetes-preserve-unknown-fields": true
            }}}]}
    }));
}

#[test]
fn encoding_lists_and_statuses() {
    round_trip(&json!({
        "apiVersion": "v1", "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "42", "continue": "abc", "remainingItemCount": 0},
        "items": [
            {"metadata": {"name": "a", "namespace": "default"}, "data": {"k": "v"}},
            {"metadata": {"name": "b", "namespace": "default"}}
        ]
    }));
    round_trip(&json!({
        "apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "1"}
    }));
    round_trip(&json!({
        "apiVersion": "v1", "kind": "Status", "metadata": {},
        "status": "Failure", "message": "pods \"nope\" not found", "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods", "causes": [{"reason": "R", "message": "m", "field": "f"}]},
        "code": 404
    }));
    assert!(can_encode(&json!({"apiVersion": "v1", "kind": "Pod"})));
    assert!(can_encode(&json!({"apiVersion": "v1", "kind": "PodList"})));
    assert!(!can_encode(
        &json!({"apiVersion": "meta.k8s.io/v1", "kind": "Table"})
    ));
    assert!(!can_encode(&json!({"kind": "Pod"})));
}

#[test]
fn encoding_bad_objects_fails_without_panicking() {
    for bad in [
        json!({"apiVersion": "v1", "kind": "Nope"}),
        json!({"apiVersion": "v1"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": ["x"]}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "binaryData": {"a": "!!"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"creationTimestamp": "yesterday"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generation": "2"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 3_000_000_000i64}}),
        json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"targetPort": true}]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": "x"}),
    ] {
        let status = encode(&bad).expect_err(&bad.to_string());
        assert_eq!(status.to_json()["code"], 500, "{bad}");
    }
}

#[test]
fn watch_frames() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let frame = encode_watch_event("ADDED", &cm).unwrap();
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame.len() - 4);
    let body = &frame[4..];
    assert!(body.starts_with(MAGIC));
    // Unknown{typeMeta{v1, WatchEvent}, raw: WatchEvent{type, object{raw}}}.
    let mut r = Reader::new(&body[MAGIC.len()..]);
    let (mut kind, mut raw) = (String::new(), Vec::new());
    while !r.done() {
        let (tag, _) = r.key().unwrap();
        let bytes = r.len_delimited().unwrap();
        match tag {
            1 => {
                let mut tm = Reader::new(bytes);
                while !tm.done() {
                    let (t, _) = tm.key().unwrap();
                    let v = tm.len_delimited().unwrap();
                    if t == 2 {
                        kind = String::from_utf8(v.to_vec()).unwrap();
                    }
                }
            }
            2 => raw = bytes.to_vec(),
            _ => {}
        }
    }
    assert_eq!(kind, "WatchEvent");
    let mut ev = Reader::new(&raw);
    let (t1, _) = ev.key().unwrap();
    assert_eq!((t1, ev.len_delimited().unwrap()), (1, &b"ADDED"[..]));
    let (t2, _) = ev.key().unwrap();
    assert_eq!(t2, 2);
    let mut object = Reader::new(ev.len_delimited().unwrap());
    let (t, _) = object.key().unwrap();
    assert_eq!(t, 1);
    assert_eq!(decode(object.len_delimited().unwrap()).unwrap(), cm);
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e30..1e30f64).prop_map(Value::from),
        "[a-z0-9%:.-]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn whatever_decodes_encodes_back_to_itself(
        fixture_index in 0..FIXTURES.len(),
        mutations in proptest::collection::vec(mutation(), 0..4),
    ) {
        let body = mutate(fixture(&format!("{}.pb", FIXTURES[fixture_index])), &mutations);
        if let Ok(v) = decode(&body) {
            round_trip(&v);
        }
    }

    #[test]
    fn whatever_decodes_from_random_messages_encodes_back(
        root in 0..table::ROOTS.len(),
        raw in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let r = &table::ROOTS[root];
        if let Ok(v) = decode(&envelope(r.api_version, r.kind, &raw)) {
            round_trip(&v);
        }
    }

    #[test]
    fn encoding_arbitrary_json_never_panics(
        root in 0..table::ROOTS.len(),
        fields in proptest::collection::btree_map(
            prop_oneof![Just("metadata".to_owned()), Just("spec".to_owned()),
                        Just("data".to_owned()), Just("status".to_owned()),
                        Just("items".to_owned()), "[a-zA-Z]{1,10}"],
            arbitrary_json(), 0..5),
    ) {
        let r = &table::ROOTS[root];
        let mut obj: serde_json::Map<String, Value> = fields.into_iter().collect();
        obj.insert("apiVersion".into(), json!(r.api_version));
        obj.insert("kind".into(), json!(r.kind));
        let _ = encode(&Value::Object(obj));
    }
}
