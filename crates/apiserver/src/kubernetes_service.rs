//! The `kubernetes` Service in `default` (upstream's bootstrap controller
//! and endpoint reconciler): how pods find the API server. The Service
//! holds the first address of the service CIDR (10.96.0.1) with port 443
//! (`https`) to the server's port. Its Endpoints and EndpointSlice name the
//! server's advertised address ([`advertised`]) — only when there is one
//! pods can reach: a loopback listener (the default, `127.0.0.1:6443`)
//! without `--advertise-address` gets the Service alone, since Endpoints
//! may not hold loopback addresses.
//!
//! Recreated within [`PERIOD`] if deleted, as upstream does.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::handlers::write;
use crate::server::ApiServer;

/// How often the objects are checked.
pub const PERIOD: Duration = Duration::from_secs(10);

/// The address pods reach the server on, if any (upstream's advertise
/// address): the one given (`--advertise-address`); else the listen
/// address unless it is loopback; for a listener on every address
/// (`0.0.0.0`, `::`), the host's own address toward its default route.
pub fn advertised(listen: SocketAddr, given: Option<IpAddr>) -> Option<IpAddr> {
    let ip = listen.ip();
    given.or_else(|| {
        if ip.is_unspecified() {
            host_address(ip.is_ipv6())
        } else {
            (!ip.is_loopback()).then_some(ip)
        }
    })
}

/// The source address the host would use toward the outside (upstream
/// picks the default route's interface): what a UDP socket connected to a
/// documentation address is bound to. Connecting a UDP socket only
/// consults the routing table; nothing is sent.
fn host_address(v6: bool) -> Option<IpAddr> {
    let (bind, probe): (SocketAddr, SocketAddr) = if v6 {
        ("[::]:0".parse().ok()?, "[2001:db8::1]:9".parse().ok()?)
    } else {
        ("0.0.0.0:0".parse().ok()?, "192.0.2.1:9".parse().ok()?)
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(probe).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn service(port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": crate::services::first_address().to_string(),
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    })
}

fn endpoints(ip: IpAddr, port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [{
            "addresses": [{"ip": ip.to_string()}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }],
    })
}

fn endpoint_slice(ip: IpAddr, port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": if ip.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [ip.to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    })
}

/// Create what is missing (an object someone changed is left alone, as
/// upstream leaves a Service it did not create).
pub async fn ensure(
    server: &Arc<ApiServer>,
    listen: SocketAddr,
    advertise: Option<IpAddr>,
) -> anyhow::Result<()> {
    let mut wanted = vec![("", "services", service(listen.port()))];
    if let Some(ip) = advertise {
        wanted.push(("", "endpoints", endpoints(ip, listen.port())));
        wanted.push((
            "discovery.k8s.io",
            "endpointslices",
            endpoint_slice(ip, listen.port()),
        ));
    }
    for (group, plural, obj) in wanted {
        let ctx = server.ctx(group, "v1", plural, Some("default"), None)?;
        let cache = ctx.cache().map_err(|s| anyhow::anyhow!("{s}"))?;
        if cache
            .get(&ctx.rest(Some("default"), "kubernetes"))
            .is_some()
        {
            continue;
        }
        match write::create_object(&ctx, obj, false, write::Ownership::Update).await {
            Ok(_) => {}
            Err(s) if s.code == 409 => {}
            Err(s) => anyhow::bail!("creating the kubernetes {plural}: {s}"),
        }
    }
    Ok(())
}

/// Keep the objects there until the server stops.
pub fn spawn(
    server: Arc<ApiServer>,
    listen: SocketAddr,
    advertise: Option<IpAddr>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PERIOD).await;
            if let Err(e) = ensure(&server, listen, advertise).await {
                tracing::warn!("{e:#}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reachable_addresses_are_advertised() {
        let at = |s: &str| -> SocketAddr { s.parse().unwrap() };
        assert_eq!(advertised(at("127.0.0.1:6443"), None), None);
        assert_eq!(advertised(at("[::1]:6443"), None), None);
        assert_eq!(
            advertised(at("192.168.1.5:6443"), None),
            Some("192.168.1.5".parse().unwrap())
        );
        let given: IpAddr = "192.0.2.10".parse().unwrap();
        assert_eq!(advertised(at("127.0.0.1:6443"), Some(given)), Some(given));
        // Every address: the host's own, never loopback (none without a
        // route out).
        let host = advertised(at("0.0.0.0:6443"), None);
        assert!(host.is_none_or(|ip| !ip.is_loopback() && !ip.is_unspecified()));
        assert_eq!(host, host_address(false));
    }
}
