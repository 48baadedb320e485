//! JSON, lossless: the text is read twice, by serde_json (validation and
//! values, key order kept) and by a small scanner that records where each
//! member's key and value are. Edits splice the admin's value text into the
//! new default's text, so its blank lines, indentation and inline arrays
//! stay; only new members are written by the hook, in the file's style.

use serde_json::{Map, Value};

use super::{Doc, Edit, KeyPath, Known, ParseFail, SyntaxErr};

struct Member {
    key: String,
    start: usize,
    vstart: usize,
    vend: usize,
}

struct Object {
    open: usize,
    close: usize,
    members: Vec<Member>,
}

pub struct JsonDoc {
    value: Value,
    text: String,
    /// Every object by path (linear: a config has few).
    objects: Vec<(KeyPath, Object)>,
    /// One level of indentation (the first indented line's), else two spaces.
    unit: String,
    eol: &'static str,
}

fn canon(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn walk(prefix: &mut KeyPath, v: &Value, out: &mut Vec<(KeyPath, String)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                prefix.push(k.clone());
                walk(prefix, v, out);
                prefix.pop();
            }
        }
        Value::Object(_) if !prefix.is_empty() => {} // an empty section is layout, not a value
        other => out.push((prefix.clone(), canon(other))),
    }
}

/// Records object and member spans of text serde_json has accepted.
struct Scan<'a> {
    b: &'a [u8],
    text: &'a str,
    objects: Vec<(KeyPath, Object)>,
}

impl Scan<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// `i` at an opening quote: the index after the closing one.
    fn string(&self, mut i: usize) -> usize {
        i += 1;
        while i < self.b.len() && self.b[i] != b'"' {
            i += if self.b[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    }

    fn value(&mut self, i: usize, path: &mut KeyPath) -> usize {
        match self.at(i) {
            b'{' => self.object(i, path),
            b'[' => {
                let mut i = self.ws(i + 1);
                path.push("[]".into()); // entries are not addressed
                while i < self.b.len() && self.at(i) != b']' {
                    let end = self.value(i, path);
                    i = self.ws(end);
                    if self.at(i) == b',' {
                        i = self.ws(i + 1);
                    }
                }
                path.pop();
                i + 1
            }
            b'"' => self.string(i),
            _ => {
                let mut i = i;
                while i < self.b.len() && !b",]} \t\r\n".contains(&self.b[i]) {
                    i += 1;
                }
                i
            }
        }
    }

    fn object(&mut self, open: usize, path: &mut KeyPath) -> usize {
        let mut i = self.ws(open + 1);
        let mut members = Vec::new();
        while i < self.b.len() && self.at(i) == b'"' {
            let end = self.string(i);
            let key = serde_json::from_str::<Value>(self.text.get(i..end).unwrap_or(""));
            let key = key.ok().and_then(|v| v.as_str().map(str::to_string));
            let key = key.unwrap_or_default();
            let colon = self.ws(end);
            let vstart = self.ws(colon + 1);
            path.push(key.clone());
            let vend = self.value(vstart, path);
            path.pop();
            members.push(Member {
                key,
                start: i,
                vstart,
                vend,
            });
            i = self.ws(vend);
            if self.at(i) == b',' {
                i = self.ws(i + 1);
            }
        }
        self.objects.push((
            path.clone(),
            Object {
                open,
                close: i,
                members,
            },
        ));
        i + 1
    }
}

/// Whitespace before byte `at` on its line.
fn indent_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// A value's text moved from indentation `from` to `to` (first line as is).
fn reindent(v: &str, from: &str, to: &str, eol: &str) -> String {
    let v = v.replace("\r\n", "\n");
    let mut out = String::new();
    for (n, l) in v.split('\n').enumerate() {
        if n > 0 {
            out.push_str(eol);
            out.push_str(to);
            out.push_str(l.strip_prefix(from).unwrap_or(l));
        } else {
            out.push_str(l);
        }
    }
    out
}

/// New members for one object: a value's text, or a new section.
enum Node {
    Leaf(String),
    Obj(Vec<(String, Node)>),
}

fn add(nodes: &mut Vec<(String, Node)>, path: &[String], leaf: String) {
    let (first, rest) = path.split_first().expect("a member has a name");
    if rest.is_empty() {
        nodes.push((first.clone(), Node::Leaf(leaf)));
        return;
    }
    if !nodes
        .iter()
        .any(|(k, n)| k == first && matches!(n, Node::Obj(_)))
    {
        nodes.push((first.clone(), Node::Obj(Vec::new())));
    }
    if let Some((_, Node::Obj(sub))) = nodes
        .iter_mut()
        .find(|(k, n)| k == first && matches!(n, Node::Obj(_)))
    {
        add(sub, rest, leaf);
    }
}

impl JsonDoc {
    fn object(&self, k: &[String]) -> Option<&Object> {
        self.objects.iter().find(|(p, _)| p == k).map(|(_, o)| o)
    }

    fn member(&self, k: &[String]) -> Option<&Member> {
        let (last, parent) = k.split_last()?;
        self.object(parent)?.members.iter().find(|m| m.key == *last)
    }

    /// Members written at indentation `ind`, each preceded by `sep`.
    fn members(&self, nodes: &[(String, Node)], ind: &str, sep: &str) -> String {
        let mut out = String::new();
        for (k, n) in nodes {
            out.push_str(sep);
            out.push_str(&format!("{ind}{}: ", Value::String(k.clone())));
            match n {
                Node::Leaf(v) => out.push_str(v),
                Node::Obj(sub) => {
                    let inner = format!("{ind}{}", self.unit);
                    let sep = format!(",{}", self.eol);
                    let body = self.members(sub, &inner, &sep);
                    out.push_str(&format!(
                        "{{{}{}{}{ind}}}",
                        self.eol,
                        &body[sep.len()..],
                        self.eol
                    ));
                }
            }
        }
        out
    }
}

/// What `apply` gathers before splicing: value replacements (byte span and
/// text), members to drop (parent, key) and to add (per object).
#[derive(Default)]
struct Pending<'e> {
    unplaced: Vec<KeyPath>,
    sp: Vec<(usize, usize, String)>,
    removed: Vec<(&'e [String], &'e str)>,
    added: Vec<(KeyPath, Vec<(String, Node)>)>,
}

/// Replace the spans (given against `text`, not overlapping) in one pass.
fn splice(text: &str, mut sp: Vec<(usize, usize, String)>) -> String {
    sp.sort_by_key(|s| (s.0, s.1 > s.0));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (at, end, with) in sp {
        let at = at.clamp(pos, text.len());
        out.push_str(&text[pos..at]);
        out.push_str(&with);
        pos = end.clamp(at, text.len());
    }
    out.push_str(&text[pos..]);
    out
}

impl JsonDoc {
    /// The admin's value at `from` for `k`: spliced over the new default's
    /// value, else added as a member (with any missing objects) of the
    /// deepest object the new default has.
    fn take(&self, k: &[String], from: &[String], ours: &Self, p: &mut Pending) {
        let Some(src) = ours.member(from) else {
            p.unplaced.push(k.to_vec());
            return;
        };
        let src_ind = indent_at(&ours.text, src.start);
        let v = &ours.text[src.vstart..src.vend];
        if let Some(dst) = self.member(k) {
            let to = indent_at(&self.text, dst.start);
            p.sp.push((dst.vstart, dst.vend, reindent(v, src_ind, to, self.eol)));
            return;
        }
        let d = (0..k.len())
            .rev()
            .find(|&d| self.object(&k[..d]).is_some())
            .unwrap_or(0);
        if self.member(&k[..d + 1]).is_some() || self.object(&k[..d]).is_none() {
            p.unplaced.push(k.to_vec()); // a value is in the way
            return;
        }
        let obj = self.object(&k[..d]).expect("found above");
        let ind = match obj.members.first() {
            Some(m) => indent_at(&self.text, m.start).to_string(),
            None => format!("{}{}", indent_at(&self.text, obj.open), self.unit),
        };
        let depth = k.len() - 1 - d;
        let to = format!("{ind}{}", self.unit.repeat(depth));
        let leaf = reindent(v, src_ind, &to, self.eol);
        match p.added.iter_mut().find(|(a, _)| a[..] == k[..d]) {
            Some((_, nodes)) => add(nodes, &k[d..], leaf),
            None => {
                let mut nodes = Vec::new();
                add(&mut nodes, &k[d..], leaf);
                p.added.push((k[..d].to_vec(), nodes));
            }
        }
    }

    /// The splices of one object that loses members or gains `new` ones,
    /// written in its style (one member a line, or all on one line).
    fn rewrite_object(
        &self,
        path: &KeyPath,
        obj: &Object,
        removed: &[(&[String], &str)],
        new: Option<&Vec<(String, Node)>>,
        sp: &mut Vec<(usize, usize, String)>,
    ) {
        let is_gone = |m: &Member| removed.iter().any(|(p, k)| p == path && *k == m.key);
        if new.is_none() && !obj.members.iter().any(is_gone) {
            return;
        }
        let kept: Vec<usize> = (0..obj.members.len())
            .filter(|&i| !is_gone(&obj.members[i]))
            .collect();
        let multiline = self.text[obj.open..obj.close].contains('\n');
        let ind = match obj.members.first() {
            Some(m) if multiline => indent_at(&self.text, m.start).to_string(),
            Some(_) => String::new(),
            None => format!("{}{}", indent_at(&self.text, obj.open), self.unit),
        };
        let (sep, first_sep) = if multiline || obj.members.is_empty() {
            (format!(",{}", self.eol), self.eol.to_string())
        } else {
            (", ".to_string(), String::new())
        };
        let Some(&last_kept) = kept.last() else {
            // Every member goes: the object keeps only the new ones.
            let body = new.map(|n| self.members(n, &ind, &sep)).unwrap_or_default();
            let text = match body.strip_prefix(sep.as_str()) {
                Some(b) => format!(
                    "{first_sep}{b}{first_sep}{}",
                    indent_at(&self.text, obj.open)
                ),
                None => String::new(),
            };
            sp.push((obj.open + 1, obj.close, text));
            return;
        };
        for i in 0..last_kept {
            if is_gone(&obj.members[i]) {
                sp.push((
                    obj.members[i].start,
                    obj.members[i + 1].start,
                    String::new(),
                ));
            }
        }
        let last = obj.members.len() - 1;
        let end = obj.members[last].vend;
        if last_kept < last {
            sp.push((obj.members[last_kept].vend, end, String::new()));
        }
        if let Some(n) = new {
            let ind = if multiline { ind } else { String::new() };
            sp.push((end, end, self.members(n, &ind, &sep)));
        }
    }
}

impl Doc for JsonDoc {
    fn parse(text: &str) -> Result<Self, ParseFail> {
        let value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            super::limit::brackets(text, false)?;
            serde_json::from_str(text).map_err(|e| {
                ParseFail::Syntax(SyntaxErr {
                    line: e.line(),
                    col: e.column(),
                    msg: e
                        .to_string()
                        .split(" at line")
                        .next()
                        .unwrap_or("")
                        .to_string(),
                })
            })?
        };
        let mut scan = Scan {
            b: text.as_bytes(),
            text,
            objects: Vec::new(),
        };
        let start = scan.ws(0);
        if scan.at(start) == b'{' {
            scan.object(start, &mut Vec::new());
        }
        let unit = text
            .lines()
            .find(|l| l.starts_with([' ', '\t']))
            .map(|l| l[..l.len() - l.trim_start().len()].to_string())
            .unwrap_or_else(|| "  ".into());
        Ok(JsonDoc {
            value,
            objects: scan.objects,
            text: text.to_string(),
            unit,
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
        })
    }

    fn leaves(&self) -> Vec<(KeyPath, String)> {
        let mut out = Vec::new();
        walk(&mut Vec::new(), &self.value, &mut out);
        out
    }

    fn comment(&self, _key: &[String]) -> Vec<String> {
        Vec::new()
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self, _known: &Known) -> Vec<KeyPath> {
        let mut p = Pending::default();
        for e in edits {
            let (from, k) = match e {
                Edit::Take(k) => (k, k),
                Edit::Move(f, k) => (f, k),
                Edit::Remove(k) => {
                    if let Some((last, parent)) = k.split_last() {
                        p.removed.push((parent, last));
                    }
                    continue;
                }
                Edit::Comment(..) | Edit::List(..) => continue,
            };
            if k.is_empty() || from.is_empty() {
                self.text = ours.text.clone(); // the whole file is one value
                return p.unplaced;
            }
            self.take(k, from, ours, &mut p);
        }
        for (path, obj) in &self.objects {
            let new = p.added.iter().find(|(a, _)| a == path).map(|(_, n)| n);
            self.rewrite_object(path, obj, &p.removed, new, &mut p.sp);
        }
        for (path, _) in &p.added {
            if self.object(path).is_none() {
                p.unplaced.push(path.clone());
            }
        }
        self.text = splice(&self.text, p.sp);
        p.unplaced
    }

    fn render(&self) -> String {
        self.text.clone()
    }
}
