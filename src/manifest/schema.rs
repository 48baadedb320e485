//! The raw manifest, exactly as the user writes it. No checking beyond serde's
//! types happens here: `plan` does the rest, so errors keep the user's words.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    pub package: Package,
    #[serde(default)]
    pub relations: Relations,
    #[serde(default)]
    pub files: Vec<File>,
    #[serde(default)]
    pub dirs: Vec<Dir>,
    #[serde(default)]
    pub symlinks: Vec<Symlink>,
    #[serde(default)]
    pub config: Vec<Config>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub systemd: Vec<Systemd>,
    pub upgrade: Option<Upgrade>,
    #[serde(default)]
    pub migrations: Vec<Migration>,
    #[serde(default)]
    pub scripts: Scripts,
    pub hook: Option<Hook>,
    #[serde(default)]
    pub format: Formats,
    /// Defaults for `packwright publish`; its flags override them.
    pub publish: Option<Publish>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(default = "one")]
    pub release: String,
    pub epoch: Option<u32>,
    pub summary: String,
    pub description: Option<String>,
    pub maintainer: String,
    pub vendor: Option<String>,
    pub homepage: Option<String>,
    pub license: Option<String>,
    pub license_file: Option<String>,
    #[serde(default = "default_arch")]
    pub arch: String,
    pub changelog: Option<String>,
}

fn one() -> String {
    "1".into()
}

fn default_arch() -> String {
    "x86_64".into()
}

/// The relation lists. The top level applies to every format; a sub-table
/// named after a format replaces the lists it sets for that format only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Relations {
    pub depends: Option<Vec<String>>,
    pub recommends: Option<Vec<String>>,
    pub suggests: Option<Vec<String>>,
    pub conflicts: Option<Vec<String>>,
    pub provides: Option<Vec<String>>,
    pub replaces: Option<Vec<String>>,
    pub deb: Option<RelationLists>,
    pub rpm: Option<RelationLists>,
    pub pacman: Option<RelationLists>,
    pub apk: Option<RelationLists>,
}

impl Relations {
    pub fn common(&self) -> RelationLists {
        RelationLists {
            depends: self.depends.clone(),
            recommends: self.recommends.clone(),
            suggests: self.suggests.clone(),
            conflicts: self.conflicts.clone(),
            provides: self.provides.clone(),
            replaces: self.replaces.clone(),
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RelationLists {
    pub depends: Option<Vec<String>>,
    pub recommends: Option<Vec<String>>,
    pub suggests: Option<Vec<String>>,
    pub conflicts: Option<Vec<String>>,
    pub provides: Option<Vec<String>>,
    pub replaces: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct File {
    pub src: String,
    pub dst: String,
    /// Package what symlinks in `src` point to instead of the links.
    #[serde(default)]
    pub follow_symlinks: bool,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub only: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dir {
    pub path: String,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub only: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Symlink {
    pub path: String,
    pub target: String,
    pub only: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub src: String,
    pub dst: String,
    pub format: Option<String>,
    pub version_key: Option<String>,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Keys renamed upstream, old → new (dotted), for the three-way merge.
    #[serde(default)]
    pub renames: std::collections::BTreeMap<String, String>,
    /// List (dotted) → the key identifying its entries, for the merge of
    /// lists of tables whose entries are not identified by `name` or `id`.
    #[serde(default)]
    pub list_keys: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct User {
    pub name: String,
    pub group: Option<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
    pub system: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Systemd {
    pub unit: String,
    #[serde(default = "yes")]
    pub enable: bool,
    #[serde(default = "yes")]
    pub start: bool,
    #[serde(default = "yes")]
    pub restart_on_upgrade: bool,
    /// packwright's drop-in for a service: `EnvironmentFile=` for the env
    /// configs, `ExecStartPre=` the hook's check.
    #[serde(default = "yes")]
    pub drop_in: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Upgrade {
    #[serde(default)]
    pub stops: Vec<String>,
    pub policy: Option<String>,
    #[serde(default)]
    pub allow_downgrade: bool,
    #[serde(default)]
    pub data_dirs: Vec<String>,
    pub backup_keep: Option<u32>,
    /// Whether a purge (deb) also deletes the data dirs; default: keep them.
    #[serde(default)]
    pub purge_data: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Publish {
    /// Retention: the newest N versions stay (stops always stay).
    pub keep: Option<usize>,
    pub name: Option<String>,
    pub suite: Option<String>,
    pub component: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Migration {
    pub version: String,
    pub run: String,
    pub timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scripts {
    pub pre_install: Option<String>,
    pub post_install: Option<String>,
    pub pre_upgrade: Option<String>,
    pub post_upgrade: Option<String>,
    pub pre_remove: Option<String>,
    pub post_remove: Option<String>,
    pub purge: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Hook {
    pub binary: Option<String>,
}

/// `[format.<name>]` tables. Every format accepts the same keys; a writer
/// ignores what it has no use for (e.g. `section` outside deb is documented
/// as deb-only and rejected by `plan` elsewhere).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Formats {
    pub deb: Option<FormatOptions>,
    pub rpm: Option<FormatOptions>,
    pub pacman: Option<FormatOptions>,
    pub apk: Option<FormatOptions>,
    pub zip: Option<FormatOptions>,
    pub targz: Option<FormatOptions>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FormatOptions {
    /// Replaces `package.release` for this format (`1~bookworm`, `1.el9`).
    pub release: Option<String>,
    pub compression: Option<String>,
    pub level: Option<i32>,
    pub section: Option<String>,
    pub priority: Option<String>,
    pub group: Option<String>,
    pub target: Option<String>,
    pub arch: Option<String>,
    pub distribution: Option<String>,
    /// The packwright-hook binary for this format's target (replaces
    /// `[hook] binary`; the portable archives carry a hook only with this).
    pub hook: Option<String>,
    /// Extra free-form metadata fields, passed through as written.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}
