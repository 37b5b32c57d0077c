//! The server loop, hardened against what a school morning and a hostile
//! client bring (measured on this machine kind, see FIELD-NOTES):
//!
//! - `axum::serve` gives hyper no timer, so header-read timeouts are silently
//!   off and trickling sockets stay open forever: we serve each connection
//!   through hyper-util's builder with a Tokio timer and a total header-read
//!   timeout;
//! - `accept()` fails with EMFILE under a connection flood: log, back off, go on;
//! - a cap on connections, total and per client address (IPv6 grouped by /64),
//!   high enough for a school behind one NAT;
//! - explicit HTTP/2 limits;
//! - graceful shutdown: stop accepting, let requests in flight finish.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Time a client has to send a request's headers, counted from the first
    /// byte (a trickle does not extend it) and for idle keep-alive connections.
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    /// Per client address. A school's NAT puts hundreds of pupils behind one
    /// address, each browser with a few connections: keep this generous.
    pub max_connections_per_ip: usize,
    /// How long requests in flight may take to finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 20_000,
            max_connections_per_ip: 2_000,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Counters of the accept loop, for metrics and tests.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub open_connections: AtomicUsize,
    pub accepted: AtomicU64,
    pub refused_over_cap: AtomicU64,
    pub accept_errors: AtomicU64,
}

/// Per-address connection counts; released when a connection ends.
#[derive(Default)]
struct ConnectionTable {
    per_key: Mutex<HashMap<IpAddr, usize>>,
}

/// IPv6 clients get a /64 each (what one household or school is given); IPv4
/// and IPv4-mapped addresses count as themselves.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

struct ConnectionSlot {
    table: Arc<ConnectionTable>,
    stats: Arc<ServerStats>,
    key: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.stats.open_connections.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut map) = self.table.per_key.lock() {
            if let Some(n) = map.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.key);
                }
            }
        }
    }
}

fn take_slot(
    table: &Arc<ConnectionTable>,
    stats: &Arc<ServerStats>,
    cfg: &ServerConfig,
    ip: IpAddr,
) -> Option<ConnectionSlot> {
    if stats.open_connections.load(Ordering::Relaxed) >= cfg.max_connections {
        return None;
    }
    let key = client_key(ip);
    let mut map = table.per_key.lock().ok()?;
    let n = map.entry(key).or_insert(0);
    if *n >= cfg.max_connections_per_ip {
        return None;
    }
    *n += 1;
    stats.open_connections.fetch_add(1, Ordering::Relaxed);
    Some(ConnectionSlot {
        table: Arc::clone(table),
        stats: Arc::clone(stats),
        key,
    })
}

fn connection_builder(cfg: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_pending_accept_reset_streams(16)
        .max_header_list_size(32 * 1024)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Waits until the client has sent enough to tell HTTP/1 from HTTP/2 (the
/// whole preface, or a byte that departs from it); false if it closed.
async fn sniffable(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 24];
    loop {
        match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n >= H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] => return true,
            // A prefix of the preface: `peek` would return at once again.
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    cfg: ServerConfig,
    stats: Arc<ServerStats>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let builder = Arc::new(connection_builder(&cfg));
    let table = Arc::new(ConnectionTable::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    // EMFILE/ENFILE: out of descriptors. Waiting lets connections
                    // close; spinning on accept would burn the CPU they need.
                    let pause = if matches!(e.raw_os_error(), Some(23 | 24)) { 100 } else { 10 };
                    tracing::warn!(error = %e, "accept failed; pausing {pause} ms");
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = take_slot(&table, &stats, &cfg, peer.ip()) else {
            stats.refused_over_cap.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let first_bytes_deadline = cfg.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            // hyper-util's auto builder first reads up to 24 bytes to tell
            // HTTP/2 from HTTP/1, with no timer: a socket that sends nothing
            // (or half the HTTP/2 preface) would be held forever. Give it the
            // header-read timeout to show what it speaks.
            match tokio::time::timeout(first_bytes_deadline, sniffable(&stream)).await {
                Ok(true) => {}
                _ => return,
            }
            let connection = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(cfg.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_grouped_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn per_ip_cap_is_released_on_drop() {
        let cfg = ServerConfig {
            max_connections_per_ip: 2,
            ..ServerConfig::default()
        };
        let table = Arc::new(ConnectionTable::default());
        let stats = Arc::new(ServerStats::default());
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let a = take_slot(&table, &stats, &cfg, ip).unwrap();
        let _b = take_slot(&table, &stats, &cfg, ip).unwrap();
        assert!(take_slot(&table, &stats, &cfg, ip).is_none());
        assert!(take_slot(&table, &stats, &cfg, "127.0.0.10".parse().unwrap()).is_some());
        drop(a);
        assert!(take_slot(&table, &stats, &cfg, ip).is_some());
    }
}
