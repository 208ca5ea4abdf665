//! NodePreferAvoidPods (the seed's priority of that name; removed upstream
//! in v1.24, weight 10000 when it existed): a node whose
//! `scheduler.alpha.kubernetes.io/preferAvoidPods` annotation names the
//! ReplicationController or ReplicaSet controlling the pod scores 0, every
//! other node 100.
//!
//! Unlike upstream, PreScore skips the plugin when the pod has no such
//! controller or no node carries the annotation: every node would score
//! 100, which changes no decision and would only clutter explanations.

use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodePreferAvoidPods";

/// The plugin.
#[derive(Debug, Default)]
pub struct NodePreferAvoidPods;

fn controller(pod: &PodInfo) -> Option<(&str, &str)> {
    pod.controller
        .as_ref()
        .filter(|c| c.kind == "ReplicationController" || c.kind == "ReplicaSet")
        .map(|c| (c.kind.as_str(), c.uid.as_str()))
}

impl Plugin for NodePreferAvoidPods {
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

impl PreScorePlugin for NodePreferAvoidPods {
    fn pre_score(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        if controller(pod).is_none() || nodes.iter().all(|n| n.avoid_pods().is_empty()) {
            return Status::skip();
        }
        Status::success()
    }
}

impl ScorePlugin for NodePreferAvoidPods {
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let Some((kind, uid)) = controller(pod) else {
            return MAX_NODE_SCORE;
        };
        if node
            .avoid_pods()
            .iter()
            .any(|a| a.kind == kind && a.uid == uid)
        {
            0
        } else {
            MAX_NODE_SCORE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::snapshot::PREFER_AVOID_PODS_ANNOTATION;
    use crate::testing::*;

    fn avoid(kind: &str, uid: &str) -> String {
        format!(
            r#"{{"preferAvoidPods":[{{"podSignature":{{"podController":{{"apiVersion":"v1","kind":"{kind}","name":"x","uid":"{uid}","controller":true}}}},"reason":"some reason","message":"some message"}}]}}"#
        )
    }

    #[test]
    fn avoids_annotated_nodes() {
        let snap = Snapshot::from_objects(
            [
                node("rc")
                    .annotation(
                        PREFER_AVOID_PODS_ANNOTATION,
                        &avoid("ReplicationController", "uid-foo"),
                    )
                    .obj(),
                node("rs")
                    .annotation(
                        PREFER_AVOID_PODS_ANNOTATION,
                        &avoid("ReplicaSet", "uid-bar"),
                    )
                    .obj(),
                node("plain").obj(),
            ],
            [],
        );
        let rc_pod = PodInfo::new(pod("p").owner("ReplicationController", "foo").obj());
        assert_eq!(
            score_all(&NodePreferAvoidPods, &rc_pod, &snap).unwrap().1,
            [0, 100, 100]
        );
        let rs_pod = PodInfo::new(pod("p").owner("ReplicaSet", "bar").obj());
        assert_eq!(
            score_all(&NodePreferAvoidPods, &rs_pod, &snap).unwrap().1,
            [100, 0, 100]
        );
        let ss_pod = PodInfo::new(pod("p").owner("StatefulSet", "foo").obj());
        assert!(score_all(&NodePreferAvoidPods, &ss_pod, &snap).is_none());
        assert!(score_all(&NodePreferAvoidPods, &PodInfo::new(pod("p").obj()), &snap).is_none());
    }
}
