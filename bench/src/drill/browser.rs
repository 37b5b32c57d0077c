//! One browser's cookies, and the HTTP client all browsers share.
//!
//! Browsers share one connection pool (a hundred thousand pupils with a pool
//! each would need a hundred thousand sockets on the drill's side); each keeps
//! its own cookies, sent by hand. The number of requests in flight is bounded
//! by a semaphore, and the time a request waits for it is measured: when it
//! grows, the drill, not the server, is the bottleneck.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use tokio::sync::Semaphore;

/// A browser's cookie jar (one site, so names are enough), and the network
/// it is on: `source` picks the loopback address its requests come from.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    cookies: Vec<(String, String)>,
    pub source: usize,
}

impl Jar {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        match self.cookies.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.cookies.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.cookies.retain(|(n, _)| n != name);
    }

    /// Takes the `Set-Cookie` headers of an answer: a value is kept, an empty
    /// value or `Max-Age=0` removes the cookie.
    pub fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let mut parts = v.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("max-age=-")
            });
            if value.is_empty() || expired {
                self.remove(name);
            } else {
                self.set(name, value);
            }
        }
    }

    /// The `Cookie` header to send, if any.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// A file in a multipart form.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub field: String,
    pub file_name: String,
    pub mime: String,
    pub bytes: Bytes,
}

/// A request body that can be sent again (a reload sends the same form).
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Form(Vec<(String, String)>),
    Multipart(Vec<(String, String)>, Option<FilePart>),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Body,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            path: path.into(),
            body: Body::None,
        }
    }

    pub fn form(path: impl Into<String>, fields: Vec<(String, String)>) -> Request {
        Request {
            method: Method::POST,
            path: path.into(),
            body: Body::Form(fields),
        }
    }

    pub fn multipart(
        path: impl Into<String>,
        fields: Vec<(String, String)>,
        file: Option<FilePart>,
    ) -> Request {
        Request {
            method: Method::POST,
            path: path.into(),
            body: Body::Multipart(fields, file),
        }
    }
}

/// A whole answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// From sending to the last byte of the body.
    pub latency: Duration,
}

impl Answer {
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After` in seconds, within [1, 30] (2 when absent).
    pub fn retry_after(&self) -> Duration {
        let s = self
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(2);
        Duration::from_secs(s.clamp(1, 30))
    }
}

/// No whole answer.
#[derive(Debug)]
pub enum Failure {
    /// Longer than the patience of a person: abandoned.
    Timeout,
    /// Refused, reset, or cut.
    Transport(String),
}

/// The shared client: one connection pool per source address.
pub struct Http {
    clients: Vec<reqwest::Client>,
    base: String,
    slots: Arc<Semaphore>,
    patience: Duration,
    /// Requests sent (answered or not).
    pub sent: AtomicU64,
    /// Longest wait for a slot, in microseconds.
    pub slot_wait_max_us: AtomicU64,
    /// Sum of waits for a slot, in microseconds.
    pub slot_wait_sum_us: AtomicU64,
}

/// Only this machine: the drill never sends traffic elsewhere.
pub fn check_loopback(base: &str) -> Result<(), String> {
    let rest = base
        .strip_prefix("http://")
        .ok_or("--base-url must start with http://")?;
    let host = rest.split('/').next().unwrap_or("");
    let host = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    let ok = host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--base-url: {host} is not this machine (127.0.0.0/8, localhost, [::1])"
        ))
    }
}

/// The loopback address of source `i` of `n`: 127.0.0.1 alone, or
/// 127.1.x.y, all on this machine's loopback interface.
pub fn source_address(i: usize, n: usize) -> Option<std::net::IpAddr> {
    if n <= 1 {
        return None;
    }
    let i = i % n;
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        1,
        (i / 250) as u8,
        (i % 250 + 1) as u8,
    )))
}

impl Http {
    /// `sources`: how many loopback source addresses the browsers are spread
    /// over (a school's pupils come from its own address, like behind the
    /// school's NAT, so that per-address limits apply as in real life).
    pub fn new(
        base: &str,
        max_in_flight: usize,
        patience: Duration,
        sources: usize,
    ) -> Result<Http, String> {
        check_loopback(base)?;
        let sources = sources.clamp(1, 60_000);
        let mut clients = Vec::with_capacity(sources);
        for i in 0..sources {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host((max_in_flight / sources).max(8))
                .pool_idle_timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .local_address(source_address(i, sources))
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            clients.push(client);
        }
        Ok(Http {
            clients,
            base: base.trim_end_matches('/').to_string(),
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            patience,
            sent: AtomicU64::new(0),
            slot_wait_max_us: AtomicU64::new(0),
            slot_wait_sum_us: AtomicU64::new(0),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `req` with the browser's cookies, keeps the cookies it sets.
    pub async fn send(&self, jar: &mut Jar, req: &Request) -> Result<Answer, Failure> {
        let asked = Instant::now();
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Failure::Transport("client closed".into()))?;
        let waited = asked.elapsed().as_micros() as u64;
        self.slot_wait_max_us.fetch_max(waited, Ordering::Relaxed);
        self.slot_wait_sum_us.fetch_add(waited, Ordering::Relaxed);
        self.sent.fetch_add(1, Ordering::Relaxed);

        let client = &self.clients[jar.source % self.clients.len()];
        let mut rb = client.request(req.method.clone(), format!("{}{}", self.base, req.path));
        if let Some(c) = jar.header() {
            rb = rb.header(COOKIE, c);
        }
        if req.method == Method::POST {
            // A browser says where a form comes from; the server checks it.
            rb = rb.header(ORIGIN, self.base.as_str());
        }
        rb = match &req.body {
            Body::None => rb,
            Body::Form(fields) => rb.form(fields),
            Body::Multipart(fields, file) => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k.clone(), v.clone());
                }
                if let Some(f) = file {
                    let part = reqwest::multipart::Part::stream(f.bytes.clone())
                        .file_name(f.file_name.clone())
                        .mime_str(&f.mime)
                        .map_err(|e| Failure::Transport(e.to_string()))?;
                    form = form.part(f.field.clone(), part);
                }
                rb.multipart(form)
            }
        };
        let started = Instant::now();
        let exchange = async {
            let resp = rb.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        };
        match tokio::time::timeout(self.patience, exchange).await {
            Err(_) => Err(Failure::Timeout),
            Ok(Err(e)) => Err(Failure::Transport(describe(&e))),
            Ok(Ok((status, headers, body))) => {
                jar.absorb(&headers);
                Ok(Answer {
                    status,
                    headers,
                    body,
                    latency: started.elapsed(),
                })
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_connect() {
        "connect".to_string()
    } else if e.is_body() || e.is_decode() {
        "body".to_string()
    } else {
        "request".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = format!("{s}: {inner}");
        source = inner.source();
    }
    s
}

/// The waiting-room headers (`x-cartable-attente` and `refresh`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waiting {
    pub position: u64,
    pub eta_s: f64,
    pub ticket: Option<u64>,
    pub refresh_s: f64,
}

fn fields(v: &str) -> impl Iterator<Item = (&str, &str)> {
    v.split(';').filter_map(|p| {
        let (k, v) = p.split_once('=')?;
        Some((k.trim(), v.trim()))
    })
}

/// Some when the answer is the waiting room.
pub fn waiting(headers: &HeaderMap) -> Option<Waiting> {
    let v = headers.get("x-cartable-attente")?.to_str().ok()?;
    let mut w = Waiting {
        position: 0,
        eta_s: 0.0,
        ticket: None,
        refresh_s: 1.0,
    };
    let mut eta_ms: Option<f64> = None;
    for (k, val) in fields(v) {
        match k {
            "position" => w.position = val.parse().unwrap_or(0),
            "eta" => w.eta_s = val.parse().unwrap_or(0.0),
            "eta_ms" => eta_ms = val.parse().ok(),
            "ticket" => w.ticket = val.parse().ok(),
            _ => {}
        }
    }
    // The estimate itself where the server gives it; `eta` is rounded up to
    // whole seconds, which alone makes a 0.6 s wait look 67% off.
    if let Some(ms) = eta_ms {
        w.eta_s = ms / 1000.0;
    }
    if let Some(r) = headers.get("refresh").and_then(|v| v.to_str().ok()) {
        // "5" or "5; url=/connexion"
        let n = r.split(';').next().unwrap_or("").trim();
        if let Ok(s) = n.parse::<f64>() {
            w.refresh_s = s.clamp(0.2, 60.0);
        }
    }
    Some(w)
}

/// `x-cartable-admis`: the ticket and the wait the server measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Admitted {
    pub ticket: Option<u64>,
    pub wait_ms: Option<u64>,
}

pub fn admitted(headers: &HeaderMap) -> Option<Admitted> {
    let v = headers.get("x-cartable-admis")?.to_str().ok()?;
    let mut a = Admitted::default();
    for (k, val) in fields(v) {
        match k {
            "ticket" => a.ticket = val.parse().ok(),
            "attente_ms" => a.wait_ms = val.parse().ok(),
            _ => {}
        }
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn jar_keeps_and_drops() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("cartable_csrf=abc; Path=/; HttpOnly"),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("cartable_session=s1; Path=/; Max-Age=100"),
        );
        let mut j = Jar::default();
        j.absorb(&h);
        assert_eq!(
            j.header().unwrap(),
            "cartable_csrf=abc; cartable_session=s1"
        );
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("cartable_session=; Path=/; Max-Age=0"),
        );
        j.absorb(&h);
        assert_eq!(j.header().unwrap(), "cartable_csrf=abc");
    }

    #[test]
    fn waiting_room_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-cartable-attente",
            HeaderValue::from_static("position=12; eta=30; ticket=345"),
        );
        h.insert("refresh", HeaderValue::from_static("5"));
        let w = waiting(&h).unwrap();
        assert_eq!(
            w,
            Waiting {
                position: 12,
                eta_s: 30.0,
                ticket: Some(345),
                refresh_s: 5.0
            }
        );
        // The server's own estimate wins over the whole seconds, in any order.
        h.insert(
            "x-cartable-attente",
            HeaderValue::from_static("position=3; eta_ms=600; eta=1; ticket=9"),
        );
        assert_eq!(waiting(&h).unwrap().eta_s, 0.6);
        let mut h = HeaderMap::new();
        h.insert(
            "x-cartable-admis",
            HeaderValue::from_static("ticket=345; attente_ms=27012"),
        );
        assert_eq!(
            admitted(&h),
            Some(Admitted {
                ticket: Some(345),
                wait_ms: Some(27012)
            })
        );
        assert_eq!(waiting(&HeaderMap::new()), None);
    }

    #[test]
    fn sources_stay_on_loopback() {
        assert_eq!(source_address(3, 1), None);
        let a = source_address(0, 64).unwrap();
        assert_eq!(a.to_string(), "127.1.0.1");
        assert_eq!(source_address(251, 300).unwrap().to_string(), "127.1.1.2");
        assert!(source_address(299, 300).unwrap().is_loopback());
    }

    #[test]
    fn loopback_only() {
        assert!(check_loopback("http://127.0.0.1:8080").is_ok());
        assert!(check_loopback("http://127.3.0.1:8080/").is_ok());
        assert!(check_loopback("http://localhost:1").is_ok());
        assert!(check_loopback("http://[::1]:8080").is_ok());
        assert!(check_loopback("http://10.0.0.1:8080").is_err());
        assert!(check_loopback("http://example.org").is_err());
        assert!(check_loopback("https://127.0.0.1").is_err());
    }
}
