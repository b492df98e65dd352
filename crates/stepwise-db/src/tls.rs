//! TLS for both engines (rustls with the ring provider), configured from the
//! URL the way each engine's own clients read it:
//!
//! - PostgreSQL, as libpq: `sslmode=disable|prefer|require|verify-ca|verify-full`
//!   (default `prefer`) and `sslrootcert=<file>` (default
//!   `~/.postgresql/root.crt`). `require` encrypts without checking the
//!   certificate, unless a root certificate is given, when it checks the chain
//!   as `verify-ca` does; `verify-ca` checks the chain; `verify-full` checks the
//!   chain and that the certificate names the host.
//! - MySQL/MariaDB, as the `mysql` client: `ssl-mode=DISABLED|PREFERRED|REQUIRED|
//!   VERIFY_CA|VERIFY_IDENTITY` (default `PREFERRED`) and `ssl-ca=<file>`.
//!
//! Both parameters are taken out of the URL before the driver reads it.

use crate::DbError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: Mode,
    /// Trusted roots (PEM) for the chain check.
    pub root_cert: Option<PathBuf>,
}

/// Take `mode_key` and `ca_key` out of the URL's query; the rest of the URL
/// is returned as it was.
fn take_params(raw: &str, mode_key: &str, ca_key: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = raw.split_once('?') else { return (raw.to_string(), None, None) };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let (mut mode, mut ca, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        if k.eq_ignore_ascii_case(mode_key) {
            mode = Some(v);
        } else if k.eq_ignore_ascii_case(ca_key) {
            ca = Some(v);
        } else {
            kept.push(pair);
        }
    }
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    (out, mode, ca)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PostgreSQL: the URL without `sslmode`/`sslrootcert`, and the TLS to use.
pub fn postgres(raw: &str) -> Result<(String, Tls), DbError> {
    let (rest, mode, ca) = take_params(raw, "sslmode", "sslrootcert");
    let mode = match mode.as_deref().unwrap_or("prefer") {
        "disable" => Mode::Disable,
        "allow" | "prefer" => Mode::Prefer,
        "require" => Mode::Require,
        "verify-ca" => Mode::VerifyCa,
        "verify-full" => Mode::VerifyFull,
        other => return Err(DbError::Config(format!("sslmode={other}: use disable, prefer, require, verify-ca or verify-full"))),
    };
    // libpq's default root file, where it exists.
    let default_root = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql/root.crt")).filter(|p| p.exists());
    let root_cert = ca.map(PathBuf::from).or(default_root);
    let mode = match mode {
        Mode::Require if root_cert.is_some() => Mode::VerifyCa,
        m => m,
    };
    Ok((rest, Tls { mode, root_cert }))
}

/// MySQL/MariaDB: the URL without `ssl-mode`/`ssl-ca`, and the TLS to use.
pub fn mysql(raw: &str) -> Result<(String, Tls), DbError> {
    let (rest, mode, ca) = take_params(raw, "ssl-mode", "ssl-ca");
    let mode = match mode.as_deref().map(str::to_ascii_uppercase).as_deref().unwrap_or("PREFERRED") {
        "DISABLED" => Mode::Disable,
        "PREFERRED" => Mode::Prefer,
        "REQUIRED" => Mode::Require,
        "VERIFY_CA" => Mode::VerifyCa,
        "VERIFY_IDENTITY" => Mode::VerifyFull,
        other => return Err(DbError::Config(format!("ssl-mode={other}: use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"))),
    };
    Ok((rest, Tls { mode, root_cert: ca.map(PathBuf::from) }))
}

// ring rather than aws-lc-rs: no cmake, a far shorter build; rustls marks it
// deprecated only for lacking post-quantum key exchange.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(path: &std::path::Path) -> Result<RootCertStore, DbError> {
    let bad = |e: String| DbError::Config(format!("root certificate {}: {e}", path.display()));
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        store.add(cert.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(bad("holds no certificate".into()));
    }
    Ok(store)
}

/// The rustls client configuration for a mode that encrypts.
pub fn client_config(tls: &Tls) -> Result<ClientConfig, DbError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::Config(format!("TLS: {e}")))?;
    let need_roots = || {
        tls.root_cert.as_deref().ok_or_else(|| {
            DbError::Config(
                "verify-ca and verify-full (VERIFY_CA, VERIFY_IDENTITY) need the root certificate: add sslrootcert=<file> (ssl-ca=<file> for MySQL)"
                    .into(),
            )
        })
    };
    let verifier: Arc<dyn ServerCertVerifier> = match tls.mode {
        Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(Unchecked(provider)),
        Mode::VerifyCa | Mode::VerifyFull => {
            let store = roots(need_roots()?)?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| DbError::Config(format!("TLS: {e}")))?;
            if tls.mode == Mode::VerifyCa {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// `require` and `prefer`: encrypted, the certificate not checked (as libpq
/// and the mysql client do); the handshake's signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.0.verify_server_cert(end, intermediates, name, ocsp, now) {
            Err(Error::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_come_out_of_the_url() {
        let (url, tls) = postgres("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x").unwrap();
        assert_eq!(url, "postgres://u@h/db?application_name=x");
        assert_eq!(tls, Tls { mode: Mode::VerifyFull, root_cert: Some("/tmp/ca.pem".into()) });
        let (url, tls) = postgres("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert_eq!((url.as_str(), tls.mode), ("postgres://u@h/db", Mode::VerifyCa), "require with a root checks the chain, as libpq");
        assert!(postgres("postgres://u@h/db?sslmode=verify_full").is_err());
        let (url, tls) = mysql("mysql://root@h/db?ssl-mode=verify_identity&ssl-ca=/ca.pem").unwrap();
        assert_eq!((url.as_str(), tls.mode), ("mysql://root@h/db", Mode::VerifyFull));
        assert_eq!(mysql("mysql://root@h/db").unwrap().1.mode, Mode::Prefer);
        assert!(mysql("mysql://root@h/db?ssl-mode=SOMETIMES").is_err());
    }
}
