//! The scheduling framework: plugin traits, per-cycle state, statuses, and
//! the scheduling cycle itself ([`Framework::schedule`]).
//!
//! A cycle, as upstream's `schedulePod`:
//!
//! 1. **PreFilter** plugins compute per-pod state once (not once per node)
//!    into the [`CycleState`]; they may reject the pod outright, narrow the
//!    candidate nodes, or ask to be skipped.
//! 2. **Filter** plugins run node by node, starting where the previous
//!    cycle stopped, until enough feasible nodes are found
//!    ([`num_feasible_nodes_to_find`]: upstream's `percentageOfNodesToScore`,
//!    adaptive by default). A node's first failing plugin gives its reasons.
//!    Pods nominated to a node with priority ≥ the pod's count there.
//! 3. If no node fits, the result is a [`FitError`] worded as upstream, and
//!    the **PostFilter** (DefaultPreemption, [`crate::preemption`]) may
//!    nominate a node after choosing victims.
//! 4. Otherwise **PreScore** and **Score** plugins score the feasible nodes,
//!    **NormalizeScore** maps each plugin's scores to 0..=100, each is
//!    multiplied by the plugin's weight and summed; the highest total wins,
//!    ties broken at random (reservoir sampling, as upstream).
//!
//! The [`ScheduleDecision`] keeps the winner's per-plugin scores and the
//! runner-up's, and on request every feasible node's, so a binding can say
//! why it was made. Unlike upstream, a single feasible node is scored too
//! (the choice is the same; the explanation is not empty).
//!
//! Everything a cycle needs per pod is computed once per pod (PreFilter,
//! PreScore, [`PodInfo`]) and per node once per node change
//! ([`NodeInfo`]); the per-node work of Filter and Score is array and
//! integer work. The snapshot also keeps per-topology-domain pod counts
//! and an index of existing pods' anti-affinity terms up to date, so
//! spreading and anti-affinity cost O(domains) per pod rather than
//! O(pods).

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::plugins::{self, PluginArgs};
use crate::pod_info::PodInfo;
use crate::preemption::{self, PreemptionArgs, PreemptionResult};
use crate::snapshot::{NodeInfo, Snapshot};

/// The highest score a plugin gives a node after normalization.
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest score.
pub const MIN_NODE_SCORE: i64 = 0;

/// The outcome class of a plugin call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// Passed.
    Success,
    /// An internal error.
    Error,
    /// Does not fit; preempting pods might help.
    Unschedulable,
    /// Does not fit; preempting pods would not help.
    UnschedulableAndUnresolvable,
    /// (PreFilter/PreScore) this plugin has nothing to do for this pod.
    Skip,
}

/// A status's reasons: usually one, stored without allocating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reasons {
    /// No reason.
    #[default]
    None,
    /// One reason.
    One([Cow<'static, str>; 1]),
    /// Several reasons.
    Many(Vec<Cow<'static, str>>),
}

impl Deref for Reasons {
    type Target = [Cow<'static, str>];
    fn deref(&self) -> &Self::Target {
        match self {
            Reasons::None => &[],
            Reasons::One(a) => a,
            Reasons::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Reasons {
    type Item = &'a Cow<'static, str>;
    type IntoIter = std::slice::Iter<'a, Cow<'static, str>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<Cow<'static, str>>> for Reasons {
    fn from(mut v: Vec<Cow<'static, str>>) -> Self {
        match v.len() {
            0 => Reasons::None,
            1 => Reasons::One([v.pop().expect("one")]),
            _ => Reasons::Many(v),
        }
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Reasons {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

/// A plugin's verdict, with upstream's reason strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The outcome.
    pub code: Code,
    /// Human-readable reasons (`Insufficient cpu`, ...).
    pub reasons: Reasons,
    /// The plugin that returned it (set by the framework).
    pub plugin: &'static str,
}

impl Status {
    /// Success.
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Reasons::None,
            plugin: "",
        }
    }
    /// Skip.
    pub fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Reasons::None,
            plugin: "",
        }
    }
    /// A status with one reason.
    pub fn new(code: Code, reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: Reasons::One([reason.into()]),
            plugin: "",
        }
    }
    /// `Unschedulable` with one reason.
    pub fn unschedulable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }
    /// `UnschedulableAndUnresolvable` with one reason.
    pub fn unresolvable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }
    /// Whether the code is `Success`.
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
    /// Whether the code is `Skip`.
    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }
    /// Whether the pod was rejected (`Unschedulable` or
    /// `UnschedulableAndUnresolvable`).
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable
        )
    }
    /// The reasons joined by `", "` (upstream's `Status.Message`).
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
    fn with_plugin(mut self, p: &'static str) -> Status {
        self.plugin = p;
        self
    }
}

/// Data a plugin keeps in the [`CycleState`]: any `Clone + Send + Sync`
/// type. Cloned when preemption or nominated pods need a modified copy.
pub trait StateData: Any + Send + Sync {
    /// A boxed copy.
    fn clone_data(&self) -> Box<dyn StateData>;
    /// As `Any`, for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// As mutable `Any`, for downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Send + Sync> StateData for T {
    fn clone_data(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Per-cycle state: what PreFilter and PreScore computed for the pod being
/// scheduled, keyed by type.
#[derive(Default)]
pub struct CycleState {
    data: Vec<(TypeId, Box<dyn StateData>)>,
    skip_filter: u64,
    skip_score: u64,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            data: self
                .data
                .iter()
                .map(|(t, d)| (*t, (**d).clone_data()))
                .collect(),
            skip_filter: self.skip_filter,
            skip_score: self.skip_score,
        }
    }
}

impl fmt::Debug for CycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CycleState")
            .field("entries", &self.data.len())
            .finish()
    }
}

impl CycleState {
    /// An empty state.
    pub fn new() -> CycleState {
        CycleState::default()
    }
    /// Store a value (replacing one of the same type).
    pub fn write<T: StateData>(&mut self, v: T) {
        let id = TypeId::of::<T>();
        match self.data.iter_mut().find(|(t, _)| *t == id) {
            Some(e) => e.1 = Box::new(v),
            None => self.data.push((id, Box::new(v))),
        }
    }
    /// Read a value by type.
    pub fn read<T: 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.data
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, d)| (**d).as_any().downcast_ref())
    }
    /// Read a value by type, mutably.
    pub fn read_mut<T: 'static>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.data
            .iter_mut()
            .find(|(t, _)| *t == id)
            .and_then(|(_, d)| (**d).as_any_mut().downcast_mut())
    }
}

/// What a PreFilter plugin returns.
#[derive(Clone, Debug)]
pub struct PreFilterResult {
    /// Success, Skip (do not run this plugin's Filter), or a rejection.
    pub status: Status,
    /// If set, only these nodes can fit the pod.
    pub node_names: Option<BTreeSet<String>>,
}

impl PreFilterResult {
    /// Success, all nodes.
    pub fn success() -> PreFilterResult {
        PreFilterResult {
            status: Status::success(),
            node_names: None,
        }
    }
    /// Skip this plugin's Filter.
    pub fn skip() -> PreFilterResult {
        PreFilterResult {
            status: Status::skip(),
            node_names: None,
        }
    }
    /// A status, all nodes.
    pub fn status(status: Status) -> PreFilterResult {
        PreFilterResult {
            status,
            node_names: None,
        }
    }
}

/// A scheduling plugin. It implements one or more extension points, which
/// it exposes through the `as_*` methods.
pub trait Plugin: Send + Sync {
    /// The plugin's name, as in `KubeSchedulerConfiguration`.
    fn name(&self) -> &'static str;
    /// The PreFilter extension, if implemented.
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        None
    }
    /// The Filter extension, if implemented.
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    /// The PreScore extension, if implemented.
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        None
    }
    /// The Score extension, if implemented.
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
}

/// Computes per-pod state before filtering.
pub trait PreFilterPlugin: Plugin {
    /// Called once per cycle.
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snap: &Snapshot)
    -> PreFilterResult;
    /// Update the state as if `added` were on `node` (nominated pods,
    /// preemption's reprieves). Default: nothing to update.
    fn add_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _added: &PodInfo,
        _node: &NodeInfo,
        _snap: &Snapshot,
    ) {
    }
    /// Update the state as if `removed` were gone from `node` (preemption's
    /// victims). Default: nothing to update.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _removed: &PodInfo,
        _node: &NodeInfo,
        _snap: &Snapshot,
    ) {
    }
}

/// Decides whether a pod fits a node.
pub trait FilterPlugin: Plugin {
    /// Success, or a rejection with reasons.
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, snap: &Snapshot)
    -> Status;
}

/// Computes per-pod scoring state once, given the feasible nodes.
pub trait PreScorePlugin: Plugin {
    /// Success, or Skip (do not run this plugin's Score).
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status;
}

/// Scores feasible nodes.
pub trait ScorePlugin: Plugin {
    /// The raw score of a node.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, snap: &Snapshot) -> i64;
    /// Map the raw scores of all feasible nodes (same order as `nodes`) to
    /// `0..=MAX_NODE_SCORE`. Default: leave them (plugins whose raw scores
    /// are already in range).
    fn normalize_score(
        &self,
        _state: &CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        _scores: &mut [i64],
    ) {
    }
}

/// Upstream's `helper.DefaultNormalizeScore`: scale to `max_priority` by the
/// highest score, reversed if asked (all-zero → all max when reversed).
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max_priority * *s / max;
        if reverse {
            v = max_priority - v;
        }
        *s = v;
    }
}

/// A profile: the plugins at each extension point, score weights and
/// plugin arguments. Build one with [`Profile::default`] (upstream's
/// defaults) or from a `KubeSchedulerConfiguration` ([`crate::config`]).
#[derive(Clone, Debug)]
pub struct Profile {
    /// `schedulerName` of the pods this profile schedules.
    pub scheduler_name: String,
    /// Percentage of nodes to find feasible before scoring (None or 0:
    /// adaptive, see [`num_feasible_nodes_to_find`]).
    pub percentage_of_nodes_to_score: Option<i32>,
    /// PreFilter plugins, in order.
    pub pre_filter: Vec<String>,
    /// Filter plugins, in order.
    pub filter: Vec<String>,
    /// PostFilter plugins (`DefaultPreemption`).
    pub post_filter: Vec<String>,
    /// PreScore plugins, in order.
    pub pre_score: Vec<String>,
    /// Score plugins with their weights, in order.
    pub score: Vec<(String, i64)>,
    /// Plugin arguments (`pluginConfig`).
    pub args: PluginArgs,
}

impl Default for Profile {
    /// Upstream's default profile (`default-scheduler`), plus rkube's
    /// NodePreferAvoidPods score (see [`crate::plugins`]).
    fn default() -> Self {
        crate::config::default_profile()
    }
}

/// How many feasible nodes to find before scoring (upstream's
/// `numFeasibleNodesToFind`): all when fewer than 100 nodes; otherwise
/// `percentage` of them (adaptive default `50 - nodes/125`, at least 5%),
/// and at least 100.
pub fn num_feasible_nodes_to_find(percentage: Option<i32>, num_all_nodes: usize) -> usize {
    const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
    const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut pct = i64::from(percentage.unwrap_or(0));
    if pct == 0 {
        pct = 50 - num_all_nodes as i64 / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let n = (num_all_nodes as i64 * pct / 100) as usize;
    n.clamp(
        MIN_FEASIBLE_NODES_TO_FIND,
        num_all_nodes.max(MIN_FEASIBLE_NODES_TO_FIND),
    )
}

/// One plugin's contribution to a node's total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginScore {
    /// Plugin name.
    pub plugin: &'static str,
    /// The plugin's score before normalization.
    pub raw: i64,
    /// The normalized score (0..=100).
    pub score: i64,
    /// The plugin's weight; the contribution is `score × weight`.
    pub weight: i64,
}

/// A node's score breakdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeScore {
    /// Node name.
    pub node: String,
    /// Sum of `score × weight` over the plugins.
    pub total: i64,
    /// Per plugin, in profile order (plugins that skipped the pod are
    /// left out).
    pub plugins: Vec<PluginScore>,
}

impl fmt::Display for NodeScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} scored {}", self.node, self.total)?;
        for (i, p) in self.plugins.iter().enumerate() {
            let sep = if i == 0 { " (" } else { ", " };
            write!(f, "{sep}{} {}×{}", p.plugin, p.score, p.weight)?;
        }
        if !self.plugins.is_empty() {
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// Where a pod goes and why.
#[derive(Clone, Debug)]
pub struct ScheduleDecision {
    /// The chosen node.
    pub node: String,
    /// The chosen node's score breakdown.
    pub winner: NodeScore,
    /// The best other feasible node's breakdown, if any.
    pub runner_up: Option<NodeScore>,
    /// Every feasible node's breakdown, highest total first (only when
    /// [`ScheduleOptions::explain_all`]).
    pub all: Vec<NodeScore>,
    /// Nodes the filters ran on.
    pub evaluated_nodes: usize,
    /// Nodes that passed the filters.
    pub feasible_nodes: usize,
}

impl ScheduleDecision {
    /// A one-line explanation: the winner's scores per plugin and the
    /// runner-up's (for the binding's `Scheduled` event).
    pub fn explain(&self) -> String {
        let mut s = format!(
            "best of {} feasible nodes ({} evaluated): {}",
            self.feasible_nodes, self.evaluated_nodes, self.winner
        );
        match &self.runner_up {
            Some(r) => s.push_str(&format!("; runner-up {r}")),
            None => s.push_str("; no runner-up"),
        }
        s
    }

    /// Every feasible node's breakdown, one line each, highest total first
    /// (empty unless the cycle ran with [`ScheduleOptions::explain_all`]).
    pub fn explain_all(&self) -> String {
        self.all.iter().map(|n| format!("{n}\n")).collect()
    }
}

/// Options of one scheduling cycle.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScheduleOptions {
    /// Keep every feasible node's score breakdown in the decision.
    pub explain_all: bool,
}

/// The pod annotation asking for every feasible node's score breakdown
/// (value `all`), see [`ScheduleOptions::for_pod`].
pub const EXPLAIN_ANNOTATION: &str = "scheduler.rkube.io/explain";

impl ScheduleOptions {
    /// The options a pod asks for: `explain_all` when it carries
    /// [`EXPLAIN_ANNOTATION`]`: all`.
    pub fn for_pod(pod: &PodInfo) -> ScheduleOptions {
        let explain = pod
            .pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(EXPLAIN_ANNOTATION));
        ScheduleOptions {
            explain_all: explain.is_some_and(|v| v == "all"),
        }
    }
}

/// Why a pod fits no node, formatted exactly as upstream
/// (`0/3 nodes are available: 1 node(s) had untolerated taint {k: v},
/// 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No
/// preemption victims found for incoming pod..`).
#[derive(Clone, Debug)]
pub struct FitError {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// Number of nodes in the snapshot.
    pub num_all_nodes: usize,
    /// The nodes that were evaluated and rejected, with their status.
    pub node_statuses: Vec<(Arc<str>, Status)>,
    /// The status of the nodes not in `node_statuses` (PreFilter rejected
    /// the pod, or narrowed the nodes), if any.
    pub absent_status: Option<Status>,
    /// The PreFilter rejection message, if PreFilter rejected the pod.
    pub pre_filter_msg: Option<String>,
    /// The PostFilter (preemption) message (`preemption: ...`).
    pub post_filter_msg: Option<String>,
    /// The plugins that rejected the pod somewhere.
    pub unschedulable_plugins: BTreeSet<&'static str>,
    /// If preemption found a node: the node to nominate and the victims to
    /// evict.
    pub preemption: Option<PreemptionResult>,
}

/// Upstream's reasons histogram: every reason of every node counted,
/// formatted `"<count> <reason>"`, sorted as strings, joined by `", "`.
pub(crate) fn reasons_histogram(
    num_all_nodes: usize,
    node_statuses: &[(Arc<str>, Status)],
    absent: Option<&Status>,
) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, st) in node_statuses {
        for r in &st.reasons {
            *counts.entry(r).or_default() += 1;
        }
    }
    if let Some(a) = absent {
        let n = num_all_nodes.saturating_sub(node_statuses.len());
        if n > 0 {
            for r in &a.reasons {
                *counts.entry(r).or_default() += n;
            }
        }
    }
    let mut parts: Vec<String> = counts
        .into_iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    parts.sort();
    parts.join(", ")
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 {
            return write!(f, "no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        match &self.pre_filter_msg {
            Some(m) => write!(f, " {m}.")?,
            None => {
                let h = reasons_histogram(
                    self.num_all_nodes,
                    &self.node_statuses,
                    self.absent_status.as_ref(),
                );
                if !h.is_empty() {
                    write!(f, " {h}.")?;
                }
            }
        }
        if let Some(m) = &self.post_filter_msg {
            write!(f, " {m}.")?;
        }
        Ok(())
    }
}

impl std::error::Error for FitError {}

/// An error building a [`Framework`] from a [`Profile`] or a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The nodes PreFilter plugins narrowed the pod to, and which plugins did.
type Narrowed = (BTreeSet<String>, Vec<&'static str>);

/// A profile's plugins, instantiated, and the scheduling cycle.
pub struct Framework {
    profile: Profile,
    plugins: Vec<Arc<dyn Plugin>>,
    pre_filter: Vec<usize>,
    filter: Vec<usize>,
    pre_score: Vec<usize>,
    score: Vec<(usize, i64)>,
    preemption: Option<PreemptionArgs>,
    next_start_node_index: usize,
    rng: SmallRng,
}

impl fmt::Debug for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Framework")
            .field("profile", &self.profile.scheduler_name)
            .finish()
    }
}

impl Framework {
    /// Instantiate a profile's plugins.
    pub fn new(profile: Profile) -> Result<Framework, ConfigError> {
        let mut plugins: Vec<Arc<dyn Plugin>> = Vec::new();
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        let mut get = |name: &str,
                       plugins: &mut Vec<Arc<dyn Plugin>>|
         -> Result<Option<usize>, ConfigError> {
            if let Some(&i) = by_name.get(name) {
                return Ok(Some(i));
            }
            match plugins::new_plugin(name, &profile.args)? {
                Some(p) => {
                    plugins.push(p);
                    by_name.insert(name.to_string(), plugins.len() - 1);
                    Ok(Some(plugins.len() - 1))
                }
                None => Ok(None),
            }
        };
        let check = |ok: bool, name: &str, point: &str| -> Result<(), ConfigError> {
            if ok {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "plugin {name:?} does not extend {point} plugin"
                )))
            }
        };
        let mut pre_filter = Vec::new();
        for n in &profile.pre_filter {
            if let Some(i) = get(n, &mut plugins)? {
                check(plugins[i].as_pre_filter().is_some(), n, "PreFilterPlugin")?;
                pre_filter.push(i);
            }
        }
        let mut filter = Vec::new();
        for n in &profile.filter {
            if let Some(i) = get(n, &mut plugins)? {
                check(plugins[i].as_filter().is_some(), n, "FilterPlugin")?;
                filter.push(i);
            }
        }
        let mut pre_score = Vec::new();
        for n in &profile.pre_score {
            if let Some(i) = get(n, &mut plugins)? {
                check(plugins[i].as_pre_score().is_some(), n, "PreScorePlugin")?;
                pre_score.push(i);
            }
        }
        let mut score = Vec::new();
        for (n, w) in &profile.score {
            if let Some(i) = get(n, &mut plugins)? {
                check(plugins[i].as_score().is_some(), n, "ScorePlugin")?;
                score.push((i, if *w == 0 { 1 } else { *w }));
            }
        }
        if plugins.len() > 64 {
            return Err(ConfigError(
                "too many plugins in one profile (at most 64)".into(),
            ));
        }
        let mut preemption = None;
        for n in &profile.post_filter {
            match n.as_str() {
                "DefaultPreemption" => preemption = Some(profile.args.default_preemption.clone()),
                other if plugins::is_known(other) => {}
                other => {
                    return Err(ConfigError(format!(
                        "PostFilterPlugin {other:?} does not exist"
                    )));
                }
            }
        }
        Ok(Framework {
            profile,
            plugins,
            pre_filter,
            filter,
            pre_score,
            score,
            preemption,
            next_start_node_index: 0,
            rng: SmallRng::from_os_rng(),
        })
    }

    /// Use a seeded random generator (tie breaks, preemption's offset), for
    /// reproducible tests.
    pub fn with_seed(mut self, seed: u64) -> Framework {
        self.rng = SmallRng::seed_from_u64(seed);
        self
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Names of the Filter plugins, in order.
    pub fn filter_plugins(&self) -> Vec<&'static str> {
        self.filter
            .iter()
            .map(|&i| self.plugins[i].name())
            .collect()
    }

    /// Names and weights of the Score plugins, in order.
    pub fn score_plugins(&self) -> Vec<(&'static str, i64)> {
        self.score
            .iter()
            .map(|&(i, w)| (self.plugins[i].name(), w))
            .collect()
    }

    /// Whether the profile preempts (DefaultPreemption is enabled).
    pub fn preemption_enabled(&self) -> bool {
        self.preemption.is_some()
    }

    /// Schedule a pod object (see [`Framework::schedule`]).
    #[allow(clippy::result_large_err)] // as frequent as success; no need to box
    pub fn schedule_one(
        &mut self,
        pod: &Pod,
        snap: &Snapshot,
    ) -> Result<ScheduleDecision, FitError> {
        self.schedule(&PodInfo::new(pod.clone()), snap, ScheduleOptions::default())
    }

    /// Run PreFilter plugins; `Err` is a rejection (status with plugin set).
    pub(crate) fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> Result<Option<Narrowed>, Status> {
        let mut names: Option<BTreeSet<String>> = None;
        let mut plugins_with_nodes = Vec::new();
        for &i in &self.pre_filter {
            let p = &self.plugins[i];
            let r = p
                .as_pre_filter()
                .expect("checked at construction")
                .pre_filter(state, pod, snap);
            match r.status.code {
                Code::Success => {}
                Code::Skip => {
                    state.skip_filter |= 1 << i;
                    continue;
                }
                Code::Error | Code::Unschedulable | Code::UnschedulableAndUnresolvable => {
                    return Err(r.status.with_plugin(p.name()));
                }
            }
            if let Some(set) = r.node_names {
                plugins_with_nodes.push(p.name());
                names = Some(match names {
                    None => set,
                    Some(prev) => prev.intersection(&set).cloned().collect(),
                });
                if names.as_ref().is_some_and(|n| n.is_empty()) {
                    let msg = if plugins_with_nodes.len() == 1 {
                        format!("node(s) didn't satisfy plugin {}", plugins_with_nodes[0])
                    } else {
                        format!(
                            "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                            plugins_with_nodes.join(" ")
                        )
                    };
                    return Err(Status::unresolvable(msg).with_plugin(p.name()));
                }
            }
        }
        Ok(names.map(|n| (n, plugins_with_nodes)))
    }

    /// Run the Filter plugins on one node; the first rejection wins.
    pub fn run_filters(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status {
        for &i in &self.filter {
            if state.skip_filter & (1 << i) != 0 {
                continue;
            }
            let p = &self.plugins[i];
            let st = p
                .as_filter()
                .expect("checked at construction")
                .filter(state, pod, node, snap);
            if !st.is_success() {
                let st = if st.is_rejected() {
                    st
                } else {
                    Status::new(Code::Error, st.message())
                };
                return st.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Tell the PreFilter plugins that `added` is now on `node`.
    pub(crate) fn run_add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        for &i in &self.pre_filter {
            if state.skip_filter & (1 << i) != 0 {
                continue;
            }
            self.plugins[i]
                .as_pre_filter()
                .expect("checked")
                .add_pod(state, pod, added, node, snap);
        }
    }

    /// Tell the PreFilter plugins that `removed` left `node`.
    pub(crate) fn run_remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        for &i in &self.pre_filter {
            if state.skip_filter & (1 << i) != 0 {
                continue;
            }
            self.plugins[i]
                .as_pre_filter()
                .expect("checked")
                .remove_pod(state, pod, removed, node, snap);
        }
    }

    /// Run the filters counting the pods nominated to the node with a
    /// priority at least the pod's (upstream's
    /// `RunFilterPluginsWithNominatedPods`: first with them, then, if that
    /// passed, without them).
    pub fn run_filters_with_nominated(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status {
        let nominated = snap.nominated_pods(node.name());
        let relevant: Vec<&Arc<PodInfo>> = nominated
            .iter()
            .filter(|p| p.priority >= pod.priority && p.key != pod.key)
            .collect();
        if relevant.is_empty() {
            return self.run_filters(state, pod, node, snap);
        }
        let mut state2 = state.clone();
        let mut node2 = node.clone();
        for p in relevant {
            node2.add_pod(p.clone());
            self.run_add_pod(&mut state2, pod, p, &node2, snap);
        }
        let st = self.run_filters(&state2, pod, &node2, snap);
        if !st.is_success() {
            return st;
        }
        self.run_filters(state, pod, node, snap)
    }

    /// One scheduling cycle for `pod` against `snap`: the chosen node and
    /// why, or why no node fits (after trying preemption when the profile
    /// enables it). The snapshot is not modified; the caller assumes the
    /// pod on the chosen node ([`Snapshot::assume_pod`]) and binds it, or
    /// evicts the victims and nominates the node.
    #[allow(clippy::result_large_err)] // as frequent as success; no need to box
    pub fn schedule(
        &mut self,
        pod: &PodInfo,
        snap: &Snapshot,
        opts: ScheduleOptions,
    ) -> Result<ScheduleDecision, FitError> {
        let num_all = snap.num_nodes();
        let mut fit_error = FitError {
            pod: pod.key.clone(),
            num_all_nodes: num_all,
            node_statuses: Vec::new(),
            absent_status: None,
            pre_filter_msg: None,
            post_filter_msg: None,
            unschedulable_plugins: BTreeSet::new(),
            preemption: None,
        };
        if num_all == 0 {
            return Err(fit_error);
        }
        let mut state = CycleState::new();
        let narrowed = match self.run_pre_filter(&mut state, pod, snap) {
            Ok(n) => n,
            Err(st) => {
                fit_error.pre_filter_msg = Some(st.message());
                fit_error.unschedulable_plugins.insert(st.plugin);
                fit_error.absent_status = Some(st);
                self.post_filter(&state, pod, snap, &mut fit_error);
                return Err(fit_error);
            }
        };

        // The nominated node first: if it still fits, take it.
        let mut feasible: Vec<usize> = Vec::new();
        let mut evaluated = 0;
        if let Some(nnn) = pod.nominated_node_name()
            && let Some(i) = snap.node_index(nnn)
        {
            let in_narrowed = narrowed
                .as_ref()
                .is_none_or(|(names, _)| names.contains(nnn));
            if in_narrowed
                && self
                    .run_filters_with_nominated(&state, pod, snap.node_at(i), snap)
                    .is_success()
            {
                feasible.push(i);
                evaluated = 1;
            }
        }

        if feasible.is_empty() {
            let candidates: Vec<u32> = match &narrowed {
                Some((names, plugins_with_nodes)) => {
                    fit_error.absent_status = Some(Status::unresolvable(format!(
                        "node(s) didn't satisfy plugin(s) [{}]",
                        plugins_with_nodes
                            .iter()
                            .copied()
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(" ")
                    )));
                    names
                        .iter()
                        .filter_map(|n| snap.node_index(n))
                        .map(|i| i as u32)
                        .collect()
                }
                None => Vec::new(),
            };
            let order: &[u32] = if narrowed.is_some() {
                &candidates
            } else {
                snap.order()
            };
            let n = order.len();
            let to_find = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n);
            let start = if n == 0 {
                0
            } else {
                self.next_start_node_index % n
            };
            let check_nominated = snap.has_nominated_pods();
            let mut processed = 0;
            for k in 0..n {
                if feasible.len() >= to_find {
                    break;
                }
                let i = order[(start + k) % n] as usize;
                let node = snap.node_at(i);
                processed += 1;
                let st = if check_nominated {
                    self.run_filters_with_nominated(&state, pod, node, snap)
                } else {
                    self.run_filters(&state, pod, node, snap)
                };
                if st.is_success() {
                    feasible.push(i);
                } else {
                    fit_error.unschedulable_plugins.insert(st.plugin);
                    fit_error.node_statuses.push((node.name_arc(), st));
                }
            }
            if n > 0 {
                self.next_start_node_index = (start + processed) % n;
            }
            evaluated = processed;
        }

        if feasible.is_empty() {
            self.post_filter(&state, pod, snap, &mut fit_error);
            return Err(fit_error);
        }
        Ok(self.prioritize(&mut state, pod, snap, &feasible, evaluated, opts))
    }

    fn post_filter(
        &mut self,
        state: &CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
        fit_error: &mut FitError,
    ) {
        let Some(args) = self.preemption.clone() else {
            return;
        };
        let offset_seed: u64 = self.rng.random();
        let outcome = preemption::preempt(self, &args, state, pod, snap, fit_error, offset_seed);
        match outcome {
            Ok(res) => fit_error.preemption = Some(res),
            Err(msg) => fit_error.post_filter_msg = Some(format!("preemption: {msg}")),
        }
    }

    fn prioritize(
        &mut self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
        feasible: &[usize],
        evaluated: usize,
        opts: ScheduleOptions,
    ) -> ScheduleDecision {
        let nodes: Vec<&NodeInfo> = feasible.iter().map(|&i| snap.node_at(i)).collect();
        for &i in &self.pre_score {
            let st = self.plugins[i]
                .as_pre_score()
                .expect("checked")
                .pre_score(state, pod, &nodes, snap);
            if st.is_skip() {
                state.skip_score |= 1 << i;
            }
        }
        let mut totals = vec![0i64; nodes.len()];
        // (plugin, weight, raw, normalized) for the plugins that scored.
        let mut table: Vec<(&'static str, i64, Vec<i64>, Vec<i64>)> =
            Vec::with_capacity(self.score.len());
        for &(i, weight) in &self.score {
            if state.skip_score & (1 << i) != 0 {
                continue;
            }
            let p = self.plugins[i].as_score().expect("checked");
            let raw: Vec<i64> = nodes.iter().map(|n| p.score(state, pod, n, snap)).collect();
            let mut norm = raw.clone();
            p.normalize_score(state, pod, &nodes, &mut norm);
            for (t, s) in totals.iter_mut().zip(norm.iter_mut()) {
                *s = (*s).clamp(MIN_NODE_SCORE, MAX_NODE_SCORE);
                *t += *s * weight;
            }
            table.push((self.plugins[i].name(), weight, raw, norm));
        }
        // Highest total; ties broken by reservoir sampling.
        let mut best = 0;
        let mut ties = 1u32;
        for k in 1..totals.len() {
            if totals[k] > totals[best] {
                best = k;
                ties = 1;
            } else if totals[k] == totals[best] {
                ties += 1;
                if self.rng.random_range(0..ties) == 0 {
                    best = k;
                }
            }
        }
        let runner_up = (0..totals.len())
            .filter(|&k| k != best)
            .max_by_key(|&k| (totals[k], std::cmp::Reverse(k)));
        let breakdown = |k: usize| NodeScore {
            node: nodes[k].name().to_string(),
            total: totals[k],
            plugins: table
                .iter()
                .map(|(name, w, raw, norm)| PluginScore {
                    plugin: name,
                    raw: raw[k],
                    score: norm[k],
                    weight: *w,
                })
                .collect(),
        };
        let all = if opts.explain_all {
            let mut idx: Vec<usize> = (0..totals.len()).collect();
            idx.sort_by_key(|&k| (std::cmp::Reverse(totals[k]), k));
            idx.into_iter().map(breakdown).collect()
        } else {
            Vec::new()
        };
        ScheduleDecision {
            node: nodes[best].name().to_string(),
            winner: breakdown(best),
            runner_up: runner_up.map(breakdown),
            all,
            evaluated_nodes: evaluated,
            feasible_nodes: nodes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn feasible_nodes_to_find_is_upstream_formula() {
        assert_eq!(num_feasible_nodes_to_find(None, 50), 50);
        assert_eq!(
            num_feasible_nodes_to_find(None, 100),
            100,
            "50-0=50% of 100 is 50, min 100"
        );
        assert_eq!(num_feasible_nodes_to_find(None, 1000), 420, "50-8=42%");
        assert_eq!(num_feasible_nodes_to_find(None, 5000), 500, "50-40=10%");
        assert_eq!(num_feasible_nodes_to_find(None, 6000), 300, "50-48=2% → 5%");
        assert_eq!(num_feasible_nodes_to_find(Some(100), 5000), 5000);
        assert_eq!(num_feasible_nodes_to_find(Some(1), 5000), 100);
        assert_eq!(num_feasible_nodes_to_find(Some(30), 1000), 300);
    }

    #[test]
    fn default_normalize() {
        let mut s = [0, 5, 10];
        default_normalize_score(100, false, &mut s);
        assert_eq!(s, [0, 50, 100]);
        let mut s = [0, 5, 10];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [100, 50, 0]);
        let mut s = [0, 0];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [100, 100]);
        let mut s = [0, 0];
        default_normalize_score(100, false, &mut s);
        assert_eq!(s, [0, 0]);
    }

    #[test]
    fn fit_error_message_is_upstream() {
        let e = FitError {
            pod: "default/p".into(),
            num_all_nodes: 3,
            node_statuses: vec![
                (Arc::from("a"), Status::unresolvable("node(s) had untolerated taint {k: v}")),
                (Arc::from("b"), Status::unschedulable("Insufficient cpu")),
                (Arc::from("c"), Status::unschedulable("Insufficient cpu")),
            ],
            absent_status: None,
            pre_filter_msg: None,
            post_filter_msg: Some(
                "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.".into(),
            ),
            unschedulable_plugins: BTreeSet::new(),
            preemption: None,
        };
        assert_eq!(
            e.to_string(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
        );
    }

    #[test]
    fn schedules_to_least_allocated_node_and_explains() {
        let snap = Snapshot::from_objects(
            [
                node("busy").cpu("4").memory("8Gi").pods(110).obj(),
                node("idle").cpu("4").memory("8Gi").pods(110).obj(),
            ],
            [pod("x")
                .node("busy")
                .container(&[("cpu", "3"), ("memory", "6Gi")])
                .obj()],
        );
        let mut fw = Framework::new(Profile::default()).unwrap().with_seed(1);
        let p = pod("p")
            .container(&[("cpu", "100m"), ("memory", "100Mi")])
            .obj();
        let d = fw
            .schedule(
                &PodInfo::new(p),
                &snap,
                ScheduleOptions { explain_all: true },
            )
            .unwrap();
        assert_eq!(d.node, "idle");
        let r = d.runner_up.as_ref().unwrap();
        assert_eq!(r.node, "busy");
        assert!(d.winner.total > r.total);
        assert_eq!(d.all.len(), 2);
        let fit = d
            .winner
            .plugins
            .iter()
            .find(|p| p.plugin == "NodeResourcesFit")
            .unwrap();
        // cpu (4000-100)*100/4000 = 97, memory (8Gi-100Mi)*100/8Gi = 98 → 97.
        assert_eq!(fit.score, 97);
        let text = d.explain();
        assert!(
            text.starts_with("best of 2 feasible nodes (2 evaluated): idle scored"),
            "{text}"
        );
        assert!(text.contains("runner-up busy scored"), "{text}");
        assert!(text.contains("NodeResourcesFit 97×1"), "{text}");
        assert_eq!(d.explain_all().lines().count(), 2);
        assert!(d.explain_all().starts_with("idle scored"));
        let annotated = pod("q").obj();
        assert!(!ScheduleOptions::for_pod(&PodInfo::new(annotated)).explain_all);
        let mut annotated = pod("q").obj();
        annotated.metadata.annotations = Some(
            [(EXPLAIN_ANNOTATION.to_string(), "all".to_string())]
                .into_iter()
                .collect(),
        );
        assert!(ScheduleOptions::for_pod(&PodInfo::new(annotated)).explain_all);
    }

    #[test]
    fn ties_are_broken_at_random() {
        let nodes: Vec<_> = (0..4)
            .map(|i| {
                node(&format!("n{i}"))
                    .cpu("4")
                    .memory("8Gi")
                    .pods(110)
                    .obj()
            })
            .collect();
        let snap = Snapshot::from_objects(nodes, []);
        let mut fw = Framework::new(Profile::default()).unwrap().with_seed(7);
        let mut seen = BTreeSet::new();
        for _ in 0..64 {
            let p = PodInfo::new(pod("p").container(&[("cpu", "1")]).obj());
            seen.insert(
                fw.schedule(&p, &snap, ScheduleOptions::default())
                    .unwrap()
                    .node,
            );
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn nominated_pods_hold_their_place() {
        let mut snap = Snapshot::from_objects([node("n1").cpu("2").pods(110).obj()], []);
        let big = PodInfo::arc(pod("big").priority(100).container(&[("cpu", "2")]).obj());
        snap.set_nominated(big, "n1");
        let mut fw = Framework::new(Profile::default()).unwrap();
        let low = PodInfo::new(pod("low").priority(10).container(&[("cpu", "1")]).obj());
        let err = fw
            .schedule(&low, &snap, ScheduleOptions::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("0/1 nodes are available: 1 Insufficient cpu."),
            "{err}"
        );
        let high = PodInfo::new(pod("high").priority(1000).container(&[("cpu", "1")]).obj());
        assert_eq!(
            fw.schedule(&high, &snap, ScheduleOptions::default())
                .unwrap()
                .node,
            "n1"
        );
    }

    #[test]
    fn sampling_walks_round_robin() {
        let nodes: Vec<_> = (0..1000)
            .map(|i| node(&format!("n{i:04}")).cpu("4").pods(110).obj())
            .collect();
        let snap = Snapshot::from_objects(nodes, []);
        let mut fw = Framework::new(Profile::default()).unwrap();
        let p = PodInfo::new(pod("p").obj());
        let d = fw.schedule(&p, &snap, ScheduleOptions::default()).unwrap();
        assert_eq!((d.evaluated_nodes, d.feasible_nodes), (420, 420));
        assert_eq!(fw.next_start_node_index, 420);
        fw.schedule(&p, &snap, ScheduleOptions::default()).unwrap();
        fw.schedule(&p, &snap, ScheduleOptions::default()).unwrap();
        assert_eq!(fw.next_start_node_index, 260);
    }
}
