//! Logging in and out, sessions, first-login activation, password changes.
//!
//! Sessions are opaque random tokens; only their SHA-256 is stored. A session
//! check is one indexed lookup, so that the 8:00 storm of returning pupils is
//! a storm of cheap reads, not of password hashes.

use cartable_domain::names::Login;
use cartable_domain::password::check_new_password;
use cartable_domain::policy::Actor;
use cartable_domain::{Role, SchoolId, UserId};
use cartable_store::{AuditEvent, Credentials, SessionRow, User};

use crate::hashing::Turn;
use crate::session_cache::CachedSession;
use crate::session_touches::PendingTouch;
use crate::tokens::{hash_code, hash_token, new_session_token, same_digest};
use crate::{App, AppError};

/// Where a request comes from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The door let this visitor in (their turn came): their password
    /// check may queue instead of being refused (see `hashing`).
    pub let_in: bool,
}

impl ClientInfo {
    fn turn(&self) -> Turn {
        if self.let_in {
            Turn::LetIn
        } else {
            Turn::Visitor
        }
    }
}

/// A session just opened: the token goes into the cookie, and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub user_id: UserId,
    pub role: Role,
    /// The user's school (none for operators): the browser remembers it for
    /// fair share at the door on the next visit.
    pub school_id: Option<SchoolId>,
    /// Cookie lifetime; `None` for a browser session (ends with the browser).
    pub cookie_max_age_secs: Option<i64>,
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub actor: Actor,
    pub user: User,
    pub token_hash: String,
    /// Set when this request slid a "rester connecté" session: the browser's
    /// cookie must get this new Max-Age too, or it ends 30 days after login.
    pub renewed_cookie_max_age: Option<i64>,
}

/// Don't write `last_seen_at` on every request: once every few minutes is
/// enough to slide the expiry, and keeps session checks read-only.
const TOUCH_EVERY_SECS: i64 = 300;

impl App {
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        persistent: bool,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let creds = match Login::parse(login) {
            Ok(l) => self.store.credentials(l.as_str()).await?,
            Err(_) => None,
        };
        let now = self.now();
        let locked_until = match &creds {
            Some(c) => c.locked_until,
            None => self.unknown_locked_until(login),
        };
        if locked_until > now {
            return Err(AppError::AccountLocked {
                retry_after_secs: locked_until - now,
            });
        }
        // Always pay for one verification, known login or not.
        let ok = self
            .hasher
            .verify_as(
                creds.as_ref().and_then(|c| c.password_hash.clone()),
                password.to_string(),
                client.turn(),
            )
            .await?;
        let Some(creds) = creds else {
            self.count_unknown_failure(login);
            self.audit(
                None,
                "login.unknown",
                Some(login_for_log(login)),
                client,
                None,
            )
            .await;
            return Err(AppError::BadCredentials);
        };
        if !ok {
            self.count_failure(&creds, "login.failed", client).await?;
            return Err(AppError::BadCredentials);
        }
        if creds.disabled {
            self.audit_as(&creds, "login.disabled", client).await;
            return Err(AppError::AccountDisabled);
        }
        let (row, session) = self.new_session(&creds, persistent, client);
        let event = self.audit_event(
            creds.school_id,
            "login.ok",
            Some(creds.login.clone()),
            client,
            Some(creds.user_id),
        );
        let reset_failures = creds.failed_logins != 0 || creds.locked_until != 0;
        self.store
            .record_login(&row, &event, reset_failures)
            .await?;
        Ok(session)
    }

    /// The session a cookie names, if it is valid; slides its expiry.
    pub async fn session(&self, token: &str) -> Result<Option<CurrentSession>, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let token_hash = hash_token(token);
        let now = self.now();
        let cached = match self.sessions.get(&token_hash, now) {
            Some(c) => c,
            None => {
                let Some(mut row) = self.store.session(&token_hash).await? else {
                    return Ok(None);
                };
                // This node's slide not yet written is newer than the row.
                if let Some(p) = self.touches.get(&token_hash) {
                    if p.last_seen_at > row.last_seen_at {
                        row.last_seen_at = p.last_seen_at;
                        row.expires_at = p.expires_at;
                    }
                }
                if row.expires_at <= now {
                    self.touches.forget(&token_hash);
                    self.store.delete_session(&token_hash).await?;
                    return Ok(None);
                }
                let Some(actor) = self.store.actor(row.user_id).await? else {
                    return Ok(None);
                };
                let Some(user) = self.store.user(actor.school_id, actor.user_id).await? else {
                    return Ok(None);
                };
                self.sessions.put(
                    &token_hash,
                    CachedSession {
                        actor,
                        user,
                        persistent: row.persistent,
                        last_seen_at: row.last_seen_at,
                        expires_at: row.expires_at,
                        fetched_at: now,
                    },
                );
                match self.sessions.get(&token_hash, now) {
                    Some(c) => c,
                    None => return Ok(None),
                }
            }
        };
        let mut renewed_cookie_max_age = None;
        if now - cached.last_seen_at >= TOUCH_EVERY_SECS {
            let lifetime = if cached.persistent {
                self.config.persistent_session_secs
            } else {
                self.config.browser_session_secs
            };
            let touch = PendingTouch {
                user_id: cached.actor.user_id,
                last_seen_at: now,
                expires_at: now + lifetime,
            };
            // Written behind the page (see `session_touches`), unless the
            // writer is so far behind that this page should wait for it.
            if !self.touches.add(&token_hash, touch) {
                self.store
                    .touch_sessions(&[touch.for_store(&token_hash)])
                    .await?;
            }
            self.sessions.touched(&token_hash, now, now + lifetime);
            renewed_cookie_max_age = cached.persistent.then_some(lifetime);
        }
        Ok(Some(CurrentSession {
            actor: cached.actor,
            user: cached.user,
            token_hash,
            renewed_cookie_max_age,
        }))
    }

    /// Ends every session of `user` but `except` (a token hash), here and in
    /// this node's session cache.
    pub(crate) async fn end_sessions(
        &self,
        user: UserId,
        except: Option<&str>,
    ) -> Result<u64, AppError> {
        self.sessions.forget_user(user, except);
        self.touches.forget_user(user, except);
        Ok(self.store.delete_user_sessions(user, except).await?)
    }

    pub async fn logout(
        &self,
        session: &CurrentSession,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        self.sessions.forget(&session.token_hash);
        self.touches.forget(&session.token_hash);
        self.store.delete_session(&session.token_hash).await?;
        self.audit(
            session.actor.school_id,
            "logout",
            None,
            client,
            Some(session.actor.user_id),
        )
        .await;
        Ok(())
    }

    /// Changes one's own password; every other session of the account ends.
    pub async fn change_password(
        &self,
        session: &CurrentSession,
        current: &str,
        new: &str,
        confirm: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let creds = self
            .store
            .credentials(&session.user.login)
            .await?
            .ok_or(AppError::NotFound)?;
        let now = self.now();
        if creds.locked_until > now {
            return Err(AppError::AccountLocked {
                retry_after_secs: creds.locked_until - now,
            });
        }
        if !self
            .hasher
            .verify(creds.password_hash.clone(), current.to_string())
            .await?
        {
            self.count_failure(&creds, "password.change_failed", client)
                .await?;
            return Err(AppError::invalid(
                "password.current_wrong",
                "Le mot de passe actuel est incorrect.",
            ));
        }
        check_new_password(new, confirm, &creds.login)
            .map_err(|e| AppError::invalid("password.rejected", capitalize(&e.to_string())))?;
        let hash = self.hasher.hash(new.to_string()).await?;
        self.store
            .set_password(creds.user_id, Some(&hash), self.now())
            .await?;
        let ended = self
            .end_sessions(creds.user_id, Some(&session.token_hash))
            .await?;
        self.audit(
            creds.school_id,
            "password.changed",
            Some(format!("{ended} autre(s) session(s) fermée(s)")),
            client,
            Some(creds.user_id),
        )
        .await;
        Ok(())
    }

    /// First login: the code from the printed slip, then a chosen password.
    pub async fn activate(
        &self,
        login: &str,
        code: &str,
        new: &str,
        confirm: &str,
        persistent: bool,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let wrong = || {
            AppError::invalid(
                "activation.bad_code",
                "Identifiant ou code d'activation incorrect, ou code expiré.",
            )
        };
        let creds = match Login::parse(login) {
            Ok(l) => self.store.credentials(l.as_str()).await?,
            Err(_) => None,
        };
        let Some(creds) = creds else {
            let now = self.now();
            let locked_until = self.unknown_locked_until(login);
            if locked_until > now {
                return Err(AppError::AccountLocked {
                    retry_after_secs: locked_until - now,
                });
            }
            self.count_unknown_failure(login);
            self.audit(
                None,
                "activation.unknown",
                Some(login_for_log(login)),
                client,
                None,
            )
            .await;
            return Err(wrong());
        };
        let now = self.now();
        if creds.locked_until > now {
            return Err(AppError::AccountLocked {
                retry_after_secs: creds.locked_until - now,
            });
        }
        let stored = self.store.activation_code(creds.user_id).await?;
        let valid = stored
            .as_ref()
            .is_some_and(|c| c.expires_at > now && same_digest(&c.code_hash, &hash_code(code)));
        if !valid {
            self.count_failure(&creds, "activation.failed", client)
                .await?;
            return Err(wrong());
        }
        if creds.disabled {
            return Err(AppError::AccountDisabled);
        }
        check_new_password(new, confirm, &creds.login)
            .map_err(|e| AppError::invalid("password.rejected", capitalize(&e.to_string())))?;
        let hash = self.hasher.hash_as(new.to_string(), client.turn()).await?;
        self.store
            .set_password(creds.user_id, Some(&hash), now)
            .await?;
        self.end_sessions(creds.user_id, None).await?;
        let session = self.open_session(&creds, persistent, client).await?;
        self.audit_as(&creds, "account.activated", client).await;
        Ok(session)
    }

    async fn open_session(
        &self,
        creds: &Credentials,
        persistent: bool,
        client: &ClientInfo,
    ) -> Result<NewSession, AppError> {
        let (row, session) = self.new_session(creds, persistent, client);
        self.store.insert_session(&row).await?;
        Ok(session)
    }

    /// A new session for `creds`: the row to store (the token's hash) and
    /// what the browser gets (the token).
    fn new_session(
        &self,
        creds: &Credentials,
        persistent: bool,
        client: &ClientInfo,
    ) -> (SessionRow, NewSession) {
        let token = new_session_token();
        let now = self.now();
        let lifetime = if persistent {
            self.config.persistent_session_secs
        } else {
            self.config.browser_session_secs
        };
        let row = SessionRow {
            token_hash: hash_token(&token),
            user_id: creds.user_id,
            school_id: creds.school_id,
            persistent,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
            user_agent: client
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(200).collect()),
            ip: client.ip.clone(),
        };
        let session = NewSession {
            token,
            user_id: creds.user_id,
            role: creds.role,
            school_id: creds.school_id,
            cookie_max_age_secs: persistent.then_some(lifetime),
        };
        (row, session)
    }

    /// When an account with `failures` consecutive failures may try again:
    /// past the threshold it pauses, for a time that doubles with each further
    /// failure. The account, not the IP: a whole school shares one address
    /// behind its NAT.
    fn lock_until_after(&self, failures: i64) -> i64 {
        let c = &self.config;
        if failures >= c.lock_after_failures {
            let doublings = (failures - c.lock_after_failures).min(20) as u32;
            self.now() + (c.first_lock_secs.saturating_mul(1 << doublings)).min(c.max_lock_secs)
        } else {
            0
        }
    }

    fn unknown_locked_until(&self, login: &str) -> i64 {
        let key = login.trim().to_lowercase();
        self.unknown_failures
            .lock()
            .ok()
            .and_then(|m| m.get(&key).map(|(_, until)| *until))
            .unwrap_or(0)
    }

    fn count_unknown_failure(&self, login: &str) {
        let key: String = login.trim().to_lowercase().chars().take(64).collect();
        let now = self.now();
        if let Ok(mut m) = self.unknown_failures.lock() {
            if m.len() >= 100_000 {
                // Bounded: forget the entries no longer paused, and if a flood
                // of distinct names still fills the table, stop growing it.
                m.retain(|_, (_, until)| *until > now);
                if m.len() >= 100_000 && !m.contains_key(&key) {
                    return;
                }
            }
            let failures = m.get(&key).map(|(f, _)| f + 1).unwrap_or(1);
            let until = self.lock_until_after(failures);
            m.insert(key, (failures, until));
        }
    }

    /// Counts a failed attempt on a real account (see [`Self::lock_until_after`]).
    async fn count_failure(
        &self,
        creds: &Credentials,
        action: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let failures = creds.failed_logins + 1;
        let locked_until = self.lock_until_after(failures);
        self.store
            .record_login_failure(creds.user_id, failures, locked_until)
            .await?;
        self.audit(
            creds.school_id,
            action,
            Some(creds.login.clone()),
            client,
            Some(creds.user_id),
        )
        .await;
        if locked_until > 0 {
            self.audit(
                creds.school_id,
                "account.paused",
                Some(creds.login.clone()),
                client,
                Some(creds.user_id),
            )
            .await;
        }
        Ok(())
    }

    async fn audit_as(&self, creds: &Credentials, action: &str, client: &ClientInfo) {
        self.audit(
            creds.school_id,
            action,
            Some(creds.login.clone()),
            client,
            Some(creds.user_id),
        )
        .await;
    }

    /// An audit event happening now (appended by `audit`, or inside another
    /// write's transaction).
    fn audit_event(
        &self,
        school: Option<SchoolId>,
        action: &str,
        target: Option<String>,
        client: &ClientInfo,
        actor: Option<UserId>,
    ) -> AuditEvent {
        AuditEvent {
            school_id: school,
            actor_id: actor,
            action: action.to_string(),
            target,
            ip: client.ip.clone(),
            detail: None,
            at: self.now(),
        }
    }

    /// Appends to the audit log. A failure to audit is logged, not shown to
    /// the user: the action itself has already happened.
    pub async fn audit(
        &self,
        school: Option<SchoolId>,
        action: &str,
        target: Option<String>,
        client: &ClientInfo,
        actor: Option<UserId>,
    ) {
        let event = self.audit_event(school, action, target, client, actor);
        if let Err(e) = self.store.audit(&event).await {
            tracing::warn!(error = %e, action, "audit write failed");
        }
    }
}

/// A typed login goes to the log only as far as it looks like one.
fn login_for_log(login: &str) -> String {
    login.chars().filter(|c| !c.is_control()).take(64).collect()
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => {
            let mut out = f.to_uppercase().collect::<String>() + c.as_str();
            if !out.ends_with(['.', '!', '?', ':']) {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}
