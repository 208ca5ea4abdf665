//! The cluster's certificates and the server's TLS configuration.
//!
//! On first start the server makes a CA, a serving certificate signed by it
//! (for `localhost`, the loopback addresses, the listen address and the
//! in-cluster `kubernetes.default.svc` names) and an admin client
//! certificate (`O=system:masters`), and keeps them under `<data-dir>/pki`.
//! Later starts reuse them; a serving certificate that does not cover the
//! listen address is re-issued from the same CA.
//!
//! Clients authenticate with certificates signed by the CA. A connection
//! without one is accepted at the TLS level (health checks and `/version`
//! are public, as upstream) and refused with 401 on the API itself.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

const CA_NAME: &str = "rkube-ca";
/// The user the admin certificate authenticates as.
pub const ADMIN_USER: &str = "rkube-admin";

/// The PEM files of the cluster's certificates.
#[derive(Clone, Debug)]
pub struct Pki {
    dir: PathBuf,
}

fn validity(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

impl Pki {
    /// Load the certificates under `dir`, making whatever is missing. The
    /// serving certificate must cover `listen_ip`.
    pub fn ensure(dir: &Path, listen_ip: IpAddr) -> Result<Pki> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let pki = Pki {
            dir: dir.to_owned(),
        };
        let fresh_ca = !pki.path("ca.crt").exists() || !pki.path("ca.key").exists();
        if fresh_ca {
            let key = KeyPair::generate()?;
            let mut params = ca_params();
            validity(&mut params);
            let cert = params.self_signed(&key)?;
            write_private(&pki.path("ca.key"), &key.serialize_pem())?;
            fs::write(pki.path("ca.crt"), cert.pem())?;
        }
        let ca_key = KeyPair::from_pem(&fs::read_to_string(pki.path("ca.key"))?)
            .context("reading the CA key")?;
        let issuer = Issuer::new(ca_params(), ca_key);

        let server_ok = !fresh_ca
            && pki.path("server.crt").exists()
            && pki.path("server.key").exists()
            && pki.server_covers(listen_ip)?;
        if !server_ok {
            let mut sans: Vec<SanType> = [
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ]
            .iter()
            .map(|n| SanType::DnsName((*n).try_into().expect("static DNS names are valid")))
            .collect();
            let mut ips: Vec<IpAddr> =
                vec!["127.0.0.1".parse()?, "::1".parse()?, "10.96.0.1".parse()?];
            if !listen_ip.is_unspecified() && !ips.contains(&listen_ip) {
                ips.push(listen_ip);
            }
            sans.extend(ips.into_iter().map(SanType::IpAddress));
            pki.issue(
                "server",
                "rkube-apiserver",
                None,
                sans,
                ExtendedKeyUsagePurpose::ServerAuth,
                &issuer,
            )?;
        }
        if fresh_ca || !pki.path("admin.crt").exists() || !pki.path("admin.key").exists() {
            pki.issue(
                "admin",
                ADMIN_USER,
                Some("system:masters"),
                vec![],
                ExtendedKeyUsagePurpose::ClientAuth,
                &issuer,
            )?;
        }
        Ok(pki)
    }

    fn issue(
        &self,
        name: &str,
        common_name: &str,
        organization: Option<&str>,
        sans: Vec<SanType>,
        usage: ExtendedKeyUsagePurpose,
        issuer: &Issuer<'_, KeyPair>,
    ) -> Result<()> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        if let Some(o) = organization {
            dn.push(DnType::OrganizationName, o);
        }
        params.distinguished_name = dn;
        params.subject_alt_names = sans;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params);
        let cert = params.signed_by(&key, issuer)?;
        write_private(&self.path(&format!("{name}.key")), &key.serialize_pem())?;
        fs::write(self.path(&format!("{name}.crt")), cert.pem())?;
        Ok(())
    }

    fn server_covers(&self, ip: IpAddr) -> Result<bool> {
        if ip.is_unspecified() {
            return Ok(true);
        }
        let der = self.certs("server.crt")?;
        let Some(first) = der.first() else {
            return Ok(false);
        };
        let (_, cert) = x509_parser::parse_x509_certificate(first.as_ref())
            .map_err(|e| anyhow::anyhow!("parsing server.crt: {e}"))?;
        let covered = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value.general_names.iter().any(|n| match n {
                    x509_parser::extensions::GeneralName::IPAddress(bytes) => match bytes.len() {
                        4 => IpAddr::from(<[u8; 4]>::try_from(*bytes).unwrap_or_default()) == ip,
                        16 => IpAddr::from(<[u8; 16]>::try_from(*bytes).unwrap_or_default()) == ip,
                        _ => false,
                    },
                    _ => false,
                })
            })
            .unwrap_or(false);
        Ok(covered)
    }

    /// The path of one PEM file.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn certs(&self, file: &str) -> Result<Vec<CertificateDer<'static>>> {
        let pem = fs::read(self.path(file)).with_context(|| format!("reading {file}"))?;
        rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("parsing {file}"))
    }

    fn key(&self, file: &str) -> Result<PrivateKeyDer<'static>> {
        let pem = fs::read(self.path(file)).with_context(|| format!("reading {file}"))?;
        rustls_pemfile::private_key(&mut pem.as_slice())
            .with_context(|| format!("parsing {file}"))?
            .with_context(|| format!("no private key in {file}"))
    }

    /// The PEM text of a file (for kubeconfigs).
    pub fn pem(&self, file: &str) -> Result<String> {
        fs::read_to_string(self.path(file)).with_context(|| format!("reading {file}"))
    }

    /// The TLS configuration of the API server: the serving certificate,
    /// optional client certificates verified against the CA, ALPN h2 and
    /// http/1.1.
    pub fn server_config(&self) -> Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in self.certs("ca.crt")? {
            roots.add(ca)?;
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.certs("server.crt")?, self.key("server.key")?)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// The user a verified client certificate names: its CN, and its O entries
/// as groups.
pub fn client_identity(cert: &CertificateDer<'_>) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_owned))
        .collect();
    Some((name, groups))
}

/// Write a kubeconfig for the admin user pointing at `server_url`.
pub fn write_admin_kubeconfig(pki: &Pki, path: &Path, server_url: &str) -> Result<()> {
    use base64::Engine;
    let b64 = |file: &str| -> Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(pki.pem(file)?))
    };
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: rkube\n  cluster:\n    server: {server_url}\n    certificate-authority-data: {ca}\nusers:\n- name: {ADMIN_USER}\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\ncontexts:\n- name: rkube\n  context:\n    cluster: rkube\n    user: {ADMIN_USER}\n    namespace: default\ncurrent-context: rkube\n",
        ca = b64("ca.crt")?,
        cert = b64("admin.crt")?,
        key = b64("admin.key")?,
    );
    write_private(path, &config)
}
