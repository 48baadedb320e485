//! YAML, lossless for block-style configs.
//!
//! yaml-edit 0.3 was tried first and dropped: it parsed `a: 1\n  b: 2`
//! without an error (so it cannot guard against rewriting a broken file) and
//! its `set` kept the old trailing comment while dropping the user's. So the
//! file is validated and its values read by a strict parser (yaml-rust2, with
//! line and column on errors), and edited here as whole lines: a key's span is
//! its line plus everything indented deeper (or a `- ` list at the same
//! indent). The scan must agree with the strict parse key for key; a layout it
//! does not follow (several documents, flow-style root, complex keys) is
//! "unsupported" and the file is merged line by line instead.

use std::collections::HashSet;

use yaml_rust2::Yaml;

use super::line::{self, Splice};
use super::{Doc, Edit, KeyPath, Known, ParseFail};

mod list;
mod load;
mod scan;
use scan::{
    at_the_opening, inline_value, is_comment, is_content, scan, split_key, unsupported, Entry,
    Index,
};

pub struct YamlDoc {
    lines: Vec<String>,
    entries: Vec<Entry>,
    index: Index,
    /// Each leaf's entry and comparable value.
    leaves: Vec<(usize, String)>,
    step: usize,
}

fn key_str(k: &Yaml) -> String {
    match k {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "~".into(),
        other => canon(other),
    }
}

fn canon(v: &Yaml) -> String {
    match v {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        Yaml::Array(a) => format!("[{}]", a.iter().map(quoted).collect::<Vec<_>>().join(", ")),
        Yaml::Hash(h) => format!(
            "{{{}}}",
            h.iter()
                .map(|(k, v)| format!("{}: {}", key_str(k), quoted(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Yaml::Alias(n) => format!("*{n}"),
        Yaml::BadValue => "?".into(),
    }
}

fn quoted(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => format!("{s:?}"),
        other => canon(other),
    }
}

/// Leaves from the strict parse, descending only where the scan saw a block
/// mapping; every key must be one the scan found (`index`), else the scan
/// does not follow this layout.
fn tree_leaves(
    h: &yaml_rust2::yaml::Hash,
    (index, entries): (&Index, &[Entry]),
    path: &mut KeyPath,
    seen: &mut usize,
    out: &mut Vec<(usize, String)>,
) -> Result<(), ParseFail> {
    let disagree = || unsupported("the line scan does not match the parsed keys");
    for (k, v) in h {
        path.push(key_str(k));
        *seen += 1;
        let n = index.get(entries, path).ok_or_else(disagree)?;
        if entries[n].child.is_some() {
            let Yaml::Hash(sub) = v else {
                return Err(unsupported(format!(
                    "{}: scan and parser disagree",
                    path.join(".")
                )));
            };
            tree_leaves(sub, (index, entries), path, seen, out)?;
        } else {
            out.push((n, canon(v)));
        }
        path.pop();
    }
    Ok(())
}

fn yaml_key(k: &str) -> String {
    let plain = !k.is_empty()
        && !k.contains(": ")
        && !k.contains(" #")
        && !k.starts_with(|c: char| "-[]{}?#&*!|>%@`'\" ".contains(c))
        && !k.ends_with([' ', ':']);
    if plain {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// A key (with its comment and any missing parent sections) to add.
struct Ins {
    at: usize,
    /// The key (or first missing section) a commented-out line may name.
    name: String,
    missing: KeyPath,
    ci: usize,
    anc: KeyPath,
    body: Vec<String>,
}

/// Where the admin's lines for a key go.
enum Taken {
    /// Over the new default's lines for the key.
    Replace(Splice),
    /// A key the new default lacks: placed with the others by `place`.
    Insert(Ins),
}

/// Give a key line (indentation `ind`, no line ending) the key `name`.
fn rekey(l: &mut String, ind: usize, name: &str) {
    if let Some((old, rest)) = l.get(ind..).and_then(split_key) {
        if old != name {
            *l = format!("{}{}:{rest}", " ".repeat(ind), yaml_key(name));
        }
    }
}

impl YamlDoc {
    fn get(&self, k: &[String]) -> Option<&Entry> {
        self.index.get(&self.entries, k).map(|n| &self.entries[n])
    }

    /// The end of the top-level mapping (past its last key's lines) and its
    /// indentation.
    fn root(&self) -> (usize, usize) {
        let end = self.entries.iter().map(|e| e.end).max();
        let indent = self.entries.first().map(|e| e.indent).unwrap_or(0);
        (end.unwrap_or(self.lines.len()), indent)
    }

    /// The admin's lines for `k` (from `from` in ours, renamed to `k`);
    /// `None` when ours lacks it or a value of the new default is in the way.
    fn take(
        &self,
        k: &[String],
        from: &[String],
        ours: &Self,
        known: &Known,
        root: (usize, usize),
    ) -> Option<Taken> {
        let name = &k[k.len() - 1];
        let src = ours.get(from)?;
        let src_lines = &ours.lines[src.line..src.end];
        if let Some(dst) = self.get(k) {
            let delta = dst.indent as isize - src.indent as isize;
            let mut with = line::reindent(src_lines, delta);
            rekey(&mut with[0], dst.indent, name);
            return Some(Taken::Replace(Splice {
                at: dst.line,
                end: dst.end,
                with,
            }));
        }
        let (d, at, ci) = self.insert_point(k, root)?;
        let missing = k[d..k.len() - 1].to_vec();
        let ki = ci + self.step * missing.len();
        // A key only the admin has comes with the admin's comment
        // lines (upstream's documentation is not the admin's).
        let cs = line::comment_start(&ours.lines, src.line, is_comment);
        let mut block: Vec<String> = ours.lines[cs..src.line]
            .iter()
            .filter(|l| !known.contains(line::body(l).trim()))
            .cloned()
            .collect();
        let head = block.len();
        block.extend_from_slice(src_lines);
        let mut body = line::reindent(&block, ki as isize - src.indent as isize);
        rekey(&mut body[head], ki, name);
        Some(Taken::Insert(Ins {
            at,
            name: missing.first().unwrap_or(name).clone(),
            missing,
            ci,
            anc: k[..d].to_vec(),
            body,
        }))
    }

    /// For a key the new default lacks: how many of its sections it has
    /// (`d`), the line to add at (after the deepest one's lines) and the
    /// indentation there; `None` when that ancestor holds a value.
    fn insert_point(&self, k: &[String], root: (usize, usize)) -> Option<(usize, usize, usize)> {
        let mut d = k.len() - 1;
        while d > 0 && self.get(&k[..d]).is_none() {
            d -= 1;
        }
        if d == 0 {
            let (root_end, root_indent) = root;
            return Some((0, self.past_comments(root_end, root_indent), root_indent));
        }
        let a = self.get(&k[..d]).expect("found above");
        let end = self.past_comments(a.end, a.indent);
        match (a.child, a.empty) {
            (Some(c), _) => Some((d, end, c)),
            (None, true) => Some((d, end, a.indent + self.step)),
            (None, false) => None,
        }
    }

    /// Write the added keys: where the new default has the key commented
    /// out (`# name: value`) under the same parent, in that line's place,
    /// else at the end of the parent. Deeper parents first at one point, so
    /// a key for the last mapping stays inside it; the keys of a new
    /// section go together with its header written once.
    fn place(&self, mut inserts: Vec<Ins>, sp: &mut Vec<Splice>) {
        inserts.sort_by(|a, b| {
            let key = |i: &Ins| (i.at, std::cmp::Reverse(i.anc.len()), i.missing.clone());
            key(a).cmp(&key(b))
        });
        let mut made: HashSet<KeyPath> = HashSet::new();
        let mut used: Vec<usize> = Vec::new();
        for ins in inserts {
            let (at, end) = match self.commented(&ins.anc, ins.ci, &ins.name) {
                Some((n, e)) if line::first_use(&mut used, n) => (n, e),
                Some((_, e)) => (e, e),
                None => (ins.at, ins.at),
            };
            let mut with = Vec::new();
            let mut p = ins.anc;
            for (j, seg) in ins.missing.iter().enumerate() {
                p.push(seg.clone());
                if made.insert(p.clone()) {
                    let pad = " ".repeat(ins.ci + self.step * j);
                    with.push(format!("{pad}{}:", yaml_key(seg)));
                }
            }
            with.extend(ins.body);
            sp.push(Splice { at, end, with });
        }
    }

    /// After the comment lines indented deeper than `ind` that follow `at`
    /// (commented-out children belong to the mapping above them).
    fn past_comments(&self, at: usize, ind: usize) -> usize {
        let mut end = at;
        for (j, l) in self.lines.iter().enumerate().skip(at) {
            let b = line::body(l);
            if is_comment(b.trim_start()) && line::indent(b) > ind {
                end = j + 1;
            } else if !b.trim().is_empty() {
                break;
            }
        }
        end
    }

    /// A commented-out `# name: value` line at indent `ci` under `anc` (the
    /// root when empty): its index and the end of the commented block.
    fn commented(&self, anc: &[String], ci: usize, name: &str) -> Option<(usize, usize)> {
        let n_lines = self.lines.len();
        let (from, to) = match self.get(anc).filter(|_| !anc.is_empty()) {
            Some(a) => {
                let outside = |n: &usize| {
                    let b = line::body(&self.lines[*n]);
                    is_content(b) && line::indent(b) <= a.indent
                };
                (
                    a.line + 1,
                    (a.end..n_lines).find(outside).unwrap_or(n_lines),
                )
            }
            None => (0, n_lines),
        };
        let uncomment = |n: usize| {
            let b = line::body(&self.lines[n]);
            (line::indent(b) == ci)
                .then(|| b[ci..].strip_prefix('#'))
                .flatten()
        };
        let lead = |t: &str| t.len() - t.trim_start().len();
        for n in from..to {
            let Some(t) = uncomment(n) else { continue };
            let Some((key, rest)) = split_key(t.trim_start()) else {
                continue;
            };
            let inside = |e: &Entry| e.indent >= ci && e.line < n && n < e.end;
            if key != name || self.entries.iter().any(inside) {
                continue;
            }
            // A commented section takes its commented children along.
            let mut end = n + 1;
            while inline_value(rest).is_empty()
                && end < to
                && uncomment(end).is_some_and(|u| !u.trim().is_empty() && lead(u) > lead(t))
            {
                end += 1;
            }
            return Some((n, end));
        }
        None
    }
}

impl Doc for YamlDoc {
    fn parse(text: &str) -> Result<Self, ParseFail> {
        // Depth and alias expansion checked on each event, before it is built.
        let docs = load::load(text).map_err(|e| at_the_opening(text, e))?;
        if docs.len() > 1 {
            return Err(unsupported("several YAML documents"));
        }
        let lines = line::split(text);
        let entries = scan(&lines)?;
        let index = Index::new(&entries)
            .map_err(|n| unsupported(format!("duplicate key {}", entries[n].path.join("."))))?;
        let mut leaves = Vec::new();
        let mut seen = 0;
        match docs.first() {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(h)) => {
                let scanned = (&index, entries.as_slice());
                tree_leaves(h, scanned, &mut Vec::new(), &mut seen, &mut leaves)?
            }
            Some(_) => return Err(unsupported("the top level is not a mapping")),
        }
        if seen != entries.len() {
            return Err(unsupported("the line scan does not match the parsed keys"));
        }
        let step = entries
            .iter()
            .filter_map(|e| e.child.map(|c| c - e.indent))
            .min()
            .unwrap_or(2);
        Ok(YamlDoc {
            lines,
            entries,
            index,
            leaves,
            step,
        })
    }

    fn leaves(&self) -> Vec<(KeyPath, String)> {
        let leaf = |(n, v): &(usize, String)| (self.entries[*n].path.clone(), v.clone());
        self.leaves.iter().map(leaf).collect()
    }

    fn check_depth(&self) -> Result<(), String> {
        // A key is one block mapping deeper than its parent, and the event
        // pass already refused nesting past MAX_DEPTH.
        Ok(())
    }

    fn raw(&self, k: &[String]) -> Option<String> {
        self.get(k).map(|e| line::plain(&self.lines[e.line..e.end]))
    }

    fn comment(&self, k: &[String]) -> Vec<String> {
        let Some(e) = self.get(k) else {
            return Vec::new();
        };
        line::comment_above(&self.lines, e.line, is_comment)
    }

    fn entries(&self, k: &[String], id: &str) -> Option<Vec<(String, String)>> {
        self.list_entries(k, id)
    }

    fn documented(&self, k: &[String]) -> bool {
        self.get(k)
            .is_some_and(|e| e.empty && self.past_comments(e.end, e.indent) > e.end)
    }

    fn sections(&self) -> Vec<KeyPath> {
        let maps = self.entries.iter().filter(|e| e.child.is_some());
        maps.map(|e| e.path.clone()).collect()
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self, known: &Known) -> Vec<KeyPath> {
        let eol = line::eol(&self.lines);
        let mut sp = Vec::new();
        let mut unplaced = Vec::new();
        let mut inserts: Vec<Ins> = Vec::new();
        let root = self.root();
        for e in edits {
            match e {
                Edit::Take(k) | Edit::Move(_, k) => {
                    let from = match e {
                        Edit::Move(f, _) => f,
                        _ => k,
                    };
                    match self.take(k, from, ours, known, root) {
                        Some(Taken::Replace(s)) => sp.push(s),
                        Some(Taken::Insert(i)) => inserts.push(i),
                        None => unplaced.push(k.clone()),
                    }
                }
                Edit::Remove(k) => {
                    if let Some(dst) = self.get(k) {
                        let s = line::comment_start(&self.lines, dst.line, is_comment);
                        sp.push(Splice {
                            at: s,
                            end: dst.end,
                            with: vec![],
                        });
                    }
                }
                Edit::List(k, picks) => match self.list_lines(k, ours, picks) {
                    Some((at, end, with)) => sp.push(Splice { at, end, with }),
                    None => unplaced.push(k.clone()),
                },
                Edit::Comment(k, c) => {
                    if let Some(dst) = self.get(k) {
                        let s = line::comment_start(&self.lines, dst.line, is_comment);
                        let pad = " ".repeat(dst.indent);
                        let with = c.iter().map(|l| format!("{pad}{l}")).collect();
                        sp.push(Splice {
                            at: s,
                            end: dst.line,
                            with,
                        });
                    }
                }
            }
        }
        self.place(inserts, &mut sp);
        line::apply(&mut self.lines, sp, eol);
        unplaced
    }

    fn render(&self) -> String {
        self.lines.concat()
    }
}
