//! Per-kind table printers: the columns and cells `kubectl get` shows,
//! one module per API group.

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod networking;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;
