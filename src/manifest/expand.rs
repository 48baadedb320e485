//! The manifest's use of `${VAR}` expansion: malformed references and
//! unset variables without a default are errors.

use packwright_hook::vars::{self, Malformed};

/// Expand `text` with `lookup`. On failure returns the message to report.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let e = vars::expand(text, lookup, Malformed::Reject)?;
    match e.missing.first() {
        None => Ok(e.text),
        Some(name) => Err(format!(
            "variable `{name}` is not set and has no default (write `${{{name}:-value}}` or export {name})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        (name == "VERSION").then(|| "3.5.0".into())
    }

    #[test]
    fn unset_and_malformed_are_errors() {
        assert_eq!(expand("v${VERSION}", &env).unwrap(), "v3.5.0");
        assert!(expand("${NOPE}", &env)
            .unwrap_err()
            .contains("`NOPE` is not set"));
        assert!(expand("${A B}", &env)
            .unwrap_err()
            .contains("not a variable name"));
        assert!(expand("${OPEN", &env).unwrap_err().contains("unclosed"));
    }
}
