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

use super::{dotted, Conflict, Doc, Edit, KeyPath, Known, Merged, Moved, ParseFail, Pick, Removed};

type Leaves = [(KeyPath, String)];
type Comments<'a> = &'a dyn Fn(&[String]) -> Vec<String>;
type Test<'a> = &'a dyn Fn(&[String]) -> bool;
/// A keyed list and the entries of the result (`None`: as in the new default).
type ListEdit = (KeyPath, Option<Vec<Pick>>);
/// `Doc::entries` of one of the three files (one copy of the list rules).
type Entries<'a> = &'a dyn Fn(&[String], &str) -> Option<Vec<(String, String)>>;

pub fn merge<D: Doc>(
    base: &D,
    ours: &D,
    theirs: D,
    version_key: Option<&[String]>,
    renames: &[(KeyPath, KeyPath)],
    list_keys: &[(KeyPath, String)],
) -> Result<Merged, String> {
    let (bl, ol, tl) = (base.leaves(), ours.leaves(), theirs.leaves());
    let (eb, eo, et) = (
        |k: &[String], id: &str| base.entries(k, id),
        |k: &[String], id: &str| ours.entries(k, id),
        |k: &[String], id: &str| theirs.entries(k, id),
    );
    let (lm, list_edits) = keyed_lists([&eb, &eo, &et], &ol, &tl, list_keys);
    // The keyed lists are merged entry by entry, not as one value.
    let listed: HashSet<&KeyPath> = list_edits.iter().map(|(k, _)| k).collect();
    // Consumed, not copied: the leaves are the largest part of a merge.
    let drop = |l: Vec<(KeyPath, String)>| -> Vec<(KeyPath, String)> {
        if listed.is_empty() {
            return l;
        }
        l.into_iter().filter(|(k, _)| !listed.contains(k)).collect()
    };
    let (bl, ol, tl) = (drop(bl), drop(ol), drop(tl));
    let reworded = |k: &[String]| ours.raw(k) != base.raw(k);
    let documented = |k: &[String]| theirs.documented(k);
    let keys = Keys::new(&bl, &ol, &tl);
    let (mut m, mut edits) = plan(&keys, &ol, version_key, renames, [&reworded, &documented]);
    let known = known(&base.render());
    let (cb, co, ct) = (
        |k: &[String]| base.comment(k),
        |k: &[String]| ours.comment(k),
        |k: &[String]| theirs.comment(k),
    );
    m.conflicts.extend(lm.conflicts);
    m.removed.extend(lm.removed);
    m.kept.extend(lm.kept);
    let lists = list_edits
        .into_iter()
        .filter_map(|(k, picks)| picks.map(|p| Edit::List(k, p)));
    edits.extend(lists);
    let c: [Comments; 3] = [&cb, &co, &ct];
    let secs = (ours.sections(), theirs.sections());
    comments(&keys, &mut edits, secs, &known, c);
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

/// Which file a value or section flag is from.
const B: usize = 0;
const O: usize = 1;
const T: usize = 2;

/// One key of the three files: its value and whether it is a section
/// (a proper prefix of a leaf) in each of base, ours, theirs.
struct Slot<'a> {
    key: &'a [String],
    v: [Option<&'a str>; 3],
    sec: [bool; 3],
    leaf: bool,
}

/// Every key of the three files once, borrowed from their leaves: one hash
/// lookup per key and file, instead of one per question the rules ask.
struct Keys<'a> {
    at: HashMap<&'a [String], usize>,
    slots: Vec<Slot<'a>>,
    /// Leaves in the new layout's order, then the user's, then the old default's.
    order: Vec<usize>,
}

impl<'a> Keys<'a> {
    fn new(bl: &'a Leaves, ol: &'a Leaves, tl: &'a Leaves) -> Self {
        let mut keys = Keys {
            at: HashMap::with_capacity(tl.len() + tl.len() / 4),
            slots: Vec::with_capacity(tl.len() + tl.len() / 4),
            order: Vec::with_capacity(tl.len()),
        };
        for (f, leaves) in [(T, tl), (O, ol), (B, bl)] {
            // Leaves of one section follow each other: its prefixes once.
            let mut parent: Option<&[String]> = None;
            for (k, v) in leaves {
                let n = keys.slot(k);
                let s = &mut keys.slots[n];
                s.v[f] = Some(v);
                if !s.leaf {
                    s.leaf = true;
                    keys.order.push(n);
                }
                let p = &k[..k.len().saturating_sub(1)];
                if parent != Some(p) {
                    for m in 1..k.len() {
                        let n = keys.slot(&k[..m]);
                        keys.slots[n].sec[f] = true;
                    }
                    parent = Some(p);
                }
            }
        }
        keys
    }

    fn slot(&mut self, key: &'a [String]) -> usize {
        let slots = &mut self.slots;
        *self.at.entry(key).or_insert_with(|| {
            slots.push(Slot {
                key,
                v: [None; 3],
                sec: [false; 3],
                leaf: false,
            });
            slots.len() - 1
        })
    }

    /// The value `key` has in file `f`.
    fn value(&self, key: &[String], f: usize) -> Option<&'a str> {
        self.at.get(key).and_then(|&n| self.slots[n].v[f])
    }
}

/// The value edits and the report.
fn plan(
    keys: &Keys,
    ol: &Leaves,
    version_key: Option<&[String]>,
    renames: &[(KeyPath, KeyPath)],
    [reworded, documented]: [Test; 2],
) -> (Merged, Vec<Edit>) {
    let shown = |v: Option<&str>| v.map(str::to_string);
    let mut m = Merged::default();
    let mut edits = Vec::new();

    // Keys renamed upstream: the admin's value moves to the new name.
    let mut skip: HashSet<KeyPath> = HashSet::new();
    for (k, ov) in ol.iter().filter(|_| !renames.is_empty()) {
        let Some(to) = renamed(renames, k) else {
            continue;
        };
        if keys.value(k, T).is_some() || keys.value(&to, O).is_some() {
            continue; // not renamed in this release, or the admin uses the new name already
        }
        skip.insert(k.clone());
        let bv = keys.value(k, B);
        if bv == Some(ov.as_str()) {
            continue; // untouched: the new default stands under the new name
        }
        let tv = keys.value(&to, T);
        if tv.is_some_and(|tv| Some(tv) != bv && tv != ov) {
            m.conflicts.push(Conflict {
                key: dotted(&to),
                base: shown(bv),
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
    for s in keys.order.iter().map(|&n| &keys.slots[n]) {
        let k = s.key;
        if !skip.is_empty() && skip.contains(k) {
            continue;
        }
        if version_key == Some(k) {
            continue; // always the new schema version
        }
        let [bv, ov, tv] = s.v;
        let emptied = ov == Some("null") && s.sec[B] && s.sec[T];
        if (ov.is_none() && s.sec[O]) || emptied {
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
                edits.push(Edit::Take(k.to_vec()));
            }
            continue; // untouched by the user: the new default stands
        }
        if tv == bv || tv != ov {
            edits.push(match ov {
                Some(_) => Edit::Take(k.to_vec()),
                None => Edit::Remove(k.to_vec()),
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
    keys: &Keys,
    edits: &mut Vec<Edit>,
    (osec, tsec): (Vec<KeyPath>, Vec<KeyPath>),
    known: &Known,
    c: [Comments; 3],
) {
    let removed: HashSet<&[String]> = edits
        .iter()
        .filter_map(|e| match e {
            Edit::Remove(k) => Some(k.as_slice()),
            _ => None,
        })
        .collect();
    // The new default's leaves come first in `order`, in its order.
    let leaves = keys
        .order
        .iter()
        .map(|&n| &keys.slots[n])
        .take_while(|s| s.v[T].is_some())
        .filter(|s| s.v[O].is_some() && (removed.is_empty() || !removed.contains(s.key)))
        .map(|s| s.key);
    let osec: HashSet<KeyPath> = osec.into_iter().collect();
    let secs = tsec.iter().filter(|k| osec.contains(*k)).map(Vec::as_slice);
    let mut added_edits = Vec::new();
    for k in leaves.chain(secs) {
        let mine = c[1](k);
        if mine.is_empty() || mine == c[0](k) {
            continue; // the common case: the admin left the comment alone
        }
        let now = c[2](k);
        let added: Vec<String> = mine
            .into_iter()
            .filter(|l| !known.contains(l) && !now.contains(l))
            .collect();
        if !added.is_empty() {
            let mut lines = now;
            lines.extend(added);
            added_edits.push(Edit::Comment(k.to_vec(), lines));
        }
    }
    edits.extend(added_edits);
}

/// Lists of mappings whose entries carry an identifying key: the declared
/// one, else `name`, else `id` (every entry, unique). Each comes back with
/// the entries of the result (`None`: the new default's list as it is).
fn keyed_lists(
    [b, o, t]: [Entries; 3],
    ol: &Leaves,
    tl: &Leaves,
    declared: &[(KeyPath, String)],
) -> (Merged, Vec<ListEdit>) {
    let mut m = Merged::default();
    let mut out = Vec::new();
    // A list's comparable value is `[...]`: only those can be keyed lists.
    let list = |(_, v): &&(KeyPath, String)| v.starts_with('[');
    let in_ours: HashSet<&KeyPath> = ol.iter().filter(list).map(|(k, _)| k).collect();
    for (k, _) in tl.iter().filter(list).filter(|(k, _)| in_ours.contains(k)) {
        let ids: Vec<&str> = match declared.iter().find(|(l, _)| l == k) {
            Some((_, id)) => vec![id.as_str()],
            None => vec!["name", "id"],
        };
        let unique = |e: &Vec<(String, String)>| {
            let mut seen = HashSet::new();
            e.iter().all(|(id, _)| seen.insert(id.clone()))
        };
        let found = ids.into_iter().find_map(|id| {
            let (te, oe) = (t(k, id)?, o(k, id)?);
            let be = b(k, id).unwrap_or_default();
            (unique(&te) && unique(&oe) && unique(&be)).then_some((be, oe, te))
        });
        if let Some((be, oe, te)) = found {
            let picks = entry_picks(&dotted(k), [&be, &oe, &te], &mut m);
            let same = picks.len() == te.len()
                && picks.iter().enumerate().all(|(i, p)| *p == Pick::Theirs(i));
            out.push((k.clone(), (!same).then_some(picks)));
        }
    }
    (m, out)
}

/// The three-way rules per entry: the admin's changed, added or deleted
/// entries are kept so, upstream's new ones arrive; an entry upstream
/// removed that the admin had changed is reported (removed, conflict).
fn entry_picks(list: &str, [be, oe, te]: [&Vec<(String, String)>; 3], m: &mut Merged) -> Vec<Pick> {
    let find = |e: &[(String, String)], id: &str| e.iter().position(|(i, _)| i == id);
    let name = |id: &str| format!("{list}[{id}]");
    let conflict =
        |m: &mut Merged, id: &str, b: Option<&String>, o: Option<&String>, t: Option<&String>| {
            m.conflicts.push(Conflict {
                key: name(id),
                base: b.cloned(),
                yours: o.cloned(),
                new_default: t.cloned(),
            })
        };
    let mut picks = Vec::new();
    for (i, (id, tv)) in te.iter().enumerate() {
        let bv = find(be, id).map(|n| &be[n].1);
        let Some(oi) = find(oe, id) else {
            if bv.is_some() {
                // The admin deleted it: it stays deleted.
                if bv != Some(tv) {
                    conflict(m, id, bv, None, Some(tv));
                }
                m.kept.push(name(id));
            } else {
                picks.push(Pick::Theirs(i)); // new upstream
            }
            continue;
        };
        let ov = &oe[oi].1;
        if ov == tv || bv == Some(ov) {
            picks.push(Pick::Theirs(i));
            continue;
        }
        picks.push(Pick::Ours(oi));
        if bv == Some(tv) {
            m.kept.push(name(id));
        } else {
            conflict(m, id, bv, Some(ov), Some(tv));
        }
    }
    for (oi, (id, ov)) in oe.iter().enumerate() {
        if find(te, id).is_some() {
            continue;
        }
        match find(be, id).map(|n| &be[n].1) {
            None => {
                picks.push(Pick::Ours(oi)); // the admin's own entry
                m.kept.push(name(id));
            }
            Some(bv) if bv == ov => {} // removed upstream, untouched by the admin
            Some(bv) => {
                m.removed.push(Removed {
                    key: name(id),
                    your_value: ov.clone(),
                });
                conflict(m, id, Some(bv), Some(ov), None);
            }
        }
    }
    picks
}
