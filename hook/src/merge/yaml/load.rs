//! One pass of yaml-rust2's event parser that both bounds the file
//! ([`YamlBudget`]: each event is accounted for before it is built, so an
//! alias never expands past the limits and nesting never goes deeper) and
//! builds the documents as `YamlLoader` does. The file used to be parsed
//! twice, once for the limits and once by `YamlLoader`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

use super::super::limit::{scan_error, YamlBudget};
use super::super::SyntaxErr;

fn at(mark: Marker, msg: String) -> SyntaxErr {
    SyntaxErr {
        line: mark.line(),
        col: mark.col() + 1,
        msg,
    }
}

/// The documents of `text`, or the first error: a limit or a scanner error
/// in file order, else a duplicated key (as the limit pass used to run over
/// the whole file before `YamlLoader` looked for those).
pub(super) fn load(text: &str) -> Result<Vec<Yaml>, SyntaxErr> {
    let mut parser = Parser::new_from_str(text);
    let mut budget = YamlBudget::default();
    let mut tree = Tree::default();
    let mut dup = None;
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| scan_error(&e))?;
        if ev == Event::StreamEnd {
            break;
        }
        budget.event(&ev, mark)?;
        if let Event::Alias(id) = ev {
            // `YamlLoader` forgets anchors at each new document.
            if tree
                .anchor_doc
                .get(&id)
                .is_some_and(|&d| d != tree.docs.len())
            {
                return Err(at(mark, "while parsing node, found unknown anchor".into()));
            }
        }
        if dup.is_none() {
            dup = tree.event(ev, mark).err();
        }
    }
    match dup {
        Some(e) => Err(e),
        None => Ok(tree.docs),
    }
}

/// `YamlLoader`'s state: the nodes being built, each with its anchor id.
#[derive(Default)]
struct Tree {
    docs: Vec<Yaml>,
    stack: Vec<(Yaml, usize)>,
    keys: Vec<Yaml>,
    anchors: HashMap<usize, Yaml>,
    /// The document each anchor was defined in.
    anchor_doc: HashMap<usize, usize>,
}

impl Tree {
    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), SyntaxErr> {
        match ev {
            Event::DocumentEnd => match self.stack.pop() {
                None => self.docs.push(Yaml::BadValue),
                Some((node, _)) => self.docs.push(node),
            },
            Event::SequenceStart(aid, _) => self.stack.push((Yaml::Array(Vec::new()), aid)),
            Event::MappingStart(aid, _) => {
                self.stack.push((Yaml::Hash(Hash::new()), aid));
                self.keys.push(Yaml::BadValue);
            }
            Event::SequenceEnd => {
                let node = self.stack.pop().expect("a sequence was open");
                self.insert(node, mark)?;
            }
            Event::MappingEnd => {
                self.keys.pop();
                let node = self.stack.pop().expect("a mapping was open");
                self.insert(node, mark)?;
            }
            Event::Scalar(v, style, aid, tag) => self.insert((scalar(v, style, tag), aid), mark)?,
            Event::Alias(id) => {
                let n = self.anchors.get(&id).cloned().unwrap_or(Yaml::BadValue);
                self.insert((n, 0), mark)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn insert(&mut self, (node, aid): (Yaml, usize), mark: Marker) -> Result<(), SyntaxErr> {
        if aid > 0 {
            self.anchors.insert(aid, node.clone());
            self.anchor_doc.insert(aid, self.docs.len());
        }
        match self.stack.last_mut() {
            None => self.stack.push((node, aid)),
            Some((Yaml::Array(v), _)) => v.push(node),
            Some((Yaml::Hash(h), _)) => {
                let key = self.keys.last_mut().expect("a mapping has a key slot");
                if key.is_badvalue() {
                    *key = node;
                } else if h
                    .insert(std::mem::replace(key, Yaml::BadValue), node)
                    .is_some()
                {
                    let k = h.back().expect("just inserted").0;
                    return Err(at(mark, format!("{k:?}: duplicated key in mapping")));
                }
            }
            Some(_) => unreachable!("only collections are open"),
        }
        Ok(())
    }
}

/// A scalar's value under the core schema, as `YamlLoader` reads it.
fn scalar(v: String, style: TScalarStyle, tag: Option<Tag>) -> Yaml {
    if style != TScalarStyle::Plain {
        return Yaml::String(v);
    }
    let Some(Tag { handle, suffix }) = tag else {
        return Yaml::from_str(&v);
    };
    if handle != "tag:yaml.org,2002:" {
        return Yaml::String(v);
    }
    match suffix.as_str() {
        "bool" => match v.as_str() {
            "true" | "True" | "TRUE" => Yaml::Boolean(true),
            "false" | "False" | "FALSE" => Yaml::Boolean(false),
            _ => Yaml::BadValue,
        },
        "int" => v.parse::<i64>().map_or(Yaml::BadValue, Yaml::Integer),
        "float" => match parse_f64(&v) {
            Some(_) => Yaml::Real(v),
            None => Yaml::BadValue,
        },
        "null" => match v.as_str() {
            "~" | "null" => Yaml::Null,
            _ => Yaml::BadValue,
        },
        _ => Yaml::String(v),
    }
}

/// yaml-rust2's core-schema float check (private there).
fn parse_f64(v: &str) -> Option<f64> {
    match v {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if v.as_bytes().iter().any(u8::is_ascii_digit) => v.parse::<f64>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    #[test]
    fn builds_what_yaml_loader_builds() {
        let text = "a: 1\nb: !!str 2\nc: !!int 3\nd: !!float 1.5\ne: !!bool true\nf: ~\n\
                    g: &x {h: [1, 'two', \"3\"]}\ni: *x\nj: !custom k\nl: !!null null\n\
                    m: !!int nope\n";
        assert_eq!(
            load(text).unwrap(),
            YamlLoader::load_from_str(text).unwrap()
        );
        let docs = "a: 1\n---\nb: 2\n";
        assert_eq!(
            load(docs).unwrap(),
            YamlLoader::load_from_str(docs).unwrap()
        );
        assert_eq!(load("").unwrap(), YamlLoader::load_from_str("").unwrap());
    }

    #[test]
    fn errors_are_yaml_loaders_at_the_same_place() {
        let same = |text: &str| {
            let e = YamlLoader::load_from_str(text).unwrap_err();
            let want = (
                e.marker().line(),
                e.marker().col() + 1,
                e.info().to_string(),
            );
            let got = load(text).unwrap_err();
            assert_eq!((got.line, got.col, got.msg), want, "{text:?}");
        };
        same("a: 1\nb: 2\na: 3\n"); // duplicated key
        same("a: &x 1\n---\nb: *x\n"); // anchors do not cross documents
        same("a: [1, 2\n");
    }

    #[test]
    fn limits_come_before_a_duplicated_key_and_stop_the_build() {
        let deep = format!("a: 1\na: 2\nb: {}\n", "[".repeat(200));
        assert!(load(&deep).unwrap_err().msg.contains("levels deep"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for n in 1..12 {
            let refs = vec![format!("*a{}", n - 1); 10].join(", ");
            bomb.push_str(&format!("a{n}: &a{n} [{refs}]\n"));
        }
        assert!(load(&bomb).unwrap_err().msg.contains("aliases expand"));
    }
}
