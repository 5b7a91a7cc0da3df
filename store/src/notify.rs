//! Telling servers that the current version (or the staff) changed, across processes.
//!
//! PostGIS: `pg_notify` inside the publishing transaction, delivered on commit to every
//! `LISTEN`er; a listener also re-reads the pointer every few seconds, so a notification lost to
//! a dropped connection is only late, never missed. SQLite has no notifications: the pointer
//! row is polled, which is one indexed read of one row. Neither can a PostgreSQL hot standby
//! (`LISTEN` is refused during recovery and notifications are not replicated): its pointer is
//! polled too, so it follows the primary as fast as replication does.

use crate::{Pool, Store};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::watch;

/// What a server serves: the current version and the staff list's revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Current {
    pub version: Option<i64>,
    pub staff_revision: i64,
}

/// How often SQLite's pointer is read; a publish is seen within this.
const SQLITE_POLL: Duration = Duration::from_millis(100);
/// How often a hot standby's pointer is read: a publish on the primary is served within this
/// plus the replication lag plus the time to load the version.
const STANDBY_POLL: Duration = Duration::from_millis(200);
/// How often a PostgreSQL listener re-reads the pointer anyway.
const PG_RECHECK: Duration = Duration::from_secs(5);

impl Store {
    /// The current version and staff revision, now and whenever they change (through this
    /// handle or any other process on the same database). Needs a Tokio runtime; the watcher
    /// task stops when every receiver is dropped.
    pub async fn subscribe(&self) -> crate::Result<watch::Receiver<Current>> {
        {
            let guard = self.watcher.lock().expect("watcher lock");
            if let Some(tx) = guard.as_ref().filter(|tx| !tx.is_closed()) {
                return Ok(tx.subscribe());
            }
        }
        let now = self.current_number().await?;
        let (tx, rx) = watch::channel(now);
        let store = self.clone();
        let sender = tx.clone();
        let listen_on = match &self.pool {
            Pool::Pg(pool) if !self.standby => Some(pool),
            _ => None,
        };
        match listen_on {
            None => {
                let every = if self.standby { STANDBY_POLL } else { SQLITE_POLL };
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    loop {
                        tokio::select! {
                            _ = sender.closed() => break,
                            _ = tick.tick() => {}
                        }
                        match store.current_number().await {
                            Ok(c) => {
                                sender.send_if_modified(|old| std::mem::replace(old, c) != c);
                            }
                            Err(e) if closed(&e) => break,
                            Err(_) => {}
                        }
                    }
                });
            }
            Some(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(&self.channel()).await?;
                // Read again now that we listen: a publish between the first read and LISTEN
                // would otherwise wait for the recheck.
                if let Ok(c) = store.current_number().await {
                    sender.send_if_modified(|old| std::mem::replace(old, c) != c);
                }
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = sender.closed() => break,
                            n = listener.recv() => match n {
                                // Store::close: let the listener's connection go, or closing
                                // the pool would wait for it forever.
                                Err(sqlx::Error::PoolClosed) => break,
                                // Reconnects on the next recv; back off a little meanwhile.
                                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                                Ok(_) => {}
                            },
                            _ = tokio::time::sleep(PG_RECHECK) => {}
                        }
                        match store.current_number().await {
                            Ok(c) => {
                                sender.send_if_modified(|old| std::mem::replace(old, c) != c);
                            }
                            Err(e) if closed(&e) => break,
                            Err(_) => {}
                        }
                    }
                });
            }
        }
        *self.watcher.lock().expect("watcher lock") = Some(tx);
        Ok(rx)
    }
}

fn closed(e: &crate::StoreError) -> bool {
    matches!(e, crate::StoreError::Db(sqlx::Error::PoolClosed))
}
