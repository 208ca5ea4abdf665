//! LimitRanger admission: the namespace's LimitRanges default the
//! requests and limits of new pods' containers, and bound what pods and
//! claims ask for (403 with upstream's wording otherwise). Claims are
//! checked on update too; pod updates are not, as upstream: containers'
//! resources are immutable.

use std::sync::Arc;

use k8s_openapi::api::core::v1 as api;
use rkube_api::limitrange;
use rkube_api::status::Status;
use serde_json::Value;

use super::{cached, forbidden};
use crate::handlers::Ctx;
use crate::server::ApiServer;

/// The namespace's LimitRanges, in name order.
fn ranges(server: &Arc<ApiServer>, namespace: &str) -> Vec<api::LimitRange> {
    cached::<api::LimitRange>(server, "limitranges", namespace)
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// Fill in a new pod's container defaults from every LimitRange of its
/// namespace. The pod gets its own defaults first, as upstream defaults a
/// pod when it is decoded, before admission (a limit without a request
/// makes the request; the LimitRange does not). A pod that does not
/// decode is left for the kind's admission to refuse.
pub fn default_pod(server: &Arc<ApiServer>, namespace: &str, obj: &mut Value) {
    let ranges: Vec<api::LimitRange> = ranges(server, namespace)
        .into_iter()
        .filter(limitrange::applies_to_pods)
        .collect();
    if ranges.is_empty() {
        return;
    }
    let Ok(mut pod) = serde_json::from_value::<api::Pod>(obj.clone()) else {
        return;
    };
    rkube_api::defaults::core::pod(&mut pod);
    let mut changed = false;
    for range in &ranges {
        changed |= limitrange::default_pod(range, &mut pod);
    }
    if changed && let Ok(v) = serde_json::to_value(&pod) {
        *obj = v;
    }
}

/// Check a new pod or claim against the namespace's LimitRanges: the
/// first LimitRange it violates refuses it.
pub fn validate(ctx: &Ctx, namespace: &str, name: &str, obj: &Value) -> Result<(), Status> {
    let info = ctx.info();
    let pods = match (info.group, info.plural) {
        ("", "pods") => true,
        ("", "persistentvolumeclaims") => false,
        _ => return Ok(()),
    };
    let ranges: Vec<api::LimitRange> = ranges(&ctx.server, namespace)
        .into_iter()
        .filter(|r| {
            if pods {
                limitrange::applies_to_pods(r)
            } else {
                limitrange::applies_to_claims(r)
            }
        })
        .collect();
    if ranges.is_empty() {
        return Ok(());
    }
    let result = if pods {
        let Ok(pod) = serde_json::from_value::<api::Pod>(obj.clone()) else {
            return Ok(());
        };
        ranges
            .iter()
            .try_for_each(|r| limitrange::validate_pod(r, &pod))
    } else {
        let Ok(pvc) = serde_json::from_value::<api::PersistentVolumeClaim>(obj.clone()) else {
            return Ok(());
        };
        ranges
            .iter()
            .try_for_each(|r| limitrange::validate_claim(r, &pvc))
    };
    result.map_err(|why| forbidden(ctx, name, &why))
}
