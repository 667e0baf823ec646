//! Busy numbers: exact totals of a phone filter without walking every call
//! of a number that makes thousands.
//!
//! A phone filter's total is the calls of each number as caller plus those
//! as callee, less the calls between the filter's own numbers (which both
//! sides count). For most numbers each part is a short range of a phone
//! index. A contact center's hotline or a frequent customer has thousands of
//! calls in a window, and counting them was most of a page's cost at 10M
//! records. The first filter that finds `busy_phone_calls` or more calls of
//! a number in its window marks the number busy: its records are counted
//! into per-period buckets at the spans of `cdr_bucket` (one pass over its
//! calls, under the records lock), and from then on every record write
//! keeps them, so its part of a total comes from the window's cut like an
//! unfiltered total (the phone filter's statement in query.rs).
//!
//! Nothing here exists on SQLite, where counting a number's index range
//! costs a fraction of what a round trip to PostgreSQL does.

use std::collections::{HashMap, HashSet};

use postgres::SimpleQueryMessage;

use super::{LOCK_RECORDS, PgClient};
use crate::StoreError;
use crate::window::SPANS;

/// Which column a number was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Side {
    Caller = 0,
    Callee = 1,
}

/// The busy numbers of some tenants, read under the records lock at the
/// start of a write or delete so that a number marked busy meanwhile is not
/// missed.
#[derive(Debug, Default)]
pub(crate) struct BusyPhones(HashMap<i64, HashSet<String>>);

impl BusyPhones {
    /// Takes the records lock and reads the busy numbers of `sdk_app_ids`
    /// in one round trip, which every record write pays: two statements in
    /// one simple query. In READ COMMITTED the second takes its snapshot
    /// after the first returns, so a number another process marked busy
    /// while this one waited for the lock is seen, as with two round trips.
    pub(crate) fn lock_and_read(
        client: &mut PgClient,
        sdk_app_ids: &[i64],
    ) -> Result<Self, StoreError> {
        let mut apps = sdk_app_ids.to_vec();
        apps.sort_unstable();
        apps.dedup();
        // Integers only: nothing in this text comes from a request.
        let list = apps
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT pg_advisory_xact_lock({LOCK_RECORDS}); \
             SELECT sdk_app_id, phone FROM cdr_busy_phone WHERE sdk_app_id IN ({list})"
        );
        let mut busy = BusyPhones::default();
        for message in client.raw().simple_query(&sql)? {
            // The lock's one row has one column; a busy number's has two.
            let SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            if row.len() != 2 {
                continue;
            }
            if let (Some(app), Some(phone)) = (row.get(0), row.get(1)) {
                let app = app.parse::<i64>().map_err(|e| {
                    StoreError::Database(format!("cdr_busy_phone.sdk_app_id {app:?}: {e}"))
                })?;
                busy.0.entry(app).or_default().insert(phone.to_owned());
            }
        }
        Ok(busy)
    }

    /// Counts a record with this caller and callee in (`delta` 1) or out of
    /// (-1) the buckets of whichever of its numbers are busy.
    pub(crate) fn count(
        &self,
        deltas: &mut PhoneDeltas,
        sdk_app_id: i64,
        caller: &str,
        callee: &str,
        time: i64,
        delta: i64,
    ) {
        let Some(busy) = self.0.get(&sdk_app_id) else {
            return;
        };
        for (phone, side) in [(caller, Side::Caller), (callee, Side::Callee)] {
            if busy.contains(phone) {
                for span in SPANS {
                    *deltas
                        .0
                        .entry((
                            sdk_app_id,
                            phone.to_owned(),
                            side,
                            span,
                            time.div_euclid(span),
                        ))
                        .or_default() += delta;
                }
            }
        }
    }
}

/// Changes to busy numbers' buckets, summed before they reach the database.
/// Keyed by (sdk_app_id, phone, side, span, period).
#[derive(Debug, Default)]
pub(crate) struct PhoneDeltas(HashMap<(i64, String, Side, i64, i64), i64>);

/// Adds `deltas` to the busy numbers' buckets (in key order, so concurrent
/// writers lock rows in one order); emptied buckets go.
pub(crate) fn bump_phone_buckets(
    client: &mut PgClient,
    deltas: PhoneDeltas,
) -> Result<(), StoreError> {
    let mut changes: Vec<_> = deltas.0.into_iter().filter(|&(_, d)| d != 0).collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_unstable();
    let apps: Vec<i64> = changes.iter().map(|(k, _)| k.0).collect();
    let phones: Vec<&str> = changes.iter().map(|(k, _)| k.1.as_str()).collect();
    let sides: Vec<i16> = changes.iter().map(|(k, _)| k.2 as i16).collect();
    let spans: Vec<i64> = changes.iter().map(|(k, _)| k.3).collect();
    let starts: Vec<i64> = changes.iter().map(|(k, _)| k.4).collect();
    let counts: Vec<i64> = changes.iter().map(|(_, d)| *d).collect();
    client.execute(
        "INSERT INTO cdr_phone_bucket (sdk_app_id, phone, side, span, start, count) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[], \
                              $5::bigint[], $6::bigint[]) \
         ON CONFLICT (sdk_app_id, phone, side, span, start) \
         DO UPDATE SET count = cdr_phone_bucket.count + excluded.count",
        &[&apps, &phones, &sides, &spans, &starts, &counts],
    )?;
    if counts.iter().any(|&d| d < 0) {
        client.execute(
            "DELETE FROM cdr_phone_bucket b \
             USING unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[], $5::bigint[]) \
                   AS k (sdk_app_id, phone, side, span, start) \
             WHERE b.sdk_app_id = k.sdk_app_id AND b.phone = k.phone AND b.side = k.side \
             AND b.span = k.span AND b.start = k.start AND b.count = 0",
            &[&apps, &phones, &sides, &spans, &starts],
        )?;
    }
    Ok(())
}

/// Marks `phones` of `sdk_app_id` busy and counts their records into their
/// buckets, inside the writer's transaction and under the records lock: no
/// write can slip between the count and the mark. A number already busy is
/// left as it is.
pub(crate) fn mark_busy(
    client: &mut PgClient,
    sdk_app_id: i64,
    phones: &[String],
) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_RECORDS])?;
    for phone in phones {
        let marked = client.execute(
            "INSERT INTO cdr_busy_phone (sdk_app_id, phone) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&sdk_app_id, phone],
        )?;
        if marked == 0 {
            continue;
        }
        // Floor division like the window module's div_euclid: through
        // numeric, a negative time falls in the period before zero.
        for (side, column) in [(Side::Caller, "caller"), (Side::Callee, "callee")] {
            client.execute(
                &format!(
                    "INSERT INTO cdr_phone_bucket (sdk_app_id, phone, side, span, start, count) \
                     SELECT $1, $2, $3, s.span, \
                            floor(c.time::numeric / s.span)::bigint AS start, count(*) \
                     FROM cdr c CROSS JOIN unnest($4::bigint[]) AS s (span) \
                     WHERE c.sdk_app_id = $1 AND c.{column} = $2 \
                     GROUP BY s.span, 5"
                ),
                &[&sdk_app_id, phone, &(side as i16), &SPANS.to_vec()],
            )?;
        }
    }
    // Plans are generic and cached per connection. Planned while these
    // tables were empty, a bucket look-up read every busy number's buckets
    // (a third of the phone filter's speed) until autovacuum happened to
    // analyze them; statistics now, which also invalidates those plans.
    client
        .raw()
        .batch_execute("ANALYZE cdr_busy_phone, cdr_phone_bucket")?;
    Ok(())
}
