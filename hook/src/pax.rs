//! PAX extended-header records (POSIX.1-2001 `pax` format), the one encoder
//! of packwright: the hook's snapshots write xattrs with it and the
//! builder's tar writer (`src/archive/tar.rs`) its long names and xattrs.

/// The key prefix of an extended attribute's record (GNU tar's and bsdtar's).
pub const XATTR: &str = "SCHILY.xattr.";

/// One record: `<len> <key>=<value>\n`, where `<len>` counts the whole
/// record including its own digits.
pub fn record(key: impl AsRef<[u8]>, value: &[u8]) -> Vec<u8> {
    let key = key.as_ref();
    let rest = key.len() + value.len() + 3; // ' ', '=' and '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// The record of the extended attribute `name` (without the prefix).
pub fn xattr_record(name: &[u8], value: &[u8]) -> Vec<u8> {
    record([XATTR.as_bytes(), name].concat(), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_themselves() {
        // With 91 bytes of value two digits would make 100: it is 101.
        for v in ["", "a", &"x".repeat(90), &"x".repeat(91), &"y".repeat(995)] {
            let r = record("path", v.as_bytes());
            let text = String::from_utf8(r.clone()).unwrap();
            let n: usize = text.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(n, r.len(), "{text:?}");
            assert!(text.ends_with(&format!(" path={v}\n")));
            assert_eq!(v.len() == 91, n == 101);
        }
    }

    #[test]
    fn xattr_records_carry_the_schily_prefix() {
        let r = xattr_record(b"user.a", b"xyz");
        assert_eq!(r, b"27 SCHILY.xattr.user.a=xyz\n");
    }
}
