//! NodeResourcesBalancedAllocation: favours nodes whose resource use
//! fractions (requested incl. the pod ÷ allocatable, capped at 1) are close
//! to each other: score = (1 − std) × 100, where for two resources std is
//! |f₁ − f₂| / 2. Uses actual requests (no 100m/200Mi defaults) and skips
//! pods that request nothing, as upstream.

use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status};
use crate::plugins::node_resources_fit::{
    ResourceSpec, allocatable_request, default_resources, pod_request_list,
};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// NodeResourcesBalancedAllocationArgs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalancedAllocationArgs {
    /// The resources whose balance matters (default cpu and memory).
    pub resources: Vec<ResourceSpec>,
}

impl Default for BalancedAllocationArgs {
    fn default() -> Self {
        BalancedAllocationArgs {
            resources: default_resources(),
        }
    }
}

/// The plugin.
#[derive(Debug)]
pub struct BalancedAllocation {
    args: BalancedAllocationArgs,
}

impl BalancedAllocation {
    /// Build from args.
    pub fn new(args: BalancedAllocationArgs) -> BalancedAllocation {
        BalancedAllocation { args }
    }
}

#[derive(Clone)]
struct PreScoreState(Vec<i64>);

/// Upstream's `balancedResourceScorer` over (requested, allocatable) pairs.
pub fn balanced_score(pairs: impl IntoIterator<Item = (i64, i64)>) -> i64 {
    let mut fractions = Vec::with_capacity(4);
    for (req, alloc) in pairs {
        if alloc == 0 {
            continue;
        }
        fractions.push((req as f64 / alloc as f64).min(1.0));
    }
    let std = match fractions.len() {
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = fractions.iter().sum::<f64>() / n as f64;
            (fractions
                .iter()
                .map(|f| (f - mean) * (f - mean))
                .sum::<f64>()
                / n as f64)
                .sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for BalancedAllocation {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        let reqs = pod_request_list(pod, &self.args.resources, false);
        if reqs.iter().all(|r| *r == 0) {
            // Best-effort pods would all pile onto one node otherwise
            // (kubernetes#129138).
            return Status::skip();
        }
        state.write(PreScoreState(reqs));
        Status::success()
    }
}

impl ScorePlugin for BalancedAllocation {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let computed;
        let reqs: &[i64] = match state.read::<PreScoreState>() {
            Some(s) => &s.0,
            None => {
                computed = pod_request_list(pod, &self.args.resources, false);
                &computed
            }
        };
        balanced_score(self.args.resources.iter().zip(reqs).map(|(r, &pr)| {
            let (alloc, req) = allocatable_request(node, &r.name, pr, true);
            (req, alloc)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn upstream_cases() {
        // "nothing scheduled, resources requested, differently sized
        // nodes": pod 3000m/5000; n1 4000m/10000 → fractions .75/.5 →
        // std .125 → 87; n2 6000m/10000 → .5/.5 → 100.
        let snap = Snapshot::from_objects(
            [
                node("n1").cpu("4000m").memory("10000").obj(),
                node("n2").cpu("6000m").memory("10000").obj(),
            ],
            [],
        );
        let p = PodInfo::new(
            pod("p")
                .container(&[("cpu", "1000m"), ("memory", "2000")])
                .container(&[("cpu", "2000m"), ("memory", "3000")])
                .obj(),
        );
        assert_eq!(
            score_all(&BalancedAllocation::new(Default::default()), &p, &snap)
                .unwrap()
                .0,
            [87, 100]
        );
    }

    #[test]
    fn existing_requests_and_caps() {
        // n1 has 3000m/0 requested: with pod 1000m/2000 → cpu 4000/4000=1,
        // mem 2000/10000=.2 → std .4 → 60. Over-commit caps fractions at 1.
        let snap = Snapshot::from_objects(
            [
                node("n1").cpu("4000m").memory("10000").obj(),
                node("n2").cpu("1000m").memory("1000").obj(),
            ],
            [pod("x").node("n1").container(&[("cpu", "3000m")]).obj()],
        );
        let p = PodInfo::new(
            pod("p")
                .container(&[("cpu", "1000m"), ("memory", "2000")])
                .obj(),
        );
        assert_eq!(
            score_all(&BalancedAllocation::new(Default::default()), &p, &snap)
                .unwrap()
                .0,
            [60, 100]
        );
    }

    #[test]
    fn three_resources_std() {
        // fractions .2, .5, .8 → mean .5, std sqrt((.09+0+.09)/3) = .2449 → 75.
        assert_eq!(balanced_score([(2, 10), (5, 10), (8, 10)]), 75);
        assert_eq!(balanced_score([(5, 10)]), 100);
        assert_eq!(
            balanced_score([(5, 10), (1, 0)]),
            100,
            "zero allocatable is ignored"
        );
    }

    #[test]
    fn best_effort_skips() {
        let snap = Snapshot::from_objects([node("n1").cpu("1").memory("1Gi").obj()], []);
        let p = PodInfo::new(pod("p").container(&[]).obj());
        assert!(score_all(&BalancedAllocation::new(Default::default()), &p, &snap).is_none());
    }
}
