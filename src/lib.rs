//! packwright: one manifest → plan → format writers → dist/.
//!
//! The pipeline runs one way. `manifest` parses and expands the user's file,
//! `plan` checks and normalises it into the one intermediate representation,
//! `lifecycle` renders the plan's lifecycle intent as each manager's
//! scripts, and each writer in `format` reads only the plan (and those
//! scripts); `build` runs the stages for the CLI (every format is prepared
//! before any is written) and `release` publishes what it made. `archive`
//! (tar, ar, cpio, compression), `identity` (which formats exist), `error`
//! and `report` are leaves any stage may use; `inspect` reads packages back.
//! tests/it/layout.rs fails when a module imports from a later stage.
//!
//! What runs on the target machine is the separate crate `packwright-hook`
//! (hook/), which this crate uses for version order, config syntax checks at
//! build time and the on-target contract (`packwright_hook::contract`: the
//! paths and names the generated scripts and the hook share), never the
//! other way round.

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
