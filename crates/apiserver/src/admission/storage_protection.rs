//! Upstream's `StorageObjectInUseProtection` plugin: every new
//! PersistentVolumeClaim carries the [`PVC_PROTECTION`] finalizer and
//! every new PersistentVolume the [`PV_PROTECTION`] one, so deleting a
//! claim a pod still uses, or a volume still bound, only marks it
//! Terminating. The controllers' `volume::protection` removes the
//! finalizer once the object is no longer in use.

use serde_json::Value;

/// The finalizer guarding claims in use by pods.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// The finalizer guarding bound volumes.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

/// The finalizer new objects of this core resource get, if any.
pub fn finalizer_for(plural: &str) -> Option<&'static str> {
    match plural {
        "persistentvolumeclaims" => Some(PVC_PROTECTION),
        "persistentvolumes" => Some(PV_PROTECTION),
        _ => None,
    }
}

/// Add `finalizer` to the object's `metadata.finalizers` unless present.
pub fn add_finalizer(obj: &mut Value, finalizer: &str) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let list = meta
        .entry("finalizers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    if let Some(items) = list.as_array_mut()
        && !items.iter().any(|f| f.as_str() == Some(finalizer))
    {
        items.push(Value::String(finalizer.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adds_once_and_keeps_others() {
        let mut claim = json!({"metadata": {"name": "c"}});
        add_finalizer(&mut claim, PVC_PROTECTION);
        add_finalizer(&mut claim, PVC_PROTECTION);
        assert_eq!(claim["metadata"]["finalizers"], json!([PVC_PROTECTION]));
        let mut volume = json!({"metadata": {"name": "v", "finalizers": ["example.com/keep"]}});
        add_finalizer(&mut volume, PV_PROTECTION);
        assert_eq!(
            volume["metadata"]["finalizers"],
            json!(["example.com/keep", PV_PROTECTION])
        );
        assert_eq!(finalizer_for("pods"), None);
    }
}
