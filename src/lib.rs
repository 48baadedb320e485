//! packwright: one manifest → plan → format writers → dist/.
//!
//! The pipeline runs one way. `manifest` parses and expands the user's file,
//! `plan` checks and normalises it into the one intermediate representation,
//! and each writer in `format` reads only the plan.

pub mod archive;
pub mod build;
pub mod error;
pub mod format;
pub mod hook;
pub mod import;
pub mod inspect;
pub mod lifecycle;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod vars;

pub use error::{Error, Result};
