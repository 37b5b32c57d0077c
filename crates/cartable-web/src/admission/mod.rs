//! The door of a node: admission control and the waiting room.
//!
//! People already inside (a valid session) never meet it. A visitor without
//! a session who wants to log in (or activate an account) needs an entry
//! pass, because a password check costs ~30 ms of a core: when the node has
//! room the pass is given at once and nobody notices; when it has not, the
//! visitor gets the waiting room (a tiny page that refreshes itself) with
//! their place and an estimated wait, and goes straight on when their turn
//! comes. How many may be let in is measured ([`capacity`]), the order is
//! kept by [`line`], the cookies are signed ([`ticket`]).
//! The HTTP contract is written down in `docs/admission.md`.

pub mod capacity;
pub mod line;
mod newcomers;
pub mod ticket;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use cartable_app::hashing::{HashPool, HashTotals};
use cartable_domain::Role;

use crate::csrf::{cookie_value, CsrfSeed};
use crate::error::{error_page, urlencode};
use crate::extract::{LetIn, SESSION_COOKIE};
use crate::ratelimit;
use crate::state::AppState;
use capacity::{CapacityProbe, ProbeConfig, Signals};
use line::{Arrival, Lane, Line, LineConfig, Millis, Place, SchoolKey, Visit};
use ticket::{read_device, read_ticket, ticket_value, DEVICE_COOKIE, TICKET_COOKIE};

/// How often the capacity probe looks at the signals.
const TICK: Duration = Duration::from_millis(250);
/// Share of the measured hash capacity offered at the door. Logins reach
/// the hashing threads at random moments, so the closer the door runs to
/// their capacity the longer their bursts queue: over five quarter-scale
/// mornings each, the login p99 averaged 387 ms at 0.75 and 285 ms at 0.6
/// (232–400 ms), for waits in the room about 10 s longer (bench/README,
/// "Headroom 0.6").
const HEADROOM: f64 = 0.6;

pub struct Admission {
    pub enabled: bool,
    started: Instant,
    /// Tickets of an earlier process are not honoured (their numbers restart).
    epoch: u32,
    line: Mutex<Line>,
    probe: Mutex<CapacityProbe>,
    /// Set for tests and benchmarks that need a known rate; the probe then
    /// leaves it alone.
    fixed_rate: Option<f64>,
}

/// A snapshot for the metrics and the status page.
#[derive(Debug, Clone, Copy)]
pub struct DoorFigures {
    pub enabled: bool,
    /// People let in per second at most, as measured.
    pub rate: f64,
    /// Hashes per second the threads sustain at the hash time measured now.
    pub hash_capacity: f64,
    /// Whose turn came and who have not come back yet.
    pub called: usize,
    pub waiting: usize,
    pub admission_rate: f64,
    pub totals: line::LineTotals,
}

impl Admission {
    /// `fixed_rate`: people per second, for tests; `None` measures it.
    pub fn new(enabled: bool, hasher: &HashPool, fixed_rate: Option<f64>) -> Admission {
        // Until logins are measured: what the threads sustain at the time
        // the pool's first hash took.
        let hash_capacity = hasher.threads() as f64 * 1000.0 / hasher.first_hash_ms().max(1.0);
        let probe = CapacityProbe::new(
            ProbeConfig {
                headroom: HEADROOM,
                target_hash_queue_ms: 60.0,
                target_runtime_lag_ms: 60.0,
                min_rate: line::MIN_RATE,
                max_rate: 5_000.0,
            },
            hash_capacity,
        );
        let initial = fixed_rate.unwrap_or(probe.rate());
        Admission {
            enabled,
            started: Instant::now(),
            epoch: rand::random(),
            line: Mutex::new(Line::new(LineConfig::default(), initial)),
            probe: Mutex::new(probe),
            fixed_rate,
        }
    }

    fn now_ms(&self) -> Millis {
        self.started.elapsed().as_millis() as Millis
    }

    fn line(&self) -> std::sync::MutexGuard<'_, Line> {
        self.line.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn probe(&self) -> std::sync::MutexGuard<'_, CapacityProbe> {
        self.probe.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn figures(&self) -> DoorFigures {
        let now = self.now_ms();
        let mut line = self.line();
        line.pump(now);
        DoorFigures {
            enabled: self.enabled,
            rate: line.rate(),
            hash_capacity: self.probe().hash_capacity(),
            called: line.called(),
            waiting: line.waiting(),
            admission_rate: line.admission_rate(now),
            totals: line.totals,
        }
    }

    /// Starts the probe that adjusts the limit from measured delays. It stops
    /// by itself when the state is dropped.
    pub fn spawn_probe(this: &Arc<Admission>, hasher: HashPool) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if this.fixed_rate.is_some() || !this.enabled {
            return;
        }
        let weak: Weak<Admission> = Arc::downgrade(this);
        runtime.spawn(async move {
            let mut last = hasher.totals();
            // Mean time of one hash here, as last measured (the pool's
            // first hash, timed at start, until logins finish).
            let mut hash_ms = hasher.first_hash_ms();
            let mut expected = Instant::now() + TICK;
            loop {
                tokio::time::sleep_until(expected.into()).await;
                let lag = Instant::now().saturating_duration_since(expected);
                expected = Instant::now() + TICK;
                let Some(adm) = weak.upgrade() else { return };
                let totals = hasher.totals();
                let signals = hash_signals(&last, &totals, &hasher, &mut hash_ms);
                last = totals;
                let now = adm.now_ms();
                let rate = adm.probe().observe(Signals {
                    runtime_lag_ms: lag.as_secs_f64() * 1000.0,
                    ..signals
                });
                adm.line().set_rate(rate, now);
            }
        });
    }
}

/// The hashing pool's part of one tick's signals, from two readings of its
/// totals; `hash_ms` carries the mean hash time (smoothed) between ticks.
fn hash_signals(
    last: &HashTotals,
    now: &HashTotals,
    hasher: &HashPool,
    hash_ms: &mut f64,
) -> Signals {
    let done = now.completed - last.completed;
    if done > 0 {
        let busy_ms = (now.busy_micros - last.busy_micros) as f64 / 1000.0;
        // Smoothed: one tick holds a handful of hashes.
        *hash_ms = 0.7 * *hash_ms + 0.3 * (busy_ms / done as f64);
    }
    let threads = hasher.threads().max(1) as f64;
    Signals {
        hash_service_per_s: threads * 1000.0 / hash_ms.max(1.0),
        hash_queue_ms: (done > 0).then(|| {
            (now.queue_wait_micros - last.queue_wait_micros) as f64 / done as f64 / 1000.0
        }),
        hash_backlog_ms: hasher.queued() as f64 * *hash_ms / threads,
        runtime_lag_ms: 0.0,
    }
}

/// Paths where a visitor without a session spends a password check.
fn is_gated(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::POST)
        && matches!(path, "/connexion" | "/activation")
}

/// Which line: the school from `?ecole=` (the school's own link) or from the
/// device hint; the lane from the role the device hint remembers.
fn line_of(req: &Request, key: &[u8; 32]) -> (Lane, SchoolKey) {
    let device = cookie_value(req.headers(), DEVICE_COOKIE).and_then(|v| read_device(key, &v));
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "ecole")
            .and_then(|(_, v)| v.parse::<SchoolKey>().ok())
    });
    let school = from_query.or(device.map(|(s, _)| s.0)).unwrap_or(0).max(0);
    let lane = match device.map(|(_, r)| r) {
        Some(Role::Teacher | Role::Staff | Role::SchoolAdmin | Role::Operator) => Lane::Priority,
        Some(Role::Parent) => Lane::Casual,
        _ => Lane::Normal,
    };
    (lane, school)
}

enum Decision {
    Pass {
        seq: u64,
        waited_ms: Option<Millis>,
        new_ticket: bool,
    },
    Wait {
        place: Place,
    },
    Shed,
}

/// The middleware. Must run inside `csrf::ensure_cookie` (it binds tickets
/// to the browser's CSRF cookie).
pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let adm = &state.admission;
    if !adm.enabled || !is_gated(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(token) = cookie_value(req.headers(), SESSION_COOKIE) {
        if let Ok(Some(_)) = state.app.session(&token).await {
            return next.run(req).await;
        }
    }
    let key = &state.web.secret_key;
    let browser = req
        .extensions()
        .get::<CsrfSeed>()
        .map(|s| s.0.clone())
        .unwrap_or_default();
    let ticket = cookie_value(req.headers(), TICKET_COOKIE)
        .and_then(|v| read_ticket(key, adm.epoch, &v, &browser));
    let now = adm.now_ms();
    let known = ticket.map(|seq| (seq, adm.line().visit(now, seq)));
    let decision = match known {
        Some((seq, Visit::Admitted { waited_ms })) => Decision::Pass {
            seq,
            waited_ms,
            new_ticket: false,
        },
        Some((_, Visit::Waiting(place))) => Decision::Wait { place },
        _ => {
            // A new place in line: bounded per address, so a flood of
            // cookie-less requests cannot fill the line ahead of real people.
            let ip = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip());
            if let Err(wait) = state.limits.check(ratelimit::Action::Queue, None, ip) {
                state.metrics.limited(ratelimit::Action::Queue.code());
                return crate::error::WebError::Limited {
                    action: ratelimit::Action::Queue.code(),
                    retry_after_secs: wait.as_secs().max(1),
                }
                .into_response();
            }
            let (lane, school) = line_of(&req, key);
            match adm.line().arrive(now, lane, school) {
                Arrival::Admitted { seq } => Decision::Pass {
                    seq,
                    waited_ms: None,
                    new_ticket: true,
                },
                Arrival::Waiting(place) => Decision::Wait { place },
                Arrival::Full => Decision::Shed,
            }
        }
    };
    let ticket_cookie = |seq: u64| {
        let secure = crate::extract::secure_attr(state.web.cookie_secure);
        HeaderValue::from_str(&format!(
            "{TICKET_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=900{secure}",
            ticket_value(key, adm.epoch, seq, &browser)
        ))
        .ok()
    };
    match decision {
        Decision::Shed => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Service très demandé",
            "Trop de monde attend en ce moment pour que nous puissions vous donner une place. Réessayez dans une minute.",
            Some(30 + u64::from(rand::random::<u8>() % 30)),
        ),
        Decision::Wait { place } => {
            let mut resp = waiting_page(&req, &place);
            if let Some(c) = ticket_cookie(place.seq) {
                resp.headers_mut().append(SET_COOKIE, c);
            }
            resp
        }
        Decision::Pass {
            seq,
            waited_ms,
            new_ticket,
        } => {
            if let Some(ms) = waited_ms {
                state
                    .metrics
                    .waits
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .observe(ms as f64 / 1000.0);
            }
            let attempt = req.method() == Method::POST;
            req.extensions_mut().insert(LetIn);
            let mut resp = next.run(req).await;
            let signed_in = resp
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .any(|v| v.as_bytes().starts_with(format!("{SESSION_COOKIE}=").as_bytes()));
            if attempt {
                adm.line().attempt_done(adm.now_ms(), seq, signed_in);
            }
            let h = resp.headers_mut();
            if let Some(ms) = waited_ms {
                if let Ok(v) = HeaderValue::from_str(&format!("ticket={seq}; attente_ms={ms}")) {
                    h.insert("x-cartable-admis", v);
                }
            }
            if signed_in {
                h.append(
                    SET_COOKIE,
                    HeaderValue::from_static("cartable_entree=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
                );
            } else if new_ticket {
                if let Some(c) = ticket_cookie(seq) {
                    h.append(SET_COOKIE, c);
                }
            }
            resp
        }
    }
}

#[derive(Template)]
#[template(path = "waiting.html")]
struct WaitingPage {
    position: u64,
    wait: String,
    refresh_secs: u64,
    again: String,
}

/// "environ 3 minutes", in the words of a person.
pub fn wait_in_words(ms: Millis) -> String {
    let secs = ms.div_ceil(1000);
    match secs {
        0..=14 => "quelques secondes".to_string(),
        15..=59 => format!("environ {} secondes", secs.div_ceil(5) * 5),
        60..=89 => "environ 1 minute".to_string(),
        _ => {
            let minutes = (secs + 30) / 60;
            if minutes >= 120 {
                format!("environ {} heures", (minutes + 30) / 60)
            } else {
                format!("environ {minutes} minutes")
            }
        }
    }
}

fn waiting_page(req: &Request, place: &Place) -> Response {
    // A refresh must ask again with GET: after a refused POST, go back to the form.
    let again = if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/connexion".into())
    } else {
        req.uri().path().to_string()
    };
    let refresh_secs = place.refresh_ms.div_ceil(1000).max(1);
    let page = WaitingPage {
        position: place.position,
        wait: wait_in_words(place.eta_ms),
        refresh_secs,
        again: again.clone(),
    };
    let body = page.render().unwrap_or_else(|_| {
        format!(
            "Vous êtes dans la file d'attente, position {}.",
            place.position
        )
    });
    let mut resp = (StatusCode::OK, Html(body)).into_response();
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("{refresh_secs}; url={}", urlencode_path(&again)))
    {
        h.insert("refresh", v);
    }
    // `eta` in whole seconds (rounded up) for people and simple scripts;
    // `eta_ms` as estimated, for programs that compare it with the real wait
    // (a 0.6 s wait shown as "1" reads as 67% off).
    if let Ok(v) = HeaderValue::from_str(&format!(
        "position={}; eta={}; eta_ms={}; ticket={}",
        place.position,
        place.eta_ms.div_ceil(1000),
        place.eta_ms,
        place.seq
    )) {
        h.insert("x-cartable-attente", v);
    }
    resp
}

/// Keeps `?` `=` `&` of a path and query, escapes anything a header or an
/// attribute should not carry.
fn urlencode_path(p: &str) -> String {
    p.split_inclusive(['?', '&', '='])
        .map(|part| {
            let (body, sep) = match part.char_indices().last() {
                Some((i, '?' | '&' | '=')) => (&part[..i], &part[i..]),
                _ => (part, ""),
            };
            let decoded = body.replace('+', " ");
            format!("{}{sep}", urlencode(&percent_decode(&decoded)))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_in_words() {
        assert_eq!(wait_in_words(3_000), "quelques secondes");
        assert_eq!(wait_in_words(41_000), "environ 45 secondes");
        assert_eq!(wait_in_words(70_000), "environ 1 minute");
        assert_eq!(wait_in_words(5 * 60_000 + 10_000), "environ 5 minutes");
        assert_eq!(wait_in_words(3 * 3_600_000), "environ 3 heures");
    }

    #[test]
    fn refresh_targets_stay_on_this_site_and_escaped() {
        assert_eq!(
            urlencode_path("/connexion?suite=/devoirs&ecole=3"),
            "/connexion?suite=/devoirs&ecole=3"
        );
        assert_eq!(
            urlencode_path("/connexion?suite=%2Fdevoirs%22%3E"),
            "/connexion?suite=/devoirs%22%3E"
        );
    }
}
