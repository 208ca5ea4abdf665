//! Sets of field paths, and their wire form `FieldsV1`.
//!
//! A path element is written as upstream writes it in `fieldsV1`:
//! `f:<name>` for a field or map key, `k:<json object of key fields>` for an
//! item of a list merged by keys, `v:<json value>` for an item of a set,
//! `i:<index>` for an item of a list known only by position. A node that is
//! itself a member and also has children carries `".": {}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A set of field paths, as a tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Whether the path ending here is in the set.
    pub member: bool,
    /// Longer paths, by their next element.
    pub children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// The subtree under `element`, created if missing.
    pub fn child(&mut self, element: &str) -> &mut FieldSet {
        self.children.entry(element.to_owned()).or_default()
    }

    /// Add a path.
    pub fn insert(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.child(first).insert(rest),
        }
    }

    /// Whether a path is in the set.
    pub fn contains(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((first, rest)) => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Whether the set has a path strictly under `path`.
    pub fn has_below(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => !self.children.values().all(FieldSet::is_empty),
            Some((first, rest)) => self.children.get(first).is_some_and(|c| c.has_below(rest)),
        }
    }

    /// Every path in the set (members only), in order.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// `self ∪ other`.
    pub fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.child(k).union(c);
        }
    }

    /// `self ∖ other` (members of `other` leave; structure stays where
    /// other members remain).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    /// `self ∩ other`.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(o) = other.children.get(k) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Drop empty subtrees.
    pub fn prune(&mut self) {
        for c in self.children.values_mut() {
            c.prune();
        }
        self.children.retain(|_, c| !c.is_empty());
    }

    /// The `fieldsV1` form.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            if c.is_empty() {
                continue;
            }
            map.insert(k.clone(), c.to_fields_v1());
        }
        Value::Object(map)
    }

    /// Parse the `fieldsV1` form (the top level is never itself a member).
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        let mut set = FieldSet::new();
        if let Some(map) = v.as_object() {
            for (k, c) in map {
                if k == "." {
                    continue;
                }
                let mut child = FieldSet::from_fields_v1(c);
                let inner = c.as_object();
                // A leaf (`{}`) or a node marked with "." is a member.
                child.member = inner.is_none_or(|m| m.is_empty() || m.contains_key("."));
                set.children.insert(k.clone(), child);
            }
        }
        set
    }
}

/// The path element of a field or map key.
pub fn field(name: &str) -> String {
    format!("f:{name}")
}

/// The path element of a list item identified by key fields.
pub fn key(keys: &Map<String, Value>) -> String {
    format!("k:{}", Value::Object(keys.clone()))
}

/// The path element of a set item.
pub fn value(v: &Value) -> String {
    format!("v:{v}")
}

/// The path element of a list item known by position.
pub fn index(i: usize) -> String {
    format!("i:{i}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips() {
        let wire = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}
        });
        let set = FieldSet::from_fields_v1(&wire);
        assert!(set.contains(&["f:metadata".into(), "f:labels".into(), "f:app".into()]));
        assert!(set.contains(&["f:metadata".into(), "f:labels".into()]));
        assert!(!set.contains(&["f:metadata".into()]));
        assert!(set.contains(&[
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into()
        ]));
        assert_eq!(set.to_fields_v1(), wire);
    }

    #[test]
    fn set_algebra() {
        let mut a = FieldSet::new();
        a.insert(&["f:a".into()]);
        a.insert(&["f:b".into(), "f:c".into()]);
        let mut b = FieldSet::new();
        b.insert(&["f:b".into(), "f:c".into()]);
        b.insert(&["f:d".into()]);
        assert_eq!(
            a.intersection(&b).paths(),
            vec![vec!["f:b".to_string(), "f:c".to_string()]]
        );
        assert_eq!(a.difference(&b).paths(), vec![vec!["f:a".to_string()]]);
        let mut u = a.clone();
        u.union(&b);
        assert_eq!(u.paths().len(), 3);
    }
}
