//! Field selectors (`?fieldSelector=`): comma-separated `field=value`,
//! `field==value` and `field!=value` terms over the few fields each kind
//! declares selectable. Values escape `\`, `,` and `=` with a backslash.

/// One term of a field selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The field label, e.g. `spec.nodeName`.
    pub field: String,
    /// The value compared with.
    pub value: String,
    /// `!=` rather than `=`.
    pub negated: bool,
}

/// A parsed field selector; the empty one matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// All terms must hold.
    pub terms: Vec<Term>,
}

impl FieldSelector {
    /// Parse the string syntax.
    pub fn parse(input: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in split_unescaped(input, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some(i) = find_unescaped(&part, "!=") {
                (&part[..i], &part[i + 2..], true)
            } else if let Some(i) = find_unescaped(&part, "==") {
                (&part[..i], &part[i + 2..], false)
            } else if let Some(i) = find_unescaped(&part, "=") {
                (&part[..i], &part[i + 1..], false)
            } else {
                return Err(format!(
                    "invalid selector: '{input}'; can't understand '{part}'"
                ));
            };
            terms.push(Term {
                field: field.trim().to_owned(),
                value: unescape(value),
                negated,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether the selector matches everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an object with these field values matches. `get` returns the
    /// value of a field label, `None` for a label the kind does not support
    /// (which callers reject before matching).
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.terms.iter().all(|t| {
            let v = get(&t.field).unwrap_or("");
            (v == t.value) != t.negated
        })
    }

    /// The value a term requires of `field` (`field=value`), if any: lets a
    /// list use an index instead of scanning.
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && !t.negated)
            .map(|t| t.value.as_str())
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            parts.last_mut().unwrap().push('\\');
            parts.last_mut().unwrap().push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts
}

fn find_unescaped(s: &str, pat: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if s[i..].starts_with(pat) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        let s = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed,metadata.name==a\\,b")
            .unwrap();
        assert_eq!(s.terms.len(), 3);
        assert_eq!(s.terms[2].value, "a,b");
        assert!(s.terms[1].negated);
        assert_eq!(s.required_value("spec.nodeName"), Some("n1"));
    }

    #[test]
    fn matches_missing_as_empty() {
        let s = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(s.matches(|_| None));
        let s = FieldSelector::parse("status.phase!=Failed,status.phase!=Succeeded").unwrap();
        assert!(s.matches(|_| Some("Running")));
        assert!(!s.matches(|_| Some("Failed")));
    }

    #[test]
    fn rejects_terms_without_operator() {
        assert!(FieldSelector::parse("spec.nodeName").is_err());
    }
}
