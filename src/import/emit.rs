//! Building the manifest with toml_edit, so every mapping can carry the
//! comment that explains it. Tables come out in the order they are made.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

pub(crate) struct Doc {
    doc: DocumentMut,
    pos: isize,
}

/// `# line` for every line of `text`.
pub(crate) fn comment(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

impl Doc {
    pub fn new() -> Doc {
        Doc {
            doc: DocumentMut::new(),
            pos: 0,
        }
    }

    fn next(&mut self) -> isize {
        self.pos += 1;
        self.pos
    }

    /// The table at the dotted `path` (`package`, `format.deb`), made on
    /// first use; parents without keys of their own stay implicit.
    pub fn table(&mut self, path: &str) -> &mut Table {
        let mut positions = Vec::new();
        for _ in path.split('.') {
            positions.push(self.next());
        }
        let mut t = self.doc.as_table_mut();
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let item = t.entry(part).or_insert_with(|| {
                let mut n = Table::new();
                n.set_implicit(!last);
                n.set_position(Some(positions[i]));
                Item::Table(n)
            });
            t = item.as_table_mut().expect("manifest tables are tables");
            if last {
                t.set_implicit(false);
            }
        }
        t
    }

    /// Whether a table or array exists at the top level.
    pub fn has(&self, name: &str) -> bool {
        self.doc.get(name).is_some()
    }

    /// A comment above a table's header.
    pub fn note_table(&mut self, path: &str, text: &str) {
        let t = self.table(path);
        let old = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        t.decor_mut()
            .set_prefix(format!("\n{old}{}", comment(text)));
    }

    /// A new `[[name]]` entry, with an optional comment above it.
    pub fn push(&mut self, name: &str, note: Option<&str>) -> &mut Table {
        let pos = self.next();
        let item = self
            .doc
            .as_table_mut()
            .entry(name)
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        let aot = item.as_array_of_tables_mut().expect("an array of tables");
        let mut t = Table::new();
        t.set_position(Some(pos));
        if let Some(n) = note {
            t.decor_mut().set_prefix(format!("\n{}", comment(n)));
        }
        aot.push(t);
        aot.iter_mut().last().expect("just pushed")
    }

    /// The manifest text, `header` (already commented) first.
    pub fn finish(self, header: &str) -> String {
        let body = self.doc.to_string();
        format!("{header}{}", body.trim_start_matches('\n'))
    }
}

/// A string value; several lines become a `"""` string people can edit.
pub(crate) fn text(s: &str) -> Value {
    let plain = !s.contains("\"\"\"")
        && !s.contains('\\')
        && !s.ends_with('"')
        && !s.chars().any(|c| c.is_control() && c != '\n');
    if s.contains('\n') && plain {
        if let Ok(v) = format!("\"\"\"\n{s}\"\"\"").parse::<Value>() {
            return v;
        }
    }
    Value::from(s)
}

pub(crate) fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    let mut a = toml_edit::Array::new();
    for i in items {
        a.push(i.as_ref());
    }
    Value::Array(a)
}

/// `t[key] = v`, with `note` as a comment line above it.
pub(crate) fn set(t: &mut Table, key: &str, v: impl Into<Value>, note: Option<&str>) {
    t.insert(key, Item::Value(v.into()));
    if let Some(n) = note {
        if let Some(mut k) = t.key_mut(key) {
            k.leaf_decor_mut().set_prefix(comment(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_in_order_with_comments() {
        let mut d = Doc::new();
        set(d.table("package"), "name", "x", None);
        set(
            d.table("format.deb"),
            "section",
            "net",
            Some("from nfpm's section"),
        );
        let f = d.push("files", Some("a file"));
        set(f, "src", "a", None);
        set(d.table("package"), "description", text("one\ntwo"), None);
        let out = d.finish("# header\n");
        assert!(
            out.starts_with("# header\n[package]\nname = \"x\"\n"),
            "{out}"
        );
        assert!(
            out.contains("description = \"\"\"\none\ntwo\"\"\""),
            "{out}"
        );
        assert!(
            out.contains("[format.deb]\n# from nfpm's section\nsection = \"net\""),
            "{out}"
        );
        assert!(out.contains("\n# a file\n[[files]]\nsrc = \"a\""), "{out}");
        let back: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(back["package"]["description"].as_str(), Some("one\ntwo"));
    }
}
