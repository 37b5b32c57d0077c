//! What the node tells about itself: `/metrics` for Prometheus, `/etat` for
//! people (a small public page: how busy the door is, without anyone's data).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use cartable_app::tokens::same_digest;

use super::render;
use crate::admission::{wait_in_words, DoorFigures};
use crate::error::{WebError, WebResult};
use crate::metrics::{counter, gauge, seconds_counter};
use crate::state::AppState;

/// Prometheus scrapes from the machine itself or presents the configured
/// token; anyone else gets "not found" (latency per route is not public).
fn may_scrape(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let local = peer.is_some_and(|p| p.ip().is_loopback());
    let token_ok = state.web.metrics_token.as_deref().is_some_and(|t| {
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| same_digest(given, t))
    });
    local || token_ok
}

pub async fn metrics(State(state): State<AppState>, req: Request) -> WebResult<Response> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    if !may_scrape(&state, peer, req.headers()) {
        return Err(WebError::not_found());
    }
    let mut out = String::with_capacity(16 * 1024);
    let door = state.admission.figures();
    write_door(&mut out, &door);
    let hasher = &state.app.hasher;
    let totals = hasher.totals();
    gauge(
        &mut out,
        "cartable_hashes_running",
        "Password hashes being computed.",
        hasher.running() as f64,
    );
    gauge(
        &mut out,
        "cartable_hashes_queued",
        "Password hashes waiting for a thread.",
        hasher.queued() as f64,
    );
    counter(
        &mut out,
        "cartable_hashes_total",
        "Password hashes computed since start.",
        totals.completed,
    );
    // Where a slow login's time went, for the operator at 8:05: the rate of
    // these two over the rate of cartable_hashes_total is the mean wait for a
    // hashing thread and the mean wall time of a hash (which stretches when
    // pages want the CPU: the hashing threads run niced).
    seconds_counter(
        &mut out,
        "cartable_hash_queue_wait_seconds_total",
        "Time password hashes spent waiting for a hashing thread.",
        totals.queue_wait_micros,
    );
    seconds_counter(
        &mut out,
        "cartable_hash_busy_seconds_total",
        "Wall time spent computing password hashes.",
        totals.busy_micros,
    );
    // Written behind the pages once a second; a number that keeps growing
    // says the database's writer is behind.
    gauge(
        &mut out,
        "cartable_session_slides_pending",
        "Session expiry slides not yet written to the database.",
        state.app.pending_session_touches() as f64,
    );
    state
        .metrics
        .waits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .write_to(&mut out, "cartable_admission_wait_seconds");
    state.metrics.write_http(&mut out);
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response())
}

fn write_door(out: &mut String, d: &DoorFigures) {
    gauge(
        out,
        "cartable_admission_enabled",
        "1 when the waiting room is on.",
        f64::from(u8::from(d.enabled)),
    );
    counter(
        out,
        "cartable_admission_admitted_total{how=\"at_once\"}",
        "People let through the door.",
        d.totals.admitted_at_once,
    );
    out.push_str(&format!(
        "cartable_admission_admitted_total{{how=\"after_wait\"}} {}\n",
        d.totals.admitted_after_wait
    ));
    counter(
        out,
        "cartable_admission_queued_total",
        "People sent to the waiting room.",
        d.totals.queued,
    );
    counter(
        out,
        "cartable_admission_shed_total",
        "People refused (503) because the line itself was full.",
        d.totals.shed,
    );
    counter(
        out,
        "cartable_admission_abandoned_total",
        "Places given up (no visit for 5 minutes).",
        d.totals.abandoned,
    );
    gauge(
        out,
        "cartable_admission_waiting",
        "People in the waiting room now.",
        d.waiting as f64,
    );
    gauge(
        out,
        "cartable_admission_limit",
        "People per second the door lets in at most (the hash capacity with headroom, cut by measured delays).",
        d.rate,
    );
    gauge(
        out,
        "cartable_hash_capacity_per_second",
        "Password hashes per second the hashing threads sustain at the hash time measured now.",
        d.hash_capacity,
    );
    gauge(
        out,
        "cartable_admission_called",
        "People whose turn came and who have not come back for it yet.",
        d.called as f64,
    );
    gauge(
        out,
        "cartable_admission_rate",
        "People let in per second, recent.",
        d.admission_rate,
    );
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    enabled: bool,
    waiting: usize,
    per_minute: u64,
    wait: String,
    admitted: u64,
    failed_login_percent: u64,
    unauthenticated_percent: u64,
    top_client_percent: u64,
}

pub async fn status_page(State(state): State<AppState>) -> WebResult<Response> {
    let d = state.admission.figures();
    let m = &state.metrics;
    let eta_ms = if d.admission_rate > 0.0 {
        (d.waiting as f64 / d.admission_rate * 1000.0) as u64
    } else {
        0
    };
    let page = StatusPage {
        enabled: d.enabled,
        waiting: d.waiting,
        per_minute: (d.admission_rate * 60.0).round() as u64,
        wait: wait_in_words(eta_ms),
        admitted: d.totals.admitted_at_once + d.totals.admitted_after_wait,
        failed_login_percent: (m.failed_login_ratio() * 100.0).round() as u64,
        unauthenticated_percent: (m.unauthenticated_share() * 100.0).round() as u64,
        top_client_percent: (m.top_client_share() * 100.0).round() as u64,
    };
    Ok(render(&page)?.into_response())
}
