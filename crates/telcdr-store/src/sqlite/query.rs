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

use super::{HOUR, hour_of};
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

/// The window's records in `hour`: the bucket when the window covers the
/// whole hour, an exact count of the covered part otherwise.
fn hour_in_window(conn: &Connection, query: &CdrQuery, hour: i64) -> Result<u64, StoreError> {
    let (first, last) = hour_bounds(hour);
    let lo = first.max(query.start);
    let hi = last.min(query.end);
    if lo == first && hi == last {
        let mut stmt = conn.prepare_cached(
            "SELECT coalesce(sum(count), 0) FROM cdr_hour WHERE sdk_app_id = ?1 AND hour = ?2",
        )?;
        let n: i64 = stmt.query_row(params![query.sdk_app_id, hour], |row| row.get(0))?;
        Ok(n as u64)
    } else {
        count_range(conn, query.sdk_app_id, lo, hi)
    }
}

/// No filters: buckets for the total, and the page read from the hour that
/// holds its first row.
fn window_page(conn: &Connection, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let first_hour = hour_of(query.start);
    let last_hour = hour_of(query.end);

    // (hour, records of the window in it), newest first; hours without
    // records may be missing.
    let mut hours: Vec<(i64, u64)> = vec![(last_hour, hour_in_window(conn, query, last_hour)?)];
    if last_hour > first_hour {
        let mut stmt = conn.prepare_cached(
            "SELECT hour, count FROM cdr_hour \
             WHERE sdk_app_id = ?1 AND hour > ?2 AND hour < ?3 ORDER BY hour DESC",
        )?;
        let rows = stmt.query_map(params![query.sdk_app_id, first_hour, last_hour], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            hours.push(row?);
        }
        hours.push((first_hour, hour_in_window(conn, query, first_hour)?));
    }
    let total = hours.iter().map(|&(_, n)| n).sum();

    let mut page = CdrPage {
        total,
        records: Vec::new(),
    };
    if query.limit == 0 {
        return Ok(page);
    }
    // Find the hour holding row `offset`; the page reads from the top of
    // that hour, skipping only the rows of that hour before it.
    let mut before = 0u64;
    for &(hour, n) in &hours {
        if query.offset < before + n {
            let top = hour_bounds(hour).1.min(query.end);
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
            break;
        }
        before += n;
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
