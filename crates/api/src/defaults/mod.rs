//! Per-kind defaults (upstream's `SetDefaults_*`), one module per API
//! group; [`pod`] holds the pod-spec defaults every template shares.

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod networking;
pub mod pod;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;
