//! Label and node selectors, compiled once and matched many times.
//!
//! - [`Selector`]: a `metav1.LabelSelector` (`matchLabels` +
//!   `matchExpressions` with In/NotIn/Exists/DoesNotExist) or a plain label
//!   set (Service and ReplicationController selectors). As upstream's
//!   `LabelSelectorAsSelector`, a missing selector selects nothing and an
//!   empty one selects everything.
//! - [`NodeSelector`]: the required node affinity of a pod (`nodeSelector`
//!   plus `requiredDuringSchedulingIgnoredDuringExecution` terms, operators
//!   In/NotIn/Exists/DoesNotExist/Gt/Lt, `matchFields` on `metadata.name`),
//!   and [`PreferredTerms`] for the preferred ones.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// The empty label map, for objects that have no labels.
pub static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// One requirement's operator and values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// The label is present with one of the values.
    In(Vec<String>),
    /// The label is absent, or present with none of the values.
    NotIn(Vec<String>),
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label is an integer greater than this one (node selectors only).
    Gt(i64),
    /// The label is an integer less than this one (node selectors only).
    Lt(i64),
}

/// One `key op values` requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The label key (or field name, for `matchFields`).
    pub key: String,
    /// The operator and its values.
    pub op: Op,
}

impl Requirement {
    /// Whether a value (`None`: the label is absent) satisfies the
    /// requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match &self.op {
            Op::In(vals) => value.is_some_and(|v| vals.iter().any(|x| x == v)),
            Op::NotIn(vals) => value.is_none_or(|v| !vals.iter().any(|x| x == v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::Gt(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Op::Lt(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }

    /// Whether a label set satisfies the requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.key).map(String::as_str))
    }

    /// Parse a node selector requirement (`Gt`/`Lt` allowed); `None` when
    /// it is invalid.
    pub fn from_node_requirement(r: &NodeSelectorRequirement) -> Option<Requirement> {
        let values = r.values.clone().unwrap_or_default();
        let op = match r.operator.as_str() {
            "In" if !values.is_empty() => Op::In(values),
            "NotIn" if !values.is_empty() => Op::NotIn(values),
            "Exists" if values.is_empty() => Op::Exists,
            "DoesNotExist" if values.is_empty() => Op::DoesNotExist,
            "Gt" if values.len() == 1 => Op::Gt(values[0].parse().ok()?),
            "Lt" if values.len() == 1 => Op::Lt(values[0].parse().ok()?),
            _ => return None,
        };
        Some(Requirement {
            key: r.key.clone(),
            op,
        })
    }
}

/// A compiled label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Selects nothing (a missing or invalid selector).
    Nothing,
    /// Selects the label sets meeting every requirement; none: everything.
    Requirements(Vec<Requirement>),
}

impl Selector {
    /// The selector that selects everything.
    pub fn everything() -> Selector {
        Selector::Requirements(Vec::new())
    }

    /// Compile a `metav1.LabelSelector` (`None` selects nothing; an invalid
    /// one selects nothing too).
    pub fn from_label_selector(sel: Option<&LabelSelector>) -> Selector {
        let Some(sel) = sel else {
            return Selector::Nothing;
        };
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push(Requirement {
                key: k.clone(),
                op: Op::In(vec![v.clone()]),
            });
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.clone().unwrap_or_default();
            let op = match e.operator.as_str() {
                "In" if !values.is_empty() => Op::In(values),
                "NotIn" if !values.is_empty() => Op::NotIn(values),
                "Exists" if values.is_empty() => Op::Exists,
                "DoesNotExist" if values.is_empty() => Op::DoesNotExist,
                _ => return Selector::Nothing,
            };
            reqs.push(Requirement {
                key: e.key.clone(),
                op,
            });
        }
        Selector::Requirements(reqs)
    }

    /// A selector matching a label set exactly (`labels.SelectorFromSet`):
    /// every key equal; an empty set selects everything.
    pub fn from_set(set: &BTreeMap<String, String>) -> Selector {
        Selector::Requirements(
            set.iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: Op::In(vec![v.clone()]),
                })
                .collect(),
        )
    }

    /// Whether the label set is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Selector::Nothing => false,
            Selector::Requirements(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }

    /// Whether this selector has no requirements (upstream's `Empty()`:
    /// true of the select-everything selector, false of select-nothing).
    pub fn is_empty(&self) -> bool {
        matches!(self, Selector::Requirements(r) if r.is_empty())
    }

    /// Add requirements (upstream's `Selector.Add`); adding to "nothing"
    /// keeps it nothing.
    pub fn add(&mut self, more: impl IntoIterator<Item = Requirement>) {
        if let Selector::Requirements(reqs) = self {
            reqs.extend(more);
        }
    }
}

/// One compiled `NodeSelectorTerm`.
#[derive(Clone, Debug)]
pub struct NodeSelectorTermMatcher {
    exprs: Vec<Requirement>,
    /// `matchFields` requirements on `metadata.name`.
    fields: Vec<Requirement>,
    /// False when the term failed to parse or is empty: it matches nothing.
    valid: bool,
}

impl NodeSelectorTermMatcher {
    /// Compile a term. Empty terms and terms with an invalid requirement
    /// match nothing (as upstream's lazy-error node selector).
    pub fn new(t: &NodeSelectorTerm) -> NodeSelectorTermMatcher {
        let mut valid = true;
        let mut exprs = Vec::new();
        let mut fields = Vec::new();
        for r in t.match_expressions.iter().flatten() {
            match Requirement::from_node_requirement(r) {
                Some(r) => exprs.push(r),
                None => valid = false,
            }
        }
        for r in t.match_fields.iter().flatten() {
            let ok = r.key == "metadata.name" && matches!(r.operator.as_str(), "In" | "NotIn");
            match Requirement::from_node_requirement(r) {
                // metadata.name only takes a single value.
                Some(req) if ok && r.values.as_ref().is_some_and(|v| v.len() == 1) => {
                    fields.push(req)
                }
                _ => valid = false,
            }
        }
        if exprs.is_empty() && fields.is_empty() {
            valid = false;
        }
        NodeSelectorTermMatcher {
            exprs,
            fields,
            valid,
        }
    }

    /// Whether the node (its labels and name) matches the term.
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        self.valid
            && self.exprs.iter().all(|r| r.matches(labels))
            && self.fields.iter().all(|r| r.matches_value(Some(node_name)))
    }

    /// The `metadata.name In [...]` node names this term requires, if any
    /// (intersection of its `In` field requirements).
    pub fn required_node_names(&self) -> Option<Vec<String>> {
        let mut out: Option<Vec<String>> = None;
        for f in &self.fields {
            if let Op::In(v) = &f.op {
                out = Some(match out {
                    None => v.clone(),
                    Some(prev) => prev.into_iter().filter(|n| v.contains(n)).collect(),
                });
            }
        }
        out
    }
}

/// A pod's required node constraints: `spec.nodeSelector` AND (any of the
/// required node affinity terms).
#[derive(Clone, Debug, Default)]
pub struct NodeSelector {
    /// `spec.nodeSelector` as requirements.
    pub node_selector: Vec<Requirement>,
    /// Required node affinity terms (ORed); `None` when not set.
    pub terms: Option<Vec<NodeSelectorTermMatcher>>,
}

impl NodeSelector {
    /// The required node selector and affinity of a pod
    /// (`nodeaffinity.GetRequiredNodeAffinity`).
    pub fn of_pod(pod: &Pod) -> NodeSelector {
        let spec = pod.spec.as_ref();
        let node_selector = spec
            .and_then(|s| s.node_selector.as_ref())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Requirement {
                        key: k.clone(),
                        op: Op::In(vec![v.clone()]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let terms = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|ns| {
                ns.node_selector_terms
                    .iter()
                    .map(NodeSelectorTermMatcher::new)
                    .collect()
            });
        NodeSelector {
            node_selector,
            terms,
        }
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.node_selector.is_empty() && self.terms.is_none()
    }

    /// Whether the node matches.
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        self.node_selector.iter().all(|r| r.matches(labels))
            && self
                .terms
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.matches(labels, node_name)))
    }
}

/// A pod's preferred node affinity terms with their weights.
#[derive(Clone, Debug, Default)]
pub struct PreferredTerms {
    terms: Vec<(i64, NodeSelectorTermMatcher)>,
}

impl PreferredTerms {
    /// Compile preferred terms; zero-weight and empty terms are dropped.
    pub fn new(terms: &[PreferredSchedulingTerm]) -> PreferredTerms {
        PreferredTerms {
            terms: terms
                .iter()
                .filter(|t| t.weight != 0)
                .map(|t| {
                    (
                        i64::from(t.weight),
                        NodeSelectorTermMatcher::new(&t.preference),
                    )
                })
                .filter(|(_, m)| m.valid)
                .collect(),
        }
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The sum of the weights of the terms the node matches.
    pub fn score(&self, labels: &BTreeMap<String, String>, node_name: &str) -> i64 {
        self.terms
            .iter()
            .filter(|(_, t)| t.matches(labels, node_name))
            .map(|(w, _)| w)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn nreq(key: &str, op: &str, vals: &[&str]) -> NodeSelectorRequirement {
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

    #[test]
    fn label_selector_semantics() {
        assert!(!Selector::from_label_selector(None).matches(&labels(&[])));
        let all = Selector::from_label_selector(Some(&LabelSelector::default()));
        assert!(all.matches(&labels(&[("a", "b")])));
        assert!(all.is_empty());
        assert!(!Selector::Nothing.is_empty());
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["db".into()]),
                },
                LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        let s = Selector::from_label_selector(Some(&sel));
        assert!(s.matches(&labels(&[("app", "web"), ("env", "x")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "x"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        let bad = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Gt".into(),
                values: Some(vec!["1".into()]),
            }]),
            ..Default::default()
        };
        assert_eq!(Selector::from_label_selector(Some(&bad)), Selector::Nothing);
    }

    #[test]
    fn node_selector_operators() {
        let l = labels(&[("zone", "a"), ("cores", "8")]);
        let cases = [
            (nreq("zone", "In", &["a", "b"]), true),
            (nreq("zone", "In", &["c"]), false),
            (nreq("zone", "NotIn", &["c"]), true),
            (nreq("missing", "NotIn", &["c"]), true),
            (nreq("zone", "NotIn", &["a"]), false),
            (nreq("zone", "Exists", &[]), true),
            (nreq("missing", "Exists", &[]), false),
            (nreq("missing", "DoesNotExist", &[]), true),
            (nreq("zone", "DoesNotExist", &[]), false),
            (nreq("cores", "Gt", &["4"]), true),
            (nreq("cores", "Gt", &["8"]), false),
            (nreq("cores", "Lt", &["9"]), true),
            (nreq("zone", "Lt", &["9"]), false),
            (nreq("missing", "Lt", &["9"]), false),
        ];
        for (req, want) in cases {
            let term = NodeSelectorTerm {
                match_expressions: Some(vec![req.clone()]),
                match_fields: None,
            };
            assert_eq!(
                NodeSelectorTermMatcher::new(&term).matches(&l, "n1"),
                want,
                "{req:?}"
            );
        }
        // Invalid: In without values, Gt with a non-integer.
        for req in [
            nreq("zone", "In", &[]),
            nreq("cores", "Gt", &["x"]),
            nreq("zone", "Foo", &["a"]),
        ] {
            let term = NodeSelectorTerm {
                match_expressions: Some(vec![req]),
                match_fields: None,
            };
            assert!(!NodeSelectorTermMatcher::new(&term).matches(&l, "n1"));
        }
        // An empty term matches nothing.
        assert!(!NodeSelectorTermMatcher::new(&NodeSelectorTerm::default()).matches(&l, "n1"));
    }

    #[test]
    fn match_fields() {
        let term = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![nreq("metadata.name", "In", &["n1"])]),
        };
        let m = NodeSelectorTermMatcher::new(&term);
        assert!(m.matches(&labels(&[]), "n1"));
        assert!(!m.matches(&labels(&[]), "n2"));
        assert_eq!(m.required_node_names(), Some(vec!["n1".to_string()]));
        let term = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![nreq("metadata.name", "NotIn", &["n1"])]),
        };
        let m = NodeSelectorTermMatcher::new(&term);
        assert!(!m.matches(&labels(&[]), "n1"));
        assert!(m.matches(&labels(&[]), "n2"));
        assert_eq!(m.required_node_names(), None);
        let term = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![nreq("metadata.labels", "In", &["n1"])]),
        };
        assert!(!NodeSelectorTermMatcher::new(&term).matches(&labels(&[]), "n1"));
    }
}
