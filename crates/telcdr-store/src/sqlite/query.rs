//! The hot path: one tenant, an inclusive time window, maybe phones or
//! session ids, a page newest first, and an exact total.
//!
//! Without filters the total comes from the hourly buckets (whole hours)
//! plus exact counts of the two edge hours through the time index, and a
//! page at offset N starts from the hour that holds row N, so neither the
//! total nor a deep page costs a pass over the window. With filters the
//! matching set is found through the session or phone indexes; such sets
//! are small, so they are counted and sorted exactly.

use std::cmp::Reverse;
use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::{HOUR, HOURS_PER_DAY, hour_of};
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

/// First and last second of `hour`, saturating at the ends of i64.
fn hour_bounds(hour: i64) -> (i64, i64) {
    let first = hour.saturating_mul(HOUR);
    (first, first.saturating_add(HOUR - 1))
}

/// Records of one tenant with `lo <= time <= hi`, counted on the time index.
fn count_range(conn: &Connection, sdk_app_id: i64, lo: i64, hi: i64) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM cdr WHERE sdk_app_id = ?1 AND time BETWEEN ?2 AND ?3",
    )?;
    let n: i64 = stmt.query_row(params![sdk_app_id, lo, hi], |row| row.get(0))?;
    Ok(n as u64)
}

/// A stretch of the window with its number of records, newest first.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Last second of the stretch that lies in the window.
    top: i64,
    count: u64,
    /// A whole day bucket, to be opened into its hours by a deep page.
    day: Option<i64>,
}

/// Buckets of `table` for `first..=last`, newest first.
fn buckets(
    conn: &Connection,
    table: &str,
    sdk_app_id: i64,
    first: i64,
    last: i64,
) -> Result<Vec<(i64, u64)>, StoreError> {
    if first > last {
        return Ok(Vec::new());
    }
    let column = if table == "cdr_day" { "day" } else { "hour" };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {column}, count FROM {table} \
         WHERE sdk_app_id = ?1 AND {column} BETWEEN ?2 AND ?3 ORDER BY {column} DESC"
    ))?;
    let rows = stmt.query_map(params![sdk_app_id, first, last], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The records of an hour that the window only partly covers: counted
/// directly, or as the bucket minus the uncovered part when that is shorter.
fn edge_hour(conn: &Connection, query: &CdrQuery, hour: i64) -> Result<Segment, StoreError> {
    let (first, last) = hour_bounds(hour);
    let (lo, hi) = (first.max(query.start), last.min(query.end));
    let count = if lo == first && hi == last {
        bucket_count(conn, query.sdk_app_id, hour)?
    } else if hi - lo < HOUR / 2 {
        count_range(conn, query.sdk_app_id, lo, hi)?
    } else {
        let bucket = bucket_count(conn, query.sdk_app_id, hour)?;
        let below = if lo > first {
            count_range(conn, query.sdk_app_id, first, lo - 1)?
        } else {
            0
        };
        let above = if hi < last {
            count_range(conn, query.sdk_app_id, hi + 1, last)?
        } else {
            0
        };
        bucket - below - above
    };
    Ok(Segment {
        top: hi,
        count,
        day: None,
    })
}

fn bucket_count(conn: &Connection, sdk_app_id: i64, hour: i64) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(count), 0) FROM cdr_hour WHERE sdk_app_id = ?1 AND hour = ?2",
    )?;
    let n: i64 = stmt.query_row(params![sdk_app_id, hour], |row| row.get(0))?;
    Ok(n as u64)
}

fn hour_segments(hours: Vec<(i64, u64)>) -> impl Iterator<Item = Segment> {
    hours.into_iter().map(|(hour, count)| Segment {
        top: hour_bounds(hour).1,
        count,
        day: None,
    })
}

/// The window cut into segments, newest first: the two edge hours counted
/// exactly, whole days from `cdr_day`, the hours between from `cdr_hour`.
/// At most ~2 + 46 + (days in the window) rows are read.
fn segments(conn: &Connection, query: &CdrQuery) -> Result<Vec<Segment>, StoreError> {
    let app = query.sdk_app_id;
    let first_hour = hour_of(query.start);
    let last_hour = hour_of(query.end);
    let mut out = vec![edge_hour(conn, query, last_hour)?];
    if first_hour == last_hour {
        return Ok(out);
    }
    // Hours strictly between the edges: mid_lo..=mid_hi.
    let (mid_lo, mid_hi) = (first_hour + 1, last_hour - 1);
    let first_day = (mid_lo + HOURS_PER_DAY - 1).div_euclid(HOURS_PER_DAY);
    let last_day = (mid_hi + 1).div_euclid(HOURS_PER_DAY) - 1;
    if first_day <= last_day {
        out.extend(hour_segments(buckets(
            conn,
            "cdr_hour",
            app,
            (last_day + 1) * HOURS_PER_DAY,
            mid_hi,
        )?));
        for (day, count) in buckets(conn, "cdr_day", app, first_day, last_day)? {
            out.push(Segment {
                top: hour_bounds((day + 1) * HOURS_PER_DAY - 1).1,
                count,
                day: Some(day),
            });
        }
        out.extend(hour_segments(buckets(
            conn,
            "cdr_hour",
            app,
            mid_lo,
            first_day * HOURS_PER_DAY - 1,
        )?));
    } else {
        out.extend(hour_segments(buckets(
            conn, "cdr_hour", app, mid_lo, mid_hi,
        )?));
    }
    out.push(edge_hour(conn, query, first_hour)?);
    Ok(out)
}

/// No filters: the total from the segments, and the page read from the top
/// of the hour that holds its first row.
fn window_page(conn: &Connection, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let segments = segments(conn, query)?;
    let total = segments.iter().map(|s| s.count).sum();
    let mut page = CdrPage {
        total,
        records: Vec::new(),
    };
    if query.limit == 0 || query.offset >= total {
        return Ok(page);
    }
    // Find the segment holding row `offset`; open a day into its hours.
    let mut before = 0u64;
    let mut found = None;
    for segment in &segments {
        if query.offset < before + segment.count {
            found = Some(*segment);
            break;
        }
        before += segment.count;
    }
    let Some(mut segment) = found else {
        return Ok(page);
    };
    if let Some(day) = segment.day {
        let hours = buckets(
            conn,
            "cdr_hour",
            query.sdk_app_id,
            day * HOURS_PER_DAY,
            (day + 1) * HOURS_PER_DAY - 1,
        )?;
        for hour in hour_segments(hours) {
            if query.offset < before + hour.count {
                segment = hour;
                break;
            }
            before += hour.count;
        }
    }
    let top = segment.top.min(query.end);
    let skip = query.offset - before;
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM cdr WHERE sdk_app_id = ?1 AND time BETWEEN ?2 AND ?3 \
         ORDER BY time DESC, session_id ASC LIMIT ?4 OFFSET ?5",
    )?;
    let rows = stmt.query_map(
        params![
            query.sdk_app_id,
            query.start,
            top,
            i64::from(query.limit),
            skip as i64
        ],
        |row| row.get::<_, Vec<u8>>(0),
    )?;
    for body in rows {
        page.records.push(body?);
    }
    Ok(page)
}

/// `?N, ?N+1, ...` for an IN list of `len` values starting at parameter `from`.
fn placeholders(from: usize, len: usize) -> String {
    (from..from + len)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Deduplicated list, keeping first-seen order (so SQL text stays stable
/// for the statement cache).
fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
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
    let phones = distinct(&query.phones);
    let sessions = distinct(&query.session_ids);
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
            .chain(sessions.iter().cloned().map(Value::from));
        let mut rows = stmt.query(params_from_iter(args))?;
        let wanted: HashSet<&str> = phones.iter().map(String::as_str).collect();
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
        for column in ["caller", "callee"] {
            let sql = format!(
                "SELECT id, time, session_id FROM cdr \
                 WHERE sdk_app_id = ?1 AND {column} IN ({}) AND time BETWEEN ?2 AND ?3",
                placeholders(4, phones.len())
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let args = base
                .iter()
                .cloned()
                .chain(phones.iter().cloned().map(Value::from));
            let mut rows = stmt.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                if seen.insert(id) {
                    matches.push(Match {
                        id,
                        time: row.get(1)?,
                        session_id: row.get(2)?,
                    });
                }
            }
        }
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
