//! Object metadata: the checks every kind shares, and the server-set
//! fields (uids, timestamps, generated names).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use rand::Rng;

use crate::registry::{NameRule, ResourceInfo, Scope};
use crate::validation::{self, Errors, Path, validate_annotations, validate_labels};

/// The errors of a name under a kind's rule.
pub fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => validation::dns1123_subdomain(name),
        NameRule::Label => validation::dns1123_label(name),
        NameRule::Dns1035 => validation::dns1035_label(name),
        NameRule::PathSegment => validation::path_segment_name(name),
    }
}

/// Validate the metadata of an object about to be stored.
pub fn validate_object_meta(meta: &ObjectMeta, info: &ResourceInfo, errs: &mut Errors) {
    let path = Path::new("metadata");
    match meta.name.as_deref() {
        None | Some("") => errs.required(&path.child("name"), "name or generateName is required"),
        Some(name) => {
            errs.invalid_each(&path.child("name"), name, name_errors(info.name_rule, name))
        }
    }
    match (info.scope, meta.namespace.as_deref()) {
        (Scope::Namespaced, None | Some("")) => errs.required(&path.child("namespace"), ""),
        (Scope::Namespaced, Some(ns)) => {
            errs.invalid_each(&path.child("namespace"), ns, validation::dns1123_label(ns))
        }
        (Scope::Cluster, Some(ns)) if !ns.is_empty() => {
            errs.forbidden(&path.child("namespace"), "not allowed on this type")
        }
        _ => {}
    }
    validate_labels(meta.labels.as_ref(), &path.child("labels"), errs);
    validate_annotations(meta.annotations.as_ref(), &path.child("annotations"), errs);
    for (i, f) in meta.finalizers.iter().flatten().enumerate() {
        errs.invalid_each(
            &path.child("finalizers").index(i),
            f,
            validation::qualified_name(f),
        );
    }
    let mut controllers = 0;
    for (i, r) in meta.owner_references.iter().flatten().enumerate() {
        let p = path.child("ownerReferences").index(i);
        if r.api_version.is_empty() {
            errs.invalid(&p.child("apiVersion"), "", "version must not be empty");
        }
        if r.kind.is_empty() {
            errs.invalid(&p.child("kind"), "", "kind must not be empty");
        }
        if r.name.is_empty() {
            errs.invalid(&p.child("name"), "", "name must not be empty");
        }
        if r.uid.is_empty() {
            errs.invalid(&p.child("uid"), "", "uid must not be empty");
        }
        if r.controller == Some(true) {
            controllers += 1;
        }
    }
    if controllers > 1 {
        errs.invalid(
            &path.child("ownerReferences"),
            serde_json::Value::Null,
            "Only one reference can have Controller set to true",
        );
    }
}

/// The current time, truncated to seconds as the API stores it.
pub fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A new random UID.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A name from a `generateName` prefix: the prefix (cut to leave room)
/// and five random characters from upstream's unambiguous alphabet.
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    const MAX_PREFIX: usize = 63 - 5;
    let mut name: String = prefix.chars().take(MAX_PREFIX).collect();
    let mut rng = rand::rng();
    for _ in 0..5 {
        name.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    name
}
