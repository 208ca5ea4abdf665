//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`) files,
//! turned into [`Profile`]s the way upstream defaults and expands them.
//!
//! Supported: `profiles[].schedulerName`, `percentageOfNodesToScore`
//! (global and per profile), `podInitialBackoffSeconds`,
//! `podMaxBackoffSeconds`, `plugins` for every extension point including
//! `multiPoint` (enabled with weights, disabled by name or `"*"`, merged
//! with the default plugins and expanded as upstream's
//! `mergePlugins`/`expandMultiPointPlugins`), and `pluginConfig` args for
//! NodeResourcesFit (`scoringStrategy`, `ignoredResources`,
//! `ignoredResourceGroups`), NodeResourcesBalancedAllocation
//! (`resources`), PodTopologySpread (`defaultConstraints`,
//! `defaultingType`), InterPodAffinity (`hardPodAffinityWeight`,
//! `ignorePreferredTermsOfExistingPods`), DefaultPreemption
//! (`minCandidateNodesPercentage`, `minCandidateNodesAbsolute`) and the
//! legacy NodeLabel. Other fields (leader election, client connection,
//! extenders) are accepted and ignored.
//!
//! The default profile is upstream's (`default_plugins.go`): multiPoint
//! SchedulingGates, PrioritySort, NodeUnschedulable, NodeName,
//! TaintToleration (3), NodeAffinity (2), NodePorts, NodeResourcesFit (1),
//! VolumeRestrictions, the volume limit/binding/zone plugins,
//! PodTopologySpread (2), InterPodAffinity (2), DefaultPreemption,
//! NodeResourcesBalancedAllocation (1), ImageLocality (1), DefaultBinder —
//! plus rkube's NodePreferAvoidPods (10000, its weight when upstream had
//! it), which only takes part for pods of annotated controllers.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use serde::Deserialize;

use crate::framework::{ConfigError, Profile};
use crate::plugins::balanced_allocation::BalancedAllocationArgs;
use crate::plugins::inter_pod_affinity::InterPodAffinityArgs;
use crate::plugins::node_label::NodeLabelArgs;
use crate::plugins::node_resources_fit::{
    FitArgs, ResourceSpec, ScoringStrategy, StrategyType, default_resources,
};
use crate::plugins::pod_topology_spread::{DefaultingType, PodTopologySpreadArgs};
use crate::plugins::{self, PluginArgs};
use crate::preemption::PreemptionArgs;

/// The API version this module reads.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The default scheduler name.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// Upstream's default multiPoint plugins with their weights (0: none),
/// plus NodePreferAvoidPods.
pub const DEFAULT_PLUGINS: &[(&str, i32)] = &[
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("EBSLimits", 0),
    ("GCEPDLimits", 0),
    ("NodeVolumeLimits", 0),
    ("AzureDiskLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
    ("NodePreferAvoidPods", 10000),
];

/// A parsed configuration.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// The profiles, one per scheduler name.
    pub profiles: Vec<Profile>,
    /// Global `percentageOfNodesToScore` (profiles inherit it).
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Initial backoff of unschedulable pods, seconds (default 1).
    pub pod_initial_backoff_seconds: i64,
    /// Maximum backoff, seconds (default 10).
    pub pod_max_backoff_seconds: i64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            profiles: vec![default_profile()],
            percentage_of_nodes_to_score: None,
            pod_initial_backoff_seconds: 1,
            pod_max_backoff_seconds: 10,
        }
    }
}

impl SchedulerConfig {
    /// The profile for a `schedulerName`.
    pub fn profile(&self, scheduler_name: &str) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.scheduler_name == scheduler_name)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    api_version: Option<String>,
    kind: Option<String>,
    percentage_of_nodes_to_score: Option<i32>,
    pod_initial_backoff_seconds: Option<i64>,
    pod_max_backoff_seconds: Option<i64>,
    profiles: Option<Vec<RawProfile>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i32>,
    plugins: Option<RawPlugins>,
    plugin_config: Option<Vec<RawPluginConfig>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawPlugins {
    multi_point: Option<RawPluginSet>,
    pre_enqueue: Option<RawPluginSet>,
    queue_sort: Option<RawPluginSet>,
    pre_filter: Option<RawPluginSet>,
    filter: Option<RawPluginSet>,
    post_filter: Option<RawPluginSet>,
    pre_score: Option<RawPluginSet>,
    score: Option<RawPluginSet>,
    reserve: Option<RawPluginSet>,
    permit: Option<RawPluginSet>,
    pre_bind: Option<RawPluginSet>,
    bind: Option<RawPluginSet>,
    post_bind: Option<RawPluginSet>,
}

#[derive(Deserialize, Default, Clone, Debug)]
struct RawPluginSet {
    enabled: Option<Vec<RawPlugin>>,
    disabled: Option<Vec<RawPlugin>>,
}

#[derive(Deserialize, Clone, Debug)]
struct RawPlugin {
    name: String,
    weight: Option<i32>,
}

#[derive(Deserialize)]
struct RawPluginConfig {
    name: String,
    args: Option<serde_yaml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawResource {
    name: String,
    weight: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawShapePoint {
    utilization: i64,
    score: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRtcr {
    shape: Option<Vec<RawShapePoint>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawScoringStrategy {
    #[serde(rename = "type")]
    type_: Option<String>,
    resources: Option<Vec<RawResource>>,
    requested_to_capacity_ratio: Option<RawRtcr>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFitArgs {
    ignored_resources: Option<Vec<String>>,
    ignored_resource_groups: Option<Vec<String>>,
    scoring_strategy: Option<RawScoringStrategy>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawBalancedArgs {
    resources: Option<Vec<RawResource>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPtsArgs {
    default_constraints: Option<Vec<TopologySpreadConstraint>>,
    defaulting_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawIpaArgs {
    hard_pod_affinity_weight: Option<i64>,
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPreemptionArgs {
    min_candidate_nodes_percentage: Option<i32>,
    min_candidate_nodes_absolute: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawNodeLabelArgs {
    present_labels: Option<Vec<String>>,
    absent_labels: Option<Vec<String>>,
    present_labels_preference: Option<Vec<String>>,
    absent_labels_preference: Option<Vec<String>>,
}

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

fn resources(raw: Option<Vec<RawResource>>) -> Vec<ResourceSpec> {
    match raw {
        Some(r) if !r.is_empty() => r
            .into_iter()
            .map(|r| ResourceSpec {
                name: r.name,
                weight: r.weight.filter(|w| *w != 0).unwrap_or(1),
            })
            .collect(),
        _ => default_resources(),
    }
}

fn args<T: for<'de> Deserialize<'de> + Default>(
    name: &str,
    v: Option<serde_yaml::Value>,
) -> Result<T, ConfigError> {
    match v {
        None | Some(serde_yaml::Value::Null) => Ok(T::default()),
        Some(v) => serde_yaml::from_value(v).map_err(|e| err(format!("pluginConfig {name}: {e}"))),
    }
}

fn plugin_args(configs: Vec<RawPluginConfig>) -> Result<PluginArgs, ConfigError> {
    let mut out = PluginArgs::default();
    let mut seen = std::collections::BTreeSet::new();
    for c in configs {
        if !seen.insert(c.name.clone()) {
            return Err(err(format!(
                "pluginConfig: duplicate plugin config for plugin {:?}",
                c.name
            )));
        }
        match c.name.as_str() {
            "NodeResourcesFit" => {
                let a: RawFitArgs = args(&c.name, c.args)?;
                let strategy = a.scoring_strategy.unwrap_or_default();
                let kind = match strategy.type_.as_deref().unwrap_or("LeastAllocated") {
                    "LeastAllocated" => StrategyType::LeastAllocated,
                    "MostAllocated" => StrategyType::MostAllocated,
                    "RequestedToCapacityRatio" => {
                        let shape = strategy
                            .requested_to_capacity_ratio
                            .and_then(|r| r.shape)
                            .ok_or_else(|| err("NodeResourcesFit: scoringStrategy.requestedToCapacityRatio.shape: required"))?;
                        StrategyType::RequestedToCapacityRatio(
                            shape
                                .into_iter()
                                .map(|p| (p.utilization, p.score))
                                .collect(),
                        )
                    }
                    other => {
                        return Err(err(format!(
                            "NodeResourcesFit: scoringStrategy.type: unsupported value {other:?}"
                        )));
                    }
                };
                out.node_resources_fit = FitArgs {
                    ignored_resources: a.ignored_resources.unwrap_or_default(),
                    ignored_resource_groups: a.ignored_resource_groups.unwrap_or_default(),
                    scoring_strategy: ScoringStrategy {
                        kind,
                        resources: resources(strategy.resources),
                    },
                };
            }
            "NodeResourcesBalancedAllocation" => {
                let a: RawBalancedArgs = args(&c.name, c.args)?;
                out.balanced_allocation = BalancedAllocationArgs {
                    resources: resources(a.resources),
                };
            }
            "PodTopologySpread" => {
                let a: RawPtsArgs = args(&c.name, c.args)?;
                let constraints = a.default_constraints.unwrap_or_default();
                let defaulting_type = match a.defaulting_type.as_deref() {
                    Some("List") => DefaultingType::List,
                    Some("System") => DefaultingType::System,
                    None if constraints.is_empty() => DefaultingType::System,
                    None => DefaultingType::List,
                    Some(o) => {
                        return Err(err(format!(
                            "PodTopologySpread: defaultingType: unsupported value {o:?}"
                        )));
                    }
                };
                out.pod_topology_spread = PodTopologySpreadArgs {
                    default_constraints: constraints,
                    defaulting_type,
                };
            }
            "InterPodAffinity" => {
                let a: RawIpaArgs = args(&c.name, c.args)?;
                let w = a.hard_pod_affinity_weight.unwrap_or(1);
                if !(0..=100).contains(&w) {
                    return Err(err(
                        "InterPodAffinity: hardPodAffinityWeight: must be in the range 0-100",
                    ));
                }
                out.inter_pod_affinity = InterPodAffinityArgs {
                    hard_pod_affinity_weight: w,
                    ignore_preferred_terms_of_existing_pods: a
                        .ignore_preferred_terms_of_existing_pods
                        .unwrap_or(false),
                };
            }
            "DefaultPreemption" => {
                let a: RawPreemptionArgs = args(&c.name, c.args)?;
                let d = PreemptionArgs::default();
                out.default_preemption = PreemptionArgs {
                    min_candidate_nodes_percentage: a
                        .min_candidate_nodes_percentage
                        .unwrap_or(d.min_candidate_nodes_percentage),
                    min_candidate_nodes_absolute: a
                        .min_candidate_nodes_absolute
                        .unwrap_or(d.min_candidate_nodes_absolute),
                };
            }
            "NodeLabel" => {
                let a: RawNodeLabelArgs = args(&c.name, c.args)?;
                out.node_label = NodeLabelArgs {
                    present_labels: a.present_labels.unwrap_or_default(),
                    absent_labels: a.absent_labels.unwrap_or_default(),
                    present_labels_preference: a.present_labels_preference.unwrap_or_default(),
                    absent_labels_preference: a.absent_labels_preference.unwrap_or_default(),
                };
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A plugin set after merging: enabled (name, weight) and disabled names.
#[derive(Clone, Debug, Default)]
struct PluginSet {
    enabled: Vec<(String, i32)>,
    disabled: Vec<String>,
}

impl PluginSet {
    fn from_raw(raw: Option<&RawPluginSet>) -> PluginSet {
        let Some(raw) = raw else {
            return PluginSet::default();
        };
        PluginSet {
            enabled: raw
                .enabled
                .iter()
                .flatten()
                .map(|p| (p.name.clone(), p.weight.unwrap_or(0)))
                .collect(),
            disabled: raw
                .disabled
                .iter()
                .flatten()
                .map(|p| p.name.clone())
                .collect(),
        }
    }
}

/// Upstream's `mergePluginSet`.
fn merge_plugin_set(default: &PluginSet, custom: &PluginSet) -> PluginSet {
    let mut disabled: Vec<String> = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    let mut replaced = vec![false; custom.enabled.len()];
    let mut enabled = Vec::new();
    if !disabled.iter().any(|d| d == "*") {
        for (name, w) in &default.enabled {
            if disabled.contains(name) {
                continue;
            }
            match custom.enabled.iter().position(|(n, _)| n == name) {
                Some(i) => {
                    replaced[i] = true;
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push((name.clone(), *w)),
            }
        }
    }
    for (i, p) in custom.enabled.iter().enumerate() {
        if !replaced[i] {
            enabled.push(p.clone());
        }
    }
    PluginSet { enabled, disabled }
}

#[derive(Clone, Copy)]
enum Point {
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
}

impl Point {
    fn implemented_by(self, name: &str) -> Result<bool, ConfigError> {
        let e = plugins::extensions(name)
            .ok_or_else(|| err(format!("plugin {name:?} does not exist")))?;
        Ok(match self {
            Point::PreFilter => e.pre_filter,
            Point::Filter => e.filter,
            Point::PostFilter => e.post_filter,
            Point::PreScore => e.pre_score,
            Point::Score => e.score,
        })
    }
}

/// Upstream's `expandMultiPointPlugins` for one extension point.
fn expand(
    point: Point,
    specific: &PluginSet,
    multi: &PluginSet,
) -> Result<Vec<String>, ConfigError> {
    for (name, _) in &specific.enabled {
        if !plugins::is_known(name) {
            return Err(err(format!("plugin {name:?} does not exist")));
        }
    }
    let explicit: Vec<String> = specific.enabled.iter().map(|(n, _)| n.clone()).collect();
    if specific.disabled.iter().any(|d| d == "*") {
        return Ok(explicit);
    }
    let mut overrides: Vec<String> = Vec::new();
    let mut from_multi: Vec<String> = Vec::new();
    for (name, _) in &multi.enabled {
        if !point.implemented_by(name)? {
            continue;
        }
        if specific.disabled.contains(name) {
            continue;
        }
        if explicit.contains(name) {
            if !overrides.contains(name) {
                overrides.push(name.clone());
            }
            continue;
        }
        if from_multi.contains(name) {
            return Err(err(format!("plugin {name:?} already registered")));
        }
        from_multi.push(name.clone());
    }
    let mut out = overrides;
    for n in from_multi.into_iter().chain(explicit) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

fn build_profile(raw: RawProfile, global_pct: Option<i32>) -> Result<Profile, ConfigError> {
    let scheduler_name = raw
        .scheduler_name
        .unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.to_string());
    let pct = raw.percentage_of_nodes_to_score.or(global_pct);
    if let Some(p) = pct
        && !(0..=100).contains(&p)
    {
        return Err(err(format!(
            "profiles[{scheduler_name}].percentageOfNodesToScore: not in valid range [0-100]"
        )));
    }
    let plugins = raw.plugins.unwrap_or_default();
    let default_multi = PluginSet {
        enabled: DEFAULT_PLUGINS
            .iter()
            .map(|(n, w)| (n.to_string(), *w))
            .collect(),
        disabled: Vec::new(),
    };
    let multi = merge_plugin_set(
        &default_multi,
        &PluginSet::from_raw(plugins.multi_point.as_ref()),
    );
    for (n, _) in &multi.enabled {
        if !plugins::is_known(n) {
            return Err(err(format!("plugin {n:?} does not exist")));
        }
    }
    for other in [
        &plugins.pre_enqueue,
        &plugins.queue_sort,
        &plugins.reserve,
        &plugins.permit,
        &plugins.pre_bind,
        &plugins.bind,
        &plugins.post_bind,
    ] {
        for p in other.iter().flat_map(|s| s.enabled.iter().flatten()) {
            if !plugins::is_known(&p.name) {
                return Err(err(format!("plugin {:?} does not exist", p.name)));
            }
        }
    }
    let set = |s: &Option<RawPluginSet>| {
        merge_plugin_set(&PluginSet::default(), &PluginSet::from_raw(s.as_ref()))
    };
    let score_set = set(&plugins.score);
    let score_names = expand(Point::Score, &score_set, &multi)?;
    let mut weights: BTreeMap<String, i64> = BTreeMap::new();
    for (n, w) in score_set.enabled.iter().chain(multi.enabled.iter()) {
        weights
            .entry(n.clone())
            .or_insert(if *w == 0 { 1 } else { i64::from(*w) });
    }
    for w in weights.values() {
        if *w < 0 {
            return Err(err("score plugin weight must be positive"));
        }
    }
    Ok(Profile {
        scheduler_name,
        percentage_of_nodes_to_score: pct,
        pre_filter: expand(Point::PreFilter, &set(&plugins.pre_filter), &multi)?,
        filter: expand(Point::Filter, &set(&plugins.filter), &multi)?,
        post_filter: expand(Point::PostFilter, &set(&plugins.post_filter), &multi)?,
        pre_score: expand(Point::PreScore, &set(&plugins.pre_score), &multi)?,
        score: score_names
            .into_iter()
            .map(|n| (n.clone(), weights.get(&n).copied().unwrap_or(1)))
            .collect(),
        args: plugin_args(raw.plugin_config.unwrap_or_default())?,
    })
}

/// Upstream's default profile (`default-scheduler`), see the module
/// documentation.
pub fn default_profile() -> Profile {
    build_profile(RawProfile::default(), None).expect("the default profile is valid")
}

/// Parse a `KubeSchedulerConfiguration` YAML (or JSON) document.
pub fn parse_config(text: &str) -> Result<SchedulerConfig, ConfigError> {
    let raw: RawConfig = serde_yaml::from_str(text)
        .map_err(|e| err(format!("decoding scheduler configuration: {e}")))?;
    if let Some(v) = raw.api_version.as_deref()
        && v != API_VERSION
    {
        return Err(err(format!(
            "unsupported apiVersion {v:?}: expected {API_VERSION}"
        )));
    }
    if let Some(k) = raw.kind.as_deref()
        && k != "KubeSchedulerConfiguration"
    {
        return Err(err(format!(
            "unsupported kind {k:?}: expected KubeSchedulerConfiguration"
        )));
    }
    let profiles = match raw.profiles {
        Some(p) if !p.is_empty() => p,
        _ => vec![RawProfile::default()],
    };
    let mut out = Vec::new();
    for p in profiles {
        let p = build_profile(p, raw.percentage_of_nodes_to_score)?;
        if out
            .iter()
            .any(|o: &Profile| o.scheduler_name == p.scheduler_name)
        {
            return Err(err(format!(
                "profiles: duplicate schedulerName {:?}",
                p.scheduler_name
            )));
        }
        out.push(p);
    }
    let initial = raw.pod_initial_backoff_seconds.unwrap_or(1);
    let max = raw.pod_max_backoff_seconds.unwrap_or(10);
    if initial <= 0 || max < initial {
        return Err(err(
            "podInitialBackoffSeconds must be positive and podMaxBackoffSeconds at least as large",
        ));
    }
    Ok(SchedulerConfig {
        profiles: out,
        percentage_of_nodes_to_score: raw.percentage_of_nodes_to_score,
        pod_initial_backoff_seconds: initial,
        pod_max_backoff_seconds: max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Framework;

    #[test]
    fn default_profile_matches_upstream() {
        let p = default_profile();
        assert_eq!(p.scheduler_name, "default-scheduler");
        assert_eq!(
            p.filter,
            [
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "VolumeBinding",
                "PodTopologySpread",
                "InterPodAffinity"
            ]
        );
        assert_eq!(
            p.pre_filter,
            [
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "VolumeBinding",
                "PodTopologySpread",
                "InterPodAffinity"
            ]
        );
        assert_eq!(p.post_filter, ["DefaultPreemption"]);
        let scores: Vec<(&str, i64)> = p.score.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        assert_eq!(
            scores,
            [
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1),
                ("NodePreferAvoidPods", 10000)
            ]
        );
        let fw = Framework::new(p).unwrap();
        assert!(fw.preemption_enabled());
        assert_eq!(fw.filter_plugins().len(), 10);
    }

    #[test]
    fn empty_document_is_the_default() {
        let c = parse_config(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
        )
        .unwrap();
        assert_eq!(c.profiles.len(), 1);
        assert_eq!(c.profiles[0].score, default_profile().score);
        assert_eq!(
            (c.pod_initial_backoff_seconds, c.pod_max_backoff_seconds),
            (1, 10)
        );
    }

    #[test]
    fn weights_disabling_and_args() {
        let c = parse_config(
            r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      enabled:
      - name: NodeResourcesFit
        weight: 5
      - name: SelectorSpread
        weight: 1
      disabled:
      - name: ImageLocality
    score:
      disabled:
      - name: TaintToleration
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 2
        - name: memory
          weight: 1
- schedulerName: bin-packer
  percentageOfNodesToScore: 100
  plugins:
    score:
      enabled:
      - name: NodeResourcesFit
        weight: 7
      disabled:
      - name: "*"
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        requestedToCapacityRatio:
          shape:
          - utilization: 0
            score: 0
          - utilization: 100
            score: 10
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
"#,
        )
        .unwrap();
        let d = c.profile("default-scheduler").unwrap();
        assert_eq!(d.percentage_of_nodes_to_score, Some(30));
        let names: Vec<_> = d.score.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        assert_eq!(
            names,
            [
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 5),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("NodePreferAvoidPods", 10000),
                ("SelectorSpread", 1)
            ]
        );
        assert!(
            d.filter.contains(&"TaintToleration".to_string()),
            "only its score is disabled"
        );
        assert_eq!(
            d.args.node_resources_fit.scoring_strategy.kind,
            StrategyType::MostAllocated
        );
        assert_eq!(
            d.args.node_resources_fit.scoring_strategy.resources[0].weight,
            2
        );
        let b = c.profile("bin-packer").unwrap();
        assert_eq!(b.score, [("NodeResourcesFit".to_string(), 7)]);
        assert_eq!(b.percentage_of_nodes_to_score, Some(100));
        assert_eq!(
            b.args.pod_topology_spread.defaulting_type,
            DefaultingType::List
        );
        assert!(matches!(
            b.args.node_resources_fit.scoring_strategy.kind,
            StrategyType::RequestedToCapacityRatio(_)
        ));
        Framework::new(b.clone()).unwrap();
        Framework::new(d.clone()).unwrap();
    }

    #[test]
    fn multipoint_star_and_explicit_points() {
        let c = parse_config(
            r#"
profiles:
- schedulerName: minimal
  plugins:
    multiPoint:
      disabled:
      - name: "*"
    filter:
      enabled:
      - name: NodeResourcesFit
      - name: NodeLabel
    score:
      enabled:
      - name: NodeResourcesFit
  pluginConfig:
  - name: NodeLabel
    args:
      presentLabels: [ssd]
"#,
        )
        .unwrap();
        let p = &c.profiles[0];
        assert_eq!(p.filter, ["NodeResourcesFit", "NodeLabel"]);
        assert_eq!(p.score, [("NodeResourcesFit".to_string(), 1)]);
        assert!(p.post_filter.is_empty());
        assert_eq!(p.args.node_label.present_labels, ["ssd"]);
        let fw = Framework::new(p.clone()).unwrap();
        assert!(!fw.preemption_enabled());
    }

    #[test]
    fn errors() {
        assert!(parse_config("apiVersion: kubescheduler.config.k8s.io/v1beta1\n").is_err());
        let e = parse_config(
            "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: Nope\n",
        )
        .unwrap_err();
        assert_eq!(e.0, "plugin \"Nope\" does not exist");
        assert!(parse_config("profiles:\n- schedulerName: a\n- schedulerName: a\n").is_err());
        assert!(parse_config("percentageOfNodesToScore: 101\n").is_err());
        let p = parse_config(
            "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: ImageLocality\n",
        )
        .unwrap();
        assert_eq!(
            Framework::new(p.profiles[0].clone()).unwrap_err().0,
            "plugin \"ImageLocality\" does not extend FilterPlugin plugin"
        );
        assert!(parse_config("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Foo\n").is_err());
    }
}
