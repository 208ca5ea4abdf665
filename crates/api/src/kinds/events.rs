//! events.k8s.io/v1 Events: the same objects as core/v1 Events, in the
//! newer field names.
//!
//! | events.k8s.io/v1 | core/v1 |
//! |---|---|
//! | `regarding` | `involvedObject` |
//! | `note` | `message` |
//! | `deprecatedSource` | `source` |
//! | `deprecatedFirstTimestamp` / `deprecatedLastTimestamp` | `firstTimestamp` / `lastTimestamp` |
//! | `deprecatedCount` | `count` |
//! | `reportingController` | `reportingComponent` |
//! | `series.count` / `series.lastObservedTime` | the same |

use serde_json::{Map, Value};

use crate::registry::Conversion;
use crate::status::Status;

/// Renamed fields: (events.k8s.io/v1 name, core/v1 name).
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
];

fn rename(obj: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = obj.remove(from) {
        obj.insert(to.to_owned(), v);
    }
}

/// The events.k8s.io/v1 ↔ core/v1 conversion.
pub struct EventsV1;

impl Conversion for EventsV1 {
    fn to_storage(&self, mut obj: Value) -> Result<Value, Status> {
        let map = obj
            .as_object_mut()
            .ok_or_else(|| Status::bad_request("an Event must be a JSON object"))?;
        for (new, old) in RENAMES {
            rename(map, new, old);
        }
        map.insert("apiVersion".into(), Value::from("v1"));
        Ok(obj)
    }

    fn to_served(&self, mut obj: Value) -> Value {
        if let Some(map) = obj.as_object_mut() {
            for (new, old) in RENAMES {
                rename(map, old, new);
            }
            map.insert("apiVersion".into(), Value::from("events.k8s.io/v1"));
        }
        obj
    }
}
