//! Pod priorities from PriorityClasses (upstream's Priority admission
//! plugin, applied by the scheduler because rkube's API server does not
//! resolve them): a pod without `spec.priority` gets the value of its
//! `spec.priorityClassName`, or of the `globalDefault` class (the lowest
//! one if several claim it), or 0; its `preemptionPolicy`, if unset, comes
//! from the class. The two built-in classes (`system-cluster-critical`,
//! `system-node-critical`) are known without being stored.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;

/// The built-in PriorityClasses and their values.
pub const SYSTEM_PRIORITY_CLASSES: &[(&str, i32)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// What a pod takes from a PriorityClass.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Class {
    value: i32,
    global_default: bool,
    preemption_policy: Option<String>,
}

/// The PriorityClasses the scheduler knows.
#[derive(Clone, Debug, Default)]
pub struct PriorityClasses {
    classes: HashMap<String, Class>,
}

impl PriorityClasses {
    /// No classes (the built-in ones are always known).
    pub fn new() -> PriorityClasses {
        PriorityClasses::default()
    }

    /// Add or replace a class. Returns whether anything a pod takes from it
    /// changed.
    pub fn upsert(&mut self, pc: &PriorityClass) -> bool {
        let name = pc.metadata.name.clone().unwrap_or_default();
        let class = Class {
            value: pc.value,
            global_default: pc.global_default.unwrap_or(false),
            preemption_policy: pc.preemption_policy.clone(),
        };
        self.classes.insert(name, class.clone()) != Some(class)
    }

    /// Forget a class. Returns whether it was known.
    pub fn remove(&mut self, name: &str) -> bool {
        self.classes.remove(name).is_some()
    }

    fn class(&self, name: &str) -> Option<Class> {
        self.classes.get(name).cloned().or_else(|| {
            SYSTEM_PRIORITY_CLASSES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| Class {
                    value: *v,
                    global_default: false,
                    preemption_policy: None,
                })
        })
    }

    fn global_default(&self) -> Option<&Class> {
        self.classes
            .values()
            .filter(|c| c.global_default)
            .min_by_key(|c| c.value)
    }

    /// The priority of a pod: `spec.priority` when set; otherwise its
    /// class's value (0 for an unknown class), or the global default's, or
    /// 0.
    pub fn priority(&self, pod: &Pod) -> i32 {
        let spec = pod.spec.as_ref();
        if let Some(p) = spec.and_then(|s| s.priority) {
            return p;
        }
        match spec
            .and_then(|s| s.priority_class_name.as_deref())
            .filter(|n| !n.is_empty())
        {
            Some(name) => self.class(name).map_or(0, |c| c.value),
            None => self.global_default().map_or(0, |c| c.value),
        }
    }

    /// Fill in `spec.preemptionPolicy` from the pod's class (or the global
    /// default) when it is unset and `spec.priority` is unset too (a pod
    /// with an explicit priority was resolved by someone else).
    pub fn default_preemption_policy(&self, pod: &mut Pod) {
        let Some(spec) = pod.spec.as_mut() else {
            return;
        };
        if spec.priority.is_some() || spec.preemption_policy.is_some() {
            return;
        }
        let class = match spec
            .priority_class_name
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            Some(name) => self.class(name),
            None => self.global_default().cloned(),
        };
        spec.preemption_policy = class.and_then(|c| c.preemption_policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(name: &str, value: i32, global: bool, policy: Option<&str>) -> PriorityClass {
        serde_json::from_value(json!({
            "metadata": {"name": name}, "value": value, "globalDefault": global,
            "preemptionPolicy": policy,
        }))
        .unwrap()
    }

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn resolves_classes_defaults_and_builtins() {
        let mut pcs = PriorityClasses::new();
        let none = pod(json!({"containers": []}));
        assert_eq!(pcs.priority(&none), 0);
        assert!(pcs.upsert(&class("high", 1000, false, Some("Never"))));
        assert!(!pcs.upsert(&class("high", 1000, false, Some("Never"))));
        pcs.upsert(&class("default-a", 50, true, None));
        pcs.upsert(&class("default-b", 20, true, None));
        let high = pod(json!({"containers": [], "priorityClassName": "high"}));
        assert_eq!(pcs.priority(&high), 1000);
        assert_eq!(pcs.priority(&none), 20, "the lowest global default");
        let explicit = pod(json!({"containers": [], "priorityClassName": "high", "priority": 7}));
        assert_eq!(pcs.priority(&explicit), 7);
        let unknown = pod(json!({"containers": [], "priorityClassName": "nope"}));
        assert_eq!(pcs.priority(&unknown), 0);
        let critical = pod(json!({"containers": [], "priorityClassName": "system-node-critical"}));
        assert_eq!(pcs.priority(&critical), 2_000_001_000);
        assert!(pcs.remove("default-b"));
        assert_eq!(pcs.priority(&none), 50);
    }

    #[test]
    fn preemption_policy_comes_from_the_class() {
        let mut pcs = PriorityClasses::new();
        pcs.upsert(&class("never", 10, false, Some("Never")));
        let mut p = pod(json!({"containers": [], "priorityClassName": "never"}));
        pcs.default_preemption_policy(&mut p);
        assert_eq!(p.spec.unwrap().preemption_policy.as_deref(), Some("Never"));
        let mut own = pod(json!({"containers": [], "priorityClassName": "never",
            "preemptionPolicy": "PreemptLowerPriority"}));
        pcs.default_preemption_policy(&mut own);
        assert_eq!(
            own.spec.unwrap().preemption_policy.as_deref(),
            Some("PreemptLowerPriority")
        );
    }
}
