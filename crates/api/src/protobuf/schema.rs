//! The shape of the generated table (`table.rs`): what the decoder knows of
//! each protobuf message. Constructors are `const fn`s so that the table
//! reads one field per line.

/// How a message becomes JSON: field by field, or through one of
/// upstream's custom JSON marshallers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// A JSON object, one member per field.
    Object,
    /// `meta.v1.Time {seconds, nanos}` → RFC 3339, seconds precision.
    Time,
    /// `meta.v1.MicroTime {seconds, nanos}` → RFC 3339 with microseconds.
    MicroTime,
    /// `meta.v1.Duration {duration}` (nanoseconds) → Go's `1h2m3s`.
    Duration,
    /// `resource.Quantity {string}` → the string.
    Quantity,
    /// `intstr.IntOrString {type, intVal, strVal}` → a number or a string.
    IntOrString,
    /// `{bytes raw = 1}` holding a JSON document (`runtime.RawExtension`,
    /// `meta.v1.FieldsV1`, apiextensions `JSON`) → that document.
    Raw,
    /// `{repeated string items = 1}` (a named Go slice) → the array.
    Items,
    /// apiextensions `JSONSchemaPropsOrArray` → a schema or an array.
    SchemaOrArray,
    /// apiextensions `JSONSchemaPropsOrBool` → a schema or a boolean.
    SchemaOrBool,
    /// apiextensions `JSONSchemaPropsOrStringArray` → a schema or strings.
    SchemaOrStringArray,
}

/// A field's (or a map value's) wire kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A UTF-8 string.
    Str,
    /// Bytes, base64 in JSON (a `Raw` form's field: the JSON document).
    Bytes,
    /// A boolean (varint).
    Bool,
    /// An int32 (varint, truncated to 32 bits as Go does).
    I32,
    /// An int64 (varint).
    I64,
    /// A double (fixed64).
    F64,
    /// A nested message: its index in `MESSAGES`.
    Msg(u16),
}

/// How often a field occurs and where its value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    /// One value. A scalar equal to its zero value is dropped unless
    /// `keep_zero` (upstream omits it from JSON: `omitempty`).
    Single {
        /// Keep the field when zero.
        keep_zero: bool,
    },
    /// A JSON array (packed or not on the wire).
    Repeated,
    /// `map<string, kind>`: a JSON object.
    Map,
    /// A Go struct embedded inline: the nested message's members become
    /// the parent's.
    Inline,
}

/// One field of a message.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The protobuf field number.
    pub tag: u32,
    /// The JSON member name (empty for an inline field).
    pub json: &'static str,
    /// The wire kind (a map's value kind).
    pub kind: Kind,
    /// Single, repeated, map or inline.
    pub card: Card,
}

/// One message type.
#[derive(Debug)]
pub struct Message {
    /// Upstream's protobuf name, for error messages.
    pub name: &'static str,
    /// How it becomes JSON.
    pub form: Form,
    /// Sorted by tag.
    pub fields: &'static [Field],
}

/// A served kind: the envelope's apiVersion and kind, and its message.
#[derive(Debug)]
pub struct Root {
    /// `v1`, `apps/v1`...
    pub api_version: &'static str,
    /// `ConfigMap`...
    pub kind: &'static str,
    /// Its index in `MESSAGES`.
    pub message: u16,
}

/// A single field whose zero value upstream omits from JSON.
pub const fn f(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        json,
        kind,
        card: Card::Single { keep_zero: false },
    }
}

/// A single field kept even when zero (a pointer or a required field).
pub const fn fz(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        json,
        kind,
        card: Card::Single { keep_zero: true },
    }
}

/// A repeated field.
pub const fn rep(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        json,
        kind,
        card: Card::Repeated,
    }
}

/// A `map<string, kind>` field.
pub const fn map(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        json,
        kind,
        card: Card::Map,
    }
}

/// An inline-embedded message.
pub const fn inline(tag: u32, kind: Kind) -> Field {
    Field {
        tag,
        json: "",
        kind,
        card: Card::Inline,
    }
}
