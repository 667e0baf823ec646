//! The hot path: one tenant, an inclusive time window, maybe phones or
//! session ids, a page newest first, and an exact total.
//!
//! Without filters the total and the page's start come from the count
//! buckets (see [`crate::window`]), so neither the total nor a deep page
//! costs a pass over the window. With filters the
//! matching set is found through the session or phone indexes; such sets
//! are small, so they are counted and sorted exactly.

use std::cmp::Reverse;
use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use crate::window::{self, BucketSource, PageStart, SPANS};
use crate::{CdrPage, CdrQuery, StoreError};

/// Answers `query` on a reader connection, inside one read transaction so
/// the total and the page come from the same snapshot.
pub(crate) fn query_cdrs(conn: &Connection, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    if query.start > query.end {
        return Ok(CdrPage::default());
    }
    let tx = conn.unchecked_transaction()?;
    let page = if query.phones.is_empty() && query.session_ids.is_empty() {
        window_page(&tx, query)?
    } else {
        filtered_page(&tx, query)?
    };
    tx.commit()?;
    Ok(page)
}

/// The bucket and count reads of [`window::locate`] on one connection.
struct Buckets<'a> {
    conn: &'a Connection,
    sdk_app_id: i64,
}

impl BucketSource for Buckets<'_> {
    fn buckets(
        &mut self,
        level: usize,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT start, count FROM cdr_bucket \
             WHERE sdk_app_id = ?1 AND span = ?2 AND start BETWEEN ?3 AND ?4 ORDER BY start DESC",
        )?;
        let rows = stmt.query_map(params![self.sdk_app_id, SPANS[level], first, last], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn count_range(&mut self, lo: i64, hi: i64) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*) FROM cdr WHERE sdk_app_id = ?1 AND time BETWEEN ?2 AND ?3",
        )?;
        let n: i64 = stmt.query_row(params![self.sdk_app_id, lo, hi], |row| row.get(0))?;
        Ok(n as u64)
    }
}

/// The bodies of an unfiltered page. The walk goes down the time index
/// (it holds time, session id and rowid) and seeks a row only after the
/// OFFSET check (SQLite's deferred seek), so the skipped rows are never
/// read. One statement, not a rowid query and a look-up per row: each
/// statement run costs a bind, a step and a reset, a tenth of a page's CPU.
pub(super) const PAGE_BODIES: &str = "SELECT body FROM cdr WHERE sdk_app_id = ?1 \
     AND time BETWEEN ?2 AND ?3 ORDER BY time DESC, session_id ASC LIMIT ?4 OFFSET ?5";

/// No filters: the total from the buckets, and the page read from the top
/// of the finest segment that holds its first row.
fn window_page(conn: &Connection, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let mut source = Buckets {
        conn,
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
    let mut bodies = conn.prepare_cached(PAGE_BODIES)?;
    page.records = bodies
        .query_map(
            params![
                query.sdk_app_id,
                query.start,
                top,
                i64::from(query.limit),
                skip as i64
            ],
            |row| row.get::<_, Vec<u8>>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page)
}

/// The (rowid, time) of the records whose `column` (caller or callee) is
/// one of `phones` numbers, from the phone index alone (no row is read).
/// Parameters: ?1 app, ?2 and ?3 the window, ?4 and ?5 its first and last
/// week (see [`phone_weeks`]), then the numbers.
pub(super) fn phone_hits(column: &str, phones: usize) -> String {
    format!(
        "{} SELECT id, time FROM cdr \
         WHERE sdk_app_id = ?1 AND {IN_WEEKS} AND {column} IN ({}) \
         AND time BETWEEN ?2 AND ?3",
        weeks_table(4),
        placeholders(6, phones)
    )
}

/// The weeks (`time / 604800`) from parameter `?first` to `?first+1` as
/// the table `weeks(w)`. The phone indexes are led by the week (see schema
/// step 3): a phone query names the weeks of its window with
/// `time / 604800 IN weeks`, which SQLite turns into one index seek per
/// week and number. The expression must read exactly so for SQLite to
/// match it to the indexes.
pub(super) fn weeks_table(first: usize) -> String {
    format!(
        "WITH RECURSIVE weeks(w) AS (SELECT ?{first} UNION ALL SELECT w + 1 FROM weeks \
         WHERE w < ?{})",
        first + 1
    )
}

/// The condition that puts a phone query on the week-led phone indexes: the
/// row's week is one of [`weeks_table`]'s. SQLite matches an indexed
/// expression only when it is written the same way as in schema step 3.
pub(super) const IN_WEEKS: &str = "time / 604800 IN weeks";

/// Seconds per week of the phone indexes' leading `time / 604800`.
const WEEK: i64 = 604_800;

/// A window of more weeks than this is first narrowed to the app's records,
/// so that a window of years costs no more seeks than the weeks that hold
/// records. The API's windows (under 90 days) never need it.
const WEEKS_BEFORE_NARROWING: i64 = 16;

/// The first and last week of the phone indexes that can hold a record of
/// `sdk_app_id` in `[start, end]`, or `None` when none can. Integer division
/// truncates in SQLite as in Rust, and both are monotonic, so the weeks of
/// the window's ends bound the weeks of every time inside it.
pub(super) fn phone_weeks(
    conn: &Connection,
    sdk_app_id: i64,
    start: i64,
    end: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let (mut start, mut end) = (start, end);
    if end / WEEK - start / WEEK > WEEKS_BEFORE_NARROWING {
        // Two scalar subqueries: SQLite answers a lone min() or max() with
        // one index seek, but not both in one.
        let extent: (Option<i64>, Option<i64>) = conn
            .prepare_cached(
                "SELECT (SELECT min(time) FROM cdr WHERE sdk_app_id = ?1), \
                        (SELECT max(time) FROM cdr WHERE sdk_app_id = ?1)",
            )?
            .query_row([sdk_app_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let (Some(first), Some(last)) = extent else {
            return Ok(None);
        };
        start = start.max(first);
        end = end.min(last);
    }
    Ok((start <= end).then_some((start / WEEK, end / WEEK)))
}

/// `?N, ?N+1, ...` for an IN list of `len` values starting at parameter `from`.
fn placeholders(from: usize, len: usize) -> String {
    (from..from + len)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One match of a filtered query, before its body is read.
struct Match {
    id: i64,
    time: i64,
    session_id: String,
}

/// Phones and/or session ids: find the matching set through the indexes,
/// sort it, and read the bodies of the page only.
fn filtered_page(conn: &Connection, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    // First-seen order keeps the SQL text stable for the statement cache.
    let (phones, sessions) = query.distinct_filters();
    let base = [
        Value::from(query.sdk_app_id),
        Value::from(query.start),
        Value::from(query.end),
    ];

    let mut matches: Vec<Match> = Vec::new();
    if !sessions.is_empty() {
        // At most one record per session id: the unique index finds them,
        // and the phone filter, if any, is checked on those few rows.
        let sql = format!(
            "SELECT id, time, session_id, caller, callee FROM cdr \
             WHERE sdk_app_id = ?1 AND time BETWEEN ?2 AND ?3 AND session_id IN ({})",
            placeholders(4, sessions.len())
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let args = base
            .iter()
            .cloned()
            .chain(sessions.iter().map(|s| Value::from(s.to_string())));
        let mut rows = stmt.query(params_from_iter(args))?;
        let wanted: HashSet<&str> = phones.iter().copied().collect();
        while let Some(row) = rows.next()? {
            let caller: String = row.get(3)?;
            let callee: String = row.get(4)?;
            if wanted.is_empty()
                || wanted.contains(caller.as_str())
                || wanted.contains(callee.as_str())
            {
                matches.push(Match {
                    id: row.get(0)?,
                    time: row.get(1)?,
                    session_id: row.get(2)?,
                });
            }
        }
    } else {
        // Caller matches and callee matches through their own indexes; a
        // record matching on both sides is kept once.
        let mut seen = HashSet::new();
        let mut hits: Vec<(i64, i64)> = Vec::new();
        let Some((first_week, last_week)) =
            phone_weeks(conn, query.sdk_app_id, query.start, query.end)?
        else {
            return Ok(CdrPage::default());
        };
        for column in ["caller", "callee"] {
            let mut stmt = conn.prepare_cached(&phone_hits(column, phones.len()))?;
            let args = base
                .iter()
                .cloned()
                .chain([Value::from(first_week), Value::from(last_week)])
                .chain(phones.iter().map(|p| Value::from(p.to_string())));
            let mut rows = stmt.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                if seen.insert(id) {
                    hits.push((row.get(1)?, id));
                }
            }
        }
        return page_of_hits(conn, query, hits);
    }

    matches.sort_by(|a, b| (Reverse(a.time), &a.session_id).cmp(&(Reverse(b.time), &b.session_id)));
    let mut page = CdrPage {
        total: matches.len() as u64,
        records: Vec::new(),
    };
    let skip = usize::try_from(query.offset).unwrap_or(usize::MAX);
    let mut body = conn.prepare_cached("SELECT body FROM cdr WHERE id = ?1")?;
    for m in matches.iter().skip(skip).take(query.limit as usize) {
        page.records.push(body.query_row([m.id], |row| row.get(0))?);
    }
    Ok(page)
}

/// A page of phone matches known by (time, rowid) only. A frequent number
/// matches thousands of records in 90 days; reading each row for its
/// session id (the tie-breaker) cost milliseconds. Sorting by time alone
/// puts every record in its place except among equal times, so only the
/// page's rows plus those tied with its first and last time are read, then
/// ordered by session id.
fn page_of_hits(
    conn: &Connection,
    query: &CdrQuery,
    mut hits: Vec<(i64, i64)>,
) -> Result<CdrPage, StoreError> {
    hits.sort_unstable_by_key(|&(time, id)| (Reverse(time), id));
    let total = hits.len();
    let mut page = CdrPage {
        total: total as u64,
        records: Vec::new(),
    };
    let from = usize::try_from(query.offset)
        .unwrap_or(usize::MAX)
        .min(total);
    let to = from.saturating_add(query.limit as usize).min(total);
    if from == to {
        return Ok(page);
    }
    let mut first = from;
    while first > 0 && hits[first - 1].0 == hits[from].0 {
        first -= 1;
    }
    let mut last = to;
    while last < total && hits[last].0 == hits[to - 1].0 {
        last += 1;
    }
    let mut row = conn.prepare_cached("SELECT session_id, body FROM cdr WHERE id = ?1")?;
    let mut window: Vec<(i64, String, Vec<u8>)> = Vec::with_capacity(last - first);
    for &(time, id) in &hits[first..last] {
        let (session_id, body) = row.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        window.push((time, session_id, body));
    }
    window.sort_by(|a, b| (Reverse(a.0), &a.1).cmp(&(Reverse(b.0), &b.1)));
    page.records = window
        .into_iter()
        .skip(from - first)
        .take(to - from)
        .map(|(_, _, body)| body)
        .collect();
    Ok(page)
}
