//! Line helpers shared by the line-structured engines (YAML, `.env`, INI):
//! files are kept as their original lines, endings included, and edited by
//! splicing whole lines, so everything not edited stays byte-identical.

/// Split keeping each line's ending (`\n` or `\r\n`).
pub fn split(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// The line without its ending.
pub fn body(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// The file's line ending: CRLF if its first line has one.
pub fn eol(lines: &[String]) -> &'static str {
    match lines.first() {
        Some(l) if l.ends_with("\r\n") => "\r\n",
        _ => "\n",
    }
}

pub fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

pub fn is_blank(line: &str) -> bool {
    body(line).trim().is_empty()
}

/// Index of the first line of the comment block directly above `at`
/// (no blank line in between); `at` itself when there is none.
pub fn comment_start(lines: &[String], at: usize, is_comment: impl Fn(&str) -> bool) -> usize {
    let mut s = at;
    while s > 0 && is_comment(body(&lines[s - 1]).trim_start()) {
        s -= 1;
    }
    s
}

/// The text of the comment block directly above `at`, one trimmed line
/// each (what `Doc::comment` reports for a line-based format).
pub fn comment_above(
    lines: &[String],
    at: usize,
    is_comment: impl Fn(&str) -> bool,
) -> Vec<String> {
    let s = comment_start(lines, at, is_comment);
    lines[s..at]
        .iter()
        .map(|l| body(l).trim().to_string())
        .collect()
}

/// Replace lines `at..end` by `with` (an insertion when `at == end`).
pub struct Splice {
    pub at: usize,
    pub end: usize,
    pub with: Vec<String>,
}

/// Apply splices given against the same original lines, in one pass.
/// Splices must not overlap; insertions at one point keep the order they
/// were given in and come before a replacement starting there.
pub fn apply(lines: &mut Vec<String>, splices: Vec<Splice>, eol: &str) {
    let mut sp: Vec<(usize, Splice)> = splices.into_iter().enumerate().collect();
    sp.sort_by_key(|(i, s)| (s.at, s.end > s.at, *i));
    let old = std::mem::take(lines);
    let n = old.len();
    let mut out = Vec::with_capacity(n + sp.iter().map(|(_, s)| s.with.len()).sum::<usize>());
    let mut old = old.into_iter();
    let mut pos = 0;
    for (_, s) in sp {
        let at = s.at.clamp(pos, n);
        out.extend(old.by_ref().take(at - pos));
        pos = at;
        if !s.with.is_empty() {
            // Text goes after a last line that had no line ending.
            if let Some(last) = out.last_mut().filter(|l: &&mut String| !l.ends_with('\n')) {
                last.push_str(eol);
            }
            out.extend(s.with.into_iter().map(|l| with_eol(body(&l), eol)));
        }
        let end = s.end.clamp(pos, n);
        old.by_ref().take(end - pos).for_each(drop);
        pos = end;
    }
    out.extend(old);
    *lines = out;
}

pub fn with_eol(body: &str, eol: &str) -> String {
    format!("{body}{eol}")
}

/// Shift a block's indentation by `delta` spaces, keeping relative indents.
pub fn reindent(lines: &[String], delta: isize) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let b = body(l);
            if b.trim().is_empty() || delta == 0 {
                b.to_string()
            } else if delta > 0 {
                format!("{}{b}", " ".repeat(delta as usize))
            } else {
                let cut = indent(b).min((-delta) as usize);
                b[cut..].to_string()
            }
        })
        .collect()
}

/// Find `#` starting a comment (after whitespace, outside quotes); the byte index.
pub fn comment_at(s: &str, marks: &[char]) -> Option<usize> {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'') && prev_space => quote = Some(c),
            None if marks.contains(&c) && prev_space => return Some(i),
            None => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    None
}

/// Lines joined without indentation or line endings, for comparing text.
pub fn plain(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| body(l).trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// True the first time `n` is given (`used` kept sorted: no hashing code
/// in the hook for this, and no quadratic scan).
pub fn first_use(used: &mut Vec<usize>, n: usize) -> bool {
    match used.binary_search(&n) {
        Ok(_) => false,
        Err(at) => {
            used.insert(at, n);
            true
        }
    }
}
