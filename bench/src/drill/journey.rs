//! What a pupil does on a school morning, as a browser would do it, the
//! waiting room included.
//!
//! Every page goes through [`Ctx::fetch`], which behaves like a person:
//! - a page taking more than 10 s is abandoned and reloaded (a reload, and a
//!   timeout error);
//! - a reset or refused connection, or a 5xx, is an error: they try again a
//!   moment later (after `Retry-After` when given);
//! - a 429 is "limited" (not an error): they wait `Retry-After`;
//! - the waiting room (`x-cartable-attente`) is waited in: they come back
//!   after `refresh` seconds, to the same URL, with the same cookies.
//!
//! Each of these is bounded, and everything stops at the run's hard stop.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::{Method, StatusCode};

use super::accounts::Account;
use super::browser::{self, Answer, Failure, FilePart, Http, Jar, Request};
use super::html;
use super::record::{ErrorKind, GateLog, Incident, Page, Recorder};

/// Reloads of one page before the person gives up.
const MAX_RELOADS: u32 = 5;
/// 5xx or broken connections on one page before they give up.
const MAX_TROUBLES: u32 = 10;
/// 429 on one page before they give up.
const MAX_LIMITED: u32 = 30;
/// Times they are sent back from the login form to the waiting room.
const MAX_LOGIN_ROUNDS: u32 = 30;
/// A pause after a broken connection.
const TROUBLE_PAUSE: Duration = Duration::from_secs(1);

pub const SESSION_COOKIE: &str = "cartable_session";
/// The signed device hint the server sets at login (school and role).
pub const DEVICE_COOKIE: &str = "cartable_appareil";

/// Shared by every journey of a run.
pub struct Ctx {
    pub http: std::sync::Arc<Http>,
    pub rec: Recorder,
    pub hard_stop: Instant,
    /// The file a pupil hands in.
    pub handin_file: Bytes,
}

/// One pupil's morning.
#[derive(Debug, Clone)]
pub struct Plan {
    pub account: Account,
    /// Comes with the session cookie of an earlier visit (no login).
    pub with_session: bool,
    pub hand_in: bool,
    pub message: bool,
    /// A `cartable_appareil` cookie from an earlier visit: the device is
    /// remembered as a teacher's or a parent's (their lane at the door).
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    /// Stopped by the run's hard stop.
    Cut,
}

/// Why a journey stopped early.
#[derive(Debug)]
pub enum Stop {
    Cut,
    Failed,
}

/// One browser.
pub struct User {
    pub jar: Jar,
    pub gate: GateLog,
    waiting: bool,
}

impl User {
    pub fn new() -> User {
        User {
            jar: Jar::default(),
            gate: GateLog::default(),
            waiting: false,
        }
    }
}

impl Default for User {
    fn default() -> Self {
        User::new()
    }
}

/// A 100 KB file that looks like a PDF (the type is sniffed on upload).
pub fn handin_file(bytes: usize) -> Bytes {
    let mut v = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x: u32 = 0x9e37_79b9;
    while v.len() + 6 < bytes {
        // A cheap generator: the content does not matter, its size does.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push(b' ' + (x % 90) as u8);
        if v.len().is_multiple_of(80) {
            v.push(b'\n');
        }
    }
    v.extend_from_slice(b"\n%%EOF");
    Bytes::from(v)
}

impl Ctx {
    fn set_waiting(&self, u: &mut User, waiting: bool) {
        if u.waiting != waiting {
            u.waiting = waiting;
            if waiting {
                self.rec.waiting.fetch_add(1, Ordering::Relaxed);
            } else {
                self.rec.waiting.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Sleeps, unless that would pass the hard stop.
    async fn pause(&self, d: Duration) -> Result<(), Stop> {
        if Instant::now() + d >= self.hard_stop {
            return Err(Stop::Cut);
        }
        tokio::time::sleep(d).await;
        Ok(())
    }

    fn unexpected(&self, page: Page, detail: String) -> Stop {
        self.rec
            .incident(page, Incident::Error(ErrorKind::Unexpected), || detail);
        Stop::Failed
    }

    /// One page, as a person gets it (see the module's doc). A waiting-room
    /// answer to a POST is returned to the caller; to a GET, it is waited in.
    /// `gated`: a request that goes through the door (no session yet).
    pub async fn fetch(
        &self,
        u: &mut User,
        page: Page,
        req: &Request,
        gated: bool,
    ) -> Result<Answer, Stop> {
        let (mut reloads, mut troubles, mut limited) = (0, 0, 0);
        loop {
            if Instant::now() >= self.hard_stop {
                return Err(Stop::Cut);
            }
            let answer = match self.http.send(&mut u.jar, req).await {
                Ok(a) => a,
                Err(Failure::Timeout) => {
                    self.rec.incident(page, Incident::Reload, String::new);
                    self.rec
                        .incident(page, Incident::Error(ErrorKind::Timeout), || {
                            format!("{} {} took more than 10 s", req.method, req.path)
                        });
                    reloads += 1;
                    if reloads > MAX_RELOADS {
                        return Err(Stop::Failed);
                    }
                    continue;
                }
                Err(Failure::Transport(e)) => {
                    self.rec
                        .incident(page, Incident::Error(ErrorKind::Transport), || {
                            format!("{} {}: {e}", req.method, req.path)
                        });
                    troubles += 1;
                    if troubles > MAX_TROUBLES {
                        return Err(Stop::Failed);
                    }
                    self.pause(TROUBLE_PAUSE).await?;
                    continue;
                }
            };
            if let Some(w) = browser::waiting(&answer.headers) {
                self.rec.latency(Page::WaitingRoom, answer.latency);
                let now = self.rec.now_s();
                u.gate.polls += 1;
                if u.gate.first_wait.is_none() {
                    u.gate.first_wait = Some((now, w));
                }
                // Sent back to the door: what was passed does not count.
                u.gate.passed_s = None;
                u.gate.admitted = None;
                self.set_waiting(u, true);
                if req.method == Method::POST {
                    return Ok(answer);
                }
                self.pause(Duration::from_secs_f64(w.refresh_s)).await?;
                continue;
            }
            if gated {
                if u.gate.passed_s.is_none() {
                    u.gate.passed_s = Some(self.rec.now_s());
                    u.gate.admitted = browser::admitted(&answer.headers);
                }
                self.set_waiting(u, false);
            }
            self.rec.latency(page, answer.latency);
            if answer.status.is_server_error() {
                self.rec
                    .incident(page, Incident::Error(ErrorKind::Server), || {
                        format!("{} {}: {}", req.method, req.path, describe(&answer))
                    });
                troubles += 1;
                if troubles > MAX_TROUBLES {
                    return Err(Stop::Failed);
                }
                self.pause(answer.retry_after()).await?;
                continue;
            }
            if answer.status == StatusCode::TOO_MANY_REQUESTS {
                self.rec.incident(page, Incident::Limited, String::new);
                limited += 1;
                if limited > MAX_LIMITED {
                    return Err(
                        self.unexpected(page, format!("{}: limited {limited} times", req.path))
                    );
                }
                self.pause(answer.retry_after()).await?;
                continue;
            }
            return Ok(answer);
        }
    }

    /// A page that must answer 200.
    async fn page(&self, u: &mut User, page: Page, path: &str) -> Result<Answer, Stop> {
        let a = self.fetch(u, page, &Request::get(path), false).await?;
        if a.status != StatusCode::OK {
            return Err(self.unexpected(page, format!("GET {path}: {}", describe(&a))));
        }
        Ok(a)
    }

    /// Signs in with a password through the door: `GET /connexion?ecole=…`
    /// (waiting there if need be), then the form.
    pub async fn login(&self, u: &mut User, account: &Account) -> Result<(), Stop> {
        u.gate.school = account.school_id.clone();
        u.gate.role = account.role.clone();
        u.gate.arrival_s = Some(self.rec.now_s());
        let form_page = Request::get(format!(
            "/connexion?ecole={}",
            url_component(&account.school_id)
        ));
        for _ in 0..MAX_LOGIN_ROUNDS {
            let page = self.fetch(u, Page::LoginForm, &form_page, true).await?;
            if page.status != StatusCode::OK {
                return Err(self.unexpected(
                    Page::LoginForm,
                    format!("GET /connexion: {}", describe(&page)),
                ));
            }
            let Some(csrf) = html::hidden(&page.text(), "csrf") else {
                return Err(self.unexpected(Page::LoginForm, "no csrf field".into()));
            };
            let post = Request::form(
                "/connexion",
                vec![
                    ("csrf".into(), csrf),
                    ("suite".into(), "/".into()),
                    ("login".into(), account.login.clone()),
                    ("password".into(), account.password.clone()),
                    ("rester".into(), "1".into()),
                ],
            );
            let a = self.fetch(u, Page::Login, &post, true).await?;
            if browser::waiting(&a.headers).is_some() {
                continue;
            }
            if a.status == StatusCode::SEE_OTHER && u.jar.get(SESSION_COOKIE).is_some() {
                u.gate.login_s = Some(self.rec.now_s());
                return Ok(());
            }
            return Err(self.unexpected(
                Page::Login,
                format!("POST /connexion ({}): {}", account.login, describe(&a)),
            ));
        }
        Err(self.unexpected(Page::Login, "sent back to the door too often".into()))
    }

    /// The whole morning of one pupil.
    pub async fn journey(&self, plan: Plan) -> Outcome {
        self.rec.arrived.fetch_add(1, Ordering::Relaxed);
        let mut u = User::new();
        let result = self.steps(&mut u, &plan).await;
        self.set_waiting(&mut u, false);
        if u.gate.arrival_s.is_some() {
            self.rec.gate(u.gate);
        }
        match result {
            Ok(()) => {
                self.rec.done.fetch_add(1, Ordering::Relaxed);
                Outcome::Completed
            }
            Err(Stop::Cut) => Outcome::Cut,
            Err(Stop::Failed) => {
                self.rec.failed.fetch_add(1, Ordering::Relaxed);
                Outcome::Failed
            }
        }
    }

    async fn steps(&self, u: &mut User, plan: &Plan) -> Result<(), Stop> {
        let account = &plan.account;
        u.jar.source = source_of(&account.school_id);
        if let Some(device) = &plan.device {
            u.jar.set(DEVICE_COOKIE, device);
        }
        match (&account.session_token, plan.with_session) {
            (Some(token), true) => u.jar.set(SESSION_COOKIE, token),
            _ => self.login(u, account).await?,
        }
        self.rec.inside.fetch_add(1, Ordering::Relaxed);

        self.page(u, Page::Home, "/").await?;
        if !account.is_pupil() {
            // A teacher before class or a parent's look: their home page.
            return Ok(());
        }
        let devoirs = self.page(u, Page::Devoirs, "/devoirs").await?;
        let mut attachment = html::links(&devoirs.text(), "/pieces-jointes/")
            .into_iter()
            .next();

        // The assignment page: to hand in, or to find a file to download.
        let mut handin_form = None;
        if plan.hand_in || attachment.is_none() {
            let list = self.page(u, Page::HandinList, "/devoirs-a-rendre").await?;
            let first = html::links(&list.text(), "/rendus/").into_iter().next();
            if let Some(path) = first {
                let form = self.page(u, Page::HandinForm, &path).await?;
                let text = form.text();
                if attachment.is_none() {
                    attachment = html::links(&text, "/pieces-jointes/").into_iter().next();
                }
                handin_form = Some((
                    path,
                    html::hidden(&text, "csrf"),
                    html::hidden(&text, "cle"),
                ));
            }
        }

        match attachment {
            Some(path) => {
                self.page(u, Page::Attachment, &path).await?;
            }
            None => {
                self.rec.without_attachment.fetch_add(1, Ordering::Relaxed);
            }
        }

        if plan.hand_in {
            let Some((path, Some(csrf), Some(key))) = handin_form else {
                return Err(self.unexpected(
                    Page::HandinForm,
                    format!("{}: no assignment with a hand-in form", account.login),
                ));
            };
            let post = Request::multipart(
                format!("{path}/rendre"),
                vec![("csrf".into(), csrf), ("cle".into(), key)],
                Some(FilePart {
                    field: "fichier".into(),
                    file_name: "expose.pdf".into(),
                    mime: "application/pdf".into(),
                    bytes: self.handin_file.clone(),
                }),
            );
            let a = self.fetch(u, Page::Handin, &post, false).await?;
            if a.status != StatusCode::OK || a.header("x-cartable-receipt").is_none() {
                return Err(self.unexpected(
                    Page::Handin,
                    format!("POST {path}/rendre: {}", describe(&a)),
                ));
            }
            self.rec.handins.fetch_add(1, Ordering::Relaxed);
        }

        if plan.message {
            let compose = self.page(u, Page::Compose, "/messages/nouveau").await?;
            let text = compose.text();
            let teacher = html::offered_people(&text, "Enseignant").into_iter().next();
            let (Some(csrf), Some(teacher)) = (html::hidden(&text, "csrf"), teacher) else {
                return Err(self.unexpected(
                    Page::Compose,
                    format!("{}: no teacher offered on the compose page", account.login),
                ));
            };
            let post = Request::multipart(
                "/messages",
                vec![
                    ("csrf".into(), csrf),
                    ("personne".into(), teacher),
                    ("objet".into(), "Question sur le devoir".into()),
                    (
                        "message".into(),
                        "Bonjour, je n'ai pas compris la consigne de l'exercice 3. Merci !".into(),
                    ),
                ],
                None,
            );
            let a = self.fetch(u, Page::Message, &post, false).await?;
            let to_thread = a
                .header("location")
                .is_some_and(|l| l.starts_with("/messages/"));
            if a.status != StatusCode::SEE_OTHER || !to_thread {
                return Err(
                    self.unexpected(Page::Message, format!("POST /messages: {}", describe(&a)))
                );
            }
            self.rec.messages.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// The network a school's pupils come from (its number, or a hash of its id).
pub fn source_of(school_id: &str) -> usize {
    school_id.parse::<usize>().unwrap_or_else(|_| {
        school_id
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
    })
}

/// Status, `x-cartable-error` and `location`, for error lines.
pub fn describe(a: &Answer) -> String {
    let mut s = a.status.to_string();
    if let Some(code) = a.header("x-cartable-error") {
        s.push_str(&format!(" x-cartable-error={code}"));
    }
    if let Some(l) = a.header("location") {
        s.push_str(&format!(" location={l}"));
    }
    s
}

/// Percent-encodes everything but unreserved characters.
pub fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_encoding() {
        let f = handin_file(100 * 1024);
        assert!(f.starts_with(b"%PDF-1.4"));
        assert!(f.ends_with(b"%%EOF"));
        assert!((100 * 1024 - 10..=100 * 1024 + 10).contains(&f.len()));
        assert_eq!(url_component("12"), "12");
        assert_eq!(url_component("a b/é"), "a%20b%2F%C3%A9");
    }
}
