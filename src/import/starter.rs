//! `packwright init` outside a Cargo project: a starter manifest that
//! passes `packwright check` as it is, with the README's other keys in
//! comments to uncomment.

/// The starter for a project called `name` (the directory's name).
pub fn starter(name: &str) -> String {
    let name = package_name(name);
    format!(
        r#"# packwright manifest: `packwright check` validates it, `packwright build`
# writes every format into dist/. Keys: the README's "Manifest reference".

[package]
name = "{name}"                 # lowercase letters, digits, + - .
version = "${{VERSION:-0.1.0}}"   # upstream version
release = "1"                   # packaging revision
summary = "TODO: one line that says what {name} is"
# description = """
# Longer text, several lines."""
maintainer = "TODO <{name}@example.invalid>"
# vendor = "Example Org"
# homepage = "https://example.org/{name}"
license = "TODO-SPDX-name"      # e.g. MIT, Apache-2.0; and/or license-file = "LICENSE"
arch = "x86_64"                 # x86_64 | aarch64 | armv7 | i686 | riscv64 | all
# changelog = "CHANGELOG.md"

# [relations]                   # [relations.deb], [relations.rpm], … replace these per format
# depends = ["libc6 (>= 2.34)"]
# recommends = []
# conflicts = []
# provides = []
# replaces = []

# [[files]]
# src = "target/release/{name}"   # a file, a directory or a glob
# dst = "/usr/bin/{name}"         # a trailing "/" means "into this directory"
# mode = "0755"

# [[dirs]]
# path = "/var/lib/{name}"
# mode = "0750"
# owner = "{name}"
# group = "{name}"

# [[symlinks]]
# path = "/usr/sbin/{name}"
# target = "/usr/bin/{name}"

# [[config]]                    # a config file packwright-hook owns and merges on upgrade
# src = "config/config.yaml"
# dst = "/etc/{name}/config.yaml"

# [[users]]
# name = "{name}"
# home = "/var/lib/{name}"

# [[systemd]]
# unit = "systemd/{name}.service"

# [upgrade]
# stops = []                    # breaking releases an upgrade may not jump over
# data-dirs = ["/var/lib/{name}"]

# [scripts]                     # the product's own steps, run as `sh -s -- <event> <old> <new>`
# post-install = "scripts/post-install.sh"

# [format.deb]
# section = "misc"
"#
    )
}

/// A directory name as a package name: lowercase, other characters as `-`.
fn package_name(dir: &str) -> String {
    let mut n: String = dir
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || "+-.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    n = n
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if n.is_empty() {
        "myproduct".into()
    } else {
        n
    }
}
