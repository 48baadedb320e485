//! packwright-hook: merge engines, version gate, backups, migrations — the
//! half of packwright that runs on the target machine. It depends on nothing
//! of the builder; the builder uses it for version order, config syntax
//! checks at build time and the paths both sides agree on (`contract`).
//! Every libc call goes through `sys` (safe wrappers, one SAFETY note
//! each); the lint below keeps the rest of the crate safe Rust.
//!
//! Nothing here prints: every command returns a report and the binary decides
//! how to show it (plain lines or `--json`).

#![deny(unsafe_code)]

pub mod account;
pub mod args;
pub mod cli;
pub mod command;
pub mod contract;
pub mod desc;
pub mod error;
pub mod extract;
pub mod fsio;
#[cfg(unix)]
pub mod legacy;
pub mod man;
pub mod merge;
pub mod migrate;
pub mod own;
pub mod package;
pub mod pax;
pub mod restore;
pub mod site;
pub mod snapshot;
pub mod statedir;
#[cfg(unix)]
#[allow(unsafe_code)]
pub mod sys;
pub mod template;
pub mod upgrade;
pub mod vars;
pub mod version;
pub mod xattr;

pub use error::{HookError, Result};
