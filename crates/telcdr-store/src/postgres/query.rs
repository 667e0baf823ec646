//! The hot path on PostgreSQL: the same answers as SQLite's, each page and
//! its total from one snapshot, in as few round trips as possible (on a
//! two-core machine the round trips cost more than the queries).
//!
//! Without filters the total and the page's start come from the count
//! buckets (see [`crate::window`]): the walk runs inside the database, one
//! statement per request, and the page is an index range read on
//! `cdr_by_time` skipping at most one 5-minute slice. Windows with times
//! outside what that SQL handles take the Rust walk in a REPEATABLE READ
//! transaction. With filters, session ids go through the primary key and
//! phones through index-only scans of the caller and callee indexes (which
//! carry the session id), counted and paged in one statement that reads
//! only the page's bodies.

use postgres::types::ToSql;

use super::PgClient;
use crate::window::{self, BucketSource, PageStart, SPANS};
use crate::{CdrPage, CdrQuery, StoreError};

/// Answers `query` inside one read-only snapshot.
pub(crate) fn query_cdrs(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    if query.start > query.end {
        return Ok(CdrPage::default());
    }
    if !query.phones.is_empty() || !query.session_ids.is_empty() {
        return filtered_page(client, query);
    }
    if SQL_WALK_TIMES.contains(&query.start) && SQL_WALK_TIMES.contains(&query.end) {
        // One statement: its own snapshot, no transaction needed.
        return window_page_in_sql(client, query);
    }
    client
        .raw()
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let page = window_page(client, query);
    match page {
        Ok(page) => {
            client.raw().batch_execute("COMMIT")?;
            Ok(page)
        }
        Err(e) => {
            // Leave the pooled connection outside any transaction; a broken
            // connection has none to leave.
            let _ = client.raw().batch_execute("ROLLBACK");
            Err(e)
        }
    }
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

/// One round trip: the cut's reads are computed here (they depend on the
/// window only) and `telcdr_window_page` (see schema.rs) does the rest in
/// the calling statement's snapshot. Ten round trips per page cost more
/// than the queries did.
fn window_page_in_sql(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let (buckets, counts) = window::cut_reads(query.start, query.end);
    // SQL arrays are 1-based: level 1 is the day span.
    let levels: Vec<i32> = buckets.iter().map(|b| b.0 as i32 + 1).collect();
    let firsts: Vec<i64> = buckets.iter().map(|b| b.1).collect();
    let lasts: Vec<i64> = buckets.iter().map(|b| b.2).collect();
    let count_los: Vec<i64> = counts.iter().map(|c| c.0).collect();
    let count_his: Vec<i64> = counts.iter().map(|c| c.1).collect();
    let rows = client.query(
        "SELECT total, body FROM telcdr_window_page($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &query.sdk_app_id,
            &query.start,
            &query.end,
            &(query.offset.min(i64::MAX as u64) as i64),
            &i64::from(query.limit),
            &levels,
            &firsts,
            &lasts,
            &count_los,
            &count_his,
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

fn filtered_page(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let (phones, sessions) = query.distinct_filters();
    // One statement shape per filter combination; an empty list means "no
    // such filter".
    let (filter, lists): (&str, Vec<&(dyn ToSql + Sync)>) =
        match (phones.is_empty(), sessions.is_empty()) {
            (false, true) => ("(caller = ANY($4) OR callee = ANY($4))", vec![&phones]),
            (true, false) => ("session_id = ANY($4)", vec![&sessions]),
            _ => (
                "(caller = ANY($4) OR callee = ANY($4)) AND session_id = ANY($5)",
                vec![&phones, &sessions],
            ),
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
    let rows = if sessions.is_empty() {
        // A frequent number matches thousands of calls: order (time,
        // session id) pairs from the phone indexes (index-only), and read
        // the bodies of the page's rows only.
        client.query(
            &format!(
                "WITH m AS MATERIALIZED ( \
                   SELECT time, session_id FROM cdr WHERE {window} AND caller = ANY($4) \
                   UNION \
                   SELECT time, session_id FROM cdr WHERE {window} AND callee = ANY($4)) \
                 SELECT (SELECT count(*) FROM m), c.body \
                 FROM (SELECT time, session_id FROM m \
                       ORDER BY time DESC, session_id ASC LIMIT $5 OFFSET $6) p \
                 JOIN cdr c ON c.sdk_app_id = $1 AND c.session_id = p.session_id \
                 ORDER BY p.time DESC, p.session_id ASC"
            ),
            &args,
        )?
    } else {
        client.query(
            &format!(
                "SELECT (SELECT count(*) FROM cdr WHERE {window} AND {filter}), body \
             FROM cdr WHERE {window} AND {filter} \
             ORDER BY time DESC, session_id ASC LIMIT ${} OFFSET ${}",
                count_args + 1,
                count_args + 2
            ),
            &args,
        )?
    };
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
