//! handin-durability: an acknowledged hand-in is never lost (issue 3, "What
//! must hold").
//!
//! 1. Seeds a fresh data directory with the library (a school, one class of
//!    pupils with a known password, a teacher, an assignment due in 300 days
//!    that accepts files), then closes the store.
//! 2. Runs the real `cartable serve` binary (`--bin`) on 127.0.0.1 and a
//!    hand-in load against it: concurrent clients, each a browser with its
//!    own cookies, sign in, open `GET /rendus/{id}`, take the form's `csrf` and
//!    idempotency key `cle`, and `POST /rendus/{id}/rendre` (multipart: csrf,
//!    cle, one random PDF-looking file). A 200 with `x-cartable-receipt` and a
//!    receipt page is a receipt: the client keeps (pupil, key, receipt number,
//!    SHA-256 and size of the bytes it sent). A request that gets no answer
//!    (connection refused, reset, cut body) is sent again with the SAME key
//!    until an answer comes, as a pupil pressing again would.
//! 3. Meanwhile a killer sends SIGKILL to the server every 0.3-1.5 s (random),
//!    `--kills` times, restarting it each time. After the last kill the
//!    server is started once more, the clients finish what they were doing
//!    and stop, and the server is stopped with SIGTERM.
//! 4. Offline (server stopped), the SQLite database is opened read-only and
//!    every receipt is checked: exactly one submission row with that key, for
//!    that pupil and assignment; one attachment row with the size and SHA-256
//!    the client computed; the blob file exists, has that size and hashes to
//!    that SHA-256. A receipt failing any check is lost.
//! 5. Still offline, `cartable admin sweep-blobs --min-age-hours 0` (the same
//!    binary) removes the files no row points to, left by the kills; the
//!    files are counted again and every receipt checked again: the sweep
//!    must leave no orphan and lose nothing.
//!
//! Human lines, a line `orphans_before=… orphans_after_sweep=…`, then exactly
//! one last line `receipts=N kills=K lost=L`. Exit code:
//! 0 when lost = 0 (with `--expect-loss`: when lost > 0), 1 otherwise, 2 when
//! the run could not prove anything (setup failure, deadline before the last
//! kill, no receipt at all). Loopback only, bounded in time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartable_app::assignments::{sha256_hex, AssignmentDraft};
use cartable_app::auth::ClientInfo;
use cartable_app::blobs::FsBlobStore;
use cartable_app::clock::SystemClock;
use cartable_app::hashing::{HashCost, HashPool};
use cartable_app::{App, AppConfig};
use cartable_domain::names::{BirthDate, ClassName, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::Role;
use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::{ClassRepo, RosterRepo, Store, UserRepo};
use cartable_testkit::reqwest::{self, multipart, StatusCode};
use cartable_testkit::{extract_csrf, PASSWORD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::any::AnyPoolOptions;
use sqlx::Row;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command};

type Error = Box<dyn std::error::Error + Send + Sync>;
type R<T> = Result<T, Error>;

fn err(msg: impl Into<String>) -> Error {
    msg.into().into()
}

const USAGE: &str = "\
handin-durability: SIGKILL the Cartable server during a hand-in load, then check every receipt.

Options:
  --bin PATH          the cartable binary to run (default: target/release/cartable)
  --kills K           SIGKILLs to send (default 20)
  --pupils N          pupils in the class, one browser each (default 40)
  --clients C         concurrent clients (default 16)
  --file-kb KB        size of each handed-in file (default 100)
  --min-gap-ms MS     shortest time between a restart and the next kill (default 300)
  --max-gap-ms MS     longest (default 1500)
  --deadline-s S      the load phase stops after this, whatever happens (default 120)
  --tail-s S          load kept on the last server, after the last restart (default 1;
                      with --kills 0, the length of a control run without kills)
  --expect-loss       for the deliberately broken build: succeed only if something is lost
  --keep              keep the data directory (it is printed)
";

#[derive(Debug, Clone)]
struct Args {
    bin: PathBuf,
    kills: usize,
    pupils: usize,
    clients: usize,
    file_bytes: usize,
    min_gap: Duration,
    max_gap: Duration,
    deadline: Duration,
    tail: Duration,
    expect_loss: bool,
    keep: bool,
}

fn default_bin() -> PathBuf {
    let here = PathBuf::from("target/release/cartable");
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/cartable")
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bin: default_bin(),
        kills: 20,
        pupils: 40,
        clients: 16,
        file_bytes: 100 * 1024,
        min_gap: Duration::from_millis(300),
        max_gap: Duration::from_millis(1500),
        deadline: Duration::from_secs(120),
        tail: Duration::from_secs(1),
        expect_loss: false,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let mut number = |name: &str| -> Result<u64, String> {
            let v = value(name)?;
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "--bin" => a.bin = PathBuf::from(value("--bin")?),
            "--kills" => a.kills = number("--kills")? as usize,
            "--pupils" => a.pupils = number("--pupils")? as usize,
            "--clients" => a.clients = number("--clients")? as usize,
            "--file-kb" => a.file_bytes = number("--file-kb")? as usize * 1024,
            "--min-gap-ms" => a.min_gap = Duration::from_millis(number("--min-gap-ms")?),
            "--max-gap-ms" => a.max_gap = Duration::from_millis(number("--max-gap-ms")?),
            "--deadline-s" => a.deadline = Duration::from_secs(number("--deadline-s")?),
            "--tail-s" => a.tail = Duration::from_secs(number("--tail-s")?),
            "--expect-loss" => a.expect_loss = true,
            "--keep" => a.keep = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !(1..=400).contains(&a.pupils) {
        return Err("--pupils: between 1 and 400".into());
    }
    if a.clients == 0 || a.clients > a.pupils {
        return Err("--clients: at least 1 and at most --pupils".into());
    }
    if a.file_bytes < 1024 || a.file_bytes > 9 * 1024 * 1024 {
        return Err("--file-kb: between 1 and 9216 (the server caps a file at 10 MB)".into());
    }
    if a.min_gap > a.max_gap {
        return Err("--min-gap-ms must not exceed --max-gap-ms".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if e.is_empty() {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("handin-durability: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(run(args));
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn run(args: Args) -> ExitCode {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let bin = match std::fs::canonicalize(&args.bin) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "handin-durability: binary {} not found ({e}); build it with `cargo build --release -p cartable`",
                args.bin.display()
            );
            return ExitCode::from(2);
        }
    };
    let dir = match tempfile::Builder::new()
        .prefix("cartable-handin-durability-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("handin-durability: temp dir: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "handin-durability: {nproc} CPUs, load average {}; server {}; data in {}",
        loadavg(),
        bin.display(),
        dir.path().display()
    );
    println!(
        "  {} pupils, {} concurrent clients, files of {} KB, {} SIGKILLs every {}-{} ms, load deadline {} s{}",
        args.pupils,
        args.clients,
        args.file_bytes / 1024,
        args.kills,
        args.min_gap.as_millis(),
        args.max_gap.as_millis(),
        args.deadline.as_secs(),
        if args.expect_loss {
            " (expecting loss: deliberately broken build)"
        } else {
            ""
        }
    );
    let outcome = run_in(&args, &bin, dir.path()).await;
    let code = match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("handin-durability failed: {e}");
            ExitCode::from(2)
        }
    };
    // Kept to look into: asked for, or the shipped build failed.
    if args.keep || (code != ExitCode::SUCCESS && !args.expect_loss) {
        let kept = dir.keep();
        // On stderr: stdout ends with the receipts line.
        eprintln!("handin-durability: data directory kept: {}", kept.display());
    }
    code
}

// ---------------------------------------------------------------- seeding

const FIRST_NAMES: [&str; 20] = [
    "Léa", "Hugo", "Chloé", "Louis", "Emma", "Gabriel", "Jade", "Raphaël", "Louise", "Arthur",
    "Alice", "Jules", "Inès", "Adam", "Lina", "Maël", "Rose", "Lucas", "Anna", "Noah",
];
const SYLLABLES: [&str; 20] = [
    "bar", "mon", "lef", "dur", "ver", "gar", "pet", "ros", "bel", "cha", "dal", "fon", "gir",
    "hou", "jam", "lam", "mar", "nor", "pal", "rey",
];

/// A family name, unique for `i` < 400.
fn last_name(i: usize) -> String {
    let a = SYLLABLES[i % SYLLABLES.len()];
    let b = SYLLABLES[(i / SYLLABLES.len()) % SYLLABLES.len()];
    a[..1].to_uppercase() + &a[1..] + b
}

fn person(first: &str, last: &str, birth: Option<&str>) -> R<PersonRecord> {
    Ok(PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).map_err(|e| err(format!("{last}: {e}")))?,
        first_name: PersonName::parse(first).map_err(|e| err(format!("{first}: {e}")))?,
        birth_date: match birth {
            Some(b) => Some(BirthDate::parse(b).map_err(|e| err(format!("{b}: {e}")))?),
            None => None,
        },
        email: None,
    })
}

struct Seeded {
    assignment: i64,
    /// (user id, login) of each pupil.
    pupils: Vec<(i64, String)>,
}

/// The school, written with the library before the server starts.
async fn seed(dir: &Path, pupils: usize) -> R<Seeded> {
    let url = format!("sqlite://{}", dir.join("cartable.db").display());
    let store = Arc::new(SqlStore::connect(&url, &PoolSettings::default()).await?);
    let app = App::new(
        store.clone() as Arc<dyn Store>,
        HashPool::new(1, 8, HashCost::default()),
        Arc::new(FsBlobStore::new(dir.join("files"))?),
        Arc::new(SystemClock),
        AppConfig::default(),
    );
    let school = app
        .create_school("Collège Pierre Brossolette", "0750042K")
        .await?;
    let mut ops = vec![RosterOp::CreateClass {
        name: ClassName::parse("4e B").map_err(|e| err(e.to_string()))?,
    }];
    for p in 0..pupils {
        let birth = format!("{:02}/{:02}/2012", 1 + p % 28, 1 + p % 12);
        ops.push(RosterOp::CreatePerson {
            role: Role::Pupil,
            person: person(
                FIRST_NAMES[p % FIRST_NAMES.len()],
                &last_name(p),
                Some(&birth),
            )?,
            subject: None,
        });
    }
    ops.push(RosterOp::CreatePerson {
        role: Role::Teacher,
        person: person("Camille", "Delorme", None)?,
        subject: Some("Histoire-géographie".into()),
    });
    for p in 0..pupils {
        ops.push(RosterOp::SetClass {
            pupil: PersonRef::New(p),
            class: ClassRef::New(0),
        });
    }
    ops.push(RosterOp::SetTeachings {
        teacher: PersonRef::New(pupils),
        classes: vec![(ClassRef::New(0), true)],
    });
    let applied = store.apply_roster(school.id, &ops, app.now()).await?;
    if applied.created.len() != pupils + 1 {
        return Err(err(format!(
            "{} people created, {} planned",
            applied.created.len(),
            pupils + 1
        )));
    }
    // One Argon2 hash (default cost) for everyone: the server checks it at each sign-in.
    let hash = app.hasher.hash(PASSWORD.to_string()).await?;
    for (id, _) in &applied.created {
        store.set_password(*id, Some(&hash), app.now()).await?;
    }
    let class = store
        .classes(school.id)
        .await?
        .first()
        .map(|c| c.id)
        .ok_or_else(|| err("class not created"))?;
    let teacher = applied.created[pupils].0;
    let actor = store
        .actor(teacher)
        .await?
        .ok_or_else(|| err("teacher has no actor"))?;
    let assignment = app
        .create_assignment(
            &actor,
            cartable_domain::Target::Class(class),
            AssignmentDraft {
                title: "Exposé : la Révolution française".into(),
                subject: "Histoire-géographie".into(),
                instructions: "Rendez votre exposé en **PDF**.".into(),
                due_date: app.school_today().plus(300).iso(),
                due_time: String::new(),
                accepts_files: true,
                accepts_text: true,
                attachments: Vec::new(),
            },
            &ClientInfo::default(),
        )
        .await?;
    let pupils = applied.created[..pupils]
        .iter()
        .map(|(id, login)| (id.0, login.clone()))
        .collect();
    drop(app);
    store.close().await;
    Ok(Seeded { assignment, pupils })
}

// ---------------------------------------------------------------- the server

struct ServerCmd {
    bin: PathBuf,
    data_dir: PathBuf,
    listen: String,
    log: PathBuf,
}

struct Server {
    child: Child,
}

impl ServerCmd {
    /// Starts the server and waits for "Cartable écoute sur".
    async fn start(&self) -> R<(Server, Duration)> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(&self.listen)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, _) in std::env::vars() {
            if k.starts_with("CARTABLE_") {
                cmd.env_remove(k);
            }
        }
        let started = Instant::now();
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| err("no stdout"))?;
        // Read its stdout on a thread until it ends (so that the server never
        // blocks on a full pipe); say when the line that means "ready" comes.
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("Cartable écoute sur") {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        match tokio::time::timeout(Duration::from_secs(20), ready_rx).await {
            Ok(Ok(())) => Ok((Server { child }, started.elapsed())),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                Err(err(format!(
                    "the server did not start ({}); end of its log:\n{}",
                    if other.is_ok() {
                        "it exited"
                    } else {
                        "no \"Cartable écoute sur\" within 20 s"
                    },
                    log_tail(&self.log, 20)
                )))
            }
        }
    }
}

impl Server {
    /// SIGKILL (what `Child::kill` sends on Unix), and reap it.
    fn sigkill(mut self) -> R<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM and wait (SIGKILL after 15 s). True when it stopped by itself
    /// with success.
    async fn sigterm(mut self) -> R<bool> {
        let pid = self.child.id();
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()?;
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(15) {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave a server behind (an error on the way out).
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------- the clients

/// What a client kept from a receipt page.
#[derive(Debug, Clone)]
struct Receipt {
    pupil: i64,
    login: String,
    key: String,
    /// `x-cartable-receipt`.
    number: i64,
    sha256: String,
    size: u64,
    file_name: String,
    /// The SHA-256 the receipt page showed for the file.
    page_sha256: Option<String>,
    /// The page said "Ce travail était déjà enregistré".
    replayed: bool,
    unanswered_posts: u32,
}

#[derive(Debug, Default)]
struct Stats {
    handins_started: u64,
    receipts: Vec<Receipt>,
    posts: u64,
    posts_unanswered: u64,
    /// ... of which refused (the server was down: nothing reached it).
    posts_refused: u64,
    /// Hand-ins with at least one POST that got no answer.
    handins_unanswered: u64,
    /// Hand-ins with at least one POST cut in flight (not merely refused).
    handins_cut: u64,
    /// ... of which the retry's answer said the work was already stored.
    stored_before_retry: u64,
    /// Replays after an error answer only (5xx), not after silence.
    replayed_after_error: u64,
    error_answers: BTreeMap<u16, u64>,
    gets_unanswered: u64,
    sign_ins: u64,
    sign_ins_unanswered: u64,
    csrf_refreshes: u64,
    /// Hand-ins given up at the deadline without an answer.
    abandoned: u64,
    /// Answers a client could not handle (a bench or product bug).
    unexpected: Vec<String>,
}

struct Shared {
    base: String,
    assignment: i64,
    file_bytes: usize,
    /// No new hand-in after this is set.
    stop: AtomicBool,
    /// Hand-ins still waiting for an answer are given up after this.
    hard_deadline: Instant,
    counter: AtomicU64,
    stats: Mutex<Stats>,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn past_deadline(&self) -> bool {
        Instant::now() >= self.hard_deadline
    }
}

struct Pupil {
    id: i64,
    login: String,
    http: reqwest::Client,
    signed_in: bool,
}

/// A whole answer, or none (refused, reset, cut before the end of the body).
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// No answer: `refused` when no connection could be made (the server was
/// down: the request never reached it); otherwise the connection was cut
/// (reset, closed, body cut) while the request was in flight.
struct NoAnswer {
    refused: bool,
}

async fn send(rb: reqwest::RequestBuilder) -> Result<Answer, NoAnswer> {
    let resp = rb.send().await.map_err(|e| NoAnswer {
        refused: e.is_connect(),
    })?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.map_err(|_| NoAnswer { refused: false })?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Why a client stopped a hand-in without a receipt.
enum Stop {
    /// The deadline passed.
    Deadline,
    /// An answer that should not happen.
    Unexpected(String),
}

const RETRY_PAUSE: Duration = Duration::from_millis(50);

fn location(a: &Answer) -> &str {
    a.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn describe(a: &Answer) -> String {
    let code = a
        .headers
        .get("x-cartable-error")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    format!("{} (x-cartable-error {code})", a.status)
}

async fn sign_in(sh: &Shared, p: &mut Pupil) -> Result<(), Stop> {
    loop {
        if sh.past_deadline() {
            return Err(Stop::Deadline);
        }
        let page = match send(p.http.get(sh.url("/activation"))).await {
            Ok(a) => a,
            Err(_) => {
                sh.stats().sign_ins_unanswered += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        let Some(token) = extract_csrf(&page.body) else {
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        let form = [
            ("csrf", token.as_str()),
            ("login", p.login.as_str()),
            ("password", PASSWORD),
            ("rester", "1"),
        ];
        match send(p.http.post(sh.url("/connexion")).form(&form)).await {
            Err(_) => {
                sh.stats().sign_ins_unanswered += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Ok(a)
                if a.status == StatusCode::SEE_OTHER && !location(&a).starts_with("/connexion") =>
            {
                sh.stats().sign_ins += 1;
                p.signed_in = true;
                return Ok(());
            }
            Ok(a) if a.status.is_server_error() || a.status == StatusCode::FORBIDDEN => {
                // 5xx, or a token from a page served just before a restart.
                *sh.stats()
                    .error_answers
                    .entry(a.status.as_u16())
                    .or_default() += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Ok(a) => {
                return Err(Stop::Unexpected(format!(
                    "sign-in of {} answered {}",
                    p.login,
                    describe(&a)
                )))
            }
        }
    }
}

/// The hand-in form: (csrf, cle). Signs in first when needed.
async fn open_form(sh: &Shared, p: &mut Pupil) -> Result<(String, String), Stop> {
    let path = format!("/rendus/{}", sh.assignment);
    loop {
        if !p.signed_in {
            sign_in(sh, p).await?;
        }
        if sh.past_deadline() {
            return Err(Stop::Deadline);
        }
        match send(p.http.get(sh.url(&path))).await {
            Err(_) => {
                sh.stats().gets_unanswered += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Ok(a) if a.status == StatusCode::OK => {
                let csrf = extract_csrf(&a.body);
                let key = hidden(&a.body, "cle");
                match (csrf, key) {
                    (Some(c), Some(k)) => return Ok((c, k)),
                    _ => {
                        return Err(Stop::Unexpected(format!(
                            "GET {path} for {}: no csrf or cle in the form",
                            p.login
                        )))
                    }
                }
            }
            Ok(a) if a.status == StatusCode::SEE_OTHER => p.signed_in = false,
            Ok(a) if a.status.is_server_error() => {
                *sh.stats()
                    .error_answers
                    .entry(a.status.as_u16())
                    .or_default() += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Ok(a) => {
                return Err(Stop::Unexpected(format!(
                    "GET {path} for {} answered {}",
                    p.login,
                    describe(&a)
                )))
            }
        }
    }
}

/// The value of a hidden input.
fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The first file checksum in the receipt block of the page.
fn receipt_checksum(html: &str) -> Option<String> {
    let section = html.find("<section class=\"notice\"")?;
    let needle = "mono checksum\">";
    let start = html[section..].find(needle)? + section + needle.len();
    let end = html[start..].find('<')? + start;
    Some(html[start..end].to_string())
}

/// One hand-in: open the form, post it, and post it again with the same key
/// until an answer comes.
async fn hand_in(sh: &Shared, p: &mut Pupil, rng: &mut StdRng) -> Result<(), Stop> {
    let (mut csrf, key) = open_form(sh, p).await?;
    let n = sh.counter.fetch_add(1, Ordering::Relaxed);
    let file_name = format!("copie-{n}.pdf");
    let mut content = vec![0u8; sh.file_bytes];
    let head = b"%PDF-1.4\n";
    content[..head.len()].copy_from_slice(head);
    rng.fill(&mut content[head.len()..]);
    let sha256 = sha256_hex(&content);
    sh.stats().handins_started += 1;
    let path = format!("/rendus/{}/rendre", sh.assignment);
    let mut unanswered = 0u32;
    let mut cut = 0u32;
    let mut errors = 0u32;
    loop {
        if sh.past_deadline() {
            sh.stats().abandoned += 1;
            return Err(Stop::Deadline);
        }
        let part = multipart::Part::bytes(content.clone())
            .file_name(file_name.clone())
            .mime_str("application/pdf")
            .map_err(|e| Stop::Unexpected(e.to_string()))?;
        let form = multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("cle", key.clone())
            .part("fichier", part);
        sh.stats().posts += 1;
        let answer = send(p.http.post(sh.url(&path)).multipart(form)).await;
        match answer {
            Err(no) => {
                {
                    let mut st = sh.stats();
                    st.posts_unanswered += 1;
                    if no.refused {
                        st.posts_refused += 1;
                    }
                    if unanswered == 0 {
                        st.handins_unanswered += 1;
                    }
                    if !no.refused && cut == 0 {
                        st.handins_cut += 1;
                    }
                }
                unanswered += 1;
                if !no.refused {
                    cut += 1;
                }
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Ok(a) if a.status == StatusCode::OK => {
                let number = a
                    .headers
                    .get("x-cartable-receipt")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                let Some(number) = number else {
                    return Err(Stop::Unexpected(format!(
                        "hand-in of {} answered 200 without x-cartable-receipt",
                        p.login
                    )));
                };
                let replayed = a.body.contains("Ce travail était déjà enregistré");
                if !replayed && !a.body.contains("Travail rendu : voici votre reçu") {
                    return Err(Stop::Unexpected(format!(
                        "hand-in of {} answered 200 without a receipt on the page",
                        p.login
                    )));
                }
                {
                    let mut st = sh.stats();
                    if replayed && unanswered > 0 {
                        st.stored_before_retry += 1;
                    } else if replayed && errors > 0 {
                        st.replayed_after_error += 1;
                    } else if replayed {
                        st.unexpected.push(format!(
                            "{}: first answer to key {key} was a replay",
                            p.login
                        ));
                    }
                    st.receipts.push(Receipt {
                        pupil: p.id,
                        login: p.login.clone(),
                        key: key.clone(),
                        number,
                        sha256: sha256.clone(),
                        size: content.len() as u64,
                        file_name: file_name.clone(),
                        page_sha256: receipt_checksum(&a.body),
                        replayed,
                        unanswered_posts: unanswered,
                    });
                }
                return Ok(());
            }
            Ok(a) if a.status == StatusCode::SEE_OTHER => {
                // Signed out (should not happen: sessions are in the database).
                p.signed_in = false;
                sign_in(sh, p).await?;
                csrf = open_form(sh, p).await?.0;
                sh.stats().csrf_refreshes += 1;
            }
            Ok(a) if a.status == StatusCode::FORBIDDEN => {
                // The token: take a fresh one, keep the key.
                csrf = open_form(sh, p).await?.0;
                sh.stats().csrf_refreshes += 1;
            }
            Ok(a) if a.status.is_server_error() || a.status == StatusCode::TOO_MANY_REQUESTS => {
                errors += 1;
                *sh.stats()
                    .error_answers
                    .entry(a.status.as_u16())
                    .or_default() += 1;
                tokio::time::sleep(RETRY_PAUSE * 2).await;
            }
            Ok(a) => {
                return Err(Stop::Unexpected(format!(
                    "hand-in of {} answered {}",
                    p.login,
                    describe(&a)
                )))
            }
        }
    }
}

async fn client(sh: Arc<Shared>, mut pupils: Vec<Pupil>) {
    let mut rng = StdRng::from_entropy();
    let mut turn = 0usize;
    while !sh.stop.load(Ordering::Relaxed) && !sh.past_deadline() {
        let count = pupils.len();
        let p = &mut pupils[turn % count];
        turn += 1;
        match hand_in(&sh, p, &mut rng).await {
            Ok(()) => {}
            Err(Stop::Deadline) => return,
            Err(Stop::Unexpected(what)) => {
                sh.stats().unexpected.push(what);
                return;
            }
        }
    }
}

// ---------------------------------------------------------------- verification

#[derive(Debug, Default)]
struct Verdict {
    lost: u64,
    /// Lost receipts by reason.
    reasons: BTreeMap<&'static str, u64>,
    examples: Vec<String>,
    /// The receipt number is not the id of the stored row.
    wrong_number: u64,
    /// The receipt page showed another checksum than the bytes sent.
    wrong_page_checksum: u64,
    submissions: u64,
    /// Stored rows no receipt points to (answers that never came back, or
    /// the hand-ins in flight at the end).
    without_receipt: u64,
    /// Stored hand-in files whose blob is missing or altered, receipts or not.
    rows_with_bad_file: u64,
    /// Blob files no attachment row points to.
    orphan_files: u64,
    /// `handin.recorded` lines in the audit log (written after the commit).
    audit_lines: u64,
    temp_files: u64,
    integrity: String,
}

struct Attachment {
    blob_key: String,
    file_name: String,
    size: i64,
    sha256: String,
}

fn file_check(files: &Path, a: &Attachment) -> Result<(), &'static str> {
    if !cartable_app::blobs::is_valid_key(&a.blob_key) {
        return Err("blob key malformed");
    }
    let bytes = std::fs::read(files.join(&a.blob_key)).map_err(|_| "file missing")?;
    if bytes.len() as i64 != a.size {
        return Err("file size differs");
    }
    if sha256_hex(&bytes) != a.sha256 {
        return Err("file bytes differ");
    }
    Ok(())
}

fn walk(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

async fn verify(dir: &Path, assignment: i64, receipts: &[Receipt]) -> R<Verdict> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", dir.join("cartable.db").display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let integrity = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ");
    let mut v = Verdict {
        integrity,
        ..Verdict::default()
    };

    // (pupil, key) -> ids, and key -> how many rows carry it (any pupil, any assignment).
    let mut by_key: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    let mut key_rows: HashMap<String, u64> = HashMap::new();
    let rows = sqlx::query("SELECT id, assignment_id, pupil_id, idempotency_key FROM submissions")
        .fetch_all(&pool)
        .await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let a: i64 = r.try_get("assignment_id")?;
        let pupil: i64 = r.try_get("pupil_id")?;
        let key: String = r.try_get("idempotency_key")?;
        *key_rows.entry(key.clone()).or_default() += 1;
        if a == assignment {
            by_key.entry((pupil, key)).or_default().push(id);
        }
    }
    v.submissions = rows.len() as u64;
    v.audit_lines =
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'handin.recorded'")
            .fetch_one(&pool)
            .await?
            .try_get::<i64, _>("n")? as u64;

    let mut atts: HashMap<i64, Vec<Attachment>> = HashMap::new();
    let mut referenced: HashSet<String> = HashSet::new();
    for r in sqlx::query(
        "SELECT owner_kind, owner_id, blob_key, file_name, size, sha256 FROM attachments",
    )
    .fetch_all(&pool)
    .await?
    {
        let blob_key: String = r.try_get("blob_key")?;
        referenced.insert(blob_key.clone());
        let kind: String = r.try_get("owner_kind")?;
        if kind != "submission" {
            continue;
        }
        atts.entry(r.try_get("owner_id")?)
            .or_default()
            .push(Attachment {
                blob_key,
                file_name: r.try_get("file_name")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
            });
    }
    pool.close().await;

    let files = dir.join("files");
    let lose = |v: &mut Verdict, reason: &'static str, r: &Receipt| {
        v.lost += 1;
        *v.reasons.entry(reason).or_default() += 1;
        if v.examples.len() < 8 {
            v.examples.push(format!(
                "{reason}: pupil {} ({}), key {}, receipt {}, {} ({} bytes, sha256 {}…), {} unanswered POST(s) before it",
                r.pupil,
                r.login,
                r.key,
                r.number,
                r.file_name,
                r.size,
                &r.sha256[..16],
                r.unanswered_posts
            ));
        }
    };
    let mut receipted: HashSet<i64> = HashSet::new();
    for r in receipts {
        if r.page_sha256.as_deref() != Some(r.sha256.as_str()) {
            v.wrong_page_checksum += 1;
        }
        let ids = by_key.get(&(r.pupil, r.key.clone()));
        let Some(ids) = ids.filter(|ids| !ids.is_empty()) else {
            lose(&mut v, "no submission row for the key", r);
            continue;
        };
        if ids.len() > 1 || key_rows.get(&r.key).copied().unwrap_or(0) > 1 {
            lose(&mut v, "more than one row with the key", r);
            continue;
        }
        let id = ids[0];
        receipted.insert(id);
        if id != r.number {
            v.wrong_number += 1;
        }
        let files_of = atts.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let [a] = files_of else {
            lose(&mut v, "not exactly one attachment row", r);
            continue;
        };
        if a.size as u64 != r.size || a.sha256 != r.sha256 {
            lose(&mut v, "attachment row differs (size or sha256)", r);
            continue;
        }
        if a.file_name != r.file_name {
            lose(&mut v, "attachment file name differs", r);
            continue;
        }
        if let Err(reason) = file_check(&files, a) {
            lose(&mut v, reason, r);
        }
    }
    for ids in by_key.values() {
        for id in ids {
            if !receipted.contains(id) {
                v.without_receipt += 1;
            }
            for a in atts.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                if file_check(&files, a).is_err() {
                    v.rows_with_bad_file += 1;
                }
            }
        }
    }
    let mut on_disk = Vec::new();
    walk(&files, &mut on_disk);
    for path in on_disk {
        let rel = path.strip_prefix(&files).unwrap_or(&path);
        if rel.starts_with("tmp") {
            v.temp_files += 1;
        } else if !referenced.contains(&rel.to_string_lossy().into_owned()) {
            v.orphan_files += 1;
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------- the sweep

/// Runs `cartable admin sweep-blobs --min-age-hours 0` on the data directory
/// (no server running, so no upload is in flight and age 0 is safe); returns
/// its summary line (`examines=… supprimes=…`).
async fn sweep_offline(bin: &Path, dir: &Path) -> R<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["admin", "sweep-blobs", "--min-age-hours", "0", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("CARTABLE_") {
            cmd.env_remove(k);
        }
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(err(format!(
            "cartable admin sweep-blobs failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(stdout
        .lines()
        .find(|l| l.starts_with("examines="))
        .unwrap_or("(no summary line)")
        .to_string())
}

// ---------------------------------------------------------------- the run

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn run_in(args: &Args, bin: &Path, dir: &Path) -> R<ExitCode> {
    let t0 = Instant::now();
    let seeded = seed(dir, args.pupils).await?;
    println!(
        "  seeded in {}: {} pupils of 4e B, assignment {} (files accepted, due in 300 days)",
        ms(t0.elapsed()),
        seeded.pupils.len(),
        seeded.assignment
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let cmd = ServerCmd {
        bin: bin.to_path_buf(),
        data_dir: dir.to_path_buf(),
        listen: format!("127.0.0.1:{port}"),
        log: dir.join("server.log"),
    };
    let (first, first_start) = cmd.start().await?;
    let mut server = Some(first);
    println!("  server up on 127.0.0.1:{port} in {}", ms(first_start));

    let load_start = Instant::now();
    let sh = Arc::new(Shared {
        base: format!("http://127.0.0.1:{port}"),
        assignment: seeded.assignment,
        file_bytes: args.file_bytes,
        stop: AtomicBool::new(false),
        hard_deadline: load_start + args.deadline,
        counter: AtomicU64::new(1),
        stats: Mutex::new(Stats::default()),
    });
    let mut groups: Vec<Vec<Pupil>> = (0..args.clients).map(|_| Vec::new()).collect();
    for (i, (id, login)) in seeded.pupils.iter().enumerate() {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        groups[i % args.clients].push(Pupil {
            id: *id,
            login: login.clone(),
            http,
            signed_in: false,
        });
    }
    let tasks: Vec<_> = groups
        .into_iter()
        .map(|g| tokio::spawn(client(sh.clone(), g)))
        .collect();

    // The first kill only once hand-ins flow (sign-ins take a moment).
    let flowing = Instant::now();
    while sh.stats().receipts.is_empty()
        && !sh.past_deadline()
        && flowing.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut rng = StdRng::from_entropy();
    let mut kills = 0usize;
    let mut restarts = Vec::new();
    let mut receipts_at_kill = Vec::new();
    let mut failure: Option<Error> = None;
    while kills < args.kills {
        let gap = rng.gen_range(args.min_gap.as_millis()..=args.max_gap.as_millis()) as u64;
        tokio::time::sleep(Duration::from_millis(gap)).await;
        if sh.past_deadline() {
            break;
        }
        receipts_at_kill.push(sh.stats().receipts.len());
        if let Some(s) = server.take() {
            s.sigkill()?;
        }
        kills += 1;
        match cmd.start().await {
            Ok((s, took)) => {
                server = Some(s);
                restarts.push(took);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // The server is up again (unless it failed to start): a moment of load on
    // it, then the clients finish the hand-in they are in, and stop.
    if failure.is_none() {
        let left = sh.hard_deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(args.tail.min(left)).await;
    }
    sh.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let load_time = load_start.elapsed();
    let stopped_cleanly = match server.take() {
        Some(s) => {
            // Work acknowledged but written later (the broken build) lands
            // meanwhile: what is lost below was lost to a kill, not to this stop.
            tokio::time::sleep(Duration::from_secs(1)).await;
            s.sigterm().await?
        }
        None => false,
    };

    let stats = std::mem::take(&mut *sh.stats());
    restarts.sort();
    println!(
        "  load: {:.1} s, {} hand-ins started, {} receipts ({:.0}/s), {} given up at the deadline",
        load_time.as_secs_f64(),
        stats.handins_started,
        stats.receipts.len(),
        stats.receipts.len() as f64 / load_time.as_secs_f64(),
        stats.abandoned
    );
    println!(
        "  kills: {kills} SIGKILLs; restart to \"écoute\" median {}, max {}; final stop by SIGTERM {}",
        restarts.get(restarts.len() / 2).map_or("-".into(), |d| ms(*d)),
        restarts.last().map_or("-".into(), |d| ms(*d)),
        if stopped_cleanly { "clean" } else { "NOT clean" }
    );
    let retried_receipts = stats
        .receipts
        .iter()
        .filter(|r| r.unanswered_posts > 0)
        .count();
    let replay_receipts = stats.receipts.iter().filter(|r| r.replayed).count();
    println!(
        "  POSTs: {} sent, {} got no answer ({}): {} refused while the server was down, {} cut in flight",
        stats.posts,
        stats.posts_unanswered,
        pct(stats.posts_unanswered, stats.posts),
        stats.posts_refused,
        stats.posts_unanswered - stats.posts_refused
    );
    println!(
        "  hand-ins that got no answer: {} ({} with a POST cut in flight); sent again with the same key, {} turned out already stored (\"Ce travail était déjà enregistré\"): {} of the hand-ins without an answer, {} of those cut in flight (FIELD-NOTES: about 13%)",
        stats.handins_unanswered,
        stats.handins_cut,
        stats.stored_before_retry,
        pct(stats.stored_before_retry, stats.handins_unanswered),
        pct(stats.stored_before_retry, stats.handins_cut)
    );
    println!(
        "  receipts after at least one unanswered POST: {retried_receipts} ({replay_receipts} of them replays of the first copy); replays after an error answer: {}; error answers {:?}; GETs unanswered {}; sign-ins {} ({} unanswered); fresh csrf {}",
        stats.replayed_after_error,
        stats.error_answers,
        stats.gets_unanswered,
        stats.sign_ins,
        stats.sign_ins_unanswered,
        stats.csrf_refreshes
    );
    if !receipts_at_kill.is_empty() {
        let between: Vec<usize> = receipts_at_kill.windows(2).map(|w| w[1] - w[0]).collect();
        println!(
            "  receipts between two kills: min {}, max {}",
            between.iter().min().copied().unwrap_or(0),
            between.iter().max().copied().unwrap_or(0)
        );
    }
    for u in stats.unexpected.iter().take(10) {
        println!("  UNEXPECTED: {u}");
    }
    if let Some(e) = &failure {
        println!("  SERVER RESTART FAILED: {e}");
    }

    let verdict = tokio::time::timeout(
        Duration::from_secs(120),
        verify(dir, seeded.assignment, &stats.receipts),
    )
    .await
    .map_err(|_| err("verification took more than 120 s"))??;
    println!(
        "  verification (offline, read-only): {} submission rows, {} without a receipt the clients kept, {} \"handin.recorded\" audit lines; database integrity_check: {}",
        verdict.submissions, verdict.without_receipt, verdict.audit_lines, verdict.integrity
    );
    println!(
        "  receipts checked: {}; lost {}{}",
        stats.receipts.len(),
        verdict.lost,
        if verdict.reasons.is_empty() {
            String::new()
        } else {
            format!(" {:?}", verdict.reasons)
        }
    );
    for e in &verdict.examples {
        println!("    lost: {e}");
    }
    println!(
        "  receipt numbers that are not the stored row's id: {}; receipt pages showing another SHA-256: {}; stored hand-ins whose file is missing or altered: {}; files no row points to: {} (+{} temp files)",
        verdict.wrong_number,
        verdict.wrong_page_checksum,
        verdict.rows_with_bad_file,
        verdict.orphan_files,
        verdict.temp_files
    );
    if args.expect_loss && verdict.wrong_number > 0 {
        println!("  (the broken build numbers every receipt 0: it answers before the row exists)");
    }
    let complete = kills == args.kills
        && failure.is_none()
        && stats.unexpected.is_empty()
        && !stats.receipts.is_empty();
    if !complete {
        println!(
            "  INCOMPLETE: {kills} of {} kills, {} receipts, {} unexpected answers{}: this run proves nothing",
            args.kills,
            stats.receipts.len(),
            stats.unexpected.len(),
            if failure.is_some() {
                ", a restart failed"
            } else {
                ""
            }
        );
    }
    // Not losses, but not what a correct build does either.
    let anomalies = verdict.wrong_number > 0
        || verdict.wrong_page_checksum > 0
        || verdict.rows_with_bad_file > 0
        || verdict.integrity != "ok";
    if anomalies && !args.expect_loss {
        println!(
            "  ANOMALY: see the receipt numbers, checksums, stored files or integrity check above"
        );
    }
    // The sweep of what the kills left, then every receipt again: a sweep
    // that removed a file a row points to would show here as a new loss.
    let swept = sweep_offline(bin, dir).await?;
    let after = tokio::time::timeout(
        Duration::from_secs(120),
        verify(dir, seeded.assignment, &stats.receipts),
    )
    .await
    .map_err(|_| err("verification after the sweep took more than 120 s"))??;
    println!("  sweep (cartable admin sweep-blobs --min-age-hours 0, server stopped): {swept}");
    println!(
        "  after the sweep: files no row points to {} (+{} temp files); lost {}; stored hand-ins whose file is missing or altered {}",
        after.orphan_files, after.temp_files, after.lost, after.rows_with_bad_file
    );
    let sweep_harmed =
        after.lost != verdict.lost || after.rows_with_bad_file != verdict.rows_with_bad_file;
    let sweep_left = after.orphan_files + after.temp_files > 0;
    if sweep_harmed {
        println!("  ANOMALY: the sweep removed a file that a row points to");
    }
    if sweep_left {
        println!("  ANOMALY: the sweep left files no row points to");
    }
    let good = if args.expect_loss {
        verdict.lost > 0 && !sweep_harmed
    } else {
        verdict.lost == 0 && !anomalies && !sweep_harmed && !sweep_left
    };
    println!(
        "orphans_before={} temp_before={} orphans_after_sweep={} temp_after_sweep={}",
        verdict.orphan_files, verdict.temp_files, after.orphan_files, after.temp_files
    );
    println!(
        "receipts={} kills={} lost={}",
        stats.receipts.len(),
        kills,
        verdict.lost
    );
    if !complete {
        return Ok(ExitCode::from(2));
    }
    Ok(if good {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
