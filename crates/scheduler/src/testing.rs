//! Builders for nodes and pods in tests (upstream's `st.MakeNode()` /
//! `st.MakePod()` in spirit).

#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerImage, ContainerPort, Node, NodeAffinity, NodeCondition,
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, NodeStatus, Pod,
    PodAffinity, PodAffinityTerm, PodAntiAffinity, PodSpec, PodStatus, PreferredSchedulingTerm,
    ResourceRequirements, Taint, Toleration, TopologySpreadConstraint, Volume,
    WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};

pub struct NodeBuilder(pub Node);

pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder(Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                [("kubernetes.io/hostname".to_string(), name.to_string())]
                    .into_iter()
                    .collect(),
            ),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(BTreeMap::new()),
            ..Default::default()
        }),
    })
}

impl NodeBuilder {
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn resource(mut self, name: &str, q: &str) -> Self {
        let st = self.0.status.as_mut().unwrap();
        st.allocatable
            .get_or_insert_with(Default::default)
            .insert(name.into(), Quantity(q.into()));
        self
    }
    pub fn cpu(self, q: &str) -> Self {
        self.resource("cpu", q)
    }
    pub fn memory(self, q: &str) -> Self {
        self.resource("memory", q)
    }
    pub fn pods(self, n: i64) -> Self {
        self.resource("pods", &n.to_string())
    }
    /// 4 cpu, 8Gi, 110 pods.
    pub fn capacity(self) -> Self {
        self.cpu("4").memory("8Gi").pods(110)
    }
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.0
            .spec
            .as_mut()
            .unwrap()
            .taints
            .get_or_insert_with(Vec::new)
            .push(Taint {
                key: key.into(),
                value: if value.is_empty() {
                    None
                } else {
                    Some(value.into())
                },
                effect: effect.into(),
                time_added: None,
            });
        self
    }
    pub fn unschedulable(mut self) -> Self {
        self.0.spec.as_mut().unwrap().unschedulable = Some(true);
        self
    }
    pub fn condition(mut self, t: &str, status: &str) -> Self {
        self.0
            .status
            .as_mut()
            .unwrap()
            .conditions
            .get_or_insert_with(Vec::new)
            .push(NodeCondition {
                type_: t.into(),
                status: status.into(),
                ..Default::default()
            });
        self
    }
    pub fn image(mut self, names: &[&str], size: i64) -> Self {
        self.0
            .status
            .as_mut()
            .unwrap()
            .images
            .get_or_insert_with(Vec::new)
            .push(ContainerImage {
                names: Some(names.iter().map(|s| s.to_string()).collect()),
                size_bytes: Some(size),
            });
        self
    }
    pub fn obj(self) -> Node {
        self.0
    }
}

pub struct PodBuilder(pub Pod);

pub fn pod(name: &str) -> PodBuilder {
    PodBuilder(Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        spec: Some(PodSpec::default()),
        status: Some(PodStatus::default()),
    })
}

fn reqs(r: &[(&str, &str)]) -> Option<ResourceRequirements> {
    Some(ResourceRequirements {
        requests: Some(
            r.iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect(),
        ),
        ..Default::default()
    })
}

pub fn node_req(key: &str, op: &str, vals: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: if vals.is_empty() {
            None
        } else {
            Some(vals.iter().map(|s| s.to_string()).collect())
        },
    }
}

pub fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: Some(exprs),
        match_fields: None,
    }
}

pub fn label_selector(kv: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        match_expressions: None,
    }
}

pub fn pod_term(sel: &[(&str, &str)], topology_key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(label_selector(sel)),
        topology_key: topology_key.into(),
        ..Default::default()
    }
}

pub fn spread(
    max_skew: i32,
    key: &str,
    when: &str,
    sel: &[(&str, &str)],
) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(label_selector(sel)),
        ..Default::default()
    }
}

impl PodBuilder {
    fn spec(&mut self) -> &mut PodSpec {
        self.0.spec.as_mut().unwrap()
    }
    fn affinity(&mut self) -> &mut Affinity {
        self.spec().affinity.get_or_insert_with(Default::default)
    }
    pub fn namespace(mut self, ns: &str) -> Self {
        self.0.metadata.namespace = Some(ns.into());
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn node(mut self, n: &str) -> Self {
        self.spec().node_name = Some(n.into());
        self
    }
    pub fn container(mut self, r: &[(&str, &str)]) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            resources: reqs(r),
            ..Default::default()
        });
        self
    }
    pub fn image(mut self, image: &str) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            image: Some(image.into()),
            ..Default::default()
        });
        self
    }
    pub fn init_container(mut self, r: &[(&str, &str)]) -> Self {
        let list = self.spec().init_containers.get_or_insert_with(Vec::new);
        let n = list.len();
        list.push(Container {
            name: format!("i{n}"),
            resources: reqs(r),
            ..Default::default()
        });
        self
    }
    pub fn sidecar(mut self, r: &[(&str, &str)]) -> Self {
        let list = self.spec().init_containers.get_or_insert_with(Vec::new);
        let n = list.len();
        list.push(Container {
            name: format!("s{n}"),
            resources: reqs(r),
            restart_policy: Some("Always".into()),
            ..Default::default()
        });
        self
    }
    pub fn overhead(mut self, r: &[(&str, &str)]) -> Self {
        self.spec().overhead = Some(
            r.iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect(),
        );
        self
    }
    pub fn host_port_full(mut self, ip: &str, proto: &str, port: i32) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            ports: Some(vec![ContainerPort {
                container_port: port,
                host_port: Some(port),
                host_ip: if ip.is_empty() { None } else { Some(ip.into()) },
                protocol: if proto.is_empty() {
                    None
                } else {
                    Some(proto.into())
                },
                ..Default::default()
            }]),
            ..Default::default()
        });
        self
    }
    pub fn host_port(self, port: i32) -> Self {
        self.host_port_full("", "", port)
    }
    pub fn priority(mut self, p: i32) -> Self {
        self.spec().priority = Some(p);
        self
    }
    pub fn preemption_never(mut self) -> Self {
        self.spec().preemption_policy = Some("Never".into());
        self
    }
    pub fn toleration(mut self, key: &str, op: &str, value: &str, effect: &str) -> Self {
        let opt = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(s.to_string())
            }
        };
        self.spec()
            .tolerations
            .get_or_insert_with(Vec::new)
            .push(Toleration {
                key: opt(key),
                operator: opt(op),
                value: opt(value),
                effect: opt(effect),
                toleration_seconds: None,
            });
        self
    }
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.spec()
            .node_selector
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn required_node_affinity(mut self, terms: Vec<NodeSelectorTerm>) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
            node_selector_terms: terms,
        });
        self
    }
    pub fn preferred_node_affinity(mut self, weight: i32, t: NodeSelectorTerm) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(PreferredSchedulingTerm {
                weight,
                preference: t,
            });
        self
    }
    pub fn pod_affinity(mut self, t: PodAffinityTerm) -> Self {
        let pa = self
            .affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default);
        pa.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    pub fn pod_anti_affinity(mut self, t: PodAffinityTerm) -> Self {
        let pa = self
            .affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default);
        pa.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    pub fn preferred_pod_affinity(mut self, weight: i32, t: PodAffinityTerm) -> Self {
        let pa = self
            .affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default);
        pa.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight,
                pod_affinity_term: t,
            });
        self
    }
    pub fn preferred_pod_anti_affinity(mut self, weight: i32, t: PodAffinityTerm) -> Self {
        let pa = self
            .affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default);
        pa.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight,
                pod_affinity_term: t,
            });
        self
    }
    pub fn spread(mut self, c: TopologySpreadConstraint) -> Self {
        self.spec()
            .topology_spread_constraints
            .get_or_insert_with(Vec::new)
            .push(c);
        self
    }
    pub fn owner(mut self, kind: &str, name: &str) -> Self {
        let api_version = if kind == "ReplicationController" {
            "v1"
        } else {
            "apps/v1"
        };
        self.0
            .metadata
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.into(),
                uid: format!("uid-{name}"),
                controller: Some(true),
                block_owner_deletion: None,
            });
        self
    }
    pub fn start_time(mut self, secs: i64) -> Self {
        self.0.status.as_mut().unwrap().start_time = Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(secs).unwrap(),
        ));
        self
    }
    pub fn nominated(mut self, node: &str) -> Self {
        self.0.status.as_mut().unwrap().nominated_node_name = Some(node.into());
        self
    }
    pub fn volume(mut self, v: Volume) -> Self {
        self.spec().volumes.get_or_insert_with(Vec::new).push(v);
        self
    }
    pub fn terminating(mut self) -> Self {
        self.0.metadata.deletion_timestamp =
            Some(Time(k8s_openapi::jiff::Timestamp::from_second(1).unwrap()));
        self
    }
    pub fn obj(self) -> Pod {
        self.0
    }
}
