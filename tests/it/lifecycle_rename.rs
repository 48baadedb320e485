//! Upstream renames under a real manager: the admin's value follows a key
//! that the new release moved (`[[config]] renames`), or its loss is a
//! conflict that `status` keeps.

/// Issue #12 under dpkg: imsrv 3.5.0 renames `log_level` to `log.level`
/// (`[[config]] renames`), so the admin's `debug` moves to the new key and
/// the upgrade says so. Built without the declaration, the same upgrade
/// drops the value and reports it as a conflict, kept by `status`.
#[test]
fn dpkg_upgrade_moves_a_renamed_key_or_reports_the_loss() {
    use crate::common::imsrv::{self, CONFIG, HOOK, NAME};
    use crate::common::lifecycle::{self as lc, clean};
    let m = crate::common::root::Manager::Dpkg;
    if !lc::ready(m) {
        return;
    }
    let (v34, v35) = (lc::build(m, "3.4.0"), lc::build(m, "3.5.0"));
    let r = lc::root(m);
    clean(m, r.install(&v34.file));
    lc::admin_edits(&r);
    let out = clean(m, r.install(&v35.file));
    assert_eq!(r.read(CONFIG), imsrv::CONFIG_35_MERGED, "{}", out.text);
    assert!(
        out.text
            .contains("moved: your log_level = debug is now log.level"),
        "{}",
        out.text
    );

    let undeclared = imsrv::project("3.5.0");
    let manifest = imsrv::manifest(
        "3.5.0",
        crate::common::root::static_hook().to_str().unwrap(),
    );
    let without = manifest.replace("renames = { \"log_level\" = \"log.level\" }\n", "");
    assert_ne!(without, manifest);
    undeclared.file("packaging/packwright.toml", &without);
    let v35_plain = undeclared.build("deb").remove(0);
    let r = lc::root(m);
    clean(m, r.install(&v34.file));
    lc::admin_edits(&r);
    let out = clean(m, r.install(&v35_plain));
    let merged = r.read(CONFIG);
    assert!(
        merged.contains("  level: info\n") && !merged.contains("\n  level: debug\n"),
        "{merged}"
    );
    assert!(
        out.text
            .contains("conflict: log_level — removed upstream; your value debug was dropped"),
        "{}",
        out.text
    );
    let st = r.chroot(&[HOOK, "status", "--package", NAME]);
    assert!(
        st.out.contains("unresolved conflict: log_level"),
        "{}",
        st.text
    );
}

/// Issue #12, keyed lists under dpkg: a TOML config whose `[[upstreams]]`
/// entries are identified by `host` (`[[config]] list-keys`). The admin
/// changed one entry and added one; 3.5.0 adds an entry: all three are in
/// the merged file, with no conflict.
#[test]
fn dpkg_upgrade_merges_a_keyed_list_entry_by_entry() {
    use crate::common::imsrv;
    use crate::common::lifecycle::{self as lc, clean};
    let m = crate::common::root::Manager::Dpkg;
    if !lc::ready(m) {
        return;
    }
    const LIVE: &str = "/etc/imsrv/upstreams.toml";
    let entry = |host: &str, weight: u32| {
        format!("\n[[upstreams]]\nhost = \"{host}\"\nweight = {weight}\n")
    };
    let default = |version: &str| {
        let mut s = format!("# upstream servers\nversion = \"{version}\"\n");
        s += &entry("a.example.org", 1);
        s += &entry("b.example.org", 1);
        if version == "3.5.0" {
            s += &entry("c.example.org", 2);
        }
        s
    };
    let build = |version: &str| {
        let p = imsrv::project(version);
        let hook = crate::common::root::static_hook();
        let manifest = imsrv::manifest(version, hook.to_str().unwrap()).replace(
            "[[users]]",
            "[[config]]\nsrc = \"config/upstreams.toml\"\ndst = \"/etc/imsrv/upstreams.toml\"\n\
             version-key = \"version\"\nlist-keys = { \"upstreams\" = \"host\" }\n\n[[users]]",
        );
        p.file("packaging/packwright.toml", &manifest);
        p.file("config/upstreams.toml", &default(version));
        let deb = p.build("deb").remove(0);
        (p, deb) // the project holds the package file
    };
    let ((_p34, v34), (_p35, v35)) = (build("3.4.0"), build("3.5.0"));
    let r = lc::root(m);
    clean(m, r.install(&v34));
    assert_eq!(r.read(LIVE), default("3.4.0"));
    let edited = default("3.4.0").replace(
        "host = \"b.example.org\"\nweight = 1",
        "host = \"b.example.org\"\nweight = 5",
    ) + &entry("mine.example.org", 3);
    r.write(LIVE, &edited);
    let out = clean(m, r.install(&v35));
    let want = default("3.5.0").replace(
        "host = \"b.example.org\"\nweight = 1",
        "host = \"b.example.org\"\nweight = 5",
    ) + &entry("mine.example.org", 3);
    assert_eq!(r.read(LIVE), want, "{}", out.text);
    assert!(!out.text.contains("conflict"), "{}", out.text);
}
