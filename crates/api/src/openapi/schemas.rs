//! `components.schemas` of a group-version's document: the served kinds'
//! schemas as k8s-openapi generates them (upstream's descriptions), their
//! lists, the kinds their subresources take, and every type they refer to,
//! with upstream's extensions added: the group-version-kind tags of kinds,
//! list and map types, merge keys and patch strategies (from the merge
//! shapes in [`crate::patch::schema`], the same table the server patches
//! with), and upstream's OpenAPI v3 forms of `Quantity` and `IntOrString`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIResourceList, DeleteOptions, ListMeta, Patch, Status, WatchEvent,
};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::schemars::generate::SchemaSettings;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::patch::schema::{Shape, lookup};
use crate::registry::Served;

/// Where `$ref`s point.
pub const REF_PREFIX: &str = "#/components/schemas/";

/// A group-version-kind as OpenAPI extensions carry it.
pub fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// A `$ref` to a schema.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{name}") })
}

/// A kind whose schema k8s-openapi has but no served kind's [`Kind`]
/// gives: the kinds of served versions converted from another storage
/// version, and the kinds subresources take (`Scale`, `Binding`,
/// `Eviction`). Identified by their own `k8s_openapi::Resource` constants.
///
/// [`Kind`]: crate::registry::Kind
type Known = fn(&str, &str, &str, &mut SchemaGenerator) -> Option<Schema>;

fn known<T: k8s_openapi::Resource + JsonSchema>(
    group: &str,
    version: &str,
    kind: &str,
    generator: &mut SchemaGenerator,
) -> Option<Schema> {
    (T::GROUP == group && T::VERSION == version && T::KIND == kind)
        .then(|| generator.subschema_for::<T>())
}

const KNOWN: &[Known] = &[
    known::<k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler>,
    known::<k8s_openapi::api::autoscaling::v1::Scale>,
    known::<k8s_openapi::api::core::v1::Binding>,
    known::<k8s_openapi::api::events::v1::Event>,
    known::<k8s_openapi::api::policy::v1::Eviction>,
];

/// The schema name upstream gives a custom resource's kind:
/// `com.example.stable.v1.CronTab` for `stable.example.com/v1` `CronTab`.
fn custom_name(group: &str, version: &str, kind: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').filter(|p| !p.is_empty()).collect();
    parts.reverse();
    parts.push(version);
    parts.push(kind);
    parts.join(".")
}

/// The schemas of one document, collected while its paths are built.
pub struct Schemas {
    generator: SchemaGenerator,
    /// Schema name → the group-version-kinds it is the schema of.
    tags: BTreeMap<String, Vec<Value>>,
    /// List schema name → (item schema name, list kind).
    lists: BTreeMap<String, (String, String)>,
}

impl Default for Schemas {
    fn default() -> Self {
        Self::new()
    }
}

impl Schemas {
    /// No schemas yet.
    pub fn new() -> Schemas {
        let settings = SchemaSettings::openapi3().with(|s| s.meta_schema = None);
        Schemas {
            generator: settings.into_generator(),
            tags: BTreeMap::new(),
            lists: BTreeMap::new(),
        }
    }

    /// The name of a schema the kind or k8s-openapi returned: the target
    /// of a `$ref`, or (an inline schema) stored under upstream's name for
    /// custom resources.
    fn name_of(&mut self, schema: Schema, group: &str, version: &str, kind: &str) -> String {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(REF_PREFIX))
            .filter(|_| schema.as_object().is_some_and(|o| o.len() == 1))
        {
            return name.to_owned();
        }
        let name = custom_name(group, version, kind);
        self.generator
            .definitions_mut()
            .insert(name.clone(), schema.to_value());
        name
    }

    fn tag(&mut self, name: &str, group: &str, version: &str, kind: &str) {
        let tags = self.tags.entry(name.to_owned()).or_default();
        let tag = gvk(group, version, kind);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }

    /// The schema of a kind in a group-version, registered and tagged with
    /// its group-version-kind; `None` if nothing knows it. `served` is the
    /// resource asked about (its kind answers first when it is that kind).
    pub fn kind_in(
        &mut self,
        served: Option<&Served>,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Option<String> {
        let schema = served
            .filter(|s| s.kind == kind)
            .and_then(|s| {
                s.resource
                    .kind
                    .openapi_schema(group, version, &mut self.generator)
            })
            .or_else(|| {
                KNOWN
                    .iter()
                    .find_map(|k| k(group, version, kind, &mut self.generator))
            })?;
        let name = self.name_of(schema, group, version, kind);
        self.tag(&name, group, version, kind);
        Some(name)
    }

    /// The schema of a served kind.
    pub fn kind(&mut self, served: &Served) -> Option<String> {
        self.kind_in(Some(served), served.group, served.version, served.kind)
    }

    /// The list schema of a served kind whose schema is `item`
    /// (`io.k8s.api.core.v1.PodList` for `io.k8s.api.core.v1.Pod`).
    pub fn list(&mut self, item: &str, served: &Served) -> String {
        let list_kind = format!("{}List", served.kind);
        let name = match item.strip_suffix(served.kind) {
            Some(prefix) => format!("{prefix}{list_kind}"),
            None => format!("{item}List"),
        };
        self.lists
            .insert(name.clone(), (item.to_owned(), list_kind.clone()));
        self.tag(&name, served.group, served.version, &list_kind);
        name
    }

    /// A type every document refers to (`DeleteOptions`, `Status`, ...).
    pub fn meta<T: JsonSchema>(&mut self) -> String {
        let _ = self.generator.subschema_for::<T>();
        T::schema_name().into_owned()
    }

    /// The types every group-version's operations use: `(DeleteOptions,
    /// Status, Patch, WatchEvent, APIResourceList)`, tagged as upstream
    /// tags them in this group-version.
    pub fn common(&mut self, group: &str, version: &str) -> Common {
        let common = Common {
            delete_options: self.meta::<DeleteOptions>(),
            status: self.meta::<Status>(),
            patch: self.meta::<Patch>(),
            watch_event: self.meta::<WatchEvent<RawExtension>>(),
            resource_list: self.meta::<APIResourceList>(),
        };
        for (name, kind) in [
            (&common.delete_options, "DeleteOptions"),
            (&common.status, "Status"),
            (&common.watch_event, "WatchEvent"),
        ] {
            self.tag(name, "", "v1", kind);
            self.tag(name, group, version, kind);
        }
        self.tag(&common.resource_list, "", "v1", "APIResourceList");
        common
    }

    /// Every schema, finished: lists built, references wrapped as upstream
    /// (`allOf` when a `$ref` has siblings), extensions added.
    pub fn finish(mut self) -> Map<String, Value> {
        let list_meta = self.meta::<ListMeta>();
        for (name, (item, list_kind)) in std::mem::take(&mut self.lists) {
            let item_props = self
                .generator
                .definitions()
                .get(&item)
                .and_then(|d| d.get("properties"))
                .cloned()
                .unwrap_or(Value::Null);
            let kind = list_kind.strip_suffix("List").unwrap_or(&list_kind);
            let mut props = Map::new();
            for field in ["apiVersion", "kind"] {
                if let Some(p) = item_props.get(field) {
                    props.insert(field.into(), p.clone());
                }
            }
            props.insert(
                "items".into(),
                json!({
                    "description": "List of objects.",
                    "type": "array",
                    "items": reference(&item),
                }),
            );
            let mut metadata = reference(&list_meta);
            metadata["description"] = Value::from(
                "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
            );
            props.insert("metadata".into(), metadata);
            let list = json!({
                "description": format!("{list_kind} is a list of {kind} objects."),
                "type": "object",
                "properties": props,
                "required": ["items"],
            });
            self.generator.definitions_mut().insert(name, list);
        }

        let mut defs = self.generator.take_definitions(true);
        let quantity = Quantity::schema_name();
        let int_or_string = IntOrString::schema_name();
        for (name, def) in defs.iter_mut() {
            let Value::Object(def) = def else { continue };
            if *name == quantity {
                upstream_scalar(def, json!([{"type": "string"}, {"type": "number"}]), None);
            } else if *name == int_or_string {
                upstream_scalar(
                    def,
                    json!([{"type": "integer"}, {"type": "string"}]),
                    Some("int-or-string"),
                );
            }
            add_merge_extensions(name, def);
            if let Some(tags) = self.tags.get(name) {
                // k8s-openapi requires `metadata` of every resource (its Rust
                // field is not optional); upstream does not.
                if let Some(Value::Array(required)) = def.get_mut("required") {
                    required.retain(|r| r != "metadata");
                    if required.is_empty() {
                        def.remove("required");
                    }
                }
                def.insert(
                    "x-kubernetes-group-version-kind".into(),
                    Value::Array(tags.clone()),
                );
            }
        }
        defs
    }
}

/// The types of [`Schemas::common`].
pub struct Common {
    /// `DeleteOptions`.
    pub delete_options: String,
    /// `Status`.
    pub status: String,
    /// `Patch`.
    pub patch: String,
    /// `WatchEvent`.
    pub watch_event: String,
    /// `APIResourceList`.
    pub resource_list: String,
}

/// Upstream's OpenAPI v3 form of a type serialized as a string or number:
/// `oneOf` the two, no `type`.
fn upstream_scalar(def: &mut Map<String, Value>, one_of: Value, format: Option<&str>) {
    let description = def.get("description").cloned();
    def.clear();
    if let Some(d) = description {
        def.insert("description".into(), d);
    }
    if let Some(f) = format {
        def.insert("format".into(), Value::from(f));
    }
    def.insert("oneOf".into(), one_of);
}

/// The patch-table name of a schema: `io.k8s.api.core.v1.PodSpec` →
/// `api::core::v1::PodSpec`.
fn table_name(schema_name: &str) -> Option<String> {
    let rest = schema_name.strip_prefix("io.k8s.")?;
    Some(rest.replace('-', "_").replace('.', "::"))
}

/// `x-kubernetes-list-type`, `-list-map-keys`, `-patch-merge-key`,
/// `-patch-strategy` and `-map-type` on the fields of a type, as the
/// server's merge table says it merges them.
fn add_merge_extensions(name: &str, def: &mut Map<String, Value>) {
    let Some(typedef) = table_name(name).and_then(|n| lookup(&n)) else {
        return;
    };
    let Some(Value::Object(props)) = def.get_mut("properties") else {
        return;
    };
    for field in typedef.fields {
        let Some(Value::Object(prop)) = props.get_mut(field.json) else {
            continue;
        };
        let mut set = |k: &str, v: Value| {
            prop.insert(format!("x-kubernetes-{k}"), v);
        };
        match field.shape {
            Shape::ListMap(keys, _) => {
                set("list-type", json!("map"));
                set("list-map-keys", json!(keys));
                if let Some(key) = keys.first() {
                    set("patch-merge-key", json!(key));
                    set("patch-strategy", json!("merge"));
                }
            }
            Shape::ListSet => {
                set("list-type", json!("set"));
                set("patch-strategy", json!("merge"));
            }
            Shape::ListAtomic(_) => set("list-type", json!("atomic")),
            Shape::MapAtomic => set("map-type", json!("atomic")),
            Shape::Struct(_) | Shape::MapGranular(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            table_name("io.k8s.api.core.v1.PodSpec").as_deref(),
            Some("api::core::v1::PodSpec")
        );
        assert_eq!(
            table_name("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps")
                .as_deref(),
            Some("apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps")
        );
        assert_eq!(
            custom_name("stable.example.com", "v1", "CronTab"),
            "com.example.stable.v1.CronTab"
        );
    }
}
