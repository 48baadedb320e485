//! The three-way rules, once for every structural format.
//!
//! base = previous pristine default, ours = live file, theirs = new default.
//! The result starts as theirs (new layout, comments, keys) and gets the
//! user's changes set into it; every user change is carried, or reported as
//! a conflict (user value kept) or a removal (key gone upstream).
//!
//! Only `merge` is generic over the format; the rules work on leaves and
//! callbacks, so the hook carries one copy of them, not one per format.

use std::collections::{HashMap, HashSet};

use super::{dotted, Conflict, Doc, Edit, KeyPath, Known, Merged, Moved, ParseFail, Removed};

type Leaves = [(KeyPath, String)];
type Comments<'a> = &'a dyn Fn(&[String]) -> Vec<String>;

pub fn merge<D: Doc>(
    base: &D,
    ours: &D,
    theirs: D,
    version_key: Option<&[String]>,
    renames: &[(KeyPath, KeyPath)],
) -> Result<Merged, String> {
    let (bl, ol, tl) = (base.leaves(), ours.leaves(), theirs.leaves());
    let reworded = |k: &[String]| ours.raw(k) != base.raw(k);
    let documented = |k: &[String]| theirs.documented(k);
    let (mut m, mut edits) = plan(
        &bl,
        &ol,
        &tl,
        version_key,
        renames,
        [&reworded, &documented],
    );
    let known = known(&base.render());
    let (cb, co, ct) = (
        |k: &[String]| base.comment(k),
        |k: &[String]| ours.comment(k),
        |k: &[String]| theirs.comment(k),
    );
    let c: [Comments; 3] = [&cb, &co, &ct];
    let secs = (ours.sections(), theirs.sections());
    comments(&tl, &ol, &mut edits, secs, &known, c);
    let mut result = theirs;
    let unplaced = result.apply(&edits, ours, &known);
    m.unplaced = unplaced.iter().map(|k| dotted(k)).collect();
    m.text = result.render();
    // Never hand back a file that does not read back.
    let again = D::parse(&m.text).map_err(|e| match e {
        ParseFail::Syntax(s) => format!("line {}, column {}: {}", s.line, s.col, s.msg),
        ParseFail::Unsupported(u) => u,
    })?;
    if let Some(k) = version_key {
        let at = |l: Vec<(KeyPath, String)>| l.into_iter().find(|(p, _)| p == k).map(|(_, v)| v);
        m.live_version = at(ol);
        m.new_version = at(again.leaves());
    }
    Ok(m)
}

/// Comment lines of the base file, trimmed: upstream's, never the admin's.
fn known(base: &str) -> Known {
    let lines = base.lines().map(str::trim);
    lines
        .filter(|l| l.starts_with(['#', ';']))
        .map(str::to_string)
        .collect()
}

/// `k` under its new name when a rename covers it (itself or a section above it).
fn renamed(renames: &[(KeyPath, KeyPath)], k: &[String]) -> Option<KeyPath> {
    let (from, to) = renames.iter().find(|(f, _)| k.starts_with(f))?;
    Some(to.iter().chain(&k[from.len()..]).cloned().collect())
}

/// Every proper prefix of the leaves: the sections.
fn sections(l: &Leaves) -> HashSet<KeyPath> {
    l.iter()
        .flat_map(|(k, _)| (1..k.len()).map(move |n| k[..n].to_vec()))
        .collect()
}

/// The value edits and the report.
fn plan(
    bl: &Leaves,
    ol: &Leaves,
    tl: &Leaves,
    version_key: Option<&[String]>,
    renames: &[(KeyPath, KeyPath)],
    [reworded, documented]: [&dyn Fn(&[String]) -> bool; 2],
) -> (Merged, Vec<Edit>) {
    let map = |l: &'_ Leaves| -> HashMap<KeyPath, String> { l.iter().cloned().collect() };
    let (b, o, t) = (map(bl), map(ol), map(tl));
    let shown = |v: Option<&String>| v.cloned();
    let mut m = Merged::default();
    let mut edits = Vec::new();

    // Keys renamed upstream: the admin's value moves to the new name.
    let mut skip: HashSet<KeyPath> = HashSet::new();
    for (k, ov) in ol {
        let Some(to) = renamed(renames, k) else {
            continue;
        };
        if t.contains_key(k) || o.contains_key(&to) {
            continue; // not renamed in this release, or the admin uses the new name already
        }
        skip.insert(k.clone());
        if b.get(k) == Some(ov) {
            continue; // untouched: the new default stands under the new name
        }
        let tv = t.get(&to);
        if tv.is_some_and(|tv| Some(tv) != b.get(k) && tv != ov) {
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

    // Sections: an empty section the admin filled is not deleted, and one
    // the admin emptied (YAML `key:` alone reads as null) is not a value.
    let (bs, os, ts) = (sections(bl), sections(ol), sections(tl));
    // Visit keys in the new layout's order, then the user's, then the old default's.
    let mut seen = HashSet::new();
    let order = tl.iter().chain(ol).chain(bl).map(|(k, _)| k);
    for k in order.filter(|k| seen.insert(*k) && !skip.contains(*k)) {
        if version_key == Some(k.as_slice()) {
            continue; // always the new schema version
        }
        let (bv, ov, tv) = (b.get(k), o.get(k), t.get(k));
        let emptied = ov.is_some_and(|v| v == "null") && bs.contains(k) && ts.contains(k);
        if (ov.is_none() && os.contains(k)) || emptied {
            continue; // its keys are carried one by one
        }
        if ov.is_none() && bv == tv && documented(k) {
            // The admin deleted a section that holds only upstream's
            // commented-out options: nothing of value, and its
            // documentation stays (an empty TOML table is kept the same way).
            continue;
        }
        if ov == bv {
            // Same value, but the admin reworded the line (an inline comment,
            // quoting) and upstream left the key alone: keep the admin's line.
            if ov.is_some() && tv == bv && reworded(k) {
                edits.push(Edit::Take(k.clone()));
            }
            continue; // untouched by the user: the new default stands
        }
        if tv == bv || tv != ov {
            edits.push(match ov {
                Some(_) => Edit::Take(k.clone()),
                None => Edit::Remove(k.clone()),
            });
        }
        if tv == bv {
            m.kept.push(dotted(k)); // only the user changed it
            continue;
        }
        if tv == ov {
            continue; // both made the same change
        }
        if let (Some(ov), None) = (ov, tv) {
            // Gone upstream with no rename declared: the admin's setting is
            // dropped, which the admin must look at.
            edits.pop();
            m.removed.push(Removed {
                key: dotted(k),
                your_value: ov.to_string(),
            });
        }
        m.conflicts.push(Conflict {
            key: dotted(k),
            base: shown(bv),
            yours: shown(ov),
            new_default: shown(tv),
        });
    }
    // Removals first so a section the user turned into a value (or back) is rebuilt cleanly.
    edits.sort_by_key(|e| !matches!(e, Edit::Remove(_)));
    (m, edits)
}

/// Comment lines the admin added above a key or section the new default
/// also has (`c` = base, ours, theirs); a key only the admin has brings its
/// comment along with it (Take).
fn comments(
    tl: &Leaves,
    ol: &Leaves,
    edits: &mut Vec<Edit>,
    (osec, tsec): (Vec<KeyPath>, Vec<KeyPath>),
    known: &Known,
    c: [Comments; 3],
) {
    let removed: HashSet<&KeyPath> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Remove(k) => Some(k),
            _ => None,
        })
        .collect();
    let o: HashSet<&KeyPath> = ol.iter().map(|(k, _)| k).collect();
    let leaves = tl
        .iter()
        .map(|(k, _)| k)
        .filter(|k| o.contains(k) && !removed.contains(k));
    let osec: HashSet<KeyPath> = osec.into_iter().collect();
    let targets: Vec<KeyPath> = leaves
        .cloned()
        .chain(tsec.into_iter().filter(|k| osec.contains(k)))
        .collect();
    for k in targets {
        let mine = c[1](&k);
        if mine.is_empty() || mine == c[0](&k) {
            continue; // the common case: the admin left the comment alone
        }
        let now = c[2](&k);
        let added: Vec<String> = mine
            .into_iter()
            .filter(|l| !known.contains(l) && !now.contains(l))
            .collect();
        if !added.is_empty() {
            let mut lines = now;
            lines.extend(added);
            edits.push(Edit::Comment(k, lines));
        }
    }
}
