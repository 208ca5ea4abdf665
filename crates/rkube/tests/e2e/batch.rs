//! The Job and CronJob controllers inside `rkube server`, through the real
//! kubectl, with simulated nodes (`rkube sim`) running the pods to
//! completion (`sim.rkube.io/run-for`) or failure (`sim.rkube.io/exit-code`).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Sim, condition, eventually};
use crate::{Backend, OutputExt, RkubeServer, create, get_json, server};

/// A Job manifest; `extra` is added to its spec, `annotations` to its pods.
fn job(name: &str, extra: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{extra}  template:
    metadata:
      annotations: {{{annotations}}}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
"
    )
}

/// The pods of Job `name`.
fn job_pods(s: &RkubeServer, name: &str) -> Vec<Value> {
    let list = get_json(
        s,
        &[
            "pods",
            "-l",
            &format!("batch.kubernetes.io/job-name={name}"),
        ],
    );
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Events about object `name`: (reason, message).
fn events_for(s: &RkubeServer, name: &str) -> Vec<(String, String)> {
    let list = get_json(s, &["events"]);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == name)
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn wait_event(s: &RkubeServer, name: &str, reason: &str, secs: u64) -> String {
    eventually(s, &format!("a {reason} event for {name}"), secs, || {
        events_for(s, name)
            .into_iter()
            .find(|(r, _)| r == reason)
            .map(|(_, m)| m)
    })
}

#[test]
fn a_job_completes_with_bounded_parallelism() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        &job(
            "work",
            "  completions: 5\n  parallelism: 2\n",
            "sim.rkube.io/run-for: 1s",
        ),
    );
    let mut most_active = 0;
    let done = eventually(&s, "the Job to complete", 60, || {
        let running = job_pods(&s, "work")
            .iter()
            .filter(|p| {
                p["status"]["phase"] != "Succeeded"
                    && p["status"]["phase"] != "Failed"
                    && p["metadata"]["deletionTimestamp"].is_null()
            })
            .count();
        most_active = most_active.max(running);
        let j = get_json(&s, &["job", "work"]);
        most_active = most_active.max(j["status"]["active"].as_u64().unwrap_or(0) as usize);
        (condition(&j, "Complete")["status"] == "True").then_some(j)
    });
    assert!(most_active <= 2, "{most_active} pods ran at once");
    s.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/work",
        "--timeout=5s",
    ])
    .ok();
    assert_eq!(done["status"]["succeeded"], 5);
    assert_eq!(
        done["status"]["uncountedTerminatedPods"],
        serde_json::json!({})
    );
    assert_eq!(done["status"]["active"], 0);
    assert_eq!(done["status"]["ready"], 0);
    assert!(done["status"]["startTime"].is_string());
    assert!(done["status"]["completionTime"].is_string());
    for type_ in ["SuccessCriteriaMet", "Complete"] {
        let c = condition(&done, type_);
        assert_eq!(c["reason"], "CompletionsReached", "{type_}");
        assert_eq!(c["message"], "Reached expected number of succeeded pods");
    }
    // Pods carry the Job's labels and a controller reference.
    let pods = job_pods(&s, "work");
    assert_eq!(pods.len(), 5);
    let uid = done["metadata"]["uid"].as_str().unwrap();
    for p in &pods {
        assert_eq!(p["status"]["phase"], "Succeeded");
        // Counted: the tracking finalizer is gone.
        assert!(p["metadata"]["finalizers"].is_null(), "{p:#}");
        let labels = &p["metadata"]["labels"];
        assert_eq!(labels["batch.kubernetes.io/controller-uid"], uid);
        assert_eq!(labels["controller-uid"], uid);
        assert_eq!(labels["job-name"], "work");
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(
            (owner["kind"].as_str(), owner["controller"].as_bool()),
            (Some("Job"), Some(true))
        );
        assert!(p["metadata"]["name"].as_str().unwrap().starts_with("work-"));
    }
    let events = events_for(&s, "work");
    assert!(
        events.contains(&("Completed".into(), "Job completed".into())),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(r, m)| r == "SuccessfulCreate" && m.starts_with("Created pod: work-")),
        "{events:?}"
    );
    // kubectl's table.
    let out = s.kubectl(&["get", "job", "work"]).ok();
    assert!(out.contains("Complete") && out.contains("5/5"), "{out}");
}

/// Pods carry the tracking finalizer until counted: a running pod a user
/// deletes is still counted as failed (and replaced), and deleting the Job
/// releases the pods it leaves.
#[test]
fn a_deleted_pod_is_counted_before_it_goes() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        &job(
            "long",
            "  backoffLimit: 3
",
            "sim.rkube.io/run-for: 1h",
        ),
    );
    let first = eventually(&s, "a running pod", 30, || {
        job_pods(&s, "long")
            .into_iter()
            .find(|p| p["status"]["phase"] == "Running")
    });
    assert_eq!(
        first["metadata"]["finalizers"],
        serde_json::json!(["batch.kubernetes.io/job-tracking"]),
        "{first:#}"
    );
    let name = first["metadata"]["name"].as_str().unwrap().to_owned();
    s.kubectl(&["delete", "pod", &name, "--wait=false"]).ok();
    let j = eventually(&s, "the deleted pod to be counted", 60, || {
        let j = get_json(&s, &["job", "long"]);
        (j["status"]["failed"] == 1).then_some(j)
    });
    assert_eq!(
        j["status"]["uncountedTerminatedPods"],
        serde_json::json!({}),
        "{j:#}"
    );
    eventually(&s, "the pod to go and a replacement to run", 60, || {
        let pods = job_pods(&s, "long");
        let gone = pods.iter().all(|p| p["metadata"]["name"] != name.as_str());
        let replaced = pods
            .iter()
            .any(|p| p["status"]["phase"] == "Running" && p["metadata"]["name"] != name.as_str());
        (gone && replaced).then_some(())
    });
    // The Job goes; so do its pods, finalizers released.
    s.kubectl(&["delete", "job", "long", "--timeout=60s"]).ok();
    eventually(&s, "the Job's pods to be deleted", 60, || {
        job_pods(&s, "long").is_empty().then_some(())
    });
}

#[test]
fn a_failing_job_backs_off_then_fails() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        &job(
            "fails",
            "  backoffLimit: 1\n",
            "sim.rkube.io/run-for: 1s, sim.rkube.io/exit-code: \"1\"",
        ),
    );
    let failed = eventually(&s, "the Job to fail", 60, || {
        let j = get_json(&s, &["job", "fails"]);
        (condition(&j, "Failed")["status"] == "True").then_some(j)
    });
    let c = condition(&failed, "Failed");
    assert_eq!(c["reason"], "BackoffLimitExceeded");
    assert_eq!(c["message"], "Job has reached the specified backoff limit");
    assert_eq!(
        condition(&failed, "FailureTarget")["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(failed["status"]["failed"], 2);
    assert_eq!(condition(&failed, "Complete"), &Value::Null);
    // Two pods, the second created about 10 s (the backoff) after the first
    // failed.
    let mut pods = job_pods(&s, "fails");
    assert_eq!(pods.len(), 2);
    let created = |p: &Value| -> k8s_openapi::jiff::Timestamp {
        p["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    pods.sort_by_key(created);
    let gap = created(&pods[1]).duration_since(created(&pods[0]));
    assert!(gap.as_secs() >= 9, "the replacement came after {gap:?}");
    let msg = wait_event(&s, "fails", "BackoffLimitExceeded", 10);
    assert_eq!(msg, "Job has reached the specified backoff limit");
}

#[test]
fn a_pod_failure_policy_fails_the_job_at_once() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    let spec = "  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main
        operator: In
        values: [42]
";
    create(
        &s,
        &job(
            "policy",
            spec,
            "sim.rkube.io/run-for: 1s, sim.rkube.io/exit-code: \"42\"",
        ),
    );
    let failed = eventually(&s, "the Job to fail", 30, || {
        let j = get_json(&s, &["job", "policy"]);
        (condition(&j, "Failed")["status"] == "True").then_some(j)
    });
    let pod = &job_pods(&s, "policy")[0];
    let c = condition(&failed, "Failed");
    assert_eq!(c["reason"], "PodFailurePolicy");
    assert_eq!(
        c["message"],
        format!(
            "Container main for pod default/{} failed with exit code 42 matching FailJob rule at index 0",
            pod["metadata"]["name"].as_str().unwrap()
        )
    );
}

/// `backoffLimitPerIndex`: index 1 fails every time; it is retried once
/// (its replacement carries the index's failure count), then marked
/// failed while the other indexes complete; the Job fails with
/// `FailedIndexes`.
#[test]
fn each_index_has_its_own_retries() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        &job(
            "per-index",
            "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n  backoffLimitPerIndex: 1\n",
            "sim.rkube.io/run-for: 1s, sim.rkube.io/exit-code.1: \"1\"",
        ),
    );
    let failed = eventually(&s, "the Job to fail", 90, || {
        let j = get_json(&s, &["job", "per-index"]);
        (condition(&j, "Failed")["status"] == "True").then_some(j)
    });
    let c = condition(&failed, "Failed");
    assert_eq!(c["reason"], "FailedIndexes", "{failed:#}");
    assert_eq!(c["message"], "Job has failed indexes");
    assert_eq!(failed["status"]["failedIndexes"], "1", "{failed:#}");
    assert_eq!(failed["status"]["completedIndexes"], "0,2");
    assert_eq!(failed["status"]["succeeded"], 2);
    assert_eq!(failed["status"]["failed"], 2);
    assert_eq!(failed["spec"]["backoffLimit"], i32::MAX, "defaulted");
    // Index 1 ran twice; the retry knew it was one.
    let mut counts: Vec<String> = job_pods(&s, "per-index")
        .iter()
        .filter(|p| p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "1")
        .map(|p| {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
                .as_str()
                .unwrap_or("-")
                .to_owned()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, ["0", "1"]);
}

/// A `successPolicy` finishes the Job once its chosen indexes succeed:
/// the lingering pods are deleted and the Job completes with reason
/// `SuccessPolicy`.
#[test]
fn a_success_policy_completes_the_job_early() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        &job(
            "leader",
            "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n  successPolicy:\n    rules:\n    - succeededIndexes: \"0\"\n",
            "sim.rkube.io/run-for: 1h, sim.rkube.io/run-for.0: 1s",
        ),
    );
    let done = eventually(&s, "the Job to complete", 60, || {
        let j = get_json(&s, &["job", "leader"]);
        (condition(&j, "Complete")["status"] == "True").then_some(j)
    });
    for type_ in ["SuccessCriteriaMet", "Complete"] {
        let c = condition(&done, type_);
        assert_eq!(c["reason"], "SuccessPolicy", "{type_}: {done:#}");
        assert_eq!(c["message"], "Matched rules at index 0");
    }
    assert_eq!(done["status"]["completedIndexes"], "0");
    assert_eq!(done["status"]["active"], 0);
    // The other indexes' pods were stopped.
    for p in job_pods(&s, "leader") {
        let index = &p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"];
        if index != "0" {
            assert!(
                !p["metadata"]["deletionTimestamp"].is_null() || p["status"]["phase"] == "Failed",
                "{p:#}"
            );
        }
    }
}

#[test]
fn an_indexed_job_gives_each_pod_its_index() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 2, &[]);
    create(
        &s,
        &job(
            "idx",
            "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n",
            "sim.rkube.io/run-for: 1s",
        ),
    );
    s.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/idx",
        "--timeout=60s",
    ])
    .ok();
    let j = get_json(&s, &["job", "idx"]);
    assert_eq!(j["status"]["completedIndexes"], "0-2");
    assert_eq!(j["status"]["succeeded"], 3);
    let mut seen = Vec::new();
    for p in job_pods(&s, "idx") {
        let index = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"],
            index.as_str()
        );
        assert_eq!(p["spec"]["hostname"], format!("idx-{index}"));
        assert!(
            p["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with(&format!("idx-{index}-"))
        );
        let env = &p["spec"]["containers"][0]["env"][0];
        assert_eq!(env["name"], "JOB_COMPLETION_INDEX");
        assert_eq!(
            env["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        );
        seen.push(index);
    }
    seen.sort();
    assert_eq!(seen, ["0", "1", "2"]);
}

#[test]
fn a_suspended_job_waits_and_a_finished_one_expires() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        &job(
            "later",
            "  suspend: true\n  ttlSecondsAfterFinished: 3\n",
            "sim.rkube.io/run-for: 1s",
        ),
    );
    let j = eventually(&s, "the Suspended condition", 20, || {
        let j = get_json(&s, &["job", "later"]);
        (condition(&j, "Suspended")["status"] == "True").then_some(j)
    });
    assert_eq!(condition(&j, "Suspended")["reason"], "JobSuspended");
    assert!(j["status"]["startTime"].is_null());
    std::thread::sleep(Duration::from_secs(1));
    assert!(job_pods(&s, "later").is_empty());
    s.kubectl(&[
        "patch",
        "job",
        "later",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":false}}"#,
    ])
    .ok();
    s.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/later",
        "--timeout=30s",
    ])
    .ok();
    let j = get_json(&s, &["job", "later"]);
    let c = condition(&j, "Suspended");
    assert_eq!(
        (c["status"].as_str(), c["reason"].as_str()),
        (Some("False"), Some("JobResumed"))
    );
    let events = events_for(&s, "later");
    assert!(
        events.contains(&("Suspended".into(), "Job suspended".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&("Resumed".into(), "Job resumed".into())),
        "{events:?}"
    );
    // ttlSecondsAfterFinished: gone a few seconds later.
    let finished = Instant::now();
    eventually(&s, "the Job to be deleted", 20, || {
        let out = s.kubectl(&["get", "jobs", "-o", "name"]).ok();
        (!out.contains("job.batch/later")).then_some(())
    });
    assert!(finished.elapsed() >= Duration::from_secs(1));
}

#[test]
fn an_active_deadline_fails_the_job_and_stops_its_pods() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(&s, &job("slow", "  activeDeadlineSeconds: 3\n", ""));
    let failed = eventually(&s, "the Job to fail", 30, || {
        let j = get_json(&s, &["job", "slow"]);
        (condition(&j, "Failed")["status"] == "True").then_some(j)
    });
    let c = condition(&failed, "Failed");
    assert_eq!(c["reason"], "DeadlineExceeded");
    assert_eq!(
        c["message"],
        "Job was active longer than specified deadline"
    );
    assert_eq!(failed["status"]["active"], 0);
    eventually(&s, "the Job's pod to be deleted", 20, || {
        job_pods(&s, "slow").is_empty().then_some(())
    });
    wait_event(&s, "slow", "DeadlineExceeded", 10);
}

/// A CronJob manifest.
fn cron_job(name: &str, extra: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: \"* * * * *\"
{extra}  jobTemplate:
    metadata:
      labels: {{team: batch}}
    spec:
      template:
        metadata:
          annotations: {{{annotations}}}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
"
    )
}

/// Pretend the CronJob last ran two minutes ago, so that the current
/// minute is due now (the controller's missed-schedule path).
fn backdate(s: &RkubeServer, name: &str) {
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let earlier =
        k8s_openapi::jiff::Timestamp::from_second(now - now.rem_euclid(60) - 120).unwrap();
    s.kubectl(&[
        "patch",
        "cronjob",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &format!(r#"{{"status":{{"lastScheduleTime":"{earlier}"}}}}"#),
    ])
    .ok();
}

#[test]
fn a_cron_job_with_forbid_runs_one_job_at_a_time() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(&s, &cron_job("tick", "  concurrencyPolicy: Forbid\n", ""));
    backdate(&s, "tick");
    let cj = eventually(&s, "the first Job", 20, || {
        let cj = get_json(&s, &["cronjob", "tick"]);
        (cj["status"]["active"]
            .as_array()
            .is_some_and(|a| a.len() == 1))
        .then_some(cj)
    });
    let scheduled: k8s_openapi::jiff::Timestamp = cj["status"]["lastScheduleTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(scheduled.as_second() % 60, 0);
    let name = format!("tick-{}", scheduled.as_second() / 60);
    assert_eq!(cj["status"]["active"][0]["name"], name.as_str());
    assert_eq!(cj["status"]["active"][0]["kind"], "Job");
    let j = get_json(&s, &["job", &name]);
    assert_eq!(j["metadata"]["labels"]["team"], "batch");
    assert_eq!(
        j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
        scheduled.to_string()
    );
    let owner = &j["metadata"]["ownerReferences"][0];
    assert_eq!(
        (owner["kind"].as_str(), owner["name"].as_str()),
        (Some("CronJob"), Some("tick"))
    );
    assert_eq!(
        wait_event(&s, "tick", "SuccessfulCreate", 10),
        format!("Created job {name}")
    );
    // The job never ends: at the next minute Forbid keeps a second one
    // from starting.
    let msg = wait_event(&s, "tick", "JobAlreadyActive", 70);
    assert_eq!(
        msg,
        "Not starting job because prior execution is running and concurrency policy is Forbid"
    );
    let jobs = get_json(&s, &["jobs"]);
    assert_eq!(jobs["items"].as_array().unwrap().len(), 1);
}

#[test]
fn a_cron_job_keeps_its_history_within_limits() {
    let s = server(Backend::Sqlite);
    let _sim = Sim::start(&s, 1, &[]);
    create(
        &s,
        &cron_job(
            "hist",
            "  successfulJobsHistoryLimit: 1\n",
            "sim.rkube.io/run-for: 1s",
        ),
    );
    // The template path: kubectl creates a Job from the CronJob.
    s.kubectl(&["create", "job", "by-hand", "--from=cronjob/hist"])
        .ok();
    s.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/by-hand",
        "--timeout=30s",
    ])
    .ok();
    let by_hand = get_json(&s, &["job", "by-hand"]);
    assert_eq!(by_hand["metadata"]["labels"]["team"], "batch");
    assert_eq!(job_pods(&s, "by-hand").len(), 1);
    // The schedule path: the Job runs, completes and is seen; the older
    // finished Job goes (limit 1); the completion is recorded.
    backdate(&s, "hist");
    let seen = wait_event(&s, "hist", "SawCompletedJob", 30);
    assert!(seen.starts_with("Saw completed job: hist-"), "{seen}");
    assert!(seen.ends_with(", condition: Complete"), "{seen}");
    let deleted = wait_event(&s, "hist", "SuccessfulDelete", 10);
    assert_eq!(deleted, "Deleted job by-hand");
    let cj = eventually(&s, "the CronJob's status", 10, || {
        let cj = get_json(&s, &["cronjob", "hist"]);
        (cj["status"]["lastSuccessfulTime"].is_string()
            && cj["status"]["active"]
                .as_array()
                .is_none_or(|a| a.is_empty()))
        .then_some(cj)
    });
    let scheduled: k8s_openapi::jiff::Timestamp = cj["status"]["lastScheduleTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let kept = format!("job.batch/hist-{}", scheduled.as_second() / 60);
    eventually(&s, "only the newest finished Job to remain", 20, || {
        let out = s.kubectl(&["get", "jobs", "-o", "name"]).ok();
        (out.trim() == kept).then_some(())
    });
}
