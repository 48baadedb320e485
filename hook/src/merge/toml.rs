//! TOML through toml_edit: the new default's document is edited in place, so
//! its comments, order and formatting stay; values copied from the live file
//! bring their own inline comment. Inline tables and arrays of tables are values.

use toml_edit::{DocumentMut, Item, Key, Table, Value};

use super::{Doc, Edit, KeyPath, Known, ParseFail, SyntaxErr};

mod list;

pub struct TomlDoc {
    doc: DocumentMut,
    /// toml_edit writes `\n`; a CRLF file is given CRLF back.
    crlf: bool,
}

fn canon_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.value().clone(),
        Value::Integer(i) => i.value().to_string(),
        Value::Float(f) => f.value().to_string(),
        Value::Boolean(b) => b.value().to_string(),
        Value::Datetime(d) => d.value().to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(quoted).collect::<Vec<_>>().join(", ")),
        Value::InlineTable(t) => format!(
            "{{{}}}",
            t.iter()
                .map(|(k, v)| format!("{k} = {}", quoted(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.value()),
        other => canon_value(other),
    }
}

fn canon_item(i: &Item) -> String {
    match i {
        Item::Value(v) => canon_value(v),
        Item::Table(t) => format!(
            "{{{}}}",
            t.iter()
                .map(|(k, v)| format!("{k} = {}", canon_item(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Item::ArrayOfTables(a) => format!(
            "[{}]",
            a.iter()
                .map(|t| canon_item(&Item::Table(t.clone())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Item::None => String::new(),
    }
}

fn walk(prefix: &mut KeyPath, t: &Table, out: &mut Vec<(KeyPath, String)>) {
    for (k, item) in t.iter() {
        prefix.push(k.to_string());
        match item {
            Item::Table(sub) => walk(prefix, sub, out),
            other => out.push((prefix.clone(), canon_item(other))),
        }
        prefix.pop();
    }
}

fn table<'a>(t: &'a Table, path: &[String]) -> Option<&'a Table> {
    path.iter().try_fold(t, |t, s| t.get(s)?.as_table())
}

fn table_mut<'a>(t: &'a mut Table, path: &[String]) -> Option<&'a mut Table> {
    path.iter().try_fold(t, |t, s| t.get_mut(s)?.as_table_mut())
}

/// The table that should hold `k`, creating implicit parent tables; `None`
/// when a value is in the way.
fn parent_or_create<'a>(t: &'a mut Table, k: &[String]) -> Option<&'a mut Table> {
    let mut cur = t;
    for s in &k[..k.len() - 1] {
        let next = cur.entry(s).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        cur = next.as_table_mut()?;
    }
    Some(cur)
}

fn is_comment(l: &str) -> bool {
    l.trim_start().starts_with('#')
}

/// Every table written with a `[header]`, with its document position.
fn headers(t: &Table, path: &mut KeyPath, out: &mut Vec<(isize, KeyPath)>) {
    for (k, item) in t.iter() {
        if let Item::Table(sub) = item {
            path.push(k.to_string());
            if !sub.is_implicit() && !sub.is_dotted() {
                out.push((sub.position().unwrap_or(isize::MAX), path.clone()));
            }
            headers(sub, path, out);
            path.pop();
        }
    }
}

/// A decor prefix split after its last blank line: (layout above, the
/// comment block directly above the key, with the key's indentation).
fn split_prefix(p: &str) -> (&str, &str) {
    let mut cut = 0;
    let mut at = 0;
    for l in p.split_inclusive('\n') {
        at += l.len();
        if l.ends_with('\n') && l.trim().is_empty() {
            cut = at;
        }
    }
    p.split_at(cut)
}

/// The prefix without the comment lines base has (upstream's
/// documentation): one blank line if it started with one, then the admin's own.
fn admin_only(prefix: &str, known: &Known) -> String {
    let blank = prefix
        .split_inclusive('\n')
        .next()
        .is_some_and(|l| l.ends_with('\n') && l.trim().is_empty());
    let own = prefix
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && is_comment(l) && !known.contains(l.trim()));
    let indent = prefix.rsplit('\n').next().unwrap_or("");
    format!(
        "{}{}{indent}",
        if blank { "\n" } else { "" },
        own.collect::<String>()
    )
}

impl TomlDoc {
    fn key(&self, k: &[String]) -> Option<Key> {
        let (last, parent) = k.split_last()?;
        table(self.doc.as_table(), parent)?.key(last).cloned()
    }

    fn item(&self, k: &[String]) -> Option<&Item> {
        let (last, parent) = k.split_last()?;
        table(self.doc.as_table(), parent)?.get(last)
    }

    /// The decor prefix of a key's line or of a table's `[header]`.
    fn prefix(&self, k: &[String]) -> Option<&str> {
        let (last, parent) = k.split_last()?;
        let t = table(self.doc.as_table(), parent)?;
        let decor = match t.get(last)? {
            Item::Table(sub) if !sub.is_dotted() => sub.decor(),
            _ => t.key(last)?.leaf_decor(),
        };
        decor.prefix()?.as_str()
    }

    fn set_prefix(&mut self, k: &[String], new: String) {
        let Some((last, parent)) = k.split_last() else {
            return;
        };
        let Some(t) = table_mut(self.doc.as_table_mut(), parent) else {
            return;
        };
        match t.get_mut(last) {
            Some(Item::Table(sub)) if !sub.is_dotted() => sub.decor_mut().set_prefix(new),
            Some(_) => {
                if let Some(mut key) = t.key_mut(last) {
                    key.leaf_decor_mut().set_prefix(new);
                }
            }
            None => {}
        }
    }

    /// Drop a key with its comment block; blank lines and comments above
    /// that block are the new default's layout and go to what follows.
    fn remove(&mut self, k: &[String]) {
        let Some((last, parent)) = k.split_last() else {
            return;
        };
        let head = split_prefix(self.prefix(k).unwrap_or("")).0.to_string();
        let Some(t) = table_mut(self.doc.as_table_mut(), parent) else {
            return;
        };
        let names: Vec<String> = t.iter().map(|(n, _)| n.to_string()).collect();
        if t.remove(last).is_none() || head.is_empty() {
            return;
        }
        let at = names.iter().position(|n| n == last).unwrap_or(0);
        // The next value line of the same table, else the next `[header]`, else the end.
        let next = names[at + 1..].iter().find_map(|n| match t.get(n)? {
            Item::Value(_) => Some(vec![n.clone()]),
            Item::Table(d) if d.is_dotted() => d.get_values().first().map(|(ks, _)| {
                std::iter::once(n.clone())
                    .chain(ks.iter().map(|x| x.get().to_string()))
                    .collect()
            }),
            _ => None,
        });
        if let Some(rel) = next {
            let path: KeyPath = parent.iter().cloned().chain(rel).collect();
            let old = self.prefix(&path).unwrap_or("").to_string();
            self.set_prefix(&path, format!("{head}{old}"));
            return;
        }
        let here = table(self.doc.as_table(), parent)
            .and_then(Table::position)
            .unwrap_or(-1);
        let mut all = Vec::new();
        headers(self.doc.as_table(), &mut Vec::new(), &mut all);
        match all.into_iter().filter(|(p, _)| *p > here).min() {
            Some((_, path)) => {
                let old = self.prefix(&path).unwrap_or("").to_string();
                self.set_prefix(&path, format!("{head}{old}"));
            }
            None => {
                let old = self.doc.trailing().as_str().unwrap_or("").to_string();
                self.doc.set_trailing(format!("{head}{old}"));
            }
        }
    }

    /// Set `k` to `item` (the admin's value at `from`); false when a value is in the way.
    fn take(
        &mut self,
        k: &[String],
        from: &[String],
        item: Item,
        ours: &Self,
        known: &Known,
    ) -> bool {
        if matches!(
            (self.item(k), &item),
            (Some(Item::ArrayOfTables(_)), Item::ArrayOfTables(_))
        ) {
            // A whole list: its last entry's trailing comments come along.
            let n = ours.list_len(from);
            let tail = ours.list_tail(from, n.saturating_sub(1));
            self.set_list_tail(k, tail);
        }
        let (last, parent) = k.split_last().expect("a key has a name");
        let spot = match self.item(k) {
            None => self.commented(k),
            Some(_) => None,
        };
        let holder = spot
            .as_ref()
            .map(|s| self.decor_text(&s.holder))
            .unwrap_or_default();
        let Some(t) = parent_or_create(self.doc.as_table_mut(), k) else {
            return false;
        };
        if let Some(slot) = t.get_mut(last) {
            // Keep the new default's key (and its comment), take the user's value.
            *slot = item;
            return true;
        }
        // A key only the admin has comes with the admin's comment lines, not
        // upstream's documentation.
        let mut key = match ours.key(from) {
            Some(key) if from == k => key,
            _ => Key::new(last.as_str()),
        };
        let mine = admin_only(ours.prefix(from).unwrap_or(""), known);
        let Some(spot) = spot else {
            key.leaf_decor_mut().set_prefix(mine);
            t.insert_formatted(&key, item);
            return true;
        };
        // Upstream has it commented out (`# key = value`): the admin's line
        // takes that line's place, under upstream's documentation for it.
        let (above, below) = (&holder[..spot.line.start], &holder[spot.line.end..]);
        let own = split_prefix(&mine).1.trim_end_matches([' ', '\t']);
        key.leaf_decor_mut().set_prefix(format!("{above}{own}"));
        let names: Vec<String> = t.iter().map(|(n, _)| n.to_string()).collect();
        let at = match &spot.holder {
            Some(p) if p.len() > parent.len() && p.starts_with(parent) && spot.inside => {
                names.iter().position(|n| *n == p[parent.len()])
            }
            _ => None,
        }
        .unwrap_or(names.len());
        let tail: Vec<(Key, Item)> = names[at..]
            .iter()
            .filter_map(|n| t.remove_entry(n))
            .collect();
        t.insert_formatted(&key, item);
        for (k2, i2) in tail {
            t.insert_formatted(&k2, i2);
        }
        match &spot.holder {
            Some(p) => self.set_prefix(p, below.to_string()),
            None => self.doc.set_trailing(below),
        }
        true
    }

    fn decor_text(&self, holder: &Option<KeyPath>) -> String {
        match holder {
            Some(p) => self.prefix(p).unwrap_or(""),
            None => self.doc.trailing().as_str().unwrap_or(""),
        }
        .to_string()
    }

    /// Where the new default has `k` commented out (`# a.b = 1`) in the
    /// body of the table that would hold it.
    fn commented(&self, k: &[String]) -> Option<Spot> {
        let root = self.doc.as_table();
        let (last, parent) = k.split_last()?;
        let h = (0..k.len())
            .rev()
            .find(|&j| table(root, &k[..j]).is_some_and(|t| j == 0 || !t.is_dotted()))?;
        let rel = k[h..].join(".");
        let find = |prefix: &str| {
            let mut at = 0;
            for l in prefix.split_inclusive('\n') {
                let c = l
                    .trim_start()
                    .strip_prefix('#')
                    .map(|c| c.trim_start_matches(['#', ' ']));
                let r = c.and_then(|c| c.strip_prefix(rel.as_str()));
                if r.is_some_and(|r| r.trim_start().starts_with('=')) {
                    return Some(at..at + l.len());
                }
                at += l.len();
            }
            None
        };
        let body = table(root, &k[..h])?;
        for (keys, _) in body.get_values() {
            let mut path = k[..h].to_vec();
            path.extend(keys.iter().map(|x| x.get().to_string()));
            let inside = path.len() > parent.len() && path.starts_with(parent);
            if let Some(line) = find(self.prefix(&path).unwrap_or("")).filter(|_| inside) {
                return Some(Spot {
                    holder: Some(path),
                    line,
                    inside: true,
                });
            }
        }
        // After the table's last key: in the next `[header]`'s comment or at the end.
        if parent != &k[..h] || table(root, parent)?.contains_key(last) {
            return None;
        }
        let here = body.position().unwrap_or(-1);
        let mut all = Vec::new();
        headers(root, &mut Vec::new(), &mut all);
        let holder = all
            .into_iter()
            .filter(|(p, _)| *p > here)
            .min()
            .map(|(_, p)| p);
        let line = find(&self.decor_text(&holder))?;
        Some(Spot {
            holder,
            line,
            inside: false,
        })
    }
}

/// A commented-out line naming a key: whose decor holds it (a key, a
/// `[header]`, or `None` for the end of the file) and where in it.
struct Spot {
    holder: Option<KeyPath>,
    line: std::ops::Range<usize>,
    /// The holder is a key of the same table body (the new key goes before it).
    inside: bool,
}

impl Doc for TomlDoc {
    fn parse(text: &str) -> Result<Self, ParseFail> {
        super::limit::brackets(text, true)?;
        let doc = text.parse::<DocumentMut>().map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            ParseFail::Syntax(SyntaxErr {
                line,
                col,
                msg: e.message().trim().to_string(),
            })
        })?;
        Ok(TomlDoc {
            doc,
            crlf: text.contains("\r\n"),
        })
    }

    fn leaves(&self) -> Vec<(KeyPath, String)> {
        let mut out = Vec::new();
        walk(&mut Vec::new(), self.doc.as_table(), &mut out);
        out
    }

    fn check_depth(&self) -> Result<(), String> {
        // The keys only, without writing every value out as `leaves` does.
        fn deepest(t: &Table, path: &mut KeyPath) -> Option<KeyPath> {
            for (k, item) in t.iter() {
                path.push(k.to_string());
                let deep = match item {
                    Item::Table(sub) => deepest(sub, path),
                    _ => (path.len() > super::limit::MAX_DEPTH).then(|| path.clone()),
                };
                path.pop();
                if deep.is_some() {
                    return deep;
                }
            }
            None
        }
        match deepest(self.doc.as_table(), &mut Vec::new()) {
            Some(k) => super::limit::key_depth(&[(k, String::new())]),
            None => Ok(()),
        }
    }

    fn raw(&self, k: &[String]) -> Option<String> {
        // The value with its decor: `"x"  # note` differs from `"x"`.
        self.item(k).map(|i| i.to_string().trim().to_string())
    }

    fn comment(&self, k: &[String]) -> Vec<String> {
        let (_, block) = split_prefix(self.prefix(k).unwrap_or(""));
        block
            .lines()
            .filter(|l| is_comment(l))
            .map(|l| l.trim().to_string())
            .collect()
    }

    fn entries(&self, k: &[String], id: &str) -> Option<Vec<(String, String)>> {
        let Some(Item::ArrayOfTables(a)) = self.item(k) else {
            return None;
        };
        a.iter()
            .map(|t| match t.get(id)? {
                Item::Value(v @ (Value::String(_) | Value::Integer(_) | Value::Boolean(_))) => {
                    Some((canon_value(v), canon_item(&Item::Table(t.clone()))))
                }
                _ => None,
            })
            .collect()
    }

    fn sections(&self) -> Vec<KeyPath> {
        let mut out = Vec::new();
        headers(self.doc.as_table(), &mut Vec::new(), &mut out);
        out.into_iter().map(|(_, p)| p).collect()
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self, known: &Known) -> Vec<KeyPath> {
        let mut unplaced = Vec::new();
        for e in edits {
            match e {
                Edit::Take(k) | Edit::Move(_, k) => {
                    let from = match e {
                        Edit::Move(f, _) => f,
                        _ => k,
                    };
                    let placed = ours
                        .item(from)
                        .cloned()
                        .is_some_and(|item| self.take(k, from, item, ours, known));
                    if !placed {
                        unplaced.push(k.clone());
                    }
                }
                Edit::Remove(k) => self.remove(k),
                Edit::List(k, picks) => {
                    if !self.set_list(k, ours, picks) {
                        unplaced.push(k.clone());
                    }
                }
                Edit::Comment(k, lines) => {
                    let Some(old) = self.prefix(k).map(str::to_string) else {
                        continue;
                    };
                    // Only the block directly above: blank lines and comments
                    // further up are the new default's layout.
                    let (head, block) = split_prefix(&old);
                    let indent = block.rsplit('\n').next().unwrap_or("");
                    let mut new = head.to_string();
                    for l in lines {
                        new.push_str(&format!("{indent}{l}\n"));
                    }
                    new.push_str(indent);
                    self.set_prefix(k, new);
                }
            }
        }
        unplaced
    }

    fn render(&self) -> String {
        let s = self.doc.to_string();
        if self.crlf {
            s.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            s
        }
    }
}
