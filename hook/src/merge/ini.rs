//! INI files, line based and lossless: `[section]`, `key = value` or
//! `key: value`, `;`/`#` comments, indented continuation lines, bare keys.
//! Keys before the first section belong to the section named "".

use std::collections::HashMap;

use super::line::{self, Splice};
use super::{Doc, Edit, KeyPath, Known, ParseFail, SyntaxErr};

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
    /// Each `[section]` header line, in file order.
    headers: Vec<(String, usize)>,
    /// Section → index of its first header in `headers`.
    header_at: HashMap<String, usize>,
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
            headers: Vec::new(),
            header_at: HashMap::new(),
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
                let n = d.headers.len();
                d.header_at.entry(section.clone()).or_insert(n);
                d.headers.push((section.clone(), i));
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
        match self.line_of(key) {
            Some(at) => line::comment_above(&self.lines, at, is_comment),
            None => Vec::new(),
        }
    }

    fn sections(&self) -> Vec<KeyPath> {
        self.headers.iter().map(|(s, _)| vec![s.clone()]).collect()
    }

    fn apply(&mut self, edits: &[Edit], ours: &Self, known: &Known) -> Vec<KeyPath> {
        let eol = line::eol(&self.lines);
        let mut out = Pending::default();
        for e in edits {
            match e {
                Edit::Take(k) | Edit::Move(_, k) => {
                    let from = match e {
                        Edit::Move(f, _) => f,
                        _ => k,
                    };
                    if !self.take(k, from, ours, known, &mut out) {
                        out.unplaced.push(k.clone());
                    }
                }
                Edit::Remove(k) => {
                    if let Some(dst) = self.get(k) {
                        let s = line::comment_start(&self.lines, dst.start, is_comment);
                        out.sp.push(Splice {
                            at: s,
                            end: dst.end,
                            with: vec![],
                        });
                    }
                }
                Edit::List(..) => {} // flat formats have no lists of tables
                Edit::Comment(k, c) => {
                    if let Some(at) = self.line_of(k) {
                        let s = line::comment_start(&self.lines, at, is_comment);
                        out.sp.push(Splice {
                            at: s,
                            end: at,
                            with: c.clone(),
                        });
                    }
                }
            }
        }
        self.append_sections(&mut out.sp, out.new_sections);
        line::apply(&mut self.lines, out.sp, eol);
        out.unplaced
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

/// What `apply` gathers before the one splicing pass.
#[derive(Default)]
struct Pending {
    sp: Vec<Splice>,
    unplaced: Vec<KeyPath>,
    /// Commented-out lines already given to a key.
    used: Vec<usize>,
    /// Keys for sections the new default lacks, appended once per section.
    new_sections: Vec<(String, Vec<String>)>,
    new_at: HashMap<String, usize>,
}

/// Give a key line the key `to` (a rename), keeping its layout.
fn rekey(l: &mut String, from: &str, to: &str) {
    if from != to {
        if let Some(p) = l.find(from) {
            l.replace_range(p..p + from.len(), to);
        }
    }
}

impl IniDoc {
    fn get(&self, key: &[String]) -> Option<&Entry> {
        let [s, k] = key else { return None };
        self.index
            .get(&(s.clone(), k.clone()))
            .map(|&n| &self.entries[n])
    }

    /// Set `k` to the admin's line(s) at `from`: in place of the new
    /// default's, else where upstream has it commented out, else at the end
    /// of its section (or of a section the new default lacks); false when
    /// ours has no such key.
    fn take(
        &self,
        k: &[String],
        from: &[String],
        ours: &Self,
        known: &Known,
        out: &mut Pending,
    ) -> bool {
        let Some(src) = ours.get(from) else {
            return false;
        };
        let mut with = ours.lines[src.start..src.end].to_vec();
        rekey(&mut with[0], &src.key, &k[1]);
        if let Some(dst) = self.get(k) {
            out.sp.push(Splice {
                at: dst.start,
                end: dst.end,
                with,
            });
            return true;
        }
        // A key only the admin has comes with the admin's comment
        // lines (upstream's documentation is not the admin's).
        let cs = line::comment_start(&ours.lines, src.start, is_comment);
        let mut block: Vec<String> = ours.lines[cs..src.start]
            .iter()
            .filter(|l| !known.contains(line::body(l).trim()))
            .cloned()
            .collect();
        block.extend(with);
        let with = block;
        if let Some(n) = self
            .commented(&k[0], &k[1])
            .filter(|n| line::first_use(&mut out.used, *n))
        {
            // Where the new default has it commented out: in that line's place.
            out.sp.push(Splice {
                at: n,
                end: n + 1,
                with,
            });
        } else if let Some(&at) = self.section_end.get(&k[0]) {
            out.sp.push(Splice { at, end: at, with });
        } else if let Some(&n) = out.new_at.get(&k[0]) {
            out.new_sections[n].1.extend(with);
        } else {
            out.new_at.insert(k[0].clone(), out.new_sections.len());
            out.new_sections.push((k[0].clone(), with));
        }
        true
    }

    /// The sections only the admin's keys need, at the end of the file.
    fn append_sections(&self, sp: &mut Vec<Splice>, new_sections: Vec<(String, Vec<String>)>) {
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
    }

    /// The key's first line, or a section's header line (`[section]` as a one-part path).
    fn line_of(&self, key: &[String]) -> Option<usize> {
        match key {
            [s] => self.header_at.get(s).map(|&n| self.headers[n].1),
            _ => self.get(key).map(|e| e.start),
        }
    }

    /// A commented-out `;key = value` line in the section: upstream's
    /// documented default of an option the admin enabled.
    fn commented(&self, section: &str, key: &str) -> Option<usize> {
        let at = self.header_at.get(section).copied();
        let from = match at {
            Some(n) => self.headers[n].1 + 1,
            None if section.is_empty() => 0,
            None => return None,
        };
        let next = at.map_or(0, |n| n + 1);
        let to = self.headers.get(next).map_or(self.lines.len(), |h| h.1);
        (from..to).find(|&n| {
            let t = line::body(&self.lines[n]).trim();
            let Some(c) = t.strip_prefix([';', '#']) else {
                return false;
            };
            let c = c.trim_start_matches([';', '#', ' ', '\t']);
            c.find(['=', ':']).is_some_and(|p| c[..p].trim() == key)
        })
    }

    /// Section names in file order ("" first, for keys before any header).
    pub fn sections(&self) -> &[String] {
        &self.sections
    }
}
