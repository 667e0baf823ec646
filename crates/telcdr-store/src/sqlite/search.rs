//! The console's search in SQLite: DescribeTelCdr's filters plus direction,
//! end status, agent and skill group, over the window's rows in the time
//! index's order (see `Store::search_cdrs`).

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::{CdrPage, CdrQuery, ExtraFilters, StoreError};

/// A WHERE clause under construction and the values it binds.
struct Filter {
    sql: String,
    args: Vec<Value>,
}

impl Filter {
    fn marks(n: usize) -> String {
        vec!["?"; n].join(", ")
    }

    /// `AND column IN (...)`, when there are values.
    fn one_of(&mut self, column: &str, values: Vec<Value>) {
        if values.is_empty() {
            return;
        }
        self.sql
            .push_str(&format!(" AND {column} IN ({})", Self::marks(values.len())));
        self.args.extend(values);
    }
}

fn texts(values: &[&str]) -> Vec<Value> {
    values
        .iter()
        .map(|v| Value::from((*v).to_owned()))
        .collect()
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::from(v)).collect()
}

pub(crate) fn search_cdrs(
    conn: &Connection,
    q: &CdrQuery,
    extra: &ExtraFilters,
) -> Result<CdrPage, StoreError> {
    let mut f = Filter {
        sql: "FROM cdr WHERE sdk_app_id = ? AND time >= ? AND time <= ?".to_owned(),
        args: vec![q.sdk_app_id.into(), q.start.into(), q.end.into()],
    };
    let (phones, sessions) = q.distinct_filters();
    if !phones.is_empty() {
        let marks = Filter::marks(phones.len());
        f.sql.push_str(&format!(
            " AND (caller IN ({marks}) OR callee IN ({marks}))"
        ));
        f.args.extend(texts(&phones));
        f.args.extend(texts(&phones));
    }
    f.one_of("session_id", texts(&sessions));
    f.one_of("direction", ints(&extra.directions));
    f.one_of("end_status", ints(&extra.end_statuses));
    let mails: Vec<&str> = extra.seat_mails.iter().map(String::as_str).collect();
    f.one_of("seat_mail", texts(&mails));
    f.one_of("skill_group_id", ints(&extra.skill_group_ids));

    let total: i64 = conn.query_row(
        &format!("SELECT count(*) {}", f.sql),
        params_from_iter(f.args.iter()),
        |r| r.get(0),
    )?;
    let mut args = f.args;
    args.push(i64::from(q.limit).into());
    args.push((q.offset.min(i64::MAX as u64) as i64).into());
    let mut stmt = conn.prepare(&format!(
        "SELECT body {} ORDER BY time DESC, session_id LIMIT ? OFFSET ?",
        f.sql
    ))?;
    let records = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<_, _>>()?;
    Ok(CdrPage {
        total: total as u64,
        records,
    })
}
