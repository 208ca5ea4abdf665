//! Addresses of simulated nodes and their pods.
//!
//! - Node `i`'s InternalIP is in 172.16.0.0/12, at offset
//!   `256·(i / 254) + (i % 254) + 1`, so no address ends in `.0` or `.255`
//!   (room for about a million nodes).
//! - Pod CIDRs come from the cluster range 10.128.0.0/9, one block per node
//!   in node order: a /24 (`10.(128 + i / 256).(i % 256).0/24`) while
//!   `--pods` ≤ 253, else the smallest larger block that holds `--pods`
//!   addresses. With /24 blocks that is 32,768 nodes; unlike the usual
//!   10.244.0.0/16, whose /24s stop at 256 nodes.
//! - In a block, `.0` (network), `.1` (gateway, as kubenet) and the last
//!   address (broadcast) are never given to pods.

use std::net::Ipv4Addr;

const CLUSTER_CIDR_BASE: u32 = u32::from_be_bytes([10, 128, 0, 0]);
const CLUSTER_CIDR_PREFIX: u32 = 9;
const NODE_IP_BASE: u32 = u32::from_be_bytes([172, 16, 0, 0]);

/// The prefix length of each node's pod CIDR for `max_pods` pods per node.
pub fn block_prefix(max_pods: u32) -> u32 {
    let mut prefix = 24;
    while prefix > CLUSTER_CIDR_PREFIX + 1 && (1u64 << (32 - prefix)) - 3 < u64::from(max_pods) {
        prefix -= 1;
    }
    prefix
}

/// Node `index`'s pod CIDR (`a.b.c.d/prefix`), or an error when the
/// cluster range has no room for that many nodes.
pub fn node_pod_cidr(index: usize, max_pods: u32) -> anyhow::Result<String> {
    let prefix = block_prefix(max_pods);
    let blocks = 1u64 << (prefix - CLUSTER_CIDR_PREFIX);
    anyhow::ensure!(
        (index as u64) < blocks,
        "the pod range 10.128.0.0/9 holds {blocks} /{prefix} node blocks; node {index} does not fit"
    );
    let start = CLUSTER_CIDR_BASE + (index as u32) * (1u32 << (32 - prefix));
    Ok(format!("{}/{prefix}", Ipv4Addr::from(start)))
}

/// Node `index`'s InternalIP.
pub fn node_ip(index: usize) -> Ipv4Addr {
    let i = index as u32;
    Ipv4Addr::from(NODE_IP_BASE + 256 * (i / 254) + (i % 254) + 1)
}

/// Parse `a.b.c.d/len` into (network, prefix length).
pub fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (ip, len) = cidr.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    if !(8..=30).contains(&len) {
        return None;
    }
    let mask = u32::MAX << (32 - len);
    Some((u32::from(ip) & mask, len))
}

/// The pod addresses of one node's CIDR.
pub struct PodIpPool {
    network: u32,
    size: u32,
    used: Vec<u64>,
    next: u32,
}

impl PodIpPool {
    /// A pool over `cidr` (an IPv4 `a.b.c.d/len`).
    pub fn new(cidr: &str) -> Option<PodIpPool> {
        let (network, len) = parse_cidr(cidr)?;
        let size = 1u32 << (32 - len);
        Some(PodIpPool {
            network,
            size,
            used: vec![0; size.div_ceil(64) as usize],
            next: 2,
        })
    }

    fn offset(&self, ip: Ipv4Addr) -> Option<u32> {
        let off = u32::from(ip).wrapping_sub(self.network);
        (off >= 2 && off < self.size - 1).then_some(off)
    }

    fn is_used(&self, off: u32) -> bool {
        self.used[(off / 64) as usize] & (1 << (off % 64)) != 0
    }

    fn set(&mut self, off: u32, used: bool) {
        let word = &mut self.used[(off / 64) as usize];
        if used {
            *word |= 1 << (off % 64);
        } else {
            *word &= !(1 << (off % 64));
        }
    }

    /// A free address (round-robin, so a freed address is not handed out
    /// again at once), or `None` when all are in use.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let usable = self.size - 3;
        for _ in 0..usable {
            let off = self.next;
            self.next = if off + 1 >= self.size - 1 { 2 } else { off + 1 };
            if !self.is_used(off) {
                self.set(off, true);
                return Some(Ipv4Addr::from(self.network + off));
            }
        }
        None
    }

    /// Mark `ip` as in use (a pod found running after a restart); false
    /// when it is outside the pool or already taken.
    pub fn claim(&mut self, ip: Ipv4Addr) -> bool {
        match self.offset(ip) {
            Some(off) if !self.is_used(off) => {
                self.set(off, true);
                true
            }
            _ => false,
        }
    }

    /// Return `ip` to the pool.
    pub fn release(&mut self, ip: Ipv4Addr) {
        if let Some(off) = self.offset(ip) {
            self.set(off, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses() {
        assert_eq!(node_pod_cidr(0, 110).unwrap(), "10.128.0.0/24");
        assert_eq!(node_pod_cidr(1, 110).unwrap(), "10.128.1.0/24");
        assert_eq!(node_pod_cidr(256, 110).unwrap(), "10.129.0.0/24");
        assert_eq!(node_pod_cidr(4999, 110).unwrap(), "10.147.135.0/24");
        assert_eq!(node_pod_cidr(32767, 253).unwrap(), "10.255.255.0/24");
        assert!(node_pod_cidr(32768, 110).is_err());
        assert_eq!(node_pod_cidr(1, 254).unwrap(), "10.128.2.0/23");
        assert_eq!(node_pod_cidr(1, 1000).unwrap(), "10.128.4.0/22");
        assert_eq!(node_ip(0), Ipv4Addr::new(172, 16, 0, 1));
        assert_eq!(node_ip(253), Ipv4Addr::new(172, 16, 0, 254));
        assert_eq!(node_ip(254), Ipv4Addr::new(172, 16, 1, 1));
        assert_eq!(node_ip(4999), Ipv4Addr::new(172, 16, 19, 174));
    }

    #[test]
    fn pool() {
        let mut p = PodIpPool::new("10.128.3.0/24").unwrap();
        let a = p.allocate().unwrap();
        assert_eq!(a, Ipv4Addr::new(10, 128, 3, 2));
        assert!(p.claim(Ipv4Addr::new(10, 128, 3, 3)));
        assert!(!p.claim(Ipv4Addr::new(10, 128, 3, 3)));
        assert!(!p.claim(Ipv4Addr::new(10, 128, 4, 3)));
        assert_eq!(p.allocate().unwrap(), Ipv4Addr::new(10, 128, 3, 4));
        p.release(a);
        let mut n = 2;
        while p.allocate().is_some() {
            n += 1;
        }
        assert_eq!(n, 253);
    }
}
