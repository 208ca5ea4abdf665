//! SelectorSpread (legacy; upstream removed it in v1.26 in favour of
//! PodTopologySpread's system defaults, which the default profile uses):
//! the seed's SelectorSpreading priority. Nodes with fewer pods of the
//! same Services / controller score higher; when nodes have zones, the
//! zone's count weighs 2/3:
//! `score = 100 × (max_node − node) / max_node × 1/3 +
//! 100 × (max_zone − zone) / max_zone × 2/3`.
//! Skipped for pods with topology spread constraints.

use std::collections::HashMap;

use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status};
use crate::labels::Selector;
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "SelectorSpread";
const ZONE_WEIGHTING: f64 = 2.0 / 3.0;

/// The plugin.
#[derive(Debug, Default)]
pub struct SelectorSpread;

#[derive(Clone)]
struct PreScoreState(Selector);

impl Plugin for SelectorSpread {
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

impl PreScorePlugin for SelectorSpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status {
        if pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .is_some_and(|c| !c.is_empty())
        {
            return Status::skip();
        }
        state.write(PreScoreState(snap.default_selector(pod)));
        Status::success()
    }
}

impl ScorePlugin for SelectorSpread {
    /// The number of the node's pods (same namespace, not terminating)
    /// the selector matches.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let Some(PreScoreState(sel)) = state.read::<PreScoreState>() else {
            return 0;
        };
        if sel.is_empty() {
            return 0;
        }
        node.pods()
            .iter()
            .filter(|p| p.namespace == pod.namespace && !p.terminating && sel.matches(p.labels()))
            .count() as i64
    }

    fn normalize_score(
        &self,
        _: &CycleState,
        _: &PodInfo,
        nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        let mut by_zone: HashMap<&str, i64> = HashMap::new();
        let mut max_node = 0;
        for (k, &s) in scores.iter().enumerate() {
            max_node = max_node.max(s);
            let z = nodes[k].zone();
            if !z.is_empty() {
                *by_zone.entry(z).or_default() += s;
            }
        }
        let max_zone = by_zone.values().copied().max().unwrap_or(0);
        let maxf = MAX_NODE_SCORE as f64;
        for (k, s) in scores.iter_mut().enumerate() {
            let mut f = maxf;
            if max_node > 0 {
                f = maxf * ((max_node - *s) as f64 / max_node as f64);
            }
            if !by_zone.is_empty() {
                let z = nodes[k].zone();
                if !z.is_empty() {
                    let mut zone_score = maxf;
                    if max_zone > 0 {
                        zone_score = maxf * ((max_zone - by_zone[z]) as f64 / max_zone as f64);
                    }
                    f = f * (1.0 - ZONE_WEIGHTING) + ZONE_WEIGHTING * zone_score;
                }
            }
            *s = f as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;
    use k8s_openapi::api::core::v1::{Service, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn service(snap: &mut Snapshot) {
        snap.upsert_service(&Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some(
                    [("app".to_string(), "web".to_string())]
                        .into_iter()
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
    }

    #[test]
    fn spreads_service_pods_over_nodes() {
        // Upstream's "four pods, three service pods": machine1 has 1,
        // machine2 has 2 → 50, 0 (without zones).
        let mut snap = Snapshot::from_objects(
            [node("machine1").obj(), node("machine2").obj()],
            [
                pod("a").label("app", "web").node("machine1").obj(),
                pod("b").label("app", "web").node("machine2").obj(),
                pod("c").label("app", "web").node("machine2").obj(),
                pod("d").label("app", "db").node("machine1").obj(),
            ],
        );
        service(&mut snap);
        let p = PodInfo::new(pod("p").label("app", "web").obj());
        let (raw, norm) = score_all(&SelectorSpread, &p, &snap).unwrap();
        assert_eq!(raw, [1, 2]);
        assert_eq!(norm, [50, 0]);
    }

    #[test]
    fn zones_weigh_two_thirds() {
        // z1: n1 (1 pod), n2 (0); z2: n3 (2 pods). max node 2, max zone 2.
        // n1: node 50, zone 50 → 50; n2: node 100, zone 50 → 66;
        // n3: node 0, zone 0 → 0.
        let mut snap = Snapshot::from_objects(
            [
                node("n1").label("topology.kubernetes.io/zone", "z1").obj(),
                node("n2").label("topology.kubernetes.io/zone", "z1").obj(),
                node("n3").label("topology.kubernetes.io/zone", "z2").obj(),
            ],
            [
                pod("a").label("app", "web").node("n1").obj(),
                pod("b").label("app", "web").node("n3").obj(),
                pod("c").label("app", "web").node("n3").obj(),
            ],
        );
        service(&mut snap);
        let p = PodInfo::new(pod("p").label("app", "web").obj());
        assert_eq!(
            score_all(&SelectorSpread, &p, &snap).unwrap().1,
            [50, 66, 0]
        );
        let constrained = PodInfo::new(
            pod("p")
                .label("app", "web")
                .spread(spread(1, "zone", "ScheduleAnyway", &[("app", "web")]))
                .obj(),
        );
        assert!(score_all(&SelectorSpread, &constrained, &snap).is_none());
    }
}
