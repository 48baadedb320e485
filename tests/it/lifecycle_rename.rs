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
