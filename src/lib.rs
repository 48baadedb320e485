//! packwright: one manifest → plan → format writers → dist/.
//!
//! The pipeline runs one way. `manifest` parses and expands the user's file,
//! `plan` checks and normalises it into the one intermediate representation,
//! and each writer in `format` reads only the plan; `lifecycle` renders the
//! plan's lifecycle intent as each manager's scripts, and `inspect` reads
//! packages back. What runs on the target machine is the separate crate
//! `packwright-hook` (hook/), which this crate uses for version order and
//! config syntax checks at build time, never the other way round.

pub mod archive;
pub mod error;
pub mod format;
pub mod identity;
pub mod import;
pub mod inspect;
pub mod lifecycle;
pub mod manifest;
pub mod pipeline;
pub mod plan;
pub mod release;
pub mod report;

pub use error::{Error, Result};
