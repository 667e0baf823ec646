//! Object keys: what a key may contain, and the deterministic media layout.

use std::fmt;

use crate::{MediaError, excerpt};

/// The longest key accepted, in bytes (S3's own limit).
const MAX_KEY_LEN: usize = 1024;

/// A validated object key: `/`-separated segments of `[A-Za-z0-9._-]`, no
/// empty segment, no `.` or `..` segment, no leading `/`, at most 1024 bytes.
///
/// The alphabet is deliberately small: such a key means the same thing as a
/// relative file path, an S3 key and a URL path, so it can never climb out of
/// the store's directory, need escaping, or name two objects in two backends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Checks `s` against the key rules.
    pub fn parse(s: &str) -> Result<ObjectKey, MediaError> {
        check_path(s).map_err(|why| MediaError::InvalidKey(format!("{:?}: {why}", excerpt(s))))?;
        Ok(ObjectKey(s.to_owned()))
    }

    /// The deterministic key of design.md §5:
    /// `{sdk_app_id}/{yyyy}/{mm}/{dd}/{name}`, dated by the UTC day of `time`
    /// (Unix seconds, the call's start). `name` is one file name such as
    /// `<RecordId>.mp3` or `<SessionId>.asr.json`.
    ///
    /// The date spreads a tenant's objects over many directories (or S3
    /// prefixes) and makes a day's media easy to list, copy or expire.
    pub fn for_media(sdk_app_id: i64, time: i64, name: &str) -> Result<ObjectKey, MediaError> {
        check_name(name)?;
        let (y, m, d) = utc_date(time);
        if !(0..=9999).contains(&y) {
            return Err(MediaError::InvalidKey(format!(
                "time {time} falls in year {y}, outside 0000..9999"
            )));
        }
        ObjectKey::parse(&format!("{sdk_app_id}/{y:04}/{m:02}/{d:02}/{name}"))
    }

    /// Key for a media file whose call record has not arrived yet:
    /// `pending/{name}`. Without the record there is no date to file it
    /// under; it is renamed to its [`ObjectKey::for_media`] key later.
    pub fn pending(name: &str) -> Result<ObjectKey, MediaError> {
        check_name(name)?;
        ObjectKey::parse(&format!("pending/{name}"))
    }

    /// The key as text, e.g. `1400000000/2026/11/20/abc.mp3`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's segments, root first.
    pub(crate) fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a file name that must become exactly one key segment.
fn check_name(name: &str) -> Result<(), MediaError> {
    if name.contains('/') {
        return Err(MediaError::InvalidKey(format!(
            "{:?}: a file name may not contain '/'",
            excerpt(name)
        )));
    }
    check_path(name).map_err(|why| MediaError::InvalidKey(format!("{:?}: {why}", excerpt(name))))
}

/// The key rules; also used for an S3 URL's prefix. Returns why not.
pub(crate) fn check_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty key".into());
    }
    if s.len() > MAX_KEY_LEN {
        return Err(format!("{} bytes, more than {MAX_KEY_LEN}", s.len()));
    }
    if s.starts_with('/') {
        return Err("starts with '/'".into());
    }
    for seg in s.split('/') {
        if seg.is_empty() {
            return Err("empty segment ('//' or a trailing '/')".into());
        }
        if seg == "." || seg == ".." {
            return Err(format!("'{seg}' segment"));
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!("character {c:?} outside [A-Za-z0-9._-]"));
        }
    }
    Ok(())
}

/// The proleptic Gregorian UTC date (year, month, day) of a Unix time.
///
/// Howard Hinnant's `civil_from_days`; all in i64, so no input overflows.
fn utc_date(time: i64) -> (i64, u32, u32) {
    let z = time.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_keys() {
        for ok in [
            "a",
            "abc.mp3",
            "1400000000/2026/11/20/abc.mp3",
            "pending/s-1.asr.json",
            "A-Z_a-z.0-9",
            "...",
            ".hidden",
            "a/..b/c..",
            &"x".repeat(1024),
        ] {
            let key = ObjectKey::parse(ok).unwrap_or_else(|e| panic!("{ok:?} refused: {e}"));
            assert_eq!(key.as_str(), ok);
            assert_eq!(key.to_string(), ok);
        }
    }

    #[test]
    fn refuses_keys_that_could_escape_or_confuse() {
        for bad in [
            "",
            "/",
            "/abs",
            "/etc/passwd",
            "a/",
            "a//b",
            "..",
            ".",
            "../x",
            "a/../b",
            "a/./b",
            "a/..",
            "a\\b",
            "..\\x",
            "a\0b",
            "a b",
            "a?b",
            "a#b",
            "a%2e%2e",
            "a:b",
            "ré.mp3",
            "日本/a",
            "a\nb",
            &"x".repeat(1025),
        ] {
            let err = ObjectKey::parse(bad).expect_err(bad);
            assert!(matches!(err, MediaError::InvalidKey(_)), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn error_names_the_key_and_the_rule() {
        let err = ObjectKey::parse("a//b").unwrap_err().to_string();
        assert!(
            err.contains("\"a//b\"") && err.contains("empty segment"),
            "{err}"
        );
        let err = ObjectKey::parse("a\0b").unwrap_err().to_string();
        assert!(err.contains("\\0"), "{err}");
    }

    #[test]
    fn media_keys_carry_the_utc_date() {
        let key = |t, n| {
            ObjectKey::for_media(1_400_000_000, t, n)
                .unwrap()
                .as_str()
                .to_owned()
        };
        assert_eq!(key(0, "a.mp3"), "1400000000/1970/01/01/a.mp3");
        // 2026-11-20 12:00:00 UTC
        assert_eq!(
            key(1_795_176_000, "abc.mp3"),
            "1400000000/2026/11/20/abc.mp3"
        );
        // Leap day and the days either side: 2024-02-28 23:59:59, 2024-02-29 00:00:00,
        // 2024-02-29 23:59:59, 2024-03-01 00:00:00.
        assert_eq!(key(1_709_164_799, "x.wav"), "1400000000/2024/02/28/x.wav");
        assert_eq!(key(1_709_164_800, "x.wav"), "1400000000/2024/02/29/x.wav");
        assert_eq!(key(1_709_251_199, "x.wav"), "1400000000/2024/02/29/x.wav");
        assert_eq!(key(1_709_251_200, "x.wav"), "1400000000/2024/03/01/x.wav");
        // 2000 is a leap year (divisible by 400), 2100 is not.
        assert_eq!(key(951_782_400, "y.mp3"), "1400000000/2000/02/29/y.mp3");
        assert_eq!(key(4_107_542_400, "y.mp3"), "1400000000/2100/03/01/y.mp3");
        // Year boundary: 2025-12-31 23:59:59 and 2026-01-01 00:00:00 UTC.
        assert_eq!(
            key(1_767_225_599, "s.asr.json"),
            "1400000000/2025/12/31/s.asr.json"
        );
        assert_eq!(
            key(1_767_225_600, "s.asr.json"),
            "1400000000/2026/01/01/s.asr.json"
        );
        // Before the epoch the day still starts at midnight (floor, not truncation).
        assert_eq!(key(-1, "o.mp3"), "1400000000/1969/12/31/o.mp3");
    }

    #[test]
    fn date_arithmetic_agrees_with_a_day_by_day_walk() {
        // Walk the calendar one day at a time from 1970-01-01 and compare.
        let (mut y, mut m, mut d) = (1970_i64, 1_u32, 1_u32);
        for day in 0..(200 * 366) {
            assert_eq!(utc_date(day * 86_400 + 43_210), (y, m, d), "day {day}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn media_key_refuses_bad_names_and_times() {
        for bad in ["", "a/b.mp3", "..", ".", "a b.mp3", "ré.mp3", "/a.mp3"] {
            assert!(ObjectKey::for_media(1, 0, bad).is_err(), "{bad:?}");
            assert!(ObjectKey::pending(bad).is_err(), "{bad:?}");
        }
        for t in [i64::MAX, i64::MIN, 253_402_300_800 /* 10000-01-01 */] {
            assert!(ObjectKey::for_media(1, t, "a.mp3").is_err(), "{t}");
        }
        assert!(ObjectKey::for_media(1, 253_402_300_799, "a.mp3").is_ok());
    }

    #[test]
    fn pending_keys() {
        assert_eq!(
            ObjectKey::pending("abc.mp3").unwrap().as_str(),
            "pending/abc.mp3"
        );
    }
}
