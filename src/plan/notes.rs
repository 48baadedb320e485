//! The upstream changelog's notes for one version, as format-neutral items
//! that each writer renders in its own changelog syntax.

/// The items under the heading naming `version` (`## 1.2.0`,
/// `## [1.2.0] - 2024-05-01`, `## v1.2.0`): each item's lines, the first
/// without its `- ` or `* ` bullet, the rest (wrapped text) trimmed.
pub fn release_notes(changelog: &str, version: &str) -> Vec<Vec<String>> {
    let mut items: Vec<Vec<String>> = Vec::new();
    let mut inside = false;
    for line in changelog.lines() {
        if line.starts_with('#') {
            let words = line.trim_start_matches('#').split_whitespace();
            inside = words
                .map(|w| {
                    w.trim_matches(|c| "[]()".contains(c))
                        .trim_start_matches('v')
                })
                .any(|w| w == version);
            continue;
        }
        let t = line.trim();
        if !inside || t.is_empty() {
            continue;
        }
        match t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            Some(item) if !line.starts_with("  ") => items.push(vec![item.to_string()]),
            _ => match items.last_mut() {
                Some(item) => item.push(t.to_string()),
                None => items.push(vec![t.to_string()]),
            },
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::release_notes;

    #[test]
    fn notes_come_from_the_matching_heading_only() {
        let log = "# Changelog\n\n## [1.1.0] - 2024-05-01\n- newer\n\n## v1.0.0\n- first line\n  wrapped\n* second\n\n## 0.9\n- old\n";
        assert_eq!(
            release_notes(log, "1.0.0"),
            vec![
                vec!["first line".to_string(), "wrapped".to_string()],
                vec!["second".to_string()]
            ]
        );
        assert_eq!(release_notes(log, "1.1.0"), vec![vec!["newer".to_string()]]);
        assert!(release_notes(log, "2.0.0").is_empty());
        assert_eq!(
            release_notes("## 1.0\nplain text\n", "1.0"),
            vec![vec!["plain text".to_string()]]
        );
    }
}
