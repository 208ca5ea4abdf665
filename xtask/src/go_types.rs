//! Which Go fields of the API types are pointers, and which lack
//! `omitempty`: the one fact about upstream's JSON that neither k8s-pb nor
//! k8s-openapi carries, read from the Go type metadata (the data `reflect`
//! uses) of an official kubectl binary of the served version.
//!
//! gogo-protobuf writes every non-pointer scalar field, zero or not, and a
//! pointer field only when set. Upstream's JSON omits a zero non-pointer
//! `omitempty` field but keeps a set pointer (`replicas: 0`) and every
//! field without `omitempty`. So the decoder keeps a zero scalar exactly
//! when the Go field is a pointer or has no `omitempty`.
//!
//! The facts are saved in `protobuf_go_fields.txt` (committed), refreshed
//! with `cargo xtask codegen --kubectl <kubectl binary>`.
//!
//! Layout read (Go 1.21–1.24, amd64; `internal/abi`): a type descriptor
//! is 48 bytes (`TFlag` at 20, `Kind_` at 23, `Str` name offset at 40);
//! pointer, slice and array element at 48; map key at 48, value at 56;
//! struct: fields slice at 56 (`{Name, Typ, Offset}`, 24 bytes each),
//! `UncommonType` at 80 (package path name offset first); a name is a flag
//! byte, a varint length and the bytes, then (flag 2) the tag likewise.
//! `.typelink` lists type offsets from the start of `.rodata`.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One scalar field's JSON facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoField {
    /// `k8s.io/api/apps/v1.DeploymentSpec`.
    pub owner: String,
    /// The protobuf field number.
    pub tag: u32,
    /// `ptr` (a pointer), `always` (no `omitempty`) or `omitempty`.
    pub zero: &'static str,
}

struct Elf<'a> {
    data: &'a [u8],
    /// (address, file offset, size) of loaded sections.
    sections: Vec<(u64, u64, u64)>,
    rodata: u64,
    typelink: (u64, u64),
}

fn u16_at(d: &[u8], o: usize) -> Result<u16> {
    Ok(u16::from_le_bytes(
        d.get(o..o + 2).context("short file")?.try_into()?,
    ))
}
fn u32_at(d: &[u8], o: usize) -> Result<u32> {
    Ok(u32::from_le_bytes(
        d.get(o..o + 4).context("short file")?.try_into()?,
    ))
}
fn u64_at(d: &[u8], o: usize) -> Result<u64> {
    Ok(u64::from_le_bytes(
        d.get(o..o + 8).context("short file")?.try_into()?,
    ))
}

impl<'a> Elf<'a> {
    fn parse(data: &'a [u8]) -> Result<Self> {
        if !data.starts_with(b"\x7fELF\x02\x01") {
            bail!("not a little-endian 64-bit ELF file");
        }
        let shoff = u64_at(data, 0x28)? as usize;
        let shentsize = usize::from(u16_at(data, 0x3a)?);
        let shnum = usize::from(u16_at(data, 0x3c)?);
        let shstrndx = usize::from(u16_at(data, 0x3e)?);
        let header = |i: usize| -> Result<(u32, u64, u64, u64)> {
            let o = shoff + i * shentsize;
            Ok((
                u32_at(data, o)?,
                u64_at(data, o + 0x10)?,
                u64_at(data, o + 0x18)?,
                u64_at(data, o + 0x20)?,
            ))
        };
        let strtab = header(shstrndx)?.2 as usize;
        let mut elf = Elf {
            data,
            sections: Vec::new(),
            rodata: 0,
            typelink: (0, 0),
        };
        for i in 0..shnum {
            let (name, addr, off, size) = header(i)?;
            let name_at = &data[strtab + name as usize..];
            let name = &name_at[..name_at.iter().position(|&b| b == 0).unwrap_or(0)];
            if addr != 0 && off != 0 {
                elf.sections.push((addr, off, size));
            }
            match name {
                b".rodata" => elf.rodata = addr,
                b".typelink" => elf.typelink = (off, size),
                _ => {}
            }
        }
        if elf.rodata == 0 || elf.typelink.1 == 0 {
            bail!("no .rodata or .typelink section: not a Go binary?");
        }
        Ok(elf)
    }

    fn offset(&self, addr: u64) -> Result<usize> {
        self.sections
            .iter()
            .find(|(a, _, s)| (*a..a + s).contains(&addr))
            .map(|(a, o, _)| (o + addr - a) as usize)
            .with_context(|| format!("address {addr:#x} is not in a loaded section"))
    }

    fn u8(&self, addr: u64) -> Result<u8> {
        self.data
            .get(self.offset(addr)?)
            .copied()
            .context("short file")
    }
    fn u64(&self, addr: u64) -> Result<u64> {
        u64_at(self.data, self.offset(addr)?)
    }
    fn i32(&self, addr: u64) -> Result<i32> {
        Ok(u32_at(self.data, self.offset(addr)?)? as i32)
    }

    fn varint(&self, mut o: usize) -> Result<(usize, usize)> {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let b = *self.data.get(o).context("short file")?;
            o += 1;
            v |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return Ok((v, o));
            }
        }
    }

    /// A name record: (name, tag).
    fn name(&self, addr: u64) -> Result<(String, String)> {
        let o = self.offset(addr)?;
        let flags = self.data[o];
        let (n, p) = self.varint(o + 1)?;
        let name = String::from_utf8_lossy(self.data.get(p..p + n).context("short")?).into_owned();
        let mut tag = String::new();
        if flags & 2 != 0 {
            let (t, q) = self.varint(p + n)?;
            tag = String::from_utf8_lossy(self.data.get(q..q + t).context("short")?).into_owned();
        }
        Ok((name, tag))
    }

    fn name_off(&self, off: i32) -> Result<String> {
        Ok(self
            .name(self.rodata.wrapping_add_signed(i64::from(off)))?
            .0)
    }

    fn kind(&self, t: u64) -> Result<u8> {
        Ok(self.u8(t + 23)? & 0x1f)
    }

    fn type_name(&self, t: u64) -> Result<String> {
        let tflag = self.u8(t + 20)?;
        let name = self.name_off(self.i32(t + 40)?)?;
        Ok(if tflag & 2 != 0 {
            name.trim_start_matches('*').to_owned()
        } else {
            name
        })
    }
}

const BOOL: u8 = 1;
const FLOAT64: u8 = 14;
const ARRAY: u8 = 17;
const CHAN: u8 = 18;
const MAP: u8 = 21;
const POINTER: u8 = 22;
const SLICE: u8 = 23;
const STRING: u8 = 24;
const STRUCT: u8 = 25;

fn scalar(kind: u8) -> bool {
    matches!(kind, BOOL..=FLOAT64 | STRING)
}

/// Every scalar field of every `k8s.io/...` struct in the binary.
pub fn extract(binary: &Path) -> Result<Vec<GoField>> {
    let data = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let elf = Elf::parse(&data)?;
    let (off, size) = elf.typelink;
    let mut stack: Vec<u64> = (0..size as usize / 4)
        .map(|i| u32_at(&data, off as usize + 4 * i).map(|o| elf.rodata + u64::from(o)))
        .collect::<Result<_>>()?;
    let mut seen = HashSet::new();
    let mut out = BTreeSet::new();
    while let Some(t) = stack.pop() {
        if !seen.insert(t) || elf.offset(t).is_err() {
            continue;
        }
        match elf.kind(t)? {
            POINTER | SLICE | CHAN | ARRAY => stack.push(elf.u64(t + 48)?),
            MAP => {
                stack.push(elf.u64(t + 48)?);
                stack.push(elf.u64(t + 56)?);
            }
            STRUCT => {
                let (fields, len) = (elf.u64(t + 56)?, elf.u64(t + 64)?);
                let mut pkg = String::new();
                if elf.u8(t + 20)? & 1 != 0 {
                    let p = elf.i32(t + 80)?;
                    if p != 0 {
                        pkg = elf.name_off(p)?;
                    }
                }
                let owner = elf.type_name(t)?;
                let owner = format!("{pkg}.{}", owner.rsplit('.').next().unwrap_or(""));
                for i in 0..len {
                    let (name, ft) = (elf.u64(fields + 24 * i)?, elf.u64(fields + 24 * i + 8)?);
                    stack.push(ft);
                    if !pkg.starts_with("k8s.io/") {
                        continue;
                    }
                    let (_, tag) = elf.name(name)?;
                    let Some(number) = tag
                        .split("protobuf:\"")
                        .nth(1)
                        .and_then(|p| p.split(',').nth(1))
                        .and_then(|n| n.parse().ok())
                    else {
                        continue;
                    };
                    let kind = elf.kind(ft)?;
                    let zero = if kind == POINTER && scalar(elf.kind(elf.u64(ft + 48)?)?) {
                        "ptr"
                    } else if !scalar(kind) {
                        continue;
                    } else if tag
                        .split("json:\"")
                        .nth(1)
                        .and_then(|j| j.split('"').next())
                        .is_some_and(|j| j.contains(",omitempty"))
                    {
                        "omitempty"
                    } else {
                        "always"
                    };
                    out.insert(GoField {
                        owner: owner.clone(),
                        tag: number,
                        zero,
                    });
                }
            }
            _ => {}
        }
    }
    if !out
        .iter()
        .any(|f| f.owner == "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta")
    {
        bail!(
            "no ObjectMeta fields found in {}: not kubectl, or an unsupported Go version",
            binary.display()
        );
    }
    Ok(out.into_iter().collect())
}
