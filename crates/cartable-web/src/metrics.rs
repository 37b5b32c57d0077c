//! What an operator watches at 8:05, in Prometheus' text format at
//! `/metrics`: requests and latency per route, the door (admitted, waiting,
//! shed, wait times, current limit), logins and hashes in flight, and the
//! signals that tell a surge from an attack (failed-login ratio, share of
//! unauthenticated requests, how concentrated the traffic is on one address).
//!
//! Hand-written rather than a metrics crate: a few counters and fixed-bucket
//! histograms behind one mutex per family are all this needs, and the text
//! format is ten lines.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::csrf::cookie_value;
use crate::extract::SESSION_COOKIE;
use crate::ratelimit::client_key;
use crate::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds of the waiting-room wait buckets, in seconds.
pub const WAIT_BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0,
];

#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    /// One unlabelled histogram family with its HELP and TYPE lines.
    pub fn write_to(&self, out: &mut String, name: &str) {
        let _ = writeln!(
            out,
            "# HELP {name} Time from taking a place in line to being let in.\n# TYPE {name} histogram"
        );
        self.write(out, name, "");
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

struct RouteStats {
    /// Responses by status class: 1xx..5xx.
    by_class: [u64; 5],
    latency: Histogram,
}

/// Requests per client address over the current and the previous minute.
struct Concentration {
    window_start: Instant,
    current: HashMap<IpAddr, u64>,
    current_total: u64,
    /// (busiest client's requests, all requests) of the last full minute.
    last: (u64, u64),
}

/// Most distinct addresses counted per minute: beyond, new ones are not
/// tracked (memory stays bounded under a spoofed flood).
const MAX_TRACKED_CLIENTS: usize = 100_000;

pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
    pub waits: Mutex<Histogram>,
    pub logins_in_flight: AtomicI64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub unauthenticated_requests: AtomicU64,
    pub requests: AtomicU64,
    /// 429 answers, by action code.
    limited: Mutex<HashMap<&'static str, u64>>,
    concentration: Mutex<Concentration>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: Mutex::default(),
            waits: Mutex::new(Histogram::new(&WAIT_BUCKETS)),
            logins_in_flight: AtomicI64::new(0),
            logins_ok: AtomicU64::new(0),
            logins_failed: AtomicU64::new(0),
            unauthenticated_requests: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            limited: Mutex::default(),
            concentration: Mutex::new(Concentration {
                window_start: Instant::now(),
                current: HashMap::new(),
                current_total: 0,
                last: (0, 0),
            }),
        }
    }
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = routes.get_mut(route) {
            r.by_class[class] += 1;
            r.latency.observe(seconds);
        } else {
            let mut r = RouteStats {
                by_class: [0; 5],
                latency: Histogram::new(&LATENCY_BUCKETS),
            };
            r.by_class[class] += 1;
            r.latency.observe(seconds);
            routes.insert(route.to_string(), r);
        }
    }

    pub fn limited(&self, action: &'static str) {
        *self
            .limited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(action)
            .or_default() += 1;
    }

    fn note_client(&self, ip: IpAddr) {
        let mut c = self.concentration.lock().unwrap_or_else(|e| e.into_inner());
        if c.window_start.elapsed().as_secs() >= 60 {
            let top = c.current.values().copied().max().unwrap_or(0);
            c.last = (top, c.current_total);
            c.current.clear();
            c.current_total = 0;
            c.window_start = Instant::now();
        }
        c.current_total += 1;
        if c.current.len() < MAX_TRACKED_CLIENTS || c.current.contains_key(&ip) {
            *c.current.entry(ip).or_default() += 1;
        }
    }

    /// Share of last minute's requests that came from the busiest address
    /// (a /64 for IPv6): near 1 under a single-source flood; a school NAT
    /// shows as a modest share among many.
    pub fn top_client_share(&self) -> f64 {
        let c = self.concentration.lock().unwrap_or_else(|e| e.into_inner());
        let (top, total) = if c.last.1 > 0 {
            c.last
        } else {
            (
                c.current.values().copied().max().unwrap_or(0),
                c.current_total,
            )
        };
        if total == 0 {
            0.0
        } else {
            top as f64 / total as f64
        }
    }

    pub fn failed_login_ratio(&self) -> f64 {
        let ok = self.logins_ok.load(Ordering::Relaxed) as f64;
        let failed = self.logins_failed.load(Ordering::Relaxed) as f64;
        if ok + failed == 0.0 {
            0.0
        } else {
            failed / (ok + failed)
        }
    }

    pub fn unauthenticated_share(&self) -> f64 {
        let all = self.requests.load(Ordering::Relaxed) as f64;
        if all == 0.0 {
            0.0
        } else {
            self.unauthenticated_requests.load(Ordering::Relaxed) as f64 / all
        }
    }

    /// The request families of this module, in text format.
    pub fn write_http(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        out.push_str("# HELP cartable_http_requests_total Responses by route and status class.\n");
        out.push_str("# TYPE cartable_http_requests_total counter\n");
        for name in &names {
            for (i, n) in routes[*name].by_class.iter().enumerate() {
                if *n > 0 {
                    let _ = writeln!(
                        out,
                        "cartable_http_requests_total{{route=\"{}\",status=\"{}xx\"}} {n}",
                        escape(name),
                        i + 1
                    );
                }
            }
        }
        out.push_str("# HELP cartable_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE cartable_http_request_duration_seconds histogram\n");
        for name in &names {
            routes[*name].latency.write(
                out,
                "cartable_http_request_duration_seconds",
                &format!("route=\"{}\"", escape(name)),
            );
        }
        drop(routes);
        out.push_str("# HELP cartable_rate_limited_total Requests refused with 429, by action.\n");
        out.push_str("# TYPE cartable_rate_limited_total counter\n");
        let limited = self.limited.lock().unwrap_or_else(|e| e.into_inner());
        let mut actions: Vec<_> = limited.iter().collect();
        actions.sort();
        for (a, n) in actions {
            let _ = writeln!(out, "cartable_rate_limited_total{{action=\"{a}\"}} {n}");
        }
        drop(limited);
        gauge(
            out,
            "cartable_logins_in_flight",
            "Password logins being checked now.",
            self.logins_in_flight.load(Ordering::Relaxed) as f64,
        );
        counter(
            out,
            "cartable_logins_total{result=\"ok\"}",
            "Password logins by result.",
            self.logins_ok.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "cartable_logins_total{{result=\"failed\"}} {}",
            self.logins_failed.load(Ordering::Relaxed)
        );
        gauge(
            out,
            "cartable_failed_login_ratio",
            "Failed share of password logins since start (high: credential stuffing).",
            self.failed_login_ratio(),
        );
        gauge(
            out,
            "cartable_unauthenticated_share",
            "Share of requests without a session since start (high: crowd at the door or a flood).",
            self.unauthenticated_share(),
        );
        gauge(
            out,
            "cartable_top_client_share",
            "Share of last minute's requests from the busiest address.",
            self.top_client_share(),
        );
    }
}

pub fn gauge(out: &mut String, name: &str, help: &str, v: f64) {
    let base = name.split('{').next().unwrap_or(name);
    let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} gauge\n{name} {v}");
}

pub fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let base = name.split('{').next().unwrap_or(name);
    let _ = writeln!(
        out,
        "# HELP {base} {help}\n# TYPE {base} counter\n{name} {v}"
    );
}

/// A counter of seconds kept in microseconds (integers add up exactly).
pub fn seconds_counter(out: &mut String, name: &str, help: &str, micros: u64) {
    let base = name.split('{').next().unwrap_or(name);
    let _ = writeln!(
        out,
        "# HELP {base} {help}\n# TYPE {base} counter\n{name} {}",
        micros as f64 / 1e6
    );
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Times every request and files it under its route pattern
/// (`/cahier/seances/{id}`, never the raw path: the label set stays small).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(autre)".to_string());
    let route = format!("{} {route}", req.method());
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>() {
        state.metrics.note_client(client_key(addr.ip()));
    }
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    if cookie_value(req.headers(), SESSION_COOKIE).is_none() {
        state
            .metrics
            .unauthenticated_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    let resp = next.run(req).await;
    state.metrics.record(
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_in_text() {
        let mut h = Histogram::new(&LATENCY_BUCKETS);
        h.observe(0.0005);
        h.observe(0.02);
        h.observe(30.0);
        let mut out = String::new();
        h.write(&mut out, "x", "route=\"GET /\"");
        assert!(out.contains("x_bucket{route=\"GET /\",le=\"0.001\"} 1\n"));
        assert!(out.contains("x_bucket{route=\"GET /\",le=\"0.025\"} 2\n"));
        assert!(out.contains("x_bucket{route=\"GET /\",le=\"10\"} 2\n"));
        assert!(out.contains("x_bucket{route=\"GET /\",le=\"+Inf\"} 3\n"));
        assert!(out.contains("x_count{route=\"GET /\"} 3\n"));
    }
}
