//! Repository and release signing keys: OpenPGP (apt, dnf, pacman,
//! SHA256SUMS) and RSA (apk). Both are loaded and tried once before
//! anything is written, so a missing, unreadable or wrong key (or a wrong
//! passphrase) stops a publish with nothing on disk.
//!
//! Reproducibility: a v4 OpenPGP signature made with an RSA or Ed25519 key
//! at a fixed creation time (SOURCE_DATE_EPOCH) is byte-identical across
//! runs; ECDSA and DSA signatures are random (v6 keys, whose signatures
//! carry a random salt, are refused for now).
//! apk's RSA PKCS#1 v1.5 signatures are deterministic.

use crate::error::{Error, Result};
use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, DetachedSignature, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{
    PacketTrait, SecretKey, SecretSubkey, Signature, SignatureConfig, SignatureType,
};
use pgp::packet::{Subpacket, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, KeyVersion, Password, SigningKey, Timestamp};
use std::path::{Path, PathBuf};

const PGP_FLAG: &str = "--pgp-key (PACKWRIGHT_PGP_KEY)";
const RSA_FLAG: &str = "--rsa-key (PACKWRIGHT_RSA_KEY)";

fn bad(key: &str, msg: String) -> Error {
    Error::format("publish", key, msg)
}

enum Key {
    Primary(SecretKey),
    Sub(SecretSubkey),
}

/// An OpenPGP secret key ready to sign, with the time its signatures carry.
pub struct Pgp {
    cert: SignedSecretKey,
    key: Key,
    password: String,
    time: u32,
    path: PathBuf,
}

impl Pgp {
    pub fn load(path: &Path, passphrase: Option<&str>, time: u64) -> Result<Pgp> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            bad(
                PGP_FLAG,
                format!("`{}` cannot be read: {e}", path.display()),
            )
        })?;
        let not_key = |e: String| {
            bad(
                PGP_FLAG,
                format!(
                    "`{}` is not an armored OpenPGP secret key with a signing key: {e}",
                    path.display()
                ),
            )
        };
        let (mut certs, _) =
            SignedSecretKey::from_string_many(&text).map_err(|e| not_key(e.to_string()))?;
        let cert = certs
            .next()
            .ok_or_else(|| not_key("no key found".into()))?
            .map_err(|e| not_key(e.to_string()))?;
        let sub = cert
            .secret_subkeys
            .iter()
            .find(|s| s.signatures.iter().any(|g| g.key_flags().sign()));
        if cert.primary_key.version() == KeyVersion::V6 {
            return Err(not_key(
                "v6 (RFC 9580) keys are not supported yet; use a v4 RSA or Ed25519 key".into(),
            ));
        }
        let key = match sub {
            Some(s) => Key::Sub(s.key.clone()),
            None => Key::Primary(cert.primary_key.clone()),
        };
        // gpgv refuses a signature older than its key ("Time conflict"):
        // SOURCE_DATE_EPOCH before the key's creation signs at its creation.
        let created = match &key {
            Key::Primary(k) => k.created_at(),
            Key::Sub(k) => k.created_at(),
        }
        .as_secs();
        let pgp = Pgp {
            cert,
            key,
            password: passphrase.unwrap_or_default().to_string(),
            time: u32::try_from(time).unwrap_or(u32::MAX).max(created),
            path: path.to_path_buf(),
        };
        pgp.detached(b"").map_err(|e| {
            bad(
                "--pgp-passphrase (PACKWRIGHT_PGP_PASSPHRASE)",
                format!(
                    "cannot sign with `{}`: {e}; the passphrase is wrong or missing",
                    path.display()
                ),
            )
        })?;
        Ok(pgp)
    }

    fn failed(&self, e: impl std::fmt::Display) -> Error {
        bad(
            PGP_FLAG,
            format!("{}: signing failed: {e}", self.path.display()),
        )
    }

    fn config<K: SigningKey>(&self, k: &K, typ: SignatureType) -> Result<SignatureConfig> {
        let hash = HashAlgorithm::Sha256;
        let mut c = SignatureConfig::v4(typ, k.algorithm(), hash);
        let sp = |d| Subpacket::regular(d).map_err(|e| self.failed(e));
        c.hashed_subpackets = vec![
            sp(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
                self.time,
            )))?,
            sp(SubpacketData::IssuerFingerprint(k.fingerprint()))?,
        ];
        c.hashed_subpackets
            .push(sp(SubpacketData::IssuerKeyId(k.legacy_key_id()))?);
        Ok(c)
    }

    fn sign_with<K: SigningKey>(&self, k: &K, data: &[u8]) -> Result<Signature> {
        let pw = Password::from(self.password.clone());
        self.config(k, SignatureType::Binary)?
            .sign(k, &pw, data)
            .map_err(|e| self.failed(e))
    }

    fn clear_with<K: SigningKey>(&self, k: &K, text: &str) -> Result<String> {
        let pw = Password::from(self.password.clone());
        let cfg = self.config(k, SignatureType::Text)?;
        let msg = CleartextSignedMessage::new(text, cfg, k, &pw).map_err(|e| self.failed(e))?;
        msg.to_armored_string(ArmorOptions::default())
            .map_err(|e| self.failed(e))
    }

    /// A binary detached signature (pacman's `.sig`).
    pub fn detached(&self, data: &[u8]) -> Result<Vec<u8>> {
        let sig = match &self.key {
            Key::Primary(k) => self.sign_with(k, data)?,
            Key::Sub(k) => self.sign_with(k, data)?,
        };
        // A packet with its header (to_bytes would write the body only).
        let mut out = Vec::new();
        sig.to_writer_with_header(&mut out)
            .map_err(|e| self.failed(e))?;
        Ok(out)
    }

    /// An armored detached signature (`Release.gpg`, `repomd.xml.asc`, `SHA256SUMS.asc`).
    pub fn armored(&self, data: &[u8]) -> Result<String> {
        let sig = match &self.key {
            Key::Primary(k) => self.sign_with(k, data)?,
            Key::Sub(k) => self.sign_with(k, data)?,
        };
        DetachedSignature::new(sig)
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| self.failed(e))
    }

    /// A clear-signed text (apt's `InRelease`).
    pub fn cleartext(&self, text: &str) -> Result<String> {
        match &self.key {
            Key::Primary(k) => self.clear_with(k, text),
            Key::Sub(k) => self.clear_with(k, text),
        }
    }

    /// The public key: (binary keyring for `signed-by`, armored).
    pub fn public(&self) -> Result<(Vec<u8>, String)> {
        let public = self.cert.to_public_key();
        let bin = public.to_bytes().map_err(|e| self.failed(e))?;
        let asc = public
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| self.failed(e))?;
        Ok((bin, asc))
    }

    /// The primary key's fingerprint, upper-case hex (`pacman-key --lsign-key`).
    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.cert.primary_key.fingerprint().as_bytes())
    }
}

/// The apk index key: RSA, and the name its public half has in /etc/apk/keys.
pub struct Rsa {
    key: rsa::PrivateKey,
    pub name: String,
    path: PathBuf,
}

impl Rsa {
    pub fn load(path: &Path, name: Option<&str>) -> Result<Rsa> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let fail = |msg: String| bad(RSA_FLAG, format!("{}: {msg}", path.display()));
        let pem = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read the apk signing key: {e}")))?;
        let key = if pem.contains("ENCRYPTED") {
            Err(
                "the key is encrypted; write a decrypted copy (openssl rsa -in KEY -out PLAIN)"
                    .to_string(),
            )
        } else if pem.contains("BEGIN RSA PRIVATE KEY") {
            rsa::PrivateKey::from_pkcs1_pem(&pem).map_err(|e| e.to_string())
        } else {
            rsa::PrivateKey::from_pkcs8_pem(&pem).map_err(|e| e.to_string())
        }
        .map_err(|e| fail(format!("cannot use the apk signing key: {e}")))?;
        let name = match name {
            Some(n) => n.to_string(),
            None => format!(
                "{}.pub",
                path.file_name().unwrap_or_default().to_string_lossy()
            ),
        };
        if name.is_empty() || name.contains(['/', '\0', '\n']) || name.starts_with('.') {
            return Err(bad(
                "--rsa-key-name",
                format!("`{name}` cannot be a file name in /etc/apk/keys"),
            ));
        }
        Ok(Rsa {
            key,
            name,
            path: path.to_path_buf(),
        })
    }

    /// PKCS#1 v1.5 over SHA-256 (`.SIGN.RSA256.`; deterministic).
    pub fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(data);
        self.key
            .pkcs1v15_sign_prehash::<Sha256>(&digest)
            .map_err(|e| {
                bad(
                    RSA_FLAG,
                    format!("{}: signing failed: {e}", self.path.display()),
                )
            })
    }

    /// The public key as PEM (SubjectPublicKeyInfo), what `openssl rsa -pubout` prints.
    pub fn public_pem(&self) -> Result<String> {
        use rsa::pkcs8::EncodePublicKey;
        self.key
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| bad(RSA_FLAG, e.to_string()))
    }
}
