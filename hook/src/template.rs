//! `${VAR}` and `${VAR:-default}` in defaults and templates. `$${` is a
//! literal `${`. All missing variables are collected for one error.

use crate::vars::{self, Malformed};

/// Render `text`. `Err` lists every variable without a value or default.
pub fn render(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Vec<String>> {
    let e = expanded(text, lookup);
    if e.missing.is_empty() {
        Ok(e.text)
    } else {
        Err(e.missing)
    }
}

/// Render what can be rendered and leave `${VAR}` where there is no value:
/// used on upgrade, where secrets given at install are no longer in the
/// environment (the live file keeps the value rendered then).
pub fn render_lenient(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    expanded(text, lookup).text
}

/// Templates keep what is not a variable reference (a shell snippet's `${`).
fn expanded(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> vars::Expanded {
    vars::expand(text, lookup, Malformed::Keep).expect("Keep never fails")
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
