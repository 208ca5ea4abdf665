//! The JSONPath dialect of kubectl and the apiserver (client-go's
//! `util/jsonpath`), as used by `additionalPrinterColumns[].jsonPath`:
//! `.spec.replicas`, `.metadata.name`, `.status.conditions[0].type`,
//! `.spec.items[*].name`, `.status.conditions[?(@.type=="Ready")].status`,
//! recursive descent (`..name`), unions (`[0,2]`, `['a','b']`), slices
//! (`[1:3]`, `[-1]`), escaped dots in names (`.metadata.labels.app\.kubernetes\.io/name`).
//! The expression may be wrapped in `{...}`. Missing keys give no result
//! (upstream's `AllowMissingKeys(true)`); an out-of-range index, filtering a
//! non-list, or comparing values of different types is an error, which
//! makes the whole expression match nothing.
//!
//! [`cell`] turns a column's first match into a Table cell as upstream's
//! custom-resource table convertor (`tableconvertor.go`) does:
//!
//! | column type | cell |
//! |---|---|
//! | any, no match (or an error) | `null` (kubectl shows `<none>`) |
//! | `string` | strings as they are, numbers and booleans printed as Go prints them, objects and lists as compact JSON, an explicit `null` as `<no value>` |
//! | `integer` | integers; floats truncated; anything else `null` |
//! | `number` | integers and floats as numbers; anything else `null` |
//! | `boolean` | booleans; anything else `null` |
//! | `date` | strings parsed as RFC 3339 and shown as an age (`5m`, `3d`), `<unknown>` for `""`, `<invalid>` when unparsable; anything else `null` |
//! | any other type | `null` |

use jiff::Timestamp;
use serde_json::Value;

use super::gofmt::{self, GoNum, go_num};

/// How deep recursive descent and nested filters may go.
const MAX_NESTING: usize = 64;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Fields(Vec<String>),
    Wildcard,
    Recursive,
    Index(Vec<Sel>),
    Filter(Box<Filter>),
}

#[derive(Clone, Debug, PartialEq)]
enum Sel {
    /// `[start:end:step]`; `[i]` is `[i:i+1]` with the end derived.
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
        derived: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    /// `@...`: relative to the item.
    Current(Vec<Step>),
    /// `$...`: from the root.
    Root(Vec<Step>),
    Literal(Value),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    left: Operand,
    op: Option<String>,
    right: Option<Operand>,
}

/// A parsed JSONPath expression.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

type PResult<T> = Result<T, String>;

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Steps until the end, or (in a filter) a space, operator or `)`.
    fn steps(&mut self, in_filter: bool) -> PResult<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(c) if in_filter && (c.is_whitespace() || "=!<>)".contains(c)) => break,
                Some('.') => {
                    self.pos += 1;
                    if self.eat('.') {
                        steps.push(Step::Recursive);
                        if self.peek() == Some('[') {
                            continue;
                        }
                    }
                    if self.eat('*') {
                        steps.push(Step::Wildcard);
                        continue;
                    }
                    if self.peek() == Some('[') {
                        continue;
                    }
                    let name = self.name(in_filter);
                    if !name.is_empty() {
                        steps.push(Step::Field(name));
                    } else if self.peek().is_some() && !in_filter {
                        return Err(format!("unexpected {:?} after '.'", self.peek()));
                    }
                }
                Some('[') => {
                    self.pos += 1;
                    steps.push(self.bracket()?);
                }
                Some(c) => return Err(format!("unrecognized character {c:?}")),
            }
        }
        Ok(steps)
    }

    fn name(&mut self, in_filter: bool) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c == '\\'
                && let Some(n) = self.peek_at(1)
            {
                name.push(n);
                self.pos += 2;
                continue;
            }
            if c == '.'
                || c == '['
                || c == ']'
                || (in_filter && (c.is_whitespace() || "=!<>)".contains(c)))
            {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    fn quoted(&mut self) -> PResult<String> {
        let Some(q) = self.peek().filter(|c| *c == '\'' || *c == '"') else {
            return Err("expected a quote".into());
        };
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".into()),
                Some('\\') => {
                    let n = self.peek_at(1).ok_or("unterminated quoted string")?;
                    s.push(match n {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        c => c,
                    });
                    self.pos += 2;
                }
                Some(c) if c == q => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn int(&mut self) -> PResult<Option<i64>> {
        self.skip_spaces();
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        self.skip_spaces();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| format!("invalid array index {text:?}"))
    }

    fn bracket(&mut self) -> PResult<Step> {
        self.skip_spaces();
        if self.eat('*') {
            self.skip_spaces();
            return if self.eat(']') {
                Ok(Step::Wildcard)
            } else {
                Err("expected ']' after '*'".into())
            };
        }
        if self.peek() == Some('?') {
            self.pos += 1;
            self.skip_spaces();
            if !self.eat('(') {
                return Err("expected '(' after '?'".into());
            }
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err("filters nested too deeply".into());
            }
            let filter = self.filter()?;
            self.depth -= 1;
            self.skip_spaces();
            if !self.eat(')') || {
                self.skip_spaces();
                !self.eat(']')
            } {
                return Err("unterminated filter".into());
            }
            return Ok(Step::Filter(Box::new(filter)));
        }
        if matches!(self.peek(), Some('\'' | '"')) {
            let mut names = vec![self.quoted()?];
            loop {
                self.skip_spaces();
                if self.eat(']') {
                    break;
                }
                if !self.eat(',') {
                    return Err("expected ',' or ']'".into());
                }
                self.skip_spaces();
                names.push(self.quoted()?);
            }
            return Ok(if names.len() == 1 {
                Step::Field(names.remove(0))
            } else {
                Step::Fields(names)
            });
        }
        let mut sels = Vec::new();
        loop {
            let start = self.int()?;
            let sel = if self.eat(':') {
                let end = self.int()?;
                let step = if self.eat(':') { self.int()? } else { None };
                Sel::Slice {
                    start,
                    end,
                    step,
                    derived: false,
                }
            } else {
                let Some(i) = start else {
                    return Err("expected an array index".into());
                };
                Sel::Slice {
                    start: Some(i),
                    end: Some(i.saturating_add(1)),
                    step: None,
                    derived: true,
                }
            };
            sels.push(sel);
            if self.eat(']') {
                break;
            }
            if !self.eat(',') {
                return Err("expected ',' or ']'".into());
            }
        }
        Ok(Step::Index(sels))
    }

    fn filter(&mut self) -> PResult<Filter> {
        self.skip_spaces();
        let left = self.operand()?;
        self.skip_spaces();
        let op = ["==", "!=", "<=", ">=", "<", ">"]
            .into_iter()
            .find(|op| {
                op.chars()
                    .enumerate()
                    .all(|(i, c)| self.peek_at(i) == Some(c))
            })
            .map(str::to_owned);
        let right = match &op {
            Some(o) => {
                self.pos += o.len();
                self.skip_spaces();
                Some(self.operand()?)
            }
            None => None,
        };
        Ok(Filter { left, op, right })
    }

    fn operand(&mut self) -> PResult<Operand> {
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                Ok(Operand::Current(self.steps(true)?))
            }
            Some('$') => {
                self.pos += 1;
                Ok(Operand::Root(self.steps(true)?))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                if text.contains(['.', 'e', 'E']) {
                    text.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(|n| Operand::Literal(Value::Number(n)))
                        .ok_or_else(|| format!("invalid number {text:?}"))
                } else {
                    text.parse::<i64>()
                        .map(|i| Operand::Literal(Value::from(i)))
                        .map_err(|_| format!("invalid number {text:?}"))
                }
            }
            _ => {
                let word = self.name(true);
                match word.as_str() {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    _ => Err(format!("unrecognized filter operand {word:?}")),
                }
            }
        }
    }
}

impl JsonPath {
    /// Parse an expression, with or without the `{...}` wrapping.
    pub fn parse(expr: &str) -> Result<JsonPath, String> {
        let mut e = expr.trim();
        if let Some(inner) = e.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            e = inner.trim();
        }
        let e = e.strip_prefix('$').unwrap_or(e);
        let mut p = Parser {
            chars: e.chars().collect(),
            pos: 0,
            depth: 0,
        };
        let steps = p.steps(false)?;
        Ok(JsonPath { steps })
    }

    /// Every value the expression selects in `obj`, in order; empty when
    /// nothing matches or the evaluation fails.
    pub fn eval<'v>(&self, obj: &'v Value) -> Vec<&'v Value> {
        eval_steps(&self.steps, vec![obj], obj, 0).unwrap_or_default()
    }
}

/// Every value `expr` selects in `obj` (empty if it does not parse).
pub fn eval(expr: &str, obj: &Value) -> Vec<Value> {
    match JsonPath::parse(expr) {
        Ok(p) => p.eval(obj).into_iter().cloned().collect(),
        Err(_) => Vec::new(),
    }
}

struct EvalError;

fn descendants<'v>(v: &'v Value, out: &mut Vec<&'v Value>, depth: usize) {
    out.push(v);
    if depth > MAX_NESTING {
        return;
    }
    match v {
        Value::Object(m) => m.values().for_each(|c| descendants(c, out, depth + 1)),
        Value::Array(a) => a.iter().for_each(|c| descendants(c, out, depth + 1)),
        _ => {}
    }
}

fn eval_steps<'v>(
    steps: &[Step],
    mut input: Vec<&'v Value>,
    root: &'v Value,
    depth: usize,
) -> Result<Vec<&'v Value>, EvalError> {
    if depth > MAX_NESTING {
        return Err(EvalError);
    }
    for step in steps {
        let mut out = Vec::new();
        match step {
            Step::Field(name) => {
                for v in &input {
                    if let Some(x) = v.as_object().and_then(|m| m.get(name)) {
                        out.push(x);
                    }
                }
            }
            Step::Fields(names) => {
                for v in &input {
                    if let Some(m) = v.as_object() {
                        out.extend(names.iter().filter_map(|n| m.get(n)));
                    }
                }
            }
            Step::Wildcard => {
                for v in &input {
                    match v {
                        Value::Object(m) => out.extend(m.values()),
                        Value::Array(a) => out.extend(a.iter()),
                        _ => {}
                    }
                }
            }
            Step::Recursive => {
                for v in &input {
                    descendants(v, &mut out, 0);
                }
            }
            Step::Index(sels) => {
                for v in &input {
                    if v.is_null() {
                        continue;
                    }
                    let Value::Array(a) = v else {
                        return Err(EvalError);
                    };
                    for sel in sels {
                        index(a, sel, &mut out)?;
                    }
                }
            }
            Step::Filter(f) => {
                for v in &input {
                    if v.is_null() {
                        continue;
                    }
                    let Value::Array(a) = v else {
                        return Err(EvalError);
                    };
                    for item in a {
                        if filter_passes(f, item, root, depth)? {
                            out.push(item);
                        }
                    }
                }
            }
        }
        input = out;
    }
    Ok(input)
}

fn index<'v>(a: &'v [Value], sel: &Sel, out: &mut Vec<&'v Value>) -> Result<(), EvalError> {
    let Sel::Slice {
        start,
        end,
        step,
        derived,
    } = *sel;
    let len = a.len() as i64;
    let mut s = start.unwrap_or(0);
    if s < 0 {
        s = s.saturating_add(len);
    }
    let mut e = end.unwrap_or(len);
    if e < 0 || (e == 0 && derived) {
        e = e.saturating_add(len);
    }
    if e == s {
        return Ok(());
    }
    if s >= len || s < 0 || e > len || e < 0 || s > e {
        return Err(EvalError);
    }
    let step = match step {
        Some(st) if st <= 0 => return Err(EvalError),
        Some(st) => st as usize,
        None => 1,
    };
    out.extend(a[s as usize..e as usize].iter().step_by(step));
    Ok(())
}

fn operand<'v>(
    o: &'v Operand,
    item: &'v Value,
    root: &'v Value,
    depth: usize,
) -> Result<Vec<&'v Value>, EvalError> {
    match o {
        Operand::Current(steps) => eval_steps(steps, vec![item], root, depth + 1),
        Operand::Root(steps) => eval_steps(steps, vec![root], root, depth + 1),
        Operand::Literal(v) => Ok(vec![v]),
    }
}

fn filter_passes(f: &Filter, item: &Value, root: &Value, depth: usize) -> Result<bool, EvalError> {
    let lefts = operand(&f.left, item, root, depth);
    let (Some(op), Some(right)) = (&f.op, &f.right) else {
        return Ok(lefts.is_ok_and(|l| !l.is_empty()));
    };
    let lefts = lefts?;
    let left = match lefts.as_slice() {
        [] => return Ok(false),
        [l] => *l,
        _ => return Err(EvalError),
    };
    let rights = operand(right, item, root, depth)?;
    let right = match rights.as_slice() {
        [] => return Ok(false),
        [r] => *r,
        _ => return Err(EvalError),
    };
    compare(left, op, right)
}

/// Go template comparison: same basic kinds only.
fn compare(l: &Value, op: &str, r: &Value) -> Result<bool, EvalError> {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::Number(a), Value::Number(b)) => match (go_num(a), go_num(b)) {
            (GoNum::Int(a), GoNum::Int(b)) => a.cmp(&b),
            (GoNum::Float(a), GoNum::Float(b)) => a.partial_cmp(&b).ok_or(EvalError)?,
            _ => return Err(EvalError),
        },
        (Value::Bool(a), Value::Bool(b)) => {
            return match op {
                "==" => Ok(a == b),
                "!=" => Ok(a != b),
                _ => Err(EvalError),
            };
        }
        _ => return Err(EvalError),
    };
    Ok(match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        ">=" => ord != Ordering::Less,
        _ => return Err(EvalError),
    })
}

/// A Go `float64` as a JSON number, integral values as integers (Go
/// encodes `float64(3)` as `3`).
fn go_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// A `string` column's text: `PrintResults` of the value.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => gofmt::num_v(n),
        Value::Array(_) | Value::Object(_) => gofmt::json(v),
    }
}

/// The Table cell of a printer column of `type_` (`string`, `integer`,
/// `number`, `boolean`, `date`) at `expr` in `obj`, ages measured from
/// `now`. See the module documentation for the rules.
pub fn cell_at(expr: &str, type_: &str, obj: &Value, now: Timestamp) -> Value {
    let Ok(path) = JsonPath::parse(expr) else {
        return Value::Null;
    };
    let Some(v) = path.eval(obj).into_iter().next() else {
        return Value::Null;
    };
    if type_ == "string" {
        return Value::String(text(v));
    }
    if v.is_null() {
        return Value::Null;
    }
    match (type_, v) {
        ("integer", Value::Number(n)) => match go_num(n) {
            GoNum::Int(i) => Value::from(i),
            GoNum::Float(f) => Value::from(gofmt::f64_to_i64(f)),
        },
        ("number", Value::Number(n)) => match go_num(n) {
            GoNum::Int(i) => Value::from(i),
            GoNum::Float(f) => go_float(f),
        },
        ("boolean", Value::Bool(b)) => Value::Bool(*b),
        ("date", Value::String(s)) => Value::String(age(s, now)),
        _ => Value::Null,
    }
}

/// [`cell_at`] now.
pub fn cell(expr: &str, type_: &str, obj: &Value) -> Value {
    cell_at(expr, type_, obj, crate::meta::now())
}

/// `metav1.Time.UnmarshalQueryParameter` then `ConvertToHumanReadableDateType`.
fn age(s: &str, now: Timestamp) -> String {
    if s.is_empty() || s == "null" {
        return "<unknown>".into();
    }
    let rfc3339 = s.len() > 10 && s.as_bytes()[10] == b'T';
    match s.parse::<Timestamp>() {
        Ok(t) if rfc3339 => {
            let secs = now.as_second().saturating_sub(t.as_second());
            crate::table::human_duration(secs)
        }
        _ => "<invalid>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "x"},
                "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"replicas": 3, "ratio": 0.5, "paused": false, "sel": {"a": "<b>"},
                "items": [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c"}]},
            "status": {"conditions": [
                {"type": "Available", "status": "False"},
                {"type": "Ready", "status": "True"}], "empty": null},
        })
    }

    #[test]
    fn paths() {
        let o = obj();
        assert_eq!(eval(".spec.replicas", &o), [json!(3)]);
        assert_eq!(eval("{.metadata.name}", &o), [json!("web")]);
        assert_eq!(eval(".status.conditions[0].type", &o), [json!("Available")]);
        assert_eq!(eval(".status.conditions[-1].type", &o), [json!("Ready")]);
        assert_eq!(
            eval(".spec.items[*].name", &o),
            [json!("a"), json!("b"), json!("c")]
        );
        assert_eq!(eval(".spec.items[0:2].name", &o), [json!("a"), json!("b")]);
        assert_eq!(eval(".spec.items[0,2].name", &o), [json!("a"), json!("c")]);
        assert_eq!(
            eval(r#".status.conditions[?(@.type=="Ready")].status"#, &o),
            [json!("True")]
        );
        assert_eq!(
            eval(".status.conditions[?(@.type!='Ready')].status", &o),
            [json!("False")]
        );
        assert_eq!(eval(".spec.items[?(@.n > 1)].name", &o), [json!("b")]);
        assert_eq!(
            eval(".spec.items[?(@.n)].name", &o),
            [json!("a"), json!("b")]
        );
        assert_eq!(
            eval(r".metadata.labels.app\.kubernetes\.io/name", &o),
            [json!("x")]
        );
        assert_eq!(
            eval(".metadata.labels['app.kubernetes.io/name']", &o),
            [json!("x")]
        );
        assert_eq!(eval("..name", &o).len(), 4);
        assert!(eval(".spec.missing.deeper", &o).is_empty());
        assert!(eval(".status.conditions[5].type", &o).is_empty());
        assert!(eval(".spec[0]", &o).is_empty());
        // Comparing an integer with a float is an error upstream.
        assert!(eval(".spec.items[?(@.n > 1.5)].name", &o).is_empty());
        assert!(eval(".spec.items[?(", &o).is_empty());
    }

    #[test]
    fn cells() {
        let o = obj();
        let now: Timestamp = "2024-01-01T00:05:00Z".parse().unwrap();
        let c = |p: &str, t: &str| cell_at(p, t, &o, now);
        assert_eq!(c(".spec.replicas", "integer"), json!(3));
        assert_eq!(c(".spec.ratio", "integer"), json!(0));
        assert_eq!(c(".spec.replicas", "number"), json!(3));
        assert_eq!(c(".spec.ratio", "number"), json!(0.5));
        assert_eq!(c(".spec.replicas", "string"), json!("3"));
        assert_eq!(c(".spec.sel", "string"), json!(r#"{"a":"\u003cb\u003e"}"#));
        assert_eq!(c(".spec.paused", "boolean"), json!(false));
        assert_eq!(c(".spec.paused", "string"), json!("false"));
        assert_eq!(c(".spec.replicas", "boolean"), Value::Null);
        assert_eq!(c(".spec.nothing", "string"), Value::Null);
        assert_eq!(c(".status.empty", "string"), json!("<no value>"));
        assert_eq!(c(".status.empty", "integer"), Value::Null);
        assert_eq!(c(".metadata.creationTimestamp", "date"), json!("5m"));
        assert_eq!(c(".metadata.name", "date"), json!("<invalid>"));
        assert_eq!(c(".spec.items[*].name", "string"), json!("a"));
    }
}
