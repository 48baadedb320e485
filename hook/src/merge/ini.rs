//! INI files, line based and lossless: `[section]`, `key = value` or
//! `key: value`, `;`/`#` comments, indented continuation lines, bare keys.
//! Keys before the first section belong to the section named "".

use std::collections::HashMap;

use super::line::{self, Splice};
use super::{Doc, Edit, KeyPath, ParseFail, SyntaxErr};

#[derive(Clone)]
struct Entry {
    section: String,
    key: String,
    start: usize,
    end: usize,
    value: String,
}

pub struct IniDoc {
    lines: Vec<String>,
    entries: Vec<Entry>,
    index: HashMap<(String, String), usize>,
    /// Section → line after its last entry (or after its header).
    section_end: HashMap<String, usize>,
    sections: Vec<String>,
}

fn is_comment(b: &str) -> bool {
    b.starts_with('#') || b.starts_with(';')
}

impl Doc for IniDoc {
    fn parse(text: &str) -> Result<Self, ParseFail> {
        let lines = line::split(text);
        let mut d = IniDoc {
            lines: Vec::new(),
            entries: Vec::new(),
            index: HashMap::new(),
            section_end: HashMap::new(),
            sections: vec![String::new()],
        };
        d.section_end.insert(String::new(), 0);
        let mut section = String::new();
        let mut i = 0;
        while i < lines.len() {
            let b = line::body(&lines[i]);
            let t = b.trim();
            if t.is_empty() || is_comment(t) {
                i += 1;
                continue;
            }
            if let Some(h) = b.trim_start().strip_prefix('[') {
                let Some(close) = h.find(']') else {
                    return Err(ParseFail::Syntax(SyntaxErr {
                        line: i + 1,
                        col: b.len() + 1,
                        msg: "section header without `]`".into(),
                    }));
                };
                section = h[..close].trim().to_string();
                if !d.section_end.contains_key(&section) {
                    d.sections.push(section.clone());
                }
                d.section_end.insert(section.clone(), i + 1);
                i += 1;
                continue;
            }
            let (key, value) = match t.find(['=', ':']) {
                Some(p) => (t[..p].trim(), t[p + 1..].trim()),
                None => (t, ""),
            };
            let start = i;
            let mut value = value.to_string();
            // Indented lines after an entry continue its value.
            while i + 1 < lines.len() {
                let n = line::body(&lines[i + 1]);
                if n.starts_with([' ', '\t']) && !n.trim().is_empty() && !is_comment(n.trim()) {
                    value.push('\n');
                    value.push_str(n.trim());
                    i += 1;
                } else {
                    break;
                }
            }
            d.index
                .insert((section.clone(), key.to_string()), d.entries.len());
            d.entries.push(Entry {
                section: section.clone(),
                key: key.to_string(),
                start,
                end: i + 1,
                value,
            });
            d.section_end.insert(section.clone(), i + 1);
            i += 1;
        }
        d.lines = lines;
        Ok(d)
    }

    fn leaves(&self) -> Vec<(KeyPath, String)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(n, e)| self.index.get(&(e.section.clone(), e.key.clone())) == Some(n))
            .map(|(_, e)| (vec![e.section.clone(), e.key.clone()], e.value.clone()))
            .collect()
    }

    fn raw(&self, key: &[String]) -> Option<String> {
        self.get(key)
            .map(|e| line::plain(&self.lines[e.start..e.end]))
    }

    fn comment(&self, key: &[String]) -> Vec<String> {
        let Some(e) = self.get(key) else {
            return Vec::new();
        };
        line::comment_above(&self.lines, e.start, is_comment)
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self) -> Vec<KeyPath> {
        let eol = line::eol(&self.lines);
        let mut sp = Vec::new();
        let mut unplaced = Vec::new();
        // Keys for sections the new default lacks are gathered and appended once per section.
        let mut new_sections: Vec<(String, Vec<String>)> = Vec::new();
        for e in edits {
            match e {
                Edit::Take(k) => {
                    let Some(src) = ours.get(k) else {
                        unplaced.push(k.clone());
                        continue;
                    };
                    let with = ours.lines[src.start..src.end].to_vec();
                    if let Some(dst) = self.get(k) {
                        sp.push(Splice {
                            at: dst.start,
                            end: dst.end,
                            with,
                        });
                        continue;
                    }
                    // A key only the admin has comes with the admin's comment lines.
                    let cs = line::comment_start(&ours.lines, src.start, is_comment);
                    let with = ours.lines[cs..src.end].to_vec();
                    if let Some(&at) = self.section_end.get(&k[0]) {
                        sp.push(Splice { at, end: at, with });
                    } else if let Some(s) = new_sections.iter_mut().find(|s| s.0 == k[0]) {
                        s.1.extend(with);
                    } else {
                        new_sections.push((k[0].clone(), with));
                    }
                }
                Edit::Remove(k) => {
                    if let Some(dst) = self.get(k) {
                        let s = line::comment_start(&self.lines, dst.start, is_comment);
                        sp.push(Splice {
                            at: s,
                            end: dst.end,
                            with: vec![],
                        });
                    }
                }
                Edit::Comment(k, c) => {
                    if let Some(dst) = self.get(k) {
                        let s = line::comment_start(&self.lines, dst.start, is_comment);
                        sp.push(Splice {
                            at: s,
                            end: dst.start,
                            with: c.clone(),
                        });
                    }
                }
            }
        }
        let end = self.lines.len();
        for (name, body) in new_sections {
            let mut with = Vec::new();
            if end > 0 && !line::is_blank(&self.lines[end - 1]) {
                with.push(String::new());
            }
            with.push(format!("[{name}]"));
            with.extend(body);
            sp.push(Splice { at: end, end, with });
        }
        line::apply(&mut self.lines, sp, eol);
        unplaced
    }

    fn render(&self) -> String {
        self.lines.concat()
    }

    fn key_path(key: &str) -> KeyPath {
        match key.split_once('.') {
            Some((s, k)) => vec![s.into(), k.into()],
            None => vec![String::new(), key.into()],
        }
    }
}

impl IniDoc {
    fn get(&self, key: &[String]) -> Option<Entry> {
        let [s, k] = key else { return None };
        self.index
            .get(&(s.clone(), k.clone()))
            .map(|&n| self.entries[n].clone())
    }

    /// Section names in file order ("" first, for keys before any header).
    pub fn sections(&self) -> &[String] {
        &self.sections
    }
}
