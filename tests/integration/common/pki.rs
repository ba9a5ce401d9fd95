//! Certificates for TLS tests, generated per test with rcgen and written
//! as PEM files to a temporary directory.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::path::PathBuf;

/// A certificate authority that signs server and client certificates.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub pem: String,
}

/// A certificate and its key, as PEM.
pub struct Issued {
    pub cert: String,
    pub key: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).expect("CA cert").pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server(&self) -> Issued {
        self.host(
            "switchyard test server",
            vec![ExtendedKeyUsagePurpose::ServerAuth],
        )
    }

    /// A certificate for a cluster peer, which is a server to the peers
    /// that dial it and a client to those it dials (nats-server requires
    /// both uses on route certificates).
    pub fn peer(&self) -> Issued {
        self.host(
            "switchyard test peer",
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        )
    }

    /// A certificate for `localhost` and 127.0.0.1 named `cn`, for `uses`.
    fn host(&self, cn: &str, uses: Vec<ExtendedKeyUsagePurpose>) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("host params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = uses;
        self.sign(params)
    }

    /// A client certificate with subject `dn` (type, value pairs, most
    /// general first) and the given SANs.
    pub fn client(&self, dn: &[(DnType, &str)], sans: Vec<SanType>) -> Issued {
        let mut params = CertificateParams::default();
        for (kind, value) in dn {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// A directory of PEM files for one test; removed when dropped.
pub struct PemDir {
    dir: tempfile::TempDir,
}

impl PemDir {
    pub fn new() -> PemDir {
        PemDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn write(&self, name: &str, pem: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, pem).expect("write PEM");
        path
    }

    /// Writes `issued` as `<name>.pem` and `<name>-key.pem`.
    pub fn pair(&self, name: &str, issued: &Issued) -> (PathBuf, PathBuf) {
        (
            self.write(&format!("{name}.pem"), &issued.cert),
            self.write(&format!("{name}-key.pem"), &issued.key),
        )
    }
}
