//! PodTopologySpread: `topologySpreadConstraints` as upstream.
//!
//! - Filter (`whenUnsatisfiable: DoNotSchedule`): for each constraint, the
//!   node must have the topology key, and
//!   `matching pods in the node's domain + (1 if the pod matches its own
//!   selector) − global minimum ≤ maxSkew`, where domains and counts only
//!   include nodes passing the pod's node affinity (`nodeAffinityPolicy:
//!   Honor`, the default) and, with `nodeTaintsPolicy: Honor`, tolerated
//!   taints; the minimum is 0 while fewer than `minDomains` domains exist.
//! - Score (`ScheduleAnyway`): per node, Σ over constraints of
//!   `count × ln(domains + 2) + maxSkew − 1` (rounded), normalized
//!   `100 × (max + min − s) / max`: fewer matching pods, higher score.
//! - Pods without constraints get the default constraints (by default
//!   upstream's "system defaults": hostname maxSkew 3 and zone maxSkew 5,
//!   ScheduleAnyway) with the selector of their Services / controller
//!   ([`Snapshot::default_selector`]) — the seed's SelectorSpreading.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;

use crate::framework::{
    ConfigError, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterPlugin,
    PreFilterResult, PreScorePlugin, ScorePlugin, Status,
};
use crate::labels::{Op, Requirement, Selector};
use crate::plugins::taint_toleration::find_untolerated_taint;
use crate::pod_info::PodInfo;
use crate::snapshot::{NO_DOMAIN, NodeInfo, Snapshot, TopologyIndex};

/// Plugin name.
pub const NAME: &str = "PodTopologySpread";
/// Reason: the skew would be exceeded.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Reason: the node lacks a topology key.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME: &str = "kubernetes.io/hostname";

/// How default constraints are chosen (`defaultingType`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultingType {
    /// Upstream's built-in system defaults.
    System,
    /// `defaultConstraints` as given.
    List,
}

/// PodTopologySpreadArgs.
#[derive(Clone, Debug, PartialEq)]
pub struct PodTopologySpreadArgs {
    /// Constraints for pods that set none (`List` only).
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// System or List.
    pub defaulting_type: DefaultingType,
}

impl Default for PodTopologySpreadArgs {
    fn default() -> Self {
        PodTopologySpreadArgs {
            default_constraints: Vec::new(),
            defaulting_type: DefaultingType::System,
        }
    }
}

/// Upstream's system default constraints.
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            topology_key: HOSTNAME.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            max_skew: 3,
            ..Default::default()
        },
        TopologySpreadConstraint {
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            max_skew: 5,
            ..Default::default()
        },
    ]
}

/// A compiled constraint.
#[derive(Clone, Debug)]
struct Constraint {
    max_skew: i64,
    topology_key: String,
    selector: Selector,
    min_domains: usize,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

impl Constraint {
    fn includes_node(&self, pod: &PodInfo, node: &NodeInfo) -> bool {
        if self.honor_node_affinity && !pod.node_selector.matches(node.labels(), node.name()) {
            return false;
        }
        if self.honor_node_taints
            && find_untolerated_taint(node.taints(), pod.tolerations()).is_some()
        {
            return false;
        }
        true
    }
}

/// The plugin.
#[derive(Debug)]
pub struct PodTopologySpread {
    default_constraints: Vec<TopologySpreadConstraint>,
    system_defaulted: bool,
}

impl PodTopologySpread {
    /// Build from args.
    pub fn new(args: PodTopologySpreadArgs) -> Result<PodTopologySpread, ConfigError> {
        match args.defaulting_type {
            DefaultingType::System => {
                if !args.default_constraints.is_empty() {
                    return Err(ConfigError(
                        "PodTopologySpread: defaultConstraints: must be empty when defaultingType is System".into(),
                    ));
                }
                Ok(PodTopologySpread {
                    default_constraints: system_default_constraints(),
                    system_defaulted: true,
                })
            }
            DefaultingType::List => {
                for c in &args.default_constraints {
                    if c.label_selector.is_some() {
                        return Err(ConfigError(
                            "PodTopologySpread: defaultConstraints.labelSelector: constraints must not define a selector, as they deduced for each pod".into(),
                        ));
                    }
                    if c.max_skew <= 0 {
                        return Err(ConfigError("PodTopologySpread: defaultConstraints.maxSkew: must be greater than zero".into()));
                    }
                }
                Ok(PodTopologySpread {
                    default_constraints: args.default_constraints,
                    system_defaulted: false,
                })
            }
        }
    }

    fn compile(c: &TopologySpreadConstraint, pod: &PodInfo, selector: Selector) -> Constraint {
        let mut selector = selector;
        let keys = c.match_label_keys.as_deref().unwrap_or(&[]);
        let extra: Vec<Requirement> = keys
            .iter()
            .filter_map(|k| {
                pod.labels().get(k).map(|v| Requirement {
                    key: k.clone(),
                    op: Op::In(vec![v.clone()]),
                })
            })
            .collect();
        selector.add(extra);
        Constraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.map_or(1, |m| m.max(1) as usize),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        }
    }

    /// The pod's constraints with this `whenUnsatisfiable`, or the default
    /// ones if it has none.
    fn constraints(&self, pod: &PodInfo, snap: &Snapshot, action: &str) -> Vec<Constraint> {
        let own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or(&[]);
        if !own.is_empty() {
            return own
                .iter()
                .filter(|c| c.when_unsatisfiable == action)
                .map(|c| {
                    Self::compile(
                        c,
                        pod,
                        Selector::from_label_selector(c.label_selector.as_ref()),
                    )
                })
                .collect();
        }
        let defaults: Vec<&TopologySpreadConstraint> = self
            .default_constraints
            .iter()
            .filter(|c| c.when_unsatisfiable == action)
            .collect();
        if defaults.is_empty() {
            return Vec::new();
        }
        let selector = snap.default_selector(pod);
        if selector.is_empty() {
            return Vec::new();
        }
        defaults
            .into_iter()
            .map(|c| Self::compile(c, pod, selector.clone()))
            .collect()
    }
}

fn has_all_domains(node: &NodeInfo, index: &[Arc<TopologyIndex>]) -> bool {
    index.iter().all(|t| t.domain(node).is_some())
}

/// Non-terminating pods of `ns` matching `selector` (an empty selector
/// counts nothing, as upstream).
fn count_matching(node: &NodeInfo, selector: &Selector, ns: &str) -> i64 {
    if selector.is_empty() || node.pods().is_empty() {
        return 0;
    }
    node.pods()
        .iter()
        .filter(|p| !p.terminating && p.namespace == ns && selector.matches(p.labels()))
        .count() as i64
}

/// Whether the snapshot's cached per-domain counts give exactly what
/// upstream counts for these constraints: every node with the key is
/// eligible (no node-affinity or taint filtering applies to this pod) and
/// no other constraint's key can exclude it.
fn cache_applies(pod: &PodInfo, constraints: &[Constraint], all_keys_required: bool) -> bool {
    (!all_keys_required || constraints.len() == 1)
        && constraints.iter().all(|c| {
            !c.honor_node_taints && (!c.honor_node_affinity || pod.node_selector.is_empty())
        })
}

#[derive(Clone)]
struct PreFilterState {
    constraints: Vec<Constraint>,
    index: Vec<Arc<TopologyIndex>>,
    /// Per constraint, per domain: matching pods.
    counts: Vec<Vec<i64>>,
    /// Per constraint, per domain: whether the domain has an eligible node.
    eligible: Vec<Vec<bool>>,
    /// Per constraint: number of eligible domains.
    num_domains: Vec<usize>,
    /// Per constraint: the smallest count among eligible domains
    /// (i64::MAX if none).
    min: Vec<i64>,
}

impl PreFilterState {
    fn recompute_min(&mut self, i: usize) {
        self.min[i] = self.counts[i]
            .iter()
            .zip(&self.eligible[i])
            .filter(|(_, e)| **e)
            .map(|(c, _)| *c)
            .min()
            .unwrap_or(i64::MAX);
    }

    fn update(&mut self, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, delta: i64) {
        if other.namespace != pod.namespace || !has_all_domains(node, &self.index) {
            return;
        }
        for i in 0..self.constraints.len() {
            let c = &self.constraints[i];
            if !c.selector.matches(other.labels()) || !c.includes_node(pod, node) {
                continue;
            }
            let Some(d) = self.index[i].domain(node) else {
                continue;
            };
            self.counts[i][d] += delta;
            if !self.eligible[i][d] {
                self.eligible[i][d] = true;
                self.num_domains[i] += 1;
            }
            self.recompute_min(i);
        }
    }
}

impl Plugin for PodTopologySpread {
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

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> PreFilterResult {
        let constraints = self.constraints(pod, snap, "DoNotSchedule");
        if constraints.is_empty() {
            return PreFilterResult::skip();
        }
        let n = constraints.len();
        let mut s = PreFilterState {
            index: Vec::with_capacity(n),
            counts: Vec::with_capacity(n),
            eligible: Vec::with_capacity(n),
            num_domains: vec![0; n],
            min: vec![i64::MAX; n],
            constraints,
        };
        if cache_applies(pod, &s.constraints, true) {
            let c = &s.constraints[0];
            let (index, counts) = snap.domain_counts(&pod.namespace, &c.selector, &c.topology_key);
            s.num_domains[0] = index.domains.len();
            s.eligible.push(vec![true; index.domains.len()]);
            s.counts.push(counts);
            s.index.push(index);
        } else {
            for c in &s.constraints {
                let index = snap.topology_index(&c.topology_key);
                s.counts.push(vec![0; index.domains.len()]);
                s.eligible.push(vec![false; index.domains.len()]);
                s.index.push(index);
            }
            for node in snap.nodes() {
                if !has_all_domains(node, &s.index) {
                    continue;
                }
                for (i, c) in s.constraints.iter().enumerate() {
                    if !c.includes_node(pod, node) {
                        continue;
                    }
                    let d = s.index[i].node_domain[node.index()] as usize;
                    if !s.eligible[i][d] {
                        s.eligible[i][d] = true;
                        s.num_domains[i] += 1;
                    }
                    s.counts[i][d] += count_matching(node, &c.selector, &pod.namespace);
                }
            }
        }
        for i in 0..n {
            s.recompute_min(i);
        }
        state.write(s);
        PreFilterResult::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, added, node, 1);
        }
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>() {
            s.update(pod, removed, node, -1);
        }
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        let Some(s) = state.read::<PreFilterState>() else {
            return Status::success();
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(d) = s.index[i].domain(node) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let min = if s.num_domains[i] < c.min_domains {
                0
            } else {
                s.min[i]
            };
            let self_match = i64::from(c.selector.matches(pod.labels()));
            let matched = if s.eligible[i][d] { s.counts[i][d] } else { 0 };
            if matched + self_match - min > c.max_skew {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }
}

#[derive(Clone)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    index: Vec<Arc<TopologyIndex>>,
    /// Indices of feasible nodes lacking a topology key.
    ignored: HashSet<usize>,
    /// Per constraint (not hostname): matching pods per domain.
    counts: Vec<Vec<i64>>,
    weights: Vec<f64>,
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status {
        if snap.num_nodes() == 0 {
            return Status::skip();
        }
        let has_own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .is_some_and(|c| !c.is_empty());
        let require_all = has_own || !self.system_defaulted;
        let constraints = self.constraints(pod, snap, "ScheduleAnyway");
        if constraints.is_empty() {
            return Status::skip();
        }
        let index: Vec<Arc<TopologyIndex>> = constraints
            .iter()
            .map(|c| snap.topology_index(&c.topology_key))
            .collect();
        let mut ignored = HashSet::new();
        let mut seen: Vec<Vec<bool>> = index.iter().map(|t| vec![false; t.domains.len()]).collect();
        let mut sizes = vec![0usize; constraints.len()];
        let mut missing_domain = vec![false; constraints.len()];
        for n in nodes {
            if require_all && !has_all_domains(n, &index) {
                ignored.insert(n.index());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME {
                    continue;
                }
                match index[i].domain(n) {
                    Some(d) if !seen[i][d] => {
                        seen[i][d] = true;
                        sizes[i] += 1;
                    }
                    Some(_) => {}
                    // Upstream counts the empty value as one more domain.
                    None if !missing_domain[i] => {
                        missing_domain[i] = true;
                        sizes[i] += 1;
                    }
                    None => {}
                }
            }
        }
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == HOSTNAME {
                    nodes.len() - ignored.len()
                } else {
                    sizes[i]
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        let mut counts: Vec<Vec<i64>> = Vec::with_capacity(constraints.len());
        if cache_applies(pod, &constraints, require_all) {
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME {
                    // Per node, from the cache too when every node is a
                    // domain of its own (else counted node by node).
                    let labelled = index[i]
                        .node_domain
                        .iter()
                        .filter(|d| **d != NO_DOMAIN)
                        .count();
                    if index[i].domains.len() == labelled {
                        counts.push(
                            snap.domain_counts(&pod.namespace, &c.selector, &c.topology_key)
                                .1,
                        );
                    } else {
                        counts.push(Vec::new());
                    }
                } else {
                    counts.push(
                        snap.domain_counts(&pod.namespace, &c.selector, &c.topology_key)
                            .1,
                    );
                    debug_assert_eq!(counts[i].len(), index[i].domains.len());
                }
            }
        } else {
            // Hostname constraints are counted node by node in `score`.
            counts = constraints
                .iter()
                .zip(&index)
                .map(|(c, t)| {
                    if c.topology_key == HOSTNAME {
                        Vec::new()
                    } else {
                        vec![0; t.domains.len()]
                    }
                })
                .collect();
            for node in snap.nodes() {
                if require_all && !has_all_domains(node, &index) {
                    continue;
                }
                for (i, c) in constraints.iter().enumerate() {
                    if c.topology_key == HOSTNAME || !c.includes_node(pod, node) {
                        continue;
                    }
                    if let Some(d) = index[i].domain(node)
                        && seen[i][d]
                    {
                        counts[i][d] += count_matching(node, &c.selector, &pod.namespace);
                    }
                }
            }
        }
        state.write(PreScoreState {
            constraints,
            index,
            ignored,
            counts,
            weights,
        });
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let Some(s) = state.read::<PreScoreState>() else {
            return 0;
        };
        if !s.ignored.is_empty() && s.ignored.contains(&node.index()) {
            return 0;
        }
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            if let Some(d) = s.index[i].domain(node) {
                let cnt = if c.topology_key == HOSTNAME && s.counts[i].is_empty() {
                    count_matching(node, &c.selector, &pod.namespace)
                } else {
                    s.counts[i][d]
                };
                score += cnt as f64 * s.weights[i] + (c.max_skew - 1) as f64;
            }
        }
        score.round() as i64
    }

    fn normalize_score(
        &self,
        state: &CycleState,
        _: &PodInfo,
        nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        let Some(s) = state.read::<PreScoreState>() else {
            return;
        };
        let ignored = |k: usize| !s.ignored.is_empty() && s.ignored.contains(&nodes[k].index());
        let mut min = i64::MAX;
        let mut max = 0;
        for (k, &sc) in scores.iter().enumerate() {
            if ignored(k) {
                continue;
            }
            min = min.min(sc);
            max = max.max(sc);
        }
        for (k, score) in scores.iter_mut().enumerate() {
            *score = if ignored(k) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::snapshot::ControllerSelector;
    use crate::testing::*;

    const ZONE: &str = "zone";

    fn pts() -> PodTopologySpread {
        PodTopologySpread::new(Default::default()).unwrap()
    }

    /// Upstream's classic layout: zone1 = {node-a, node-b},
    /// zone2 = {node-x, node-y}.
    fn four_nodes(pods: Vec<k8s_openapi::api::core::v1::Pod>) -> Snapshot {
        Snapshot::from_objects(
            [
                node("node-a").label(ZONE, "zone1").obj(),
                node("node-b").label(ZONE, "zone1").obj(),
                node("node-x").label(ZONE, "zone2").obj(),
                node("node-y").label(ZONE, "zone2").obj(),
            ],
            pods,
        )
    }

    fn foo(name: &str, node_name: &str) -> k8s_openapi::api::core::v1::Pod {
        pod(name).label("foo", "").node(node_name).obj()
    }

    #[test]
    fn filter_zone_skew() {
        // Upstream "pods spread across zones as 3/3, all nodes fit": here
        // 3 in zone1 and 1 in zone2; maxSkew 1 → only zone2 nodes fit.
        let snap = four_nodes(vec![
            foo("p-a1", "node-a"),
            foo("p-a2", "node-a"),
            foo("p-b1", "node-b"),
            foo("p-x1", "node-x"),
        ]);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        let st = filter_all(&pts(), &p, &snap).unwrap();
        assert_eq!(
            st[0],
            Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
        );
        assert_eq!(
            st.iter().map(Status::is_success).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        // maxSkew 3: 3+1-1 = 3 ≤ 3, all fit.
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(3, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        assert_eq!(passes(&pts(), &p, &snap), [true, true, true, true]);
        // A pod that does not match its own selector does not add itself.
        let p = PodInfo::new(
            pod("p")
                .spread(spread(2, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        assert_eq!(passes(&pts(), &p, &snap), [true, true, true, true]);
    }

    #[test]
    fn filter_hostname_and_missing_label() {
        let snap = Snapshot::from_objects(
            [
                node("n1").label(ZONE, "z").obj(),
                node("n2").label(ZONE, "z").obj(),
                node("bare").obj(),
            ],
            [foo("a", "n1")],
        );
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        let st = filter_all(&pts(), &p, &snap).unwrap();
        assert_eq!(st[2], Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH));
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(
                    1,
                    "kubernetes.io/hostname",
                    "DoNotSchedule",
                    &[("foo", "")],
                ))
                .obj(),
        );
        // Hostname domains n1 (1), n2 (0), bare (0): min 0 → n1 has skew 2.
        assert_eq!(passes(&pts(), &p, &snap), [false, true, true]);
    }

    #[test]
    fn node_affinity_limits_domains() {
        // Only zone1 nodes are eligible (nodeSelector): zone2's empty
        // domain does not count, so the minimum is zone1's.
        let snap = four_nodes(vec![foo("a1", "node-a"), foo("b1", "node-b")]);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .node_selector(ZONE, "zone1")
                .spread(spread(
                    1,
                    "kubernetes.io/hostname",
                    "DoNotSchedule",
                    &[("foo", "")],
                ))
                .obj(),
        );
        assert_eq!(passes(&pts(), &p, &snap)[..2], [true, true]);
        // With nodeAffinityPolicy Ignore, node-x/y (0 pods) set the minimum.
        let mut c = spread(1, "kubernetes.io/hostname", "DoNotSchedule", &[("foo", "")]);
        c.node_affinity_policy = Some("Ignore".into());
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .node_selector(ZONE, "zone1")
                .spread(c)
                .obj(),
        );
        assert_eq!(passes(&pts(), &p, &snap), [false, false, true, true]);
    }

    #[test]
    fn min_domains() {
        // One domain with 2 pods; minDomains 2 makes the minimum 0:
        // 2 + 1 - 0 > 2 fails.
        let snap = Snapshot::from_objects(
            [node("n1").label(ZONE, "z1").obj()],
            [foo("a", "n1"), foo("b", "n1")],
        );
        let mut c = spread(2, ZONE, "DoNotSchedule", &[("foo", "")]);
        let p = PodInfo::new(pod("p").label("foo", "").spread(c.clone()).obj());
        assert_eq!(passes(&pts(), &p, &snap), [true]);
        c.min_domains = Some(2);
        let p = PodInfo::new(pod("p").label("foo", "").spread(c).obj());
        assert_eq!(passes(&pts(), &p, &snap), [false]);
    }

    #[test]
    fn terminating_and_other_namespace_pods_do_not_count() {
        let snap = four_nodes(vec![
            pod("t").label("foo", "").node("node-a").terminating().obj(),
            pod("o")
                .label("foo", "")
                .namespace("other")
                .node("node-a")
                .obj(),
        ]);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        assert_eq!(passes(&pts(), &p, &snap), [true, true, true, true]);
    }

    #[test]
    fn add_pod_updates_state() {
        let snap = four_nodes(vec![]);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "DoNotSchedule", &[("foo", "")]))
                .obj(),
        );
        let mut state = CycleState::new();
        pts().pre_filter(&mut state, &p, &snap);
        let a = snap.node("node-a").unwrap();
        assert!(pts().filter(&state, &p, a, &snap).is_success());
        let other = PodInfo::new(pod("q").label("foo", "").obj());
        pts().add_pod(&mut state, &p, &other, a, &snap);
        assert!(!pts().filter(&state, &p, a, &snap).is_success());
        assert!(
            pts()
                .filter(&state, &p, snap.node("node-x").unwrap(), &snap)
                .is_success()
        );
        pts().remove_pod(&mut state, &p, &other, a, &snap);
        assert!(pts().filter(&state, &p, a, &snap).is_success());
    }

    #[test]
    fn score_zone_constraint() {
        // zone1 has 3 matching pods, zone2 1; one ScheduleAnyway zone
        // constraint (maxSkew 1): 2 domains → weight ln(4) = 1.386.
        // zone1 nodes: round(3×1.386) = 4; zone2: round(1.386) = 1.
        // Normalized 100×(4+1−s)/4: zone1 25, zone2 100.
        let snap = four_nodes(vec![
            foo("a1", "node-a"),
            foo("a2", "node-a"),
            foo("b1", "node-b"),
            foo("x1", "node-x"),
        ]);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "ScheduleAnyway", &[("foo", "")]))
                .obj(),
        );
        let (raw, norm) = score_all(&pts(), &p, &snap).unwrap();
        assert_eq!(raw, [4, 4, 1, 1]);
        assert_eq!(norm, [25, 25, 100, 100]);
    }

    #[test]
    fn score_hostname_constraint_and_ignored_nodes() {
        // Hostname, maxSkew 1: 4 nodes → weight ln(6) = 1.79; node-a has 2
        // → round(3.58) = 4, node-b 1 → 2, others 0. A node without the key
        // is ignored (score 0) when the pod has its own constraints.
        let mut pods = vec![
            foo("a1", "node-a"),
            foo("a2", "node-a"),
            foo("b1", "node-b"),
        ];
        pods.push(pod("z").node("node-y").obj());
        let snap = four_nodes(pods);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(
                    1,
                    "kubernetes.io/hostname",
                    "ScheduleAnyway",
                    &[("foo", "")],
                ))
                .obj(),
        );
        let (raw, norm) = score_all(&pts(), &p, &snap).unwrap();
        assert_eq!(raw, [4, 2, 0, 0]);
        // 100×(4+0−s)/4.
        assert_eq!(norm, [0, 50, 100, 100]);
        let snap2 =
            Snapshot::from_objects([node("n1").label(ZONE, "z").obj(), node("n2").obj()], []);
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(spread(1, ZONE, "ScheduleAnyway", &[("foo", "")]))
                .obj(),
        );
        let (_, norm) = score_all(&pts(), &p, &snap2).unwrap();
        assert_eq!(norm, [100, 0]);
    }

    fn foo_pods(spec: &[(&str, usize)]) -> Vec<k8s_openapi::api::core::v1::Pod> {
        spec.iter()
            .flat_map(|(n, c)| {
                (0..*c).map(move |i| pod(&format!("p-{n}{i}")).label("foo", "").node(n).obj())
            })
            .collect()
    }

    fn exists_foo(max_skew: i32, key: &str) -> TopologySpreadConstraint {
        let mut c = spread(max_skew, key, "ScheduleAnyway", &[]);
        c.label_selector = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                match_expressions: Some(vec![
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                        key: "foo".into(),
                        operator: "Exists".into(),
                        values: None,
                    },
                ]),
                match_labels: None,
            },
        );
        c
    }

    #[test]
    fn upstream_score_cases() {
        // "one constraint on node, all 4 nodes are candidates, maxSkew=3":
        // 4/3/2/1 → 44, 66, 77, 100.
        let snap = Snapshot::from_objects(
            ["node-a", "node-b", "node-c", "node-d"].map(|n| node(n).obj()),
            foo_pods(&[("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1)]),
        );
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(exists_foo(3, HOSTNAME))
                .obj(),
        );
        assert_eq!(score_all(&pts(), &p, &snap).unwrap().1, [44, 66, 77, 100]);

        // "two Constraints on zone and node, 2 out of 4 nodes are
        // candidates": 2/~1~/2/~4~ → node-a 100, node-x 63.
        let snap = Snapshot::from_objects(
            [
                ("node-a", "zone1"),
                ("node-b", "zone1"),
                ("node-x", "zone2"),
                ("node-y", "zone2"),
            ]
            .map(|(n, z)| node(n).label("zone", z).obj()),
            foo_pods(&[("node-a", 2), ("node-b", 1), ("node-x", 2), ("node-y", 4)]),
        );
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(exists_foo(1, "zone"))
                .spread(exists_foo(1, HOSTNAME))
                .obj(),
        );
        let feasible = [snap.node("node-a").unwrap(), snap.node("node-x").unwrap()];
        assert_eq!(
            score_nodes(&pts(), &p, &snap, &feasible).unwrap().1,
            [100, 63]
        );

        // "one constraint on node, 3 out of 4 nodes are candidates, one
        // node doesn't match topology key": → 16, 0, 100.
        let mut b = node("node-b").obj();
        b.metadata.labels = Some(
            [("n".to_string(), "node-b".to_string())]
                .into_iter()
                .collect(),
        );
        let snap = Snapshot::from_objects(
            [
                node("node-a").obj(),
                b,
                node("node-x").obj(),
                node("node-y").obj(),
            ],
            foo_pods(&[("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3)]),
        );
        let p = PodInfo::new(
            pod("p")
                .label("foo", "")
                .spread(exists_foo(1, HOSTNAME))
                .obj(),
        );
        let feasible = [
            snap.node("node-a").unwrap(),
            snap.node("node-b").unwrap(),
            snap.node("node-x").unwrap(),
        ];
        assert_eq!(
            score_nodes(&pts(), &p, &snap, &feasible).unwrap().1,
            [16, 0, 100]
        );
    }

    #[test]
    fn system_default_spreading_of_a_replica_set() {
        // Pods of ReplicaSet rs1 (selector app=web): default constraints
        // hostname/3 and zone/5 apply. node-a has 2 replicas.
        let mut snap = four_nodes(vec![
            pod("w1")
                .label("app", "web")
                .owner("ReplicaSet", "rs1")
                .node("node-a")
                .obj(),
            pod("w2")
                .label("app", "web")
                .owner("ReplicaSet", "rs1")
                .node("node-a")
                .obj(),
        ]);
        // Zones from the standard label for the zone constraint.
        for (n, z) in [
            ("node-a", "zone1"),
            ("node-b", "zone1"),
            ("node-x", "zone2"),
            ("node-y", "zone2"),
        ] {
            snap.upsert_node(
                node(n)
                    .label(ZONE, z)
                    .label("topology.kubernetes.io/zone", z)
                    .obj(),
            );
        }
        snap.upsert_controller(
            "ReplicaSet",
            "default",
            "rs1",
            ControllerSelector::Selector(Selector::from_set(
                &[("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect(),
            )),
        );
        let p = PodInfo::new(
            pod("w3")
                .label("app", "web")
                .owner("ReplicaSet", "rs1")
                .obj(),
        );
        let (raw, norm) = score_all(&pts(), &p, &snap).unwrap();
        // hostname weight ln(6)=1.792, zone weight ln(4)=1.386:
        // node-a: 2×1.792 + 2 + 2×1.386 + 4 = 12.36 → 12; node-b: 0 + 2 + 2.77 + 4 = 8.77 → 9;
        // zone2 nodes: 2 + 4 = 6.
        assert_eq!(raw, [12, 9, 6, 6]);
        // 100×(12+6−s)/12.
        assert_eq!(norm, [50, 75, 100, 100]);
        // No controller/service: nothing to spread.
        assert!(score_all(&pts(), &PodInfo::new(pod("x").obj()), &snap).is_none());
    }

    #[test]
    fn list_defaulting() {
        let pl = PodTopologySpread::new(PodTopologySpreadArgs {
            default_constraints: vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: ZONE.into(),
                when_unsatisfiable: "DoNotSchedule".into(),
                ..Default::default()
            }],
            defaulting_type: DefaultingType::List,
        })
        .unwrap();
        let mut snap = four_nodes(vec![
            pod("w1")
                .label("app", "web")
                .owner("ReplicaSet", "rs1")
                .node("node-a")
                .obj(),
        ]);
        snap.upsert_controller(
            "ReplicaSet",
            "default",
            "rs1",
            ControllerSelector::Selector(Selector::from_set(
                &[("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect(),
            )),
        );
        let p = PodInfo::new(
            pod("w2")
                .label("app", "web")
                .owner("ReplicaSet", "rs1")
                .obj(),
        );
        assert_eq!(passes(&pl, &p, &snap), [false, false, true, true]);
        assert!(
            PodTopologySpread::new(PodTopologySpreadArgs {
                default_constraints: system_default_constraints(),
                defaulting_type: DefaultingType::System
            })
            .is_err()
        );
    }
}
