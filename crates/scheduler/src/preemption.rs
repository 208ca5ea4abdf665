//! Preemption (upstream's DefaultPreemption PostFilter): when a pod fits
//! nowhere, find a node where evicting lower-priority pods makes it fit.
//!
//! As upstream:
//!
//! 1. The pod must be allowed to preempt (`preemptionPolicy` is not
//!    `Never`; no lower-priority pod is already terminating on its
//!    nominated node).
//! 2. Only nodes rejected as `Unschedulable` (not `…AndUnresolvable`: a
//!    taint, node affinity or cordon is not cured by evictions) are tried,
//!    from a random offset, until enough candidates are found
//!    (`minCandidateNodesPercentage` 10% / `minCandidateNodesAbsolute` 100).
//! 3. On each, every pod of lower priority is removed; if the pod then
//!    fits, victims are reprieved one by one, highest priority first and
//!    PodDisruptionBudget-violating ones before the others, whenever the pod
//!    still fits with them back. What remains are the victims.
//! 4. Among candidates, the node is chosen by: fewest PDB violations,
//!    lowest highest-victim priority, smallest sum of priorities, fewest
//!    victims, latest start time of the highest-priority victims.
//!
//! Failure is explained in upstream's words:
//! `0/3 nodes are available: 3 No preemption victims found for incoming
//! pod.` or `... 3 Preemption is not helpful for scheduling.`

use std::cmp::Reverse;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::framework::{Code, CycleState, FitError, Framework, Status, reasons_histogram};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, PdbInfo, Snapshot};

/// Reason for a node without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Reason for the nodes preemption cannot help.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// DefaultPreemptionArgs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreemptionArgs {
    /// Minimum share of candidate nodes to dry-run, in percent (default 10).
    pub min_candidate_nodes_percentage: i32,
    /// Minimum number of candidate nodes to dry-run (default 100).
    pub min_candidate_nodes_absolute: i32,
}

impl Default for PreemptionArgs {
    fn default() -> Self {
        PreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// A successful preemption: nominate the pod to `nominated_node` and evict
/// `victims`.
#[derive(Clone, Debug)]
pub struct PreemptionResult {
    /// The node to put in `status.nominatedNodeName`.
    pub nominated_node: String,
    /// The pods to evict, highest priority first.
    pub victims: Vec<Arc<PodInfo>>,
    /// How many victims violate a PodDisruptionBudget.
    pub num_pdb_violations: usize,
}

/// How many nodes to dry-run (upstream's `calculateNumCandidates`).
pub fn num_candidates(args: &PreemptionArgs, num_nodes: usize) -> usize {
    let n = num_nodes as i64 * i64::from(args.min_candidate_nodes_percentage) / 100;
    (n.max(i64::from(args.min_candidate_nodes_absolute)) as usize).min(num_nodes)
}

/// `MoreImportantPod`: higher priority, then earlier start.
fn importance(p: &PodInfo) -> (Reverse<i32>, i128) {
    (Reverse(p.priority), p.start_time.unwrap_or(i128::MAX))
}

/// Split victims into PDB-violating and non-violating (upstream's
/// `filterPodsWithPDBViolation`), keeping order.
pub fn split_by_pdb_violation(
    pods: &[Arc<PodInfo>],
    pdbs: &[&PdbInfo],
) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i32> = pdbs.iter().map(|p| p.disruptions_allowed).collect();
    let (mut violating, mut ok) = (Vec::new(), Vec::new());
    for p in pods {
        let mut violated = false;
        if !p.labels().is_empty() {
            for (i, pdb) in pdbs.iter().enumerate() {
                if pdb.namespace != p.namespace || !pdb.selector.matches(p.labels()) {
                    continue;
                }
                if pdb.disrupted_pods.contains(&p.name) {
                    continue;
                }
                allowed[i] -= 1;
                if allowed[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(p.clone())
        } else {
            ok.push(p.clone())
        }
    }
    (violating, ok)
}

/// Upstream's `SelectVictimsOnNode`: the victims and how many violate a
/// PDB, or why the node cannot help.
pub(crate) fn select_victims_on_node(
    fw: &Framework,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
    snap: &Snapshot,
    pdbs: &[&PdbInfo],
) -> Result<(Vec<Arc<PodInfo>>, usize), Status> {
    let mut ni = node.clone();
    let mut st = state.clone();
    let mut potential: Vec<Arc<PodInfo>> = node
        .pods()
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    for v in &potential {
        ni.remove_pod(&v.key);
        fw.run_remove_pod(&mut st, pod, v, &ni, snap);
    }
    let status = fw.run_filters_with_nominated(&st, pod, &ni, snap);
    if !status.is_success() {
        return Err(status);
    }
    potential.sort_by_key(|p| importance(p));
    let (violating, non_violating) = split_by_pdb_violation(&potential, pdbs);
    let mut victims = Vec::new();
    let mut num_violating = 0;
    for (group, counts) in [(&violating, true), (&non_violating, false)] {
        for v in group {
            ni.add_pod(v.clone());
            fw.run_add_pod(&mut st, pod, v, &ni, snap);
            if !fw
                .run_filters_with_nominated(&st, pod, &ni, snap)
                .is_success()
            {
                ni.remove_pod(&v.key);
                fw.run_remove_pod(&mut st, pod, v, &ni, snap);
                victims.push(v.clone());
                if counts {
                    num_violating += 1;
                }
            }
        }
    }
    if !violating.is_empty() && !non_violating.is_empty() {
        victims.sort_by_key(|p| importance(p));
    }
    Ok((victims, num_violating))
}

struct Candidate {
    node: String,
    victims: Vec<Arc<PodInfo>>,
    violations: usize,
}

/// The earliest start time among the highest-priority victims.
fn earliest_start_of_top(victims: &[Arc<PodInfo>]) -> i128 {
    let top = victims.iter().map(|p| p.priority).max().unwrap_or(0);
    victims
        .iter()
        .filter(|p| p.priority == top)
        .map(|p| p.start_time.unwrap_or(i128::MAX))
        .min()
        .unwrap_or(i128::MAX)
}

/// Upstream's `pickOneNodeForPreemption`.
fn pick(candidates: Vec<Candidate>) -> Option<Candidate> {
    type ScoreFn = fn(&Candidate) -> i128;
    let funcs: [ScoreFn; 5] = [
        |c| -(c.violations as i128),
        |c| -i128::from(c.victims.first().map_or(0, |p| p.priority)),
        |c| {
            -c.victims
                .iter()
                .map(|p| i128::from(p.priority) + i128::from(i32::MAX) + 1)
                .sum::<i128>()
        },
        |c| -(c.victims.len() as i128),
        |c| earliest_start_of_top(&c.victims),
    ];
    let mut remaining = candidates;
    for f in funcs {
        if remaining.len() <= 1 {
            break;
        }
        let best = remaining.iter().map(f).max()?;
        remaining.retain(|c| f(c) == best);
    }
    remaining.into_iter().next()
}

/// Run preemption for a pod that failed with `fit`. `Ok` names the node
/// and victims; `Err` is the message to append after `preemption: `.
pub(crate) fn preempt(
    fw: &Framework,
    args: &PreemptionArgs,
    state: &CycleState,
    pod: &PodInfo,
    snap: &Snapshot,
    fit: &FitError,
    seed: u64,
) -> Result<PreemptionResult, String> {
    if !pod.may_preempt() {
        return Err("not eligible due to preemptionPolicy=Never.".into());
    }
    let status_of = |name: &str| -> Option<&Status> {
        fit.node_statuses
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, s)| s)
            .or(fit.absent_status.as_ref())
    };
    if let Some(nnn) = pod.nominated_node_name() {
        let unresolvable =
            status_of(nnn).is_some_and(|s| s.code == Code::UnschedulableAndUnresolvable);
        if !unresolvable
            && let Some(n) = snap.node(nnn)
            && n.pods()
                .iter()
                .any(|p| p.priority < pod.priority && p.terminating)
        {
            return Err("not eligible due to a terminating pod on the nominated node.".into());
        }
    }
    let num_all = snap.num_nodes();
    let mut potential: Vec<&NodeInfo> = Vec::new();
    for n in snap.nodes() {
        if status_of(n.name()).is_some_and(|s| s.code == Code::Unschedulable) {
            potential.push(n);
        }
    }
    let not_helpful = Status::unresolvable(NOT_HELPFUL);
    if potential.is_empty() {
        return Err(format!(
            "0/{num_all} nodes are available: {}.",
            reasons_histogram(num_all, &[], Some(&not_helpful))
        ));
    }
    let pdbs = snap.pdbs();
    let mut rng = SmallRng::seed_from_u64(seed);
    let offset = rng.random_range(0..potential.len());
    let want = num_candidates(args, potential.len());
    let mut candidates = Vec::new();
    let mut non_violating = 0;
    let mut statuses: Vec<(Arc<str>, Status)> = Vec::new();
    for i in 0..potential.len() {
        let node = potential[(offset + i) % potential.len()];
        match select_victims_on_node(fw, state, pod, node, snap, &pdbs) {
            Ok((victims, violations)) if !victims.is_empty() => {
                if violations == 0 {
                    non_violating += 1;
                }
                candidates.push(Candidate {
                    node: node.name().to_string(),
                    victims,
                    violations,
                });
                if non_violating > 0 && candidates.len() >= want {
                    break;
                }
            }
            Ok(_) => statuses.push((
                node.name_arc(),
                Status::new(Code::Error, "expected at least one victim pod"),
            )),
            Err(st) => statuses.push((node.name_arc(), st)),
        }
    }
    match pick(candidates) {
        Some(c) => Ok(PreemptionResult {
            nominated_node: c.node,
            victims: c.victims,
            num_pdb_violations: c.violations,
        }),
        None => Err(format!(
            "0/{num_all} nodes are available: {}.",
            reasons_histogram(num_all, &statuses, Some(&not_helpful))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Profile, ScheduleOptions};
    use crate::testing::*;
    use k8s_openapi::api::policy::v1::{
        PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn fw() -> Framework {
        Framework::new(Profile::default()).unwrap().with_seed(3)
    }

    fn run(snap: &Snapshot, p: k8s_openapi::api::core::v1::Pod) -> FitError {
        fw().schedule(&PodInfo::new(p), snap, ScheduleOptions::default())
            .unwrap_err()
    }

    #[test]
    fn no_victims_message() {
        let snap = Snapshot::from_objects(
            (1..=3).map(|i| node(&format!("n{i}")).cpu("1").pods(110).obj()),
            (1..=3).map(|i| {
                pod(&format!("x{i}"))
                    .priority(100)
                    .node(&format!("n{i}"))
                    .container(&[("cpu", "1")])
                    .obj()
            }),
        );
        let e = run(
            &snap,
            pod("p").priority(100).container(&[("cpu", "1")]).obj(),
        );
        assert_eq!(
            e.to_string(),
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
        );
        assert!(e.preemption.is_none());
    }

    #[test]
    fn not_helpful_message() {
        let snap = Snapshot::from_objects(
            [
                node("a").capacity().obj(),
                node("b").capacity().taint("k", "v", "NoSchedule").obj(),
            ],
            [],
        );
        let e = run(&snap, pod("p").node_selector("disk", "ssd").obj());
        assert_eq!(
            e.to_string(),
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {k: v}. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
        );
        let e = run(
            &snap,
            pod("p")
                .node_selector("disk", "ssd")
                .preemption_never()
                .obj(),
        );
        assert!(
            e.to_string()
                .ends_with(". preemption: not eligible due to preemptionPolicy=Never.."),
            "{e}"
        );
    }

    #[test]
    fn mixed_reasons_in_preemption_message() {
        // n1: cpu full of a same-priority pod (no victims); n2: evicting
        // its low-priority pod frees too little (a high-priority pod stays);
        // n3: tainted (not helpful).
        let snap = Snapshot::from_objects(
            [
                node("n1").cpu("2").pods(110).obj(),
                node("n2").cpu("2").pods(110).obj(),
                node("n3")
                    .cpu("4")
                    .pods(110)
                    .taint("k", "", "NoSchedule")
                    .obj(),
            ],
            [
                pod("x1")
                    .priority(10)
                    .node("n1")
                    .container(&[("cpu", "2")])
                    .obj(),
                pod("x2")
                    .priority(1)
                    .node("n2")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("x3")
                    .priority(100)
                    .node("n2")
                    .container(&[("cpu", "1")])
                    .obj(),
            ],
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "2")]).obj(),
        );
        assert_eq!(
            e.to_string(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: \
             1 Insufficient cpu, 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.."
        );
    }

    #[test]
    fn requests_beyond_allocatable_are_not_helped() {
        let snap = Snapshot::from_objects(
            (1..=2).map(|i| node(&format!("n{i}")).cpu("1").pods(110).obj()),
            [pod("x")
                .priority(1)
                .node("n1")
                .container(&[("cpu", "1")])
                .obj()],
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "2")]).obj(),
        );
        assert_eq!(
            e.to_string(),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
        );
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        // n1: two low (prio 1) pods of 1 cpu each; n2: one mid (prio 5) of
        // 2 cpu; n3: one low (prio 1) of 2 cpu. A 2-cpu pod of prio 10:
        // n3 wins (lowest highest-victim priority 1, then sum 1 < 2 on n1).
        let snap = Snapshot::from_objects(
            (1..=3).map(|i| node(&format!("n{i}")).cpu("2").pods(110).obj()),
            [
                pod("a")
                    .priority(1)
                    .node("n1")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("b")
                    .priority(1)
                    .node("n1")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("c")
                    .priority(5)
                    .node("n2")
                    .container(&[("cpu", "2")])
                    .obj(),
                pod("d")
                    .priority(1)
                    .node("n3")
                    .container(&[("cpu", "2")])
                    .obj(),
            ],
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "2")]).obj(),
        );
        let r = e.preemption.as_ref().expect("preempts");
        assert_eq!(r.nominated_node, "n3");
        assert_eq!(
            r.victims
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            ["d"]
        );
        assert!(e.post_filter_msg.is_none());
        assert_eq!(
            e.to_string(),
            "0/3 nodes are available: 3 Insufficient cpu."
        );
    }

    #[test]
    fn reprieves_pods_that_can_stay() {
        // 4 cpu node with a prio-1 (1 cpu), prio-2 (1 cpu), prio-3 (2 cpu)
        // pod; a 2-cpu prio-10 pod: removing all, then reprieving from the
        // highest priority: prio-3 back (2 used), prio-2 back (3 used)
        // fails? 3+2 = 5 > 4 → victim; prio-1 back (3 used) → 3+2 > 4 →
        // victim. Victims: prio-2 and prio-1.
        let snap = Snapshot::from_objects(
            [node("n").cpu("4").pods(110).obj()],
            [
                pod("p1")
                    .priority(1)
                    .node("n")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("p2")
                    .priority(2)
                    .node("n")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("p3")
                    .priority(3)
                    .node("n")
                    .container(&[("cpu", "2")])
                    .obj(),
            ],
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "2")]).obj(),
        );
        let r = e.preemption.unwrap();
        assert_eq!(
            r.victims
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            ["p2", "p1"]
        );
    }

    #[test]
    fn respects_pdbs_where_possible() {
        // Two nodes each with one prio-1 pod; n1's pod is protected by a PDB
        // allowing no disruption: n2 is chosen.
        let mut snap = Snapshot::from_objects(
            (1..=2).map(|i| node(&format!("n{i}")).cpu("1").pods(110).obj()),
            [
                pod("guarded")
                    .label("app", "db")
                    .priority(1)
                    .node("n1")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("free")
                    .label("app", "web")
                    .priority(1)
                    .node("n2")
                    .container(&[("cpu", "1")])
                    .obj(),
            ],
        );
        snap.upsert_pdb(&PodDisruptionBudget {
            metadata: ObjectMeta {
                name: Some("db".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodDisruptionBudgetSpec {
                selector: Some(label_selector(&[("app", "db")])),
                ..Default::default()
            }),
            status: Some(PodDisruptionBudgetStatus {
                disruptions_allowed: 0,
                ..Default::default()
            }),
        });
        for seed in 0..8 {
            let mut f = Framework::new(Profile::default()).unwrap().with_seed(seed);
            let e = f
                .schedule(
                    &PodInfo::new(pod("p").priority(10).container(&[("cpu", "1")]).obj()),
                    &snap,
                    ScheduleOptions::default(),
                )
                .unwrap_err();
            let r = e.preemption.unwrap();
            assert_eq!((r.nominated_node.as_str(), r.num_pdb_violations), ("n2", 0));
        }
        // Only the guarded pod can go: it is evicted anyway, counted.
        snap.remove_pod("default/free");
        snap.add_pod(
            pod("free")
                .label("app", "web")
                .priority(100)
                .node("n2")
                .container(&[("cpu", "1")])
                .obj(),
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "1")]).obj(),
        );
        let r = e.preemption.unwrap();
        assert_eq!((r.nominated_node.as_str(), r.num_pdb_violations), ("n1", 1));
    }

    #[test]
    fn pdb_split() {
        let pods: Vec<Arc<PodInfo>> = (0..3)
            .map(|i| PodInfo::arc(pod(&format!("w{i}")).label("app", "web").obj()))
            .collect();
        let pdb = PdbInfo {
            namespace: "default".into(),
            name: "x".into(),
            selector: crate::labels::Selector::from_set(
                &[("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect(),
            ),
            disruptions_allowed: 1,
            disrupted_pods: ["w0".to_string()].into_iter().collect(),
        };
        let (v, ok) = split_by_pdb_violation(&pods, &[&pdb]);
        // w0 already disrupted (not counted), w1 uses the allowance, w2 violates.
        assert_eq!(
            v.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["w2"]
        );
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn tie_break_on_start_time() {
        // Same priorities and counts: the node whose victim started latest.
        let snap = Snapshot::from_objects(
            (1..=2).map(|i| node(&format!("n{i}")).cpu("1").pods(110).obj()),
            [
                pod("old")
                    .priority(1)
                    .start_time(100)
                    .node("n1")
                    .container(&[("cpu", "1")])
                    .obj(),
                pod("new")
                    .priority(1)
                    .start_time(200)
                    .node("n2")
                    .container(&[("cpu", "1")])
                    .obj(),
            ],
        );
        let e = run(
            &snap,
            pod("p").priority(10).container(&[("cpu", "1")]).obj(),
        );
        assert_eq!(e.preemption.unwrap().nominated_node, "n2");
    }

    #[test]
    fn candidate_count() {
        let a = PreemptionArgs::default();
        assert_eq!(num_candidates(&a, 50), 50);
        assert_eq!(num_candidates(&a, 500), 100);
        assert_eq!(num_candidates(&a, 5000), 500);
    }
}
