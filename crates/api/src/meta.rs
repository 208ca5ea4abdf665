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

/// Validate the metadata of an object about to be stored, as upstream's
/// `ValidateObjectMeta` (with the kind's name rule) followed by the core
/// finalizer-name rule.
pub fn validate_object_meta(meta: &ObjectMeta, info: &ResourceInfo, errs: &mut Errors) {
    let path = Path::new("metadata");
    if let Some(prefix) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        let masked = validation::mask_trailing_dash(prefix);
        let msgs = match info.name_rule {
            NameRule::PathSegment => path_segment_prefix(prefix),
            rule => name_errors(rule, &masked),
        };
        errs.invalid_each(&path.child("generateName"), prefix, msgs);
    }
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
    if let Some(g) = meta.generation
        && g < 0
    {
        errs.invalid(
            &path.child("generation"),
            g,
            "must be greater than or equal to 0",
        );
    }
    validate_labels(meta.labels.as_ref(), &path.child("labels"), errs);
    validate_annotations(meta.annotations.as_ref(), &path.child("annotations"), errs);
    owner_references(meta, &path.child("ownerReferences"), errs);
    finalizers(meta, &path.child("finalizers"), errs);
}

/// `generateName` of path-segment kinds: only the "contains" rules.
fn path_segment_prefix(prefix: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|bad| prefix.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// The version of an `apiVersion` (`apps/v1` → `v1`), empty if malformed.
fn version_of(api_version: &str) -> &str {
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [v] => v,
        [_, v] => v,
        _ => "",
    }
}

fn owner_references(meta: &ObjectMeta, path: &Path, errs: &mut Errors) {
    let refs = meta.owner_references.as_deref().unwrap_or_default();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let version = version_of(&r.api_version);
        if version.is_empty() {
            errs.invalid(
                &path.child("apiVersion"),
                r.api_version.as_str(),
                "version must not be empty",
            );
        }
        if r.kind.is_empty() {
            errs.invalid(
                &path.child("kind"),
                r.kind.as_str(),
                "kind must not be empty",
            );
        }
        if r.name.is_empty() {
            errs.invalid(
                &path.child("name"),
                r.name.as_str(),
                "name must not be empty",
            );
        }
        if r.uid.is_empty() {
            errs.invalid(&path.child("uid"), r.uid.as_str(), "uid must not be empty");
        }
        if r.api_version == "v1" && r.kind == "Event" {
            errs.invalid_raw(
                path,
                format!(
                    "v1.OwnerReference{{APIVersion:\"v1\", Kind:\"Event\", Name:{}, UID:{}}}",
                    validation::go::quote(&r.name),
                    validation::go::quote(&r.uid)
                ),
                "/v1, Kind=Event is disallowed from being an owner",
            );
        }
        if r.controller == Some(true) {
            let this = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => errs.invalid_raw(
                    path,
                    "[]v1.OwnerReference{...}",
                    format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"),
                ),
                None => first_controller = Some(this),
            }
        }
    }
}

fn finalizers(meta: &ObjectMeta, path: &Path, errs: &mut Errors) {
    let fins = meta.finalizers.as_deref().unwrap_or_default();
    for f in fins {
        errs.invalid_each(path, f, validation::qualified_name(f));
    }
    if fins.iter().any(|f| f == "orphan") && fins.iter().any(|f| f == "foregroundDeletion") {
        errs.invalid_raw(
            path,
            validation::go::string_slice(Some(fins)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        );
    }
    for (i, f) in fins.iter().enumerate() {
        validation::core::kube_finalizer_name(errs, &path.index(i), f);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ResourceInfo;

    fn check(meta: ObjectMeta) -> Vec<String> {
        let info = ResourceInfo::new("", "v1", "ConfigMap", "configmaps", "configmap");
        let mut errs = Errors::default();
        validate_object_meta(&meta, &info, &mut errs);
        errs.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn labels_are_reported_on_the_map() {
        let meta = ObjectMeta {
            name: Some("a".into()),
            namespace: Some("default".into()),
            labels: Some([("app".to_string(), "-bad".to_string())].into()),
            ..Default::default()
        };
        assert_eq!(
            check(meta),
            vec![
                "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ]
        );
    }

    #[test]
    fn names_generation_and_finalizers() {
        let meta = ObjectMeta {
            name: Some("Bad".into()),
            namespace: Some("default".into()),
            generation: Some(-1),
            finalizers: Some(vec!["foo".into()]),
            ..Default::default()
        };
        let msgs = check(meta);
        assert!(
            msgs[0].starts_with(
                "metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain"
            )
        );
        assert_eq!(
            msgs[1],
            "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            msgs[2],
            "metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified"
        );
        let meta = ObjectMeta {
            generate_name: Some("web-".into()),
            name: Some("web-abcde".into()),
            namespace: Some("default".into()),
            ..Default::default()
        };
        assert!(check(meta).is_empty());
    }
}
