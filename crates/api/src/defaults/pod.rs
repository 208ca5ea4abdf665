//! Defaults of pod specs, shared by Pods and every pod template, after
//! upstream's `SetDefaults_PodSpec`, `SetDefaults_Container`,
//! `SetDefaults_Volume`, `SetDefaults_Probe` and friends; plus quantity
//! normalization (every ResourceList rounded up to milli precision, every
//! quantity written in upstream's canonical form).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Set `v` to `default` when absent.
pub fn set<T>(v: &mut Option<T>, default: T) {
    if v.is_none() {
        *v = Some(default);
    }
}

/// Set a string field to `default` when absent or empty.
pub fn set_str(v: &mut Option<String>, default: &str) {
    if v.as_deref().is_none_or(str::is_empty) {
        *v = Some(default.to_owned());
    }
}

/// Set an int field to `default` when absent or zero.
pub fn set_nonzero(v: &mut Option<i32>, default: i32) {
    if v.is_none_or(|x| x == 0) {
        *v = Some(default);
    }
}

/// A quantity in canonical form (left alone if it does not parse).
pub fn quantity(q: &mut Quantity) {
    if let Some(c) = crate::quantity::canonicalize(&q.0, false) {
        q.0 = c;
    }
}

/// Upstream's `SetDefaults_ResourceList`: every quantity rounded up to
/// milli precision (and written canonically).
pub fn resource_list(list: &mut Option<BTreeMap<String, Quantity>>) {
    for q in list.iter_mut().flat_map(|l| l.values_mut()) {
        if let Some(c) = crate::quantity::canonicalize(&q.0, true) {
            q.0 = c;
        }
    }
}

/// The tag of an image reference as the container runtime's parser reads
/// it: `latest` when neither tag nor digest is given; `None` for a
/// reference that does not parse.
pub fn image_tag(image: &str) -> Option<String> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let (algo, hex) = d.split_once(':')?;
        if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    if !valid_repository(repo) {
        return None;
    }
    match tag {
        Some(t) => {
            let b = t.as_bytes();
            let ok = !b.is_empty()
                && b.len() <= 128
                && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c));
            ok.then(|| t.to_owned())
        }
        None if digest.is_some() => Some(String::new()),
        None => Some("latest".into()),
    }
}

fn valid_repository(repo: &str) -> bool {
    if repo.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    let first = parts[0];
    let is_domain = parts.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.bytes().any(|c| c.is_ascii_uppercase()));
    if is_domain {
        let (host, port) = first.split_once(':').unwrap_or((first, ""));
        let host_ok = !host.is_empty()
            && host.split('.').all(|l| {
                let b = l.as_bytes();
                !b.is_empty()
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            });
        if !host_ok
            || (first.contains(':')
                && (port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit())))
        {
            return false;
        }
        parts.remove(0);
    }
    parts.iter().all(|p| valid_path_component(p))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn valid_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_lower_alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Upstream's `imagePullPolicy` default: `Always` for `:latest` (or no
/// tag and no digest), else `IfNotPresent`.
pub fn pull_policy_for(image: &str) -> &'static str {
    if image_tag(image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    }
}

fn http_get(h: &mut Option<api::HTTPGetAction>) {
    if let Some(h) = h {
        set_str(&mut h.path, "/");
        set_str(&mut h.scheme, "HTTP");
    }
}

fn probe(p: &mut Option<api::Probe>) {
    let Some(p) = p else { return };
    set_nonzero(&mut p.timeout_seconds, 1);
    set_nonzero(&mut p.period_seconds, 10);
    set_nonzero(&mut p.success_threshold, 1);
    set_nonzero(&mut p.failure_threshold, 3);
    http_get(&mut p.http_get);
    if let Some(g) = &mut p.grpc {
        set(&mut g.service, String::new());
    }
}

fn lifecycle(l: &mut Option<api::Lifecycle>) {
    let Some(l) = l else { return };
    for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
        http_get(&mut h.http_get);
    }
}

fn field_ref(f: &mut Option<api::ObjectFieldSelector>) {
    if let Some(f) = f {
        set_str(&mut f.api_version, "v1");
    }
}

fn resource_field_ref(r: &mut Option<api::ResourceFieldSelector>) {
    if let Some(r) = r {
        match &mut r.divisor {
            Some(d) => quantity(d),
            None => r.divisor = Some(Quantity("0".into())),
        }
    }
}

/// Defaults of one container (`SetDefaults_Container` and its parts).
pub fn container(c: &mut api::Container) {
    if c.image_pull_policy.as_deref().is_none_or(str::is_empty) {
        let policy = pull_policy_for(c.image.as_deref().unwrap_or(""));
        c.image_pull_policy = Some(policy.into());
    }
    set_str(&mut c.termination_message_path, "/dev/termination-log");
    set_str(&mut c.termination_message_policy, "File");
    for p in c.ports.iter_mut().flatten() {
        set_str(&mut p.protocol, "TCP");
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(vf) = &mut e.value_from {
            field_ref(&mut vf.field_ref);
            resource_field_ref(&mut vf.resource_field_ref);
        }
    }
    let res = c.resources.get_or_insert_with(Default::default);
    resource_list(&mut res.limits);
    resource_list(&mut res.requests);
    probe(&mut c.liveness_probe);
    probe(&mut c.readiness_probe);
    probe(&mut c.startup_probe);
    lifecycle(&mut c.lifecycle);
}

fn ephemeral_container(e: &mut api::EphemeralContainer) {
    let mut c = crate::validation::pod::ephemeral_as_container(e);
    container(&mut c);
    e.image_pull_policy = c.image_pull_policy;
    e.termination_message_path = c.termination_message_path;
    e.termination_message_policy = c.termination_message_policy;
    e.ports = c.ports;
    e.env = c.env;
    e.resources = c.resources;
    e.liveness_probe = c.liveness_probe;
    e.readiness_probe = c.readiness_probe;
    e.startup_probe = c.startup_probe;
    e.lifecycle = c.lifecycle;
}

fn has_source(v: &api::Volume) -> bool {
    let mut probe = v.clone();
    probe.name = String::new();
    probe != api::Volume::default()
}

/// Defaults of one volume (`SetDefaults_Volume` and the sources').
pub fn volume(v: &mut api::Volume) {
    if !has_source(v) {
        v.empty_dir = Some(Default::default());
    }
    if let Some(e) = &mut v.empty_dir
        && let Some(q) = &mut e.size_limit
    {
        quantity(q);
    }
    if let Some(hp) = &mut v.host_path {
        set(&mut hp.type_, String::new());
    }
    if let Some(s) = &mut v.secret {
        set(&mut s.default_mode, 0o644);
    }
    if let Some(c) = &mut v.config_map {
        set(&mut c.default_mode, 0o644);
    }
    if let Some(d) = &mut v.downward_api {
        set(&mut d.default_mode, 0o644);
        for f in d.items.iter_mut().flatten() {
            field_ref(&mut f.field_ref);
            resource_field_ref(&mut f.resource_field_ref);
        }
    }
    if let Some(p) = &mut v.projected {
        set(&mut p.default_mode, 0o644);
        for src in p.sources.iter_mut().flatten() {
            if let Some(d) = &mut src.downward_api {
                for f in d.items.iter_mut().flatten() {
                    field_ref(&mut f.field_ref);
                    resource_field_ref(&mut f.resource_field_ref);
                }
            }
            if let Some(t) = &mut src.service_account_token {
                set(&mut t.expiration_seconds, 3600);
            }
        }
    }
    if let Some(e) = &mut v.ephemeral
        && let Some(t) = &mut e.volume_claim_template
    {
        pvc_spec(&mut t.spec);
    }
    legacy_volume(v);
}

fn legacy_volume(v: &mut api::Volume) {
    if let Some(i) = &mut v.iscsi {
        set_str(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut v.rbd {
        set_str(&mut r.pool, "rbd");
        set_str(&mut r.user, "admin");
        set_str(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(s) = &mut v.scale_io {
        set_str(&mut s.storage_mode, "ThinProvisioned");
        set_str(&mut s.fs_type, "xfs");
    }
    if let Some(a) = &mut v.azure_disk {
        set(&mut a.caching_mode, "ReadWrite".into());
        set(&mut a.kind, "Shared".into());
        set(&mut a.fs_type, "ext4".into());
        set(&mut a.read_only, false);
    }
}

/// Defaults of a PersistentVolumeClaim spec (also inside ephemeral volumes
/// and StatefulSet claim templates).
pub fn pvc_spec(spec: &mut api::PersistentVolumeClaimSpec) {
    set(&mut spec.volume_mode, "Filesystem".into());
    if let Some(r) = &mut spec.resources {
        resource_list(&mut r.limits);
        resource_list(&mut r.requests);
    }
}

/// Defaults of a pod spec (`SetDefaults_PodSpec` plus its containers and
/// volumes), for Pods and templates alike.
pub fn pod_spec(spec: &mut api::PodSpec) {
    set_str(&mut spec.dns_policy, "ClusterFirst");
    set_str(&mut spec.restart_policy, "Always");
    set(&mut spec.security_context, Default::default());
    set(&mut spec.termination_grace_period_seconds, 30);
    set_str(&mut spec.scheduler_name, "default-scheduler");
    // `serviceAccount` is the deprecated alias of `serviceAccountName`.
    if spec
        .service_account_name
        .as_deref()
        .is_none_or(str::is_empty)
        && let Some(sa) = spec.service_account.clone().filter(|s| !s.is_empty())
    {
        spec.service_account_name = Some(sa);
    }
    if let Some(name) = spec.service_account_name.clone().filter(|s| !s.is_empty()) {
        spec.service_account = Some(name);
    }
    for v in spec.volumes.iter_mut().flatten() {
        volume(v);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        container(c);
    }
    for c in &mut spec.containers {
        container(c);
    }
    for e in spec.ephemeral_containers.iter_mut().flatten() {
        ephemeral_container(e);
    }
    resource_list(&mut spec.overhead);
    if let Some(r) = &mut spec.resources {
        resource_list(&mut r.limits);
        resource_list(&mut r.requests);
    }
}

/// Defaults of a pod template: its spec (created if absent, as upstream's
/// template spec is a struct that is always there).
pub fn pod_template_spec(t: &mut api::PodTemplateSpec) {
    pod_spec(t.spec.get_or_insert_with(Default::default));
}

/// The Pod-only defaults (`SetDefaults_Pod`), then the pod spec's.
pub fn pod(pod: &mut api::Pod) {
    let spec = pod.spec.get_or_insert_with(Default::default);
    let regular = spec.containers.iter_mut();
    for c in regular.chain(spec.init_containers.iter_mut().flatten()) {
        requests_from_limits(c);
    }
    set(&mut spec.enable_service_links, true);
    if spec.host_network == Some(true) {
        let regular = spec.containers.iter_mut();
        for c in regular.chain(spec.init_containers.iter_mut().flatten()) {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
    pod_spec(spec);
}

/// The annotation marking a static pod's mirror.
const MIRROR_POD: &str = "kubernetes.io/config.mirror";

/// Upstream's ServiceAccount admission on pod creation: a pod naming no
/// ServiceAccount runs as `default` (mirror pods excepted). The check that
/// the account exists needs IO and is not done here.
pub fn service_account_admission(pod: &mut api::Pod) {
    let mirror = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_POD));
    if mirror {
        return;
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    if spec
        .service_account_name
        .as_deref()
        .is_none_or(str::is_empty)
    {
        spec.service_account_name = Some("default".into());
        spec.service_account = Some("default".into());
    }
}

/// Upstream's DefaultTolerationSeconds admission on pod creation: a pod
/// that does not tolerate the `not-ready` and `unreachable` NoExecute
/// taints tolerates each for 300 s, so that a short node outage does not
/// evict it at once.
pub fn default_toleration_seconds(pod: &mut api::Pod) {
    const TAINTS: [&str; 2] = [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ];
    let spec = pod.spec.get_or_insert_with(Default::default);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in TAINTS {
        let tolerated = tolerations.iter().any(|t| {
            let effect = t.effect.as_deref().unwrap_or("");
            let op = t.operator.as_deref().unwrap_or("Equal");
            (effect.is_empty() || effect == "NoExecute")
                && (t.key.as_deref() == Some(key)
                    || (op == "Exists" && t.key.as_deref().is_none_or(str::is_empty)))
        });
        if !tolerated {
            tolerations.push(api::Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(300),
                value: None,
            });
        }
    }
}

fn requests_from_limits(c: &mut api::Container) {
    let Some(res) = &mut c.resources else { return };
    let Some(limits) = &res.limits else { return };
    let requests = res.requests.get_or_insert_with(Default::default);
    // Upstream cannot hold a malformed quantity (decoding fails); do not
    // duplicate one here.
    let valid = limits
        .iter()
        .filter(|(_, v)| crate::quantity::Quantity::parse(&v.0).is_ok());
    for (k, v) in valid {
        requests.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.local:5000/team/app", "Always"),
            ("registry.local:5000/team/app:v2", "IfNotPresent"),
            (
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            ("Nginx", "IfNotPresent"),
            ("", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy_for(image), policy, "{image}");
        }
    }

    #[test]
    fn pod_defaults() {
        let mut p = api::Pod {
            spec: Some(api::PodSpec {
                containers: vec![api::Container {
                    name: "c".into(),
                    image: Some("nginx".into()),
                    ports: Some(vec![api::ContainerPort {
                        container_port: 80,
                        ..Default::default()
                    }]),
                    resources: Some(api::ResourceRequirements {
                        limits: Some([("cpu".to_string(), Quantity("0.5".into()))].into()),
                        ..Default::default()
                    }),
                    liveness_probe: Some(api::Probe {
                        http_get: Some(api::HTTPGetAction {
                            port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(
                                80,
                            ),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                volumes: Some(vec![api::Volume {
                    name: "v".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        pod(&mut p);
        let spec = p.spec.unwrap();
        assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.termination_grace_period_seconds, Some(30));
        assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
        assert_eq!(spec.enable_service_links, Some(true));
        assert!(spec.volumes.unwrap()[0].empty_dir.is_some());
        let c = &spec.containers[0];
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        assert_eq!(
            c.termination_message_path.as_deref(),
            Some("/dev/termination-log")
        );
        assert_eq!(
            c.ports.as_ref().unwrap()[0].protocol.as_deref(),
            Some("TCP")
        );
        let res = c.resources.as_ref().unwrap();
        assert_eq!(res.limits.as_ref().unwrap()["cpu"].0, "500m");
        assert_eq!(res.requests.as_ref().unwrap()["cpu"].0, "500m");
        let probe = c.liveness_probe.as_ref().unwrap();
        assert_eq!(
            (
                probe.timeout_seconds,
                probe.period_seconds,
                probe.success_threshold,
                probe.failure_threshold
            ),
            (Some(1), Some(10), Some(1), Some(3))
        );
        assert_eq!(probe.http_get.as_ref().unwrap().path.as_deref(), Some("/"));
    }
}
