//! A YAML tree that remembers the line of every node, so each warning can
//! name the nfpm key and its line. Built on yaml-rust2's event parser.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Inputs are configuration files: anything bigger or deeper is refused.
pub const MAX_BYTES: usize = 4 << 20;
const MAX_DEPTH: usize = 64;
const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone)]
pub enum Kind {
    /// The scalar's text, and whether it was plain (unquoted).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

#[derive(Debug, Clone)]
pub struct Node {
    /// 1-based line of the node (for a map entry's value: where it starts).
    pub line: usize,
    pub kind: Kind,
}

impl Node {
    pub fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s, plain) if *plain && is_null(s) => None,
            Kind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.kind {
            Kind::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A scalar or a list of scalars, as a list (nfpm accepts both).
    pub fn strings(&self) -> Vec<String> {
        match &self.kind {
            Kind::Seq(s) => s.iter().filter_map(|n| n.str().map(String::from)).collect(),
            _ => self.str().map(|s| vec![s.to_string()]).unwrap_or_default(),
        }
    }

    pub fn truthy(&self) -> bool {
        matches!(self.str(), Some("true" | "True" | "TRUE" | "yes" | "on"))
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// Why a file is not a YAML document, with its line.
#[derive(Debug)]
pub struct Bad {
    pub line: usize,
    pub msg: String,
}

enum Open {
    Seq(usize, Vec<Node>, usize),
    Map(usize, Vec<(String, Node)>, Option<(String, usize)>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    nodes: usize,
    error: Option<Bad>,
}

impl Builder {
    fn done(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq(_, items, _)) => items.push(node),
            Some(Open::Map(_, entries, key, _)) => match key.take() {
                // A collection's line is its key's: warnings name the key.
                Some((k, line)) => entries.push((k, Node { line, ..node })),
                None => {
                    let text = match &node.kind {
                        Kind::Scalar(s, _) => s.clone(),
                        _ => format!("(complex key at line {})", node.line),
                    };
                    *key = Some((text, node.line));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        self.nodes += 1;
        if self.nodes > MAX_NODES || self.stack.len() > MAX_DEPTH {
            self.error = Some(Bad {
                line,
                msg: "too large or too deeply nested for a configuration file".into(),
            });
            return;
        }
        match ev {
            Event::Scalar(s, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                self.done(
                    Node {
                        line,
                        kind: Kind::Scalar(s, plain),
                    },
                    anchor,
                )
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(n) => self.done(n, 0),
                None => {
                    self.error = Some(Bad {
                        line,
                        msg: "alias to an unknown anchor".into(),
                    })
                }
            },
            Event::SequenceStart(a, _) => self.stack.push(Open::Seq(line, Vec::new(), a)),
            Event::MappingStart(a, _) => self.stack.push(Open::Map(line, Vec::new(), None, a)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq(line, items, a)) => (
                        Node {
                            line,
                            kind: Kind::Seq(items),
                        },
                        a,
                    ),
                    Some(Open::Map(line, entries, _, a)) => (
                        Node {
                            line,
                            kind: Kind::Map(merge_keys(entries)),
                        },
                        a,
                    ),
                    None => return,
                };
                self.done(node, anchor);
            }
            _ => {}
        }
    }
}

/// `<<: *anchor` merges the anchored map's entries that are not set here.
fn merge_keys(entries: Vec<(String, Node)>) -> Vec<(String, Node)> {
    let mut out: Vec<(String, Node)> = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        if k == "<<" {
            match v.kind {
                Kind::Map(m) => merged.extend(m),
                Kind::Seq(s) => s
                    .into_iter()
                    .for_each(|n| merged.extend(n.entries().to_vec())),
                _ => {}
            }
        } else {
            out.push((k, v));
        }
    }
    for (k, v) in merged {
        if !out.iter().any(|(o, _)| *o == k) {
            out.push((k, v));
        }
    }
    out
}

/// Parse the first document of `text`.
pub fn parse(text: &str) -> Result<Node, Bad> {
    if text.len() > MAX_BYTES {
        return Err(Bad {
            line: 1,
            msg: format!("larger than {} MiB", MAX_BYTES >> 20),
        });
    }
    let mut b = Builder::default();
    Parser::new_from_str(text)
        .load(&mut b, false)
        .map_err(|e| Bad {
            line: e.marker().line().max(1),
            msg: e.info().to_string(),
        })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.root.unwrap_or(Node {
        line: 1,
        kind: Kind::Map(Vec::new()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_anchors() {
        let n = parse("a: 1\nb:\n  - x\n  - &k {c: d}\ne: *k\n").unwrap();
        assert_eq!(n.get("a").unwrap().str(), Some("1"));
        assert_eq!(n.get("a").unwrap().line, 1);
        assert_eq!(n.get("b").unwrap().items()[0].line, 3);
        assert_eq!(n.get("e").unwrap().get("c").unwrap().str(), Some("d"));
        assert!(parse("a: [").is_err());
    }
}
