//! How the fields of a custom resource merge, for strategic merge and
//! server-side apply code: the counterpart of `patch::schema`'s
//! [`TypeDef`](crate::patch::schema::TypeDef) and
//! [`Shape`](crate::patch::schema::Shape), with schema [`Node`]s in place
//! of static type names.
//!
//! As upstream derives a custom resource's merge shape from its structural
//! schema: objects with `properties` are structs, objects with
//! `additionalProperties` are maps, `x-kubernetes-map-type: atomic`
//! objects are replaced whole, arrays are atomic unless
//! `x-kubernetes-list-type` is `set` or `map` (keyed by
//! `x-kubernetes-list-map-keys`), and the contents of
//! `x-kubernetes-preserve-unknown-fields` objects are untyped (their shape
//! is deduced from the value: objects merge key by key, lists are atomic).

use super::schema::Node;

/// How a non-scalar field merges. Scalars (strings, numbers, booleans,
/// int-or-string) have no shape: they are replaced.
#[derive(Clone, Copy, Debug)]
pub enum Shape<'a> {
    /// An object with the given fields' schemas (merged field by field).
    Struct(&'a Node),
    /// A list replaced as a whole; the items' schema if they are not
    /// scalars.
    ListAtomic(Option<&'a Node>),
    /// A list of objects identified by key fields (JSON names, in order),
    /// with the items' schema.
    ListMap(&'a [String], &'a Node),
    /// A list of scalars merged as a set.
    ListSet,
    /// An object replaced as a whole (`x-kubernetes-map-type: atomic`).
    MapAtomic,
    /// A map merged key by key; the values' schema if they are not
    /// scalars.
    MapGranular(Option<&'a Node>),
    /// No schema: under `x-kubernetes-preserve-unknown-fields`, or the
    /// values of `additionalProperties: true`. Deduce from the value.
    Untyped,
}

fn non_scalar(n: &Node) -> Option<&Node> {
    n.shape().map(|_| n)
}

impl Node {
    /// The shape of a value of this schema; `None` for scalars.
    pub fn shape(&self) -> Option<Shape<'_>> {
        if self.int_or_string {
            return None;
        }
        match self.type_.as_str() {
            "object" => Some(if self.map_type.as_deref() == Some("atomic") {
                Shape::MapAtomic
            } else if let Some(a) = self
                .additional
                .as_ref()
                .filter(|_| self.properties.is_empty())
            {
                match &a.schema {
                    Some(values) => Shape::MapGranular(non_scalar(values)),
                    None if a.allows => Shape::Untyped,
                    None => Shape::Struct(self),
                }
            } else if self.properties.is_empty() && self.preserve_unknown && !self.embedded {
                Shape::Untyped
            } else {
                Shape::Struct(self)
            }),
            "array" => Some(match (self.list_type.as_deref(), self.items.as_deref()) {
                (Some("set"), _) => Shape::ListSet,
                (Some("map"), Some(items)) if !self.list_map_keys.is_empty() => {
                    Shape::ListMap(&self.list_map_keys, items)
                }
                (_, items) => Shape::ListAtomic(items.and_then(non_scalar)),
            }),
            "" if self.preserve_unknown => Some(Shape::Untyped),
            _ => None,
        }
    }

    /// The shape of a field of an object of this schema (by JSON name);
    /// `None` if it is a scalar. Unknown fields of a
    /// `x-kubernetes-preserve-unknown-fields` object are
    /// [`Shape::Untyped`]; other unknown fields are `None` (pruning drops
    /// them).
    pub fn field(&self, json: &str) -> Option<Shape<'_>> {
        if let Some(prop) = self.properties.get(json) {
            return prop.shape();
        }
        match &self.additional {
            Some(a) => match &a.schema {
                Some(values) => values.shape(),
                None if a.allows => Some(Shape::Untyped),
                None => None,
            },
            None if self.preserve_unknown => Some(Shape::Untyped),
            None => None,
        }
    }

    /// The schema of a field's value (a property, else the
    /// additionalProperties schema).
    pub fn field_schema(&self, json: &str) -> Option<&Node> {
        self.schema_for_field(json)
    }

    /// The schema at a path of field names below this one. Lists are
    /// stepped through implicitly: in `["spec", "ports", "name"]`, `name`
    /// is looked up in the items of `ports`.
    pub fn node_at(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for name in path {
            while node.type_ == "array" {
                node = node.items.as_deref()?;
            }
            node = node.schema_for_field(name)?;
        }
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;
    use crate::crd::Structural;
    use crate::validation::Path;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use serde_json::json;

    #[test]
    fn shapes_follow_the_extensions() {
        let props: JSONSchemaProps = serde_json::from_value(json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "ports": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                    "items": {"type": "object", "required": ["port", "protocol"], "properties": {
                        "port": {"type": "integer"}, "protocol": {"type": "string"}}}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                    "properties": {"a": {"type": "string"}}},
                "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true},
                "replicas": {"type": "integer"},
            }}}}))
        .unwrap();
        let s = Structural::from_schema(&props, &Path::new("x")).unwrap();
        let Some(Shape::Struct(spec)) = s.root().field("spec") else {
            panic!("spec")
        };
        let Some(Shape::ListMap(keys, item)) = spec.field("ports") else {
            panic!("ports")
        };
        assert_eq!(keys, ["port", "protocol"]);
        assert!(item.field("port").is_none());
        assert!(matches!(spec.field("tags"), Some(Shape::ListSet)));
        assert!(matches!(spec.field("args"), Some(Shape::ListAtomic(None))));
        assert!(matches!(
            spec.field("labels"),
            Some(Shape::MapGranular(None))
        ));
        assert!(matches!(spec.field("selector"), Some(Shape::MapAtomic)));
        let Some(Shape::Untyped) = spec.field("raw") else {
            panic!("raw")
        };
        assert!(spec.field("port").is_none());
        assert!(spec.field("replicas").is_none());
        assert!(spec.field("unknown").is_none());
        assert_eq!(
            s.root()
                .node_at(&["spec", "ports", "protocol"])
                .map(|n| n.type_name()),
            Some("string")
        );
        assert!(matches!(
            s.shape_at(&["spec", "tags"]),
            Some(Shape::ListSet)
        ));
    }
}
