//! Relations as apk dependency strings.

use super::valid_version;

/// An apk dependency string, converting Debian's `name (>= 1.2)` form.
pub(super) fn dependency(d: &str) -> Option<String> {
    let d = d.trim();
    let (name, constraint) = match d.split_once('(') {
        Some((n, rest)) => {
            let c = rest.strip_suffix(')')?.trim();
            let op_len = c.find(|ch: char| !"<>=~".contains(ch)).unwrap_or(c.len());
            let (op, ver) = c.split_at(op_len);
            let op = match op {
                ">>" => ">",
                "<<" => "<",
                o => o,
            };
            (n.trim(), Some((op.to_string(), ver.trim().to_string())))
        }
        None => match d.find(['<', '>', '=', '~']) {
            Some(i) => {
                let c = &d[i..];
                let op_len = c.find(|ch: char| !"<>=~".contains(ch)).unwrap_or(c.len());
                (
                    &d[..i],
                    Some((c[..op_len].to_string(), c[op_len..].to_string())),
                )
            }
            None => (d, None),
        },
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.:/".contains(c));
    if !name_ok {
        return None;
    }
    match constraint {
        None => Some(name.to_string()),
        Some((op, ver)) => {
            let op_ok = ["<", "<=", "=", ">=", ">", "~", "=~", "~="].contains(&op.as_str());
            // A constraint may name a release (`1.2-r3`) or not.
            let v = match ver.rsplit_once("-r") {
                Some((v, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => v,
                _ => ver.as_str(),
            };
            (op_ok && valid_version(v)).then(|| format!("{name}{op}{ver}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_convert_and_validate() {
        assert_eq!(
            dependency("libc6 (>= 2.34)").as_deref(),
            Some("libc6>=2.34")
        );
        assert_eq!(dependency("foo (<< 2)").as_deref(), Some("foo<2"));
        assert_eq!(
            dependency("so:libc.musl-x86_64.so.1").as_deref(),
            Some("so:libc.musl-x86_64.so.1")
        );
        assert_eq!(
            dependency("musl>=1.2.4-r2").as_deref(),
            Some("musl>=1.2.4-r2")
        );
        assert_eq!(dependency("busybox").as_deref(), Some("busybox"));
        assert!(dependency("foo | bar").is_none());
        assert!(dependency("foo (>= 1:2.0)").is_none());
    }
}
