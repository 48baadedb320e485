//! Reading `packwright.toml`: TOML syntax, `${VAR}` expansion, serde's schema,
//! and a `Locator` that turns a key path into `file:line:col` for every later
//! error (the plan reports through it too).

mod expand;
pub mod schema;

pub use expand::expand;
pub use schema::Manifest;

use crate::error::{Error, IoContext, Result};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml_edit::{Document, Item, Value};

/// Maps key paths such as `files[2].dst` to positions in the manifest.
pub struct Locator {
    file: PathBuf,
    text: String,
    doc: Option<Document<String>>,
}

/// Parse and expand the manifest at `path` with variables from `lookup`.
pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(Manifest, Locator)> {
    let text = std::fs::read_to_string(path).at(path)?;
    parse(path, &text, lookup)
}

pub fn parse(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Manifest, Locator)> {
    let raw = Locator {
        file: path.to_path_buf(),
        text: text.to_string(),
        doc: None,
    };
    let doc = Document::parse(text.to_string()).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        raw.error_at(span.start, "(syntax)", e.message().trim())
    })?;
    let mut edits = Vec::new();
    let mut failure = None;
    walk_strings(doc.as_item(), &mut String::new(), &mut |key, value| {
        let Some(s) = value.as_str() else { return };
        if !s.contains('$') || failure.is_some() {
            return;
        }
        let span = value.span().unwrap_or(0..0);
        match expand(s, lookup) {
            Ok(v) if v != s => edits.push((span, toml_edit::Value::from(v).to_string())),
            Ok(_) => {}
            Err(msg) => failure = Some(raw.error_at(span.start, key, &msg)),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let expanded = apply_edits(text, edits);
    let loc = Locator {
        file: path.to_path_buf(),
        doc: Document::parse(expanded.clone()).ok(),
        text: expanded,
    };
    let manifest: Manifest = toml::from_str(&loc.text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        loc.error_at(at, &loc.key_at(at), &describe(e.message()))
    })?;
    Ok((manifest, loc))
}

impl Locator {
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// An error located at the key path `key` (e.g. `files[2].dst`), or at
    /// the nearest enclosing key that exists.
    pub fn error(&self, key: &str, msg: impl Into<String>) -> Error {
        let at = self.span_of(key).map(|s| s.start).unwrap_or(0);
        self.error_at(at, key, &msg.into())
    }

    /// Whether `key` names something written in the manifest.
    pub fn has(&self, key: &str) -> bool {
        self.span_of(key).is_some()
    }

    fn error_at(&self, offset: usize, key: &str, msg: &str) -> Error {
        let (line, col) = line_col(&self.text, offset);
        Error::Manifest {
            file: self.file.clone(),
            line,
            col,
            key: key.to_string(),
            msg: msg.to_string(),
        }
    }

    fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut node = Node::Table(doc.as_table());
        let mut best = None;
        for part in key.split('.') {
            let (name, index) = match part.split_once('[') {
                Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            let (k, item) = match node {
                Node::Table(t) => t.get_key_value(name),
                Node::Inline(t) => t.get_key_value(name),
                Node::Leaf => None,
            }?;
            best = item.span().or(k.span()).or(best);
            node = match (item, index) {
                (Item::Table(t), None) => Node::Table(t),
                (Item::Value(Value::InlineTable(t)), None) => Node::Inline(t),
                (Item::ArrayOfTables(a), Some(i)) => Node::Table(a.get(i)?),
                (Item::Value(Value::Array(a)), Some(i)) => {
                    let v = a.get(i)?;
                    best = v.span().or(best);
                    match v {
                        Value::InlineTable(t) => Node::Inline(t),
                        _ => Node::Leaf,
                    }
                }
                (Item::Value(_), None) => Node::Leaf,
                _ => return best,
            };
            if let Node::Table(t) = node {
                best = t.span().or(best);
            }
        }
        best
    }

    /// The deepest key whose key or value span contains `offset`.
    fn key_at(&self, offset: usize) -> String {
        let Some(doc) = &self.doc else {
            return String::new();
        };
        let mut found = String::new();
        walk_all(doc.as_item(), &mut String::new(), &mut |path, k, item| {
            let hit = |s: Option<Range<usize>>| {
                s.is_some_and(|s| s.contains(&offset) || s.start == offset)
            };
            if hit(k) || hit(item.span()) {
                found = path.to_string();
            }
        });
        found
    }
}

enum Node<'a> {
    Table(&'a toml_edit::Table),
    Inline(&'a toml_edit::InlineTable),
    Leaf,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// serde says "unknown field `nmae`, expected one of `name`, ..."; add a
/// suggestion of the nearest known key.
fn describe(msg: &str) -> String {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("missing field `") {
        return format!("missing required key `{}", rest);
    }
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some((bad, expected)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let nearest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(bad, k), *k))
        .min()
        .filter(|(d, _)| *d <= 3);
    match nearest {
        Some((_, k)) => format!("unknown key `{bad}`; did you mean `{k}`?"),
        None => format!("unknown key `{bad}`; known keys: {}", known.join(", ")),
    }
}

fn apply_edits(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (r, lit) in edits {
        out.push_str(&text[pos..r.start]);
        // Keep every line where it was so later line numbers stay right.
        out.push_str(lit.trim());
        out.push_str(&"\n".repeat(text[r.clone()].matches('\n').count()));
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn walk_strings(item: &Item, path: &mut String, f: &mut dyn FnMut(&str, &Value)) {
    walk_all(item, path, &mut |p, _, it| {
        if let Item::Value(v) = it {
            if v.is_str() {
                f(p, v)
            }
        }
    });
}

/// Called with (key path, key span, item) for every key and array element.
type Visit<'a> = dyn FnMut(&str, Option<Range<usize>>, &Item) + 'a;

fn walk_all(item: &Item, path: &mut String, f: &mut Visit) {
    match item {
        Item::Table(t) => {
            for (k, v) in t.iter() {
                let key = t.key(k).and_then(|k| k.span());
                let mut p = join(path, k);
                f(&p, key, v);
                walk_all(v, &mut p, f);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                let mut p = format!("{path}[{i}]");
                for (k, v) in t.iter() {
                    let key = t.key(k).and_then(|k| k.span());
                    let mut q = join(&p, k);
                    f(&q, key, v);
                    walk_all(v, &mut q, f);
                }
                p.clear();
            }
        }
        Item::Value(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let it = Item::Value(v.clone());
                f(&p, None, &it);
                walk_all(&it, &mut p.clone(), f);
            }
        }
        Item::Value(Value::InlineTable(t)) => {
            for (k, v) in t.iter() {
                let key = t.key(k).and_then(|k| k.span());
                let p = join(path, k);
                let it = Item::Value(v.clone());
                f(&p, key, &it);
                walk_all(&it, &mut p.clone(), f);
            }
        }
        _ => {}
    }
}
