//! The schema tree every algorithm walks: one [`Node`] per schema, built
//! once from a `JSONSchemaProps`. It holds the structural part (type,
//! properties, items, additionalProperties, the `x-kubernetes-*`
//! extensions, defaults) used by pruning, defaulting and merging, and the
//! value validations (including `allOf`/`anyOf`/`oneOf`/`not` sub-schemas)
//! used by validation.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use regex::Regex;
use serde_json::Value;

use super::MAX_DEPTH;
use super::pattern;

/// `additionalProperties`: a boolean or a schema for the values.
#[derive(Clone, Debug)]
pub struct Additional {
    /// `false` only for `additionalProperties: false`.
    pub allows: bool,
    /// The values' schema.
    pub schema: Option<Box<Node>>,
}

/// A compiled `pattern`.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    /// As written in the schema (and in messages).
    pub(crate) source: String,
    /// `None` if it does not compile (the CRD is then rejected).
    pub(crate) regex: Option<Regex>,
}

/// One schema of a custom resource's structural schema.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub(crate) type_: String,
    pub(crate) nullable: bool,
    /// The format as validated: upstream (v1.32) ignores formats it does not
    /// support (`int32`, `int64`, `float`, `double` among them).
    pub(crate) format: Option<String>,
    pub(crate) default: Option<Value>,
    pub(crate) enum_: Vec<Value>,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_maximum: bool,
    pub(crate) minimum: Option<f64>,
    pub(crate) exclusive_minimum: bool,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) max_length: Option<i64>,
    pub(crate) min_length: Option<i64>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) max_items: Option<i64>,
    pub(crate) min_items: Option<i64>,
    pub(crate) unique_items: bool,
    pub(crate) max_properties: Option<i64>,
    pub(crate) min_properties: Option<i64>,
    pub(crate) required: Vec<String>,
    pub(crate) properties: BTreeMap<String, Node>,
    pub(crate) additional: Option<Additional>,
    pub(crate) items: Option<Box<Node>>,
    pub(crate) all_of: Vec<Node>,
    pub(crate) any_of: Vec<Node>,
    pub(crate) one_of: Vec<Node>,
    pub(crate) not: Option<Box<Node>>,
    pub(crate) preserve_unknown: bool,
    pub(crate) embedded: bool,
    pub(crate) int_or_string: bool,
    pub(crate) list_type: Option<String>,
    pub(crate) list_map_keys: Vec<String>,
    pub(crate) map_type: Option<String>,
}

/// String formats upstream validates in custom resources (v1.32), by their
/// name without dashes.
const SUPPORTED_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
    "quantity",
];

/// The format name as the format registry knows it (`date-time` →
/// `datetime`), if upstream validates it.
pub(crate) fn normalized_format(format: &str) -> Option<String> {
    let n = format.replace('-', "");
    SUPPORTED_FORMATS.contains(&n.as_str()).then_some(n)
}

impl Node {
    /// Build the tree of a schema, leniently: whatever upstream would
    /// reject is ignored here (the structural checks report it). Nesting
    /// deeper than [`MAX_DEPTH`] is cut off.
    pub(crate) fn build(p: &JSONSchemaProps) -> Node {
        Node::build_at(p, 0)
    }

    fn build_at(p: &JSONSchemaProps, depth: usize) -> Node {
        if depth > MAX_DEPTH {
            return Node::default();
        }
        let sub = |s: &JSONSchemaProps| Node::build_at(s, depth + 1);
        let list = |v: &Option<Vec<JSONSchemaProps>>| -> Vec<Node> {
            v.iter().flatten().map(sub).collect()
        };
        let format = p
            .format
            .as_deref()
            .filter(|f| normalized_format(f).is_some())
            .map(str::to_owned);
        Node {
            type_: p.type_.clone().unwrap_or_default(),
            nullable: p.nullable == Some(true),
            format,
            default: p
                .default
                .as_ref()
                .map(|d| d.0.clone())
                .filter(|d| !d.is_null()),
            enum_: p.enum_.iter().flatten().map(|e| e.0.clone()).collect(),
            maximum: p.maximum,
            exclusive_maximum: p.exclusive_maximum == Some(true),
            minimum: p.minimum,
            exclusive_minimum: p.exclusive_minimum == Some(true),
            multiple_of: p.multiple_of,
            max_length: p.max_length,
            min_length: p.min_length,
            pattern: p
                .pattern
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Pattern {
                    source: s.to_owned(),
                    regex: pattern::compile(s).ok(),
                }),
            max_items: p.max_items,
            min_items: p.min_items,
            unique_items: p.unique_items == Some(true),
            max_properties: p.max_properties,
            min_properties: p.min_properties,
            required: p.required.clone().unwrap_or_default(),
            properties: p
                .properties
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), sub(v)))
                .collect(),
            additional: p.additional_properties.as_ref().map(|a| match a {
                JSONSchemaPropsOrBool::Bool(b) => Additional {
                    allows: *b,
                    schema: None,
                },
                JSONSchemaPropsOrBool::Schema(s) => Additional {
                    allows: true,
                    schema: Some(Box::new(sub(s))),
                },
            }),
            items: match &p.items {
                Some(JSONSchemaPropsOrArray::Schema(s)) => Some(Box::new(sub(s))),
                _ => None,
            },
            all_of: list(&p.all_of),
            any_of: list(&p.any_of),
            one_of: list(&p.one_of),
            not: p.not.as_deref().map(|s| Box::new(sub(s))),
            preserve_unknown: p.x_kubernetes_preserve_unknown_fields == Some(true),
            embedded: p.x_kubernetes_embedded_resource == Some(true),
            int_or_string: p.x_kubernetes_int_or_string == Some(true),
            list_type: p.x_kubernetes_list_type.clone(),
            list_map_keys: p.x_kubernetes_list_map_keys.clone().unwrap_or_default(),
            map_type: p.x_kubernetes_map_type.clone(),
        }
    }

    /// The OpenAPI types values are checked against: `[integer, string]`
    /// for `x-kubernetes-int-or-string`.
    pub(crate) fn types(&self) -> Vec<&str> {
        if self.int_or_string {
            vec!["integer", "string"]
        } else if self.type_.is_empty() {
            Vec::new()
        } else {
            vec![self.type_.as_str()]
        }
    }

    /// The schema of a field's value: its property, else the
    /// additionalProperties schema.
    pub(crate) fn schema_for_field(&self, key: &str) -> Option<&Node> {
        self.properties
            .get(key)
            .or_else(|| self.additional.as_ref().and_then(|a| a.schema.as_deref()))
    }

    /// `type`, empty when unspecified.
    pub fn type_name(&self) -> &str {
        &self.type_
    }

    /// `nullable`.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// `default`, unless absent or `null`.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }

    /// `properties`.
    pub fn properties(&self) -> &BTreeMap<String, Node> {
        &self.properties
    }

    /// A property's schema.
    pub fn property(&self, name: &str) -> Option<&Node> {
        self.properties.get(name)
    }

    /// `additionalProperties`.
    pub fn additional_properties(&self) -> Option<&Additional> {
        self.additional.as_ref()
    }

    /// The schema of `items`.
    pub fn items(&self) -> Option<&Node> {
        self.items.as_deref()
    }

    /// `x-kubernetes-preserve-unknown-fields: true`.
    pub fn preserves_unknown_fields(&self) -> bool {
        self.preserve_unknown
    }

    /// `x-kubernetes-embedded-resource: true`.
    pub fn is_embedded_resource(&self) -> bool {
        self.embedded
    }

    /// `x-kubernetes-int-or-string: true`.
    pub fn is_int_or_string(&self) -> bool {
        self.int_or_string
    }

    /// `x-kubernetes-list-type`, if set.
    pub fn list_type(&self) -> Option<&str> {
        self.list_type.as_deref()
    }

    /// `x-kubernetes-list-map-keys`.
    pub fn list_map_keys(&self) -> &[String] {
        &self.list_map_keys
    }

    /// `x-kubernetes-map-type`, if set.
    pub fn map_type(&self) -> Option<&str> {
        self.map_type.as_deref()
    }
}
