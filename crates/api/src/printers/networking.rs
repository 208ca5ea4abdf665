//! Tables of networking.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::networking::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{format_label_selector, load_balancer_string};
use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of NetworkPolicy.
pub const NETWORK_POLICY: &[Column] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        "Selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];

/// Cells of one NetworkPolicy.
pub fn network_policy(obj: &api::NetworkPolicy, now: Timestamp) -> Vec<Value> {
    // An absent selector prints as the empty one: `<none>`.
    let selector = obj.spec.as_ref().and_then(|s| s.pod_selector.as_ref());
    vec![
        name_cell(&obj.metadata),
        Value::from(format_label_selector(selector)),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of Ingress.
pub const INGRESS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource referenced by this Ingress.",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

/// Upstream's `formatHosts`: at most three non-empty hosts, then
/// ` + N more...` counting every remaining rule; `*` without hosts.
fn format_hosts(rules: &[api::IngressRule]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        if !more && let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".into();
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", rules.len() - MAX)
    } else {
        ret
    }
}

/// Cells of one Ingress.
pub fn ingress(obj: &api::Ingress, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let class = spec
        .and_then(|s| s.ingress_class_name.clone())
        .unwrap_or_else(|| "<none>".into());
    let hosts = format_hosts(spec.and_then(|s| s.rules.as_deref()).unwrap_or_default());
    let address = load_balancer_string(
        obj.status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_deref())
            .unwrap_or_default()
            .iter()
            .map(|i| (i.ip.as_ref(), i.hostname.as_ref())),
    );
    let tls = spec
        .and_then(|s| s.tls.as_ref())
        .is_some_and(|t| !t.is_empty());
    vec![
        name_cell(&obj.metadata),
        Value::from(class),
        Value::from(hosts),
        Value::from(address),
        Value::from(if tls { "80, 443" } else { "80" }),
        age_cell(&obj.metadata, now),
    ]
}

/// Columns of IngressClass.
pub const INGRESS_CLASS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

/// Cells of one IngressClass.
pub fn ingress_class(obj: &api::IngressClass, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let parameters = match spec.and_then(|s| s.parameters.as_ref()) {
        None => "<none>".to_string(),
        Some(p) => {
            let mut s = p.kind.clone();
            if let Some(group) = &p.api_group {
                s.push('.');
                s.push_str(group);
            }
            s.push('/');
            s.push_str(&p.name);
            s
        }
    };
    vec![
        name_cell(&obj.metadata),
        Value::from(spec.and_then(|s| s.controller.clone()).unwrap_or_default()),
        Value::from(parameters),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(Time("2024-04-29T09:00:00Z".parse().unwrap())),
            ..Default::default()
        }
    }

    fn rule(host: &str) -> api::IngressRule {
        api::IngressRule {
            host: (!host.is_empty()).then(|| host.to_string()),
            http: None,
        }
    }

    #[test]
    fn ingress_cells() {
        let mut ing = api::Ingress {
            metadata: meta("web"),
            spec: Some(api::IngressSpec {
                rules: Some(vec![rule("a.example.com"), rule("b.example.com")]),
                ..Default::default()
            }),
            status: Some(api::IngressStatus {
                load_balancer: Some(api::IngressLoadBalancerStatus {
                    ingress: Some(vec![
                        api::IngressLoadBalancerIngress {
                            hostname: Some("lb.example.com".into()),
                            ..Default::default()
                        },
                        api::IngressLoadBalancerIngress {
                            ip: Some("10.0.0.9".into()),
                            ..Default::default()
                        },
                    ]),
                }),
            }),
        };
        assert_eq!(
            ingress(&ing, now()),
            vec![
                json!("web"),
                json!("<none>"),
                json!("a.example.com,b.example.com"),
                json!("10.0.0.9,lb.example.com"),
                json!("80"),
                json!("2d3h"),
            ]
        );
        let spec = ing.spec.as_mut().unwrap();
        spec.ingress_class_name = Some("nginx".into());
        spec.tls = Some(vec![api::IngressTLS::default()]);
        ing.status = None;
        let cells = ingress(&ing, now());
        assert_eq!(cells[1], json!("nginx"));
        assert_eq!(cells[3], json!(""));
        assert_eq!(cells[4], json!("80, 443"));

        assert_eq!(format_hosts(&[]), "*");
        assert_eq!(format_hosts(&[rule("")]), "*");
        assert_eq!(
            format_hosts(&[
                rule("a"),
                rule(""),
                rule("b"),
                rule("c"),
                rule("d"),
                rule("")
            ]),
            "a,b,c + 3 more..."
        );
    }

    #[test]
    fn ingress_class_and_network_policy_cells() {
        let mut ic = api::IngressClass {
            metadata: meta("nginx"),
            spec: Some(api::IngressClassSpec {
                controller: Some("k8s.io/ingress-nginx".into()),
                parameters: None,
            }),
        };
        assert_eq!(
            ingress_class(&ic, now()),
            vec![
                json!("nginx"),
                json!("k8s.io/ingress-nginx"),
                json!("<none>"),
                json!("2d3h"),
            ]
        );
        ic.spec.as_mut().unwrap().parameters = Some(api::IngressClassParametersReference {
            api_group: Some("k8s.example.com".into()),
            kind: "IngressParameters".into(),
            name: "external-lb".into(),
            ..Default::default()
        });
        assert_eq!(
            ingress_class(&ic, now())[2],
            json!("IngressParameters.k8s.example.com/external-lb")
        );

        let mut np = api::NetworkPolicy {
            metadata: meta("deny"),
            spec: Some(api::NetworkPolicySpec::default()),
        };
        assert_eq!(network_policy(&np, now())[1], json!("<none>"));
        np.spec.as_mut().unwrap().pod_selector = Some(LabelSelector {
            match_labels: Some([("role".to_string(), "db".to_string())].into()),
            ..Default::default()
        });
        assert_eq!(network_policy(&np, now())[1], json!("role=db"));
    }
}
