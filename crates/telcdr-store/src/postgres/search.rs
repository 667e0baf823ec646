//! The console's search in PostgreSQL (see SQLite's `search` module and
//! `Store::search_cdrs`): one count and one page over the window's rows,
//! each list bound as an array.

use postgres::types::ToSql;

use super::PgClient;
use crate::{CdrPage, CdrQuery, ExtraFilters, StoreError};

pub(crate) fn search_cdrs(
    client: &mut PgClient,
    q: &CdrQuery,
    extra: &ExtraFilters,
) -> Result<CdrPage, StoreError> {
    let (phones, sessions) = q.distinct_filters();
    let phones: Vec<String> = phones.iter().map(|p| p.to_string()).collect();
    let sessions: Vec<String> = sessions.iter().map(|s| s.to_string()).collect();
    let mut sql = String::from("FROM cdr WHERE sdk_app_id = $1 AND time >= $2 AND time <= $3");
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&q.sdk_app_id, &q.start, &q.end];
    if !phones.is_empty() {
        args.push(&phones);
        let n = args.len();
        sql.push_str(&format!(" AND (caller = ANY(${n}) OR callee = ANY(${n}))"));
    }
    if !sessions.is_empty() {
        args.push(&sessions);
        sql.push_str(&format!(" AND session_id = ANY(${})", args.len()));
    }
    if !extra.directions.is_empty() {
        args.push(&extra.directions);
        sql.push_str(&format!(" AND direction = ANY(${})", args.len()));
    }
    if !extra.end_statuses.is_empty() {
        args.push(&extra.end_statuses);
        sql.push_str(&format!(" AND end_status = ANY(${})", args.len()));
    }
    if !extra.seat_mails.is_empty() {
        args.push(&extra.seat_mails);
        sql.push_str(&format!(" AND seat_mail = ANY(${})", args.len()));
    }
    if !extra.skill_group_ids.is_empty() {
        args.push(&extra.skill_group_ids);
        sql.push_str(&format!(" AND skill_group_id = ANY(${})", args.len()));
    }
    let total: i64 = client
        .raw()
        .query_one(&format!("SELECT count(*) {sql}"), &args)?
        .get(0);
    let limit = i64::from(q.limit);
    let offset = q.offset.min(i64::MAX as u64) as i64;
    let n = args.len();
    args.push(&limit);
    args.push(&offset);
    let records = client
        .raw()
        .query(
            &format!(
                "SELECT body {sql} ORDER BY time DESC, session_id LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &args,
        )?
        .iter()
        .map(|r| r.get::<_, Vec<u8>>(0))
        .collect();
    Ok(CdrPage {
        total: total as u64,
        records,
    })
}
