//! Which releases a `--keep N` publish removes. Never a release named in
//! `[upgrade] stops`, and with `policy = "semver-major"` never the newest
//! release of a major: an admin several releases behind must still be able
//! to install the stop the upgrade gate sends them to.

use super::meta::{cmp_version, Pkg};
use std::collections::{BTreeMap, BTreeSet};

pub struct Rule {
    pub keep: usize,
    pub stops: Vec<String>,
    pub semver_major: bool,
}

fn major(v: &str) -> &str {
    v.split(['.', '-', '+', '~']).next().unwrap_or(v)
}

/// The upstream versions of `name` to keep, given all that are published.
pub fn kept(rule: &Rule, versions: &[String]) -> BTreeSet<String> {
    let mut v: Vec<&String> = versions.iter().collect();
    v.sort_by(|a, b| cmp_version(b, a));
    v.dedup();
    let mut keep: BTreeSet<String> = v.iter().take(rule.keep).map(|s| s.to_string()).collect();
    for s in v.iter().filter(|s| rule.stops.contains(s)) {
        keep.insert(s.to_string());
    }
    if rule.semver_major {
        let mut newest: BTreeMap<&str, &String> = BTreeMap::new();
        for s in &v {
            newest.entry(major(s)).or_insert(s);
        }
        keep.extend(newest.values().map(|s| s.to_string()));
    }
    keep
}

/// The packages of `pool` the rule removes.
pub fn removed<'a>(rule: &Rule, pool: &'a [Pkg]) -> Vec<&'a Pkg> {
    let mut by_name: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for p in pool {
        by_name
            .entry((&p.name, &p.arch))
            .or_default()
            .push(p.upstream.clone());
    }
    let keep: BTreeMap<(&str, &str), BTreeSet<String>> = by_name
        .into_iter()
        .map(|(k, v)| (k, kept(rule, &v)))
        .collect();
    pool.iter()
        .filter(|p| !keep[&(p.name.as_str(), p.arch.as_str())].contains(&p.upstream))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keep_one_keeps_the_stops_too() {
        let r = Rule {
            keep: 1,
            stops: vs(&["3.4.0"]),
            semver_major: false,
        };
        let k = kept(&r, &vs(&["3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0"]));
        assert_eq!(k, vs(&["3.4.0", "3.7.0"]).into_iter().collect());
    }

    #[test]
    fn semver_major_keeps_the_newest_of_each_major() {
        let r = Rule {
            keep: 1,
            stops: vec![],
            semver_major: true,
        };
        let k = kept(&r, &vs(&["1.0.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0"]));
        assert_eq!(k, vs(&["1.2.0", "2.1.0", "3.0.0"]).into_iter().collect());
    }
}
