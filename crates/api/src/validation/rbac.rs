//! Validation of rbac.authorization.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::rbac::v1 as api;

use super::checks;
use super::{Errors, Path, dns1123_subdomain, go, path_segment_name};

const GROUP: &str = "rbac.authorization.k8s.io";

fn policy_rule(errs: &mut Errors, path: &Path, rule: &api::PolicyRule, namespaced: bool) {
    if rule.verbs.is_empty() {
        errs.required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        );
    }
    let non_resource = rule.non_resource_urls.as_deref().unwrap_or_default();
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    if !non_resource.is_empty() {
        let shown = go::string_slice(Some(non_resource));
        if namespaced {
            errs.invalid_raw(
                &path.child("nonResourceURLs"),
                shown.clone(),
                "namespaced rules cannot apply to non-resource URLs",
            );
        }
        if nonempty(&rule.api_groups) || nonempty(&rule.resources) || nonempty(&rule.resource_names)
        {
            errs.invalid_raw(
                &path.child("nonResourceURLs"),
                shown,
                "rules cannot apply to both regular resources and non-resource URLs",
            );
        }
        return;
    }
    if !nonempty(&rule.api_groups) {
        errs.required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        );
    }
    if !nonempty(&rule.resources) {
        errs.required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        );
    }
}

fn rules(errs: &mut Errors, rules: Option<&[api::PolicyRule]>, namespaced: bool) {
    for (i, r) in rules.unwrap_or_default().iter().enumerate() {
        policy_rule(errs, &Path::new("rules").index(i), r, namespaced);
    }
}

/// Validate a Role.
pub fn role(obj: &api::Role, errs: &mut Errors) {
    rules(errs, obj.rules.as_deref(), true);
}

/// Validate an update of a Role.
pub fn role_update(_new: &api::Role, _old: &api::Role, _errs: &mut Errors) {}

/// Validate a ClusterRole.
pub fn cluster_role(obj: &api::ClusterRole, errs: &mut Errors) {
    rules(errs, obj.rules.as_deref(), false);
    if let Some(agg) = &obj.aggregation_rule {
        let p = Path::new("aggregationRule").child("clusterRoleSelectors");
        let sels = agg.cluster_role_selectors.as_deref().unwrap_or_default();
        if sels.is_empty() {
            errs.required(
                &p,
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            );
        }
        for (i, s) in sels.iter().enumerate() {
            checks::label_selector(errs, &p.index(i), Some(s));
            if checks::selector_of(Some(s)).is_err() {
                errs.invalid_raw(
                    &p.index(i),
                    go::label_selector(s),
                    "invalid label selector.",
                );
            }
        }
    }
}

/// Validate an update of a ClusterRole.
pub fn cluster_role_update(_new: &api::ClusterRole, _old: &api::ClusterRole, _errs: &mut Errors) {}

fn role_ref(errs: &mut Errors, r: &api::RoleRef, kinds: &[&str]) {
    let p = Path::new("roleRef");
    if r.api_group != GROUP {
        errs.not_supported(&p.child("apiGroup"), r.api_group.as_str(), &[GROUP]);
    }
    if !kinds.contains(&r.kind.as_str()) {
        errs.not_supported(&p.child("kind"), r.kind.as_str(), kinds);
    }
    if r.name.is_empty() {
        errs.required(&p.child("name"), "");
    } else {
        errs.invalid_each(&p.child("name"), &r.name, path_segment_name(&r.name));
    }
}

fn subject(errs: &mut Errors, path: &Path, s: &api::Subject, namespaced: bool) {
    if s.name.is_empty() {
        errs.required(&path.child("name"), "");
    }
    let group = s.api_group.as_deref().unwrap_or("");
    match s.kind.as_str() {
        "ServiceAccount" => {
            if !s.name.is_empty() {
                errs.invalid_each(&path.child("name"), &s.name, dns1123_subdomain(&s.name));
            }
            if !group.is_empty() {
                errs.not_supported(&path.child("apiGroup"), group, &[""]);
            }
            if !namespaced && s.namespace.as_deref().unwrap_or("").is_empty() {
                errs.required(&path.child("namespace"), "");
            }
        }
        "User" | "Group" => {
            if group != GROUP {
                errs.not_supported(&path.child("apiGroup"), group, &[GROUP]);
            }
        }
        other => errs.not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        ),
    }
}

fn subjects(errs: &mut Errors, list: Option<&[api::Subject]>, namespaced: bool) {
    for (i, s) in list.unwrap_or_default().iter().enumerate() {
        subject(errs, &Path::new("subjects").index(i), s, namespaced);
    }
}

fn role_ref_text(r: &api::RoleRef) -> String {
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go::quote(&r.api_group),
        go::quote(&r.kind),
        go::quote(&r.name)
    )
}

fn immutable_role_ref(errs: &mut Errors, new: &api::RoleRef, old: &api::RoleRef) {
    if new != old {
        errs.invalid_raw(
            &Path::new("roleRef"),
            role_ref_text(new),
            "cannot change roleRef",
        );
    }
}

/// Validate a RoleBinding.
pub fn role_binding(obj: &api::RoleBinding, errs: &mut Errors) {
    role_ref(errs, &obj.role_ref, &["Role", "ClusterRole"]);
    subjects(errs, obj.subjects.as_deref(), true);
}

/// Validate an update of a RoleBinding: `roleRef` is immutable.
pub fn role_binding_update(new: &api::RoleBinding, old: &api::RoleBinding, errs: &mut Errors) {
    immutable_role_ref(errs, &new.role_ref, &old.role_ref);
}

/// Validate a ClusterRoleBinding.
pub fn cluster_role_binding(obj: &api::ClusterRoleBinding, errs: &mut Errors) {
    role_ref(errs, &obj.role_ref, &["ClusterRole"]);
    subjects(errs, obj.subjects.as_deref(), false);
}

/// Validate an update of a ClusterRoleBinding: `roleRef` is immutable.
pub fn cluster_role_binding_update(
    new: &api::ClusterRoleBinding,
    old: &api::ClusterRoleBinding,
    errs: &mut Errors,
) {
    immutable_role_ref(errs, &new.role_ref, &old.role_ref);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_role_refs() {
        let role = api::Role {
            rules: Some(vec![api::PolicyRule {
                verbs: vec![],
                ..Default::default()
            }]),
            ..Default::default()
        };
        let mut errs = Errors::default();
        super::role(&role, &mut errs);
        let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
            ]
        );
        let old = api::RoleBinding {
            role_ref: api::RoleRef {
                api_group: GROUP.into(),
                kind: "ClusterRole".into(),
                name: "a".into(),
            },
            ..Default::default()
        };
        let mut new = old.clone();
        new.role_ref.name = "x".into();
        let mut errs = Errors::default();
        role_binding_update(&new, &old, &mut errs);
        assert_eq!(
            errs.0[0].to_string(),
            r#"roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"x"}: cannot change roleRef"#
        );
    }
}
