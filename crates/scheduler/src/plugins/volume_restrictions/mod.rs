//! VolumeRestrictions (the seed's NoDiskConflict): a pod cannot use a disk
//! another pod on the node already mounts, as upstream's
//! `isVolumeConflict`: the same GCE PD unless both mount it read-only; the
//! same AWS EBS volume; the same iSCSI IQN unless both read-only; the same
//! RBD image (overlapping monitors, same pool and image) unless both
//! read-only.

use k8s_openapi::api::core::v1::Volume;

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreFilterResult, Status,
};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "VolumeRestrictions";
/// Upstream's reason.
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";

/// The plugin.
#[derive(Debug, Default)]
pub struct VolumeRestrictions;

fn volumes(pod: &PodInfo) -> &[Volume] {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[])
}

fn is_restricted(v: &Volume) -> bool {
    v.gce_persistent_disk.is_some()
        || v.aws_elastic_block_store.is_some()
        || v.iscsi.is_some()
        || v.rbd.is_some()
}

/// Whether volume `v` conflicts with any volume of `existing`.
pub fn is_volume_conflict(v: &Volume, existing: &PodInfo) -> bool {
    for ev in volumes(existing) {
        if let (Some(d), Some(e)) = (&v.gce_persistent_disk, &ev.gce_persistent_disk)
            && d.pd_name == e.pd_name
            && !(d.read_only == Some(true) && e.read_only == Some(true))
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&v.aws_elastic_block_store, &ev.aws_elastic_block_store)
            && d.volume_id == e.volume_id
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&v.iscsi, &ev.iscsi)
            && d.iqn == e.iqn
            && !(d.read_only == Some(true) && e.read_only == Some(true))
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&v.rbd, &ev.rbd) {
            let pool = |p: &Option<String>| {
                p.clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "rbd".into())
            };
            let overlap = d.monitors.iter().any(|m| e.monitors.contains(m));
            if overlap
                && pool(&d.pool) == pool(&e.pool)
                && d.image == e.image
                && !(d.read_only == Some(true) && e.read_only == Some(true))
            {
                return true;
            }
        }
    }
    false
}

impl Plugin for VolumeRestrictions {
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

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> PreFilterResult {
        if volumes(pod).iter().any(is_restricted) {
            PreFilterResult::success()
        } else {
            PreFilterResult::skip()
        }
    }
}

impl FilterPlugin for VolumeRestrictions {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &Snapshot) -> Status {
        for v in volumes(pod).iter().filter(|v| is_restricted(v)) {
            if node.pods().iter().any(|e| is_volume_conflict(v, e)) {
                return Status::unschedulable(ERR_REASON_DISK_CONFLICT);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;
    use k8s_openapi::api::core::v1::{
        AWSElasticBlockStoreVolumeSource, GCEPersistentDiskVolumeSource, ISCSIVolumeSource,
        RBDVolumeSource,
    };

    fn gce(name: &str, ro: bool) -> Volume {
        Volume {
            name: "v".into(),
            gce_persistent_disk: Some(GCEPersistentDiskVolumeSource {
                pd_name: name.into(),
                read_only: Some(ro),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn ebs(id: &str) -> Volume {
        Volume {
            name: "v".into(),
            aws_elastic_block_store: Some(AWSElasticBlockStoreVolumeSource {
                volume_id: id.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn iscsi(iqn: &str, ro: bool) -> Volume {
        Volume {
            name: "v".into(),
            iscsi: Some(ISCSIVolumeSource {
                iqn: iqn.into(),
                read_only: Some(ro),
                target_portal: "p".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn rbd(mons: &[&str], image: &str, ro: bool) -> Volume {
        Volume {
            name: "v".into(),
            rbd: Some(RBDVolumeSource {
                monitors: mons.iter().map(|s| s.to_string()).collect(),
                image: image.into(),
                read_only: Some(ro),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn check(existing: Volume, new: Volume) -> bool {
        let snap = Snapshot::from_objects(
            [node("n").obj()],
            [pod("x").node("n").volume(existing).obj()],
        );
        passes(
            &VolumeRestrictions,
            &PodInfo::new(pod("p").volume(new).obj()),
            &snap,
        )[0]
    }

    #[test]
    fn disk_conflicts() {
        assert!(!check(gce("foo", false), gce("foo", false)));
        assert!(!check(gce("foo", true), gce("foo", false)));
        assert!(check(gce("foo", true), gce("foo", true)), "both read-only");
        assert!(check(gce("foo", false), gce("bar", false)));
        assert!(!check(ebs("foo"), ebs("foo")));
        assert!(check(ebs("foo"), ebs("bar")));
        assert!(!check(iscsi("iqn.1", false), iscsi("iqn.1", false)));
        assert!(check(iscsi("iqn.1", true), iscsi("iqn.1", true)));
        assert!(check(iscsi("iqn.1", false), iscsi("iqn.2", false)));
        assert!(
            !check(
                rbd(&["a", "b"], "img", false),
                rbd(&["b", "c"], "img", false)
            ),
            "monitors overlap"
        );
        assert!(check(rbd(&["a"], "img", false), rbd(&["c"], "img", false)));
        assert!(check(rbd(&["a"], "img", true), rbd(&["a"], "img", true)));
        assert!(check(
            rbd(&["a"], "img", false),
            rbd(&["a"], "other", false)
        ));
        let snap = Snapshot::from_objects(
            [node("n").obj()],
            [pod("x").node("n").volume(gce("foo", false)).obj()],
        );
        let st = filter_all(
            &VolumeRestrictions,
            &PodInfo::new(pod("p").volume(gce("foo", false)).obj()),
            &snap,
        )
        .unwrap();
        assert_eq!(st[0], Status::unschedulable(ERR_REASON_DISK_CONFLICT));
    }
}
