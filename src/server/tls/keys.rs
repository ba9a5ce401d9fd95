//! Building the rustls server configuration from PEM files.

use crate::config::TlsConfig;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("tls: {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("tls: {path}: no certificate found (expected PEM `BEGIN CERTIFICATE`)")]
    NoCertificate { path: PathBuf },
    #[error("tls: {0}")]
    Config(String),
}

pub(super) fn acceptor(cfg: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = certificates(&cfg.cert_file)?;
    let key = PrivateKeyDer::from_pem_file(&cfg.key_file).map_err(|e| TlsError::File {
        path: cfg.key_file.clone(),
        reason: format!("cannot read a private key: {e}"),
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match (&cfg.ca_file, cfg.verifies_clients()) {
        (Some(ca), true) => builder.with_client_cert_verifier(client_verifier(ca, provider)?),
        _ => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn client_verifier(
    ca_file: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(ca_file)? {
        roots.add(cert).map_err(|e| TlsError::File {
            path: ca_file.to_path_buf(),
            reason: format!("not a usable CA certificate: {e}"),
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TlsError::Config(format!("client verification: {e}")))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file_error = |e: rustls_pki_types::pem::Error| TlsError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(file_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(file_error)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The rustls client configuration for a connection this server dials
/// (a leaf node remote): the hub's certificate must chain to `ca_file`;
/// a client certificate is presented if one is configured.
pub(in crate::server) fn connector(
    cfg: &crate::config::RemoteTls,
) -> Result<tokio_rustls::TlsConnector, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    let Some(ca) = &cfg.ca_file else {
        return Err(TlsError::Config(
            "leaf node remote TLS needs ca_file (the hub's CA)".to_string(),
        ));
    };
    for cert in certificates(ca)? {
        roots.add(cert).map_err(|e| TlsError::File {
            path: ca.clone(),
            reason: format!("not a usable CA certificate: {e}"),
        })?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let config = match (&cfg.cert_file, &cfg.key_file) {
        (Some(cert), Some(key)) => {
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File {
                path: key.clone(),
                reason: format!("cannot read a private key: {e}"),
            })?;
            builder
                .with_client_auth_cert(certificates(cert)?, key)
                .map_err(|e| TlsError::Config(format!("client certificate and key: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
