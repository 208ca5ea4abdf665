//! `paths` of a group-version's document: every operation the server
//! serves on each resource, shaped as upstream's (operation ids, tags,
//! query parameters, request and response bodies) and tagged with
//! `x-kubernetes-action` and `x-kubernetes-group-version-kind`.
//!
//! kubectl reads two things here: `kubectl explain` finds a resource's
//! kind from the group-version-kind of its operations, and a `patch`
//! operation with a `fieldValidation` parameter tells kubectl the server
//! validates fields itself (kubectl then sends `fieldValidation=Strict`
//! instead of validating on the client).

use serde_json::{Map, Value, json};

use super::schemas::{Common, Schemas, reference};
use crate::registry::Served;

const DRY_RUN: &str = "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed";
const FIELD_MANAGER: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";
const FIELD_MANAGER_PATCH: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).";
const FIELD_VALIDATION: &str = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.";
const FORCE: &str = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.";
const PRETTY: &str = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).";
const NAMESPACE: &str = "object name and auth scope, such as for teams and projects";
const ALLOW_WATCH_BOOKMARKS: &str = "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.";
const CONTINUE: &str = "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the \"next key\".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.";
const FIELD_SELECTOR: &str =
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.";
const LABEL_SELECTOR: &str =
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.";
const LIMIT: &str = "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.";
const RESOURCE_VERSION: &str = "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset";
const RESOURCE_VERSION_MATCH: &str = "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset";
const TIMEOUT_SECONDS: &str = "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.";
const WATCH: &str = "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.";
const GRACE_PERIOD_SECONDS: &str = "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.";
const ORPHAN_DEPENDENTS: &str = "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.";
const PROPAGATION_POLICY: &str = "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.";

/// The content types a patch of a kind accepts: strategic merge only for
/// kinds with merge shapes (not custom resources), as the server.
fn patch_types(group: &str, version: &str, kind: &str) -> Vec<&'static str> {
    let mut types = vec![
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if crate::patch::schema::for_kind(group, version, kind).is_some() {
        types.push("application/strategic-merge-patch+json");
    }
    types
}

fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({
        "description": description,
        "in": "query",
        "name": name,
        "schema": {"type": ty, "uniqueItems": true},
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({
        "description": description,
        "in": "path",
        "name": name,
        "required": true,
        "schema": {"type": "string", "uniqueItems": true},
    })
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut params = vec![
        query("dryRun", "string", DRY_RUN),
        query(
            "fieldManager",
            "string",
            if patch {
                FIELD_MANAGER_PATCH
            } else {
                FIELD_MANAGER
            },
        ),
        query("fieldValidation", "string", FIELD_VALIDATION),
    ];
    if patch {
        params.push(query("force", "boolean", FORCE));
    }
    params
}

fn list_params(watch: bool) -> Vec<Value> {
    let mut params = Vec::new();
    if watch {
        params.push(query(
            "allowWatchBookmarks",
            "boolean",
            ALLOW_WATCH_BOOKMARKS,
        ));
    }
    params.extend([
        query("continue", "string", CONTINUE),
        query("fieldSelector", "string", FIELD_SELECTOR),
        query("labelSelector", "string", LABEL_SELECTOR),
        query("limit", "integer", LIMIT),
        query("resourceVersion", "string", RESOURCE_VERSION),
        query("resourceVersionMatch", "string", RESOURCE_VERSION_MATCH),
        query("timeoutSeconds", "integer", TIMEOUT_SECONDS),
    ]);
    if watch {
        params.push(query("watch", "boolean", WATCH));
    }
    params
}

fn delete_params() -> Vec<Value> {
    vec![
        query("dryRun", "string", DRY_RUN),
        query("gracePeriodSeconds", "integer", GRACE_PERIOD_SECONDS),
        query("orphanDependents", "boolean", ORPHAN_DEPENDENTS),
        query("propagationPolicy", "string", PROPAGATION_POLICY),
    ]
}

/// A body of the schema `schema` (an object of unknown schema when
/// `None`) in the given media types.
fn content(schema: Option<&str>, types: &[&str]) -> Value {
    let schema = schema.map_or_else(|| json!({"type": "object"}), reference);
    media(&schema, types)
}

fn media(schema: &Value, types: &[&str]) -> Value {
    let map: Map<String, Value> = types
        .iter()
        .map(|t| ((*t).to_owned(), json!({ "schema": schema })))
        .collect();
    Value::Object(map)
}

const OBJECT_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
];
const LIST_TYPES: &[&str] = &[
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/yaml",
];

fn responses(codes: &[(&str, &str)], schema: Option<&str>, types: &[&str]) -> Value {
    responses_of(codes, &content(schema, types))
}

fn responses_of(codes: &[(&str, &str)], content: &Value) -> Value {
    let mut map = Map::new();
    for (code, description) in codes {
        map.insert(
            (*code).to_owned(),
            json!({"content": content, "description": description}),
        );
    }
    map.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(map)
}

/// `Core`, `Apps`, `RbacAuthorization`: a group in operation ids.
pub fn group_id(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let group = group.strip_suffix(".k8s.io").unwrap_or(group);
    group.split(['.', '-']).map(capitalize).collect()
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One group-version's operations, as they are built.
pub struct Builder<'a> {
    /// `/api/v1` or `/apis/<group>/<version>`.
    prefix: String,
    /// `CoreV1`, `AppsV1`.
    id: String,
    /// `core_v1`, `apps_v1`.
    tag: String,
    common: &'a Common,
    paths: Map<String, Value>,
}

/// What the operations of one resource refer to.
struct Resource<'a> {
    served: &'a Served,
    /// `Namespaced` in operation ids of namespaced resources.
    scope: &'static str,
    kind: Option<&'a str>,
    list: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// Operations of `group`/`version`.
    pub fn new(group: &str, version: &str, common: &'a Common) -> Builder<'a> {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let group_id = group_id(group);
        Builder {
            prefix,
            id: format!("{group_id}{}", capitalize(version)),
            tag: format!("{}_{version}", lower_first(&group_id)),
            common,
            paths: Map::new(),
        }
    }

    fn op(
        &self,
        description: String,
        id: String,
        action: &str,
        gvk: Option<Value>,
        extra: Value,
    ) -> Value {
        let mut op = json!({
            "description": description,
            "operationId": id,
            "tags": [self.tag],
            "x-kubernetes-action": action,
        });
        if let Some(gvk) = gvk {
            op["x-kubernetes-group-version-kind"] = gvk;
        }
        if let (Value::Object(op), Value::Object(extra)) = (&mut op, extra) {
            op.extend(extra);
        }
        op
    }

    fn add(&mut self, path: String, method: &str, op: Value, params: &[Value]) {
        let entry = self
            .paths
            .entry(path)
            .or_insert_with(|| json!({"parameters": params}));
        entry[method] = op;
    }

    /// `GET <prefix>/`: the group-version's resource list.
    pub fn root(&mut self) {
        let op = json!({
            "description": "get available resources",
            "operationId": format!("get{}APIResources", self.id),
            "responses": responses(&[("200", "OK")], Some(&self.common.resource_list), OBJECT_TYPES),
            "tags": [self.tag],
        });
        self.paths
            .insert(format!("{}/", self.prefix), json!({ "get": op }));
    }

    /// Every operation on one served resource.
    pub fn resource(&mut self, served: &Served, schemas: &mut Schemas) {
        let kind = schemas.kind(served);
        let list = kind.as_deref().map(|k| schemas.list(k, served));
        let res = Resource {
            served,
            scope: if served.info().namespaced() {
                "Namespaced"
            } else {
                ""
            },
            kind: kind.as_deref(),
            list: list.as_deref(),
        };
        self.collection(&res);
        self.object(&res);
        if served.info().namespaced() {
            self.all_namespaces(&res);
        }
        self.subresources(&res, schemas);
    }

    fn gvk(served: &Served) -> Value {
        super::schemas::gvk(served.group, served.version, served.kind)
    }

    /// `.../<plural>`, in a namespace for namespaced resources.
    fn collection_path(&self, served: &Served) -> String {
        if served.info().namespaced() {
            format!(
                "{}/namespaces/{{namespace}}/{}",
                self.prefix,
                served.plural()
            )
        } else {
            format!("{}/{}", self.prefix, served.plural())
        }
    }

    fn scope_params(served: &Served, named: bool) -> Vec<Value> {
        let mut params = Vec::new();
        if named {
            params.push(path_param("name", &format!("name of the {}", served.kind)));
        }
        if served.info().namespaced() {
            params.push(path_param("namespace", NAMESPACE));
        }
        params.push(query("pretty", "string", PRETTY));
        params
    }

    fn collection(&mut self, r: &Resource<'_>) {
        let s = r.served;
        let kind = s.kind;
        let gvk = Some(Self::gvk(s));
        let path = self.collection_path(s);
        let params = Self::scope_params(s, false);
        let mut dc_params = list_params(false);
        dc_params.extend(delete_params());
        dc_params.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        dc_params.dedup_by(|a, b| a["name"] == b["name"]);
        let deletecollection = self.op(
            format!("delete collection of {kind}"),
            format!("delete{}Collection{}{kind}", self.id, r.scope),
            "deletecollection",
            gvk.clone(),
            json!({
                "parameters": dc_params,
                "requestBody": {"content": {"*/*": {"schema": reference(&self.common.delete_options)}}},
                "responses": responses(&[("200", "OK")], Some(&self.common.status), OBJECT_TYPES),
            }),
        );
        self.add(path.clone(), "delete", deletecollection, &params);
        let list = self.op(
            format!("list or watch objects of kind {kind}"),
            format!("list{}{}{kind}", self.id, r.scope),
            "list",
            gvk.clone(),
            json!({
                "parameters": list_params(true),
                "responses": responses(&[("200", "OK")], r.list, LIST_TYPES),
            }),
        );
        self.add(path.clone(), "get", list, &params);
        let create = self.op(
            format!("create a {kind}"),
            format!("create{}{}{kind}", self.id, r.scope),
            "post",
            gvk,
            json!({
                "parameters": write_params(false),
                "requestBody": {"content": content(r.kind, &["*/*"]), "required": true},
                "responses": responses(&[("200", "OK"), ("201", "Created"), ("202", "Accepted")], r.kind, OBJECT_TYPES),
            }),
        );
        self.add(path, "post", create, &params);
    }

    /// Read, replace and patch of one object or one of its subresources
    /// taking the resource's own kind (`status`).
    fn read_replace_patch(
        &mut self,
        r: &Resource<'_>,
        sub: Option<&str>,
        verbs: &[&str],
        schema: Option<&str>,
        (group, version, kind_of): (&str, &str, &str),
    ) {
        let gvk = super::schemas::gvk(group, version, kind_of);
        let s = r.served;
        let kind = s.kind;
        let mut path = format!("{}/{}", self.collection_path(s), "{name}");
        let (what, suffix) = match sub {
            Some(sub) => {
                path.push('/');
                path.push_str(sub);
                (format!("{sub} of the specified {kind}"), capitalize(sub))
            }
            None => (format!("the specified {kind}"), String::new()),
        };
        let params = Self::scope_params(s, true);
        let id = format!("{}{}{kind}{suffix}", self.id, r.scope);
        if verbs.contains(&"get") {
            let op = self.op(
                format!("read {what}"),
                format!("read{id}"),
                "get",
                Some(gvk.clone()),
                json!({"responses": responses(&[("200", "OK")], schema, OBJECT_TYPES)}),
            );
            self.add(path.clone(), "get", op, &params);
        }
        if verbs.contains(&"update") {
            let op = self.op(
                format!("replace {what}"),
                format!("replace{id}"),
                "put",
                Some(gvk.clone()),
                json!({
                    "parameters": write_params(false),
                    "requestBody": {"content": content(schema, &["*/*"]), "required": true},
                    "responses": responses(&[("200", "OK"), ("201", "Created")], schema, OBJECT_TYPES),
                }),
            );
            self.add(path.clone(), "put", op, &params);
        }
        if verbs.contains(&"patch") {
            let op = self.op(
                format!("partially update {what}"),
                format!("patch{id}"),
                "patch",
                Some(gvk),
                json!({
                    "parameters": write_params(true),
                    "requestBody": {
                        "content": content(Some(&self.common.patch), &patch_types(group, version, kind_of)),
                        "required": true,
                    },
                    "responses": responses(&[("200", "OK"), ("201", "Created")], schema, OBJECT_TYPES),
                }),
            );
            self.add(path, "patch", op, &params);
        }
    }

    fn object(&mut self, r: &Resource<'_>) {
        let s = r.served;
        self.read_replace_patch(
            r,
            None,
            &["get", "update", "patch"],
            r.kind,
            (s.group, s.version, s.kind),
        );
        let path = format!("{}/{}", self.collection_path(s), "{name}");
        let params = Self::scope_params(s, true);
        let kind = s.kind;
        let delete = self.op(
            format!("delete a {kind}"),
            format!("delete{}{}{kind}", self.id, r.scope),
            "delete",
            Some(Self::gvk(s)),
            json!({
                "parameters": delete_params(),
                "requestBody": {"content": {"*/*": {"schema": reference(&self.common.delete_options)}}},
                "responses": responses(&[("200", "OK"), ("202", "Accepted")], r.kind, OBJECT_TYPES),
            }),
        );
        self.add(path, "delete", delete, &params);
    }

    /// `.../<plural>` across namespaces (namespaced resources).
    fn all_namespaces(&mut self, r: &Resource<'_>) {
        let s = r.served;
        let kind = s.kind;
        let op = self.op(
            format!("list or watch objects of kind {kind}"),
            format!("list{}{kind}ForAllNamespaces", self.id),
            "list",
            Some(Self::gvk(s)),
            json!({"responses": responses(&[("200", "OK")], r.list, LIST_TYPES)}),
        );
        let mut params = list_params(true);
        params.push(query("pretty", "string", PRETTY));
        params.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        self.add(
            format!("{}/{}", self.prefix, s.plural()),
            "get",
            op,
            &params,
        );
    }

    fn subresources(&mut self, r: &Resource<'_>, schemas: &mut Schemas) {
        let s = r.served;
        let info = s.info();
        if info.status {
            self.read_replace_patch(
                r,
                Some("status"),
                &["get", "update", "patch"],
                r.kind,
                (s.group, s.version, s.kind),
            );
        }
        if info.scale.is_some() {
            let scale = schemas.kind_in(None, "autoscaling", "v1", "Scale");
            self.read_replace_patch(
                r,
                Some("scale"),
                &["get", "update", "patch"],
                scale.as_deref(),
                ("autoscaling", "v1", "Scale"),
            );
        }
        for sub in info.subresources {
            let gvk = super::schemas::gvk(sub.group, sub.version, sub.kind);
            let schema = schemas.kind_in(Some(s), sub.group, sub.version, sub.kind);
            // A subresource taking no API object (exec, attach,
            // port-forward, proxy) is a connection.
            if schema.is_none() {
                self.connect(r, sub.name, sub.verbs, gvk);
                continue;
            }
            self.read_replace_patch(
                r,
                Some(sub.name),
                sub.verbs,
                schema.as_deref(),
                (sub.group, sub.version, sub.kind),
            );
            if sub.verbs.contains(&"create") {
                let path = format!("{}/{{name}}/{}", self.collection_path(s), sub.name);
                let params = Self::scope_params(s, true);
                let op = self.op(
                    format!("create {} of a {}", sub.kind, s.kind),
                    format!(
                        "create{}{}{}{}",
                        self.id,
                        r.scope,
                        s.kind,
                        capitalize(sub.name)
                    ),
                    "post",
                    Some(gvk),
                    json!({
                        "parameters": write_params(false),
                        "requestBody": {"content": content(schema.as_deref(), &["*/*"]), "required": true},
                        "responses": responses(&[("200", "OK"), ("201", "Created"), ("202", "Accepted")], schema.as_deref(), OBJECT_TYPES),
                    }),
                );
                self.add(path, "post", op, &params);
            }
        }
    }

    fn connect(&mut self, r: &Resource<'_>, sub: &str, verbs: &[&str], gvk: Value) {
        let s = r.served;
        let path = format!("{}/{{name}}/{sub}", self.collection_path(s));
        let mut params = Self::scope_params(s, true);
        params.retain(|p| p["name"] != "pretty");
        for (verb, method) in [("get", "get"), ("create", "post")] {
            if !verbs.contains(&verb) {
                continue;
            }
            let op = self.op(
                format!(
                    "connect {} requests to {sub} of {}",
                    method.to_uppercase(),
                    s.kind
                ),
                format!(
                    "connect{}{}{}{}{}",
                    self.id,
                    capitalize(method),
                    r.scope,
                    s.kind,
                    capitalize(sub)
                ),
                "connect",
                Some(gvk.clone()),
                json!({"responses": responses_of(&[("200", "OK")], &media(&json!({"type": "string"}), &["*/*"]))}),
            );
            self.add(path.clone(), method, op, &params);
        }
    }

    /// The paths built.
    pub fn finish(self) -> Map<String, Value> {
        self.paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids() {
        assert_eq!(group_id(""), "Core");
        assert_eq!(group_id("apps"), "Apps");
        assert_eq!(group_id("rbac.authorization.k8s.io"), "RbacAuthorization");
        assert_eq!(group_id("apiextensions.k8s.io"), "Apiextensions");
        assert_eq!(lower_first("RbacAuthorization"), "rbacAuthorization");
    }
}
