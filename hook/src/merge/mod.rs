//! Merge engines behind one trait, chosen by `format` or file extension.
//!
//! Structural engines (YAML, TOML, JSON, `.env`, INI) implement [`Doc`]; the
//! three-way rules live once in [`three`]. Plain text uses a line diff3.

pub mod env;
pub mod ini;
pub mod json;
pub mod limit;
pub mod line;
pub mod text;
pub mod three;
pub mod toml;
pub mod yaml;

use serde::Serialize;
use std::path::Path;

use crate::error::{HookError, Result};

/// Comment lines of the base file, trimmed: upstream's, not the admin's.
pub type Known = std::collections::HashSet<String>;

/// A key inside a config: `["server", "address"]` is `server.address`.
pub type KeyPath = Vec<String>;

pub fn dotted(p: &[String]) -> String {
    match p.split_first() {
        // INI keys before any section live in the section named "".
        Some((first, rest)) if first.is_empty() && !rest.is_empty() => rest.join("."),
        _ => p.join("."),
    }
}

pub fn parse_key(s: &str) -> KeyPath {
    s.split('.').map(str::to_string).collect()
}

/// Where a file failed to parse (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxErr {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

#[derive(Debug)]
pub enum ParseFail {
    Syntax(SyntaxErr),
    /// Valid, but beyond what the structural engine edits losslessly
    /// (e.g. several YAML documents in one file): the text engine takes over.
    Unsupported(String),
}

impl From<SyntaxErr> for ParseFail {
    fn from(e: SyntaxErr) -> Self {
        ParseFail::Syntax(e)
    }
}

/// One change the three-way rules ask of the result document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set (or insert) the key with the value and inline comment it has in ours.
    Take(KeyPath),
    /// A declared rename: set (or insert) the second key with the value the
    /// first one has in ours.
    Move(KeyPath, KeyPath),
    /// Drop the key (and its comment block).
    Remove(KeyPath),
    /// Replace the comment lines directly above the key.
    Comment(KeyPath, Vec<String>),
    /// Rebuild a keyed list (entries matched by an identifying key) from
    /// these entries, in order.
    List(KeyPath, Vec<Pick>),
}

/// One entry of a merged keyed list: the n-th entry of the new default's
/// list, or of the live file's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Theirs(usize),
    Ours(usize),
}

/// A parsed config file that can be edited in place without losing layout.
pub trait Doc: Sized {
    fn parse(text: &str) -> std::result::Result<Self, ParseFail>;
    /// Every leaf (scalar, sequence, empty section) with a comparable value.
    /// Sequences are values: a changed list is one change.
    fn leaves(&self) -> Vec<(KeyPath, String)>;
    /// Comment lines directly above the key, trimmed ("# text").
    fn comment(&self, key: &[String]) -> Vec<String>;
    /// Sections (mappings, tables) whose header may carry a comment.
    fn sections(&self) -> Vec<KeyPath> {
        Vec::new()
    }
    /// The key's own text (value, quoting, inline comment) without
    /// indentation, to notice an edit that keeps the value (e.g. an inline
    /// comment added); `None` where the format keeps no such text.
    fn raw(&self, _key: &[String]) -> Option<String> {
        None
    }
    /// An empty key whose body is only commented-out lines (YAML `redis:`
    /// above `#   host: ...`): a section kept for its documentation, not a
    /// value the admin can delete (as an empty TOML or INI section is not).
    fn documented(&self, _key: &[String]) -> bool {
        false
    }
    /// A list of mappings at `key` (YAML sequence, TOML array of tables):
    /// each entry's `id` value and comparable text, in order; `None` when it
    /// is not such a list or an entry has no scalar `id`. Asked only of
    /// leaves whose comparable value is a list (`[...]`).
    fn entries(&self, _key: &[String], _id: &str) -> Option<Vec<(String, String)>> {
        None
    }
    /// Apply edits (all positions refer to the document as parsed), taking
    /// values from `ours`; returns the keys it could not place. Comment lines
    /// in `known` (base has them) are upstream's, never carried as the
    /// admin's. Afterwards only `render` is meaningful.
    fn apply(&mut self, edits: &[Edit], ours: &Self, known: &Known) -> Vec<KeyPath>;
    fn render(&self) -> String;
    /// Refuse keys nested deeper than [`limit::MAX_DEPTH`] (TOML's dotted
    /// keys are not bounded by bracket nesting).
    fn check_depth(&self) -> std::result::Result<(), String> {
        limit::key_depth(&self.leaves())
    }
    /// The path a dotted key names (INI puts keys before any section in "").
    fn key_path(key: &str) -> KeyPath {
        parse_key(key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigSyntax {
    Yaml,
    Toml,
    Json,
    Env,
    Ini,
    Text,
}

impl ConfigSyntax {
    pub fn parse(name: &str) -> Option<ConfigSyntax> {
        Some(match name.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => ConfigSyntax::Yaml,
            "toml" => ConfigSyntax::Toml,
            "json" => ConfigSyntax::Json,
            "env" | "dotenv" => ConfigSyntax::Env,
            "ini" | "cfg" | "conf" | "cnf" => ConfigSyntax::Ini,
            "text" | "txt" | "plain" => ConfigSyntax::Text,
            _ => return None,
        })
    }

    /// From the file name: `config.yaml`, `.env`, `app.env`, `my.cnf`; else text.
    pub fn from_path(path: &Path) -> ConfigSyntax {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == ".env" || name.starts_with(".env.") {
            return ConfigSyntax::Env;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        ConfigSyntax::parse(ext).unwrap_or(ConfigSyntax::Text)
    }

    pub fn engine(self) -> &'static dyn Engine {
        match self {
            ConfigSyntax::Yaml => &Structural::<yaml::YamlDoc>::NEW,
            ConfigSyntax::Toml => &Structural::<toml::TomlDoc>::NEW,
            ConfigSyntax::Json => &Structural::<json::JsonDoc>::NEW,
            ConfigSyntax::Env => &Structural::<env::EnvDoc>::NEW,
            ConfigSyntax::Ini => &Structural::<ini::IniDoc>::NEW,
            ConfigSyntax::Text => &text::TextEngine,
        }
    }
}

/// A file's text and the path to name in errors.
#[derive(Clone, Copy)]
pub struct Src<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Conflict {
    pub key: String,
    pub base: Option<String>,
    pub yours: Option<String>,
    pub new_default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub key: String,
    pub your_value: String,
}

/// A value carried from a key renamed upstream to its new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub your_value: String,
}

/// What the package declares about a config beyond its format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opts<'a> {
    pub version_key: Option<&'a str>,
    /// Keys renamed upstream, old → new (dotted; a section renames its keys).
    pub renames: &'a [(String, String)],
    /// List (dotted) → the key identifying its entries; a list not named
    /// here is merged entry by entry when every entry has a `name`, else an `id`.
    pub list_keys: &'a [(String, String)],
}

/// What a merge did, for the report and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Merged {
    pub text: String,
    /// Keys where your value was kept over a different new default.
    pub conflicts: Vec<Conflict>,
    /// Keys you had set that the new release no longer has.
    pub removed: Vec<Removed>,
    /// Your values carried to a key renamed upstream.
    pub moved: Vec<Moved>,
    /// Your changes carried into the new layout.
    pub kept: Vec<String>,
    /// Keys your edits could not be placed at (kept in the backup).
    pub unplaced: Vec<String>,
    /// Set when the structural engine handed the file to the line merge.
    pub note: Option<String>,
    /// The version key's value in the live file and in the new default.
    pub live_version: Option<String>,
    pub new_version: Option<String>,
}

/// The one trait all formats share.
pub trait Engine: Sync {
    /// Three-way merge: base = previous pristine default, ours = live, theirs = new default.
    fn merge(
        &self,
        base: Src,
        ours: Src,
        theirs: Src,
        version_key: Option<&str>,
    ) -> Result<Merged> {
        let opts = Opts {
            version_key,
            ..Opts::default()
        };
        self.merge_with(base, ours, theirs, &opts)
    }
    /// `merge` with the package's renames and list keys.
    fn merge_with(&self, base: Src, ours: Src, theirs: Src, opts: &Opts) -> Result<Merged>;
    /// Fails with file, line and column when the text does not parse.
    fn validate(&self, src: Src) -> Result<()>;
    /// The scalar at `key`, if the file has one.
    fn value(&self, src: Src, key: &str) -> Result<Option<String>>;
}

pub struct Structural<D>(std::marker::PhantomData<D>);

impl<D> Structural<D> {
    const NEW: Self = Structural(std::marker::PhantomData);
}

pub(crate) fn syntax(path: &Path, e: SyntaxErr) -> HookError {
    HookError::Syntax {
        path: path.to_path_buf(),
        line: e.line,
        col: e.col,
        msg: e.msg,
    }
}

fn key_pairs(pairs: &[(String, String)], path: fn(&str) -> KeyPath) -> Vec<(KeyPath, KeyPath)> {
    pairs.iter().map(|(a, b)| (path(a), path(b))).collect()
}

fn internal(ours: Src, theirs: Src, msg: String) -> HookError {
    HookError::Internal {
        path: ours.path.to_path_buf(),
        msg: format!(
            "merging the new default {} into it gave text that does not parse ({msg})",
            theirs.path.display()
        ),
    }
}

/// Parse, mapping "unsupported" to `None` so the caller can fall back. A
/// byte order mark is skipped (the merge puts the live file's back).
fn load<D: Doc>(src: Src) -> Result<Option<D>> {
    match D::parse(limit::strip_bom(src.text).0) {
        Ok(d) => {
            d.check_depth().map_err(|msg| {
                syntax(
                    src.path,
                    SyntaxErr {
                        line: 1,
                        col: 1,
                        msg,
                    },
                )
            })?;
            Ok(Some(d))
        }
        Err(ParseFail::Syntax(e)) => Err(syntax(src.path, e)),
        Err(ParseFail::Unsupported(_)) => Ok(None),
    }
}

impl<D: Doc + Sync + Send> Engine for Structural<D> {
    fn merge_with(&self, base: Src, ours: Src, theirs: Src, opts: &Opts) -> Result<Merged> {
        // The live file is checked first: it is the one the admin must fix.
        let o = load::<D>(ours)?;
        let t = load::<D>(theirs)?;
        let b = load::<D>(base)?;
        let (Some(b), Some(o), Some(t)) = (b, o, t) else {
            let mut m = text::TextEngine.merge(base, ours, theirs, None)?;
            m.note = Some("layout beyond the structural engine: merged line by line".into());
            return Ok(m);
        };
        let vk = opts.version_key.map(D::key_path);
        let renames = key_pairs(opts.renames, D::key_path);
        let lists: Vec<(KeyPath, String)> = opts
            .list_keys
            .iter()
            .map(|(l, id)| (D::key_path(l), id.clone()))
            .collect();
        let mut m = three::merge(&b, &o, t, vk.as_deref(), &renames, &lists)
            .map_err(|msg| internal(ours, theirs, msg))?;
        if limit::strip_bom(ours.text).1 {
            m.text.insert_str(0, limit::BOM);
        }
        Ok(m)
    }

    fn validate(&self, src: Src) -> Result<()> {
        load::<D>(src).map(|_| ())
    }

    fn value(&self, src: Src, key: &str) -> Result<Option<String>> {
        let Some(d) = load::<D>(src)? else {
            return Ok(None);
        };
        let k = D::key_path(key);
        Ok(d.leaves()
            .into_iter()
            .find(|(p, _)| *p == k)
            .map(|(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine whose output never reads back.
    struct Broken;

    impl Doc for Broken {
        fn parse(text: &str) -> std::result::Result<Self, ParseFail> {
            match text {
                "broken" => Err(ParseFail::Syntax(SyntaxErr {
                    line: 5,
                    col: 4,
                    msg: "mapping values are not allowed in this context".into(),
                })),
                _ => Ok(Broken),
            }
        }
        fn leaves(&self) -> Vec<(KeyPath, String)> {
            Vec::new()
        }
        fn comment(&self, _: &[String]) -> Vec<String> {
            Vec::new()
        }
        fn apply(&mut self, _: &[Edit], _: &Self, _: &Known) -> Vec<KeyPath> {
            Vec::new()
        }
        fn render(&self) -> String {
            "broken".into()
        }
    }

    #[test]
    fn an_unreadable_merge_is_an_internal_error_in_plain_words() {
        let src = |p, text| Src {
            path: Path::new(p),
            text,
        };
        let e = Structural::<Broken>::NEW
            .merge(
                src("/a/base", "a"),
                src("/etc/x.conf", "a"),
                src("/a/new", "a"),
                None,
            )
            .unwrap_err();
        assert_eq!(e.exit_code(), 12);
        assert_eq!(
            e.to_string(),
            "/etc/x.conf: internal error: merging the new default /a/new into it gave text \
             that does not parse (line 5, column 4: mapping values are not allowed in this \
             context); nothing written (the file is unchanged; please report this)"
        );
    }
}
