//! [`PodInfo`]: a pod with everything the plugins need from it computed
//! once (requests, host ports, affinity terms, tolerations, owner), so no
//! plugin re-parses a pod per node.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, Toleration, WeightedPodAffinityTerm};

use crate::labels::{EMPTY_LABELS, NodeSelector, Selector};
use crate::resource::{Resource, pod_non_zero_requests, pod_requests};

/// A host port a pod asks for: (host IP, protocol, port), sanitized as
/// upstream (`""` → `0.0.0.0`, `""` → `TCP`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// Host IP; `0.0.0.0` binds every address.
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The port.
    pub port: i32,
}

/// The controller owner reference of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerRef {
    /// `apiVersion` of the owner.
    pub api_version: String,
    /// Kind of the owner (`ReplicaSet`, `StatefulSet`, ...).
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// UID of the owner.
    pub uid: String,
}

/// A compiled pod (anti-)affinity term (upstream's `framework.AffinityTerm`).
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    /// Namespaces named by the term (the pod's own when neither
    /// `namespaces` nor `namespaceSelector` is set).
    pub namespaces: Vec<String>,
    /// The namespace selector, if set.
    pub namespace_selector: Option<Selector>,
    /// The pod label selector.
    pub selector: Selector,
    /// The topology key.
    pub topology_key: String,
}

impl AffinityTerm {
    /// Compile a term of a pod in namespace `ns`.
    pub fn new(ns: &str, t: &PodAffinityTerm) -> AffinityTerm {
        let namespaces = match (&t.namespaces, &t.namespace_selector) {
            (ns_list, None) if ns_list.as_ref().is_none_or(|l| l.is_empty()) => {
                vec![ns.to_string()]
            }
            (ns_list, _) => ns_list.clone().unwrap_or_default(),
        };
        AffinityTerm {
            namespaces,
            namespace_selector: t
                .namespace_selector
                .as_ref()
                .map(|s| Selector::from_label_selector(Some(s))),
            selector: Selector::from_label_selector(t.label_selector.as_ref()),
            topology_key: t.topology_key.clone(),
        }
    }

    /// Whether `pod` (whose namespace has labels `ns_labels`) matches the
    /// term (upstream's `AffinityTerm.Matches`).
    pub fn matches(&self, pod: &PodInfo, ns_labels: &BTreeMap<String, String>) -> bool {
        let ns_ok = self.namespaces.contains(&pod.namespace)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(ns_labels));
        ns_ok && self.selector.matches(pod.labels())
    }
}

/// A compiled preferred (weighted) pod (anti-)affinity term.
#[derive(Clone, Debug)]
pub struct WeightedAffinityTerm {
    /// The term.
    pub term: AffinityTerm,
    /// Its weight (1-100).
    pub weight: i64,
}

/// A pod and the values derived from it that scheduling uses.
#[derive(Debug)]
pub struct PodInfo {
    /// The pod object.
    pub pod: Pod,
    /// `namespace/name`, the pod's identity in the snapshot.
    pub key: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID (may be empty in tests).
    pub uid: String,
    /// `spec.priority` (0 when unset; the caller resolves PriorityClasses).
    pub priority: i32,
    /// Effective requests (init containers, sidecars, overhead).
    pub requests: Resource,
    /// CPU requests for scoring, defaults applied (millicores).
    pub non_zero_cpu: i64,
    /// Memory requests for scoring, defaults applied (bytes).
    pub non_zero_memory: i64,
    /// Host ports requested by containers (and sidecars).
    pub host_ports: Vec<HostPort>,
    /// The required node selector and node affinity.
    pub node_selector: NodeSelector,
    /// Required pod affinity terms.
    pub required_affinity_terms: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti_affinity_terms: Vec<AffinityTerm>,
    /// Preferred pod affinity terms.
    pub preferred_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Preferred pod anti-affinity terms.
    pub preferred_anti_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Whether the pod has a deletion timestamp.
    pub terminating: bool,
    /// `status.startTime` in nanoseconds since the epoch.
    pub start_time: Option<i128>,
    /// The controller owner, if any.
    pub controller: Option<ControllerRef>,
    /// Container images (init and app), normalized with a `:latest` tag
    /// when they have none.
    pub images: Vec<String>,
}

/// Add `:latest` to an image reference without a tag (upstream's
/// `normalizedImageName`).
pub fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':');
    let slash = name.rfind('/');
    if colon.map_or(-1, |c| c as i64) <= slash.map_or(-1, |s| s as i64) {
        format!("{name}:latest")
    } else {
        name.to_string()
    }
}

impl PodInfo {
    /// Compute the scheduling view of a pod.
    pub fn new(pod: Pod) -> PodInfo {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let key = format!("{namespace}/{name}");
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let requests = pod_requests(&pod);
        let (non_zero_cpu, non_zero_memory) = pod_non_zero_requests(&pod);
        let spec = pod.spec.as_ref();
        let priority = spec.and_then(|s| s.priority).unwrap_or(0);
        let mut host_ports = Vec::new();
        let mut images = Vec::new();
        if let Some(s) = spec {
            let sidecars = s
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            for c in s.containers.iter().chain(sidecars) {
                for p in c.ports.iter().flatten() {
                    if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                        host_ports.push(HostPort {
                            ip: p
                                .host_ip
                                .clone()
                                .filter(|s| !s.is_empty())
                                .unwrap_or_else(|| "0.0.0.0".into()),
                            protocol: p
                                .protocol
                                .clone()
                                .filter(|s| !s.is_empty())
                                .unwrap_or_else(|| "TCP".into()),
                            port: hp,
                        });
                    }
                }
            }
            for c in s
                .init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
            {
                if let Some(img) = c.image.as_deref() {
                    images.push(normalized_image_name(img));
                }
            }
        }
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let req = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms
                .into_iter()
                .flatten()
                .map(|t| AffinityTerm::new(&namespace, t))
                .collect()
        };
        let pref = |terms: Option<&Vec<WeightedPodAffinityTerm>>| -> Vec<WeightedAffinityTerm> {
            terms
                .into_iter()
                .flatten()
                .filter(|t| t.weight != 0)
                .map(|t| WeightedAffinityTerm {
                    term: AffinityTerm::new(&namespace, &t.pod_affinity_term),
                    weight: i64::from(t.weight),
                })
                .collect()
        };
        let required_affinity_terms = req(pa.and_then(|p| {
            p.required_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let required_anti_affinity_terms = req(paa.and_then(|p| {
            p.required_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let preferred_affinity_terms = pref(pa.and_then(|p| {
            p.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let preferred_anti_affinity_terms = pref(paa.and_then(|p| {
            p.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let controller = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| ControllerRef {
                api_version: o.api_version.clone(),
                kind: o.kind.clone(),
                name: o.name.clone(),
                uid: o.uid.clone(),
            });
        PodInfo {
            node_selector: NodeSelector::of_pod(&pod),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            start_time: pod
                .status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0.as_nanosecond()),
            pod,
            key,
            namespace,
            name,
            uid,
            priority,
            requests,
            non_zero_cpu,
            non_zero_memory,
            host_ports,
            required_affinity_terms,
            required_anti_affinity_terms,
            preferred_affinity_terms,
            preferred_anti_affinity_terms,
            controller,
            images,
        }
    }

    /// Wrap in an [`Arc`].
    pub fn arc(pod: Pod) -> Arc<PodInfo> {
        Arc::new(PodInfo::new(pod))
    }

    /// The pod's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    /// The pod's tolerations.
    pub fn tolerations(&self) -> &[Toleration] {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or(&[])
    }

    /// `spec.nodeName`, if set.
    pub fn node_name(&self) -> Option<&str> {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    /// `status.nominatedNodeName`, if set.
    pub fn nominated_node_name(&self) -> Option<&str> {
        self.pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    /// Whether the pod has any pod affinity or anti-affinity term.
    pub fn has_affinity(&self) -> bool {
        !self.required_affinity_terms.is_empty()
            || !self.required_anti_affinity_terms.is_empty()
            || !self.preferred_affinity_terms.is_empty()
            || !self.preferred_anti_affinity_terms.is_empty()
    }

    /// Whether the pod has terms that score other pods' placement (required
    /// affinity, preferred affinity or anti-affinity) — what
    /// InterPodAffinity's scoring looks at in existing pods.
    pub fn has_scoring_terms(&self) -> bool {
        !self.required_affinity_terms.is_empty()
            || !self.preferred_affinity_terms.is_empty()
            || !self.preferred_anti_affinity_terms.is_empty()
    }

    /// Whether the pod may preempt others (`preemptionPolicy` is not
    /// `Never`).
    pub fn may_preempt(&self) -> bool {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.preemption_policy.as_deref())
            != Some("Never")
    }

    /// `spec.schedulerName` (defaults to `default-scheduler`).
    pub fn scheduler_name(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or("default-scheduler")
    }
}

/// Whether the pod is held back by `spec.schedulingGates` (upstream's
/// SchedulingGates plugin): such pods are not scheduled until the gates are
/// removed.
pub fn is_gated(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("nginx:1.2"), "nginx:1.2");
        assert_eq!(
            normalized_image_name("localhost:5000/nginx"),
            "localhost:5000/nginx:latest"
        );
        assert_eq!(
            normalized_image_name("localhost:5000/nginx:1"),
            "localhost:5000/nginx:1"
        );
    }
}
