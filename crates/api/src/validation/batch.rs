//! Validation of batch/v1 kinds, as upstream's.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::batch::v1 as api;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::checks::{self, IMMUTABLE};
use super::pod as podv;
use super::{Errors, Path, dns1123_label, go, qualified_name};

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// The labels the server puts on the pods of a Job with a generated
/// selector.
pub const LEGACY_CONTROLLER_UID: &str = "controller-uid";
/// See [`LEGACY_CONTROLLER_UID`].
pub const LEGACY_JOB_NAME: &str = "job-name";
/// See [`LEGACY_CONTROLLER_UID`].
pub const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
/// See [`LEGACY_CONTROLLER_UID`].
pub const JOB_NAME: &str = "batch.kubernetes.io/job-name";

fn has_label(errs: &mut Errors, path: &Path, meta: Option<&ObjectMeta>, key: &str, expected: &str) {
    let labels = meta.and_then(|m| m.labels.as_ref());
    let lp = path.child("labels").key(key);
    match labels.and_then(|l| l.get(key)) {
        None => errs.required(&lp, format!("must be '{expected}'")),
        Some(v) if v != expected => {
            errs.invalid_raw(&lp, go::string_map(labels), format!("must be '{expected}'"))
        }
        Some(_) => {}
    }
}

/// Upstream's `validateGeneratedSelector`: a Job whose selector the
/// server generated must carry the generated labels.
fn generated_selector(errs: &mut Errors, job: &api::Job, prefixed: bool) {
    let spec = job.spec.clone().unwrap_or_default();
    if spec.manual_selector == Some(true) {
        return;
    }
    let Some(sel) = &spec.selector else { return };
    let uid = job.metadata.uid.as_deref().unwrap_or("");
    let name = job.metadata.name.as_deref().unwrap_or("");
    if uid.is_empty() {
        errs.required(&Path::new("metadata").child("uid"), "");
    }
    let tp = Path::new("spec").child("template").child("metadata");
    let meta = spec.template.metadata.as_ref();
    has_label(errs, &tp, meta, LEGACY_CONTROLLER_UID, uid);
    has_label(errs, &tp, meta, LEGACY_JOB_NAME, name);
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    if prefixed {
        has_label(errs, &tp, meta, CONTROLLER_UID, uid);
        has_label(errs, &tp, meta, JOB_NAME, name);
        expected.insert(CONTROLLER_UID.into(), uid.into());
        expected.insert(JOB_NAME.into(), name.into());
    }
    expected.insert(LEGACY_CONTROLLER_UID.into(), uid.into());
    expected.insert(LEGACY_JOB_NAME.into(), name.into());
    if let Ok(selector) = checks::selector_of(Some(sel))
        && !checks::selector_matches(&selector, Some(&expected))
    {
        errs.invalid_raw(
            &Path::new("spec").child("selector"),
            go::label_selector(sel),
            "`selector` not auto-generated",
        );
    }
}

/// Validate a Job. `prefixed` requires the `batch.kubernetes.io/` labels
/// of generated selectors (always on create).
pub fn job_with(obj: &api::Job, errs: &mut Errors, prefixed: bool) {
    generated_selector(errs, obj, prefixed);
    let spec = obj.spec.clone().unwrap_or_default();
    job_spec_with_selector(errs, &Path::new("spec"), &spec);
    let completions = spec.completions.unwrap_or(0);
    if s(&spec.completion_mode) == "Indexed" && completions > 0 {
        let name = obj.metadata.name.as_deref().unwrap_or("");
        let host = format!("{name}-{}", completions - 1);
        if !dns1123_label(&host).is_empty() {
            errs.invalid(
                &Path::new("metadata").child("name"),
                name,
                format!("will not able to create pod with invalid DNS label: {host}"),
            );
        }
    }
}

/// Validate a Job.
pub fn job(obj: &api::Job, errs: &mut Errors) {
    job_with(obj, errs, has_prefixed_labels(obj));
}

/// Validate a new Job: its generated labels must use the prefixed keys.
pub fn job_create(obj: &api::Job, errs: &mut Errors) {
    job_with(obj, errs, true);
}

fn has_prefixed_labels(job: &api::Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .is_some_and(|l| l.contains_key(CONTROLLER_UID))
}

/// `ValidateJobSpec`: the spec plus a required selector matching the
/// template's labels.
fn job_spec_with_selector(errs: &mut Errors, sp: &Path, spec: &api::JobSpec) {
    job_spec(errs, sp, spec);
    match &spec.selector {
        None => errs.required(&sp.child("selector"), ""),
        Some(sel) => checks::label_selector(errs, &sp.child("selector"), Some(sel)),
    }
    if let Ok(sel) = checks::selector_of(spec.selector.as_ref()) {
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref());
        if !checks::selector_matches(&sel, labels) {
            errs.invalid_raw(
                &sp.child("template").child("metadata").child("labels"),
                go::string_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
}

/// `validateJobSpec` (shared by Jobs and CronJob job templates).
fn job_spec(errs: &mut Errors, sp: &Path, spec: &api::JobSpec) {
    let int = |v: Option<i32>| v.map(i64::from);
    for (field, v) in [
        ("parallelism", int(spec.parallelism)),
        ("completions", int(spec.completions)),
        ("activeDeadlineSeconds", spec.active_deadline_seconds),
        ("backoffLimit", int(spec.backoff_limit)),
        (
            "ttlSecondsAfterFinished",
            int(spec.ttl_seconds_after_finished),
        ),
        ("backoffLimitPerIndex", int(spec.backoff_limit_per_index)),
        ("maxFailedIndexes", int(spec.max_failed_indexes)),
    ] {
        checks::non_negative_opt(errs, &sp.child(field), v);
    }
    if spec.max_failed_indexes.is_some() && spec.backoff_limit_per_index.is_none() {
        errs.required(
            &sp.child("backoffLimitPerIndex"),
            "when maxFailedIndexes is specified",
        );
    }
    if let Some(m) = &spec.managed_by {
        checks::domain_prefixed_path(errs, &sp.child("managedBy"), m);
        if m.len() > 63 {
            errs.too_long(&sp.child("managedBy"), 63);
        }
    }
    completion_mode(errs, sp, spec);
    if spec.pod_failure_policy.is_some() {
        pod_failure_policy(errs, &sp.child("podFailurePolicy"), spec);
    }
    if let Some(sp_) = &spec.success_policy {
        if s(&spec.completion_mode) != "Indexed" {
            errs.invalid_raw(
                &sp.child("successPolicy"),
                "batch.SuccessPolicy{...}",
                "requires indexed completion mode",
            );
        } else if sp_.rules.is_empty() {
            errs.required(
                &sp.child("successPolicy").child("rules"),
                "at least one rules must be specified when the successPolicy is specified",
            );
        }
    }
    if let Some(prp) = &spec.pod_replacement_policy {
        let p = sp.child("podReplacementPolicy");
        if spec.pod_failure_policy.is_some() {
            if prp != "Failed" {
                errs.not_supported(&p, prp.as_str(), &["Failed"]);
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            errs.not_supported(&p, prp.as_str(), &["Failed", "TerminatingOrFailed"]);
        }
    }
    let tp = sp.child("template");
    podv::pod_template_spec(errs, &tp, &spec.template);
    let rp_path = tp.child("spec").child("restartPolicy");
    let rp = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("");
    match rp {
        "Always" | "" => errs.required(&rp_path, "valid values: \"OnFailure\", \"Never\""),
        "OnFailure" | "Never" => {
            if spec.pod_failure_policy.is_some() && rp != "Never" {
                errs.invalid(
                    &rp_path,
                    rp,
                    "only \"Never\" is supported when podFailurePolicy is specified",
                );
            }
        }
        other => errs.not_supported(&rp_path, other, &["OnFailure", "Never"]),
    }
}

fn completion_mode(errs: &mut Errors, sp: &Path, spec: &api::JobSpec) {
    let mode = s(&spec.completion_mode);
    if spec.completion_mode.is_some() {
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.not_supported(
                &sp.child("completionMode"),
                mode,
                &["NonIndexed", "Indexed"],
            );
        }
        if mode == "Indexed" {
            if spec.completions.is_none() {
                errs.required(&sp.child("completions"), "when completion mode is Indexed");
            }
            if let Some(p) = spec.parallelism
                && p > 100_000
            {
                errs.invalid(
                    &sp.child("parallelism"),
                    p,
                    "must be less than or equal to 100000 when completion mode is Indexed",
                );
            }
            if let (Some(c), Some(m)) = (spec.completions, spec.max_failed_indexes)
                && m > c
            {
                errs.invalid(
                    &sp.child("maxFailedIndexes"),
                    m,
                    "must be less than or equal to completions",
                );
            }
            if let Some(m) = spec.max_failed_indexes
                && m > 100_000
            {
                errs.invalid(
                    &sp.child("maxFailedIndexes"),
                    m,
                    "must be less than or equal to 100000",
                );
            }
        }
    }
    if mode.is_empty() || mode == "NonIndexed" {
        if let Some(b) = spec.backoff_limit_per_index {
            errs.invalid(
                &sp.child("backoffLimitPerIndex"),
                b,
                "requires indexed completion mode",
            );
        }
        if let Some(m) = spec.max_failed_indexes {
            errs.invalid(
                &sp.child("maxFailedIndexes"),
                m,
                "requires indexed completion mode",
            );
        }
    }
}

fn pod_failure_policy(errs: &mut Errors, path: &Path, spec: &api::JobSpec) {
    let Some(pfp) = &spec.pod_failure_policy else {
        return;
    };
    let rules_path = path.child("rules");
    if pfp.rules.len() > 20 {
        errs.too_many(&rules_path, pfp.rules.len(), 20);
    }
    let pod_spec = spec.template.spec.clone().unwrap_or_default();
    let names: BTreeSet<&str> = pod_spec
        .containers
        .iter()
        .chain(pod_spec.init_containers.iter().flatten())
        .map(|c| c.name.as_str())
        .collect();
    const ACTIONS: &[&str] = &["Count", "FailIndex", "FailJob", "Ignore"];
    for (i, rule) in pfp.rules.iter().enumerate() {
        let rp = rules_path.index(i);
        match rule.action.as_str() {
            "" => errs.required(
                &rp.child("action"),
                "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]",
            ),
            "FailIndex" if spec.backoff_limit_per_index.is_none() => errs.invalid(
                &rp.child("action"),
                "FailIndex",
                "requires the backoffLimitPerIndex to be set",
            ),
            a if !ACTIONS.contains(&a) => errs.not_supported(&rp.child("action"), a, ACTIONS),
            _ => {}
        }
        if let Some(ec) = &rule.on_exit_codes {
            on_exit_codes(errs, &rp.child("onExitCodes"), ec, &names);
        }
        let conds = rule.on_pod_conditions.as_deref().unwrap_or_default();
        for (j, c) in conds.iter().enumerate() {
            let cp = rp.child("onPodConditions").index(j);
            errs.invalid_each(&cp.child("type"), &c.type_, qualified_name(&c.type_));
            match c.status.as_str() {
                "" => errs.required(
                    &cp.child("status"),
                    "valid values: [\"False\" \"True\" \"Unknown\"]",
                ),
                "True" | "False" | "Unknown" => {}
                other => {
                    errs.not_supported(&cp.child("status"), other, &["False", "True", "Unknown"])
                }
            }
        }
        if rule.on_exit_codes.is_some() && !conds.is_empty() {
            errs.invalid_omit(
                &rp,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            );
        }
        if rule.on_exit_codes.is_none() && conds.is_empty() {
            errs.invalid_omit(
                &rp,
                "specifying one of OnExitCodes and OnPodConditions is required",
            );
        }
    }
}

fn on_exit_codes(
    errs: &mut Errors,
    path: &Path,
    ec: &api::PodFailurePolicyOnExitCodesRequirement,
    names: &BTreeSet<&str>,
) {
    match ec.operator.as_str() {
        "" => errs.required(&path.child("operator"), "valid values: [\"In\" \"NotIn\"]"),
        "In" | "NotIn" => {}
        other => errs.not_supported(&path.child("operator"), other, &["In", "NotIn"]),
    }
    if let Some(c) = &ec.container_name
        && !names.contains(c.as_str())
    {
        errs.invalid(
            &path.child("containerName"),
            c.as_str(),
            "must be one of the container or initContainer names in the pod template",
        );
    }
    let vp = path.child("values");
    if ec.values.is_empty() {
        errs.invalid_raw(
            &vp,
            go::int_slice(&ec.values),
            "at least one value is required",
        );
    } else if ec.values.len() > 255 {
        errs.too_many(&vp, ec.values.len(), 255);
    }
    let mut seen = BTreeSet::new();
    for (j, v) in ec.values.iter().enumerate() {
        if ec.operator == "In" && *v == 0 {
            errs.invalid(&vp.index(j), *v, "must not be 0 for the In operator");
        }
        if !seen.insert(*v) {
            errs.duplicate(&vp.index(j), *v);
        }
    }
    if ec.values.windows(2).any(|w| w[0] > w[1]) {
        errs.invalid_raw(&vp, go::int_slice(&ec.values), "must be ordered");
    }
}

fn job_template_is_mutable(new: &api::Job, old: &api::Job) -> bool {
    let suspended = new.spec.as_ref().and_then(|s| s.suspend) == Some(true);
    let not_started = old
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .is_none();
    suspended && not_started
}

/// Validate an update of a Job: selector, template, completion mode and
/// other fields are immutable.
pub fn job_update(new: &api::Job, old: &api::Job, errs: &mut Errors) {
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let indexed = s(&n.completion_mode) == "Indexed";
    if n.completions != o.completions {
        if !indexed {
            errs.invalid(
                &sp.child("completions"),
                checks::opt_value(n.completions),
                IMMUTABLE,
            );
        } else if let Some(c) = n.completions
            && Some(c) != n.parallelism
        {
            errs.invalid(
                &sp.child("completions"),
                c,
                "can only be modified in tandem with spec.parallelism",
            );
        }
    }
    if n.selector != o.selector {
        let shown = n
            .selector
            .as_ref()
            .map_or("null".into(), go::label_selector);
        errs.invalid_raw(&sp.child("selector"), shown, IMMUTABLE);
    }
    let mut old_template = o.template.clone();
    if job_template_is_mutable(new, old) {
        let (nt, ot) = (&n.template, &mut old_template);
        let (ns, os) = (
            nt.spec.clone().unwrap_or_default(),
            ot.spec.get_or_insert_with(Default::default),
        );
        match (&ns.affinity, os.affinity.as_mut()) {
            (None, Some(a)) => {
                a.node_affinity = None;
                if *a == Default::default() {
                    os.affinity = None;
                }
            }
            (Some(na), None) => {
                os.affinity = Some(k8s_openapi::api::core::v1::Affinity {
                    node_affinity: na.node_affinity.clone(),
                    ..Default::default()
                })
            }
            (Some(na), Some(a)) => a.node_affinity = na.node_affinity.clone(),
            (None, None) => {}
        }
        os.node_selector = ns.node_selector.clone();
        os.tolerations = ns.tolerations.clone();
        os.scheduling_gates = ns.scheduling_gates.clone();
        let om = ot.metadata.get_or_insert_with(Default::default);
        let nm = nt.metadata.clone().unwrap_or_default();
        om.annotations = nm.annotations;
        om.labels = nm.labels;
    }
    if n.template != old_template {
        errs.invalid_raw(
            &sp.child("template"),
            "core.PodTemplateSpec{...}",
            IMMUTABLE,
        );
    }
    for (field, nv, ov) in [
        (
            "completionMode",
            serde_json::to_value(&n.completion_mode),
            serde_json::to_value(&o.completion_mode),
        ),
        (
            "podFailurePolicy",
            serde_json::to_value(&n.pod_failure_policy),
            serde_json::to_value(&o.pod_failure_policy),
        ),
        (
            "backoffLimitPerIndex",
            serde_json::to_value(n.backoff_limit_per_index),
            serde_json::to_value(o.backoff_limit_per_index),
        ),
        (
            "managedBy",
            serde_json::to_value(&n.managed_by),
            serde_json::to_value(&o.managed_by),
        ),
        (
            "successPolicy",
            serde_json::to_value(&n.success_policy),
            serde_json::to_value(&o.success_policy),
        ),
    ] {
        let (nv, ov) = (nv.unwrap_or_default(), ov.unwrap_or_default());
        if nv != ov {
            errs.invalid(&sp.child(field), nv, IMMUTABLE);
        }
    }
}

// ---------------------------------------------------------------- cronjob

/// Validate a CronJob.
pub fn cron_job(obj: &api::CronJob, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    cron_job_spec(errs, &Path::new("spec"), &spec, None);
}

/// Validate a new CronJob: its name leaves room for the Jobs it makes.
pub fn cron_job_create(obj: &api::CronJob, errs: &mut Errors) {
    cron_job(obj, errs);
    let name = obj.metadata.name.as_deref().unwrap_or("");
    if name.len() > 52 {
        errs.invalid(
            &Path::new("metadata").child("name"),
            name,
            "must be no more than 52 characters",
        );
    }
}

fn cron_job_spec(
    errs: &mut Errors,
    sp: &Path,
    spec: &api::CronJobSpec,
    old: Option<&api::CronJobSpec>,
) {
    let schedule = spec.schedule.as_str();
    let schedule_path = sp.child("schedule");
    if schedule.is_empty() {
        errs.required(&schedule_path, "");
    } else {
        if let Err(e) = crate::cron::Schedule::check(schedule) {
            errs.invalid(&schedule_path, schedule, e);
        }
        let allow_tz = old.is_some_and(|o| o.schedule.contains("TZ"));
        if allow_tz && schedule.contains("TZ") && spec.time_zone.is_some() {
            errs.invalid(
                &schedule_path,
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            );
        } else if !allow_tz && schedule.contains("TZ") {
            errs.invalid(
                &schedule_path,
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            );
        }
    }
    checks::non_negative_opt(
        errs,
        &sp.child("startingDeadlineSeconds"),
        spec.starting_deadline_seconds,
    );
    if old.is_none_or(|o| o.time_zone != spec.time_zone) {
        time_zone(errs, &sp.child("timeZone"), spec.time_zone.as_deref());
    }
    match s(&spec.concurrency_policy) {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.required(&sp.child("concurrencyPolicy"), ""),
        other => errs.not_supported(
            &sp.child("concurrencyPolicy"),
            other,
            &["Allow", "Forbid", "Replace"],
        ),
    }
    let jt = sp.child("jobTemplate");
    let jspec = spec.job_template.spec.clone().unwrap_or_default();
    job_spec(errs, &jt.child("spec"), &jspec);
    if let Some(sel) = &jspec.selector {
        errs.invalid_raw(
            &jt.child("spec").child("selector"),
            go::label_selector(sel),
            "`selector` will be auto-generated",
        );
    }
    if jspec.manual_selector == Some(true) {
        errs.not_supported(
            &jt.child("spec").child("manualSelector"),
            true,
            &["nil", "false"],
        );
    }
    checks::non_negative_opt(
        errs,
        &sp.child("successfulJobsHistoryLimit"),
        spec.successful_jobs_history_limit,
    );
    checks::non_negative_opt(
        errs,
        &sp.child("failedJobsHistoryLimit"),
        spec.failed_jobs_history_limit,
    );
}

fn time_zone(errs: &mut Errors, path: &Path, tz: Option<&str>) {
    let Some(tz) = tz else { return };
    if tz.is_empty() {
        errs.invalid(path, tz, "timeZone must be nil or non-empty string");
        return;
    }
    let part_ok = |p: &str| {
        p != "."
            && p != ".."
            && !p.starts_with('-')
            && (1..=14).contains(&p.len())
            && p.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".-_+".contains(&c))
    };
    if !tz.split('/').all(part_ok) {
        errs.invalid(path, tz, format!("unknown time zone {tz}"));
        return;
    }
    if tz.eq_ignore_ascii_case("local") {
        errs.invalid(
            path,
            tz,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        );
    }
}

/// Validate an update of a CronJob (the spec is re-validated knowing the
/// old one, which allows `TZ=` in schedules that already had it).
pub fn cron_job_update(new: &api::CronJob, old: &api::CronJob, errs: &mut Errors) {
    // `cron_job` already validated the spec; only the TZ allowance differs.
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    if o.schedule.contains("TZ") && n.schedule.contains("TZ") {
        let msg = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead";
        errs.0
            .retain(|e| !(e.field == "spec.schedule" && e.detail == msg));
        if n.time_zone.is_some() {
            errs.invalid(
                &Path::new("spec").child("schedule"),
                n.schedule.as_str(),
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1 as core;

    fn job(restart: Option<&str>) -> api::Job {
        let mut j = api::Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(api::JobSpec {
                template: core::PodTemplateSpec {
                    metadata: None,
                    spec: Some(core::PodSpec {
                        containers: vec![core::Container {
                            name: "c".into(),
                            image: Some("perl".into()),
                            ..Default::default()
                        }],
                        restart_policy: restart.map(Into::into),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        crate::defaults::batch::job(&mut j);
        crate::kinds::batch::generate_selector(&mut j);
        j
    }

    #[test]
    fn job_restart_policy() {
        let mut errs = Errors::default();
        job_with(&job(Some("Never")), &mut errs, true);
        assert!(errs.is_empty(), "{:?}", errs.0);
        job_with(&job(None), &mut errs, true);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                r#"spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#
            ]
        );
    }

    #[test]
    fn cron_job_schedule_required() {
        let mut cj = api::CronJob {
            spec: Some(api::CronJobSpec {
                job_template: api::JobTemplateSpec {
                    metadata: None,
                    spec: Some(job(Some("OnFailure")).spec.unwrap()),
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        cj.spec
            .as_mut()
            .unwrap()
            .job_template
            .spec
            .as_mut()
            .unwrap()
            .selector = None;
        crate::defaults::batch::cron_job(&mut cj);
        let mut errs = Errors::default();
        cron_job(&cj, &mut errs);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(msgs, vec!["spec.schedule: Required value"]);
    }
}
