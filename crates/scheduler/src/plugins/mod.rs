//! The plugins, one folder each, and the registry that builds them by name.
//!
//! | plugin | extension points | what it does |
//! | --- | --- | --- |
//! | [`NodeUnschedulable`](node_unschedulable) | Filter | cordoned nodes (`spec.unschedulable`) |
//! | [`NodeName`](node_name) | Filter | `spec.nodeName` |
//! | [`TaintToleration`](taint_toleration) | Filter, PreScore, Score | NoSchedule/NoExecute taints; PreferNoSchedule score |
//! | [`NodeAffinity`](node_affinity) | PreFilter, Filter, PreScore, Score | `nodeSelector`, required and preferred node affinity |
//! | [`NodePorts`](node_ports) | PreFilter, Filter | host ports |
//! | [`NodeResourcesFit`](node_resources_fit) | PreFilter, Filter, PreScore, Score | requests vs allocatable; Least/MostAllocated, RequestedToCapacityRatio |
//! | [`NodeResourcesBalancedAllocation`](balanced_allocation) | PreScore, Score | balanced cpu/memory use |
//! | [`VolumeRestrictions`](volume_restrictions) | PreFilter, Filter | GCE PD / EBS / iSCSI / RBD disk conflicts |
//! | [`VolumeBinding`](volume_binding) | PreFilter, Filter | claims exist and are bound (or wait for their first consumer); bound volumes' node affinity |
//! | [`PodTopologySpread`](pod_topology_spread) | PreFilter, Filter, PreScore, Score | topology spread constraints, system default spreading |
//! | [`InterPodAffinity`](inter_pod_affinity) | PreFilter, Filter, PreScore, Score | pod affinity and anti-affinity |
//! | [`ImageLocality`](image_locality) | Score | images already on the node |
//! | [`NodePreferAvoidPods`](node_prefer_avoid_pods) | PreScore, Score | the `preferAvoidPods` node annotation |
//! | [`SelectorSpread`](selector_spread) | PreScore, Score | legacy spreading of a Service's/controller's pods |
//! | [`NodeLabel`](node_label) | Filter, Score | legacy label presence (configured by args) |
//!
//! Node conditions (Ready, memory/disk/PID pressure) reach the filters as
//! taints, see [`crate::snapshot`].
//!
//! Upstream plugins with no effect here (volume limits and zones, DRA,
//! queue sort, scheduling gates, binder) are accepted by name in
//! configurations and ignored ([`is_known`]).

use std::sync::Arc;

use crate::framework::{ConfigError, Plugin};
use crate::preemption::PreemptionArgs;

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_label;
pub mod node_name;
pub mod node_ports;
pub mod node_prefer_avoid_pods;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod selector_spread;
pub mod taint_toleration;
pub mod volume_binding;
pub mod volume_restrictions;

/// Plugin names.
pub mod names {
    /// NodeUnschedulable.
    pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
    /// NodeName.
    pub const NODE_NAME: &str = "NodeName";
    /// TaintToleration.
    pub const TAINT_TOLERATION: &str = "TaintToleration";
    /// NodeAffinity.
    pub const NODE_AFFINITY: &str = "NodeAffinity";
    /// NodePorts.
    pub const NODE_PORTS: &str = "NodePorts";
    /// NodeResourcesFit.
    pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
    /// NodeResourcesBalancedAllocation.
    pub const BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
    /// VolumeRestrictions.
    pub const VOLUME_RESTRICTIONS: &str = "VolumeRestrictions";
    /// VolumeBinding.
    pub const VOLUME_BINDING: &str = "VolumeBinding";
    /// PodTopologySpread.
    pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
    /// InterPodAffinity.
    pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";
    /// ImageLocality.
    pub const IMAGE_LOCALITY: &str = "ImageLocality";
    /// NodePreferAvoidPods.
    pub const NODE_PREFER_AVOID_PODS: &str = "NodePreferAvoidPods";
    /// SelectorSpread.
    pub const SELECTOR_SPREAD: &str = "SelectorSpread";
    /// NodeLabel.
    pub const NODE_LABEL: &str = "NodeLabel";
    /// DefaultPreemption (PostFilter).
    pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";
}

/// Upstream plugin names accepted in configurations but with nothing to do
/// in this crate.
pub const IGNORED_PLUGINS: &[&str] = &[
    "SchedulingGates",
    "PrioritySort",
    "EBSLimits",
    "GCEPDLimits",
    "NodeVolumeLimits",
    "AzureDiskLimits",
    "VolumeZone",
    "DynamicResources",
    "DefaultBinder",
];

/// The arguments of every configurable plugin (`pluginConfig`).
#[derive(Clone, Debug, Default)]
pub struct PluginArgs {
    /// NodeResourcesFitArgs.
    pub node_resources_fit: node_resources_fit::FitArgs,
    /// NodeResourcesBalancedAllocationArgs.
    pub balanced_allocation: balanced_allocation::BalancedAllocationArgs,
    /// PodTopologySpreadArgs.
    pub pod_topology_spread: pod_topology_spread::PodTopologySpreadArgs,
    /// InterPodAffinityArgs.
    pub inter_pod_affinity: inter_pod_affinity::InterPodAffinityArgs,
    /// NodeLabelArgs (legacy).
    pub node_label: node_label::NodeLabelArgs,
    /// DefaultPreemptionArgs.
    pub default_preemption: PreemptionArgs,
}

/// Build a plugin by name. `Ok(None)` for the [`IGNORED_PLUGINS`] and
/// `DefaultPreemption` (handled by the framework).
pub fn new_plugin(name: &str, args: &PluginArgs) -> Result<Option<Arc<dyn Plugin>>, ConfigError> {
    use names::*;
    let p: Arc<dyn Plugin> = match name {
        NODE_UNSCHEDULABLE => Arc::new(node_unschedulable::NodeUnschedulable),
        NODE_NAME => Arc::new(node_name::NodeName),
        TAINT_TOLERATION => Arc::new(taint_toleration::TaintToleration),
        NODE_AFFINITY => Arc::new(node_affinity::NodeAffinity),
        NODE_PORTS => Arc::new(node_ports::NodePorts),
        NODE_RESOURCES_FIT => Arc::new(node_resources_fit::NodeResourcesFit::new(
            args.node_resources_fit.clone(),
        )?),
        BALANCED_ALLOCATION => Arc::new(balanced_allocation::BalancedAllocation::new(
            args.balanced_allocation.clone(),
        )),
        VOLUME_RESTRICTIONS => Arc::new(volume_restrictions::VolumeRestrictions),
        VOLUME_BINDING => Arc::new(volume_binding::VolumeBinding),
        POD_TOPOLOGY_SPREAD => Arc::new(pod_topology_spread::PodTopologySpread::new(
            args.pod_topology_spread.clone(),
        )?),
        INTER_POD_AFFINITY => Arc::new(inter_pod_affinity::InterPodAffinity::new(
            args.inter_pod_affinity.clone(),
        )),
        IMAGE_LOCALITY => Arc::new(image_locality::ImageLocality),
        NODE_PREFER_AVOID_PODS => Arc::new(node_prefer_avoid_pods::NodePreferAvoidPods),
        SELECTOR_SPREAD => Arc::new(selector_spread::SelectorSpread),
        NODE_LABEL => Arc::new(node_label::NodeLabel::new(args.node_label.clone())),
        DEFAULT_PREEMPTION => return Ok(None),
        n if IGNORED_PLUGINS.contains(&n) => return Ok(None),
        n => return Err(ConfigError(format!("plugin {n:?} does not exist"))),
    };
    Ok(Some(p))
}

/// Whether a plugin name is known (implemented or ignored).
pub fn is_known(name: &str) -> bool {
    name == names::DEFAULT_PREEMPTION
        || IGNORED_PLUGINS.contains(&name)
        || new_plugin(name, &PluginArgs::default()).is_ok_and(|p| p.is_some())
}

/// The extension points a plugin implements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// PreFilter.
    pub pre_filter: bool,
    /// Filter.
    pub filter: bool,
    /// PostFilter.
    pub post_filter: bool,
    /// PreScore.
    pub pre_score: bool,
    /// Score.
    pub score: bool,
}

/// The extension points of a known plugin (`None` if unknown). Ignored
/// plugins implement none.
pub fn extensions(name: &str) -> Option<Extensions> {
    if name == names::DEFAULT_PREEMPTION {
        return Some(Extensions {
            post_filter: true,
            ..Default::default()
        });
    }
    if IGNORED_PLUGINS.contains(&name) {
        return Some(Extensions::default());
    }
    let p = new_plugin(name, &PluginArgs::default()).ok()??;
    Some(Extensions {
        pre_filter: p.as_pre_filter().is_some(),
        filter: p.as_filter().is_some(),
        post_filter: false,
        pre_score: p.as_pre_score().is_some(),
        score: p.as_score().is_some(),
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Run one plugin over a snapshot the way the framework does.

    use crate::framework::{CycleState, Plugin, Status};
    use crate::pod_info::PodInfo;
    use crate::snapshot::{NodeInfo, Snapshot};

    /// PreFilter (if any) then Filter on every node, in snapshot order.
    /// Returns the PreFilter status if it was not Success, else the
    /// per-node statuses (Success for a skipped filter).
    pub fn filter_all(
        p: &dyn Plugin,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> Result<Vec<Status>, Status> {
        let mut state = CycleState::new();
        if let Some(pf) = p.as_pre_filter() {
            let r = pf.pre_filter(&mut state, pod, snap);
            if r.status.is_skip() {
                return Ok(snap.nodes().iter().map(|_| Status::success()).collect());
            }
            if !r.status.is_success() {
                return Err(r.status);
            }
        }
        let f = p.as_filter().expect("a filter plugin");
        Ok(snap
            .nodes()
            .iter()
            .map(|n| f.filter(&state, pod, n, snap))
            .collect())
    }

    /// Whether each node passes.
    pub fn passes(p: &dyn Plugin, pod: &PodInfo, snap: &Snapshot) -> Vec<bool> {
        match filter_all(p, pod, snap) {
            Ok(v) => v.iter().map(Status::is_success).collect(),
            Err(_) => vec![false; snap.num_nodes()],
        }
    }

    /// PreScore (if any), Score and NormalizeScore over all nodes.
    /// `None` if PreScore skipped.
    pub fn score_all(
        p: &dyn Plugin,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> Option<(Vec<i64>, Vec<i64>)> {
        let nodes: Vec<&NodeInfo> = snap.nodes().iter().collect();
        score_nodes(p, pod, snap, &nodes)
    }

    /// As [`score_all`] over some nodes.
    pub fn score_nodes(
        p: &dyn Plugin,
        pod: &PodInfo,
        snap: &Snapshot,
        nodes: &[&NodeInfo],
    ) -> Option<(Vec<i64>, Vec<i64>)> {
        let mut state = CycleState::new();
        if let Some(ps) = p.as_pre_score()
            && ps.pre_score(&mut state, pod, nodes, snap).is_skip()
        {
            return None;
        }
        let s = p.as_score().expect("a score plugin");
        let raw: Vec<i64> = nodes
            .iter()
            .map(|n| s.score(&state, pod, n, snap))
            .collect();
        let mut norm = raw.clone();
        s.normalize_score(&state, pod, nodes, &mut norm);
        Some((raw, norm))
    }
}
