//! Service addresses: cluster IPs from the service CIDR and node ports
//! from the node-port range, allocated when a Service is written (as
//! upstream's Service REST storage does), and the single-stack IP family
//! fields that go with them.
//!
//! What is in use is read from the watch cache (every stored Service), plus
//! what this server handed out in the last minute and the cache may not
//! show yet; a deleted Service frees its addresses by disappearing from
//! the cache. Allocation is serialized by one lock, so two concurrent
//! creates never get the same address from one server.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::Rng;
use serde_json::Value;

use crate::object::Filter;
use crate::server::ApiServer;
use rkube_api::status::Status;
use rkube_api::validation::{Errors, Path};

/// The service CIDR: 10.96.0.0/12.
const CIDR_BASE: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const CIDR_BITS: u32 = 12;
const CIDR: &str = "10.96.0.0/12";
/// The node-port range.
const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;
/// How long a handed-out address counts as used without the cache's word.
const RECENT: Duration = Duration::from_secs(60);

/// Addresses handed out recently.
#[derive(Default)]
pub struct Allocations {
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    /// Cluster IPs handed out, when and to which Service (namespace,
    /// name): a Service created again under its name may have its address
    /// back at once.
    ips: HashMap<u32, (Instant, (String, String))>,
    ports: HashMap<u16, Instant>,
}

fn range_size() -> u32 {
    1 << (32 - CIDR_BITS)
}

fn in_range(ip: u32) -> bool {
    ip > CIDR_BASE && ip < CIDR_BASE + range_size() - 1
}

/// The first address, which the `kubernetes` Service holds.
pub fn first_address() -> Ipv4Addr {
    Ipv4Addr::from(CIDR_BASE + 1)
}

fn needs_cluster_ip(spec: &Value) -> bool {
    spec["type"].as_str() != Some("ExternalName")
}

fn needs_node_ports(spec: &Value) -> bool {
    matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer"))
}

/// Before validation of an update: addresses the new object leaves out are
/// kept from the old one (a `kubectl replace` of a manifest without
/// `clusterIP` keeps the Service's address), as upstream does.
pub fn keep_allocated(new: &mut Value, old: &Value) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    if !(ns.is_object() && needs_cluster_ip(ns) && needs_cluster_ip(os)) {
        return;
    }
    let mut patch = Vec::new();
    if ns["clusterIP"].as_str().unwrap_or("").is_empty() && os["clusterIP"].is_string() {
        patch.push(("clusterIP", os["clusterIP"].clone()));
    }
    if ns["clusterIPs"].as_array().is_none_or(Vec::is_empty) && os["clusterIPs"].is_array() {
        patch.push(("clusterIPs", os["clusterIPs"].clone()));
    }
    for (k, v) in patch {
        new["spec"][k] = v;
    }
    if needs_node_ports(&new["spec"]) && needs_node_ports(&old["spec"]) {
        let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
        if let Some(ports) = new["spec"]["ports"].as_array_mut() {
            for p in ports {
                if p.get("nodePort")
                    .is_some_and(|n| n.as_i64().unwrap_or(0) != 0)
                {
                    continue;
                }
                if let Some(o) = old_ports
                    .iter()
                    .find(|o| o["port"] == p["port"] && o["protocol"] == p["protocol"])
                    && o["nodePort"].is_number()
                {
                    p["nodePort"] = o["nodePort"].clone();
                }
            }
        }
    }
}

impl Allocations {
    /// Give a Service written as `svc` (replacing `old`, if any) the
    /// addresses it needs; 422 when a requested one is taken or out of
    /// range. `commit` is false for dry runs (nothing is reserved).
    pub fn allocate(
        &self,
        server: &ApiServer,
        svc: &mut Value,
        old: Option<&Value>,
        commit: bool,
    ) -> Result<(), Status> {
        let name = svc["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let me = (
            svc["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            name.clone(),
        );
        let Some(spec) = svc.get_mut("spec").filter(|s| s.is_object()) else {
            return Ok(());
        };
        if !needs_cluster_ip(spec) {
            return Ok(());
        }
        let mut recent = self.recent.lock();
        let now = Instant::now();
        let stored = in_use(server);
        // What the cache shows stored needs no memory of ours (and is
        // freed by the Service's deletion).
        recent
            .ips
            .retain(|ip, (t, _)| now.duration_since(*t) < RECENT && !stored.ips.contains_key(ip));
        recent
            .ports
            .retain(|p, t| now.duration_since(*t) < RECENT && !stored.ports.contains_key(p));
        let used_ips: HashSet<u32> = stored
            .ips
            .iter()
            .filter(|(_, owner)| **owner != me)
            .map(|(ip, _)| *ip)
            .collect();
        let used_ports: HashSet<u16> = stored
            .ports
            .iter()
            .filter(|(_, owner)| **owner != me)
            .map(|(p, _)| *p)
            .collect();
        let old_ip = old
            .and_then(|o| o["spec"]["clusterIP"].as_str())
            .unwrap_or("");
        let mut errors = Errors::default();

        // Cluster IP.
        let requested = spec["clusterIP"].as_str().unwrap_or("").to_owned();
        let ip = if requested == "None" {
            None
        } else if requested.is_empty() {
            let ip = pick_ip(&used_ips, &recent.ips).ok_or_else(|| {
                Status::new(
                    500,
                    "InternalError",
                    format!("failed to allocate a serviceIP: range is full ({CIDR})"),
                )
            })?;
            Some(Ipv4Addr::from(ip).to_string())
        } else if requested != old_ip {
            match requested.parse::<Ipv4Addr>().map(u32::from) {
                Ok(ip) if !in_range(ip) => {
                    ip_error(
                        &mut errors,
                        &requested,
                        &format!(
                            "the provided IP ({requested}) is not in the valid range. The range of valid IPs is {CIDR}"
                        ),
                    );
                    None
                }
                Ok(ip)
                    if used_ips.contains(&ip)
                        || recent.ips.get(&ip).is_some_and(|(_, owner)| *owner != me) =>
                {
                    ip_error(&mut errors, &requested, "provided IP is already allocated");
                    None
                }
                Ok(_) => Some(requested.clone()),
                Err(_) => None, // validation already refused it
            }
        } else {
            Some(requested.clone())
        };
        match &ip {
            Some(ip) => {
                spec["clusterIP"] = Value::from(ip.clone());
                spec["clusterIPs"] = Value::from(vec![ip.clone()]);
            }
            None if requested == "None" => {
                spec["clusterIPs"] = Value::from(vec!["None"]);
            }
            None => {}
        }
        if spec["ipFamilyPolicy"].is_null() {
            spec["ipFamilyPolicy"] = Value::from("SingleStack");
        }
        if spec["ipFamilies"].as_array().is_none_or(Vec::is_empty) {
            spec["ipFamilies"] = Value::from(vec!["IPv4"]);
        }

        // Node ports.
        let mut taken_here: HashSet<u16> = HashSet::new();
        let mut new_ports = Vec::new();
        if needs_node_ports(spec)
            && let Some(ports) = spec["ports"].as_array_mut()
        {
            let old_ports: HashSet<u16> = old
                .and_then(|o| o["spec"]["ports"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|p| p["nodePort"].as_u64().map(|n| n as u16))
                .collect();
            for (i, p) in ports.iter_mut().enumerate() {
                let want = p["nodePort"].as_i64().unwrap_or(0);
                if want == 0 {
                    continue;
                }
                let port = want as u16;
                if !(0..=65535).contains(&want) || !NODE_PORTS.contains(&port) {
                    port_error(
                        &mut errors,
                        i,
                        want,
                        &format!(
                            "provided port is not in the valid range. The range of valid ports is {}-{}",
                            NODE_PORTS.start(),
                            NODE_PORTS.end()
                        ),
                    );
                } else if !old_ports.contains(&port)
                    && (used_ports.contains(&port)
                        || recent.ports.contains_key(&port)
                        || taken_here.contains(&port))
                {
                    port_error(&mut errors, i, want, "provided port is already allocated");
                } else {
                    taken_here.insert(port);
                }
            }
            for p in ports.iter_mut() {
                if p["nodePort"].as_i64().unwrap_or(0) != 0 {
                    continue;
                }
                let port = pick_port(&used_ports, &recent.ports, &taken_here).ok_or_else(|| {
                    Status::new(
                        500,
                        "InternalError",
                        "failed to allocate a nodePort: range is full",
                    )
                })?;
                taken_here.insert(port);
                new_ports.push(port);
                p["nodePort"] = Value::from(port);
            }
        }
        if !errors.is_empty() {
            return Err(Status::invalid("", "Service", &name, &errors.0));
        }
        if commit {
            if let Some(ip) = ip.as_deref().and_then(|i| i.parse::<Ipv4Addr>().ok()) {
                recent.ips.insert(u32::from(ip), (now, me));
            }
            for p in taken_here {
                recent.ports.insert(p, now);
            }
        }
        Ok(())
    }
}

fn ip_error(errors: &mut Errors, ip: &str, why: &str) {
    errors.invalid_raw(
        &Path::new("spec").child("clusterIPs"),
        format!("[]string{{{ip:?}}}"),
        format!("failed to allocate IP {ip}: {why}"),
    );
}

fn port_error(errors: &mut Errors, i: usize, port: i64, why: &str) {
    errors.invalid(
        &Path::new("spec").child("ports").index(i).child("nodePort"),
        port,
        why,
    );
}

/// Cluster IPs and node ports of the stored Services, with their owners.
#[derive(Default)]
struct Stored {
    ips: HashMap<u32, (String, String)>,
    ports: HashMap<u16, (String, String)>,
}

fn in_use(server: &ApiServer) -> Stored {
    let mut stored = Stored::default();
    let Some(cache) = server
        .registry
        .get()
        .resource("", "services")
        .and_then(|r| server.cache.resource(r.info()))
    else {
        return stored;
    };
    let (objects, _, _) = cache.list(&Filter::default(), None, 0);
    for o in objects {
        let Ok(v) = o.value() else { continue };
        let owner = (
            v["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
            v["metadata"]["name"].as_str().unwrap_or("").to_owned(),
        );
        for ip in v["spec"]["clusterIPs"].as_array().into_iter().flatten() {
            if let Some(ip) = ip.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok()) {
                stored.ips.insert(u32::from(ip), owner.clone());
            }
        }
        for p in v["spec"]["ports"].as_array().into_iter().flatten() {
            if let Some(n) = p["nodePort"].as_u64() {
                stored.ports.insert(n as u16, owner.clone());
            }
        }
    }
    stored
}

/// A free cluster IP, chosen at random above the band upstream keeps for
/// requested addresses (the first sixteenth, between 16 and 256 addresses).
fn pick_ip<T>(used: &HashSet<u32>, recent: &HashMap<u32, T>) -> Option<u32> {
    let size = range_size();
    let reserved = (size / 16).clamp(16, 256);
    let free = |ip: u32| in_range(ip) && !used.contains(&ip) && !recent.contains_key(&ip);
    let mut rng = rand::rng();
    for _ in 0..64 {
        let ip = CIDR_BASE + rng.random_range(reserved..size - 1);
        if free(ip) {
            return Some(ip);
        }
    }
    (1..size - 1).map(|o| CIDR_BASE + o).find(|ip| free(*ip))
}

fn pick_port(
    used: &HashSet<u16>,
    recent: &HashMap<u16, Instant>,
    here: &HashSet<u16>,
) -> Option<u16> {
    let free = |p: u16| !used.contains(&p) && !recent.contains_key(&p) && !here.contains(&p);
    let mut rng = rand::rng();
    for _ in 0..64 {
        let p = rng.random_range(NODE_PORTS);
        if free(p) {
            return Some(p);
        }
    }
    NODE_PORTS.into_iter().find(|p| free(*p))
}
