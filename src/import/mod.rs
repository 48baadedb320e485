//! Manifests from what projects already have: `packwright import nfpm.yaml`,
//! `packwright init` (from Cargo.toml, or a commented starter). A pure
//! converter: input text in, manifest text and warnings out; nothing here
//! knows how packages are written.

pub mod cargo;
mod cargo_meta;
pub mod cli;
mod emit;
pub mod nfpm;
mod nfpm_contents;
mod nfpm_section;
pub mod starter;
mod yaml;

use std::fmt;

/// Something of the input that has no packwright equivalent, or means
/// something else here. Never dropped silently: printed and written into the
/// manifest's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The input's key, as written there (`rpm.prefixes`, `contents[3].type`).
    pub key: String,
    /// 1-based line in the input; 0 when unknown.
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}: {}", self.line, self.key, self.msg)
        } else {
            write!(f, "{}: {}", self.key, self.msg)
        }
    }
}

/// A converted manifest.
#[derive(Debug)]
pub struct Imported {
    pub toml: String,
    pub warnings: Vec<Warning>,
}

/// Collects warnings while converting.
#[derive(Default)]
pub(crate) struct Warnings(pub Vec<Warning>);

impl Warnings {
    pub fn add(&mut self, key: impl Into<String>, line: usize, msg: impl Into<String>) {
        self.0.push(Warning {
            key: key.into(),
            line,
            msg: msg.into(),
        });
    }
}

/// The manifest's opening comment: where it came from, and every warning.
pub(crate) fn header(from: &str, warnings: &[Warning]) -> String {
    let mut h = format!(
        "# packwright manifest, made from {from} by packwright.\n\
         # Keys: the README's \"Manifest reference\". Validate with `packwright check`.\n"
    );
    if !warnings.is_empty() {
        h.push_str(&format!(
            "#\n# Not imported, or different here ({}):\n",
            warnings.len()
        ));
        for w in warnings {
            for (i, l) in w.to_string().lines().enumerate() {
                h.push_str(if i == 0 { "#   " } else { "#     " });
                h.push_str(l);
                h.push('\n');
            }
        }
    }
    h.push('\n');
    h
}
