//! Structural schemas of custom resources, as apiextensions-apiserver
//! (Kubernetes v1.32) implements them: no IO, pure functions of a CRD
//! version's `schema.openAPIV3Schema` and of objects.
//!
//! - [`Structural::from_schema`]: the checks a CRD's schema must pass
//!   (structural, defaults valid and pruned, supported keywords,
//!   `x-kubernetes-*` consistency), with upstream's paths and messages;
//! - [`Structural::prune`]: drop fields the schema does not specify
//!   (and non-nullable nulls without a default), returning their paths;
//! - [`Structural::apply_defaults`]: set `default` values;
//! - [`Structural::validate`]: kube-openapi's value validation, embedded
//!   resources and list-type uniqueness, with the messages `kubectl`
//!   shows;
//! - [`Node::field`] / [`Shape`]: how each field merges, for server-side
//!   apply (the counterpart of `patch::schema` for built-in kinds);
//! - [`jsonpath`]: printer-column JSONPath and Table cells.
//!
//! A custom resource goes through them as upstream's handler does:
//! prune (unless the root preserves unknown fields), default, validate.
//! CEL (`x-kubernetes-validations`) is not evaluated; validation ratcheting
//! of unchanged fields on update is not applied.

mod formats;
mod gofmt;
pub mod jsonpath;
mod pattern;
mod prune;
mod schema;
mod shape;
mod structural;
mod validate;

#[cfg(test)]
mod proptests;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

use crate::validation::{Errors, FieldError, Path};

pub use schema::{Additional, Node};
pub use shape::Shape;

/// How deep schemas may nest (deeper ones are rejected), and how deep the
/// algorithms follow them.
pub const MAX_DEPTH: usize = 100;

/// A CRD version's structural schema, ready to prune, default and validate
/// custom resources.
#[derive(Clone, Debug)]
pub struct Structural {
    root: Node,
}

impl Structural {
    /// Check `props` as upstream checks a v1 CRD version's
    /// `openAPIV3Schema` on create, reporting under `base` (e.g.
    /// `spec.versions[0].schema.openAPIV3Schema`), and build the schema.
    pub fn from_schema(
        props: &JSONSchemaProps,
        base: &Path,
    ) -> Result<Structural, Vec<FieldError>> {
        let root = Node::build(props);
        let errs = structural::check(props, base, &root);
        if errs.is_empty() {
            Ok(Structural { root })
        } else {
            Err(errs)
        }
    }

    /// Build the schema without checking it (for schemas stored before,
    /// or known to be valid). Nesting beyond [`MAX_DEPTH`] is cut off.
    pub fn from_schema_unchecked(props: &JSONSchemaProps) -> Structural {
        Structural {
            root: Node::build(props),
        }
    }

    /// With the status subresource enabled, upstream also restricts the
    /// root schema to `description`, `type: object`, `format`, `title`,
    /// the numeric, string and array bounds, `required`, `items`,
    /// `properties`, `externalDocs`, `example`,
    /// `x-kubernetes-preserve-unknown-fields` and
    /// `x-kubernetes-validations`. `base` as in [`Structural::from_schema`].
    pub fn validate_root_for_status(props: &JSONSchemaProps, base: &Path) -> Vec<FieldError> {
        structural::root_for_status(props, base)
    }

    /// The root schema.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Whether the root has `x-kubernetes-preserve-unknown-fields: true`
    /// (nothing is pruned at the root then).
    pub fn preserves_unknown_fields(&self) -> bool {
        self.root.preserve_unknown
    }

    /// Validate a custom resource (after pruning and defaulting): the
    /// OpenAPI schema, embedded resources' `apiVersion`, `kind` and
    /// `metadata`, and uniqueness in `set` and `map` lists. The root's
    /// metadata is the caller's to validate.
    pub fn validate(&self, obj: &Value, errs: &mut Errors) {
        errs.0
            .extend(validate::openapi(&self.root, obj, &Path::new("")));
        validate::embedded(&self.root, obj, &Path::new(""), false, &mut errs.0);
        validate::list_types(&self.root, obj, &mut errs.0);
    }

    /// Prune a custom resource as upstream does on decoding: drop the
    /// fields the schema does not specify (keeping `apiVersion`, `kind`
    /// and `metadata` at the root and in embedded resources, and whatever
    /// is under `x-kubernetes-preserve-unknown-fields`), then the `null`s
    /// of fields neither nullable nor defaulted. Returns the dropped
    /// fields' paths (`spec.foo`, `spec.items[0].bar`), as upstream
    /// reports unknown fields.
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        let pruned = self.prune_unknown_fields(obj);
        self.prune_nulls(obj);
        pruned
    }

    /// Only the first half of [`Structural::prune`]: drop unspecified
    /// fields, returning their paths.
    pub fn prune_unknown_fields(&self, obj: &mut Value) -> Vec<String> {
        prune::prune(obj, &self.root, true)
    }

    /// Only the second half of [`Structural::prune`]: drop `null`s of
    /// fields neither nullable nor defaulted.
    pub fn prune_nulls(&self, obj: &mut Value) {
        prune::prune_nulls(obj, Some(&self.root), 0);
    }

    /// Set the `default` of every absent field (and of `null`s of
    /// non-nullable fields), recursively, including in list items and
    /// map values.
    pub fn apply_defaults(&self, obj: &mut Value) {
        prune::apply_defaults(obj, &self.root, 0);
    }

    /// The merge shape at a path of field names from the root (lists are
    /// stepped through implicitly, see [`Node::node_at`]); `None` for
    /// scalars and unknown fields.
    pub fn shape_at(&self, path: &[&str]) -> Option<Shape<'_>> {
        self.root.node_at(path)?.shape()
    }
}
