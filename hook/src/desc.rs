//! The package description the builder writes to
//! `/usr/share/<pkg>/packwright/package.json`: which configs the hook owns and
//! the upgrade policy. The builder serializes this same struct.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{HookError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDesc {
    pub package: String,
    /// The upstream version, e.g. `3.5.0` (no packaging revision).
    pub version: String,
    #[serde(default)]
    pub configs: Vec<ConfigDesc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeDesc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<MigrationDesc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigDesc {
    /// The live file, e.g. `/etc/imsrv/config.yaml`.
    pub live: String,
    /// The shipped default/template, e.g. `/usr/share/imsrv/defaults/config.yaml`.
    pub default: String,
    /// yaml | toml | json | env | ini | text; from the extension when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// Dotted path of the schema version inside the file.
    #[serde(default)]
    pub version_key: Option<String>,
    /// Octal, e.g. "0640".
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Keys renamed upstream, old → new (dotted): the admin's value moves.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renames: BTreeMap<String, String>,
    /// List (dotted) → the key identifying its entries, for lists where
    /// it is not `name` or `id`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub list_keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeDesc {
    #[serde(default)]
    pub stops: Vec<String>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub allow_downgrade: bool,
    /// Absolute paths snapshotted before migrations (relative ones resolve
    /// against the install dir of an unpacked archive, see `site`).
    #[serde(default)]
    pub data_dirs: Vec<String>,
    /// Snapshots kept after a successful upgrade; none means 2.
    #[serde(default)]
    pub backup_keep: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationDesc {
    pub version: String,
    pub run: String,
    /// Seconds; none means the default of 3600.
    #[serde(default)]
    pub timeout: Option<u64>,
}

impl PackageDesc {
    /// `<root>/usr/share/<pkg>/packwright/package.json`.
    pub fn path(root: &Path, package: &str) -> PathBuf {
        super::contract::under(root, &super::contract::desc_path(package))
    }

    pub fn load(root: &Path, package: &str) -> Result<PackageDesc> {
        let path = Self::path(root, package);
        if !path.exists() {
            return Err(HookError::invalid(
                &path,
                format!("package {package} has no packwright description"),
            ));
        }
        Self::load_file(&path)
    }

    /// A description anywhere (an unpacked zip/tar.gz: `--desc FILE`).
    pub fn load_file(path: &Path) -> Result<PackageDesc> {
        let text = super::fsio::read(path)?
            .ok_or_else(|| HookError::invalid(path, "no such package description"))?;
        serde_json::from_str(&text).map_err(|e| HookError::Syntax {
            path: path.into(),
            line: e.line(),
            col: e.column(),
            msg: e.to_string(),
        })
    }
}

impl ConfigDesc {
    /// The declared mode, parsed from octal text.
    pub fn mode_bits(&self) -> Result<Option<u32>> {
        self.mode
            .as_deref()
            .map(|m| {
                u32::from_str_radix(m.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|b| *b <= 0o7777)
                    .ok_or_else(|| {
                        HookError::invalid(
                            &self.live,
                            format!("mode {m:?} is not octal like \"0640\""),
                        )
                    })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example() {
        let j = r#"{"package":"imsrv","version":"3.5.0","configs":[{"live":"/etc/imsrv/config.yaml","default":"/usr/share/imsrv/defaults/config.yaml","format":"yaml","version_key":"version","mode":"0640","owner":"root","group":"imsrv"}],"upgrade":{"stops":["3.4.0","3.5.0"],"policy":null,"allow_downgrade":false,"data_dirs":["/var/lib/imsrv"],"backup_keep":2},"migrations":[{"version":"3.5.0","run":"/usr/share/imsrv/migrations/3.5.0/3.5.0-mysql-to-mongo.sh","timeout":null}]}"#;
        let d: PackageDesc = serde_json::from_str(j).unwrap();
        assert_eq!(d.configs[0].mode_bits().unwrap(), Some(0o640));
        assert_eq!(d.upgrade.as_ref().unwrap().backup_keep, Some(2));
        assert_eq!(d.migrations[0].version, "3.5.0");
        let back: PackageDesc = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        let min: PackageDesc =
            serde_json::from_str(r#"{"package":"p","version":"1","configs":[]}"#).unwrap();
        assert!(min.upgrade.is_none() && min.migrations.is_empty());
    }
}
