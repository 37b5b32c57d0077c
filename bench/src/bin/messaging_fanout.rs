//! messaging-fanout: what it costs to send one message to a class and its
//! parents, and to a whole school, in Cartable.
//!
//! For SQLite (always) and PostgreSQL (when `CARTABLE_TEST_PG_URL` is set):
//!
//! 1. storage: a school of 2,800 people seeded with `apply_roster` (one
//!    transaction), then `create_thread` to one class's pupils and parents and
//!    to the whole school, timed, with the members of each thread checked and
//!    the transactions that wrote it counted (SQLite: commits in the WAL;
//!    PostgreSQL: distinct `xmin` of the thread's rows);
//! 2. HTTP: the real server on 127.0.0.1, a teacher's compose page and
//!    POST /messages to a class (pupils + parents), staff's POST /messages to
//!    the whole school, the page the browser is sent to afterwards, each
//!    interleaved with GET /healthz as a baseline; wall time and the server's
//!    CPU per request (from /proc), and their ratio to the baseline;
//! 3. reading after the broadcasts: a pupil's inbox, home page and the
//!    whole-school message.
//!
//! Loopback only, bounded in time, stops by itself. Human lines first, then
//! one JSON line.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartable_app::blobs::FsBlobStore;
use cartable_app::clock::ManualClock;
use cartable_app::hashing::{HashCost, HashPool};
use cartable_app::{App, AppConfig};
use cartable_bench::cpu::{self, CpuSpent};
use cartable_bench::school::{SchoolPlan, SchoolSpec, Seeded};
use cartable_bench::stats::{r3, ratio, summarize, Summary};
use cartable_bench::wal;
use cartable_domain::{SchoolId, UserId};
use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::testing::{fresh_postgres_database, PG_URL_VAR};
use cartable_store::{MessagingRepo, NewThread, Store};
use cartable_testkit::reqwest::multipart::Form;
use cartable_testkit::reqwest::{self, StatusCode};
use cartable_testkit::{extract_csrf, TestClient, PASSWORD};
use cartable_web::server::{serve, ServerConfig, ServerStats};
use cartable_web::{router, AppState, WebConfig};
use serde_json::{json, Map, Value};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use tokio::runtime::Handle;

type Error = Box<dyn std::error::Error + Send + Sync>;
type R<T> = Result<T, Error>;

/// 1 September 2026, as the test kit's clock.
const NOW: i64 = 1_788_220_800;
/// Class sends (teacher: 120 messages an hour at most; the clock does not move).
const CLASS_SENDS: usize = 20;
/// Whole-school sends (staff: 200 an hour at most).
const SCHOOL_SENDS: usize = 5;
/// Reads of each page by a pupil after the broadcasts.
const READS: usize = 20;
/// Whole-school threads in a pupil's inbox for the "school year" reading
/// (about three a week), made directly in the store.
const YEAR_BROADCASTS: usize = 100;
/// The whole run stops after this, whatever happens.
const DEADLINE: Duration = Duration::from_secs(900);

const SUBJECT: &str = "Sortie au musée jeudi";
const BODY: &str = "Bonjour à tous,\n\nJeudi **12 septembre**, la classe visite le musée \
d'histoire naturelle. Départ du collège à 8 h 30, retour vers 16 h.\n\n\
- prévoir un pique-nique et une bouteille d'eau ;\n\
- une tenue adaptée à la marche ;\n\
- l'autorisation signée dans le carnet de liaison avant lundi.\n\n\
Pour toute question, répondez à ce message : la réponse n'ira qu'à moi.\n\nBonne journée,";

fn err(msg: impl Into<String>) -> Error {
    msg.into().into()
}

fn main() -> ExitCode {
    // The server (and the storage phase) on its own threads; the client on the
    // main thread, so that the server's CPU can be read apart (see cpu.rs).
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .expect("server runtime");
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .thread_name(cpu::CLIENT_THREAD)
        .enable_all()
        .build()
        .expect("client runtime");
    let handle = server_rt.handle().clone();
    let started = Instant::now();
    let outcome = client_rt.block_on(async { tokio::time::timeout(DEADLINE, run(handle)).await });
    let code = match outcome {
        Ok(Ok(mut report)) => {
            report.insert("total_s".into(), json!(r3(started.elapsed().as_secs_f64())));
            println!("{}", Value::Object(report));
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("messaging-fanout failed: {e}");
            println!(
                "{}",
                json!({"bench": "messaging-fanout", "error": e.to_string()})
            );
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("messaging-fanout: stopped after {} s", DEADLINE.as_secs());
            println!(
                "{}",
                json!({"bench": "messaging-fanout", "error": format!("deadline of {} s reached", DEADLINE.as_secs())})
            );
            ExitCode::FAILURE
        }
    };
    drop(client_rt);
    server_rt.shutdown_timeout(Duration::from_secs(2));
    code
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn run(handle: Handle) -> R<Map<String, Value>> {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load_start = loadavg();
    let plan = Arc::new(SchoolPlan::new(SchoolSpec::default()));
    let (class_pupils, class_parents) = plan.class_recipients(0);
    println!(
        "messaging-fanout: {nproc} CPUs, load average {load_start}; school of {} people: {} pupils in {} classes, {} parents ({} households), {} teachers, {} staff",
        plan.people(),
        plan.pupils(),
        plan.spec.classes,
        plan.parents,
        plan.households,
        plan.spec.teachers,
        plan.spec.staff
    );
    println!(
        "  a class: {class_pupils} pupils + {class_parents} parents; whole school: everyone ({} people)",
        plan.people()
    );

    let mut report = Map::new();
    report.insert("bench".into(), json!("messaging-fanout"));
    report.insert("nproc".into(), json!(nproc));
    report.insert("load_avg_start".into(), json!(load_start));
    report.insert(
        "school".into(),
        json!({
            "people": plan.people(), "pupils": plan.pupils(), "classes": plan.spec.classes,
            "parents": plan.parents, "households": plan.households,
            "teachers": plan.spec.teachers, "staff": plan.spec.staff,
        }),
    );
    let mut backends = vec![json!("sqlite")];

    let sqlite = run_backend(&handle, &plan, Db::Sqlite).await?;
    report.insert("sqlite".into(), Value::Object(sqlite));

    match std::env::var(PG_URL_VAR) {
        Ok(admin) if !admin.is_empty() => {
            let pg = run_backend(&handle, &plan, Db::Postgres { admin }).await?;
            report.insert("postgres".into(), Value::Object(pg));
            backends.push(json!("postgres"));
        }
        _ => {
            println!("\n[postgres] skipped: set {PG_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres to measure it");
            report.insert("postgres".into(), Value::Null);
        }
    }
    report.insert("backends".into(), Value::Array(backends));
    report.insert("load_avg_end".into(), json!(loadavg()));
    Ok(report)
}

#[derive(Clone)]
enum Db {
    Sqlite,
    Postgres { admin: String },
}

impl Db {
    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }
}

/// Runs a future on the server runtime and waits for it without blocking
/// the client. The future is made on a helper thread (`Handle::block_on`), so
/// it need not be `Send`: sqlx's futures often cannot be proven so.
async fn on_server<T, F, Fut>(handle: &Handle, make: F) -> R<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R<T>>,
{
    let handle = handle.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-server-call".into())
        .spawn(move || {
            let _ = tx.send(handle.block_on(make()));
        })?;
    rx.await.map_err(|_| err("the server-side call panicked"))?
}

fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    base.rsplit('/').next().unwrap_or_default().to_string()
}

async fn drop_database(admin: &str, url: &str) {
    let name = database_name(url);
    let Ok(pool) = AnyPoolOptions::new()
        .max_connections(1)
        .connect(admin)
        .await
    else {
        eprintln!("could not reconnect to drop database {name}");
        return;
    };
    match sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await
    {
        Ok(_) => println!("  (database {name} dropped)"),
        Err(e) => eprintln!("could not drop database {name}: {e}"),
    }
    pool.close().await;
}

async fn run_backend(handle: &Handle, plan: &Arc<SchoolPlan>, db: Db) -> R<Map<String, Value>> {
    let label = db.name();
    let mut out = Map::new();
    out.insert("backend".into(), json!(label));

    // 1. Storage.
    println!("\n[{label}] storage: seeding and create_thread");
    let dir = tempfile::tempdir()?;
    let (url, wal) = match &db {
        Db::Sqlite => {
            let path = dir.path().join("bench-store.db");
            let wal = PathBuf::from(format!("{}-wal", path.display()));
            (format!("sqlite://{}", path.display()), Some(wal))
        }
        Db::Postgres { admin } => (fresh_postgres_database(admin).await?, None),
    };
    let storage = {
        let url = url.clone();
        let plan = plan.clone();
        on_server(handle, move || async move {
            let store = Arc::new(SqlStore::connect(&url, &PoolSettings::default()).await?);
            let probe = match wal {
                Some(path) => TxProbe::Wal(path),
                None => TxProbe::Pg(
                    AnyPoolOptions::new()
                        .max_connections(1)
                        .connect(&url)
                        .await?,
                ),
            };
            let result = storage_phase(&store, &probe, &plan, label).await;
            probe.close().await;
            store.close().await;
            result
        })
        .await
    };
    if let Db::Postgres { admin } = &db {
        drop_database(admin, &url).await;
    }
    out.extend(storage?);

    // 2 and 3. HTTP.
    println!("\n[{label}] HTTP: the real server on 127.0.0.1");
    let http_url = match &db {
        Db::Sqlite => None,
        Db::Postgres { admin } => Some(fresh_postgres_database(admin).await?),
    };
    let result = http_phase(handle, plan, &db, http_url.clone()).await;
    if let (Db::Postgres { admin }, Some(url)) = (&db, &http_url) {
        drop_database(admin, url).await;
    }
    out.extend(result?);
    Ok(out)
}

/// Counts the transactions that wrote a thread.
#[derive(Clone)]
enum TxProbe {
    /// SQLite: commits appended to this write-ahead log.
    Wal(PathBuf),
    /// PostgreSQL: distinct transaction ids (`xmin`) on the thread's rows.
    Pg(AnyPool),
}

impl TxProbe {
    fn mark(&self) -> Option<wal::WalMark> {
        match self {
            TxProbe::Wal(path) => Some(wal::mark(path)),
            TxProbe::Pg(_) => None,
        }
    }

    /// (transactions, exact).
    async fn count(&self, before: Option<wal::WalMark>, thread: i64) -> R<(u64, bool)> {
        match self {
            TxProbe::Wal(path) => {
                let c = wal::commits_between(before.unwrap_or_default(), wal::mark(path));
                Ok((c.count, c.exact))
            }
            TxProbe::Pg(pool) => {
                let row = sqlx::query(
                    "SELECT COUNT(DISTINCT x) AS n FROM (\
                       SELECT xmin::text AS x FROM threads WHERE id = $1 \
                       UNION ALL SELECT xmin::text AS x FROM messages WHERE thread_id = $1 \
                       UNION ALL SELECT xmin::text AS x FROM thread_members WHERE thread_id = $1) s",
                )
                .bind(thread)
                .fetch_one(pool)
                .await?;
                Ok((row.try_get::<i64, _>("n")? as u64, true))
            }
        }
    }

    async fn close(&self) {
        if let TxProbe::Pg(pool) = self {
            pool.close().await;
        }
    }
}

fn fmt(s: &Summary) -> String {
    format!(
        "median {:.2} ms, p90 {:.2}, max {:.2} (n={})",
        s.median, s.p90, s.max, s.n
    )
}

async fn seed_school(
    store: &dyn Store,
    plan: &SchoolPlan,
    name: &str,
    uai: &str,
) -> R<(Seeded, f64)> {
    let school = store.create_school(name, uai, NOW).await?;
    let t = Instant::now();
    let applied = store.apply_roster(school, &plan.ops, NOW).await?;
    let seed_ms = t.elapsed().as_secs_f64() * 1e3;
    let classes: Vec<_> = store
        .classes(school)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let seeded = Seeded::new(plan, school, applied.created, &classes).map_err(err)?;
    Ok((seeded, seed_ms))
}

/// Members of the thread a send creates, as the app computes them.
async fn class_members(
    store: &dyn Store,
    school: SchoolId,
    class: cartable_domain::ClassId,
    author: UserId,
) -> R<Vec<UserId>> {
    let mut m: std::collections::BTreeSet<UserId> = store
        .class_pupils(school, class)
        .await?
        .into_iter()
        .chain(store.class_parents(school, class).await?)
        .filter(|p| !p.disabled)
        .map(|p| p.id)
        .collect();
    m.insert(author);
    Ok(m.into_iter().collect())
}

async fn school_members(store: &dyn Store, school: SchoolId, author: UserId) -> R<Vec<UserId>> {
    let mut m: std::collections::BTreeSet<UserId> = store
        .people(school, None)
        .await?
        .into_iter()
        .filter(|p| !p.disabled)
        .map(|p| p.id)
        .collect();
    m.insert(author);
    Ok(m.into_iter().collect())
}

fn thread(school: SchoolId, author: UserId, members: Vec<UserId>, n: usize) -> NewThread {
    NewThread {
        school_id: school,
        subject: format!("{SUBJECT} ({n})"),
        author_id: author,
        members,
        private_replies: true,
        reply_to_thread_id: None,
        body_md: BODY.to_string(),
        body_html: cartable_app::markdown::render(BODY),
        attachments: Vec::new(),
        now: NOW,
    }
}

#[derive(Default)]
struct Sends {
    ms: Vec<f64>,
    cpu_ms: Vec<f64>,
    db_cpu_ms: Vec<f64>,
    members: usize,
    max_tx: u64,
    tx_exact: bool,
}

impl Sends {
    fn record(&mut self, ms: f64, cpu: CpuSpent, members: usize, tx: (u64, bool)) {
        self.ms.push(ms);
        self.cpu_ms.push(cpu.server_ms);
        if let Some(db) = cpu.db_ms {
            self.db_cpu_ms.push(db);
        }
        self.members = members;
        if self.ms.len() == 1 {
            self.tx_exact = true;
        }
        self.max_tx = self.max_tx.max(tx.0);
        self.tx_exact &= tx.1;
    }

    fn report(&self, label: &str, what: &str, key: &str, out: &mut Map<String, Value>) {
        let s = summarize(&self.ms);
        let cpu = summarize(&self.cpu_ms);
        let per_s = ratio(self.members as f64, s.median / 1e3);
        let tx = format!("{}{}", if self.tx_exact { "" } else { ">=" }, self.max_tx);
        let db = summarize(&self.db_cpu_ms);
        println!(
            "[{label}]   create_thread {what}, {} members: {}; {:.0} members/s; in-process CPU median {:.2} ms{}; transactions per send: {tx}",
            self.members,
            fmt(&s),
            per_s,
            cpu.median,
            if db.n > 0 { format!(", PostgreSQL CPU median {:.2} ms", db.median) } else { String::new() },
        );
        out.insert(format!("{key}_members"), json!(self.members));
        out.insert(format!("{key}_ms_median"), json!(r3(s.median)));
        out.insert(format!("{key}_ms_p90"), json!(r3(s.p90)));
        out.insert(format!("{key}_ms_max"), json!(r3(s.max)));
        out.insert(format!("{key}_members_per_s"), json!(per_s.round()));
        out.insert(format!("{key}_cpu_ms_median"), json!(r3(cpu.median)));
        if db.n > 0 {
            out.insert(format!("{key}_db_cpu_ms_median"), json!(r3(db.median)));
        }
        out.insert(format!("{key}_transactions"), json!(self.max_tx));
        out.insert(format!("{key}_transactions_exact"), json!(self.tx_exact));
    }
}

async fn storage_phase(
    store: &Arc<SqlStore>,
    probe: &TxProbe,
    plan: &SchoolPlan,
    label: &str,
) -> R<Map<String, Value>> {
    let pg = matches!(probe, TxProbe::Pg(_));
    let mut out = Map::new();
    let dyn_store: &dyn Store = store.as_ref();
    let (seeded, seed_ms) =
        seed_school(dyn_store, plan, "Collège Germaine Tillion", "0759001A").await?;
    let school = seeded.school;
    println!(
        "[{label}]   apply_roster of {} people, {} operations, one transaction: {seed_ms:.0} ms",
        plan.people(),
        plan.ops.len()
    );
    out.insert("seed_people".into(), json!(plan.people()));
    out.insert("seed_ms".into(), json!(r3(seed_ms)));

    // To a class: its pupils and their parents, from one of its teachers.
    let teacher = seeded.id(plan.teacher(0));
    let classes = &plan.teacher_classes[0];
    let mut expand = Vec::new();
    let mut class = Sends::default();
    for n in 0..CLASS_SENDS {
        let c = classes[n % classes.len()];
        let t = Instant::now();
        let members = class_members(dyn_store, school, seeded.classes[c], teacher).await?;
        expand.push(t.elapsed().as_secs_f64() * 1e3);
        let (p, q) = plan.class_recipients(c);
        if members.len() != p + q + 1 {
            return Err(err(format!(
                "class {c}: {} members, expected {p} pupils + {q} parents + the teacher",
                members.len()
            )));
        }
        let count = members.len();
        let new = thread(school, teacher, members, n);
        let before = probe.mark();
        let c0 = cpu::mark(pg);
        let t = Instant::now();
        let (id, _) = store.create_thread(&new).await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let spent = cpu::mark(pg).since(&c0);
        let tx = probe.count(before, id).await?;
        check_members(dyn_store, school, id, teacher, count).await?;
        class.record(ms, spent, count, tx);
    }
    let e = summarize(&expand);
    println!(
        "[{label}]   class_pupils + class_parents (expanding the groups): {}",
        fmt(&e)
    );
    out.insert("class_expand_ms_median".into(), json!(r3(e.median)));
    class.report(
        label,
        "to a class (pupils + parents)",
        "class_send",
        &mut out,
    );

    // To the whole school, from the office.
    let staff = seeded.id(plan.staff(0));
    let mut expand = Vec::new();
    let mut whole = Sends::default();
    for n in 0..SCHOOL_SENDS {
        let t = Instant::now();
        let members = school_members(dyn_store, school, staff).await?;
        expand.push(t.elapsed().as_secs_f64() * 1e3);
        if members.len() != plan.people() {
            return Err(err(format!(
                "whole school: {} members, expected {}",
                members.len(),
                plan.people()
            )));
        }
        let count = members.len();
        let new = thread(school, staff, members, n);
        let before = probe.mark();
        let c0 = cpu::mark(pg);
        let t = Instant::now();
        let (id, _) = store.create_thread(&new).await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let spent = cpu::mark(pg).since(&c0);
        let tx = probe.count(before, id).await?;
        check_members(dyn_store, school, id, staff, count).await?;
        whole.record(ms, spent, count, tx);
    }
    let e = summarize(&expand);
    println!(
        "[{label}]   people(school) (expanding \"whole school\"): {}",
        fmt(&e)
    );
    out.insert("school_expand_ms_median".into(), json!(r3(e.median)));
    whole.report(label, "to the whole school", "school_send", &mut out);
    out.insert("school_members".into(), json!(whole.members));
    out.insert(
        "school_recipients".into(),
        json!(whole.members.saturating_sub(1)),
    );

    // A pupil's inbox queries afterwards, and again after a school year of
    // whole-school messages (each inbox line counts its thread's members).
    let pupil = seeded.id(plan.pupil(0));
    let (i, u, found) = pupil_inbox(store, school, pupil).await?;
    println!(
        "[{label}]   a pupil's threads_of ({found} threads): {}; unread_threads: {}",
        fmt(&i),
        fmt(&u)
    );
    out.insert("store_threads_of_ms_median".into(), json!(r3(i.median)));
    out.insert("store_unread_ms_median".into(), json!(r3(u.median)));
    let members = school_members(dyn_store, school, staff).await?;
    let t = Instant::now();
    for n in SCHOOL_SENDS..YEAR_BROADCASTS {
        store
            .create_thread(&thread(school, staff, members.clone(), n))
            .await?;
    }
    let year_ms = t.elapsed().as_secs_f64() * 1e3;
    let (i, u, found) = pupil_inbox(store, school, pupil).await?;
    println!(
        "[{label}]   after {YEAR_BROADCASTS} whole-school threads in all ({} more in {year_ms:.0} ms): threads_of ({found} threads): {}; unread_threads: {}",
        YEAR_BROADCASTS - SCHOOL_SENDS,
        fmt(&i),
        fmt(&u)
    );
    out.insert("year_broadcasts".into(), json!(YEAR_BROADCASTS));
    out.insert("year_threads_of_ms_median".into(), json!(r3(i.median)));
    out.insert("year_threads_of_ms_max".into(), json!(r3(i.max)));
    out.insert("year_unread_ms_median".into(), json!(r3(u.median)));
    Ok(out)
}

/// Times a pupil's inbox list and unread count: (list, count, threads listed).
async fn pupil_inbox(
    store: &SqlStore,
    school: SchoolId,
    pupil: UserId,
) -> R<(Summary, Summary, usize)> {
    let mut inbox = Vec::new();
    let mut unread = Vec::new();
    let mut found = 0;
    for _ in 0..READS {
        let t = Instant::now();
        found = store.threads_of(school, pupil, None, 200).await?.len();
        inbox.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        store.unread_threads(school, pupil).await?;
        unread.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((summarize(&inbox), summarize(&unread), found))
}

async fn check_members(
    store: &dyn Store,
    school: SchoolId,
    thread: i64,
    author: UserId,
    expected: usize,
) -> R<()> {
    let view = store
        .thread_for_member(school, thread, author)
        .await?
        .ok_or_else(|| err(format!("thread {thread} not found for its author")))?;
    if view.members.len() != expected || view.messages.len() != 1 {
        return Err(err(format!(
            "thread {thread}: {} members and {} messages, expected {expected} and 1",
            view.members.len(),
            view.messages.len()
        )));
    }
    Ok(())
}

/// The server under test. Stops when dropped.
struct Server {
    addr: SocketAddr,
    app: App,
    store: Arc<SqlStore>,
    /// SQLite's write-ahead log, to count commits.
    wal: Option<PathBuf>,
    _keep: Box<dyn std::any::Any + Send>,
}

/// The SQLite database file the test kit opened, found through /proc/self/fd.
fn find_wal() -> Option<PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .ok()?
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .find(|p| p.file_name().is_some_and(|n| n == "cartable.db"))
        .map(|p| PathBuf::from(format!("{}-wal", p.display())))
}

async fn start_server(url: Option<String>) -> R<Server> {
    let Some(url) = url else {
        let t = cartable_testkit::spawn_app().await;
        return Ok(Server {
            addr: t.addr,
            app: t.app.clone(),
            store: t.store.clone(),
            wal: find_wal(),
            _keep: Box::new(t),
        });
    };
    // The test kit's spawn_app, on PostgreSQL.
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqlStore::connect(&url, &PoolSettings::default()).await?);
    let clock = ManualClock::new(NOW);
    let app = App::new(
        store.clone() as Arc<dyn Store>,
        HashPool::new(2, 64, HashCost::for_tests()),
        Arc::new(FsBlobStore::new(dir.path().join("files"))?),
        Arc::new(clock),
        AppConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let routes = router(AppState::new(app.clone(), WebConfig::with_random_key()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        routes,
        ServerConfig::default(),
        Arc::new(ServerStats::default()),
        async {
            let _ = stopped.await;
        },
    ));
    Ok(Server {
        addr,
        app,
        store,
        wal: None,
        _keep: Box::new((dir, stop)),
    })
}

fn browser(addr: SocketAddr) -> R<TestClient> {
    Ok(TestClient {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?,
    })
}

async fn sign_in(addr: SocketAddr, login: &str) -> R<TestClient> {
    let c = browser(addr)?;
    let r = c.login(login, PASSWORD).await;
    if r.status() != StatusCode::SEE_OTHER {
        return Err(err(format!("login of {login}: {}", r.status())));
    }
    Ok(c)
}

async fn get_page(c: &TestClient, path: &str) -> R<String> {
    let r = c.http.get(format!("{}{path}", c.base)).send().await?;
    let status = r.status();
    let body = r.text().await?;
    if status != StatusCode::OK {
        return Err(err(format!(
            "GET {path}: {status}: {}",
            body.chars().take(300).collect::<String>()
        )));
    }
    Ok(body)
}

/// POST /messages as the compose form sends it; returns the new thread's id.
async fn post_message(c: &TestClient, csrf: &str, subject: &str, groups: &[String]) -> R<i64> {
    let mut form = Form::new()
        .text("csrf", csrf.to_string())
        .text("objet", subject.to_string())
        .text("message", BODY);
    for g in groups {
        form = form.text("groupe", g.clone());
    }
    let r = c
        .http
        .post(format!("{}/messages", c.base))
        .multipart(form)
        .send()
        .await?;
    let status = r.status();
    let location = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let body = r.text().await?;
    match (status, location) {
        (StatusCode::SEE_OTHER, Some(l)) => l
            .strip_prefix("/messages/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| err(format!("POST /messages: redirected to {l}"))),
        _ => Err(err(format!(
            "POST /messages: {status}: {}",
            body.chars().take(400).collect::<String>()
        ))),
    }
}

/// Wall time and server CPU of each kind of request.
struct Recorder {
    pg: bool,
    wall: BTreeMap<&'static str, Vec<f64>>,
    cpu: BTreeMap<&'static str, Vec<f64>>,
    db: BTreeMap<&'static str, Vec<f64>>,
}

impl Recorder {
    async fn time<T>(&mut self, kind: &'static str, fut: impl Future<Output = R<T>>) -> R<T> {
        let c0 = cpu::mark(self.pg);
        let t = Instant::now();
        let value = fut.await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let spent = cpu::mark(self.pg).since(&c0);
        self.wall.entry(kind).or_default().push(ms);
        self.cpu.entry(kind).or_default().push(spent.server_ms);
        if let Some(db) = spent.db_ms {
            self.db.entry(kind).or_default().push(db);
        }
        Ok(value)
    }

    fn wall(&self, kind: &str) -> Summary {
        summarize(self.wall.get(kind).map_or(&[][..], |v| v))
    }
    fn cpu(&self, kind: &str) -> Summary {
        summarize(self.cpu.get(kind).map_or(&[][..], |v| v))
    }
    fn db(&self, kind: &str) -> Summary {
        summarize(self.db.get(kind).map_or(&[][..], |v| v))
    }
}

async fn http_phase(
    handle: &Handle,
    plan: &Arc<SchoolPlan>,
    db: &Db,
    url: Option<String>,
) -> R<Map<String, Value>> {
    let label = db.name();
    let pg = url.is_some();
    let probe = match &url {
        Some(u) => Some(AnyPoolOptions::new().max_connections(1).connect(u).await?),
        None => None,
    };
    let server = on_server(handle, move || start_server(url)).await?;
    let (seeded, seed_ms) = {
        let app = server.app.clone();
        let plan = plan.clone();
        on_server(handle, move || async move {
            let (seeded, ms) =
                seed_school(app.store.as_ref(), &plan, "Collège Simone Veil", "0759002B").await?;
            for who in [plan.teacher(0), plan.staff(0), plan.pupil(0)] {
                app.set_password_directly(seeded.login(who), PASSWORD)
                    .await
                    .map_err(|e| err(format!("password of {}: {e}", seeded.login(who))))?;
            }
            Ok((seeded, ms))
        })
        .await?
    };
    println!(
        "[{label}]   seeded {} people through app.store.apply_roster in {seed_ms:.0} ms; server on {}",
        plan.people(),
        server.addr
    );
    let school = seeded.school;
    let teacher = sign_in(server.addr, seeded.login(plan.teacher(0))).await?;
    let staff = sign_in(server.addr, seeded.login(plan.staff(0))).await?;
    let pupil = sign_in(server.addr, seeded.login(plan.pupil(0))).await?;
    let anonymous = browser(server.addr)?;
    let teacher_id = seeded.id(plan.teacher(0));
    let staff_id = seeded.id(plan.staff(0));
    let group_codes = |c: usize| {
        let id = seeded.classes[c];
        vec![format!("eleves:{id}"), format!("parents:{id}")]
    };
    let classes = plan.teacher_classes[0].clone();

    let mut rec = Recorder {
        pg,
        wall: BTreeMap::new(),
        cpu: BTreeMap::new(),
        db: BTreeMap::new(),
    };
    // Warm-up: connections, statement caches, one send of each kind.
    for _ in 0..5 {
        rec.time("warmup", get_page(&anonymous, "/healthz")).await?;
    }
    let page = rec
        .time("warmup", get_page(&teacher, "/messages/nouveau"))
        .await?;
    let csrf = extract_csrf(&page).ok_or_else(|| err("no csrf field on /messages/nouveau"))?;
    let mut pupil_threads = 0;
    let warm = rec
        .time(
            "warmup",
            post_message(&teacher, &csrf, "Échauffement", &group_codes(classes[0])),
        )
        .await?;
    pupil_threads += usize::from(plan.pupil_class[0] == classes[0]);
    let page = rec
        .time("warmup", get_page(&staff, "/messages/nouveau"))
        .await?;
    let csrf = extract_csrf(&page).ok_or_else(|| err("no csrf field on /messages/nouveau"))?;
    rec.time(
        "warmup",
        post_message(&staff, &csrf, "Échauffement", &["etablissement".into()]),
    )
    .await?;
    pupil_threads += 1;
    rec.time("warmup", get_page(&pupil, "/messages")).await?;
    rec.time("warmup", get_page(&teacher, &format!("/messages/{warm}")))
        .await?;

    // A teacher writes to a class and its parents: the compose page, the POST,
    // the conversation page the browser is sent to.
    let mut commits: BTreeMap<&'static str, (u64, bool)> = BTreeMap::new();
    let mut xmins: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut last_school_thread = 0;
    for n in 0..CLASS_SENDS + SCHOOL_SENDS {
        let school_send = n >= CLASS_SENDS;
        let (who, author, compose_kind, send_kind, follow_kind) = if school_send {
            (
                &staff,
                staff_id,
                "http_staff_compose",
                "http_school_send",
                "http_school_follow",
            )
        } else {
            (
                &teacher,
                teacher_id,
                "http_teacher_compose",
                "http_class_send",
                "http_class_follow",
            )
        };
        rec.time("healthz", get_page(&anonymous, "/healthz"))
            .await?;
        let page = rec
            .time(compose_kind, get_page(who, "/messages/nouveau"))
            .await?;
        let csrf = extract_csrf(&page).ok_or_else(|| err("no csrf field on /messages/nouveau"))?;
        let (groups, expected) = if school_send {
            (vec!["etablissement".to_string()], plan.people())
        } else {
            let c = classes[n % classes.len()];
            pupil_threads += usize::from(plan.pupil_class[0] == c);
            let (p, q) = plan.class_recipients(c);
            (group_codes(c), p + q + 1)
        };
        if school_send {
            pupil_threads += 1;
        }
        let before = server.wal.as_deref().map(wal::mark);
        let id = rec
            .time(
                send_kind,
                post_message(who, &csrf, &format!("{SUBJECT} ({n})"), &groups),
            )
            .await?;
        if let (Some(path), Some(before)) = (server.wal.as_deref(), before) {
            let c = wal::commits_between(before, wal::mark(path));
            let e = commits.entry(send_kind).or_insert((0, true));
            e.0 = e.0.max(c.count);
            e.1 &= c.exact;
        }
        if let Some(pool) = &probe {
            let (x, _) = TxProbe::Pg(pool.clone()).count(None, id).await?;
            let e = xmins.entry(send_kind).or_insert(0);
            *e = (*e).max(x);
        }
        {
            let store = server.store.clone();
            on_server(handle, move || async move {
                check_members(store.as_ref(), school, id, author, expected).await
            })
            .await?;
        }
        rec.time(follow_kind, get_page(who, &format!("/messages/{id}")))
            .await?;
        if school_send {
            last_school_thread = id;
        }
    }

    // A pupil comes back: inbox, home page, the whole-school message.
    for _ in 0..READS {
        rec.time("healthz", get_page(&anonymous, "/healthz"))
            .await?;
        rec.time("pupil_inbox", get_page(&pupil, "/messages"))
            .await?;
        rec.time("pupil_home", get_page(&pupil, "/")).await?;
        rec.time(
            "pupil_open_broadcast",
            get_page(&pupil, &format!("/messages/{last_school_thread}")),
        )
        .await?;
    }
    let pupil_id = seeded.id(plan.pupil(0));
    let found = {
        let store = server.store.clone();
        on_server(handle, move || async move {
            Ok(store.threads_of(school, pupil_id, None, 200).await?.len())
        })
        .await?
    };
    if found != pupil_threads {
        return Err(err(format!(
            "the pupil has {found} threads, expected {pupil_threads}"
        )));
    }
    if let Some(pool) = probe {
        pool.close().await;
    }
    let store = server.store.clone();
    drop(server);
    if pg {
        store.close().await;
    }

    let base = rec.wall("healthz");
    let base_cpu = rec.cpu("healthz");
    let mut out = Map::new();
    out.insert("http_seed_ms".into(), json!(r3(seed_ms)));
    out.insert("healthz_ms_median".into(), json!(r3(base.median)));
    out.insert("healthz_ms_p90".into(), json!(r3(base.p90)));
    out.insert(
        "healthz_server_cpu_ms_median".into(),
        json!(r3(base_cpu.median)),
    );
    println!(
        "[{label}]   GET /healthz (baseline, interleaved): {}; server CPU median {:.3} ms",
        fmt(&base),
        base_cpu.median
    );
    for (kind, what) in [
        ("http_teacher_compose", "teacher GET /messages/nouveau"),
        (
            "http_class_send",
            "teacher POST /messages to a class + its parents",
        ),
        ("http_class_follow", "teacher GET /messages/{id} after it"),
        ("http_staff_compose", "staff GET /messages/nouveau"),
        (
            "http_school_send",
            "staff POST /messages to the whole school",
        ),
        ("http_school_follow", "staff GET /messages/{id} after it"),
        ("pupil_inbox", "pupil GET /messages"),
        ("pupil_home", "pupil GET /"),
        (
            "pupil_open_broadcast",
            "pupil GET /messages/{whole-school id}",
        ),
    ] {
        let w = rec.wall(kind);
        let c = rec.cpu(kind);
        let d = rec.db(kind);
        let wr = ratio(w.median, base.median);
        let cr = ratio(c.median, base_cpu.median);
        println!(
            "[{label}]   {what}: {}; x{wr:.0} healthz; server CPU median {:.2} ms (x{cr:.0}){}",
            fmt(&w),
            c.median,
            if d.n > 0 {
                format!(", PostgreSQL CPU median {:.2} ms", d.median)
            } else {
                String::new()
            }
        );
        out.insert(format!("{kind}_ms_median"), json!(r3(w.median)));
        out.insert(format!("{kind}_ms_p90"), json!(r3(w.p90)));
        out.insert(format!("{kind}_ms_max"), json!(r3(w.max)));
        out.insert(format!("{kind}_ratio_to_healthz"), json!(r3(wr)));
        out.insert(format!("{kind}_server_cpu_ms_median"), json!(r3(c.median)));
        out.insert(format!("{kind}_cpu_ratio_to_healthz"), json!(r3(cr)));
        if d.n > 0 {
            out.insert(format!("{kind}_db_cpu_ms_median"), json!(r3(d.median)));
        }
    }
    for (kind, (count, exact)) in &commits {
        println!(
            "[{label}]   {kind}: SQLite commits per POST (the thread, plus the audit line): {}{count}",
            if *exact { "" } else { ">=" }
        );
        out.insert(format!("{kind}_commits"), json!(count));
    }
    for (kind, x) in &xmins {
        println!("[{label}]   {kind}: transactions that wrote the thread: {x}");
        out.insert(format!("{kind}_thread_transactions"), json!(x));
    }
    out.insert("pupil_threads".into(), json!(found));
    Ok(out)
}
