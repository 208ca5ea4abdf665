//! Custom resources: a [`Kind`] built at run time from a
//! CustomResourceDefinition, validated, pruned and defaulted by the
//! definition's structural schema, with its printer columns, status and
//! scale subresources, served in every version the definition serves
//! (conversion strategy `None`: only `apiVersion` changes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::crd::Structural;
use crate::meta::validate_object_meta;
use crate::registry::{
    Conversion, Kind, NameRule, Operation, Registry, Resource, ResourceInfo, ScaleSpec, Scope,
    Served,
};
use crate::status::Status;
use crate::table::{AGE_DESCRIPTION, Column, NAME};
use crate::validation::Errors;

/// Strings that live as long as the process: the registry's static
/// descriptions are `&'static str`, and custom kinds come and go at run
/// time. Each distinct string is kept once, so the memory is bounded by
/// the distinct names ever defined.
fn intern(s: &str) -> &'static str {
    static STRINGS: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut set = STRINGS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = set.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn intern_list(items: &[String]) -> &'static [&'static str] {
    static LISTS: OnceLock<Mutex<HashMap<Vec<String>, &'static [&'static str]>>> = OnceLock::new();
    let mut map = LISTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = map.get(items) {
        return found;
    }
    let leaked: &'static [&'static str] = Box::leak(
        items
            .iter()
            .map(|s| intern(s))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    map.insert(items.to_vec(), leaked);
    leaked
}

fn intern_columns(columns: Vec<Column>) -> &'static [Column] {
    static COLUMNS: OnceLock<Mutex<HashMap<String, &'static [Column]>>> = OnceLock::new();
    let key = serde_json::to_string(&columns).unwrap_or_default();
    let mut map = COLUMNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = map.get(&key) {
        return found;
    }
    let leaked: &'static [Column] = Box::leak(columns.into_boxed_slice());
    map.insert(key, leaked);
    leaked
}

/// `.spec.replicas` → `/spec/replicas`.
fn pointer(json_path: &str) -> &'static str {
    intern(&json_path.replace('.', "/"))
}

struct Version {
    name: String,
    schema: Option<Structural>,
    preserve_unknown: bool,
    columns: &'static [Column],
    /// JSONPath and type of each column after Name.
    paths: Vec<(String, String)>,
}

/// A kind defined by a CustomResourceDefinition.
pub struct CustomKind {
    info: ResourceInfo,
    storage: Version,
    /// Each served version's `openAPIV3Schema`, as published in
    /// `/openapi/v3` (`None`: the version has no schema).
    openapi: HashMap<String, Option<Value>>,
}

/// Kubernetes' version order: GA before beta before alpha, higher
/// numbers first (`v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other`).
pub fn version_priority(v: &str) -> (u8, u32, u32, String) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0, v.to_owned());
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u32>() else {
        return (0, 0, 0, v.to_owned());
    };
    let tail = &rest[digits.len()..];
    let level = |prefix: &str| {
        tail.strip_prefix(prefix)
            .and_then(|n| n.parse::<u32>().ok())
    };
    if tail.is_empty() {
        (3, major, 0, String::new())
    } else if let Some(n) = level("beta") {
        (2, major, n, String::new())
    } else if let Some(n) = level("alpha") {
        (1, major, n, String::new())
    } else {
        (0, 0, 0, v.to_owned())
    }
}

fn version_def(v: &CustomResourceDefinitionVersion) -> Result<Version, String> {
    let props = v
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    // Stored definitions were checked when written; build them as they
    // are, so a stricter check later never stops serving one.
    let schema = props.map(Structural::from_schema_unchecked);
    let preserve_unknown =
        props.is_none_or(|p| p.x_kubernetes_preserve_unknown_fields == Some(true));
    let mut columns = vec![NAME];
    let mut paths = Vec::new();
    let printer = v.additional_printer_columns.as_deref().unwrap_or_default();
    if printer.is_empty() {
        columns.push(Column {
            name: "Age",
            type_: "date",
            format: "",
            description: AGE_DESCRIPTION,
            priority: 0,
        });
        paths.push((".metadata.creationTimestamp".to_owned(), "date".to_owned()));
    }
    for c in printer {
        columns.push(Column {
            name: intern(&c.name),
            type_: intern(&c.type_),
            format: intern(c.format.as_deref().unwrap_or("")),
            description: intern(c.description.as_deref().unwrap_or("")),
            priority: c.priority.unwrap_or(0),
        });
        paths.push((c.json_path.clone(), c.type_.clone()));
    }
    Ok(Version {
        name: v.name.clone(),
        schema,
        preserve_unknown,
        columns: intern_columns(columns),
        paths,
    })
}

/// `apiVersion` conversion between served versions (strategy `None`).
struct NoneConversion {
    storage: String,
    served: String,
}

impl Conversion for NoneConversion {
    fn to_storage(&self, mut obj: Value) -> Result<Value, Status> {
        obj["apiVersion"] = Value::from(self.storage.clone());
        Ok(obj)
    }
    fn to_served(&self, mut obj: Value) -> Value {
        obj["apiVersion"] = Value::from(self.served.clone());
        obj
    }
}

impl CustomKind {
    /// The resource a definition describes and every version it serves.
    pub fn from_crd(
        crd: &CustomResourceDefinition,
    ) -> Result<(Arc<Resource>, Vec<Served>), String> {
        let spec = &crd.spec;
        let storage = spec
            .versions
            .iter()
            .find(|v| v.storage)
            .ok_or("no storage version")?;
        let names = &spec.names;
        let subresources = storage.subresources.as_ref();
        let scale = subresources
            .and_then(|s| s.scale.as_ref())
            .map(|s| ScaleSpec {
                spec_replicas: pointer(&s.spec_replicas_path),
                status_replicas: pointer(&s.status_replicas_path),
                selector: pointer(
                    s.label_selector_path
                        .as_deref()
                        .unwrap_or(".status.selector"),
                ),
            });
        let info = ResourceInfo {
            scope: if spec.scope == "Cluster" {
                Scope::Cluster
            } else {
                Scope::Namespaced
            },
            short_names: intern_list(names.short_names.as_deref().unwrap_or_default()),
            categories: intern_list(names.categories.as_deref().unwrap_or_default()),
            status: subresources.is_some_and(|s| s.status.is_some()),
            scale,
            generation: true,
            name_rule: NameRule::Subdomain,
            ..ResourceInfo::new(
                intern(&spec.group),
                intern(&storage.name),
                intern(&names.kind),
                intern(&names.plural),
                intern(
                    names
                        .singular
                        .as_deref()
                        .unwrap_or(&names.kind.to_lowercase()),
                ),
            )
        };
        let openapi = spec
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| {
                let schema = v
                    .schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref())
                    .and_then(|s| serde_json::to_value(s).ok());
                (v.name.clone(), schema)
            })
            .collect();
        let kind = CustomKind {
            info,
            storage: version_def(storage)?,
            openapi,
        };
        let resource = Arc::new(Resource {
            kind: Box::new(kind),
        });
        let storage_api_version = format!("{}/{}", spec.group, storage.name);
        let mut served_versions: Vec<&CustomResourceDefinitionVersion> =
            spec.versions.iter().filter(|v| v.served).collect();
        served_versions.sort_by_key(|v| std::cmp::Reverse(version_priority(&v.name)));
        let served = served_versions
            .into_iter()
            .map(|v| Served {
                group: info.group,
                version: intern(&v.name),
                kind: info.kind,
                resource: resource.clone(),
                conversion: (!v.storage).then(|| {
                    Arc::new(NoneConversion {
                        storage: storage_api_version.clone(),
                        served: format!("{}/{}", spec.group, v.name),
                    }) as Arc<dyn Conversion>
                }),
            })
            .collect();
        Ok((resource, served))
    }

    /// Serve a definition in `registry` (replacing an earlier definition of
    /// the same resource).
    pub fn register(
        registry: &mut Registry,
        crd: &CustomResourceDefinition,
    ) -> Result<Arc<Resource>, String> {
        let (resource, served) = CustomKind::from_crd(crd)?;
        registry.remove(resource.info().group, resource.info().plural);
        registry.add_resource(resource.clone());
        for s in served {
            registry.serve(s);
        }
        Ok(resource)
    }
}

impl Kind for CustomKind {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }

    /// The version's schema, with `apiVersion`, `kind` and `metadata` as
    /// upstream publishes them for custom resources.
    fn openapi_schema(
        &self,
        group: &str,
        version: &str,
        generator: &mut k8s_openapi::schemars::SchemaGenerator,
    ) -> Option<k8s_openapi::schemars::Schema> {
        if group != self.info.group {
            return None;
        }
        let mut schema = match self.openapi.get(version)? {
            Some(s) => s.clone(),
            None => {
                serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
            }
        };
        let obj = schema.as_object_mut()?;
        let props = obj
            .entry("properties")
            .or_insert_with(|| Value::Object(Default::default()));
        let props = props.as_object_mut()?;
        props.insert(
            "apiVersion".into(),
            serde_json::json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}),
        );
        props.insert(
            "kind".into(),
            serde_json::json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}),
        );
        let meta = generator.subschema_for::<ObjectMeta>();
        props.insert(
            "metadata".into(),
            serde_json::json!({"allOf": [serde_json::to_value(meta).ok()?], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
        );
        k8s_openapi::schemars::Schema::try_from(schema).ok()
    }

    fn admit(&self, mut obj: Value, _op: Operation<'_>) -> Result<Value, Status> {
        let info = &self.info;
        let raw_meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
        let meta: ObjectMeta = serde_json::from_value(raw_meta).map_err(|e| {
            Status::bad_request(format!(
                "{kind} in version \"{v}\" cannot be handled as a {kind}: metadata: {e}",
                kind = info.kind,
                v = info.version
            ))
        })?;
        let mut errs = Errors::default();
        validate_object_meta(&meta, info, &mut errs);
        obj["metadata"] = serde_json::to_value(&meta).map_err(Status::internal)?;
        if let Some(schema) = &self.storage.schema {
            if !self.storage.preserve_unknown {
                schema.prune(&mut obj);
            }
            schema.apply_defaults(&mut obj);
            schema.validate(&obj, &mut errs);
        }
        if !obj.is_object() {
            return Err(Status::bad_request(
                "a custom resource must be a JSON object",
            ));
        }
        if !errs.is_empty() {
            return Err(Status::invalid(
                info.group,
                info.kind,
                meta.name.as_deref().unwrap_or(""),
                &errs.0,
            ));
        }
        // Unlike built-in kinds (whose status is a Go struct, `{}` when
        // empty), a custom resource has no status until one is written.
        Ok(obj)
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        match &self.storage.schema {
            Some(schema) if !self.storage.preserve_unknown => schema.prune(&mut obj.clone()),
            _ => Vec::new(),
        }
    }

    fn columns(&self) -> &'static [Column] {
        self.storage.columns
    }

    fn cells(&self, obj: &Value, now: Timestamp) -> Result<Vec<Value>, Status> {
        let mut cells = vec![obj["metadata"]["name"].clone()];
        for (path, type_) in &self.storage.paths {
            cells.push(crate::crd::jsonpath::cell_at(path, type_, obj, now));
        }
        Ok(cells)
    }
}

impl CustomKind {
    /// The storage version's name.
    pub fn storage_version(&self) -> &str {
        &self.storage.name
    }
}

#[cfg(test)]
mod tests {
    use super::version_priority;

    #[test]
    fn versions_sort_as_kubernetes_sorts_them() {
        let mut v = vec![
            "v1alpha1", "v1", "v2beta1", "v1beta2", "v2", "foo", "v1beta1",
        ];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(
            v,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }
}
