//! The three-way rules, once for every structural format.
//!
//! base = previous pristine default, ours = live file, theirs = new default.
//! The result starts as theirs (new layout, comments, keys) and gets the
//! user's changes set into it; every user change is carried, or reported as
//! a conflict (user value kept) or a removal (key gone upstream).

use std::collections::{HashMap, HashSet};

use super::{dotted, Conflict, Doc, Edit, KeyPath, Merged, Removed};

pub fn merge<D: Doc>(
    base: &D,
    ours: &D,
    theirs: D,
    version_key: Option<&[String]>,
) -> Result<Merged, String> {
    let bl = base.leaves();
    let ol = ours.leaves();
    let tl = theirs.leaves();
    let b: HashMap<&KeyPath, &String> = bl.iter().map(|(k, v)| (k, v)).collect();
    let o: HashMap<&KeyPath, &String> = ol.iter().map(|(k, v)| (k, v)).collect();
    let t: HashMap<&KeyPath, &String> = tl.iter().map(|(k, v)| (k, v)).collect();

    // Visit keys in the new layout's order, then the user's, then the old default's.
    let mut seen = HashSet::new();
    let order: Vec<&KeyPath> = tl
        .iter()
        .chain(ol.iter())
        .chain(bl.iter())
        .map(|(k, _)| k)
        .filter(|k| seen.insert(*k))
        .collect();

    let mut m = Merged::default();
    let mut edits = Vec::new();
    let shown = |v: Option<&&String>| v.map(|s| s.to_string());
    for k in order {
        if version_key == Some(k.as_slice()) {
            continue; // always the new schema version
        }
        let (bv, ov, tv) = (b.get(k), o.get(k), t.get(k));
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
        match (ov, tv) {
            (Some(ov), None) => m.removed.push(Removed {
                key: dotted(k),
                your_value: ov.to_string(),
            }),
            _ => {
                edits.push(match ov {
                    Some(_) => Edit::Take(k.clone()),
                    None => Edit::Remove(k.clone()),
                });
                m.conflicts.push(Conflict {
                    key: dotted(k),
                    base: shown(bv),
                    yours: shown(ov),
                    new_default: shown(tv),
                });
            }
        }
    }

    // Comment lines the admin added above a key the new default also has; a
    // key only the admin has brings its comment along with it (Take).
    let removed: HashSet<&KeyPath> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Remove(k) => Some(k),
            _ => None,
        })
        .collect();
    let mut cedits = Vec::new();
    for (k, _) in &tl {
        if !o.contains_key(k) || removed.contains(k) {
            continue;
        }
        let mine = ours.comment(k);
        if mine.is_empty() {
            continue;
        }
        let before = base.comment(k);
        if mine == before {
            continue; // the common case: the admin left the comment alone
        }
        let before: HashSet<String> = before.into_iter().collect();
        let now = theirs.comment(k);
        let added: Vec<String> = mine
            .into_iter()
            .filter(|c| !before.contains(c) && !now.contains(c))
            .collect();
        if !added.is_empty() {
            let mut lines = now;
            lines.extend(added);
            cedits.push(Edit::Comment(k.clone(), lines));
        }
    }
    // Removals first so a section the user turned into a value (or back) is rebuilt cleanly.
    edits.sort_by_key(|e| !matches!(e, Edit::Remove(_)));
    edits.extend(cedits);
    let mut result = theirs;
    let unplaced = result.apply(&edits, ours);
    m.unplaced = unplaced.iter().map(|k| dotted(k)).collect();
    m.text = result.render();
    // Never hand back a file that does not read back.
    D::parse(&m.text).map_err(|e| format!("{e:?}"))?;
    let version = |d: &D| -> Option<String> {
        let k = version_key?;
        d.leaves()
            .into_iter()
            .find(|(p, _)| p.as_slice() == k)
            .map(|(_, v)| v)
    };
    m.live_version = version(ours);
    m.new_version = version(&result);
    Ok(m)
}
