//! TaintToleration: a pod must tolerate a node's `NoSchedule` and
//! `NoExecute` taints (Filter); nodes with fewer untolerated
//! `PreferNoSchedule` taints score higher (Score, normalized reversed).

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{Taint, Toleration};

use crate::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status,
    default_normalize_score,
};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "TaintToleration";

/// Whether a toleration tolerates a taint (upstream's
/// `Toleration.ToleratesTaint`): effects match (empty tolerates all), keys
/// match (empty with `Exists` tolerates all), and the value is equal
/// (`Equal`, the default) or anything (`Exists`).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty())
        && e != taint.effect
    {
        return false;
    }
    if let Some(k) = t.key.as_deref().filter(|k| !k.is_empty())
        && k != taint.key
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// Whether any toleration tolerates the taint.
pub fn tolerations_tolerate_taint(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first `NoSchedule`/`NoExecute` taint not tolerated (upstream's
/// `FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`).
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerations_tolerate_taint(tolerations, t))
}

/// Upstream's reason for an untolerated taint.
pub fn untolerated_reason(t: &Taint) -> String {
    format!(
        "node(s) had untolerated taint {{{}: {}}}",
        t.key,
        t.value.as_deref().unwrap_or("")
    )
}

/// The plugin.
#[derive(Debug, Default)]
pub struct TaintToleration;

#[derive(Clone)]
struct PreScoreState {
    /// Tolerations with effect "" or PreferNoSchedule.
    tolerations: Vec<Toleration>,
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        match find_untolerated_taint(node.taints(), pod.tolerations()) {
            None => Status::success(),
            Some(t) => Status::unresolvable(Cow::Owned(untolerated_reason(t))),
        }
    }
}

impl PreScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        let tolerations = pod
            .tolerations()
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        state.write(PreScoreState { tolerations });
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    /// The number of untolerated PreferNoSchedule taints.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let taints = node.taints();
        if taints.is_empty() {
            return 0;
        }
        let computed;
        let tolerations: &[Toleration] = match state.read::<PreScoreState>() {
            Some(s) => &s.tolerations,
            None => {
                computed = pod.tolerations().to_vec();
                &computed
            }
        };
        taints
            .iter()
            .filter(|t| {
                t.effect == "PreferNoSchedule" && !tolerations_tolerate_taint(tolerations, t)
            })
            .count() as i64
    }
    fn normalize_score(&self, _: &CycleState, _: &PodInfo, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn filter_no_schedule_and_no_execute() {
        let snap = Snapshot::from_objects(
            [
                node("clean").obj(),
                node("gpu").taint("dedicated", "gpu", "NoSchedule").obj(),
                node("evict").taint("k", "", "NoExecute").obj(),
                node("soft").taint("k", "v", "PreferNoSchedule").obj(),
            ],
            [],
        );
        let p = PodInfo::new(pod("p").obj());
        let st = filter_all(&TaintToleration, &p, &snap).unwrap();
        assert!(st[0].is_success());
        assert_eq!(
            st[1],
            Status::unresolvable("node(s) had untolerated taint {dedicated: gpu}")
        );
        assert_eq!(st[2].reasons[0], "node(s) had untolerated taint {k: }");
        assert!(st[3].is_success(), "PreferNoSchedule does not filter");

        let equal = PodInfo::new(
            pod("p")
                .toleration("dedicated", "Equal", "gpu", "NoSchedule")
                .obj(),
        );
        assert_eq!(
            passes(&TaintToleration, &equal, &snap),
            [true, true, false, true]
        );
        let wrong_value = PodInfo::new(pod("p").toleration("dedicated", "", "cpu", "").obj());
        assert_eq!(
            passes(&TaintToleration, &wrong_value, &snap),
            [true, false, false, true]
        );
        let exists_any = PodInfo::new(pod("p").toleration("", "Exists", "", "").obj());
        assert_eq!(
            passes(&TaintToleration, &exists_any, &snap),
            [true, true, true, true]
        );
        let wrong_effect = PodInfo::new(pod("p").toleration("k", "Exists", "", "NoSchedule").obj());
        assert_eq!(
            passes(&TaintToleration, &wrong_effect, &snap),
            [true, false, false, true]
        );
    }

    #[test]
    fn score_counts_untolerated_prefer_no_schedule() {
        // Upstream's "the more intolerable taints a node has, the lower
        // score it gets": 0, 1 and 2 untolerated taints → 100, 50, 0.
        let snap = Snapshot::from_objects(
            [
                node("n0").obj(),
                node("n1").taint("a", "1", "PreferNoSchedule").obj(),
                node("n2")
                    .taint("a", "1", "PreferNoSchedule")
                    .taint("b", "2", "PreferNoSchedule")
                    .obj(),
            ],
            [],
        );
        let p = PodInfo::new(pod("p").obj());
        let (raw, norm) = score_all(&TaintToleration, &p, &snap).unwrap();
        assert_eq!(raw, [0, 1, 2]);
        assert_eq!(norm, [100, 50, 0]);
        // Tolerating one PreferNoSchedule taint.
        let p = PodInfo::new(
            pod("p")
                .toleration("a", "Equal", "1", "PreferNoSchedule")
                .obj(),
        );
        assert_eq!(
            score_all(&TaintToleration, &p, &snap).unwrap().1,
            [100, 100, 0]
        );
        // A NoSchedule toleration does not count for scoring.
        let p = PodInfo::new(pod("p").toleration("a", "Equal", "1", "NoSchedule").obj());
        assert_eq!(score_all(&TaintToleration, &p, &snap).unwrap().0, [0, 1, 2]);
    }
}
