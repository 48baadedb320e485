//! packwright's integration tests, one binary so they link once: every
//! format's writer and reader, the real package managers (dpkg, rpm, pacman,
//! the apk runner) in scratch roots, lint tools, the CLI and the lifecycle.

mod common;

mod apk;
mod bad_input;
mod cli;
mod deb;
mod hook_discovery;
mod hostile;
mod import;
mod layout;
mod lifecycle_apk;
mod lifecycle_deb;
mod lifecycle_infra;
mod lifecycle_lint;
mod lifecycle_pacman;
mod lifecycle_rename;
mod lifecycle_rpm;
mod lifecycle_scripts;
mod migrate_apk;
mod migrate_deb;
mod migrate_pacman;
mod migrate_portable;
mod migrate_rpm;
mod pacman;
mod portable;
mod release;
mod reproducible;
mod rpm;
mod snapshot;
mod speed;
