//! Keyed lists in YAML: a block sequence of mappings (`servers:` then
//! `- name: web` items) is split into its items as whole lines, so a merged
//! list is the new default's items and the admin's, each with its layout.

use yaml_rust2::{Yaml, YamlLoader};

use super::super::line;
use super::super::Pick;
use super::{canon, is_comment, is_content, YamlDoc};

/// The items of the sequence at `k`: (first line, end) of each, and the
/// items' indentation.
fn items(d: &YamlDoc, k: &[String]) -> Option<(Vec<(usize, usize)>, usize)> {
    let e = d.get(k)?;
    if e.child.is_some() || e.end <= e.line + 1 {
        return None;
    }
    let first = (e.line + 1..e.end).find(|&n| is_content(&d.lines[n]))?;
    let ind = line::indent(line::body(&d.lines[first]));
    let starts: Vec<usize> = (first..e.end)
        .filter(|&n| {
            let b = line::body(&d.lines[n]);
            let t = b.trim_start();
            line::indent(b) == ind && (t.starts_with("- ") || t == "-")
        })
        .collect();
    if starts.first() != Some(&first) {
        return None;
    }
    // An item's comment block directly above it goes with it (the first
    // item's is the list's own documentation).
    let mut starts = starts;
    for n in 1..starts.len() {
        let at = line::comment_start(&d.lines, starts[n], is_comment);
        starts[n] = at.max(starts[n - 1] + 1);
    }
    let ends = starts.iter().skip(1).copied().chain([e.end]);
    Some((starts.iter().copied().zip(ends).collect(), ind))
}

impl YamlDoc {
    pub(super) fn list_entries(&self, k: &[String], id: &str) -> Option<Vec<(String, String)>> {
        let (items, ind) = items(self, k)?;
        items
            .into_iter()
            .map(|(a, b)| {
                let text: String = line::reindent(&self.lines[a..b], -(ind as isize))
                    .iter()
                    .map(|l| format!("{l}\n"))
                    .collect();
                let doc = YamlLoader::load_from_str(&text).ok()?;
                let Some(Yaml::Array(a)) = doc.first() else {
                    return None;
                };
                let [item @ Yaml::Hash(h)] = a.as_slice() else {
                    return None;
                };
                let (_, v) = h.iter().find(|(k, _)| k.as_str() == Some(id))?;
                let v = match v {
                    Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_) => {
                        canon(v)
                    }
                    _ => return None,
                };
                Some((v, canon(item)))
            })
            .collect()
    }

    /// The lines of the merged list (replacing this document's items).
    pub(super) fn list_lines(
        &self,
        k: &[String],
        ours: &YamlDoc,
        picks: &[Pick],
    ) -> Option<(usize, usize, Vec<String>)> {
        let (mine, ind) = items(self, k)?;
        let (theirs, oind) = items(ours, k)?;
        let mut with = Vec::new();
        for p in picks {
            match *p {
                Pick::Theirs(i) => {
                    let (a, b) = mine[i];
                    with.extend(self.lines[a..b].iter().map(|l| line::body(l).to_string()));
                }
                Pick::Ours(i) => {
                    let (a, b) = theirs[i];
                    let delta = ind as isize - oind as isize;
                    with.extend(line::reindent(&ours.lines[a..b], delta));
                }
            }
        }
        Some((mine[0].0, mine[mine.len() - 1].1, with))
    }
}
