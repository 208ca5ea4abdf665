//! rkube's Kubernetes API server.
//!
//! A request flows: [`server`] (TLS, client-certificate identity, routing
//! by [`request::route`]) → [`handlers`] (one generic handler per verb for
//! every kind: reads from the [`cache`], writes to the store through
//! compare-and-swap) → [`response`]. The [`cache`] learns of every write
//! from the store's watch, never from the handlers.
//!
//! Newcomers: start with [`server::start`], then `handlers/write.rs`.

#![warn(missing_docs)]

pub mod admission;
pub mod cache;
pub mod crd;
pub mod handlers;
pub mod kubernetes_service;
pub mod local;
pub mod metrics;
pub mod namespaces;
pub mod object;
pub mod request;
pub mod response;
pub mod server;
pub mod services;
pub mod tls;

pub use server::{Config, Running, start};
