//! A deterministic generator of realistic call records, for the demo, tests
//! and benchmarks.
//!
//! Same [`GenerateOptions`] → same records, on every platform: all randomness
//! comes from our own SplitMix64 seeded from `(seed, sdk_app_id)`. Each
//! record's content is seeded from its index, and times come from a separate
//! ascending stream, so records are emitted in `Time` order in O(1) memory.
//!
//! * `clock`: the business-hours curve and the ascending time stream.
//! * `pools`: skill groups, agents, company numbers, customers.
//! * `call`: one call's story turned into a `TelCdrInfo`.
//! * `media`: the demo's recording (a WAV) and transcript of a generated call,
//!   derived from the record alone ([`demo_transcript`], [`demo_recording_wav`]).

mod call;
mod clock;
mod media;
mod pools;

pub use media::{
    DEMO_SAMPLE_RATE, MAX_DEMO_RECORDING_SECS, demo_recording_wav, demo_transcript, recording_secs,
};

use crate::record::ImportedRecord;
use crate::rng::{SplitMix64, mix64};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of records.
    pub count: u64,
    /// The tenant the records belong to.
    pub sdk_app_id: i64,
    /// Length of the window in days; 0 is treated as 1.
    pub days: u32,
    /// Seed; with the other options it fixes every record.
    pub seed: u64,
    /// End of the window (exclusive), Unix seconds. Records have
    /// `until - days * 86400 <= Time < until` (the start is clamped to 1).
    pub until: i64,
}

/// The records of [`generate`], in ascending `Time` order. Owns everything
/// it needs, so it can outlive the options and move across threads.
pub struct Generator {
    context: call::Context,
    curve: Option<clock::TimeCurve>,
    times: clock::SortedUniforms,
    count: u64,
    index: u64,
    last_time: i64,
}

/// Generate `options.count` records (see [`GenerateOptions`]).
pub fn generate(options: &GenerateOptions) -> Generator {
    // One key for the tenant: different SdkAppIds with the same seed get
    // different staff, customers and ids.
    let key = mix64(options.seed ^ mix64(options.sdk_app_id as u64 ^ 0x7465_6c63_6472));
    let days = i64::from(options.days.max(1));
    let start = (options.until - days * 86_400).max(1);
    let (curve, count) = if start < options.until {
        (
            Some(clock::TimeCurve::new(start, options.until)),
            options.count,
        )
    } else {
        (None, 0)
    };
    let mut tenant = SplitMix64::new(key ^ 0x7465_6e61_6e74);
    let cos_bucket = tenant.chance(0.3).then(|| {
        format!(
            "ccc-{}-{:08x}",
            options.sdk_app_id,
            tenant.next_u64() as u32
        )
    });
    let asr = tenant.chance(0.7);
    Generator {
        context: call::Context {
            pools: pools::Pools::new(key, count),
            sdk_app_id: options.sdk_app_id,
            key,
            until: options.until,
            cos_bucket,
            asr,
        },
        curve,
        times: clock::SortedUniforms::new(SplitMix64::new(key ^ 0x7469_6d65), count),
        count,
        index: 0,
        last_time: start,
    }
}

impl Iterator for Generator {
    type Item = ImportedRecord;

    fn next(&mut self) -> Option<ImportedRecord> {
        let u = self.times.next()?;
        let curve = self.curve.as_ref()?;
        // `at` is monotone; the max only guards against float surprises.
        let time = curve.at(u).max(self.last_time);
        self.last_time = time;
        let cdr = call::build(&self.context, self.index, time);
        self.index += 1;
        Some(ImportedRecord {
            sdk_app_id: self.context.sdk_app_id,
            cdr,
            events: Vec::new(),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.count - self.index).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

#[cfg(test)]
mod tests;
