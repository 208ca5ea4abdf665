//! The CronJob controller (upstream's `cronjob` controller, v2): creates a
//! Job for each scheduled time, named `{cronjob}-{scheduled unix minutes}`
//! so that a time is never run twice; keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`; applies the concurrency
//! policy (Allow, Forbid, Replace), `startingDeadlineSeconds` and
//! `suspend`; and deletes finished Jobs beyond the history limits.
//!
//! A CronJob is looked at again just after its next scheduled time (the
//! work queue's delayed adds), and whenever it or one of its Jobs changes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::{Api, ResourceExt};

use crate::events::EventType;
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref, owner_ref};
use crate::writes::{api_error, is_not_found};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};
use rkube_api::cron::Schedule;

/// Upstream's padding after a scheduled time before syncing (clock skew).
const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);

/// The annotation with a Job's scheduled time (RFC 3339, in the CronJob's
/// time zone).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let cj = Arc::new(CronJobs {
        cluster: cluster.clone(),
        recorder: Recorder::new(cluster.client.clone(), "cronjob-controller"),
    });
    cluster.cron_jobs.enqueue(&queue, |o| Some(key_of(o)));
    {
        let queue = queue.clone();
        cluster.jobs.on_change(move |c| {
            let job = match c {
                Change::Applied { new, .. } => new,
                Change::Deleted(old) => old,
            };
            if let Some(key) = owner_key(job) {
                queue.add(key);
            }
        });
    }
    let resync = {
        let informer = cluster.cron_jobs.clone();
        move || informer.keys()
    };
    Controller::new("cronjob", queue, options.workers, resync, move |key| {
        let cj = cj.clone();
        async move { cj.sync(&key).await }
    })
}

struct CronJobs {
    cluster: Arc<Cluster>,
    recorder: Recorder,
}

/// The key of the CronJob controlling `job`.
fn owner_key(job: &Job) -> Option<String> {
    pods::owner_key::<CronJob>(&job.metadata)
}

/// The condition (`Complete` or `Failed`) a Job finished with, if it did.
pub fn finished_condition(job: &Job) -> Option<&str> {
    job.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.as_str())
}

/// How many schedules were missed since the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    /// None.
    None,
    /// A few.
    Few,
    /// More than 100: upstream warns (`TooManyMissedTimes`).
    Many,
}

/// What the schedule says at `now` (upstream's `mostRecentScheduleTime`).
#[derive(Clone, Debug, PartialEq)]
pub struct MostRecent {
    /// The last schedule time, else the creation time (moved up to
    /// `now - startingDeadlineSeconds` when that counts).
    pub earliest: Timestamp,
    /// The latest scheduled time not after `now` since `earliest`.
    pub most_recent: Option<Timestamp>,
    /// How many were missed.
    pub missed: Missed,
}

/// The inputs of the schedule arithmetic, from a CronJob.
#[derive(Clone, Debug)]
pub struct Times {
    /// `metadata.creationTimestamp`.
    pub created: Timestamp,
    /// `status.lastScheduleTime`.
    pub last_schedule: Option<Timestamp>,
    /// `spec.startingDeadlineSeconds`.
    pub starting_deadline: Option<i64>,
}

impl Times {
    fn of(cj: &CronJob) -> Times {
        Times {
            created: cj
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .unwrap_or(Timestamp::UNIX_EPOCH),
            last_schedule: cj
                .status
                .as_ref()
                .and_then(|s| s.last_schedule_time.as_ref())
                .map(|t| t.0),
            starting_deadline: cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds),
        }
    }
}

/// Upstream's `mostRecentScheduleTime`: the most recent unmet scheduled
/// time at `now`, counting missed schedules the way upstream estimates
/// them (from the interval between the next two schedules).
pub fn most_recent_schedule(
    times: &Times,
    now: Timestamp,
    schedule: &Schedule,
    with_deadline: bool,
) -> Result<MostRecent, String> {
    let mut earliest = times.last_schedule.unwrap_or(times.created);
    if with_deadline
        && let Some(d) = times.starting_deadline
        && let Ok(deadline) = now.checked_sub(SignedDuration::from_secs(d))
        && deadline > earliest
    {
        earliest = deadline;
    }
    let none = |missed| MostRecent {
        earliest,
        most_recent: None,
        missed,
    };
    let Some(t1) = schedule.next(earliest) else {
        return Ok(none(Missed::None));
    };
    if now < t1 {
        return Ok(none(Missed::None));
    }
    let Some(t2) = schedule.next(t1) else {
        return Ok(MostRecent {
            earliest,
            most_recent: Some(t1),
            missed: Missed::None,
        });
    };
    if now < t2 {
        return Ok(MostRecent {
            earliest,
            most_recent: Some(t1),
            missed: Missed::None,
        });
    }
    let between = t2.duration_since(t1).as_secs();
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    let elapsed = now.duration_since(t1).as_secs();
    let missed_count = elapsed / between + 1;
    let start = t1
        .checked_add(SignedDuration::from_secs((missed_count - 2) * between))
        .unwrap_or(t1);
    let mut most_recent = None;
    let mut t = schedule.next(start);
    while let Some(at) = t {
        if at > now {
            break;
        }
        most_recent = Some(at);
        t = schedule.next(at);
    }
    let missed = if missed_count > 100 {
        Missed::Many
    } else {
        Missed::Few
    };
    Ok(MostRecent {
        earliest,
        most_recent,
        missed,
    })
}

/// How long until the schedule's next time after `now` (plus upstream's
/// 100 ms padding): upstream's `nextScheduleTimeDuration`.
pub fn next_schedule_delay(times: &Times, now: Timestamp, schedule: &Schedule) -> Option<Duration> {
    let from = match most_recent_schedule(times, now, schedule, false) {
        Err(_) => now,
        Ok(MostRecent {
            most_recent: Some(t),
            ..
        }) => t,
        Ok(MostRecent {
            missed: Missed::None,
            earliest,
            ..
        }) => earliest,
        Ok(_) => now,
    };
    let next = schedule.next(from)?;
    let wait = next.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO) + NEXT_SCHEDULE_DELTA)
}

/// The time a Job should start at now, if any (upstream's
/// `nextScheduleTime`), and whether too many were missed.
pub fn next_schedule_time(
    times: &Times,
    now: Timestamp,
    schedule: &Schedule,
) -> Result<(Option<Timestamp>, Missed), String> {
    let m = most_recent_schedule(times, now, schedule, true)?;
    Ok((m.most_recent.filter(|t| *t <= now), m.missed))
}

/// The name of the Job for a scheduled time.
pub fn job_name(cron_job: &str, scheduled: Timestamp) -> String {
    format!("{cron_job}-{}", scheduled.as_second().div_euclid(60))
}

/// `t` in RFC 3339 as Go prints it in time zone `tz` (`Z` for UTC).
fn rfc3339_in(t: Timestamp, tz: Option<&str>) -> String {
    let zone = tz
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let z = t.to_zoned(zone);
    if z.offset().seconds() == 0 {
        z.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// `t` as RFC 1123 with a numeric zone, in UTC (Go's `time.RFC1123Z`).
fn rfc1123z(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// A Job of the CronJob's template for `scheduled`.
fn job_from_template(cj: &CronJob, scheduled: Timestamp) -> Job {
    let spec = cj.spec.clone().unwrap_or_default();
    let template = spec.job_template;
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP.into(),
        rfc3339_in(scheduled, spec.time_zone.as_deref()),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&cj.name_any(), scheduled)),
            namespace: cj.namespace(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![owner_ref(cj)]),
            ..Default::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}

/// What one sync decided.
struct Outcome {
    requeue: Requeue,
    update: bool,
}

impl CronJobs {
    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(cached) = self.cluster.cron_jobs.get_key(key) else {
            return Ok(None);
        };
        let mut cj = (*cached).clone();
        let uid = cj.uid().unwrap_or_default();
        let ns = cj.namespace().unwrap_or_default();
        let jobs: Vec<Arc<Job>> = self
            .cluster
            .jobs
            .list_namespace(&ns)
            .into_iter()
            .filter(|j| controller_ref(&j.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let outcome = self.reconcile(&mut cj, &jobs).await;
        let cleaned = self.cleanup_finished(&mut cj, &jobs).await;
        let (requeue, update) = match &outcome {
            Ok(o) => (o.requeue, o.update),
            Err(_) => (None, false),
        };
        if update || cleaned || outcome.is_err() && cj.status != cached.status {
            self.write_status(&cj).await?;
        }
        outcome.map(|_| requeue)
    }

    async fn write_status(&self, cj: &CronJob) -> Result<()> {
        let api: Api<CronJob> = Api::namespaced(
            self.cluster.client.clone(),
            &cj.namespace().unwrap_or_default(),
        );
        match api
            .replace_status(&cj.name_any(), &PostParams::default(), cj)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).context("updating CronJob status"),
        }
    }

    fn status(cj: &mut CronJob) -> &mut CronJobStatus {
        cj.status.get_or_insert_with(Default::default)
    }

    fn in_active(cj: &CronJob, uid: &str) -> bool {
        cj.status
            .iter()
            .flat_map(|s| s.active.iter().flatten())
            .any(|r| r.uid.as_deref() == Some(uid))
    }

    fn remove_active(cj: &mut CronJob, uid: &str) {
        if let Some(active) = Self::status(cj).active.as_mut() {
            active.retain(|r| r.uid.as_deref() != Some(uid));
        }
    }

    /// Upstream's `syncCronJob`.
    async fn reconcile(&self, cj: &mut CronJob, jobs: &[Arc<Job>]) -> Result<Outcome> {
        let now = Timestamp::now();
        let mut update = false;
        let ns = cj.namespace().unwrap_or_default();
        let cj_api: Api<CronJob> = Api::namespaced(self.cluster.client.clone(), &ns);
        let job_api: Api<Job> = Api::namespaced(self.cluster.client.clone(), &ns);

        for job in jobs {
            let juid = job.uid().unwrap_or_default();
            let found = Self::in_active(cj, &juid);
            match finished_condition(job) {
                None if !found => {
                    // Maybe our status is older than our own write.
                    let fresh = cj_api.get_status(&cj.name_any()).await?;
                    if Self::in_active(&fresh, &juid) {
                        *cj = fresh;
                        continue;
                    }
                    self.recorder.event(
                        &*cj,
                        EventType::Warning,
                        "UnexpectedJob",
                        format!(
                            "Saw a job that the controller did not create or forgot: {}",
                            job.name_any()
                        ),
                    );
                }
                None => {}
                Some(cond) => {
                    if found {
                        Self::remove_active(cj, &juid);
                        self.recorder.event(
                            &*cj,
                            EventType::Normal,
                            "SawCompletedJob",
                            format!("Saw completed job: {}, condition: {cond}", job.name_any()),
                        );
                        update = true;
                    }
                    if cond == "Complete" {
                        let done = job.status.as_ref().and_then(|s| s.completion_time.clone());
                        let status = Self::status(cj);
                        if done.is_some()
                            && (status.last_successful_time.is_none()
                                || done.as_ref().map(|t| t.0)
                                    > status.last_successful_time.as_ref().map(|t| t.0))
                        {
                            status.last_successful_time = done;
                            update = true;
                        }
                    }
                }
            }
        }

        // Active Jobs that are gone.
        let known: Vec<String> = jobs.iter().filter_map(|j| j.uid()).collect();
        let active = cj
            .status
            .as_ref()
            .and_then(|s| s.active.clone())
            .unwrap_or_default();
        for r in active {
            if r.uid.as_ref().is_some_and(|u| known.contains(u)) {
                continue;
            }
            let name = r.name.clone().unwrap_or_default();
            match job_api.get(&name).await {
                Err(e) if is_not_found(&e) => {
                    self.recorder.event(
                        &*cj,
                        EventType::Normal,
                        "MissingJob",
                        format!("Active job went missing: {name}"),
                    );
                    Self::remove_active(cj, r.uid.as_deref().unwrap_or_default());
                    update = true;
                }
                Err(e) => return Err(e).context("getting an active job"),
                Ok(_) => {}
            }
        }

        if cj.metadata.deletion_timestamp.is_some() {
            return Ok(Outcome {
                requeue: None,
                update,
            });
        }
        let spec = cj.spec.clone().unwrap_or_default();
        if spec.schedule.contains("TZ") {
            self.recorder.event(
                &*cj,
                EventType::Warning,
                "UnsupportedSchedule",
                format!(
                    "CRON_TZ or TZ used in schedule {:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                    spec.schedule
                ),
            );
        }
        if let Some(tz) = spec.time_zone.as_deref()
            && jiff::tz::TimeZone::get(tz).is_err()
        {
            self.recorder.event(
                &*cj,
                EventType::Warning,
                "UnknownTimeZone",
                format!("invalid timeZone: {tz:?}: unknown time zone {tz}"),
            );
            return Ok(Outcome {
                requeue: None,
                update,
            });
        }
        if spec.suspend == Some(true) {
            return Ok(Outcome {
                requeue: None,
                update,
            });
        }
        let tz = if spec.schedule.contains("TZ") {
            None
        } else {
            spec.time_zone.as_deref()
        };
        let schedule = match Schedule::parse(&spec.schedule, tz) {
            Ok(s) => s,
            Err(e) => {
                self.recorder.event(
                    &*cj,
                    EventType::Warning,
                    "UnparseableSchedule",
                    format!("unparseable schedule: {:?} : {e}", spec.schedule),
                );
                return Ok(Outcome {
                    requeue: None,
                    update,
                });
            }
        };
        let times = Times::of(cj);
        let next_delay = |cj: &CronJob| next_schedule_delay(&Times::of(cj), now, &schedule);
        let scheduled = match next_schedule_time(&times, now, &schedule) {
            Err(e) => {
                self.recorder.event(
                    &*cj,
                    EventType::Warning,
                    "InvalidSchedule",
                    format!("invalid schedule: {} : {e}", spec.schedule),
                );
                return Ok(Outcome {
                    requeue: None,
                    update,
                });
            }
            Ok((t, missed)) => {
                if missed == Missed::Many && t.is_some() {
                    self.recorder.event(
                        &*cj,
                        EventType::Warning,
                        "TooManyMissedTimes",
                        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                    );
                }
                t
            }
        };
        let Some(scheduled) = scheduled else {
            return Ok(Outcome {
                requeue: next_delay(cj),
                update,
            });
        };
        if let Some(d) = spec.starting_deadline_seconds
            && scheduled
                .checked_add(SignedDuration::from_secs(d))
                .is_ok_and(|t| t < now)
        {
            self.recorder.event(
                &*cj,
                EventType::Warning,
                "MissSchedule",
                format!(
                    "Missed scheduled time to start a job: {}",
                    rfc1123z(scheduled)
                ),
            );
            return Ok(Outcome {
                requeue: next_delay(cj),
                update,
            });
        }
        let name = job_name(&cj.name_any(), scheduled);
        let already = cj
            .status
            .iter()
            .flat_map(|s| s.active.iter().flatten())
            .any(|r| r.name.as_deref() == Some(name.as_str()))
            || times.last_schedule == Some(scheduled);
        if already {
            return Ok(Outcome {
                requeue: next_delay(cj),
                update,
            });
        }
        let active_count = cj
            .status
            .as_ref()
            .and_then(|s| s.active.as_ref())
            .map_or(0, Vec::len);
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if policy == "Forbid" && active_count > 0 {
            self.recorder.event(
                &*cj,
                EventType::Normal,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            );
            return Ok(Outcome {
                requeue: next_delay(cj),
                update,
            });
        }
        if policy == "Replace" {
            let active = cj
                .status
                .as_ref()
                .and_then(|s| s.active.clone())
                .unwrap_or_default();
            for r in active {
                let name = r.name.clone().unwrap_or_default();
                let job = match job_api.get(&name).await {
                    Ok(j) => j,
                    Err(e) => {
                        self.recorder.event(
                            &*cj,
                            EventType::Warning,
                            "FailedGet",
                            format!("Get job: {}", api_error(&e)),
                        );
                        return Err(e).context("getting a job to replace");
                    }
                };
                if !self.delete_job(cj, &job).await {
                    anyhow::bail!("could not replace job {ns}/{name}");
                }
                update = true;
            }
        }

        let request = job_from_template(cj, scheduled);
        let created = match job_api.create(&PostParams::default(), &request).await {
            Ok(job) => {
                self.recorder.event(
                    &*cj,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created job {}", job.name_any()),
                );
                job
            }
            Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists" => {
                let job = job_api.get(&name).await?;
                let ours = controller_ref(&job.metadata)
                    .is_some_and(|r| Some(&r.uid) == cj.metadata.uid.as_ref());
                if !ours || Self::in_active(cj, &job.uid().unwrap_or_default()) {
                    return Ok(Outcome {
                        requeue: None,
                        update,
                    });
                }
                job
            }
            Err(e) => {
                if !api_error(&e).contains("is being terminated") {
                    self.recorder.event(
                        &*cj,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating job: {}", api_error(&e)),
                    );
                }
                return Err(e).context("creating a job");
            }
        };
        let status = Self::status(cj);
        status
            .active
            .get_or_insert_with(Vec::new)
            .push(job_ref(&created));
        status.last_schedule_time = Some(Time(scheduled));
        Ok(Outcome {
            requeue: next_delay(cj),
            update: true,
        })
    }

    /// Delete a Job (its pods in the background) and drop it from the
    /// active list; false if the deletion failed.
    async fn delete_job(&self, cj: &mut CronJob, job: &Job) -> bool {
        let api: Api<Job> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        if let Err(e) = api.delete(&job.name_any(), &dp).await {
            self.recorder.event(
                &*cj,
                EventType::Warning,
                "FailedDelete",
                format!("Deleted job: {}", api_error(&e)),
            );
            return false;
        }
        Self::remove_active(cj, &job.uid().unwrap_or_default());
        self.recorder.event(
            &*cj,
            EventType::Normal,
            "SuccessfulDelete",
            format!("Deleted job {}", job.name_any()),
        );
        true
    }

    /// Delete the oldest finished Jobs beyond the history limits; whether
    /// the status changed.
    async fn cleanup_finished(&self, cj: &mut CronJob, jobs: &[Arc<Job>]) -> bool {
        let spec = cj.spec.clone().unwrap_or_default();
        let mut changed = false;
        for (cond, limit) in [
            ("Complete", spec.successful_jobs_history_limit),
            ("Failed", spec.failed_jobs_history_limit),
        ] {
            let Some(limit) = limit else { continue };
            let mut finished: Vec<&Job> = jobs
                .iter()
                .map(|j| &**j)
                .filter(|j| finished_condition(j) == Some(cond))
                .collect();
            let excess = finished.len().saturating_sub(limit.max(0) as usize);
            if excess == 0 {
                continue;
            }
            finished.sort_by(|a, b| {
                let start = |j: &Job| {
                    j.status
                        .as_ref()
                        .and_then(|s| s.start_time.as_ref())
                        .map(|t| t.0)
                };
                match (start(a), start(b)) {
                    (Some(x), Some(y)) if x != y => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    _ => a.name_any().cmp(&b.name_any()),
                }
            });
            for job in finished.into_iter().take(excess) {
                if self.delete_job(cj, job).await {
                    changed = true;
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn times(created: &str, last: Option<&str>, deadline: Option<i64>) -> Times {
        Times {
            created: ts(created),
            last_schedule: last.map(ts),
            starting_deadline: deadline,
        }
    }

    #[test]
    fn nothing_due_before_the_first_time() {
        let s = Schedule::parse("0 * * * *", None).unwrap();
        let t = times("2026-03-01T10:05:00Z", None, None);
        let (due, missed) = next_schedule_time(&t, ts("2026-03-01T10:59:00Z"), &s).unwrap();
        assert_eq!((due, missed), (None, Missed::None));
        let delay = next_schedule_delay(&t, ts("2026-03-01T10:59:00Z"), &s).unwrap();
        assert_eq!(delay, Duration::from_secs(60) + NEXT_SCHEDULE_DELTA);
    }

    #[test]
    fn one_due_time() {
        let s = Schedule::parse("0 * * * *", None).unwrap();
        let t = times("2026-03-01T10:05:00Z", None, None);
        let (due, missed) = next_schedule_time(&t, ts("2026-03-01T11:00:30Z"), &s).unwrap();
        assert_eq!(due, Some(ts("2026-03-01T11:00:00Z")));
        assert_eq!(missed, Missed::None);
    }

    #[test]
    fn missed_schedules_run_only_the_latest() {
        let s = Schedule::parse("0 * * * *", None).unwrap();
        let t = times("2026-03-01T00:00:00Z", Some("2026-03-01T10:00:00Z"), None);
        let now = ts("2026-03-01T15:20:00Z");
        let (due, missed) = next_schedule_time(&t, now, &s).unwrap();
        assert_eq!(due, Some(ts("2026-03-01T15:00:00Z")));
        assert_eq!(missed, Missed::Few);
        // Next look: just after 16:00.
        let delay = next_schedule_delay(&t, now, &s).unwrap();
        assert_eq!(delay, Duration::from_secs(40 * 60) + NEXT_SCHEDULE_DELTA);
    }

    #[test]
    fn too_many_missed() {
        let s = Schedule::parse("* * * * *", None).unwrap();
        let t = times("2026-03-01T00:00:00Z", None, None);
        let (due, missed) = next_schedule_time(&t, ts("2026-03-01T05:00:10Z"), &s).unwrap();
        assert_eq!(due, Some(ts("2026-03-01T05:00:00Z")));
        assert_eq!(missed, Missed::Many);
    }

    #[test]
    fn starting_deadline_bounds_the_look_back() {
        let s = Schedule::parse("0 * * * *", None).unwrap();
        // Last run at 10:00, now 12:30, deadline 10 minutes: 12:00 is more
        // than 10 minutes ago, so nothing may start.
        let t = times(
            "2026-03-01T00:00:00Z",
            Some("2026-03-01T10:00:00Z"),
            Some(600),
        );
        let (due, _) = next_schedule_time(&t, ts("2026-03-01T12:30:00Z"), &s).unwrap();
        assert_eq!(due, None);
        // At 12:05 the 12:00 run is within the deadline.
        let (due, _) = next_schedule_time(&t, ts("2026-03-01T12:05:00Z"), &s).unwrap();
        assert_eq!(due, Some(ts("2026-03-01T12:00:00Z")));
        // The deadline also keeps a long-stopped controller from counting
        // thousands of misses.
        let t = times("2020-01-01T00:00:00Z", None, Some(200));
        let (due, missed) = next_schedule_time(&t, ts("2026-03-01T12:01:00Z"), &s).unwrap();
        assert_eq!(
            (due, missed),
            (Some(ts("2026-03-01T12:00:00Z")), Missed::None)
        );
    }

    #[test]
    fn job_names_and_annotations() {
        let t = ts("2026-03-01T10:00:00Z");
        assert_eq!(
            job_name("hello", t),
            format!("hello-{}", t.as_second() / 60)
        );
        assert_eq!(rfc3339_in(t, None), "2026-03-01T10:00:00Z");
        assert_eq!(
            rfc3339_in(t, Some("America/New_York")),
            "2026-03-01T05:00:00-05:00"
        );
        assert_eq!(rfc1123z(t), "Sun, 01 Mar 2026 10:00:00 +0000");
    }
}
