//! Version comparison for config schema versions and package versions:
//! numeric runs compare as numbers, other runs as text ("3.10" > "3.9").

use std::cmp::Ordering;

pub fn compare(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    // "3.5" == "3.5.0": trailing zero parts do not count.
    let rest = |p: &[String], n: usize| p[n..].iter().all(|s| s == "0");
    let n = pa.len().min(pb.len());
    match (rest(&pa, n), rest(&pb, n)) {
        (true, true) => Ordering::Equal,
        _ => pa.len().cmp(&pb.len()),
    }
}

fn parts(v: &str) -> Vec<String> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digit = None;
    for c in v.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if digit.is_some_and(|p| p != d) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        digit = Some(d);
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::*;

    #[test]
    fn orders() {
        assert_eq!(compare("3.10", "3.9"), Greater);
        assert_eq!(compare("3.5", "3.5.0"), Equal);
        assert_eq!(compare("v2", "3"), Less);
        assert_eq!(compare("3.5.0-1", "3.5.0-2"), Less);
        assert_eq!(compare("4", "4"), Equal);
    }
}
