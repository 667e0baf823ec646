//! The hot path on PostgreSQL: the same answers as SQLite's, from one
//! REPEATABLE READ snapshot so the total and the page agree.
//!
//! Without filters the total and the page's start come from the count
//! buckets (see [`crate::window`]); the page is then an index range read on
//! `cdr_by_time` skipping at most one 5-minute slice. With filters the
//! matching set is small: session ids go through the primary key, phones
//! through the caller and callee indexes (a BitmapOr), counted and paged
//! in SQL.

use std::collections::HashSet;

use postgres::types::ToSql;

use super::PgClient;
use crate::window::{self, BucketSource, PageStart, SPANS};
use crate::{CdrPage, CdrQuery, StoreError};

/// Answers `query` inside one read-only snapshot.
pub(crate) fn query_cdrs(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    if query.start > query.end {
        return Ok(CdrPage::default());
    }
    client
        .raw()
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let page = if query.phones.is_empty() && query.session_ids.is_empty() {
        window_page(client, query)
    } else {
        filtered_page(client, query)
    };
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

/// Deduplicated list, first-seen order.
fn distinct(values: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    values
        .iter()
        .map(String::as_str)
        .filter(|v| seen.insert(*v))
        .collect()
}

fn filtered_page(client: &mut PgClient, query: &CdrQuery) -> Result<CdrPage, StoreError> {
    let phones = distinct(&query.phones);
    let sessions = distinct(&query.session_ids);
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
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&query.sdk_app_id, &query.start, &query.end];
    args.extend(lists);
    let total: i64 = client
        .query_one(
            &format!(
                "SELECT count(*) FROM cdr \
                 WHERE sdk_app_id = $1 AND time BETWEEN $2 AND $3 AND {filter}"
            ),
            &args,
        )?
        .get(0);
    let mut page = CdrPage {
        total: total as u64,
        records: Vec::new(),
    };
    if query.limit == 0 || query.offset >= page.total {
        return Ok(page);
    }
    let (limit, offset) = (i64::from(query.limit), query.offset as i64);
    let n = args.len();
    args.extend([&limit as &(dyn ToSql + Sync), &offset]);
    let rows = client.query(
        &format!(
            "SELECT body FROM cdr WHERE sdk_app_id = $1 AND time BETWEEN $2 AND $3 AND {filter} \
             ORDER BY time DESC, session_id ASC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ),
        &args,
    )?;
    page.records = rows.into_iter().map(|row| row.get(0)).collect();
    Ok(page)
}
