//! One error type for the library; the binaries add context with anyhow.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest problem with a source location: `file:line:col: key: message`.
    #[error("{}:{line}:{col}: {key}: {msg}", file.display())]
    Manifest {
        file: PathBuf,
        line: usize,
        col: usize,
        key: String,
        msg: String,
    },
    /// An input or output file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A value the plan allows but a format cannot express.
    #[error("{format}: {key}: {msg}")]
    Format {
        format: &'static str,
        key: String,
        msg: String,
    },
    /// A package file that `inspect` could not read.
    #[error("{}: {msg}", path.display())]
    Package { path: PathBuf, msg: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn format(format: &'static str, key: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Format {
            format,
            key: key.into(),
            msg: msg.into(),
        }
    }

    pub fn package(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Package {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// Exit code documented in the README: 2 for bad input, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Manifest { .. } | Error::Format { .. } => 2,
            Error::Io { .. } | Error::Package { .. } => 1,
        }
    }
}

/// Attach a path to an io::Error.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

/// An error and its causes for the user, each cause once: packwright's
/// errors already end with the cause they carry (`path: cause`), which
/// anyhow's `{:#}` would print again.
pub fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.ends_with(&c) {
            msg = format!("{msg}: {c}");
        }
    }
    msg
}
