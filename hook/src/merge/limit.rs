//! Bounds on every config the hook reads, so a hostile file (anyone who can
//! write a config may put anything in it, and `check` runs as root in a
//! unit's `ExecStartPre=`) costs bounded memory and time: a size cap, text
//! that is UTF-8 without NUL bytes, at most [`MAX_DEPTH`] levels of nesting
//! and, for YAML, a cap on what aliases expand to. Each refusal is a syntax
//! error (exit 4) at the offending line and column; nothing is written.

use super::SyntaxErr;

/// Largest file the hook reads as text.
pub const MAX_BYTES: u64 = 1 << 20;
/// Deepest nesting of keys, lists and inline tables / flow collections.
pub const MAX_DEPTH: usize = 64;
/// YAML: nodes and text bytes that aliases may add, over the whole file.
pub const MAX_ALIAS_NODES: u64 = 100_000;
pub const MAX_ALIAS_BYTES: u64 = 4 << 20;

pub const BOM: &str = "\u{feff}";

fn err(line: usize, col: usize, msg: impl Into<String>) -> SyntaxErr {
    SyntaxErr {
        line,
        col,
        msg: msg.into(),
    }
}

/// 1-based line and column (in characters) of byte `at` of valid UTF-8.
fn position(text: &[u8], at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// A file's bytes as text: invalid UTF-8 and NUL bytes are refused at their
/// position. A UTF-8 byte order mark is kept (the engines skip it).
pub fn decode(bytes: Vec<u8>) -> Result<String, SyntaxErr> {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let (line, col) = position(&bytes, at);
            return Err(err(
                line,
                col,
                format!(
                    "not valid UTF-8 (byte 0x{:02x}); save the file as UTF-8",
                    bytes[at]
                ),
            ));
        }
    };
    if let Some(at) = text.bytes().position(|b| b == 0) {
        let (line, col) = position(text.as_bytes(), at);
        return Err(err(line, col, "a NUL byte: this is not a text file"));
    }
    Ok(text)
}

/// The text without a leading byte order mark, and whether it had one.
pub fn strip_bom(text: &str) -> (&str, bool) {
    match text.strip_prefix(BOM) {
        Some(t) => (t, true),
        None => (text, false),
    }
}

fn too_deep(line: usize, col: usize) -> SyntaxErr {
    err(
        line,
        col,
        format!("nested more than {MAX_DEPTH} levels deep; refusing to read further"),
    )
}

/// YAML, streamed through the event parser before any document is built:
/// nesting depth, and the nodes and bytes each alias would copy (an alias
/// costs what its anchor holds, aliases inside included: "billion laughs").
/// The YAML engine runs the same [`YamlBudget`] in its one parsing pass.
pub fn yaml(text: &str) -> Result<(), SyntaxErr> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut budget = YamlBudget::default();
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| scan_error(&e))?;
        if ev == Event::StreamEnd {
            return Ok(());
        }
        budget.event(&ev, mark)?;
    }
}

/// A scanner error at its line and column; the scanner's own bound on flow
/// nesting in the words of [`MAX_DEPTH`].
pub fn scan_error(e: &yaml_rust2::ScanError) -> SyntaxErr {
    let (line, col) = (e.marker().line(), e.marker().col() + 1);
    match e.info() {
        "recursion limit exceeded" => too_deep(line, col),
        info => err(line, col, info.to_string()),
    }
}

/// What the YAML events so far cost: open collections (anchor id, nodes,
/// bytes inside so far), each anchor's size, and what aliases added.
#[derive(Default)]
pub struct YamlBudget {
    open: Vec<(usize, u64, u64)>,
    anchors: std::collections::HashMap<usize, (u64, u64)>,
    alias_nodes: u64,
    alias_bytes: u64,
}

impl YamlBudget {
    /// Account for one event; an error once the file goes past a bound.
    pub fn event(
        &mut self,
        ev: &yaml_rust2::Event,
        mark: yaml_rust2::scanner::Marker,
    ) -> Result<(), SyntaxErr> {
        use yaml_rust2::Event;
        let (line, col) = (mark.line(), mark.col() + 1);
        let done = match *ev {
            Event::SequenceStart(aid, _) | Event::MappingStart(aid, _) => {
                if self.open.len() >= MAX_DEPTH {
                    return Err(too_deep(line, col));
                }
                self.open.push((aid, 1, 0));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => self.open.pop(),
            Event::Scalar(ref v, _, aid, _) => Some((aid, 1, v.len() as u64)),
            Event::Alias(id) => {
                let (n, b) = self.anchors.get(&id).copied().unwrap_or((1, 0));
                self.alias_nodes = self.alias_nodes.saturating_add(n);
                self.alias_bytes = self.alias_bytes.saturating_add(b);
                if self.alias_nodes > MAX_ALIAS_NODES || self.alias_bytes > MAX_ALIAS_BYTES {
                    return Err(err(
                        line,
                        col,
                        format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes or {} MiB; refusing to expand them",
                            MAX_ALIAS_BYTES >> 20
                        ),
                    ));
                }
                Some((0, n, b))
            }
            _ => None,
        };
        if let Some((aid, n, b)) = done {
            if aid > 0 {
                self.anchors.insert(aid, (n, b));
            }
            if let Some(p) = self.open.last_mut() {
                p.1 = p.1.saturating_add(n);
                p.2 = p.2.saturating_add(b);
            }
        }
        Ok(())
    }
}

/// JSON and TOML: nesting of `[` and `{` outside strings and comments.
/// TOML's dotted keys are bounded by the parser and by [`key_depth`].
pub fn brackets(text: &str, toml: bool) -> Result<(), SyntaxErr> {
    let b = text.as_bytes();
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'#' if toml => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            q @ (b'"' | b'\'') if q == b'"' || toml => {
                let triple = toml && b[i..].starts_with(&[q, q, q]);
                let close: &[u8] = if triple { &[q, q, q] } else { &[q] };
                i += close.len();
                while i < b.len() && !b[i..].starts_with(close) {
                    if b[i] == b'\\' && q == b'"' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += close.len();
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let col = text[line_start..i].chars().count() + 1;
                    return Err(too_deep(line, col));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Keys nested deeper than [`MAX_DEPTH`] (TOML `a.b.c…` keys and headers).
pub fn key_depth(leaves: &[(Vec<String>, String)]) -> Result<(), String> {
    match leaves.iter().find(|(k, _)| k.len() > MAX_DEPTH) {
        Some((k, _)) => Err(format!(
            "{}…: keys nested more than {MAX_DEPTH} levels deep",
            k[..3].join(".")
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_nul() {
        let e = decode(b"a: 1\nb: \xffx\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 4));
        assert!(e.msg.contains("0xff"), "{}", e.msg);
        let e = decode("a: é\nbb\0\n".into()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        assert_eq!(decode("\u{feff}a: 1\n".into()).unwrap(), "\u{feff}a: 1\n");
        assert_eq!(strip_bom("\u{feff}a"), ("a", true));
    }

    #[test]
    fn yaml_aliases_and_depth_are_bounded() {
        let mut lol = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{p}"); 9].join(",");
            lol.push_str(&format!("{n}: &{n} [{refs}]\n"));
        }
        let e = yaml(&lol).unwrap_err();
        assert!(e.msg.contains("aliases expand"), "{}", e.msg);
        yaml("base: &b {x: 1}\none: *b\ntwo: *b\n").unwrap();
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(yaml(&deep).unwrap_err().col, MAX_DEPTH + 1);
        let block: String = (0..100)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(yaml(&block).unwrap_err().line, MAX_DEPTH + 1);
    }

    #[test]
    fn brackets_skip_strings_and_comments() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        brackets(&deep, false).unwrap();
        let e = brackets(&format!("\n {}", "{".repeat(MAX_DEPTH + 1)), false).unwrap_err();
        assert_eq!((e.line, e.col), (2, MAX_DEPTH + 2));
        let s = format!(
            "a = \"{0}\"\nb = '{0}' # {0}\nc = \"\"\"\n{0}\"\"\"\n",
            "[".repeat(99)
        );
        brackets(&s, true).unwrap();
        brackets(&format!("{{\"k\": \"\\\"{}\"}}", "[".repeat(99)), false).unwrap();
    }
}
