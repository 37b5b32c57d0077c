//! The server cannot be held by slow or greedy clients: trickling headers
//! (slowloris) are cut at the header-read timeout while others are served,
//! and one address cannot take more than its share of connections.
//!
//! No timing is asserted: every wait is a bounded loop or a generous
//! timeout, and every socket and task stops by itself.

use std::sync::atomic::Ordering;
use std::time::Duration;

use cartable_testkit::reqwest::{self, StatusCode};
use cartable_testkit::*;
use cartable_web::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

/// Generous bound for anything that should take a moment.
const PATIENCE: Duration = Duration::from_secs(10);

async fn spawn(server: ServerConfig) -> TestApp {
    spawn_app_with(TestOptions {
        server,
        ..TestOptions::default()
    })
    .await
}

/// Polls `cond` every 50 ms for at most `PATIENCE`; true if it became true.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..(PATIENCE.as_millis() / 50) {
        if cond() {
            return true;
        }
        sleep(Duration::from_millis(50)).await;
    }
    cond()
}

fn open(t: &TestApp) -> usize {
    t.stats.open_connections.load(Ordering::Relaxed)
}

/// Keeps a socket going the way a slowloris does (one byte every 500 ms, or
/// nothing at all when `trickle` is false) and reports whether the server
/// closed it. Gives up after `ticks` half-seconds.
async fn hold(stream: TcpStream, trickle: bool, ticks: u32) -> bool {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = [0u8; 512];
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.tick().await;
    for _ in 0..ticks {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                // A close (FIN or RST); any bytes first would be an error page.
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            },
            _ = tick.tick() => {
                if trickle && wr.write_all(b"a").await.is_err() {
                    return true;
                }
            }
        }
    }
    false
}

/// An HTTP/1.1 GET over a raw socket bound to `local` (another loopback address).
async fn get_from(local: &str, t: &TestApp, path: &str) -> std::io::Result<String> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(local.parse().expect("address"))?;
    let mut s = socket.connect(t.addr).await?;
    s.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr
        )
        .as_bytes(),
    )
    .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_sockets_are_cut_while_others_are_served() {
    let t = spawn(ServerConfig {
        header_read_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    })
    .await;

    let mut slow = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(t.addr)
            .await
            .unwrap_or_else(|e| panic!("connect {i}: {e}"));
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("first bytes");
        slow.push(s);
    }
    assert!(
        eventually(|| open(&t) >= 200).await,
        "the server holds {} of the 200 sockets",
        open(&t)
    );

    // Trickle one header byte every 500 ms, for at most 12 s.
    let mut trickling = JoinSet::new();
    for s in slow {
        trickling.spawn(hold(s, true, 24));
    }

    // Meanwhile an ordinary visitor is served.
    let client = reqwest::Client::new();
    let r = timeout(PATIENCE, client.get(t.url("/healthz")).send())
        .await
        .expect("/healthz answered while 200 sockets trickle")
        .expect("/healthz");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok");

    // Every trickling socket is closed by the server.
    let mut closed = 0;
    let mut held = 0;
    while let Some(outcome) = trickling.join_next().await {
        if outcome.expect("trickle task") {
            closed += 1;
        } else {
            held += 1;
        }
    }
    assert_eq!(
        (closed, held),
        (200, 0),
        "slowloris sockets closed / still held after 12 s"
    );

    // And the server's count of open connections comes back down.
    drop(client);
    assert!(
        eventually(|| open(&t) == 0).await,
        "{} connections still counted open",
        open(&t)
    );
    assert!(t.stats.accepted.load(Ordering::Relaxed) >= 201);
    assert_eq!(t.stats.refused_over_cap.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let t = spawn(ServerConfig {
        header_read_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    })
    .await;
    let mut idle = JoinSet::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(t.addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request");
        // Read the whole answer ("ok" is the last line), then say nothing more.
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !answer.ends_with(b"ok") {
            let n = timeout(PATIENCE, s.read(&mut buf))
                .await
                .expect("an answer")
                .expect("read");
            assert!(n > 0, "closed before answering");
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"));
        idle.spawn(hold(s, false, 24));
    }
    let mut closed = 0;
    while let Some(outcome) = idle.join_next().await {
        closed += usize::from(outcome.expect("task"));
    }
    assert_eq!(closed, 20, "idle keep-alive connections closed");
    assert!(
        eventually(|| open(&t) == 0).await,
        "{} still open",
        open(&t)
    );
}

/// A socket that connects and sends nothing, or only the first bytes of the
/// HTTP/2 preface, must be cut like one that trickles a header: otherwise a
/// few thousand silent sockets hold the server without sending a byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_are_cut_too() {
    let t = spawn(ServerConfig {
        header_read_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    })
    .await;
    let mut silent = JoinSet::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(t.addr).await.expect("connect");
        let what = if i % 2 == 0 {
            "nothing"
        } else {
            s.write_all(b"PRI * HTTP/2.0\r\n")
                .await
                .expect("preface start");
            "half an HTTP/2 preface"
        };
        silent.spawn(async move { (what, hold(s, false, 24).await) });
    }
    assert!(eventually(|| open(&t) >= 40).await, "accepted {}", open(&t));
    let mut still_held = Vec::new();
    while let Some(outcome) = silent.join_next().await {
        let (what, closed) = outcome.expect("task");
        if !closed {
            still_held.push(what);
        }
    }
    assert!(
        still_held.is_empty(),
        "{} of 40 silent sockets still open 12 s after connecting (header-read timeout 2 s): {:?}",
        still_held.len(),
        still_held
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_more_than_its_share() {
    let t = spawn(ServerConfig {
        max_connections_per_ip: 20,
        ..ServerConfig::default()
    })
    .await;

    let mut sockets = Vec::new();
    for i in 0..30 {
        sockets.push(
            TcpStream::connect(t.addr)
                .await
                .unwrap_or_else(|e| panic!("connect {i}: {e}")),
        );
    }
    let seen = || {
        t.stats.accepted.load(Ordering::Relaxed) + t.stats.refused_over_cap.load(Ordering::Relaxed)
    };
    assert!(
        eventually(|| seen() >= 30).await,
        "the server saw {} of 30 connections",
        seen()
    );
    assert_eq!(t.stats.accepted.load(Ordering::Relaxed), 20);
    assert_eq!(t.stats.refused_over_cap.load(Ordering::Relaxed), 10);

    // The 10 extras are closed at once; the 20 others stay open.
    let mut checks = JoinSet::new();
    for mut s in sockets {
        checks.spawn(async move {
            let mut buf = [0u8; 64];
            let closed = match timeout(Duration::from_millis(500), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => true,
                Ok(Ok(n)) => panic!("{n} unexpected bytes from an idle connection"),
                Err(_) => false,
            };
            (s, closed)
        });
    }
    let mut kept = Vec::new();
    let mut closed = 0;
    while let Some(outcome) = checks.join_next().await {
        let (s, was_closed) = outcome.expect("task");
        if was_closed {
            closed += 1;
        } else {
            kept.push(s);
        }
    }
    assert_eq!(closed, 10, "connections over the cap closed");
    assert_eq!(kept.len(), 20);
    assert_eq!(open(&t), 20);

    // One more from 127.0.0.1: refused too.
    let mut extra = TcpStream::connect(t.addr).await.expect("connect");
    let mut buf = [0u8; 64];
    let n = timeout(PATIENCE, extra.read(&mut buf))
        .await
        .expect("closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert_eq!(t.stats.refused_over_cap.load(Ordering::Relaxed), 11);

    // Another address is served all the same.
    let answer = timeout(PATIENCE, get_from("127.0.0.2:0", &t, "/healthz"))
        .await
        .expect("served in time")
        .expect("a client on 127.0.0.2");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    // Once 127.0.0.1 lets go, it is served again.
    drop(kept);
    assert!(
        eventually(|| open(&t) == 0).await,
        "{} still open",
        open(&t)
    );
    let r = timeout(PATIENCE, reqwest::get(t.url("/healthz")))
        .await
        .expect("in time")
        .expect("/healthz");
    assert_eq!(r.status(), StatusCode::OK);
}
