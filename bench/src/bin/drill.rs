//! drill: the rentrée drill (issue 5). Replays a school morning against a
//! running Cartable on loopback and reports what people lived through.
//!
//! Scenarios:
//! - `morning`: `--pupils` pupils drawn from `accounts.csv` arrive on a bump
//!   peaking at 8:00, compressed into `--duration` seconds; 80% come back with
//!   their session cookie, 20% sign in with their password; each opens the
//!   home page and the homework list, downloads an attachment, 30% hand in a
//!   100 KB file, 10% write to a teacher;
//! - `overload`: everyone signs in with a password, arriving at
//!   `--overload-factor` (5) times the password-hash capacity of the box
//!   (measured first, or `--hash-rate`);
//! - `cost`: server CPU per request of a pupil's home page against the empty
//!   `GET /healthz`, and of a password login against Argon2id alone.
//!
//! `--combine A.json B.json ... --report R.html` puts the data of several runs
//! (`--data`) into one report.
//!
//! Every run is bounded (`--max-seconds`, a semaphore on requests in flight)
//! and talks only to this machine. Human lines first, then one JSON line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartable_app::hashing::{HashCost, HashPool};
use cartable_bench::drill::accounts::{self, Account};
use cartable_bench::drill::arrivals;
use cartable_bench::drill::browser::{Http, Jar, Request};
use cartable_bench::drill::html;
use cartable_bench::drill::journey::{
    handin_file, source_of, url_component, Ctx, Plan, User, DEVICE_COOKIE,
};
use cartable_bench::drill::procfs;
use cartable_bench::drill::record::{percentile_sorted, Recorder};
use cartable_bench::drill::report::{self, CostFigures, RunData, Series, Summary};
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Morning,
    Overload,
    Cost,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Morning => "morning",
            Scenario::Overload => "overload",
            Scenario::Cost => "cost",
        }
    }
}

/// The rentrée drill: a school morning replayed against a Cartable on this machine.
#[derive(Parser, Debug, Clone)]
#[command(name = "drill")]
struct Args {
    /// The server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// accounts.csv written by `cartable seed`.
    #[arg(long)]
    accounts: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "morning")]
    scenario: Scenario,
    /// Pupils who come (drawn at random from the file).
    #[arg(long, default_value_t = 1000)]
    pupils: usize,
    /// The morning (7:30-8:15) compressed into this many seconds.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Overload: arrivals at this many times the hash capacity.
    #[arg(long, default_value_t = 5.0)]
    overload_factor: f64,
    /// Overload: the hash capacity (logins per second); measured when absent.
    #[arg(long)]
    hash_rate: Option<f64>,
    /// Length of the capacity measurement.
    #[arg(long, default_value_t = 5.0)]
    calibrate_seconds: f64,
    /// Hard stop of the load, whatever happens (default: from the scenario).
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Requests in flight at most (the drill's own bound).
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Loopback source addresses (127.1.x.y): each school's pupils come from
    /// one, as from behind the school's NAT. 1: everyone from 127.0.0.1.
    #[arg(long, default_value_t = 64)]
    sources: usize,
    /// A page taking longer than this is abandoned and reloaded.
    #[arg(long, default_value_t = 10.0)]
    patience_s: f64,
    /// Time buckets of the report (0: from the length of the run, 1 to 10 s).
    #[arg(long, default_value_t = 0.0)]
    bucket_s: f64,
    /// The server's process id: CPU time and peak memory are read from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// What the server was told (`on`/`off`): a label, the drill cannot see it.
    #[arg(long, default_value = "on")]
    admission: String,
    /// A name for this run in the report.
    #[arg(long, default_value = "")]
    label: String,
    /// Share of pupils who come back with their session (morning).
    #[arg(long, default_value_t = 0.8)]
    session_share: f64,
    #[arg(long, default_value_t = 0.3)]
    handin_share: f64,
    #[arg(long, default_value_t = 0.1)]
    message_share: f64,
    /// Size of the handed-in file.
    #[arg(long, default_value_t = 100)]
    file_kb: usize,
    /// Random seed (who comes, when, and what they do).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cost: requests per page.
    #[arg(long, default_value_t = 5000)]
    cost_requests: usize,
    /// Cost: keep-alive connections.
    #[arg(long, default_value_t = 4)]
    cost_connections: usize,
    /// Teachers and parents arriving among the pupils (default: one for
    /// twenty pupils in `overload`, none in `morning`).
    #[arg(long)]
    adults: Option<usize>,
    /// Cost: how many pupils' home pages are taken in turn.
    #[arg(long, default_value_t = 400)]
    cost_pupils: usize,
    /// Cost: password logins measured.
    #[arg(long, default_value_t = 100)]
    cost_logins: usize,
    /// HTML report to write.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Run data (JSON) to write, for `--combine`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write one CSV line per visitor who waited (what was shown, what
    /// happened), for studying the shown wait.
    #[arg(long)]
    waits_csv: Option<PathBuf>,
    /// Title of the report.
    #[arg(long, default_value = "Cartable — rentrée drill")]
    title: String,
    /// Lines of introduction for a combined report.
    #[arg(long)]
    intro: Vec<String>,
    /// Only build a report from these run data files (with --report).
    #[arg(long, num_args = 1..)]
    combine: Vec<PathBuf>,
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.combine.is_empty() {
        return combine(&args);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let outcome = rt.block_on(async {
        match args.scenario {
            Scenario::Cost => cost(&args).await,
            _ => load(&args).await,
        }
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    match outcome {
        Ok(data) => {
            if let Err(e) = write_outputs(&args, &data) {
                eprintln!("drill: {e}");
                return ExitCode::from(2);
            }
            let line = match (&data.summary, &data.cost) {
                (Some(s), _) => serde_json::to_string(s),
                (None, Some(c)) => serde_json::to_string(c),
                _ => Ok("{}".to_string()),
            };
            println!("{}", line.unwrap_or_else(|_| "{}".into()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("drill: {e}");
            ExitCode::from(2)
        }
    }
}

fn write_outputs(args: &Args, data: &RunData) -> Result<(), String> {
    if let Some(p) = &args.data {
        let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
        std::fs::write(p, json).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &args.report {
        let html = report::render(&args.title, &args.intro, std::slice::from_ref(data));
        std::fs::write(p, html).map_err(|e| format!("{}: {e}", p.display()))?;
        println!("report: {}", p.display());
    }
    Ok(())
}

fn combine(args: &Args) -> ExitCode {
    let mut runs = Vec::new();
    for p in &args.combine {
        match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str::<RunData>(&s).map_err(|e| e.to_string()))
        {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("drill: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
    }
    let Some(out) = &args.report else {
        eprintln!("drill: --combine needs --report");
        return ExitCode::from(2);
    };
    let html = report::render(&args.title, &args.intro, &runs);
    if let Err(e) = std::fs::write(out, html) {
        eprintln!("drill: {}: {e}", out.display());
        return ExitCode::from(2);
    }
    println!("report: {} ({} runs)", out.display(), runs.len());
    println!(
        "{}",
        serde_json::json!({ "report": out.display().to_string(), "runs": runs.len() })
    );
    ExitCode::SUCCESS
}

fn read_accounts(args: &Args) -> Result<Vec<Account>, String> {
    let path = args
        .accounts
        .as_ref()
        .ok_or("--accounts accounts.csv is needed (written by `cartable seed`)")?;
    accounts::load(path)
}

/// Pupils who can sign in with a password.
fn pupils_of(all: &[Account]) -> Vec<Account> {
    all.iter()
        .filter(|a| a.is_pupil() && !a.password.is_empty())
        .cloned()
        .collect()
}

/// `n` teachers and parents (half each) who can sign in with a password.
fn adults_of(all: &[Account], n: usize, rng: &mut StdRng) -> Vec<Account> {
    let mut pick = |role: &str, k: usize| {
        let mut v: Vec<Account> = all
            .iter()
            .filter(|a| a.role == role && !a.password.is_empty())
            .cloned()
            .collect();
        v.shuffle(rng);
        v.truncate(k);
        v
    };
    let mut out = pick("enseignant", n.div_ceil(2));
    out.extend(pick("parent", n / 2));
    out
}

/// Signs each adult in once (four at a time, before the run) and returns
/// their device cookie (`cartable_appareil`), the only thing kept.
async fn remember_devices(
    http: Arc<Http>,
    adults: &[Account],
) -> Result<Vec<Option<String>>, String> {
    if adults.is_empty() {
        return Ok(Vec::new());
    }
    let start = Instant::now();
    let ctx = Arc::new(Ctx {
        http,
        rec: Recorder::new(start),
        hard_stop: start + Duration::from_secs(600),
        handin_file: bytes::Bytes::new(),
    });
    let mut devices = vec![None; adults.len()];
    for (chunk_no, chunk) in adults.chunks(4).enumerate() {
        let mut set = JoinSet::new();
        for (i, a) in chunk.iter().enumerate() {
            let (ctx, a) = (ctx.clone(), a.clone());
            set.spawn(async move {
                let mut u = User::new();
                u.jar.source = source_of(&a.school_id);
                ctx.login(&mut u, &a)
                    .await
                    .map_err(|_| format!("cannot sign in {} the day before", a.login))?;
                let device = u.jar.get(DEVICE_COOKIE).map(str::to_string);
                Ok::<_, String>((chunk_no * 4 + i, device))
            });
        }
        while let Some(r) = set.join_next().await {
            let (i, device) = r.map_err(|e| e.to_string())??;
            devices[i] = device;
        }
    }
    println!(
        "the day before: {} adults signed in once on their device",
        adults.len()
    );
    Ok(devices)
}

/// Most arrivals within any one second.
fn peak_per_s(offsets: &[f64]) -> f64 {
    let mut best = 0;
    let mut j = 0;
    for i in 0..offsets.len() {
        while offsets[i] - offsets[j] >= 1.0 {
            j += 1;
        }
        best = best.max(i + 1 - j);
    }
    best as f64
}

// ---------------------------------------------------------------- load runs

async fn load(args: &Args) -> Result<RunData, String> {
    let all = read_accounts(args)?;
    let mut pupils = pupils_of(&all);
    if pupils.len() < args.pupils {
        return Err(format!(
            "--pupils {}: only {} pupils with a password in the accounts file",
            args.pupils,
            pupils.len()
        ));
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    pupils.shuffle(&mut rng);
    let spare: Vec<Account> = pupils[args.pupils..].to_vec();
    pupils.truncate(args.pupils);
    // Teachers and parents at the door too (overload: one for twenty pupils
    // unless told), half each, to show their lanes.
    let adults_wanted = args.adults.unwrap_or(match args.scenario {
        Scenario::Overload => args.pupils / 20,
        _ => 0,
    });
    let mut adults = adults_of(&all, adults_wanted, &mut rng);
    let http = Arc::new(Http::new(
        &args.base_url,
        args.max_in_flight,
        Duration::from_secs_f64(args.patience_s),
        args.sources,
    )?);
    let tck = procfs::clock_ticks_per_s();
    if let Some(pid) = args.server_pid {
        procfs::cpu_ticks(pid).ok_or(format!("--server-pid {pid}: no such process"))?;
    }
    let load_start = loadavg();
    println!(
        "drill: scenario {}, admission {}, {} pupils, server {}, {} CPUs, load {}",
        args.scenario.name(),
        args.admission,
        args.pupils,
        http.base(),
        nproc(),
        load_start
    );

    let mut notes = Vec::new();
    let hash_rate = match (args.scenario, args.hash_rate) {
        (Scenario::Overload, Some(r)) => Some(r),
        (Scenario::Overload, None) => {
            let sample = if spare.len() >= 50 { &spare } else { &pupils };
            let seen = calibrate(http.clone(), sample, args.calibrate_seconds).await?;
            // The server's own figure (threads ÷ the hash time it measures),
            // when it gives one: with the door on, the logins above went
            // through the door and saw its rate, not the hashing capacity.
            let server = server_hash_capacity(&http).await;
            let r = seen.max(server.unwrap_or(0.0));
            println!(
                "calibration: {seen:.1} password logins per second at saturation; the server says it can hash {}; taking {r:.1}",
                server.map_or("(not said)".to_string(), |c| format!("{c:.1}/s"))
            );
            notes.push(format!(
                "Hash capacity before the run: {r:.1} logins/s, the larger of {seen:.1}/s seen over {} s of saturation (8 concurrent logins) and the server's own figure ({}; cartable_hash_capacity_per_second on /metrics).",
                args.calibrate_seconds,
                server.map_or("not given".to_string(), |c| format!("{c:.1}/s"))
            ));
            Some(r)
        }
        _ => None,
    };

    // The day before: each adult signs in once on their device, which
    // keeps the signed device hint (their school and role) for the morning.
    let devices = remember_devices(http.clone(), &adults).await?;
    if !adults.is_empty() {
        notes.push(format!(
            "{} teachers and {} parents arrive among the pupils, without a session but on a device where they signed in before (their lane at the door: teachers ahead of everyone, a parent's visit yielding two minutes to pupils); their journey is the login and the home page. Order is measured among pupils.",
            adults.iter().filter(|a| a.role == "enseignant").count(),
            adults.iter().filter(|a| a.role == "parent").count(),
        ));
    }
    let visitors = pupils.len() + adults.len();
    let offsets = match args.scenario {
        Scenario::Overload => {
            let rate = args.overload_factor * hash_rate.unwrap_or(1.0);
            arrivals::steady(visitors, rate)
        }
        _ => arrivals::morning(visitors, args.duration, &mut rng),
    };
    let arrivals_span = offsets.last().copied().unwrap_or(0.0);
    let max_s = args.max_seconds.unwrap_or(match args.scenario {
        // Everyone has to get through the door at the hash rate.
        Scenario::Overload => {
            arrivals_span + visitors as f64 / hash_rate.unwrap_or(1.0).max(0.1) * 1.5 + 60.0
        }
        _ => args.duration + 120.0,
    });
    // The seed gives a session to its own share of pupils: come with it often
    // enough that `--session-share` of all pupils do (or all who can).
    let with_token = pupils.iter().filter(|a| a.session_token.is_some()).count();
    let p_session = if with_token == 0 {
        0.0
    } else {
        (args.session_share * pupils.len() as f64 / with_token as f64).min(1.0)
    };
    let mut plans: Vec<Plan> = pupils
        .iter()
        .map(|a| Plan {
            account: a.clone(),
            with_session: args.scenario == Scenario::Morning
                && a.session_token.is_some()
                && rng.gen::<f64>() < p_session,
            hand_in: rng.gen::<f64>() < args.handin_share,
            message: rng.gen::<f64>() < args.message_share,
            device: None,
        })
        .collect();
    for (a, device) in adults.drain(..).zip(devices) {
        plans.push(Plan {
            account: a,
            with_session: false,
            hand_in: false,
            message: false,
            device,
        });
    }
    // Adults anywhere in the crowd.
    plans.shuffle(&mut rng);
    let with_session = plans.iter().filter(|p| p.with_session).count() as u64;
    if args.scenario == Scenario::Morning && with_session == 0 {
        notes.push(
            "No session token in the accounts file: every pupil signed in with a password.".into(),
        );
    }
    println!(
        "arrivals over {:.1} s (peak {} per s), {} with a session, hard stop after {:.0} s",
        arrivals_span,
        peak_per_s(&offsets),
        with_session,
        max_s
    );

    let start = Instant::now();
    let ctx = Arc::new(Ctx {
        http: http.clone(),
        rec: Recorder::new(start),
        hard_stop: start + Duration::from_secs_f64(max_s),
        handin_file: handin_file(args.file_kb * 1024),
    });
    let cpu0 = args.server_pid.and_then(procfs::cpu_ticks);
    let own_cpu0 = procfs::cpu_ticks(std::process::id());
    let sent0 = http.sent.load(Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample(
        ctx.clone(),
        args.server_pid,
        tck,
        stop.clone(),
        visitors,
    ));

    let mut set = JoinSet::new();
    for (off, plan) in offsets.iter().zip(plans) {
        let at = start + Duration::from_secs_f64(*off);
        if at >= ctx.hard_stop {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let c = ctx.clone();
        set.spawn(async move { c.journey(plan).await });
    }
    let hard = tokio::time::sleep_until(ctx.hard_stop.into());
    tokio::pin!(hard);
    loop {
        tokio::select! {
            next = set.join_next() => if next.is_none() { break },
            _ = &mut hard => {
                println!("hard stop: {} journeys still going are cut", set.len());
                set.abort_all();
                while set.join_next().await.is_some() {}
                break;
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let cpu1 = args.server_pid.and_then(procfs::cpu_ticks);
    let own_cpu1 = procfs::cpu_ticks(std::process::id());
    let sent = http.sent.load(Ordering::Relaxed) - sent0;
    let seconds = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / tck),
        _ => None,
    };
    let server_cpu_s = seconds(cpu0, cpu1);
    let drill_cpu_s = seconds(own_cpu0, own_cpu1);
    let peak = args.server_pid.and_then(|p| procfs::status_mib(p, "VmHWM"));

    let bucket = if args.bucket_s > 0.0 {
        args.bucket_s
    } else {
        (wall / 60.0).ceil().clamp(1.0, 10.0)
    };
    let a = ctx.rec.analyse(wall, bucket);
    if let Some(p) = &args.waits_csv {
        std::fs::write(p, ctx.rec.waits_csv()).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let rec = &ctx.rec;
    let done = rec.done.load(Ordering::Relaxed);
    let failed = rec.failed.load(Ordering::Relaxed);
    let pick = |f: fn(&cartable_bench::drill::record::Percentiles) -> f64| {
        a.pages.iter().map(|(k, p)| (k.clone(), r3(f(p)))).collect()
    };
    let summary = Summary {
        scenario: args.scenario.name().into(),
        admission: args.admission.clone(),
        label: args.label.clone(),
        journeys: visitors as u64,
        completed: done,
        failed,
        cut: (visitors as u64).saturating_sub(done + failed),
        errors: a.n_errors,
        errors_by_kind: a.errors_by_kind.clone(),
        limited: a.n_limited,
        reloads: a.n_reloads,
        waited: a.waited,
        gated: a.gated,
        p50_ms: pick(|p| p.p50),
        p90_ms: pick(|p| p.p90),
        p99_ms: pick(|p| p.p99),
        requests: sent,
        cpu_ms_per_request: server_cpu_s
            .filter(|_| sent > 0)
            .map(|s| r3(s * 1000.0 / sent as f64)),
        server_cpu_s: server_cpu_s.map(r3),
        drill_cpu_s: drill_cpu_s.map(r3),
        server_peak_rss_mb: peak.map(|m| (m * 10.0).round() / 10.0),
        out_of_order_ratio: a.out_of_order_ratio.map(|x| (x * 1e5).round() / 1e5),
        login_out_of_order_ratio: a.login_out_of_order_ratio.map(|x| (x * 1e5).round() / 1e5),
        eta_median_error: a.eta_median_error.map(r3),
        eta_median_bias: a.eta_median_bias.map(r3),
        wait_p50_s: a.wait_s.map(|w| r3(w.p50)),
        wait_p99_s: a.wait_s.map(|w| r3(w.p99)),
        wait_max_s: a.wait_s.map(|w| r3(w.max)),
        first_position_max: a.first_position_max,
        door_s_p50_by_role: a
            .door_s_by_role
            .iter()
            .map(|(r, p)| (r.clone(), r3(p.p50)))
            .collect(),
        door_s_p90_by_role: a
            .door_s_by_role
            .iter()
            .map(|(r, p)| (r.clone(), r3(p.p90)))
            .collect(),
        handins: rec.handins.load(Ordering::Relaxed),
        messages: rec.messages.load(Ordering::Relaxed),
        without_attachment: rec.without_attachment.load(Ordering::Relaxed),
        pupils: pupils.len() as u64,
        with_session,
        duration_s: r3(arrivals_span),
        wall_s: r3(wall),
        arrivals_peak_per_s: peak_per_s(&offsets),
        hash_rate_per_s: hash_rate.map(r3),
        client_slot_wait_max_ms: r3(http.slot_wait_max_us.load(Ordering::Relaxed) as f64 / 1000.0),
        client_slot_wait_mean_ms: r3(http.slot_wait_sum_us.load(Ordering::Relaxed) as f64
            / 1000.0
            / sent.max(1) as f64),
        nproc: nproc(),
        load_avg_start: load_start,
        load_avg_end: loadavg(),
    };
    println!(
        "done: {} of {} journeys completed, {} failed, {} cut; {} errors {:?}, {} limited, {} reloads, {} waited",
        summary.completed,
        summary.journeys,
        summary.failed,
        summary.cut,
        summary.errors,
        summary.errors_by_kind,
        summary.limited,
        summary.reloads,
        summary.waited
    );
    for (page, p) in &a.pages {
        println!(
            "  {page:<13} n={:<7} p50 {:>8.1} ms  p90 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms",
            p.n, p.p50, p.p90, p.p99, p.max
        );
    }
    for (role, p) in &a.door_s_by_role {
        println!(
            "  at the door: {role:<11} n={:<6} p50 {:>6.1} s  p90 {:>6.1} s  max {:>6.1} s",
            p.n, p.p50, p.p90, p.max
        );
    }
    for e in a.error_examples.iter().take(5) {
        println!("  error: {e}");
    }
    notes.push(format!(
        "Out of order: share of people let in (or, second figure, signed in) more than 1 s before someone of the same school who arrived more than 1 s earlier; arrival = the first GET /connexion; let in = x-cartable-admis (first waiting-room page + attente_ms) or, without it, the first answer past the door. {} overtaking of {} let in.",
        a.out_of_order, a.gated
    ));
    let series = Series {
        bucket_s: a.bucket_s,
        pages: a.page_series.clone(),
        errors: a.errors.clone(),
        limited: a.limited_series.clone(),
        reloads: a.reloads_series.clone(),
        snapshots: a.snapshots.clone(),
        page_totals: a.pages.clone(),
        errors_by_page: a.errors_by_page.clone(),
        error_examples: a.error_examples.clone(),
    };
    Ok(RunData {
        summary: Some(summary),
        series: Some(series),
        cost: None,
        notes,
    })
}

/// Every second: a snapshot (with the server's CPU); every 5 s a progress line.
async fn sample(ctx: Arc<Ctx>, pid: Option<u32>, tck: f64, stop: Arc<AtomicBool>, total: usize) {
    let mut last = (Instant::now(), pid.and_then(procfs::cpu_ticks));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = (Instant::now(), pid.and_then(procfs::cpu_ticks));
        let cpu = match (last.1, now.1) {
            (Some(a), Some(b)) => {
                let dt = now.0.duration_since(last.0).as_secs_f64();
                Some(r3(b.saturating_sub(a) as f64 / tck / dt * 100.0))
            }
            _ => None,
        };
        last = now;
        let s = ctx.rec.snapshot(cpu);
        n += 1;
        if n.is_multiple_of(5) {
            println!(
                "[{:>5.0}s] arrived {}/{} waiting {} inside {} done {} failed {} errors {} server CPU {}",
                s.t_s,
                s.arrived,
                total,
                s.waiting,
                s.inside,
                s.done,
                s.failed,
                ctx.rec.errors_so_far(),
                cpu.map_or("?".into(), |c| format!("{c:.0}%"))
            );
        }
    }
}

/// Password logins per second the server sustains when saturated: 8
/// browsers sign in again and again for `seconds` (the first second is not
/// counted).
/// `cartable_hash_capacity_per_second` from the server's `/metrics` (open
/// to loopback), if it answers.
async fn server_hash_capacity(http: &Http) -> Option<f64> {
    let mut jar = Jar::default();
    let a = http.send(&mut jar, &Request::get("/metrics")).await.ok()?;
    if a.status != StatusCode::OK {
        return None;
    }
    a.text()
        .lines()
        .find_map(|l| l.strip_prefix("cartable_hash_capacity_per_second "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|c| c.is_finite() && *c > 0.0)
}

async fn calibrate(http: Arc<Http>, accounts: &[Account], seconds: f64) -> Result<f64, String> {
    if accounts.is_empty() {
        return Err("no account to calibrate with".into());
    }
    let start = Instant::now();
    let ctx = Arc::new(Ctx {
        http,
        rec: Recorder::new(start),
        hard_stop: start + Duration::from_secs_f64(seconds + 30.0),
        handin_file: bytes::Bytes::new(),
    });
    let accounts = Arc::new(accounts.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let counted = Arc::new(AtomicU64::new(0));
    let warm = start + Duration::from_secs(1);
    let end = start + Duration::from_secs_f64(seconds.max(2.0));
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let (ctx, accounts, next, counted) =
            (ctx.clone(), accounts.clone(), next.clone(), counted.clone());
        set.spawn(async move {
            while Instant::now() < end {
                let a = &accounts[next.fetch_add(1, Ordering::Relaxed) % accounts.len()];
                let mut u = User::new();
                u.jar.source = source_of(&a.school_id);
                let ok = ctx.login(&mut u, a).await.is_ok();
                let t = Instant::now();
                if ok && t >= warm && t <= end {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let errors = ctx.rec.errors_so_far();
    if errors > 0 {
        println!("calibration: {errors} errors while saturating the logins");
    }
    let window = end.duration_since(warm).as_secs_f64();
    let rate = counted.load(Ordering::Relaxed) as f64 / window;
    if rate <= 0.0 {
        return Err("calibration: no login succeeded".into());
    }
    Ok(rate)
}

// ---------------------------------------------------------------- micro figures

/// `n` GETs of `path` over `conns` keep-alive connections; wall latencies (ms).
/// `n` GETs of `path` over `conns` keep-alive connections, each request
/// with the next of `jars` in turn (so many people's pages, not one's).
async fn hammer(
    http: Arc<Http>,
    jars: &[Jar],
    path: &str,
    n: usize,
    conns: usize,
) -> Result<Vec<f64>, String> {
    let mut set = JoinSet::new();
    for c in 0..conns {
        let (http, mut jars, path) = (http.clone(), jars.to_vec(), path.to_string());
        let count = n / conns + usize::from(c < n % conns);
        set.spawn(async move {
            let mut lat = Vec::with_capacity(count);
            let req = Request::get(path.clone());
            for i in 0..count {
                let k = (c + i * conns) % jars.len();
                let a = http
                    .send(&mut jars[k], &req)
                    .await
                    .map_err(|e| format!("GET {path}: {e:?}"))?;
                if a.status != StatusCode::OK {
                    return Err(format!("GET {path}: {}", a.status));
                }
                lat.push(a.latency.as_secs_f64() * 1000.0);
            }
            Ok::<_, String>(lat)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.map_err(|e| e.to_string())??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}

async fn cost(args: &Args) -> Result<RunData, String> {
    let pid = args
        .server_pid
        .ok_or("--scenario cost needs --server-pid (the CPU is read from /proc)")?;
    let tck = procfs::clock_ticks_per_s();
    let ticks = || procfs::cpu_ticks(pid).ok_or(format!("--server-pid {pid}: no such process"));
    ticks()?;
    let all = read_accounts(args)?;
    let mut pupils = pupils_of(&all);
    let mut rng = StdRng::seed_from_u64(args.seed);
    pupils.shuffle(&mut rng);
    if pupils.len() < args.cost_logins + 1 {
        return Err(format!(
            "--cost-logins {}: only {} pupils in the accounts file",
            args.cost_logins,
            pupils.len()
        ));
    }
    let http = Arc::new(Http::new(&args.base_url, 64, Duration::from_secs(30), 1)?);
    let load_start = loadavg();
    let ctx = Ctx {
        http: http.clone(),
        rec: Recorder::new(Instant::now()),
        hard_stop: Instant::now() + Duration::from_secs(600),
        handin_file: bytes::Bytes::new(),
    };

    // Signed-in pupils of many classes, taken in turn: their session cookies
    // (as on a morning, 80% come back with one), or a login when none has.
    let mut signed_in: Vec<Jar> = pupils
        .iter()
        .filter_map(|p| p.session_token.as_ref())
        .take(args.cost_pupils.max(1))
        .map(|t| {
            let mut jar = Jar::default();
            jar.set("cartable_session", t);
            jar
        })
        .collect();
    if signed_in.is_empty() {
        let mut pupil = User::new();
        ctx.login(&mut pupil, &pupils[0])
            .await
            .map_err(|_| format!("cannot sign in {}", pupils[0].login))?;
        signed_in.push(pupil.jar);
    }
    // The CSRF cookie too, as a browser has after its first page.
    let mut anon = Jar::default();
    http.send(&mut anon, &Request::get("/healthz"))
        .await
        .map_err(|e| format!("GET /healthz: {e:?}"))?;
    let (n, conns) = (args.cost_requests.max(1), args.cost_connections.max(1));
    let k = signed_in.len();
    println!("cost: warm-up, then {n} requests each over {conns} connections, the home page of {k} pupils in turn (server pid {pid}, CLK_TCK {tck})");
    // Warm-up: each pupil's first page (the session read and slid), then more.
    hammer(http.clone(), &signed_in, "/", k + 200, conns).await?;
    hammer(
        http.clone(),
        std::slice::from_ref(&anon),
        "/healthz",
        200,
        conns,
    )
    .await?;

    let t0 = ticks()?;
    let health = hammer(
        http.clone(),
        std::slice::from_ref(&anon),
        "/healthz",
        n,
        conns,
    )
    .await?;
    let t1 = ticks()?;
    let home = hammer(http.clone(), &signed_in, "/", n, conns).await?;
    let t2 = ticks()?;
    let per = |a: u64, b: u64, k: usize| (b - a) as f64 / tck * 1000.0 / k as f64;
    let healthz_ms = per(t0, t1, n);
    let home_ms = per(t1, t2, n);
    println!(
        "  GET /healthz: {:.4} ms CPU per request, p50 {:.3} ms",
        healthz_ms,
        percentile_sorted(&health, 50.0)
    );
    println!(
        "  GET / (pupil's home): {:.4} ms CPU per request, p50 {:.3} ms; ratio {:.1}",
        home_ms,
        percentile_sorted(&home, 50.0),
        home_ms / healthz_ms.max(1e-9)
    );

    // Logins: the forms first (not measured), then the posts.
    let m = args.cost_logins;
    let mut forms = Vec::with_capacity(m);
    for a in &pupils[1..=m] {
        let mut u = User::new();
        let page = ctx
            .fetch(
                &mut u,
                cartable_bench::drill::record::Page::LoginForm,
                &Request::get(format!("/connexion?ecole={}", url_component(&a.school_id))),
                true,
            )
            .await
            .map_err(|_| "GET /connexion failed".to_string())?;
        let csrf = html::hidden(&page.text(), "csrf").ok_or("no csrf on the login page")?;
        let post = Request::form(
            "/connexion",
            vec![
                ("csrf".into(), csrf),
                ("suite".into(), "/".into()),
                ("login".into(), a.login.clone()),
                ("password".into(), a.password.clone()),
                ("rester".into(), "1".into()),
            ],
        );
        forms.push((u.jar, post));
    }
    // Two at a time: the server hashes on one thread per core. Its CPU in
    // nanoseconds per thread: all of it, and its hashing threads' alone.
    let server_ns = || procfs::threads_cpu_ns(Some(pid), "");
    let server_hash_ns = || procfs::threads_cpu_ns(Some(pid), "argon2");
    let (p0, h0) = (server_ns(), server_hash_ns());
    let forms = Arc::new(tokio::sync::Mutex::new(forms));
    let mut set = JoinSet::new();
    for _ in 0..2 {
        let (http, forms) = (http.clone(), forms.clone());
        set.spawn(async move {
            loop {
                let Some((mut jar, post)) = forms.lock().await.pop() else {
                    return Ok::<_, String>(());
                };
                let a = http
                    .send(&mut jar, &post)
                    .await
                    .map_err(|e| format!("POST /connexion: {e:?}"))?;
                if a.status != StatusCode::SEE_OTHER {
                    return Err(format!("POST /connexion: {}", a.status));
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    let (p1, h1) = (server_ns(), server_hash_ns());
    let login_ms = (p1 - p0) as f64 / 1e6 / m as f64;
    let server_hash_ms = (h1 - h0) as f64 / 1e6 / m as f64;

    // Argon2id alone, with the production parameters, on one thread here.
    let cost = HashCost::default();
    let pool = HashPool::new(1, m + 4, cost);
    let phc = pool
        .hash(pupils[0].password.clone())
        .await
        .map_err(|e| e.to_string())?;
    // Warm-up: the first hashes of a thread fault in its 19 MiB.
    for _ in 0..3 {
        pool.verify(Some(phc.clone()), pupils[0].password.clone())
            .await
            .map_err(|e| e.to_string())?;
    }
    let c0 = procfs::own_threads_cpu_ns("argon2");
    let w0 = Instant::now();
    for _ in 0..m {
        pool.verify(Some(phc.clone()), pupils[0].password.clone())
            .await
            .map_err(|e| e.to_string())?;
    }
    let hash_wall_ms = w0.elapsed().as_secs_f64() * 1000.0 / m as f64;
    let c1 = procfs::own_threads_cpu_ns("argon2");
    let hash_ms = (c1 - c0) as f64 / 1e6 / m as f64;
    println!(
        "  password login: {login_ms:.2} ms of server CPU, of which {server_hash_ms:.2} ms on its hashing threads: {:.2} ms besides the hash; Argon2id here {hash_ms:.2} ms CPU ({hash_wall_ms:.2} ms wall)",
        login_ms - server_hash_ms
    );
    let figures = CostFigures {
        scenario: "cost".into(),
        admission: args.admission.clone(),
        requests_each: n as u64,
        connections: conns as u64,
        home_pupils: k as u64,
        home_cpu_ms_per_request: (home_ms * 1e4).round() / 1e4,
        healthz_cpu_ms_per_request: (healthz_ms * 1e4).round() / 1e4,
        home_to_healthz_ratio: ((home_ms / healthz_ms.max(1e-9)) * 10.0).round() / 10.0,
        home_p50_ms: r3(percentile_sorted(&home, 50.0)),
        healthz_p50_ms: r3(percentile_sorted(&health, 50.0)),
        logins: m as u64,
        login_cpu_ms: r3(login_ms),
        hash_cpu_ms: r3(hash_ms),
        login_minus_hash_ms: r3(login_ms - hash_ms),
        login_server_hash_ms: r3(server_hash_ms),
        login_besides_hash_ms: r3(login_ms - server_hash_ms),
        hash_params: format!(
            "m={} KiB, t={}, p={}",
            cost.memory_kib, cost.iterations, cost.parallelism
        ),
        clk_tck: tck,
        nproc: nproc(),
        load_avg_start: load_start,
        load_avg_end: loadavg(),
    };
    Ok(RunData {
        summary: None,
        series: None,
        cost: Some(figures),
        notes: vec![format!(
            "Server CPU from /proc/{pid}/stat (utime+stime, {tck} ticks per second) before and after each batch, divided by the batch's requests. The home pages are those of {k} pupils in turn, each seen once before the measure (as after the first page of a morning journey: the session read, the school's facts remembered). The login is the POST /connexion alone (its form fetched before), two at a time, its CPU read per server thread in nanoseconds (/proc/{pid}/task/*/schedstat): all threads, and the hashing threads (argon2-*) alone; the difference is what a login costs besides the hash. The reference hash is Argon2id verify of the same password, {m} times on one thread of this process with cartable_app's HashCost::default(). The stored hashes must have the same parameters for the difference to mean something (cartable seed writes production-cost hashes)."
        )],
    })
}
