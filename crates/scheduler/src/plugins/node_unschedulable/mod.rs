//! NodeUnschedulable: cordoned nodes (`spec.unschedulable`) take no pods,
//! unless the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`.

use k8s_openapi::api::core::v1::Taint;

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::plugins::taint_toleration::tolerations_tolerate_taint;
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot, taint_keys};

/// Plugin name.
pub const NAME: &str = "NodeUnschedulable";
/// Upstream's reason.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

/// The plugin.
#[derive(Debug, Default)]
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        if !node.unschedulable() {
            return Status::success();
        }
        let taint = Taint {
            key: taint_keys::UNSCHEDULABLE.into(),
            effect: "NoSchedule".into(),
            value: None,
            time_added: None,
        };
        if tolerations_tolerate_taint(pod.tolerations(), &taint) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn cordoned_nodes() {
        let snap = Snapshot::from_objects(
            [node("ok").obj(), node("cordoned").unschedulable().obj()],
            [],
        );
        let p = PodInfo::new(pod("p").obj());
        let st = filter_all(&NodeUnschedulable, &p, &snap).unwrap();
        assert!(st[0].is_success());
        assert_eq!(st[1], Status::unresolvable("node(s) were unschedulable"));
        let tolerant = PodInfo::new(
            pod("p")
                .toleration(taint_keys::UNSCHEDULABLE, "Exists", "", "NoSchedule")
                .obj(),
        );
        assert_eq!(passes(&NodeUnschedulable, &tolerant, &snap), [true, true]);
    }
}
