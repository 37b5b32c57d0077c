//! Stored files (message attachments now, homework hand-ins later) as a port,
//! [`BlobStore`], and its local-filesystem implementation, [`FsBlobStore`].
//!
//! A file is streamed in chunk by chunk ([`BlobWriter::write`]): it is counted
//! and capped, hashed (SHA-256) and written to `<root>/tmp/<random>.part`, and
//! its type is sniffed from its first bytes and checked against an allow-list
//! ([`ALLOWED_TYPES`]); the client's file name and declared type are never
//! believed. [`BlobWriter::finish`] makes it durable before answering: fsync the
//! file, rename it to `<root>/<key>` (directories created and their parents
//! fsynced), fsync the target directory. A writer that is aborted, fails or is
//! dropped unfinished removes its temp file: nothing half-written is kept.
//!
//! Keys (`ab/cd/<32 hex>`) are random and chosen here, never by the client;
//! [`BlobStore::open`] and [`BlobStore::delete`] refuse any other shape before
//! touching the filesystem.
//!
//! [`BlobStore::list`] and [`BlobStore::partial_uploads`] tell what is stored
//! (key, size, age; never the content), page by page in key order as an
//! object store lists, for the sweep of files no row points to (`sweep.rs`).

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How many first bytes are kept to sniff the type (enough for `infer` to tell
/// OOXML documents from plain zips).
pub const SNIFF_LEN: usize = 16 * 1024;
/// How many first bytes must be text for a file to be taken as text.
const TEXT_SNIFF_LEN: usize = 4 * 1024;
/// Temp files older than this are left-overs of a crash, removed at start-up.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(6 * 3600);

/// The plain-text types given when no magic number matches.
pub const TEXT_UTF8: &str = "text/plain; charset=utf-8";
pub const TEXT_LEGACY: &str = "text/plain; charset=windows-1252";

/// Types a stored file may have, as sniffed (never as declared by the client).
pub const ALLOWED_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    // OpenDocument
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    // Office Open XML
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    // An OOXML file whose parts are in an unusual order is only seen as a zip.
    "application/zip",
    // Legacy Office (OLE2 compound files, told apart by their root CLSID).
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    // Rich text (WordPad, TextEdit).
    "application/rtf",
    // Plain text.
    TEXT_UTF8,
    TEXT_LEGACY,
    // Recordings handed in by pupils: phones and browsers (MediaRecorder).
    "audio/mpeg",
    "audio/m4a",
    "audio/ogg",
    "audio/opus",
    "video/mp4",
    "video/webm",
    "video/quicktime",
];

/// Whether a sniffed type may be stored.
pub fn is_allowed(content_type: &str) -> bool {
    ALLOWED_TYPES.contains(&content_type)
}

/// Facts about a stored file, computed while it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// Server-chosen, `ab/cd/<32 hex random>`.
    pub key: String,
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Sniffed from the content, one of [`ALLOWED_TYPES`].
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("file larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("empty file")]
    Empty,
    #[error("file type not allowed: {detected}")]
    TypeNotAllowed { detected: String },
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    #[error("storage i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("file not found")]
    NotFound,
}

impl BlobError {
    /// Stable code for programs (`X-Cartable-Error`).
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::TooLarge { .. } => "upload.too_large",
            BlobError::Empty => "upload.empty",
            BlobError::TypeNotAllowed { .. } => "upload.type",
            BlobError::Interrupted(_) => "upload.interrupted",
            BlobError::Io(_) => "upload.io",
            BlobError::NotFound => "upload.not_found",
        }
    }

    /// What a person reads.
    pub fn message_fr(&self) -> String {
        match self {
            BlobError::TooLarge { limit } => {
                format!("Le fichier dépasse {}.", human_size(*limit))
            }
            BlobError::Empty => "Le fichier est vide.".into(),
            BlobError::TypeNotAllowed { detected } => format!(
                "Ce type de fichier n'est pas accepté ({}). Formats acceptés : PDF, images, documents bureautiques, texte, enregistrements audio ou vidéo.",
                type_label_fr(detected)
            ),
            BlobError::Interrupted(_) => {
                "L'envoi a été interrompu : rien n'a été enregistré, recommencez.".into()
            }
            BlobError::Io(_) => "Le fichier n'a pas pu être enregistré (problème du serveur) : rien n'a été enregistré, réessayez dans quelques instants.".into(),
            BlobError::NotFound => "Ce fichier n'existe pas ou n'est plus disponible.".into(),
        }
    }
}

/// "10 Mo", "1,5 Mo", "500 Ko".
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        match tenths % 10 {
            0 => format!("{} Mo", tenths / 10),
            decimal => format!("{},{decimal} Mo", tenths / 10),
        }
    } else if bytes >= KB {
        format!("{} Ko", (bytes + KB / 2) / KB)
    } else {
        format!("{bytes} octets")
    }
}

/// A refused type, in words a teacher or a parent understands.
fn type_label_fr(detected: &str) -> String {
    let label = match detected {
        "text/html" => "page web",
        "image/svg+xml" => "image SVG",
        "text/xml" => "fichier XML",
        "text/x-shellscript" => "script",
        "application/octet-stream" => "type inconnu",
        "application/x-ole-storage" => "fichier Windows non reconnu",
        "application/x-executable"
        | "application/vnd.microsoft.portable-executable"
        | "application/x-mach-binary"
        | "application/java"
        | "application/wasm"
        | "application/vnd.android.dex" => "programme",
        t if t.starts_with("image/") => return format!("image {}", &t[6..]),
        t if t.starts_with("audio/") || t.starts_with("video/") => {
            return format!("format {} non accepté", &t[6..])
        }
        other => return other.to_string(),
    };
    label.to_string()
}

/// A file being written: chunks go in, `finish` makes it durable.
#[async_trait::async_trait]
pub trait BlobWriter: Send {
    /// Appends a chunk. `TooLarge` and `TypeNotAllowed` are answered as soon
    /// as they are known; the temp file is then already removed.
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError>;
    /// Makes the file durable and gives its facts; only then may it be
    /// acknowledged. On error nothing is kept.
    async fn finish(self: Box<Self>) -> Result<BlobMeta, BlobError>;
    /// Gives up: nothing is kept.
    async fn abort(self: Box<Self>);
}

/// A stored file as a listing sees it, without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub key: String,
    pub size: u64,
    /// Last written, Unix seconds.
    pub modified: i64,
}

/// One page of [`BlobStore::list`]; `next` is the `after` of the next page,
/// `None` when the listing is complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobPage {
    pub blobs: Vec<StoredBlob>,
    pub next: Option<String>,
}

/// An upload that never finished (the process died while writing it): a temp
/// file here, an incomplete multipart upload on an object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialUpload {
    /// The store's name for it, for [`BlobStore::remove_partial_upload`].
    pub id: String,
    pub size: u64,
    /// Last written, Unix seconds.
    pub modified: i64,
}

#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts a new file capped at `max_bytes`.
    async fn create(&self, max_bytes: u64) -> Result<Box<dyn BlobWriter>, BlobError>;
    /// The file and its size, for a streaming download.
    async fn open(&self, key: &str) -> Result<(tokio::fs::File, u64), BlobError>;
    /// Removes a file; `NotFound` when there is none.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Stored files with keys after `after` (all with `None`), in key order,
    /// at most `limit` of them. Files whose name is not a key are not listed.
    async fn list(&self, after: Option<&str>, limit: usize) -> Result<BlobPage, BlobError>;
    /// Uploads being written or left unfinished by a crash: which is which
    /// only their age tells.
    async fn partial_uploads(&self) -> Result<Vec<PartialUpload>, BlobError>;
    /// Removes an unfinished upload; `NotFound` when there is none.
    async fn remove_partial_upload(&self, id: &str) -> Result<(), BlobError>;
    /// The whole file in memory (attachments are capped).
    async fn read(&self, key: &str) -> Result<bytes::Bytes, BlobError> {
        let (mut file, len) = self.open(key).await?;
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(64 << 20));
        file.read_to_end(&mut buf).await?;
        Ok(bytes::Bytes::from(buf))
    }
}

/// Whether `key` has the shape of a key this store hands out:
/// `ab/cd/abcd` followed by 28 more lowercase hex digits.
pub fn is_valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    let hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    b.len() == 38
        && b[2] == b'/'
        && b[5] == b'/'
        && hex(&b[0..2])
        && hex(&b[3..5])
        && hex(&b[6..])
        && b[0..2] == b[6..8]
        && b[3..5] == b[8..10]
}

/// Whether `name` is a temp file name this store makes (`<hex>.part`), so that
/// removing it by name cannot reach outside `tmp/`.
fn is_partial_name(name: &str) -> bool {
    name.strip_suffix(".part")
        .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// A file's modification time in Unix seconds (0 if unknown or before 1970).
fn modified_secs(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The two-hex-digit directory names under `dir`, sorted.
fn sorted_fanout_dirs(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let hex = name.len() == 2 && name.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if hex && entry.file_type()?.is_dir() {
            names.push(name);
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// A page of keys under `root` in key order: walks only the fan-out
/// directories at or after `after`'s, so each page costs about its own size.
fn list_keys(root: &Path, after: Option<&str>, limit: usize) -> std::io::Result<BlobPage> {
    let mut page = BlobPage::default();
    if limit == 0 {
        return Ok(page);
    }
    // Keys are `d1/d2/<name>`: a key sorts after `after` only if its (d1, d2)
    // is not before `after`'s.
    let start = after.map(|a| (&a[0..2], &a[3..5]));
    for d1 in sorted_fanout_dirs(root)? {
        if start.is_some_and(|(a1, _)| d1.as_str() < a1) {
            continue;
        }
        for d2 in sorted_fanout_dirs(&root.join(&d1))? {
            if start.is_some_and(|s| (d1.as_str(), d2.as_str()) < s) {
                continue;
            }
            let mut files = Vec::new();
            for entry in std::fs::read_dir(root.join(&d1).join(&d2))? {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let key = format!("{d1}/{d2}/{name}");
                if !is_valid_key(&key) || after.is_some_and(|a| key.as_str() <= a) {
                    continue;
                }
                let meta = entry.metadata()?;
                if meta.is_file() {
                    files.push(StoredBlob {
                        key,
                        size: meta.len(),
                        modified: modified_secs(&meta),
                    });
                }
            }
            files.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            for blob in files {
                if page.blobs.len() == limit {
                    page.next = page.blobs.last().map(|b| b.key.clone());
                    return Ok(page);
                }
                page.blobs.push(blob);
            }
        }
    }
    Ok(page)
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Files under a directory of the local filesystem.
pub struct FsBlobStore {
    root: PathBuf,
    /// Directories whose entry in their parent is known to be on disk.
    durable_dirs: Arc<Mutex<HashSet<PathBuf>>>,
}

impl FsBlobStore {
    /// Uses (and creates) `root` and `root/tmp`, and removes temp files left
    /// by a crash more than [`STALE_TEMP_AGE`] ago.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root: PathBuf = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        sync_dir(&root)?;
        if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let store = FsBlobStore {
            root,
            durable_dirs: Arc::default(),
        };
        match store.remove_stale_temp_files(STALE_TEMP_AGE) {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "removed stale upload temp files"),
            Err(e) => tracing::warn!(error = %e, "could not sweep upload temp files"),
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes `tmp/*.part` files not modified for `older_than` (uploads cut
    /// by a crash; never acknowledged). Returns how many were removed.
    pub fn remove_stale_temp_files(&self, older_than: Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("part") {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= older_than);
            if old && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        if is_valid_key(key) {
            Ok(self.root.join(key))
        } else {
            Err(BlobError::NotFound)
        }
    }
}

fn not_found_or_io(e: std::io::Error) -> BlobError {
    if e.kind() == std::io::ErrorKind::NotFound {
        BlobError::NotFound
    } else {
        BlobError::Io(e)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e.to_string())))?
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn create(&self, max_bytes: u64) -> Result<Box<dyn BlobWriter>, BlobError> {
        let tmp_path = self.root.join("tmp").join(format!("{}.part", random_hex()));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&tmp_path).await?;
        Ok(Box::new(FsBlobWriter {
            file: Some(file),
            tmp_path,
            root: self.root.clone(),
            durable_dirs: self.durable_dirs.clone(),
            max_bytes,
            size: 0,
            hasher: Sha256::new(),
            head: Vec::new(),
            sniffed: None,
            settled: false,
        }))
    }

    async fn open(&self, key: &str) -> Result<(tokio::fs::File, u64), BlobError> {
        let path = self.path_of(key)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(not_found_or_io)?;
        let meta = file.metadata().await?;
        if !meta.is_file() {
            return Err(BlobError::NotFound);
        }
        Ok((file, meta.len()))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        tokio::fs::remove_file(&path)
            .await
            .map_err(not_found_or_io)?;
        // So that a deleted file does not come back after a power loss.
        blocking(move || {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<BlobPage, BlobError> {
        if after.is_some_and(|a| !is_valid_key(a)) {
            return Err(BlobError::NotFound);
        }
        let root = self.root.clone();
        let after = after.map(str::to_string);
        blocking(move || Ok(list_keys(&root, after.as_deref(), limit)?)).await
    }

    async fn partial_uploads(&self) -> Result<Vec<PartialUpload>, BlobError> {
        let tmp = self.root.join("tmp");
        blocking(move || {
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&tmp)? {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if !is_partial_name(&name) {
                    continue;
                }
                // Gone meanwhile: the upload finished or was abandoned.
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                if meta.is_file() {
                    out.push(PartialUpload {
                        id: name,
                        size: meta.len(),
                        modified: modified_secs(&meta),
                    });
                }
            }
            out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            Ok(out)
        })
        .await
    }

    async fn remove_partial_upload(&self, id: &str) -> Result<(), BlobError> {
        if !is_partial_name(id) {
            return Err(BlobError::NotFound);
        }
        tokio::fs::remove_file(self.root.join("tmp").join(id))
            .await
            .map_err(not_found_or_io)
    }
}

/// What the first bytes said.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sniffed {
    /// A type, allowed or not.
    Type(String),
    /// An OLE2 compound file: its kind is in its directory, which may be
    /// anywhere in the file; decided once the whole file is written.
    Ole2,
}

struct FsBlobWriter {
    file: Option<tokio::fs::File>,
    tmp_path: PathBuf,
    root: PathBuf,
    durable_dirs: Arc<Mutex<HashSet<PathBuf>>>,
    max_bytes: u64,
    size: u64,
    hasher: Sha256,
    head: Vec<u8>,
    sniffed: Option<Sniffed>,
    /// The temp file is gone or someone else is responsible for it.
    settled: bool,
}

impl FsBlobWriter {
    async fn discard(&mut self) {
        self.file = None;
        if !self.settled {
            self.settled = true;
            let _ = tokio::fs::remove_file(&self.tmp_path).await;
        }
    }

    async fn fail(&mut self, e: BlobError) -> BlobError {
        self.discard().await;
        e
    }

    fn sniffed_type(&mut self) -> &Sniffed {
        self.sniffed.get_or_insert_with(|| sniff_head(&self.head))
    }
}

#[async_trait::async_trait]
impl BlobWriter for FsBlobWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        if self.settled || self.file.is_none() {
            return Err(BlobError::Interrupted("writer already closed".into()));
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let new_size = self.size.saturating_add(chunk.len() as u64);
        if new_size > self.max_bytes {
            let limit = self.max_bytes;
            return Err(self.fail(BlobError::TooLarge { limit }).await);
        }
        if self.head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() == SNIFF_LEN {
                if let Sniffed::Type(t) = self.sniffed_type() {
                    if !is_allowed(t) {
                        let detected = t.clone();
                        return Err(self.fail(BlobError::TypeNotAllowed { detected }).await);
                    }
                }
            }
        }
        let written = match self.file.as_mut() {
            Some(file) => file.write_all(chunk).await,
            None => Err(std::io::Error::other("writer closed")),
        };
        if let Err(e) = written {
            return Err(self.fail(BlobError::Io(e)).await);
        }
        self.hasher.update(chunk);
        self.size = new_size;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<BlobMeta, BlobError> {
        if self.settled || self.file.is_none() {
            return Err(BlobError::Interrupted("writer already closed".into()));
        }
        if self.size == 0 {
            return Err(self.fail(BlobError::Empty).await);
        }
        let sniffed = self.sniffed_type().clone();
        if let Sniffed::Type(t) = &sniffed {
            if !is_allowed(t) {
                let detected = t.clone();
                return Err(self.fail(BlobError::TypeNotAllowed { detected }).await);
            }
        }
        let Some(mut file) = self.file.take() else {
            return Err(BlobError::Interrupted("writer already closed".into()));
        };
        // Surfaces errors of writes still in flight in tokio's background thread.
        if let Err(e) = file.flush().await {
            drop(file);
            return Err(self.fail(BlobError::Io(e)).await);
        }
        let file = file.into_std().await;
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let size = self.size;
        let head = std::mem::take(&mut self.head);
        let tmp_path = self.tmp_path.clone();
        let root = self.root.clone();
        let durable_dirs = self.durable_dirs.clone();
        // From here the blocking task removes the temp file on any failure,
        // even if this future is dropped while it runs.
        self.settled = true;
        blocking(move || {
            let result = settle(file, &tmp_path, &root, &durable_dirs, sniffed, &head);
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp_path);
            }
            let (key, content_type) = result?;
            Ok(BlobMeta {
                key,
                size,
                sha256,
                content_type,
            })
        })
        .await
    }

    async fn abort(mut self: Box<Self>) {
        self.discard().await;
    }
}

impl Drop for FsBlobWriter {
    fn drop(&mut self) {
        if !self.settled {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// The blocking end of `finish`: decide an OLE2 file's type, fsync, rename
/// into place, fsync the directory. Returns the key and the content type.
fn settle(
    file: std::fs::File,
    tmp_path: &Path,
    root: &Path,
    durable_dirs: &Mutex<HashSet<PathBuf>>,
    sniffed: Sniffed,
    head: &[u8],
) -> Result<(String, String), BlobError> {
    let content_type = match sniffed {
        Sniffed::Type(t) => t,
        Sniffed::Ole2 => {
            let t = ole2_type(head, &mut std::fs::File::open(tmp_path)?);
            if !is_allowed(t) {
                return Err(BlobError::TypeNotAllowed {
                    detected: t.to_string(),
                });
            }
            t.to_string()
        }
    };
    file.sync_all()?;
    drop(file);

    let name = random_hex();
    let level1 = ensure_durable_dir(root, &name[0..2], durable_dirs)?;
    let level2 = ensure_durable_dir(&level1, &name[2..4], durable_dirs)?;
    let target = level2.join(&name);
    std::fs::rename(tmp_path, &target)?;
    if let Err(e) = sync_dir(&level2) {
        let _ = std::fs::remove_file(&target);
        return Err(e.into());
    }
    Ok((
        format!("{}/{}/{name}", &name[0..2], &name[2..4]),
        content_type,
    ))
}

/// `parent/name`, created if needed, with its entry in `parent` on disk.
fn ensure_durable_dir(
    parent: &Path,
    name: &str,
    durable_dirs: &Mutex<HashSet<PathBuf>>,
) -> std::io::Result<PathBuf> {
    let dir = parent.join(name);
    let known = durable_dirs
        .lock()
        .map(|set| set.contains(&dir))
        .unwrap_or(false);
    if known {
        return Ok(dir);
    }
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // Also when it already existed: another writer may have created it and
    // not yet fsynced `parent`.
    sync_dir(parent)?;
    if let Ok(mut set) = durable_dirs.lock() {
        set.insert(dir.clone());
    }
    Ok(dir)
}

/// Puts a directory's entries on disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The type of a file from its first bytes (up to [`SNIFF_LEN`]): markup
/// first (refused), then magic numbers (`infer`), then text.
fn sniff_head(head: &[u8]) -> Sniffed {
    if let Some(markup) = markup_type(head) {
        return Sniffed::Type(markup.to_string());
    }
    if head.starts_with(&OLE2_MAGIC) {
        return Sniffed::Ole2;
    }
    if let Some(kind) = infer::get(head) {
        return Sniffed::Type(kind.mime_type().to_string());
    }
    Sniffed::Type(text_type(head).to_string())
}

/// The type of a whole small file, as a writer would decide it (for tests and
/// for checking files stored before a change of the rules).
pub fn sniff(content: &[u8]) -> String {
    let head = &content[..content.len().min(SNIFF_LEN)];
    match sniff_head(head) {
        Sniffed::Type(t) => t,
        Sniffed::Ole2 => ole2_type(head, &mut std::io::Cursor::new(content)).to_string(),
    }
}

/// Text that a browser could take for a page or an image with scripts:
/// after a BOM and blanks, `<` then a letter, `!`, `?` or `/`.
fn markup_type(head: &[u8]) -> Option<&'static str> {
    let ascii: Vec<u8> = if let Some(rest) = head.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        rest.iter().take(512).copied().collect()
    } else if head.starts_with(&[0xFE, 0xFF]) || head.starts_with(&[0xFF, 0xFE]) {
        // UTF-16: look at the ASCII characters.
        head[2..]
            .iter()
            .take(1024)
            .copied()
            .filter(|&b| b != 0)
            .collect()
    } else {
        head.iter().take(512).copied().collect()
    };
    let s = ascii
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C))
        .map(|i| &ascii[i..])
        .unwrap_or(&[]);
    if s.len() < 2 || s[0] != b'<' {
        return None;
    }
    let lower: Vec<u8> = s.iter().take(64).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<svg") || (lower.starts_with(b"<!doctype svg")) {
        return Some("image/svg+xml");
    }
    if lower.starts_with(b"<?xml") {
        return Some("text/xml");
    }
    if lower[1].is_ascii_alphabetic() || matches!(lower[1], b'!' | b'?' | b'/') {
        return Some("text/html");
    }
    None
}

/// Text with no control characters but blanks: UTF-8, or else Windows-1252
/// (old Notepad files with accents). Anything else is unknown binary.
fn text_type(head: &[u8]) -> &'static str {
    let sample = &head[..head.len().min(TEXT_SNIFF_LEN)];
    let truncated = head.len() > sample.len();
    let controls = sample
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C) || b == 0x7F);
    if controls {
        return "application/octet-stream";
    }
    match std::str::from_utf8(sample) {
        Ok(_) => TEXT_UTF8,
        // A character cut by the end of the sample.
        Err(e) if truncated && e.error_len().is_none() => TEXT_UTF8,
        Err(_) => {
            // Bytes Windows-1252 leaves undefined.
            let undefined = sample
                .iter()
                .any(|b| matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D));
            if undefined {
                "application/octet-stream"
            } else {
                TEXT_LEGACY
            }
        }
    }
}

/// The kind of an OLE2 compound file from the CLSID of its root directory
/// entry (as `infer` does when given the whole file). `file` is the whole file.
fn ole2_type(head: &[u8], file: &mut (impl Read + Seek)) -> &'static str {
    const UNKNOWN: &str = "application/x-ole-storage";
    if head.len() < 0x34 {
        return UNKNOWN;
    }
    let shift = u16::from_le_bytes([head[0x1E], head[0x1F]]);
    if shift != 9 && shift != 12 {
        return UNKNOWN;
    }
    let dir_start = u32::from_le_bytes([head[0x30], head[0x31], head[0x32], head[0x33]]);
    if dir_start >= 0xFFFF_FFFA {
        return UNKNOWN;
    }
    let offset = (u64::from(dir_start) + 1) << shift;
    let mut entry = [0u8; 128];
    let read = file
        .seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut entry));
    if read.is_err() {
        return UNKNOWN;
    }
    // Root entry: type 5; CLSID at 0x50.
    if entry[0x42] != 5 {
        return UNKNOWN;
    }
    const TAIL: [u8; 8] = [0xC0, 0, 0, 0, 0, 0, 0, 0x46];
    let clsid = &entry[0x50..0x60];
    let office = |d1: [u8; 4]| clsid[0..4] == d1 && clsid[4..8] == [0; 4] && clsid[8..] == TAIL;
    if office([0x06, 0x09, 0x02, 0x00]) || office([0x00, 0x09, 0x02, 0x00]) {
        "application/msword"
    } else if office([0x10, 0x08, 0x02, 0x00]) || office([0x20, 0x08, 0x02, 0x00]) {
        "application/vnd.ms-excel"
    } else if clsid
        == [
            0x10, 0x8D, 0x81, 0x64, 0x9B, 0x4F, 0xCF, 0x11, 0x86, 0xEA, 0x00, 0xAA, 0x00, 0xB9,
            0x29, 0xE8,
        ]
    {
        "application/vnd.ms-powerpoint"
    } else {
        UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsBlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    /// Every regular file under `root`.
    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(path);
                }
            }
        }
        out
    }

    async fn put(store: &FsBlobStore, content: &[u8], chunk: usize) -> Result<BlobMeta, BlobError> {
        let mut w = store.create(10 << 20).await?;
        for c in content.chunks(chunk.max(1)) {
            w.write(c).await?;
        }
        w.finish().await
    }

    fn png() -> Vec<u8> {
        let mut v = vec![
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ];
        v.extend_from_slice(b"IHDR");
        v.extend((0..50_000u32).map(|i| (i % 251) as u8));
        v
    }

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n".to_vec()
    }

    /// A minimal OLE2 file whose root entry has `clsid`, its directory after
    /// `SNIFF_LEN` (as in real Word files, where it is often near the end).
    fn ole2(clsid: [u8; 16]) -> Vec<u8> {
        let mut v = vec![0u8; 512];
        v[..8].copy_from_slice(&OLE2_MAGIC);
        v[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes());
        let dir_sector: u32 = 40; // offset (40 + 1) * 512 = 20 992 > SNIFF_LEN
        v[0x30..0x34].copy_from_slice(&dir_sector.to_le_bytes());
        v.resize((dir_sector as usize + 1) * 512, 0);
        let mut entry = [0u8; 128];
        entry[..10].copy_from_slice(&[b'R', 0, b'o', 0, b'o', 0, b't', 0, 0, 0]);
        entry[0x42] = 5;
        entry[0x50..0x60].copy_from_slice(&clsid);
        v.extend_from_slice(&entry);
        v.resize(v.len() + 384, 0);
        v
    }

    const WORD_CLSID: [u8; 16] = [
        0x06, 0x09, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
    ];
    const MSI_CLSID: [u8; 16] = [
        0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
    ];

    #[tokio::test]
    async fn round_trip_with_checksum() {
        let (_dir, store) = store();
        let content = png();
        let meta = put(&store, &content, 7_000).await.unwrap();
        assert!(is_valid_key(&meta.key), "{}", meta.key);
        assert_eq!(meta.size, content.len() as u64);
        assert_eq!(meta.sha256, hex::encode(Sha256::digest(&content)));
        assert_eq!(meta.content_type, "image/png");
        let (_file, len) = store.open(&meta.key).await.unwrap();
        assert_eq!(len, content.len() as u64);
        assert_eq!(&store.read(&meta.key).await.unwrap()[..], &content[..]);
        // Nothing left in tmp.
        assert!(files_under(&store.root().join("tmp")).is_empty());
        store.delete(&meta.key).await.unwrap();
        assert!(matches!(
            store.open(&meta.key).await,
            Err(BlobError::NotFound)
        ));
        assert!(matches!(
            store.delete(&meta.key).await,
            Err(BlobError::NotFound)
        ));
    }

    #[tokio::test]
    async fn keys_are_random_and_files_private() {
        let (_dir, store) = store();
        let a = put(&store, &pdf(), 10).await.unwrap();
        let b = put(&store, &pdf(), 10).await.unwrap();
        assert_ne!(a.key, b.key);
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.content_type, "application/pdf");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.root().join(&a.key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[tokio::test]
    async fn cap_exceeded_leaves_no_file_anywhere() {
        let (_dir, store) = store();
        let mut w = store.create(100).await.unwrap();
        w.write(&[b'a'; 60]).await.unwrap();
        let err = w.write(&[b'a'; 41]).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 100 }), "{err:?}");
        assert_eq!(err.code(), "upload.too_large");
        assert!(files_under(store.root()).is_empty());
        // Later calls fail, finish included.
        assert!(w.write(b"a").await.is_err());
        assert!(w.finish().await.is_err());
        assert!(files_under(store.root()).is_empty());
        // Exactly at the cap is fine.
        let mut w = store.create(100).await.unwrap();
        w.write(&[b'a'; 100]).await.unwrap();
        assert_eq!(w.finish().await.unwrap().size, 100);
    }

    #[tokio::test]
    async fn empty_file_is_refused() {
        let (_dir, store) = store();
        let w = store.create(100).await.unwrap();
        let err = w.finish().await.unwrap_err();
        assert!(matches!(err, BlobError::Empty), "{err:?}");
        assert_eq!(err.message_fr(), "Le fichier est vide.");
        assert!(files_under(store.root()).is_empty());
    }

    #[tokio::test]
    async fn refused_types_leave_nothing() {
        let (_dir, store) = store();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("text/html", b"<!DOCTYPE html><p>hi".to_vec()),
            ("text/html", b"  \n<HTML><body>".to_vec()),
            (
                "text/html",
                b"\xEF\xBB\xBF<script>alert(1)</script>".to_vec(),
            ),
            ("text/html", b"<iframe src=x>".to_vec()),
            ("text/html", b"<!-- x -->".to_vec()),
            ("image/svg+xml", b"<svg onload=alert(1)>".to_vec()),
            (
                "image/svg+xml",
                b"<SVG xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            ),
            ("text/xml", b"<?xml version='1.0'?><svg/>".to_vec()),
            ("text/html", b"\xFF\xFE<\0h\0t\0m\0l\0>\0".to_vec()),
            ("application/vnd.microsoft.portable-executable", {
                let mut v = b"MZ".to_vec();
                v.resize(0x40, 0);
                v[0x3C] = 0x40;
                v.extend_from_slice(b"PE\0\0");
                v.resize(512, 0);
                v
            }),
            ("application/x-executable", {
                let mut v = b"\x7fELF\x02\x01\x01".to_vec();
                v.resize(64, 0);
                v
            }),
            ("text/x-shellscript", b"#!/bin/sh\nrm -rf /\n".to_vec()),
            ("application/octet-stream", vec![0u8, 1, 2, 3, 4, 5]),
            ("application/x-ole-storage", ole2(MSI_CLSID)),
        ];
        for (expected, content) in cases {
            let err = put(&store, &content, 3).await.unwrap_err();
            match &err {
                BlobError::TypeNotAllowed { detected } => {
                    assert_eq!(
                        detected,
                        expected,
                        "{:?}",
                        String::from_utf8_lossy(&content)
                    )
                }
                other => panic!("{expected}: {other:?}"),
            }
            assert!(err.message_fr().contains("Formats acceptés"));
            assert_eq!(err.code(), "upload.type");
            assert!(files_under(store.root()).is_empty(), "{expected}");
        }
    }

    #[tokio::test]
    async fn refused_type_is_answered_before_the_whole_file() {
        let (_dir, store) = store();
        let mut w = store.create(10 << 20).await.unwrap();
        let mut page = b"<html>".to_vec();
        page.resize(SNIFF_LEN, b' ');
        let err = w.write(&page).await.unwrap_err();
        assert!(matches!(err, BlobError::TypeNotAllowed { .. }));
        assert!(files_under(store.root()).is_empty());
    }

    #[tokio::test]
    async fn allowed_types() {
        let (_dir, store) = store();
        let mut mp3 = b"ID3\x04\0\0\0\0\0\0".to_vec();
        mp3.resize(2000, 0x55);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                TEXT_UTF8,
                "Bonjour, voici mon devoir : « été ».\n".as_bytes().to_vec(),
            ),
            (TEXT_UTF8, "<3 merci !".as_bytes().to_vec()),
            (TEXT_LEGACY, b"R\xe9sum\xe9 du cours\r\n".to_vec()),
            ("application/pdf", pdf()),
            ("image/png", png()),
            ("image/jpeg", b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec()),
            ("image/gif", b"GIF89a\x01\0\x01\0\0\0\0".to_vec()),
            ("audio/mpeg", mp3),
            ("video/mp4", b"\0\0\0\x18ftypisom\0\0\0\0isomiso2".to_vec()),
            // A first box of 60 bytes: its size byte is '<'.
            ("video/mp4", b"\0\0\0<ftypisom\0\0\0\0isomiso2".to_vec()),
            ("audio/m4a", b"\0\0\0\x18ftypM4A \0\0\0\0M4A mp42".to_vec()),
            ("application/zip", b"PK\x03\x04\x14\0\0\0\0\0".to_vec()),
            ("application/msword", ole2(WORD_CLSID)),
        ];
        for (expected, content) in cases {
            let meta = put(&store, &content, 1000).await.unwrap_or_else(|e| {
                panic!("{expected}: {e:?}");
            });
            assert_eq!(meta.content_type, expected);
            assert_eq!(sniff(&content), expected);
        }
    }

    #[tokio::test]
    async fn long_utf8_text_cut_inside_a_character() {
        let (_dir, store) = store();
        // 'é' is two bytes: an odd prefix puts a cut in the middle of one.
        let text = format!("a{}", "é".repeat(SNIFF_LEN));
        let meta = put(&store, text.as_bytes(), 4096).await.unwrap();
        assert_eq!(meta.content_type, TEXT_UTF8);
    }

    #[tokio::test]
    async fn forged_keys_are_not_found() {
        let (dir, store) = store();
        std::fs::write(dir.path().join("secret"), b"x").unwrap();
        let meta = put(&store, &pdf(), 100).await.unwrap();
        let upper = meta.key.to_uppercase();
        let forged = [
            "../../etc/passwd",
            "../secret",
            "/etc/passwd",
            "",
            "tmp",
            "ab/cd/../../../secret",
            "ab/cd/0123456789abcdef0123456789abcdef",
            upper.as_str(),
            &meta.key[..37],
        ];
        for key in forged {
            assert!(
                matches!(store.open(key).await, Err(BlobError::NotFound)),
                "{key}"
            );
            assert!(
                matches!(store.delete(key).await, Err(BlobError::NotFound)),
                "{key}"
            );
        }
        assert!(dir.path().join("secret").exists());
        assert!(store.open(&meta.key).await.is_ok());
    }

    #[tokio::test]
    async fn abort_and_drop_leave_nothing() {
        let (_dir, store) = store();
        let mut w = store.create(1000).await.unwrap();
        w.write(&pdf()).await.unwrap();
        assert_eq!(files_under(store.root()).len(), 1);
        w.abort().await;
        assert!(files_under(store.root()).is_empty());

        let mut w = store.create(1000).await.unwrap();
        w.write(&pdf()).await.unwrap();
        drop(w);
        assert!(files_under(store.root()).is_empty());
    }

    #[tokio::test]
    async fn stale_temp_files_are_swept() {
        let (_dir, store) = store();
        let stale = store.root().join("tmp").join("0123.part");
        std::fs::write(&stale, b"half").unwrap();
        let keep = store.root().join("tmp").join("notes.txt");
        std::fs::write(&keep, b"not ours").unwrap();
        assert_eq!(store.remove_stale_temp_files(Duration::ZERO).unwrap(), 1);
        assert!(!stale.exists());
        assert!(keep.exists());
    }

    #[tokio::test]
    async fn listing_pages_through_keys_in_order_without_reading_them() {
        let (_dir, store) = store();
        assert_eq!(store.list(None, 10).await.unwrap(), BlobPage::default());
        let mut keys = Vec::new();
        for i in 0..23u8 {
            let meta = put(&store, &vec![b'a'; usize::from(i) + 1], 100)
                .await
                .unwrap();
            keys.push((meta.key, meta.size));
        }
        keys.sort();
        // Neither a temp file, nor a file whose name is not a key, is listed.
        std::fs::write(store.root().join("tmp").join("0123.part"), b"half").unwrap();
        let dir = store.root().join(&keys[0].0[..5]);
        std::fs::write(dir.join("LISEZMOI.txt"), b"x").unwrap();
        std::fs::write(store.root().join("orphan-at-root"), b"x").unwrap();

        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store.list(after.as_deref(), 5).await.unwrap();
            assert!(page.blobs.len() <= 5);
            pages += 1;
            listed.extend(page.blobs);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 5);
        let got: Vec<(String, u64)> = listed.iter().map(|b| (b.key.clone(), b.size)).collect();
        assert_eq!(got, keys);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(listed.iter().all(|b| (now - b.modified).abs() < 3600));
        // A cursor that is not a key is refused rather than guessed at.
        assert!(matches!(
            store.list(Some("../x"), 5).await,
            Err(BlobError::NotFound)
        ));
    }

    #[tokio::test]
    async fn partial_uploads_are_listed_and_removed_by_name_only() {
        let (dir, store) = store();
        let mut w = store.create(1000).await.unwrap();
        w.write(&pdf()).await.unwrap();
        let uploads = store.partial_uploads().await.unwrap();
        assert_eq!(uploads.len(), 1, "a write in progress is a partial upload");
        // tokio hands writes to a background thread: the size on disk may lag.
        assert!(uploads[0].size <= pdf().len() as u64);
        std::fs::write(store.root().join("tmp").join("notes.txt"), b"x").unwrap();
        let ids = |u: &[PartialUpload]| u.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&store.partial_uploads().await.unwrap()), ids(&uploads));
        std::fs::write(dir.path().join("secret.part"), b"x").unwrap();
        for forged in ["../../secret.part", "../secret.part", ".part", "notes.txt"] {
            assert!(
                matches!(
                    store.remove_partial_upload(forged).await,
                    Err(BlobError::NotFound)
                ),
                "{forged}"
            );
        }
        assert!(dir.path().join("secret.part").exists());
        store.remove_partial_upload(&uploads[0].id).await.unwrap();
        assert!(store.partial_uploads().await.unwrap().is_empty());
        assert!(matches!(
            store.remove_partial_upload(&uploads[0].id).await,
            Err(BlobError::NotFound)
        ));
        // The writer finds its file gone: its upload fails, nothing is kept.
        assert!(w.finish().await.is_err());
        assert!(files_under(&store.root().join("tmp"))
            .iter()
            .all(|p| p.ends_with("notes.txt")));
    }

    #[test]
    fn messages_and_codes() {
        assert_eq!(
            BlobError::TooLarge { limit: 10 << 20 }.message_fr(),
            "Le fichier dépasse 10 Mo."
        );
        assert_eq!(human_size(1536 * 1024), "1,5 Mo");
        assert_eq!(human_size(500 * 1024), "500 Ko");
        assert_eq!(
            BlobError::Interrupted("x".into()).message_fr(),
            "L'envoi a été interrompu : rien n'a été enregistré, recommencez."
        );
        let refused = BlobError::TypeNotAllowed {
            detected: "text/html".into(),
        };
        assert!(refused
            .message_fr()
            .starts_with("Ce type de fichier n'est pas accepté (page web). Formats acceptés : PDF, images, documents bureautiques, texte"));
        let codes: Vec<_> = [
            BlobError::TooLarge { limit: 1 },
            BlobError::Empty,
            refused,
            BlobError::Interrupted(String::new()),
            BlobError::Io(std::io::Error::other("x")),
            BlobError::NotFound,
        ]
        .iter()
        .map(BlobError::code)
        .collect();
        assert_eq!(
            codes,
            [
                "upload.too_large",
                "upload.empty",
                "upload.type",
                "upload.interrupted",
                "upload.io",
                "upload.not_found"
            ]
        );
    }
}
