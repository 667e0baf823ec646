//! Exact totals and deep pages of an unfiltered window without a pass over
//! it, the same for every backend.
//!
//! Each backend keeps per-tenant record counts at three spans (days, hours,
//! 5-minute slices; `start = time div span`) in the write transaction. A
//! window is cut into segments newest first: whole periods from their
//! buckets, the partial periods at either end at the next finer span, and
//! below the finest span an exact count through the time index. The total
//! is their sum, and the page at offset N is read from the top of the
//! finest segment holding row N, skipping at most one slice's rows.
//!
//! The backend supplies the three reads ([`BucketSource`]); this module does
//! the arithmetic.

use std::collections::HashMap;

use crate::StoreError;

/// Spans of the count buckets in seconds, coarsest first; each divides the
/// one before it.
pub(crate) const SPANS: [i64; 3] = [86_400, 3_600, 300];

/// The reads the cut needs from a backend, all for one tenant and from one
/// snapshot.
pub(crate) trait BucketSource {
    /// `(period, count)` of the buckets of span `SPANS[level]` whose periods
    /// lie in `first..=last`, newest first.
    fn buckets(
        &mut self,
        level: usize,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, u64)>, StoreError>;

    /// Records with `lo <= time <= hi`, counted exactly.
    fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError>;
}

/// Where a page starts: read the window's rows with `time <= top`, newest
/// first, and skip `skip` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageStart {
    pub top: i64,
    pub skip: u64,
}

/// The exact total of `start..=end` and, when row `offset` exists, where the
/// page holding it starts.
pub(crate) fn locate(
    source: &mut impl BucketSource,
    start: i64,
    end: i64,
    offset: u64,
) -> Result<(u64, Option<PageStart>), StoreError> {
    let mut cut = Vec::new();
    segments(source, 0, start, end, &mut cut)?;
    let total = cut.iter().map(|s| s.count).sum();
    if offset >= total {
        return Ok((total, None));
    }
    // Find the segment holding row `offset`, opening whole buckets into
    // their finer buckets until the finest.
    let mut before = 0u64;
    let mut level_segments = cut;
    let segment = loop {
        let mut found = None;
        for segment in &level_segments {
            if offset < before + segment.count {
                found = Some(*segment);
                break;
            }
            before += segment.count;
        }
        // Buckets disagreeing with their finer buckets would land here; the
        // write transaction keeps them in step, so answer "no page" rather
        // than guess.
        let Some(segment) = found else {
            return Ok((total, None));
        };
        match segment.bucket {
            Some((level, period)) if level + 1 < SPANS.len() => {
                let ratio = SPANS[level] / SPANS[level + 1];
                level_segments = source
                    .buckets(
                        level + 1,
                        period.saturating_mul(ratio),
                        (period + 1).saturating_mul(ratio) - 1,
                    )?
                    .into_iter()
                    .map(|(p, count)| Segment::of_bucket(level + 1, p, count))
                    .collect();
            }
            _ => break segment,
        }
    };
    Ok((
        total,
        Some(PageStart {
            top: segment.top.min(end),
            skip: offset - before,
        }),
    ))
}

/// A bucket read of the cut: `(level, first, last)` periods.
pub(crate) type BucketRead = (usize, i64, i64);

/// An exact-count read of the cut: `(lo, hi)` seconds.
pub(crate) type CountRead = (i64, i64);

/// The reads [`locate`] makes to cut `start..=end` before it opens any
/// bucket. They depend on the window alone, never on the data, so a backend
/// can fetch them all in one query.
pub(crate) fn cut_reads(start: i64, end: i64) -> (Vec<BucketRead>, Vec<CountRead>) {
    #[derive(Default)]
    struct Recorder {
        buckets: Vec<BucketRead>,
        counts: Vec<CountRead>,
    }
    impl BucketSource for Recorder {
        fn buckets(
            &mut self,
            level: usize,
            first: i64,
            last: i64,
        ) -> Result<Vec<(i64, u64)>, StoreError> {
            self.buckets.push((level, first, last));
            Ok(Vec::new())
        }
        fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError> {
            self.counts.push((lo, hi));
            Ok(0)
        }
    }
    let mut recorder = Recorder::default();
    let mut cut = Vec::new();
    // The recorder cannot fail.
    let _ = segments(&mut recorder, 0, start, end, &mut cut);
    (recorder.buckets, recorder.counts)
}

/// A stretch of the window with its number of records.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Last second of the stretch.
    top: i64,
    count: u64,
    /// A whole bucket (index into `SPANS`, period), which a deep page opens
    /// into the finer buckets it holds.
    bucket: Option<(usize, i64)>,
}

impl Segment {
    fn of_bucket(level: usize, period: i64, count: u64) -> Segment {
        Segment {
            top: period.saturating_add(1).saturating_mul(SPANS[level]) - 1,
            count,
            bucket: Some((level, period)),
        }
    }
}

/// Cuts `lo..=hi` into segments, newest first: the whole periods of span
/// `SPANS[level]` from their buckets, the partial periods at either end at
/// the next finer span, and below the finest span an exact count.
fn segments(
    source: &mut impl BucketSource,
    level: usize,
    lo: i64,
    hi: i64,
    out: &mut Vec<Segment>,
) -> Result<(), StoreError> {
    if lo > hi {
        return Ok(());
    }
    if level == SPANS.len() {
        out.push(Segment {
            top: hi,
            count: source.count_range(lo, hi)?,
            bucket: None,
        });
        return Ok(());
    }
    let span = SPANS[level];
    // Whole periods: the first starting at or after lo, the last ending at
    // or before hi.
    let first = lo.div_euclid(span) + i64::from(lo.rem_euclid(span) != 0);
    let last = hi.div_euclid(span) - i64::from(hi.rem_euclid(span) != span - 1);
    if first > last {
        return segments(source, level + 1, lo, hi, out);
    }
    let above = (last + 1).saturating_mul(span);
    let below = first.saturating_mul(span).saturating_sub(1);
    segments(source, level + 1, above, hi, out)?;
    out.extend(
        source
            .buckets(level, first, last)?
            .into_iter()
            .map(|(period, count)| Segment::of_bucket(level, period, count)),
    );
    segments(source, level + 1, lo, below, out)
}

/// Bucket changes of a write, summed before they reach the database: a
/// batch touches few periods, so thousands of bucket upserts become a
/// handful. Keyed by (sdk_app_id, span, period).
#[derive(Debug, Default)]
pub(crate) struct BucketDeltas(HashMap<(i64, i64, i64), i64>);

impl BucketDeltas {
    /// Counts a record in (`delta` 1) or out of (-1) its bucket at every span.
    pub(crate) fn add(&mut self, sdk_app_id: i64, time: i64, delta: i64) {
        for span in SPANS {
            *self
                .0
                .entry((sdk_app_id, span, time.div_euclid(span)))
                .or_default() += delta;
        }
    }

    /// The non-zero changes in key order, so that concurrent writers lock
    /// bucket rows in one order.
    pub(crate) fn into_sorted(self) -> Vec<((i64, i64, i64), i64)> {
        let mut changes: Vec<_> = self.0.into_iter().filter(|&(_, d)| d != 0).collect();
        changes.sort_unstable();
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records at given times, with buckets computed from them.
    struct Memory(Vec<i64>);

    impl BucketSource for Memory {
        fn buckets(
            &mut self,
            level: usize,
            first: i64,
            last: i64,
        ) -> Result<Vec<(i64, u64)>, StoreError> {
            let mut counts = std::collections::BTreeMap::new();
            for &t in &self.0 {
                let p = t.div_euclid(SPANS[level]);
                if (first..=last).contains(&p) {
                    *counts.entry(p).or_insert(0u64) += 1;
                }
            }
            Ok(counts.into_iter().rev().collect())
        }

        fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError> {
            Ok(self.0.iter().filter(|t| (lo..=hi).contains(*t)).count() as u64)
        }
    }

    #[test]
    fn every_offset_lands_on_its_row() {
        // Times spread over three days with clumps at period edges.
        let t0 = 1_790_006_400; // a day boundary
        let mut times: Vec<i64> = (0..600).map(|i| t0 + i * 431 % 259_200).collect();
        times.extend([t0 + 86_399, t0 + 86_400, t0 + 3_599, t0 + 3_600, t0 + 299]);
        let (start, end) = (t0 + 17, t0 + 200_000);
        let mut sorted: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| (start..=end).contains(t))
            .collect();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let mut source = Memory(times);
        for offset in 0..=sorted.len() as u64 {
            let (total, at) = locate(&mut source, start, end, offset).unwrap();
            assert_eq!(total, sorted.len() as u64);
            match at {
                None => assert_eq!(offset, total),
                Some(PageStart { top, skip }) => {
                    // Row `offset` is the `skip`-th row at or below `top`.
                    let below: Vec<i64> = sorted.iter().copied().filter(|&t| t <= top).collect();
                    assert_eq!(below[skip as usize], sorted[offset as usize]);
                    // Only rows of one slice are skipped.
                    assert!(below[..skip as usize].iter().all(|&t| t > top - 300));
                }
            }
        }
    }

    /// Logs every read it answers.
    struct Logged(Memory, Vec<BucketRead>, Vec<CountRead>);

    impl BucketSource for Logged {
        fn buckets(
            &mut self,
            level: usize,
            first: i64,
            last: i64,
        ) -> Result<Vec<(i64, u64)>, StoreError> {
            self.1.push((level, first, last));
            self.0.buckets(level, first, last)
        }
        fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError> {
            self.2.push((lo, hi));
            self.0.count_range(lo, hi)
        }
    }

    #[test]
    fn cut_reads_are_the_walks_reads() {
        let t0 = 1_790_035_200; // a day boundary
        assert_eq!(t0 % 86_400, 0);
        // Inside one slice: one exact count.
        assert_eq!(
            cut_reads(t0 + 10, t0 + 20),
            (vec![], vec![(t0 + 10, t0 + 20)])
        );
        for (start, end) in [
            (t0, t0 + 86_399),
            (t0 - 3_618, t0 + 2 * 86_400 + 3_910),
            (t0 + 17, t0 + 299),
            (t0 + 3_599, t0 + 3_600),
            (t0 - 50 * 86_400 - 1, t0 + 7),
        ] {
            let mut logged = Logged(Memory(vec![t0 + 5, t0 + 90_000]), vec![], vec![]);
            // An offset past the end: the cut only, no bucket opened.
            locate(&mut logged, start, end, u64::MAX).unwrap();
            assert_eq!(
                cut_reads(start, end),
                (logged.1, logged.2),
                "{start}..{end}"
            );
        }
        // Whole days are one read, whatever the window's length.
        let (buckets, counts) = cut_reads(t0 - 50 * 86_400 - 1, t0 + 7);
        assert_eq!(buckets.iter().filter(|b| b.0 == 0).count(), 1);
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn deltas_cancel_and_sort() {
        let mut d = BucketDeltas::default();
        d.add(2, 7_200, 1);
        d.add(1, 3_600, 1);
        d.add(1, 3_600, -1);
        let changes = d.into_sorted();
        assert_eq!(
            changes,
            vec![((2, 300, 24), 1), ((2, 3_600, 2), 1), ((2, 86_400, 0), 1)]
        );
    }
}
