//! The three-way rules, once for every structural format.
//!
//! base = previous pristine default, ours = live file, theirs = new default.
//! The result starts as theirs (new layout, comments, keys) and gets the
//! user's changes set into it; every user change is carried, or reported as
//! a conflict (user value kept) or a removal (key gone upstream).

use std::collections::{HashMap, HashSet};

use super::{dotted, Conflict, Doc, Edit, KeyPath, Known, Merged, Moved, ParseFail, Removed};

/// `k` under its new name when a rename covers it (itself or a section above it).
fn renamed(renames: &[(KeyPath, KeyPath)], k: &[String]) -> Option<KeyPath> {
    let (from, to) = renames.iter().find(|(f, _)| k.starts_with(f))?;
    Some(to.iter().chain(&k[from.len()..]).cloned().collect())
}

pub fn merge<D: Doc>(
    base: &D,
    ours: &D,
    theirs: D,
    version_key: Option<&[String]>,
    renames: &[(KeyPath, KeyPath)],
) -> Result<Merged, String> {
    let bl = base.leaves();
    let ol = ours.leaves();
    let tl = theirs.leaves();
    let b: HashMap<&KeyPath, &String> = bl.iter().map(|(k, v)| (k, v)).collect();
    let o: HashMap<&KeyPath, &String> = ol.iter().map(|(k, v)| (k, v)).collect();
    let t: HashMap<&KeyPath, &String> = tl.iter().map(|(k, v)| (k, v)).collect();
    let shown = |v: Option<&&String>| v.map(|s| s.to_string());
    let mut m = Merged::default();
    let mut edits = Vec::new();

    // Keys renamed upstream: the admin's value moves to the new name.
    let mut skip: HashSet<KeyPath> = HashSet::new();
    for (k, ov) in &ol {
        let Some(to) = renamed(renames, k) else {
            continue;
        };
        if t.contains_key(k) || o.contains_key(&to) {
            continue; // not renamed in this release, or the admin uses the new name already
        }
        skip.insert(k.clone());
        if b.get(k) == Some(&ov) {
            continue; // untouched: the new default stands under the new name
        }
        let tv = t.get(&to);
        if tv.is_some_and(|tv| Some(tv) != b.get(k) && *tv != ov) {
            m.conflicts.push(Conflict {
                key: dotted(&to),
                base: shown(b.get(k)),
                yours: Some(ov.clone()),
                new_default: shown(tv),
            });
        }
        edits.push(Edit::Move(k.clone(), to.clone()));
        m.moved.push(Moved {
            from: dotted(k),
            to: dotted(&to),
            your_value: ov.clone(),
        });
        skip.insert(to);
    }

    // Visit keys in the new layout's order, then the user's, then the old default's.
    let mut seen = HashSet::new();
    let order: Vec<&KeyPath> = tl
        .iter()
        .chain(ol.iter())
        .chain(bl.iter())
        .map(|(k, _)| k)
        .filter(|k| seen.insert(*k) && !skip.contains(*k))
        .collect();
    // Sections: an empty section the admin filled is not deleted, and one
    // the admin emptied (YAML `key:` alone reads as null) is not a value.
    let sections = |l: &[(KeyPath, String)]| -> HashSet<KeyPath> {
        l.iter()
            .flat_map(|(k, _)| (1..k.len()).map(move |n| k[..n].to_vec()))
            .collect()
    };
    let (bs, os, ts) = (sections(&bl), sections(&ol), sections(&tl));
    for k in order {
        if version_key == Some(k.as_slice()) {
            continue; // always the new schema version
        }
        let (bv, ov, tv) = (b.get(k), o.get(k), t.get(k));
        let emptied = ov.is_some_and(|v| *v == "null") && bs.contains(k) && ts.contains(k);
        if (ov.is_none() && os.contains(k)) || emptied {
            continue; // its keys are carried one by one
        }
        if ov == bv {
            // Same value, but the admin reworded the line (an inline comment,
            // quoting) and upstream left the key alone: keep the admin's line.
            if ov.is_some() && tv == bv && ours.raw(k) != base.raw(k) {
                edits.push(Edit::Take(k.clone()));
            }
            continue; // untouched by the user: the new default stands
        }
        if tv == bv {
            // Only the user changed it: carry the change (or the deletion).
            edits.push(match ov {
                Some(_) => Edit::Take(k.clone()),
                None => Edit::Remove(k.clone()),
            });
            m.kept.push(dotted(k));
            continue;
        }
        if tv == ov {
            continue; // both made the same change
        }
        if let (Some(ov), None) = (ov, tv) {
            // Gone upstream with no rename declared: the admin's setting is
            // dropped, which the admin must look at.
            m.removed.push(Removed {
                key: dotted(k),
                your_value: ov.to_string(),
            });
        } else {
            edits.push(match ov {
                Some(_) => Edit::Take(k.clone()),
                None => Edit::Remove(k.clone()),
            });
        }
        m.conflicts.push(Conflict {
            key: dotted(k),
            base: shown(bv),
            yours: shown(ov),
            new_default: shown(tv),
        });
    }

    let known: Known = base
        .render()
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(['#', ';']))
        .map(str::to_string)
        .collect();
    // Comment lines the admin added above a key or section the new default
    // also has; a key only the admin has brings its comment along (Take).
    let removed: HashSet<&KeyPath> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Remove(k) => Some(k),
            _ => None,
        })
        .collect();
    let osec: HashSet<KeyPath> = ours.sections().into_iter().collect();
    let targets: Vec<KeyPath> = tl
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| o.contains_key(k) && !removed.contains(k))
        .chain(theirs.sections().into_iter().filter(|k| osec.contains(k)))
        .collect();
    let mut cedits = Vec::new();
    for k in targets {
        let mine = ours.comment(&k);
        if mine.is_empty() || mine == base.comment(&k) {
            continue; // the common case: the admin left the comment alone
        }
        let now = theirs.comment(&k);
        let added: Vec<String> = mine
            .into_iter()
            .filter(|c| !known.contains(c) && !now.contains(c))
            .collect();
        if !added.is_empty() {
            let mut lines = now;
            lines.extend(added);
            cedits.push(Edit::Comment(k, lines));
        }
    }
    // Removals first so a section the user turned into a value (or back) is rebuilt cleanly.
    edits.sort_by_key(|e| !matches!(e, Edit::Remove(_)));
    edits.extend(cedits);
    let mut result = theirs;
    let unplaced = result.apply(&edits, ours, &known);
    m.unplaced = unplaced.iter().map(|k| dotted(k)).collect();
    m.text = result.render();
    // Never hand back a file that does not read back.
    let again = D::parse(&m.text).map_err(|e| match e {
        ParseFail::Syntax(s) => format!("line {}, column {}: {}", s.line, s.col, s.msg),
        ParseFail::Unsupported(u) => u,
    })?;
    let version = |d: &D| -> Option<String> {
        let k = version_key?;
        d.leaves()
            .into_iter()
            .find(|(p, _)| p.as_slice() == k)
            .map(|(_, v)| v)
    };
    m.live_version = version(ours);
    m.new_version = version(&again);
    Ok(m)
}
