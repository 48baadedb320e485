//! JSON with key order kept (serde_json `preserve_order`). JSON has no
//! comments; the output uses the new default's indentation and line ending.

use serde_json::{Map, Value};

use super::{Doc, Edit, KeyPath, ParseFail, SyntaxErr};

pub struct JsonDoc {
    value: Value,
    indent: String,
    crlf: bool,
    final_newline: bool,
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

fn get<'a>(v: &'a Value, k: &[String]) -> Option<&'a Value> {
    k.iter().try_fold(v, |v, s| v.as_object()?.get(s))
}

/// The object that should hold `k`, creating missing sections; `None` when a
/// value (not an object) is in the way.
fn parent_mut<'a>(v: &'a mut Value, k: &[String]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    for s in &k[..k.len() - 1] {
        let m = cur.as_object_mut()?;
        cur = m
            .entry(s.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    cur.as_object_mut()
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
        // Indentation of the first indented line, else two spaces.
        let indent = text
            .lines()
            .find(|l| l.starts_with([' ', '\t']))
            .map(|l| l[..l.len() - l.trim_start().len()].to_string())
            .unwrap_or_else(|| "  ".into());
        Ok(JsonDoc {
            value,
            indent,
            crlf: text.contains("\r\n"),
            final_newline: text.ends_with('\n') || text.is_empty(),
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

    fn apply(&mut self, edits: &[Edit], ours: &Self) -> Vec<KeyPath> {
        let mut unplaced = Vec::new();
        for e in edits {
            match e {
                Edit::Take(k) if k.is_empty() => self.value = ours.value.clone(),
                Edit::Take(k) => {
                    let Some(v) = get(&ours.value, k) else {
                        unplaced.push(k.clone());
                        continue;
                    };
                    match parent_mut(&mut self.value, k) {
                        Some(m) => {
                            m.insert(k[k.len() - 1].clone(), v.clone());
                        }
                        None => unplaced.push(k.clone()),
                    }
                }
                Edit::Remove(k) if k.is_empty() => {}
                Edit::Remove(k) => {
                    let p = &k[..k.len() - 1];
                    let parent = p
                        .iter()
                        .try_fold(&mut self.value, |v, s| v.as_object_mut()?.get_mut(s));
                    if let Some(m) = parent.and_then(Value::as_object_mut) {
                        m.shift_remove(&k[k.len() - 1]);
                    }
                }
                Edit::Comment(..) => {}
            }
        }
        unplaced
    }

    fn render(&self) -> String {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&self.value, &mut ser).expect("a JSON value serializes");
        let mut s = String::from_utf8(buf).expect("serde_json writes UTF-8");
        if self.final_newline {
            s.push('\n');
        }
        if self.crlf {
            s = s.replace('\n', "\r\n");
        }
        s
    }
}
