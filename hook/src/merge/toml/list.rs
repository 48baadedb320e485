//! Keyed lists in TOML: an array of tables rebuilt from the picked entries
//! of the new default and of the live file, each entry with its comments
//! (those after its last key sit in the decor of the header that follows).

use toml_edit::{ArrayOfTables, Item, Table};

use super::super::{KeyPath, Pick};
use super::{headers, split_prefix, table_mut, TomlDoc};

impl TomlDoc {
    /// Rebuild the array of tables at `k` from the picked entries; the
    /// admin's come with their comments, placed after the entry before them.
    pub(super) fn set_list(&mut self, k: &[String], ours: &Self, picks: &[Pick]) -> bool {
        let (Some(Item::ArrayOfTables(mine)), Some(Item::ArrayOfTables(theirs))) =
            (self.item(k).cloned(), ours.item(k))
        else {
            return false;
        };
        // Comment lines after an entry's last key (its commented-out
        // options) are in the decor of the next header: they go with the
        // entry, and each header keeps only the block directly above it.
        let mut list = ArrayOfTables::new();
        let mut above = mine
            .get(0)
            .map(|t| split_prefix(&header_prefix(t)).0.to_string())
            .unwrap_or_default();
        let mut last_tail = None;
        for (n, p) in picks.iter().enumerate() {
            let (mut t, next) = match *p {
                Pick::Theirs(i) => (mine.get(i).expect("picked").clone(), self.list_tail(k, i)),
                Pick::Ours(i) => {
                    let mut t = theirs.get(i).expect("picked").clone();
                    unposition(&mut t);
                    (t, ours.list_tail(k, i))
                }
            };
            let (head, own) = {
                let p = header_prefix(&t);
                let (h, o) = split_prefix(&p);
                (h.to_string(), o.to_string())
            };
            if above.is_empty() {
                // After what was the last entry: set off as the entry was.
                above = head
                    .lines()
                    .filter(|l| l.trim().is_empty())
                    .map(|_| "\n")
                    .collect();
            }
            t.decor_mut().set_prefix(format!("{above}{own}"));
            if n + 1 == picks.len() && *p != Pick::Theirs(mine.len() - 1) {
                last_tail = Some(next.clone());
            }
            above = next;
            list.push(t);
        }
        if let Some(tail) = last_tail {
            self.set_list_tail(k, tail);
        }
        let (last, parent) = k.split_last().expect("a list has a name");
        match table_mut(self.doc.as_table_mut(), parent) {
            Some(t) => {
                t.insert(last, Item::ArrayOfTables(list));
                true
            }
            None => false,
        }
    }

    pub(super) fn list_len(&self, k: &[String]) -> usize {
        match self.item(k) {
            Some(Item::ArrayOfTables(a)) => a.len(),
            _ => 0,
        }
    }

    /// Where the comment lines after the last entry of the list at `k` are:
    /// the next `[header]`'s decor, or the end of the file (`None`).
    fn after_list(&self, k: &[String]) -> Option<KeyPath> {
        let Some(Item::ArrayOfTables(a)) = self.item(k) else {
            return None;
        };
        let end = a.iter().filter_map(Table::position).max().unwrap_or(-1);
        let mut all = Vec::new();
        headers(self.doc.as_table(), &mut Vec::new(), &mut all);
        let next = all.into_iter().filter(|(p, _)| *p > end).min();
        next.map(|(_, p)| p)
    }

    /// The lines after entry `i`'s last key, up to the last blank line
    /// before what follows (its commented-out options).
    pub(super) fn list_tail(&self, k: &[String], i: usize) -> String {
        let Some(Item::ArrayOfTables(a)) = self.item(k) else {
            return String::new();
        };
        let text = match (a.get(i + 1), self.after_list(k)) {
            (Some(t), _) => header_prefix(t),
            (None, Some(p)) => self.decor_text(&Some(p)),
            (None, None) => return self.decor_text(&None), // the end of the file
        };
        split_prefix(&text).0.to_string()
    }

    pub(super) fn set_list_tail(&mut self, k: &[String], tail: String) {
        match self.after_list(k) {
            Some(p) => {
                let own = split_prefix(&self.decor_text(&Some(p.clone())))
                    .1
                    .to_string();
                self.set_prefix(&p, format!("{tail}{own}"));
            }
            None => self.doc.set_trailing(tail),
        }
    }
}

pub(super) fn header_prefix(t: &Table) -> String {
    let p = t.decor().prefix().and_then(|p| p.as_str());
    p.unwrap_or("").to_string()
}

/// A table from another document follows the table written before it.
fn unposition(t: &mut Table) {
    t.set_position(None);
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(sub) => unposition(sub),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(unposition),
            _ => {}
        }
    }
}
