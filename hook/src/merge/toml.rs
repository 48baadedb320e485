//! TOML through toml_edit: the new default's document is edited in place, so
//! its comments, order and formatting stay; values copied from the live file
//! bring their own inline comment. Inline tables and arrays of tables are values.

use toml_edit::{DocumentMut, Item, Table, Value};

use super::{Doc, Edit, KeyPath, ParseFail, SyntaxErr};

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

impl TomlDoc {
    fn key(&self, k: &[String]) -> Option<toml_edit::Key> {
        let (last, parent) = k.split_last()?;
        table(self.doc.as_table(), parent)?.key(last).cloned()
    }

    fn item(&self, k: &[String]) -> Option<&Item> {
        let (last, parent) = k.split_last()?;
        table(self.doc.as_table(), parent)?.get(last)
    }
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

    fn raw(&self, k: &[String]) -> Option<String> {
        // The value with its decor: `"x"  # note` differs from `"x"`.
        self.item(k).map(|i| i.to_string().trim().to_string())
    }

    fn comment(&self, k: &[String]) -> Vec<String> {
        let Some((last, parent)) = k.split_last() else {
            return Vec::new();
        };
        let prefix = table(self.doc.as_table(), parent)
            .and_then(|t| t.key(last))
            .and_then(|key| key.leaf_decor().prefix())
            .and_then(|p| p.as_str())
            .unwrap_or("");
        prefix
            .lines()
            .filter(|l| is_comment(l))
            .map(|l| l.trim().to_string())
            .collect()
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self) -> Vec<KeyPath> {
        let mut unplaced = Vec::new();
        for e in edits {
            match e {
                Edit::Take(k) => {
                    let Some(item) = ours.item(k).cloned() else {
                        unplaced.push(k.clone());
                        continue;
                    };
                    let last = &k[k.len() - 1];
                    match parent_or_create(self.doc.as_table_mut(), k) {
                        Some(t) => match t.get_mut(last) {
                            // Keep the new default's key (and its comment), take the user's value.
                            Some(slot) => *slot = item,
                            // A key only the admin has comes with the admin's comment lines.
                            None => match ours.key(k) {
                                Some(key) => {
                                    t.insert_formatted(&key, item);
                                }
                                None => {
                                    t.insert(last, item);
                                }
                            },
                        },
                        None => unplaced.push(k.clone()),
                    }
                }
                Edit::Remove(k) => {
                    if let Some((last, parent)) = k.split_last() {
                        if let Some(t) = table_mut(self.doc.as_table_mut(), parent) {
                            t.remove(last);
                        }
                    }
                }
                Edit::Comment(k, lines) => {
                    let Some((last, parent)) = k.split_last() else {
                        continue;
                    };
                    let Some(mut key) =
                        table_mut(self.doc.as_table_mut(), parent).and_then(|t| t.key_mut(last))
                    else {
                        continue;
                    };
                    let old = key
                        .leaf_decor()
                        .prefix()
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .to_string();
                    let head = old.rfind('\n').map(|i| &old[..=i]).unwrap_or("");
                    let blank = head.lines().take_while(|l| l.trim().is_empty()).count();
                    let indent = old.rsplit('\n').next().unwrap_or("").to_string();
                    let mut new = "\n".repeat(blank);
                    for l in lines {
                        new.push_str(&format!("{indent}{l}\n"));
                    }
                    new.push_str(&indent);
                    key.leaf_decor_mut().set_prefix(new);
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
