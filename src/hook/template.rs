//! `${VAR}` and `${VAR:-default}` in defaults and templates. `$${` is a
//! literal `${`. All missing variables are collected for one error.

/// Render `text`. `Err` lists every variable without a value or default.
pub fn render(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Vec<String>> {
    let mut missing = Vec::new();
    let out = expand(text, lookup, &mut |name, out| {
        if !missing.iter().any(|m| m == name) {
            missing.push(name.to_string());
        }
        out.push_str(&format!("${{{name}}}"));
    });
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

/// Render what can be rendered and leave `${VAR}` where there is no value:
/// used on upgrade, where secrets given at install are no longer in the
/// environment (the live file keeps the value rendered then).
pub fn render_lenient(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    expand(text, lookup, &mut |name, out| {
        out.push_str(&format!("${{{name}}}"))
    })
}

fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    on_missing: &mut dyn FnMut(&str, &mut String),
) -> String {
    let mut out = String::with_capacity(text.len());
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
        let end = body.find('}').filter(|&e| {
            let inner = &body[..e];
            let name = inner.split_once(":-").map_or(inner, |(n, _)| n);
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let Some(end) = end else {
            // Not a variable reference (e.g. `${` in a shell snippet): keep as is.
            out.push('$');
            rest = after;
            continue;
        };
        let inner = &body[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (lookup(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => on_missing(name, &mut out),
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Variables from an env file (the `.env` engine's reading of it).
pub fn env_file_vars(text: &str) -> Vec<(String, String)> {
    use super::merge::Doc;
    match super::merge::env::EnvDoc::parse(text) {
        Ok(d) => d
            .leaves()
            .into_iter()
            .map(|(k, v)| (k.concat(), v))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(n: &str) -> Option<String> {
        (n == "HOST").then(|| "db1".to_string())
    }

    #[test]
    fn every_missing_variable_is_listed() {
        assert_eq!(
            render("h=${HOST} p=${PORT:-5432}", &env).unwrap(),
            "h=db1 p=5432"
        );
        assert_eq!(
            render("${A} ${HOST} ${B} ${A}", &env).unwrap_err(),
            vec!["A", "B"]
        );
        assert_eq!(render_lenient("${A}/${HOST}", &env), "${A}/db1");
        assert_eq!(render("$${HOST} ${ x }", &env).unwrap(), "${HOST} ${ x }");
    }
}
