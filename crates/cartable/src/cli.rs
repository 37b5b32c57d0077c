//! The command line. Every option can also come from the environment
//! (`CARTABLE_…`) or the configuration file; flags win, then the environment,
//! then the file, then the defaults.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cartable",
    version,
    about = "Cartable : espace numérique de travail pour les écoles"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "CARTABLE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory: holds the SQLite database and the server key.
    #[arg(long, global = true, env = "CARTABLE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL instead of the data directory's SQLite file (postgres://… or sqlite://…).
    #[arg(long, global = true, env = "CARTABLE_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Seeds a demo school (once), prints its logins, and serves.
    Demo(ServeArgs),
    /// Serves Cartable.
    Serve(ServeArgs),
    /// Applies the database migrations and exits.
    Migrate,
    /// Imports a roster file (CSV) into a school: shows the report, writes only with --apply.
    Import(ImportArgs),
    /// Account administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Generates a synthetic district for the rentrée drill (into an empty database).
    Seed(SeedArgs),
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Pupils in the district (schools are drawn until they are all placed).
    #[arg(long)]
    pub pupils: u32,
    /// Directory for accounts.csv and district.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Share of pupils given a "rester connecté" session (0 to 1).
    #[arg(long, default_value_t = 0.8)]
    pub sessions_share: f64,
    /// Seed of the generator: the same seed gives the same district.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seed even if the database already has schools.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "CARTABLE_LISTEN")]
    pub listen: Option<String>,
    /// The waiting room at the door: on (default) or off (only to measure
    /// what it prevents).
    #[arg(long, env = "CARTABLE_ADMISSION", value_parser = ["on", "off"])]
    pub admission: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The school's UAI code.
    #[arg(long)]
    pub school: String,
    /// eleves, responsables, enseignants or personnels (detected when omitted).
    #[arg(long)]
    pub kind: Option<String>,
    /// Write the changes (without it, only the report is printed).
    #[arg(long)]
    pub apply: bool,
    /// The CSV file.
    pub file: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Creates a school.
    CreateSchool {
        #[arg(long)]
        name: String,
        /// National school code (UAI), e.g. 0750001A.
        #[arg(long)]
        uai: String,
    },
    /// Creates a school administrator and prints their activation code.
    CreateAdmin {
        #[arg(long)]
        school: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
    },
    /// Creates an operator (runs the platform, sees no personal data) and prints the activation code.
    CreateOperator {
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
    },
    /// Resets a password: the old one stops working, a new activation code is printed.
    ResetPassword { login: String },
    /// Removes stored files no row points to (left by a crash during an upload).
    SweepBlobs {
        /// Only says what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Files written less than this many hours ago are left alone (uploads
        /// in progress). 0 only while the server is stopped.
        #[arg(long, default_value_t = 1)]
        min_age_hours: u64,
    },
}
