//! Tables of batch/v1 kinds, as upstream prints them.

use k8s_openapi::api::batch::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{
    age_of, bool_ptr, format_label_selector, seconds_between, set_time, template_container_cells,
};
use crate::table::{AGE, Column, NAME, age_cell, col, human_duration, name_cell, wide};

/// Columns of Job.
pub const JOB: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col(
        "Completions",
        "string",
        "The desired number of successfully finished pods the job should be run with.",
    ),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    wide(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    wide(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

/// Whether the first condition of the given type is `True`.
fn has_condition(obj: &api::Job, type_: &str) -> bool {
    obj.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

/// Cells of one Job.
pub fn job(obj: &api::Job, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    let completions = match spec.and_then(|s| s.completions) {
        Some(c) => format!("{succeeded}/{c}"),
        None => match spec.and_then(|s| s.parallelism).unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = set_time(status.and_then(|s| s.start_time.as_ref()));
    let completion = set_time(status.and_then(|s| s.completion_time.as_ref()));
    let duration = match (start, completion) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(seconds_between(now, start.0)),
        (Some(start), Some(end)) => human_duration(seconds_between(end.0, start.0)),
    };
    let job_status = if has_condition(obj, "Complete") {
        "Complete"
    } else if has_condition(obj, "Failed") {
        "Failed"
    } else if obj.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_condition(obj, "Suspended") {
        "Suspended"
    } else if has_condition(obj, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = template_container_cells(spec.map(|s| &s.template));
    vec![
        name_cell(&obj.metadata),
        Value::from(job_status),
        Value::from(completions),
        Value::from(duration),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(
            spec.and_then(|s| s.selector.as_ref()),
        )),
    ]
}

/// Columns of CronJob.
pub const CRON_JOB: &[Column] = &[
    NAME,
    col(
        "Schedule",
        "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    col(
        "Timezone",
        "string",
        "The time zone name for the given schedule.",
    ),
    col(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions.",
    ),
    col(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    col(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    wide(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    wide(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

/// Cells of one CronJob.
pub fn cron_job(obj: &api::CronJob, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let last_schedule = match status.and_then(|s| s.last_schedule_time.as_ref()) {
        Some(t) => age_of(Some(t), now),
        None => "<none>".into(),
    };
    let job_spec = spec.and_then(|s| s.job_template.spec.as_ref());
    let (names, images) = template_container_cells(job_spec.map(|s| &s.template));
    vec![
        name_cell(&obj.metadata),
        Value::from(spec.map(|s| s.schedule.clone()).unwrap_or_default()),
        Value::from(
            spec.and_then(|s| s.time_zone.clone())
                .unwrap_or_else(|| "<none>".into()),
        ),
        // A string cell in a boolean column, as upstream.
        Value::from(bool_ptr(spec.and_then(|s| s.suspend))),
        Value::from(
            status
                .and_then(|s| s.active.as_ref())
                .map_or(0, |a| a.len()) as i64,
        ),
        Value::from(last_schedule),
        age_cell(&obj.metadata, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(
            job_spec.and_then(|s| s.selector.as_ref()),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ObjectReference, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn now() -> Timestamp {
        ts("2024-05-01T12:00:00Z")
    }

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(Time(ts("2024-05-01T11:55:00Z"))),
            ..Default::default()
        }
    }

    fn template() -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "pi".into(),
                    image: Some("perl:5.34".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    fn cond(type_: &str, status: &str) -> api::JobCondition {
        api::JobCondition {
            type_: type_.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    fn job_with(
        completions: Option<i32>,
        parallelism: Option<i32>,
        status: api::JobStatus,
    ) -> api::Job {
        api::Job {
            metadata: meta("pi"),
            spec: Some(api::JobSpec {
                completions,
                parallelism,
                selector: Some(LabelSelector {
                    match_labels: Some(
                        [(
                            "batch.kubernetes.io/controller-uid".to_string(),
                            "abc".to_string(),
                        )]
                        .into(),
                    ),
                    ..Default::default()
                }),
                template: template(),
                ..Default::default()
            }),
            status: Some(status),
        }
    }

    #[test]
    fn job_completions_duration_status() {
        let j = job_with(
            Some(3),
            Some(1),
            api::JobStatus {
                succeeded: Some(3),
                start_time: Some(Time(ts("2024-05-01T11:55:00Z"))),
                completion_time: Some(Time(ts("2024-05-01T11:55:42Z"))),
                conditions: Some(vec![cond("Complete", "True")]),
                ..Default::default()
            },
        );
        assert_eq!(
            job(&j, now()),
            vec![
                json!("pi"),
                json!("Complete"),
                json!("3/3"),
                json!("42s"),
                json!("5m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=abc"),
            ]
        );

        // Running: duration is measured to now.
        let j = job_with(
            None,
            Some(4),
            api::JobStatus {
                succeeded: Some(1),
                start_time: Some(Time(ts("2024-05-01T11:57:55Z"))),
                ..Default::default()
            },
        );
        let cells = job(&j, now());
        assert_eq!(cells[1], json!("Running"));
        assert_eq!(cells[2], json!("1/1 of 4"));
        assert_eq!(cells[3], json!("2m5s"));

        let j = job_with(None, None, api::JobStatus::default());
        let cells = job(&j, now());
        assert_eq!(cells[2], json!("0/1"));
        assert_eq!(cells[3], json!(""));

        // Only the first condition of a type counts; Complete and Failed win
        // over Terminating, which wins over Suspended.
        let mut j = job_with(
            Some(1),
            None,
            api::JobStatus {
                conditions: Some(vec![
                    cond("Failed", "False"),
                    cond("Failed", "True"),
                    cond("Suspended", "True"),
                ]),
                ..Default::default()
            },
        );
        assert_eq!(job(&j, now())[1], json!("Suspended"));
        j.metadata.deletion_timestamp = Some(Time(now()));
        assert_eq!(job(&j, now())[1], json!("Terminating"));
        j.status.as_mut().unwrap().conditions = Some(vec![cond("Failed", "True")]);
        assert_eq!(job(&j, now())[1], json!("Failed"));
        j.status.as_mut().unwrap().conditions = Some(vec![cond("FailureTarget", "True")]);
        j.metadata.deletion_timestamp = None;
        assert_eq!(job(&j, now())[1], json!("FailureTarget"));
    }

    #[test]
    fn cron_job_cells() {
        let mut cj = api::CronJob {
            metadata: meta("hello"),
            spec: Some(api::CronJobSpec {
                schedule: "*/1 * * * *".into(),
                job_template: api::JobTemplateSpec {
                    metadata: None,
                    spec: Some(api::JobSpec {
                        template: template(),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        };
        assert_eq!(
            cron_job(&cj, now()),
            vec![
                json!("hello"),
                json!("*/1 * * * *"),
                json!("<none>"),
                json!("<unset>"),
                json!(0),
                json!("<none>"),
                json!("5m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("<none>"),
            ]
        );
        let spec = cj.spec.as_mut().unwrap();
        spec.suspend = Some(false);
        spec.time_zone = Some("Etc/UTC".into());
        cj.status = Some(api::CronJobStatus {
            active: Some(vec![ObjectReference::default(), ObjectReference::default()]),
            last_schedule_time: Some(Time(ts("2024-05-01T11:59:00Z"))),
            ..Default::default()
        });
        let cells = cron_job(&cj, now());
        assert_eq!(cells[2], json!("Etc/UTC"));
        assert_eq!(cells[3], json!("False"));
        assert_eq!(cells[4], json!(2));
        assert_eq!(cells[5], json!("60s"));
    }
}
