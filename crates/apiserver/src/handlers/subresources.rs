//! Subresources with their own semantics: `scale` (autoscaling/v1 Scale
//! over any kind whose [`ScaleSpec`] says where replicas live),
//! `pods/binding` (the scheduler's write) and `pods/eviction` (deletion
//! that honours PodDisruptionBudgets).
//!
//! [`ScaleSpec`]: rkube_api::registry::ScaleSpec

use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use rkube_api::labels::Selector;
use rkube_api::meta::now;
use rkube_api::registry::{Operation, ResourceInfo};
use rkube_api::status::{Cause, Status};
use rkube_api::validation::{ErrorType, FieldError};
use serde_json::{Value, json};

use super::Ctx;
use super::write::{self, DeleteOptions, Target};
use crate::object::Filter;
use crate::request::{Query, ResourcePath, Want};
use crate::response::{self, Response};
use rkube_api::patch::PatchType;

/// Set the value at a JSON pointer, creating objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let mut cur = target;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let map = cur.as_object_mut().expect("just made an object");
        if i == parts.len() - 1 {
            map.insert((*part).to_owned(), value);
            return;
        }
        cur = map.entry((*part).to_owned()).or_insert_with(|| json!({}));
    }
}

/// The selector string of a Scale: a LabelSelector's, or a plain map's.
fn selector_string(selector: &Value) -> String {
    if let Value::String(s) = selector {
        // Custom resources keep the selector as a string already.
        return s.clone();
    }
    if selector.get("matchLabels").is_some() || selector.get("matchExpressions").is_some() {
        let Ok(ls) = serde_json::from_value::<LabelSelector>(selector.clone()) else {
            return String::new();
        };
        let mut s = Selector::from_label_selector(&ls).unwrap_or_default();
        s.requirements.sort_by(|a, b| req_key(a).cmp(req_key(b)));
        s.to_string()
    } else if let Some(map) = selector.as_object() {
        let mut pairs: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        pairs.sort();
        pairs.join(",")
    } else {
        String::new()
    }
}

fn req_key(r: &rkube_api::labels::Requirement) -> &str {
    use rkube_api::labels::Requirement::*;
    match r {
        Equals(k, _) | NotEquals(k, _) | In(k, _) | NotIn(k, _) | Exists(k) | DoesNotExist(k) => k,
    }
}

/// The Scale view of an object.
fn scale_of(info: &ResourceInfo, obj: &Value) -> Value {
    let Some(spec) = info.scale else {
        return Value::Null;
    };
    let meta = &obj["metadata"];
    let mut scale = json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer(spec.spec_replicas).and_then(Value::as_i64).unwrap_or(0)},
        "status": {"replicas": obj.pointer(spec.status_replicas).and_then(Value::as_i64).unwrap_or(0)},
    });
    let selector = obj
        .pointer(spec.selector)
        .map(selector_string)
        .unwrap_or_default();
    if !selector.is_empty() {
        scale["status"]["selector"] = Value::from(selector);
    }
    scale
}

/// GET `/scale`.
pub async fn get_scale(ctx: Ctx) -> Result<Response, Status> {
    ctx.server.cache.sync().await?;
    let name = ctx.name().to_owned();
    let obj = ctx
        .cache()?
        .get(&ctx.rest(ctx.path.namespace.as_deref(), &name))
        .ok_or_else(|| ctx.not_found(&name))?;
    Ok(response::json_value(
        200,
        &scale_of(ctx.info(), &obj.value()?),
    ))
}

/// PUT (`patch == None`) or PATCH of `/scale`.
pub async fn update_scale(
    ctx: Ctx,
    body: Bytes,
    content_type: Option<String>,
) -> Result<Response, Status> {
    let info = *ctx.info();
    let spec = info
        .scale
        .ok_or_else(|| Status::internal("no scale subresource"))?;
    let name = ctx.name().to_owned();
    // `content_type` is given for PATCH; PUT carries a whole Scale.
    let patch = match &content_type {
        Some(ct) => {
            let kind = PatchType::from_content_type(Some(ct))?;
            let patch: Value = serde_json::from_slice(&body)
                .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
            Some((kind, patch))
        }
        None => None,
    };
    let put = match &patch {
        None => Some(write::decode_object(
            &body,
            Some("application/json"),
            "Scale",
        )?),
        Some(_) => None,
    };
    let scale_schema = rkube_api::patch::schema::for_kind("autoscaling", "v1", "Scale");
    let dry_run = ctx.query.dry_run()?;
    let (_, stored) = write::write_with_retries(
        &ctx,
        &name,
        dry_run,
        |current| {
            let current = current.ok_or_else(|| ctx.not_found(&name))?;
            let obj = current.clone();
            let scale = match (&put, &patch) {
                (Some(s), _) => s.clone(),
                (None, Some((kind, p))) => rkube_api::patch::apply(*kind, scale_of(&info, &obj), p, scale_schema)?,
                (None, None) => unreachable!("either a PUT body or a patch"),
            };
            let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
            if replicas < 0 {
                return Err(Status::invalid("autoscaling", "Scale", &name, &[FieldError {
                    kind: ErrorType::Invalid,
                    field: "spec.replicas".into(),
                    value: Some(Value::from(replicas)),
                    detail: "must be greater than or equal to 0".into(),
                }]));
            }
            if let Some(uid) = scale["metadata"]["uid"].as_str().filter(|u| !u.is_empty()) {
                let actual = obj["metadata"]["uid"].as_str().unwrap_or("");
                if uid != actual {
                    return Err(Status::conflict(
                        info.group,
                        &format!("{}/scale", info.plural),
                        &name,
                        &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                    ));
                }
            }
            let rv = scale["metadata"]["resourceVersion"].as_str().unwrap_or("").to_owned();
            let mut desired = obj;
            set_pointer(&mut desired, spec.spec_replicas, Value::from(replicas));
            if let Some(m) = desired["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((desired, rv))
        },
        Target::Main,
        write::Ownership::Update,
    )
    .await?;
    Ok(response::json_value(
        200,
        &scale_of(&info, &stored.value()?),
    ))
}

fn success_201() -> Response {
    response::json_value(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// POST `pods/{name}/binding`: assign the pod to a node.
pub async fn bind(ctx: Ctx, body: Bytes) -> Result<Response, Status> {
    let binding = write::decode_object(&body, Some("application/json"), "Binding")?;
    let name = ctx.name().to_owned();
    if binding["metadata"]["name"].as_str().unwrap_or("") != name {
        return Err(Status::bad_request(
            "name in URL does not match name in Binding object",
        ));
    }
    let target_kind = binding["target"]["kind"].as_str().unwrap_or("");
    let node = binding["target"]["name"].as_str().unwrap_or("").to_owned();
    let mut problems = Vec::new();
    if !target_kind.is_empty() && target_kind != "Node" {
        problems.push(format!(
            "target.kind: Unsupported value: {target_kind:?}: supported values: \"Node\", \"\""
        ));
    }
    if node.is_empty() {
        problems.push("target.name: Required value".to_owned());
    }
    if !problems.is_empty() {
        return Err(Status::new(500, "", problems.join(", ")));
    }
    let uid = binding["metadata"]["uid"].as_str().unwrap_or("").to_owned();
    let rv = binding["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let annotations = binding["metadata"]["annotations"].clone();
    let conflict = |why: String| Status::conflict("", "pods/binding", &name, &why);
    let dry_run = ctx.query.dry_run()?;
    // As upstream's binding storage: the pod is updated in storage
    // directly, past the strategy and the field manager (a binding adds
    // no managedFields entry); only its metadata, which may take the
    // binding's annotations, is checked.
    write::guaranteed_update(&ctx, &name, &rv, dry_run, |pod| {
        if !uid.is_empty() && pod["metadata"]["uid"] != uid.clone() {
            return Err(conflict(format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                pod["metadata"]["uid"].as_str().unwrap_or("")
            )));
        }
        if !pod["metadata"]["deletionTimestamp"].is_null() {
            return Err(conflict(format!("pod {name} is being deleted, cannot be assigned to a host")));
        }
        if let Some(assigned) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
            return Err(conflict(format!("pod {name} is already assigned to node {assigned:?}")));
        }
        if pod["spec"]["schedulingGates"].as_array().is_some_and(|g| !g.is_empty()) {
            return Err(conflict(format!("pod {name} has non-empty .spec.schedulingGates")));
        }
        pod["spec"]["nodeName"] = Value::from(node.clone());
        if let Some(extra) = annotations.as_object() {
            for (k, v) in extra {
                pod["metadata"]["annotations"][k] = v.clone();
            }
        }
        let now = serde_json::to_value(Time(now())).map_err(Status::internal)?;
        let scheduled = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
        let conditions = pod["status"]["conditions"].as_array().cloned().unwrap_or_default();
        let mut replaced = false;
        let mut out: Vec<Value> = conditions
            .into_iter()
            .map(|c| {
                if c["type"] == "PodScheduled" {
                    replaced = true;
                    let mut s = scheduled.clone();
                    if c["status"] == "True" {
                        s["lastTransitionTime"] = c["lastTransitionTime"].clone();
                    }
                    s
                } else {
                    c
                }
            })
            .collect();
        if !replaced {
            out.push(scheduled.clone());
        }
        pod["status"]["conditions"] = Value::Array(out);
        *pod = ctx
            .served
            .resource
            .kind
            .admit(std::mem::take(pod), Operation::Bind)?;
        Ok(())
    })
    .await?;
    Ok(success_201())
}

impl Ctx {
    /// A context for another resource, in the same request.
    fn for_resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        namespace: Option<String>,
        name: Option<String>,
    ) -> Result<Ctx, Status> {
        let served = self
            .server
            .registry
            .get()
            .lookup(group, version, plural)
            .cloned()
            .ok_or_else(|| Status::internal(format!("{plural}.{group} is not served")))?;
        Ok(Ctx {
            server: self.server.clone(),
            served,
            path: ResourcePath {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                namespace,
                name,
                sub: None,
            },
            query: Query::default(),
            want: Want::Json,
            user: self.user.clone(),
            user_agent: self.user_agent.clone(),
            warnings: self.warnings.clone(),
        })
    }
}

fn too_many(message: String, retry_after: Option<i32>) -> Status {
    let mut s = Status::too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    s.details.causes.push(Cause {
        reason: "DisruptionBudget".into(),
        message,
        field: String::new(),
    });
    s.details.retry_after_seconds = retry_after;
    s
}

/// POST `pods/{name}/eviction`: delete the pod unless a
/// PodDisruptionBudget forbids it (429).
pub async fn evict(ctx: Ctx, body: Bytes) -> Result<Response, Status> {
    let eviction = write::decode_object(&body, Some("application/json"), "Eviction")?;
    let name = ctx.name().to_owned();
    if eviction["metadata"]["name"].as_str().unwrap_or("") != name {
        return Err(Status::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let opts_body = serde_json::to_vec(&eviction["deleteOptions"]).unwrap_or_default();
    let opts_body: &[u8] = if eviction["deleteOptions"].is_null() {
        b""
    } else {
        &opts_body
    };
    let opts = DeleteOptions::parse(&ctx, opts_body)?;
    let ns = ctx.path.namespace.clone().unwrap_or_default();

    ctx.server.cache.sync().await?;
    let pod = ctx
        .cache()?
        .get(&ctx.rest(Some(&ns), &name))
        .ok_or_else(|| ctx.not_found(&name))?;
    let pod_value = pod.value()?;
    let phase = pod_value["status"]["phase"].as_str().unwrap_or("");
    let exempt = matches!(phase, "Succeeded" | "Failed" | "Pending")
        || !pod_value["metadata"]["deletionTimestamp"].is_null();

    if !exempt {
        let pdb_ctx = ctx.for_resource(
            "policy",
            "v1",
            "poddisruptionbudgets",
            Some(ns.clone()),
            None,
        )?;
        let filter = Filter {
            namespace: Some(ns.clone()),
            ..Default::default()
        };
        let (pdbs, _, _) = pdb_ctx.cache()?.list(&filter, None, 0);
        let mut matching = Vec::new();
        for pdb in pdbs {
            let v = pdb.value()?;
            let Ok(ls) = serde_json::from_value::<LabelSelector>(v["spec"]["selector"].clone())
            else {
                continue;
            };
            let Ok(sel) = Selector::from_label_selector(&ls) else {
                continue;
            };
            if v["spec"]["selector"].is_null() || sel.is_empty() {
                continue;
            }
            if sel.matches(&pod.labels) {
                matching.push(v);
            }
        }
        if matching.len() > 1 {
            return Err(Status::new(
                500,
                "",
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let Some(pdb) = matching.pop() {
            let pdb_name = pdb["metadata"]["name"].as_str().unwrap_or("").to_owned();
            let ready = pod_value["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
            let desired = pdb["status"]["desiredHealthy"].as_i64().unwrap_or(0);
            let healthy = pdb["status"]["currentHealthy"].as_i64().unwrap_or(0);
            let policy = pdb["spec"]["unhealthyPodEvictionPolicy"]
                .as_str()
                .unwrap_or("IfHealthyBudget");
            let unhealthy_ok =
                !ready && (policy == "AlwaysAllow" || (healthy >= desired && desired > 0));
            if !unhealthy_ok {
                decrement_budget(&ctx, &ns, &pdb_name, &name, opts.dry_run).await?;
            }
        }
    }

    let pod_ctx = ctx.for_resource("", "v1", "pods", Some(ns.clone()), Some(name.clone()))?;
    if !opts.dry_run {
        mark_disruption_target(&pod_ctx, &name).await?;
    }
    write::delete_object(&pod_ctx, &name, &opts).await?;
    Ok(success_201())
}

/// Take one disruption from a budget, or fail with 429 as upstream.
async fn decrement_budget(
    ctx: &Ctx,
    ns: &str,
    pdb: &str,
    pod: &str,
    dry_run: bool,
) -> Result<(), Status> {
    let pdb_ctx = ctx.for_resource(
        "policy",
        "v1",
        "poddisruptionbudgets",
        Some(ns.to_owned()),
        Some(pdb.to_owned()),
    )?;
    let pod = pod.to_owned();
    let pdb_name = pdb.to_owned();
    write::write_with_retries(
        &pdb_ctx,
        pdb,
        dry_run,
        |current| {
            let current = current.ok_or_else(|| Status::not_found("policy", "poddisruptionbudgets", &pdb_name))?;
            let mut v = current.clone();
            let generation = v["metadata"]["generation"].as_i64().unwrap_or(0);
            let observed = v["status"]["observedGeneration"].as_i64().unwrap_or(0);
            if observed < generation {
                return Err(too_many(
                    format!("The disruption budget {pdb_name} is still being processed by the server."),
                    Some(10),
                ));
            }
            let allowed = v["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
            if allowed < 0 {
                return Err(Status::forbidden("policy", "poddisruptionbudget", &pdb_name, "pdb disruptions allowed is negative"));
            }
            if v["status"]["disruptedPods"].as_object().is_some_and(|m| m.len() > 2000) {
                return Err(Status::forbidden(
                    "policy",
                    "poddisruptionbudget",
                    &pdb_name,
                    "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
                ));
            }
            if allowed == 0 {
                return Err(too_many(
                    format!(
                        "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                        v["status"]["desiredHealthy"].as_i64().unwrap_or(0),
                        v["status"]["currentHealthy"].as_i64().unwrap_or(0)
                    ),
                    None,
                ));
            }
            v["status"]["disruptionsAllowed"] = Value::from(allowed - 1);
            let now = serde_json::to_value(Time(now())).map_err(Status::internal)?;
            v["status"]["disruptedPods"][pod.as_str()] = now.clone();
            if allowed - 1 == 0 {
                let cond = json!({"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods", "message": "", "lastTransitionTime": now, "observedGeneration": generation});
                let mut conds: Vec<Value> = v["status"]["conditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c["type"] != "DisruptionAllowed")
                    .collect();
                conds.push(cond);
                v["status"]["conditions"] = Value::Array(conds);
            }
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((v, String::new()))
        },
        Target::Status,
        write::Ownership::Update,
    )
    .await?;
    Ok(())
}

/// Record on the pod why it is going away, as upstream's eviction does.
async fn mark_disruption_target(pod_ctx: &Ctx, name: &str) -> Result<(), Status> {
    let result = write::write_with_retries(
        pod_ctx,
        name,
        false,
        |current| {
            let current = current.ok_or_else(|| pod_ctx.not_found(name))?;
            let mut pod = current.clone();
            let now = serde_json::to_value(Time(now())).map_err(Status::internal)?;
            let cond = json!({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting", "lastProbeTime": null, "lastTransitionTime": now});
            let mut conds: Vec<Value> = pod["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c["type"] != "DisruptionTarget")
                .collect();
            conds.push(cond);
            pod["status"]["conditions"] = Value::Array(conds);
            if let Some(m) = pod["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            Ok((pod, String::new()))
        },
        Target::Status,
        write::Ownership::Update,
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(s) if s.code == 404 => Err(s),
        Err(s) => Err(s),
    }
}
