//! Discovery documents, generated from the [`Registry`]: aggregated
//! discovery (`apidiscovery.k8s.io/v2`, what kubectl 1.32 asks for) and the
//! legacy documents (`APIVersions`, `APIGroupList`, `APIGroup`,
//! `APIResourceList`).

use serde_json::{Value, json};

use crate::registry::{Registry, Served, api_version};

/// The verbs of a resource with every standard operation.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The verbs of `status` and `scale` subresources.
pub const SUBRESOURCE_VERBS: &[&str] = &["get", "patch", "update"];

/// `(name, group, version, kind, verbs)` of every subresource of a served
/// resource, status and scale included.
fn subresources(
    served: &Served,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
)> {
    let info = served.info();
    let mut subs = Vec::new();
    for s in info.subresources {
        subs.push((s.name, s.group, s.version, s.kind, s.verbs));
    }
    if info.scale.is_some() {
        subs.push(("scale", "autoscaling", "v1", "Scale", SUBRESOURCE_VERBS));
    }
    if info.status {
        subs.push((
            "status",
            served.group,
            served.version,
            served.kind,
            SUBRESOURCE_VERBS,
        ));
    }
    subs.sort_by_key(|s| s.0);
    subs
}

fn scope(served: &Served) -> &'static str {
    if served.info().namespaced() {
        "Namespaced"
    } else {
        "Cluster"
    }
}

fn aggregated_resource(served: &Served) -> Value {
    let info = served.info();
    let mut r = json!({
        "resource": info.plural,
        "responseKind": {"group": served.group, "version": served.version, "kind": served.kind},
        "scope": scope(served),
        "singularResource": info.singular,
        "verbs": ALL_VERBS,
    });
    if !info.short_names.is_empty() {
        r["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        r["categories"] = json!(info.categories);
    }
    let subs: Vec<Value> = subresources(served)
        .into_iter()
        .map(|(name, group, version, kind, verbs)| {
            json!({
                "subresource": name,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": verbs,
            })
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = Value::Array(subs);
    }
    r
}

fn served_in<'a>(
    registry: &'a Registry,
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'a Served> {
    let mut list: Vec<&Served> = registry
        .served()
        .iter()
        .filter(move |s| s.group == group && s.version == version)
        .collect();
    list.sort_by_key(|s| s.plural());
    list.into_iter()
}

fn aggregated_group(registry: &Registry, group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version": v,
                "resources": served_in(registry, group, v).map(aggregated_resource).collect::<Vec<_>>(),
                "freshness": "Current",
            })
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// The aggregated discovery document of `/api` (`core == true`, the core
/// group only) or `/apis` (every named group).
pub fn aggregated(registry: &Registry, core: bool, api_version: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| aggregated_group(registry, g, versions))
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": items,
    })
}

/// Legacy `/api`: the core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": api_version(group, v), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": vs,
        "preferredVersion": {"groupVersion": api_version(group, versions[0]), "version": versions[0]},
    })
}

/// Legacy `/apis`: every named group.
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_entry(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/apis/{group}`, if the group exists.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let (_, versions) = registry
        .groups()
        .iter()
        .find(|(g, _)| *g == group && !g.is_empty())?;
    let mut v = group_entry(group, versions);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// Legacy `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for served in served_in(registry, group, version) {
        let info = served.info();
        let namespaced = info.namespaced();
        let mut r = json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": namespaced,
            "kind": served.kind,
            "verbs": ALL_VERBS,
        });
        if !info.short_names.is_empty() {
            r["shortNames"] = json!(info.short_names);
        }
        if !info.categories.is_empty() {
            r["categories"] = json!(info.categories);
        }
        resources.push(r);
        for (name, g, v, kind, verbs) in subresources(served) {
            let mut sub = json!({
                "name": format!("{}/{name}", info.plural),
                "singularName": "",
                "namespaced": namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if g != group || v != version {
                sub["group"] = json!(g);
                sub["version"] = json!(v);
            }
            resources.push(sub);
        }
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": resources,
    }))
}
