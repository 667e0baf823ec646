//! The hot path on PostgreSQL: the same answers as SQLite's, each page and
//! its total from one snapshot, in as few round trips as possible (on a
//! two-core machine the round trips cost more than the queries).
//!
//! Without filters the total and the page's start come from the count
//! buckets (see [`crate::window`]): the walk runs inside the database, one
//! statement per request, and the page is an index range read on
//! `cdr_by_time` skipping at most one 5-minute slice. Windows with times
//! outside what that SQL handles take the Rust walk in a REPEATABLE READ
//! transaction. Session ids go through the primary key. Phones alone are
//! counted per number and side (from a busy number's buckets, see
//! phones.rs, or its phone index) and paged by merging the newest matches
//! of each number's caller and callee index ranges (which carry the
//! session id), in one statement that reads only the page's bodies.

use postgres::types::ToSql;

use super::PgClient;
use crate::window::{self, BucketSource, PageStart, SPANS};
use crate::{CdrPage, CdrQuery, StoreError};

/// A page with the numbers a phone filter found busy for the first time
/// (see phones.rs), which the caller marks busy through the writer.
pub(crate) struct Answer {
    pub page: CdrPage,
    pub newly_busy: Vec<String>,
}

/// Answers `query` inside one read-only snapshot. A phone filter reports
/// each number not yet busy with `busy_phone_calls` or more calls in the
/// window.
pub(crate) fn query_cdrs(
    client: &mut PgClient,
    query: &CdrQuery,
    busy_phone_calls: u64,
) -> Result<Answer, StoreError> {
    let plain = |page| Answer {
        page,
        newly_busy: Vec::new(),
    };
    if query.start > query.end {
        return Ok(plain(CdrPage::default()));
    }
    if !query.phones.is_empty() && query.session_ids.is_empty() {
        return phone_page(client, query, busy_phone_calls);
    }
    if !query.session_ids.is_empty() {
        return filtered_page(client, query).map(plain);
    }
    window_page_any(client, query).map(plain)
}

/// An unfiltered window: in SQL when its times allow, else in Rust.
fn window_page_any(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    if SQL_WALK_TIMES.contains(&query.start) && SQL_WALK_TIMES.contains(&query.end) {
        // One statement: its own snapshot, no transaction needed.
        return window_page_in_sql(client, query);
    }
    client.in_snapshot(|client| window_page(client, query))
}

/// The bucket and count reads of [`window::locate`] on one connection.
struct Buckets<'a> {
    client: &'a mut PgClient,
    sdk_app_id: i64,
}

impl BucketSource for Buckets<'_> {
    fn buckets(
        &mut self,
        level: usize,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        let rows = self.client.query(
            "SELECT start, count FROM cdr_bucket \
             WHERE sdk_app_id = $1 AND span = $2 AND start BETWEEN $3 AND $4 ORDER BY start DESC",
            &[&self.sdk_app_id, &SPANS[level], &first, &last],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1) as u64))
            .collect())
    }

    fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError> {
        let row = self.client.query_one(
            "SELECT count(*) FROM cdr WHERE sdk_app_id = $1 AND time BETWEEN $2 AND $3",
            &[&self.sdk_app_id, &lo, &hi],
        )?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

/// Windows the database-side walk takes: non-negative times whose bucket
/// arithmetic cannot overflow in SQL (up to about the year 36,000).
const SQL_WALK_TIMES: std::ops::RangeInclusive<i64> = 0..=(1 << 40);

/// The reads of a window's cut (see [`window::cut_reads`]) as SQL arrays:
/// bucket ranges by level (1-based: level 1 is the day span) and exact-count
/// ranges.
struct CutArrays {
    levels: Vec<i32>,
    firsts: Vec<i64>,
    lasts: Vec<i64>,
    count_los: Vec<i64>,
    count_his: Vec<i64>,
}

impl CutArrays {
    fn of(start: i64, end: i64) -> CutArrays {
        let (buckets, counts) = window::cut_reads(start, end);
        CutArrays {
            levels: buckets.iter().map(|b| b.0 as i32 + 1).collect(),
            firsts: buckets.iter().map(|b| b.1).collect(),
            lasts: buckets.iter().map(|b| b.2).collect(),
            count_los: counts.iter().map(|c| c.0).collect(),
            count_his: counts.iter().map(|c| c.1).collect(),
        }
    }
}

/// One round trip: the cut's reads are computed here (they depend on the
/// window only) and `telcdr_window_page` (see schema.rs) does the rest in
/// the calling statement's snapshot. Ten round trips per page cost more
/// than the queries did.
fn window_page_in_sql(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let cut = CutArrays::of(query.start, query.end);
    let rows = client.query(
        "SELECT total, body FROM telcdr_window_page($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &query.sdk_app_id,
            &query.start,
            &query.end,
            &(query.offset.min(i64::MAX as u64) as i64),
            &i64::from(query.limit),
            &cut.levels,
            &cut.firsts,
            &cut.lasts,
            &cut.count_los,
            &cut.count_his,
        ],
    )?;
    let mut page = CdrPage::default();
    for row in rows {
        page.total = row.get::<_, i64>(0) as u64;
        if let Some(body) = row.get::<_, Option<Vec<u8>>>(1) {
            page.records.push(body);
        }
    }
    Ok(page)
}

/// The walk in Rust over a few round trips: for windows outside
/// [`SQL_WALK_TIMES`].
fn window_page(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let mut source = Buckets {
        client,
        sdk_app_id: query.sdk_app_id,
    };
    let (total, start) = window::locate(&mut source, query.start, query.end, query.offset)?;
    let mut page = CdrPage {
        total,
        records: Vec::new(),
    };
    let Some(PageStart { top, skip }) = start.filter(|_| query.limit > 0) else {
        return Ok(page);
    };
    let rows = client.query(
        "SELECT body FROM cdr WHERE sdk_app_id = $1 AND time BETWEEN $2 AND $3 \
         ORDER BY time DESC, session_id ASC LIMIT $4 OFFSET $5",
        &[
            &query.sdk_app_id,
            &query.start,
            &top,
            &i64::from(query.limit),
            &(skip as i64),
        ],
    )?;
    page.records = rows.into_iter().map(|row| row.get(0)).collect();
    Ok(page)
}

/// Phones without session ids, in one statement: the total from each
/// number's calls on either side (a busy number's from its buckets over the
/// window's cut, as `telcdr_window_page` reads `cdr_bucket`: bucket ranges
/// by level, then exact counts below the finest span; any other number's
/// through its phone index) less the calls between the filter's own numbers, which
/// both sides counted (a range of `cdr_by_pair` per pair of numbers); the
/// page by merging the newest `offset + limit` matches of each number and
/// side (index-only) and reading the page's bodies.
fn phone_page(
    client: &mut PgClient,
    query: &CdrQuery,
    busy_phone_calls: u64,
) -> Result<Answer, StoreError> {
    let (phones, _) = query.distinct_filters();
    let cut = CutArrays::of(query.start, query.end);
    let offset = query.offset.min(i64::MAX as u64) as i64;
    let limit = i64::from(query.limit);
    // The plans are generic (planned once per connection), so two parts are
    // written so that no estimate can pick a plan that reads the table per
    // match: the pairs as a row comparison, which only cdr_by_pair's
    // (caller, callee, time) can bound (with `caller = .. AND callee = ..`
    // the caller index filtering on callee looked as cheap, and at 10M
    // records it fetched a busy number's every row); the bodies through a
    // LATERAL that OFFSET 0 keeps a key look-up per page row.
    //
    // Each number's side contributes the newest `offset + limit` matches
    // and any tied with the last of them: the time of that last one comes
    // from the index in order (no sort of a busy number's every call).
    let per_stream = offset.saturating_add(limit).max(1);
    let threshold = busy_phone_calls.min(i64::MAX as u64) as i64;
    let rows = client.query(
        "WITH calls AS MATERIALIZED ( \
           SELECT p.phone, x.busy, CASE \
             WHEN x.busy THEN \
               (SELECT coalesce(sum(b.count), 0)::bigint \
                FROM unnest($8::int[], $9::bigint[], $10::bigint[]) AS r (lvl, first, last) \
                CROSS JOIN LATERAL (SELECT y.count FROM cdr_phone_bucket y \
                  WHERE y.sdk_app_id = $1 AND y.phone = p.phone AND y.side = s.side \
                  AND y.span = (ARRAY[86400, 3600, 300]::bigint[])[r.lvl] \
                  AND y.start BETWEEN r.first AND r.last OFFSET 0) b) \
               + CASE s.side \
                 WHEN 0 THEN (SELECT coalesce(sum(e.n), 0)::bigint \
                   FROM unnest($11::bigint[], $12::bigint[]) AS r (lo, hi) \
                   CROSS JOIN LATERAL (SELECT count(*) AS n FROM cdr c WHERE c.sdk_app_id = $1 \
                   AND c.caller = p.phone AND c.time BETWEEN r.lo AND r.hi) e) \
                 ELSE (SELECT coalesce(sum(e.n), 0)::bigint \
                   FROM unnest($11::bigint[], $12::bigint[]) AS r (lo, hi) \
                   CROSS JOIN LATERAL (SELECT count(*) AS n FROM cdr c WHERE c.sdk_app_id = $1 \
                   AND c.callee = p.phone AND c.time BETWEEN r.lo AND r.hi) e) END \
             WHEN s.side = 0 THEN (SELECT count(*) FROM cdr WHERE sdk_app_id = $1 \
               AND caller = p.phone AND time BETWEEN $2 AND $3) \
             ELSE (SELECT count(*) FROM cdr WHERE sdk_app_id = $1 \
               AND callee = p.phone AND time BETWEEN $2 AND $3) END AS n \
           FROM unnest($4::text[]) AS p (phone) \
           CROSS JOIN (VALUES (0::smallint), (1::smallint)) AS s (side) \
           CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM cdr_busy_phone z \
             WHERE z.sdk_app_id = $1 AND z.phone = p.phone) AS busy) x), \
         totals AS ( \
           SELECT (SELECT sum(n) FROM calls)::bigint \
                  - (SELECT sum(x.n) FROM unnest($4::text[]) AS a (phone) \
                     CROSS JOIN unnest($4::text[]) AS b (phone) \
                     CROSS JOIN LATERAL (SELECT count(*) AS n FROM cdr \
                       WHERE sdk_app_id = $1 \
                       AND (caller, callee, time) BETWEEN (a.phone, b.phone, $2) \
                                                      AND (a.phone, b.phone, $3)) x)::bigint \
                  AS total, \
                  ARRAY(SELECT DISTINCT phone FROM calls WHERE NOT busy AND n >= $13::bigint) AS hot), \
         page AS ( \
           SELECT u.time, u.session_id FROM ( \
             SELECT m.time, m.session_id FROM unnest($4::text[]) AS p (phone) \
             CROSS JOIN LATERAL (SELECT time, session_id FROM cdr \
               WHERE sdk_app_id = $1 AND caller = p.phone AND time <= $3 AND time >= \
                 coalesce((SELECT time FROM cdr WHERE sdk_app_id = $1 AND caller = p.phone \
                           AND time BETWEEN $2 AND $3 \
                           ORDER BY time DESC OFFSET $7::bigint - 1 LIMIT 1), $2)) m \
             UNION \
             SELECT m.time, m.session_id FROM unnest($4::text[]) AS p (phone) \
             CROSS JOIN LATERAL (SELECT time, session_id FROM cdr \
               WHERE sdk_app_id = $1 AND callee = p.phone AND time <= $3 AND time >= \
                 coalesce((SELECT time FROM cdr WHERE sdk_app_id = $1 AND callee = p.phone \
                           AND time BETWEEN $2 AND $3 \
                           ORDER BY time DESC OFFSET $7::bigint - 1 LIMIT 1), $2)) m) u \
           ORDER BY u.time DESC, u.session_id ASC LIMIT $5 OFFSET $6) \
         SELECT t.total, t.hot, c.body \
         FROM totals t LEFT JOIN (page p CROSS JOIN LATERAL (SELECT body FROM cdr \
           WHERE sdk_app_id = $1 AND session_id = p.session_id OFFSET 0) c) ON true \
         ORDER BY p.time DESC, p.session_id ASC",
        &[
            &query.sdk_app_id,
            &query.start,
            &query.end,
            &phones,
            &limit,
            &offset,
            &per_stream,
            &cut.levels,
            &cut.firsts,
            &cut.lasts,
            &cut.count_los,
            &cut.count_his,
            &threshold,
        ],
    )?;
    let mut answer = Answer {
        page: CdrPage::default(),
        newly_busy: Vec::new(),
    };
    for row in rows {
        answer.page.total = row.get::<_, i64>(0) as u64;
        answer.newly_busy = row.get(1);
        if let Some(body) = row.get::<_, Option<Vec<u8>>>(2) {
            answer.page.records.push(body);
        }
    }
    Ok(answer)
}

/// Session ids, with or without phones: the primary key finds the few rows.
fn filtered_page(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let (phones, sessions) = query.distinct_filters();
    // An empty phone list means "no phone filter".
    let (filter, lists): (&str, Vec<&(dyn ToSql + Sync)>) = if phones.is_empty() {
        ("session_id = ANY($4)", vec![&sessions])
    } else {
        (
            "(caller = ANY($4) OR callee = ANY($4)) AND session_id = ANY($5)",
            vec![&phones, &sessions],
        )
    };
    let window = "sdk_app_id = $1 AND time BETWEEN $2 AND $3";
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&query.sdk_app_id, &query.start, &query.end];
    args.extend(lists);
    let count_args = args.len();
    let (limit, offset) = (
        i64::from(query.limit),
        query.offset.min(i64::MAX as u64) as i64,
    );
    args.extend([&limit as &(dyn ToSql + Sync), &offset]);
    // The total rides along with the page, so both come from one snapshot
    // in one round trip; only an empty page needs the count on its own.
    let rows = client.query(
        &format!(
            "SELECT (SELECT count(*) FROM cdr WHERE {window} AND {filter}), body \
             FROM cdr WHERE {window} AND {filter} \
             ORDER BY time DESC, session_id ASC LIMIT ${} OFFSET ${}",
            count_args + 1,
            count_args + 2
        ),
        &args,
    )?;
    let mut page = CdrPage::default();
    for row in rows {
        page.total = row.get::<_, i64>(0) as u64;
        page.records.push(row.get(1));
    }
    if page.records.is_empty() {
        page.total = client
            .query_one(
                &format!("SELECT count(*) FROM cdr WHERE {window} AND {filter}"),
                &args[..count_args],
            )?
            .get::<_, i64>(0) as u64;
    }
    Ok(page)
}
