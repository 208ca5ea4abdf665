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

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::job(obj, errs)
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

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::batch::cron_job(obj, errs)
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
