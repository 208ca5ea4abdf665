//! discovery.k8s.io/v1 kinds.

use k8s_openapi::api::discovery::v1 as api;

use crate::registry::{ResourceInfo, Strategy};

/// EndpointSlices.
pub struct EndpointSlices;
impl Strategy for EndpointSlices {
    type Object = api::EndpointSlice;
    const INFO: ResourceInfo = ResourceInfo {
        generation: true,
        ..ResourceInfo::new(
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            "endpointslice",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::discovery::endpoint_slice(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        for e in &mut obj.endpoints {
            e.deprecated_topology = None;
        }
    }

    /// Label changes bump the generation too; spec-like changes are
    /// handled by the server.
    fn prepare_update(new: &mut Self::Object, old: &Self::Object) {
        if new.endpoints != old.endpoints {
            for e in &mut new.endpoints {
                e.deprecated_topology = None;
            }
        }
        if new.metadata.labels != old.metadata.labels {
            new.metadata.generation = Some(old.metadata.generation.unwrap_or(0) + 1);
        }
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::discovery::endpoint_slice(obj, errs)
    }

    fn validate_create(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::discovery::endpoint_slice_create(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::discovery::endpoint_slice_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::discovery::ENDPOINT_SLICE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::discovery::endpoint_slice(obj, now)
    }
}
