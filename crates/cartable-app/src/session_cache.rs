//! A short per-node memory of checked sessions. At 8:00 every page of every
//! pupil starts with a session check; without this each one reads the
//! session, the actor (classes, children) and the user: three queries before
//! the page's own. With it, a returning pupil's check is a hash-map lookup
//! for `TTL_SECS`.
//!
//! What that costs in freshness, and why it is acceptable: on this node,
//! logout, password change, reset and disabling an account forget the
//! user's entries at once; on *other* nodes of a region, a revoked session
//! or a changed class stays visible for at most `TTL_SECS`.

use std::collections::HashMap;
use std::sync::Mutex;

use cartable_domain::policy::Actor;
use cartable_domain::UserId;
use cartable_store::User;

/// How long a checked session is believed without asking the database.
pub const TTL_SECS: i64 = 30;
/// Entries kept at most (about 1 KB each); when full, the cache starts over.
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Clone)]
pub struct CachedSession {
    pub actor: Actor,
    pub user: User,
    pub persistent: bool,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// When the database was read (the entry is believed for `TTL_SECS`).
    pub fetched_at: i64,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, CachedSession>>,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedSession>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh entry for this token hash, if any.
    pub fn get(&self, token_hash: &str, now: i64) -> Option<CachedSession> {
        let entries = self.lock();
        let e = entries.get(token_hash)?;
        (now - e.fetched_at < TTL_SECS && e.expires_at > now).then(|| e.clone())
    }

    pub fn put(&self, token_hash: &str, entry: CachedSession) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash.to_string(), entry);
    }

    /// The session slid: remember the new times without a re-read.
    pub fn touched(&self, token_hash: &str, last_seen_at: i64, expires_at: i64) {
        if let Some(e) = self.lock().get_mut(token_hash) {
            e.last_seen_at = last_seen_at;
            e.expires_at = expires_at;
        }
    }

    pub fn forget(&self, token_hash: &str) {
        self.lock().remove(token_hash);
    }

    /// Every session of `user` but `except`.
    pub fn forget_user(&self, user: UserId, except: Option<&str>) {
        self.lock()
            .retain(|hash, e| e.actor.user_id != user || Some(hash.as_str()) == except);
    }
}
