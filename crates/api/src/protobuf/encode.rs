//! The other direction: an object's JSON form → Kubernetes' protobuf
//! (`k8s\0` + `runtime.Unknown`), by the same table, for clients that ask
//! for `Accept: application/vnd.kubernetes.protobuf`. Fields are written
//! in tag order, repeated scalars unpacked and map entries sorted by key,
//! as gogo-protobuf writes them; members the table does not know are left
//! out (as they would be by an upstream server of this version).

use serde_json::Value;

use super::schema::{Card, Form, Kind, Message};
use super::{MAGIC, root, table};
use crate::status::Status;

/// How deep objects may nest when encoded.
const MAX_DEPTH: usize = 100;

/// Encode a served kind's object (a List of one, or a Status) as protobuf.
pub fn encode(object: &Value) -> Result<Vec<u8>, Status> {
    encode_object(object, 0).map_err(Status::internal)
}

/// Whether `encode` can write this object: its apiVersion and kind name a
/// served kind, List or Status. (Tables and partial metadata cannot be
/// protobuf, as upstream.)
pub fn can_encode(object: &Value) -> bool {
    match (object["apiVersion"].as_str(), object["kind"].as_str()) {
        (Some(v), Some(k)) => root(v, k).is_some(),
        _ => false,
    }
}

/// One frame of a protobuf watch stream
/// (`application/vnd.kubernetes.protobuf;stream=watch`): a 4-byte
/// big-endian length, then `k8s\0` + `Unknown` holding a
/// `meta.v1.WatchEvent {string type = 1; RawExtension object = 2}` whose
/// raw bytes are the object's own protobuf encoding.
pub fn encode_watch_event(event_type: &str, object: &Value) -> Result<Vec<u8>, Status> {
    let inner = encode_object(object, 0).map_err(Status::internal)?;
    let mut event = Vec::new();
    string_field(&mut event, 1, event_type);
    let mut raw = Vec::new();
    bytes_field(&mut raw, 1, &inner);
    bytes_field(&mut event, 2, &raw);
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let body = envelope(api_version, "WatchEvent", &event);
    let len = u32::try_from(body.len()).map_err(|_| Status::internal("watch event too large"))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

fn encode_object(object: &Value, depth: usize) -> Result<Vec<u8>, String> {
    let (Some(api_version), Some(kind)) = (object["apiVersion"].as_str(), object["kind"].as_str())
    else {
        return Err("the object has no apiVersion and kind".into());
    };
    let Some(r) = root(api_version, kind) else {
        return Err(format!(
            "no protobuf schema for kind {kind:?} in version {api_version:?}"
        ));
    };
    let mut raw = Vec::new();
    message(
        &table::MESSAGES[usize::from(r.message)],
        object,
        depth + 1,
        &mut raw,
    )?;
    Ok(envelope(api_version, kind, &raw))
}

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::new();
    string_field(&mut type_meta, 1, api_version);
    string_field(&mut type_meta, 2, kind);
    let mut out = MAGIC.to_vec();
    bytes_field(&mut out, 1, &type_meta);
    bytes_field(&mut out, 2, raw);
    // Upstream writes the empty contentEncoding and contentType too.
    bytes_field(&mut out, 3, b"");
    bytes_field(&mut out, 4, b"");
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, tag: u32, wire: u8) {
    varint(out, u64::from(tag) << 3 | u64::from(wire));
}

fn bytes_field(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    key(out, tag, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn string_field(out: &mut Vec<u8>, tag: u32, s: &str) {
    bytes_field(out, tag, s.as_bytes());
}

fn varint_field(out: &mut Vec<u8>, tag: u32, v: u64) {
    key(out, tag, 0);
    varint(out, v);
}

fn what(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Write one value of `kind` as field `tag`.
fn value(out: &mut Vec<u8>, tag: u32, kind: Kind, v: &Value, depth: usize) -> Result<(), String> {
    let mismatch = |expected: &str| format!("expected {expected}, found {}", what(v));
    match kind {
        Kind::Str => string_field(out, tag, v.as_str().ok_or_else(|| mismatch("a string"))?),
        Kind::Bytes => {
            let s = v.as_str().ok_or_else(|| mismatch("a base64 string"))?;
            bytes_field(out, tag, &unbase64(s)?);
        }
        Kind::Bool => varint_field(
            out,
            tag,
            u64::from(v.as_bool().ok_or_else(|| mismatch("a boolean"))?),
        ),
        Kind::I32 => {
            let n = v.as_i64().ok_or_else(|| mismatch("an integer"))?;
            let n = i32::try_from(n).map_err(|_| format!("{n} does not fit in 32 bits"))?;
            // Negative int32s are sign-extended to ten bytes, as Go does.
            varint_field(out, tag, i64::from(n) as u64);
        }
        Kind::I64 => {
            let n = v.as_i64().ok_or_else(|| mismatch("an integer"))?;
            varint_field(out, tag, n as u64);
        }
        Kind::F64 => {
            let f = v.as_f64().ok_or_else(|| mismatch("a number"))?;
            key(out, tag, 1);
            out.extend(f.to_bits().to_le_bytes());
        }
        Kind::Msg(i) => {
            let mut inner = Vec::new();
            message(&table::MESSAGES[usize::from(i)], v, depth + 1, &mut inner)?;
            bytes_field(out, tag, &inner);
        }
    }
    Ok(())
}

/// Write a message's fields from its JSON form.
fn message(m: &Message, v: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("objects nest deeper than {MAX_DEPTH}"));
    }
    let field_by_name = |name: &str| m.fields.iter().find(|f| f.json == name);
    match m.form {
        Form::Object => {}
        Form::Time | Form::MicroTime => {
            if let Some(s) = v.as_str() {
                let t: jiff::Timestamp = s.parse().map_err(|e| format!("{} {s:?}: {e}", m.name))?;
                // Seconds and non-negative nanoseconds, as protobuf's Timestamp.
                let (mut seconds, mut nanos) = (t.as_second(), t.subsec_nanosecond());
                if nanos < 0 {
                    seconds -= 1;
                    nanos += 1_000_000_000;
                }
                varint_field(out, 1, seconds as u64);
                if nanos != 0 {
                    varint_field(out, 2, nanos as u64);
                }
            } else if !v.is_null() {
                return Err(format!("{}: expected a string, found {}", m.name, what(v)));
            }
            return Ok(());
        }
        Form::Duration => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("{}: expected a string", m.name))?;
            varint_field(out, 1, parse_go_duration(s)? as u64);
            return Ok(());
        }
        Form::Quantity => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                v => return Err(format!("a quantity: expected a string, found {}", what(v))),
            };
            string_field(out, 1, &s);
            return Ok(());
        }
        Form::IntOrString => {
            match v {
                Value::Number(_) => {
                    varint_field(out, 1, 0);
                    value(out, 2, Kind::I32, v, depth)?;
                }
                Value::String(s) => {
                    varint_field(out, 1, 1);
                    varint_field(out, 2, 0);
                    string_field(out, 3, s);
                }
                v => return Err(format!("an int-or-string: found {}", what(v))),
            }
            return Ok(());
        }
        Form::Raw => {
            if !v.is_null() {
                bytes_field(out, 1, v.to_string().as_bytes());
            }
            return Ok(());
        }
        Form::Items => {
            let items = field_by_name("items").ok_or("no items field")?;
            for s in v
                .as_array()
                .ok_or_else(|| format!("{}: expected an array", m.name))?
            {
                value(out, items.tag, items.kind, s, depth)?;
            }
            return Ok(());
        }
        Form::SchemaOrArray | Form::SchemaOrBool | Form::SchemaOrStringArray => {
            let schema = field_by_name("schema").ok_or("no schema field")?;
            match (m.form, v) {
                (Form::SchemaOrBool, Value::Bool(b)) => {
                    let allows = field_by_name("allows").ok_or("no allows field")?;
                    value(out, allows.tag, allows.kind, &Value::Bool(*b), depth)?;
                }
                (Form::SchemaOrBool, Value::Object(_)) => {
                    let allows = field_by_name("allows").ok_or("no allows field")?;
                    value(out, allows.tag, allows.kind, &Value::Bool(true), depth)?;
                    value(out, schema.tag, schema.kind, v, depth)?;
                }
                (Form::SchemaOrArray | Form::SchemaOrStringArray, Value::Array(items)) => {
                    let list = m
                        .fields
                        .iter()
                        .find(|f| f.card == Card::Repeated)
                        .ok_or("no list field")?;
                    for item in items {
                        value(out, list.tag, list.kind, item, depth)?;
                    }
                }
                (_, Value::Object(_)) => value(out, schema.tag, schema.kind, v, depth)?,
                (_, Value::Null) => {}
                (_, v) => return Err(format!("{}: found {}", m.name, what(v))),
            }
            return Ok(());
        }
    }
    let Some(obj) = v.as_object() else {
        return Err(format!("{}: expected an object, found {}", m.name, what(v)));
    };
    for f in m.fields {
        let within =
            |e: String| format!("{}: {e}", if f.json.is_empty() { m.name } else { f.json });
        if f.card == Card::Inline {
            let Kind::Msg(i) = f.kind else { continue };
            let mut inner = Vec::new();
            message(&table::MESSAGES[usize::from(i)], v, depth + 1, &mut inner).map_err(within)?;
            bytes_field(out, f.tag, &inner);
            continue;
        }
        let Some(member) = obj.get(f.json) else {
            continue;
        };
        if member.is_null() {
            // A zero Time (`creationTimestamp: null`) or empty JSON is an
            // empty message; anything else null is absent.
            if let (Card::Single { .. }, Kind::Msg(i)) = (f.card, f.kind)
                && table::MESSAGES[usize::from(i)].form != Form::Object
            {
                bytes_field(out, f.tag, &[]);
            }
            continue;
        }
        match f.card {
            Card::Single { .. } => value(out, f.tag, f.kind, member, depth).map_err(within)?,
            Card::Repeated => {
                let items = member
                    .as_array()
                    .ok_or_else(|| within(format!("expected an array, found {}", what(member))))?;
                for item in items {
                    value(out, f.tag, f.kind, item, depth).map_err(within)?;
                }
            }
            Card::Map => {
                let entries = member
                    .as_object()
                    .ok_or_else(|| within(format!("expected an object, found {}", what(member))))?;
                let mut sorted: Vec<_> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                for (k, item) in sorted {
                    let mut entry = Vec::new();
                    string_field(&mut entry, 1, k);
                    if !item.is_null() {
                        value(&mut entry, 2, f.kind, item, depth).map_err(within)?;
                    }
                    bytes_field(out, f.tag, &entry);
                }
            }
            Card::Inline => unreachable!("handled above"),
        }
    }
    Ok(())
}

/// Standard base64 (padding optional) → bytes.
fn unbase64(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("{s:?} is not base64")),
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Go's `time.ParseDuration` for the forms `Duration.String()` writes.
fn parse_go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += (number * scale).round() as i128;
        rest = &rest[unit_end..];
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_back() {
        for n in [
            0,
            1,
            1_500,
            150_000_000,
            1_500_000_000,
            90_000_000_000,
            3_600_000_000_000,
            -3_723_000_000_005,
        ] {
            assert_eq!(parse_go_duration(&super::super::go_duration(n)).unwrap(), n);
        }
        assert!(parse_go_duration("5 minutes").is_err());
    }

    #[test]
    fn base64_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        for n in 0..bytes.len() {
            assert_eq!(
                unbase64(&super::super::base64(&bytes[..n])).unwrap(),
                &bytes[..n]
            );
        }
        assert!(unbase64("not base64!").is_err());
    }
}
