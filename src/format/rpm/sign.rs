//! The rpm signature header: digests of the header, and the OpenPGP
//! signature when a key is given (loaded and tried once, in `prepare`).

use crate::error::{Error, Result};
use crate::format::Keys;
use rpm::signature::Signing;
use rpm::{Header, IndexSignatureTag, SignatureHeaderBuilder};

/// The signing key from the build inputs, tried once so that a wrong
/// passphrase stops the build before the payload is written.
pub(super) fn signer(keys: &Keys) -> Result<Option<rpm::signature::pgp::Signer>> {
    let Some(path) = &keys.pgp else {
        return Ok(None);
    };
    let key = "--pgp-key (PACKWRIGHT_PGP_KEY)";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::format(
            "rpm",
            key,
            format!("`{}` cannot be read: {e}", path.display()),
        )
    })?;
    let mut s = rpm::signature::pgp::Signer::from_asc(&text).map_err(|e| {
        Error::format(
            "rpm",
            key,
            format!(
                "`{}` is not an armored OpenPGP secret key with a signing key: {e}",
                path.display()
            ),
        )
    })?;
    if let Some(p) = &keys.pgp_passphrase {
        s = s.with_key_passphrase(p.clone());
    }
    s.sign(&b""[..], rpm::Timestamp(0)).map_err(|e| {
        Error::format(
            "rpm",
            "--pgp-passphrase (PACKWRIGHT_PGP_PASSPHRASE)",
            format!(
                "cannot sign with `{}`: {e}; the passphrase is wrong or missing",
                path.display()
            ),
        )
    })?;
    Ok(Some(s))
}

/// The signature header for `header` followed by `payload_len` bytes.
pub(super) fn signature(
    header: &[u8],
    payload_len: u64,
    signer: Option<&rpm::signature::pgp::Signer>,
    mtime: u32,
) -> Result<std::result::Result<Header<IndexSignatureTag>, rpm::Error>> {
    let mut sig = SignatureHeaderBuilder::new()
        .format(rpm::RpmFormat::V4)
        .set_content_length(header.len() as u64 + payload_len)
        .calculate_digests(header);
    if let Some(s) = signer {
        let signature = s
            .sign(header, rpm::Timestamp(mtime))
            .map_err(|e| Error::format("rpm", "--pgp-key", format!("signing failed: {e}")))?;
        sig = sig.add_openpgp_signature(signature);
    }
    Ok(sig.build())
}
