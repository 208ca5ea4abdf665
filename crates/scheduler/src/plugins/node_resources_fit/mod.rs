//! NodeResourcesFit: the pod's requests (init containers, sidecars and
//! overhead counted as upstream, see [`crate::resource::pod_requests`])
//! must fit the node's allocatable minus what its pods request: cpu,
//! memory, ephemeral-storage, extended resources (`nvidia.com/gpu`), and
//! the pod count. Scores by the configured strategy:
//!
//! - `LeastAllocated` (default): Σ wᵢ·(capᵢ − reqᵢ)·100/capᵢ / Σ wᵢ;
//! - `MostAllocated`: Σ wᵢ·reqᵢ·100/capᵢ / Σ wᵢ (req capped at cap);
//! - `RequestedToCapacityRatio`: a broken-linear function of the
//!   utilization percentage, weighted average rounded.
//!
//! where `req` counts 100m cpu / 200Mi memory for containers that request
//! none (upstream's non-zero requests), plus the incoming pod.

use std::borrow::Cow;

use crate::framework::{
    Code, ConfigError, CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterPlugin,
    PreFilterResult, PreScorePlugin, ScorePlugin, Status,
};
use crate::pod_info::PodInfo;
use crate::resource::{
    CPU, EPHEMERAL_STORAGE, MEMORY, Resource, is_extended_resource_name, is_scalar_resource_name,
};
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodeResourcesFit";

/// A resource and its weight in scoring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Resource name (`cpu`, `memory`, `nvidia.com/gpu`, ...).
    pub name: String,
    /// Weight (default 1).
    pub weight: i64,
}

/// The default scored resources: cpu and memory, weight 1 each.
pub fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: CPU.into(),
            weight: 1,
        },
        ResourceSpec {
            name: MEMORY.into(),
            weight: 1,
        },
    ]
}

/// A scoring strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrategyType {
    /// Prefer nodes with more free resources (spreading).
    LeastAllocated,
    /// Prefer nodes with fewer free resources (bin packing).
    MostAllocated,
    /// A custom function of utilization: `(utilization %, score 0-10)`
    /// points, linear in between.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// `scoringStrategy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringStrategy {
    /// The strategy.
    pub kind: StrategyType,
    /// Resources and weights.
    pub resources: Vec<ResourceSpec>,
}

impl Default for ScoringStrategy {
    fn default() -> Self {
        ScoringStrategy {
            kind: StrategyType::LeastAllocated,
            resources: default_resources(),
        }
    }
}

/// NodeResourcesFitArgs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FitArgs {
    /// Extended resources not checked by Filter.
    pub ignored_resources: Vec<String>,
    /// Extended resource groups (the part before `/`) not checked.
    pub ignored_resource_groups: Vec<String>,
    /// How to score.
    pub scoring_strategy: ScoringStrategy,
}

/// The plugin.
#[derive(Debug)]
pub struct NodeResourcesFit {
    args: FitArgs,
    /// Scaled shape for RequestedToCapacityRatio (scores × 10).
    shape: Vec<(i64, i64)>,
}

impl NodeResourcesFit {
    /// Build from args (validating the shape).
    pub fn new(args: FitArgs) -> Result<NodeResourcesFit, ConfigError> {
        let mut shape = Vec::new();
        if let StrategyType::RequestedToCapacityRatio(points) = &args.scoring_strategy.kind {
            if points.is_empty() {
                return Err(ConfigError("NodeResourcesFit: requestedToCapacityRatio.shape: at least one point is required".into()));
            }
            for w in points.windows(2) {
                if w[1].0 <= w[0].0 {
                    return Err(ConfigError(
                        "NodeResourcesFit: requestedToCapacityRatio.shape: utilization values must be sorted in increasing order".into(),
                    ));
                }
            }
            for &(u, s) in points {
                if !(0..=100).contains(&u) || !(0..=10).contains(&s) {
                    return Err(ConfigError(
                        "NodeResourcesFit: requestedToCapacityRatio.shape: utilization must be 0-100 and score 0-10".into(),
                    ));
                }
                shape.push((u, s * (MAX_NODE_SCORE / 10)));
            }
        }
        if args
            .scoring_strategy
            .resources
            .iter()
            .any(|r| !(1..=100).contains(&r.weight))
        {
            return Err(ConfigError(
                "NodeResourcesFit: scoringStrategy.resources: weight must be 1-100".into(),
            ));
        }
        Ok(NodeResourcesFit { args, shape })
    }
}

/// The reasons a pod's requests do not fit a node (upstream's
/// `fitsRequest`): `Too many pods`, `Insufficient cpu`, ... in that order;
/// and whether the misfit is unresolvable (a request exceeds the node's
/// whole allocatable, so no eviction can help).
pub fn fits_request(
    req: &Resource,
    node: &NodeInfo,
    ignored: &[String],
    ignored_groups: &[String],
) -> (Vec<Cow<'static, str>>, bool) {
    let mut out = Vec::new();
    let mut unresolvable = false;
    if node.pods().len() as i64 + 1 > node.allocatable.allowed_pod_number {
        out.push(Cow::Borrowed("Too many pods"));
    }
    if req.milli_cpu == 0 && req.memory == 0 && req.ephemeral_storage == 0 && req.scalar.is_empty()
    {
        return (out, unresolvable);
    }
    let (a, r) = (&node.allocatable, &node.requested);
    if req.milli_cpu > 0 && req.milli_cpu > a.milli_cpu - r.milli_cpu {
        out.push(Cow::Borrowed("Insufficient cpu"));
        unresolvable |= req.milli_cpu > a.milli_cpu;
    }
    if req.memory > 0 && req.memory > a.memory - r.memory {
        out.push(Cow::Borrowed("Insufficient memory"));
        unresolvable |= req.memory > a.memory;
    }
    if req.ephemeral_storage > 0
        && req.ephemeral_storage > a.ephemeral_storage - r.ephemeral_storage
    {
        out.push(Cow::Borrowed("Insufficient ephemeral-storage"));
        unresolvable |= req.ephemeral_storage > a.ephemeral_storage;
    }
    for (name, q) in &req.scalar {
        if *q == 0 {
            continue;
        }
        if is_extended_resource_name(name) {
            let group = name.split('/').next().unwrap_or_default();
            if ignored.iter().any(|i| i == name) || ignored_groups.iter().any(|g| g == group) {
                continue;
            }
        }
        if *q > a.scalar(name) - r.scalar(name) {
            out.push(Cow::Owned(format!("Insufficient {name}")));
            unresolvable |= *q > a.scalar(name);
        }
    }
    (out, unresolvable)
}

impl Plugin for NodeResourcesFit {
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

impl PreFilterPlugin for NodeResourcesFit {
    /// The requests are computed once per pod in [`PodInfo`]; nothing to do.
    fn pre_filter(&self, _: &mut CycleState, _: &PodInfo, _: &Snapshot) -> PreFilterResult {
        PreFilterResult::success()
    }
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        let (reasons, unresolvable) = fits_request(
            &pod.requests,
            node,
            &self.args.ignored_resources,
            &self.args.ignored_resource_groups,
        );
        if reasons.is_empty() {
            return Status::success();
        }
        let code = if unresolvable {
            Code::UnschedulableAndUnresolvable
        } else {
            Code::Unschedulable
        };
        Status {
            code,
            reasons: reasons.into(),
            plugin: "",
        }
    }
}

/// The pod's request of each scored resource (non-zero defaults for cpu and
/// memory when `non_zero`).
pub(crate) fn pod_request_list(
    pod: &PodInfo,
    resources: &[ResourceSpec],
    non_zero: bool,
) -> Vec<i64> {
    resources
        .iter()
        .map(|r| match r.name.as_str() {
            CPU if non_zero => pod.non_zero_cpu,
            MEMORY if non_zero => pod.non_zero_memory,
            n => pod.requests.get(n),
        })
        .collect()
}

/// (allocatable, requested-with-pod) of a resource on a node (upstream's
/// `calculateResourceAllocatableRequest`); (0, 0) means "not scored".
pub(crate) fn allocatable_request(
    node: &NodeInfo,
    name: &str,
    pod_request: i64,
    use_requested: bool,
) -> (i64, i64) {
    if pod_request == 0 && is_scalar_resource_name(name) {
        return (0, 0);
    }
    match name {
        CPU => {
            let used = if use_requested {
                node.requested.milli_cpu
            } else {
                node.non_zero_cpu
            };
            (node.allocatable.milli_cpu, used + pod_request)
        }
        MEMORY => {
            let used = if use_requested {
                node.requested.memory
            } else {
                node.non_zero_memory
            };
            (node.allocatable.memory, used + pod_request)
        }
        EPHEMERAL_STORAGE => (
            node.allocatable.ephemeral_storage,
            node.requested.ephemeral_storage + pod_request,
        ),
        n if node.allocatable.has_scalar(n) => (
            node.allocatable.scalar(n),
            node.requested.scalar(n) + pod_request,
        ),
        _ => (0, 0),
    }
}

/// Upstream's `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// Upstream's `mostRequestedScore`.
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// Upstream's `BuildBrokenLinearFunction` evaluated at `p`.
pub fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for i in 0..shape.len() {
        if p <= shape[i].0 {
            if i == 0 {
                return shape[0].1;
            }
            let (u0, s0) = shape[i - 1];
            let (u1, s1) = shape[i];
            return s0 + (s1 - s0) * (p - u0) / (u1 - u0);
        }
    }
    shape.last().map_or(0, |s| s.1)
}

#[derive(Clone)]
struct PreScoreState(Vec<i64>);

impl PreScorePlugin for NodeResourcesFit {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        state.write(PreScoreState(pod_request_list(
            pod,
            &self.args.scoring_strategy.resources,
            true,
        )));
        Status::success()
    }
}

impl ScorePlugin for NodeResourcesFit {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let resources = &self.args.scoring_strategy.resources;
        let computed;
        let reqs: &[i64] = match state.read::<PreScoreState>() {
            Some(s) => &s.0,
            None => {
                computed = pod_request_list(pod, resources, true);
                &computed
            }
        };
        let (mut node_score, mut weight_sum) = (0i64, 0i64);
        for (r, &pod_req) in resources.iter().zip(reqs) {
            let (alloc, req) = allocatable_request(node, &r.name, pod_req, false);
            if alloc == 0 {
                continue;
            }
            match &self.args.scoring_strategy.kind {
                StrategyType::LeastAllocated => {
                    node_score += least_requested_score(req, alloc) * r.weight;
                    weight_sum += r.weight;
                }
                StrategyType::MostAllocated => {
                    node_score += most_requested_score(req, alloc) * r.weight;
                    weight_sum += r.weight;
                }
                StrategyType::RequestedToCapacityRatio(_) => {
                    let util = if req > alloc { 100 } else { req * 100 / alloc };
                    let s = broken_linear(&self.shape, util);
                    if s > 0 {
                        node_score += s * r.weight;
                        weight_sum += r.weight;
                    }
                }
            }
        }
        if weight_sum == 0 {
            return 0;
        }
        match self.args.scoring_strategy.kind {
            StrategyType::RequestedToCapacityRatio(_) => {
                (node_score as f64 / weight_sum as f64).round() as i64
            }
            _ => node_score / weight_sum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    fn fit(kind: StrategyType) -> NodeResourcesFit {
        NodeResourcesFit::new(FitArgs {
            scoring_strategy: ScoringStrategy {
                kind,
                resources: default_resources(),
            },
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn filter_reasons() {
        let snap = Snapshot::from_objects(
            [node("n")
                .cpu("2")
                .memory("2Gi")
                .resource("ephemeral-storage", "10Gi")
                .resource("nvidia.com/gpu", "1")
                .pods(2)
                .obj()],
            [pod("x")
                .node("n")
                .container(&[("cpu", "1500m"), ("memory", "1Gi"), ("nvidia.com/gpu", "1")])
                .obj()],
        );
        let f = fit(StrategyType::LeastAllocated);
        let ok = PodInfo::new(
            pod("p")
                .container(&[("cpu", "500m"), ("memory", "1Gi")])
                .obj(),
        );
        assert!(filter_all(&f, &ok, &snap).unwrap()[0].is_success());
        // 600m more: resolvable by evicting (the node has 2 cpu).
        let more = PodInfo::new(pod("p").container(&[("cpu", "600m")]).obj());
        assert_eq!(
            filter_all(&f, &more, &snap).unwrap()[0].code,
            Code::Unschedulable
        );
        let big = PodInfo::new(
            pod("p")
                .container(&[
                    ("cpu", "1"),
                    ("memory", "2Gi"),
                    ("ephemeral-storage", "20Gi"),
                    ("nvidia.com/gpu", "1"),
                ])
                .obj(),
        );
        assert_eq!(
            filter_all(&f, &big, &snap).unwrap()[0].reasons,
            [
                "Insufficient cpu",
                "Insufficient memory",
                "Insufficient ephemeral-storage",
                "Insufficient nvidia.com/gpu"
            ]
        );
        // 20Gi of ephemeral storage exceeds the node's 10Gi: no eviction helps.
        assert_eq!(
            filter_all(&f, &big, &snap).unwrap()[0].code,
            Code::UnschedulableAndUnresolvable
        );
        // Extended resource the node does not have at all.
        let other = PodInfo::new(pod("p").container(&[("example.com/foo", "1")]).obj());
        assert_eq!(
            filter_all(&f, &other, &snap).unwrap()[0].reasons,
            ["Insufficient example.com/foo"]
        );
        let ignoring = NodeResourcesFit::new(FitArgs {
            ignored_resource_groups: vec!["example.com".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(filter_all(&ignoring, &other, &snap).unwrap()[0].is_success());
        // Init containers and overhead count.
        let init = PodInfo::new(
            pod("p")
                .init_container(&[("cpu", "1")])
                .container(&[("cpu", "100m")])
                .obj(),
        );
        assert_eq!(
            filter_all(&f, &init, &snap).unwrap()[0].reasons,
            ["Insufficient cpu"]
        );
        let oh = PodInfo::new(
            pod("p")
                .container(&[("cpu", "400m")])
                .overhead(&[("cpu", "200m")])
                .obj(),
        );
        assert_eq!(
            filter_all(&f, &oh, &snap).unwrap()[0].reasons,
            ["Insufficient cpu"]
        );
    }

    #[test]
    fn too_many_pods() {
        let snap = Snapshot::from_objects(
            [node("n").cpu("2").pods(1).obj()],
            [pod("x").node("n").obj()],
        );
        let p = PodInfo::new(pod("p").container(&[("cpu", "5")]).obj());
        assert_eq!(
            filter_all(&fit(StrategyType::LeastAllocated), &p, &snap).unwrap()[0].reasons,
            ["Too many pods", "Insufficient cpu"]
        );
    }

    fn two_nodes() -> Snapshot {
        Snapshot::from_objects(
            [
                node("n1").cpu("4000m").memory("10000").pods(110).obj(),
                node("n2").cpu("6000m").memory("10000").pods(110).obj(),
            ],
            [],
        )
    }

    fn pod_3000_5000() -> PodInfo {
        PodInfo::new(
            pod("p")
                .container(&[("cpu", "1000m"), ("memory", "2000")])
                .container(&[("cpu", "2000m"), ("memory", "3000")])
                .obj(),
        )
    }

    #[test]
    fn least_allocated_upstream_case() {
        // Upstream's "nothing scheduled, resources requested, differently
        // sized nodes": n1 cpu (4000-3000)*100/4000=25, mem 50 → 37;
        // n2 cpu 50, mem 50 → 50.
        let (raw, _) = score_all(
            &fit(StrategyType::LeastAllocated),
            &pod_3000_5000(),
            &two_nodes(),
        )
        .unwrap();
        assert_eq!(raw, [37, 50]);
    }

    #[test]
    fn least_allocated_uses_non_zero_requests() {
        // A best-effort pod counts 100m / 200Mi.
        let snap = Snapshot::from_objects([node("n").cpu("1").memory("1Gi").pods(110).obj()], []);
        let p = PodInfo::new(pod("p").container(&[]).obj());
        // cpu (1000-100)*100/1000 = 90; mem (1024-200)*100/1024 = 80 → 85.
        assert_eq!(
            score_all(&fit(StrategyType::LeastAllocated), &p, &snap)
                .unwrap()
                .0,
            [85]
        );
    }

    #[test]
    fn most_allocated_upstream_case() {
        // n1: cpu 3000*100/4000=75, mem 50 → 62; n2: 50, 50 → 50.
        let (raw, _) = score_all(
            &fit(StrategyType::MostAllocated),
            &pod_3000_5000(),
            &two_nodes(),
        )
        .unwrap();
        assert_eq!(raw, [62, 50]);
    }

    #[test]
    fn requested_to_capacity_ratio() {
        // Shape (0,0)-(100,10) → utilization% as the score; n1: cpu 75,
        // mem 50 → round(62.5) = 63; n2: 50, 50 → 50.
        let f = fit(StrategyType::RequestedToCapacityRatio(vec![
            (0, 0),
            (100, 10),
        ]));
        assert_eq!(
            score_all(&f, &pod_3000_5000(), &two_nodes()).unwrap().0,
            [63, 50]
        );
        // Reversed shape: spreading.
        let f = fit(StrategyType::RequestedToCapacityRatio(vec![
            (0, 10),
            (100, 0),
        ]));
        assert_eq!(
            score_all(&f, &pod_3000_5000(), &two_nodes()).unwrap().0,
            [38, 50]
        );
        assert_eq!(broken_linear(&[(10, 20), (50, 80)], 0), 20);
        assert_eq!(broken_linear(&[(10, 20), (50, 80)], 30), 50);
        assert_eq!(broken_linear(&[(10, 20), (50, 80)], 90), 80);
        assert!(
            NodeResourcesFit::new(FitArgs {
                scoring_strategy: ScoringStrategy {
                    kind: StrategyType::RequestedToCapacityRatio(vec![(50, 1), (10, 2)]),
                    resources: default_resources()
                },
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn extended_resources_scored_only_when_requested() {
        let snap = Snapshot::from_objects(
            [node("n1")
                .cpu("4")
                .memory("4Gi")
                .resource("nvidia.com/gpu", "4")
                .pods(110)
                .obj()],
            [pod("x")
                .node("n1")
                .container(&[("nvidia.com/gpu", "2")])
                .obj()],
        );
        let resources = vec![
            ResourceSpec {
                name: "cpu".into(),
                weight: 1,
            },
            ResourceSpec {
                name: "memory".into(),
                weight: 1,
            },
            ResourceSpec {
                name: "nvidia.com/gpu".into(),
                weight: 2,
            },
        ];
        let f = NodeResourcesFit::new(FitArgs {
            scoring_strategy: ScoringStrategy {
                kind: StrategyType::MostAllocated,
                resources,
            },
            ..Default::default()
        })
        .unwrap();
        // Existing pod x counts the 100m/200Mi defaults. Pod without gpu:
        // cpu (100+1000)*100/4000 = 27, mem (200Mi+1Gi)*100/4Gi = 29 → 28.
        let p = PodInfo::new(pod("p").container(&[("cpu", "1"), ("memory", "1Gi")]).obj());
        assert_eq!(score_all(&f, &p, &snap).unwrap().0, [28]);
        // With one gpu: gpu 3*100/4 = 75 weight 2 → (27 + 29 + 150) / 4 = 51.
        let p = PodInfo::new(
            pod("p")
                .container(&[("cpu", "1"), ("memory", "1Gi"), ("nvidia.com/gpu", "1")])
                .obj(),
        );
        assert_eq!(score_all(&f, &p, &snap).unwrap().0, [51]);
    }
}
