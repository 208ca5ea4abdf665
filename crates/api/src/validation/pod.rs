//! Validation of pod specs, shared by Pods and every pod template (Pod
//! templates, ReplicationControllers, Deployments, ReplicaSets,
//! StatefulSets, DaemonSets, Jobs, CronJobs), after upstream's
//! `ValidatePodSpec` and `ValidatePodTemplateSpec`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::checks;
use super::{
    Errors, Path, dns1123_label, dns1123_subdomain, go, label_value, mask_trailing_dash,
    qualified_name, validate_annotations, validate_labels,
};
use crate::quantity::Quantity;

/// Whether a pod spec belongs to a Pod (some checks are Pod-only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodOpts {
    /// The spec is a Pod's, not a template's.
    pub is_pod: bool,
}

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// Validate a pod template (`ValidatePodTemplateSpec`): labels and
/// annotations (reported on `<path>.labels`, as upstream), the pod spec,
/// and no ephemeral containers.
pub fn pod_template_spec(errs: &mut Errors, path: &Path, t: &api::PodTemplateSpec) {
    let meta = t.metadata.clone().unwrap_or_default();
    validate_labels(meta.labels.as_ref(), &path.child("labels"), errs);
    validate_annotations(meta.annotations.as_ref(), &path.child("annotations"), errs);
    let spec = t.spec.clone().unwrap_or_default();
    pod_specific_annotations(
        errs,
        &path.child("annotations"),
        meta.annotations.as_ref(),
        &spec,
    );
    pod_spec(errs, &path.child("spec"), &spec, None, PodOpts::default());
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        );
    }
}

/// Validate a template whose selector must match its labels, with the
/// checks every replicated workload adds (`ValidatePodTemplateSpecForReplicaSet`
/// and friends): template labels matched by `selector`, a valid pod spec,
/// `restartPolicy: Always`, no `activeDeadlineSeconds`.
pub fn replicated_template(
    errs: &mut Errors,
    path: &Path,
    t: Option<&api::PodTemplateSpec>,
    selector: &Option<crate::labels::Selector>,
    kind: &str,
) {
    let Some(t) = t else {
        errs.required(path, "");
        return;
    };
    let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
    if !checks::selector_is_everything(selector) && !checks::selector_matches(selector, labels) {
        errs.invalid_raw(
            &path.child("metadata").child("labels"),
            go::string_map(labels),
            "`selector` does not match template `labels`",
        );
    }
    pod_template_spec(errs, path, t);
    always_restart(errs, path, t, kind);
}

/// `restartPolicy` must be `Always` and `activeDeadlineSeconds` unset in
/// templates of long-running workloads.
pub fn always_restart(errs: &mut Errors, path: &Path, t: &api::PodTemplateSpec, kind: &str) {
    let spec = t.spec.clone().unwrap_or_default();
    let policy = s(&spec.restart_policy);
    if policy != "Always" {
        errs.not_supported(
            &path.child("spec").child("restartPolicy"),
            policy,
            &["Always"],
        );
    }
    if spec.active_deadline_seconds.is_some() {
        errs.forbidden(
            &path.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        );
    }
}

/// Upstream's `ValidatePodSpecificAnnotations`: mirror pods, deletion
/// cost, seccomp and AppArmor annotations.
pub fn pod_specific_annotations(
    errs: &mut Errors,
    path: &Path,
    annotations: Option<&BTreeMap<String, String>>,
    spec: &api::PodSpec,
) {
    let Some(ann) = annotations else { return };
    if let Some(v) = ann.get("kubernetes.io/config.mirror")
        && s(&spec.node_name).is_empty()
    {
        errs.invalid(
            &path.key("kubernetes.io/config.mirror"),
            v.as_str(),
            "must set spec.nodeName if mirror pod annotation is set",
        );
    }
    if let Some(v) = ann.get("controller.kubernetes.io/pod-deletion-cost")
        && v.parse::<i32>().is_err()
    {
        errs.invalid(
            &path.key("controller.kubernetes.io/pod-deletion-cost"),
            v.as_str(),
            "must be a 32bit integer",
        );
    }
    for (k, v) in ann {
        if k == "seccomp.security.alpha.kubernetes.io/pod"
            || k.starts_with("container.seccomp.security.alpha.kubernetes.io/")
        {
            seccomp_annotation(errs, &path.child(k), v);
        }
    }
    for (k, v) in ann {
        let Some(container) = k.strip_prefix("container.apparmor.security.beta.kubernetes.io/")
        else {
            continue;
        };
        if !all_container_names(spec).contains(container) {
            errs.invalid(&path.key(k), container, "container not found");
        }
        let ok = v.is_empty()
            || v == "runtime/default"
            || v == "unconfined"
            || v.starts_with("localhost/");
        if !ok {
            errs.invalid(
                &path.key(k),
                v.as_str(),
                format!("invalid AppArmor profile name: {}", go::quote(v)),
            );
        }
    }
}

fn seccomp_annotation(errs: &mut Errors, path: &Path, v: &str) {
    if matches!(v, "runtime/default" | "docker/default" | "unconfined") {
        return;
    }
    if let Some(p) = v.strip_prefix("localhost/") {
        checks::local_descending_path(errs, path, p);
        return;
    }
    errs.invalid(path, v, "must be a valid seccomp profile");
}

fn all_container_names(spec: &api::PodSpec) -> BTreeSet<&str> {
    let mut names: BTreeSet<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    names.extend(
        spec.init_containers
            .iter()
            .flatten()
            .map(|c| c.name.as_str()),
    );
    names.extend(
        spec.ephemeral_containers
            .iter()
            .flatten()
            .map(|c| c.name.as_str()),
    );
    names
}

/// The volumes a pod spec declares, by name (the valid ones).
type Volumes<'a> = BTreeMap<String, &'a api::Volume>;

/// Validate a pod spec (`ValidatePodSpec`). `pod_meta` is the pod's own
/// metadata (generic ephemeral volume names depend on the pod name).
pub fn pod_spec(
    errs: &mut Errors,
    path: &Path,
    spec: &api::PodSpec,
    pod_meta: Option<&ObjectMeta>,
    opts: PodOpts,
) {
    if spec.termination_grace_period_seconds.is_none() {
        errs.required(&path.child("terminationGracePeriodSeconds"), "");
    }
    let grace = spec.termination_grace_period_seconds;
    let host_users = spec.host_users.unwrap_or(true);
    let vols = volumes(errs, &path.child("volumes"), spec, pod_meta);
    let claims: BTreeSet<&str> = spec
        .resource_claims
        .iter()
        .flatten()
        .filter(|c| !c.name.is_empty())
        .map(|c| c.name.as_str())
        .collect();
    resource_claims(errs, &path.child("resourceClaims"), spec);
    let ctx = Ctx {
        vols: &vols,
        claims: &claims,
        grace,
        restart_policy: s(&spec.restart_policy),
        host_users,
    };
    containers(errs, &path.child("containers"), spec, &ctx);
    init_containers(errs, &path.child("initContainers"), spec, &ctx);
    ephemeral_containers(errs, &path.child("ephemeralContainers"), spec, &ctx);
    host_network_deps(errs, path, spec, opts);
    restart_policy(errs, &path.child("restartPolicy"), s(&spec.restart_policy));
    dns_policy(errs, &path.child("dnsPolicy"), s(&spec.dns_policy));
    validate_labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
        errs,
    );
    pod_security_context(errs, path, spec);
    if let Some(a) = &spec.affinity {
        affinity(errs, &path.child("affinity"), a);
    }
    dns_config(errs, &path.child("dnsConfig"), spec);
    for (i, g) in spec.readiness_gates.iter().flatten().enumerate() {
        let p = path.child("readinessGates").index(i).child("conditionType");
        errs.invalid_each(&p, &g.condition_type, qualified_name(&g.condition_type));
    }
    scheduling_gates(errs, &path.child("schedulingGates"), spec);
    topology_spread(errs, &path.child("topologySpreadConstraints"), spec);
    host_users_deps(errs, path, spec);
    for (field, value) in [
        ("serviceAccountName", &spec.service_account_name),
        ("nodeName", &spec.node_name),
    ] {
        let v = s(value);
        if !v.is_empty() {
            errs.invalid_each(&path.child(field), v, dns1123_subdomain(v));
        }
    }
    if let Some(v) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&v)
    {
        errs.invalid(
            &path.child("activeDeadlineSeconds"),
            v,
            checks::inclusive_range(1, i64::from(i32::MAX)),
        );
    }
    for (field, value) in [("hostname", &spec.hostname), ("subdomain", &spec.subdomain)] {
        let v = s(value);
        if !v.is_empty() {
            errs.invalid_each(&path.child(field), v, dns1123_label(v));
        }
    }
    tolerations(
        errs,
        &path.child("tolerations"),
        spec.tolerations.as_deref().unwrap_or_default(),
    );
    for (i, alias) in spec.host_aliases.iter().flatten().enumerate() {
        let p = path.child("hostAliases").index(i);
        checks::ip_address(errs, &p.child("ip"), &alias.ip);
        for (j, h) in alias.hostnames.iter().flatten().enumerate() {
            errs.invalid_each(&p.child("hostnames").index(j), h, dns1123_subdomain(h));
        }
    }
    let pcn = s(&spec.priority_class_name);
    if !pcn.is_empty() {
        errs.invalid_each(
            &path.child("priorityClassName"),
            pcn,
            dns1123_subdomain(pcn),
        );
    }
    if let Some(rc) = &spec.runtime_class_name {
        errs.invalid_each(&path.child("runtimeClassName"), rc, dns1123_subdomain(rc));
    }
    if let Some(pp) = &spec.preemption_policy {
        preemption_policy(errs, &path.child("preemptionPolicy"), pp);
    }
    if let Some(overhead) = &spec.overhead {
        let req = api::ResourceRequirements {
            limits: Some(overhead.clone()),
            ..Default::default()
        };
        resources(errs, &path.child("overhead"), &req, &claims);
    }
    if let Some(os) = &spec.os {
        pod_os(errs, path, spec, os);
    }
}

/// Validate a `preemptionPolicy` value.
pub fn preemption_policy(errs: &mut Errors, path: &Path, v: &str) {
    match v {
        "PreemptLowerPriority" | "Never" => {}
        "" => errs.required(path, ""),
        _ => errs.not_supported(path, v, &["PreemptLowerPriority", "Never"]),
    }
}

struct Ctx<'a> {
    vols: &'a Volumes<'a>,
    claims: &'a BTreeSet<&'a str>,
    grace: Option<i64>,
    restart_policy: &'a str,
    host_users: bool,
}

fn restart_policy(errs: &mut Errors, path: &Path, v: &str) {
    match v {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.required(path, ""),
        _ => errs.not_supported(path, v, &["Always", "OnFailure", "Never"]),
    }
}

fn dns_policy(errs: &mut Errors, path: &Path, v: &str) {
    match v {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.required(path, ""),
        _ => errs.not_supported(
            path,
            v,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
}

fn pod_os(errs: &mut Errors, path: &Path, spec: &api::PodSpec, os: &api::PodOS) {
    let p = path.child("os");
    if os.name.is_empty() {
        errs.required(&p.child("name"), "cannot be empty");
        return;
    }
    match os.name.as_str() {
        "linux" => {
            let windows = "windows options cannot be set for a linux pod";
            if spec
                .security_context
                .as_ref()
                .is_some_and(|sc| sc.windows_options.is_some())
            {
                errs.forbidden(
                    &path.child("securityContext").child("windowsOptions"),
                    windows,
                );
            }
            for (cp, c) in all_containers(path, spec) {
                if c.security_context
                    .as_ref()
                    .is_some_and(|sc| sc.windows_options.is_some())
                {
                    errs.forbidden(
                        &cp.child("securityContext").child("windowsOptions"),
                        windows,
                    );
                }
            }
        }
        "windows" => windows_pod(errs, path, spec),
        other => errs.not_supported(&p, other, &["linux", "windows"]),
    }
}

fn windows_pod(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    const MSG: &str = "cannot be set for a windows pod";
    if let Some(sc) = &spec.security_context {
        let sp = path.child("securityContext");
        let set = [
            ("appArmorProfile", sc.app_armor_profile.is_some()),
            ("seLinuxOptions", sc.se_linux_options.is_some()),
            ("seccompProfile", sc.seccomp_profile.is_some()),
            ("fsGroup", sc.fs_group.is_some()),
            ("fsGroupChangePolicy", sc.fs_group_change_policy.is_some()),
            (
                "sysctls",
                sc.sysctls.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            ("runAsUser", sc.run_as_user.is_some()),
            ("runAsGroup", sc.run_as_group.is_some()),
            ("supplementalGroups", sc.supplemental_groups.is_some()),
            (
                "supplementalGroupsPolicy",
                sc.supplemental_groups_policy.is_some(),
            ),
            ("seLinuxChangePolicy", sc.se_linux_change_policy.is_some()),
        ];
        for (field, is_set) in set {
            if is_set {
                errs.forbidden(&sp.child(field), MSG);
            }
        }
    }
    for (field, is_set) in [
        ("hostUsers", spec.host_users.is_some()),
        ("hostPID", spec.host_pid == Some(true)),
        ("hostIPC", spec.host_ipc == Some(true)),
        (
            "shareProcessNamespace",
            spec.share_process_namespace.is_some(),
        ),
    ] {
        if is_set {
            errs.forbidden(&path.child(field), MSG);
        }
    }
    for (cp, c) in all_containers(path, spec) {
        let Some(sc) = &c.security_context else {
            continue;
        };
        let sp = cp.child("securityContext");
        for (field, is_set) in [
            ("appArmorProfile", sc.app_armor_profile.is_some()),
            ("seLinuxOptions", sc.se_linux_options.is_some()),
            ("seccompProfile", sc.seccomp_profile.is_some()),
            ("capabilities", sc.capabilities.is_some()),
            (
                "readOnlyRootFilesystem",
                sc.read_only_root_filesystem.is_some(),
            ),
            ("privileged", sc.privileged.is_some()),
            (
                "allowPrivilegeEscalation",
                sc.allow_privilege_escalation.is_some(),
            ),
            ("procMount", sc.proc_mount.is_some()),
            ("runAsUser", sc.run_as_user.is_some()),
            ("runAsGroup", sc.run_as_group.is_some()),
        ] {
            if is_set {
                errs.forbidden(&sp.child(field), MSG);
            }
        }
    }
}

/// Every container of a spec with its path, init containers first (as
/// upstream visits them), ephemeral ones last.
fn all_containers(path: &Path, spec: &api::PodSpec) -> Vec<(Path, api::Container)> {
    let mut out = Vec::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        out.push((path.child("initContainers").index(i), c.clone()));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        out.push((path.child("containers").index(i), c.clone()));
    }
    for (i, c) in spec.ephemeral_containers.iter().flatten().enumerate() {
        out.push((
            path.child("ephemeralContainers").index(i),
            ephemeral_as_container(c),
        ));
    }
    out
}

/// An ephemeral container seen as a container (they share their fields).
pub fn ephemeral_as_container(e: &api::EphemeralContainer) -> api::Container {
    api::Container {
        args: e.args.clone(),
        command: e.command.clone(),
        env: e.env.clone(),
        env_from: e.env_from.clone(),
        image: e.image.clone(),
        image_pull_policy: e.image_pull_policy.clone(),
        lifecycle: e.lifecycle.clone(),
        liveness_probe: e.liveness_probe.clone(),
        name: e.name.clone(),
        ports: e.ports.clone(),
        readiness_probe: e.readiness_probe.clone(),
        resize_policy: e.resize_policy.clone(),
        resources: e.resources.clone(),
        restart_policy: e.restart_policy.clone(),
        security_context: e.security_context.clone(),
        startup_probe: e.startup_probe.clone(),
        stdin: e.stdin,
        stdin_once: e.stdin_once,
        termination_message_path: e.termination_message_path.clone(),
        termination_message_policy: e.termination_message_policy.clone(),
        tty: e.tty,
        volume_devices: e.volume_devices.clone(),
        volume_mounts: e.volume_mounts.clone(),
        working_dir: e.working_dir.clone(),
    }
}

// ---------------------------------------------------------------- volumes

fn volumes<'a>(
    errs: &mut Errors,
    path: &Path,
    spec: &'a api::PodSpec,
    pod_meta: Option<&ObjectMeta>,
) -> Volumes<'a> {
    let pod_name = pod_meta.and_then(|m| m.name.as_deref()).unwrap_or("");
    let vols = spec.volumes.as_deref().unwrap_or_default();
    let created_pvcs: BTreeSet<String> = if pod_name.is_empty() {
        BTreeSet::new()
    } else {
        vols.iter()
            .filter(|v| v.ephemeral.is_some())
            .map(|v| format!("{pod_name}-{}", v.name))
            .collect()
    };
    let mut valid = Volumes::new();
    for (i, vol) in vols.iter().enumerate() {
        let p = path.index(i);
        let mut el = Errors::default();
        volume_source(&mut el, &p, vol, pod_name);
        if vol.name.is_empty() {
            el.required(&p.child("name"), "");
        } else {
            el.invalid_each(&p.child("name"), &vol.name, dns1123_label(&vol.name));
        }
        if valid.contains_key(&vol.name) {
            el.duplicate(&p.child("name"), vol.name.as_str());
        }
        if el.is_empty() {
            valid.insert(vol.name.clone(), vol);
        } else {
            errs.extend(el);
        }
        if let Some(pvc) = &vol.persistent_volume_claim
            && created_pvcs.contains(&pvc.claim_name)
        {
            errs.invalid(
                &p.child("persistentVolumeClaim").child("claimName"),
                pvc.claim_name.as_str(),
                "must not reference a PVC that gets created for an ephemeral volume",
            );
        }
    }
    valid
}

/// The volume sources set on a volume, in upstream's checking order, with
/// the field name used in "more than 1 volume type" errors.
fn sources_set(v: &api::Volume) -> Vec<&'static str> {
    let flags = [
        ("emptyDir", v.empty_dir.is_some()),
        ("hostPath", v.host_path.is_some()),
        ("gitRepo", v.git_repo.is_some()),
        ("gcePersistentDisk", v.gce_persistent_disk.is_some()),
        ("awsElasticBlockStore", v.aws_elastic_block_store.is_some()),
        ("secret", v.secret.is_some()),
        ("nfs", v.nfs.is_some()),
        ("iscsi", v.iscsi.is_some()),
        ("glusterfs", v.glusterfs.is_some()),
        ("flocker", v.flocker.is_some()),
        ("persistentVolumeClaim", v.persistent_volume_claim.is_some()),
        ("rbd", v.rbd.is_some()),
        ("cinder", v.cinder.is_some()),
        ("cephFS", v.cephfs.is_some()),
        ("quobyte", v.quobyte.is_some()),
        ("downwarAPI", v.downward_api.is_some()),
        ("fc", v.fc.is_some()),
        ("flexVolume", v.flex_volume.is_some()),
        ("configMap", v.config_map.is_some()),
        ("azureFile", v.azure_file.is_some()),
        ("vsphereVolume", v.vsphere_volume.is_some()),
        ("photonPersistentDisk", v.photon_persistent_disk.is_some()),
        ("portworxVolume", v.portworx_volume.is_some()),
        ("azureDisk", v.azure_disk.is_some()),
        ("storageos", v.storageos.is_some()),
        ("projected", v.projected.is_some()),
        ("scaleIO", v.scale_io.is_some()),
        ("csi", v.csi.is_some()),
        ("ephemeral", v.ephemeral.is_some()),
        ("image", v.image.is_some()),
    ];
    flags
        .iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| *n)
        .collect()
}

fn volume_source(errs: &mut Errors, path: &Path, v: &api::Volume, pod_name: &str) {
    let set = sources_set(v);
    if set.is_empty() {
        errs.required(path, "must specify a volume type");
        return;
    }
    for extra in &set[1..] {
        errs.forbidden(
            &path.child(extra),
            "may not specify more than 1 volume type",
        );
    }
    match set[0] {
        "emptyDir" => empty_dir(errs, path, v),
        "hostPath" => {
            if let Some(hp) = &v.host_path {
                host_path(errs, &path.child("hostPath"), hp);
            }
        }
        "gitRepo" => {
            if let Some(g) = &v.git_repo {
                let p = path.child("gitRepo");
                required_str(errs, &p.child("repository"), &g.repository);
                checks::local_descending_path(errs, &p.child("directory"), s(&g.directory));
            }
        }
        "secret" => {
            if let Some(sv) = &v.secret {
                let p = path.child("secret");
                required_str(errs, &p.child("secretName"), s(&sv.secret_name));
                checks::file_mode(errs, &p.child("defaultMode"), sv.default_mode);
                key_to_paths(errs, &p.child("items"), sv.items.as_deref());
            }
        }
        "configMap" => {
            if let Some(cm) = &v.config_map {
                let p = path.child("configMap");
                required_str(errs, &p.child("name"), &cm.name);
                checks::file_mode(errs, &p.child("defaultMode"), cm.default_mode);
                key_to_paths(errs, &p.child("items"), cm.items.as_deref());
            }
        }
        "persistentVolumeClaim" => {
            if let Some(pvc) = &v.persistent_volume_claim {
                required_str(
                    errs,
                    &path.child("persistentVolumeClaim").child("claimName"),
                    &pvc.claim_name,
                );
            }
        }
        "nfs" => {
            if let Some(nfs) = &v.nfs {
                let p = path.child("nfs");
                required_str(errs, &p.child("server"), &nfs.server);
                required_str(errs, &p.child("path"), &nfs.path);
                if !nfs.path.starts_with('/') {
                    errs.invalid(
                        &p.child("path"),
                        nfs.path.as_str(),
                        "must be an absolute path",
                    );
                }
            }
        }
        "downwarAPI" => {
            if let Some(d) = &v.downward_api {
                let p = path.child("downwardAPI");
                checks::file_mode(errs, &p.child("defaultMode"), d.default_mode);
                for f in d.items.iter().flatten() {
                    downward_api_file(errs, &p, f);
                }
            }
        }
        "projected" => {
            if let Some(pr) = &v.projected {
                projected(errs, &path.child("projected"), pr);
            }
        }
        "csi" => {
            if let Some(csi) = &v.csi {
                let p = path.child("csi");
                csi_driver_name(errs, &p.child("driver"), &csi.driver);
                if let Some(r) = &csi.node_publish_secret_ref {
                    if r.name.is_empty() {
                        errs.required(&p.child("nodePublishSecretRef").child("name"), "");
                    } else {
                        errs.invalid_each(&p.child("name"), &r.name, dns1123_subdomain(&r.name));
                    }
                }
            }
        }
        "ephemeral" => {
            if let Some(e) = &v.ephemeral {
                ephemeral_volume(errs, path, e, &v.name, pod_name);
            }
        }
        other => legacy_volume(errs, path, v, other),
    }
}

fn empty_dir(errs: &mut Errors, path: &Path, v: &api::Volume) {
    let Some(limit) = v.empty_dir.as_ref().and_then(|e| e.size_limit.as_ref()) else {
        return;
    };
    let p = path.child("emptyDir").child("sizeLimit");
    if let Some(q) = checks::quantity(errs, &p, limit)
        && q.is_negative()
    {
        errs.forbidden(&p, "SizeLimit field must be a valid resource quantity");
    }
}

fn required_str(errs: &mut Errors, path: &Path, v: &str) {
    if v.is_empty() {
        errs.required(path, "");
    }
}

fn host_path(errs: &mut Errors, path: &Path, hp: &api::HostPathVolumeSource) {
    if hp.path.is_empty() {
        errs.required(&path.child("path"), "");
        return;
    }
    checks::no_backsteps(errs, &path.child("path"), &hp.path);
    const TYPES: &[&str] = &[
        "",
        "BlockDevice",
        "CharDevice",
        "Directory",
        "DirectoryOrCreate",
        "File",
        "FileOrCreate",
        "Socket",
    ];
    if let Some(t) = &hp.type_
        && !TYPES.contains(&t.as_str())
    {
        errs.not_supported(&path.child("type"), t.as_str(), TYPES);
    }
}

fn key_to_paths(errs: &mut Errors, path: &Path, items: Option<&[api::KeyToPath]>) {
    for (i, kp) in items.unwrap_or_default().iter().enumerate() {
        key_to_path(errs, &path.index(i), kp);
    }
}

fn key_to_path(errs: &mut Errors, path: &Path, kp: &api::KeyToPath) {
    required_str(errs, &path.child("key"), &kp.key);
    required_str(errs, &path.child("path"), &kp.path);
    checks::local_non_reserved_path(errs, &path.child("path"), &kp.path);
    checks::file_mode(errs, &path.child("mode"), kp.mode);
}

const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const CONVERTIBLE_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `metadata.labels['key']` → (`metadata.labels`, `key`).
fn subscripted(fp: &str) -> Option<(&str, &str)> {
    let open = fp.find('[')?;
    let inner = fp[open + 1..].strip_suffix(']')?;
    let key = inner
        .strip_prefix('\'')
        .and_then(|k| k.strip_suffix('\''))?;
    Some((&fp[..open], key))
}

fn object_field_selector(
    errs: &mut Errors,
    path: &Path,
    fs: &api::ObjectFieldSelector,
    allowed: &[&str],
) {
    let version = s(&fs.api_version);
    if version.is_empty() {
        errs.required(&path.child("apiVersion"), "");
        return;
    }
    if fs.field_path.is_empty() {
        errs.required(&path.child("fieldPath"), "");
        return;
    }
    let fp = fs.field_path.as_str();
    let conversion = if version != "v1" {
        Err(format!("unsupported pod version: {version}"))
    } else {
        match subscripted(fp) {
            Some((p @ ("metadata.annotations" | "metadata.labels"), k)) => Ok((p, Some(k))),
            Some(_) => Err(format!("field label not supported: {fp}")),
            None if CONVERTIBLE_FIELD_PATHS.contains(&fp) => Ok((fp, None)),
            None => Err(format!("field label not supported: {fp}")),
        }
    };
    match conversion {
        Err(e) => errs.invalid(
            &path.child("fieldPath"),
            fp,
            format!("error converting fieldPath: {e}"),
        ),
        Ok(("metadata.annotations", Some(k))) => {
            errs.invalid_each(path, k, qualified_name(&k.to_lowercase()))
        }
        Ok(("metadata.labels", Some(k))) => errs.invalid_each(path, k, qualified_name(k)),
        Ok((p, _)) if !allowed.contains(&p) => {
            errs.not_supported(&path.child("fieldPath"), p, allowed)
        }
        Ok(_) => {}
    }
}

const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn resource_field_selector(
    errs: &mut Errors,
    path: &Path,
    fs: &api::ResourceFieldSelector,
    volume: bool,
) {
    if volume && s(&fs.container_name).is_empty() {
        errs.required(&path.child("containerName"), "");
    } else if fs.resource.is_empty() {
        errs.required(&path.child("resource"), "");
    } else if !RESOURCE_FIELD_PATHS.contains(&fs.resource.as_str())
        && !fs.resource.starts_with("requests.hugepages-")
        && !fs.resource.starts_with("limits.hugepages-")
    {
        errs.not_supported(
            &path.child("resource"),
            fs.resource.as_str(),
            RESOURCE_FIELD_PATHS,
        );
    }
    let Some(divisor) = &fs.divisor else { return };
    let Ok(d) = Quantity::parse(&divisor.0) else {
        errs.invalid(
            &path.child("divisor"),
            divisor.0.as_str(),
            crate::quantity::QUANTITY_FORMAT,
        );
        return;
    };
    if d.is_zero() {
        return;
    }
    let text = d.to_canonical(crate::quantity::Format::of(&divisor.0));
    const MEMORY_LIKE: &[&str] = &[
        "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
    ];
    let r = fs.resource.as_str();
    let (ok, what) = match r {
        "limits.cpu" | "requests.cpu" => (
            matches!(text.as_str(), "1m" | "1"),
            "only divisor's values 1m and 1 are supported with the cpu resource",
        ),
        "limits.memory" | "requests.memory" => (
            MEMORY_LIKE.contains(&text.as_str()),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
        ),
        "limits.ephemeral-storage" | "requests.ephemeral-storage" => (
            MEMORY_LIKE.contains(&text.as_str()),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
        ),
        _ if r.starts_with("requests.hugepages-") || r.starts_with("limits.hugepages-") => (
            MEMORY_LIKE.contains(&text.as_str()),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource",
        ),
        _ => (true, ""),
    };
    if !ok {
        errs.invalid(&path.child("divisor"), r, what);
    }
}

fn downward_api_file(errs: &mut Errors, path: &Path, f: &api::DownwardAPIVolumeFile) {
    required_str(errs, &path.child("path"), &f.path);
    checks::local_non_reserved_path(errs, &path.child("path"), &f.path);
    match (&f.field_ref, &f.resource_field_ref) {
        (Some(fr), rfr) => {
            object_field_selector(errs, &path.child("fieldRef"), fr, VOLUME_FIELD_PATHS);
            if rfr.is_some() {
                errs.invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                );
            }
        }
        (None, Some(rfr)) => {
            resource_field_selector(errs, &path.child("resourceFieldRef"), rfr, true)
        }
        (None, None) => errs.required(path, "one of fieldRef and resourceFieldRef is required"),
    }
    checks::file_mode(errs, &path.child("mode"), f.mode);
}

fn projected(errs: &mut Errors, path: &Path, pr: &api::ProjectedVolumeSource) {
    checks::file_mode(errs, &path.child("defaultMode"), pr.default_mode);
    let mut paths: BTreeSet<String> = BTreeSet::new();
    let mut dup = |errs: &mut Errors, p: &str, shown: &str| {
        if !p.is_empty() && !paths.insert(p.to_owned()) {
            errs.invalid(path, shown, "conflicting duplicate paths");
        }
    };
    for (i, src) in pr.sources.iter().flatten().enumerate() {
        let sp = path.child("sources").index(i);
        let mut n = 0;
        if let Some(sec) = &src.secret {
            n += 1;
            let p = sp.child("secret");
            required_str(errs, &p.child("name"), sec.name.as_str());
            for (j, kp) in sec.items.iter().flatten().enumerate() {
                key_to_path(errs, &p.child("items").index(j), kp);
                dup(errs, &kp.path, sec.name.as_str());
            }
        }
        if let Some(cm) = &src.config_map {
            n += 1;
            let p = sp.child("configMap");
            required_str(errs, &p.child("name"), cm.name.as_str());
            for (j, kp) in cm.items.iter().flatten().enumerate() {
                key_to_path(errs, &p.child("items").index(j), kp);
                dup(errs, &kp.path, cm.name.as_str());
            }
        }
        if let Some(d) = &src.downward_api {
            n += 1;
            let p = sp.child("downwardAPI");
            for f in d.items.iter().flatten() {
                downward_api_file(errs, &p, f);
                dup(errs, &f.path, &f.path);
            }
        }
        if let Some(t) = &src.service_account_token {
            n += 1;
            let p = sp.child("serviceAccountToken");
            let exp = t.expiration_seconds.unwrap_or(0);
            if exp < 600 {
                errs.invalid(
                    &p.child("expirationSeconds"),
                    exp,
                    "may not specify a duration less than 10 minutes",
                );
            }
            if exp > 1 << 32 {
                errs.invalid(
                    &p.child("expirationSeconds"),
                    exp,
                    "may not specify a duration larger than 2^32 seconds",
                );
            }
            if t.path.is_empty() {
                errs.required(&path.child("path"), "");
            } else {
                checks::local_non_reserved_path(errs, &path.child("path"), &t.path);
            }
        }
        if let Some(ctb) = &src.cluster_trust_bundle {
            n += 1;
            let p = sp.child("clusterTrustBundle");
            match (&ctb.name, &ctb.signer_name) {
                (Some(_), Some(_)) => errs.invalid_raw(
                    &p,
                    "core.ClusterTrustBundleProjection{...}",
                    "only one of name and signerName may be used",
                ),
                (Some(name), None) if name.is_empty() => {
                    errs.required(&p.child("name"), "must be a valid object name")
                }
                (None, Some(signer)) if signer.is_empty() => {
                    errs.required(&p.child("signerName"), "must be a valid signer name")
                }
                (None, None) => errs.required(&p, "either name or signerName must be specified"),
                _ => {}
            }
            required_str(errs, &p.child("path"), &ctb.path);
            checks::local_non_reserved_path(errs, &p.child("path"), &ctb.path);
            dup(errs, &ctb.path, &ctb.path);
        }
        if n > 1 {
            errs.forbidden(&sp, "may not specify more than 1 volume type per source");
        }
    }
}

fn csi_driver_name(errs: &mut Errors, path: &Path, driver: &str) {
    if driver.is_empty() {
        errs.required(path, "");
    }
    if driver.len() > 63 {
        errs.too_long(path, 63);
    }
    errs.invalid_each(path, driver, dns1123_subdomain(&driver.to_lowercase()));
}

fn ephemeral_volume(
    errs: &mut Errors,
    path: &Path,
    e: &api::EphemeralVolumeSource,
    vol_name: &str,
    pod_name: &str,
) {
    let p = path.child("ephemeral");
    let Some(t) = &e.volume_claim_template else {
        errs.required(&p.child("volumeClaimTemplate"), "");
        return;
    };
    let tp = p.child("volumeClaimTemplate");
    template_object_meta(errs, &tp.child("metadata"), t.metadata.as_ref());
    super::core::pvc_spec(errs, &tp.child("spec"), &t.spec);
    if !pod_name.is_empty() && !vol_name.is_empty() {
        let pvc = format!("{pod_name}-{vol_name}");
        for msg in dns1123_subdomain(&pvc) {
            errs.invalid(
                &path.child("name"),
                vol_name,
                format!("PVC name {}: {msg}", go::quote(&pvc)),
            );
        }
    }
}

/// Metadata of an embedded template (PVC templates): only labels and
/// annotations may be set.
pub fn template_object_meta(errs: &mut Errors, path: &Path, meta: Option<&ObjectMeta>) {
    let Some(m) = meta else { return };
    validate_annotations(m.annotations.as_ref(), &path.child("annotations"), errs);
    validate_labels(m.labels.as_ref(), &path.child("labels"), errs);
    let set = [
        ("name", m.name.is_some()),
        ("generateName", m.generate_name.is_some()),
        ("namespace", m.namespace.is_some()),
        ("selfLink", m.self_link.is_some()),
        ("uID", m.uid.is_some()),
        ("resourceVersion", m.resource_version.is_some()),
        ("generation", m.generation.is_some()),
        ("creationTimestamp", m.creation_timestamp.is_some()),
        ("deletionTimestamp", m.deletion_timestamp.is_some()),
        (
            "deletionGracePeriodSeconds",
            m.deletion_grace_period_seconds.is_some(),
        ),
        ("ownerReferences", m.owner_references.is_some()),
        ("finalizers", m.finalizers.is_some()),
        ("managedFields", m.managed_fields.is_some()),
    ];
    for (field, is_set) in set {
        if is_set {
            errs.forbidden(&path.child(field), "cannot be set");
        }
    }
}

/// The legacy in-tree volume plugins: their required fields.
fn legacy_volume(errs: &mut Errors, path: &Path, v: &api::Volume, kind: &str) {
    let req = |errs: &mut Errors, child: &str, field: &str, value: &str| {
        required_str(errs, &path.child(child).child(field), value);
    };
    match kind {
        "gcePersistentDisk" => {
            if let Some(pd) = &v.gce_persistent_disk {
                req(errs, "persistentDisk", "pdName", &pd.pd_name);
                partition(errs, &path.child("persistentDisk"), pd.partition);
            }
        }
        "awsElasticBlockStore" => {
            if let Some(pd) = &v.aws_elastic_block_store {
                req(errs, "awsElasticBlockStore", "volumeID", &pd.volume_id);
                partition(errs, &path.child("awsElasticBlockStore"), pd.partition);
            }
        }
        "iscsi" => {
            if let Some(i) = &v.iscsi {
                req(errs, "iscsi", "targetPortal", &i.target_portal);
                req(errs, "iscsi", "iqn", &i.iqn);
                let lun = i.lun;
                if !(0..=255).contains(&lun) {
                    errs.invalid(
                        &path.child("iscsi").child("lun"),
                        lun,
                        checks::inclusive_range(0, 255),
                    );
                }
            }
        }
        "glusterfs" => {
            if let Some(g) = &v.glusterfs {
                req(errs, "glusterfs", "endpoints", &g.endpoints);
                req(errs, "glusterfs", "path", &g.path);
            }
        }
        "rbd" => {
            if let Some(r) = &v.rbd {
                if r.monitors.is_empty() {
                    errs.required(&path.child("rbd").child("monitors"), "");
                }
                req(errs, "rbd", "image", &r.image);
            }
        }
        "cinder" => {
            if let Some(c) = &v.cinder {
                req(errs, "cinder", "volumeID", &c.volume_id);
            }
        }
        "cephFS" => {
            if let Some(c) = &v.cephfs
                && c.monitors.is_empty()
            {
                errs.required(&path.child("cephfs").child("monitors"), "");
            }
        }
        "flexVolume" => {
            if let Some(f) = &v.flex_volume {
                req(errs, "flexVolume", "driver", &f.driver);
            }
        }
        "azureFile" => {
            if let Some(a) = &v.azure_file {
                req(errs, "azureFile", "secretName", &a.secret_name);
                req(errs, "azureFile", "shareName", &a.share_name);
            }
        }
        "azureDisk" => {
            if let Some(a) = &v.azure_disk {
                req(errs, "azureDisk", "diskName", &a.disk_name);
                req(errs, "azureDisk", "diskURI", &a.disk_uri);
            }
        }
        "vsphereVolume" => {
            if let Some(a) = &v.vsphere_volume {
                req(errs, "vsphereVolume", "volumePath", &a.volume_path);
            }
        }
        "photonPersistentDisk" => {
            if let Some(a) = &v.photon_persistent_disk {
                req(errs, "photonPersistentDisk", "pdID", &a.pd_id);
            }
        }
        "portworxVolume" => {
            if let Some(a) = &v.portworx_volume {
                req(errs, "portworxVolume", "volumeID", &a.volume_id);
            }
        }
        "scaleIO" => {
            if let Some(a) = &v.scale_io {
                req(errs, "scaleIO", "gateway", &a.gateway);
                req(errs, "scaleIO", "system", &a.system);
                req(errs, "scaleIO", "volumeName", s(&a.volume_name));
            }
        }
        "storageos" => {
            if let Some(a) = &v.storageos {
                let name = s(&a.volume_name);
                if name.is_empty() {
                    errs.required(&path.child("storageos").child("volumeName"), "");
                } else {
                    errs.invalid_each(
                        &path.child("storageos").child("volumeName"),
                        name,
                        dns1123_label(name),
                    );
                }
            }
        }
        "quobyte" => {
            if let Some(q) = &v.quobyte {
                if q.registry.is_empty() {
                    errs.required(
                        &path.child("quobyte").child("registry"),
                        "must be a host:port pair or multiple pairs separated by commas",
                    );
                }
                req(errs, "quobyte", "volume", &q.volume);
            }
        }
        "flocker" => {
            if let Some(f) = &v.flocker {
                let (name, uuid) = (s(&f.dataset_name), s(&f.dataset_uuid));
                if name.is_empty() && uuid.is_empty() {
                    errs.required(
                        &path.child("flocker"),
                        "one of datasetName and datasetUUID is required",
                    );
                }
                if !name.is_empty() && !uuid.is_empty() {
                    errs.invalid(
                        &path.child("flocker"),
                        "resource",
                        "datasetName and datasetUUID can not be specified simultaneously",
                    );
                }
            }
        }
        "fc" => {
            if let Some(fc) = &v.fc {
                let wwns = fc.target_wwns.as_ref().map_or(0, Vec::len);
                let wwids = fc.wwids.as_ref().map_or(0, Vec::len);
                if wwns == 0 && wwids == 0 {
                    errs.required(
                        &path.child("fc").child("targetWWNs"),
                        "must specify either targetWWNs or wwids, but not both",
                    );
                }
            }
        }
        "image" => {
            if let Some(img) = &v.image {
                pull_policy(
                    errs,
                    &path.child("image").child("pullPolicy"),
                    s(&img.pull_policy),
                );
            }
        }
        _ => {}
    }
}

fn partition(errs: &mut Errors, path: &Path, p: Option<i32>) {
    if let Some(p) = p
        && !(0..=255).contains(&p)
    {
        errs.invalid(&path.child("partition"), p, checks::inclusive_range(1, 255));
    }
}

// ------------------------------------------------------------- containers

fn containers(errs: &mut Errors, path: &Path, spec: &api::PodSpec, ctx: &Ctx<'_>) {
    if spec.containers.is_empty() {
        errs.required(path, "");
        return;
    }
    let mut names = BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let p = path.index(i);
        container_common(errs, &p, c, ctx);
        if !names.insert(c.name.as_str()) {
            errs.duplicate(&p.child("name"), c.name.as_str());
        }
        if let Some(l) = &c.lifecycle {
            lifecycle(errs, &p.child("lifecycle"), l, ctx.grace);
        }
        probes(errs, &p, c, ctx.grace);
        if c.restart_policy.is_some() {
            errs.forbidden(
                &p.child("restartPolicy"),
                "may not be set for non-init containers",
            );
        }
    }
    host_port_conflicts(errs, path, spec.containers.iter().enumerate());
}

fn init_containers(errs: &mut Errors, path: &Path, spec: &api::PodSpec, ctx: &Ctx<'_>) {
    let mut names: BTreeSet<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let p = path.index(i);
        container_common(errs, &p, c, ctx);
        let mut restart_always = false;
        if let Some(rp) = &c.restart_policy {
            if rp != "Always" {
                errs.not_supported(&p.child("restartPolicy"), rp.as_str(), &["Always"]);
            }
            restart_always = rp == "Always";
        }
        if names.contains(c.name.as_str()) {
            errs.duplicate(&p.child("name"), c.name.as_str());
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        host_port_conflicts(errs, path, std::iter::once((i, c)));
        if restart_always {
            if let Some(l) = &c.lifecycle {
                lifecycle(errs, &p.child("lifecycle"), l, ctx.grace);
            }
            probes(errs, &p, c, ctx.grace);
        } else {
            let msg = "may not be set for init containers without restartPolicy=Always";
            for (field, set) in [
                ("lifecycle", c.lifecycle.is_some()),
                ("livenessProbe", c.liveness_probe.is_some()),
                ("readinessProbe", c.readiness_probe.is_some()),
                ("startupProbe", c.startup_probe.is_some()),
            ] {
                if set {
                    errs.forbidden(&p.child(field), msg);
                }
            }
        }
    }
}

fn ephemeral_containers(errs: &mut Errors, path: &Path, spec: &api::PodSpec, ctx: &Ctx<'_>) {
    let Some(ecs) = &spec.ephemeral_containers else {
        return;
    };
    let others: BTreeSet<&str> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .map(|c| c.name.as_str())
        .collect();
    let mut all = others.clone();
    for (i, ec) in ecs.iter().enumerate() {
        let p = path.index(i);
        let c = ephemeral_as_container(ec);
        container_common(errs, &p, &c, ctx);
        image_whitespace(errs, &p, &c);
        if !all.insert(ec.name.as_str()) {
            errs.duplicate(&p.child("name"), ec.name.as_str());
        }
        let target = s(&ec.target_container_name);
        if !target.is_empty() && !others.contains(target) {
            errs.not_found(&p.child("targetContainerName"), target);
        }
        let msg = "cannot be set for an Ephemeral Container";
        for (field, set) in [
            ("ports", ec.ports.is_some()),
            (
                "resources",
                ec.resources
                    .as_ref()
                    .is_some_and(|r| *r != Default::default()),
            ),
            ("resizePolicy", ec.resize_policy.is_some()),
            ("lifecycle", ec.lifecycle.is_some()),
            ("livenessProbe", ec.liveness_probe.is_some()),
            ("readinessProbe", ec.readiness_probe.is_some()),
            ("startupProbe", ec.startup_probe.is_some()),
            ("restartPolicy", ec.restart_policy.is_some()),
        ] {
            if set {
                errs.forbidden(&p.child(field), msg);
            }
        }
        for (j, vm) in ec.volume_mounts.iter().flatten().enumerate() {
            let vp = p.child("volumeMounts").index(j);
            if !s(&vm.sub_path).is_empty() {
                errs.forbidden(&vp.child("subPath"), msg);
            }
            if !s(&vm.sub_path_expr).is_empty() {
                errs.forbidden(&vp.child("subPathExpr"), msg);
            }
        }
    }
}

/// `image` may not have surrounding whitespace in Pods (templates allow it).
pub fn image_whitespace(errs: &mut Errors, path: &Path, c: &api::Container) {
    let image = s(&c.image);
    if image.trim() != image {
        errs.invalid(
            &path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        );
    }
}

fn container_common(errs: &mut Errors, path: &Path, c: &api::Container, ctx: &Ctx<'_>) {
    if c.name.is_empty() {
        errs.required(&path.child("name"), "");
    } else {
        errs.invalid_each(&path.child("name"), &c.name, dns1123_label(&c.name));
    }
    if s(&c.image).is_empty() {
        errs.required(&path.child("image"), "");
    }
    let tmp = s(&c.termination_message_policy);
    match tmp {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.required(&path.child("terminationMessagePolicy"), ""),
        _ => errs.not_supported(
            &path.child("terminationMessagePolicy"),
            tmp,
            &["File", "FallbackToLogsOnError"],
        ),
    }
    container_ports(
        errs,
        &path.child("ports"),
        c.ports.as_deref().unwrap_or_default(),
    );
    env(
        errs,
        &path.child("env"),
        c.env.as_deref().unwrap_or_default(),
    );
    env_from(
        errs,
        &path.child("envFrom"),
        c.env_from.as_deref().unwrap_or_default(),
    );
    volume_mounts(errs, &path.child("volumeMounts"), c, ctx.vols);
    volume_devices(errs, &path.child("volumeDevices"), c, ctx.vols);
    pull_policy(
        errs,
        &path.child("imagePullPolicy"),
        s(&c.image_pull_policy),
    );
    let res = c.resources.clone().unwrap_or_default();
    resources(errs, &path.child("resources"), &res, ctx.claims);
    resize_policy(errs, &path.child("resizePolicy"), c, ctx.restart_policy);
    if let Some(sc) = &c.security_context {
        security_context(errs, &path.child("securityContext"), sc, ctx.host_users);
    }
}

fn container_ports(errs: &mut Errors, path: &Path, ports: &[api::ContainerPort]) {
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = s(&port.name);
        if !name.is_empty() {
            let msgs = checks::port_name(name);
            if !msgs.is_empty() {
                errs.invalid_each(&p.child("name"), name, msgs);
            } else if !names.insert(name) {
                errs.duplicate(&p.child("name"), name);
            }
        }
        if port.container_port == 0 {
            errs.required(&p.child("containerPort"), "");
        } else {
            let cp = i64::from(port.container_port);
            errs.invalid_each_value(&p.child("containerPort"), cp, checks::port_num(cp));
        }
        let hp = i64::from(port.host_port.unwrap_or(0));
        if hp != 0 {
            errs.invalid_each_value(&p.child("hostPort"), hp, checks::port_num(hp));
        }
        protocol(errs, &p.child("protocol"), s(&port.protocol));
    }
}

/// `protocol`: required, one of TCP, UDP, SCTP.
pub fn protocol(errs: &mut Errors, path: &Path, v: &str) {
    match v {
        "TCP" | "UDP" | "SCTP" => {}
        "" => errs.required(path, ""),
        _ => errs.not_supported(path, v, &["SCTP", "TCP", "UDP"]),
    }
}

fn env(errs: &mut Errors, path: &Path, vars: &[api::EnvVar]) {
    for (i, ev) in vars.iter().enumerate() {
        let p = path.index(i);
        if ev.name.is_empty() {
            errs.required(&p.child("name"), "");
        } else {
            errs.invalid_each(&p.child("name"), &ev.name, checks::env_var_name(&ev.name));
        }
        let Some(vf) = &ev.value_from else { continue };
        let vp = p.child("valueFrom");
        let mut n = 0;
        if let Some(fr) = &vf.field_ref {
            n += 1;
            object_field_selector(errs, &vp.child("fieldRef"), fr, ENV_FIELD_PATHS);
        }
        if let Some(rfr) = &vf.resource_field_ref {
            n += 1;
            resource_field_selector(errs, &vp.child("resourceFieldRef"), rfr, false);
        }
        if let Some(k) = &vf.config_map_key_ref {
            n += 1;
            key_selector(errs, &vp.child("configMapKeyRef"), &k.name, &k.key);
        }
        if let Some(k) = &vf.secret_key_ref {
            n += 1;
            key_selector(errs, &vp.child("secretKeyRef"), &k.name, &k.key);
        }
        if n == 0 {
            errs.invalid(
                &vp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            );
        } else if !s(&ev.value).is_empty() {
            errs.invalid(&vp, "", "may not be specified when `value` is not empty");
        } else if n > 1 {
            errs.invalid(
                &vp,
                "",
                "may not have more than one field specified at a time",
            );
        }
    }
}

fn key_selector(errs: &mut Errors, path: &Path, name: &str, key: &str) {
    errs.invalid_each(&path.child("name"), name, dns1123_subdomain(name));
    if key.is_empty() {
        errs.required(&path.child("key"), "");
    } else {
        errs.invalid_each(&path.child("key"), key, checks::config_map_key(key));
    }
}

fn env_from(errs: &mut Errors, path: &Path, sources: &[api::EnvFromSource]) {
    for (i, ev) in sources.iter().enumerate() {
        let p = path.index(i);
        let prefix = s(&ev.prefix);
        if !prefix.is_empty() {
            errs.invalid_each(&p.child("prefix"), prefix, checks::env_var_name(prefix));
        }
        let mut n = 0;
        for (field, name) in [
            (
                "configMapRef",
                ev.config_map_ref.as_ref().map(|r| r.name.as_str()),
            ),
            ("secretRef", ev.secret_ref.as_ref().map(|r| r.name.as_str())),
        ] {
            let Some(name) = name else { continue };
            n += 1;
            let np = p.child(field).child("name");
            if name.is_empty() {
                errs.required(&np, "");
            } else {
                errs.invalid_each(&np, name, dns1123_subdomain(&mask_trailing_dash(name)));
            }
        }
        if n == 0 {
            errs.invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            );
        } else if n > 1 {
            errs.invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            );
        }
    }
}

fn volume_mounts(errs: &mut Errors, path: &Path, c: &api::Container, vols: &Volumes<'_>) {
    let devices: BTreeMap<&str, &str> = c
        .volume_devices
        .iter()
        .flatten()
        .map(|d| (d.name.as_str(), d.device_path.as_str()))
        .collect();
    let privileged = c
        .security_context
        .as_ref()
        .and_then(|sc| sc.privileged)
        .unwrap_or(false);
    let mut mount_points = BTreeSet::new();
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let p = path.index(i);
        if m.name.is_empty() {
            errs.required(&p.child("name"), "");
        }
        if !vols.contains_key(&m.name) {
            errs.not_found(&p.child("name"), m.name.as_str());
        }
        if m.mount_path.is_empty() {
            errs.required(&p.child("mountPath"), "");
        }
        if !mount_points.insert(m.mount_path.as_str()) {
            errs.invalid(
                &p.child("mountPath"),
                m.mount_path.as_str(),
                "must be unique",
            );
        }
        if devices.contains_key(m.name.as_str()) {
            errs.invalid(
                &p.child("name"),
                m.name.as_str(),
                "must not already exist in volumeDevices",
            );
        }
        if devices.values().any(|d| *d == m.mount_path) {
            errs.invalid(
                &p.child("mountPath"),
                m.mount_path.as_str(),
                "must not already exist as a path in volumeDevices",
            );
        }
        let sub_path = s(&m.sub_path);
        let sub_path_expr = s(&m.sub_path_expr);
        if vols.get(&m.name).is_some_and(|v| v.image.is_some()) {
            if !sub_path.is_empty() {
                errs.invalid(
                    &p.child("subPath"),
                    sub_path,
                    "not allowed in image volume sources",
                );
            }
            if !sub_path_expr.is_empty() {
                errs.invalid(
                    &p.child("subPathExpr"),
                    sub_path_expr,
                    "not allowed in image volume sources",
                );
            }
        }
        if !sub_path.is_empty() {
            checks::local_descending_path(errs, &path.child("subPath"), sub_path);
        }
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.invalid(
                    &p.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                );
            }
            checks::local_descending_path(errs, &path.child("subPathExpr"), sub_path_expr);
        }
        if let Some(mp) = &m.mount_propagation {
            let pp = path.child("mountPropagation");
            const MODES: &[&str] = &["Bidirectional", "HostToContainer", "None"];
            if !MODES.contains(&mp.as_str()) {
                errs.not_supported(&pp, mp.as_str(), MODES);
            }
            if mp == "Bidirectional" && !privileged {
                errs.forbidden(
                    &pp,
                    "Bidirectional mount propagation is available only to privileged containers",
                );
            }
        }
        recursive_read_only(errs, &path.child("recursiveReadOnly"), m);
    }
}

fn recursive_read_only(errs: &mut Errors, path: &Path, m: &api::VolumeMount) {
    let Some(rro) = &m.recursive_read_only else {
        return;
    };
    match rro.as_str() {
        "Disabled" => {}
        "Enabled" | "IfPossible" => {
            if m.read_only != Some(true) {
                errs.forbidden(path, "may only be specified when readOnly is true");
            }
            if m.mount_propagation.as_deref().is_some_and(|p| p != "None") {
                errs.forbidden(
                    path,
                    "may only be specified when mountPropagation is None or not specified",
                );
            }
        }
        other => errs.not_supported(path, other, &["Disabled", "Enabled", "IfPossible"]),
    }
}

fn volume_devices(errs: &mut Errors, path: &Path, c: &api::Container, vols: &Volumes<'_>) {
    let mounts: BTreeMap<&str, &str> = c
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    let mut paths = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, d) in c.volume_devices.iter().flatten().enumerate() {
        let p = path.index(i);
        let matched = vols.get(&d.name);
        let is_pvc =
            matched.is_some_and(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some());
        if d.name.is_empty() {
            errs.required(&p.child("name"), "");
        }
        if names.contains(d.name.as_str()) {
            errs.invalid(&p.child("name"), d.name.as_str(), "must be unique");
        }
        if matched.is_some() && !is_pvc {
            errs.invalid(
                &p.child("name"),
                d.name.as_str(),
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            );
        }
        if matched.is_none() {
            errs.not_found(&p.child("name"), d.name.as_str());
        }
        if d.device_path.is_empty() {
            errs.required(&p.child("devicePath"), "");
        }
        if paths.contains(d.device_path.as_str()) {
            errs.invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "must be unique",
            );
        }
        if !d.device_path.is_empty() && d.device_path.split('/').any(|e| e == "..") {
            errs.invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "can not contain backsteps ('..')",
            );
        } else {
            paths.insert(d.device_path.as_str());
        }
        if mounts.contains_key(d.name.as_str()) {
            errs.invalid(
                &p.child("name"),
                d.name.as_str(),
                "must not already exist in volumeMounts",
            );
        }
        if mounts.values().any(|m| *m == d.device_path) {
            errs.invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "must not already exist as a path in volumeMounts",
            );
        }
        if !d.name.is_empty() {
            names.insert(d.name.as_str());
        }
    }
}

/// `imagePullPolicy`: required, one of Always, IfNotPresent, Never.
pub fn pull_policy(errs: &mut Errors, path: &Path, v: &str) {
    match v {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.required(path, ""),
        _ => errs.not_supported(path, v, &["Always", "IfNotPresent", "Never"]),
    }
}

fn huge_page_size(name: &str) -> Option<Quantity> {
    let size = name
        .strip_prefix("hugepages-")
        .or_else(|| name.strip_prefix("requests.hugepages-"))?;
    Quantity::parse(size).ok()
}

fn huge_pages_value(errs: &mut Errors, path: &Path, name: &str, q: &Quantity) {
    let Some(size) = huge_page_size(name) else {
        return;
    };
    let divisible = !size.is_zero() && q.nanos() % size.nanos() == 0 && !q.is_negative();
    if !divisible {
        let text = checks::quantity_text(q);
        errs.invalid(
            path,
            text.as_str(),
            format!("{text} is not positive integer multiple of {name}"),
        );
    }
}

/// Validate container resource requirements (`ValidateContainerResourceRequirements`).
pub fn resources(
    errs: &mut Errors,
    path: &Path,
    r: &api::ResourceRequirements,
    claims: &BTreeSet<&str>,
) {
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let mut lim_cpu_mem = false;
    let mut req_cpu_mem = false;
    let mut huge = false;
    let mut limits: BTreeMap<&str, Quantity> = BTreeMap::new();
    for (name, q) in r.limits.iter().flatten() {
        let p = lim_path.key(name);
        checks::container_resource_name(errs, &p, name);
        let Some(q) = checks::quantity(errs, &p, q) else {
            continue;
        };
        checks::resource_quantity_value(errs, &p, name, &q);
        if checks::is_huge_pages(name) {
            huge = true;
            huge_pages_value(errs, &p, name, &q);
        }
        if name == "cpu" || name == "memory" {
            lim_cpu_mem = true;
        }
        limits.insert(name.as_str(), q);
    }
    for (name, q) in r.requests.iter().flatten() {
        let p = req_path.key(name);
        checks::container_resource_name(errs, &p, name);
        let Some(q) = checks::quantity(errs, &p, q) else {
            continue;
        };
        checks::resource_quantity_value(errs, &p, name, &q);
        let text = checks::quantity_text(&q);
        match limits.get(name.as_str()) {
            Some(limit) if q != *limit && !checks::is_overcommit_allowed(name) => errs.invalid(
                &req_path,
                text,
                format!("must be equal to {name} limit of {limit}"),
            ),
            Some(limit) if q > *limit => errs.invalid(
                &req_path,
                text,
                format!("must be less than or equal to {name} limit of {limit}"),
            ),
            Some(_) => {}
            None if !checks::is_overcommit_allowed(name) => errs.required(
                &lim_path,
                "Limit must be set for non overcommitable resources",
            ),
            None => {}
        }
        if checks::is_huge_pages(name) {
            huge = true;
            huge_pages_value(errs, &p, name, &q);
        }
        if name == "cpu" || name == "memory" {
            req_cpu_mem = true;
        }
    }
    if !lim_cpu_mem && !req_cpu_mem && huge {
        errs.forbidden(path, "HugePages require cpu or memory");
    }
    resource_claim_names(errs, &path.child("claims"), r, claims);
}

fn resource_claim_names(
    errs: &mut Errors,
    path: &Path,
    r: &api::ResourceRequirements,
    claims: &BTreeSet<&str>,
) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (i, c) in r.claims.iter().flatten().enumerate() {
        let p = path.index(i);
        if c.name.is_empty() {
            errs.required(&p, "");
            continue;
        }
        let request = s(&c.request);
        let key = if request.is_empty() {
            c.name.clone()
        } else {
            errs.invalid_each(&p.child("request"), request, dns1123_label(request));
            format!("{}/{request}", c.name)
        };
        if !seen.insert(key.clone()) {
            errs.duplicate(&p, key.as_str());
        }
        if !claims.contains(c.name.as_str()) {
            let detail = if claims.is_empty() {
                "must be one of the names in pod.spec.resourceClaims which is empty".to_owned()
            } else {
                let names: Vec<&str> = claims.iter().copied().collect();
                format!(
                    "must be one of the names in pod.spec.resourceClaims: {}",
                    names.join(", ")
                )
            };
            errs.0.push(super::FieldError {
                kind: super::ErrorType::NotFound,
                field: p.as_str().to_owned(),
                value: Some(c.name.clone().into()),
                detail,
            });
        }
    }
}

fn resource_claims(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    let mut names = BTreeSet::new();
    for (i, c) in spec.resource_claims.iter().flatten().enumerate() {
        let p = path.index(i);
        if c.name.is_empty() {
            errs.required(&p.child("name"), "");
        } else if !names.insert(c.name.as_str()) {
            errs.duplicate(&p.child("name"), c.name.as_str());
        } else {
            errs.invalid_each(&p.child("name"), &c.name, dns1123_label(&c.name));
        }
        match (&c.resource_claim_name, &c.resource_claim_template_name) {
            (Some(_), Some(_)) => errs.invalid_raw(
                &p,
                "core.PodResourceClaim{...}",
                "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified",
            ),
            (None, None) => errs.invalid_raw(
                &p,
                "core.PodResourceClaim{...}",
                "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
            ),
            _ => {}
        }
        for (field, v) in [
            ("resourceClaimName", &c.resource_claim_name),
            ("resourceClaimTemplateName", &c.resource_claim_template_name),
        ] {
            if let Some(v) = v {
                errs.invalid_each(&p.child(field), v, dns1123_subdomain(v));
            }
        }
    }
}

fn resize_policy(errs: &mut Errors, path: &Path, c: &api::Container, pod_restart: &str) {
    let mut seen = BTreeSet::new();
    for (i, rp) in c.resize_policy.iter().flatten().enumerate() {
        if !seen.insert(rp.resource_name.as_str()) {
            errs.duplicate(&path.index(i), rp.resource_name.as_str());
        }
        match rp.resource_name.as_str() {
            "cpu" | "memory" => {}
            "" => errs.required(path, ""),
            other => errs.not_supported(path, other, &["cpu", "memory"]),
        }
        match rp.restart_policy.as_str() {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.required(path, ""),
            other => errs.not_supported(path, other, &["NotRequired", "RestartContainer"]),
        }
        if pod_restart == "Never" && rp.restart_policy != "NotRequired" {
            errs.invalid(
                path,
                rp.restart_policy.as_str(),
                "must be 'NotRequired' when `restartPolicy` is 'Never'",
            );
        }
    }
}

fn security_context(errs: &mut Errors, path: &Path, sc: &api::SecurityContext, host_users: bool) {
    if let Some(u) = sc.run_as_user {
        checks::user_or_group_id(errs, &path.child("runAsUser"), u);
    }
    if let Some(g) = sc.run_as_group {
        checks::user_or_group_id(errs, &path.child("runAsGroup"), g);
    }
    if let Some(pm) = &sc.proc_mount {
        if pm != "Default" && pm != "Unmasked" {
            errs.not_supported(
                &path.child("procMount"),
                pm.as_str(),
                &["Default", "Unmasked"],
            );
        }
        if host_users && pm == "Unmasked" {
            errs.invalid(
                &path.child("procMount"),
                pm.as_str(),
                "`hostUsers` must be false to use `Unmasked`",
            );
        }
    }
    if let Some(sp) = &sc.seccomp_profile {
        seccomp_profile(errs, &path.child("seccompProfile"), sp);
    }
    if sc.allow_privilege_escalation == Some(false) {
        if sc.privileged == Some(true) {
            errs.invalid_raw(
                path,
                "core.SecurityContext{...}",
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            );
        }
        let adds = sc.capabilities.as_ref().and_then(|c| c.add.as_ref());
        for cap in adds.into_iter().flatten() {
            if cap == "CAP_SYS_ADMIN" {
                errs.invalid_raw(
                    path,
                    "core.SecurityContext{...}",
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                );
            }
        }
    }
    if let Some(w) = &sc.windows_options {
        windows_options(errs, &path.child("windowsOptions"), w);
    }
    if let Some(a) = &sc.app_armor_profile {
        app_armor_profile(errs, &path.child("appArmorProfile"), a);
    }
}

fn seccomp_profile(errs: &mut Errors, path: &Path, sp: &api::SeccompProfile) {
    match sp.type_.as_str() {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.required(
            &path.child("type"),
            "type is required when seccompProfile is set",
        ),
        other => errs.not_supported(
            &path.child("type"),
            other,
            &["Localhost", "RuntimeDefault", "Unconfined"],
        ),
    }
    if sp.type_ == "Localhost" {
        match &sp.localhost_profile {
            None => errs.required(
                &path.child("localhostProfile"),
                "must be set when seccomp type is Localhost",
            ),
            Some(p) => checks::local_descending_path(errs, &path.child("localhostProfile"), p),
        }
    } else if sp.localhost_profile.is_some() {
        errs.invalid_raw(
            &path.child("localhostProfile"),
            "core.SeccompProfile{...}",
            "can only be set when seccomp type is Localhost",
        );
    }
}

fn app_armor_profile(errs: &mut Errors, path: &Path, a: &api::AppArmorProfile) {
    match a.type_.as_str() {
        "Localhost" => match &a.localhost_profile {
            None => errs.required(
                &path.child("localhostProfile"),
                "must be set when AppArmor type is Localhost",
            ),
            Some(p) => {
                if p.trim() != p {
                    errs.invalid(
                        &path.child("localhostProfile"),
                        p.as_str(),
                        "must not be padded with whitespace",
                    );
                } else if p.is_empty() {
                    errs.required(
                        &path.child("localhostProfile"),
                        "must be set when AppArmor type is Localhost",
                    );
                }
                if p.len() > 4095 {
                    errs.too_long(&path.child("localhostProfile"), 4095);
                }
            }
        },
        "RuntimeDefault" | "Unconfined" => {
            if let Some(p) = &a.localhost_profile {
                errs.invalid(
                    &path.child("localhostProfile"),
                    p.as_str(),
                    "can only be set when AppArmor type is Localhost",
                );
            }
        }
        "" => errs.required(
            &path.child("type"),
            "type is required when appArmorProfile is set",
        ),
        other => errs.not_supported(
            &path.child("type"),
            other,
            &["Localhost", "RuntimeDefault", "Unconfined"],
        ),
    }
}

fn windows_options(errs: &mut Errors, path: &Path, w: &api::WindowsSecurityContextOptions) {
    if let Some(n) = &w.gmsa_credential_spec_name {
        errs.invalid_each(
            &path.child("gmsaCredentialSpecName"),
            n,
            dns1123_subdomain(n),
        );
    }
    if let Some(spec) = &w.gmsa_credential_spec {
        if spec.is_empty() {
            errs.invalid(
                &path.child("gmsaCredentialSpec"),
                spec.as_str(),
                "gmsaCredentialSpec cannot be an empty string",
            );
        } else if spec.len() > 64 * 1024 {
            errs.invalid(
                &path.child("gmsaCredentialSpec"),
                spec.as_str(),
                "gmsaCredentialSpec size must be under 64 KiB",
            );
        }
    }
    if let Some(u) = &w.run_as_user_name {
        if u.is_empty() {
            errs.invalid(
                &path.child("runAsUserName"),
                u.as_str(),
                "runAsUserName cannot be an empty string",
            );
        } else if u.chars().any(char::is_control) {
            errs.invalid(
                &path.child("runAsUserName"),
                u.as_str(),
                "runAsUserName cannot contain control characters",
            );
        } else if u.matches('\\').count() > 1 {
            errs.invalid(
                &path.child("runAsUserName"),
                u.as_str(),
                "runAsUserName cannot contain more than one backslash",
            );
        }
    }
}

fn probes(errs: &mut Errors, path: &Path, c: &api::Container, grace: Option<i64>) {
    if let Some(p) = &c.liveness_probe {
        let pp = path.child("livenessProbe");
        probe(errs, &pp, p, grace);
        if p.success_threshold.unwrap_or(0) != 1 {
            errs.invalid(
                &pp.child("successThreshold"),
                p.success_threshold.unwrap_or(0),
                "must be 1",
            );
        }
    }
    if let Some(p) = &c.readiness_probe {
        let pp = path.child("readinessProbe");
        probe(errs, &pp, p, grace);
        if let Some(t) = p.termination_grace_period_seconds {
            errs.invalid(
                &pp.child("terminationGracePeriodSeconds"),
                t,
                "must not be set for readinessProbes",
            );
        }
    }
    if let Some(p) = &c.startup_probe {
        let pp = path.child("startupProbe");
        probe(errs, &pp, p, grace);
        if p.success_threshold.unwrap_or(0) != 1 {
            errs.invalid(
                &pp.child("successThreshold"),
                p.success_threshold.unwrap_or(0),
                "must be 1",
            );
        }
    }
}

fn probe(errs: &mut Errors, path: &Path, p: &api::Probe, grace: Option<i64>) {
    let h = Handler {
        exec: p.exec.as_ref(),
        http_get: p.http_get.as_ref(),
        tcp_socket: p.tcp_socket.as_ref(),
        grpc: p.grpc.as_ref(),
        sleep: None,
    };
    handler(errs, path, &h, grace);
    for (field, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        checks::non_negative(errs, &path.child(field), i64::from(v.unwrap_or(0)));
    }
    if let Some(t) = p.termination_grace_period_seconds
        && t <= 0
    {
        errs.invalid(
            &path.child("terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        );
    }
}

struct Handler<'a> {
    exec: Option<&'a api::ExecAction>,
    http_get: Option<&'a api::HTTPGetAction>,
    tcp_socket: Option<&'a api::TCPSocketAction>,
    grpc: Option<&'a api::GRPCAction>,
    sleep: Option<&'a api::SleepAction>,
}

fn handler(errs: &mut Errors, path: &Path, h: &Handler<'_>, grace: Option<i64>) {
    let mut n = 0;
    let mut one = |errs: &mut Errors, field: &str| -> bool {
        if n > 0 {
            errs.forbidden(
                &path.child(field),
                "may not specify more than 1 handler type",
            );
            false
        } else {
            n += 1;
            true
        }
    };
    if let Some(e) = h.exec
        && one(errs, "exec")
        && e.command.as_ref().is_none_or(Vec::is_empty)
    {
        errs.required(&path.child("exec").child("command"), "");
    }
    if let Some(g) = h.http_get
        && one(errs, "httpGet")
    {
        http_get(errs, &path.child("httpGet"), g);
    }
    if let Some(t) = h.tcp_socket
        && one(errs, "tcpSocket")
    {
        checks::port_num_or_name(errs, &path.child("tcpSocket").child("port"), &t.port);
    }
    if let Some(g) = h.grpc
        && one(errs, "grpc")
    {
        let port = i64::from(g.port);
        errs.invalid_each_value(
            &path.child("grpc").child("port"),
            port,
            checks::port_num(port),
        );
    }
    if let Some(sl) = h.sleep
        && one(errs, "sleep")
        && let Some(grace) = grace
        && (sl.seconds <= 0 || sl.seconds > grace)
    {
        errs.invalid(
                        &path.child("sleep"),
                        sl.seconds,
                        format!("must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."),
                    );
    }
    if n == 0 {
        errs.required(path, "must specify a handler type");
    }
}

fn http_get(errs: &mut Errors, path: &Path, g: &api::HTTPGetAction) {
    if s(&g.path).is_empty() {
        errs.required(&path.child("path"), "");
    }
    checks::port_num_or_name(errs, &path.child("port"), &g.port);
    let scheme = s(&g.scheme);
    if scheme != "HTTP" && scheme != "HTTPS" {
        errs.not_supported(&path.child("scheme"), scheme, &["HTTP", "HTTPS"]);
    }
    for h in g.http_headers.iter().flatten() {
        errs.invalid_each(
            &path.child("httpHeaders"),
            &h.name,
            checks::http_header_name(&h.name),
        );
    }
}

fn lifecycle(errs: &mut Errors, path: &Path, l: &api::Lifecycle, grace: Option<i64>) {
    for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        let Some(h) = h else { continue };
        let handler_of = Handler {
            exec: h.exec.as_ref(),
            http_get: h.http_get.as_ref(),
            tcp_socket: h.tcp_socket.as_ref(),
            grpc: None,
            sleep: h.sleep.as_ref(),
        };
        handler(errs, &path.child(field), &handler_of, grace);
    }
}

fn host_port_conflicts<'a>(
    errs: &mut Errors,
    path: &Path,
    containers: impl Iterator<Item = (usize, &'a api::Container)>,
) {
    let mut seen = BTreeSet::new();
    for (ci, c) in containers {
        for (pi, port) in c.ports.iter().flatten().enumerate() {
            let hp = port.host_port.unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{hp}", s(&port.protocol), s(&port.host_ip));
            if !seen.insert(key.clone()) {
                let p = path.index(ci).child("ports").index(pi).child("hostPort");
                errs.duplicate(&p, key);
            }
        }
    }
}

fn host_network_deps(errs: &mut Errors, path: &Path, spec: &api::PodSpec, opts: PodOpts) {
    if spec.host_network != Some(true) {
        return;
    }
    for (i, c) in spec.containers.iter().enumerate() {
        for (j, port) in c.ports.iter().flatten().enumerate() {
            let hp = port.host_port.unwrap_or(0);
            if (opts.is_pod || hp != 0) && hp != port.container_port {
                errs.invalid(
                    &path
                        .child("containers")
                        .index(i)
                        .child("ports")
                        .index(j)
                        .child("hostPort"),
                    hp,
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }
}

fn host_users_deps(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    if spec.host_users != Some(false) {
        return;
    }
    let msg = "when `pod.Spec.HostUsers` is false";
    if spec.host_network == Some(true) {
        errs.forbidden(&path.child("hostNetwork"), msg);
    }
    if spec.host_pid == Some(true) {
        errs.forbidden(&path.child("HostPID"), msg);
    }
    if spec.host_ipc == Some(true) {
        errs.forbidden(&path.child("HostIPC"), msg);
    }
}

fn pod_security_context(errs: &mut Errors, spec_path: &Path, spec: &api::PodSpec) {
    let Some(sc) = &spec.security_context else {
        return;
    };
    let path = spec_path.child("securityContext");
    if let Some(g) = sc.fs_group {
        checks::user_or_group_id(errs, &path.child("fsGroup"), g);
    }
    if let Some(u) = sc.run_as_user {
        checks::user_or_group_id(errs, &path.child("runAsUser"), u);
    }
    if let Some(g) = sc.run_as_group {
        checks::user_or_group_id(errs, &path.child("runAsGroup"), g);
    }
    for (i, g) in sc.supplemental_groups.iter().flatten().enumerate() {
        checks::user_or_group_id(errs, &path.child("supplementalGroups").index(i), *g);
    }
    if spec.share_process_namespace == Some(true) && spec.host_pid == Some(true) {
        errs.invalid(
            &path.child("shareProcessNamespace"),
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        );
    }
    sysctls(errs, &path.child("sysctls"), spec, sc);
    if let Some(p) = &sc.fs_group_change_policy
        && p != "OnRootMismatch"
        && p != "Always"
    {
        errs.not_supported(
            &path.child("fsGroupChangePolicy"),
            p.as_str(),
            &["Always", "OnRootMismatch"],
        );
    }
    if let Some(sp) = &sc.seccomp_profile {
        seccomp_profile(errs, &path.child("seccompProfile"), sp);
    }
    if let Some(w) = &sc.windows_options {
        windows_options(errs, &path.child("windowsOptions"), w);
    }
    if let Some(a) = &sc.app_armor_profile {
        app_armor_profile(errs, &path.child("appArmorProfile"), a);
    }
    if let Some(p) = &sc.supplemental_groups_policy
        && p != "Merge"
        && p != "Strict"
    {
        errs.not_supported(
            &path.child("supplementalGroupsPolicy"),
            p.as_str(),
            &["Merge", "Strict"],
        );
    }
    if let Some(p) = &sc.se_linux_change_policy
        && p != "Recursive"
        && p != "MountOption"
    {
        errs.not_supported(
            &path.child("seLinuxChangePolicy"),
            p.as_str(),
            &["MountOption", "Recursive"],
        );
    }
}

fn is_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    name.split(['.', '/']).all(|seg| {
        let b = seg.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
    })
}

fn sysctls(errs: &mut Errors, path: &Path, spec: &api::PodSpec, sc: &api::PodSecurityContext) {
    let mut names = BTreeSet::new();
    for (i, sysctl) in sc.sysctls.iter().flatten().enumerate() {
        let p = path.index(i).child("name");
        let name = sysctl.name.as_str();
        if name.is_empty() {
            errs.required(&p, "");
        } else if !is_sysctl_name(name) {
            errs.invalid(
                &p,
                name,
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            );
        } else if names.contains(name) {
            errs.duplicate(&p, name);
        }
        let net = name.starts_with("net.");
        let ipc = name.starts_with("kernel.shm")
            || name.starts_with("kernel.msg")
            || name == "kernel.sem"
            || name.starts_with("fs.mqueue.");
        if spec.host_network == Some(true) && net {
            errs.invalid(&p, name, "may not be specified when 'hostNetwork' is true");
        } else if spec.host_ipc == Some(true) && ipc {
            errs.invalid(&p, name, "may not be specified when 'hostIPC' is true");
        }
        names.insert(name);
    }
}

// ------------------------------------------------------------- scheduling

fn affinity(errs: &mut Errors, path: &Path, a: &api::Affinity) {
    if let Some(na) = &a.node_affinity {
        let p = path.child("nodeAffinity");
        if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
            node_selector(
                errs,
                &p.child("requiredDuringSchedulingIgnoredDuringExecution"),
                req,
                false,
            );
        }
        for (i, t) in na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let tp = p
                .child("preferredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            if !(1..=100).contains(&t.weight) {
                errs.invalid(&tp.child("weight"), t.weight, "must be in the range 1-100");
            }
            node_selector_term(errs, &tp.child("preference"), &t.preference, true);
        }
    }
    let pod_terms = [
        (
            "podAffinity",
            a.pod_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
        (
            "podAntiAffinity",
            a.pod_anti_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
    ];
    for (field, terms) in pod_terms {
        let Some((required, preferred)) = terms else {
            continue;
        };
        let p = path.child(field);
        for (i, t) in required.iter().flatten().enumerate() {
            pod_affinity_term(
                errs,
                &p.child("requiredDuringSchedulingIgnoredDuringExecution")
                    .index(i),
                t,
            );
        }
        for (i, w) in preferred.iter().flatten().enumerate() {
            let wp = p
                .child("preferredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            if !(1..=100).contains(&w.weight) {
                errs.invalid(&wp.child("weight"), w.weight, "must be in the range 1-100");
            }
            pod_affinity_term(errs, &wp.child("podAffinityTerm"), &w.pod_affinity_term);
        }
    }
}

/// Validate a node selector (`ValidateNodeSelector`).
pub fn node_selector(
    errs: &mut Errors,
    path: &Path,
    ns: &api::NodeSelector,
    allow_invalid_values: bool,
) {
    let tp = path.child("nodeSelectorTerms");
    if ns.node_selector_terms.is_empty() {
        errs.required(&tp, "must have at least one node selector term");
        return;
    }
    for (i, t) in ns.node_selector_terms.iter().enumerate() {
        node_selector_term(errs, &tp.index(i), t, allow_invalid_values);
    }
}

fn node_selector_term(
    errs: &mut Errors,
    path: &Path,
    t: &api::NodeSelectorTerm,
    allow_invalid_values: bool,
) {
    for (j, r) in t.match_expressions.iter().flatten().enumerate() {
        node_selector_requirement(
            errs,
            &path.child("matchExpressions").index(j),
            r,
            allow_invalid_values,
        );
    }
    for (j, r) in t.match_fields.iter().flatten().enumerate() {
        let p = path.child("matchFields").index(j);
        let n = r.values.as_ref().map_or(0, Vec::len);
        match r.operator.as_str() {
            "In" | "NotIn" if n != 1 => errs.required(
                &p.child("values"),
                "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
            ),
            "In" | "NotIn" => {}
            op => errs.invalid(&p.child("operator"), op, "not a valid selector operator"),
        }
        if r.key != "metadata.name" {
            errs.invalid(
                &p.child("key"),
                r.key.as_str(),
                "not a valid field selector key",
            );
        } else {
            for (k, v) in r.values.iter().flatten().enumerate() {
                errs.invalid_each(&p.child("values").index(k), v, dns1123_subdomain(v));
            }
        }
    }
}

fn node_selector_requirement(
    errs: &mut Errors,
    path: &Path,
    r: &api::NodeSelectorRequirement,
    allow_invalid_values: bool,
) {
    let n = r.values.as_ref().map_or(0, Vec::len);
    match r.operator.as_str() {
        "In" | "NotIn" if n == 0 => errs.required(
            &path.child("values"),
            "must be specified when `operator` is 'In' or 'NotIn'",
        ),
        "Exists" | "DoesNotExist" if n > 0 => errs.forbidden(
            &path.child("values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ),
        "Gt" | "Lt" if n != 1 => errs.required(
            &path.child("values"),
            "must be specified single value when `operator` is 'Lt' or 'Gt'",
        ),
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        op => errs.invalid(&path.child("operator"), op, "not a valid selector operator"),
    }
    checks::label_name(errs, &path.child("key"), &r.key);
    if !allow_invalid_values {
        for (i, v) in r.values.iter().flatten().enumerate() {
            errs.invalid_each(&path.child("values").index(i), v, label_value(v));
        }
    }
}

fn pod_affinity_term(errs: &mut Errors, path: &Path, t: &api::PodAffinityTerm) {
    checks::label_selector(
        errs,
        &path.child("labelSelector"),
        t.label_selector.as_ref(),
    );
    checks::label_selector(
        errs,
        &path.child("namespaceSelector"),
        t.namespace_selector.as_ref(),
    );
    for ns in t.namespaces.iter().flatten() {
        errs.invalid_each(&path.child("namespace"), ns, dns1123_label(ns));
    }
    match_label_keys(errs, path, t);
    if t.topology_key.is_empty() {
        errs.required(&path.child("topologyKey"), "can not be empty");
    }
    checks::label_name(errs, &path.child("topologyKey"), &t.topology_key);
}

fn match_label_keys(errs: &mut Errors, path: &Path, t: &api::PodAffinityTerm) {
    let sel = t.label_selector.as_ref();
    let keys = |errs: &mut Errors, field: &str, list: &Option<Vec<String>>| {
        let list = list.as_deref().unwrap_or_default();
        if list.is_empty() {
            return;
        }
        let p = path.child(field);
        if sel.is_none() {
            errs.forbidden(&p, "must not be specified when labelSelector is not set");
            return;
        }
        for (i, k) in list.iter().enumerate() {
            checks::label_name(errs, &p.index(i), k);
        }
    };
    keys(errs, "matchLabelKeys", &t.match_label_keys);
    keys(errs, "mismatchLabelKeys", &t.mismatch_label_keys);
    let match_keys = t.match_label_keys.as_deref().unwrap_or_default();
    if let Some(sel) = sel {
        let mut seen: BTreeSet<&str> = sel
            .match_labels
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        for e in sel.match_expressions.iter().flatten() {
            if let Some(i) = match_keys.iter().position(|k| *k == e.key)
                && seen.contains(e.key.as_str())
            {
                errs.invalid(
                    &path.index(i),
                    e.key.as_str(),
                    "exists in both matchLabelKeys and labelSelector",
                );
            }
            seen.insert(e.key.as_str());
        }
    }
    let mismatch: BTreeSet<&str> = t
        .mismatch_label_keys
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    for (i, k) in match_keys.iter().enumerate() {
        if mismatch.contains(k.as_str()) {
            errs.invalid(
                &path.child("matchLabelKeys").index(i),
                k.as_str(),
                "exists in both matchLabelKeys and mismatchLabelKeys",
            );
        }
    }
}

fn dns_config(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    let policy = s(&spec.dns_policy);
    if policy == "None" {
        match &spec.dns_config {
            None => {
                errs.required(path, "must provide `dnsConfig` when `dnsPolicy` is None");
                return;
            }
            Some(c) if c.nameservers.as_ref().is_none_or(Vec::is_empty) => {
                errs.required(
                    &path.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                );
                return;
            }
            _ => {}
        }
    }
    let Some(c) = &spec.dns_config else { return };
    let ns = c.nameservers.as_deref().unwrap_or_default();
    if ns.len() > 3 {
        errs.invalid_raw(
            &path.child("nameservers"),
            go::string_slice(Some(ns)),
            "must not have more than 3 nameservers",
        );
    }
    for (i, n) in ns.iter().enumerate() {
        checks::ip_address(errs, &path.child("nameservers").index(i), n);
    }
    let searches = c.searches.as_deref().unwrap_or_default();
    if searches.len() > 32 {
        errs.invalid_raw(
            &path.child("searches"),
            go::string_slice(Some(searches)),
            "must not have more than 32 search paths",
        );
    }
    if searches.join(" ").len() > 2048 {
        errs.invalid_raw(
            &path.child("searches"),
            go::string_slice(Some(searches)),
            "must not have more than 2048 characters (including spaces) in the search list",
        );
    }
    for (i, sp) in searches.iter().enumerate() {
        let trimmed = sp.strip_suffix('.').unwrap_or(sp);
        errs.invalid_each(
            &path.child("searches").index(i),
            trimmed,
            dns1123_subdomain(trimmed),
        );
    }
    for (i, o) in c.options.iter().flatten().enumerate() {
        if s(&o.name).is_empty() {
            errs.required(&path.child("options").index(i), "must not be empty");
        }
    }
}

fn scheduling_gates(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    let mut seen = BTreeSet::new();
    for (i, g) in spec.scheduling_gates.iter().flatten().enumerate() {
        errs.invalid_each(&path.index(i), &g.name, qualified_name(&g.name));
        if !seen.insert(g.name.as_str()) {
            errs.duplicate(&path.index(i), g.name.as_str());
        }
    }
}

fn topology_spread(errs: &mut Errors, path: &Path, spec: &api::PodSpec) {
    let constraints = spec
        .topology_spread_constraints
        .as_deref()
        .unwrap_or_default();
    for (i, c) in constraints.iter().enumerate() {
        let p = path.index(i);
        if c.max_skew <= 0 {
            errs.invalid(&p.child("maxSkew"), c.max_skew, "must be greater than zero");
        }
        if c.topology_key.is_empty() {
            errs.required(&p.child("topologyKey"), "can not be empty");
        }
        if c.when_unsatisfiable != "DoNotSchedule" && c.when_unsatisfiable != "ScheduleAnyway" {
            errs.not_supported(
                &p.child("whenUnsatisfiable"),
                c.when_unsatisfiable.as_str(),
                &["DoNotSchedule", "ScheduleAnyway"],
            );
        }
        let repeated = constraints[i + 1..].iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            errs.duplicate(
                &p.child("{topologyKey, whenUnsatisfiable}"),
                format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable),
            );
        }
        if let Some(md) = c.min_domains {
            if md <= 0 {
                errs.invalid(&p.child("minDomains"), md, "must be greater than zero");
            }
            if c.when_unsatisfiable != "DoNotSchedule" {
                errs.invalid(
                    &p.child("minDomains"),
                    md,
                    format!(
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}",
                        c.when_unsatisfiable
                    ),
                );
            }
        }
        for (field, v) in [
            ("nodeAffinityPolicy", &c.node_affinity_policy),
            ("nodeTaintsPolicy", &c.node_taints_policy),
        ] {
            if let Some(v) = v
                && v != "Honor"
                && v != "Ignore"
            {
                errs.not_supported(&p.child(field), v.as_str(), &["Honor", "Ignore"]);
            }
        }
        spread_match_label_keys(errs, &p.child("matchLabelKeys"), c);
        checks::label_selector(errs, &p.child("labelSelector"), c.label_selector.as_ref());
    }
}

fn spread_match_label_keys(errs: &mut Errors, path: &Path, c: &api::TopologySpreadConstraint) {
    let keys = c.match_label_keys.as_deref().unwrap_or_default();
    if keys.is_empty() {
        return;
    }
    let sel_keys: BTreeSet<&str> = match &c.label_selector {
        Some(LabelSelector {
            match_labels,
            match_expressions,
        }) => match_labels
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .chain(match_expressions.iter().flatten().map(|e| e.key.as_str()))
            .collect(),
        None => {
            errs.forbidden(path, "must not be specified when labelSelector is not set");
            BTreeSet::new()
        }
    };
    for (i, k) in keys.iter().enumerate() {
        checks::label_name(errs, &path.index(i), k);
        if sel_keys.contains(k.as_str()) {
            errs.invalid(
                &path.index(i),
                k.as_str(),
                "exists in both matchLabelKeys and labelSelector",
            );
        }
    }
}

/// Validate tolerations (`ValidateTolerations`).
pub fn tolerations(errs: &mut Errors, path: &Path, tols: &[api::Toleration]) {
    for (i, t) in tols.iter().enumerate() {
        let p = path.index(i);
        let key = s(&t.key);
        let op = s(&t.operator);
        let effect = s(&t.effect);
        let value = s(&t.value);
        if !key.is_empty() {
            checks::label_name(errs, &p.child("key"), key);
        }
        if key.is_empty() && op != "Exists" {
            errs.invalid(
                &p.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.invalid(
                &p.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
        match op {
            "Equal" | "" => {
                let msgs = label_value(value);
                if !msgs.is_empty() {
                    errs.invalid(&p.child("operator"), value, msgs.join(";"));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.invalid(
                        &p.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    );
                }
            }
            _ => errs.not_supported(&p.child("operator"), op, &["Equal", "Exists"]),
        }
        if !effect.is_empty() {
            taint_effect(errs, &p.child("effect"), effect, true);
        }
    }
}

/// Validate a taint effect.
pub fn taint_effect(errs: &mut Errors, path: &Path, effect: &str, allow_empty: bool) {
    if !allow_empty && effect.is_empty() {
        errs.required(path, "");
        return;
    }
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        errs.not_supported(
            path,
            effect,
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        );
    }
}

// ------------------------------------------------------------------- pods

/// Validate a Pod's spec and the checks upstream makes for Pods only (not
/// templates), on create and update.
pub fn pod(errs: &mut Errors, pod: &api::Pod) {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    pod_specific_annotations(
        errs,
        &Path::new("metadata").child("annotations"),
        meta.annotations.as_ref(),
        &spec,
    );
    pod_spec(errs, &sp, &spec, Some(meta), PodOpts { is_pod: true });
    if s(&spec.service_account_name).is_empty() {
        for (vi, v) in spec.volumes.iter().flatten().enumerate() {
            let Some(pr) = &v.projected else { continue };
            for (si, src) in pr.sources.iter().flatten().enumerate() {
                if src.service_account_token.is_some() {
                    let p = sp
                        .child("volumes")
                        .index(vi)
                        .child("projected")
                        .child("sources")
                        .index(si)
                        .child("serviceAccountToken");
                    errs.forbidden(
                        &p,
                        "must not be specified when serviceAccountName is not set",
                    );
                }
            }
        }
    }
    for (i, c) in spec.containers.iter().enumerate() {
        image_whitespace(errs, &sp.child("containers").index(i), c);
    }
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        image_whitespace(errs, &sp.child("initContainers").index(i), c);
    }
}

/// The checks upstream makes only when a Pod is created.
pub fn pod_create(errs: &mut Errors, pod: &api::Pod) {
    let spec = pod.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.forbidden(&sp.child("ephemeralContainers"), "cannot be set on create");
    }
    if !s(&spec.node_name).is_empty()
        && spec
            .scheduling_gates
            .as_ref()
            .is_some_and(|g| !g.is_empty())
    {
        errs.forbidden(
            &sp.child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        );
    }
}

const UPDATABLE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Validate what a Pod update changes (`ValidatePodUpdate`).
pub fn pod_update(errs: &mut Errors, new: &api::Pod, old: &api::Pod) {
    let new_spec = new.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    for (field, n, o) in [
        (
            "containers",
            Some(&new_spec.containers),
            Some(&old_spec.containers),
        ),
        (
            "initContainers",
            new_spec.init_containers.as_ref(),
            old_spec.init_containers.as_ref(),
        ),
    ] {
        let (n, o) = (n.map_or(0, Vec::len), o.map_or(0, Vec::len));
        if n != o {
            errs.forbidden(
                &sp.child(field),
                "pod updates may not add or remove containers",
            );
            return;
        }
    }
    for (i, c) in new_spec.containers.iter().enumerate() {
        if s(&c.image).is_empty() {
            errs.required(&sp.child("containers").index(i).child("image"), "");
        }
    }
    for (i, c) in new_spec.init_containers.iter().flatten().enumerate() {
        if s(&c.image).is_empty() {
            errs.required(&sp.child("initContainers").index(i).child("image"), "");
        }
    }
    if !active_deadline_update(errs, &sp, &new_spec, &old_spec) {
        return;
    }
    tolerations_update(errs, &sp.child("tolerations"), &new_spec, &old_spec);
    scheduling_gates_update(errs, &sp.child("schedulingGates"), &new_spec, &old_spec);
    if new_spec == old_spec {
        return;
    }
    let mut munged = new_spec.clone();
    for (c, o) in munged.containers.iter_mut().zip(&old_spec.containers) {
        c.image = o.image.clone();
    }
    if let (Some(n), Some(o)) = (
        munged.init_containers.as_mut(),
        old_spec.init_containers.as_ref(),
    ) {
        for (c, o) in n.iter_mut().zip(o) {
            c.image = o.image.clone();
        }
    }
    munged.active_deadline_seconds = old_spec.active_deadline_seconds;
    munged.scheduling_gates = old_spec.scheduling_gates.clone();
    munged.tolerations = old_spec.tolerations.clone();
    if old_spec
        .termination_grace_period_seconds
        .is_some_and(|g| g < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old_spec.termination_grace_period_seconds;
    }
    if old_spec
        .scheduling_gates
        .as_ref()
        .is_some_and(|g| !g.is_empty())
    {
        gated_pod_mutations(errs, &sp, &mut munged, &old_spec);
    }
    if munged != old_spec {
        errs.forbidden(
            &sp,
            format!("{UPDATABLE}\n{}", spec_diff(&old_spec, &munged)),
        );
    }
}

fn active_deadline_update(
    errs: &mut Errors,
    sp: &Path,
    new: &api::PodSpec,
    old: &api::PodSpec,
) -> bool {
    let p = sp.child("activeDeadlineSeconds");
    match (new.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(n), _) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            errs.invalid(&p, n, checks::inclusive_range(0, i64::from(i32::MAX)));
            false
        }
        (Some(n), Some(o)) if o < n => {
            errs.invalid(&p, n, "must be less than or equal to previous value");
            false
        }
        (None, Some(_)) => {
            errs.invalid(
                &p,
                serde_json::Value::Null,
                "must not update from a positive integer to nil value",
            );
            true
        }
        _ => true,
    }
}

fn tolerations_update(errs: &mut Errors, path: &Path, new: &api::PodSpec, old: &api::PodSpec) {
    let new_tols = new.tolerations.as_deref().unwrap_or_default();
    for o in old.tolerations.iter().flatten() {
        let found = new_tols.iter().any(|n| {
            let mut o = o.clone();
            o.toleration_seconds = n.toleration_seconds;
            o == *n
        });
        if !found {
            errs.forbidden(
                path,
                "existing toleration can not be modified except its tolerationSeconds",
            );
            return;
        }
    }
    tolerations(errs, path, new_tols);
}

fn scheduling_gates_update(errs: &mut Errors, path: &Path, new: &api::PodSpec, old: &api::PodSpec) {
    let old_names: BTreeSet<&str> = old
        .scheduling_gates
        .iter()
        .flatten()
        .map(|g| g.name.as_str())
        .collect();
    for (i, g) in new.scheduling_gates.iter().flatten().enumerate() {
        if !old_names.contains(g.name.as_str()) {
            errs.forbidden(
                &path.index(i).child("name"),
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    g.name
                ),
            );
        }
    }
}

fn gated_pod_mutations(
    errs: &mut Errors,
    sp: &Path,
    munged: &mut api::PodSpec,
    old: &api::PodSpec,
) {
    if munged.node_selector != old.node_selector {
        let changed = old
            .node_selector
            .iter()
            .flatten()
            .any(|(k, v)| munged.node_selector.as_ref().and_then(|m| m.get(k)) != Some(v));
        if changed {
            errs.invalid_raw(
                &sp.child("nodeSelector"),
                go::string_map(munged.node_selector.as_ref()),
                "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
            );
        }
        munged.node_selector = old.node_selector.clone();
    }
    let old_na = old.affinity.as_ref().and_then(|a| a.node_affinity.clone());
    let new_na = munged
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.clone());
    if old_na != new_na {
        match (&mut munged.affinity, &old_na) {
            (None, None) => {}
            (None, Some(na)) => {
                munged.affinity = Some(api::Affinity {
                    node_affinity: Some(na.clone()),
                    ..Default::default()
                })
            }
            (Some(a), _)
                if old.affinity.is_none()
                    && a.pod_affinity.is_none()
                    && a.pod_anti_affinity.is_none() =>
            {
                munged.affinity = None;
            }
            (Some(a), _) => a.node_affinity = old_na.clone(),
        }
    }
}

/// A short description of what differs between two pod specs (upstream
/// appends a go-cmp diff, which is not reproducible).
fn spec_diff(old: &api::PodSpec, new: &api::PodSpec) -> String {
    let o = serde_json::to_value(old).unwrap_or_default();
    let n = serde_json::to_value(new).unwrap_or_default();
    let mut lines = vec!["  core.PodSpec{".to_owned()];
    let keys: BTreeSet<&String> = o
        .as_object()
        .into_iter()
        .flatten()
        .chain(n.as_object().into_iter().flatten())
        .map(|(k, _)| k)
        .collect();
    for k in keys {
        let (ov, nv) = (o.get(k.as_str()), n.get(k.as_str()));
        if ov != nv {
            if let Some(v) = ov {
                lines.push(format!("- \t{k}: {v},"));
            }
            if let Some(v) = nv {
                lines.push(format!("+ \t{k}: {v},"));
            }
        }
    }
    lines.push("  }".into());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(mut p: api::Pod) -> Vec<String> {
        crate::defaults::pod::pod(&mut p);
        let mut errs = Errors::default();
        pod(&mut errs, &p);
        pod_create(&mut errs, &p);
        errs.0.iter().map(ToString::to_string).collect()
    }

    fn with(c: api::Container) -> api::Pod {
        api::Pod {
            spec: Some(api::PodSpec {
                containers: vec![c],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn container(name: &str, image: &str) -> api::Container {
        api::Container {
            name: name.into(),
            image: Some(image.into()),
            ..Default::default()
        }
    }

    #[test]
    fn pod_without_containers() {
        assert_eq!(
            validate(api::Pod::default()),
            vec!["spec.containers: Required value"]
        );
    }

    #[test]
    fn container_name_and_image() {
        assert_eq!(
            validate(with(container("", ""))),
            vec![
                "spec.containers[0].name: Required value",
                "spec.containers[0].image: Required value",
            ]
        );
        let mut p = with(container("a", "nginx"));
        p.spec
            .as_mut()
            .unwrap()
            .containers
            .push(container("a", "nginx"));
        assert_eq!(
            validate(p),
            vec![r#"spec.containers[1].name: Duplicate value: "a""#]
        );
        assert_eq!(
            validate(with(container("a", " nginx"))),
            vec![
                r#"spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace"#
            ]
        );
    }

    #[test]
    fn restart_policy_and_pull_policy() {
        let mut p = with(container("a", "nginx"));
        p.spec.as_mut().unwrap().restart_policy = Some("Foo".into());
        p.spec.as_mut().unwrap().containers[0].image_pull_policy = Some("Sometimes".into());
        assert_eq!(
            validate(p),
            vec![
                r#"spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never""#,
                r#"spec.restartPolicy: Unsupported value: "Foo": supported values: "Always", "OnFailure", "Never""#,
            ]
        );
    }

    #[test]
    fn bad_quantities_and_ports() {
        let mut c = container("a", "nginx");
        c.resources = Some(api::ResourceRequirements {
            limits: Some(
                [(
                    "cpu".to_string(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity("abc".into()),
                )]
                .into(),
            ),
            requests: Some(
                [(
                    "memory".to_string(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity("-1".into()),
                )]
                .into(),
            ),
            ..Default::default()
        });
        c.ports = Some(vec![api::ContainerPort {
            container_port: 70000,
            name: Some("HTTP".into()),
            ..Default::default()
        }]);
        assert_eq!(
            validate(with(c)),
            vec![
                r#"spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
                r#"spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at least one letter (a-z)"#,
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                r#"spec.containers[0].resources.limits[cpu]: Invalid value: "abc": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#,
                r#"spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0"#,
            ]
        );
    }

    #[test]
    fn requests_above_limits() {
        let q = |s: &str| k8s_openapi::apimachinery::pkg::api::resource::Quantity(s.into());
        let mut c = container("a", "nginx");
        c.resources = Some(api::ResourceRequirements {
            limits: Some([("cpu".to_string(), q("1"))].into()),
            requests: Some([("cpu".to_string(), q("2"))].into()),
            ..Default::default()
        });
        assert_eq!(
            validate(with(c)),
            vec![
                r#"spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1"#
            ]
        );
    }

    #[test]
    fn template_labels_and_probes() {
        let mut c = container("a", "nginx");
        c.liveness_probe = Some(api::Probe::default());
        let mut t = api::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("a".to_string(), "-x".to_string())].into()),
                ..Default::default()
            }),
            spec: Some(api::PodSpec {
                containers: vec![c],
                ..Default::default()
            }),
        };
        crate::defaults::pod::pod_template_spec(&mut t);
        let mut errs = Errors::default();
        pod_template_spec(&mut errs, &Path::new("spec").child("template"), &t);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].starts_with(r#"spec.template.labels: Invalid value: "-x": a valid label"#));
        assert_eq!(
            msgs[1],
            "spec.template.spec.containers[0].livenessProbe: Required value: must specify a handler type"
        );
    }

    #[test]
    fn pod_update_rules() {
        let mut old = with(container("a", "nginx"));
        crate::defaults::pod::pod(&mut old);
        let mut new = old.clone();
        new.spec.as_mut().unwrap().containers[0].image = Some("nginx:2".into());
        let mut errs = Errors::default();
        pod_update(&mut errs, &new, &old);
        assert!(errs.is_empty(), "{:?}", errs.0);
        new.spec.as_mut().unwrap().restart_policy = Some("Never".into());
        pod_update(&mut errs, &new, &old);
        assert!(errs.0[0].to_string().starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"));
    }
}
