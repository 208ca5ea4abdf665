//! Defaults of batch/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::batch::v1 as api;

/// Defaults of a Job.
pub fn job(_obj: &mut api::Job) {}

/// Defaults of a CronJob.
pub fn cron_job(_obj: &mut api::CronJob) {}
