//! Session slides, written behind the pages that cause them.
//!
//! A "rester connecté" session slides its 30-day expiry when it is used, at
//! most once every `auth::TOUCH_EVERY_SECS`. On a school morning that is one
//! write per returning pupil, on their first page: at 8:00, some 230 a second
//! on a département's node. On SQLite each write was a commit of its own
//! (an fsync) on the one writer connection, so every returning pupil's home
//! page queued behind every other's and behind the hand-ins (written behind,
//! the quarter-scale drill's home p99 went from 119 to 14–23 ms: bench/README,
//! "Session slides written behind the page").
//!
//! A slide does not need to be durable before the page answers: if it is
//! lost (a crash within the second), the session expires a day or so earlier
//! than it could have, 30 days from now. So the page records the slide here
//! and goes on; a background task writes what is pending in one transaction
//! every `FLUSH_EVERY` (`App::write_session_touches_periodically`). Until
//! then, this node reads its own pending slides over the database's row
//! (`App::session`), so it never believes a session older than it is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use cartable_domain::UserId;
use cartable_store::SessionTouch;

use crate::{App, AppError};

/// How often pending slides are written. A second gathers a peak's hundreds
/// into one commit, and is all that a crash can lose.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Pending slides kept at most; beyond, the page writes its slide itself
/// (the database is then so far behind that waiting is the honest answer).
const MAX_PENDING: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingTouch {
    pub user_id: UserId,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl PendingTouch {
    /// The store's form of this slide of the session `token_hash`.
    pub fn for_store(&self, token_hash: &str) -> SessionTouch {
        SessionTouch {
            token_hash: token_hash.to_string(),
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
        }
    }
}

#[derive(Default)]
pub struct SessionTouches {
    pending: Mutex<HashMap<String, PendingTouch>>,
    /// Wakes the writer when the first slide of a batch arrives.
    arrived: tokio::sync::Notify,
}

impl SessionTouches {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingTouch>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a slide; false when too many are pending (write it now).
    pub fn add(&self, token_hash: &str, touch: PendingTouch) -> bool {
        let mut pending = self.lock();
        if pending.len() >= MAX_PENDING && !pending.contains_key(token_hash) {
            return false;
        }
        let was_empty = pending.is_empty();
        let entry = pending.entry(token_hash.to_string()).or_insert(touch);
        if touch.last_seen_at > entry.last_seen_at {
            *entry = touch;
        }
        drop(pending);
        if was_empty {
            self.arrived.notify_one();
        }
        true
    }

    /// This session's slide not yet written, if any.
    pub fn get(&self, token_hash: &str) -> Option<PendingTouch> {
        self.lock().get(token_hash).copied()
    }

    /// The session ended: its slide has nothing left to slide.
    pub fn forget(&self, token_hash: &str) {
        self.lock().remove(token_hash);
    }

    /// Every session of `user` but `except` ended.
    pub fn forget_user(&self, user: UserId, except: Option<&str>) {
        self.lock()
            .retain(|hash, t| t.user_id != user || Some(hash.as_str()) == except);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Everything pending, to be written. The slides stay pending until
    /// [`SessionTouches::written`] says so: a write cut short (an error, the
    /// server stopping mid-flush) loses nothing.
    pub fn snapshot(&self) -> Vec<(String, PendingTouch)> {
        self.lock()
            .iter()
            .map(|(hash, touch)| (hash.clone(), *touch))
            .collect()
    }

    /// These slides are in the database: forgets those not replaced since.
    pub fn written(&self, batch: &[(String, PendingTouch)]) {
        let mut pending = self.lock();
        for (hash, touch) in batch {
            if pending.get(hash) == Some(touch) {
                pending.remove(hash);
            }
        }
    }

    /// Waits until a slide is pending.
    pub async fn arrived(&self) {
        let notified = self.arrived.notified();
        if !self.is_empty() {
            return;
        }
        notified.await;
    }
}

impl App {
    /// Writes the pending session slides in one transaction; how many.
    /// On failure (or if cut short) they stay pending for the next round.
    pub async fn flush_session_touches(&self) -> Result<usize, AppError> {
        let batch = self.touches.snapshot();
        if batch.is_empty() {
            return Ok(0);
        }
        self.store.touch_sessions(&as_store_touches(&batch)).await?;
        self.touches.written(&batch);
        Ok(batch.len())
    }

    /// Session slides pending on this node (for `/metrics`).
    pub fn pending_session_touches(&self) -> usize {
        self.touches.len()
    }

    /// Runs for the life of the server: waits for a slide, lets `every`
    /// gather more, writes them all. Call [`App::flush_session_touches`]
    /// once more at shutdown.
    pub async fn write_session_touches_periodically(self, every: Duration) {
        loop {
            self.touches.arrived().await;
            tokio::time::sleep(every).await;
            if let Err(e) = self.flush_session_touches().await {
                tracing::warn!(error = %e, "session slides not written; next try in {} s", every.as_secs());
            }
        }
    }
}

/// The store's form of a batch.
fn as_store_touches(batch: &[(String, PendingTouch)]) -> Vec<SessionTouch> {
    batch.iter().map(|(hash, t)| t.for_store(hash)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(user: i64, at: i64) -> PendingTouch {
        PendingTouch {
            user_id: UserId(user),
            last_seen_at: at,
            expires_at: at + 100,
        }
    }

    #[test]
    fn keeps_the_latest_slide_per_session() {
        let t = SessionTouches::default();
        assert!(t.add("a", touch(1, 10)));
        assert!(t.add("a", touch(1, 30)));
        assert!(t.add("a", touch(1, 20)));
        assert!(t.add("b", touch(2, 5)));
        assert_eq!(t.get("a"), Some(touch(1, 30)));
        assert_eq!(t.len(), 2);
        let mut batch = t.snapshot();
        batch.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0], ("a".to_string(), touch(1, 30)));
        assert_eq!(t.len(), 2, "pending until written");
        t.written(&batch);
        assert!(t.is_empty() && t.get("a").is_none());
    }

    #[test]
    fn a_slide_newer_than_the_batch_written_stays_pending() {
        let t = SessionTouches::default();
        t.add("a", touch(1, 10));
        t.add("b", touch(2, 10));
        let batch = t.snapshot();
        t.add("a", touch(1, 50));
        t.written(&batch);
        assert_eq!(t.get("a"), Some(touch(1, 50)));
        assert!(t.get("b").is_none());
    }

    #[test]
    fn ended_sessions_lose_their_slides() {
        let t = SessionTouches::default();
        t.add("a", touch(1, 10));
        t.add("a2", touch(1, 10));
        t.add("b", touch(2, 10));
        t.forget("b");
        assert!(t.get("b").is_none());
        t.forget_user(UserId(1), Some("a2"));
        assert!(t.get("a").is_none());
        assert!(t.get("a2").is_some());
    }

    #[tokio::test]
    async fn the_writer_wakes_when_a_slide_arrives() {
        let t = std::sync::Arc::new(SessionTouches::default());
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.arrived().await })
        };
        tokio::task::yield_now().await;
        t.add("a", touch(1, 10));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap();
        // Already pending: no wait at all.
        tokio::time::timeout(std::time::Duration::from_secs(5), t.arrived())
            .await
            .expect("not waiting");
    }
}
