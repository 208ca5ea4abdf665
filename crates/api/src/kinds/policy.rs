//! policy/v1 kinds.

use k8s_openapi::api::policy::v1 as api;

use crate::registry::{ResourceInfo, Strategy};

/// PodDisruptionBudgets.
pub struct PodDisruptionBudgets;
impl Strategy for PodDisruptionBudgets {
    type Object = api::PodDisruptionBudget;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["pdb"],
        status: true,
        generation: true,
        ..ResourceInfo::new(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            "poddisruptionbudget",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::policy::pod_disruption_budget(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::policy::pod_disruption_budget(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::policy::pod_disruption_budget_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::policy::POD_DISRUPTION_BUDGET
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::policy::pod_disruption_budget(obj, now)
    }
}
