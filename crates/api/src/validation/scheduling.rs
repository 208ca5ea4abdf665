//! Validation of scheduling.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::scheduling::v1 as api;

use super::{Errors, Path, checks};

/// The highest priority a user-defined PriorityClass may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

const SYSTEM_CLASSES: &[(&str, i32)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

fn known_system_class(pc: &api::PriorityClass) -> Result<(), String> {
    let name = pc.metadata.name.as_deref().unwrap_or("");
    match SYSTEM_CLASSES.iter().find(|(n, _)| *n == name) {
        None => Err(format!("{name} is not a known system priority class")),
        Some((_, v)) if *v != pc.value => Err(format!("value of {name} PriorityClass must be {v}")),
        Some(_) if pc.global_default == Some(true) => Err(format!(
            "globalDefault of {name} PriorityClass must be false"
        )),
        Some(_) => Ok(()),
    }
}

/// Validate a PriorityClass.
pub fn priority_class(obj: &api::PriorityClass, errs: &mut Errors) {
    let name = obj.metadata.name.as_deref().unwrap_or("");
    if name.starts_with("system-") {
        if let Err(e) = known_system_class(obj) {
            errs.forbidden(
                &Path::new("metadata").child("name"),
                format!("priority class names with 'system-' prefix are reserved for system use only. error: {e}"),
            );
        }
    } else if obj.value > HIGHEST_USER_DEFINABLE_PRIORITY {
        errs.forbidden(
            &Path::new("value"),
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
        );
    }
    if let Some(p) = &obj.preemption_policy {
        super::pod::preemption_policy(errs, &Path::new("preemptionPolicy"), p);
    }
}

/// Validate an update of a PriorityClass: value and preemption policy are
/// immutable.
pub fn priority_class_update(
    new: &api::PriorityClass,
    old: &api::PriorityClass,
    errs: &mut Errors,
) {
    if new.value != old.value {
        errs.forbidden(&Path::new("value"), "may not be changed in an update.");
    }
    if new.preemption_policy != old.preemption_policy {
        errs.invalid(
            &Path::new("preemptionPolicy"),
            checks::opt_value(new.preemption_policy.clone()),
            checks::IMMUTABLE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn value_range_and_immutability() {
        let pc = api::PriorityClass {
            metadata: ObjectMeta {
                name: Some("high".into()),
                ..Default::default()
            },
            value: 2_000_000_000,
            ..Default::default()
        };
        let mut errs = Errors::default();
        priority_class(&pc, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
        );
        let mut new = pc.clone();
        new.value = 5;
        let mut errs = Errors::default();
        priority_class_update(&new, &pc, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            "value: Forbidden: may not be changed in an update."
        );
    }
}
