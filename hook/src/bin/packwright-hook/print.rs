//! How the binary shows reports as plain lines, and `--json`.

use packwright_hook::command::{self, UpdateReport};
use packwright_hook::package::{self, ConfigReport};
use packwright_hook::upgrade;

pub(crate) fn print_update(r: &UpdateReport) {
    let live = r.live.display();
    match r.action {
        command::UpdateAction::Unchanged => println!("{live}: up to date"),
        command::UpdateAction::Recreated => {
            println!("{live}: was missing, written from the new default")
        }
        command::UpdateAction::Merged => println!("{live}: merged"),
        command::UpdateAction::DryRun => println!("{live}: dry run, nothing written"),
    }
    if !r.kept.is_empty() {
        println!("  kept your changes: {}", r.kept.join(", "));
    }
    for c in &r.conflicts {
        match (&c.yours, &c.new_default) {
            (Some(v), None) => println!(
                "  conflict: {} — removed upstream; your value {v} was dropped (it is in the backup; if the key was renamed, declare the rename)",
                c.key
            ),
            (yours, new) => println!(
                "  conflict: {} — kept yours {}, new default {}",
                c.key,
                yours.as_deref().unwrap_or("(deleted)"),
                new.as_deref().unwrap_or("(none)")
            ),
        }
    }
    for k in &r.moved {
        println!(
            "  moved: your {} = {} is now {} (renamed upstream)",
            k.from, k.your_value, k.to
        );
    }
    for k in &r.unplaced {
        println!("  could not place your change to {k}: see the backup");
    }
    if let Some(n) = &r.note {
        println!("  note: {n}");
    }
    if let Some(n) = &r.new_file {
        println!("  the new default is in {}", n.display());
    }
    if let Some(b) = &r.backup {
        println!("  the previous file is kept as {}", b.display());
    }
    if let Some(d) = &r.diff {
        print!("{d}");
    }
}

pub(crate) fn print_status(s: &[package::FileStatus]) {
    for f in s {
        println!(
            "{} {} ({}): pristine version {}, live version {}{}",
            f.package,
            f.live,
            f.format,
            f.pristine_version.as_deref().unwrap_or("-"),
            f.live_version.as_deref().unwrap_or("-"),
            f.pending_new
                .as_ref()
                .map(|p| format!(", pending {}", p.display()))
                .unwrap_or_default()
        );
        for c in &f.conflicts {
            println!("  unresolved conflict: {}", c.key);
        }
    }
    let mut blocked: Vec<(&str, &str)> = s
        .iter()
        .filter_map(|f| Some((f.package.as_str(), f.blocked.as_deref()?)))
        .collect();
    blocked.dedup();
    for (p, msg) in blocked {
        println!("{p}: BLOCKED, the service will not start: {msg}");
    }
}

pub(crate) fn print_upgrade(r: &upgrade::Report) {
    if let Some(s) = &r.snapshot {
        println!("snapshot before the migrations: {}", s.display());
    }
    for m in &r.migrations {
        println!("migration {} ({}): done", m.version, m.run);
    }
    if r.migrations.is_empty() {
        println!("no migration to run");
    }
    for c in &r.configs {
        print_config(c);
    }
    for p in &r.pruned {
        println!("removed the older snapshot {p}");
    }
    if let Some(e) = &r.prune_error {
        println!("note: old snapshots not removed: {e}");
    }
}

pub(crate) fn init_words(a: command::InitAction) -> &'static str {
    match a {
        command::InitAction::Written => "written",
        command::InitAction::Overwritten => "overwritten (previous file kept as .packwright-old)",
        command::InitAction::KeptExisting => "exists, kept (use --force to replace)",
    }
}

pub(crate) fn print_config(c: &ConfigReport) {
    match c {
        ConfigReport::Init(i) => println!("{}: {}", i.live.display(), init_words(i.action)),
        ConfigReport::Update(u) => print_update(u),
        ConfigReport::Purged { live } => println!("{}: purged", live.display()),
    }
}

pub(crate) mod erased {
    /// Anything the binary prints as JSON.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default()
        }
    }
}

pub(crate) fn print_json(v: &dyn erased::Json) {
    println!("{}", v.json());
}

/// A command's result: `v` as JSON under `--json`, else `words` prints
/// its plain lines (`dyn`: one copy in the static hook, not one per type).
pub(crate) fn emit(json: bool, v: &dyn erased::Json, words: &dyn Fn()) {
    if json {
        print_json(v);
    } else {
        words();
    }
}
