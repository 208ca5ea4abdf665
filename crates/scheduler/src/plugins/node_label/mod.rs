//! NodeLabel (legacy, the seed's CheckNodeLabelPresence and NodeLabel
//! priority; removed upstream in v1.23, configured by args): Filter
//! requires `presentLabels` and forbids `absentLabels`; Score gives 100 per
//! satisfied preference (`presentLabelsPreference`,
//! `absentLabelsPreference`), averaged.

use crate::framework::{CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodeLabel";
/// Upstream's reason.
pub const ERR_REASON_PRESENCE_VIOLATED: &str = "node(s) didn't have the requested labels";

/// NodeLabelArgs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeLabelArgs {
    /// Labels a node must have.
    pub present_labels: Vec<String>,
    /// Labels a node must not have.
    pub absent_labels: Vec<String>,
    /// Labels preferred present.
    pub present_labels_preference: Vec<String>,
    /// Labels preferred absent.
    pub absent_labels_preference: Vec<String>,
}

/// The plugin.
#[derive(Debug)]
pub struct NodeLabel {
    args: NodeLabelArgs,
}

impl NodeLabel {
    /// Build from args.
    pub fn new(args: NodeLabelArgs) -> NodeLabel {
        NodeLabel { args }
    }
}

impl Plugin for NodeLabel {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeLabel {
    fn filter(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        let l = node.labels();
        if self.args.present_labels.iter().all(|k| l.contains_key(k))
            && !self.args.absent_labels.iter().any(|k| l.contains_key(k))
        {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_PRESENCE_VIOLATED)
        }
    }
}

impl ScorePlugin for NodeLabel {
    fn score(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo, _: &Snapshot) -> i64 {
        let size = (self.args.present_labels_preference.len()
            + self.args.absent_labels_preference.len()) as i64;
        if size == 0 {
            return 0;
        }
        let l = node.labels();
        let present = self
            .args
            .present_labels_preference
            .iter()
            .filter(|k| l.contains_key(*k))
            .count() as i64;
        let absent = self
            .args
            .absent_labels_preference
            .iter()
            .filter(|k| !l.contains_key(*k))
            .count() as i64;
        (present + absent) * MAX_NODE_SCORE / size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn presence() {
        let snap = Snapshot::from_objects(
            [
                node("a").label("foo", "1").obj(),
                node("b").label("bar", "1").obj(),
            ],
            [],
        );
        let p = PodInfo::new(pod("p").obj());
        let pl = NodeLabel::new(NodeLabelArgs {
            present_labels: vec!["foo".into()],
            absent_labels: vec!["baz".into()],
            ..Default::default()
        });
        let st = filter_all(&pl, &p, &snap).unwrap();
        assert!(st[0].is_success());
        assert_eq!(st[1], Status::unresolvable(ERR_REASON_PRESENCE_VIOLATED));
        let pl = NodeLabel::new(NodeLabelArgs {
            absent_labels: vec!["foo".into()],
            ..Default::default()
        });
        assert_eq!(passes(&pl, &p, &snap), [false, true]);
        let pl = NodeLabel::new(NodeLabelArgs {
            present_labels_preference: vec!["foo".into()],
            absent_labels_preference: vec!["bar".into()],
            ..Default::default()
        });
        assert_eq!(score_all(&pl, &p, &snap).unwrap().0, [100, 0]);
        let pl = NodeLabel::new(NodeLabelArgs {
            present_labels_preference: vec!["foo".into(), "bar".into()],
            ..Default::default()
        });
        assert_eq!(score_all(&pl, &p, &snap).unwrap().0, [50, 50]);
    }
}
