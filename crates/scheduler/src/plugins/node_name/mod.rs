//! NodeName: a pod with `spec.nodeName` fits only that node.

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodeName";
/// Upstream's reason.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The plugin.
#[derive(Debug, Default)]
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        match pod.node_name() {
            Some(n) if n != node.name() => Status::unresolvable(ERR_REASON),
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn node_name() {
        let snap = Snapshot::from_objects([node("a").obj(), node("b").obj()], []);
        assert_eq!(
            passes(&NodeName, &PodInfo::new(pod("p").obj()), &snap),
            [true, true]
        );
        let p = PodInfo::new(pod("p").node("b").obj());
        let st = filter_all(&NodeName, &p, &snap).unwrap();
        assert_eq!(st[0], Status::unresolvable(ERR_REASON));
        assert!(st[1].is_success());
    }
}
