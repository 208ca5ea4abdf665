//! InterPodAffinity: required pod affinity and anti-affinity (Filter) and
//! preferred terms (Score), as upstream.
//!
//! PreFilter counts, per topology pair (key, value), once per pod:
//! existing pods whose required anti-affinity matches the incoming pod;
//! existing pods matching all of the incoming pod's required affinity
//! terms; existing pods matching each incoming anti-affinity term. Filter
//! then looks up the node's topology values:
//!
//! - affinity: every term's topology key must be on the node and its pair
//!   have a match — unless no pod matches anywhere and the pod matches its
//!   own terms (the first pod of a group);
//! - anti-affinity: no pair of the node may have a match;
//! - existing pods' anti-affinity: no label pair of the node may be
//!   counted.
//!
//! Score sums, per topology pair of the node, the weights of preferred
//! terms (the pod's matched by existing pods, existing pods' matched by the
//! pod; anti-affinity negative; existing pods' required affinity with
//! `hardPodAffinityWeight`), normalized min-max to 0..=100.

use std::collections::HashMap;
use std::sync::Arc;

use crate::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterPlugin, PreFilterResult,
    PreScorePlugin, ScorePlugin, Status,
};
use crate::pod_info::{AffinityTerm, PodInfo};
use crate::snapshot::{NO_DOMAIN, NodeInfo, Snapshot, TopologyIndex};

/// Plugin name.
pub const NAME: &str = "InterPodAffinity";
/// Reason: the incoming pod's required affinity is not met.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Reason: the incoming pod's required anti-affinity is not met.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";
/// Reason: an existing pod's required anti-affinity forbids the pod.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// InterPodAffinityArgs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    /// Weight of existing pods' required affinity terms in scoring
    /// (default 1).
    pub hard_pod_affinity_weight: i64,
    /// Skip scoring existing pods' preferences when the pod has no
    /// preferred terms.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

/// The plugin.
#[derive(Debug)]
pub struct InterPodAffinity {
    args: InterPodAffinityArgs,
}

impl InterPodAffinity {
    /// Build from args.
    pub fn new(args: InterPodAffinityArgs) -> InterPodAffinity {
        InterPodAffinity { args }
    }
}

/// Counts per topology key, then value (scoring).
type TopologyCounts = HashMap<String, HashMap<String, i64>>;

/// Counts per domain of a few topology keys (filtering), indexed by the
/// snapshot's domain ids: no hashing of label values per pod or node.
#[derive(Clone, Default)]
struct DomainCounts {
    keys: Vec<(Arc<TopologyIndex>, Vec<i64>)>,
}

impl DomainCounts {
    fn slot(&mut self, key: &str, snap: &Snapshot) -> usize {
        if let Some(i) = self.keys.iter().position(|(t, _)| t.key == key) {
            return i;
        }
        let t = snap.topology_index(key);
        let n = t.domains.len();
        self.keys.push((t, vec![0; n]));
        self.keys.len() - 1
    }

    fn bump(&mut self, key: &str, node: &NodeInfo, snap: &Snapshot, delta: i64) {
        let i = self.slot(key, snap);
        if let Some(d) = self.keys[i].0.domain(node) {
            self.keys[i].1[d] += delta;
        }
    }

    fn add(&mut self, key: &str, counts: &[i64], snap: &Snapshot) {
        let i = self.slot(key, snap);
        for (a, b) in self.keys[i].1.iter_mut().zip(counts) {
            *a += *b;
        }
    }

    fn get(&self, key: &str, node: &NodeInfo) -> i64 {
        self.keys
            .iter()
            .find(|(t, _)| t.key == key)
            .and_then(|(t, c)| t.domain(node).map(|d| c[d]))
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.keys.iter().all(|(_, c)| c.iter().all(|v| *v == 0))
    }

    /// Whether any of the node's domains has a positive count.
    fn any_positive(&self, node: &NodeInfo) -> bool {
        self.keys
            .iter()
            .any(|(t, c)| t.domain(node).is_some_and(|d| c[d] > 0))
    }
}

#[derive(Clone, Default)]
struct PreFilterState {
    existing_anti: DomainCounts,
    affinity: DomainCounts,
    affinity_empty: bool,
    anti: DomainCounts,
}

fn matches_all(terms: &[AffinityTerm], pod: &PodInfo, snap: &Snapshot) -> bool {
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| t.matches(pod, snap.namespace_labels(&pod.namespace)))
}

/// The term selects pods of one namespace by labels only: its counts can
/// come from the snapshot's cache.
fn cacheable(t: &AffinityTerm) -> bool {
    t.namespace_selector.is_none() && t.namespaces.len() == 1
}

impl PreFilterState {
    /// Account `other` on `node` (delta ±1) against the incoming `pod`.
    fn update(
        &mut self,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        delta: i64,
    ) {
        let labels = node.labels();
        let pod_ns = snap.namespace_labels(&pod.namespace);
        for t in &other.required_anti_affinity_terms {
            if labels.contains_key(&t.topology_key) && t.matches(pod, pod_ns) {
                self.existing_anti.bump(&t.topology_key, node, snap, delta);
            }
        }
        if matches_all(&pod.required_affinity_terms, other, snap) {
            for t in &pod.required_affinity_terms {
                self.affinity.bump(&t.topology_key, node, snap, delta);
            }
            self.affinity_empty = self.affinity.is_empty();
        }
        let other_ns = snap.namespace_labels(&other.namespace);
        for t in &pod.required_anti_affinity_terms {
            if t.matches(other, other_ns) {
                self.anti.bump(&t.topology_key, node, snap, delta);
            }
        }
    }
}

impl Plugin for InterPodAffinity {
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

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> PreFilterResult {
        let has_affinity = !pod.required_affinity_terms.is_empty();
        let has_anti = !pod.required_anti_affinity_terms.is_empty();
        if !has_affinity && !has_anti && snap.pods_with_required_anti_affinity() == 0 {
            return PreFilterResult::skip();
        }
        let mut s = PreFilterState::default();
        let pod_ns = snap.namespace_labels(&pod.namespace);
        // Existing pods' anti-affinity matching the incoming pod: each
        // distinct term is matched once, then counted where its pods are.
        if snap.pods_with_required_anti_affinity() > 0 {
            snap.with_existing_anti_terms(|terms| {
                for at in terms {
                    if !at.term.matches(pod, pod_ns) {
                        continue;
                    }
                    let i = s.existing_anti.slot(&at.term.topology_key, snap);
                    let (index, counts) = &mut s.existing_anti.keys[i];
                    for (&n, &c) in &at.nodes {
                        match index.node_domain.get(n as usize) {
                            Some(&d) if d != NO_DOMAIN => counts[d as usize] += c,
                            _ => {}
                        }
                    }
                }
            });
        }
        // Existing pods matching the incoming pod's terms: from the
        // snapshot's cached counts where a term is a plain selector in one
        // namespace, by walking the pods otherwise.
        let terms = &pod.required_affinity_terms;
        let affinity_cached = terms.len() == 1 && cacheable(&terms[0]);
        if affinity_cached {
            let t = &terms[0];
            let (_, counts) =
                snap.affinity_domain_counts(&t.namespaces[0], &t.selector, &t.topology_key);
            s.affinity.add(&t.topology_key, &counts, snap);
        }
        let mut walk_anti = Vec::new();
        for t in &pod.required_anti_affinity_terms {
            if cacheable(t) {
                let (_, counts) =
                    snap.affinity_domain_counts(&t.namespaces[0], &t.selector, &t.topology_key);
                s.anti.add(&t.topology_key, &counts, snap);
            } else {
                walk_anti.push(t);
            }
        }
        if (has_affinity && !affinity_cached) || !walk_anti.is_empty() {
            for node in snap.nodes().iter().filter(|n| !n.pods().is_empty()) {
                for existing in node.pods() {
                    if has_affinity && !affinity_cached && matches_all(terms, existing, snap) {
                        for t in terms {
                            s.affinity.bump(&t.topology_key, node, snap, 1);
                        }
                    }
                    if !walk_anti.is_empty() {
                        let ns = snap.namespace_labels(&existing.namespace);
                        for t in &walk_anti {
                            if t.matches(existing, ns) {
                                s.anti.bump(&t.topology_key, node, snap, 1);
                            }
                        }
                    }
                }
            }
        }
        s.affinity_empty = s.affinity.is_empty();
        state.write(s);
        PreFilterResult::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, added, node, snap, 1);
        }
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, removed, node, snap, -1);
        }
    }
}

impl FilterPlugin for InterPodAffinity {
    fn filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status {
        let Some(s) = state.read::<PreFilterState>() else {
            return Status::success();
        };
        let labels = node.labels();
        // Required affinity.
        let mut pods_exist = true;
        for t in &pod.required_affinity_terms {
            if !labels.contains_key(&t.topology_key) {
                return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
            }
            if s.affinity.get(&t.topology_key, node) <= 0 {
                pods_exist = false;
            }
        }
        let first_of_group =
            s.affinity_empty && matches_all(&pod.required_affinity_terms, pod, snap);
        if !pods_exist && !first_of_group {
            return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        }
        // Required anti-affinity.
        for t in &pod.required_anti_affinity_terms {
            if s.anti.get(&t.topology_key, node) > 0 {
                return Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
            }
        }
        // Existing pods' anti-affinity.
        if s.existing_anti.any_positive(node) {
            return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
        }
        Status::success()
    }
}

#[derive(Clone, Default)]
struct PreScoreState {
    scores: TopologyCounts,
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status {
        let has_constraints = !pod.preferred_affinity_terms.is_empty()
            || !pod.preferred_anti_affinity_terms.is_empty();
        // Without preferred terms of its own, only existing pods with
        // scoring terms can give the pod a score.
        if !has_constraints
            && (self.args.ignore_preferred_terms_of_existing_pods
                || snap.pods_with_scoring_terms() == 0)
        {
            return Status::skip();
        }
        let mut scores = TopologyCounts::new();
        let pod_ns = snap.namespace_labels(&pod.namespace);
        let touch = |m: &mut TopologyCounts, key: &str, value: &str, delta: i64| {
            *m.entry(key.to_string())
                .or_default()
                .entry(value.to_string())
                .or_insert(0) += delta;
        };
        for node in snap.nodes() {
            if !has_constraints && node.pods_with_scoring_terms() == 0 {
                continue;
            }
            let labels = node.labels();
            if labels.is_empty() {
                continue;
            }
            for existing in node.pods() {
                if !has_constraints && !existing.has_scoring_terms() {
                    continue;
                }
                let ex_ns = snap.namespace_labels(&existing.namespace);
                for (terms, sign) in [
                    (&pod.preferred_affinity_terms, 1),
                    (&pod.preferred_anti_affinity_terms, -1),
                ] {
                    for wt in terms {
                        if let Some(v) = labels.get(&wt.term.topology_key)
                            && wt.term.matches(existing, ex_ns)
                        {
                            touch(&mut scores, &wt.term.topology_key, v, sign * wt.weight);
                        }
                    }
                }
                if self.args.hard_pod_affinity_weight > 0 {
                    for t in &existing.required_affinity_terms {
                        if let Some(v) = labels.get(&t.topology_key)
                            && t.matches(pod, pod_ns)
                        {
                            touch(
                                &mut scores,
                                &t.topology_key,
                                v,
                                self.args.hard_pod_affinity_weight,
                            );
                        }
                    }
                }
                for (terms, sign) in [
                    (&existing.preferred_affinity_terms, 1),
                    (&existing.preferred_anti_affinity_terms, -1),
                ] {
                    for wt in terms {
                        if let Some(v) = labels.get(&wt.term.topology_key)
                            && wt.term.matches(pod, pod_ns)
                        {
                            touch(&mut scores, &wt.term.topology_key, v, sign * wt.weight);
                        }
                    }
                }
            }
        }
        if scores.is_empty() {
            return Status::skip();
        }
        state.write(PreScoreState { scores });
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let Some(s) = state.read::<PreScoreState>() else {
            return 0;
        };
        let labels = node.labels();
        s.scores
            .iter()
            .filter_map(|(k, vals)| labels.get(k).and_then(|v| vals.get(v)))
            .sum()
    }
    fn normalize_score(
        &self,
        state: &CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        if state
            .read::<PreScoreState>()
            .is_none_or(|s| s.scores.is_empty())
        {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "zone";

    fn ipa() -> InterPodAffinity {
        InterPodAffinity::new(Default::default())
    }

    fn nodes() -> Vec<k8s_openapi::api::core::v1::Node> {
        vec![
            node("n1").label(ZONE, "z1").obj(),
            node("n2").label(ZONE, "z1").obj(),
            node("n3").label(ZONE, "z2").obj(),
        ]
    }

    #[test]
    fn required_affinity() {
        let snap = Snapshot::from_objects(nodes(), [pod("db").label("app", "db").node("n1").obj()]);
        let p = PodInfo::new(
            pod("p")
                .pod_affinity(pod_term(&[("app", "db")], ZONE))
                .obj(),
        );
        let st = filter_all(&ipa(), &p, &snap).unwrap();
        assert!(st[0].is_success() && st[1].is_success());
        assert_eq!(
            st[2],
            Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH)
        );
        let p = PodInfo::new(
            pod("p")
                .pod_affinity(pod_term(&[("app", "db")], HOST))
                .obj(),
        );
        assert_eq!(passes(&ipa(), &p, &snap), [true, false, false]);
        // Topology key missing on every node: fails everywhere.
        let p = PodInfo::new(
            pod("p")
                .pod_affinity(pod_term(&[("app", "db")], "rack"))
                .obj(),
        );
        assert_eq!(passes(&ipa(), &p, &snap), [false, false, false]);
        // Other namespace: no match.
        let p = PodInfo::new(
            pod("p")
                .namespace("other")
                .pod_affinity(pod_term(&[("app", "db")], ZONE))
                .obj(),
        );
        assert_eq!(passes(&ipa(), &p, &snap), [false, false, false]);
        // ... unless the term names the namespace, or selects all.
        let mut t = pod_term(&[("app", "db")], ZONE);
        t.namespaces = Some(vec!["default".into()]);
        let p = PodInfo::new(pod("p").namespace("other").pod_affinity(t).obj());
        assert_eq!(passes(&ipa(), &p, &snap), [true, true, false]);
        let mut t = pod_term(&[("app", "db")], ZONE);
        t.namespace_selector = Some(LabelSelector::default());
        let p = PodInfo::new(pod("p").namespace("other").pod_affinity(t).obj());
        assert_eq!(passes(&ipa(), &p, &snap), [true, true, false]);
    }

    #[test]
    fn namespace_selector_uses_namespace_labels() {
        let mut snap = Snapshot::from_objects(
            nodes(),
            [pod("db")
                .namespace("prod")
                .label("app", "db")
                .node("n3")
                .obj()],
        );
        snap.set_namespace(
            "prod",
            [("env".to_string(), "prod".to_string())]
                .into_iter()
                .collect(),
        );
        let mut t = pod_term(&[("app", "db")], ZONE);
        t.namespace_selector = Some(label_selector(&[("env", "prod")]));
        let p = PodInfo::new(pod("p").pod_affinity(t).obj());
        assert_eq!(passes(&ipa(), &p, &snap), [false, false, true]);
    }

    #[test]
    fn first_pod_of_a_group_matching_itself() {
        let snap = Snapshot::from_objects(nodes(), []);
        let p = PodInfo::new(
            pod("p")
                .label("app", "web")
                .pod_affinity(pod_term(&[("app", "web")], ZONE))
                .obj(),
        );
        assert_eq!(passes(&ipa(), &p, &snap), [true, true, true]);
        let p = PodInfo::new(
            pod("p")
                .label("app", "other")
                .pod_affinity(pod_term(&[("app", "web")], ZONE))
                .obj(),
        );
        assert_eq!(passes(&ipa(), &p, &snap), [false, false, false]);
    }

    #[test]
    fn required_anti_affinity_both_ways() {
        let snap = Snapshot::from_objects(
            nodes(),
            [pod("web1")
                .label("app", "web")
                .node("n1")
                .pod_anti_affinity(pod_term(&[("app", "web")], HOST))
                .obj()],
        );
        // The incoming pod's own anti-affinity.
        let p = PodInfo::new(
            pod("p")
                .pod_anti_affinity(pod_term(&[("app", "web")], ZONE))
                .obj(),
        );
        let st = filter_all(&ipa(), &p, &snap).unwrap();
        assert_eq!(
            st[0],
            Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
        );
        assert!(!st[1].is_success() && st[2].is_success());
        // The existing pod's anti-affinity against a matching pod.
        let p = PodInfo::new(pod("web2").label("app", "web").obj());
        let st = filter_all(&ipa(), &p, &snap).unwrap();
        assert_eq!(
            st[0],
            Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
        );
        assert!(st[1].is_success() && st[2].is_success());
        // A non-matching pod is not affected (PreFilter still runs).
        assert_eq!(
            passes(&ipa(), &PodInfo::new(pod("x").obj()), &snap),
            [true, true, true]
        );
    }

    #[test]
    fn add_and_remove_pod_update_state() {
        let snap = Snapshot::from_objects(nodes(), []);
        let p = PodInfo::new(
            pod("p")
                .pod_anti_affinity(pod_term(&[("app", "web")], HOST))
                .obj(),
        );
        let mut state = CycleState::new();
        ipa().pre_filter(&mut state, &p, &snap);
        let web = PodInfo::new(pod("w").label("app", "web").obj());
        let n1 = snap.node("n1").unwrap();
        ipa().add_pod(&mut state, &p, &web, n1, &snap);
        assert!(!ipa().filter(&state, &p, n1, &snap).is_success());
        ipa().remove_pod(&mut state, &p, &web, n1, &snap);
        assert!(ipa().filter(&state, &p, n1, &snap).is_success());
    }

    #[test]
    fn preferred_scores() {
        // Preferred affinity weight 5 to app=db in the zone, preferred
        // anti-affinity weight 3 to app=cache on the host.
        let snap = Snapshot::from_objects(
            nodes(),
            [
                pod("db").label("app", "db").node("n1").obj(),
                pod("cache").label("app", "cache").node("n2").obj(),
            ],
        );
        let p = PodInfo::new(
            pod("p")
                .preferred_pod_affinity(5, pod_term(&[("app", "db")], ZONE))
                .preferred_pod_anti_affinity(3, pod_term(&[("app", "cache")], HOST))
                .obj(),
        );
        // Raw: n1 5 (z1), n2 5 - 3 = 2, n3 0 → min-max: 100, 40, 0.
        let (raw, norm) = score_all(&ipa(), &p, &snap).unwrap();
        assert_eq!(raw, [5, 2, 0]);
        assert_eq!(norm, [100, 40, 0]);
        // Nothing relevant: skipped.
        assert!(score_all(&ipa(), &PodInfo::new(pod("q").obj()), &snap).is_none());
    }

    #[test]
    fn existing_pods_terms_score_the_incoming_pod() {
        // An existing pod's required affinity to app=web counts
        // hardPodAffinityWeight (1); its preferred anti-affinity (weight 4)
        // to app=web counts negative.
        let snap = Snapshot::from_objects(
            nodes(),
            [
                pod("a")
                    .node("n1")
                    .pod_affinity(pod_term(&[("app", "web")], ZONE))
                    .obj(),
                pod("b")
                    .node("n3")
                    .preferred_pod_anti_affinity(4, pod_term(&[("app", "web")], ZONE))
                    .obj(),
            ],
        );
        let p = PodInfo::new(pod("web").label("app", "web").obj());
        let (raw, norm) = score_all(&ipa(), &p, &snap).unwrap();
        assert_eq!(raw, [1, 1, -4]);
        assert_eq!(norm, [100, 100, 0]);
        let ignoring = InterPodAffinity::new(InterPodAffinityArgs {
            hard_pod_affinity_weight: 0,
            ..Default::default()
        });
        assert_eq!(score_all(&ignoring, &p, &snap).unwrap().0, [0, 0, -4]);
    }
}
