//! The line scan: which lines hold which key of a block-style YAML file,
//! and where an unclosed construct starts (for error messages).

use super::super::line;
use super::super::{KeyPath, ParseFail, SyntaxErr};

#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) path: KeyPath,
    /// The key's line and the end of its value (exclusive, last content line + 1).
    pub(super) line: usize,
    pub(super) end: usize,
    pub(super) indent: usize,
    /// Indent of the children when the value is a block mapping.
    pub(super) child: Option<usize>,
    /// `key:` with nothing after it: children may be added.
    pub(super) empty: bool,
}

pub(super) fn unsupported(msg: impl Into<String>) -> ParseFail {
    ParseFail::Unsupported(msg.into())
}

pub(super) fn is_comment(b: &str) -> bool {
    b.starts_with('#')
}

/// `key: rest` → (key, rest); `None` when the line is not a block mapping key.
pub(super) fn split_key(s: &str) -> Option<(String, &str)> {
    let after_colon = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
    if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let body = &s[1..];
        let mut esc = false;
        let mut close = None;
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let mut n = 0;
        while n < chars.len() {
            let (i, c) = chars[n];
            if q == '"' && !esc && c == '\\' {
                esc = true;
            } else if c == q && !esc {
                if q == '\'' && chars.get(n + 1).map(|x| x.1) == Some('\'') {
                    n += 2;
                    continue;
                }
                close = Some(i);
                break;
            } else {
                esc = false;
            }
            n += 1;
        }
        let close = close?;
        let raw = &body[..close];
        let rest = body[close + 1..]
            .trim_start_matches(' ')
            .strip_prefix(':')?;
        if !after_colon(rest) {
            return None;
        }
        let key = if q == '\'' {
            raw.replace("''", "'")
        } else {
            unescape(raw)
        };
        return Some((key, rest));
    }
    if s.starts_with("- ")
        || s == "-"
        || s.starts_with(['[', '{', '?', '#', '&', '*', '!', '|', '>', '%', '@', '`'])
    {
        return None;
    }
    let mut prev_space = false;
    for (i, c) in s.char_indices() {
        if c == '#' && prev_space {
            return None;
        }
        if c == ':' && after_colon(&s[i + 1..]) {
            let key = s[..i].trim_end();
            return (!key.is_empty()).then(|| (key.to_string(), &s[i + 1..]));
        }
        prev_space = c == ' ' || c == '\t';
    }
    None
}

pub(super) fn unescape(s: &str) -> String {
    s.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The value after `key:` without its comment.
pub(super) fn inline_value(rest: &str) -> &str {
    let v = match line::comment_at(rest, &['#']) {
        Some(c) => &rest[..c],
        None => rest,
    };
    v.trim()
}

pub(super) fn scan(lines: &[String]) -> Result<Vec<Entry>, ParseFail> {
    let mut start = 0;
    let mut seen_content = false;
    for (i, l) in lines.iter().enumerate() {
        let b = line::body(l);
        if b.starts_with('%') {
            return Err(unsupported("YAML directives"));
        }
        if b == "---" || b.starts_with("--- ") || b == "..." {
            if seen_content || b != "---" {
                return Err(unsupported("several YAML documents"));
            }
            start = i + 1;
        } else if !b.trim().is_empty() && !is_comment(b.trim_start()) {
            seen_content = true;
        }
    }
    let mut out = Vec::new();
    let first = (start..lines.len()).find(|&i| is_content(&lines[i]));
    if let Some(f) = first {
        let ind = line::indent(line::body(&lines[f]));
        block(lines, start, lines.len(), ind, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

pub(super) fn is_content(l: &str) -> bool {
    let t = line::body(l).trim_start();
    !t.is_empty() && !is_comment(t)
}

pub(super) fn block(
    lines: &[String],
    from: usize,
    to: usize,
    ind: usize,
    path: &mut KeyPath,
    out: &mut Vec<Entry>,
) -> Result<(), ParseFail> {
    let mut i = from;
    while i < to {
        if !is_content(&lines[i]) {
            i += 1;
            continue;
        }
        let b = line::body(&lines[i]);
        if line::indent(b) != ind || b[..ind].contains('\t') {
            return Err(unsupported(format!(
                "line {}: indentation the line scanner does not follow",
                i + 1
            )));
        }
        let Some((key, rest)) = split_key(&b[ind..]) else {
            return Err(unsupported(format!(
                "line {}: not a block mapping key",
                i + 1
            )));
        };
        let value = inline_value(rest);
        let scalar_block = value.starts_with(['|', '>']);
        let mut last = i;
        let mut j = i + 1;
        while j < to {
            let bj = line::body(&lines[j]);
            let t = bj.trim_start();
            if t.is_empty() || (is_comment(t) && !scalar_block) {
                j += 1;
                continue;
            }
            let ij = line::indent(bj);
            let seq = ij == ind && value.is_empty() && (t.starts_with("- ") || t == "-");
            if ij > ind || seq {
                last = j;
                j += 1;
            } else {
                break;
            }
        }
        path.push(key);
        let first_child = (i + 1..=last).find(|&n| is_content(&lines[n]));
        let child = first_child.and_then(|n| {
            let fb = line::body(&lines[n]);
            let fi = line::indent(fb);
            (value.is_empty() && fi > ind && split_key(&fb[fi..]).is_some()).then_some(fi)
        });
        out.push(Entry {
            path: path.clone(),
            line: i,
            end: last + 1,
            indent: ind,
            child,
            empty: value.is_empty() && last == i,
        });
        if let Some(ci) = child {
            block(lines, i + 1, last + 1, ci, path, out)?;
        }
        path.pop();
        i = last + 1;
    }
    Ok(())
}

/// Where a flow collection or quoted scalar still open at the end of the
/// file starts (1-based line and column), and what it is.
pub(super) fn unclosed(text: &str) -> Option<(usize, usize, &'static str)> {
    let mut open: Vec<(usize, usize, char)> = Vec::new();
    let mut quote: Option<(usize, usize, char)> = None;
    for (n, l) in text.lines().enumerate() {
        let mut prev = ' ';
        let mut chars = l.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            let start = matches!(prev, ' ' | '\t' | '[' | '{' | ',' | ':');
            match quote {
                Some((.., '"')) if c == '\\' => {
                    chars.next();
                }
                Some((.., q)) if c == q => {
                    if q == '\'' && chars.peek().map(|x| x.1) == Some('\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None if c == '#' && start => break,
                None if (c == '"' || c == '\'') && start => quote = Some((n + 1, i + 1, c)),
                None if (c == '[' || c == '{') && (start || !open.is_empty()) => {
                    open.push((n + 1, i + 1, c))
                }
                None if (c == ']' || c == '}') && !open.is_empty() => {
                    open.pop();
                }
                None => {}
            }
            prev = c;
        }
    }
    let name = |c| match c {
        '[' => "`[`",
        '{' => "`{`",
        '"' => "the double quote",
        _ => "the single quote",
    };
    quote
        .or(open.first().copied())
        .map(|(l, c, ch)| (l, c, name(ch)))
}

/// A parse error given up at the end of the file points at what was left
/// open, and says where the parser gave up.
pub(super) fn at_the_opening(text: &str, e: SyntaxErr) -> SyntaxErr {
    match unclosed(text).filter(|_| e.line > text.lines().count()) {
        Some((l, c, what)) => SyntaxErr {
            line: l,
            col: c,
            msg: format!(
                "{what} is never closed (the parser gave up at line {}, column {}: {})",
                e.line, e.col, e.msg
            ),
        },
        None => e,
    }
}

/// The entries by key path, without a second copy of every path: the
/// path's hash (randomly keyed SipHash, as `HashMap`'s) leads to the first
/// entry with that hash, and `next` chains the others.
pub(super) struct Index {
    hasher: std::hash::RandomState,
    first: std::collections::HashMap<u64, usize>,
    next: Vec<usize>,
}

impl Index {
    /// `Err(n)` when entry `n` has the path of an entry before it.
    pub(super) fn new(entries: &[Entry]) -> Result<Index, usize> {
        let mut index = Index {
            hasher: std::hash::RandomState::new(),
            first: std::collections::HashMap::with_capacity(entries.len()),
            next: vec![usize::MAX; entries.len()],
        };
        for (n, e) in entries.iter().enumerate() {
            if index.get(entries, &e.path).is_some() {
                return Err(n);
            }
            let h = std::hash::BuildHasher::hash_one(&index.hasher, e.path.as_slice());
            if let Some(old) = index.first.insert(h, n) {
                index.next[n] = old;
            }
        }
        Ok(index)
    }

    pub(super) fn get(&self, entries: &[Entry], k: &[String]) -> Option<usize> {
        let h = std::hash::BuildHasher::hash_one(&self.hasher, k);
        let mut n = *self.first.get(&h)?;
        while n != usize::MAX {
            if entries[n].path == k {
                return Some(n);
            }
            n = self.next[n];
        }
        None
    }
}
