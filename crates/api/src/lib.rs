//! rkube's API model: everything about Kubernetes objects that needs no IO.
//!
//! - [`registry`]: the kinds the server serves and the [`Strategy`] each
//!   follows (defaults, validation, status split, table columns), declared
//!   once per kind in [`kinds`];
//! - [`status`] and [`validation`]: errors as upstream words them;
//! - [`labels`], [`fields`]: selectors; [`quantity`]: resource amounts;
//! - [`quota`] and [`limitrange`]: what objects count against
//!   ResourceQuotas, and the defaults and bounds of LimitRanges;
//! - [`table`]: server-side tables; [`meta`]: metadata rules;
//!   [`discovery`]: the discovery documents, generated from the registry.
//!
//! Newcomers: start with [`registry`], then one kind in `kinds/`.
//!
//! **Architecture invariant**: no IO here. Nothing in this crate knows
//! about HTTP or the store; it is pure functions over objects.
//!
//! [`Strategy`]: registry::Strategy

#![warn(missing_docs)]

pub mod crd;
pub mod cron;
pub mod defaults;
pub mod discovery;
pub mod fields;
pub mod gojson;
pub mod kinds;
pub mod labels;
pub mod limitrange;
pub mod managed;
pub mod meta;
pub mod openapi;
pub mod patch;
pub mod printers;
pub mod protobuf;
pub mod quantity;
pub mod quota;
pub mod registry;
pub mod status;
pub mod table;
pub mod validation;

pub use k8s_openapi;
