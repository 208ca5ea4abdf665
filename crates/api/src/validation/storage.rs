//! Validation of storage.k8s.io/v1 kinds, as upstream's.

use std::collections::BTreeSet;

use k8s_openapi::api::storage::v1 as api;

use super::checks;
use super::{Errors, Path, qualified_name};

/// Validate a StorageClass.
pub fn storage_class(obj: &api::StorageClass, errs: &mut Errors) {
    let p = Path::new("provisioner");
    if obj.provisioner.is_empty() {
        errs.required(&p, "");
    } else {
        let lower = obj.provisioner.to_lowercase();
        errs.invalid_each(&p, &lower, qualified_name(&lower));
    }
    parameters(errs, &Path::new("parameters"), obj);
    if let Some(r) = &obj.reclaim_policy
        && !r.is_empty()
        && r != "Delete"
        && r != "Retain"
    {
        errs.not_supported(
            &Path::new("reclaimPolicy"),
            r.as_str(),
            &["Delete", "Retain"],
        );
    }
    let mp = Path::new("volumeBindingMode");
    match obj.volume_binding_mode.as_deref() {
        None => errs.required(&mp, ""),
        Some("Immediate" | "WaitForFirstConsumer") => {}
        Some(other) => errs.not_supported(&mp, other, &["Immediate", "WaitForFirstConsumer"]),
    }
    allowed_topologies(errs, obj);
}

fn parameters(errs: &mut Errors, path: &Path, obj: &api::StorageClass) {
    let params = obj.parameters.clone().unwrap_or_default();
    if params.len() > 512 {
        errs.too_long(path, 512);
        return;
    }
    let mut total = 0;
    for (k, v) in &params {
        if k.is_empty() {
            errs.invalid(path, k.as_str(), "field can not be empty.");
        }
        total += k.len() + v.len();
    }
    if total > 256 * 1024 {
        errs.too_long(path, 256 * 1024);
    }
}

fn allowed_topologies(errs: &mut Errors, obj: &api::StorageClass) {
    let path = Path::new("allowedTopologies");
    let terms = obj.allowed_topologies.as_deref().unwrap_or_default();
    if obj.allowed_topologies.is_some() && terms.is_empty() {
        errs.forbidden(&path, "must contain at least one TopologySelectorTerm");
    }
    for (i, t) in terms.iter().enumerate() {
        let ep = path.index(i).child("matchLabelExpressions");
        let mut keys = BTreeSet::new();
        for (j, r) in t.match_label_expressions.iter().flatten().enumerate() {
            let rp = ep.index(j);
            let vp = rp.child("values");
            if r.values.is_empty() {
                errs.required(&vp, "");
            }
            let mut seen = BTreeSet::new();
            for (k, v) in r.values.iter().enumerate() {
                if !seen.insert(v.as_str()) {
                    errs.duplicate(&vp.index(k), v.as_str());
                }
            }
            checks::label_name(errs, &rp.child("key"), &r.key);
            if !keys.insert(r.key.as_str()) {
                errs.duplicate(&rp.child("key"), r.key.as_str());
            }
        }
    }
}

/// Validate an update of a StorageClass: parameters, provisioner,
/// reclaim policy and binding mode are immutable.
pub fn storage_class_update(new: &api::StorageClass, old: &api::StorageClass, errs: &mut Errors) {
    if new.parameters != old.parameters {
        errs.forbidden(
            &Path::new("parameters"),
            "updates to parameters are forbidden.",
        );
    }
    if new.provisioner != old.provisioner {
        errs.forbidden(
            &Path::new("provisioner"),
            "updates to provisioner are forbidden.",
        );
    }
    if new.reclaim_policy != old.reclaim_policy {
        errs.forbidden(
            &Path::new("reclaimPolicy"),
            "updates to reclaimPolicy are forbidden.",
        );
    }
    if new.volume_binding_mode != old.volume_binding_mode {
        errs.invalid(
            &Path::new("volumeBindingMode"),
            checks::opt_value(new.volume_binding_mode.clone()),
            checks::IMMUTABLE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioner_required_and_immutable() {
        let mut sc = api::StorageClass {
            volume_binding_mode: Some("Immediate".into()),
            ..Default::default()
        };
        let mut errs = Errors::default();
        storage_class(&sc, &mut errs);
        assert_eq!(errs.0[0].to_string(), "provisioner: Required value");
        sc.provisioner = "a".into();
        let mut new = sc.clone();
        new.provisioner = "b".into();
        let mut errs = Errors::default();
        storage_class_update(&new, &sc, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            "provisioner: Forbidden: updates to provisioner are forbidden."
        );
    }
}
