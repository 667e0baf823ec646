//! A fixed pool of read connections. In WAL mode readers never wait for the
//! writer, so a handful of them serve concurrent queries; a caller that finds
//! none idle waits for one to come back.

use std::sync::{Condvar, Mutex, PoisonError};

use rusqlite::Connection;

use crate::StoreError;

pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl ReaderPool {
    pub(crate) fn new(connections: Vec<Connection>) -> ReaderPool {
        ReaderPool {
            idle: Mutex::new(connections),
            returned: Condvar::new(),
        }
    }

    /// Runs `f` on an idle reader, waiting for one if all are busy.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic elsewhere while holding the lock leaves the Vec intact, so
        // poisoning is ignored rather than spread.
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let conn = loop {
            match idle.pop() {
                Some(conn) => break conn,
                None => {
                    idle = self
                        .returned
                        .wait(idle)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        };
        drop(idle);
        let lease = Lease {
            pool: self,
            conn: Some(conn),
        };
        f(lease.conn.as_ref().expect("leased connection"))
    }
}

/// Gives the connection back on drop, also when `f` panics.
struct Lease<'a> {
    pool: &'a ReaderPool,
    conn: Option<Connection>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
            self.pool.returned.notify_one();
        }
    }
}
