//! apiextensions.k8s.io/v1 CustomResourceDefinitions: the definition
//! objects themselves. What they define is served by
//! [`custom::CustomKind`](super::custom::CustomKind).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as api;

use crate::registry::{ResourceInfo, Scope, Strategy};
use crate::validation::{Errors, Path, dns1035_label, dns1123_label, dns1123_subdomain};

/// The finalizer that keeps a definition until its objects are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// CustomResourceDefinitions.
pub struct CustomResourceDefinitions;

impl Strategy for CustomResourceDefinitions {
    type Object = api::CustomResourceDefinition;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["crd", "crds"],
        categories: &["api-extensions"],
        status: true,
        generation: true,
        ..ResourceInfo::new(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            "customresourcedefinition",
        )
    };

    fn default(crd: &mut Self::Object) {
        let names = &mut crd.spec.names;
        if names.singular.as_deref().unwrap_or("").is_empty() {
            names.singular = Some(names.kind.to_lowercase());
        }
        if names.list_kind.as_deref().unwrap_or("").is_empty() && !names.kind.is_empty() {
            names.list_kind = Some(format!("{}List", names.kind));
        }
        let conversion = crd.spec.conversion.get_or_insert_with(Default::default);
        if conversion.strategy.is_empty() {
            conversion.strategy = "None".into();
        }
    }

    fn prepare_create(crd: &mut Self::Object) {
        crd.status = Some(Default::default());
        let finalizers = crd.metadata.finalizers.get_or_insert_with(Vec::new);
        if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
            finalizers.push(CLEANUP_FINALIZER.into());
        }
    }

    fn validate(crd: &Self::Object, errs: &mut Errors) {
        validate(crd, errs)
    }

    fn validate_update(new: &Self::Object, old: &Self::Object, errs: &mut Errors) {
        let spec = Path::new("spec");
        errs.immutable(&spec.child("group"), &new.spec.group, &old.spec.group);
        errs.immutable(
            &spec.child("names").child("plural"),
            &new.spec.names.plural,
            &old.spec.names.plural,
        );
        errs.immutable(&spec.child("scope"), &new.spec.scope, &old.spec.scope);
    }
}

fn validate(crd: &api::CustomResourceDefinition, errs: &mut Errors) {
    let spec = &crd.spec;
    let sp = Path::new("spec");
    let name = crd.metadata.name.as_deref().unwrap_or("");
    let expected = format!("{}.{}", spec.names.plural, spec.group);
    if name != expected {
        errs.invalid(
            &Path::new("metadata").child("name"),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        );
    }
    if spec.group.is_empty() {
        errs.required(&sp.child("group"), "");
    } else {
        errs.invalid_each(
            &sp.child("group"),
            &spec.group,
            dns1123_subdomain(&spec.group),
        );
        if spec.group.split('.').count() < 2 {
            errs.invalid(
                &sp.child("group"),
                spec.group.as_str(),
                "should be a domain with at least one dot",
            );
        }
    }
    if !matches!(spec.scope.as_str(), "Namespaced" | "Cluster") {
        if spec.scope.is_empty() {
            errs.required(&sp.child("scope"), "");
        } else {
            errs.not_supported(
                &sp.child("scope"),
                spec.scope.as_str(),
                &["Cluster", "Namespaced"],
            );
        }
    }
    let np = sp.child("names");
    let names = &spec.names;
    for (field, value) in [
        ("plural", Some(names.plural.as_str())),
        ("singular", names.singular.as_deref()),
    ] {
        match value {
            None | Some("") => errs.required(&np.child(field), ""),
            Some(v) => errs.invalid_each(&np.child(field), v, dns1123_label(v)),
        }
    }
    if names.kind.is_empty() {
        errs.required(&np.child("kind"), "");
    } else {
        errs.invalid_each(
            &np.child("kind"),
            &names.kind.to_lowercase(),
            dns1035_label(&names.kind.to_lowercase()),
        );
    }
    for (i, short) in names.short_names.iter().flatten().enumerate() {
        errs.invalid_each(
            &np.child("shortNames").index(i),
            short,
            dns1123_label(short),
        );
    }
    let vp = sp.child("versions");
    if spec.versions.is_empty() {
        errs.invalid(
            &vp,
            serde_json::Value::Null,
            "must have exactly one version marked as storage version",
        );
    }
    let storage = spec.versions.iter().filter(|v| v.storage).count();
    if !spec.versions.is_empty() && storage != 1 {
        errs.invalid(
            &vp,
            serde_json::Value::Null,
            "must have exactly one version marked as storage version",
        );
    }
    if !spec.versions.is_empty() && !spec.versions.iter().any(|v| v.served) {
        errs.invalid(
            &vp,
            serde_json::Value::Null,
            "must have at least one version marked as served",
        );
    }
    let mut seen = Vec::new();
    for (i, v) in spec.versions.iter().enumerate() {
        let p = vp.index(i);
        if seen.contains(&v.name.as_str()) {
            errs.duplicate(&p.child("name"), v.name.as_str());
        }
        seen.push(v.name.as_str());
        errs.invalid_each(&p.child("name"), &v.name, dns1035_label(&v.name));
        let schema_path = p.child("schema").child("openAPIV3Schema");
        match v
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
        {
            None => errs.required(&schema_path, "schemas are required"),
            Some(schema) => {
                if let Err(found) = crate::crd::Structural::from_schema(schema, &schema_path) {
                    errs.0.extend(found);
                }
                if v.subresources.as_ref().is_some_and(|s| s.status.is_some()) {
                    errs.0
                        .extend(crate::crd::Structural::validate_root_for_status(
                            schema,
                            &schema_path,
                        ));
                }
            }
        }
        if let Some(sub) = v.subresources.as_ref().and_then(|s| s.scale.as_ref()) {
            let sp = p.child("subresources").child("scale");
            for (field, path) in [
                ("specReplicasPath", Some(&sub.spec_replicas_path)),
                ("statusReplicasPath", Some(&sub.status_replicas_path)),
            ] {
                if let Some(path) = path
                    && (!path.starts_with('.') || path.len() < 2)
                {
                    errs.invalid(
                        &sp.child(field),
                        path.as_str(),
                        "should be a json path starting with .",
                    );
                }
            }
        }
    }
    if spec
        .conversion
        .as_ref()
        .is_some_and(|c| c.strategy != "None")
    {
        errs.not_supported(
            &sp.child("conversion").child("strategy"),
            spec.conversion
                .as_ref()
                .map(|c| c.strategy.clone())
                .unwrap_or_default(),
            &["None"],
        );
    }
}
