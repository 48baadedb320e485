//! packwright-hook's library half: merge engines, version gate, backups, migrations.
//!
//! Nothing here prints: every command returns a report and the binary decides
//! how to show it (plain lines or `--json`).

pub mod account;
pub mod args;
pub mod cli;
pub mod command;
pub mod desc;
pub mod error;
pub mod extract;
pub mod fsio;
pub mod man;
pub mod merge;
pub mod migrate;
pub mod package;
pub mod restore;
pub mod site;
pub mod snapshot;
pub mod template;
pub mod upgrade;
pub mod version;
pub mod xattr;

pub use error::{HookError, Result};
