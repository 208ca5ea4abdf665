//! batch/v1 kinds.

use k8s_openapi::api::batch::v1 as api;

use crate::registry::{ResourceInfo, SelectableField, Strategy};

/// Jobs.
pub struct Jobs;
impl Strategy for Jobs {
    type Object = api::Job;
    const INFO: ResourceInfo = ResourceInfo {
        categories: &["all"],
        status: true,
        generation: true,
        fields: &[SelectableField {
            label: "status.successful",
            pointer: "/status/succeeded",
            default: "0",
        }],
        ..ResourceInfo::new("batch", "v1", "Job", "jobs", "job")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::batch::job(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        generate_selector(obj);
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::job(obj, errs)
    }

    fn validate_create(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::job_create(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::batch::job_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::batch::JOB
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::batch::job(obj, now)
    }
}

/// Generate a Job's selector (unless `manualSelector`): the template gets
/// `controller-uid` / `job-name` labels (legacy and prefixed) and the
/// selector matches the prefixed uid label. As upstream's read-time
/// defaulting would, template labels then become the Job's labels when it
/// has none.
pub fn generate_selector(job: &mut api::Job) {
    use crate::validation::batch::{
        CONTROLLER_UID, JOB_NAME, LEGACY_CONTROLLER_UID, LEGACY_JOB_NAME,
    };
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else {
        return;
    };
    if spec.manual_selector == Some(true) {
        return;
    }
    let labels = spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    for (k, v) in [
        (LEGACY_CONTROLLER_UID, &uid),
        (CONTROLLER_UID, &uid),
        (LEGACY_JOB_NAME, &name),
        (JOB_NAME, &name),
    ] {
        labels.entry(k.into()).or_insert_with(|| v.clone());
    }
    let template_labels = labels.clone();
    let sel = spec.selector.get_or_insert_with(Default::default);
    sel.match_labels
        .get_or_insert_with(Default::default)
        .entry(CONTROLLER_UID.into())
        .or_insert(uid);
    if job.metadata.labels.as_ref().is_none_or(|l| l.is_empty()) {
        job.metadata.labels = Some(template_labels);
    }
}

/// CronJobs.
pub struct CronJobs;
impl Strategy for CronJobs {
    type Object = api::CronJob;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["cj"],
        categories: &["all"],
        status: true,
        generation: true,
        ..ResourceInfo::new("batch", "v1", "CronJob", "cronjobs", "cronjob")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::batch::cron_job(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::cron_job(obj, errs)
    }

    fn validate_create(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::cron_job_create(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::batch::cron_job_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::batch::CRON_JOB
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::batch::cron_job(obj, now)
    }
}
