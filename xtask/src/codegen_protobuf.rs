//! `cargo xtask codegen` (second half): generate
//! `crates/api/src/protobuf/table.rs`, the protobuf schema of every served
//! kind, so that one generic decoder can read Kubernetes' protobuf bodies.
//!
//! Its sources, so that nothing is kept by hand:
//! - `k8s-pb` (kube-rs's prost bindings of upstream's `generated.proto`
//!   files): every message's fields with their tags, wire kinds,
//!   repeatedness and nested types (`#[prost(string, optional, tag = "1")]`);
//! - `k8s-openapi` (the served version's module): the JSON name of every
//!   field (its serde impls), which fields are required, and which kinds
//!   exist (its `Resource` impls: the envelope's apiVersion/kind → message).
//!
//! Plus which zero scalars upstream's JSON keeps (pointers and fields
//! without `omitempty`), from `protobuf_go_fields.txt` (see `go_types`).
//!
//! A field is matched across the two by its name with case and punctuation
//! ignored (`pod_i_ps` ↔ `podIPs`, `x_kubernetes_validations` ↔
//! `x-kubernetes-validations`). Fields the served version does not have
//! (newer upstream fields) are left out: the decoder skips their tags, as an
//! upstream server of that version would.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::go_types;

/// The k8s-pb release the table is generated from.
const K8S_PB: &str = "0.9.0";

/// How a message is rendered in JSON (upstream's custom marshallers).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    Object,
    Time,
    MicroTime,
    Duration,
    Quantity,
    IntOrString,
    /// `bytes raw = 1` holding a JSON document (RawExtension, FieldsV1, JSON).
    Raw,
    /// `repeated string items = 1` rendered as the bare array (ExtraValue,
    /// Verbs: Go slices given a named type so that proto can nest them).
    Items,
    SchemaOrArray,
    SchemaOrBool,
    SchemaOrStringArray,
}

/// The special messages, by k8s-pb path (without the module's version for
/// the apiextensions ones, which exist in v1 and v1beta1).
fn special_form(path: &str) -> Option<Form> {
    let name = path.rsplit("::").next().unwrap_or("");
    Some(match path {
        "apimachinery::pkg::apis::meta::v1::Time" => Form::Time,
        "apimachinery::pkg::apis::meta::v1::MicroTime" => Form::MicroTime,
        "apimachinery::pkg::apis::meta::v1::Duration" => Form::Duration,
        "apimachinery::pkg::apis::meta::v1::FieldsV1" => Form::Raw,
        "apimachinery::pkg::runtime::RawExtension" => Form::Raw,
        "apimachinery::pkg::api::resource::Quantity" => Form::Quantity,
        "apimachinery::pkg::util::intstr::IntOrString" => Form::IntOrString,
        _ if path.starts_with("apiextensions_apiserver::") => match name {
            "Json" => Form::Raw,
            "JsonSchemaPropsOrArray" => Form::SchemaOrArray,
            "JsonSchemaPropsOrBool" => Form::SchemaOrBool,
            "JsonSchemaPropsOrStringArray" => Form::SchemaOrStringArray,
            _ => return None,
        },
        _ => return None,
    })
}

/// A field's wire kind, as prost declares it.
#[derive(Clone, Debug, PartialEq)]
enum Wire {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    /// A nested message (k8s-pb path).
    Message(String),
    /// `map<string, V>`.
    Map(Box<Wire>),
}

#[derive(Debug)]
struct PbField {
    rust: String,
    tag: u32,
    wire: Wire,
    repeated: bool,
}

#[derive(Debug)]
struct PbMessage {
    fields: Vec<PbField>,
}

/// One k8s-openapi struct: JSON names and required-ness by Rust field.
#[derive(Debug, Default)]
struct OpenApiType {
    /// JSON name → required (not an `Option`).
    fields: BTreeMap<String, bool>,
}

/// `podIPs`, `pod_i_ps`, `x-kubernetes-validations`, `r#type` → comparable.
fn normalize(name: &str) -> String {
    name.trim_start_matches("r#")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn lower_camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.trim_start_matches("r#").chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The source folder of a crate, resolved (and downloaded if need be) by
/// cargo through a scratch manifest outside the repository.
fn crate_dir(name: &str, version: &str) -> Result<PathBuf> {
    let scratch = tempfile::tempdir()?;
    std::fs::write(
        scratch.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [lib]\npath = \"lib.rs\"\n\n[dependencies]\n{name} = \"={version}\"\n"
        ),
    )?;
    std::fs::write(scratch.path().join("lib.rs"), "")?;
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(scratch.path().join("Cargo.toml"))
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata for {name} {version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        if pkg["name"] == name && pkg["version"] == version {
            let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or(""));
            return Ok(manifest.parent().context("manifest dir")?.to_owned());
        }
    }
    bail!("cargo metadata did not resolve {name} {version}")
}

/// Resolve a Rust type path written in module `module` (`super::...`,
/// `crate::...` or a bare name) to a `::`-joined path from the crate root.
fn resolve(module: &[String], ty: &str) -> String {
    if let Some(rest) = ty.strip_prefix("crate::") {
        return rest.to_owned();
    }
    let mut base: Vec<&str> = module.iter().map(String::as_str).collect();
    let mut rest = ty;
    while let Some(r) = rest.strip_prefix("super::") {
        base.pop();
        rest = r;
    }
    base.push(rest);
    base.join("::")
}

/// The message type named in a prost field's Rust type.
fn message_type(module: &[String], ty: &str) -> String {
    let mut t: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    // A map's value type: after the first top-level comma of BTreeMap<..>.
    if let Some(start) = t.find("BTreeMap<") {
        let inner = &t[start + "BTreeMap<".len()..];
        let mut depth = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    t = inner[i + 1..].to_owned();
                    break;
                }
                _ => {}
            }
        }
    }
    for wrapper in [
        "::core::option::Option<",
        "::prost::alloc::vec::Vec<",
        "::prost::alloc::boxed::Box<",
    ] {
        while let Some(r) = t.strip_prefix(wrapper) {
            t = r.to_owned();
        }
    }
    let end = t.find(['>', ',']).unwrap_or(t.len());
    resolve(module, &t[..end])
}

fn scalar_wire(name: &str) -> Option<Wire> {
    Some(match name {
        "string" => Wire::String,
        "bytes" => Wire::Bytes,
        "bool" => Wire::Bool,
        "int32" => Wire::Int32,
        "int64" => Wire::Int64,
        "double" => Wire::Double,
        _ => return None,
    })
}

/// Parse one k8s-pb source file (a module) into its messages.
fn parse_pb_file(
    text: &str,
    module: &[String],
    out: &mut BTreeMap<String, PbMessage>,
) -> Result<()> {
    let mut current: Option<(String, PbMessage)> = None;
    let mut attr: Option<String> = None;
    let mut field_decl = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_none() {
            if let Some(rest) = line.strip_prefix("pub struct ")
                && let Some(name) = rest.strip_suffix(" {")
            {
                current = Some((name.to_owned(), PbMessage { fields: Vec::new() }));
            } else if line.starts_with("pub struct ") && line.ends_with("{}") {
                let name = line["pub struct ".len()..line.len() - 2].trim().to_owned();
                out.insert(
                    format!("{}::{name}", module.join("::")),
                    PbMessage { fields: Vec::new() },
                );
            }
            continue;
        }
        if line == "}" {
            let (name, msg) = current.take().expect("inside a struct");
            out.insert(format!("{}::{name}", module.join("::")), msg);
            continue;
        }
        if let Some(a) = trimmed.strip_prefix("#[prost(") {
            attr = Some(a.trim_end_matches(")]").to_owned());
            continue;
        }
        if attr.is_none() {
            continue;
        }
        if field_decl.is_empty() && !trimmed.starts_with("pub ") {
            continue;
        }
        field_decl.push_str(trimmed);
        let open = field_decl.matches('<').count();
        if !trimmed.ends_with(',') || open != field_decl.matches('>').count() {
            continue;
        }
        let decl = std::mem::take(&mut field_decl);
        let a = attr.take().expect("attribute seen");
        let (rust, ty) = decl
            .trim_start_matches("pub ")
            .split_once(':')
            .with_context(|| format!("field declaration {decl:?}"))?;
        let tag: u32 = a
            .split("tag = \"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .with_context(|| format!("no tag in {a:?}"))?
            .parse()?;
        let repeated = a.contains(" repeated");
        let wire = if let Some(map) = a.strip_prefix("btree_map = \"") {
            let types = map.split('"').next().unwrap_or("");
            let (key, value) = types.split_once(", ").context("map types")?;
            if key != "string" {
                bail!("map key {key} in {a:?}");
            }
            let value = match value {
                "message" => Wire::Message(message_type(module, ty)),
                v => scalar_wire(v).with_context(|| format!("map value {v}"))?,
            };
            Wire::Map(Box::new(value))
        } else {
            let kind = a.split([',', ' ']).next().unwrap_or("");
            match kind {
                "message" => Wire::Message(message_type(module, ty)),
                k => scalar_wire(k).with_context(|| format!("field kind {k} in {a:?}"))?,
            }
        };
        let (_, msg) = current.as_mut().expect("inside a struct");
        msg.fields.push(PbField {
            rust: rust.trim().to_owned(),
            tag,
            wire,
            repeated,
        });
    }
    Ok(())
}

fn walk_pb(
    dir: &Path,
    module: &mut Vec<String>,
    out: &mut BTreeMap<String, PbMessage>,
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            module.push(entry.file_name().to_string_lossy().into_owned());
            walk_pb(&path, module, out)?;
            module.pop();
        } else if path.file_name().is_some_and(|n| n == "mod.rs") && !module.is_empty() {
            parse_pb_file(&std::fs::read_to_string(&path)?, module, out)?;
        }
    }
    Ok(())
}

/// Parse one k8s-openapi file: its struct's JSON names and required
/// fields, and its `Resource` impl if any.
fn parse_openapi_file(
    text: &str,
    module: &str,
    types: &mut BTreeMap<String, OpenApiType>,
    roots: &mut Vec<(String, String, String)>,
) {
    let Some(start) = text.find("\npub struct ") else {
        return;
    };
    let rest = &text[start + "\npub struct ".len()..];
    let name_end = rest.find([' ', '{', '(', '<']).unwrap_or(rest.len());
    let name = &rest[..name_end];
    if !rest[name_end..].trim_start().starts_with('{') {
        return; // a newtype (Time, Quantity...): a special form
    }
    let full = format!("{module}::{name}");
    let body = &rest[..rest.find("\n}").unwrap_or(rest.len())];
    let mut required_by_rust = BTreeMap::new();
    for line in body.lines() {
        if let Some(decl) = line.trim().strip_prefix("pub ")
            && let Some((field, ty)) = decl.split_once(':')
        {
            let field = field.trim().trim_start_matches("r#").to_owned();
            required_by_rust.insert(field, !ty.trim().starts_with("Option<"));
        }
    }
    let mut def = OpenApiType::default();
    for line in text.lines() {
        if let Some((json, key)) = line.trim().split_once("\" => Field::Key_") {
            let json = json.trim_start_matches('"');
            let key = key.trim_end_matches(',');
            if let Some(required) = required_by_rust.get(key) {
                def.fields.insert(json.to_owned(), *required);
            }
        }
    }
    if let Some(pos) = text.find("impl crate::Resource for ") {
        let imp = &text[pos..];
        let constant = |c: &str| {
            imp.split(&format!("const {c}: &'static str = \""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(str::to_owned)
        };
        if let (Some(api_version), Some(kind)) = (constant("API_VERSION"), constant("KIND")) {
            roots.push((api_version.clone(), kind, full.clone()));
            // Its list (`ConfigMapList`), for responses.
            if let Some(list) = constant("LIST_KIND") {
                roots.push((api_version, list.clone(), format!("{module}::{list}")));
            }
        }
    }
    types.insert(full, def);
}

fn walk_openapi(
    dir: &Path,
    module: &str,
    types: &mut BTreeMap<String, OpenApiType>,
    roots: &mut Vec<(String, String, String)>,
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_owned();
        if path.is_dir() {
            let sub = if module.is_empty() {
                stem
            } else {
                format!("{module}::{stem}")
            };
            walk_openapi(&path, &sub, types, roots)?;
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "mod" && !module.is_empty()
        {
            parse_openapi_file(&std::fs::read_to_string(&path)?, module, types, roots);
        }
    }
    Ok(())
}

/// The k8s-openapi type a k8s-pb message corresponds to: same module, same
/// name up to case (`AwsElasticBlockStoreVolumeSource`).
fn openapi_twin<'a>(pb_path: &str, by_lower: &'a BTreeMap<String, String>) -> Option<&'a String> {
    by_lower.get(&pb_path.to_ascii_lowercase())
}

/// `k8s.io/api/apps/v1.DeploymentSpec` → `api::apps::v1::DeploymentSpec`.
fn go_owner_to_pb(owner: &str) -> String {
    owner
        .trim_start_matches("k8s.io/")
        .replace('-', "_")
        .replace(['/', '.'], "::")
}

/// The snapshot: k8s-pb path (lowercase) → tags whose zero is kept.
fn read_go_facts(path: &Path) -> Result<BTreeMap<String, BTreeSet<u32>>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (create it with `cargo xtask codegen --kubectl <kubectl 1.xx binary>`)",
            path.display()
        )
    })?;
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut words = line.split(' ');
        let owner = go_owner_to_pb(words.next().unwrap_or(""));
        let tags = words
            .map(|w| w.split(':').next().unwrap_or("").parse())
            .collect::<Result<BTreeSet<u32>, _>>()?;
        out.insert(owner.to_ascii_lowercase(), tags);
    }
    Ok(out)
}

/// Upstream's protobuf name of a message: `k8s.io.api.core.v1.ConfigMap`.
fn proto_name(path: &str, openapi: Option<&String>) -> String {
    let path = openapi.map_or(path, String::as_str);
    format!("k8s.io.{}", path.replace("::", "."))
}

struct Row {
    tag: u32,
    json: String,
    wire: Wire,
    repeated: bool,
    keep_zero: bool,
    /// A Go struct embedded inline: its fields are the parent's.
    inline: bool,
}

/// Generate the table.
pub fn run(
    root: &Path,
    openapi_src: &Path,
    version_module: &str,
    kubectl: Option<&Path>,
) -> Result<()> {
    let pb_src = crate_dir("k8s-pb", K8S_PB)?.join("src");
    let mut pb = BTreeMap::new();
    walk_pb(&pb_src, &mut Vec::new(), &mut pb)?;

    // Go's zero-value facts: from a kubectl binary if given, else the
    // committed snapshot.
    let snapshot = root.join("xtask/src/protobuf_go_fields.txt");
    if let Some(kubectl) = kubectl {
        let pb_lower: BTreeSet<String> = pb.keys().map(|k| k.to_ascii_lowercase()).collect();
        let facts = go_types::extract(kubectl)?;
        let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in facts {
            if !pb_lower.contains(&go_owner_to_pb(&f.owner).to_ascii_lowercase()) {
                continue;
            }
            let entry = by_owner.entry(f.owner).or_default();
            if f.zero != "omitempty" {
                entry.push(format!("{}:{}", f.tag, f.zero));
            }
        }
        let mut text = format!(
            "# @generated by `cargo xtask codegen --kubectl {}`; do not edit.\n\
             # Per Go struct of the API, the protobuf fields whose zero value upstream's\n\
             # JSON keeps: `ptr` (a pointer) or `always` (no omitempty). Every other\n\
             # scalar field is omitted when zero. Read from the binary's Go type metadata.\n",
            kubectl
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        for (owner, fields) in &by_owner {
            text.push_str(owner);
            for f in fields {
                text.push(' ');
                text.push_str(f);
            }
            text.push('\n');
        }
        std::fs::write(&snapshot, text)?;
        println!("wrote {} ({} structs)", snapshot.display(), by_owner.len());
    }
    let go_facts = read_go_facts(&snapshot)?;

    let mut openapi = BTreeMap::new();
    let mut roots = Vec::new();
    walk_openapi(openapi_src, "", &mut openapi, &mut roots)?;
    let by_lower: BTreeMap<String, String> = openapi
        .keys()
        .map(|k| (k.to_ascii_lowercase(), k.clone()))
        .collect();
    let pb_by_lower: BTreeMap<String, String> = pb
        .keys()
        .map(|k| (k.to_ascii_lowercase(), k.clone()))
        .collect();

    // Every message reachable from a served kind, breadth first. A message
    // without a k8s-openapi twin that is embedded inline in Go (VolumeSource
    // in Volume, LocalObjectReference in SecretKeySelector, ProbeHandler in
    // Probe) takes its JSON names from the type it is inlined into.
    let mut root_rows = Vec::new();
    let mut queue: VecDeque<(String, Option<String>)> = VecDeque::new();
    let mut seen = BTreeSet::new();
    // Status, the body of every error response.
    roots.push((
        "v1".into(),
        "Status".into(),
        "apimachinery::pkg::apis::meta::v1::Status".into(),
    ));
    // k8s-openapi has one generic `List<T>`; every `XList` message is
    // `{ListMeta metadata = 1; repeated X items = 2}`.
    const LIST: &str = "<list>";
    openapi.insert(
        LIST.into(),
        OpenApiType {
            fields: [("metadata".into(), false), ("items".into(), true)].into(),
        },
    );
    for (api_version, kind, path) in &roots {
        let Some(pb_path) = pb_by_lower.get(&path.to_ascii_lowercase()) else {
            println!("  note: no k8s-pb message for {api_version} {kind}; not decodable");
            continue;
        };
        root_rows.push((api_version.clone(), kind.clone(), pb_path.clone()));
        if seen.insert(pb_path.clone()) {
            queue.push_back((pb_path.clone(), None));
        }
    }
    let names = |twin: Option<&String>| -> BTreeMap<String, (String, bool)> {
        twin.and_then(|t| openapi.get(t))
            .map(|t| {
                t.fields
                    .iter()
                    .map(|(j, r)| (normalize(j), (j.clone(), *r)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut messages: BTreeMap<String, (Form, Vec<Row>)> = BTreeMap::new();
    let mut skipped = Vec::new();
    while let Some((path, inherited)) = queue.pop_front() {
        let msg = pb
            .get(&path)
            .with_context(|| format!("k8s-pb has no message {path}"))?;
        let list = path.ends_with("List")
            && matches!(&msg.fields[..], [m, i] if m.rust == "metadata" && i.rust == "items");
        let twin = openapi_twin(&path, &by_lower)
            .cloned()
            .or(inherited)
            .or(list.then(|| LIST.to_owned()));
        let slice = twin.is_none()
            && matches!(&msg.fields[..], [f] if f.rust == "items" && f.repeated && f.wire == Wire::String);
        let form = special_form(&path).or(slice.then_some(Form::Items));
        if form.is_none() && twin.is_none() && !msg.fields.is_empty() {
            bail!("{path}: no k8s-openapi type and no special JSON form");
        }
        let json_by_norm = names(twin.as_ref());
        let mut rows = Vec::new();
        for f in &msg.fields {
            let target = match &f.wire {
                Wire::Message(t) => Some(t),
                Wire::Map(v) => match v.as_ref() {
                    Wire::Message(t) => Some(t),
                    _ => None,
                },
                _ => None,
            };
            let (json, required, inline) = if form.is_some() {
                (lower_camel(&f.rust), true, false)
            } else if let Some((json, required)) = json_by_norm.get(&normalize(&f.rust)) {
                (json.clone(), *required, false)
            } else if let Wire::Message(t) = &f.wire
                && !f.repeated
                && let Some(inner) = pb.get(t)
                && !inner.fields.is_empty()
                && 2 * inner
                    .fields
                    .iter()
                    .filter(|g| json_by_norm.contains_key(&normalize(&g.rust)))
                    .count()
                    >= inner.fields.len()
            {
                (String::new(), true, true)
            } else {
                skipped.push(format!("{path}.{}", f.rust));
                continue;
            };
            if let Some(t) = target
                && seen.insert(t.clone())
            {
                let source = if inline && openapi_twin(t, &by_lower).is_none() {
                    twin.clone()
                } else {
                    None
                };
                queue.push_back((t.clone(), source));
            }
            rows.push(Row {
                tag: f.tag,
                json,
                wire: f.wire.clone(),
                repeated: f.repeated,
                keep_zero: form.is_some()
                    || match go_facts.get(&path.to_ascii_lowercase()) {
                        Some(keep) => keep.contains(&f.tag),
                        // Not in the snapshot (kubectl does not link
                        // apiextensions or apiregistration): keep required
                        // fields and zero numbers (their numbers are
                        // pointers: `maxLength: 0`); their booleans and
                        // strings are omitempty or mean nothing when zero.
                        None => {
                            required || matches!(f.wire, Wire::Int32 | Wire::Int64 | Wire::Double)
                        }
                    },
                inline,
            });
        }
        rows.sort_by_key(|r| r.tag);
        messages.insert(path, (form.unwrap_or(Form::Object), rows));
    }

    // Index messages by position; names for readability.
    let index: BTreeMap<&String, usize> =
        messages.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let wire_code = |w: &Wire| -> String {
        match w {
            Wire::String => "Str".into(),
            Wire::Bytes => "Bytes".into(),
            Wire::Bool => "Bool".into(),
            Wire::Int32 => "I32".into(),
            Wire::Int64 => "I64".into(),
            Wire::Double => "F64".into(),
            Wire::Message(t) => format!("Msg({})", index[t]),
            Wire::Map(_) => unreachable!("maps are written by the caller"),
        }
    };

    let mut out = String::new();
    writeln!(
        out,
        "// @generated by `cargo xtask codegen` from k8s-pb {K8S_PB} (tags, wire kinds) and \
         k8s-openapi's {version_module} (JSON names); do not edit."
    )?;
    writeln!(
        out,
        "//! The protobuf schema of every served kind: per message, each field's tag, JSON\n\
         //! name and wire kind. `MESSAGES` is indexed by `Kind::Msg`; `ROOTS` maps the\n\
         //! envelope's apiVersion and kind to the top-level message.\n"
    )?;
    writeln!(out, "use super::schema::Form::*;")?;
    writeln!(out, "use super::schema::Kind::*;")?;
    writeln!(
        out,
        "use super::schema::{{Message, Root, f, fz, inline, map, rep}};\n"
    )?;
    writeln!(
        out,
        "/// Every message reachable from a served kind, by position."
    )?;
    writeln!(out, "pub static MESSAGES: &[Message] = &[")?;
    for (i, (path, (form, rows))) in messages.iter().enumerate() {
        let twin = openapi_twin(path, &by_lower);
        writeln!(
            out,
            "    // {i}\n    Message {{ name: {:?}, form: {form:?}, fields: &[",
            proto_name(path, twin)
        )?;
        for r in rows {
            let line = match (&r.wire, r.repeated) {
                (w, _) if r.inline => format!("inline({}, {})", r.tag, wire_code(w)),
                (Wire::Map(v), _) => format!("map({}, {:?}, {})", r.tag, r.json, wire_code(v)),
                (w, true) => format!("rep({}, {:?}, {})", r.tag, r.json, wire_code(w)),
                (w, false) if r.keep_zero && !matches!(w, Wire::Message(_)) => {
                    format!("fz({}, {:?}, {})", r.tag, r.json, wire_code(w))
                }
                (w, false) => format!("f({}, {:?}, {})", r.tag, r.json, wire_code(w)),
            };
            writeln!(out, "        {line},")?;
        }
        writeln!(out, "    ] }},")?;
    }
    writeln!(out, "];\n")?;
    root_rows.sort();
    root_rows.dedup();
    writeln!(out, "/// The served kinds, sorted by apiVersion and kind.")?;
    writeln!(out, "pub static ROOTS: &[Root] = &[")?;
    for (api_version, kind, path) in &root_rows {
        writeln!(
            out,
            "    Root {{ api_version: {api_version:?}, kind: {kind:?}, message: {} }},",
            index[path]
        )?;
    }
    writeln!(out, "];")?;

    let target = root.join("crates/api/src/protobuf/table.rs");
    std::fs::write(&target, out)?;
    println!(
        "wrote {} ({} messages, {} kinds; {} newer upstream fields left out)",
        target.display(),
        messages.len(),
        root_rows.len(),
        skipped.len()
    );
    if std::env::var_os("XTASK_VERBOSE").is_some() {
        for s in &skipped {
            println!("  left out: {s}");
        }
    }
    Ok(())
}
