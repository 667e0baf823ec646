//! Which time windows `telcdr sync` asks for, and where it resumes.
//!
//! The span from the start to the end is cut into windows on `Time`,
//! inclusive at both ends and adjacent (`[a, b]`, then `[b + 1, c]`), oldest
//! first. DescribeTelCdr allows up to 90 days; sync keeps windows far
//! shorter, about [`TARGET_RECORDS`] records each (one day to begin with,
//! then sized from the density of the window before, between one second
//! and [`MAX_WINDOW`]), so that a window's pages are read while few records
//! can arrive in it, and so that the cursor saved after each window is
//! fine-grained.

use anyhow::{Result, bail};

pub const DAY: i64 = 86_400;
/// How far back Tencent Cloud CCC keeps records (DescribeTelCdr refuses
/// older starts).
pub const LOOKBACK_DAYS: i64 = 180;
/// Records a window should hold: 50 pages of 100.
pub const TARGET_RECORDS: u64 = 5_000;
/// A first page announcing more than this makes the window smaller before
/// it is read.
pub const SPLIT_ABOVE: u64 = 2 * TARGET_RECORDS;
/// The first window's length.
pub const FIRST_WINDOW: i64 = DAY;
/// The longest window (DescribeTelCdr allows less than 90 days).
pub const MAX_WINDOW: i64 = 7 * DAY;

/// Reads `--since`: a number of days, hours, minutes or seconds (`30d`,
/// `12h`, `90m`, `3600s`); a bare number is seconds.
pub fn parse_span(text: &str) -> Result<i64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let unit = match unit {
        "d" => DAY,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => bail!("--since {text:?}: expected a number with d, h, m or s (30d, 12h, 90m)"),
    };
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n| *n > 0 && *n <= 100 * 365)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--since {text:?}: expected a positive number with d, h, m or s (30d, 12h, 90m)"
            )
        })?;
    Ok(n * unit)
}

/// The setting that remembers how far an endpoint's app is synced: the
/// last `Time` (Unix seconds) of the last window written completely.
pub fn cursor_name(endpoint: &str, sdk_app_id: i64) -> String {
    format!("sync.cursor.{endpoint}.{sdk_app_id}")
}

/// Cuts `[start, end]` into windows, adapting their length to the density
/// of the records.
#[derive(Debug, Clone)]
pub struct Planner {
    next: i64,
    end: i64,
    length: i64,
}

impl Planner {
    pub fn new(start: i64, end: i64) -> Planner {
        Planner {
            next: start,
            end,
            length: FIRST_WINDOW,
        }
    }

    /// The next window, or None when `end` is reached.
    pub fn window(&self) -> Option<(i64, i64)> {
        (self.next <= self.end).then(|| {
            let last = self.next.saturating_add(self.length - 1).min(self.end);
            (self.next, last)
        })
    }

    /// The window `(a, b)` announced `total` records: true when it is too
    /// many, and the window was made shorter (ask again).
    pub fn too_big(&mut self, (a, b): (i64, i64), total: u64) -> bool {
        let length = b - a + 1;
        if total <= SPLIT_ABOVE || length <= 1 {
            return false;
        }
        self.length = scaled(length, total).min(length / 2).max(1);
        true
    }

    /// The window `(a, b)` of `total` records is done: the next one starts
    /// after it, sized for [`TARGET_RECORDS`] at this density.
    pub fn done(&mut self, (a, b): (i64, i64), total: u64) {
        self.next = b + 1;
        self.length = scaled(b - a + 1, total);
    }
}

/// The length that would hold [`TARGET_RECORDS`] at the density of
/// `total` records in `length` seconds.
fn scaled(length: i64, total: u64) -> i64 {
    let wanted = (length as f64) * (TARGET_RECORDS as f64) / (total.max(1) as f64);
    (wanted as i64).clamp(1, MAX_WINDOW)
}

/// `2026-01-31 23:59:59 UTC`.
pub fn utc(time: i64) -> String {
    let secs = time.rem_euclid(DAY);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        tcapi::sign::utc_date(time),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(parse_span("30d").unwrap(), 30 * DAY);
        assert_eq!(parse_span("12h").unwrap(), 12 * 3600);
        assert_eq!(parse_span("90m").unwrap(), 5400);
        assert_eq!(parse_span("15").unwrap(), 15);
        for bad in ["", "d", "-3d", "3w", "1.5d", "0d"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_are_adjacent_and_cover_the_span_exactly() {
        // Dense at first, then empty: windows shrink, then grow to the cap.
        let (start, end) = (1_000_000, 1_000_000 + 40 * DAY - 1);
        let density = |a: i64, b: i64| -> u64 {
            let dense_end = start + 2 * DAY;
            let overlap = (b.min(dense_end) - a + 1).max(0) as u64;
            overlap / 4 // 21,600 a day
        };
        let mut planner = Planner::new(start, end);
        let mut covered = Vec::new();
        let mut asked = 0;
        while let Some(w) = planner.window() {
            asked += 1;
            let total = density(w.0, w.1);
            if planner.too_big(w, total) {
                continue;
            }
            assert!(total <= SPLIT_ABOVE, "{w:?} has {total}");
            assert!(w.1 - w.0 < MAX_WINDOW);
            covered.push(w);
            planner.done(w, total);
        }
        assert_eq!(covered[0].0, start);
        assert_eq!(covered.last().unwrap().1, end);
        for pair in covered.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0, "{pair:?}");
        }
        assert!(
            asked < covered.len() + 3,
            "{asked} asked for {}",
            covered.len()
        );
        // The empty tail is read a week at a time.
        assert!(covered.len() < 20, "{covered:?}");
    }

    #[test]
    fn a_busy_second_is_read_whole() {
        let mut planner = Planner::new(10, 10);
        let w = planner.window().unwrap();
        assert_eq!(w, (10, 10));
        assert!(!planner.too_big(w, 1_000_000));
        planner.done(w, 1_000_000);
        assert_eq!(planner.window(), None);
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(
            cursor_name("http://127.0.0.1:8900", 1400000000),
            "sync.cursor.http://127.0.0.1:8900.1400000000"
        );
    }
}
