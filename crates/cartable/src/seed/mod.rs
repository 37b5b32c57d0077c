//! `cartable seed`: a synthetic district for the rentrée drill. Schools of
//! realistic sizes, classes, pupils with their parents, teachers, a week of
//! homework per class, and "rester connecté" sessions for most pupils, all
//! written as the application writes them, then listed in `accounts.csv`
//! for the drill client to replay a school morning.
//!
//! Fast on purpose: one Argon2 hash for the whole district (every account
//! gets the same drill password), and one bulk transaction per school for
//! its people and one for its sessions.

mod homework;
mod names;
mod plan;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use cartable_app::blobs::BlobError;
use cartable_app::tokens::{hash_token, new_session_token};
use cartable_app::{App, AppError};
use cartable_domain::calendar::civil_from_days;
use cartable_domain::Role;
use cartable_store::sql::SqlStore;
use cartable_store::{BulkRepo, SessionRow, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::say::say;

use homework::{write_class_homework, ClassWork};
use plan::{plan_school, school_sizes, Logins};

/// The password of every synthetic account. Drill data only.
pub const DRILL_PASSWORD: &str = "rentree-exercice-2026";

/// Classes whose homework is written at the same time.
const HOMEWORK_CONCURRENCY: usize = 4;

/// The header of `accounts.csv`; the drill client reads exactly this.
pub const ACCOUNTS_HEADER: &str = "role,school_id,class_id,login,password,session_token";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("base de données : {0}")]
    Store(#[from] StoreError),
    #[error("{}", .0.message_fr())]
    App(#[from] AppError),
    #[error("fichier joint : {}", .0.message_fr())]
    Blob(#[from] BlobError),
    #[error("écriture de {path} impossible : {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::say::io_error_fr(.0))]
    Output(#[from] std::io::Error),
    #[error("{0}")]
    Refused(String),
    #[error("écriture des devoirs interrompue : {0}")]
    Interrupted(String),
}

/// What `cartable seed` was asked for.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub pupils: u32,
    pub out: PathBuf,
    pub sessions_share: f64,
    pub seed: u64,
    pub force: bool,
}

/// Seconds spent per phase, to see where the time goes.
#[derive(Debug, Default, Clone, serde::Serialize)]
struct Timing {
    people: f64,
    sessions: f64,
    homework: f64,
}

/// Totals, for the summary and `district.json`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Counts {
    pub schools: usize,
    pub classes: usize,
    pub groups: usize,
    pub pupils: usize,
    pub parents: usize,
    pub teachers: usize,
    pub staff: usize,
    pub admins: usize,
    pub sessions: usize,
    pub lessons: usize,
    pub attachments: usize,
    pub assignments: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
struct SchoolOut {
    id: i64,
    uai: String,
    name: String,
    kind: &'static str,
    pupils: usize,
    classes: usize,
    teachers: usize,
}

/// The role as `accounts.csv` spells it.
fn csv_role(role: Role) -> &'static str {
    match role {
        Role::Pupil => "eleve",
        Role::Parent => "parent",
        Role::Teacher => "enseignant",
        Role::Staff => "personnel",
        Role::SchoolAdmin | Role::Operator => "admin",
    }
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> SeedError + '_ {
    move |source| SeedError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// A file only its owner reads: it holds a password and session tokens.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Seeds the district, writes `accounts.csv` and `district.json` in
/// `opts.out`, and prints a summary.
pub async fn run(
    app: &App,
    store: &SqlStore,
    database: &str,
    opts: &SeedOptions,
) -> Result<(), SeedError> {
    let started = Instant::now();
    if opts.pupils == 0 {
        return Err(SeedError::Refused(
            "--pupils doit valoir au moins 1.".into(),
        ));
    }
    if !(0.0..=1.0).contains(&opts.sessions_share) {
        return Err(SeedError::Refused(
            "--sessions-share est une part entre 0 et 1 (par exemple 0.8).".into(),
        ));
    }
    let existing = app.store.schools_with_counts().await?;
    if !existing.is_empty() && !opts.force {
        return Err(SeedError::Refused(format!(
            "la base {database} contient déjà {} établissement(s) : « cartable seed » n'écrit un \
             district fictif que dans une base vide, pour ne jamais toucher une base réelle. \
             Ajoutez --force si c'est bien voulu.",
            existing.len()
        )));
    }
    let mut taken_uai: std::collections::HashSet<String> =
        existing.into_iter().map(|s| s.school.uai).collect();

    std::fs::create_dir_all(&opts.out).map_err(write_err(&opts.out))?;
    let csv_path = opts.out.join("accounts.csv");
    let mut csv = BufWriter::new(create_private(&csv_path).map_err(write_err(&csv_path))?);
    writeln!(csv, "{ACCOUNTS_HEADER}").map_err(write_err(&csv_path))?;

    // One hash at the production cost, shared by every account.
    let password_hash = app.hasher.hash(DRILL_PASSWORD.to_string()).await?;
    let mut logins = Logins::new(store.existing_logins().await?);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut session_rng = StdRng::seed_from_u64(opts.seed ^ 0x5e55_1075);
    let sizes = school_sizes(&mut rng, opts.pupils);
    let today = app.school_today();
    let (year, month, _) = civil_from_days(today.0);
    let rentree_year = if month >= 9 { year } else { year - 1 };

    let mut counts = Counts::default();
    let mut timing = Timing::default();
    let mut schools_out = Vec::new();
    let mut next_uai = 9_100_000u32;
    for (n, size) in sizes.iter().enumerate() {
        let plan = plan_school(
            &mut rng,
            &mut logins,
            size,
            rentree_year,
            Some(password_hash.clone()),
        );
        let uai = loop {
            let candidate = format!("{next_uai:07}S");
            next_uai += 1;
            if taken_uai.insert(candidate.clone()) {
                break candidate;
            }
        };
        let school = app.create_school(&plan.name, &uai).await?;
        let now = app.now();
        let phase = Instant::now();
        let created = store
            .bulk_create_people(school.id, &plan.batch, now)
            .await?;
        timing.people += phase.elapsed().as_secs_f64();

        // "Rester connecté" sessions, as a login with the box ticked opens them.
        let mut tokens = vec![None; plan.batch.people.len()];
        let mut sessions = Vec::new();
        for (i, p) in plan.batch.people.iter().enumerate() {
            if p.role == Role::Pupil && session_rng.gen_bool(opts.sessions_share) {
                let token = new_session_token();
                sessions.push(SessionRow {
                    token_hash: hash_token(&token),
                    user_id: created.people[i],
                    school_id: Some(school.id),
                    persistent: true,
                    created_at: now,
                    last_seen_at: now,
                    expires_at: now + app.config.persistent_session_secs,
                    user_agent: None,
                    ip: None,
                });
                tokens[i] = Some(token);
            }
        }
        let phase = Instant::now();
        store.insert_sessions(&sessions).await?;
        timing.sessions += phase.elapsed().as_secs_f64();
        counts.sessions += sessions.len();

        let phase = Instant::now();

        // A few classes at a time: one class's blob fsyncs overlap another's
        // commit (on PostgreSQL the commits themselves overlap too).
        let mut tasks = tokio::task::JoinSet::new();
        let permits = Arc::new(tokio::sync::Semaphore::new(HOMEWORK_CONCURRENCY));
        for (c, taught) in plan.class_subjects.iter().enumerate() {
            let work = ClassWork {
                school: school.id,
                class: created.classes[c],
                class_name: plan.batch.classes[c].as_str().to_string(),
                subjects: taught
                    .iter()
                    .map(|(s, t)| (s.clone(), created.people[*t]))
                    .collect(),
            };
            let mut class_rng = StdRng::seed_from_u64(rng.gen());
            let (app, permits) = (app.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                write_class_homework(&app, &mut class_rng, today, &work).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            let written = done.map_err(|e| SeedError::Interrupted(e.to_string()))??;
            counts.lessons += written.lessons;
            counts.attachments += written.attachments;
            counts.assignments += written.assignments;
        }
        timing.homework += phase.elapsed().as_secs_f64();

        for (i, p) in plan.batch.people.iter().enumerate() {
            let class = p
                .class
                .map(|c| created.classes[c].0.to_string())
                .unwrap_or_default();
            writeln!(
                csv,
                "{},{},{},{},{},{}",
                csv_role(p.role),
                school.id.0,
                class,
                p.login,
                DRILL_PASSWORD,
                tokens[i].as_deref().unwrap_or("")
            )
            .map_err(write_err(&csv_path))?;
            match p.role {
                Role::Pupil => counts.pupils += 1,
                Role::Parent => counts.parents += 1,
                Role::Teacher => counts.teachers += 1,
                Role::Staff => counts.staff += 1,
                Role::SchoolAdmin | Role::Operator => counts.admins += 1,
            }
        }
        counts.schools += 1;
        counts.classes += plan.batch.classes.len();
        counts.groups += plan.batch.groups.len();
        schools_out.push(SchoolOut {
            id: school.id.0,
            uai: school.uai.clone(),
            name: school.name.clone(),
            kind: size.kind.code(),
            pupils: size.pupils as usize,
            classes: plan.batch.classes.len(),
            teachers: plan
                .batch
                .people
                .iter()
                .filter(|p| p.role == Role::Teacher)
                .count(),
        });
        eprintln!(
            "établissement {}/{} : {} ({} élèves) — {:.1} s",
            n + 1,
            sizes.len(),
            school.name,
            size.pupils,
            started.elapsed().as_secs_f64()
        );
    }
    csv.flush().map_err(write_err(&csv_path))?;
    csv.get_ref().sync_all().map_err(write_err(&csv_path))?;

    let seconds = started.elapsed().as_secs_f64();
    let json_path = opts.out.join("district.json");
    let summary = serde_json::json!({
        "seed": opts.seed,
        "requested_pupils": opts.pupils,
        "sessions_share": opts.sessions_share,
        "password": DRILL_PASSWORD,
        "database": database,
        "today": today.iso(),
        "seconds": (seconds * 10.0).round() / 10.0,
        "counts": counts,
        "timing_seconds": timing,
        "schools": schools_out,
    });
    let mut json = create_private(&json_path).map_err(write_err(&json_path))?;
    json.write_all(
        serde_json::to_string_pretty(&summary)
            .unwrap_or_default()
            .as_bytes(),
    )
    .and_then(|()| json.write_all(b"\n"))
    .map_err(write_err(&json_path))?;

    let kinds = |k: &str| schools_out.iter().filter(|s| s.kind == k).count();
    say!(
        "District fictif créé en {seconds:.1} s : {} établissements ({} écoles, {} collèges, {} lycées), \
         {} classes, {} élèves, {} parents, {} enseignants, {} personnels, {} administrateurs.",
        counts.schools,
        kinds("ecole"),
        kinds("college"),
        kinds("lycee"),
        counts.classes,
        counts.pupils,
        counts.parents,
        counts.teachers,
        counts.staff,
        counts.admins
    )?;
    say!(
        "{} sessions « rester connecté », {} séances au cahier de textes, {} pièces jointes, {} devoirs à rendre.",
        counts.sessions, counts.lessons, counts.attachments, counts.assignments
    )?;
    say!(
        "Temps : comptes {:.1} s, sessions {:.1} s, cahier de textes et devoirs {:.1} s.",
        timing.people,
        timing.sessions,
        timing.homework
    )?;
    say!("Mot de passe de tous les comptes : {DRILL_PASSWORD}")?;
    say!("Comptes : {}", csv_path.display())?;
    say!("Résumé : {}", json_path.display())?;
    Ok(())
}
