//! `.env` files, line based and lossless: comments, blank lines, `export`,
//! single/double quotes (double quotes may span lines), inline comments.

use std::collections::HashMap;

use super::line::{self, Splice};
use super::{Doc, Edit, KeyPath, Known, ParseFail, SyntaxErr};

pub struct EnvDoc {
    lines: Vec<String>,
    /// Key → (first line, end line exclusive, value). A later duplicate wins, as in sh.
    entries: Vec<(String, usize, usize, String)>,
    index: HashMap<String, usize>,
}

fn is_comment(b: &str) -> bool {
    b.starts_with('#')
}

fn err(line: usize, col: usize, msg: &str) -> ParseFail {
    ParseFail::Syntax(SyntaxErr {
        line: line + 1,
        col,
        msg: msg.into(),
    })
}

impl Doc for EnvDoc {
    fn parse(text: &str) -> Result<Self, ParseFail> {
        let lines = line::split(text);
        let mut entries = Vec::new();
        let mut index = HashMap::new();
        let mut i = 0;
        while i < lines.len() {
            let b = line::body(&lines[i]);
            let t = b.trim_start();
            if t.is_empty() || is_comment(t) {
                i += 1;
                continue;
            }
            let lead = b.len() - t.len();
            let t2 = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
            let off = b.len() - t2.len();
            let name_len = t2
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
                .unwrap_or(t2.len());
            if name_len == 0 {
                return Err(err(i, lead + 1, "expected NAME=value"));
            }
            let name = &t2[..name_len];
            let rest = t2[name_len..].trim_start();
            let Some(val) = rest.strip_prefix('=') else {
                return Err(err(
                    i,
                    off + name_len + 1,
                    "expected `=` after the variable name",
                ));
            };
            let val = val.trim_start();
            let start = i;
            let value = if let Some(q) = val.strip_prefix('"') {
                // Double quotes may run over several lines; `\"` does not close.
                let mut acc = String::new();
                let mut cur = q.to_string();
                loop {
                    if let Some(end) = close(&cur, '"') {
                        acc.push_str(&cur[..end]);
                        break;
                    }
                    acc.push_str(&cur);
                    acc.push('\n');
                    i += 1;
                    if i >= lines.len() {
                        return Err(err(start, off + name_len + 2, "unclosed double quote"));
                    }
                    cur = line::body(&lines[i]).to_string();
                }
                acc
            } else if let Some(q) = val.strip_prefix('\'') {
                match q.find('\'') {
                    Some(end) => q[..end].to_string(),
                    None => return Err(err(i, off + name_len + 2, "unclosed single quote")),
                }
            } else {
                let v = match line::comment_at(val, &['#']) {
                    Some(c) => &val[..c],
                    None => val,
                };
                v.trim_end().to_string()
            };
            index.insert(name.to_string(), entries.len());
            entries.push((name.to_string(), start, i + 1, value));
            i += 1;
        }
        Ok(EnvDoc {
            lines,
            entries,
            index,
        })
    }

    fn leaves(&self) -> Vec<(KeyPath, String)> {
        let mut out: Vec<(KeyPath, String)> = Vec::new();
        for (n, e) in self.entries.iter().enumerate() {
            if self.index.get(&e.0) == Some(&n) {
                out.push((vec![e.0.clone()], e.3.clone()));
            }
        }
        out
    }

    fn raw(&self, key: &[String]) -> Option<String> {
        let e = self.entry(key)?;
        Some(line::plain(&self.lines[e.1..e.2]))
    }

    fn comment(&self, key: &[String]) -> Vec<String> {
        let Some(e) = self.entry(key) else {
            return Vec::new();
        };
        line::comment_above(&self.lines, e.1, is_comment)
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self, known: &Known) -> Vec<KeyPath> {
        let eol = line::eol(&self.lines);
        let mut sp = Vec::new();
        let mut unplaced = Vec::new();
        let mut used: Vec<usize> = Vec::new();
        for e in edits {
            match e {
                Edit::Take(k) | Edit::Move(_, k) => {
                    let from = match e {
                        Edit::Move(f, _) => f,
                        _ => k,
                    };
                    match self.take(k, from, ours, known, &mut used) {
                        Some(s) => sp.push(s),
                        None => unplaced.push(k.clone()),
                    }
                }
                Edit::Remove(k) => sp.extend(self.remove(k)),
                Edit::List(..) => {} // flat formats have no lists of tables
                Edit::Comment(k, c) => sp.extend(self.recomment(k, c)),
            }
        }
        line::apply(&mut self.lines, sp, eol);
        unplaced
    }

    fn render(&self) -> String {
        self.lines.concat()
    }

    fn key_path(key: &str) -> KeyPath {
        vec![key.into()]
    }
}

impl EnvDoc {
    /// The entry of a one-part key: (name, first line, end, value).
    fn entry(&self, k: &[String]) -> Option<&(String, usize, usize, String)> {
        k.first()
            .and_then(|k| self.index.get(k))
            .map(|&n| &self.entries[n])
    }

    /// The admin's line(s) for `k` (taken from `from` in ours): in place of
    /// the new default's, else where upstream has it commented out, else at
    /// the end; `None` when ours has no such key.
    fn take(
        &self,
        k: &[String],
        from: &[String],
        ours: &Self,
        known: &Known,
        used: &mut Vec<usize>,
    ) -> Option<Splice> {
        let (name, s, t, _) = ours.entry(from)?;
        let (s, t) = (*s, *t);
        let mut with = ours.lines[s..t].to_vec();
        if let Some(p) = with[0].find(name.as_str()).filter(|_| *name != k[0]) {
            with[0].replace_range(p..p + name.len(), &k[0]);
        }
        if let Some((_, a, b, _)) = self.entry(k) {
            return Some(Splice {
                at: *a,
                end: *b,
                with,
            });
        }
        // A key only the admin has comes with the admin's comment
        // lines (upstream's documentation is not the admin's), in
        // the place of upstream's commented-out `#KEY=` if there is one.
        let cs = line::comment_start(&ours.lines, s, is_comment);
        let mut block: Vec<String> = ours.lines[cs..s]
            .iter()
            .filter(|l| !known.contains(line::body(l).trim()))
            .cloned()
            .collect();
        block.extend(with);
        let end = self.entries.last().map(|e| e.2).unwrap_or(self.lines.len());
        let (at, to) = match self.commented(&k[0]).filter(|n| line::first_use(used, *n)) {
            Some(n) => (n, n + 1),
            None => (end, end),
        };
        Some(Splice {
            at,
            end: to,
            with: block,
        })
    }

    /// Drop the key with its comment block.
    fn remove(&self, k: &[String]) -> Option<Splice> {
        let (_, a, b, _) = self.entry(k)?;
        Some(Splice {
            at: line::comment_start(&self.lines, *a, is_comment),
            end: *b,
            with: vec![],
        })
    }

    /// Replace the comment block directly above the key.
    fn recomment(&self, k: &[String], c: &[String]) -> Option<Splice> {
        let (_, a, _, _) = self.entry(k)?;
        Some(Splice {
            at: line::comment_start(&self.lines, *a, is_comment),
            end: *a,
            with: c.to_vec(),
        })
    }

    /// A commented-out `#KEY=value` line: where the admin's enabled KEY goes.
    fn commented(&self, key: &str) -> Option<usize> {
        self.lines.iter().position(|l| {
            let t = line::body(l).trim_start();
            let Some(c) = t.strip_prefix('#') else {
                return false;
            };
            let c = c.trim_start_matches(['#', ' ']);
            let c = c.strip_prefix("export ").unwrap_or(c);
            c.strip_prefix(key).is_some_and(|r| r.starts_with('='))
        })
    }
}

/// Index of the closing quote, skipping backslash escapes.
fn close(s: &str, q: char) -> Option<usize> {
    let mut esc = false;
    for (i, c) in s.char_indices() {
        if esc {
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}
