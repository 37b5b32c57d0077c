//! CPU time read from `/proc`, in nanoseconds (`schedstat`'s first field: time
//! spent on a CPU). Wall time on a shared 2-core machine moves with whatever
//! else runs; the CPU a request costs the server moves much less.
//!
//! The benchmarks run the server in the same process as their HTTP client, on
//! separate threads: the client on the main thread (a current-thread Tokio
//! runtime) and threads named [`CLIENT_THREAD`]; everything else (server
//! runtime workers, SQLite worker threads, Argon2 threads) is the server.

use std::fs;

/// Name prefix of the client's threads (its Tokio runtime's blocking pool).
pub const CLIENT_THREAD: &str = "bench-client";

fn schedstat_ns(path: &str) -> Option<u64> {
    fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time of this process's live server threads: every thread but the main
/// one and those named [`CLIENT_THREAD`]. A thread that started and ended
/// between two readings is missed (none does in these benchmarks).
pub fn server_cpu_ns() -> u64 {
    let main = std::process::id().to_string();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        if tid == main {
            continue;
        }
        let comm = fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap_or_default();
        if comm.trim_end().starts_with(CLIENT_THREAD) {
            continue;
        }
        total += schedstat_ns(&format!("/proc/self/task/{tid}/schedstat")).unwrap_or(0);
    }
    total
}

/// CPU time of every process named `postgres` on this machine (backends,
/// WAL writer, checkpointer...), or `None` when there is none to read. Each
/// PostgreSQL process has one thread, so its `schedstat` is the whole process.
/// Includes whatever else uses the same server at the same time.
pub fn postgres_cpu_ns() -> Option<u64> {
    let mut total = 0;
    let mut seen = false;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() != "postgres" {
            continue;
        }
        if let Some(ns) = schedstat_ns(&format!("/proc/{pid}/schedstat")) {
            total += ns;
            seen = true;
        }
    }
    seen.then_some(total)
}

/// One reading of the server's CPU (and PostgreSQL's, when it is measured).
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    server_ns: u64,
    db_ns: Option<u64>,
}

/// CPU spent between two marks, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSpent {
    pub server_ms: f64,
    pub db_ms: Option<f64>,
}

pub fn mark(with_postgres: bool) -> CpuMark {
    CpuMark {
        server_ns: server_cpu_ns(),
        db_ns: if with_postgres {
            postgres_cpu_ns()
        } else {
            None
        },
    }
}

impl CpuMark {
    pub fn since(&self, earlier: &CpuMark) -> CpuSpent {
        let ms = |a: u64, b: u64| a.saturating_sub(b) as f64 / 1e6;
        CpuSpent {
            server_ms: ms(self.server_ns, earlier.server_ns),
            db_ms: match (self.db_ns, earlier.db_ns) {
                (Some(a), Some(b)) => Some(ms(a, b)),
                _ => None,
            },
        }
    }
}
