//! Label selectors: the string syntax of `?labelSelector=` and
//! `kubectl -l`, and the structured `LabelSelector` of workload specs.
//!
//! Syntax: comma-separated requirements, each one of `k=v`, `k==v`,
//! `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not
//! exist). A selector matches a label set when every requirement does.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value`: the key is absent or has another value.
    NotEquals(String, String),
    /// `key in (values)`.
    In(String, Vec<String>),
    /// `key notin (values)`: absent, or a value not listed.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl Requirement {
    /// Whether `labels` satisfy the requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals(k, v) => write!(f, "{k}={v}"),
            Requirement::NotEquals(k, v) => write!(f, "{k}!={v}"),
            Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(",")),
            Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(",")),
            Requirement::Exists(k) => write!(f, "{k}"),
            Requirement::DoesNotExist(k) => write!(f, "!{k}"),
        }
    }
}

/// A label selector: all of its requirements must hold. The empty selector
/// matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// The requirements, all of which must hold.
    pub requirements: Vec<Requirement>,
}

impl Selector {
    /// Whether the selector matches every label set.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Parse the string syntax (`?labelSelector=`).
    pub fn parse(input: &str) -> Result<Selector, String> {
        Parser {
            s: input.as_bytes(),
            pos: 0,
        }
        .selector()
    }

    /// The selector a structured `LabelSelector` means. `None` (no selector
    /// at all) matches nothing, as upstream; an empty one matches everything.
    pub fn from_label_selector(selector: &LabelSelector) -> Result<Selector, String> {
        let mut requirements = Vec::new();
        for (k, v) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::Equals(k.clone(), v.clone()));
        }
        for expr in selector.match_expressions.iter().flatten() {
            let values = expr.values.clone().unwrap_or_default();
            let key = expr.key.clone();
            requirements.push(match expr.operator.as_str() {
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                op => return Err(format!("{op:?} is not a valid label selector operator")),
            });
        }
        Ok(Selector { requirements })
    }

    /// The selector matching exactly the given labels (`k=v` for each).
    pub fn from_map(labels: &BTreeMap<String, String>) -> Selector {
        Selector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// The string form of a structured selector as upstream formats it
/// (`app=web,tier in (a,b)`), `<none>` for an empty or absent one.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return "<none>".into();
    };
    match Selector::from_label_selector(selector) {
        Ok(s) if s.is_empty() => "<none>".into(),
        Ok(s) => s.to_string(),
        Err(_) => "<error>".into(),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || matches!(c, b',' | b'=' | b'!' | b'(' | b')') {
                break;
            }
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn selector(mut self) -> Result<Selector, String> {
        let mut requirements = Vec::new();
        loop {
            self.skip_ws();
            if self.pos >= self.s.len() {
                break;
            }
            requirements.push(self.requirement()?);
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(b',') => self.pos += 1,
                Some(c) => {
                    return Err(format!(
                        "found '{}', expected: ',' or 'end of string'",
                        c as char
                    ));
                }
            }
        }
        Ok(Selector { requirements })
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.peek() == Some(b'!') {
            self.pos += 1;
            self.skip_ws();
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.key()?;
        self.skip_ws();
        let rest = &self.s[self.pos..];
        if rest.starts_with(b"==") {
            self.pos += 2;
            Ok(Requirement::Equals(key, self.value()?))
        } else if rest.starts_with(b"!=") {
            self.pos += 2;
            Ok(Requirement::NotEquals(key, self.value()?))
        } else if rest.starts_with(b"=") {
            self.pos += 1;
            Ok(Requirement::Equals(key, self.value()?))
        } else if rest.is_empty() || rest.starts_with(b",") {
            Ok(Requirement::Exists(key))
        } else {
            let op = self.word();
            match op.as_str() {
                "in" => Ok(Requirement::In(key, self.set()?)),
                "notin" => Ok(Requirement::NotIn(key, self.set()?)),
                _ => Err(format!(
                    "found '{op}', expected: in, notin, =, ==, !=, gt, lt"
                )),
            }
        }
    }

    fn key(&mut self) -> Result<String, String> {
        let key = self.word();
        if key.is_empty() {
            return Err("found '', expected: identifier".into());
        }
        crate::validation::qualified_name_errors(&key).map_or(Ok(key.clone()), |e| {
            Err(format!("key: Invalid value: {key:?}: {e}"))
        })
    }

    fn value(&mut self) -> Result<String, String> {
        self.skip_ws();
        let value = self.word();
        match crate::validation::label_value_errors(&value) {
            Some(e) => Err(format!("values[0][{value}]: Invalid value: {value:?}: {e}")),
            None => Ok(value),
        }
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return Err("found '', expected: '('".into());
        }
        self.pos += 1;
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            let v = self.word();
            if !v.is_empty() {
                values.push(v);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err("found 'end of string', expected: ',' or ')'".into()),
            }
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_matches_every_operator() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("env", "prod")]);
        for (sel, expected) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("tier in (front, back)", true),
            ("tier in (back)", false),
            ("tier notin (back)", true),
            ("missing notin (x)", true),
            ("env", true),
            ("!env", false),
            ("!missing", true),
            ("app=web,tier=front,!missing", true),
            ("app=web, tier=back", false),
        ] {
            let s = Selector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&l), expected, "{sel}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["app=web=x", "in (a", "a in b", "=x", "app=we b", "a b"] {
            assert!(Selector::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn formats_as_upstream() {
        let s = Selector::parse("a=b,c in (x,y),!d").unwrap();
        assert_eq!(s.to_string(), "a=b,c in (x,y),!d");
    }
}
