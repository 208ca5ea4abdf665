//! `cargo xtask codegen`: generate `crates/api/src/patch/schema_table.rs`,
//! the merge strategy of every list and map field of every API type, read
//! from k8s-openapi's own sources (its `DeepMerge` impls encode each
//! field's list type and map keys, its serde impls the JSON names).
//!
//! Strategic merge patch and server-side apply both walk this table, so
//! nobody keeps a per-kind list of merge keys by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// How one field merges.
#[derive(Debug)]
enum Shape {
    /// A nested object, merged field by field.
    Struct(String),
    /// A list replaced as a whole.
    ListAtomic(Option<String>),
    /// A list of objects merged by key fields (JSON names).
    ListMap(Vec<String>, String),
    /// A list of scalars merged as a set.
    ListSet,
    /// A map replaced as a whole.
    MapAtomic,
    /// A map merged key by key; values of the given type (or scalars).
    MapGranular(Option<String>),
}

struct TypeDef {
    /// Rust field name → JSON name.
    json_names: BTreeMap<String, String>,
    /// Rust field name → element / value / nested type path.
    field_types: BTreeMap<String, String>,
    /// Rust field name → merge call found in DeepMerge.
    merges: Vec<(String, String, Vec<String>)>, // (field, strategy, key rust names)
}

/// k8s-openapi's source folder (a workspace dependency).
pub fn k8s_openapi_dir() -> Result<PathBuf> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        if pkg["name"] == "k8s-openapi" {
            let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or(""));
            return Ok(manifest.parent().context("manifest dir")?.to_owned());
        }
    }
    bail!("k8s-openapi is not a dependency of the workspace")
}

/// The innermost `crate::...` type path in a Rust type string, and whether
/// it is a Vec / BTreeMap.
fn inner_type(ty: &str) -> Option<String> {
    let start = ty.rfind("crate::")?;
    let rest = &ty[start + "crate::".len()..];
    let end = rest.find(['>', ',', ' ']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn parse_file(text: &str, module: &str, types: &mut BTreeMap<String, TypeDef>) {
    let Some(struct_start) = text.find("pub struct ") else {
        return;
    };
    let name_end = text[struct_start + 11..]
        .find([' ', '{', '('])
        .map(|i| struct_start + 11 + i)
        .unwrap_or(text.len());
    let name = text[struct_start + 11..name_end].trim().to_owned();
    // Newtypes (Time, Quantity, IntOrString...) and generics are scalars.
    if text[name_end..].starts_with('(') || name.contains('<') || module.is_empty() {
        return;
    }
    let full = format!("{module}::{name}");
    let mut def = TypeDef {
        json_names: BTreeMap::new(),
        field_types: BTreeMap::new(),
        merges: Vec::new(),
    };
    // Fields: `    pub foo_bar: Type,` inside the struct body.
    if let Some(body_start) = text[struct_start..].find('{').map(|i| struct_start + i) {
        let body_end = text[body_start..]
            .find("\n}")
            .map(|i| body_start + i)
            .unwrap_or(text.len());
        for line in text[body_start..body_end].lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("pub ")
                && let Some((field, ty)) = rest.split_once(':')
            {
                let field = field.trim().trim_start_matches("r#").to_owned();
                if let Some(inner) = inner_type(ty) {
                    def.field_types.insert(field, inner);
                }
            }
        }
    }
    // JSON names from the Deserialize impl.
    for line in text.lines() {
        let line = line.trim();
        if let Some((json, key)) = line.split_once("\" => Field::Key_") {
            let json = json.trim_start_matches('"');
            let key = key.trim_end_matches(',');
            def.json_names.insert(key.to_owned(), json.to_owned());
        }
    }
    // Merge strategies from the DeepMerge impl.
    if let Some(dm) = text.find("impl crate::DeepMerge for") {
        let body = &text[dm..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        let mut rest = body;
        while let Some(pos) = rest.find("crate::merge_strategies::") {
            let call = &rest[pos + "crate::merge_strategies::".len()..];
            let strategy_end = call.find('(').unwrap_or(0);
            let strategy = call[..strategy_end].to_owned();
            let args = &call[strategy_end + 1..];
            let field = args
                .trim_start()
                .trim_start_matches("&mut self.")
                .split([',', ')'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches("r#")
                .to_owned();
            let mut keys = Vec::new();
            if strategy == "list::map" {
                let keys_part = &args[..args.find("|current_item").unwrap_or(args.len())];
                let mut k = keys_part;
                while let Some(p) = k.find("lhs.") {
                    let after = &k[p + 4..];
                    let end = after.find([' ', '=']).unwrap_or(after.len());
                    let key = after[..end].trim_start_matches("r#").to_owned();
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                    k = &after[end..];
                }
            }
            def.merges.push((field, strategy, keys));
            rest = &call[strategy_end..];
        }
    }
    types.insert(full, def);
}

fn walk(dir: &Path, module: &str, types: &mut BTreeMap<String, TypeDef>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_owned();
        if path.is_dir() {
            let sub = if module.is_empty() {
                stem.clone()
            } else {
                format!("{module}::{stem}")
            };
            walk(&path, &sub, types)?;
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "mod" {
            let text = std::fs::read_to_string(&path)?;
            parse_file(&text, module, types);
        }
    }
    Ok(())
}

/// Upstream's `+listMapKey` lists that k8s-openapi's `DeepMerge` reduces
/// to their first key (the strategic merge key): the further keys, by
/// type and JSON field. Server-side apply keys items by all of them.
const FURTHER_MAP_KEYS: &[(&str, &str, &[&str])] = &[
    ("api::core::v1::Container", "ports", &["protocol"]),
    ("api::core::v1::EphemeralContainer", "ports", &["protocol"]),
    ("api::core::v1::ServiceSpec", "ports", &["protocol"]),
    (
        "api::core::v1::PodSpec",
        "topologySpreadConstraints",
        &["whenUnsatisfiable"],
    ),
];

/// Generate the table.
pub fn run(root: &Path, version_module: &str) -> Result<()> {
    let src = k8s_openapi_dir()?.join("src").join(version_module);
    let mut types = BTreeMap::new();
    walk(&src, "", &mut types)?;

    let mut shapes: BTreeMap<String, Vec<(String, Shape)>> = BTreeMap::new();
    for (name, def) in &types {
        let mut fields = Vec::new();
        let merged: BTreeMap<&str, (&str, &Vec<String>)> = def
            .merges
            .iter()
            .map(|(f, s, k)| (f.as_str(), (s.as_str(), k)))
            .collect();
        for (rust, json) in &def.json_names {
            let ty = def
                .field_types
                .get(rust)
                .filter(|t| types.contains_key(*t))
                .cloned();
            let shape = match merged.get(rust.as_str()) {
                Some(("list::atomic", _)) => Shape::ListAtomic(ty),
                Some(("list::set", _)) => Shape::ListSet,
                Some(("list::map", keys)) => {
                    let item = ty.clone().unwrap_or_default();
                    let item_def = types.get(&item);
                    let mut json_keys: Vec<String> = keys
                        .iter()
                        .map(|k| {
                            item_def
                                .and_then(|d| d.json_names.get(k))
                                .cloned()
                                .unwrap_or_else(|| k.clone())
                        })
                        .collect();
                    for (ty, field, more) in FURTHER_MAP_KEYS {
                        if ty == name && field == json {
                            json_keys.extend(more.iter().map(|k| (*k).to_owned()));
                        }
                    }
                    Shape::ListMap(json_keys, item)
                }
                Some(("map::atomic", _)) => Shape::MapAtomic,
                Some(("map::granular", _)) => Shape::MapGranular(ty),
                _ => match ty {
                    Some(t) => Shape::Struct(t),
                    None => continue, // a scalar: replaced, nothing to record
                },
            };
            fields.push((json.clone(), shape));
        }
        shapes.insert(name.clone(), fields);
    }

    let mut out = String::new();
    writeln!(
        out,
        "// @generated by `cargo xtask codegen` from k8s-openapi's {version_module} sources; do not edit."
    )?;
    writeln!(
        out,
        "//! The merge shape of every non-scalar field of every API type.\n"
    )?;
    writeln!(out, "use super::schema::{{Field, Shape, TypeDef}};\n")?;
    writeln!(out, "/// Every API type, sorted by name.")?;
    writeln!(out, "pub static TYPES: &[TypeDef] = &[")?;
    for (name, fields) in &shapes {
        writeln!(out, "    TypeDef {{ name: {name:?}, fields: &[")?;
        for (json, shape) in fields {
            let shape = match shape {
                Shape::Struct(t) => format!("Shape::Struct({t:?})"),
                Shape::ListAtomic(t) => {
                    format!("Shape::ListAtomic({:?})", t.as_deref().unwrap_or(""))
                }
                Shape::ListMap(keys, t) => format!("Shape::ListMap(&{keys:?}, {t:?})"),
                Shape::ListSet => "Shape::ListSet".into(),
                Shape::MapAtomic => "Shape::MapAtomic".into(),
                Shape::MapGranular(t) => {
                    format!("Shape::MapGranular({:?})", t.as_deref().unwrap_or(""))
                }
            };
            writeln!(out, "        Field {{ json: {json:?}, shape: {shape} }},")?;
        }
        writeln!(out, "    ] }},")?;
    }
    writeln!(out, "];")?;
    let target = root.join("crates/api/src/patch/schema_table.rs");
    std::fs::write(&target, out)?;
    println!("wrote {} ({} types)", target.display(), shapes.len());
    Ok(())
}
