//! Configuration: file, then environment and flags, with defaults that work
//! on a fresh machine.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::Common;

/// What the configuration file may hold. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// Set when served over HTTPS (directly or behind a proxy).
    pub cookie_secure: Option<bool>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// 64 hex characters, shared by all nodes behind one balancer.
    pub secret_key: Option<String>,
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    /// Hashing threads (default: the number of cores) and queue length.
    pub hash_threads: Option<usize>,
    pub hash_queue: Option<usize>,
    pub db_max_connections: Option<u32>,
    /// Upload caps, in megabytes: one file, one form, a person's own space,
    /// a pupil's hand-ins in all.
    pub max_upload_mb: Option<u64>,
    pub max_form_mb: Option<u64>,
    pub personal_quota_mb: Option<u64>,
    pub handin_quota_mb: Option<u64>,
    /// The waiting room at the door (default true).
    pub admission: Option<bool>,
    /// Lets a Prometheus on another machine read /metrics with
    /// `Authorization: Bearer <token>` (the machine itself always may).
    pub metrics_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("fichier de configuration {path} illisible : {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("fichier de configuration {path} invalide : {message}")]
    Parse { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub cookie_secure: bool,
    pub trusted_proxies: Vec<IpAddr>,
    pub secret_key: Option<[u8; 32]>,
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub hash_threads: usize,
    pub hash_queue: usize,
    pub db_max_connections: u32,
    pub admission: bool,
    pub metrics_token: Option<String>,
    pub app: cartable_app::AppConfig,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// `default_data_dir` differs between `demo` (./cartable-demo) and the rest (./cartable-data).
    pub fn resolve(
        common: &Common,
        listen_flag: Option<&str>,
        default_data_dir: &str,
    ) -> Result<Config, ConfigError> {
        let file = match &common.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = common
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(default_data_dir));
        let database_url = common
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cartable.db").display()));
        let secret_key = match file.secret_key {
            Some(hex_key) => Some(parse_key(&hex_key)?),
            None => None,
        };
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Config {
            listen: listen_flag
                .map(str::to_string)
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            data_dir,
            database_url,
            cookie_secure: file.cookie_secure.unwrap_or(false),
            trusted_proxies: file.trusted_proxies.unwrap_or_default(),
            secret_key,
            header_read_timeout: Duration::from_secs(
                file.header_read_timeout_secs.unwrap_or(10).max(1),
            ),
            max_connections: file.max_connections.unwrap_or(20_000),
            max_connections_per_ip: file.max_connections_per_ip.unwrap_or(2_000),
            hash_threads: file.hash_threads.unwrap_or(cores).max(1),
            hash_queue: file.hash_queue.unwrap_or(64 * cores),
            db_max_connections: file.db_max_connections.unwrap_or(16),
            admission: file.admission.unwrap_or(true),
            metrics_token: file.metrics_token.filter(|t| !t.trim().is_empty()),
            app: {
                const MB: u64 = 1024 * 1024;
                let d = cartable_app::AppConfig::default();
                cartable_app::AppConfig {
                    max_file_bytes: file
                        .max_upload_mb
                        .map(|m| m.max(1) * MB)
                        .unwrap_or(d.max_file_bytes),
                    max_form_bytes: file
                        .max_form_mb
                        .map(|m| m.max(1) * MB)
                        .unwrap_or(d.max_form_bytes),
                    personal_quota_bytes: file
                        .personal_quota_mb
                        .map(|m| (m * MB) as i64)
                        .unwrap_or(d.personal_quota_bytes),
                    handin_quota_bytes: file
                        .handin_quota_mb
                        .map(|m| (m * MB) as i64)
                        .unwrap_or(d.handin_quota_bytes),
                    ..d
                }
            },
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn parse_key(hex_key: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| {
        ConfigError::Invalid("secret_key doit être écrit en hexadécimal (64 caractères)".into())
    })?;
    bytes.try_into().map_err(|_| {
        ConfigError::Invalid("secret_key doit faire 32 octets (64 caractères hexadécimaux)".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_without_anything() {
        let c = Config::resolve(&Common::default(), None, "./cartable-demo").unwrap();
        assert_eq!(c.listen, DEFAULT_LISTEN);
        assert_eq!(c.database_url, "sqlite://./cartable-demo/cartable.db");
        assert!(c.hash_threads >= 1);
    }

    #[test]
    fn flags_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cartable.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://x/y\"\ncookie_secure = true\n",
        )
        .unwrap();
        let common = Common {
            config: Some(path.clone()),
            ..Common::default()
        };
        let c = Config::resolve(&common, Some("127.0.0.1:7000"), "d").unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.database_url, "postgres://x/y");
        assert!(c.cookie_secure);
        std::fs::write(&path, "lsiten = 1\n").unwrap();
        let err = Config::resolve(&common, None, "d").unwrap_err().to_string();
        assert!(err.contains("invalide"), "{err}");
    }
}
