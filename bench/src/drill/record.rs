//! What the drill measures while it runs, and the figures computed from it
//! afterwards.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::browser::{Admitted, Waiting};

/// The pages of a journey. `WaitingRoom` is any answer that is the waiting
/// room, whatever URL was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Page {
    LoginForm,
    Login,
    Home,
    Devoirs,
    Attachment,
    HandinList,
    HandinForm,
    Handin,
    Compose,
    Message,
    WaitingRoom,
}

impl Page {
    pub const ALL: [Page; 11] = [
        Page::LoginForm,
        Page::Login,
        Page::Home,
        Page::Devoirs,
        Page::Attachment,
        Page::HandinList,
        Page::HandinForm,
        Page::Handin,
        Page::Compose,
        Page::Message,
        Page::WaitingRoom,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Page::LoginForm => "login_form",
            Page::Login => "login",
            Page::Home => "home",
            Page::Devoirs => "devoirs",
            Page::Attachment => "attachment",
            Page::HandinList => "handin_list",
            Page::HandinForm => "handin_form",
            Page::Handin => "handin",
            Page::Compose => "compose",
            Page::Message => "message",
            Page::WaitingRoom => "waiting_room",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A 5xx answer.
    Server,
    /// A page abandoned after the patience of a person (10 s).
    Timeout,
    /// Refused, reset, cut.
    Transport,
    /// A status or a page the journey could not go on with.
    Unexpected,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Server => "5xx",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "reset",
            ErrorKind::Unexpected => "unexpected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incident {
    Error(ErrorKind),
    /// 429.
    Limited,
    /// A page reloaded after 10 s.
    Reload,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at_ms: u32,
    page: Page,
    latency_us: u32,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at_ms: u32,
    incident: Incident,
}

/// The role of pupils in accounts.csv.
pub const PUPIL_ROLE: &str = "eleve";

/// What happened at the door to one visitor who signed in with a password.
#[derive(Debug, Clone, Default)]
pub struct GateLog {
    pub school: String,
    /// The account's role as in accounts.csv (`eleve`, `enseignant`, `parent`…).
    pub role: String,
    /// When their first `GET /connexion` was sent (s since the start).
    pub arrival_s: Option<f64>,
    /// When the waiting room was first shown, and what it said.
    pub first_wait: Option<(f64, Waiting)>,
    /// When the first answer past the door came (s).
    pub passed_s: Option<f64>,
    /// `x-cartable-admis` of that answer.
    pub admitted: Option<Admitted>,
    /// When the login succeeded (s).
    pub login_s: Option<f64>,
    /// Waiting-room pages seen.
    pub polls: u32,
}

impl GateLog {
    /// When the server let them in: the ticket's first request plus the
    /// server-measured wait when it said so, else the first answer past the
    /// door as the client saw it.
    pub fn admission_s(&self) -> Option<f64> {
        match (self.admitted.and_then(|a| a.wait_ms), self.first_wait) {
            (Some(ms), Some((shown, _))) => Some(shown + ms as f64 / 1000.0),
            (Some(ms), None) => self.arrival_s.map(|a| a + ms as f64 / 1000.0),
            _ => self.passed_s,
        }
    }

    /// The real wait of someone who saw the waiting room: the server's
    /// figure when given, else what the client saw.
    pub fn real_wait_s(&self) -> Option<f64> {
        let (shown, _) = self.first_wait?;
        if let Some(ms) = self.admitted.and_then(|a| a.wait_ms) {
            return Some(ms as f64 / 1000.0);
        }
        Some(self.passed_s? - shown)
    }
}

/// A moment of the run, taken every second.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_s: f64,
    pub arrived: u64,
    pub waiting: u64,
    pub inside: u64,
    pub done: u64,
    pub failed: u64,
    /// Server CPU since the previous snapshot, in % of one core.
    pub server_cpu_pct: Option<f64>,
}

/// Everything measured during a run. Shared by all journeys.
pub struct Recorder {
    start: Instant,
    samples: Mutex<Vec<Sample>>,
    events: Mutex<Vec<Event>>,
    gates: Mutex<Vec<GateLog>>,
    errors_by_page: Mutex<BTreeMap<String, u64>>,
    examples: Mutex<Vec<String>>,
    snapshots: Mutex<Vec<Snapshot>>,
    pub arrived: AtomicU64,
    pub waiting: AtomicU64,
    pub inside: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub without_attachment: AtomicU64,
    pub handins: AtomicU64,
    pub messages: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Recorder {
    pub fn new(start: Instant) -> Recorder {
        Recorder {
            start,
            samples: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
            gates: Mutex::new(Vec::new()),
            errors_by_page: Mutex::new(BTreeMap::new()),
            examples: Mutex::new(Vec::new()),
            snapshots: Mutex::new(Vec::new()),
            arrived: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            inside: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            without_attachment: AtomicU64::new(0),
            handins: AtomicU64::new(0),
            messages: AtomicU64::new(0),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Seconds since the start.
    pub fn now_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn now_ms(&self) -> u32 {
        self.start.elapsed().as_millis().min(u32::MAX as u128) as u32
    }

    pub fn latency(&self, page: Page, latency: Duration) {
        let s = Sample {
            at_ms: self.now_ms(),
            page,
            latency_us: latency.as_micros().min(u32::MAX as u128) as u32,
        };
        lock(&self.samples).push(s);
    }

    pub fn incident(&self, page: Page, incident: Incident, detail: impl FnOnce() -> String) {
        let e = Event {
            at_ms: self.now_ms(),
            incident,
        };
        lock(&self.events).push(e);
        if let Incident::Error(kind) = incident {
            *lock(&self.errors_by_page)
                .entry(format!("{}:{}", page.name(), kind.name()))
                .or_default() += 1;
            let mut ex = lock(&self.examples);
            if ex.len() < 20 {
                ex.push(format!(
                    "{:.1}s {} {}: {}",
                    self.now_s(),
                    page.name(),
                    kind.name(),
                    detail()
                ));
            }
        }
    }

    pub fn gate(&self, log: GateLog) {
        lock(&self.gates).push(log);
    }

    pub fn snapshot(&self, server_cpu_pct: Option<f64>) -> Snapshot {
        let s = Snapshot {
            t_s: self.now_s(),
            arrived: self.arrived.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
            inside: self.inside.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            server_cpu_pct,
        };
        lock(&self.snapshots).push(s);
        s
    }

    pub fn errors_so_far(&self) -> u64 {
        lock(&self.events)
            .iter()
            .filter(|e| matches!(e.incident, Incident::Error(_)))
            .count() as u64
    }

    /// One CSV line per visitor who saw the waiting room (school, role,
    /// times, the place and wait first shown, the real wait): to see where
    /// the shown wait misses, which the median alone does not tell.
    pub fn waits_csv(&self) -> String {
        let mut out = String::from(
            "school,role,arrival_s,first_wait_s,position,eta_s,real_wait_s,polls,login_s\n",
        );
        let opt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.3}"));
        for g in lock(&self.gates).iter() {
            let Some((shown, w)) = g.first_wait else {
                continue;
            };
            out.push_str(&format!(
                "{},{},{},{shown:.3},{},{:.3},{},{},{}\n",
                g.school.replace(',', " "),
                g.role,
                opt(g.arrival_s),
                w.position,
                w.eta_s,
                opt(g.real_wait_s()),
                g.polls,
                opt(g.login_s),
            ));
        }
        out
    }

    /// The figures and the series of the report, for a run that lasted
    /// `run_s`, in buckets of `bucket_s`.
    pub fn analyse(&self, run_s: f64, bucket_s: f64) -> Analysis {
        let samples = lock(&self.samples).clone();
        let events = lock(&self.events).clone();
        let gates = lock(&self.gates).clone();
        let n_buckets = ((run_s / bucket_s).ceil() as usize).max(1);
        let bucket_of =
            |at_ms: u32| ((at_ms as f64 / 1000.0 / bucket_s) as usize).min(n_buckets - 1);

        let mut per_page: BTreeMap<Page, Vec<f64>> = BTreeMap::new();
        let mut per_page_bucket: BTreeMap<Page, Vec<Vec<f64>>> = BTreeMap::new();
        for s in &samples {
            let ms = s.latency_us as f64 / 1000.0;
            per_page.entry(s.page).or_default().push(ms);
            per_page_bucket
                .entry(s.page)
                .or_insert_with(|| vec![Vec::new(); n_buckets])[bucket_of(s.at_ms)]
            .push(ms);
        }
        let mut pages = BTreeMap::new();
        for (page, mut v) in per_page {
            v.sort_by(f64::total_cmp);
            pages.insert(page.name().to_string(), Percentiles::of_sorted(&v));
        }
        let mut page_series = BTreeMap::new();
        for (page, buckets) in per_page_bucket {
            let series: Vec<Option<Percentiles>> = buckets
                .into_iter()
                .map(|mut v| {
                    v.sort_by(f64::total_cmp);
                    (!v.is_empty()).then(|| Percentiles::of_sorted(&v))
                })
                .collect();
            page_series.insert(page.name().to_string(), series);
        }

        let mut errors = vec![0u64; n_buckets];
        let mut limited_series = vec![0u64; n_buckets];
        let mut reloads_series = vec![0u64; n_buckets];
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        let (mut n_errors, mut n_limited, mut n_reloads) = (0, 0, 0);
        for e in &events {
            let b = bucket_of(e.at_ms);
            match e.incident {
                Incident::Error(k) => {
                    errors[b] += 1;
                    n_errors += 1;
                    *by_kind.entry(k.name().to_string()).or_default() += 1;
                }
                Incident::Limited => {
                    limited_series[b] += 1;
                    n_limited += 1;
                }
                Incident::Reload => {
                    reloads_series[b] += 1;
                    n_reloads += 1;
                }
            }
        }

        // Order at the door, among pupils (one lane: teachers go ahead and
        // parents' casual visits behind by design).
        let pupils = || gates.iter().filter(|g| g.role == PUPIL_ROLE);
        let admissions: Vec<(String, f64, f64)> = pupils()
            .filter_map(|g| Some((g.school.clone(), g.arrival_s?, g.admission_s()?)))
            .collect();
        let logins: Vec<(String, f64, f64)> = pupils()
            .filter_map(|g| Some((g.school.clone(), g.arrival_s?, g.login_s?)))
            .collect();
        // Time at the door (arrival to let in), per role.
        let mut door: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for g in &gates {
            if let (Some(a), Some(b)) = (g.arrival_s, g.admission_s()) {
                door.entry(g.role.clone())
                    .or_default()
                    .push((b - a).max(0.0));
            }
        }
        let door_s_by_role = door
            .into_iter()
            .map(|(role, mut v)| {
                v.sort_by(f64::total_cmp);
                (role, Percentiles::of_sorted(&v))
            })
            .collect();
        let (ooo, ooo_n) = out_of_order(&admissions, 1.0);
        let (login_ooo, login_n) = out_of_order(&logins, 1.0);

        let waiters: Vec<&GateLog> = gates.iter().filter(|g| g.first_wait.is_some()).collect();
        let mut eta_errors: Vec<f64> = waiters
            .iter()
            .filter_map(|g| {
                let (_, w) = g.first_wait?;
                let real = g.real_wait_s()?;
                (real > 0.05).then(|| (w.eta_s - real).abs() / real)
            })
            .collect();
        eta_errors.sort_by(f64::total_cmp);
        // Signed: above 0 the wait shown was longer than the real one.
        let mut eta_bias: Vec<f64> = waiters
            .iter()
            .filter_map(|g| {
                let (_, w) = g.first_wait?;
                let real = g.real_wait_s()?;
                (real > 0.05).then(|| (w.eta_s - real) / real)
            })
            .collect();
        eta_bias.sort_by(f64::total_cmp);
        let mut waits: Vec<f64> = waiters.iter().filter_map(|g| g.real_wait_s()).collect();
        waits.sort_by(f64::total_cmp);
        let mut first_positions: Vec<f64> = waiters
            .iter()
            .filter_map(|g| g.first_wait.map(|(_, w)| w.position as f64))
            .collect();
        first_positions.sort_by(f64::total_cmp);

        Analysis {
            pages,
            page_series,
            errors,
            limited_series,
            reloads_series,
            n_errors,
            n_limited,
            n_reloads,
            errors_by_kind: by_kind,
            errors_by_page: lock(&self.errors_by_page).clone(),
            error_examples: lock(&self.examples).clone(),
            snapshots: lock(&self.snapshots).clone(),
            gated: gates.len() as u64,
            waited: waiters.len() as u64,
            polls: gates.iter().map(|g| g.polls as u64).sum(),
            out_of_order_ratio: (ooo_n > 0).then(|| ooo as f64 / ooo_n as f64),
            out_of_order: ooo as u64,
            login_out_of_order_ratio: (login_n > 0).then(|| login_ooo as f64 / login_n as f64),
            eta_median_error: (!eta_errors.is_empty()).then(|| median_sorted(&eta_errors)),
            eta_median_bias: (!eta_bias.is_empty()).then(|| median_sorted(&eta_bias)),
            wait_s: (!waits.is_empty()).then(|| Percentiles::of_sorted(&waits)),
            first_position_max: first_positions.last().copied(),
            door_s_by_role,
            bucket_s,
        }
    }
}

/// Nearest-rank percentiles of sorted samples.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub n: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn percentile_sorted(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Percentiles {
    pub fn of_sorted(v: &[f64]) -> Percentiles {
        Percentiles {
            n: v.len() as u64,
            p50: percentile_sorted(v, 50.0),
            p90: percentile_sorted(v, 90.0),
            p99: percentile_sorted(v, 99.0),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

/// Out of order, within a school: someone let in more than `tol` seconds
/// before another who arrived more than `tol` seconds earlier (the tolerance
/// covers the waiting room's polling and the clocks of two requests).
/// Returns (how many were overtaking someone, how many were let in).
/// Input: (school, arrival, let in).
pub fn out_of_order(people: &[(String, f64, f64)], tol: f64) -> (usize, usize) {
    let mut by_school: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (school, arrival, admitted) in people {
        by_school
            .entry(school.as_str())
            .or_default()
            .push((*arrival, *admitted));
    }
    let mut overtaking = 0;
    for list in by_school.values_mut() {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Latest admission among those who arrived more than `tol` earlier.
        let mut earlier = 0;
        let mut latest_before = f64::NEG_INFINITY;
        for i in 0..list.len() {
            while earlier < i && list[earlier].0 < list[i].0 - tol {
                latest_before = latest_before.max(list[earlier].1);
                earlier += 1;
            }
            if latest_before > list[i].1 + tol {
                overtaking += 1;
            }
        }
    }
    (overtaking, people.len())
}

/// The figures of a run, and its series over time.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub pages: BTreeMap<String, Percentiles>,
    /// Per page, per bucket.
    pub page_series: BTreeMap<String, Vec<Option<Percentiles>>>,
    pub errors: Vec<u64>,
    pub limited_series: Vec<u64>,
    pub reloads_series: Vec<u64>,
    pub n_errors: u64,
    pub n_limited: u64,
    pub n_reloads: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub errors_by_page: BTreeMap<String, u64>,
    pub error_examples: Vec<String>,
    pub snapshots: Vec<Snapshot>,
    /// Visitors who came through the door (password logins).
    pub gated: u64,
    /// ... of whom saw the waiting room.
    pub waited: u64,
    pub polls: u64,
    pub out_of_order_ratio: Option<f64>,
    pub out_of_order: u64,
    pub login_out_of_order_ratio: Option<f64>,
    pub eta_median_error: Option<f64>,
    /// The same, signed (shown − real) / real: above 0, waits were overestimated.
    pub eta_median_bias: Option<f64>,
    pub wait_s: Option<Percentiles>,
    pub first_position_max: Option<f64>,
    /// Seconds from arrival to let in, per role.
    pub door_s_by_role: BTreeMap<String, Percentiles>,
    pub bucket_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(school: &str, a: f64, b: f64) -> (String, f64, f64) {
        (school.to_string(), a, b)
    }

    #[test]
    fn order_within_a_school_with_tolerance() {
        // In order.
        assert_eq!(
            out_of_order(&[p("A", 0.0, 5.0), p("A", 2.0, 6.0), p("A", 4.0, 9.0)], 1.0),
            (0, 3)
        );
        // The third overtakes the first by much more than 1 s.
        assert_eq!(
            out_of_order(
                &[p("A", 0.0, 20.0), p("A", 2.0, 21.0), p("A", 4.0, 9.0)],
                1.0
            ),
            (1, 3)
        );
        // Another school may go first (fair share).
        assert_eq!(
            out_of_order(&[p("A", 0.0, 20.0), p("B", 4.0, 9.0)], 1.0),
            (0, 2)
        );
        // Within the tolerance: a poll's granularity.
        assert_eq!(
            out_of_order(
                &[p("A", 0.0, 10.5), p("A", 0.5, 3.0), p("A", 2.0, 9.8)],
                1.0
            ),
            (0, 3)
        );
    }

    #[test]
    fn percentiles_and_gate_times() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of_sorted(&v);
        assert_eq!(
            (p.p50, p.p90, p.p99, p.max, p.n),
            (50.0, 90.0, 99.0, 100.0, 100)
        );
        let g = GateLog {
            arrival_s: Some(1.0),
            first_wait: Some((
                1.2,
                Waiting {
                    position: 3,
                    eta_s: 10.0,
                    ticket: Some(4),
                    refresh_s: 2.0,
                },
            )),
            passed_s: Some(13.0),
            admitted: Some(Admitted {
                ticket: Some(4),
                wait_ms: Some(11_000),
            }),
            ..GateLog::default()
        };
        assert_eq!(g.real_wait_s(), Some(11.0));
        assert!((g.admission_s().unwrap() - 12.2).abs() < 1e-9);
        let no_header = GateLog {
            admitted: None,
            ..g.clone()
        };
        assert!((no_header.real_wait_s().unwrap() - 11.8).abs() < 1e-9);
        assert_eq!(no_header.admission_s(), Some(13.0));
    }
}
