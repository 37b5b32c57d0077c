//! Password hashing off the async runtime. Argon2id costs tens of
//! milliseconds of CPU and 19 MiB per hash: run on the async workers it would
//! stall every other request. So hashes run on a fixed set of threads (one per
//! core) fed by a bounded queue; when the queue is full the caller is told
//! `Busy` at once instead of waiting in a pile that only grows.
//!
//! The bound has two levels. A visitor the door did not count (admission
//! control off, or a path it does not gate) is refused past `queue_capacity`
//! waiting hashes. Someone the door let in already waited their turn: the
//! door's rate bounds how many of them come, but not how bunched they come
//! back from the waiting room, so they may queue up to `LET_IN_OVERFLOW`
//! times further rather than meet an error after waiting.
//!
//! The hashing threads run at a lower scheduling priority than the rest of
//! the server (`HASH_NICENESS`). When the machine is busy, the pages of
//! people already inside go first and a login's hash takes the CPU that is
//! left; the door measures the hash time as it is, so it lets fewer people in
//! from the waiting room instead of slowing everyone inside.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;

use crate::AppError;

/// Argon2id parameters. The default is OWASP's (m = 19 MiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashCost {
    /// Cheap parameters for tests only: the code paths are the same.
    pub fn for_tests() -> HashCost {
        HashCost {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .expect("valid Argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

struct Shared {
    sender: SyncSender<Job>,
    queued: AtomicUsize,
    running: AtomicUsize,
    /// Hashes finished since start, and the total time they waited in the
    /// queue before a thread took them: admission control reads both to
    /// measure the queueing delay (its capacity signal).
    completed: AtomicU64,
    queue_wait_micros: AtomicU64,
    /// Total time the threads spent hashing (the mean hash time the door
    /// measures its capacity with).
    busy_micros: AtomicU64,
    /// How long the pool's first hash (the dummy one) took at start: the
    /// hash time to assume before any login is measured.
    first_hash_micros: u64,
    threads: usize,
    /// Waiting hashes past which a visitor is refused.
    queue_capacity: usize,
    /// A hash of a random password, verified when the login is unknown, so
    /// that an unknown login costs what a known one costs.
    dummy_hash: String,
}

/// See [`HashPool::totals`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashTotals {
    pub completed: u64,
    pub queue_wait_micros: u64,
    pub busy_micros: u64,
}

/// How much further than a visitor someone let in by the door may queue.
pub const LET_IN_OVERFLOW: usize = 8;

/// Whose hash it is: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Visitor,
    LetIn,
}

/// A bounded pool of hashing threads. Cheap to clone.
#[derive(Clone)]
pub struct HashPool {
    shared: Arc<Shared>,
}

impl HashPool {
    /// `threads` hashing threads (use the number of cores) and room for
    /// `queue_capacity` waiting hashes.
    pub fn new(threads: usize, queue_capacity: usize, cost: HashCost) -> HashPool {
        let threads = threads.max(1);
        let (sender, receiver) = sync_channel::<Job>(queue_capacity * LET_IN_OVERFLOW);
        let receiver = Arc::new(Mutex::new(receiver));
        let started = Instant::now();
        let dummy_hash = hash_now(&cost.argon2(), "cartable-dummy-password-for-unknown-logins");
        let first_hash_micros = started.elapsed().as_micros() as u64;
        let shared = Arc::new(Shared {
            sender,
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            completed: AtomicU64::new(0),
            queue_wait_micros: AtomicU64::new(0),
            busy_micros: AtomicU64::new(0),
            first_hash_micros,
            threads,
            queue_capacity,
            dummy_hash,
        });
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            let argon2 = cost.argon2();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    hashing_loop(&receiver, &argon2)
                })
                .expect("spawn a hashing thread");
        }
        HashPool { shared }
    }

    /// Hashes waiting for a thread.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Hashes being computed now.
    pub fn running(&self) -> usize {
        self.shared.running.load(Ordering::Relaxed)
    }

    pub fn threads(&self) -> usize {
        self.shared.threads
    }

    /// The time the pool's first hash took (ms), measured at start.
    pub fn first_hash_ms(&self) -> f64 {
        self.shared.first_hash_micros as f64 / 1000.0
    }

    pub fn queue_capacity(&self) -> usize {
        self.shared.queue_capacity
    }

    /// Running totals since start: hashes finished, the time they spent
    /// queued and the time spent computing them. The difference of two
    /// readings gives the mean queueing delay, the throughput, the mean hash
    /// time and the threads' utilisation over that interval.
    pub fn totals(&self) -> HashTotals {
        HashTotals {
            completed: self.shared.completed.load(Ordering::Relaxed),
            queue_wait_micros: self.shared.queue_wait_micros.load(Ordering::Relaxed),
            busy_micros: self.shared.busy_micros.load(Ordering::Relaxed),
        }
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.hash_as(password, Turn::Visitor).await
    }

    pub async fn hash_as(&self, password: String, turn: Turn) -> Result<String, AppError> {
        self.run(move |argon2| hash_now(argon2, &password), turn)
            .await
    }

    /// Checks `password` against a PHC string; with `None` (unknown login or
    /// no password yet) checks against a dummy hash and answers false.
    pub async fn verify(&self, phc: Option<String>, password: String) -> Result<bool, AppError> {
        self.verify_as(phc, password, Turn::Visitor).await
    }

    pub async fn verify_as(
        &self,
        phc: Option<String>,
        password: String,
        turn: Turn,
    ) -> Result<bool, AppError> {
        let (phc, real) = match phc {
            Some(p) => (p, true),
            None => (self.shared.dummy_hash.clone(), false),
        };
        let ok = self
            .run(
                move |argon2| {
                    PasswordHash::new(&phc)
                        .map(|parsed| argon2.verify_password(password.as_bytes(), &parsed).is_ok())
                        .unwrap_or(false)
                },
                turn,
            )
            .await?;
        Ok(ok && real)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
        turn: Turn,
    ) -> Result<T, AppError> {
        if turn == Turn::Visitor && self.queued() >= self.shared.queue_capacity {
            return Err(AppError::Busy {
                retry_after_secs: 2,
            });
        }
        let (tx, rx) = oneshot::channel();
        let shared = Arc::clone(&self.shared);
        let enqueued = Instant::now();
        let job: Job = Box::new(move |argon2| {
            let waited = enqueued.elapsed().as_micros() as u64;
            shared.queued.fetch_sub(1, Ordering::Relaxed);
            shared.running.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let out = work(argon2);
            let busy = started.elapsed().as_micros() as u64;
            shared.running.fetch_sub(1, Ordering::Relaxed);
            shared.busy_micros.fetch_add(busy, Ordering::Relaxed);
            shared
                .queue_wait_micros
                .fetch_add(waited, Ordering::Relaxed);
            shared.completed.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(out);
        });
        self.shared.queued.fetch_add(1, Ordering::Relaxed);
        match self.shared.sender.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(AppError::Busy {
                    retry_after_secs: 2,
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                self.shared.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(AppError::Internal("hashing pool stopped".into()));
            }
        }
        rx.await
            .map_err(|_| AppError::Internal("hashing thread died".into()))
    }
}

/// How much lower than the server's other threads a hashing thread is
/// scheduled. At 10 more than the server's nice value, Linux gives a hashing
/// thread about a tenth of the CPU a request-serving thread gets while both
/// want it, and all of it otherwise.
pub const HASH_NICENESS: i32 = 10;

/// Lowers the calling thread's priority by `HASH_NICENESS` (19 at most): see
/// the module's documentation. On Linux the nice value is per thread, and
/// lowering one's own priority needs no privilege; elsewhere hashing keeps
/// the normal priority.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpriority and setpriority only read their integer
        // arguments; `who = 0` names the calling thread.
        let rc = unsafe {
            let now = libc::getpriority(libc::PRIO_PROCESS, 0);
            libc::setpriority(libc::PRIO_PROCESS, 0, (now + HASH_NICENESS).min(19))
        };
        if rc != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower the hashing thread's priority"
            );
        }
    }
}

fn hashing_loop(receiver: &Mutex<std::sync::mpsc::Receiver<Job>>, argon2: &Argon2<'static>) {
    loop {
        let job = match receiver.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(argon2),
            // Every HashPool handle is gone: the server is stopping.
            Err(_) => return,
        }
    }
}

fn hash_now(argon2: &Argon2<'static>, password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_costs_a_verify() {
        let pool = HashPool::new(2, 8, HashCost::for_tests());
        let h = pool.hash("vélo rouge du mardi".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert!(pool
            .verify(Some(h.clone()), "vélo rouge du mardi".into())
            .await
            .unwrap());
        assert!(!pool
            .verify(Some(h), "velo rouge du mardi".into())
            .await
            .unwrap());
        assert!(!pool
            .verify(None, "cartable-dummy-password-for-unknown-logins".into())
            .await
            .unwrap());
        assert!(!pool
            .verify(Some("not a phc".into()), "x".into())
            .await
            .unwrap());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_yield_to_the_threads_serving_pages() {
        // SAFETY: see yield_to_requests.
        let own = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let pool = HashPool::new(1, 1, HashCost::for_tests());
        let theirs = pool
            .run(
                |_| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) },
                Turn::Visitor,
            )
            .await
            .unwrap();
        assert_eq!(theirs, (own + HASH_NICENESS).min(19));
        assert_eq!(
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) },
            own,
            "only the hashing threads are lowered"
        );
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        // One thread, room for one waiting job; block the thread with a slow job.
        let pool = HashPool::new(1, 1, HashCost::for_tests());
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(
                    move |_| {
                        let _ = release_rx.recv();
                    },
                    Turn::Visitor,
                )
                .await
            })
        };
        while pool.running() == 0 {
            tokio::task::yield_now().await;
        }
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.hash("premier en file".into()).await })
        };
        while pool.queued() == 0 {
            tokio::task::yield_now().await;
        }
        let refused = pool.hash("un de trop".into()).await;
        assert!(matches!(refused, Err(AppError::Busy { .. })));
        // Someone the door let in queues further (up to LET_IN_OVERFLOW times).
        let let_in: Vec<_> = (0..LET_IN_OVERFLOW - 1)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash_as(format!("admis {i}"), Turn::LetIn).await })
            })
            .collect();
        while pool.queued() < LET_IN_OVERFLOW {
            tokio::task::yield_now().await;
        }
        let past_all = pool.hash_as("au-delà".into(), Turn::LetIn).await;
        assert!(
            matches!(past_all, Err(AppError::Busy { .. })),
            "still bounded"
        );
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        assert!(waiting.await.unwrap().is_ok());
        for h in let_in {
            assert!(h.await.unwrap().is_ok());
        }
        assert_eq!((pool.queued(), pool.running()), (0, 0));
    }
}
