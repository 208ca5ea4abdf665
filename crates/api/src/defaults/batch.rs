//! Defaults of batch/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::batch::v1 as api;

use super::pod::{self, set, set_str};

/// Defaults of a Job.
pub fn job(obj: &mut api::Job) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
        spec.parallelism = Some(1);
    }
    set(&mut spec.parallelism, 1);
    let backoff = if spec.backoff_limit_per_index.is_some() {
        i32::MAX
    } else {
        6
    };
    set(&mut spec.backoff_limit, backoff);
    let template_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone());
    if let Some(labels) = template_labels
        && obj.metadata.labels.as_ref().is_none_or(|l| l.is_empty())
    {
        obj.metadata.labels = Some(labels);
    }
    set(&mut spec.completion_mode, "NonIndexed".into());
    set(&mut spec.suspend, false);
    let replacement = if spec.pod_failure_policy.is_some() {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set(&mut spec.pod_replacement_policy, replacement.into());
    set(&mut spec.manual_selector, false);
    if let Some(pfp) = &mut spec.pod_failure_policy {
        for rule in &mut pfp.rules {
            for c in rule.on_pod_conditions.iter_mut().flatten() {
                if c.status.is_empty() {
                    c.status = "True".into();
                }
            }
        }
    }
    pod::pod_template_spec(&mut spec.template);
}

/// Defaults of a CronJob (the job template gets only pod spec defaults).
pub fn cron_job(obj: &mut api::CronJob) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set_str(&mut spec.concurrency_policy, "Allow");
    set(&mut spec.suspend, false);
    set(&mut spec.successful_jobs_history_limit, 3);
    set(&mut spec.failed_jobs_history_limit, 1);
    let job = spec.job_template.spec.get_or_insert_with(Default::default);
    pod::pod_template_spec(&mut job.template);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_defaults() {
        let mut j = api::Job::default();
        job(&mut j);
        let spec = j.spec.unwrap();
        assert_eq!((spec.completions, spec.parallelism), (Some(1), Some(1)));
        assert_eq!(spec.backoff_limit, Some(6));
        assert_eq!(spec.completion_mode.as_deref(), Some("NonIndexed"));
        assert_eq!(
            spec.pod_replacement_policy.as_deref(),
            Some("TerminatingOrFailed")
        );
        assert_eq!(spec.manual_selector, Some(false));
        let mut j = api::Job {
            spec: Some(api::JobSpec {
                parallelism: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        };
        job(&mut j);
        assert_eq!(j.spec.unwrap().completions, None);
    }
}
