//! What each command does.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::say::say;

use cartable_app::blobs::{human_size, FsBlobStore};
use cartable_app::clock::SystemClock;
use cartable_app::demo::{ensure_demo_school, DEMO_PASSWORD};
use cartable_app::hashing::{HashCost, HashPool};
use cartable_app::{App, AppError};
use cartable_domain::roster::{LineOutcome, RosterKind};
use cartable_domain::Role;
use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::StoreError;
use cartable_web::server::{serve, ServerConfig, ServerStats};
use cartable_web::{router, AppState, WebConfig};
use tokio::net::TcpListener;

use crate::cli::{AdminCommand, Cli, Command, ImportArgs};
use crate::config::{Config, ConfigError};
use crate::seed::{SeedError, SeedOptions};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("base de données : {0}")]
    Store(#[from] StoreError),
    #[error("{}", .0.message_fr())]
    App(#[from] AppError),
    #[error("{}", crate::say::io_error_fr(.0))]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Seed(#[from] SeedError),
}

pub async fn run(cli: Cli) -> Result<(), RunError> {
    match cli.command {
        Command::Demo(args) => {
            let config = Config::resolve(&cli.common, args.listen.as_deref(), "./cartable-demo")?;
            let app = open_app(&config).await?;
            let (school, logins) = ensure_demo_school(&app).await?;
            let listener = bind(&config.listen).await?;
            let addr = listener.local_addr()?;
            let welcome = || -> std::io::Result<()> {
                let mut out = std::io::stdout().lock();
                writeln!(out, "Cartable (démo) : {} — http://{addr}", school.name)?;
                writeln!(
                    out,
                    "Comptes de démonstration (rôle identifiant mot de passe) :"
                )?;
                for l in &logins {
                    writeln!(out, "{} {} {}", l.role.code(), l.login, DEMO_PASSWORD)?;
                }
                writeln!(out, "Cartable écoute sur http://{addr}")?;
                out.flush()
            };
            // A server keeps serving when its stdout is gone.
            let _ = welcome();
            serve_app(app, &config, listener).await
        }
        Command::Serve(args) => {
            let mut config =
                Config::resolve(&cli.common, args.listen.as_deref(), "./cartable-data")?;
            if let Some(a) = &args.admission {
                config.admission = a == "on";
            }
            let app = open_app(&config).await?;
            let listener = bind(&config.listen).await?;
            let _ = say!("Cartable écoute sur http://{}", listener.local_addr()?);
            serve_app(app, &config, listener).await
        }
        Command::Migrate => {
            let config = Config::resolve(&cli.common, None, "./cartable-data")?;
            open_store(&config).await?;
            say!("Migrations appliquées : {}", redact(&config.database_url))?;
            Ok(())
        }
        Command::Import(args) => {
            let config = Config::resolve(&cli.common, None, "./cartable-data")?;
            let app = open_app(&config).await?;
            import(&app, args).await
        }
        Command::Admin(cmd) => {
            let config = Config::resolve(&cli.common, None, "./cartable-data")?;
            let app = open_app(&config).await?;
            admin(&app, cmd).await
        }
        Command::Seed(args) => {
            let config = Config::resolve(&cli.common, None, "./cartable-data")?;
            let store = Arc::new(open_store(&config).await?);
            let app = app_on(store.clone(), &config)?;
            let options = SeedOptions {
                pupils: args.pupils,
                out: args.out,
                sessions_share: args.sessions_share,
                seed: args.seed,
                force: args.force,
            };
            let seeded =
                crate::seed::run(&app, &store, &redact(&config.database_url), &options).await;
            // Closing checkpoints SQLite's WAL into the database file.
            store.close().await;
            Ok(seeded?)
        }
    }
}

async fn bind(listen: &str) -> Result<TcpListener, RunError> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| RunError::Usage(format!("impossible d'écouter sur {listen} : {e}")))
}

async fn open_store(config: &Config) -> Result<SqlStore, RunError> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let settings = PoolSettings {
        max_connections: config.db_max_connections,
        ..PoolSettings::default()
    };
    Ok(SqlStore::connect(&config.database_url, &settings).await?)
}

async fn open_app(config: &Config) -> Result<App, RunError> {
    let store = open_store(config).await?;
    app_on(Arc::new(store), config)
}

/// The application over an open store (kept by `seed` for its bulk writes).
fn app_on(store: Arc<SqlStore>, config: &Config) -> Result<App, RunError> {
    let hasher = HashPool::new(config.hash_threads, config.hash_queue, HashCost::default());
    let blobs = FsBlobStore::new(config.data_dir.join("files"))?;
    Ok(App::new(
        store,
        hasher,
        Arc::new(blobs),
        Arc::new(SystemClock),
        config.app.clone(),
    ))
}

/// The CSRF key: from the configuration, else kept in the data directory so
/// that open forms survive a restart.
fn secret_key(config: &Config) -> Result<[u8; 32], RunError> {
    if let Some(k) = config.secret_key {
        return Ok(k);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let path = config.data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read(&path) {
        if let Ok(k) = <[u8; 32]>::try_from(existing.as_slice()) {
            return Ok(k);
        }
    }
    let key: [u8; 32] = rand::random();
    write_private(&path, &key)?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The first sweep of orphan files, once the server has settled.
const SWEEP_FIRST_AFTER: Duration = Duration::from_secs(30);

async fn serve_app(app: App, config: &Config, listener: TcpListener) -> Result<(), RunError> {
    let web = WebConfig {
        cookie_secure: config.cookie_secure,
        trusted_proxies: config.trusted_proxies.clone(),
        secret_key: secret_key(config)?,
        admission: config.admission,
        metrics_token: config.metrics_token.clone(),
        admission_rate: None,
        rate_limits: true,
    };
    let server = ServerConfig {
        header_read_timeout: config.header_read_timeout,
        max_connections: config.max_connections,
        max_connections_per_ip: config.max_connections_per_ip,
        ..ServerConfig::default()
    };
    // In the background: readiness does not wait for a walk of the files.
    let sweeper = tokio::spawn(app.clone().sweep_blobs_periodically(
        SWEEP_FIRST_AFTER,
        cartable_app::sweep::SWEEP_EVERY,
        cartable_app::sweep::DEFAULT_MIN_AGE,
    ));
    // Session slides are written behind the pages, in batches.
    let touch_writer = tokio::spawn(
        app.clone()
            .write_session_touches_periodically(cartable_app::session_touches::FLUSH_EVERY),
    );
    let routes = router(AppState::new(app.clone(), web));
    let served = serve(
        listener,
        routes,
        server,
        Arc::new(ServerStats::default()),
        shutdown_signal(),
    )
    .await;
    sweeper.abort();
    touch_writer.abort();
    // The last second's slides: written before the process ends.
    if let Err(e) = app.flush_session_touches().await {
        tracing::warn!(error = %e, "session slides not written at shutdown");
    }
    served?;
    let _ = say!("Cartable arrêté.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

async fn import(app: &App, args: ImportArgs) -> Result<(), RunError> {
    let school = app
        .store
        .school_by_uai(&args.school.trim().to_ascii_uppercase())
        .await?
        .ok_or_else(|| {
            RunError::Usage(format!(
                "aucun établissement avec le code UAI {}",
                args.school
            ))
        })?;
    let kind = match args.kind.as_deref() {
        None => None,
        Some(k) => Some(RosterKind::from_code(k).ok_or_else(|| {
            RunError::Usage(format!(
                "type inconnu « {k} » : eleves, responsables, enseignants ou personnels"
            ))
        })?),
    };
    let bytes = std::fs::read(&args.file).map_err(|e| {
        RunError::Usage(format!(
            "lecture de {} impossible : {e}",
            args.file.display()
        ))
    })?;
    let plan = app.plan_roster(school.id, &bytes, kind).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} — fichier lu comme : {}",
        school.name,
        plan.kind.label_fr()
    )?;
    for line in &plan.lines {
        let (status, detail) = match &line.outcome {
            LineOutcome::Create => ("création", String::new()),
            LineOutcome::Update(c) => ("mise à jour", c.join(" ; ")),
            LineOutcome::Unchanged => ("inchangé", String::new()),
            LineOutcome::Duplicate { first_line } => {
                ("doublon", format!("déjà en ligne {first_line}"))
            }
            LineOutcome::Rejected(why) => ("REJETÉE", why.clone()),
        };
        writeln!(
            out,
            "ligne {:>5}  {:<12} {:<30} {}",
            line.line, status, line.who, detail
        )?;
    }
    let count = |f: fn(&LineOutcome) -> bool| plan.count(f);
    writeln!(
        out,
        "créations={} mises_a_jour={} inchangees={} rejetees={}",
        count(|o| matches!(o, LineOutcome::Create)),
        count(|o| matches!(o, LineOutcome::Update(_))),
        count(|o| matches!(o, LineOutcome::Unchanged | LineOutcome::Duplicate { .. })),
        count(|o| matches!(o, LineOutcome::Rejected(_))),
    )?;
    if !args.apply {
        writeln!(
            out,
            "Aperçu seulement : rien n'a été écrit. Relancez avec --apply pour appliquer."
        )?;
        return Ok(());
    }
    drop(out);
    let applied = app
        .apply_roster_plan(
            school.id,
            &plan,
            None,
            &cartable_app::auth::ClientInfo::default(),
        )
        .await?;
    say!(
        "Appliqué : {} compte(s) créé(s), {} mis à jour, {} classe(s) créée(s).",
        applied.created.len(),
        applied.updated,
        applied.classes_created
    )?;
    Ok(())
}

async fn admin(app: &App, cmd: AdminCommand) -> Result<(), RunError> {
    match cmd {
        AdminCommand::CreateSchool { name, uai } => {
            let school = app.create_school(&name, &uai).await?;
            say!("Établissement créé : {} ({})", school.name, school.uai)?;
        }
        AdminCommand::CreateAdmin {
            school,
            first_name,
            last_name,
        } => {
            let school = app
                .store
                .school_by_uai(&school.trim().to_ascii_uppercase())
                .await?
                .ok_or_else(|| {
                    RunError::Usage(format!("aucun établissement avec le code UAI {school}"))
                })?;
            let issued = app
                .create_account(
                    Some(school.id),
                    Role::SchoolAdmin,
                    &first_name,
                    &last_name,
                    None,
                )
                .await?;
            print_code(&issued)?;
        }
        AdminCommand::CreateOperator {
            first_name,
            last_name,
        } => {
            let issued = app
                .create_account(None, Role::Operator, &first_name, &last_name, None)
                .await?;
            print_code(&issued)?;
        }
        AdminCommand::ResetPassword { login } => {
            let issued = app
                .reset_by_login(login.trim())
                .await
                .map_err(|e| match e {
                    AppError::NotFound => {
                        RunError::Usage(format!("aucun compte avec l'identifiant {login}"))
                    }
                    other => other.into(),
                })?;
            print_code(&issued)?;
        }
        AdminCommand::SweepBlobs {
            dry_run,
            min_age_hours,
        } => sweep_blobs(app, dry_run, min_age_hours).await?,
    }
    Ok(())
}

async fn sweep_blobs(app: &App, dry_run: bool, min_age_hours: u64) -> Result<(), RunError> {
    let min_age = Duration::from_secs(min_age_hours.saturating_mul(3600));
    let r = if dry_run {
        app.find_orphan_blobs(min_age).await?
    } else {
        app.sweep_orphan_blobs(min_age).await?
    };
    say!(
        "Fichiers examinés : {} (dont {} écrit(s) il y a moins de {min_age_hours} h, laissés de côté).",
        r.scanned, r.too_recent
    )?;
    say!(
        "Trouvés : {} fichier(s) qu'aucune donnée ne référence, {} envoi(s) inachevé(s) ; {} au total.",
        r.orphans,
        r.temp_files,
        human_size(r.bytes)
    )?;
    if dry_run {
        say!("Simulation : rien n'a été supprimé. Relancez sans --dry-run pour supprimer.")?;
    } else {
        say!(
            "Supprimés : {} fichier(s) orphelin(s), {} envoi(s) inachevé(s) ; {} libérés.",
            r.orphans_removed,
            r.temp_removed,
            human_size(r.bytes_freed)
        )?;
    }
    say!(
        "examines={} orphelins={} inacheves={} supprimes={} octets_liberes={} echecs={}",
        r.scanned,
        r.orphans,
        r.temp_files,
        r.removed(),
        r.bytes_freed,
        r.failures
    )?;
    if r.failures > 0 {
        return Err(RunError::Usage(format!(
            "{} fichier(s) n'ont pas pu être supprimés (voir le journal) : relancez plus tard.",
            r.failures
        )));
    }
    Ok(())
}

fn print_code(issued: &cartable_app::accounts::IssuedCode) -> std::io::Result<()> {
    say!("identifiant {}", issued.user.login)?;
    say!("code {}", issued.code)?;
    say!("À saisir sur la page /activation pour choisir le mot de passe.")
}

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
