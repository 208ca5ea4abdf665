//! Resource amounts as the scheduler counts them.
//!
//! Quantities (`100m`, `1.5Gi`, `2e3`) are parsed into integers the way
//! upstream's `resource.Quantity` reports them: CPU in millicores
//! (`MilliValue`, rounded up) and everything else in whole units (`Value`,
//! rounded up). [`Resource`] is upstream's `framework.Resource`: cpu,
//! memory, ephemeral storage, allowed pod count and the scalar (extended,
//! hugepages, attachable-volumes) resources.
//!
//! [`pod_requests`] is upstream's `resourcehelper.PodRequests`: the sum of
//! the app containers, restartable ("sidecar") init containers added to it
//! and to every later init container, the max with each init container, and
//! the pod overhead on top.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Default CPU request (millicores) assumed for scoring when a container
/// sets none (upstream's `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Default memory request (bytes) assumed for scoring when a container
/// sets none (upstream's `DefaultMemoryRequest`, 200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Resource name of CPU.
pub const CPU: &str = "cpu";
/// Resource name of memory.
pub const MEMORY: &str = "memory";
/// Resource name of local ephemeral storage.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// Resource name of the pod count.
pub const PODS: &str = "pods";

/// A parsed quantity: `±mantissa × 10^exp10 × 2^exp2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedQuantity {
    negative: bool,
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

/// Parse a quantity string; `None` if it is malformed.
pub fn parse_quantity(s: &str) -> Option<ParsedQuantity> {
    let s = s.trim();
    let b = s.as_bytes();
    let mut i = 0;
    let mut negative = false;
    if let Some(&c) = b.first()
        && (c == b'-' || c == b'+')
    {
        negative = c == b'-';
        i = 1;
    }
    let mut mantissa: u128 = 0;
    let mut exp10: i32 = 0;
    let mut digits = 0;
    let mut seen_dot = false;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if c.is_ascii_digit() {
            digits += 1;
            match mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(c - b'0')))
            {
                Some(m) if m < (1u128 << 100) => {
                    mantissa = m;
                    if seen_dot {
                        exp10 -= 1;
                    }
                }
                // Too many digits: drop the rest (integer digits scale up).
                _ => {
                    if !seen_dot {
                        exp10 += 1;
                    }
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let mut exp2 = 0;
    match &s[i..] {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => exp2 = 10,
        "Mi" => exp2 = 20,
        "Gi" => exp2 = 30,
        "Ti" => exp2 = 40,
        "Pi" => exp2 = 50,
        "Ei" => exp2 = 60,
        rest if rest.starts_with(['e', 'E']) => {
            let e: i32 = rest[1..].parse().ok()?;
            if !(-60..=60).contains(&e) {
                return None;
            }
            exp10 += e;
        }
        _ => return None,
    }
    Some(ParsedQuantity {
        negative,
        mantissa,
        exp10,
        exp2,
    })
}

impl ParsedQuantity {
    /// The value × 10^`scale`, rounded up (towards +∞), saturated to i64.
    pub fn scaled_ceil(&self, scale: i32) -> i64 {
        let Some(mut m) = self.mantissa.checked_mul(1u128 << self.exp2) else {
            return if self.negative { i64::MIN } else { i64::MAX };
        };
        let e = self.exp10 + scale;
        let mut exact = true;
        if e >= 0 {
            for _ in 0..e {
                match m.checked_mul(10) {
                    Some(v) => m = v,
                    None => return if self.negative { i64::MIN } else { i64::MAX },
                }
            }
        } else {
            for _ in 0..(-e) {
                if m % 10 != 0 {
                    exact = false;
                }
                m /= 10;
                if m == 0 {
                    break;
                }
            }
        }
        if self.negative {
            // ceil(-x) = -floor(x)
            let v = i64::try_from(m).unwrap_or(i64::MAX);
            -v
        } else {
            let m = if exact { m } else { m + 1 };
            i64::try_from(m).unwrap_or(i64::MAX)
        }
    }
}

/// `Quantity.Value()`: whole units, rounded up; 0 if malformed.
pub fn quantity_value(q: &Quantity) -> i64 {
    parse_quantity(&q.0).map_or(0, |p| p.scaled_ceil(0))
}

/// `Quantity.MilliValue()`: thousandths, rounded up; 0 if malformed.
pub fn quantity_milli_value(q: &Quantity) -> i64 {
    parse_quantity(&q.0).map_or(0, |p| p.scaled_ceil(3))
}

/// Whether a resource name is counted as a scalar resource (upstream's
/// `IsScalarResourceName`): extended resources (`example.com/foo`),
/// prefixed native ones (`kubernetes.io/...`), hugepages and attachable
/// volumes.
pub fn is_scalar_resource_name(name: &str) -> bool {
    name.contains('/') || name.starts_with("hugepages-") || name.starts_with("attachable-volumes-")
}

/// Whether a resource name is an extended resource (upstream's
/// `IsExtendedResourceName`): has a domain that is not `kubernetes.io`,
/// and is not a quota `requests.` name.
pub fn is_extended_resource_name(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

/// Amounts of every resource the scheduler counts (upstream's
/// `framework.Resource`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Number of pods (meaningful for allocatable only).
    pub allowed_pod_number: i64,
    /// Scalar resources by name, sorted by name.
    pub scalar: Vec<(String, i64)>,
}

impl Resource {
    /// A resource list (`requests`, `allocatable`, `overhead`) as a
    /// [`Resource`].
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Resource {
        let mut r = Resource::default();
        r.add_list(list);
        r
    }

    /// Add a resource list.
    pub fn add_list(&mut self, list: &BTreeMap<String, Quantity>) {
        for (name, q) in list {
            match name.as_str() {
                CPU => self.milli_cpu += quantity_milli_value(q),
                MEMORY => self.memory += quantity_value(q),
                EPHEMERAL_STORAGE => self.ephemeral_storage += quantity_value(q),
                PODS => self.allowed_pod_number += quantity_value(q),
                n if is_scalar_resource_name(n) => self.add_scalar(n, quantity_value(q)),
                _ => {}
            }
        }
    }

    /// The amount of a scalar resource (0 when absent).
    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .map_or(0, |i| self.scalar[i].1)
    }

    /// Whether the scalar resource is listed at all.
    pub fn has_scalar(&self, name: &str) -> bool {
        self.scalar
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .is_ok()
    }

    /// Add `v` of a scalar resource.
    pub fn add_scalar(&mut self, name: &str, v: i64) {
        match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalar[i].1 += v,
            Err(i) => self.scalar.insert(i, (name.to_string(), v)),
        }
    }

    fn max_scalar(&mut self, name: &str, v: i64) {
        match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalar[i].1 = self.scalar[i].1.max(v),
            Err(i) => self.scalar.insert(i, (name.to_string(), v)),
        }
    }

    /// Add another resource vector.
    pub fn add(&mut self, o: &Resource) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        self.allowed_pod_number += o.allowed_pod_number;
        for (n, v) in &o.scalar {
            self.add_scalar(n, *v);
        }
    }

    /// Subtract another resource vector.
    pub fn sub(&mut self, o: &Resource) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        self.allowed_pod_number -= o.allowed_pod_number;
        for (n, v) in &o.scalar {
            self.add_scalar(n, -*v);
        }
    }

    /// Raise every dimension to at least `o`'s.
    pub fn set_max(&mut self, o: &Resource) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.max(o.allowed_pod_number);
        for (n, v) in &o.scalar {
            self.max_scalar(n, *v);
        }
    }

    /// Whether every dimension is zero.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.iter().all(|(_, v)| *v == 0)
    }

    /// The amount of a named resource (`cpu` in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.allowed_pod_number,
            n => self.scalar(n),
        }
    }
}

fn container_requests(c: &Container) -> Option<&BTreeMap<String, Quantity>> {
    c.resources.as_ref().and_then(|r| r.requests.as_ref())
}

fn is_restartable(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// Aggregate per-container vectors as upstream's `AggregateContainerRequests`
/// does, then add the overhead.
fn aggregate(
    pod: &Pod,
    per_container: impl Fn(&Container) -> Resource,
    overhead: bool,
) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut reqs = Resource::default();
    for c in &spec.containers {
        reqs.add(&per_container(c));
    }
    let mut restartable = Resource::default();
    let mut init_max = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        let r = per_container(c);
        if is_restartable(c) {
            reqs.add(&r);
            restartable.add(&r);
            init_max.set_max(&restartable);
        } else {
            let mut tmp = r;
            tmp.add(&restartable);
            init_max.set_max(&tmp);
        }
    }
    reqs.set_max(&init_max);
    if overhead && let Some(o) = spec.overhead.as_ref() {
        reqs.add_list(o);
    }
    reqs
}

/// The pod's effective requests (upstream's `PodRequests`): app containers
/// summed, restartable init containers added, max with each init
/// container, plus overhead.
pub fn pod_requests(pod: &Pod) -> Resource {
    aggregate(
        pod,
        |c| {
            container_requests(c)
                .map(Resource::from_list)
                .unwrap_or_default()
        },
        true,
    )
}

/// The pod's CPU (millicores) and memory (bytes) requests for scoring: as
/// [`pod_requests`], but a container that sets no cpu (memory) request
/// counts [`DEFAULT_MILLI_CPU_REQUEST`] ([`DEFAULT_MEMORY_REQUEST`]).
pub fn pod_non_zero_requests(pod: &Pod) -> (i64, i64) {
    let r = aggregate(
        pod,
        |c| {
            let reqs = container_requests(c);
            let cpu = reqs
                .and_then(|r| r.get(CPU))
                .map_or(DEFAULT_MILLI_CPU_REQUEST, quantity_milli_value);
            let mem = reqs
                .and_then(|r| r.get(MEMORY))
                .map_or(DEFAULT_MEMORY_REQUEST, quantity_value);
            Resource {
                milli_cpu: cpu,
                memory: mem,
                ..Default::default()
            }
        },
        true,
    );
    (r.milli_cpu, r.memory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn v(s: &str) -> i64 {
        quantity_value(&Quantity(s.into()))
    }
    fn m(s: &str) -> i64 {
        quantity_milli_value(&Quantity(s.into()))
    }

    #[test]
    fn quantities() {
        assert_eq!(m("100m"), 100);
        assert_eq!(m("1"), 1000);
        assert_eq!(m("1.5"), 1500);
        assert_eq!(m("0.1"), 100);
        assert_eq!(m("1u"), 1, "rounded up");
        assert_eq!(v("1Gi"), 1 << 30);
        assert_eq!(v("1.5Gi"), 3 << 29);
        assert_eq!(v("200Mi"), 200 * 1024 * 1024);
        assert_eq!(v("1k"), 1000);
        assert_eq!(v("1M"), 1_000_000);
        assert_eq!(v("2G"), 2_000_000_000);
        assert_eq!(v("1T"), 1_000_000_000_000);
        assert_eq!(v("1P"), 10i64.pow(15));
        assert_eq!(v("1E"), 10i64.pow(18));
        assert_eq!(v("1Ki"), 1024);
        assert_eq!(v("1Ti"), 1 << 40);
        assert_eq!(v("1Pi"), 1 << 50);
        assert_eq!(v("1Ei"), 1 << 60);
        assert_eq!(v("1e3"), 1000);
        assert_eq!(v("1E3"), 1000);
        assert_eq!(v("12e-1"), 2, "1.2 rounds up");
        assert_eq!(v("500m"), 1, "Value rounds up");
        assert_eq!(v("8Ei"), i64::MAX, "saturates");
        assert_eq!(v("+5"), 5);
        assert_eq!(v("-5"), -5);
        assert_eq!(v("abc"), 0);
        assert_eq!(v("1Qi"), 0);
        assert_eq!(v(""), 0);
    }

    #[test]
    fn init_containers_and_overhead() {
        // Upstream's example: init 2/1G and 2/3G, app 2/1G + 1/1G → 3, 3G.
        let mut pod = pod("p")
            .init_container(&[("cpu", "2"), ("memory", "1G")])
            .init_container(&[("cpu", "2"), ("memory", "3G")])
            .container(&[("cpu", "2"), ("memory", "1G")])
            .container(&[("cpu", "1"), ("memory", "1G")])
            .obj();
        let r = pod_requests(&pod);
        assert_eq!((r.milli_cpu, r.memory), (3000, 3_000_000_000));
        pod.spec.as_mut().unwrap().overhead = Some(
            [("cpu".to_string(), Quantity("250m".into()))]
                .into_iter()
                .collect(),
        );
        assert_eq!(pod_requests(&pod).milli_cpu, 3250);
    }

    #[test]
    fn sidecars() {
        // sidecar 1 cpu (restartable), then init 2 cpu, app 1 cpu:
        // init phase needs 1+2 = 3; running needs 1+1 = 2 → 3.
        let pod = pod("p")
            .sidecar(&[("cpu", "1")])
            .init_container(&[("cpu", "2")])
            .container(&[("cpu", "1")])
            .obj();
        assert_eq!(pod_requests(&pod).milli_cpu, 3000);
        // sidecar 2, app 3 → 5 (the sidecar runs alongside).
        let pod = pod_named_sidecar_app();
        assert_eq!(pod_requests(&pod).milli_cpu, 5000);
    }

    fn pod_named_sidecar_app() -> Pod {
        pod("q")
            .sidecar(&[("cpu", "2")])
            .container(&[("cpu", "3")])
            .obj()
    }

    #[test]
    fn non_zero_defaults() {
        let p = pod("p").container(&[]).container(&[("cpu", "1")]).obj();
        assert_eq!(
            pod_non_zero_requests(&p),
            (1100, 2 * DEFAULT_MEMORY_REQUEST)
        );
        let p = pod("p").container(&[("cpu", "0"), ("memory", "0")]).obj();
        assert_eq!(
            pod_non_zero_requests(&p),
            (0, 0),
            "explicit zero stays zero"
        );
    }

    #[test]
    fn scalars() {
        let p = pod("p")
            .container(&[
                ("nvidia.com/gpu", "2"),
                ("hugepages-2Mi", "4Mi"),
                ("foo", "1"),
            ])
            .obj();
        let r = pod_requests(&p);
        assert_eq!(r.scalar("nvidia.com/gpu"), 2);
        assert_eq!(r.scalar("hugepages-2Mi"), 4 << 20);
        assert!(!r.has_scalar("foo"));
        assert!(is_extended_resource_name("nvidia.com/gpu"));
        assert!(!is_extended_resource_name("kubernetes.io/foo"));
    }
}
