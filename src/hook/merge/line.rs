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

/// Replace lines `at..end` by `with` (an insertion when `at == end`).
pub struct Splice {
    pub at: usize,
    pub end: usize,
    pub with: Vec<String>,
}

/// Apply splices given against the same original lines. Splices must not
/// overlap; insertions at one point keep the order they were given in.
pub fn apply(lines: &mut Vec<String>, splices: Vec<Splice>, eol: &str) {
    let mut sp: Vec<(usize, Splice)> = splices.into_iter().enumerate().collect();
    sp.sort_by(|(i, a), (j, b)| (b.at, b.end, j).cmp(&(a.at, a.end, i)));
    for (_, s) in sp {
        if s.at > 0 && s.at == lines.len() && !lines[s.at - 1].ends_with('\n') {
            lines[s.at - 1].push_str(eol);
        }
        let with = s.with.into_iter().map(|l| with_eol(body(&l), eol));
        lines.splice(s.at..s.end, with);
    }
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
