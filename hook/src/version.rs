//! Version comparison for config schema versions and package (upstream)
//! versions. The generated shell gate implements the same rule, keep both in
//! step:
//!
//! - a leading `v`/`V` is dropped;
//! - the version splits at the first `~`, or at the first `-` followed by a
//!   letter, into main and pre-release (`3.5.0~rc1`, `3.5.0-rc.2`; a `-`
//!   followed by a digit, as in `3.5.0-1`, is part of the main version);
//! - parts are maximal runs of digits or of ASCII letters (anything else
//!   separates); digit runs compare as numbers, other pairs as ASCII text, a
//!   missing part counts as `0` (so `3.5 == 3.5.0`);
//! - equal mains: a version with a pre-release is lower than one without; two
//!   pre-releases compare part by part the same way.
//!
//! So `3.5.0~rc1 < 3.5.0-rc.2 < 3.5.0 < 3.5.0-1 < 3.5.1 < 3.10`.

use std::cmp::Ordering;

pub fn compare(a: &str, b: &str) -> Ordering {
    let (ma, pa) = split(a);
    let (mb, pb) = split(b);
    compare_parts(ma, mb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => compare_parts(x, y),
    })
}

/// Main version and pre-release, if any.
fn split(v: &str) -> (&str, Option<&str>) {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let b = v.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let pre = c == b'~' || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic));
        if pre {
            return (&v[..i], Some(&v[i + 1..]));
        }
    }
    (v, None)
}

fn compare_parts(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("0");
        let y = pb.get(i).copied().unwrap_or("0");
        let o = if is_num(x) && is_num(y) {
            // Numerically without overflow: drop leading zeros, then length, then text.
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn is_num(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_digit())
}

/// Maximal runs of ASCII digits or of ASCII letters.
fn parts(v: &str) -> Vec<&str> {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let kind = |c: u8| {
            if c.is_ascii_digit() {
                1
            } else if c.is_ascii_alphabetic() {
                2
            } else {
                0
            }
        };
        let k = kind(b[i]);
        if k == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && kind(b[i]) == k {
            i += 1;
        }
        out.push(&v[start..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{self, *};

    const TABLE: &[(&str, &str, Ordering)] = &[
        ("3.10", "3.9", Greater),
        ("3.5", "3.5.0", Equal),
        ("v2", "3", Less),
        ("V3.5.0", "3.5", Equal),
        ("3.5.0-1", "3.5.0-2", Less),
        ("4", "4", Equal),
        // The contract's chain.
        ("3.5.0~rc1", "3.5.0-rc.2", Less),
        ("3.5.0-rc.2", "3.5.0", Less),
        ("3.5.0", "3.5.0-1", Less),
        ("3.5.0-1", "3.5.1", Less),
        ("3.5.1", "3.10", Less),
        // Pre-releases.
        ("3.5.0~rc1", "3.5.0", Less),
        ("3.5.0-rc1", "3.5.0~rc1", Equal),
        ("3.5.0-alpha", "3.5.0-beta", Less),
        ("3.5.0-rc.10", "3.5.0-rc.9", Greater),
        ("3.5.0~rc1", "3.4.9", Greater),
        ("3.5~rc1", "3.5.0~rc1", Equal),
        ("1.0-rc1-2", "1.0-rc1", Greater),
        // Numbers beyond u64 and leading zeros.
        ("1.99999999999999999999", "1.100000000000000000000", Less),
        ("1.010", "1.10", Equal),
        // Letters against digits compare as ASCII text ("0" < "a").
        ("1.0a", "1.0", Greater),
        ("3.5.0+build1", "3.5.0", Greater),
    ];

    #[test]
    fn orders() {
        for (a, b, want) in TABLE {
            assert_eq!(compare(a, b), *want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn sorts_the_chain() {
        let mut v = [
            "3.10",
            "3.5.0-1",
            "3.5.0",
            "3.5.1",
            "3.5.0-rc.2",
            "3.5.0~rc1",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(
            v,
            [
                "3.5.0~rc1",
                "3.5.0-rc.2",
                "3.5.0",
                "3.5.0-1",
                "3.5.1",
                "3.10"
            ]
        );
    }
}
