//! NodeAffinity: `spec.nodeSelector` and required node affinity filter
//! nodes (operators In, NotIn, Exists, DoesNotExist, Gt, Lt; `matchFields`
//! on `metadata.name`, which PreFilter turns into a node-name shortlist);
//! preferred node affinity terms score the sum of the matching terms'
//! weights, normalized to 0..=100 by the highest.

use std::collections::BTreeSet;

use crate::framework::{
    Code, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterPlugin, PreFilterResult,
    PreScorePlugin, ScorePlugin, Status, default_normalize_score,
};
use crate::labels::{NodeSelectorTermMatcher, PreferredTerms};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodeAffinity";
/// Upstream's reason for a node that does not match.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// Upstream's reason when the `metadata.name` terms exclude every node.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

/// The plugin.
#[derive(Debug, Default)]
pub struct NodeAffinity;

#[derive(Clone)]
struct PreScoreState(PreferredTerms);

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
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

/// Which nodes the pod's required selector matches (PreFilter's result,
/// from [`Snapshot::node_selector_matches`]).
#[derive(Clone)]
struct Matches(std::sync::Arc<Vec<bool>>);

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> PreFilterResult {
        let sel = &pod.node_selector;
        if sel.is_empty() {
            return PreFilterResult::skip();
        }
        state.write(Matches(
            snapshot.node_selector_matches(format!("{sel:?}"), sel),
        ));
        let Some(terms) = sel.terms.as_ref().filter(|t| !t.is_empty()) else {
            return PreFilterResult::success();
        };
        // A shortlist only if every term names nodes (terms are ORed).
        let mut names: BTreeSet<String> = BTreeSet::new();
        for t in terms {
            match NodeSelectorTermMatcher::required_node_names(t) {
                Some(n) => names.extend(n),
                None => return PreFilterResult::success(),
            }
        }
        if names.is_empty() {
            return PreFilterResult::status(Status::new(
                Code::UnschedulableAndUnresolvable,
                ERR_REASON_CONFLICT,
            ));
        }
        PreFilterResult {
            status: Status::success(),
            node_names: Some(names),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        let matches = match state.read::<Matches>() {
            Some(Matches(m)) if node.index() < m.len() => m[node.index()],
            _ => pod.node_selector.matches(node.labels(), node.name()),
        };
        if matches {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_POD)
        }
    }
}

impl PreScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        let terms = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.preferred_during_scheduling_ignored_during_execution
                    .as_deref()
            });
        let Some(terms) = terms else {
            return Status::skip();
        };
        state.write(PreScoreState(PreferredTerms::new(terms)));
        Status::success()
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        state
            .read::<PreScoreState>()
            .map_or(0, |s| s.0.score(node.labels(), node.name()))
    }
    fn normalize_score(&self, _: &CycleState, _: &PodInfo, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;
    use k8s_openapi::api::core::v1::NodeSelectorTerm;

    fn snap() -> Snapshot {
        Snapshot::from_objects(
            [
                node("n1")
                    .label("zone", "a")
                    .label("disk", "ssd")
                    .label("cores", "4")
                    .obj(),
                node("n2").label("zone", "b").label("cores", "16").obj(),
                node("n3").obj(),
            ],
            [],
        )
    }

    #[test]
    fn node_selector() {
        let s = snap();
        let p = PodInfo::new(pod("p").node_selector("zone", "a").obj());
        let st = filter_all(&NodeAffinity, &p, &s).unwrap();
        assert!(st[0].is_success());
        assert_eq!(st[1], Status::unresolvable(ERR_REASON_POD));
        assert_eq!(
            passes(&NodeAffinity, &PodInfo::new(pod("p").obj()), &s),
            [true, true, true]
        );
    }

    #[test]
    fn remembered_matches_follow_relabelled_nodes() {
        let mut s = snap();
        let p = PodInfo::new(pod("p").node_selector("zone", "a").obj());
        let before = passes(&NodeAffinity, &p, &s);
        assert_eq!(
            passes(&NodeAffinity, &p, &s),
            before,
            "the remembered answer"
        );
        // n2 moves to zone a: the next pod sees it.
        let mut moved = s.nodes()[1].node().clone();
        moved
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("zone".into(), "a".into());
        s.upsert_node(moved);
        let after = passes(&NodeAffinity, &p, &s);
        assert!(!before[1] && after[1], "{before:?} then {after:?}");
    }

    #[test]
    fn required_terms_are_ored_expressions_anded() {
        let s = snap();
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![
                    term(vec![
                        node_req("zone", "In", &["a"]),
                        node_req("disk", "DoesNotExist", &[]),
                    ]),
                    term(vec![node_req("cores", "Gt", &["8"])]),
                ])
                .obj(),
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [false, true, false]);
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![term(vec![node_req("zone", "NotIn", &["a"])])])
                .obj(),
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [false, true, true]);
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![term(vec![node_req("cores", "Lt", &["8"])])])
                .obj(),
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [true, false, false]);
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![term(vec![node_req("zone", "Exists", &[])])])
                .obj(),
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [true, true, false]);
        // nodeSelector AND affinity.
        let p = PodInfo::new(
            pod("p")
                .node_selector("zone", "b")
                .required_node_affinity(vec![term(vec![node_req("zone", "Exists", &[])])])
                .obj(),
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [false, true, false]);
        // No terms at all matches nothing.
        let p = PodInfo::new(pod("p").required_node_affinity(vec![]).obj());
        assert_eq!(passes(&NodeAffinity, &p, &s), [false, false, false]);
    }

    #[test]
    fn match_fields_shortlist() {
        let s = snap();
        let t = |names: &[&str]| NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![node_req("metadata.name", "In", names)]),
        };
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![t(&["n2"]), t(&["n3"])])
                .obj(),
        );
        let mut state = CycleState::new();
        let r = NodeAffinity.pre_filter(&mut state, &p, &s);
        assert_eq!(
            r.node_names.unwrap().into_iter().collect::<Vec<_>>(),
            ["n2", "n3"]
        );
        assert_eq!(passes(&NodeAffinity, &p, &s), [false, true, true]);
        // A term without metadata.name: no shortlist.
        let p = PodInfo::new(
            pod("p")
                .required_node_affinity(vec![
                    t(&["n2"]),
                    term(vec![node_req("zone", "Exists", &[])]),
                ])
                .obj(),
        );
        assert!(
            NodeAffinity
                .pre_filter(&mut state, &p, &s)
                .node_names
                .is_none()
        );
        // Conflicting names inside one term.
        let conflict = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![
                node_req("metadata.name", "In", &["n1"]),
                node_req("metadata.name", "In", &["n2"]),
            ]),
        };
        let p = PodInfo::new(pod("p").required_node_affinity(vec![conflict]).obj());
        let r = NodeAffinity.pre_filter(&mut state, &p, &s);
        assert_eq!(r.status, Status::unresolvable(ERR_REASON_CONFLICT));
    }

    #[test]
    fn preferred_terms_score() {
        // Upstream-style: weights 2 (zone=a), 4 (disk=ssd), 5 (cores Exists):
        // n1 matches all → 11, n2 only cores → 5, n3 none → 0;
        // normalized by the max: 100, 45, 0.
        let s = snap();
        let p = PodInfo::new(
            pod("p")
                .preferred_node_affinity(2, term(vec![node_req("zone", "In", &["a"])]))
                .preferred_node_affinity(4, term(vec![node_req("disk", "In", &["ssd"])]))
                .preferred_node_affinity(5, term(vec![node_req("cores", "Exists", &[])]))
                .obj(),
        );
        let (raw, norm) = score_all(&NodeAffinity, &p, &s).unwrap();
        assert_eq!(raw, [11, 5, 0]);
        assert_eq!(norm, [100, 45, 0]);
        assert!(
            score_all(&NodeAffinity, &PodInfo::new(pod("p").obj()), &s).is_none(),
            "skipped without terms"
        );
    }
}
