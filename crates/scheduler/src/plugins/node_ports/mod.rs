//! NodePorts: a pod's host ports must be free on the node (same protocol
//! and port, and the same IP or either side binding `0.0.0.0`).

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreFilterResult, Status,
};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "NodePorts";
/// Upstream's reason.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// The plugin.
#[derive(Debug, Default)]
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for NodePorts {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> PreFilterResult {
        if pod.host_ports.is_empty() {
            PreFilterResult::skip()
        } else {
            PreFilterResult::success()
        }
    }
}

impl FilterPlugin for NodePorts {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        if pod.host_ports.iter().any(|p| node.port_conflicts(p)) {
            Status::unschedulable(ERR_REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn host_port_conflicts() {
        let snap = Snapshot::from_objects(
            [node("a").obj(), node("b").obj(), node("c").obj()],
            [
                pod("x").node("a").host_port(8080).obj(),
                pod("y")
                    .node("b")
                    .host_port_full("10.0.0.1", "UDP", 53)
                    .obj(),
            ],
        );
        let p = PodInfo::new(pod("p").host_port(8080).obj());
        let st = filter_all(&NodePorts, &p, &snap).unwrap();
        assert_eq!(st[0], Status::unschedulable(ERR_REASON));
        assert!(st[1].is_success() && st[2].is_success());
        // Same port, other protocol: fine. Same UDP port on 0.0.0.0: conflicts
        // with 10.0.0.1; on another specific IP: fine.
        let tcp53 = PodInfo::new(pod("p").host_port(53).obj());
        assert_eq!(passes(&NodePorts, &tcp53, &snap), [true, true, true]);
        let udp_any = PodInfo::new(pod("p").host_port_full("", "UDP", 53).obj());
        assert_eq!(passes(&NodePorts, &udp_any, &snap), [true, false, true]);
        let udp_other = PodInfo::new(pod("p").host_port_full("10.0.0.2", "UDP", 53).obj());
        assert_eq!(passes(&NodePorts, &udp_other, &snap), [true, true, true]);
        let udp_same = PodInfo::new(pod("p").host_port_full("10.0.0.1", "UDP", 53).obj());
        assert_eq!(passes(&NodePorts, &udp_same, &snap), [true, false, true]);
        // No host ports: PreFilter skips.
        let mut state = CycleState::new();
        assert!(
            NodePorts
                .pre_filter(&mut state, &PodInfo::new(pod("p").obj()), &snap)
                .status
                .is_skip()
        );
    }
}
