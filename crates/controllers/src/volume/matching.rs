//! Which volume a claim binds to: upstream's `findBestMatchForClaim`
//! (volumes grouped by their set of access modes, the groups with the
//! fewest modes tried first) and `FindMatchingVolume` (the smallest volume
//! of the claim's class that is large enough, unless one is pre-bound to
//! the claim). Pure functions of claims, volumes and nodes.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use rkube_api::quantity::Quantity;
use rkube_scheduler::labels::{NodeSelectorTermMatcher, Selector};

/// On claims: the binding has been set up once (its value does not
/// matter). Claims without it are "unbound" to the controller.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// On volumes and claims: the controller made the binding (absent: the
/// user pre-bound it).
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// On volumes: the provisioner that created it.
pub const ANN_DYNAMICALLY_PROVISIONED: &str = "pv.kubernetes.io/provisioned-by";
/// On claims: the provisioner asked for a volume.
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// On claims: the provisioner asked for a volume (beta spelling, still
/// written).
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// On claims: the node chosen for a `WaitForFirstConsumer` volume.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The storage class as an annotation (beta; wins over the field).
pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// On StorageClasses: the class of claims that name none.
pub const ANN_IS_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
/// The beta spelling of [`ANN_IS_DEFAULT_CLASS`].
pub const ANN_BETA_IS_DEFAULT_CLASS: &str = "storageclass.beta.kubernetes.io/is-default-class";
/// The provisioner of classes that are never provisioned.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

fn annotation<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The class of a claim (the beta annotation, else `storageClassName`;
/// `""` for none).
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    annotation(&claim.metadata, ANN_BETA_STORAGE_CLASS)
        .or_else(|| claim.spec.as_ref()?.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Whether a claim names a class at all (`""` counts; unset does not).
pub fn claim_has_class(claim: &PersistentVolumeClaim) -> bool {
    annotation(&claim.metadata, ANN_BETA_STORAGE_CLASS).is_some()
        || claim
            .spec
            .as_ref()
            .is_some_and(|s| s.storage_class_name.is_some())
}

/// The class of a volume (as [`claim_class`]).
pub fn volume_class(pv: &PersistentVolume) -> &str {
    annotation(&pv.metadata, ANN_BETA_STORAGE_CLASS)
        .or_else(|| pv.spec.as_ref()?.storage_class_name.as_deref())
        .unwrap_or("")
}

fn storage_of(list: Option<&BTreeMap<String, ApiQuantity>>) -> Quantity {
    list.and_then(|l| l.get("storage"))
        .and_then(|q| Quantity::parse(&q.0).ok())
        .unwrap_or_default()
}

/// The storage a claim requests.
pub fn requested(claim: &PersistentVolumeClaim) -> Quantity {
    storage_of(
        claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref()),
    )
}

/// The storage capacity of a volume.
pub fn capacity(pv: &PersistentVolume) -> Quantity {
    storage_of(pv.spec.as_ref().and_then(|s| s.capacity.as_ref()))
}

fn claim_modes(claim: &PersistentVolumeClaim) -> &[String] {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.as_deref())
        .unwrap_or_default()
}

fn volume_modes(pv: &PersistentVolume) -> &[String] {
    pv.spec
        .as_ref()
        .and_then(|s| s.access_modes.as_deref())
        .unwrap_or_default()
}

/// Whether the volume offers every access mode the claim asks for.
pub fn access_modes_satisfied(claim: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let offered = volume_modes(pv);
    claim_modes(claim).iter().all(|m| offered.contains(m))
}

/// Whether claim and volume disagree on the volume mode (unset meaning
/// `Filesystem` on both sides).
pub fn volume_mode_mismatch(claim: &PersistentVolumeClaimSpec, pv: &PersistentVolumeSpec) -> bool {
    let wanted = claim.volume_mode.as_deref().unwrap_or("Filesystem");
    let offered = pv.volume_mode.as_deref().unwrap_or("Filesystem");
    wanted != offered
}

/// Whether the volume is bound or pre-bound to this claim: same name and
/// namespace, and same uid if the reference has one.
pub fn is_volume_bound_to_claim(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    if r.name != claim.metadata.name || r.namespace != claim.metadata.namespace {
        return false;
    }
    let uid = r.uid.as_deref().unwrap_or("");
    uid.is_empty() || Some(uid) == claim.metadata.uid.as_deref()
}

/// The reference a bound volume keeps to its claim.
pub fn claim_reference(claim: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolumeClaim".into()),
        name: claim.metadata.name.clone(),
        namespace: claim.metadata.namespace.clone(),
        uid: claim.metadata.uid.clone(),
        resource_version: claim.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// Whether a node (its labels and name) may use the volume: any term of
/// the volume's required node affinity matches (no affinity: every node).
pub fn node_affinity_matches(
    pv: &PersistentVolume,
    labels: &BTreeMap<String, String>,
    node_name: &str,
) -> bool {
    let Some(required) = pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    else {
        return true;
    };
    required
        .node_selector_terms
        .iter()
        .any(|t| NodeSelectorTermMatcher::new(t).matches(labels, node_name))
}

/// Why a volume the claim names cannot serve it (upstream's
/// `checkVolumeSatisfyClaim`), or `Ok`.
pub fn check_volume_satisfies_claim(
    pv: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> Result<(), String> {
    if pv.metadata.deletion_timestamp.is_some() {
        return Err(format!(
            "the volume is marked for deletion {:?}",
            pv.metadata.name.as_deref().unwrap_or("")
        ));
    }
    if capacity(pv) < requested(claim) {
        return Err("requested PV is too small".into());
    }
    if volume_class(pv) != claim_class(claim) {
        return Err("storageClassName does not match".into());
    }
    let (cs, ps) = (
        claim.spec.clone().unwrap_or_default(),
        pv.spec.clone().unwrap_or_default(),
    );
    if volume_mode_mismatch(&cs, &ps) {
        return Err("incompatible volumeMode".into());
    }
    if !access_modes_satisfied(claim, pv) {
        return Err("incompatible accessMode".into());
    }
    Ok(())
}

/// A node a volume must be usable on: its labels and name.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    /// The node's labels.
    pub labels: &'a BTreeMap<String, String>,
    /// The node's name.
    pub name: &'a str,
}

/// The volume a claim should bind to, if any (upstream's
/// `findBestMatchForClaim`): volumes are grouped by their set of access
/// modes; of the groups offering every mode the claim asks for, those with
/// fewer modes are searched first, and in each [`find_matching_volume`]
/// picks.
pub fn find_best_match<'a>(
    claim: &PersistentVolumeClaim,
    volumes: impl IntoIterator<Item = &'a PersistentVolume>,
    node: Option<NodeRef<'_>>,
    delay_binding: bool,
) -> Option<&'a PersistentVolume> {
    let wanted: BTreeSet<&str> = claim_modes(claim).iter().map(String::as_str).collect();
    let mut groups: BTreeMap<BTreeSet<&'a str>, Vec<&'a PersistentVolume>> = BTreeMap::new();
    for pv in volumes {
        let modes = volume_modes(pv).iter().map(String::as_str).collect();
        groups.entry(modes).or_default().push(pv);
    }
    let mut candidates: Vec<(BTreeSet<&str>, Vec<&PersistentVolume>)> = groups
        .into_iter()
        .filter(|(modes, _)| wanted.is_subset(modes))
        .collect();
    // Fewest modes first (stable: equal sizes keep their sorted order).
    candidates.sort_by_key(|(modes, _)| modes.len());
    candidates.into_iter().find_map(|(_, mut group)| {
        group.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        find_matching_volume(claim, &group, node, delay_binding)
    })
}

/// The best volume of `volumes` for the claim (upstream's
/// `FindMatchingVolume`): a volume pre-bound to the claim (large enough,
/// usable on `node`) wins; otherwise, unless binding waits for a consumer
/// and no node is given, the smallest Available, unclaimed volume of the
/// claim's class and volume mode that its selector selects and that is
/// large enough. With a node, the volume must also be usable there and
/// offer the claim's access modes.
pub fn find_matching_volume<'a>(
    claim: &PersistentVolumeClaim,
    volumes: &[&'a PersistentVolume],
    node: Option<NodeRef<'_>>,
    delay_binding: bool,
) -> Option<&'a PersistentVolume> {
    let wanted = requested(claim);
    let class = claim_class(claim);
    let claim_spec = claim.spec.clone().unwrap_or_default();
    let selector = claim_spec
        .selector
        .as_ref()
        .map(|s| Selector::from_label_selector(Some(s)));
    let mut best: Option<(&PersistentVolume, Quantity)> = None;
    for &pv in volumes {
        let spec = pv.spec.clone().unwrap_or_default();
        if volume_mode_mismatch(&claim_spec, &spec) || pv.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let size = capacity(pv);
        let usable_on_node = node.is_none_or(|n| node_affinity_matches(pv, n.labels, n.name));
        if is_volume_bound_to_claim(pv, claim) {
            if size < wanted {
                continue;
            }
            // A pre-bound volume not usable on the node: no match at all.
            return usable_on_node.then_some(pv);
        }
        if node.is_none() && delay_binding {
            // Waits for a consumer: only the scheduler's path binds it.
            continue;
        }
        let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
        if phase != Some("Available") || spec.claim_ref.is_some() {
            continue;
        }
        let labels = pv.metadata.labels.clone().unwrap_or_default();
        if selector.as_ref().is_some_and(|s| !s.matches(&labels)) {
            continue;
        }
        if volume_class(pv) != class || !usable_on_node {
            continue;
        }
        if node.is_some() && !access_modes_satisfied(claim, pv) {
            continue;
        }
        if size >= wanted && best.as_ref().is_none_or(|(_, b)| *b > size) {
            best = Some((pv, size));
        }
    }
    best.map(|(pv, _)| pv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolumeStatus,
        VolumeNodeAffinity, VolumeResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn pv(name: &str, size: &str, class: Option<&str>, modes: &[&str]) -> PersistentVolume {
        PersistentVolume {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeSpec {
                capacity: Some([("storage".to_string(), ApiQuantity(size.into()))].into()),
                access_modes: Some(modes.iter().map(|m| m.to_string()).collect()),
                storage_class_name: class.map(Into::into),
                volume_mode: Some("Filesystem".into()),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: Some("Available".into()),
                ..Default::default()
            }),
        }
    }

    fn pvc(size: &str, class: Option<&str>, modes: &[&str]) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("claim".into()),
                namespace: Some("default".into()),
                uid: Some("uid-1".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(modes.iter().map(|m| m.to_string()).collect()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), ApiQuantity(size.into()))].into()),
                    ..Default::default()
                }),
                storage_class_name: class.map(Into::into),
                volume_mode: Some("Filesystem".into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn best<'a>(claim: &PersistentVolumeClaim, pvs: &'a [PersistentVolume]) -> Option<&'a str> {
        find_best_match(claim, pvs, None, false).and_then(|v| v.metadata.name.as_deref())
    }

    const RWO: &str = "ReadWriteOnce";
    const ROX: &str = "ReadOnlyMany";
    const RWX: &str = "ReadWriteMany";

    #[test]
    fn the_smallest_volume_that_fits_wins() {
        let pvs = [
            pv("big", "10Gi", Some("manual"), &[RWO]),
            pv("small", "1Gi", Some("manual"), &[RWO]),
            pv("medium", "5Gi", Some("manual"), &[RWO]),
            pv("exact", "2Gi", Some("manual"), &[RWO]),
        ];
        assert_eq!(
            best(&pvc("2Gi", Some("manual"), &[RWO]), &pvs),
            Some("exact")
        );
        assert_eq!(
            best(&pvc("3Gi", Some("manual"), &[RWO]), &pvs),
            Some("medium")
        );
        // Units differ: 2000Mi < 2Gi = 2048Mi.
        assert_eq!(
            best(&pvc("2000Mi", Some("manual"), &[RWO]), &pvs),
            Some("exact")
        );
        assert_eq!(best(&pvc("11Gi", Some("manual"), &[RWO]), &pvs), None);
    }

    #[test]
    fn access_modes_must_be_offered_and_fewer_extra_modes_win() {
        let pvs = [
            pv("rwo", "1Gi", None, &[RWO]),
            pv("all", "1Gi", None, &[RWO, ROX, RWX]),
            pv("rwo-rox", "5Gi", None, &[RWO, ROX]),
        ];
        assert_eq!(best(&pvc("1Gi", None, &[RWX]), &pvs), Some("all"));
        // The group with the fewest modes is searched first, even though a
        // smaller volume offers more modes.
        assert_eq!(best(&pvc("1Gi", None, &[ROX]), &pvs), Some("rwo-rox"));
        assert_eq!(best(&pvc("1Gi", None, &[RWO]), &pvs), Some("rwo"));
        assert_eq!(best(&pvc("1Gi", None, &["ReadWriteOncePod"]), &pvs), None);
        let claim = pvc("1Gi", None, &[RWO, RWX]);
        assert!(access_modes_satisfied(&claim, &pvs[1]));
        assert!(!access_modes_satisfied(&claim, &pvs[2]));
    }

    #[test]
    fn the_class_must_match_and_no_class_matches_only_classless_volumes() {
        let pvs = [
            pv("fast", "1Gi", Some("fast"), &[RWO]),
            pv("none", "5Gi", None, &[RWO]),
            pv("empty", "10Gi", Some(""), &[RWO]),
        ];
        assert_eq!(best(&pvc("1Gi", Some("fast"), &[RWO]), &pvs), Some("fast"));
        assert_eq!(best(&pvc("1Gi", Some("slow"), &[RWO]), &pvs), None);
        // "" and unset are both "no class".
        assert_eq!(best(&pvc("1Gi", Some(""), &[RWO]), &pvs), Some("none"));
        assert_eq!(best(&pvc("6Gi", None, &[RWO]), &pvs), Some("empty"));
        // The beta annotation wins over the field.
        let mut claim = pvc("1Gi", None, &[RWO]);
        claim.metadata.annotations =
            Some([(ANN_BETA_STORAGE_CLASS.to_string(), "fast".to_string())].into());
        assert_eq!(best(&claim, &pvs), Some("fast"));
        assert!(claim_has_class(&claim));
        assert!(!claim_has_class(&pvc("1Gi", None, &[RWO])));
        assert!(claim_has_class(&pvc("1Gi", Some(""), &[RWO])));
    }

    #[test]
    fn the_selector_must_select_the_volume() {
        let mut gold = pv("gold", "5Gi", None, &[RWO]);
        gold.metadata.labels = Some([("tier".to_string(), "gold".to_string())].into());
        let plain = pv("plain", "1Gi", None, &[RWO]);
        let pvs = [gold, plain];
        let mut claim = pvc("1Gi", None, &[RWO]);
        assert_eq!(best(&claim, &pvs), Some("plain"));
        claim.spec.as_mut().unwrap().selector = Some(LabelSelector {
            match_labels: Some([("tier".to_string(), "gold".to_string())].into()),
            ..Default::default()
        });
        assert_eq!(best(&claim, &pvs), Some("gold"));
        claim.spec.as_mut().unwrap().selector = Some(LabelSelector {
            match_labels: Some([("tier".to_string(), "silver".to_string())].into()),
            ..Default::default()
        });
        assert_eq!(best(&claim, &pvs), None);
    }

    #[test]
    fn volume_mode_phase_claims_and_deletion_exclude_volumes() {
        let mut block = pv("block", "1Gi", None, &[RWO]);
        block.spec.as_mut().unwrap().volume_mode = Some("Block".into());
        let mut released = pv("released", "1Gi", None, &[RWO]);
        released.status.as_mut().unwrap().phase = Some("Released".into());
        let mut claimed = pv("claimed", "1Gi", None, &[RWO]);
        claimed.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            name: Some("other".into()),
            namespace: Some("default".into()),
            ..Default::default()
        });
        let mut deleting = pv("deleting", "1Gi", None, &[RWO]);
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ));
        let pvs = [block, released, claimed, deleting];
        assert_eq!(best(&pvc("1Gi", None, &[RWO]), &pvs), None);
        let mut claim = pvc("1Gi", None, &[RWO]);
        claim.spec.as_mut().unwrap().volume_mode = Some("Block".into());
        assert_eq!(best(&claim, &pvs), Some("block"));
    }

    #[test]
    fn a_volume_pre_bound_to_the_claim_wins_even_when_binding_waits() {
        let mut mine = pv("mine", "10Gi", Some("other-class"), &[RWO]);
        mine.status.as_mut().unwrap().phase = Some("Pending".into());
        mine.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            name: Some("claim".into()),
            namespace: Some("default".into()),
            ..Default::default()
        });
        let small = pv("small", "1Gi", Some("local"), &[RWO]);
        let pvs = [mine.clone(), small];
        let claim = pvc("1Gi", Some("local"), &[RWO]);
        assert_eq!(best(&claim, &pvs), Some("mine"));
        // Waiting for a consumer: only the pre-bound volume is considered.
        let found = find_best_match(&claim, &pvs, None, true);
        assert_eq!(found.and_then(|v| v.metadata.name.as_deref()), Some("mine"));
        let found = find_best_match(&claim, &pvs[1..], None, true);
        assert!(found.is_none());
        // Pre-bound to another claim with the same name (other uid): no.
        mine.spec.as_mut().unwrap().claim_ref.as_mut().unwrap().uid = Some("uid-2".into());
        assert!(!is_volume_bound_to_claim(&mine, &claim));
    }

    #[test]
    fn with_a_node_the_volume_must_be_usable_there() {
        let on = |node: &str| {
            let mut v = pv(&format!("on-{node}"), "1Gi", Some("local"), &[RWO]);
            v.spec.as_mut().unwrap().node_affinity = Some(VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: "kubernetes.io/hostname".into(),
                            operator: "In".into(),
                            values: Some(vec![node.into()]),
                        }]),
                        ..Default::default()
                    }],
                }),
            });
            v
        };
        let pvs = [on("a"), on("b")];
        let claim = pvc("1Gi", Some("local"), &[RWO]);
        let labels: BTreeMap<String, String> =
            [("kubernetes.io/hostname".to_string(), "b".to_string())].into();
        let node = NodeRef {
            labels: &labels,
            name: "b",
        };
        let found = find_best_match(&claim, &pvs, Some(node), true);
        assert_eq!(found.and_then(|v| v.metadata.name.as_deref()), Some("on-b"));
        let labels: BTreeMap<String, String> =
            [("kubernetes.io/hostname".to_string(), "c".to_string())].into();
        let node = NodeRef {
            labels: &labels,
            name: "c",
        };
        assert!(find_best_match(&claim, &pvs, Some(node), true).is_none());
    }

    #[test]
    fn a_named_volume_is_checked_against_the_claim() {
        let claim = pvc("2Gi", Some("manual"), &[RWO]);
        assert_eq!(
            check_volume_satisfies_claim(&pv("v", "1Gi", Some("manual"), &[RWO]), &claim),
            Err("requested PV is too small".into())
        );
        assert_eq!(
            check_volume_satisfies_claim(&pv("v", "2Gi", None, &[RWO]), &claim),
            Err("storageClassName does not match".into())
        );
        assert_eq!(
            check_volume_satisfies_claim(&pv("v", "2Gi", Some("manual"), &[ROX]), &claim),
            Err("incompatible accessMode".into())
        );
        assert_eq!(
            check_volume_satisfies_claim(&pv("v", "2Gi", Some("manual"), &[RWO, ROX]), &claim),
            Ok(())
        );
    }
}
