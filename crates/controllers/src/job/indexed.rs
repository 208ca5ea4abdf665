//! What only Indexed Jobs have, as pure functions over the Job and its
//! pods: upstream's `successPolicy` (finish once chosen indexes
//! succeeded) and `backoffLimitPerIndex` (each index retried on its own;
//! an index that runs out of retries is failed, and too many failed
//! indexes fail the Job).

use std::collections::BTreeSet;

use crate::slim::Pod;
use k8s_openapi::api::batch::v1::{Job, SuccessPolicy};

use super::{completion_index, match_pod_failure_policy, parse_indexes, phase};

/// The failures of the index before this pod (annotation on every pod
/// of a Job with `backoffLimitPerIndex`).
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
/// The failures of the index before this pod that the pod failure policy
/// ignored.
pub const INDEX_IGNORED_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-ignored-failure-count";

/// A non-negative count from a pod annotation (0 when absent or invalid).
fn annotation_count(pod: &Pod, key: &str) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| *n >= 0)
        .unwrap_or(0)
}

/// Whether a failed pod counts against the limits (no policy rule says
/// `Ignore`), and whether its rule says `FailIndex`.
fn failure_kind(job: &Job, pod: &Pod) -> (bool, bool) {
    let rules = job
        .spec
        .as_ref()
        .and_then(|s| s.pod_failure_policy.as_ref())
        .map(|p| p.rules.as_slice())
        .unwrap_or_default();
    match match_pod_failure_policy(rules, pod) {
        Some(m) => (m.action != "Ignore", m.action == "FailIndex"),
        None => (true, false),
    }
}

/// Whether this failed pod fails its index (upstream's `isIndexFailed`):
/// its policy rule says `FailIndex`, or it counts and its index had
/// failed `backoffLimitPerIndex` times before it.
pub fn fails_index(job: &Job, pod: &Pod) -> bool {
    let Some(limit) = job.spec.as_ref().and_then(|s| s.backoff_limit_per_index) else {
        return false;
    };
    if phase(pod) != "Failed" {
        return false;
    }
    let (counts, fail_index) = failure_kind(job, pod);
    fail_index || (counts && annotation_count(pod, INDEX_FAILURE_COUNT) >= limit)
}

/// The failed indexes: those in `status.failedIndexes`, and those of
/// failed pods not counted yet (`tracked`: still carrying the tracking
/// finalizer) that fail their index.
pub fn failed_indexes(job: &Job, tracked: &[&Pod]) -> BTreeSet<i32> {
    let completions = job.spec.as_ref().and_then(|s| s.completions).unwrap_or(0);
    let status = job.status.as_ref();
    let mut set = parse_indexes(
        status
            .and_then(|s| s.failed_indexes.as_deref())
            .unwrap_or(""),
    );
    set.retain(|i| *i < completions);
    set.extend(
        tracked
            .iter()
            .filter(|p| fails_index(job, p))
            .filter_map(|p| completion_index(p))
            .filter(|i| *i < completions),
    );
    set
}

/// The failure annotations of the pod replacing `replaced` (the index's
/// last failed pod), as upstream's `getNewIndexFailureCounts`.
pub fn replacement_counts(job: &Job, replaced: Option<&Pod>) -> (i32, i32) {
    let Some(pod) = replaced else {
        return (0, 0);
    };
    let (failures, ignored) = (
        annotation_count(pod, INDEX_FAILURE_COUNT),
        annotation_count(pod, INDEX_IGNORED_FAILURE_COUNT),
    );
    if failure_kind(job, pod).0 {
        (failures.saturating_add(1), ignored)
    } else {
        (failures, ignored.saturating_add(1))
    }
}

/// The index's latest failed pod: the most failures, then the latest.
pub fn last_failed<'a>(pods: &[&'a Pod], index: i32) -> Option<&'a Pod> {
    pods.iter()
        .copied()
        .filter(|p| phase(p) == "Failed" && completion_index(p) == Some(index))
        .max_by_key(|p| {
            (
                annotation_count(p, INDEX_FAILURE_COUNT)
                    + annotation_count(p, INDEX_IGNORED_FAILURE_COUNT),
                p.metadata.creation_timestamp.clone(),
            )
        })
}

/// The first rule of a success policy the succeeded indexes meet (its
/// position), as upstream's `matchSuccessPolicy`: all of its
/// `succeededIndexes` (or `succeededCount` of them), or `succeededCount`
/// indexes of any.
pub fn matched_success_rule(
    policy: Option<&SuccessPolicy>,
    completions: i32,
    succeeded: &BTreeSet<i32>,
) -> Option<usize> {
    policy?.rules.iter().position(|rule| {
        let chosen = rule.succeeded_indexes.as_deref().map(|s| {
            let mut set = parse_indexes(s);
            set.retain(|i| *i < completions);
            set
        });
        let done = match &chosen {
            Some(set) => set.intersection(succeeded).count(),
            None => succeeded.len(),
        } as i64;
        match (rule.succeeded_count, &chosen) {
            (Some(n), _) => done >= i64::from(n),
            (None, Some(set)) => !set.is_empty() && done == set.len() as i64,
            (None, None) => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::SuccessPolicyRule;
    use serde_json::json;

    fn job(limit: Option<i32>) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "j"},
            "spec": {
                "completions": 4,
                "completionMode": "Indexed",
                "backoffLimitPerIndex": limit,
                "template": {"spec": {"containers": []}},
            },
        }))
        .unwrap()
    }

    fn pod(index: i32, phase: &str, failures: Option<i32>) -> Pod {
        let mut annotations =
            json!({"batch.kubernetes.io/job-completion-index": index.to_string()});
        if let Some(n) = failures {
            annotations[INDEX_FAILURE_COUNT] = json!(n.to_string());
        }
        serde_json::from_value(json!({
            "metadata": {"name": format!("p{index}"), "annotations": annotations},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn an_index_fails_once_its_retries_are_spent() {
        let j = job(Some(1));
        assert!(
            !fails_index(&j, &pod(0, "Failed", Some(0))),
            "first failure: retried"
        );
        assert!(
            fails_index(&j, &pod(0, "Failed", Some(1))),
            "second failure: index failed"
        );
        assert!(!fails_index(&j, &pod(0, "Running", Some(5))));
        assert!(!fails_index(&job(None), &pod(0, "Failed", Some(9))));
        let p1 = pod(1, "Failed", Some(1));
        let p2 = pod(2, "Failed", Some(0));
        assert_eq!(failed_indexes(&j, &[&p1, &p2]), BTreeSet::from([1]));
        assert_eq!(replacement_counts(&j, Some(&p2)), (1, 0));
        assert_eq!(replacement_counts(&j, None), (0, 0));
    }

    #[test]
    fn success_rules_as_upstream() {
        let rule = |indexes: Option<&str>, count: Option<i32>| SuccessPolicyRule {
            succeeded_indexes: indexes.map(str::to_owned),
            succeeded_count: count,
        };
        let policy = SuccessPolicy {
            rules: vec![
                rule(Some("0,2"), None),
                rule(None, Some(3)),
                rule(Some("1-3"), Some(2)),
            ],
        };
        let done = |v: &[i32]| v.iter().copied().collect::<BTreeSet<i32>>();
        assert_eq!(matched_success_rule(Some(&policy), 4, &done(&[0])), None);
        assert_eq!(
            matched_success_rule(Some(&policy), 4, &done(&[0, 2])),
            Some(0)
        );
        assert_eq!(
            matched_success_rule(Some(&policy), 4, &done(&[1, 3])),
            Some(2)
        );
        assert_eq!(
            matched_success_rule(Some(&policy), 4, &done(&[0, 1, 3])),
            Some(1)
        );
        assert_eq!(matched_success_rule(None, 4, &done(&[0, 1, 2, 3])), None);
    }
}
