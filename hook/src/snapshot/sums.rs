//! SHA256SUMS, written and read as `sha256sum` does.

/// `sha256sum`'s line: names with a newline or backslash get a leading `\`.
pub(super) fn sums_line(out: &mut Vec<u8>, hex: &str, name: &[u8]) {
    let odd = name.iter().any(|c| *c == b'\n' || *c == b'\\');
    if odd {
        out.push(b'\\');
    }
    out.extend_from_slice(hex.as_bytes());
    out.extend_from_slice(b"  ");
    for &c in name {
        match c {
            b'\n' if odd => out.extend_from_slice(b"\\n"),
            b'\\' if odd => out.extend_from_slice(b"\\\\"),
            _ => out.push(c),
        }
    }
    out.push(b'\n');
}

/// SHA256SUMS back into (name, hex) pairs; `None` on a malformed line.
pub fn parse_sums(text: &[u8]) -> Option<Vec<(Vec<u8>, String)>> {
    let mut out = Vec::new();
    for line in text.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
        let (odd, line) = match line.strip_prefix(b"\\") {
            Some(l) => (true, l),
            None => (false, line),
        };
        if line.len() < 66 || &line[64..66] != b"  " {
            return None;
        }
        let hex = std::str::from_utf8(&line[..64]).ok()?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut name = Vec::new();
        let mut it = line[66..].iter();
        while let Some(&c) = it.next() {
            match (odd, c) {
                (true, b'\\') => match it.next() {
                    Some(b'n') => name.push(b'\n'),
                    Some(b'\\') => name.push(b'\\'),
                    _ => return None,
                },
                _ => name.push(c),
            }
        }
        out.push((name, hex.to_ascii_lowercase()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_round_trip() {
        let mut s = Vec::new();
        sums_line(&mut s, &"a".repeat(64), b"var/lib/x");
        sums_line(&mut s, &"b".repeat(64), b"var/lib/odd\nname\\");
        let back = parse_sums(&s).unwrap();
        assert_eq!(back[0].0, b"var/lib/x");
        assert_eq!(back[1].0, b"var/lib/odd\nname\\");
        assert!(parse_sums(b"zz  x\n").is_none());
    }
}
