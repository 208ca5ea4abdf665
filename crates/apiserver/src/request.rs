//! What a request asks for: the URL taken apart into a [`Route`], the query
//! parameters, and the media types of its body and of the answer it wants.

use std::collections::HashMap;

use rkube_api::status::Status;

/// The endpoint a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`
    Version,
    /// `/healthz`, `/livez`, `/readyz` (and their `/…/<check>` forms).
    Health(String),
    /// `/metrics`
    Metrics,
    /// `/openapi/v2`
    OpenApiV2,
    /// `/openapi/v3[/...]`
    OpenApiV3(String),
    /// `/api`
    CoreRoot,
    /// `/apis`
    GroupsRoot,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`
    GroupVersion(String, String),
    /// A resource, collection or subresource.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// `/api{s}/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Resource (plural).
    pub plural: String,
    /// The namespace segment, if the URL has one.
    pub namespace: Option<String>,
    /// The object's name, if the URL names one.
    pub name: Option<String>,
    /// The subresource, if any.
    pub sub: Option<String>,
}

fn decode_segment(s: &str) -> String {
    // Object names never need escaping, but decode %XX for robustness.
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Take a URL path apart.
pub fn route(path: &str) -> Route {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        [h @ ("healthz" | "livez" | "readyz"), rest @ ..] => Route::Health(
            std::iter::once(*h)
                .chain(rest.iter().copied())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        ["metrics"] => Route::Metrics,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(rest.join("/")),
        ["api"] => Route::CoreRoot,
        ["apis"] => Route::GroupsRoot,
        ["apis", group] => Route::Group((*group).to_owned()),
        ["api", version] => Route::GroupVersion(String::new(), (*version).to_owned()),
        ["apis", group, version] => Route::GroupVersion((*group).to_owned(), (*version).to_owned()),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let base = ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        ..Default::default()
    };
    let owned = |s: &str| Some(s.to_owned());
    let path = match rest {
        // Namespace objects themselves and their subresources.
        ["namespaces"] => ResourcePath {
            plural: "namespaces".into(),
            ..base
        },
        ["namespaces", name] => ResourcePath {
            plural: "namespaces".into(),
            name: owned(name),
            ..base
        },
        ["namespaces", name, sub @ ("status" | "finalize")] => ResourcePath {
            plural: "namespaces".into(),
            name: owned(name),
            sub: owned(sub),
            ..base
        },
        // Namespaced resources.
        ["namespaces", ns, plural] => ResourcePath {
            plural: (*plural).into(),
            namespace: owned(ns),
            ..base
        },
        ["namespaces", ns, plural, name] => ResourcePath {
            plural: (*plural).into(),
            namespace: owned(ns),
            name: owned(name),
            ..base
        },
        ["namespaces", ns, plural, name, sub] => ResourcePath {
            plural: (*plural).into(),
            namespace: owned(ns),
            name: owned(name),
            sub: owned(sub),
            ..base
        },
        // Cluster-scoped resources, or namespaced ones across namespaces.
        [plural] => ResourcePath {
            plural: (*plural).into(),
            ..base
        },
        [plural, name] => ResourcePath {
            plural: (*plural).into(),
            name: owned(name),
            ..base
        },
        [plural, name, sub] => ResourcePath {
            plural: (*plural).into(),
            name: owned(name),
            sub: owned(sub),
            ..base
        },
        _ => return Route::Unknown,
    };
    Route::Resource(path)
}

/// The query parameters of a request.
#[derive(Clone, Debug, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parse a query string.
    pub fn parse(query: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    /// An integer parameter; 400 when malformed.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Status> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Status::bad_request(format!("invalid value for {name}: {v:?}")))
            })
            .transpose()
    }

    /// Whether `dryRun=All` was asked for (400 for other values).
    pub fn dry_run(&self) -> Result<bool, Status> {
        match self.0.get("dryRun").map(String::as_str) {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(Status::bad_request(format!(
                "Invalid dry run value: {other:?}: supported values: \"All\""
            ))),
        }
    }
}

/// What representation of objects the client wants back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Plain JSON objects and lists.
    Json,
    /// A `meta.k8s.io` Table of the given version (`v1` or `v1beta1`).
    Table(&'static str),
    /// `PartialObjectMetadata` (or its List) of the given version.
    Metadata(&'static str),
}

/// Pick the representation from an `Accept` header: the first entry we
/// can produce wins; anything unknown falls back to JSON.
pub fn negotiate(accept: Option<&str>) -> Want {
    let Some(accept) = accept else {
        return Want::Json;
    };
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let params: HashMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
        if !matches!(media, "application/json" | "*/*" | "application/*") {
            continue;
        }
        let version = match params.get("v") {
            Some(&"v1") => "v1",
            Some(&"v1beta1") => "v1beta1",
            _ => "v1",
        };
        match (params.get("as"), params.get("g")) {
            (None, _) => return Want::Json,
            (Some(&"Table"), Some(&"meta.k8s.io")) => return Want::Table(version),
            (
                Some(&("PartialObjectMetadata" | "PartialObjectMetadataList")),
                Some(&"meta.k8s.io"),
            ) => {
                return Want::Metadata(version);
            }
            _ => continue,
        }
    }
    Want::Json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/api/v1/namespaces/default/pods"),
            Route::Resource(ResourcePath {
                group: "".into(),
                version: "v1".into(),
                plural: "pods".into(),
                namespace: Some("default".into()),
                ..Default::default()
            })
        );
        assert_eq!(
            route("/api/v1/namespaces/kube-system/status"),
            Route::Resource(ResourcePath {
                version: "v1".into(),
                plural: "namespaces".into(),
                name: Some("kube-system".into()),
                sub: Some("status".into()),
                ..Default::default()
            })
        );
        assert_eq!(
            route("/apis/apps/v1/namespaces/x/deployments/web/scale"),
            Route::Resource(ResourcePath {
                group: "apps".into(),
                version: "v1".into(),
                plural: "deployments".into(),
                namespace: Some("x".into()),
                name: Some("web".into()),
                sub: Some("scale".into()),
            })
        );
        assert_eq!(
            route("/api/v1/nodes/n1"),
            Route::Resource(ResourcePath {
                version: "v1".into(),
                plural: "nodes".into(),
                name: Some("n1".into()),
                ..Default::default()
            })
        );
        assert_eq!(route("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            route("/apis/apps/v1"),
            Route::GroupVersion("apps".into(), "v1".into())
        );
        assert_eq!(route("/readyz"), Route::Health("readyz".into()));
        assert_eq!(route("/nope"), Route::Unknown);
    }

    #[test]
    fn negotiates_tables() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl)), Want::Table("v1"));
        assert_eq!(negotiate(Some("application/json")), Want::Json);
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf,application/json")),
            Want::Json
        );
        assert_eq!(negotiate(None), Want::Json);
    }
}
