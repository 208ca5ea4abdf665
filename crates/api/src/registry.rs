//! The registry of kinds: what the server serves, declared once per kind.
//!
//! Each built-in kind is one [`Strategy`]: a type from `k8s-openapi`, a
//! [`ResourceInfo`] (names, scope, subresources, selectable fields) and a
//! handful of hooks with upstream's meaning (defaults, prepare for create /
//! update, validate, table columns). [`TypedKind`] turns a strategy into
//! the object-safe [`Kind`] the server works with, on JSON values; custom
//! resources (a later issue) implement [`Kind`] from a schema instead.
//!
//! A kind is stored in one version (its *storage version*) and may be
//! served in several, across groups even (core/v1 and events.k8s.io/v1
//! Events share one storage): each [`Served`] entry names a group-version
//! and, when it differs from the storage one, the [`Conversion`] between
//! them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::validate_object_meta;
use crate::status::Status;
use crate::table::{Column, DEFAULT_COLUMNS, default_cells};
use crate::validation::Errors;

/// Whether objects of a kind live in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// In a namespace.
    Namespaced,
    /// Cluster-wide.
    Cluster,
}

/// Which syntax object names of a kind must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (Namespaces).
    Label,
    /// DNS-1035 label (Services).
    Dns1035,
    /// Anything that is a valid URL path segment (RBAC kinds).
    PathSegment,
}

/// Where the scale subresource finds replicas and the selector.
#[derive(Clone, Copy, Debug)]
pub struct ScaleSpec {
    /// JSON pointer to the desired replica count.
    pub spec_replicas: &'static str,
    /// JSON pointer to the observed replica count.
    pub status_replicas: &'static str,
    /// JSON pointer to the selector (a LabelSelector, or a plain label map
    /// for ReplicationControllers).
    pub selector: &'static str,
}

/// A field usable in field selectors, and where its value is.
#[derive(Clone, Copy, Debug)]
pub struct SelectableField {
    /// The field label, e.g. `spec.nodeName`.
    pub label: &'static str,
    /// JSON pointer into the object.
    pub pointer: &'static str,
    /// The value when the field is absent.
    pub default: &'static str,
}

/// Shorthand for a [`SelectableField`] whose absence reads as `""`.
pub const fn field(label: &'static str, pointer: &'static str) -> SelectableField {
    SelectableField {
        label,
        pointer,
        default: "",
    }
}

/// A subresource other than `status` and `scale` (which [`ResourceInfo`]
/// flags directly), for discovery.
#[derive(Clone, Copy, Debug)]
pub struct Subresource {
    /// e.g. `binding`, `eviction`, `log`.
    pub name: &'static str,
    /// Group of the kind it takes and returns.
    pub group: &'static str,
    /// Version of that kind.
    pub version: &'static str,
    /// That kind.
    pub kind: &'static str,
    /// Verbs it supports.
    pub verbs: &'static [&'static str],
}

/// The static description of a kind.
#[derive(Clone, Copy, Debug)]
pub struct ResourceInfo {
    /// API group (`""` for core).
    pub group: &'static str,
    /// The storage version.
    pub version: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Resource (plural), e.g. `deployments`.
    pub plural: &'static str,
    /// Singular, e.g. `deployment`.
    pub singular: &'static str,
    /// Namespaced or cluster-wide.
    pub scope: Scope,
    /// Short names for kubectl (`deploy`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Whether `/status` exists (and the main resource ignores status).
    pub status: bool,
    /// Whether a create may set status (Nodes register with theirs);
    /// otherwise a new object's status is cleared.
    pub status_on_create: bool,
    /// The scale subresource, if any.
    pub scale: Option<ScaleSpec>,
    /// Whether `metadata.generation` tracks spec changes.
    pub generation: bool,
    /// The syntax of names.
    pub name_rule: NameRule,
    /// Fields usable in field selectors besides `metadata.name` and
    /// `metadata.namespace`.
    pub fields: &'static [SelectableField],
    /// Further subresources, for discovery.
    pub subresources: &'static [Subresource],
}

impl ResourceInfo {
    /// A starting point for `const` declarations: a namespaced kind of the
    /// core group with every field at its most common value.
    pub const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
        singular: &'static str,
    ) -> ResourceInfo {
        ResourceInfo {
            group,
            version,
            kind,
            plural,
            singular,
            scope: Scope::Namespaced,
            short_names: &[],
            categories: &[],
            status: false,
            status_on_create: false,
            scale: None,
            generation: false,
            name_rule: NameRule::Subdomain,
            fields: &[],
            subresources: &[],
        }
    }

    /// Whether objects live in namespaces.
    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// `apiVersion` of the storage version.
    pub fn api_version(&self) -> String {
        api_version(self.group, self.version)
    }

    /// Key prefix of every object of this kind in the store.
    pub fn key_prefix(&self) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        format!("/registry/{group}/{}/", self.plural)
    }

    /// The store key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace.filter(|_| self.namespaced()) {
            Some(ns) => format!("{}{ns}/{name}", self.key_prefix()),
            None => format!("{}{name}", self.key_prefix()),
        }
    }
}

/// `apiVersion` for a group and version: `v1` or `apps/v1`.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// A kind's behaviour, typed: the per-kind code of the server. Every hook
/// has a do-nothing default; a kind implements only what upstream's
/// strategy for it does.
pub trait Strategy: Send + Sync + 'static {
    /// The API type (from k8s-openapi), at the storage version.
    type Object: k8s_openapi::Metadata<Ty = ObjectMeta>
        + Serialize
        + DeserializeOwned
        + JsonSchema
        + Clone
        + Send
        + Sync;

    /// Names, scope, subresources, selectable fields.
    const INFO: ResourceInfo;

    /// Fill in defaults, as upstream's `SetDefaults_*` (on create and on
    /// every update).
    fn default(_obj: &mut Self::Object) {}

    /// Set what the server owns on a new object (e.g. a pod's phase).
    /// Status has already been cleared if the kind has a status subresource.
    fn prepare_create(_obj: &mut Self::Object) {}

    /// Adjust an update beyond the generic status split.
    fn prepare_update(_new: &mut Self::Object, _old: &Self::Object) {}

    /// Validate an object (on update, and on create unless
    /// [`validate_create`](Strategy::validate_create) says otherwise).
    fn validate(_obj: &Self::Object, _errs: &mut Errors) {}

    /// Validate a new object: by default as [`validate`](Strategy::validate);
    /// kinds with create-only checks add them here.
    fn validate_create(obj: &Self::Object, errs: &mut Errors) {
        Self::validate(obj, errs)
    }

    /// Validate what an update changes (immutable fields).
    fn validate_update(_new: &Self::Object, _old: &Self::Object, _errs: &mut Errors) {}

    /// The table columns `kubectl get` shows.
    fn columns() -> &'static [Column] {
        DEFAULT_COLUMNS
    }

    /// One table row; `now` is for ages.
    fn cells(obj: &Self::Object, _now: Timestamp) -> Vec<Value> {
        default_cells(k8s_openapi::Metadata::metadata(obj))
    }
}

/// Which operation an admission is for.
pub enum Operation<'a> {
    /// A new object.
    Create,
    /// A change to `old` through the object itself.
    Update(&'a Value),
    /// A change to `old` through a subresource (`/status`, `/finalize`):
    /// the server already merged what the subresource may change, so the
    /// kind's `prepare_update` (which guards the main resource) is skipped.
    UpdateSubresource(&'a Value),
    /// A pod bound to a node (`pods/binding`): written as the binding made
    /// it, with only its metadata checked, as upstream's binding storage
    /// writes it (no defaulting, no validation of the rest, which was
    /// admitted when it was written).
    Bind,
}

/// A kind as the generic server code sees it: JSON in, JSON out.
pub trait Kind: Send + Sync {
    /// The static description.
    fn info(&self) -> &ResourceInfo;

    /// Default, prepare and validate an object about to be stored; returns
    /// it normalized (unknown fields dropped, defaults filled in).
    fn admit(&self, obj: Value, op: Operation<'_>) -> Result<Value, Status>;

    /// Paths of the fields of `obj` the kind's type does not know
    /// (`spec.containers[0].foo`), for `fieldValidation`.
    fn unknown_fields(&self, obj: &Value) -> Vec<String>;

    /// The table columns.
    fn columns(&self) -> &'static [Column];

    /// The table cells of one stored object.
    fn cells(&self, obj: &Value, now: Timestamp) -> Result<Vec<Value>, Status>;

    /// The OpenAPI schema of the kind as served in `group`/`version`, for
    /// `/openapi/v3`: a `$ref` to a definition registered in `generator`,
    /// or an inline schema. `None` when the kind has no schema in that
    /// version (the OpenAPI module then looks elsewhere).
    fn openapi_schema(
        &self,
        _group: &str,
        _version: &str,
        _generator: &mut SchemaGenerator,
    ) -> Option<Schema> {
        None
    }
}

/// [`Kind`] for a [`Strategy`].
pub struct TypedKind<S: Strategy>(std::marker::PhantomData<S>);

impl<S: Strategy> TypedKind<S> {
    /// The kind of `S`.
    pub fn new() -> Self {
        TypedKind(std::marker::PhantomData)
    }

    fn decode(obj: Value) -> Result<S::Object, Status> {
        serde_json::from_value(obj).map_err(|e| {
            let info = &S::INFO;
            Status::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
                kind = info.kind,
                version = info.version,
            ))
        })
    }

    /// A stored pod with `nodeName`, the `PodScheduled` condition and the
    /// binding's annotations set. Upstream's binding storage writes it as
    /// it is, without the kind's defaulting and validation (the rest of
    /// the object was admitted when it was written); only the metadata,
    /// which may carry new annotations, is checked here.
    fn admit_binding(obj: Value) -> Result<Value, Status> {
        let info = &S::INFO;
        let meta = ObjectMeta::deserialize(&obj["metadata"])
            .map_err(|e| Status::internal(format!("stored object is unreadable: {e}")))?;
        let mut errs = Errors::default();
        validate_object_meta(&meta, info, &mut errs);
        if !errs.is_empty() {
            let name = meta.name.unwrap_or_default();
            return Err(Status::invalid(info.group, info.kind, &name, &errs.0));
        }
        Ok(obj)
    }
}

impl<S: Strategy> Default for TypedKind<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Strategy> Kind for TypedKind<S> {
    fn info(&self) -> &ResourceInfo {
        &S::INFO
    }

    fn admit(&self, obj: Value, op: Operation<'_>) -> Result<Value, Status> {
        let info = &S::INFO;
        if matches!(op, Operation::Bind) {
            return Self::admit_binding(obj);
        }
        let mut typed = Self::decode(obj)?;
        S::default(&mut typed);
        let mut errs = Errors::default();
        let old = match op {
            Operation::Create => {
                S::prepare_create(&mut typed);
                None
            }
            Operation::Bind => unreachable!("bindings are admitted above"),
            Operation::Update(old) | Operation::UpdateSubresource(old) => {
                let old = Self::decode(old.clone()).map_err(|e| {
                    Status::internal(format!("stored object is unreadable: {}", e.message))
                })?;
                if matches!(op, Operation::Update(_)) {
                    S::prepare_update(&mut typed, &old);
                }
                Some(old)
            }
        };
        validate_object_meta(k8s_openapi::Metadata::metadata(&typed), info, &mut errs);
        match &old {
            None => S::validate_create(&typed, &mut errs),
            Some(old) => {
                S::validate(&typed, &mut errs);
                S::validate_update(&typed, old, &mut errs);
            }
        }
        if !errs.is_empty() {
            let name = k8s_openapi::Metadata::metadata(&typed)
                .name
                .clone()
                .unwrap_or_default();
            return Err(Status::invalid(info.group, info.kind, &name, &errs.0));
        }
        let mut value = serde_json::to_value(&typed).map_err(Status::internal)?;
        if let Some(t) = crate::patch::schema::for_kind(info.group, info.version, info.kind) {
            crate::gojson::normalize(&mut value, t);
        }
        // k8s-openapi writes the type's own apiVersion and kind; keep them
        // explicit for types whose serializer does not.
        if let Value::Object(map) = &mut value {
            map.insert("apiVersion".into(), Value::from(info.api_version()));
            map.insert("kind".into(), Value::from(info.kind));
            // Upstream's status is a struct, never absent: `status: {}`.
            if info.status {
                map.entry("status")
                    .or_insert_with(|| Value::Object(Default::default()));
            }
        }
        Ok(value)
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        let mut unknown = Vec::new();
        let _ = serde_ignored::deserialize::<_, _, S::Object>(obj, |path| {
            unknown.push(ignored_path(&path))
        });
        unknown
    }

    fn columns(&self) -> &'static [Column] {
        S::columns()
    }

    fn cells(&self, obj: &Value, now: Timestamp) -> Result<Vec<Value>, Status> {
        let typed = Self::decode(obj.clone())?;
        Ok(S::cells(&typed, now))
    }

    fn openapi_schema(
        &self,
        group: &str,
        version: &str,
        generator: &mut SchemaGenerator,
    ) -> Option<Schema> {
        let info = &S::INFO;
        (info.group == group && info.version == version)
            .then(|| generator.subschema_for::<S::Object>())
    }
}

/// A `serde_ignored` path as upstream prints field paths:
/// `spec.containers[0].foo`.
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let p = ignored_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Conversion between a served version and the storage version.
pub trait Conversion: Send + Sync {
    /// A served-version object to the storage version.
    fn to_storage(&self, obj: Value) -> Result<Value, Status>;
    /// A storage-version object to the served version.
    fn to_served(&self, obj: Value) -> Value;
}

/// One stored kind.
pub struct Resource {
    /// Its behaviour.
    pub kind: Box<dyn Kind>,
}

impl Resource {
    /// The static description.
    pub fn info(&self) -> &ResourceInfo {
        self.kind.info()
    }
}

/// One group-version-resource the server serves.
#[derive(Clone)]
pub struct Served {
    /// The group of the URL.
    pub group: &'static str,
    /// The version of the URL.
    pub version: &'static str,
    /// The kind in that version.
    pub kind: &'static str,
    /// The stored kind behind it.
    pub resource: Arc<Resource>,
    /// How to convert, when this is not the storage version.
    pub conversion: Option<Arc<dyn Conversion>>,
}

impl Served {
    /// The static description of the stored kind.
    pub fn info(&self) -> &ResourceInfo {
        self.resource.info()
    }

    /// The resource (plural).
    pub fn plural(&self) -> &'static str {
        self.info().plural
    }

    /// `apiVersion` in this version.
    pub fn api_version(&self) -> String {
        api_version(self.group, self.version)
    }

    /// An object from the request's version to the storage version.
    pub fn to_storage(&self, obj: Value) -> Result<Value, Status> {
        match &self.conversion {
            Some(c) => c.to_storage(obj),
            None => Ok(obj),
        }
    }

    /// A stored object to the request's version.
    pub fn to_served(&self, obj: Value) -> Value {
        match &self.conversion {
            Some(c) => c.to_served(obj),
            None => obj,
        }
    }

    /// [`Served::to_served`] of a borrowed object: copied only when it
    /// needs converting.
    pub fn to_served_ref<'a>(&self, obj: &'a Value) -> Cow<'a, Value> {
        match &self.conversion {
            Some(c) => Cow::Owned(c.to_served(obj.clone())),
            None => Cow::Borrowed(obj),
        }
    }
}

/// Every kind the server serves, and the group-versions it serves them in.
/// Cheap to clone (kinds are shared): the server swaps in a new registry
/// when custom resource definitions come and go.
#[derive(Clone)]
pub struct Registry {
    resources: Vec<Arc<Resource>>,
    served: Vec<Served>,
    by_path: HashMap<(String, String, String), usize>,
    /// Groups in discovery order, each with its versions (preferred first).
    groups: Vec<(&'static str, Vec<&'static str>)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry {
            resources: Vec::new(),
            served: Vec::new(),
            by_path: HashMap::new(),
            groups: Vec::new(),
        }
    }

    /// Add a stored kind, served in its storage version.
    pub fn add(&mut self, kind: Box<dyn Kind>) -> Arc<Resource> {
        let resource = Arc::new(Resource { kind });
        self.resources.push(resource.clone());
        let info = *resource.info();
        self.serve(Served {
            group: info.group,
            version: info.version,
            kind: info.kind,
            resource: resource.clone(),
            conversion: None,
        });
        resource
    }

    /// Add a stored kind without serving it in any version yet (see
    /// [`serve`](Self::serve)).
    pub fn add_resource(&mut self, resource: Arc<Resource>) {
        self.resources.push(resource);
    }

    /// Add a [`Strategy`]'s kind.
    pub fn add_typed<S: Strategy>(&mut self) -> Arc<Resource> {
        self.add(Box::new(TypedKind::<S>::new()))
    }

    /// Serve a stored kind in one more group-version.
    pub fn serve(&mut self, served: Served) {
        let key = (
            served.group.to_owned(),
            served.version.to_owned(),
            served.plural().to_owned(),
        );
        match self.groups.iter_mut().find(|(g, _)| *g == served.group) {
            Some((_, versions)) => {
                if !versions.contains(&served.version) {
                    versions.push(served.version);
                }
            }
            None => self.groups.push((served.group, vec![served.version])),
        }
        self.by_path.insert(key, self.served.len());
        self.served.push(served);
    }

    /// Make `version` the preferred (first listed) version of `group`.
    pub fn prefer(&mut self, group: &str, version: &'static str) {
        if let Some((_, versions)) = self.groups.iter_mut().find(|(g, _)| *g == group) {
            versions.retain(|v| *v != version);
            versions.insert(0, version);
        }
    }

    /// Stop serving the stored kind `group`/`plural` in every version.
    pub fn remove(&mut self, group: &str, plural: &str) {
        self.resources
            .retain(|r| !(r.info().group == group && r.info().plural == plural));
        self.served
            .retain(|s| !(s.info().group == group && s.info().plural == plural));
        self.by_path = self
            .served
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    (
                        s.group.to_owned(),
                        s.version.to_owned(),
                        s.plural().to_owned(),
                    ),
                    i,
                )
            })
            .collect();
        let served = &self.served;
        for (g, versions) in self.groups.iter_mut() {
            versions.retain(|v| served.iter().any(|s| s.group == *g && s.version == *v));
        }
        self.groups.retain(|(_, versions)| !versions.is_empty());
    }

    /// Order the groups as `order` lists them (unlisted groups last, in
    /// registration order).
    pub fn sort_groups(&mut self, order: &[&str]) {
        let rank = |g: &str| order.iter().position(|o| *o == g).unwrap_or(order.len());
        self.groups.sort_by_key(|(g, _)| rank(g));
    }

    /// What `/apis/{group}/{version}/{plural}` (or `/api/v1/...`) serves.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<&Served> {
        self.by_path
            .get(&(group.to_owned(), version.to_owned(), plural.to_owned()))
            .map(|&i| &self.served[i])
    }

    /// Every stored kind.
    pub fn resources(&self) -> &[Arc<Resource>] {
        &self.resources
    }

    /// Every served group-version-resource, in registration order.
    pub fn served(&self) -> &[Served] {
        &self.served
    }

    /// Groups in discovery order with their versions, preferred first.
    pub fn groups(&self) -> &[(&'static str, Vec<&'static str>)] {
        &self.groups
    }

    /// The stored kind with this group and plural.
    pub fn resource(&self, group: &str, plural: &str) -> Option<&Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| r.info().group == group && r.info().plural == plural)
    }

    /// The stored kind owning a store key.
    pub fn resource_for_key(&self, key: &str) -> Option<&Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| key.starts_with(&r.info().key_prefix()))
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}
