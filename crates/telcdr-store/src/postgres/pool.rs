//! Read connections that survive a database restart, and the statement
//! cache each connection keeps.
//!
//! Connections open on demand up to a limit. A request that fails because
//! its connection broke (PostgreSQL restarted, a network blip) drops that
//! connection and runs once more on a fresh one, since reads can be
//! repeated; while the database is down the error goes back to the caller,
//! and the pool heals by itself once it is up again.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, PoisonError};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};

use super::pg_error;
use crate::StoreError;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        pg_error(e)
    }
}

/// A connection with its prepared statements, keyed by SQL text: the hot
/// path runs a handful of fixed statements, and preparing each one per
/// request would double its round trips.
pub struct PgClient {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgClient {
    /// Runs `read` inside one read-only REPEATABLE READ transaction, so that
    /// its several statements see one snapshot. On an error the transaction
    /// is rolled back, leaving the pooled connection outside any (a broken
    /// connection has none to leave).
    pub(crate) fn in_snapshot<T>(
        &mut self,
        read: impl FnOnce(&mut PgClient) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.raw()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        match read(self) {
            Ok(value) => {
                self.raw().batch_execute("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.raw().batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    pub(crate) fn new(client: Client) -> PgClient {
        PgClient {
            client,
            statements: HashMap::new(),
        }
    }

    /// The connection itself, for transaction control and COPY.
    pub(crate) fn raw(&mut self) -> &mut Client {
        &mut self.client
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The prepared statement for `sql`, preparing it on first use.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    pub(crate) fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_one(&statement, params)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }
}

/// The read pool.
pub(crate) struct PgPool {
    config: Config,
    max: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<PgClient>,
    /// Connections open or being opened, idle or leased.
    open: usize,
}

impl PgPool {
    pub(crate) fn new(config: Config, max: usize) -> PgPool {
        PgPool {
            config,
            max: max.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Runs `f` on a pooled connection; once more on a fresh connection if
    /// the first one turns out to be broken.
    pub(crate) fn with<T>(
        &self,
        mut f: impl FnMut(&mut PgClient) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.lease()?;
        match f(lease.client()) {
            Err(_) if lease.client().is_closed() => {
                drop(lease);
                let mut lease = self.lease()?;
                f(lease.client())
            }
            result => result,
        }
    }

    /// An idle live connection, a new one while under the limit, or the
    /// next one returned.
    fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            while let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Lease {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(Lease {
                        pool: self,
                        client: Some(PgClient::new(client)),
                    }),
                    Err(e) => {
                        self.forget_one();
                        Err(pg_error(e))
                    }
                };
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A connection is gone: make room for another.
    fn forget_one(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open -= 1;
        drop(state);
        self.returned.notify_one();
    }
}

impl Drop for PgPool {
    // Closing a connection blocks on the client's own runtime, which panics
    // on a thread that drives async tasks; the last owner of a store may be
    // such a thread (a server shutting down). Close them on a plain thread.
    fn drop(&mut self) {
        let idle = std::mem::take(
            &mut self
                .state
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .idle,
        );
        if let Ok(closer) = std::thread::Builder::new()
            .name("telcdr-pg-close".into())
            .spawn(move || drop(idle))
        {
            let _ = closer.join();
        }
    }
}

/// A leased connection; goes back to the pool when dropped, or is forgotten
/// when it broke.
struct Lease<'a> {
    pool: &'a PgPool,
    client: Option<PgClient>,
}

impl Lease<'_> {
    fn client(&mut self) -> &mut PgClient {
        self.client.as_mut().expect("a lease holds its client")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if client.is_closed() {
            self.pool.forget_one();
            return;
        }
        let mut state = self
            .pool
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.idle.push(client);
        drop(state);
        self.pool.returned.notify_one();
    }
}
