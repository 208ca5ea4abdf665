//! The Job controller (upstream's `job` controller) and the
//! TTL-after-finished controller: runs pods of a Job's template until
//! `completions` succeed (at most `parallelism` at a time), replacing
//! failed pods after an exponential backoff (10 s doubling up to 6 min)
//! until `backoffLimit`, `activeDeadlineSeconds` or a `podFailurePolicy`
//! `FailJob` rule fails the Job; Indexed Jobs give each pod its
//! completion index, and may finish early by a `successPolicy` or retry
//! each index on its own (`backoffLimitPerIndex`, see [`indexed`]); `suspend` deletes the active pods; a finished Job
//! with `ttlSecondsAfterFinished` is deleted that long after it finished.
//!
//! As upstream (1.32), a finishing Job first gets the interim condition
//! (`SuccessCriteriaMet`, `FailureTarget`), its remaining pods are deleted,
//! and the terminal one (`Complete`, `Failed`) follows once no pod is
//! active or terminating.
//!
//! Counting uses upstream's tracking finalizer ([`TRACKING_FINALIZER`]):
//! every pod is created with it, so it cannot vanish uncounted (pod GC,
//! a user's `kubectl delete`). A pod that finished is first recorded by
//! uid in `status.uncountedTerminatedPods`, then loses its finalizer, then
//! moves from there into `succeeded` / `failed` ([`Jobs::track`]); a crash
//! between the steps is finished by the next sync. Pods the policy
//! ignores lose the finalizer uncounted; so do the pods of a Job that is
//! gone (orphans) or finished. Indexed Jobs also keep `completedIndexes`.

pub mod indexed;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{
    Job, JobCondition, JobStatus, PodFailurePolicyRule, UncountedTerminatedPods,
};
use k8s_openapi::api::core::v1::{
    self as api, EnvVar, EnvVarSource, ObjectFieldSelector, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy};
use kube::{Api, ResourceExt};

use crate::events::EventType;
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref};
use crate::replicaset::BURST;
use crate::slim::Pod;
use crate::writes::{Owner, api_error, create_pods, finalizer_patch, is_not_found, uid_guarded};
use crate::{Cluster, Controller, Expectations, Options, Recorder, Requeue, WorkQueue};

/// The finalizer that keeps a Job's pod until the Job has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// Work-queue keys of orphaned pods still carrying [`TRACKING_FINALIZER`].
const ORPHAN_PREFIX: &str = "orphan-pod:";
/// The completion index of an Indexed Job's pod (annotation and label).
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// The environment variable with the completion index.
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";
/// First delay before replacing a failed pod.
const BACKOFF_BASE: Duration = Duration::from_secs(10);
/// Longest delay before replacing a failed pod.
const BACKOFF_MAX: Duration = Duration::from_secs(360);

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let jobs = Arc::new(Jobs {
        cluster: cluster.clone(),
        expectations: Expectations::default(),
        recorder: Recorder::new(cluster.client.clone(), "job-controller"),
        released: Default::default(),
    });
    cluster.jobs.enqueue(&queue, |o| Some(key_of(o)));
    {
        let (queue, jobs) = (queue.clone(), jobs.clone());
        cluster.pods.on_change(move |c| jobs.pod_changed(&queue, c));
    }
    let resync = {
        let cluster = cluster.clone();
        move || cluster.jobs.list().iter().map(|j| key_of(&**j)).collect()
    };
    Controller::new("job", queue, options.workers, resync, move |key| {
        let jobs = jobs.clone();
        async move { jobs.sync(&key).await }
    })
}

struct Jobs {
    cluster: Arc<Cluster>,
    expectations: Expectations,
    recorder: Recorder,
    /// Pods whose tracking finalizer was removed (so they are counted)
    /// while the cache may still show it: skipped until it catches up
    /// (upstream's `expectedRmFinalizers`), lest they count twice.
    released: parking_lot::Mutex<std::collections::HashSet<String>>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// The completion index of a pod, if it has a valid one.
pub fn completion_index(pod: &Pod) -> Option<i32> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(COMPLETION_INDEX))
        .or_else(|| pod.metadata.labels.as_ref()?.get(COMPLETION_INDEX))
        .and_then(|v| v.parse().ok())
        .filter(|i: &i32| *i >= 0)
}

/// Parse `completedIndexes` (`1,3-5`).
pub fn parse_indexes(s: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// Format indexes as upstream does: intervals `a-b`, single values `a`.
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        parts.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    parts.join(",")
}

/// The outcome of matching a failed pod against a `podFailurePolicy`.
#[derive(Debug, PartialEq, Eq)]
pub struct PolicyMatch {
    /// The rule's action (`FailJob`, `Ignore`, `Count`, `FailIndex`).
    pub action: String,
    /// For `FailJob`: the Job's failure message.
    pub message: Option<String>,
}

/// Upstream's `matchPodFailurePolicy`: the first rule a failed pod
/// matches.
pub fn match_pod_failure_policy(rules: &[PodFailurePolicyRule], pod: &Pod) -> Option<PolicyMatch> {
    let status = pod.status.as_ref();
    let pod_name = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
    for (i, rule) in rules.iter().enumerate() {
        if let Some(req) = &rule.on_exit_codes {
            let containers = status.into_iter().flat_map(|s| {
                s.container_statuses
                    .iter()
                    .flatten()
                    .chain(s.init_container_statuses.iter().flatten())
            });
            for c in containers {
                let Some(code) = c
                    .state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| t.exit_code)
                else {
                    continue;
                };
                if code == 0 || req.container_name.as_ref().is_some_and(|n| *n != c.name) {
                    continue;
                }
                let listed = req.values.contains(&code);
                let hit = match req.operator.as_str() {
                    "In" => listed,
                    "NotIn" => !listed,
                    _ => false,
                };
                if hit {
                    return Some(PolicyMatch {
                        action: rule.action.clone(),
                        message: (rule.action == "FailJob").then(|| {
                            format!(
                                "Container {} for pod {pod_name} failed with exit code {code} matching {} rule at index {i}",
                                c.name, rule.action
                            )
                        }),
                    });
                }
            }
        }
        for pattern in rule.on_pod_conditions.iter().flatten() {
            let has = status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == pattern.type_ && c.status == pattern.status);
            if has {
                return Some(PolicyMatch {
                    action: rule.action.clone(),
                    message: (rule.action == "FailJob").then(|| {
                        format!(
                            "Pod {pod_name} has condition {} matching {} rule at index {i}",
                            pattern.type_, rule.action
                        )
                    }),
                });
            }
        }
    }
    None
}

/// When a pod finished, as upstream's `getFinishedTime`.
fn finished_at(pod: &Pod) -> Timestamp {
    let status = pod.status.as_ref();
    let containers: Vec<_> = status
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let all_done = !containers.is_empty()
        && containers.iter().all(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.finished_at.is_some())
        });
    if all_done
        && let Some(t) = containers
            .iter()
            .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
            .map(|t| t.0)
            .max()
    {
        return t;
    }
    let ready_false = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready" && c.status == "False")
        .and_then(|c| c.last_transition_time.as_ref());
    if let Some(t) = ready_false {
        return t.0;
    }
    if let Some(t) = &pod.metadata.deletion_timestamp {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        return t.0 - SignedDuration::from_secs(grace);
    }
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The delay before pods may be created again after failures
/// (upstream's pod failure backoff): 10 s after the first failure since
/// the last success, doubling, at most 6 minutes, counted from the last
/// failure.
pub fn backoff_remaining(
    failed: &[Timestamp],
    last_success: Option<Timestamp>,
    now: Timestamp,
) -> Duration {
    let recent: Vec<Timestamp> = failed
        .iter()
        .copied()
        .filter(|t| last_success.is_none_or(|s| *t > s))
        .collect();
    let Some(last) = recent.iter().max().copied() else {
        return Duration::ZERO;
    };
    let mut delay = BACKOFF_BASE;
    for _ in 1..recent.len() {
        delay *= 2;
        if delay >= BACKOFF_MAX {
            delay = BACKOFF_MAX;
            break;
        }
    }
    let elapsed = Duration::try_from(now.duration_since(last)).unwrap_or(Duration::ZERO);
    delay.saturating_sub(elapsed)
}

fn condition<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// Whether the Job has finished (Complete or Failed True).
pub fn is_finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .is_some_and(|s| condition(s, "Complete").is_some() || condition(s, "Failed").is_some())
}

fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Upstream's `ensureJobConditionStatus`: set a condition; a False one is
/// not added when absent. Returns whether anything changed.
fn ensure_condition(
    conditions: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status
            || c.reason.as_deref() != Some(reason)
            || c.message.as_deref() != Some(message)
        {
            *c = new_condition(type_, status, reason, message, now);
            return true;
        }
        return false;
    }
    if status != "False" {
        conditions.push(new_condition(type_, status, reason, message, now));
        return true;
    }
    false
}

/// A pod template for index `index` (None: NonIndexed).
fn indexed_template(job: &Job, index: Option<i32>) -> (PodTemplateSpec, String) {
    let name = job.name_any();
    let mut template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let Some(index) = index else {
        return (template, format!("{name}-"));
    };
    let meta = template.metadata.get_or_insert_with(Default::default);
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(COMPLETION_INDEX.into(), index.to_string());
    meta.labels
        .get_or_insert_with(Default::default)
        .insert(COMPLETION_INDEX.into(), index.to_string());
    if let Some(spec) = template.spec.as_mut() {
        let env = EnvVar {
            name: COMPLETION_INDEX_ENV.into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: None,
                    field_path: format!("metadata.annotations['{COMPLETION_INDEX}']"),
                }),
                ..Default::default()
            }),
        };
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            let vars = c.env.get_or_insert_with(Vec::new);
            if !vars.iter().any(|e| e.name == COMPLETION_INDEX_ENV) {
                vars.push(env.clone());
            }
        }
        spec.hostname = Some(format!("{name}-{index}"));
    }
    (template, format!("{name}-{index}-"))
}

/// What a sync computed about a Job's pods.
struct Counts<'a> {
    /// All of them.
    all: Vec<&'a Pod>,
    active: Vec<&'a Pod>,
    terminating: i32,
    succeeded: i32,
    failed: i32,
    ready: i32,
    succeeded_indexes: Option<BTreeSet<i32>>,
    /// Indexes out of retries (`backoffLimitPerIndex`).
    failed_indexes: BTreeSet<i32>,
}

impl Jobs {
    fn pod_changed(&self, queue: &WorkQueue, change: Change<'_, Pod>) {
        match &change {
            Change::Applied { new, .. } if !has_tracking_finalizer(new) => {
                self.released.lock().remove(&new.uid().unwrap_or_default());
            }
            Change::Deleted(old) => {
                self.released.lock().remove(&old.uid().unwrap_or_default());
            }
            _ => {}
        }
        if let Change::Applied { new, .. } = &change
            && has_tracking_finalizer(new)
            && controller_ref(&new.metadata).is_some_and(|o| o.kind == "Job")
            && !self.has_job(new)
        {
            let ns = new.namespace().unwrap_or_default();
            queue.add(format!("{ORPHAN_PREFIX}{ns}/{}", new.name_any()));
            return;
        }
        pods::route_pod_change::<Job>(change, queue, Some(&self.expectations));
    }

    /// Whether the Job controlling the pod still exists (the same uid).
    fn has_job(&self, pod: &Pod) -> bool {
        let ns = pod.namespace().unwrap_or_default();
        controller_ref(&pod.metadata).is_some_and(|o| {
            self.cluster
                .jobs
                .get(&ns, &o.name)
                .is_some_and(|j| j.uid().as_deref() == Some(o.uid.as_str()))
        })
    }

    /// An orphaned pod (its Job gone) keeps no tracking finalizer.
    async fn release_orphan(&self, key: &str) -> Result<Requeue> {
        let Some(pod) = self.cluster.pods.get_key(key) else {
            return Ok(None);
        };
        if self.has_job(&pod) {
            return Ok(None);
        }
        let ns = pod.namespace().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        remove_tracking_finalizer(&api, &pod).await?;
        Ok(None)
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        if let Some(pod) = key.strip_prefix(ORPHAN_PREFIX) {
            return self.release_orphan(pod).await;
        }
        let Some(job) = self.cluster.jobs.get_key(key) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let ns = job.namespace().unwrap_or_default();
        let uid = job.uid().unwrap_or_default();
        let owned: Vec<Arc<Pod>> = self.cluster.pods.controlled_by(&ns, &uid);
        if is_finished(&job) {
            self.expectations.forget(key);
            // Counted already: nothing to keep the pods for.
            let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
            for pod in owned.iter().filter(|p| has_tracking_finalizer(p)) {
                remove_tracking_finalizer(&api, pod).await?;
            }
            return self.expire(&job).await;
        }
        let pods: Vec<&Pod> = owned.iter().map(|p| &**p).collect();
        self.sync_job(key, &job, &pods).await
    }

    /// Count what finished since the last sync (upstream's
    /// `trackJobStatusAndRemoveFinalizers`): finished pods still carrying
    /// the tracking finalizer are recorded — uids in
    /// `uncountedTerminatedPods`, indexes in `completedIndexes` — in a first
    /// status write, then lose the finalizer, then move into
    /// `succeeded` / `failed`. Returns the Job as last written and the
    /// status to build on (its counts moved; written by the caller).
    async fn track(&self, job: &Job, pods: &[&Pod]) -> Result<(Job, JobStatus)> {
        let spec = job.spec.clone().unwrap_or_default();
        let mut status = job.status.clone().unwrap_or_default();
        let rules = spec
            .pod_failure_policy
            .as_ref()
            .map(|p| p.rules.clone())
            .unwrap_or_default();
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let completions = spec.completions.unwrap_or(0);
        let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        let mut succeeded_uids = uncounted.succeeded.take().unwrap_or_default();
        let mut failed_uids = uncounted.failed.take().unwrap_or_default();
        let mut indexes = parse_indexes(status.completed_indexes.as_deref().unwrap_or(""));
        let per_index = indexed && spec.backoff_limit_per_index.is_some();
        let mut release: Vec<&Pod> = Vec::new();
        let mut recorded = false;
        let tracked: Vec<&Pod> = {
            let released = self.released.lock();
            pods.iter()
                .copied()
                .filter(|p| has_tracking_finalizer(p))
                .filter(|p| !released.contains(&p.uid().unwrap_or_default()))
                .collect()
        };
        let failed_set = per_index.then(|| indexed::failed_indexes(job, &tracked));
        // With retries per index, a failed pod stays (finalizer and all)
        // until its replacement exists, which reads the index's failure
        // count from it (upstream's delayed deletion).
        let awaiting_replacement = |pod: &Pod| {
            let Some(i) = completion_index(pod).filter(|_| per_index && phase(pod) == "Failed")
            else {
                return false;
            };
            !indexes.contains(&i)
                && !failed_set.as_ref().is_some_and(|f| f.contains(&i))
                && !pods
                    .iter()
                    .any(|p| pods::is_active(p) && completion_index(p) == Some(i))
        };
        let tracked: Vec<&Pod> = tracked
            .into_iter()
            .filter(|p| !awaiting_replacement(p))
            .collect();
        if let Some(set) = &failed_set {
            let text = format_indexes(set);
            if status.failed_indexes.as_deref().unwrap_or("") != text {
                status.failed_indexes = Some(text);
                recorded = true;
            }
        }
        for pod in tracked {
            let uid = pod.uid().unwrap_or_default();
            if succeeded_uids.contains(&uid) || failed_uids.contains(&uid) {
                release.push(pod);
                continue;
            }
            match phase(pod) {
                "Succeeded" => {
                    if indexed {
                        if let Some(i) = completion_index(pod).filter(|i| *i < completions) {
                            recorded |= indexes.insert(i);
                        }
                    } else {
                        succeeded_uids.push(uid);
                        recorded = true;
                    }
                    release.push(pod);
                }
                "Failed" => {
                    let ignored =
                        match_pod_failure_policy(&rules, pod).is_some_and(|m| m.action == "Ignore");
                    if !ignored {
                        failed_uids.push(uid);
                        recorded = true;
                    }
                    release.push(pod);
                }
                _ => {}
            }
        }
        let mut job = job.clone();
        if recorded {
            if indexed {
                status.completed_indexes = Some(format_indexes(&indexes));
                status.succeeded = Some(indexes.len() as i32);
            }
            status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
                succeeded: Some(succeeded_uids.clone()),
                failed: Some(failed_uids.clone()),
            });
            job.status = Some(status.clone());
            job = self.write_status(&job).await?;
        }
        // Release, then count what no longer carries the finalizer.
        let api: Api<Pod> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        let mut held: BTreeSet<String> = BTreeSet::new();
        let mut first_error = None;
        for pod in release {
            let uid = pod.uid().unwrap_or_default();
            match remove_tracking_finalizer(&api, pod).await {
                Ok(()) => {
                    self.released.lock().insert(uid);
                }
                Err(e) => {
                    held.insert(uid);
                    first_error.get_or_insert(e);
                }
            }
        }
        let moved_s = succeeded_uids.iter().filter(|u| !held.contains(*u)).count() as i32;
        let moved_f = failed_uids.iter().filter(|u| !held.contains(*u)).count() as i32;
        succeeded_uids.retain(|u| held.contains(u));
        failed_uids.retain(|u| held.contains(u));
        if !indexed {
            status.succeeded = Some(status.succeeded.unwrap_or(0) + moved_s);
        }
        status.failed = Some(status.failed.unwrap_or(0) + moved_f);
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
            succeeded: (!succeeded_uids.is_empty()).then_some(succeeded_uids),
            failed: (!failed_uids.is_empty()).then_some(failed_uids),
        });
        if let Some(e) = first_error {
            // Counted what could be; the rest waits for the next sync.
            job.status = Some(status);
            self.write_status(&job).await?;
            return Err(e);
        }
        Ok((job, status))
    }

    /// Replace the Job's status; the Job as stored.
    async fn write_status(&self, job: &Job) -> Result<Job> {
        let api: Api<Job> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        api.replace_status(&job.name_any(), &PostParams::default(), job)
            .await
            .with_context(|| format!("updating the status of Job {}", job.name_any()))
    }

    /// The pods' counts, the status (after [`Jobs::track`]) holding what
    /// finished.
    fn count<'a>(&self, job: &Job, status: &JobStatus, pods: &[&'a Pod]) -> Counts<'a> {
        let spec = job.spec.clone().unwrap_or_default();
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let completions = spec.completions.unwrap_or(0);
        let active: Vec<&Pod> = pods
            .iter()
            .copied()
            .filter(|p| pods::is_active(p))
            .collect();
        let terminating = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some() && !pods::is_terminal(p))
            .count() as i32;
        let ready = active.iter().filter(|p| pods::is_ready(p)).count() as i32;
        let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        let pending = |v: Option<Vec<String>>| v.map_or(0, |v| v.len() as i32);
        let (succeeded, succeeded_indexes) = if indexed {
            let mut set = parse_indexes(status.completed_indexes.as_deref().unwrap_or(""));
            set.extend(
                pods.iter()
                    .filter(|p| phase(p) == "Succeeded")
                    .filter_map(|p| completion_index(p))
                    .filter(|i| *i < completions),
            );
            (set.len() as i32, Some(set))
        } else {
            (
                status.succeeded.unwrap_or(0) + pending(uncounted.succeeded),
                None,
            )
        };
        Counts {
            all: pods.to_vec(),
            active,
            terminating,
            succeeded,
            failed: status.failed.unwrap_or(0) + pending(uncounted.failed),
            ready,
            succeeded_indexes,
            failed_indexes: parse_indexes(status.failed_indexes.as_deref().unwrap_or("")),
        }
    }

    async fn sync_job(&self, key: &str, job: &Job, pods: &[&Pod]) -> Result<Requeue> {
        let now = Timestamp::now();
        let spec = job.spec.clone().unwrap_or_default();
        let (job, tracked) = match self.track(job, pods).await {
            Ok(t) => t,
            Err(e) if e.downcast_ref::<kube::Error>().is_some_and(is_not_found) => return Ok(None),
            Err(e) => return Err(e),
        };
        let job = &job;
        let old = job.status.clone().unwrap_or_default();
        let mut status = tracked.clone();
        let suspended = spec.suspend == Some(true);
        let counts = self.count(job, &tracked, pods);
        let mut conditions = status.conditions.clone().unwrap_or_default();
        let mut requeue: Requeue = None;
        if status.start_time.is_none() && !suspended {
            status.start_time = Some(Time(now));
        }

        // What finishes the Job, if anything (interim condition type,
        // reason, message).
        let mut finishing: Option<(String, String, String)> = None;
        if let Some(c) = condition(&old, "SuccessCriteriaMet") {
            finishing = Some(("SuccessCriteriaMet".into(), reason(c), message(c)));
        } else if let Some(c) = condition(&old, "FailureTarget") {
            finishing = Some(("FailureTarget".into(), reason(c), message(c)));
        } else if let Some(msg) = self.fail_job_message(job, pods) {
            finishing = Some(("FailureTarget".into(), "PodFailurePolicy".into(), msg));
        }
        if finishing.is_none() {
            let backoff_limit = spec.backoff_limit.unwrap_or(6);
            if counts.failed > backoff_limit || past_backoff_limit_on_failure(job, pods) {
                finishing = Some((
                    "FailureTarget".into(),
                    "BackoffLimitExceeded".into(),
                    "Job has reached the specified backoff limit".into(),
                ));
            } else if let Some(left) = deadline_left(job, &status, now) {
                if left.is_zero() {
                    finishing = Some((
                        "FailureTarget".into(),
                        "DeadlineExceeded".into(),
                        "Job was active longer than specified deadline".into(),
                    ));
                } else {
                    requeue = Some(left);
                }
            }
        }

        if finishing.is_none() && spec.completion_mode.as_deref() == Some("Indexed") {
            let completions = spec.completions.unwrap_or(0);
            let succeeded = counts.succeeded_indexes.clone().unwrap_or_default();
            if spec.backoff_limit_per_index.is_some() {
                let failed = counts.failed_indexes.len();
                if spec
                    .max_failed_indexes
                    .is_some_and(|m| failed > m.max(0) as usize)
                {
                    finishing = Some((
                        "FailureTarget".into(),
                        "MaxFailedIndexesExceeded".into(),
                        "Job has exceeded the specified maximal number of failed indexes".into(),
                    ));
                } else if failed > 0 && failed + succeeded.len() >= completions.max(0) as usize {
                    finishing = Some((
                        "FailureTarget".into(),
                        "FailedIndexes".into(),
                        "Job has failed indexes".into(),
                    ));
                }
            }
            if finishing.is_none()
                && let Some(rule) = indexed::matched_success_rule(
                    spec.success_policy.as_ref(),
                    completions,
                    &succeeded,
                )
            {
                finishing = Some((
                    "SuccessCriteriaMet".into(),
                    "SuccessPolicy".into(),
                    format!("Matched rules at index {rule}"),
                ));
            }
        }

        let mut active = counts.active.len() as i32;
        let mut terminating = counts.terminating;
        let mut ready = counts.ready;
        let mut manage_error = None;
        let satisfied = self.expectations.satisfied(key);
        if finishing.is_some() {
            if !counts.active.is_empty() {
                let (deleted, deleted_ready, err) =
                    self.delete_pods(key, job, &counts.active).await;
                active -= deleted;
                terminating += deleted;
                ready -= deleted_ready;
                manage_error = err;
            }
        } else {
            if satisfied && job.metadata.deletion_timestamp.is_none() {
                match self.manage(key, job, &counts, now).await {
                    Ok((a, t, r, again)) => {
                        active = a;
                        terminating += t;
                        ready -= r;
                        requeue = min_requeue(requeue, again);
                    }
                    Err(e) => manage_error = Some(e),
                }
                if suspended {
                    if ensure_condition(
                        &mut conditions,
                        "Suspended",
                        "True",
                        "JobSuspended",
                        "Job suspended",
                        now,
                    ) {
                        self.recorder
                            .event(job, EventType::Normal, "Suspended", "Job suspended");
                    }
                } else if ensure_condition(
                    &mut conditions,
                    "Suspended",
                    "False",
                    "JobResumed",
                    "Job resumed",
                    now,
                ) {
                    self.recorder
                        .event(job, EventType::Normal, "Resumed", "Job resumed");
                    status.start_time = Some(Time(now));
                }
            }
            let complete = match spec.completions {
                None => counts.succeeded > 0 && active == 0,
                Some(c) => counts.succeeded >= c && active == 0,
            };
            if complete {
                finishing = Some((
                    "SuccessCriteriaMet".into(),
                    "CompletionsReached".into(),
                    "Reached expected number of succeeded pods".into(),
                ));
            }
        }

        // Interim condition, then the terminal one once nothing runs.
        let mut finished = None;
        if let Some((type_, reason, message)) = &finishing {
            if !conditions
                .iter()
                .any(|c| c.type_ == *type_ && c.status == "True")
            {
                conditions.push(new_condition(type_, "True", reason, message, now));
            }
            if active == 0 && terminating == 0 {
                let terminal = if type_ == "SuccessCriteriaMet" {
                    "Complete"
                } else {
                    "Failed"
                };
                ensure_condition(&mut conditions, terminal, "True", reason, message, now);
                if terminal == "Complete" {
                    status.completion_time = Some(Time(now));
                }
                finished = Some((terminal, reason.clone(), message.clone()));
            }
        }

        status.active = Some(active);
        status.ready = Some(ready);
        status.terminating = Some(terminating);
        if let Some(set) = &counts.succeeded_indexes {
            status.succeeded = Some(set.len() as i32);
            status.completed_indexes = Some(format_indexes(set));
        }
        status.conditions = (!conditions.is_empty()).then_some(conditions);
        if status != old {
            let api: Api<Job> = Api::namespaced(
                self.cluster.client.clone(),
                &job.namespace().unwrap_or_default(),
            );
            let mut new = job.clone();
            new.status = Some(status.clone());
            match api
                .replace_status(&job.name_any(), &PostParams::default(), &new)
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e).context("updating Job status"),
            }
            if let Some((terminal, reason, message)) = finished {
                if terminal == "Complete" {
                    if spec.completions.is_some_and(|c| counts.succeeded > c) {
                        self.recorder.event(
                            job,
                            EventType::Warning,
                            "TooManySucceededPods",
                            "Too many succeeded pods running after completion count reached",
                        );
                    }
                    self.recorder
                        .event(job, EventType::Normal, "Completed", "Job completed");
                } else {
                    self.recorder
                        .event(job, EventType::Warning, &reason, message);
                }
            }
        }
        match manage_error {
            Some(e) => Err(e),
            None => Ok(requeue),
        }
    }

    fn fail_job_message(&self, job: &Job, pods: &[&Pod]) -> Option<String> {
        let rules = &job.spec.as_ref()?.pod_failure_policy.as_ref()?.rules;
        pods.iter()
            .filter(|p| phase(p) == "Failed")
            .find_map(|p| match_pod_failure_policy(rules, p).and_then(|m| m.message))
    }

    /// Create or delete pods toward the wanted number of active pods.
    /// Returns (active, newly terminating, deleted ready, requeue).
    async fn manage(
        &self,
        key: &str,
        job: &Job,
        counts: &Counts<'_>,
        now: Timestamp,
    ) -> Result<(i32, i32, i32, Requeue)> {
        let spec = job.spec.clone().unwrap_or_default();
        let active = counts.active.len() as i32;
        if spec.suspend == Some(true) {
            let (deleted, ready, err) = self.delete_pods(key, job, &counts.active).await;
            return match err {
                Some(e) => Err(e),
                None => Ok((active - deleted, deleted, ready, None)),
            };
        }
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let per_index = indexed && spec.backoff_limit_per_index.is_some();
        let failed_indexes = counts.failed_indexes.len() as i32;
        let want = match spec.completions {
            None if counts.succeeded > 0 => active,
            None => parallelism,
            Some(c) => (c - counts.succeeded - failed_indexes).clamp(0, parallelism),
        };
        let mut remove = removable_indexed(counts, indexed, spec.completions.unwrap_or(0));
        let keep: Vec<&Pod> = counts
            .active
            .iter()
            .copied()
            .filter(|p| !remove.iter().any(|r| r.uid() == p.uid()))
            .collect();
        let extra = (keep.len() as i32 - want).max(0) as usize;
        if extra > 0 {
            let mut victims = keep.clone();
            pods::sort_for_deletion(&mut victims, &keep);
            remove.extend(victims.into_iter().take(extra));
        }
        remove.truncate(BURST);
        if !remove.is_empty() {
            let (deleted, ready, err) = self.delete_pods(key, job, &remove).await;
            return match err {
                Some(e) => Err(e),
                None => Ok((active - deleted, deleted, ready, None)),
            };
        }
        let terminating = if spec.pod_replacement_policy.as_deref() == Some("Failed") {
            counts.terminating
        } else {
            0
        };
        let diff = want - terminating - active;
        if diff <= 0 {
            return Ok((active, 0, 0, None));
        }
        if !per_index {
            let failed_times: Vec<Timestamp> = job_pods_with_phase(&self.cluster, job, "Failed")
                .iter()
                .map(|p| finished_at(p))
                .collect();
            let last_success = job_pods_with_phase(&self.cluster, job, "Succeeded")
                .iter()
                .map(|p| finished_at(p))
                .max();
            let wait = backoff_remaining(&failed_times, last_success, now);
            if !wait.is_zero() {
                return Ok((active, 0, 0, Some(wait)));
            }
        }
        let mut n = (diff as usize).min(BURST);
        // With retries per index, each index backs off on its own.
        let mut index_wait: Requeue = None;
        let indexes: Vec<Option<i32>> = if indexed {
            let completions = spec.completions.unwrap_or(0);
            let mut list =
                pending_indexes(counts, completions, if per_index { usize::MAX } else { n });
            if per_index {
                list.retain(|i| {
                    let failed: Vec<Timestamp> = counts
                        .all
                        .iter()
                        .filter(|p| phase(p) == "Failed" && completion_index(p) == Some(*i))
                        .map(|p| finished_at(p))
                        .collect();
                    let wait = backoff_remaining(&failed, None, now);
                    if !wait.is_zero() {
                        index_wait = min_requeue(index_wait, Some(wait));
                    }
                    wait.is_zero()
                });
                list.truncate(n);
            }
            n = list.len();
            list.into_iter().map(Some).collect()
        } else {
            vec![None; n]
        };
        if n == 0 {
            return Ok((active, 0, 0, index_wait));
        }
        self.expectations.expect(key, n as i64, []);
        let api: Api<api::Pod> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        let owner = pods::owner_ref(job);
        let ns = job.namespace().unwrap_or_default();
        let make = |i: usize| {
            let index = indexes.get(i).copied().flatten();
            let (mut template, generate_name) = indexed_template(job, index);
            if per_index && let Some(index) = index {
                let replaced = indexed::last_failed(&counts.all, index);
                let (failures, ignored) = indexed::replacement_counts(job, replaced);
                let annotations = template
                    .metadata
                    .get_or_insert_with(Default::default)
                    .annotations
                    .get_or_insert_with(Default::default);
                annotations.insert(indexed::INDEX_FAILURE_COUNT.into(), failures.to_string());
                if ignored > 0 {
                    annotations.insert(
                        indexed::INDEX_IGNORED_FAILURE_COUNT.into(),
                        ignored.to_string(),
                    );
                }
            }
            let mut pod =
                pods::pod_from_template(&template, &ns, generate_name, Some(owner.clone()));
            pod.metadata
                .finalizers
                .get_or_insert_with(Vec::new)
                .push(TRACKING_FINALIZER.to_owned());
            pod
        };
        let owner = Owner {
            object: job,
            key,
            expectations: &self.expectations,
            recorder: &self.recorder,
        };
        let (made, first_error) = create_pods(&api, n, make, owner).await;
        match first_error {
            Some(e) => Err(e),
            None => Ok((active + made as i32, 0, 0, None)),
        }
    }

    /// Delete pods; returns (deleted, deleted that were ready, error).
    async fn delete_pods(
        &self,
        key: &str,
        job: &Job,
        victims: &[&Pod],
    ) -> (i32, i32, Option<anyhow::Error>) {
        let api: Api<Pod> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        self.expectations
            .expect(key, 0, victims.iter().map(|p| p.name_any()));
        let targets: Vec<(String, Option<String>, bool)> = victims
            .iter()
            .map(|p| (p.name_any(), p.uid(), pods::is_ready(p)))
            .collect();
        let results = futures::stream::iter(targets.into_iter().map(|(name, uid, ready)| {
            let api = api.clone();
            async move {
                let dp = uid_guarded(uid);
                (name.clone(), ready, api.delete(&name, &dp).await)
            }
        }))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
        let (mut deleted, mut deleted_ready, mut first_error) = (0, 0, None);
        for (name, ready, r) in results {
            match r {
                Ok(_) => {
                    deleted += 1;
                    deleted_ready += i32::from(ready);
                    self.recorder.event(
                        job,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    );
                }
                Err(e) => {
                    self.expectations.pod_deletion_observed(key, &name);
                    if is_not_found(&e) {
                        deleted += 1;
                        deleted_ready += i32::from(ready);
                    } else if first_error.is_none() {
                        self.recorder.event(
                            job,
                            EventType::Warning,
                            "FailedDelete",
                            format!("Error deleting: {}", api_error(&e)),
                        );
                        first_error = Some(anyhow::anyhow!("deleting {name}: {}", api_error(&e)));
                    }
                }
            }
        }
        (deleted, deleted_ready, first_error)
    }

    /// `ttlSecondsAfterFinished`: delete a finished Job once its time is
    /// up (as upstream's ttl-after-finished controller).
    async fn expire(&self, job: &Job) -> Result<Requeue> {
        let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
            return Ok(None);
        };
        let status = job.status.clone().unwrap_or_default();
        let finished = condition(&status, "Complete")
            .or_else(|| condition(&status, "Failed"))
            .and_then(|c| c.last_transition_time.as_ref())
            .or(status.completion_time.as_ref())
            .map(|t| t.0)
            .unwrap_or_else(Timestamp::now);
        let expire_at = finished + SignedDuration::from_secs(ttl.into());
        let now = Timestamp::now();
        if expire_at > now {
            let left = Duration::try_from(expire_at.duration_since(now)).unwrap_or(Duration::ZERO);
            return Ok(Some(left));
        }
        let api: Api<Job> = Api::namespaced(
            self.cluster.client.clone(),
            &job.namespace().unwrap_or_default(),
        );
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            preconditions: Some(Preconditions {
                uid: job.uid(),
                resource_version: job.resource_version(),
            }),
            ..Default::default()
        };
        match api.delete(&job.name_any(), &dp).await {
            Ok(_) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e).context("deleting an expired Job"),
        }
    }
}

fn reason(c: &JobCondition) -> String {
    c.reason.clone().unwrap_or_default()
}

fn message(c: &JobCondition) -> String {
    c.message.clone().unwrap_or_default()
}

/// Whether the pod still waits to be counted.
fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

/// Remove the tracking finalizer (guarded by the pod's resourceVersion;
/// a pod already gone is fine).
async fn remove_tracking_finalizer(api: &Api<Pod>, pod: &Pod) -> Result<()> {
    let Some(patch) = finalizer_patch(&pod.metadata, TRACKING_FINALIZER, false) else {
        return Ok(());
    };
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e)
            .with_context(|| format!("removing the tracking finalizer of pod {}", pod.name_any())),
    }
}

fn min_requeue(a: Requeue, b: Requeue) -> Requeue {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The Job's pods in `phase`, from the cache.
fn job_pods_with_phase(cluster: &Cluster, job: &Job, want: &str) -> Vec<Arc<Pod>> {
    let uid = job.uid().unwrap_or_default();
    cluster
        .pods
        .list_namespace(&job.namespace().unwrap_or_default())
        .into_iter()
        .filter(|p| controller_ref(&p.metadata).is_some_and(|r| r.uid == uid) && phase(p) == want)
        .collect()
}

/// Time left before `activeDeadlineSeconds` (zero: past it); None without
/// a deadline or while suspended.
fn deadline_left(job: &Job, status: &JobStatus, now: Timestamp) -> Option<Duration> {
    let spec = job.spec.as_ref()?;
    let secs = spec.active_deadline_seconds?;
    if spec.suspend == Some(true) {
        return None;
    }
    let start = status.start_time.as_ref()?.0;
    let end = start + SignedDuration::from_secs(secs);
    Some(Duration::try_from(end.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// Restart counts of OnFailure pods past the backoff limit.
fn past_backoff_limit_on_failure(job: &Job, pods: &[&Pod]) -> bool {
    let Some(spec) = job.spec.as_ref() else {
        return false;
    };
    let restart_policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref());
    if restart_policy != Some("OnFailure") {
        return false;
    }
    let restarts: i32 = pods
        .iter()
        .filter(|p| matches!(phase(p), "Running" | "Pending"))
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .map(|c| c.restart_count)
        .sum();
    let limit = spec.backoff_limit.unwrap_or(6);
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= limit
    }
}

/// Active pods of an Indexed Job that must go: no valid index, out of
/// range, already succeeded, or a duplicate of another active pod.
fn removable_indexed<'a>(counts: &Counts<'a>, indexed: bool, completions: i32) -> Vec<&'a Pod> {
    if !indexed {
        return Vec::new();
    }
    let done = counts.succeeded_indexes.clone().unwrap_or_default();
    let mut seen: BTreeMap<i32, ()> = BTreeMap::new();
    let mut out = Vec::new();
    for p in &counts.active {
        match completion_index(p) {
            Some(i) if i < completions && !done.contains(&i) && seen.insert(i, ()).is_none() => {}
            _ => out.push(*p),
        }
    }
    out
}

/// The lowest `n` indexes neither succeeded nor running.
fn pending_indexes(counts: &Counts<'_>, completions: i32, n: usize) -> Vec<i32> {
    let mut done = counts.succeeded_indexes.clone().unwrap_or_default();
    done.extend(counts.failed_indexes.iter().copied());
    let running: BTreeSet<i32> = counts
        .active
        .iter()
        .filter_map(|p| completion_index(p))
        .collect();
    (0..completions)
        .filter(|i| !done.contains(i) && !running.contains(i))
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completed_indexes_round_trip() {
        let set = parse_indexes("0-2,4,6-7");
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 4, 6, 7]);
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(format_indexes(&parse_indexes("1,0")), "0-1");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
    }

    #[test]
    fn backoff_doubles_from_ten_seconds() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = |s: i64| t0 + SignedDuration::from_secs(s);
        assert_eq!(backoff_remaining(&[], None, t0), Duration::ZERO);
        assert_eq!(
            backoff_remaining(&[at(0)], None, at(4)),
            Duration::from_secs(6)
        );
        assert_eq!(
            backoff_remaining(&[at(0), at(10)], None, at(10)),
            Duration::from_secs(20)
        );
        // Failures before the last success do not count.
        assert_eq!(
            backoff_remaining(&[at(0), at(10)], Some(at(11)), at(12)),
            Duration::ZERO
        );
        let many: Vec<_> = (0..20).map(at).collect();
        assert_eq!(backoff_remaining(&many, None, at(19)), BACKOFF_MAX);
    }

    #[test]
    fn pod_failure_policy_rules() {
        let rules: Vec<PodFailurePolicyRule> = serde_json::from_value(json!([
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [42]}},
        ]))
        .unwrap();
        let pod = |code: i32, cond: bool| -> Pod {
            serde_json::from_value(json!({
                "metadata": {"name": "p", "namespace": "ns"},
                "status": {
                    "phase": "Failed",
                    "conditions": if cond { json!([{"type": "DisruptionTarget", "status": "True"}]) } else { json!([]) },
                    "containerStatuses": [{"name": "main", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": code}}}]
                }
            }))
            .unwrap()
        };
        let m = match_pod_failure_policy(&rules, &pod(42, false)).unwrap();
        assert_eq!(m.action, "FailJob");
        assert_eq!(
            m.message.as_deref(),
            Some(
                "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"
            )
        );
        assert_eq!(
            match_pod_failure_policy(&rules, &pod(1, false))
                .unwrap()
                .action,
            "Count"
        );
        assert_eq!(
            match_pod_failure_policy(&rules, &pod(1, true))
                .unwrap()
                .action,
            "Ignore"
        );
    }

    #[test]
    fn conditions_are_added_and_flipped_as_upstream() {
        let now = Timestamp::now();
        let mut c = Vec::new();
        assert!(!ensure_condition(
            &mut c,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert!(ensure_condition(
            &mut c,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(!ensure_condition(
            &mut c,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(ensure_condition(
            &mut c,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, "False");
    }
}
