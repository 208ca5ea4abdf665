//! Validation of batch/v1 kinds, as upstream's.

use k8s_openapi::api::batch::v1 as api;

use super::Errors;

/// Validate a Job.
pub fn job(_obj: &api::Job, _errs: &mut Errors) {}

/// Validate an update of a Job.
pub fn job_update(_new: &api::Job, _old: &api::Job, _errs: &mut Errors) {}

/// Validate a CronJob.
pub fn cron_job(_obj: &api::CronJob, _errs: &mut Errors) {}

/// Validate an update of a CronJob.
pub fn cron_job_update(_new: &api::CronJob, _old: &api::CronJob, _errs: &mut Errors) {}
