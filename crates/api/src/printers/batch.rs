//! Tables of batch/v1 kinds, as upstream prints them.

use k8s_openapi::api::batch::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of Job.
pub const JOB: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Job.
pub fn job(obj: &api::Job, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of CronJob.
pub const CRON_JOB: &[Column] = DEFAULT_COLUMNS;

/// Cells of one CronJob.
pub fn cron_job(obj: &api::CronJob, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}
