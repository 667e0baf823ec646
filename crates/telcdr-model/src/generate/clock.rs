//! When calls happen: a business-hours daily curve with a weekend dip, and a
//! stream of ascending times drawn from it.
//!
//! Records are emitted in ascending `Time` order without holding all times in
//! memory: [`SortedUniforms`] yields the order statistics of `n` uniform draws
//! one at a time, and [`TimeCurve::at`] maps them through the inverse CDF of
//! the call-volume curve, which is monotone, so the order is preserved.

use crate::rng::SplitMix64;

/// Call centres in mainland China keep Beijing time (UTC+8).
pub(super) const LOCAL_OFFSET: i64 = 8 * 3600;

/// Relative call volume by local hour of day.
const HOUR_WEIGHT: [f64; 24] = [
    0.04, 0.03, 0.02, 0.02, 0.02, 0.03, 0.08, 0.20, 0.55, 1.00, 1.00, 0.95, //
    0.60, 0.75, 0.95, 1.00, 0.95, 0.80, 0.50, 0.35, 0.28, 0.18, 0.10, 0.06,
];

/// Saturday and Sunday volume relative to a weekday.
const WEEKEND_FACTOR: f64 = 0.35;

/// Local (hour of day, is weekend) of a Unix time.
pub(super) fn local_hour_and_weekend(t: i64) -> (usize, bool) {
    let local = t + LOCAL_OFFSET;
    let day = local.div_euclid(86_400);
    let hour = (local.rem_euclid(86_400) / 3600) as usize;
    // 1970-01-01 was a Thursday: with Monday = 0, day 0 is weekday 3.
    let weekday = (day + 3).rem_euclid(7);
    (hour, weekday >= 5)
}

/// Whether the hotline is staffed: 08–21 on weekdays, 09–18 at weekends.
pub(super) fn is_work_time(t: i64) -> bool {
    let (hour, weekend) = local_hour_and_weekend(t);
    if weekend {
        (9..18).contains(&hour)
    } else {
        (8..21).contains(&hour)
    }
}

/// Piecewise-constant call-volume density over `[start, end)` in hour buckets.
pub(super) struct TimeCurve {
    start: i64,
    end: i64,
    /// `cumulative[i]` = total weight of buckets `0..=i`.
    cumulative: Vec<f64>,
}

impl TimeCurve {
    /// `start < end` is required.
    pub(super) fn new(start: i64, end: i64) -> Self {
        debug_assert!(start < end);
        let mut cumulative = Vec::with_capacity(((end - start) / 3600 + 1) as usize);
        let mut total = 0.0;
        let mut t = start;
        while t < end {
            let next = (t + 3600).min(end);
            let (hour, weekend) = local_hour_and_weekend(t);
            let factor = if weekend { WEEKEND_FACTOR } else { 1.0 };
            total += HOUR_WEIGHT[hour] * factor * (next - t) as f64 / 3600.0;
            cumulative.push(total);
            t = next;
        }
        TimeCurve {
            start,
            end,
            cumulative,
        }
    }

    /// The time at quantile `u` in `[0, 1]`, always within `[start, end)`.
    /// Monotone in `u`.
    pub(super) fn at(&self, u: f64) -> i64 {
        let total = *self.cumulative.last().expect("non-empty window");
        let target = u.clamp(0.0, 1.0) * total;
        let i = self.cumulative.partition_point(|&c| c <= target);
        let i = i.min(self.cumulative.len() - 1);
        let before = if i == 0 { 0.0 } else { self.cumulative[i - 1] };
        let weight = self.cumulative[i] - before;
        let bucket_start = self.start + i as i64 * 3600;
        let bucket_len = (self.end - bucket_start).min(3600);
        let frac = if weight > 0.0 {
            ((target - before) / weight).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (bucket_start + (frac * bucket_len as f64) as i64).clamp(self.start, self.end - 1)
    }
}

/// The `n` order statistics of `n` independent uniforms on `[0, 1)`, in
/// ascending order, in O(1) memory: given the previous value `x` and `k`
/// draws left, the next minimum is `1 - (1 - x) * U^(1/k)`.
pub(super) struct SortedUniforms {
    rng: SplitMix64,
    remaining: u64,
    last: f64,
}

impl SortedUniforms {
    pub(super) fn new(rng: SplitMix64, n: u64) -> Self {
        SortedUniforms {
            rng,
            remaining: n,
            last: 0.0,
        }
    }

    pub(super) fn next(&mut self) -> Option<f64> {
        if self.remaining == 0 {
            return None;
        }
        let u = 1.0 - self.rng.unit(); // (0, 1]
        let x = 1.0 - (1.0 - self.last) * u.powf(1.0 / self.remaining as f64);
        self.remaining -= 1;
        // Rounding cannot make x smaller than last, but be explicit about it.
        self.last = x.max(self.last);
        Some(self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_and_hour() {
        // 2024-10-24 07:51:31 UTC = 15:51:31 Beijing, a Thursday.
        assert_eq!(local_hour_and_weekend(1_729_756_291), (15, false));
        // 2024-10-26 (Saturday) 12:00 Beijing = 04:00 UTC.
        assert_eq!(local_hour_and_weekend(1_729_915_200), (12, true));
        assert!(is_work_time(1_729_756_291));
        assert!(!is_work_time(1_729_756_291 - 12 * 3600)); // 03:51
    }

    #[test]
    fn curve_is_monotone_and_in_window() {
        let (start, end) = (1_700_000_000, 1_700_000_000 + 7 * 86_400 + 1234);
        let curve = TimeCurve::new(start, end);
        let mut prev = start;
        for i in 0..=10_000 {
            let t = curve.at(f64::from(i) / 10_000.0);
            assert!(t >= prev && t < end, "{i} {t}");
            prev = t;
        }
    }

    #[test]
    fn sorted_uniforms_are_sorted_and_spread() {
        let mut s = SortedUniforms::new(SplitMix64::new(3), 10_000);
        let mut v = Vec::new();
        while let Some(x) = s.next() {
            v.push(x);
        }
        assert_eq!(v.len(), 10_000);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        assert!(v[0] >= 0.0 && v[9_999] <= 1.0);
        // The median of 10 000 uniforms is close to 0.5.
        assert!((v[5_000] - 0.5).abs() < 0.03, "{}", v[5_000]);
    }
}
