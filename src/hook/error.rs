//! Errors of the hook. Each variant names the file (and key, line, column
//! where there is one) so the one-line message is enough to act on.

use std::path::PathBuf;

pub type Result<T, E = HookError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The live (or default) file does not parse; it is never rewritten.
    #[error("{}:{line}:{col}: {msg}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        msg: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A symlink (or other non-regular file) where a regular file is expected.
    #[error("{}: refusing to follow a symlink or write through a non-regular file", path.display())]
    NotRegular { path: PathBuf },
    /// The live config is newer than the package: a downgrade is refused.
    #[error("{}: {key} is {live} but this package provides {new}: refusing to downgrade the config", path.display())]
    Downgrade {
        path: PathBuf,
        key: String,
        live: String,
        new: String,
    },
    /// `check` found a different schema version.
    #[error("{}: {key} is {found} but {expected} is expected", path.display())]
    VersionMismatch {
        path: PathBuf,
        key: String,
        found: String,
        expected: String,
    },
    /// Template variables without a value, all of them at once.
    #[error("{}: variables not set and without default: {}", path.display(), names.join(", "))]
    MissingVars { path: PathBuf, names: Vec<String> },
    /// Another hook holds the lock.
    #[error("{}: another packwright-hook is running (lock held)", path.display())]
    Locked { path: PathBuf },
    /// A user or group name not found under `<root>/etc/passwd` or `/etc/group`.
    #[error("{}: no {kind} named {name:?}", path.display())]
    UnknownAccount {
        path: PathBuf,
        kind: &'static str,
        name: String,
    },
    /// Bad input given by the caller (arguments, package description).
    #[error("{}: {msg}", path.display())]
    Invalid { path: PathBuf, msg: String },
}

impl HookError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HookError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn invalid(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        HookError::Invalid {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// Exit codes, documented in docs/hook.md.
    pub fn exit_code(&self) -> i32 {
        match self {
            HookError::Io { .. } => 1,
            HookError::Invalid { .. } | HookError::MissingVars { .. } => 2,
            HookError::Syntax { .. } => 4,
            HookError::VersionMismatch { .. } => 5,
            HookError::Downgrade { .. } => 6,
            HookError::NotRegular { .. } => 7,
            HookError::Locked { .. } => 8,
            HookError::UnknownAccount { .. } => 2,
        }
    }
}

/// Attach a path to an io::Error.
pub trait At<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| HookError::io(path, e))
    }
}
