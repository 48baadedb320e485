//! The apk signing key: loaded once in `prepare`, used on the control
//! stream's gzip bytes.

use super::FMT;
use crate::error::{Error, Result};
use sha1::{Digest, Sha1};
use std::path::Path;

/// The RSA key that signs the control stream, and its apk key name.
pub(super) struct Signer {
    key: rsa::PrivateKey,
    /// The public key's file name in /etc/apk/keys, e.g. `builder-5f3a.rsa.pub`.
    pub name: String,
    path: std::path::PathBuf,
}

impl Signer {
    pub(super) fn load(path: &Path, name: Option<&str>) -> Result<Signer> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let bad =
            |msg: String| Error::format(FMT, "--rsa-key", format!("{}: {msg}", path.display()));
        let pem = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read the apk signing key: {e}")))?;
        let key = if pem.contains("ENCRYPTED") {
            Err("the key is encrypted; write a decrypted copy for the build (openssl rsa -in KEY -out PLAIN)".into())
        } else if pem.contains("BEGIN RSA PRIVATE KEY") {
            rsa::PrivateKey::from_pkcs1_pem(&pem).map_err(|e| e.to_string())
        } else if pem.contains("BEGIN PRIVATE KEY") {
            rsa::PrivateKey::from_pkcs8_pem(&pem).map_err(|e| e.to_string())
        } else {
            Err("not a PEM RSA private key (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)".into())
        }
        .map_err(|e| bad(format!("cannot use the apk signing key: {e}")))?;
        let name = match name {
            Some(n) => n.to_string(),
            None => format!(
                "{}.pub",
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default()
            ),
        };
        // apk looks the name up as a file in its keys directory.
        if name.is_empty() || name.contains(['/', '\0', '\n']) || name.starts_with('.') {
            return Err(Error::format(
                FMT,
                "--rsa-key-name",
                format!("`{name}` cannot be a file name in /etc/apk/keys"),
            ));
        }
        Ok(Signer {
            key,
            name,
            path: path.to_path_buf(),
        })
    }

    /// A signature's length in bytes: the modulus's.
    pub(super) fn len(&self) -> usize {
        rsa::traits::PublicKeyParts::size(&self.key)
    }

    /// PKCS#1 v1.5 over SHA-1, as `openssl dgst -sha1 -sign` (deterministic).
    pub(super) fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha1::digest(data);
        self.key
            .pkcs1v15_sign_prehash::<Sha1>(&digest)
            .map_err(|e| {
                Error::format(
                    FMT,
                    "--rsa-key",
                    format!("{}: signing failed: {e}", self.path.display()),
                )
            })
    }
}
