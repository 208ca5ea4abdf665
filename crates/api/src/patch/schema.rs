//! The shape of API types for patching: which fields are nested objects,
//! which lists merge by key, as sets, or as a whole. Generated once from
//! k8s-openapi (see `schema_table.rs` and `cargo xtask codegen`).

/// How a field merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A nested object of the named type.
    Struct(&'static str),
    /// A list replaced as a whole (items of the named type, or scalars: "").
    ListAtomic(&'static str),
    /// A list of objects identified by key fields (JSON names); the first is
    /// the strategic merge key.
    ListMap(&'static [&'static str], &'static str),
    /// A list of scalars merged as a set.
    ListSet,
    /// A map owned as a whole by server-side apply (strategic merge still
    /// merges it key by key, as upstream).
    MapAtomic,
    /// A map merged key by key, values of the named type (or scalars: "").
    MapGranular(&'static str),
}

/// One non-scalar field of a type.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// JSON name.
    pub json: &'static str,
    /// How it merges.
    pub shape: Shape,
}

/// An API type.
#[derive(Debug)]
pub struct TypeDef {
    /// k8s-openapi module path, e.g. `api::core::v1::PodSpec`.
    pub name: &'static str,
    /// Its non-scalar fields (scalars are absent: they are replaced).
    pub fields: &'static [Field],
}

impl TypeDef {
    /// The shape of a field, if it is not a scalar.
    pub fn field(&self, json: &str) -> Option<Shape> {
        self.fields.iter().find(|f| f.json == json).map(|f| f.shape)
    }
}

/// The type with this name.
pub fn lookup(name: &str) -> Option<&'static TypeDef> {
    let types = super::schema_table::TYPES;
    types
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &types[i])
}

/// The type of a kind: `api::<group module>::<version>::<Kind>`.
pub fn for_kind(group: &str, version: &str, kind: &str) -> Option<&'static TypeDef> {
    let module = match group {
        "" => "core",
        "apiextensions.k8s.io" => {
            return lookup(&format!(
                "apiextensions_apiserver::pkg::apis::apiextensions::{version}::{kind}"
            ));
        }
        g => g.split('.').next().unwrap_or(g),
    };
    lookup(&format!("api::{module}::{version}::{kind}"))
}

/// Structs upstream marks `+structType=atomic`: server-side apply owns
/// them as a whole (strategic merge still merges them field by field).
/// k8s-openapi does not carry this marker, so it is kept here.
const ATOMIC_STRUCTS: &[&str] = &[
    "api::core::v1::ConfigMapKeySelector",
    "api::core::v1::LocalObjectReference",
    "api::core::v1::NodeSelector",
    "api::core::v1::NodeSelectorTerm",
    "api::core::v1::ObjectFieldSelector",
    "api::core::v1::ObjectReference",
    "api::core::v1::ResourceFieldSelector",
    "api::core::v1::SecretKeySelector",
    "api::core::v1::SecretReference",
    "api::core::v1::TopologySelectorTerm",
    "api::core::v1::TypedLocalObjectReference",
    "api::core::v1::TypedObjectReference",
    "apimachinery::pkg::apis::meta::v1::LabelSelector",
];

/// Whether server-side apply treats this struct type as one value.
pub fn is_atomic_struct(name: &str) -> bool {
    ATOMIC_STRUCTS.contains(&name)
}

/// The default of a list-map key field an item may leave out (upstream's
/// structured merge keys such items by the schema default).
pub fn key_default(item_type: &str, key: &str) -> Option<serde_json::Value> {
    match (item_type, key) {
        ("api::core::v1::ContainerPort" | "api::core::v1::ServicePort", "protocol") => {
            Some(serde_json::Value::from("TCP"))
        }
        _ => None,
    }
}

/// The type a nested name refers to ("" means a scalar).
pub fn nested(name: &str) -> Option<&'static TypeDef> {
    if name.is_empty() { None } else { lookup(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_kinds_and_merge_keys() {
        let pod = for_kind("", "v1", "Pod").expect("Pod");
        let Some(Shape::Struct(spec)) = pod.field("spec") else {
            panic!("spec")
        };
        let spec = lookup(spec).unwrap();
        assert!(matches!(
            spec.field("containers"),
            Some(Shape::ListMap(["name"], "api::core::v1::Container"))
        ));
        let container = lookup("api::core::v1::Container").unwrap();
        assert!(matches!(
            container.field("ports"),
            Some(Shape::ListMap(["containerPort", "protocol"], _))
        ));
        assert!(matches!(
            container.field("args"),
            Some(Shape::ListAtomic(""))
        ));
        assert!(for_kind("apps", "v1", "Deployment").is_some());
        assert!(for_kind("networking.k8s.io", "v1", "NetworkPolicy").is_some());
        assert!(for_kind("rbac.authorization.k8s.io", "v1", "ClusterRole").is_some());
        let meta = lookup("apimachinery::pkg::apis::meta::v1::ObjectMeta").unwrap();
        assert_eq!(meta.field("finalizers"), Some(Shape::ListSet));
        // The table is sorted (binary search relies on it).
        let types = super::super::schema_table::TYPES;
        assert!(types.windows(2).all(|w| w[0].name < w[1].name));
    }
}
