//! `${VAR}` and `${VAR:-default}` expansion, shared by the manifest and the
//! hook's config templates. `$${` is a literal `${`. A variable that is unset
//! (or empty) without a default is left as written and named in `missing`.
//! What a malformed reference (`${A B}`, an unclosed `${`) means differs: the
//! manifest rejects it, a config template keeps it (a shell snippet's `${`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    Reject,
    Keep,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    /// Unset variables without a default, each once, in order of appearance.
    pub missing: Vec<String>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expand `text`; `Err` only with `Malformed::Reject`, saying what is wrong.
pub fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    malformed: Malformed,
) -> Result<Expanded, String> {
    let mut out = String::with_capacity(text.len());
    let mut missing: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let inner = body.find('}').map(|end| &body[..end]);
        let name_of = |inner: &str| inner.split_once(":-").map_or(inner, |(n, _)| n).to_string();
        let bad = match inner {
            None => Some(format!("unclosed `${{` in {text:?}")),
            Some(inner) if !is_name(&name_of(inner)) => Some(format!(
                "`${{{inner}}}` is not a variable name (letters, digits, `_`)"
            )),
            Some(_) => None,
        };
        if let Some(msg) = bad {
            if malformed == Malformed::Reject {
                return Err(msg);
            }
            out.push('$');
            rest = after;
            continue;
        }
        let inner = inner.unwrap_or_default();
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (lookup(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                out.push_str(&format!("${{{name}}}"));
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_string());
                }
            }
        }
        rest = &body[inner.len() + 1..];
    }
    out.push_str(rest);
    Ok(Expanded { text: out, missing })
}

#[cfg(test)]
mod tests {
    use super::{expand, Malformed};

    fn env(name: &str) -> Option<String> {
        match name {
            "VERSION" => Some("3.5.0".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn both_policies_expand_alike() {
        for m in [Malformed::Reject, Malformed::Keep] {
            let e = expand(
                "v${VERSION} ${NOPE:-1.0} ${EMPTY:-x} $${VERSION} $HOME ${A1} ${A1}",
                &env,
                m,
            )
            .unwrap();
            assert_eq!(e.text, "v3.5.0 1.0 x ${VERSION} $HOME ${A1} ${A1}");
            assert_eq!(e.missing, vec!["A1".to_string()]);
        }
    }

    #[test]
    fn malformed_references_are_rejected_or_kept() {
        assert!(expand("${A B}", &env, Malformed::Reject)
            .unwrap_err()
            .contains("not a variable name"));
        assert!(expand("${OPEN", &env, Malformed::Reject)
            .unwrap_err()
            .contains("unclosed"));
        let kept = expand("echo ${A B} ${OPEN ${VERSION}", &env, Malformed::Keep).unwrap();
        assert_eq!(kept.text, "echo ${A B} ${OPEN 3.5.0");
    }
}
