//! The rpm header's tags: package data, file arrays, scriptlets,
//! dependencies and payload description.

use super::deps::{self, Dep, Sense};
use super::payload::Files;
use crate::archive::Compression;
use crate::lifecycle::rpm::{self as life, Slot};
use crate::plan::Package;
use rpm::{HeaderEntry, IndexData, IndexTag};

/// The Group when `[format.rpm] group` is unset: an entry of rpm's classic
/// GROUPS list. Not "Unspecified", which rpmlint reports as no group at all.
const DEFAULT_GROUP: &str = "Applications/System";

/// Header entries under construction.
#[derive(Default)]
pub(super) struct Tags(pub Vec<HeaderEntry>);

impl Tags {
    fn put(&mut self, tag: IndexTag, data: IndexData) {
        self.0.retain(|e| e.tag != tag as u32);
        self.0.push(HeaderEntry::new(tag as u32, data));
    }
    fn s(&mut self, tag: IndexTag, v: &str) {
        self.put(tag, IndexData::StringTag(v.to_string()));
    }
    fn i18n(&mut self, tag: IndexTag, v: &str) {
        self.put(tag, IndexData::I18NString(vec![v.to_string()]));
    }
    fn strings(&mut self, tag: IndexTag, v: Vec<String>) {
        self.put(tag, IndexData::StringArray(v));
    }
    fn ints(&mut self, tag: IndexTag, v: Vec<u32>) {
        self.put(tag, IndexData::Int32(v));
    }

    pub(super) fn main(
        &mut self,
        pkg: &Package,
        evr: &str,
        arch: &str,
        mtime: u32,
        fields: &[(IndexTag, String)],
    ) {
        let m = &pkg.meta;
        self.strings(IndexTag::RPMTAG_HEADERI18NTABLE, vec!["C".into()]);
        self.s(IndexTag::RPMTAG_NAME, &m.name);
        self.s(IndexTag::RPMTAG_VERSION, &m.version);
        self.s(IndexTag::RPMTAG_RELEASE, &m.release);
        if let Some(e) = m.epoch {
            self.ints(IndexTag::RPMTAG_EPOCH, vec![e]);
        }
        self.i18n(IndexTag::RPMTAG_SUMMARY, &summary(&m.summary));
        self.i18n(IndexTag::RPMTAG_DESCRIPTION, &m.description);
        self.ints(IndexTag::RPMTAG_BUILDTIME, vec![mtime]);
        // A fixed build host: the real one would make builds differ.
        self.s(IndexTag::RPMTAG_BUILDHOST, "packwright");
        self.s(
            IndexTag::RPMTAG_LICENSE,
            m.license.as_deref().unwrap_or("LicenseRef-Custom"),
        );
        self.s(IndexTag::RPMTAG_PACKAGER, &m.maintainer);
        self.s(
            IndexTag::RPMTAG_VENDOR,
            m.vendor.as_deref().unwrap_or(&m.maintainer),
        );
        self.i18n(
            IndexTag::RPMTAG_GROUP,
            pkg.options.group.as_deref().unwrap_or(DEFAULT_GROUP),
        );
        if let Some(u) = &m.homepage {
            self.s(IndexTag::RPMTAG_URL, u);
        }
        if let Some(d) = &pkg.options.distribution {
            self.s(IndexTag::RPMTAG_DISTRIBUTION, d);
        }
        self.s(IndexTag::RPMTAG_OS, "linux");
        self.s(IndexTag::RPMTAG_ARCH, arch);
        self.s(
            IndexTag::RPMTAG_RPMVERSION,
            concat!("packwright ", env!("CARGO_PKG_VERSION")),
        );
        self.s(IndexTag::RPMTAG_ENCODING, "utf-8");
        // Its presence is what marks a binary (not source) package to rpm.
        self.s(
            IndexTag::RPMTAG_SOURCERPM,
            &format!("{}-{}-{}.src.rpm", m.name, m.version, m.release),
        );
        let (time, name, text) = changelog(pkg, evr);
        self.ints(IndexTag::RPMTAG_CHANGELOGTIME, vec![time]);
        self.strings(IndexTag::RPMTAG_CHANGELOGNAME, vec![name]);
        self.strings(IndexTag::RPMTAG_CHANGELOGTEXT, vec![text]);
        for (tag, v) in fields {
            self.s(*tag, v);
        }
    }

    pub(super) fn files(&mut self, f: &Files, mtime: u32, large: bool) {
        let total: u64 = f.sizes.iter().sum();
        if total > u64::from(u32::MAX) {
            self.put(IndexTag::RPMTAG_LONGSIZE, IndexData::Int64(vec![total]));
        } else {
            self.ints(IndexTag::RPMTAG_SIZE, vec![total as u32]);
        }
        self.ints(IndexTag::RPMTAG_FILEDIGESTALGO, vec![8]); // SHA-256
        let n = f.sizes.len();
        if n == 0 {
            return;
        }
        if large {
            self.put(
                IndexTag::RPMTAG_LONGFILESIZES,
                IndexData::Int64(f.sizes.clone()),
            );
        } else {
            self.ints(
                IndexTag::RPMTAG_FILESIZES,
                f.sizes.iter().map(|s| *s as u32).collect(),
            );
        }
        self.put(
            IndexTag::RPMTAG_FILEMODES,
            IndexData::Int16(f.modes.clone()),
        );
        self.put(IndexTag::RPMTAG_FILERDEVS, IndexData::Int16(vec![0; n]));
        self.ints(IndexTag::RPMTAG_FILEMTIMES, vec![mtime; n]);
        self.strings(IndexTag::RPMTAG_FILEDIGESTS, f.digests.clone());
        self.strings(IndexTag::RPMTAG_FILELINKTOS, f.links.clone());
        self.ints(IndexTag::RPMTAG_FILEFLAGS, f.flags.clone());
        self.strings(IndexTag::RPMTAG_FILEUSERNAME, f.users.clone());
        self.strings(IndexTag::RPMTAG_FILEGROUPNAME, f.groups.clone());
        self.ints(IndexTag::RPMTAG_FILEVERIFYFLAGS, vec![u32::MAX; n]);
        self.ints(IndexTag::RPMTAG_FILEDEVICES, vec![1; n]);
        self.ints(IndexTag::RPMTAG_FILEINODES, (1..=n as u32).collect());
        self.strings(IndexTag::RPMTAG_FILELANGS, vec![String::new(); n]);
        self.ints(IndexTag::RPMTAG_DIRINDEXES, f.dir_index.clone());
        self.strings(IndexTag::RPMTAG_BASENAMES, f.base.clone());
        self.strings(IndexTag::RPMTAG_DIRNAMES, f.dirs.clone());
    }

    pub(super) fn scripts(&mut self, pkg: &Package, evr: &str) {
        for (slot, body) in life::scripts(pkg, evr) {
            let (tag, prog, _) = slot_tags(slot);
            self.s(tag, &body);
            self.strings(prog, vec!["/bin/sh".into()]);
        }
    }

    pub(super) fn relations(
        &mut self,
        pkg: &Package,
        evr: &str,
        rels: &[(Sense, Vec<Dep>); 6],
        comp: Compression,
        large: bool,
    ) {
        let m = &pkg.meta;
        let mut all = rels.clone();
        let rich = all
            .iter()
            .any(|(_, l)| l.iter().any(|d| d.name.starts_with('(')));
        let mut add = |sense: Sense, d: Dep| {
            all.iter_mut()
                .find(|(s, _)| *s == sense)
                .expect("every sense has a list")
                .1
                .push(d)
        };
        add(Sense::Provides, Dep::eq(&m.name, evr));
        if let Some(isa) = deps::isa(super::spelling(m.arch)) {
            add(Sense::Provides, Dep::eq(&format!("{}({isa})", m.name), evr));
        }
        // `Requires(pre): /bin/sh` and friends: the interpreter of each scriptlet.
        for (slot, _) in life::scripts(pkg, evr) {
            add(Sense::Requires, Dep::interp(slot_tags(slot).2));
        }
        let mut features = vec![
            ("CompressedFileNames", "3.0.4-1"),
            ("FileDigests", "4.6.0-1"),
            ("PayloadFilesHavePrefix", "4.0-1"),
        ];
        match comp {
            Compression::Zstd => features.push(("PayloadIsZstd", "5.4.18-1")),
            Compression::Xz => features.push(("PayloadIsXz", "5.2-1")),
            Compression::Gzip | Compression::None => {}
        }
        if large {
            features.push(("LargeFiles", "4.12.0-1"));
        }
        if rich {
            features.push(("RichDependencies", "4.12.0-1"));
        }
        for (f, v) in features {
            add(Sense::Requires, Dep::rpmlib(f, v));
        }
        for (sense, mut list) in all {
            if list.is_empty() {
                continue;
            }
            list.sort();
            list.dedup();
            let (n, fl, v) = sense.tags();
            self.strings(n, list.iter().map(|d| d.name.clone()).collect());
            self.ints(fl, list.iter().map(|d| d.flags).collect());
            self.strings(v, list.iter().map(|d| d.version.clone()).collect());
        }
    }

    pub(super) fn payload(&mut self, comp: Compression, level: i32, packed: &str, raw: &str) {
        self.s(IndexTag::RPMTAG_PAYLOADFORMAT, "cpio");
        let name = match comp {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Xz => Some("xz"),
            Compression::Zstd => Some("zstd"),
        };
        if let Some(n) = name {
            self.s(IndexTag::RPMTAG_PAYLOADCOMPRESSOR, n);
            self.s(IndexTag::RPMTAG_PAYLOADFLAGS, &level.to_string());
        }
        self.strings(IndexTag::RPMTAG_PAYLOADSHA256, vec![packed.to_string()]);
        self.ints(IndexTag::RPMTAG_PAYLOADSHA256ALGO, vec![8]);
        self.strings(IndexTag::RPMTAG_PAYLOADSHA256ALT, vec![raw.to_string()]);
    }
}

/// A scriptlet slot's header tags (body, interpreter) and its flag in
/// the `Requires(...)` of its interpreter.
fn slot_tags(slot: Slot) -> (IndexTag, IndexTag, u32) {
    use IndexTag::*;
    match slot {
        Slot::Pre => (RPMTAG_PREIN, RPMTAG_PREINPROG, deps::SCRIPT_PRE),
        Slot::Post => (RPMTAG_POSTIN, RPMTAG_POSTINPROG, deps::SCRIPT_POST),
        Slot::PreUn => (RPMTAG_PREUN, RPMTAG_PREUNPROG, deps::SCRIPT_PREUN),
        Slot::PostUn => (RPMTAG_POSTUN, RPMTAG_POSTUNPROG, deps::SCRIPT_POSTUN),
        Slot::PostTrans => (RPMTAG_POSTTRANS, RPMTAG_POSTTRANSPROG, deps::POSTTRANS),
    }
}

/// rpm's convention (and rpmlint's check) is a capitalised summary.
fn summary(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One changelog entry for this release, dated `meta.mtime`: the notes under
/// the upstream changelog's heading for this version, or a generated line.
fn changelog(pkg: &Package, evr: &str) -> (u32, String, String) {
    let m = &pkg.meta;
    let notes = notes(&m.notes);
    let text = if notes.is_empty() {
        format!("- Upstream release {}.", m.version)
    } else {
        notes
    };
    let time = u32::try_from(m.mtime).unwrap_or(u32::MAX);
    (time, format!("{} - {evr}", m.maintainer), text)
}

/// rpm changelog items: "- first line", continuation lines indented 2.
fn notes(items: &[Vec<String>]) -> String {
    let lines = items.iter().flat_map(|item| {
        item.iter()
            .enumerate()
            .map(|(i, l)| format!("{}{l}", if i == 0 { "- " } else { "  " }))
    });
    lines.collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_notes() {
        let items = vec![
            vec!["first line".to_string(), "wrapped".to_string()],
            vec!["second".to_string()],
        ];
        assert_eq!(notes(&items), "- first line\n  wrapped\n- second");
        assert_eq!(notes(&[]), "");
    }

    #[test]
    fn summary_is_capitalised() {
        assert_eq!(summary("build things"), "Build things");
    }
}
