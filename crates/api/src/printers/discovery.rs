//! Tables of discovery.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::discovery::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::list_with_more;
use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of EndpointSlice.
pub const ENDPOINT_SLICE: &[Column] = &[
    NAME,
    col(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];

/// Cells of one EndpointSlice.
pub fn endpoint_slice(obj: &api::EndpointSlice, now: Timestamp) -> Vec<Value> {
    let ports = list_with_more(obj.ports.iter().flatten().map(|p| match (p.port, &p.name) {
        (Some(port), _) => port.to_string(),
        (None, Some(name)) => name.clone(),
        (None, None) => "*".to_string(),
    }));
    let endpoints = list_with_more(
        obj.endpoints
            .iter()
            .flat_map(|e| e.addresses.iter().cloned()),
    );
    vec![
        name_cell(&obj.metadata),
        Value::from(obj.address_type.clone()),
        Value::from(ports),
        Value::from(endpoints),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    fn endpoint(ips: &[&str]) -> api::Endpoint {
        api::Endpoint {
            addresses: ips.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn endpoint_slice_cells() {
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        let mut es = api::EndpointSlice {
            metadata: ObjectMeta {
                name: Some("web-abc".into()),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints: vec![],
            ports: None,
        };
        assert_eq!(
            endpoint_slice(&es, now),
            vec![
                json!("web-abc"),
                json!("IPv4"),
                json!("<unset>"),
                json!("<unset>"),
                json!("<unknown>"),
            ]
        );
        es.endpoints = vec![
            endpoint(&["10.0.0.1", "10.0.0.2"]),
            endpoint(&["10.0.0.3"]),
            endpoint(&["10.0.0.4", "10.0.0.5"]),
        ];
        es.ports = Some(vec![
            api::EndpointPort {
                port: Some(80),
                name: Some("http".into()),
                ..Default::default()
            },
            api::EndpointPort {
                name: Some("metrics".into()),
                ..Default::default()
            },
            api::EndpointPort::default(),
        ]);
        let cells = endpoint_slice(&es, now);
        assert_eq!(cells[2], json!("80,metrics,*"));
        assert_eq!(cells[3], json!("10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."));
    }
}
