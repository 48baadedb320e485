//! Snapshot IDs: a UTC stamp and a label.

use std::path::Path;

pub(super) fn new_id(backups: &Path, label: &str) -> String {
    let base = format!("{}-{}", utc_stamp(now()), label);
    let free =
        |id: &str| !backups.join(id).exists() && !backups.join(format!(".{id}.partial")).exists();
    if free(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| free(id))
        .expect("some counter is free")
}

/// A version as it may appear in an ID or file name.
pub fn clean(v: &str) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".+~_-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `yyyymmddThhmmssZ` (civil-from-days; no date crate in the hook).
pub fn utc_stamp(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(1_709_251_199), "20240229T235959Z");
        assert_eq!(utc_stamp(1_735_689_600), "20250101T000000Z");
    }
}
