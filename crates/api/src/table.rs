//! Server-side Tables (`kubectl get`): column definitions, the default
//! columns of kinds without a printer, and the formatting helpers the
//! per-kind printers share (ages, label maps, ...).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// One `columnDefinitions` entry.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Column {
    /// Header, e.g. `Name` (kubectl upper-cases it).
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// `name` for the name column, else empty.
    pub format: &'static str,
    /// What the column shows.
    pub description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: i32,
}

/// Description upstream gives every Name column.
pub const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// Description upstream gives every Age / Created At column.
pub const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// A column shown always.
pub const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown only with `-o wide`.
pub const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

/// The Name column.
pub const NAME: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    description: NAME_DESCRIPTION,
    priority: 0,
};

/// The Age column.
pub const AGE: Column = col("Age", "string", AGE_DESCRIPTION);

/// Columns of kinds without a printer of their own.
pub const DEFAULT_COLUMNS: &[Column] = &[
    NAME,
    Column {
        name: "Created At",
        type_: "date",
        format: "",
        description: AGE_DESCRIPTION,
        priority: 0,
    },
];

/// Cells for [`DEFAULT_COLUMNS`].
pub fn default_cells(meta: &ObjectMeta) -> Vec<Value> {
    let created = meta
        .creation_timestamp
        .as_ref()
        .map(|t| format_time(t.0))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    vec![name_cell(meta), Value::from(created)]
}

/// The object's name as a cell.
pub fn name_cell(meta: &ObjectMeta) -> Value {
    Value::from(meta.name.clone().unwrap_or_default())
}

/// RFC 3339 with seconds, in UTC, as the API writes times.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Upstream's human-readable duration (`5s`, `2m5s`, `3h`, `2d3h`, `1y20d`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    let s = seconds;
    let m = s / 60;
    let h = s / 3600;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        if h % 24 == 0 {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else if h < 17520 {
        format!("{}d", h / 24)
    } else if h < 70080 {
        let (y, d) = (h / 24 / 365, (h / 24) % 365);
        if d == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{d}d")
        }
    } else {
        format!("{}y", h / 24 / 365)
    }
}

/// The age of a timestamp, `<unknown>` when unset.
pub fn age(t: Option<&Time>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.as_second() - t.0.as_second()),
        None => "<unknown>".into(),
    }
}

/// The Age cell of an object.
pub fn age_cell(meta: &ObjectMeta, now: Timestamp) -> Value {
    Value::from(age(meta.creation_timestamp.as_ref(), now))
}

/// `k=v,k2=v2` sorted, `<none>` when empty.
pub fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let mut parts: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        return "<none>".into();
    }
    parts.sort();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_as_upstream() {
        for (s, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (125, "2m5s"),
            (540, "9m"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600 + 300, "3h5m"),
            (10 * 3600, "10h"),
            (51 * 3600, "2d3h"),
            (10 * 86400, "10d"),
            (400 * 86400, "400d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}s");
        }
    }
}
